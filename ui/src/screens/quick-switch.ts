// The quick switcher: Ctrl+K in the app, or the global shortcut from
// anywhere on the desktop, opens it; type a few letters, Enter makes the
// chosen profile the default, asking the PIN first when it is locked.
// A combobox over a listbox (the ARIA pattern): the arrows move the
// choice, focus stays in the text field.
import { call, toApiError } from "../api";
import { makeDefault } from "../actions";
import { clearErrors, field, h, modal, notice, route, secret, showError, value } from "../dom";
import type { ProfileRow } from "../logic";
import { groupRows, isUnlocked, rankProfiles, stateText } from "../logic";

let open = false;

export async function quickSwitch(): Promise<void> {
  if (open) {
    (document.getElementById("qs-input") as HTMLInputElement | null)?.focus();
    return;
  }
  open = true;
  let rows: ProfileRow[] = [];
  try {
    const [identities, profiles, sessions] = await Promise.all([call("list_identities"), call("list_profiles"), call("list_sessions")]);
    rows = groupRows(identities, profiles, sessions).flatMap((g) => g.rows);
  } catch (e) {
    open = false;
    throw e;
  }
  const input = h("input", {
    id: "qs-input",
    type: "text",
    role: "combobox",
    "aria-expanded": "true",
    "aria-controls": "qs-list",
    "aria-autocomplete": "list",
    "aria-label": "Profile to make the default",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "Type a profile name…",
  });
  const list = h("ul", { id: "qs-list", role: "listbox", "aria-label": "Profiles" });
  const general = h("div", { id: "qs-general", "aria-live": "polite" });
  const pinHost = h("div", { id: "qs-pin-host" });
  const form = h(
    "form",
    { id: "qs-form", novalidate: true },
    input,
    list,
    pinHost,
    general,
    h("div", { class: "row" }, h("button", { type: "submit", class: "primary", id: "qs-submit" }, "Make default"), h("span", { class: "muted" }, "↑ ↓ to choose · Enter to switch · Esc to close")),
  );
  const dialog = modal("quick-switch", "Switch the default profile", form);
  dialog.addEventListener("close", () => (open = false));
  let matches: ProfileRow[] = [];
  let active = 0;
  let unlocking: ProfileRow | null = null;

  const render = () => {
    const names = rankProfiles(
      rows.map((r) => r.name),
      input.value,
    );
    matches = names.map((n) => rows.find((r) => r.name === n) as ProfileRow);
    active = Math.min(active, Math.max(0, matches.length - 1));
    list.replaceChildren(
      ...matches.map((r, n) => {
        const li = h(
          "li",
          { id: `qs-opt-${n}`, role: "option", "data-profile": r.name, "aria-selected": String(n === active) },
          h("span", { class: "profile-name" }, r.name),
          r.isDefault ? h("span", { class: "tag tag-default" }, "default") : null,
          h("span", { class: `muted state-${isUnlocked(r) ? "unlocked" : "locked"}` }, ` · identity ${r.identity} · ${stateText(r)}`),
        );
        li.onmousedown = (ev) => {
          ev.preventDefault();
          active = n;
          void choose();
        };
        return li;
      }),
    );
    if (matches.length) input.setAttribute("aria-activedescendant", `qs-opt-${active}`);
    else input.removeAttribute("aria-activedescendant");
    if (!matches.length) list.append(h("li", { class: "muted", role: "option", "aria-disabled": "true", "aria-selected": "false" }, "No profile matches."));
  };

  const done = async (row: ProfileRow) => {
    try {
      if (!(await makeDefault(row.name))) return;
      dialog.close();
      await route();
      document.getElementById("home-general")?.replaceChildren(notice(`The default profile is now ${row.name}.`, "good"));
    } catch (e) {
      general.replaceChildren(notice(toApiError(e).message, "bad"));
    }
  };

  /** Enter on a match: switch, or ask the PIN in place when it is locked. */
  const choose = async () => {
    const row = matches[active];
    if (!row) return;
    general.replaceChildren();
    if (isUnlocked(row)) {
      await done(row);
      return;
    }
    unlocking = row;
    pinHost.replaceChildren(
      h("p", { id: "qs-locked" }, `${row.name} is locked: the PIN of ${row.identity} unlocks it.`),
      field("qs-pin", "PIN", { type: "password", autocomplete: "current-password" }),
    );
    if (row.mfa) pinHost.append(field("qs-mfa_code", "MFA code", { autocomplete: "one-time-code" }));
    (document.getElementById("qs-pin") as HTMLInputElement).focus();
  };

  const unlock = async (row: ProfileRow) => {
    clearErrors(form);
    const pin = secret("qs-pin");
    const code = row.mfa ? value("qs-mfa_code").trim() : "";
    general.replaceChildren(notice("Unlocking…"));
    try {
      await call("unlock", { form: { profile: row.name, pin, mfa_code: code || null } });
      general.replaceChildren();
      await done(row);
    } catch (e) {
      general.replaceChildren();
      showError(toApiError(e), ["pin", "mfa_code"], general, "qs-");
    }
  };

  input.addEventListener("input", () => {
    active = 0;
    unlocking = null;
    pinHost.replaceChildren();
    render();
  });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      if (!matches.length) return;
      active = (active + (ev.key === "ArrowDown" ? 1 : matches.length - 1)) % matches.length;
      unlocking = null;
      pinHost.replaceChildren();
      render();
    }
  });
  form.onsubmit = (ev) => {
    ev.preventDefault();
    if (unlocking && document.activeElement?.id !== "qs-input") void unlock(unlocking);
    else void choose();
  };
  render();
  input.focus();
}
