//! A requester's program, as approvals know it: the executable the kernel
//! runs for it (opened through `/proc/PID/exe`, so a binary replaced on
//! disk since it started is not mistaken for the one running) and, for an
//! interpreter, its script, each with the SHA-256 of its contents.
//!
//! Hashes are kept per file version (device, inode, size, modification
//! and change times): a warm request costs two `fstat`s, not a read of
//! the binary; a binary replaced or edited in place is hashed again.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::link::peer::start_time;
use crate::link::requester::Requester;
use crate::model::approval::Program;

/// One version of a file.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Version {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Version {
    fn of(file: &File) -> Option<Version> {
        let m = file.metadata().ok()?;
        Some(Version {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        })
    }
}

/// The hashes of the files seen, by version.
#[derive(Default)]
pub struct Hashes {
    known: Mutex<HashMap<Version, String>>,
}

/// The most versions kept (each a few dozen bytes): past it the cache
/// starts over.
const MAX_KNOWN: usize = 4096;

impl Hashes {
    /// The SHA-256 of `file`'s contents, hex.
    fn of(&self, file: File) -> Option<String> {
        self.of_reading(file, true)
    }

    /// [`Self::of`]; with `read: false`, only if this version's is known.
    fn of_reading(&self, mut file: File, read: bool) -> Option<String> {
        let version = Version::of(&file)?;
        if let Some(h) = self
            .known
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&version)
        {
            return Some(h.clone());
        }
        if !read {
            return None;
        }
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => hasher.update(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return None,
            }
        }
        // Changed while it was read: not this version's hash.
        if Version::of(&file) != Some(version) {
            return None;
        }
        let hash = hex::encode(hasher.finalize());
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        if known.len() >= MAX_KNOWN {
            known.clear();
        }
        known.insert(version, hash.clone());
        Some(hash)
    }

    /// The program `r` runs; `None` when the kernel no longer shows it
    /// (it exited, or its executable cannot be opened): such a request is
    /// not approved by anything remembered.
    pub fn program(&self, r: &Requester) -> Option<Program> {
        self.program_reading(r, true)
    }

    /// [`Self::program`] if every hash it needs is known (no file is read
    /// whole): what the warm path may do without holding others up.
    pub fn program_if_known(&self, r: &Requester) -> Option<Program> {
        let p = self.program_reading(r, false)?;
        let script_unknown =
            p.script.as_deref().is_some_and(|s| s.starts_with('/')) && p.script_sha256.is_none();
        (!script_unknown).then_some(p)
    }

    fn program_reading(&self, r: &Requester, read: bool) -> Option<Program> {
        let exe = r.exe.clone()?;
        // The running binary, whatever is at its path now; the process
        // must still be the one the requester names after the open.
        let file = File::open(format!("/proc/{}/exe", r.pid)).ok()?;
        if start_time(r.pid) != Some(r.start_time) {
            return None;
        }
        let exe_sha256 = self.of_reading(file, read)?;
        let (script, script_sha256) = match &r.script {
            Some(s) if s.starts_with('/') => {
                let hash = File::open(s).ok().and_then(|f| self.of_reading(f, read));
                (Some(s.clone()), hash)
            }
            other => (other.clone(), None),
        };
        Some(Program {
            exe,
            exe_sha256,
            script,
            script_sha256,
        })
    }
}

/// The program `interpreter` running `script` (`keyfob approvals add
/// python3 job.py`): the interpreter found on PATH as the kernel runs it.
pub fn script_program(interpreter: &str, script: &std::path::Path) -> Result<Program, String> {
    let hashes = Hashes::default();
    let exe = if interpreter.contains('/') {
        interpreter.to_owned()
    } else {
        which(interpreter).ok_or_else(|| format!("{interpreter} is not on PATH"))?
    };
    let exe = std::fs::canonicalize(&exe).map_err(|e| format!("{exe}: {e}"))?;
    let full = std::fs::canonicalize(script).map_err(|e| format!("{}: {e}", script.display()))?;
    let open = |p: &std::path::Path| File::open(p).map_err(|e| format!("{}: {e}", p.display()));
    Ok(Program {
        exe: exe.display().to_string(),
        exe_sha256: hashes
            .of(open(&exe)?)
            .ok_or("cannot read the interpreter")?,
        script: Some(full.display().to_string()),
        script_sha256: Some(hashes.of(open(&full)?).ok_or("cannot read the script")?),
    })
}

