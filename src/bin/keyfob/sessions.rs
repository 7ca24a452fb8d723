//! `credential-process`, `unlock`, `lock`, `exec`, `env`: getting and
//! dropping sessions through the core ([`keyfob::app`]); this file builds
//! the prompt chain and prints.

use std::io::Write;

use anyhow::{Context as _, bail};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use zeroize::Zeroizing;

use keyfob::app::{self, CLEARED, EXEC_MARKER, Keyfob};
use keyfob::config::profile::Profile;
use keyfob::credentials::Prompter;
use keyfob::model::session::Session;
use keyfob::platform::prompt::TtyPrompter;
use keyfob::platform::tty;

use crate::cli::{EnvArgs, ExecArgs, LockArgs, LoginArgs, ProfileArg, ShellKind, UnlockArgs};
use crate::terminal::{self};
use crate::thirdparty;

/// Gets the profile's session: cached, or through the prompt chain.
pub fn session(kf: &Keyfob, profile: &Profile) -> anyhow::Result<Session> {
    // An unguarded third-party role warns on every use, on stderr only
    // (the fast path's stdout is credential_process JSON).
    thirdparty::warn(profile);
    let chain = terminal::prompter();
    match app::session(kf, profile, false, chain.as_deref()) {
        // An Identity Center sign-in that nothing could renew: on a
        // terminal, sign in again there and try once more with its PIN.
        Err(e) if app::needs_sso_sign_in(&e) && tty::available() => {
            let pin = crate::sso::sign_in_on_terminal(kf, profile.identity.as_str())?;
            let again = keyfob::platform::prompt::FixedPrompter {
                pin: Some(pin),
                mfa_code: None,
            };
            Ok(app::session(kf, profile, false, Some(&again))?)
        }
        other => Ok(other?),
    }
}

/// Prints exactly the credential_process JSON on stdout. The fast path (a
/// cached session) reads config.toml and the kernel keyring, nothing else.
pub fn credential_process(kf: &Keyfob, args: ProfileArg) -> anyhow::Result<()> {
    let profile = kf.profile(&args.profile)?;
    // Served from the cache here: printed first, logged after.
    if let Some(session) = app::cached_here(kf, &profile)? {
        thirdparty::warn(&profile);
        print_process_json(&session)?;
        app::log_served_here(kf, &profile, &session);
        return Ok(());
    }
    print_process_json(&session(kf, &profile)?)
}

