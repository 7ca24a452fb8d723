//! The encrypted-file store: one file per entry in a 0700 folder, each file
//! 0600 and replaced atomically (temp file, fsync, rename, fsync folder), so
//! a crash leaves the old entry or the new one, never half of either.
//!
//! "Encrypted" because of what the vault puts here: long-term keys sealed
//! under the PIN (XChaCha20-Poly1305, Argon2id); the identity index and PIN
//! attempt counters are not secret. The store itself never sees a plaintext
//! secret.

use std::fs::{self, File};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::secret_store::{SecretStore, StoreError, check_key};
use crate::model::secret::SecretBytes;
use crate::platform::paths::private_dir;

pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    /// A store in `dir`; the folder is created (0700) on first write.
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &str) -> Result<PathBuf, StoreError> {
        check_key(key)?;
        Ok(self.dir.join(key))
    }
}

fn io_err(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.to_owned();
    move |source| StoreError::File { op, path, source }
}

impl SecretStore for FileStore {
    fn describe(&self) -> String {
        format!("encrypted-file store in {}", self.dir.display())
    }

    fn get(&self, key: &str) -> Result<Option<SecretBytes>, StoreError> {
        let path = self.path(key)?;
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err("read", &path)(e)),
        };
        let mut bytes = Zeroizing::new(Vec::new());
        file.read_to_end(&mut bytes)
            .map_err(io_err("read", &path))?;
        Ok(Some(SecretBytes::new(std::mem::take(&mut *bytes))))
    }

    fn put(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let path = self.path(key)?;
        private_dir(&self.dir).map_err(|e| StoreError::File {
            op: "create",
            path: self.dir.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
        // tempfile creates the file 0600 in the same folder, so the rename
        // below is atomic and the entry is never readable by others.
        let mut tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(&self.dir)
            .map_err(io_err("create a temporary file in", &self.dir))?;
        tmp.write_all(value).map_err(io_err("write", tmp.path()))?;
        tmp.as_file()
            .sync_all()
            .map_err(io_err("sync", tmp.path()))?;
        tmp.persist(&path)
            .map_err(|e| io_err("replace", &path)(e.error))?;
        sync_dir(&self.dir)
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        let path = self.path(key)?;
        match fs::remove_file(&path) {
            Ok(()) => sync_dir(&self.dir),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err("remove", &path)(e)),
        }
    }
}

/// Makes a rename or removal in `dir` durable.
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("sync", dir))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn round_trip_with_private_permissions() {
        let tmp = tempfile::tempdir().unwrap();
        let store = FileStore::new(tmp.path().join("store"));
        assert!(store.get("index").unwrap().is_none());
        store.put("index", b"one").unwrap();
        store.put("index", b"two").unwrap();
        assert_eq!(store.get("index").unwrap().unwrap().expose(), b"two");

        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(store.dir()), 0o700);
        assert_eq!(mode(&store.dir().join("index")), 0o600);
        // No temporary files are left behind.
        assert_eq!(fs::read_dir(store.dir()).unwrap().count(), 1);

        store.delete("index").unwrap();
        store.delete("index").unwrap();
        assert!(store.get("index").unwrap().is_none());
    }

    #[test]
    fn keys_that_could_escape_the_folder_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let store = FileStore::new(tmp.path().to_owned());
        for key in ["../x", "a/b", ".hidden", "", "a b"] {
            assert!(
                matches!(store.put(key, b"v"), Err(StoreError::BadKey { .. })),
                "{key:?}"
            );
        }
    }
}
