//! Access keys' life: listing, the two-key limit, deleting, the staged
//! rotation (under load, rolled back from each step, killed mid-way), audit
//! and whois — against the emulator with auth on, where an inactive key is
//! really refused (launcher tightening T1).

use std::time::Duration;

use serde_json::Value;

use crate::util::{Env, Run, User, add_identity, unique};

const PIN: &str = "pin-Kq77-keys";

fn setup(env: &Env, base: &str) -> (User, String) {
    let name = unique(base);
    let user: User = serde_json::from_value(env.moto.admin(&["create-user", &name])).unwrap();
    add_identity(env, "work", &user, PIN);
    (user, name)
}

fn with_pin(env: &Env, args: &[&str]) -> Run {
    let mut all = args.to_vec();
    all.push("--pin-stdin");
    env.run(&all, &format!("{PIN}\n"))
}

fn keys(env: &Env) -> Vec<Value> {
    let run = with_pin(env, &["keys", "work", "--json"]).ok();
    serde_json::from_str::<Value>(&run.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// The vault's active key ID, from `keyfob list --json`.
fn vault_key(env: &Env) -> String {
    let run = env.run(&["list", "--json"], "").ok();
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    v[0]["access_key_id"].as_str().unwrap().to_owned()
}

/// GetCallerIdentity signed with a long-term key, straight at the emulator.
fn caller(env: &Env, key_id: &str, secret: &str) -> Value {
    env.moto.admin(&["caller", key_id, secret])
}

#[test]
fn keys_lists_the_users_keys_and_which_is_in_the_vault() {
    let env = Env::new();
    let (user, _) = setup(&env, "k-list");
    let listed = keys(&env);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["access_key_id"], user.access_key_id.as_str());
    assert_eq!(listed[0]["status"], "Active");
    assert_eq!(listed[0]["in_vault"], true);
    assert_eq!(listed[0]["age_days"], 0);
    let text = with_pin(&env, &["keys", "work"]).ok().stdout;
    assert!(text.contains("(in the vault)"), "{text}");
    // A wrong PIN opens nothing.
    env.run(&["keys", "work", "--pin-stdin"], "wrong-pin\n")
        .refused(2, "wrong PIN");
}

#[test]
fn two_keys_is_the_limit_and_an_active_key_is_not_deleted() {
    let env = Env::new();
    let (user, name) = setup(&env, "k-two");
    let second = env.moto.admin(&["create-key", &name]);
    let second_id = second["access_key_id"].as_str().unwrap();
    // Rotation and create both need room for a second key, and say which
    // key to deal with.
    with_pin(&env, &["rotate", "work"]).refused(1, &format!("Deal with {second_id} first"));
    with_pin(&env, &["keys", "work", "create"]).refused(1, "already has two access keys");
    // The console's rule: deactivate before delete.
    with_pin(&env, &["keys", "work", "delete", second_id])
        .refused(1, "is Active: deactivate it first");
    // The vault's own key is protected from both.
    with_pin(&env, &["keys", "work", "deactivate", &user.access_key_id])
        .refused(1, "would lock you out");
    with_pin(&env, &["keys", "work", "deactivate", second_id]).ok();
    assert_eq!(
        caller(
            &env,
            second_id,
            second["secret_access_key"].as_str().unwrap()
        )["status"],
        403
    );
    with_pin(&env, &["keys", "work", "activate", second_id]).ok();
    with_pin(&env, &["keys", "work", "delete", second_id, "--force"]).ok();
    assert_eq!(keys(&env).len(), 1);
}

#[test]
fn a_full_rotation_under_load_never_fails_a_call() {
    let env = Env::new();
    let (user, _) = setup(&env, "k-rot");
    with_pin(&env, &["unlock", "work"]).ok();

    // A client that keeps asking keyfob (a new boto3 session each time, so
    // credential_process runs every time) and calls STS with the result;
    // it appends a line to `progress` after each call that worked.
    let script = "import boto3, os, sys\nok = 0\nfail = 0\nwhile not os.path.exists(sys.argv[1]):\n    try:\n        boto3.Session(profile_name='work').client('sts').get_caller_identity()\n        ok += 1\n        with open(sys.argv[2], 'a') as f:\n            f.write('.\\n')\n    except Exception as e:\n        fail += 1\n        print('FAIL', e, file=sys.stderr)\nprint(ok, fail)\n";
    let stop_file = env.root.path().join("stop");
    let progress = env.root.path().join("progress");
    let mut loader = env.command("python3");
    loader.args(["-c", script]).arg(&stop_file).arg(&progress);
    let mut loader = loader
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Waits until the client has made `n` more good calls: every step of
    // the rotation is followed by calls made with what it left.
    let mut calls_seen = 0;
    let mut calls_after = |what: &str, n: usize| {
        let begun = std::time::Instant::now();
        let count = || {
            std::fs::read_to_string(&progress)
                .map(|t| t.lines().count())
                .unwrap_or(0)
        };
        while count() < calls_seen + n {
            assert!(
                loader.try_wait().unwrap().is_none(),
                "the client stopped {what}"
            );
            assert!(
                begun.elapsed() < Duration::from_secs(60),
                "the client made no {n} good calls within 60 s {what}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        calls_seen = count();
    };
    calls_after("before the rotation", 1);

    let run = env
        .run(
            &["rotate", "work", "--grace", "0s", "--pin-stdin"],
            &format!("{PIN}\n"),
        )
        .ok();
    assert!(
        run.stdout.contains("2. STS accepts the new key"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("3. The old key"), "{}", run.stdout);
    let new_key = vault_key(&env);
    assert_ne!(new_key, user.access_key_id);
    calls_after("after the switch", 2);
    with_pin(&env, &["rotate", "work", "--continue"]).ok();
    // Deactivated really means refused.
    assert_eq!(
        caller(&env, &user.access_key_id, &user.secret_access_key)["status"],
        403
    );
    calls_after("after the old key was deactivated", 2);
    let run = with_pin(&env, &["rotate", "work", "--continue"]).ok();
    assert!(
        run.stdout.contains("The rotation is complete"),
        "{}",
        run.stdout
    );
    calls_after("after the old key was deleted", 2);

    std::fs::write(&stop_file, "").unwrap();
    let out = loader.wait_with_output().unwrap();
    let counts = String::from_utf8_lossy(&out.stdout);
    let mut parts = counts.split_whitespace().map(|n| n.parse::<u32>().unwrap());
    let (ok, failed) = (parts.next().unwrap(), parts.next().unwrap());
    assert_eq!(
        failed,
        0,
        "calls failed during the rotation: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(ok > 3, "the client kept calling ({ok} calls)");

    // The old key is gone at IAM and refused; the new one is the only key.
    assert_eq!(
        caller(&env, &user.access_key_id, &user.secret_access_key)["status"],
        403
    );
    let listed = keys(&env);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["access_key_id"], new_key.as_str());
    with_pin(&env, &["rotate", "work", "--status"]).ok();
    assert!(
        env.run(&["rotate", "work", "--status"], "")
            .ok()
            .stdout
            .contains("no rotation in progress")
    );
}

#[test]
fn rollback_from_each_step_restores_the_old_key() {
    let env = Env::new();
    let (user, _) = setup(&env, "k-back");
    let check_restored = |env: &Env| {
        assert_eq!(vault_key(env), user.access_key_id);
        let listed = keys(env);
        assert_eq!(listed.len(), 1, "{listed:?}");
        assert_eq!(listed[0]["status"], "Active");
        assert!(caller(env, &user.access_key_id, &user.secret_access_key)["arn"].is_string());
        with_pin(env, &["unlock", "work"]).ok();
        env.run(&["credential-process", "work"], "").ok();
    };
    // Step 1 only (keys create).
    with_pin(&env, &["keys", "work", "create"]).ok();
    assert_eq!(keys(&env).len(), 2);
    assert!(
        env.run(&["rotate", "work", "--status"], "")
            .ok()
            .stdout
            .contains("[x] 1.")
    );
    with_pin(&env, &["rotate", "work", "--rollback"]).ok();
    check_restored(&env);
    // Steps 1-3 (switched).
    with_pin(&env, &["rotate", "work"]).ok();
    assert_ne!(vault_key(&env), user.access_key_id);
    with_pin(&env, &["rotate", "work", "--rollback"]).ok();
    check_restored(&env);
    // Step 4 (deactivated): rollback re-activates the old key.
    with_pin(&env, &["rotate", "work"]).ok();
    with_pin(&env, &["rotate", "work", "--continue"]).ok();
    assert_eq!(
        caller(&env, &user.access_key_id, &user.secret_access_key)["status"],
        403
    );
    // The grace period holds the deletion back.
    with_pin(&env, &["rotate", "work", "--continue"]).refused(1, "grace period");
    with_pin(&env, &["rotate", "work", "--rollback"]).ok();
    check_restored(&env);
}

/// The rotation runs in the agent (where the key is unsealed), so the
/// process to kill is the agent. A measured run of `rotate` (steps 1–3)
/// sets the kill window; the agent is then killed with SIGKILL at a point
/// of it that moves with what the last kill hit: later after a kill before
/// the rotation recorded anything (`rotate` then asks a new agent once
/// more and finishes there), earlier after one that came once the vault
/// had switched (a fixed set of points missed under a load that changed
/// during the test: 1 of 6 landed once). Whatever step it died in, the
/// next commands (which start a new agent) finish or roll back the
/// rotation, and the identity ends with one key at IAM, the vault's,
/// working. Three kills must land mid-rotation — begun, the vault not yet
/// switched (a finished start also leaves a rotation in progress, so that
/// is not counted) — within 16 rounds, or the test proved nothing; they
/// are rolled back and finished in turn.
#[test]
fn a_rotation_whose_agent_is_killed_at_any_point_can_be_finished_or_rolled_back() {
    let env = Env::new();
    let (user, _) = setup(&env, "k-kill");
    // Calibrate: one whole rotation start, measured, then rolled back.
    with_pin(&env, &["unlock", "work"]).ok();
    let begun = std::time::Instant::now();
    with_pin(&env, &["rotate", "work", "--grace", "0s"]).ok();
    let window = begun.elapsed();
    with_pin(&env, &["rotate", "work", "--rollback"]).ok();
    assert_eq!(keys(&env).len(), 1);
    let (mut mid, mut before, mut after) = (0, 0, 0);
    // The kill point, between one known too early and one known too late
    // (halved each miss; a rotation whose key the agent still holds is
    // much shorter than the measured one, seen: done within 50 ms).
    let (mut early, mut late) = (0.0_f64, 1.5_f64);
    let mut fraction: f64 = 0.35;
    let mut rounds = 0;
    while mid < 3 && rounds < 16 {
        let round = rounds;
        rounds += 1;
        with_pin(&env, &["unlock", "work"]).ok();
        let agent = env.agent_pid().expect("the agent runs");
        let mut cmd = env.keyfob();
        let mut child = cmd
            .args(["rotate", "work", "--grace", "0s", "--pin-stdin"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{PIN}\n").as_bytes())
            .unwrap();
        std::thread::sleep(window.mul_f64(fraction));
        // Whether `rotate` had finished before the kill (else, if it still
        // succeeds, it made its request again to a new agent: see below).
        let done_before = child.try_wait().unwrap().is_some();
        // The agent serves until told otherwise: the kill must find it.
        let killed = std::process::Command::new("kill")
            .args(["-9", &agent.to_string()])
            .status()
            .unwrap()
            .success();
        assert!(
            killed,
            "round {round}: the agent {agent} had gone before the kill"
        );
        let begun = std::time::Instant::now();
        while crate::util::alive(agent) {
            assert!(
                begun.elapsed() < Duration::from_secs(10),
                "round {round}: the agent outlived kill -9"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let rotated = child.wait().unwrap().success();
        let status = env.run(&["rotate", "work", "--status"], "").ok().stdout;
        let in_progress = !status.contains("no rotation in progress");
        // Mid-rotation: begun, but not yet at the step a whole `rotate`
        // ends on (the vault switched to the new key, step 2 done).
        let killed_mid = in_progress && status.contains("[ ] 2.");
        if killed_mid {
            assert!(
                !rotated,
                "round {round}: `rotate` said it worked, yet the vault was not switched: {status}"
            );
            mid += 1;
            eprintln!("round {round}: killed mid-rotation at {fraction:.2}");
        } else {
            // A `rotate` whose agent died before it recorded anything asks
            // a new agent once more and finishes there: killed too early
            // (seen at every point from 1% to 35% of the window, the
            // unseal in the agent still running).
            let too_late = if rotated { done_before } else { in_progress };
            if too_late {
                // The vault had switched: kill earlier.
                after += 1;
                late = fraction;
            } else {
                // Nothing had begun, or nothing was recorded: kill later.
                before += 1;
                early = fraction;
            }
            if late - early < 0.01 {
                // The rotation's length moved past both: start over.
                (early, late) = (0.0, 1.5);
            }
            fraction = (early + late) / 2.0;
        }
        // Kills that landed mid-rotation are rolled back and finished in
        // turn, so two of them try both ways out.
        let roll_back = if killed_mid {
            mid % 2 == 1
        } else {
            round % 2 == 0
        };
        if !in_progress {
            // Killed before it began, or it finished before the kill: the
            // identity works either way (checked below).
        } else if roll_back {
            with_pin(&env, &["rotate", "work", "--rollback"]).ok();
        } else {
            // Finish it: the remaining steps, whatever they are.
            for _ in 0..4 {
                if env
                    .run(&["rotate", "work", "--status"], "")
                    .ok()
                    .stdout
                    .contains("no rotation in progress")
                {
                    break;
                }
                with_pin(&env, &["rotate", "work", "--continue"]).ok();
            }
        }
        // Whatever happened: one key at IAM, the one in the vault, working.
        let listed = keys(&env);
        assert_eq!(listed.len(), 1, "round {round}: {listed:?}");
        assert_eq!(listed[0]["access_key_id"], vault_key(&env).as_str());
        with_pin(&env, &["unlock", "work"]).ok();
        env.run(&["credential-process", "work"], "").ok();
    }
    eprintln!(
        "{mid} of {rounds} kills landed mid-rotation, {before} before anything was recorded, {after} after the switch (window {window:?})"
    );
    assert!(
        mid >= 3,
        "only {mid} of {rounds} kills landed mid-rotation ({before} before anything was recorded, {after} after the switch; window {window:?})"
    );
    let _ = user;
}

#[test]
fn whois_classifies_and_finds_the_account() {
    let env = Env::new();
    let (user, _) = setup(&env, "k-who");
    let run = env
        .run(&["whois", "ASIAY34FZKBOKMUTVV7A", "--offline"], "")
        .ok();
    assert_eq!(
        run.stdout.trim(),
        "ASIAY34FZKBOKMUTVV7A: a temporary access key (STS); account 609629065308 (decoded offline)"
    );
    let run = env
        .run(&["whois", "AKIAI44QH8DHBEXAMPLE", "--offline"], "")
        .ok();
    assert!(
        run.stdout.contains("a long-term access key"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("account unknown offline"),
        "{}",
        run.stdout
    );
    env.run(&["whois", "not-a-key", "--offline"], "")
        .refused(2, "access key ID: must be 16–128");
    // Online: STS GetAccessKeyInfo, signed with the identity's key (AWS
    // refuses it with GetSessionToken credentials).
    let run = with_pin(&env, &["whois", &user.access_key_id]).ok();
    assert!(
        run.stdout
            .contains("account 123456789012 (STS GetAccessKeyInfo)"),
        "{}",
        run.stdout
    );
}

#[test]
fn audit_reports_what_needs_action_and_exits_non_zero() {
    let env = Env::new();
    let (user, _) = setup(&env, "k-aud");
    // Clean after a refresh: one key, just created, used.
    let run = env.run(&["audit", "--refresh", "--pin-stdin"], &format!("{PIN}\n"));
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("work: key 0 days old"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("1 active key(s)"), "{}", run.stdout);
    assert!(
        run.stdout.contains("Nothing needs action."),
        "{}",
        run.stdout
    );

    // A plaintext key in the credentials file and an unfinished rotation.
    let aws = env.home().join(".aws");
    std::fs::write(
        aws.join("credentials"),
        format!(
            "[old]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            user.access_key_id, user.secret_access_key
        ),
    )
    .unwrap();
    with_pin(&env, &["keys", "work", "create"]).ok();
    let run = env.run(&["audit", "--json"], "");
    assert_eq!(run.code, Some(3), "{}{}", run.stdout, run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["findings"], 2);
    assert!(
        v["plaintext_keys"][0]
            .as_str()
            .unwrap()
            .contains("keyfob import")
    );
    assert_eq!(v["identities"][0]["rotation_step"], 1);
    assert!(!run.stdout.contains(&user.secret_access_key));
    assert_eq!(run.stderr.trim(), "keyfob: 2 finding(s) need action");
}
