#!/usr/bin/env python3
"""Self-check of tests/support/sso_emulator.py against real clients.

    python3 tests/support/check_sso.py

Starts tests/support/moto_launcher.py, configures IAM Identity Center
instances through /keyfob-test/sso/configure, then:
  0. runs the current AWS CLI v2 (2.38, target/awscli-v2 from scripts/deps):
     `aws sso login --sso-session X` with its default browser sign-in
     (authorization code with PKCE; BROWSER=tests/support/sso_browser.py
     follows the authorize URL and delivers the redirect to the CLI's
     loopback), then `aws sts get-caller-identity` through an sso_session
     profile (which refreshes first); and `aws sso login --use-device-code`.
     Beside them, boto3 and urllib against the authorization-code rules
     (PKCE S256, reused, expired and foreign codes, redirect URIs, denial);
  1. runs the AWS CLI v2 (/usr/bin/aws, 2.9.19) for real in a temporary HOME:
     `aws sso login --no-browser --sso-session X` (the user code it prints is
     approved through /keyfob-test/sso/approve while it polls; it meets
     AuthorizationPending and SlowDown on the way) and
     `aws sts get-caller-identity --profile P` with an sso_session profile,
     whose access token is short enough that the CLI refreshes it first;
     the CLI's sso and sso-oidc clients reach the emulator through
     AWS_DATA_PATH endpoint rulesets (sso_emulator.write_cli_endpoint_overrides);
  2. drives boto3 through pending, slow_down, expired and denied device codes,
     the refresh grant, revoked and expired tokens, 150 accounts over pages, a
     429 page, wrong tokens and bad input, checking codes, statuses and the
     wire format.
Prints one PASS/FAIL line per check and "N passed, M failed"; exits non-zero
on any failure. Ends every process it starts.
"""

from __future__ import annotations

import json
import os
import re
import secrets
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
from collections.abc import Callable
from typing import Any

import boto3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sso_emulator  # noqa: E402

LAUNCHER = os.path.join(HERE, "moto_launcher.py")
AWS_CLI = "/usr/bin/aws"
# The current AWS CLI v2 (2.38), which scripts/deps installs from PyPI.
AWS_CLI_V2 = os.environ.get("KEYFOB_TEST_AWS_CLI_V2") or os.path.join(
    HERE, "..", "..", "target", "awscli-v2", "dist", "aws"
)
BROWSER = os.path.join(HERE, "sso_browser.py")
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
ROLE_ARN_RE = r"arn:aws:sts::{acct}:assumed-role/AWSReservedSSO_{role}_[0-9a-f]{{16}}/{user}"

CHECKS: list[tuple[str, Callable[[], None]]] = []
# Checks that mostly wait on a CLI's device code polling: they run beside
# the first CHECKS one (the AWS CLI 2.9 sign-in, which waits the same way
# and moves no clock), so the waits overlap.
BESIDE_FIRST: list[tuple[str, Callable[[], None]]] = []


def check(fn: Callable[[], None]) -> Callable[[], None]:
    CHECKS.append((fn.__name__, fn))
    return fn


def check_beside_first(fn: Callable[[], None]) -> Callable[[], None]:
    BESIDE_FIRST.append((fn.__name__, fn))
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


class Env:
    endpoint = ""
    info: dict[str, Any] = {}
    workdir = ""
    timings: dict[str, float] = {}


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


def status(url: str) -> dict:
    return test_api("GET", "/keyfob-test/sso/status?start_url=" + urllib.request.quote(url, safe=""))


def issued_secrets(url: str) -> list[str]:
    path = "/keyfob-test/sso/issued-secrets?start_url=" + urllib.request.quote(url, safe="")
    return test_api("GET", path)["secrets"]


def throttle(url: str, operation: str, count: int) -> None:
    test_api("POST", "/keyfob-test/sso/throttle", {"start_url": url, "operation": operation, "count": count})


def set_clock(seconds: float) -> None:
    test_api("POST", "/keyfob-test/clock", {"advance_seconds": seconds})


def oidc(validate: bool = True):
    cfg = Config(retries={"total_max_attempts": 1}, parameter_validation=validate, signature_version=UNSIGNED)
    return boto3.client("sso-oidc", endpoint_url=Env.endpoint, region_name="eu-west-1", config=cfg)


def portal(validate: bool = True, attempts: int = 1):
    cfg = Config(
        retries={"total_max_attempts": attempts, "mode": "standard"},
        parameter_validation=validate,
        signature_version=UNSIGNED,
    )
    return boto3.client("sso", endpoint_url=Env.endpoint, region_name="eu-west-1", config=cfg)


def admin_sts(creds: dict | None = None):
    if creds is None:
        key, secret, token = Env.info["admin_access_key_id"], Env.info["admin_secret_access_key"], None
    else:
        key, secret, token = creds["accessKeyId"], creds["secretAccessKey"], creds["sessionToken"]
    return boto3.client(
        "sts",
        endpoint_url=Env.endpoint,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=Config(retries={"max_attempts": 1}),
    )


def expect_error(call: Callable[[], Any], status_code: int, code: str) -> dict:
    try:
        result = call()
    except ClientError as e:
        got_status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        got_code = e.response.get("Error", {}).get("Code")
        assert (got_status, got_code) == (status_code, code), (
            f"expected {status_code} {code}, got {got_status} {got_code}: {e.response.get('Error')}"
        )
        return e.response
    raise AssertionError(f"expected {status_code} {code}, but the call succeeded: {str(result)[:200]}")


def raw_post(path: str, body: bytes, headers: dict | None = None) -> tuple[int, dict, dict]:
    req = urllib.request.Request(Env.endpoint + path, data=body, method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), json.load(resp)
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.load(e)


