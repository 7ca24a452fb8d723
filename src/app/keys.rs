//! The life of access keys: listing them with their last use, creating,
//! deactivating, activating and deleting one, the staged rotation, the
//! audit (offline, or refreshed from IAM), the 90-day reminders, and
//! `whois`.

use serde::Serialize;
use time::OffsetDateTime;

use crate::app::access_keys::{Finding, KeyRow, iam_err};
use crate::app::reminders::{self, Due, Notified};
use crate::app::rotation::{self, DEFAULT_GRACE_SECS, Report, Rotation};
use crate::app::thirdparty;
use crate::aws::config_file::{AwsFile, Flavor};
use crate::aws::iam::AccessKeyInfo;
use crate::aws::{sts, wiring};
use crate::credentials::Prompter;
use crate::model::field::{Field, FieldError};
use crate::model::identity::{AccessKeyId, Identity, account_from_key_id};
use crate::model::secret::Pin;
use crate::platform::fsutil::{self, backup_path};

use super::remote::in_agent;
use super::{AppError, Keyfob};
use crate::model::flow::Flow;
pub use crate::model::flow::{KeyAction, RotateAction};

/// Runs `action` on one of the user's keys (IAM signed with the vault's
/// key, opened with `pin`). Refuses to deactivate or delete the key the
/// vault uses, and an active key without `force`. Returns the key.
pub fn key_action(
    kf: &Keyfob,
    name: &str,
    pin: &Pin,
    action: &KeyAction,
) -> Result<AccessKeyId, AppError> {
    if !kf.is_agent() {
        let flow = Flow::KeyAction {
            identity: name.to_owned(),
            action: action.clone(),
        };
        return in_agent(kf, flow, Some(pin));
    }
    let vault = kf.vault()?;
    let identity = vault.get(name)?;
    let iam = crate::app::access_keys::connect(&vault, &identity, pin)?;
    let listed = iam.list_keys().map_err(iam_err("ListAccessKeys"))?;
    let find = |key: &str| -> Result<(AccessKeyId, AccessKeyInfo), AppError> {
        let key = AccessKeyId::parse(key)?;
        match listed.iter().find(|k| k.access_key_id == key.as_str()) {
            Some(info) => Ok((key, info.clone())),
            None => Err(AppError::NotUsersKey {
                key: key.to_string(),
                identity: identity.name.to_string(),
            }),
        }
    };
    let not_the_vaults = |key: &AccessKeyId, what: &'static str| -> Result<(), AppError> {
        if *key == identity.access_key_id {
            return Err(AppError::VaultsKey {
                key: key.to_string(),
                identity: identity.name.to_string(),
                doing: what,
            });
        }
        Ok(())
    };
    match action {
        KeyAction::Deactivate(key) => {
            let (key, _) = find(key)?;
            not_the_vaults(&key, "deactivating")?;
            iam.set_active(key.as_str(), false)
                .map_err(iam_err("UpdateAccessKey"))?;
            Ok(key)
        }
        KeyAction::Activate(key) => {
            let (key, _) = find(key)?;
            iam.set_active(key.as_str(), true)
                .map_err(iam_err("UpdateAccessKey"))?;
            Ok(key)
        }
        KeyAction::Delete { key, force } => {
            let (key, info) = find(key)?;
            not_the_vaults(&key, "deleting")?;
            if info.active && !force {
                return Err(AppError::KeyActive {
                    key: key.to_string(),
                    identity: identity.name.to_string(),
                });
            }
            iam.delete_key(key.as_str())
                .map_err(iam_err("DeleteAccessKey"))?;
            Ok(key)
        }
    }
}

/// `keyfob keys NAME create`: rotation step 1 alone (a second key, sealed
/// beside the active one; the rotation then waits at step 1).
pub fn create_second_key(kf: &Keyfob, name: &str, pin: &Pin) -> Result<Report, AppError> {
    if !kf.is_agent() {
        let flow = Flow::CreateSecondKey {
            identity: name.to_owned(),
        };
        return in_agent(kf, flow, Some(pin));
    }
    let vault = kf.vault()?;
    let identity = vault.get(name)?;
    Ok(rotation::create_second_key(&vault, &identity, pin)?)
}

