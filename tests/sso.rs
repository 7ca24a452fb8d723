//! IAM Identity Center against the emulator (tests/support/sso_emulator.py,
//! in the shared launcher): the SSO OIDC device flow and the portal calls
//! of `keyfob::aws::sso`, then the `keyfob sso` commands. Each test has its
//! own start URL, so tests run in parallel without seeing each other.

use std::io::{Read, Write};
use std::time::Duration;

use keyfob::aws::sso::{self, Instance, SsoError};
use keyfob::model::endpoints::Endpoints;

use crate::util::{Env, Moto, Run, arn_of, moto, unique};

/// POST a JSON body to a launcher test endpoint; (status, JSON answer).
fn post(moto: &Moto, path: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
    let body = body.to_string();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", moto.info.port)).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, serde_json::from_str(body).unwrap_or_default())
}

#[track_caller]
pub fn post_ok(moto: &Moto, path: &str, body: serde_json::Value) -> serde_json::Value {
    let (status, answer) = post(moto, path, &body);
    assert_eq!(status, 200, "POST {path}: {answer}");
    answer
}

/// An Identity Center instance of this test's own: `accounts` accounts
/// (111100000000 + i, named acct-i), user alice with role Admin in each and
/// also ReadOnly in the first.
pub struct Instance0 {
    pub start_url: String,
    pub region: &'static str,
    /// The emulator, as an identity added with it would have it.
    pub endpoints: Endpoints,
}

pub fn configure(moto: &Moto, accounts: usize, settings: serde_json::Value) -> Instance0 {
    let start_url = format!("https://{}.awsapps.com/start", unique("d-sso"));
    let ids: Vec<String> = (0..accounts)
        .map(|i| format!("{}", 111_100_000_000u64 + i as u64))
        .collect();
    let mut assignments: Vec<serde_json::Value> = ids
        .iter()
        .map(|id| serde_json::json!({"account_id": id, "role_name": "Admin"}))
        .collect();
    assignments.push(serde_json::json!({"account_id": ids[0], "role_name": "ReadOnly"}));
    post_ok(
        moto,
        "/keyfob-test/sso/configure",
        serde_json::json!({
            "start_url": start_url,
            "region": "eu-west-1",
            "accounts": ids.iter().enumerate().map(|(i, id)| serde_json::json!({
                "account_id": id, "account_name": format!("acct-{i}"),
                "email": format!("acct-{i}@example.com")})).collect::<Vec<_>>(),
            "users": [{"name": "alice", "assignments": assignments}],
            "settings": settings,
        }),
    );
    Instance0 {
        start_url,
        region: "eu-west-1",
        endpoints: Endpoints {
            url: Some(moto.endpoint()),
            region: "eu-west-1".into(),
        },
    }
}

