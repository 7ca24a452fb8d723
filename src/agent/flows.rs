//! The flows the agent runs for the faces (see [`crate::app::remote`]):
//! [`run`] does one here, in the agent, asking its [`FlowHost`] (the
//! client's conversation) for the PIN and, for `import`, for answers and
//! new PINs; only the flow's result goes back, as JSON.

use serde::Serialize;
use zeroize::Zeroizing;

use crate::app::{self, AppError, Keyfob};
use crate::credentials::{Ask, Prompter};
use crate::model::field::{Field, FieldError};
use crate::model::flow::Flow;
use crate::model::secret::Pin;
use crate::platform::bound::RecoveryCode;
use crate::vault::Opener;

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
    /// The passphrase of another tool's store an import reads, asked with
    /// `question` (which names the store).
    fn source_passphrase(
        &self,
        question: &str,
    ) -> Result<Zeroizing<String>, crate::model::ask::PromptError>;
    /// A recovery code for `identity`: the one that opens its key, or
    /// (`new`) the one the client made to seal it with, and shows.
    fn recovery_code(
        &self,
        identity: &str,
        new: bool,
    ) -> Result<Zeroizing<String>, crate::model::ask::PromptError>;
}

/// The import's host in the agent: its questions and PINs go to the
/// client that asked for the import.
struct RemoteImport<'a>(&'a dyn FlowHost);

impl app::Confirm for RemoteImport<'_> {
    fn confirm(&self, question: &app::Question<'_>) -> Result<(), AppError> {
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

impl app::ImportHost for RemoteImport<'_> {
    fn pin(&self, identity: &crate::model::identity::IdentityName) -> Result<Pin, AppError> {
        Ok(self.0.new_pin(identity.as_str())?)
    }

    fn say(&self, line: &str) {
        self.0.say(line);
    }

    fn passphrase(&self, question: &str) -> Result<Zeroizing<String>, AppError> {
        Ok(self.0.source_passphrase(question)?)
    }
}

/// Which kind of identity a flow needs.
enum Kind {
    Keys,
    IdentityCenter,
    Login,
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
        Kind::Login => drop(vault.login_get(identity)?),
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

/// A recovery code of `identity` asked of the client (see
/// [`FlowHost::recovery_code`]), read as typed.
fn recovery_code(host: &dyn FlowHost, identity: &str, new: bool) -> Result<RecoveryCode, AppError> {
    let typed = host.recovery_code(identity, new)?;
    RecoveryCode::parse(&typed).ok_or_else(|| {
        FieldError::new(
            Field::RecoveryCode,
            "must be the 26 letters and digits (2–7) shown when the key was bound, in groups of four",
        )
        .into()
    })
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
            source,
            dry_run,
            removal,
        } => {
            let endpoints = crate::model::endpoints::Endpoints::parse(
                endpoint_url.as_deref(),
                region.as_deref(),
            )?;
            let run = app::ImportRun {
                source,
                dry_run,
                removal,
            };
            json(&app::import_with(kf, &RemoteImport(host), endpoints, &run)?)
        }
        Flow::AccessKeys { identity } => {
            let pin = pin_of(kf, prompter, &identity, Kind::Keys)?;
            json(&app::access_keys(kf, &identity, &pin)?)
        }
        Flow::KeyAction { identity, action } => {
            let pin = pin_of(kf, prompter, &identity, Kind::Keys)?;
            json(&app::key_action(kf, &identity, &pin, &action)?)
        }
        Flow::CreateSecondKey { identity } => {
            let pin = pin_of(kf, prompter, &identity, Kind::Keys)?;
            json(&app::create_second_key(kf, &identity, &pin)?)
        }
        Flow::Rotate {
            identity,
            action,
            grace,
        } => {
            let pin = pin_of(kf, prompter, &identity, Kind::Keys)?;
            json(&app::rotate(kf, &identity, &pin, action, grace.as_deref())?)
        }
        Flow::RefreshFacts { identity } => {
            let found = kf.vault()?.get(&identity)?;
            let pin = pin(prompter, &identity)?;
            app::refresh_facts(kf, &found, &pin)?;
            json(&())
        }
        Flow::SsoSync {
            identity,
            template,
            dry_run,
        } => {
            let pin = pin_of(kf, prompter, &identity, Kind::IdentityCenter)?;
            json(&app::sso_sync(kf, &identity, &pin, &template, dry_run)?)
        }
        Flow::LoginLogout { identity } => {
            let pin = pin_of(kf, prompter, &identity, Kind::Login)?;
            json(&app::login_logout(kf, &identity, &pin)?)
        }
        Flow::SsoLogout { identity } => {
            let pin = pin_of(kf, prompter, &identity, Kind::IdentityCenter)?;
            json(&app::sso_logout(kf, &identity, &pin)?)
        }
        Flow::ChangePin { identity } => {
            // Either kind of identity; a missing one is said before any PIN.
            let vault = kf.vault()?;
            if let Err(e) = vault.get(&identity)
                && vault.sso_get(&identity).is_err()
            {
                return Err(e.into());
            }
            let old = pin(prompter, &identity)?;
            let new = host.new_pin(&identity)?;
            app::change_pin(kf, &identity, &old, &new)?;
            json(&())
        }
        Flow::Reseal {
            identity,
            tpm,
            recovery,
            new_code,
        } => {
            let vault = kf.vault()?;
            if let Err(e) = vault.get(&identity)
                && vault.sso_get(&identity).is_err()
            {
                return Err(e.into());
            }
            let new_code = match new_code {
                true => Some(recovery_code(host, &identity, true)?),
                false => None,
            };
            let protection = if recovery {
                let code = recovery_code(host, &identity, false)?;
                let pin = host.new_pin(&identity)?;
                let opener = Opener::Recovery(&code);
                app::reseal(kf, &identity, opener, Some(&pin), tpm, new_code.as_ref())?
            } else {
                let pin = pin(prompter, &identity)?;
                app::reseal(
                    kf,
                    &identity,
                    Opener::Pin(&pin),
                    None,
                    tpm,
                    new_code.as_ref(),
                )?
            };
            json(&protection)
        }
        Flow::SetEndpoints {
            identity,
            url,
            region,
        } => {
            let endpoints =
                crate::model::endpoints::Endpoints::parse(url.as_deref(), region.as_deref())?;
            let pin = pin_of(kf, prompter, &identity, Kind::Keys)?;
            json(&app::set_endpoints(kf, &identity, &pin, endpoints)?)
        }
        Flow::Whois { key, profile } => json(&app::whois(
            kf,
            &key,
            false,
            profile.as_deref(),
            Some(prompter),
        )?),
    })
}
