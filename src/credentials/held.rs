//! The Identity Center sign-ins a process holds unsealed (the agent): the
//! tokens and the key that seals them again, by identity name, wiped on
//! `lock --all` and a screen lock (see [`super::sso`]).

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use crate::config::sso::{SsoIdentity, SsoSecrets};
use crate::vault::SsoKey;

/// An identity's unsealed sign-in.
pub(super) struct Held {
    pub(super) identity: SsoIdentity,
    pub(super) key: SsoKey,
    pub(super) secrets: SsoSecrets,
}

/// The sign-ins unsealed in this process, by identity name. Owned by the
/// one that owns the process's sessions (the agent's keyfob, shared with
/// its siblings), never a process-wide static.
#[derive(Default)]
pub struct HeldSignIns(Mutex<BTreeMap<String, Held>>);

impl HeldSignIns {
    pub(super) fn map(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Held>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wipes every sign-in held here.
    pub fn forget_all(&self) {
        self.map().clear();
    }

    /// Wipes the one identity's sign-in held here; whether one was held.
    pub fn forget(&self, identity: &str) -> bool {
        self.map().remove(identity).is_some()
    }

    /// Whether the identity's sign-in is held here (no PIN needed).
    pub fn holds(&self, identity: &str) -> bool {
        self.map().contains_key(identity)
    }
}
