#!/usr/bin/env python3
"""aws-vault's stores, written exactly as aws-vault v7.2.0 writes them (and
granted's, which uses the same keyring), for the import tests (neither
tool can be installed here).

  aws_vault_store.py secret-service COLLECTION < items.json
      creates the Secret Service collection COLLECTION (if absent) and one
      item per entry, as github.com/99designs/keyring v1.2.2
      secretservice.go `secretsKeyring.Set` does through
      github.com/gsterjov/go-libsecret (a6f4afe) `Collection.CreateItem`:
      label = the item's Key, attributes {"profile": Key}, the secret =
      keyring.Item as Go's encoding/json writes it, content type
      application/json.
  aws_vault_store.py file DIR PASSPHRASE < items.json
      one file per entry in DIR, as keyring v1.2.2 file.go
      `fileKeyring.Set` does: the file name is the key percent-encoded
      (github.com/mtibben/percent, "/" escaped), the content the JWE that
      github.com/dvsekhvalnov/jose2go v1.5.0 `Encrypt(json,
      PBES2_HS256_A128KW, A256GCM, passphrase, Headers{"created": ...})`
      makes (pbse2_hmac_aeskw.go: p2c 8192, a 12-byte random salt).
  aws_vault_store.py list COLLECTION
      prints the collection's items as JSON [{"label", "attributes",
      "secret"}] (nothing when it does not exist).

items.json is a list of entries, each one of:
  {"key": K, "credentials": {"AccessKeyID": .., "SecretAccessKey": ..}}
      long-term keys, as vault/credentialkeyring.go `Set` stores them:
      Data = json.Marshal(aws.Credentials) (aws-sdk-go-v2 v1.17.7
      aws/credentials.go, no JSON tags: the Go field names), Label
      "aws-vault (K)", KeychainNotTrustApplication true;
  {"key": K, "session": {"AccessKeyId": .., ...}, "label": L}
      a cached session, as vault/sessionkeyring.go `Set` stores it: Data =
      json.Marshal(sts types.Credentials), Description "aws-vault session";
  {"key": K, "granted": {"AccessKeyID": .., "SecretAccessKey": ..}}
      long-term keys as granted (v0.38, pkg/securestorage/securestorage.go
      `Store`, iam_credential_storage.go) stores them with the same
      keyring: Data = json.Marshal(aws.Credentials) (aws-sdk-go-v2 v1.26.1),
      no Label or Description;
  {"key": K, "raw": TEXT}
      an item whose secret (or file plaintext) is TEXT as it is: a broken
      item.

Only the standard library, jeepney (D-Bus) and cryptography.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import sys
import urllib.parse

SECRETS = "org.freedesktop.secrets"
SERVICE_PATH = "/org/freedesktop/secrets"


def go_json(value) -> bytes:
    """Go's encoding/json output for these plain values: compact, and
    <, > and & escaped as \\u003c, \\u003e, \\u0026."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode()


def keyring_item(entry: dict) -> bytes:
    """The bytes keyring stores for one entry (keyring.Item as JSON)."""
    if "raw" in entry:
        return entry["raw"].encode()
    key = entry["key"]
    if "credentials" in entry or "granted" in entry:
        given = entry.get("credentials") or entry["granted"]
        creds = {
            "AccessKeyID": given["AccessKeyID"],
            "SecretAccessKey": given["SecretAccessKey"],
            "SessionToken": given.get("SessionToken", ""),
            "Source": "",
            "CanExpire": False,
            "Expires": "0001-01-01T00:00:00Z",
        }
        granted = "granted" in entry
        item = {
            "Key": key,
            "Data": base64.b64encode(go_json(creds)).decode(),
            "Label": "" if granted else f"aws-vault ({key})",
            "Description": "",
            "KeychainNotTrustApplication": not granted,
            "KeychainNotSynchronizable": False,
        }
    else:
        item = {
            "Key": key,
            "Data": base64.b64encode(go_json(entry["session"])).decode(),
            "Label": entry.get("label", f"aws-vault session for {key}"),
            "Description": "aws-vault session",
            "KeychainNotTrustApplication": False,
            "KeychainNotSynchronizable": False,
        }
    return go_json(item)


