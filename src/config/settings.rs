//! Settings in `$XDG_CONFIG_HOME/keyfob/config.toml` (not secret).
//!
//! ```toml
//! [settings]
//! store = "auto"            # auto | keychain | file
//! session_duration = "12h"  # identity sessions (GetSessionToken), 15m–36h
//! role_duration = "1h"      # role sessions (AssumeRole), 15m–12h
//! approvals = "new-programs" # off | new-programs | every-time
//!
//! [settings.approvals_by_profile]
//! prod = "every-time"       # a profile's own rule wins over `approvals`
//! ```
//!
//! A profile's own `duration` wins over these defaults. Without an
//! `approvals` setting the rule is `off`: setups made before approvals
//! existed keep working as they did; keyfob writes `new-programs` when it
//! adds a setup's first identity.

use std::path::{Path, PathBuf};

use std::collections::BTreeMap;

use serde::Deserialize;
use toml_edit::{DocumentMut, Item, Table, value};

use crate::config::profile::Durations;
use crate::model::approval::ApprovalRule;
use crate::model::field::{Field, FieldError};
use crate::model::limits;
use crate::platform::fsutil::{LockError, WriteError};
use crate::platform::paths::{PathError, Paths};
use crate::platform::store::Backend;

/// Why settings could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Path(#[from] PathError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Write(#[from] WriteError),
}

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

/// How long the headless agent waits without a session in its memory or
/// a request before it exits.
pub const DEFAULT_AGENT_IDLE: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// The settings, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub store: Backend,
    /// Session lengths for profiles that set none.
    pub durations: Durations,
    /// `agent_idle`: see [`DEFAULT_AGENT_IDLE`].
    pub agent_idle: std::time::Duration,
    /// The approval rule, and whether config.toml sets one.
    pub approvals: ApprovalRule,
    pub approvals_set: bool,
    /// Profiles' own approval rules.
    pub approvals_by_profile: BTreeMap<String, ApprovalRule>,
    /// Whether new identities are bound to the TPM (`tpm = "prefer"`).
    pub tpm: crate::model::identity::TpmChoice,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            store: Backend::default(),
            durations: Durations::default(),
            agent_idle: DEFAULT_AGENT_IDLE,
            approvals: ApprovalRule::Off,
            approvals_set: false,
            approvals_by_profile: BTreeMap::new(),
            tpm: Default::default(),
        }
    }
}

impl Settings {
    /// The approval rule for profile `name`: its own, else the global one.
    pub fn approval_rule(&self, name: &str) -> ApprovalRule {
        self.approvals_by_profile
            .get(name)
            .copied()
            .unwrap_or(self.approvals)
    }
}

/// `[settings]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    #[serde(default)]
    store: Backend,
    session_duration: Option<String>,
    role_duration: Option<String>,
    agent_idle: Option<String>,
    approvals: Option<String>,
    #[serde(default)]
    approvals_by_profile: BTreeMap<String, String>,
    tpm: Option<String>,
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
    let duration = crate::model::duration::parse(value.trim()).map_err(renamed)?;
    limits::duration_within(duration, range, what).map_err(renamed)?;
    Ok(duration.as_secs())
}

impl Settings {
    /// Reads the settings; a missing file means the defaults.
    pub fn load(path: &Path) -> Result<Settings, SettingsError> {
        let text =
            crate::platform::fsutil::read_or_empty(path).map_err(|source| SettingsError::Read {
                path: path.into(),
                source,
            })?;
        Self::from_text(&text, path)
    }

