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

use std::io::Write;
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

fn main() -> ExitCode {
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
    let kf = Keyfob::from_env(me.to_owned(), None).ok()?;
    let profile = kf.profile(name).ok()?;
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

/// Writes the credential_process JSON with write(2), not through std's
/// stdout buffer, which is never wiped; the third-party warning, if any,
/// on stderr as the full CLI gives it.
fn print(profile: &keyfob::config::profile::Profile, session: &Session) -> ExitCode {
    use std::os::fd::AsFd;
    if let Some(w) = keyfob::app::thirdparty::warning(profile) {
        eprintln!("keyfob: warning: {w}");
    }
    let json = session.to_process_json();
    let written = std::io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .and_then(|fd| std::fs::File::from(fd).write_all(json.as_bytes()));
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keyfob: writing the credentials to stdout: {e}");
            ExitCode::FAILURE
        }
    }
}
