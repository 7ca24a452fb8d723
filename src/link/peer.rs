//! Who is at the other end of the agent's socket, in the kernel's words:
//! the uid from SO_PEERCRED, the process as a pidfd (SO_PEERPIDFD where the
//! kernel has it, Linux 6.5+; else `pidfd_open` of SO_PEERCRED's pid), and
//! what `/proc` says of it read while that pidfd shows the process alive —
//! so a pid that was reused by another process is never read as the peer.
//!
//! Both sides use it: a client checks that what listens on `agent.sock`
//! is keyfob before it sends a PIN ([`is_keyfob`]), and the agent checks
//! who asks before it stops, hands over, or shows a requester.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use super::procfs::{ProcDir, stat_of};

/// A socket peer as the kernel describes it.
#[derive(Debug)]
pub struct Peer {
    pub uid: u32,
    pub pid: u32,
    /// Its executable (`/proc/PID/exe`), read while its pidfd showed it
    /// alive; `None` if it had exited or could not be read.
    pub exe: Option<PathBuf>,
    /// Its start time (clock ticks since boot, `/proc/PID/stat` field 22):
    /// with the pid, names this one process for its whole life.
    pub start_time: u64,
    /// Its parent and session, read with the start time (0 if unread).
    pub ppid: u32,
    pub session: u32,
    pidfd: Option<OwnedFd>,
    /// Its `/proc` folder, opened while it was alive, for further reads
    /// of this same process ([`super::requester`]).
    pub(crate) dir: Option<ProcDir>,
}

impl Peer {
    /// The peer of `stream`.
    pub fn of(stream: &UnixStream) -> std::io::Result<Peer> {
        let cred = rustix::net::sockopt::socket_peercred(stream)?;
        let uid = cred.uid.as_raw();
        // SO_PEERCRED's pid and SO_PEERPIDFD's process are the same one
        // (the kernel keeps one reference for both).
        let pid = cred.pid.as_raw_nonzero().get() as u32;
        #[cfg(target_os = "linux")]
        let pidfd = peer_pidfd(stream).or_else(|| {
            rustix::process::pidfd_open(cred.pid, rustix::process::PidfdFlags::empty()).ok()
        });
        // Elsewhere (untested here): pid and start time only.
        #[cfg(not(target_os = "linux"))]
        let pidfd: Option<OwnedFd> = None;
        let dir = ProcDir::open(pid);
        let stat = dir.as_ref().and_then(ProcDir::stat);
        let exe = dir.as_ref().and_then(|d| d.link("exe"));
        let peer = Peer {
            uid,
            pid,
            exe,
            start_time: stat.map_or(0, |s| s.start_time),
            ppid: stat.map_or(0, |s| s.ppid),
            session: stat.map_or(0, |s| s.session),
            pidfd,
            dir,
        };
        // Alive after the reads: the pid was the peer's all along, so the
        // folder opened by it is the peer's (and every read through it).
        // Without a pidfd, the start time read again must be unchanged.
        let same = match &peer.pidfd {
            Some(_) => peer.alive(),
            None => start_time(pid) == Some(peer.start_time),
        };
        if !same || peer.start_time == 0 {
            return Ok(Peer {
                exe: None,
                dir: None,
                ..peer
            });
        }
        Ok(peer)
    }

    /// Whether the peer process still runs (its pidfd is not readable yet).
    pub fn alive(&self) -> bool {
        let Some(fd) = &self.pidfd else {
            return start_time(self.pid) == Some(self.start_time);
        };
        use rustix::event::{PollFd, PollFlags, poll};
        let mut fds = [PollFd::new(fd, PollFlags::IN)];
        let zero = rustix::event::Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        matches!(poll(&mut fds, Some(&zero)), Ok(0))
    }

    /// Whether it runs as this process's user.
    pub fn same_user(&self) -> bool {
        self.uid == rustix::process::getuid().as_raw()
    }
}

