//! An identity's several keys: during a rotation ([`crate::app::rotation`]) the
//! vault holds the old and the new key side by side, switches the active
//! one with one write of the index, and keeps the rotation's state entry;
//! and what IAM said of the keys, recorded for `keyfob audit`.

use serde::Deserialize;
use time::OffsetDateTime;

use crate::model::identity::{AccessKeyId, Identity, KeyFacts};
use crate::model::secret::{Pin, SecretAccessKey};

use super::{Vault, VaultError, rotation_key, sealed_key};

impl Vault {
    /// The other key of an unfinished rotation, if there is one.
    pub(super) fn rotation_partner(
        &self,
        identity: &Identity,
    ) -> Result<Option<AccessKeyId>, VaultError> {
        let Some(bytes) = self.store.get(&rotation_key(&identity.id))? else {
            return Ok(None);
        };
        #[derive(Deserialize)]
        struct Keys {
            old_key_id: AccessKeyId,
            new_key_id: Option<AccessKeyId>,
        }
        let Ok(keys) = serde_json::from_slice::<Keys>(bytes.expose()) else {
            return Ok(None);
        };
        Ok([Some(keys.old_key_id), keys.new_key_id]
            .into_iter()
            .flatten()
            .find(|k| *k != identity.access_key_id))
    }

    /// Opens `identity`'s sealed key `key_id` (the active one, or the other
    /// key of a rotation) with `pin`, counting failures like [`Self::unseal`].
    pub fn unseal_key(
        &self,
        identity: &Identity,
        key_id: &AccessKeyId,
        pin: &Pin,
    ) -> Result<SecretAccessKey, VaultError> {
        let _lock = self.lock()?;
        let target = Identity {
            access_key_id: key_id.clone(),
            ..identity.clone()
        };
        self.unseal_locked(&target, pin)
    }

    /// Seals `secret` as `identity`'s key `key_id` under `pin`, beside the
    /// active key (a rotation's new key), protected as the active key is:
    /// a TPM-bound identity's new key is bound before the vault switches
    /// to it (opening the active key first when its recovery code must
    /// carry over).
    pub fn store_key(
        &self,
        identity: &Identity,
        key_id: &AccessKeyId,
        secret: &SecretAccessKey,
        pin: &Pin,
    ) -> Result<(), VaultError> {
        let target = Identity {
            access_key_id: key_id.clone(),
            ..identity.clone()
        };
        let _lock = self.lock()?;
        let protection = self.protection(identity)?;
        let carry = if protection.recovery {
            self.unseal_carry(identity, pin)?.1
        } else {
            None
        };
        let sealed = if protection.tpm && carry.is_none() {
            let mut tpm = crate::platform::tpm::Tpm::open().map_err(|source| VaultError::Tpm {
                name: Some(identity.name.clone()),
                source,
            })?;
            self.seal_as(
                &target,
                pin,
                secret,
                super::bind::SealAs::Tpm {
                    tpm: &mut tpm,
                    carry: None,
                    recovery: None,
                },
            )?
        } else {
            self.seal_like(&target, pin, secret, carry.as_ref())?
        };
        Ok(self.store.put(&sealed_key(&identity.id, key_id), &sealed)?)
    }

    /// Makes `key_id` the identity's active key: one write of the index,
    /// so the identity always has exactly one working key in the vault.
    /// The key must already be sealed ([`Self::store_key`]).
    pub fn switch_key(
        &self,
        name: &str,
        key_id: &AccessKeyId,
        created: Option<OffsetDateTime>,
    ) -> Result<Identity, VaultError> {
        let _lock = self.lock()?;
        let mut all = self.load_index()?;
        let identity = all
            .iter_mut()
            .find(|i| i.name.as_str() == name)
            .ok_or_else(|| VaultError::NotFound { name: name.into() })?;
        if self.store.get(&sealed_key(&identity.id, key_id))?.is_none() {
            return Err(VaultError::MissingKey {
                name: identity.name.clone(),
            });
        }
        identity.access_key_id = key_id.clone();
        identity.key_created_at = created;
        let switched = identity.clone();
        self.save_index(all)?;
        Ok(switched)
    }

    /// Deletes the sealed copy of a key that is not the active one.
    pub fn forget_key(&self, identity: &Identity, key_id: &AccessKeyId) -> Result<(), VaultError> {
        let _lock = self.lock()?;
        let current = self.get(identity.name.as_str())?;
        if current.access_key_id == *key_id {
            return Err(VaultError::MissingKey {
                name: identity.name.clone(),
            });
        }
        Ok(self.store.delete(&sealed_key(&identity.id, key_id))?)
    }

    /// Records what IAM said of the identity's keys: the active key's
    /// creation date and the facts `keyfob audit` reports offline.
    pub fn record_facts(
        &self,
        name: &str,
        created: Option<OffsetDateTime>,
        facts: KeyFacts,
    ) -> Result<(), VaultError> {
        let _lock = self.lock()?;
        let mut all = self.load_index()?;
        if let Some(i) = all.iter_mut().find(|i| i.name.as_str() == name) {
            if created.is_some() {
                i.key_created_at = created;
            }
            i.facts = Some(facts);
            self.save_index(all)?;
        }
        Ok(())
    }

    /// An identity's rotation state entry (see [`crate::app::rotation`]).
    pub fn rotation_state(&self, identity: &Identity) -> Result<Option<Vec<u8>>, VaultError> {
        Ok(self
            .store
            .get(&rotation_key(&identity.id))?
            .map(|b| b.expose().to_vec()))
    }

    pub fn put_rotation_state(&self, identity: &Identity, bytes: &[u8]) -> Result<(), VaultError> {
        let _lock = self.lock()?;
        Ok(self.store.put(&rotation_key(&identity.id), bytes)?)
    }

    pub fn clear_rotation_state(&self, identity: &Identity) -> Result<(), VaultError> {
        let _lock = self.lock()?;
        Ok(self.store.delete(&rotation_key(&identity.id))?)
    }
}
