//! The agent's errors, on both sides of the socket: what a client meets
//! (unreachable, an impostor, an error reply by kind) and what the server
//! meets binding its socket. Below the application core, which wraps it;
//! the server, a face, only uses it.

use std::path::PathBuf;

use super::protocol::ErrorKind;
use crate::platform::fsutil::LockError;

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("cannot start the keyfob agent on {path}: {source}")]
    Bind {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("a keyfob agent already runs ({holder}); one serves each user")]
    AlreadyRunning { holder: String },
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("cannot reach the keyfob agent: {message}")]
    Unreachable { message: String },
    /// What listens on the agent's socket is not keyfob.
    #[error("refused the keyfob agent: {message}")]
    Impostor { message: String },
    #[error("{message}")]
    Replied { kind: ErrorKind, message: String },
}

impl AgentError {
    /// What kind of failure this is (see [`crate::model::error_kind::ErrorKind`]); a reply keeps the
    /// kind the agent gave it.
    pub fn kind(&self) -> crate::model::error_kind::ErrorKind {
        use crate::link::protocol::ErrorKind as Wire;
        use crate::model::error_kind::ErrorKind as K;
        match self {
            AgentError::Replied { kind, .. } => match kind {
                Wire::Refusal => K::Invalid,
                Wire::Locked => K::Locked,
                Wire::SignIn => K::SignIn,
                Wire::Failed => K::Failed,
                Wire::Protocol => K::Agent,
                Wire::Denied => K::Denied,
                Wire::Miss => K::Agent,
            },
            AgentError::Lock(_) => K::Config,
            _ => K::Agent,
        }
    }
}
