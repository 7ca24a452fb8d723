//! The agent's client side: what `keyfob credential-process`, `exec`,
//! `env`, `unlock` and `lock` use. It connects to the user's agent,
//! starting the headless `keyfob agent` if none runs (as rbw starts
//! rbw-agent), and answers the agent's asks with the caller's prompter
//! (the terminal, or `--pin-stdin`), so a PIN only ever travels *to* the
//! agent. [`AgentCache`] is the session cache of a process that is not
//! the agent, where the kernel keyring is refused: the agent's memory,
//! over the socket.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::protocol::{
    Answer, AskKind, ErrorKind, MAX_LINE, Reply, Request, decode, encode, socket_path,
};
use super::server::AgentError;
use crate::provider::{Ask, Prompter};
use crate::session::{CacheError, Session, SessionCache};

/// How long a client waits for an agent it started to listen.
const START_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a session request may take: the agent may be waiting for the
/// person at the app, who has 120 s.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// Where the agent is, and how to start it.
#[derive(Clone, Debug)]
pub struct AgentLink {
    pub runtime_dir: PathBuf,
    /// The `keyfob` binary that runs `keyfob agent`.
    pub exe: PathBuf,
}

impl AgentLink {
    /// Connects to the running agent, or starts one and connects.
    pub fn connect(&self) -> Result<UnixStream, AgentError> {
        let path = socket_path(&self.runtime_dir);
        if let Ok(s) = UnixStream::connect(&path) {
            return Ok(s);
        }
        self.start()?;
        let begun = Instant::now();
        let mut pause = Duration::from_millis(2);
        loop {
            match UnixStream::connect(&path) {
                Ok(s) => return Ok(s),
                Err(e) if begun.elapsed() >= START_TIMEOUT => {
                    return Err(AgentError::Unreachable {
                        message: format!(
                            "started `{} agent`, but {} did not answer within {} s: {e}",
                            self.exe.display(),
                            path.display(),
                            START_TIMEOUT.as_secs()
                        ),
                    });
                }
                Err(_) => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
            }
        }
    }

    /// Starts `keyfob agent` detached: its own session, no terminal, no
    /// inherited pipes (so nothing waits on it), the caller's environment.
    /// Several clients may start one at once; all but one see the agent
    /// lock taken and exit at once.
    fn start(&self) -> Result<(), AgentError> {
        use std::os::unix::process::CommandExt;
        let mut cmd = std::process::Command::new(&self.exe);
        cmd.arg("agent")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        // SAFETY: setsid is async-signal-safe and touches no memory.
        unsafe {
            cmd.pre_exec(|| {
                rustix::process::setsid().map_err(std::io::Error::from)?;
                Ok(())
            });
        }
        let mut child = cmd.spawn().map_err(|e| AgentError::Unreachable {
            message: format!("cannot start `{} agent`: {e}", self.exe.display()),
        })?;
        // Reap it in the background if it exits (a loser of the start race).
        std::thread::spawn(move || {
            let _ = child.wait();
        });
        Ok(())
    }

