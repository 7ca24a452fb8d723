//! Role chains (`source_profile`) and session tags, against the emulator
//! with auth on. The launcher's T3 enforces AWS's 1-hour limit on chained
//! sessions and its T9 checks tags (sts:TagSession in the trust policy,
//! transitive tags carried down a chain) and records every AssumeRole
//! (`/keyfob-test/assume-role`), which is how these tests see what keyfob
//! sent. Role names are unique per test, so the shared record can be
//! filtered by role ARN.

use serde_json::Value;

use crate::util::{Env, Run, create_role, with_identity};

const PIN: &str = "pin-Ch41n-hops";

/// `keyfob profile add NAME ARGS…`, answering the guard's PIN prompt.
fn add(env: &Env, name: &str, args: &[&str]) -> Run {
    let mut all = vec!["profile", "add", name];
    all.extend_from_slice(args);
    all.push("--pin-stdin");
    env.run(&all, &format!("{PIN}\n"))
}

/// The emulator's AssumeRole record for one role, oldest first.
fn assume_role_calls(env: &Env, role_arn: &str) -> Vec<Value> {
    env.moto
        .test_get("/keyfob-test/assume-role")
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["role_arn"] == role_arn)
        .cloned()
        .collect()
}

/// The last successful AssumeRole of a role.
fn last_ok(env: &Env, role_arn: &str) -> Value {
    assume_role_calls(env, role_arn)
        .into_iter()
        .rev()
        .find(|c| c["status"] == "ok")
        .unwrap_or_else(|| panic!("no successful AssumeRole of {role_arn}"))
}

fn role_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap()
}

fn config_toml(env: &Env) -> String {
    std::fs::read_to_string(env.root.path().join("config/keyfob/config.toml")).unwrap_or_default()
}

#[test]
fn a_three_hop_chain_with_external_ids_works_through_the_aws_cli() {
    let env = Env::new();
    let user = with_identity(&env, "work", PIN);
    let hub = create_role(&env, "hub", Some("ext-hub-1"));
    let mid = create_role(&env, "mid", Some("ext-mid-2"));
    let target = create_role(&env, "target", Some("ext-target-3"));

    add(
        &env,
        "hub",
        &[
            "--identity",
            "work",
            "--role-arn",
            &hub,
            "--external-id",
            "ext-hub-1",
        ],
    )
    .ok();
    let run = add(
        &env,
        "mid",
        &[
            "--source-profile",
            "hub",
            "--role-arn",
            &mid,
            "--external-id",
            "ext-mid-2",
        ],
    )
    .ok();
    assert!(
        run.stdout.contains("chained from hub (identity work)"),
        "{}",
        run.stdout
    );
    let run = add(
        &env,
        "target",
        &[
            "--source-profile",
            "mid",
            "--role-arn",
            &target,
            "--external-id",
            "ext-target-3",
            "--role-session-name",
            "deploy-bot",
        ],
    )
    .ok();
    assert!(
        run.stdout.contains("role chaining: AWS allows at most 1 h"),
        "{}",
        run.stdout
    );
    // Every hop with an external ID went through the guard: refused
    // without its ID, accepted with it.
    for (name, arn) in [("hub", &hub), ("mid", &mid), ("target", &target)] {
        let show = env.run(&["profile", "show", name, "--json"], "").ok();
        let v: Value = serde_json::from_str(&show.stdout).unwrap();
        assert_eq!(v["role"]["external_id_guard"], "guarded", "{name}");
        let calls = assume_role_calls(&env, arn);
        assert!(
            calls
                .iter()
                .any(|c| c["status"] == "AccessDenied" && c["external_id_present"] == false),
            "{name}: no probe without the external ID: {calls:?}"
        );
    }
    let text = config_toml(&env);
    assert!(text.contains("source_profile = \"mid\""), "{text}");

    let run = env
        .aws_v2(&["sts", "get-caller-identity", "--profile", "target"])
        .ok();
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    let arn = v["Arn"].as_str().unwrap();
    assert!(
        arn.ends_with(&format!(":assumed-role/{}/deploy-bot", role_name(&target))),
        "{arn}"
    );
    // Each hop was assumed with the previous hop's session, with its own
    // external ID, and the chained ones for at most an hour.
    let hub_call = last_ok(&env, &hub);
    assert_eq!(hub_call["caller_arn"], user.arn.as_str());
    let mid_call = last_ok(&env, &mid);
    assert!(
        mid_call["caller_arn"]
            .as_str()
            .unwrap()
            .contains(&format!(":assumed-role/{}/", role_name(&hub))),
        "{mid_call}"
    );
    let target_call = last_ok(&env, &target);
    assert!(
        target_call["caller_arn"]
            .as_str()
            .unwrap()
            .contains(&format!(":assumed-role/{}/", role_name(&mid))),
        "{target_call}"
    );
    for call in [&hub_call, &mid_call, &target_call] {
        assert_eq!(call["external_id_present"], true, "{call}");
    }
    assert_eq!(mid_call["duration_seconds"], 3600);
    assert_eq!(target_call["duration_seconds"], 3600);
    assert_eq!(target_call["role_session_name"], "deploy-bot");
}

