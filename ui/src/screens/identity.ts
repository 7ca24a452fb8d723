// An identity's own page (`#/identity/NAME`): its details and audit
// badges, its profiles (edit, remove, add), its access keys and the
// rotation wizard, and removing it.
import { call, toApiError } from "../api";
import type { IdentityView, ProfileView, SsoIdentityView, SyncReportView } from "../api";
import { clearErrors, field, flash, h, main, notice, route, secret, showError, takeFlash, value } from "../dom";
import { signInAgainDialog, withSignIn } from "../sign-in";
import { day, guardText, identityArnText, profileRoleText, routeTo, signInStateText, syncSummary } from "../logic";
import { keysSection } from "./keys";
import { rotationSection } from "./rotation";

export async function identityScreen(arg: string | null): Promise<void> {
  const [identities, profiles, ssoIdentities] = await Promise.all([call("list_identities"), call("list_profiles"), call("list_sso_identities")]);
  const i = identities.find((x) => x.name === arg);
  main.append(h("a", { href: "#/", class: "back", id: "back-home" }, "← All profiles"));
  const sso = ssoIdentities.find((x) => x.name === arg);
  if (!i && sso?.kind === "aws-sign-in") {
    loginIdentityPage(sso, profiles.filter((p) => p.identity === sso.name));
    return;
  }
  if (!i && sso) {
    ssoIdentityPage(sso, profiles.filter((p) => p.identity === sso.name));
    return;
  }
  if (!i) {
    main.append(h("h2", {}, "Identity"), notice(`There is no identity ${arg ?? ""}.`, "bad"));
    return;
  }
  const general = h("div", { id: "identity-general" }, takeFlash("identity"));
  main.append(
    h("h2", { id: "identity-title" }, i.name),
    general,
    details(i),
    profilesSection(i, profiles.filter((p) => p.identity === i.name), general),
    keysSection(i.name),
    await rotationSection(i.name),
    removeSection(i, general),
  );
}

function details(i: IdentityView): HTMLElement {
  const item = (label: string, value: Node | string, cls = "") => [h("dt", {}, label), h("dd", { class: cls }, value)];
  return h(
    "section",
    { class: "card", id: "identity-details", "aria-labelledby": "details-title", "data-identity": i.name },
    h("h3", { id: "details-title" }, "Details"),
    h(
      "dl",
      { class: "details" },
      ...item("Account", i.account ?? "unknown", "account"),
      ...item("ARN", identityArnText(i), "mono arn"),
      ...item("Access key", i.access_key_id, "mono"),
      ...item("Added", day(i.added_at)),
      ...item("Key age", i.key_age, i.key_old ? "age-old" : "age-ok"),
      ...item("Protection", i.protection, "protection"),
    ),
    i.badges.length ? h("div", { class: "badges", id: "identity-badges" }, ...i.badges.map((b) => badge(b.kind, b.label, b.text))) : null,
  );
}