    /// The settings in `text`, the contents of config.toml at `path` (or
    /// only its `[settings]` table).
    pub fn from_text(text: &str, path: &Path) -> Result<Settings, SettingsError> {
        let parse = |message: String| SettingsError::Parse {
            path: path.into(),
            message,
        };
        let raw = toml::from_str::<ConfigFile>(text)
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
        let agent_idle = match &raw.agent_idle {
            Some(v) => crate::model::duration::parse(v)
                .map_err(|e| parse(format!("[settings] agent_idle: {}", e.reason)))?,
            None => DEFAULT_AGENT_IDLE,
        };
        let rule = |v: &str, at: &str| {
            v.parse::<ApprovalRule>()
                .map_err(|e| parse(format!("[settings] {at}: {}", e.reason)))
        };
        let approvals = match &raw.approvals {
            Some(v) => rule(v, "approvals")?,
            None => ApprovalRule::Off,
        };
        let mut approvals_by_profile = BTreeMap::new();
        for (name, v) in &raw.approvals_by_profile {
            approvals_by_profile.insert(
                name.clone(),
                rule(v, &format!("approvals_by_profile.{name}"))?,
            );
        }
        let tpm = match &raw.tpm {
            Some(v) => v
                .parse()
                .map_err(|e: FieldError| parse(format!("[settings] tpm: {}", e.reason)))?,
            None => Default::default(),
        };
        Ok(Settings {
            tpm,
            store: raw.store,
            durations,
            agent_idle,
            approvals,
            approvals_set: raw.approvals.is_some(),
            approvals_by_profile,
        })
    }
}

/// The `[settings]` the app edits. Durations are as typed (`12h`, `45m`);
/// an empty one means keyfob's default.
#[derive(Clone, Debug, Default)]
pub struct SettingsInput {
    pub store: Backend,
    pub session_duration: String,
    pub role_duration: String,
}

/// Checks every setting, then writes them under `[settings]` in
/// config.toml, keeping the rest of the file (profiles, comments) as it is.
/// The store applies from the next process that opens it; durations from
/// the next session made.
pub fn save(paths: &Paths, input: &SettingsInput) -> Result<(), SaveError> {
    let mut durations = Vec::new();
    for (key, field, text) in [
        (
            "session_duration",
            Field::SessionDuration,
            &input.session_duration,
        ),
        ("role_duration", Field::RoleDuration, &input.role_duration),
    ] {
        let text = text.trim();
        if !text.is_empty() {
            check_default_duration(field, text)?;
        }
        durations.push((key, text));
    }
    let name = match input.store {
        Backend::Auto => "auto",
        Backend::Keychain => "keychain",
        Backend::File => "file",
    };
    edit_settings(paths, |settings| {
        settings.insert("store", value(name));
        for (key, text) in durations {
            if text.is_empty() {
                settings.remove(key);
            } else {
                settings.insert(key, value(text));
            }
        }
        Ok(true)
    })?;
    Ok(())
}

/// Edits `[settings]` of config.toml under its lock, keeping the rest of
/// the file as it is; `edit` returns whether it changed anything.
fn edit_settings(
    paths: &Paths,
    edit: impl FnOnce(&mut Table) -> Result<bool, SaveError>,
) -> Result<bool, SaveError> {
    let path = paths.config_file();
    crate::platform::paths::private_dir(&paths.config_dir)?;
    let _lock = crate::platform::fsutil::lock_for(&path)?;
    let text =
        crate::platform::fsutil::read_or_empty(&path).map_err(|source| SettingsError::Read {
            path: path.clone(),
            source,
        })?;
    let mut doc = text
        .parse::<DocumentMut>()
        .map_err(|e| SettingsError::Parse {
            path: path.clone(),
            message: e.message().to_owned(),
        })?;
    let settings = doc
        .entry("settings")
        .or_insert_with(|| Item::Table(Table::new()))
        .as_table_mut()
        .ok_or_else(|| SettingsError::Parse {
            path: path.clone(),
            message: "`settings` must be a table".into(),
        })?;
    if !edit(settings)? {
        return Ok(false);
    }
    crate::platform::fsutil::write_atomic(&path, doc.to_string().as_bytes(), 0o600)?;
    Ok(true)
}

