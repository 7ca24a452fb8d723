//! IAM Identity Center identities: a sign-in to one Identity Center
//! instance (its start URL and region), beside the access-key identities
//! of [`crate::model::identity`].
//!
//! This module owns the field rules of `keyfob sso add` (checked before
//! anything is written), the identity's metadata (kept, not secret, in the
//! vault's `sso.index` entry), and the secrets a sign-in leaves: the OIDC
//! client registration and the tokens ([`SsoSecrets`]), which the vault
//! seals under the identity's PIN exactly as an access key (see
//! [`crate::vault`]). The calls to AWS are in [`crate::aws::sso`].

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::aws::sso::{ClientRegistration, Tokens};
pub use crate::config::login::SignInKind;
use crate::model::endpoints::Endpoints;
use crate::model::field::{Field, FieldError};
use crate::model::identity::IdentityName;
use crate::model::secret::{ClientSecret, SsoAccessToken, SsoRefreshToken};

/// An Identity Center identity: where to sign in. No secret here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoIdentity {
    /// Random and stable; the sealed tokens' AAD binds it.
    pub id: String,
    pub name: IdentityName,
    pub start_url: String,
    pub region: String,
    pub scopes: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub added_at: OffsetDateTime,
    /// The last completed sign-in.
    #[serde(with = "time::serde::rfc3339")]
    pub signed_in_at: OffsetDateTime,
    /// Where its tokens and sessions may be sent, fixed when it was added
    /// and bound into the sealed tokens' associated data. `None`: stored
    /// before keyfob kept endpoints — AWS's own, in `region`.
    #[serde(default)]
    pub endpoints: Option<Endpoints>,
    /// Identity Center, or an AWS sign-in (`aws login`'s kind, whose
    /// `start_url` is the Sign-In endpoint it is bound to). Left out of
    /// an Identity Center identity's record, so older records read the same.
    #[serde(default, skip_serializing_if = "SignInKind::is_identity_center")]
    pub kind: SignInKind,
    /// For an AWS sign-in: who signed in (an ARN), for lists. Shown, not
    /// trusted: the sealed sign-in says who it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
}

impl SsoIdentity {
    /// Where its calls go (see [`crate::model::endpoints`]).
    pub fn endpoints(&self) -> Endpoints {
        self.endpoints
            .clone()
            .unwrap_or_else(|| Endpoints::aws(&self.region))
    }
}

/// The checked fields of `keyfob sso add`.
#[derive(Clone, Debug)]
pub struct NewSso {
    pub name: IdentityName,
    pub start_url: String,
    pub region: String,
    pub scopes: Vec<String>,
    /// Where its calls will go: AWS's endpoints in `region`, or the
    /// endpoint URL in force when it is added.
    pub endpoints: Endpoints,
}

impl NewSso {
    /// Checks every field, naming the first that is wrong. `scopes` is the
    /// `--scopes` value (comma-separated); `None` means the default.
    pub fn parse(
        name: &str,
        start_url: &str,
        region: &str,
        scopes: Option<&str>,
    ) -> Result<NewSso, FieldError> {
        let name = IdentityName::parse(name)?;
        let start_url = check_start_url(start_url)?;
        let region = region.trim();
        crate::model::limits::region(region)?;
        let scopes = match scopes {
            None => crate::aws::sso::DEFAULT_SCOPES
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            Some(s) => check_scopes(s)?,
        };
        let endpoints = Endpoints::at_add(None, Some(region))?;
        Ok(NewSso {
            name,
            start_url,
            region: region.to_owned(),
            scopes,
            endpoints,
        })
    }
}

/// The longest start URL accepted: far above AWS's
/// `https://d-XXXXXXXXXX.awsapps.com/start` or a custom alias.
pub const START_URL_MAX: usize = 1024;