# ---------------------------------------------------------------- the file backend


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jose2go_encrypt(plaintext: bytes, passphrase: str) -> str:
    """jose2go v1.5.0 Encrypt(..., PBES2_HS256_A128KW, A256GCM, ...)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.keywrap import aes_key_wrap
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    alg = "PBES2-HS256+A128KW"
    salt_input = os.urandom(12)
    # jose2go's header: its own "alg"/"enc", keyring's "created", then the
    # PBES2 parameters added by WrapNewKey (map order does not matter).
    header = {
        "alg": alg,
        "created": str(dt.datetime.now()),
        "enc": "A256GCM",
        "p2c": 8192,
        "p2s": b64url(salt_input),
    }
    kek = PBKDF2HMAC(
        algorithm=hashes.SHA256(), length=16, salt=alg.encode() + b"\0" + salt_input, iterations=8192
    ).derive(passphrase.encode())
    cek = os.urandom(32)
    encrypted_key = aes_key_wrap(kek, cek)
    protected = b64url(go_json(header))
    iv = os.urandom(12)
    sealed = AESGCM(cek).encrypt(iv, plaintext, protected.encode())
    ciphertext, tag = sealed[:-16], sealed[-16:]
    return ".".join([protected, b64url(encrypted_key), b64url(iv), b64url(ciphertext), b64url(tag)])


def percent_encode(key: str) -> str:
    """github.com/mtibben/percent v0.2.1 Encode(s, "/"): '%' and the given
    characters become %XX, everything else stays."""
    return "".join(f"%{ord(c):02X}" if c in "%/" else c for c in key)


def write_files(folder: str, passphrase: str, entries: list) -> None:
    os.makedirs(folder, mode=0o700, exist_ok=True)
    for entry in entries:
        path = os.path.join(folder, percent_encode(entry["key"]))
        token = jose2go_encrypt(keyring_item(entry), passphrase)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(token)


# ---------------------------------------------------------------- the Secret Service


def connect():
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection
    from jeepney.wrappers import unwrap_msg

    conn = open_dbus_connection(bus="SESSION")

    def call(path, interface, method, signature=None, body=()):
        address = DBusAddress(path, bus_name=SECRETS, interface=interface)
        return unwrap_msg(conn.send_and_get_reply(new_method_call(address, method, signature, body)))

    _, session = call(SERVICE_PATH, "org.freedesktop.Secret.Service", "OpenSession", "sv", ("plain", ("s", "")))
    return call, session


def decode_path(path: str) -> str:
    """keyring's decodeKeyringString: the daemon writes each byte outside
    [A-Za-z0-9] of a collection's label as _XX in its object path."""
    return re.sub(r"_([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), path)


def collection_path(call, name: str) -> str | None:
    """keyring's openSecrets: the collection whose D-Bus path, decoded, is
    .../collection/NAME."""
    (collections,) = call(
        SERVICE_PATH, "org.freedesktop.DBus.Properties", "Get", "ss", ("org.freedesktop.Secret.Service", "Collections")
    )
    for path in collections[1]:
        if decode_path(path) == f"{SERVICE_PATH}/collection/{name}":
            return path
    return None


def write_secret_service(name: str, entries: list) -> None:
    call, session = connect()
    path = collection_path(call, name)
    if path is None:
        # go-libsecret's CreateCollection(label) makes gnome-keyring prompt
        # for the new keyring's password; headless, the daemon's own
        # CreateWithMasterPassword makes the same collection without one.
        (path,) = call(
            SERVICE_PATH,
            "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface",
            "CreateWithMasterPassword",
            "a{sv}(oayays)",
            ({"org.freedesktop.Secret.Collection.Label": ("s", name)}, (session, b"", b"pw", "text/plain")),
        )
    assert decode_path(path) == f"{SERVICE_PATH}/collection/{name}", path
    for entry in entries:
        key = entry["key"]
        properties = {
            "org.freedesktop.Secret.Item.Label": ("s", key),
            "org.freedesktop.Secret.Item.Attributes": ("a{ss}", {"profile": key}),
        }
        secret = (session, b"", keyring_item(entry), "application/json")
        call(path, "org.freedesktop.Secret.Collection", "CreateItem", "a{sv}(oayays)b", (properties, secret, True))


def list_secret_service(name: str) -> list:
    call, session = connect()
    path = collection_path(call, name)
    if path is None:
        return []
    (items,) = call(path, "org.freedesktop.DBus.Properties", "Get", "ss", ("org.freedesktop.Secret.Collection", "Items"))
    out = []
    for item in items[1]:
        get = lambda prop: call(item, "org.freedesktop.DBus.Properties", "Get", "ss", ("org.freedesktop.Secret.Item", prop))[0][1]
        (secret,) = call(item, "org.freedesktop.Secret.Item", "GetSecret", "o", (session,))
        out.append({"label": get("Label"), "attributes": dict(get("Attributes")), "secret": secret[2].decode()})
    return out


def main() -> int:
    action = sys.argv[1]
    if action == "secret-service":
        write_secret_service(sys.argv[2], json.load(sys.stdin))
    elif action == "file":
        write_files(sys.argv[2], sys.argv[3], json.load(sys.stdin))
    elif action == "list":
        print(json.dumps(list_secret_service(sys.argv[2])))
    elif action == "jwe":  # one token of stdin's bytes, for the unit test's sample
        print(jose2go_encrypt(sys.stdin.buffer.read(), sys.argv[2]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