    /// Sends one request and reads the final reply; `on_ask` answers asks
    /// in between.
    fn call(
        &self,
        request: Request,
        on_ask: &dyn Fn(AskKind, &Ask<'_>) -> Answer,
    ) -> Result<Reply, AgentError> {
        // An agent that was stopping as we connected closes without an
        // answer; the request is made once more, to its successor.
        let line = encode(request);
        match self.call_once(&line, on_ask) {
            Err(AgentError::Unreachable { .. }) => {
                std::thread::sleep(Duration::from_millis(50));
                self.call_once(&line, on_ask)
            }
            other => other,
        }
    }

    fn call_once(
        &self,
        line: &str,
        on_ask: &dyn Fn(AskKind, &Ask<'_>) -> Answer,
    ) -> Result<Reply, AgentError> {
        let gone = |e: std::io::Error| AgentError::Unreachable {
            message: e.to_string(),
        };
        let mut stream = self.connect()?;
        stream
            .set_read_timeout(Some(REQUEST_TIMEOUT))
            .map_err(gone)?;
        stream.write_all(line.as_bytes()).map_err(gone)?;
        loop {
            let mut line = Zeroizing::new(String::with_capacity(MAX_LINE + 1));
            BufReader::new(&stream)
                .take(MAX_LINE as u64)
                .read_line(&mut line)
                .map_err(gone)?;
            if line.is_empty() {
                return Err(AgentError::Unreachable {
                    message: "the agent closed the connection without answering".into(),
                });
            }
            let reply = decode::<Reply>(&line).map_err(|message| AgentError::Replied {
                kind: ErrorKind::Protocol,
                message,
            })?;
            match reply {
                Reply::Ask {
                    kind,
                    profile,
                    identity,
                    mfa_serial,
                } => {
                    let ask = Ask {
                        profile: &profile,
                        identity: &identity,
                        mfa_serial: mfa_serial.as_deref(),
                    };
                    let answer = on_ask(kind, &ask);
                    stream.write_all(encode(answer).as_bytes()).map_err(gone)?;
                }
                Reply::Error { kind, message } => {
                    return Err(AgentError::Replied { kind, message });
                }
                other => return Ok(other),
            }
        }
    }

    fn simple(&self, request: Request) -> Result<Reply, AgentError> {
        self.call(request, &|_, _| Answer::Unavailable {
            message: "nothing to ask".into(),
        })
    }

    /// The profile's session from the agent, made there if needed
    /// (`fresh`: made now). The agent's asks are answered with `prompter`;
    /// without one the agent can only ask the app's window, if the app is
    /// the agent.
    pub fn session(
        &self,
        profile: &str,
        fresh: bool,
        prompter: Option<&dyn Prompter>,
    ) -> Result<Session, AgentError> {
        self.session_of_kind(profile, fresh, false, prompter)
    }

    /// As [`Self::session`], for the console (`console`: a federated
    /// user's session for a profile without a role).
    pub fn session_of_kind(
        &self,
        profile: &str,
        fresh: bool,
        console: bool,
        prompter: Option<&dyn Prompter>,
    ) -> Result<Session, AgentError> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let request = Request::Session {
            profile: profile.to_owned(),
            fresh,
            answers: prompter.is_some(),
            interactive: prompter.is_some_and(|p| p.interactive()),
            endpoint: env("AWS_ENDPOINT_URL"),
            region: env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION")),
            console,
        };
        let on_ask = |kind: AskKind, ask: &Ask<'_>| {
            let Some(p) = prompter else {
                return Answer::Unavailable {
                    message: "no terminal".into(),
                };
            };
            match kind {
                AskKind::Pin => match p.pin(ask) {
                    Ok(pin) => Answer::Pin {
                        value: Zeroizing::new(pin.expose().to_owned()),
                    },
                    Err(e) => Answer::Unavailable {
                        message: e.to_string(),
                    },
                },
                AskKind::MfaCode => match p.mfa_code(ask) {
                    Ok(code) => Answer::MfaCode { value: code },
                    Err(e) => Answer::Unavailable {
                        message: e.to_string(),
                    },
                },

                // Never sent to a client (the agent asks the app only).
                AskKind::SignIn => Answer::Unavailable {
                    message: "a sign-in is not asked of a client".into(),
                },
            }
        };
        match self.call(request, &on_ask)? {
            Reply::Session { credentials } => Session::from_json(credentials.as_bytes())
                .map(|(s, _)| s)
                .map_err(|e| AgentError::Replied {
                    kind: ErrorKind::Protocol,
                    message: e.to_string(),
                }),
            _ => Err(unexpected()),
        }
    }

    /// The running agent's status; `None` when no agent runs (one is not
    /// started for this).
    pub fn status(runtime_dir: &Path) -> Option<AgentStatus> {
        let mut stream = UnixStream::connect(socket_path(runtime_dir)).ok()?;
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        stream.write_all(encode(Request::Status).as_bytes()).ok()?;
        let mut line = String::new();
        BufReader::new(&stream)
            .take(MAX_LINE as u64)
            .read_line(&mut line)
            .ok()?;
        match decode::<Reply>(&line).ok()? {
            Reply::Status {
                pid,
                sessions,
                app,
                dumpable,
                wipes,
                watching,
                signals,
            } => Some(AgentStatus {
                pid,
                sessions,
                app,
                dumpable,
                wipes,
                watching,
                signals,
            }),
            _ => None,
        }
    }

