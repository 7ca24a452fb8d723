//! `keyfob import --from aws-vault` against aws-vault's stores as aws-vault
//! v7.2.0 (github.com/99designs/keyring v1.2.2) writes them, built by
//! tests/support/aws_vault_store.py (which cites the sources): items in the
//! Secret Service collection `awsvault` of this world's gnome-keyring, and
//! JWE files in ~/.awsvault/keys/. Keys are verified with the emulator.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::util::{Env, Run, User, arn_of, create_role, run_command, support, unique};

const PIN: &str = "pin-Av42-import";
const PASSPHRASE: &str = "aws-vault file passphrase";

fn user(env: &Env, base: &str) -> User {
    serde_json::from_value(env.moto.admin(&["create-user", &unique(base)])).unwrap()
}

/// Marks `user`'s key as a root user's (tests/support/moto_launcher.py T10).
fn make_root(env: &Env, user: &User) {
    let body = json!({ "access_key_id": user.access_key_id }).to_string();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", env.moto.info.port)).unwrap();
    write!(
        stream,
        "POST /keyfob-test/root-key HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.contains("\"ok\""), "{response}");
}

/// Runs tests/support/aws_vault_store.py in this world (its D-Bus).
fn store(env: &Env, args: &[&str], input: &Value) -> String {
    let script = support("aws_vault_store.py");
    let mut all = vec![script.to_str().unwrap()];
    all.extend_from_slice(args);
    let run = run_command(env.command("python3"), &all, &input.to_string());
    assert_eq!(
        run.code,
        Some(0),
        "aws_vault_store.py {args:?}: {}",
        run.stderr
    );
    run.stdout
}

/// The labels of the items in aws-vault's collection.
fn labels(env: &Env) -> Vec<String> {
    let items: Vec<Value> =
        serde_json::from_str(&store(env, &["list", "awsvault"], &json!(null))).unwrap();
    let mut labels: Vec<String> = items
        .iter()
        .map(|i| i["label"].as_str().unwrap().to_owned())
        .collect();
    labels.sort();
    labels
}

fn key_files(env: &Env) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(keys_dir(env))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn keys_dir(env: &Env) -> PathBuf {
    env.home().join(".awsvault/keys")
}

/// `keyfob import --from aws-vault ARGS` with the file backend's
/// passphrase in the environment, as aws-vault reads it.
fn import(env: &Env, passphrase: &str, args: &[&str], stdin: &str) -> Run {
    let mut cmd = env.keyfob();
    cmd.env("AWS_VAULT_FILE_PASSPHRASE", passphrase);
    let mut all = vec!["import", "--from", "aws-vault"];
    all.extend_from_slice(args);
    run_command(cmd, &all, stdin)
}

fn long_term(key: &str, user: &User) -> Value {
    json!({"key": key, "credentials": {
        "AccessKeyID": user.access_key_id, "SecretAccessKey": user.secret_access_key}})
}

/// A session aws-vault cached (vault/sessionkeyring.go's key form: type,
/// base64url profile, base64url MFA serial, expiry).
fn session(key: &str) -> Value {
    json!({"key": key, "session": {
        "AccessKeyId": "ASIAY34FZKBOKMUTVV7A",
        "SecretAccessKey": "session/secret/that/must/stay/put/xxxxxxxx",
        "SessionToken": "FwoGZXIvYXdzEXAMPLE",
        "Expiration": "2099-01-01T00:00:00Z"}})
}

fn assert_lines(run: &Run, needles: &[&str]) {
    for needle in needles {
        assert!(
            run.stdout.contains(needle),
            "stdout lacks {needle:?}:\n{}\nstderr: {}",
            run.stdout,
            run.stderr
        );
    }
}

fn files_with(env: &Env, secret: &str) -> Vec<PathBuf> {
    env.files_containing(secret)
}

