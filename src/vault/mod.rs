//! The vault: identities sealed in a [`SecretStore`].
//!
//! Owns the store layout and the rules that span several entries:
//!
//! | entry                      | holds                                   |
//! |----------------------------|-----------------------------------------|
//! | `index`                    | JSON list of [`Identity`] (not secret)  |
//! | `identity.<id>.key.<KEY>`  | secret access key KEY, sealed ([`crypto`](crate::platform::crypto)) |
//! | `identity.<id>.attempts`   | the PIN failure counter (not secret)    |
//! | `identity.<id>.rotation`   | an unfinished key rotation (not secret) |
//!
//! Sealed keys are stored per access key ID, so a rotation can hold the
//! old and the new key at once and switch between them with one write of
//! the index (which names the active key).
//!
//! Every read-modify-write of the store, and every read a change depends
//! on, holds an exclusive file lock (`vault.lock` in the runtime folder,
//! [`crate::platform::fsutil::lock`]), so two keyfob processes cannot interleave
//! them. The lock is re-entrant within one `Vault`: [`Vault::locked`] makes
//! a sequence of calls (a rotation step) one locked unit. Changes are
//! ordered so a crash leaves nothing an identity depends on missing: the
//! sealed key is written before the index names it, and the index forgets
//! an identity before its sealed key is deleted.
//!
//! PIN back-off: after [`FREE_ATTEMPTS`] consecutive wrong PINs an identity
//! refuses attempts for 30 s, doubling with each further failure up to an
//! hour. The counter is in the store, so restarting does not reset it; a
//! right PIN does. Nothing is ever deleted for wrong PINs.
//!
//! | module | what it owns |
//! |---|---|
//! | this one | the errors, the lock, the index, adding, removing and renaming identities, the entry names |
//! | `pin` | sealing and opening a key under the PIN, the back-off, changing the PIN |
//! | `bind` | what protects a key (the PIN alone, or the PIN and the TPM), re-sealing under another |
//! | `keys` | a rotation's second key, switching and forgetting keys, the rotation state entry, recorded IAM facts |
//! | `sso` | Identity Center identities: their index (`sso.index`) and sealed sign-ins |

mod bind;
mod keys;
mod login;
mod pin;
mod sso;
mod sso_bind;

pub use bind::{Opener, PIN_ONLY_NOTICE, Sealed};
pub use pin::{FIRST_WAIT_SECS, FREE_ATTEMPTS, MAX_WAIT_SECS, back_off_secs};
pub use sso_bind::SsoKey;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::aws::AwsError;
use crate::aws::sts::{self, CallerIdentity};
use crate::model::endpoints::Endpoints;
use crate::model::identity::{
    AccessKeyId, Field, FieldError, Identity, IdentityName, PIN_ONLY_MIN_GUESSES_LOG10, TpmChoice,
};
use crate::model::secret::{Pin, SecretAccessKey};
use crate::platform::crypto::{CryptoError, KdfParams};
use crate::platform::fsutil::{self, FileLock, LockError};
use crate::platform::store::{SecretStore, StoreError};

