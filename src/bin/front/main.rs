//! `keyfob`: the command every AWS tool runs, `keyfob credential-process
//! NAME`, answered from a warm cache by this small binary; every other
//! command (and a credential-process it cannot answer at once) is handed
//! to the full CLI beside it, `keyfob-cli`, by exec: same process, same
//! arguments, same environment.
//!
//! Why two binaries: a process start costs about as much as its binary's
//! size, not its work. The full CLI (the AWS SDK, tokio, D-Bus, clap: 28
//! MB) made the loader apply 40,000 relocations and fault in ~270 pages
//! more than `cat` before `main` ran; this one links only the warm path
//! (see docs/PERFORMANCE.md for the figures). It decides nothing the full
//! CLI would decide otherwise: anything but a cache hit it hands over
//! untouched.
//!
//! - Approvals off, kernel keyring: the session is read from the keyring
//!   and the access log written here, as the full CLI does.
//! - Approvals on, or sessions in the agent's memory: a `warm_only`
//!   request to a running agent (never started here), which answers from
//!   its cache after its approval check, or says it cannot.
//!
//! `main` is C's (`no_main`): std's start-up for a Rust `main` reads
//! `/proc/self/maps` to place a stack guard and installs signal stacks
//! and handlers, a tenth of this binary's whole run; what of it matters
//! here is done in [`start`].

// A test build keeps the harness's own `main`.
#![cfg_attr(not(test), no_main)]

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::ExitCode;

use keyfob::app::{self, Keyfob};
use keyfob::model::session::Session;

/// Freed memory is wiped, as in the full CLI: the session passes through
/// the heap.
#[global_allocator]
static ALLOC: zeroizing_alloc::ZeroAlloc<std::alloc::System> =
    zeroizing_alloc::ZeroAlloc(std::alloc::System);

/// The full CLI, beside this binary.
const FULL: &str = "keyfob-cli";

/// The process's entry, called by the C runtime (arguments and the
/// environment reach std through its own start-up hook, as usual).
#[cfg(not(test))]
#[unsafe(no_mangle)]
extern "C" fn main(_argc: libc::c_int, _argv: *const *const libc::c_char) -> libc::c_int {
    start();
    // A panic is reported by std's hook, and ends the process with the
    // status a Rust `main`'s would (101), not by unwinding into C.
    match std::panic::catch_unwind(run) {
        Ok(code) if code == ExitCode::SUCCESS => 0,
        Ok(_) => 1,
        Err(_) => 101,
    }
}

/// What std's start-up does that this binary needs: standard streams
/// that are closed are opened on /dev/null (so a socket opened later can
/// never be fd 1 and receive the credentials), and a closed pipe on
/// stdout is an error to report (EPIPE), not a SIGPIPE that kills.
#[cfg_attr(test, allow(dead_code))]
fn start() {
    // SAFETY: poll reads three pollfds we own; open and signal take no
    // pointers we keep; all are async-signal-safe and run before any
    // thread exists.
    unsafe {
        let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
            fd,
            events: 0,
            revents: 0,
        });
        if libc::poll(fds.as_mut_ptr(), 3, 0) >= 0 {
            for p in fds.iter().filter(|p| p.revents & libc::POLLNVAL != 0) {
                let fd = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
                if fd != p.fd {
                    // Nothing can be done safely without the streams.
                    libc::abort();
                }
            }
        }
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

#[cfg_attr(test, allow(dead_code))]
fn run() -> ExitCode {
    let me = std::fs::read_link("/proc/self/exe")
        .or_else(|_| std::env::current_exe())
        .unwrap_or_else(|_| PathBuf::from("keyfob"));
    if let Some(name) = app::credential_process_args()
        && let Some(code) = serve_warm(&me, &name)
    {
        return code;
    }
    let full = me.with_file_name(FULL);
    let mut args = std::env::args_os();
    let arg0 = args.next().unwrap_or_else(|| "keyfob".into());
    // Only returns if the exec failed.
    let e = std::process::Command::new(&full)
        .arg0(arg0)
        .args(args)
        .exec();
    eprintln!(
        "keyfob: cannot run {} (keyfob's full command-line tool, installed beside {}): {e}",
        full.display(),
        me.display()
    );
    ExitCode::FAILURE
}

/// Prints `name`'s session if it is warm, and says how that went; `None`
/// when the full CLI must answer (nothing was printed).
fn serve_warm(me: &std::path::Path, name: &str) -> Option<ExitCode> {
    let (kf, profile) = Keyfob::from_env_with_profile(me.to_owned(), name).ok()?;
    if let Ok(Some(session)) = app::cached_here(&kf, &profile) {
        let code = print(&profile, &session);
        app::log_served_here(&kf, &profile, &session);
        return Some(code);
    }
    if !app::served_by_agent(&kf, &profile) {
        return None;
    }
    // The agent logs what it hands out.
    let session = kf.agent_link().warm_session(&profile.name)?;
    Some(print(&profile, &session))
}

/// Writes the credential_process JSON with write(2) on fd 1, not through
/// std's stdout buffer, which is never wiped; the third-party warning, if any,
/// on stderr as the full CLI gives it.
fn print(profile: &keyfob::config::profile::Profile, session: &Session) -> ExitCode {
    use std::os::fd::AsFd;
    if let Some(w) = keyfob::app::thirdparty::warning(profile) {
        eprintln!("keyfob: warning: {w}");
    }
    let json = session.to_process_json();
    let stdout = std::io::stdout();
    let mut rest = json.as_bytes();
    let written = loop {
        if rest.is_empty() {
            break Ok(());
        }
        match rustix::io::write(stdout.as_fd(), rest) {
            Ok(n) => rest = &rest[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => break Err(std::io::Error::from(e)),
        }
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keyfob: writing the credentials to stdout: {e}");
            ExitCode::FAILURE
        }
    }
}
