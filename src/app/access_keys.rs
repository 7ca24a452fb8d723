//! The life of an identity's access keys, shared by `keyfob keys`,
//! `keyfob rotate`, `keyfob audit` and the desktop app's access-keys panel,
//! rotation wizard and audit badges:
//!
//! - [`list`] asks IAM for the user's keys and each one's last use, and
//!   records what it learnt on the identity ([`KeyFacts`]) so [`findings`]
//!   can report it offline;
//! - [`findings`] is what `audit` knows of an identity without a PIN (key
//!   age, root keys, an unfinished rotation, two active keys);
//! - [`renew_sessions`] replaces the sessions made with a key the vault
//!   switched away from (after a rotation step or a rollback).
//!
//! Touches: [`crate::aws::iam`] (the calls), [`crate::vault`] (unsealing,
//! recording facts), [`crate::app::rotation`] (its state), [`crate::credentials`]
//! (renewing sessions).

use std::collections::HashSet;

use serde::Serialize;
use time::OffsetDateTime;

use crate::aws::AwsError;
use crate::aws::iam::{AccessKeyInfo, Iam, LastUsed, permission_hint};
use crate::config::profile::{Durations, Profile};
use crate::credentials::{Provider, ProviderError};
use crate::link::cache::{CacheError, SessionCache};
use crate::model::identity::{Identity, KeyFacts};
use crate::model::secret::Pin;
use crate::vault::{Vault, VaultError};

/// Keys older than this should be rotated (the IAM guide's 90 days).
pub const MAX_AGE_DAYS: i64 = 90;

/// Whether a key this many days old should be rotated.
pub fn is_old(age_days: i64) -> bool {
    age_days > MAX_AGE_DAYS
}