#[test]
fn chains_over_an_hour_loops_and_missing_sources_are_refused_before_any_call() {
    let env = Env::new();
    with_identity(&env, "work", PIN);
    let hub = create_role(&env, "hub", None);
    let mid = create_role(&env, "mid", None);
    let other = create_role(&env, "other", None);
    add(&env, "hub", &["--identity", "work", "--role-arn", &hub]).ok();
    add(
        &env,
        "mid",
        &["--source-profile", "hub", "--role-arn", &mid],
    )
    .ok();
    let before = config_toml(&env);
    let aws_before = std::fs::read_to_string(env.home().join(".aws/config")).unwrap();

    add(
        &env,
        "long",
        &[
            "--source-profile",
            "hub",
            "--role-arn",
            &other,
            "--duration",
            "2h",
        ],
    )
    .refused(2, "role chaining");
    add(
        &env,
        "hub",
        &["--replace", "--source-profile", "mid", "--role-arn", &hub],
    )
    .refused(2, "the chain loops: hub → mid → hub");
    add(
        &env,
        "dangling",
        &["--source-profile", "nobody", "--role-arn", &other],
    )
    .refused(2, "source profile: no profile named nobody");
    add(
        &env,
        "both",
        &[
            "--identity",
            "work",
            "--source-profile",
            "hub",
            "--role-arn",
            &other,
        ],
    )
    .refused(2, "give an identity or a source profile, not both");
    add(
        &env,
        "mfa",
        &[
            "--source-profile",
            "hub",
            "--role-arn",
            &other,
            "--mfa-serial",
            "arn:aws:iam::123456789012:mfa/someone",
        ],
    )
    .refused(2, "set mfa_serial there");
    env.run(&["profile", "remove", "hub", "--yes"], "")
        .refused(2, "profile hub is the source_profile of mid");

    assert!(
        assume_role_calls(&env, &other).is_empty(),
        "a refused profile reached AWS"
    );
    assert_eq!(config_toml(&env), before, "config.toml changed");
    assert_eq!(
        std::fs::read_to_string(env.home().join(".aws/config")).unwrap(),
        aws_before
    );
    // A chain hand-edited into a loop is named when it is used.
    let looped = before.replace(
        "[profiles.hub]\nidentity = \"work\"",
        "[profiles.hub]\nsource_profile = \"mid\"",
    );
    assert_ne!(looped, before, "{before}");
    std::fs::write(env.root.path().join("config/keyfob/config.toml"), looped).unwrap();
    let run = env.run(&["credential-process", "mid"], "");
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("the chain loops"), "{}", run.stderr);
    assert!(run.stdout.is_empty());
}

