//! AWS sign-in identities (`aws login`'s kind) through `keyfob
//! login-session add | login | logout` and `keyfob import --from
//! aws-login`, against the emulator's AWS Sign-In (tests/support/
//! signin_emulator.py, which tests/support/check_signin.py checks against
//! the AWS CLI 2.38 first): the browser sign-in with PKCE, DPoP-bound
//! refresh tokens, the 12-hour end, revocation.
//!
//! The browser is tests/support/sso_browser.py as `$BROWSER`, signed in as
//! the console user `KEYFOB_TEST_SIGNIN_USER` names (each test its own
//! IAM user, so tests share the launcher). Tests that move the emulator's
//! clock have an emulator of their own.

use crate::sso::post_ok;
use crate::util::{Env, Moto, Run, arn_of, run_command, unique};

const BROWSER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/sso_browser.py");
const PIN: &str = "sign-in-pin-7391";

/// A console user of this test's own: (ARN, `ACCOUNT/USER` for the browser).
pub(crate) fn console_user(moto: &Moto, settings: serde_json::Value) -> (String, String) {
    let user = unique("alice");
    let mut body = serde_json::json!({"user_name": user, "browser_default": false});
    for (k, v) in settings.as_object().unwrap() {
        body[k] = v.clone();
    }
    let got = post_ok(moto, "/keyfob-test/signin/configure", body);
    let arn = got["principal_arn"].as_str().unwrap().to_owned();
    let hint = format!("{}/{user}", got["account_id"].as_str().unwrap());
    (arn, hint)
}

fn user_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap()
}

pub(crate) fn status(moto: &Moto, arn: &str) -> serde_json::Value {
    moto.test_get(&format!(
        "/keyfob-test/signin/status?user_name={}",
        user_name(arn)
    ))
}

/// `keyfob ARGS` with the stand-in browser signed in as `hint`.
pub(crate) fn with_browser(
    env: &Env,
    hint: &str,
    envs: &[(&str, &str)],
    args: &[&str],
    stdin: &str,
) -> Run {
    let mut cmd = env.keyfob();
    cmd.envs(envs.iter().copied())
        .env("BROWSER", BROWSER)
        .env("KEYFOB_TEST_SIGNIN_USER", hint)
        .env("KEYFOB_TEST_BROWSER_LOG", env.home().join("browser.log"));
    run_command(cmd, args, stdin)
}

fn add(env: &Env, hint: &str, name: &str, envs: &[(&str, &str)]) -> Run {
    with_browser(
        env,
        hint,
        envs,
        &[
            "login-session",
            "add",
            name,
            "--region",
            "us-east-1",
            "--pin-stdin",
        ],
        &format!("{PIN}\n"),
    )
}

/// Every secret the emulator issued is absent from every file of the
/// world, from the keyring in the clear, and from `also` (keyfob's output).
fn assert_no_secret_leaked(env: &Env, also: &str) {
    let secrets: Vec<String> = env.moto.test_get("/keyfob-test/signin/issued-secrets")["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();
    crate::sso::assert_secrets_absent(env, &secrets, also);
    assert!(!env.home().join(".aws/login").exists());
}

/// The Rust SDK's GetCallerIdentity through the profile's
/// credential_process, as a user's Rust program would (the command gets
/// the test world's environment, which a user's program has anyway).
fn rust_sdk_caller(env: &Env, profile: &str) -> String {
    use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
    let vars: Vec<String> = env
        .command("true")
        .get_envs()
        .filter_map(|(k, v)| Some(format!("{}={}", k.to_str()?, v?.to_str()?)))
        .map(|kv| shlex::try_quote(&kv).unwrap().into_owned())
        .collect();
    let config = env.home().join(".aws/config");
    let text = std::fs::read_to_string(&config).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("credential_process") && l.ends_with(&format!(" {profile}")))
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .trim()
        .to_owned();
    let sdk_config = env.home().join("sdk-config");
    std::fs::write(
        &sdk_config,
        format!(
            "[profile {profile}]\ncredential_process = env -i {} {line}\n",
            vars.join(" ")
        ),
    )
    .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let files = EnvConfigFiles::builder()
            .with_file(EnvConfigFileKind::Config, &sdk_config)
            .build();
        let provider_config = aws_config::provider_config::ProviderConfig::default()
            .with_http_client(keyfob::aws::https_client());
        let provider = aws_config::profile::ProfileFileCredentialsProvider::builder()
            .configure(&provider_config)
            .profile_files(files)
            .profile_name(profile)
            .build();
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .credentials_provider(provider)
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(env.moto.endpoint())
            .http_client(keyfob::aws::https_client())
            .load()
            .await;
        let out = aws_sdk_sts::Client::new(&config)
            .get_caller_identity()
            .send()
            .await
            .unwrap();
        out.arn().unwrap().to_owned()
    })
}

