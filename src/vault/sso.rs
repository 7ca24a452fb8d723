//! Identity Center identities in the vault: their index and their sealed
//! sign-in ([`SsoSecrets`]), beside the access-key identities.
//!
//! | entry               | holds                                          |
//! |---------------------|------------------------------------------------|
//! | `sso.index`         | JSON list of [`SsoIdentity`] (not secret)      |
//! | `sso.<id>.tokens`   | the client registration and tokens, sealed     |
//! | `identity.<id>.attempts` | the PIN failure counter, as for access keys |
//!
//! The same envelope, KDF and PIN back-off as an access key
//! ([`Vault::open_counted_with`]), and the same protection: the PIN alone or the PIN and the TPM ([`super::sso_bind`]); the AAD binds the identity's id and start
//! URL, so a sealed sign-in cannot be moved to another identity. Names are
//! unique across both kinds. Kept in an entry of their own so that an
//! older keyfob reading `index` never meets a kind it does not know.

use serde::{Deserialize, Serialize};

use super::pin::open_any;
use super::sso_bind::{SsoKey, context, open_keeping_key, tokens_key};
use super::{Vault, VaultError, attempts_key, new_id};
use crate::config::sso::{NewSso, SignInKind, SsoIdentity, SsoSecrets};
use crate::model::identity::{IdentityName, TpmChoice};
use crate::model::secret::{Pin, SecretBytes};
use crate::platform::crypto::CryptoError;

const SSO_INDEX_KEY: &str = "sso.index";
const SSO_INDEX_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct SsoIndex {
    version: u32,
    identities: Vec<SsoIdentity>,
}

fn sealed_error(identity: &SsoIdentity, source: CryptoError) -> VaultError {
    VaultError::Sealed {
        name: identity.name.clone(),
        source,
    }
}

fn parse_secrets(identity: &SsoIdentity, plain: &[u8]) -> Result<SsoSecrets, VaultError> {
    require_kind(identity, SignInKind::IdentityCenter)?;
    SsoSecrets::from_bytes(plain).ok_or_else(|| sealed_error(identity, CryptoError::Malformed))
}

/// Refuses a sign-in identity of another kind than `wanted`, naming the
/// command that serves it.
pub(super) fn require_kind(identity: &SsoIdentity, wanted: SignInKind) -> Result<(), VaultError> {
    if identity.kind == wanted {
        return Ok(());
    }
    Err(VaultError::OtherKind {
        name: identity.name.clone(),
        is: identity.kind.describe(),
        wanted: wanted.describe(),
        hint: match identity.kind {
            SignInKind::IdentityCenter => "`keyfob sso` serves it",
            SignInKind::Console => "`keyfob login-session` serves it",
        },
    })
}

impl Vault {
    fn load_sso_index(&self) -> Result<Vec<SsoIdentity>, VaultError> {
        let Some(bytes) = self.store.get(SSO_INDEX_KEY)? else {
            return Ok(Vec::new());
        };
        let index: SsoIndex =
            serde_json::from_slice(bytes.expose()).map_err(|e| VaultError::CorruptIndex {
                message: format!("{SSO_INDEX_KEY}: {e}"),
            })?;
        if index.version != SSO_INDEX_VERSION {
            return Err(VaultError::CorruptIndex {
                message: format!(
                    "{SSO_INDEX_KEY} version {} (this keyfob reads {SSO_INDEX_VERSION}); upgrade keyfob",
                    index.version
                ),
            });
        }
        Ok(index.identities)
    }

    fn save_sso_index(&self, identities: Vec<SsoIdentity>) -> Result<(), VaultError> {
        let index = SsoIndex {
            version: SSO_INDEX_VERSION,
            identities,
        };
        // Plain data with string keys: serialising cannot fail.
        let bytes = serde_json::to_vec_pretty(&index).expect("index serialises");
        Ok(self.store.put(SSO_INDEX_KEY, &bytes)?)
    }

    /// Whether an Identity Center identity is called `name`.
    pub(super) fn sso_name_taken(&self, name: &IdentityName) -> Result<bool, VaultError> {
        Ok(self.load_sso_index()?.iter().any(|i| &i.name == name))
    }

    /// Every Identity Center identity, sorted by name.
    pub fn sso_list(&self) -> Result<Vec<SsoIdentity>, VaultError> {
        let mut all = self.load_sso_index()?;
        all.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(all)
    }

    /// The Identity Center identity called `name`.
    pub fn sso_get(&self, name: &str) -> Result<SsoIdentity, VaultError> {
        self.load_sso_index()?
            .into_iter()
            .find(|i| i.name.as_str() == name)
            .ok_or_else(|| VaultError::NotFound { name: name.into() })
    }

