"""IAM Identity Center emulator for keyfob's tests: SSO OIDC + the SSO portal API.

moto has neither service, so tests/support/moto_launcher.py routes these paths
here (same port, same process, same clock offset, same call counter):

    SSO OIDC   POST /client/register        RegisterClient
               POST /device_authorization   StartDeviceAuthorization
               GET  /authorize              the browser's authorization page (not in
                                            the model: botocore builds its URL)
               POST /token                  CreateToken (device_code, authorization_code
                                            with PKCE, refresh_token grants)
    SSO portal GET  /federation/credentials GetRoleCredentials
               GET  /assignment/accounts    ListAccounts
               GET  /assignment/roles       ListAccountRoles
               POST /logout                 Logout
    tests      /keyfob-test/sso/...         unsigned test-only endpoints (list below)

Both are REST-JSON services (botocore models sso-oidc/2019-06-10/service-2.json
and sso/2019-06-10/service-2.json in awscli's botocore, also the newer ones in
boto3's botocore); every operation is unsigned (`"authtype": "none"`). The
portal takes the access token in the header `x-amz-sso_bearer_token` and its
parameters in the query string (`account_id`, `role_name`, `next_token`,
`max_result`). A request that carries a SigV4 Authorization header for another
service on one of these paths is left to moto. Importing this module wraps
werkzeug's WSGIRequestHandler.make_environ: werkzeug's server drops headers with
an underscore in the name, and the bearer token header has one (see
_make_environ).

HOW A CLIENT POINTS AT IT
   Endpoint URL = the launcher's endpoint_url (http://127.0.0.1:PORT), for both
   services, any region name. boto3/botocore >= 1.31 and the Rust SDK:
   `endpoint_url=` or AWS_ENDPOINT_URL_SSO / AWS_ENDPOINT_URL_SSO_OIDC. The AWS
   CLI v2 2.38 reads them too; 2.9 reads neither: give it AWS_DATA_PATH=DIR with
   DIR/sso/2019-06-10/endpoint-rule-set-1.json and
   DIR/sso-oidc/2019-06-10/endpoint-rule-set-1.json, each a ruleset whose only
   rule is the endpoint URL (write_cli_endpoint_overrides() below makes them;
   tests/support/check_sso.py uses it). To read the user code that
   `aws sso login --no-browser` prints from a pipe, run it with
   PYTHONUNBUFFERED=1 (it does not flush).

BEHAVIOURS (what each follows)
S1 RegisterClient (SSO OIDC API reference, RegisterClient; RFC 7591).
   clientName and clientType required strings; clientType must be "public"
   (the API: "The service supports only public as a client type"), else
   InvalidClientMetadataException. scopes: list of non-empty strings without
   whitespace (else InvalidScopeException). The newer members grantTypes
   (device_code URN, refresh_token, authorization_code; others
   UnsupportedGrantTypeException), redirectUris, issuerUrl and
   entitledApplicationArn are type-checked and stored; grantTypes limits the
   grants (S3, S4, S11; a registration without grantTypes, as the AWS CLI's
   device-code ones, gets the device code and refresh grants), redirectUris
   and issuerUrl serve /authorize (S11): each redirect URI absolute https, or
   http on a loopback address (RFC 8252 7.3), else
   InvalidRedirectUriException, which also refuses an authorization_code
   registration without redirectUris. Answer: clientId, clientSecret, clientIdIssuedAt,
   clientSecretExpiresAt (epoch seconds, 90 days after issue, as AWS;
   registrations belong to no instance, like AWS's regional ones). A
   registration past its
   clientSecretExpiresAt (by the launcher's expiry clock) is refused with
   InvalidClientException, as is a wrong clientId/clientSecret pair.
S2 StartDeviceAuthorization (API reference; RFC 8628 3.1-3.2).
   clientId, clientSecret, startUrl required. startUrl must be an instance
   configured through /keyfob-test/sso/configure, else InvalidRequestException
   naming startUrl (an emulator choice: AWS shows an unknown start URL only in
   the browser step). A client registered with grantTypes lacking the
   device_code grant: UnauthorizedClientException. Answer: deviceCode,
   userCode "XXXX-XXXX" (RFC 8628 6.1 alphabet BCDFGHJKLMNPQRSTVWXZ),
   verificationUri https://device.sso.REGION.amazonaws.com/,
   verificationUriComplete ...?user_code=CODE, expiresIn (setting
   device_code_ttl, default 600 as AWS), interval (setting interval, default 1
   as AWS).
S3 CreateToken, grant urn:ietf:params:oauth:grant-type:device_code (RFC 8628 3.4-3.5).
   Checked in this order: clientId/clientSecret (InvalidClientException 401);
   grantType (anything but the three grants:
   UnsupportedGrantTypeException; a grant the client may not use (S1):
   UnauthorizedClientException); deviceCode required
   (InvalidRequestException); unknown, already redeemed, or issued to another
   client: InvalidGrantException; older than expiresIn by the expiry clock:
   ExpiredTokenException (botocore raises PendingAuthorizationExpiredError);
   denied through the test endpoint: AccessDeniedException; still pending:
   SlowDownException if this poll came less than `interval` seconds (real
   time, 50 ms tolerance) after the previous poll of the same device code,
   and the code's interval grows by 5 s for all later polls ("slow_down ...
   the interval MUST be increased by 5 seconds for this and all subsequent
   requests"), else AuthorizationPendingException. The first poll is never
   too early. (botocore polls once, prints the code, and polls again at once,
   so the AWS CLI always meets one SlowDown and then waits interval + 5 s.)
   Approved: accessToken ("aoa..."), tokenType "Bearer", expiresIn (setting
   access_token_ttl, default 3600), and a refreshToken ("aor...") when the
   client registered with scopes or with the refresh_token grant (AWS gives
   refresh tokens to sso-session registrations, which have scopes; the AWS
   CLI calls a scope-less registration "legacy non-refreshable") and the
   setting refresh_tokens is true. No idToken. `scope`, if given, must be a
   subset of the registered scopes (InvalidScopeException).
S4 CreateToken, grant refresh_token (RFC 6749 6).
   refreshToken required; unknown, revoked, rotated away, issued to another
   client, or past its lifetime (setting refresh_token_ttl, default 28800 =
   the portal's default 8 h session, counted from the sign-in):
   InvalidGrantException. Answer: a new accessToken and, with the setting
   rotate_refresh_tokens (default true), a new refreshToken that replaces the
   old one (the old one is then refused: a client that refreshes twice from
   the same token in parallel loses one; RFC 6749 10.4 allows this and it is
   the stricter behaviour). Older access tokens stay valid until they expire.
S5 Portal authentication (API reference: UnauthorizedException "the session
   token is invalid or expired"). A missing, unknown, expired (access_token_ttl
   by the expiry clock), revoked or logged-out token: 401
   UnauthorizedException "Session token not found or invalid" (AWS's message).
S6 GetRoleCredentials. role_name and account_id required
   (InvalidRequestException), account_id 12 digits (InvalidRequestException).
   Not assigned to the user: 403 ForbiddenException "No access" (what AWS
   answers; the code is not in the model, SDKs surface it as an unmodelled
   error). Otherwise the IAM role AWSReservedSSO_<role_name>_<16 hex> (hex =
   sha256 of start URL and permission set, stable per instance) is created on
   first use in moto's IAM backend of that account, path
   /aws-reserved/sso.amazonaws.com/, trust policy naming the SAML provider
   AWSSSO_<hex>_DO_NOT_DELETE as AWS does, inline policy AwsSSOInlinePolicy =
   the assignment's "policy" (default Allow * on *); then moto's own STS
   backend assumes it with RoleSessionName = the user's name, so the
   credentials authenticate with the rest of the emulator and
   sts:GetCallerIdentity answers
   arn:aws:sts::ACCOUNT:assumed-role/AWSReservedSSO_<role>_<hex>/<user>.
   Duration = the assignment's session_duration (900..43200, default 3600, the
   permission set default); expiration in epoch milliseconds; the launcher's
   T1 refuses them once expired. Role credentials outlive Logout and token
   revocation, as on AWS. Nothing is created for accounts never asked for, so
   150 accounts cost nothing until used.
S7 ListAccounts / ListAccountRoles (paginators-1.json: nextToken/maxResults).
   max_result integer 1..100 (InvalidRequestException), default page size =
   setting page_size (default 20; AWS's default is not documented). next_token
   is opaque, bound to the user, instance, operation and account, and
   anything else is InvalidRequestException. Order = configuration order. A
   change between pages shifts the offset (not modelled: AWS snapshots).
   ListAccounts: accountId, accountName, emailAddress of every account the
   user has at least one assignment in. ListAccountRoles(account_id
   required): roleName, accountId; an account without assignments gives an
   empty list (AWS's exact answer there is not verified).
S8 Logout: ends the sign-in session of the token (every access token and the
   refresh token born of that device approval). Empty 200 answer.
S11 GET /authorize (botocore SSOTokenFetcherAuth; RFC 6749 4.1.1, RFC 7636 4.3,
   RFC 8252 7.3): response_type=code, client_id, redirect_uri, state,
   code_challenge, code_challenge_method=S256, scopes (space-separated; the
   AWS CLI trims the challenge's final "="). An unknown or expired client_id,
   or a redirect_uri the client did not register (loopback: any port; else
   equal), answers a 400 page and never redirects (RFC 6749 4.1.2.1). Else
   errors redirect to redirect_uri with error, error_description and state:
   unauthorized_client (no authorization_code grant), unsupported_response_type,
   invalid_request (method not S256, challenge not 43 BASE64URL characters),
   invalid_scope (a scope not registered). The instance is the client's
   issuerUrl (the AWS CLI sends its start URL). The person at the browser is
   the instance's settings.browser_user (none: a 200 page saying so, no
   redirect); settings.browser_consent "deny" redirects with
   error=access_denied, "allow" with code (single use, settings.auth_code_ttl
   seconds by the expiry clock, default 300) and state.
S12 CreateToken, grant authorization_code (RFC 6749 4.1.3, RFC 7636 4.6): code,
   redirectUri and codeVerifier required (InvalidRequestException), the
   verifier 43-128 of [A-Za-z0-9._~-] (InvalidRequestException). Unknown or
   another client's code: InvalidGrantException; a code redeemed before:
   InvalidGrantException, and the sign-in it gave ends (RFC 6749 4.1.2);
   expired: ExpiredTokenException (what botocore expects);
   redirectUri not exactly the one /authorize got, or BASE64URL(SHA256(verifier))
   not the challenge: InvalidGrantException (the code stays usable). Tokens
   as S3, a refresh token as there.
S9 Throttling (test-driven): /keyfob-test/sso/throttle makes the next N calls
   of one operation answer the model's throttling error: portal operations 429
   TooManyRequestsException "Rate exceeded"; OIDC operations (whose model has
   no 429) SlowDownException 400. The throttle is checked before anything
   else, and the call is still counted. A throttle with a start_url applies
   to calls that name that instance (its startUrl, or a device code, refresh
   or access token issued for it); one without, to every call. Clients retry 429s (botocore standard
   mode does, 3 attempts), and each retry consumes one.
S10 Errors on the wire, as AWS sends them: header
   x-amzn-ErrorType: <Code>:http://internal.amazon.com/coral/<namespace>/
   (com.amazonaws.sso.oidc or com.amazon.switchboard.portal), status from the
   model, body {"error": "<oauth code>", "error_description": "..."} for OIDC
   (e.g. authorization_pending / "Authorization is still pending") and
   {"message": "..."} for the portal; x-amzn-RequestId on every answer. A body
   that is not a JSON object, a missing required member or a member of the
   wrong type: InvalidRequestException naming the member. Unknown members are
   ignored. A wrong HTTP method on a known path: 404 UnknownOperationException.

Every operation counts in the launcher's GET /keyfob-test/calls as
"sso-oidc:RegisterClient", "sso-oidc:StartDeviceAuthorization",
"sso-oidc:CreateToken", "sso-oidc:Authorize" (the browser's GET /authorize),
"sso:GetRoleCredentials", "sso:ListAccounts",
"sso:ListAccountRoles", "sso:Logout" (refused and throttled calls too), and per
instance in GET /keyfob-test/sso/status (so parallel tests, each with its own
start URL, do not see each other's calls). Nothing here logs a token, secret,
code, header, body or query string; the launcher logs one line per request
(method/label and status).

TEST ENDPOINTS (unsigned, loopback only; JSON in, JSON out; errors are
{"error": "..."} naming the field, 400 bad input, 404 unknown thing, 409 wrong
state). Instances are keyed by start URL: give each test its own.
  POST /keyfob-test/sso/configure   create or replace an instance (its tokens go):
       {"start_url": "https://d-1234567890.awsapps.com/start", "region": "us-east-1",
        "accounts": [{"account_id": "111111111111", "account_name": "prod",
                      "email": "prod@example.com"}, ...],
        "users": [{"name": "alice", "assignments": [{"account_id": "111111111111",
                   "role_name": "AdministratorAccess", "policy": {IAM policy}?,
                   "session_duration": 3600?}, ...]}, ...],
        "settings": {"interval": 1, "device_code_ttl": 600, "access_token_ttl": 3600,
                     "refresh_token_ttl": 28800, "page_size": 20,
                     "refresh_tokens": true, "rotate_refresh_tokens": true,
                     "auth_code_ttl": 300, "browser_user": null (a user's name),
                     "browser_consent": "allow" | "deny"}?}
       -> {"start_url", "region", "accounts": N, "users": N, "assignments": N}
  POST /keyfob-test/sso/delete      {"start_url"} -> {"deleted": true}
  POST /keyfob-test/sso/approve     {"start_url", "user", "user_code"?}: the person
       clicks "Allow". Without user_code: the only pending authorization of the
       instance (409 if none or several). -> {"status": "approved", "user_code",
       "client_name", "user"}; 409 if expired, denied or already approved.
  POST /keyfob-test/sso/deny        {"start_url", "user_code"?} -> {"status": "denied", ...}
  POST /keyfob-test/sso/revoke      {"start_url", "user"}: end all of the user's
       sign-in sessions (access and refresh tokens) -> {"revoked_sessions": N}
  POST /keyfob-test/sso/assignments/add    {"start_url", "user", "account_id",
       "role_name", "policy"?, "session_duration"?, "account_name"?, "email"?}
       (account fields create the account if new) -> {"added": 1}
  POST /keyfob-test/sso/assignments/remove {"start_url", "user", "account_id",
       "role_name"?} (all roles in the account without role_name) -> {"removed": N}
       (404 if none matched)
  POST /keyfob-test/sso/accounts/update    {"start_url", "account_id",
       "account_name"?, "email"?} -> {"account_id", "account_name", "email"}
  POST /keyfob-test/sso/throttle    {"operation": "sso:ListAccounts", "count": N,
       "start_url"?}: the next N calls answer S9 (without start_url: calls of
       any instance, and the only way for sso-oidc:RegisterClient, which names
       no instance) -> {"operation", "start_url", "remaining": N}
  GET  /keyfob-test/sso/status?start_url=URL -> {"start_url", "region",
       "calls": {"sso:ListAccounts": 2, ...}, "grants": {"device_code": 1,
       "authorization_code": 0, "refresh_token": 0}, "pending": [{"user_code", "client_name",
       "expires_in", "interval"}], "users": {"alice": {"sessions": 1,
       "access_tokens": 1, "refresh_tokens": 1}}, "throttles": {...},
       "role_credentials": N, "clients": [{"grant_types", "redirect_uris",
       "issuer_url"}]}   (active counts; the client registrations that started
       a sign-in here, in order; no token or secret)
  GET  /keyfob-test/sso/issued-secrets?start_url=URL -> {"secrets": [...]}: every
       client secret, device code, authorization code, redeemed PKCE code
       verifier, access token, refresh token, role secret
       key and session token issued for the instance, for leak scans of files
       and logs. The only endpoint that returns secrets; never log its answer.
The launcher's POST /keyfob-test/clock ages device codes, tokens, client
registrations and role credentials (expiry checks only; returned expiry values
stay in real time; slow_down timing is real time).

NOT MODELLED
   - CreateTokenWithIAM (POST /token?aws_iam=t), idToken, the browser pages
     behind verificationUri and the portal's sign-in behind /authorize (S11's
     browser_user stands for it), MFA prompts,
     regions (one endpoint serves every region name; the region only appears
     in verificationUri and in GetRoleCredentials' partition).
   - Identity Center's own APIs (sso-admin, identitystore): instances, users
     and assignments come from /keyfob-test/sso/configure only.
   - Permission-set managed policies, permission boundaries, customer-managed
     policy references: one inline policy per assignment.
   - AWS's server-side rate limits (only the S9 test throttle); access-token
     limits per user; tokens are opaque random strings, not AWS's format.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import html
import ipaddress
import json
import os
import re
import secrets
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qs, urlencode, urlsplit

from moto.iam.models import iam_backends
from moto.iam.policy_validation import IAMPolicyDocumentValidator
from moto.sts.models import sts_backends
from moto.utilities.utils import get_partition
from werkzeug.serving import WSGIRequestHandler
from werkzeug.wrappers import Request, Response

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_GRANT = "refresh_token"
AUTH_CODE_GRANT = "authorization_code"
KNOWN_GRANTS = (DEVICE_GRANT, REFRESH_GRANT, AUTH_CODE_GRANT)
CLIENT_TTL = 90 * 24 * 3600  # AWS: registrations last 90 days
SLOW_DOWN_STEP = 5  # RFC 8628 3.5
POLL_TOLERANCE = 0.05  # seconds
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"  # RFC 8628 6.1
ROLE_PATH = "/aws-reserved/sso.amazonaws.com/"
ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}

OIDC_NAMESPACE = "http://internal.amazon.com/coral/com.amazonaws.sso.oidc/"
PORTAL_NAMESPACE = "http://internal.amazon.com/coral/com.amazon.switchboard.portal/"
OIDC_ROUTES = {
    "/authorize": ("GET", "Authorize"),
    "/client/register": ("POST", "RegisterClient"),
    "/device_authorization": ("POST", "StartDeviceAuthorization"),
    "/token": ("POST", "CreateToken"),
}
PORTAL_ROUTES = {
    "/federation/credentials": ("GET", "GetRoleCredentials"),
    "/assignment/accounts": ("GET", "ListAccounts"),
    "/assignment/roles": ("GET", "ListAccountRoles"),
    "/logout": ("POST", "Logout"),
}
TEST_PREFIX = "/keyfob-test/sso/"
BEARER_HEADER = "x-amz-sso_bearer_token"
BEARER_ENVIRON = "keyfob.sso_bearer_token"
# What /keyfob-test/sso/throttle can throttle (Authorize is a browser page, not an API call).
OPERATIONS = {f"sso-oidc:{op}" for _, op in OIDC_ROUTES.values() if op != "Authorize"} | {
    f"sso:{op}" for _, op in PORTAL_ROUTES.values()
}

# OIDC error code -> (HTTP status, RFC 6749/8628 "error" value), from the model.
OIDC_ERRORS = {
    "AccessDeniedException": (400, "access_denied"),
    "AuthorizationPendingException": (400, "authorization_pending"),
    "ExpiredTokenException": (400, "expired_token"),
    "InternalServerException": (500, "server_error"),
    "InvalidClientException": (401, "invalid_client"),
    "InvalidClientMetadataException": (400, "invalid_client_metadata"),
    "InvalidGrantException": (400, "invalid_grant"),
    "InvalidRequestException": (400, "invalid_request"),
    "InvalidScopeException": (400, "invalid_scope"),
    "SlowDownException": (400, "slow_down"),
    "UnauthorizedClientException": (400, "unauthorized_client"),
    "UnsupportedGrantTypeException": (400, "unsupported_grant_type"),
}
PORTAL_ERRORS = {
    "InvalidRequestException": 400,
    "UnauthorizedException": 401,
    "ForbiddenException": 403,  # AWS's "No access"; not in the model
    "ResourceNotFoundException": 404,
    "TooManyRequestsException": 429,
}
UNAUTHORIZED = "Session token not found or invalid"

ACCOUNT_ID_RE = re.compile(r"\d{12}")
USER_NAME_RE = re.compile(r"[\w+=,.@-]{2,64}")  # it becomes the RoleSessionName
ROLE_NAME_RE = re.compile(r"[\w+=,.@-]{1,32}")  # permission set names: 1..32
REGION_RE = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
SCOPE_RE = re.compile(r"\S{1,256}")

SETTINGS_DEFAULTS: dict[str, Any] = {
    "interval": 1,
    "device_code_ttl": 600,
    "access_token_ttl": 3600,
    "refresh_token_ttl": 28800,
    "page_size": 20,
    "refresh_tokens": True,
    "rotate_refresh_tokens": True,
    "auth_code_ttl": 300,
    "browser_user": None,
    "browser_consent": "allow",
}
SETTINGS_LIMITS = {  # integers: inclusive bounds
    "interval": (1, 60),
    "auth_code_ttl": (1, 3600),
    "device_code_ttl": (1, 86400),
    "access_token_ttl": (1, 7 * 86400),
    "refresh_token_ttl": (1, 90 * 86400),
    "page_size": (1, 100),
}


# --------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------


@dataclass
class Assignment:
    account_id: str
    role_name: str  # the permission set name, as ListAccountRoles shows it
    policy: str  # JSON
    session_duration: int


@dataclass
class Account:
    account_id: str
    name: str
    email: str


@dataclass
class Instance:
    start_url: str
    region: str
    settings: dict[str, Any]
    accounts: dict[str, Account]  # insertion order = configuration order
    users: dict[str, list[Assignment]]
    calls: Counter = field(default_factory=Counter)
    grants: Counter = field(default_factory=Counter)
    throttles: Counter = field(default_factory=Counter)
    role_credentials: int = 0
    issued: list[str] = field(default_factory=list)  # secrets, for /issued-secrets
    clients: list[str] = field(default_factory=list)  # client IDs that signed in here, in order
    # Identity Center instance id stand-in, for role names and SAML provider names
    hex_seed: str = ""


@dataclass
class Client:
    client_id: str
    secret: str
    name: str
    scopes: list[str]
    grant_types: list[str] | None
    expires_at: float  # epoch seconds (real time; compared with the expiry clock)
    redirect_uris: list[str] = field(default_factory=list)
    issuer_url: str | None = None


@dataclass
class AuthCode:
    """One authorization code (S11), from /authorize to CreateToken."""

    code: str
    client_id: str
    start_url: str
    user: str
    redirect_uri: str  # exactly as /authorize got it (port included)
    code_challenge: str  # BASE64URL(SHA256(verifier)), without padding
    expires_at: float
    session_id: str | None = None  # the sign-in it was redeemed for


@dataclass
class DeviceAuth:
    device_code: str
    user_code: str
    client_id: str
    client_name: str
    start_url: str
    expires_at: float
    interval: int
    last_poll: float | None = None  # time.monotonic()
    state: str = "pending"  # pending | approved | denied | redeemed
    user: str | None = None


@dataclass
class SignIn:
    """One approved device authorization: its tokens live and die together."""

    session_id: str
    start_url: str
    user: str
    client_id: str
    scopes: list[str]
    refresh_expires_at: float
    ended: bool = False


@dataclass
class AccessToken:
    token: str
    session_id: str
    expires_at: float


@dataclass
class RefreshToken:
    token: str
    session_id: str
    current: bool = True


class ApiError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class TestError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class Emulator:
    def __init__(self, clock: Callable[[], dt.datetime]) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.instances: dict[str, Instance] = {}
        self.clients: dict[str, Client] = {}
        self.device_codes: dict[str, DeviceAuth] = {}
        self.auth_codes: dict[str, AuthCode] = {}
        self.sessions: dict[str, SignIn] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.global_throttles: Counter = Counter()
        self.page_key = secrets.token_bytes(32)

    def now(self) -> float:
        """Epoch seconds by the launcher's expiry clock (naive UTC datetime)."""
        return (self.clock() - dt.datetime(1970, 1, 1)).total_seconds()

    # ---------------- helpers on state (call with self.lock held) ----------------

    def instance_for_session(self, session_id: str) -> Instance | None:
        signin = self.sessions.get(session_id)
        return self.instances.get(signin.start_url) if signin else None

    def end_sessions(self, start_url: str, user: str | None = None) -> int:
        ended = 0
        for signin in self.sessions.values():
            if signin.start_url == start_url and not signin.ended and (user is None or signin.user == user):
                signin.ended = True
                ended += 1
        return ended

    def drop_instance(self, start_url: str) -> None:
        self.instances.pop(start_url, None)
        self.end_sessions(start_url)
        for code in [c for c, d in self.device_codes.items() if d.start_url == start_url]:
            del self.device_codes[code]
        for code in [c for c, a in self.auth_codes.items() if a.start_url == start_url]:
            del self.auth_codes[code]
        dead = {s for s, signin in self.sessions.items() if signin.start_url == start_url}
        for s in dead:
            del self.sessions[s]
        for table in (self.access_tokens, self.refresh_tokens):
            for token in [t for t, v in table.items() if v.session_id in dead]:
                del table[token]

    def valid_session(self, access_token: str | None) -> tuple[SignIn, Instance]:
        """S5: the sign-in behind a portal bearer token, or UnauthorizedException."""
        entry = self.access_tokens.get(access_token or "")
        if entry is None or self.now() >= entry.expires_at:
            raise ApiError("UnauthorizedException", UNAUTHORIZED)
        signin = self.sessions.get(entry.session_id)
        instance = self.instances.get(signin.start_url) if signin else None
        if signin is None or signin.ended or instance is None or signin.user not in instance.users:
            raise ApiError("UnauthorizedException", UNAUTHORIZED)
        return signin, instance

    def take_throttle(self, instance: Instance | None, label: str) -> bool:
        if instance is not None and instance.throttles[label] > 0:
            instance.throttles[label] -= 1
            return True
        if self.global_throttles[label] > 0:
            self.global_throttles[label] -= 1
            return True
        return False

    def used_by(self, instance: Instance, client: Client) -> None:
        if client.client_id not in instance.clients:
            instance.clients.append(client.client_id)

    def issue(self, instance: Instance | None, *values: str) -> None:
        if instance is not None:
            instance.issued.extend(values)