const INDEX_KEY: &str = "index";
const INDEX_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error(
        "identity name: {name} is already taken — choose another name, or `keyfob remove {name}` first"
    )]
    NameTaken { name: IdentityName },
    #[error("no identity named {name} — `keyfob list` shows the identities")]
    NotFound { name: String },
    #[error(
        "these are a root user's keys ({arn}); AWS advises against root access keys — use an IAM user's keys instead, or pass --allow-root if you must"
    )]
    RootRefused { arn: String },
    #[error("wrong PIN for identity {name}{}{}", match remaining {
        0 => format!(" — too many wrong PINs; try again in {wait_secs} s"),
        n => format!(" ({n} more before keyfob makes you wait)"),
    }, match tpm_tries_left {
        Some(0) => "; the TPM is now locked out for a while".to_owned(),
        Some(n) => format!("; the TPM takes {n} more before it locks out"),
        None => String::new(),
    })]
    WrongPin {
        name: IdentityName,
        remaining: u32,
        wait_secs: i64,
        /// For a TPM-bound key: the wrong PINs the TPM still takes.
        tpm_tries_left: Option<u32>,
    },
    #[error("identity {name} is locked after {failures} wrong PINs — try again in {wait_secs} s")]
    BackOff {
        name: IdentityName,
        failures: u32,
        wait_secs: i64,
    },
    #[error("the sealed key of identity {name} cannot be read: {source}")]
    Sealed {
        name: IdentityName,
        source: CryptoError,
    },
    /// The TPM would not do what was asked, for another reason than a
    /// wrong PIN (which is [`Self::WrongPin`]).
    #[error("{}{source}", match name { Some(n) => format!("identity {n}: "), None => String::new() })]
    Tpm {
        name: Option<IdentityName>,
        source: crate::platform::tpm::TpmError,
    },
    #[error("identity {name} has no sealed key in the store; remove it and add it again")]
    MissingKey { name: IdentityName },
    /// A sign-in identity of the other kind than the command's.
    #[error("{name} is an {is} identity, not an {wanted} one — {hint}")]
    OtherKind {
        name: IdentityName,
        is: &'static str,
        wanted: &'static str,
        hint: &'static str,
    },
    #[error("the identity index in the store is unreadable ({message}); no identity was changed")]
    CorruptIndex { message: String },
    #[error("could not verify the keys with AWS: {0}")]
    Aws(#[source] AwsError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Lock(#[from] LockError),
}

impl VaultError {
    /// What kind of failure this is (see [`crate::model::error_kind::ErrorKind`]).
    pub fn kind(&self) -> crate::model::error_kind::ErrorKind {
        use crate::model::error_kind::ErrorKind as K;
        match self {
            VaultError::Field(_) => K::Field,
            VaultError::NameTaken { .. } => K::Conflict,
            VaultError::NotFound { .. } | VaultError::OtherKind { .. } => K::NotFound,
            VaultError::RootRefused { .. } => K::RootRefused,
            VaultError::WrongPin { remaining: 0, .. } | VaultError::BackOff { .. } => K::BackOff,
            VaultError::WrongPin { .. } => K::WrongPin,
            VaultError::Aws(_) => K::Aws,
            VaultError::Store(_) => K::Store,
            VaultError::Lock(_) => K::Config,
            // Wait, as for keyfob's own back-off; the message says how long.
            VaultError::Tpm {
                source: crate::platform::tpm::TpmError::Lockout { .. },
                ..
            } => K::BackOff,
            // Not possible here as things stand; the message says what to do.
            VaultError::Tpm { .. } => K::State,
            _ => K::Failed,
        }
    }

    /// The form field this error belongs next to, if any.
    pub fn field(&self) -> Option<Field> {
        match self {
            VaultError::Field(e) => Some(e.field),
            VaultError::NameTaken { .. } => Some(Field::IdentityName),
            VaultError::WrongPin { .. } | VaultError::BackOff { .. } => Some(Field::Pin),
            _ => None,
        }
    }
}

/// Checks a key pair with AWS. The real one is [`Sts`]; unit tests fake it.
pub trait KeyVerifier {
    fn verify(
        &self,
        access_key_id: &AccessKeyId,
        secret: &SecretAccessKey,
        endpoints: &Endpoints,
    ) -> Result<CallerIdentity, AwsError>;
}

/// Verifies keys with STS GetCallerIdentity.
pub struct Sts;

impl KeyVerifier for Sts {
    fn verify(
        &self,
        access_key_id: &AccessKeyId,
        secret: &SecretAccessKey,
        endpoints: &Endpoints,
    ) -> Result<CallerIdentity, AwsError> {
        sts::get_caller_identity(endpoints, access_key_id.as_str(), secret)
    }
}

