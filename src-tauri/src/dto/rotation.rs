//! The rotation wizard on an identity's page (`keyfob rotate`; screen
//! `rotation`): where a rotation stands, the guide's six steps, the
//! wizard's form and what a step did.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use keyfob::app::rotation::{Report, Rotation, guide_steps};
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
