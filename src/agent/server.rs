//! The agent's server: the socket (`agent.sock` in keyfob's runtime
//! folder, 0700; the socket 0600; every peer's uid checked with
//! SO_PEERCRED), one agent per user (it holds `agent.lock`, which names
//! its pid), a thread per connection, and what each request does.
//!
//! Sessions are made here: the agent resolves the profile, asks for the
//! PIN (and MFA code) through the asking client — or, when the client
//! cannot ask, through the desktop app's window when the app is the
//! agent — unseals, calls STS and caches. The requester shown to the
//! person is found from the peer's pid (`/proc/PID/exe` and its parents),
//! never from anything the client says.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::Duration;

pub use super::hardening::harden_process;
pub use super::state::{Agent, Asker, PromptAnswer, PromptRequest};
pub use super::trim::Headless;
use crate::link::protocol::{lock_path, socket_path};
pub use crate::link::requester::{Requester, requester};
use crate::platform::fsutil::{self, FileLock, LockError};

pub use crate::link::error::AgentError;

/// The most threads a headless agent runs: the accept loop, at most
/// [`super::listen::WORKERS`] request threads, the screen-lock watcher's
/// and a margin for the runtime of an AWS call in flight per request.
pub const MAX_AGENT_THREADS: usize = 2 * super::listen::WORKERS + 8;

/// The bound socket, and the instance lock held while it lives.
pub struct AgentServer {
    listener: UnixListener,
    path: PathBuf,
    _instance: FileLock,
}

/// Stops a spawned server and removes its socket when dropped.
pub struct ServerHandle {
    agent: Arc<Agent>,
    path: PathBuf,
    thread: Option<JoinHandle<()>>,
}

impl AgentServer {
    /// Takes the agent lock in `runtime_dir` (created 0700) and binds the
    /// socket. A socket left by a killed agent is replaced; a running
    /// agent is an error naming it.
    pub fn bind(runtime_dir: &Path) -> Result<AgentServer, AgentError> {
        let path = socket_path(runtime_dir);
        let err = |source| AgentError::Bind {
            path: path.clone(),
            source,
        };
        crate::platform::paths::private_dir(runtime_dir)
            .map_err(|e| err(std::io::Error::other(e.to_string())))?;
        // A moment's wait: an agent told to stop (or hand over) lets go
        // of the lock as it exits.
        let instance = match fsutil::lock(&lock_path(runtime_dir), Duration::from_secs(2)) {
            Ok(l) => l,
            Err(LockError::Timeout { holder, .. }) => {
                return Err(AgentError::AlreadyRunning { holder });
            }
            Err(e) => return Err(e.into()),
        };
        // Holding the lock, no live agent owns the socket: a leftover is
        // stale.
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(err(e)),
            _ => {}
        }
        let listener = UnixListener::bind(&path).map_err(err)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(err)?;
        Ok(AgentServer {
            listener,
            path,
            _instance: instance,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Serves on this thread until stopped, or (`headless`) until no
    /// session has been held in memory and no request came for its idle
    /// time (the bounded loop of [`super::listen`]).
    pub fn serve(self, agent: Arc<Agent>, headless: Option<Headless>) {
        super::listen::run(&self.listener, &self.path, &agent, headless.as_ref());
        // Only if it is still ours (a successor may have bound it).
        if !agent.stop.load(Ordering::SeqCst) {
            let _ = std::fs::remove_file(&self.path);
        }
    }

    /// Serves on a thread of its own (the desktop app).
    pub fn spawn(self, agent: Arc<Agent>) -> ServerHandle {
        let path = self.path.clone();
        let served = agent.clone();
        let thread = std::thread::spawn(move || self.serve(served, None));
        ServerHandle {
            agent,
            path,
            thread: Some(thread),
        }
    }
}

impl ServerHandle {
    pub fn agent(&self) -> &Arc<Agent> {
        &self.agent
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.agent.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}
