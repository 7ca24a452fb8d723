//! The TPM 2.0: sealing a random secret that the TPM releases only after
//! it has checked a PIN-derived value itself, counting wrong ones in its
//! dictionary-attack logic. The design is systemd-cryptenroll's tpm2+pin
//! (`src/shared/tpm2-util.c`), through tpm2-tss's ESAPI (`tss-esapi`):
//!
//! - the sealed object is a KEYEDHASH data object, `fixedTPM|fixedParent`,
//!   `userWithAuth` clear (only its policy authorizes it), `noDA` clear
//!   (every failed authorization counts), its policy PolicyAuthValue: each
//!   use proves knowledge of the authValue in an HMAC the TPM checks;
//! - its parent is the storage root key at 0x81000001 when one is
//!   provisioned (systemd-tpm2-setup and Windows make one), else a
//!   transient ECC P-256 primary from the TCG's standard SRK template,
//!   which the owner seed makes the same key every time;
//! - unsealing is authorized by a policy session salted to the parent (so
//!   the HMAC that proves the authValue is keyed with a salt no bus
//!   observer has: no offline guessing from it), and the released secret
//!   comes back encrypted under a second session, salted to the parent
//!   and bound to the object (whose key mixes the authValue in), as
//!   systemd-cryptenroll does it: the authValue never crosses the bus,
//!   and the secret only encrypted under a key that needs it. Sealing
//!   sends the secret and the authValue in an HMAC session salted to the
//!   parent, with command encryption.
//!
//! Which TPM: the TCTI named by `TPM2TOOLS_TCTI` or `TCTI` (tpm2-tools'
//! variables, e.g. `swtpm:host=127.0.0.1,port=2321`), else the kernel's
//! resource manager `device:/dev/tpmrm0`.
//!
//! Nothing secret is logged or printed: the authValue and the released
//! secret live in [`Zeroizing`] buffers, and the errors carry no bytes.

mod lockout;
mod status;

pub use lockout::reset_lockout;
pub use status::{TpmStatus, lockout_wait_secs};

use std::path::Path;
use std::str::FromStr;

use tss_esapi::Context;
use tss_esapi::TctiNameConf;
use tss_esapi::attributes::{ObjectAttributesBuilder, SessionAttributesBuilder};
use tss_esapi::constants::response_code::Tss2ResponseCodeKind;
use tss_esapi::constants::{CapabilityType, SessionType};
use tss_esapi::handles::{KeyHandle, ObjectHandle, PersistentTpmHandle, TpmHandle};
use tss_esapi::interface_types::algorithm::{HashingAlgorithm, PublicAlgorithm};
use tss_esapi::interface_types::ecc::EccCurve;
use tss_esapi::interface_types::resource_handles::Hierarchy;
use tss_esapi::interface_types::session_handles::{AuthSession, PolicySession};
use tss_esapi::structures::{
    Auth, CapabilityData, Digest, EccPoint, EccScheme, KeyDerivationFunctionScheme,
    KeyedHashScheme, Private, Public, PublicBuilder, PublicEccParametersBuilder,
    PublicKeyedHashParameters, SensitiveData, SymmetricDefinition, SymmetricDefinitionObject,
};
use tss_esapi::traits::{Marshall, UnMarshall};
use zeroize::Zeroizing;

/// The persistent handle of the storage root key (TCG "TPM v2.0 Provisioning
/// Guidance", section 7.8), where systemd and Windows keep it.
pub const SRK_HANDLE: u32 = 0x8100_0001;
/// Where the TPM is when no TCTI variable names one.
pub const DEFAULT_TCTI: &str = "device:/dev/tpmrm0";
/// The first handle of each range [`Tpm::flush_leftovers`] clears (TPM 2.0
/// Part 2, 7.2: TPM_HT_TRANSIENT, TPM_HT_LOADED_SESSION, TPM_HT_POLICY_SESSION).
const TRANSIENT_FIRST: u32 = 0x8000_0000;
const LOADED_SESSION_FIRST: u32 = 0x0200_0000;
const POLICY_SESSION_FIRST: u32 = 0x0300_0000;
/// The size of the sealed secret and of the authValue.
pub const SECRET_LEN: usize = 32;

