"""The AWS console federation endpoint, for keyfob's test launcher (T8 in moto_launcher.py).

AWS: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_enable-console-custom-url.html
(the endpoint is https://signin.aws.amazon.com/federation). Here it is
`{endpoint_url}/federation` on the launcher, unsigned like AWS's, GET query
or POST form body (application/x-www-form-urlencoded) for both actions.

Action=getSigninToken
    Session          URL-encoded JSON {"sessionId", "sessionKey", "sessionToken"}:
                     temporary credentials the emulator issued, with this secret
                     and token, unexpired by the launcher clock (POST /keyfob-test/clock).
    SessionDuration  optional, 900..43200 (the console session's length). AWS
                     refuses it for GetFederationToken credentials ("Do not use the
                     SessionDuration HTTP parameter if you got the temporary
                     credentials with GetFederationToken") and for role-chained
                     sessions; both are refused here. Without it the console session
                     lasts as long as the credentials have left (AWS: "defaults to
                     the duration of the credentials").
    200 application/json {"SigninToken": "<opaque, URL-safe, 86 characters>"}
    Refused: GetSessionToken credentials (AWS: they cannot sign in to the
    console), long-term access keys (AKIA...), unknown keys, a wrong secret or
    token, expired credentials, a malformed Session, a bad SessionDuration.
    AWS answers these with "400 Bad Request" and an HTML page (undocumented;
    what aws-vault and Teleport report); here: 400, text/plain, one line saying
    which rule failed (never echoing a secret).

Action=login
    SigninToken      a token from getSigninToken, issued less than 15 minutes ago
                     by the launcher clock; it may be used again within that time
                     (AWS documents the 15 minutes, not single use).
    Destination      required: an https URL on console.aws.amazon.com or on a
                     subdomain of it (e.g. https://us-east-1.console.aws.amazon.com/
                     or https://s3.console.aws.amazon.com/s3/home), default port, no
                     user name or password in it.
    Issuer           optional (AWS: the URL of your sign-in page); at most 2048
                     characters, not otherwise checked.
    302 with Location: Destination (body empty).
    Refused: missing SigninToken or Destination, a Destination that is not a
    console URL, an Issuer over 2048 characters: 400 text/plain; an unknown or
    expired SigninToken: 403 text/plain. (AWS's answers are undocumented.)

Other Action values or methods: 400 / 405 text/plain.

What is not modelled: the console itself (Destination is only redirected to),
the credentials' validity at login time (only the token's 15 minutes), the
Issuer's use when the console session ends, per-region endpoints, session
revocation.

Test endpoints (routed by the launcher):
    GET  /keyfob-test/federation        [{"principal_arn", "kind": "federated-user" |
                                          "assumed-role", "session_duration": seconds,
                                          "issued_at": "YYYY-MM-DDTHH:MM:SSZ" (real time),
                                          "logged_in": bool}], in issue order; no token
                                          and no credential in it.
    POST /keyfob-test/federation/reset  forget every token: {"status": "ok"}
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from werkzeug.wrappers import Request, Response

TOKEN_LIFETIME = dt.timedelta(minutes=15)
SESSION_DURATION_MIN, SESSION_DURATION_MAX = 900, 43200
CONSOLE_HOST = "console.aws.amazon.com"
MAX_ISSUER = 2048
MAX_SESSION_PARAM = 16384  # far above three credentials; bounds the JSON parse


@dataclass
class ConsolePrincipal:
    """Who a set of temporary credentials belongs to (the launcher resolves it)."""

    arn: str
    kind: str  # "federated-user" | "assumed-role"
    expires_at: dt.datetime  # naive UTC, compared with the launcher clock
    chained: bool  # a role session made with role credentials


class Refused(Exception):
    """The credentials cannot sign in; the message says why (and holds no secret)."""


@dataclass
class _Token:
    principal_arn: str
    kind: str
    session_duration: int
    issued_at: dt.datetime  # real time, for the record
    issued_clock: dt.datetime  # launcher clock, for the 15 minutes
    logged_in: bool = False


def _text(message: str, status: int) -> Response:
    return Response(message + "\n", status, mimetype="text/plain")


class FederationEndpoint:
    """getSigninToken and login. `resolve(key_id, secret, token)` returns a
    ConsolePrincipal or raises Refused; `clock()` is the launcher's expiry clock."""

    def __init__(
        self,
        resolve: Callable[[str, str, str], ConsolePrincipal],
        clock: Callable[[], dt.datetime],
        real_now: Callable[[], dt.datetime],
    ) -> None:
        self._resolve = resolve
        self._clock = clock
        self._real_now = real_now
        self._lock = threading.Lock()
        self._tokens: dict[str, _Token] = {}

    @staticmethod
    def action_of(request: Request) -> str:
        """The Action, for the call counter and the log: only known names, never input."""
        action = request.values.get("Action")
        return action if action in ("getSigninToken", "login") else "unknown"

    def handle(self, request: Request) -> Response:
        if request.method not in ("GET", "POST"):
            return _text("the federation endpoint accepts GET and POST", 405)
        action = request.values.get("Action")
        if action == "getSigninToken":
            return self._get_signin_token(request)
        if action == "login":
            return self._login(request)
        return _text("Action must be getSigninToken or login", 400)

    # -- getSigninToken -----------------------------------------------------

    def _get_signin_token(self, request: Request) -> Response:
        raw = request.values.get("Session")
        if not raw:
            return _text(
                'Session is required: URL-encoded JSON {"sessionId", "sessionKey", "sessionToken"}', 400
            )
        if len(raw) > MAX_SESSION_PARAM:
            return _text(f"Session is longer than {MAX_SESSION_PARAM} characters", 400)
        try:
            session = json.loads(raw)
        except ValueError:
            return _text("Session is not JSON", 400)
        if not isinstance(session, dict):
            return _text("Session must be a JSON object", 400)
        missing = [
            k
            for k in ("sessionId", "sessionKey", "sessionToken")
            if not isinstance(session.get(k), str) or not session[k]
        ]
        if missing:
            return _text(f"Session lacks {', '.join(missing)} (each a non-empty string)", 400)

        duration_param = request.values.get("SessionDuration")
        duration: int | None = None
        if duration_param is not None:
            if not duration_param.isdigit() or not (
                SESSION_DURATION_MIN <= int(duration_param) <= SESSION_DURATION_MAX
            ):
                return _text(
                    f"SessionDuration must be an integer from {SESSION_DURATION_MIN} "
                    f"to {SESSION_DURATION_MAX}",
                    400,
                )
            duration = int(duration_param)

        try:
            principal = self._resolve(session["sessionId"], session["sessionKey"], session["sessionToken"])
        except Refused as e:
            return _text(str(e), 400)
        if duration is not None and principal.kind == "federated-user":
            return _text("SessionDuration cannot be used with GetFederationToken credentials", 400)
        if duration is not None and principal.chained:
            return _text("SessionDuration cannot be used with credentials from role chaining", 400)
        if duration is None:
            duration = max(0, int((principal.expires_at - self._clock()).total_seconds()))

        token = secrets.token_urlsafe(64)
        entry = _Token(
            principal_arn=principal.arn,
            kind=principal.kind,
            session_duration=duration,
            issued_at=self._real_now().replace(microsecond=0),
            issued_clock=self._clock(),
        )
        with self._lock:
            self._tokens[token] = entry
        return Response(json.dumps({"SigninToken": token}), 200, mimetype="application/json")

    # -- login --------------------------------------------------------------

    def _login(self, request: Request) -> Response:
        token = request.values.get("SigninToken")
        destination = request.values.get("Destination")
        issuer = request.values.get("Issuer")
        if not token:
            return _text("SigninToken is required", 400)
        if not destination:
            return _text("Destination is required", 400)
        if not console_url(destination):
            return _text(
                f"Destination must be an https URL on {CONSOLE_HOST} or a subdomain of it", 400
            )
        if issuer is not None and len(issuer) > MAX_ISSUER:
            return _text(f"Issuer is longer than {MAX_ISSUER} characters", 400)
        with self._lock:
            entry = self._tokens.get(token)
            if entry is None:
                return _text("SigninToken is not valid", 403)
            if self._clock() >= entry.issued_clock + TOKEN_LIFETIME:
                return _text("SigninToken has expired (sign-in tokens last 15 minutes)", 403)
            entry.logged_in = True
        response = Response(b"", 302)
        response.headers["Location"] = destination
        response.autocorrect_location_header = False
        return response

    # -- test endpoints -----------------------------------------------------

    def issued(self) -> list[dict]:
        with self._lock:
            return [
                {
                    "principal_arn": t.principal_arn,
                    "kind": t.kind,
                    "session_duration": t.session_duration,
                    "issued_at": t.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "logged_in": t.logged_in,
                }
                for t in self._tokens.values()
            ]

    def reset(self) -> None:
        with self._lock:
            self._tokens.clear()


def console_url(url: str) -> bool:
    """https://console.aws.amazon.com/... or https://<sub>.console.aws.amazon.com/..."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    return (
        parts.scheme == "https"
        and parts.username is None
        and parts.password is None
        and port in (None, 443)
        and (host == CONSOLE_HOST or host.endswith("." + CONSOLE_HOST))
    )
