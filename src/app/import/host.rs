//! What every import source shares: the face's side ([`ImportHost`]),
//! what a run is asked to do ([`ImportRun`]) and what it did
//! ([`ImportReport`]), and sealing one verified key as an identity.

use std::path::PathBuf;

use zeroize::Zeroizing;

use crate::app::{AppError, Confirm, Keyfob, Question};
use crate::credentials::Ask;
use crate::model::endpoints::Endpoints;
use crate::model::flow::{ImportSource, Removal};
use crate::model::identity::{AccessKeyId, IdentityName, check_pin};
use crate::model::secret::{Pin, SecretAccessKey};
use crate::vault::{AddOptions, NewIdentity, Sts, Vault};

/// What the face supplies for each key: whether to import it (asked with
/// [`Confirm`]) and the PIN to seal it under.
pub trait ImportHost: Confirm {
    /// The new identity's PIN (checked by the core).
    fn pin(&self, identity: &IdentityName) -> Result<Pin, AppError>;
    /// Tells the person what happened to one section, as it happens.
    fn say(&self, line: &str);
    /// The passphrase of another tool's store, asked with `question`
    /// (aws-vault's file backend).
    fn passphrase(&self, question: &str) -> Result<Zeroizing<String>, AppError>;
}

/// What one import run is asked to do.
#[derive(Clone, Debug, Default)]
pub struct ImportRun {
    pub source: ImportSource,
    /// Say what would happen; change nothing anywhere.
    pub dry_run: bool,
    /// What to do with the source's copy of an imported key.
    pub removal: Removal,
}

/// What one import run did to its source.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct ImportReport {
    /// The credentials file keys were removed from, and its backup (which
    /// still holds them): `None` when nothing was imported.
    pub cleaned: Option<(PathBuf, PathBuf, usize)>,
    /// Where the source still holds keys that are now in the vault (the
    /// removal was not confirmed), one line each.
    #[serde(default)]
    pub kept: Vec<String>,
}

/// Why `name` cannot become a new identity, if it cannot.
pub(super) fn name_problem(vault: &Vault, name: &str) -> Result<IdentityName, String> {
    let identity = IdentityName::parse(name).map_err(|e| e.to_string())?;
    if vault.check_name_free(&identity).is_err() {
        return Err(format!("an identity named {name} is already in the vault"));
    }
    Ok(identity)
}

/// One key to import, read from its source.
pub(super) struct Key {
    /// How the person knows it: `[dev]`, `aws-vault item dev`.
    pub origin: String,
    pub identity: IdentityName,
    pub key_id: AccessKeyId,
    pub secret: SecretAccessKey,
}

/// Asks whether to import `key`, its PIN, verifies it with STS (refusing
/// a root user's key as `add` does) and seals it: whether it is in the
/// vault now. What went wrong is said, not returned: one key's failure
/// leaves the others to import. A PIN that cannot be had stops the run.
pub(super) fn seal(
    kf: &Keyfob,
    host: &dyn ImportHost,
    vault: &Vault,
    endpoints: &Endpoints,
    key: Key,
) -> Result<bool, AppError> {
    // A malformed secret is this key's failure, said before anything is
    // asked of the person; the other keys go on.
    let secret = match crate::model::identity::check_secret(key.secret) {
        Ok(s) => s,
        Err(e) => {
            host.say(&format!("Not importing {}: {e}.", key.origin));
            return Ok(false);
        }
    };
    let question = Question::Import {
        section: &key.origin,
        key: key.key_id.masked(),
    };
    if host.confirm(&question).is_err() {
        host.say(&format!("Not importing {}.", key.origin));
        return Ok(false);
    }
    let pin = host.pin(&key.identity)?;
    check_pin(&pin)?;
    let new = NewIdentity {
        name: key.identity.clone(),
        access_key_id: key.key_id,
        secret,
        pin,
        endpoints: endpoints.clone(),
    };
    let first = crate::app::approvals::new_setup(vault);
    let options = AddOptions {
        tpm: crate::app::tpm_choice(kf),
        ..AddOptions::default()
    };
    match vault.add(new, options, &Sts) {
        Ok(i) => {
            crate::app::approvals::first_identity_added(&kf.paths, first);
            host.say(&format!(
                "Imported {} as identity {} (account {}).",
                key.origin,
                i.name,
                i.account.as_deref().unwrap_or("unknown")
            ));
            Ok(true)
        }
        // import has no --allow-root: say what does take such a key.
        Err(crate::vault::VaultError::RootRefused { arn }) => {
            host.say(&format!(
                "Not importing {}: these are a root user's keys ({arn}); AWS advises against root access keys — use an IAM user's keys instead, or add them with keyfob add --allow-root if you must.",
                key.origin
            ));
            Ok(false)
        }
        Err(e) => {
            host.say(&format!("Not importing {}: {e}.", key.origin));
            Ok(false)
        }
    }
}

/// The client's side of an import run in the agent: its questions and
/// PINs answered by the face's own import host, its lines shown there.
pub struct ImportAnswers<'a>(pub &'a dyn ImportHost);

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
                match self.0.confirm(&Question::Remote { text }) {
                    Ok(()) => Answer::Yes,
                    Err(_) => Answer::Refused,
                }
            }
            AskKind::NewPin => match IdentityName::parse(ask.identity)
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
            AskKind::SourcePassphrase => match self.0.passphrase(question.unwrap_or_default()) {
                Ok(value) => Answer::Pin { value },
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
