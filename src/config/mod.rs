//! keyfob's configuration: profiles and their rules (config.toml and the
//! AWS config file's keyfob lines), settings, Identity Center sign-ins.

pub mod login;
pub mod profile;
pub mod scan;
pub mod settings;
pub mod sso;