/// What the TPM said no to, each with what the user can do about it.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum TpmError {
    #[error("no TPM 2.0 answers at {tcti} — keyfob seals without one (see `keyfob doctor`)")]
    NoTpm { tcti: String },
    #[error(
        "no permission to use the TPM at {path} — join the group that owns it (on most distributions: `sudo usermod -aG tss $USER`, then log out and in again)"
    )]
    NoPermission { path: String },
    /// The authValue (so the PIN) was wrong; the TPM counted it.
    #[error("the TPM refused the PIN")]
    AuthFail,
    /// `wait_secs` 0: the TPM forgives no failure by itself (its
    /// LockoutInterval is 0), only a reset with the lockout authorization.
    #[error("the TPM is locked out after too many wrong PINs — {} (the TPM itself enforces this; nothing is lost)", lockout_advice(*wait_secs))]
    Lockout { wait_secs: u64 },
    #[error(
        "this key is bound to another TPM (the vault was copied from another machine, or this TPM was cleared) — open it with its recovery code: keyfob reseal NAME --tpm on|off --recovery"
    )]
    OtherTpm,
    #[error("the TPM at {tcti} failed: {message}")]
    Failed { tcti: String, message: String },
}

fn lockout_advice(wait_secs: u64) -> String {
    match wait_secs {
        0 => "it ends only when reset with its lockout authorization (`keyfob doctor --reset-lockout`)".into(),
        s => format!("try again in {s} s, or end it now with `keyfob doctor --reset-lockout`"),
    }
}

/// The parts of a sealed object the envelope keeps: the TPM's public and
/// (parent-encrypted) private blobs, and which parent they load under.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedObject {
    pub parent: Parent,
    pub public: Vec<u8>,
    pub private: Vec<u8>,
}

impl std::fmt::Debug for SealedObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SealedObject({:?}, {} + {} bytes)",
            self.parent,
            self.public.len(),
            self.private.len()
        )
    }
}

/// The storage key a sealed object was made under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parent {
    /// The persistent SRK at [`SRK_HANDLE`].
    Persistent = 1,
    /// A transient primary from the standard ECC P-256 SRK template.
    TransientEcc = 2,
}

impl Parent {
    pub fn from_byte(b: u8) -> Option<Parent> {
        match b {
            1 => Some(Parent::Persistent),
            2 => Some(Parent::TransientEcc),
            _ => None,
        }
    }
}

/// Silences tpm2-tss's own logging (it writes every TPM error, a wrong PIN
/// among them, to stderr) unless `TSS2_LOG` says otherwise. Call it first
/// in `main`, before any thread starts: it sets an environment variable.
pub fn quiet_tss_logs() {
    if std::env::var_os("TSS2_LOG").is_none() {
        // SAFETY: called at the start of `main`, while the process has one
        // thread, so no other thread reads the environment meanwhile.
        unsafe { std::env::set_var("TSS2_LOG", "all+NONE") };
    }
}

/// The TCTI keyfob talks to: `TPM2TOOLS_TCTI`, else `TCTI`, else
/// [`DEFAULT_TCTI`].
pub fn tcti() -> String {
    ["TPM2TOOLS_TCTI", "TCTI"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| DEFAULT_TCTI.to_owned())
}

/// A connection to the TPM.
pub struct Tpm {
    ctx: Context,
    tcti: String,
}

impl Tpm {
    /// Connects to the TPM the environment names ([`tcti`]).
    pub fn open() -> Result<Tpm, TpmError> {
        Self::open_at(&tcti())
    }

