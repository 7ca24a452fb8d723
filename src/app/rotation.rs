//! The IAM guide's staged, no-downtime key rotation as a persisted state
//! machine:
//!
//! 1. create a second key while the first stays active (sealed at once:
//!    AWS shows its secret only now);
//! 2. verify it with GetCallerIdentity (retrying while IAM propagates) and
//!    switch the vault to it — one write of the index;
//! 3. report the old key's last use;
//! 4. `--continue`: deactivate the old key, warning if it was used after
//!    the switch;
//! 5. `--rollback` (at any step): re-activate the old key, switch back,
//!    delete the new one;
//! 6. `--continue` after the grace period: delete the old key.
//!
//! The state is written to the store before each step's AWS call and after
//! it, and every step is safe to run again, so a crash or `kill -9` at any
//! point leaves a state that `--continue` or `--rollback` finishes. The
//! identity's active key in the vault is always one that works: it changes
//! only by [`Vault::switch_key`], after the new key was verified.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::app::access_keys::KeysError;
use crate::aws::AwsError;
use crate::aws::iam::{AccessKeyInfo, Iam, LastUsed};
use crate::aws::sts;
use crate::model::identity::{AccessKeyId, Identity};
use crate::model::secret::{Pin, SecretAccessKey};
use crate::vault::{Vault, VaultError};

pub const DEFAULT_GRACE_SECS: u64 = 7 * 24 * 3600;
const STATE_VERSION: u32 = 1;

/// Where a rotation stands, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// CreateAccessKey may have been called; the new key is not sealed yet.
    Creating,
    /// The new key exists and is sealed beside the old one.
    Created,
    /// The vault uses the new key; the old one is still active.
    Switched,
    /// The old key is inactive; it is deleted after the grace period.
    Deactivated,
}

impl Step {
    /// The step of the guide's six this state has completed.
    pub fn number(self) -> u8 {
        match self {
            Step::Creating => 0,
            Step::Created => 1,
            Step::Switched => 3,
            Step::Deactivated => 4,
        }
    }
}

/// One of the IAM guide's six steps, and whether a rotation has done it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuideStep {
    pub number: u8,
    pub text: &'static str,
    pub done: bool,
}

/// The guide's six steps, as both faces show them.
const GUIDE: [&str; 6] = [
    "Create a second key while the first stays active",
    "Verify it and switch the vault to it",
    "Check the old key's last use",
    "Deactivate the old key",
    "Confirm nothing broke (rolling back re-activates the old key)",
    "Delete the old key after the grace period",
];

/// The six steps in order, each done when the rotation's state has
/// completed it ([`Step::number`]); none without a rotation. Step 5 is the
/// grace period itself and step 6 ends the rotation (its record is gone
/// once the old key is deleted), so neither is ever shown done.
pub fn guide_steps(state: Option<&Rotation>) -> Vec<GuideStep> {
    let through = state.map_or(0, |s| s.step.number());
    (1..)
        .zip(GUIDE)
        .map(|(number, text)| GuideStep {
            number,
            text,
            done: number <= through,
        })
        .collect()
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotation {
    pub version: u32,
    pub step: Step,
    pub old_key_id: AccessKeyId,
    pub new_key_id: Option<AccessKeyId>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub new_key_created: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub old_key_created: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub switched_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub deactivated_at: Option<OffsetDateTime>,
    pub grace_secs: u64,
}

impl Rotation {
    /// When the old key may be deleted.
    pub fn delete_after(&self) -> Option<OffsetDateTime> {
        self.deactivated_at
            .map(|d| d + time::Duration::seconds(self.grace_secs as i64))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error("IAM refused {action}: {source}")]
    Aws {
        action: &'static str,
        source: AwsError,
    },
    #[error("identity {name} has no rotation in progress — `keyfob rotate {name}` starts one")]
    NotStarted { name: String },
    #[error(
        "identity {name} is already rotating (step {step}) — `keyfob rotate {name} --continue` or `--rollback`"
    )]
    InProgress { name: String, step: u8 },
    #[error(
        "the user already has two access keys; AWS allows two. Deal with {other} first: it is not in the vault ({status}) — `keyfob keys {name} delete {other}` (deactivate it first if it is active)"
    )]
    TwoKeys {
        name: String,
        other: String,
        status: String,
    },
    #[error("the new key {key} was not accepted by STS after {secs} s: {source}")]
    NotVerified {
        key: AccessKeyId,
        secs: u64,
        source: AwsError,
    },
    #[error(
        "the old key may be deleted after {when} (grace period) — run `--continue` then, or `--continue --grace 0s` to delete it now"
    )]
    Grace { when: String },
    #[error(
        "the vault's active key is not the one this rotation switched to (a rollback was interrupted?) — run `keyfob rotate {name} --rollback`"
    )]
    Inconsistent { name: String },
    #[error("the rotation state of {name} is unreadable: {message}")]
    Corrupt { name: String, message: String },
}

