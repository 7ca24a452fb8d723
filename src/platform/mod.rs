//! The machine keyfob runs on: where its files are and how they are
//! written (one lock, one atomic write), sealing under a PIN, the secret
//! stores, and the terminal.

pub mod bound;
pub mod crypto;
pub mod fsutil;
pub mod jwe;
pub mod paths;
pub mod prompt;
pub mod store;
pub mod tpm;
pub mod tty;