/// The four validated fields of a new identity.
pub struct NewIdentity {
    pub name: IdentityName,
    pub access_key_id: AccessKeyId,
    pub secret: SecretAccessKey,
    pub pin: Pin,
    /// Where its calls will go (see [`crate::model::endpoints`]).
    pub endpoints: Endpoints,
}

/// How to add an identity.
#[derive(Clone, Copy, Debug, Default)]
pub struct AddOptions {
    /// Skip GetCallerIdentity (offline); the account is decoded from the key
    /// ID where possible.
    pub no_verify: bool,
    /// Accept a root user's keys.
    pub allow_root: bool,
    /// Bind the key to the TPM (see [`bind`]).
    pub tpm: TpmChoice,
    /// Make a recovery code for a TPM-bound key.
    pub recovery: bool,
}

#[derive(Serialize, Deserialize)]
struct Index {
    version: u32,
    identities: Vec<Identity>,
}

pub struct Vault {
    store: Box<dyn SecretStore>,
    lock_path: PathBuf,
    held: RefCell<Held>,
    kdf: KdfParams,
    clock: fn() -> OffsetDateTime,
    /// The least strength of a PIN that alone guards a key (guesses, a
    /// power of ten); `None` in unit tests.
    pin_only_min_log10: Option<f64>,
}

/// How long a vault change waits for another process's: a rotation step
/// holds the lock across its IAM and STS calls, seconds at most.
const VAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// The vault's lock while this `Vault` holds it, and how many nested
/// [`Vault::lock`] guards share it.
#[derive(Default)]
struct Held {
    lock: Option<FileLock>,
    depth: u32,
}

/// Holds the vault's exclusive lock until the outermost guard drops.
struct VaultLock<'a>(&'a RefCell<Held>);

impl Drop for VaultLock<'_> {
    fn drop(&mut self) {
        let mut held = self.0.borrow_mut();
        held.depth -= 1;
        if held.depth == 0 {
            held.lock = None;
        }
    }
}

impl Vault {
    /// A vault over `store`, locking with a file in `lock_dir`.
    pub fn new(store: Box<dyn SecretStore>, lock_dir: &Path) -> Self {
        Self {
            store,
            lock_path: lock_dir.join("vault.lock"),
            held: RefCell::default(),
            kdf: KdfParams::DEFAULT,
            clock: OffsetDateTime::now_utc,
            pin_only_min_log10: Some(PIN_ONLY_MIN_GUESSES_LOG10),
        }
    }

    /// Another least strength for PINs that alone guard a key (unit tests
    /// use short PINs: `None`).
    pub fn with_pin_strength(mut self, min_log10: Option<f64>) -> Self {
        self.pin_only_min_log10 = min_log10;
        self
    }

    /// Uses other KDF parameters for new seals (tests use cheap ones).
    pub fn with_kdf(mut self, kdf: KdfParams) -> Self {
        self.kdf = kdf;
        self
    }

    /// Uses another clock (tests step through back-off waits).
    pub fn with_clock(mut self, clock: fn() -> OffsetDateTime) -> Self {
        self.clock = clock;
        self
    }

    pub fn store(&self) -> &dyn SecretStore {
        self.store.as_ref()
    }