EMULATOR: Emulator | None = None
_EMULATOR_LOCK = threading.Lock()


def emulator(clock: Callable[[], dt.datetime]) -> Emulator:
    global EMULATOR
    with _EMULATOR_LOCK:
        if EMULATOR is None:
            EMULATOR = Emulator(clock)
        return EMULATOR


# --------------------------------------------------------------------------
# Request validation (S10)
# --------------------------------------------------------------------------


def _json_body(request: Request) -> dict:
    raw = request.get_data(cache=True)
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ApiError("InvalidRequestException", "The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError("InvalidRequestException", "The request body must be a JSON object")
    return body


def _string(body: dict, member: str, required: bool = False) -> str | None:
    value = body.get(member)
    if value is None:
        if required:
            raise ApiError("InvalidRequestException", f"{member} is required")
        return None
    if not isinstance(value, str):
        raise ApiError("InvalidRequestException", f"{member} must be a string")
    if required and not value:
        raise ApiError("InvalidRequestException", f"{member} must not be empty")
    return value


def _string_list(body: dict, member: str) -> list[str] | None:
    value = body.get(member)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError("InvalidRequestException", f"{member} must be a list of strings")
    return value


def _query(request: Request, name: str, member: str, required: bool = False) -> str | None:
    values = request.args.getlist(name)
    if not values or values[0] == "":
        if required:
            raise ApiError("InvalidRequestException", f"{member} (query parameter {name}) is required")
        return None
    return values[0]


# --------------------------------------------------------------------------
# SSO OIDC (S1-S4)
# --------------------------------------------------------------------------


def _client(emu: Emulator, body: dict) -> Client:
    client_id = _string(body, "clientId", required=True)
    client_secret = _string(body, "clientSecret", required=True)
    client = emu.clients.get(client_id or "")
    if client is None or not hmac.compare_digest(client.secret.encode(), (client_secret or "").encode()):
        raise ApiError("InvalidClientException", "Invalid client: clientId or clientSecret is not valid")
    if emu.now() >= client.expires_at:
        raise ApiError("InvalidClientException", "Invalid client: the client registration has expired")
    return client


def register_client(emu: Emulator, request: Request) -> dict:
    body = _json_body(request)
    name = _string(body, "clientName", required=True)
    client_type = _string(body, "clientType", required=True)
    scopes = _string_list(body, "scopes") or []
    grant_types = _string_list(body, "grantTypes")
    redirect_uris = _string_list(body, "redirectUris") or []
    issuer_url = _string(body, "issuerUrl")
    _string(body, "entitledApplicationArn")
    if len(name or "") > 1024:
        raise ApiError("InvalidRequestException", "clientName must be at most 1024 characters")
    if client_type != "public":
        raise ApiError(
            "InvalidClientMetadataException", f"clientType {client_type!r} is not supported; use \"public\""
        )
    for scope in scopes:
        if not SCOPE_RE.fullmatch(scope):
            raise ApiError("InvalidScopeException", "scopes: each scope is 1-256 characters without spaces")
    for grant in grant_types or []:
        if grant not in KNOWN_GRANTS:
            raise ApiError("UnsupportedGrantTypeException", f"grantTypes: unsupported grant type {grant!r}")
    for uri in redirect_uris:
        if not _redirect_uri_ok(uri):
            raise ApiError(
                "InvalidRedirectUriException",
                "redirectUris: each must be an absolute https URL, or http on a loopback address",
            )
    if AUTH_CODE_GRANT in (grant_types or []) and not redirect_uris:
        raise ApiError("InvalidRedirectUriException", "redirectUris is required for the authorization_code grant")
    issued = int(time.time())
    client = Client(
        client_id=secrets.token_urlsafe(16),
        secret=secrets.token_urlsafe(96),
        name=name or "",
        scopes=list(scopes),
        grant_types=list(grant_types) if grant_types is not None else None,
        expires_at=issued + CLIENT_TTL,
        redirect_uris=list(redirect_uris),
        issuer_url=issuer_url,
    )
    emu.clients[client.client_id] = client
    return {
        "clientId": client.client_id,
        "clientSecret": client.secret,
        "clientIdIssuedAt": issued,
        "clientSecretExpiresAt": int(client.expires_at),
    }


def start_device_authorization(emu: Emulator, request: Request, instance: Instance | None) -> dict:
    body = _json_body(request)
    client = _client(emu, body)
    start_url = _string(body, "startUrl", required=True)
    if instance is None:
        raise ApiError(
            "InvalidRequestException",
            "startUrl: no IAM Identity Center instance has this start URL (configure it through "
            "/keyfob-test/sso/configure)",
        )
    if client.grant_types is not None and DEVICE_GRANT not in client.grant_types:
        raise ApiError(
            "UnauthorizedClientException", "The client is not registered for the device_code grant"
        )
    settings = instance.settings
    user_code = "-".join(
        "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(4)) for _ in range(2)
    )
    auth = DeviceAuth(
        device_code=secrets.token_urlsafe(64),
        user_code=user_code,
        client_id=client.client_id,
        client_name=client.name,
        start_url=start_url or "",
        expires_at=emu.now() + settings["device_code_ttl"],
        interval=settings["interval"],
    )
    emu.device_codes[auth.device_code] = auth
    emu.used_by(instance, client)
    emu.issue(instance, client.secret, auth.device_code)
    verification = f"https://device.sso.{instance.region}.amazonaws.com/"
    return {
        "deviceCode": auth.device_code,
        "userCode": user_code,
        "verificationUri": verification,
        "verificationUriComplete": f"{verification}?user_code={user_code}",
        "expiresIn": settings["device_code_ttl"],
        "interval": settings["interval"],
    }


def _tokens(emu: Emulator, instance: Instance, signin: SignIn, client: Client, new_refresh: bool) -> dict:
    settings = instance.settings
    expires_at = emu.now() + settings["access_token_ttl"]
    access = AccessToken("aoa" + secrets.token_urlsafe(96), signin.session_id, expires_at)
    emu.access_tokens[access.token] = access
    answer: dict[str, Any] = {
        "accessToken": access.token,
        "tokenType": "Bearer",
        "expiresIn": settings["access_token_ttl"],
    }
    emu.issue(instance, access.token)
    if new_refresh:
        for old in emu.refresh_tokens.values():
            if old.session_id == signin.session_id:
                old.current = False
        refresh = RefreshToken("aor" + secrets.token_urlsafe(96), signin.session_id)
        emu.refresh_tokens[refresh.token] = refresh
        answer["refreshToken"] = refresh.token
        emu.issue(instance, refresh.token)
    return answer


def _client_grants(client: Client) -> list[str]:
    """The grants a client may use: those it registered, or for a registration
    without grantTypes (the AWS CLI's device-code clients) the device code and
    refresh grants."""
    if client.grant_types is not None:
        return client.grant_types
    return [DEVICE_GRANT, REFRESH_GRANT]


def _may_refresh(client: Client, instance: Instance) -> bool:
    if not instance.settings["refresh_tokens"]:
        return False
    if client.grant_types is not None:
        return REFRESH_GRANT in client.grant_types
    return bool(client.scopes)


def create_token(emu: Emulator, request: Request, instance: Instance | None) -> dict:
    if request.args.get("aws_iam") is not None:
        raise ApiError("InvalidRequestException", "CreateTokenWithIAM is not modelled by the keyfob emulator")
    body = _json_body(request)
    client = _client(emu, body)
    grant = _string(body, "grantType", required=True)
    scope = _string_list(body, "scope")
    code = _string(body, "code")
    redirect_uri = _string(body, "redirectUri")
    verifier = _string(body, "codeVerifier")
    if grant not in KNOWN_GRANTS:
        raise ApiError("UnsupportedGrantTypeException", f"grantType {grant!r} is not supported")
    if grant not in _client_grants(client):
        raise ApiError("UnauthorizedClientException", f"The client is not registered for the {grant} grant")
    for s in scope or []:
        if s not in client.scopes:
            raise ApiError("InvalidScopeException", f"scope {s!r} was not registered by the client")
    if grant == AUTH_CODE_GRANT:
        return _redeem_code(emu, client, code, redirect_uri, verifier)

    if grant == DEVICE_GRANT:
        device_code = _string(body, "deviceCode")
        if not device_code:
            raise ApiError("InvalidRequestException", "deviceCode is required for the device_code grant")
        auth = emu.device_codes.get(device_code)
        instance = emu.instances.get(auth.start_url) if auth else None
        if auth is None or auth.client_id != client.client_id or auth.state == "redeemed" or instance is None:
            raise ApiError("InvalidGrantException", "Invalid grant provided")
        if emu.now() >= auth.expires_at:
            raise ApiError("ExpiredTokenException", "Device code has expired")
        if auth.state == "denied":
            raise ApiError("AccessDeniedException", "The user denied the authorization request")
        if auth.state == "pending":
            mono = time.monotonic()
            too_fast = auth.last_poll is not None and mono - auth.last_poll < auth.interval - POLL_TOLERANCE
            auth.last_poll = mono
            if too_fast:
                auth.interval += SLOW_DOWN_STEP
                raise ApiError("SlowDownException", "Client is polling too quickly")
            raise ApiError("AuthorizationPendingException", "Authorization is still pending")
        # approved
        auth.state = "redeemed"
        settings = instance.settings
        signin = SignIn(
            session_id=uuid.uuid4().hex,
            start_url=auth.start_url,
            user=auth.user or "",
            client_id=client.client_id,
            scopes=list(client.scopes),
            refresh_expires_at=emu.now() + settings["refresh_token_ttl"],
        )
        emu.sessions[signin.session_id] = signin
        instance.grants["device_code"] += 1
        return _tokens(emu, instance, signin, client, _may_refresh(client, instance))

    refresh_token = _string(body, "refreshToken")
    if not refresh_token:
        raise ApiError("InvalidRequestException", "refreshToken is required for the refresh_token grant")
    entry = emu.refresh_tokens.get(refresh_token)
    signin = emu.sessions.get(entry.session_id) if entry else None
    instance = emu.instances.get(signin.start_url) if signin else None
    if (
        entry is None
        or signin is None
        or instance is None
        or not entry.current
        or signin.ended
        or signin.client_id != client.client_id
        or emu.now() >= signin.refresh_expires_at
        or signin.user not in instance.users
    ):
        raise ApiError("InvalidGrantException", "Invalid grant provided")
    instance.grants["refresh_token"] += 1
    return _tokens(emu, instance, signin, client, instance.settings["rotate_refresh_tokens"])


# --------------------------------------------------------------------------
# The authorization code grant with PKCE (S11, S12)
# --------------------------------------------------------------------------

LOOPBACK_HOSTS = ("127.0.0.1", "[::1]", "::1")
PKCE_CHALLENGE_RE = re.compile(r"[A-Za-z0-9_-]{43}")  # BASE64URL of 32 bytes, no padding
PKCE_VERIFIER_RE = re.compile(r"[A-Za-z0-9._~-]{43,128}")  # RFC 7636 4.1


def _redirect_uri_ok(uri: str) -> bool:
    parts = urlsplit(uri)
    if parts.fragment or not parts.hostname:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)