fn print_process_json(session: &Session) -> anyhow::Result<()> {
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
pub fn raw_stdout() -> anyhow::Result<std::fs::File> {
    use std::os::fd::AsFd;
    let fd = std::io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .context("opening standard output")?;
    Ok(std::fs::File::from(fd))
}

pub fn unlock(kf: &Keyfob, args: UnlockArgs) -> anyhow::Result<()> {
    let profile = kf.profile(&args.profile)?;
    thirdparty::warn(&profile);
    let fixed = terminal::fixed_prompter(args.pin_stdin, args.mfa_code.as_ref())?;
    let prompter: &dyn Prompter = match &fixed {
        Some(f) => f,
        None => &TtyPrompter,
    };
    let expires = app::unlock(kf, &profile.name, prompter)?;
    println!(
        "Profile {} unlocked until {} ({} left).",
        profile.name,
        expires.format(&Rfc3339).unwrap_or_default(),
        keyfob::model::duration::human(
            (expires - OffsetDateTime::now_utc()).whole_seconds().max(0) as u64
        )
    );
    Ok(())
}

/// `keyfob login`: the console sign-in URL, opened in the browser through
/// a one-shot local redirect (so it is never on a command line), or
/// printed with `--stdout`.
pub fn login(kf: &Keyfob, args: LoginArgs) -> anyhow::Result<()> {
    let profile = kf.profile(&args.profile)?;
    thirdparty::warn(&profile);
    if profile.role.is_none() && profile.mfa_serial.is_some() {
        eprintln!(
            "keyfob: note: AWS signs identities in to the console with GetFederationToken, which takes no MFA code; the console session of {} has no MFA",
            profile.name
        );
    }
    let options = app::ConsoleOptions {
        region: args.region,
        destination: args.destination,
        duration: args.duration,
    };
    // Found before any session is made: a missing browser is said first.
    let browser = if args.browser_profile {
        let account = app::console_account(kf, &profile.name)?;
        keyfob::app::console::isolated_browser(&kf.paths.data_dir.join("browsers"), &account)?
    } else {
        keyfob::app::console::Browser::Default
    };
    let fixed = terminal::fixed_prompter(args.pin.pin_stdin, args.pin.mfa_code.as_ref())?;
    let chain = terminal::prompter();
    let url = app::console_url(
        kf,
        &profile.name,
        &options,
        terminal::either(&fixed, &chain),
    )?;
    if args.stdout {
        let mut out = std::io::stdout().lock();
        out.write_all(url.as_bytes())?;
        out.write_all(b"\n")?;
        return Ok(());
    }
    eprintln!(
        "Opening the AWS console as {} in your browser…",
        profile.name
    );
    keyfob::app::console::open_in_browser(&url, &browser, keyfob::app::console::BROWSER_WAIT)?;
    Ok(())
}

/// The inside of a PowerShell single-quoted string holding `v`: each of
/// the five characters PowerShell takes as a single quote (`'` and
/// U+2018–U+201B) doubled, so none ends the string.
pub fn powershell_quoted(v: &str) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(v.len() + 8));
    for c in v.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
        out.push(c);
    }
    out
}

pub fn lock(kf: &Keyfob, args: LockArgs) -> anyhow::Result<()> {
    if args.all {
        let sessions = app::lock_all(kf)?;
        println!("Locked: dropped {sessions} cached session(s).");
        return Ok(());
    }
    let (profile, sign_in) = app::lock(kf, &args.profile.unwrap_or_default())?;
    match sign_in {
        app::SignInLock::NotIdentityCenter => println!("Locked profile {}.", profile.name),
        app::SignInLock::Dropped => println!(
            "Locked profile {}, and dropped the Identity Center sign-in of {} the agent held: every profile of it asks for the PIN again.",
            profile.name, profile.identity
        ),
        app::SignInLock::NoneHeld => println!(
            "Locked profile {} (no Identity Center sign-in of {} was held).",
            profile.name, profile.identity
        ),
    }
    Ok(())
}

/// Refuses an exec inside another one.
pub fn not_nested() -> anyhow::Result<()> {
    if let Some(outer) = std::env::var_os(EXEC_MARKER) {
        bail!(
            "already inside `keyfob exec` for profile {} — exit that shell first (nested sessions would shadow each other)",
            outer.to_string_lossy()
        );
    }
    Ok(())
}

pub fn exec(kf: &Keyfob, args: ExecArgs) -> anyhow::Result<()> {
    not_nested()?;
    let profile = kf.profile(&args.profile)?;
    let session = session(kf, &profile)?;
    let (program, rest) = args
        .command
        .split_first()
        .context("no command given after --")?;
    let mut cmd = std::process::Command::new(program);
    cmd.args(rest);
    for var in CLEARED {
        cmd.env_remove(var);
    }
    for (k, v) in app::session_vars(&profile, &session) {
        cmd.env(k, v.as_str());
    }
    // Replace this process: its memory (and the secrets in it) is gone,
    // and the command's exit status is keyfob's.
    use std::os::unix::process::CommandExt;
    let err = cmd.exec();
    Err(err).with_context(|| format!("cannot run {program}"))
}

