//! AWS Sign-In for developer tools: what `aws login` (AWS CLI 2.32 and
//! later) does, so an IAM user signs in with their console credentials and
//! no access key exists at all.
//!
//! The person signs in to the console's sign-in page in a browser
//! (OAuth 2.0 authorization code with PKCE, RFC 6749 4.1 and RFC 7636,
//! `code_challenge_method=SHA-256`), which brings a code back to a
//! loopback listener (same device, [`SAME_DEVICE`]) or shows it to be typed
//! in (another device, [`CROSS_DEVICE`]). CreateOAuth2Token (`POST
//! /v1/token`, botocore's `signin` model 2023-01-01) redeems it for
//! 15-minute credentials and a refresh token, each call carrying a DPoP
//! proof (RFC 9449) signed by a P-256 key made for this sign-in
//! ([`DpopKey`]); the refresh token is bound to that key, and renews the
//! credentials (and itself) for up to 12 hours. RevokeOAuth2TokenWithIAM
//! (`POST /v1/revoke`, SigV4 with the session's credentials) ends it.
//!
//! The wire details follow the AWS CLI v2's source (awscli
//! `customizations/login/utils.py`, botocore `utils.build_dpop_header`,
//! `credentials.LoginCredentialFetcher`). The refresh token and the key
//! are secrets: they travel only in the token call's body and its proof's
//! signature, and are kept sealed in the vault ([`crate::config::login`]).

use std::time::Duration;

use data_encoding::BASE64URL_NOPAD;
use http_body_util::Full;
use hyper::body::Bytes;
use p256::ecdsa::signature::Signer;
use serde::Deserialize;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::model::endpoints::Endpoints;
use crate::model::secret::{
    AuthCode, LoginRefreshToken, PkceVerifier, SecretAccessKey, SessionToken,
};
use crate::model::session::Session;

/// The client of a sign-in whose browser runs on this machine.
pub const SAME_DEVICE: &str = "arn:aws:signin:::devtools/same-device";
/// The client of a sign-in whose browser runs elsewhere: the page shows a
/// code the person types in here.
pub const CROSS_DEVICE: &str = "arn:aws:signin:::devtools/cross-device";

/// How long a sign-in session lasts at most (AWS Sign-In's 12 hours).
pub const SESSION_LIMIT: time::Duration = time::Duration::hours(12);

const MAX_ANSWER: usize = 64 * 1024;
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("the sign-in has ended (12 hours after it began, or it was signed out)")]
    Expired,
    #[error("the user's console password changed since the sign-in")]
    CredentialsChanged,
    #[error(
        "the user may not sign in to developer tools (IAM: signin:AuthorizeOAuth2Access and signin:CreateOAuth2Token, e.g. the SignInLocalDevelopmentAccess policy)"
    )]
    InsufficientPermissions,
    #[error("the authorization code expired before it was redeemed")]
    CodeExpired,
    #[error("AWS Sign-In refused the request ({code}, HTTP {status}): {message}")]
    Refused {
        code: String,
        status: u16,
        message: String,
    },
    #[error("cannot reach AWS Sign-In at {endpoint}: {message}")]
    Unreachable { endpoint: String, message: String },
    #[error("unexpected answer from AWS Sign-In: {message}")]
    Unexpected { message: String },
}

impl SignInError {
    /// Whether only a new sign-in helps.
    pub fn needs_sign_in(&self) -> bool {
        matches!(
            self,
            SignInError::Expired | SignInError::CredentialsChanged | SignInError::CodeExpired
        )
    }
}

/// The Sign-In endpoint of `endpoints`: the identity's endpoint URL (an
/// emulator, a proxy), else the region's in its partition, as botocore's
/// endpoint rules give it (`https://eu-west-1.signin.aws.amazon.com`).
pub fn base_uri(endpoints: &Endpoints) -> String {
    if let Some(url) = &endpoints.url {
        return url.trim_end_matches('/').to_owned();
    }
    let region = endpoints.region.as_str();
    let suffix = if region.starts_with("cn-") {
        "amazonaws.cn"
    } else if region.starts_with("us-gov-") {
        "amazonaws-us-gov.com"
    } else {
        "aws.amazon.com"
    };
    format!("https://{region}.signin.{suffix}")
}

