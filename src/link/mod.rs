//! The way to the agent, for every process that is not the agent: the
//! versioned, size-capped JSON-lines wire format ([`protocol`]), who is
//! at the other end of the socket ([`peer`]) and which program is behind
//! it ([`requester`]), connecting or starting the
//! agent ([`client`]), the errors of both sides ([`error`]), and where
//! sessions are cached ([`cache`]: the kernel keyring, else the agent).

pub mod agent_cache;
pub mod cache;
pub mod client;
pub mod error;
pub mod memory;
pub mod peer;
pub mod procfs;
pub mod protocol;
pub mod requester;
