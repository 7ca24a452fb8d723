import { describe, expect, it } from "vitest";
import { TPM_CHOICES, noRecoveryText, recoveryCodeText, tpmPreselect } from "../src/logic";

describe("the add form's TPM choice", () => {
  it("offers what keyfob add --tpm takes, the setting preselected", () => {
    expect(TPM_CHOICES.map(([v]) => v)).toEqual(["prefer", "require", "off"]);
    expect(tpmPreselect("require")).toBe("require");
    expect(tpmPreselect("off")).toBe("off");
    // An unreadable setting: keyfob's own default.
    expect(tpmPreselect("")).toBe("prefer");
    expect(tpmPreselect("sometimes")).toBe("prefer");
  });

  it("says what declining a recovery code means", () => {
    expect(noRecoveryText("prefer")).toMatch(/cleared TPM or a new machine loses this key/);
    expect(noRecoveryText("require")).toMatch(/keep the access key somewhere else/);
    expect(noRecoveryText("off")).toMatch(/PIN alone/);
  });

  it("tells to store the code now, once, and how it is used", () => {
    const [store, what] = recoveryCodeText("work");
    expect(store).toMatch(/^Store it now/);
    expect(store).toMatch(/shown only this once/);
    expect(what).toContain("keyfob reseal work --tpm off --recovery");
  });
});
