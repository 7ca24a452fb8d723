//! What the desktop app does, as plain functions over the library: the
//! orchestration the `keyfob` binary also does (point `[default]` at a
//! profile, save a profile and wire it into the AWS config file, list,
//! unlock and lock sessions, add a verified identity with its profile,
//! run the external-ID guard on a third-party role profile, list and
//! rotate an identity's access keys, the audit findings shown as badges
//! and the 90-day key reminders).
//!
//! The app's Tauri commands delegate here in one to three lines; the CLI
//! may share these in time (today `src/bin/keyfob` has its own copies that
//! add terminal confirmations). Nothing here knows about Tauri, and no
//! function returns a secret.

use std::path::{Path, PathBuf};

use serde::Serialize;
use time::OffsetDateTime;
use toml_edit::{DocumentMut, Item, Table, value};

use crate::aws::AwsError;
use crate::aws::config_file::{AwsFile, ConfigFileError, Flavor};
use crate::aws::sts::{self, CallerIdentity};
use crate::aws::wiring::{self, Ownership};
use crate::field::{Field, FieldError};
use crate::fsutil::{WriteError, write_atomic};
use crate::identity::{AccessKeyId, Identity, IdentityName};
use crate::keys::{self, Finding, KeyRow, KeysError};
use crate::paths::{PathError, Paths};
use crate::profile::{Durations, Profile, ProfileBook, ProfileError};
use crate::prompt::tty::PromptError;
use crate::provider::{Prompter, Provider, ProviderError};
use crate::reminders::{self, Due, Notified};
use crate::rotation::{self, DEFAULT_GRACE_SECS, Report, Rotation, RotationError};
use crate::secret::{Pin, SecretAccessKey};
use crate::session::{CacheError, Session, SessionCache, digest, open_cache};
use crate::settings::{Settings, SettingsError, check_default_duration};
use crate::store::{self, Backend, SecretStore, StoreError};
use crate::thirdparty::{self, ExternalIdGuard, ThirdPartyError};
use crate::vault::{AddOptions, KeyVerifier, NewIdentity, Vault, VaultError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Profile(#[from] ProfileError),
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("could not verify the keys with AWS: {0}")]
    Aws(#[from] AwsError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    ConfigFile(#[from] ConfigFileError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Path(#[from] PathError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error(transparent)]
    ThirdParty(#[from] ThirdPartyError),
    #[error(transparent)]
    Rotation(#[from] RotationError),
    #[error(transparent)]
    Keys(#[from] KeysError),
    #[error("cannot find the AWS config file: set HOME or AWS_CONFIG_FILE")]
    NoAwsConfig,
    #[error(
        "profile {section} in {path} is not managed by keyfob; tick \"take over\" to replace its credential settings (a backup is kept)"
    )]
    NotManaged { section: String, path: PathBuf },
}

impl AppError {
    /// The form field this error belongs next to, if any.
    pub fn field(&self) -> Option<Field> {
        match self {
            AppError::Field(e) => Some(e.field),
            AppError::Vault(v)
            | AppError::Provider(ProviderError::Vault(v))
            | AppError::Rotation(RotationError::Vault(v))
            | AppError::Keys(KeysError::Vault(v)) => v.field(),
            AppError::ThirdParty(ThirdPartyError::Field(e)) => Some(e.field),
            AppError::ThirdParty(
                ThirdPartyError::Unguarded { .. } | ThirdPartyError::Rejected { .. },
            ) => Some(Field::ExternalId),
            AppError::Provider(ProviderError::Field(e)) => Some(e.field),
            AppError::Provider(ProviderError::MfaCodeReused { .. }) => Some(Field::MfaCode),
            AppError::Profile(ProfileError::Invalid { source, .. }) => Some(source.field),
            AppError::Profile(ProfileError::Exists { .. }) => Some(Field::ProfileName),
            // A wrong secret (or unknown key) is what GetCallerIdentity
            // refuses when keys are verified before they are added.
            AppError::Aws(e) if e.is_bad_credentials() => Some(Field::SecretAccessKey),
            _ => None,
        }
    }

    /// Seconds to wait before the next PIN attempt, when a back-off applies.
    pub fn wait_secs(&self) -> Option<i64> {
        match self {
            AppError::Vault(v)
            | AppError::Provider(ProviderError::Vault(v))
            | AppError::Rotation(RotationError::Vault(v))
            | AppError::Keys(KeysError::Vault(v)) => match v {
                VaultError::BackOff { wait_secs, .. } => Some(*wait_secs),
                VaultError::WrongPin {
                    remaining: 0,
                    wait_secs,
                    ..
                } => Some(*wait_secs),
                _ => None,
            },
            AppError::Provider(ProviderError::MfaCodeReused { wait_secs }) => {
                Some(*wait_secs as i64)
            }
            _ => None,
        }
    }

    /// The vault error inside, if any (for the UI's error kinds).
    pub fn vault_error(&self) -> Option<&VaultError> {
        match self {
            AppError::Vault(v)
            | AppError::Provider(ProviderError::Vault(v))
            | AppError::Rotation(RotationError::Vault(v))
            | AppError::Keys(KeysError::Vault(v)) => Some(v),
            _ => None,
        }
    }
}

/// keyfob's folders, the chosen store, and the `keyfob` binary that
/// `credential_process` lines run.
pub struct Keyfob {
    pub paths: Paths,
    pub backend: Backend,
    /// Session lengths for profiles that set none (`[settings]`), as read
    /// at start; [`Keyfob::durations`] follows later changes.
    pub durations: Durations,
    /// The `keyfob` command-line binary (not the app): AWS config sections
    /// run it as `keyfob credential-process NAME`.
    pub cli: PathBuf,
}

impl Keyfob {
    /// Reads the folders and settings from the environment.
    pub fn from_env(cli: PathBuf) -> Result<Keyfob, AppError> {
        let paths = Paths::from_env()?;
        let settings = Settings::load(&paths.config_file())?;
        Ok(Keyfob {
            backend: settings.store,
            durations: settings.durations,
            paths,
            cli,
        })
    }

    /// Opens the store; the notice is set when keyfob fell back to the file
    /// store.
    pub fn open_store(&self) -> Result<store::Opened, StoreError> {
        store::open(self.backend, &self.paths)
    }

    fn store(&self) -> Result<Box<dyn SecretStore>, StoreError> {
        Ok(self.open_store()?.store)
    }

    pub fn vault(&self) -> Result<Vault, VaultError> {
        Ok(Vault::new(self.store()?, &self.paths.runtime_dir))
    }

    /// The same session cache the CLI uses (same namespace).
    pub fn cache(&self) -> Result<Box<dyn SessionCache>, StoreError> {
        let namespace = digest(&[&self.paths.config_dir.to_string_lossy()]);
        open_cache(&namespace, || self.store())
    }

    pub fn book(&self) -> Result<ProfileBook, ProfileError> {
        ProfileBook::load(&self.paths.config_file())
    }

    /// The default durations as config.toml says now (a long-running app
    /// sees settings saved since it started); the start-up ones if the file
    /// no longer parses.
    pub fn durations(&self) -> Durations {
        Settings::load(&self.paths.config_file())
            .map(|s| s.durations)
            .unwrap_or(self.durations)
    }

    /// A profile by name; an identity's name without a profile of its own
    /// means that identity's plain profile (as in the CLI).
    pub fn profile(&self, name: &str) -> Result<Profile, AppError> {
        let found = match self.book()?.get(name) {
            Ok(p) => Ok(p),
            Err(ProfileError::NotFound { .. }) => {
                let identity = self
                    .vault()?
                    .get(name)
                    .map_err(|_| ProfileError::NotFound { name: name.into() })?;
                Ok(Profile::plain(&identity.name))
            }
            Err(e) => Err(e),
        };
        Ok(found?.with_defaults(self.durations()))
    }

    /// Every profile in config.toml, in file order.
    pub fn profiles(&self) -> Result<Vec<Profile>, AppError> {
        let durations = self.durations();
        Ok(self
            .book()?
            .list()?
            .into_iter()
            .map(|p| p.with_defaults(durations))
            .collect())
    }

    /// The identities, as `keyfob list` shows them.
    pub fn identities(&self) -> Result<Vec<Identity>, AppError> {
        Ok(self.vault()?.list()?)
    }
}

/// Where the `keyfob` binary is for an app running as `app_exe`:
/// `KEYFOB_CLI` if set, else a `keyfob` beside the app (a cargo target
/// folder, /usr/bin), else on `PATH`, else `~/.local/bin/keyfob` (where
/// scripts/run installs it).
pub fn find_cli(app_exe: &Path) -> PathBuf {
    if let Some(p) = std::env::var_os("KEYFOB_CLI").filter(|v| !v.is_empty()) {
        return PathBuf::from(p);
    }
    let beside = app_exe.with_file_name("keyfob");
    if beside.is_file() {
        return beside;
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join("keyfob");
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    dirs::home_dir()
        .map(|h| h.join(".local/bin/keyfob"))
        .unwrap_or_else(|| PathBuf::from("keyfob"))
}

fn aws_config() -> Result<(PathBuf, AwsFile), AppError> {
    let path = wiring::config_path().ok_or(AppError::NoAwsConfig)?;
    let file = AwsFile::load(&path, Flavor::Config)?;
    Ok((path, file))
}

/// Refuses to write a section keyfob does not manage unless `take_over`.
fn may_write(file: &AwsFile, path: &Path, section: &str, take_over: bool) -> Result<(), AppError> {
    if !take_over && wiring::ownership(file, section) == Ownership::Unmanaged {
        return Err(AppError::NotManaged {
            section: section.into(),
            path: path.into(),
        });
    }
    Ok(())
}

/// The keyfob profile `[default]` points at, if keyfob manages it
/// (`keyfob current`).
pub fn current(_kf: &Keyfob) -> Result<Option<String>, AppError> {
    let (_, file) = aws_config()?;
    Ok(match wiring::ownership(&file, "default") {
        Ownership::Managed(p) => Some(p),
        _ => None,
    })
}

/// Points `[default]` at `name` (`keyfob use NAME`).
pub fn use_profile(kf: &Keyfob, name: &str, take_over: bool) -> Result<Profile, AppError> {
    let profile = kf.profile(name)?;
    let (path, mut file) = aws_config()?;
    may_write(&file, &path, "default", take_over)?;
    wiring::point_at(
        &mut file,
        "default",
        &profile.name,
        &kf.cli,
        profile.region.as_deref(),
    )?;
    file.save(&path)?;
    Ok(profile)
}

/// Adds or replaces a profile in config.toml and wires it into the AWS
/// config file (`keyfob profile add [--replace]`). The identity must exist.
/// Both files are checked before either is written; a changed profile's
/// cached session is dropped.
pub fn save_profile(
    kf: &Keyfob,
    profile: &Profile,
    replace: bool,
    take_over: bool,
) -> Result<(), AppError> {
    kf.vault()?
        .get(profile.identity.as_str())
        .map_err(|e| match e {
            VaultError::NotFound { name } => AppError::Field(FieldError::new(
                Field::IdentityName,
                format!("no identity named {name}"),
            )),
            other => other.into(),
        })?;
    let mut book = kf.book()?;
    let (path, mut file) = aws_config()?;
    book.put(profile, replace)?;
    may_write(&file, &path, &profile.name, take_over)?;
    wiring::point_at(
        &mut file,
        &profile.name,
        &profile.name,
        &kf.cli,
        profile.region.as_deref(),
    )?;
    book.save()?;
    file.save(&path)?;
    if let Ok(cache) = kf.cache() {
        let _ = cache.delete(&profile.session_key());
    }
    Ok(())
}

/// Removes a profile from config.toml, its AWS config section if keyfob
/// manages it, and its cached session.
pub fn remove_profile(kf: &Keyfob, name: &str) -> Result<Profile, AppError> {
    let mut book = kf.book()?;
    let profile = book.remove(name)?;
    let (path, mut file) = aws_config()?;
    let managed = wiring::ownership(&file, &profile.name) == Ownership::Managed(name.into());
    book.save()?;
    if managed {
        file.remove_profile(&profile.name);
        file.save(&path)?;
    }
    if let Ok(cache) = kf.cache() {
        let _ = cache.delete(&profile.session_key());
    }
    Ok(profile)
}

/// Removes an identity, its sealed key, the profiles that use it (and
/// their AWS config sections and sessions), as `keyfob remove --yes`.
/// Returns the removed profiles' names.
pub fn remove_identity(kf: &Keyfob, name: &str) -> Result<Vec<String>, AppError> {
    let vault = kf.vault()?;
    let identity = vault.get(name)?;
    let mut book = kf.book()?;
    let dependents: Vec<Profile> = book
        .list()?
        .into_iter()
        .filter(|p| p.identity == identity.name)
        .collect();
    vault.remove(name)?;
    let cache = kf.cache().ok();
    for p in &dependents {
        book.remove(&p.name)?;
        if let Some(cache) = &cache {
            let _ = cache.delete(&p.session_key());
            let _ = cache.delete(&p.identity_session_key());
        }
    }
    book.save()?;
    let (path, mut file) = aws_config()?;
    for p in &dependents {
        if wiring::ownership(&file, &p.name) == Ownership::Managed(p.name.clone()) {
            file.remove_profile(&p.name);
        }
    }
    file.save(&path)?;
    Ok(dependents.into_iter().map(|p| p.name).collect())
}

/// A cached session, without its secrets.
#[derive(Clone, Debug, Serialize)]
pub struct SessionInfo {
    pub profile: String,
    pub identity: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// The profiles that have a cached, unexpired session, soonest to expire
/// first.
pub fn sessions(kf: &Keyfob) -> Result<Vec<SessionInfo>, AppError> {
    let cache = kf.cache()?;
    let now = OffsetDateTime::now_utc();
    let mut out = Vec::new();
    for p in kf.profiles()? {
        let Ok(Some(bytes)) = cache.get(&p.session_key()) else {
            continue;
        };
        if let Ok((s, _)) = Session::from_json(&bytes)
            && s.expiration > now
        {
            out.push(SessionInfo {
                profile: p.name.clone(),
                identity: p.identity.to_string(),
                expires_at: s.expiration,
            });
        }
    }
    out.sort_by_key(|s| s.expires_at);
    Ok(out)
}

/// Makes new sessions for a profile with what `prompter` answers
/// (`keyfob unlock`); returns when the session expires.
pub fn unlock(
    kf: &Keyfob,
    name: &str,
    prompter: &dyn Prompter,
) -> Result<OffsetDateTime, AppError> {
    let profile = kf.profile(name)?;
    let cache = kf.cache()?;
    let vault = || kf.vault();
    let provider = Provider::new(
        cache.as_ref(),
        &vault,
        Some(prompter),
        kf.paths.runtime_dir.join("locks"),
    );
    Ok(provider.unlock(&profile)?.expiration)
}

/// Drops a profile's cached session (`keyfob lock NAME`).
pub fn lock(kf: &Keyfob, name: &str) -> Result<(), AppError> {
    let profile = kf.profile(name)?;
    kf.cache()?.delete(&profile.session_key())?;
    Ok(())
}

/// Drops every cached session (`keyfob lock --all`); returns how many.
pub fn lock_all(kf: &Keyfob) -> Result<usize, AppError> {
    let cache = kf.cache()?;
    let keys = cache.keys()?;
    let sessions = keys.iter().filter(|k| !k.starts_with("mfa.")).count();
    for key in keys {
        cache.delete(&key)?;
    }
    Ok(sessions)
}

/// Step one of "Verify and add keys": checks that the name (and its plain
/// profile) is free, then asks STS who the keys belong to. Nothing is
/// stored.
pub fn verify_new_identity(kf: &Keyfob, new: &NewIdentity) -> Result<CallerIdentity, AppError> {
    kf.vault()?.check_name_free(&new.name)?;
    plain_profile_free(kf, &new.name)?;
    Ok(sts::get_caller_identity(
        new.access_key_id.as_str(),
        &new.secret,
    )?)
}

fn plain_profile_free(kf: &Keyfob, name: &IdentityName) -> Result<(), AppError> {
    if kf.book()?.contains(name.as_str()) {
        return Err(FieldError::new(
            Field::IdentityName,
            format!("a profile named {name} exists already; choose another name"),
        )
        .into());
    }
    let (path, file) = aws_config()?;
    if wiring::ownership(&file, name.as_str()) == Ownership::Unmanaged {
        return Err(FieldError::new(
            Field::IdentityName,
            format!(
                "{} has a profile {name} that keyfob does not manage; choose another name",
                path.display()
            ),
        )
        .into());
    }
    Ok(())
}

/// Answers with what STS said in step one, so adding does not call AWS a
/// second time.
struct Verified(CallerIdentity);

impl KeyVerifier for Verified {
    fn verify(&self, _: &AccessKeyId, _: &SecretAccessKey) -> Result<CallerIdentity, AwsError> {
        Ok(self.0.clone())
    }
}

/// Step two: seals and stores an identity that [`verify_new_identity`]
/// verified as `caller`, and creates its plain profile (as `keyfob add`).
pub fn add_verified_identity(
    kf: &Keyfob,
    new: NewIdentity,
    caller: CallerIdentity,
    allow_root: bool,
) -> Result<Identity, AppError> {
    let options = AddOptions {
        no_verify: false,
        allow_root,
    };
    let identity = kf.vault()?.add(new, options, &Verified(caller))?;
    save_profile(kf, &Profile::plain(&identity.name), false, false)?;
    Ok(identity)
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
pub fn save_settings(paths: &Paths, input: &SettingsInput) -> Result<(), AppError> {
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
    let path = paths.config_file();
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => return Err(ProfileError::Read { path, source }.into()),
    };
    let mut doc = text
        .parse::<DocumentMut>()
        .map_err(|e| ProfileError::Parse {
            path: path.clone(),
            message: e.message().to_owned(),
        })?;
    let name = match input.store {
        Backend::Auto => "auto",
        Backend::Keychain => "keychain",
        Backend::File => "file",
    };
    let settings = doc
        .entry("settings")
        .or_insert_with(|| Item::Table(Table::new()))
        .as_table_mut()
        .ok_or_else(|| ProfileError::Parse {
            path: path.clone(),
            message: "`settings` must be a table".into(),
        })?;
    settings.insert("store", value(name));
    for (key, text) in durations {
        if text.is_empty() {
            settings.remove(key);
        } else {
            settings.insert(key, value(text));
        }
    }
    crate::paths::private_dir(&paths.config_dir)?;
    write_atomic(&path, doc.to_string().as_bytes(), 0o600)?;
    Ok(())
}

/// Stores a profile (as [`save_profile`]) after running the external-ID
/// guard when it names a role with an external ID, as `keyfob profile add`
/// does: the role is assumed without the external ID and with it, using the
/// identity's session (cached, or made with what `prompter` answers). An
/// unguarded role is refused and nothing is written, unless
/// `accept_unguarded` (then it is stored marked unguarded). Returns the
/// profile as stored, with its verdict.
pub fn save_guarded_profile(
    kf: &Keyfob,
    mut profile: Profile,
    replace: bool,
    take_over: bool,
    accept_unguarded: bool,
    prompter: &dyn Prompter,
) -> Result<Profile, AppError> {
    if thirdparty::needs_guard(&profile) {
        identity_of(kf, &profile)?;
        // Refuse a taken name before any AWS call.
        if !replace && kf.book()?.contains(&profile.name) {
            return Err(ProfileError::Exists {
                name: profile.name.clone(),
            }
            .into());
        }
        let profile_ref = profile.clone().with_defaults(kf.durations());
        let cache = kf.cache()?;
        let vault = || kf.vault();
        let provider = Provider::new(
            cache.as_ref(),
            &vault,
            Some(prompter),
            kf.paths.runtime_dir.join("locks"),
        );
        let session = thirdparty::identity_session(&provider, &profile_ref).map_err(|e| {
            match e {
                ProviderError::Prompt(PromptError::NotGiven { what, .. }) => {
                    let field = if what == "PIN" {
                        Field::Pin
                    } else {
                        Field::MfaCode
                    };
                    AppError::Field(FieldError::new(
                        field,
                        format!(
                            "needed: the external-ID guard assumes the role with identity {}'s session",
                            profile.identity
                        ),
                    ))
                }
                other => other.into(),
            }
        })?;
        thirdparty::guard(&session, &mut profile, accept_unguarded)?;
    }
    save_profile(kf, &profile, replace, take_over)?;
    Ok(profile)
}

fn identity_of(kf: &Keyfob, profile: &Profile) -> Result<Identity, AppError> {
    kf.vault()?
        .get(profile.identity.as_str())
        .map_err(|e| match e {
            VaultError::NotFound { name } => AppError::Field(FieldError::new(
                Field::IdentityName,
                format!("no identity named {name}"),
            )),
            other => other.into(),
        })
}

/// A profile's external-ID guard verdict, for the profiles table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GuardState {
    /// No role with an external ID: nothing to guard.
    NotApplicable,
    Guarded,
    /// Stored with "accept unguarded": assumable without the external ID.
    Unguarded,
    /// Never checked (imported, written by hand, or older than the guard).
    Unchecked,
}

pub fn guard_state(profile: &Profile) -> GuardState {
    match &profile.role {
        Some(r) if r.external_id.is_some() => match r.external_id_guard {
            Some(ExternalIdGuard::Guarded) => GuardState::Guarded,
            Some(ExternalIdGuard::Unguarded) => GuardState::Unguarded,
            None => GuardState::Unchecked,
        },
        _ => GuardState::NotApplicable,
    }
}

/// The user's access keys and their last use, as `keyfob keys NAME` shows
/// them (IAM calls signed with the long-term key, opened with `pin`); the
/// vault key's facts are recorded for the audit badges.
pub fn access_keys(kf: &Keyfob, name: &str, pin: &Pin) -> Result<Vec<KeyRow>, AppError> {
    let vault = kf.vault()?;
    let identity = vault.get(name)?;
    Ok(keys::list_with_pin(&vault, &identity, pin)?)
}

/// What the rotation wizard asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RotateAction {
    /// Steps 1–3 (`keyfob rotate NAME`).
    Start,
    /// The next step (`--continue`).
    Continue,
    /// Back to the old key (`--rollback`).
    Rollback,
}

/// Runs one rotation action, as `keyfob rotate` does (`grace_secs` as
/// `--grace`); when the vault switched keys, the identity's sessions are
/// renewed with the new key.
pub fn rotate(
    kf: &Keyfob,
    name: &str,
    pin: &Pin,
    action: RotateAction,
    grace_secs: Option<u64>,
) -> Result<Report, AppError> {
    let vault = kf.vault()?;
    let identity = vault.get(name)?;
    let report = match action {
        RotateAction::Start => rotation::start(
            &vault,
            &identity,
            pin,
            grace_secs.unwrap_or(DEFAULT_GRACE_SECS),
        ),
        RotateAction::Continue => rotation::advance(&vault, &identity, pin, grace_secs),
        RotateAction::Rollback => rotation::rollback(&vault, &identity, pin),
    }?;
    if report.switched {
        let current = vault.get(name)?;
        let cache = kf.cache()?;
        let open = || kf.vault();
        keys::renew_sessions(
            cache.as_ref(),
            &open,
            kf.paths.runtime_dir.join("locks"),
            kf.profiles()?,
            kf.durations(),
            &current,
            pin,
        )?;
    }
    Ok(report)
}

/// The identity and where its rotation stands (`keyfob rotate --status`).
pub fn rotation_status(kf: &Keyfob, name: &str) -> Result<(Identity, Option<Rotation>), AppError> {
    let vault = kf.vault()?;
    let identity = vault.get(name)?;
    let state = rotation::load(&vault, &identity)?;
    Ok((identity, state))
}

/// One identity with what `keyfob audit` reports about it without a PIN.
pub struct IdentityAudit {
    pub identity: Identity,
    pub findings: Vec<Finding>,
    /// Warnings for this identity's third-party role profiles that are not
    /// guarded (accepted unguarded, or never checked).
    pub unguarded_profiles: Vec<String>,
}

/// Every identity with its audit findings, for the Identities screen's
/// badges.
pub fn audit(kf: &Keyfob) -> Result<Vec<IdentityAudit>, AppError> {
    let vault = kf.vault()?;
    let unguarded = thirdparty::unguarded(&kf.book()?)?;
    let now = OffsetDateTime::now_utc();
    let mut out = Vec::new();
    for identity in vault.list()? {
        // An unreadable rotation state is itself worth a badge; it must not
        // hide the identity.
        let state = rotation::load(&vault, &identity);
        let rotation = state.as_ref().ok().and_then(Option::as_ref);
        let mut findings = keys::findings(&identity, rotation, now);
        if let Err(e) = state {
            findings.push(Finding {
                kind: keys::FindingKind::Rotation,
                message: e.to_string(),
            });
        }
        let unguarded_profiles = unguarded
            .iter()
            .filter(|p| p.identity == identity.name)
            .filter_map(thirdparty::warning)
            .collect();
        out.push(IdentityAudit {
            identity,
            findings,
            unguarded_profiles,
        });
    }
    Ok(out)
}

/// The keys past 90 days not yet announced (see [`reminders`]).
pub fn due_reminders(kf: &Keyfob) -> Result<Vec<Due>, AppError> {
    let identities = kf.identities()?;
    let notified = Notified::load(&Notified::path(&kf.paths));
    Ok(reminders::due(
        &identities,
        &notified,
        OffsetDateTime::now_utc(),
    ))
}

/// Remembers that `shown` were announced, so they are not again.
pub fn mark_reminded(kf: &Keyfob, shown: &[Due]) -> Result<(), AppError> {
    let path = Notified::path(&kf.paths);
    let mut notified = Notified::load(&path);
    notified.keep_only(&kf.identities()?);
    for d in shown {
        notified.mark(&d.access_key_id);
    }
    notified.save(&path)?;
    Ok(())
}

/// The XDG autostart entry that starts the app at login.
pub fn autostart_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("autostart/keyfob.desktop"))
}