/// A new user's AWS sign-in: `login-session add` opens the console's
/// sign-in page (PKCE S256, the same-device client, a loopback redirect),
/// seals the sign-in and makes its profile; the AWS CLI 2.38, boto3 and
/// the Rust SDK get its credentials through credential_process (and boto3
/// through the container endpoint), as the
/// signed-in IAM user. Its 15-minute credentials (here 301 s, just over
/// the 5-minute margin) are renewed without a prompt with the DPoP-bound
/// refresh token, which rotates; after the emulator's clock passes 12
/// hours the call says to sign in again, `login-session login` does, and
/// `logout` revokes it at AWS. No issued secret reaches a file, the
/// keyring in the clear or the output, at trace level.
#[test]
fn a_new_users_sign_in_serves_every_client_renews_ends_and_signs_in_again() {
    let env = Env::with_own_emulator();
    let (arn, hint) = console_user(env.moto, serde_json::json!({"credential_seconds": 301}));
    let added = add(&env, &hint, "alice", &[("KEYFOB_LOG", "trace")]).ok();
    assert!(
        added.stderr.contains("open this page in a browser"),
        "{}",
        added.stderr
    );
    assert!(added.stdout.contains(&arn), "{}", added.stdout);
    let s = status(env.moto, &arn);
    assert_eq!(
        (s["codes_issued"].as_u64(), s["codes_redeemed"].as_u64()),
        (Some(1), Some(1))
    );
    let family = &s["families"][0];
    assert_eq!(family["client_id"], "arn:aws:signin:::devtools/same-device");
    let listed: Vec<serde_json::Value> =
        serde_json::from_str(&env.run(&["list", "--json"], "").ok().stdout).unwrap();
    assert!(
        listed.iter().any(|i| i["name"] == "alice"
            && i["kind"] == "aws-sign-in"
            && i["principal"] == arn.as_str()),
        "{listed:?}"
    );

    // The PIN typed at `add` opened it in the agent: every client, no
    // prompt.
    let out = env.run(&["credential-process", "alice"], "").ok();
    let creds: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(creds["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    assert_eq!(
        arn_of(env.aws_v2_current(&["sts", "get-caller-identity", "--profile", "alice"])),
        arn
    );
    assert_eq!(arn_of(env.boto3_caller("alice")), arn);
    assert_eq!(rust_sdk_caller(&env, "alice"), arn);
    // And through the container endpoint, as for any profile.
    let served = run_command(
        env.command("keyfob"),
        &[
            "exec",
            "--server",
            "alice",
            "--",
            "python3",
            crate::util::support("container_client.py")
                .to_str()
                .unwrap(),
            "boto3",
        ],
        "",
    )
    .ok();
    let served: serde_json::Value = serde_json::from_str(&served.stdout).unwrap();
    assert_eq!(served["Arn"], arn.as_str());

    // Past its life: renewed without a prompt, the refresh token rotated.
    let before = status(env.moto, &arn)["refreshes"].as_u64().unwrap();
    std::thread::sleep(std::time::Duration::from_secs(2));
    let again = env.run(&["credential-process", "alice"], "").ok();
    let renewed: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
    assert_ne!(renewed["AccessKeyId"], creds["AccessKeyId"]);
    let s = status(env.moto, &arn);
    assert!(s["refreshes"].as_u64().unwrap() > before, "{s}");
    // One key for the whole sign-in: the thumbprint of its first proof.
    assert_eq!(s["dpop_thumbprints"].as_array().unwrap().len(), 1, "{s}");
    assert_eq!(
        arn_of(env.aws_v2_current(&["sts", "get-caller-identity", "--profile", "alice"])),
        arn
    );

    // 12 hours later the sign-in has ended: one clear line, and no prompt.
    post_ok(
        env.moto,
        "/keyfob-test/clock",
        serde_json::json!({"advance_seconds": 12 * 3600 + 60}),
    );
    std::thread::sleep(std::time::Duration::from_secs(2));
    let ended = env.run(&["credential-process", "alice"], "");
    assert_ne!(ended.code, Some(0));
    assert!(
        ended.stderr.contains("keyfob login-session login alice"),
        "{}",
        ended.stderr
    );
    let signed_in = with_browser(
        &env,
        &hint,
        &[],
        &["login-session", "login", "alice", "--pin-stdin"],
        &format!("{PIN}\n"),
    )
    .ok();
    assert!(
        signed_in.stdout.contains("Signed in"),
        "{}",
        signed_in.stdout
    );
    let s = status(env.moto, &arn);
    assert_eq!(s["codes_redeemed"].as_u64(), Some(2), "{s}");
    // A new sign-in, a new key.
    assert_eq!(s["dpop_thumbprints"].as_array().unwrap().len(), 2, "{s}");
    assert_eq!(
        arn_of(env.aws_v2_current(&["sts", "get-caller-identity", "--profile", "alice"])),
        arn
    );

    // Signed out: revoked at AWS, and the profile says to sign in again.
    let out = env
        .run(
            &["login-session", "logout", "alice", "--pin-stdin"],
            &format!("{PIN}\n"),
        )
        .ok();
    assert!(out.stdout.contains("Signed out"), "{}", out.stdout);
    let s = status(env.moto, &arn);
    assert_eq!(s["revocations"].as_u64(), Some(1), "{s}");
    assert_eq!(s["active_families"].as_u64(), Some(0), "{s}");
    // The agent let go of it: the PIN opens it, and it says to sign in.
    let locked = env.run(&["credential-process", "alice"], "");
    assert_ne!(locked.code, Some(0));
    let refused = env.run(&["unlock", "alice", "--pin-stdin"], &format!("{PIN}\n"));
    assert_ne!(refused.code, Some(0));
    assert!(
        refused.stderr.contains("signed out")
            && refused.stderr.contains("login-session login alice"),
        "{}",
        refused.stderr
    );
    assert_no_secret_leaked(&env, &format!("{}{}", added.stderr, added.stdout));
    env.stop_agent();
}

/// Every file of the world but the stand-in browser's own log (the
/// test's, written as the browser gets keyfob's page, maybe after keyfob
/// is done).
fn keyfobs_files(env: &Env) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut files = env.snapshot();
    files.retain(|(p, _)| !p.ends_with("browser.log"));
    files
}

