//! `import`: moving plaintext long-term keys out of the shared credentials
//! file into the vault, and role profiles of the AWS config file into
//! keyfob.
//!
//! Each key is verified with STS and sealed under its own PIN before the
//! credentials file is rewritten without it; keys that fail stay where
//! they were. The credentials file is locked from the moment it is read
//! until it is written, so a concurrent edit of it waits rather than being
//! lost; its backup (which still holds the keys) is readable by the user
//! alone. Role profiles whose `source_profile` is (now) an identity become
//! keyfob profiles, and their config sections point at keyfob.

use std::path::PathBuf;

use crate::aws::config_file::{AwsFile, Flavor};
use crate::aws::wiring;
use crate::config::profile::{Profile, ProfileInput};
use crate::credentials::Ask;
use crate::model::identity::{AccessKeyId, IdentityName, check_pin, check_secret};
use crate::model::secret::{Pin, SecretAccessKey};
use crate::platform::fsutil::{self, backup_path};
use crate::vault::{AddOptions, NewIdentity, Sts};
use zeroize::Zeroizing;

use super::{Answered, AppError, Confirm, Keyfob, Question};

/// What the face supplies for each key: whether to import it (asked with
/// [`Confirm`]) and the PIN to seal it under.
pub trait ImportHost: Confirm {
    /// The new identity's PIN (checked by the core).
    fn pin(&self, identity: &IdentityName) -> Result<Pin, AppError>;
    /// Tells the person what happened to one section, as it happens.
    fn say(&self, line: &str);
}

/// What one import run did to the credentials file.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct ImportReport {
    /// The credentials file keys were removed from, and its backup (which
    /// still holds them): `None` when nothing was imported.
    pub cleaned: Option<(PathBuf, PathBuf, usize)>,
}

/// Imports every long-term key of the shared credentials file that
/// `host` agrees to, then the role profiles that name an identity.
/// The imported identities' endpoints are the settings in force where
/// the import was asked for (as for `keyfob add`).
pub fn import(kf: &Keyfob, host: &dyn ImportHost) -> Result<ImportReport, AppError> {
    let endpoints = crate::model::endpoints::Endpoints::at_add(None, None)?;
    if !kf.is_agent() {
        // Run where keys are sealed: the agent reads the file, verifies
        // and seals; this process only answers its questions.
        let result = kf.agent_link().flow_answered(
            crate::model::flow::Flow::Import {
                endpoint_url: endpoints.url,
                region: Some(endpoints.region),
            },
            &ImportAnswers(host),
            true,
            false,
        )?;
        return serde_json::from_str(&result).map_err(|e| {
            AppError::Agent(crate::link::error::AgentError::Replied {
                kind: crate::link::protocol::ErrorKind::Protocol,
                message: format!("the agent's answer is not what this keyfob expects: {e}"),
            })
        });
    }
    import_with(kf, host, endpoints)
}