    /// Connects to the TPM at `tcti` (as `TPM2TOOLS_TCTI` spells it).
    pub fn open_at(tcti: &str) -> Result<Tpm, TpmError> {
        let tcti = tcti.to_owned();
        // tpm2-tss reports a device it cannot open as an I/O error, the
        // same for "absent" and "not allowed": look first, to say which.
        let device = match tcti.as_str() {
            "device" => Some("/dev/tpmrm0"),
            t => t.strip_prefix("device:"),
        };
        if let Some(path) = device {
            let path = path.split(',').next().unwrap_or(path);
            if !Path::new(path).exists() {
                return Err(TpmError::NoTpm { tcti });
            }
            if let Err(e) = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(path)
                && e.kind() == std::io::ErrorKind::PermissionDenied
            {
                return Err(TpmError::NoPermission { path: path.into() });
            }
        }
        let conf = TctiNameConf::from_str(&tcti).map_err(|_| TpmError::Failed {
            tcti: tcti.clone(),
            message: "the TCTI is not one of device:PATH, swtpm:host=H,port=P, mssim:…, tabrmd:… (TPM2TOOLS_TCTI or TCTI)".into(),
        })?;
        let ctx = Context::new(conf).map_err(|_| TpmError::NoTpm { tcti: tcti.clone() })?;
        // The kernel's resource manager (/dev/tpmrm0) and tpm2-abrmd give
        // each connection its own objects and flush them when it closes.
        // Without one (a TPM simulator over TCP, the raw /dev/tpm0, which
        // one process opens at a time) what a killed client loaded stays,
        // and its three-odd object slots fill up: clear them first.
        let managed =
            tcti.starts_with("tabrmd") || device.is_some_and(|path| path.contains("tpmrm"));
        let mut tpm = Tpm { ctx, tcti };
        if !managed {
            tpm.flush_leftovers();
        }
        Ok(tpm)
    }

    /// Flushes every transient object and loaded session the TPM holds
    /// (see [`Tpm::open`]: only where keyfob is its only client).
    fn flush_leftovers(&mut self) {
        for first in [TRANSIENT_FIRST, LOADED_SESSION_FIRST, POLICY_SESSION_FIRST] {
            let Ok((CapabilityData::Handles(list), _)) = self.ctx.execute_without_session(|ctx| {
                ctx.get_capability(CapabilityType::Handles, first, 64)
            }) else {
                continue;
            };
            for handle in list.into_inner() {
                if let Ok(object) = self.ctx.tr_from_tpm_public(handle) {
                    let _ = self.ctx.flush_context(object);
                }
            }
        }
    }

    /// Where this TPM is (the TCTI string).
    pub fn tcti(&self) -> &str {
        &self.tcti
    }

    /// The TPM's answer as an error, a lockout as such wherever it comes
    /// from (a parent made without noDA, as tpm2_createprimary's default,
    /// is refused in lockout too).
    fn failed(&mut self, what: &str, e: tss_esapi::Error) -> TpmError {
        if matches!(kind(&e), Some(Tss2ResponseCodeKind::Lockout)) {
            return TpmError::Lockout {
                wait_secs: self.status().map(|s| s.lockout_wait_secs()).unwrap_or(0),
            };
        }
        TpmError::Failed {
            tcti: self.tcti.clone(),
            message: format!("{what}: {e}"),
        }
    }

    /// Seals a fresh random 32-byte secret under `auth`; returns the
    /// object to store and the secret.
    pub fn seal(
        &mut self,
        auth: &[u8; SECRET_LEN],
    ) -> Result<(SealedObject, Zeroizing<[u8; SECRET_LEN]>), TpmError> {
        let mut secret = Zeroizing::new([0u8; SECRET_LEN]);
        getrandom::fill(secret.as_mut()).map_err(|_| TpmError::Failed {
            tcti: self.tcti.clone(),
            message: "the system's random number generator failed".into(),
        })?;
        let (parent, kind) = self.parent(None)?;
        let result = self.seal_under(parent, auth, &secret);
        self.release_parent(parent, kind);
        let (public, private) = result?;
        Ok((
            SealedObject {
                parent: kind,
                public,
                private,
            },
            secret,
        ))
    }