fn aws(action: &'static str) -> impl FnOnce(AwsError) -> RotationError {
    move |source| RotationError::Aws { action, source }
}

/// What a step did, for the caller to report.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Report {
    pub lines: Vec<String>,
    pub warnings: Vec<String>,
    /// Whether the vault's key changed (sessions must be renewed).
    pub switched: bool,
}

impl Report {
    fn say(&mut self, line: impl Into<String>) {
        self.lines.push(line.into());
    }
}

pub fn load(vault: &Vault, identity: &Identity) -> Result<Option<Rotation>, RotationError> {
    match vault.rotation_state(identity)? {
        None => Ok(None),
        Some(bytes) => {
            serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| RotationError::Corrupt {
                    name: identity.name.to_string(),
                    message: e.to_string(),
                })
        }
    }
}

fn save(vault: &Vault, identity: &Identity, state: &Rotation) -> Result<(), RotationError> {
    // Plain data: serialising cannot fail.
    let bytes = serde_json::to_vec(state).expect("rotation state serialises");
    Ok(vault.put_rotation_state(identity, &bytes)?)
}

/// An IAM client signed with the identity's active key.
fn iam_for(vault: &Vault, identity: &Identity, pin: &Pin) -> Result<Iam, RotationError> {
    crate::app::access_keys::connect(vault, identity, pin).map_err(|e| match e {
        KeysError::Vault(v) => RotationError::Vault(v),
        KeysError::Aws { action, source } => RotationError::Aws { action, source },
        // connect only unseals and connects.
        other => RotationError::Corrupt {
            name: identity.name.to_string(),
            message: other.to_string(),
        },
    })
}

/// Checks a rotation may start (none in progress, room for a second key)
/// and records step 0 before CreateAccessKey is called.
fn begin(
    vault: &Vault,
    identity: &Identity,
    pin: &Pin,
    grace_secs: u64,
) -> Result<(Iam, Rotation), RotationError> {
    if let Some(state) = load(vault, identity)? {
        return Err(RotationError::InProgress {
            name: identity.name.to_string(),
            step: state.step.number(),
        });
    }
    let iam = iam_for(vault, identity, pin)?;
    let keys = iam.list_keys().map_err(aws("iam:ListAccessKeys"))?;
    check_room(identity, &keys)?;
    let state = Rotation {
        version: STATE_VERSION,
        step: Step::Creating,
        old_key_id: identity.access_key_id.clone(),
        new_key_id: None,
        new_key_created: None,
        old_key_created: keys
            .iter()
            .find(|k| k.access_key_id == identity.access_key_id.as_str())
            .and_then(|k| k.created),
        started_at: OffsetDateTime::now_utc(),
        switched_at: None,
        deactivated_at: None,
        grace_secs,
    };
    save(vault, identity, &state)?;
    Ok((iam, state))
}

/// Steps 1–3: create, seal, verify, switch, report the old key's use.
///
/// One locked unit of the vault ([`Vault::locked`]): no other keyfob
/// process changes the identity's keys while the step runs.
pub fn start(
    vault: &Vault,
    identity: &Identity,
    pin: &Pin,
    grace_secs: u64,
) -> Result<Report, RotationError> {
    vault.locked(|| start_steps(vault, identity, pin, grace_secs))
}

fn start_steps(
    vault: &Vault,
    identity: &Identity,
    pin: &Pin,
    grace_secs: u64,
) -> Result<Report, RotationError> {
    let (iam, state) = begin(vault, identity, pin, grace_secs)?;
    let mut report = Report::default();
    let state = create(vault, identity, pin, &iam, state, &mut report)?;
    let state = switch(vault, identity, pin, state, &mut report)?;
    report_old_use(&iam, &state, &mut report);
    Ok(report)
}

