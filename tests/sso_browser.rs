//! Identity Center's browser sign-in (authorization code with PKCE, the
//! code brought back to keyfob's loopback listener) through `keyfob sso
//! add | login`, against the emulator's `/authorize` and authorization
//! code grant (tests/support/sso_emulator.py S11, S12), which
//! tests/support/check_sso.py checks against the AWS CLI 2.38 first.
//!
//! The browser is tests/support/sso_browser.py as `$BROWSER`: it opens
//! the authorize page and delivers its redirect to the loopback, as a
//! person's browser does (or, told so, delivers it with another state, as
//! a hostile page would), and logs what it saw (never a code) to
//! ~/browser.log. The emulator's `browser_user` setting is the person
//! signed in to the portal in that browser.

use crate::sso::{
    PIN, assert_no_secret_leaked, assert_sso_arn, configure, list_json, run_signing_in, status,
};
use crate::util::{Env, Run, run_command};

const BROWSER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/sso_browser.py");

/// `keyfob ARGS` with the stand-in browser in `mode` (see sso_browser.py).
fn with_browser(env: &Env, mode: &str, args: &[&str]) -> Run {
    with_browser_env(env, mode, &[], args)
}

fn with_browser_env(env: &Env, mode: &str, envs: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = env.keyfob();
    cmd.envs(envs.iter().copied());
    cmd.env("BROWSER", BROWSER)
        .env("KEYFOB_TEST_BROWSER_MODE", mode)
        .env("KEYFOB_TEST_BROWSER_LOG", env.home().join("browser.log"));
    run_command(cmd, args, &format!("{PIN}\n"))
}

/// The browser's visits so far, once there are `n` (it logs after it read
/// the loopback's page, which may be just after keyfob is done).
fn visits(env: &Env, n: usize) -> Vec<serde_json::Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(env.home().join("browser.log")).unwrap_or_default();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        if lines.len() >= n || std::time::Instant::now() > deadline {
            assert_eq!(lines.len(), n, "browser visits: {lines:?}");
            return lines;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn add_args<'a>(inst: &'a crate::sso::Instance0, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "sso",
        "add",
        "corp",
        "--start-url",
        &inst.start_url,
        "--region",
        inst.region,
        "--pin-stdin",
    ];
    args.extend_from_slice(extra);
    args
}

fn grants(env: &Env, start_url: &str) -> (u64, u64, u64) {
    let g = &status(env.moto, start_url)["grants"];
    let n = |k: &str| g[k].as_u64().unwrap();
    (
        n("authorization_code"),
        n("device_code"),
        n("refresh_token"),
    )
}

