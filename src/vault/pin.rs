//! What the PIN guards: sealing a key under it, opening a key with it
//! while counting wrong PINs (the back-off in the [module docs](super)),
//! and re-sealing under a new PIN.

use serde::{Deserialize, Serialize};

use crate::model::identity::{Identity, IdentityName, check_pin};
use crate::model::secret::{Pin, SecretAccessKey, SecretBytes};
use crate::platform::bound::{self, Carry};
use crate::platform::crypto::{self, CryptoError};
use crate::platform::tpm::Tpm;

use super::{Vault, VaultError, attempts_key, new_id, rotation_key, sealed_key};

/// Wrong PINs allowed before keyfob makes the user wait.
pub const FREE_ATTEMPTS: u32 = 5;
/// The first wait, in seconds; it doubles with each further failure.
pub const FIRST_WAIT_SECS: i64 = 30;
/// The longest wait, in seconds.
pub const MAX_WAIT_SECS: i64 = 3600;

#[derive(Default, Serialize, Deserialize)]
struct Attempts {
    failures: u32,
    /// Unix seconds before which no attempt is accepted.
    locked_until: i64,
}

impl Vault {
    /// Opens the identity's sealed key with `pin`, counting failures.
    pub fn unseal(&self, name: &str, pin: &Pin) -> Result<SecretAccessKey, VaultError> {
        Ok(self.unseal_identity(name, pin)?.1)
    }

    /// As [`Self::unseal`], with the identity record the key opened
    /// under: its endpoints are bound into the sealed key, so these are
    /// the ones the key may be sent to (a record read apart from the
    /// unseal could have been changed in between).
    pub fn unseal_identity(
        &self,
        name: &str,
        pin: &Pin,
    ) -> Result<(Identity, SecretAccessKey), VaultError> {
        let _lock = self.lock()?;
        let identity = self.get(name)?;
        let secret = self.unseal_locked(&identity, pin)?;
        Ok((identity, secret))
    }

    pub(super) fn unseal_locked(
        &self,
        identity: &Identity,
        pin: &Pin,
    ) -> Result<SecretAccessKey, VaultError> {
        Ok(self.unseal_carry(identity, pin)?.0)
    }

    /// [`Self::unseal_locked`], with what a re-seal of a TPM-bound key
    /// keeps (`None` for a key the PIN alone protects).
    pub(super) fn unseal_carry(
        &self,
        identity: &Identity,
        pin: &Pin,
    ) -> Result<(SecretAccessKey, Option<Carry>), VaultError> {
        let ctx = context(identity);
        let (plain, carry) = self.open_counted_with(
            &identity.id,
            &identity.name,
            &sealed_key(&identity.id, &identity.access_key_id),
            |sealed| open_any(pin, &ctx, sealed),
        )?;
        let text = std::str::from_utf8(plain.expose()).map_err(|_| VaultError::Sealed {
            name: identity.name.clone(),
            source: CryptoError::Malformed,
        })?;
        Ok((SecretAccessKey::new(text.to_owned()), carry))
    }

    /// Opens the envelope in store entry `entry` (of the identity with
    /// `id`) with `open`, counting wrong PINs and keeping the back-off:
    /// the one place any identity's PIN is checked.
    pub(super) fn open_counted_with<T>(
        &self,
        id: &str,
        name: &IdentityName,
        entry: &str,
        open: impl FnOnce(&[u8]) -> Result<T, CryptoError>,
    ) -> Result<T, VaultError> {
        let now = (self.clock)().unix_timestamp();
        let attempts = self.attempts(id)?;
        if attempts.locked_until > now {
            return Err(VaultError::BackOff {
                name: name.clone(),
                failures: attempts.failures,
                wait_secs: attempts.locked_until - now,
            });
        }
        let sealed = self
            .store
            .get(entry)?
            .ok_or_else(|| VaultError::MissingKey { name: name.clone() })?;
        match open(sealed.expose()) {
            Ok(plain) => {
                if attempts.failures > 0 {
                    self.store.delete(&attempts_key(id))?;
                }
                Ok(plain)
            }
            Err(e @ (CryptoError::Unauthenticated | CryptoError::TpmAuthFail { .. })) => {
                let tpm_tries_left = match e {
                    CryptoError::TpmAuthFail { tries_left } => tries_left,
                    _ => None,
                };
                let failures = attempts.failures + 1;
                let wait_secs = back_off_secs(failures);
                let next = Attempts {
                    failures,
                    locked_until: now + wait_secs,
                };
                // Plain data: serialising cannot fail.
                let bytes = serde_json::to_vec(&next).expect("attempts serialise");
                self.store.put(&attempts_key(id), &bytes)?;
                tracing::info!(identity = %name, failures, "wrong PIN");
                Err(VaultError::WrongPin {
                    name: name.clone(),
                    remaining: FREE_ATTEMPTS.saturating_sub(failures),
                    wait_secs,
                    tpm_tries_left,
                })
            }
            // The TPM refused for another reason than the PIN (locked
            // out, absent, another TPM): not a guess, not counted.
            Err(CryptoError::Tpm(source)) => Err(VaultError::Tpm {
                name: Some(name.clone()),
                source,
            }),
            Err(source) => Err(VaultError::Sealed {
                name: name.clone(),
                source,
            }),
        }
    }

