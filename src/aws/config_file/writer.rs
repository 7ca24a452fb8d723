//! Loading and saving. The atomic write and its backup are
//! [`crate::platform::fsutil::write_atomic`]'s; what is particular to the AWS files
//! stays here: a file above [`MAX_FILE_BYTES`] is refused rather than read
//! or replaced, one that is not UTF-8 is not loaded (so never edited and
//! rewritten), a symbolic link is followed so the link stays and its
//! target is replaced, and an empty text for a missing file creates
//! nothing.
//!
//! Nothing here locks: a caller that edits a file holds its lock
//! ([`crate::platform::fsutil::lock_for`]) from [`AwsFile::load`] to
//! [`AwsFile::save`].

use std::fs::{self, File};
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::{AwsFile, ConfigFileError, Flavor, MAX_FILE_BYTES};
use crate::platform::fsutil;

/// Mode of a file created from scratch (the AWS CLI uses the same).
const NEW_FILE_MODE: u32 = 0o600;

impl AwsFile {
    /// Reads `path`; a missing file reads as an empty one.
    pub fn load(path: &Path, flavor: Flavor) -> Result<AwsFile, ConfigFileError> {
        match read_existing(path)? {
            None => Ok(AwsFile::parse("", flavor)),
            Some(bytes) => {
                let text = std::str::from_utf8(&bytes).map_err(|_| ConfigFileError::NotUtf8 {
                    path: path.to_owned(),
                })?;
                Ok(AwsFile::parse(text, flavor))
            }
        }
    }

    /// Writes the text to `path` atomically and durably, after copying the
    /// previous content to `<path>.keyfob.bak` (mode 0600: the credentials
    /// file's backup holds its keys). Writes nothing when the content is
    /// unchanged, nor for an empty text when there is no file. The new file
    /// keeps the old one's mode (0600 for a new file); a missing folder is
    /// created 0700. A symbolic link (a dotfiles checkout, say) is followed,
    /// so the link stays and its target is replaced.
    pub fn save(&self, path: &Path) -> Result<(), ConfigFileError> {
        let text = Zeroizing::new(self.to_text());
        let target = resolve_link(path)?;
        // Read under the cap first: fsutil reads the old content whole to
        // back it up, and a file too large to load must not be replaced.
        match read_existing(&target)? {
            Some(old) if old.as_slice() == text.as_bytes() => return Ok(()),
            None if text.is_empty() => return Ok(()),
            _ => {}
        }
        fsutil::write_atomic(&target, text.as_bytes(), NEW_FILE_MODE).map_err(|e| {
            // fsutil names the backup when writing the backup failed; the
            // file itself was not changed then.
            if e.path == fsutil::backup_path(&target) {
                ConfigFileError::Backup {
                    path: target.clone(),
                    backup: e.path,
                    source: e.source,
                }
            } else {
                ConfigFileError::Write {
                    path: e.path,
                    source: e.source,
                }
            }
        })
    }
}

/// The file a symbolic link points to, so that replacing it keeps the link.
fn resolve_link(path: &Path) -> Result<PathBuf, ConfigFileError> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            fs::canonicalize(path).map_err(|source| ConfigFileError::Read {
                path: path.to_owned(),
                source,
            })
        }
        _ => Ok(path.to_owned()),
    }
}