    fn seal_under(
        &mut self,
        parent: KeyHandle,
        auth: &[u8; SECRET_LEN],
        secret: &[u8; SECRET_LEN],
    ) -> Result<(Vec<u8>, Vec<u8>), TpmError> {
        let policy = self.auth_value_policy()?;
        let attributes = ObjectAttributesBuilder::new()
            .with_fixed_tpm(true)
            .with_fixed_parent(true)
            .with_user_with_auth(false)
            .with_no_da(false)
            .build()
            .map_err(|e| self.failed("object attributes", e))?;
        let template = PublicBuilder::new()
            .with_public_algorithm(PublicAlgorithm::KeyedHash)
            .with_name_hashing_algorithm(HashingAlgorithm::Sha256)
            .with_object_attributes(attributes)
            .with_auth_policy(policy)
            .with_keyed_hash_parameters(PublicKeyedHashParameters::new(KeyedHashScheme::Null))
            .with_keyed_hash_unique_identifier(Digest::default())
            .build()
            .map_err(|e| self.failed("sealed object template", e))?;
        let auth_value = Auth::try_from(auth.to_vec()).map_err(|e| self.failed("authValue", e))?;
        let data =
            SensitiveData::try_from(secret.to_vec()).map_err(|e| self.failed("secret", e))?;
        // The secret and the authValue go out in the command's first
        // parameter: encrypt it under a session salted to the parent.
        let session = self.salted_session(parent, None, SessionType::Hmac, true, false)?;
        let created = self.ctx.execute_with_session(Some(session), |ctx| {
            ctx.create(parent, template, Some(auth_value), Some(data), None, None)
        });
        self.flush_session(session);
        let created = created.map_err(|e| self.failed("TPM2_Create", e))?;
        let public = created
            .out_public
            .marshall()
            .map_err(|e| self.failed("public blob", e))?;
        Ok((public, created.out_private.value().to_vec()))
    }

    /// Unseals `object` with `auth`. A wrong `auth` is
    /// [`TpmError::AuthFail`] (counted by the TPM); a TPM in lockout,
    /// [`TpmError::Lockout`] with the wait; blobs of another TPM,
    /// [`TpmError::OtherTpm`].
    pub fn unseal(
        &mut self,
        object: &SealedObject,
        auth: &[u8; SECRET_LEN],
    ) -> Result<Zeroizing<Vec<u8>>, TpmError> {
        let public = Public::unmarshall(&object.public).map_err(|_| TpmError::Failed {
            tcti: self.tcti.clone(),
            message: "the stored public blob is malformed".into(),
        })?;
        let private = Private::try_from(object.private.clone()).map_err(|_| TpmError::Failed {
            tcti: self.tcti.clone(),
            message: "the stored private blob is malformed".into(),
        })?;
        let (parent, kind) = self.parent(Some(object.parent))?;
        let result = self.unseal_under(parent, public, private, auth);
        self.release_parent(parent, kind);
        result
    }

    fn unseal_under(
        &mut self,
        parent: KeyHandle,
        public: Public,
        private: Private,
        auth: &[u8; SECRET_LEN],
    ) -> Result<Zeroizing<Vec<u8>>, TpmError> {
        let loaded = self
            .ctx
            .execute_with_nullauth_session(|ctx| ctx.load(parent, private, public));
        let loaded = match loaded {
            Ok(h) => h,
            // The private blob's integrity is keyed by the parent, which
            // another TPM's seed makes different.
            Err(e) if matches!(kind(&e), Some(Tss2ResponseCodeKind::Integrity)) => {
                return Err(TpmError::OtherTpm);
            }
            Err(e) => return Err(self.failed("TPM2_Load", e)),
        };
        let object: ObjectHandle = loaded.into();
        let result = self.unseal_loaded(parent, object, auth);
        let _ = self.ctx.flush_context(object);
        result
    }

    fn unseal_loaded(
        &mut self,
        parent: KeyHandle,
        object: ObjectHandle,
        auth: &[u8; SECRET_LEN],
    ) -> Result<Zeroizing<Vec<u8>>, TpmError> {
        let auth_value =
            Auth::try_from(auth_bytes(auth).to_vec()).map_err(|e| self.failed("authValue", e))?;
        // Set before the bound session starts: ESAPI mixes the bind
        // entity's authValue into the session key when it starts.
        self.ctx
            .tr_set_auth(object, auth_value)
            .map_err(|e| self.failed("authValue", e))?;
        let sealing = self.salted_session(parent, Some(object), SessionType::Hmac, false, true)?;
        let result = match self.salted_session(parent, None, SessionType::Policy, false, false) {
            Ok(policy) => {
                let result = self.unseal_in(policy, sealing, object);
                self.flush_session(policy);
                result
            }
            Err(e) => Err(e),
        };
        self.flush_session(sealing);
        result
    }

