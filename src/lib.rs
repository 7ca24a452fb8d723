//! keyfob: a credential vault and AWS identity switcher.
//!
//! The library holds everything the `keyfob` binary and the desktop app
//! share: secret types ([`secret`]), sealing ([`crypto`]), the stores
//! ([`store`]), identities and their field rules ([`identity`]), the vault
//! that ties them together ([`vault`]), AWS calls ([`aws`]), terminal
//! prompts ([`prompt`]) and settings ([`settings`]). It knows nothing of
//! Tauri or of the command line's argument syntax.

pub mod agent;
pub mod app;
pub mod aws;
pub mod config_scan;
pub mod console;
pub mod container;
pub mod crypto;
pub mod duration;
pub mod endpoints;
pub mod field;
pub mod flow;
pub mod fsutil;
pub mod identity;
pub mod keys;
pub mod limits;
pub mod paths;
pub mod profile;
pub mod prompt;
pub mod provider;
pub mod reminders;
pub mod rotation;
pub mod secret;
pub mod session;
pub mod settings;
pub mod sso;
pub mod store;
pub mod thirdparty;
pub mod vault;
