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

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::conversation::{Conversation, Refusals};
use super::memory::MemoryCache;
pub use super::requester::{Requester, requester};
use crate::app::{self, AppError, Keyfob};
use crate::credentials::{Ask, Prompter};
use crate::link::peer::{Peer, is_keyfob, trusted_binaries};
use crate::link::protocol::{
    AskKind, ErrorKind, HandedOver, Reply, Request, decode, encode, lock_path, socket_path,
};
use crate::model::secret::Pin;
use crate::platform::fsutil::{self, FileLock, LockError};

pub use crate::link::error::AgentError;

/// The most threads a headless agent runs: the accept loop, at most
/// [`super::listen::WORKERS`] request threads, the screen-lock watcher's
/// and a margin for the runtime of an AWS call in flight per request.
pub const MAX_AGENT_THREADS: usize = 2 * super::listen::WORKERS + 8;

/// A request for the person at the app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PromptRequest {
    pub kind: AskKind,
    pub profile: String,
    pub identity: String,
    pub mfa_serial: Option<String>,
    pub requester: Requester,
}

/// What the person at the app answered. No `Debug`: it can carry a PIN.
pub enum PromptAnswer {
    Pin(Pin),
    MfaCode(String),
    Refused,
}

/// Asks the person at the app (the desktop app's window).
pub type Asker = Arc<dyn Fn(PromptRequest) -> PromptAnswer + Send + Sync>;

/// What the agent owns: keyfob over its own cache (the kernel keyring
/// where it answers, else its memory), and the app's asker if the app is
/// the agent.
pub struct Agent {
    pub kf: Keyfob,
    memory: Option<Arc<MemoryCache>>,
    pub(super) asker: Option<Asker>,
    /// Called after every session was wiped (a screen lock, `keyfob lock
    /// --all`): the app ends what it cannot wipe, its web process.
    on_lock_all: Option<Box<dyn Fn() + Send + Sync>>,
    stop: AtomicBool,
    last_use: Mutex<Instant>,
    /// Requests being served (a session request may wait minutes for a
    /// PIN): the agent does not leave while any is.
    pub(super) busy: std::sync::atomic::AtomicUsize,
    /// How many times a screen lock or sleep wiped every session.
    wipes: std::sync::atomic::AtomicU64,
    /// The session bus's screen-lock signals are subscribed to.
    pub(super) watching: AtomicBool,
    /// Screen-lock and sleep signals read (acted on or not).
    pub(super) signals: std::sync::atomic::AtomicU64,
    /// The person's recent refusals at the app (see `Conversation::ask_app`).
    pub(super) refused: Arc<Refusals>,
}

impl Agent {
    /// The agent over `kf`: its sessions go to the kernel keyring where it
    /// answers, else to this process's memory.
    pub fn new(kf: Keyfob, asker: Option<Asker>) -> Agent {
        let (kf, memory) = kf.into_agent();
        Agent {
            kf,
            memory,
            asker,
            on_lock_all: None,
            stop: AtomicBool::new(false),
            last_use: Mutex::new(Instant::now()),
            busy: std::sync::atomic::AtomicUsize::new(0),
            wipes: std::sync::atomic::AtomicU64::new(0),
            watching: AtomicBool::new(false),
            signals: std::sync::atomic::AtomicU64::new(0),
            refused: Arc::default(),
        }
    }

    /// Sets what runs after every wipe of all sessions.
    pub fn on_lock_all(mut self, f: impl Fn() + Send + Sync + 'static) -> Agent {
        self.on_lock_all = Some(Box::new(f));
        self
    }

    /// Sessions held in this process's memory (0 with the kernel keyring).
    pub fn sessions_in_memory(&self) -> usize {
        self.memory.as_ref().map_or(0, |m| m.len())
    }

    /// Wipes every session (the screen locked, the machine is going to
    /// sleep): as `keyfob lock --all`.
    pub fn lock_all(&self) -> Result<usize, AppError> {
        let wiped = self.wipe_all();
        self.wipes.fetch_add(1, Ordering::SeqCst);
        wiped
    }

    /// Wipes every session, then runs the `on_lock_all` hook.
    fn wipe_all(&self) -> Result<usize, AppError> {
        let wiped = app::lock_all(&self.kf);
        if let Some(f) = &self.on_lock_all {
            f();
        }
        wiped
    }

    /// Takes the sessions another agent handed over.
    pub fn adopt(&self, entries: Vec<HandedOver>) {
        let Ok(cache) = self.kf.cache() else { return };
        for e in entries {
            if let Ok(expires) = OffsetDateTime::from_unix_timestamp(e.expires) {
                let _ = cache.put(&e.key, e.value.as_bytes(), expires);
            }
        }
    }

