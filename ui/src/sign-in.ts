// A sign-in as the page shows it, in one of three modes (the event's
// `mode`): the browser sign-in on this machine (the app opened the
// sign-in page, as the CLI does; it comes back to keyfob by itself: the
// page shows the address and waits), the device code (the user code large
// and clear, to compare in the browser), or an AWS sign-in on another
// device (the address to open there and a field for the code its page
// shows). Each has "Open browser" where it helps, a live countdown, and
// Cancel, which stops the wait (nothing is stored). The long call runs in
// Rust; what to show arrives as `keyfob://sign-in` events of this
// sign-in's number (`flow`).
//
// Also here: "sign in again?", asked when an action on an Identity Center
// profile finds its sign-in expired (the PIN, then the same sign-in).
import { listen } from "@tauri-apps/api/event";
import { call, toApiError } from "./api";
import type { SignedInView, SignInView } from "./api";
import { backOff, clearErrors, field, h, modal, notice, secret, showError } from "./dom";
import { formatCountdown } from "./logic";

let lastFlow = Math.floor(Math.random() * 1_000_000);

/** Runs `run(flow)` (a command that signs in) and shows its sign-in while
 *  it waits for the person. Resolves with run's result, or null when the
 *  person cancelled; throws run's other errors (a refused field arrives
 *  before any code, so no dialog flashes for it). */
export async function withSignIn<T>(identity: string, run: (flow: number) => Promise<T>): Promise<T | null> {
  const flow = ++lastFlow;
  let dialog: HTMLDialogElement | null = null;
  let cancelled = false;
  let tick = 0;
  let end = 0;
  const cancel = () => {
    cancelled = true;
    void call("cancel_sign_in", { flow }).catch(() => undefined);
  };
  const show = (v: SignInView) => {
    end = Date.now() + v.expires_in_secs * 1000;
    if (dialog) return;
    const url = v.verification_uri_complete ?? v.verification_uri;
    const left = h("strong", { id: "sign-in-left" }, formatCountdown(v.expires_in_secs));
    const open = h("button", { type: "button", id: "sign-in-open", class: "primary" }, "Open browser");
    const stop = h("button", { type: "button", id: "sign-in-cancel" }, "Cancel");
    const status = h("div", { id: "sign-in-status", "aria-live": "polite" });
    const address = h("p", { class: "mono sign-in-url" }, h("span", { id: "sign-in-url" }, url));
    const timer = h("p", { role: "timer", "aria-live": "off" }, v.mode === "device-code" ? "The code expires in " : "keyfob waits ", left, ".");
    let body: HTMLElement[];
    if (v.mode === "device-code") {
      body = [
        h("p", {}, v.browser_opened ? "Your browser opened the AWS access portal. Check that it shows this code, then choose Allow:" : "Open this address in your browser, check that it shows this code, then choose Allow:"),
        h("p", { class: "user-code", id: "sign-in-code", "aria-label": `Code ${(v.user_code ?? "").split("").join(" ")}` }, v.user_code ?? ""),
        address,
        timer,
      ];
    } else if (v.mode === "browser") {
      body = [
        h("p", { id: "sign-in-browser" }, v.browser_opened ? `Your browser opened the ${v.service} sign-in page. Sign in there; keyfob continues by itself when you are done.` : "Open this address in a browser on this machine and sign in; keyfob continues by itself when you are done:"),
        address,
        timer,
      ];
    } else {
      const code = h("input", { id: "sign-in-typed", type: "text", autocomplete: "off", spellcheck: "false", "aria-label": "Code from the sign-in page" }) as HTMLInputElement;
      const send = h("button", { type: "button", id: "sign-in-submit" }, "Continue");
      send.onclick = () => {
        const typed = code.value.trim();
        if (!typed) {
          status.replaceChildren(notice("Type the code the sign-in page shows.", "bad"));
          return;
        }
        send.disabled = true;
        void call("submit_sign_in_code", { flow, code: typed }).then(
          () => status.replaceChildren(notice("Checking the code…")),
          (e) => status.replaceChildren(notice(toApiError(e).message, "bad")),
        );
      };
      body = [
        h("p", { id: "sign-in-remote" }, `Open this address in a browser on any device, sign in to ${v.service}, then type the code the page shows:`),
        address,
        h("label", { for: "sign-in-typed" }, "Code"),
        code,
        h("div", { class: "row" }, send),
        timer,
      ];
    }
    dialog = modal("sign-in-dialog", `Sign in ${v.identity} to ${v.service}`, ...body, status, h("div", { class: "row" }, open, stop));
    dialog.dataset.identity = identity;
    dialog.dataset.flow = String(flow);
    dialog.dataset.mode = v.mode;
    open.onclick = () =>
      void call("open_sign_in_page", { flow }).then(
        () => status.replaceChildren(notice("Opened the browser again.")),
        (e) => status.replaceChildren(notice(toApiError(e).message, "bad")),
      );
    stop.onclick = () => {
      cancel();
      status.replaceChildren(notice("Cancelling…"));
      stop.disabled = true;
    };
    // Escape cancels the sign-in, not only the dialog.
    dialog.addEventListener("cancel", (ev) => {
      ev.preventDefault();
      stop.click();
    });
    tick = window.setInterval(() => {
      const secs = Math.max(0, Math.ceil((end - Date.now()) / 1000));
      left.textContent = formatCountdown(secs);
    }, 1000);
    open.focus();
  };
  const unlisten = await listen<SignInView>("keyfob://sign-in", (e) => {
    if (e.payload.flow === flow) show(e.payload);
  });
  try {
    return await run(flow);
  } catch (e) {
    if (cancelled) return null;
    throw e;
  } finally {
    unlisten();
    window.clearInterval(tick);
    (dialog as HTMLDialogElement | null)?.close();
  }
}

