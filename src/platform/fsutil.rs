//! The one cross-process lock and the one atomic write. Every
//! read-modify-write of a file keyfob owns or edits (config.toml, the AWS
//! config and credentials files, the reminders and external-ID records)
//! runs as: [`lock_for`] the file, read, change, [`write_atomic`], drop the
//! lock. The vault and the session single-flight use [`lock`] on their own
//! lock files.
//!
//! Locks are `flock(2)` locks (std's `File::lock`, stable since Rust 1.89,
//! which is why neither fs4 nor fd-lock is needed): the kernel drops them
//! when the holder dies, so a `kill -9` never leaves a stale lock. A waiter
//! gives up after a timeout and names the holder, which writes its pid and
//! program name into the lock file once it holds the lock.
//!
//! Writes go to a temporary file in the same folder, fsync, rename over
//! the target, fsync the folder: a crash leaves the old content or the
//! new, never half. The previous content is first written (atomically
//! too) to `<file>.keyfob.bak`, readable by the user alone since the file
//! may hold secrets (the shared credentials file). A writer killed
//! mid-write leaves its temporary file; the next write in that folder
//! removes such leftovers once they are clearly stale.

use std::fs::{self, DirBuilder, File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

const TMP_PREFIX: &str = ".keyfob-tmp-";
/// A live writer's temporary file exists for milliseconds; one this old
/// was left by a writer that was killed.
const STALE_TMP: Duration = Duration::from_secs(600);
/// How long an edit of a file waits for another keyfob process's edit: an
/// edit holds its lock for milliseconds, so this is only reached when the
/// holder is stuck (stopped, or hung on a dead network filesystem).
pub const EDIT_TIMEOUT: Duration = Duration::from_secs(5);
/// Mode of backups: the file backed up may hold secrets.
const BACKUP_MODE: u32 = 0o600;

#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {source}")]
pub struct WriteError {
    pub path: PathBuf,
    pub source: io::Error,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("cannot lock {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "{path} is locked by {holder} and was not released within {waited_secs} s; nothing was changed — if that process is stuck, end it and try again"
    )]
    Timeout {
        path: PathBuf,
        holder: String,
        waited_secs: u64,
    },
}

/// An exclusive lock, released when dropped (or when the process dies).
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

/// The lock file that guards edits of `target`: `.NAME.keyfob.lock` in
/// the same folder, after following a symbolic link to the file itself
/// (so two paths to one file share one lock).
pub fn lock_path_for(target: &Path) -> PathBuf {
    let real = fs::canonicalize(target).unwrap_or_else(|_| target.to_owned());
    let mut name = std::ffi::OsString::from(".");
    name.push(real.file_name().unwrap_or_default());
    name.push(".keyfob.lock");
    real.with_file_name(name)
}

/// Locks `target` for an edit, waiting at most [`EDIT_TIMEOUT`].
pub fn lock_for(target: &Path) -> Result<FileLock, LockError> {
    lock(&lock_path_for(target), EDIT_TIMEOUT)
}

/// Takes the exclusive lock on `path` (created 0600, its folder 0700 if
/// missing), waiting at most `timeout`.
pub fn lock(path: &Path, timeout: Duration) -> Result<FileLock, LockError> {
    let err = |source| LockError::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.exists()
    {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(err)?;
    }
    // Never through a symlink: one planted at a lock's path would have
    // keyfob create or lock a file it points at.
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(err)?;
    let start = Instant::now();
    let mut pause = Duration::from_millis(2);
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) => {
                if start.elapsed() >= timeout {
                    return Err(LockError::Timeout {
                        path: path.to_owned(),
                        holder: holder(&mut file),
                        waited_secs: timeout.as_secs_f64().round() as u64,
                    });
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(TryLockError::Error(e)) => return Err(err(e)),
        }
    }
    // Who holds it, for a waiter that gives up. Best effort: the lock is
    // held whether or not this note is written.
    let note = format!("{} {}\n", std::process::id(), own_name());
    let _ = file
        .set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| file.write_all(note.as_bytes()));
    Ok(FileLock { _file: file })
}

/// What the lock file says of its holder: "process 123 (keyfob), stopped".
fn holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.rewind();
    let _ = file.take(256).read_to_string(&mut text);
    let Some(pid) = text
        .split_whitespace()
        .next()
        .and_then(|p| p.parse::<u32>().ok())
    else {
        return "another process".into();
    };
    let proc = PathBuf::from(format!("/proc/{pid}"));
    let name = fs::read_to_string(proc.join("comm"))
        .map(|c| c.trim().to_owned())
        .unwrap_or_else(|_| text.split_whitespace().nth(1).unwrap_or("?").to_owned());
    // The state letter follows the parenthesised command in /proc/PID/stat.
    let stopped = fs::read_to_string(proc.join("stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with(['T', 't']))
        })
        .unwrap_or(false);
    format!(
        "process {pid} ({name}){}",
        if stopped { ", which is stopped" } else { "" }
    )
}

fn own_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "keyfob".into())
}