#[test]
fn import_from_aws_vault_takes_both_stores_after_a_dry_run_that_changes_nothing() {
    let env = Env::new();
    let dev = user(&env, "av-dev");
    let ops = user(&env, "av-ops");
    let root = user(&env, "av-root");
    make_root(&env, &root);
    store(
        &env,
        &["secret-service", "awsvault"],
        &json!([
            long_term("dev", &dev),
            long_term("rooty", &root),
            session("sts.GetSessionToken,ZGV2,,4070908800"),
            {"key": "broken", "raw": "{this is not keyring's JSON"},
            {"key": "oidc:https://example.awsapps.com/start", "raw": "{}"},
        ]),
    );
    let dir = keys_dir(&env);
    store(
        &env,
        &["file", dir.to_str().unwrap(), PASSPHRASE],
        &json!([
            long_term("ops", &ops),
            session("sts.AssumeRole,b3Bz,,4070908800"),
            {"key": "garbled", "raw": "{\"Data\": 42}"},
        ]),
    );
    // A file that is no JWE at all.
    std::fs::write(dir.join("truncated"), "eyJhbGciOiJQQkVTMi").unwrap();
    let role = create_role(&env, "AvAdmin", None);
    let aws = env.home().join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::write(
        aws.join("config"),
        format!(
            "[profile dev]\nregion = eu-west-1\n\n[profile admin]\nsource_profile = ops\nrole_arn = {role}\nrole_session_name = av-admin\nsession_tags = team=infra, env = test\ntransitive_session_tags = team\ninclude_profile = dev\nmfa_process = ykman oath accounts code\n"
        ),
    )
    .unwrap();
    let before_labels = labels(&env);
    assert_eq!(before_labels.len(), 5, "{before_labels:?}");
    let before_files = key_files(&env);
    assert_eq!(before_files.len(), 4, "{before_files:?}");

    // The dry run: every item judged, nothing changed anywhere.
    env.agent();
    let snapshot = env.snapshot();
    let dry = import(&env, PASSPHRASE, &["--dry-run"], "").ok();
    assert_lines(
        &dry,
        &[
            "Would import aws-vault key dev (Secret Service collection awsvault)",
            "as identity dev",
            "Would import aws-vault key rooty",
            "Would import aws-vault key ops (file ",
            "Skipping aws-vault key sts.GetSessionToken,ZGV2,,4070908800 (Secret Service collection awsvault): a session aws-vault caches",
            "Skipping aws-vault key sts.AssumeRole,b3Bz,,4070908800 (file ",
            "Skipping aws-vault key broken (Secret Service collection awsvault): its data is not keyring's JSON",
            "Skipping aws-vault key oidc:https://example.awsapps.com/start (Secret Service collection awsvault): an Identity Center token",
            "Skipping aws-vault key garbled (file ",
            "Skipping aws-vault key truncated (file ",
            "not an encrypted item of the expected kind",
            "it would be removed from aws-vault's Secret Service collection awsvault",
            "it would be removed from aws-vault's file backend",
            "Would convert role profile admin (identity ops)",
            "Profile admin: not imported (keyfob has no such setting): include_profile, mfa_process.",
            "Dry run: nothing was changed.",
        ],
    );
    assert!(env.snapshot() == snapshot, "the dry run changed a file");
    assert_eq!(labels(&env), before_labels);
    assert_eq!(key_files(&env), before_files);
    assert_eq!(env.keyring_items(), 0, "{}", env.keyring_dump());

    // The import: three PINs asked (dev, rooty, ops), the root key refused
    // after STS said whose it is; --yes removes what is in the vault now.
    let run = import(
        &env,
        PASSPHRASE,
        &["--pin-stdin", "--yes"],
        &format!("{PIN}\n{PIN}-root\n{PIN}-ops\n"),
    )
    .ok();
    assert_lines(
        &run,
        &[
            "Imported aws-vault key dev (Secret Service collection awsvault) as identity dev",
            "Imported aws-vault key ops (file ",
            "Not importing aws-vault key rooty (Secret Service collection awsvault): these are a root user's keys",
            "or add them with keyfob add --allow-root if you must.",
            "Converted role profile admin (identity ops",
            "Removed dev from aws-vault's Secret Service collection awsvault.",
            "Removed ops from aws-vault's file backend",
        ],
    );
    // What was imported left aws-vault; the rest stayed as it was.
    let mut left = before_labels.clone();
    left.retain(|l| l != "dev");
    assert_eq!(labels(&env), left);
    assert_eq!(
        key_files(&env),
        ["garbled", "sts.AssumeRole,b3Bz,,4070908800", "truncated"]
    );
    // No secret of an imported key in any file of this world (the vault
    // holds them sealed; gnome-keyring's own files are encrypted).
    for secret in [&dev.secret_access_key, &ops.secret_access_key] {
        assert_eq!(files_with(&env, secret), Vec::<PathBuf>::new());
    }
    let list = env.run(&["list"], "").ok().stdout;
    assert!(list.contains("dev") && list.contains("ops"), "{list}");
    assert!(!list.contains("rooty"), "{list}");

    // The identities work through the AWS CLI, with aws-vault's settings.
    env.run(&["unlock", "ops", "--pin-stdin"], &format!("{PIN}-ops\n"))
        .ok();
    assert_eq!(
        arn_of(env.aws_v1(&["sts", "get-caller-identity", "--profile", "ops"])),
        ops.arn
    );
    let settings =
        std::fs::read_to_string(env.root.path().join("config/keyfob/config.toml")).unwrap();
    for needle in ["eu-west-1", "av-admin", "infra", "team"] {
        assert!(settings.contains(needle), "{needle}: {settings}");
    }
    let config = std::fs::read_to_string(aws.join("config")).unwrap();
    assert!(config.contains("credential-process admin"), "{config}");
}

#[test]
fn a_wrong_aws_vault_passphrase_names_the_file_and_imports_nothing() {
    let env = Env::new();
    let ops = user(&env, "av-pass");
    let dev = user(&env, "av-pass-ss");
    store(
        &env,
        &["secret-service", "awsvault"],
        &json!([long_term("dev", &dev)]),
    );
    let dir = keys_dir(&env);
    store(
        &env,
        &["file", dir.to_str().unwrap(), PASSPHRASE],
        &json!([long_term("ops", &ops)]),
    );
    env.agent();
    let snapshot = env.snapshot();
    let refused = import(
        &env,
        "not the passphrase",
        &["--pin-stdin", "--yes"],
        &format!("{PIN}\n{PIN}\n"),
    )
    .refused(2, "the passphrase does not open");
    assert!(
        refused
            .stderr
            .contains(&Path::new(&dir).join("ops").display().to_string()),
        "{}",
        refused.stderr
    );
    // Nothing sealed, nothing removed, the secrets nowhere new.
    assert!(
        env.snapshot() == snapshot,
        "a refused import changed a file"
    );
    assert_eq!(env.keyring_items(), 0, "{}", env.keyring_dump());
    assert_eq!(labels(&env), ["dev"]);
    assert_eq!(key_files(&env), ["ops"]);
}

#[test]
fn aws_vault_keeps_its_keys_until_a_yes_and_a_later_yes_removes_them() {
    let env = Env::new();
    let dev = user(&env, "av-keep");
    store(
        &env,
        &["secret-service", "awsvault"],
        &json!([long_term("dev", &dev)]),
    );
    // A script without --yes: imported, and aws-vault keeps its copy.
    let run = import(&env, PASSPHRASE, &["--pin-stdin"], &format!("{PIN}\n")).ok();
    assert_lines(
        &run,
        &[
            "Imported aws-vault key dev",
            "aws-vault's Secret Service collection awsvault still holds the keys of dev (now in the vault)",
        ],
    );
    assert_eq!(labels(&env), ["dev"]);
    // Run again with --yes: the key is known, nothing asked, the copy goes.
    let again = import(&env, PASSPHRASE, &["--yes"], "").ok();
    assert_lines(
        &again,
        &[
            "is already in the vault, as identity dev.",
            "Removed dev from aws-vault's Secret Service collection awsvault.",
        ],
    );
    assert_eq!(labels(&env), Vec::<String>::new());
    assert_eq!(
        files_with(&env, &dev.secret_access_key),
        Vec::<PathBuf>::new()
    );
}

