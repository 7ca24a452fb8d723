// Pure helpers the screens use, kept apart from the DOM so vitest can
// check them.
import type { ApiError } from "./api";

/** Whole seconds as "1 h 05 min", "4 min 09 s" or "42 s". */
export function formatCountdown(totalSecs: number): string {
  const s = Math.max(0, Math.floor(totalSecs));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  if (h > 0) return `${h} h ${pad(m)} min`;
  if (m > 0) return `${m} min ${pad(sec)} s`;
  return `${sec} s`;
}

/** Seconds from `now` until an RFC 3339 time (negative once past). */
export function secondsUntil(rfc3339: string, now: Date = new Date()): number {
  return Math.floor((Date.parse(rfc3339) - now.getTime()) / 1000);
}

/** Where to show an error: next to one of `fields` when it names one of
 *  them, else in the form's general message. Messages from the library
 *  start with the field's label ("secret access key: must be 40
 *  characters"); next to the field that label is redundant. */
export function placeError(
  err: ApiError,
  fields: readonly string[],
): { field: string | null; text: string } {
  if (err.field && fields.includes(err.field)) {
    const colon = err.message.indexOf(": ");
    const text =
      err.kind === "field" && colon > 0 && colon < 30 ? err.message.slice(colon + 2) : err.message;
    return { field: err.field, text };
  }
  return { field: null, text: err.message };
}

/** The `YYYY-MM-DD` part of an RFC 3339 time. */
export function day(rfc3339: string): string {
  return rfc3339.slice(0, 10);
}

/** `#/keys/alice` → { screen: "keys", arg: "alice" }; the argument is
 *  URI-decoded (identity names may hold characters a hash would escape). */
