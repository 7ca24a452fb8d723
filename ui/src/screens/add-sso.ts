// "Add Identity Center" (`#/add-sso`): the instance (start URL, region,
// scopes), the identity's name and its new PIN, every field checked by the
// library before any call; then the device sign-in (see ../sign-in), and
// once approved the identity's page, which offers the sync of its
// accounts and roles.
import { call, toApiError } from "../api";
import type { NewSsoForm } from "../api";
import { clearErrors, field, flash, h, main, notice, secret, showError, value } from "../dom";
import { routeTo } from "../logic";
import { withSignIn } from "../sign-in";

const SSO_FIELDS = ["identity_name", "start_url", "region", "scopes", "pin", "pin_confirmation", "use_device_code"] as const;

export async function addSso(): Promise<void> {
  const general = h("div", { id: "add-sso-general", "aria-live": "polite" });
  const submit = h("button", { id: "sso-sign-in", type: "submit", class: "primary" }, "Sign in with the browser");
  const deviceCode = h("input", { id: "use_device_code", type: "checkbox" }) as HTMLInputElement;
  const form = h(
    "form",
    { id: "add-sso-form", novalidate: true },
    field("identity_name", "Identity name", { hint: "e.g. corp; 1–64 letters, digits, '-', '_' and '.'" }),
    field("start_url", "AWS access portal URL (start URL)", { type: "url", hint: "https://d-1234567890.awsapps.com/start, or your portal's alias" }),
    field("region", "Identity Center region", { hint: "where the instance lives, e.g. eu-west-1" }),
    field("scopes", "Scopes (optional)", { hint: "comma-separated; empty for sso:account:access, which also gives a refresh token" }),
    field("pin", "Identity PIN", { type: "password", hint: "at least 6 characters; seals the sign-in in your keychain", autocomplete: "new-password" }),
    field("pin_confirmation", "Confirm PIN", { type: "password", autocomplete: "new-password" }),
    h(
      "p",
      { class: "check" },
      deviceCode,
      h("label", { for: "use_device_code" }, "Sign in with a code instead, approved on any device (where no browser here can sign in)"),
    ),
    submit,
  );
  main.append(
    h("a", { href: "#/", class: "back" }, "← All profiles"),
    h("h2", {}, "Add Identity Center"),
    h(
      "p",
      { class: "muted" },
      "Sign in to IAM Identity Center (AWS SSO) in your browser, which comes back to keyfob by itself (or with a code you approve on any device). keyfob seals the sign-in in your keychain under a PIN, never in ~/.aws/sso/cache, and turns your accounts and roles into profiles.",
    ),
    general,
    form,
  );
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    general.replaceChildren();
    const data: NewSsoForm = {
      identity_name: value("identity_name"),
      start_url: value("start_url"),
      region: value("region"),
      scopes: value("scopes"),
      pin: secret("pin"),
      pin_confirmation: secret("pin_confirmation"),
      use_device_code: deviceCode.checked,
    };
    submit.disabled = true;
    general.replaceChildren(notice("Starting the sign-in…"));
    try {
      const added = await withSignIn(data.identity_name.trim(), (flow) => call("add_sso_identity", { form: data, flow }));
      if (added === null) {
        general.replaceChildren(notice("Sign-in cancelled; nothing was stored.", "bad"));
        return;
      }
      flash(`Signed in ${added.name} to ${added.start_url}. Sync its accounts and roles to make profiles.`, "good", "identity");
      location.hash = routeTo("identity", added.name);
    } catch (e) {
      general.replaceChildren();
      showError(toApiError(e), SSO_FIELDS, general);
    } finally {
      submit.disabled = false;
    }
  };
  (document.getElementById("identity_name") as HTMLInputElement).focus();
}
