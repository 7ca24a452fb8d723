//! What protects each identity's key: the PIN alone (envelope v1) or the
//! PIN and the TPM (v2, [`crate::platform::bound`]), chosen when it is
//! added (`--tpm require|prefer|off`), kept by every later seal of it
//! (a new PIN, a rotation's new key, new endpoints), and changed by
//! [`Vault::reseal`].
//!
//! Re-sealing replaces each sealed entry with one store write, so a crash
//! leaves every key of the identity opening under its old protection or
//! its new one, never neither; the TPM keeps no state of ours (its object
//! lives only in the envelope).

use crate::model::identity::{Identity, IdentityName, TpmChoice, check_pin, check_pin_strength};
use crate::model::secret::{Pin, SecretAccessKey};
use crate::platform::bound::{self, Carry, Protection, RecoveryCode};
use crate::platform::crypto::{self, CryptoError};
use crate::platform::tpm::{Tpm, TpmError};

use super::pin::context;
use super::{AddOptions, KeyVerifier, NewIdentity, Vault, VaultError, sealed_key};
use crate::model::identity::{account_from_key_id, is_root_arn};

/// How a key is to be sealed.
pub(super) enum SealAs<'a> {
    /// Under the PIN alone (v1).
    Pin,
    /// Under the PIN and this TPM, keeping `carry`'s data key (and so its
    /// recovery code) or making a new recovery code.
    Tpm {
        tpm: &'a mut Tpm,
        carry: Option<&'a Carry>,
        recovery: Option<&'a RecoveryCode>,
    },
}

/// A sealing failure of identity `name`'s entry: the TPM's refusals as
/// such, the rest as a sealed-entry error.
pub(super) fn sealed_error(name: &IdentityName, source: CryptoError) -> VaultError {
    match source {
        CryptoError::Tpm(source) => VaultError::Tpm {
            name: Some(name.clone()),
            source,
        },
        source => VaultError::Sealed {
            name: name.clone(),
            source,
        },
    }
}

/// The PIN a re-seal seals under: the opening one, or with the recovery
/// code the new one.
pub(super) fn reseal_pin<'a>(
    opener: &Opener<'a>,
    new_pin: Option<&'a Pin>,
) -> Result<&'a Pin, VaultError> {
    match (opener, new_pin) {
        (Opener::Pin(p), _) => Ok(p),
        (Opener::Recovery(_), Some(p)) => Ok(p),
        (Opener::Recovery(_), None) => Err(crate::model::field::FieldError::new(
            crate::model::field::Field::Pin,
            "a new PIN is needed to seal a key opened with its recovery code",
        )
        .into()),
    }
}