/// [`import`] here, in the agent, the identities going to `endpoints`.
pub fn import_with(
    kf: &Keyfob,
    host: &dyn ImportHost,
    endpoints: crate::model::endpoints::Endpoints,
) -> Result<ImportReport, AppError> {
    let mut report = ImportReport::default();
    let cred_path = wiring::credentials_path().ok_or(AppError::NoCredentialsFile)?;
    let vault = kf.vault()?;

    // What can be imported, and why the rest cannot (read unlocked: the
    // person is asked about each key before anything is written).
    let creds = AwsFile::load(&cred_path, Flavor::Credentials)?;
    let mut candidates = Vec::new();
    for name in creds.profile_names() {
        let (Some(key_id), Some(_)) = (
            creds.get(&name, "aws_access_key_id"),
            creds.get(&name, "aws_secret_access_key"),
        ) else {
            continue;
        };
        let skip = |why: String| host.say(&format!("Skipping [{name}]: {why}."));
        if creds.get(&name, "aws_session_token").is_some() || key_id.starts_with("ASIA") {
            skip("a temporary key; it expires on its own".into());
            continue;
        }
        let identity = match IdentityName::parse(&name) {
            Ok(n) => n,
            Err(e) => {
                skip(e.to_string());
                continue;
            }
        };
        if vault.check_name_free(&identity).is_err() {
            skip(format!("an identity named {name} is already in the vault"));
            continue;
        }
        match AccessKeyId::parse(&key_id) {
            Ok(k) => candidates.push((name, identity, k)),
            Err(e) => skip(e.to_string()),
        }
    }
    if candidates.is_empty() {
        host.say(&format!(
            "No long-term keys to import in {}.",
            cred_path.display()
        ));
    }

    let mut imported = Vec::new();
    for (section, identity, key_id) in candidates {
        let question = Question::Import {
            section: &section,
            key: key_id.masked(),
        };
        if host.confirm(&question).is_err() {
            host.say(&format!("Not importing [{section}]."));
            continue;
        }
        let pin = host.pin(&identity)?;
        check_pin(&pin)?;
        // Read only now, and wiped when `new` drops.
        let secret = check_secret(SecretAccessKey::new(
            creds
                .get(&section, "aws_secret_access_key")
                .unwrap_or_default(),
        ))?;
        let new = NewIdentity {
            name: identity.clone(),
            access_key_id: key_id,
            secret,
            pin,
            endpoints: endpoints.clone(),
        };
        let first = super::approvals::new_setup(&vault);
        let options = AddOptions {
            tpm: super::tpm_choice(kf),
            ..AddOptions::default()
        };
        match vault.add(new, options, &Sts) {
            Ok(i) => {
                super::approvals::first_identity_added(&kf.paths, first);
                host.say(&format!(
                    "Imported [{section}] as identity {} (account {}).",
                    i.name,
                    i.account.as_deref().unwrap_or("unknown")
                ));
                imported.push((section, identity));
            }
            Err(e) => host.say(&format!("Not importing [{section}]: {e}.")),
        }
    }

    // Plain profiles for the new identities, then the credentials file
    // without their keys: read again under its lock, so an edit made since
    // the first read is kept.
    for (section, identity) in &imported {
        let mut profile = Profile::plain(identity);
        profile.region = creds
            .get(section, "region")
            .filter(|r| crate::model::limits::region(r).is_ok());
        if !kf.book()?.contains(&profile.name) {
            super::save_profile(kf, &profile, false, &Answered { take_over: true })?;
        }
    }
    if !imported.is_empty() {
        let _lock = fsutil::lock_for(&cred_path)?;
        let mut creds = AwsFile::load(&cred_path, Flavor::Credentials)?;
        for (section, _) in &imported {
            creds.remove_keys(
                section,
                &[
                    "aws_access_key_id",
                    "aws_secret_access_key",
                    "aws_session_token",
                ],
            );
            if creds.profile(section).is_some_and(|kv| kv.is_empty()) {
                creds.remove_profile(section);
            }
        }
        creds.save(&cred_path)?;
        report.cleaned = Some((cred_path.clone(), backup_path(&cred_path), imported.len()));
    }

    import_roles(kf, host)?;
    Ok(report)
}

/// Converts role profiles (`role_arn` + `source_profile`) into keyfob
/// profiles: one whose source is an identity becomes an identity's role
/// profile, one whose source is a profile keyfob has (or converts in this
/// run) a role chain. Sources are converted before the profiles that
/// chain from them, so the order of sections in the file does not matter.
fn import_roles(kf: &Keyfob, host: &dyn ImportHost) -> Result<(), AppError> {
    let files = kf.read_files()?;
    let vault = kf.vault()?;
    let config = &files.aws;
    let mut pending: Vec<(String, String, String)> = Vec::new();
    for section in config.profile_names() {
        let (Some(role_arn), Some(source)) = (
            config.get(&section, "role_arn"),
            config.get(&section, "source_profile"),
        ) else {
            continue;
        };
        if kf.book()?.contains(&section) {
            host.say(&format!(
                "Skipping role profile {section}: a keyfob profile of that name exists."
            ));
            continue;
        }
        pending.push((section, role_arn, source));
    }
    // One pass converts every profile whose source is ready; a pass that
    // converts nothing leaves the rest (unknown sources, loops) skipped.
    loop {
        let before = pending.len();
        let mut waiting = Vec::new();
        for (section, role_arn, source) in pending {
            let from_identity = vault.get(&source).is_ok();
            let book = kf.book()?;
            if !from_identity && !book.contains(&source) {
                waiting.push((section, role_arn, source));
                continue;
            }
            let input = ProfileInput {
                name: section.clone(),
                identity: if from_identity {
                    source.clone()
                } else {
                    String::new()
                },
                source_profile: (!from_identity).then(|| source.clone()),
                role_arn: Some(role_arn),
                external_id: config.get(&section, "external_id"),
                role_session_name: config.get(&section, "role_session_name"),
                source_identity: None,
                mfa_serial: config.get(&section, "mfa_serial"),
                duration: config.get(&section, "duration_seconds"),
                region: config.get(&section, "region"),
                ..ProfileInput::default()
            };
            match book.build(&input) {
                Ok(profile) => {
                    super::save_profile(kf, &profile, false, &Answered { take_over: true })?;
                    let how = match &profile.source {
                        Some(src) => format!("chained from {}", src.name),
                        None => format!("identity {}", profile.identity),
                    };
                    host.say(&format!(
                        "Converted role profile {section} ({how}; a backup of {} is kept).",
                        files.aws_path.display()
                    ));
                }
                Err(e) => host.say(&format!("Skipping role profile {section}: {e}.")),
            }
        }
        pending = waiting;
        if pending.is_empty() || pending.len() == before {
            break;
        }
    }
    for (section, _, source) in pending {
        host.say(&format!(
            "Skipping role profile {section}: its source_profile {source} is neither an identity in the vault nor a role profile keyfob could convert."
        ));
    }
    Ok(())
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
