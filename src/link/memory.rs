//! The agent's session cache where the kernel keyring is refused (as in
//! Docker's default seccomp profile) or absent: the agent's own memory.
//! Each entry's buffer is locked in RAM where the OS allows (`mlock`, best
//! effort: an unprivileged user may have a small RLIMIT_MEMLOCK), wiped
//! when it is dropped, replaced or expires, and never written anywhere.

use std::collections::BTreeMap;
use std::sync::Mutex;

use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::link::cache::{CacheError, SessionCache};

/// Bytes locked in RAM while they live, wiped before they are freed.
struct Locked {
    bytes: Zeroizing<Vec<u8>>,
    locked: bool,
}

impl Locked {
    fn new(value: &[u8]) -> Locked {
        let bytes = Zeroizing::new(value.to_vec());
        // SAFETY: the range is the Vec's own live allocation, which is not
        // moved or resized while `Locked` owns it (it is never mutated
        // until dropped).
        let locked = !bytes.is_empty()
            && unsafe { rustix::mm::mlock(bytes.as_ptr() as *mut _, bytes.len()) }.is_ok();
        Locked { bytes, locked }
    }
}

impl Drop for Locked {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.bytes.zeroize();
        if self.locked {
            // SAFETY: the same live range that was locked in `new`.
            let _ = unsafe { rustix::mm::munlock(self.bytes.as_ptr() as *mut _, self.bytes.len()) };
        }
    }
}

struct Entry {
    value: Locked,
    expires: OffsetDateTime,
}

/// Sessions in this process's memory.
#[derive(Default)]
pub struct MemoryCache {
    entries: Mutex<BTreeMap<String, Entry>>,
}

impl MemoryCache {
    fn entries(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Entry>> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let now = OffsetDateTime::now_utc();
        entries.retain(|_, e| e.expires > now);
        entries
    }

    /// How many unexpired sessions are held.
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every entry, for handing over to the app.
    pub fn export(&self) -> Vec<(String, Zeroizing<Vec<u8>>, OffsetDateTime)> {
        self.entries()
            .iter()
            .map(|(k, e)| (k.clone(), Zeroizing::new(e.value.bytes.to_vec()), e.expires))
            .collect()
    }
}

impl SessionCache for MemoryCache {
    fn get(&self, key: &str) -> Result<Option<Zeroizing<Vec<u8>>>, CacheError> {
        Ok(self
            .entries()
            .get(key)
            .map(|e| Zeroizing::new(e.value.bytes.to_vec())))
    }

    fn put(&self, key: &str, value: &[u8], expires: OffsetDateTime) -> Result<(), CacheError> {
        self.entries().insert(
            key.to_owned(),
            Entry {
                value: Locked::new(value),
                expires,
            },
        );
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<(), CacheError> {
        self.entries().remove(key);
        Ok(())
    }

    fn keys(&self) -> Result<Vec<String>, CacheError> {
        Ok(self.entries().keys().cloned().collect())
    }

    fn describe(&self) -> &'static str {
        "the keyfob agent's memory"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_are_removed() {
        let cache = MemoryCache::default();
        let later = OffsetDateTime::now_utc() + time::Duration::hours(1);
        let past = OffsetDateTime::now_utc() - time::Duration::seconds(1);
        cache.put("a", b"one", later).unwrap();
        cache.put("b", b"two", past).unwrap();
        assert_eq!(cache.get("a").unwrap().unwrap().as_slice(), b"one");
        assert_eq!(cache.get("b").unwrap(), None);
        assert_eq!(cache.keys().unwrap(), vec!["a".to_owned()]);
        cache.delete("a").unwrap();
        assert!(cache.is_empty());
    }
}
