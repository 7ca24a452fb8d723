//! One process's `/proc/PID` folder, held open. The open folder names
//! the process it was opened for, not its pid: once that process is gone
//! every read through it fails, and a later process given the same pid
//! has a folder of its own. So the reads made through one [`ProcDir`]
//! are all of one process, without reading its start time again after
//! each of them (what the agent did before, for every process of every
//! request: a warm request read `/proc/PID/stat` 14 times).

use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::PathBuf;

use rustix::fs::{CWD, Mode, OFlags};

/// What `/proc/PID/stat` says that keyfob uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    /// Clock ticks since boot: with the pid, names one process for its
    /// whole life.
    pub start_time: u64,
    pub ppid: u32,
    pub session: u32,
}

/// An open `/proc/PID`.
#[derive(Debug)]
pub struct ProcDir {
    pub pid: u32,
    fd: OwnedFd,
}

/// The most a file read here may hold (a command line can be long; what
/// is past this is not read).
const MAX_READ: usize = 64 * 1024;

impl ProcDir {
    /// The folder of the process that has `pid` now; `None` if none has.
    pub fn open(pid: u32) -> Option<ProcDir> {
        let fd = rustix::fs::openat(
            CWD,
            format!("/proc/{pid}"),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ok()?;
        Some(ProcDir { pid, fd })
    }

    /// Another handle on the same folder (so of the same process).
    pub fn open_same(other: &ProcDir) -> Option<ProcDir> {
        let fd = rustix::io::fcntl_dupfd_cloexec(&other.fd, 0).ok()?;
        Some(ProcDir { pid: other.pid, fd })
    }

    /// Its `stat`: start time, parent and session.
    pub fn stat(&self) -> Option<Stat> {
        parse_stat(&String::from_utf8_lossy(&self.read("stat")?))
    }

    /// The file `name` in the folder, whole (up to [`MAX_READ`]).
    pub fn read(&self, name: &str) -> Option<Vec<u8>> {
        read_whole(self.open_file(name)?)
    }

    /// The file `name` in the folder, opened for reading (`exe`: the
    /// running program itself, whatever is at its path now).
    pub fn open_file(&self, name: &str) -> Option<std::fs::File> {
        rustix::fs::openat(
            &self.fd,
            name,
            OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ok()
        .map(std::fs::File::from)
    }

    /// Where the link `name` points (`exe`, `cwd`).
    pub fn link(&self, name: &str) -> Option<PathBuf> {
        use std::os::unix::ffi::OsStringExt;
        let target = rustix::fs::readlinkat(&self.fd, name, Vec::new()).ok()?;
        Some(PathBuf::from(std::ffi::OsString::from_vec(
            target.into_bytes(),
        )))
    }

    /// Its arguments (`cmdline`).
    pub fn args(&self) -> Vec<String> {
        self.read("cmdline")
            .map(|b| {
                b.split(|c| *c == 0)
                    .filter(|a| !a.is_empty())
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The `stat` of the process that has `pid` now (one read, no folder
/// kept: for a single check of a start time).
pub fn stat_of(pid: u32) -> Option<Stat> {
    let file = std::fs::File::open(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&String::from_utf8_lossy(&read_whole(file)?))
}

/// A `/proc` file, whole (up to [`MAX_READ`]), in as few reads as it
/// takes: `/proc` shows sizes as 0, so no `fstat`, and one read is
/// usually all.
fn read_whole(mut file: std::fs::File) -> Option<Vec<u8>> {
    // Most are a few hundred bytes: a stack buffer, copied out at its
    // length (a heap buffer of a page would be zeroed, then wiped when
    // freed by the zeroizing allocator, for each of a dozen files).
    let mut first = [0u8; 2048];
    let mut len = 0;
    loop {
        let room = first.len() - len;
        match file.read(&mut first[len..]) {
            Ok(0) => return Some(first[..len].to_vec()),
            // `/proc`'s files give all they have in one read when it
            // fits (`stat` is made whole before it is copied, `cmdline`
            // copied page by page to the end): a short read is the end,
            // without one more read to say so.
            Ok(n) if n < room => return Some(first[..len + n].to_vec()),
            Ok(n) => {
                len += n;
                if len == first.len() {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    let mut buf = first.to_vec();
    loop {
        if len == buf.len() {
            if len >= MAX_READ {
                break;
            }
            buf.resize(len * 2, 0);
        }
        let room = buf.len() - len;
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => {
                len += n;
                if n < room {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    buf.truncate(len);
    Some(buf)
}

/// The fields of a `/proc/PID/stat` line after the parenthesised name
/// (whose text can hold anything, so split after its last `)`): state,
/// ppid, pgrp, session, … starttime is the 20th.
pub fn parse_stat(stat: &str) -> Option<Stat> {
    let mut rest = stat.rsplit_once(')')?.1.split_ascii_whitespace();
    let ppid = rest.nth(1)?.parse().ok()?;
    let session = rest.nth(1)?.parse().ok()?;
    let start_time = rest.nth(15)?.parse().ok()?;
    Some(Stat {
        start_time,
        ppid,
        session,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cmd` started, once its exec is complete: std's spawn returns when
    /// the exec closed its descriptors, before the new program's
    /// arguments are set up (a read then finds none).
    fn started(cmd: &mut std::process::Command) -> std::process::Child {
        let child = cmd.spawn().unwrap();
        let begun = std::time::Instant::now();
        while std::fs::read(format!("/proc/{}/cmdline", child.id()))
            .unwrap()
            .is_empty()
        {
            assert!(begun.elapsed() < std::time::Duration::from_secs(10));
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        child
    }

    /// A name with spaces and parentheses does not shift the fields.
    #[test]
    fn stat_fields_after_the_name() {
        let line = "42 (a) b (c) S 7 42 9 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 12345 0 0";
        assert_eq!(
            parse_stat(line),
            Some(Stat {
                start_time: 12345,
                ppid: 7,
                session: 9
            })
        );
        assert_eq!(parse_stat("42 (x) S 7"), None);
    }

    /// Reads through an open folder are of the process it was opened
    /// for: once that process has exited and been reaped, they fail
    /// (the pid may already be another process's).
    #[test]
    fn a_folder_outlives_its_process_but_reads_nothing_of_another() {
        let mut child = started(std::process::Command::new("sleep").arg("30"));
        let dir = ProcDir::open(child.id()).unwrap();
        let stat = dir.stat().unwrap();
        assert_eq!(stat.ppid, std::process::id());
        assert!(dir.link("exe").is_some_and(|e| e.ends_with("sleep")));
        assert_eq!(dir.args(), ["sleep", "30"]);
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(dir.stat(), None);
        assert_eq!(dir.link("exe"), None);
    }

    /// A command line longer than the first buffer is read whole.
    #[test]
    fn long_command_lines_are_read_whole() {
        let long = "x".repeat(10_000);
        // `read` waits on the pipe: a shell builtin, so no exec.
        let mut child = started(
            std::process::Command::new("sh")
                .args(["-c", "read x", "sh", &long])
                .stdin(std::process::Stdio::piped()),
        );
        let args = ProcDir::open(child.id()).unwrap().args();
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(args, ["sh", "-c", "read x", "sh", long.as_str()]);
    }
}
