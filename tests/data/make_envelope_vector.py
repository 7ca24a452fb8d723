#!/usr/bin/env python3
"""Makes tests/data/envelope-v1.json: a known-answer vector for keyfob's
sealed-key envelope, computed with libsodium (PyNaCl), an implementation
independent of the Rust crates keyfob uses.

    pip install pynacl && python3 tests/data/make_envelope_vector.py

Envelope v1 (see src/crypto.rs): "KFOB" | 1 | kdf=1 | m_KiB u32be | t u32be |
p u32be | salt[16] | nonce[24] | XChaCha20-Poly1305(key, nonce, secret,
aad = header || context), key = Argon2id v1.3 (pin, salt, m, t, p=1, 32 bytes).
"""
import json
import struct
from pathlib import Path

from nacl import bindings, pwhash

pin = b"correct horse battery"
secret = b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
context = b"keyfob/identity/v1\x000123456789abcdef\x00AKIAIOSFODNN7EXAMPLE"
salt = bytes(range(16))
nonce = bytes(range(100, 124))
m_kib, t, p = 64 * 1024, 3, 1  # keyfob's defaults; libsodium fixes p = 1

key = pwhash.argon2id.kdf(32, pin, salt, opslimit=t, memlimit=m_kib * 1024)
header = b"KFOB" + bytes([1, 1]) + struct.pack(">III", m_kib, t, p) + salt + nonce
sealed = bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(secret, header + context, nonce, key)

vector = {
    "comment": "made by tests/data/make_envelope_vector.py with libsodium",
    "pin": pin.decode(),
    "secret": secret.decode(),
    "context_hex": context.hex(),
    "salt_hex": salt.hex(),
    "nonce_hex": nonce.hex(),
    "m_cost_kib": m_kib,
    "t_cost": t,
    "p_cost": p,
    "envelope_hex": (header + sealed).hex(),
}
out = Path(__file__).with_name("envelope-v1.json")
out.write_text(json.dumps(vector, indent=2) + "\n")
print(f"wrote {out}")
