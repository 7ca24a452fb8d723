"""AWS Sign-In emulator for keyfob's tests: the OAuth 2.0 endpoints `aws login` uses.

INTERFACE SUMMARY (what a client or a test is written against)
   Base URL = the launcher's endpoint_url (http://127.0.0.1:PORT); the AWS CLI
   >= 2.32 and the SDKs reach it with AWS_ENDPOINT_URL_SIGNIN=BASE (which also
   steers the CLI's background refresh) or `aws login --endpoint-url BASE`.

   GET  /v1/authorize?response_type=code&client_id=arn:aws:signin:::devtools/same-device
        &state=S&code_challenge_method=SHA-256&scope=openid
        &redirect_uri=http://127.0.0.1:PORT/oauth/callback&code_challenge=C (43 chars,
        BASE64URL(SHA256(verifier)) without '=')[&login_hint=ACCOUNT/USER]
        -> 302 Location: redirect_uri?code=CODE&state=S
           (or ?error=access_denied&error_description=..&state=S)
        login_hint is an emulator extension (the console user to sign in as);
        BROWSER=tests/support/sso_browser.py adds it from KEYFOB_TEST_SIGNIN_USER
        cross-device: client_id=arn:aws:signin:::devtools/cross-device,
        redirect_uri=BASE/v1/sessions/confirmation -> 302 there, and
   GET  /v1/sessions/confirmation?code=CODE&state=S -> 200 text/html page with
        <code id="verification-code">BASE64("state=S&code=CODE")</code>
   POST /v1/token  (CreateOAuth2Token; JSON body = the tokenInput members;
        header DPoP: an ES256 proof, RFC 9449)
        {"clientId": ARN, "grantType": "authorization_code", "code": CODE,
         "codeVerifier": V, "redirectUri": URI}
        {"clientId": ARN, "grantType": "refresh_token", "refreshToken": "ASOR..."}
        -> 200 {"accessToken": {"accessKeyId": "ASIA..", "secretAccessKey": "..",
                "sessionToken": ".."}, "tokenType": "aws_sigv4", "expiresIn": 900,
                "refreshToken": "ASOR...", "idToken": "JWT" (authorization_code only;
                payload "sub" = arn:aws:iam::ACCOUNT:user/NAME)}
        errors: header x-amzn-ErrorType: <Code>, body {"error": ENUM, "message": ".."}:
          400 ValidationException       INVALID_REQUEST (bad input, DPoP, PKCE, code)
          401 AccessDeniedException     AUTHCODE_EXPIRED | TOKEN_EXPIRED
          403 AccessDeniedException     USER_CREDENTIALS_CHANGED | INSUFFICIENT_PERMISSIONS
   POST /v1/revoke?x-amz-client-auth-method=iam (RevokeOAuth2TokenWithIAM; SigV4,
        service "signin", any region) {"token": "ASOR..."} -> 200, empty body
   Test endpoints (unsigned, loopback only, JSON):
     POST /keyfob-test/signin/configure  {"user_name": "alice", "account_id"?:
          "123456789012", "create_user"?: true, "policy"?: {IAM policy},
          "consent"?: "allow"|"deny", "insufficient_permissions"?: false,
          "browser_default"?: true, "session_seconds"?: 43200,
          "credential_seconds"?: 900, "auth_code_ttl"?: 300}
          -> {"principal_arn", "account_id", "user_name", "browser_default"}
     POST /keyfob-test/signin/password-changed {"user_name", "account_id"?}
          -> {"sessions_affected": N}
     GET  /keyfob-test/signin/status[?user_name=U[&account_id=A]] -> counts, no secret
     GET  /keyfob-test/signin/issued-secrets -> {"secrets": [...]}
     POST /keyfob-test/signin/reset -> {"status": "ok"}
   Calls count in GET /keyfob-test/calls as "signin:Authorize",
   "signin:Confirmation", "signin:CreateOAuth2Token", "signin:RevokeOAuth2TokenWithIAM".
   Clocks: codes, sessions (12 h) and credentials (15 min) expire by the
   launcher's POST /keyfob-test/clock; a client decides when to refresh by
   its own clock (the CLI by expiresAt in its cache), so a test that moves
   the launcher's clock ages the client's cache too (check_signin.py does).
   The credentials sign anything as the IAM user (moto checks them), and
   revoke's SigV4 errors are 403 MissingAuthenticationTokenException /
   UnrecognizedClientException / ExpiredTokenException / InvalidSignatureException.

moto has no such service, so tests/support/moto_launcher.py routes these paths
here (same port, same process, same expiry clock, same call counter), the way
it routes sso_emulator.py. The credentials handed out are the launcher's
temporary credentials of kind "signin" (its T11): moto authenticates them,
sts:GetCallerIdentity names the IAM user, and they expire by the launcher's
expiry clock.

SOURCES (what each behaviour follows)
   - botocore's service model signin/2023-01-01/service-2.json (AWS CLI v2
     2.38, awscli/botocore/data): operations, shapes, the error shapes and the
     OAuth2ErrorCode enum; AccessDeniedException's doc maps TOKEN_EXPIRED and
     AUTHCODE_EXPIRED to 401, USER_CREDENTIALS_CHANGED and
     INSUFFICIENT_PERMISSIONS to 403.
   - The AWS CLI v2 source (github.com/aws/aws-cli, branch v2):
     awscli/customizations/login/login.py and utils.py (the authorize URL, the
     exchange, CrossDeviceLoginTokenFetcher.parse_verification_code),
     awscli/botocore/utils.py (build_dpop_header, get_base_sign_in_uri,
     LoginCredentialsLoader, generate_login_cache_key),
     awscli/botocore/credentials.py (LoginCredentialFetcher: the refresh and
     how each error enum is turned into a message),
     awscli/customizations/sso/utils.py (AuthCodeFetcher: the loopback
     http://127.0.0.1:PORT/oauth/callback).
   - RFC 6749 (OAuth 2.0), RFC 7636 (PKCE), RFC 8252 7.3 (loopback redirect),
     RFC 9449 (DPoP), RFC 7638 (JWK thumbprint), RFC 7009 (revocation),
     RFC 7515/7518 (JWS, ES256 signatures as r||s).

BEHAVIOURS
L1 GET /v1/authorize (the browser's page; not in the model: the CLI builds its
   URL, login/utils.py _get_authorization_uri). client_id must be one of the
   two ClientId ARNs (model pattern
   arn:aws:signin:::devtools/(cross-device|same-device)); redirect_uri for
   same-device: http on a loopback address (127.0.0.1, ::1 or localhost; any
   port and path, RFC 8252 7.3); for cross-device exactly
   BASE/v1/sessions/confirmation (CrossDeviceLoginTokenFetcher). Otherwise a
   400 page and never a redirect (RFC 6749 4.1.2.1). Then errors redirect
   with error, error_description and state: unsupported_response_type
   (response_type not code), invalid_request (no state;
   code_challenge_method not "SHA-256", what the CLI sends; code_challenge
   not 43 BASE64URL characters after dropping '=' padding), invalid_scope
   (scope lacks openid). The person at the browser is the console user named
   by login_hint=ACCOUNT/USER (an emulator extension: tests/support/
   sso_browser.py adds it from KEYFOB_TEST_SIGNIN_USER, so parallel tests on
   one launcher sign in as their own users) or else the configured
   browser_default user (none: a 200 page saying so, no redirect). consent
   "deny": error=access_denied. Else a code (single use; auth_code_ttl
   seconds, default 300, by the expiry clock; bound to client_id,
   redirect_uri, challenge and user) and state.
L2 GET /v1/sessions/confirmation (cross-device; the page the person reads the
   code from): with code and state, a 200 page showing
   BASE64("state=S&code=CODE") in <code id="verification-code">, which
   parse_verification_code decodes; with error, a page naming it.
L3 POST /v1/token CreateOAuth2Token, checked in this order:
   a. The body: a JSON object (the model's payload tokenInput, so its members
      are the body's); clientId and grantType required strings; clientId
      matching the ClientId pattern; grantType authorization_code |
      refresh_token (model GrantType). Else 400 ValidationException
      INVALID_REQUEST naming the member.
   b. The DPoP proof (RFC 9449 4.2-4.3; the CLI's build_dpop_header): exactly
      one DPoP header; a compact JWS of three BASE64URL parts; header typ
      "dpop+jwt", alg "ES256", jwk {"kty": "EC", "crv": "P-256", x, y} (at
      most 32 bytes each: the AWS CLI's awscrt drops leading zero bytes; a
      point on the curve, no "d": a public key only); the
      signature 64 bytes r||s (RFC 7518 3.4), valid over header.payload with
      that key; payload htm "POST", htu equal to this request's URL without
      query and fragment (scheme, host, port, path), iat within +-300 s of the
      real clock (not the expiry clock: the client signs with its own), jti a
      string of 1..256 never seen before by this emulator (replay). Else 400
      ValidationException INVALID_REQUEST "Invalid DPoP proof: <why>" (the
      model has no invalid_dpop_proof; RFC 9449 7.1 would answer 400 too).
   c. authorization_code (RFC 6749 4.1.3, RFC 7636 4.6): code, codeVerifier
      and redirectUri required (400); codeVerifier 43..128 of [A-Za-z0-9-._~]
      (model CodeVerifier). Unknown code, a code of another clientId, or
      redeemed before: 400 INVALID_REQUEST (a second redemption also ends the
      sign-in the first one gave, RFC 6749 4.1.2); past auth_code_ttl: 401
      AccessDeniedException AUTHCODE_EXPIRED (the CLI says "expired
      authorization code"); redirectUri not exactly the one /v1/authorize got,
      or BASE64URL(SHA256(verifier)) not the challenge: 400 INVALID_REQUEST
      (the code stays usable). The user configured with
      insufficient_permissions: 403 AccessDeniedException
      INSUFFICIENT_PERMISSIONS. Else a new sign-in session (a token family)
      bound to the proof's key: its RFC 7638 thumbprint (cnf.jkt, as the
      model's RefreshToken doc says).
   d. refresh_token (RFC 6749 6): refreshToken required. Unknown, rotated
      away, revoked or of a family that ended: 401 AccessDeniedException
      TOKEN_EXPIRED (an emulator choice: the model has no invalid_grant and
      that is what makes the CLI say to sign in again); of another clientId:
      400 INVALID_REQUEST; a DPoP key whose thumbprint is not the family's:
      400 ValidationException INVALID_REQUEST "Invalid DPoP proof: the key is
      not the one the refresh token is bound to" (RFC 9449 5); the session
      older than session_seconds (default 43200 = 12 h, counted from the
      sign-in by the expiry clock): 401 TOKEN_EXPIRED; the user's password
      changed after the sign-in (test endpoint): 403 USER_CREDENTIALS_CHANGED
      (the CLI says to sign in with the new password). Else a new refresh
      token replaces the old one (the old one is refused from then on; a
      rotated-out token does not end the family).
   e. Answer (model CreateOAuth2TokenResponseBody): accessToken = moto-valid
      temporary credentials of the IAM user (the launcher's T11: ASIA key,
      secret, session token; they sign any call as the user, and expire
      expiresIn seconds later by the expiry clock), tokenType "aws_sigv4",
      expiresIn = min(credential_seconds (default 900, the model's maximum),
      the seconds left in the session, at least 1), refreshToken "ASOR" + 64
      BASE64URL characters (RevocationToken's pattern), and for
      authorization_code only an idToken: an ES256 JWT signed by the
      emulator's own key, payload {"iss": BASE, "sub": the user's ARN,
      "aud": clientId, "iat", "exp", "auth_time"} (the CLI reads the account
      from sub).
L4 POST /v1/revoke?x-amz-client-auth-method=iam RevokeOAuth2TokenWithIAM
   (model; RFC 7009). SigV4 (AWS Signature Version 4 documentation:
   canonical request, string to sign, signing key), credential scope service
   "signin", any region, X-Amz-Date within 15 minutes of the real clock; the
   access key either temporary credentials this emulator issued (its session
   token required in X-Amz-Security-Token, unexpired by the expiry clock) or
   an active long-term key moto's IAM knows. Errors as AWS's front end answers
   SigV4 failures for JSON services: no Authorization header 403
   MissingAuthenticationTokenException "Missing Authentication Token";
   unknown key or wrong token 403 UnrecognizedClientException "The security
   token included in the request is invalid."; expired 403
   ExpiredTokenException "The security token included in the request is
   expired"; a wrong signature, scope or date 403 InvalidSignatureException.
   Body {"token": "ASOR..."} (model RevocationToken; else 400
   ValidationException INVALID_REQUEST). A token of a family whose principal
   is not the signer: 403 AccessDeniedException INSUFFICIENT_PERMISSIONS,
   nothing revoked. Otherwise the whole family ends (every refresh token of
   it) and the answer is 200 with an empty body, also for an unknown,
   rotated or already revoked token (the model: "still returns 200 OK").
   Credentials issued before stay valid until they expire (revocation is of
   the refresh token chain).
L5 Errors on the wire: header x-amzn-ErrorType: <Code> (what botocore's
   rest-json parser reads, before any ':'), x-amzn-RequestId on every answer,
   body {"error": ENUM, "message": ".."} (the model's error shapes; botocore
   puts the modelled "error" member into the ClientError response, which
   LoginCredentialFetcher reads). A wrong method on a known path, or POST
   /v1/token with the query parameter of another operation sharing the path
   (x-amz-client-auth-method, x-amz-token-request-type,
   x-amz-oauth-token-method: not emulated): 404 UnknownOperationException.
L6 Counting: every request to these paths counts in the launcher's
   /keyfob-test/calls (refused ones too), and per user in
   /keyfob-test/signin/status. Nothing here logs a code, token, verifier,
   proof, header, body or query string.

TEST ENDPOINTS (unsigned, loopback only; JSON in, JSON out; errors are
{"error": "..."}, 400 bad input, 404 unknown thing)
  POST /keyfob-test/signin/configure   add or replace a console user (the IAM
       user the browser signs in as). account_id defaults to the launcher's
       account; create_user (default true) creates the IAM user in moto if
       missing, with an inline policy "keyfob-signin" = policy (default Allow
       * on *); with create_user false the user must exist. browser_default
       (default true) makes it the one /v1/authorize signs in as without
       login_hint. Settings per user: consent, insufficient_permissions,
       session_seconds (1..43200), credential_seconds (1..900), auth_code_ttl
       (1..3600). Existing sign-ins of the user stay.
       -> {"principal_arn", "account_id", "user_name", "browser_default"}
  POST /keyfob-test/signin/password-changed {"user_name", "account_id"?}: every
       sign-in of the user before now (expiry clock) is refused at its next
       refresh with USER_CREDENTIALS_CHANGED; later sign-ins work.
       -> {"sessions_affected": N}
  GET  /keyfob-test/signin/status[?user_name=U[&account_id=A]] -> {"calls":
       {"signin:CreateOAuth2Token": N, ...}, "codes_issued", "codes_redeemed",
       "refreshes", "revocations", "active_families", "families": [{"principal_arn",
       "client_id", "jkt", "refreshes", "active", "ended"}], "dpop_thumbprints":
       [jkt, ... in order first seen], "refused": {"reason": N}, "browser_default"}
       (one user's with user_name, else all; never a secret). Refusal reasons:
       invalid_request, client_id, grant_type; dpop_missing, dpop_malformed,
       dpop_typ, dpop_alg, dpop_jwk, dpop_signature, dpop_htm, dpop_htu,
       dpop_iat, dpop_jti, dpop_replay, dpop_key_mismatch; code_unknown,
       code_reused, authcode_expired, redirect_mismatch, pkce_mismatch,
       insufficient_permissions; token_expired, client_mismatch,
       user_credentials_changed; sigv4_missing, sigv4_malformed, sigv4_key,
       sigv4_expired, sigv4_scope, sigv4_date, sigv4_signature, sigv4_payload;
       method. A user's own counts include only calls that name its code or
       refresh token (a refusal before that, e.g. a bad body, counts globally).
  GET  /keyfob-test/signin/issued-secrets -> {"secrets": [...]}: every code,
       redeemed code verifier, refresh token, secret access key, session
       token and id token issued, for leak scans of files and logs. The only
       endpoint that returns secrets; never log its answer.
  POST /keyfob-test/signin/reset  forget users, codes, families and counts
       (credentials already issued stay valid until they expire).
The launcher's POST /keyfob-test/clock ages codes, sessions and credentials
(expiry checks only; expiresIn and the DPoP iat window stay in real time).

NOT MODELLED
   - The console sign-in itself (password, MFA): the configured user stands
     for the person at the browser; CreateOAuth2TokenWithIAM, Introspect and
     the control-plane operations of the model; the form-encoded body the
     model's documentation also allows; DPoP nonces (RFC 9449 8); ath.
   - Scoped-down permissions: the credentials act with the user's own
     policies (the launcher's T11); AWS also requires
     signin:AuthorizeOAuth2Access, which is not checked here.
   - Regions: one endpoint for every region; tokens are random strings, not
     AWS's encrypted ones.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import html
import ipaddress
import json
import re
import secrets
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import quote, unquote, urlencode, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from moto.iam.models import iam_backends
from werkzeug.wrappers import Request, Response

CLIENT_IDS = {
    "arn:aws:signin:::devtools/same-device": "same-device",
    "arn:aws:signin:::devtools/cross-device": "cross-device",
}
CONFIRMATION_PATH = "/v1/sessions/confirmation"
ROUTES = {
    "/v1/authorize": ("GET", "Authorize"),
    CONFIRMATION_PATH: ("GET", "Confirmation"),
    "/v1/token": ("POST", "CreateOAuth2Token"),
    "/v1/revoke": ("POST", "RevokeOAuth2TokenWithIAM"),
}
TEST_PREFIX = "/keyfob-test/signin/"
# Query parameters that make POST /v1/token another operation (the model's
# CreateOAuth2TokenWithIAM, CreateBearerToken, CreateOAuth2TokenWithTokenExchange).
OTHER_TOKEN_OPERATIONS = ("x-amz-client-auth-method", "x-amz-token-request-type", "x-amz-oauth-token-method")
GRANTS = ("authorization_code", "refresh_token")
DPOP_IAT_WINDOW = 300  # seconds either side of the real clock
SIGV4_DATE_WINDOW = 900  # AWS: a request signed more than 15 minutes off is refused
VERIFIER_RE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")  # model CodeVerifier, RFC 7636 4.1
CHALLENGE_RE = re.compile(r"[A-Za-z0-9_-]{43}")  # BASE64URL(32 bytes), no padding
REVOCATION_RE = re.compile(r"ASOR[A-Za-z0-9+/=_\-]+")  # model RevocationToken
ACCOUNT_ID_RE = re.compile(r"\d{12}")
USER_NAME_RE = re.compile(r"[\w+=,.@-]{1,64}")
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}

# Error code -> HTTP status (model; AccessDeniedException's by its "error" value, L5).
ERROR_STATUS = {
    "ValidationException": 400,
    "TooManyRequestsError": 429,
    "InternalServerException": 500,
    "UnknownOperationException": 404,
    "MissingAuthenticationTokenException": 403,
    "UnrecognizedClientException": 403,
    "ExpiredTokenException": 403,
    "InvalidSignatureException": 403,
}
ACCESS_DENIED_STATUS = {
    "TOKEN_EXPIRED": 401,
    "AUTHCODE_EXPIRED": 401,
    "USER_CREDENTIALS_CHANGED": 403,
    "INSUFFICIENT_PERMISSIONS": 403,
}
SETTINGS_DEFAULTS: dict[str, Any] = {
    "consent": "allow",
    "insufficient_permissions": False,
    "session_seconds": 43200,
    "credential_seconds": 900,
    "auth_code_ttl": 300,
}
SETTINGS_LIMITS = {
    "session_seconds": (1, 43200),
    "credential_seconds": (1, 900),
    "auth_code_ttl": (1, 3600),
}


# --------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------


@dataclass
class ConsoleUser:
    account_id: str
    user_name: str
    principal_arn: str
    settings: dict[str, Any]
    password_changed_at: float | None = None  # expiry-clock epoch seconds
    calls: Counter = field(default_factory=Counter)
    refused: Counter = field(default_factory=Counter)
    codes_issued: int = 0
    codes_redeemed: int = 0
    refreshes: int = 0
    revocations: int = 0

    @property
    def key(self) -> str:
        return f"{self.account_id}/{self.user_name}"


@dataclass
class AuthCode:
    code: str
    client_id: str
    user_key: str
    redirect_uri: str
    challenge: str
    expires_at: float
    redeemed: bool = False
    family_id: str | None = None


@dataclass
class Family:
    """One sign-in: its refresh tokens live and die together (L3c-d, L4)."""

    family_id: str
    user_key: str
    principal_arn: str
    client_id: str
    jkt: str  # RFC 7638 thumbprint of the DPoP key at redemption
    signed_in_at: float  # expiry-clock epoch seconds
    current_refresh: str
    refreshes: int = 0
    ended: str | None = None  # why: "revoked", "code-reuse"


@dataclass
class Issued:
    """Temporary credentials this emulator handed out (for L4's signature check)."""

    secret: str
    token: str
    account_id: str
    user_name: str
    principal_arn: str
    expires_at: float


class ApiError(Exception):
    def __init__(self, code: str, message: str, error: str = "INVALID_REQUEST", reason: str = ""):
        super().__init__(message)
        self.code = code
        self.message = message
        self.error = error
        self.reason = reason or code


class TestError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def invalid(message: str, reason: str = "invalid_request") -> ApiError:
    return ApiError("ValidationException", message, "INVALID_REQUEST", reason)


def denied(error: str, message: str) -> ApiError:
    return ApiError("AccessDeniedException", message, error, error.lower())


class Emulator:
    def __init__(self, clock: Callable[[], dt.datetime], mint: Callable[..., dict]) -> None:
        self.clock = clock
        self.mint = mint
        self.lock = threading.RLock()
        self.id_key = ec.generate_private_key(ec.SECP256R1())  # signs idTokens
        self.default_account = "123456789012"  # the launcher's; handle() sets it
        self.reset()

    def reset(self) -> None:
        self.users: dict[str, ConsoleUser] = {}
        self.browser_default: str | None = None
        self.codes: dict[str, AuthCode] = {}
        self.families: dict[str, Family] = {}
        self.refresh_tokens: dict[str, str] = {}  # token -> family id (every one ever issued)
        self.issued_creds: dict[str, Issued] = {}  # access key id -> Issued
        self.seen_jti: set[str] = set()
        self.thumbprints: list[str] = []
        self.secrets: list[str] = []
        self.calls: Counter = Counter()
        self.refused: Counter = Counter()

    def now(self) -> float:
        """Epoch seconds by the launcher's expiry clock (naive UTC datetime)."""
        return (self.clock() - dt.datetime(1970, 1, 1)).total_seconds()

    def issue(self, *values: str) -> None:
        self.secrets.extend(values)


EMULATOR: Emulator | None = None
_EMULATOR_LOCK = threading.Lock()


def emulator(clock: Callable[[], dt.datetime], mint: Callable[..., dict]) -> Emulator:
    global EMULATOR
    with _EMULATOR_LOCK:
        if EMULATOR is None:
            EMULATOR = Emulator(clock, mint)
        return EMULATOR


# --------------------------------------------------------------------------
# Small crypto helpers (RFC 7515, 7518, 7638, 7636)
# --------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict BASE64URL without padding (RFC 7515 2): anything else raises ValueError."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
        raise ValueError("not BASE64URL")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 4.2 S256, without the '=' the AWS CLI strips."""
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def jwk_thumbprint(jwk: dict) -> str:
    """RFC 7638 3: SHA-256 over the required members in lexicographic order, no spaces."""
    canonical = json.dumps(
        {"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"], "y": jwk["y"]}, separators=(",", ":"), sort_keys=True
    )
    return b64url(hashlib.sha256(canonical.encode()).digest())


def es256_sign(key: ec.EllipticCurvePrivateKey, signing_input: bytes) -> bytes:
    """RFC 7518 3.4: the signature is r||s, 32 bytes each."""
    r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def make_jwt(key: ec.EllipticCurvePrivateKey, header: dict, payload: dict) -> str:
    head = b64url(json.dumps(header, separators=(",", ":")).encode())
    body = b64url(json.dumps(payload, separators=(",", ":")).encode())
    return f"{head}.{body}.{b64url(es256_sign(key, f'{head}.{body}'.encode()))}"


def _same_url(a: str, b: str) -> bool:
    """RFC 9449 4.3 step 9: htu against the request URI, without query and
    fragment; scheme and host compared case-insensitively, default ports dropped."""
    try:
        pa, pb = urlsplit(a), urlsplit(b)
        ports = {"http": 80, "https": 443}

        def norm(p: Any) -> tuple:
            return (p.scheme.lower(), (p.hostname or "").lower(), p.port or ports.get(p.scheme.lower()), p.path or "/")

        return norm(pa) == norm(pb)
    except ValueError:
        return False


def verify_dpop(emu: Emulator, request: Request) -> str:
    """L3b: checks the DPoP proof of this request; returns the key's thumbprint."""
    proofs = request.headers.getlist("DPoP")
    if len(proofs) != 1:
        raise invalid("Invalid DPoP proof: exactly one DPoP header is required", "dpop_missing")
    parts = proofs[0].split(".")
    if len(parts) != 3:
        raise invalid("Invalid DPoP proof: not a compact JWS", "dpop_malformed")
    try:
        header = json.loads(b64url_decode(parts[0]))
        payload = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except ValueError:
        raise invalid("Invalid DPoP proof: not a compact JWS", "dpop_malformed") from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise invalid("Invalid DPoP proof: not a compact JWS", "dpop_malformed")
    if header.get("typ") != "dpop+jwt":
        raise invalid("Invalid DPoP proof: typ must be dpop+jwt", "dpop_typ")
    if header.get("alg") != "ES256":
        raise invalid("Invalid DPoP proof: alg must be ES256", "dpop_alg")
    jwk = header.get("jwk")
    if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or "d" in jwk:
        raise invalid("Invalid DPoP proof: jwk must be a public EC P-256 key", "dpop_jwk")
    try:
        x, y = b64url_decode(str(jwk.get("x", ""))), b64url_decode(str(jwk.get("y", "")))
        # RFC 7518 6.2.1.2 says the full 32 bytes, but the AWS CLI's
        # awscrt (EC.get_public_coords) drops a coordinate's leading zero
        # bytes, 1 key in about 64, and AWS accepts that CLI's proofs: at
        # most 32 bytes, read as the number they are.
        if not (1 <= len(x) <= 32 and 1 <= len(y) <= 32):
            raise ValueError("coordinates must be at most 32 bytes")
        key = ec.EllipticCurvePublicNumbers(
            int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
        ).public_key()
    except ValueError:
        raise invalid("Invalid DPoP proof: jwk is not a P-256 point", "dpop_jwk") from None
    if len(signature) != 64:
        raise invalid("Invalid DPoP proof: the signature must be 64 bytes r||s", "dpop_signature")
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        key.verify(der, f"{parts[0]}.{parts[1]}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise invalid("Invalid DPoP proof: the signature does not verify", "dpop_signature") from None
    if payload.get("htm") != request.method:
        raise invalid("Invalid DPoP proof: htm does not match the request method", "dpop_htm")
    htu = payload.get("htu")
    if not isinstance(htu, str) or not _same_url(htu, request.base_url):
        raise invalid("Invalid DPoP proof: htu does not match the request URL", "dpop_htu")
    iat = payload.get("iat")
    # A NumericDate (RFC 7519 2): an integer or not; the CLI sends an integer.
    if not isinstance(iat, (int, float)) or isinstance(iat, bool) or abs(time.time() - iat) > DPOP_IAT_WINDOW:
        raise invalid("Invalid DPoP proof: iat is missing or too far from now", "dpop_iat")
    jti = payload.get("jti")
    if not isinstance(jti, str) or not 1 <= len(jti) <= 256:
        raise invalid("Invalid DPoP proof: jti must be a string", "dpop_jti")
    if jti in emu.seen_jti:
        raise invalid("Invalid DPoP proof: jti was used before", "dpop_replay")
    emu.seen_jti.add(jti)
    jkt = jwk_thumbprint(jwk)
    if jkt not in emu.thumbprints:
        emu.thumbprints.append(jkt)
    return jkt


# --------------------------------------------------------------------------
# L1, L2: the browser's pages
# --------------------------------------------------------------------------


def _page(status: int, text: str, extra: str = "") -> Response:
    body = (
        "<!doctype html><title>AWS Sign-In (keyfob emulator)</title>"
        f"<p>{html.escape(text)}</p>{extra}"
    )
    return Response(body, status, mimetype="text/html")


def _with_query(uri: str, params: dict[str, str]) -> str:
    return uri + ("&" if urlsplit(uri).query else "?") + urlencode(params)


def _is_loopback_host(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address((host or "").strip("[]")).is_loopback
    except ValueError:
        return False


def _redirect_ok(kind: str, redirect_uri: str, base: str) -> bool:
    if kind == "cross-device":
        return redirect_uri == base + CONFIRMATION_PATH
    try:
        parts = urlsplit(redirect_uri)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    return parts.scheme == "http" and _is_loopback_host(parts.hostname) and not parts.fragment


def _base(request: Request) -> str:
    return request.host_url.rstrip("/")


def authorize(emu: Emulator, request: Request, user: ConsoleUser | None) -> Response:
    """L1: GET /v1/authorize."""
    args = request.args
    kind = CLIENT_IDS.get(args.get("client_id", ""))
    if kind is None:
        return _page(400, "Invalid client_id: not an AWS Sign-In devtools client.")
    redirect_uri = args.get("redirect_uri", "")
    if not _redirect_ok(kind, redirect_uri, _base(request)):
        # RFC 6749 4.1.2.1: never redirect to an unverified URI.
        return _page(400, "Invalid redirect_uri for this client.")
    state = args.get("state")

    def refuse(error: str, description: str) -> Response:
        params = {"error": error, "error_description": description}
        if state is not None:
            params["state"] = state
        return Response("", 302, headers={"Location": _with_query(redirect_uri, params)})

    if args.get("response_type") != "code":
        return refuse("unsupported_response_type", "response_type must be code")
    if not state:
        return refuse("invalid_request", "state is required")
    if args.get("code_challenge_method") != "SHA-256":
        return refuse("invalid_request", "code_challenge_method must be SHA-256")
    challenge = args.get("code_challenge", "").rstrip("=")
    if not CHALLENGE_RE.fullmatch(challenge):
        return refuse("invalid_request", "code_challenge must be the BASE64URL of a SHA-256 digest")
    if "openid" not in (args.get("scope") or "").split():
        return refuse("invalid_scope", "scope must include openid")
    if user is None:
        return _page(
            200,
            "Nobody is signed in to the console in the emulator's browser "
            "(login_hint names no configured user, or none is the browser_default: "
            "configure one through /keyfob-test/signin/configure).",
        )
    if user.settings["consent"] == "deny":
        return refuse("access_denied", "The user denied the authorization request")
    code = AuthCode(
        code=secrets.token_urlsafe(48),
        client_id=args["client_id"],
        user_key=user.key,
        redirect_uri=redirect_uri,
        challenge=challenge,
        expires_at=emu.now() + user.settings["auth_code_ttl"],
    )
    emu.codes[code.code] = code
    emu.issue(code.code)
    user.codes_issued += 1
    return Response("", 302, headers={"Location": _with_query(redirect_uri, {"code": code.code, "state": state})})


def confirmation(request: Request) -> Response:
    """L2: the cross-device page showing the code to type into the CLI."""
    args = request.args
    if "error" in args:
        return _page(200, f"Sign-in was not completed: {args.get('error')}.")
    code, state = args.get("code"), args.get("state")
    if not code or not state:
        return _page(400, "This page needs code and state.")
    verification = base64.b64encode(urlencode({"state": state, "code": code}).encode()).decode()
    return _page(
        200,
        "Enter this authorization code in the AWS CLI:",
        f'<p><code id="verification-code">{html.escape(verification)}</code></p>',
    )


# --------------------------------------------------------------------------
# L3: CreateOAuth2Token
# --------------------------------------------------------------------------


def _json_body(request: Request) -> dict:
    raw = request.get_data(cache=True)
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        raise invalid("The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object")
    return body


def _member(body: dict, name: str, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise invalid(f"{name} is required")
        return None
    if not isinstance(value, str) or not value:
        raise invalid(f"{name} must be a non-empty string")
    return value


def _credentials(emu: Emulator, user: ConsoleUser, family: Family) -> tuple[dict, int]:
    left = family.signed_in_at + user.settings["session_seconds"] - emu.now()
    seconds = max(1, min(user.settings["credential_seconds"], int(left)))
    minted = emu.mint(user.account_id, user.user_name, seconds)
    emu.issued_creds[minted["access_key_id"]] = Issued(
        secret=minted["secret_access_key"],
        token=minted["session_token"],
        account_id=user.account_id,
        user_name=user.user_name,
        principal_arn=user.principal_arn,
        expires_at=emu.now() + seconds,
    )
    emu.issue(minted["secret_access_key"], minted["session_token"])
    access = {
        "accessKeyId": minted["access_key_id"],
        "secretAccessKey": minted["secret_access_key"],
        "sessionToken": minted["session_token"],
    }
    return access, seconds


def _new_refresh(emu: Emulator, family: Family) -> str:
    token = "ASOR" + secrets.token_urlsafe(48)
    emu.refresh_tokens[token] = family.family_id
    family.current_refresh = token
    emu.issue(token)
    return token


def _redeem(emu: Emulator, request: Request, body: dict, client_id: str, jkt: str) -> dict:
    """L3c: grant authorization_code."""
    code_text = _member(body, "code")
    verifier = _member(body, "codeVerifier")
    redirect_uri = _member(body, "redirectUri")
    if not VERIFIER_RE.fullmatch(verifier or ""):
        raise invalid("codeVerifier must be 43-128 characters of [A-Za-z0-9-._~]")
    code = emu.codes.get(code_text or "")
    if code is None or code.client_id != client_id:
        raise invalid("The authorization code is not valid", "code_unknown")
    if code.redeemed:
        family = emu.families.get(code.family_id or "")
        if family is not None and family.ended is None:
            family.ended = "code-reuse"  # RFC 6749 4.1.2: revoke what the code gave
        raise invalid("The authorization code was already used", "code_reused")
    if emu.now() >= code.expires_at:
        raise denied("AUTHCODE_EXPIRED", "The authorization code has expired")
    if redirect_uri != code.redirect_uri:
        raise invalid("redirectUri does not match the authorization request", "redirect_mismatch")
    if not hmac.compare_digest(pkce_challenge(verifier or ""), code.challenge):
        raise invalid("codeVerifier does not match the code challenge", "pkce_mismatch")
    user = emu.users.get(code.user_key)
    if user is None:
        raise invalid("The authorization code is not valid", "code_unknown")
    if user.settings["insufficient_permissions"]:
        raise denied("INSUFFICIENT_PERMISSIONS", "User is not authorized to perform signin:AuthorizeOAuth2Access")
    code.redeemed = True
    emu.issue(verifier or "")
    family = Family(
        family_id=uuid.uuid4().hex,
        user_key=user.key,
        principal_arn=user.principal_arn,
        client_id=client_id,
        jkt=jkt,
        signed_in_at=emu.now(),
        current_refresh="",
    )
    code.family_id = family.family_id
    emu.families[family.family_id] = family
    user.codes_redeemed += 1
    access, seconds = _credentials(emu, user, family)
    issued_at = int(time.time())
    id_token = make_jwt(
        emu.id_key,
        {"alg": "ES256", "typ": "JWT", "kid": "keyfob-signin-emulator"},
        {
            "iss": _base(request),
            "sub": user.principal_arn,
            "aud": client_id,
            "iat": issued_at,
            "auth_time": issued_at,
            "exp": issued_at + user.settings["session_seconds"],
        },
    )
    emu.issue(id_token)
    return {
        "accessToken": access,
        "tokenType": "aws_sigv4",
        "expiresIn": seconds,
        "refreshToken": _new_refresh(emu, family),
        "idToken": id_token,
    }


def _refresh(emu: Emulator, body: dict, client_id: str, jkt: str) -> dict:
    """L3d: grant refresh_token."""
    token = _member(body, "refreshToken")
    family = emu.families.get(emu.refresh_tokens.get(token or "", ""))
    expired = "Your session has expired. Please sign in again."
    if family is None or family.ended is not None or family.current_refresh != token:
        raise denied("TOKEN_EXPIRED", expired)
    if family.client_id != client_id:
        raise invalid("The refresh token was issued to another client", "client_mismatch")
    if family.jkt != jkt:
        raise invalid(
            "Invalid DPoP proof: the key is not the one the refresh token is bound to", "dpop_key_mismatch"
        )
    user = emu.users.get(family.user_key)
    if user is None or emu.now() >= family.signed_in_at + user.settings["session_seconds"]:
        raise denied("TOKEN_EXPIRED", expired)
    if user.password_changed_at is not None and family.signed_in_at < user.password_changed_at:
        raise denied("USER_CREDENTIALS_CHANGED", "The user's password changed since this sign-in")
    family.refreshes += 1
    user.refreshes += 1
    access, seconds = _credentials(emu, user, family)
    return {
        "accessToken": access,
        "tokenType": "aws_sigv4",
        "expiresIn": seconds,
        "refreshToken": _new_refresh(emu, family),
    }


def _user_of_token_request(emu: Emulator, request: Request) -> ConsoleUser | None:
    """Which console user a /v1/token call concerns (for per-user counts)."""
    try:
        body = json.loads(request.get_data(cache=True) or b"{}")
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    code = emu.codes.get(str(body.get("code", "")))
    if code is not None:
        return emu.users.get(code.user_key)
    family = emu.families.get(emu.refresh_tokens.get(str(body.get("refreshToken", "")), ""))
    return emu.users.get(family.user_key) if family else None


def create_token(emu: Emulator, request: Request) -> dict:
    body = _json_body(request)
    client_id = _member(body, "clientId")
    grant = _member(body, "grantType")
    if client_id not in CLIENT_IDS:
        raise invalid("clientId must match arn:aws:signin:::devtools/(cross-device|same-device)", "client_id")
    if grant not in GRANTS:
        raise invalid("grantType must be authorization_code or refresh_token", "grant_type")
    jkt = verify_dpop(emu, request)
    if grant == "authorization_code":
        return _redeem(emu, request, body, client_id or "", jkt)
    return _refresh(emu, body, client_id or "", jkt)


# --------------------------------------------------------------------------
# L4: RevokeOAuth2TokenWithIAM, SigV4
# --------------------------------------------------------------------------

AUTH_RE = re.compile(
    r"AWS4-HMAC-SHA256 Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request,\s*"
    r"SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})"
)


def _uri_encode(text: str, slash: bool = True) -> str:
    return quote(text, safe="-_.~" + ("/" if slash else ""))


def _canonical_query(request: Request) -> str:
    pairs = []
    raw = request.query_string.decode("latin-1")
    for item in raw.split("&") if raw else []:
        name, _, value = item.partition("=")
        pairs.append((_uri_encode(unquote(name), False), _uri_encode(unquote(value), False)))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _caller_secret(emu: Emulator, key_id: str, request: Request) -> tuple[str, str, str]:
    """(secret, account, user name) for a SigV4 access key, or ApiError."""
    unknown = ApiError(
        "UnrecognizedClientException", "The security token included in the request is invalid.", "", "sigv4_key"
    )
    issued = emu.issued_creds.get(key_id)
    if issued is not None:
        if not hmac.compare_digest(request.headers.get("X-Amz-Security-Token", ""), issued.token):
            raise unknown
        if emu.now() >= issued.expires_at:
            raise ApiError(
                "ExpiredTokenException", "The security token included in the request is expired", "", "sigv4_expired"
            )
        return issued.secret, issued.account_id, issued.user_name
    for account_id, backends in list(iam_backends.items()):
        for backend in list(backends.values()):
            for user in list(backend.users.values()):
                for key in user.access_keys:
                    if key.access_key_id == key_id and key.status == "Active":
                        return key.secret_access_key, account_id, user.name
    raise unknown


def verify_sigv4(emu: Emulator, request: Request) -> tuple[str, str]:
    """L4: checks the request's SigV4 signature; returns (account, user name)."""
    auth = request.headers.get("Authorization", "")
    if not auth:
        raise ApiError("MissingAuthenticationTokenException", "Missing Authentication Token", "", "sigv4_missing")
    bad = "The request signature we calculated does not match the signature you provided."
    m = AUTH_RE.fullmatch(auth.strip())
    if m is None:
        raise ApiError("InvalidSignatureException", bad, "", "sigv4_malformed")
    key_id, date, region, service, signed_headers, signature = m.groups()
    secret, account_id, user_name = _caller_secret(emu, key_id, request)
    if service != "signin":
        raise ApiError("InvalidSignatureException", "Credential should be scoped to correct service: 'signin'.",
                       "", "sigv4_scope")
    amz_date = request.headers.get("X-Amz-Date", "")
    try:
        when = dt.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        raise ApiError("InvalidSignatureException", bad, "", "sigv4_date") from None
    if amz_date[:8] != date or abs(time.time() - when.timestamp()) > SIGV4_DATE_WINDOW:
        raise ApiError("InvalidSignatureException", "Signature expired or not yet valid", "", "sigv4_date")
    names = signed_headers.split(";")
    if "host" not in names:
        raise ApiError("InvalidSignatureException", bad, "", "sigv4_malformed")
    body = request.get_data(cache=True)
    canonical_headers = "".join(
        f"{name}:{' '.join(','.join(request.headers.getlist(name)).split())}\n" for name in names
    )
    payload_hash = request.headers.get("X-Amz-Content-SHA256") or hashlib.sha256(body).hexdigest()
    canonical = "\n".join(
        [request.method, _uri_encode(request.path), _canonical_query(request), canonical_headers, signed_headers,
         payload_hash]
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    expected = hmac.new(_signing_key(secret, date, region, service), to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise ApiError("InvalidSignatureException", bad, "", "sigv4_signature")
    if payload_hash != hashlib.sha256(body).hexdigest() and payload_hash != "UNSIGNED-PAYLOAD":
        raise ApiError("InvalidSignatureException", bad, "", "sigv4_payload")
    return account_id, user_name


def revoke(emu: Emulator, request: Request) -> ConsoleUser | None:
    """L4; returns the family's user (for counts) after revoking."""
    if request.args.get("x-amz-client-auth-method") != "iam":
        raise invalid("x-amz-client-auth-method must be iam")
    account_id, user_name = verify_sigv4(emu, request)
    body = _json_body(request)
    token = _member(body, "token")
    if not REVOCATION_RE.fullmatch(token or "") or len(token or "") > 4096:
        raise invalid("token must be an AWS Sign-In refresh token (ASOR...)")
    family = emu.families.get(emu.refresh_tokens.get(token or "", ""))
    if family is None:
        return None  # the model: unknown tokens still answer 200
    user = emu.users.get(family.user_key)
    if family.user_key != f"{account_id}/{user_name}":
        raise denied("INSUFFICIENT_PERMISSIONS", "The token was not issued to the caller")
    if family.ended is None:
        family.ended = "revoked"
        if user is not None:
            user.revocations += 1
    return user


# --------------------------------------------------------------------------
# L5: wire format
# --------------------------------------------------------------------------


def _api_response(body: dict | None, status: int = 200, error_type: str | None = None) -> Response:
    headers = {"x-amzn-RequestId": str(uuid.uuid4())}
    if error_type:
        headers["x-amzn-ErrorType"] = error_type
    text = json.dumps(body) if body is not None else ""
    return Response(text, status, headers=headers, mimetype="application/json")


def _error_response(err: ApiError) -> Response:
    if err.code == "AccessDeniedException":
        status = ACCESS_DENIED_STATUS.get(err.error, 403)
    else:
        status = ERROR_STATUS.get(err.code, 400)
    body: dict[str, str] = {"message": err.message}
    if err.error:
        body = {"error": err.error, "message": err.message}
    return _api_response(body, status, err.code)


# --------------------------------------------------------------------------
# Test endpoints
# --------------------------------------------------------------------------


def _t_str(body: dict, name: str, default: str | None = None) -> str:
    value = body.get(name, default)
    if not isinstance(value, str) or not value:
        raise TestError(400, f"{name} must be a non-empty string")
    return value


def _t_user(emu: Emulator, body: dict) -> ConsoleUser:
    key = f"{_t_str(body, 'account_id', emu.default_account)}/{_t_str(body, 'user_name')}"
    user = emu.users.get(key)
    if user is None:
        raise TestError(404, f"no console user {key}")
    return user


def t_configure(emu: Emulator, body: dict) -> dict:
    account_id = _t_str(body, "account_id", emu.default_account)
    user_name = _t_str(body, "user_name")
    if not ACCOUNT_ID_RE.fullmatch(account_id):
        raise TestError(400, "account_id must be 12 digits")
    if not USER_NAME_RE.fullmatch(user_name):
        raise TestError(400, "user_name must be 1-64 of [\\w+=,.@-]")
    settings = dict(SETTINGS_DEFAULTS)
    for name, default in SETTINGS_DEFAULTS.items():
        value = body.get(name, default)
        if name in SETTINGS_LIMITS:
            low, high = SETTINGS_LIMITS[name]
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise TestError(400, f"{name} must be an integer in {low}..{high}")
        elif name == "consent" and value not in ("allow", "deny"):
            raise TestError(400, "consent must be allow or deny")
        elif name == "insufficient_permissions" and not isinstance(value, bool):
            raise TestError(400, "insufficient_permissions must be true or false")
        settings[name] = value
    create = body.get("create_user", True)
    policy = body.get("policy", ALLOW_ALL)
    if not isinstance(create, bool) or not isinstance(policy, dict):
        raise TestError(400, "create_user must be a boolean and policy an object")
    iam = iam_backends[account_id]["aws"]
    if user_name not in iam.users:
        if not create:
            raise TestError(404, f"IAM user {user_name} does not exist in {account_id}")
        iam.create_user(region_name="us-east-1", user_name=user_name, path="/", tags=[])
        iam.put_user_policy(user_name, "keyfob-signin", json.dumps(policy))
    arn = iam.get_user(user_name).arn
    user = ConsoleUser(account_id=account_id, user_name=user_name, principal_arn=arn, settings=settings)
    old = emu.users.get(user.key)
    if old is not None:  # keep its counts and password history
        user.calls, user.refused, user.password_changed_at = old.calls, old.refused, old.password_changed_at
        user.codes_issued, user.codes_redeemed = old.codes_issued, old.codes_redeemed
        user.refreshes, user.revocations = old.refreshes, old.revocations
    emu.users[user.key] = user
    default = body.get("browser_default", True)
    if not isinstance(default, bool):
        raise TestError(400, "browser_default must be true or false")
    if default:
        emu.browser_default = user.key
    return {"principal_arn": arn, "account_id": account_id, "user_name": user_name,
            "browser_default": emu.browser_default == user.key}


def t_password_changed(emu: Emulator, body: dict) -> dict:
    user = _t_user(emu, body)
    user.password_changed_at = emu.now()
    affected = sum(1 for f in emu.families.values() if f.user_key == user.key and f.ended is None)
    return {"sessions_affected": affected}


def t_reset(emu: Emulator, body: dict) -> dict:
    emu.reset()
    return {"status": "ok"}


def _family_view(emu: Emulator, family: Family) -> dict:
    user = emu.users.get(family.user_key)
    over = user is None or emu.now() >= family.signed_in_at + user.settings["session_seconds"]
    return {
        "principal_arn": family.principal_arn,
        "client_id": family.client_id,
        "jkt": family.jkt,
        "refreshes": family.refreshes,
        "active": family.ended is None and not over,
        "ended": family.ended or ("expired" if over else None),
    }


def t_status(emu: Emulator, query: dict) -> dict:
    if "user_name" in query:
        user = _t_user(emu, query)
        users = [user]
        calls, refused = dict(user.calls), dict(user.refused)
    else:
        users = list(emu.users.values())
        calls, refused = dict(emu.calls), dict(emu.refused)
    keys = {u.key for u in users}
    families = [_family_view(emu, f) for f in emu.families.values() if f.user_key in keys]
    thumbprints = [f["jkt"] for f in families] if "user_name" in query else list(emu.thumbprints)
    return {
        "calls": calls,
        "refused": refused,
        "codes_issued": sum(u.codes_issued for u in users),
        "codes_redeemed": sum(u.codes_redeemed for u in users),
        "refreshes": sum(u.refreshes for u in users),
        "revocations": sum(u.revocations for u in users),
        "active_families": sum(1 for f in families if f["active"]),
        "families": families,
        "dpop_thumbprints": list(dict.fromkeys(thumbprints)),
        "browser_default": emu.browser_default,
    }


def t_issued_secrets(emu: Emulator, query: dict) -> dict:
    return {"secrets": sorted(set(s for s in emu.secrets if s))}


TEST_POST = {"configure": t_configure, "password-changed": t_password_changed, "reset": t_reset}
TEST_GET = {"status": t_status, "issued-secrets": t_issued_secrets}


def handle_test(emu: Emulator, request: Request) -> Response:
    def js(obj: Any, status: int = 200) -> Response:
        return Response(json.dumps(obj, sort_keys=True), status, mimetype="application/json")

    if not _is_loopback_host((request.remote_addr or "").split("%")[0]):
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
                return js(TEST_GET[name](emu, dict(request.args.items())))
    except TestError as err:
        return js({"error": err.message}, err.status)
    known = [f"POST {TEST_PREFIX}{n}" for n in TEST_POST] + [f"GET {TEST_PREFIX}{n}" for n in TEST_GET]
    return js({"error": "unknown keyfob-test/signin endpoint", "known": known}, 404)


# --------------------------------------------------------------------------
# Entry points for moto_launcher.KeyfobApp
# --------------------------------------------------------------------------


def owns(environ: dict) -> bool:
    """True for the Sign-In paths (unless SigV4-signed for another service) and /keyfob-test/signin/."""
    path = environ.get("PATH_INFO", "")
    if path.startswith(TEST_PREFIX) or path == TEST_PREFIX.rstrip("/"):
        return True
    if path not in ROUTES:
        return False
    auth = environ.get("HTTP_AUTHORIZATION", "")
    if auth.startswith("AWS4-"):
        m = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", auth)
        return not m or m.group(1) == "signin"  # a malformed one is ours to refuse
    return True


def _browser_user(emu: Emulator, request: Request) -> ConsoleUser | None:
    hint = request.args.get("login_hint")
    if hint:
        return emu.users.get(hint)
    return emu.users.get(emu.browser_default or "")


def handle(
    environ: dict,
    start_response: Any,
    state: Any,
    clock: Callable[[], dt.datetime],
    mint: Callable[..., dict],
    default_account: str,
) -> tuple[str, Any]:
    """Serve one request; returns (label for the launcher's log line, WSGI result).

    `state` is the launcher's STATE (its .lock and .calls Counter are used for
    the shared call counter); `clock` is its expiry_clock(); `mint(account_id,
    user_name, seconds)` makes the launcher's T11 credentials and returns
    {"access_key_id", "secret_access_key", "session_token"}.
    """
    emu = emulator(clock, mint)
    emu.default_account = default_account
    request = Request(environ)
    path, method = request.path, request.method
    if path.startswith(TEST_PREFIX) or path == TEST_PREFIX.rstrip("/"):
        return f"{method} {path}", handle_test(emu, request)(environ, start_response)
    want, op = ROUTES[path]
    label = f"signin:{op}"
    with state.lock:
        state.calls[label] += 1
    with emu.lock:
        emu.calls[label] += 1
        user: ConsoleUser | None = None
        try:
            if method != want:
                raise ApiError("UnknownOperationException", f"{method} {path} is not an operation", "", "method")
            if op == "CreateOAuth2Token" and any(name in request.args for name in OTHER_TOKEN_OPERATIONS):
                # CreateOAuth2TokenWithIAM and friends share the path: not modelled, and
                # must not pass for CreateOAuth2Token.
                raise ApiError("UnknownOperationException", "This /v1/token operation is not emulated", "",
                               "method")
            if op == "Authorize":
                user = _browser_user(emu, request)
                response = authorize(emu, request, user)
            elif op == "Confirmation":
                response = confirmation(request)
            elif op == "CreateOAuth2Token":
                user = _user_of_token_request(emu, request)
                response = _api_response(create_token(emu, request))
            else:
                user = revoke(emu, request)
                response = _api_response(None)
        except ApiError as err:
            emu.refused[err.reason] += 1
            if user is not None:
                user.refused[err.reason] += 1
            response = _error_response(err)
        except Exception as e:  # noqa: BLE001 - a bug here must not leak a traceback with locals
            sys.stderr.write(f"keyfob-signin: {label}: internal error {type(e).__name__}\n")
            response = _error_response(
                ApiError("InternalServerException", "Internal error in the keyfob Sign-In emulator", "server_error")
            )
        if user is not None:
            user.calls[label] += 1
    return label, response(environ, start_response)