    /// Seals a first sign-in under `pin` alone and stores the new
    /// identity (see [`Vault::sso_add_bound`]).
    pub fn sso_add(
        &self,
        new: &NewSso,
        pin: &Pin,
        secrets: &SsoSecrets,
    ) -> Result<SsoIdentity, VaultError> {
        let (identity, _) = self.sso_add_bound(new, pin, secrets, TpmChoice::Off, false)?;
        Ok(identity)
    }

    /// The record of a new Identity Center identity (not stored yet).
    pub(super) fn new_sso(&self, new: &NewSso) -> Result<SsoIdentity, VaultError> {
        let now = (self.clock)();
        Ok(SsoIdentity {
            id: new_id()?,
            name: new.name.clone(),
            start_url: new.start_url.clone(),
            region: new.region.clone(),
            scopes: new.scopes.clone(),
            added_at: now,
            signed_in_at: now,
            endpoints: Some(new.endpoints.clone()),
            kind: SignInKind::IdentityCenter,
            principal: None,
        })
    }

    /// Stores a new identity and its `sealed` sign-in. The name is
    /// checked again under the lock (across both kinds).
    pub(super) fn store_new_sso(
        &self,
        identity: SsoIdentity,
        sealed: &[u8],
    ) -> Result<SsoIdentity, VaultError> {
        let _lock = self.lock()?;
        self.check_name_free(&identity.name)?;
        let mut all = self.load_sso_index()?;
        let entry = tokens_key(&identity.id);
        self.store.put(&entry, sealed)?;
        all.push(identity.clone());
        if let Err(e) = self.save_sso_index(all) {
            let _ = self.store.delete(&entry);
            return Err(e);
        }
        tracing::info!(identity = %identity.name, "Identity Center identity added");
        Ok(identity)
    }

    /// The identity's sealed sign-in, as stored.
    pub(super) fn sso_entry(
        &self,
        identity: &SsoIdentity,
    ) -> Result<crate::model::secret::SecretBytes, VaultError> {
        self.store
            .get(&tokens_key(&identity.id))?
            .ok_or_else(|| VaultError::MissingKey {
                name: identity.name.clone(),
            })
    }

    /// Opens the identity's sealed sign-in with `pin` (wrong PINs counted).
    pub fn sso_unseal(
        &self,
        name: &str,
        pin: &Pin,
    ) -> Result<(SsoIdentity, SsoSecrets), VaultError> {
        self.sso_unseal_keeping_key(name, pin)
            .map(|(identity, secrets, _)| (identity, secrets))
    }

    /// [`Vault::sso_unseal`], also returning the entry's key: what seals
    /// the entry again ([`Vault::sso_reseal`]), and what the agent keeps,
    /// instead of the PIN, to renew tokens and to open a newer sign-in
    /// ([`Vault::sso_open_with_key`]).
    pub fn sso_unseal_keeping_key(
        &self,
        name: &str,
        pin: &Pin,
    ) -> Result<(SsoIdentity, SsoSecrets, SsoKey), VaultError> {
        let (identity, plain, key) = self.sign_in_unseal(name, pin, SignInKind::IdentityCenter)?;
        let secrets = parse_secrets(&identity, plain.expose())?;
        Ok((identity, secrets, key))
    }

    /// Opens a sign-in identity's sealed secrets, of the `kind` the
    /// caller reads, with `pin` (wrong PINs counted), keeping the key.
    pub(super) fn sign_in_unseal(
        &self,
        name: &str,
        pin: &Pin,
        kind: SignInKind,
    ) -> Result<(SsoIdentity, SecretBytes, SsoKey), VaultError> {
        let _lock = self.lock()?;
        let identity = self.sso_get(name)?;
        // The kind is in the index: a PIN is not spent on the wrong one.
        require_kind(&identity, kind)?;
        let (plain, key) = self.open_counted_with(
            &identity.id,
            &identity.name,
            &tokens_key(&identity.id),
            |sealed| open_keeping_key(pin, &context(&identity), sealed),
        )?;
        Ok((identity, plain, key))
    }

    /// Opens the identity's sign-in with a key kept from an earlier
    /// unseal; no KDF, no PIN. [`CryptoError::OtherKey`] (as
    /// `VaultError::Sealed`) when the entry was sealed under another PIN
    /// since: then only the PIN opens it.
    pub fn sso_open_with_key(
        &self,
        name: &str,
        key: &SsoKey,
    ) -> Result<(SsoIdentity, SsoSecrets), VaultError> {
        let (identity, plain) = self.sign_in_open_with_key(name, key)?;
        let secrets = parse_secrets(&identity, plain.expose())?;
        Ok((identity, secrets))
    }

