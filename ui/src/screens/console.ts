// Opening the AWS console as a profile (`keyfob login`): the app asks for
// the sign-in itself and sends the browser to a one-shot local address, so
// the sign-in URL never reaches the page. When the session must be made
// first (a locked profile, or an identity's first console session), a
// dialog asks the identity's PIN (and the MFA code where the profile has a
// device) and the call is made again with it.
import { call, toApiError } from "../api";
import { backOff, clearErrors, field, h, modal, notice, secret, showError, value } from "../dom";
import { signInAgainDialog } from "../sign-in";

/** Opens the console as `profile`; resolves true once the browser was
 *  sent there, false when the person cancels. Throws other failures. */
export async function openConsole(profile: { name: string; identity: string; mfa: boolean }): Promise<boolean> {
  try {
    await call("open_console", { profile: profile.name, pin: null });
    return true;
  } catch (e) {
    const err = toApiError(e);
    if (err.kind === "sign_in") return signInThenConsole(profile);
    if (err.kind !== "locked") throw e;
  }
  return consoleDialog(profile);
}

/** An Identity Center sign-in that expired: sign in again (which makes
 *  the profile's session with the same PIN), then open the console. */
async function signInThenConsole(profile: { name: string; identity: string }): Promise<boolean> {
  const signed = await signInAgainDialog(profile.identity, { unlock: profile.name });
  if (!signed) return false;
  await call("open_console", { profile: profile.name, pin: null });
  return true;
}

function consoleDialog(profile: { name: string; identity: string; mfa: boolean }): Promise<boolean> {
  return new Promise((resolve) => {
    let opened = false;
    const general = h("div", { id: "console-general" });
    const submit = h("button", { id: "console-submit", type: "submit", class: "primary" }, "Open console");
    const cancel = h("button", { id: "console-cancel", type: "button" }, "Cancel");
    const form = h(
      "form",
      { id: "console-form", method: "dialog", novalidate: true },
      h(
        "p",
        { class: "muted" },
        `Signing in to the AWS console as ${profile.name} needs a session of identity ${profile.identity}: its PIN opens the key for one STS call. The browser gets a one-time local link; the sign-in link itself never reaches this window.`,
      ),
      field("console_pin", "PIN", { type: "password", autocomplete: "current-password" }),
      profile.mfa ? field("console_mfa_code", "MFA code", { hint: "6 digits from the profile's MFA device", autocomplete: "one-time-code" }) : null,
      general,
      h("div", { class: "row" }, submit, cancel),
    );
    const dialog = modal("console-dialog", `Open the AWS console as ${profile.name}`, form);
    dialog.addEventListener("close", () => resolve(opened));
    cancel.onclick = () => dialog.close();
    form.onsubmit = async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      const pin = secret("console_pin");
      const code = profile.mfa ? value("console_mfa_code").trim() : "";
      submit.disabled = true;
      general.replaceChildren(notice("Opening the console in your browser…"));
      try {
        await call("open_console", { profile: profile.name, pin: { pin, mfa_code: code || null } });
        opened = true;
        dialog.close();
      } catch (e) {
        general.replaceChildren();
        const err = toApiError(e);
        if (err.kind === "sign_in") {
          opened = await signInThenConsole(profile).catch((e2) => {
            general.replaceChildren(notice(toApiError(e2).message, "bad"));
            return false;
          });
          if (opened) dialog.close();
          return;
        }
        showError(err, ["pin", "mfa_code"], general, "console_");
        if (err.waitSecs) backOff(submit, err.waitSecs);
      } finally {
        if (!submit.textContent?.startsWith("Wait")) submit.disabled = false;
      }
    };
    (document.getElementById("console_pin") as HTMLInputElement).focus();
  });
}