/// Where a cross-device sign-in's page shows the code to type in.
pub fn confirmation_uri(base: &str) -> String {
    format!("{base}/v1/sessions/confirmation")
}

/// The browser's sign-in page for this sign-in (no secret: the challenge
/// is a hash and the state is in the address bar anyway).
pub fn authorize_url(
    base: &str,
    client_id: &str,
    redirect_uri: &str,
    state: &str,
    challenge: &str,
) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("state", state)
        .append_pair("code_challenge_method", "SHA-256")
        .append_pair("scope", "openid")
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("code_challenge", challenge);
    format!("{base}/v1/authorize?{}", query.finish())
}

/// Reads the code a cross-device sign-in's page shows: base64 of
/// `state=…&code=…`. Returns the state and the code.
pub fn parse_verification_code(input: &str) -> Option<(String, AuthCode)> {
    let text = Zeroizing::new(
        data_encoding::BASE64
            .decode(input.trim().as_bytes())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())?,
    );
    let mut state = None;
    let mut code = None;
    for (k, v) in url::form_urlencoded::parse(text.as_bytes()) {
        match k.as_ref() {
            "state" => state = Some(v.into_owned()),
            "code" => code = Some(AuthCode::new(v.into_owned())),
            _ => {}
        }
    }
    Some((state?, code?))
}

/// The P-256 key a sign-in's tokens are bound to (DPoP, RFC 9449): made
/// for one sign-in, sealed with its refresh token, wiped on drop.
pub struct DpopKey(p256::SecretKey);

impl std::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DpopKey([REDACTED])")
    }
}

impl DpopKey {
    /// A new key from the operating system's random source.
    pub fn generate() -> Result<DpopKey, SignInError> {
        loop {
            let mut bytes = Zeroizing::new([0u8; 32]);
            getrandom::fill(bytes.as_mut()).map_err(|e| SignInError::Unexpected {
                message: format!("no randomness from the operating system: {e}"),
            })?;
            // A value of 0 or over the group order (chance ~2^-128) is
            // drawn again.
            if let Some(key) = DpopKey::from_bytes(bytes.as_ref()) {
                return Ok(key);
            }
        }
    }

    /// The key from its 32-byte scalar.
    pub fn from_bytes(bytes: &[u8]) -> Option<DpopKey> {
        p256::SecretKey::from_slice(bytes).ok().map(DpopKey)
    }

    /// The 32-byte scalar, for sealing.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.0.to_bytes().to_vec())
    }

    /// The public key as a JWK's members (RFC 7518 6.2.1): `x`, `y`.
    fn public_xy(&self) -> (String, String) {
        use p256::elliptic_curve::sec1::ToSec1Point;
        let point = self.0.public_key().to_sec1_point(false);
        let x = point
            .x()
            .map(|x| BASE64URL_NOPAD.encode(x))
            .unwrap_or_default();
        let y = point
            .y()
            .map(|y| BASE64URL_NOPAD.encode(y))
            .unwrap_or_default();
        (x, y)
    }

    /// The JWK thumbprint (RFC 7638): what the tokens are bound to; not a
    /// secret, it tells two sign-ins apart.
    pub fn thumbprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let (x, y) = self.public_xy();
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        BASE64URL_NOPAD.encode(&Sha256::digest(canonical.as_bytes()))
    }

    /// A DPoP proof for one `POST` to `htu` at `iat` (RFC 9449 4.2): a JWT
    /// signed ES256, with the public key in its header and a random `jti`.
    pub fn proof(&self, htu: &str, iat: OffsetDateTime) -> Result<String, SignInError> {
        let (x, y) = self.public_xy();
        let header = serde_json::json!({
            "typ": "dpop+jwt",
            "alg": "ES256",
            "jwk": {"kty": "EC", "x": x, "y": y, "crv": "P-256"},
        });
        let mut jti = [0u8; 16];
        getrandom::fill(&mut jti).map_err(|e| SignInError::Unexpected {
            message: format!("no randomness from the operating system: {e}"),
        })?;
        let payload = serde_json::json!({
            "htm": "POST",
            "htu": htu,
            "iat": iat.unix_timestamp(),
            "jti": hex::encode(jti),
        });
        let input = format!(
            "{}.{}",
            BASE64URL_NOPAD.encode(header.to_string().as_bytes()),
            BASE64URL_NOPAD.encode(payload.to_string().as_bytes())
        );
        let signer = p256::ecdsa::SigningKey::from(&self.0);
        let signature: p256::ecdsa::Signature = signer.sign(input.as_bytes());
        Ok(format!(
            "{input}.{}",
            BASE64URL_NOPAD.encode(&signature.to_bytes())
        ))
    }
}

