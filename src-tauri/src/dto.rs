//! What crosses the IPC boundary, shaped for the UI. TypeScript types are
//! generated from these by ts-rs (`cargo test -p keyfob-desktop` writes
//! ui/src/api/bindings/). Form types that carry a secret are received only
//! (Deserialize, never Serialize) and hold it in wiped-on-drop buffers;
//! nothing sent back to the UI carries a secret.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use ts_rs::TS;

use crate::sealing::Sealed;
use keyfob::app::access_keys::{FindingKind, KeyRow};
use keyfob::app::rotation::{Report, Rotation, Step};
use keyfob::app::thirdparty::Issued;
use keyfob::app::{GuardState, IdentityAudit, SessionInfo, guard_state};
use keyfob::config::profile::{Profile, ProfileInput};
use keyfob::model::identity::{AccessKeyId, Identity};

/// Keys older than this are flagged, following the IAM guide (as `keyfob
/// list` does).
pub const OLD_KEY_DAYS: i64 = keyfob::app::access_keys::MAX_AGE_DAYS;

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// An identity as the main view and its own page show it: what `keyfob
/// list` shows.
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
    /// The age as shown (`12 d`, `120 d — rotate (over 90 d)`).
    pub key_age: String,
    /// What `keyfob audit` reports about it without a PIN.
    pub badges: Vec<BadgeView>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub enum BadgeKind {
    /// The key is older than 90 days.
    OldKey,
    /// A root user's keys.
    Root,
    /// A rotation was started and not finished.
    Rotation,
    /// Two active keys and no rotation.
    TwoActive,
    /// A third-party role profile of this identity is not guarded.
    Unguarded,
}

/// One audit finding, shown as a badge with its explanation.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct BadgeView {
    pub kind: BadgeKind,
    /// The badge's short label (`key over 90 days`).
    pub label: String,
    pub text: String,
}

impl BadgeKind {
    /// The short label of a badge of this kind.
    pub fn label(self) -> String {
        match self {
            BadgeKind::OldKey => format!("key over {OLD_KEY_DAYS} days"),
            BadgeKind::Root => "root key".into(),
            BadgeKind::Rotation => "unfinished rotation".into(),
            BadgeKind::TwoActive => "two active keys".into(),
            BadgeKind::Unguarded => "unguarded third-party profile".into(),
        }
    }
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
            key_old: keyfob::app::access_keys::is_old(age),
            key_age: keyfob::app::access_keys::age_text(age),
            badges: Vec::new(),
        }
    }

    /// With the audit's badges.
    pub fn audited(a: &IdentityAudit, now: OffsetDateTime) -> Self {
        let mut view = Self::new(&a.identity, now);
        view.badges = a
            .findings
            .iter()
            .map(|f| {
                let kind = match f.kind {
                    FindingKind::OldKey => BadgeKind::OldKey,
                    FindingKind::Root => BadgeKind::Root,
                    FindingKind::Rotation => BadgeKind::Rotation,
                    FindingKind::TwoActive => BadgeKind::TwoActive,
                };
                BadgeView {
                    kind,
                    label: kind.label(),
                    text: f.message.clone(),
                }
            })
            .chain(a.unguarded_profiles.iter().map(|w| BadgeView {
                kind: BadgeKind::Unguarded,
                label: BadgeKind::Unguarded.label(),
                text: w.clone(),
            }))
            .collect();
        view
    }
}

/// The Add identity form. Received only; the secret and the PINs arrive
/// sealed ([`crate::sealing`]).
#[derive(Deserialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct NewIdentityForm {
    pub access_key_id: String,
    #[ts(type = "import(\"../sealing\").Secret")]
    pub secret_access_key: Sealed,
    pub identity_name: String,
    #[ts(type = "import(\"../sealing\").Secret")]
    pub pin: Sealed,
    #[ts(type = "import(\"../sealing\").Secret")]
    pub pin_confirmation: Sealed,
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

/// The unlock dialog's form (the main view, the quick switcher). Received
/// only.
#[derive(Deserialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct UnlockForm {
    pub profile: String,
    #[ts(type = "import(\"../sealing\").Secret")]
    pub pin: Sealed,
    pub mfa_code: Option<String>,
}

/// A PIN (and MFA code) for one operation. Received only; wiped on drop.
#[derive(Deserialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct PinForm {
    #[ts(type = "import(\"../sealing\").Secret")]
    pub pin: Sealed,
    pub mfa_code: Option<String>,
}

