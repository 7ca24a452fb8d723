import { describe, expect, it } from "vitest";
import type { AccessView } from "../src/api";
import {
  DAY_MS,
  DURATIONS,
  RULES,
  RULE_ORDER,
  distinct,
  filterEntries,
  forAWhile,
  holdsText,
  prepend,
  requesterText,
  spanText,
  stripSummary,
  strips,
  whenText,
} from "../src/access";

const NOW = new Date("2026-12-04T12:00:00Z");

function entry(over: Partial<AccessView>): AccessView {
  return {
    at: "2026-12-04T11:00:00Z",
    profile: "prod",
    identity: "alice",
    account: "123456789012",
    role: null,
    program: "/usr/bin/aws",
    pid: 42,
    exe: "/usr/bin/aws",
    script: null,
    cwd: "/home/u",
    parents: ["bash", "tmux"],
    outcome: "made",
    approval: "approved until lock",
    first: false,
    detail: null,
    ...over,
  };
}

describe("the approval prompt's answers", () => {
  it("offers 1 h, 8 h and 24 h, each within the library's 1 minute to 30 days", () => {
    expect(DURATIONS.map((d) => d.value)).toEqual(["1h", "8h", "24h"]);
    for (const d of DURATIONS) expect(d.secs >= 60 && d.secs <= 30 * 86400).toBe(true);
    expect(forAWhile("8h")).toEqual({ answer: "for", secs: 28800 });
  });

  it("falls back to the shortest for a value it does not know", () => {
    expect(forAWhile("forever")).toEqual({ answer: "for", secs: 3600 });
  });
});

describe("rules", () => {
  it("explains each of the three, in order", () => {
    expect(RULE_ORDER).toEqual(["off", "new_programs", "every_time"]);
    for (const r of RULE_ORDER) expect(RULES[r].explain.length).toBeGreaterThan(20);
    expect(RULES.every_time.explain).toContain("keyfob approvals add");
  });
});

describe("holdsText", () => {
  it("says how long an approval holds", () => {
    expect(holdsText({ holds: "until_lock" }, NOW)).toBe("until the profile is locked");
    expect(holdsText({ holds: "always" }, NOW)).toContain("until revoked");
    expect(holdsText({ holds: "until", at: "2026-12-04T14:05:00Z" }, NOW)).toBe("for 2 h 05 min more");
    expect(holdsText({ holds: "until", at: "2026-12-06T13:00:00Z" }, NOW)).toBe("for 2 days 1 h more");
    expect(holdsText({ holds: "until", at: "2026-12-04T11:00:00Z" }, NOW)).toBe("ran out");
  });

  it("never says 0 min for a span under a minute", () => {
    expect(spanText(30)).toBe("1 min");
    expect(spanText(0)).toBe("0 min");
  });
});

describe("requesterText", () => {
  it("names the pid, the parent chain and the working directory", () => {
    expect(requesterText(entry({}))).toBe("pid 42, started by bash ← tmux, in /home/u");
    expect(requesterText(entry({ parents: [], cwd: null }))).toBe("pid 42");
  });
});

describe("the log's filters", () => {
  const list = [
    entry({ profile: "prod", program: "/usr/bin/aws" }),
    entry({ profile: "dev", program: "/usr/bin/aws" }),
    entry({ profile: "prod", program: "/home/u/x.py (run by /usr/bin/python3)" }),
  ];

  it("keeps what both filters accept; an empty one keeps all", () => {
    expect(filterEntries(list, { profile: "", program: "" })).toHaveLength(3);
    expect(filterEntries(list, { profile: "prod", program: "" })).toHaveLength(2);
    expect(filterEntries(list, { profile: "prod", program: "/usr/bin/aws" })).toEqual([list[0]]);
    expect(filterEntries(list, { profile: "qa", program: "" })).toEqual([]);
  });

  it("offers each profile and program once, sorted", () => {
    expect(distinct(list, "profile")).toEqual(["dev", "prod"]);
    expect(distinct(list, "program")).toEqual(["/home/u/x.py (run by /usr/bin/python3)", "/usr/bin/aws"]);
  });

  it("puts a new entry first and keeps the list bounded", () => {
    const next = prepend(list, entry({ profile: "qa" }), 3);
    expect(next.map((e) => e.profile)).toEqual(["qa", "prod", "dev"]);
  });
});

describe("timelines", () => {
  it("places a mark per access of the last 24 hours, by outcome, busiest strip first", () => {
    const list = [
      entry({ at: "2026-12-04T12:00:00Z", outcome: "made" }),
      entry({ at: "2026-12-04T00:00:00Z", outcome: "denied" }),
      entry({ at: "2026-12-03T18:00:00Z", outcome: "cached" }),
      // Older than 24 hours: not shown.
      entry({ at: "2026-12-03T11:59:00Z", outcome: "made" }),
      entry({ profile: "dev", at: "2026-12-04T06:00:00Z", outcome: "failed" }),
    ];
    const s = strips(list, "profile", NOW);
    expect(s.map((x) => x.key)).toEqual(["prod", "dev"]);
    expect(s[0].marks.map((m) => [m.x, m.outcome])).toEqual([
      [0.25, "cached"],
      [0.5, "denied"],
      [1, "made"],
    ]);
    expect(s[0].counts).toEqual({ made: 1, cached: 1, denied: 1, failed: 0 });
    expect(s[0].summary).toBe("prod: 3 accesses in the last 24 hours (1 made, 1 from cache, 1 denied)");
    expect(s[1].summary).toBe("dev: 1 access in the last 24 hours (1 failed)");
  });

  it("groups by program as well, and skips entries whose time does not read", () => {
    const list = [entry({ program: "a" }), entry({ program: "b" }), entry({ program: "b", at: "not a time" })];
    const s = strips(list, "program", NOW);
    expect(s.map((x) => [x.key, x.marks.length])).toEqual([
      ["a", 1],
      ["b", 1],
    ]);
    expect(DAY_MS).toBe(86_400_000);
  });

  it("says so when a strip has nothing", () => {
    expect(stripSummary("prod", { made: 0, cached: 0, denied: 0, failed: 0 })).toBe("prod: no access in the last 24 hours");
  });
});

describe("whenText", () => {
  it("gives the time of day for today, the date as well before", () => {
    const now = new Date(2026, 11, 4, 12, 0, 0);
    expect(whenText(new Date(2026, 11, 4, 7, 5, 9).toISOString(), now)).toBe("today 07:05:09");
    expect(whenText(new Date(2026, 11, 3, 23, 59, 0).toISOString(), now)).toBe("2026-12-03 23:59:00");
    expect(whenText("garbled", now)).toBe("garbled");
  });
});
