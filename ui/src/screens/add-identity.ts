// The Add identity screen: the keys are verified with STS first, then
// added once the person confirms whose they are.
import { call, toApiError } from "../api";
import type { NewIdentityForm } from "../api";
import { clearErrors, field, flash, h, main, notice, secret, showError, value } from "../dom";

const ADD_FIELDS = ["access_key_id", "secret_access_key", "identity_name", "pin", "pin_confirmation"] as const;

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
          const added = await call("confirm_identity", { allowRoot: allowRoot.checked });
          form.reset();
          flash(`Added identity ${added.name}: account ${added.account ?? "unknown"}, ${added.arn ?? ""}`, "good");
          location.hash = "#/";
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
