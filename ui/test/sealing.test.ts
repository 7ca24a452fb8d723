import { afterEach, describe, expect, it } from "vitest";
import { Secret, call, setInvoker } from "../src/api";
import type { Sealed } from "../src/api/bindings/Sealed";

// The app's half of the scheme (src-tauri/src/sealing.rs), written again
// with WebCrypto: what the page seals must open with the app's private key
// under the field's name, and under nothing else.
async function appKeyPair(): Promise<{ pair: CryptoKeyPair; raw: number[] }> {
  const pair = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"])) as CryptoKeyPair;
  const raw = [...new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey))];
  return { pair, raw };
}

async function open(app: CryptoKeyPair, field: string, s: Sealed): Promise<string> {
  const epk = await crypto.subtle.importKey("raw", new Uint8Array(s.epk), { name: "ECDH", namedCurve: "P-256" }, false, []);
  const shared = await crypto.subtle.deriveBits({ name: "ECDH", public: epk }, app.privateKey, 256);
  const hkdf = await crypto.subtle.importKey("raw", shared, "HKDF", false, ["deriveKey"]);
  const aes = await crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: new TextEncoder().encode("keyfob sealed field v1") },
    hkdf,
    { name: "AES-GCM", length: 256 },
    false,
    ["decrypt"],
  );
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: new Uint8Array(s.iv), additionalData: new TextEncoder().encode(field) },
    aes,
    new Uint8Array(s.ct),
  );
  return new TextDecoder().decode(plain);
}

describe("call seals secrets", () => {
  afterEach(() => setInvoker(async () => null));

  it("sends every Secret sealed under its field's name, and the rest as it is", async () => {
    const app = await appKeyPair();
    const sent: Record<string, unknown>[] = [];
    setInvoker(async (cmd, args) => {
      if (cmd === "sealing_key") return { key: 7, public_key: app.raw };
      sent.push(args as Record<string, unknown>);
      return "2026-12-02T12:00:00Z";
    });
    await call("unlock", { form: { profile: "work", pin: new Secret("correct horse"), mfa_code: "123456" } });
    const form = sent[0].form as { profile: string; pin: Sealed; mfa_code: string };
    expect(form.profile).toBe("work");
    expect(form.mfa_code).toBe("123456");
    expect(form.pin.key).toBe(7);
    expect(form.pin.epk).toHaveLength(65);
    expect(form.pin.iv).toHaveLength(12);
    // The text is nowhere in what was sent.
    expect(JSON.stringify(sent)).not.toContain("correct horse");
    expect(await open(app.pair, "pin", form.pin)).toBe("correct horse");
    await expect(open(app.pair, "pin_confirmation", form.pin)).rejects.toThrow();
  });

  it("seals each field with its own one-use key, and never sends a Secret as JSON", async () => {
    const app = await appKeyPair();
    const sent: Record<string, unknown>[] = [];
    setInvoker(async (cmd, args) => {
      if (cmd === "sealing_key") return { key: 1, public_key: app.raw };
      sent.push(args as Record<string, unknown>);
      return null;
    });
    const pin = new Secret("123456");
    await call("answer_prompt", { id: 3, value: pin });
    await call("answer_prompt", { id: 4, value: pin });
    const [a, b] = sent.map((s) => s.value as Sealed);
    expect(a.epk).not.toEqual(b.epk);
    expect(await open(app.pair, "value", b)).toBe("123456");
    expect(() => JSON.stringify({ pin })).toThrow(/sealed/);
  });

  it("seals again to the new key when the app replaced its key", async () => {
    const first = await appKeyPair();
    const second = await appKeyPair();
    let key = { key: 1, public_key: first.raw };
    const tried: Sealed[] = [];
    setInvoker(async (cmd, args) => {
      if (cmd === "sealing_key") return key;
      const pin = ((args as { form: { pin: Sealed } }).form.pin);
      tried.push(pin);
      if (pin.key !== 2) {
        key = { key: 2, public_key: second.raw };
        throw { kind: "resealed", message: "the window's sealing key was replaced" };
      }
      return ["key-1"];
    });
    await expect(call("list_keys", { identity: "work", form: { pin: new Secret("654321"), mfa_code: null } })).resolves.toEqual(["key-1"]);
    expect(tried.map((t) => t.key)).toEqual([1, 2]);
    expect(await open(second.pair, "pin", tried[1])).toBe("654321");
  });
});