#[test]
fn session_tags_and_policies_reach_assume_role_and_transitive_tags_carry_down_the_chain() {
    let env = Env::new();
    with_identity(&env, "work", PIN);
    let tagged = create_role(&env, "tagged", None);
    let next = create_role(&env, "next", None);
    let run = add(
        &env,
        "tagged",
        &[
            "--identity",
            "work",
            "--role-arn",
            &tagged,
            "--tag",
            "Project=blue",
            "--tag",
            "cost:centre=4/2=x",
            "--transitive-tag",
            "Project",
            "--policy-arn",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
        ],
    )
    .ok();
    assert!(
        run.stdout
            .contains("tags Project=blue (transitive) cost:centre=4/2=x"),
        "{}",
        run.stdout
    );
    add(
        &env,
        "next",
        &[
            "--source-profile",
            "tagged",
            "--role-arn",
            &next,
            "--tag",
            "Team=red",
        ],
    )
    .ok();
    // A transitive tag may not be set again further down.
    add(
        &env,
        "clash",
        &[
            "--source-profile",
            "tagged",
            "--role-arn",
            &next,
            "--tag",
            "project=red",
        ],
    )
    .refused(2, "transitive tag of tagged");

    env.run(&["unlock", "work", "--pin-stdin"], &format!("{PIN}\n"))
        .ok();
    let run = env.run(&["credential-process", "next"], "").ok();
    assert!(
        run.stdout.contains("\"AccessKeyId\":\"ASIA"),
        "{}",
        run.stdout
    );

    let first = last_ok(&env, &tagged);
    assert_eq!(
        first["tags"],
        serde_json::json!({"Project": "blue", "cost:centre": "4/2=x"})
    );
    assert_eq!(first["transitive_tag_keys"], serde_json::json!(["Project"]));
    assert_eq!(
        first["policy_arns"],
        serde_json::json!(["arn:aws:iam::aws:policy/ReadOnlyAccess"])
    );
    let second = last_ok(&env, &next);
    assert_eq!(second["tags"], serde_json::json!({"Team": "red"}));
    assert_eq!(
        second["inherited_transitive_tags"],
        serde_json::json!({"Project": "blue"})
    );
}

#[test]
fn over_limit_tags_and_policies_are_refused_with_the_field_named_and_nothing_written() {
    let env = Env::new();
    with_identity(&env, "work", PIN);
    let role = create_role(&env, "limits", None);
    let before = config_toml(&env);
    let tags: Vec<String> = (0..51).map(|i| format!("k{i}=v")).collect();
    let mut args = vec!["--identity", "work", "--role-arn", role.as_str()];
    for t in &tags {
        args.extend(["--tag", t.as_str()]);
    }
    add(&env, "many", &args).refused(2, "session tags: at most 50 session tags; got 51");
    let long_key = format!("{}=v", "k".repeat(129));
    add(
        &env,
        "long",
        &[
            "--identity",
            "work",
            "--role-arn",
            &role,
            "--tag",
            &long_key,
        ],
    )
    .refused(2, "session tags: key");
    add(
        &env,
        "trans",
        &[
            "--identity",
            "work",
            "--role-arn",
            &role,
            "--tag",
            "A=1",
            "--transitive-tag",
            "B",
        ],
    )
    .refused(2, "transitive tags: \"B\" is not one of the session tags");
    let arns: Vec<String> = (0..11)
        .map(|i| format!("arn:aws:iam::aws:policy/P{i}"))
        .collect();
    let mut args = vec!["--identity", "work", "--role-arn", role.as_str()];
    for a in &arns {
        args.extend(["--policy-arn", a.as_str()]);
    }
    add(&env, "policies", &args).refused(2, "policy ARNs: at most 10");
    add(&env, "plain-tag", &["--identity", "work", "--tag", "A=1"]).refused(2, "--role-arn");
    add(
        &env,
        "bad-tag",
        &[
            "--identity",
            "work",
            "--role-arn",
            &role,
            "--tag",
            "novalue",
        ],
    )
    .refused(2, "expected KEY=VALUE");
    assert_eq!(config_toml(&env), before);
    assert!(assume_role_calls(&env, &role).is_empty());
}

