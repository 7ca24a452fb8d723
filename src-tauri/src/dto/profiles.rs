//! A profile as the main view, the identity page and the quick
//! switcher show it, with the external-ID guard's verdict, and the profile
//! form (screens `home`, `profile-form`, `quick-switch`).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use keyfob::app::{GuardState, guard_state};
use keyfob::config::profile::{Profile, ProfileInput};

/// A profile as the main view, the identity page and the quick switcher
/// show it.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct ProfileView {
    pub name: String,
    pub identity: String,
    pub role_arn: Option<String>,
    pub role_account: Option<String>,
    pub external_id: Option<String>,
    pub role_session_name: Option<String>,
    pub source_identity: Option<String>,
    pub mfa_serial: Option<String>,
    pub duration_secs: Option<u32>,
    /// The duration as shown and as the form takes it (`1h30m`), or
    /// `default`.
    pub duration: String,
    pub region: Option<String>,
    /// `[default]` in the AWS config file points at this profile.
    pub is_default: bool,
    /// The external-ID guard's verdict.
    pub guard: GuardView,
    /// For a role chain: the profile this one's role is assumed from.
    pub source_profile: Option<String>,
    /// For an Identity Center profile: its role (permission set) name;
    /// its account is `role_account`.
    pub sso_role: Option<String>,
}

/// The external-ID guard's verdict on a profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub enum GuardView {
    /// No role with an external ID.
    NotApplicable,
    /// The role refuses AssumeRole without the external ID.
    Guarded,
    /// Stored with "accept unguarded": assumable without it.
    Unguarded,
    /// Never checked.
    Unchecked,
}

impl From<GuardState> for GuardView {
    fn from(g: GuardState) -> Self {
        match g {
            GuardState::NotApplicable => GuardView::NotApplicable,
            GuardState::Guarded => GuardView::Guarded,
            GuardState::Unguarded => GuardView::Unguarded,
            GuardState::Unchecked => GuardView::Unchecked,
        }
    }
}

impl ProfileView {
    pub fn new(p: &Profile, current: Option<&str>) -> Self {
        let role = p.role.as_ref();
        Self {
            name: p.name.clone(),
            identity: p.identity.to_string(),
            role_arn: role.map(|r| r.arn.clone()),
            role_account: role
                .map(|r| r.account.clone())
                .or_else(|| p.sso.as_ref().map(|s| s.account_id.clone())),
            external_id: role.and_then(|r| r.external_id.clone()),
            role_session_name: role.and_then(|r| r.session_name.clone()),
            source_identity: role.and_then(|r| r.source_identity.clone()),
            mfa_serial: p.mfa_serial.clone(),
            duration_secs: p.duration_secs.map(|d| d.min(u32::MAX as u64) as u32),
            duration: p
                .duration_secs
                .map(keyfob::model::duration::human)
                .unwrap_or_else(|| "default".into()),
            region: p.region.clone(),
            is_default: current == Some(p.name.as_str()),
            guard: guard_state(p).into(),
            source_profile: p.source.as_ref().map(|s| s.name.clone()),
            sso_role: p.sso.as_ref().map(|s| s.role_name.clone()),
        }
    }
}

/// The profile form; validated by the library's `Profile::from_input`, the
/// same code as `keyfob profile add`.
#[derive(Clone, Debug, Deserialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct ProfileForm {
    pub name: String,
    pub identity: String,
    pub role_arn: String,
    pub external_id: String,
    pub role_session_name: String,
    pub source_identity: String,
    pub mfa_serial: String,
    /// `3600`, `1h`, `90m` — what `--duration` accepts.
    pub duration: String,
    pub region: String,
    /// Editing an existing profile.
    pub replace: bool,
    /// Replace an AWS config section keyfob does not manage.
    pub take_over: bool,
    /// Store a role the external-ID guard found unguarded, marked so
    /// (`--accept-unguarded`).
    pub accept_unguarded: bool,
}

impl ProfileForm {
    pub fn input(&self) -> ProfileInput {
        let opt = |s: &String| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        ProfileInput {
            name: self.name.trim().to_owned(),
            identity: self.identity.trim().to_owned(),
            role_arn: opt(&self.role_arn),
            external_id: opt(&self.external_id),
            role_session_name: opt(&self.role_session_name),
            source_identity: opt(&self.source_identity),
            mfa_serial: opt(&self.mfa_serial),
            duration: opt(&self.duration),
            region: opt(&self.region),
            ..ProfileInput::default()
        }
    }
}
