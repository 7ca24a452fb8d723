//! Where sessions are cached until shortly before they expire: the
//! kernel keyring where it answers (a hit costs two system calls), else
//! the agent's memory over its socket. Never the secret store, never a
//! file.

use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::model::session::Session;
use crate::platform::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("the kernel keyring refused to {op} a session: {message}")]
    Kernel { op: &'static str, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the keyfob agent could not {op} a session: {message}")]
    Agent { op: &'static str, message: String },
}

/// The kernel keyring's cache, where it answers (the agent's own choice:
/// this, else its memory).
pub fn kernel_cache(namespace: &str) -> Option<Box<dyn SessionCache + Send + Sync>> {
    #[cfg(target_os = "linux")]
    if let Ok(cache) = KernelCache::open(namespace) {
        return Some(Box::new(cache));
    }
    let _ = namespace;
    None
}

/// Where sessions are cached. Keys are short ASCII names.
pub trait SessionCache {
    fn get(&self, key: &str) -> Result<Option<Zeroizing<Vec<u8>>>, CacheError>;
    /// Stores `value` until `expires` (the cache may drop it then).
    fn put(&self, key: &str, value: &[u8], expires: OffsetDateTime) -> Result<(), CacheError>;
    /// When the entry's session expires, if it is cached (no secret
    /// leaves: what `keyfob sessions` lists).
    fn expires(&self, key: &str) -> Result<Option<OffsetDateTime>, CacheError> {
        Ok(self
            .get(key)?
            .and_then(|b| Session::from_json(&b).ok())
            .map(|(s, _)| s.expiration))
    }
    fn delete(&self, key: &str) -> Result<(), CacheError>;
    /// Every key present (for `lock --all` and the sessions list).
    fn keys(&self) -> Result<Vec<String>, CacheError>;
    fn describe(&self) -> &'static str;
    /// Whether the sessions are the agent's, reached only through its
    /// session requests (the kernel keyring was refused).
    fn in_agent(&self) -> bool {
        false
    }
}

#[cfg(target_os = "linux")]
pub use kernel::KernelCache;

#[cfg(target_os = "linux")]
mod kernel {
    use linux_keyutils::{
        Key, KeyPermissionsBuilder, KeyRing, KeyRingIdentifier, KeySerialId, Permission,
    };
    use time::OffsetDateTime;
    use zeroize::Zeroizing;

    use super::{CacheError, SessionCache};

    /// Sessions as `user` keys in the kernel's per-user keyring, named
    /// `keyfob:<namespace>:<key>`. The namespace separates keyfob
    /// installations (config folders) of one user, e.g. in tests.
    pub struct KernelCache {
        ring: KeyRing,
        prefix: String,
    }

    fn err(op: &'static str) -> impl FnOnce(linux_keyutils::KeyError) -> CacheError {
        move |e| CacheError::Kernel {
            op,
            message: format!("{e:?}"),
        }
    }

    impl KernelCache {
        /// Opens the user keyring; fails where keyctl is unavailable.
        pub fn open(namespace: &str) -> Result<Self, CacheError> {
            let ring =
                KeyRing::from_special_id(KeyRingIdentifier::User, true).map_err(err("open"))?;
            Ok(Self {
                ring,
                prefix: format!("keyfob:{namespace}:"),
            })
        }

        fn name(&self, key: &str) -> String {
            format!("{}{key}", self.prefix)
        }
    }

    /// The serials linked in the user keyring, however many there are.
    ///
    /// `KeyRing::get_links` (linux-keyutils 0.2.5) hands the kernel its
    /// capacity in serials where the kernel expects bytes, so it sees only
    /// the first quarter of a keyring holding more than 256 keys (and reads
    /// uninitialised memory past it). The user keyring is shared by every
    /// program of the user, so it can hold that many: read the list
    /// ourselves, growing the buffer until the whole list fits.
    pub(super) fn user_keyring_links() -> Result<Vec<KeySerialId>, CacheError> {
        let ring = Key::from_id(KeySerialId::new(KeyRingIdentifier::User as i32));
        let mut buf = vec![0u8; 4096];
        loop {
            let len = ring.read(&mut buf).map_err(err("list"))?;
            if len <= buf.len() {
                buf.truncate(len);
                break;
            }
            // Keys may be added between two reads: leave some room.
            buf.resize(len + 1024, 0);
        }
        Ok(buf
            .chunks_exact(size_of::<i32>())
            .map(|c| KeySerialId::new(i32::from_ne_bytes([c[0], c[1], c[2], c[3]])))
            .collect())
    }

    impl SessionCache for KernelCache {
        fn get(&self, key: &str) -> Result<Option<Zeroizing<Vec<u8>>>, CacheError> {
            match self.ring.search(&self.name(key)) {
                Ok(k) => {
                    // A session is well under 4 KiB: read onto the stack and
                    // copy out what it holds (read_to_vec takes 64 KiB of
                    // heap, which the zeroizing allocator then wipes whole:
                    // a fifth of a warm call's instructions).
                    let mut buf = Zeroizing::new([0u8; 4096]);
                    match k.read(&mut *buf) {
                        Ok(len) if len <= buf.len() => {
                            Ok(Some(Zeroizing::new(buf[..len].to_vec())))
                        }
                        Ok(_) => Ok(k.read_to_vec().ok().map(Zeroizing::new)),
                        // Expired or revoked between search and read.
                        Err(_) => Ok(None),
                    }
                }
                Err(_) => Ok(None),
            }
        }

        fn put(&self, key: &str, value: &[u8], expires: OffsetDateTime) -> Result<(), CacheError> {
            let k = self
                .ring
                .add_key(&self.name(key), value)
                .map_err(err("store"))?;
            // Only this user (and processes possessing the key) may use it.
            let perms = KeyPermissionsBuilder::builder()
                .posessor(Permission::ALL)
                .user(Permission::ALL)
                .build();
            k.set_perms(perms).map_err(err("protect"))?;
            let secs = (expires - OffsetDateTime::now_utc()).whole_seconds().max(1);
            k.set_timeout(secs as usize)
                .map_err(err("set the expiry of"))?;
            Ok(())
        }

        fn delete(&self, key: &str) -> Result<(), CacheError> {
            if let Ok(k) = self.ring.search(&self.name(key)) {
                k.invalidate().map_err(err("delete"))?;
            }
            Ok(())
        }

        fn keys(&self) -> Result<Vec<String>, CacheError> {
            let mut keys = Vec::new();
            for id in user_keyring_links()? {
                if let Ok(meta) = Key::from_id(id).metadata()
                    && let Some(rest) = meta.get_description().strip_prefix(&self.prefix)
                {
                    keys.push(rest.to_owned());
                }
            }
            Ok(keys)
        }

        fn describe(&self) -> &'static str {
            "kernel keyring"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `lock --all` must find every session of its namespace even when the
    /// user keyring (shared by all of the user's programs, and by parallel
    /// test runs) holds hundreds of keys: CI once saw a session survive
    /// `lock --all` because only the first 256 links were listed.
    #[cfg(target_os = "linux")]
    #[test]
    fn kernel_cache_lists_every_key_of_a_crowded_keyring() {
        let Ok(cache) = KernelCache::open(&format!("crowded-{}", std::process::id())) else {
            return; // no kernel keyring here (e.g. a seccomp sandbox)
        };
        let exp = OffsetDateTime::now_utc() + time::Duration::minutes(2);
        let mut added = Vec::new();
        for i in 0..300 {
            let key = format!("k{i}");
            // A non-root user's quota (200 keys) may stop us early; the
            // links listed must still match what was added.
            if cache.put(&key, b"x", exp).is_err() {
                break;
            }
            added.push(key);
        }
        let mut listed = cache.keys().unwrap();
        listed.sort();
        added.sort();
        assert_eq!(listed, added);
        for key in &added {
            cache.delete(key).unwrap();
        }
        assert!(cache.keys().unwrap().is_empty());
    }

    /// A value is read back whole and exact, whether it fits the first
    /// read's buffer (a session) or not (past 4 KiB).
    #[cfg(target_os = "linux")]
    #[test]
    fn kernel_cache_reads_back_small_and_large_values_exactly() {
        let Ok(cache) = KernelCache::open(&format!("sizes-{}", std::process::id())) else {
            return; // no kernel keyring here (e.g. a seccomp sandbox)
        };
        let exp = OffsetDateTime::now_utc() + time::Duration::minutes(2);
        for size in [1, 620, 4095, 4096, 4097, 20_000] {
            let value: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            let key = format!("v{size}");
            cache.put(&key, &value, exp).unwrap();
            assert_eq!(
                cache.get(&key).unwrap().as_deref(),
                Some(&value),
                "{size} bytes"
            );
            cache.delete(&key).unwrap();
        }
        assert_eq!(cache.get("v1").unwrap(), None);
    }
}
