//! Values and their rules, with no I/O: what every layer above shares.

pub mod approval;
pub mod ask;
pub mod duration;
pub mod endpoints;
pub mod error_kind;
pub mod field;
pub mod flow;
pub mod identity;
pub mod limits;
pub mod secret;
pub mod session;
