//! The desktop notification when an identity's key passes 90 days: which
//! keys, and the record that each was announced once, are the library's
//! (`keyfob::app::reminders`, through `keyfob::app`); this file only shows them,
//! with notify-rust (the freedesktop notification service over D-Bus).

use std::time::Duration;

use tauri::{AppHandle, Manager};

use crate::desk::Desk;

/// How often a running app looks again (a key can pass 90 days while the
/// app runs for days in the tray).
const EVERY: Duration = Duration::from_secs(6 * 3600);

/// Starts the background check: once at start, then every [`EVERY`].
pub fn spawn(handle: AppHandle) {
    let spawned = std::thread::Builder::new()
        .name("key-reminders".into())
        .spawn(move || {
            loop {
                check(&handle.state::<Desk>());
                std::thread::sleep(EVERY);
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the key reminders");
    }
}

/// Shows the due reminders; records those that were shown, so a missing
/// notification service means "try again next time", not "never".
fn check(desk: &Desk) {
    let due = match keyfob::app::due_reminders(&desk.kf) {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the identities for key reminders");
            return;
        }
    };
    let shown: Vec<_> = due
        .into_iter()
        .filter(|d| {
            notify_rust::Notification::new()
                .appname("keyfob")
                .summary(&d.title())
                .body(&d.body())
                .icon("keyfob-desktop")
                .show()
                .inspect_err(|e| tracing::warn!(error = %e, "cannot show a key reminder"))
                .is_ok()
        })
        .collect();
    if !shown.is_empty()
        && let Err(e) = keyfob::app::mark_reminded(&desk.kf, &shown)
    {
        tracing::warn!(error = %e, "cannot record the key reminders shown");
    }
}
