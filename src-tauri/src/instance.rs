//! One app per user session, with or without D-Bus. The first start holds
//! `desktop.lock` in keyfob's runtime folder for its whole life and
//! listens on `desktop.sock` beside it; a later start finds the lock
//! taken, asks the first through that socket to bring its window forward,
//! and exits: before it builds a window, opens the store or speaks to the
//! agent.
//!
//! Why not tauri-plugin-single-instance, which the app used before: on
//! Linux it finds the first app over the D-Bus session bus only. Without a
//! bus it let a second app start in full, and that app, like every app at
//! its start, told the running agent (the first app) to hand its sessions
//! over and stop: two apps ran, the first no longer the agent, and none
//! was once the second was closed.
//!
//! The socket says one thing, "show"; it lives in the runtime folder
//! (0700, checked) and answers only this user, like the agent's.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tauri::AppHandle;

use keyfob::platform::fsutil::{FileLock, LockError};

use crate::window::show_main_window;

/// How long a second start waits for the first to answer: the first
/// answers once its own start is done (its window, the agent), which
/// takes a second or two.
const ANSWER_WAIT: Duration = Duration::from_secs(5);

/// How long the first waits for a connected start to say what it wants.
const REQUEST_WAIT: Duration = Duration::from_secs(1);

const SHOW: &str = "show";
const SHOWN: &str = "shown";

#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    #[error("{0}")]
    Paths(#[from] keyfob::platform::paths::PathError),
    #[error("refusing keyfob's runtime folder: {0}")]
    RuntimeDir(String),
    #[error("{0}")]
    Lock(LockError),
    #[error("cannot listen on {path}: {source}")]
    Listen {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the keyfob app runs already, as {holder}, but did not answer on {path} within {secs} s ({source}); if it is stuck, end it and start keyfob again"
    )]
    NoAnswer {
        holder: String,
        path: PathBuf,
        secs: u64,
        source: std::io::Error,
    },
}

/// What a start found.
pub enum Claim {
    /// This is the only app: keep the guard for the app's life.
    First(Guard),
    /// Another app runs (`holder`, as the lock file names it) and brought
    /// its window forward.
    Shown { holder: String },
}

/// The first app's lock and socket; [`Guard::serve`] answers later starts.
pub struct Guard {
    _lock: FileLock,
    listener: UnixListener,
}

/// Claims the app's place in this user's runtime folder, or hands over to
/// the app that holds it.
pub fn claim() -> Result<Claim, InstanceError> {
    let dir = keyfob::platform::paths::Paths::from_env()?.runtime_dir;
    keyfob::platform::paths::private_dir(&dir)?;
    keyfob::link::peer::check_runtime_dir(&dir).map_err(InstanceError::RuntimeDir)?;
    claim_in(&dir)
}

fn claim_in(dir: &Path) -> Result<Claim, InstanceError> {
    let socket = dir.join("desktop.sock");
    match keyfob::platform::fsutil::lock(&dir.join("desktop.lock"), Duration::ZERO) {
        Ok(lock) => {
            // Left by an app that ended without removing it: the lock is
            // ours, so no app listens on it.
            let _ = std::fs::remove_file(&socket);
            let listener = UnixListener::bind(&socket).map_err(|source| InstanceError::Listen {
                path: socket.clone(),
                source,
            })?;
            Ok(Claim::First(Guard {
                _lock: lock,
                listener,
            }))
        }
        Err(LockError::Timeout { holder, .. }) => match ask_to_show(&socket) {
            Ok(()) => Ok(Claim::Shown { holder }),
            Err(source) => Err(InstanceError::NoAnswer {
                holder,
                path: socket,
                secs: ANSWER_WAIT.as_secs(),
                source,
            }),
        },
        Err(e) => Err(InstanceError::Lock(e)),
    }
}

