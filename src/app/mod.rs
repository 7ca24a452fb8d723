//! The application core: every flow of keyfob once, as plain functions
//! over the library, used by both faces — the `keyfob` command line
//! (`src/bin/keyfob`) and the desktop app (`src-tauri`). A face parses its
//! input, asks the person what must be asked (through [`Prompter`] for a
//! PIN or MFA code and [`Confirm`] before changing what they may not want
//! changed), calls one function here and shows the result. Nothing here
//! knows about Tauri or terminals, and no function returns a secret but
//! the session credentials a face asked for.
//!
//! Every edit of config.toml and the AWS config file goes through
//! [`Keyfob::edit_files`]: both files locked (always in that order), read,
//! changed, written atomically, unlocked — so two keyfob processes never
//! lose each other's change.
//!
//! | module | flows |
//! |---|---|
//! | [`profiles`] | `use`, `current`, profile add (with the external-ID guard), remove, `role check` |
//! | [`identities`] | add (verified, or in two steps for the app), remove, rename, change PIN |
//! | [`sessions`] | credential-process, exec/env variables, unlock, lock, the session list |
//! | [`keys`] | access keys, rotation, audit, reminders, whois |
//! | [`import`] | moving plaintext keys and role profiles into keyfob |
//! | [`sso`] | Identity Center identities: add (device sign-in), sign in again, remove |
//! | [`login`] | AWS sign-in identities (`aws login`'s kind): add, sign in again, sign out |

pub mod access_keys;
pub mod access_log;
pub mod approvals;
pub mod console;
mod error;
mod identities;
mod import;
mod keys;
mod login;
mod profiles;
pub mod reminders;
pub mod remote;
pub mod rotation;
mod sessions;
mod sso;
mod sso_sync;
pub mod thirdparty;
pub mod tpm;

pub use error::{AppError, ErrorKind};
pub use identities::*;
pub use import::*;
pub use keys::*;
pub use login::*;
pub use profiles::*;
pub use remote::Flow;
pub use sessions::*;
pub use sso::*;
pub use sso_sync::*;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Once};

use crate::aws::config_file::{AwsFile, Flavor};
use crate::aws::wiring::{self, Ownership};
use crate::config::profile::{Durations, Profile, ProfileBook, ProfileError};
use crate::config::settings::Settings;
use crate::credentials::{Prompter, Provider};
use crate::link::agent_cache::open_cache;
use crate::link::cache::{CacheError, SessionCache};
use crate::model::field::{Field, FieldError};
use crate::model::identity::Identity;
use crate::model::secret::Pin;
use crate::model::session::digest;
use crate::platform::fsutil::{self, FileLock};
use crate::platform::paths::Paths;
use crate::platform::store::{self, Backend, SecretStore, StoreError};
use crate::vault::{Vault, VaultError};