/// SO_PEERPIDFD: a pidfd of the process that connected (or listens),
/// taken by the kernel at connect time, so it cannot name a later process
/// with a reused pid.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn peer_pidfd(stream: &UnixStream) -> Option<OwnedFd> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::FromRawFd;
        let mut fd: libc::c_int = -1;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: getsockopt writes at most `len` bytes into `fd`, a c_int
        // of that size; the socket is borrowed for the call.
        let rc = unsafe {
            libc::getsockopt(
                stream.as_fd().as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_PEERPIDFD,
                (&mut fd as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        // SAFETY: on success the kernel gave us a new descriptor we own.
        (rc == 0 && fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = stream;
        None
    }
}

/// Field 22 of `/proc/PID/stat` (after the parenthesised name, whose
/// text can hold anything, so split after its last `)`).
pub fn start_time(pid: u32) -> Option<u64> {
    stat_of(pid).map(|s| s.start_time)
}

/// The variable naming one more binary a client accepts as its agent (a
/// build tree's app, a test's in-process agent). A program that can set
/// this in a client's environment can already run that client as it
/// likes, so it opens nothing new.
pub const TRUSTED_AGENT_VAR: &str = "KEYFOB_TRUSTED_AGENT";

/// The binaries that may be the agent (or stop it): this program, the
/// keyfob CLI and desktop app beside it, those beside `cli` (the installed
/// CLI that starts agents), and [`TRUSTED_AGENT_VAR`]'s.
pub fn trusted_binaries(cli: &Path) -> Vec<PathBuf> {
    // Found once per process and `cli` (each is a dozen path lookups; the
    // agent asks on every request).
    static FOUND: std::sync::Mutex<Option<(PathBuf, Vec<PathBuf>)>> = std::sync::Mutex::new(None);
    let mut found = FOUND.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((for_cli, list)) = found.as_ref()
        && for_cli == cli
    {
        return list.clone();
    }
    let list = find_trusted_binaries(cli);
    *found = Some((cli.to_owned(), list.clone()));
    list
}

fn find_trusted_binaries(cli: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    // `dir` is already resolved (no link in it): its entries are resolved
    // with one stat each, not a readlink per path component (realpath).
    let add_siblings = |dir: &Path, out: &mut Vec<PathBuf>| {
        for name in KEYFOB_BINARIES {
            if let Some(p) = resolved_in(dir, name) {
                out.push(p);
            }
        }
    };
    // The kernel's name of this program is resolved already (unless it
    // was deleted or replaced since it started: then it names nothing).
    let me = std::fs::read_link("/proc/self/exe")
        .ok()
        .or_else(|| std::env::current_exe().ok()?.canonicalize().ok())
        .filter(|p| !p.as_os_str().as_encoded_bytes().ends_with(b" (deleted)"));
    if let Some(me) = &me
        && let Some(dir) = me.parent()
    {
        add_siblings(dir, &mut out);
        out.push(me.clone());
    }
    if !cli.as_os_str().is_empty()
        && let Ok(cli) = std::fs::canonicalize(cli)
        && Some(&cli) != me.as_ref()
    {
        if let Some(dir) = cli.parent() {
            add_siblings(dir, &mut out);
        }
        out.push(cli);
    }
    if let Some(extra) = std::env::var_os(TRUSTED_AGENT_VAR)
        && let Ok(p) = std::fs::canonicalize(extra)
    {
        out.push(p);
    }
    out.sort();
    out.dedup();
    out
}

/// `dir/name` resolved, for a `dir` with no link in its path: itself if
/// it is not a link, else where the link leads; `None` if it is not there.
fn resolved_in(dir: &Path, name: &str) -> Option<PathBuf> {
    let path = dir.join(name);
    let meta = std::fs::symlink_metadata(&path).ok()?;
    if meta.file_type().is_symlink() {
        std::fs::canonicalize(&path).ok()
    } else {
        Some(path)
    }
}

/// keyfob's binaries, found beside each other: the `keyfob` front (the
/// warm `credential-process`), the full CLI it hands everything else to,
/// and the desktop app.
pub const KEYFOB_BINARIES: [&str; 3] = ["keyfob", "keyfob-cli", "keyfob-desktop"];

/// Whether `peer` runs as this user this very binary or one of keyfob's
/// beside it, as the kernel names them (`/proc/PID/exe`, whose folder is
/// already resolved): the usual agent of a CLI, told without resolving a
/// path (finding [`trusted_binaries`] costs a dozen path lookups, on every
/// call of a short-lived client). A binary deleted or replaced since it
/// started (`… (deleted)`) is not.
pub fn runs_keyfob_beside_this(peer: &Peer) -> bool {
    let Some(exe) = peer.exe.as_deref().filter(|_| peer.same_user()) else {
        return false;
    };
    if exe.as_os_str().as_encoded_bytes().ends_with(b" (deleted)") {
        return false;
    }
    let Ok(me) = std::fs::read_link("/proc/self/exe") else {
        return false;
    };
    me == exe
        || KEYFOB_BINARIES
            .iter()
            .any(|name| me.with_file_name(name) == exe)
}

/// Whether `peer` runs as this user one of the `trusted` binaries (an
/// executable replaced or deleted since it started reads as
/// `… (deleted)` and is not).
pub fn is_keyfob(peer: &Peer, trusted: &[PathBuf]) -> bool {
    peer.same_user() && peer.exe.as_ref().is_some_and(|e| trusted.contains(e))
}

/// Checks keyfob's runtime folder before anything is sent through it: a
/// folder (not a link), owned by this user, open to nobody else.
pub fn check_runtime_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::symlink_metadata(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let me = rustix::process::getuid().as_raw();
    if !meta.is_dir() {
        return Err(format!("{} is not a folder", dir.display()));
    }
    if meta.uid() != me {
        return Err(format!(
            "{} belongs to uid {}, not to you (uid {me})",
            dir.display(),
            meta.uid()
        ));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(format!(
            "{} is open to others (mode {:o}); it must be 0700",
            dir.display(),
            meta.mode() & 0o777
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_is_named_by_the_kernel() {
        let (a, b) = UnixStream::pair().unwrap();
        let peer = Peer::of(&a).unwrap();
        drop(b);
        assert_eq!(peer.pid, std::process::id());
        assert!(peer.same_user());
        assert!(peer.alive());
        assert_eq!(
            peer.exe.as_deref(),
            Some(std::env::current_exe().unwrap().as_path())
        );
        assert!(is_keyfob(&peer, &trusted_binaries(Path::new(""))));
        assert!(!is_keyfob(&peer, &[PathBuf::from("/usr/bin/keyfob")]));
    }

    #[test]
    fn runtime_folder_rules() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        assert!(check_runtime_dir(d.path()).is_ok());
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(check_runtime_dir(d.path()).unwrap_err().contains("0700"));
        let link = d.path().join("link");
        std::os::unix::fs::symlink(d.path(), &link).unwrap();
        assert!(
            check_runtime_dir(&link)
                .unwrap_err()
                .contains("not a folder")
        );
    }
}