/// What a token call redeems.
pub enum Grant<'a> {
    /// A sign-in's authorization code, with its PKCE verifier and the
    /// redirect URI it was sent to.
    Code {
        client_id: &'a str,
        code: &'a AuthCode,
        verifier: &'a PkceVerifier,
        redirect_uri: &'a str,
    },
    /// The refresh token of a sign-in.
    Refresh {
        client_id: &'a str,
        refresh_token: &'a LoginRefreshToken,
    },
}

/// A token call's answer.
pub struct Tokens {
    /// The 15-minute credentials.
    pub session: Session,
    /// The refresh token (rotated by every refresh).
    pub refresh_token: LoginRefreshToken,
    /// Who signed in (the ID token's `sub`, an ARN): in the answer to a
    /// code only.
    pub principal: Option<String>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("session", &self.session)
            .field("refresh_token", &self.refresh_token)
            .field("principal", &self.principal)
            .finish()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenOutput {
    access_token: AccessTokenOut,
    expires_in: i64,
    refresh_token: Zeroizing<String>,
    #[serde(default)]
    id_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccessTokenOut {
    access_key_id: String,
    secret_access_key: Zeroizing<String>,
    session_token: Zeroizing<String>,
}

#[derive(Deserialize, Default)]
struct ErrorAnswer {
    #[serde(default)]
    error: String,
    #[serde(default)]
    message: String,
}

/// CreateOAuth2Token: redeems `grant`, proving possession of `key`.
pub fn create_token(
    endpoints: &Endpoints,
    grant: &Grant<'_>,
    key: &DpopKey,
) -> Result<Tokens, SignInError> {
    let base = base_uri(endpoints);
    let url = format!("{base}/v1/token");
    let body = Zeroizing::new(
        match grant {
            Grant::Code {
                client_id,
                code,
                verifier,
                redirect_uri,
            } => serde_json::json!({
                "clientId": client_id,
                "grantType": "authorization_code",
                "code": code.expose(),
                "codeVerifier": verifier.expose(),
                "redirectUri": redirect_uri,
            }),
            Grant::Refresh {
                client_id,
                refresh_token,
            } => serde_json::json!({
                "clientId": client_id,
                "grantType": "refresh_token",
                "refreshToken": refresh_token.expose(),
            }),
        }
        .to_string(),
    );
    let proof = key.proof(&url, OffsetDateTime::now_utc())?;
    let unreachable = |message: String| SignInError::Unreachable {
        endpoint: base.clone(),
        message,
    };
    let request = hyper::Request::post(url.as_str())
        .header("user-agent", super::http::USER_AGENT)
        .header("content-type", "application/json")
        .header("dpop", proof)
        .body(Full::new(Bytes::from(body.as_bytes().to_vec())))
        .map_err(|e| unreachable(e.to_string()))?;
    let (status, answer) =
        super::http::exchange(request, MAX_ANSWER, HTTP_TIMEOUT).map_err(unreachable)?;
    let answer = Zeroizing::new(answer);
    if status != 200 {
        // A message that quotes what was sent (an endpoint echoing the
        // request) does not carry it into an error or a log.
        let sent: Vec<&str> = match grant {
            Grant::Code { code, verifier, .. } => vec![code.expose(), verifier.expose()],
            Grant::Refresh { refresh_token, .. } => vec![refresh_token.expose()],
        };
        let echoed = sent
            .iter()
            .any(|s| !s.is_empty() && answer.windows(s.len()).any(|w| w == s.as_bytes()));
        return Err(match refusal(status, &answer) {
            SignInError::Refused { code, status, .. } if echoed => SignInError::Refused {
                code,
                status,
                message: "(its message quoted the request; not shown)".into(),
            },
            other => other,
        });
    }
    // The model's output payload, tokenOutput, is the whole body.
    let out: TokenOutput =
        serde_json::from_slice(&answer).map_err(|e| SignInError::Unexpected {
            // Where, not serde's text: an "invalid type" message quotes
            // the value, which may be a token.
            message: format!(
                "the token answer does not parse (line {}, column {})",
                e.line(),
                e.column()
            ),
        })?;
    let principal = match grant {
        Grant::Code { .. } => Some(principal_of(out.id_token.as_deref().unwrap_or_default())?),
        Grant::Refresh { .. } => None,
    };
    let expires_in = out.expires_in.clamp(1, 3600);
    Ok(Tokens {
        session: Session {
            access_key_id: out.access_token.access_key_id,
            secret_access_key: SecretAccessKey::new(
                out.access_token.secret_access_key.as_str().to_owned(),
            ),
            session_token: SessionToken::new(out.access_token.session_token.as_str().to_owned()),
            expiration: OffsetDateTime::now_utc() + time::Duration::seconds(expires_in),
            endpoints: endpoints.clone(),
        },
        refresh_token: LoginRefreshToken::new(out.refresh_token.as_str().to_owned()),
        principal,
    })
}

/// RevokeOAuth2TokenWithIAM: ends the sign-in at AWS (the refresh token
/// and every token rotated from it), signed (SigV4, service `signin`)
/// with the sign-in's own credentials, `session`. Credentials already
/// handed out live on until they expire (15 minutes at most).
pub fn revoke(
    endpoints: &Endpoints,
    session: &Session,
    refresh_token: &LoginRefreshToken,
) -> Result<(), SignInError> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let base = base_uri(endpoints);
    let url = format!("{base}/v1/revoke?x-amz-client-auth-method=iam");
    let unexpected = |message: String| SignInError::Unexpected { message };
    let body = Zeroizing::new(serde_json::json!({"token": refresh_token.expose()}).to_string());
    let credentials = aws_credential_types::Credentials::new(
        session.access_key_id.clone(),
        session.secret_access_key.expose().to_owned(),
        Some(session.session_token.expose().to_owned()),
        None,
        "keyfob",
    );
    let identity = credentials.into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(&endpoints.region)
        .name("signin")
        .time(std::time::SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| unexpected(format!("cannot sign the request: {e}")))?
        .into();
    let headers = [("content-type", "application/json")];
    let signable = SignableRequest::new(
        "POST",
        url.as_str(),
        headers.iter().copied(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .map_err(|e| unexpected(format!("cannot sign the request: {e}")))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| unexpected(format!("cannot sign the request: {e}")))?
        .into_parts();
    let mut request = hyper::Request::post(url.as_str())
        .header("user-agent", super::http::USER_AGENT)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.as_bytes().to_vec())))
        .map_err(|e| unexpected(e.to_string()))?;
    instructions.apply_to_request_http1x(&mut request);
    let (status, answer) =
        super::http::exchange(request, MAX_ANSWER, HTTP_TIMEOUT).map_err(|message| {
            SignInError::Unreachable {
                endpoint: base.clone(),
                message,
            }
        })?;
    if status == 200 {
        return Ok(());
    }
    Err(refusal(status, &answer))
}