    /// Tells a running agent to drop every session and sign-in it holds
    /// (`keyfob lock --all`); nothing when none runs (none is started).
    pub fn lock_all_running(runtime_dir: &Path) -> Result<(), AgentError> {
        if UnixStream::connect(socket_path(runtime_dir)).is_err() {
            return Ok(());
        }
        let link = AgentLink {
            runtime_dir: runtime_dir.to_owned(),
            exe: PathBuf::new(),
        };
        match link.simple(Request::LockAll)? {
            Reply::Done => Ok(()),
            Reply::Error { kind, message } => Err(AgentError::Replied { kind, message }),
            _ => Err(unexpected()),
        }
    }

    /// Asks a running agent to stop (`handover`: after replying with its
    /// sessions). `None` when none runs.
    pub fn stop_running(runtime_dir: &Path, handover: bool) -> Option<Reply> {
        let link = AgentLink {
            runtime_dir: runtime_dir.to_owned(),
            exe: PathBuf::new(),
        };
        UnixStream::connect(socket_path(runtime_dir)).ok()?;
        let request = if handover {
            Request::Handover
        } else {
            Request::Stop
        };
        link.simple(request).ok()
    }
}

/// What `keyfob agent --status` shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AgentStatus {
    pub pid: u32,
    /// Sessions in its memory (0 where they are in the kernel keyring).
    pub sessions: usize,
    /// The desktop app is the agent.
    pub app: bool,
    /// Whether the user's other processes could dump its memory.
    pub dumpable: bool,
    /// How many times a screen lock or sleep wiped every session.
    pub wipes: u64,
    /// Whether it listens for the screen locking.
    pub watching: bool,
    /// Screen-lock and sleep signals it has read, acted on or not.
    pub signals: u64,
}

fn unexpected() -> AgentError {
    AgentError::Replied {
        kind: ErrorKind::Protocol,
        message: "the agent answered with something else".into(),
    }
}

/// The agent's cache, over its socket (see the module docs).
pub struct AgentCache(pub AgentLink);

fn cache_err(op: &'static str) -> impl FnOnce(AgentError) -> CacheError {
    move |e| CacheError::Agent {
        op,
        message: e.to_string(),
    }
}

impl SessionCache for AgentCache {
    fn get(&self, key: &str) -> Result<Option<Zeroizing<Vec<u8>>>, CacheError> {
        match self
            .0
            .simple(Request::Get {
                key: key.to_owned(),
            })
            .map_err(cache_err("read"))?
        {
            Reply::Value { value } => Ok(value.map(|v| Zeroizing::new(v.as_bytes().to_vec()))),
            _ => Err(cache_err("read")(unexpected())),
        }
    }

    fn put(&self, key: &str, value: &[u8], expires: OffsetDateTime) -> Result<(), CacheError> {
        let value = Zeroizing::new(String::from_utf8_lossy(value).into_owned());
        self.0
            .simple(Request::Put {
                key: key.to_owned(),
                value,
                expires: expires.unix_timestamp(),
            })
            .map_err(cache_err("store"))?;
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<(), CacheError> {
        // No agent, no sessions in its memory: nothing to delete.
        if UnixStream::connect(socket_path(&self.0.runtime_dir)).is_err() {
            return Ok(());
        }
        self.0
            .simple(Request::Delete {
                key: key.to_owned(),
            })
            .map_err(cache_err("delete"))?;
        Ok(())
    }

    fn keys(&self) -> Result<Vec<String>, CacheError> {
        if UnixStream::connect(socket_path(&self.0.runtime_dir)).is_err() {
            return Ok(Vec::new());
        }
        match self.0.simple(Request::Keys).map_err(cache_err("list"))? {
            Reply::Keys { keys } => Ok(keys),
            _ => Err(cache_err("list")(unexpected())),
        }
    }

    fn describe(&self) -> &'static str {
        "the keyfob agent's memory"
    }
}