#[test]
fn a_dry_run_of_the_credentials_file_import_changes_nothing() {
    let env = Env::new();
    let dev = user(&env, "cf-dry");
    let aws = env.home().join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::write(
        aws.join("credentials"),
        format!(
            "[dev]\naws_access_key_id = {}\naws_secret_access_key = {}\n\n[temp]\naws_access_key_id = ASIAY34FZKBOKMUTVV7A\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\naws_session_token = abc\n",
            dev.access_key_id, dev.secret_access_key
        ),
    )
    .unwrap();
    let role = create_role(&env, "CfDry", None);
    std::fs::write(
        aws.join("config"),
        format!("[profile admin]\nrole_arn = {role}\nsource_profile = dev\n"),
    )
    .unwrap();
    env.agent();
    let snapshot = env.snapshot();
    let dry = env.run(&["import", "--dry-run"], "").ok();
    assert_lines(
        &dry,
        &[
            "Skipping [temp]: a temporary key",
            "Would import [dev] (AKIA",
            "as identity dev, once STS verifies it",
            "its key would then be removed from ",
            "Would convert role profile admin (identity dev)",
            "Dry run: nothing was changed.",
        ],
    );
    assert!(env.snapshot() == snapshot, "the dry run changed a file");
    assert_eq!(env.keyring_items(), 0, "{}", env.keyring_dump());
}

#[test]
fn import_from_granted_takes_its_iam_credentials_and_their_profiles() {
    let env = Env::new();
    let dev = user(&env, "gr-dev");
    let ops = user(&env, "gr-ops");
    let granted_key = |key: &str, user: &User| {
        json!({"key": key, "granted": {
            "AccessKeyID": user.access_key_id, "SecretAccessKey": user.secret_access_key}})
    };
    // granted's keyring (pkg/securestorage/securestorage.go): collection
    // granted-aws-iam-credentials, files in
    // ~/.granted/secure-storage-aws-iam-credentials.
    store(
        &env,
        &["secret-service", "granted-aws-iam-credentials"],
        &json!([granted_key("gdev", &dev)]),
    );
    let dir = env
        .home()
        .join(".granted/secure-storage-aws-iam-credentials");
    store(
        &env,
        &["file", dir.to_str().unwrap(), "granted file passphrase"],
        &json!([granted_key("gops", &ops)]),
    );
    let aws = env.home().join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    // What `granted credentials add` writes (pkg/granted/credentials.go).
    std::fs::write(
        aws.join("config"),
        "[profile gdev]\ncredential_process = granted credential-process --profile=gdev\nregion = eu-central-1\n",
    )
    .unwrap();
    let mut cmd = env.keyfob();
    cmd.env("CF_KEYRING_FILE_PASSWORD", "granted file passphrase");
    let run = run_command(
        cmd,
        &["import", "--from", "granted", "--pin-stdin", "--yes"],
        &format!("{PIN}\n{PIN}-ops\n"),
    )
    .ok();
    assert_lines(
        &run,
        &[
            "Imported granted key gdev (Secret Service collection granted-aws-iam-credentials) as identity gdev",
            "Imported granted key gops (file ",
            "Profile gdev: not imported (keyfob has no such setting): credential_process (replaced by keyfob's).",
            "Removed gdev from granted's Secret Service collection granted-aws-iam-credentials.",
            "Removed gops from granted's file backend",
        ],
    );
    assert!(dir.read_dir().unwrap().next().is_none());
    let config = std::fs::read_to_string(aws.join("config")).unwrap();
    assert!(!config.contains("granted credential-process"), "{config}");
    assert!(config.contains("credential-process gdev"), "{config}");
    env.run(&["unlock", "gdev", "--pin-stdin"], &format!("{PIN}\n"))
        .ok();
    assert_eq!(
        arn_of(env.aws_v1(&["sts", "get-caller-identity", "--profile", "gdev"])),
        dev.arn
    );
    for secret in [&dev.secret_access_key, &ops.secret_access_key] {
        assert_eq!(files_with(&env, secret), Vec::<PathBuf>::new());
    }
}

/// At a terminal: the file passphrase is asked (hidden) when no variable
/// gives it, each key and its PIN are asked, then one question per store
/// about aws-vault's copies: yes removes the Secret Service item, no
/// keeps the file and says so.
#[test]
fn at_a_terminal_each_store_is_asked_about_its_copies() {
    let env = Env::new();
    let dev = user(&env, "av-tty-dev");
    let ops = user(&env, "av-tty-ops");
    store(
        &env,
        &["secret-service", "awsvault"],
        &json!([long_term("dev", &dev)]),
    );
    let dir = keys_dir(&env);
    store(
        &env,
        &["file", dir.to_str().unwrap(), PASSPHRASE],
        &json!([long_term("ops", &ops)]),
    );
    let tmux = crate::approvals::Tmux::start(&env);
    tmux.run("imp", "keyfob import --from aws-vault; echo EXIT=$?");
    tmux.wait_for("imp", "Passphrase of aws-vault's file backend");
    tmux.keys("imp", PASSPHRASE);
    for (name, pin) in [("dev", PIN.to_owned()), ("ops", format!("{PIN}-ops"))] {
        tmux.wait_for("imp", &format!("Import aws-vault key {name} ("));
        tmux.keys("imp", "y");
        tmux.wait_for("imp", &format!("PIN for identity {name}"));
        tmux.keys("imp", &pin);
        tmux.wait_for("imp", "Same PIN again");
        tmux.keys("imp", &pin);
        tmux.wait_for("imp", &format!("as identity {name} (account"));
    }
    tmux.wait_for(
        "imp",
        "The keys of dev are in the vault now; remove them from aws-vault's Secret Service collection awsvault?",
    );
    tmux.keys("imp", "y");
    tmux.wait_for(
        "imp",
        "Removed dev from aws-vault's Secret Service collection awsvault.",
    );
    tmux.wait_for(
        "imp",
        "The keys of ops are in the vault now; remove them from aws-vault's file backend",
    );
    tmux.keys("imp", "n");
    let screen = tmux.wait_for("imp", "EXIT=");
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(
        screen.contains("still holds the keys of ops (now in the vault)"),
        "{screen}"
    );
    // Neither the passphrase nor a PIN was echoed.
    assert!(
        !screen.contains(PASSPHRASE) && !screen.contains(PIN),
        "{screen}"
    );
    assert_eq!(labels(&env), Vec::<String>::new());
    assert_eq!(key_files(&env), ["ops"]);
}

