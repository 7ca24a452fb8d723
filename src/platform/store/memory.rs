//! An in-memory store for unit tests. Not compiled into the product.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use zeroize::Zeroizing;

use super::secret_store::{SecretStore, StoreError, check_key};
use crate::model::secret::SecretBytes;

/// Clones share their entries, so a test can keep a handle on the store it
/// gave away.
#[derive(Clone, Default)]
pub struct MemoryStore {
    entries: Arc<Mutex<BTreeMap<String, Zeroizing<Vec<u8>>>>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// The keys present, for tests that check what was (not) written.
    pub fn keys(&self) -> Vec<String> {
        self.entries().keys().cloned().collect()
    }

    /// A snapshot of every entry, for tests that check nothing changed.
    pub fn snapshot(&self) -> Vec<(String, Vec<u8>)> {
        self.entries()
            .iter()
            .map(|(k, v)| (k.clone(), v.to_vec()))
            .collect()
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Zeroizing<Vec<u8>>>> {
        // A poisoned lock means a test already panicked; keep going.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl SecretStore for MemoryStore {
    fn describe(&self) -> String {
        "in-memory store".into()
    }

    fn get(&self, key: &str) -> Result<Option<SecretBytes>, StoreError> {
        check_key(key)?;
        Ok(self
            .entries()
            .get(key)
            .map(|v| SecretBytes::new(v.to_vec())))
    }

    fn put(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        check_key(key)?;
        self.entries()
            .insert(key.into(), Zeroizing::new(value.to_vec()));
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        check_key(key)?;
        self.entries().remove(key);
        Ok(())
    }
}
