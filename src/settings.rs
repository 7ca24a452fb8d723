//! Settings in `$XDG_CONFIG_HOME/keyfob/config.toml` (not secret).
//!
//! ```toml
//! [settings]
//! store = "auto"   # auto | keychain | file
//! ```

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use serde::Deserialize;

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

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    pub store: Backend,
}

#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    settings: Settings,
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
        let file: ConfigFile = toml::from_str(&text).map_err(|e| SettingsError::Parse {
            path: path.into(),
            message: e.message().to_owned(),
        })?;
        Ok(file.settings)
    }
}