/// Maps a refusal: the model's `error` member says which (AccessDenied's
/// TOKEN_EXPIRED, USER_CREDENTIALS_CHANGED, INSUFFICIENT_PERMISSIONS,
/// AUTHCODE_EXPIRED); the message is the service's, which never quotes a
/// token.
fn refusal(status: u16, body: &[u8]) -> SignInError {
    let e: ErrorAnswer = serde_json::from_slice(body).unwrap_or_default();
    match e.error.as_str() {
        "TOKEN_EXPIRED" => SignInError::Expired,
        "USER_CREDENTIALS_CHANGED" => SignInError::CredentialsChanged,
        "INSUFFICIENT_PERMISSIONS" => SignInError::InsufficientPermissions,
        "AUTHCODE_EXPIRED" => SignInError::CodeExpired,
        code => SignInError::Refused {
            code: if code.is_empty() {
                format!("HTTP {status}")
            } else {
                code.chars().take(64).collect()
            },
            status,
            message: e.message.chars().take(300).collect(),
        },
    }
}

/// The principal an ID token names (`sub`, an ARN). The token is not
/// verified here (it came over TLS from the endpoint the identity names,
/// as the AWS CLI takes it); it only says who signed in.
fn principal_of(id_token: &str) -> Result<String, SignInError> {
    let bad = |why: &str| SignInError::Unexpected {
        message: format!("the ID token {why}"),
    };
    let payload = id_token.split('.').nth(1).ok_or_else(|| bad("is no JWT"))?;
    let bytes = BASE64URL_NOPAD
        .decode(payload.trim_end_matches('=').as_bytes())
        .map_err(|_| bad("is not base64url"))?;
    let claims: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| bad("is not JSON"))?;
    let sub = claims
        .get("sub")
        .and_then(|s| s.as_str())
        .ok_or_else(|| bad("names no subject"))?;
    if !sub.starts_with("arn:") || sub.split(':').nth(4).is_none_or(str::is_empty) {
        return Err(bad("subject is not an ARN with an account"));
    }
    Ok(sub.chars().take(2048).collect())
}