def _redirect_matches(registered: str, given: str) -> bool:
    """RFC 8252 7.3: a loopback redirect URI matches whatever port the client
    listens on at authorization time; everything else must be equal."""
    r, g = urlsplit(registered), urlsplit(given)
    if r.scheme == "http" and r.hostname in LOOPBACK_HOSTS:
        return (r.scheme, r.hostname, r.path, r.query) == (g.scheme, g.hostname, g.path, g.query)
    return registered == given


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 4.2, S256: BASE64URL-ENCODE(SHA256(ASCII(code_verifier))), unpadded."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).decode().rstrip("=")


def _with_query(uri: str, params: dict[str, str]) -> str:
    return uri + ("&" if urlsplit(uri).query else "?") + urlencode(params)


def _html_page(status: int, text: str) -> Response:
    body = f"<!doctype html><title>IAM Identity Center (keyfob emulator)</title><p>{html.escape(text)}</p>"
    return Response(body, status, mimetype="text/html")


def authorize(emu: Emulator, request: Request) -> Response:
    """S11: GET /authorize, what the browser opens."""
    args = request.args
    client = emu.clients.get(args.get("client_id", ""))
    if client is None or emu.now() >= client.expires_at:
        return _html_page(400, "Invalid client_id: no such client registration (or it expired).")
    redirect_uri = args.get("redirect_uri", "")
    if not any(_redirect_matches(r, redirect_uri) for r in client.redirect_uris):
        # RFC 6749 4.1.2.1: never redirect to an unverified URI.
        return _html_page(400, "Invalid redirect_uri: the client did not register it.")
    state = args.get("state")

    def refuse(error: str, description: str) -> Response:
        params = {"error": error, "error_description": description}
        if state is not None:
            params["state"] = state
        return Response("", 302, headers={"Location": _with_query(redirect_uri, params)})

    if AUTH_CODE_GRANT not in _client_grants(client):
        return refuse("unauthorized_client", "The client is not registered for the authorization_code grant")
    if args.get("response_type") != "code":
        return refuse("unsupported_response_type", "response_type must be code")
    if args.get("code_challenge_method") != "S256":
        return refuse("invalid_request", "code_challenge_method must be S256")
    challenge = args.get("code_challenge", "").rstrip("=")
    if not PKCE_CHALLENGE_RE.fullmatch(challenge):
        return refuse("invalid_request", "code_challenge must be the unpadded BASE64URL of a SHA-256 digest")
    scopes = (args.get("scopes") or "").split()
    if any(s not in client.scopes for s in scopes):
        return refuse("invalid_scope", "scopes: a scope was not registered by the client")
    instance = emu.instances.get(client.issuer_url or "")
    if instance is None:
        return _html_page(400, "The client's issuerUrl names no IAM Identity Center instance of the emulator.")
    user = instance.settings["browser_user"]
    if user is None:
        return _html_page(
            200,
            "Nobody is signed in to this instance's portal in the emulator's browser "
            "(set settings.browser_user through /keyfob-test/sso/configure).",
        )
    if instance.settings["browser_consent"] == "deny":
        return refuse("access_denied", "The user denied the authorization request")
    code = AuthCode(
        code=secrets.token_urlsafe(48),
        client_id=client.client_id,
        start_url=instance.start_url,
        user=user,
        redirect_uri=redirect_uri,
        code_challenge=challenge,
        expires_at=emu.now() + instance.settings["auth_code_ttl"],
    )
    emu.auth_codes[code.code] = code
    emu.used_by(instance, client)
    emu.issue(instance, code.code)
    params = {"code": code.code}
    if state is not None:
        params["state"] = state
    return Response("", 302, headers={"Location": _with_query(redirect_uri, params)})


