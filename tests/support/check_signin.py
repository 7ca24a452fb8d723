#!/usr/bin/env python3
"""Self-check of tests/support/signin_emulator.py against the real AWS CLI v2.

    python3 tests/support/check_signin.py

Starts tests/support/moto_launcher.py, configures console users through
/keyfob-test/signin/configure, then:
  1. runs the current AWS CLI v2 (2.38, target/awscli-v2 from scripts/deps, or
     KEYFOB_TEST_AWS_CLI_V2) for real in a temporary HOME, reaching the
     emulator through AWS_ENDPOINT_URL_SIGNIN (which its background refresh
     reads too) and moto through AWS_ENDPOINT_URL:
       - `aws login --profile p --region us-east-1` (same device;
         BROWSER=tests/support/sso_browser.py follows the authorize URL and
         delivers the redirect to the CLI's loopback), then
         `aws sts get-caller-identity --profile p` names the IAM user; the
         cache file in ~/.aws/login/cache/ has the CLI's layout;
       - 16 minutes later (the launcher's clock, and the cache's expiresAt
         moved back by as much: the CLI judges expiry by its own clock) it
         refreshes with its DPoP key: a new access key, a rotated refresh
         token, the old one refused;
       - past 12 hours it says to sign in again; after a password change it
         says so;
       - `aws login --remote`: the authorize URL it prints is fetched, the
         verification code read from the confirmation page and typed on its
         standard input;
       - a denied sign-in fails; `aws logout` removes the cache file;
  2. urllib and boto3 against the refusals: missing, forged and replayed DPoP
     proofs, wrong htu, a refresh with another key, wrong verifier and
     redirect, reused and expired codes, a bad clientId, and the revoke
     endpoint unsigned, badly signed and signed by another user; each
     answer's status, x-amzn-ErrorType and "error" member as botocore reads
     them.
Prints one PASS/FAIL line per check and "N passed, M failed"; exits non-zero
on any failure. Ends every process it starts.
"""

from __future__ import annotations

import base64
import glob
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import signin_emulator  # noqa: E402

LAUNCHER = os.path.join(HERE, "moto_launcher.py")
# The current AWS CLI v2 (2.38), which scripts/deps installs from PyPI; a git
# worktree has no target/, so KEYFOB_TEST_AWS_CLI_V2 may name another copy.
AWS_CLI_V2 = os.environ.get("KEYFOB_TEST_AWS_CLI_V2") or os.path.join(
    HERE, "..", "..", "target", "awscli-v2", "dist", "aws"
)
BROWSER = os.path.join(HERE, "sso_browser.py")
SAME = "arn:aws:signin:::devtools/same-device"
CROSS = "arn:aws:signin:::devtools/cross-device"
ACCT = "123456789012"

CHECKS: list[tuple[str, Callable[[], None]]] = []


def check(fn: Callable[[], None]) -> Callable[[], None]:
    CHECKS.append((fn.__name__, fn))
    return fn


def run_check(name: str, fn: Callable[[], None]) -> bool:
    try:
        fn()
        print(f"PASS {name}")
        return True
    except Exception as e:  # noqa: BLE001
        print(f"FAIL {name}: {type(e).__name__}: {e}")
        traceback.print_exc(limit=3, file=sys.stdout)
        return False
    finally:
        set_clock(0)  # every check starts at real time