    fn attempts(&self, id: &str) -> Result<Attempts, VaultError> {
        Ok(match self.store.get(&attempts_key(id))? {
            // An unreadable counter must not unlock more attempts: treat it
            // as the most recent failure that starts the longest wait.
            Some(bytes) => serde_json::from_slice(bytes.expose()).unwrap_or(Attempts {
                failures: FREE_ATTEMPTS,
                locked_until: (self.clock)().unix_timestamp() + MAX_WAIT_SECS,
            }),
            None => Attempts::default(),
        })
    }

    /// Re-seals the identity's key under a new PIN; needs the old one.
    pub fn change_pin(&self, name: &str, old: &Pin, new: &Pin) -> Result<(), VaultError> {
        check_pin(new)?;
        let identity = self.get(name)?;
        let _lock = self.lock()?;
        let (secret, carry) = self.unseal_carry(&identity, old)?;
        if carry.is_none() {
            self.check_pin_only(new)?;
        }
        let sealed = self.seal_like(&identity, new, &secret, carry.as_ref())?;
        // A rotation's other key is re-sealed too, or it would keep the old
        // PIN; opened before anything is written.
        let partner = match self.rotation_partner(&identity)? {
            Some(other) => {
                let partner = Identity {
                    access_key_id: other.clone(),
                    ..identity.clone()
                };
                let (secret, carry) = self.unseal_carry(&partner, old)?;
                let sealed = self.seal_like(&partner, new, &secret, carry.as_ref())?;
                Some((other, sealed))
            }
            None => None,
        };
        self.store
            .put(&sealed_key(&identity.id, &identity.access_key_id), &sealed)?;
        if let Some((other, sealed)) = partner {
            self.store.put(&sealed_key(&identity.id, &other), &sealed)?;
        }
        tracing::info!(identity = %identity.name, "PIN changed");
        Ok(())
    }
}

impl Vault {
    /// Points identity `name` at other endpoints, under its PIN: the key is
    /// sealed again with the new endpoints in its associated data. The
    /// record takes a new id, so the change is one atomic index write —
    /// the new sealed entry is written first, the old one deleted last,
    /// and a crash anywhere leaves the identity opening under one of the
    /// two (the wrong-PIN counter moves with it). Refused while a
    /// rotation is in progress (its state is under the old id).
    pub fn set_endpoints(
        &self,
        name: &str,
        pin: &Pin,
        endpoints: crate::model::endpoints::Endpoints,
    ) -> Result<Identity, VaultError> {
        let _lock = self.lock()?;
        let identity = self.get(name)?;
        if self.store.get(&rotation_key(&identity.id))?.is_some() {
            return Err(crate::model::field::FieldError::new(
                crate::model::field::Field::EndpointUrl,
                format!(
                    "cannot change while a rotation of {name} is in progress — finish it first (`keyfob rotate {name} --continue`)"
                ),
            )
            .into());
        }
        let (secret, carry) = self.unseal_carry(&identity, pin)?;
        let moved = Identity {
            id: new_id()?,
            endpoints: Some(endpoints),
            ..identity.clone()
        };
        let sealed = self.seal_like(&moved, pin, &secret, carry.as_ref())?;
        drop(secret);
        let entry = sealed_key(&moved.id, &moved.access_key_id);
        self.store.put(&entry, &sealed)?;
        if let Some(attempts) = self.store.get(&attempts_key(&identity.id))? {
            self.store
                .put(&attempts_key(&moved.id), attempts.expose())?;
        }
        let mut all = self.load_index()?;
        for i in all.iter_mut().filter(|i| i.name == identity.name) {
            *i = moved.clone();
        }
        if let Err(e) = self.save_index(all) {
            let _ = self.store.delete(&entry);
            let _ = self.store.delete(&attempts_key(&moved.id));
            return Err(e);
        }
        let _ = self
            .store
            .delete(&sealed_key(&identity.id, &identity.access_key_id));
        let _ = self.store.delete(&attempts_key(&identity.id));
        tracing::info!(identity = %identity.name, endpoints = %moved.endpoints().describe(), "endpoints changed");
        Ok(moved)
    }
}

