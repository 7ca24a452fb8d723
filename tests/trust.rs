//! The agent trusts no client: each test plays an attacker that runs as
//! the same user, against two emulators at once — the real one the
//! identity was added with, and a hostile endpoint that logs all it
//! receives and answers with credentials of its own.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;

use serde_json::Value;

use crate::util::{Env, Hostile, create_role, run_command, with_identity};

const PIN: &str = "pin-Tru5t-none";

fn creds(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout:?}"))
}

/// A world with identity `work`, role profile `partner` and the identity
/// session held by the agent (no prompt needed for the role).
fn partner_world() -> Env {
    let env = Env::new();
    with_identity(&env, "work", PIN);
    let role = create_role(&env, "Partner", None);
    env.run(
        &[
            "profile",
            "add",
            "partner",
            "--identity",
            "work",
            "--role-arn",
            &role,
        ],
        "",
    )
    .ok();
    env.run(&["unlock", "work", "--pin-stdin"], &format!("{PIN}\n"))
        .ok();
    env
}

/// `AWS_ENDPOINT_URL=http://hostile keyfob credential-process partner`
/// once made the agent sign an AssumeRole with the identity's session,
/// send it to the hostile endpoint, hand back the hostile answer and cache
/// it under `partner`. Now the endpoint is the identity's: the hostile one
/// receives nothing, the client gets a real session, and the next plain
/// call gets that same session.
#[test]
fn a_client_named_endpoint_receives_nothing_and_nothing_is_cached_from_it() {
    let env = partner_world();
    let hostile = Hostile::start();
    let attacked = |args: &[&str], stdin: &str| {
        let mut cmd = env.keyfob();
        cmd.env("AWS_ENDPOINT_URL", hostile.endpoint())
            .env("AWS_ENDPOINT_URL_STS", hostile.endpoint())
            .env("AWS_ENDPOINT_URL_SSO", hostile.endpoint())
            .env("AWS_REGION", "eu-west-1")
            .env("AWS_DEFAULT_REGION", "eu-west-1");
        run_command(cmd, args, stdin)
    };
    let first = attacked(&["credential-process", "partner"], "").ok();
    let first = creds(&first.stdout);
    assert!(
        first["AccessKeyId"].as_str().unwrap().starts_with("ASIA")
            && !first["AccessKeyId"].as_str().unwrap().contains("HOSTILE"),
        "{first}"
    );
    // A fresh session made now, under the hostile environment, with the
    // PIN: still nothing reaches it.
    attacked(&["unlock", "partner", "--pin-stdin"], &format!("{PIN}\n")).ok();
    let after_unlock = creds(&attacked(&["credential-process", "partner"], "").ok().stdout);
    assert_eq!(
        hostile.requests().len(),
        0,
        "the hostile endpoint received: {:#?}",
        hostile.requests()
    );
    // What is cached is the real session: a plain call gets it.
    let plain = creds(&env.run(&["credential-process", "partner"], "").ok().stdout);
    assert_eq!(plain["AccessKeyId"], after_unlock["AccessKeyId"]);
    // And it works at the real endpoint.
    let who = caller_arn(&env, &plain);
    assert!(who.contains("assumed-role"), "{who}");
}

/// The ARN boto3 sees for `creds` at the real emulator.
fn caller_arn(env: &Env, creds: &Value) -> String {
    let mut cmd = env.command("python3");
    cmd.env_remove("AWS_PROFILE")
        .env("AWS_ACCESS_KEY_ID", creds["AccessKeyId"].as_str().unwrap())
        .env(
            "AWS_SECRET_ACCESS_KEY",
            creds["SecretAccessKey"].as_str().unwrap(),
        )
        .env("AWS_SESSION_TOKEN", creds["SessionToken"].as_str().unwrap())
        .env("AWS_CONFIG_FILE", "/dev/null");
    let run = run_command(
        cmd,
        &[
            "-c",
            "import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])",
        ],
        "",
    )
    .ok();
    run.stdout.trim().to_owned()
}

