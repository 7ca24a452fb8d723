//! What the agent owns while it runs: keyfob over its own session cache,
//! the desktop app's asker when the app is the agent, the person's recent
//! refusals, and its own life (busy, idle, stopping, wipes).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use super::programs::Hashes;
use super::prompts::Prompts;
use crate::app::access_log::{AccessEntry, AccessLog, LogWriter};
use crate::app::{self, AppError, Keyfob};
use crate::link::memory::MemoryCache;
use crate::link::protocol::{AskKind, HandedOver, socket_path};
use crate::link::requester::Requester;
use crate::model::approval::{Decision, Program};
use crate::model::secret::Pin;

/// A request for the person at the app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PromptRequest {
    pub kind: AskKind,
    pub profile: String,
    pub identity: String,
    pub mfa_serial: Option<String>,
    pub requester: Requester,
    /// For an approval (`AskKind::Approve`): the program as approvals know
    /// it, the account, and the whole question as a terminal shows it.
    pub program: Option<Program>,
    pub account: Option<String>,
    pub question: Option<String>,
}

/// What the person at the app answered. No `Debug`: it can carry a PIN.
pub enum PromptAnswer {
    Pin(Pin),
    MfaCode(String),
    /// The answer to an approval.
    Decision(Decision),
    Refused,
}

/// Asks the person at the app (the desktop app's window).
pub type Asker = Arc<dyn Fn(PromptRequest) -> PromptAnswer + Send + Sync>;

/// What the agent owns: keyfob over its own cache (the kernel keyring
/// where it answers, else its memory), and the app's asker if the app is
/// the agent.
pub struct Agent {
    pub kf: Keyfob,
    pub(super) memory: Option<Arc<MemoryCache>>,
    pub(super) asker: Option<Asker>,
    /// Called after every session was wiped (a screen lock, `keyfob lock
    /// --all`): the app ends what it cannot wipe, its web process.
    on_lock_all: Option<Box<dyn Fn() + Send + Sync>>,
    pub(super) stop: AtomicBool,
    last_use: Mutex<Instant>,
    /// Requests being served (a session request may wait minutes for a
    /// PIN): the agent does not leave while any is.
    pub(super) busy: std::sync::atomic::AtomicUsize,
    /// How many times a screen lock or sleep wiped every session.
    pub(super) wipes: std::sync::atomic::AtomicU64,
    /// The session bus's screen-lock signals are subscribed to.
    pub(super) watching: AtomicBool,
    /// Screen-lock and sleep signals read (acted on or not).
    pub(super) signals: std::sync::atomic::AtomicU64,
    /// Sessions handed out warm, on the accepting thread (see `warm`).
    pub(super) warm: std::sync::atomic::AtomicU64,
    /// Requests waiting on another request's open approval prompt.
    pub(super) waiting: std::sync::atomic::AtomicUsize,
    /// The person's recent refusals at the app (see `Conversation::ask_app`).
    pub(super) refused: Arc<Refusals>,
    /// One sign-in at a time per Identity Center identity, however many
    /// requests found it expired at once (see `requests`).
    pub(super) sign_ins: SignIns,
    /// Open approval prompts and recent denials (see `approve`).
    pub(super) prompts: Prompts,
    /// The hashes of the programs seen (see `programs`).
    pub(super) hashes: Hashes,
    /// The access log's writer (a thread of its own).
    log: LogWriter,
    /// Called with every entry logged (the app's log page and its
    /// first-use notification).
    on_access: Option<OnAccess>,
    /// The accounts of identities, as the vault said (for the log and
    /// the prompts, without a store read per request).
    pub(super) accounts: Mutex<std::collections::HashMap<String, Option<String>>>,
    /// Gives a waiting request's place in the pool up, and takes it back
    /// (see `listen`).
    parker: std::sync::OnceLock<Parker>,
}

/// See [`Agent::on_access`].
type OnAccess = Box<dyn Fn(&AccessEntry) + Send + Sync>;

/// See [`Agent::parked`].
pub(super) type Parker = Box<dyn Fn(bool) + Send + Sync>;

/// Refusals at the app, by requester (pid, start time) and profile.
pub(super) type Refusals = Mutex<std::collections::HashMap<(u32, u64, String), Instant>>;

/// A turn per Identity Center identity name.
pub(super) type SignIns = Mutex<std::collections::BTreeMap<String, Arc<Mutex<()>>>>;

impl Agent {
    /// The agent over `kf`: its sessions go to the kernel keyring where it
    /// answers, else to this process's memory.
    pub fn new(kf: Keyfob, asker: Option<Asker>) -> Agent {
        let (kf, memory) = kf.into_agent();
        Agent {
            memory,
            asker,
            on_lock_all: None,
            stop: AtomicBool::new(false),
            last_use: Mutex::new(Instant::now()),
            busy: std::sync::atomic::AtomicUsize::new(0),
            wipes: std::sync::atomic::AtomicU64::new(0),
            watching: AtomicBool::new(false),
            signals: std::sync::atomic::AtomicU64::new(0),
            warm: std::sync::atomic::AtomicU64::new(0),
            waiting: std::sync::atomic::AtomicUsize::new(0),
            refused: Arc::default(),
            sign_ins: Mutex::default(),
            prompts: Prompts::default(),
            hashes: Hashes::default(),
            log: LogWriter::start(AccessLog::new(&kf.paths.data_dir)),
            on_access: None,
            accounts: Mutex::default(),
            parker: std::sync::OnceLock::new(),
            kf,
        }
    }

    /// Sets what runs with every access logged.
    pub fn on_access(mut self, f: impl Fn(&AccessEntry) + Send + Sync + 'static) -> Agent {
        self.on_access = Some(Box::new(f));
        self
    }

    /// Logs `entry` (never waits for the write).
    pub(super) fn log(&self, entry: AccessEntry) {
        if let Some(f) = &self.on_access {
            f(&entry);
        }
        self.log.write(entry);
    }

    pub(super) fn set_parker(&self, parker: Parker) {
        let _ = self.parker.set(parker);
    }

    /// Runs `wait` (a wait on another request's prompt) with this
    /// request's place in the pool given up meanwhile.
    pub(super) fn parked<T>(&self, wait: impl FnOnce() -> T) -> T {
        match self.parker.get() {
            Some(p) => {
                p(true);
                let out = wait();
                p(false);
                out
            }
            None => wait(),
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
    pub(super) fn wipe_all(&self) -> Result<usize, AppError> {
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
    pub(super) fn stop(&self) {
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
