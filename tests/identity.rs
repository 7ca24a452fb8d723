//! Identities end to end: the real `keyfob` binary, gnome-keyring's Secret
//! Service and the AWS emulator with auth checks on.

use serde_json::Value;

use crate::util::{Env, create_user, unique};

/// A PIN distinctive enough to search for in files and keyring items.
const PIN: &str = "pin-Zq81-wOrK";

fn add(env: &Env, name: &str, key_id: &str, secret: &str, pin: &str) -> crate::util::Run {
    env.run(
        &["add", name, "--access-key-id", key_id, "--stdin"],
        &format!("{secret}\n{pin}\n"),
    )
}

fn list_json(env: &Env) -> Vec<Value> {
    let run = env.run(&["list", "--json"], "").ok();
    serde_json::from_str::<Value>(&run.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn add_verifies_with_sts_and_lists_the_account() {
    let env = Env::new();
    let user = create_user(&unique("alice"));
    let run = add(
        &env,
        "work",
        &user.access_key_id,
        &user.secret_access_key,
        PIN,
    )
    .ok();
    assert!(
        run.stdout.contains("account 123456789012"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(&user.arn), "{}", run.stdout);

    let listed = list_json(&env);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["name"], "work");
    assert_eq!(listed[0]["access_key_id"], user.access_key_id.as_str());
    assert_eq!(listed[0]["account"], "123456789012");
    assert_eq!(listed[0]["arn"], user.arn.as_str());

    // The text table masks the key ID.
    let table = env.run(&["list"], "").ok().stdout;
    assert!(table.contains("work"), "{table}");
    assert!(!table.contains(&user.access_key_id), "{table}");
    assert!(table.contains(&user.access_key_id[16..]), "{table}");

    // The identity lives in the Secret Service: index, sealed key.
    assert_eq!(env.keyring_items(), 2, "{}", env.keyring_dump());
    env.run(&["unlock", "work", "--pin-stdin"], &format!("{PIN}\n"))
        .ok();
}

#[test]
fn a_wrong_secret_is_refused_by_aws_and_nothing_is_stored() {
    let env = Env::new();
    let user = create_user(&unique("bob"));
    // Same shape, wrong value: only AWS can tell.
    let wrong: String = user.secret_access_key.chars().rev().collect();
    add(&env, "work", &user.access_key_id, &wrong, PIN)
        .refused(2, "secret access key: AWS refused the key pair");
    assert_eq!(env.keyring_items(), 0, "{}", env.keyring_dump());
    assert!(list_json(&env).is_empty());
}

#[test]
fn an_unknown_key_id_is_refused_naming_the_key_id() {
    let env = Env::new();
    let user = create_user(&unique("carol"));
    add(
        &env,
        "work",
        "AKIAAAAAAAAAAAAAAAAA",
        &user.secret_access_key,
        PIN,
    )
    .refused(2, "access key ID: AWS does not know this key");
    assert_eq!(env.keyring_items(), 0);
}

#[test]
fn temporary_asia_keys_are_refused_with_an_explanation() {
    let env = Env::new();
    add(
        &env,
        "temp",
        "ASIAY34FZKBOKMUTVV7A",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        PIN,
    )
    .refused(2, "only long-term keys (AKIA…) belong in the vault");
    assert_eq!(env.keyring_items(), 0);
}

#[test]
fn malformed_inputs_are_refused_before_anything_is_written() {
    let env = Env::new();
    let user = create_user(&unique("dave"));
    let (key, secret) = (user.access_key_id.as_str(), user.secret_access_key.as_str());
    // A first identity, so "nothing changed" means more than "still empty".
    add(&env, "existing", key, secret, PIN).ok();
    let before = (env.snapshot(), env.keyring_dump());

    let long_name = "n".repeat(65);
    let short_secret = &secret[..39];
    let cases: Vec<(&str, &str, &str, &str, &str)> = vec![
        // (name, key id, secret, pin, what stderr must say)
        ("", key, secret, PIN, "identity name: is empty"),
        (
            "has space",
            key,
            secret,
            PIN,
            "identity name: may contain only",
        ),
        ("a/b", key, secret, PIN, "identity name: may contain only"),
        (
            "[prod]",
            key,
            secret,
            PIN,
            "identity name: may contain only",
        ),
        (
            &long_name,
            key,
            secret,
            PIN,
            "identity name: must be at most 64",
        ),
        (
            "existing",
            key,
            secret,
            PIN,
            "identity name: existing is already taken",
        ),
        ("x", "AKIA123", secret, PIN, "access key ID: must be 16–128"),
        (
            "x",
            "akiaiosfodnn7example",
            secret,
            PIN,
            "access key ID: must start with AKIA",
        ),
        (
            "x",
            "AKIAIOSFODNN7EXAMPl",
            secret,
            PIN,
            "access key ID: may contain only uppercase",
        ),
        ("x", "", secret, PIN, "access key ID: is empty"),
        (
            "x",
            key,
            short_secret,
            PIN,
            "secret access key: must be 40 characters; got 39",
        ),
        ("x", key, "", PIN, "secret access key: is empty"),
        (
            "x",
            key,
            "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY",
            PIN,
            "secret access key: may contain only",
        ),
        (
            "x",
            key,
            secret,
            "12345",
            "PIN: must be at least 6 characters; got 5",
        ),
        ("x", key, secret, "", "PIN: must be at least 6"),
    ];
    for (name, key_id, sec, pin, needle) in cases {
        let run = add(&env, name, key_id, sec, pin).refused(2, needle);
        // The refusal never quotes the secret or the PIN.
        if !sec.is_empty() {
            assert!(!run.stderr.contains(sec), "{}", run.stderr);
        }
        assert!(!run.stderr.contains(PIN), "{}", run.stderr);
    }
    // A missing PIN line.
    env.run(
        &["add", "x", "--access-key-id", key, "--stdin"],
        &format!("{secret}\n"),
    )
    .refused(2, "PIN: missing");
    // Secrets are never taken from arguments.
    let run = env.run(&["add", "x", "--secret-access-key", secret], "");
    assert_eq!(run.code, Some(2));
    assert!(!run.stderr.contains(secret));

    assert_eq!((env.snapshot(), env.keyring_dump()), before);
}

#[test]
fn duplicate_names_are_refused() {
    let env = Env::new();
    let a = create_user(&unique("erin"));
    let b = create_user(&unique("frank"));
    add(&env, "work", &a.access_key_id, &a.secret_access_key, PIN).ok();
    add(&env, "work", &b.access_key_id, &b.secret_access_key, PIN)
        .refused(2, "work is already taken");
    let listed = list_json(&env);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["access_key_id"], a.access_key_id.as_str());
}

#[test]
fn wrong_pins_back_off_across_process_restarts() {
    let env = Env::new();
    let user = create_user(&unique("grace"));
    add(
        &env,
        "work",
        &user.access_key_id,
        &user.secret_access_key,
        PIN,
    )
    .ok();
    let unlock = |pin: &str| env.run(&["unlock", "work", "--pin-stdin"], &format!("{pin}\n"));

    // Each attempt is a new keyfob process: the counter is in the store.
    for left in (1..=4).rev() {
        unlock("not-the-pin").refused(2, &format!("({left} more before keyfob makes you wait)"));
    }
    unlock("not-the-pin").refused(2, "too many wrong PINs; try again in 30 s");
    // Now even the right PIN waits, and says for how long.
    let run = unlock(PIN).refused(
        2,
        "identity work is locked after 5 wrong PINs — try again in",
    );
    assert!(run.stderr.trim_end().ends_with(" s"), "{}", run.stderr);
    // Nothing was deleted: the identity is still listed and its key kept.
    assert_eq!(list_json(&env).len(), 1);
    assert_eq!(env.keyring_items(), 3, "index, sealed key, counter");
}

#[test]
fn remove_deletes_the_identity_and_its_sealed_key() {
    let env = Env::new();
    let user = create_user(&unique("heidi"));
    add(
        &env,
        "work",
        &user.access_key_id,
        &user.secret_access_key,
        PIN,
    )
    .ok();
    env.run(&["remove", "nope", "--yes"], "")
        .refused(1, "no identity named nope");
    env.run(&["remove", "work", "--yes"], "").ok();
    assert!(list_json(&env).is_empty());
    assert_eq!(env.keyring_items(), 1, "only the (empty) index is left");
    assert!(!env.keyring_dump().contains(&user.access_key_id));
}

#[test]
fn rename_and_change_pin() {
    let env = Env::new();
    let user = create_user(&unique("ivan"));
    add(
        &env,
        "work",
        &user.access_key_id,
        &user.secret_access_key,
        PIN,
    )
    .ok();
    env.run(&["rename", "work", "prod"], "").ok();
    env.run(&["rename", "prod", "bad name"], "")
        .refused(2, "identity name: may contain only");
    env.run(
        &["change-pin", "prod", "--stdin"],
        "wrong-pin\nnew-pin-123\n",
    )
    .refused(2, "wrong PIN for identity prod");
    env.run(&["change-pin", "prod", "--stdin"], &format!("{PIN}\n123\n"))
        .refused(2, "PIN: must be at least 6");
    env.run(
        &["change-pin", "prod", "--stdin"],
        &format!("{PIN}\nnew-pin-123\n"),
    )
    .ok();
    env.run(&["unlock", "prod", "--pin-stdin"], &format!("{PIN}\n"))
        .refused(2, "wrong PIN");
    env.run(&["unlock", "prod", "--pin-stdin"], "new-pin-123\n")
        .ok();
}

#[test]
fn secret_and_pin_appear_in_no_keyring_item_and_no_file() {
    let env = Env::new();
    let user = create_user(&unique("judy"));
    add(
        &env,
        "work",
        &user.access_key_id,
        &user.secret_access_key,
        PIN,
    )
    .ok();
    env.run(&["unlock", "work", "--pin-stdin"], &format!("{PIN}\n"))
        .ok();
    env.run(&["unlock", "work", "--pin-stdin"], "wrong-pin\n");
    env.run(
        &["change-pin", "work", "--stdin"],
        &format!("{PIN}\n{PIN}-2\n"),
    )
    .ok();
    env.run(&["rename", "work", "play"], "").ok();

    let dump = env.keyring_dump();
    assert!(
        dump.contains("keyfob: identity."),
        "the scan sees the items: {dump}"
    );
    for needle in [user.secret_access_key.as_str(), PIN] {
        assert!(!dump.contains(needle), "a keyring item holds a secret");
        assert_eq!(
            env.files_containing(needle),
            Vec::<std::path::PathBuf>::new()
        );
    }
}

#[test]
fn without_a_secret_service_the_file_store_is_used_with_a_notice() {
    let env = Env::bare();
    let user = create_user(&unique("ken"));
    let run = add(
        &env,
        "work",
        &user.access_key_id,
        &user.secret_access_key,
        PIN,
    )
    .ok();
    assert!(
        run.stderr
            .contains("no Secret Service answered; using the encrypted-file store"),
        "{}",
        run.stderr
    );
    let store = env.root.path().join("data/keyfob/store");
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&store), 0o700);
    for entry in std::fs::read_dir(&store).unwrap() {
        assert_eq!(mode(&entry.unwrap().path()), 0o600);
    }
    assert!(env.files_containing(&user.secret_access_key).is_empty());
    assert!(env.files_containing(PIN).is_empty());
    env.run(&["unlock", "work", "--pin-stdin"], &format!("{PIN}\n"))
        .ok();

    // Requiring the keychain where there is none is a clear error.
    env.run(&["--store", "keychain", "list"], "")
        .refused(1, "no Secret Service answered");
}

#[test]
fn interactive_add_without_a_terminal_fails_fast_with_a_hint() {
    let env = Env::new();
    // Env runs keyfob without a controlling terminal, as a GUI launcher or
    // CI would.
    env.run(&["add", "work"], "").refused(
        1,
        "no terminal to ask for the access key ID; use --access-key-id ID --stdin",
    );
    assert_eq!(env.keyring_items(), 0);
}