/// Checks an Identity Center start URL: `https://` with a host, no user
/// name or password in it. Returns it trimmed, otherwise as given (the
/// start URL names the instance, so it is not normalised).
pub fn check_start_url(input: &str) -> Result<String, FieldError> {
    let s = input.trim();
    let err = |reason: &str| {
        Err(FieldError::new(
            Field::StartUrl,
            format!(
                "{reason}; expected https://d-1234567890.awsapps.com/start (or your portal's alias)"
            ),
        ))
    };
    if s.is_empty() {
        return err("is empty");
    }
    if s.len() > START_URL_MAX {
        return err(&format!("is longer than {START_URL_MAX} characters"));
    }
    let Ok(url) = url::Url::parse(s) else {
        return err("is not a URL");
    };
    if url.scheme() != "https" {
        return err(&format!(
            "must start with https:// (got {}://): the sign-in must not travel in clear text",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return err("has no host");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return err("may not contain a user name or password");
    }
    Ok(s.to_owned())
}

/// At most this many scopes, each at most [`SCOPE_MAX`] characters.
pub const SCOPES_MAX: usize = 25;
pub const SCOPE_MAX: usize = 256;

/// Checks a comma-separated list of OIDC scopes (`sso:account:access`):
/// each non-empty printable ASCII without white space or quotes.
pub fn check_scopes(input: &str) -> Result<Vec<String>, FieldError> {
    let err = |reason: String| {
        Err(FieldError::new(
            Field::Scopes,
            format!("{reason}; expected a comma-separated list such as sso:account:access"),
        ))
    };
    let scopes: Vec<String> = input.split(',').map(|s| s.trim().to_owned()).collect();
    if scopes.len() > SCOPES_MAX {
        return err(format!("at most {SCOPES_MAX} scopes"));
    }
    for s in &scopes {
        if s.is_empty() {
            return err("a scope is empty".into());
        }
        if s.len() > SCOPE_MAX {
            return err(format!("a scope is longer than {SCOPE_MAX} characters"));
        }
        if let Some(c) = s
            .chars()
            .find(|c| !c.is_ascii_graphic() || matches!(c, '"' | '\'' | '\\'))
        {
            return err(format!("a scope contains {c:?}"));
        }
    }
    Ok(scopes)
}

/// What a sign-in leaves that must stay secret: the OIDC client
/// registration and the tokens. Sealed as one envelope under the PIN.
pub struct SsoSecrets {
    pub client: ClientRegistration,
    pub access_token: SsoAccessToken,
    pub refresh_token: Option<SsoRefreshToken>,
    pub access_expires_at: OffsetDateTime,
}

impl std::fmt::Debug for SsoSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoSecrets")
            .field("client", &self.client)
            .field("access_token", &self.access_token)
            .field("refresh_token", &self.refresh_token)
            .field("access_expires_at", &self.access_expires_at)
            .finish()
    }
}

/// The sealed plaintext, version 1: JSON, borrowed on the way in and
/// zeroized on the way out.
#[derive(Serialize)]
struct SecretsOut<'a> {
    v: u8,
    client_id: &'a str,
    client_secret: &'a str,
    client_expires_at: i64,
    scopes: &'a [String],
    grant_types: &'a [String],
    access_token: &'a str,
    refresh_token: Option<&'a str>,
    access_expires_at: i64,
}

#[derive(Deserialize)]
struct SecretsIn {
    v: u8,
    client_id: String,
    client_secret: Zeroizing<String>,
    client_expires_at: i64,
    scopes: Vec<String>,
    /// Absent in what keyfob sealed before the browser sign-in: those
    /// registrations were all device code ones.
    #[serde(default)]
    grant_types: Vec<String>,
    access_token: Zeroizing<String>,
    refresh_token: Option<Zeroizing<String>>,
    access_expires_at: i64,
}

impl SsoSecrets {
    pub fn new(client: ClientRegistration, tokens: Tokens) -> SsoSecrets {
        SsoSecrets {
            client,
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            access_expires_at: tokens.expires_at,
        }
    }

    /// Replaces the tokens after a refresh; a refresh that brought no new
    /// refresh token keeps the old one.
    pub fn renew(&mut self, tokens: Tokens) {
        self.access_token = tokens.access_token;
        if tokens.refresh_token.is_some() {
            self.refresh_token = tokens.refresh_token;
        }
        self.access_expires_at = tokens.expires_at;
    }

    /// Forgets the tokens after a logout: the access token counts as
    /// expired and there is no refresh token, so only a new sign-in helps;
    /// the client registration is kept for it.
    pub fn sign_out(&mut self) {
        self.refresh_token = None;
        self.access_expires_at = OffsetDateTime::UNIX_EPOCH;
    }