/// What opens a key for [`Vault::reseal`].
pub enum Opener<'a> {
    Pin(&'a Pin),
    /// The recovery code shown when it was bound: opens it without the TPM.
    Recovery(&'a RecoveryCode),
}

/// What [`Vault::reseal`] and [`Vault::add_bound`] did.
#[derive(Debug)]
pub struct Sealed {
    pub protection: Protection,
    /// A new recovery code, to show once.
    pub recovery: Option<RecoveryCode>,
    /// Why the key is under the PIN alone when a TPM was preferred.
    pub no_tpm: Option<TpmError>,
}

/// The one line keyfob says of a key the PIN alone protects.
pub const PIN_ONLY_NOTICE: &str = "protected by the PIN alone (Argon2id): keyfob's back-off stops guessing through keyfob, not offline guessing by whoever copies the keychain — no TPM binds it";

impl Vault {
    /// The TPM to bind a new key to under `choice`: `Ok(None)` to seal
    /// under the PIN alone (with why, when a TPM was preferred but did not
    /// answer). Call before asking for anything expensive.
    pub fn tpm_for(
        &self,
        choice: TpmChoice,
    ) -> Result<(Option<Tpm>, Option<TpmError>), VaultError> {
        match choice {
            TpmChoice::Off => Ok((None, None)),
            TpmChoice::Prefer => match Tpm::open() {
                Ok(tpm) => Ok((Some(tpm), None)),
                Err(e) => Ok((None, Some(e))),
            },
            TpmChoice::Require => Tpm::open()
                .map(|t| (Some(t), None))
                .map_err(|source| VaultError::Tpm { name: None, source }),
        }
    }

    /// Refuses a PIN too weak to guard a key alone (see
    /// [`crate::model::identity::PIN_ONLY_MIN_GUESSES_LOG10`]).
    pub(super) fn check_pin_only(&self, pin: &Pin) -> Result<(), VaultError> {
        check_pin(pin)?;
        if let Some(min) = self.pin_only_min_log10 {
            check_pin_strength(pin, min)?;
        }
        Ok(())
    }

    pub(super) fn seal_as(
        &self,
        identity: &Identity,
        pin: &Pin,
        secret: &SecretAccessKey,
        how: SealAs<'_>,
    ) -> Result<Vec<u8>, VaultError> {
        let plain = secret.expose().as_bytes();
        self.seal_bytes(&identity.name, &context(identity), pin, plain, how)
    }

    /// Seals `plain` (an entry of identity `name`, under AEAD `context`)
    /// as `how` says: what every kind of identity's seal comes down to.
    pub(super) fn seal_bytes(
        &self,
        name: &IdentityName,
        context: &[u8],
        pin: &Pin,
        plain: &[u8],
        how: SealAs<'_>,
    ) -> Result<Vec<u8>, VaultError> {
        let sealed = match how {
            SealAs::Pin => crypto::seal(pin, self.kdf, context, plain),
            SealAs::Tpm {
                tpm,
                carry,
                recovery,
            } => bound::seal(tpm, pin, self.kdf, context, plain, carry, recovery),
        };
        sealed.map_err(|source| sealed_error(name, source))
    }

    /// Seals `secret` for `identity` as its key opened with `carry`
    /// (`Some` for a TPM-bound one) was: the same protection, the same
    /// recovery code.
    pub(super) fn seal_like(
        &self,
        identity: &Identity,
        pin: &Pin,
        secret: &SecretAccessKey,
        carry: Option<&Carry>,
    ) -> Result<Vec<u8>, VaultError> {
        let plain = secret.expose().as_bytes();
        self.seal_bytes_like(&identity.name, &context(identity), pin, plain, carry)
    }

    /// [`Self::seal_bytes`] as the entry opened with `carry` was sealed.
    pub(super) fn seal_bytes_like(
        &self,
        name: &IdentityName,
        context: &[u8],
        pin: &Pin,
        plain: &[u8],
        carry: Option<&Carry>,
    ) -> Result<Vec<u8>, VaultError> {
        match carry {
            None => self.seal_bytes(name, context, pin, plain, SealAs::Pin),
            Some(carry) => {
                let mut tpm = Tpm::open().map_err(|source| VaultError::Tpm {
                    name: Some(name.clone()),
                    source,
                })?;
                let how = SealAs::Tpm {
                    tpm: &mut tpm,
                    carry: Some(carry),
                    recovery: None,
                };
                self.seal_bytes(name, context, pin, plain, how)
            }
        }
    }

    /// How the identity's active key is protected (read from its envelope's
    /// header: no PIN, no TPM).
    pub fn protection(&self, identity: &Identity) -> Result<Protection, VaultError> {
        let sealed = self
            .store
            .get(&sealed_key(&identity.id, &identity.access_key_id))?
            .ok_or_else(|| VaultError::MissingKey {
                name: identity.name.clone(),
            })?;
        bound::protection_of(sealed.expose()).map_err(|source| VaultError::Sealed {
            name: identity.name.clone(),
            source,
        })
    }

    /// Seals identity `name`'s keys again under another protection: bound
    /// to this TPM (`tpm`, with `new_code` as its new recovery code when
    /// given: the face made it and shows it) or under the PIN alone.
    /// Opened with the PIN (counted like any unseal) or with the recovery
    /// code (then sealed under `new_pin`, which the PIN opener ignores).
    /// Each key is replaced in one store write.
    pub fn reseal(
        &self,
        name: &str,
        opener: Opener<'_>,
        new_pin: Option<&Pin>,
        tpm: bool,
        new_code: Option<&RecoveryCode>,
    ) -> Result<Protection, VaultError> {
        if matches!(self.get(name), Err(VaultError::NotFound { .. })) && self.sso_get(name).is_ok()
        {
            return self.sso_rebind(name, opener, new_pin, tpm, new_code);
        }
        let _lock = self.lock()?;
        let identity = self.get(name)?;
        let pin = reseal_pin(&opener, new_pin)?;
        let mut device = self.reseal_device(&identity.name, pin, tpm, new_code)?;
        let mut keys = vec![identity.access_key_id.clone()];
        if let Some(other) = self.rotation_partner(&identity)? {
            keys.push(other);
        }
        // Open every key first: a wrong PIN changes nothing.
        let mut opened = Vec::new();
        for key in &keys {
            let target = Identity {
                access_key_id: key.clone(),
                ..identity.clone()
            };
            let (secret, carry) = match &opener {
                Opener::Pin(p) => self.unseal_carry(&target, p)?,
                Opener::Recovery(code) => (self.open_recovery(&target, code)?, None),
            };
            opened.push((target, secret, carry));
        }
        let mut protection = Protection {
            tpm: false,
            recovery: false,
        };
        for (target, secret, carry) in &opened {
            let how = match device.as_mut() {
                None => SealAs::Pin,
                Some(t) => SealAs::Tpm {
                    tpm: t,
                    // A new code replaces the old; else the old one stays.
                    carry: if new_code.is_some() {
                        None
                    } else {
                        carry.as_ref()
                    },
                    recovery: new_code,
                },
            };
            let sealed = self.seal_as(target, pin, secret, how)?;
            protection =
                bound::protection_of(&sealed).map_err(|s| sealed_error(&target.name, s))?;
            self.store
                .put(&sealed_key(&target.id, &target.access_key_id), &sealed)?;
        }
        tracing::info!(identity = %identity.name, protection = protection.describe(), "resealed");
        Ok(protection)
    }

    /// Checks what a re-seal of identity `name` under `pin` needs: the
    /// TPM it binds to (`tpm`), else a PIN strong enough alone; a new
    /// recovery code only with the TPM.
    pub(super) fn reseal_device(
        &self,
        name: &IdentityName,
        pin: &Pin,
        tpm: bool,
        new_code: Option<&RecoveryCode>,
    ) -> Result<Option<Tpm>, VaultError> {
        // A new PIN (opened with the recovery code) is checked like any.
        check_pin(pin)?;
        if new_code.is_some() && !tpm {
            return Err(crate::model::field::FieldError::new(
                crate::model::field::Field::RecoveryCode,
                "a recovery code is made only for a TPM-bound key (--tpm on)",
            )
            .into());
        }
        if !tpm {
            self.check_pin_only(pin)?;
            return Ok(None);
        }
        Tpm::open().map(Some).map_err(|source| VaultError::Tpm {
            name: Some(name.clone()),
            source,
        })
    }

    /// Seals a new identity's first entry: bound to `tpm` when given
    /// (with a fresh recovery code when `recovery`), else under the PIN
    /// alone. The envelope, its protection, and the code to show once.
    pub(super) fn seal_new(
        &self,
        name: &IdentityName,
        context: &[u8],
        pin: &Pin,
        plain: &[u8],
        tpm: Option<&mut Tpm>,
        recovery: bool,
    ) -> Result<(Vec<u8>, Protection, Option<RecoveryCode>), VaultError> {
        let code = match (&tpm, recovery) {
            (Some(_), true) => Some(RecoveryCode::generate().map_err(|s| sealed_error(name, s))?),
            _ => None,
        };
        let how = match tpm {
            Some(t) => SealAs::Tpm {
                tpm: t,
                carry: None,
                recovery: code.as_ref(),
            },
            None => SealAs::Pin,
        };
        let sealed = self.seal_bytes(name, context, pin, plain, how)?;
        let protection = bound::protection_of(&sealed).map_err(|s| sealed_error(name, s))?;
        Ok((sealed, protection, code))
    }

    /// Opens `identity`'s key with its recovery code.
    fn open_recovery(
        &self,
        identity: &Identity,
        code: &RecoveryCode,
    ) -> Result<SecretAccessKey, VaultError> {
        let entry = sealed_key(&identity.id, &identity.access_key_id);
        let plain = self.open_recovery_entry(&identity.name, &entry, &context(identity), code)?;
        let text = std::str::from_utf8(plain.expose()).map_err(|_| VaultError::Sealed {
            name: identity.name.clone(),
            source: CryptoError::Malformed,
        })?;
        Ok(SecretAccessKey::new(text.to_owned()))
    }

    /// Opens store entry `entry` of identity `name` (AEAD `context`) with
    /// its recovery code. Not counted: a 128-bit code is not guessed.
    pub(super) fn open_recovery_entry(
        &self,
        name: &IdentityName,
        entry: &str,
        context: &[u8],
        code: &RecoveryCode,
    ) -> Result<crate::model::secret::SecretBytes, VaultError> {
        let sealed = self
            .store
            .get(entry)?
            .ok_or_else(|| VaultError::MissingKey { name: name.clone() })?;
        if bound::protection_of(sealed.expose()).is_ok_and(|p| !p.recovery) {
            return Err(crate::model::field::FieldError::new(
                crate::model::field::Field::RecoveryCode,
                format!(
                    "identity {name} has none: no recovery code was made when its key was sealed (open it with its PIN)"
                ),
            )
            .into());
        }
        bound::open_with_recovery(code, context, sealed.expose()).map_err(|source| match source {
            CryptoError::Unauthenticated => crate::model::field::FieldError::new(
                crate::model::field::Field::RecoveryCode,
                format!("does not open identity {name}; check the code as it was shown (26 letters and digits 2–7)"),
            )
            .into(),
            source => sealed_error(name, source),
        })
    }
}

impl Vault {
    /// [`Self::add`], also saying what protects the key (and its recovery
    /// code, to show once).
    pub fn add_bound(
        &self,
        new: NewIdentity,
        options: AddOptions,
        verifier: &dyn KeyVerifier,
    ) -> Result<(Identity, Sealed), VaultError> {
        check_pin(&new.pin)?;
        self.check_name_free(&new.name)?;
        let (mut tpm, no_tpm) = self.tpm_for(options.tpm)?;
        if tpm.is_none() {
            self.check_pin_only(&new.pin)?;
        }

        let caller = if options.no_verify {
            None
        } else {
            Some(super::verify(
                verifier,
                &new.access_key_id,
                &new.secret,
                &new.endpoints,
            )?)
        };
        if let Some(c) = &caller
            && is_root_arn(&c.arn)
            && !options.allow_root
        {
            return Err(VaultError::RootRefused { arn: c.arn.clone() });
        }

        let identity = Identity {
            id: super::new_id()?,
            name: new.name,
            account: caller
                .as_ref()
                .map(|c| c.account.clone())
                .or_else(|| account_from_key_id(new.access_key_id.as_str())),
            arn: caller.as_ref().map(|c| c.arn.clone()),
            user_id: caller.as_ref().map(|c| c.user_id.clone()),
            verified: caller.is_some(),
            access_key_id: new.access_key_id,
            added_at: (self.clock)(),
            key_created_at: None,
            facts: None,
            endpoints: Some(new.endpoints.clone()),
        };
        let plain = new.secret.expose().as_bytes();
        let ctx = context(&identity);
        let (sealed, protection, code) = self.seal_new(
            &identity.name,
            &ctx,
            &new.pin,
            plain,
            tpm.as_mut(),
            options.recovery,
        )?;

        let _lock = self.lock()?;
        let mut all = self.load_index()?;
        // Checked again under the lock: another process may have added it.
        if all.iter().any(|i| i.name == identity.name) || self.sso_name_taken(&identity.name)? {
            return Err(VaultError::NameTaken {
                name: identity.name,
            });
        }
        let sealed_key = sealed_key(&identity.id, &identity.access_key_id);
        self.store.put(&sealed_key, &sealed)?;
        all.push(identity.clone());
        if let Err(e) = self.save_index(all) {
            // Leave no orphan behind; the sealed entry is useless alone.
            let _ = self.store.delete(&sealed_key);
            return Err(e);
        }
        tracing::info!(identity = %identity.name, key = %identity.access_key_id.masked(), protection = protection.describe(), "identity added");
        Ok((
            identity,
            Sealed {
                protection,
                recovery: code,
                no_tpm,
            },
        ))
    }
}

/// The store entry of the TPM's lockout authorization keyfob set.
const LOCKOUT_AUTH_KEY: &str = "tpm.lockout-auth";
const LOCKOUT_AUTH_CONTEXT: &[u8] = b"keyfob/tpm-lockout-auth/v1";

impl Vault {
    /// Seals the TPM's lockout authorization under `pin` (the PIN alone:
    /// a TPM in lockout would not release a TPM-bound one), refusing a PIN
    /// too weak for that. Refused if one is stored already.
    pub fn store_lockout_auth(&self, pin: &Pin, auth: &[u8]) -> Result<(), VaultError> {
        self.check_pin_only(pin)?;
        let _lock = self.lock()?;
        if self.store.get(LOCKOUT_AUTH_KEY)?.is_some() {
            return Err(crate::model::field::FieldError::new(
                crate::model::field::Field::Tpm,
                "keyfob set the TPM's lockout authorization already; `keyfob doctor --show-lockout-auth` prints it",
            )
            .into());
        }
        let sealed = crypto::seal(pin, self.kdf, LOCKOUT_AUTH_CONTEXT, auth).map_err(|source| {
            VaultError::Sealed {
                name: lockout_name(),
                source,
            }
        })?;
        Ok(self.store.put(LOCKOUT_AUTH_KEY, &sealed)?)
    }

    /// Forgets the stored lockout authorization (the TPM refused it).
    pub fn forget_lockout_auth(&self) -> Result<(), VaultError> {
        Ok(self.store.delete(LOCKOUT_AUTH_KEY)?)
    }

    /// Opens the stored lockout authorization with its PIN, counting wrong
    /// ones like an identity's.
    pub fn open_lockout_auth(
        &self,
        pin: &Pin,
    ) -> Result<crate::model::secret::SecretBytes, VaultError> {
        let _lock = self.lock()?;
        if self.store.get(LOCKOUT_AUTH_KEY)?.is_none() {
            return Err(crate::model::field::FieldError::new(
                crate::model::field::Field::Tpm,
                "keyfob has no lockout authorization of this TPM; `keyfob doctor --set-lockout-auth` sets one while the TPM has none",
            )
            .into());
        }
        self.open_counted_with(
            "tpm-lockout-auth",
            &lockout_name(),
            LOCKOUT_AUTH_KEY,
            |sealed| crypto::open(pin, LOCKOUT_AUTH_CONTEXT, sealed),
        )
    }
}

fn lockout_name() -> crate::model::identity::IdentityName {
    // A fixed valid name: letters and '-'.
    crate::model::identity::IdentityName::parse("tpm-lockout-auth").expect("a valid name")
}
