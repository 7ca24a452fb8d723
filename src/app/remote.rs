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

use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use super::{AppError, Keyfob};
use crate::credentials::{Ask, Prompter};
pub use crate::model::flow::Flow;
use crate::model::secret::Pin;
use crate::platform::prompt::FixedPrompter;

/// What the agent asks of the client while it runs a flow: the PIN (as
/// [`Prompter`]), and for `import` a yes or no, a new identity's PIN, and
/// lines of progress to show.
pub trait FlowHost: Prompter {
    /// Whether the person says yes to `question`.
    fn confirm(&self, question: &str) -> bool;
    /// A new identity's PIN (entered twice where a person types it).
    fn new_pin(&self, identity: &str) -> Result<Pin, crate::model::ask::PromptError>;
    /// Shows a line of progress.
    fn say(&self, line: &str);
}

/// The import's host in the agent: its questions and PINs go to the
/// client that asked for the import.
struct RemoteImport<'a>(&'a dyn FlowHost);

impl super::Confirm for RemoteImport<'_> {
    fn confirm(&self, question: &super::Question<'_>) -> Result<(), AppError> {
        let text = question.text();
        if self.0.confirm(&text) {
            Ok(())
        } else {
            Err(AppError::NotConfirmed {
                question: text,
                hint: "pass --yes".into(),
            })
        }
    }
}

impl super::ImportHost for RemoteImport<'_> {
    fn pin(&self, identity: &crate::model::identity::IdentityName) -> Result<Pin, AppError> {
        Ok(self.0.new_pin(identity.as_str())?)
    }

    fn say(&self, line: &str) {
        self.0.say(line);
    }
}

/// The client's side of an import run in the agent: its questions and
/// PINs answered by the face's own import host, its lines shown there.
pub struct ImportAnswers<'a>(pub &'a dyn super::ImportHost);

impl crate::link::client::Answerer for ImportAnswers<'_> {
    fn answer(
        &self,
        kind: crate::link::protocol::AskKind,
        ask: &Ask<'_>,
        question: Option<&str>,
    ) -> crate::link::protocol::Answer {
        use crate::link::protocol::{Answer, AskKind};
        match kind {
            AskKind::Confirm => {
                let text = question.unwrap_or_default();
                match self.0.confirm(&super::Question::Remote { text }) {
                    Ok(()) => Answer::Yes,
                    Err(_) => Answer::Refused,
                }
            }
            AskKind::NewPin => match crate::model::identity::IdentityName::parse(ask.identity)
                .map_err(AppError::from)
                .and_then(|name| self.0.pin(&name))
            {
                Ok(pin) => Answer::Pin {
                    value: Zeroizing::new(pin.expose().to_owned()),
                },
                Err(e) => Answer::Unavailable {
                    message: e.to_string(),
                },
            },
            _ => Answer::Unavailable {
                message: "import asks no other PIN".into(),
            },
        }
    }

    fn say(&self, line: &str) {
        self.0.say(line);
    }
}

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

/// Which kind of identity a flow needs.
enum Kind {
    Keys,
    IdentityCenter,
}

/// The PIN of identity `identity` (which must exist, as `kind`: asked
/// for nothing otherwise), asked of whoever asked for the flow.
fn pin_of(
    kf: &Keyfob,
    prompter: &dyn Prompter,
    identity: &str,
    kind: Kind,
) -> Result<Pin, AppError> {
    let vault = kf.vault()?;
    match kind {
        Kind::Keys => drop(vault.get(identity)?),
        Kind::IdentityCenter => drop(vault.sso_get(identity)?),
    }
    pin(prompter, identity)
}

/// The identity's PIN, asked of whoever asked for the flow.
fn pin(prompter: &dyn Prompter, identity: &str) -> Result<Pin, AppError> {
    Ok(prompter.pin(&Ask {
        profile: identity,
        identity,
        mfa_serial: None,
    })?)
}

fn json<T: Serialize>(value: &T) -> Zeroizing<String> {
    // Plain data with string keys: serialising cannot fail.
    Zeroizing::new(serde_json::to_string(value).expect("flow results serialise"))
}

/// Runs `flow` here, in the agent, asking `prompter` (the client's
/// conversation) for the PIN; its result as JSON.
pub fn run(kf: &Keyfob, flow: Flow, host: &dyn FlowHost) -> Result<Zeroizing<String>, AppError> {
    debug_assert!(kf.is_agent(), "flows run in the agent");
    let prompter: &dyn Prompter = host;
    Ok(match flow {
        Flow::Import {
            endpoint_url,
            region,
        } => {
            let endpoints = crate::model::endpoints::Endpoints::parse(
                endpoint_url.as_deref(),
                region.as_deref(),
            )?;
            json(&super::import_with(kf, &RemoteImport(host), endpoints)?)
        }
        Flow::AccessKeys { identity } => {
            let pin = pin_of(kf, prompter, &identity, Kind::Keys)?;
            json(&super::access_keys(kf, &identity, &pin)?)
        }
        Flow::KeyAction { identity, action } => {
            let pin = pin_of(kf, prompter, &identity, Kind::Keys)?;
            json(&super::key_action(kf, &identity, &pin, &action)?)
        }
        Flow::CreateSecondKey { identity } => {
            let pin = pin_of(kf, prompter, &identity, Kind::Keys)?;
            json(&super::create_second_key(kf, &identity, &pin)?)
        }
        Flow::Rotate {
            identity,
            action,
            grace,
        } => {
            let pin = pin_of(kf, prompter, &identity, Kind::Keys)?;
            json(&super::rotate(
                kf,
                &identity,
                &pin,
                action,
                grace.as_deref(),
            )?)
        }
        Flow::RefreshFacts { identity } => {
            let found = kf.vault()?.get(&identity)?;
            let pin = pin(prompter, &identity)?;
            super::refresh_facts(kf, &found, &pin)?;
            json(&())
        }
        Flow::SsoSync {
            identity,
            template,
            dry_run,
        } => {
            let pin = pin_of(kf, prompter, &identity, Kind::IdentityCenter)?;
            json(&super::sso_sync(kf, &identity, &pin, &template, dry_run)?)
        }
        Flow::SsoLogout { identity } => {
            let pin = pin_of(kf, prompter, &identity, Kind::IdentityCenter)?;
            json(&super::sso_logout(kf, &identity, &pin)?)
        }
        Flow::SetEndpoints {
            identity,
            url,
            region,
        } => {
            let endpoints =
                crate::model::endpoints::Endpoints::parse(url.as_deref(), region.as_deref())?;
            let pin = pin_of(kf, prompter, &identity, Kind::Keys)?;
            json(&super::set_endpoints(kf, &identity, &pin, endpoints)?)
        }
        Flow::Whois { key, profile } => json(&super::whois(
            kf,
            &key,
            false,
            profile.as_deref(),
            Some(prompter),
        )?),
    })
}
