//! Who asked for a session, as the kernel says: from the socket peer
//! ([`Peer`]: its pidfd, so a reused pid is never read as the peer) up the
//! parent chain, each process read through its open `/proc/PID` folder
//! ([`ProcDir`]), which names that one process and not its pid: every read
//! of a process is of the same process, or fails.
//!
//! The program shown is the one that matters: keyfob's own binaries (the
//! `keyfob credential-process` the AWS CLI ran) and shells in between are
//! walked past, by what the kernel says they run, never by a name a
//! process gives itself: `terraform` → `aws` → `keyfob` shows `aws`, with
//! `terraform` above it. For an interpreter (python, node, ruby, perl, a
//! shell running a file) the script is shown too, since that is what runs.

use std::path::{Path, PathBuf};

use super::peer::{Peer, trusted_binaries};
use super::procfs::ProcDir;

/// The program that asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requester {
    pub pid: u32,
    /// With `pid`, names this one process (clock ticks since boot).
    pub start_time: u64,
    /// Its executable's full path.
    pub exe: Option<String>,
    /// Its working directory.
    pub cwd: Option<String>,
    /// The script an interpreter runs (a full path where it was relative).
    pub script: Option<String>,
    /// The programs above it up to the session leader, nearest first,
    /// shells left out (e.g. `["terraform", "gnome-terminal-server"]`).
    pub parents: Vec<String>,
}

/// One process, as read while it was alive.
struct Proc {
    pid: u32,
    start_time: u64,
    ppid: u32,
    session: u32,
    exe: Option<PathBuf>,
    cwd: Option<PathBuf>,
    args: Vec<String>,
    /// Its `/proc` folder, for the working directory read later.
    dir: Option<ProcDir>,
}

/// Reads process `pid` through its `/proc` folder (so every read is of
/// the one process the folder was opened for): its arguments only where
/// they matter (a shell or an interpreter: what it runs), its folder
/// later and only for the requester.
fn read_proc(pid: u32) -> Option<Proc> {
    let dir = ProcDir::open(pid)?;
    let stat = dir.stat()?;
    let exe = dir.link("exe");
    Some(with_args(Proc {
        pid,
        start_time: stat.start_time,
        ppid: stat.ppid,
        session: stat.session,
        exe,
        cwd: None,
        args: Vec::new(),
        dir: Some(dir),
    }))
}

/// The peer as [`Peer::of`] read it, not read again; `None` if it could
/// not be read whole while alive.
fn peer_proc(peer: &Peer) -> Option<Proc> {
    let dir = ProcDir::open_same(peer.dir.as_ref()?)?;
    Some(with_args(Proc {
        pid: peer.pid,
        start_time: peer.start_time,
        ppid: peer.ppid,
        session: peer.session,
        exe: peer.exe.clone(),
        cwd: None,
        args: Vec::new(),
        dir: Some(dir),
    }))
}

/// `p` with its arguments, if it is an interpreter (what it runs).
fn with_args(mut p: Proc) -> Proc {
    if p.exe.as_deref().is_some_and(interpreter) {
        p.args = p.dir.as_ref().map(ProcDir::args).unwrap_or_default();
    }
    p
}

/// Reads `p`'s working directory (through its folder: of `p` or nothing).
fn with_cwd(mut p: Proc) -> Proc {
    p.cwd = p.dir.as_ref().and_then(|d| d.link("cwd"));
    p
}

fn base_name(exe: &Path) -> String {
    exe.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

const SHELLS: &[&str] = &[
    "sh", "bash", "dash", "zsh", "fish", "ksh", "mksh", "busybox",
];

/// Whether `exe` is an interpreter whose script is what runs.
fn interpreter(exe: &Path) -> bool {
    let name = base_name(exe);
    let family = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    matches!(
        family,
        "python" | "node" | "nodejs" | "ruby" | "perl" | "php" | "deno" | "bun"
    ) || SHELLS.contains(&name.as_str())
}

/// The script an interpreter runs: its first argument that is not an
/// option (`-m module` and `-c` named as such), resolved against its
/// working directory.
fn script(p: &Proc) -> Option<String> {
    let mut args = p.args.iter().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "-m" => return args.next().map(|m| format!("-m {m}")),
            "-c" | "-e" | "--eval" => return Some(format!("{a} …")),
            _ if a.starts_with('-') => continue,
            _ => {
                let path = Path::new(a);
                let full = match (&p.cwd, path.is_absolute()) {
                    (Some(cwd), false) => cwd.join(path),
                    _ => path.to_owned(),
                };
                return Some(full.display().to_string());
            }
        }
    }
    None
}

/// Whether `p` is a shell that runs no script of its own (a `sh -c` that
/// launched the next program): walked past.
fn plain_shell(p: &Proc) -> bool {
    p.exe
        .as_deref()
        .is_some_and(|e| SHELLS.contains(&base_name(e).as_str()))
        && script(p).is_none_or(|s| s.starts_with("-c"))
}

/// The requester behind socket peer `peer` (see the module docs). `cli`
/// is the keyfob binary whose processes are walked past.
pub fn requester(peer: &Peer, cli: &Path) -> Requester {
    // Start from the peer only as the pidfd names it; then up.
    let first = peer_proc(peer).filter(|_| peer.exe.is_some() && peer.alive());
    walk(first, peer.pid, peer.start_time, cli)
}

