//! Starting the app at login: the XDG autostart entry
//! (`~/.config/autostart/keyfob.desktop`), the desktop convention on
//! Linux. Kept by hand rather than through tauri-plugin-autostart for
//! now: on Linux both come down to writing this one file, and this entry
//! names the installed icon (keyfob-desktop) as the menu entry does. On
//! macOS (a LaunchAgent) and Windows (the Run key) the plugin is the way;
//! neither can be built here, so neither is handled yet.

use std::path::{Path, PathBuf};

use keyfob::platform::fsutil::{WriteError, write_atomic};
use keyfob::platform::paths::PathError;

#[derive(Debug, thiserror::Error)]
pub enum AutostartError {
    #[error(transparent)]
    Path(#[from] PathError),
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// The XDG autostart entry that starts the app at login.
fn path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("autostart/keyfob.desktop"))
}

/// Whether the app starts at login (its autostart entry exists).
pub fn enabled() -> bool {
    path().is_some_and(|p| p.is_file())
}

/// Creates or removes the XDG autostart entry for the app at `app_exe`.
pub fn set(app_exe: &Path, on: bool) -> Result<(), AutostartError> {
    let path = path().ok_or(PathError::NoHome)?;
    if !on {
        return match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(WriteError { path, source: e }.into())
            }
            _ => Ok(()),
        };
    }
    let exe = app_exe.to_string_lossy();
    let exec = shlex::try_quote(&exe).unwrap_or(exe.clone());
    let entry = format!(
        "[Desktop Entry]\nType=Application\nName=keyfob\nComment=AWS credential vault and identity switcher\nExec={exec}\nIcon=keyfob-desktop\nX-GNOME-Autostart-enabled=true\n"
    );
    write_atomic(&path, entry.as_bytes(), 0o644)?;
    Ok(())
}