/// The grant types of each client registration that started a sign-in on
/// the instance, in order (null: none, a device code registration).
fn registrations(env: &Env, start_url: &str) -> Vec<serde_json::Value> {
    status(env.moto, start_url)["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["grant_types"].clone())
        .collect()
}

fn browser_grants() -> serde_json::Value {
    serde_json::json!(["authorization_code", "refresh_token"])
}

/// `keyfob sso add` signs in through the browser by default: a PKCE
/// registration (redirect URI on the loopback, the start URL as issuer),
/// the authorize page with an S256 challenge and a fresh state, the code
/// brought back to 127.0.0.1 on an ephemeral port and redeemed. The
/// access token lives 1 s, so the sync refreshes it with the browser
/// registration's refresh token; credential_process and the AWS CLI 2.38
/// get role credentials; no issued secret (the authorization code and the
/// verifier included) reaches a file, the keyring in the clear or the
/// output, at trace level; a second sign-in uses the same registration.
#[test]
fn browser_sign_in_then_credential_process_refresh_and_reuse() {
    let env = Env::new();
    let inst = configure(
        env.moto,
        1,
        serde_json::json!({"browser_user": "alice", "access_token_ttl": 1}),
    );
    let pin = format!("{PIN}\n");
    // At trace level: the leak scan below reads its output too.
    let added = with_browser_env(
        &env,
        "follow",
        &[("KEYFOB_LOG", "trace")],
        &add_args(&inst, &[]),
    )
    .ok();
    assert!(
        added.stderr.contains("open this page in a browser"),
        "{}",
        added.stderr
    );
    assert!(!added.stderr.contains("shows the code"), "{}", added.stderr);
    assert_eq!(grants(&env, &inst.start_url), (1, 0, 0));
    let clients = &status(env.moto, &inst.start_url)["clients"];
    assert_eq!(
        clients,
        &serde_json::json!([{"grant_types": browser_grants(),
            "redirect_uris": ["http://127.0.0.1/oauth/callback"],
            "issuer_url": inst.start_url}])
    );
    let visit = &visits(&env, 1)[0];
    let (authorize, redirect) = (&visit["authorize"], &visit["redirect"]);
    assert_eq!(authorize["response_type"], "code");
    assert_eq!(authorize["code_challenge_method"], "S256");
    assert_eq!(authorize["scopes"], "sso:account:access");
    let port = redirect["port"].as_u64().unwrap();
    assert!(port > 0);
    assert_eq!(
        authorize["redirect_uri"],
        format!("http://127.0.0.1:{port}/oauth/callback")
    );
    assert_eq!(redirect["host"], "127.0.0.1");
    assert_eq!(redirect["path"], "/oauth/callback");
    assert_eq!(redirect["params"], serde_json::json!(["code", "state"]));
    assert_eq!(visit["status"], 200, "{visit}");
    assert!(
        visit["page"]
            .as_str()
            .unwrap()
            .contains("keyfob got the sign-in")
    );
    assert!(
        authorize["state"].as_str().unwrap().len() >= 22,
        "{authorize}"
    );

    env.run(&["sso", "sync", "corp", "--pin-stdin"], &pin).ok();
    env.run(&["unlock", "acct-0-Admin", "--pin-stdin"], &pin)
        .ok();
    let (_, _, refreshed) = grants(&env, &inst.start_url);
    assert!(refreshed >= 1, "the 1 s access token was never refreshed");
    let out = env.run(&["credential-process", "acct-0-Admin"], "").ok();
    let creds: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(creds["Version"], 1);
    assert!(creds["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    let arn = crate::util::arn_of(env.aws_v2_current(&[
        "sts",
        "get-caller-identity",
        "--profile",
        "acct-0-Admin",
    ]));
    assert_sso_arn(&arn, "111100000000", "Admin");
    assert_no_secret_leaked(
        &env,
        &inst.start_url,
        &format!("{}{}", added.stderr, added.stdout),
    );

    // Signed in again: the same registration, a new state.
    with_browser(&env, "follow", &["sso", "login", "corp", "--pin-stdin"]).ok();
    assert_eq!(grants(&env, &inst.start_url).0, 2);
    assert_eq!(registrations(&env, &inst.start_url).len(), 1);
    let both = visits(&env, 2);
    assert_eq!(
        both[0]["authorize"]["client_id"],
        both[1]["authorize"]["client_id"]
    );
    assert_ne!(both[0]["authorize"]["state"], both[1]["authorize"]["state"]);
    env.run(&["unlock", "acct-0-Admin", "--pin-stdin"], &pin)
        .ok();
    env.stop_agent();
}

/// `--use-device-code` keeps the device code even where a browser is:
/// a registration without grant types, as before. The next browser
/// sign-in cannot use it (it lacks authorization_code) and registers
/// anew; a device code sign-in after that cannot use the browser one
/// and registers a device one again. Each sign-in works.
#[test]
fn device_code_when_asked_and_registrations_follow_the_flow() {
    let env = Env::new();
    let inst = configure(env.moto, 1, serde_json::json!({"browser_user": "alice"}));
    let pin = format!("{PIN}\n");
    let browser = [("BROWSER", BROWSER)];
    let (run, code) = run_signing_in(
        &env,
        &browser,
        &add_args(&inst, &["--use-device-code", "--no-browser"]),
        &pin,
        &inst.start_url,
        true,
    );
    run.ok();
    assert!(code.is_some(), "no device code shown");
    assert_eq!(grants(&env, &inst.start_url), (0, 1, 0));
    assert_eq!(
        registrations(&env, &inst.start_url),
        vec![serde_json::Value::Null]
    );

    with_browser(&env, "follow", &["sso", "login", "corp", "--pin-stdin"]).ok();
    assert_eq!(grants(&env, &inst.start_url), (1, 1, 0));
    assert_eq!(
        registrations(&env, &inst.start_url),
        vec![serde_json::Value::Null, browser_grants()]
    );

    let (run, _) = run_signing_in(
        &env,
        &browser,
        &[
            "sso",
            "login",
            "corp",
            "--use-device-code",
            "--no-browser",
            "--pin-stdin",
        ],
        &pin,
        &inst.start_url,
        true,
    );
    run.ok();
    assert_eq!(grants(&env, &inst.start_url), (1, 2, 0));
    assert_eq!(registrations(&env, &inst.start_url).len(), 3);
    env.run(&["sso", "sync", "corp", "--pin-stdin"], &pin).ok();
    env.run(&["unlock", "acct-0-Admin", "--pin-stdin"], &pin)
        .ok();
    env.run(&["credential-process", "acct-0-Admin"], "").ok();
    env.stop_agent();
}