export function parseRoute(hash: string): { screen: string; arg: string | null } {
  const path = hash.replace(/^#\/?/, "");
  const slash = path.indexOf("/");
  if (slash < 0) return { screen: path || "home", arg: null };
  const rest = path.slice(slash + 1);
  let arg: string | null = null;
  try {
    arg = rest ? decodeURIComponent(rest) : null;
  } catch {
    arg = rest;
  }
  return { screen: path.slice(0, slash) || "home", arg };
}

/** The hash of a screen about one identity. */
export function routeTo(screen: string, arg: string): string {
  return `#/${screen}/${encodeURIComponent(arg)}`;
}

/** The external-ID guard's verdict as the profiles table shows it. */
export function guardText(guard: string): string {
  switch (guard) {
    case "guarded":
      return "guarded";
    case "unguarded":
      return "unguarded";
    case "unchecked":
      return "unchecked";
    default:
      return "—";
  }
}

/** A key's last use, as `keyfob keys` prints it: "never", or
 *  "2025-05-01 (s3 in eu-west-1)". */
export function lastUsedText(k: {
  last_used: string | null;
  last_used_service: string | null;
  last_used_region: string | null;
}): string {
  if (!k.last_used) return "never";
  return `${day(k.last_used)} (${k.last_used_service ?? "unknown service"} in ${k.last_used_region ?? "unknown region"})`;
}

/** The rotation wizard's buttons for where a rotation stands: start when
 *  none is in progress, else continue (the next step) and roll back. */
export function rotationActions(inProgress: boolean): ("start" | "continue" | "rollback")[] {
  return inProgress ? ["continue", "rollback"] : ["start"];
}

/** The step the wizard highlights: the first not done, or null when all
 *  listed steps are done. */
export function currentStep(steps: { number: number; done: boolean }[], inProgress: boolean): number | null {
  if (!inProgress) return null;
  return steps.find((s) => !s.done)?.number ?? null;
}

/** The ARN column of the Identities table: the ARN AWS reported, or
 *  "(not verified)" for keys STS never saw, and a warning for root's. */
export function identityArnText(i: { arn: string | null; verified: boolean; root: boolean }): string {
  return (i.arn ?? (i.verified ? "" : "(not verified)")) + (i.root ? " (root!)" : "");
}

/** The Role column of the Profiles table. */
export function profileRoleText(p: { role_arn: string | null; external_id: string | null }): string {
  return p.role_arn ? `${p.role_arn}${p.external_id ? " (external ID)" : ""}` : "—";
}

/** What the identity page says once a profile is saved, by the guard's
 *  verdict on it. */
export function savedProfileNotice(stored: { name: string; guard: string }): { text: string; kind: "good" | "bad" } {
  return stored.guard === "guarded"
    ? { text: `Profile ${stored.name} saved. Guarded: its role refuses AssumeRole without the external ID.`, kind: "good" }
    : stored.guard === "unguarded"
      ? { text: `Profile ${stored.name} saved, marked unguarded: its role can be assumed without the external ID.`, kind: "bad" }
      : { text: `Profile ${stored.name} saved.`, kind: "good" };
}

/** A session's time left, or "expired" once it is past. */
export function sessionLeftText(secs: number): string {
  return secs > 0 ? formatCountdown(secs) : "expired";
}

/** The line under a generated external ID: to whom it was issued. */
export function externalIdNote(v: { customer: string | null; new: boolean; issued_at: string | null }): string {
  return v.customer
    ? v.new
      ? `Issued to ${v.customer} and recorded: it will not be given to anyone else.`
      : `${v.customer} already has this ID (issued ${day(v.issued_at ?? "")}).`
    : "Not recorded: name a customer to keep track of who has which ID.";
}

/** The rotation wizard's one-line summary of where a rotation stands. */
export function rotationSummary(s: {
  in_progress: boolean;
  old_key: string | null;
  new_key: string | null;
  vault_key: string;
}): string {
  return s.in_progress
    ? `Rotating ${s.old_key ?? "?"} → ${s.new_key ?? "(being created)"}; the vault uses ${s.vault_key}.`
    : `No rotation in progress; the vault uses ${s.vault_key}.`;
}

/** How the wizard lists one step: its class, its mark, and whether it is
 *  the current one (`current` from currentStep). */
export function stepView(
  st: { number: number; done: boolean },
  current: number | null,
): { cls: "done" | "current" | ""; mark: "✓" | "→" | "·"; isCurrent: boolean } {
  const isCurrent = st.number === current;
  return {
    cls: st.done ? "done" : isCurrent ? "current" : "",
    mark: st.done ? "✓" : isCurrent ? "→" : "·",
    isCurrent,
  };
}

// ------------------------------------------------------------ main view

/** An account as shown: its name and ID (`prod (123456789012)`), or the ID. */
export function accountLabel(account: string | null, alias: string | null): string {
  if (!account) return "unknown";
  return alias ? `${alias} (${account})` : account;
}

/** What a profile's row in the main view shows about it. */
export interface ProfileRow {
  name: string;
  identity: string;
  /** The account it reaches: the role's, else its identity's. */
  account: string | null;
  /** The name the person gave that account (`keyfob alias`), if any. */
  alias: string | null;
  /** The role's name (`deployer` of `arn:aws:iam::…:role/deployer`). */
  role: string | null;
  region: string | null;
  mfa: boolean;
  isDefault: boolean;
  /** RFC 3339, while a session is cached. */
  expiresAt: string | null;
}

export type StateFilter = "all" | "unlocked" | "locked" | "default";

/** The main view's rows, grouped by identity in the order the identities
 *  are listed (profiles sorted by name within each). */
export function groupRows(
  identities: { name: string; account: string | null; start_url?: string }[],
  profiles: {
    name: string;
    identity: string;
    role_arn: string | null;
    role_account: string | null;
    region: string | null;
    mfa_serial: string | null;
    is_default: boolean;
    /** An Identity Center profile's role (permission set). */
    sso_role?: string | null;
  }[],
  sessions: { profile: string; expires_at: string }[],
  aliases: Record<string, string> = {},
): { identity: string; account: string | null; alias: string | null; startUrl: string | null; rows: ProfileRow[] }[] {
  const expiry = new Map(sessions.map((s) => [s.profile, s.expires_at]));
  const names = identities.map((i) => i.name);
  // Profiles of an identity the list does not know (not expected) still show.
  for (const p of profiles) if (!names.includes(p.identity)) names.push(p.identity);
  return names.map((name) => {
    const account = identities.find((i) => i.name === name)?.account ?? null;
    const rows = profiles
      .filter((p) => p.identity === name)
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((p) => ({
        name: p.name,
        identity: p.identity,
        account: p.role_account ?? account,
        alias: aliases[p.role_account ?? account ?? ""] ?? null,
        role: p.role_arn ? roleName(p.role_arn) : (p.sso_role ?? null),
        region: p.region,
        mfa: p.mfa_serial !== null,
        isDefault: p.is_default,
        expiresAt: expiry.get(p.name) ?? null,
      }));
    const startUrl = identities.find((i) => i.name === name)?.start_url ?? null;
    return { identity: name, account, alias: aliases[account ?? ""] ?? null, startUrl, rows };
  });
}

/** `arn:aws:iam::123456789012:role/path/deployer` → `deployer`. */
export function roleName(arn: string): string {
  const slash = arn.lastIndexOf("/");
  return slash >= 0 ? arn.slice(slash + 1) : arn;
}

/** Whether a row is unlocked at `now`. */
export function isUnlocked(row: ProfileRow, now: Date = new Date()): boolean {
  return row.expiresAt !== null && secondsUntil(row.expiresAt, now) > 0;
}

/** Whether a row passes the search box and the two filters: every word
 *  of `query` must appear (case-insensitively) in the profile's name,
 *  identity, account, role or region. */
export function rowMatches(
  row: ProfileRow,
  query: string,
  account: string,
  state: StateFilter,
  now: Date = new Date(),
): boolean {
  if (account && row.account !== account) return false;
  if (state === "unlocked" && !isUnlocked(row, now)) return false;
  if (state === "locked" && isUnlocked(row, now)) return false;
  if (state === "default" && !row.isDefault) return false;
  const hay = [row.name, row.identity, row.account ?? "", row.alias ?? "", row.role ?? "", row.region ?? ""].join(" ").toLowerCase();
  return query
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w)
    .every((w) => hay.includes(w));
}