/** "Sign in again?": the identity's PIN, then its sign-in; with `unlock`,
 *  that profile's session is made with the same PIN (the retry of the
 *  action that found the sign-in expired); with `prompt`, the agent's
 *  waiting request is answered. Resolves with what sso_login returned, or
 *  null when the person declines or cancels. */
export function signInAgainDialog(identity: string, opts: { unlock?: string; prompt?: number; reason?: string } = {}): Promise<SignedInView | null> {
  return new Promise((resolve) => {
    let result: SignedInView | null = null;
    const general = h("div", { id: "again-general" });
    const submit = h("button", { id: "again-submit", type: "submit", class: "primary" }, "Sign in");
    const cancel = h("button", { id: "again-cancel", type: "button" }, opts.prompt !== undefined ? "Refuse" : "Not now");
    const form = h(
      "form",
      { id: "again-form", method: "dialog", novalidate: true },
      h("p", {}, opts.reason ?? `The sign-in of ${identity} has expired and cannot be renewed. Sign in again?`),
      h("p", { class: "muted" }, "The PIN opens the identity's sealed sign-in; then your browser opens the sign-in page."),
      field("again_pin", "PIN", { type: "password", autocomplete: "current-password" }),
      general,
      h("div", { class: "row" }, submit, cancel),
    );
    const dialog = modal("again-dialog", `Sign in ${identity} again?`, form);
    dialog.dataset.identity = identity;
    if (opts.unlock) dialog.dataset.profile = opts.unlock;
    dialog.addEventListener("close", () => {
      // Closed without signing in (Refuse, Escape): the agent's waiting
      // request is refused at once rather than left to time out.
      if (result === null && opts.prompt !== undefined) void call("answer_prompt", { id: opts.prompt, value: null }).catch(() => undefined);
      resolve(result);
    });
    cancel.onclick = () => dialog.close();
    form.onsubmit = async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      const pin = secret("again_pin");
      submit.disabled = true;
      general.replaceChildren(notice("Starting the sign-in…"));
      try {
        // An AWS sign-in (`aws login`'s kind) signs in its own way; its
        // profile is opened with the same PIN by the call itself.
        const kind = (await call("list_sso_identities")).find((x) => x.name === identity)?.kind;
        const signed =
          kind === "aws-sign-in"
            ? await withSignIn(identity, (flow) =>
                call("login_again", { identity, form: { pin, mfa_code: null }, flow, remote: false, unlock: opts.unlock ?? null, prompt: opts.prompt ?? null }),
              )
            : await withSignIn(identity, (flow) =>
                call("sso_login", { identity, form: { pin, mfa_code: null }, flow, unlock: opts.unlock ?? null, prompt: opts.prompt ?? null }),
              );
        if (signed === null) {
          general.replaceChildren(notice("Sign-in cancelled; nothing changed."));
        } else {
          result = signed;
          dialog.close();
        }
      } catch (e) {
        general.replaceChildren();
        const err = toApiError(e);
        showError(err, ["pin"], general, "again_");
        if (err.waitSecs) backOff(submit, err.waitSecs);
      } finally {
        if (!submit.textContent?.startsWith("Wait")) submit.disabled = false;
      }
    };
    (document.getElementById("again_pin") as HTMLInputElement).focus();
  });
}
