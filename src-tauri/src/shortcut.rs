//! The quick switcher's global shortcut (tauri-plugin-global-shortcut):
//! pressing it anywhere on the desktop brings the window up and tells the
//! UI to open the switcher. The chosen shortcut is a desktop-only setting,
//! kept beside config.toml in `desktop.json` (the CLI has no use for it),
//! read and written under keyfob's file lock with its atomic write.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Emitter};
use tauri_plugin_global_shortcut::{GlobalShortcutExt, Modifiers, Shortcut, ShortcutState};

use crate::error::{ErrorKind, UiError};
use crate::window::show_main_window;

/// The event that opens the switcher in the UI.
pub const EVENT: &str = "keyfob://quick-switch";

/// Unless the person chose another (or none).
pub const DEFAULT: &str = "Ctrl+Alt+K";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct DesktopSettings {
    /// Empty: no global shortcut.
    global_shortcut: String,
}

impl Default for DesktopSettings {
    fn default() -> Self {
        Self {
            global_shortcut: DEFAULT.to_owned(),
        }
    }
}

pub fn settings_path(config_file: &Path) -> PathBuf {
    config_file.with_file_name("desktop.json")
}

/// The shortcut as stored; a missing or unreadable file means the default.
pub fn load(config_file: &Path) -> String {
    std::fs::read_to_string(settings_path(config_file))
        .ok()
        .and_then(|t| serde_json::from_str::<DesktopSettings>(&t).ok())
        .unwrap_or_default()
        .global_shortcut
}

/// Checks a shortcut as typed (`Ctrl+Alt+K`, `Super+Shift+P`); empty is
/// "none". A key without a modifier would be taken from every app, so it
/// is refused.
pub fn parse(text: &str) -> Result<Option<Shortcut>, UiError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let refuse = |why: &str| UiError {
        field: Some("global_shortcut".to_owned()),
        ..UiError::new(
            ErrorKind::Field,
            format!(
                "quick switch shortcut: {why}; write it like Ctrl+Alt+K or Super+Shift+P, or leave it empty for none"
            ),
        )
    };
    let shortcut = Shortcut::from_str(text).map_err(|e| refuse(&e.to_string()))?;
    if shortcut.mods.is_empty() || shortcut.mods == Modifiers::SHIFT {
        return Err(refuse(
            "needs Ctrl, Alt or Super: a plain key would be taken from every other app",
        ));
    }
    Ok(Some(shortcut))
}

/// Writes the setting (the caller has checked it with [`parse`]).
pub fn save(config_file: &Path, text: &str) -> Result<(), UiError> {
    let path = settings_path(config_file);
    let io = |e: &dyn std::fmt::Display| UiError::new(ErrorKind::Config, e.to_string());
    let _lock = keyfob::platform::fsutil::lock_for(&path).map_err(|e| io(&e))?;
    let body = serde_json::to_vec_pretty(&DesktopSettings {
        global_shortcut: text.trim().to_owned(),
    })
    .map_err(|e| io(&e))?;
    keyfob::platform::fsutil::write_atomic(&path, &body, 0o600).map_err(|e| io(&e))
}

/// The plugin, whose handler opens the switcher on a press.
pub fn plugin() -> tauri::plugin::TauriPlugin<tauri::Wry> {
    tauri_plugin_global_shortcut::Builder::new()
        .with_handler(|app, _shortcut, event| {
            if event.state() == ShortcutState::Pressed {
                show_main_window(app);
                let _ = app.emit(EVENT, ());
            }
        })
        .build()
}

/// Registers `text` as the only global shortcut. A shortcut another app
/// holds already is reported, not fatal: Ctrl+K in the window still works.
pub fn apply(handle: &AppHandle, text: &str) -> Result<(), String> {
    let gs = handle.global_shortcut();
    let _ = gs.unregister_all();
    match parse(text) {
        Ok(None) => Ok(()),
        Ok(Some(s)) => gs
            .register(s)
            .map_err(|e| format!("cannot use the shortcut {text}: {e}")),
        Err(e) => Err(e.message),
    }
}
