//! The `keyfob` command. Parses arguments, sets up logging, runs one
//! command, and turns its error into one line on stderr and an exit code:
//! 0 success, 1 failure, 2 refused input (a field, a name, a usage error).

mod cli;
mod identity;

use std::io::Read;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;
use tracing_subscriber::filter::LevelFilter;
use zeroize::Zeroizing;

use keyfob::paths::Paths;
use keyfob::secret::take_lines;
use keyfob::settings::Settings;
use keyfob::store::{self, Backend};
use keyfob::vault::{Vault, VaultError};

use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("keyfob: {err:#}");
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
        Command::Unlock(args) => identity::unlock(&ctx, args),
    }
}

/// Refused input exits 2, like a usage error; anything else 1.
fn exit_code(err: &anyhow::Error) -> ExitCode {
    let refused = err.chain().any(|e| match e.downcast_ref::<VaultError>() {
        Some(v) => v.field().is_some() || matches!(v, VaultError::RootRefused { .. }),
        None => e.is::<keyfob::identity::FieldError>(),
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
}

impl Context {
    fn new(store_flag: Option<Backend>) -> anyhow::Result<Self> {
        let paths = Paths::from_env()?;
        let settings = Settings::load(&paths.config_file())?;
        Ok(Self {
            backend: store_flag.unwrap_or(settings.store),
            paths,
        })
    }

    /// Opens the vault over the configured store, printing the one-line
    /// notice when keyfob falls back to the file store.
    pub fn vault(&self) -> anyhow::Result<Vault> {
        let opened = store::open(self.backend, &self.paths)?;
        if let Some(notice) = opened.notice {
            eprintln!("{notice}");
        }
        Ok(Vault::new(opened.store, &self.paths.runtime_dir))
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