/// Whether the app starts at login (its autostart entry exists).
pub fn starts_at_login() -> bool {
    autostart_path().is_some_and(|p| p.is_file())
}

/// Creates or removes the XDG autostart entry for the app at `app_exe`.
pub fn set_start_at_login(app_exe: &Path, on: bool) -> Result<(), AppError> {
    let path = autostart_path().ok_or(PathError::NoHome)?;
    if !on {
        return match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(WriteError { path, source: e }.into())
            }
            _ => Ok(()),
        };
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| WriteError {
            path: dir.into(),
            source,
        })?;
    }
    let exe = app_exe.to_string_lossy();
    let exec = shlex::try_quote(&exe).unwrap_or(exe.clone());
    let entry = format!(
        "[Desktop Entry]\nType=Application\nName=keyfob\nComment=AWS credential vault and identity switcher\nExec={exec}\nIcon=keyfob-desktop\nX-GNOME-Autostart-enabled=true\n"
    );
    write_atomic(&path, entry.as_bytes(), 0o644)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::DEFAULT_ROLE_SECS;

    #[test]
    fn back_off_and_field_are_read_from_vault_errors() {
        let name = IdentityName::parse("work").unwrap();
        let err = AppError::from(VaultError::BackOff {
            name,
            failures: 6,
            wait_secs: 60,
        });
        assert_eq!(err.wait_secs(), Some(60));
        assert_eq!(err.field(), Some(Field::Pin));
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
        save_settings(&paths, &input).unwrap();
        let text = std::fs::read_to_string(paths.config_file()).unwrap();
        assert!(text.starts_with("# mine\n[profiles.work]"));
        let saved = Settings::load(&paths.config_file()).unwrap();
        assert_eq!(saved.store, Backend::File);
        assert_eq!(saved.durations.session_secs, 8 * 3600);
        assert_eq!(saved.durations.role_secs, DEFAULT_ROLE_SECS);

        // A bad duration is refused, naming its field, and nothing is written.
        input.role_duration = "13h".into();
        input.store = Backend::Keychain;
        let err = save_settings(&paths, &input).unwrap_err();
        assert!(
            matches!(&err, AppError::Field(f) if f.field == Field::RoleDuration),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(paths.config_file()).unwrap(), text);

        // Clearing a duration goes back to the default.
        input.role_duration = String::new();
        input.session_duration = String::new();
        save_settings(&paths, &input).unwrap();
        let saved = Settings::load(&paths.config_file()).unwrap();
        assert_eq!(saved.durations, Durations::default());
    }
}
