#!/usr/bin/env python3
"""Leapp's store, written exactly as Leapp (github.com/Noovolari/leapp
v0.26.1, packages/core 0.1.165) writes it, for the import tests (Leapp
cannot be installed here).

  leapp_store.py workspace PATH < workspace.json
      PATH (~/.Leapp/Leapp-lock.json: core models/constants.ts
      `lockFileDestination`) holds the workspace as
      services/repository.ts `persistWorkspace` writes it:
      `fileService.encryptText(serialize(workspace))`. serialize is
      class-transformer 0.4's JSON of models/workspace.ts, whose private
      fields appear as "_sessions", "_profiles", … (models/workspace.spec.ts
      shows the empty workspace's text, reproduced by `empty_workspace`);
      the sessions are models/session.ts and its subclasses
      (models/aws/aws-iam-user-session.ts: sessionName, region, sessionId,
      status, startDateTime, mfaDevice, type, profileId, awsAccount).
      encryptText (services/file-service.ts) is crypto-js 4.2.0's
      `AES.encrypt(text.trim(), aesKey).toString()` with aesKey =
      `nativeService.machineId` = node-machine-id 1.1.12 `machineIdSync()`:
      on Linux the first line of `( cat /var/lib/dbus/machine-id
      /etc/machine-id || hostname )`, white space removed, lower-cased,
      SHA-256 in hex.
      This uses THIS machine's id the same way, so the keyfob under test
      opens it as Leapp on this machine would. crypto-js's passphrase AES
      is OpenSSL's format (cipher-core.js OpenSSLFormatter, OpenSSLKdf,
      evpkdf.js): base64("Salted__" + 8 random salt bytes + AES-256-CBC
      PKCS#7 ciphertext), key and IV from EVP_BytesToKey(MD5, 1 iteration).
      workspace.json: {"sessions": [...], "profiles": [{"id", "name"}],
      "key": optional passphrase instead of the machine id's (a workspace
      from another machine), "raw": optional text encrypted instead of the
      workspace's JSON}.
  leapp_store.py keytar < items.json
      each {"account": A, "password": P} as keytar 7.9.0 (src/keytar_posix.cc
      `SetPassword`, through libsecret's secret_password_store_sync) stores
      `keychainService.saveSecret("Leapp", A, P)`
      (services/keychain-service.ts; the accounts are
      `<sessionId>-iam-user-aws-session-access-key-id` and
      `…-secret-access-key`, services/session/aws/aws-iam-user-service.ts
      `create`): an item in the default collection
      (SECRET_COLLECTION_DEFAULT, the "default" alias), label
      "Leapp/<account>", attributes {"service": "Leapp", "account": A,
      "xdg:schema": "org.freedesktop.Secret.Generic"} (libsecret adds the
      schema's name), the secret P as text/plain, replacing an item with
      the same attributes.
  leapp_store.py list
      prints keytar's Leapp items as JSON [{"label", "attributes", "secret"}].

Only the standard library, jeepney (D-Bus) and cryptography.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys

SECRETS = "org.freedesktop.secrets"
SERVICE_PATH = "/org/freedesktop/secrets"
SCHEMA = "org.freedesktop.Secret.Generic"


def machine_id() -> str:
    """node-machine-id 1.1.12 machineIdSync() on Linux (hashed)."""
    # `( cat /var/lib/dbus/machine-id /etc/machine-id 2> /dev/null ||
    # hostname ) | head -n 1`: the first file there is, else the host name.
    for path in ("/var/lib/dbus/machine-id", "/etc/machine-id"):
        try:
            with open(path) as f:
                raw = f.read()
            break
        except OSError:
            continue
    else:
        import socket

        raw = socket.gethostname()
    first = "".join((raw.splitlines() or [""])[0].split()).lower()
    return hashlib.sha256(first.encode()).hexdigest()


def cryptojs_encrypt(text: str, passphrase: str) -> str:
    """crypto-js 4.2.0 AES.encrypt(text, passphrase).toString()."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    salt = os.urandom(8)
    derived, block = b"", b""
    while len(derived) < 48:
        block = hashlib.md5(block + passphrase.encode() + salt).digest()
        derived += block
    key, iv = derived[:32], derived[32:48]
    padder = padding.PKCS7(128).padder()
    data = padder.update(text.encode()) + padder.finalize()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return base64.b64encode(b"Salted__" + salt + enc.update(data) + enc.finalize()).decode()


def empty_workspace() -> dict:
    """models/workspace.ts `new Workspace()` as serialized (workspace.spec.ts)."""
    return {
        "_sessions": [],
        "_awsSsoIntegrations": [],
        "_azureIntegrations": [],
        "_defaultRegion": "us-east-1",
        "_defaultLocation": "eastus",
        "_macOsTerminal": "Terminal",
        "_idpUrls": [],
        "_profiles": [],
        "_remoteWorkspacesSettingsMap": {},
        "_notifications": [],
        "_pluginsStatus": [],
        "_pinned": [],
        "_folders": [],
        "_segments": [],
        "_extensionEnabled": False,
        "_proxyConfiguration": {"proxyProtocol": "https", "proxyPort": "8080"},
        "_credentialMethod": "credential-file-method",
        "_samlRoleSessionDuration": 3600,
        "_ssmRegionBehaviour": "No",
        # constants.ts workspaceLastVersion, set by the constructor.
        "_workspaceVersion": 7,
    }


def write_workspace(path: str, spec: dict) -> None:
    workspace = empty_workspace()
    workspace["_sessions"] = spec.get("sessions", [])
    workspace["_profiles"] = spec.get("profiles", [])
    # class-transformer's serialize is JSON.stringify: compact. "raw":
    # other text in its place (a broken workspace).
    text = spec.get("raw") or json.dumps(workspace, separators=(",", ":"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(cryptojs_encrypt(text.strip(), spec.get("key") or machine_id()))


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


def write_keytar(items: list) -> None:
    call, session = connect()
    (path,) = call(SERVICE_PATH, "org.freedesktop.Secret.Service", "ReadAlias", "s", ("default",))
    assert path != "/", "no default collection"
    for item in items:
        account = item["account"]
        properties = {
            "org.freedesktop.Secret.Item.Label": ("s", f"Leapp/{account}"),
            "org.freedesktop.Secret.Item.Attributes": (
                "a{ss}",
                {"service": "Leapp", "account": account, "xdg:schema": SCHEMA},
            ),
        }
        secret = (session, b"", item["password"].encode(), "text/plain")
        call(path, "org.freedesktop.Secret.Collection", "CreateItem", "a{sv}(oayays)b", (properties, secret, True))


def list_keytar() -> list:
    call, session = connect()
    unlocked, locked = call(SERVICE_PATH, "org.freedesktop.Secret.Service", "SearchItems", "a{ss}", ({"service": "Leapp"},))
    out = []
    for item in list(unlocked) + list(locked):
        get = lambda prop: call(item, "org.freedesktop.DBus.Properties", "Get", "ss", ("org.freedesktop.Secret.Item", prop))[0][1]
        (secret,) = call(item, "org.freedesktop.Secret.Item", "GetSecret", "o", (session,))
        out.append({"label": get("Label"), "attributes": dict(get("Attributes")), "secret": secret[2].decode()})
    out.sort(key=lambda i: i["label"])
    return out


def main() -> int:
    action = sys.argv[1]
    if action == "workspace":
        write_workspace(sys.argv[2], json.load(sys.stdin))
    elif action == "keytar":
        write_keytar(json.load(sys.stdin))
    elif action == "list":
        print(json.dumps(list_keytar()))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
