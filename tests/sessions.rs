//! credential_process, sessions, MFA, roles and switching, through the real
//! AWS clients: the AWS CLI v2 (Debian's /usr/bin/aws), the AWS CLI v1 and
//! boto3 (PyPI, in the test venv), against the emulator with auth on.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{Env, Run, User, add_identity, arn_of, run_command, unique};

const PIN: &str = "pin-Sx92-sess";

/// An identity `work` with its plain profile, in `env`.
fn with_identity(env: &Env, user: &User) {
    add_identity(env, "work", user, PIN);
}

fn user_in(env: &Env, base: &str) -> User {
    serde_json::from_value(env.moto.admin(&["create-user", &unique(base)])).unwrap()
}

fn unlock(env: &Env, profile: &str, extra: &[&str]) -> Run {
    let mut args = vec!["unlock", profile, "--pin-stdin"];
    args.extend_from_slice(extra);
    env.run(&args, &format!("{PIN}\n"))
}

#[test]
fn every_real_client_gets_a_session_for_an_identity_profile() {
    let env = Env::new();
    let user = user_in(&env, "cp");
    with_identity(&env, &user);
    unlock(&env, "work", &[]).ok();

    assert_eq!(
        arn_of(env.aws_v2(&["sts", "get-caller-identity", "--profile", "work"])),
        user.arn
    );
    assert_eq!(
        arn_of(env.aws_v1(&["sts", "get-caller-identity", "--profile", "work"])),
        user.arn
    );
    assert_eq!(arn_of(env.boto3_caller("work")), user.arn);

    // What keyfob hands out is exactly the v1 JSON of a temporary key.
    let run = env.run(&["credential-process", "work"], "").ok();
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "AccessKeyId",
            "Expiration",
            "SecretAccessKey",
            "SessionToken",
            "Version"
        ]
    );
    assert_eq!(v["Version"], 1);
    assert!(v["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    assert_ne!(v["AccessKeyId"], user.access_key_id.as_str());
    assert!(
        !run.stdout.contains(&user.secret_access_key),
        "the long-term key leaked"
    );
    time::OffsetDateTime::parse(
        v["Expiration"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(run.stderr, "");
}

#[test]
fn a_locked_profile_without_a_terminal_fails_fast_with_the_unlock_hint() {
    let env = Env::new();
    let user = user_in(&env, "locked");
    with_identity(&env, &user);
    // No controlling terminal (Env uses setsid); stdin from /dev/null, as
    // botocore runs it.
    let mut cmd = env.keyfob();
    cmd.args(["credential-process", "work"])
        .stdin(std::process::Stdio::null());
    let start = Instant::now();
    let out = cmd.output().unwrap();
    // A hang guard, not a timing claim (the figure is in the benchmark).
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing on stdout");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        "keyfob: profile work is locked — run 'keyfob unlock work'"
    );
    // And through a real client: the AWS CLI reports keyfob's message.
    let run = env.aws_v2(&["sts", "get-caller-identity", "--profile", "work"]);
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains("keyfob unlock work"), "{}", run.stderr);
}

#[test]
fn an_mfa_profile_sends_the_code_once() {
    let env = Env::new();
    let user = user_in(&env, "mfa");
    with_identity(&env, &user);
    let user_name = user.arn.rsplit('/').next().unwrap();
    let device = env.moto.admin(&["mfa", user_name]);
    let serial = device["serial"].as_str().unwrap();
    let seed = device["seed"].as_str().unwrap();
    env.run(
        &[
            "profile",
            "add",
            "work-mfa",
            "--identity",
            "work",
            "--mfa-serial",
            serial,
        ],
        "",
    )
    .ok();

    let code = run_command(
        std::process::Command::new("python3"),
        &[
            &format!("{}/tests/support/iam_admin.py", env!("CARGO_MANIFEST_DIR")),
            "-",
            "totp",
            seed,
        ],
        "",
    )
    .ok()
    .stdout
    .trim()
    .to_owned();
    // Without a code, a script is told how to give one.
    unlock(&env, "work-mfa", &[]).refused(1, "needs a MFA code; pass --mfa-code CODE");
    // A malformed code is refused before anything else.
    unlock(&env, "work-mfa", &["--mfa-code", "12345"]).refused(2, "MFA code: must be the 6 digits");
    unlock(&env, "work-mfa", &["--mfa-code", &code]).ok();
    assert_eq!(
        arn_of(env.aws_v2(&["sts", "get-caller-identity", "--profile", "work-mfa"])),
        user.arn
    );
    // The same code again would be refused by AWS: keyfob does not send it.
    unlock(&env, "work-mfa", &["--mfa-code", &code]).refused(2, "that code was already used");
}

#[test]
fn a_role_profile_with_an_external_id_assumes_the_role() {
    let env = Env::new();
    let user = user_in(&env, "role");
    with_identity(&env, &user);
    let role_name = unique("Deploy");
    let role = env
        .moto
        .admin(&["create-role", &role_name, "ext-Secret-123"]);
    let role_arn = role["arn"].as_str().unwrap();
    // The external-ID guard needs the identity session to check the role.
    unlock(&env, "work", &[]).ok();
    env.run(
        &[
            "profile",
            "add",
            "deploy",
            "--identity",
            "work",
            "--role-arn",
            role_arn,
            "--external-id",
            "ext-Secret-123",
            "--duration",
            "1h",
            "--region",
            "eu-west-1",
        ],
        "",
    )
    .ok();
    // The identity session is shared: the role needs no PIN now.
    let arn = arn_of(env.boto3_caller("deploy"));
    assert_eq!(
        arn,
        format!("arn:aws:sts::123456789012:assumed-role/{role_name}/keyfob-work")
    );
    assert_eq!(
        arn_of(env.aws_v1(&["sts", "get-caller-identity", "--profile", "deploy"])),
        arn
    );
    let config = std::fs::read_to_string(env.home().join(".aws/config")).unwrap();
    assert!(
        config.contains("[profile deploy]\ncredential_process = "),
        "{config}"
    );
    assert!(
        config.contains("credential-process deploy\nregion = eu-west-1"),
        "{config}"
    );

    // A wrong external ID is refused by the role's trust policy, when the
    // profile is added (the guard), so it is never stored.
    env.run(
        &[
            "profile",
            "add",
            "wrong",
            "--identity",
            "work",
            "--role-arn",
            role_arn,
            "--external-id",
            "ext-Wrong-456",
        ],
        "",
    )
    .refused(2, "AccessDenied");
    env.run(&["credential-process", "wrong"], "")
        .refused(1, "no profile named wrong");
}

#[test]
fn thirty_two_parallel_cold_calls_make_one_sts_call() {
    let env = Env::with_own_emulator();
    let user = user_in(&env, "par");
    with_identity(&env, &user);
    let role = env.moto.admin(&["create-role", &unique("Par")]);
    env.run(
        &[
            "profile",
            "add",
            "par",
            "--identity",
            "work",
            "--role-arn",
            role["arn"].as_str().unwrap(),
        ],
        "",
    )
    .ok();
    unlock(&env, "work", &[]).ok();
    let before = env.moto.calls()["sts:AssumeRole"].as_u64().unwrap_or(0);

    let children: Vec<_> = (0..32)
        .map(|_| {
            env.keyfob()
                .args(["credential-process", "par"])
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let mut keys = std::collections::HashSet::new();
    for out in &outputs {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        keys.insert(v["AccessKeyId"].as_str().unwrap().to_owned());
    }
    assert_eq!(keys.len(), 1, "every caller got the one session");
    let after = env.moto.calls()["sts:AssumeRole"].as_u64().unwrap_or(0);
    assert_eq!(after - before, 1, "exactly one AssumeRole for 32 callers");
}

#[test]
fn use_makes_a_profile_every_tools_default() {
    let env = Env::new();
    let user = user_in(&env, "use");
    with_identity(&env, &user);
    unlock(&env, "work", &[]).ok();
    env.run(&["current"], "").refused(1, "no default profile");
    env.run(&["use", "work"], "").ok();
    assert_eq!(env.run(&["current"], "").ok().stdout.trim(), "work");
    // No --profile: the AWS CLI uses [default], which is now keyfob's.
    assert_eq!(
        arn_of(env.aws_v2(&["sts", "get-caller-identity"])),
        user.arn
    );
    assert_eq!(arn_of(env.boto3_caller("default")), user.arn);
}

#[test]
fn use_asks_before_replacing_a_default_it_does_not_manage() {
    let env = Env::new();
    let user = user_in(&env, "use2");
    with_identity(&env, &user);
    let config = env.home().join(".aws/config");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[default]\nregion = us-west-2\noutput = table\n");
    std::fs::write(&config, &text).unwrap();
    env.run(&["use", "work"], "")
        .refused(1, "profile default in");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), text);
    env.run(&["use", "work", "--yes"], "").ok();
    let after = std::fs::read_to_string(&config).unwrap();
    assert!(
        after.contains("[default]\nregion = us-west-2\noutput = table\ncredential_process = "),
        "{after}"
    );
    assert_eq!(
        std::fs::read_to_string(env.home().join(".aws/config.keyfob.bak")).unwrap(),
        text
    );
}

#[test]
fn exec_injects_a_session_and_clears_competing_variables() {
    let env = Env::new();
    let user = user_in(&env, "exec");
    with_identity(&env, &user);
    unlock(&env, "work", &[]).ok();
    let mut cmd = env.keyfob();
    cmd.env("AWS_PROFILE", "someone-else")
        .env("AWS_SECRET_ACCESS_KEY", "stale");
    let run = run_command(
        cmd,
        &[
            "exec",
            "work",
            "--",
            "sh",
            "-c",
            "env | grep -E '^(AWS|KEYFOB)_' | sort",
        ],
        "",
    )
    .ok();
    assert!(
        run.stdout.contains("AWS_ACCESS_KEY_ID=ASIA"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("AWS_SESSION_TOKEN="), "{}", run.stdout);
    assert!(
        run.stdout.contains("AWS_CREDENTIAL_EXPIRATION="),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("KEYFOB_PROFILE=work"), "{}", run.stdout);
    assert!(!run.stdout.contains("AWS_PROFILE="), "{}", run.stdout);
    assert!(!run.stdout.contains("stale"), "{}", run.stdout);
    assert!(!run.stdout.contains(&user.secret_access_key));

    // A real client inside exec uses the injected session.
    let run = run_command(
        env.keyfob(),
        &[
            "exec",
            "work",
            "--",
            "python3",
            "-c",
            "import boto3, json; print(json.dumps(boto3.client('sts').get_caller_identity()))",
        ],
        "",
    );
    assert_eq!(arn_of(run), user.arn);

    // Nesting is refused.
    let mut nested = env.keyfob();
    nested.env("KEYFOB_PROFILE", "work");
    run_command(nested, &["exec", "work", "--", "true"], "")
        .refused(1, "already inside `keyfob exec`");

    // env prints what exec would set, for each shell.
    let bash = env.run(&["env", "work", "--shell", "bash"], "").ok().stdout;
    assert!(bash.contains("unset AWS_PROFILE\n"));
    assert!(bash.contains("export AWS_ACCESS_KEY_ID=ASIA"));
    let fish = env.run(&["env", "work", "--shell", "fish"], "").ok().stdout;
    assert!(fish.contains("set -gx AWS_SESSION_TOKEN '"));
    let ps = env
        .run(&["env", "work", "--shell", "powershell"], "")
        .ok()
        .stdout;
    assert!(ps.contains("$Env:AWS_ACCESS_KEY_ID = 'ASIA"));
}

#[test]
fn the_aws_config_keeps_comments_and_unmanaged_profiles_byte_for_byte() {
    let env = Env::new();
    let user = user_in(&env, "cfg");
    let config = env.home().join(".aws/config");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    let original = "# my AWS setup\r\n[profile legacy]  ; old one\r\nregion = ap-south-1\r\ns3 =\r\n  max_concurrent_requests = 10\r\n\r\n[sso-session corp]\r\nsso_start_url = https://example.awsapps.com/start\r\n";
    std::fs::write(&config, original).unwrap();
    with_identity(&env, &user);
    env.run(
        &[
            "profile",
            "add",
            "eu",
            "--identity",
            "work",
            "--region",
            "eu-west-1",
        ],
        "",
    )
    .ok();
    let after = std::fs::read_to_string(&config).unwrap();
    assert!(after.starts_with(original), "{after:?}");
    assert!(
        after.contains("[profile work]\r\ncredential_process = "),
        "{after:?}"
    );
    assert!(
        after.contains("[profile eu]\r\ncredential_process = "),
        "{after:?}"
    );

    // An unmanaged section of the same name is not taken without asking,
    // and then nothing at all is written.
    let before = (env.snapshot(), env.keyring_dump());
    env.run(
        &[
            "add",
            "legacy",
            "--access-key-id",
            &user.access_key_id,
            "--stdin",
        ],
        &format!("{}\n{PIN}\n", user.secret_access_key),
    )
    .refused(1, "profile legacy in");
    assert_eq!((env.snapshot(), env.keyring_dump()), before);

    // Removing a profile removes its section and nothing else.
    env.run(&["profile", "remove", "eu", "--yes"], "").ok();
    let after_remove = std::fs::read_to_string(&config).unwrap();
    assert!(after_remove.starts_with(original));
    assert!(!after_remove.contains("[profile eu]"));
}

#[test]
fn bad_profile_values_are_refused_and_nothing_is_written() {
    let env = Env::new();
    let user = user_in(&env, "badp");
    with_identity(&env, &user);
    let before = env.snapshot();
    let role = "arn:aws:iam::123456789012:role/Deploy";
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["bad]name", "--identity", "work"],
            "profile name: may contain only",
        ),
        (
            vec!["x=y", "--identity", "work"],
            "profile name: may contain only",
        ),
        (
            vec!["p", "--identity", "nobody"],
            // Named as a field since the CLI and the app share one core:
            // refused input, exit 2, like every other row here.
            "identity name: no identity named nobody",
        ),
        (
            vec![
                "p",
                "--identity",
                "work",
                "--role-arn",
                "arn:aws:iam::12:role/x",
            ],
            "role ARN: needs a 12-digit account ID",
        ),
        (
            vec![
                "p",
                "--identity",
                "work",
                "--role-arn",
                role,
                "--external-id",
                "a",
            ],
            "external ID: must be 2–1224",
        ),
        (
            vec![
                "p",
                "--identity",
                "work",
                "--role-arn",
                role,
                "--external-id",
                "a\nb",
            ],
            "external ID: may contain only",
        ),
        (
            vec!["p", "--identity", "work", "--external-id", "abc"],
            "external ID: needs a role ARN",
        ),
        (
            vec![
                "p",
                "--identity",
                "work",
                "--role-arn",
                role,
                "--role-session-name",
                "a b",
            ],
            "role session name: may contain only",
        ),
        (
            vec![
                "p",
                "--identity",
                "work",
                "--role-arn",
                role,
                "--source-identity",
                "x",
            ],
            "source identity: must be 2–64",
        ),
        (
            vec!["p", "--identity", "work", "--mfa-serial", "abc"],
            "MFA serial: must be 9–256",
        ),
        (
            vec!["p", "--identity", "work", "--duration", "10m"],
            "duration: a session must last 900–129600",
        ),
        (
            vec![
                "p",
                "--identity",
                "work",
                "--role-arn",
                role,
                "--duration",
                "13h",
            ],
            "duration: a role session must last 900–43200",
        ),
        (
            vec!["p", "--identity", "work", "--duration", "soon"],
            "duration: must be like",
        ),
        (
            vec!["p", "--identity", "work", "--region", "EU"],
            "region: must be a region name",
        ),
        (
            vec!["work", "--identity", "work"],
            "profile name: work is already taken",
        ),
    ];
    for (args, needle) in cases {
        let mut all = vec!["profile", "add"];
        all.extend(args);
        env.run(&all, "").refused(2, needle);
    }
    assert_eq!(env.snapshot(), before);
}

