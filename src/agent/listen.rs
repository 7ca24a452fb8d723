//! The agent's accept loop, bounded: one thread waits in poll(2) on the
//! socket and on every connection that has not yet sent its request line;
//! a fixed pool of workers serves complete requests.
//!
//! - An idle connection costs a file descriptor and a small buffer, not a
//!   thread. At most [`MAX_PENDING`] wait for their first line; past that
//!   the oldest is closed (a real client sends its line as it connects, so
//!   only idlers are ever the oldest).
//! - A request line must arrive in full within [`LINE_DEADLINE`] of the
//!   connection, however slowly its bytes trickle in: a deadline for the
//!   whole line, not a timeout per read.
//! - At most [`WORKERS`] requests are served at once (a session request may
//!   wait minutes for a person's PIN); more wait in a bounded queue, and
//!   past that a request is answered "busy" at once rather than held.
//! - Each request is served on a thread of its own that ends with it (the
//!   next queued request gets a new one): a thread's stack, where a
//!   session passes through, is unmapped when the request is done, not
//!   kept by a long-lived worker past `lock --all`.
//! - Except a warm one (see `warm`): a cached session for a program the
//!   approvals already let through is answered here, on this thread,
//!   whose stack is wiped after it; starting a thread and waking it on
//!   the other core would cost more than the whole answer.

use std::collections::VecDeque;
use std::io::Read;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use super::reply::{refuse_other_user, send};
use super::requests::serve_line;
use super::state::Agent;
use super::trim::Headless;
use super::warm;
use crate::link::protocol::{ErrorKind, MAX_LINE, Reply};

/// Connections waiting for their request line, at most.
pub const MAX_PENDING: usize = 512;
/// How long a connection has to send its whole request line.
pub const LINE_DEADLINE: Duration = Duration::from_secs(5);
/// Requests served at once.
pub const WORKERS: usize = 24;
/// Complete requests waiting for a worker, at most.
const QUEUE: usize = 256;

struct Pending {
    stream: UnixStream,
    buf: Zeroizing<Vec<u8>>,
    deadline: Instant,
}

type Job = (UnixStream, Zeroizing<String>);

