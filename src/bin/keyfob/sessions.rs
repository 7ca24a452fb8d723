//! `credential-process`, `unlock`, `lock`, `exec`, `env`: getting and
//! dropping sessions.

use std::io::Write;

use anyhow::{Context as _, bail};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use zeroize::Zeroizing;

use keyfob::field::{Field, FieldError};
use keyfob::limits;
use keyfob::profile::Profile;
use keyfob::prompt::client::SocketPrompter;
use keyfob::prompt::{FixedPrompter, TtyPrompter, tty};
use keyfob::provider::{Prompter, Provider};
use keyfob::secret::Pin;
use keyfob::session::Session;

use crate::cli::{EnvArgs, ExecArgs, LockArgs, ProfileArg, ShellKind, UnlockArgs};
use crate::{Context, stdin_lines};

/// Set in `keyfob exec`'s child, so a nested exec is refused.
const EXEC_MARKER: &str = "KEYFOB_PROFILE";

/// The prompt chain: the terminal when there is one; else the desktop
/// app's prompt service if the app runs; else nobody, which makes a locked
/// profile fail at once with the unlock hint.
pub fn prompter(ctx: &Context) -> Option<Box<dyn Prompter>> {
    if tty::available() {
        return Some(Box::new(TtyPrompter));
    }
    if let Some(app) = SocketPrompter::if_running(&ctx.paths.runtime_dir) {
        return Some(Box::new(app));
    }
    None
}

/// Gets the profile's session through the prompt chain.
fn session(ctx: &Context, profile: &Profile) -> anyhow::Result<Session> {
    // An unguarded third-party role warns on every use, on stderr only
    // (the fast path's stdout is credential_process JSON).
    crate::thirdparty::warn(profile);
    let cache = ctx.cache()?;
    let vault = || ctx.vault_lib();
    // A cache hit needs no prompter, no store and no network.
    let fast = Provider::new(
        cache.as_ref(),
        &vault,
        None,
        ctx.paths.runtime_dir.join("locks"),
    );
    if let Some(s) = fast.cached(profile) {
        return Ok(s);
    }
    let prompter = prompter(ctx);
    let provider = Provider::new(
        cache.as_ref(),
        &vault,
        prompter.as_deref(),
        ctx.paths.runtime_dir.join("locks"),
    );
    Ok(provider.credentials(profile)?)
}

/// Prints exactly the credential_process JSON on stdout. The fast path (a
/// cached session) reads config.toml and the kernel keyring, nothing else.
pub fn credential_process(ctx: &Context, args: ProfileArg) -> anyhow::Result<()> {
    let profile = ctx.profile(&args.profile)?;
    let session = session(ctx, &profile)?;
    let json = session.to_process_json();
    raw_stdout()?
        .write_all(json.as_bytes())
        .context("writing the credentials to stdout")?;
    Ok(())
}

/// Standard output without std's buffer, for printing credentials: that
/// buffer lives as long as the process and is never wiped, so the session
/// secret stayed in memory after it was printed (seen in a core dump at
/// exit, tests/coredump.rs). A `File` writes each piece with write(2).
fn raw_stdout() -> anyhow::Result<std::fs::File> {
    use std::os::fd::AsFd;
    let fd = std::io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .context("opening standard output")?;
    Ok(std::fs::File::from(fd))
}

pub fn unlock(ctx: &Context, args: UnlockArgs) -> anyhow::Result<()> {
    let profile = ctx.profile(&args.profile)?;
    crate::thirdparty::warn(&profile);
    let fixed = fixed_prompter(args.pin_stdin, args.mfa_code.as_ref())?;
    let tty_prompter = TtyPrompter;
    let prompter: &dyn Prompter = match &fixed {
        Some(f) => f,
        None => &tty_prompter,
    };
    let cache = ctx.cache()?;
    let vault = || ctx.vault_lib();
    let provider = Provider::new(
        cache.as_ref(),
        &vault,
        Some(prompter),
        ctx.paths.runtime_dir.join("locks"),
    );
    let session = provider.unlock(&profile)?;
    println!(
        "Profile {} unlocked until {} ({} left).",
        profile.name,
        session.expiration.format(&Rfc3339).unwrap_or_default(),
        limits::human(session.remaining(OffsetDateTime::now_utc()).as_secs())
    );
    Ok(())
}

