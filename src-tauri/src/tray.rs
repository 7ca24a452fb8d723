//! The tray: the current default profile and its time left, a Profiles
//! submenu grouped by identity (locked ones marked) to switch in one
//! click, "Lock all", "Open keyfob" and "Quit".
//!
//! The menu follows what changes outside the app too: a watcher thread
//! looks every [`WATCH_EVERY`] at the default (`keyfob use` in a shell),
//! the profiles and the sessions (a session that expires, `keyfob lock`),
//! rebuilds the menu when any of them, or the minute shown, changed, and
//! tells the UI (the [`CHANGED_EVENT`]) when more than the minute did.

use std::sync::Mutex;
use std::time::Duration;

use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::{MouseButton, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Emitter, Manager, Wry};
use time::OffsetDateTime;

use keyfob::app;

use crate::desk::{Desk, renew_webview};
use crate::window::{CHANGED_EVENT, show_main_window};

const TRAY_ID: &str = "keyfob";
const USE_PREFIX: &str = "use:";
const WATCH_EVERY: Duration = Duration::from_secs(1);

/// What the menu shows, read from the files and the sessions.
#[derive(Clone, PartialEq, Eq, Default)]
struct Snapshot {
    current: Option<String>,
    /// (identity, profile) in the order shown.
    profiles: Vec<(String, String)>,
    /// (profile, expiry as a Unix time).
    sessions: Vec<(String, i64)>,
}

impl Snapshot {
    fn read(desk: &Desk) -> Snapshot {
        let current = app::current(&desk.kf).ok().flatten();
        let mut profiles: Vec<(String, String)> = desk
            .kf
            .profiles()
            .unwrap_or_default()
            .iter()
            .map(|p| (p.identity.to_string(), p.name.clone()))
            .collect();
        profiles.sort();
        let sessions = app::sessions(&desk.kf)
            .unwrap_or_default()
            .into_iter()
            .map(|s| (s.profile, s.expires_at.unix_timestamp()))
            .collect();
        Snapshot {
            current,
            profiles,
            sessions,
        }
    }

    fn expiry(&self, profile: &str) -> Option<i64> {
        self.sessions
            .iter()
            .find(|(p, _)| p == profile)
            .map(|(_, e)| *e)
    }

    /// "29 min left", "11 h 05 min left", or "locked", at `now`.
    fn state(&self, profile: &str, now: i64) -> String {
        match self.expiry(profile) {
            Some(e) if e > now => format!("{} left", minutes(e - now)),
            _ => "locked".to_owned(),
        }
    }

    /// The first line: the default and its time left.
    fn headline(&self, now: i64) -> String {
        match &self.current {
            Some(p) => format!("Default: {p} — {}", self.state(p, now)),
            None => "No default profile".to_owned(),
        }
    }
}

/// Whole minutes, rounded up, as the tray shows them.
fn minutes(secs: i64) -> String {
    let m = (secs + 59) / 60;
    if m >= 60 {
        format!("{} h {:02} min", m / 60, m % 60)
    } else {
        format!("{m} min")
    }
}

/// The last snapshot shown and the minute it was shown at.
#[derive(Default)]
pub struct Shown(Mutex<Option<(Snapshot, i64)>>);

fn now_unix() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

fn menu(handle: &AppHandle, snap: &Snapshot, now: i64) -> tauri::Result<Menu<Wry>> {
    let menu = Menu::new(handle)?;
    menu.append(&MenuItem::with_id(
        handle,
        "current",
        snap.headline(now),
        false,
        None::<&str>,
    )?)?;
    menu.append(&PredefinedMenuItem::separator(handle)?)?;
    let profiles = Submenu::with_id(handle, "profiles", "Profiles", true)?;
    let mut last_identity: Option<&str> = None;
    for (identity, name) in &snap.profiles {
        if last_identity != Some(identity.as_str()) {
            if last_identity.is_some() {
                profiles.append(&PredefinedMenuItem::separator(handle)?)?;
            }
            profiles.append(&MenuItem::with_id(
                handle,
                format!("identity:{identity}"),
                identity,
                false,
                None::<&str>,
            )?)?;
            last_identity = Some(identity);
        }
        let checked = snap.current.as_deref() == Some(name.as_str());
        profiles.append(&CheckMenuItem::with_id(
            handle,
            format!("{USE_PREFIX}{name}"),
            format!("{name} — {}", snap.state(name, now)),
            true,
            checked,
            None::<&str>,
        )?)?;
    }
    if snap.profiles.is_empty() {
        profiles.append(&MenuItem::with_id(
            handle,
            "none",
            "No profiles yet",
            false,
            None::<&str>,
        )?)?;
    }
    menu.append(&profiles)?;
    menu.append(&PredefinedMenuItem::separator(handle)?)?;
    for (id, label) in [
        ("lock_all", "Lock all"),
        ("open", "Open keyfob"),
        ("quit", "Quit"),
    ] {
        menu.append(&MenuItem::with_id(handle, id, label, true, None::<&str>)?)?;
    }
    Ok(menu)
}