/// The requester behind this process: what a `keyfob credential-process`
/// that served a session itself writes in the access log.
pub fn requester_of_self(cli: &Path) -> Requester {
    let pid = std::process::id();
    let me = read_proc(pid);
    let start_time = me.as_ref().map_or(0, |p| p.start_time);
    walk(me, pid, start_time, cli)
}

/// The most processes read up from the peer: the requester and the
/// programs above it that a person reads (deeper chains are cut here).
const MAX_CHAIN: usize = 12;

/// The requester from `first` (the peer, already read) up.
fn walk(first: Option<Proc>, peer_pid: u32, peer_start: u64, cli: &Path) -> Requester {
    let keyfob = trusted_binaries(cli);
    let mut chain = Vec::new();
    let mut next = first.filter(|p| p.pid > 1 && p.start_time == peer_start);
    while let Some(p) = next.take() {
        let up = (p.session != p.pid).then_some(p.ppid);
        chain.push(p);
        if chain.len() >= MAX_CHAIN {
            break;
        }
        next = up.filter(|pid| *pid > 1).and_then(read_proc);
    }
    let is_keyfob = |p: &Proc| p.exe.as_ref().is_some_and(|e| keyfob.contains(e));
    let start = chain
        .iter()
        .position(|p| !is_keyfob(p) && !plain_shell(p))
        .or_else(|| chain.iter().position(|p| !is_keyfob(p)))
        .unwrap_or(0);
    if start < chain.len() {
        let p = chain.remove(start);
        chain.insert(start, with_cwd(p));
    }
    let Some(p) = chain.get(start) else {
        return Requester {
            pid: peer_pid,
            start_time: peer_start,
            exe: None,
            cwd: None,
            script: None,
            parents: Vec::new(),
        };
    };
    Requester {
        pid: p.pid,
        start_time: p.start_time,
        exe: p.exe.as_ref().map(|e| e.display().to_string()),
        cwd: p.cwd.as_ref().map(|c| c.display().to_string()),
        script: p
            .exe
            .as_deref()
            .filter(|e| interpreter(e))
            .and_then(|_| script(p)),
        parents: chain[start + 1..]
            .iter()
            .filter(|q| !plain_shell(q) || q.session == q.pid)
            .map(|q| {
                q.exe
                    .as_deref()
                    .map(base_name)
                    .unwrap_or_else(|| "?".into())
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc_of(exe: &str, args: &[&str], cwd: &str) -> Proc {
        Proc {
            pid: 2,
            start_time: 1,
            ppid: 1,
            session: 1,
            exe: Some(exe.into()),
            cwd: Some(cwd.into()),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            dir: None,
        }
    }

    #[test]
    fn scripts_and_shells() {
        let p = proc_of(
            "/usr/bin/python3.11",
            &["python3", "-u", "tool.py", "x"],
            "/w",
        );
        assert!(interpreter(p.exe.as_deref().unwrap()));
        assert_eq!(script(&p).as_deref(), Some("/w/tool.py"));
        let m = proc_of("/usr/bin/python3", &["python3", "-m", "awscli"], "/w");
        assert_eq!(script(&m).as_deref(), Some("-m awscli"));
        let sh = proc_of("/bin/sh", &["sh", "-c", "aws s3 ls"], "/w");
        assert!(plain_shell(&sh));
        let run = proc_of("/bin/bash", &["bash", "deploy.sh"], "/w");
        assert!(!plain_shell(&run));
        assert_eq!(script(&run).as_deref(), Some("/w/deploy.sh"));
        assert!(!interpreter(Path::new("/usr/local/bin/terraform")));
    }

    /// A python3 script connecting to a socket is shown as python3 with
    /// its script (a full path) and working directory, read through the
    /// peer's pidfd.
    #[test]
    fn a_script_is_shown_with_its_interpreter() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("s.sock");
        let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        std::fs::write(
            dir.path().join("asker.py"),
            format!(
                "import socket, time\ns = socket.socket(socket.AF_UNIX)\ns.connect({:?})\ntime.sleep(30)\n",
                sock.display().to_string()
            ),
        )
        .unwrap();
        let mut child = std::process::Command::new("python3")
            .arg("asker.py")
            .current_dir(dir.path())
            .spawn()
            .unwrap();
        let (stream, _) = listener.accept().unwrap();
        let peer = Peer::of(&stream).unwrap();
        let r = requester(&peer, Path::new("/nonexistent/keyfob"));
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(r.pid, child.id());
        assert!(
            r.exe.as_deref().is_some_and(|e| e.contains("python3")),
            "{r:?}"
        );
        let real = std::fs::canonicalize(dir.path()).unwrap();
        assert_eq!(r.cwd.as_deref(), Some(real.to_str().unwrap()));
        assert_eq!(
            r.script.as_deref(),
            Some(real.join("asker.py").to_str().unwrap())
        );
        // A dead peer's pid is not read again as someone else.
        let again = requester(&peer, Path::new("/nonexistent/keyfob"));
        assert_eq!(again.exe, None);
    }
}