/// The user's access keys and their last use, as `keyfob keys NAME` shows
/// them (IAM calls signed with the long-term key, opened with `pin`); the
/// vault key's facts are recorded for the audit badges.
pub fn access_keys(kf: &Keyfob, name: &str, pin: &Pin) -> Result<Vec<KeyRow>, AppError> {
    if !kf.is_agent() {
        let flow = Flow::AccessKeys {
            identity: name.to_owned(),
        };
        return in_agent(kf, flow, Some(pin));
    }
    let vault = kf.vault()?;
    let identity = vault.get(name)?;
    Ok(crate::app::access_keys::list_with_pin(
        &vault, &identity, pin,
    )?)
}

/// Runs one rotation action, as `keyfob rotate` does (`grace_secs` as
/// `--grace`); when the vault switched keys, the identity's sessions are
/// renewed with the new key.
pub fn rotate(
    kf: &Keyfob,
    name: &str,
    pin: &Pin,
    action: RotateAction,
    grace: Option<&str>,
) -> Result<Report, AppError> {
    if !kf.is_agent() {
        let flow = Flow::Rotate {
            identity: name.to_owned(),
            action,
            grace: grace.map(str::to_owned),
        };
        return in_agent(kf, flow, Some(pin));
    }
    let grace_secs = match grace.map(str::trim).filter(|g| !g.is_empty()) {
        Some(g) => Some(
            crate::model::duration::parse(g)
                .map_err(|e| FieldError::new(Field::Grace, e.reason))?
                .as_secs(),
        ),
        None => None,
    };
    let vault = kf.vault()?;
    let identity = vault.get(name)?;
    let report = match action {
        RotateAction::Start => rotation::start(
            &vault,
            &identity,
            pin,
            grace_secs.unwrap_or(DEFAULT_GRACE_SECS),
        ),
        RotateAction::Continue => rotation::advance(&vault, &identity, pin, grace_secs),
        RotateAction::Rollback => rotation::rollback(&vault, &identity, pin),
    }?;
    if report.switched {
        // Here, in the agent: its sessions are made anew with the new key.
        let prompter = crate::platform::prompt::FixedPrompter {
            pin: Some(pin.clone()),
            mfa_code: None,
        };
        renew_sessions(kf, name, &prompter)?;
    }
    Ok(report)
}

/// Makes identity `name`'s sessions anew after a rotation switched its
/// key, in the agent (what its `renew` request runs).
pub fn renew_sessions(kf: &Keyfob, name: &str, prompter: &dyn Prompter) -> Result<(), AppError> {
    let current = kf.vault()?.get(name)?;
    let cache = kf.cache()?;
    let open = || kf.vault();
    let provider = kf.provider(cache.as_ref(), &open, Some(prompter));
    crate::app::access_keys::renew_sessions(
        &provider,
        cache.as_ref(),
        kf.profiles()?,
        kf.durations(),
        &current,
    )?;
    Ok(())
}

/// The identity and where its rotation stands (`keyfob rotate --status`).
pub fn rotation_status(kf: &Keyfob, name: &str) -> Result<(Identity, Option<Rotation>), AppError> {
    let vault = kf.vault()?;
    let identity = vault.get(name)?;
    let state = rotation::load(&vault, &identity)?;
    Ok((identity, state))
}

/// One identity with what `keyfob audit` reports about it without a PIN.
pub struct IdentityAudit {
    pub identity: Identity,
    pub findings: Vec<Finding>,
    /// Warnings for this identity's third-party role profiles that are not
    /// guarded (accepted unguarded, or never checked).
    pub unguarded_profiles: Vec<String>,
}

/// Every identity with its audit findings, for the Identities screen's
/// badges.
pub fn audit(kf: &Keyfob) -> Result<Vec<IdentityAudit>, AppError> {
    let vault = kf.vault()?;
    let unguarded = thirdparty::unguarded(&kf.book()?)?;
    let now = OffsetDateTime::now_utc();
    let mut out = Vec::new();
    for identity in vault.list()? {
        // An unreadable rotation state is itself worth a badge; it must not
        // hide the identity.
        let state = rotation::load(&vault, &identity);
        let rotation = state.as_ref().ok().and_then(Option::as_ref);
        let mut findings =
            crate::app::access_keys::findings(&identity, rotation.map(|r| r.step.number()), now);
        if let Err(e) = state {
            findings.push(Finding {
                kind: crate::app::access_keys::FindingKind::Rotation,
                message: e.to_string(),
            });
        }
        let unguarded_profiles = unguarded
            .iter()
            .filter(|p| p.identity == identity.name)
            .filter_map(thirdparty::warning)
            .collect();
        out.push(IdentityAudit {
            identity,
            findings,
            unguarded_profiles,
        });
    }
    Ok(out)
}

