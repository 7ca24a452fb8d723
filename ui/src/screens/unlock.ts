// Unlocking a profile: a small dialog over the main view (or the quick
// switcher) asks the identity's PIN, and the MFA code where the profile
// needs one. The PIN leaves the field the moment it is sent.
import { call, toApiError } from "../api";
import { backOff, clearErrors, field, h, modal, notice, secret, showError, value } from "../dom";
import { signInAgainDialog } from "../sign-in";

/** Asks for `profile`'s PIN and unlocks it; resolves with the session's
 *  expiry (RFC 3339), or null when the person cancels. */
export function unlockDialog(profile: { name: string; identity: string; mfa: boolean }): Promise<string | null> {
  return new Promise((resolve) => {
    let result: string | null = null;
    const general = h("div", { id: "unlock-general" });
    const submit = h("button", { id: "unlock-submit", type: "submit", class: "primary" }, "Unlock");
    const cancel = h("button", { id: "unlock-cancel", type: "button" }, "Cancel");
    const form = h(
      "form",
      { id: "unlock-form", method: "dialog", novalidate: true },
      h("p", { class: "muted" }, `The PIN of identity ${profile.identity} opens its key for one STS call; the session is kept in this app's memory.`),
      field("pin", "PIN", { type: "password", autocomplete: "current-password" }),
      profile.mfa ? field("mfa_code", "MFA code", { hint: "6 digits from the profile's MFA device", autocomplete: "one-time-code" }) : null,
      general,
      h("div", { class: "row" }, submit, cancel),
    );
    const dialog = modal("unlock-dialog", `Unlock ${profile.name}`, form);
    dialog.dataset.profile = profile.name;
    dialog.addEventListener("close", () => resolve(result));
    cancel.onclick = () => dialog.close();
    form.onsubmit = async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      general.replaceChildren();
      const pin = secret("pin");
      const code = profile.mfa ? value("mfa_code").trim() : "";
      submit.disabled = true;
      general.replaceChildren(notice("Unlocking…"));
      try {
        result = await call("unlock", { form: { profile: profile.name, pin, mfa_code: code || null } });
        dialog.close();
      } catch (e) {
        general.replaceChildren();
        const err = toApiError(e);
        if (err.kind === "sign_in") {
          // An Identity Center sign-in that expired: sign in again, and
          // the session is made with the same PIN.
          const signed = await signInAgainDialog(profile.identity, { unlock: profile.name });
          if (signed) {
            result = signed.session_expires_at;
            dialog.close();
          } else {
            general.replaceChildren(notice(err.message, "bad"));
          }
          return;
        }
        showError(err, ["pin", "mfa_code"], general);
        if (err.waitSecs) backOff(submit, err.waitSecs);
      } finally {
        if (!submit.textContent?.startsWith("Wait")) submit.disabled = false;
      }
    };
    (document.getElementById("pin") as HTMLInputElement).focus();
  });
}
