// keyfob's screens, in plain TypeScript and DOM. Every screen is a link in
// the header (reachable with Tab / Enter) and a hash route; each form is a
// real <form>, so Enter submits it. All data goes through ./api.
import { listen } from "@tauri-apps/api/event";
import { ApiError, call, toApiError } from "./api";
import type { NewIdentityForm, ProfileForm, ProfileView, PromptView } from "./api";
import {
  day,
  formatCountdown,
  humanDuration,
  keyAgeClass,
  keyAgeText,
  placeError,
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
      h(
        "td",
        {},
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
      h("thead", {}, h("tr", {}, ...["Name", "Key ID", "Account", "ARN", "Added", "Key age", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, ...rows),
    ),
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

const PROFILE_FIELDS = ["profile_name", "identity_name", "role_arn", "external_id", "role_session_name", "source_identity", "mfa_serial", "duration", "region"] as const;

async function profilesScreen(): Promise<void> {
  const profiles = await call("list_profiles");
  const identities = await call("list_identities");
  main.append(h("h2", {}, "Profiles"));
  const table = h(
    "table",
    { id: "profiles" },
    h("thead", {}, h("tr", {}, ...["Name", "Identity", "Role", "MFA", "Duration", "Region", ""].map((t) => h("th", {}, t)))),
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
      h("label", { class: "row" }, takeOver, "Take over an AWS config section keyfob does not manage"),
      general,
      h("div", { class: "row" }, h("button", { id: "save-profile", type: "submit", class: "primary" }, "Save profile")),
    );
    if (p) (form.querySelector("#profile_name") as HTMLInputElement).readOnly = true;
    formHost.replaceChildren(form);
    (form.querySelector(p ? "#identity_name" : "#profile_name") as HTMLElement).focus();
    form.onsubmit = async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      general.replaceChildren();
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
      };
      try {
        await call("save_profile", { form: data });
        route();
      } catch (e) {
        showError(toApiError(e), PROFILE_FIELDS, general);
      }
    };
  }
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

const SCREENS: Record<string, () => Promise<void>> = {
  identities,
  add: addIdentity,
  unlock: () => unlockScreen(),
  switch: switchScreen,
  profiles: profilesScreen,
  sessions: sessionsScreen,
  settings: settingsScreen,
};

async function route(): Promise<void> {
  timers.forEach((t) => window.clearInterval(t));
  timers = [];
  const name = location.hash.replace(/^#\//, "") || "identities";
  const screen = SCREENS[name] ?? identities;
  document.querySelectorAll("nav a").forEach((a) => {
    if (a.getAttribute("href") === `#/${name}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  });
  main.replaceChildren();
  main.dataset.screen = name;
  try {
    await screen();
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