/// A key's age as `keyfob list` and the app show it: `12 d`, or
/// `120 d — rotate (over 90 d)`.
pub fn age_text(age_days: i64) -> String {
    if is_old(age_days) {
        format!("{age_days} d — rotate (over {MAX_AGE_DAYS} d)")
    } else {
        format!("{age_days} d")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// IAM refused or failed; refusals name the permission that is missing.
    #[error("{}", describe_aws(action, source))]
    Aws {
        action: &'static str,
        source: AwsError,
    },
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Cache(#[from] CacheError),
}

impl KeysError {
    /// Whether AWS said the caller may not do this (as opposed to failing).
    pub fn is_denied(&self) -> bool {
        matches!(self, KeysError::Aws { source, .. } if is_denied(source))
    }
}

fn is_denied(e: &AwsError) -> bool {
    matches!(e.code(), Some("AccessDenied" | "AccessDeniedException"))
}

fn describe_aws(action: &str, source: &AwsError) -> String {
    if is_denied(source) {
        format!("AWS refused iam:{action}: {}", permission_hint(action))
    } else {
        format!("iam:{action}: {source}")
    }
}

/// Maps an IAM failure of `action` (without the `iam:` prefix).
pub fn iam_err(action: &'static str) -> impl FnOnce(AwsError) -> KeysError {
    move |source| KeysError::Aws { action, source }
}

/// One of the user's keys, as `keyfob keys` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct KeyRow {
    pub access_key_id: String,
    /// `Active` or `Inactive`, as IAM says it.
    pub status: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub created: Option<OffsetDateTime>,
    pub age_days: Option<i64>,
    pub last_used: LastUsed,
    /// The key the vault holds for the identity.
    pub in_vault: bool,
}

/// An IAM client signed with the identity's key as the vault holds it
/// now, opened with `pin`: the one place a flow unseals a key to talk to
/// IAM.
pub fn connect(vault: &Vault, identity: &Identity, pin: &Pin) -> Result<Iam, KeysError> {
    let (identity, secret) = vault.unseal_identity(identity.name.as_str(), pin)?;
    Iam::connect(
        &identity.endpoints(),
        identity.access_key_id.as_str(),
        &secret,
    )
    .map_err(iam_err("the connection"))
}

/// The user's keys and their last use (ListAccessKeys,
/// GetAccessKeyLastUsed), recording the vault key's facts on the identity.
pub fn list(
    vault: &Vault,
    identity: &Identity,
    iam: &Iam,
    listed: &[AccessKeyInfo],
    now: OffsetDateTime,
) -> Result<Vec<KeyRow>, KeysError> {
    let mut rows = Vec::new();
    for k in listed {
        let last_used = iam
            .last_used(&k.access_key_id)
            .map_err(iam_err("GetAccessKeyLastUsed"))?;
        rows.push(KeyRow {
            access_key_id: k.access_key_id.clone(),
            status: if k.active { "Active" } else { "Inactive" }.to_owned(),
            created: k.created,
            age_days: k.created.map(|c| (now - c).whole_days()),
            in_vault: k.access_key_id == identity.access_key_id.as_str(),
            last_used,
        });
    }
    if let Some(mine) = rows.iter().find(|r| r.in_vault) {
        record_facts(vault, identity, listed, &mine.last_used, now)?;
    }
    Ok(rows)
}

/// Records on the identity what the offline audit reports: how many keys
/// the user has (of `listed`), and when and where the vault's key was
/// last used.
pub fn record_facts(
    vault: &Vault,
    identity: &Identity,
    listed: &[AccessKeyInfo],
    last_used: &LastUsed,
    now: OffsetDateTime,
) -> Result<(), KeysError> {
    let created = listed
        .iter()
        .find(|k| k.access_key_id == identity.access_key_id.as_str())
        .and_then(|k| k.created);
    let facts = KeyFacts {
        checked_at: now,
        active_keys: listed.iter().filter(|k| k.active).count() as u32,
        total_keys: listed.len() as u32,
        last_used_at: last_used.date,
        last_used_service: last_used.service.clone(),
        last_used_region: last_used.region.clone(),
    };
    vault.record_facts(identity.name.as_str(), created, facts)?;
    Ok(())
}

/// [`list`] with the PIN: unseals, connects, lists.
pub fn list_with_pin(
    vault: &Vault,
    identity: &Identity,
    pin: &Pin,
) -> Result<Vec<KeyRow>, KeysError> {
    let iam = connect(vault, identity, pin)?;
    let listed = iam.list_keys().map_err(iam_err("ListAccessKeys"))?;
    list(vault, identity, &iam, &listed, OffsetDateTime::now_utc())
}

/// What a [`Finding`] is about, for a badge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// The key is older than [`MAX_AGE_DAYS`].
    OldKey,
    /// A root user's keys.
    Root,
    /// A rotation was started and not finished.
    Rotation,
    /// IAM said two keys are active, and no rotation explains it.
    TwoActive,
}

/// Something `keyfob audit` reports about one identity, knowable without a
/// PIN (from the index, the recorded facts and the rotation state).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub message: String,
}

/// The findings for `identity`, in the order `audit` prints them;
/// `rotation_step` is the guide step an unfinished rotation has reached.
pub fn findings(
    identity: &Identity,
    rotation_step: Option<u8>,
    now: OffsetDateTime,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut say = |kind, message: String| out.push(Finding { kind, message });
    let name = &identity.name;
    let age = identity.key_age_days(now);
    if age > MAX_AGE_DAYS {
        say(
            FindingKind::OldKey,
            format!("the key is {age} days old (over {MAX_AGE_DAYS}) — `keyfob rotate {name}`"),
        );
    }
    if identity.is_root() {
        say(
            FindingKind::Root,
            "root user keys: AWS advises deleting them and using an IAM user".into(),
        );
    }
    if let Some(step) = rotation_step {
        say(
            FindingKind::Rotation,
            format!("an unfinished rotation (step {step} of 6) — `keyfob rotate {name} --status`"),
        );
    }
    if let Some(f) = &identity.facts
        && f.active_keys > 1
        && rotation_step.is_none()
    {
        say(
            FindingKind::TwoActive,
            format!(
                "{} active keys; keep one, deactivate the other — `keyfob keys {name}`",
                f.active_keys
            ),
        );
    }
    out
}