/// Asks the app listening on `socket` to show its window; waits for its
/// answer at most [`ANSWER_WAIT`] (it may be starting: the lock is taken
/// a moment before the socket is bound).
fn ask_to_show(socket: &Path) -> std::io::Result<()> {
    let deadline = Instant::now() + ANSWER_WAIT;
    let stream = loop {
        match UnixStream::connect(socket) {
            Ok(s) => break s,
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let left = deadline.saturating_duration_since(Instant::now());
    stream.set_read_timeout(Some(left.max(Duration::from_millis(100))))?;
    (&stream).write_all(format!("{SHOW}\n").as_bytes())?;
    if read_word(&stream)? == SHOWN {
        Ok(())
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "it answered something else",
        ))
    }
}

impl Guard {
    /// Answers later starts for the app's life (on a thread of its own,
    /// which keeps the lock): each "show" brings the window forward.
    pub fn serve(self, handle: AppHandle) {
        let spawned = std::thread::Builder::new()
            .name("instance".into())
            .spawn(move || {
                let Guard { _lock, listener } = self;
                for stream in listener.incoming().flatten() {
                    if let Err(e) = answer(&handle, &stream) {
                        tracing::warn!(error = %e, "a later start of the app: no answer given");
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot answer later starts of the app");
        }
    }
}

fn answer(handle: &AppHandle, stream: &UnixStream) -> std::io::Result<()> {
    let peer = keyfob::link::peer::Peer::of(stream)?;
    if !peer.same_user() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!("uid {} is not this app's user", peer.uid),
        ));
    }
    stream.set_read_timeout(Some(REQUEST_WAIT))?;
    if read_word(stream)? != SHOW {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not a request to show the window",
        ));
    }
    show_main_window(handle);
    let mut writer = stream;
    writer.write_all(format!("{SHOWN}\n").as_bytes())
}

/// Reads one line, without its end: a request or an answer here is one
/// word, so a peer that sends more is cut off rather than read on.
fn read_word(stream: &UnixStream) -> std::io::Result<String> {
    let mut line = String::new();
    BufReader::new(stream.take(64)).read_line(&mut line)?;
    Ok(line.trim_end().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A second claim in the same folder while the first holds it finds
    /// the first, and is answered by whatever listens on its socket.
    #[test]
    fn a_second_claim_finds_the_first_and_asks_it_to_show() {
        let dir = tempfile_dir();
        let Claim::First(guard) = claim_in(&dir).unwrap() else {
            panic!("the first claim should win")
        };
        // The guard's own loop needs an app; answer by hand here.
        let listener = guard.listener.try_clone().unwrap();
        let server = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            assert_eq!(read_word(&stream).unwrap(), "show");
            (&stream).write_all(b"shown\n").unwrap();
        });
        match claim_in(&dir).unwrap() {
            Claim::Shown { holder } => assert!(holder.contains(&std::process::id().to_string())),
            Claim::First(_) => panic!("a second claim must not win while the first holds the lock"),
        }
        server.join().unwrap();
        drop(guard);
        // The first is gone (its socket file left behind): the next wins.
        assert!(matches!(claim_in(&dir).unwrap(), Claim::First(_)));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The first holds the lock but does not answer: the second says so
    /// within the wait instead of hanging.
    #[test]
    fn a_first_that_never_answers_is_a_clear_error() {
        let dir = tempfile_dir();
        let Claim::First(guard) = claim_in(&dir).unwrap() else {
            panic!("the first claim should win")
        };
        let begun = Instant::now();
        let err = match claim_in(&dir) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("nobody answered, so the claim must fail"),
        };
        assert!(begun.elapsed() < ANSWER_WAIT + Duration::from_secs(2));
        assert!(
            err.contains("runs already") && err.contains("did not answer"),
            "{err}"
        );
        drop(guard);
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn tempfile_dir() -> PathBuf {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "keyfob-instance-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        keyfob::platform::paths::private_dir(&dir).unwrap();
        dir
    }
}
