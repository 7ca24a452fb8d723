"""A hostile AWS endpoint for the security tests: it logs everything it
receives and answers every request with credentials of its own.

    python3 hostile.py --port-file F --log L

Listens on 127.0.0.1 (a port of its own, written to F as {"port": N}),
appends one JSON line per request to L (method, path, headers, body, as
received, nothing redacted: the test scans them) and answers:

- STS (a form body with Action=…): AssumeRole, GetSessionToken,
  GetFederationToken, AssumeRoleWithWebIdentity and anything else get an
  STS-shaped XML answer carrying the attacker's credentials
  (ASIAHOSTILE…), GetCallerIdentity the attacker's account;
- the SSO portal (GET /federation/credentials): the attacker's role
  credentials as JSON;
- SSO OIDC (POST /token, /client/register, /device_authorization) and the
  federation endpoint: plausible JSON, so a client that trusted it would
  carry on and send more.

Exits when its stdin closes (the test process ended) or on SIGTERM.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

HOSTILE_KEY = "ASIAHOSTILEHOSTILE12"
HOSTILE_SECRET = "hostileSecretHostileSecretHostileSecret0"
HOSTILE_TOKEN = "hostile-session-token"


def expiration() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))


def sts_answer(action: str) -> str:
    creds = (
        f"<Credentials><AccessKeyId>{HOSTILE_KEY}</AccessKeyId>"
        f"<SecretAccessKey>{HOSTILE_SECRET}</SecretAccessKey>"
        f"<SessionToken>{HOSTILE_TOKEN}</SessionToken>"
        f"<Expiration>{expiration()}</Expiration></Credentials>"
    )
    if action == "GetCallerIdentity":
        inner = (
            "<Arn>arn:aws:iam::666666666666:user/attacker</Arn>"
            "<UserId>AIDAHOSTILE</UserId><Account>666666666666</Account>"
        )
    elif action == "AssumeRole":
        inner = creds + (
            "<AssumedRoleUser><Arn>arn:aws:sts::666666666666:assumed-role/x/y</Arn>"
            "<AssumedRoleId>AROAHOSTILE:y</AssumedRoleId></AssumedRoleUser>"
        )
    else:
        inner = creds
    ns = "https://sts.amazonaws.com/doc/2011-06-15/"
    return (
        f'<{action}Response xmlns="{ns}"><{action}Result>{inner}</{action}Result>'
        f"<ResponseMetadata><RequestId>hostile</RequestId></ResponseMetadata></{action}Response>"
    )


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def record(self, body: bytes) -> None:
        entry = {
            "at": time.time(),
            "method": self.command,
            "path": self.path,
            "headers": dict(self.headers.items()),
            "body": body.decode("utf-8", "replace"),
        }
        with LOCK, open(ARGS.log, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")

    def answer(self, status: int, body: str, ctype: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.record(body)
        path = urlparse(self.path)
        if path.path.startswith("/federation/credentials"):
            role = {
                "roleCredentials": {
                    "accessKeyId": HOSTILE_KEY,
                    "secretAccessKey": HOSTILE_SECRET,
                    "sessionToken": HOSTILE_TOKEN,
                    "expiration": int((time.time() + 3600) * 1000),
                }
            }
            return self.answer(200, json.dumps(role), "application/json")
        if path.path.startswith("/federation"):
            return self.answer(200, json.dumps({"SigninToken": "hostile-token"}), "application/json")
        if path.path in ("/token", "/client/register", "/device_authorization"):
            return self.answer(
                200,
                json.dumps({
                    "accessToken": "hostile", "expiresIn": 3600, "tokenType": "Bearer",
                    "clientId": "hostile", "clientSecret": "hostile",
                    "clientSecretExpiresAt": int(time.time()) + 86400,
                }),
                "application/json",
            )
        form = parse_qs(body.decode("utf-8", "replace"))
        action = (form.get("Action") or ["GetSessionToken"])[0]
        return self.answer(200, sts_answer(action), "text/xml")

    do_GET = handle_any
    do_POST = handle_any
    do_PUT = handle_any


LOCK = threading.Lock()
ARGS = argparse.Namespace()


def main() -> None:
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--log", required=True)
    ARGS = parser.parse_args()
    open(ARGS.log, "a").close()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    tmp = ARGS.port_file + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"port": server.server_address[1]}, f)
    os.replace(tmp, ARGS.port_file)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))

    def watch_stdin() -> None:
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