/// After the vault switched `identity` to another key: sessions made with
/// the old key are replaced (identity sessions without MFA, renewed now with
/// the PIN in hand, so callers never find the cache empty) or dropped (role
/// sessions, MFA sessions: made again on next use). `profiles` are all the
/// profiles (others' are skipped), with their defaults applied.
pub fn renew_sessions(
    provider: &Provider<'_>,
    cache: &dyn SessionCache,
    profiles: Vec<Profile>,
    durations: Durations,
    identity: &Identity,
) -> Result<(), KeysError> {
    let mut profiles: Vec<Profile> = profiles
        .into_iter()
        .filter(|p| p.identity == identity.name)
        .collect();
    if profiles
        .iter()
        .all(|p| p.role.is_some() || p.mfa_serial.is_some())
    {
        profiles.push(Profile::plain(&identity.name).with_defaults(durations));
    }
    let mut renewed = HashSet::new();
    for p in &profiles {
        if let Some(role_key) = p.role_session_key() {
            cache.delete(&role_key)?;
        }
        let key = p.identity_session_key();
        if p.mfa_serial.is_some() {
            cache.delete(&key)?;
        } else if renewed.insert(key) {
            provider.renew(p)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::rotation::{Rotation, Step};
    use crate::model::identity::{AccessKeyId, IdentityName};
    use time::macros::datetime;

    fn identity(added: OffsetDateTime) -> Identity {
        Identity {
            id: "id".into(),
            name: IdentityName::parse("work").unwrap(),
            access_key_id: AccessKeyId::parse("AKIAIOSFODNN7EXAMPLE").unwrap(),
            account: Some("123456789012".into()),
            arn: Some("arn:aws:iam::123456789012:user/work".into()),
            user_id: None,
            verified: true,
            added_at: added,
            key_created_at: None,
            facts: None,
            endpoints: None,
        }
    }

    fn kinds(f: &[Finding]) -> Vec<FindingKind> {
        f.iter().map(|f| f.kind).collect()
    }

    #[test]
    fn the_ninety_day_rule_and_its_text() {
        assert!(!is_old(90));
        assert!(is_old(91));
        assert_eq!(age_text(12), "12 d");
        assert_eq!(age_text(120), "120 d — rotate (over 90 d)");
    }

    #[test]
    fn a_fresh_key_has_no_findings() {
        let now = datetime!(2025-06-01 0:00 UTC);
        let i = identity(now - time::Duration::days(MAX_AGE_DAYS));
        assert!(findings(&i, None, now).is_empty());
    }

    #[test]
    fn old_root_keys_and_rotations_are_found() {
        let now = datetime!(2025-06-01 0:00 UTC);
        let mut i = identity(now - time::Duration::days(MAX_AGE_DAYS + 1));
        i.arn = Some("arn:aws:iam::123456789012:root".into());
        i.facts = Some(KeyFacts {
            checked_at: now,
            active_keys: 2,
            total_keys: 2,
            last_used_at: None,
            last_used_service: None,
            last_used_region: None,
        });
        let found = findings(&i, None, now);
        assert_eq!(
            kinds(&found),
            [
                FindingKind::OldKey,
                FindingKind::Root,
                FindingKind::TwoActive
            ]
        );
        assert!(found[0].message.contains("91 days old"), "{:?}", found[0]);

        // Two active keys during a rotation are the rotation, not a finding.
        let rotation = Rotation {
            version: 1,
            step: Step::Switched,
            old_key_id: i.access_key_id.clone(),
            new_key_id: None,
            new_key_created: None,
            old_key_created: None,
            started_at: now,
            switched_at: None,
            deactivated_at: None,
            grace_secs: 0,
        };
        let found = findings(&i, Some(rotation.step.number()), now);
        assert_eq!(
            kinds(&found),
            [
                FindingKind::OldKey,
                FindingKind::Root,
                FindingKind::Rotation
            ]
        );
        assert!(found[2].message.contains("step 3 of 6"), "{:?}", found[2]);
    }

    #[test]
    fn a_known_creation_date_wins_over_the_added_date() {
        let now = datetime!(2025-06-01 0:00 UTC);
        let mut i = identity(now);
        i.key_created_at = Some(now - time::Duration::days(200));
        assert_eq!(kinds(&findings(&i, None, now)), [FindingKind::OldKey]);
    }
}