    /// [`Vault::sso_open_with_key`] for either kind, unparsed.
    pub(super) fn sign_in_open_with_key(
        &self,
        name: &str,
        key: &SsoKey,
    ) -> Result<(SsoIdentity, SecretBytes), VaultError> {
        let _lock = self.lock()?;
        let identity = self.sso_get(name)?;
        let sealed = self.sso_entry(&identity)?;
        let plain = key
            .open(&context(&identity), sealed.expose())
            .map_err(|source| sealed_error(&identity, source))?;
        Ok((identity, plain))
    }

    /// Seals a new sign-in, or renewed tokens, of an existing identity
    /// under `key`, kept from opening it ([`Vault::sso_unseal_keeping_key`]):
    /// no KDF, and the same salt, so the agent's key opens the result too.
    /// Refused ([`CryptoError::OtherKey`]) unless the stored entry still
    /// opens with that key, checked under the lock: a PIN changed between
    /// the caller's unseal and this write is never undone. `signed_in`
    /// marks a completed sign-in.
    pub fn sso_reseal(
        &self,
        name: &str,
        key: &SsoKey,
        secrets: &SsoSecrets,
        signed_in: bool,
    ) -> Result<SsoIdentity, VaultError> {
        self.sign_in_reseal(
            name,
            key,
            SignInKind::IdentityCenter,
            &secrets.to_bytes(),
            signed_in,
        )
    }

    /// [`Vault::sso_reseal`] for either kind: seals `plain`, the secrets
    /// of a sign-in of `kind`.
    pub(super) fn sign_in_reseal(
        &self,
        name: &str,
        key: &SsoKey,
        kind: SignInKind,
        plain: &[u8],
        signed_in: bool,
    ) -> Result<SsoIdentity, VaultError> {
        let _lock = self.lock()?;
        let mut all = self.load_sso_index()?;
        let identity = all
            .iter_mut()
            .find(|i| i.name.as_str() == name)
            .ok_or_else(|| VaultError::NotFound { name: name.into() })?;
        require_kind(identity, kind)?;
        let entry = tokens_key(&identity.id);
        let stored = self
            .store
            .get(&entry)?
            .ok_or_else(|| VaultError::MissingKey {
                name: identity.name.clone(),
            })?;
        let ctx = context(identity);
        key.open(&ctx, stored.expose())
            .map_err(|source| sealed_error(identity, source))?;
        let sealed = key
            .seal(&ctx, plain)
            .map_err(|source| sealed_error(identity, source))?;
        if signed_in {
            identity.signed_in_at = (self.clock)();
        }
        let updated = identity.clone();
        self.store.put(&entry, &sealed)?;
        if signed_in {
            self.save_sso_index(all)?;
        }
        Ok(updated)
    }

    /// Renames an Identity Center identity. Its sealed sign-in is bound
    /// to its id and start URL, not its name, so no PIN is needed; the
    /// name is checked free across both kinds under the lock.
    pub fn sso_rename(&self, old: &str, new: IdentityName) -> Result<SsoIdentity, VaultError> {
        let _lock = self.lock()?;
        self.check_name_free(&new)?;
        let mut all = self.load_sso_index()?;
        let identity = all
            .iter_mut()
            .find(|i| i.name.as_str() == old)
            .ok_or_else(|| VaultError::NotFound { name: old.into() })?;
        identity.name = new;
        let renamed = identity.clone();
        self.save_sso_index(all)?;
        Ok(renamed)
    }

    /// Changes the PIN of an Identity Center identity: opens its sign-in
    /// with `old` (a wrong one counted as for any PIN) and seals it under
    /// `new` with a fresh salt, so a key kept from the old PIN (the agent's)
    /// opens it no more.
    pub fn sso_change_pin(&self, name: &str, old: &Pin, new: &Pin) -> Result<(), VaultError> {
        crate::model::identity::check_pin(new)?;
        let _lock = self.lock()?;
        let identity = self.sso_get(name)?;
        let (entry, ctx) = (tokens_key(&identity.id), context(&identity));
        let (plain, carry) =
            self.open_counted_with(&identity.id, &identity.name, &entry, |sealed| {
                open_any(old, &ctx, sealed)
            })?;
        // Under the same protection: a TPM-bound sign-in stays bound.
        let sealed =
            self.seal_bytes_like(&identity.name, &ctx, new, plain.expose(), carry.as_ref())?;
        self.store.put(&entry, &sealed)?;
        tracing::info!(identity = %identity.name, "Identity Center PIN changed");
        Ok(())
    }