/// What the core asks before it changes something the person may not
/// want changed. Each face answers in its own way: the CLI on the terminal
/// (or `--yes` up front), the app from what its form or dialog said.
pub trait Confirm {
    /// `Ok(())` to go ahead; an error (usually [`AppError::NotConfirmed`])
    /// to refuse, which the flow returns before anything is written.
    fn confirm(&self, question: &Question<'_>) -> Result<(), AppError>;
}

/// The questions [`Confirm`] is asked.
#[derive(Debug)]
pub enum Question<'a> {
    /// Replace the credential settings of an AWS config section that
    /// keyfob does not manage.
    TakeOver {
        section: &'a str,
        path: &'a Path,
    },
    /// Delete an identity and its sealed key.
    RemoveIdentity(&'a Identity),
    /// Delete an Identity Center identity and its sealed sign-in.
    RemoveSsoIdentity(&'a crate::config::sso::SsoIdentity),
    RemoveProfile(&'a str),
    /// Move one key another tool keeps into the vault (`section` names
    /// it: `[dev]`, `aws-vault item dev`).
    Import {
        section: &'a str,
        key: String,
    },
    /// Remove keys now in the vault from the other tool's store that
    /// held them (`source` names the store, `names` the keys).
    RemoveFromSource {
        source: &'a str,
        names: &'a str,
    },
    /// A question the agent asks while it runs a flow, as it sent it.
    Remote {
        text: &'a str,
    },
}

impl Question<'_> {
    /// The question as a sentence, for a face that asks it as text.
    pub fn text(&self) -> String {
        match self {
            Question::TakeOver { section, path } => format!(
                "profile {section} in {} is not managed by keyfob; replace its credential settings (a backup is kept)?",
                path.display()
            ),
            Question::RemoveIdentity(i) => format!(
                "Remove identity {} ({}, account {})? Its sealed key is deleted.",
                i.name,
                i.access_key_id.masked(),
                i.account.as_deref().unwrap_or("unknown")
            ),
            Question::RemoveSsoIdentity(i) => format!(
                "Remove {} identity {} ({}, {})? Its sealed sign-in is deleted.",
                i.kind.describe(),
                i.name,
                i.principal.as_deref().unwrap_or(&i.start_url),
                i.region
            ),
            Question::RemoveProfile(name) => format!("Remove profile {name}?"),
            Question::Import { section, key } => {
                format!("Import {section} ({key}) into the vault?")
            }
            Question::RemoveFromSource { source, names } => {
                format!("The keys of {names} are in the vault now; remove them from {source}?")
            }
            Question::Remote { text } => (*text).to_owned(),
        }
    }
}

/// The app's answers: what the person already chose in the form ("take
/// over" ticked) or a dialog (removal confirmed before the call).
pub struct Answered {
    pub take_over: bool,
}

impl Confirm for Answered {
    fn confirm(&self, question: &Question<'_>) -> Result<(), AppError> {
        match question {
            Question::TakeOver { section, path } if !self.take_over => Err(AppError::NotManaged {
                section: (*section).into(),
                path: (*path).into(),
            }),
            _ => Ok(()),
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
    /// The AWS config file keyfob wires profiles into (`AWS_CONFIG_FILE`
    /// or `~/.aws/config`); `None` without a home folder.
    pub aws_config: Option<PathBuf>,
    /// Shows a one-line notice (the fall-back to the file store), once.
    notify: fn(&str),
    noticed: Once,
    /// Set in the agent (headless or the app): its own session cache, and
    /// sessions are made in this process. Unset in a client (the CLI),
    /// which asks the agent.
    agent_cache: Option<Arc<dyn SessionCache + Send + Sync>>,
    /// The store `auto` settled on at this process's first open: every
    /// later open uses the same one, so a keychain that answers late
    /// cannot split one command's writes between two stores.
    resolved: Arc<std::sync::OnceLock<Backend>>,
    /// The Identity Center sign-ins unsealed in this process (the agent),
    /// shared with its siblings; wiped by `lock --all` and a screen lock.
    pub held: Arc<crate::credentials::held::HeldSignIns>,
    /// The remembered approvals (the agent's: those until lock live in its
    /// memory), shared with its siblings.
    pub approvals: Arc<approvals::ApprovalBook>,
    /// The agent's resolved profiles (see [`Keyfob::profile`]).
    resolved_profiles: Arc<ResolvedProfiles>,
}

impl Keyfob {
    /// Reads the folders and settings from the environment; `store`
    /// overrides the store setting (`--store`).
    pub fn from_env(cli: PathBuf, store: Option<Backend>) -> Result<Keyfob, AppError> {
        Keyfob::new(Paths::from_env()?, store, cli, wiring::config_path())
    }

    /// keyfob over the given folders and AWS config file, with the
    /// settings in `paths`' config.toml.
    pub fn new(
        paths: Paths,
        store: Option<Backend>,
        cli: PathBuf,
        aws_config: Option<PathBuf>,
    ) -> Result<Keyfob, AppError> {
        // Only [settings] is parsed here, not the profiles (a sync writes
        // hundreds): the warm path's start-up does not grow with them.
        let book = ProfileBook::load_for(&paths.config_file(), None)?;
        Keyfob::with_book(paths, store, cli, aws_config, &book)
    }

    /// [`Self::from_env`] and profile `name` as config.toml has it, from
    /// one read of the file: the `keyfob` front's whole start-up. An
    /// identity without a profile of its name is not looked up in the
    /// vault here (the full CLI does that): the front links no store.
    pub fn from_env_with_profile(cli: PathBuf, name: &str) -> Result<(Keyfob, Profile), AppError> {
        let paths = Paths::from_env()?;
        let book = ProfileBook::load_for(&paths.config_file(), Some(name))?;
        let kf = Keyfob::with_book(paths, None, cli, wiring::config_path(), &book)?;
        let profile = with_settings(&kf, &book, name, book.get(name)?);
        Ok((kf, profile))
    }

    /// keyfob with the settings of `book` (read with at least its
    /// `[settings]`).
    fn with_book(
        paths: Paths,
        store: Option<Backend>,
        cli: PathBuf,
        aws_config: Option<PathBuf>,
        book: &ProfileBook,
    ) -> Result<Keyfob, AppError> {
        let settings = Settings::from_text(&book.settings_text(), book.path())?;
        Ok(Keyfob {
            backend: store.unwrap_or(settings.store),
            durations: settings.durations,
            cli,
            aws_config,
            notify: |_| {},
            noticed: Once::new(),
            agent_cache: None,
            resolved: Arc::default(),
            held: Arc::default(),
            approvals: Arc::new(approvals::ApprovalBook::new(&paths.data_dir)),
            resolved_profiles: Arc::default(),
            paths,
        })
    }

    /// This keyfob as the agent: sessions go to the kernel keyring where
    /// it answers, else to this process's memory (returned, so the agent
    /// can count and hand over what it holds).
    pub fn into_agent(mut self) -> (Keyfob, Option<Arc<crate::link::memory::MemoryCache>>) {
        let namespace = self.namespace();
        let (cache, memory): (Arc<dyn SessionCache + Send + Sync>, _) =
            match crate::link::cache::kernel_cache(&namespace) {
                Some(kernel) => (Arc::from(kernel), None),
                None => {
                    let memory = Arc::new(crate::link::memory::MemoryCache::default());
                    (memory.clone(), Some(memory))
                }
            };
        self.agent_cache = Some(cache);
        (self, memory)
    }

    /// Another handle on the same keyfob (the same agent cache, if any).
    pub fn sibling(&self) -> Keyfob {
        Keyfob {
            paths: self.paths.clone(),
            backend: self.backend,
            durations: self.durations,
            cli: self.cli.clone(),
            aws_config: self.aws_config.clone(),
            notify: self.notify,
            noticed: Once::new(),
            agent_cache: self.agent_cache.clone(),
            resolved: self.resolved.clone(),
            held: self.held.clone(),
            approvals: self.approvals.clone(),
            resolved_profiles: self.resolved_profiles.clone(),
        }
    }

    /// Whether this process is the agent (it makes sessions itself).
    pub fn is_agent(&self) -> bool {
        self.agent_cache.is_some()
    }

    /// Where the agent listens, and the binary that starts it.
    pub fn agent_link(&self) -> crate::link::client::AgentLink {
        crate::link::client::AgentLink {
            runtime_dir: self.paths.runtime_dir.clone(),
            exe: self.cli.clone(),
        }
    }

    fn namespace(&self) -> String {
        digest(&[&self.paths.config_dir.to_string_lossy()])
    }

    /// Shows notices with `notify` (the CLI prints them on stderr; the app
    /// shows the one it got when it started in Settings).
    pub fn with_notices(mut self, notify: fn(&str)) -> Keyfob {
        self.notify = notify;
        self
    }

    /// Opens the store; the notice is set when keyfob fell back to the file
    /// store.
    pub fn open_store(&self) -> Result<store::Opened, StoreError> {
        let backend = self.resolved.get().copied().unwrap_or(self.backend);
        let opened = store::open(backend, &self.paths)?;
        if backend == Backend::Auto {
            let _ = self.resolved.set(if opened.notice.is_some() {
                Backend::File
            } else {
                Backend::Keychain
            });
        }
        Ok(opened)
    }

    fn store(&self) -> Result<Box<dyn SecretStore>, StoreError> {
        let opened = self.open_store()?;
        if let Some(notice) = &opened.notice {
            self.noticed.call_once(|| (self.notify)(notice));
        }
        Ok(opened.store)
    }

    pub fn vault(&self) -> Result<Vault, VaultError> {
        Ok(Vault::new(self.store()?, &self.paths.runtime_dir))
    }

    /// The session cache, shared by every keyfob process of this user and
    /// config folder: the kernel keyring where it answers, else the agent's
    /// memory (in the agent itself, or over its socket).
    pub fn cache(&self) -> Result<Box<dyn SessionCache>, StoreError> {
        if let Some(cache) = &self.agent_cache {
            return Ok(Box::new(Shared(cache.clone())));
        }
        Ok(open_cache(&self.namespace(), self.agent_link()))
    }

    /// A session provider over `cache` with `prompter` (none: a locked
    /// profile fails at once).
    pub(crate) fn provider<'a>(
        &'a self,
        cache: &'a dyn SessionCache,
        vault: &'a dyn Fn() -> Result<Vault, VaultError>,
        prompter: Option<&'a dyn Prompter>,
    ) -> Provider<'a> {
        Provider::new(
            cache,
            &self.held,
            vault,
            prompter,
            self.paths.runtime_dir.join("locks"),
        )
    }

    pub fn book(&self) -> Result<ProfileBook, ProfileError> {
        ProfileBook::load(&self.paths.config_file())
    }

    /// config.toml and the AWS config file, locked and read, for one edit
    /// of either or both; [`Files::save`] writes what changed.
    pub fn edit_files(&self) -> Result<Files, AppError> {
        let toml_lock = fsutil::lock_for(&self.paths.config_file())?;
        let aws_path = self.aws_config.clone().ok_or(AppError::NoAwsConfig)?;
        let aws_lock = fsutil::lock_for(&aws_path)?;
        Ok(Files {
            book: self.book()?,
            aws: AwsFile::load(&aws_path, Flavor::Config)?,
            aws_path,
            _locks: Some((toml_lock, aws_lock)),
        })
    }

    /// The same files read without locking, for checks that write nothing.
    pub fn read_files(&self) -> Result<Files, AppError> {
        let aws_path = self.aws_config.clone().ok_or(AppError::NoAwsConfig)?;
        Ok(Files {
            book: self.book()?,
            aws: AwsFile::load(&aws_path, Flavor::Config)?,
            aws_path,
            _locks: None,
        })
    }

    /// The default durations as config.toml says now (a long-running app
    /// sees settings saved since it started); the start-up ones if the file
    /// no longer parses.
    pub fn durations(&self) -> Durations {
        Settings::load(&self.paths.config_file())
            .map(|s| s.durations)
            .unwrap_or(self.durations)
    }

    /// The settings of the config.toml `book` was read from (the same read:
    /// `credential-process` parses the file once for them and its
    /// profile); the defaults with the start-up durations if they no
    /// longer parse.
    fn settings_in(&self, book: &ProfileBook) -> Settings {
        Settings::from_text(&book.settings_text(), book.path()).unwrap_or_else(|_| Settings {
            durations: self.durations,
            ..Settings::default()
        })
    }

    /// A profile by name; an identity's name without a profile of its own
    /// means that identity's plain profile.
    pub fn profile(&self, name: &str) -> Result<Profile, AppError> {
        let path = self.paths.config_file();
        // The agent keeps what it resolved while config.toml is the same
        // file version (a write renames a new file over it).
        let stamp = self.agent_cache.as_ref().and_then(|_| file_stamp(&path));
        if let Some(stamp) = stamp
            && let Some(p) = self.resolved_profiles.get(name, stamp)
        {
            return Ok(p);
        }
        // Only the tables this profile needs are parsed (the warm path).
        let book = ProfileBook::load_for(&path, Some(name))?;
        let (profile, from_book) = resolve(self, &book, name)?;
        if let Some(stamp) = stamp
            && from_book
        {
            self.resolved_profiles.put(name, stamp, &profile);
        }
        Ok(profile)
    }

    /// Every profile in config.toml, in file order.
    pub fn profiles(&self) -> Result<Vec<Profile>, AppError> {
        let book = self.book()?;
        let settings = self.settings_in(&book);
        Ok(book
            .list()?
            .into_iter()
            .map(|p| {
                let rule = settings.approval_rule(&p.name);
                Profile {
                    approvals: rule,
                    ..p.with_defaults(settings.durations)
                }
            })
            .collect())
    }

    /// The identities, as `keyfob list` shows them.
    pub fn identities(&self) -> Result<Vec<Identity>, AppError> {
        Ok(self.vault()?.list()?)
    }
}

/// The agent's cache, shared by its threads.
struct Shared(Arc<dyn SessionCache + Send + Sync>);

impl SessionCache for Shared {
    fn get(&self, key: &str) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>, CacheError> {
        self.0.get(key)
    }
    fn put(
        &self,
        key: &str,
        value: &[u8],
        expires: time::OffsetDateTime,
    ) -> Result<(), CacheError> {
        self.0.put(key, value, expires)
    }
    fn delete(&self, key: &str) -> Result<(), CacheError> {
        self.0.delete(key)
    }
    fn keys(&self) -> Result<Vec<String>, CacheError> {
        self.0.keys()
    }
    fn describe(&self) -> &'static str {
        self.0.describe()
    }
}

/// A file's version: inode, modification time and size.
pub(crate) type Stamp = (u64, i64, i64, u64);

fn file_stamp(path: &Path) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some((m.ino(), m.mtime(), m.mtime_nsec(), m.size()))
}

