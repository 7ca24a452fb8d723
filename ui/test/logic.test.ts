import { describe, expect, it } from "vitest";
import { ApiError } from "../src/api";
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
} from "../src/logic";

describe("formatCountdown", () => {
  it.each([
    [0, "0 s"],
    [42, "42 s"],
    [249, "4 min 09 s"],
    [3600, "1 h 00 min"],
    [3900, "1 h 05 min"],
    [43199, "11 h 59 min"],
    [-5, "0 s"],
    [59.9, "59 s"],
  ])("%s → %s", (secs, text) => expect(formatCountdown(secs)).toBe(text));
});

describe("secondsUntil", () => {
  it("counts whole seconds to an RFC 3339 time", () => {
    const now = new Date("2026-01-01T00:00:00Z");
    expect(secondsUntil("2026-01-01T01:00:00Z", now)).toBe(3600);
    expect(secondsUntil("2025-12-31T23:59:00Z", now)).toBe(-60);
  });
});

describe("key age", () => {
  it("warns past 90 days, not at 90", () => {
    expect(keyAgeClass(90)).toBe("age-ok");
    expect(keyAgeClass(91)).toBe("age-old");
    expect(keyAgeText(12)).toBe("12 d");
    expect(keyAgeText(120)).toContain("rotate");
  });
});

describe("placeError", () => {
  const fields = ["access_key_id", "secret_access_key", "pin"];

  it("puts a field error next to its field without repeating the label", () => {
    const e = new ApiError({ kind: "field", message: "secret access key: must be 40 characters; got 39", field: "secret_access_key" });
    expect(placeError(e, fields)).toEqual({ field: "secret_access_key", text: "must be 40 characters; got 39" });
  });

  it("keeps the whole message for a non-field kind that names a field", () => {
    const e = new ApiError({ kind: "wrong_pin", message: "wrong PIN for identity work (4 more before keyfob makes you wait)", field: "pin" });
    expect(placeError(e, fields).text).toBe(e.message);
  });

  it("falls back to the general message for a field the form does not have", () => {
    const e = new ApiError({ kind: "field", message: "region: unknown", field: "region" });
    expect(placeError(e, fields)).toEqual({ field: null, text: "region: unknown" });
  });
});

describe("formatting", () => {
  it("shows days and durations", () => {
    expect(day("2026-03-04T05:06:07Z")).toBe("2026-03-04");
    expect(humanDuration(null)).toBe("default");
    expect(humanDuration(3600)).toBe("1 h");
    expect(humanDuration(5400)).toBe("1 h 30 min");
    expect(humanDuration(900)).toBe("15 min");
    expect(humanDuration(43200)).toBe("12 h");
  });
});

describe("parseRoute and routeTo", () => {
  it("splits the screen from its argument", () => {
    expect(parseRoute("#/keys/alice")).toEqual({ screen: "keys", arg: "alice" });
    expect(parseRoute("#/profiles")).toEqual({ screen: "profiles", arg: null });
    expect(parseRoute("")).toEqual({ screen: "identities", arg: null });
    expect(parseRoute("#/rotate/")).toEqual({ screen: "rotate", arg: null });
  });

  it("round-trips names that need escaping", () => {
    const hash = routeTo("rotate", "dev team/é");
    expect(hash).toBe("#/rotate/dev%20team%2F%C3%A9");
    expect(parseRoute(hash)).toEqual({ screen: "rotate", arg: "dev team/é" });
    expect(parseRoute("#/keys/%E0%A4%A")).toEqual({ screen: "keys", arg: "%E0%A4%A" });
  });
});

describe("badges, guard and key texts", () => {
  it("labels every badge kind", () => {
    expect(badgeLabel("old_key")).toBe("key over 90 days");
    expect(badgeLabel("unguarded")).toContain("unguarded");
    expect(badgeLabel("rotation")).toContain("rotation");
    expect(badgeLabel("root")).toBe("root key");
  });

  it("shows the guard verdict, or a dash without an external ID", () => {
    expect(guardText("guarded")).toBe("guarded");
    expect(guardText("unguarded")).toBe("unguarded");
    expect(guardText("unchecked")).toBe("unchecked");
    expect(guardText("not_applicable")).toBe("—");
  });

  it("says never for an unused key, else when and where", () => {
    expect(lastUsedText({ last_used: null, last_used_service: null, last_used_region: null })).toBe("never");
    expect(
      lastUsedText({ last_used: "2025-05-01T10:00:00Z", last_used_service: "s3", last_used_region: "eu-west-1" }),
    ).toBe("2025-05-01 (s3 in eu-west-1)");
    expect(lastUsedText({ last_used: "2025-05-01T10:00:00Z", last_used_service: null, last_used_region: null })).toContain(
      "unknown service",
    );
  });
});

describe("rotation wizard", () => {
  const steps = (done: number) => [1, 2, 3, 4, 5, 6].map((n) => ({ number: n, done: n <= done }));

  it("offers start, or continue and roll back", () => {
    expect(rotationActions(false)).toEqual(["start"]);
    expect(rotationActions(true)).toEqual(["continue", "rollback"]);
  });

  it("highlights the first step not done", () => {
    expect(currentStep(steps(0), false)).toBeNull();
    expect(currentStep(steps(3), true)).toBe(4);
    expect(currentStep(steps(5), true)).toBe(6);
  });
});