/// The agent a client starts keeps none of that client's AWS settings.
#[test]
fn an_agent_started_by_a_client_keeps_none_of_its_aws_variables() {
    let env = Env::new();
    with_identity(&env, "work", PIN);
    env.stop_agent();
    let hostile = Hostile::start();
    let mut cmd = env.keyfob();
    cmd.env("AWS_ENDPOINT_URL", hostile.endpoint())
        .env("AWS_PROFILE", "attacker")
        .env("AWS_CA_BUNDLE", "/tmp/attacker.pem");
    run_command(cmd, &["unlock", "work", "--pin-stdin"], &format!("{PIN}\n")).ok();
    let pid = env.agent_pid().expect("the agent runs");
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    let names: Vec<String> = environ
        .split(|b| *b == 0)
        .filter_map(|kv| {
            let kv = String::from_utf8_lossy(kv);
            kv.split_once('=').map(|(k, _)| k.to_owned())
        })
        .collect();
    let aws: Vec<&String> = names.iter().filter(|n| n.starts_with("AWS_")).collect();
    assert!(
        aws.iter()
            .all(|n| *n == "AWS_CONFIG_FILE" || *n == "AWS_SHARED_CREDENTIALS_FILE"),
        "the agent kept {aws:?}"
    );
    assert!(names.iter().any(|n| n == "XDG_RUNTIME_DIR"), "{names:?}");
    assert_eq!(hostile.requests().len(), 0);
}

/// Sends one raw line to the agent and reads its one-line answer.
fn raw(env: &Env, line: &str) -> Value {
    let sock = env.root.path().join("run/keyfob/agent.sock");
    let mut s = UnixStream::connect(&sock).unwrap();
    s.write_all(line.as_bytes()).unwrap();
    s.write_all(b"\n").unwrap();
    let mut answer = String::new();
    BufReader::new(&s).read_line(&mut answer).unwrap();
    serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{e}: {answer:?}"))
}

/// A same-user program speaking the protocol can neither plant a session
/// (the next `credential-process` would hand the attacker's credentials
/// to every AWS tool) nor read one by its raw cache key.
#[test]
fn raw_protocol_lines_cannot_plant_or_read_a_session() {
    let env = partner_world();
    let real = creds(&env.run(&["credential-process", "partner"], "").ok().stdout);
    let v = keyfob::link::protocol::VERSION;
    let kf = crate::util::world_keyfob(&env);
    let profile = kf.profile("partner").unwrap();
    let planted = serde_json::json!({
        "Version": 1, "AccessKeyId": "ASIAHOSTILEHOSTILE12",
        "SecretAccessKey": "hostileSecretHostileSecretHostileSecret0",
        "SessionToken": "hostile", "Expiration": "2099-01-01T00:00:00Z",
        "Fingerprint": profile.fingerprint(),
    })
    .to_string();
    for key in [profile.session_key(), profile.identity_session_key()] {
        let put = serde_json::json!({"v": v, "op": "put", "key": key,
            "value": planted, "expires": 4_070_908_800i64});
        let answer = raw(&env, &put.to_string());
        assert_eq!(answer["reply"], "error", "{answer}");
        let get = serde_json::json!({"v": v, "op": "get", "key": key});
        let answer = raw(&env, &get.to_string());
        assert_eq!(answer["reply"], "error", "{answer}");
        assert!(
            !answer
                .to_string()
                .contains(real["SecretAccessKey"].as_str().unwrap())
        );
    }
    let after = creds(&env.run(&["credential-process", "partner"], "").ok().stdout);
    assert_eq!(after["AccessKeyId"], real["AccessKeyId"]);
}

