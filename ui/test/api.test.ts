import { afterEach, describe, expect, it } from "vitest";
import { ApiError, call, setInvoker, toApiError } from "../src/api";

describe("toApiError", () => {
  it("keeps a command's kind, field and back-off", () => {
    const e = toApiError({ kind: "back_off", message: "identity work is locked after 6 wrong PINs — try again in 60 s", field: "pin", wait_secs: 60 });
    expect(e).toBeInstanceOf(ApiError);
    expect(e.kind).toBe("back_off");
    expect(e.field).toBe("pin");
    expect(e.waitSecs).toBe(60);
    expect(e.message).toContain("try again in 60 s");
  });

  it("turns Tauri's own string errors into kind internal", () => {
    const e = toApiError("Command lock not allowed by ACL");
    expect(e.kind).toBe("internal");
    expect(e.field).toBeUndefined();
    expect(e.message).toBe("Command lock not allowed by ACL");
  });

  it("does not trust an unknown kind or a non-string field", () => {
    expect(toApiError({ kind: "nope", message: "x" }).kind).toBe("internal");
    const e = toApiError({ kind: "field", message: "m", field: 3 });
    expect(e.kind).toBe("field");
    expect(e.field).toBeUndefined();
  });

  it("handles Error objects and junk", () => {
    expect(toApiError(new Error("boom")).message).toBe("boom");
    expect(toApiError(undefined).message).toBe("unexpected error");
  });
});

describe("call", () => {
  afterEach(() => setInvoker(async () => null));

  it("passes the command and its arguments through", async () => {
    const seen: unknown[] = [];
    setInvoker(async (cmd, args) => {
      seen.push(cmd, args);
      return "work";
    });
    await expect(call("use_profile", { name: "work", takeOver: false })).resolves.toBe("work");
    expect(seen).toEqual(["use_profile", { name: "work", takeOver: false }]);
  });

  it("rejects with ApiError", async () => {
    setInvoker(async () => {
      throw { kind: "field", message: "secret access key: must be 40 characters; got 39", field: "secret_access_key" };
    });
    const err = await call("list_identities").catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.field).toBe("secret_access_key");
  });
});