ACCT = "111111111111"
USERS_URL = "https://d-9000000001.awsapps.com/start"  # boto3 checks
CLI_URL = "https://d-9000000002.awsapps.com/start"  # the AWS CLI check
PAR_URL = "https://d-9000000003.awsapps.com/start"  # parallel check, its own instance
PKCE_URL = "https://d-9000000004.awsapps.com/start"  # the current CLI's browser sign-in
DEV_URL = "https://d-9000000005.awsapps.com/start"  # the current CLI's device code
CODE_URL = "https://d-9000000006.awsapps.com/start"  # boto3: the authorization-code rules
DENY_URL = "https://d-9000000007.awsapps.com/start"  # a browser user who refuses
MANY = [f"{200000000000 + i}" for i in range(150)]


def configure_instances() -> None:
    accounts = [{"account_id": ACCT, "account_name": "prod", "email": "prod@example.com"}] + [
        {"account_id": a, "account_name": f"acct-{i:03d}", "email": f"aws+{i}@example.com"}
        for i, a in enumerate(MANY)
    ]
    started = time.monotonic()
    test_api(
        "POST",
        "/keyfob-test/sso/configure",
        {
            "start_url": USERS_URL,
            "region": "eu-west-1",
            "accounts": accounts,
            "users": [
                {
                    "name": "alice",
                    "assignments": [
                        {"account_id": ACCT, "role_name": "AdministratorAccess"},
                        {"account_id": ACCT, "role_name": "ReadOnly", "session_duration": 900},
                    ],
                },
                {
                    "name": "bob",
                    "assignments": [{"account_id": a, "role_name": "Dev"} for a in MANY],
                },
            ],
        },
    )
    Env.timings["configure 151 accounts"] = time.monotonic() - started
    test_api(
        "POST",
        "/keyfob-test/sso/configure",
        {
            "start_url": CLI_URL,
            "region": "eu-west-1",
            "accounts": [{"account_id": ACCT, "account_name": "prod", "email": "prod@example.com"}],
            "users": [{"name": "carol", "assignments": [{"account_id": ACCT, "role_name": "AdministratorAccess"}]}],
            # < botocore's 15 min refresh window: the CLI refreshes before get-caller-identity
            "settings": {"access_token_ttl": 600},
        },
    )
    carol = [{"name": "carol", "assignments": [{"account_id": ACCT, "role_name": "AdministratorAccess"}]}]
    prod = [{"account_id": ACCT, "account_name": "prod", "email": "prod@example.com"}]
    for url, settings in (
        (PKCE_URL, {"access_token_ttl": 600, "browser_user": "carol"}),
        (DEV_URL, {}),
        (CODE_URL, {"browser_user": "carol", "auth_code_ttl": 60}),
        (DENY_URL, {"browser_user": "carol", "browser_consent": "deny"}),
    ):
        test_api(
            "POST",
            "/keyfob-test/sso/configure",
            {"start_url": url, "region": "eu-west-1", "accounts": prod, "users": carol, "settings": settings},
        )


class Login:
    """A boto3 device sign-in, step by step."""

    def __init__(self, url: str, scopes: list[str] | None = ("sso:account:access",)) -> None:
        self.client = oidc()
        kwargs: dict[str, Any] = {"clientName": "keyfob-check", "clientType": "public"}
        if scopes:
            kwargs["scopes"] = list(scopes)
        self.reg = self.client.register_client(**kwargs)
        self.auth = self.client.start_device_authorization(
            clientId=self.reg["clientId"], clientSecret=self.reg["clientSecret"], startUrl=url
        )
        self.url = url

    def poll(self) -> dict:
        return self.client.create_token(
            clientId=self.reg["clientId"],
            clientSecret=self.reg["clientSecret"],
            grantType=DEVICE_GRANT,
            deviceCode=self.auth["deviceCode"],
        )

    def approve(self, user: str) -> None:
        test_api(
            "POST",
            "/keyfob-test/sso/approve",
            {"start_url": self.url, "user": user, "user_code": self.auth["userCode"]},
        )

    def refresh(self, token: str) -> dict:
        return self.client.create_token(
            clientId=self.reg["clientId"],
            clientSecret=self.reg["clientSecret"],
            grantType="refresh_token",
            refreshToken=token,
        )


def signed_in(user: str, url: str = USERS_URL) -> tuple[Login, dict]:
    login = Login(url)
    login.approve(user)
    return login, login.poll()


# --------------------------------------------------------------------------
# the AWS CLI v2, for real
# --------------------------------------------------------------------------