/// The stand-in browser (tests/support/sso_browser.py) that follows the
/// emulator's redirect to keyfob's loopback, as tests/sso_browser.rs uses it.
const BROWSER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/sso_browser.py");

/// `keyfob import --from aws-cli-sso ARGS` with the stand-in browser.
fn import_sso(env: &Env, args: &[&str], stdin: &str) -> Run {
    let mut cmd = env.keyfob();
    cmd.env("BROWSER", BROWSER)
        .env("KEYFOB_TEST_BROWSER_MODE", "follow")
        .env("KEYFOB_TEST_BROWSER_LOG", env.home().join("browser.log"));
    let mut all = vec!["import", "--from", "aws-cli-sso"];
    all.extend_from_slice(args);
    run_command(cmd, &all, stdin)
}

fn sha1_hex(text: &str) -> String {
    hex::encode(ring::digest::digest(
        &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        text.as_bytes(),
    ))
}

/// What `aws sso login` leaves in the clear (botocore `SSOTokenLoader`,
/// `JSONFileCache`): ~/.aws/sso/cache/<sha1 of the session name, or of
/// the start URL for legacy profiles>.json.
fn aws_cli_token(env: &Env, key: &str, start_url: &str, token: &str) -> PathBuf {
    let dir = env.home().join(".aws/sso/cache");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{}.json", sha1_hex(key)));
    std::fs::write(
        &path,
        json!({"startUrl": start_url, "region": "eu-west-1", "accessToken": token,
            "expiresAt": "2099-01-01T00:00:00Z", "clientId": "cid", "clientSecret": format!("{token}-client"),
            "registrationExpiresAt": "2099-01-01T00:00:00Z", "refreshToken": format!("{token}-refresh")})
        .to_string(),
    )
    .unwrap();
    path
}

/// What the AWS CLI caches of a profile's role credentials
/// (`SSOCredentialFetcher._create_cache_key`, ~/.aws/cli/cache).
fn aws_cli_role_cache(env: &Env, args: &Value, secret: &str) -> PathBuf {
    let dir = env.home().join(".aws/cli/cache");
    std::fs::create_dir_all(&dir).unwrap();
    // serde_json's map is sorted and compact, as json.dumps(sort_keys=True,
    // separators=(',', ':')) writes it.
    let path = dir.join(format!("{}.json", sha1_hex(&args.to_string())));
    std::fs::write(
        &path,
        json!({"ProviderType": "sso", "Credentials": {"AccessKeyId": "ASIAY34FZKBOKMUTVV7A",
            "SecretAccessKey": secret, "SessionToken": "tok", "Expiration": "2099-01-01T00:00:00Z"}})
        .to_string(),
    )
    .unwrap();
    path
}