/// The answers given up front (`--pin-stdin`, `--mfa-code`), checked, for
/// commands that must not ask anyone; `None` when neither was given.
pub fn fixed_prompter(
    pin_stdin: bool,
    mfa_code: Option<&String>,
) -> anyhow::Result<Option<FixedPrompter>> {
    if let Some(code) = mfa_code {
        limits::mfa_code(code)?;
    }
    if !pin_stdin && mfa_code.is_none() {
        return Ok(None);
    }
    let pin = if pin_stdin {
        let mut lines = stdin_lines(1)?;
        match lines.first_mut() {
            Some(line) => Some(Pin::new(std::mem::take(&mut **line))),
            None => bail!(FieldError::new(
                Field::Pin,
                "missing: --pin-stdin expects the PIN on line 1"
            )),
        }
    } else {
        None
    };
    Ok(Some(FixedPrompter {
        pin,
        mfa_code: mfa_code.cloned(),
    }))
}

pub fn lock(ctx: &Context, args: LockArgs) -> anyhow::Result<()> {
    let cache = ctx.cache()?;
    if args.all {
        let keys = cache.keys()?;
        let sessions = keys.iter().filter(|k| !k.starts_with("mfa.")).count();
        for key in keys {
            cache.delete(&key)?;
        }
        println!("Locked: dropped {sessions} cached session(s).");
        return Ok(());
    }
    let name = args.profile.unwrap_or_default();
    let profile = ctx.profile(&name)?;
    cache.delete(&profile.session_key())?;
    println!("Locked profile {}.", profile.name);
    Ok(())
}

/// The variables a session sets, in the order they are printed.
/// The values are wiped when the list drops (`env` prints them and exits;
/// `exec` hands them to the child and is replaced by it).
fn session_vars(profile: &Profile, s: &Session) -> Vec<(&'static str, Zeroizing<String>)> {
    let mut vars = vec![
        ("AWS_ACCESS_KEY_ID", s.access_key_id.clone()),
        (
            "AWS_SECRET_ACCESS_KEY",
            s.secret_access_key.expose().to_owned(),
        ),
        ("AWS_SESSION_TOKEN", s.session_token.expose().to_owned()),
        (
            "AWS_CREDENTIAL_EXPIRATION",
            s.expiration.format(&Rfc3339).unwrap_or_default(),
        ),
    ];
    if let Some(region) = &profile.region {
        vars.push(("AWS_REGION", region.clone()));
        vars.push(("AWS_DEFAULT_REGION", region.clone()));
    }
    vars.push((EXEC_MARKER, profile.name.clone()));
    vars.into_iter()
        .map(|(k, v)| (k, Zeroizing::new(v)))
        .collect()
}

/// Variables that would compete with the injected session.
const CLEARED: &[&str] = &[
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
];

pub fn exec(ctx: &Context, args: ExecArgs) -> anyhow::Result<()> {
    if let Some(outer) = std::env::var_os(EXEC_MARKER) {
        bail!(
            "already inside `keyfob exec` for profile {} — exit that shell first (nested sessions would shadow each other)",
            outer.to_string_lossy()
        );
    }
    let profile = ctx.profile(&args.profile)?;
    let session = session(ctx, &profile)?;
    let (program, rest) = args
        .command
        .split_first()
        .context("no command given after --")?;
    let mut cmd = std::process::Command::new(program);
    cmd.args(rest);
    for var in CLEARED {
        cmd.env_remove(var);
    }
    for (k, v) in session_vars(&profile, &session) {
        cmd.env(k, v.as_str());
    }
    // Replace this process: its memory (and the secrets in it) is gone,
    // and the command's exit status is keyfob's.
    use std::os::unix::process::CommandExt;
    let err = cmd.exec();
    Err(err).with_context(|| format!("cannot run {program}"))
}

pub fn env(ctx: &Context, args: EnvArgs) -> anyhow::Result<()> {
    let profile = ctx.profile(&args.profile)?;
    let session = session(ctx, &profile)?;
    let mut out = raw_stdout()?;
    for var in CLEARED {
        let line = match args.shell {
            ShellKind::Bash | ShellKind::Zsh => format!("unset {var}"),
            ShellKind::Fish => format!("set -e {var}"),
            ShellKind::Powershell => format!("Remove-Item Env:{var} -ErrorAction SilentlyContinue"),
        };
        writeln!(out, "{line}")?;
    }
    for (k, v) in session_vars(&profile, &session) {
        if k == EXEC_MARKER {
            continue;
        }
        let line = Zeroizing::new(match args.shell {
            ShellKind::Bash | ShellKind::Zsh => {
                format!(
                    "export {k}={}",
                    shlex::try_quote(v.as_str()).unwrap_or_default()
                )
            }
            ShellKind::Fish => format!(
                "set -gx {k} '{}'",
                v.replace('\\', "\\\\").replace('\'', "\\'")
            ),
            ShellKind::Powershell => format!("$Env:{k} = '{}'", v.replace('\'', "''")),
        });
        writeln!(out, "{}", line.as_str())?;
    }
    Ok(())
}