pub fn create(handle: &AppHandle) -> tauri::Result<()> {
    let icon = Image::from_bytes(include_bytes!("../../icons/tray.png"))?;
    let snap = Snapshot::read(&handle.state::<Desk>());
    let now = now_unix();
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon)
        .tooltip(tooltip(&snap, now))
        .menu(&menu(handle, &snap, now)?)
        .show_menu_on_left_click(true)
        .on_menu_event(on_menu)
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::DoubleClick {
                button: MouseButton::Left,
                ..
            } = event
            {
                show_main_window(tray.app_handle());
            }
        })
        .build(handle)?;
    handle.manage(Shown(Mutex::new(Some((snap, now / 60)))));
    Ok(())
}

fn tooltip(snap: &Snapshot, now: i64) -> String {
    match &snap.current {
        Some(p) => format!("keyfob — {p} ({})", snap.state(p, now)),
        None => "keyfob".to_owned(),
    }
}

/// Reads the state again and rebuilds the menu if anything shown changed;
/// returns true when more than the minute did (so the UI should reload).
fn update(handle: &AppHandle, force: bool) -> bool {
    let Some(desk) = handle.try_state::<Desk>() else {
        return false;
    };
    let snap = Snapshot::read(&desk);
    let now = now_unix();
    let Some(shown) = handle.try_state::<Shown>() else {
        return false;
    };
    let mut last = shown.0.lock().unwrap_or_else(|e| e.into_inner());
    let changed = last.as_ref().is_none_or(|(s, _)| *s != snap);
    let new_minute = last.as_ref().is_none_or(|(_, m)| *m != now / 60);
    if !(force || changed || new_minute) {
        return false;
    }
    if let Some(tray) = handle.tray_by_id(TRAY_ID)
        && let Ok(m) = menu(handle, &snap, now)
    {
        let _ = tray.set_menu(Some(m));
        let _ = tray.set_tooltip(Some(tooltip(&snap, now)));
    }
    *last = Some((snap, now / 60));
    changed
}

/// Brings the menu up to date now (after a command or a tray action);
/// whoever calls it tells the UI if the UI needs telling.
pub fn refresh(handle: &AppHandle) {
    update(handle, false);
}

/// After the tray changed profiles or sessions: refresh the menu and tell
/// the UI.
fn changed(handle: &AppHandle) {
    refresh(handle);
    let _ = handle.emit(CHANGED_EVENT, ());
}

/// Starts the watcher thread (see the module doc).
pub fn watch(handle: AppHandle) {
    let spawned = std::thread::Builder::new()
        .name("tray-watch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(WATCH_EVERY);
                if update(&handle, false) {
                    let _ = handle.emit(CHANGED_EVENT, ());
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the tray watcher");
    }
}

fn on_menu(handle: &AppHandle, event: MenuEvent) {
    let id = event.id().as_ref();
    if let Some(name) = id.strip_prefix(USE_PREFIX) {
        let (handle, name) = (handle.clone(), name.to_owned());
        // The AWS config write and the vault lookup may block: not on the
        // event loop.
        tauri::async_runtime::spawn_blocking(move || {
            if let Err(e) = app::use_profile(
                &handle.state::<Desk>().kf,
                &name,
                &app::Answered { take_over: false },
            ) {
                tracing::warn!("tray: cannot switch to {name}: {e}");
            }
            changed(&handle);
        });
        return;
    }
    match id {
        "lock_all" => {
            let handle = handle.clone();
            tauri::async_runtime::spawn_blocking(move || {
                if let Err(e) = app::lock_all(&handle.state::<Desk>().kf) {
                    tracing::warn!("tray: lock all: {e}");
                }
                refresh(&handle);
                renew_webview(&handle);
            });
        }
        "open" => show_main_window(handle),
        "quit" => handle.exit(0),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_round_up_and_show_hours() {
        assert_eq!(minutes(1), "1 min");
        assert_eq!(minutes(60), "1 min");
        assert_eq!(minutes(61), "2 min");
        assert_eq!(minutes(3600), "1 h 00 min");
        assert_eq!(minutes(3601), "1 h 01 min");
    }

    #[test]
    fn the_headline_names_the_default_and_its_state() {
        let snap = Snapshot {
            current: Some("deploy".into()),
            profiles: vec![("alice".into(), "deploy".into())],
            sessions: vec![("deploy".into(), 1000 + 29 * 60)],
        };
        assert_eq!(snap.headline(1000), "Default: deploy — 29 min left");
        assert_eq!(snap.headline(1000 + 30 * 60), "Default: deploy — locked");
        assert_eq!(Snapshot::default().headline(0), "No default profile");
    }
}
