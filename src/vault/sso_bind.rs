//! What protects an Identity Center identity's sealed sign-in, as for an
//! access key ([`super::bind`]): the PIN alone (envelope v1) or the PIN
//! and the TPM (v2), chosen when it is added, kept by a new PIN, changed
//! by [`Vault::reseal`]. Renewed tokens are sealed again with the key the
//! agent keeps from the PIN's unseal ([`SsoKey`]), so a TPM-bound sign-in
//! asks the TPM only when its PIN is asked.

use super::bind::{Opener, SealAs, Sealed, reseal_pin, sealed_error};
use super::pin::open_any;
use super::{Vault, VaultError};
use crate::config::sso::{NewSso, SsoIdentity, SsoSecrets};
use crate::model::identity::{TpmChoice, check_pin};
use crate::model::secret::{Pin, SecretBytes};
use crate::platform::bound::{self, BoundKey, Protection, RecoveryCode};
use crate::platform::crypto::{self, CryptoError, EnvelopeKey};
use crate::platform::tpm::Tpm;

pub(super) fn tokens_key(id: &str) -> String {
    format!("sso.{id}.tokens")
}

/// The AEAD context of a sealed sign-in.
/// The sealed sign-in's associated data: the identity's id and start URL,
/// and (for identities added since keyfob kept them) its endpoints, so the
/// index cannot send its tokens elsewhere without the PIN.
pub(super) fn context(identity: &SsoIdentity) -> Vec<u8> {
    let mut aad = format!("keyfob/sso/v1\0{}\0{}", identity.id, identity.start_url);
    if let Some(e) = &identity.endpoints {
        aad.push_str(&e.aad_part());
    }
    aad.into_bytes()
}

/// What the agent keeps of an opened sign-in instead of the PIN, as the
/// entry is sealed: the v1 envelope's key, or a TPM-bound (v2) entry's
/// data key. Each opens and seals only the entry it came from, as long as
/// no new PIN or re-seal replaced it ([`CryptoError::OtherKey`]).
pub enum SsoKey {
    Pin(EnvelopeKey),
    Tpm(BoundKey),
}

impl std::fmt::Debug for SsoKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SsoKey([REDACTED])")
    }
}

impl SsoKey {
    pub(super) fn open(&self, context: &[u8], sealed: &[u8]) -> Result<SecretBytes, CryptoError> {
        let v2 = crypto::version_of(sealed)? == bound::VERSION;
        match self {
            SsoKey::Pin(k) if !v2 => crypto::open_with_key(k, context, sealed),
            SsoKey::Tpm(k) if v2 => bound::open_with_key(k, context, sealed),
            // Re-sealed under the other protection since.
            _ => Err(CryptoError::OtherKey),
        }
    }

    pub(super) fn seal(&self, context: &[u8], plain: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match self {
            SsoKey::Pin(k) => crypto::seal_with_key(k, context, plain),
            SsoKey::Tpm(k) => bound::seal_with_key(k, context, plain),
        }
    }
}

/// Opens a sealed sign-in with its PIN (and the TPM for a v2 entry),
/// keeping the key [`SsoKey`] is.
pub(super) fn open_keeping_key(
    pin: &Pin,
    context: &[u8],
    sealed: &[u8],
) -> Result<(SecretBytes, SsoKey), CryptoError> {
    if crypto::version_of(sealed)? == bound::VERSION {
        let mut tpm = Tpm::open()?;
        let (plain, key) = bound::open_keeping_key(&mut tpm, pin, context, sealed)?;
        return Ok((plain, SsoKey::Tpm(key)));
    }
    crypto::open_keeping_key(pin, context, sealed).map(|(plain, key)| (plain, SsoKey::Pin(key)))
}

