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
use zeroize::Zeroizing;

use super::{AppError, Keyfob};
use crate::credentials::Prompter;
use crate::link::client::Answerer;
use crate::link::protocol::{Answer, AskKind};
pub use crate::model::flow::Flow;
use crate::model::secret::Pin;
use crate::platform::bound::RecoveryCode;
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
    parse(&result)
}

/// A flow's result as this keyfob expects it.
fn parse<T: DeserializeOwned>(result: &str) -> Result<T, AppError> {
    serde_json::from_str(result).map_err(|e| {
        AppError::Agent(crate::link::error::AgentError::Replied {
            kind: crate::link::protocol::ErrorKind::Protocol,
            message: format!("the agent's answer is not what this keyfob expects: {e}"),
        })
    })
}

/// The secrets a face read up front for a flow that asks more than one
/// (`change-pin`, `reseal`): each goes to the agent only as the answer to
/// the ask that wants it, and only to a peer [`crate::link::client`]
/// verified as keyfob's agent.
#[derive(Default)]
pub(super) struct Given<'a> {
    /// The identity's PIN (a `pin` ask).
    pub pin: Option<&'a Pin>,
    /// The PIN to seal under (a `new_pin` ask).
    pub new_pin: Option<&'a Pin>,
    /// The recovery code that opens the key (a `recovery_code` ask).
    pub code: Option<&'a RecoveryCode>,
    /// The recovery code to seal with (a `new_recovery_code` ask).
    pub new_code: Option<&'a RecoveryCode>,
}

impl Answerer for Given<'_> {
    fn answer(&self, kind: AskKind, _: &crate::credentials::Ask<'_>, _: Option<&str>) -> Answer {
        let value = match kind {
            AskKind::Pin => self.pin.map(|p| Zeroizing::new(p.expose().to_owned())),
            AskKind::NewPin => self.new_pin.map(|p| Zeroizing::new(p.expose().to_owned())),
            AskKind::RecoveryCode => self.code.map(RecoveryCode::display),
            AskKind::NewRecoveryCode => self.new_code.map(RecoveryCode::display),
            _ => None,
        };
        match value {
            Some(value) => Answer::Pin { value },
            None => Answer::Unavailable {
                message: "nothing was given for it".into(),
            },
        }
    }
}

/// Runs `flow` in the agent, answering its asks with `given`.
pub(super) fn in_agent_given<T: DeserializeOwned>(
    kf: &Keyfob,
    flow: Flow,
    given: &Given<'_>,
) -> Result<T, AppError> {
    let result = kf.agent_link().flow_answered(flow, given, true, false)?;
    parse(&result)
}
