//! IAM Identity Center's browser sign-in: the OAuth 2.0 authorization code
//! grant with PKCE (RFC 6749 4.1, RFC 7636) and a loopback redirect (RFC
//! 8252), as the AWS CLI v2 does it by default since 2.22 (botocore's
//! `SSOTokenFetcherAuth`).
//!
//! The client registers with the grant types `authorization_code` and
//! `refresh_token`, the redirect URI `http://127.0.0.1/oauth/callback`
//! (RFC 8252 7.3: the port is the listener's, chosen at sign-in) and the
//! start URL as its issuer. The person's browser opens the OIDC endpoint's
//! `/authorize` page (not an API operation: its URL is built here, on the
//! endpoint the SDK resolves for the identity), approves, and Identity
//! Center redirects it to [`super::sso_loopback`] with a code, which
//! CreateToken redeems with the verifier. The device code grant
//! ([`super::sso`]) stays the fallback.
//!
//! The verifier and the code are secrets ([`PkceVerifier`], [`AuthCode`]):
//! they travel only in the CreateToken body. The authorize URL carries the
//! challenge (a hash) and the state, neither of which redeems anything.

use aws_sdk_ssooidc::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
use data_encoding::BASE64URL_NOPAD;
use sha2::{Digest, Sha256};

use super::sso::{
    AUTH_CODE_GRANT, ClientRegistration, SsoError, Tokens, classify_refusal, oidc_client,
    tokens_from,
};
use super::{AwsError, block_on, map_sdk_error};
use crate::model::endpoints::Endpoints;
use crate::model::secret::{AuthCode, ClientSecret, PkceVerifier};

/// The grant types a browser sign-in client registers with (the AWS CLI's).
pub const AUTH_GRANT_TYPES: &[&str] = &[AUTH_CODE_GRANT, super::sso::REFRESH_TOKEN_GRANT];

/// The redirect URI registered: loopback, any port (RFC 8252 7.3).
pub const REGISTERED_REDIRECT_URI: &str = "http://127.0.0.1/oauth/callback";

/// The path the loopback listener answers on.
pub const CALLBACK_PATH: &str = "/oauth/callback";

/// Random bytes in a verifier: 48 give 64 BASE64URL characters, inside
/// RFC 7636 4.1's 43..=128 (the AWS CLI's length too).
const VERIFIER_BYTES: usize = 48;

/// A PKCE pair (RFC 7636 4.1–4.2, method S256): the verifier stays here
/// until CreateToken; the challenge goes into the authorize URL.
pub struct Pkce {
    pub verifier: PkceVerifier,
    pub challenge: String,
}

impl std::fmt::Debug for Pkce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkce")
            .field("verifier", &self.verifier)
            .field("challenge", &self.challenge)
            .finish()
    }
}

impl Pkce {
    /// A new pair from the operating system's random source.
    pub fn new() -> Result<Pkce, SsoError> {
        let mut bytes = zeroize::Zeroizing::new([0u8; VERIFIER_BYTES]);
        getrandom::fill(bytes.as_mut()).map_err(|e| no_randomness(&e))?;
        // BASE64URL without padding uses only [A-Za-z0-9_-], a subset of
        // RFC 7636's unreserved characters.
        let verifier = PkceVerifier::new(BASE64URL_NOPAD.encode(bytes.as_ref()));
        let challenge = challenge_s256(&verifier);
        Ok(Pkce {
            verifier,
            challenge,
        })
    }
}

/// RFC 7636 4.2, S256: `BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))`,
/// without padding.
pub fn challenge_s256(verifier: &PkceVerifier) -> String {
    BASE64URL_NOPAD.encode(&Sha256::digest(verifier.expose().as_bytes()))
}

/// A random `state` (RFC 6749 10.12): 16 bytes from the operating system,
/// BASE64URL. Not a secret (it is in the browser's address bar), but
/// unguessable, so a page that did not see the authorize URL cannot
/// deliver a code to the listener.
pub fn new_state() -> Result<String, SsoError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| no_randomness(&e))?;
    Ok(BASE64URL_NOPAD.encode(&bytes))
}

fn no_randomness(e: &getrandom::Error) -> SsoError {
    SsoError::Aws(AwsError::Unexpected {
        message: format!("no randomness from the operating system: {e}"),
    })
}

/// RegisterClient for the browser sign-in: [`AUTH_GRANT_TYPES`], the
/// loopback redirect URI, the start URL as issuer, and `scopes` (the
/// AWS CLI's default scope when none are set, as the authorization code
/// grant needs one).
pub fn register_client(
    endpoints: &Endpoints,
    scopes: &[String],
    start_url: &str,
) -> Result<ClientRegistration, SsoError> {
    let scopes = if scopes.is_empty() {
        super::sso::DEFAULT_SCOPES
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
    } else {
        scopes.to_vec()
    };
    let grant_types: Vec<String> = AUTH_GRANT_TYPES.iter().map(|g| (*g).to_owned()).collect();
    block_on(async {
        let out = oidc_client(endpoints)
            .await
            .register_client()
            .client_name(super::sso::CLIENT_NAME)
            .client_type("public")
            .set_scopes(Some(scopes.clone()))
            .set_grant_types(Some(grant_types.clone()))
            .redirect_uris(REGISTERED_REDIRECT_URI)
            .issuer_url(start_url)
            .send()
            .await
            .map_err(|e| classify_refusal(map_sdk_error(e)))?;
        let missing = |what: &str| {
            SsoError::Aws(AwsError::Unexpected {
                message: format!("Identity Center returned no {what}"),
            })
        };
        Ok(ClientRegistration {
            client_id: out.client_id.ok_or_else(|| missing("client ID"))?,
            client_secret: ClientSecret::new(
                out.client_secret.ok_or_else(|| missing("client secret"))?,
            ),
            expires_at: time::OffsetDateTime::from_unix_timestamp(out.client_secret_expires_at)
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
            scopes,
            grant_types,
        })
    })?
}

