// The PIN / MFA prompts `keyfob credential-process` asks of the app: an
// overlay above whatever screen is shown, not a screen of its own.
import { Secret, call, toApiError } from "./api";
import type { PromptView } from "./api";
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
