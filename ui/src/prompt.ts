// The PIN / MFA prompts `keyfob credential-process` asks of the app, and
// the approval of a program not approved for a profile yet: an overlay
// above whatever screen is shown, not a screen of its own.
import { Secret, call, toApiError } from "./api";
import type { ApprovalAnswer, PromptView } from "./api";
import { DURATIONS, forAWhile } from "./access";
import { h } from "./dom";
import { signInAgainDialog } from "./sign-in";

const promptHost = document.getElementById("prompt-host") as HTMLElement;
const shown = new Set<number>();

/** A request from `keyfob credential-process`: who asks, for what; the
 *  person answers or refuses. */
export function showPrompt(p: PromptView): void {
  if (shown.has(p.id)) return;
  shown.add(p.id);
  if (p.kind === "sign_in") {
    // The agent's request waits for a new Identity Center sign-in: the
    // same sign-in as the app's own, which answers it when approved.
    const who = `${p.exe ?? "an unknown program"} (pid ${p.pid}${p.parents.length ? `, from ${p.parents.join(" ← ")}` : ""})`;
    void signInAgainDialog(p.identity, {
      prompt: p.id,
      reason: `${who} asks for profile ${p.profile}, and the IAM Identity Center sign-in of ${p.identity} has expired. Sign in again?`,
    }).catch(() => undefined);
    return;
  }
  if (p.kind === "approve") {
    showApproval(p);
    return;
  }
  const isPin = p.kind === "pin";
  const input = h("input", {
    id: `prompt-${p.id}-value`,
    type: isPin ? "password" : "text",
    autocomplete: isPin ? "current-password" : "one-time-code",
    "aria-label": isPin ? "PIN" : "MFA code",
  });
  const error = h("span", { class: "error", role: "alert" });
  const ok = h("button", { type: "submit", class: "primary", id: `prompt-${p.id}-ok` }, isPin ? "Unlock" : "Send code");
  const refuse = h("button", { type: "button", id: `prompt-${p.id}-refuse` }, "Refuse");
  const form = h(
    "form",
    { class: "card", "data-prompt": String(p.id) },
    h("h2", {}, isPin ? `PIN for ${p.identity}` : `MFA code for ${p.identity}`),
    h("p", {}, "Profile ", h("strong", { class: "prompt-profile" }, p.profile), p.mfa_serial ? ` (MFA ${p.mfa_serial})` : ""),
    h(
      "p",
      {},
      "Asked by ",
      h("strong", { class: "prompt-exe" }, p.exe ?? "an unknown program"),
      p.script ? h("span", { class: "prompt-script" }, ` running ${p.script}`) : "",
      ` (pid ${p.pid})`,
      p.parents.length ? h("span", { class: "prompt-parents" }, `, from ${p.parents.join(" ← ")}`) : "",
      p.cwd ? h("span", { class: "prompt-cwd" }, ` in ${p.cwd}`) : "",
    ),
    input,
    error,
    h("div", { class: "row" }, ok, refuse),
  );
  // Each request's own name: two waiting at once are two landmarks a
  // screen reader tells apart (axe's landmark-unique).
  const label = `keyfob asks the ${isPin ? "PIN" : "MFA code"} for ${p.profile} (request ${p.id})`;
  const overlay = h("div", { class: "prompt", role: "dialog", "aria-modal": "true", "aria-label": label }, form);
  const close = () => {
    overlay.remove();
  };
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    const v = new Secret(input.value);
    input.value = "";
    await call("answer_prompt", { id: p.id, value: v }).catch((e) => (error.textContent = toApiError(e).message));
    close();
  };
  refuse.onclick = async () => {
    await call("answer_prompt", { id: p.id, value: null }).catch(() => undefined);
    close();
  };
  overlay.onkeydown = (ev) => {
    if (ev.key === "Escape") refuse.click();
  };
  promptHost.append(overlay);
  input.focus();
}

/** A program not approved for the profile asks for its session: who it is
 *  (its full path, the script an interpreter runs, its parents and
 *  working directory), for which profile and account; allowed once, until
 *  lock, for a while, or denied. Escape denies; nothing is allowed by a
 *  stray Enter, since the focus starts on Deny. */
function showApproval(p: PromptView): void {
  const program = p.program;
  const exe = program?.exe ?? p.exe ?? "an unknown program";
  const id = (what: string) => `prompt-${p.id}-${what}`;
  const error = h("span", { class: "error", role: "alert" });
  const once = h("button", { type: "button", class: "primary", id: id("once") }, "Allow once");
  const lock = h("button", { type: "button", id: id("lock") }, "Allow until lock");
  const duration = h(
    "select",
    { id: id("duration"), "aria-label": "How long to allow it" },
    ...DURATIONS.map((d) => h("option", { value: d.value }, d.label)),
  );
  const forIt = h("button", { type: "button", id: id("for") }, "Allow for");
  const deny = h("button", { type: "button", class: "danger", id: id("deny") }, "Deny");
  const fact = (label: string, cls: string, text: string | null) =>
    text ? h("div", { class: "fact" }, h("dt", {}, label), h("dd", { class: cls }, text)) : null;
  const card = h(
    "div",
    { class: "card approval", "data-prompt": String(p.id), "data-kind": "approve" },
    h("h2", { id: id("title") }, "Allow a program to use profile ", h("strong", { class: "prompt-profile" }, p.profile), "?"),
    h(
      "dl",
      { class: "details" },
      fact("Program", "prompt-exe", exe),
      fact("Script", "prompt-script", program?.script ?? p.script),
      fact("Started by", "prompt-parents", p.parents.length ? p.parents.join(" ← ") : null),
      fact("Working directory", "prompt-cwd", p.cwd),
      fact("Account", "prompt-account", p.account),
      fact("Identity", "prompt-identity", p.identity),
      fact("Process", "prompt-pid", `pid ${p.pid}${program ? `, sha256 ${program.exe_sha256}…` : ""}`),
    ),
    error,
    h("div", { class: "row" }, once, lock, h("span", { class: "row for-a-while" }, forIt, duration), deny),
  );
  const label = `keyfob asks whether ${exe} may use profile ${p.profile} (request ${p.id})`;
  const overlay = h("div", { class: "prompt", role: "alertdialog", "aria-modal": "true", "aria-label": label }, card);
  const answer = async (a: ApprovalAnswer) => {
    try {
      await call("answer_approval", { id: p.id, answer: a });
      overlay.remove();
    } catch (e) {
      const err = toApiError(e);
      // Gone (answered elsewhere, timed out): nothing left to answer.
      if (err.kind === "prompt_gone") overlay.remove();
      else error.textContent = err.message;
    }
  };
  once.onclick = () => void answer({ answer: "once" });
  lock.onclick = () => void answer({ answer: "until_lock" });
  forIt.onclick = () => void answer(forAWhile(duration.value));
  deny.onclick = () => void answer({ answer: "deny" });
  // The focus stays in the prompt (it is modal): Tab from the last
  // control goes back to the first, Shift+Tab from the first to the last.
  const controls: HTMLElement[] = [once, lock, forIt, duration, deny];
  overlay.onkeydown = (ev) => {
    if (ev.key === "Escape") deny.click();
    if (ev.key !== "Tab") return;
    const at = controls.indexOf(document.activeElement as HTMLElement);
    const to = ev.shiftKey ? (at <= 0 ? controls.length - 1 : -1) : at === controls.length - 1 || at < 0 ? 0 : -1;
    if (to >= 0) {
      ev.preventDefault();
      controls[to].focus();
    }
  };
  promptHost.append(overlay);
  deny.focus();
}
