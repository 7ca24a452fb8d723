//! The `keyfob` command. Parses arguments, sets up logging, runs one
//! command, and turns its error into one line on stderr and an exit code:
//! 0 success, 1 failure, 2 refused input (a field, a name, a usage error),
//! 3 `audit` found something that needs action, 4 a program was denied a
//! profile's session (approvals).

mod approvals;
mod cli;
mod container;
mod doctor;
mod identity;
mod import;
mod keys;
mod login_session;
mod profiles;
mod sessions;
mod sso;
mod terminal;
mod thirdparty;
mod tpm;

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;
use tracing_subscriber::filter::LevelFilter;

use keyfob::app::{AppError, ErrorKind, Keyfob};
use keyfob::config::profile::ProfileError;
use keyfob::credentials::ProviderError;
use keyfob::platform::store::Backend;
use keyfob::vault::VaultError;

use cli::{Cli, Command};

/// Freed memory is wiped: the agent (this binary, as `keyfob agent`)
/// parses STS answers with the AWS SDK, whose response buffers hold the
/// session secret and are freed without being cleared. (Seen: the session
/// secret ×3 in the agent's core after `lock --all` without this.)
#[global_allocator]
static ALLOC: zeroizing_alloc::ZeroAlloc<std::alloc::System> =
    zeroizing_alloc::ZeroAlloc(std::alloc::System);

fn main() -> ExitCode {
    // Before any thread starts: tpm2-tss would print its own errors
    // (a wrong PIN among them) on stderr.
    keyfob::platform::tpm::quiet_tss_logs();
    // What every AWS tool runs, `keyfob credential-process NAME`, is
    // recognised before clap and logging are set up (on the warm path they
    // were most of its cost); `KEYFOB_LOG` or `KEYFOB_STORE` take the full
    // path, which reads them.
    if let Some(profile) = keyfob::app::credential_process_args() {
        return finish(
            open(None)
                .and_then(|kf| sessions::credential_process(&kf, cli::ProfileArg { profile })),
        );
    }
    let cli = Cli::parse();
    init_logging();
    finish(run(cli))
}

/// The exit code of a command's result, its error printed as one line.
fn finish(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("keyfob: {}", one_line(&err));
            exit_code(&err)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let ctx = open(cli.store)?;
    match cli.command {
        Command::Add(args) => identity::add(&ctx, args),
        Command::List(args) => identity::list(&ctx, args),
        Command::Remove(args) => identity::remove(&ctx, args),
        Command::Rename(args) => identity::rename(&ctx, args),
        Command::Endpoint(args) => identity::endpoint(&ctx, args),
        Command::ChangePin(args) => identity::change_pin(&ctx, args),
        Command::Reseal(args) => tpm::reseal(&ctx, args),
        Command::Unlock(args) => sessions::unlock(&ctx, args),
        Command::Lock(args) => sessions::lock(&ctx, args),
        Command::CredentialProcess(args) => sessions::credential_process(&ctx, args),
        Command::Exec(args) if args.server => container::exec_server(&ctx, args),
        Command::Exec(args) => sessions::exec(&ctx, args),
        Command::Serve(args) => container::serve(&ctx, args),
        Command::Env(args) => sessions::env(&ctx, args),
        Command::Login(args) => sessions::login(&ctx, args),
        Command::Profile(cmd) => profiles::run(&ctx, cmd),
        Command::Use(args) => profiles::use_profile(&ctx, args),
        Command::Alias(args) => profiles::alias(&ctx, args),
        Command::Current => profiles::current(&ctx),
        Command::Import(args) => import::run(&ctx, args),
        Command::Keys(args) => keys::keys(&ctx, args),
        Command::Rotate(args) => keys::rotate(&ctx, args),
        Command::Audit(args) => keys::audit(&ctx, args),
        Command::Whois(args) => keys::whois(&ctx, args),
        Command::Role(cmd) => thirdparty::role(&ctx, cmd),
        Command::ExternalId(cmd) => thirdparty::external_id(&ctx, cmd),
        Command::TrustPolicy(args) => thirdparty::trust_policy(args),
        Command::Sso(cmd) => sso::run(&ctx, cmd),
        Command::LoginSession(cmd) => login_session::run(&ctx, cmd),
        Command::Agent(args) => sessions::agent(ctx, args),
        Command::Approvals(cmd) => approvals::run(&ctx, cmd),
        Command::Log(args) => approvals::log(&ctx, args),
        Command::Doctor(args) => doctor::doctor(&ctx, args),
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

/// The exit code of a request the approvals refused.
const DENIED_EXIT: u8 = 4;

/// Refused input exits 2, like a usage error; anything else 1. The kind
/// is the library's one answer (`kind()`), whichever of its errors the
/// command returned.
fn exit_code(err: &anyhow::Error) -> ExitCode {
    if err.is::<keys::Findings>() {
        return ExitCode::from(keys::AUDIT_FINDINGS_EXIT);
    }
    let kinds: Vec<ErrorKind> = err.chain().filter_map(kind_of).collect();
    if kinds.contains(&ErrorKind::Denied) {
        return ExitCode::from(DENIED_EXIT);
    }
    let refused = kinds.into_iter().any(ErrorKind::is_refusal);
    ExitCode::from(if refused { 2 } else { 1 })
}

/// The kind of a library error, if `e` is one.
fn kind_of(e: &(dyn std::error::Error + 'static)) -> Option<ErrorKind> {
    if let Some(e) = e.downcast_ref::<AppError>() {
        return Some(e.kind());
    }
    if let Some(e) = e.downcast_ref::<VaultError>() {
        return Some(e.kind());
    }
    if let Some(e) = e.downcast_ref::<ProviderError>() {
        return Some(e.kind());
    }
    if let Some(e) = e.downcast_ref::<ProfileError>() {
        return Some(e.kind());
    }
    if let Some(e) = e.downcast_ref::<keyfob::app::thirdparty::ThirdPartyError>() {
        return Some(e.kind());
    }
    e.is::<keyfob::model::field::FieldError>()
        .then_some(ErrorKind::Field)
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

/// Opens keyfob for this command: folders, settings, the store chosen by
/// `--store` or the settings, and this binary's own path for the
/// `credential_process` lines. The file store's fall-back notice goes to
/// stderr, once.
fn open(store: Option<Backend>) -> anyhow::Result<Keyfob> {
    let exe = std::env::current_exe().context("finding keyfob's own path")?;
    let exe = exe.canonicalize().unwrap_or(exe);
    Ok(Keyfob::from_env(front_of(exe), store)?.with_notices(|notice| eprintln!("{notice}")))
}

/// The `keyfob` front beside this full CLI (`keyfob-cli`), where there is
/// one: what the AWS config's credential_process lines name and what
/// starts agents, so every warm call goes through the front.
fn front_of(exe: std::path::PathBuf) -> std::path::PathBuf {
    let front = exe.with_file_name("keyfob");
    if exe.file_name().is_some_and(|n| n == "keyfob-cli") && front.is_file() {
        front
    } else {
        exe
    }
}