def _redeem_code(
    emu: Emulator, client: Client, code: str | None, redirect_uri: str | None, verifier: str | None
) -> dict:
    """S12: CreateToken with the authorization_code grant."""
    if not code:
        raise ApiError("InvalidRequestException", "code is required for the authorization_code grant")
    if not redirect_uri:
        raise ApiError("InvalidRequestException", "redirectUri is required for the authorization_code grant")
    if not verifier:
        raise ApiError("InvalidRequestException", "codeVerifier is required for the authorization_code grant")
    if not PKCE_VERIFIER_RE.fullmatch(verifier):
        raise ApiError("InvalidRequestException", "codeVerifier must be 43-128 of [A-Za-z0-9._~-]")
    auth = emu.auth_codes.get(code)
    instance = emu.instances.get(auth.start_url) if auth else None
    if auth is None or instance is None or auth.client_id != client.client_id:
        raise ApiError("InvalidGrantException", "Invalid grant provided")
    if auth.session_id is not None:
        # RFC 6749 4.1.2: a code used twice revokes what it gave.
        signin = emu.sessions.get(auth.session_id)
        if signin is not None:
            signin.ended = True
        raise ApiError("InvalidGrantException", "Invalid grant provided")
    if emu.now() >= auth.expires_at:
        raise ApiError("ExpiredTokenException", "Authorization code has expired")
    if redirect_uri != auth.redirect_uri:
        raise ApiError("InvalidGrantException", "Invalid grant provided")
    if not hmac.compare_digest(pkce_challenge(verifier).encode(), auth.code_challenge.encode()):
        raise ApiError("InvalidGrantException", "Invalid grant provided")
    signin = SignIn(
        session_id=uuid.uuid4().hex,
        start_url=auth.start_url,
        user=auth.user,
        client_id=client.client_id,
        scopes=list(client.scopes),
        refresh_expires_at=emu.now() + instance.settings["refresh_token_ttl"],
    )
    emu.sessions[signin.session_id] = signin
    auth.session_id = signin.session_id
    emu.issue(instance, verifier)  # the client's secret: leak scans look for it too
    instance.grants["authorization_code"] += 1
    return _tokens(emu, instance, signin, client, _may_refresh(client, instance))