impl Vault {
    /// Seals a first sign-in under `pin`, bound to the TPM as `choice`
    /// says (with a recovery code when `recovery`), and stores the new
    /// identity; also says what protects it.
    pub fn sso_add_bound(
        &self,
        new: &NewSso,
        pin: &Pin,
        secrets: &SsoSecrets,
        choice: TpmChoice,
        recovery: bool,
    ) -> Result<(SsoIdentity, Sealed), VaultError> {
        let identity = self.new_sso(new)?;
        self.add_sign_in_bound(identity, pin, &secrets.to_bytes(), choice, recovery)
    }

    /// Seals `plain`, a new sign-in identity's first secrets (either
    /// kind), as [`Vault::sso_add_bound`] says, and stores the identity.
    pub(super) fn add_sign_in_bound(
        &self,
        identity: SsoIdentity,
        pin: &Pin,
        plain: &[u8],
        choice: TpmChoice,
        recovery: bool,
    ) -> Result<(SsoIdentity, Sealed), VaultError> {
        check_pin(pin)?;
        let (mut tpm, no_tpm) = self.tpm_for(choice)?;
        let code = match (&tpm, recovery) {
            (Some(_), true) => {
                Some(RecoveryCode::generate().map_err(|s| sealed_error(&identity.name, s))?)
            }
            _ => None,
        };
        let how = match tpm.as_mut() {
            Some(t) => SealAs::Tpm {
                tpm: t,
                carry: None,
                recovery: code.as_ref(),
            },
            None => SealAs::Pin,
        };
        let sealed = self.seal_bytes(&identity.name, &context(&identity), pin, plain, how)?;
        let protection =
            bound::protection_of(&sealed).map_err(|s| sealed_error(&identity.name, s))?;
        let identity = self.store_new_sso(identity, &sealed)?;
        Ok((
            identity,
            Sealed {
                protection,
                recovery: code,
                no_tpm,
            },
        ))
    }

    /// How an Identity Center identity's sign-in is protected (from its
    /// entry's header: no PIN, no TPM).
    pub fn sso_protection(&self, identity: &SsoIdentity) -> Result<Protection, VaultError> {
        let sealed =
            self.store
                .get(&tokens_key(&identity.id))?
                .ok_or_else(|| VaultError::MissingKey {
                    name: identity.name.clone(),
                })?;
        bound::protection_of(sealed.expose()).map_err(|s| sealed_error(&identity.name, s))
    }

    /// [`Vault::reseal`] for an Identity Center identity: its sign-in
    /// opened with the PIN (counted) or its recovery code, sealed again
    /// bound to the TPM or under the PIN alone, in one store write.
    pub(super) fn sso_rebind(
        &self,
        name: &str,
        opener: Opener<'_>,
        new_pin: Option<&Pin>,
        tpm: bool,
        new_code: Option<&RecoveryCode>,
    ) -> Result<Protection, VaultError> {
        let _lock = self.lock()?;
        let identity = self.sso_get(name)?;
        let pin = reseal_pin(&opener, new_pin)?;
        let mut device = self.reseal_device(&identity.name, pin, tpm, new_code)?;
        let (entry, ctx) = (tokens_key(&identity.id), context(&identity));
        let (plain, carry) = match opener {
            Opener::Pin(p) => {
                self.open_counted_with(&identity.id, &identity.name, &entry, |s| {
                    open_any(p, &ctx, s)
                })?
            }
            Opener::Recovery(code) => (
                self.open_recovery_entry(&identity.name, &entry, &ctx, code)?,
                None,
            ),
        };
        let how = match device.as_mut() {
            None => SealAs::Pin,
            Some(t) => SealAs::Tpm {
                tpm: t,
                // A new code replaces the old; else the old one stays.
                carry: carry.as_ref().filter(|_| new_code.is_none()),
                recovery: new_code,
            },
        };
        let sealed = self.seal_bytes(&identity.name, &ctx, pin, plain.expose(), how)?;
        let protection =
            bound::protection_of(&sealed).map_err(|s| sealed_error(&identity.name, s))?;
        self.store.put(&entry, &sealed)?;
        tracing::info!(identity = %identity.name, protection = protection.describe(), "resealed");
        Ok(protection)
    }
}
