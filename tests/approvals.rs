//! Approvals and the access log, through the real agent: a program not
//! approved for a profile is asked about at its terminal (tmux plays the
//! person), refused at once where nobody can be asked, and every session
//! handed out or refused is logged with the kernel's requester and no
//! secret. Each test turns approvals on itself (the world starts as a
//! setup from before approvals: off).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{Env, KEYFOB, KEYFOB_CLI, Run, add_identity, create_user, run_command, unique};

const PIN: &str = "approve-pin-4821";

/// A world with identity `work` (and its plain profile) whose session is
/// already cached, then approvals turned on (`new-programs`): what follows
/// is about programs, not PINs.
fn world() -> (Env, crate::util::User) {
    world_with(&["work"])
}

/// [`world`], with these profiles of `work` (plain ones besides `work`
/// itself) unlocked before approvals are turned on.
fn world_with(profiles: &[&str]) -> (Env, crate::util::User) {
    let env = Env::new();
    let user = create_user(&unique("approvals"));
    add_identity(&env, "work", &user, PIN);
    for name in profiles {
        if *name != "work" {
            env.run(&["profile", "add", name, "--identity", "work"], "")
                .ok();
        }
        env.run(&["unlock", name, "--pin-stdin"], &format!("{PIN}\n"))
            .ok();
    }
    env.run(&["approvals", "rule", "new-programs"], "").ok();
    (env, user)
}

/// A program of the test's own that runs `keyfob ...` as its child and
/// waits: GNU timeout, copied to `name` (`--foreground` keeps the child in
/// the terminal's process group). `extra` bytes after the ELF image make
/// another program with the same behaviour.
fn tool(env: &Env, name: &str, extra: &[u8]) -> PathBuf {
    let dir = env.root.path().join("bin");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let mut bytes = std::fs::read("/usr/bin/timeout").unwrap();
    bytes.extend_from_slice(extra);
    // Replaced, not rewritten in place: as an install or an attacker would.
    let tmp = dir.join(format!(".{name}.new"));
    std::fs::write(&tmp, bytes).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    path
}

/// `tool --foreground 60 keyfob credential-process PROFILE`, with no
/// terminal.
fn through(env: &Env, tool: &Path, profile: &str) -> Run {
    run_command(
        env.command(tool.to_str().unwrap()),
        &["--foreground", "60", KEYFOB, "credential-process", profile],
        "",
    )
}

/// The access log's entries.
fn log(env: &Env) -> Vec<Value> {
    let run = env.run(&["log", "--json"], "").ok();
    run.stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect(l))
        .collect()
}

/// No secret of this world in keyfob's log and approval files: the
/// long-term secret, the PIN, and every session secret handed out.
fn assert_no_secret_in_logs(env: &Env, secrets: &[String]) {
    let data = env.root.path().join("data/keyfob");
    for name in ["access.log", "approvals.json", "programs-seen"] {
        let Ok(text) = std::fs::read_to_string(data.join(name)) else {
            continue;
        };
        for secret in secrets {
            assert!(!text.contains(secret.as_str()), "{name} holds a secret");
        }
    }
}

fn session_secrets(run: &Run) -> Vec<String> {
    let v: Value = serde_json::from_str(&run.stdout).expect(&run.stdout);
    vec![
        v["SecretAccessKey"].as_str().unwrap().to_owned(),
        v["SessionToken"].as_str().unwrap().to_owned(),
    ]
}