/// Serves until `agent` is stopped, its socket at `path` is gone, or (with
/// `idle`) nothing was held or asked for that long.
pub(super) fn run(
    listener: &UnixListener,
    path: &Path,
    agent: &Arc<Agent>,
    headless: Option<&Headless>,
) {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    if listener.set_nonblocking(true).is_err() {
        tracing::error!("cannot make the agent's socket non-blocking");
        return;
    }
    raise_fd_limit();
    let jobs = Arc::new(Pool::default());
    install_parker(&jobs, agent);
    let mut pending: VecDeque<Pending> = VecDeque::new();
    let tick = Duration::from_millis(500);
    let mut trimmed = false;
    loop {
        if agent.stopping() {
            break;
        }
        let quiet = agent.busy.load(Ordering::SeqCst) == 0 && pending.is_empty();
        if let Some(h) = headless
            && quiet
            && agent.sessions_in_memory() == 0
            && agent.idle_for() >= h.idle
        {
            tracing::info!("agent idle for {:?}; exiting", h.idle);
            break;
        }
        // Quiet since the last trim (or never trimmed): give memory back
        // once, until the next request.
        if let Some(h) = headless {
            let idle_for = agent.idle_for();
            if idle_for < h.trim_after {
                trimmed = false;
            } else if quiet && !trimmed {
                let dropped = h.trim.release();
                tracing::debug!(
                    dropped,
                    "quiet for {idle_for:?}: mapped code and free heap given back"
                );
                trimmed = true;
            }
        }
        // Someone removed our socket (the runtime folder was cleaned, at
        // logout, or a test world torn down): nobody can reach this agent
        // any more, so it goes, and its sessions with it.
        if !path.exists() {
            tracing::info!("{} is gone; exiting", path.display());
            break;
        }
        let now = Instant::now();
        let wait = pending
            .iter()
            .map(|p| p.deadline.saturating_duration_since(now))
            .min()
            .unwrap_or(tick)
            .min(tick);
        let ready: Vec<bool> = {
            let mut fds = Vec::with_capacity(pending.len() + 1);
            fds.push(PollFd::new(listener, PollFlags::IN));
            fds.extend(
                pending
                    .iter()
                    .map(|p| PollFd::new(&p.stream, PollFlags::IN)),
            );
            let timeout = Timespec {
                tv_sec: wait.as_secs() as i64,
                tv_nsec: wait.subsec_nanos() as i64,
            };
            match poll(&mut fds, Some(&timeout)) {
                Ok(_) => fds.iter().map(|f| !f.revents().is_empty()).collect(),
                Err(_) => continue,
            }
        };
        // Lines first (their indices are the poll set's), then new
        // connections, then deadlines.
        let mut kept = VecDeque::with_capacity(pending.len());
        for (p, readable) in pending.drain(..).zip(ready[1..].iter()) {
            if !readable {
                kept.push_back(p);
                continue;
            }
            if let Some(p) = read_some(p, &jobs, agent) {
                kept.push_back(p);
            }
        }
        pending = kept;
        if ready[0] {
            while let Ok((stream, _)) = listener.accept() {
                agent.touch();
                // A client writes its line as it connects: usually it is
                // there already, and is served without another poll.
                if let Some(p) = admit(stream).and_then(|p| read_some(p, &jobs, agent)) {
                    pending.push_back(p);
                }
                if pending.len() > MAX_PENDING {
                    // The oldest waits longest for nothing: an idler.
                    pending.pop_front();
                }
            }
        }
        let now = Instant::now();
        pending.retain(|p| p.deadline > now);
    }
    // Requests being served finish on their own threads.
}

/// A new connection: refused at once if another user's (the socket is
/// 0600 in a 0700 folder, so only root gets here), else made non-blocking
/// and given its deadline.
fn admit(mut stream: UnixStream) -> Option<Pending> {
    let same_user = rustix::net::sockopt::socket_peercred(&stream)
        .is_ok_and(|c| c.uid == rustix::process::getuid());
    if !same_user {
        refuse_other_user(&mut stream);
        return None;
    }
    stream.set_nonblocking(true).ok()?;
    Some(Pending {
        stream,
        // Reserved so it never reallocates around a PIN.
        buf: Zeroizing::new(Vec::with_capacity(1024)),
        deadline: Instant::now() + LINE_DEADLINE,
    })
}