/// One of the user's access keys, as `keyfob keys` shows it. Key IDs are
/// not secret; the CLI prints them whole too.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct KeyView {
    pub access_key_id: String,
    /// `Active` or `Inactive`.
    pub status: String,
    /// RFC 3339.
    pub created: Option<String>,
    pub age_days: Option<i32>,
    /// Past the IAM guide's 90 days.
    pub old: bool,
    /// The age as shown (`12 d`, `120 d — rotate (over 90 d)`, `unknown`).
    pub age: String,
    /// RFC 3339; none if never used.
    pub last_used: Option<String>,
    pub last_used_service: Option<String>,
    pub last_used_region: Option<String>,
    /// The key the vault holds.
    pub in_vault: bool,
}

impl From<KeyRow> for KeyView {
    fn from(k: KeyRow) -> Self {
        Self {
            access_key_id: k.access_key_id,
            status: k.status.clone(),
            created: k.created.map(rfc3339),
            age_days: k.age_days.map(|d| d.clamp(0, i32::MAX as i64) as i32),
            old: k.age_days.is_some_and(keyfob::app::access_keys::is_old),
            age: k
                .age_days
                .map(keyfob::app::access_keys::age_text)
                .unwrap_or_else(|| "unknown".into()),
            last_used: k.last_used.date.map(rfc3339),
            last_used_service: k.last_used.service,
            last_used_region: k.last_used.region,
            in_vault: k.in_vault,
        }
    }
}

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

/// The guide's six steps, as `keyfob rotate --status` lists them.
const STEPS: [&str; 6] = [
    "Create a second key while the first stays active",
    "Verify it and switch the vault to it",
    "Check the old key's last use",
    "Deactivate the old key",
    "Confirm nothing broke (roll back re-activates it)",
    "Delete the old key after the grace period",
];