#[test]
fn credential_process_errors_keep_stdout_empty() {
    let env = Env::new();
    let user = user_in(&env, "errs");
    with_identity(&env, &user);
    let check = |run: Run, code: i32, needle: &str| {
        assert!(
            run.stdout.is_empty(),
            "stdout must stay empty: {}",
            run.stdout
        );
        run.refused(code, needle);
    };
    // Unknown profile.
    check(
        env.run(&["credential-process", "nope"], ""),
        1,
        "no profile named nope",
    );
    // Locked (stdin is a pipe, and the test has no terminal).
    check(env.run(&["credential-process", "work"], ""), 1, "is locked");
    // STS unreachable (an identity whose endpoint nothing answers): a
    // clear error, not a hang.
    crate::util::with_identity_using(
        &env,
        &[],
        "dead",
        PIN,
        &["--no-verify", "--endpoint-url", "http://127.0.0.1:9"],
    );
    check(
        env.run(&["unlock", "dead", "--pin-stdin"], &format!("{PIN}\n")),
        1,
        "could not reach AWS",
    );
    // A cached session keeps being served while STS is unreachable.
    unlock(&env, "work", &[]).ok();
    let mut cmd = env.keyfob();
    cmd.env("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
    run_command(cmd, &["credential-process", "work"], "").ok();
    // A wrong PIN.
    check(
        env.run(&["unlock", "work", "--pin-stdin"], "wrong-pin\n"),
        2,
        "wrong PIN for identity work",
    );
    // A broken config.toml is named.
    std::fs::write(
        env.root.path().join("config/keyfob/config.toml"),
        "[profiles.work\n",
    )
    .unwrap();
    check(
        env.run(&["credential-process", "work"], ""),
        1,
        "config.toml is not valid",
    );
    // Locking drops the session: the next call is locked again.
    std::fs::write(
        env.root.path().join("config/keyfob/config.toml"),
        "[profiles.work]\nidentity = \"work\"\n",
    )
    .unwrap();
    env.run(&["lock", "work"], "").ok();
    check(env.run(&["credential-process", "work"], ""), 1, "is locked");
    unlock(&env, "work", &[]).ok();
    env.run(&["lock", "--all"], "").ok();
    check(env.run(&["credential-process", "work"], ""), 1, "is locked");
}

#[test]
fn completions_are_generated() {
    let env = Env::bare();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = env.run(&["completions", shell], "").ok().stdout;
        assert!(out.contains("credential-process"), "{shell}");
    }
}

