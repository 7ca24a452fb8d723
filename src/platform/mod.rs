//! The machine keyfob runs on: where its files are and how they are
//! written (one lock, one atomic write), sealing under a PIN, the secret
//! stores, another tool's encrypted files (jwe), the terminal, and the
//! web browser.

pub mod bound;
pub mod browser;
pub mod crypto;
pub mod cryptojs;
pub mod fsutil;
pub mod jwe;
pub mod loopback;
pub mod paths;
pub mod prompt;
pub mod store;
pub mod tpm;
pub mod tty;
