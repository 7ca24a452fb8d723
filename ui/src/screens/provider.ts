// The Provider screen: external IDs for a service's customers and the
// trust policy each customer puts on the role they grant.
import { call, toApiError } from "../api";
import { clearErrors, copyText, field, h, main, showError, value } from "../dom";
import { externalIdNote } from "../logic";

function copyButton(id: string, label: string, source: () => HTMLElement | null): HTMLElement {
  const status = h("span", { class: "muted", id: `${id}-status`, "aria-live": "polite" });
  const b = h("button", { type: "button", id }, label);
  b.onclick = async () => {
    const el = source();
    if (!el) return;
    const ok = await copyText(el.textContent ?? "", el);
    status.textContent = ok ? "Copied." : "Select the text and copy it (Ctrl+C).";
  };
  return h("span", { class: "row" }, b, status);
}

export async function providerScreen(): Promise<void> {
  main.append(
    h("h2", {}, "Provider: external IDs and trust policies"),
    h(
      "p",
      { class: "muted" },
      "For a service that assumes roles in its customers' accounts: give each customer their own random external ID and the trust policy to put on the role they grant you.",
    ),
  );
  const idGeneral = h("div", { id: "external-id-general" });
  const idResult = h("div", { id: "external-id-result" });
  const idForm = h(
    "form",
    { id: "external-id-form", novalidate: true },
    h("h3", {}, "External ID"),
    field("customer", "Customer (optional)", { hint: "Named: the ID is recorded for that customer (external-ids.toml) and never given to another; the same customer gets the same ID again." }),
    h("button", { id: "generate-id", type: "submit", class: "primary" }, "Generate external ID"),
    idGeneral,
    idResult,
  );
  const policyGeneral = h("div", { id: "trust-policy-general" });
  const policyResult = h("div", { id: "trust-policy-result" });
  const policyForm = h(
    "form",
    { id: "trust-policy-form", novalidate: true },
    h("h3", {}, "Trust policy"),
    field("account", "Your AWS account ID", { hint: "12 digits: the account that assumes the customer's role" }),
    field("role_arn", "Principal role ARN (optional)", { hint: "Name one of your roles instead of the whole account" }),
    field("external_id", "External ID", { hint: "The customer's ID, from above" }),
    h("button", { id: "make-policy", type: "submit", class: "primary" }, "Make trust policy"),
    policyGeneral,
    policyResult,
  );
  main.append(idForm, h("p"), policyForm);
  idForm.onsubmit = async (ev) => {
    ev.preventDefault();
    clearErrors(idForm);
    idGeneral.replaceChildren();
    idResult.replaceChildren();
    const customer = value("customer");
    try {
      const v = await call("new_external_id", { customer: customer === "" ? null : customer });
      idResult.replaceChildren(
        h("code", { class: "external-id", id: "external-id-value", tabindex: "0" }, v.external_id),
        copyButton("copy-external-id", "Copy", () => document.getElementById("external-id-value")),
        h("p", { class: "muted" }, externalIdNote(v)),
      );
      (document.getElementById("external_id") as HTMLInputElement).value = v.external_id;
    } catch (e) {
      showError(toApiError(e), ["customer"], idGeneral);
    }
  };
  policyForm.onsubmit = async (ev) => {
    ev.preventDefault();
    clearErrors(policyForm);
    policyGeneral.replaceChildren();
    policyResult.replaceChildren();
    try {
      const policy = await call("trust_policy", {
        form: { account: value("account"), principal_arn: value("role_arn"), external_id: value("external_id") },
      });
      policyResult.replaceChildren(
        h("pre", { class: "policy", id: "trust-policy", tabindex: "0", "aria-label": "Trust policy JSON" }, policy),
        copyButton("copy-policy", "Copy policy", () => document.getElementById("trust-policy")),
      );
    } catch (e) {
      showError(toApiError(e), ["account", "role_arn", "external_id"], policyGeneral);
    }
  };
  (document.getElementById("customer") as HTMLInputElement).focus();
}
