//! The main window as the rest of the app reaches it: bring it forward,
//! build it afresh from its entry in tauri.conf.json, and the event that
//! tells its page to read the lists again. Uses nothing of the app's own
//! state, so every other module (the tray, the prompt, the shortcut, the
//! instance guard) may use it.

use tauri::{AppHandle, Manager, WebviewWindowBuilder};

/// Emitted after the tray (or the CLI, as the tray's watcher sees it)
/// changed something, so the UI reloads its lists.
pub const CHANGED_EVENT: &str = "keyfob://changed";

/// Shows, unminimises and focuses the main window.
pub fn show_main_window(handle: &AppHandle) {
    if let Some(w) = handle.get_webview_window("main") {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
}

/// The main window, built from its entry in tauri.conf.json.
pub fn build_main_window(handle: &AppHandle, visible: bool) -> tauri::Result<()> {
    let Some(conf) = handle
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == "main")
        .cloned()
    else {
        return Ok(());
    };
    let w = WebviewWindowBuilder::from_config(handle, &conf)?
        .visible(visible)
        .build()?;
    if visible {
        let _ = w.set_focus();
    }
    Ok(())
}