/// `keyfob keys NAME create`: step 1 alone. The new key is sealed beside
/// the active one and the rotation waits at step 1 for `--continue` (verify
/// and switch) or `--rollback` (delete it).
///
/// One locked unit of the vault ([`Vault::locked`]): no other keyfob
/// process changes the identity's keys while the step runs.
pub fn create_second_key(
    vault: &Vault,
    identity: &Identity,
    pin: &Pin,
) -> Result<Report, RotationError> {
    vault.locked(|| create_second_key_steps(vault, identity, pin))
}

fn create_second_key_steps(
    vault: &Vault,
    identity: &Identity,
    pin: &Pin,
) -> Result<Report, RotationError> {
    let (iam, state) = begin(vault, identity, pin, DEFAULT_GRACE_SECS)?;
    let mut report = Report::default();
    create(vault, identity, pin, &iam, state, &mut report)?;
    Ok(report)
}

/// Refuses to start when the user already has two keys.
fn check_room(identity: &Identity, keys: &[AccessKeyInfo]) -> Result<(), RotationError> {
    if keys.len() < 2 {
        return Ok(());
    }
    let other = keys
        .iter()
        .find(|k| k.access_key_id != identity.access_key_id.as_str())
        .unwrap_or(&keys[0]);
    Err(RotationError::TwoKeys {
        name: identity.name.to_string(),
        other: other.access_key_id.clone(),
        status: if other.active { "active" } else { "inactive" }.into(),
    })
}

/// Step 1: create the new key and seal it before anything else.
fn create(
    vault: &Vault,
    identity: &Identity,
    pin: &Pin,
    iam: &Iam,
    mut state: Rotation,
    report: &mut Report,
) -> Result<Rotation, RotationError> {
    let new = iam.create_key().map_err(aws("iam:CreateAccessKey"))?;
    let new_id = AccessKeyId::parse(&new.access_key_id).map_err(|e| RotationError::Corrupt {
        name: identity.name.to_string(),
        message: format!("CreateAccessKey returned an unexpected key ID: {e}"),
    })?;
    vault.store_key(identity, &new_id, &new.secret, pin)?;
    state.step = Step::Created;
    state.new_key_id = Some(new_id.clone());
    state.new_key_created = new.created;
    save(vault, identity, &state)?;
    report.say(format!(
        "1. Created the new key {} and sealed it in the vault.",
        new_id.masked()
    ));
    Ok(state)
}

/// Step 2: verify the new key, then make it the vault's active key.
fn switch(
    vault: &Vault,
    identity: &Identity,
    pin: &Pin,
    mut state: Rotation,
    report: &mut Report,
) -> Result<Rotation, RotationError> {
    let new_id = state
        .new_key_id
        .clone()
        .ok_or_else(|| RotationError::Corrupt {
            name: identity.name.to_string(),
            message: "no new key recorded".into(),
        })?;
    let secret = vault.unseal_key(identity, &new_id, pin)?;
    verify(&identity.endpoints(), &new_id, &secret)?;
    vault.switch_key(identity.name.as_str(), &new_id, state.new_key_created)?;
    state.step = Step::Switched;
    state.switched_at = Some(OffsetDateTime::now_utc());
    save(vault, identity, &state)?;
    report.switched = true;
    report.say(format!(
        "2. STS accepts the new key; the vault now uses {} — every tool using keyfob follows.",
        new_id.masked()
    ));
    Ok(state)
}

/// GetCallerIdentity with the new key, retrying while IAM propagates it
/// (AWS documents up to a few seconds; give it 30).
fn verify(
    endpoints: &crate::model::endpoints::Endpoints,
    key: &AccessKeyId,
    secret: &SecretAccessKey,
) -> Result<(), RotationError> {
    const TRIES: u32 = 12;
    let mut wait = Duration::from_millis(500);
    let started = std::time::Instant::now();
    for attempt in 1..=TRIES {
        match sts::get_caller_identity(endpoints, key.as_str(), secret) {
            Ok(_) => return Ok(()),
            Err(e) if e.is_bad_credentials() && attempt < TRIES => {
                tracing::info!(attempt, "new key not accepted yet; waiting for IAM");
                std::thread::sleep(wait);
                wait = (wait * 2).min(Duration::from_secs(4));
            }
            Err(source) => {
                return Err(RotationError::NotVerified {
                    key: key.clone(),
                    secs: started.elapsed().as_secs(),
                    source,
                });
            }
        }
    }
    unreachable!("the last attempt returns")
}

