//! The `keyfob` command. Parses arguments, sets up logging, runs one
//! command, and turns its error into one line on stderr and an exit code:
//! 0 success, 1 failure, 2 refused input (a field, a name, a usage error),
//! 3 `audit` found something that needs action.

mod cli;
mod identity;
mod import;
mod keys;
mod profiles;
mod sessions;
mod thirdparty;

use std::io::Read;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;
use tracing_subscriber::filter::LevelFilter;
use zeroize::Zeroizing;

use keyfob::paths::Paths;
use keyfob::profile::{Durations, Profile, ProfileBook, ProfileError};
use keyfob::prompt::tty;
use keyfob::provider::ProviderError;
use keyfob::secret::take_lines;
use keyfob::session::{SessionCache, digest, open_cache};
use keyfob::settings::Settings;
use keyfob::store::{self, Backend, SecretStore};
use keyfob::vault::{Vault, VaultError};

use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("keyfob: {}", one_line(&err));
            exit_code(&err)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let ctx = Context::new(cli.store)?;
    match cli.command {
        Command::Add(args) => identity::add(&ctx, args),
        Command::List(args) => identity::list(&ctx, args),
        Command::Remove(args) => identity::remove(&ctx, args),
        Command::Rename(args) => identity::rename(&ctx, args),
        Command::ChangePin(args) => identity::change_pin(&ctx, args),
        Command::Unlock(args) => sessions::unlock(&ctx, args),
        Command::Lock(args) => sessions::lock(&ctx, args),
        Command::CredentialProcess(args) => sessions::credential_process(&ctx, args),
        Command::Exec(args) => sessions::exec(&ctx, args),
        Command::Env(args) => sessions::env(&ctx, args),
        Command::Profile(cmd) => profiles::run(&ctx, cmd),
        Command::Use(args) => profiles::use_profile(&ctx, args),
        Command::Current => profiles::current(&ctx),
        Command::Import(args) => import::run(&ctx, args),
        Command::Keys(args) => keys::keys(&ctx, args),
        Command::Rotate(args) => keys::rotate(&ctx, args),
        Command::Audit(args) => keys::audit(&ctx, args),
        Command::Whois(args) => keys::whois(&ctx, args),
        Command::Role(cmd) => thirdparty::role(&ctx, cmd),
        Command::ExternalId(cmd) => thirdparty::external_id(&ctx, cmd),
        Command::TrustPolicy(args) => thirdparty::trust_policy(args),
        Command::Completions(args) => {
            use clap::CommandFactory;
            clap_complete::generate(
                args.shell,
                &mut Cli::command(),
                "keyfob",
                &mut std::io::stdout(),
            );
            Ok(())
        }
    }
}

