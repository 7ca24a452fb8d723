//! What can stop an import before anything is written.

use std::path::PathBuf;

use crate::model::error_kind::ErrorKind;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A file backend (aws-vault's, granted's): the passphrase opens none
    /// of its files (their key unwrap fails). Nothing was imported.
    #[error(
        "the passphrase does not open {path} ({tool}'s file backend); nothing was imported — give the passphrase {tool} uses (AWS_VAULT_FILE_PASSPHRASE or CF_KEYRING_FILE_PASSWORD, or typed when asked)"
    )]
    WrongPassphrase { path: PathBuf, tool: &'static str },
    /// The folder of aws-vault's file backend could not be read.
    #[error("cannot read {path}: {source}")]
    ReadFolder {
        path: PathBuf,
        source: std::io::Error,
    },
    /// `--name NAME=IDENTITY` names no `[sso-session NAME]` and no legacy
    /// profile's start URL in the AWS config file.
    #[error(
        "--name: {path} has no [sso-session {name}] and no profile with sso_start_url = {name}; give a session's name or a legacy profile's start URL"
    )]
    UnknownSession { name: String, path: PathBuf },
    /// Leapp's workspace file cannot be read as Leapp writes it.
    #[error("cannot read Leapp's workspace {path}: {why}; nothing was imported")]
    LeappWorkspace { path: PathBuf, why: String },
    /// The Secret Service did not answer or refused.
    #[error("{0}")]
    SecretService(#[from] crate::platform::store::foreign::ForeignError),
}

impl ImportError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ImportError::WrongPassphrase { .. } => ErrorKind::Field,
            ImportError::ReadFolder { .. } => ErrorKind::Config,
            ImportError::UnknownSession { .. } => ErrorKind::Field,
            ImportError::LeappWorkspace { .. } => ErrorKind::Field,
            ImportError::SecretService(_) => ErrorKind::Store,
        }
    }
}