/// A sign-in the person refuses in the browser, a sign-in as another user
/// on `login`, and bad fields: one clear line each, nothing stored.
#[test]
fn refusals_and_bad_fields_store_nothing() {
    let env = Env::new();
    let (_, denied) = console_user(env.moto, serde_json::json!({"consent": "deny"}));
    let before = keyfobs_files(&env);
    let out = add(&env, &denied, "bob", &[]);
    assert_ne!(out.code, Some(0));
    assert!(
        out.stderr.contains("access_denied") || out.stderr.contains("refused"),
        "{}",
        out.stderr
    );
    assert_eq!(keyfobs_files(&env), before);
    for (args, needle) in [
        (
            vec![
                "login-session",
                "add",
                "bad name",
                "--region",
                "us-east-1",
                "--pin-stdin",
            ],
            "identity name",
        ),
        (
            vec![
                "login-session",
                "add",
                "carol",
                "--region",
                "moon-1",
                "--pin-stdin",
            ],
            "region",
        ),
        (
            vec![
                "login-session",
                "add",
                "carol",
                "--region",
                "us-east-1",
                "--endpoint-url",
                "http://example.com",
                "--pin-stdin",
            ],
            "endpoint URL",
        ),
    ] {
        let run = env.run(&args, &format!("{PIN}\n"));
        run.refused(2, needle);
    }
    env.run(
        &["login-session", "login", "nobody", "--pin-stdin"],
        &format!("{PIN}\n"),
    )
    .refused(1, "no identity named nobody");
    let short = env.run(
        &[
            "login-session",
            "add",
            "carol",
            "--region",
            "us-east-1",
            "--pin-stdin",
        ],
        "12\n",
    );
    short.refused(2, "PIN");
    assert_eq!(keyfobs_files(&env), before);

    // The identity is one user's: another user's sign-in is refused.
    let (arn, alice) = console_user(env.moto, serde_json::json!({}));
    add(&env, &alice, "alice", &[]).ok();
    let (_, mallory) = console_user(env.moto, serde_json::json!({}));
    let other = with_browser(
        &env,
        &mallory,
        &[],
        &["login-session", "login", "alice", "--pin-stdin"],
        &format!("{PIN}\n"),
    );
    assert_ne!(other.code, Some(0));
    assert!(other.stderr.contains(&arn), "{}", other.stderr);
    env.stop_agent();
}

