//! What crosses the IPC boundary, shaped for the UI. TypeScript types are
//! generated from these by ts-rs (`cargo test -p keyfob-desktop` writes
//! ui/src/api/bindings/). Form types that carry a secret are received only
//! (Deserialize, never Serialize) and hold it in wiped-on-drop buffers;
//! nothing sent back to the UI carries a secret.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use ts_rs::TS;
use zeroize::Zeroizing;

use keyfob::app::SessionInfo;
use keyfob::identity::Identity;
use keyfob::profile::{Profile, ProfileInput};

/// Keys older than this are flagged, following the IAM guide (as `keyfob
/// list` does).
pub const OLD_KEY_DAYS: i64 = 90;

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// One row of the Identities screen: what `keyfob list` shows.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct IdentityView {
    pub name: String,
    /// Masked: `AKIA…MPLE`.
    pub access_key_id: String,
    pub account: Option<String>,
    pub arn: Option<String>,
    pub verified: bool,
    pub root: bool,
    /// RFC 3339.
    pub added_at: String,
    pub key_age_days: i32,
    /// Past [`OLD_KEY_DAYS`]: time to rotate.
    pub key_old: bool,
}

impl IdentityView {
    pub fn new(i: &Identity, now: OffsetDateTime) -> Self {
        let age = i.key_age_days(now);
        Self {
            name: i.name.to_string(),
            access_key_id: i.access_key_id.masked(),
            account: i.account.clone(),
            arn: i.arn.clone(),
            verified: i.verified,
            root: i.is_root(),
            added_at: rfc3339(i.added_at),
            key_age_days: age.clamp(i32::MIN as i64, i32::MAX as i64) as i32,
            key_old: age > OLD_KEY_DAYS,
        }
    }
}

/// The Add identity form. Received only; the secret and PIN are wiped when
/// it drops.
#[derive(Deserialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct NewIdentityForm {
    pub access_key_id: String,
    #[ts(type = "string")]
    pub secret_access_key: Zeroizing<String>,
    pub identity_name: String,
    #[ts(type = "string")]
    pub pin: Zeroizing<String>,
    #[ts(type = "string")]
    pub pin_confirmation: Zeroizing<String>,
}

/// What STS said about keys being added, shown before they are saved.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct VerifiedKeys {
    pub identity_name: String,
    pub account: String,
    pub arn: String,
    /// A root user's keys: AWS advises against them.
    pub root: bool,
}

/// A profile as the Profiles and Switch screens show it.
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
    pub region: Option<String>,
    /// `[default]` in the AWS config file points at this profile.
    pub is_default: bool,
}

impl ProfileView {
    pub fn new(p: &Profile, current: Option<&str>) -> Self {
        let role = p.role.as_ref();
        Self {
            name: p.name.clone(),
            identity: p.identity.to_string(),
            role_arn: role.map(|r| r.arn.clone()),
            role_account: role.map(|r| r.account.clone()),
            external_id: role.and_then(|r| r.external_id.clone()),
            role_session_name: role.and_then(|r| r.session_name.clone()),
            source_identity: role.and_then(|r| r.source_identity.clone()),
            mfa_serial: p.mfa_serial.clone(),
            duration_secs: p.duration_secs.map(|d| d.min(u32::MAX as u64) as u32),
            region: p.region.clone(),
            is_default: current == Some(p.name.as_str()),
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
        }
    }
}

/// The Unlock form. Received only.
#[derive(Deserialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct UnlockForm {
    pub profile: String,
    #[ts(type = "string")]
    pub pin: Zeroizing<String>,
    pub mfa_code: Option<String>,
}

#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct SessionView {
    pub profile: String,
    pub identity: String,
    /// RFC 3339.
    pub expires_at: String,
}

impl From<SessionInfo> for SessionView {
    fn from(s: SessionInfo) -> Self {
        Self {
            profile: s.profile,
            identity: s.identity,
            expires_at: rfc3339(s.expires_at),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub enum StoreChoice {
    Auto,
    Keychain,
    File,
}

impl From<keyfob::store::Backend> for StoreChoice {
    fn from(b: keyfob::store::Backend) -> Self {
        use keyfob::store::Backend;
        match b {
            Backend::Auto => StoreChoice::Auto,
            Backend::Keychain => StoreChoice::Keychain,
            Backend::File => StoreChoice::File,
        }
    }
}

impl From<StoreChoice> for keyfob::store::Backend {
    fn from(s: StoreChoice) -> Self {
        use keyfob::store::Backend;
        match s {
            StoreChoice::Auto => Backend::Auto,
            StoreChoice::Keychain => Backend::Keychain,
            StoreChoice::File => Backend::File,
        }
    }
}

#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct SettingsView {
    /// The `store` setting in config.toml (takes effect at the next start).
    pub store: StoreChoice,
    /// The store this app opened.
    pub store_in_use: String,
    /// Set when keyfob fell back to the encrypted-file store.
    pub notice: Option<String>,
    pub start_at_login: bool,
    /// The default durations that apply now (the setting, else keyfob's
    /// own), written as the form takes them (`12h`, `1h30m`).
    pub session_duration: String,
    pub role_duration: String,
    pub config_file: String,
    /// Why the prompt service is not running, if it is not.
    pub prompt_service: Option<String>,
}

#[derive(Clone, Debug, Deserialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct SettingsForm {
    pub store: StoreChoice,
    pub start_at_login: bool,
    /// Like `12h` or `45m`; empty for keyfob's default.
    pub session_duration: String,
    pub role_duration: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub enum PromptKind {
    Pin,
    MfaCode,
}

/// A request from `keyfob credential-process` waiting for the person.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct PromptView {
    pub id: u32,
    pub kind: PromptKind,
    pub profile: String,
    pub identity: String,
    pub mfa_serial: Option<String>,
    pub pid: u32,
    pub exe: Option<String>,
}