#[test]
fn import_converts_a_chain_from_the_aws_config_in_dependency_order() {
    let env = Env::new();
    with_identity(&env, "work", PIN);
    let hub = create_role(&env, "hub", Some("ext-imp-1"));
    let target = create_role(&env, "target", None);
    let config = env.home().join(".aws/config");
    let mut text = std::fs::read_to_string(&config).unwrap_or_default();
    // The chained profile comes first: import must convert its source first.
    text.push_str(&format!(
        "\n[profile imp-target]\nrole_arn = {target}\nsource_profile = imp-hub\nrole_session_name = imported\nduration_seconds = 1800\n\n[profile imp-hub]\nrole_arn = {hub}\nsource_profile = work\nexternal_id = ext-imp-1\n\n[profile imp-loop-a]\nrole_arn = {target}\nsource_profile = imp-loop-b\n\n[profile imp-loop-b]\nrole_arn = {target}\nsource_profile = imp-loop-a\n"
    ));
    std::fs::write(&config, text).unwrap();

    let run = env.run(&["import", "--yes"], "").ok();
    assert!(
        run.stdout
            .contains("Converted role profile imp-hub (identity work"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("Converted role profile imp-target (chained from imp-hub"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Skipping role profile imp-loop-a"),
        "{}",
        run.stdout
    );
    let show = env
        .run(&["profile", "show", "imp-target", "--json"], "")
        .ok();
    let v: Value = serde_json::from_str(&show.stdout).unwrap();
    assert_eq!(v["source_profile"], "imp-hub");
    assert_eq!(v["identity"], "work");
    assert_eq!(v["duration_secs"], 1800);

    env.run(&["unlock", "imp-hub", "--pin-stdin"], &format!("{PIN}\n"))
        .ok();
    let run = env
        .aws_v2(&["sts", "get-caller-identity", "--profile", "imp-target"])
        .ok();
    assert!(
        run.stdout
            .contains(&format!(":assumed-role/{}/imported", role_name(&target))),
        "{}",
        run.stdout
    );
}

#[test]
fn sixteen_parallel_cold_calls_on_a_chain_assume_each_hop_once() {
    let env = Env::new();
    with_identity(&env, "work", PIN);
    let hub = create_role(&env, "hub", None);
    let target = create_role(&env, "target", None);
    add(&env, "hub", &["--identity", "work", "--role-arn", &hub]).ok();
    add(
        &env,
        "target",
        &["--source-profile", "hub", "--role-arn", &target],
    )
    .ok();
    // The identity session only: neither role session is cached.
    env.run(&["unlock", "work", "--pin-stdin"], &format!("{PIN}\n"))
        .ok();
    assert!(assume_role_calls(&env, &hub).is_empty());

    let runs: Vec<Run> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|_| s.spawn(|| env.run(&["credential-process", "target"], "")))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut keys = std::collections::BTreeSet::new();
    for run in runs {
        let run = run.ok();
        let v: Value = serde_json::from_str(&run.stdout).unwrap();
        keys.insert(v["AccessKeyId"].as_str().unwrap().to_owned());
    }
    assert_eq!(keys.len(), 1, "every caller got the one session: {keys:?}");
    let ok = |arn: &str| {
        assume_role_calls(&env, arn)
            .iter()
            .filter(|c| c["status"] == "ok")
            .count()
    };
    assert_eq!(ok(&hub), 1, "the hub was assumed more than once");
    assert_eq!(ok(&target), 1, "the target was assumed more than once");
    env.stop_agent();
}
