import { describe, expect, it } from "vitest";
import { accountLabel, exportLines, groupRows, isUnlocked, rankProfiles, roleName, rowMatches, shellQuote, stateText, themeChoice } from "../src/logic";

const now = new Date("2026-01-01T00:00:00Z");
const profile = (name: string, identity: string, extra: Partial<{ role_arn: string; role_account: string; region: string; mfa_serial: string; is_default: boolean }> = {}) => ({
  name,
  identity,
  role_arn: extra.role_arn ?? null,
  role_account: extra.role_account ?? null,
  region: extra.region ?? null,
  mfa_serial: extra.mfa_serial ?? null,
  is_default: extra.is_default ?? false,
});

const groups = groupRows(
  [
    { name: "bob", account: "210987654321" },
    { name: "alice", account: "123456789012" },
  ],
  [
    profile("alice", "alice", { is_default: true }),
    profile("deploy", "alice", { role_arn: "arn:aws:iam::999988887777:role/ci/deployer", role_account: "999988887777", region: "eu-west-1" }),
    profile("bob", "bob", { mfa_serial: "arn:aws:iam::210987654321:mfa/bob" }),
  ],
  [{ profile: "deploy", expires_at: "2026-01-01T00:29:10Z" }],
);
const rows = groups.flatMap((g) => g.rows);
const row = (n: string) => rows.find((r) => r.name === n)!;

describe("groupRows", () => {
  it("groups by identity in the identities' order, profiles by name", () => {
    expect(groups.map((g) => [g.identity, g.rows.map((r) => r.name)])).toEqual([
      ["bob", ["bob"]],
      ["alice", ["alice", "deploy"]],
    ]);
  });
  it("takes the role's account and name, the session's expiry", () => {
    expect(row("deploy")).toMatchObject({ account: "999988887777", role: "deployer", expiresAt: "2026-01-01T00:29:10Z" });
    expect(row("alice")).toMatchObject({ account: "123456789012", role: null, expiresAt: null, isDefault: true });
    expect(row("bob").mfa).toBe(true);
  });
});

describe("state", () => {
  it("is unlocked until the session expires", () => {
    expect(isUnlocked(row("deploy"), now)).toBe(true);
    expect(isUnlocked(row("deploy"), new Date("2026-01-01T00:30:00Z"))).toBe(false);
    expect(stateText(row("deploy"), now)).toBe("Unlocked · 29 min 10 s left");
    expect(stateText(row("alice"), now)).toBe("Locked");
  });
});

describe("rowMatches", () => {
  const shown = (q: string, account = "", state: "all" | "unlocked" | "locked" | "default" = "all") =>
    rows.filter((r) => rowMatches(r, q, account, state, now)).map((r) => r.name);
  it("filters by every word typed, in any field", () => {
    expect(shown("")).toEqual(["bob", "alice", "deploy"]);
    expect(shown("DEP")).toEqual(["deploy"]);
    expect(shown("alice eu-west")).toEqual(["deploy"]);
    expect(shown("deployer")).toEqual(["deploy"]);
    expect(shown("nothing")).toEqual([]);
  });
  it("filters by account and by state", () => {
    expect(shown("", "123456789012")).toEqual(["alice"]);
    expect(shown("", "", "unlocked")).toEqual(["deploy"]);
    expect(shown("", "", "locked")).toEqual(["bob", "alice"]);
    expect(shown("", "", "default")).toEqual(["alice"]);
  });
});

describe("exportLines", () => {
  it("names the profile and its region, never a credential", () => {
    expect(exportLines(row("deploy"))).toBe("export AWS_PROFILE=deploy\nexport AWS_REGION=eu-west-1");
    expect(exportLines(row("alice"))).toBe("export AWS_PROFILE=alice");
  });
  it("quotes what the shell would split", () => {
    expect(shellQuote("a b")).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote("")).toBe("''");
  });
});

describe("rankProfiles", () => {
  const names = ["prod-admin", "deploy", "dev", "admin"];
  it("puts prefixes before substrings before scattered letters", () => {
    expect(rankProfiles(names, "ad")).toEqual(["admin", "prod-admin"]);
    expect(rankProfiles(names, "de")).toEqual(["deploy", "dev"]);
    expect(rankProfiles(names, "dpl")).toEqual(["deploy"]);
    expect(rankProfiles(names, "zz")).toEqual([]);
    expect(rankProfiles(names, " ")).toEqual(names);
  });
  it("ranks an exact name first", () => {
    expect(rankProfiles(["devops", "dev"], "dev")).toEqual(["dev", "devops"]);
  });
});

describe("small helpers", () => {
  it("roleName and themeChoice", () => {
    expect(roleName("arn:aws:iam::1:role/a/b")).toBe("b");
    expect(themeChoice("dark")).toBe("dark");
    expect(themeChoice("blue")).toBe("system");
    expect(themeChoice(null)).toBe("system");
  });
});

describe("account names", () => {
  const named = groupRows(
    [{ name: "alice", account: "123456789012" }],
    [profile("alice", "alice"), profile("deploy", "alice", { role_arn: "arn:aws:iam::999988887777:role/deployer", role_account: "999988887777" })],
    [],
    { "999988887777": "prod" },
  );
  const named_rows = named.flatMap((g) => g.rows);
  it("shows the name with the ID, and the ID alone without one", () => {
    expect(named_rows.map((r) => accountLabel(r.account, r.alias))).toEqual(["123456789012", "prod (999988887777)"]);
    expect(named[0].alias).toBeNull();
    expect(accountLabel(null, null)).toBe("unknown");
  });
  it("finds a profile by its account's name", () => {
    expect(named_rows.filter((r) => rowMatches(r, "PROD", "", "all", now)).map((r) => r.name)).toEqual(["deploy"]);
  });
});

describe("Identity Center profiles", () => {
  it("show their account and role (permission set) like role profiles", () => {
    const [g] = groupRows(
      [{ name: "corp", account: null }],
      [{ ...profile("acct-0-Admin", "corp", { role_account: "111100000000" }), sso_role: "AdministratorAccess" }],
      [],
    );
    expect(g.rows[0]).toMatchObject({ account: "111100000000", role: "AdministratorAccess" });
    expect(rowMatches(g.rows[0], "administrator", "", "all", now)).toBe(true);
  });
});
