//! `keyfob login`: console sign-in URLs, exchanged at the launcher's
//! federation endpoint (T8, tests/support/federation.py), which checks the
//! session JSON it receives the way AWS does: temporary credentials it
//! issued, unexpired, and not a GetSessionToken session. An identity
//! profile signs in with a GetFederationToken session (T7: real, usable
//! credentials for a federated user), a role profile with its role session.

use std::collections::HashMap;

use serde_json::Value;

use crate::util::{Env, Run, create_role, unique, with_identity};

const PIN: &str = "pin-C0ns0le-in";

fn login(env: &Env, args: &[&str]) -> Run {
    let mut all = vec!["login"];
    all.extend_from_slice(args);
    env.run(&all, &format!("{PIN}\n"))
}

/// The sign-in URL's query, checked to be on the emulator's federation
/// endpoint (AWS_ENDPOINT_URL + /federation, as the SDKs' settings say).
fn query_of(env: &Env, signin_url: &str) -> HashMap<String, String> {
    let url = url::Url::parse(signin_url.trim()).expect(signin_url);
    assert_eq!(
        format!("{}://{}", url.scheme(), url.authority()),
        env.moto.endpoint()
    );
    assert_eq!(url.path(), "/federation");
    url.query_pairs().into_owned().collect()
}

/// The launcher's record of sign-in tokens issued to `principal` (shared
/// emulator: principals are unique per test).
fn federation_tokens(env: &Env, principal_part: &str) -> Vec<Value> {
    env.moto
        .test_get("/keyfob-test/federation")
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| {
            t["principal_arn"]
                .as_str()
                .unwrap()
                .contains(principal_part)
        })
        .cloned()
        .collect()
}

#[test]
fn an_identity_signs_in_as_a_federated_user_and_the_url_logs_in() {
    let env = Env::new();
    let identity = unique("con");
    let user = with_identity(&env, &identity, PIN);
    let run = login(&env, &[&identity, "--stdout", "--pin-stdin"]).ok();
    let query = query_of(&env, &run.stdout);
    assert_eq!(query["Action"], "login");
    assert_eq!(query["Issuer"], "keyfob");
    assert_eq!(query["Destination"], "https://console.aws.amazon.com/");
    let token = &query["SigninToken"];
    assert!(token.len() >= 32, "{token}");

    let federated = format!("federated-user/keyfob-{identity}");
    let issued = federation_tokens(&env, &federated);
    assert_eq!(issued.len(), 1, "{issued:?}");
    assert_eq!(issued[0]["kind"], "federated-user");
    assert_eq!(issued[0]["logged_in"], false);

    // The URL signs in: the endpoint redirects to the destination.
    let path = run
        .stdout
        .trim()
        .strip_prefix(&env.moto.endpoint())
        .unwrap()
        .to_owned();
    let (status, head, _) = env.moto.http_get(&path);
    assert_eq!(status, 302, "{head}");
    assert!(
        head.contains("Location: https://console.aws.amazon.com/"),
        "{head}"
    );
    assert_eq!(federation_tokens(&env, &federated)[0]["logged_in"], true);

    // The console session is cached like any other: a second login asks
    // no PIN (none given) and makes no second federated session.
    let again = env.run(&["login", &identity, "--stdout"], "").ok();
    assert_ne!(again.stdout, run.stdout, "a fresh sign-in token each time");
    assert_eq!(federation_tokens(&env, &federated).len(), 2);

    // The URL and the federated session stay out of files and stderr.
    assert!(env.files_containing(token).is_empty());
    assert!(!run.stderr.contains(token.as_str()));
    assert!(!run.stderr.contains(&user.secret_access_key));
    env.stop_agent();
}

#[test]
fn a_role_profile_signs_in_with_its_role_session_for_the_duration_asked() {
    let env = Env::new();
    with_identity(&env, "work", PIN);
    let role = create_role(&env, "console", None);
    let role_name = role.rsplit('/').next().unwrap().to_owned();
    env.run(
        &[
            "profile",
            "add",
            "ops",
            "--identity",
            "work",
            "--role-arn",
            &role,
            "--region",
            "eu-west-2",
        ],
        "",
    )
    .ok();
    let run = login(
        &env,
        &["ops", "--stdout", "--duration", "2h", "--pin-stdin"],
    )
    .ok();
    let query = query_of(&env, &run.stdout);
    assert_eq!(
        query["Destination"],
        "https://eu-west-2.console.aws.amazon.com/console/home?region=eu-west-2"
    );
    let issued = federation_tokens(&env, &format!("assumed-role/{role_name}/"));
    assert_eq!(issued.len(), 1, "{issued:?}");
    assert_eq!(issued[0]["kind"], "assumed-role");
    assert_eq!(issued[0]["session_duration"], 7200);

    let run = env
        .run(
            &[
                "login",
                "ops",
                "--stdout",
                "--region",
                "ap-southeast-2",
                "--destination",
                "https://s3.console.aws.amazon.com/s3/home",
            ],
            "",
        )
        .ok();
    assert_eq!(
        query_of(&env, &run.stdout)["Destination"],
        "https://s3.console.aws.amazon.com/s3/home"
    );
    env.stop_agent();
}