# --------------------------------------------------------------------------
# SSO portal (S5-S8)
# --------------------------------------------------------------------------


def _max_results(request: Request, default: int) -> int:
    raw = _query(request, "max_result", "maxResults")
    if raw is None:
        return default
    if not re.fullmatch(r"-?\d{1,9}", raw):
        raise ApiError(
            "InvalidRequestException", "maxResults (query parameter max_result) must be an integer"
        )
    value = int(raw)
    if not 1 <= value <= 100:
        raise ApiError("InvalidRequestException", "maxResults (query parameter max_result) must be 1..100")
    return value


def _page_token(emu: Emulator, scope: str, offset: int) -> str:
    payload = base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")
    mac = hmac.new(emu.page_key, f"{scope}|{payload}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{payload}.{mac}"


def _page_offset(emu: Emulator, scope: str, token: str | None) -> int:
    if token is None:
        return 0
    payload, _, mac = token.partition(".")
    want = hmac.new(emu.page_key, f"{scope}|{payload}".encode(), hashlib.sha256).hexdigest()[:32]
    if not hmac.compare_digest(mac.encode(), want.encode()):
        raise ApiError("InvalidRequestException", "nextToken (query parameter next_token) is not valid")
    offset = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["o"]
    return int(offset)


def _page(emu: Emulator, request: Request, scope: str, items: list, key: str, size: int) -> dict:
    offset = _page_offset(emu, scope, _query(request, "next_token", "nextToken"))
    limit = _max_results(request, size)
    answer: dict[str, Any] = {key: items[offset : offset + limit]}
    if offset + limit < len(items):
        answer["nextToken"] = _page_token(emu, scope, offset + limit)
    return answer


def list_accounts(emu: Emulator, request: Request, signin: SignIn, instance: Instance) -> dict:
    assigned = {a.account_id for a in instance.users[signin.user]}
    accounts = [
        {"accountId": acct.account_id, "accountName": acct.name, "emailAddress": acct.email}
        for acct in instance.accounts.values()
        if acct.account_id in assigned
    ]
    scope = f"ListAccounts|{instance.start_url}|{signin.user}"
    return _page(emu, request, scope, accounts, "accountList", instance.settings["page_size"])


def list_account_roles(emu: Emulator, request: Request, signin: SignIn, instance: Instance) -> dict:
    account_id = _query(request, "account_id", "accountId", required=True)
    roles = [
        {"roleName": a.role_name, "accountId": a.account_id}
        for a in instance.users[signin.user]
        if a.account_id == account_id
    ]
    scope = f"ListAccountRoles|{instance.start_url}|{signin.user}|{account_id}"
    return _page(emu, request, scope, roles, "roleList", instance.settings["page_size"])


def _role_name(instance: Instance, permission_set: str) -> tuple[str, str]:
    digest = hashlib.sha256(f"{instance.hex_seed}|{permission_set}".encode()).hexdigest()
    return f"AWSReservedSSO_{permission_set}_{digest[:16]}", instance.hex_seed[:16]


def get_role_credentials(emu: Emulator, request: Request, signin: SignIn, instance: Instance) -> dict:
    role_name = _query(request, "role_name", "roleName", required=True)
    account_id = _query(request, "account_id", "accountId", required=True)
    if not ACCOUNT_ID_RE.fullmatch(account_id or ""):
        raise ApiError("InvalidRequestException", "accountId (query parameter account_id) must be 12 digits")
    assignment = next(
        (a for a in instance.users[signin.user] if a.account_id == account_id and a.role_name == role_name),
        None,
    )
    if assignment is None:
        raise ApiError("ForbiddenException", "No access")
    partition = get_partition(instance.region)
    iam = iam_backends[account_id][partition]
    iam_role_name, provider_hex = _role_name(instance, role_name or "")
    try:
        role = iam.get_role(iam_role_name)
    except Exception:  # moto's NotFoundException: first use in this account
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {
                        "Federated": f"arn:{partition}:iam::{account_id}:saml-provider/"
                        f"AWSSSO_{provider_hex}_DO_NOT_DELETE"
                    },
                    "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
                    "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
                }
            ],
        }
        role = iam.create_role(
            iam_role_name,
            json.dumps(trust),
            ROLE_PATH,
            None,
            "Created by the keyfob SSO emulator for an Identity Center permission set",
            [],
            str(max(3600, assignment.session_duration)),
        )
    if role.policies.get("AwsSSOInlinePolicy") != assignment.policy:
        iam.put_role_policy(iam_role_name, "AwsSSOInlinePolicy", assignment.policy)
    assumed = sts_backends[account_id][partition].assume_role(
        region_name=instance.region,
        role_session_name=signin.user,
        role_arn=role.arn,
        policy=None,
        duration=assignment.session_duration,
        external_id=None,
    )
    instance.role_credentials += 1
    emu.issue(instance, assumed.secret_access_key, assumed.session_token)
    expiration = assumed.expiration.replace(tzinfo=dt.timezone.utc)
    return {
        "roleCredentials": {
            "accessKeyId": assumed.access_key_id,
            "secretAccessKey": assumed.secret_access_key,
            "sessionToken": assumed.session_token,
            "expiration": int(expiration.timestamp() * 1000),
        }
    }