/// The AWS CLI 2.38's own `aws login` sessions moved in one command: a dry
/// run changes nothing; the import proves each session with a refresh,
/// seals it, makes the profile keyfob's (its login_session replaced by
/// credential_process) and removes the CLI's plaintext cache on --yes; a
/// broken cache file and a root user's sign-in are refused, each with its
/// reason; no issued secret is left in any file.
#[test]
fn import_from_aws_login_moves_the_clis_sessions() {
    let env = Env::new();
    let (arn, hint) = console_user(env.moto, serde_json::json!({}));
    let endpoint = env.moto.endpoint();
    let mut login = env.command(
        &std::env::var("KEYFOB_TEST_AWS_CLI_V2").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/target/awscli-v2/dist/aws").to_owned()
        }),
    );
    login
        .env("AWS_ENDPOINT_URL_SIGNIN", &endpoint)
        .env("BROWSER", BROWSER)
        .env("KEYFOB_TEST_SIGNIN_USER", &hint);
    run_command(
        login,
        &["login", "--profile", "dev", "--region", "us-east-1"],
        "",
    )
    .ok();
    let cache = env.home().join(".aws/login/cache");
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 1);
    // A broken item and a root user's sign-in beside it.
    let account = arn.split(':').nth(4).unwrap().to_owned();
    let root = format!("arn:aws:iam::{account}:root");
    let broken = format!("arn:aws:iam::{account}:user/broken");
    let config = env.home().join(".aws/config");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[profile rooted]\nlogin_session = {root}\n\n[profile broken]\nlogin_session = {broken}\n"
    ));
    std::fs::write(&config, text).unwrap();
    let real = std::fs::read_dir(&cache)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    use sha2::Digest;
    let name = |s: &str| cache.join(format!("{}.json", hex::encode(sha2::Sha256::digest(s))));
    std::fs::copy(&real, name(&root)).unwrap();
    std::fs::write(name(&broken), "{\"clientId\": \"x\"").unwrap();

    let before = env.snapshot();
    let dry = env
        .run(&["import", "--from", "aws-login", "--dry-run"], "")
        .ok();
    assert!(
        dry.stdout.contains("Would import profile dev")
            || dry.stderr.contains("Would import profile dev"),
        "{}{}",
        dry.stdout,
        dry.stderr
    );
    let said = format!("{}{}", dry.stdout, dry.stderr);
    assert!(said.contains("root user"), "{said}");
    assert!(said.contains("profile broken"), "{said}");
    assert_eq!(env.snapshot(), before, "the dry run changed something");

    let done = env
        .run(
            &["import", "--from", "aws-login", "--pin-stdin", "--yes"],
            &format!("{PIN}\n"),
        )
        .ok();
    let said = format!("{}{}", done.stdout, done.stderr);
    assert!(said.contains("Imported profile dev"), "{said}");
    assert!(
        !name(&arn).exists() && !real.exists(),
        "the CLI's cache is still there"
    );
    let config_text = std::fs::read_to_string(&config).unwrap();
    let dev = config_text.split("[profile dev]").nth(1).unwrap();
    let dev = dev.split("\n[").next().unwrap();
    assert!(dev.contains("credential_process"), "{dev}");
    assert!(!dev.contains("login_session"), "{dev}");
    env.run(&["unlock", "dev", "--pin-stdin"], &format!("{PIN}\n"))
        .ok();
    assert_eq!(
        arn_of(env.aws_v2_current(&["sts", "get-caller-identity", "--profile", "dev"])),
        arn
    );
    let secrets = env.moto.test_get("/keyfob-test/signin/issued-secrets")["secrets"]
        .as_array()
        .unwrap()
        .clone();
    // The refresh token the CLI had was rotated away by the proof.
    let s = status(env.moto, &arn);
    assert!(s["refreshes"].as_u64().unwrap() >= 1, "{s}");
    for secret in &secrets {
        let secret = secret.as_str().unwrap();
        let files: Vec<_> = env
            .files_containing(secret)
            .into_iter()
            .filter(|f| !f.starts_with(&cache))
            .collect();
        assert_eq!(files, Vec::<std::path::PathBuf>::new());
    }
    env.stop_agent();
}

