// keyfob's screens, in plain TypeScript and DOM. Every screen is a link in
// the header (reachable with Tab / Enter) and a hash route; each form is a
// real <form>, so Enter submits it. All data goes through ./api.
import { listen } from "@tauri-apps/api/event";
import { ApiError, call, toApiError } from "./api";
import type {
  IdentityView,
  NewIdentityForm,
  ProfileForm,
  ProfileView,
  PromptView,
  RotateAction,
  RotationView,
} from "./api";
import {
  badgeLabel,
  currentStep,
  day,
  formatCountdown,
  guardText,
  humanDuration,
  keyAgeClass,
  keyAgeText,
  lastUsedText,
  parseRoute,
  placeError,
  rotationActions,
  routeTo,
  secondsUntil,
} from "./logic";

const main = document.getElementById("main") as HTMLElement;
let timers: number[] = [];

/** Creates an element with attributes and children. */
function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean> = {},
  ...children: (Node | string | null)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false) continue;
    el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null) el.append(c);
  return el;
}

function notice(text: string, kind: "good" | "bad" | "" = ""): HTMLElement {
  return h("div", { class: `notice ${kind}`, role: kind === "bad" ? "alert" : "status" }, text);
}

/** A labelled input with its error slot (`#ID-error`). */
function field(
  id: string,
  label: string,
  opts: { type?: string; hint?: string; value?: string; autocomplete?: string } = {},
): HTMLElement {
  const input = h("input", {
    id,
    name: id,
    type: opts.type ?? "text",
    autocomplete: opts.autocomplete ?? "off",
    spellcheck: "false",
    "aria-describedby": `${id}-error`,
  });
  input.value = opts.value ?? "";
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    input,
    opts.hint ? h("span", { class: "hint" }, opts.hint) : null,
    h("span", { class: "error", id: `${id}-error`, "aria-live": "polite" }),
  );
}

function value(id: string): string {
  return (document.getElementById(id) as HTMLInputElement | null)?.value ?? "";
}

function clearErrors(form: HTMLElement): void {
  form.querySelectorAll(".error").forEach((e) => (e.textContent = ""));
  form.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
}

/** Shows an error next to its field, or in `general`. */
function showError(err: ApiError, fields: readonly string[], general: HTMLElement): void {
  const placed = placeError(err, fields);
  if (placed.field) {
    const slot = document.getElementById(`${placed.field}-error`);
    const input = document.getElementById(placed.field);
    if (slot) slot.textContent = placed.text;
    input?.setAttribute("aria-invalid", "true");
    (input as HTMLInputElement | null)?.focus();
  } else {
    general.replaceChildren(notice(placed.text, "bad"));
  }
}

function every(ms: number, fn: () => void): void {
  fn();
  timers.push(window.setInterval(fn, ms));
}

// ---------------------------------------------------------------- screens