pub fn env(kf: &Keyfob, args: EnvArgs) -> anyhow::Result<()> {
    let profile = kf.profile(&args.profile)?;
    let session = session(kf, &profile)?;
    let mut out = raw_stdout()?;
    for var in CLEARED {
        let line = match args.shell {
            ShellKind::Bash | ShellKind::Zsh => format!("unset {var}"),
            ShellKind::Fish => format!("set -e {var}"),
            ShellKind::Powershell => format!("Remove-Item Env:{var} -ErrorAction SilentlyContinue"),
        };
        writeln!(out, "{line}")?;
    }
    for (k, v) in app::session_vars(&profile, &session) {
        if k == EXEC_MARKER {
            continue;
        }
        // shlex quotes for POSIX shells only. fish's and PowerShell's
        // single-quoted strings each have one rule (fish: `\\` and `\'`;
        // PowerShell: a quote is doubled, and PowerShell reads U+2018–U+201B
        // as single quotes too), written here rather than pulling in a crate.
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
            ShellKind::Powershell => format!("$Env:{k} = '{}'", powershell_quoted(&v).as_str()),
        });
        writeln!(out, "{}", line.as_str())?;
    }
    Ok(())
}

/// `keyfob agent`: serves until stopped or idle; `--status`, `--stop`.
pub fn agent(kf: Keyfob, args: crate::cli::AgentArgs) -> anyhow::Result<()> {
    use keyfob::agent::server::{Agent, AgentServer, Headless, harden_process};
    use keyfob::link::client::AgentLink;
    let runtime = kf.paths.runtime_dir.clone();
    if args.status {
        match AgentLink::status(&runtime, &kf.cli)? {
            Some(s) => println!(
                "The keyfob agent runs (pid {}{}), {} session(s) in its memory{}; wiped {} time(s) on screen lock or sleep ({} signal(s) read){}; {} cached session(s) handed out warm{}.",
                s.pid,
                if s.app { ", the desktop app" } else { "" },
                s.sessions,
                if s.dumpable {
                    "; WARNING: your other programs could read its memory (no Yama ptrace restriction)"
                } else {
                    "; its memory is closed to your other programs"
                },
                s.wipes,
                s.signals,
                if s.watching {
                    ""
                } else {
                    " (not watching the screen lock)"
                },
                s.warm,
                match s.waiting {
                    0 => String::new(),
                    n => format!("; {n} request(s) waiting on an open approval prompt"),
                }
            ),
            None => println!("No keyfob agent runs."),
        }
        return Ok(());
    }
    if args.stop {
        match AgentLink::stop_running(&runtime, &kf.cli, false) {
            Some(_) => println!("Stopped the keyfob agent; its sessions are wiped."),
            None => println!("No keyfob agent runs."),
        }
        return Ok(());
    }
    // Before anything can load a library at run time (see Trim).
    let trim = keyfob::agent::trim::Trim::at_start();
    let idle = match args.idle.as_deref() {
        Some(text) => keyfob::model::duration::parse(text)?,
        None => keyfob::config::settings::Settings::load(&kf.paths.config_file())?.agent_idle,
    };
    let trim_after = keyfob::model::duration::parse(&args.trim_after)?;
    harden_process();
    let server = AgentServer::bind(&runtime)?;
    let agent = std::sync::Arc::new(Agent::new(kf, None));
    keyfob::agent::lock_on::watch(agent.clone());
    server.serve(
        agent,
        Some(Headless {
            idle,
            trim_after,
            trim,
        }),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::powershell_quoted;

    /// PowerShell ends a single-quoted string at any of `'` and
    /// U+2018–U+201B: each is doubled, nothing else changes.
    #[test]
    fn powershell_quotes_every_single_quote_it_knows() {
        for q in ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'] {
            let v = format!("a{q}b; Remove-Item -Recurse ~ #");
            let quoted = powershell_quoted(&v);
            assert_eq!(
                quoted.as_str(),
                format!("a{q}{q}b; Remove-Item -Recurse ~ #")
            );
        }
        assert_eq!(powershell_quoted("AKIA/+=x").as_str(), "AKIA/+=x");
    }
}
