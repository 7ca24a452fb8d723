//! Secret stores: where sealed identities, the identity index, PIN attempt
//! counters and (later) sessions live.
//!
//! One small trait, [`SecretStore`], over three backends:
//! - [`keychain::KeychainStore`]: the OS keychain through `secret-service`
//!   (Secret Service on Linux). The default.
//! - [`file::FileStore`]: one file per entry under `$XDG_DATA_HOME/keyfob/`,
//!   for machines where no Secret Service answers.
//! - [`memory::MemoryStore`]: unit tests only.
//!
//! A store moves opaque bytes. It is the vault's job never to hand a store a
//! plaintext secret: long-term keys arrive here sealed under the PIN
//! ([`crate::platform::crypto`]), and everything else the vault writes is not secret.
//! Keys are short ASCII names (`[A-Za-z0-9._-]`), never secrets.

pub mod file;
pub mod foreign;
pub mod keychain;
#[cfg(any(test, feature = "memory-store"))]
pub mod memory;
mod secret_store;

pub use secret_store::{Backend, SecretStore, StoreError};

use crate::platform::paths::Paths;

/// The store chosen, and the notice to print when keyfob fell back.
pub struct Opened {
    pub store: Box<dyn SecretStore>,
    pub notice: Option<String>,
}

/// Opens the store the setting asks for. With [`Backend::Auto`], a keychain
/// that does not answer makes keyfob fall back to the file store and say so
/// in one line.
pub fn open(backend: Backend, paths: &Paths) -> Result<Opened, StoreError> {
    let file = || file::FileStore::new(paths.data_dir.join("store"));
    match backend {
        Backend::File => Ok(Opened {
            store: Box::new(file()),
            notice: None,
        }),
        Backend::Keychain => Ok(Opened {
            store: Box::new(keychain::KeychainStore::connect(paths)?),
            notice: None,
        }),
        Backend::Auto => match keychain::KeychainStore::connect(paths) {
            Ok(store) => Ok(Opened {
                store: Box::new(store),
                notice: None,
            }),
            Err(StoreError::KeychainUnavailable { .. }) => {
                let store = file();
                let notice = format!(
                    "keyfob: no Secret Service answered; using the encrypted-file store in {} (set store = \"keychain\" in {} to require the keychain)",
                    store.dir().display(),
                    paths.config_file().display()
                );
                Ok(Opened {
                    store: Box::new(store),
                    notice: Some(notice),
                })
            }
            Err(other) => Err(other),
        },
    }
}