async function identities(): Promise<void> {
  const list = await call("list_identities");
  main.append(h("h2", {}, "Identities"));
  if (list.length === 0) {
    main.append(h("p", {}, "No identities yet. ", h("a", { href: "#/add" }, "Add one"), "."));
    return;
  }
  const rows = list.map((i) =>
    h(
      "tr",
      { "data-identity": i.name },
      h("td", {}, i.name),
      h("td", {}, i.access_key_id),
      h("td", { class: "account" }, i.account ?? "unknown"),
      h("td", { class: "arn" }, (i.arn ?? (i.verified ? "" : "(not verified)")) + (i.root ? " (root!)" : "")),
      h("td", {}, day(i.added_at)),
      h("td", { class: keyAgeClass(i.key_age_days) }, keyAgeText(i.key_age_days)),
      h("td", {}, h("div", { class: "badges" }, ...i.badges.map((b) => badge(b.kind, b.text)))),
      h(
        "td",
        {},
        h("a", { href: routeTo("keys", i.name), "aria-label": `Access keys of ${i.name}` }, "Keys"),
        " ",
        h("a", { href: routeTo("rotate", i.name), "aria-label": `Rotate the key of ${i.name}` }, "Rotate"),
        " ",
        (() => {
          const b = h("button", { type: "button", "aria-label": `Remove identity ${i.name}` }, "Remove");
          b.onclick = async () => {
            if (!confirm(`Remove identity ${i.name} and its profiles? Its sealed key is deleted.`)) return;
            await call("remove_identity", { name: i.name }).catch((e) => alert(toApiError(e).message));
            route();
          };
          return b;
        })(),
      ),
    ),
  );
  main.append(
    h(
      "table",
      { id: "identities" },
      h("thead", {}, h("tr", {}, ...["Name", "Key ID", "Account", "ARN", "Added", "Key age", "Audit", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, ...rows),
    ),
  );
}

/** An audit finding: a short label, its explanation for screen readers and
 *  on hover; focusable so the keyboard reaches the explanation too. */
function badge(kind: string, text: string): HTMLElement {
  return h(
    "span",
    { class: `badge badge-${kind}`, "data-badge": kind, title: text, tabindex: "0", role: "note", "aria-label": `${badgeLabel(kind)}: ${text}` },
    badgeLabel(kind),
  );
}

const ADD_FIELDS = ["access_key_id", "secret_access_key", "identity_name", "pin", "pin_confirmation"] as const;

async function addIdentity(): Promise<void> {
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
  main.append(h("h2", {}, "Add identity"), general, form, result);
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    general.replaceChildren();
    result.replaceChildren();
    const data: NewIdentityForm = {
      access_key_id: value("access_key_id"),
      secret_access_key: value("secret_access_key"),
      identity_name: value("identity_name"),
      pin: value("pin"),
      pin_confirmation: value("pin_confirmation"),
    };
    // The secret and PIN leave the page's fields as soon as they are sent.
    for (const id of ["secret_access_key", "pin", "pin_confirmation"]) {
      (document.getElementById(id) as HTMLInputElement).value = "";
    }
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
          result.replaceChildren(
            notice(`Added identity ${added.name}: account ${added.account ?? "unknown"}, ${added.arn ?? ""}`, "good"),
          );
          form.reset();
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

function profileSelect(id: string, profiles: ProfileView[], selected?: string): HTMLSelectElement {
  const select = h("select", { id, name: id });
  for (const p of profiles) {
    const o = h("option", { value: p.name }, p.name + (p.mfa_serial ? " (MFA)" : ""));
    if (p.name === selected) o.selected = true;
    select.append(o);
  }
  return select;
}

async function unlockScreen(preselect?: string): Promise<void> {
  const profiles = await call("list_profiles");
  main.append(h("h2", {}, "Unlock"));
  if (profiles.length === 0) {
    main.append(h("p", {}, "No profiles yet."));
    return;
  }
  const general = h("div", { id: "unlock-general" });
  const select = profileSelect("unlock-profile", profiles, preselect);
  const mfa = field("mfa_code", "MFA code", { hint: "6 digits from the profile's MFA device", autocomplete: "one-time-code" });
  const submit = h("button", { id: "unlock-submit", type: "submit", class: "primary" }, "Unlock");
  const form = h(
    "form",
    { id: "unlock-form", novalidate: true },
    h("div", { class: "field" }, h("label", { for: "unlock-profile" }, "Profile"), select),
    field("pin", "PIN", { type: "password", autocomplete: "current-password" }),
    mfa,
    submit,
  );
  const syncMfa = () => {
    const p = profiles.find((x) => x.name === select.value);
    mfa.hidden = !p?.mfa_serial;
  };
  select.onchange = syncMfa;
  syncMfa();
  main.append(general, form);
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    general.replaceChildren();
    const pin = value("pin");
    (document.getElementById("pin") as HTMLInputElement).value = "";
    const code = mfa.hidden ? null : value("mfa_code").trim();
    try {
      const until = await call("unlock", { form: { profile: select.value, pin, mfa_code: code || null } });
      general.replaceChildren(
        notice(`Profile ${select.value} unlocked for ${formatCountdown(secondsUntil(until))}.`, "good"),
      );
    } catch (e) {
      const err = toApiError(e);
      showError(err, ["pin", "mfa_code"], general);
      if (err.waitSecs) backOff(submit, err.waitSecs);
    }
  };
  select.focus();
}

/** Disables `button` and counts down the back-off on it. */
function backOff(button: HTMLButtonElement, secs: number): void {
  const label = button.textContent;
  const end = Date.now() + secs * 1000;
  button.disabled = true;
  button.textContent = `Wait ${formatCountdown(secs)}`;
  const t = window.setInterval(() => {
    const left = Math.ceil((end - Date.now()) / 1000);
    if (left <= 0) {
      window.clearInterval(t);
      button.disabled = false;
      button.textContent = label;
    } else {
      button.textContent = `Wait ${formatCountdown(left)}`;
    }
  }, 250);
  timers.push(t);
}

async function switchScreen(): Promise<void> {
  const profiles = await call("list_profiles");
  const general = h("div", { id: "switch-general" });
  main.append(h("h2", {}, "Switch identity"), h("p", { class: "muted" }, "The default profile is what every AWS tool uses without --profile."), general);
  const list = h("ul", { id: "switch-list" });
  for (const p of profiles) {
    const b = h("button", { type: "button", "data-profile": p.name, class: p.is_default ? "primary" : "" }, p.is_default ? "Default" : "Make default");
    b.disabled = p.is_default;
    b.onclick = async () => {
      try {
        await call("use_profile", { name: p.name, takeOver: false });
        route();
      } catch (e) {
        const err = toApiError(e);
        if (err.kind === "not_managed" && confirm(`${err.message}\n\nReplace it?`)) {
          await call("use_profile", { name: p.name, takeOver: true }).catch((x) => general.replaceChildren(notice(toApiError(x).message, "bad")));
          route();
        } else {
          general.replaceChildren(notice(err.message, "bad"));
        }
      }
    };
    list.append(
      h(
        "li",
        { class: "row", "data-profile": p.name },
        h("span", { class: p.is_default ? "current" : "" }, `${p.is_default ? "✓ " : ""}${p.name}`),
        h("span", { class: "muted" }, p.role_arn ? `role ${p.role_arn}` : `identity ${p.identity}`),
        b,
      ),
    );
  }
  main.append(profiles.length ? list : h("p", {}, "No profiles yet."));
}

const PROFILE_FIELDS = ["profile_name", "identity_name", "role_arn", "external_id", "role_session_name", "source_identity", "mfa_serial", "duration", "region", "pin", "mfa_code"] as const;

async function profilesScreen(): Promise<void> {
  const profiles = await call("list_profiles");
  const identities = await call("list_identities");
  const saved = h("div", { id: "profiles-general" });
  main.append(h("h2", {}, "Profiles"), saved);
  const table = h(
    "table",
    { id: "profiles" },
    h("thead", {}, h("tr", {}, ...["Name", "Identity", "Role", "External-ID guard", "MFA", "Duration", "Region", ""].map((t) => h("th", {}, t)))),
  );
  const body = h("tbody");
  for (const p of profiles) {
    const edit = h("button", { type: "button", "aria-label": `Edit profile ${p.name}` }, "Edit");
    const remove = h("button", { type: "button", "aria-label": `Remove profile ${p.name}` }, "Remove");
    edit.onclick = () => renderForm(p);
    remove.onclick = async () => {
      if (!confirm(`Remove profile ${p.name}?`)) return;
      await call("remove_profile", { name: p.name }).catch((e) => alert(toApiError(e).message));
      route();
    };
    body.append(
      h(
        "tr",
        { "data-profile": p.name },
        h("td", {}, p.name + (p.is_default ? " (default)" : "")),
        h("td", {}, p.identity),
        h("td", { class: "arn" }, p.role_arn ? `${p.role_arn}${p.external_id ? " (external ID)" : ""}` : "—"),
        h("td", { class: `guard guard-${p.guard}`, "data-guard": p.guard }, guardText(p.guard)),
        h("td", { class: "arn" }, p.mfa_serial ?? "—"),
        h("td", {}, humanDuration(p.duration_secs)),
        h("td", {}, p.region ?? "—"),
        h("td", { class: "row" }, edit, remove),
      ),
    );
  }
  table.append(body);
  const newButton = h("button", { id: "new-profile", type: "button", class: "primary" }, "New profile");
  const formHost = h("div", { id: "profile-form-host" });
  main.append(profiles.length ? table : h("p", {}, "No profiles yet."), h("p", {}, newButton), formHost);
  newButton.onclick = () => renderForm(null);

  function renderForm(p: ProfileView | null): void {
    const general = h("div");
    const ident = h("select", { id: "identity_name", name: "identity_name", "aria-describedby": "identity_name-error" });
    for (const i of identities) {
      const o = h("option", { value: i.name }, i.name);
      if (p?.identity === i.name) o.selected = true;
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
      h("h3", {}, p ? `Edit profile ${p.name}` : "New profile"),
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
    formHost.replaceChildren(form);
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
      const guard = guardFields.hidden ? null : { pin: value("pin"), mfa_code: mfaField.hidden ? null : value("mfa_code") };
      // The PIN leaves the page as soon as it is sent.
      (document.getElementById("pin") as HTMLInputElement).value = "";
      if (guard) guardResult.replaceChildren(notice("Checking the role with AWS STS…"));
      save.disabled = true;
      try {
        const stored = await call("save_profile", { form: data, guard });
        await route();
        const verdict =
          stored.guard === "guarded"
            ? notice(`Profile ${stored.name} saved. Guarded: its role refuses AssumeRole without the external ID.`, "good")
            : stored.guard === "unguarded"
              ? notice(`Profile ${stored.name} saved, marked unguarded: its role can be assumed without the external ID.`, "bad")
              : notice(`Profile ${stored.name} saved.`, "good");
        document.getElementById("profiles-general")?.replaceChildren(verdict);
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
}

// ------------------------------------------------------------ access keys

/** A select of the identities, `selected` chosen (else the first). */
function identitySelect(id: string, list: IdentityView[], selected: string | null): HTMLSelectElement {
  const select = h("select", { id, name: id });
  for (const i of list) {
    const o = h("option", { value: i.name }, i.name);
    if (i.name === selected) o.selected = true;
    select.append(o);
  }
  return select;
}

async function keysScreen(arg: string | null): Promise<void> {
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
          h("td", { class: k.age_days === null ? "" : keyAgeClass(k.age_days) }, k.age_days === null ? "unknown" : keyAgeText(k.age_days)),
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

// --------------------------------------------------------------- rotation

function rotationCard(s: RotationView): HTMLElement {
  const current = currentStep(s.steps, s.in_progress);
  return h(
    "div",
    { class: "card", id: "rotation-status", "data-in-progress": String(s.in_progress) },
    h(
      "p",
      { id: "rotation-summary" },
      s.in_progress
        ? `Rotating ${s.old_key ?? "?"} → ${s.new_key ?? "(being created)"}; the vault uses ${s.vault_key}.`
        : `No rotation in progress; the vault uses ${s.vault_key}.`,
    ),
    h(
      "ol",
      { class: "steps", id: "rotation-steps" },
      ...s.steps.map((st) =>
        h(
          "li",
          { "data-step": String(st.number), class: st.done ? "done" : st.number === current ? "current" : "", "aria-current": st.number === current ? "step" : false },
          `${st.done ? "✓" : st.number === current ? "→" : "·"} ${st.number}. ${st.text}`,
        ),
      ),
    ),
    s.delete_after ? h("p", { class: "muted" }, `The old key may be deleted after ${s.delete_after} (grace ${s.grace ?? ""}).`) : null,
  );
}

const ACTION_LABELS: Record<RotateAction, string> = {
  start: "Start rotation (steps 1–3)",
  continue: "Continue (next step)",
  rollback: "Roll back to the old key",
};

async function rotateScreen(arg: string | null): Promise<void> {
  const list = await call("list_identities");
  main.append(h("h2", {}, "Rotate access key"));
  if (list.length === 0) {
    main.append(h("p", {}, "No identities yet."));
    return;
  }
  const select = identitySelect("rotate-identity", list, arg);
  select.onchange = () => {
    location.hash = routeTo("rotate", select.value);
  };
  const name = select.value;
  const status = await call("rotation_status", { identity: name });
  const general = h("div", { id: "rotate-general" });
  const statusHost = h("div", {}, rotationCard(status));
  const report = h("div", { id: "rotation-report", "aria-live": "polite" });
  const buttons = h("div", { class: "row", id: "rotate-buttons" });
  const form = h(
    "form",
    { id: "rotate-form", novalidate: true },
    h("p", { class: "muted" }, "The IAM guide's rotation without downtime. Each step asks the PIN: the IAM calls are signed with the long-term key."),
    field("pin", "PIN", { type: "password", autocomplete: "current-password" }),
    field("grace", "Grace period", { hint: "How long the old key stays inactive before it may be deleted, e.g. 7d, 12h, 0s. Empty: 7 days (start) or as recorded (continue)." }),
    buttons,
  );
  main.append(h("div", { class: "field" }, h("label", { for: "rotate-identity" }, "Identity"), select), general, statusHost, form, report);

  const renderButtons = (inProgress: boolean) => {
    buttons.replaceChildren(
      ...rotationActions(inProgress).map((a, n) =>
        h("button", { id: `rotate-${a}`, type: n === 0 ? "submit" : "button", class: n === 0 ? "primary" : "", "data-action": a }, ACTION_LABELS[a]),
      ),
    );
    buttons.querySelectorAll<HTMLButtonElement>("button[type=button]").forEach((b) => (b.onclick = () => void act(b.dataset.action as RotateAction)));
  };
  const act = async (action: RotateAction) => {
    clearErrors(form);
    general.replaceChildren();
    report.replaceChildren(notice("Working with IAM…"));
    const pin = value("pin");
    (document.getElementById("pin") as HTMLInputElement).value = "";
    const all = [...buttons.querySelectorAll("button")];
    all.forEach((b) => (b.disabled = true));
    try {
      const r = await call("rotate", { form: { identity: name, pin, action, grace: value("grace") } });
      statusHost.replaceChildren(rotationCard(r.status));
      report.replaceChildren(
        h("ul", { id: "rotation-lines" }, ...r.lines.map((l) => h("li", {}, l))),
        ...r.warnings.map((w) => notice(`Warning: ${w}`, "bad")),
      );
      renderButtons(r.status.in_progress);
    } catch (e) {
      report.replaceChildren();
      const err = toApiError(e);
      showError(err, ["pin", "grace"], general);
      all.forEach((b) => (b.disabled = false));
      const primary = buttons.querySelector<HTMLButtonElement>("button[type=submit]");
      if (err.waitSecs && primary) backOff(primary, err.waitSecs);
    }
  };
  form.onsubmit = (ev) => {
    ev.preventDefault();
    const primary = buttons.querySelector<HTMLButtonElement>("button[type=submit]");
    if (primary && !primary.disabled) void act(primary.dataset.action as RotateAction);
  };
  renderButtons(status.in_progress);
  select.focus();
}

// --------------------------------------------------------------- provider

/** Copies `text`: the async clipboard API where the webview allows it,
 *  else selecting `el`'s text and the older execCommand("copy"). */
async function copyText(text: string, el: HTMLElement): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const range = document.createRange();
    range.selectNodeContents(el);
    const sel = window.getSelection();
    sel?.removeAllRanges();
    sel?.addRange(range);
    try {
      return document.execCommand("copy");
    } catch {
      return false;
    }
  }
}

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

async function providerScreen(): Promise<void> {
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
        h(
          "p",
          { class: "muted" },
          v.customer
            ? v.new
              ? `Issued to ${v.customer} and recorded: it will not be given to anyone else.`
              : `${v.customer} already has this ID (issued ${day(v.issued_at ?? "")}).`
            : "Not recorded: name a customer to keep track of who has which ID.",
        ),
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

async function sessionsScreen(): Promise<void> {
  const sessions = await call("list_sessions");
  const general = h("div");
  const lockAll = h("button", { id: "lock-all", type: "button" }, "Lock all");
  lockAll.onclick = async () => {
    const n = await call("lock_all");
    route();
    main.prepend(notice(`Dropped ${n} cached session(s).`, "good"));
  };
  main.append(h("h2", {}, "Sessions"), general);
  if (sessions.length === 0) {
    main.append(h("p", { id: "no-sessions" }, "No cached sessions: every profile is locked."), lockAll);
    return;
  }
  const body = h("tbody");
  for (const s of sessions) {
    const left = h("td", { class: "countdown" });
    every(1000, () => {
      const secs = secondsUntil(s.expires_at);
      left.textContent = secs > 0 ? formatCountdown(secs) : "expired";
    });
    const lock = h("button", { type: "button", "aria-label": `Lock ${s.profile}` }, "Lock");
    lock.onclick = async () => {
      await call("lock", { profile: s.profile }).catch((e) => general.replaceChildren(notice(toApiError(e).message, "bad")));
      route();
    };
    body.append(h("tr", { "data-session": s.profile }, h("td", {}, s.profile), h("td", {}, s.identity), left, h("td", {}, lock)));
  }
  main.append(
    h("table", { id: "sessions" }, h("thead", {}, h("tr", {}, ...["Profile", "Identity", "Expires in", ""].map((t) => h("th", {}, t)))), body),
    h("p", {}, lockAll),
  );
}

async function settingsScreen(): Promise<void> {
  const s = await call("get_settings");
  const general = h("div");
  const store = h("select", { id: "store" });
  for (const [v, label] of [
    ["auto", "Automatic: the OS keychain, else the encrypted-file store"],
    ["keychain", "OS keychain only (Secret Service)"],
    ["file", "Encrypted-file store"],
  ]) {
    const o = h("option", { value: v }, label);
    if (s.store === v) o.selected = true;
    store.append(o);
  }
  const login = h("input", { id: "start_at_login", type: "checkbox" });
  login.checked = s.start_at_login;
  const form = h(
    "form",
    { id: "settings-form" },
    h("div", { class: "field" }, h("label", { for: "store" }, "Store"), store, h("span", { class: "hint" }, `In use now: ${s.store_in_use}. A change applies at the next start.`)),
    h("label", { class: "row" }, login, "Start keyfob at login"),
    field("session_duration", "Default session duration", {
      value: s.session_duration,
      hint: "Identity sessions (the PIN is asked once per session): 15m to 36h. Empty for 12h.",
    }),
    field("role_duration", "Default role duration", {
      value: s.role_duration,
      hint: "Role sessions, renewed without a prompt: 15m to 12h, within the role's own maximum. Empty for 1h. A profile's own duration wins.",
    }),
    h("p", { class: "muted" }, `Settings file: ${s.config_file}`),
    general,
    h("button", { id: "save-settings", type: "submit", class: "primary" }, "Save settings"),
  );
  main.append(h("h2", {}, "Settings"));
  if (s.notice) main.append(notice(s.notice, "bad"));
  if (s.prompt_service) main.append(notice(`Prompt service not running: ${s.prompt_service}`, "bad"));
  main.append(form);
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    general.replaceChildren();
    try {
      const saved = await call("save_settings", {
        form: {
          store: store.value as "auto" | "keychain" | "file",
          start_at_login: login.checked,
          session_duration: value("session_duration"),
          role_duration: value("role_duration"),
        },
      });
      (document.getElementById("session_duration") as HTMLInputElement).value = saved.session_duration;
      (document.getElementById("role_duration") as HTMLInputElement).value = saved.role_duration;
      general.replaceChildren(notice("Saved.", "good"));
    } catch (e) {
      showError(toApiError(e), ["session_duration", "role_duration"], general);
    }
  };
}

// ---------------------------------------------------------------- prompts

const promptHost = document.getElementById("prompt-host") as HTMLElement;
const shown = new Set<number>();

/** A request from `keyfob credential-process`: who asks, for what; the
 *  person answers or refuses. */
function showPrompt(p: PromptView): void {
  if (shown.has(p.id)) return;
  shown.add(p.id);
  const isPin = p.kind === "pin";
  const input = h("input", {
    id: `prompt-${p.id}-value`,
    type: isPin ? "password" : "text",
    autocomplete: isPin ? "current-password" : "one-time-code",
    "aria-label": isPin ? "PIN" : "MFA code",
  });
  const error = h("span", { class: "error", role: "alert" });
  const ok = h("button", { type: "submit", class: "primary", id: `prompt-${p.id}-ok` }, isPin ? "Unlock" : "Send code");
  const refuse = h("button", { type: "button", id: `prompt-${p.id}-refuse` }, "Refuse");
  const form = h(
    "form",
    { class: "card", "data-prompt": String(p.id) },
    h("h2", {}, isPin ? `PIN for ${p.identity}` : `MFA code for ${p.identity}`),
    h("p", {}, "Profile ", h("strong", { class: "prompt-profile" }, p.profile), p.mfa_serial ? ` (MFA ${p.mfa_serial})` : ""),
    h("p", {}, "Asked by ", h("strong", { class: "prompt-exe" }, p.exe ?? "an unknown program"), ` (pid ${p.pid})`),
    input,
    error,
    h("div", { class: "row" }, ok, refuse),
  );
  const overlay = h("div", { class: "prompt", role: "dialog", "aria-modal": "true", "aria-label": "keyfob prompt" }, form);
  const close = () => {
    overlay.remove();
  };
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    const v = input.value;
    input.value = "";
    await call("answer_prompt", { id: p.id, value: v }).catch((e) => (error.textContent = toApiError(e).message));
    close();
  };
  refuse.onclick = async () => {
    await call("answer_prompt", { id: p.id, value: null }).catch(() => undefined);
    close();
  };
  overlay.onkeydown = (ev) => {
    if (ev.key === "Escape") refuse.click();
  };
  promptHost.append(overlay);
  input.focus();
}

// ---------------------------------------------------------------- routing

const SCREENS: Record<string, (arg: string | null) => Promise<void>> = {
  identities,
  add: addIdentity,
  unlock: () => unlockScreen(),
  switch: switchScreen,
  profiles: profilesScreen,
  sessions: sessionsScreen,
  settings: settingsScreen,
  keys: keysScreen,
  rotate: rotateScreen,
  provider: providerScreen,
};

async function route(): Promise<void> {
  timers.forEach((t) => window.clearInterval(t));
  timers = [];
  const { screen: name, arg } = parseRoute(location.hash);
  const screen = SCREENS[name] ?? identities;
  document.querySelectorAll("nav a").forEach((a) => {
    if (a.getAttribute("href") === `#/${name}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  });
  main.replaceChildren();
  main.dataset.screen = name;
  try {
    await screen(arg);
  } catch (e) {
    main.append(notice(toApiError(e).message, "bad"));
  }
  main.dataset.ready = name;
}

window.addEventListener("hashchange", () => void route());
// Choosing the screen already shown starts it afresh (hashchange would not fire).
document.querySelectorAll<HTMLAnchorElement>("nav a").forEach((a) =>
  a.addEventListener("click", (ev) => {
    if (a.getAttribute("href") === location.hash) {
      ev.preventDefault();
      void route();
    }
  }),
);
void route();
void listen<PromptView>("keyfob://prompt", (e) => showPrompt(e.payload));
void listen("keyfob://changed", () => void route());
void call("pending_prompts").then((list) => list.forEach(showPrompt), () => undefined);