class Env:
    endpoint = ""
    info: dict[str, Any] = {}
    workdir = ""
    timings: dict[str, float] = {}
    secrets: list[str] = []  # issued before the reset check


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def test_api(method: str, path: str, body: dict | None = None, expect: int = 200) -> Any:
    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    req = urllib.request.Request(
        Env.endpoint + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            status, answer = resp.status, json.load(resp)
    except urllib.error.HTTPError as e:
        status, answer = e.code, json.load(e)
    assert status == expect, f"{method} {path}: expected {expect}, got {status}: {answer}"
    return answer


def set_clock(seconds: float) -> None:
    if Env.endpoint:
        test_api("POST", "/keyfob-test/clock", {"advance_seconds": seconds})


def configure(user: str, **settings: Any) -> dict:
    return test_api("POST", "/keyfob-test/signin/configure", {"user_name": user, **settings})


def status(user: str | None = None) -> dict:
    return test_api("GET", "/keyfob-test/signin/status" + (f"?user_name={user}" if user else ""))


def cli_env(home: str, **extra: str) -> dict:
    env = {
        "HOME": home,
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "AWS_CONFIG_FILE": os.path.join(home, ".aws", "config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, ".aws", "credentials"),
        "AWS_ENDPOINT_URL_SIGNIN": Env.endpoint,  # aws login and the refresh alike
        "AWS_ENDPOINT_URL": Env.endpoint,  # sts (moto)
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_PAGER": "",
        "PYTHONUNBUFFERED": "1",
        "BROWSER": BROWSER,
        "KEYFOB_TEST_BROWSER_LOG": os.path.join(home, "browser.log"),
    }
    env.update(extra)
    return env


def new_home(name: str) -> str:
    home = os.path.join(Env.workdir, name)
    os.makedirs(os.path.join(home, ".aws"))
    return home


def aws(env: dict, *args: str, stdin: str | None = None, timeout: float = 90) -> subprocess.CompletedProcess:
    return subprocess.run(
        [AWS_CLI_V2, *args], input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True, env=env, text=True, timeout=timeout,
    )


def caller(env: dict, profile: str) -> subprocess.CompletedProcess:
    return aws(env, "sts", "get-caller-identity", "--profile", profile, "--region", "us-east-1", "--output", "json")


def cache_files(home: str) -> list[str]:
    return sorted(glob.glob(os.path.join(home, ".aws", "login", "cache", "*.json")))


def read_cache(home: str, session: str) -> tuple[str, dict]:
    path = os.path.join(home, ".aws", "login", "cache", hashlib.sha256(session.encode()).hexdigest() + ".json")
    with open(path) as f:
        return path, json.load(f)


def age_client_cache(path: str) -> None:
    """The CLI judges expiry by its own clock (expiresAt in its cache): move that
    back as the launcher's clock moves forward."""
    with open(path) as f:
        token = json.load(f)
    token["accessToken"]["expiresAt"] = "2000-01-01T00:00:00Z"
    with open(path, "w") as f:
        json.dump(token, f)


def dpop_key_of(token: dict) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(token["dpopKey"].encode(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def public_jwk(key: ec.EllipticCurvePrivateKey) -> dict:
    numbers = key.public_key().public_numbers()
    b = signin_emulator.b64url
    return {"kty": "EC", "x": b(numbers.x.to_bytes(32, "big")), "y": b(numbers.y.to_bytes(32, "big")), "crv": "P-256"}


def dpop(key: ec.EllipticCurvePrivateKey, url: str | None = None, **overrides: Any) -> str:
    """A DPoP proof as botocore's build_dpop_header makes it; overrides change
    header members (typ, alg, jwk) or payload members (htm, htu, iat, jti)."""
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": public_jwk(key)}
    payload = {"htm": "POST", "htu": url or Env.endpoint + "/v1/token", "iat": int(time.time()),
               "jti": str(uuid.uuid4())}
    for name, value in overrides.items():
        (header if name in header else payload)[name] = value
    return signin_emulator.make_jwt(key, header, payload)


def raw(method: str, path: str, body: Any = None, headers: dict | None = None) -> tuple[int, dict, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(Env.endpoint + path, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            text = resp.read()
            return resp.status, dict(resp.headers), json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        text = e.read()
        return e.code, dict(e.headers), json.loads(text) if text else None


def token_call(body: dict, proof: str | None) -> tuple[int, dict, Any]:
    return raw("POST", "/v1/token", body, {"DPoP": proof} if proof else {})


def expect_refusal(answer: tuple[int, dict, Any], status_code: int, code: str, error: str | None) -> None:
    got_status, headers, body = answer
    got_code = headers.get("x-amzn-ErrorType")
    got_error = (body or {}).get("error")
    # What was got, without the credentials or tokens of a success
    shown = {k: v for k, v in (body or {}).items() if k in ("error", "message")} or sorted(body or {})
    assert (got_status, got_code, got_error) == (status_code, code, error), (
        f"expected {status_code} {code} {error}, got {got_status} {got_code} {shown}"
    )
    assert headers.get("x-amzn-RequestId"), headers


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001
        return None


def authorize(user: str | None = None, client_id: str = SAME, redirect_uri: str = "http://127.0.0.1:9/cb",
              verifier: str | None = None, **params: str) -> tuple[int, dict[str, str], str]:
    """GET /v1/authorize without following; returns (status, redirect params, verifier)."""
    verifier = verifier or base64.urlsafe_b64encode(os.urandom(48)).decode().rstrip("=")
    query = {"response_type": "code", "client_id": client_id, "state": "st-1", "code_challenge_method": "SHA-256",
             "scope": "openid", "redirect_uri": redirect_uri}
    if user:
        query["login_hint"] = f"{ACCT}/{user}"
    query.update(params)
    url = (f"{Env.endpoint}/v1/authorize?{urllib.parse.urlencode(query)}"
           f"&code_challenge={params.get('code_challenge', signin_emulator.pkce_challenge(verifier))}")
    try:
        with urllib.request.build_opener(NoRedirect).open(url, timeout=10) as resp:
            return resp.status, {}, verifier
    except urllib.error.HTTPError as e:
        if e.code != 302:
            return e.code, {}, verifier
        location = urllib.parse.urlsplit(e.headers["Location"])
        return 302, dict(urllib.parse.parse_qsl(location.query)), verifier


def redeem(user: str, key: ec.EllipticCurvePrivateKey) -> dict:
    _, got, verifier = authorize(user)
    answer = token_call({"clientId": SAME, "grantType": "authorization_code", "code": got["code"],
                         "codeVerifier": verifier, "redirectUri": "http://127.0.0.1:9/cb"}, dpop(key))
    assert answer[0] == 200, answer
    return answer[2]


def refresh(token: str, key: ec.EllipticCurvePrivateKey) -> tuple[int, dict, Any]:
    return token_call({"clientId": SAME, "grantType": "refresh_token", "refreshToken": token}, dpop(key))


def sts_client(creds: dict):
    return boto3.client(
        "sts", endpoint_url=Env.endpoint, region_name="us-east-1",
        aws_access_key_id=creds["accessKeyId"], aws_secret_access_key=creds["secretAccessKey"],
        aws_session_token=creds.get("sessionToken"), config=Config(retries={"max_attempts": 1}),
    )


def signin_client(creds: dict | None):
    """boto3's own signin client (its model has RevokeOAuth2TokenWithIAM): a real
    SDK's SigV4 signature and error parsing."""
    kwargs: dict[str, Any] = {}
    if creds is not None:
        kwargs = {"aws_access_key_id": creds["accessKeyId"], "aws_secret_access_key": creds["secretAccessKey"],
                  "aws_session_token": creds.get("sessionToken")}
    return boto3.client("signin", endpoint_url=Env.endpoint, region_name="eu-west-1",
                        config=Config(retries={"total_max_attempts": 1}), **kwargs)


def expect_client_error(call: Callable[[], Any], status_code: int, code: str, error: str | None = None) -> dict:
    try:
        result = call()
    except ClientError as e:
        got = (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"], e.response.get("error"))
        assert got == (status_code, code, error), f"expected {status_code} {code} {error}, got {got}"
        return e.response
    raise AssertionError(f"expected {status_code} {code}, but the call succeeded: {sorted(result)}")


# --------------------------------------------------------------------------
# 1. the AWS CLI v2 2.38, for real
# --------------------------------------------------------------------------


class Cli:
    home = ""
    env: dict = {}
    arn = f"arn:aws:iam::{ACCT}:user/alice"


@check
def aws_cli_login_same_device_and_get_caller_identity() -> None:
    version = subprocess.run([AWS_CLI_V2, "--version"], capture_output=True, text=True, timeout=60)
    assert version.stdout.startswith("aws-cli/2.38."), version.stdout + version.stderr
    assert configure("alice")["principal_arn"] == Cli.arn
    Cli.home = new_home("cli-home")
    Cli.env = cli_env(Cli.home)
    started = time.monotonic()
    result = aws(Cli.env, "login", "--profile", "p", "--region", "us-east-1")
    Env.timings["aws login (same device)"] = time.monotonic() - started
    assert result.returncode == 0, f"aws login exited {result.returncode}: {result.stderr[-2000:]}"
    assert f"Updated profile p to use {Cli.arn} credentials." in result.stdout, result.stdout
    with open(os.path.join(Cli.home, "browser.log")) as f:
        visits = [json.loads(line) for line in f]
    assert len(visits) == 1, visits
    query = visits[0]["authorize"]
    assert (query["client_id"], query["code_challenge_method"], query["scope"], query["response_type"]) == (
        SAME, "SHA-256", "openid", "code"), query
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/oauth/callback", query["redirect_uri"]), query
    assert visits[0]["redirect"]["params"] == ["code", "state"] and visits[0]["status"] == 200, visits[0]
    with open(os.path.join(Cli.home, ".aws", "config")) as f:
        assert f"login_session = {Cli.arn}" in f.read()
    # The cache: one file, named by sha256 of the session (generate_login_cache_key).
    assert len(cache_files(Cli.home)) == 1, cache_files(Cli.home)
    path, token = read_cache(Cli.home, Cli.arn)
    assert sorted(token) == ["accessToken", "clientId", "dpopKey", "idToken", "refreshToken", "tokenType"], token.keys()
    assert sorted(token["accessToken"]) == ["accessKeyId", "accountId", "expiresAt", "secretAccessKey",
                                            "sessionToken"]
    assert token["accessToken"]["accountId"] == ACCT and token["accessToken"]["accessKeyId"].startswith("ASIA")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", token["accessToken"]["expiresAt"]), token["accessToken"]
    assert (token["tokenType"], token["clientId"]) == ("aws_sigv4", SAME)
    assert token["refreshToken"].startswith("ASOR") and token["dpopKey"].startswith("-----BEGIN EC PRIVATE KEY-----")
    claims = json.loads(signin_emulator.b64url_decode(token["idToken"].split(".")[1]))
    assert claims["sub"] == Cli.arn and claims["aud"] == SAME, claims
    st = status("alice")
    # The proof was made with the key the CLI cached.
    assert st["dpop_thumbprints"] == [signin_emulator.jwk_thumbprint(public_jwk(dpop_key_of(token)))], st
    assert (st["codes_issued"], st["codes_redeemed"], st["active_families"]) == (1, 1, 1), st
    result = caller(Cli.env, "p")
    assert result.returncode == 0, result.stderr[-2000:]
    answer = json.loads(result.stdout)
    assert (answer["Arn"], answer["Account"]) == (Cli.arn, ACCT), answer


@check
def aws_cli_refreshes_with_dpop_after_16_minutes() -> None:
    path, before = read_cache(Cli.home, Cli.arn)
    set_clock(16 * 60)
    stale = caller(Cli.env, "p")  # the CLI still trusts its cache: moto says expired
    assert stale.returncode != 0 and "ExpiredToken" in stale.stderr, stale.stderr[-1000:]
    age_client_cache(path)
    started = time.monotonic()
    result = caller(Cli.env, "p")
    Env.timings["aws sts get-caller-identity (refresh with DPoP)"] = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["Arn"] == Cli.arn
    _, after = read_cache(Cli.home, Cli.arn)
    assert after["accessToken"]["accessKeyId"] != before["accessToken"]["accessKeyId"]
    assert after["refreshToken"] != before["refreshToken"] and after["refreshToken"].startswith("ASOR")
    assert after["dpopKey"] == before["dpopKey"] and after["idToken"] == before["idToken"]
    st = status("alice")
    assert st["refreshes"] == 1 and len(st["dpop_thumbprints"]) == 1, st
    # The rotated-away refresh token, even with the right key: refused.
    expect_refusal(refresh(before["refreshToken"], dpop_key_of(before)), 401, "AccessDeniedException",
                   "TOKEN_EXPIRED")
    # The refreshed credentials expire 15 minutes later by the same clock.
    set_clock(16 * 60 + 901)
    expired = caller(Cli.env, "p")
    assert expired.returncode != 0 and "ExpiredToken" in expired.stderr, expired.stderr[-1000:]


@check
def aws_cli_says_sign_in_again_after_12_hours() -> None:
    path, _ = read_cache(Cli.home, Cli.arn)
    set_clock(12 * 3600 + 60)
    age_client_cache(path)
    result = caller(Cli.env, "p")
    assert result.returncode != 0, result.stdout
    assert "Your session has expired. Please reauthenticate using 'aws login'." in result.stderr, result.stderr


@check
def aws_cli_after_password_change_and_denial() -> None:
    assert configure("bob", browser_default=False)["principal_arn"].endswith(":user/bob")
    home = new_home("cli-bob")
    env = cli_env(home, KEYFOB_TEST_SIGNIN_USER=f"{ACCT}/bob")
    result = aws(env, "login", "--profile", "b", "--region", "us-east-1")
    assert result.returncode == 0, result.stderr[-2000:]
    arn = f"arn:aws:iam::{ACCT}:user/bob"
    assert json.loads(caller(env, "b").stdout)["Arn"] == arn
    assert test_api("POST", "/keyfob-test/signin/password-changed", {"user_name": "bob"}) == {"sessions_affected": 1}
    path, _ = read_cache(home, arn)
    age_client_cache(path)
    result = caller(env, "b")
    assert result.returncode != 0
    assert "because of a change in your password" in result.stderr, result.stderr
    configure("bob", browser_default=False, consent="deny")
    result = aws(env, "login", "--profile", "b2", "--region", "us-east-1")
    assert result.returncode != 0 and "Failed to retrieve an authorization code" in result.stderr, result.stderr
    configure("bob", browser_default=False, insufficient_permissions=True)
    result = aws(env, "login", "--profile", "b3", "--region", "us-east-1")
    assert result.returncode != 0 and "insufficient permissions" in result.stderr, result.stderr
    assert status("bob")["refused"] == {"user_credentials_changed": 1, "insufficient_permissions": 1}


@check
def aws_cli_login_remote_cross_device() -> None:
    configure("carol")  # the browser's default user now
    home = new_home("cli-remote")
    env = cli_env(home)
    proc = subprocess.Popen(
        [AWS_CLI_V2, "login", "--remote", "--profile", "r", "--region", "us-east-1"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
    )
    lines: list[str] = []
    errors: list[str] = []
    readers = [
        threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True),
        threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True),
    ]
    for t in readers:
        t.start()
    try:
        url, deadline = None, time.monotonic() + 60
        while url is None and time.monotonic() < deadline and proc.poll() is None:
            url = next((line.strip() for line in list(lines) if line.startswith(Env.endpoint + "/v1/authorize?")),
                       None)
            time.sleep(0.05)
        assert url, f"no authorize URL printed: {''.join(lines)}"
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        assert (query["client_id"], query["redirect_uri"]) == (CROSS, Env.endpoint + "/v1/sessions/confirmation")
        with urllib.request.urlopen(url, timeout=10) as resp:  # follows the redirect, as a browser
            page = resp.read().decode()
        m = re.search(r'<code id="verification-code">([A-Za-z0-9+/=]+)</code>', page)
        assert m, page[:500]
        decoded = dict(urllib.parse.parse_qsl(base64.b64decode(m.group(1)).decode()))
        assert sorted(decoded) == ["code", "state"] and decoded["state"] == query["state"], sorted(decoded)
        proc.stdin.write(m.group(1) + "\n")  # typed at the CLI's prompt
        proc.stdin.close()
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for t in readers:
            t.join(timeout=10)
    out, err = "".join(lines), "".join(errors)
    assert proc.returncode == 0, f"aws login --remote exited {proc.returncode}: {err[-2000:]}"
    arn = f"arn:aws:iam::{ACCT}:user/carol"
    assert f"Updated profile r to use {arn} credentials." in out, out
    _, token = read_cache(home, arn)
    assert token["clientId"] == CROSS
    result = caller(env, "r")
    assert result.returncode == 0 and json.loads(result.stdout)["Arn"] == arn, result.stderr[-1000:]


@check
def aws_logout_removes_the_cache() -> None:
    assert len(cache_files(Cli.home)) == 1
    result = aws(Cli.env, "logout", "--profile", "p")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Removed cached login credentials for profile 'p'" in result.stdout, result.stdout
    assert cache_files(Cli.home) == []


# --------------------------------------------------------------------------
# 2. refusals, over the wire
# --------------------------------------------------------------------------


@check
def credentials_are_moto_valid_and_expire_in_15_minutes() -> None:
    configure("dave", browser_default=False)
    key = ec.generate_private_key(ec.SECP256R1())
    out = redeem("dave", key)
    assert (out["tokenType"], out["expiresIn"]) == ("aws_sigv4", 900), out.keys()
    assert sts_client(out["accessToken"]).get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCT}:user/dave"
    set_clock(901)
    expect_client_error(lambda: sts_client(out["accessToken"]).get_caller_identity(), 403, "ExpiredToken")


@check
def dpop_proofs_are_checked() -> None:
    configure("erin", browser_default=False)
    key = ec.generate_private_key(ec.SECP256R1())
    other = ec.generate_private_key(ec.SECP256R1())
    _, got, verifier = authorize("erin")
    body = {"clientId": SAME, "grantType": "authorization_code", "code": got["code"], "codeVerifier": verifier,
            "redirectUri": "http://127.0.0.1:9/cb"}
    bad = ("ValidationException", "INVALID_REQUEST")
    expect_refusal(token_call(body, None), 400, *bad)
    header, payload, _ = dpop(key).split(".")
    forged = f"{header}.{payload}.{dpop(other).split('.')[2]}"  # another key's signature
    expect_refusal(token_call(body, forged), 400, *bad)
    expect_refusal(token_call(body, dpop(key, url=Env.endpoint + "/v1/revoke")), 400, *bad)
    expect_refusal(token_call(body, dpop(key, url="http://127.0.0.2:1/v1/token")), 400, *bad)
    expect_refusal(token_call(body, dpop(key, htm="GET")), 400, *bad)
    expect_refusal(token_call(body, dpop(key, typ="JWT")), 400, *bad)
    expect_refusal(token_call(body, dpop(key, alg="HS256")), 400, *bad)
    expect_refusal(token_call(body, dpop(key, iat=int(time.time()) - 600)), 400, *bad)
    private = dict(public_jwk(key), d="AAAA")
    expect_refusal(token_call(body, dpop(key, jwk=private)), 400, *bad)
    # A proof used once (here with a wrong verifier: refused, the code stays usable) is never accepted again.
    proof = dpop(key, url=Env.endpoint + "/v1/token?ignored=query")  # htu compared without query
    expect_refusal(token_call(dict(body, codeVerifier="x" * 43), proof), 400, *bad)
    expect_refusal(token_call(body, proof), 400, *bad)
    assert token_call(body, dpop(key))[0] == 200
    refused = status("erin")["refused"]
    for reason in ("dpop_missing", "dpop_signature", "dpop_htu", "dpop_htm", "dpop_typ", "dpop_alg", "dpop_iat",
                   "dpop_jwk", "pkce_mismatch", "dpop_replay"):
        assert refused.get(reason), (reason, refused)


@check
def refresh_is_bound_to_the_key_and_rotates() -> None:
    configure("fay", browser_default=False)
    key = ec.generate_private_key(ec.SECP256R1())
    out = redeem("fay", key)
    other = ec.generate_private_key(ec.SECP256R1())
    expect_refusal(refresh(out["refreshToken"], other), 400, "ValidationException", "INVALID_REQUEST")
    expect_refusal(
        token_call({"clientId": CROSS, "grantType": "refresh_token", "refreshToken": out["refreshToken"]},
                   dpop(key)), 400, "ValidationException", "INVALID_REQUEST")
    status_code, _, new = refresh(out["refreshToken"], key)
    assert status_code == 200 and "idToken" not in new and new["refreshToken"] != out["refreshToken"], sorted(new)
    assert new["accessToken"]["accessKeyId"] != out["accessToken"]["accessKeyId"]
    expect_refusal(refresh(out["refreshToken"], key), 401, "AccessDeniedException", "TOKEN_EXPIRED")
    assert refresh(new["refreshToken"], key)[0] == 200
    st = status("fay")
    assert st["refreshes"] == 2 and st["refused"] == {"dpop_key_mismatch": 1, "client_mismatch": 1,
                                                      "token_expired": 1}, st


@check
def authorization_codes_are_single_use_bound_and_expire() -> None:
    configure("gus", browser_default=False)
    key = ec.generate_private_key(ec.SECP256R1())
    bad = (400, "ValidationException", "INVALID_REQUEST")
    _, got, verifier = authorize("gus")
    body = {"clientId": SAME, "grantType": "authorization_code", "code": got["code"], "codeVerifier": verifier,
            "redirectUri": "http://127.0.0.1:9/cb"}
    expect_refusal(token_call(dict(body, redirectUri="http://127.0.0.1:10/cb"), dpop(key)), *bad)
    expect_refusal(token_call(dict(body, clientId=CROSS), dpop(key)), *bad)
    expect_refusal(token_call(dict(body, clientId="arn:aws:signin:::devtools/other"), dpop(key)), *bad)
    expect_refusal(token_call(dict(body, codeVerifier="short"), dpop(key)), *bad)
    expect_refusal(token_call(dict(body, grantType="client_credentials"), dpop(key)), *bad)
    expect_refusal(token_call({"grantType": "authorization_code"}, dpop(key)), *bad)
    assert token_call(body, dpop(key))[0] == 200
    expect_refusal(token_call(body, dpop(key)), *bad)  # reused: refused, and the sign-in it gave ends
    assert [f["ended"] for f in status("gus")["families"]] == ["code-reuse"]
    _, got, verifier = authorize("gus")
    set_clock(301)
    expect_refusal(token_call(dict(body, code=got["code"], codeVerifier=verifier), dpop(key)), 401,
                   "AccessDeniedException", "AUTHCODE_EXPIRED")


@check
def authorize_refuses_bad_requests() -> None:
    configure("hal", browser_default=False)
    assert authorize("hal", client_id="arn:aws:signin:::devtools/other")[0] == 400
    assert authorize("hal", redirect_uri="https://example.com/cb")[0] == 400  # not loopback: no redirect
    assert authorize("hal", client_id=CROSS, redirect_uri="http://127.0.0.1:9/cb")[0] == 400
    assert authorize("hal", code_challenge_method="S256")[1]["error"] == "invalid_request"
    assert authorize("hal", code_challenge="short")[1]["error"] == "invalid_request"
    assert authorize("hal", scope="profile")[1]["error"] == "invalid_scope"
    assert authorize("hal", response_type="token")[1]["error"] == "unsupported_response_type"
    configure("hal", browser_default=False, consent="deny")
    got = authorize("hal")[1]
    assert (got["error"], got["state"]) == ("access_denied", "st-1"), got
    assert authorize("nobody-configured")[0] == 200  # a page saying nobody is signed in; no redirect


@check
def revoke_needs_the_principals_sigv4() -> None:
    configure("ivy", browser_default=False)
    configure("jon", browser_default=False)
    key = ec.generate_private_key(ec.SECP256R1())
    ivy, jon = redeem("ivy", key), redeem("jon", key)
    token = ivy["refreshToken"]
    path = "/v1/revoke?x-amz-client-auth-method=iam"
    expect_refusal(raw("POST", path, {"token": token}), 403, "MissingAuthenticationTokenException", None)
    wrong = dict(ivy["accessToken"], secretAccessKey="x" * 40)
    expect_client_error(lambda: signin_client(wrong).revoke_oauth2_token_with_iam(token=token), 403,
                        "InvalidSignatureException")
    expect_client_error(lambda: signin_client(dict(ivy["accessToken"], sessionToken="forged"))
                        .revoke_oauth2_token_with_iam(token=token), 403, "UnrecognizedClientException")
    admin = {"accessKeyId": Env.info["admin_access_key_id"], "secretAccessKey": Env.info["admin_secret_access_key"]}
    for foreign in (jon["accessToken"], admin):
        expect_client_error(lambda f=foreign: signin_client(f).revoke_oauth2_token_with_iam(token=token), 403,
                            "AccessDeniedException", "INSUFFICIENT_PERMISSIONS")
    expect_client_error(lambda: signin_client(ivy["accessToken"]).revoke_oauth2_token_with_iam(token="notASOR"),
                        400, "ValidationException", "INVALID_REQUEST")
    assert status("ivy")["active_families"] == 1
    answer = signin_client(ivy["accessToken"]).revoke_oauth2_token_with_iam(token=token)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    expect_refusal(refresh(token, key), 401, "AccessDeniedException", "TOKEN_EXPIRED")
    st = status("ivy")
    assert (st["revocations"], st["active_families"]) == (1, 0), st
    # Idempotent: again, and an unknown token, still 200; issued credentials stay valid.
    signin_client(ivy["accessToken"]).revoke_oauth2_token_with_iam(token=token)
    signin_client(ivy["accessToken"]).revoke_oauth2_token_with_iam(token="ASOR" + "A" * 60)
    assert sts_client(ivy["accessToken"]).get_caller_identity()["Arn"].endswith(":user/ivy")
    assert status("jon")["active_families"] == 1


@check
def test_endpoints_and_call_counts() -> None:
    calls = test_api("GET", "/keyfob-test/calls")
    for label in ("signin:Authorize", "signin:Confirmation", "signin:CreateOAuth2Token",
                  "signin:RevokeOAuth2TokenWithIAM"):
        assert calls.get(label), (label, calls)
    assert raw("GET", "/v1/token")[0] == 404
    key = ec.generate_private_key(ec.SECP256R1())
    proof = dpop(key, url=Env.endpoint + "/v1/token")
    expect_refusal(raw("POST", "/v1/token?x-amz-client-auth-method=iam", {"clientId": SAME}, {"DPoP": proof}),
                   404, "UnknownOperationException", None)
    assert test_api("POST", "/keyfob-test/signin/password-changed", {"user_name": "zed"}, expect=404)
    assert test_api("POST", "/keyfob-test/signin/configure", {"user_name": "a b"}, expect=400)
    assert test_api("POST", "/keyfob-test/signin/configure", {"user_name": "kim", "session_seconds": 50000},
                    expect=400)
    text = json.dumps(status())
    Env.secrets = test_api("GET", "/keyfob-test/signin/issued-secrets")["secrets"]
    for secret in Env.secrets:
        assert secret not in text
    # reset forgets sign-ins and users (the leak scan below keeps what was issued before)
    configure("lee", browser_default=False)
    key = ec.generate_private_key(ec.SECP256R1())
    out = redeem("lee", key)
    Env.secrets = test_api("GET", "/keyfob-test/signin/issued-secrets")["secrets"]
    assert test_api("POST", "/keyfob-test/signin/reset", {}) == {"status": "ok"}
    st = status()
    assert (st["families"], st["browser_default"], st["calls"]) == ([], None, {}), st
    expect_refusal(refresh(out["refreshToken"], key), 401, "AccessDeniedException", "TOKEN_EXPIRED")
    assert authorize()[0] == 200  # nobody signed in any more


# --------------------------------------------------------------------------
# runner
# --------------------------------------------------------------------------


def start_launcher(workdir: str, log_path: str) -> tuple[subprocess.Popen, dict]:
    port_file = os.path.join(workdir, "moto.json")
    log_file = open(log_path, "w")
    proc = subprocess.Popen(
        [sys.executable, LAUNCHER, "--port-file", port_file, "--exit-with-parent", "--exit-on-stdin-eof"],
        stdin=subprocess.PIPE,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 90
    while not os.path.exists(port_file):
        if proc.poll() is not None:
            raise RuntimeError(f"launcher exited with {proc.returncode}:\n{open(log_path).read()}")
        if time.time() > deadline:
            proc.kill()
            proc.wait()
            raise RuntimeError("launcher did not write its port file within 90 s")
        time.sleep(0.05)
    with open(port_file) as f:
        return proc, json.load(f)


def main() -> int:
    passed = failed = 0
    wall = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="keyfob-signin-check-")
    # boto3 here must not read (or be steered by) the real ~/.aws either
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                 "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SIGNIN"):
        os.environ.pop(name, None)
    os.environ["AWS_CONFIG_FILE"] = os.path.join(workdir, "boto3-config")
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.path.join(workdir, "boto3-credentials")
    try:
        log_path = os.path.join(workdir, "launcher.log")
        try:
            proc, Env.info = start_launcher(workdir, log_path)
        except Exception as e:  # noqa: BLE001
            print(f"FAIL start_launcher: {e}")
            print("0 passed, 1 failed")
            return 1
        Env.endpoint = Env.info["endpoint_url"]
        Env.workdir = workdir
        try:
            for name, fn in CHECKS:
                ok = run_check(name, fn)
                passed, failed = passed + ok, failed + (not ok)
            secrets = Env.secrets + test_api("GET", "/keyfob-test/signin/issued-secrets")["secrets"]
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log_text = open(log_path).read()
        leaked = [s[:6] + "..." for s in set(secrets) if s in log_text]
        if secrets and not leaked and "keyfob-signin: " not in log_text:
            print("PASS launcher_log_has_no_signin_secret_or_internal_error")
            passed += 1
        else:
            print(f"FAIL launcher_log_has_no_signin_secret_or_internal_error: {leaked or 'no secrets issued'}")
            print("\n".join(line for line in log_text.splitlines() if "keyfob-signin" in line))
            failed += 1
        if failed:
            print("---- launcher log (tail) ----")
            print("\n".join(log_text.splitlines()[-30:]))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for what, seconds in Env.timings.items():
        print(f"  {what}: {seconds * 1000:.0f} ms")
    print(f"  check_signin wall time: {time.monotonic() - wall:.1f} s")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
