//! The settings screen (screen `settings`): what is set and in force, and
//! the form.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub enum StoreChoice {
    Auto,
    Keychain,
    File,
}

impl From<keyfob::platform::store::Backend> for StoreChoice {
    fn from(b: keyfob::platform::store::Backend) -> Self {
        use keyfob::platform::store::Backend;
        match b {
            Backend::Auto => StoreChoice::Auto,
            Backend::Keychain => StoreChoice::Keychain,
            Backend::File => StoreChoice::File,
        }
    }
}

impl From<StoreChoice> for keyfob::platform::store::Backend {
    fn from(s: StoreChoice) -> Self {
        use keyfob::platform::store::Backend;
        match s {
            StoreChoice::Auto => Backend::Auto,
            StoreChoice::Keychain => Backend::Keychain,
            StoreChoice::File => Backend::File,
        }
    }
}

#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct SettingsView {
    /// The `store` setting in config.toml (takes effect at the next start).
    pub store: StoreChoice,
    /// The store this app opened.
    pub store_in_use: String,
    /// Set when keyfob fell back to the encrypted-file store.
    pub notice: Option<String>,
    pub start_at_login: bool,
    /// The default durations that apply now (the setting, else keyfob's
    /// own), written as the form takes them (`12h`, `1h30m`).
    pub session_duration: String,
    pub role_duration: String,
    pub config_file: String,
    /// Why the prompt service is not running, if it is not.
    pub prompt_service: Option<String>,
    /// The quick switcher's global shortcut (`Ctrl+Alt+K`); empty for
    /// none.
    pub global_shortcut: String,
    /// Why that shortcut is not active (another app holds it …), if not.
    pub shortcut_problem: Option<String>,
    /// The TPM in one line (`keyfob doctor` says more).
    pub tpm: String,
    /// What is wrong with it: the empty lockout authorization, a lockout,
    /// no permission.
    pub tpm_problem: Option<String>,
}

#[derive(Clone, Debug, Deserialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct SettingsForm {
    pub store: StoreChoice,
    pub start_at_login: bool,
    /// Like `12h` or `45m`; empty for keyfob's default.
    pub session_duration: String,
    pub role_duration: String,
    /// Like `Ctrl+Alt+K`; empty for no global shortcut.
    pub global_shortcut: String,
}
