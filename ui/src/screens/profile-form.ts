// The profile form, a screen of its own: `#/new-profile/IDENTITY` adds a
// profile to an identity, `#/edit-profile/NAME` edits one. A role with an
// external ID goes through the external-ID guard before it is saved; once
// saved, the identity's page shows the guard's verdict.
import { call, toApiError } from "../api";
import type { IdentityView, ProfileForm, ProfileView } from "../api";
import { backOff, clearErrors, field, flash, h, main, notice, secret, showError, value } from "../dom";
import { routeTo, savedProfileNotice } from "../logic";

const PROFILE_FIELDS = ["profile_name", "identity_name", "role_arn", "external_id", "role_session_name", "source_identity", "mfa_serial", "duration", "region", "pin", "mfa_code"] as const;

export async function newProfileScreen(arg: string | null): Promise<void> {
  const identities = await call("list_identities");
  renderForm(null, identities, arg);
}

export async function editProfileScreen(arg: string | null): Promise<void> {
  const [profiles, identities] = await Promise.all([call("list_profiles"), call("list_identities")]);
  const p = profiles.find((x) => x.name === arg);
  if (!p) {
    main.append(h("h2", {}, "Profile"), notice(`There is no profile ${arg ?? ""}.`, "bad"));
    return;
  }
  renderForm(p, identities, p.identity);
}

/** The profile form: a new profile (`p` null) of `identity`, or `p`'s. */
function renderForm(p: ProfileView | null, identities: IdentityView[], identity: string | null): void {
  const general = h("div");
  const ident = h("select", { id: "identity_name", name: "identity_name", "aria-describedby": "identity_name-error" });
  for (const i of identities) {
    const o = h("option", { value: i.name }, i.name);
    if (identity === i.name) o.selected = true;
    ident.append(o);
  }
  const takeOver = h("input", { id: "take_over", type: "checkbox" });
  // The external-ID guard: asked only for a role with an external ID.
  const accept = h("input", { id: "accept_unguarded", type: "checkbox" });
  const acceptRow = h("label", { class: "row", id: "accept-unguarded-row" }, accept, "Store it anyway, marked unguarded (--accept-unguarded)");
  acceptRow.hidden = true;
  const guardResult = h("div", { id: "guard-result", "aria-live": "polite" });
  const mfaField = field("mfa_code", "MFA code", { hint: "6 digits from the profile's MFA device", autocomplete: "one-time-code" });
  const guardFields = h(
    "fieldset",
    { id: "guard-fields" },
    h("legend", {}, "External-ID guard"),
    h(
      "p",
      { class: "muted" },
      "Before a role with an external ID is saved, keyfob assumes it without the external ID: if AWS allows that, the ID protects nothing (the confused deputy). This needs the identity's session.",
    ),
    field("pin", "Identity PIN", { type: "password", autocomplete: "current-password", hint: "not needed while the identity is unlocked" }),
    mfaField,
    guardResult,
    acceptRow,
  );
  const save = h("button", { id: "save-profile", type: "submit", class: "primary" }, "Save profile");
  const form = h(
    "form",
    { id: "profile-form", novalidate: true },
    field("profile_name", "Name", { value: p?.name ?? "" }),
    h("div", { class: "field" }, h("label", { for: "identity_name" }, "Identity"), ident, h("span", { class: "error", id: "identity_name-error" })),
    h(
      "fieldset",
      {},
      h("legend", {}, "Role (optional)"),
      field("role_arn", "Role ARN", { value: p?.role_arn ?? "", hint: "arn:aws:iam::ACCOUNT:role/NAME" }),
      field("external_id", "External ID", { value: p?.external_id ?? "", hint: "from the third party whose role this is" }),
      field("role_session_name", "Role session name", { value: p?.role_session_name ?? "" }),
      field("source_identity", "Source identity", { value: p?.source_identity ?? "" }),
    ),
    field("mfa_serial", "MFA serial", { value: p?.mfa_serial ?? "", hint: "arn:aws:iam::ACCOUNT:mfa/DEVICE" }),
    field("duration", "Duration", { value: p?.duration_secs ? String(p.duration_secs) : "", hint: "e.g. 1h, 90m, 3600; empty for the default" }),
    field("region", "Region", { value: p?.region ?? "", hint: "e.g. eu-west-1" }),
    guardFields,
    h("label", { class: "row" }, takeOver, "Take over an AWS config section keyfob does not manage"),
    general,
    h("div", { class: "row" }, save),
  );
  if (p) (form.querySelector("#profile_name") as HTMLInputElement).readOnly = true;
  const back = h("a", { href: identity ? routeTo("identity", identity) : "#/", class: "back" }, identity ? `← ${identity}` : "← All profiles");
  main.append(back, h("h2", {}, p ? `Edit profile ${p.name}` : "New profile"), form);
  const syncGuard = () => {
    guardFields.hidden = value("external_id").trim() === "" || value("role_arn").trim() === "";
    mfaField.hidden = value("mfa_serial").trim() === "";
  };
  for (const id of ["external_id", "role_arn", "mfa_serial"]) document.getElementById(id)?.addEventListener("input", syncGuard);
  syncGuard();
  (form.querySelector(p ? "#identity_name" : "#profile_name") as HTMLElement).focus();
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    general.replaceChildren();
    guardResult.replaceChildren();
    const data: ProfileForm = {
      name: value("profile_name"),
      identity: ident.value,
      role_arn: value("role_arn"),
      external_id: value("external_id"),
      role_session_name: value("role_session_name"),
      source_identity: value("source_identity"),
      mfa_serial: value("mfa_serial"),
      duration: value("duration"),
      region: value("region"),
      replace: p !== null,
      take_over: takeOver.checked,
      accept_unguarded: !acceptRow.hidden && accept.checked,
    };
    const guard = guardFields.hidden ? null : { pin: secret("pin"), mfa_code: mfaField.hidden ? null : value("mfa_code") };
    if (guard) guardResult.replaceChildren(notice("Checking the role with AWS STS…"));
    save.disabled = true;
    try {
      const stored = await call("save_profile", { form: data, guard });
      const verdict = savedProfileNotice(stored);
      flash(verdict.text, verdict.kind, "identity");
      location.hash = routeTo("identity", stored.identity);
    } catch (e) {
      const err = toApiError(e);
      guardResult.replaceChildren();
      if (err.kind === "unguarded") {
        // The library's explanation, next to the guard; nothing was written.
        guardResult.replaceChildren(h("div", { class: "notice bad", role: "alert", id: "guard-refusal" }, `Unguarded — not saved. ${err.message}`));
        acceptRow.hidden = false;
        accept.focus();
      } else {
        showError(err, PROFILE_FIELDS, general);
        if (err.waitSecs) backOff(save, err.waitSecs);
      }
    } finally {
      if (!save.textContent?.startsWith("Wait")) save.disabled = false;
    }
  };
}
