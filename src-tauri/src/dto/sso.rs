//! Identity Center (screens `add-sso`, `identity`, the sign-in panel of
//! `sign-in.ts`): the Add form, an identity as shown, a sign-in waiting
//! for the person and its result, and a sync's report.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::rfc3339;
use crate::sealing::Sealed;

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
    /// Sign in with a code approved on any device (the device code)
    /// instead of the browser sign-in on this machine.
    #[serde(default)]
    pub use_device_code: bool,
}

/// The "Add AWS sign-in" form (`aws login`'s kind), checked by the
/// library's `NewLogin::parse` and PIN rules (as `keyfob login-session
/// add`). Received only; the PINs arrive sealed.
#[derive(Deserialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct NewLoginForm {
    pub identity_name: String,
    pub region: String,
    #[ts(type = "import(\"../sealing\").Secret")]
    pub pin: Sealed,
    #[ts(type = "import(\"../sealing\").Secret")]
    pub pin_confirmation: Sealed,
    /// Sign in with a browser on another device, typing the code its page
    /// shows (`--remote`).
    #[serde(default)]
    pub remote: bool,
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
    /// `identity-center`, or `aws-sign-in` (`aws login`'s kind).
    pub kind: String,
    /// An AWS sign-in's principal (an ARN).
    pub principal: Option<String>,
}

impl SsoIdentityView {
    /// `held`: the agent holds the identity's sign-in (no PIN needed).
    pub fn new(i: &keyfob::config::sso::SsoIdentity, expired: bool, held: bool) -> Self {
        Self {
            name: i.name.to_string(),
            start_url: i.start_url.clone(),
            region: i.region.clone(),
            scopes: i.scopes.clone(),
            added_at: rfc3339(i.added_at),
            signed_in_at: rfc3339(i.signed_in_at),
            expired,
            held: !expired && held,
            kind: match i.kind {
                keyfob::config::sso::SignInKind::IdentityCenter => "identity-center",
                keyfob::config::sso::SignInKind::Console => "aws-sign-in",
            }
            .into(),
            principal: i.principal.clone(),
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
    /// `device-code`: compare `user_code` in the browser; `browser`: the
    /// browser sign-in on this machine (it comes back by itself);
    /// `enter-code`: open the page on any device and type in the code it
    /// shows (an AWS sign-in's `--remote`).
    pub mode: String,
    /// What is signed in to: `IAM Identity Center` or `AWS`.
    pub service: String,
    pub user_code: Option<String>,
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
}