/// Step 3: when and where the old key was last used.
fn report_old_use(iam: &Iam, state: &Rotation, report: &mut Report) {
    match iam.last_used(state.old_key_id.as_str()) {
        Ok(used) => report.say(format!(
            "3. The old key {} was last used {}. When nothing uses it any more, `--continue` deactivates it.",
            state.old_key_id.masked(),
            describe_use(&used)
        )),
        Err(e) => report.warnings.push(format!("could not read the old key's last use: {e}")),
    }
}

pub fn describe_use(used: &LastUsed) -> String {
    match &used.date {
        None => "never".into(),
        Some(d) => format!(
            "{} ({} in {})",
            d.date(),
            used.service.as_deref().unwrap_or("unknown service"),
            used.region.as_deref().unwrap_or("unknown region")
        ),
    }
}

/// `--continue`: the next step from wherever the rotation stands.
///
/// One locked unit of the vault ([`Vault::locked`]): no other keyfob
/// process changes the identity's keys while the step runs.
pub fn advance(
    vault: &Vault,
    identity: &Identity,
    pin: &Pin,
    grace_secs: Option<u64>,
) -> Result<Report, RotationError> {
    vault.locked(|| advance_steps(vault, identity, pin, grace_secs))
}

fn advance_steps(
    vault: &Vault,
    identity: &Identity,
    pin: &Pin,
    grace_secs: Option<u64>,
) -> Result<Report, RotationError> {
    let mut state = load(vault, identity)?.ok_or_else(|| RotationError::NotStarted {
        name: identity.name.to_string(),
    })?;
    if let Some(g) = grace_secs {
        state.grace_secs = g;
        save(vault, identity, &state)?;
    }
    let mut report = Report::default();
    match state.step {
        Step::Creating => {
            // The crash came between CreateAccessKey and sealing: a key the
            // vault never saw is useless (its secret is gone). Remove it and
            // create again.
            let iam = iam_for(vault, identity, pin)?;
            remove_orphans(&iam, identity, &mut report)?;
            let state = create(vault, identity, pin, &iam, state, &mut report)?;
            let state = switch(vault, identity, pin, state, &mut report)?;
            report_old_use(&iam, &state, &mut report);
        }
        Step::Created => {
            let state = switch(vault, identity, pin, state, &mut report)?;
            let iam = iam_for(vault, &vault.get(identity.name.as_str())?, pin)?;
            report_old_use(&iam, &state, &mut report);
        }
        Step::Switched => {
            let current = vault.get(identity.name.as_str())?;
            if Some(&current.access_key_id) != state.new_key_id.as_ref() {
                return Err(RotationError::Inconsistent {
                    name: identity.name.to_string(),
                });
            }
            let iam = iam_for(vault, &current, pin)?;
            let used = iam
                .last_used(state.old_key_id.as_str())
                .map_err(aws("iam:GetAccessKeyLastUsed"))?;
            if let (Some(at), Some(switched)) = (used.date, state.switched_at)
                && at.date() >= switched.date()
            {
                report.warnings.push(format!(
                    "the old key {} was used after the switch ({}): something still uses it and will fail once it is inactive; `--rollback` re-activates it",
                    state.old_key_id.masked(),
                    describe_use(&used)
                ));
            }
            iam.set_active(state.old_key_id.as_str(), false)
                .map_err(aws("iam:UpdateAccessKey"))?;
            state.step = Step::Deactivated;
            state.deactivated_at = Some(OffsetDateTime::now_utc());
            save(vault, identity, &state)?;
            report.say(format!(
                "4. Deactivated the old key {}. If anything broke, `--rollback` re-activates it.",
                state.old_key_id.masked()
            ));
            report.say(format!(
                "6. After the grace period ({}), `--continue` deletes it.",
                crate::model::duration::human(state.grace_secs)
            ));
        }
        Step::Deactivated => {
            let now = OffsetDateTime::now_utc();
            if let Some(when) = state.delete_after()
                && now < when
            {
                return Err(RotationError::Grace {
                    when: when.to_string(),
                });
            }
            let current = vault.get(identity.name.as_str())?;
            let iam = iam_for(vault, &current, pin)?;
            match iam.delete_key(state.old_key_id.as_str()) {
                Ok(()) => {}
                // Already gone: a crash after the delete; finish the rest.
                Err(e) if e.code() == Some("NoSuchEntity") => {}
                Err(e) => return Err(aws("iam:DeleteAccessKey")(e)),
            }
            vault.forget_key(&current, &state.old_key_id)?;
            vault.clear_rotation_state(&current)?;
            report.say(format!(
                "6. Deleted the old key {}. The rotation is complete.",
                state.old_key_id.masked()
            ));
        }
    }
    Ok(report)
}