function profilesSection(i: { name: string }, profiles: ProfileView[], general: HTMLElement): HTMLElement {
  const add = h("a", { href: routeTo("new-profile", i.name), class: "button primary", id: "new-profile" }, "New profile");
  const body = h("tbody");
  for (const p of profiles) {
    const remove = h("button", { type: "button", "aria-label": `Remove profile ${p.name}` }, "Remove");
    remove.onclick = async () => {
      if (!confirm(`Remove profile ${p.name}?`)) return;
      try {
        await call("remove_profile", { name: p.name });
        void route();
      } catch (e) {
        general.replaceChildren(notice(toApiError(e).message, "bad"));
      }
    };
    body.append(
      h(
        "tr",
        { "data-profile": p.name },
        h("th", { scope: "row" }, p.name, p.is_default ? h("span", { class: "tag tag-default" }, "default") : null),
        h("td", { class: "mono" }, p.sso_role ? `${p.sso_role} in ${p.role_account ?? "?"}` : profileRoleText(p)),
        h("td", { class: `guard guard-${p.guard}`, "data-guard": p.guard }, guardText(p.guard)),
        h("td", { class: "mono" }, p.mfa_serial ?? "—"),
        h("td", {}, p.duration),
        h("td", {}, p.region ?? "—"),
        h(
          "td",
          { class: "actions" },
          h("a", { href: routeTo("edit-profile", p.name), class: "button", "aria-label": `Edit profile ${p.name}` }, "Edit"),
          remove,
        ),
      ),
    );
  }
  return h(
    "section",
    { class: "card", id: "identity-profiles", "aria-labelledby": "profiles-title" },
    h("div", { class: "section-head" }, h("h3", { id: "profiles-title" }, "Profiles"), add),
    profiles.length
      ? h(
          "table",
          { id: "profiles" },
          h("caption", { class: "sr-only" }, `Profiles of ${i.name}`),
          h("thead", {}, h("tr", {}, ...["Name", "Role", "External-ID guard", "MFA", "Duration", "Region", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
          body,
        )
      : h("p", { class: "muted" }, "No profiles."),
  );
}

function removeSection(i: IdentityView, general: HTMLElement): HTMLElement {
  const b = h("button", { type: "button", class: "danger", id: "remove-identity" }, `Remove identity ${i.name}`);
  b.onclick = async () => {
    if (!confirm(`Remove identity ${i.name} and its profiles? Its sealed key is deleted.`)) return;
    try {
      await call("remove_identity", { name: i.name });
      location.hash = "#/";
    } catch (e) {
      general.replaceChildren(notice(toApiError(e).message, "bad"));
    }
  };
  return h(
    "section",
    { class: "card", "aria-labelledby": "remove-title" },
    h("h3", { id: "remove-title" }, "Remove"),
    h("p", { class: "muted" }, "Deletes the sealed key and the identity's profiles from keyfob. The key itself stays active in IAM until you deactivate it."),
    b,
  );
}

/** An audit finding: a short label, its explanation for screen readers and
 *  on hover; focusable so the keyboard reaches the explanation too. */
export function badge(kind: string, label: string, text: string): HTMLElement {
  return h(
    "span",
    { class: `badge badge-${kind}`, "data-badge": kind, title: text, tabindex: "0", role: "note", "aria-label": `${label}: ${text}` },
    label,
  );
}

// ------------------------------------------------------ Identity Center

/** An Identity Center identity's page: where it signs in, whether its
 *  sign-in holds, Sign in again, the sync of its accounts and roles
 *  (preview, then apply), its profiles, and Remove. */
function ssoIdentityPage(i: SsoIdentityView, profiles: ProfileView[]): void {
  const general = h("div", { id: "identity-general", "aria-live": "polite" }, takeFlash("identity"));
  const item = (label: string, v: Node | string, cls = "") => [h("dt", {}, label), h("dd", { class: cls }, v)];
  const again = h("button", { type: "button", id: "sso-login" }, "Sign in again");
  again.onclick = async () => {
    try {
      const signed = await signInAgainDialog(i.name, { reason: `Sign ${i.name} in to ${i.start_url} again.` });
      if (signed) {
        flash(`Signed in ${i.name} again.`, "good", "identity");
        await route();
      }
    } catch (e) {
      general.replaceChildren(notice(toApiError(e).message, "bad"));
    }
  };
  main.append(
    h("h2", { id: "identity-title" }, i.name),
    general,
    h(
      "section",
      { class: "card", id: "identity-details", "aria-labelledby": "details-title", "data-identity": i.name, "data-sso": "true" },
      h("h3", { id: "details-title" }, "IAM Identity Center"),
      h(
        "dl",
        { class: "details" },
        ...item("Start URL", i.start_url, "mono start-url"),
        ...item("Region", i.region, "region"),
        ...item("Scopes", i.scopes.join(", "), "mono"),
        ...item("Added", day(i.added_at)),
        ...item("Sign-in", h("span", { id: "sign-in-state", "data-expired": String(i.expired) }, signInStateText(i)), i.expired ? "age-old" : "age-ok"),
      ),
      h("div", { class: "row" }, again),
    ),
    syncSection(i),
    profilesSection(i, profiles, general),
    ssoRemoveSection(i, profiles.length, general),
  );
}

/** An AWS sign-in (`aws login`'s kind): who signed in, sign in again (on
 *  this machine or another device), sign out (ended at AWS), its profile,
 *  remove. */
function loginIdentityPage(i: SsoIdentityView, profiles: ProfileView[]): void {
  const general = h("div", { id: "identity-general", "aria-live": "polite" }, takeFlash("identity"));
  const item = (label: string, v: Node | string, cls = "") => [h("dt", {}, label), h("dd", { class: cls }, v)];
  const pinField = field("login_pin", "PIN", { type: "password", autocomplete: "current-password" });
  const remote = h("input", { id: "login_remote", type: "checkbox" }) as HTMLInputElement;
  const again = h("button", { type: "button", id: "login-again" }, "Sign in again");
  const out = h("button", { type: "button", id: "login-logout", class: "danger" }, "Sign out");
  const busy = (on: boolean) => {
    again.disabled = on;
    out.disabled = on;
  };
  again.onclick = async () => {
    general.replaceChildren();
    busy(true);
    try {
      const pin = secret("login_pin");
      const signed = await withSignIn(i.name, (flow) => call("login_again", { identity: i.name, form: { pin, mfa_code: null }, flow, remote: remote.checked, unlock: null, prompt: null }));
      if (signed === null) {
        general.replaceChildren(notice("Sign-in cancelled; nothing changed."));
        return;
      }
      flash(`Signed in ${i.name} again.`, "good", "identity");
      await route();
    } catch (e) {
      const err = toApiError(e);
      showError(err, ["pin"], general, "login_");
    } finally {
      busy(false);
    }
  };
  out.onclick = async () => {
    general.replaceChildren();
    busy(true);
    try {
      const said = await call("login_logout", { identity: i.name, form: { pin: secret("login_pin"), mfa_code: null } });
      flash(said, "good", "identity");
      await route();
    } catch (e) {
      showError(toApiError(e), ["pin"], general, "login_");
    } finally {
      busy(false);
    }
  };
  main.append(
    h("h2", { id: "identity-title" }, i.name),
    general,
    h(
      "section",
      { class: "card", id: "identity-details", "aria-labelledby": "details-title", "data-identity": i.name, "data-kind": i.kind },
      h("h3", { id: "details-title" }, "AWS sign-in"),
      h(
        "dl",
        { class: "details" },
        ...item("Signed in as", i.principal ?? "?", "mono principal"),
        ...item("Region", i.region, "region"),
        ...item("Sign-in endpoint", i.start_url, "mono"),
        ...item("Added", day(i.added_at)),
        ...item("Sign-in", h("span", { id: "sign-in-state", "data-expired": String(i.expired) }, signInStateText(i)), i.expired ? "age-old" : "age-ok"),
      ),
      h("p", { class: "muted" }, "Its credentials last 15 minutes and are renewed for up to 12 hours; then sign in again."),
      pinField,
      h("p", { class: "check" }, remote, h("label", { for: "login_remote" }, "Sign in on another device")),
      h("div", { class: "row" }, again, out),
    ),
    profilesSection(i, profiles, general),
    ssoRemoveSection(i, profiles.length, general),
  );
}

function syncSection(i: SsoIdentityView): HTMLElement {
  const errors = h("div", { id: "sync-general", "aria-live": "polite" });
  const report = h("div", { id: "sync-report" });
  const preview = h("button", { type: "submit", id: "sync-preview", class: "primary" }, "Preview changes");
  const apply = h("button", { type: "button", id: "sync-apply" }, "Apply");
  apply.hidden = true;
  const form = h(
    "form",
    { id: "sync-form", novalidate: true },
    field("template", "Profile names", { value: "{account_name}-{role_name}", hint: "placeholders {account_name}, {account_id}, {role_name}, {identity}" }),
    field("sync_pin", "PIN", { type: "password", autocomplete: "current-password", hint: "opens the sealed sign-in for the listing; asked again to apply" }),
    errors,
    h("div", { class: "row" }, preview, apply),
    report,
  );
  const run = async (dryRun: boolean) => {
    clearErrors(form);
    errors.replaceChildren();
    const pin = secret("sync_pin");
    const template = value("template");
    preview.disabled = apply.disabled = true;
    errors.replaceChildren(notice(dryRun ? "Listing accounts and roles…" : "Syncing…"));
    try {
      const r = await call("sso_sync", { identity: i.name, template, dryRun, form: { pin, mfa_code: null } });
      errors.replaceChildren();
      if (dryRun) {
        report.replaceChildren(reportTable(r));
        apply.hidden = false;
        errors.replaceChildren(notice("Type the PIN again and choose Apply to make these changes."));
        (document.getElementById("sync_pin") as HTMLInputElement).focus();
      } else {
        flash(syncSummary(r), "good", "identity");
        await route();
      }
    } catch (e) {
      errors.replaceChildren();
      const err = toApiError(e);
      if (err.kind === "sign_in") {
        const signed = await signInAgainDialog(i.name);
        errors.replaceChildren(notice(signed ? "Signed in again: type the PIN and preview again." : err.message, signed ? "good" : "bad"));
      } else {
        if (err.field === "pin") showError(err, ["pin"], errors, "sync_");
        else showError(err, ["template"], errors);
      }
    } finally {
      preview.disabled = apply.disabled = false;
    }
  };
  form.onsubmit = (ev) => {
    ev.preventDefault();
    void run(true);
  };
  apply.onclick = () => void run(false);
  return h(
    "section",
    { class: "card", id: "sso-sync", "aria-labelledby": "sync-title" },
    h("h3", { id: "sync-title" }, "Sync accounts and roles"),
    h("p", { class: "muted" }, "One profile per account and role you may use. Renamed accounts and removed assignments are reported, never deleted."),
    form,
  );
}

function reportTable(r: SyncReportView): HTMLElement {
  const label: Record<string, string> = { created: "new", updated: "updated", unchanged: "unchanged", renamed: "renamed", removed: "removed", conflict: "skipped" };
  const shown = r.changes.filter((c) => c.kind !== "unchanged");
  return h(
    "div",
    { class: "sync-report", "data-dry-run": String(r.dry_run) },
    h("p", { id: "sync-summary" }, syncSummary(r)),
    shown.length
      ? h(
          "table",
          { id: "sync-changes" },
          h("caption", { class: "sr-only" }, `Changes a sync of ${r.identity} would make`),
          h("thead", {}, h("tr", {}, ...["Change", "Profile", "Details"].map((t) => h("th", { scope: "col" }, t)))),
          h(
            "tbody",
            {},
            ...shown.map((c) =>
              h(
                "tr",
                { "data-change": c.kind, "data-profile": c.profile },
                h("td", {}, h("span", { class: `tag change-${c.kind}` }, label[c.kind] ?? c.kind)),
                h("th", { scope: "row" }, c.profile),
                h("td", {}, c.text),
              ),
            ),
          ),
        )
      : h("p", { class: "muted" }, "Nothing to change."),
  );
}

function ssoRemoveSection(i: SsoIdentityView, count: number, general: HTMLElement): HTMLElement {
  const b = h("button", { type: "button", class: "danger", id: "remove-identity" }, `Remove identity ${i.name}`);
  b.onclick = async () => {
    const kind = i.kind === "aws-sign-in" ? "AWS sign-in" : "Identity Center";
    if (!confirm(`Remove ${kind} identity ${i.name} and its ${count} profile(s)? Its sealed sign-in is deleted.`)) return;
    try {
      const gone = await call("remove_sso_identity", { name: i.name });
      flash(`Removed ${i.name} and ${gone.length} profile(s).`);
      location.hash = "#/";
    } catch (e) {
      general.replaceChildren(notice(toApiError(e).message, "bad"));
    }
  };
  return h(
    "section",
    { class: "card", "aria-labelledby": "remove-title" },
    h("h3", { id: "remove-title" }, "Remove"),
    h("p", { class: "muted" }, "Deletes the sealed sign-in and the identity's profiles (and their AWS config sections) from keyfob. Your access at AWS is not changed."),
    b,
  );
}
