//! AWS sign-in identities (`aws login`'s kind): an IAM user's console
//! sign-in, kept as a refresh token and the DPoP key it is bound to
//! ([`crate::aws::signin`]), with no access key at all.
//!
//! Such an identity is stored as the vault stores an Identity Center one
//! ([`crate::vault`]'s sign-in entries: the same index, PIN, back-off, TPM
//! binding and re-sealing with the key the agent keeps), marked
//! [`SignInKind::Console`]; its sealed secrets are [`LoginSecrets`]. This
//! module owns the field rules of `keyfob login-session add` and that
//! sealed form.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::aws::signin::{self, DpopKey};
use crate::model::endpoints::Endpoints;
use crate::model::field::FieldError;
use crate::model::identity::IdentityName;
use crate::model::secret::LoginRefreshToken;

/// Which sign-in an identity of the vault's sign-in index holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignInKind {
    /// IAM Identity Center (`keyfob sso add`).
    #[default]
    IdentityCenter,
    /// An IAM user's console sign-in (`keyfob login-session add`, the
    /// AWS CLI's `aws login`).
    Console,
}

impl SignInKind {
    pub fn is_identity_center(&self) -> bool {
        *self == SignInKind::IdentityCenter
    }

    /// What a person calls it.
    pub fn describe(&self) -> &'static str {
        match self {
            SignInKind::IdentityCenter => "Identity Center",
            SignInKind::Console => "AWS sign-in",
        }
    }
}

/// A new AWS sign-in identity as typed: its name, region and endpoints.
#[derive(Clone, Debug)]
pub struct NewLogin {
    pub name: IdentityName,
    pub region: String,
    pub endpoints: Endpoints,
}

impl NewLogin {
    /// Checks the fields of `keyfob login-session add`; `endpoint_url`
    /// else `AWS_ENDPOINT_URL` (as for every identity).
    pub fn parse(
        name: &str,
        region: &str,
        endpoint_url: Option<&str>,
    ) -> Result<NewLogin, FieldError> {
        let name = IdentityName::parse(name)?;
        let region = region.trim();
        crate::model::limits::region(region)?;
        let endpoints = Endpoints::at_add(endpoint_url, Some(region))?;
        Ok(NewLogin {
            name,
            region: region.to_owned(),
            endpoints,
        })
    }

    /// The Sign-In endpoint the identity is bound to (its sealed secrets'
    /// associated data names it, as an Identity Center identity's start
    /// URL).
    pub fn base_uri(&self) -> String {
        signin::base_uri(&self.endpoints)
    }
}

/// What a sign-in leaves, sealed under the identity's PIN: the client it
/// signed in as, the refresh token (absent once signed out), the DPoP key
/// and who signed in.
pub struct LoginSecrets {
    pub client_id: String,
    pub refresh_token: Option<LoginRefreshToken>,
    pub key: DpopKey,
    /// The signed-in principal's ARN (the ID token's `sub`).
    pub principal: String,
}

impl std::fmt::Debug for LoginSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginSecrets")
            .field("client_id", &self.client_id)
            .field("refresh_token", &self.refresh_token)
            .field("key", &self.key)
            .field("principal", &self.principal)
            .finish()
    }
}

#[derive(Serialize)]
struct SecretsOut<'a> {
    v: u8,
    kind: SignInKind,
    client_id: &'a str,
    refresh_token: Option<&'a str>,
    key: &'a str,
    principal: &'a str,
}

#[derive(Deserialize)]
struct SecretsIn {
    v: u8,
    kind: SignInKind,
    client_id: String,
    refresh_token: Option<Zeroizing<String>>,
    key: Zeroizing<String>,
    principal: String,
}

impl LoginSecrets {
    /// Forgets the refresh token: signed out.
    pub fn sign_out(&mut self) {
        self.refresh_token = None;
    }

    /// The account signed in to.
    pub fn account(&self) -> Option<&str> {
        signin::account_of(&self.principal)
    }

    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let key = Zeroizing::new(data_encoding::BASE64URL_NOPAD.encode(&self.key.to_bytes()));
        let out = SecretsOut {
            v: 1,
            kind: SignInKind::Console,
            client_id: &self.client_id,
            refresh_token: self.refresh_token.as_ref().map(|t| t.expose()),
            key: key.as_str(),
            principal: &self.principal,
        };
        // Plain strings: serialising cannot fail.
        Zeroizing::new(serde_json::to_vec(&out).expect("secrets serialise"))
    }

    /// The secrets of a sealed AWS sign-in; `None` for anything else (an
    /// Identity Center sign-in's secrets have no `kind`).
    pub fn from_bytes(bytes: &[u8]) -> Option<LoginSecrets> {
        let s: SecretsIn = serde_json::from_slice(bytes).ok()?;
        if s.v != 1 || s.kind != SignInKind::Console {
            return None;
        }
        let raw = Zeroizing::new(
            data_encoding::BASE64URL_NOPAD
                .decode(s.key.as_bytes())
                .ok()?,
        );
        Some(LoginSecrets {
            client_id: s.client_id,
            refresh_token: s
                .refresh_token
                .map(|t| LoginRefreshToken::new(t.as_str().to_owned())),
            key: DpopKey::from_bytes(&raw)?,
            principal: s.principal,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_round_trip_and_refuse_the_other_kind() {
        let key = DpopKey::generate().unwrap();
        let thumb = key.thumbprint();
        let mut s = LoginSecrets {
            client_id: signin::SAME_DEVICE.into(),
            refresh_token: Some(LoginRefreshToken::new("ASOR-refresh-xyz".into())),
            key,
            principal: "arn:aws:iam::111122223333:user/alice".into(),
        };
        let back = LoginSecrets::from_bytes(&s.to_bytes()).unwrap();
        assert_eq!(back.key.thumbprint(), thumb);
        assert_eq!(
            back.refresh_token.as_ref().unwrap().expose(),
            "ASOR-refresh-xyz"
        );
        assert_eq!(back.account(), Some("111122223333"));
        let debug = format!("{s:?}");
        assert!(!debug.contains("ASOR-refresh"), "{debug}");
        s.sign_out();
        assert!(
            LoginSecrets::from_bytes(&s.to_bytes())
                .unwrap()
                .refresh_token
                .is_none()
        );
        // An Identity Center sign-in's secrets are not taken for these.
        assert!(LoginSecrets::from_bytes(br#"{"v":1,"client_id":"c"}"#).is_none());
    }

    #[test]
    fn fields_are_checked_before_anything() {
        assert!(NewLogin::parse("alice", "eu-west-1", None).is_ok());
        assert!(NewLogin::parse("bad name!", "eu-west-1", None).is_err());
        assert!(NewLogin::parse("alice", "moon-1", None).is_err());
        assert!(NewLogin::parse("alice", "eu-west-1", Some("http://example.com")).is_err());
    }
}