    /// Takes the vault's lock, or joins this `Vault`'s hold on it.
    fn lock(&self) -> Result<VaultLock<'_>, VaultError> {
        let mut held = self.held.borrow_mut();
        if held.depth == 0 {
            held.lock = Some(fsutil::lock(&self.lock_path, VAULT_LOCK_TIMEOUT)?);
        }
        held.depth += 1;
        Ok(VaultLock(&self.held))
    }

    /// Runs `f` holding the vault's lock, so every vault call inside it is
    /// one unit no other process can interleave with (a rotation step).
    pub fn locked<T, E: From<VaultError>>(&self, f: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        let _lock = self.lock()?;
        f()
    }

    fn load_index(&self) -> Result<Vec<Identity>, VaultError> {
        let Some(bytes) = self.store.get(INDEX_KEY)? else {
            return Ok(Vec::new());
        };
        let index: Index =
            serde_json::from_slice(bytes.expose()).map_err(|e| VaultError::CorruptIndex {
                message: e.to_string(),
            })?;
        if index.version != INDEX_VERSION {
            return Err(VaultError::CorruptIndex {
                message: format!(
                    "index version {} (this keyfob reads {INDEX_VERSION}); upgrade keyfob",
                    index.version
                ),
            });
        }
        Ok(index.identities)
    }

    fn save_index(&self, identities: Vec<Identity>) -> Result<(), VaultError> {
        let index = Index {
            version: INDEX_VERSION,
            identities,
        };
        // Serialising plain data with string keys cannot fail.
        let bytes = serde_json::to_vec_pretty(&index).expect("index serialises");
        Ok(self.store.put(INDEX_KEY, &bytes)?)
    }

    /// Every identity, sorted by name.
    pub fn list(&self) -> Result<Vec<Identity>, VaultError> {
        let mut all = self.load_index()?;
        all.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(all)
    }

    /// The identity called `name`.
    pub fn get(&self, name: &str) -> Result<Identity, VaultError> {
        self.load_index()?
            .into_iter()
            .find(|i| i.name.as_str() == name)
            .ok_or_else(|| VaultError::NotFound { name: name.into() })
    }

    /// Refuses a name that is taken. Call it before asking for secrets.
    pub fn check_name_free(&self, name: &IdentityName) -> Result<(), VaultError> {
        if self.load_index()?.iter().any(|i| &i.name == name) || self.sso_name_taken(name)? {
            return Err(VaultError::NameTaken { name: name.clone() });
        }
        Ok(())
    }

    /// Verifies the keys with AWS (unless `no_verify`), then seals and stores
    /// them. Nothing is written unless every check passed.
    pub fn add(
        &self,
        new: NewIdentity,
        options: AddOptions,
        verifier: &dyn KeyVerifier,
    ) -> Result<Identity, VaultError> {
        Ok(self.add_bound(new, options, verifier)?.0)
    }

    /// Removes an identity and its entries.
    pub fn remove(&self, name: &str) -> Result<Identity, VaultError> {
        let _lock = self.lock()?;
        let mut all = self.load_index()?;
        let pos = all
            .iter()
            .position(|i| i.name.as_str() == name)
            .ok_or_else(|| VaultError::NotFound { name: name.into() })?;
        let gone = all.remove(pos);
        self.save_index(all)?;
        self.store
            .delete(&sealed_key(&gone.id, &gone.access_key_id))?;
        // A half-done rotation may hold a second key.
        if let Some(other) = self.rotation_partner(&gone)? {
            self.store.delete(&sealed_key(&gone.id, &other))?;
        }
        self.store.delete(&rotation_key(&gone.id))?;
        self.store.delete(&attempts_key(&gone.id))?;
        tracing::info!(identity = %gone.name, "identity removed");
        Ok(gone)
    }

    /// Renames an identity. The sealed key is bound to the identity's id,
    /// not its name, so no PIN is needed.
    pub fn rename(&self, old: &str, new: IdentityName) -> Result<Identity, VaultError> {
        let _lock = self.lock()?;
        let mut all = self.load_index()?;
        if all.iter().any(|i| i.name == new) || self.sso_name_taken(&new)? {
            return Err(VaultError::NameTaken { name: new });
        }
        let identity = all
            .iter_mut()
            .find(|i| i.name.as_str() == old)
            .ok_or_else(|| VaultError::NotFound { name: old.into() })?;
        identity.name = new;
        let renamed = identity.clone();
        self.save_index(all)?;
        Ok(renamed)
    }
}

