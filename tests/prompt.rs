//! The prompt chain's second step: with no terminal, credential-process
//! asks the agent, and the agent — here the library's own server run in
//! this process with an asker, as the desktop app runs it — asks the
//! person in its window, unseals and hands out only the session.

use std::sync::{Arc, Mutex};

use keyfob::agent::server::{PromptAnswer, PromptRequest};
use keyfob::link::protocol::AskKind;
use keyfob::model::secret::Pin;
use serde_json::Value;

use crate::util::{Env, User, add_identity, app_agent, unique};

const PIN: &str = "pin-Pr0mpt-svc";

fn setup(env: &Env) -> User {
    let user: User =
        serde_json::from_value(env.moto.admin(&["create-user", &unique("prompt")])).unwrap();
    add_identity(env, "work", &user, PIN);
    user
}

#[test]
fn credential_process_without_a_terminal_asks_the_app() {
    let env = Env::new();
    setup(&env);
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = asked.clone();
    let _server = app_agent(
        &env,
        Arc::new(move |req: PromptRequest| {
            log.lock().unwrap().push(req.clone());
            match req.kind {
                AskKind::Pin => PromptAnswer::Pin(Pin::new(PIN.into())),
                _ => PromptAnswer::Refused,
            }
        }),
    );
    let run = env.run(&["credential-process", "work"], "").ok();
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(v["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    let asked = asked.lock().unwrap();
    assert_eq!(asked.len(), 1, "one prompt");
    assert_eq!(asked[0].profile, "work");
    assert_eq!(asked[0].identity, "work");
    assert_ne!(asked[0].requester.pid, 0);
    assert!(
        asked[0].requester.exe.is_some(),
        "the app is told which program asks"
    );
}

#[test]
fn a_refusal_in_the_app_is_a_clear_error() {
    let env = Env::new();
    setup(&env);
    let _server = app_agent(&env, Arc::new(|_| PromptAnswer::Refused));
    let run = env.run(&["credential-process", "work"], "");
    assert!(run.stdout.is_empty());
    run.refused(1, "the request was refused in the keyfob app");
}

#[test]
fn another_user_is_refused_by_the_peer_credential_check() {
    let env = Env::new();
    let dir = env.root.path().join("run/keyfob");
    let _server = app_agent(
        &env,
        Arc::new(|_| PromptAnswer::Pin(Pin::new("never-given".into()))),
    );
    // Open the folder and socket to everyone, so only SO_PEERCRED stands
    // between another user and the PIN.
    use std::os::unix::fs::PermissionsExt;
    for (p, mode) in [
        (env.root.path().to_owned(), 0o755),
        (env.root.path().join("run"), 0o755),
        (dir.clone(), 0o755),
        (dir.join("agent.sock"), 0o666),
    ] {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let client = r#"
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
try:
    s.sendall(b'{"v":2,"op":"get","key":"anything"}\n')
except BrokenPipeError:
    pass  # the server refuses before reading: its answer is still there
print(s.makefile().readline().strip())
"#;
    let out = std::process::Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "python3",
            "-c",
            client,
        ])
        .arg(dir.join("agent.sock"))
        .output()
        .expect("setpriv (util-linux)");
    let answer = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(answer.contains("\"reply\":\"error\""), "{answer}");
    assert!(answer.contains("serves only its own user"), "{answer}");
    assert!(!answer.contains("never-given"));
}

/// A flood from one program cannot bury the prompt: 20 parallel
/// `credential-process` calls from one program for one locked profile
/// show the person one prompt; their refusal answers all 20 (each fails
/// with the refusal), and the prompt names that program (python3 and its
/// script), not `keyfob`.
#[test]
fn a_flood_from_one_program_shows_one_prompt_and_one_refusal_answers_it() {
    let env = Env::new();
    setup(&env);
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = asked.clone();
    // The person answers once the whole flood has been started (the
    // script says so in a file), not after a guessed pause.
    let started = env.root.path().join("flood-started");
    let waited_in_vain = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let in_vain = waited_in_vain.clone();
    let flood_started = started.clone();
    let _server = app_agent(
        &env,
        Arc::new(move |req: PromptRequest| {
            log.lock().unwrap().push(req);
            let begun = std::time::Instant::now();
            while !flood_started.exists() {
                if begun.elapsed() > std::time::Duration::from_secs(60) {
                    in_vain.store(true, std::sync::atomic::Ordering::SeqCst);
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            PromptAnswer::Refused
        }),
    );
    let script = env.root.path().join("flood.py");
    std::fs::write(
        &script,
        "import subprocess, sys\n\
         procs = [subprocess.Popen(['keyfob', 'credential-process', 'work'], stdout=subprocess.PIPE,\n\
         \x20                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL) for _ in range(20)]\n\
         open(sys.argv[1], 'w').close()\n\
         failed = sum(1 for p in procs if p.wait() != 0 and b'refused' in p.stderr.read())\n\
         print(failed)\n",
    )
    .unwrap();
    let mut cmd = env.command("python3");
    cmd.arg(&script).arg(&started);
    let run = crate::util::run_command(cmd, &[], "").ok();
    assert!(
        !waited_in_vain.load(std::sync::atomic::Ordering::SeqCst),
        "the prompt waited 60 s for the flood script to start its clients"
    );
    assert_eq!(run.stdout.trim(), "20", "all 20 refused: {}", run.stderr);
    let asked = asked.lock().unwrap();
    assert_eq!(asked.len(), 1, "one prompt for the flood: {asked:?}");
    let requester = &asked[0].requester;
    assert!(
        requester
            .exe
            .as_deref()
            .is_some_and(|e| e.contains("python3")),
        "{requester:?}"
    );
    assert_eq!(
        requester.script.as_deref(),
        Some(script.to_str().unwrap()),
        "{requester:?}"
    );
}
