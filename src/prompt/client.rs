//! The prompt service's client side: `keyfob credential-process` with no
//! terminal asks the desktop app, if it runs, for the PIN or MFA code, and
//! says which program wants credentials. Nobody answering within
//! [`ANSWER_TIMEOUT`] is an error, never a hang.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use zeroize::Zeroizing;

use super::protocol::{
    Answer, AnswerLine, AskKind, MAX_LINE, Request, Requester, VERSION, VersionOnly, socket_path,
};
use super::tty::PromptError;
use crate::provider::{Ask, Prompter};
use crate::secret::Pin;

/// How long a person has to answer in the app.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(120);

pub struct SocketPrompter {
    path: PathBuf,
    requester: Requester,
}

impl SocketPrompter {
    /// The app's prompter, if the app is running (its socket accepts a
    /// connection).
    pub fn if_running(runtime_dir: &Path) -> Option<SocketPrompter> {
        let path = socket_path(runtime_dir);
        UnixStream::connect(&path).ok()?;
        Some(SocketPrompter {
            path,
            requester: requester(),
        })
    }

    fn ask(&self, kind: AskKind, ask: &Ask<'_>) -> Result<Answer, PromptError> {
        let service = |message: String| PromptError::Service { message };
        let mut stream = UnixStream::connect(&self.path)
            .map_err(|e| service(format!("cannot reach the keyfob app: {e}")))?;
        stream
            .set_read_timeout(Some(ANSWER_TIMEOUT))
            .map_err(|e| service(e.to_string()))?;
        let request = Request {
            v: VERSION,
            ask: kind,
            profile: ask.profile.to_owned(),
            identity: ask.identity.to_owned(),
            mfa_serial: ask.mfa_serial.map(str::to_owned),
            requester: self.requester.clone(),
        };
        // Plain data: serialising cannot fail.
        let mut line = serde_json::to_string(&request).expect("request serialises");
        line.push('\n');
        stream
            .write_all(line.as_bytes())
            .map_err(|e| service(format!("cannot ask the keyfob app: {e}")))?;
        // Reserved so the buffer never reallocates around a PIN.
        let mut reply = Zeroizing::new(String::with_capacity(MAX_LINE + 1));
        match BufReader::new(&stream)
            .take(MAX_LINE as u64)
            .read_line(&mut reply)
        {
            Ok(0) => {
                return Err(service(
                    "the keyfob app closed the request unanswered".into(),
                ));
            }
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err(PromptError::TimedOut {
                    secs: ANSWER_TIMEOUT.as_secs(),
                });
            }
            Err(e) => return Err(service(e.to_string())),
        }
        match serde_json::from_str::<AnswerLine>(&reply) {
            Ok(line) if line.v == VERSION => Ok(line.answer),
            _ => Err(service(match serde_json::from_str::<VersionOnly>(&reply) {
                Ok(v) if v.v != VERSION => format!(
                    "the keyfob app speaks prompt protocol v{}; this keyfob speaks v{VERSION} — update one of them",
                    v.v
                ),
                _ => "the keyfob app sent an answer keyfob cannot read".into(),
            })),
        }
    }
}

/// The process that asked for credentials: our parent (the AWS CLI, an
/// SDK's process, a shell).
fn requester() -> Requester {
    let pid = rustix::process::getppid()
        .map(|p| p.as_raw_nonzero().get() as u32)
        .unwrap_or(0);
    let exe = std::fs::read_link(format!("/proc/{pid}/exe"))
        .ok()
        .map(|p| p.display().to_string());
    Requester { pid, exe }
}

impl Prompter for SocketPrompter {
    fn pin(&self, ask: &Ask<'_>) -> Result<Pin, PromptError> {
        match self.ask(AskKind::Pin, ask)? {
            Answer::Pin { mut value } => Ok(Pin::new(std::mem::take(&mut *value))),
            other => Err(unexpected(other)),
        }
    }

    fn mfa_code(&self, ask: &Ask<'_>) -> Result<String, PromptError> {
        match self.ask(AskKind::MfaCode, ask)? {
            Answer::MfaCode { value } => Ok(value.trim().to_owned()),
            other => Err(unexpected(other)),
        }
    }

    fn interactive(&self) -> bool {
        true
    }
}

fn unexpected(answer: Answer) -> PromptError {
    match answer {
        Answer::Refused => PromptError::Refused,
        Answer::Error { message } => PromptError::Service { message },
        _ => PromptError::Service {
            message: "the keyfob app answered another question".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prompt::server::{PromptAnswer, PromptServer};

    fn ask() -> Ask<'static> {
        Ask {
            profile: "prod",
            identity: "work",
            mfa_serial: None,
        }
    }

    #[test]
    fn a_pin_travels_from_the_app_to_the_client() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("keyfob");
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        let _server = PromptServer::bind(&run).unwrap().spawn(move |req| {
            log.lock()
                .unwrap()
                .push((req.kind, req.profile.clone(), req.requester.pid));
            match req.kind {
                AskKind::Pin => PromptAnswer::Pin(Pin::new("123456".into())),
                AskKind::MfaCode => PromptAnswer::Refused,
            }
        });
        let client = SocketPrompter::if_running(&run).expect("the server runs");
        assert_eq!(client.pin(&ask()).unwrap().expose(), "123456");
        assert!(matches!(client.mfa_code(&ask()), Err(PromptError::Refused)));
        let seen = seen.lock().unwrap();
        assert_eq!(seen[0].0, AskKind::Pin);
        assert_eq!(seen[0].1, "prod");
        assert_eq!(seen[0].2, std::os::unix::process::parent_id());
        // The socket is private.
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(run.join("prompt.sock"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn no_app_means_no_prompter_and_a_stopped_app_removes_its_socket() {
        let dir = tempfile::tempdir().unwrap();
        assert!(SocketPrompter::if_running(dir.path()).is_none());
        let server = PromptServer::bind(dir.path())
            .unwrap()
            .spawn(|_| PromptAnswer::Refused);
        assert!(SocketPrompter::if_running(dir.path()).is_some());
        assert!(PromptServer::bind(dir.path()).is_err(), "one app at a time");
        drop(server);
        assert!(SocketPrompter::if_running(dir.path()).is_none());
        assert!(!dir.path().join("prompt.sock").exists());
    }

    #[test]
    fn another_protocol_version_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = socket_path(dir.path());
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut line = String::new();
            BufReader::new(&s).read_line(&mut line).unwrap();
            s.write_all(b"{\"v\":7,\"answer\":\"pin\",\"value\":\"x\"}\n")
                .unwrap();
        });
        let client = SocketPrompter {
            path,
            requester: requester(),
        };
        let err = client.pin(&ask()).unwrap_err().to_string();
        assert!(
            err.contains("speaks prompt protocol v7; this keyfob speaks v1"),
            "{err}"
        );
    }
}