/// The audit: every identity with its findings, and what else needs
/// action — plaintext long-term keys on disk and unguarded third-party
/// role profiles.
pub struct AuditReport {
    pub identities: Vec<IdentityAudit>,
    pub plaintext_keys: Vec<String>,
    /// One warning per third-party role profile not proven safe against
    /// the confused deputy (accepted unguarded, or never checked).
    pub unguarded_profiles: Vec<String>,
    /// Advice, not counted as a finding: access-key identities whose
    /// account an Identity Center identity reaches (its synced profiles).
    pub identity_center: Vec<String>,
}

impl AuditReport {
    /// How many things need action.
    pub fn count(&self) -> usize {
        self.identities
            .iter()
            .map(|i| i.findings.len())
            .sum::<usize>()
            + self.plaintext_keys.len()
            + self.unguarded_profiles.len()
    }
}

/// Answers the PIN of each identity in turn.
pub type PinSource<'a> = dyn FnMut(&Identity) -> Result<Pin, AppError> + 'a;

/// `keyfob audit [--refresh]`: with `refresh`, each identity's facts are
/// asked of IAM first, with the PIN `refresh` answers for it.
pub fn audit_report(
    kf: &Keyfob,
    refresh: Option<&mut PinSource<'_>>,
) -> Result<AuditReport, AppError> {
    if let Some(pin_for) = refresh {
        let vault = kf.vault()?;
        for identity in vault.list()? {
            let pin = pin_for(&identity)?;
            refresh_facts(kf, &identity, &pin)?;
        }
    }
    let unguarded_profiles = thirdparty::unguarded(&kf.book()?)?
        .iter()
        .map(|p| {
            thirdparty::warning(p).unwrap_or_else(|| {
                format!(
                    "profile {} is not guarded — `keyfob role check {}`",
                    p.name, p.name
                )
            })
        })
        .collect();
    Ok(AuditReport {
        identities: audit(kf)?,
        plaintext_keys: plaintext_keys(),
        unguarded_profiles,
        identity_center: super::identity_center_advice(kf)?,
    })
}

/// Asks IAM for the identity's keys and its key's last use, and records
/// them on the identity (what the offline audit reports).
pub fn refresh_facts(kf: &Keyfob, identity: &Identity, pin: &Pin) -> Result<(), AppError> {
    if !kf.is_agent() {
        let flow = Flow::RefreshFacts {
            identity: identity.name.to_string(),
        };
        return in_agent(kf, flow, Some(pin));
    }
    let vault = kf.vault()?;
    let iam = crate::app::access_keys::connect(&vault, identity, pin)?;
    let listed = iam.list_keys().map_err(iam_err("ListAccessKeys"))?;
    let used = iam
        .last_used(identity.access_key_id.as_str())
        .map_err(iam_err("GetAccessKeyLastUsed"))?;
    crate::app::access_keys::record_facts(
        &vault,
        identity,
        &listed,
        &used,
        OffsetDateTime::now_utc(),
    )?;
    Ok(())
}

/// Long-term keys in plaintext: the shared credentials file and keyfob's
/// own backup of it from `import`.
fn plaintext_keys() -> Vec<String> {
    let Some(path) = wiring::credentials_path() else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for file in [path.clone(), backup_path(&path)] {
        let Ok(creds) = AwsFile::load(&file, Flavor::Credentials) else {
            continue;
        };
        for name in creds.profile_names() {
            if creds.get(&name, "aws_secret_access_key").is_some()
                && creds
                    .get(&name, "aws_access_key_id")
                    .is_some_and(|k| k.starts_with("AKIA"))
            {
                found.push(format!(
                    "[{name}] in {} holds a plaintext long-term key — {}",
                    file.display(),
                    if file == path {
                        "`keyfob import` moves it into the vault"
                    } else {
                        "a backup from `keyfob import`: delete it once the imported identity works"
                    }
                ));
            }
        }
    }
    found
}