/// Profiles the agent resolved, with the config.toml version they came
/// from (see [`Keyfob::profile`]).
#[derive(Default)]
pub struct ResolvedProfiles(std::sync::Mutex<std::collections::HashMap<String, (Stamp, Profile)>>);

impl ResolvedProfiles {
    fn get(&self, name: &str, stamp: Stamp) -> Option<Profile> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(name)
            .filter(|(s, _)| *s == stamp)
            .map(|(_, p)| p.clone())
    }

    fn put(&self, name: &str, stamp: Stamp, profile: &Profile) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        // Another version of the file: what was kept from the last is stale.
        map.retain(|_, (s, _)| *s == stamp);
        map.insert(name.to_owned(), (stamp, profile.clone()));
    }
}

/// `name` in `book`, or an identity's plain profile; whether it was in
/// the book (else the vault named it).
fn resolve(kf: &Keyfob, book: &ProfileBook, name: &str) -> Result<(Profile, bool), AppError> {
    let (found, from_book) = match book.get(name) {
        Ok(p) => (p, true),
        Err(ProfileError::NotFound { .. }) => {
            let identity = kf
                .vault()?
                .get(name)
                .map_err(|_| ProfileError::NotFound { name: name.into() })?;
            (Profile::plain(&identity.name), false)
        }
        Err(e) => return Err(e.into()),
    };
    Ok((with_settings(kf, book, name, found), from_book))
}

