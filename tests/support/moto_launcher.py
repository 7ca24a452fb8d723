#!/usr/bin/env python3
"""Start a moto server for keyfob's integration tests, tightened towards real AWS.

Usage:
    python3 tests/support/moto_launcher.py --port-file PATH [--host 127.0.0.1]
                                           [--exit-on-stdin-eof] [--exit-with-parent]

The server listens on an OS-chosen free port on the loopback interface only.
Once it is ready, PATH appears (written atomically, mode 0600) containing JSON:

    {"port": N, "endpoint_url": "http://127.0.0.1:N", "region": "us-east-1",
     "account_id": "123456789012", "pid": PID,
     "admin_access_key_id": "AKIA...", "admin_secret_access_key": "..."}

The admin is the IAM user `keyfob-admin` with an inline policy allowing `*` on
`*`; use it to create the users, keys, roles and MFA devices a test needs.
IAM authentication is switched ON before PATH appears, so every request must
be signed with a key moto knows. The server runs until SIGTERM or SIGINT and
then exits 0 (and removes PATH). With --exit-on-stdin-eof it also stops when
its standard input is closed (spawn it with a pipe and keep the write end
open); with --exit-with-parent when the process that started it dies
(checked every second).

Test-only endpoints (unsigned, loopback only):
    GET  /keyfob-test/calls          {"sts:GetSessionToken": 3, "iam:CreateUser": 1, ...}
    POST /keyfob-test/calls/reset    zero the counters
    GET  /keyfob-test/clock          {"advance_seconds": N}
    POST /keyfob-test/clock          body {"advance_seconds": N}: from now on every
                                     credential expiry check runs N seconds in the
                                     future (credentials "age"); Expiration values
                                     returned by STS stay in real time, and TOTP
                                     codes are always checked against real time.
    GET  /keyfob-test/assume-role    every AssumeRole and its tags/status (T9);
    POST /keyfob-test/assume-role/reset
    GET  /keyfob-test/federation     console sign-in tokens issued by /federation (T8);
    POST /keyfob-test/federation/reset
    GET  /keyfob-test/role-session-life  {"seconds": N}
    POST /keyfob-test/role-session-life  body {"seconds": N}: from now on AssumeRole
                                     credentials expire N seconds (real time) after
                                     they are issued, in the Expiration returned and
                                     for the expiry check alike, whatever the
                                     (still validated) DurationSeconds; 0 = off.
                                     Lets a test see a role session end and be
                                     replaced within seconds (AWS's minimum is 900).
    POST /keyfob-test/root-key       body {"access_key_id": K}: from now on the IAM
                                     user key K answers GetCallerIdentity as the
                                     account's root user (T10): {"status": "ok"}.
    POST /moto-api/reset, /moto-api/reset-auth are refused (409): they would delete
    the admin or switch authentication off. Start a new launcher instead.

IAM Identity Center: the SSO OIDC API (POST /client/register, /device_authorization,
/token) and the SSO portal API (GET /federation/credentials, /assignment/accounts,
/assignment/roles, POST /logout) are served on the same port by sso_emulator.py,
with its test endpoints under /keyfob-test/sso/ (configure an instance, approve a
device code, revoke, throttle, ...). Its docstring lists each behaviour, the AWS
documentation it follows, and how clients (AWS CLI 2.9 included) point at it.
Its calls count here as "sso-oidc:CreateToken", "sso:GetRoleCredentials", etc.

AWS Sign-In (`aws login`, AWS CLI >= 2.32): GET /v1/authorize, GET
/v1/sessions/confirmation, POST /v1/token (CreateOAuth2Token with DPoP) and POST
/v1/revoke?x-amz-client-auth-method=iam are served on the same port by
signin_emulator.py (T11), with its test endpoints under /keyfob-test/signin/.

Written against moto 5.2.1 (moto/iam/access_control.py, moto/core/responses.py,
moto/core/authorization.py, moto/sts/models.py, moto/sts/responses.py,
moto/iam/models.py). The patched names are checked at start-up, so a moto
upgrade that moves them fails loudly instead of silently loosening the tests.

TIGHTENINGS (moto is laxer than AWS; each is one section below)
----------------------------------------------------------------
T1 Inactive access keys are refused.
   moto: IAMUserAccessKey accepts any key of a user, whatever its Status.
   AWS:  403 InvalidClientTokenId "The security token included in the request
         is invalid." Deleted keys are already refused by moto (the key is no
         longer in the user's list) and stay refused.
   Also: temporary credentials (T2 sessions and AssumeRole sessions) past their
   Expiration are refused with 403 ExpiredToken "The security token included
   in the request is expired" (moto never checks expiry).
   Patch: moto.iam.access_control.create_access_key (wrapped).

T2 GetSessionToken returns real, usable temporary credentials.
   moto: returns the fixed AWS documentation example credentials, which then
         fail authentication.
   AWS:  fresh ASIA... key id, secret and session token per call, acting as
         the calling IAM user; DurationSeconds 900..129600 (default 43200),
         else 400 ValidationError. Session credentials:
           - sts:GetCallerIdentity returns the IAM user's ARN and user id;
           - may call STS only for AssumeRole and GetCallerIdentity
             (anything else: 403 AccessDenied "Cannot call GetSessionToken
             with session credentials");
           - may call IAM only when the session was created with MFA; else
             403 InvalidClientTokenId (sic: that is what AWS answers, see
             aws-vault issues #15/#328); with MFA the user's policies decide;
           - for everything else the user's policies decide.
         GetSessionToken itself needs no IAM permission (AWS: "No permissions
         are required for a user to get a session token"); moto demanded an
         Allow for sts:GetSessionToken, which is stricter than AWS and is
         relaxed here. Called with temporary credentials it is refused (above).
   Patch: moto.sts.responses.TokenResponse.get_session_token (replaced),
          moto.sts.models.STSBackend.get_caller_identity (wrapped),
          moto.iam.access_control.create_access_key (session keys resolved
          into SessionTokenAccessKey, modelled on moto's AssumedRoleAccessKey),
          moto.iam.access_control.IAMRequestBase.check_action_permitted (wrapped).
   The key itself is made with IAMBackend.create_temp_access_key(), the same
   call moto's AssumeRole uses, so moto maps it to the right account.

T3 AssumeRole checks the role's trust policy the way AWS does.
   moto: a condition on a key that is absent from the request passes, so a
         *missing* ExternalId is accepted where StringEquals sts:ExternalId is
         required (only a wrong one is refused); principals are compared as
         exact strings only, so "arn:aws:iam::ACCOUNT:root" or a bare account
         id never match, and a Service-only principal crashes; a role that
         does not exist can be "assumed" (no trust check at all).
   AWS:  403 AccessDenied "User: ARN is not authorized to perform:
         sts:AssumeRole on resource: ROLE_ARN" unless an Allow statement of
         the trust policy matches the action, the principal ("*", the
         account id or :root = anyone in that account whose own policies allow
         it, or the exact user/role/assumed-role ARN) and every condition, and
         no Deny statement matches. A condition on an absent key fails
         (except *IfExists, Null and the negated operators). Passing
         SourceIdentity also requires the trust policy to allow
         sts:SetSourceIdentity. The caller's own policies must allow
         sts:AssumeRole too (kept from moto; see "not tightened" below).
   Also validated (400 ValidationError, as AWS): DurationSeconds 900..43200
   and <= the role's MaxSessionDuration, <= 3600 when role chaining;
   RoleSessionName and SourceIdentity 2..64 of [\\w+=,.@-]; ExternalId 2..1224
   of [\\w+=,.@:/-]. AssumeRole's response carries SourceIdentity.
   Role credentials were already usable in moto (AssumedRoleAccessKey).
   Patch: IAMRequestBase._is_assuming_role_operation and
          IAMRequestBase._check_role_trust_relationship (replaced),
          TokenResponse.assume_role (wrapped).

T4 MFA on GetSessionToken.
   moto: ignores SerialNumber and TokenCode.
   AWS:  with SerialNumber, TokenCode must be the current 6-digit TOTP
         (RFC 6238, SHA1, 30 s; +-1 step accepted) of an MFA device assigned to
         the calling user, else 403 AccessDenied "MultiFactorAuthentication
         failed with invalid MFA one time pass code." (unknown or unassigned
         device: "MultiFactorAuthentication failed, unable to validate MFA
         code. Please verify your MFA serial number is valid and associated
         with this user."). A code already used for the device is refused the same way.
         The seed is the Base32StringSeed moto returned from
         CreateVirtualMFADevice; the device must have been assigned to the
         user with EnableMFADevice (whose two codes moto does not check).
   Patch: part of the GetSessionToken replacement (T2).

T5 Call counter (test instrumentation, not an AWS behaviour).
   Every request to a moto backend is counted as "service:Action" (service
   from moto's dispatcher, Action from the query/form "Action", the
   X-Amz-Target header, or else "METHOD /path"), including the ones the auth
   layer refuses. Patch: a WSGI wrapper around
   moto.moto_server.werkzeug_app.DomainDispatcherApplication.

T6 Auth-layer errors of IAM and STS in AWS's query-protocol format.
   moto: <ErrorResponse><Errors><Error>... (an EC2-style hybrid that botocore
         tolerates but strict parsers such as the Rust SDK do not).
   AWS:  <ErrorResponse><Error><Type>Sender</Type><Code>..</Code>
         <Message>..</Message></Error><RequestId>..</RequestId></ErrorResponse>
   Patch: moto.iam.access_control.IAMRequest._raise_* (replaced for the
          sts and iam services only).

T7 GetFederationToken returns real, usable credentials.
   moto: returns the fixed AWS documentation example credentials (which then
         fail authentication), checks no parameter but the Policy length, and
         accepts temporary credentials as the caller.
   AWS (API_GetFederationToken.html):
     - Name 2..32 of [\\w+=,.@-] ('name'), DurationSeconds 900..129600 ('durationSeconds',
       default 43200), Policy 1..2048 ('policy', JSON with a Statement, else
       MalformedPolicyDocument), PolicyArns <= 10 of 20..2048 and Tags as T9:
       400 ValidationError / MalformedPolicyDocument / InvalidParameterValue;
     - only an IAM user's long-term key may call it: GetSessionToken, role and
       federated credentials get 403 AccessDenied "Cannot call
       GetFederationToken with session credentials";
     - the user's policies must allow sts:GetFederationToken on
       arn:aws:sts::ACCOUNT:federated-user/NAME (e.g. Action
       "sts:GetFederationToken", Resource "*"), else 403 AccessDenied "User:
       USER_ARN is not authorized to perform: sts:GetFederationToken on
       resource: arn:aws:sts::ACCOUNT:federated-user/NAME";
     - response: fresh ASIA key, secret, token, Expiration; FederatedUser
       {FederatedUserId "ACCOUNT:NAME", Arn "arn:aws:sts::ACCOUNT:federated-user/NAME"};
       PackedPolicySize (0 without Policy, PolicyArns or Tags; else T9's approximation).
   The federated user's credentials (modelled like T2's, in STATE.sessions):
     - sign with key, secret and token; expire as T1 (ExpiredToken); stop
       working when the IAM user is deleted;
     - sts:GetCallerIdentity: Arn arn:aws:sts::ACCOUNT:federated-user/NAME,
       UserId "ACCOUNT:NAME"; any other STS action: 403 AccessDenied "Cannot
       call OP with session credentials"; IAM: 403 InvalidClientTokenId (as T2
       sessions without MFA; AWS says IAM cannot be called, not with which error);
     - anything else needs an Allow in the session policies (Policy plus the
       documents of the PolicyArns moto knows; an unknown ARN grants nothing)
       AND in the user's policies; no session policy = nothing beyond
       GetCallerIdentity. A Deny in either wins. Denied: 403 AccessDenied
       "User: arn:aws:sts::ACCOUNT:federated-user/NAME is not authorized ...".
   Patch: TokenResponse.get_federation_token (replaced), create_access_key,
          check_action_permitted, get_caller_identity (the T2 wrappers, extended).

T8 The console federation endpoint (an extension: moto has none).
   {endpoint_url}/federation, unsigned, GET query or POST form:
   Action=getSigninToken&Session=<URL-encoded JSON {"sessionId","sessionKey",
   "sessionToken"}>[&SessionDuration=900..43200] -> 200 {"SigninToken": ".."};
   Action=login&SigninToken=..&Destination=https://[*.]console.aws.amazon.com/..
   [&Issuer=..] -> 302 Location: Destination. The Session must hold temporary
   credentials this launcher issued (GetFederationToken or AssumeRole; secret
   and token compared in constant time; unexpired by the launcher clock);
   GetSessionToken sessions and long-term keys are refused, as AWS does.
   Every rule, status and body, and what is not modelled: federation.py.
   Test endpoints: GET /keyfob-test/federation (the tokens issued, no secrets),
   POST /keyfob-test/federation/reset. Calls count as signin:getSigninToken /
   signin:login (signin:unknown for anything else) in /keyfob-test/calls.
   Patch: a routing branch in KeyfobApp (path == "/federation" exactly; the SSO
          portal's /federation/credentials is routed elsewhere).

T9 AssumeRole session tags and session policies; the AssumeRole record.
   moto: ignores Tags, TransitiveTagKeys and PolicyArns; PackedPolicySize is always 6.
   AWS (API_AssumeRole.html, id_session-tags.html), checked after T3's checks:
     - Tags <= 50 (else 400 ValidationError "... at 'tags' failed to satisfy
       constraint: Member must have length less than or equal to 50"); each key
       1..128 and value 0..256 of [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@] (ValidationError
       naming 'tags.N.member.key' / 'tags.N.member.value');
     - duplicate keys, compared case-insensitively: 400 InvalidParameterValue
       "Duplicate tag keys found. Please note that Tag keys are case insensitive.";
     - TransitiveTagKeys <= 50, each one of the request's tag keys (any case),
       else 400 InvalidParameterValue "The specified transitive tag key must be
       included in the requested tags.";
     - PolicyArns <= 10, each ARN 20..2048 ('policyArns' / 'policyArns.N.member.arn');
       Policy 1..2048 characters ('policy'), and JSON, else 400
       MalformedPolicyDocument "Syntax errors in policy.";
     - a session made with role credentials inherits the caller's transitive
       tags (and they stay transitive); setting a tag whose key (any case) is
       an inherited one is refused: 400 InvalidParameterValue "Session tag keys
       K conflict with transitive tags inherited from the calling session; ..."
       (AWS documents that it fails, not the code or text: chosen here);
     - with Tags, TransitiveTagKeys or inherited transitive tags, the role's
       trust policy must also allow sts:TagSession for the caller, else 403
       AccessDenied "User: ARN is not authorized to perform: sts:TagSession on
       resource: ROLE_ARN". Trust-policy conditions see aws:RequestTag/KEY (the
       request's tags) and aws:PrincipalTag/KEY (inherited transitive tags).
   PackedPolicySize (returned when a policy, policy ARNs or tags are passed) is
   an approximation, ceil(100 * characters / 8192); PackedPolicyTooLarge is never
   raised. Session policies are recorded but do not narrow the role session's
   permissions.
   Record (test instrumentation): every AssumeRole that reaches the trust check
   or the handler, successful or refused there (requests refused at signature /
   key level are not recorded; they are in /keyfob-test/calls):
     GET  /keyfob-test/assume-role        [{"role_arn", "role_session_name",
          "source_identity" (or null), "external_id_present": bool,
          "duration_seconds" (requested, 3600 when absent), "tags": {k: v},
          "transitive_tag_keys": [..], "inherited_transitive_tags": {k: v},
          "policy_arns": [..], "caller_arn", "status": "ok" | error code}], oldest
          first (the last 10000); the external ID itself is never returned.
     POST /keyfob-test/assume-role/reset  empty it: {"status": "ok"}
   Patch: TokenResponse.assume_role (wrapped again), _check_role_trust_relationship
          (T3, extended), check_action_permitted (wrapped again, to record refusals).

T10 A root user's access key, as far as GetCallerIdentity tells it.
   moto: root users have no access keys; an unknown key answers as
   arn:aws:sts::ACCOUNT:user/moto. AWS: a root user's key answers
   {"UserId": ACCOUNT, "Account": ACCOUNT, "Arn": "arn:aws:iam::ACCOUNT:root"}.
   A test marks an IAM user's key (POST /keyfob-test/root-key): it still
   signs and is authorised as that user, but GetCallerIdentity answers as
   root, which is what keyfob's refusal of root keys reads.
   Patch: STSBackend.get_caller_identity (the T2 wrapper, extended).

T11 AWS Sign-In's OAuth 2.0 endpoints (an extension: moto has none).
   `aws login` signs an IAM user in through the browser (authorization code
   with PKCE), redeems the code at POST /v1/token with a DPoP proof and gets
   15-minute credentials plus a refresh token (12 h). Every behaviour (L1..L6),
   the sources it follows (botocore's signin/2023-01-01 model, the AWS CLI v2
   source, RFC 6749/7636/8252/9449/7638/7009), the test endpoints
   (/keyfob-test/signin/configure, password-changed, status, issued-secrets,
   reset) and what is not modelled: signin_emulator.py. Calls count as
   signin:Authorize, signin:Confirmation, signin:CreateOAuth2Token and
   signin:RevokeOAuth2TokenWithIAM in /keyfob-test/calls.
   The credentials it hands out are made here (mint_signin_credentials): a
   T2-style session of kind "signin" for the IAM user, so moto authenticates
   them, sts:GetCallerIdentity answers the user's ARN and user id, they
   expire as T1 (ExpiredToken, by the expiry clock) and stop working when the
   user is deleted; unlike T2's they expire `expiresIn` seconds after their
   issue by the expiry clock (see mint_signin_credentials). What they may call: STS only AssumeRole and
   GetCallerIdentity (as T2), everything else including IAM by the user's
   policies (a console session may use IAM with or without MFA).
   Patch: a routing branch in KeyfobApp (signin_emulator.owns: the four exact
          paths unless SigV4-signed for another service, and /keyfob-test/signin/),
          check_action_permitted (the T2 wrapper, extended).

NOT TIGHTENED (known remaining laxities)
   - Identity-policy Condition blocks and Resource-level checks are
     evaluated by moto as before (mostly ignored).
   - Same-account AssumeRole where the trust policy names the caller's ARN
     explicitly: AWS needs no identity policy then, moto (and this launcher)
     still requires the caller's policies to allow sts:AssumeRole.
   - EnableMFADevice does not check its two authentication codes.
   - Role sessions do not inherit the MFA state of the session they were
     assumed from (aws:MultiFactorAuthPresent/Age are only set for requests
     signed with GetSessionToken credentials).
   - Root users (and so the 3600 s root limits of GetSessionToken and
     GetFederationToken) are not modelled, beyond T10's GetCallerIdentity.
   - Session policies narrow federated-user sessions (T7) but not role
     sessions (T9 records them only); session tags are not visible to
     identity policies (aws:PrincipalTag) outside trust policies;
     PackedPolicyTooLarge is never raised.
   - Condition operators other than String*, Arn*, Bool, Null and Numeric*
     (e.g. ForAnyValue:/ForAllValues:, Date*, IpAddress) are unsupported in
     trust policies and fail closed (logged to stderr).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import fnmatch
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import re
import signal
import struct
import sys
import threading
import time
import unicodedata
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import moto
from moto import settings
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.exceptions import _RESTError
from moto.core.responses import ActionResult
from moto.iam import access_control
from moto.iam.access_control import (
    AssumedRoleAccessKey,
    CreateAccessKeyFailure,
    IAMPolicy,
    IAMRequest,
    IAMRequestBase,
    IAMUserAccessKey,
    PermissionResult,
)
from moto.iam.models import iam_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.sts.exceptions import STSClientError
from moto.sts.models import STSBackend, sts_backends
from moto.sts.responses import TokenResponse
from moto.sts.utils import random_session_token
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

# T8, next to this file (it is run as a script, so its folder is on sys.path)
from federation import ConsolePrincipal, FederationEndpoint, Refused

# IAM Identity Center (SSO OIDC + SSO portal), also next to this file
import sso_emulator  # noqa: E402

# AWS Sign-In's OAuth 2.0 endpoints (`aws login`), also next to this file (T11)
import signin_emulator  # noqa: E402

REGION = "us-east-1"
ADMIN_USER = "keyfob-admin"
ADMIN_POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)

_LOG_LOCK = threading.Lock()


def log(msg: str) -> None:
    """One line to stderr. Never pass secrets, tokens or headers here."""
    with _LOG_LOCK:  # one write per line: threads must not interleave
        sys.stderr.write(f"keyfob-moto: {msg}\n")
        sys.stderr.flush()


# --------------------------------------------------------------------------
# Shared state (the server is threaded: everything behind one lock)
# --------------------------------------------------------------------------


@dataclass
class Session:
    """Credentials minted by GetSessionToken (T2) or GetFederationToken (T7)."""

    user_name: str
    account_id: str
    partition: str
    secret_access_key: str
    session_token: str
    expiration: dt.datetime  # naive UTC, like moto's own timestamps
    mfa_authenticated: bool
    created: dt.datetime
    kind: str = "session-token"  # or "federated-user" (T7), "signin" (T11)
    federated_name: str | None = None  # T7: the Name given to GetFederationToken
    session_policies: list[str] = field(default_factory=list)  # T7: policy documents (JSON)


@dataclass
class State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    sessions: dict[str, Session] = field(default_factory=dict)  # access key id -> Session
    used_totp: dict[str, dict[int, float]] = field(default_factory=dict)  # serial -> {counter: real time}
    calls: Counter = field(default_factory=Counter)
    clock_offset: float = 0.0  # seconds, for expiry checks only
    role_sessions: dict[str, Any] = field(default_factory=dict)  # role key id -> RoleSessionTags (T9)
    assume_roles: list[dict] = field(default_factory=list)  # GET /keyfob-test/assume-role (T9)
    role_session_seconds: float = 0.0  # AssumeRole lifetime override (0: off)
    root_keys: set[str] = field(default_factory=set)  # T10: keys that answer as the root user
    bootstrapped: bool = False


STATE = State()


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def expiry_clock() -> dt.datetime:
    """'Now' for expiry checks, shifted by POST /keyfob-test/clock."""
    return utcnow() + dt.timedelta(seconds=STATE.clock_offset)


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------

QUERY_NAMESPACES = {
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
}


class QueryAuthError(_RESTError):
    """An auth-layer error rendered the way AWS's query protocol does (T6).

    moto's call_action() catches werkzeug HTTPExceptions raised by the auth
    layer and returns `description` as the body with `code` as the status;
    _enrich_response() then fills <RequestId>.
    """

    def __init__(self, service: str, code: str, message: str, status: int = 403):
        super().__init__(code, message)
        self.code = status
        ns = QUERY_NAMESPACES[service]
        self.description = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<ErrorResponse xmlns="{ns}"><Error><Type>Sender</Type>'
            f"<Code>{xml_escape(code)}</Code><Message>{xml_escape(message)}</Message>"
            "</Error><RequestId>0</RequestId></ErrorResponse>"
        )


def service_error(response: TokenResponse, code: str, message: str, status: int) -> tuple:
    """An error from inside an STS handler, serialized by moto itself.

    moto's serializer takes the HTTP status from the service model and falls
    back to 400 for codes the model doesn't define (AccessDenied is not in
    STS's model), so the status is set explicitly. call_action() turns a
    (body, headers) tuple into (headers["status"], headers, body).
    """
    _, headers, body = response.serialized(ActionResult(STSClientError(code, message)))
    headers["status"] = status
    return body, headers


def validation_error(response: TokenResponse, value: Any, member: str, constraint: str) -> tuple:
    return service_error(
        response,
        "ValidationError",
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: {constraint}",
        400,
    )


# --------------------------------------------------------------------------
# T1 + T2: resolving access keys in the auth layer
# --------------------------------------------------------------------------


class SessionTokenAccessKey(IAMUserAccessKey):
    """GetSessionToken credentials: sign like AssumedRoleAccessKey (key, secret,
    token), authorize like IAMUserAccessKey (the user's policies, user ARN)."""

    # No super().__init__(): it looks the key up among the users' long-term keys.
    def __init__(self, access_key_id: str, session: Session):
        self.account_id = session.account_id
        self.partition = session.partition
        self._owner_user_name = session.user_name
        self._access_key_id = access_key_id
        self._secret_access_key = session.secret_access_key
        self._session_token = session.session_token
        self.session = session

    def create_credentials(self):  # type: ignore[override]
        from botocore.credentials import Credentials

        return Credentials(self._access_key_id, self._secret_access_key, self._session_token)


class FederatedUserAccessKey(SessionTokenAccessKey):
    """GetFederationToken credentials (T7): the federated user's ARN; the user's
    policies intersected with the session policies (in _check_action_permitted)."""

    @property
    def arn(self) -> str:  # type: ignore[override]
        return federated_user_arn(self.session)


_original_create_access_key = access_control.create_access_key


def _create_access_key(account_id: str, partition: str, access_key_id: str, headers: Any):
    """Replacement for moto.iam.access_control.create_access_key (moto 5.2.1).

    moto calls it from IAMRequestBase.__init__ for every authenticated request;
    raising CreateAccessKeyFailure makes moto answer 403 (see _raise_invalid_access_key).
    """
    with STATE.lock:
        session = STATE.sessions.get(access_key_id)
    if session is not None:  # T2
        if headers.get("X-Amz-Security-Token") != session.session_token:
            raise CreateAccessKeyFailure(reason="InvalidToken")
        if expiry_clock() >= session.expiration:
            raise CreateAccessKeyFailure(reason="ExpiredToken")
        if session.user_name not in iam_backends[session.account_id][session.partition].users:
            raise CreateAccessKeyFailure(reason="InvalidId")  # user deleted since
        if session.kind == "federated-user":  # T7
            return FederatedUserAccessKey(access_key_id, session)
        return SessionTokenAccessKey(access_key_id, session)

    key = _original_create_access_key(account_id, partition, access_key_id, headers)
    if isinstance(key, IAMUserAccessKey):  # T1: long-term key must be Active
        user = key.backend.get_user(key._owner_user_name)
        if user.get_access_key_by_id(access_key_id).status != "Active":
            raise CreateAccessKeyFailure(reason="InvalidId")
    elif isinstance(key, AssumedRoleAccessKey):  # T1: role sessions expire
        role = sts_backends[account_id][partition].get_assumed_role_from_access_key(access_key_id)
        if role is not None and expiry_clock() >= role.expiration:
            raise CreateAccessKeyFailure(reason="ExpiredToken")
    return key


# T6: IAMRequest's error raisers, in query format for sts/iam.
_original_raise_invalid = IAMRequest._raise_invalid_access_key
_original_raise_signature = IAMRequest._raise_signature_does_not_match
_original_raise_denied = IAMRequest._raise_access_denied


def _raise_invalid_access_key(self: IAMRequest, reason: str) -> None:
    if self._service not in QUERY_NAMESPACES:
        _original_raise_invalid(self, reason)
    if reason == "ExpiredToken":
        raise QueryAuthError(
            self._service, "ExpiredToken", "The security token included in the request is expired"
        )
    raise QueryAuthError(
        self._service, "InvalidClientTokenId", "The security token included in the request is invalid."
    )


def _raise_signature_does_not_match(self: IAMRequest) -> None:
    if self._service not in QUERY_NAMESPACES:
        _original_raise_signature(self)
    raise QueryAuthError(
        self._service,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. Consult the service "
        "documentation for details.",
    )


def _raise_access_denied(self: IAMRequest) -> None:
    if self._service not in QUERY_NAMESPACES:
        _original_raise_denied(self)
    action = getattr(self, "_keyfob_denied_action", self._action)  # sts:TagSession (T9)
    message = f"User: {self._access_key.arn} is not authorized to perform: {action}"
    resource = getattr(self, "_keyfob_resource", "*")  # set by _check_action_permitted
    if resource != "*":
        message += f" on resource: {resource}"
    raise QueryAuthError(self._service, "AccessDenied", message)


# T2: what temporary credentials may do, before moto's policy evaluation.
_original_check_action_permitted = IAMRequestBase.check_action_permitted


def _check_action_permitted(self: IAMRequestBase, resource: str) -> None:
    self._keyfob_resource = resource  # for the AccessDenied message
    key = self._access_key
    service, _, operation = self._action.partition(":")
    temporary = isinstance(key, (SessionTokenAccessKey, AssumedRoleAccessKey))
    if isinstance(key, FederatedUserAccessKey):  # T7
        if self._action == "sts:GetCallerIdentity":
            return
        if service == "sts":
            raise QueryAuthError("sts", "AccessDenied", f"Cannot call {operation} with session credentials")
        if service == "iam":
            self._raise_invalid_access_key("InvalidId")  # as T2 sessions without MFA
        allowed = False
        for document in key.session.session_policies:
            verdict = IAMPolicy(document).is_action_permitted(self._action, resource)
            if verdict == PermissionResult.DENIED:
                self._raise_access_denied()
            allowed = allowed or verdict == PermissionResult.PERMITTED
        if not allowed:  # no session policy (or none allowing it): nothing is allowed
            self._raise_access_denied()
        _original_check_action_permitted(self, resource)  # and the user's own policies
        return
    if self._action == "sts:GetFederationToken":  # T7
        if temporary:
            raise QueryAuthError(
                "sts", "AccessDenied", "Cannot call GetFederationToken with session credentials"
            )
        name = (self._data.get("Name") or [""])[0]
        if re.fullmatch(r"[\w+=,.@-]{2,32}", name):
            resource = f"arn:{key.partition}:sts::{key.account_id}:federated-user/{name}"
            self._keyfob_resource = resource
    if isinstance(key, SessionTokenAccessKey):
        if service == "sts" and operation not in ("AssumeRole", "GetCallerIdentity"):
            raise QueryAuthError("sts", "AccessDenied", f"Cannot call {operation} with session credentials")
        if service == "iam" and not key.session.mfa_authenticated and key.session.kind != "signin":
            # What AWS answers here (aws-vault issues #15, #328, #1056).
            self._raise_invalid_access_key("InvalidId")
    if self._action == "sts:GetSessionToken":
        if temporary:
            raise QueryAuthError(
                "sts", "AccessDenied", "Cannot call GetSessionToken with session credentials"
            )
        return  # AWS: no permission is needed to get a session token
    _original_check_action_permitted(self, resource)


# --------------------------------------------------------------------------
# T2 + T4: GetSessionToken
# --------------------------------------------------------------------------

MFA_INVALID_CODE = "MultiFactorAuthentication failed with invalid MFA one time pass code."
MFA_UNKNOWN_DEVICE = (
    "MultiFactorAuthentication failed, unable to validate MFA code. "
    "Please verify your MFA serial number is valid and associated with this user."
)
TOTP_STEP = 30


def totp(seed_base32: str, counter: int) -> str:
    """RFC 6238 TOTP value (SHA1, 6 digits) for one 30-second counter."""
    key = base64.b32decode(seed_base32 + "=" * (-len(seed_base32) % 8), casefold=True)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def check_totp(serial: str, seed: str, code: str | None) -> bool:
    """Accept the code of the current 30 s step or its neighbours, once per step."""
    if not code or not re.fullmatch(r"\d{6}", code):
        return False
    now = time.time()  # real time: clients compute codes from the real clock
    current = int(now // TOTP_STEP)
    for counter in (current, current - 1, current + 1):
        if hmac.compare_digest(totp(seed, counter), code):
            with STATE.lock:
                used = STATE.used_totp.setdefault(serial, {})
                for old in [c for c in used if c < current - 2]:
                    del used[old]
                if counter in used:
                    return False  # AWS refuses a code that was already used
                used[counter] = now
            return True
    return False


def _get_session_token(self: TokenResponse):
    """Replacement for moto.sts.responses.TokenResponse.get_session_token (moto 5.2.1)."""
    duration_param = self._get_param("DurationSeconds")
    duration = 43200 if duration_param is None else int(duration_param)
    if duration < 900:
        return validation_error(
            self, duration, "durationSeconds", "Member must have value greater than or equal to 900"
        )
    if duration > 129600:
        return validation_error(
            self, duration, "durationSeconds", "Member must have value less than or equal to 129600"
        )

    account_id, partition = self.current_account, self.partition
    iam = iam_backends[account_id][partition]
    user = iam.get_user_from_access_key_id(self.get_access_key())
    if user is None:
        # Only reachable with temporary credentials while auth is off (the auth
        # layer refuses them otherwise): there is no IAM user to act as.
        return service_error(
            self, "AccessDenied", "Cannot call GetSessionToken with session credentials", 403
        )

    serial = self._get_param("SerialNumber")
    token_code = self._get_param("TokenCode")
    mfa = False
    if serial is not None:
        device = iam.virtual_mfa_devices.get(serial)
        if device is None or serial not in user.mfa_devices:
            return service_error(self, "AccessDenied", MFA_UNKNOWN_DEVICE, 403)
        if not check_totp(serial, device.base32_string_seed, token_code):
            return service_error(self, "AccessDenied", MFA_INVALID_CODE, 403)
        mfa = True

    # Same mechanism moto's AssumeRole uses: an ASIA key registered in the IAM
    # backend's access_keys, so get_account_id_from() maps it to the account.
    temp_key = iam.create_temp_access_key()
    now = utcnow().replace(microsecond=0)  # AWS returns whole seconds
    session = Session(
        user_name=user.name,
        account_id=account_id,
        partition=partition,
        secret_access_key=temp_key.secret_access_key,
        session_token=random_session_token(),
        expiration=now + dt.timedelta(seconds=duration),
        mfa_authenticated=mfa,
        created=now,
    )
    with STATE.lock:
        STATE.sessions[temp_key.access_key_id] = session
    return ActionResult(
        {
            "Credentials": {
                "AccessKeyId": temp_key.access_key_id,
                "SecretAccessKey": session.secret_access_key,
                "SessionToken": session.session_token,
                "Expiration": session.expiration,
            }
        }
    )


_original_get_caller_identity = STSBackend.get_caller_identity


def _get_caller_identity(self: STSBackend, access_key_id: str, region: str):
    with STATE.lock:
        session = STATE.sessions.get(access_key_id)
        root = access_key_id in STATE.root_keys
    if root:  # T10: AWS's answer for a root user's key (UserId = the account)
        return self.account_id, f"arn:aws:iam::{self.account_id}:root", self.account_id
    if session is not None and session.kind == "federated-user":  # T7
        user_id = f"{session.account_id}:{session.federated_name}"
        return user_id, federated_user_arn(session), session.account_id
    if session is not None:
        user = iam_backends[session.account_id][session.partition].get_user(session.user_name)
        return user.id, user.arn, user.account_id
    return _original_get_caller_identity(self, access_key_id, region)


# --------------------------------------------------------------------------
# T11: credentials of an `aws login` sign-in (signin_emulator.py)
# --------------------------------------------------------------------------


def mint_signin_credentials(account_id: str, user_name: str, seconds: int) -> dict:
    """Temporary credentials acting as IAM user `user_name`, for the Sign-In
    emulator's CreateOAuth2Token: a T2-style session of kind "signin" (same
    key mechanism as GetSessionToken), expiring `seconds` from now by the
    expiry clock: the emulator hands out expiresIn, not an Expiration, so
    credentials minted after a test moved the clock are fresh, as a
    refresh's are on AWS."""
    iam = iam_backends[account_id]["aws"]
    temp_key = iam.create_temp_access_key()
    now = expiry_clock().replace(microsecond=0)
    session = Session(
        user_name=user_name,
        account_id=account_id,
        partition="aws",
        secret_access_key=temp_key.secret_access_key,
        session_token=random_session_token(),
        expiration=now + dt.timedelta(seconds=seconds),
        mfa_authenticated=False,
        created=now,
        kind="signin",
    )
    with STATE.lock:
        STATE.sessions[temp_key.access_key_id] = session
    return {
        "access_key_id": temp_key.access_key_id,
        "secret_access_key": session.secret_access_key,
        "session_token": session.session_token,
    }


# --------------------------------------------------------------------------
# T7: GetFederationToken
# --------------------------------------------------------------------------

FEDERATED_NAME_RE = re.compile(r"[\w+=,.@-]*")


def managed_policy_document(iam: Any, arn: str) -> str | None:
    """The default version's document of a managed policy moto knows, else None."""
    try:
        policy = iam.get_policy(arn)
        document = next(v.document for v in policy.versions if v.is_default)
    except Exception:  # noqa: BLE001 - unknown ARN (moto raises its own NotFound)
        return None
    return document if isinstance(document, str) else json.dumps(document)


def _get_federation_token(self: TokenResponse):
    """Replacement for moto.sts.responses.TokenResponse.get_federation_token (moto 5.2.1)."""
    name = self._get_param("Name")
    if name is None:
        return validation_error(self, "null", "name", "Member must not be null")
    if len(name) < 2:
        return validation_error(self, name, "name", "Member must have length greater than or equal to 2")
    if len(name) > 32:
        return validation_error(self, name, "name", "Member must have length less than or equal to 32")
    if not FEDERATED_NAME_RE.fullmatch(name):
        return validation_error(
            self, name, "name", f"Member must satisfy regular expression pattern: {FEDERATED_NAME_RE.pattern}"
        )
    duration_param = self._get_param("DurationSeconds")
    duration = 43200 if duration_param is None else int(duration_param)
    if duration < 900:
        return validation_error(
            self, duration, "durationSeconds", "Member must have value greater than or equal to 900"
        )
    if duration > 129600:
        return validation_error(
            self, duration, "durationSeconds", "Member must have value less than or equal to 129600"
        )
    error = session_tag_error(self.querystring, None)  # Tags, PolicyArns, Policy: as AssumeRole (T9)
    if error:
        return service_error(self, error[0], error[1], 400)

    account_id, partition = self.current_account, self.partition
    iam = iam_backends[account_id][partition]
    user = iam.get_user_from_access_key_id(self.get_access_key())
    if user is None:  # temporary credentials while auth is off (the auth layer refuses them otherwise)
        return service_error(
            self, "AccessDenied", "Cannot call GetFederationToken with session credentials", 403
        )

    policy = self._get_param("Policy")
    if policy is not None:
        parsed = json.loads(policy)  # valid JSON: session_tag_error checked it
        if not isinstance(parsed, dict) or "Statement" not in parsed:  # moto's evaluator needs Statement
            return service_error(self, "MalformedPolicyDocument", "Syntax errors in policy.", 400)
    _, _, arns = tag_params(self.querystring)
    documents = [policy] if policy else []
    documents += [d for d in (managed_policy_document(iam, arn) for arn in arns) if d is not None]

    temp_key = iam.create_temp_access_key()
    now = utcnow().replace(microsecond=0)
    session = Session(
        user_name=user.name,
        account_id=account_id,
        partition=partition,
        secret_access_key=temp_key.secret_access_key,
        session_token=random_session_token(),
        expiration=now + dt.timedelta(seconds=duration),
        mfa_authenticated=False,
        created=now,
        kind="federated-user",
        federated_name=name,
        session_policies=documents,
    )
    with STATE.lock:
        STATE.sessions[temp_key.access_key_id] = session
    tags, _, _ = tag_params(self.querystring)
    packed = packed_policy_size(self.querystring, dict(tags)) if (policy or arns or tags) else 0
    return ActionResult(
        {
            "Credentials": {
                "AccessKeyId": temp_key.access_key_id,
                "SecretAccessKey": session.secret_access_key,
                "SessionToken": session.session_token,
                "Expiration": session.expiration,
            },
            "FederatedUser": {
                "FederatedUserId": f"{account_id}:{name}",
                "Arn": federated_user_arn(session),
            },
            "PackedPolicySize": packed,
        }
    )


# --------------------------------------------------------------------------
# T3: AssumeRole trust policies
# --------------------------------------------------------------------------


def find_role(role_arn: str):
    """The role an ARN names, in whichever account moto holds it (or None)."""
    m = re.fullmatch(r"arn:([\w-]+):iam::(\d{12}):role/(?:.*/)?[\w+=,.@-]+", role_arn or "")
    if not m:
        return None
    partition, account = m.group(1), m.group(2)
    if account not in iam_backends:
        return None
    try:
        return iam_backends[account][partition].get_role_by_arn(role_arn)
    except Exception:  # NotFoundException or an unknown partition
        return None


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _action_matches(statement: dict, action: str) -> bool:
    def hit(patterns: Any) -> bool:
        return any(fnmatch.fnmatchcase(action.lower(), str(p).lower()) for p in _as_list(patterns))

    if "NotAction" in statement:
        return not hit(statement["NotAction"])
    return hit(statement.get("Action", []))


def _principal_matches(statement: dict, caller_arns: set[str], caller_account: str) -> bool:
    if "NotPrincipal" in statement:
        log("trust policy: NotPrincipal is not supported; statement ignored")
        return False
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    for value in _as_list(principal.get("AWS", [])):
        if value == "*" or value in caller_arns:
            return True
        if value == caller_account or re.fullmatch(rf"arn:[\w-]+:iam::{caller_account}:root", value):
            return True  # the account: anyone in it whose own policies allow it
    return False


def _condition_matches(conditions: dict | None, context: dict[str, str]) -> bool:
    """AWS condition semantics for the operators trust policies commonly use.

    All operators AND, all keys AND, values of one key OR. A key absent from
    the request context fails the condition, except for ...IfExists, Null and
    the negated operators (AWS "If the key ... is not present ... the
    condition is false"; moto treated absent keys as matching).
    """
    for operator, block in (conditions or {}).items():
        op = operator
        if_exists = op.endswith("IfExists")
        if if_exists:
            op = op[: -len("IfExists")]
        for key, expected in block.items():
            actual = context.get(key.lower())
            expected = [str(v) for v in _as_list(expected)]
            if op == "Null":
                if (actual is None) != (expected[0].lower() == "true"):
                    return False
                continue
            if actual is None:
                if if_exists or op.startswith(("StringNot", "ArnNot", "NumericNotEquals")):
                    continue
                return False
            if op in ("StringEquals", "ArnEquals"):
                ok = actual in expected
            elif op in ("StringNotEquals", "ArnNotEquals"):
                ok = actual not in expected
            elif op == "StringEqualsIgnoreCase":
                ok = actual.lower() in [e.lower() for e in expected]
            elif op == "StringNotEqualsIgnoreCase":
                ok = actual.lower() not in [e.lower() for e in expected]
            elif op in ("StringLike", "ArnLike"):
                ok = any(fnmatch.fnmatchcase(actual, e) for e in expected)
            elif op in ("StringNotLike", "ArnNotLike"):
                ok = not any(fnmatch.fnmatchcase(actual, e) for e in expected)
            elif op == "Bool":
                ok = actual.lower() in [e.lower() for e in expected]
            elif op.startswith("Numeric"):
                cmp = {
                    "NumericEquals": lambda a, b: a == b,
                    "NumericNotEquals": lambda a, b: a != b,
                    "NumericLessThan": lambda a, b: a < b,
                    "NumericLessThanEquals": lambda a, b: a <= b,
                    "NumericGreaterThan": lambda a, b: a > b,
                    "NumericGreaterThanEquals": lambda a, b: a >= b,
                }.get(op)
                if cmp is None:
                    log(f"trust policy: condition operator {operator} is not supported; failing closed")
                    return False
                ok = any(cmp(float(actual), float(e)) for e in expected)
            else:
                log(f"trust policy: condition operator {operator} is not supported; failing closed")
                return False
            if not ok:
                return False
    return True


def trust_allows(role, action: str, caller_arns: set[str], caller_account: str, context: dict) -> bool:
    """Deny wins; otherwise some Allow statement must match."""
    document = role.assume_role_policy_document
    if isinstance(document, str):
        document = json.loads(document)
    allowed = False
    for statement in _as_list(document.get("Statement", [])):
        if not _action_matches(statement, action):
            continue
        if not _principal_matches(statement, caller_arns, caller_account):
            continue
        if not _condition_matches(statement.get("Condition"), context):
            continue
        if statement.get("Effect") == "Deny":
            return False
        if statement.get("Effect") == "Allow":
            allowed = True
    return allowed


def _is_assuming_role_operation(self: IAMRequestBase, resource_arn: str) -> bool:
    # moto only checked the trust policy when the role existed in the caller's
    # account; now every AssumeRole is checked (a missing role is refused).
    return self._action == "sts:AssumeRole"


def _check_role_trust_relationship(self: IAMRequestBase, role_arn: str) -> bool:
    role = find_role(role_arn)
    if role is None:
        return False
    key = self._access_key
    caller_arns = {key.arn}
    context: dict[str, str] = {"aws:principalarn": key.arn, "aws:principalaccount": key.account_id}
    if isinstance(key, AssumedRoleAccessKey):
        assumed = sts_backends[key.account_id][key.partition].get_assumed_role_from_access_key(
            key._access_key_id
        )
        if assumed is not None:
            caller_arns.add(assumed.role_arn)
            context["aws:principalarn"] = assumed.role_arn
    if isinstance(key, SessionTokenAccessKey):
        context["aws:multifactorauthpresent"] = "true" if key.session.mfa_authenticated else "false"
        if key.session.mfa_authenticated:
            age = (utcnow() - key.session.created).total_seconds()
            context["aws:multifactorauthage"] = str(int(age))
    for param, context_key in (
        ("ExternalId", "sts:externalid"),
        ("RoleSessionName", "sts:rolesessionname"),
        ("SourceIdentity", "sts:sourceidentity"),
    ):
        if self._data.get(param):
            context[context_key] = self._data[param][0]

    tags, transitive, _ = tag_params(self._data)  # T9
    inherited = inherited_transitive_tags(getattr(key, "_access_key_id", None))
    for tag_key, tag_value in tags:
        context[f"aws:requesttag/{tag_key.lower()}"] = tag_value
    for tag_key, tag_value in inherited.items():
        context[f"aws:principaltag/{tag_key.lower()}"] = tag_value

    if not trust_allows(role, "sts:AssumeRole", caller_arns, key.account_id, context):
        return False
    if "sts:sourceidentity" in context and not trust_allows(
        role, "sts:SetSourceIdentity", caller_arns, key.account_id, context
    ):
        return False
    # T9: session tags (own or inherited transitive ones) need sts:TagSession.
    if (tags or transitive or inherited) and not trust_allows(
        role, "sts:TagSession", caller_arns, key.account_id, context
    ):
        self._keyfob_denied_action = "sts:TagSession"
        return False
    return True


_original_assume_role = TokenResponse.assume_role
ROLE_SESSION_NAME_RE = re.compile(r"[\w+=,.@-]*")
EXTERNAL_ID_RE = re.compile(r"[\w+=,.@:/-]*")


def _assume_role(self: TokenResponse):
    """Wrapper of moto.sts.responses.TokenResponse.assume_role: AWS's parameter checks."""
    for param, member, low, high, pattern in (
        ("RoleSessionName", "roleSessionName", 2, 64, ROLE_SESSION_NAME_RE),
        ("SourceIdentity", "sourceIdentity", 2, 64, ROLE_SESSION_NAME_RE),
        ("ExternalId", "externalId", 2, 1224, EXTERNAL_ID_RE),
    ):
        value = self._get_param(param)
        if value is None:
            continue
        if len(value) < low:
            return validation_error(
                self, value, member, f"Member must have length greater than or equal to {low}"
            )
        if len(value) > high:
            return validation_error(
                self, value, member, f"Member must have length less than or equal to {high}"
            )
        if not pattern.fullmatch(value):
            return validation_error(
                self, value, member, f"Member must satisfy regular expression pattern: {pattern.pattern}"
            )

    duration_param = self._get_param("DurationSeconds")
    if duration_param is not None:
        duration = int(duration_param)
        if duration < 900:
            return validation_error(
                self, duration, "durationSeconds", "Member must have value greater than or equal to 900"
            )
        if duration > 43200:
            return validation_error(
                self, duration, "durationSeconds", "Member must have value less than or equal to 43200"
            )
        caller = self.get_access_key()
        if sts_backends[self.current_account][self.partition].get_assumed_role_from_access_key(caller):
            if duration > 3600:
                return service_error(
                    self,
                    "ValidationError",
                    "The requested DurationSeconds exceeds the 1 hour session limit for roles "
                    "assumed by role chaining.",
                    400,
                )
        role = find_role(self._get_param("RoleArn"))
        if role is not None and duration > int(role.max_session_duration or 3600):
            return service_error(
                self,
                "ValidationError",
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
                400,
            )

    result = _original_assume_role(self)
    with STATE.lock:
        life = STATE.role_session_seconds
    if life > 0 and isinstance(result, ActionResult):
        # The same object moto keeps for the expiry check (T1).
        result.result["Credentials"].expiration = utcnow() + dt.timedelta(seconds=life)  # type: ignore[index]
    source_identity = self._get_param("SourceIdentity")
    if source_identity is not None and isinstance(result, ActionResult):
        result.result["SourceIdentity"] = source_identity  # type: ignore[index]
    return result


# --------------------------------------------------------------------------
# T9: AssumeRole session tags and policies; the AssumeRole record
# --------------------------------------------------------------------------

TAG_EXTRA_CHARS = set("_.:/=+-@")
TAG_PATTERN = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*"  # as in STS's model (Python's re has no \p{..})
ASSUME_ROLE_RECORD_CAP = 10_000


def tag_text_ok(text: str) -> bool:
    """AWS's tag pattern: Unicode letters, separators (spaces), numbers and _.:/=+-@."""
    return all(c in TAG_EXTRA_CHARS or unicodedata.category(c)[0] in "LZN" for c in text)


@dataclass
class RoleSessionTags:
    """Session tags of one AssumeRole session (keyed by its access key id)."""

    tags: dict[str, str]  # inherited transitive tags + the request's own tags
    transitive: list[str]  # keys passed on to a chained AssumeRole (spelled as in `tags`)
    chained: bool = False  # made with role credentials (T8 refuses SessionDuration then)


def _members(data: dict, pattern: str) -> dict[int, str]:
    out: dict[int, str] = {}
    for name, values in data.items():
        m = re.fullmatch(pattern, name)
        if m:
            out[int(m.group(1))] = values[0] if isinstance(values, list) else values
    return out


def tag_params(data: dict) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """Tags, TransitiveTagKeys and PolicyArns of a query/form request, in member order.

    `data` is moto's querystring (name -> [values]); a tag whose Value is
    absent (an empty value the parser dropped) has the value "".
    """
    keys = _members(data, r"Tags\.member\.(\d+)\.Key")
    values = _members(data, r"Tags\.member\.(\d+)\.Value")
    tags = [(keys.get(i, ""), values.get(i, "")) for i in sorted(set(keys) | set(values))]
    transitive = _members(data, r"TransitiveTagKeys\.member\.(\d+)")
    arns = _members(data, r"PolicyArns\.member\.(\d+)\.arn")
    return tags, [transitive[i] for i in sorted(transitive)], [arns[i] for i in sorted(arns)]


def inherited_transitive_tags(caller_key_id: str | None) -> dict[str, str]:
    """The transitive tags a chained AssumeRole made with this key inherits."""
    with STATE.lock:
        meta = STATE.role_sessions.get(caller_key_id or "")
    if meta is None:
        return {}
    return {k: meta.tags[k] for k in meta.transitive if k in meta.tags}


def _length_error(value: Any, member: str, text: str, low: int, high: int) -> tuple[str, str] | None:
    def err(constraint: str) -> tuple[str, str]:
        return (
            "ValidationError",
            f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
            f"constraint: {constraint}",
        )

    if len(text) < low:
        return err(f"Member must have length greater than or equal to {low}")
    if len(text) > high:
        return err(f"Member must have length less than or equal to {high}")
    return None


def session_tag_error(data: dict, caller_key_id: str | None) -> tuple[str, str] | None:
    """AWS's checks of Tags, TransitiveTagKeys, PolicyArns and Policy: (code, message) or None."""
    tags, transitive, arns = tag_params(data)
    if len(tags) > 50:
        return _length_error(f"[{len(tags)} tags]", "tags", "x" * len(tags), 0, 50)
    for i, (key, value) in enumerate(tags, 1):
        for text, member, low, high, plus in (
            (key, f"tags.{i}.member.key", 1, 128, "+"),
            (value, f"tags.{i}.member.value", 0, 256, "*"),
        ):
            error = _length_error(text, member, text, low, high)
            if error:
                return error
            if not tag_text_ok(text):
                return (
                    "ValidationError",
                    f"1 validation error detected: Value '{text}' at '{member}' failed to satisfy "
                    f"constraint: Member must satisfy regular expression pattern: {TAG_PATTERN[:-1]}{plus}",
                )
    lowered = [k.lower() for k, _ in tags]
    if len(set(lowered)) != len(lowered):
        return (
            "InvalidParameterValue",
            "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
        )
    if len(transitive) > 50:
        return _length_error(f"[{len(transitive)} keys]", "transitiveTagKeys", "x" * len(transitive), 0, 50)
    for i, key in enumerate(transitive, 1):
        error = _length_error(key, f"transitiveTagKeys.{i}.member", key, 1, 128)
        if error:
            return error
        if key.lower() not in lowered:
            return (
                "InvalidParameterValue",
                "The specified transitive tag key must be included in the requested tags.",
            )
    if len(arns) > 10:
        return _length_error(f"[{len(arns)} ARNs]", "policyArns", "x" * len(arns), 0, 10)
    for i, arn in enumerate(arns, 1):
        error = _length_error(arn, f"policyArns.{i}.member.arn", arn, 20, 2048)
        if error:
            return error
    policy = (data.get("Policy") or [None])[0]
    if policy is not None:
        error = _length_error("(policy)", "policy", policy, 1, 2048)
        if error:
            return error
        try:
            json.loads(policy)
        except ValueError:
            return "MalformedPolicyDocument", "Syntax errors in policy."
    inherited = {k.lower() for k in inherited_transitive_tags(caller_key_id)}
    clash = sorted(k for k, _ in tags if k.lower() in inherited)
    if clash:
        # AWS: "If you pass a session tag with the same key as an inherited
        # tag, the operation fails" (code and text undocumented; chosen here).
        return (
            "InvalidParameterValue",
            f"Session tag keys {', '.join(clash)} conflict with transitive tags inherited "
            "from the calling session; an inherited transitive tag cannot be overridden.",
        )
    return None


def packed_policy_size(data: dict, all_tags: dict[str, str]) -> int:
    """An approximation of AWS's PackedPolicySize percentage (AWS's packing is not public)."""
    _, _, arns = tag_params(data)
    policy = (data.get("Policy") or [""])[0]
    size = len(policy) + sum(len(k) + len(v) for k, v in all_tags.items()) + sum(len(a) for a in arns)
    return max(1, -(-size * 100 // 8192))


def record_assume_role(data: dict, caller_arn: str | None, caller_key_id: str | None, status: str) -> None:
    """One entry of GET /keyfob-test/assume-role. No secret: the external ID is reduced to a bool."""

    def first(name: str) -> str | None:
        values = data.get(name)
        return values[0] if values else None

    tags, transitive, arns = tag_params(data)
    duration = first("DurationSeconds")
    entry = {
        "role_arn": first("RoleArn"),
        "role_session_name": first("RoleSessionName"),
        "source_identity": first("SourceIdentity"),
        "external_id_present": first("ExternalId") is not None,
        "duration_seconds": 3600 if duration is None else (int(duration) if duration.isdigit() else duration),
        "tags": dict(tags),
        "transitive_tag_keys": transitive,
        "inherited_transitive_tags": inherited_transitive_tags(caller_key_id),
        "policy_arns": arns,
        "caller_arn": caller_arn,
        "status": status,
    }
    with STATE.lock:
        STATE.assume_roles.append(entry)
        del STATE.assume_roles[:-ASSUME_ROLE_RECORD_CAP]


def _error_code(result: Any) -> str:
    """The <Code> of an error tuple from service_error(), else "ok"."""
    if isinstance(result, ActionResult):
        return "ok"
    body = result[0] if isinstance(result, tuple) else result
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    m = re.search(r"<Code>([^<]*)</Code>", str(body))
    return m.group(1) if m else "error"


def _assume_role_tagged(self: TokenResponse):
    """Wrapper of _assume_role (T3): session tags, policies, the record (T9)."""
    data = self.querystring
    caller_key_id = self.get_access_key()
    try:
        _, caller_arn, _ = sts_backends[self.current_account][self.partition].get_caller_identity(
            caller_key_id, self.region
        )
    except Exception:  # noqa: BLE001 - the record is best effort, the call is not
        caller_arn = None
    error = session_tag_error(data, caller_key_id)
    try:
        result = service_error(self, error[0], error[1], 400) if error else _assume_role(self)
    except _RESTError as e:  # moto's own validation errors
        record_assume_role(data, caller_arn, caller_key_id, e.error_type)
        raise
    status = _error_code(result)
    if status == "ok":
        tags, transitive, _ = tag_params(data)
        all_tags = inherited_transitive_tags(caller_key_id)
        inherited_keys = list(all_tags)
        all_tags.update(tags)
        spelled = {k.lower(): k for k in all_tags}
        meta = RoleSessionTags(
            tags=all_tags,
            transitive=inherited_keys
            + [spelled[k.lower()] for k in transitive if spelled[k.lower()] not in inherited_keys],
            chained=sts_backends[self.current_account][self.partition].get_assumed_role_from_access_key(
                caller_key_id
            )
            is not None,
        )
        new_key_id = result.result["Credentials"].access_key_id  # type: ignore[index]
        with STATE.lock:
            STATE.role_sessions[new_key_id] = meta
        if all_tags or tag_params(data)[2] or data.get("Policy"):
            result.result["PackedPolicySize"] = packed_policy_size(data, all_tags)  # type: ignore[index]
    record_assume_role(data, caller_arn, caller_key_id, status)
    return result


def _check_action_permitted_recorded(self: IAMRequestBase, resource: str) -> None:
    """Wrapper of _check_action_permitted: AssumeRole calls the auth layer refuses are recorded too."""
    try:
        _check_action_permitted(self, resource)
    except _RESTError as e:
        if self._action == "sts:AssumeRole":
            key = self._access_key
            record_assume_role(self._data, key.arn, getattr(key, "_access_key_id", None), e.error_type)
        raise


# --------------------------------------------------------------------------
# T8: the console federation endpoint (federation.py), and whose credentials these are
# --------------------------------------------------------------------------

BAD_CONSOLE_CREDENTIALS = "the credentials in Session are not valid"


def console_principal(key_id: str, secret: str, token: str) -> ConsolePrincipal:
    """Resolve a Session JSON's credentials for getSigninToken, or raise Refused."""
    with STATE.lock:
        session = STATE.sessions.get(key_id)
    if session is not None:
        if not (
            hmac.compare_digest(secret.encode(), session.secret_access_key.encode())
            and hmac.compare_digest(token.encode(), session.session_token.encode())
        ):
            raise Refused(BAD_CONSOLE_CREDENTIALS)
        if expiry_clock() >= session.expiration:
            raise Refused("the credentials in Session have expired")
        if session.kind != "federated-user":
            raise Refused(
                "credentials from GetSessionToken cannot sign in to the console; "
                "use GetFederationToken or AssumeRole credentials"
            )
        if session.user_name not in iam_backends[session.account_id][session.partition].users:
            raise Refused(BAD_CONSOLE_CREDENTIALS)
        return ConsolePrincipal(
            arn=federated_user_arn(session),
            kind="federated-user",
            expires_at=session.expiration,
            chained=False,
        )
    for account_backends in list(sts_backends.values()):
        for backend in list(account_backends.values()):
            role = backend.get_assumed_role_from_access_key(key_id)
            if role is None:
                continue
            if not (
                hmac.compare_digest(secret.encode(), role.secret_access_key.encode())
                and hmac.compare_digest(token.encode(), role.session_token.encode())
            ):
                raise Refused(BAD_CONSOLE_CREDENTIALS)
            if expiry_clock() >= role.expiration:
                raise Refused("the credentials in Session have expired")
            with STATE.lock:
                meta = STATE.role_sessions.get(key_id)
            return ConsolePrincipal(
                arn=role.arn,
                kind="assumed-role",
                expires_at=role.expiration,
                chained=bool(meta and meta.chained),
            )
    if key_id.startswith("AKIA"):
        raise Refused(
            "long-term access keys cannot sign in to the console; "
            "use GetFederationToken or AssumeRole credentials"
        )
    raise Refused(BAD_CONSOLE_CREDENTIALS)


def federated_user_arn(session: Session) -> str:
    return f"arn:{session.partition}:sts::{session.account_id}:federated-user/{session.federated_name}"


FEDERATION = FederationEndpoint(console_principal, expiry_clock, utcnow)


# --------------------------------------------------------------------------
# Installing the patches
# --------------------------------------------------------------------------


def install_patches() -> None:
    if not moto.__version__.startswith("5."):
        sys.exit(f"keyfob-moto: written for moto 5.x, found {moto.__version__}")
    required = [
        (access_control, "create_access_key"),
        (IAMRequestBase, "check_action_permitted"),
        (IAMRequestBase, "_is_assuming_role_operation"),
        (IAMRequestBase, "_check_role_trust_relationship"),
        (IAMRequest, "_raise_invalid_access_key"),
        (IAMRequest, "_raise_signature_does_not_match"),
        (IAMRequest, "_raise_access_denied"),
        (TokenResponse, "get_session_token"),
        (TokenResponse, "get_federation_token"),
        (TokenResponse, "assume_role"),
        (STSBackend, "get_caller_identity"),
        (STSBackend, "get_assumed_role_from_access_key"),
    ]
    missing = [f"{getattr(o, '__name__', o)}.{n}" for o, n in required if not hasattr(o, n)]
    if missing:
        sys.exit(f"keyfob-moto: moto {moto.__version__} lacks {', '.join(missing)}; update the launcher")

    access_control.create_access_key = _create_access_key
    IAMRequestBase.check_action_permitted = _check_action_permitted_recorded
    IAMRequestBase._is_assuming_role_operation = _is_assuming_role_operation
    IAMRequestBase._check_role_trust_relationship = _check_role_trust_relationship
    IAMRequest._raise_invalid_access_key = _raise_invalid_access_key
    IAMRequest._raise_signature_does_not_match = _raise_signature_does_not_match
    IAMRequest._raise_access_denied = _raise_access_denied
    TokenResponse.get_session_token = _get_session_token
    TokenResponse.get_federation_token = _get_federation_token
    TokenResponse.assume_role = _assume_role_tagged
    STSBackend.get_caller_identity = _get_caller_identity


# --------------------------------------------------------------------------
# T5: WSGI wrapper (call counter, test endpoints, one log line per request)
# --------------------------------------------------------------------------


class KeyfobApp:
    def __init__(self) -> None:
        self.dispatcher = DomainDispatcherApplication(create_backend_app)

    def _action(self, environ: dict) -> str:
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:
            return target.split(".")[-1]
        query = Request(environ).args.get("Action")
        if query:
            return query
        body = self.dispatcher._get_body(environ)  # reads and rewinds wsgi.input
        if body:
            for pair in body.split("&"):
                name, _, value = pair.partition("=")
                if name == "Action":
                    return value
        return f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO', '')}"

    def _test_endpoint(self, request: Request) -> Response:
        def js(obj: Any, status: int = 200) -> Response:
            return Response(json.dumps(obj, sort_keys=True), status, mimetype="application/json")

        path, method = request.path.rstrip("/"), request.method
        if path == "/keyfob-test/calls" and method == "GET":
            with STATE.lock:
                return js(dict(STATE.calls))
        if path == "/keyfob-test/calls/reset" and method == "POST":
            with STATE.lock:
                STATE.calls.clear()
            return js({"status": "ok"})
        if path == "/keyfob-test/clock" and method in ("GET", "POST"):
            if method == "POST":
                try:
                    offset = float(json.loads(request.get_data() or b"{}")["advance_seconds"])
                except (ValueError, KeyError, TypeError):
                    return js({"error": 'body must be {"advance_seconds": N}'}, 400)
                with STATE.lock:
                    STATE.clock_offset = offset
            return js({"advance_seconds": STATE.clock_offset})
        if path == "/keyfob-test/federation" and method == "GET":
            return js(FEDERATION.issued())
        if path == "/keyfob-test/federation/reset" and method == "POST":
            FEDERATION.reset()
            return js({"status": "ok"})
        if path == "/keyfob-test/assume-role" and method == "GET":
            with STATE.lock:
                return js(list(STATE.assume_roles))
        if path == "/keyfob-test/assume-role/reset" and method == "POST":
            with STATE.lock:
                STATE.assume_roles.clear()
            return js({"status": "ok"})
        if path == "/keyfob-test/role-session-life" and method in ("GET", "POST"):
            if method == "POST":
                try:
                    life = float(json.loads(request.get_data() or b"{}")["seconds"])
                except (ValueError, KeyError, TypeError):
                    return js({"error": 'body must be {"seconds": N}'}, 400)
                with STATE.lock:
                    STATE.role_session_seconds = max(life, 0.0)
            return js({"seconds": STATE.role_session_seconds})
        if path == "/keyfob-test/root-key" and method == "POST":
            try:
                key = str(json.loads(request.get_data() or b"{}")["access_key_id"])
            except (ValueError, KeyError, TypeError):
                return js({"error": 'body must be {"access_key_id": K}'}, 400)
            with STATE.lock:
                STATE.root_keys.add(key)
            return js({"status": "ok"})
        return js({"error": "unknown keyfob-test endpoint"}, 404)

    def __call__(self, environ: dict, start_response: Any) -> Any:
        started = time.monotonic()
        path = environ.get("PATH_INFO", "")
        status_holder: list[str] = []

        def recording_start_response(status: str, headers: list, exc_info: Any = None) -> Any:
            status_holder.append(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        if sso_emulator.owns(environ):  # exact SSO paths and /keyfob-test/sso/ (sso_emulator.py)
            label, result = sso_emulator.handle(environ, recording_start_response, STATE, expiry_clock)
        elif signin_emulator.owns(environ):  # T11: /v1/... and /keyfob-test/signin/ (signin_emulator.py)
            label, result = signin_emulator.handle(
                environ, recording_start_response, STATE, expiry_clock, mint_signin_credentials,
                DEFAULT_ACCOUNT_ID,
            )
        elif path.startswith("/keyfob-test/"):
            label = f"{environ.get('REQUEST_METHOD')} {path}"
            result = self._test_endpoint(Request(environ))(environ, recording_start_response)
        elif path.startswith("/moto-api/reset") and STATE.bootstrapped:
            label = f"{environ.get('REQUEST_METHOD')} {path}"
            result = Response(
                json.dumps(
                    {
                        "error": "refused by keyfob launcher: it would drop the admin or switch "
                        "authentication off; start a new launcher instead"
                    }
                ),
                409,
                mimetype="application/json",
            )(environ, recording_start_response)
        elif path == "/federation":  # T8: console sign-in, unsigned like AWS's
            request = Request(environ)
            label = f"signin:{FEDERATION.action_of(request)}"
            with STATE.lock:
                STATE.calls[label] += 1
            result = FEDERATION.handle(request)(environ, recording_start_response)
        elif path.startswith("/moto-api") or path == "/favicon.ico":
            label = f"{environ.get('REQUEST_METHOD')} {path}"
            result = self.dispatcher(environ, recording_start_response)
        else:
            app = self.dispatcher.get_application(environ)
            label = f"{getattr(app, 'service', '?')}:{self._action(environ)}"
            with STATE.lock:
                STATE.calls[label] += 1
            result = app(environ, recording_start_response)
        ms = (time.monotonic() - started) * 1000
        # Only method/service/action/path and status: never headers, bodies or query strings.
        log(f"{label} -> {status_holder[0] if status_holder else '?'} ({ms:.0f} ms)")
        return result


class QuietHandler(WSGIRequestHandler):
    """werkzeug's access log prints the query string (presigned URLs carry
    signatures and tokens there); KeyfobApp logs its own safe line instead."""

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        pass


# --------------------------------------------------------------------------
# Bootstrap and main
# --------------------------------------------------------------------------


def bootstrap(endpoint: str) -> dict[str, str]:
    """Create the admin with auth off, then switch moto's auth checks on."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    cfg = Config(retries={"max_attempts": 1})
    boot = dict(
        endpoint_url=endpoint,
        region_name=REGION,
        config=cfg,
        aws_access_key_id="AKIABOOTSTRAPEXAMPLE",
        aws_secret_access_key="bootstrap",
    )
    iam = boto3.client("iam", **boot)
    iam.create_user(UserName=ADMIN_USER)
    iam.put_user_policy(UserName=ADMIN_USER, PolicyName="admin", PolicyDocument=ADMIN_POLICY)
    key = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]

    # Not form-encoded: moto reads the raw body (request.data) as the count.
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=b"0",
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        json.load(response)

    # Self-check: the admin works, a wrong secret is refused.
    admin = dict(boot, aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    arn = boto3.client("sts", **admin).get_caller_identity()["Arn"]
    if not arn.endswith(f":user/{ADMIN_USER}"):
        raise RuntimeError(f"bootstrap: admin identity is {arn}")
    wrong = dict(admin, aws_secret_access_key="wrong" + key["SecretAccessKey"][5:])
    try:
        boto3.client("sts", **wrong).get_caller_identity()
        raise RuntimeError("bootstrap: a wrong secret was accepted; auth is not on")
    except ClientError as e:
        if e.response["ResponseMetadata"]["HTTPStatusCode"] != 403:
            raise
    return {"admin_access_key_id": key["AccessKeyId"], "admin_secret_access_key": key["SecretAccessKey"]}


def write_atomically(path: str, text: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def loopback_host(host: str) -> str:
    if host == "localhost":
        return "127.0.0.1"
    try:
        if ipaddress.ip_address(host).is_loopback:
            return host
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(
        f"{host!r} is not a loopback address; this launcher binds to loopback only"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port-file", required=True, help="where to write the JSON with port and admin keys")
    parser.add_argument("--host", default="127.0.0.1", type=loopback_host, help="loopback address to bind")
    parser.add_argument("--exit-with-parent", action="store_true", help="stop when the parent process dies")
    parser.add_argument(
        "--exit-on-stdin-eof",
        action="store_true",
        help="stop when standard input is closed (e.g. the spawning test process ended)",
    )
    args = parser.parse_args()
    parent = os.getppid()  # before anything slow, so an early parent death is noticed

    # moto's loggers print request headers at DEBUG; keep everything at WARNING.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # Same account for every request whatever the header says: no env override.
    os.environ.pop("MOTO_ACCOUNT_ID", None)
    settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")  # auth off until bootstrap() ends

    install_patches()
    try:
        os.unlink(args.port_file)  # its appearance must mean "ready"
    except FileNotFoundError:
        pass

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if args.exit_on_stdin_eof:

        def watch_stdin() -> None:
            # os.read, not sys.stdin: a daemon thread blocked inside the buffered
            # reader holds its lock, and Python aborts at exit (SIGTERM case).
            while os.read(sys.stdin.fileno(), 4096):
                pass
            log("standard input closed; stopping")
            stop.set()

        threading.Thread(target=watch_stdin, name="stdin-eof", daemon=True).start()

    server = make_server(args.host, 0, KeyfobApp(), threaded=True, request_handler=QuietHandler)
    port = server.server_port
    thread = threading.Thread(target=server.serve_forever, name="moto", daemon=True)
    thread.start()
    host_in_url = f"[{args.host}]" if ":" in args.host else args.host
    endpoint = f"http://{host_in_url}:{port}"
    try:
        admin = bootstrap(endpoint)
    except Exception as e:  # noqa: BLE001 - report and exit non-zero
        log(f"bootstrap failed: {type(e).__name__}: {e}")
        server.shutdown()
        return 1
    with STATE.lock:
        STATE.calls.clear()
        STATE.bootstrapped = True
    info = {
        "port": port,
        "endpoint_url": endpoint,
        "region": REGION,
        "account_id": DEFAULT_ACCOUNT_ID,
        "pid": os.getpid(),
        **admin,
    }
    write_atomically(args.port_file, json.dumps(info))
    log(f"ready on {endpoint} (moto {moto.__version__}); port file {args.port_file}")

    while not stop.wait(1.0):
        if args.exit_with_parent and os.getppid() != parent:
            log("parent process is gone; stopping")
            break
    server.shutdown()
    thread.join(timeout=10)
    try:
        os.unlink(args.port_file)
    except FileNotFoundError:
        pass
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