#[test]
fn bad_login_options_are_refused_before_any_session_or_sign_in() {
    let env = Env::new();
    let identity = unique("bad");
    with_identity(&env, &identity, PIN);
    let hub = create_role(&env, "hub", None);
    let next = create_role(&env, "next", None);
    for (name, args) in [
        (
            "hub",
            vec!["--identity", identity.as_str(), "--role-arn", hub.as_str()],
        ),
        (
            "next",
            vec!["--source-profile", "hub", "--role-arn", next.as_str()],
        ),
    ] {
        let mut all = vec!["profile", "add", name];
        all.extend(args);
        env.run(&all, "").ok();
    }
    login(
        &env,
        &[&identity, "--stdout", "--duration", "1h", "--pin-stdin"],
    )
    .refused(
        2,
        "duration: an identity's console session lasts as long as its federation token",
    );
    login(
        &env,
        &["next", "--stdout", "--duration", "1h", "--pin-stdin"],
    )
    .refused(2, "chained role session");
    login(
        &env,
        &["hub", "--stdout", "--duration", "13h", "--pin-stdin"],
    )
    .refused(2, "a console session must last 900–43200 seconds");
    login(
        &env,
        &[
            "hub",
            "--stdout",
            "--destination",
            "https://evil.example/",
            "--pin-stdin",
        ],
    )
    .refused(2, "destination: evil.example is not an AWS console host");
    login(
        &env,
        &[
            "hub",
            "--stdout",
            "--destination",
            "http://console.aws.amazon.com/",
        ],
    )
    .refused(2, "destination: must use https");
    login(&env, &["hub", "--stdout", "--region", "moon-1"]).refused(2, "region:");
    // Nothing was asked of AWS: no session was made, no token issued.
    assert!(federation_tokens(&env, &format!("keyfob-{identity}")).is_empty());
    assert!(federation_tokens(&env, hub.rsplit('/').next().unwrap()).is_empty());
    let assumed = env.moto.test_get("/keyfob-test/assume-role");
    assert!(
        !assumed
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["role_arn"] == hub.as_str()),
        "a role session was made for a refused login"
    );
    env.stop_agent();
}