fn verify(
    verifier: &dyn KeyVerifier,
    key: &AccessKeyId,
    secret: &SecretAccessKey,
    endpoints: &Endpoints,
) -> Result<CallerIdentity, VaultError> {
    verifier.verify(key, secret, endpoints).map_err(|e| {
        if !e.is_bad_credentials() {
            return VaultError::Aws(e);
        }
        // Say which field is wrong where AWS says so.
        match e.code() {
            Some("InvalidClientTokenId") | Some("UnrecognizedClientException") => {
                FieldError::new(
                    Field::AccessKeyId,
                    format!("AWS does not know this key, or it is inactive or deleted ({e}); nothing was stored"),
                )
            }
            _ => FieldError::new(
                Field::SecretAccessKey,
                format!("AWS refused the key pair: the secret does not match the access key ID, or the key is inactive ({e}); nothing was stored"),
            ),
        }
        .into()
    })
}

/// A fresh random identity id: 16 hex characters.
fn new_id() -> Result<String, VaultError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|_| VaultError::Sealed {
        name: IdentityName::parse("new").expect("valid name"),
        source: CryptoError::Random,
    })?;
    Ok(hex::encode(bytes))
}

fn sealed_key(id: &str, key: &AccessKeyId) -> String {
    format!("identity.{id}.key.{key}")
}

fn rotation_key(id: &str) -> String {
    format!("identity.{id}.rotation")
}

fn attempts_key(id: &str) -> String {
    format!("identity.{id}.attempts")
}

#[cfg(test)]
mod tests {
    //! The vault's own tests, and the helpers (`pub(super)`) the tests of
    //! its other files share.

    use std::sync::atomic::{AtomicI64, Ordering};

    use super::*;
    use crate::platform::store::memory::MemoryStore;

    const KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
    pub(super) const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    struct Fake(Result<CallerIdentity, fn() -> AwsError>);

    impl KeyVerifier for Fake {
        fn verify(
            &self,
            _: &AccessKeyId,
            _: &SecretAccessKey,
            _: &Endpoints,
        ) -> Result<CallerIdentity, AwsError> {
            self.0.clone().map_err(|f| f())
        }
    }

    fn user(arn: &str) -> Fake {
        Fake(Ok(CallerIdentity {
            account: "123456789012".into(),
            arn: arn.into(),
            user_id: "AIDAEXAMPLE".into(),
        }))
    }

    pub(super) fn ok() -> impl KeyVerifier {
        user("arn:aws:iam::123456789012:user/alice")
    }

    /// The vault's clock in these tests, in Unix seconds; back-off tests
    /// step it forward.
    pub(super) static NOW: AtomicI64 = AtomicI64::new(1_700_000_000);

