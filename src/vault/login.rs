//! AWS sign-in identities in the vault ([`crate::config::login`]): records
//! of the sign-in index marked [`SignInKind::Console`], whose sealed
//! secrets are [`LoginSecrets`]. Everything else (the PIN and its
//! back-off, TPM binding, re-sealing with the kept key, renaming,
//! removing, a new PIN) is the sign-in entries' of [`super::sso`] and
//! [`super::sso_bind`]; the associated data binds the Sign-In endpoint as
//! an Identity Center identity's binds its start URL.

use super::sso::require_kind;
use super::{Sealed, SsoKey, Vault, VaultError, new_id};
use crate::config::login::{LoginSecrets, NewLogin, SignInKind};
use crate::config::sso::SsoIdentity;
use crate::model::identity::TpmChoice;
use crate::model::secret::Pin;
use crate::platform::crypto::CryptoError;

fn parse(identity: &SsoIdentity, plain: &[u8]) -> Result<LoginSecrets, VaultError> {
    require_kind(identity, SignInKind::Console)?;
    LoginSecrets::from_bytes(plain).ok_or_else(|| VaultError::Sealed {
        name: identity.name.clone(),
        source: CryptoError::Malformed,
    })
}

impl Vault {
    /// Seals a first AWS sign-in under `pin`, bound to the TPM as `choice`
    /// says, and stores the new identity.
    pub fn login_add_bound(
        &self,
        new: &NewLogin,
        pin: &Pin,
        secrets: &LoginSecrets,
        choice: TpmChoice,
        recovery: bool,
    ) -> Result<(SsoIdentity, Sealed), VaultError> {
        let now = (self.clock)();
        let identity = SsoIdentity {
            id: new_id()?,
            name: new.name.clone(),
            start_url: new.base_uri(),
            region: new.region.clone(),
            scopes: vec!["openid".into()],
            added_at: now,
            signed_in_at: now,
            endpoints: Some(new.endpoints.clone()),
            kind: SignInKind::Console,
            principal: Some(secrets.principal.clone()),
        };
        self.add_sign_in_bound(identity, pin, &secrets.to_bytes(), choice, recovery)
    }

    /// The AWS sign-in identity called `name` (refusing the other kind).
    pub fn login_get(&self, name: &str) -> Result<SsoIdentity, VaultError> {
        let identity = self.sso_get(name)?;
        require_kind(&identity, SignInKind::Console)?;
        Ok(identity)
    }

    /// Opens an AWS sign-in with `pin` (wrong PINs counted), keeping the
    /// key that seals it again and that the agent keeps instead of the PIN.
    pub fn login_unseal_keeping_key(
        &self,
        name: &str,
        pin: &Pin,
    ) -> Result<(SsoIdentity, LoginSecrets, SsoKey), VaultError> {
        let (identity, plain, key) = self.sign_in_unseal(name, pin, SignInKind::Console)?;
        let secrets = parse(&identity, plain.expose())?;
        Ok((identity, secrets, key))
    }

    /// Opens an AWS sign-in with a key kept from an earlier unseal.
    pub fn login_open_with_key(
        &self,
        name: &str,
        key: &SsoKey,
    ) -> Result<(SsoIdentity, LoginSecrets), VaultError> {
        let (identity, plain) = self.sign_in_open_with_key(name, key)?;
        let secrets = parse(&identity, plain.expose())?;
        Ok((identity, secrets))
    }

    /// Seals a new sign-in or a rotated refresh token under the kept key
    /// (see [`Vault::sso_reseal`]).
    pub fn login_reseal(
        &self,
        name: &str,
        key: &SsoKey,
        secrets: &LoginSecrets,
        signed_in: bool,
    ) -> Result<SsoIdentity, VaultError> {
        self.sign_in_reseal(
            name,
            key,
            SignInKind::Console,
            &secrets.to_bytes(),
            signed_in,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::signin::{DpopKey, SAME_DEVICE};
    use crate::model::secret::LoginRefreshToken;
    use crate::vault::tests::vault;

    fn secrets(token: &str) -> LoginSecrets {
        LoginSecrets {
            client_id: SAME_DEVICE.into(),
            refresh_token: Some(LoginRefreshToken::new(token.into())),
            key: DpopKey::generate().unwrap(),
            principal: "arn:aws:iam::111122223333:user/alice".into(),
        }
    }

    #[test]
    fn a_sign_in_is_sealed_kept_apart_from_identity_center_and_resealed() {
        let (v, store, _d) = vault();
        let pin = Pin::new("123456".into());
        let new = NewLogin::parse("alice", "eu-west-1", Some("http://127.0.0.1:9")).unwrap();
        let (added, _) = v
            .login_add_bound(&new, &pin, &secrets("ASOR-one"), TpmChoice::Off, false)
            .unwrap();
        assert_eq!(added.kind, SignInKind::Console);
        assert_eq!(added.start_url, "http://127.0.0.1:9");
        for (k, val) in store.snapshot() {
            let text = String::from_utf8_lossy(&val);
            assert!(!text.contains("ASOR-one"), "{k}");
        }
        let (_, opened, key) = v.login_unseal_keeping_key("alice", &pin).unwrap();
        assert_eq!(opened.refresh_token.unwrap().expose(), "ASOR-one");
        // The Identity Center commands refuse it, before any PIN is spent.
        assert!(matches!(
            v.sso_unseal("alice", &Pin::new("wrong-pin".into())),
            Err(VaultError::OtherKind { .. })
        ));
        // A rotated refresh token is sealed with the kept key.
        v.login_reseal("alice", &key, &secrets("ASOR-two"), false)
            .unwrap();
        let (_, again) = v.login_open_with_key("alice", &key).unwrap();
        assert_eq!(again.refresh_token.unwrap().expose(), "ASOR-two");
        assert!(matches!(
            v.login_unseal_keeping_key("alice", &Pin::new("000000".into())),
            Err(VaultError::WrongPin { .. })
        ));
        assert!(v.sso_remove("alice").is_ok());
    }
}
