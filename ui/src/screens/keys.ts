// An identity's access keys, a section of its page: IAM's list of its
// keys with their age and last use; the PIN opens the long-term key for
// the two calls.
import { call, toApiError } from "../api";
import { backOff, clearErrors, field, h, secret, showError } from "../dom";
import { day, lastUsedText } from "../logic";

export function keysSection(identity: string): HTMLElement {
  const general = h("div", { id: "keys-general" });
  const submit = h("button", { id: "keys-submit", type: "submit", class: "primary" }, "Show keys");
  const form = h(
    "form",
    { id: "keys-form", novalidate: true, "aria-labelledby": "keys-title" },
    h("p", { class: "muted" }, "IAM lists the keys only to the long-term key itself (ListAccessKeys, GetAccessKeyLastUsed): the PIN opens it for these two calls."),
    h("div", { class: "row end" }, field("keys-pin", "PIN", { type: "password", autocomplete: "current-password" }), submit),
    general,
  );
  const result = h("div", { id: "keys-result" });
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    general.replaceChildren();
    result.replaceChildren();
    const pin = secret("keys-pin");
    submit.disabled = true;
    try {
      const keys = await call("list_keys", { identity, form: { pin, mfa_code: null } });
      const rows = keys.map((k) =>
        h(
          "tr",
          { "data-key": k.access_key_id },
          h("td", { class: "mono" }, k.access_key_id),
          h("td", { class: "status" }, k.status),
          h("td", {}, k.created ? day(k.created) : "unknown"),
          h("td", { class: k.age_days === null ? "" : k.old ? "age-old" : "age-ok" }, k.age),
          h("td", { class: "last-used" }, lastUsedText(k)),
          h("td", { class: k.in_vault ? "in-vault" : "" }, k.in_vault ? "in vault" : "—"),
        ),
      );
      result.replaceChildren(
        h(
          "table",
          { id: "keys-table" },
          h("caption", { class: "sr-only" }, `Access keys of ${identity}`),
          h("thead", {}, h("tr", {}, ...["Key ID", "Status", "Created", "Age", "Last used", "keyfob"].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", {}, ...rows),
        ),
      );
    } catch (e) {
      const err = toApiError(e);
      showError(err, ["pin"], general, "keys-");
      if (err.waitSecs) backOff(submit, err.waitSecs);
    } finally {
      if (!submit.textContent?.startsWith("Wait")) submit.disabled = false;
    }
  };
  return h("section", { class: "card", id: "keys-section", "aria-labelledby": "keys-title" }, h("h3", { id: "keys-title" }, "Access keys"), form, result);
}
