//! The OS keychain: the Secret Service (gnome-keyring, KeePassXC) over
//! zbus, through the `secret-service` crate. Every entry is an item in the
//! default collection with the attributes `service = keyfob` and
//! `username = <entry key>` and the label `keyfob: <entry key>` (the
//! layout keyring-core's Secret Service store wrote, so items written by
//! earlier keyfob versions are found); attributes and labels carry only
//! those names, never a secret.
//!
//! Why not keyring-core's store: it opens its session as the connection's
//! very first call to the daemon, and gnome-keyring (42 to 50 at least)
//! can dispatch that call before it has registered the new client, then
//! aborts (`gkd_secret_service_get_pkcs11_session: assertion 'client'
//! failed`, then a fatal `g_variant_new`; gnome-keyring issues 183, 190,
//! 194). Parallel keyfob processes, the agent beside a CLI, hit it about
//! once per test-suite run. Here the connection first asks the daemon a
//! harmless question and waits for the answer, so the daemon knows the
//! client before the session is opened.

use std::collections::HashMap;
use std::sync::Mutex;

use secret_service::blocking::SecretService;
use secret_service::{EncryptionType, Error};

use super::secret_store::{SecretStore, StoreError, check_key};
use crate::model::secret::SecretBytes;
use crate::platform::paths::Paths;

const SERVICE: &str = "keyfob";

/// How the secret is labelled for the daemon (it is opaque bytes).
const CONTENT_TYPE: &str = "application/octet-stream";

pub struct KeychainStore {
    ss: Mutex<SecretService<'static>>,
}

impl KeychainStore {
    /// Connects to the platform keychain: opens a session with the Secret
    /// Service, and fails fast when no daemon owns `org.freedesktop.secrets`.
    pub fn connect(paths: &Paths) -> Result<Self, StoreError> {
        let unavailable = |message: String| StoreError::KeychainUnavailable {
            message,
            config: paths.config_file(),
        };
        let ss = service().map_err(unavailable)?;
        Ok(Self { ss: Mutex::new(ss) })
    }

    fn session(&self) -> std::sync::MutexGuard<'_, SecretService<'static>> {
        self.ss.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A session with the Secret Service, opened the safe way (see the module
/// docs); the error as the daemon or the bus said it.
pub fn service() -> Result<SecretService<'static>, String> {
    let conn = zbus::blocking::Connection::session().map_err(|e| e.to_string())?;
    // The daemon's first call from this connection: see the module docs.
    conn.call_method(
        Some("org.freedesktop.secrets"),
        "/org/freedesktop/secrets",
        Some("org.freedesktop.DBus.Properties"),
        "Get",
        &("org.freedesktop.Secret.Service", "Collections"),
    )
    .map_err(|e| e.to_string())?;
    SecretService::connect_with_existing(EncryptionType::Dh, conn).map_err(|e| e.to_string())
}

fn attributes(key: &str) -> HashMap<&str, &str> {
    HashMap::from([("service", SERVICE), ("username", key)])
}

fn map_err(op: &'static str, key: &str, err: Error) -> StoreError {
    match err {
        Error::Locked | Error::Prompt | Error::PromptDisconnected => StoreError::KeychainLocked,
        // Never format what could carry item bytes.
        Error::Crypto(_) | Error::Zvariant(_) => StoreError::Keychain {
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

/// The one item of `key` (unlocked), `None` if there is none.
fn find<'a>(
    ss: &'a SecretService<'static>,
    op: &'static str,
    key: &str,
) -> Result<Option<secret_service::blocking::Item<'a>>, StoreError> {
    let found = ss
        .search_items(attributes(key))
        .map_err(|e| map_err(op, key, e))?;
    if !found.locked.is_empty() {
        let locked: Vec<_> = found.locked.iter().collect();
        ss.unlock_all(&locked).map_err(|e| map_err(op, key, e))?;
    }
    let mut items = found.unlocked.into_iter().chain(found.locked);
    match (items.next(), items.next()) {
        (None, _) => Ok(None),
        (Some(item), None) => Ok(Some(item)),
        (Some(_), Some(_)) => Err(StoreError::Keychain {
            op,
            key: key.into(),
            message: "more than one keychain item has this name: remove the extra ones".into(),
        }),
    }
}

impl SecretStore for KeychainStore {
    fn describe(&self) -> String {
        "OS keychain (Secret Service)".into()
    }

    fn get(&self, key: &str) -> Result<Option<SecretBytes>, StoreError> {
        check_key(key)?;
        let ss = self.session();
        match find(&ss, "read", key)? {
            Some(item) => item
                .get_secret()
                .map(|bytes| Some(SecretBytes::new(bytes)))
                .map_err(|e| map_err("read", key, e)),
            None => Ok(None),
        }
    }

    fn put(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        check_key(key)?;
        let ss = self.session();
        if let Some(item) = find(&ss, "write", key)? {
            return item
                .set_secret(value, CONTENT_TYPE)
                .map_err(|e| map_err("write", key, e));
        }
        let collection = ss
            .get_default_collection()
            .map_err(|e| map_err("write", key, e))?;
        if collection
            .is_locked()
            .map_err(|e| map_err("write", key, e))?
        {
            collection.unlock().map_err(|e| map_err("write", key, e))?;
        }
        collection
            .create_item(
                &format!("keyfob: {key}"),
                attributes(key),
                value,
                true,
                CONTENT_TYPE,
            )
            .map(drop)
            .map_err(|e| map_err("write", key, e))
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        check_key(key)?;
        let ss = self.session();
        match find(&ss, "delete", key)? {
            Some(item) => item.delete().map_err(|e| map_err("delete", key, e)),
            None => Ok(()),
        }
    }
}
