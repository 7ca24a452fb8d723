// The main view (`#/`): every profile, grouped by identity, with its
// state (locked, unlocked with the time left, default) and the actions in
// place: unlock or lock, make default, open the console, copy the export
// lines. The search
// box filters as you type; two selects filter by account and by state.
// With no identity yet it is the first-run view instead.
import { call, toApiError } from "../api";
import { makeDefault } from "../actions";
import { clearErrors, copyText, every, field, flash, h, main, modal, notice, route, showError, takeFlash, value } from "../dom";
import type { ProfileRow, StateFilter } from "../logic";
import { accountLabel, exportLines, groupRows, isUnlocked, routeTo, rowMatches, stateText } from "../logic";
import { badge } from "./identity";
import { unlockDialog } from "./unlock";
import { openConsole } from "./console";

/** The search and filters outlive a re-render (after an unlock, or a
 *  change from the tray or the CLI). */
const filters = { query: "", account: "", state: "all" as StateFilter };

export async function home(): Promise<void> {
  const [identities, profiles, sessions, aliases, ssoIdentities] = await Promise.all([
    call("list_identities"),
    call("list_profiles"),
    call("list_sessions"),
    call("account_aliases"),
    call("list_sso_identities"),
  ]);
  if (identities.length === 0 && ssoIdentities.length === 0) {
    firstRun();
    return;
  }
  // Identity Center identities are groups too, headed by their start URL.
  const groups = groupRows(
    [...identities, ...ssoIdentities.map((i) => ({ name: i.name, account: null, start_url: i.start_url }))],
    profiles,
    sessions,
    aliases,
  );
  const general = h("div", { id: "home-general", "aria-live": "polite" }, takeFlash("home"));
  const accounts = [...new Set(groups.flatMap((g) => g.rows.map((r) => r.account)).filter((a): a is string => a !== null))].sort();

  const search = h("input", {
    id: "search",
    type: "search",
    placeholder: "Search  ( / )",
    "aria-keyshortcuts": "/",
    "aria-label": "Search profiles by name, identity, account, role or region",
    autocomplete: "off",
    spellcheck: "false",
  });
  search.value = filters.query;
  const account = h("select", { id: "filter-account", "aria-label": "Filter by account" }, h("option", { value: "" }, "All accounts"), ...accounts.map((a) => h("option", { value: a }, accountLabel(a, aliases[a] ?? null))));
  account.value = accounts.includes(filters.account) ? filters.account : "";
  const state = h(
    "select",
    { id: "filter-state", "aria-label": "Filter by state" },
    ...(
      [
        ["all", "Any state"],
        ["unlocked", "Unlocked"],
        ["locked", "Locked"],
        ["default", "Default"],
      ] as const
    ).map(([v, t]) => h("option", { value: v }, t)),
  );
  state.value = filters.state;
  const count = h("p", { id: "match-count", class: "muted", role: "status" });
  const lockAll = h("button", { type: "button", id: "lock-all" }, "Lock all");
  lockAll.onclick = async () => {
    try {
      const n = await call("lock_all");
      await route();
      document.getElementById("home-general")?.replaceChildren(notice(`Locked: dropped ${n} session(s).`, "good"));
    } catch (e) {
      general.replaceChildren(notice(toApiError(e).message, "bad"));
    }
  };
  const toolbar = h(
    "div",
    { class: "toolbar", role: "search" },
    search,
    account,
    state,
    h("span", { class: "spacer" }),
    lockAll,
    h("a", { href: "#/add", class: "button primary", id: "add-identity" }, "Add identity"),
    h("a", { href: "#/add-sso", class: "button", id: "add-sso" }, "Add Identity Center"),
    h("a", { href: "#/add-login", class: "button", id: "add-login" }, "Add AWS sign-in"),
  );
  main.append(h("h2", { class: "sr-only" }, "Profiles"), toolbar, general);

  const sections: { el: HTMLElement; rows: { row: ProfileRow; el: HTMLElement }[] }[] = [];
  for (const g of groups) {
    const ident = identities.find((i) => i.name === g.identity);
    const body = h("tbody");
    const rows = g.rows.map((row) => {
      const el = profileRow(row, general);
      body.append(el);
      return { row, el };
    });
    const titleId = `group-${cssId(g.identity)}`;
    const el = h(
      "section",
      { class: "group", "data-identity": g.identity, "data-sso": String(g.startUrl !== null), "aria-labelledby": titleId },
      h(
        "div",
        { class: "group-head" },
        h("h3", { id: titleId }, h("a", { href: routeTo("identity", g.identity), "data-identity-link": g.identity }, g.identity)),
        g.startUrl !== null
          ? h("span", { class: "muted start-url" }, h("span", { class: "tag" }, "Identity Center"), ` ${g.startUrl}`)
          : h("span", { class: "muted", "data-account": g.account ?? "" }, `account ${accountLabel(g.account, g.alias)}`),
        g.account ? aliasButton(g.account, g.alias, general) : null,
        ...(ident?.badges ?? []).map((b) => badge(b.kind, b.label, b.text)),
        h("span", { class: "spacer" }),
        g.startUrl !== null
          ? h("a", { href: routeTo("identity", g.identity), class: "button small", "aria-label": `Sync accounts and roles of ${g.identity}` }, "Sync")
          : h("a", { href: routeTo("new-profile", g.identity), class: "button small", "aria-label": `New profile for ${g.identity}` }, "New profile"),
      ),
      g.rows.length
        ? h(
            "table",
            { class: "profiles" },
            h("thead", {}, h("tr", {}, ...["Profile", "Account", "Role", "Region", "State", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
            body,
          )
        : h("p", { class: "muted" }, "No profiles."),
    );
    sections.push({ el, rows });
    main.append(el);
  }
  const none = h("p", { id: "no-match", class: "muted" }, "No profile matches.");
  main.append(none, count);

  const apply = () => {
    filters.query = search.value;
    filters.account = account.value;
    filters.state = state.value as StateFilter;
    const now = new Date();
    let shown = 0;
    let total = 0;
    for (const s of sections) {
      let any = false;
      for (const r of s.rows) {
        total++;
        const ok = rowMatches(r.row, filters.query, filters.account, filters.state, now);
        r.el.hidden = !ok;
        if (ok) {
          any = true;
          shown++;
        }
      }
      const filtering = filters.query.trim() !== "" || filters.account !== "" || filters.state !== "all";
      s.el.hidden = filtering && !any;
    }
    none.hidden = shown > 0 || total === 0;
    count.textContent = shown === total ? `${total} profile(s)` : `${shown} of ${total} profile(s) shown`;
  };
  search.addEventListener("input", apply);
  account.addEventListener("change", apply);
  state.addEventListener("change", apply);
  apply();

  // The countdowns; a session that runs out locks its row.
  const unlocked = sections.flatMap((s) => s.rows).filter((r) => isUnlocked(r.row));
  if (unlocked.length) {
    every(1000, () => {
      const now = new Date();
      for (const r of unlocked) {
        const cell = r.el.querySelector(".state-text");
        if (cell) cell.textContent = stateText(r.row, now);
        if (!isUnlocked(r.row, now)) void route();
      }
    });
  }
  if (filters.query) search.focus();
}

function cssId(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]/g, "_");
}

/** "Name account": a small dialog that names (or forgets the name of) an
 *  AWS account, shown with its ID wherever the account appears. */
function aliasButton(account: string, alias: string | null, general: HTMLElement): HTMLElement {
  const button = h("button", { type: "button", class: "small", "data-action": "alias", "data-account": account, "aria-label": `${alias ? "Rename" : "Name"} account ${account}` }, alias ? "Rename account" : "Name account");
  button.onclick = () => {
    const errors = h("div", { id: "alias-general" });
    const save = h("button", { id: "alias-save", type: "submit", class: "primary" }, "Save");
    const forget = h("button", { id: "alias-remove", type: "button" }, "Remove name");
    forget.hidden = alias === null;
    const cancel = h("button", { id: "alias-cancel", type: "button" }, "Cancel");
    const form = h(
      "form",
      { id: "alias-form", method: "dialog", novalidate: true },
      h("p", { class: "muted" }, `A name for account ${account}, shown with its ID here and in the filters. Kept in config.toml; not sent to AWS.`),
      field("account_alias", "Account name", { hint: "1–64 letters, digits, spaces and -_." }),
      errors,
      h("div", { class: "row" }, save, forget, cancel),
    );
    const dialog = modal("alias-dialog", `Name account ${account}`, form);
    (document.getElementById("account_alias") as HTMLInputElement).value = alias ?? "";
    cancel.onclick = () => dialog.close();
    const submit = async (name: string | null) => {
      clearErrors(form);
      try {
        await call("set_account_alias", { account, alias: name });
        dialog.close();
        flash(name ? `Account ${account} is now called ${name}.` : `Account ${account} has no name now.`);
        await route();
      } catch (e) {
        showError(toApiError(e), ["account_alias"], errors);
      }
    };
    form.onsubmit = (ev) => {
      ev.preventDefault();
      void submit(value("account_alias").trim() || null);
    };
    forget.onclick = () => void submit(null);
    (document.getElementById("account_alias") as HTMLInputElement).focus();
    general.replaceChildren();
  };
  return button;
}

/** One profile's row and its actions. */
function profileRow(row: ProfileRow, general: HTMLElement): HTMLElement {
  const unlocked = isUnlocked(row);
  const fail = (e: unknown) => general.replaceChildren(notice(toApiError(e).message, "bad"));
  const toggle = h("button", { type: "button", class: unlocked ? "small" : "small primary", "data-action": unlocked ? "lock" : "unlock", "aria-label": `${unlocked ? "Lock" : "Unlock"} ${row.name}` }, unlocked ? "Lock" : "Unlock");
  toggle.onclick = async () => {
    try {
      if (unlocked) {
        await call("lock", { profile: row.name });
      } else if ((await unlockDialog(row)) === null) {
        return;
      }
      await route();
    } catch (e) {
      fail(e);
    }
  };
  const use = h("button", { type: "button", class: "small", "data-action": "use", "aria-label": `Make default: ${row.name}` }, "Make default");
  use.hidden = row.isDefault;
  use.onclick = async () => {
    try {
      if (await makeDefault(row.name)) await route();
    } catch (e) {
      fail(e);
    }
  };
  const consoleButton = h("button", { type: "button", class: "small", "data-action": "console", "aria-label": `Open the AWS console as ${row.name}` }, "Console");
  consoleButton.onclick = async () => {
    try {
      general.replaceChildren(notice(`Opening the AWS console as ${row.name} in your browser…`));
      if (await openConsole(row)) {
        // A session may have been made for it: show the row's new state.
        flash(`The AWS console opened in your browser as ${row.name}.`);
        await route();
      } else {
        general.replaceChildren();
      }
    } catch (e) {
      fail(e);
    }
  };
  const lines = exportLines(row);
  const copySource = h("code", { class: "sr-only" }, lines);
  const copy = h("button", { type: "button", class: "small", "data-action": "copy", "aria-label": `Copy export lines for ${row.name}`, title: lines }, "Copy export");
  copy.onclick = async () => {
    const ok = await copyText(lines, copySource);
    general.replaceChildren(notice(ok ? `Copied: ${lines.replace(/\n/g, "; ")}` : "Copy failed: select the lines and press Ctrl+C.", ok ? "good" : "bad"));
  };
  return h(
    "tr",
    { "data-profile": row.name, "data-state": unlocked ? "unlocked" : "locked", "data-default": String(row.isDefault) },
    h("th", { scope: "row" }, h("span", { class: "profile-name" }, row.name), row.isDefault ? h("span", { class: "tag tag-default" }, "default") : null, row.mfa ? h("span", { class: "tag" }, "MFA") : null),
    h("td", { class: "account mono" }, accountLabel(row.account, row.alias)),
    h("td", { class: "role" }, row.role ?? "—"),
    h("td", { class: "region" }, row.region ?? "—"),
    h("td", { class: `state ${unlocked ? "state-unlocked" : "state-locked"}` }, h("span", { class: "dot", "aria-hidden": "true" }), h("span", { class: "state-text" }, stateText(row))),
    h("td", { class: "actions" }, toggle, use, consoleButton, copy, copySource),
  );
}

/** No identity yet: what keyfob does, AWS's advice, then the add flow. */
function firstRun(): void {
  main.append(
    h(
      "section",
      { class: "first-run card", id: "first-run", "aria-labelledby": "first-run-title" },
      h("h2", { id: "first-run-title" }, "Welcome to keyfob"),
      h(
        "p",
        {},
        "keyfob keeps an IAM user's access key in your system keychain, sealed behind a PIN, and gives the AWS CLI and SDKs only short-lived STS sessions through credential_process. Switch the default profile here, from the tray, or with the quick switcher (Ctrl+K).",
      ),
      h(
        "div",
        { class: "advice", role: "note", "aria-label": "AWS's advice" },
        h("h3", {}, "Before you add a long-term key"),
        h("p", {}, "AWS recommends temporary credentials over long-term access keys wherever you can use them:"),
        h(
          "ul",
          {},
          h("li", {}, "people: sign in through IAM Identity Center (aws sso login) or your identity provider;"),
          h("li", {}, "workloads on AWS: IAM roles for EC2, ECS, Lambda and EKS;"),
          h("li", {}, "workloads outside AWS: IAM Roles Anywhere."),
        ),
        h("p", {}, "If you do need an IAM user's access key, never use the root user's, rotate it every 90 days, and let keyfob keep it sealed."),
      ),
      h(
        "div",
        { class: "row" },
        h("a", { href: "#/add-sso", class: "button primary", id: "first-run-add-sso" }, "Sign in to Identity Center"),
        h("a", { href: "#/add", class: "button", id: "first-run-add" }, "Add an access key"),
      ),
    ),
  );
}