/// Reads what is there; hands a complete line to the workers. `None`
/// when the connection is done with here (handed over, closed, too long).
fn read_some(mut p: Pending, jobs: &Arc<Pool>, agent: &Arc<Agent>) -> Option<Pending> {
    let mut chunk = Zeroizing::new([0u8; 4096]);
    loop {
        match p.stream.read(&mut chunk[..]) {
            Ok(0) => return None,
            Ok(n) => {
                if p.buf.len() + n > p.buf.capacity() {
                    // Grow into a new buffer and wipe the old one.
                    let mut bigger = Zeroizing::new(Vec::with_capacity(
                        (p.buf.len() + n).max(2 * p.buf.capacity()),
                    ));
                    bigger.extend_from_slice(&p.buf);
                    p.buf = bigger;
                }
                p.buf.extend_from_slice(&chunk[..n]);
                if let Some(end) = p.buf.iter().position(|b| *b == b'\n') {
                    let line = Zeroizing::new(String::from_utf8_lossy(&p.buf[..=end]).into_owned());
                    if p.stream.set_nonblocking(false).is_err() {
                        return None;
                    }
                    match warm::serve(p.stream, &line, agent) {
                        // Its frames lie under this one: wiped, since this
                        // thread's stack lives on.
                        Ok(()) => warm::scrub_stack(),
                        Err(stream) => dispatch(stream, line, jobs, agent),
                    }
                    return None;
                }
                if p.buf.len() > MAX_LINE {
                    return None;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Some(p),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return None,
        }
    }
}

/// The requests being served and those waiting for a thread.
#[derive(Default)]
struct Pool {
    live: AtomicUsize,
    queue: Mutex<VecDeque<Job>>,
}

impl Pool {
    /// The next queued request, which takes the place of the one leaving;
    /// with none queued, the place is given up.
    fn next_or_leave(&self) -> Option<Job> {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let next = queue.pop_front();
        if next.is_none() {
            self.live.fetch_sub(1, Ordering::SeqCst);
        }
        next
    }
}

fn dispatch(stream: UnixStream, line: Zeroizing<String>, jobs: &Arc<Pool>, agent: &Arc<Agent>) {
    agent.busy.fetch_add(1, Ordering::SeqCst);
    let mut queue = jobs.queue.lock().unwrap_or_else(|e| e.into_inner());
    if jobs.live.load(Ordering::SeqCst) < WORKERS {
        jobs.live.fetch_add(1, Ordering::SeqCst);
        drop(queue);
        start(jobs.clone(), agent.clone(), (stream, line));
    } else if queue.len() < QUEUE {
        queue.push_back((stream, line));
    } else {
        drop(queue);
        agent.busy.fetch_sub(1, Ordering::SeqCst);
        tracing::warn!("agent busy: {QUEUE} requests queued; refusing one");
        let mut stream = stream;
        let _ = send(
            &mut stream,
            Reply::Error {
                kind: ErrorKind::Failed,
                message: format!(
                    "the keyfob agent is busy ({WORKERS} requests being served, {QUEUE} waiting); try again"
                ),
            },
        );
    }
}

/// Lets requests that wait on another request's prompt give their place
/// up meanwhile (see [`Agent::parked`]): while one waits, the next queued
/// request starts; when it is answered, it takes a place again (so more
/// than [`WORKERS`] may run for a moment, never more than are queued).
fn install_parker(jobs: &Arc<Pool>, agent: &Arc<Agent>) {
    let weak = Arc::downgrade(agent);
    let jobs = jobs.clone();
    agent.set_parker(Box::new(move |parking| {
        if !parking {
            jobs.live.fetch_add(1, Ordering::SeqCst);
            return;
        }
        if let (Some(next), Some(agent)) = (jobs.next_or_leave(), weak.upgrade()) {
            start(jobs.clone(), agent, next);
        }
    }));
}

/// Serves `job` on a new thread; when it is done, the next queued job
/// gets a thread of its own and this one ends.
fn start(jobs: Arc<Pool>, agent: Arc<Agent>, job: Job) {
    let spawned = std::thread::Builder::new()
        .name("keyfob-agent-request".into())
        .spawn({
            let (jobs, agent) = (jobs.clone(), agent.clone());
            move || {
                let (stream, line) = job;
                serve_line(stream, line, &agent);
                agent.touch();
                agent.busy.fetch_sub(1, Ordering::SeqCst);
                if let Some(next) = jobs.next_or_leave() {
                    start(jobs.clone(), agent.clone(), next);
                }
            }
        });
    if spawned.is_err() {
        // No thread to be had: the request is dropped (its client sees the
        // connection close) and its slot freed.
        tracing::error!("cannot start a thread for an agent request");
        agent.busy.fetch_sub(1, Ordering::SeqCst);
        jobs.live.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Raises this process's open-file limit to its hard limit: idle
/// connections each hold one until they are closed.
fn raise_fd_limit() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if let Some(max) = limit.maximum {
        let _ = setrlimit(
            Resource::Nofile,
            rustix::process::Rlimit {
                current: Some(max),
                maximum: Some(max),
            },
        );
    }
}
