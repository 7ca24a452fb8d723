//! `exec --server` and `serve`: the container credentials endpoint
//! ([`keyfob::container`]) around a command, or standalone. This file gets
//! the first session through the prompt chain, sets up the command's
//! environment and prints.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicI32, Ordering};

use anyhow::Context as _;
use zeroize::Zeroizing;

use keyfob::app::{CLEARED, EXEC_MARKER, Keyfob};
use keyfob::container::{self, CONTAINER_CLEARED, FULL_URI_VAR, TOKEN_VAR};

use crate::cli::{ExecArgs, ServeArgs, ServeFormat};
use crate::sessions;

/// `keyfob exec --server PROFILE -- CMD`: CMD gets the endpoint's URL and
/// token and no credentials; the endpoint ends with CMD, whose exit status
/// is keyfob's.
pub fn exec_server(kf: &Keyfob, args: ExecArgs) -> anyhow::Result<()> {
    sessions::not_nested()?;
    let profile = kf.profile(&args.profile)?;
    let (program, rest) = args
        .command
        .split_first()
        .context("no command given after --")?;
    // The PIN, if one is needed, is asked now, on the terminal.
    let first = sessions::session(kf, &profile)?;
    warn_default(kf, &profile.name);
    let endpoint = container::serve_profile(
        kf.sibling(),
        profile.clone(),
        first,
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
    )?;
    let mut cmd = std::process::Command::new(program);
    cmd.args(rest);
    for var in CLEARED.iter().chain(CONTAINER_CLEARED) {
        cmd.env_remove(var);
    }
    cmd.env(FULL_URI_VAR, endpoint.full_uri())
        .env(TOKEN_VAR, endpoint.token().expose());
    if let Some(region) = &profile.region {
        cmd.env("AWS_REGION", region)
            .env("AWS_DEFAULT_REGION", region);
    }
    cmd.env(EXEC_MARKER, &profile.name);
    // Caught from before the start: a SIGTERM that arrives as the command
    // starts is passed on too, not the end of keyfob with the command
    // left running (seen under load in exec_server_serves_every_real_client).
    catch_signals();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot run {program}"))?;
    // Its copy of the environment (the token) is freed, and wiped by the
    // zeroizing allocator.
    drop(cmd);
    relay_signals(child.id());
    let status = child.wait().context("waiting for the command")?;
    endpoint.stop();
    use std::os::unix::process::ExitStatusExt;
    let code = status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
    std::process::exit(code)
}

/// The SDKs look at the AWS config file's `[default]` before the container
/// endpoint: where `keyfob use` made another profile the default, a tool
/// on this machine gets that profile's session instead. Said, not changed
/// (the config file is the user's).
fn warn_default(kf: &Keyfob, profile: &str) {
    if let Ok(Some(default)) = keyfob::app::current(kf)
        && default != profile
    {
        eprintln!(
            "keyfob: warning: [default] in the AWS config file is profile {default} (keyfob use); SDKs reading that file use it before the endpoint, so tools on this machine may get {default}'s session, not {profile}'s"
        );
    }
}

/// The command's pid, for the signal handler.
static CHILD: AtomicI32 = AtomicI32::new(0);
/// A signal caught before the command's pid was known.
static PENDING: AtomicI32 = AtomicI32::new(0);

/// Passes a caught signal on to the command; caught before its pid is
/// known, it waits in PENDING for `relay_signals`. Whichever of the two
/// takes it out of PENDING after the pid is set sends it: exactly once.
extern "C" fn forward(signal: libc::c_int) {
    PENDING.store(signal, Ordering::SeqCst);
    let pid = CHILD.load(Ordering::SeqCst);
    if pid > 0 {
        let pending = PENDING.swap(0, Ordering::SeqCst);
        if pending != 0 {
            // kill(2) is async-signal-safe.
            unsafe { libc::kill(pid, pending) };
        }
    }
}

/// SIGTERM and SIGHUP sent to keyfob are passed on to the command (see
/// [`relay_signals`]). Handlers are reset by exec, so the command starts
/// with the default dispositions.
fn catch_signals() {
    // SAFETY: a handler that only uses atomics and kill(2) is
    // async-signal-safe.
    unsafe {
        let handler = forward as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::signal(libc::SIGTERM, handler);
        libc::signal(libc::SIGHUP, handler);
    }
}

/// While the command runs keyfob must outlive it (it serves its
/// credentials): Ctrl-C and Ctrl-\ reach the command from the terminal
/// already, so keyfob ignores them (after the start: an ignored signal
/// stays ignored across exec); SIGTERM and SIGHUP, caught since before the
/// start, are passed on to the command, which then exits, and so does
/// keyfob.
fn relay_signals(child: u32) {
    CHILD.store(child as i32, Ordering::SeqCst);
    let pending = PENDING.swap(0, Ordering::SeqCst);
    if pending != 0 {
        // SAFETY: kill(2) on the command's pid.
        unsafe { libc::kill(child as i32, pending) };
    }
    // SAFETY: SIG_IGN dispositions.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGQUIT, libc::SIG_IGN);
    }
}

/// `keyfob serve PROFILE`: prints the two variables on stdout, then
/// serves until the process is stopped (Ctrl-C, SIGTERM).
pub fn serve(kf: &Keyfob, args: ServeArgs) -> anyhow::Result<()> {
    let profile = kf.profile(&args.profile)?;
    let first = sessions::session(kf, &profile)?;
    warn_default(kf, &profile.name);
    if !args.bind.is_loopback() {
        eprintln!(
            "keyfob: warning: listening on {}, which is not loopback: whoever reaches it with the token gets profile {}'s sessions. Over http the AWS SDKs accept only a loopback address or 169.254.170.2 / 169.254.170.23 (see the README).",
            args.bind, profile.name
        );
    }
    let endpoint = container::serve_profile(
        kf.sibling(),
        profile.clone(),
        first,
        SocketAddr::new(args.bind, args.port),
    )?;
    let uri = endpoint.full_uri();
    let mut out = sessions::raw_stdout()?;
    for (name, value) in [
        (FULL_URI_VAR, uri.as_str()),
        (TOKEN_VAR, endpoint.token().expose()),
    ] {
        let line = Zeroizing::new(match args.format {
            ServeFormat::Export => format!(
                "export {name}={}\n",
                shlex::try_quote(value).unwrap_or_default()
            ),
            ServeFormat::EnvFile => format!("{name}={value}\n"),
        });
        out.write_all(line.as_bytes())
            .context("writing the variables to stdout")?;
    }
    eprintln!(
        "keyfob: serving profile {}'s sessions on {uri} until stopped (Ctrl-C). In a container: docker run --network host -e {FULL_URI_VAR} -e {TOKEN_VAR} IMAGE",
        profile.name
    );
    endpoint.wait();
    Ok(())
}
