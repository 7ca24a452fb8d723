//! AWS sign-in sessions: the 15-minute credentials of an IAM user's
//! console sign-in (`aws login`'s kind), renewed with its refresh token
//! and DPoP key ([`crate::aws::signin`]) in the process that runs the
//! provider (the agent).
//!
//! As for Identity Center ([`super::sso`]): the PIN unseals the sign-in
//! once and is dropped; the key the PIN derived for that one entry stays in
//! memory, so every renewal reads the sealed sign-in and seals the rotated
//! refresh token again without a prompt or a KDF. The vault's copy is the
//! one used, read under the identity's token lock: every refresh rotates
//! the refresh token and the old one stops working, so a copy held in
//! memory could be one another process already spent. After a new PIN
//! the kept key opens nothing, and the PIN is asked again, before any
//! renewal (a renewal that could not be sealed would leave the vault a dead
//! refresh token). When AWS says the sign-in has ended (12 hours, a new
//! password, a sign-out), only `keyfob login-session login` helps.

use super::held::HeldLogin;
use super::{Provider, ProviderError};
use crate::aws::signin::{self, Grant};
use crate::config::profile::Profile;
use crate::model::session::Session;
use crate::platform::crypto::CryptoError;
use crate::vault::VaultError;

impl Provider<'_> {
    /// The credentials of an AWS sign-in profile (its session lock is held
    /// by the caller); stored in the cache like any session.
    pub(super) fn login_session(&self, profile: &Profile) -> Result<Session, ProviderError> {
        let name = profile.identity.as_str();
        let _token_guard = self.lock(&format!("logintoken.{name}"))?;
        let taken = self.held.logins().remove(name);
        let mut held = match taken.map(|h| self.current_login(h)).transpose()? {
            Some(Some(h)) => h,
            // Nothing held, or the key no longer fits (a new PIN).
            _ => self.unseal_login(profile)?,
        };
        let result = self.renew_login(&mut held);
        if !matches!(result, Err(ProviderError::LoginSignIn { .. })) {
            self.held.logins().insert(name.to_owned(), held);
        }
        let session = result.map_err(|e| match e {
            ProviderError::Login { source, .. } => ProviderError::Login {
                profile: profile.name.clone(),
                source,
            },
            other => other,
        })?;
        tracing::info!(profile = %profile.name, "renewed the AWS sign-in's credentials");
        self.store(&profile.session_key(), &profile.fingerprint(), &session);
        Ok(session)
    }

    /// CreateOAuth2Token with the refresh token, proving the DPoP key; the
    /// rotated refresh token is sealed again under the kept key.
    fn renew_login(&self, held: &mut HeldLogin) -> Result<Session, ProviderError> {
        let identity = held.identity.name.to_string();
        let Some(refresh) = &held.secrets.refresh_token else {
            return Err(ProviderError::LoginSignIn {
                identity,
                why: "it was signed out".into(),
            });
        };
        let grant = Grant::Refresh {
            client_id: &held.secrets.client_id,
            refresh_token: refresh,
        };
        let tokens = signin::create_token(&held.identity.endpoints(), &grant, &held.secrets.key)
            .map_err(|e| {
                if e.needs_sign_in() {
                    ProviderError::LoginSignIn {
                        identity: identity.clone(),
                        why: e.to_string(),
                    }
                } else {
                    ProviderError::Login {
                        profile: String::new(),
                        source: e,
                    }
                }
            })?;
        held.secrets.refresh_token = Some(tokens.refresh_token);
        match (self.vault)()
            .and_then(|v| v.login_reseal(&identity, &held.key, &held.secrets, false))
        {
            Ok(updated) => held.identity = updated,
            // The credentials are good; the next renewal uses the token held
            // here (and a PIN changed meanwhile is not undone).
            Err(e) => tracing::warn!("could not seal the renewed refresh token: {e}"),
        }
        Ok(tokens.session)
    }

    /// The sign-in as the vault holds it now, opened with the held key (no
    /// prompt, no KDF); `None` when the key no longer opens the entry (its
    /// PIN was changed): then the PIN is asked again.
    fn current_login(&self, held: HeldLogin) -> Result<Option<HeldLogin>, ProviderError> {
        let vault = (self.vault)()?;
        match vault.login_open_with_key(held.identity.name.as_str(), &held.key) {
            Ok((identity, secrets)) => Ok(Some(HeldLogin {
                identity,
                key: held.key,
                secrets,
            })),
            Err(VaultError::Sealed {
                source: CryptoError::OtherKey,
                ..
            }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Opens the sign-in with the PIN, asking again after a wrong one while
    /// a person is there.
    fn unseal_login(&self, profile: &Profile) -> Result<HeldLogin, ProviderError> {
        let (identity, secrets, key) = self.unseal_sign_in(profile, |vault, name, pin| {
            vault.login_unseal_keeping_key(name, pin)
        })?;
        Ok(HeldLogin {
            identity,
            key,
            secrets,
        })
    }
}