pub fn status(moto: &Moto, start_url: &str) -> serde_json::Value {
    moto.test_get(&format!(
        "/keyfob-test/sso/status?start_url={}",
        url_encode(start_url)
    ))
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn scopes() -> Vec<String> {
    vec!["sso:account:access".to_owned()]
}

/// The library's device flow: pending while nobody approved, tokens once
/// the person approves, refresh, portal calls, and a revoked sign-in that
/// can neither list nor refresh.
#[test]
fn device_flow_refresh_list_and_revoke() {
    let moto = moto();
    let inst = configure(moto, 3, serde_json::json!({}));
    let instance = Instance {
        start_url: &inst.start_url,
        endpoints: &inst.endpoints,
    };
    {
        let client = sso::register_client(&inst.endpoints, &scopes()).unwrap();
        let device = sso::start_device_authorization(instance, &client).unwrap();
        assert!(device.verification_uri.starts_with("https://"));
        assert!(
            device
                .verification_uri_complete
                .as_deref()
                .unwrap()
                .contains(&device.user_code)
        );
        // Nobody approved yet.
        assert!(matches!(
            sso::create_token_device(&inst.endpoints, &client, &device),
            Err(SsoError::Pending)
        ));
        // The person approves while keyfob waits: once its first poll was
        // answered "pending". The next poll gets the tokens.
        let mut polls = 0;
        let tokens = sso::wait_for_approval(&inst.endpoints, &client, &device, |_| {
            polls += 1;
            if polls == 1 {
                post_ok(
                    moto,
                    "/keyfob-test/sso/approve",
                    serde_json::json!({
                        "start_url": inst.start_url,
                        "user": "alice",
                        "user_code": device.user_code,
                    }),
                );
            }
        })
        .unwrap();
        assert_eq!(polls, 1, "one pending poll, then the approved one");
        let refresh = tokens.refresh_token.as_ref().expect("a refresh token");

        let assignments = sso::list_assignments(&inst.endpoints, &tokens.access_token).unwrap();
        assert_eq!(assignments.len(), 3);
        assert_eq!(assignments[0].0.account_name, "acct-0");
        assert_eq!(assignments[0].1, vec!["Admin", "ReadOnly"]);

        let session = sso::get_role_credentials(
            &inst.endpoints,
            &tokens.access_token,
            &assignments[1].0.account_id,
            "Admin",
        )
        .unwrap();
        assert!(session.access_key_id.starts_with("ASIA"));
        assert!(session.expiration > time::OffsetDateTime::now_utc());
        // A role not assigned is refused as such.
        assert!(matches!(
            sso::get_role_credentials(
                &inst.endpoints,
                &tokens.access_token,
                &assignments[1].0.account_id,
                "ReadOnly"
            ),
            Err(SsoError::Forbidden { .. })
        ));

        // Refresh: new tokens that work; the old refresh token is rotated away.
        let renewed = sso::refresh(&inst.endpoints, &client, refresh).unwrap();
        sso::list_accounts(&inst.endpoints, &renewed.access_token).unwrap();
        assert!(matches!(
            sso::refresh(&inst.endpoints, &client, refresh),
            Err(SsoError::InvalidGrant { .. })
        ));

        // Revoked: the portal and the refresh grant both refuse.
        post_ok(
            moto,
            "/keyfob-test/sso/revoke",
            serde_json::json!({"start_url": inst.start_url, "user": "alice"}),
        );
        let err = sso::list_accounts(&inst.endpoints, &renewed.access_token).unwrap_err();
        assert!(matches!(err, SsoError::Unauthorized), "{err:?}");
        assert!(err.needs_sign_in());
        let err = sso::refresh(
            &inst.endpoints,
            &client,
            renewed.refresh_token.as_ref().unwrap(),
        )
        .unwrap_err();
        assert!(err.needs_sign_in(), "{err:?}");
    }
}

/// Polling too fast meets slow_down; a code nobody approves expires with a
/// clear error, and a refused sign-in says so.
#[test]
fn slow_down_expiry_and_denial() {
    let moto = moto();
    let inst = configure(moto, 1, serde_json::json!({"device_code_ttl": 2}));
    let instance = Instance {
        start_url: &inst.start_url,
        endpoints: &inst.endpoints,
    };
    {
        let client = sso::register_client(&inst.endpoints, &scopes()).unwrap();
        let device = sso::start_device_authorization(instance, &client).unwrap();
        assert!(matches!(
            sso::create_token_device(&inst.endpoints, &client, &device),
            Err(SsoError::Pending)
        ));
        assert!(matches!(
            sso::create_token_device(&inst.endpoints, &client, &device),
            Err(SsoError::SlowDown)
        ));

        let never = sso::start_device_authorization(instance, &client).unwrap();
        let err = sso::wait_for_approval(&inst.endpoints, &client, &never, |_| {}).unwrap_err();
        assert!(matches!(err, SsoError::Expired), "{err:?}");
        assert!(err.to_string().contains("expired"), "{err}");

        let denied = sso::start_device_authorization(instance, &client).unwrap();
        post_ok(
            moto,
            "/keyfob-test/sso/deny",
            serde_json::json!({"start_url": inst.start_url, "user_code": denied.user_code}),
        );
        let err = sso::wait_for_approval(&inst.endpoints, &client, &denied, |_| {}).unwrap_err();
        assert!(matches!(err, SsoError::Denied), "{err:?}");
    }
}

/// 150 accounts over pages of 20, with throttled pages: keyfob backs off
/// and gets every account, and makes no more calls than pages + throttles.
#[test]
fn lists_150_accounts_through_throttled_pages() {
    let moto = moto();
    let inst = configure(moto, 150, serde_json::json!({"page_size": 20}));
    let instance = Instance {
        start_url: &inst.start_url,
        endpoints: &inst.endpoints,
    };
    {
        let client = sso::register_client(&inst.endpoints, &scopes()).unwrap();
        let device = sso::start_device_authorization(instance, &client).unwrap();
        post_ok(
            moto,
            "/keyfob-test/sso/approve",
            serde_json::json!({"start_url": inst.start_url, "user": "alice"}),
        );
        let tokens = sso::wait_for_approval(&inst.endpoints, &client, &device, |_| {}).unwrap();
        post_ok(
            moto,
            "/keyfob-test/sso/throttle",
            serde_json::json!({"start_url": inst.start_url, "operation": "sso:ListAccounts",
                "count": 2}),
        );
        let accounts = sso::list_accounts(&inst.endpoints, &tokens.access_token).unwrap();
        assert_eq!(accounts.len(), 150);
        assert_eq!(accounts[149].account_name, "acct-149");
        let calls = &status(moto, &inst.start_url)["calls"];
        // 8 pages, 2 of the tries throttled.
        assert_eq!(calls["sso:ListAccounts"], 10, "{calls}");

        // A storm-proof limit: a page throttled for good fails after a
        // bounded number of tries.
        post_ok(
            moto,
            "/keyfob-test/sso/throttle",
            serde_json::json!({"start_url": inst.start_url, "operation": "sso:ListAccounts",
                "count": 100}),
        );
        let err = sso::list_accounts(&inst.endpoints, &tokens.access_token).unwrap_err();
        assert!(
            matches!(err, SsoError::Throttled { attempts } if attempts == sso::THROTTLE_ATTEMPTS),
            "{err:?}"
        );
        let calls = &status(moto, &inst.start_url)["calls"];
        assert_eq!(
            calls["sso:ListAccounts"],
            10 + sso::THROTTLE_ATTEMPTS,
            "{calls}"
        );
    }
}

// ---------------------------------------------------------------------------
// `keyfob sso …` on the command line
// ---------------------------------------------------------------------------

pub const PIN: &str = "sso-pin-1234";

/// Runs `keyfob ARGS` with `stdin`, reading the user code it prints on
/// stderr and approving it as alice (the person clicking "Allow") unless
/// `approve` is false. Returns the run and the code it showed.
pub fn run_signing_in(
    env: &Env,
    envs: &[(&str, &str)],
    args: &[&str],
    stdin: &str,
    start_url: &str,
    approve: bool,
) -> (Run, Option<String>) {
    use std::io::BufRead;
    let mut child = env
        .keyfob()
        .envs(envs.iter().copied())
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let stdout = child.stdout.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::BufReader::new(stdout).read_to_string(&mut s);
        s
    });
    let mut stderr = String::new();
    let mut code = None;
    for line in std::io::BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some((_, c)) = line.split_once("shows the code: ") {
            code = Some(c.trim().to_owned());
            if approve {
                post_ok(
                    env.moto,
                    "/keyfob-test/sso/approve",
                    serde_json::json!({"start_url": start_url, "user": "alice",
                        "user_code": c.trim()}),
                );
            }
        }
        stderr.push_str(&line);
        stderr.push('\n');
    }
    let status = child.wait().unwrap();
    let run = Run {
        code: status.code(),
        stdout: out_reader.join().unwrap(),
        stderr,
    };
    (run, code)
}