/// `found` with the approval rule and durations `book`'s settings give.
fn with_settings(kf: &Keyfob, book: &ProfileBook, name: &str, found: Profile) -> Profile {
    let settings = kf.settings_in(book);
    Profile {
        approvals: settings.approval_rule(name),
        ..found.with_defaults(settings.durations)
    }
}

/// config.toml and the AWS config file, held locked while this lives.
pub struct Files {
    pub book: ProfileBook,
    pub aws_path: PathBuf,
    pub aws: AwsFile,
    _locks: Option<(FileLock, FileLock)>,
}

impl Files {
    /// Writes both (each only if it changed), config.toml first. Only for
    /// files from [`Keyfob::edit_files`].
    pub fn save(&self) -> Result<(), AppError> {
        debug_assert!(
            self._locks.is_some(),
            "saving files read without their locks"
        );
        self.book.save()?;
        self.aws.save(&self.aws_path)?;
        Ok(())
    }

    /// Asks before a section keyfob does not manage is written.
    fn may_write(&self, section: &str, confirm: &dyn Confirm) -> Result<(), AppError> {
        if wiring::ownership(&self.aws, section) == Ownership::Unmanaged {
            confirm.confirm(&Question::TakeOver {
                section,
                path: &self.aws_path,
            })?;
        }
        Ok(())
    }

