//! The agent: a headless machine (no D-Bus, the kernel keyring refused as
//! in Docker) keeps sessions in the agent's memory and in no file; the
//! agent never hands out a PIN, refuses the old prompt protocol, and a
//! killed agent is replaced by the next command, which asks again.

use std::path::Path;

use serde_json::Value;

use crate::util::{Env, User, run_command, support, unique};

const PIN: &str = "pin-Ag3nt-only";

/// `/usr/bin/python3 tests/support/no_keyring.py`: what runs a command as
/// in a container whose seccomp profile refuses the kernel keyring.
fn wrapper() -> Vec<String> {
    vec![
        "/usr/bin/python3".into(),
        support("no_keyring.py").display().to_string(),
    ]
}

fn headless(env: &Env, args: &[&str], stdin: &str) -> crate::util::Run {
    let w = wrapper();
    let w: Vec<&str> = w.iter().map(String::as_str).collect();
    run_command(env.keyfob_in(&w), args, stdin)
}

/// `keyfob agent ARGS` started headless as a systemd unit would, once its
/// socket listens.
fn start_headless_agent(env: &Env, args: &[&str]) -> std::process::Child {
    use std::time::{Duration, Instant};
    let socket = env.root.path().join("run/keyfob/agent.sock");
    let w = wrapper();
    let w: Vec<&str> = w.iter().map(String::as_str).collect();
    let agent = env
        .keyfob_in(&w)
        .arg("agent")
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let begun = Instant::now();
    while !socket.exists() {
        assert!(
            begun.elapsed() < Duration::from_secs(30),
            "the agent did not listen within 30 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    agent
}

fn add(env: &Env) -> User {
    let user: User =
        serde_json::from_value(env.moto.admin(&["create-user", &unique("agent")])).unwrap();
    headless(
        env,
        &[
            "add",
            "work",
            "--access-key-id",
            &user.access_key_id,
            "--stdin",
        ],
        &format!("{}\n{PIN}\n", user.secret_access_key),
    )
    .ok();
    user
}

/// Files under `dir` written since `since` (not following links; sockets
/// and such skipped) whose bytes contain `needle`. Only files written
/// during the test can hold its secrets; reading only those keeps the scan
/// of a busy /tmp (build trees, other tests) short.
fn files_with(dir: &Path, since: std::time::SystemTime, needle: &str, found: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if kind.is_dir() {
            files_with(&path, since, needle, found);
        } else if kind.is_file()
            && entry
                .metadata()
                .is_ok_and(|m| m.len() < 16 << 20 && m.modified().is_ok_and(|t| t >= since))
            && std::fs::read(&path)
                .is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
        {
            found.push(path.display().to_string());
        }
    }
}

#[test]
fn headless_sessions_live_in_the_agent_only_and_in_no_file() {
    let since = std::time::SystemTime::now() - std::time::Duration::from_secs(1);
    let env = Env::bare();
    let user = add(&env);
    headless(
        &env,
        &["unlock", "work", "--pin-stdin"],
        &format!("{PIN}\n"),
    )
    .ok();

    // The AWS CLI (v2 and v1) and boto3 in that container get the session.
    let w = wrapper();
    let w: Vec<&str> = w.iter().map(String::as_str).collect();
    let out = headless(&env, &["credential-process", "work"], "").ok();
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let session_secret = v["SecretAccessKey"].as_str().unwrap().to_owned();
    // Debian's AWS CLI v2 predates AWS_ENDPOINT_URL: pointed at the
    // emulator by flag (keyfob still reads the variable it passes on).
    let endpoint = format!("http://127.0.0.1:{}", env.moto.info.port);
    for (program, args) in [
        (
            "/usr/bin/aws",
            vec![
                "sts",
                "get-caller-identity",
                "--profile",
                "work",
                "--endpoint-url",
                endpoint.as_str(),
            ],
        ),
        (
            "aws",
            vec!["sts", "get-caller-identity", "--profile", "work"],
        ),
        (
            "python3",
            vec![
                "-c",
                "import boto3; print(boto3.Session(profile_name='work').client('sts').get_caller_identity()['Arn'])",
            ],
        ),
    ] {
        let run = run_command(env.command_in(&w, program), &args, "");
        assert_eq!(
            run.code,
            Some(0),
            "{program}: {} {}",
            run.stdout,
            run.stderr
        );
        assert!(run.stdout.contains(&user.arn), "{program}: {}", run.stdout);
    }

    // The agent holds it in memory (the kernel keyring is refused).
    let status = headless(&env, &["agent", "--status"], "").ok();
    let held: usize = status
        .stdout
        .split("), ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(held >= 1, "{}", status.stdout);
    // Whether the user's other programs could read its memory is said, as
    // Yama's ptrace_scope decides it (the agent stays dumpable so that its
    // clients can tell it is keyfob).
    let yama = std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .unwrap_or(0);
    let said = if yama >= 1 {
        "its memory is closed to your other programs"
    } else {
        "WARNING: your other programs could read its memory"
    };
    assert!(status.stdout.contains(said), "{}", status.stdout);

    // Nothing secret in any file: HOME, the XDG folders, the runtime
    // folder (all under the world's root), and /tmp.
    for (what, needle) in [
        ("the session secret", session_secret.as_str()),
        ("the long-term secret", user.secret_access_key.as_str()),
        ("the PIN", PIN),
    ] {
        let mut found = Vec::new();
        files_with(env.root.path(), since, needle, &mut found);
        files_with(Path::new("/tmp"), since, needle, &mut found);
        eprintln!("headless scan: {what} in {} file(s)", found.len());
        assert!(found.is_empty(), "{what} is in {found:?}");
    }
}

#[test]
fn the_agent_hands_out_no_pin_and_refuses_the_old_prompt_protocol() {
    let env = Env::bare();
    add(&env);
    headless(
        &env,
        &["unlock", "work", "--pin-stdin"],
        &format!("{PIN}\n"),
    )
    .ok();
    let socket = env.root.path().join("run/keyfob/agent.sock");
    assert!(socket.exists(), "the agent is listening");
    let client = r#"
import socket, sys
for line in sys.argv[2:]:
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(line.encode() + b"\n")
    print(s.makefile().readline().strip())
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", client])
        .arg(&socket)
        .args([
            // The old prompt service's request: it used to answer with the PIN.
            r#"{"v":1,"ask":"pin","profile":"work","identity":"work","mfa_serial":null,"requester":{"pid":1,"exe":null}}"#,
            // Asking this agent for a PIN: there is no such request.
            r#"{"v":2,"op":"pin","profile":"work"}"#,
            r#"{"v":2,"ask":"pin","profile":"work","identity":"work"}"#,
        ])
        .output()
        .unwrap();
    let replies = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = replies.lines().collect();
    assert_eq!(lines.len(), 3, "{replies}");
    assert!(lines[0].contains("v1 is not spoken here"), "{}", lines[0]);
    for line in &lines {
        assert!(line.contains(r#""reply":"error""#), "{line}");
        assert!(!line.contains(PIN), "a PIN was handed out: {line}");
    }
}

#[test]
fn a_killed_agent_is_replaced_by_the_next_command_which_asks_again() {
    let env = Env::bare();
    add(&env);
    headless(
        &env,
        &["unlock", "work", "--pin-stdin"],
        &format!("{PIN}\n"),
    )
    .ok();
    let first = env.agent_pid().expect("an agent runs");
    env.stop_agent(); // kill -9
    // Its sessions died with it: with nobody to ask, the profile is locked.
    headless(&env, &["credential-process", "work"], "")
        .refused(1, "profile work is locked — run 'keyfob unlock work'");
    let second = env.agent_pid().expect("the command started a new agent");
    assert_ne!(first, second);
    // Nothing stored was lost: the same PIN unlocks again.
    headless(
        &env,
        &["unlock", "work", "--pin-stdin"],
        &format!("{PIN}\n"),
    )
    .ok();
    let out = headless(&env, &["credential-process", "work"], "").ok();
    assert!(
        out.stdout.contains("\"AccessKeyId\":\"ASIA"),
        "{}",
        out.stdout
    );
    // One agent per user: a second refuses, naming the first.
    headless(&env, &["agent"], "")
        .refused(1, &format!("a keyfob agent already runs (process {second}"));
}

/// The headless agent exits on its own once it holds no session and has
/// had no request for its idle time; while it holds one, it stays.
#[test]
fn an_idle_agent_exits_but_not_while_it_holds_a_session() {
    use std::time::{Duration, Instant};
    let env = Env::bare();
    add(&env);
    let socket = env.root.path().join("run/keyfob/agent.sock");
    // An agent with a short idle time, started as a systemd unit would.
    let start_agent = || start_headless_agent(&env, &["--idle", "1s"]);
    // Waits until `agent` exits (at most `limit`): how long it took.
    let exit_of = |agent: &mut std::process::Child, limit: Duration| {
        let begun = Instant::now();
        loop {
            if let Some(status) = agent.try_wait().unwrap() {
                assert!(status.success(), "{status:?}");
                assert!(!socket.exists(), "the socket was left behind");
                return begun.elapsed();
            }
            if begun.elapsed() > limit {
                let _ = agent.kill();
                let _ = agent.wait();
                panic!("the idle agent did not exit within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    // Measured on this machine: an agent holding nothing leaves this long
    // after its last request.
    let mut agent = start_agent();
    headless(&env, &["agent", "--status"], "").ok();
    let unheld = exit_of(&mut agent, Duration::from_secs(30));

    let mut agent = start_agent();
    headless(
        &env,
        &["unlock", "work", "--pin-stdin"],
        &format!("{PIN}\n"),
    )
    .ok();
    // Twice that with a session in memory: still there (an agent that
    // ignored its session would have gone).
    std::thread::sleep(unheld * 2);
    assert!(
        agent.try_wait().unwrap().is_none(),
        "the agent left while it held a session (an agent holding none left {unheld:?} after its last request)"
    );
    headless(&env, &["lock", "--all"], "").ok();
    // Now it goes, and removes its socket.
    exit_of(&mut agent, Duration::from_secs(30));
}

/// The desktop app starting while a headless agent holds sessions takes
/// them over: the headless agent hands them to it and exits, and the next
/// call is served without asking for the PIN again.
#[test]
fn the_app_takes_over_a_headless_agents_sessions_without_asking_again() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use keyfob::agent::server::PromptAnswer;
    use keyfob::link::client::AgentLink;
    use keyfob::link::protocol::Reply;

    let env = Env::bare();
    add(&env);
    headless(
        &env,
        &["unlock", "work", "--pin-stdin"],
        &format!("{PIN}\n"),
    )
    .ok();
    let headless_pid = env.agent_pid().expect("a headless agent runs");
    // What the app does at start: ask the running agent to hand over.
    let runtime = env.root.path().join("run/keyfob");
    let Some(Reply::Sessions { entries }) =
        AgentLink::stop_running(&runtime, std::path::Path::new(crate::util::KEYFOB), true)
    else {
        panic!("the headless agent did not hand its sessions over");
    };
    assert!(!entries.is_empty(), "it held the unlocked session");
    for _ in 0..300 {
        if !Path::new(&format!("/proc/{headless_pid}")).exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(
        !Path::new(&format!("/proc/{headless_pid}")).exists(),
        "the headless agent kept running after the handover"
    );
    let asked = Arc::new(AtomicUsize::new(0));
    let count = asked.clone();
    let app = crate::util::app_agent(
        &env,
        Arc::new(move |_| {
            count.fetch_add(1, Ordering::SeqCst);
            PromptAnswer::Refused
        }),
    );
    app.agent().adopt(entries);
    let out = headless(&env, &["credential-process", "work"], "").ok();
    assert!(
        out.stdout.contains("\"AccessKeyId\":\"ASIA"),
        "{}",
        out.stdout
    );
    assert_eq!(asked.load(Ordering::SeqCst), 0, "the PIN was asked again");
}

/// An agent whose socket was removed (its runtime folder cleaned at
/// logout, a test world torn down) cannot be reached: it exits, wiping
/// what it held, instead of keeping sessions for nobody.
#[test]
fn an_agent_whose_socket_is_gone_exits() {
    let env = Env::bare();
    add(&env);
    headless(
        &env,
        &["unlock", "work", "--pin-stdin"],
        &format!("{PIN}\n"),
    )
    .ok();
    let pid = env.agent_pid().expect("an agent runs");
    std::fs::remove_file(env.root.path().join("run/keyfob/agent.sock")).unwrap();
    let begun = std::time::Instant::now();
    while Path::new(&format!("/proc/{pid}")).exists() {
        assert!(
            begun.elapsed() < std::time::Duration::from_secs(30),
            "the agent outlived its socket"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A quiet headless agent gives back the code pages it mapped (most of
/// its resident memory) and keeps serving: the session it held is
/// handed out unchanged after the trim, from its memory (no new STS
/// call: the same temporary key), and its resident file pages fell to
/// less than half.
#[test]
fn a_quiet_agent_gives_back_its_code_pages_and_serves_on() {
    use std::time::{Duration, Instant};
    let env = Env::bare();
    add(&env);
    let mut agent = start_headless_agent(&env, &["--trim-after", "2s"]);
    headless(
        &env,
        &["unlock", "work", "--pin-stdin"],
        &format!("{PIN}\n"),
    )
    .ok();
    let key = |run: crate::util::Run| {
        let v: Value = serde_json::from_str(&run.stdout).unwrap();
        v["AccessKeyId"].as_str().unwrap().to_owned()
    };
    let before = key(headless(&env, &["credential-process", "work"], "").ok());
    let rss_file = || {
        std::fs::read_to_string(format!("/proc/{}/status", agent.id()))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("RssFile:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap()
    };
    let busy = rss_file();
    // Quiet from here: the trim comes within a tick after 2 s.
    let begun = Instant::now();
    let mut quiet = busy;
    while quiet * 2 >= busy {
        assert!(
            begun.elapsed() < Duration::from_secs(30),
            "the quiet agent kept its pages: RssFile {busy} kB busy, {quiet} kB after {:?}",
            begun.elapsed()
        );
        std::thread::sleep(Duration::from_millis(100));
        quiet = rss_file();
    }
    let after = key(headless(&env, &["credential-process", "work"], "").ok());
    assert_eq!(
        after, before,
        "the session held before the trim is handed out after it"
    );
    let status = headless(&env, &["agent", "--status"], "").ok();
    assert!(
        !status.stdout.contains(" 0 session(s)"),
        "the agent lost its sessions: {}",
        status.stdout
    );
    headless(&env, &["agent", "--stop"], "").ok();
    let _ = agent.wait();
}
