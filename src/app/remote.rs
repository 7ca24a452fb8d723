//! Flows that open a long-term key or an Identity Center token run where
//! secrets are unsealed: in the agent. A face outside it (the CLI) asks the agent to run the flow; the
//! PIN it read goes *to* the agent as the answer to the agent's ask, and
//! only the flow's result (access keys, a rotation report, an account ID:
//! nothing secret) comes back. So the CLI process never holds a long-term
//! key, and a command works wherever the agent can reach the keychain,
//! whether or not the CLI can.
//!
//! Each flow function checks [`Keyfob::is_agent`] first: in the agent (or
//! the desktop app, which is the agent) it runs itself; elsewhere it sends
//! a [`Flow`] and returns what the agent's run of the same function
//! returned ([`run`]).

use serde::de::DeserializeOwned;

use super::{AppError, Keyfob};
use crate::credentials::Prompter;
pub use crate::model::flow::Flow;
use crate::model::secret::Pin;
use crate::platform::prompt::FixedPrompter;

/// Runs `flow` in the agent, answering its PIN ask with `pin`.
pub(super) fn in_agent<T: DeserializeOwned>(
    kf: &Keyfob,
    flow: Flow,
    pin: Option<&Pin>,
) -> Result<T, AppError> {
    let prompter = FixedPrompter {
        pin: pin.cloned(),
        mfa_code: None,
    };
    in_agent_asking(kf, flow, Some(&prompter))
}

/// Runs `flow` in the agent, answering its asks with `prompter`.
pub(super) fn in_agent_asking<T: DeserializeOwned>(
    kf: &Keyfob,
    flow: Flow,
    prompter: Option<&dyn Prompter>,
) -> Result<T, AppError> {
    let result = kf.agent_link().flow(flow, prompter)?;
    serde_json::from_str(&result).map_err(|e| {
        AppError::Agent(crate::link::error::AgentError::Replied {
            kind: crate::link::protocol::ErrorKind::Protocol,
            message: format!("the agent's answer is not what this keyfob expects: {e}"),
        })
    })
}