/// The code a cross-device sign-in's page shows, fetched as the person's
/// other device would (following the authorize page's redirect).
fn code_from_page(url: &str, hint: &str) -> String {
    let url = format!("{url}&login_hint={}", hint.replace('/', "%2F"));
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import re, sys, urllib.request; page = urllib.request.urlopen(sys.argv[1], timeout=20).read().decode(); print(re.search(r'id=\"verification-code\">([^<]+)<', page).group(1))",
            &url,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A new user at a terminal (tmux), as they would do it: `login-session
/// add --remote` asks the PIN twice, prints the page to open on another
/// device, and reads the code that page shows; a code that is not one is
/// refused in one line and nothing is stored; the right one signs in, and
/// the AWS CLI uses the profile at once. Then Identity Center the same
/// way: `sso add` with a browser that follows the redirect.
#[test]
fn a_new_user_at_a_terminal_signs_in_from_another_device() {
    let env = Env::new();
    let (arn, hint) = console_user(env.moto, serde_json::json!({}));
    let tmux = crate::approvals::Tmux::start(&env);
    let before = env.snapshot();
    tmux.run(
        "bad",
        "keyfob login-session add bob --region us-east-1 --remote; echo EXIT=$?",
    );
    tmux.wait_for("bad", "Identity PIN (at least 6 characters)");
    tmux.keys("bad", PIN);
    tmux.wait_for("bad", "Identity PIN again");
    tmux.keys("bad", PIN);
    tmux.wait_for("bad", "Enter the authorization code");
    tmux.keys("bad", "not-a-code");
    let screen = tmux.wait_for("bad", "EXIT=");
    assert!(screen.contains("EXIT=2"), "{screen}");
    assert!(
        screen.contains("sign-in code: is not what the sign-in page shows"),
        "{screen}"
    );
    assert_eq!(env.snapshot(), before);

    tmux.run(
        "add",
        "keyfob login-session add bob --region us-east-1 --remote; echo EXIT=$?",
    );
    tmux.wait_for("add", "Identity PIN (at least 6 characters)");
    tmux.keys("add", PIN);
    tmux.wait_for("add", "Identity PIN again");
    tmux.keys("add", PIN);
    let screen = tmux.wait_for("add", "Enter the authorization code");
    let url = screen
        .lines()
        .find(|l| l.contains("/v1/authorize?"))
        .unwrap()
        .trim()
        .to_owned();
    assert!(url.contains("devtools%2Fcross-device"), "{url}");
    tmux.keys("add", &code_from_page(&url, &hint));
    let screen = tmux.wait_for("add", "EXIT=");
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(
        screen.contains("Added AWS sign-in identity bob"),
        "{screen}"
    );
    assert_eq!(
        arn_of(env.aws_v2_current(&["sts", "get-caller-identity", "--profile", "bob"])),
        arn
    );
    let s = status(env.moto, &arn);
    assert_eq!(
        s["families"][0]["client_id"],
        "arn:aws:signin:::devtools/cross-device"
    );
    // Removed as any identity: its sealed sign-in, its profile, its
    // AWS config section.
    let gone = env.run(&["remove", "bob", "--yes"], "").ok();
    assert!(gone.stdout.contains("bob"), "{}", gone.stdout);
    let listed: Vec<serde_json::Value> =
        serde_json::from_str(&env.run(&["list", "--json"], "").ok().stdout).unwrap();
    assert!(listed.iter().all(|i| i["name"] != "bob"), "{listed:?}");
    let config = std::fs::read_to_string(env.home().join(".aws/config")).unwrap();
    assert!(!config.contains("[profile bob]"), "{config}");

    // Identity Center: the browser sign-in by default, the browser
    // following the redirect to keyfob's loopback.
    let inst = crate::sso::configure(env.moto, 1, serde_json::json!({"browser_user": "alice"}));
    tmux.run(
        "sso",
        &format!(
            "BROWSER={BROWSER} keyfob sso add corp --start-url {} --region {}; echo EXIT=$?",
            inst.start_url, inst.region
        ),
    );
    tmux.wait_for("sso", "Identity PIN (at least 6 characters)");
    tmux.keys("sso", PIN);
    tmux.wait_for("sso", "Identity PIN again");
    tmux.keys("sso", PIN);
    let screen = tmux.wait_for("sso", "EXIT=");
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(!screen.contains("shows the code"), "{screen}");
    env.run(&["sso", "sync", "corp", "--pin-stdin"], &format!("{PIN}\n"))
        .ok();
    env.run(
        &["unlock", "acct-0-Admin", "--pin-stdin"],
        &format!("{PIN}\n"),
    )
    .ok();
    let sso_arn =
        arn_of(env.aws_v2_current(&["sts", "get-caller-identity", "--profile", "acct-0-Admin"]));
    crate::sso::assert_sso_arn(&sso_arn, "111100000000", "Admin");
    env.stop_agent();
}

/// The attack "the agent trusts no client", for this kind: a program that
/// asks for an AWS sign-in's credentials with every endpoint variable
/// pointed at a hostile endpoint makes the renewal (refresh token and DPoP
/// proof) go to the Sign-In endpoint the identity was added with, and the
/// hostile endpoint receives nothing, before the agent runs or after.
#[test]
fn a_clients_endpoint_variables_never_receive_the_refresh_token() {
    let env = Env::new();
    let (arn, hint) = console_user(env.moto, serde_json::json!({"credential_seconds": 301}));
    add(&env, &hint, "alice", &[]).ok();
    let hostile = crate::util::Hostile::start();
    let hostile_run = |args: &[&str], stdin: &str| {
        let mut cmd = env.keyfob();
        for var in [
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_SIGNIN",
            "AWS_ENDPOINT_URL_STS",
        ] {
            cmd.env(var, hostile.endpoint());
        }
        run_command(cmd, args, stdin)
    };
    // Warm from the agent, then (past the credentials' margin) renewed.
    for _ in 0..2 {
        let out = hostile_run(&["credential-process", "alice"], "").ok();
        let creds: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert!(!creds["AccessKeyId"].as_str().unwrap().contains("HOSTILE"));
        std::thread::sleep(std::time::Duration::from_secs(2));
    }
    // An agent started by the hostile environment itself.
    env.stop_agent();
    hostile_run(&["unlock", "alice", "--pin-stdin"], &format!("{PIN}\n")).ok();
    hostile_run(&["credential-process", "alice"], "").ok();
    assert!(status(env.moto, &arn)["refreshes"].as_u64().unwrap() >= 2);
    assert_eq!(hostile.requests(), Vec::<serde_json::Value>::new());
    env.stop_agent();
}

/// Eight programs asking at once for an AWS sign-in's credentials when
/// they are due: one renewal at AWS Sign-In (one refresh token spent, not
/// eight racing ones, which would end the sign-in), and all eight get the
/// same new credentials.
#[test]
fn parallel_callers_share_one_renewal() {
    let env = Env::new();
    // Fresh for 30 s past the 5-minute margin: the seven waiters find the
    // first one's renewal long before it is due again, however slow the
    // machine.
    let (arn, hint) = console_user(env.moto, serde_json::json!({"credential_seconds": 330}));
    add(&env, &hint, "alice", &[]).ok();
    let first = env.run(&["credential-process", "alice"], "").ok();
    let first: serde_json::Value = serde_json::from_str(&first.stdout).unwrap();
    let before = status(env.moto, &arn)["refreshes"].as_u64().unwrap();
    std::thread::sleep(std::time::Duration::from_secs(31));
    let runs: Vec<Run> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| env.run(&["credential-process", "alice"], "")))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let keys: std::collections::BTreeSet<String> = runs
        .into_iter()
        .map(|r| {
            let r = r.ok();
            let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
            v["AccessKeyId"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(!keys.contains(first["AccessKeyId"].as_str().unwrap()));
    let s = status(env.moto, &arn);
    assert_eq!(s["refreshes"].as_u64().unwrap(), before + 1, "{s}");
    assert_eq!(s["active_families"].as_u64(), Some(1), "{s}");
    env.stop_agent();
}
