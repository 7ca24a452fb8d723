//! The app's side of approvals and the access log: the approvals screen's
//! view (the rule, per profile too, and the approvals that hold), revoking
//! one, setting a rule; the log's entries; and, since the app is the
//! agent, what it does with every access the agent logs ([`announce`]):
//! the log page hears of it at once, and a program that gets a profile for
//! the first time raises a desktop notification.
//!
//! The approvals themselves are the library's (`keyfob::app::approvals`,
//! the agent's book, shared with this app's `Keyfob`), the rule is
//! config.toml's (`keyfob::config::settings`), the log is
//! `keyfob::app::access_log`'s. None of it carries a secret.

use tauri::{AppHandle, Emitter};

use keyfob::app::Keyfob;
use keyfob::app::access_log::{AccessEntry, AccessLog};
use keyfob::config::settings::{self, Settings};

use crate::dto::{AccessView, ApprovalView, ApprovalsView, ProfileRuleView, RuleChoice};
use crate::error::{ErrorKind, UiError};

/// The event the log page listens to; its payload is an [`AccessView`].
pub const EVENT: &str = "keyfob://access";

/// The most entries the log page is sent (the newest): the log holds up
/// to four 1 MiB files, more than a page shows usefully.
pub const MAX_ENTRIES: usize = 2000;

/// The approvals screen: the rules and the approvals that hold now.
pub fn approvals(kf: &Keyfob) -> Result<ApprovalsView, UiError> {
    let settings = Settings::load(&kf.paths.config_file()).map_err(keyfob::app::AppError::from)?;
    let profiles = kf
        .profiles()?
        .iter()
        .map(|p| ProfileRuleView {
            own: settings
                .approvals_by_profile
                .get(&p.name)
                .map(|r| RuleChoice::from(*r)),
            profile: p.name.clone(),
        })
        .collect();
    let approvals = kf
        .approvals
        .list()?
        .iter()
        .map(ApprovalView::from)
        .collect();
    Ok(ApprovalsView {
        rule: settings.approvals.into(),
        profiles,
        approvals,
    })
}

/// Revokes program `id`'s approval for `profile` (until lock or kept).
pub fn revoke(kf: &Keyfob, id: &str, profile: &str) -> Result<ApprovalsView, UiError> {
    if kf.approvals.revoke(Some(id), Some(profile), false)? == 0 {
        return Err(UiError::new(
            ErrorKind::NotFound,
            format!("no approval of {id} for profile {profile}: it was revoked or ran out"),
        ));
    }
    approvals(kf)
}

/// Sets the global rule (`profile: None`), or a profile's own (`rule:
/// None`: the global one applies to it again).
pub fn set_rule(
    kf: &Keyfob,
    profile: Option<&str>,
    rule: Option<RuleChoice>,
) -> Result<ApprovalsView, UiError> {
    if let Some(name) = profile {
        // A rule for a profile that does not exist would never apply.
        kf.profile(name)?;
    }
    let rule = match (profile, rule) {
        // The global rule is always written: removing it would not turn
        // approvals off for a new setup, it would make the next identity
        // added turn them on.
        (None, None) => Some(RuleChoice::Off),
        (_, rule) => rule,
    };
    settings::save_approval_rule(&kf.paths, profile, rule.map(Into::into))?;
    approvals(kf)
}

/// The log's entries, newest first (at most [`MAX_ENTRIES`]).
pub fn log(kf: &Keyfob) -> Result<Vec<AccessView>, UiError> {
    let entries = AccessLog::new(&kf.paths.data_dir)
        .read(&|_| true)
        .map_err(|e| UiError::new(ErrorKind::Internal, e.to_string()))?;
    Ok(entries
        .iter()
        .rev()
        .take(MAX_ENTRIES)
        .map(AccessView::from)
        .collect())
}

/// Called by the agent with every access it logs (on the request's
/// thread: nothing here waits). The page hears of it; a first time
/// raises a notification, whose failure (no notification service, as
/// under Xvfb) costs nothing but a log line.
pub fn announce(handle: &AppHandle, entry: &AccessEntry) {
    let view = AccessView::from(entry);
    let _ = handle.emit(EVENT, &view);
    if entry.first {
        notify_first(handle, &view);
    }
}

fn notify_first(handle: &AppHandle, view: &AccessView) {
    use tauri_plugin_notification::NotificationExt;
    let mut body = format!("{} got a session of profile {}", view.program, view.profile);
    if let Some(account) = &view.account {
        body.push_str(&format!(" (account {account})"));
    }
    body.push_str(" for the first time. The access log in keyfob lists every access.");
    let shown = handle
        .notification()
        .builder()
        .title("keyfob: a program got a profile for the first time")
        .body(body)
        .show();
    if let Err(e) = shown {
        tracing::warn!(error = %e, "cannot show the first-access notification");
    }
}
