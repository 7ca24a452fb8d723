#!/usr/bin/env python3
"""Self-check of tests/support/moto_launcher.py: every tightening really holds.

    python3 tests/support/check_launcher.py

Starts the launcher as a subprocess, talks to it with boto3 like a client
would, stops it, and prints one PASS/FAIL line per check and, last,
"N passed, M failed". Exits non-zero if anything failed.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
LAUNCHER = os.path.join(HERE, "moto_launcher.py")
ACCOUNT = "123456789012"
REGION = "us-east-1"
EXAMPLE_KEY_ID = "AKIAIOSFODNN7EXAMPLE"

CHECKS: list[tuple[str, Callable[[], None]]] = []


def check(fn: Callable[[], None]) -> Callable[[], None]:
    CHECKS.append((fn.__name__, fn))
    return fn


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


class Env:
    endpoint = ""
    info: dict[str, Any] = {}
    secrets: list[str] = []  # must never show up in the launcher's log


def remember(*secrets: str) -> None:
    Env.secrets.extend(s for s in secrets if s)


def client(service: str, key_id: str, secret: str, token: str | None = None, validate: bool = True):
    cfg = Config(retries={"max_attempts": 1}, parameter_validation=validate)
    return boto3.client(
        service,
        endpoint_url=Env.endpoint,
        region_name=REGION,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=cfg,
    )


def admin(service: str):
    return client(service, Env.info["admin_access_key_id"], Env.info["admin_secret_access_key"])


def with_creds(service: str, creds: dict, validate: bool = True):
    return client(
        service, creds["AccessKeyId"], creds["SecretAccessKey"], creds.get("SessionToken"), validate
    )


def expect_error(
    call: Callable[[], Any], status: int, code: str | None = None, message: str | None = None
) -> None:
    try:
        result = call()
    except ClientError as e:
        got_status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        got_code = e.response.get("Error", {}).get("Code")
        got_message = e.response.get("Error", {}).get("Message", "")
        assert got_status == status, f"expected HTTP {status}, got {got_status} ({got_code}: {got_message})"
        if code is not None:
            assert got_code == code, f"expected {code}, got {got_code}: {got_message}"
        if message is not None:
            assert message in got_message, f"expected message {message!r}, got {got_message!r}"
        return
    raise AssertionError(f"expected HTTP {status} {code or ''}, but the call succeeded: {str(result)[:200]}")


def test_api(method: str, path: str, body: dict | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    req = urllib.request.Request(
        Env.endpoint + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.load(resp)


def totp(seed_base32: str, at: float | None = None) -> str:
    counter = int((time.time() if at is None else at) // 30)
    key = base64.b32decode(seed_base32 + "=" * (-len(seed_base32) % 8), casefold=True)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def make_user(name: str, policy: dict | None = None) -> dict:
    iam = admin("iam")
    iam.create_user(UserName=name)
    if policy is not None:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    remember(key["SecretAccessKey"])
    return key


def make_role(name: str, trust: dict, max_session: int = 3600) -> str:
    role = admin("iam").create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps(trust), MaxSessionDuration=max_session
    )["Role"]
    admin("iam").put_role_policy(
        RoleName=name,
        PolicyName="p",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )
    return role["Arn"]


def allow(*actions: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}],
    }


def session(key: dict, **kwargs: Any) -> dict:
    creds = client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_session_token(**kwargs)[
        "Credentials"
    ]
    remember(creds["SecretAccessKey"], creds["SessionToken"])
    return creds


class U:  # users, keys and roles shared by the checks (made in order)
    u1: dict = {}
    u2: dict = {}
    ext_role = ""


def trust(principal: Any, condition: dict | None = None, actions: Any = "sts:AssumeRole") -> dict:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": actions}
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


# --------------------------------------------------------------------------
# checks (run in this order)
# --------------------------------------------------------------------------


@check
def port_file_is_json_with_admin_keys() -> None:
    assert isinstance(Env.info["port"], int)
    assert Env.info["admin_access_key_id"].startswith("AKIA")
    assert len(Env.info["admin_secret_access_key"]) == 40


@check
def admin_is_keyfob_admin() -> None:
    arn = admin("sts").get_caller_identity()["Arn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:user/keyfob-admin", arn


@check
def wrong_secret_is_403() -> None:
    sts = client("sts", Env.info["admin_access_key_id"], "x" * 40)
    expect_error(sts.get_caller_identity, 403, "SignatureDoesNotMatch")
    iam = client("iam", Env.info["admin_access_key_id"], "x" * 40)
    expect_error(iam.list_users, 403, "SignatureDoesNotMatch")


@check
def unknown_key_is_403() -> None:
    expect_error(
        client("sts", "AKIAAAAAAAAAAAAAAAAA", "x" * 40).get_caller_identity, 403, "InvalidClientTokenId"
    )


@check
def auth_errors_are_query_protocol_xml() -> None:
    # Sign a request with a wrong secret by hand and look at the raw body:
    # AWS's query protocol puts <Error> directly under <ErrorResponse>.
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    req = AWSRequest(
        method="POST",
        url=Env.endpoint + "/",
        data="Action=GetCallerIdentity&Version=2011-06-15",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    SigV4Auth(Credentials(Env.info["admin_access_key_id"], "y" * 40), "sts", REGION).add_auth(req)
    prepared = req.prepare()
    http = urllib.request.Request(
        prepared.url, data=prepared.body.encode(), method="POST", headers=dict(prepared.headers)
    )
    try:
        urllib.request.urlopen(http, timeout=10)
        raise AssertionError("wrong secret accepted")
    except urllib.error.HTTPError as e:
        assert e.code == 403, e.code
        root = ET.fromstring(e.read())
    ns = "{https://sts.amazonaws.com/doc/2011-06-15/}"
    assert root.tag == ns + "ErrorResponse", root.tag
    assert root.find(f"{ns}Error/{ns}Code").text == "SignatureDoesNotMatch"
    assert root.find(f"{ns}Error/{ns}Type").text == "Sender"
    assert root.find(f"{ns}RequestId") is not None


@check
def admin_creates_user_and_key_and_it_works() -> None:
    U.u1 = make_user("u1", allow("sts:AssumeRole", "iam:ListAccessKeys"))
    arn = client("sts", U.u1["AccessKeyId"], U.u1["SecretAccessKey"]).get_caller_identity()["Arn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:user/u1", arn


@check
def inactive_key_is_403_and_reactivated_key_works() -> None:
    key = admin("iam").create_access_key(UserName="u1")["AccessKey"]
    remember(key["SecretAccessKey"])
    sts = client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    sts.get_caller_identity()
    admin("iam").update_access_key(UserName="u1", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    expect_error(
        sts.get_caller_identity,
        403,
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
    )
    expect_error(sts.get_session_token, 403, "InvalidClientTokenId")
    admin("iam").update_access_key(UserName="u1", AccessKeyId=key["AccessKeyId"], Status="Active")
    sts.get_caller_identity()
    admin("iam").delete_access_key(UserName="u1", AccessKeyId=key["AccessKeyId"])
    expect_error(sts.get_caller_identity, 403, "InvalidClientTokenId")


@check
def get_session_token_returns_fresh_usable_asia_credentials() -> None:
    a = session(U.u1)
    b = session(U.u1)
    for c in (a, b):
        assert c["AccessKeyId"].startswith("ASIA") and len(c["AccessKeyId"]) == 20, c["AccessKeyId"]
        assert c["AccessKeyId"] != EXAMPLE_KEY_ID and "EXAMPLE" not in c["SecretAccessKey"]
        assert c["SessionToken"] and "EXAMPLE" not in c["SessionToken"]
    assert a["AccessKeyId"] != b["AccessKeyId"]
    assert a["SecretAccessKey"] != b["SecretAccessKey"]
    assert a["SessionToken"] != b["SessionToken"]
    long_term = client("sts", U.u1["AccessKeyId"], U.u1["SecretAccessKey"]).get_caller_identity()
    for c in (a, b):
        ident = with_creds("sts", c).get_caller_identity()
        assert ident["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/u1", ident["Arn"]
        assert ident["UserId"] == long_term["UserId"], (ident["UserId"], long_term["UserId"])
    left = a["Expiration"] - dt.datetime.now(dt.timezone.utc)
    assert dt.timedelta(hours=11, minutes=58) < left <= dt.timedelta(hours=12), left  # default 43200 s


@check
def session_credentials_need_their_token() -> None:
    c = session(U.u1)
    expect_error(
        with_creds("sts", dict(c, SessionToken=None)).get_caller_identity, 403, "InvalidClientTokenId"
    )
    other = session(U.u1)["SessionToken"]
    expect_error(
        with_creds("sts", dict(c, SessionToken=other)).get_caller_identity, 403, "InvalidClientTokenId"
    )
    expect_error(
        with_creds("sts", dict(c, SecretAccessKey="z" * 40)).get_caller_identity, 403, "SignatureDoesNotMatch"
    )


@check
def get_session_token_duration_is_validated() -> None:
    c = session(U.u1, DurationSeconds=900)
    left = c["Expiration"] - dt.datetime.now(dt.timezone.utc)
    assert dt.timedelta(seconds=880) < left <= dt.timedelta(seconds=900), left
    c = session(U.u1, DurationSeconds=129600)
    assert c["Expiration"] - dt.datetime.now(dt.timezone.utc) > dt.timedelta(hours=35)
    sts = client("sts", U.u1["AccessKeyId"], U.u1["SecretAccessKey"], validate=False)
    expect_error(lambda: sts.get_session_token(DurationSeconds=899), 400, "ValidationError")
    expect_error(lambda: sts.get_session_token(DurationSeconds=129601), 400, "ValidationError")


@check
def get_session_token_needs_no_permission_but_long_term_keys() -> None:
    U.u2 = make_user("u2")  # no policy at all
    c = session(U.u2)
    assert with_creds("sts", c).get_caller_identity()["Arn"].endswith(":user/u2")
    expect_error(with_creds("sts", c).get_session_token, 403, "AccessDenied", "with session credentials")


@check
def session_credentials_without_mfa_cannot_call_iam() -> None:
    c = session(U.u1)
    # AWS answers InvalidClientTokenId here, not AccessDenied
    expect_error(lambda: with_creds("iam", c).list_access_keys(UserName="u1"), 403, "InvalidClientTokenId")
    # while the long-term key may (its policy allows it)
    client("iam", U.u1["AccessKeyId"], U.u1["SecretAccessKey"]).list_access_keys(UserName="u1")


@check
def session_policies_still_apply() -> None:
    c = session(U.u2)  # u2 has no policy: AssumeRole must be denied
    arn = make_role("r-open", trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))
    expect_error(
        lambda: with_creds("sts", c).assume_role(RoleArn=arn, RoleSessionName="s1"), 403, "AccessDenied"
    )


@check
def assume_role_external_id_missing_wrong_right() -> None:
    U.ext_role = make_role(
        "r-ext",
        trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, {"StringEquals": {"sts:ExternalId": "ext-123"}}),
    )
    sts = with_creds("sts", session(U.u1))
    expect_error(
        lambda: sts.assume_role(RoleArn=U.ext_role, RoleSessionName="s1"),
        403,
        "AccessDenied",
        f"not authorized to perform: sts:AssumeRole on resource: {U.ext_role}",
    )
    expect_error(
        lambda: sts.assume_role(RoleArn=U.ext_role, RoleSessionName="s1", ExternalId="ext-999"),
        403,
        "AccessDenied",
    )
    out = sts.assume_role(RoleArn=U.ext_role, RoleSessionName="keyfob-s", ExternalId="ext-123")
    creds = out["Credentials"]
    remember(creds["SecretAccessKey"], creds["SessionToken"])
    assert creds["AccessKeyId"].startswith("ASIA")
    want = f"arn:aws:sts::{ACCOUNT}:assumed-role/r-ext/keyfob-s"
    assert out["AssumedRoleUser"]["Arn"] == want, out["AssumedRoleUser"]
    assert with_creds("sts", creds).get_caller_identity()["Arn"] == want
    with_creds("iam", creds).list_roles()  # the role's own policy applies


@check
def assume_role_with_long_term_key_also_checks_external_id() -> None:
    sts = client("sts", U.u1["AccessKeyId"], U.u1["SecretAccessKey"])
    expect_error(lambda: sts.assume_role(RoleArn=U.ext_role, RoleSessionName="s1"), 403, "AccessDenied")
    sts.assume_role(RoleArn=U.ext_role, RoleSessionName="s1", ExternalId="ext-123")


@check
def assume_role_checks_trust_principal() -> None:
    only_u2 = make_role("r-u2", trust({"AWS": f"arn:aws:iam::{ACCOUNT}:user/u2"}))
    only_u1 = make_role("r-u1", trust({"AWS": [f"arn:aws:iam::{ACCOUNT}:user/u1"]}))
    other_account = make_role("r-acct", trust({"AWS": "210987654321"}))
    service_only = make_role("r-svc", trust({"Service": "ec2.amazonaws.com"}))
    sts = with_creds("sts", session(U.u1))
    for arn in (only_u2, other_account, service_only, f"arn:aws:iam::{ACCOUNT}:role/does-not-exist"):
        expect_error(lambda arn=arn: sts.assume_role(RoleArn=arn, RoleSessionName="s1"), 403, "AccessDenied")
    sts.assume_role(RoleArn=only_u1, RoleSessionName="s1")
    deny = make_role(
        "r-deny",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"},
                {
                    "Effect": "Deny",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/u1"},
                    "Action": "sts:*",
                },
            ],
        },
    )
    expect_error(lambda: sts.assume_role(RoleArn=deny, RoleSessionName="s1"), 403, "AccessDenied")


@check
def assume_role_parameters_are_validated() -> None:
    arn = make_role("r-long", trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}), max_session=7200)
    sts = client("sts", U.u1["AccessKeyId"], U.u1["SecretAccessKey"], validate=False)
    out = sts.assume_role(RoleArn=arn, RoleSessionName="s1", DurationSeconds=7200)
    expect_error(
        lambda: sts.assume_role(RoleArn=arn, RoleSessionName="s1", DurationSeconds=7201),
        400,
        "ValidationError",
        "MaxSessionDuration",
    )
    expect_error(
        lambda: sts.assume_role(RoleArn=arn, RoleSessionName="s1", DurationSeconds=899),
        400,
        "ValidationError",
    )
    expect_error(lambda: sts.assume_role(RoleArn=arn, RoleSessionName="x"), 400, "ValidationError")
    expect_error(lambda: sts.assume_role(RoleArn=arn, RoleSessionName="bad name"), 400, "ValidationError")
    expect_error(
        lambda: sts.assume_role(RoleArn=arn, RoleSessionName="s1", ExternalId="a b"), 400, "ValidationError"
    )
    # role chaining is limited to one hour
    chained = with_creds("sts", out["Credentials"], validate=False)
    chain_target = make_role("r-chain", trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}), max_session=7200)
    expect_error(
        lambda: chained.assume_role(RoleArn=chain_target, RoleSessionName="s1", DurationSeconds=3601),
        400,
        "ValidationError",
        "role chaining",
    )
    chained.assume_role(RoleArn=chain_target, RoleSessionName="s1", DurationSeconds=3600)


@check
def source_identity_needs_set_source_identity_in_trust() -> None:
    plain = make_role("r-nosi", trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))
    with_si = make_role(
        "r-si",
        trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, actions=["sts:AssumeRole", "sts:SetSourceIdentity"]),
    )
    sts = with_creds("sts", session(U.u1))
    expect_error(
        lambda: sts.assume_role(RoleArn=plain, RoleSessionName="s1", SourceIdentity="alice"),
        403,
        "AccessDenied",
    )
    out = sts.assume_role(RoleArn=with_si, RoleSessionName="s1", SourceIdentity="alice")
    assert out.get("SourceIdentity") == "alice", out.get("SourceIdentity")


class Mfa:
    serial = ""
    seed = ""


@check
def mfa_wrong_code_refused_right_code_accepted_reuse_refused() -> None:
    iam = admin("iam")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="u1-phone")["VirtualMFADevice"]
    Mfa.serial = device["SerialNumber"]
    Mfa.seed = device["Base32StringSeed"].decode()
    remember(Mfa.seed)
    iam.enable_mfa_device(
        UserName="u1", SerialNumber=Mfa.serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
    )
    sts = client("sts", U.u1["AccessKeyId"], U.u1["SecretAccessKey"])
    now = time.time()
    good = {totp(Mfa.seed, now + d) for d in (-30, 0, 30)}
    wrong = next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in good)
    msg = "MultiFactorAuthentication failed with invalid MFA one time pass code."
    expect_error(
        lambda: sts.get_session_token(SerialNumber=Mfa.serial, TokenCode=wrong), 403, "AccessDenied", msg
    )
    # a code from ten minutes ago is no longer valid
    old = totp(Mfa.seed, now - 600)
    if old not in good:
        expect_error(
            lambda: sts.get_session_token(SerialNumber=Mfa.serial, TokenCode=old), 403, "AccessDenied"
        )
    code = totp(Mfa.seed)
    creds = sts.get_session_token(SerialNumber=Mfa.serial, TokenCode=code)["Credentials"]
    remember(creds["SecretAccessKey"], creds["SessionToken"])
    assert creds["AccessKeyId"].startswith("ASIA")
    # an MFA session may call IAM (the user's policy allows iam:ListAccessKeys)
    with_creds("iam", creds).list_access_keys(UserName="u1")
    expect_error(
        lambda: sts.get_session_token(SerialNumber=Mfa.serial, TokenCode=code), 403, "AccessDenied", msg
    )


@check
def mfa_device_must_belong_to_caller() -> None:
    # u2 presents u1's device with a currently valid code
    sts = client("sts", U.u2["AccessKeyId"], U.u2["SecretAccessKey"])
    expect_error(
        lambda: sts.get_session_token(SerialNumber=Mfa.serial, TokenCode=totp(Mfa.seed, time.time() + 30)),
        403,
        "AccessDenied",
        "MultiFactorAuthentication failed",
    )
    expect_error(
        lambda: sts.get_session_token(SerialNumber=f"arn:aws:iam::{ACCOUNT}:mfa/nope", TokenCode="123456"),
        403,
        "AccessDenied",
    )


@check
def mfa_present_reaches_trust_policy() -> None:
    arn = make_role(
        "r-mfa",
        trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, {"Bool": {"aws:MultiFactorAuthPresent": "true"}}),
    )
    expect_error(
        lambda: with_creds("sts", session(U.u1)).assume_role(RoleArn=arn, RoleSessionName="s1"),
        403,
        "AccessDenied",
    )
    # next 30 s step's code (current one may be used up by the previous check)
    deadline = time.time() + 70
    while True:
        try:
            creds = session(U.u1, SerialNumber=Mfa.serial, TokenCode=totp(Mfa.seed, time.time() + 30))
            break
        except ClientError:
            if time.time() > deadline:
                raise
            time.sleep(2)
    with_creds("sts", creds).assume_role(RoleArn=arn, RoleSessionName="s1")


@check
def expired_credentials_are_refused() -> None:
    c = session(U.u1, DurationSeconds=900)
    role = with_creds("sts", c).assume_role(
        RoleArn=U.ext_role, RoleSessionName="s1", ExternalId="ext-123", DurationSeconds=900
    )["Credentials"]
    remember(role["SecretAccessKey"], role["SessionToken"])
    long = session(U.u1, DurationSeconds=3600)
    try:
        assert test_api("POST", "/keyfob-test/clock", {"advance_seconds": 901}) == {"advance_seconds": 901}
        expect_error(with_creds("sts", c).get_caller_identity, 403, "ExpiredToken")
        expect_error(with_creds("sts", role).get_caller_identity, 403, "ExpiredToken")
        with_creds("sts", long).get_caller_identity()
        client("sts", U.u1["AccessKeyId"], U.u1["SecretAccessKey"]).get_caller_identity()
    finally:
        test_api("POST", "/keyfob-test/clock", {"advance_seconds": 0})
    with_creds("sts", c).get_caller_identity()


@check
def role_session_life_shortens_assume_role_only() -> None:
    c = session(U.u1, DurationSeconds=3600)
    sts = with_creds("sts", c)
    try:
        assert test_api("POST", "/keyfob-test/role-session-life", {"seconds": 2}) == {"seconds": 2}
        role = sts.assume_role(
            RoleArn=U.ext_role, RoleSessionName="s1", ExternalId="ext-123", DurationSeconds=900
        )["Credentials"]
        remember(role["SecretAccessKey"], role["SessionToken"])
        left = (role["Expiration"] - dt.datetime.now(dt.timezone.utc)).total_seconds()
        assert 0 < left <= 3, left
        with_creds("sts", role).get_caller_identity()
        time.sleep(max(left, 0) + 0.5)
        expect_error(with_creds("sts", role).get_caller_identity, 403, "ExpiredToken")
        # GetSessionToken sessions are not shortened.
        sts.get_caller_identity()
    finally:
        test_api("POST", "/keyfob-test/role-session-life", {"seconds": 0})
    role = sts.assume_role(RoleArn=U.ext_role, RoleSessionName="s1", ExternalId="ext-123")["Credentials"]
    remember(role["SecretAccessKey"], role["SessionToken"])
    assert (role["Expiration"] - dt.datetime.now(dt.timezone.utc)).total_seconds() > 600


@check
def a_marked_key_answers_as_the_root_user() -> None:
    """T10: GetCallerIdentity as AWS answers for a root user's key; the
    key still signs as before, and unmarked keys are unchanged."""
    key = make_user("root-like")
    sts = client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/root-like"
    assert test_api("POST", "/keyfob-test/root-key", {"access_key_id": key["AccessKeyId"]}) == {"status": "ok"}
    who = sts.get_caller_identity()
    assert who["Arn"] == f"arn:aws:iam::{ACCOUNT}:root", who
    assert who["UserId"] == ACCOUNT and who["Account"] == ACCOUNT, who
    arn = client("sts", U.u1["AccessKeyId"], U.u1["SecretAccessKey"]).get_caller_identity()["Arn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:user/u1", arn


@check
def call_counter_counts() -> None:
    assert test_api("POST", "/keyfob-test/calls/reset") == {"status": "ok"}
    assert test_api("GET", "/keyfob-test/calls") == {}
    sts = client("sts", U.u1["AccessKeyId"], U.u1["SecretAccessKey"])
    for _ in range(3):
        sts.get_session_token()
    sts.get_caller_identity()
    expect_error(
        client("sts", "AKIAAAAAAAAAAAAAAAAA", "x" * 40).get_session_token, 403
    )  # refused ones count too
    admin("iam").list_users()
    calls = test_api("GET", "/keyfob-test/calls")
    assert calls == {"sts:GetSessionToken": 4, "sts:GetCallerIdentity": 1, "iam:ListUsers": 1}, calls
    test_api("POST", "/keyfob-test/calls/reset")
    assert test_api("GET", "/keyfob-test/calls") == {}


@check
def parallel_calls_are_all_counted() -> None:
    from concurrent.futures import ThreadPoolExecutor

    test_api("POST", "/keyfob-test/calls/reset")
    key = U.u1

    def one(_: int) -> str:
        return client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()["Arn"]

    with ThreadPoolExecutor(max_workers=16) as pool:
        arns = list(pool.map(one, range(32)))
    assert set(arns) == {f"arn:aws:iam::{ACCOUNT}:user/u1"}
    assert test_api("GET", "/keyfob-test/calls") == {"sts:GetCallerIdentity": 32}


@check
def moto_reset_endpoints_are_refused() -> None:
    for path in ("/moto-api/reset", "/moto-api/reset-auth"):
        req = urllib.request.Request(
            Env.endpoint + path, data=b"0", method="POST", headers={"Content-Type": "text/plain"}
        )
        try:
            urllib.request.urlopen(req, timeout=10)
            raise AssertionError(f"{path} was accepted")
        except urllib.error.HTTPError as e:
            assert e.code == 409, (path, e.code)
    expect_error(client("sts", Env.info["admin_access_key_id"], "x" * 40).get_caller_identity, 403)


# --- T9: AssumeRole session tags and the AssumeRole record ---------------


def tags_of(pairs: dict) -> list[dict]:
    return [{"Key": k, "Value": v} for k, v in pairs.items()]


def tagging_trust() -> dict:
    return trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, actions=["sts:AssumeRole", "sts:TagSession"])


class Tagged:
    role = ""
    session: dict = {}
    chained_role = ""


@check
def tags_reach_the_assume_role_record() -> None:
    Tagged.role = make_role("r-tags", tagging_trust())
    assert test_api("POST", "/keyfob-test/assume-role/reset") == {"status": "ok"}
    sts = client("sts", U.u1["AccessKeyId"], U.u1["SecretAccessKey"])
    policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    out = sts.assume_role(
        RoleArn=Tagged.role,
        RoleSessionName="tagged",
        ExternalId="secret-ext-id",
        DurationSeconds=900,
        Tags=tags_of({"team": "blue", "env": "dev"}),
        TransitiveTagKeys=["team"],
        PolicyArns=[{"arn": policy_arn}],
    )
    remember(out["Credentials"]["SecretAccessKey"], out["Credentials"]["SessionToken"])
    assert 1 <= out["PackedPolicySize"] <= 100, out["PackedPolicySize"]
    record = test_api("GET", "/keyfob-test/assume-role")
    assert "secret-ext-id" not in json.dumps(record), "external ID leaked into the record"
    assert record == [
        {
            "role_arn": Tagged.role,
            "role_session_name": "tagged",
            "source_identity": None,
            "external_id_present": True,
            "duration_seconds": 900,
            "tags": {"team": "blue", "env": "dev"},
            "transitive_tag_keys": ["team"],
            "inherited_transitive_tags": {},
            "policy_arns": [policy_arn],
            "caller_arn": f"arn:aws:iam::{ACCOUNT}:user/u1",
            "status": "ok",
        }
    ], record
    Tagged.session = out["Credentials"]


@check
def bad_tags_are_refused_and_recorded() -> None:
    test_api("POST", "/keyfob-test/assume-role/reset")
    sts = client("sts", U.u1["AccessKeyId"], U.u1["SecretAccessKey"], validate=False)
    many = tags_of({f"k{i}": "v" for i in range(51)})
    call = lambda **kw: sts.assume_role(RoleArn=Tagged.role, RoleSessionName="s1", **kw)  # noqa: E731
    expect_error(lambda: call(Tags=many), 400, "ValidationError", "'tags'")
    expect_error(lambda: call(Tags=tags_of({"k" * 129: "v"})), 400, "ValidationError", "tags.1.member.key")
    expect_error(lambda: call(Tags=tags_of({"k": "v" * 257})), 400, "ValidationError", "tags.1.member.value")
    expect_error(lambda: call(Tags=tags_of({"k": "a;b"})), 400, "ValidationError", "pattern")
    expect_error(
        lambda: call(Tags=tags_of({"Team": "a", "team": "b"})), 400, "InvalidParameterValue", "Duplicate"
    )
    expect_error(
        lambda: call(Tags=tags_of({"a": "1"}), TransitiveTagKeys=["b"]),
        400,
        "InvalidParameterValue",
        "transitive",
    )
    arns = [{"arn": f"arn:aws:iam::aws:policy/P{i:02d}"} for i in range(11)]
    expect_error(lambda: call(PolicyArns=arns), 400, "ValidationError", "'policyArns'")
    expect_error(lambda: call(Policy="x" * 2049), 400, "ValidationError", "'policy'")
    expect_error(lambda: call(Policy="{not json"), 400, "MalformedPolicyDocument")
    call(Tags=tags_of({"unicode é ü": "ok 1 = 2 + @:/"}))  # letters, spaces, numbers and _.:/=+-@
    statuses = [r["status"] for r in test_api("GET", "/keyfob-test/assume-role")]
    want = ["ValidationError"] * 4 + ["InvalidParameterValue"] * 2 + ["ValidationError"] * 2
    assert statuses == want + ["MalformedPolicyDocument", "ok"], statuses


@check
def tags_need_tag_session_in_trust() -> None:
    test_api("POST", "/keyfob-test/assume-role/reset")
    plain = make_role("r-notag", trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))
    sts = client("sts", U.u1["AccessKeyId"], U.u1["SecretAccessKey"])
    expect_error(
        lambda: sts.assume_role(RoleArn=plain, RoleSessionName="s1", Tags=tags_of({"a": "1"})),
        403,
        "AccessDenied",
        f"not authorized to perform: sts:TagSession on resource: {plain}",
    )
    sts.assume_role(RoleArn=plain, RoleSessionName="s1")  # without tags it is allowed
    record = test_api("GET", "/keyfob-test/assume-role")
    assert [(r["status"], r["tags"]) for r in record] == [("AccessDenied", {"a": "1"}), ("ok", {})], record


@check
def transitive_tags_carry_into_a_chain() -> None:
    test_api("POST", "/keyfob-test/assume-role/reset")
    Tagged.chained_role = make_role("r-tags2", tagging_trust())
    chained = with_creds("sts", Tagged.session)
    out = chained.assume_role(
        RoleArn=Tagged.chained_role, RoleSessionName="hop2", Tags=tags_of({"env": "prod"})
    )
    remember(out["Credentials"]["SecretAccessKey"], out["Credentials"]["SessionToken"])
    # a transitive key may not be set again in the chain
    expect_error(
        lambda: chained.assume_role(
            RoleArn=Tagged.chained_role, RoleSessionName="hop2", Tags=tags_of({"TEAM": "red"})
        ),
        400,
        "InvalidParameterValue",
        "TEAM",
    )
    # inherited tags need sts:TagSession in the next role's trust policy too
    plain = f"arn:aws:iam::{ACCOUNT}:role/r-notag"
    expect_error(lambda: chained.assume_role(RoleArn=plain, RoleSessionName="hop2"), 403, "AccessDenied")
    # and they keep flowing: hop 3 inherits team=blue through hop 2 (team stays transitive)
    hop3 = with_creds("sts", out["Credentials"]).assume_role(RoleArn=Tagged.role, RoleSessionName="hop3")
    remember(hop3["Credentials"]["SecretAccessKey"], hop3["Credentials"]["SessionToken"])
    record = test_api("GET", "/keyfob-test/assume-role")
    got = [(r["status"], r["inherited_transitive_tags"], r["tags"], r["caller_arn"]) for r in record]
    hop1_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/r-tags/tagged"
    hop2_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/r-tags2/hop2"
    assert got == [
        ("ok", {"team": "blue"}, {"env": "prod"}, hop1_arn),
        ("InvalidParameterValue", {"team": "blue"}, {"TEAM": "red"}, hop1_arn),
        ("AccessDenied", {"team": "blue"}, {}, hop1_arn),
        ("ok", {"team": "blue"}, {}, hop2_arn),
    ], got


# --- T8: the console federation endpoint ---------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def federation(method: str, params: dict) -> tuple[int, dict, str]:
    """One call to {endpoint}/federation: (status, headers, body), redirects not followed."""
    query = urllib.parse.urlencode(params)
    if method == "GET":
        req = urllib.request.Request(f"{Env.endpoint}/federation?{query}", method="GET")
    else:
        req = urllib.request.Request(
            f"{Env.endpoint}/federation",
            data=query.encode(),
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def tampered(text: str) -> str:
    """The same text with its first character changed (always different)."""
    return ("B" if text[0] == "A" else "A") + text[1:]


def session_json(creds: dict) -> str:
    return json.dumps(
        {
            "sessionId": creds["AccessKeyId"],
            "sessionKey": creds["SecretAccessKey"],
            "sessionToken": creds["SessionToken"],
        }
    )


def signin_token(creds: dict, method: str = "GET", **extra: Any) -> str:
    status, _, body = federation(method, {"Action": "getSigninToken", "Session": session_json(creds), **extra})
    assert status == 200, (status, body)
    token = json.loads(body)["SigninToken"]
    remember(token)
    return token


def expect_signin_refused(creds: dict, needle: str, status: int = 400, **extra: Any) -> None:
    got, _, body = federation("GET", {"Action": "getSigninToken", "Session": session_json(creds), **extra})
    assert got == status and needle in body, (got, body)
    for secret in (creds["SecretAccessKey"], creds.get("SessionToken") or "-"):
        assert secret not in body, "the refusal echoes a secret"


class Console:
    role_creds: dict = {}
    chained_creds: dict = {}


@check
def sign_in_token_for_a_role_session() -> None:
    assert test_api("POST", "/keyfob-test/federation/reset") == {"status": "ok"}
    sts = client("sts", U.u1["AccessKeyId"], U.u1["SecretAccessKey"])
    out = sts.assume_role(
        RoleArn=U.ext_role, RoleSessionName="console", ExternalId="ext-123", DurationSeconds=900
    )
    Console.role_creds = out["Credentials"]
    remember(Console.role_creds["SecretAccessKey"], Console.role_creds["SessionToken"])
    signin_token(Console.role_creds)  # GET, default duration: what the credentials have left
    signin_token(Console.role_creds, "POST", SessionDuration="43200")  # POST form body
    chained = with_creds("sts", Console.role_creds).assume_role(
        RoleArn=Tagged.chained_role, RoleSessionName="c2"
    )
    Console.chained_creds = chained["Credentials"]
    remember(Console.chained_creds["SecretAccessKey"], Console.chained_creds["SessionToken"])
    signin_token(Console.chained_creds)  # a chained session signs in, without SessionDuration
    expect_signin_refused(Console.chained_creds, "role chaining", SessionDuration="900")
    issued = test_api("GET", "/keyfob-test/federation")
    role_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/r-ext/console"
    got = [(t["principal_arn"], t["kind"], t["logged_in"]) for t in issued]
    assert got == [(role_arn, "assumed-role", False)] * 2 + [
        (f"arn:aws:sts::{ACCOUNT}:assumed-role/r-tags2/c2", "assumed-role", False)
    ], issued
    assert 880 <= issued[0]["session_duration"] <= 900, issued[0]
    assert issued[1]["session_duration"] == 43200, issued[1]
    assert dt.datetime.strptime(issued[0]["issued_at"], "%Y-%m-%dT%H:%M:%SZ")
    assert Console.role_creds["SessionToken"] not in json.dumps(issued)


@check
def sign_in_refuses_bad_sessions() -> None:
    expect_signin_refused(session(U.u1), "GetSessionToken")
    long_term = dict(U.u1, SessionToken="x")
    expect_signin_refused(long_term, "long-term")
    role = Console.role_creds
    expect_signin_refused(dict(role, SecretAccessKey=tampered(role["SecretAccessKey"])), "not valid")
    expect_signin_refused(dict(role, SessionToken=tampered(role["SessionToken"])), "not valid")
    expect_signin_refused(dict(role, AccessKeyId="ASIAAAAAAAAAAAAAAAAA"), "not valid")
    for duration in ("899", "43201", "1h"):
        expect_signin_refused(role, "SessionDuration", SessionDuration=duration)
    for params, needle in (
        ({"Action": "getSigninToken"}, "Session is required"),
        ({"Action": "getSigninToken", "Session": "{not json"}, "not JSON"),
        ({"Action": "getSigninToken", "Session": json.dumps({"sessionId": role["AccessKeyId"]})}, "sessionKey"),
        ({"Action": "nope"}, "Action"),
    ):
        status, _, body = federation("GET", params)
        assert status == 400 and needle in body, (params, status, body)
    try:
        assert test_api("POST", "/keyfob-test/clock", {"advance_seconds": 901})["advance_seconds"] == 901
        expect_signin_refused(role, "expired")
    finally:
        test_api("POST", "/keyfob-test/clock", {"advance_seconds": 0})
    assert len(test_api("GET", "/keyfob-test/federation")) == 3  # none of these issued a token


@check
def login_redirects_to_the_console_with_a_valid_token() -> None:
    token = signin_token(Console.role_creds)
    destination = "https://us-east-1.console.aws.amazon.com/console/home?region=us-east-1"
    login = {"Action": "login", "Issuer": "https://keyfob.invalid/", "Destination": destination}
    status, headers, _ = federation("GET", dict(login, SigninToken=token))
    assert status == 302 and headers.get("Location") == destination, (status, headers)
    assert federation("POST", dict(login, SigninToken=token))[0] == 302
    assert test_api("GET", "/keyfob-test/federation")[-1]["logged_in"] is True
    for bad in (
        "http://console.aws.amazon.com/",
        "https://console.aws.amazon.com.evil.example/",
        "https://evil.example/?https://console.aws.amazon.com/",
        "https://user@console.aws.amazon.com/",
        "https://console.aws.amazon.com:8443/",
    ):
        status, _, body = federation("GET", dict(login, SigninToken=token, Destination=bad))
        assert status == 400 and "Destination" in body, (bad, status, body)
    assert federation("GET", dict(login, SigninToken=tampered(token)))[0] == 403
    assert federation("GET", {"Action": "login", "Destination": destination})[0] == 400
    try:
        test_api("POST", "/keyfob-test/clock", {"advance_seconds": 15 * 60})
        status, _, body = federation("GET", dict(login, SigninToken=token))
        assert status == 403 and "expired" in body, (status, body)
    finally:
        test_api("POST", "/keyfob-test/clock", {"advance_seconds": 0})
    calls = test_api("GET", "/keyfob-test/calls")
    assert calls.get("signin:login", 0) >= 9 and calls.get("signin:getSigninToken", 0) >= 5, calls


# --- T7: GetFederationToken ----------------------------------------------


class Fed:
    user: dict = {}
    creds: dict = {}


def federation_token(key: dict, **kwargs: Any) -> dict:
    out = client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_federation_token(**kwargs)
    remember(out["Credentials"]["SecretAccessKey"], out["Credentials"]["SessionToken"])
    return out


@check
def federation_token_is_usable_and_acts_as_the_federated_user() -> None:
    Fed.user = make_user("u-fed", allow("sts:GetFederationToken", "sns:ListTopics", "sqs:ListQueues"))
    out = federation_token(Fed.user, Name="alice", Policy=json.dumps(allow("sns:*")))
    creds = Fed.creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA"), creds["AccessKeyId"]
    assert "EXAMPLE" not in creds["SecretAccessKey"] + creds["SessionToken"]
    arn = f"arn:aws:sts::{ACCOUNT}:federated-user/alice"
    assert out["FederatedUser"] == {"FederatedUserId": f"{ACCOUNT}:alice", "Arn": arn}, out["FederatedUser"]
    assert out["PackedPolicySize"] >= 1, out["PackedPolicySize"]
    left = creds["Expiration"] - dt.datetime.now(dt.timezone.utc)
    assert dt.timedelta(hours=11, minutes=58) < left <= dt.timedelta(hours=12), left  # default 43200 s
    ident = with_creds("sts", creds).get_caller_identity()
    assert (ident["Arn"], ident["UserId"]) == (arn, f"{ACCOUNT}:alice"), ident
    with_creds("sns", creds).list_topics()  # the user's policy and the session policy allow it
    expect_error(with_creds("sqs", creds).list_queues, 403)  # the user's does, the session's does not
    wide = federation_token(Fed.user, Name="bob", Policy=json.dumps(allow("*")))["Credentials"]
    with_creds("sqs", wide).list_queues()
    # the session policy allows it, the user's does not
    expect_error(lambda: with_creds("sns", wide).create_topic(Name="t"), 403)
    bare = federation_token(Fed.user, Name="carol")["Credentials"]  # no session policy: no permissions
    assert with_creds("sts", bare).get_caller_identity()["Arn"].endswith(":federated-user/carol")
    expect_error(with_creds("sns", bare).list_topics, 403)
    wrong_secret = dict(creds, SecretAccessKey=tampered(creds["SecretAccessKey"]))
    expect_error(with_creds("sts", wrong_secret).get_caller_identity, 403, "SignatureDoesNotMatch")


@check
def federation_token_needs_long_term_keys_and_permission() -> None:
    for creds in (session(Fed.user), Fed.creds, Console.role_creds):
        expect_error(
            lambda creds=creds: with_creds("sts", creds).get_federation_token(Name="alice"),
            403,
            "AccessDenied",
            "Cannot call GetFederationToken with session credentials",
        )
    expect_error(
        lambda: client("sts", U.u2["AccessKeyId"], U.u2["SecretAccessKey"]).get_federation_token(Name="bob"),
        403,
        "AccessDenied",
        f"sts:GetFederationToken on resource: arn:aws:sts::{ACCOUNT}:federated-user/bob",
    )
    sts = with_creds("sts", Fed.creds)
    expect_error(sts.get_session_token, 403, "AccessDenied")
    expect_error(lambda: sts.assume_role(RoleArn=Tagged.role, RoleSessionName="s1"), 403, "AccessDenied")
    expect_error(lambda: with_creds("iam", Fed.creds).list_users(), 403)


@check
def federation_token_parameters_are_validated() -> None:
    sts = client("sts", Fed.user["AccessKeyId"], Fed.user["SecretAccessKey"], validate=False)
    eleven_arns = [{"arn": f"arn:aws:iam::{ACCOUNT}:policy/p{i:02d}"} for i in range(11)]
    for kwargs, code in (
        ({"Name": "a"}, "ValidationError"),
        ({"Name": "x" * 33}, "ValidationError"),
        ({"Name": "bad name"}, "ValidationError"),
        ({"Name": "alice", "DurationSeconds": 899}, "ValidationError"),
        ({"Name": "alice", "DurationSeconds": 129601}, "ValidationError"),
        ({"Name": "alice", "PolicyArns": eleven_arns}, "ValidationError"),
        ({"Name": "alice", "Policy": "x" * 2049}, "ValidationError"),
        ({"Name": "alice", "Policy": "{nope"}, "MalformedPolicyDocument"),
        ({"Name": "alice", "Policy": "[]"}, "MalformedPolicyDocument"),
    ):
        expect_error(lambda kwargs=kwargs: sts.get_federation_token(**kwargs), 400, code)
    short = federation_token(Fed.user, Name="dave", DurationSeconds=900)["Credentials"]
    long = federation_token(Fed.user, Name="erin", DurationSeconds=129600)["Credentials"]
    assert long["Expiration"] - dt.datetime.now(dt.timezone.utc) > dt.timedelta(hours=35)
    try:
        test_api("POST", "/keyfob-test/clock", {"advance_seconds": 901})
        expect_error(with_creds("sts", short).get_caller_identity, 403, "ExpiredToken")
        with_creds("sts", long).get_caller_identity()
    finally:
        test_api("POST", "/keyfob-test/clock", {"advance_seconds": 0})


@check
def sign_in_token_for_a_federated_session() -> None:
    test_api("POST", "/keyfob-test/federation/reset")
    token = signin_token(Fed.creds)
    expect_signin_refused(Fed.creds, "GetFederationToken", SessionDuration="3600")
    destination = "https://console.aws.amazon.com/"
    login = {"Action": "login", "SigninToken": token, "Destination": destination}
    status, headers, _ = federation("GET", login)
    assert status == 302 and headers["Location"] == destination, (status, headers)
    [issued] = test_api("GET", "/keyfob-test/federation")
    assert issued["principal_arn"] == f"arn:aws:sts::{ACCOUNT}:federated-user/alice", issued
    assert issued["kind"] == "federated-user" and issued["logged_in"] is True, issued
    assert 43000 < issued["session_duration"] <= 43200, issued  # the federated session's life


# --------------------------------------------------------------------------
# runner
# --------------------------------------------------------------------------


def start_launcher(workdir: str, log_path: str) -> tuple[subprocess.Popen, dict]:
    port_file = os.path.join(workdir, "moto.json")
    log_file = open(log_path, "w")
    proc = subprocess.Popen(
        # both watchdogs on, stdin kept open: SIGTERM must still exit 0
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
            raise RuntimeError("launcher did not write its port file within 90 s")
        time.sleep(0.1)
    with open(port_file) as f:
        info = json.load(f)
    mode = os.stat(port_file).st_mode & 0o777
    assert mode == 0o600, f"port file mode {mode:o}"
    return proc, info


def exits_when_stdin_closes(workdir: str) -> str | None:
    """--exit-on-stdin-eof (how tests/util.rs starts it): None if it works, else why not."""
    port_file = os.path.join(workdir, "eof.json")
    proc = subprocess.Popen(
        [sys.executable, LAUNCHER, "--port-file", port_file, "--exit-on-stdin-eof"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 90
    while not os.path.exists(port_file) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.1)
    if not os.path.exists(port_file):
        proc.kill()
        return f"no port file (exit code {proc.poll()})"
    proc.stdin.close()
    try:
        code = proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        return "still running 20 s after stdin was closed"
    return None if code == 0 else f"exit code {code}"


def main() -> int:
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="keyfob-moto-check-") as workdir:
        log_path = os.path.join(workdir, "launcher.log")
        try:
            proc, Env.info = start_launcher(workdir, log_path)
        except Exception as e:  # noqa: BLE001
            print(f"FAIL start_launcher: {e}")
            print("0 passed, 1 failed")
            return 1
        Env.endpoint = f"http://127.0.0.1:{Env.info['port']}"
        remember(Env.info["admin_secret_access_key"])
        try:
            for name, fn in CHECKS:
                try:
                    fn()
                    print(f"PASS {name}")
                    passed += 1
                except Exception as e:  # noqa: BLE001
                    print(f"FAIL {name}: {type(e).__name__}: {e}")
                    traceback.print_exc(limit=3, file=sys.stdout)
                    failed += 1
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = "killed after 20 s"
        port_file_gone = not os.path.exists(os.path.join(workdir, "moto.json"))
        if code == 0 and port_file_gone:
            print("PASS launcher_exits_0_on_sigterm_and_removes_port_file")
            passed += 1
        else:
            print(
                f"FAIL launcher_exits_0_on_sigterm_and_removes_port_file: exit {code}, "
                f"port file removed: {port_file_gone}"
            )
            failed += 1
        why = exits_when_stdin_closes(workdir)
        if why is None:
            print("PASS launcher_exits_0_when_stdin_closes")
            passed += 1
        else:
            print(f"FAIL launcher_exits_0_when_stdin_closes: {why}")
            failed += 1
        log_text = open(log_path).read()
        leaked = [s[:6] + "..." for s in set(Env.secrets) if s in log_text]
        too_long = [
            line[:80] for line in log_text.splitlines() if "Authorization" in line or "Signature=" in line
        ]
        if not leaked and not too_long:
            print("PASS launcher_log_has_no_secrets")
            passed += 1
        else:
            print(f"FAIL launcher_log_has_no_secrets: {leaked} {too_long}")
            failed += 1
        if failed:
            print("---- launcher log (tail) ----")
            print("\n".join(log_text.splitlines()[-40:]))
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