/// A text file's content; a missing file reads as empty (config.toml and
/// keyfob's records start out missing).
pub fn read_or_empty(path: &Path) -> io::Result<String> {
    match fs::read_to_string(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(String::new()),
        other => other,
    }
}

/// The backup's path: `config` → `config.keyfob.bak`.
pub fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".keyfob.bak");
    path.with_file_name(name)
}

/// Replaces `path` with `bytes` atomically. An existing file's content is
/// first written to its backup (mode 0600) and its mode is kept; a new
/// file gets `new_mode`, and a missing folder is created 0700. Writes
/// nothing if the content is already `bytes`. The caller holds the lock
/// ([`lock_for`]) if it read the file to make `bytes`.
pub fn write_atomic(path: &Path, bytes: &[u8], new_mode: u32) -> Result<(), WriteError> {
    let err = |source| WriteError {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let mode = match fs::metadata(path) {
        Ok(meta) => {
            // Wiped after use: the old content may be a credentials file.
            let old = Zeroizing::new(fs::read(path).map_err(err)?);
            if old.as_slice() == bytes {
                return Ok(());
            }
            replace(&dir, &backup_path(path), &old, BACKUP_MODE).map_err(|source| WriteError {
                path: backup_path(path),
                source,
            })?;
            meta.permissions().mode() & 0o7777
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .map_err(err)?;
            new_mode
        }
        Err(e) => return Err(err(e)),
    };
    replace(&dir, path, bytes, mode).map_err(err)?;
    remove_stale_temporaries(&dir);
    Ok(())
}

/// A temporary file in `dir` with `mode`, written, fsynced and renamed
/// over `target`, then `dir` fsynced.
fn replace(dir: &Path, target: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let mut tmp = tempfile::Builder::new()
        .prefix(TMP_PREFIX)
        .tempfile_in(dir)?;
    tmp.as_file()
        .set_permissions(fs::Permissions::from_mode(mode))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(target).map_err(|e| e.error)?;
    File::open(dir)?.sync_all()
}

/// Removes temporary files of killed writers (best effort: a leftover is
/// clutter, not a fault, so failing to remove one is not an error).
fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(TMP_PREFIX) {
            continue;
        }
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_TMP);
        if stale {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn replaces_keeps_a_private_backup_and_the_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/config");
        write_atomic(&path, b"one", 0o600).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"one");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        write_atomic(&path, b"two", 0o600).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(fs::read(backup_path(&path)).unwrap(), b"one");
        assert_eq!(mode(&path), 0o644);
        // A 0644 file's backup is 0600 all the same (regression: the
        // credentials file's backup kept its plaintext keys at 0644).
        assert_eq!(mode(&backup_path(&path)), 0o600);
        // No temporary file is left, and an unchanged write touches nothing.
        let inode = std::os::unix::fs::MetadataExt::ino(&fs::metadata(&path).unwrap());
        write_atomic(&path, b"two", 0o600).unwrap();
        assert_eq!(
            std::os::unix::fs::MetadataExt::ino(&fs::metadata(&path).unwrap()),
            inode
        );
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn leftovers_of_killed_writers_are_removed_once_stale() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join(".keyfob-tmp-killed");
        let fresh = dir.path().join(".keyfob-tmp-live");
        let other = dir.path().join("notes.txt");
        for p in [&old, &fresh, &other] {
            fs::write(p, b"x").unwrap();
        }
        let an_hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
        for p in [&old, &other] {
            File::options()
                .write(true)
                .open(p)
                .unwrap()
                .set_modified(an_hour_ago)
                .unwrap();
        }
        write_atomic(&dir.path().join("config"), b"one", 0o600).unwrap();
        assert!(!old.exists(), "a stale temporary file was kept");
        assert!(fresh.exists(), "a live writer's file was removed");
        assert!(other.exists(), "an unrelated file was removed");
    }

    #[test]
    fn a_held_lock_times_out_naming_its_holder() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("config.toml");
        let held = lock_for(&target).unwrap();
        assert!(lock_path_for(&target).ends_with(".config.toml.keyfob.lock"));
        let start = Instant::now();
        let err = lock(&lock_path_for(&target), Duration::from_millis(200)).unwrap_err();
        assert!(start.elapsed() >= Duration::from_millis(200));
        let text = err.to_string();
        assert!(
            text.contains(&format!("process {}", std::process::id())),
            "{text}"
        );
        assert!(text.contains(".config.toml.keyfob.lock"), "{text}");
        drop(held);
        lock(&lock_path_for(&target), Duration::from_millis(200)).unwrap();
    }

    #[test]
    fn a_symlink_shares_its_targets_lock() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real-config");
        fs::write(&real, b"x").unwrap();
        let link = dir.path().join("config");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert_eq!(lock_path_for(&link), lock_path_for(&real));
    }

    /// A symlink planted at a lock's path is not followed: the lock fails
    /// and the file it points at is neither created nor locked.
    #[test]
    fn a_lock_never_follows_a_symlink() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("victim");
        let link = d.path().join("x.lock");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(lock(&link, Duration::from_millis(50)).is_err());
        assert!(!target.exists());
    }
}