impl RotationView {
    pub fn new(identity: &Identity, state: Option<&Rotation>) -> Self {
        let done = |n: usize| match state {
            None => false,
            Some(s) => match n {
                1 => s.step >= Step::Created,
                2 | 3 => s.step >= Step::Switched,
                4 | 5 => s.step >= Step::Deactivated,
                _ => false,
            },
        };
        Self {
            identity: identity.name.to_string(),
            vault_key: identity.access_key_id.masked(),
            in_progress: state.is_some(),
            old_key: state.map(|s| s.old_key_id.masked()),
            new_key: state.and_then(|s| s.new_key_id.as_ref().map(AccessKeyId::masked)),
            delete_after: state.and_then(Rotation::delete_after).map(rfc3339),
            grace: state.map(|s| keyfob::model::duration::human(s.grace_secs)),
            steps: STEPS
                .iter()
                .enumerate()
                .map(|(i, text)| RotationStepView {
                    number: i as u8 + 1,
                    text: (*text).to_owned(),
                    done: done(i + 1),
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

/// An external ID generated on the provider page.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct ExternalIdView {
    pub external_id: String,
    /// The customer it was issued to and recorded for, if one was named.
    pub customer: Option<String>,
    /// False when the customer already had this ID.
    pub new: bool,
    /// RFC 3339.
    pub issued_at: Option<String>,
}

impl From<Issued> for ExternalIdView {
    fn from(i: Issued) -> Self {
        Self {
            external_id: i.external_id,
            customer: Some(i.customer),
            new: i.new,
            issued_at: Some(rfc3339(i.issued_at)),
        }
    }
}

/// The provider page's trust-policy form (`keyfob trust-policy`).
#[derive(Clone, Debug, Deserialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct TrustPolicyForm {
    /// The provider's account ID (12 digits); may be empty when a
    /// principal ARN is given.
    pub account: String,
    /// A role of the provider's to name as the principal instead of the
    /// whole account; may be empty.
    pub principal_arn: String,
    pub external_id: String,
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

impl From<keyfob::platform::store::Backend> for StoreChoice {
    fn from(b: keyfob::platform::store::Backend) -> Self {
        use keyfob::platform::store::Backend;
        match b {
            Backend::Auto => StoreChoice::Auto,
            Backend::Keychain => StoreChoice::Keychain,
            Backend::File => StoreChoice::File,
        }
    }
}

impl From<StoreChoice> for keyfob::platform::store::Backend {
    fn from(s: StoreChoice) -> Self {
        use keyfob::platform::store::Backend;
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
    /// The quick switcher's global shortcut (`Ctrl+Alt+K`); empty for
    /// none.
    pub global_shortcut: String,
    /// Why that shortcut is not active (another app holds it …), if not.
    pub shortcut_problem: Option<String>,
}

#[derive(Clone, Debug, Deserialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct SettingsForm {
    pub store: StoreChoice,
    pub start_at_login: bool,
    /// Like `12h` or `45m`; empty for keyfob's default.
    pub session_duration: String,
    pub role_duration: String,
    /// Like `Ctrl+Alt+K`; empty for no global shortcut.
    pub global_shortcut: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub enum PromptKind {
    Pin,
    MfaCode,
    /// An Identity Center identity must sign in again: the page runs the
    /// sign-in (`sso_login` with this prompt's id), which answers it.
    SignIn,
}

// ------------------------------------------------------ Identity Center

/// The "Add Identity Center" form, checked by the library's
/// `NewSso::parse` and PIN rules (as `keyfob sso add`). Received only; the
/// PINs arrive sealed ([`crate::sealing`]).
#[derive(Deserialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct NewSsoForm {
    pub identity_name: String,
    pub start_url: String,
    pub region: String,
    /// Comma-separated; empty for the default (`sso:account:access`).
    pub scopes: String,
    #[ts(type = "import(\"../sealing\").Secret")]
    pub pin: Sealed,
    #[ts(type = "import(\"../sealing\").Secret")]
    pub pin_confirmation: Sealed,
}

/// An Identity Center identity as the main view and its page show it.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct SsoIdentityView {
    pub name: String,
    pub start_url: String,
    pub region: String,
    pub scopes: Vec<String>,
    /// RFC 3339.
    pub added_at: String,
    /// RFC 3339: the last completed sign-in.
    pub signed_in_at: String,
    /// The last use found the sign-in expired (nothing could renew it):
    /// sign in again. Known from this app's own calls only.
    pub expired: bool,
    /// The app (the agent) holds the sign-in unsealed: its profiles get
    /// role sessions without a PIN.
    pub held: bool,
}

impl SsoIdentityView {
    pub fn new(i: &keyfob::config::sso::SsoIdentity, expired: bool) -> Self {
        Self {
            name: i.name.to_string(),
            start_url: i.start_url.clone(),
            region: i.region.clone(),
            scopes: i.scopes.clone(),
            added_at: rfc3339(i.added_at),
            signed_in_at: rfc3339(i.signed_in_at),
            expired,
            held: !expired && keyfob::credentials::sso::holds(i.name.as_str()),
        }
    }
}

/// A completed `sso_login`, and the session it then made, if asked to.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct SignedInView {
    pub identity: SsoIdentityView,
    /// RFC 3339: the expiry of the profile's session made with the same PIN.
    pub session_expires_at: Option<String>,
}

/// What the page shows while a sign-in waits for the person (the payload
/// of the `keyfob://sign-in` event). No secret: the device code stays in
/// Rust; the user code is what the person compares in the browser.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct SignInView {
    /// The page's number for this sign-in (given to the command).
    pub flow: u32,
    pub identity: String,
    pub user_code: String,
    pub verification_uri: String,
    /// The URL with the code filled in, which "Open browser" opens.
    pub verification_uri_complete: Option<String>,
    /// Seconds until the code expires, as of this event.
    pub expires_in_secs: u32,
    /// The browser was opened (else the page says to open the URL).
    pub browser_opened: bool,
}

/// What a sync did, or (dry run) would do, to one profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub enum SyncChangeKind {
    Created,
    Updated,
    Unchanged,
    Renamed,
    Removed,
    Conflict,
}

#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct SyncChangeView {
    pub kind: SyncChangeKind,
    pub profile: String,
    pub account_id: Option<String>,
    pub role_name: Option<String>,
    /// What the CLI prints about it (the new name of a renamed account,
    /// why a name was skipped …).
    pub text: String,
}

/// `keyfob sso sync`'s report.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct SyncReportView {
    pub identity: String,
    pub accounts: u32,
    pub assignments: u32,
    pub dry_run: bool,
    pub changes: Vec<SyncChangeView>,
}