/// The AWS CLI v2's Identity Center setup (an sso-session with three
/// profiles, one of them only for signing in; a session whose name is no
/// identity name; a legacy profile with its own start URL; broken
/// profiles) becomes keyfob's: the dry run says all of it and changes
/// nothing; the import signs each session in through keyfob's browser
/// sign-in, makes the profiles keyfob's under the same names, removes the
/// AWS CLI's plaintext token and role caches of them (and only those) on
/// --yes, and the AWS CLI 2.38 then gets role credentials through
/// credential_process. No issued secret is in a file afterwards.
#[test]
fn import_from_aws_cli_sso_signs_in_anew_and_takes_its_profiles() {
    let env = Env::new();
    let browser = json!({"browser_user": "alice"});
    let inst = crate::sso::configure(env.moto, 2, browser.clone());
    let legacy = crate::sso::configure(env.moto, 1, browser);
    let legacy_identity = legacy
        .start_url
        .trim_start_matches("https://")
        .split('.')
        .next()
        .unwrap()
        .to_owned();
    let aws = env.home().join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::write(
        aws.join("config"),
        format!(
            "[sso-session corp]\nsso_start_url = {url}\nsso_region = eu-west-1\nsso_registration_scopes = sso:account:access\n\n\
             [profile dev]\nsso_session = corp\nsso_account_id = 111100000000\nsso_role_name = Admin\nregion = eu-west-2\noutput = json\n\n\
             [profile ro]\nsso_session = corp\nsso_account_id = 111100000000\nsso_role_name = ReadOnly\n\n\
             [profile corp-login]\nsso_session = corp\n\n\
             [profile broken]\nsso_session = corp\nsso_account_id = 12345\nsso_role_name = Admin\n\n\
             [profile orphan]\nsso_session = gone\nsso_account_id = 111100000000\nsso_role_name = Admin\n\n\
             [sso-session team@corp]\nsso_start_url = {url}\nsso_region = eu-west-1\n\n\
             [profile team]\nsso_session = team@corp\nsso_account_id = 111100000001\nsso_role_name = Admin\n\n\
             [profile old]\nsso_start_url = {legacy}\nsso_region = eu-west-1\nsso_account_id = 111100000000\nsso_role_name = Admin\n\n\
             [profile plain]\nregion = us-east-1\n",
            url = inst.start_url,
            legacy = legacy.start_url
        ),
    )
    .unwrap();
    let corp_token = aws_cli_token(&env, "corp", &inst.start_url, "aws-cli-corp-token");
    let legacy_token = aws_cli_token(
        &env,
        &legacy.start_url,
        &legacy.start_url,
        "aws-cli-old-token",
    );
    let other_token = aws_cli_token(
        &env,
        "elsewhere",
        "https://x.awsapps.com/start",
        "aws-cli-other",
    );
    let dev_cache = aws_cli_role_cache(
        &env,
        &json!({"accountId": "111100000000", "roleName": "Admin", "sessionName": "corp"}),
        "aws-cli-dev-role-secret",
    );
    let old_cache = aws_cli_role_cache(
        &env,
        &json!({"accountId": "111100000000", "roleName": "Admin", "startUrl": legacy.start_url}),
        "aws-cli-old-role-secret",
    );

    env.agent();
    let snapshot = env.snapshot();
    let dry = import_sso(&env, &["--dry-run", "--name", "team@corp=team"], "").ok();
    assert_lines(
        &dry,
        &[
            &format!(
                "Would import sso-session corp ({}, eu-west-1) as Identity Center identity corp",
                inst.start_url
            ),
            "Would make profile dev (111100000000 Admin, eu-west-2) a keyfob profile of identity corp",
            "Would make profile ro (111100000000 ReadOnly) a keyfob profile of identity corp",
            "Skipping profile corp-login: it has no sso_account_id and sso_role_name",
            "Skipping profile broken: sso_account_id must be a 12-digit account ID.",
            "Skipping profile orphan: its sso_session gone has no [sso-session gone] section.",
            "Would import sso-session team@corp (",
            "as Identity Center identity team,",
            "Would make profile team (111100000001 Admin) a keyfob profile of identity team",
            &format!("Would import the legacy profiles of {} (", legacy.start_url),
            &format!("as Identity Center identity {legacy_identity},"),
            &format!(
                "On your yes after the sign-in, the AWS CLI's cache {} would be removed.",
                corp_token.display()
            ),
            &format!(
                "the AWS CLI's cache {} would be removed.",
                legacy_token.display()
            ),
            &format!(
                "the AWS CLI's cache {} would be removed.",
                dev_cache.display()
            ),
            &format!(
                "the AWS CLI's cache {} would be removed.",
                old_cache.display()
            ),
            "Dry run: nothing was changed.",
        ],
    );
    assert!(!dry.stdout.contains("plain"), "{}", dry.stdout);
    assert!(!dry.stdout.contains(&other_token.display().to_string()));
    assert!(env.snapshot() == snapshot, "the dry run changed a file");
    assert_eq!(env.keyring_items(), 0, "{}", env.keyring_dump());

    // Without --name, a session whose name is no identity name is said so.
    let dry = import_sso(&env, &["--dry-run"], "").ok();
    assert_lines(
        &dry,
        &[
            "Skipping sso-session team@corp: team@corp is not an identity name (",
            "give it one with --name SESSION=NAME.",
            "Skipping profile team: its sso-session team@corp is not imported.",
        ],
    );

    // The import: two sign-ins through the browser, two PINs.
    let run = import_sso(
        &env,
        &["--pin-stdin", "--yes"],
        &format!("{PIN}\n{PIN}-old\n"),
    )
    .ok();
    assert_lines(
        &run,
        &[
            "Imported sso-session corp as Identity Center identity corp (",
            "Converted profile dev (111100000000 Admin) into a keyfob profile",
            "Converted profile ro (111100000000 ReadOnly) into a keyfob profile",
            &format!(
                "Imported the legacy profiles of {} as Identity Center identity {legacy_identity} (",
                legacy.start_url
            ),
            "Converted profile old (111100000000 Admin) into a keyfob profile",
            &format!(
                "Removed the AWS CLI's cache {} (corp).",
                corp_token.display()
            ),
            &format!(
                "Removed the AWS CLI's cache {} (corp).",
                dev_cache.display()
            ),
            &format!(
                "Removed the AWS CLI's cache {} ({legacy_identity}).",
                legacy_token.display()
            ),
        ],
    );
    assert!(
        run.stderr.contains("open this page in a browser"),
        "{}",
        run.stderr
    );
    for gone in [&corp_token, &legacy_token, &dev_cache, &old_cache] {
        assert!(!gone.exists(), "{} is still there", gone.display());
    }
    assert!(other_token.exists(), "another session's token was removed");
    let config = std::fs::read_to_string(aws.join("config")).unwrap();
    for needle in [
        "credential-process dev",
        "credential-process ro",
        "credential-process old",
        "output = json",
        "[sso-session corp]",
        "[profile corp-login]\nsso_session = corp",
    ] {
        assert!(config.contains(needle), "{needle}: {config}");
    }
    let list = env.run(&["list"], "").ok().stdout;
    assert!(
        list.contains("corp") && list.contains(&legacy_identity),
        "{list}"
    );

    // The AWS CLI 2.38 through keyfob's credential_process.
    env.run(&["unlock", "dev", "--pin-stdin"], &format!("{PIN}\n"))
        .ok();
    let arn = arn_of(env.aws_v2_current(&["sts", "get-caller-identity", "--profile", "dev"]));
    crate::sso::assert_sso_arn(&arn, "111100000000", "Admin");
    env.run(&["unlock", "old", "--pin-stdin"], &format!("{PIN}-old\n"))
        .ok();
    let arn = arn_of(env.aws_v2_current(&["sts", "get-caller-identity", "--profile", "old"]));
    crate::sso::assert_sso_arn(&arn, "111100000000", "Admin");

    // No secret issued to keyfob, and none of the AWS CLI's, in any file.
    for url in [&inst.start_url, &legacy.start_url] {
        for secret in crate::sso::issued_secrets(env.moto, url) {
            assert_eq!(files_with(&env, &secret), Vec::<PathBuf>::new());
        }
    }
    for secret in [
        "aws-cli-corp-token",
        "aws-cli-old-token",
        "aws-cli-dev-role-secret",
        "aws-cli-old-role-secret",
    ] {
        assert_eq!(files_with(&env, secret), Vec::<PathBuf>::new(), "{secret}");
    }
    env.stop_agent();
}