/// The base URL of the SSO OIDC endpoint: the identity's own endpoint
/// URL, or the one the SDK's rules give for its region (what botocore
/// does to find `/authorize`).
fn oidc_base(endpoints: &Endpoints) -> Result<String, SsoError> {
    if let Some(url) = &endpoints.url {
        return Ok(url.trim_end_matches('/').to_owned());
    }
    let params = Params::builder()
        .region(endpoints.region.clone())
        .build()
        .map_err(|e| unexpected(format!("no SSO OIDC endpoint rule input: {e}")))?;
    let endpoint = block_on(DefaultResolver::new().resolve_endpoint(&params))?
        .map_err(|e| unexpected(format!("no SSO OIDC endpoint for the region: {e}")))?;
    Ok(endpoint.url().trim_end_matches('/').to_owned())
}

fn unexpected(message: String) -> SsoError {
    SsoError::Aws(AwsError::Unexpected { message })
}

/// The page the browser opens: `/authorize` with the client, the
/// loopback `redirect_uri` (with its port), `state`, the S256 challenge
/// and the scopes (space-separated), as botocore builds it.
pub fn authorize_url(
    endpoints: &Endpoints,
    client: &ClientRegistration,
    redirect_uri: &str,
    state: &str,
    pkce: &Pkce,
) -> Result<String, SsoError> {
    let base = oidc_base(endpoints)?;
    let mut url = url::Url::parse(&format!("{base}/authorize"))
        .map_err(|e| unexpected(format!("the SSO OIDC endpoint is not a URL: {e}")))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("state", state)
        .append_pair("code_challenge_method", "S256")
        .append_pair("scopes", &client.scopes.join(" "))
        .append_pair("code_challenge", &pkce.challenge);
    Ok(url.into())
}

/// CreateToken with the authorization code grant: the code from the
/// redirect, the same redirect URI, and the verifier.
pub fn create_token(
    endpoints: &Endpoints,
    client: &ClientRegistration,
    code: &AuthCode,
    redirect_uri: &str,
    pkce: &Pkce,
) -> Result<Tokens, SsoError> {
    block_on(async {
        let out = oidc_client(endpoints)
            .await
            .create_token()
            .client_id(&client.client_id)
            .client_secret(client.client_secret.expose())
            .grant_type(AUTH_CODE_GRANT)
            .code(code.expose())
            .redirect_uri(redirect_uri)
            .code_verifier(pkce.verifier.expose())
            .send()
            .await
            .map_err(|e| classify_refusal(map_sdk_error(e)))?;
        tokens_from(out)
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_s256_challenge_is_rfc_7636s_example() {
        // RFC 7636 Appendix B.
        let verifier = PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into());
        assert_eq!(
            challenge_s256(&verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn verifiers_are_random_unreserved_and_43_to_128_long() {
        let a = Pkce::new().unwrap();
        let b = Pkce::new().unwrap();
        let v = a.verifier.expose();
        assert!((43..=128).contains(&v.len()), "{}", v.len());
        assert!(
            v.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"-._~".contains(&c))
        );
        assert_ne!(a.verifier.expose(), b.verifier.expose());
        assert_eq!(a.challenge, challenge_s256(&a.verifier));
        assert!(!format!("{a:?}").contains(v), "the verifier in Debug");
        assert_ne!(new_state().unwrap(), new_state().unwrap());
    }

    #[test]
    fn the_authorize_url_is_on_the_oidc_endpoint_with_every_parameter() {
        let client = ClientRegistration {
            client_id: "cid".into(),
            client_secret: ClientSecret::new("csecret".into()),
            expires_at: time::OffsetDateTime::UNIX_EPOCH,
            scopes: vec!["sso:account:access".into(), "x".into()],
            grant_types: vec![],
        };
        let pkce = Pkce::new().unwrap();
        let aws = authorize_url(
            &Endpoints::aws("eu-west-1"),
            &client,
            "http://127.0.0.1:4711/oauth/callback",
            "st",
            &pkce,
        )
        .unwrap();
        let u = url::Url::parse(&aws).unwrap();
        assert_eq!(u.host_str(), Some("oidc.eu-west-1.amazonaws.com"));
        assert_eq!(u.path(), "/authorize");
        let q: std::collections::BTreeMap<_, _> = u.query_pairs().into_owned().collect();
        assert_eq!(q["redirect_uri"], "http://127.0.0.1:4711/oauth/callback");
        assert_eq!(q["scopes"], "sso:account:access x");
        assert_eq!(q["code_challenge"], pkce.challenge);
        assert_eq!(q["code_challenge_method"], "S256");
        assert!(!aws.contains(pkce.verifier.expose()));
        let own = Endpoints::parse(Some("http://127.0.0.1:4566"), Some("eu-west-1")).unwrap();
        let emulator = authorize_url(&own, &client, "r", "s", &pkce).unwrap();
        assert!(
            emulator.starts_with("http://127.0.0.1:4566/authorize?"),
            "{emulator}"
        );
    }
}
