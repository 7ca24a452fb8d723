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
