// What the approval prompt, the Approvals screen and the Access log page
// compute, without the DOM (tested in test/access.test.ts): the answers a
// prompt offers, how long an approval holds in words, the rules
// explained, and the log's filters and timelines.
import type { AccessView, ApprovalAnswer, HoldsView, OutcomeView, RuleChoice } from "./api";

/** The durations an approval "for a while" offers (the library takes
 *  1 minute to 30 days). */
export const DURATIONS: readonly { value: string; label: string; secs: number }[] = [
  { value: "1h", label: "1 hour", secs: 3600 },
  { value: "8h", label: "8 hours", secs: 8 * 3600 },
  { value: "24h", label: "24 hours", secs: 24 * 3600 },
];

/** The answer for a duration chosen by its value (`8h`); 1 hour when the
 *  value is none of them. */
export function forAWhile(value: string): ApprovalAnswer {
  const d = DURATIONS.find((x) => x.value === value) ?? DURATIONS[0];
  return { answer: "for", secs: d.secs };
}

/** The three rules, as the screen names and explains them. */
export const RULES: Record<RuleChoice, { label: string; explain: string }> = {
  off: {
    label: "Off",
    explain: "Any program of yours gets an unlocked profile's session without a question (how keyfob worked before approvals).",
  },
  new_programs: {
    label: "New programs",
    explain: "A program that has not had the profile yet is asked about once; your answer holds once, until lock, or for a while.",
  },
  every_time: {
    label: "Every time",
    explain: "Every request is asked about, except programs approved for scripts with keyfob approvals add.",
  },
};

export const RULE_ORDER: readonly RuleChoice[] = ["off", "new_programs", "every_time"];

/** "2 h 05 min", "12 min", "3 days 4 h" for a span in seconds. */
export function spanText(secs: number): string {
  const s = Math.max(0, Math.floor(secs));
  const days = Math.floor(s / 86400);
  const hours = Math.floor((s % 86400) / 3600);
  const mins = Math.floor((s % 3600) / 60);
  if (days > 0) return hours ? `${days} day${days > 1 ? "s" : ""} ${hours} h` : `${days} day${days > 1 ? "s" : ""}`;
  if (hours > 0) return `${hours} h ${String(mins).padStart(2, "0")} min`;
  return `${Math.max(mins, s > 0 ? 1 : 0)} min`;
}

/** How long an approval holds, in words, at `now`. */
export function holdsText(h: HoldsView, now: Date): string {
  switch (h.holds) {
    case "until_lock":
      return "until the profile is locked";
    case "always":
      return "until revoked (approved for scripts)";
    case "until": {
      const left = (Date.parse(h.at) - now.getTime()) / 1000;
      return left > 0 ? `for ${spanText(left)} more` : "ran out";
    }
  }
}

/** Who asked, besides the program: pid, parents, working directory. */
export function requesterText(e: { pid: number; parents: string[]; cwd: string | null }): string {
  let text = `pid ${e.pid}`;
  if (e.parents.length) text += `, started by ${e.parents.join(" ← ")}`;
  if (e.cwd) text += `, in ${e.cwd}`;
  return text;
}

export interface LogFilter {
  profile: string;
  program: string;
}

/** When an entry was, in local time: "today 07:56:44", else with its
 *  date ("2026-12-03 07:56:44"). */
export function whenText(at: string, now: Date): string {
  const t = new Date(at);
  if (Number.isNaN(t.getTime())) return at;
  const pad = (n: number) => String(n).padStart(2, "0");
  const time = `${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
  if (t.toDateString() === now.toDateString()) return `today ${time}`;
  return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())} ${time}`;
}

/** The entries a filter keeps (an empty field keeps all). */
export function filterEntries(entries: readonly AccessView[], f: LogFilter): AccessView[] {
  return entries.filter((e) => (!f.profile || e.profile === f.profile) && (!f.program || e.program === f.program));
}

/** The distinct values of `key`, sorted, for the filters' choices. */
export function distinct(entries: readonly AccessView[], key: "profile" | "program"): string[] {
  return [...new Set(entries.map((e) => e[key]))].sort();
}

/** What the timelines show: the last 24 hours. */
export const DAY_MS = 24 * 3600 * 1000;

export interface Mark {
  /** Where in the strip, 0 (24 h ago) to 1 (now). */
  x: number;
  outcome: OutcomeView;
  at: string;
}

export interface Strip {
  key: string;
  marks: Mark[];
  counts: Record<OutcomeView, number>;
  /** The strip's text alternative. */
  summary: string;
}

const OUTCOME_WORDS: Record<OutcomeView, string> = {
  made: "made",
  cached: "from cache",
  denied: "denied",
  failed: "failed",
};

export function outcomeText(o: OutcomeView): string {
  return OUTCOME_WORDS[o];
}

/** The text alternative of a strip: what it shows, in words. */
export function stripSummary(key: string, counts: Record<OutcomeView, number>): string {
  const total = counts.made + counts.cached + counts.denied + counts.failed;
  if (!total) return `${key}: no access in the last 24 hours`;
  const parts = (Object.keys(OUTCOME_WORDS) as OutcomeView[])
    .filter((o) => counts[o] > 0)
    .map((o) => `${counts[o]} ${OUTCOME_WORDS[o]}`);
  return `${key}: ${total} access${total > 1 ? "es" : ""} in the last 24 hours (${parts.join(", ")})`;
}

/** One strip per profile (or program) that had an access in the 24 hours
 *  before `now`, busiest first; marks oldest first. */
export function strips(entries: readonly AccessView[], by: "profile" | "program", now: Date): Strip[] {
  const start = now.getTime() - DAY_MS;
  const groups = new Map<string, Mark[]>();
  for (const e of entries) {
    const t = Date.parse(e.at);
    if (Number.isNaN(t) || t < start || t > now.getTime() + 60_000) continue;
    const marks = groups.get(e[by]) ?? [];
    marks.push({ x: Math.min(1, (t - start) / DAY_MS), outcome: e.outcome, at: e.at });
    groups.set(e[by], marks);
  }
  const out: Strip[] = [];
  for (const [key, marks] of groups) {
    marks.sort((a, b) => a.x - b.x);
    const counts: Record<OutcomeView, number> = { made: 0, cached: 0, denied: 0, failed: 0 };
    for (const m of marks) counts[m.outcome] += 1;
    out.push({ key, marks, counts, summary: stripSummary(key, counts) });
  }
  return out.sort((a, b) => b.marks.length - a.marks.length || a.key.localeCompare(b.key));
}

/** A newly logged entry, in front of the list (newest first), the list
 *  kept to `max`. */
export function prepend(entries: readonly AccessView[], entry: AccessView, max = 2000): AccessView[] {
  return [entry, ...entries].slice(0, max);
}