def logout(emu: Emulator, request: Request, signin: SignIn, instance: Instance) -> dict:
    signin.ended = True
    return {}


PORTAL_HANDLERS = {
    "GetRoleCredentials": get_role_credentials,
    "ListAccounts": list_accounts,
    "ListAccountRoles": list_account_roles,
    "Logout": logout,
}


# --------------------------------------------------------------------------
# Wire format
# --------------------------------------------------------------------------


def _api_response(body: dict | None, status: int = 200, error_type: str | None = None) -> Response:
    headers = {"x-amzn-RequestId": str(uuid.uuid4())}
    if error_type:
        headers["x-amzn-ErrorType"] = error_type
    text = json.dumps(body) if body is not None else ""
    return Response(text, status, headers=headers, mimetype="application/json")


def _oidc_error(err: ApiError) -> Response:
    status, oauth = OIDC_ERRORS.get(err.code, (400, "invalid_request"))
    return _api_response(
        {"error": oauth, "error_description": err.message}, status, f"{err.code}:{OIDC_NAMESPACE}"
    )


def _portal_error(err: ApiError) -> Response:
    status = PORTAL_ERRORS.get(err.code, 400)
    return _api_response({"message": err.message}, status, f"{err.code}:{PORTAL_NAMESPACE}")


def _oidc_instance(emu: Emulator, op: str, request: Request) -> Instance | None:
    """Which instance a call concerns (for throttles and per-instance counts)."""
    if op == "RegisterClient":
        return None
    try:
        body = json.loads(request.get_data(cache=True) or b"{}")
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    if op == "StartDeviceAuthorization":
        url = body.get("startUrl")
        return emu.instances.get(url) if isinstance(url, str) else None
    code = body.get("deviceCode")
    if isinstance(code, str) and code in emu.device_codes:
        return emu.instances.get(emu.device_codes[code].start_url)
    code = body.get("code")
    if isinstance(code, str) and code in emu.auth_codes:
        return emu.instances.get(emu.auth_codes[code].start_url)
    refresh = body.get("refreshToken")
    if isinstance(refresh, str) and refresh in emu.refresh_tokens:
        return emu.instance_for_session(emu.refresh_tokens[refresh].session_id)
    return None


def handle_api(
    emu: Emulator, service: str, op: str, request: Request, count: Callable[[str], None]
) -> Response:
    label = f"{service}:{op}"
    count(label)
    with emu.lock:
        if service == "sso-oidc":
            instance = _oidc_instance(emu, op, request)
        else:
            entry = emu.access_tokens.get(_bearer(request) or "")
            instance = emu.instance_for_session(entry.session_id) if entry else None
        if instance is not None:
            instance.calls[label] += 1
        throttled = emu.take_throttle(instance, label)
        try:
            if service == "sso-oidc":
                if throttled:
                    raise ApiError("SlowDownException", "Rate exceeded")
                if op == "RegisterClient":
                    return _api_response(register_client(emu, request))
                if op == "StartDeviceAuthorization":
                    return _api_response(start_device_authorization(emu, request, instance))
                return _api_response(create_token(emu, request, instance))
            if throttled:
                raise ApiError("TooManyRequestsException", "Rate exceeded")
            signin, instance = emu.valid_session(_bearer(request))
            answer = PORTAL_HANDLERS[op](emu, request, signin, instance)
            return _api_response(answer if op != "Logout" else None)
        except ApiError as err:
            return _oidc_error(err) if service == "sso-oidc" else _portal_error(err)
        except Exception as e:  # noqa: BLE001 - a bug here must not leak a traceback with locals
            sys.stderr.write(f"keyfob-sso: {label}: internal error {type(e).__name__}\n")
            err = ApiError("InternalServerException", "Internal error in the keyfob SSO emulator")
            if service == "sso-oidc":
                return _oidc_error(err)
            return _api_response({"message": err.message}, 500, f"InternalServerException:{PORTAL_NAMESPACE}")


# --------------------------------------------------------------------------
# Test endpoints
# --------------------------------------------------------------------------