    fn clock() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(NOW.load(Ordering::SeqCst)).unwrap()
    }

    /// A vault over a memory store the test can inspect.
    pub(super) fn vault() -> (Vault, MemoryStore, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = MemoryStore::new();
        let v = Vault::new(Box::new(store.clone()), dir.path())
            .with_kdf(KdfParams::MIN)
            .with_clock(clock)
            .with_pin_strength(None);
        (v, store, dir)
    }

    pub(super) fn new(name: &str, pin: &str) -> NewIdentity {
        NewIdentity {
            name: IdentityName::parse(name).unwrap(),
            access_key_id: AccessKeyId::parse(KEY_ID).unwrap(),
            secret: SecretAccessKey::new(SECRET.into()),
            pin: Pin::new(pin.into()),
            endpoints: Endpoints::default(),
        }
    }

    #[test]
    fn add_list_unseal_remove() {
        let (v, store, _d) = vault();
        let added = v
            .add(new("alice", "123456"), AddOptions::default(), &ok())
            .unwrap();
        assert_eq!(added.account.as_deref(), Some("123456789012"));
        assert!(added.verified);
        assert_eq!(v.list().unwrap(), vec![added.clone()]);
        let secret = v.unseal("alice", &Pin::new("123456".into())).unwrap();
        assert_eq!(secret.expose(), SECRET);
        // The secret is sealed: it appears in no store entry.
        for (k, val) in store.snapshot() {
            assert!(!String::from_utf8_lossy(&val).contains(SECRET), "{k}");
        }
        v.remove("alice").unwrap();
        assert!(v.list().unwrap().is_empty());
        assert_eq!(store.keys(), vec!["index".to_string()]);
    }

    #[test]
    fn refused_keys_write_nothing() {
        let (v, store, _d) = vault();
        let refused = Fake(Err(|| AwsError::Refused {
            code: "SignatureDoesNotMatch".into(),
            message: "no".into(),
            status: Some(403),
        }));
        let e = v
            .add(new("alice", "123456"), AddOptions::default(), &refused)
            .unwrap_err();
        assert_eq!(e.field(), Some(Field::SecretAccessKey));
        let unknown = Fake(Err(|| AwsError::Refused {
            code: "InvalidClientTokenId".into(),
            message: "no".into(),
            status: Some(403),
        }));
        let e = v
            .add(new("alice", "123456"), AddOptions::default(), &unknown)
            .unwrap_err();
        assert_eq!(e.field(), Some(Field::AccessKeyId));
        let e = v
            .add(new("alice", "12345"), AddOptions::default(), &ok())
            .unwrap_err();
        assert_eq!(e.field(), Some(Field::Pin));
        assert!(store.keys().is_empty());
    }

    #[test]
    fn root_keys_need_allow_root() {
        let (v, store, _d) = vault();
        let root = user("arn:aws:iam::123456789012:root");
        let e = v
            .add(new("root", "123456"), AddOptions::default(), &root)
            .unwrap_err();
        assert!(matches!(e, VaultError::RootRefused { .. }));
        assert!(store.keys().is_empty());
        let opts = AddOptions {
            allow_root: true,
            ..Default::default()
        };
        assert!(v.add(new("root", "123456"), opts, &root).unwrap().is_root());
    }

    #[test]
    fn offline_add_decodes_the_account_or_leaves_it_unknown() {
        let (v, _s, _d) = vault();
        let opts = AddOptions {
            no_verify: true,
            ..Default::default()
        };
        let never = Fake(Err(|| unreachable!("no_verify must not call AWS")));
        let mut n = new("offline", "123456");
        n.access_key_id = AccessKeyId::parse("AKIAY34FZKBOKMUTVV7A").unwrap();
        let i = v.add(n, opts, &never).unwrap();
        assert_eq!(i.account.as_deref(), Some("609629065308"));
        assert!(!i.verified);
        let mut n = new("old", "123456");
        n.access_key_id = AccessKeyId::parse("AKIAI44QH8DHBEXAMPLE").unwrap();
        assert_eq!(v.add(n, opts, &never).unwrap().account, None);
    }

    #[test]
    fn duplicate_names_are_refused() {
        let (v, _s, _d) = vault();
        v.add(new("alice", "123456"), AddOptions::default(), &ok())
            .unwrap();
        let before = v.list().unwrap();
        let e = v
            .add(new("alice", "654321"), AddOptions::default(), &ok())
            .unwrap_err();
        assert!(matches!(e, VaultError::NameTaken { .. }));
        assert_eq!(v.list().unwrap(), before);
    }

    #[test]
    fn rename_keeps_the_key_usable() {
        let (v, _s, _d) = vault();
        v.add(new("alice", "123456"), AddOptions::default(), &ok())
            .unwrap();
        v.add(new("bob", "123456"), AddOptions::default(), &ok())
            .unwrap();
        assert!(matches!(
            v.rename("alice", IdentityName::parse("bob").unwrap()),
            Err(VaultError::NameTaken { .. })
        ));
        v.rename("alice", IdentityName::parse("carol").unwrap())
            .unwrap();
        assert!(v.get("alice").is_err());
        assert_eq!(
            v.unseal("carol", &Pin::new("123456".into()))
                .unwrap()
                .expose(),
            SECRET
        );
    }
}
