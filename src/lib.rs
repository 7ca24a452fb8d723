//! keyfob: a credential vault and AWS identity switcher.
//!
//! The library holds everything the `keyfob` command and the desktop app
//! share, in layers that only use the layers below them (lowest first;
//! docs/ARCHITECTURE.md draws them, `scripts/check_layout` enforces it):
//!
//! | layer | what |
//! |---|---|
//! | [`model`] | values and their rules: secrets, fields, identities, endpoints, sessions, limits |
//! | [`platform`] | the machine: files and locks, paths, sealing, secret stores, the terminal |
//! | [`aws`] | every call to AWS, and the AWS config file |
//! | [`config`] | keyfob's configuration: profiles, settings, Identity Center sign-ins |
//! | [`link`] | the agent's wire format and its client, and the session caches |
//! | [`vault`] | identities sealed under their PINs: the one place a long-term key is opened |
//! | [`credentials`] | a profile's credentials: unseal, STS, cache |
//! | [`app`] | every flow, once, for both faces |
//! | [`agent`], [`container`] | the servers: the agent and the container credentials endpoint |
//!
//! It knows nothing of Tauri or of the command line's argument syntax.

pub mod model;
pub mod platform;

pub mod aws;
pub mod config;
pub mod link;
pub mod vault;

pub mod credentials;

pub mod app;

pub mod agent;
pub mod container;
