import { describe, expect, it } from "vitest";
import { groupRows, rowMatches, signInStateText, syncSummary } from "../src/logic";

const profile = (name: string, identity: string, account: string, role: string) => ({
  name,
  identity,
  role_arn: null,
  role_account: account,
  region: "eu-west-1",
  mfa_serial: null,
  is_default: false,
  sso_role: role,
});

describe("Identity Center in the main view", () => {
  const groups = groupRows(
    [
      { name: "alice", account: "123456789012" },
      { name: "corp", account: null, start_url: "https://d-1.awsapps.com/start" },
    ],
    [profile("prod-Admin", "corp", "111100000001", "Admin"), profile("dev-ReadOnly", "corp", "111100000002", "ReadOnly")],
    [],
    { "111100000001": "production" },
  );

  it("groups synced profiles under their identity, headed by the start URL", () => {
    expect(groups.map((g) => [g.identity, g.startUrl])).toEqual([
      ["alice", null],
      ["corp", "https://d-1.awsapps.com/start"],
    ]);
    const corp = groups[1];
    expect(corp.rows.map((r) => [r.name, r.account, r.alias, r.role])).toEqual([
      ["dev-ReadOnly", "111100000002", null, "ReadOnly"],
      ["prod-Admin", "111100000001", "production", "Admin"],
    ]);
  });

  it("finds them by role, account, alias and identity", () => {
    const [dev, prod] = groups[1].rows;
    expect(rowMatches(prod, "admin", "", "all")).toBe(true);
    expect(rowMatches(dev, "admin", "", "all")).toBe(false);
    expect(rowMatches(prod, "production", "", "all")).toBe(true);
    expect(rowMatches(dev, "corp 111100000002", "", "all")).toBe(true);
    expect(rowMatches(dev, "", "111100000001", "all")).toBe(false);
  });
});

describe("sync and sign-in texts", () => {
  it("summarises a dry run and a sync as the CLI does", () => {
    const changes = [{ kind: "created" }, { kind: "created" }, { kind: "unchanged" }, { kind: "removed" }];
    expect(syncSummary({ identity: "corp", accounts: 2, assignments: 3, dry_run: true, changes })).toBe(
      "Preview of the sync of corp: 2 account(s), 3 role(s); 2 would be created, 0 would be updated, 1 unchanged, 0 renamed, 1 no longer assigned, 0 skipped.",
    );
    expect(syncSummary({ identity: "corp", accounts: 2, assignments: 3, dry_run: false, changes })).toMatch(/^Synced corp: .* 2 created,/);
  });

  it("says when a sign-in expired", () => {
    const at = "2026-12-02T03:00:00Z";
    expect(signInStateText({ signed_in_at: at, expired: true, held: false })).toMatch(/^expired — sign in again/);
    expect(signInStateText({ signed_in_at: at, expired: false, held: true })).toMatch(/held by this app/);
    expect(signInStateText({ signed_in_at: at, expired: false, held: false })).toBe("signed in 2026-12-02; the PIN opens it");
  });
});