def _t_str(body: dict, name: str, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise TestError(400, f"{name} is required")
        return None
    if not isinstance(value, str) or not value:
        raise TestError(400, f"{name} must be a non-empty string")
    return value


def _t_int(body: dict, name: str, default: int, low: int, high: int) -> int:
    value = body.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise TestError(400, f"{name} must be an integer {low}..{high}")
    return value


def _t_instance(emu: Emulator, body: dict) -> Instance:
    url = _t_str(body, "start_url")
    instance = emu.instances.get(url or "")
    if instance is None:
        raise TestError(404, f"start_url: no instance {url!r} is configured")
    return instance


def _t_account(entry: Any, where: str) -> Account:
    if not isinstance(entry, dict):
        raise TestError(400, f"{where} must be an object")
    account_id = _t_str(entry, "account_id")
    if not ACCOUNT_ID_RE.fullmatch(account_id or ""):
        raise TestError(400, f"{where}.account_id must be 12 digits")
    name = _t_str(entry, "account_name", required=False) or f"account-{account_id}"
    email = _t_str(entry, "email", required=False) or f"aws+{account_id}@example.com"
    if len(email) > 254:
        raise TestError(400, f"{where}.email must be at most 254 characters (the model's limit)")
    return Account(account_id or "", name, email)


def _t_assignment(entry: Any, where: str, accounts: dict[str, Account]) -> Assignment:
    if not isinstance(entry, dict):
        raise TestError(400, f"{where} must be an object")
    account_id = _t_str(entry, "account_id") or ""
    if account_id not in accounts:
        raise TestError(400, f"{where}.account_id {account_id!r} is not among the accounts")
    role_name = _t_str(entry, "role_name") or ""
    if not ROLE_NAME_RE.fullmatch(role_name):
        raise TestError(400, f"{where}.role_name must be 1-32 of [A-Za-z0-9_+=,.@-] (a permission set name)")
    policy = entry.get("policy", ADMIN_POLICY)
    if not isinstance(policy, dict):
        raise TestError(400, f"{where}.policy must be an IAM policy document (object)")
    try:
        IAMPolicyDocumentValidator(json.dumps(policy)).validate()
    except Exception as e:  # moto's MalformedPolicyDocument
        message = getattr(e, "message", e)
        raise TestError(400, f"{where}.policy is not a valid IAM policy: {message}") from None
    duration = _t_int(entry, "session_duration", 3600, 900, 43200)
    return Assignment(account_id, role_name, json.dumps(policy), duration)


def t_configure(emu: Emulator, body: dict) -> dict:
    url = _t_str(body, "start_url") or ""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc:
        raise TestError(400, "start_url must be an https:// URL")
    region = _t_str(body, "region") or ""
    if not REGION_RE.fullmatch(region):
        raise TestError(400, "region must look like us-east-1")
    raw_settings = body.get("settings", {})
    if not isinstance(raw_settings, dict):
        raise TestError(400, "settings must be an object")
    unknown = set(raw_settings) - set(SETTINGS_DEFAULTS)
    if unknown:
        raise TestError(400, f"settings: unknown {sorted(unknown)}; known: {sorted(SETTINGS_DEFAULTS)}")
    settings = dict(SETTINGS_DEFAULTS)
    for name, (low, high) in SETTINGS_LIMITS.items():
        settings[name] = _t_int(raw_settings, name, SETTINGS_DEFAULTS[name], low, high)
    for name in ("refresh_tokens", "rotate_refresh_tokens"):
        value = raw_settings.get(name, SETTINGS_DEFAULTS[name])
        if not isinstance(value, bool):
            raise TestError(400, f"settings.{name} must be true or false")
        settings[name] = value
    settings["browser_consent"] = raw_settings.get("browser_consent", "allow")
    if settings["browser_consent"] not in ("allow", "deny"):
        raise TestError(400, "settings.browser_consent must be allow or deny")
    settings["browser_user"] = raw_settings.get("browser_user")

    raw_accounts = body.get("accounts", [])
    if not isinstance(raw_accounts, list):
        raise TestError(400, "accounts must be a list")
    accounts: dict[str, Account] = {}
    for i, entry in enumerate(raw_accounts):
        acct = _t_account(entry, f"accounts[{i}]")
        if acct.account_id in accounts:
            raise TestError(400, f"accounts[{i}].account_id {acct.account_id} is listed twice")
        accounts[acct.account_id] = acct
    raw_users = body.get("users", [])
    if not isinstance(raw_users, list):
        raise TestError(400, "users must be a list")
    users: dict[str, list[Assignment]] = {}
    total = 0
    for i, entry in enumerate(raw_users):
        if not isinstance(entry, dict):
            raise TestError(400, f"users[{i}] must be an object")
        name = _t_str(entry, "name") or ""
        if not USER_NAME_RE.fullmatch(name):
            raise TestError(
                400, f"users[{i}].name must be 2-64 of [A-Za-z0-9_+=,.@-] (it becomes the role session name)"
            )
        if name in users:
            raise TestError(400, f"users[{i}].name {name!r} is listed twice")
        raw = entry.get("assignments", [])
        if not isinstance(raw, list):
            raise TestError(400, f"users[{i}].assignments must be a list")
        assignments = [_t_assignment(a, f"users[{i}].assignments[{j}]", accounts) for j, a in enumerate(raw)]
        seen = set()
        for j, a in enumerate(assignments):
            if (a.account_id, a.role_name) in seen:
                raise TestError(400, f"users[{i}].assignments[{j}] repeats {a.account_id}/{a.role_name}")
            seen.add((a.account_id, a.role_name))
        users[name] = assignments
        total += len(assignments)
    if settings["browser_user"] is not None and settings["browser_user"] not in users:
        raise TestError(400, "settings.browser_user must name one of the users")
    emu.drop_instance(url)
    emu.instances[url] = Instance(
        start_url=url,
        region=region,
        settings=settings,
        accounts=accounts,
        users=users,
        hex_seed=hashlib.sha256(url.encode()).hexdigest(),
    )
    return {
        "start_url": url,
        "region": region,
        "accounts": len(accounts),
        "users": len(users),
        "assignments": total,
    }


def _t_device(emu: Emulator, body: dict) -> DeviceAuth:
    instance = _t_instance(emu, body)
    code = _t_str(body, "user_code", required=False)
    candidates = [
        d
        for d in emu.device_codes.values()
        if d.start_url == instance.start_url
        and (d.user_code == code if code else d.state == "pending" and emu.now() < d.expires_at)
    ]
    if code and not candidates:
        raise TestError(404, f"user_code {code!r}: no such device authorization for this start_url")
    if not code and len(candidates) != 1:
        raise TestError(409, f"user_code omitted but {len(candidates)} authorizations are pending; name one")
    auth = candidates[-1]
    if emu.now() >= auth.expires_at:
        raise TestError(409, f"user_code {auth.user_code}: the device authorization has expired")
    if auth.state != "pending":
        raise TestError(409, f"user_code {auth.user_code}: already {auth.state}")
    return auth


def t_approve(emu: Emulator, body: dict) -> dict:
    user = _t_str(body, "user") or ""
    auth = _t_device(emu, body)
    if user not in emu.instances[auth.start_url].users:
        raise TestError(404, f"user {user!r} is not a user of this instance")
    auth.state, auth.user = "approved", user
    return {"status": "approved", "user_code": auth.user_code, "client_name": auth.client_name, "user": user}


def t_deny(emu: Emulator, body: dict) -> dict:
    auth = _t_device(emu, body)
    auth.state = "denied"
    return {"status": "denied", "user_code": auth.user_code, "client_name": auth.client_name}


def t_revoke(emu: Emulator, body: dict) -> dict:
    instance = _t_instance(emu, body)
    user = _t_str(body, "user") or ""
    if user not in instance.users:
        raise TestError(404, f"user {user!r} is not a user of this instance")
    return {"revoked_sessions": emu.end_sessions(instance.start_url, user)}


def t_assignment_add(emu: Emulator, body: dict) -> dict:
    instance = _t_instance(emu, body)
    user = _t_str(body, "user") or ""
    if user not in instance.users:
        raise TestError(404, f"user {user!r} is not a user of this instance")
    account_id = _t_str(body, "account_id") or ""
    if account_id not in instance.accounts:
        if body.get("account_name") is None and body.get("email") is None:
            raise TestError(
                404, f"account_id {account_id!r} is unknown; give account_name/email to create it"
            )
        acct = _t_account(body, "body")
    else:
        acct = instance.accounts[account_id]
    assignment = _t_assignment(body, "body", {**instance.accounts, acct.account_id: acct})
    if any(a.account_id == account_id and a.role_name == assignment.role_name for a in instance.users[user]):
        raise TestError(409, f"{user} already has {assignment.role_name} in {account_id}")
    instance.accounts.setdefault(acct.account_id, acct)
    instance.users[user].append(assignment)
    return {"added": 1}


def t_assignment_remove(emu: Emulator, body: dict) -> dict:
    instance = _t_instance(emu, body)
    user = _t_str(body, "user") or ""
    if user not in instance.users:
        raise TestError(404, f"user {user!r} is not a user of this instance")
    account_id = _t_str(body, "account_id") or ""
    role = _t_str(body, "role_name", required=False)
    keep = [
        a
        for a in instance.users[user]
        if not (a.account_id == account_id and (role is None or a.role_name == role))
    ]
    removed = len(instance.users[user]) - len(keep)
    if not removed:
        raise TestError(404, f"{user} has no assignment {account_id}/{role or '*'}")
    instance.users[user] = keep
    return {"removed": removed}


def t_account_update(emu: Emulator, body: dict) -> dict:
    instance = _t_instance(emu, body)
    account_id = _t_str(body, "account_id") or ""
    acct = instance.accounts.get(account_id)
    if acct is None:
        raise TestError(404, f"account_id {account_id!r} is unknown")
    name = _t_str(body, "account_name", required=False)
    email = _t_str(body, "email", required=False)
    if name is None and email is None:
        raise TestError(400, "give account_name and/or email")
    if email is not None and len(email) > 254:
        raise TestError(400, "email must be at most 254 characters")
    acct.name = name if name is not None else acct.name
    acct.email = email if email is not None else acct.email
    return {"account_id": acct.account_id, "account_name": acct.name, "email": acct.email}


def t_throttle(emu: Emulator, body: dict) -> dict:
    op = _t_str(body, "operation") or ""
    if op not in OPERATIONS:
        raise TestError(400, f"operation must be one of {sorted(OPERATIONS)}")
    count = _t_int(body, "count", 1, 0, 10000)
    if body.get("start_url") is None:
        emu.global_throttles[op] = count
        return {"operation": op, "start_url": None, "remaining": count}
    instance = _t_instance(emu, body)
    instance.throttles[op] = count
    return {"operation": op, "start_url": instance.start_url, "remaining": count}


def t_delete(emu: Emulator, body: dict) -> dict:
    instance = _t_instance(emu, body)
    emu.drop_instance(instance.start_url)
    return {"deleted": True}


def t_status(emu: Emulator, query: dict) -> dict:
    instance = _t_instance(emu, query)
    now = emu.now()
    users: dict[str, dict[str, int]] = {}
    for name in instance.users:
        live = {
            s.session_id
            for s in emu.sessions.values()
            if s.start_url == instance.start_url and s.user == name and not s.ended
        }
        users[name] = {
            "sessions": len(live),
            "access_tokens": sum(
                1 for t in emu.access_tokens.values() if t.session_id in live and now < t.expires_at
            ),
            "refresh_tokens": sum(
                1
                for t in emu.refresh_tokens.values()
                if t.session_id in live and t.current and now < emu.sessions[t.session_id].refresh_expires_at
            ),
        }
    pending = [
        {
            "user_code": d.user_code,
            "client_name": d.client_name,
            "expires_in": int(d.expires_at - now),
            "interval": d.interval,
        }
        for d in emu.device_codes.values()
        if d.start_url == instance.start_url and d.state == "pending" and now < d.expires_at
    ]
    return {
        "start_url": instance.start_url,
        "region": instance.region,
        "calls": dict(instance.calls),
        "grants": {
            "device_code": instance.grants["device_code"],
            "authorization_code": instance.grants["authorization_code"],
            "refresh_token": instance.grants["refresh_token"],
        },
        "pending": pending,
        "users": users,
        "throttles": {k: v for k, v in instance.throttles.items() if v},
        "role_credentials": instance.role_credentials,
        "clients": [
            {"grant_types": c.grant_types, "redirect_uris": c.redirect_uris, "issuer_url": c.issuer_url}
            for c in (emu.clients.get(i) for i in instance.clients)
            if c is not None
        ],
    }


def t_issued_secrets(emu: Emulator, query: dict) -> dict:
    instance = _t_instance(emu, query)
    return {"secrets": sorted(set(instance.issued))}


TEST_POST = {
    "configure": t_configure,
    "delete": t_delete,
    "approve": t_approve,
    "deny": t_deny,
    "revoke": t_revoke,
    "assignments/add": t_assignment_add,
    "assignments/remove": t_assignment_remove,
    "accounts/update": t_account_update,
    "throttle": t_throttle,
}
TEST_GET = {"status": t_status, "issued-secrets": t_issued_secrets}


def _is_loopback(addr: str | None) -> bool:
    try:
        return ipaddress.ip_address((addr or "").split("%")[0]).is_loopback
    except ValueError:
        return False


def handle_test(emu: Emulator, request: Request) -> Response:
    def js(obj: Any, status: int = 200) -> Response:
        return Response(json.dumps(obj, sort_keys=True), status, mimetype="application/json")

    if not _is_loopback(request.remote_addr):
        return js({"error": "test endpoints answer loopback clients only"}, 403)
    name = request.path[len(TEST_PREFIX) :].rstrip("/")
    try:
        with emu.lock:
            if request.method == "POST" and name in TEST_POST:
                try:
                    body = json.loads(request.get_data() or b"{}")
                except ValueError:
                    raise TestError(400, "body must be JSON") from None
                if not isinstance(body, dict):
                    raise TestError(400, "body must be a JSON object")
                return js(TEST_POST[name](emu, body))
            if request.method == "GET" and name in TEST_GET:
                query = {k: v for k, v in request.args.items()}
                return js(TEST_GET[name](emu, query))
    except TestError as err:
        return js({"error": err.message}, err.status)
    known = [f"POST {TEST_PREFIX}{n}" for n in TEST_POST] + [f"GET {TEST_PREFIX}{n}" for n in TEST_GET]
    return js({"error": "unknown keyfob-test/sso endpoint", "known": known}, 404)


# --------------------------------------------------------------------------
# Entry points for moto_launcher.KeyfobApp
# --------------------------------------------------------------------------

_original_make_environ = WSGIRequestHandler.make_environ


def _make_environ(self: WSGIRequestHandler) -> dict:
    """werkzeug's server drops every header whose name has an underscore (so
    that `a_b` cannot pose as `a-b`), and the portal's bearer token travels in
    `x-amz-sso_bearer_token`. Carry exactly that header, under its own environ
    key, so a look-alike `x-amz-sso-bearer-token` still does not count."""
    environ = _original_make_environ(self)
    for key, value in self.headers.items():
        if key.lower() == BEARER_HEADER:
            environ[BEARER_ENVIRON] = value
    return environ


WSGIRequestHandler.make_environ = _make_environ  # type: ignore[method-assign]


def _bearer(request: Request) -> str | None:
    return request.environ.get(BEARER_ENVIRON)



def owns(environ: dict) -> bool:
    """True for the SSO paths (unless SigV4-signed for another service) and /keyfob-test/sso/."""
    path = environ.get("PATH_INFO", "")
    if path.startswith(TEST_PREFIX) or path == TEST_PREFIX.rstrip("/"):
        return True
    if path not in OIDC_ROUTES and path not in PORTAL_ROUTES:
        return False
    auth = environ.get("HTTP_AUTHORIZATION", "")
    if auth.startswith("AWS4-"):
        m = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", auth)
        return bool(m) and m.group(1) in ("awsssooidc", "awsssoportal")
    return True


def handle(
    environ: dict,
    start_response: Any,
    state: Any,
    clock: Callable[[], dt.datetime],
) -> tuple[str, Any]:
    """Serve one request; returns (label for the launcher's log line, WSGI result).

    `state` is the launcher's STATE (its .lock and .calls Counter are used for
    the shared call counter); `clock` is its expiry_clock().
    """
    emu = emulator(clock)
    request = Request(environ)
    path, method = request.path, request.method

    def count(label: str) -> None:
        with state.lock:
            state.calls[label] += 1

    if path.startswith(TEST_PREFIX) or path == TEST_PREFIX.rstrip("/"):
        return f"{method} {path}", handle_test(emu, request)(environ, start_response)
    service, routes = ("sso-oidc", OIDC_ROUTES) if path in OIDC_ROUTES else ("sso", PORTAL_ROUTES)
    want_method, op = routes[path]
    label = f"{service}:{op}"
    if op == "Authorize" and method == "GET":
        count(label)
        with emu.lock:
            client = emu.clients.get(request.args.get("client_id", ""))
            instance = emu.instances.get(client.issuer_url or "") if client else None
            if instance is not None:
                instance.calls[label] += 1
            return label, authorize(emu, request)(environ, start_response)
    if method != want_method:
        response = _api_response(
            {"message": f"{method} {path} is not an operation"}, 404, "UnknownOperationException"
        )
        return f"{label} (wrong method {method})", response(environ, start_response)
    return label, handle_api(emu, service, op, request, count)(environ, start_response)


# --------------------------------------------------------------------------
# The AWS CLI v2 2.9 endpoint override (it reads no AWS_ENDPOINT_URL*)
# --------------------------------------------------------------------------

CLI_BOTOCORE_DATA = "/usr/lib/python3/dist-packages/awscli/botocore/data"


def write_cli_endpoint_overrides(directory: str, endpoint_url: str, data: str = CLI_BOTOCORE_DATA) -> str:
    """Write DIR/{sso,sso-oidc}/2019-06-10/endpoint-rule-set-1.json sending every
    region to endpoint_url; returns DIR, to be given as AWS_DATA_PATH.

    botocore's loader searches AWS_DATA_PATH before its own data, and loads the
    ruleset for the API version of the builtin service-2.json, so only the
    ruleset is overridden. The parameters block is copied from the shipped
    ruleset (the client passes Region, UseFIPS, UseDualStack, Endpoint).
    """
    for service in ("sso", "sso-oidc"):
        folder = os.path.join(directory, service, "2019-06-10")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(data, service, "2019-06-10", "endpoint-rule-set-1.json")) as f:
            shipped = json.load(f)
        ruleset = {
            "version": shipped.get("version", "1.0"),
            "parameters": shipped["parameters"],
            "rules": [
                {
                    "conditions": [],
                    "endpoint": {"url": endpoint_url, "properties": {}, "headers": {}},
                    "type": "endpoint",
                }
            ],
        }
        with open(os.path.join(folder, "endpoint-rule-set-1.json"), "w") as f:
            json.dump(ruleset, f)
    return directory