/// The error and its causes joined by ": ", skipping a cause whose text
/// the message already carries (library errors include their cause, so
/// the desktop app can show one message; printing the chain would repeat it).
fn one_line(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

/// Refused input exits 2, like a usage error; anything else 1.
fn exit_code(err: &anyhow::Error) -> ExitCode {
    if err.is::<keys::Findings>() {
        return ExitCode::from(keys::AUDIT_FINDINGS_EXIT);
    }
    let refused = err.chain().any(|e| {
        if let Some(v) = e.downcast_ref::<VaultError>() {
            return v.field().is_some() || matches!(v, VaultError::RootRefused { .. });
        }
        match e.downcast_ref::<ProviderError>() {
            Some(ProviderError::Vault(v)) => return v.field().is_some(),
            Some(ProviderError::Field(_) | ProviderError::MfaCodeReused { .. }) => return true,
            _ => {}
        }
        e.is::<keyfob::identity::FieldError>()
            || e.downcast_ref::<keyfob::thirdparty::ThirdPartyError>()
                .is_some_and(|t| t.is_refusal())
            || matches!(
                e.downcast_ref::<ProfileError>(),
                Some(ProfileError::Invalid { .. } | ProfileError::Exists { .. })
            )
    });
    ExitCode::from(if refused { 2 } else { 1 })
}

/// Logs go to stderr, at the level in `KEYFOB_LOG` (error, warn, info,
/// debug, trace; default warn) for keyfob's own events. Other crates are
/// held at error whatever the level: the HTTP and SDK layers log request and
/// response bodies at trace, and those bodies can carry session secrets;
/// their warnings (e.g. a missing ~/.aws/config) are noise in a one-line
/// error contract.
fn init_logging() {
    let level = std::env::var("KEYFOB_LOG")
        .ok()
        .and_then(|v| v.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::WARN);
    let filter = tracing_subscriber::EnvFilter::new(format!("error,keyfob={level}"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

/// What every command needs: folders, settings, and (lazily) the vault.
pub struct Context {
    pub paths: Paths,
    backend: Backend,
    /// Session lengths for profiles that set none (`[settings]`).
    pub durations: Durations,
}

impl Context {
    fn new(store_flag: Option<Backend>) -> anyhow::Result<Self> {
        let paths = Paths::from_env()?;
        let settings = Settings::load(&paths.config_file())?;
        Ok(Self {
            backend: store_flag.unwrap_or(settings.store),
            durations: settings.durations,
            paths,
        })
    }

    /// Opens the vault over the configured store, printing the one-line
    /// notice when keyfob falls back to the file store.
    pub fn vault(&self) -> anyhow::Result<Vault> {
        Ok(Vault::new(self.store()?, &self.paths.runtime_dir))
    }

    /// The same, with the library's error type (for the provider).
    pub fn vault_lib(&self) -> Result<Vault, VaultError> {
        Ok(Vault::new(self.store()?, &self.paths.runtime_dir))
    }

    fn store(&self) -> Result<Box<dyn SecretStore>, store::StoreError> {
        let opened = store::open(self.backend, &self.paths)?;
        if let Some(notice) = opened.notice {
            eprintln!("{notice}");
        }
        Ok(opened.store)
    }

    /// The session cache. The kernel keyring needs no store; the store is
    /// opened only where the kernel keyring is unavailable.
    pub fn cache(&self) -> anyhow::Result<Box<dyn SessionCache>> {
        let namespace = digest(&[&self.paths.config_dir.to_string_lossy()]);
        Ok(open_cache(&namespace, || self.store())?)
    }

    pub fn book(&self) -> Result<ProfileBook, ProfileError> {
        ProfileBook::load(&self.paths.config_file())
    }

    /// A profile by name; an identity's name without a profile of its own
    /// means that identity's plain profile.
    pub fn profile(&self, name: &str) -> anyhow::Result<Profile> {
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
        Ok(found?.with_defaults(self.durations))
    }

    /// This keyfob's absolute path, for credential_process lines.
    pub fn exe(&self) -> anyhow::Result<std::path::PathBuf> {
        let exe = std::env::current_exe().context("finding keyfob's own path")?;
        Ok(exe.canonicalize().unwrap_or(exe))
    }
}

/// Asks a yes/no question on the terminal; `yes` answers it up front.
/// Without a terminal the answer is no, with `hint` in the error.
pub fn confirm(question: &str, yes: bool, hint: &str) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    let answer = tty::ask(&format!("{question} [y/N] "), "confirmation", hint)
        .map_err(|e| anyhow::anyhow!("{question} — {e}"))?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        anyhow::bail!("not changed")
    }
}

/// Reads stdin (at most 64 KiB) and returns its first `count` lines as
/// wiped-on-drop buffers.
pub fn stdin_lines(count: usize) -> anyhow::Result<Vec<Zeroizing<String>>> {
    const MAX: usize = 64 * 1024;
    // Reserved up front so the buffer never reallocates, which would free
    // an unwiped copy of what was read so far.
    let mut text = Zeroizing::new(String::with_capacity(MAX + 1));
    std::io::stdin()
        .take(MAX as u64)
        .read_to_string(&mut text)
        .context("reading stdin")?;
    Ok(take_lines(std::mem::take(&mut *text), count))
}