    /// Whether keyfob manages `section` for profile `profile`.
    fn manages(&self, section: &str, profile: &str) -> bool {
        wiring::ownership(&self.aws, section) == Ownership::Managed(profile.into())
    }
}

/// Asks, before any lock is taken (a person may take their time), whether
/// keyfob may take over `section`; returns the answer to give again under
/// the lock, where the file is read afresh: yes if the person agreed, and
/// no if the section was not in question then (so one that became
/// unmanaged meanwhile is refused rather than taken silently).
fn take_over_answer(
    kf: &Keyfob,
    section: &str,
    confirm: &dyn Confirm,
) -> Result<Answered, AppError> {
    let files = kf.read_files()?;
    let unmanaged = wiring::ownership(&files.aws, section) == Ownership::Unmanaged;
    files.may_write(section, confirm)?;
    Ok(Answered {
        take_over: unmanaged,
    })
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

/// Asks `prompter` for `identity`'s PIN (for IAM calls signed with the
/// long-term key); with no prompter, says how to give one.
pub fn pin_for(prompter: Option<&dyn Prompter>, identity: &Identity) -> Result<Pin, AppError> {
    let prompter = prompter.ok_or(crate::model::ask::PromptError::NotGiven {
        what: "PIN",
        hint: "pass --pin-stdin",
    })?;
    Ok(prompter.pin(&crate::credentials::Ask {
        profile: identity.name.as_str(),
        identity: identity.name.as_str(),
        mfa_serial: None,
    })?)
}

/// "no identity named X", next to the identity field.
fn no_identity(e: VaultError) -> AppError {
    match e {
        VaultError::NotFound { name } => AppError::Field(FieldError::new(
            Field::IdentityName,
            format!("no identity named {name}"),
        )),
        other => other.into(),
    }
}
