// Secret fields (PINs, the secret access key) are sealed here before they
// cross to Rust, so that WebKit's UI process, which every IPC message
// passes through and which frees its buffers without wiping them, never
// holds one in the clear (see src-tauri/src/sealing.rs for the scheme and
// why). ECDH P-256 with a one-use key pair of the page's against the app
// process's key, HKDF-SHA256, AES-256-GCM with the field's name as
// associated data: WebCrypto's own algorithms, nothing hand-made.
import type { Sealed } from "./bindings/Sealed";
import type { SealingKey } from "./bindings/SealingKey";

/** A secret typed into a form, on its way to a command: `call` seals it
 *  under the name of the field that holds it. */
export class Secret {
  readonly #text: string;
  constructor(text: string) {
    this.#text = text;
  }
  /** For the sealing only. */
  text(): string {
    return this.#text;
  }
  /** A Secret never turns into JSON by accident. */
  toJSON(): never {
    throw new Error("a Secret must be sealed before it is sent");
  }
}

const INFO = new TextEncoder().encode("keyfob sealed field v1");

export interface AppKey {
  key: number;
  publicKey: CryptoKey;
}

/** The app's key, from its SealingKey. */
export async function importKey(k: SealingKey): Promise<AppKey> {
  const publicKey = await crypto.subtle.importKey(
    "raw",
    new Uint8Array(k.public_key),
    { name: "ECDH", namedCurve: "P-256" },
    false,
    [],
  );
  return { key: k.key, publicKey };
}

/** Seals `text` as field `field` to the app's key. */
export async function seal(to: AppKey, field: string, text: string): Promise<Sealed> {
  const mine = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, [
    "deriveBits",
  ])) as CryptoKeyPair;
  const shared = await crypto.subtle.deriveBits({ name: "ECDH", public: to.publicKey }, mine.privateKey, 256);
  const hkdf = await crypto.subtle.importKey("raw", shared, "HKDF", false, ["deriveKey"]);
  new Uint8Array(shared).fill(0);
  const aes = await crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: INFO },
    hkdf,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt"],
  );
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const plain = new TextEncoder().encode(text);
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(field) },
    aes,
    plain,
  );
  plain.fill(0);
  const epk = await crypto.subtle.exportKey("raw", mine.publicKey);
  return { key: to.key, epk: [...new Uint8Array(epk)], iv: [...iv], ct: [...new Uint8Array(ct)] };
}

/** A copy of `args` with every Secret in it (at any depth) sealed under
 *  its property's name; nothing else is changed. */
export async function sealArgs(to: () => Promise<AppKey>, args: unknown): Promise<unknown> {
  if (args === null || typeof args !== "object" || Array.isArray(args)) return args;
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(args as Record<string, unknown>)) {
    out[name] = v instanceof Secret ? await seal(await to(), name, v.text()) : await sealArgs(to, v);
  }
  return out;
}

/** Whether `args` holds a Secret anywhere. */
export function hasSecret(args: unknown): boolean {
  if (args === null || typeof args !== "object") return false;
  return Object.values(args as Record<string, unknown>).some((v) => v instanceof Secret || hasSecret(v));
}