/// A page that answers the loopback with another state (not from this
/// sign-in's authorize page) is refused with a 400, the sign-in stops
/// with a clear error, no code is redeemed and nothing is stored.
#[test]
fn a_wrong_state_on_the_loopback_is_refused_and_nothing_is_stored() {
    let env = Env::new();
    let inst = configure(env.moto, 1, serde_json::json!({"browser_user": "alice"}));
    let run = with_browser(&env, "wrong-state", &add_args(&inst, &[]));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains("did not carry this sign-in's state"),
        "{}",
        run.stderr
    );
    let visit = &visits(&env, 1)[0];
    assert_eq!(visit["status"], 400, "{visit}");
    assert!(
        visit["page"].as_str().unwrap().contains("refused"),
        "{visit}"
    );
    assert_eq!(grants(&env, &inst.start_url), (0, 0, 0));
    assert!(list_json(&env).is_empty());
}

/// The person refuses in the browser: the redirect carries
/// error=access_denied, and keyfob says so in one clear line; nothing is
/// stored.
#[test]
fn a_refusal_in_the_browser_is_a_clear_error() {
    let env = Env::new();
    let inst = configure(
        env.moto,
        1,
        serde_json::json!({"browser_user": "alice", "browser_consent": "deny"}),
    );
    let run = with_browser(&env, "follow", &add_args(&inst, &[]));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let last = run.stderr.trim_end().lines().last().unwrap_or_default();
    assert!(last.contains("refused in the browser"), "{}", run.stderr);
    assert_eq!(visits(&env, 1)[0]["status"], 200);
    assert_eq!(grants(&env, &inst.start_url), (0, 0, 0));
    assert!(list_json(&env).is_empty());
}

/// Where no browser opens (`$BROWSER` names no program, and no desktop
/// opener is on PATH), the sign-in says so and falls back to the device
/// code by itself, which the person approves; it works.
#[test]
fn no_browser_opens_so_the_device_code_is_used() {
    let env = Env::new();
    let inst = configure(env.moto, 1, serde_json::json!({"browser_user": "alice"}));
    // PATH with setsid only: no xdg-open, gio or the like.
    let bin = env.home().join("only-setsid");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink("/usr/bin/setsid", bin.join("setsid")).unwrap();
    let path = bin.display().to_string();
    let (run, code) = run_signing_in(
        &env,
        &[("BROWSER", "/nonexistent/browser"), ("PATH", &path)],
        &add_args(&inst, &[]),
        &format!("{PIN}\n"),
        &inst.start_url,
        true,
    );
    let run = run.ok();
    assert!(
        run.stderr.contains("could not open a browser")
            && run.stderr.contains("/nonexistent/browser"),
        "{}",
        run.stderr
    );
    assert!(code.is_some(), "no device code shown: {}", run.stderr);
    assert_eq!(grants(&env, &inst.start_url), (0, 1, 0));
    assert_eq!(
        registrations(&env, &inst.start_url),
        vec![serde_json::Value::Null]
    );
    assert_eq!(list_json(&env).len(), 1);
}

/// Another local user who read the authorize URL (state and port) from
/// the browser's command line in /proc, and delivers the redirect first,
/// gets a 403; the sign-in goes on and the person's browser completes it.
#[test]
fn another_users_connection_to_the_loopback_is_refused() {
    let env = Env::new();
    let inst = configure(env.moto, 1, serde_json::json!({"browser_user": "alice"}));
    with_browser(&env, "other-user-first", &add_args(&inst, &[])).ok();
    let visit = &visits(&env, 1)[0];
    if rustix::process::geteuid().is_root() {
        assert_eq!(visit["intruder"], "403", "{visit}");
    } else {
        eprintln!("not root: no other user to try the loopback with");
    }
    assert_eq!(visit["status"], 200, "{visit}");
    assert_eq!(grants(&env, &inst.start_url), (1, 0, 0));
    assert_eq!(list_json(&env).len(), 1);
}
