// "Add AWS sign-in" (`#/add-login`): an IAM user's console sign-in, the
// AWS CLI's `aws login` kind: no access key at all. The identity's name,
// the region, its new PIN, checked by the library before any call; then
// the sign-in in the browser here (or on another device, typing the code
// its page shows; see ../sign-in), and once it succeeds the identity's
// page: its profile of the same name works at once.
import { call, toApiError } from "../api";
import type { NewLoginForm } from "../api";
import { clearErrors, field, flash, h, main, notice, secret, showError, value } from "../dom";
import { routeTo } from "../logic";
import { withSignIn } from "../sign-in";

const LOGIN_FIELDS = ["identity_name", "region", "pin", "pin_confirmation", "sign_in_code"] as const;

export async function addLogin(): Promise<void> {
  const general = h("div", { id: "add-login-general", "aria-live": "polite" });
  const submit = h("button", { id: "login-sign-in", type: "submit", class: "primary" }, "Sign in with the browser");
  const remote = h("input", { id: "remote", type: "checkbox" }) as HTMLInputElement;
  const form = h(
    "form",
    { id: "add-login-form", novalidate: true },
    field("identity_name", "Identity name", { hint: "e.g. alice; 1–64 letters, digits, '-', '_' and '.'; also its profile's name" }),
    field("region", "Region", { hint: "where you sign in and work, e.g. eu-west-1" }),
    field("pin", "Identity PIN", { type: "password", hint: "at least 6 characters; seals the sign-in in your keychain", autocomplete: "new-password" }),
    field("pin_confirmation", "Confirm PIN", { type: "password", autocomplete: "new-password" }),
    h("p", { class: "check" }, remote, h("label", { for: "remote" }, "Sign in on another device and type in the code its page shows")),
    submit,
  );
  main.append(
    h("a", { href: "#/", class: "back" }, "← All profiles"),
    h("h2", {}, "Add AWS sign-in"),
    h(
      "p",
      { class: "muted" },
      "Sign in with your AWS console user name and password, as the AWS CLI's `aws login` does: no access key exists at all. keyfob seals the sign-in in your keychain under a PIN, never in ~/.aws/login/cache, renews its 15-minute credentials for up to 12 hours, and makes a profile of the same name.",
    ),
    general,
    form,
  );
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    general.replaceChildren();
    const data: NewLoginForm = {
      identity_name: value("identity_name"),
      region: value("region"),
      pin: secret("pin"),
      pin_confirmation: secret("pin_confirmation"),
      remote: remote.checked,
    };
    submit.disabled = true;
    general.replaceChildren(notice("Starting the sign-in…"));
    try {
      const added = await withSignIn(data.identity_name.trim(), (flow) => call("add_login_identity", { form: data, flow }));
      if (added === null) {
        general.replaceChildren(notice("Sign-in cancelled; nothing was stored.", "bad"));
        return;
      }
      flash(`Signed in ${added.name} as ${added.principal ?? "?"}. Its profile ${added.name} works now.`, "good", "identity");
      location.hash = routeTo("identity", added.name);
    } catch (e) {
      general.replaceChildren();
      showError(toApiError(e), LOGIN_FIELDS, general);
    } finally {
      submit.disabled = false;
    }
  };
  (document.getElementById("identity_name") as HTMLInputElement).focus();
}