/// The keys past 90 days not yet announced (see [`reminders`]).
pub fn due_reminders(kf: &Keyfob) -> Result<Vec<Due>, AppError> {
    let identities = kf.identities()?;
    let notified = Notified::load(&Notified::path(&kf.paths));
    Ok(reminders::due(
        &identities,
        &notified,
        OffsetDateTime::now_utc(),
    ))
}

/// Remembers that `shown` were announced, so they are not again.
pub fn mark_reminded(kf: &Keyfob, shown: &[Due]) -> Result<(), AppError> {
    let path = Notified::path(&kf.paths);
    let _lock = fsutil::lock_for(&path)?;
    let mut notified = Notified::load(&path);
    notified.keep_only(&kf.identities()?);
    for d in shown {
        notified.mark(&d.access_key_id);
    }
    notified.save(&path)?;
    Ok(())
}

/// What `keyfob whois` found.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct Whois {
    /// What the key ID's prefix says it is.
    pub kind: String,
    pub account: Option<String>,
    /// Whether STS was asked (GetAccessKeyInfo) or the ID decoded offline.
    pub asked_sts: bool,
}

/// What a key ID's four-letter prefix says it is.
fn kind_of(key_id: &str) -> &'static str {
    match key_id.get(..4).unwrap_or("") {
        "AKIA" => "a long-term access key (an IAM user's)",
        "ASIA" => "a temporary access key (STS)",
        "ABIA" => "an STS service bearer token",
        "ACCA" => "a context-specific credential",
        "AIDA" => "an IAM user ID, not a key",
        "AROA" => "an IAM role ID, not a key",
        "AGPA" => "an IAM group ID, not a key",
        _ => "not an AWS access key ID this version of keyfob knows",
    }
}

/// `keyfob whois KEY`: the account a key ID belongs to, decoded offline,
/// or asked of STS with `profile` (the only identity if `None`). AWS
/// refuses GetAccessKeyInfo with GetSessionToken credentials, so a role
/// profile asks with its role session and an identity with its key
/// (opened with the PIN `prompter` gives).
pub fn whois(
    kf: &Keyfob,
    key: &str,
    offline: bool,
    profile: Option<&str>,
    prompter: Option<&dyn Prompter>,
) -> Result<Whois, AppError> {
    let key = key.trim();
    if !(16..=128).contains(&key.len())
        || !key
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return Err(FieldError::new(
            Field::AccessKeyId,
            "must be 16–128 uppercase letters and digits, like AKIAIOSFODNN7EXAMPLE",
        )
        .into());
    }
    let kind = kind_of(key).to_owned();
    if offline {
        return Ok(Whois {
            kind,
            account: account_from_key_id(key),
            asked_sts: false,
        });
    }
    if !kf.is_agent() {
        let flow = Flow::Whois {
            key: key.to_owned(),
            profile: profile.map(str::to_owned),
        };
        return super::remote::in_agent_asking(kf, flow, prompter);
    }
    let profile_name = match profile {
        Some(p) => p.to_owned(),
        None => match kf.identities()?.as_slice() {
            [only] => only.name.to_string(),
            [] => {
                return Err(AppError::NoIdentityForSts);
            }
            _ => {
                return Err(AppError::WhichIdentityForSts);
            }
        },
    };
    let profile = kf.profile(&profile_name)?;
    let account = if profile.role.is_some() {
        let s = super::session(kf, &profile, false, prompter)?;
        sts::get_access_key_info(
            &s.endpoints,
            &s.access_key_id,
            &s.secret_access_key,
            Some(s.session_token.expose()),
            key,
        )?
    } else {
        let vault = kf.vault()?;
        let identity = vault.get(profile.identity.as_str())?;
        let pin = super::pin_for(prompter, &identity)?;
        let (identity, secret) = vault.unseal_identity(identity.name.as_str(), &pin)?;
        sts::get_access_key_info(
            &identity.endpoints(),
            identity.access_key_id.as_str(),
            &secret,
            None,
            key,
        )
        .map_err(|e| match e.code() {
            Some("AccessDenied") => AppError::WhoisDenied { source: e },
            _ => e.into(),
        })?
    };
    Ok(Whois {
        kind,
        account: Some(account),
        asked_sts: true,
    })
}
