//! What every store is: the [`SecretStore`] trait, its error, the
//! backends a person may choose, and the rule for entry names.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::model::secret::SecretBytes;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the OS keychain failed to {op} entry {key}: {message}")]
    Keychain {
        op: &'static str,
        key: String,
        message: String,
    },
    #[error(
        "no Secret Service answered ({message}); start gnome-keyring or KeePassXC, or set store = \"file\" in {config}"
    )]
    KeychainUnavailable { message: String, config: PathBuf },
    #[error(
        "the keychain collection is locked: unlock it (e.g. log in to the desktop) and try again"
    )]
    KeychainLocked,
    #[error("cannot {op} {path}: {source}")]
    File {
        op: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid store key {key:?}: keys are letters, digits, '.', '_' and '-'")]
    BadKey { key: String },
}

/// Which backend to use; the `store` setting in `config.toml`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// The OS keychain if it answers, else the encrypted-file store with a
    /// one-line notice.
    #[default]
    Auto,
    Keychain,
    File,
}

impl std::str::FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Backend::Auto),
            "keychain" => Ok(Backend::Keychain),
            "file" => Ok(Backend::File),
            other => Err(format!(
                "unknown store {other:?}: accepted are auto, keychain and file"
            )),
        }
    }
}

/// A key-value store for sealed and non-secret entries.
pub trait SecretStore: Send + Sync {
    /// A short human name for notices and `keyfob` status output.
    fn describe(&self) -> String;
    /// The entry's value, or `None` when there is no such entry.
    fn get(&self, key: &str) -> Result<Option<SecretBytes>, StoreError>;
    /// Creates or replaces the entry.
    fn put(&self, key: &str, value: &[u8]) -> Result<(), StoreError>;
    /// Removes the entry; removing a missing entry is not an error.
    fn delete(&self, key: &str) -> Result<(), StoreError>;
}

/// Checks that a key is safe as a file name and keychain attribute.
pub(crate) fn check_key(key: &str) -> Result<(), StoreError> {
    let ok = !key.is_empty()
        && !key.starts_with('.')
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(StoreError::BadKey { key: key.into() })
    }
}