/// Opens a v1 envelope with the PIN, or a v2 one with the PIN and the TPM
/// (connecting to it only then).
pub(super) fn open_any(
    pin: &Pin,
    context: &[u8],
    sealed: &[u8],
) -> Result<(SecretBytes, Option<Carry>), CryptoError> {
    if crypto::version_of(sealed)? == bound::VERSION {
        let mut tpm = Tpm::open()?;
        let (plain, carry) = bound::open(&mut tpm, pin, context, sealed)?;
        return Ok((plain, Some(carry)));
    }
    crypto::open(pin, context, sealed).map(|plain| (plain, None))
}

/// The wait after the `failures`-th consecutive wrong PIN.
pub fn back_off_secs(failures: u32) -> i64 {
    if failures < FREE_ATTEMPTS {
        return 0;
    }
    let doublings = (failures - FREE_ATTEMPTS).min(16);
    (FIRST_WAIT_SECS << doublings).min(MAX_WAIT_SECS)
}

/// The AEAD context: binds a sealed key to its identity and key ID.
/// The associated data of an identity's sealed key: its id, key ID and
/// (for identities added since keyfob kept them) its endpoints, so the
/// index cannot point a sealed key at another endpoint without the PIN.
pub(super) fn context(identity: &Identity) -> Vec<u8> {
    let mut aad = format!(
        "keyfob/identity/v1\0{}\0{}",
        identity.id, identity.access_key_id
    );
    if let Some(e) = &identity.endpoints {
        aad.push_str(&e.aad_part());
    }
    aad.into_bytes()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;
    use crate::model::endpoints::Endpoints;
    use crate::platform::store::SecretStore;
    use crate::vault::AddOptions;
    use crate::vault::tests::{NOW, SECRET, new, ok, vault};

    #[test]
    fn change_pin_needs_the_old_one() {
        let (v, _s, _d) = vault();
        v.add(new("alice", "123456"), AddOptions::default(), &ok())
            .unwrap();
        let (old, new_pin) = (Pin::new("123456".into()), Pin::new("abcdefg".into()));
        assert!(matches!(
            v.change_pin("alice", &new_pin, &old),
            Err(VaultError::WrongPin { .. })
        ));
        v.change_pin("alice", &old, &new_pin).unwrap();
        assert!(v.unseal("alice", &old).is_err());
        assert_eq!(v.unseal("alice", &new_pin).unwrap().expose(), SECRET);
    }

    #[test]
    fn back_off_after_five_wrong_pins_doubles_and_resets() {
        let (v, store, _d) = vault();
        v.add(new("alice", "123456"), AddOptions::default(), &ok())
            .unwrap();
        let wrong = Pin::new("000000".into());
        let right = Pin::new("123456".into());
        for n in 1..=4 {
            match v.unseal("alice", &wrong) {
                Err(VaultError::WrongPin { remaining, .. }) => assert_eq!(remaining, 5 - n),
                other => panic!("{other:?}"),
            }
        }
        match v.unseal("alice", &wrong) {
            Err(VaultError::WrongPin {
                remaining: 0,
                wait_secs: 30,
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
        // Even the right PIN is refused during the wait, without a KDF run.
        assert!(matches!(
            v.unseal("alice", &right),
            Err(VaultError::BackOff {
                wait_secs: 30,
                failures: 5,
                ..
            })
        ));
        NOW.fetch_add(31, Ordering::SeqCst);
        assert!(matches!(
            v.unseal("alice", &wrong),
            Err(VaultError::WrongPin { wait_secs: 60, .. })
        ));
        NOW.fetch_add(61, Ordering::SeqCst);
        assert_eq!(v.unseal("alice", &right).unwrap().expose(), SECRET);
        // The right PIN reset the counter: the key is still there.
        assert!(!store.keys().iter().any(|k| k.ends_with(".attempts")));
        assert!(matches!(
            v.unseal("alice", &wrong),
            Err(VaultError::WrongPin { remaining: 4, .. })
        ));
    }

    #[test]
    fn back_off_schedule() {
        assert_eq!(back_off_secs(4), 0);
        assert_eq!(back_off_secs(5), 30);
        assert_eq!(back_off_secs(6), 60);
        assert_eq!(back_off_secs(11), 1920);
        assert_eq!(back_off_secs(12), 3600);
        assert_eq!(back_off_secs(1000), 3600);
    }

    #[test]
    fn a_sealed_key_moved_to_another_identity_does_not_open() {
        let (v, store, _d) = vault();
        let a = v
            .add(new("alice", "123456"), AddOptions::default(), &ok())
            .unwrap();
        let b = v
            .add(new("bob", "123456"), AddOptions::default(), &ok())
            .unwrap();
        let sealed_a = store
            .get(&sealed_key(&a.id, &a.access_key_id))
            .unwrap()
            .unwrap();
        store
            .put(&sealed_key(&b.id, &b.access_key_id), sealed_a.expose())
            .unwrap();
        assert!(v.unseal("bob", &Pin::new("123456".into())).is_err());
    }

    /// A same-user program that rewrites the index to send an identity's
    /// key elsewhere (the record is not secret, and the Secret Service
    /// lets any program of the user write it) gets an identity whose key
    /// no longer opens: the endpoints are bound into the sealed key.
    #[test]
    fn an_identity_pointed_at_another_endpoint_does_not_open() {
        let (v, _store, _d) = vault();
        let mut n = new("alice", "123456");
        n.endpoints = Endpoints::parse(Some("http://127.0.0.1:4566"), None).unwrap();
        v.add(n, AddOptions::default(), &ok()).unwrap();
        let pin = Pin::new("123456".into());
        let (opened, _) = v.unseal_identity("alice", &pin).unwrap();
        assert_eq!(
            opened.endpoints().url.as_deref(),
            Some("http://127.0.0.1:4566")
        );
        for hostile in [
            Some(Endpoints::parse(Some("http://127.0.0.1:9999"), None).unwrap()),
            Some(Endpoints::aws("us-east-1")),
            None,
        ] {
            let mut all = v.load_index().unwrap();
            all[0].endpoints = hostile.clone();
            v.save_index(all).unwrap();
            // AEAD cannot tell a changed record from a wrong PIN: the open
            // fails (and counts as a failed attempt).
            assert!(v.unseal("alice", &pin).is_err(), "{hostile:?}");
        }
        let mut all = v.load_index().unwrap();
        all[0].endpoints = Some(opened.endpoints());
        v.save_index(all).unwrap();
        assert!(v.unseal("alice", &pin).is_ok());
    }

    /// `set_endpoints` needs the PIN, reseals under the new endpoints
    /// (the key opens and the record says so), and a wrong PIN changes
    /// nothing.
    #[test]
    fn endpoints_change_only_under_the_pin() {
        let (v, store, _d) = vault();
        let old = v
            .add(new("alice", "123456"), AddOptions::default(), &ok())
            .unwrap();
        let to = Endpoints::parse(Some("http://127.0.0.1:4566"), Some("eu-west-1")).unwrap();
        assert!(matches!(
            v.set_endpoints("alice", &Pin::new("wrong-pin".into()), to.clone()),
            Err(VaultError::WrongPin { .. })
        ));
        assert_eq!(v.get("alice").unwrap().endpoints(), Endpoints::default());
        let moved = v
            .set_endpoints("alice", &Pin::new("123456".into()), to.clone())
            .unwrap();
        assert_eq!(moved.endpoints(), to);
        let (opened, secret) = v
            .unseal_identity("alice", &Pin::new("123456".into()))
            .unwrap();
        assert_eq!(opened.endpoints(), to);
        assert_eq!(secret.expose(), SECRET);
        // The old sealed entry went.
        assert!(
            store
                .get(&sealed_key(&old.id, &old.access_key_id))
                .unwrap()
                .is_none()
        );
    }
}
