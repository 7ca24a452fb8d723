//! Settings in `$XDG_CONFIG_HOME/keyfob/config.toml` (not secret).
//!
//! ```toml
//! [settings]
//! store = "auto"            # auto | keychain | file
//! session_duration = "12h"  # identity sessions (GetSessionToken), 15m–36h
//! role_duration = "1h"      # role sessions (AssumeRole), 15m–12h
//! ```
//!
//! A profile's own `duration` wins over these defaults.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::field::{Field, FieldError};
use crate::limits;
use crate::profile::Durations;
use crate::store::Backend;

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
}

/// The settings, checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    pub store: Backend,
    /// Session lengths for profiles that set none.
    pub durations: Durations,
}

/// `[settings]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    #[serde(default)]
    store: Backend,
    session_duration: Option<String>,
    role_duration: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    settings: RawSettings,
}

/// Checks a default duration setting (`12h`, `45m`, …) against its range.
pub fn check_default_duration(field: Field, value: &str) -> Result<u64, FieldError> {
    let (range, what) = match field {
        Field::RoleDuration => (limits::ROLE_DURATION, "a role session"),
        _ => (limits::SESSION_DURATION, "a session"),
    };
    let renamed = |e: FieldError| FieldError::new(field, e.reason);
    let duration = limits::parse_duration(value.trim()).map_err(renamed)?;
    limits::duration_within(duration, range, what).map_err(renamed)?;
    Ok(duration.as_secs())
}

impl Settings {
    /// Reads the settings; a missing file means the defaults.
    pub fn load(path: &Path) -> Result<Settings, SettingsError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Settings::default()),
            Err(source) => {
                return Err(SettingsError::Read {
                    path: path.into(),
                    source,
                });
            }
        };
        let parse = |message: String| SettingsError::Parse {
            path: path.into(),
            message,
        };
        let raw = toml::from_str::<ConfigFile>(&text)
            .map_err(|e| parse(e.message().to_owned()))?
            .settings;
        let mut durations = Durations::default();
        for (field, value, secs) in [
            (
                Field::SessionDuration,
                &raw.session_duration,
                &mut durations.session_secs,
            ),
            (
                Field::RoleDuration,
                &raw.role_duration,
                &mut durations.role_secs,
            ),
        ] {
            if let Some(value) = value {
                *secs = check_default_duration(field, value)
                    .map_err(|e| parse(format!("[settings] {e}")))?;
            }
        }
        Ok(Settings {
            store: raw.store,
            durations,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Settings, SettingsError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        Settings::load(&path)
    }

    #[test]
    fn durations_default_to_the_constants_and_follow_the_settings() {
        assert_eq!(load("").unwrap().durations, Durations::default());
        let s = load("[settings]\nsession_duration = \"8h\"\nrole_duration = \"45m\"\n").unwrap();
        assert_eq!(s.durations.session_secs, 8 * 3600);
        assert_eq!(s.durations.role_secs, 45 * 60);
    }

    #[test]
    fn out_of_range_or_malformed_durations_name_the_setting() {
        for (text, needle) in [
            (
                "session_duration = \"10m\"",
                "default session duration: a session must last",
            ),
            (
                "session_duration = \"37h\"",
                "default session duration: a session must last",
            ),
            (
                "role_duration = \"13h\"",
                "default role duration: a role session must last",
            ),
            (
                "role_duration = \"soon\"",
                "default role duration: must be like",
            ),
            ("role_duration = 3600", "invalid type"),
            ("session_length = \"1h\"", "unknown field"),
        ] {
            let err = load(&format!("[settings]\n{text}\n"))
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }
}
