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

use zeroize::Zeroizing;

use super::error::AgentError;
use super::peer::{Peer, check_runtime_dir, is_keyfob, runs_keyfob_beside_this, trusted_binaries};
use super::protocol::{
    Answer, AskKind, ErrorKind, MAX_LINE, Reply, Request, decode, encode, socket_path,
};
use crate::credentials::{Ask, Prompter};
use crate::model::session::Session;

/// How long a client waits for an agent it started to listen.
const START_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a session request may take: the agent may be waiting for the
/// person at the app, who has 120 s.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
/// How long a warm-only request may take before the full CLI takes over
/// (the agent answers it without waiting on anything).
const WARM_TIMEOUT: Duration = Duration::from_secs(2);

/// Where the agent is, and how to start it.
#[derive(Clone, Debug)]
pub struct AgentLink {
    pub runtime_dir: PathBuf,
    /// The `keyfob` binary that runs `keyfob agent`.
    pub exe: PathBuf,
}

impl AgentLink {
    /// Connects to the running agent, or starts one and connects; either
    /// way the agent is checked to be keyfob ([`Self::verify`]) before the
    /// stream is handed out, so nothing is ever sent to an impostor.
    pub fn connect(&self) -> Result<UnixStream, AgentError> {
        let path = socket_path(&self.runtime_dir);
        if let Ok(s) = UnixStream::connect(&path) {
            return self.verify(s);
        }
        self.start()?;
        let begun = Instant::now();
        let mut pause = Duration::from_millis(2);
        loop {
            match UnixStream::connect(&path) {
                Ok(s) => return self.verify(s),
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

    /// Checks what answers on the socket before anything is sent: the
    /// runtime folder is this user's and private, and the listening
    /// process — as the kernel names it, see [`super::peer`] — runs as
    /// this user one of keyfob's own binaries. A program that bound
    /// `agent.sock` after stopping the agent gets no request, so no PIN.
    fn verify(&self, stream: UnixStream) -> Result<UnixStream, AgentError> {
        check_runtime_dir(&self.runtime_dir).map_err(|why| AgentError::Impostor {
            message: format!("keyfob's runtime folder is not safe: {why}"),
        })?;
        let peer = Peer::of(&stream).map_err(|e| AgentError::Unreachable {
            message: format!("cannot tell who answers on the agent's socket: {e}"),
        })?;
        if runs_keyfob_beside_this(&peer) || is_keyfob(&peer, &trusted_binaries(&self.exe)) {
            return Ok(stream);
        }
        let who = match &peer.exe {
            Some(exe) => format!("{} (pid {})", exe.display(), peer.pid),
            None => format!("pid {} (its program could not be read)", peer.pid),
        };
        tracing::warn!(%who, uid = peer.uid, "refused an agent that is not keyfob");
        Err(AgentError::Impostor {
            message: format!(
                "what answers on {} is not keyfob but {who}{}; nothing was sent to it — end it, then run the command again",
                socket_path(&self.runtime_dir).display(),
                if peer.same_user() {
                    ""
                } else {
                    ", another user"
                }
            ),
        })
    }

    /// Starts `keyfob agent` detached: its own session, no terminal, no
    /// inherited pipes (so nothing waits on it), the caller's environment
    /// less its AWS settings ([`agent_environment`]). Several clients may
    /// start one at once; all but one see the agent lock taken and exit at
    /// once.
    fn start(&self) -> Result<(), AgentError> {
        use std::os::unix::process::CommandExt;
        let mut cmd = std::process::Command::new(&self.exe);
        for name in std::env::vars_os().map(|(k, _)| k) {
            if !agent_environment(&name.to_string_lossy()) {
                cmd.env_remove(&name);
            }
        }
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
    fn call(&self, request: Request, on_ask: &dyn Answerer) -> Result<Reply, AgentError> {
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

    fn call_once(&self, line: &str, on_ask: &dyn Answerer) -> Result<Reply, AgentError> {
        let gone = |e: std::io::Error| AgentError::Unreachable {
            message: e.to_string(),
        };
        let stream = self.connect()?;
        stream
            .set_read_timeout(Some(REQUEST_TIMEOUT))
            .map_err(gone)?;
        converse(&stream, line, on_ask)
    }

    pub(crate) fn simple(&self, request: Request) -> Result<Reply, AgentError> {
        self.call(request, &Prompted(None))
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

    /// The profile's session if the running agent has it cached and may
    /// hand it to this process's program without asking anybody (the
    /// `keyfob` front's request); `None` otherwise, or when no agent
    /// runs (none is started: the full CLI does that).
    pub fn warm_session(&self, profile: &str) -> Option<Session> {
        let stream = UnixStream::connect(socket_path(&self.runtime_dir)).ok()?;
        let mut stream = self.verify(stream).ok()?;
        stream.set_read_timeout(Some(WARM_TIMEOUT)).ok()?;
        let request = Request::Session {
            profile: profile.to_owned(),
            fresh: false,
            answers: false,
            interactive: false,
            console: false,
            warm_only: true,
        };
        session_of(exchange(&mut stream, request)?).ok()
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
        let request = Request::Session {
            profile: profile.to_owned(),
            fresh,
            answers: prompter.is_some(),
            interactive: prompter.is_some_and(|p| p.interactive()),
            console,
            warm_only: false,
        };
        self.session_reply(request, prompter)
    }

    /// The identity session of `identity` with MFA device `mfa_serial`
    /// (what the external-ID guard assumes a role with), from the agent.
    pub fn identity_session(
        &self,
        identity: &str,
        mfa_serial: Option<&str>,
        prompter: Option<&dyn Prompter>,
    ) -> Result<Session, AgentError> {
        let request = Request::IdentitySession {
            identity: identity.to_owned(),
            mfa_serial: mfa_serial.map(str::to_owned),
            answers: prompter.is_some(),
            interactive: prompter.is_some_and(|p| p.interactive()),
        };
        self.session_reply(request, prompter)
    }

    fn session_reply(
        &self,
        request: Request,
        prompter: Option<&dyn Prompter>,
    ) -> Result<Session, AgentError> {
        session_of(self.call(request, &Prompted(prompter))?)
    }

    /// Has the agent run `flow` (see [`crate::app::remote`]), answering
    /// its asks with `prompter`; the flow's result as JSON.
    pub fn flow(
        &self,
        flow: crate::model::flow::Flow,
        prompter: Option<&dyn Prompter>,
    ) -> Result<Zeroizing<String>, AgentError> {
        let interactive = prompter.is_some_and(|p| p.interactive());
        self.flow_answered(flow, &Prompted(prompter), prompter.is_some(), interactive)
    }

    /// As [`Self::flow`], answered by `answerer` (a flow that asks
    /// questions or new PINs, and says how it goes).
    pub fn flow_answered(
        &self,
        flow: crate::model::flow::Flow,
        answerer: &dyn Answerer,
        answers: bool,
        interactive: bool,
    ) -> Result<Zeroizing<String>, AgentError> {
        let request = Request::Flow {
            flow,
            answers,
            interactive,
        };
        match self.call(request, answerer)? {
            Reply::Flow { result } => Ok(result),
            _ => Err(unexpected()),
        }
    }

    /// Has a running agent drop identity `identity`'s Identity Center
    /// sign-in; whether it held one (none runs: nothing held).
    /// Drops approvals in the running agent (none running: none held
    /// until lock, and `until_lock_only` has nothing to do); how many.
    /// See [`Request::Revoke`].
    pub fn revoke_running(
        &self,
        id: Option<&str>,
        profile: Option<&str>,
        until_lock_only: bool,
    ) -> Result<Option<usize>, AgentError> {
        if UnixStream::connect(socket_path(&self.runtime_dir)).is_err() {
            return Ok(None);
        }
        let request = Request::Revoke {
            id: id.map(str::to_owned),
            profile: profile.map(str::to_owned),
            until_lock_only,
        };
        match self.simple(request)? {
            Reply::Revoked { count } => Ok(Some(count)),
            _ => Err(unexpected()),
        }
    }

    /// The approvals the running agent remembers (`None`: no agent runs).
    pub fn approvals_running(
        &self,
    ) -> Result<Option<Vec<crate::model::approval::Approval>>, AgentError> {
        if UnixStream::connect(socket_path(&self.runtime_dir)).is_err() {
            return Ok(None);
        }
        match self.simple(Request::Approvals)? {
            Reply::Approvals { approvals } => Ok(Some(approvals)),
            _ => Err(unexpected()),
        }
    }

    pub fn forget_sign_in(&self, identity: &str) -> Result<bool, AgentError> {
        if UnixStream::connect(socket_path(&self.runtime_dir)).is_err() {
            return Ok(false);
        }
        let request = Request::ForgetSignIn {
            identity: identity.to_owned(),
        };
        match self.simple(request)? {
            Reply::Dropped { dropped } => Ok(dropped),
            _ => Err(unexpected()),
        }
    }

    /// The running agent's status; `Ok(None)` when no agent runs (one is
    /// not started for this). What answers is checked as for any request
    /// ([`Self::verify`]): a program posing as the agent cannot report a
    /// state the agent is not in. `cli` is keyfob's CLI.
    pub fn status(runtime_dir: &Path, cli: &Path) -> Result<Option<AgentStatus>, AgentError> {
        let Ok(stream) = UnixStream::connect(socket_path(runtime_dir)) else {
            return Ok(None);
        };
        let link = AgentLink {
            runtime_dir: runtime_dir.to_owned(),
            exe: cli.to_owned(),
        };
        let stream = link.verify(stream)?;
        Ok(Self::read_status(stream))
    }

    fn read_status(mut stream: UnixStream) -> Option<AgentStatus> {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        match exchange(&mut stream, Request::Status)? {
            Reply::Status {
                pid,
                sessions,
                app,
                dumpable,
                wipes,
                watching,
                signals,
                warm,
                waiting,
            } => Some(AgentStatus {
                pid,
                sessions,
                app,
                dumpable,
                wipes,
                watching,
                signals,
                warm,
                waiting,
            }),
            _ => None,
        }
    }

    /// Tells a running agent to drop every session and sign-in it holds
    /// (`keyfob lock --all`); nothing when none runs (none is started).
    /// `cli` is keyfob's CLI, whose binaries the agent must be one of.
    pub fn lock_all_running(runtime_dir: &Path, cli: &Path) -> Result<(), AgentError> {
        if UnixStream::connect(socket_path(runtime_dir)).is_err() {
            return Ok(());
        }
        let link = AgentLink {
            runtime_dir: runtime_dir.to_owned(),
            exe: cli.to_owned(),
        };
        match link.simple(Request::LockAll)? {
            Reply::Done => Ok(()),
            Reply::Error { kind, message } => Err(AgentError::Replied { kind, message }),
            _ => Err(unexpected()),
        }
    }

    /// Asks a running agent to stop (`handover`: after replying with its
    /// sessions). `None` when none runs.
    /// `cli` is keyfob's CLI, whose binaries the agent must be one of.
    pub fn stop_running(runtime_dir: &Path, cli: &Path, handover: bool) -> Option<Reply> {
        let link = AgentLink {
            runtime_dir: runtime_dir.to_owned(),
            exe: cli.to_owned(),
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

/// Sends one request `line` on `stream` and reads the agent's lines until
/// its reply, answering its asks with `on_ask` and showing what it says.
/// Sends `request` and reads its one reply line (a request that asks
/// nothing back); `None` on any failure.
fn exchange(stream: &mut UnixStream, request: Request) -> Option<Reply> {
    stream.write_all(encode(request).as_bytes()).ok()?;
    let mut line = Zeroizing::new(String::new());
    BufReader::new(&*stream)
        .take(MAX_LINE as u64)
        .read_line(&mut line)
        .ok()?;
    decode::<Reply>(&line).ok()
}

/// The session a `session` reply carries, with the endpoints it was made
/// at.
fn session_of(reply: Reply) -> Result<Session, AgentError> {
    match reply {
        Reply::Session {
            credentials,
            endpoints,
        } => Session::from_json(credentials.as_bytes())
            .map(|(mut s, _)| {
                s.endpoints = endpoints.unwrap_or_default();
                s
            })
            .map_err(|e| AgentError::Replied {
                kind: ErrorKind::Protocol,
                message: e.to_string(),
            }),
        _ => Err(unexpected()),
    }
}

fn converse(stream: &UnixStream, line: &str, on_ask: &dyn Answerer) -> Result<Reply, AgentError> {
    let gone = |e: std::io::Error| AgentError::Unreachable {
        message: e.to_string(),
    };
    let mut writer: &UnixStream = stream;
    writer.write_all(line.as_bytes()).map_err(gone)?;
    // One reader for the whole conversation: the agent may send several
    // lines at once (progress, then an ask), and a reader made per line
    // would drop whatever it had buffered past its line — then both
    // sides wait for each other.
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = Zeroizing::new(String::with_capacity(MAX_LINE + 1));
        (&mut reader)
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
                question,
            } => {
                let ask = Ask {
                    profile: &profile,
                    identity: &identity,
                    mfa_serial: mfa_serial.as_deref(),
                };
                let answer = on_ask.answer(kind, &ask, question.as_deref());
                writer.write_all(encode(answer).as_bytes()).map_err(gone)?;
            }
            Reply::Say { line } => on_ask.say(&line),
            Reply::Error { kind, message } => {
                return Err(AgentError::Replied { kind, message });
            }
            other => return Ok(other),
        }
    }
}

/// Whether the agent keeps variable `name` of whoever started it. It
/// serves every later client, so it keeps none of the starter's AWS
/// settings (`AWS_ENDPOINT_URL*`, `AWS_REGION`, `AWS_PROFILE`, credentials,
/// CA bundles…): identities carry their own endpoints. It keeps where the
/// AWS files are (`AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE`: paths
/// it edits, not places it sends anything) and the desktop session (HOME,
/// XDG folders, the D-Bus address for the Secret Service).
pub fn agent_environment(name: &str) -> bool {
    !name.starts_with("AWS_") || matches!(name, "AWS_CONFIG_FILE" | "AWS_SHARED_CREDENTIALS_FILE")
}

/// What answers the agent's asks on the client's side, and shows what it
/// says along the way.
pub trait Answerer {
    fn answer(&self, kind: AskKind, ask: &Ask<'_>, question: Option<&str>) -> Answer;
    /// A line of a flow's progress, for the person.
    fn say(&self, _line: &str) {}
}

/// Answers PIN and MFA asks with a prompter (none: nobody to ask).
pub struct Prompted<'a>(pub Option<&'a dyn Prompter>);

impl Answerer for Prompted<'_> {
    fn answer(&self, kind: AskKind, ask: &Ask<'_>, question: Option<&str>) -> Answer {
        answer(self.0, kind, ask, question)
    }
}

/// Answers one of the agent's asks with `prompter` (the terminal, or
/// values given up front); without one, says nobody is there.
fn answer(
    prompter: Option<&dyn Prompter>,
    kind: AskKind,
    ask: &Ask<'_>,
    question: Option<&str>,
) -> Answer {
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
        // Only flows that ask them (import, change-pin, reseal) answer
        // these, with answers of their own.
        AskKind::NewPin
        | AskKind::Confirm
        | AskKind::RecoveryCode
        | AskKind::NewRecoveryCode
        | AskKind::SourcePassphrase => Answer::Unavailable {
            message: "nothing to answer it with".into(),
        },
        AskKind::Approve => match p.approve(question.unwrap_or_default()) {
            Ok(decision) => Answer::Decision { decision },
            Err(e) => Answer::Unavailable {
                message: e.to_string(),
            },
        },
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
    /// Sessions it handed out warm, on its accepting thread.
    pub warm: u64,
    /// Requests waiting on another request's open approval prompt.
    pub waiting: usize,
}

pub(crate) fn unexpected() -> AgentError {
    AgentError::Replied {
        kind: ErrorKind::Protocol,
        message: "the agent answered with something else".into(),
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    /// Says yes to every ask and keeps what the agent said.
    #[derive(Default)]
    struct Yes {
        said: RefCell<Vec<String>>,
    }

    impl Answerer for Yes {
        fn answer(&self, _: AskKind, _: &Ask<'_>, _: Option<&str>) -> Answer {
            Answer::Yes
        }
        fn say(&self, line: &str) {
            self.said.borrow_mut().push(line.to_owned());
        }
    }

    /// An agent that sends a line of progress and its ask in one write (as
    /// a busy agent's lines arrive) must still get the answer: a client
    /// that read each line with a reader of its own dropped the ask it had
    /// buffered, and both sides waited (seen: `keyfob import` hung under
    /// load).
    #[test]
    fn lines_the_agent_sends_together_are_each_read() {
        let (client, agent) = UnixStream::pair().unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let fake = std::thread::spawn(move || {
            let mut reader = BufReader::new(&agent);
            let mut request = String::new();
            reader.read_line(&mut request).unwrap();
            let both = format!(
                "{}{}",
                *encode(Reply::Say {
                    line: "Importing [dev]".into()
                }),
                *encode(Reply::Ask {
                    kind: AskKind::Confirm,
                    profile: String::new(),
                    identity: String::new(),
                    mfa_serial: None,
                    question: Some("Move the keys?".into()),
                })
            );
            (&agent).write_all(both.as_bytes()).unwrap();
            agent
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let mut answer = String::new();
            reader.read_line(&mut answer).unwrap();
            (&agent).write_all(encode(Reply::Done).as_bytes()).unwrap();
            answer
        });
        let host = Yes::default();
        let reply = converse(&client, &encode(Request::Keys), &host);
        assert!(
            matches!(reply, Ok(Reply::Done)),
            "the ask was never answered"
        );
        assert_eq!(*host.said.borrow(), ["Importing [dev]"]);
        let answer = fake.join().unwrap();
        assert!(
            matches!(decode::<Answer>(&answer), Ok(Answer::Yes)),
            "{answer}"
        );
    }
}
