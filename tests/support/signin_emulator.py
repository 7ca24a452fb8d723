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
      "dpop+jwt", alg "ES256", jwk {"kty": "EC", "crv": "P-256", x, y} (32
      bytes each, a point on the curve, no "d": a public key only); the
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
   LoginCredentialFetcher reads). A wrong method on a known path: 404
   UnknownOperationException.
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
       (one user's with user_name, else all; never a secret)
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
