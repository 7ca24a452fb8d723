//! The OS keychain through the `keyring-core` family: the Secret Service
//! (zbus) on Linux. Every entry is an item with service `keyfob` and the
//! entry key as user name; item attributes and labels carry only those
//! names, never a secret.

use std::collections::HashMap;
use std::sync::Arc;

use keyring_core::api::CredentialStoreApi;
use keyring_core::{Entry, Error};

use super::secret_store::{SecretStore, StoreError, check_key};
use crate::model::secret::SecretBytes;
use crate::platform::paths::Paths;

const SERVICE: &str = "keyfob";

pub struct KeychainStore {
    store: Arc<dyn CredentialStoreApi + Send + Sync>,
}

impl KeychainStore {
    /// Connects to the platform keychain. On Linux this opens a session with
    /// the Secret Service and fails fast when no daemon owns
    /// `org.freedesktop.secrets`.
    pub fn connect(paths: &Paths) -> Result<Self, StoreError> {
        let store = zbus_secret_service_keyring_store::Store::new().map_err(|e| {
            StoreError::KeychainUnavailable {
                message: e.to_string(),
                config: paths.config_file(),
            }
        })?;
        Ok(Self { store })
    }

    fn entry(&self, key: &str) -> Result<Entry, StoreError> {
        check_key(key)?;
        let label = format!("keyfob: {key}");
        let mods = HashMap::from([("label", label.as_str())]);
        self.store
            .build(SERVICE, key, Some(&mods))
            .map_err(|e| map_err("open", key, e))
    }
}

fn map_err(op: &'static str, key: &str, err: Error) -> StoreError {
    match err {
        Error::NoStorageAccess(_) => StoreError::KeychainLocked,
        // Never format the payload of these two: they carry item bytes.
        Error::BadEncoding(_) | Error::BadDataFormat(..) => StoreError::Keychain {
            op,
            key: key.into(),
            message: "the item's data is not in the expected format".into(),
        },
        other => StoreError::Keychain {
            op,
            key: key.into(),
            message: other.to_string(),
        },
    }
}

impl SecretStore for KeychainStore {
    fn describe(&self) -> String {
        "OS keychain (Secret Service)".into()
    }

    fn get(&self, key: &str) -> Result<Option<SecretBytes>, StoreError> {
        match self.entry(key)?.get_secret() {
            Ok(bytes) => Ok(Some(SecretBytes::new(bytes))),
            Err(Error::NoEntry) => Ok(None),
            Err(e) => Err(map_err("read", key, e)),
        }
    }

    fn put(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.entry(key)?
            .set_secret(value)
            .map_err(|e| map_err("write", key, e))
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        match self.entry(key)?.delete_credential() {
            Ok(()) | Err(Error::NoEntry) => Ok(()),
            Err(e) => Err(map_err("delete", key, e)),
        }
    }
}
