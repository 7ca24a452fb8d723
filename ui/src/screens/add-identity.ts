// The Add identity screen: the keys are verified with STS first, then
// added once the person confirms whose they are.
import { call, toApiError } from "../api";
import type { AddedView, NewIdentityForm } from "../api";
import { clearErrors, copyText, field, flash, h, main, notice, secret, showError, value } from "../dom";
import { TPM_CHOICES, noRecoveryText, recoveryCodeText, tpmPreselect } from "../logic";

const ADD_FIELDS = ["access_key_id", "secret_access_key", "identity_name", "pin", "pin_confirmation", "tpm", "recovery_code"] as const;

/** How the key will be sealed: the TPM choice (the setting preselected)
 *  and whether to make a recovery code, with what declining means. */
function protectionChoice(preset: string): { el: HTMLElement; tpm: HTMLSelectElement; recovery: HTMLInputElement } {
  const tpm = h("select", { id: "tpm" }, ...TPM_CHOICES.map(([v, label]) => h("option", { value: v }, label)));
  tpm.value = tpmPreselect(preset);
  const recovery = h("input", { id: "recovery_code", type: "checkbox" });
  const hint = h("p", { class: "hint", id: "recovery-hint" });
  const sync = () => {
    recovery.disabled = tpm.value === "off";
    if (recovery.disabled) recovery.checked = false;
    hint.textContent = recovery.checked ? "It is shown once, right after the key is added." : noRecoveryText(tpm.value);
  };
  tpm.onchange = sync;
  recovery.onchange = sync;
  sync();
  const el = h(
    "div",
    { class: "field", id: "protection-choice" },
    h("label", { for: "tpm" }, "Protection"),
    tpm,
    h("div", { id: "tpm-error", class: "error" }),
    h("label", {}, recovery, " Make a recovery code (opens the key without the TPM)"),
    hint,
    h("div", { id: "recovery_code-error", class: "error" }),
  );
  return { el, tpm, recovery };
}

/** The recovery code, the one time it is shown: copy it, store it, go on. */
function showRecoveryCode(result: HTMLElement, added: AddedView, code: string, addedText: string): void {
  const name = added.identity.name;
  const shown = h("code", { id: "recovery-code", class: "mono" }, code);
  const status = h("span", { class: "muted", id: "copy-recovery-status", "aria-live": "polite" });
  const copy = h("button", { type: "button", id: "copy-recovery" }, "Copy");
  copy.onclick = async () => {
    const ok = await copyText(code, shown);
    status.textContent = ok ? "Copied." : "Select the code and copy it (Ctrl+C).";
  };
  const done = h("button", { type: "button", id: "recovery-done", class: "primary" }, "I have stored it");
  const [store, what] = recoveryCodeText(name);
  result.replaceChildren(
    h(
      "div",
      { class: "card", id: "recovery" },
      h("h3", {}, `Recovery code for ${name}`),
      h("p", {}, shown),
      h("p", { class: "row" }, copy, status),
      notice(store, "bad"),
      h("p", {}, what),
      h("div", { class: "row" }, done),
    ),
  );
  done.onclick = () => {
    shown.textContent = "";
    flash(addedText, "good");
    location.hash = "#/";
  };
  done.focus();
}

export async function addIdentity(): Promise<void> {
  const general = h("div", { id: "add-general" });
  const form = h(
    "form",
    { id: "add-form", novalidate: true },
    field("access_key_id", "Access key ID", { hint: "AKIA… — 20 characters" }),
    field("secret_access_key", "Secret access key", { type: "password", hint: "40 characters, shown once when the key was created" }),
    field("identity_name", "Identity name", { hint: "e.g. work; also the name of its profile" }),
    field("pin", "Identity PIN", { type: "password", hint: "at least 6 characters; asked to unlock", autocomplete: "new-password" }),
    field("pin_confirmation", "Confirm PIN", { type: "password", autocomplete: "new-password" }),
    h("button", { id: "verify", type: "submit", class: "primary" }, "Verify and add keys"),
  );
  const result = h("div", { id: "add-result" });
  main.append(h("a", { href: "#/", class: "back" }, "← All profiles"), h("h2", {}, "Add identity"), general, form, result);
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    general.replaceChildren();
    result.replaceChildren();
    const data: NewIdentityForm = {
      access_key_id: value("access_key_id"),
      secret_access_key: secret("secret_access_key"),
      identity_name: value("identity_name"),
      pin: secret("pin"),
      pin_confirmation: secret("pin_confirmation"),
    };
    const button = document.getElementById("verify") as HTMLButtonElement;
    button.disabled = true;
    general.replaceChildren(notice("Verifying the keys with AWS STS…"));
    try {
      const v = await call("verify_identity", { form: data });
      general.replaceChildren();
      const confirmButton = h("button", { id: "confirm-add", type: "button", class: "primary" }, "Add identity");
      const cancel = h("button", { id: "cancel-add", type: "button" }, "Cancel");
      const allowRoot = h("input", { id: "allow_root", type: "checkbox" });
      const choice = protectionChoice(v.tpm_default);
      result.replaceChildren(
        h(
          "div",
          { class: "card", id: "verified" },
          h("p", {}, "AWS says these keys belong to:"),
          h("p", {}, "Account ", h("strong", { id: "verified-account" }, v.account)),
          h("p", { class: "arn", id: "verified-arn" }, v.arn),
          v.root
            ? h("p", {}, notice("These are a root user's keys; AWS advises against root access keys.", "bad"), h("label", {}, allowRoot, " Add them anyway"))
            : null,
          choice.el,
          h("div", { class: "row" }, confirmButton, cancel),
        ),
      );
      confirmButton.focus();
      cancel.onclick = async () => {
        await call("cancel_identity");
        result.replaceChildren(notice("Not added."));
      };
      confirmButton.onclick = async () => {
        confirmButton.disabled = true;
        try {
          const added = await call("confirm_identity", {
            allowRoot: allowRoot.checked,
            tpm: choice.tpm.value,
            recoveryCode: choice.recovery.checked,
          });
          form.reset();
          const i = added.identity;
          const pinAlone = added.no_tpm ? ` (${added.no_tpm})` : "";
          const text = `Added identity ${i.name}: account ${i.account ?? "unknown"}, ${i.arn ?? ""}. Protected by the ${i.protection}${pinAlone}.`;
          if (added.recovery_code) {
            showRecoveryCode(result, added, added.recovery_code, text);
          } else {
            flash(text, "good");
            location.hash = "#/";
          }
        } catch (e) {
          result.replaceChildren();
          showError(toApiError(e), ADD_FIELDS, general);
        }
      };
    } catch (e) {
      general.replaceChildren();
      showError(toApiError(e), ADD_FIELDS, general);
    } finally {
      button.disabled = false;
    }
  };
  (document.getElementById("access_key_id") as HTMLInputElement).focus();
}
