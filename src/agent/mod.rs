//! The agent: the one process per user that owns what is unlocked. It
//! makes sessions (the PIN and MFA code come *to* it; it unseals, calls
//! STS and caches) and hands out session credentials only — never a PIN
//! or a long-term key. It is the desktop app while the app runs, else the
//! headless `keyfob agent`, which the CLI starts on demand and which exits
//! once it has held no session for a while.
//!
//! - [`protocol`]: the versioned, size-capped JSON-lines wire format.
//! - `listen`: the bounded accept loop (idle connections cost no thread,
//!   a whole-line deadline, at most a fixed number of requests at once);
//!   `warm`: cache hits answered on its own thread.
//! - `access`: a session request's access-log entry, sent after the reply.
//! - `conversation`: one request's asks, to the client or the app.
//! - [`server`]: the socket, the one-agent-per-user lock, the requests,
//!   the requester found from the peer's pid, the process hardening.
//! - [`peer`]: who is at the other end of the socket, in the kernel's
//!   words (SO_PEERCRED, a pidfd, `/proc` read while it is alive), and
//!   which binaries are keyfob's.
//! - [`error`]: the errors of both sides (below the core, which wraps
//!   them; the core never names the server).
//! - [`client`]: connecting (or starting the agent), the session request,
//!   and [`client::AgentCache`] for processes that are not the agent.
//! - [`memory`]: sessions in the agent's memory where the kernel keyring
//!   is refused: locked in RAM where allowed, wiped, never a file.
//! - [`lock_on`]: wiping every session when the screen locks or the
//!   machine goes to sleep.

mod access;
mod approve;
mod conversation;
pub mod flows;
pub mod hardening;
mod listen;
pub mod lock_on;
pub mod programs;
mod prompts;
mod reply;
mod requests;
pub mod server;
pub mod state;
pub mod trim;
mod warm;
