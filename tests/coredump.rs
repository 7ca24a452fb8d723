//! What a core dump of keyfob holds: each command runs under gdb, which
//! stops it at its last system call (`exit_group`, after every drop) and
//! writes a core with `gcore`; the core is searched for the long-term
//! secret, the PIN and the session's secret. Whatever keyfob used and
//! dropped must be gone by then.

use crate::util::{Env, KEYFOB, User, add_identity, create_user, unique};

const PIN: &str = "pin-C0re-dump-42";

/// Where `needle` occurs in `haystack`, counted. A core is hundreds of
/// MB (the agent's: 570 MB), searched several times: memchr's SIMD
/// search (built optimised, see Cargo.toml) takes a fraction of a second
/// where a byte loop in this unoptimised test build took half a minute.
pub(crate) fn count(haystack: &[u8], needle: &str) -> usize {
    memchr::memmem::find_iter(haystack, needle.as_bytes()).count()
}

/// Runs `keyfob ARGS < stdin` under gdb and returns its core at exit.
fn core_at_exit(env: &Env, args: &[&str], stdin: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("stdin");
    std::fs::write(&input, stdin).unwrap();
    let core = dir.path().join("core");
    let mut run_line = format!("run {}", args.join(" "));
    run_line.push_str(&format!(" < {}", input.display()));
    let gcore = format!("gcore {}", core.display());
    let out = env.run_program(
        "gdb",
        &[
            "-nx",
            "-batch",
            "-ex",
            "set startup-with-shell on",
            "-ex",
            "catch syscall exit_group",
            "-ex",
            &run_line,
            "-ex",
            &gcore,
            "-ex",
            "kill",
            KEYFOB,
        ],
    );
    std::fs::read(&core).unwrap_or_else(|e| {
        panic!(
            "no core from gdb ({e}):\nstdout: {}\nstderr: {}",
            out.stdout, out.stderr
        )
    })
}

fn world() -> (Env, User) {
    let env = Env::new();
    let user = create_user(&unique("core"));
    add_identity(&env, "work", &user, PIN);
    (env, user)
}

#[test]
fn no_secret_survives_in_a_core_dump_at_exit() {
    let (env, user) = world();
    let secret = user.secret_access_key.as_str();

    // Cold: unseal the key with the PIN, sign GetSessionToken with it.
    let unlock = core_at_exit(
        &env,
        &["unlock", "work", "--pin-stdin"],
        &format!("{PIN}\n"),
    );
    let session: serde_json::Value =
        serde_json::from_str(&env.run(&["credential-process", "work"], "").ok().stdout).unwrap();
    let session_secret = session["SecretAccessKey"].as_str().unwrap();
    // Warm: the cached session, handed out as credential_process JSON.
    let warm = core_at_exit(&env, &["credential-process", "work"], "");

    let report = [
        ("unlock", "long-term secret", count(&unlock, secret)),
        ("unlock", "PIN", count(&unlock, PIN)),
        (
            "credential-process",
            "long-term secret",
            count(&warm, secret),
        ),
        ("credential-process", "PIN", count(&warm, PIN)),
        (
            "credential-process",
            "session secret",
            count(&warm, session_secret),
        ),
    ];
    for (command, what, n) in report {
        eprintln!("core of keyfob {command} at exit: {what} ×{n}");
    }
    // The cores are real: this world's folder (in the process's
    // environment, which outlives every drop) is in the first. (Heap
    // copies of non-secrets are no marker: freed memory is wiped.)
    let world = env.root.path().display().to_string();
    assert!(count(&unlock, &world) > 0, "the core is empty");
    for (command, what, n) in report {
        assert_eq!(n, 0, "{what} survives in keyfob {command}'s memory at exit");
    }
}

/// A core of a running process (gcore attaches; as root it may, though
/// the agent is not dumpable for the user's other processes).
pub(crate) fn core_of(env: &Env, pid: i32) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let core = dir.path().join("core");
    let out = env.run_program(
        "gcore",
        &["-o", &core.display().to_string(), &pid.to_string()],
    );
    let written = std::path::PathBuf::from(format!("{}.{pid}", core.display()));
    std::fs::read(&written).unwrap_or_else(|e| {
        panic!(
            "no core of the agent ({e}):\nstdout: {}\nstderr: {}",
            out.stdout, out.stderr
        )
    })
}

/// The agent unseals and holds sessions; after `lock --all` nothing of
/// them, the long-term key or the PIN is left in its memory. The session
/// is handed out by the agent (its profile under approvals; the program
/// asking, GNU timeout running `keyfob`, approved for it): first on a
/// request thread (the program hashed), then warm, on the agent's
/// accepting thread, whose stack lives on.
#[test]
fn the_agent_keeps_nothing_after_lock_all() {
    let (env, user) = world();
    let secret = user.secret_access_key.as_str();
    env.run(&["unlock", "work", "--pin-stdin"], &format!("{PIN}\n"))
        .ok();
    env.run(&["approvals", "rule", "new-programs"], "").ok();
    env.run(
        &["approvals", "add", "/usr/bin/timeout", "--profile", "work"],
        "",
    )
    .ok();
    let mut session_secret = String::new();
    for _ in 0..5 {
        let out = env
            .run_program("timeout", &["60", KEYFOB, "credential-process", "work"])
            .ok();
        let session: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        session_secret = session["SecretAccessKey"].as_str().unwrap().to_owned();
    }
    let status = env.run(&["agent", "--status"], "").ok().stdout;
    let warm: u64 = status
        .split("; ")
        .find_map(|part| part.strip_suffix(" cached session(s) handed out warm.\n"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no warm count in {status:?}"));
    assert!(warm >= 4, "the agent served {warm} of 5 warm: {status}");
    let pid = env.agent_pid().expect("unlock started the agent");
    env.run(&["lock", "--all"], "").ok();
    let core = core_of(&env, pid);
    let report = [
        ("long-term secret", count(&core, secret)),
        ("PIN", count(&core, PIN)),
        ("session secret", count(&core, &session_secret)),
    ];
    for (what, n) in report {
        eprintln!("core of the keyfob agent after lock --all: {what} ×{n}");
    }
    // A real core: this world's folder (the agent's environment and its
    // paths) is there.
    let world = env.root.path().display().to_string();
    assert!(count(&core, &world) > 0, "the core is empty");
    for (what, n) in report {
        assert_eq!(n, 0, "{what} survives in the agent after lock --all");
    }
}