/// Deletes keys of the user that are neither the old nor the new key.
fn remove_orphans(
    iam: &Iam,
    identity: &Identity,
    report: &mut Report,
) -> Result<(), RotationError> {
    for key in iam.list_keys().map_err(aws("iam:ListAccessKeys"))? {
        if key.access_key_id != identity.access_key_id.as_str() {
            iam.delete_key(&key.access_key_id)
                .map_err(aws("iam:DeleteAccessKey"))?;
            report.say(format!(
                "Deleted {}, created by an interrupted step 1 (its secret was never sealed).",
                key.access_key_id
            ));
        }
    }
    Ok(())
}

/// `--rollback`: back to the old key, from any step.
///
/// One locked unit of the vault ([`Vault::locked`]): no other keyfob
/// process changes the identity's keys while the step runs.
pub fn rollback(vault: &Vault, identity: &Identity, pin: &Pin) -> Result<Report, RotationError> {
    vault.locked(|| rollback_steps(vault, identity, pin))
}

fn rollback_steps(vault: &Vault, identity: &Identity, pin: &Pin) -> Result<Report, RotationError> {
    let state = load(vault, identity)?.ok_or_else(|| RotationError::NotStarted {
        name: identity.name.to_string(),
    })?;
    let mut report = Report::default();
    let current = vault.get(identity.name.as_str())?;
    // Sign with whichever key the vault uses now; it works (step 2 checked).
    let iam = iam_for(vault, &current, pin)?;
    if state.step == Step::Creating {
        remove_orphans(&iam, &current, &mut report)?;
    }
    if state.step == Step::Deactivated {
        iam.set_active(state.old_key_id.as_str(), true)
            .map_err(aws("iam:UpdateAccessKey"))?;
        report.say(format!(
            "Re-activated the old key {}.",
            state.old_key_id.masked()
        ));
    }
    if current.access_key_id != state.old_key_id {
        vault.switch_key(
            identity.name.as_str(),
            &state.old_key_id,
            state.old_key_created,
        )?;
        report.switched = true;
        report.say(format!(
            "The vault uses the old key {} again.",
            state.old_key_id.masked()
        ));
    }
    if let Some(new_id) = &state.new_key_id {
        match iam.delete_key(new_id.as_str()) {
            Ok(()) => {}
            Err(e) if e.code() == Some("NoSuchEntity") => {}
            Err(e) => return Err(aws("iam:DeleteAccessKey")(e)),
        }
        let old = vault.get(identity.name.as_str())?;
        vault.forget_key(&old, new_id)?;
        report.say(format!("Deleted the new key {}.", new_id.masked()));
    }
    vault.clear_rotation_state(identity)?;
    report.say("Rolled back: the identity is as it was before the rotation.");
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The steps a rotation has done, as both faces mark them: create (1),
    /// switch and look at the last use (2, 3), deactivate (4); confirming
    /// nothing broke (5) is the grace period itself, and deletion (6) ends
    /// the rotation.
    #[test]
    fn each_rotation_state_marks_the_guide_steps_it_has_done() {
        let done = |step: Option<Step>| -> Vec<u8> {
            let state = step.map(|step| Rotation {
                version: 1,
                step,
                old_key_id: AccessKeyId::parse("AKIAIOSFODNN7EXAMPLE").unwrap(),
                new_key_id: None,
                new_key_created: None,
                old_key_created: None,
                started_at: OffsetDateTime::UNIX_EPOCH,
                switched_at: None,
                deactivated_at: None,
                grace_secs: 0,
            });
            guide_steps(state.as_ref())
                .into_iter()
                .filter(|s| s.done)
                .map(|s| s.number)
                .collect()
        };
        assert_eq!(done(None), [] as [u8; 0]);
        assert_eq!(done(Some(Step::Creating)), [] as [u8; 0]);
        assert_eq!(done(Some(Step::Created)), [1]);
        assert_eq!(done(Some(Step::Switched)), [1, 2, 3]);
        assert_eq!(done(Some(Step::Deactivated)), [1, 2, 3, 4]);
        assert_eq!(guide_steps(None).len(), 6);
    }
}
