//! The prompt service's server side, run by the desktop app: a Unix socket
//! in keyfob's runtime folder (0700, the socket 0600) that answers PIN and
//! MFA-code requests from `keyfob credential-process` with what the person
//! at the app typed, or a refusal.
//!
//! Connections from another user are refused after an SO_PEERCRED check,
//! whatever the file permissions say. The app supplies the handler that
//! asks the person; this module owns the socket, the checks and the wire.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use zeroize::Zeroizing;

use super::protocol::{Answer, AnswerLine, MAX_LINE, Request, VERSION, VersionOnly, socket_path};
pub use super::protocol::{AskKind, Requester};
use crate::paths::private_dir;
use crate::secret::Pin;

#[derive(Debug, thiserror::Error)]
pub enum PromptServiceError {
    #[error("cannot create the prompt socket {path}: {source}")]
    Bind {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("another keyfob app already serves prompts on {path}")]
    AlreadyRunning { path: PathBuf },
}

/// A request for the person at the app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PromptRequest {
    pub kind: AskKind,
    pub profile: String,
    pub identity: String,
    pub mfa_serial: Option<String>,
    pub requester: Requester,
}

/// What the person answered. No `Debug`: it can carry a PIN.
pub enum PromptAnswer {
    Pin(Pin),
    MfaCode(String),
    Refused,
}

pub struct PromptServer {
    listener: UnixListener,
    path: PathBuf,
}

/// Stops the server and removes the socket when dropped.
pub struct ServerHandle {
    stop: Arc<AtomicBool>,
    path: PathBuf,
    thread: Option<JoinHandle<()>>,
}

impl PromptServer {
    /// Binds `prompt.sock` in `runtime_dir` (created 0700). A socket left
    /// by a crashed app is replaced; a live one is an error.
    pub fn bind(runtime_dir: &Path) -> Result<PromptServer, PromptServiceError> {
        let path = socket_path(runtime_dir);
        let err = |source| PromptServiceError::Bind {
            path: path.clone(),
            source,
        };
        private_dir(runtime_dir).map_err(|e| err(std::io::Error::other(e.to_string())))?;
        if path.exists() {
            if UnixStream::connect(&path).is_ok() {
                return Err(PromptServiceError::AlreadyRunning { path });
            }
            std::fs::remove_file(&path).map_err(err)?;
        }
        let listener = UnixListener::bind(&path).map_err(err)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(err)?;
        Ok(PromptServer { listener, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Serves until the handle drops; each request runs `handler` on its
    /// own thread (the handler blocks until the person answers).
    pub fn spawn<F>(self, handler: F) -> ServerHandle
    where
        F: Fn(PromptRequest) -> PromptAnswer + Send + Sync + 'static,
    {
        let stop = Arc::new(AtomicBool::new(false));
        let handler = Arc::new(handler);
        let flag = stop.clone();
        let listener = self.listener;
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = conn else { continue };
                let handler = handler.clone();
                std::thread::spawn(move || serve(stream, handler.as_ref()));
            }
        });
        ServerHandle {
            stop,
            path: self.path,
            thread: Some(thread),
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = UnixStream::connect(&self.path);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Whether the peer runs as this user (SO_PEERCRED).
fn same_user(stream: &UnixStream) -> bool {
    match rustix::net::sockopt::socket_peercred(stream) {
        Ok(cred) => cred.uid == rustix::process::getuid(),
        Err(_) => false,
    }
}

fn reply(stream: &mut UnixStream, answer: Answer) {
    let line = AnswerLine { v: VERSION, answer };
    // Plain data: serialising cannot fail.
    let mut text = Zeroizing::new(serde_json::to_string(&line).expect("answer serialises"));
    text.push('\n');
    let _ = stream.write_all(text.as_bytes());
}

fn serve<F>(mut stream: UnixStream, handler: &F)
where
    F: Fn(PromptRequest) -> PromptAnswer,
{
    if !same_user(&stream) {
        tracing::warn!("refused a prompt connection from another user");
        reply(
            &mut stream,
            Answer::Error {
                message: "refused: the keyfob app serves only its own user".into(),
            },
        );
        return;
    }
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut line = String::new();
    let read = BufReader::new(&stream)
        .take(MAX_LINE as u64)
        .read_line(&mut line);
    if read.is_err() || line.is_empty() {
        return;
    }
    let request = match serde_json::from_str::<Request>(&line) {
        Ok(r) if r.v == VERSION => r,
        _ => {
            let message = match serde_json::from_str::<VersionOnly>(&line) {
                Ok(v) if v.v != VERSION => format!(
                    "the keyfob app speaks prompt protocol v{VERSION}; this request is v{} — update keyfob or the app",
                    v.v
                ),
                _ => "the request is not a keyfob prompt request".into(),
            };
            reply(&mut stream, Answer::Error { message });
            return;
        }
    };
    let answer = handler(PromptRequest {
        kind: request.ask,
        profile: request.profile,
        identity: request.identity,
        mfa_serial: request.mfa_serial,
        requester: request.requester,
    });
    let answer = match answer {
        PromptAnswer::Pin(pin) => Answer::Pin {
            value: Zeroizing::new(pin.expose().to_owned()),
        },
        PromptAnswer::MfaCode(code) => Answer::MfaCode { value: code },
        PromptAnswer::Refused => Answer::Refused,
    };
    reply(&mut stream, answer);
}
