//! The rotation wizard on an identity's page (`keyfob rotate`; screen
//! `rotation`): where a rotation stands, the guide's six steps, the
//! wizard's form and what a step did.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use keyfob::app::rotation::{Report, Rotation, Step};
use keyfob::model::identity::{AccessKeyId, Identity};

use super::rfc3339;
use crate::sealing::Sealed;

/// One of the IAM guide's six rotation steps.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct RotationStepView {
    pub number: u8,
    pub text: String,
    pub done: bool,
}

/// Where an identity's rotation stands (`keyfob rotate NAME --status`).
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct RotationView {
    pub identity: String,
    /// The key the vault uses now (masked).
    pub vault_key: String,
    pub in_progress: bool,
    pub old_key: Option<String>,
    pub new_key: Option<String>,
    /// RFC 3339: when the old key may be deleted.
    pub delete_after: Option<String>,
    /// The grace period, as the form takes it (`7d`, `0s`).
    pub grace: Option<String>,
    pub steps: Vec<RotationStepView>,
}

impl RotationView {
    pub fn new(identity: &Identity, state: Option<&Rotation>) -> Self {
        Self {
            identity: identity.name.to_string(),
            vault_key: identity.access_key_id.masked(),
            in_progress: state.is_some(),
            old_key: state.map(|s| s.old_key_id.masked()),
            new_key: state.and_then(|s| s.new_key_id.as_ref().map(AccessKeyId::masked)),
            delete_after: state.and_then(Rotation::delete_after).map(rfc3339),
            grace: state.map(|s| keyfob::model::duration::human(s.grace_secs)),
            steps: guide_steps(state)
                .into_iter()
                .map(|s| RotationStepView {
                    number: s.number,
                    text: s.text.to_owned(),
                    done: s.done,
                })
                .collect(),
        }
    }
}

// The guide's six steps and which a rotation has done. `keyfob rotate
// --status` (src/bin/keyfob/keys.rs, `print_status`) holds the same table:
// both are to become the library's `keyfob::app::rotation::guide_steps`, with
// this signature; this block then goes and the call above stays.

/// One of the IAM guide's six steps, and whether a rotation has done it.
struct GuideStep {
    number: u8,
    text: &'static str,
    done: bool,
}

const GUIDE: [&str; 6] = [
    "Create a second key while the first stays active",
    "Verify it and switch the vault to it",
    "Check the old key's last use",
    "Deactivate the old key",
    "Confirm nothing broke (roll back re-activates it)",
    "Delete the old key after the grace period",
];

/// The six steps in order; none done without a rotation. Step 6 is never
/// "done": the rotation's record is gone once the old key is deleted.
fn guide_steps(state: Option<&Rotation>) -> Vec<GuideStep> {
    // The last step each state has completed.
    let through = match state.map(|s| s.step) {
        None | Some(Step::Creating) => 0,
        Some(Step::Created) => 1,
        Some(Step::Switched) => 3,
        Some(Step::Deactivated) => 5,
    };
    (1..)
        .zip(GUIDE)
        .map(|(number, text)| GuideStep {
            number,
            text,
            done: number <= through,
        })
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub enum RotateAction {
    Start,
    Continue,
    Rollback,
}

impl From<RotateAction> for keyfob::app::RotateAction {
    fn from(a: RotateAction) -> Self {
        match a {
            RotateAction::Start => Self::Start,
            RotateAction::Continue => Self::Continue,
            RotateAction::Rollback => Self::Rollback,
        }
    }
}

/// The rotation wizard's form. Received only.
#[derive(Deserialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct RotateForm {
    pub identity: String,
    #[ts(type = "import(\"../sealing\").Secret")]
    pub pin: Sealed,
    pub action: RotateAction,
    /// `--grace`: like `7d`, `12h`, `0s`; empty keeps the default (start)
    /// or the recorded one (continue).
    pub grace: String,
}

/// What a rotation step did, and where the rotation stands now.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct RotateResult {
    pub lines: Vec<String>,
    pub warnings: Vec<String>,
    pub status: RotationView,
}

impl RotateResult {
    pub fn new(report: Report, status: RotationView) -> Self {
        Self {
            lines: report.lines,
            warnings: report.warnings,
            status,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The steps a rotation has done, as both faces mark them: create (1),
    /// switch and look at the last use (2, 3), deactivate and confirm
    /// (4, 5); deletion (6) ends the rotation.
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
                started_at: time::OffsetDateTime::UNIX_EPOCH,
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
        assert_eq!(done(Some(Step::Deactivated)), [1, 2, 3, 4, 5]);
        assert_eq!(guide_steps(None).len(), 6);
    }
}