/// A same-user program stops the agent (one call) and binds its own
/// listener on `agent.sock`, asking every client for a PIN as the agent
/// would. The client checks who listens (the kernel's word: uid and
/// executable) and sends it nothing: no request, so no PIN.
#[test]
fn a_program_posing_as_the_agent_receives_no_pin() {
    use std::process::{Command, Stdio};
    let env = Env::new();
    with_identity(&env, "work", PIN);
    // Under approvals, so `credential-process` goes to the agent from the
    // `keyfob` front itself (a warm-only request) before the full CLI.
    env.run(&["approvals", "rule", "new-programs"], "").ok();
    env.run(&["agent", "--stop"], "").ok();
    let sock = env.root.path().join("run/keyfob/agent.sock");
    let log = env.root.path().join("fake.log");
    let mut fake = Command::new("python3")
        .arg(crate::util::support("fake_agent.py"))
        .arg(&sock)
        .arg(&log)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(fake.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "listening");
    let unlock = env.run(&["unlock", "work", "--pin-stdin"], &format!("{PIN}\n"));
    let process = env.run(&["credential-process", "work"], "");
    let lock_all = env.run(&["lock", "--all"], "");
    // Nor can it report a state the agent is not in.
    let status = env.run(&["agent", "--status"], "");
    let _ = fake.kill();
    let _ = fake.wait();
    let got = std::fs::read_to_string(&log).unwrap();
    assert!(!got.contains(PIN), "the fake agent got the PIN: {got}");
    assert!(
        !got.contains("\"op\""),
        "the fake agent got a request: {got}"
    );
    for run in [unlock, process, lock_all, status] {
        assert_ne!(run.code, Some(0), "{}", run.stdout);
        assert!(run.stderr.contains("is not keyfob"), "{}", run.stderr);
        assert!(!run.stderr.contains(PIN));
    }
}

/// Only keyfob's own binaries may stop the agent or take its sessions
/// over: a program that asks is refused and the agent keeps serving.
#[test]
fn only_keyfob_may_stop_the_agent_or_take_its_sessions() {
    let env = partner_world();
    let before = env.agent_pid().expect("the agent runs");
    let v = keyfob::link::protocol::VERSION;
    // The test binary is trusted as an app agent in these worlds (see
    // util's KEYFOB_TRUSTED_AGENT), so the stranger here is python3.
    for op in ["stop", "handover"] {
        let mut cmd = env.command("python3");
        let script = format!(
            "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b'{{\"v\":{v},\"op\":\"{op}\"}}\\n'); print(s.makefile().readline())"
        );
        let sock = env.root.path().join("run/keyfob/agent.sock");
        cmd.arg("-c");
        let run = run_command(cmd, &[&script, sock.to_str().unwrap()], "").ok();
        let answer: Value = serde_json::from_str(run.stdout.trim()).unwrap();
        assert_eq!(answer["reply"], "error", "{answer}");
        assert!(!run.stdout.contains("ASIA"), "{}", run.stdout);
    }
    assert_eq!(env.agent_pid(), Some(before));
    env.run(&["credential-process", "partner"], "").ok();
    // keyfob itself may.
    env.run(&["agent", "--stop"], "").ok();
}

