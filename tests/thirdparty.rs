//! Third-party roles: the confused-deputy guard that `profile add` runs on a
//! role with an external ID, `role check`, the warning an unguarded profile
//! prints on every use, and the provider's `external-id new` and
//! `trust-policy`, against the emulator with auth on.
//!
//! moto accepts a *missing* ExternalId where a trust policy requires one;
//! the launcher's tightening T3 makes it refuse that call as AWS does, so a
//! role whose trust policy has `StringEquals sts:ExternalId` really denies
//! the guard's first call. The tests below rely on (and so verify) it: a
//! role created with the condition comes out "guarded".

use std::collections::HashSet;

use serde_json::Value;

use crate::util::{Env, Run, User, add_identity, unique};

const PIN: &str = "pin-Tp47-third";

fn user_in(env: &Env, base: &str) -> User {
    serde_json::from_value(env.moto.admin(&["create-user", &unique(base)])).unwrap()
}

/// An identity `work` (with its plain profile) for a fresh IAM user.
fn with_identity(env: &Env, base: &str) -> User {
    let user = user_in(env, base);
    add_identity(env, "work", &user, PIN);
    user
}

fn unlock(env: &Env, profile: &str) -> Run {
    env.run(&["unlock", profile, "--pin-stdin"], &format!("{PIN}\n"))
}

/// A role in the emulator; with `external_id`, its trust policy requires it
/// (`StringEquals sts:ExternalId`), else anyone in the account may assume it.
fn role(env: &Env, base: &str, external_id: Option<&str>) -> String {
    let name = unique(base);
    let mut args = vec!["create-role", name.as_str()];
    args.extend(external_id);
    env.moto.admin(&args)["arn"].as_str().unwrap().to_owned()
}

/// `keyfob profile add NAME --identity work --role-arn ARN --external-id ID EXTRA…`
fn add(env: &Env, name: &str, role_arn: &str, external_id: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "profile",
        "add",
        name,
        "--identity",
        "work",
        "--role-arn",
        role_arn,
        "--external-id",
        external_id,
    ];
    args.extend_from_slice(extra);
    let stdin = if extra.contains(&"--pin-stdin") {
        format!("{PIN}\n")
    } else {
        String::new()
    };
    env.run(&args, &stdin)
}

/// The stored verdict of a profile, as `profile show --json` reports it.
fn guard_of(env: &Env, name: &str) -> Value {
    let run = env.run(&["profile", "show", name, "--json"], "").ok();
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    v["role"]["external_id_guard"].clone()
}