/// A stand-in browser, first on PATH as `name`: it records its arguments,
/// fetches the last one (the address keyfob gives it) once without
/// following the redirect, then again, and writes what it got to the
/// returned file. Returns (its folder, that file).
fn stand_in_browser(env: &Env, name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let bin = env.root.path().join("browser-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let out = env.root.path().join("browser.json");
    let script = bin.join(name);
    std::fs::write(
        &script,
        format!(
            r#"#!/usr/bin/env python3
import json, os, subprocess, sys, urllib.request, urllib.error
class Stop(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None
opener = urllib.request.build_opener(Stop)
def get(url):
    try:
        r = opener.open(url, timeout=10)
        return r.status, r.headers.get("Location")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Location")
    except Exception as e:
        return str(e), None
# Another local user (nobody) reads the address from this process's
# command line, as any user can in /proc, and fetches it first.
intruder = None
if os.geteuid() == 0:
    fetch = ("import sys, urllib.request, urllib.error\n"
             "class S(urllib.request.HTTPRedirectHandler):\n"
             "    def redirect_request(self, *a, **k): return None\n"
             "try:\n"
             "    r = urllib.request.build_opener(S).open(sys.argv[1], timeout=10)\n"
             "    print(r.status, r.headers.get('Location'))\n"
             "except urllib.error.HTTPError as e:\n"
             "    print(e.code, e.headers.get('Location'))\n")
    p = subprocess.run(["runuser", "-u", "nobody", "--", "/usr/bin/python3", "-c", fetch, sys.argv[-1]],
                       capture_output=True, text=True, timeout=30)
    intruder = (p.stdout.strip() or p.stderr.strip())
first = get(sys.argv[-1])
second = get(sys.argv[-1])
json.dump({{"argv": sys.argv[1:], "intruder": intruder, "first": first, "second": second}}, open({out:?}, "w"))
"#,
            out = out.display().to_string()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (bin, out)
}

/// Runs `keyfob ARGS` (PIN on stdin) with `bin` first on PATH; returns
/// what the stand-in browser recorded.
fn login_with_browser(
    env: &Env,
    bin: &std::path::Path,
    out: &std::path::Path,
    args: &[&str],
) -> Value {
    let mut cmd = env.keyfob();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    cmd.env("PATH", path).env_remove("BROWSER");
    let _ = std::fs::remove_file(out);
    let run = crate::util::run_command(cmd, args, &format!("{PIN}\n")).ok();
    assert!(
        run.stderr.contains("Opening the AWS console"),
        "{}",
        run.stderr
    );
    // keyfob returns once the redirect was fetched; the stand-in writes
    // its record right after (it may be caught half written: read until
    // it parses, and fail at the deadline rather than carry on).
    let start = std::time::Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(out)
            && let Ok(v) = serde_json::from_str(&text)
        {
            return v;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "the stand-in browser wrote no record within 20 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn the_browser_gets_a_one_shot_local_address_never_the_sign_in_url() {
    let env = Env::new();
    let identity = unique("web");
    with_identity(&env, &identity, PIN);
    let (bin, out) = stand_in_browser(&env, "xdg-open");
    let seen = login_with_browser(&env, &bin, &out, &["login", &identity, "--pin-stdin"]);
    let argv = seen["argv"].as_array().unwrap();
    assert_eq!(argv.len(), 1);
    let local = argv[0].as_str().unwrap();
    assert!(local.starts_with("http://127.0.0.1:"), "{local}");
    assert!(
        !local.contains("SigninToken") && !local.contains("federation"),
        "{local}"
    );
    // Another local user who read the address first got nothing: the
    // redirect checks who owns the connecting socket.
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if root {
        let intruder = seen["intruder"].as_str().unwrap_or_default();
        assert!(intruder.starts_with("403 "), "{seen}");
        assert!(!intruder.contains("SigninToken"), "{seen}");
    }
    assert_eq!(seen["first"][0], 302, "{seen}");
    let location = seen["first"][1].as_str().unwrap();
    let query = query_of(&env, location);
    assert_eq!(query["Action"], "login");
    // One shot: the listener is gone once it has redirected.
    assert_ne!(seen["second"][0], 302, "{seen}");
    env.stop_agent();
}

#[test]
fn eight_parallel_logins_make_one_federated_session() {
    // An emulator of its own: its call counter is this test's alone.
    let env = Env::with_own_emulator();
    let identity = unique("par");
    with_identity(&env, &identity, PIN);
    env.run(
        &["login", &identity, "--stdout", "--pin-stdin"],
        &format!("{PIN}\n"),
    )
    .ok();
    env.run(&["lock", &identity], "").ok();
    let before = env.moto.calls()["sts:GetFederationToken"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(before, 1);
    // Locked again: the eight ask the agent at once, each with the PIN.
    let runs: Vec<Run> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| login(&env, &[&identity, "--stdout", "--pin-stdin"])))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut urls = std::collections::BTreeSet::new();
    for run in runs {
        urls.insert(run.ok().stdout);
    }
    assert_eq!(urls.len(), 8, "each login gets its own sign-in token");
    assert_eq!(
        env.moto.calls()["sts:GetFederationToken"].as_u64().unwrap(),
        before + 1,
        "one GetFederationToken for the eight"
    );
    env.stop_agent();
}

#[test]
fn a_browser_profile_of_the_accounts_own_opens_the_console() {
    let env = Env::new();
    let identity = unique("iso");
    with_identity(&env, &identity, PIN);
    let (bin, out) = stand_in_browser(&env, "chromium");
    let seen = login_with_browser(
        &env,
        &bin,
        &out,
        &["login", &identity, "--browser-profile", "--pin-stdin"],
    );
    let dir = env.root.path().join("data/keyfob/browsers/123456789012");
    let argv: Vec<&str> = seen["argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(
        argv[..3],
        [
            format!("--user-data-dir={}", dir.display()).as_str(),
            "--no-first-run",
            "--new-window"
        ],
        "{seen}"
    );
    assert!(argv[3].starts_with("http://127.0.0.1:"), "{seen}");
    assert_eq!(seen["first"][0], 302, "{seen}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode, 0o700,
        "the account's browser profile is the user's alone"
    );
    env.stop_agent();
}
