#!/usr/bin/env python3
"""A stand-in web browser for Identity Center's browser sign-in, for BROWSER=.

    BROWSER=tests/support/sso_browser.py  aws sso login ... | keyfob sso login ...

Given the authorization URL (…/authorize?…), it does what a person's browser
does: GET it (the emulator, tests/support/sso_emulator.py S11, answers as the
instance's settings.browser_user would: a redirect to the client's loopback
with code and state, or with error=access_denied), then deliver that redirect
to the loopback listener and read its page. It returns at once and works in a
child process: Python's webbrowser (the AWS CLI's) waits for a BROWSER
command to exit before it serves its loopback, and the child ends by itself
(every request has a timeout).

KEYFOB_TEST_BROWSER_MODE:
  follow       (default) deliver the redirect as it is
  wrong-state  deliver it with another state value (a hostile page)
  other-user-first  another local user (nobody, through runuser; only when
               this runs as root) delivers it first, as one who read the
               URL from /proc could; then it is delivered as it is. The
               log's "intruder" is the status that user got (null: not root)
  ignore       open nothing (a browser that never comes back)
KEYFOB_TEST_SIGNIN_USER, if set (ACCOUNT/USER): for AWS Sign-In's authorize
  URL (…/v1/authorize?…, `aws login`; tests/support/signin_emulator.py L1) the
  console user this browser is signed in as, passed as login_hint, so tests
  sharing one launcher each sign in as their own user. Other URLs are
  opened as they are. (`aws login --remote` opens no browser: its
  confirmation page is read by the test, see tests/support/check_signin.py.)
KEYFOB_TEST_BROWSER_LOG, if set: a file that gets one JSON line per URL
  opened: {"mode", "authorize": {query parameters but code_challenge},
  "redirect": {"scheme", "host", "port", "path", "params": [names]},
  "status": what the loopback answered, "page": its first 200 characters}.
  Never a code or token.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001
        return None


def visit(url: str, mode: str) -> dict:
    record: dict = {"mode": mode}
    parts = urlsplit(url)
    user = os.environ.get("KEYFOB_TEST_SIGNIN_USER")
    if user and parts.path == "/v1/authorize":  # AWS Sign-In (aws login)
        url = urlunsplit(parts._replace(query=parts.query + "&" + urlencode({"login_hint": user})))
    record["authorize"] = {k: v for k, v in parse_qsl(parts.query) if k != "code_challenge"}
    if mode == "ignore":
        return record
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=20) as resp:
            record["status"] = resp.status
            record["page"] = resp.read(200).decode(errors="replace")
            return record  # no redirect: the emulator's page says why
    except urllib.error.HTTPError as e:
        if e.code not in (301, 302, 303, 307):
            record["status"] = e.code
            record["page"] = e.read(200).decode(errors="replace")
            return record
        location = e.headers["Location"]
    target = urlsplit(location)
    params = parse_qsl(target.query)
    record["redirect"] = {
        "scheme": target.scheme,
        "host": target.hostname,
        "port": target.port,
        "path": target.path,
        "params": [k for k, _ in params],
    }
    if mode == "wrong-state":
        params = [(k, "hostile-" + v if k == "state" else v) for k, v in params]
        location = urlunsplit(target._replace(query=urlencode(params)))
    if mode == "other-user-first":
        record["intruder"] = None
        if os.geteuid() == 0:
            fetch = (
                "import sys, urllib.request, urllib.error\n"
                "try:\n"
                "    print(urllib.request.urlopen(sys.argv[1], timeout=10).status)\n"
                "except urllib.error.HTTPError as e:\n"
                "    print(e.code)\n"
            )
            p = subprocess.run(
                ["runuser", "-u", "nobody", "--", "/usr/bin/python3", "-c", fetch, location],
                capture_output=True, text=True, timeout=30,
            )
            record["intruder"] = p.stdout.strip() or p.stderr.strip()[-200:]
    try:
        with urllib.request.urlopen(location, timeout=20) as resp:
            record["status"] = resp.status
            record["page"] = resp.read(200).decode(errors="replace")
    except urllib.error.HTTPError as e:
        record["status"] = e.code
        record["page"] = e.read(200).decode(errors="replace")
    except OSError as e:
        record["status"] = None
        record["page"] = f"{type(e).__name__}: {e}"
    return record


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: sso_browser.py URL", file=sys.stderr)
        return 2
    if os.fork() != 0:
        return 0  # the caller goes on; the child visits
    os.setsid()
    mode = os.environ.get("KEYFOB_TEST_BROWSER_MODE", "follow")
    try:
        record = visit(sys.argv[1], mode)
    except Exception as e:  # noqa: BLE001 - reported in the log, not raised at nobody
        record = {"mode": mode, "error": f"{type(e).__name__}: {e}"}
    log = os.environ.get("KEYFOB_TEST_BROWSER_LOG")
    if log:
        with open(log, "a") as f:
            f.write(json.dumps(record) + "\n")
    return 0


if __name__ == "__main__":
    os._exit(main())