/// Each field of the AWS CLI's Identity Center setup that is wrong is
/// said in one line naming it, and the item is left out; a --name that
/// names nothing, or no identity name, stops the run with one line.
#[test]
fn aws_cli_sso_refuses_each_bad_field_in_one_line() {
    let env = Env::new();
    let aws = env.home().join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    let url = "https://d-9999999999.awsapps.com/start";
    std::fs::write(
        aws.join("config"),
        format!(
            "[sso-session nourl]\nsso_region = eu-west-1\n\n\
             [sso-session http]\nsso_start_url = http://d-1.awsapps.com/start\nsso_region = eu-west-1\n\n\
             [sso-session badregion]\nsso_start_url = {url}\nsso_region = eu west 1\n\n\
             [sso-session badscopes]\nsso_start_url = {url}\nsso_region = eu-west-1\nsso_registration_scopes = sso:account:access, bad scope!\n\n\
             [sso-session good]\nsso_start_url = {url}\nsso_region = eu-west-1\n\n\
             [profile role]\nsso_session = good\nsso_account_id = 111100000000\nsso_role_name = bad role!\n\n\
             [profile norole]\nsso_session = good\nsso_account_id = 111100000000\n\n\
             [profile region]\nsso_session = good\nsso_account_id = 111100000000\nsso_role_name = Admin\nregion = nowhere!\n"
        ),
    )
    .unwrap();
    let dry = import_sso(&env, &["--dry-run"], "").ok();
    let line = |start: &str| {
        let found: Vec<&str> = dry
            .stdout
            .lines()
            .filter(|l| l.starts_with(start))
            .collect();
        assert_eq!(found.len(), 1, "{start}: {}", dry.stdout);
        found[0].to_owned()
    };
    assert!(line("Skipping sso-session nourl:").contains("it has no sso_start_url"));
    assert!(line("Skipping sso-session http:").contains("sso_start_url: start URL"));
    assert!(line("Skipping sso-session badregion:").contains("sso_region: region"));
    assert!(line("Skipping sso-session badscopes:").contains("sso_registration_scopes: scopes"));
    assert!(line("Skipping profile role:").contains("sso_role_name must be"));
    assert!(line("Skipping profile norole:").contains("it has no sso_role_name"));
    assert!(line("Skipping profile region:").contains("region: region"));
    assert!(line("Would import sso-session good").contains("as Identity Center identity good"));

    let snapshot = env.snapshot();
    import_sso(&env, &["--dry-run", "--name", "nothere=x"], "").refused(2, "--name: ");
    import_sso(&env, &["--dry-run", "--name", "good=no good"], "")
        .refused(2, "--name good=no good: ");
    import_sso(&env, &["--dry-run", "--name", "good"], "")
        .refused(2, "--name good: give SESSION=IDENTITY");
    assert!(
        env.snapshot() == snapshot,
        "a refused import changed a file"
    );
}

/// Runs tests/support/leapp_store.py in this world (its D-Bus).
fn leapp(env: &Env, args: &[&str], input: &Value) -> String {
    let script = support("leapp_store.py");
    let mut all = vec![script.to_str().unwrap()];
    all.extend_from_slice(args);
    let run = run_command(env.command("python3"), &all, &input.to_string());
    assert_eq!(run.code, Some(0), "leapp_store.py {args:?}: {}", run.stderr);
    run.stdout
}

/// The accounts of keytar's Leapp items.
fn leapp_items(env: &Env) -> Vec<String> {
    let items: Vec<Value> = serde_json::from_str(&leapp(env, &["list"], &json!(null))).unwrap();
    items
        .iter()
        .map(|i| i["attributes"]["account"].as_str().unwrap().to_owned())
        .collect()
}

fn leapp_workspace(env: &Env) -> PathBuf {
    env.home().join(".Leapp/Leapp-lock.json")
}

/// An AWS IAM User session as Leapp's models/aws/aws-iam-user-session.ts
/// serializes it.
fn iam_user_session(id: &str, name: &str, profile: &str, mfa: Option<&str>) -> Value {
    let mut s = json!({"sessionName": name, "region": "eu-west-1", "sessionId": id,
        "status": 0, "type": "awsIamUser", "profileId": profile});
    if let Some(m) = mfa {
        s["mfaDevice"] = json!(m);
    }
    s
}

fn keytar_keys(id: &str, user: &User) -> Vec<Value> {
    vec![
        json!({"account": format!("{id}-iam-user-aws-session-access-key-id"), "password": user.access_key_id}),
        json!({"account": format!("{id}-iam-user-aws-session-secret-access-key"), "password": user.secret_access_key}),
    ]
}