pub fn issued_secrets(moto: &Moto, start_url: &str) -> Vec<String> {
    let v = moto.test_get(&format!(
        "/keyfob-test/sso/issued-secrets?start_url={}",
        url_encode(start_url)
    ));
    v["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// No token, client secret or device code the emulator issued is in any
/// file of the world (~/.aws/sso/cache included) or in the Secret Service
/// in the clear.
#[track_caller]
pub fn assert_no_secret_leaked(env: &Env, start_url: &str, also: &str) {
    assert_secrets_absent(env, &issued_secrets(env.moto, start_url), also);
    assert!(!env.home().join(".aws/sso/cache").exists());
}

/// None of `secrets` (what an emulator issued) is in any file of the
/// world, in the keyring in the clear, or in `also` (keyfob's output).
pub fn assert_secrets_absent(env: &Env, secrets: &[String], also: &str) {
    assert!(!secrets.is_empty());
    let dump = env.keyring_dump();
    for s in secrets {
        assert_eq!(env.files_containing(s), Vec::<std::path::PathBuf>::new());
        assert!(
            !dump.contains(s.as_str()),
            "a secret in the keyring in clear"
        );
        assert!(!also.contains(s.as_str()), "a secret in keyfob's output");
    }
}

pub fn list_json(env: &Env) -> Vec<serde_json::Value> {
    serde_json::from_str(&env.run(&["list", "--json"], "").ok().stdout).unwrap()
}

/// `keyfob sso add`: the code is shown, approved, and the sign-in sealed in
/// the vault; `list` shows its kind; `sso login` signs in again with the
/// same PIN (a wrong one is refused before any sign-in); `remove` deletes
/// it. At trace level, no token reaches the log.
#[test]
fn sso_add_list_login_remove() {
    let env = Env::new();
    let inst = configure(env.moto, 2, serde_json::json!({}));
    let (run, code) = run_signing_in(
        &env,
        &[],
        &[
            "sso",
            "add",
            "corp",
            "--start-url",
            &inst.start_url,
            "--region",
            inst.region,
            "--no-browser",
            "--pin-stdin",
        ],
        &format!("{PIN}\n"),
        &inst.start_url,
        true,
    );
    let run = run.ok();
    let code = code.expect("keyfob printed the user code");
    assert!(
        run.stderr
            .contains("https://device.sso.eu-west-1.amazonaws.com/"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("Added Identity Center identity corp"),
        "{}",
        run.stdout
    );
    assert_eq!(
        status(env.moto, &inst.start_url)["grants"]["device_code"],
        1
    );

    let listed = list_json(&env);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["kind"], "identity-center");
    assert_eq!(listed[0]["start_url"], inst.start_url.as_str());
    let table = env.run(&["list"], "").ok().stdout;
    assert!(table.contains("identity-center"), "{table}");
    // The index and the sealed sign-in.
    assert_eq!(env.keyring_items(), 2, "{}", env.keyring_dump());

    // An access-key identity may not take the name.
    env.run(
        &[
            "add",
            "corp",
            "--access-key-id",
            "AKIAIOSFODNN7EXAMPLE",
            "--stdin",
            "--no-verify",
        ],
        &format!("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n{PIN}\n"),
    )
    .refused(2, "identity name");

    // Wrong PIN: refused, no new sign-in started.
    env.run(
        &["sso", "login", "corp", "--no-browser", "--pin-stdin"],
        "wrong-pin-000\n",
    )
    .refused(2, "wrong PIN");
    assert!(
        status(env.moto, &inst.start_url)["pending"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let (run, code2) = run_signing_in(
        &env,
        &[("KEYFOB_LOG", "trace")],
        &["sso", "login", "corp", "--no-browser", "--pin-stdin"],
        &format!("{PIN}\n"),
        &inst.start_url,
        true,
    );
    let run = run.ok();
    assert_ne!(code2.unwrap(), code);
    assert!(run.stdout.contains("Signed in"), "{}", run.stdout);
    assert_eq!(
        status(env.moto, &inst.start_url)["grants"]["device_code"],
        2
    );
    assert_no_secret_leaked(
        &env,
        &inst.start_url,
        &format!("{}{}", run.stdout, run.stderr),
    );

    env.run(&["remove", "corp", "--yes"], "").ok();
    assert!(list_json(&env).is_empty());
    assert_eq!(env.keyring_items(), 1, "only the (empty) index is left");
}

/// A person who never approves: keyfob gives up at the code's expiry with
/// a clear error, and nothing is stored.
#[test]
fn sso_add_never_approved_stores_nothing() {
    let env = Env::new();
    let inst = configure(env.moto, 1, serde_json::json!({"device_code_ttl": 2}));
    let args = [
        "sso",
        "add",
        "corp",
        "--start-url",
        &inst.start_url,
        "--region",
        inst.region,
        "--no-browser",
        "--pin-stdin",
    ];
    let before = (env.snapshot(), env.keyring_dump());
    let (run, code) = run_signing_in(
        &env,
        &[],
        &args,
        &format!("{PIN}\n"),
        &inst.start_url,
        false,
    );
    assert!(code.is_some());
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains("expired before it was approved"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nothing was stored"), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(list_json(&env).is_empty());
    assert_eq!(env.keyring_items(), 0, "{}", env.keyring_dump());
    assert!(
        (env.snapshot(), env.keyring_dump()) == before,
        "something was written"
    );
}

/// Bad input is refused with the field named before anything is written
/// or any call made.
#[test]
fn sso_add_refuses_bad_input() {
    // An emulator of its own: no other test's calls move its counts.
    let env = Env::with_own_emulator();
    let calls_before = env.moto.calls();
    let before = (env.snapshot(), env.keyring_dump());
    let good = "https://d-1234567890.awsapps.com/start";
    for (name, url, region, scopes, field) in [
        (
            "corp",
            "http://d-1234567890.awsapps.com/start",
            "eu-west-1",
            None,
            "start URL",
        ),
        (
            "corp",
            "d-1234567890.awsapps.com/start",
            "eu-west-1",
            None,
            "start URL",
        ),
        ("corp", "https://", "eu-west-1", None, "start URL"),
        ("corp", good, "moon-base-1x", None, "region"),
        ("corp", good, "EU-WEST-1", None, "region"),
        ("corp", good, "eu-west-1", Some("a b"), "scopes"),
        ("corp", good, "eu-west-1", Some(""), "scopes"),
        ("bad name", good, "eu-west-1", None, "identity name"),
    ] {
        let mut args = vec!["sso", "add", name, "--start-url", url, "--region", region];
        if let Some(s) = scopes {
            args.extend(["--scopes", s]);
        }
        args.extend(["--no-browser", "--pin-stdin"]);
        env.run(&args, &format!("{PIN}\n")).refused(2, field);
    }
    // A PIN too short: refused before the sign-in starts.
    env.run(
        &[
            "sso",
            "add",
            "corp",
            "--start-url",
            good,
            "--region",
            "eu-west-1",
            "--no-browser",
            "--pin-stdin",
        ],
        "12\n",
    )
    .refused(2, "PIN");
    assert!(
        (env.snapshot(), env.keyring_dump()) == before,
        "something was written"
    );
    // No call of any kind reached AWS (RegisterClient would be the first).
    assert_eq!(
        env.moto.calls(),
        calls_before,
        "a refused sign-in called AWS"
    );
}

/// Adds Identity Center identity `name` for `inst` through `keyfob sso add`.
fn add_sso(env: &Env, name: &str, inst: &Instance0) {
    add_sso_with(env, name, inst, &[], PIN).ok();
}

/// `keyfob sso add NAME` for `inst` with `extra` arguments and PIN `pin`,
/// its sign-in approved; the run.
pub fn add_sso_with(env: &Env, name: &str, inst: &Instance0, extra: &[&str], pin: &str) -> Run {
    let mut args = vec![
        "sso",
        "add",
        name,
        "--start-url",
        &inst.start_url,
        "--region",
        inst.region,
        "--no-browser",
        "--pin-stdin",
    ];
    args.extend_from_slice(extra);
    run_signing_in(env, &[], &args, &format!("{pin}\n"), &inst.start_url, true).0
}

/// 150 accounts over pages of 20, a throttled page of each list: a dry run
/// writes nothing; the sync makes one profile per account and role, wired
/// into the AWS config; a renamed account and a removed assignment are
/// reported on the next sync, and their profiles kept.
#[test]
fn sso_sync_150_accounts_dry_run_rename_and_removal() {
    let env = Env::new();
    let inst = configure(env.moto, 150, serde_json::json!({"page_size": 20}));
    add_sso(&env, "corp", &inst);
    for (op, count) in [("sso:ListAccounts", 1), ("sso:ListAccountRoles", 2)] {
        post_ok(
            env.moto,
            "/keyfob-test/sso/throttle",
            serde_json::json!({"start_url": inst.start_url, "operation": op, "count": count}),
        );
    }
    let pin = format!("{PIN}\n");
    let before = env.snapshot();
    let dry = env
        .run(&["sso", "sync", "corp", "--dry-run", "--pin-stdin"], &pin)
        .ok();
    assert!(
        dry.stdout
            .contains("would be created  acct-0-Admin  (111100000000 Admin)"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("acct-0-ReadOnly"), "{}", dry.stdout);
    assert!(
        dry.stdout.contains("150 accounts, 151 roles"),
        "{}",
        dry.stdout
    );
    assert!(env.snapshot() == before, "a dry run wrote something");

    let run = env.run(&["sso", "sync", "corp", "--pin-stdin"], &pin).ok();
    assert!(run.stdout.contains("151 created"), "{}", run.stdout);
    let calls = &status(env.moto, &inst.start_url)["calls"];
    // Two dry and two real syncs' worth of pages, plus the throttled tries.
    assert_eq!(calls["sso:ListAccounts"], 2 * 8 + 1, "{calls}");
    assert_eq!(calls["sso:ListAccountRoles"], 2 * 150 + 2, "{calls}");
    let config =
        std::fs::read_to_string(env.root.path().join("config/keyfob/config.toml")).unwrap();
    assert_eq!(config.matches("sso_role_name").count(), 151);
    let aws = std::fs::read_to_string(env.home().join(".aws/config")).unwrap();
    assert!(aws.contains("[profile acct-149-Admin]"), "{aws}");
    assert!(aws.contains("credential-process acct-149-Admin"), "{aws}");

    // A second sync changes nothing.
    let again = env.run(&["sso", "sync", "corp", "--pin-stdin"], &pin).ok();
    assert!(
        again.stdout.contains("0 created, 0 updated, 151 unchanged"),
        "{}",
        again.stdout
    );

    post_ok(
        env.moto,
        "/keyfob-test/sso/assignments/remove",
        serde_json::json!({"start_url": inst.start_url, "user": "alice",
            "account_id": "111100000005", "role_name": "Admin"}),
    );
    post_ok(
        env.moto,
        "/keyfob-test/sso/accounts/update",
        serde_json::json!({"start_url": inst.start_url, "account_id": "111100000007",
            "account_name": "renamed"}),
    );
    let third = env.run(&["sso", "sync", "corp", "--pin-stdin"], &pin).ok();
    assert!(
        third.stdout.contains("removed  acct-5-Admin"),
        "{}",
        third.stdout
    );
    assert!(
        third
            .stdout
            .contains("renamed  acct-7-Admin: the template now gives renamed-Admin"),
        "{}",
        third.stdout
    );
    let profiles = env.run(&["profile", "list"], "").ok().stdout;
    assert!(
        profiles.contains("acct-5-Admin") && profiles.contains("acct-7-Admin"),
        "{profiles}"
    );
    assert!(!profiles.contains("renamed-Admin"), "{profiles}");

    // Removing the identity removes its profiles and their sections.
    let gone = env.run(&["remove", "corp", "--yes"], "").ok();
    assert_eq!(gone.stdout.matches("Removed its profile").count(), 151);
    let aws = std::fs::read_to_string(env.home().join(".aws/config")).unwrap();
    assert!(!aws.contains("acct-"), "{aws}");
}

/// A bad template is refused with the field named, before the PIN is read
/// or anything written.
#[test]
fn sso_sync_refuses_bad_templates() {
    let env = Env::new();
    let inst = configure(env.moto, 1, serde_json::json!({}));
    add_sso(&env, "corp", &inst);
    let before = (env.snapshot(), env.keyring_dump());
    for bad in [
        "{bogus}-{role_name}",
        "{account_name}",
        "x y{account_id}{role_name}",
        "{account_name-{role_name}",
    ] {
        env.run(
            &["sso", "sync", "corp", "--template", bad, "--pin-stdin"],
            &format!("{PIN}\n"),
        )
        .refused(2, "template");
    }
    env.run(
        &["sso", "sync", "nobody", "--pin-stdin"],
        &format!("{PIN}\n"),
    )
    .refused(1, "no identity named nobody");
    assert!(
        (env.snapshot(), env.keyring_dump()) == before,
        "something was written"
    );
}

// ---------------------------------------------------------------------------
// credential_process on synced profiles
// ---------------------------------------------------------------------------

#[track_caller]
pub fn assert_sso_arn(arn: &str, account: &str, role: &str) {
    let prefix = format!("arn:aws:sts::{account}:assumed-role/AWSReservedSSO_{role}_");
    assert!(arn.starts_with(&prefix) && arn.ends_with("/alice"), "{arn}");
}

fn sso_calls(env: &Env, start_url: &str, op: &str) -> u64 {
    status(env.moto, start_url)["calls"][op]
        .as_u64()
        .unwrap_or(0)
}

/// A synced profile through credential_process: locked until the PIN
/// unseals the sign-in (then every profile of the identity works without
/// a prompt, the tokens being in the agent); the AWS CLI v2, v1 and boto3
/// get role credentials that the emulator's STS accepts; 32 parallel cold
/// calls make one GetRoleCredentials; a revoked sign-in fails at once
/// saying `keyfob sso login`; and no secret reaches a file.
#[test]
fn synced_profiles_through_credential_process() {
    let env = Env::new();
    let inst = configure(env.moto, 3, serde_json::json!({}));
    add_sso(&env, "corp", &inst);
    let pin = format!("{PIN}\n");
    env.run(&["sso", "sync", "corp", "--pin-stdin"], &pin).ok();

    // Nobody to ask: fails at once with the hint.
    env.run(&["credential-process", "acct-0-Admin"], "")
        .refused(1, "keyfob unlock acct-0-Admin");
    env.run(&["unlock", "acct-0-Admin", "--pin-stdin"], &pin)
        .ok();

    let arn = arn_of(env.aws_v2(&["sts", "get-caller-identity", "--profile", "acct-0-Admin"]));
    assert_sso_arn(&arn, "111100000000", "Admin");
    // Another account's profile: no PIN needed, the sign-in is unsealed.
    let arn = arn_of(env.aws_v1(&["sts", "get-caller-identity", "--profile", "acct-1-Admin"]));
    assert_sso_arn(&arn, "111100000001", "Admin");
    let arn = arn_of(env.boto3_caller("acct-0-ReadOnly"));
    assert_sso_arn(&arn, "111100000000", "ReadOnly");

    // 32 parallel cold calls: one GetRoleCredentials.
    let before = sso_calls(&env, &inst.start_url, "sso:GetRoleCredentials");
    let children: Vec<_> = (0..32)
        .map(|_| {
            env.keyfob()
                .args(["credential-process", "acct-2-Admin"])
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut keys = std::collections::BTreeSet::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        keys.insert(v["AccessKeyId"].as_str().unwrap().to_owned());
    }
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(
        sso_calls(&env, &inst.start_url, "sso:GetRoleCredentials"),
        before + 1
    );

    // Every issued secret stays out of files (~/.aws/sso/cache included).
    assert_no_secret_leaked(&env, &inst.start_url, "");

    // Revoked at the portal: the next cold call cannot renew and says so.
    post_ok(
        env.moto,
        "/keyfob-test/sso/revoke",
        serde_json::json!({"start_url": inst.start_url, "user": "alice"}),
    );
    // Locking an Identity Center profile drops the held sign-in too: the
    // PIN opens the vault's copy, which cannot be renewed, and says so.
    env.run(&["lock", "acct-1-Admin"], "").ok();
    env.run(&["credential-process", "acct-1-Admin"], "")
        .refused(1, "keyfob unlock acct-1-Admin");
    env.run(&["unlock", "acct-1-Admin", "--pin-stdin"], &pin)
        .refused(1, "keyfob sso login corp");
    // Signed in again, the same PIN opens the new one.
    run_signing_in(
        &env,
        &[],
        &["sso", "login", "corp", "--no-browser", "--pin-stdin"],
        &pin,
        &inst.start_url,
        true,
    )
    .0
    .ok();
    env.run(&["unlock", "acct-1-Admin", "--pin-stdin"], &pin)
        .ok();
    let arn = arn_of(env.aws_v2(&["sts", "get-caller-identity", "--profile", "acct-1-Admin"]));
    assert_sso_arn(&arn, "111100000001", "Admin");
    env.stop_agent();
}

/// An access token that expires at once is renewed with the refresh token
/// (rotated each time) before GetRoleCredentials, and the renewed tokens
/// are sealed again: a new agent, with the PIN, still works.
#[test]
fn expired_access_tokens_are_refreshed() {
    let env = Env::new();
    let inst = configure(env.moto, 1, serde_json::json!({"access_token_ttl": 1}));
    add_sso(&env, "corp", &inst);
    let pin = format!("{PIN}\n");
    env.run(&["sso", "sync", "corp", "--pin-stdin"], &pin).ok();
    env.run(&["unlock", "acct-0-Admin", "--pin-stdin"], &pin)
        .ok();
    let grants = &status(env.moto, &inst.start_url)["grants"];
    assert!(grants["refresh_token"].as_u64().unwrap() >= 2, "{grants}");
    env.stop_agent();
    env.run(&["unlock", "acct-0-ReadOnly", "--pin-stdin"], &pin)
        .ok();
    let arn = arn_of(env.boto3_caller("acct-0-ReadOnly"));
    assert_sso_arn(&arn, "111100000000", "ReadOnly");
    env.stop_agent();
}

/// `keyfob audit` recommends Identity Center for an access-key identity
/// whose account a synced Identity Center profile reaches, and not for one
/// it does not reach; advice does not change the exit code.
#[test]
fn audit_recommends_identity_center_where_it_reaches_the_account() {
    let env = Env::new();
    let user = crate::util::with_identity(&env, "keys", PIN);
    let account = user.arn.split(':').nth(4).unwrap().to_owned();
    let start_url = format!("https://{}.awsapps.com/start", unique("d-audit"));
    post_ok(
        env.moto,
        "/keyfob-test/sso/configure",
        serde_json::json!({
            "start_url": start_url, "region": "eu-west-1",
            "accounts": [{"account_id": account, "account_name": "main", "email": "m@example.com"}],
            "users": [{"name": "alice", "assignments": [{"account_id": account, "role_name": "Admin"}]}],
        }),
    );
    let before: serde_json::Value =
        serde_json::from_str(&env.run(&["audit", "--json"], "").stdout).unwrap();
    assert_eq!(before["identity_center"], serde_json::json!([]));
    let inst = Instance0 {
        start_url,
        region: "eu-west-1",
        endpoints: Endpoints {
            url: Some(env.moto.endpoint()),
            region: "eu-west-1".into(),
        },
    };
    add_sso(&env, "corp", &inst);
    env.run(&["sso", "sync", "corp", "--pin-stdin"], &format!("{PIN}\n"))
        .ok();
    let run = env.run(&["audit", "--json"], "");
    let after: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let advice = after["identity_center"].as_array().unwrap();
    assert_eq!(advice.len(), 1, "{after}");
    let text = advice[0].as_str().unwrap();
    assert!(
        text.contains("identity keys") && text.contains("main-Admin"),
        "{text}"
    );
    assert_eq!(after["findings"], before["findings"]);
    let table = env.run(&["audit"], "").stdout;
    assert!(table.contains("→ identity keys"), "{table}");
}

/// At trace level, neither the CLI nor the agent logs a token, client
/// secret, device code or role credential (the agent is started here, in
/// the foreground, so its log can be read).
#[test]
fn trace_logs_hold_no_secret() {
    let env = Env::new();
    let inst = configure(env.moto, 1, serde_json::json!({"access_token_ttl": 1}));
    let trace = [("KEYFOB_LOG", "trace")];
    let pin = format!("{PIN}\n");
    let (added, _) = run_signing_in(
        &env,
        &trace,
        &[
            "sso",
            "add",
            "corp",
            "--start-url",
            &inst.start_url,
            "--region",
            inst.region,
            "--no-browser",
            "--pin-stdin",
        ],
        &pin,
        &inst.start_url,
        true,
    );
    let added = added.ok();
    let mut agent = env
        .keyfob()
        .env("KEYFOB_LOG", "trace")
        .args(["agent"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let agent_log = agent.stderr.take().unwrap();
    let log_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::BufReader::new(agent_log).read_to_string(&mut s);
        s
    });
    // `agent --status` succeeds whether or not an agent runs: wait until
    // it names this one (setsid execs keyfob, so the pid is the child's).
    let begun = std::time::Instant::now();
    let serving = format!("The keyfob agent runs (pid {}", agent.id());
    while !env
        .run(&["agent", "--status"], "")
        .ok()
        .stdout
        .contains(&serving)
    {
        assert!(
            begun.elapsed() < Duration::from_secs(30),
            "the agent did not answer within 30 s"
        );
        assert!(
            agent.try_wait().unwrap().is_none(),
            "the agent exited before it answered"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut logs = added.stderr.clone();
    for (args, stdin) in [
        (vec!["sso", "sync", "corp", "--pin-stdin"], pin.as_str()),
        (vec!["unlock", "acct-0-Admin", "--pin-stdin"], pin.as_str()),
        (vec!["credential-process", "acct-0-ReadOnly"], ""),
    ] {
        let mut cmd = env.keyfob();
        cmd.env("KEYFOB_LOG", "trace");
        let run = crate::util::run_command(cmd, &args, stdin).ok();
        logs.push_str(&run.stderr);
    }
    env.run(&["agent", "--stop"], "").ok();
    let _ = agent.wait();
    let agent_log = log_reader.join().unwrap();
    assert!(
        agent_log.contains("Identity Center"),
        "the agent logged nothing: {agent_log}"
    );
    logs.push_str(&agent_log);
    assert!(
        status(env.moto, &inst.start_url)["grants"]["refresh_token"]
            .as_u64()
            .unwrap()
            >= 1
    );
    assert_no_secret_leaked(&env, &inst.start_url, &logs);
}

/// Drives `keyfob ARGS` on a pseudo-terminal: answers each PIN prompt
/// ("Identity PIN:", or the agent's "PIN for …") with the PIN and approves the sign-in code it shows. Prints the
/// transcript; exits with keyfob's status.
const PTY_DRIVER: &str = r#"
import json, os, pty, select, sys, time, urllib.request
endpoint, start_url, pin = sys.argv[1:4]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[4], sys.argv[4:])
buf, pins, approved = b"", 0, False
deadline = time.time() + 30
while True:
    if time.time() > deadline:
        os.kill(pid, 9)
        break
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        buf += data
    text = buf.decode(errors="replace")
    if text.count("Identity PIN: ") + text.count("PIN for ") > pins:
        pins += 1
        os.write(fd, (pin + "\n").encode())
    if not approved and "shows the code: " in text:
        line = text.split("shows the code: ", 1)[1]
        if "\n" in line:
            code = line.split()[0]
            body = json.dumps({"start_url": start_url, "user": "alice", "user_code": code}).encode()
            req = urllib.request.Request(endpoint + "/keyfob-test/sso/approve", data=body,
                                         headers={"Content-Type": "application/json"})
            urllib.request.urlopen(req).read()
            approved = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(buf.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
"#;

/// On a terminal, a sign-in that can no longer be renewed (revoked) is
/// made again there — PIN, code, approval — and the call then succeeds;
/// without a terminal the same call fails at once with the hint.
#[test]
fn an_expired_sign_in_is_renewed_on_a_terminal() {
    let env = Env::new();
    let inst = configure(env.moto, 2, serde_json::json!({}));
    add_sso(&env, "corp", &inst);
    let pin = format!("{PIN}\n");
    env.run(&["sso", "sync", "corp", "--pin-stdin"], &pin).ok();
    env.run(&["unlock", "acct-0-Admin", "--pin-stdin"], &pin)
        .ok();
    post_ok(
        env.moto,
        "/keyfob-test/sso/revoke",
        serde_json::json!({"start_url": inst.start_url, "user": "alice"}),
    );
    env.run(&["credential-process", "acct-1-Admin"], "")
        .refused(1, "run `keyfob sso login corp`");
    let run = env
        .run_program(
            "python3",
            &[
                "-c",
                PTY_DRIVER,
                &env.moto.endpoint(),
                &inst.start_url,
                PIN,
                crate::util::KEYFOB,
                "credential-process",
                "acct-1-Admin",
            ],
        )
        .ok();
    assert!(run.stdout.contains("signing in again"), "{}", run.stdout);
    assert!(run.stdout.contains("\"Version\":1"), "{}", run.stdout);
    assert_eq!(
        status(env.moto, &inst.start_url)["grants"]["device_code"],
        2
    );
    // The new sign-in serves the other profiles too, without a prompt.
    let arn = arn_of(env.boto3_caller("acct-0-ReadOnly"));
    assert_sso_arn(&arn, "111100000000", "ReadOnly");
}

/// The console opens with a synced profile's role session, and a further
/// role chains from it as from any profile: stored with `--source-profile`,
/// assumed with the Identity Center role session, its duration capped as
/// role chaining.
#[test]
fn a_role_chains_from_a_synced_profile() {
    let env = Env::new();
    let account = "123456789012";
    let start_url = format!("https://{}.awsapps.com/start", unique("d-chain"));
    post_ok(
        env.moto,
        "/keyfob-test/sso/configure",
        serde_json::json!({
            "start_url": start_url, "region": "eu-west-1",
            "accounts": [{"account_id": account, "account_name": "main", "email": "m@example.com"}],
            "users": [{"name": "alice", "assignments": [{"account_id": account, "role_name": "Admin"}]}],
        }),
    );
    let inst = Instance0 {
        start_url,
        region: "eu-west-1",
        endpoints: Endpoints {
            url: Some(env.moto.endpoint()),
            region: "eu-west-1".into(),
        },
    };
    add_sso(&env, "corp", &inst);
    let pin = format!("{PIN}\n");
    env.run(&["sso", "sync", "corp", "--pin-stdin"], &pin).ok();
    env.run(&["unlock", "main-Admin", "--pin-stdin"], &pin).ok();
    // The console signs in with the role session itself.
    let url = env
        .run(&["login", "main-Admin", "--stdout"], "")
        .ok()
        .stdout;
    assert!(
        url.contains("/federation?") && url.contains("SigninToken="),
        "{url}"
    );
    let issued = env.moto.test_get("/keyfob-test/federation");
    assert!(
        issued.as_array().unwrap().iter().any(|t| t["principal_arn"]
            .as_str()
            .unwrap()
            .contains(&format!("{account}:assumed-role/AWSReservedSSO_Admin_"))),
        "{issued}"
    );
    let role = crate::util::create_role(&env, "deploy", None);
    env.run(
        &[
            "profile",
            "add",
            "deploy",
            "--source-profile",
            "main-Admin",
            "--role-arn",
            &role,
            "--duration",
            "2h",
        ],
        "",
    )
    .refused(2, "chain");
    env.run(
        &[
            "profile",
            "add",
            "deploy",
            "--source-profile",
            "main-Admin",
            "--role-arn",
            &role,
        ],
        "",
    )
    .ok();
    let arn = arn_of(env.boto3_caller("deploy"));
    let name = role.rsplit('/').next().unwrap();
    assert!(
        arn.starts_with(&format!("arn:aws:sts::{account}:assumed-role/{name}/")),
        "{arn}"
    );
}

/// `keyfob lock --all` drops the sign-in the agent holds, not only the
/// sessions: afterwards no profile of the identity gets a session without
/// its PIN (before, another account's profile needed none).
#[test]
fn lock_all_forgets_the_sign_in_held_by_the_agent() {
    let env = Env::new();
    let inst = configure(env.moto, 2, serde_json::json!({}));
    add_sso(&env, "corp", &inst);
    let pin = format!("{PIN}\n");
    env.run(&["sso", "sync", "corp", "--pin-stdin"], &pin).ok();
    env.run(&["unlock", "acct-0-Admin", "--pin-stdin"], &pin)
        .ok();
    // The sign-in is held: another profile needs no PIN.
    env.run(&["credential-process", "acct-1-Admin"], "").ok();
    env.run(&["lock", "--all"], "").ok();
    let agent = env.agent_pid();
    assert!(agent.is_some(), "the agent should still run");
    env.run(&["credential-process", "acct-0-ReadOnly"], "")
        .refused(1, "keyfob unlock acct-0-ReadOnly");
    env.run(&["credential-process", "acct-0-Admin"], "")
        .refused(1, "keyfob unlock acct-0-Admin");
    assert_eq!(env.agent_pid(), agent, "the same agent, holding nothing");
    env.stop_agent();
}

/// The app signs in for clients without a terminal (the agent's sign-in
/// request, AskKind::SignIn): after a revoke, parallel cold
/// credential_process calls all get their role session, and the person
/// is asked to sign in once (one new device-code grant), however many
/// calls met the expired sign-in. Refused, the call fails at once saying
/// `keyfob sso login`.
#[test]
fn the_app_signs_in_once_for_parallel_clients_without_a_terminal() {
    use keyfob::agent::server::{PromptAnswer, PromptRequest};
    use keyfob::link::protocol::AskKind;
    use keyfob::model::secret::Pin;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// Approves the code in the emulator as soon as it is shown.
    struct Approver<'a> {
        moto: &'a Moto,
        start_url: &'a str,
    }
    impl keyfob::app::SignInHost for Approver<'_> {
        fn show_code(&self, code: &keyfob::app::DeviceCode<'_>) {
            post_ok(
                self.moto,
                "/keyfob-test/sso/approve",
                serde_json::json!({"start_url": self.start_url, "user": "alice", "user_code": code.user_code}),
            );
        }
    }

    let env = Env::new();
    let inst = configure(env.moto, 4, serde_json::json!({}));
    add_sso(&env, "corp", &inst);
    let pin = format!("{PIN}\n");
    env.run(&["sso", "sync", "corp", "--pin-stdin"], &pin).ok();
    // The sync ran in a headless agent; the app takes its place.
    env.run(&["agent", "--stop"], "").ok();
    let sign_ins = Arc::new(AtomicUsize::new(0));
    let refuse = Arc::new(AtomicBool::new(false));
    let app_kf = crate::util::world_keyfob(&env);
    let (counted, refusing, moto, start_url) = (
        sign_ins.clone(),
        refuse.clone(),
        env.moto,
        inst.start_url.clone(),
    );
    let _server = crate::util::app_agent(
        &env,
        Arc::new(move |req: PromptRequest| match req.kind {
            AskKind::Pin => PromptAnswer::Pin(Pin::new(PIN.into())),
            AskKind::MfaCode
            | AskKind::NewPin
            | AskKind::Confirm
            | AskKind::Approve
            | AskKind::RecoveryCode
            | AskKind::NewRecoveryCode
            | AskKind::SourcePassphrase => PromptAnswer::Refused,
            AskKind::SignIn => {
                assert_eq!(req.identity, "corp");
                counted.fetch_add(1, Ordering::SeqCst);
                if refusing.load(Ordering::SeqCst) {
                    return PromptAnswer::Refused;
                }
                // What the app does: sign in with the PIN, then answer it.
                let pin = Pin::new(PIN.into());
                let host = Approver {
                    moto,
                    start_url: &start_url,
                };
                keyfob::app::sso_login(&app_kf, "corp", &pin, &host).expect("the app's sign-in");
                PromptAnswer::Pin(pin)
            }
        }),
    );
    // The agent holds the sign-in; then it is revoked at AWS.
    env.run(&["credential-process", "acct-0-Admin"], "").ok();
    post_ok(
        env.moto,
        "/keyfob-test/sso/revoke",
        serde_json::json!({"start_url": inst.start_url, "user": "alice"}),
    );
    let profiles = [
        "acct-1-Admin",
        "acct-2-Admin",
        "acct-3-Admin",
        "acct-0-ReadOnly",
    ];
    let runs: Vec<Run> = std::thread::scope(|s| {
        let handles: Vec<_> = profiles
            .iter()
            .cycle()
            .take(8)
            .map(|p| s.spawn(|| env.run(&["credential-process", p], "")))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for run in runs {
        let run = run.ok();
        assert!(run.stdout.contains("\"Version\":1"), "{}", run.stdout);
    }
    assert_eq!(sign_ins.load(Ordering::SeqCst), 1, "one sign-in for all");
    assert_eq!(
        status(env.moto, &inst.start_url)["grants"]["device_code"],
        2
    );
    let arn = arn_of(env.boto3_caller("acct-3-Admin"));
    assert_sso_arn(&arn, "111100000003", "Admin");
    // Refused at the app: the call fails at once, naming the command.
    refuse.store(true, Ordering::SeqCst);
    post_ok(
        env.moto,
        "/keyfob-test/sso/revoke",
        serde_json::json!({"start_url": inst.start_url, "user": "alice"}),
    );
    env.run(&["lock", "--all"], "").ok();
    env.run(&["credential-process", "acct-1-Admin"], "")
        .refused(1, "keyfob sso login corp");
    assert_eq!(sign_ins.load(Ordering::SeqCst), 2);
}

/// The app's Cancel (SignInHost::cancelled): polling stops, the code is
/// never redeemed, and nothing is stored.
#[test]
fn a_cancelled_sign_in_stores_nothing() {
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Cancels as soon as the code is shown.
    struct Canceller(AtomicBool);
    impl keyfob::app::SignInHost for Canceller {
        fn show_code(&self, _code: &keyfob::app::DeviceCode<'_>) {
            self.0.store(true, Ordering::SeqCst);
        }
        fn cancelled(&self) -> bool {
            self.0.load(Ordering::SeqCst)
        }
    }

    let env = Env::new();
    let inst = configure(env.moto, 1, serde_json::json!({}));
    let kf = crate::util::world_keyfob(&env);
    let mut new =
        keyfob::config::sso::NewSso::parse("corp", &inst.start_url, inst.region, None).unwrap();
    new.endpoints = inst.endpoints.clone();
    let pin = keyfob::model::secret::Pin::new(PIN.into());
    let host = Canceller(AtomicBool::new(false));
    let err = keyfob::app::add_sso_identity(
        &kf,
        &new,
        &pin,
        (keyfob::model::identity::TpmChoice::Off, false),
        &host,
    )
    .unwrap_err();
    assert!(err.to_string().contains("cancelled"), "{err}");
    assert!(err.to_string().contains("nothing was stored"), "{err}");
    assert_eq!(
        status(env.moto, &inst.start_url)["grants"]["device_code"],
        0
    );
    assert!(list_json(&env).is_empty(), "{:?}", list_json(&env));
}

/// `keyfob sso logout` ends the sign-in at Identity Center (no live
/// session left there), forgets its tokens and drops its profiles' cached
/// sessions; the agent, which still held the old tokens, finds them
/// refused and says to sign in again. `sso login` with the same PIN signs
/// in anew.
#[test]
fn sso_logout_ends_the_sign_in_and_login_starts_anew() {
    let env = Env::new();
    let inst = configure(env.moto, 1, serde_json::json!({}));
    add_sso(&env, "corp", &inst);
    let pin = format!("{PIN}\n");
    env.run(&["sso", "sync", "corp", "--pin-stdin"], &pin).ok();
    env.run(&["unlock", "acct-0-Admin", "--pin-stdin"], &pin)
        .ok();
    assert_eq!(
        status(env.moto, &inst.start_url)["users"]["alice"]["sessions"],
        1
    );

    let out = env
        .run(&["sso", "logout", "corp", "--pin-stdin"], &pin)
        .ok();
    assert!(
        out.stdout
            .contains("Signed out Identity Center identity corp (2 profile session(s) dropped)"),
        "{}",
        out.stdout
    );
    assert_eq!(
        status(env.moto, &inst.start_url)["users"]["alice"]["sessions"],
        0
    );
    // Logout locked the identity's profiles, which dropped the sign-in the
    // agent held: nothing opens without the PIN.
    env.run(&["credential-process", "acct-0-Admin"], "")
        .refused(1, "keyfob unlock acct-0-Admin");
    env.stop_agent();
    // Nor does the vault's copy work: only a new sign-in helps.
    env.run(&["unlock", "acct-0-ReadOnly", "--pin-stdin"], &pin)
        .refused(1, "keyfob sso login corp");
    // A wrong PIN ends nothing.
    env.run(&["sso", "logout", "corp", "--pin-stdin"], "wrong-pin-000\n")
        .refused(2, "wrong PIN");

    run_signing_in(
        &env,
        &[],
        &["sso", "login", "corp", "--no-browser", "--pin-stdin"],
        &pin,
        &inst.start_url,
        true,
    )
    .0
    .ok();
    assert_eq!(
        status(env.moto, &inst.start_url)["grants"]["device_code"],
        2
    );
    env.run(&["unlock", "acct-0-Admin", "--pin-stdin"], &pin)
        .ok();
    assert_sso_arn(
        &arn_of(env.boto3_caller("acct-0-Admin")),
        "111100000000",
        "Admin",
    );
    env.stop_agent();
}

/// An Identity Center identity is renamed without its PIN (the sealed
/// sign-in is bound to its id) and its profiles follow; its PIN is
/// changed with the old one, which then opens nothing.
#[test]
fn sso_identities_are_renamed_and_change_pin() {
    let env = Env::new();
    let inst = configure(env.moto, 1, serde_json::json!({}));
    add_sso(&env, "corp", &inst);
    let pin = format!("{PIN}\n");
    env.run(&["sso", "sync", "corp", "--pin-stdin"], &pin).ok();
    // Not onto a taken name, of either kind.
    add_sso(
        &env,
        "other",
        &configure(env.moto, 1, serde_json::json!({})),
    );
    env.run(&["rename", "corp", "other"], "")
        .refused(2, "other");
    env.run(&["rename", "corp", "work"], "").ok();
    let listed: Vec<String> = list_json(&env)
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, ["other", "work"]);
    let profile: serde_json::Value = serde_json::from_str(
        &env.run(&["profile", "show", "acct-0-Admin", "--json"], "")
            .ok()
            .stdout,
    )
    .unwrap();
    assert_eq!(profile["identity"], "work", "{profile}");

    let new_pin = "a-new-sso-pin-77";
    env.run(
        &["change-pin", "work", "--stdin"],
        &format!("wrong-pin-000\n{new_pin}\n"),
    )
    .refused(2, "wrong PIN");
    env.run(
        &["change-pin", "work", "--stdin"],
        &format!("{PIN}\n{new_pin}\n"),
    )
    .ok();
    env.run(&["unlock", "acct-0-Admin", "--pin-stdin"], &pin)
        .refused(2, "wrong PIN");
    env.run(
        &["unlock", "acct-0-Admin", "--pin-stdin"],
        &format!("{new_pin}\n"),
    )
    .ok();
    assert_sso_arn(
        &arn_of(env.boto3_caller("acct-0-Admin")),
        "111100000000",
        "Admin",
    );
    env.stop_agent();
}

/// The agent holds an identity's sign-in without its PIN: a core of it,
/// taken while it hands out sessions, has no copy of the PIN (a key for
/// the one vault entry instead), and that key renews tokens (access tokens
/// of one second here) and seals them again. After `change-pin` the key
/// fits no more: the agent asks for the PIN again before it renews
/// anything, so the vault keeps a refresh token that works (the instance
/// rotates them) and a new agent signs in with the new PIN.
#[test]
fn the_agent_keeps_a_key_not_the_pin_and_follows_a_pin_change() {
    let env = Env::new();
    let inst = configure(
        env.moto,
        2,
        serde_json::json!({"access_token_ttl": 1, "rotate_refresh_tokens": true}),
    );
    add_sso(&env, "corp", &inst);
    let pin = format!("{PIN}\n");
    env.run(&["sso", "sync", "corp", "--pin-stdin"], &pin).ok();
    env.run(&["unlock", "acct-0-Admin", "--pin-stdin"], &pin)
        .ok();
    let renewed = status(env.moto, &inst.start_url)["grants"]["refresh_token"]
        .as_u64()
        .unwrap();
    env.run(&["credential-process", "acct-1-Admin"], "").ok();
    assert!(
        status(env.moto, &inst.start_url)["grants"]["refresh_token"]
            .as_u64()
            .unwrap()
            > renewed
    );
    let agent = env.agent_pid().expect("unlock started the agent");
    let core = crate::coredump::core_of(&env, agent);
    assert!(
        crate::coredump::count(&core, env.root.path().to_str().unwrap()) > 0,
        "the core is empty"
    );
    assert_eq!(
        crate::coredump::count(&core, PIN),
        0,
        "the agent holds the PIN"
    );

    let new_pin = "a-new-sso-pin-88";
    env.run(
        &["change-pin", "corp", "--stdin"],
        &format!("{PIN}\n{new_pin}\n"),
    )
    .ok();
    env.run(&["credential-process", "acct-0-ReadOnly"], "")
        .refused(1, "keyfob unlock acct-0-ReadOnly");
    env.run(&["unlock", "acct-0-ReadOnly", "--pin-stdin"], &pin)
        .refused(2, "wrong PIN");
    env.run(
        &["unlock", "acct-0-ReadOnly", "--pin-stdin"],
        &format!("{new_pin}\n"),
    )
    .ok();
    env.stop_agent();
    // What the agent renewed is in the vault, under the new PIN.
    env.run(
        &["unlock", "acct-1-Admin", "--pin-stdin"],
        &format!("{new_pin}\n"),
    )
    .ok();
    env.stop_agent();
}

/// `keyfob lock NAME` on an Identity Center profile drops the identity's
/// sign-in the agent holds too, and says so: afterwards no profile of it
/// gets a session without the PIN. With none held, it says that.
#[test]
fn locking_an_identity_center_profile_drops_the_held_sign_in() {
    let env = Env::new();
    let inst = configure(env.moto, 1, serde_json::json!({}));
    add_sso(&env, "corp", &inst);
    let pin = format!("{PIN}\n");
    env.run(&["sso", "sync", "corp", "--pin-stdin"], &pin).ok();
    env.run(&["unlock", "acct-0-Admin", "--pin-stdin"], &pin)
        .ok();
    // The sign-in is held: the sibling profile needs no PIN.
    env.run(&["credential-process", "acct-0-ReadOnly"], "").ok();
    let locked = env.run(&["lock", "acct-0-Admin"], "").ok();
    assert!(
        locked
            .stdout
            .contains("dropped the Identity Center sign-in of corp"),
        "{}",
        locked.stdout
    );
    env.run(&["lock", "acct-0-ReadOnly"], "").ok();
    env.run(&["credential-process", "acct-0-ReadOnly"], "")
        .refused(1, "keyfob unlock acct-0-ReadOnly");
    let again = env.run(&["lock", "acct-0-Admin"], "").ok();
    assert!(
        again
            .stdout
            .contains("no Identity Center sign-in of corp was held"),
        "{}",
        again.stdout
    );
}