    /// The plaintext the vault seals.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let out = SecretsOut {
            v: 1,
            client_id: &self.client.client_id,
            client_secret: self.client.client_secret.expose(),
            client_expires_at: self.client.expires_at.unix_timestamp(),
            scopes: &self.client.scopes,
            grant_types: &self.client.grant_types,
            access_token: self.access_token.expose(),
            refresh_token: self.refresh_token.as_ref().map(|t| t.expose()),
            access_expires_at: self.access_expires_at.unix_timestamp(),
        };
        // Plain strings and numbers: serialising cannot fail.
        Zeroizing::new(serde_json::to_vec(&out).expect("secrets serialise"))
    }

    /// Reads what [`SsoSecrets::to_bytes`] wrote; `None` if it is not that.
    pub fn from_bytes(bytes: &[u8]) -> Option<SsoSecrets> {
        let mut s: SecretsIn = serde_json::from_slice(bytes).ok()?;
        if s.v != 1 {
            return None;
        }
        let time = |t: i64| OffsetDateTime::from_unix_timestamp(t).ok();
        Some(SsoSecrets {
            client: ClientRegistration {
                client_id: std::mem::take(&mut s.client_id),
                client_secret: ClientSecret::new(std::mem::take(&mut *s.client_secret)),
                expires_at: time(s.client_expires_at)?,
                scopes: std::mem::take(&mut s.scopes),
                grant_types: std::mem::take(&mut s.grant_types),
            },
            access_token: SsoAccessToken::new(std::mem::take(&mut *s.access_token)),
            refresh_token: s
                .refresh_token
                .as_mut()
                .map(|t| SsoRefreshToken::new(std::mem::take(&mut **t))),
            access_expires_at: time(s.access_expires_at)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_urls_must_be_https_with_a_host() {
        assert!(check_start_url(" https://d-1234567890.awsapps.com/start ").is_ok());
        for bad in [
            "",
            "http://d-1234567890.awsapps.com/start",
            "d-1234567890.awsapps.com/start",
            "https://",
            "https://user:pw@example.com/start",
            "ftp://example.com",
        ] {
            let e = check_start_url(bad).unwrap_err();
            assert_eq!(e.field, Field::StartUrl, "{bad}");
            assert!(!e.reason.contains("pw"), "{e}");
        }
    }

    #[test]
    fn scopes_are_checked() {
        assert_eq!(
            check_scopes("sso:account:access, codewhisperer:completions").unwrap(),
            vec!["sso:account:access", "codewhisperer:completions"]
        );
        for bad in ["", "a,,b", "has space", "quo\"te"] {
            assert_eq!(check_scopes(bad).unwrap_err().field, Field::Scopes, "{bad}");
        }
    }

    #[test]
    fn new_names_the_wrong_field() {
        let e = NewSso::parse("ok", "https://x.awsapps.com/start", "moon-1", None).unwrap_err();
        assert_eq!(e.field, Field::Region);
        let e = NewSso::parse("bad name", "https://x", "us-east-1", None).unwrap_err();
        assert_eq!(e.field, Field::IdentityName);
        let n = NewSso::parse("ok", "https://x.awsapps.com/start", "eu-west-1", None).unwrap();
        assert_eq!(n.scopes, vec!["sso:account:access"]);
    }

    #[test]
    fn secrets_round_trip_and_debug_is_redacted() {
        let s = SsoSecrets {
            client: ClientRegistration {
                client_id: "cid".into(),
                client_secret: ClientSecret::new("csecret-value".into()),
                expires_at: OffsetDateTime::from_unix_timestamp(2_000_000_000).unwrap(),
                scopes: vec!["sso:account:access".into()],
                grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            },
            access_token: SsoAccessToken::new("aoa-value".into()),
            refresh_token: Some(SsoRefreshToken::new("aor-value".into())),
            access_expires_at: OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap(),
        };
        let back = SsoSecrets::from_bytes(&s.to_bytes()).unwrap();
        assert_eq!(back.client.client_secret.expose(), "csecret-value");
        assert_eq!(back.access_token.expose(), "aoa-value");
        assert_eq!(back.refresh_token.unwrap().expose(), "aor-value");
        assert_eq!(back.access_expires_at, s.access_expires_at);
        assert!(back.client.allows_browser_sign_in() && !back.client.allows_device_code());
        // Sealed before the browser sign-in: no grant types, a device code registration.
        let old = br#"{"v":1,"client_id":"c","client_secret":"s","client_expires_at":0,"scopes":[],"access_token":"a","refresh_token":null,"access_expires_at":0}"#;
        let old = SsoSecrets::from_bytes(old).unwrap();
        assert!(old.client.allows_device_code() && !old.client.allows_browser_sign_in());
        let printed = format!("{s:?}");
        assert!(!printed.contains("-value"), "{printed}");
        assert!(SsoSecrets::from_bytes(b"{}").is_none());
    }
}