/// Leapp's store as Leapp writes it (tests/support/leapp_store.py): IAM
/// User sessions with their keys in keytar's items (one of them a root
/// user's, one with only half its keys, one whose key ID is no key ID),
/// and the session kinds that hold no key. The dry run says each and
/// changes nothing; the import takes the IAM users (the root key refused
/// after STS), makes their named profiles keyfob's with region and MFA
/// device, removes keytar's items of what it took on --yes, and the AWS
/// CLI v2 then uses the migrated profile through credential_process.
#[test]
fn import_from_leapp_takes_its_iam_user_sessions() {
    let env = Env::new();
    let dev = user(&env, "lp-dev");
    let ops = user(&env, "lp-ops");
    let root = user(&env, "lp-root");
    make_root(&env, &root);
    let mfa = "arn:aws:iam::123456789012:mfa/ops";
    leapp(
        &env,
        &["workspace", leapp_workspace(&env).to_str().unwrap()],
        &json!({
            "profiles": [{"id": "p-default", "name": "default"}, {"id": "p-dev", "name": "dev"},
                {"id": "p-ops", "name": "ops-mfa"}, {"id": "p-root", "name": "root"}],
            "sessions": [
                iam_user_session("s-dev", "dev user", "p-dev", None),
                iam_user_session("s-ops", "ops", "p-ops", Some(mfa)),
                iam_user_session("s-root", "rooty", "p-root", None),
                iam_user_session("s-half", "half", "p-default", None),
                iam_user_session("s-bad", "badkey", "p-default", None),
                {"sessionName": "chained", "region": "eu-west-1", "sessionId": "s-ch", "status": 0,
                 "type": "awsIamRoleChained", "roleArn": "arn:aws:iam::123456789012:role/x",
                 "profileId": "p-default", "parentSessionId": "s-dev", "roleSessionName": "assumed-from-leapp"},
                {"sessionName": "federated", "region": "eu-west-1", "sessionId": "s-fed", "status": 0,
                 "type": "awsIamRoleFederated", "idpUrlId": "i", "idpArn": "arn:aws:iam::123456789012:saml-provider/x",
                 "roleArn": "arn:aws:iam::123456789012:role/y", "profileId": "p-default"},
                {"sessionName": "sso", "region": "eu-west-1", "sessionId": "s-sso", "status": 0,
                 "type": "awsSsoRole", "roleArn": "arn:aws:iam::123456789012:role/z", "profileId": "p-default",
                 "awsSsoConfigurationId": "c"},
            ],
        }),
    );
    let mut items = keytar_keys("s-dev", &dev);
    items.extend(keytar_keys("s-ops", &ops));
    items.extend(keytar_keys("s-root", &root));
    items.push(json!({"account": "s-dev-iam-user-aws-session-token",
        "password": "{\"aws_access_key_id\":\"ASIAY34FZKBOKMUTVV7A\"}"}));
    items.push(json!({"account": "s-half-iam-user-aws-session-access-key-id", "password": "AKIAY34FZKBOKMUTVV7A"}));
    items.push(
        json!({"account": "s-bad-iam-user-aws-session-access-key-id", "password": "not-a-key"}),
    );
    items.push(json!({"account": "s-bad-iam-user-aws-session-secret-access-key", "password": "x".repeat(40)}));
    leapp(&env, &["keytar"], &json!(items));
    let before = leapp_items(&env);
    assert_eq!(before.len(), 10, "{before:?}");

    env.agent();
    let snapshot = env.snapshot();
    let dry = run_command(
        env.keyfob(),
        &["import", "--from", "leapp", "--dry-run"],
        "",
    )
    .ok();
    assert_lines(
        &dry,
        &[
            "Would import Leapp session dev user (AKIA",
            "as identity dev-user, once STS verifies it (a root user's key is refused), with a profile dev, region eu-west-1.",
            &format!(
                "as identity ops, once STS verifies it (a root user's key is refused), with a profile ops-mfa, region eu-west-1, MFA device {mfa}."
            ),
            "Would import Leapp session rooty (",
            "On your yes after the import, its 3 item(s) would be removed from the keychain (keytar service Leapp).",
            "Skipping Leapp session half: its keys are not both in the keychain (keytar service Leapp, accounts s-half-iam-user-aws-session-access-key-id and s-half-iam-user-aws-session-secret-access-key).",
            "Skipping Leapp session badkey: access key ID",
            "Skipping Leapp session chained: a awsIamRoleChained session, an IAM role chained from another session: it holds no long-term key",
            "Skipping Leapp session federated: a awsIamRoleFederated session",
            "Skipping Leapp session sso: a awsSsoRole session, an IAM Identity Center role",
            "Dry run: nothing was changed.",
        ],
    );
    assert!(env.snapshot() == snapshot, "the dry run changed a file");
    assert_eq!(leapp_items(&env), before);
    assert_eq!(env.keyring_items(), 0, "{}", env.keyring_dump());

    let run = run_command(
        env.keyfob(),
        &["import", "--from", "leapp", "--pin-stdin", "--yes"],
        &format!("{PIN}\n{PIN}-ops\n{PIN}-root\n"),
    )
    .ok();
    assert_lines(
        &run,
        &[
            "Imported Leapp session dev user as identity dev-user (account",
            "Made profile dev of identity dev-user.",
            "Imported Leapp session ops as identity ops",
            "Made profile ops-mfa of identity ops.",
            "Not importing Leapp session rooty: these are a root user's keys",
            "Removed dev-user's keys from the keychain (keytar service Leapp).",
            "Removed ops's keys from the keychain (keytar service Leapp).",
        ],
    );
    // Only what was imported left the keychain; Leapp's file is as it was.
    let mut left = before.clone();
    left.retain(|a| !a.starts_with("s-dev-") && !a.starts_with("s-ops-"));
    assert_eq!(leapp_items(&env), left);
    let settings =
        std::fs::read_to_string(env.root.path().join("config/keyfob/config.toml")).unwrap();
    assert!(settings.contains(mfa), "{settings}");

    env.run(&["unlock", "dev-user", "--pin-stdin"], &format!("{PIN}\n"))
        .ok();
    assert_eq!(
        arn_of(env.aws_v2_current(&["sts", "get-caller-identity", "--profile", "dev"])),
        dev.arn
    );
    for secret in [&dev.secret_access_key, &ops.secret_access_key] {
        assert_eq!(files_with(&env, secret), Vec::<PathBuf>::new());
    }
}