/** The state column: "Locked", or "Unlocked" and the time left. */
export function stateText(row: ProfileRow, now: Date = new Date()): string {
  return isUnlocked(row, now) ? `Unlocked · ${formatCountdown(secondsUntil(row.expiresAt as string, now))} left` : "Locked";
}

/** POSIX shell single quotes, when a value needs them. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_.@%+=:,/-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The lines "copy export lines" puts on the clipboard: the profile by
 *  name (its credential_process line fetches the session), never a
 *  credential. */
export function exportLines(row: { name: string; region: string | null }): string {
  const lines = [`export AWS_PROFILE=${shellQuote(row.name)}`];
  if (row.region) lines.push(`export AWS_REGION=${shellQuote(row.region)}`);
  return lines.join("\n");
}

// ----------------------------------------------------------- quick switch

/** The quick switcher's matches for what was typed, best first: names
 *  that start with it, then names that contain it, then names that hold
 *  its letters in order (`dpl` finds `deploy`); an empty query lists all. */
export function rankProfiles(names: string[], query: string): string[] {
  const q = query.trim().toLowerCase();
  if (!q) return [...names];
  const score = (name: string): number => {
    const n = name.toLowerCase();
    if (n === q) return 0;
    if (n.startsWith(q)) return 1;
    if (n.includes(q)) return 2;
    let i = 0;
    for (const c of n) if (c === q[i]) i++;
    return i === q.length ? 3 : -1;
  };
  return names
    .map((n) => ({ n, s: score(n) }))
    .filter((x) => x.s >= 0)
    .sort((a, b) => a.s - b.s || a.n.localeCompare(b.n))
    .map((x) => x.n);
}

/** The theme setting as stored (localStorage): system unless light or dark. */
export function themeChoice(v: string | null): "system" | "light" | "dark" {
  return v === "light" || v === "dark" ? v : "system";
}

// ------------------------------------------------------ Identity Center

/** An Identity Center identity's sign-in, as its page states it. */
export function signInStateText(i: { signed_in_at: string; expired: boolean; held: boolean }): string {
  if (i.expired) return `expired — sign in again (last signed in ${day(i.signed_in_at)})`;
  return i.held ? `signed in ${day(i.signed_in_at)}; held by this app (no PIN needed for its profiles)` : `signed in ${day(i.signed_in_at)}; the PIN opens it`;
}

/** A sync report's one line, as `keyfob sso sync` ends. */
export function syncSummary(r: { identity: string; accounts: number; assignments: number; dry_run: boolean; changes: { kind: string }[] }): string {
  const n = (k: string) => r.changes.filter((c) => c.kind === k).length;
  const would = r.dry_run ? "would be " : "";
  return `${r.dry_run ? "Preview of the sync of" : "Synced"} ${r.identity}: ${r.accounts} account(s), ${r.assignments} role(s); ${n("created")} ${would}created, ${n("updated")} ${would}updated, ${n("unchanged")} unchanged, ${n("renamed")} renamed, ${n("removed")} no longer assigned, ${n("conflict")} skipped.`;
}

// ------------------------------------------------------ TPM at add

/** The add form's TPM choices, as `keyfob add --tpm` takes them. */
export const TPM_CHOICES: readonly (readonly [string, string])[] = [
  ["prefer", "Bind it to this machine's TPM where one answers"],
  ["require", "Bind it to this machine's TPM, or do not add it"],
  ["off", "The PIN alone, no TPM"],
];

/** The TPM choice to preselect: the setting's, else keyfob's default. */
export function tpmPreselect(setting: string): string {
  return TPM_CHOICES.some(([v]) => v === setting) ? setting : "prefer";
}

/** What declining a recovery code means, said where it is offered. */
export function noRecoveryText(tpm: string): string {
  return tpm === "off"
    ? "No recovery code: under the PIN alone the key opens anywhere with its PIN."
    : "Without a recovery code, a cleared TPM or a new machine loses this key: keep the access key somewhere else too.";
}

/** The lines shown with a recovery code, the one time it is shown. */
export function recoveryCodeText(name: string): string[] {
  return [
    "Store it now, away from this machine: it is shown only this once, and keyfob keeps no copy.",
    `It opens ${name} without the TPM, should the TPM be cleared or the machine replaced: keyfob reseal ${name} --tpm off --recovery`,
  ];
}