#[test]
fn import_moves_keys_out_of_the_credentials_file() {
    let env = Env::new();
    let a = user_in(&env, "imp-a");
    let b = user_in(&env, "imp-b");
    let aws = env.home().join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    let creds = format!(
        "# keys\n[dev]\naws_access_key_id = {}\naws_secret_access_key = {}\nregion = eu-west-1\n\n[temp]\naws_access_key_id = ASIAY34FZKBOKMUTVV7A\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\naws_session_token = abc\n\n[ops]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        a.access_key_id, a.secret_access_key, b.access_key_id, b.secret_access_key
    );
    std::fs::write(aws.join("credentials"), &creds).unwrap();
    let role = env.moto.admin(&["create-role", &unique("Imp")]);
    std::fs::write(
        aws.join("config"),
        format!(
            "[profile admin]\nrole_arn = {}\nsource_profile = dev\nregion = us-west-2\n",
            role["arn"].as_str().unwrap()
        ),
    )
    .unwrap();

    let run = env
        .run(&["import", "--pin-stdin"], &format!("{PIN}\n{PIN}-ops\n"))
        .ok();
    assert!(
        run.stdout.contains("Imported [dev] as identity dev"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Imported [ops] as identity ops"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Skipping [temp]: a temporary key"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Converted role profile admin"),
        "{}",
        run.stdout
    );

    // The keys are out of the credentials file; the temporary one stays.
    let after = std::fs::read_to_string(aws.join("credentials")).unwrap();
    for secret in [&a.secret_access_key, &b.secret_access_key] {
        assert!(!after.contains(secret.as_str()), "{after}");
    }
    assert!(after.contains("[temp]"), "{after}");
    assert_eq!(
        std::fs::read_to_string(aws.join("credentials.keyfob.bak")).unwrap(),
        creds
    );
    // The identities work through the AWS CLI, and so does the role.
    env.run(&["unlock", "dev", "--pin-stdin"], &format!("{PIN}\n"))
        .ok();
    assert_eq!(
        arn_of(env.aws_v1(&["sts", "get-caller-identity", "--profile", "dev"])),
        a.arn
    );
    let arn = arn_of(env.boto3_caller("admin"));
    assert!(arn.contains(":assumed-role/"), "{arn}");
    let config = std::fs::read_to_string(aws.join("config")).unwrap();
    assert!(!config.contains("source_profile"), "{config}");
    assert!(config.contains("region = us-west-2"), "{config}");
}