/// With nobody to ask (no app, no terminal) a new program is refused at
/// once, with one line naming the fix and exit 4; pre-approved it gets
/// the session; a binary replaced at the same path is a new program; a
/// revoked approval is gone. Every request is in the log with the
/// program the kernel ran, and no secret is.
#[test]
fn nobody_to_ask_refuses_at_once_and_a_pre_approval_lets_a_script_in() {
    let (env, user) = world();
    let tool = tool(&env, "deploy-tool", b"");
    let started = Instant::now();
    let refused = through(&env, &tool, "work");
    let took = started.elapsed();
    assert_eq!(refused.code, Some(4), "{}", refused.stderr);
    assert!(refused.stdout.is_empty(), "{}", refused.stdout);
    let line = refused.stderr.trim();
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(
        line.contains(tool.to_str().unwrap())
            && line.contains("not approved for profile work")
            && line.contains("keyfob approvals add"),
        "{line}"
    );
    eprintln!("refused with nobody to ask after {took:?}");
    // A guard against waiting on a prompt nobody sees (that waits 300 s).
    assert!(took < Duration::from_secs(5), "took {took:?}");

    env.run(
        &[
            "approvals",
            "add",
            tool.to_str().unwrap(),
            "--profile",
            "work",
        ],
        "",
    )
    .ok();
    let allowed = through(&env, &tool, "work").ok();
    let mut secrets = session_secrets(&allowed);
    secrets.extend([user.secret_access_key.clone(), PIN.to_owned()]);

    // The same path, other contents: asked about again (here: refused).
    let replaced = self::tool(&env, "deploy-tool", b"\0replaced");
    assert_eq!(replaced, tool);
    through(&env, &tool, "work").refused(4, "not approved for profile work");

    // Revoked by id: the original binary is refused again.
    let list: Value =
        serde_json::from_str(&env.run(&["approvals", "list", "--json"], "").ok().stdout).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["program"]["exe"], tool.to_str().unwrap());
    assert_eq!(list[0]["holds"], "always");
    self::tool(&env, "deploy-tool", b"");
    through(&env, &tool, "work").ok();
    let id = env.run(&["approvals", "list"], "").ok().stdout;
    let id = id.split_whitespace().next().unwrap().to_owned();
    let revoked = env.run(&["approvals", "revoke", &id], "").ok();
    assert!(revoked.stdout.contains("Revoked 1"), "{}", revoked.stdout);
    through(&env, &tool, "work").refused(4, "not approved");
    env.run(&["approvals", "revoke", &id], "")
        .refused(1, "no approval has id");

    let entries = log(&env);
    let outcomes: Vec<(&str, &str)> = entries
        .iter()
        .filter(|e| e["program"]["exe"] == tool.to_str().unwrap())
        .map(|e| {
            (
                e["outcome"].as_str().unwrap(),
                e["approval"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("denied", "nobody-to-ask"),
            ("cached", "pre-approved"),
            ("denied", "nobody-to-ask"),
            ("cached", "pre-approved"),
            ("denied", "nobody-to-ask"),
        ],
        "{entries:#?}"
    );
    let first = entries
        .iter()
        .find(|e| e["program"]["exe"] == tool.to_str().unwrap())
        .unwrap();
    assert_eq!(first["profile"], "work");
    assert_eq!(first["identity"], "work");
    assert!(first["program"]["pid"].as_u64().unwrap() > 1);
    assert_eq!(first["program"]["sha256"].as_str().unwrap().len(), 64);
    assert_no_secret_in_logs(&env, &secrets);
}

/// A private tmux server: a terminal a person would use, driven by keys
/// (tests/import_sources.rs drives one too).
pub(crate) struct Tmux {
    socket: PathBuf,
    env: Vec<(String, String)>,
}

impl Tmux {
    pub(crate) fn start(env: &Env) -> Tmux {
        let socket = env.root.path().join("tmux.sock");
        let vars: Vec<(String, String)> = env
            .command("true")
            .get_envs()
            .filter_map(|(k, v)| Some((k.to_str()?.to_owned(), v?.to_str()?.to_owned())))
            .chain([("SHELL".to_owned(), "/bin/sh".to_owned())])
            .collect();
        let t = Tmux { socket, env: vars };
        t.tmux(&["new-session", "-d", "-s", "t", "-x", "200", "-y", "50"]);
        t.tmux(&["set-option", "-g", "remain-on-exit", "on"]);
        t.tmux(&["set-option", "-g", "history-limit", "5000"]);
        t
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .output()
            .expect("run tmux (apt-get install tmux)");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs `command` (sh) in a new window `name`.
    pub(crate) fn run(&self, name: &str, command: &str) {
        // `t:`, the session: its next free window (a bare `t` can be read
        // as window 0, which is taken).
        self.tmux(&["new-window", "-d", "-t", "t:", "-n", name, command]);
    }

    pub(crate) fn screen(&self, name: &str) -> String {
        self.tmux(&[
            "capture-pane",
            "-p",
            "-J",
            "-S",
            "-5000",
            "-t",
            &format!("t:{name}"),
        ])
    }

    /// Waits until window `name` shows `needle`; its screen.
    #[track_caller]
    pub(crate) fn wait_for(&self, name: &str, needle: &str) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen(name);
            if screen.contains(needle) {
                return screen;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "window {name} never showed {needle:?}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub(crate) fn keys(&self, name: &str, keys: &str) {
        self.tmux(&["send-keys", "-t", &format!("t:{name}"), keys, "Enter"]);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .stderr(Stdio::null())
            .status();
    }
}

const PROMPT: &str = "allow [o]nce, until [l]ock";

/// At a terminal: the first request of a new program asks, naming it,
/// its parents, its folder and the profile; "until lock" is not asked
/// again until `keyfob lock`; another program that is denied gets one
/// clear line and exit 4; a script run by python3 is shown as the script.
#[test]
fn a_terminal_is_asked_once_until_lock_and_a_denial_is_clear() {
    let (env, _user) = world();
    let tool = tool(&env, "tf-tool", b"");
    let other = self::tool(&env, "other-tool", b"\0other");
    let out = env.root.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let t = Tmux::start(&env);
    let o = out.display();
    let run = |name: &str, program: &Path| {
        t.run(
            name,
            &format!(
                "cd {o} && {} --foreground 60 {KEYFOB} credential-process work > {o}/{name}.json; echo rc=$?",
                program.display()
            ),
        );
    };

    run("first", &tool);
    let screen = t.wait_for("first", PROMPT);
    assert!(
        screen.contains(&format!(
            "keyfob: {} asks for the session of profile work",
            tool.display()
        )),
        "{screen}"
    );
    // The window's shell, by what the kernel runs (/bin/sh is dash here).
    let sh = std::fs::canonicalize("/bin/sh").unwrap();
    let sh = sh.file_name().unwrap().to_str().unwrap();
    assert!(screen.contains(&format!("started by: {sh}")), "{screen}");
    assert!(
        screen.contains(&format!(
            "in: {}",
            std::fs::canonicalize(&out).unwrap().display()
        )),
        "{screen}"
    );
    t.keys("first", "l");
    t.wait_for("first", "rc=0");
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("first.json")).unwrap()).unwrap();
    assert!(json["AccessKeyId"].is_string());

    // Until lock: not asked again.
    run("again", &tool);
    let screen = t.wait_for("again", "rc=");
    assert!(
        screen.contains("rc=0") && !screen.contains(PROMPT),
        "{screen}"
    );

    // Another program, denied: one line, exit 4, nothing on stdout.
    run("denied", &other);
    t.wait_for("denied", PROMPT);
    t.keys("denied", "d");
    let screen = t.wait_for("denied", "rc=");
    assert!(screen.contains("rc=4"), "{screen}");
    assert!(
        screen.contains(&format!(
            "keyfob: denied: {} may not have the session of profile work",
            other.display()
        )),
        "{screen}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("denied.json")).unwrap(),
        ""
    );

    // Locking the profile ends "until lock": asked again (and allowed once).
    env.run(&["lock", "work"], "").ok();
    run("relock", &tool);
    t.wait_for("relock", PROMPT);
    t.keys("relock", "o");
    // The profile is locked now: the PIN comes next, at the same terminal.
    t.wait_for("relock", "PIN for work");
    t.keys("relock", PIN);
    t.wait_for("relock", "rc=0");

    // A script run by python3 is shown as the script it is.
    let script = out.join("job.py");
    std::fs::write(
        &script,
        format!("import subprocess\nsubprocess.run([{KEYFOB:?}, 'credential-process', 'work'], stdout=subprocess.DEVNULL)\n"),
    )
    .unwrap();
    t.run("script", &format!("cd {o} && python3 job.py; echo rc=$?"));
    let screen = t.wait_for("script", PROMPT);
    let real = std::fs::canonicalize(&script).unwrap();
    assert!(
        screen.contains(&format!("keyfob: {} (run by /", real.display()))
            && screen.contains("python3"),
        "{screen}"
    );
    t.keys("script", "d");
    t.wait_for("script", "rc=");

    let entries = log(&env);
    let by = |exe: &str| -> Vec<String> {
        entries
            .iter()
            .filter(|e| e["program"]["exe"] == exe || e["program"]["script"] == exe)
            .map(|e| {
                format!(
                    "{} {}",
                    e["outcome"].as_str().unwrap(),
                    e["approval"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(
        by(tool.to_str().unwrap()),
        ["cached until-lock", "cached remembered", "made once"],
        "{entries:#?}"
    );
    assert_eq!(by(other.to_str().unwrap()), ["denied denied"]);
    assert_eq!(by(real.to_str().unwrap()), ["denied denied"]);
    let first = entries
        .iter()
        .find(|e| e["program"]["exe"] == tool.to_str().unwrap())
        .unwrap();
    assert_eq!(first["first"], true, "{first}");
    assert_eq!(first["program"]["parents"][0], sh, "{first}");
}

/// 50 parallel requests of one new program show one prompt, and while it
/// is open (every one of the agent's request threads taken by them) a
/// request for another profile is still served.
#[test]
fn fifty_parallel_requests_of_a_new_program_show_one_prompt() {
    // A second profile of the same identity, which keyfob itself (the
    // requester of a `keyfob credential-process` run with no program
    // above it: the full CLI, once the front handed over) may have: its
    // requests go through the agent too.
    let (env, user) = world_with(&["work", "dev"]);
    env.run(&["approvals", "add", KEYFOB_CLI, "--profile", "dev"], "")
        .ok();
    let tool = tool(&env, "burst-tool", b"");
    let out = env.root.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let t = Tmux::start(&env);
    let o = out.display();
    t.run(
        "burst",
        &format!(
            "cd {o} && for i in $(seq 50); do {} --foreground 120 {KEYFOB} credential-process work > {o}/$i.json & done; wait; echo done",
            tool.display()
        ),
    );
    t.wait_for("burst", PROMPT);
    // The other 49 reach the agent and wait on that prompt: the agent
    // counts them (a fixed pause here let six arrive after the answer on a
    // loaded machine, where they found the approval already given).
    let start = Instant::now();
    loop {
        let status = env.run(&["agent", "--status"], "").ok().stdout;
        if status.contains("; 49 request(s) waiting on an open approval prompt") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the other 49 requests never all waited on the prompt: {status}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The other profile is served while the prompt is open.
    let dev = env.run(&["credential-process", "dev"], "").ok();
    assert!(dev.stdout.contains("AccessKeyId"));
    assert!(
        t.screen("burst").contains(PROMPT) && !t.screen("burst").contains("done"),
        "the prompt closed before the other profile's request was served"
    );
    t.keys("burst", "l");
    let screen = t.wait_for("burst", "done");
    assert_eq!(screen.matches(PROMPT).count(), 1, "{screen}");
    let mut secrets = vec![user.secret_access_key.clone(), PIN.to_owned()];
    for i in 1..=50 {
        let text = std::fs::read_to_string(out.join(format!("{i}.json"))).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{i}: {text:?}"));
        secrets.push(v["SessionToken"].as_str().unwrap().to_owned());
    }
    let entries = log(&env);
    let burst: Vec<&Value> = entries
        .iter()
        .filter(|e| e["program"]["exe"] == tool.to_str().unwrap())
        .collect();
    assert_eq!(burst.len(), 50);
    assert!(
        burst.iter().all(|e| e["approval"] == "until-lock"),
        "{burst:#?}"
    );
    let pids: std::collections::HashSet<u64> = burst
        .iter()
        .map(|e| e["program"]["pid"].as_u64().unwrap())
        .collect();
    assert_eq!(pids.len(), 50, "each request names its own process");
    assert_no_secret_in_logs(&env, &secrets);
}

/// `keyfob log --follow` prints each access as it is logged, filtered by
/// profile, and `--since` leaves older entries out.
#[test]
fn the_log_follows_new_entries_and_filters_them() {
    use std::io::BufRead;
    let (env, _user) = world_with(&["work", "dev"]);
    env.run(&["approvals", "add", KEYFOB_CLI, "--profile", "dev"], "")
        .ok();
    // The agent writes its entries from a thread of its own: wait until
    // the unlocks' are written, so the follower starts after them.
    let start = Instant::now();
    while env.run(&["log", "--json"], "").ok().stdout.lines().count() < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the unlocks were never logged"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut follow = env
        .keyfob()
        .args(["log", "--follow", "--json", "--profile", "dev"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(follow.stdout.take().unwrap()).lines();
    let before = env.run(&["log", "--json"], "").ok().stdout.lines().count();
    // --follow prints what is there first, as `tail -f` does.
    let old_dev = env
        .run(&["log", "--json", "--profile", "dev"], "")
        .ok()
        .stdout
        .lines()
        .count();
    // No pause for the follower to start: what is written before it
    // reaches the end of the log is printed all the same.
    env.run(&["credential-process", "work"], "")
        .refused(4, "not approved");
    env.run(&["credential-process", "dev"], "").ok();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.by_ref().take(old_dev + 1).map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    for _ in 0..old_dev {
        let shown: Value =
            serde_json::from_str(&rx.recv_timeout(Duration::from_secs(10)).unwrap()).unwrap();
        assert_eq!(shown["profile"], "dev");
    }
    let line = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("--follow printed the new entry");
    let _ = follow.kill();
    let _ = follow.wait();
    let entry: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(entry["profile"], "dev", "only dev's entries: {entry}");
    let whole = env.run(&["log"], "").ok().stdout;
    assert_eq!(entry["outcome"], "cached", "{entry}\n{whole}");
    assert_eq!(entry["approval"], "pre-approved");
    // --since a day: every entry; a value that is no duration: refused.
    let all = env.run(&["log", "--since", "1d"], "").ok().stdout;
    assert!(all.lines().count() >= before + 2, "{all}");
    env.run(&["log", "--since", "soon"], "")
        .refused(2, "since: must be like");
}