    /// Unseals `object` authorized by `session` (PolicyAuthValue), its
    /// answer encrypted under `sealing`: an HMAC session salted to the
    /// parent and bound to the object, as systemd-cryptenroll's
    /// encryption session is. Its key mixes the object's authValue in, so
    /// even something posing as the TPM on the bus (which could hand out
    /// a parent key of its own, and so learn the salt) cannot read the
    /// secret without the PIN-derived value. The policy session itself is
    /// not bound: the TPM never treats a policy session as bound when it
    /// checks its HMAC (the TCG reference code's `ComputeCommandHMAC`: "For
    /// a policy session, its isBound attribute is CLEARED"), while ESAPI
    /// (tpm2-tss 3.2, and still upstream) leaves the authValue out of its
    /// HMAC key, so a bound policy session fails every check.
    fn unseal_in(
        &mut self,
        session: AuthSession,
        sealing: AuthSession,
        object: ObjectHandle,
    ) -> Result<Zeroizing<Vec<u8>>, TpmError> {
        let policy =
            PolicySession::try_from(session).map_err(|e| self.failed("policy session", e))?;
        self.ctx
            .policy_auth_value(policy)
            .map_err(|e| self.failed("TPM2_PolicyAuthValue", e))?;
        match self
            .ctx
            .execute_with_sessions((Some(session), Some(sealing), None), |ctx| {
                ctx.unseal(object)
            }) {
            Ok(data) => Ok(Zeroizing::new(data.value().to_vec())),
            Err(e) => Err(match kind(&e) {
                Some(Tss2ResponseCodeKind::AuthFail) | Some(Tss2ResponseCodeKind::BadAuth) => {
                    TpmError::AuthFail
                }
                _ => self.failed("TPM2_Unseal", e),
            }),
        }
    }

    /// The policy digest of PolicyAuthValue alone, from a trial session.
    fn auth_value_policy(&mut self) -> Result<Digest, TpmError> {
        let trial = self
            .ctx
            .start_auth_session(
                None,
                None,
                None,
                SessionType::Trial,
                SymmetricDefinition::AES_128_CFB,
                HashingAlgorithm::Sha256,
            )
            .map_err(|e| self.failed("trial session", e))?
            .ok_or_else(|| self.failed_msg("the TPM returned no trial session"))?;
        let result = PolicySession::try_from(trial)
            .and_then(|p| {
                self.ctx.policy_auth_value(p)?;
                self.ctx.policy_get_digest(p)
            })
            .map_err(|e| self.failed("PolicyAuthValue digest", e));
        self.flush_session(trial);
        result
    }

    /// A session salted to `parent` (its secret encrypted to the parent's
    /// public key, so a bus observer cannot derive the session key),
    /// optionally bound to `bind`, encrypting the command's first
    /// parameter (`decrypt`) and/or the response's (`encrypt`).
    fn salted_session(
        &mut self,
        parent: KeyHandle,
        bind: Option<ObjectHandle>,
        kind: SessionType,
        decrypt: bool,
        encrypt: bool,
    ) -> Result<AuthSession, TpmError> {
        let session = self
            .ctx
            .start_auth_session(
                Some(parent),
                bind,
                None,
                kind,
                SymmetricDefinition::AES_128_CFB,
                HashingAlgorithm::Sha256,
            )
            .map_err(|e| self.failed("salted session", e))?
            .ok_or_else(|| self.failed_msg("the TPM returned no session"))?;
        let (attributes, mask) = SessionAttributesBuilder::new()
            .with_decrypt(decrypt)
            .with_encrypt(encrypt)
            .build();
        if let Err(e) = self.ctx.tr_sess_set_attributes(session, attributes, mask) {
            self.flush_session(session);
            return Err(self.failed("session attributes", e));
        }
        Ok(session)
    }