/// The content of `path`, or `None` if it is missing.
fn read_existing(path: &Path) -> Result<Option<Zeroizing<Vec<u8>>>, ConfigFileError> {
    let read_err = |source| ConfigFileError::Read {
        path: path.to_owned(),
        source,
    };
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(read_err(e)),
    };
    let meta = file.metadata().map_err(read_err)?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(ConfigFileError::TooLarge {
            path: path.to_owned(),
        });
    }
    let mut bytes = Zeroizing::new(Vec::new());
    // The cap again, in case the file grows while it is read.
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ConfigFileError::TooLarge {
            path: path.to_owned(),
        });
    }
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    use super::super::fixtures::CONFIG;
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn save_keeps_a_backup_and_the_mode_and_leaves_no_temp_files() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("config");
        fs::write(&path, CONFIG).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let backup = tmp.path().join("config.keyfob.bak");
        fs::write(&backup, "an older backup").unwrap();

        let mut file = AwsFile::load(&path, Flavor::Config).unwrap();
        assert_eq!(file.to_text(), CONFIG);
        file.set_profile("staging", &[("region", "us-west-2")])
            .unwrap();
        file.save(&path).unwrap();

        assert_eq!(fs::read_to_string(&backup).unwrap(), CONFIG);
        assert_eq!(fs::read_to_string(&path).unwrap(), file.to_text());
        assert_eq!(mode(&path), 0o640);
        // The backup is 0600 whatever the file's mode, by design: a backup
        // of the shared credentials file holds plaintext keys.
        assert_eq!(mode(&backup), 0o600);
        assert_eq!(entries(tmp.path()), ["config", "config.keyfob.bak"]);
    }

    #[test]
    fn a_failed_backup_is_a_backup_error_and_changes_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("config");
        fs::write(&path, CONFIG).unwrap();
        // A folder where the backup goes: renaming a file over it fails.
        let backup = tmp.path().join("config.keyfob.bak");
        fs::create_dir(&backup).unwrap();
        fs::write(backup.join("keep"), "").unwrap();

        let mut file = AwsFile::load(&path, Flavor::Config).unwrap();
        file.set_profile("staging", &[("region", "us-west-2")])
            .unwrap();
        match file.save(&path) {
            Err(ConfigFileError::Backup {
                path: p, backup: b, ..
            }) => {
                assert_eq!(p, path);
                assert_eq!(b, backup);
            }
            other => panic!("expected a backup error, got {other:?}"),
        }
        assert_eq!(fs::read_to_string(&path).unwrap(), CONFIG);
    }

    #[test]
    fn save_with_unchanged_content_does_not_touch_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("config");
        fs::write(&path, CONFIG).unwrap();
        let before = fs::metadata(&path).unwrap();

        let mut file = AwsFile::load(&path, Flavor::Config).unwrap();
        file.set_profile("default", &[("output", "json")]).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        file.save(&path).unwrap();

        let after = fs::metadata(&path).unwrap();
        assert_eq!(after.ino(), before.ino());
        assert_eq!(after.mtime_nsec(), before.mtime_nsec());
        assert_eq!(after.mtime(), before.mtime());
        assert_eq!(entries(tmp.path()), ["config"], "no backup, no temp file");
    }

    #[test]
    fn save_creates_a_private_file_and_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("home/.aws");
        let path = dir.join("credentials");

        let mut file = AwsFile::load(&path, Flavor::Credentials).unwrap();
        assert_eq!(file.to_text(), "");
        assert!(file.profile_names().is_empty());
        // Nothing to write: not even the folder appears.
        file.save(&path).unwrap();
        assert!(!dir.exists());

        file.set_profile("a", &[("region", "x")]).unwrap();
        file.save(&path).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "[a]\nregion = x\n");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(
            entries(&dir),
            ["credentials"],
            "no backup of a missing file"
        );
    }

    #[test]
    fn save_through_a_symlink_keeps_the_link() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("dotfiles-config");
        fs::write(&real, "[default]\nregion = x\n").unwrap();
        let link = tmp.path().join("config");
        std::os::unix::fs::symlink(&real, &link).unwrap();

        let mut file = AwsFile::load(&link, Flavor::Config).unwrap();
        file.set_profile("default", &[("region", "y")]).unwrap();
        file.save(&link).unwrap();

        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            fs::read_to_string(&real).unwrap(),
            "[default]\nregion = y\n"
        );
        assert_eq!(
            fs::read_to_string(tmp.path().join("dotfiles-config.keyfob.bak")).unwrap(),
            "[default]\nregion = x\n"
        );
    }

    #[test]
    fn load_refuses_files_it_must_not_rewrite() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("config");
        fs::write(&path, b"[default]\nregion = \xff\n").unwrap();
        assert!(matches!(
            AwsFile::load(&path, Flavor::Config),
            Err(ConfigFileError::NotUtf8 { .. })
        ));
        let big = File::create(&path).unwrap();
        big.set_len(MAX_FILE_BYTES + 1).unwrap();
        assert!(matches!(
            AwsFile::load(&path, Flavor::Config),
            Err(ConfigFileError::TooLarge { .. })
        ));
    }
}