def cli_env(home: str) -> dict:
    env = {
        "HOME": home,
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "AWS_CONFIG_FILE": os.path.join(home, ".aws", "config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, ".aws", "credentials"),
        "AWS_DATA_PATH": sso_emulator.write_cli_endpoint_overrides(os.path.join(home, "models"), Env.endpoint),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_PAGER": "",
        "PYTHONUNBUFFERED": "1",  # the CLI prints the user code without flushing
    }
    return env


@check
def aws_cli_sso_login_and_get_caller_identity() -> None:
    home = os.path.join(Env.workdir, "cli-home")
    os.makedirs(os.path.join(home, ".aws"))
    with open(os.path.join(home, ".aws", "config"), "w") as f:
        f.write(
            "[sso-session check]\n"
            f"sso_start_url = {CLI_URL}\n"
            "sso_region = eu-west-1\n"
            "sso_registration_scopes = sso:account:access\n\n"
            "[profile carol-admin]\n"
            "sso_session = check\n"
            f"sso_account_id = {ACCT}\n"
            "sso_role_name = AdministratorAccess\n"
            "region = us-east-1\n"
        )
    env = cli_env(home)
    started = time.monotonic()
    proc = subprocess.Popen(
        [AWS_CLI, "sso", "login", "--no-browser", "--sso-session", "check"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        lines: list[str] = []
        code = None
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if re.fullmatch(r"[A-Z]{4}-[A-Z]{4}", line.strip()):
                code = line.strip()
                break
        assert code, f"no user code in the CLI's output: {''.join(lines)!r} {proc.stderr.read()!r}"
        # botocore polls once (pending), prints the code, and polls again at once:
        # wait until that second poll has been told to slow down (interval 1 -> 6)
        deadline = time.monotonic() + 20
        while True:
            pending = status(CLI_URL)["pending"]
            assert [p["user_code"] for p in pending] == [code], (pending, code)
            if pending[0]["interval"] == 6:
                break
            assert time.monotonic() < deadline and proc.poll() is None, f"the CLI never polled twice: {pending}"
            time.sleep(0.05)
        test_api("POST", "/keyfob-test/sso/approve", {"start_url": CLI_URL, "user": "carol", "user_code": code})
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    Env.timings["aws sso login (incl. one slow_down)"] = time.monotonic() - started
    assert proc.returncode == 0, f"aws sso login exited {proc.returncode}: {err[-2000:]}"
    assert "Successfully logged into Start URL" in out, out
    calls = status(CLI_URL)["calls"]
    # pending, slow_down, then the CLI waited its 6 s interval: one more poll, the token
    assert calls.get("sso-oidc:CreateToken") == 3, calls
    assert calls.get("sso-oidc:StartDeviceAuthorization") == 1, calls
    cache = os.path.join(home, ".aws", "sso", "cache")
    assert os.listdir(cache), "the CLI cached no token"

    started = time.monotonic()
    result = subprocess.run(
        [AWS_CLI, "sts", "get-caller-identity", "--profile", "carol-admin", "--endpoint-url", Env.endpoint,
         "--output", "json"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=env,
        text=True,
        timeout=60,
    )
    Env.timings["aws sts get-caller-identity --profile (refresh, GetRoleCredentials)"] = (
        time.monotonic() - started
    )
    assert result.returncode == 0, f"get-caller-identity exited {result.returncode}: {result.stderr[-2000:]}"
    arn = json.loads(result.stdout)["Arn"]
    assert re.fullmatch(ROLE_ARN_RE.format(acct=ACCT, role="AdministratorAccess", user="carol"), arn), arn
    st = status(CLI_URL)
    assert st["grants"] == {"device_code": 1, "authorization_code": 0, "refresh_token": 1}, st["grants"]
    assert st["calls"].get("sso:GetRoleCredentials") == 1, st["calls"]
    assert st["role_credentials"] == 1


# --------------------------------------------------------------------------
# the current AWS CLI v2 (2.38), for real: the browser sign-in and the device code
# --------------------------------------------------------------------------


def cli_v2_env(home: str) -> dict:
    """The 2.38 CLI reads AWS_ENDPOINT_URL_<SERVICE> (2.9 did not)."""
    return {
        "HOME": home,
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "AWS_CONFIG_FILE": os.path.join(home, ".aws", "config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, ".aws", "credentials"),
        "AWS_ENDPOINT_URL_SSO": Env.endpoint,
        "AWS_ENDPOINT_URL_SSO_OIDC": Env.endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_PAGER": "",
        "PYTHONUNBUFFERED": "1",
    }


def cli_v2_home(name: str, session: str, url: str) -> str:
    home = os.path.join(Env.workdir, name)
    os.makedirs(os.path.join(home, ".aws"))
    with open(os.path.join(home, ".aws", "config"), "w") as f:
        f.write(
            f"[sso-session {session}]\n"
            f"sso_start_url = {url}\n"
            "sso_region = eu-west-1\n"
            "sso_registration_scopes = sso:account:access\n\n"
            "[profile carol-admin]\n"
            f"sso_session = {session}\n"
            f"sso_account_id = {ACCT}\n"
            "sso_role_name = AdministratorAccess\n"
            "region = us-east-1\n"
        )
    return home


def caller_arn(cli: str, env: dict) -> str:
    result = subprocess.run(
        [cli, "sts", "get-caller-identity", "--profile", "carol-admin", "--endpoint-url", Env.endpoint,
         "--output", "json"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=env,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, f"get-caller-identity exited {result.returncode}: {result.stderr[-2000:]}"
    return json.loads(result.stdout)["Arn"]


@check
def aws_cli_2_38_browser_sign_in_and_get_caller_identity() -> None:
    version = subprocess.run([AWS_CLI_V2, "--version"], capture_output=True, text=True, timeout=60)
    assert version.stdout.startswith("aws-cli/2.38."), version.stdout + version.stderr
    home = cli_v2_home("cli238-home", "pkce", PKCE_URL)
    env = cli_v2_env(home)
    log = os.path.join(home, "browser.log")
    env.update({"BROWSER": BROWSER, "KEYFOB_TEST_BROWSER_LOG": log})
    started = time.monotonic()
    result = subprocess.run(
        [AWS_CLI_V2, "sso", "login", "--sso-session", "pkce"],
        stdin=subprocess.DEVNULL, capture_output=True, env=env, text=True, timeout=60,
    )
    Env.timings["aws 2.38 sso login (browser, PKCE)"] = time.monotonic() - started
    assert result.returncode == 0, f"aws sso login exited {result.returncode}: {result.stderr[-2000:]}"
    assert "Successfully logged into Start URL" in result.stdout, result.stdout
    with open(log) as f:
        visits = [json.loads(line) for line in f]
    assert len(visits) == 1, visits
    visit = visits[0]
    authorize = visit["authorize"]
    assert authorize["response_type"] == "code" and authorize["code_challenge_method"] == "S256", authorize
    assert authorize["scopes"] == "sso:account:access", authorize
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/oauth/callback", authorize["redirect_uri"]), authorize
    redirect = visit["redirect"]
    assert (redirect["host"], redirect["path"], redirect["params"]) == ("127.0.0.1", "/oauth/callback",
                                                                        ["code", "state"]), redirect
    assert str(redirect["port"]) in authorize["redirect_uri"] and visit["status"] == 200, visit
    st = status(PKCE_URL)
    assert st["grants"] == {"device_code": 0, "authorization_code": 1, "refresh_token": 0}, st["grants"]
    assert st["calls"].get("sso-oidc:Authorize") == 1, st["calls"]
    started = time.monotonic()
    arn = caller_arn(AWS_CLI_V2, env)
    Env.timings["aws 2.38 sts get-caller-identity (refresh, GetRoleCredentials)"] = time.monotonic() - started
    assert re.fullmatch(ROLE_ARN_RE.format(acct=ACCT, role="AdministratorAccess", user="carol"), arn), arn
    st = status(PKCE_URL)
    # access_token_ttl 600 < botocore's 15 min window: it refreshed with the PKCE client's refresh token
    assert st["grants"] == {"device_code": 0, "authorization_code": 1, "refresh_token": 1}, st["grants"]


def device_login(cli: str, env: dict, session: str, url: str, extra: list[str]) -> tuple[int, str, str]:
    """`aws sso login --no-browser` (+ extra) on the device code: reads the user
    code from its output and approves it; returns (exit code, stdout, stderr)."""
    proc = subprocess.Popen(
        [cli, "sso", "login", "--no-browser", "--sso-session", session, *extra],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
    )
    try:
        lines: list[str] = []
        code = None
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if re.fullmatch(r"[A-Z]{4}-[A-Z]{4}", line.strip()):
                code = line.strip()
                break
        assert code, f"no user code in the CLI's output: {''.join(lines)!r}"
        test_api("POST", "/keyfob-test/sso/approve", {"start_url": url, "user": "carol", "user_code": code})
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, "".join(lines) + out, err


@check_beside_first
def aws_cli_2_38_device_code_sign_in() -> None:
    home = cli_v2_home("cli238-device-home", "dev", DEV_URL)
    env = cli_v2_env(home)
    started = time.monotonic()
    rc, out, err = device_login(AWS_CLI_V2, env, "dev", DEV_URL, ["--use-device-code"])
    Env.timings["aws 2.38 sso login --use-device-code"] = time.monotonic() - started
    assert rc == 0, f"aws sso login --use-device-code exited {rc}: {err[-2000:]}"
    assert "Successfully logged into Start URL" in out, out
    st = status(DEV_URL)
    assert st["grants"] == {"device_code": 1, "authorization_code": 0, "refresh_token": 0}, st["grants"]
    arn = caller_arn(AWS_CLI_V2, env)
    assert re.fullmatch(ROLE_ARN_RE.format(acct=ACCT, role="AdministratorAccess", user="carol"), arn), arn


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001
        return None


def browse(params: dict) -> tuple[int, str]:
    """GET /authorize as a browser would, without following: (status, Location or page)."""
    url = Env.endpoint + "/authorize?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.build_opener(NoRedirect).open(url, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Location") or e.read().decode()


def pkce_client(url: str = CODE_URL) -> dict:
    return oidc().register_client(
        clientName="keyfob-check", clientType="public", grantTypes=["authorization_code", "refresh_token"],
        redirectUris=["http://127.0.0.1/oauth/callback"], issuerUrl=url, scopes=["sso:account:access"],
    )


def authorize_params(reg: dict, verifier: str, port: int = 4711, **extra: str) -> dict:
    params = {
        "response_type": "code", "client_id": reg["clientId"],
        "redirect_uri": f"http://127.0.0.1:{port}/oauth/callback", "state": "st-1",
        "code_challenge_method": "S256", "scopes": "sso:account:access",
        "code_challenge": sso_emulator.pkce_challenge(verifier),
    }
    params.update(extra)
    return params


def redirect_params(location: str) -> dict:
    parts = urllib.parse.urlsplit(location)
    assert (parts.hostname, parts.path) == ("127.0.0.1", "/oauth/callback"), location
    return dict(urllib.parse.parse_qsl(parts.query))


def redeem(reg: dict, code: str, verifier: str, port: int = 4711) -> dict:
    return oidc().create_token(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], grantType="authorization_code",
        code=code, redirectUri=f"http://127.0.0.1:{port}/oauth/callback", codeVerifier=verifier,
    )


@check
def authorization_code_grant_checks_pkce_codes_and_redirects() -> None:
    reg = pkce_client()
    verifier = secrets.token_urlsafe(48)
    st, location = browse(authorize_params(reg, verifier))
    assert st == 302, (st, location)
    got = redirect_params(location)
    assert set(got) == {"code", "state"} and got["state"] == "st-1", got
    expect_error(lambda: redeem(reg, got["code"], secrets.token_urlsafe(48)), 400, "InvalidGrantException")
    expect_error(lambda: redeem(reg, got["code"], verifier, port=4712), 400, "InvalidGrantException")
    expect_error(lambda: redeem(reg, got["code"], "short"), 400, "InvalidRequestException")
    other = pkce_client()
    expect_error(lambda: redeem(other, got["code"], verifier), 400, "InvalidGrantException")
    tokens = redeem(reg, got["code"], verifier)
    assert tokens["accessToken"].startswith("aoa") and tokens["refreshToken"].startswith("aor"), list(tokens)
    portal().list_accounts(accessToken=tokens["accessToken"])
    # the code again: refused, and what it gave is revoked (RFC 6749 4.1.2)
    expect_error(lambda: redeem(reg, got["code"], verifier), 400, "InvalidGrantException")
    expect_error(lambda: portal().list_accounts(accessToken=tokens["accessToken"]), 401, "UnauthorizedException")
    # a code past auth_code_ttl (60 s here)
    verifier = secrets.token_urlsafe(48)
    st, location = browse(authorize_params(reg, verifier))
    code = redirect_params(location)["code"]
    try:
        set_clock(61)
        expect_error(lambda: redeem(reg, code, verifier), 400, "ExpiredTokenException")
    finally:
        set_clock(0)
    # the refresh grant works for the PKCE client; the device code does not
    fresh = redeem(reg, redirect_params(browse(authorize_params(reg, verifier))[1])["code"], verifier)
    assert oidc().create_token(clientId=reg["clientId"], clientSecret=reg["clientSecret"],
                               grantType="refresh_token", refreshToken=fresh["refreshToken"])["accessToken"]
    expect_error(
        lambda: oidc().start_device_authorization(
            clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=CODE_URL),
        400, "UnauthorizedClientException",
    )
    assert status(CODE_URL)["grants"]["authorization_code"] == 2


@check
def authorize_refuses_bad_requests_as_oauth_says() -> None:
    reg = pkce_client()
    verifier = secrets.token_urlsafe(48)
    # never redirected: unknown client, an unregistered redirect URI (RFC 6749 4.1.2.1)
    for params in (
        authorize_params({"clientId": "nope"}, verifier),
        authorize_params(reg, verifier, redirect_uri="http://127.0.0.1:4711/elsewhere"),
        authorize_params(reg, verifier, redirect_uri="https://evil.example/oauth/callback"),
    ):
        st, page = browse(params)
        assert st == 400 and "<p>" in page, (st, page)
    # redirected with an error and the state
    for extra, error in (
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "x"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scopes": "sso:account:access admin"}, "invalid_scope"),
    ):
        st, location = browse(authorize_params(reg, verifier, **extra))
        got = redirect_params(location)
        assert st == 302 and got.get("error") == error and got.get("state") == "st-1", (extra, location)
    # a device-code registration (no grantTypes, as the AWS CLI's) may not use the code grant
    device = oidc().register_client(clientName="x", clientType="public", scopes=["sso:account:access"])
    expect_error(lambda: redeem(device, "c", verifier), 400, "UnauthorizedClientException")
    expect_error(
        lambda: oidc().register_client(clientName="x", clientType="public", grantTypes=["authorization_code"]),
        400, "InvalidRedirectUriException",
    )
    # the person refuses in the browser
    denier = pkce_client(DENY_URL)
    st, location = browse(authorize_params(denier, verifier))
    got = redirect_params(location)
    assert st == 302 and got.get("error") == "access_denied" and got.get("state") == "st-1", location
    assert "code" not in got


# --------------------------------------------------------------------------
# boto3
# --------------------------------------------------------------------------


@check
def oidc_errors_have_aws_wire_format() -> None:
    code, headers, body = raw_post(
        "/token", json.dumps({"clientId": "x", "clientSecret": "y", "grantType": DEVICE_GRANT}).encode()
    )
    assert code == 401, code
    assert headers.get("x-amzn-ErrorType", "").startswith("InvalidClientException:http://internal.amazon.com/coral/")
    assert set(body) == {"error", "error_description"} and body["error"] == "invalid_client", body
    assert headers.get("x-amzn-RequestId")
    code, _, body = raw_post("/client/register", b"not json")
    assert code == 400 and body["error"] == "invalid_request", (code, body)
    code, _, body = raw_post("/client/register", json.dumps({"clientType": "public"}).encode())
    assert code == 400 and "clientName" in body["error_description"], (code, body)


@check
def register_client_validates() -> None:
    expect_error(
        lambda: oidc().register_client(clientName="x", clientType="confidential"),
        400,
        "InvalidClientMetadataException",
    )
    expect_error(
        lambda: oidc().register_client(clientName="x", clientType="public", scopes=["has space"]),
        400,
        "InvalidScopeException",
    )
    expect_error(
        lambda: oidc(validate=False).register_client(clientName=5, clientType="public"),
        400,
        "InvalidRequestException",
    )
    reg = oidc().register_client(clientName="x", clientType="public")
    assert reg["clientSecretExpiresAt"] - reg["clientIdIssuedAt"] == 90 * 86400, reg


@check
def start_device_authorization_validates() -> None:
    reg = oidc().register_client(clientName="x", clientType="public")
    expect_error(
        lambda: oidc().start_device_authorization(
            clientId=reg["clientId"], clientSecret=reg["clientSecret"] + "x", startUrl=USERS_URL
        ),
        401,
        "InvalidClientException",
    )
    expect_error(
        lambda: oidc().start_device_authorization(
            clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl="https://nope.awsapps.com/start"
        ),
        400,
        "InvalidRequestException",
    )
    auth = Login(USERS_URL).auth
    assert re.fullmatch(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}", auth["userCode"]), auth
    assert auth["verificationUri"] == "https://device.sso.eu-west-1.amazonaws.com/", auth
    assert auth["verificationUriComplete"] == auth["verificationUri"] + "?user_code=" + auth["userCode"]
    assert (auth["expiresIn"], auth["interval"]) == (600, 1), auth


@check
def device_code_pending_slow_down_then_token() -> None:
    login = Login(USERS_URL)
    expect_error(login.poll, 400, "AuthorizationPendingException")
    expect_error(login.poll, 400, "SlowDownException")  # at once: faster than the 1 s interval
    pending = [p for p in status(USERS_URL)["pending"] if p["user_code"] == login.auth["userCode"]]
    assert pending and pending[0]["interval"] == 6, pending  # RFC 8628: +5 s for all later polls
    time.sleep(1.1)
    expect_error(login.poll, 400, "SlowDownException")  # 1.1 s < 6 s
    login.approve("alice")
    token = login.poll()  # approved codes are redeemed whatever the pace
    assert token["tokenType"] == "Bearer" and token["expiresIn"] == 3600, token
    assert token["accessToken"].startswith("aoa") and token["refreshToken"].startswith("aor")
    assert "idToken" not in token
    expect_error(login.poll, 400, "InvalidGrantException")  # redeemed once only
    other = Login(USERS_URL)
    expect_error(  # another client's device code
        lambda: other.client.create_token(
            clientId=other.reg["clientId"],
            clientSecret=other.reg["clientSecret"],
            grantType=DEVICE_GRANT,
            deviceCode=login.auth["deviceCode"],
        ),
        400,
        "InvalidGrantException",
    )
    test_api("POST", "/keyfob-test/sso/deny", {"start_url": USERS_URL, "user_code": other.auth["userCode"]})


@check
def device_code_expires_and_denied() -> None:
    login = Login(USERS_URL)
    expect_error(login.poll, 400, "AuthorizationPendingException")
    try:
        set_clock(601)
        expect_error(login.poll, 400, "ExpiredTokenException")
        answer = test_api(
            "POST",
            "/keyfob-test/sso/approve",
            {"start_url": USERS_URL, "user": "alice", "user_code": login.auth["userCode"]},
            expect=409,
        )
        assert "expired" in answer["error"], answer
    finally:
        set_clock(0)
    denied = Login(USERS_URL)
    test_api("POST", "/keyfob-test/sso/deny", {"start_url": USERS_URL, "user_code": denied.auth["userCode"]})
    expect_error(denied.poll, 400, "AccessDeniedException")


@check
def legacy_registration_gets_no_refresh_token() -> None:
    login = Login(USERS_URL, scopes=None)
    login.approve("alice")
    token = login.poll()
    assert "refreshToken" not in token, token


@check
def refresh_grant_rotates() -> None:
    login, token = signed_in("alice")
    fresh = login.refresh(token["refreshToken"])
    assert fresh["accessToken"] != token["accessToken"] and fresh["refreshToken"] != token["refreshToken"]
    expect_error(lambda: login.refresh(token["refreshToken"]), 400, "InvalidGrantException")  # rotated away
    expect_error(lambda: login.refresh("aor-made-up"), 400, "InvalidGrantException")
    other = Login(USERS_URL)
    expect_error(
        lambda: other.refresh(fresh["refreshToken"]), 400, "InvalidGrantException"
    )  # another client's refresh token
    for t in (token, fresh):  # both access tokens still work
        portal().list_account_roles(accessToken=t["accessToken"], accountId=ACCT)
    try:
        set_clock(3601)  # access tokens expire, the refresh token (8 h) does not
        expect_error(lambda: portal().list_accounts(accessToken=fresh["accessToken"]), 401, "UnauthorizedException")
        newer = login.refresh(fresh["refreshToken"])
        portal().list_accounts(accessToken=newer["accessToken"])
        set_clock(28801)
        expect_error(lambda: login.refresh(newer["refreshToken"]), 400, "InvalidGrantException")
    finally:
        set_clock(0)


@check
def get_role_credentials_authenticate_as_the_assumed_role() -> None:
    _, token = signed_in("alice")
    started = time.monotonic()
    creds = portal().get_role_credentials(accessToken=token["accessToken"], accountId=ACCT, roleName="ReadOnly")[
        "roleCredentials"
    ]
    Env.timings["GetRoleCredentials, first use of a role"] = time.monotonic() - started
    assert creds["accessKeyId"].startswith("ASIA"), creds["accessKeyId"]
    left = creds["expiration"] / 1000 - time.time()
    assert 880 < left <= 900, left  # session_duration 900
    arn = admin_sts(creds).get_caller_identity()["Arn"]
    assert re.fullmatch(ROLE_ARN_RE.format(acct=ACCT, role="ReadOnly", user="alice"), arn), arn
    wrong = dict(creds, secretAccessKey="x" * 40)
    try:
        admin_sts(wrong).get_caller_identity()
        raise AssertionError("a wrong secret was accepted")
    except ClientError as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    try:
        set_clock(901)
        try:
            admin_sts(creds).get_caller_identity()
            raise AssertionError("expired role credentials were accepted")
        except ClientError as e:
            assert e.response["Error"]["Code"] == "ExpiredToken", e.response["Error"]
    finally:
        set_clock(0)
    again = portal().get_role_credentials(accessToken=token["accessToken"], accountId=ACCT, roleName="ReadOnly")
    assert admin_sts(again["roleCredentials"]).get_caller_identity()["Arn"] == arn  # same role, reused


@check
def get_role_credentials_refuses() -> None:
    _, token = signed_in("alice")
    p = portal()
    expect_error(
        lambda: p.get_role_credentials(accessToken=token["accessToken"], accountId=MANY[0], roleName="Dev"),
        403,
        "ForbiddenException",
    )
    expect_error(
        lambda: p.get_role_credentials(accessToken="aoa-wrong", accountId=ACCT, roleName="ReadOnly"),
        401,
        "UnauthorizedException",
    )
    expect_error(
        lambda: p.get_role_credentials(accessToken=token["accessToken"], accountId="12345", roleName="ReadOnly"),
        400,
        "InvalidRequestException",
    )
    req = urllib.request.Request(Env.endpoint + f"/federation/credentials?account_id={ACCT}&role_name=ReadOnly")
    try:
        urllib.request.urlopen(req, timeout=10)
        raise AssertionError("no token accepted")
    except urllib.error.HTTPError as e:
        assert e.code == 401 and json.load(e) == {"message": "Session token not found or invalid"}


@check
def list_150_accounts_over_pages_with_a_429() -> None:
    _, token = signed_in("bob")
    p = portal()
    started = time.monotonic()
    pages = list(p.get_paginator("list_accounts").paginate(accessToken=token["accessToken"]))
    Env.timings["ListAccounts, 150 accounts in 8 pages of 20"] = time.monotonic() - started
    ids = [a["accountId"] for page in pages for a in page["accountList"]]
    assert ids == MANY, (len(ids), ids[:3])
    sizes = [len(pg["accountList"]) for pg in pages]
    assert sizes == [20] * 7 + [10], sizes
    first_account = {"accountId": MANY[0], "accountName": "acct-000", "emailAddress": "aws+0@example.com"}
    assert pages[0]["accountList"][0] == first_account, pages[0]["accountList"][0]
    first = p.list_accounts(accessToken=token["accessToken"], maxResults=100)
    assert len(first["accountList"]) == 100 and "nextToken" in first
    throttle(USERS_URL, "sso:ListAccounts", 1)
    response = expect_error(
        lambda: p.list_accounts(accessToken=token["accessToken"], nextToken=first["nextToken"]),
        429,
        "TooManyRequestsException",
    )
    assert response["Error"]["Message"] == "Rate exceeded", response["Error"]
    rest = p.list_accounts(accessToken=token["accessToken"], nextToken=first["nextToken"], maxResults=100)
    assert len(rest["accountList"]) == 50 and "nextToken" not in rest
    # a retrying client (botocore standard mode) gets through two 429s
    throttle(USERS_URL, "sso:ListAccounts", 2)
    before = status(USERS_URL)["calls"]["sso:ListAccounts"]
    portal(attempts=3).list_accounts(accessToken=token["accessToken"], maxResults=1)
    assert status(USERS_URL)["calls"]["sso:ListAccounts"] == before + 3
    bad = portal(validate=False)
    access = token["accessToken"]
    for kwargs in ({"maxResults": 0}, {"maxResults": 101}, {"nextToken": "forged"}):
        expect_error(lambda: bad.list_accounts(accessToken=access, **kwargs), 400, "InvalidRequestException")
    _, alice = signed_in("alice")  # a page token is bound to its user
    expect_error(
        lambda: p.list_accounts(accessToken=alice["accessToken"], nextToken=first["nextToken"]),
        400,
        "InvalidRequestException",
    )


@check
def list_account_roles_pages_and_removed_assignment() -> None:
    _, token = signed_in("alice")
    p = portal()
    one = p.list_account_roles(accessToken=token["accessToken"], accountId=ACCT, maxResults=1)
    assert one["roleList"] == [{"roleName": "AdministratorAccess", "accountId": ACCT}] and "nextToken" in one, one
    two = p.list_account_roles(accessToken=token["accessToken"], accountId=ACCT, nextToken=one["nextToken"])
    assert two["roleList"] == [{"roleName": "ReadOnly", "accountId": ACCT}] and "nextToken" not in two, two
    expect_error(
        lambda: portal(validate=False).list_account_roles(accessToken=token["accessToken"]),
        400,
        "InvalidRequestException",
    )
    test_api(
        "POST",
        "/keyfob-test/sso/assignments/remove",
        {"start_url": USERS_URL, "user": "alice", "account_id": ACCT, "role_name": "ReadOnly"},
    )
    roles = p.list_account_roles(accessToken=token["accessToken"], accountId=ACCT)["roleList"]
    assert [r["roleName"] for r in roles] == ["AdministratorAccess"], roles
    expect_error(
        lambda: p.get_role_credentials(accessToken=token["accessToken"], accountId=ACCT, roleName="ReadOnly"),
        403,
        "ForbiddenException",
    )
    test_api(
        "POST",
        "/keyfob-test/sso/assignments/add",
        {"start_url": USERS_URL, "user": "alice", "account_id": ACCT, "role_name": "ReadOnly", "session_duration": 900},
    )
    test_api(
        "POST",
        "/keyfob-test/sso/accounts/update",
        {"start_url": USERS_URL, "account_id": ACCT, "account_name": "production"},
    )
    accounts = p.list_accounts(accessToken=token["accessToken"])["accountList"]
    assert accounts == [{"accountId": ACCT, "accountName": "production", "emailAddress": "prod@example.com"}], accounts


@check
def revoke_and_logout_end_the_session() -> None:
    login, token = signed_in("alice")
    creds = portal().get_role_credentials(accessToken=token["accessToken"], accountId=ACCT, roleName="AdministratorAccess")[
        "roleCredentials"
    ]
    users = status(USERS_URL)["users"]
    assert users["alice"]["sessions"] >= 1 and users["alice"]["refresh_tokens"] >= 1, users
    revoked = test_api("POST", "/keyfob-test/sso/revoke", {"start_url": USERS_URL, "user": "alice"})
    assert revoked["revoked_sessions"] >= 1, revoked
    expect_error(lambda: portal().list_accounts(accessToken=token["accessToken"]), 401, "UnauthorizedException")
    expect_error(lambda: login.refresh(token["refreshToken"]), 400, "InvalidGrantException")
    assert status(USERS_URL)["users"]["alice"] == {"sessions": 0, "access_tokens": 0, "refresh_tokens": 0}
    admin_sts(creds).get_caller_identity()  # role credentials outlive the sign-in, as on AWS
    _, token = signed_in("alice")
    portal().logout(accessToken=token["accessToken"])
    expect_error(lambda: portal().list_accounts(accessToken=token["accessToken"]), 401, "UnauthorizedException")
    expect_error(lambda: portal().logout(accessToken=token["accessToken"]), 401, "UnauthorizedException")


@check
def parallel_get_role_credentials_and_env_endpoints() -> None:
    from concurrent.futures import ThreadPoolExecutor

    test_api(
        "POST",
        "/keyfob-test/sso/configure",
        {
            "start_url": PAR_URL,
            "region": "eu-west-1",
            "accounts": [{"account_id": ACCT, "account_name": "prod", "email": "prod@example.com"}],
            "users": [{"name": "erin", "assignments": [{"account_id": ACCT, "role_name": "AdministratorAccess"}]}],
        },
    )
    saved = {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL_SSO_OIDC")}
    os.environ.update({k: Env.endpoint for k in saved})  # the documented SDK settings
    try:
        session = boto3.session.Session(region_name="eu-west-1")
        cfg = Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1})
        sso_oidc, sso = session.client("sso-oidc", config=cfg), session.client("sso", config=cfg)
        reg = sso_oidc.register_client(clientName="env", clientType="public", scopes=["sso:account:access"])
        auth = sso_oidc.start_device_authorization(
            clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=PAR_URL
        )
        test_api("POST", "/keyfob-test/sso/approve", {"start_url": PAR_URL, "user": "erin"})  # the only pending one
        token = sso_oidc.create_token(
            clientId=reg["clientId"], clientSecret=reg["clientSecret"], grantType=DEVICE_GRANT,
            deviceCode=auth["deviceCode"],
        )["accessToken"]

        def one(_: int) -> str:
            creds = sso.get_role_credentials(accessToken=token, accountId=ACCT, roleName="AdministratorAccess")
            return admin_sts(creds["roleCredentials"]).get_caller_identity()["Arn"]

        with ThreadPoolExecutor(max_workers=16) as pool:
            arns = set(pool.map(one, range(32)))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert len(arns) == 1, arns
    assert re.fullmatch(ROLE_ARN_RE.format(acct=ACCT, role="AdministratorAccess", user="erin"), arns.pop())
    st = status(PAR_URL)
    assert st["calls"] == {
        "sso-oidc:StartDeviceAuthorization": 1,
        "sso-oidc:CreateToken": 1,
        "sso:GetRoleCredentials": 32,
    }, st["calls"]
    assert st["role_credentials"] == 32 and st["pending"] == [], st


@check
def routing_leaves_other_services_alone() -> None:
    signed = "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/us-east-1/{}/aws4_request, SignedHeaders=host"
    assert sso_emulator.owns({"PATH_INFO": "/token"})
    assert sso_emulator.owns({"PATH_INFO": "/token", "HTTP_AUTHORIZATION": signed.format("awsssooidc")})
    assert not sso_emulator.owns({"PATH_INFO": "/token", "HTTP_AUTHORIZATION": signed.format("cognito-idp")})
    assert not sso_emulator.owns({"PATH_INFO": "/federation"})  # the console sign-in endpoint (T8)
    assert not sso_emulator.owns({"PATH_INFO": "/federation/credentials/x"})
    assert not sso_emulator.owns({"PATH_INFO": "/keyfob-test/calls"})
    req = urllib.request.Request(Env.endpoint + "/client/register", method="GET")
    try:
        urllib.request.urlopen(req, timeout=10)
        raise AssertionError("GET /client/register answered 200")
    except urllib.error.HTTPError as e:
        assert e.code == 404, e.code


@check
def test_endpoints_validate_and_hide_secrets() -> None:
    answer = test_api(
        "POST", "/keyfob-test/sso/configure", {"start_url": "http://x.example/start", "region": "us-east-1"}, expect=400
    )
    assert "start_url" in answer["error"], answer
    answer = test_api(
        "POST", "/keyfob-test/sso/configure", {"start_url": "https://x.example/start", "region": "mars"}, expect=400
    )
    assert "region" in answer["error"], answer
    answer = test_api(
        "POST",
        "/keyfob-test/sso/configure",
        {
            "start_url": "https://x.example/start",
            "region": "us-east-1",
            "accounts": [{"account_id": ACCT}],
            "users": [{"name": "dave", "assignments": [{"account_id": "999999999999", "role_name": "R"}]}],
        },
        expect=400,
    )
    assert "users[0].assignments[0].account_id" in answer["error"], answer
    test_api("GET", "/keyfob-test/sso/status?start_url=https://x.example/start", expect=404)
    test_api("POST", "/keyfob-test/sso/throttle", {"operation": "sso:Nope", "count": 1}, expect=400)
    answer = test_api("POST", "/keyfob-test/sso/approve", {"start_url": PAR_URL, "user": "erin"}, expect=409)
    assert "0 authorizations are pending" in answer["error"], answer
    text = json.dumps(status(USERS_URL))
    issued = issued_secrets(USERS_URL)
    assert len(issued) > 20, len(issued)
    leaked = [s[:6] for s in issued if s in text]
    assert not leaked, leaked


@check
def calls_are_counted_with_sso_labels() -> None:
    calls = test_api("GET", "/keyfob-test/calls")
    for label in (
        "sso-oidc:RegisterClient",
        "sso-oidc:StartDeviceAuthorization",
        "sso-oidc:CreateToken",
        "sso:GetRoleCredentials",
        "sso:ListAccounts",
        "sso:ListAccountRoles",
        "sso:Logout",
    ):
        assert calls.get(label, 0) > 0, (label, calls)
    assert not any(k.startswith("?") or "/client" in k for k in calls), calls


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
    workdir = tempfile.mkdtemp(prefix="keyfob-sso-check-")
    # boto3 here must not read (or be steered by) the real ~/.aws either
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                 "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    os.environ["AWS_CONFIG_FILE"] = os.path.join(workdir, "boto3-config")
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.path.join(workdir, "boto3-credentials")
    try:
        log_path = os.path.join(workdir, "launcher.log")
        started = time.monotonic()
        try:
            proc, Env.info = start_launcher(workdir, log_path)
        except Exception as e:  # noqa: BLE001
            print(f"FAIL start_launcher: {e}")
            print("0 passed, 1 failed")
            return 1
        Env.timings["launcher start"] = time.monotonic() - started
        Env.endpoint = Env.info["endpoint_url"]
        Env.workdir = workdir
        try:
            configure_instances()
            beside: list[bool] = []
            threads = [
                threading.Thread(target=lambda n=name, f=fn: beside.append(run_check(n, f)))
                for name, fn in BESIDE_FIRST
            ]
            for t in threads:
                t.start()
            for i, (name, fn) in enumerate(CHECKS):
                ok = run_check(name, fn)
                passed, failed = passed + ok, failed + (not ok)
                if i == 0:
                    for t in threads:
                        t.join()
                    passed, failed = passed + sum(beside), failed + beside.count(False)
            secrets = []
            for url in (USERS_URL, CLI_URL, PAR_URL, PKCE_URL, DEV_URL, CODE_URL, DENY_URL):
                secrets += issued_secrets(url)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log_text = open(log_path).read()
        leaked = [s[:6] + "..." for s in set(secrets) if s in log_text]
        if not leaked and "keyfob-sso: " not in log_text:
            print("PASS launcher_log_has_no_sso_secret_or_internal_error")
            passed += 1
        else:
            print(f"FAIL launcher_log_has_no_sso_secret_or_internal_error: {leaked}")
            print("\n".join(line for line in log_text.splitlines() if "keyfob-sso" in line))
            failed += 1
        if failed:
            print("---- launcher log (tail) ----")
            print("\n".join(log_text.splitlines()[-30:]))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for what, seconds in Env.timings.items():
        print(f"  {what}: {seconds * 1000:.0f} ms")
    print(f"  check_sso wall time: {time.monotonic() - wall:.1f} s")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