    fn flush_session(&mut self, session: AuthSession) {
        let handle: Option<tss_esapi::handles::SessionHandle> = Some(session.into());
        if let Some(h) = handle {
            let _ = self.ctx.flush_context(ObjectHandle::from(h));
        }
    }

    fn failed_msg(&self, message: &str) -> TpmError {
        TpmError::Failed {
            tcti: self.tcti.clone(),
            message: message.into(),
        }
    }

    /// The storage key to seal under (`want` None: the SRK if provisioned,
    /// else a transient primary), or the one an object was sealed under.
    fn parent(&mut self, want: Option<Parent>) -> Result<(KeyHandle, Parent), TpmError> {
        if want != Some(Parent::TransientEcc) {
            let srk =
                PersistentTpmHandle::new(SRK_HANDLE).map_err(|e| self.failed("SRK handle", e))?;
            // Sealed under an SRK that is gone: the TPM was cleared or
            // this is another machine; the standard template below makes
            // the same key only on the same owner seed, and a load under
            // it then says which.
            if let Ok(h) = self.ctx.tr_from_tpm_public(TpmHandle::Persistent(srk)) {
                return Ok((h.into(), Parent::Persistent));
            }
        }
        let created = self
            .ctx
            .execute_with_nullauth_session(|ctx| {
                ctx.create_primary(Hierarchy::Owner, srk_template()?, None, None, None, None)
            })
            .map_err(|e| self.failed("TPM2_CreatePrimary", e))?;
        Ok((created.key_handle, Parent::TransientEcc))
    }

    fn release_parent(&mut self, handle: KeyHandle, kind: Parent) {
        let object: ObjectHandle = handle.into();
        match kind {
            Parent::TransientEcc => {
                let _ = self.ctx.flush_context(object);
            }
            // A persistent handle is only closed in ESAPI, never evicted.
            Parent::Persistent => {
                let mut object = object;
                let _ = self.ctx.tr_close(&mut object);
            }
        }
    }
}

/// The TCG's standard ECC P-256 storage key template (TPM v2.0
/// Provisioning Guidance, "Template H-2" with empty unique): the key the
/// owner seed derives is the same each time, so it needs no storage.
fn srk_template() -> tss_esapi::Result<Public> {
    let attributes = ObjectAttributesBuilder::new()
        .with_fixed_tpm(true)
        .with_fixed_parent(true)
        .with_sensitive_data_origin(true)
        .with_user_with_auth(true)
        .with_no_da(true)
        .with_restricted(true)
        .with_decrypt(true)
        .build()?;
    PublicBuilder::new()
        .with_public_algorithm(PublicAlgorithm::Ecc)
        .with_name_hashing_algorithm(HashingAlgorithm::Sha256)
        .with_object_attributes(attributes)
        .with_ecc_parameters(
            PublicEccParametersBuilder::new()
                .with_symmetric(SymmetricDefinitionObject::AES_128_CFB)
                .with_ecc_scheme(EccScheme::Null)
                .with_curve(EccCurve::NistP256)
                .with_key_derivation_function_scheme(KeyDerivationFunctionScheme::Null)
                .with_is_decryption_key(true)
                .with_restricted(true)
                .build()?,
        )
        .with_ecc_unique_identifier(EccPoint::default())
        .build()
}

/// `auth` as the TPM keeps it: without trailing zero bytes (TPM 2.0 Part
/// 1, 19.6.5, note 2), as ESAPI must use it too. tpm2-tss 3.2 keys a
/// session bound to the object with the value as given, so an authValue
/// ending in zeros (one in 256 PIN-derived ones) made a session key the
/// TPM did not share, and the object never unsealed (upstream fixed it
/// after 3.2: "esys: remove trailing zeros in auth value"). Sealing may
/// give it whole: the TPM drops them itself.
fn auth_bytes(auth: &[u8; SECRET_LEN]) -> &[u8] {
    let len = auth.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
    &auth[..len]
}

/// The TPM response code's meaning, if the error came from the TPM.
fn kind(e: &tss_esapi::Error) -> Option<Tss2ResponseCodeKind> {
    match e {
        tss_esapi::Error::Tss2Error(rc) => rc.kind(),
        tss_esapi::Error::WrapperError(_) => None,
    }
}