/// The agent stays bounded under a flood: 2,000 idle connections held
/// open by one program while 200 `credential-process` calls run at once
/// (headless, so every call goes through the agent): every call succeeds,
/// and the agent's threads stay within its fixed pool.
#[test]
fn two_hundred_calls_succeed_while_two_thousand_idle_connections_are_held() {
    use std::process::{Command, Stdio};
    let env = Env::bare();
    let no_keyring = [
        "/usr/bin/python3".to_owned(),
        crate::util::support("no_keyring.py").display().to_string(),
    ];
    let w: Vec<&str> = no_keyring.iter().map(String::as_str).collect();
    let headless = |args: &[&str], stdin: &str| run_command(env.keyfob_in(&w), args, stdin);
    crate::util::with_identity_using(&env, &w, "work", PIN, &[]);
    headless(&["unlock", "work", "--pin-stdin"], &format!("{PIN}\n")).ok();
    let agent = env.agent_pid().expect("the agent runs");
    let threads = || {
        std::fs::read_dir(format!("/proc/{agent}/task"))
            .unwrap()
            .count()
    };
    let sock = env.root.path().join("run/keyfob/agent.sock");
    // One program holds 2,000 connections open, sending nothing.
    let mut idler = Command::new("python3")
        .arg("-c")
        .arg(
            "import resource, socket, sys\n\
             soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n\
             resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))\n\
             held = []\n\
             for _ in range(2000):\n\
             \x20   s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); held.append(s)\n\
             print(len(held), flush=True)\n\
             sys.stdin.read()\n",
        )
        .arg(&sock)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(idler.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "2000");
    let held = threads();
    let calls: Vec<_> = (0..200)
        .map(|_| {
            let mut cmd = env.keyfob_in(&w);
            cmd.arg("credential-process")
                .arg("work")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    let mut most = held;
    let mut outputs = Vec::new();
    for c in calls {
        most = most.max(threads());
        outputs.push(c.wait_with_output().unwrap());
    }
    let _ = idler.kill();
    let _ = idler.wait();
    let failed: Vec<String> = outputs
        .iter()
        .filter(|o| !o.status.success() || !o.stdout.starts_with(b"{\"Version\":1"))
        .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
        .collect();
    assert!(
        failed.is_empty(),
        "{} of 200 failed: {:?}",
        failed.len(),
        &failed[..failed.len().min(3)]
    );
    // The fixed pool and the accept loop, a few threads of the runtime
    // and the screen-lock watcher: never one per connection.
    assert!(
        most <= keyfob::agent::server::MAX_AGENT_THREADS,
        "the agent ran {most} threads (idle: {held})"
    );
}

/// Every unseal happens in the agent: with the CLI's D-Bus cut off (it
/// cannot reach the Secret Service at all) while the agent reaches it,
/// the commands that open a long-term key still work — the PIN goes to
/// the agent, which unseals and calls AWS, and only results come back.
#[test]
fn key_commands_work_with_the_clis_dbus_cut_off_while_the_agent_has_it() {
    let env = Env::new();
    let user = with_identity(&env, "work", PIN);
    let role = create_role(&env, "Vendor", Some("ext-Tru5t-1234"));
    // The agent starts with this world's D-Bus (the Secret Service).
    env.run(&["unlock", "work", "--pin-stdin"], &format!("{PIN}\n"))
        .ok();
    let cut = |args: &[&str], stdin: &str| {
        let mut cmd = env.keyfob();
        cmd.env_remove("DBUS_SESSION_BUS_ADDRESS");
        run_command(cmd, args, stdin)
    };
    let pin = format!("{PIN}\n");
    let keys = cut(&["keys", "work", "--pin-stdin", "--json"], &pin).ok();
    let rows: Value = serde_json::from_str(&keys.stdout).unwrap();
    assert_eq!(rows[0]["access_key_id"], user.access_key_id.as_str());
    assert_eq!(rows[0]["in_vault"], true);
    let whois = cut(
        &[
            "whois",
            &user.access_key_id,
            "--profile",
            "work",
            "--pin-stdin",
        ],
        &pin,
    )
    .ok();
    assert!(whois.stdout.contains(&user.arn[13..25]), "{}", whois.stdout);
    // The external-ID guard (a role profile with an external ID) gets its
    // identity session from the agent. (`profile add` itself reads the
    // identity list, which is in the keychain: added with the CLI's D-Bus.)
    env.run(
        &[
            "profile",
            "add",
            "vendor",
            "--identity",
            "work",
            "--role-arn",
            &role,
            "--external-id",
            "ext-Tru5t-1234",
        ],
        "",
    )
    .ok();
    cut(&["lock", "--all"], "").ok();
    env.run(&["unlock", "work", "--pin-stdin"], &pin).ok();
    cut(&["role", "check", "vendor"], "").ok();
    cut(&["credential-process", "vendor"], "").ok();
    // A whole rotation, in the agent.
    let rotated = cut(&["rotate", "work", "--pin-stdin"], &pin).ok();
    assert!(
        rotated.stdout.contains("Created the new key"),
        "{}",
        rotated.stdout
    );
    // Import: the agent reads the plaintext key from the credentials file,
    // verifies and seals it; the CLI only answers with the new PIN.
    let ops: crate::util::User = serde_json::from_value(
        env.moto
            .admin(&["create-user", &crate::util::unique("ops")]),
    )
    .unwrap();
    let creds = env.home().join(".aws/credentials");
    std::fs::create_dir_all(creds.parent().unwrap()).unwrap();
    std::fs::write(
        &creds,
        format!(
            "[ops]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            ops.access_key_id, ops.secret_access_key
        ),
    )
    .unwrap();
    let imported = cut(&["import", "--pin-stdin"], &format!("{PIN}-ops\n")).ok();
    assert!(
        imported.stdout.contains("Imported [ops]"),
        "{}",
        imported.stdout
    );
    let listed = env.run(&["list", "--json"], "").ok().stdout;
    assert!(listed.contains(&ops.access_key_id), "{listed}");
    assert!(
        !std::fs::read_to_string(&creds)
            .unwrap()
            .contains(&ops.secret_access_key)
    );
    // Nothing of a long-term key was ever in the CLI's output.
    for out in [
        &keys.stdout,
        &whois.stdout,
        &rotated.stdout,
        &imported.stdout,
    ] {
        assert!(!out.contains(&user.secret_access_key));
        assert!(!out.contains(&ops.secret_access_key));
    }
}

/// An identity's endpoint changes only under its PIN (`keyfob endpoint`,
/// run in the agent, which reseals the key with the new endpoint in its
/// associated data); a wrong PIN changes nothing, and after the change the
/// old endpoint receives nothing more.
#[test]
fn an_identitys_endpoint_changes_only_under_its_pin() {
    let env = Env::new();
    let hostile = Hostile::start();
    // Added (offline) pointing at the hostile endpoint.
    let hostile_url = hostile.endpoint();
    crate::util::with_identity_using(
        &env,
        &[],
        "work",
        PIN,
        &["--no-verify", "--endpoint-url", &hostile_url],
    );
    let shown = env.run(&["endpoint", "work"], "").ok();
    assert!(
        shown.stdout.contains(&hostile.endpoint()),
        "{}",
        shown.stdout
    );
    let moto = env.moto.endpoint();
    env.run(
        &["endpoint", "work", "--endpoint-url", &moto, "--pin-stdin"],
        "wrong-pin-123\n",
    )
    .refused(2, "wrong PIN");
    assert!(
        env.run(&["endpoint", "work"], "")
            .ok()
            .stdout
            .contains(&hostile.endpoint()),
        "a wrong PIN changed the endpoint"
    );
    let moved = env
        .run(
            &["endpoint", "work", "--endpoint-url", &moto, "--pin-stdin"],
            &format!("{PIN}\n"),
        )
        .ok();
    assert!(moved.stdout.contains(&moto), "{}", moved.stdout);
    env.run(&["unlock", "work", "--pin-stdin"], &format!("{PIN}\n"))
        .ok();
    let session = creds(&env.run(&["credential-process", "work"], "").ok().stdout);
    assert!(!session["AccessKeyId"].as_str().unwrap().contains("HOSTILE"));
    assert_eq!(hostile.requests().len(), 0, "{:#?}", hostile.requests());
}

/// As a user without root's CAP_SYS_PTRACE (nobody), a client must still
/// be able to tell the real agent is keyfob: the kernel shows a process's
/// executable to the same user only if it is dumpable. The agent is
/// started as that user by one command, and another command (`lock --all`,
/// which checks the agent before it asks anything) must accept it. (With
/// a non-dumpable agent every such client refused it.)
#[test]
fn a_user_without_root_can_tell_the_real_agent_is_keyfob() {
    let nobody = crate::util::Nobody::new();
    let root = nobody.root.clone();
    let run_as_nobody = |args: &[&str]| nobody.run(args);
    let (ok, out) = run_as_nobody(&["agent", "--status"]);
    assert!(ok && out.contains("No keyfob agent runs"), "{out}");
    // Start an agent as nobody, the way any command does, then ask it.
    let mut agent = nobody
        .command(&["agent", "--idle", "30s"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let sock = root.join("run/keyfob/agent.sock");
    let begun = std::time::Instant::now();
    while !sock.exists() {
        assert!(
            begun.elapsed() < std::time::Duration::from_secs(20),
            "the agent did not listen"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let (ok, out) = run_as_nobody(&["lock", "--all"]);
    let (stopped, stop_out) = run_as_nobody(&["agent", "--stop"]);
    let _ = agent.kill();
    let _ = agent.wait();
    drop(nobody);
    assert!(ok, "a client of nobody refused nobody's agent: {out}");
    assert!(stopped, "{stop_out}");
}