/// A workspace that this machine's id does not open (Leapp's from
/// another machine) stops the import with one line naming the file, and
/// nothing changes.
#[test]
fn a_leapp_workspace_from_another_machine_is_refused_in_one_line() {
    let env = Env::new();
    let dev = user(&env, "lp-other");
    leapp(
        &env,
        &["workspace", leapp_workspace(&env).to_str().unwrap()],
        &json!({"key": "another machine's id",
            "profiles": [{"id": "p", "name": "dev"}],
            "sessions": [iam_user_session("s", "dev", "p", None)]}),
    );
    leapp(&env, &["keytar"], &json!(keytar_keys("s", &dev)));
    let snapshot = env.snapshot();
    let refused = run_command(
        env.keyfob(),
        &["import", "--from", "leapp", "--pin-stdin", "--yes"],
        &format!("{PIN}\n"),
    )
    .refused(2, "cannot read Leapp's workspace ");
    assert!(
        refused
            .stderr
            .contains("a workspace from another machine cannot be read"),
        "{}",
        refused.stderr
    );
    assert!(
        env.snapshot() == snapshot,
        "a refused import changed a file"
    );
    assert_eq!(leapp_items(&env).len(), 2);
    assert_eq!(env.keyring_items(), 0, "{}", env.keyring_dump());

    // This machine's key, but not Leapp's JSON inside.
    leapp(
        &env,
        &["workspace", leapp_workspace(&env).to_str().unwrap()],
        &json!({"raw": "{\"_sessions\": not json"}),
    );
    run_command(
        env.keyfob(),
        &["import", "--from", "leapp", "--dry-run"],
        "",
    )
    .refused(2, "it does not decrypt to Leapp's workspace JSON");
}

/// Each field of a Leapp IAM User session that keyfob cannot take is said
/// in one line naming it: a secret that is no secret access key skips
/// the session, a region that is no region is not kept, an MFA device
/// that is no MFA serial leaves the identity without its profile.
#[test]
fn leapp_says_each_bad_field_in_one_line() {
    let env = Env::new();
    let dev = user(&env, "lp-fields");
    leapp(
        &env,
        &["workspace", leapp_workspace(&env).to_str().unwrap()],
        &json!({
            "profiles": [{"id": "p", "name": "fields"}],
            "sessions": [
                iam_user_session("s-secret", "shortsecret", "p", None),
                {"sessionName": "fields", "region": "moon-1!", "sessionId": "s-f", "status": 0,
                 "type": "awsIamUser", "profileId": "p", "mfaDevice": "x"},
            ],
        }),
    );
    let mut items = vec![
        json!({"account": "s-secret-iam-user-aws-session-access-key-id", "password": "AKIAY34FZKBOKMUTVV7A"}),
        json!({"account": "s-secret-iam-user-aws-session-secret-access-key", "password": "short"}),
    ];
    items.extend(keytar_keys("s-f", &dev));
    leapp(&env, &["keytar"], &json!(items));
    let run = run_command(
        env.keyfob(),
        &["import", "--from", "leapp", "--pin-stdin", "--yes"],
        &format!("{PIN}\n"),
    )
    .ok();
    let line = |start: &str| {
        let found: Vec<&str> = run
            .stdout
            .lines()
            .filter(|l| l.starts_with(start))
            .collect();
        assert_eq!(found.len(), 1, "{start}: {}", run.stdout);
        found[0].to_owned()
    };
    assert!(line("Skipping Leapp session shortsecret:").contains("secret access key"));
    assert!(line("Leapp session fields: its region is not kept (").contains("region"));
    assert!(line("No profile fields:").contains("MFA"));
    assert!(line("Imported Leapp session fields as identity fields").contains("account"));
}

/// `--use-device-code` signs in as `keyfob sso add --use-device-code`
/// does; with --pin-stdin and no --yes the AWS CLI's token cache stays
/// (and is said to), and a later run with --yes finds the session in the
/// vault and removes it then.
#[test]
fn aws_cli_sso_device_code_then_the_cache_goes_on_a_later_yes() {
    let env = Env::new();
    let inst = crate::sso::configure(env.moto, 1, json!({}));
    let aws = env.home().join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::write(
        aws.join("config"),
        format!(
            "[profile work]\nsso_session = corp\nsso_account_id = 111100000000\nsso_role_name = Admin\n\n[sso-session corp]\nsso_start_url = {}\nsso_region = eu-west-1\n",
            inst.start_url
        ),
    )
    .unwrap();
    let token = aws_cli_token(&env, "corp", &inst.start_url, "aws-cli-corp-token");
    let (run, code) = crate::sso::run_signing_in(
        &env,
        &[],
        &[
            "import",
            "--from",
            "aws-cli-sso",
            "--use-device-code",
            "--pin-stdin",
        ],
        &format!("{PIN}\n"),
        &inst.start_url,
        true,
    );
    let run = run.ok();
    assert!(code.is_some(), "no device code shown: {}", run.stderr);
    assert_lines(
        &run,
        &[
            "Imported sso-session corp as Identity Center identity corp",
            "Converted profile work (111100000000 Admin)",
            "The AWS CLI's caches still hold sign-ins of corp (now keyfob's): run keyfob import --from aws-cli-sso --yes to remove them",
        ],
    );
    let grants = &crate::sso::status(env.moto, &inst.start_url)["grants"];
    assert_eq!(grants["device_code"], 1, "{grants}");
    assert!(token.exists());

    let again = import_sso(&env, &["--yes"], "").ok();
    assert_lines(
        &again,
        &[
            "sso-session corp is already in the vault, as Identity Center identity corp.",
            &format!("Removed the AWS CLI's cache {} (corp).", token.display()),
        ],
    );
    assert!(!token.exists());
    env.run(&["unlock", "work", "--pin-stdin"], &format!("{PIN}\n"))
        .ok();
    let arn = arn_of(env.aws_v2_current(&["sts", "get-caller-identity", "--profile", "work"]));
    crate::sso::assert_sso_arn(&arn, "111100000000", "Admin");
}
