import { describe, expect, it } from "vitest";
import { ApiError } from "../src/api";
import { day, formatCountdown, humanDuration, keyAgeClass, keyAgeText, placeError, secondsUntil } from "../src/logic";

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
