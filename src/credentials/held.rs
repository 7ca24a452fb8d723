//! The sign-ins a process holds unsealed (the agent): an Identity Center
//! identity's tokens, or an AWS sign-in's refresh token and DPoP key, with
//! the key that seals them again, by identity name, wiped on `lock --all`
//! and a screen lock (see [`super::sso`], [`super::login`]).

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use crate::config::login::LoginSecrets;
use crate::config::sso::{SsoIdentity, SsoSecrets};
use crate::vault::SsoKey;

/// An identity's unsealed sign-in.
pub(super) struct Held {
    pub(super) identity: SsoIdentity,
    pub(super) key: SsoKey,
    pub(super) secrets: SsoSecrets,
}

/// An AWS sign-in's unsealed secrets.
pub(super) struct HeldLogin {
    pub(super) identity: SsoIdentity,
    pub(super) key: SsoKey,
    pub(super) secrets: LoginSecrets,
}

/// The sign-ins unsealed in this process, by identity name. Owned by the
/// one that owns the process's sessions (the agent's keyfob, shared with
/// its siblings), never a process-wide static.
#[derive(Default)]
pub struct HeldSignIns {
    sso: Mutex<BTreeMap<String, Held>>,
    login: Mutex<BTreeMap<String, HeldLogin>>,
}

impl HeldSignIns {
    pub(super) fn map(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Held>> {
        self.sso.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn logins(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, HeldLogin>> {
        self.login.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wipes every sign-in held here.
    pub fn forget_all(&self) {
        self.map().clear();
        self.logins().clear();
    }

    /// Wipes the one identity's sign-in held here; whether one was held.
    pub fn forget(&self, identity: &str) -> bool {
        let sso = self.map().remove(identity).is_some();
        self.logins().remove(identity).is_some() || sso
    }

    /// Whether the identity's sign-in is held here (no PIN needed).
    pub fn holds(&self, identity: &str) -> bool {
        self.map().contains_key(identity) || self.logins().contains_key(identity)
    }
}