/// Sets the approval rule: the global one (`profile: None`), or a
/// profile's own (`rule: None` removes it, so the global one applies).
pub fn save_approval_rule(
    paths: &Paths,
    profile: Option<&str>,
    rule: Option<ApprovalRule>,
) -> Result<(), SaveError> {
    edit_settings(paths, |settings| {
        match (profile, rule) {
            (None, Some(rule)) => {
                settings.insert("approvals", value(rule.as_str()));
            }
            (None, None) => {
                settings.remove("approvals");
            }
            (Some(name), rule) => {
                let by = settings
                    .entry("approvals_by_profile")
                    .or_insert_with(|| {
                        let mut t = Table::new();
                        t.set_implicit(false);
                        Item::Table(t)
                    })
                    .as_table_like_mut()
                    .ok_or_else(|| {
                        SaveError::Field(FieldError::new(
                            Field::ApprovalRule,
                            "[settings] approvals_by_profile must be a table",
                        ))
                    })?;
                match rule {
                    Some(rule) => {
                        by.insert(name, value(rule.as_str()));
                    }
                    None => {
                        by.remove(name);
                    }
                }
            }
        }
        Ok(true)
    })?;
    Ok(())
}

/// A new setup's approval rule: `new-programs`, written when keyfob adds
/// the first identity of a config.toml that sets no rule (a setup made
/// before approvals existed keeps `off` until the user turns them on).
/// Whether it wrote it.
pub fn default_approvals_for_new_setup(paths: &Paths) -> Result<bool, SaveError> {
    edit_settings(paths, |settings| {
        if settings.contains_key("approvals") {
            return Ok(false);
        }
        settings.insert("approvals", value(ApprovalRule::NewPrograms.as_str()));
        Ok(true)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::profile::DEFAULT_ROLE_SECS;

    fn load(text: &str) -> Result<Settings, SettingsError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        Settings::load(&path)
    }

    #[test]
    fn the_tpm_setting_defaults_to_prefer_and_names_itself_when_wrong() {
        use crate::model::identity::TpmChoice;
        assert_eq!(load("").unwrap().tpm, TpmChoice::Prefer);
        assert_eq!(
            load("[settings]\ntpm = \"off\"\n").unwrap().tpm,
            TpmChoice::Off
        );
        let e = load("[settings]\ntpm = \"always\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("[settings] tpm: must be require, prefer or off"),
            "{e}"
        );
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

    #[test]
    fn store_setting_keeps_profiles() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths {
            config_dir: dir.path().join("keyfob"),
            data_dir: dir.path().join("data"),
            runtime_dir: dir.path().join("run"),
        };
        std::fs::create_dir_all(&paths.config_dir).unwrap();
        std::fs::write(
            paths.config_file(),
            "# mine\n[profiles.work]\nidentity = \"work\"\n",
        )
        .unwrap();
        let mut input = SettingsInput {
            store: Backend::File,
            session_duration: "8h".into(),
            role_duration: " ".into(),
        };
        save(&paths, &input).unwrap();
        let text = std::fs::read_to_string(paths.config_file()).unwrap();
        assert!(text.starts_with("# mine\n[profiles.work]"));
        let saved = Settings::load(&paths.config_file()).unwrap();
        assert_eq!(saved.store, Backend::File);
        assert_eq!(saved.durations.session_secs, 8 * 3600);
        assert_eq!(saved.durations.role_secs, DEFAULT_ROLE_SECS);

        // A bad duration is refused, naming its field, and nothing is written.
        input.role_duration = "13h".into();
        input.store = Backend::Keychain;
        let err = save(&paths, &input).unwrap_err();
        assert!(
            matches!(&err, SaveError::Field(f) if f.field == Field::RoleDuration),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(paths.config_file()).unwrap(), text);

        // Clearing a duration goes back to the default.
        input.role_duration = String::new();
        input.session_duration = String::new();
        save(&paths, &input).unwrap();
        let saved = Settings::load(&paths.config_file()).unwrap();
        assert_eq!(saved.durations, Durations::default());
    }
}