    /// Stops serving: the socket goes at once, so the next client starts
    /// (or finds) the next agent instead of connecting to this one.
    fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = std::fs::remove_file(socket_path(&self.kf.paths.runtime_dir));
    }

    pub(super) fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    pub(super) fn touch(&self) {
        *self.last_use.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    pub(super) fn idle_for(&self) -> Duration {
        self.last_use
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .elapsed()
    }
}

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

    /// Serves on this thread until stopped, or (with `idle`) until no
    /// session has been held in memory and no request came for that long
    /// (the bounded loop of [`super::listen`]).
    pub fn serve(self, agent: Arc<Agent>, idle: Option<Duration>) {
        super::listen::run(&self.listener, &self.path, &agent, idle);
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

pub(super) fn send(stream: &mut UnixStream, reply: Reply) -> std::io::Result<()> {
    stream.write_all(encode(reply).as_bytes())
}

/// Tells a connection of another user that it is refused (the socket is
/// 0600 in a 0700 folder, so only root gets this far).
pub(super) fn refuse_other_user(stream: &mut UnixStream) {
    tracing::warn!("refused an agent connection from another user");
    let _ = send(
        stream,
        Reply::Error {
            kind: ErrorKind::Refusal,
            message: "refused: the keyfob agent serves only its own user".into(),
        },
    );
}

/// Serves one request whose line the accept loop has read.
pub(super) fn serve_line(mut stream: UnixStream, line: Zeroizing<String>, agent: &Agent) {
    let Some(peer) = Peer::of(&stream).ok().filter(Peer::same_user) else {
        refuse_other_user(&mut stream);
        return;
    };
    let request = match decode::<Request>(&line) {
        Ok(r) => r,
        Err(message) => {
            let _ = send(
                &mut stream,
                Reply::Error {
                    kind: ErrorKind::Protocol,
                    message,
                },
            );
            return;
        }
    };
    drop(line);
    let reply = handle(&mut stream, agent, &peer, request);
    let _ = send(&mut stream, reply);
    agent.touch();
}

fn failed(e: impl Into<AppError>) -> Reply {
    let e: AppError = e.into();
    let kind = match &e {
        AppError::Provider(crate::credentials::ProviderError::Locked { .. }) => ErrorKind::Locked,
        AppError::Provider(crate::credentials::ProviderError::SsoSignIn { .. }) => {
            ErrorKind::SignIn
        }
        e if e.is_refusal() => ErrorKind::Refusal,
        _ => ErrorKind::Failed,
    };
    Reply::Error {
        kind,
        message: e.to_string(),
    }
}

fn handle(stream: &mut UnixStream, agent: &Agent, peer: &Peer, request: Request) -> Reply {
    let kf = &agent.kf;
    // Only keyfob itself may end the agent or take its sessions over.
    if matches!(request, Request::Stop | Request::Handover)
        && !is_keyfob(peer, &trusted_binaries(&kf.cli))
    {
        tracing::warn!(pid = peer.pid, exe = ?peer.exe, "refused stop/handover from a program that is not keyfob");
        return Reply::Error {
            kind: ErrorKind::Refusal,
            message:
                "refused: only keyfob's own binaries may stop the agent or take over its sessions"
                    .into(),
        };
    }
    let cache = match kf.cache() {
        Ok(c) => c,
        Err(e) => return failed(e),
    };
    match request {
        Request::Session {
            profile,
            fresh,
            answers,
            interactive,
            console,
        } => {
            let profile = match kf.profile(&profile) {
                Ok(p) => p,
                Err(e) => return failed(e),
            };
            let asker = Conversation::new(stream, agent, peer, answers, interactive);
            let prompter: Option<&dyn Prompter> =
                (answers || agent.asker.is_some()).then_some(&asker as &dyn Prompter);
            let started = OffsetDateTime::now_utc();
            // Made with the identity's own endpoints: nothing of the
            // client's environment reaches this.
            let run = |prompter: Option<&dyn Prompter>| {
                if console {
                    app::make_console_session(kf, &profile, prompter)
                } else {
                    app::make_session(kf, &profile, fresh, prompter)
                }
            };
            let mut made = run(prompter);
            // An Identity Center sign-in nothing could renew, for a client
            // with no terminal (a terminal signs in itself): the app signs
            // in, then the request is tried again.
            if let Err(e) = &made
                && app::needs_sso_sign_in(e)
                && !interactive
                && agent.asker.is_some()
            {
                made = sign_in_through_app(kf, &asker, &profile, started, &run).unwrap_or(made);
            }
            match made {
                Ok(s) => Reply::Session {
                    credentials: s.to_process_json(),
                    endpoints: Some(s.endpoints.clone()),
                },
                Err(e) => failed(e),
            }
        }
        Request::IdentitySession {
            identity,
            mfa_serial,
            answers,
            interactive,
        } => {
            let asker = Conversation::new(stream, agent, peer, answers, interactive);
            let prompter: Option<&dyn Prompter> =
                (answers || agent.asker.is_some()).then_some(&asker as &dyn Prompter);
            match app::identity_session(kf, &identity, mfa_serial.as_deref(), prompter) {
                Ok(s) => Reply::Session {
                    credentials: s.to_process_json(),
                    endpoints: Some(s.endpoints.clone()),
                },
                Err(e) => failed(e),
            }
        }
        Request::Flow {
            flow,
            answers,
            interactive,
        } => {
            let asker = Conversation::new(stream, agent, peer, answers, interactive);
            match app::remote::run(kf, flow, &asker as &dyn app::remote::FlowHost) {
                Ok(result) => Reply::Flow { result },
                Err(e) => failed(e),
            }
        }
        Request::Expiry { key } => match cache.expires(&key) {
            Ok(at) => Reply::Expiry {
                at: at.map(OffsetDateTime::unix_timestamp),
            },
            Err(e) => failed(e),
        },
        Request::Delete { key } => match cache.delete(&key) {
            Ok(()) => Reply::Done,
            Err(e) => failed(e),
        },
        Request::ForgetSignIn { identity } => Reply::Dropped {
            dropped: crate::credentials::sso::forget(&identity),
        },
        Request::Keys => match cache.keys() {
            Ok(keys) => Reply::Keys { keys },
            Err(e) => failed(e),
        },
        Request::Status => Reply::Status {
            pid: std::process::id(),
            sessions: agent.sessions_in_memory(),
            app: agent.asker.is_some(),
            dumpable: !memory_closed(),
            wipes: agent.wipes.load(Ordering::SeqCst),
            watching: agent.watching.load(Ordering::SeqCst),
            signals: agent.signals.load(Ordering::SeqCst),
        },
        Request::Handover => {
            let entries = agent
                .memory
                .as_ref()
                .map(|m| m.export())
                .unwrap_or_default()
                .into_iter()
                .map(|(key, value, expires)| HandedOver {
                    key,
                    value: Zeroizing::new(String::from_utf8_lossy(&value).into_owned()),
                    expires: expires.unix_timestamp(),
                })
                .collect();
            agent.stop();
            Reply::Sessions { entries }
        }
        Request::Stop => {
            agent.stop();
            Reply::Done
        }
        // Not counted as a screen-lock wipe: the person asked for it.
        Request::LockAll => match agent.wipe_all() {
            Ok(_) => Reply::Done,
            Err(e) => failed(e),
        },
    }
}

/// A session request's attempt, with the prompter it may use.
type Attempt<'a, T> = dyn Fn(Option<&dyn Prompter>) -> Result<T, AppError> + 'a;

/// One sign-in at a time per Identity Center identity, however many
/// requests found it expired at once.
static SIGN_INS: Mutex<std::collections::BTreeMap<String, Arc<Mutex<()>>>> =
    Mutex::new(std::collections::BTreeMap::new());

/// Asks the app to sign `profile`'s Identity Center identity in again and
/// runs `run` once more: with the PIN the app answers, or with no prompt
/// at all when another request signed the identity in while this one
/// waited its turn (single flight: parallel cold calls make one sign-in).
/// `None` when the person refused or the app is not asking: the first
/// error stands.
fn sign_in_through_app<T>(
    kf: &Keyfob,
    asker: &Conversation,
    profile: &crate::config::profile::Profile,
    started: OffsetDateTime,
    run: &Attempt<'_, T>,
) -> Option<Result<T, AppError>> {
    let name = profile.identity.as_str();
    let flight = SIGN_INS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .entry(name.to_owned())
        .or_default()
        .clone();
    let _turn = flight
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let signed_in_since = kf
        .vault()
        .ok()
        .and_then(|v| v.sso_get(name).ok())
        .is_some_and(|i| i.signed_in_at >= started);
    if signed_in_since {
        return Some(run(Some(asker as &dyn Prompter)));
    }
    let ask = Ask {
        profile: &profile.name,
        identity: name,
        mfa_serial: None,
    };
    match asker.ask_app(AskKind::SignIn, &ask)? {
        PromptAnswer::Pin(pin) => {
            let again = crate::platform::prompt::FixedPrompter {
                pin: Some(pin),
                mfa_code: None,
            };
            Some(run(Some(&again as &dyn Prompter)))
        }
        _ => None,
    }
}

/// No core files of the agent. It stays *dumpable*, deliberately: a
/// non-dumpable process's `/proc/PID/exe` is closed to the user's other
/// processes, and that is the kernel's only word on which program
/// listens on `agent.sock` — without it a client could not tell the agent
/// from a program posing as it, and would hand that program the PIN
/// ([`crate::link::peer`]). Reading the agent's memory is then what ptrace
/// allows: under Yama's `ptrace_scope` 1 or more (Ubuntu's default) no
/// program of the user but root's may; without Yama any could — as it
/// could read a client's, where the PIN is typed ([`memory_closed`]).
pub fn harden_process() {
    let _ = rustix::process::setrlimit(
        rustix::process::Resource::Core,
        rustix::process::Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    );
}

/// Whether the user's other programs are kept from reading this
/// process's memory: it is not dumpable, or Yama restricts ptrace.
pub fn memory_closed() -> bool {
    let not_dumpable = matches!(
        rustix::process::dumpable_behavior(),
        Ok(rustix::process::DumpableBehavior::NotDumpable)
    );
    let yama = std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .unwrap_or(0);
    not_dumpable || yama >= 1
}
