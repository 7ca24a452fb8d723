//! Writing a file so a crash leaves the old content or the new, never half:
//! a temporary file in the same folder, fsync, rename over the target,
//! fsync the folder. The previous content is kept as `<file>.keyfob.bak`.
//! A writer killed mid-write leaves its temporary file; the next write in
//! that folder removes such leftovers once they are clearly stale.

use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

const TMP_PREFIX: &str = ".keyfob-tmp-";
/// A live writer's temporary file exists for milliseconds; one this old
/// was left by a writer that was killed.
const STALE_TMP: Duration = Duration::from_secs(600);

#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {source}")]
pub struct WriteError {
    pub path: PathBuf,
    pub source: io::Error,
}

/// The backup's path: `config` → `config.keyfob.bak`.
pub fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".keyfob.bak");
    path.with_file_name(name)
}

/// Replaces `path` with `bytes` atomically. An existing file is first
/// copied to its backup and its mode is kept; a new file gets `new_mode`.
/// Writes nothing if the content is already `bytes`.
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
            if fs::read(path).map_err(err)? == bytes {
                return Ok(());
            }
            fs::copy(path, backup_path(path)).map_err(err)?;
            meta.permissions().mode() & 0o7777
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::DirBuilder::new()
                .recursive(true)
                .create(&dir)
                .map_err(err)?;
            new_mode
        }
        Err(e) => return Err(err(e)),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(TMP_PREFIX)
        .tempfile_in(&dir)
        .map_err(err)?;
    tmp.as_file()
        .set_permissions(fs::Permissions::from_mode(mode))
        .map_err(err)?;
    tmp.write_all(bytes).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    File::open(&dir).and_then(|d| d.sync_all()).map_err(err)?;
    remove_stale_temporaries(&dir);
    Ok(())
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

    #[test]
    fn replaces_keeps_a_backup_and_the_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/config");
        write_atomic(&path, b"one", 0o600).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"one");
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&path, b"two", 0o600).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(fs::read(backup_path(&path)).unwrap(), b"one");
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o640
        );
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
}