impl From<keyfob::app::SyncReport> for SyncReportView {
    fn from(r: keyfob::app::SyncReport) -> Self {
        use keyfob::app::SyncChange as C;
        let would = if r.dry_run { "would be " } else { "" };
        let changes = r
            .changes
            .into_iter()
            .map(|c| match c {
                C::Created {
                    profile,
                    account_id,
                    role_name,
                } => SyncChangeView {
                    kind: SyncChangeKind::Created,
                    text: format!("{would}created ({account_id} {role_name})"),
                    profile,
                    account_id: Some(account_id),
                    role_name: Some(role_name),
                },
                C::Updated { profile } => SyncChangeView {
                    kind: SyncChangeKind::Updated,
                    text: format!("{would}updated (its region)"),
                    profile,
                    account_id: None,
                    role_name: None,
                },
                C::Unchanged { profile } => SyncChangeView {
                    kind: SyncChangeKind::Unchanged,
                    text: "unchanged".into(),
                    profile,
                    account_id: None,
                    role_name: None,
                },
                C::Renamed { profile, now } => SyncChangeView {
                    kind: SyncChangeKind::Renamed,
                    text: format!(
                        "the template now gives {now} (the account was renamed); kept as {profile}"
                    ),
                    profile,
                    account_id: None,
                    role_name: None,
                },
                C::Removed {
                    profile,
                    account_id,
                    role_name,
                } => SyncChangeView {
                    kind: SyncChangeKind::Removed,
                    text: format!(
                        "{account_id} {role_name} is no longer assigned; kept — remove the profile to delete it"
                    ),
                    profile,
                    account_id: Some(account_id),
                    role_name: Some(role_name),
                },
                C::Conflict { profile, reason } => SyncChangeView {
                    kind: SyncChangeKind::Conflict,
                    text: format!("skipped: {reason}"),
                    profile,
                    account_id: None,
                    role_name: None,
                },
            })
            .collect();
        Self {
            identity: r.identity,
            accounts: r.accounts.min(u32::MAX as usize) as u32,
            assignments: r.assignments.min(u32::MAX as usize) as u32,
            dry_run: r.dry_run,
            changes,
        }
    }
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
    /// Its working directory.
    pub cwd: Option<String>,
    /// The script an interpreter runs (python3, node, a shell's file).
    pub script: Option<String>,
    /// The asking program's parents, nearest first (`bash`, `tmux`).
    pub parents: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sync_report_keeps_every_change_and_says_would_on_a_dry_run() {
        use keyfob::app::{SyncChange, SyncReport};
        let report = |dry_run| SyncReport {
            identity: "corp".into(),
            accounts: 2,
            assignments: 3,
            dry_run,
            changes: vec![
                SyncChange::Created {
                    profile: "prod-Admin".into(),
                    account_id: "111100000000".into(),
                    role_name: "Admin".into(),
                },
                SyncChange::Renamed {
                    profile: "old-Admin".into(),
                    now: "new-Admin".into(),
                },
                SyncChange::Removed {
                    profile: "gone-Admin".into(),
                    account_id: "111100000001".into(),
                    role_name: "Admin".into(),
                },
            ],
        };
        let dry = SyncReportView::from(report(true));
        let kinds: Vec<_> = dry.changes.iter().map(|c| c.kind).collect();
        assert_eq!(
            kinds,
            [
                SyncChangeKind::Created,
                SyncChangeKind::Renamed,
                SyncChangeKind::Removed
            ]
        );
        assert_eq!(dry.changes[0].text, "would be created (111100000000 Admin)");
        assert!(dry.changes[1].text.contains("new-Admin"));
        assert_eq!(dry.changes[2].account_id.as_deref(), Some("111100000001"));
        let applied = SyncReportView::from(report(false));
        assert_eq!(applied.changes[0].text, "created (111100000000 Admin)");
        assert_eq!((applied.accounts, applied.assignments), (2, 3));
    }

    #[test]
    fn every_badge_kind_has_a_label_and_the_old_key_names_the_limit() {
        assert_eq!(BadgeKind::OldKey.label(), "key over 90 days");
        assert_eq!(BadgeKind::Root.label(), "root key");
        assert!(BadgeKind::Rotation.label().contains("rotation"));
        assert!(BadgeKind::Unguarded.label().contains("unguarded"));
        assert!(BadgeKind::TwoActive.label().contains("two active"));
    }
}