fn profile_names(env: &Env) -> Vec<String> {
    let run = env.run(&["profile", "list", "--json"], "").ok();
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

/// credential_process output: exactly one JSON object of a role session.
fn assert_process_json(stdout: &str) {
    let v: Value = serde_json::from_str(stdout).expect(stdout);
    assert_eq!(v["Version"], 1);
    assert!(v["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
}

fn allowed_external_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c)
}

#[test]
fn a_guarded_role_is_accepted_and_marked_guarded() {
    let env = Env::new();
    with_identity(&env, "tp-ok");
    let arn = role(&env, "Guarded", Some("ext-Guarded-123"));

    // Locked identity: the guard makes the identity session with the PIN
    // from stdin (and caches it, as unlock would).
    let run = add(&env, "vendor", &arn, "ext-Guarded-123", &["--pin-stdin"]).ok();
    assert!(
        run.stdout
            .contains(&format!("Role {arn} is in account 123456789012.")),
        "{}",
        run.stdout
    );
    // The emulator has one account: the role is the identity's own.
    assert!(
        run.stdout.contains("not a third-party role"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Guarded:"), "{}", run.stdout);
    assert!(
        run.stdout.contains("with an external ID (guarded)"),
        "{}",
        run.stdout
    );
    assert_eq!(run.stderr, "");
    assert_eq!(guard_of(&env, "vendor"), "guarded");
    let config =
        std::fs::read_to_string(env.root.path().join("config/keyfob/config.toml")).unwrap();
    assert!(
        config.contains("external_id_guard = \"guarded\""),
        "{config}"
    );

    // A guarded profile is used without a word on stderr.
    let run = env.run(&["credential-process", "vendor"], "").ok();
    assert_process_json(&run.stdout);
    assert_eq!(run.stderr, "");
}

#[test]
fn a_role_assumable_without_the_external_id_is_refused_and_nothing_is_written() {
    let env = Env::new();
    with_identity(&env, "tp-open");
    let arn = role(&env, "Open", None);
    // The identity session is cached first, so the refused command has
    // nothing of its own to write.
    unlock(&env, "work").ok();
    let before = env.snapshot();
    let names = profile_names(&env);

    let run = add(&env, "vendor", &arn, "ext-Whatever-1", &[]).refused(2, "confused deputy");
    for needle in [
        arn.as_str(),
        "can be assumed without its external ID",
        r#""StringEquals": {"sts:ExternalId": "ext-Whatever-1"}"#,
        "--accept-unguarded",
    ] {
        assert!(run.stderr.contains(needle), "{needle}: {}", run.stderr);
    }
    assert!(
        env.snapshot() == before,
        "a refused profile wrote something"
    );
    assert_eq!(profile_names(&env), names);
    assert!(!names.contains(&"vendor".to_owned()));
}

#[test]
fn accept_unguarded_marks_the_profile_and_every_use_warns() {
    let env = Env::new();
    with_identity(&env, "tp-accept");
    let arn = role(&env, "Accepted", None);
    unlock(&env, "work").ok();

    let run = add(
        &env,
        "vendor",
        &arn,
        "ext-Accepted-1",
        &["--accept-unguarded"],
    )
    .ok();
    assert!(run.stdout.contains("(UNGUARDED"), "{}", run.stdout);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("keyfob: warning: profile vendor is unguarded"),
        "{}",
        run.stderr
    );
    assert_eq!(guard_of(&env, "vendor"), "unguarded");

    let warned = |run: &Run| {
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(
            run.stderr
                .starts_with("keyfob: warning: profile vendor is unguarded: role "),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("keyfob role check vendor"));
    };
    // A miss (the role session is made now), then the cache-hit fast path:
    // stdout stays exactly the JSON, the warning goes to stderr.
    for _ in 0..2 {
        let run = env.run(&["credential-process", "vendor"], "").ok();
        assert_process_json(&run.stdout);
        warned(&run);
    }
    let run = env.run(&["env", "vendor"], "").ok();
    assert!(run.stdout.contains("export AWS_SESSION_TOKEN="));
    warned(&run);
    warned(&env.run(&["exec", "vendor", "--", "true"], "").ok());
    warned(&unlock(&env, "vendor").ok());
    // The AWS tools take the credentials (botocore ignores the stderr line).
    let run = env
        .run_program(
            "python3",
            &[
                "-c",
                "import boto3; print(boto3.Session(profile_name='vendor').client('sts').get_caller_identity()['Arn'])",
            ],
        )
        .ok();
    assert!(run.stdout.contains(":assumed-role/"), "{}", run.stdout);

    let run = env.run(&["profile", "list"], "").ok();
    assert!(
        run.stdout.contains("with an external ID (UNGUARDED"),
        "{}",
        run.stdout
    );

    // audit lists it and exits with its findings code.
    let run = env.run(&["audit", "--json"], "");
    assert_eq!(run.code, Some(3), "{}{}", run.stdout, run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let unguarded = v["unguarded_profiles"].as_array().unwrap();
    assert_eq!(unguarded.len(), 1, "{v}");
    assert!(
        unguarded[0].as_str().unwrap().contains("profile vendor"),
        "{v}"
    );
}

#[test]
fn a_wrong_external_id_is_refused_and_nothing_is_written() {
    let env = Env::new();
    with_identity(&env, "tp-wrong");
    let arn = role(&env, "Strict", Some("ext-Right-123"));
    unlock(&env, "work").ok();
    let before = env.snapshot();

    let run =
        add(&env, "vendor", &arn, "ext-Wrong-456", &[]).refused(2, "the external ID is wrong");
    assert!(run.stderr.contains(&arn), "{}", run.stderr);
    assert!(
        env.snapshot() == before,
        "a refused profile wrote something"
    );
    assert!(!profile_names(&env).contains(&"vendor".to_owned()));

    // Not even --accept-unguarded stores it: the role is guarded, the ID wrong.
    add(
        &env,
        "vendor",
        &arn,
        "ext-Wrong-456",
        &["--accept-unguarded"],
    )
    .refused(2, "the external ID is wrong");
    assert!(env.snapshot() == before);

    add(&env, "vendor", &arn, "ext-Right-123", &[]).ok();
    assert_eq!(guard_of(&env, "vendor"), "guarded");
}

#[test]
fn external_ids_and_arns_are_checked_before_any_call() {
    let env = Env::new();
    with_identity(&env, "tp-fields");
    let arn = role(&env, "Fields", Some("ext-Fields-1"));
    // The identity stays locked: an input that reached the guard would fail
    // with "locked" instead of its field's rule.
    let before = env.snapshot();
    let long = "x".repeat(1225);
    let cases: Vec<(&str, &str, &str)> = vec![
        (
            "arn:aws:iam::12:role/x",
            "ext-Fields-1",
            "role ARN: needs a 12-digit account ID",
        ),
        (
            "arn:aws:iam::123456789012:user/alice",
            "ext-Fields-1",
            "role ARN: is not a role ARN",
        ),
        (
            "arn:aws:sts::123456789012:role/x",
            "ext-Fields-1",
            "role ARN: is not an IAM ARN",
        ),
        (
            "arn:aws:iam::123456789012:role/has space",
            "ext-Fields-1",
            "role ARN: has an invalid role name or path",
        ),
        (&arn, "a", "external ID: must be 2–1224 characters; got 1"),
        (
            &arn,
            &long,
            "external ID: must be 2–1224 characters; got 1225",
        ),
        (&arn, "has space", "external ID: may contain only"),
        (&arn, "semi;colon", "external ID: may contain only"),
        (&arn, "quote\"d", "external ID: may contain only"),
        (&arn, "new\nline", "external ID: may contain only"),
    ];
    for (role_arn, external_id, needle) in cases {
        add(&env, "vendor", role_arn, external_id, &[]).refused(2, needle);
    }
    // --accept-unguarded means nothing without an external ID (clap: usage).
    let run = env.run(
        &[
            "profile",
            "add",
            "vendor",
            "--identity",
            "work",
            "--role-arn",
            &arn,
            "--accept-unguarded",
        ],
        "",
    );
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        env.snapshot() == before,
        "a refused profile wrote something"
    );

    // The edges AWS allows: 2 characters, and 1224 of every allowed kind.
    let edge = "Aa0_+=,.@:/-".repeat(102);
    assert_eq!(edge.len(), 1224);
    for (i, id) in ["ab", edge.as_str()].into_iter().enumerate() {
        let arn = role(&env, "Edge", Some(id));
        add(&env, &format!("edge{i}"), &arn, id, &["--pin-stdin"]).ok();
        assert_eq!(guard_of(&env, &format!("edge{i}")), "guarded");
    }
}

#[test]
fn generated_external_ids_are_unique_and_valid() {
    let env = Env::bare();
    let new_id = |args: &[&str]| {
        let mut all = vec!["external-id", "new"];
        all.extend_from_slice(args);
        let run = env.run(&all, "").ok();
        let id = run.stdout.trim().to_owned();
        assert_eq!(run.stdout, format!("{id}\n"), "the ID alone on stdout");
        (id, run.stderr)
    };
    let mut seen = HashSet::new();
    for _ in 0..50 {
        let (id, stderr) = new_id(&[]);
        assert_eq!(stderr, "");
        assert!(id.len() >= 32, "{id}");
        assert!(id.len() <= 1224, "{id}");
        assert!(id.chars().all(allowed_external_id_char), "{id}");
        assert!(seen.insert(id.clone()), "{id} issued twice");
    }

    // Per customer: recorded, repeated on request, never given to another.
    let (acme, stderr) = new_id(&["--customer", "Acme Corp"]);
    assert!(stderr.contains("Issued to customer Acme Corp"), "{stderr}");
    let (again, stderr) = new_id(&["--customer", "Acme Corp"]);
    assert_eq!(again, acme);
    assert!(stderr.contains("already has this external ID"), "{stderr}");
    let (other, _) = new_id(&["--customer", "Other Ltd"]);
    let (rotated, _) = new_id(&["--customer", "Acme Corp", "--rotate"]);
    assert_eq!(new_id(&["--customer", "Acme Corp"]).0, rotated);
    let issued = [&acme, &other, &rotated];
    assert_eq!(issued.iter().collect::<HashSet<_>>().len(), 3);
    for id in issued {
        assert!(id.len() >= 32 && id.chars().all(allowed_external_id_char));
        assert!(!seen.contains(id));
    }
    let record =
        std::fs::read_to_string(env.root.path().join("config/keyfob/external-ids.toml")).unwrap();
    assert!(
        record.contains(&format!("retired = [\"{acme}\"]")),
        "{record}"
    );

    env.run(&["external-id", "new", "--customer", " Acme Corp"], "")
        .refused(2, "customer: may not start or end with a space");
    let run = env.run(&["external-id", "new", "--rotate"], "");
    assert_eq!(
        run.code,
        Some(2),
        "--rotate needs --customer: {}",
        run.stderr
    );
}

#[test]
fn the_trust_policy_parses_holds_the_condition_and_guards_a_real_role() {
    let env = Env::new();
    with_identity(&env, "tp-policy");
    let run = env
        .run(&["external-id", "new", "--customer", "Example Corp"], "")
        .ok();
    let id = run.stdout.trim().to_owned();

    let run = env
        .run(
            &[
                "trust-policy",
                "--account",
                "123456789012",
                "--external-id",
                &id,
            ],
            "",
        )
        .ok();
    let policy: Value = serde_json::from_str(&run.stdout).expect(&run.stdout);
    assert_eq!(policy["Version"], "2012-10-17");
    let statements = policy["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1);
    let s = &statements[0];
    assert_eq!(s["Effect"], "Allow");
    assert_eq!(s["Action"], "sts:AssumeRole");
    assert_eq!(s["Principal"]["AWS"], "arn:aws:iam::123456789012:root");
    assert_eq!(
        s["Condition"]["StringEquals"]["sts:ExternalId"],
        id.as_str()
    );

    // The customer creates the role with exactly that policy: keyfob's own
    // guard finds it guarded.
    let name = unique("Customer");
    let arn = env
        .moto
        .admin(&["create-role-with-policy", &name, run.stdout.trim()])["arn"]
        .as_str()
        .unwrap()
        .to_owned();
    add(&env, "customer", &arn, &id, &["--pin-stdin"]).ok();
    assert_eq!(guard_of(&env, "customer"), "guarded");
    let run = env.run(&["credential-process", "customer"], "").ok();
    assert_process_json(&run.stdout);

    // A role of the provider's as the principal.
    let principal = "arn:aws:iam::123456789012:role/ops/Provider";
    let run = env
        .run(
            &[
                "trust-policy",
                "--principal-arn",
                principal,
                "--external-id",
                &id,
            ],
            "",
        )
        .ok();
    let policy: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(policy["Statement"][0]["Principal"]["AWS"], principal);
    assert_eq!(
        policy["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"],
        id.as_str()
    );

    for (args, needle) in [
        (
            vec!["--account", "12345678901", "--external-id", "ext-1"],
            "account ID: must be 12 digits",
        ),
        (
            vec!["--account", "1234567890ab", "--external-id", "ext-1"],
            "account ID: must be 12 digits",
        ),
        (
            vec!["--account", "123456789012", "--external-id", "a"],
            "external ID: must be 2–1224",
        ),
        (
            vec!["--account", "123456789012", "--external-id", "a b"],
            "external ID: may contain only",
        ),
        (
            vec![
                "--principal-arn",
                "arn:aws:iam::123456789012:user/alice",
                "--external-id",
                "ext-1",
            ],
            "role ARN: is not a role ARN",
        ),
        (
            vec![
                "--account",
                "210987654321",
                "--principal-arn",
                principal,
                "--external-id",
                "ext-1",
            ],
            "principal ARN: its account 123456789012 is not --account 210987654321",
        ),
    ] {
        let mut all = vec!["trust-policy"];
        all.extend(args);
        let run = env.run(&all, "").refused(2, needle);
        assert_eq!(run.stdout, "");
    }
}

#[test]
fn role_check_reruns_the_guard_and_records_the_verdict() {
    let env = Env::new();
    with_identity(&env, "tp-check");
    let name = unique("Checked");
    let arn = env.moto.admin(&["create-role", &name, "ext-Checked-1"])["arn"]
        .as_str()
        .unwrap()
        .to_owned();
    unlock(&env, "work").ok();
    add(&env, "vendor", &arn, "ext-Checked-1", &[]).ok();
    assert_eq!(guard_of(&env, "vendor"), "guarded");

    // The customer drops the condition: the check says so, exits non-zero
    // and records it, and every use warns from then on.
    env.moto.admin(&["set-trust", &name]);
    let run = env.run(&["role", "check", "vendor"], "");
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains("profile vendor is unguarded"),
        "{}",
        run.stderr
    );
    assert_eq!(guard_of(&env, "vendor"), "unguarded");
    let run = env.run(&["credential-process", "vendor"], "").ok();
    assert!(run.stderr.contains("is unguarded"), "{}", run.stderr);

    // The condition is back: guarded again, and silent.
    env.moto.admin(&["set-trust", &name, "ext-Checked-1"]);
    let run = env.run(&["role", "check", "vendor"], "").ok();
    assert!(
        run.stdout.contains("Profile vendor is guarded"),
        "{}",
        run.stdout
    );
    assert_eq!(guard_of(&env, "vendor"), "guarded");
    let run = env.run(&["credential-process", "vendor"], "").ok();
    assert_eq!(run.stderr, "");

    // A profile written by hand was never checked: it warns until checked.
    let config = env.root.path().join("config/keyfob/config.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[profiles.handmade]\nidentity = \"work\"\nrole_arn = \"{arn}\"\nexternal_id = \"ext-Checked-1\"\n"
    ));
    std::fs::write(&config, &text).unwrap();
    assert_eq!(guard_of(&env, "handmade"), Value::Null);
    let run = env.run(&["credential-process", "handmade"], "").ok();
    assert!(run.stderr.contains("never checked"), "{}", run.stderr);
    env.run(&["role", "check", "handmade"], "").ok();
    assert_eq!(guard_of(&env, "handmade"), "guarded");
    let run = env.run(&["credential-process", "handmade"], "").ok();
    assert_eq!(run.stderr, "");

    // A hand-edited verdict must be one of the two.
    std::fs::write(
        &config,
        std::fs::read_to_string(&config).unwrap().replace(
            "external_id_guard = \"guarded\"",
            "external_id_guard = \"trust-me\"",
        ),
    )
    .unwrap();
    env.run(&["profile", "show", "handmade"], "")
        .refused(2, "external_id_guard must be \"guarded\" or \"unguarded\"");
    env.run(&["role", "check", "work"], "")
        .refused(2, "profile work has no external ID");
}