    /// Removes an Identity Center identity and its entries.
    pub fn sso_remove(&self, name: &str) -> Result<SsoIdentity, VaultError> {
        let _lock = self.lock()?;
        let mut all = self.load_sso_index()?;
        let pos = all
            .iter()
            .position(|i| i.name.as_str() == name)
            .ok_or_else(|| VaultError::NotFound { name: name.into() })?;
        let gone = all.remove(pos);
        self.save_sso_index(all)?;
        self.store.delete(&tokens_key(&gone.id))?;
        self.store.delete(&attempts_key(&gone.id))?;
        tracing::info!(identity = %gone.name, "Identity Center identity removed");
        Ok(gone)
    }
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::*;
    use crate::aws::sso::ClientRegistration;
    use crate::model::secret::{ClientSecret, SsoAccessToken};
    use crate::vault::AddOptions;
    use crate::vault::tests::{new, ok, vault};

    fn secrets(token: &str) -> SsoSecrets {
        SsoSecrets {
            client: ClientRegistration {
                client_id: "cid".into(),
                client_secret: ClientSecret::new("client-secret-xyz".into()),
                expires_at: OffsetDateTime::from_unix_timestamp(2_000_000_000).unwrap(),
                scopes: vec![],
                grant_types: vec![],
            },
            access_token: SsoAccessToken::new(token.into()),
            refresh_token: None,
            access_expires_at: OffsetDateTime::from_unix_timestamp(2_000_000_000).unwrap(),
        }
    }

    fn new_sso(name: &str) -> NewSso {
        NewSso::parse(name, "https://d-1.awsapps.com/start", "eu-west-1", None).unwrap()
    }

    #[test]
    fn sealed_names_unique_wrong_pins_counted_removed() {
        let (v, store, _d) = vault();
        let pin = Pin::new("123456".into());
        let added = v
            .sso_add(&new_sso("corp"), &pin, &secrets("aoa-token-1"))
            .unwrap();
        for (k, val) in store.snapshot() {
            let text = String::from_utf8_lossy(&val);
            assert!(
                !text.contains("aoa-token") && !text.contains("client-secret"),
                "{k}"
            );
        }
        let (_, opened) = v.sso_unseal("corp", &pin).unwrap();
        assert_eq!(opened.access_token.expose(), "aoa-token-1");
        assert!(matches!(
            v.sso_unseal("corp", &Pin::new("000000".into())),
            Err(VaultError::WrongPin { remaining: 4, .. })
        ));
        // Names are unique across kinds, both ways.
        assert!(matches!(
            v.sso_add(&new_sso("corp"), &pin, &secrets("x")),
            Err(VaultError::NameTaken { .. })
        ));
        assert!(matches!(
            v.add(new("corp", "123456"), AddOptions::default(), &ok()),
            Err(VaultError::NameTaken { .. })
        ));
        v.add(new("keys", "123456"), AddOptions::default(), &ok())
            .unwrap();
        assert!(matches!(
            v.sso_add(&new_sso("keys"), &pin, &secrets("x")),
            Err(VaultError::NameTaken { .. })
        ));
        // Resealed tokens open with the same PIN.
        let (_, _, key) = v.sso_unseal_keeping_key("corp", &pin).unwrap();
        v.sso_reseal("corp", &key, &secrets("aoa-token-2"), true)
            .unwrap();
        assert_eq!(
            v.sso_unseal("corp", &pin).unwrap().1.access_token.expose(),
            "aoa-token-2"
        );
        // And the kept key still fits what it sealed.
        assert_eq!(
            v.sso_open_with_key("corp", &key)
                .unwrap()
                .1
                .access_token
                .expose(),
            "aoa-token-2"
        );
        // After a PIN change, a key kept from the old PIN seals nothing.
        let new_pin = Pin::new("a-new-pin-9".into());
        v.sso_change_pin("corp", &pin, &new_pin).unwrap();
        assert!(matches!(
            v.sso_reseal("corp", &key, &secrets("aoa-token-3"), false),
            Err(VaultError::Sealed {
                source: CryptoError::OtherKey,
                ..
            })
        ));
        assert_eq!(
            v.sso_unseal("corp", &new_pin)
                .unwrap()
                .1
                .access_token
                .expose(),
            "aoa-token-2"
        );
        assert_eq!(v.sso_remove("corp").unwrap().id, added.id);
        assert!(v.sso_list().unwrap().is_empty());
        assert!(!store.keys().iter().any(|k| k.contains(&added.id)));
    }
}