/// The program at `path` as approvals know it (`keyfob approvals add`): an
/// executable, or a script with its interpreter read from its `#!` line.
pub fn program_at(path: &std::path::Path) -> Result<Program, String> {
    let hashes = Hashes::default();
    let full = std::fs::canonicalize(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let open = |p: &std::path::Path| File::open(p).map_err(|e| format!("{}: {e}", p.display()));
    let mut head = [0u8; 256];
    let n = open(&full)?.read(&mut head).unwrap_or(0);
    let head = &head[..n];
    if let Some(line) = head.strip_prefix(b"#!") {
        // A script: the interpreter runs, the script is what it runs.
        let line = String::from_utf8_lossy(line);
        let line = line.lines().next().unwrap_or("");
        let mut words = line.split_whitespace();
        let mut interpreter = words.next().unwrap_or("").to_owned();
        if interpreter.ends_with("/env") {
            let name = words.find(|w| !w.starts_with('-')).unwrap_or("");
            interpreter = which(name).ok_or_else(|| format!("{name} is not on PATH"))?;
        }
        let interpreter =
            std::fs::canonicalize(&interpreter).map_err(|e| format!("{interpreter}: {e}"))?;
        return Ok(Program {
            exe: interpreter.display().to_string(),
            exe_sha256: hashes
                .of(open(&interpreter)?)
                .ok_or("cannot read the interpreter")?,
            script: Some(full.display().to_string()),
            script_sha256: Some(hashes.of(open(&full)?).ok_or("cannot read the script")?),
        });
    }
    if !head.starts_with(b"\x7fELF") {
        return Err(format!(
            "{} is neither a program nor a script with a #! line: name the interpreter that runs it too, e.g. keyfob approvals add python3 {} --profile NAME",
            full.display(),
            path.display()
        ));
    }
    Ok(Program {
        exe: full.display().to_string(),
        exe_sha256: hashes.of(open(&full)?).ok_or("cannot read the program")?,
        script: None,
        script_sha256: None,
    })
}

fn which(name: &str) -> Option<String> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_changed_in_place_is_hashed_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tool");
        std::fs::write(&path, b"one").unwrap();
        let hashes = Hashes::default();
        let first = hashes.of(File::open(&path).unwrap()).unwrap();
        assert_eq!(first, hashes.of(File::open(&path).unwrap()).unwrap());
        // Same size, same second: the change time and contents differ.
        std::fs::write(&path, b"two").unwrap();
        let second = hashes.of(File::open(&path).unwrap()).unwrap();
        assert_ne!(first, second);
        assert_eq!(
            second,
            hex::encode(Sha256::digest(b"two")),
            "the hash is of the contents"
        );
    }

    #[test]
    fn a_script_is_its_interpreter_and_itself() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("job.py");
        std::fs::write(&script, "#!/usr/bin/env python3\nprint(1)\n").unwrap();
        let p = program_at(&script).unwrap();
        assert!(p.exe.contains("python3"), "{p:?}");
        assert_eq!(
            p.script.as_deref(),
            Some(std::fs::canonicalize(&script).unwrap().to_str().unwrap())
        );
        let bin = program_at(std::path::Path::new("/bin/sh")).unwrap();
        assert!(bin.script.is_none());
        let missing = program_at(std::path::Path::new("/nonexistent/tool")).unwrap_err();
        assert!(missing.contains("/nonexistent/tool"), "{missing}");
        // No #! line: the interpreter must be named, and then is found.
        let bare = dir.path().join("job2.py");
        std::fs::write(&bare, "print(2)\n").unwrap();
        let refused = program_at(&bare).unwrap_err();
        assert!(refused.contains("approvals add python3"), "{refused}");
        let named = script_program("python3", &bare).unwrap();
        assert_eq!(named.exe, p.exe, "the same interpreter as the #! line's");
        assert_eq!(
            named.script.as_deref(),
            Some(std::fs::canonicalize(&bare).unwrap().to_str().unwrap())
        );
    }
}
