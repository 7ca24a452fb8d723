//! Identity Center role sessions: GetRoleCredentials with the identity's
//! access token, in the process that runs the provider (the agent).
//!
//! The PIN unseals an identity's sign-in once and is dropped; the tokens,
//! and the key the PIN derived for that one vault entry (so tokens renewed
//! with the refresh token can be sealed again — the instance may rotate
//! the refresh token, and the old one then stops working), stay in this
//! process's memory, in zeroizing types, until it exits or everything is
//! locked. Not the PIN: a person's PIN often opens every identity, the
//! kept key ([`crate::vault::SsoKey`]) only this entry. Every profile of the
//! identity then gets its role session without a prompt. A sign-in made
//! meanwhile by `keyfob sso login` (a newer `signed_in_at` in the vault,
//! sealed under the same salt) replaces the tokens held here; after a PIN
//! change the key no longer fits, and the PIN is asked again.
//!
//! Concurrency: the caller holds the profile's session lock (one
//! GetRoleCredentials per profile however many callers); the token work
//! holds a per-identity lock, so two profiles of one identity never
//! refresh the same refresh token at once.

use time::OffsetDateTime;

use super::held::Held;
use super::{Ask, Provider, ProviderError};
use crate::aws::sso::{self, SsoError};
use crate::config::profile::Profile;
use crate::model::session::Session;
use crate::platform::crypto::CryptoError;
use crate::vault::VaultError;

/// An access token with less than this left is renewed first.
const TOKEN_MARGIN: time::Duration = time::Duration::minutes(1);

impl Provider<'_> {
    /// The role session of an Identity Center profile (its session lock is
    /// held by the caller); stored in the cache like any session.
    pub(super) fn sso_session(&self, profile: &Profile) -> Result<Session, ProviderError> {
        let role = profile
            .sso
            .as_ref()
            .expect("called for Identity Center profiles only");
        let name = profile.identity.as_str();
        let _token_guard = self.lock(&format!("ssotoken.{name}"))?;
        let taken = self.held.map().remove(name);
        let mut held = match taken.map(|h| self.newer_sign_in(h)).transpose()? {
            Some(Some(h)) => h,
            // Nothing held, or the key no longer fits (a new PIN).
            _ => self.unseal_sso(profile)?,
        };
        let result = self.role_credentials(&mut held, &role.account_id, &role.role_name);
        match &result {
            // Only a refused sign-in is let go; anything else (a network
            // error, a role not assigned) leaves the tokens usable.
            Err(ProviderError::SsoSignIn { .. }) => {}
            _ => {
                self.held.map().insert(name.to_owned(), held);
            }
        }
        let session = result.map_err(|e| match e {
            ProviderError::Sso { source, .. } => ProviderError::Sso {
                profile: profile.name.clone(),
                source,
            },
            other => other,
        })?;
        tracing::info!(profile = %profile.name, "got Identity Center role credentials");
        self.store(&profile.session_key(), &profile.fingerprint(), &session);
        Ok(session)
    }

    /// GetRoleCredentials, renewing the access token first when it is
    /// (about to be) expired, and once more if the portal refuses it.
    fn role_credentials(
        &self,
        held: &mut Held,
        account_id: &str,
        role_name: &str,
    ) -> Result<Session, ProviderError> {
        if held.secrets.access_expires_at <= OffsetDateTime::now_utc() + TOKEN_MARGIN {
            self.renew_tokens(held)?;
        }
        // The endpoints of the identity as unsealed: bound into the sealed
        // sign-in, so what the index says now cannot redirect the token.
        let endpoints = held.identity.endpoints();
        let call = |h: &Held| {
            sso::get_role_credentials(&endpoints, &h.secrets.access_token, account_id, role_name)
        };
        let result = match call(held) {
            Err(SsoError::Unauthorized) => {
                self.renew_tokens(held)?;
                call(held)
            }
            other => other,
        };
        result.map_err(|e| {
            if e.needs_sign_in() {
                ProviderError::SsoSignIn {
                    identity: held.identity.name.to_string(),
                }
            } else {
                ProviderError::Sso {
                    profile: String::new(),
                    source: e,
                }
            }
        })
    }

    /// Renews the tokens with the refresh token and seals them again under
    /// the held key; without a refresh token, or refused, only a new
    /// sign-in helps.
    fn renew_tokens(&self, held: &mut Held) -> Result<(), ProviderError> {
        let sign_in = || ProviderError::SsoSignIn {
            identity: held.identity.name.to_string(),
        };
        let Some(refresh) = &held.secrets.refresh_token else {
            return Err(sign_in());
        };
        let tokens = match sso::refresh(&held.identity.endpoints(), &held.secrets.client, refresh) {
            Ok(t) => t,
            Err(e) if e.needs_sign_in() => return Err(sign_in()),
            Err(e) => {
                return Err(ProviderError::Sso {
                    profile: String::new(),
                    source: e,
                });
            }
        };
        held.secrets.renew(tokens);
        tracing::info!(identity = %held.identity.name, "renewed the Identity Center access token");
        match (self.vault)().and_then(|v| {
            v.sso_reseal(held.identity.name.as_str(), &held.key, &held.secrets, false)
        }) {
            Ok(updated) => held.identity = updated,
            // The renewed tokens still work from memory (and a PIN changed
            // meanwhile is not undone).
            Err(e) => tracing::warn!("could not seal the renewed tokens: {e}"),
        }
        Ok(())
    }

    /// The held sign-in, or the vault's if `keyfob sso login` made a newer
    /// one (opened with the held key, no prompt, no KDF); `None` when the
    /// key no longer opens the entry (its PIN was changed): then the PIN is
    /// asked again, before any renewal. (Renewing with a key that cannot
    /// seal would leave the vault a refresh token the instance has rotated
    /// away, and the next agent a dead sign-in.)
    fn newer_sign_in(&self, held: Held) -> Result<Option<Held>, ProviderError> {
        let vault = (self.vault)()?;
        match vault.sso_open_with_key(held.identity.name.as_str(), &held.key) {
            Ok((stored, _)) if stored.signed_in_at <= held.identity.signed_in_at => Ok(Some(held)),
            Ok((identity, secrets)) => Ok(Some(Held {
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

    /// Opens the identity's sealed sign-in with the PIN, asking again after
    /// a wrong one while a person is there.
    fn unseal_sso(&self, profile: &Profile) -> Result<Held, ProviderError> {
        let (identity, secrets, key) = self.unseal_sign_in(profile, |vault, name, pin| {
            vault.sso_unseal_keeping_key(name, pin)
        })?;
        Ok(Held {
            identity,
            key,
            secrets,
        })
    }

    /// Opens the profile's sign-in identity with its PIN (`open` does it
    /// for the identity's kind), asking again after a wrong one while a
    /// person is there; without one, the profile is locked.
    pub(super) fn unseal_sign_in<T>(
        &self,
        profile: &Profile,
        open: impl Fn(&crate::vault::Vault, &str, &crate::model::secret::Pin) -> Result<T, VaultError>,
    ) -> Result<T, ProviderError> {
        let Some(prompter) = self.prompter else {
            return Err(ProviderError::Locked {
                profile: profile.name.clone(),
            });
        };
        let vault = (self.vault)()?;
        let ask = Ask {
            profile: &profile.name,
            identity: profile.identity.as_str(),
            mfa_serial: None,
        };
        super::with_pin(prompter, &ask, |pin| {
            open(&vault, profile.identity.as_str(), pin)
        })
    }
}
