//! What can stop an import before anything is written.

use std::path::PathBuf;

use crate::model::error_kind::ErrorKind;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// aws-vault's file backend: the passphrase does not open a file of
    /// it (its key unwrap fails). Nothing was imported.
    #[error(
        "the passphrase does not open {path} (aws-vault's file backend); nothing was imported — give the passphrase aws-vault uses (AWS_VAULT_FILE_PASSPHRASE, or typed when asked)"
    )]
    WrongPassphrase { path: PathBuf },
    /// The folder of aws-vault's file backend could not be read.
    #[error("cannot read {path}: {source}")]
    ReadFolder {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The Secret Service did not answer or refused.
    #[error("{0}")]
    SecretService(#[from] crate::platform::store::foreign::ForeignError),
}

impl ImportError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ImportError::WrongPassphrase { .. } => ErrorKind::Field,
            ImportError::ReadFolder { .. } => ErrorKind::Config,
            ImportError::SecretService(_) => ErrorKind::Store,
        }
    }
}
