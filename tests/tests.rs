//! keyfob's integration tests: one binary, one module per area. Each test
//! drives the real `keyfob` binary against a real Secret Service and the
//! AWS emulator; `util` starts them.

mod agent;
mod approvals;
mod badinput;
mod chains;
mod concurrency;
mod console;
mod container;
mod coredump;
mod faults;
mod identity;
mod import_sources;
mod keys;
mod lock_on;
mod login_session;
mod prompt;
mod properties;
mod sessions;
mod sso;
mod sso_browser;
mod thirdparty;
mod tpm;
mod trust;
mod util;
