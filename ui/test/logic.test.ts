import { describe, expect, it } from "vitest";
import { ApiError } from "../src/api";
import {
  currentStep,
  day,
  externalIdNote,
  formatCountdown,
  guardText,
  identityArnText,
  lastUsedText,
  parseRoute,
  placeError,
  profileRoleText,
  rotationActions,
  rotationSummary,
  routeTo,
  savedProfileNotice,
  secondsUntil,
  sessionLeftText,
  stepView,
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
  });
});

describe("parseRoute and routeTo", () => {
  it("splits the screen from its argument", () => {
    expect(parseRoute("#/keys/alice")).toEqual({ screen: "keys", arg: "alice" });
    expect(parseRoute("#/profiles")).toEqual({ screen: "profiles", arg: null });
    expect(parseRoute("")).toEqual({ screen: "home", arg: null });
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

describe("table texts", () => {
  it("shows an identity's ARN, unverified keys and root's", () => {
    expect(identityArnText({ arn: "arn:aws:iam::1:user/a", verified: true, root: false })).toBe("arn:aws:iam::1:user/a");
    expect(identityArnText({ arn: null, verified: false, root: false })).toBe("(not verified)");
    expect(identityArnText({ arn: null, verified: true, root: false })).toBe("");
    expect(identityArnText({ arn: "arn:aws:iam::1:root", verified: true, root: true })).toBe("arn:aws:iam::1:root (root!)");
  });

  it("shows a profile's role, marking an external ID", () => {
    expect(profileRoleText({ role_arn: null, external_id: null })).toBe("—");
    expect(profileRoleText({ role_arn: "arn:r", external_id: null })).toBe("arn:r");
    expect(profileRoleText({ role_arn: "arn:r", external_id: "x" })).toBe("arn:r (external ID)");
  });

  it("counts a session down, then says expired", () => {
    expect(sessionLeftText(65)).toBe("1 min 05 s");
    expect(sessionLeftText(0)).toBe("expired");
    expect(sessionLeftText(-3)).toBe("expired");
  });
});

describe("savedProfileNotice", () => {
  it("reports the guard's verdict", () => {
    expect(savedProfileNotice({ name: "d", guard: "guarded" })).toEqual({
      text: "Profile d saved. Guarded: its role refuses AssumeRole without the external ID.",
      kind: "good",
    });
    expect(savedProfileNotice({ name: "d", guard: "unguarded" })).toEqual({
      text: "Profile d saved, marked unguarded: its role can be assumed without the external ID.",
      kind: "bad",
    });
    expect(savedProfileNotice({ name: "d", guard: "not_applicable" })).toEqual({ text: "Profile d saved.", kind: "good" });
  });
});

describe("externalIdNote", () => {
  it("says whether the ID was recorded, and when a customer already had it", () => {
    expect(externalIdNote({ customer: null, new: true, issued_at: null })).toBe("Not recorded: name a customer to keep track of who has which ID.");
    expect(externalIdNote({ customer: "acme", new: true, issued_at: "2025-02-03T00:00:00Z" })).toBe(
      "Issued to acme and recorded: it will not be given to anyone else.",
    );
    expect(externalIdNote({ customer: "acme", new: false, issued_at: "2025-02-03T00:00:00Z" })).toBe("acme already has this ID (issued 2025-02-03).");
    expect(externalIdNote({ customer: "acme", new: false, issued_at: null })).toBe("acme already has this ID (issued ).");
  });
});

describe("rotation card", () => {
  it("summarises where the rotation stands", () => {
    expect(rotationSummary({ in_progress: false, old_key: null, new_key: null, vault_key: "AKIA…A" })).toBe("No rotation in progress; the vault uses AKIA…A.");
    expect(rotationSummary({ in_progress: true, old_key: "AKIA…A", new_key: null, vault_key: "AKIA…A" })).toBe(
      "Rotating AKIA…A → (being created); the vault uses AKIA…A.",
    );
    expect(rotationSummary({ in_progress: true, old_key: null, new_key: "AKIA…B", vault_key: "AKIA…B" })).toBe("Rotating ? → AKIA…B; the vault uses AKIA…B.");
  });

  it("marks done, current and later steps", () => {
    expect(stepView({ number: 2, done: true }, 3)).toEqual({ cls: "done", mark: "✓", isCurrent: false });
    expect(stepView({ number: 3, done: false }, 3)).toEqual({ cls: "current", mark: "→", isCurrent: true });
    expect(stepView({ number: 4, done: false }, 3)).toEqual({ cls: "", mark: "·", isCurrent: false });
    expect(stepView({ number: 1, done: false }, null)).toEqual({ cls: "", mark: "·", isCurrent: false });
  });
});