/// The account of a principal ARN (`arn:aws:iam::123456789012:user/x`).
pub fn account_of(principal: &str) -> Option<&str> {
    principal.split(':').nth(4).filter(|a| !a.is_empty())
}

#[cfg(test)]
mod tests {
    use p256::ecdsa::signature::Verifier;

    use super::*;

    fn part(jwt: &str, i: usize) -> serde_json::Value {
        let b = BASE64URL_NOPAD
            .decode(jwt.split('.').nth(i).unwrap().as_bytes())
            .unwrap();
        serde_json::from_slice(&b).unwrap()
    }

    #[test]
    fn a_proof_is_an_es256_jwt_over_its_header_and_payload_with_the_public_key() {
        let key = DpopKey::generate().unwrap();
        let at = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let jwt = key.proof("https://x.example/v1/token", at).unwrap();
        let header = part(&jwt, 0);
        let payload = part(&jwt, 1);
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["jwk"]["crv"], "P-256");
        assert_eq!(payload["htm"], "POST");
        assert_eq!(payload["htu"], "https://x.example/v1/token");
        assert_eq!(payload["iat"], 1_800_000_000);
        // Each proof is new (RFC 9449 11.1: a jti is never reused).
        let again = key.proof("https://x.example/v1/token", at).unwrap();
        assert_ne!(part(&again, 1)["jti"], payload["jti"]);
        // The signature verifies with the key in the header, and with no
        // other key.
        let x = BASE64URL_NOPAD
            .decode(header["jwk"]["x"].as_str().unwrap().as_bytes())
            .unwrap();
        let y = BASE64URL_NOPAD
            .decode(header["jwk"]["y"].as_str().unwrap().as_bytes())
            .unwrap();
        let mut sec1 = vec![4u8];
        sec1.extend(&x);
        sec1.extend(&y);
        let public = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).unwrap();
        let (input, sig) = jwt.rsplit_once('.').unwrap();
        let sig =
            p256::ecdsa::Signature::from_slice(&BASE64URL_NOPAD.decode(sig.as_bytes()).unwrap())
                .unwrap();
        assert!(public.verify(input.as_bytes(), &sig).is_ok());
        let other = DpopKey::generate().unwrap();
        let other_jwt = other.proof("https://x.example/v1/token", at).unwrap();
        assert_ne!(other.thumbprint(), key.thumbprint());
        let (_, other_sig) = other_jwt.rsplit_once('.').unwrap();
        let other_sig = p256::ecdsa::Signature::from_slice(
            &BASE64URL_NOPAD.decode(other_sig.as_bytes()).unwrap(),
        )
        .unwrap();
        assert!(public.verify(input.as_bytes(), &other_sig).is_err());
        // And the key survives sealing as its scalar.
        let back = DpopKey::from_bytes(&key.to_bytes()).unwrap();
        assert_eq!(back.thumbprint(), key.thumbprint());
        assert!(DpopKey::from_bytes(&[0u8; 32]).is_none());
        assert_eq!(format!("{key:?}"), "DpopKey([REDACTED])");
    }

    #[test]
    fn endpoints_follow_the_partition_or_the_identitys_url() {
        assert_eq!(
            base_uri(&Endpoints::aws("eu-west-1")),
            "https://eu-west-1.signin.aws.amazon.com"
        );
        assert_eq!(
            base_uri(&Endpoints::aws("cn-north-1")),
            "https://cn-north-1.signin.amazonaws.cn"
        );
        let emu = Endpoints::parse(Some("http://127.0.0.1:4566/"), Some("eu-west-1")).unwrap();
        assert_eq!(base_uri(&emu), "http://127.0.0.1:4566");
        let url = authorize_url(
            "https://eu-west-1.signin.aws.amazon.com",
            SAME_DEVICE,
            "http://127.0.0.1:5000/oauth/callback",
            "st",
            "ch",
        );
        let parsed = url::Url::parse(&url).unwrap();
        assert_eq!(parsed.path(), "/v1/authorize");
        let q: std::collections::HashMap<_, _> = parsed.query_pairs().into_owned().collect();
        assert_eq!(q["client_id"], SAME_DEVICE);
        assert_eq!(q["code_challenge_method"], "SHA-256");
        assert_eq!(q["redirect_uri"], "http://127.0.0.1:5000/oauth/callback");
    }

    #[test]
    fn verification_codes_and_id_tokens_are_read_strictly() {
        let code = data_encoding::BASE64.encode(b"state=s1&code=c2");
        let (state, auth) = parse_verification_code(&format!(" {code}\n")).unwrap();
        assert_eq!((state.as_str(), auth.expose()), ("s1", "c2"));
        assert!(parse_verification_code("not base64!").is_none());
        assert!(parse_verification_code(&data_encoding::BASE64.encode(b"state=s1")).is_none());
        let jwt = |claims: &str| format!("e30.{}.sig", BASE64URL_NOPAD.encode(claims.as_bytes()));
        assert_eq!(
            principal_of(&jwt(r#"{"sub":"arn:aws:iam::111122223333:user/alice"}"#)).unwrap(),
            "arn:aws:iam::111122223333:user/alice"
        );
        for bad in [
            jwt(r#"{"sub":"alice"}"#),
            jwt(r#"{"sub":"arn:aws:iam:::user/x"}"#),
            jwt("{}"),
            "nojwt".into(),
        ] {
            assert!(principal_of(&bad).is_err(), "{bad}");
        }
        assert_eq!(
            account_of("arn:aws:iam::111122223333:user/alice"),
            Some("111122223333")
        );
    }

    /// An endpoint that echoes the request in its refusal (the identity's
    /// own, misbehaving or hostile) gets no refresh token into keyfob's
    /// error, and so none into a log or a terminal.
    #[test]
    fn a_refusal_that_quotes_the_request_is_not_shown() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            // Head and body (the body's length from the head).
            loop {
                let n = stream.read(&mut buf).unwrap();
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got);
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    if body.len() >= len {
                        let echo = serde_json::json!({"error": "INVALID_REQUEST", "message": body})
                            .to_string();
                        write!(
                            stream,
                            "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{echo}",
                            echo.len()
                        )
                        .unwrap();
                        return;
                    }
                }
            }
        });
        let endpoints =
            Endpoints::parse(Some(&format!("http://127.0.0.1:{port}")), Some("eu-west-1")).unwrap();
        let refresh = LoginRefreshToken::new("ASOR-a-refresh-token-never-to-be-shown".into());
        let grant = Grant::Refresh {
            client_id: SAME_DEVICE,
            refresh_token: &refresh,
        };
        let err = create_token(&endpoints, &grant, &DpopKey::generate().unwrap()).unwrap_err();
        server.join().unwrap();
        let text = format!("{err} {err:?}");
        assert!(
            matches!(err, SignInError::Refused { status: 400, .. }),
            "{text}"
        );
        assert!(!text.contains("never-to-be-shown"), "{text}");
    }

    #[test]
    fn refusals_map_to_what_helps() {
        let body = |e: &str| format!(r#"{{"error":"{e}","message":"m"}}"#).into_bytes();
        assert!(matches!(
            refusal(401, &body("TOKEN_EXPIRED")),
            SignInError::Expired
        ));
        assert!(refusal(403, &body("USER_CREDENTIALS_CHANGED")).needs_sign_in());
        assert!(!refusal(403, &body("INSUFFICIENT_PERMISSIONS")).needs_sign_in());
        match refusal(400, &body("INVALID_REQUEST")) {
            SignInError::Refused { code, status, .. } => {
                assert_eq!((code.as_str(), status), ("INVALID_REQUEST", 400));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            refusal(502, b"<html>"),
            SignInError::Refused { ref code, .. } if code == "HTTP 502"
        ));
    }
}
