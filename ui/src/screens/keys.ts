// The Access keys screen: IAM's list of an identity's keys, with their age
// and last use; the PIN opens the long-term key for the two calls.
import { call, toApiError } from "../api";
import { backOff, clearErrors, field, h, identitySelect, main, showError, value } from "../dom";
import { day, lastUsedText, routeTo } from "../logic";

export async function keysScreen(arg: string | null): Promise<void> {
  const list = await call("list_identities");
  main.append(h("h2", {}, "Access keys"));
  if (list.length === 0) {
    main.append(h("p", {}, "No identities yet."));
    return;
  }
  const general = h("div", { id: "keys-general" });
  const select = identitySelect("keys-identity", list, arg);
  const submit = h("button", { id: "keys-submit", type: "submit", class: "primary" }, "Show keys");
  const form = h(
    "form",
    { id: "keys-form", novalidate: true },
    h("p", { class: "muted" }, "IAM lists the keys only to the long-term key itself (ListAccessKeys, GetAccessKeyLastUsed): the PIN opens it for these two calls."),
    h("div", { class: "field" }, h("label", { for: "keys-identity" }, "Identity"), select),
    field("pin", "PIN", { type: "password", autocomplete: "current-password" }),
    submit,
  );
  const result = h("div", { id: "keys-result" });
  main.append(general, form, result);
  select.onchange = () => result.replaceChildren();
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    general.replaceChildren();
    result.replaceChildren();
    const pin = value("pin");
    (document.getElementById("pin") as HTMLInputElement).value = "";
    submit.disabled = true;
    try {
      const keys = await call("list_keys", { identity: select.value, form: { pin, mfa_code: null } });
      const rows = keys.map((k) =>
        h(
          "tr",
          { "data-key": k.access_key_id },
          h("td", { class: "arn" }, k.access_key_id),
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
          h("thead", {}, h("tr", {}, ...["Key ID", "Status", "Created", "Age", "Last used", "keyfob"].map((t) => h("th", {}, t)))),
          h("tbody", {}, ...rows),
        ),
        h("p", {}, h("a", { href: routeTo("rotate", select.value), id: "keys-rotate-link" }, `Rotate the key of ${select.value}…`)),
      );
    } catch (e) {
      const err = toApiError(e);
      showError(err, ["pin"], general);
      if (err.waitSecs) backOff(submit, err.waitSecs);
    } finally {
      if (!submit.textContent?.startsWith("Wait")) submit.disabled = false;
    }
  };
  select.focus();
}
