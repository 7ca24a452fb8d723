//! Bad input, field by field: at least 30 malformed values for every field
//! a person types (names, key IDs, secrets, PINs, ARNs, external IDs,
//! durations, MFA serials and codes, regions, account IDs, customer names),
//! each through the command that takes it. Every one must be refused with
//! exit code 2 and one line naming the field, without a panic, and without
//! changing any file or keychain item (compared by snapshot after each).

use crate::util::{Env, Run, User, add_identity, create_user, unique};

const PIN: &str = "pin-B4d-input";

/// Values no field accepts, built around a `valid` one: the syntax of the
/// files keyfob writes (INI, TOML) and of shells, control characters,
/// invisible and look-alike Unicode, padding and oversize. (NUL is left
/// out: no argument can carry it.)
fn malformed_around(valid: &str) -> Vec<String> {
    let mut values: Vec<String> = ["", " ", "\t", "  \t ", "\u{7f}", "\u{1b}[31m"]
        .map(String::from)
        .to_vec();
    for (before, after) in [
        ("", "\n[default]"),
        ("", "\r"),
        ("", "\u{7f}"),
        ("\u{1b}[31m", ""),
        ("", "["),
        ("[", "]"),
        ("", " = x"),
        ("", "#c"),
        ("", ";c"),
        ("", "\""),
        ("'", "'"),
        ("", "`id`"),
        ("$(", ")"),
        ("", " x"),
        ("", "\u{202e}"),
        ("\u{200b}", ""),
        ("", "ä"),
        ("\u{ff21}", ""),
        ("", "🔑"),
        ("", "\\"),
        ("", "{}"),
        ("", "*"),
        ("", "|tee"),
        ("", "&"),
        ("<", ">"),
        (" ", ""),
        ("", " "),
        ("", "!"),
        ("", "~"),
        ("", "\u{a0}"),
    ] {
        values.push(format!("{before}{valid}{after}"));
    }
    values.push("x".repeat(5000));
    values
}

/// A world with one identity, `work`, so that commands taking a name of
/// an existing identity get past that check.
fn world() -> (Env, User) {
    let env = Env::new();
    let user = create_user(&unique("bad"));
    add_identity(&env, "work", &user, PIN);
    (env, user)
}

/// Runs every value through `run` and checks each refusal; the snapshot
/// of files must not move with any value, nor the keychain's items over
/// all of them (read once at the end: a `secret-tool` run per value cost
/// more than the refusals themselves).
fn all_refused(env: &Env, field: &str, values: &[String], run: impl Fn(&str) -> Run) {
    assert!(values.len() >= 30, "{field}: only {} values", values.len());
    let before = env.snapshot();
    let keyring_before = env.keyring_dump();
    for value in values {
        let out = run(value);
        assert!(
            out.code == Some(2) && out.stderr.contains(field),
            "{field}: {value:?} was not refused naming the field (exit {:?}):\nstdout: {}\nstderr: {}",
            out.code,
            out.stdout,
            out.stderr
        );
        out.refused(2, field);
        assert!(
            env.snapshot() == before,
            "{field}: {value:?} changed a file"
        );
    }
    assert_eq!(
        env.keyring_dump(),
        keyring_before,
        "{field}: a refused value changed a keychain item"
    );
}

#[test]
fn identity_names() {
    let (env, user) = world();
    let mut values = malformed_around("prod");
    values.extend(
        [
            "-x",
            "--help",
            ".",
            "..",
            "_",
            "a/b",
            "a:b",
            "a@b",
            "a,b",
            "work\u{301}",
        ]
        .map(String::from),
    );
    values.push("n".repeat(65));
    let stdin = format!("{}\n{PIN}\n", user.secret_access_key);
    // `--` so a value starting with '-' is the name, not a flag.
    all_refused(&env, "identity name", &values, |name| {
        env.run(
            &[
                "add",
                "--access-key-id",
                &user.access_key_id,
                "--stdin",
                "--",
                name,
            ],
            &stdin,
        )
    });
    all_refused(&env, "identity name", &values, |name| {
        env.run(&["rename", "--", "work", name], "")
    });
}

#[test]
fn access_key_ids() {
    let (env, user) = world();
    let mut values = malformed_around("AKIAIOSFODNN7EXAMPLE");
    values.extend(
        [
            "AKIA",
            "AKIAIOSFODNN7EX",
            "akiaiosfodnn7example",
            "AKIAiosfodnn7example",
            "AIDAIOSFODNN7EXAMPLE",
            "ASIAIOSFODNN7EXAMPLE",
            "AKIAIOSFODNN7EXAMPL-",
            "AKIAIOSFODNN7EXAMPL_",
            "AKIAIOSFODNN7EXAMPL=",
        ]
        .map(String::from),
    );
    values.push(format!("AKIA{}", "A".repeat(125)));
    let stdin = format!("{}\n{PIN}\n", user.secret_access_key);
    all_refused(&env, "access key ID", &values, |id| {
        env.run(
            &["add", "other", &format!("--access-key-id={id}"), "--stdin"],
            &stdin,
        )
    });
}

#[test]
fn secret_access_keys() {
    let (env, user) = world();
    let valid = &user.secret_access_key;
    let mut values: Vec<String> = [
        " ", "-", "_", ".", "=", "\t", "ä", "€", "\u{7f}", "\u{1b}", "\u{202e}", "\u{200b}",
        "\u{ff21}", "\"", "'", "#", ";", "[", "]", "$", "`", "\\", "*", "%", "!", "~", "<", "{",
        ",", ":",
    ]
    .iter()
    .enumerate()
    .map(|(i, bad)| {
        // One bad character at a different place each time, length kept.
        let at = i % 39 + 1;
        format!("{}{bad}{}", &valid[..at], &valid[at + 1..])
    })
    .collect();
    values.extend(["", "x", &valid[..39], &format!("{valid}A")].map(String::from));
    values.push("A".repeat(400));
    all_refused(&env, "secret access key", &values, |secret| {
        env.run(
            &[
                "add",
                "other",
                "--access-key-id",
                &user.access_key_id,
                "--stdin",
            ],
            &format!("{secret}\n{PIN}\n"),
        )
    });
}

#[test]
fn pins() {
    let (env, user) = world();
    // Any printable text of 6–1024 characters is a PIN; control
    // characters (every one but the line break that ends it) are not.
    let mut values: Vec<String> = (0u8..0x20)
        .filter(|b| *b != b'\n' && *b != b'\r')
        .map(|b| format!("pin-12{}3456", b as char))
        .collect();
    values.extend(["", "1", "12345", "abcde", "ä€😀ab", "\u{7f}123456"].map(String::from));
    values.push("p".repeat(1025));
    values.push("p".repeat(5000));
    all_refused(&env, "PIN", &values, |pin| {
        env.run(
            &[
                "add",
                "other",
                "--access-key-id",
                &user.access_key_id,
                "--stdin",
            ],
            &format!("{}\n{pin}\n", user.secret_access_key),
        )
    });
    all_refused(&env, "PIN", &values, |pin| {
        env.run(
            &["change-pin", "work", "--stdin"],
            &format!("{PIN}\n{pin}\n"),
        )
    });
}

/// `keyfob profile add NAME --identity work` with one field bad.
fn profile_add(env: &Env, name: &str, extra: &[&str]) -> Run {
    let mut args = vec!["profile", "add", "--identity", "work"];
    args.extend_from_slice(extra);
    args.extend(["--", name]);
    env.run(&args, "")
}

#[test]
fn profile_names() {
    let (env, _) = world();
    let mut values = malformed_around("deploy");
    values.extend(["-x", "--help", ".", "..", "default]"].map(String::from));
    values.push("p".repeat(65));
    all_refused(&env, "profile name", &values, |name| {
        profile_add(&env, name, &[])
    });
}

const ARN: &str = "arn:aws:iam::210987654321:role/Vendor";

#[test]
fn role_arns() {
    let (env, _) = world();
    let mut values = malformed_around(ARN);
    values.extend(
        [
            "arn:aws:iam::21098765432:role/Vendor",
            "arn:aws:iam::2109876543210:role/Vendor",
            "arn:aws:iam::21098765432a:role/Vendor",
            "arn:aws:iam:us-east-1:210987654321:role/Vendor",
            "arn:aws:sts::210987654321:role/Vendor",
            "arn:aws:iam::210987654321:user/Vendor",
            "arn:aws:iam::210987654321:role/",
            "arn:aws:iam::210987654321:role//Vendor",
            "arn:aws:iam::210987654321:role/a b",
            "arn:azure:iam::210987654321:role/Vendor",
            "arn:aws:iam::210987654321",
            "210987654321",
            "Vendor",
        ]
        .map(String::from),
    );
    values.push(format!("arn:aws:iam::210987654321:role/{}", "r".repeat(65)));
    values.retain(|v| !v.is_empty()); // empty: not set, the default
    all_refused(&env, "role ARN", &values, |arn| {
        profile_add(&env, "vendor", &[&format!("--role-arn={arn}")])
    });
}

#[test]
fn external_ids() {
    let (env, _) = world();
    let mut values = malformed_around("ext-id-42");
    // Every value above has a character outside [\w+=,.@:/-] or is too
    // long; these are too short or use look-alikes of allowed ones.
    values.extend(["x", "-", "ext id", "ext\u{2010}id", "ext\u{ff0c}id"].map(String::from));
    values.push("e".repeat(1225));
    values.retain(|v| !v.is_empty()); // empty: "no external ID"
    values.push("=".repeat(1225));
    all_refused(&env, "external ID", &values, |id| {
        profile_add(
            &env,
            "vendor",
            &["--role-arn", ARN, &format!("--external-id={id}")],
        )
    });
    // The provider side takes the same rule.
    all_refused(&env, "external ID", &values, |id| {
        env.run(
            &[
                "trust-policy",
                "--account",
                "123456789012",
                &format!("--external-id={id}"),
            ],
            "",
        )
    });
}

#[test]
fn durations() {
    let (env, _) = world();
    let mut values = malformed_around("1h");
    values.extend(
        [
            "0",
            "899",
            "14m",
            "37h",
            "1x",
            "-5",
            "1.5h",
            "h",
            "12h30",
            "1h-5m",
            "99999999999999999999",
            "P1H",
            "1 h",
        ]
        .map(String::from),
    );
    values.retain(|v| !v.is_empty()); // empty: not set, the default
    all_refused(&env, "duration", &values, |d| {
        profile_add(&env, "short", &[&format!("--duration={d}")])
    });
    // A role session may last at most 12 h.
    all_refused(&env, "duration", &values, |d| {
        profile_add(
            &env,
            "vendor",
            &["--role-arn", ARN, &format!("--duration={d}")],
        )
    });
}

#[test]
fn mfa_serials() {
    let (env, _) = world();
    let mut values = malformed_around("arn:aws:iam::123456789012:mfa/alice");
    values.extend(["x", "arn:aws", "12345678"].map(String::from));
    values.push(format!("arn:aws:iam::123456789012:mfa/{}", "a".repeat(230)));
    values.retain(|v| !v.is_empty()); // empty: not set, the default
    all_refused(&env, "MFA serial", &values, |serial| {
        profile_add(&env, "mfa", &[&format!("--mfa-serial={serial}")])
    });
}

#[test]
fn mfa_codes() {
    let (env, _) = world();
    let mut values = malformed_around("123456");
    values.extend(
        [
            "12345",
            "1234567",
            "abcdef",
            "12345a",
            "１２３４５６",
            "12 3456",
            "-12345",
            "+12345",
            "0x1234",
            "١٢٣٤٥٦",
        ]
        .map(String::from),
    );
    all_refused(&env, "MFA code", &values, |code| {
        env.run(
            &[
                "unlock",
                "work",
                "--pin-stdin",
                &format!("--mfa-code={code}"),
            ],
            &format!("{PIN}\n"),
        )
    });
}

#[test]
fn regions() {
    let (env, _) = world();
    let mut values = malformed_around("eu-west-1");
    values.extend(
        [
            "eu-west",
            "euwest1",
            "EU-WEST-1",
            "eu-west-1a",
            "eu--1",
            "-west-1",
            "eu-west-",
            "1-2-3",
            "eu_west_1",
            "eu.west.1",
        ]
        .map(String::from),
    );
    values.push(format!("{}-west-1", "e".repeat(40)));
    values.retain(|v| !v.is_empty()); // empty: not set, the default
    all_refused(&env, "region", &values, |region| {
        profile_add(&env, "eu", &[&format!("--region={region}")])
    });
}

#[test]
fn account_ids() {
    let (env, _) = world();
    let mut values = malformed_around("123456789012");
    values.extend(
        [
            "12345678901",
            "1234567890123",
            "abcdefghijkl",
            "12345678901a",
            "123-456-789-012",
            "１２３４５６７８９０１２",
        ]
        .map(String::from),
    );
    all_refused(&env, "account ID", &values, |account| {
        env.run(
            &[
                "trust-policy",
                &format!("--account={account}"),
                "--external-id",
                "ext-id-42",
            ],
            "",
        )
    });
}

#[test]
fn customer_names() {
    let (env, _) = world();
    // Customer names are free text ("Example Corp"): refused are control
    // characters, padding, and more than 128 characters.
    let mut values: Vec<String> = (1u8..0x20)
        .chain([0x7f])
        .map(|b| format!("Example{}Corp", b as char))
        .collect();
    values.extend(["", " Example", "Example ", "\u{a0}", " "].map(String::from));
    values.push("c".repeat(129));
    all_refused(&env, "customer", &values, |name| {
        env.run(&["external-id", "new", &format!("--customer={name}")], "")
    });
}

#[test]
fn endpoint_urls() {
    let (env, user) = world();
    let mut values: Vec<String> = [
        "",
        " ",
        "\t",
        "sts.example.com",
        "//sts.example.com",
        "https://",
        "https://[not-an-address]",
        "http://",
        "http://sts.example.com",
        "http://10.0.0.1:5000",
        "http://192.168.1.1",
        "http://172.16.0.1:4566",
        "http://[fe80::1]:4566",
        "http://0.0.0.0:4566",
        "http://127.0.0.1.nip.io:4566",
        "http://localhost.evil.example",
        "http://[::ffff:10.0.0.1]",
        "ftp://127.0.0.1",
        "ws://127.0.0.1:4566",
        "gopher://127.0.0.1",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "https://user:pw@sts.example.com",
        "https://user@sts.example.com",
        "http://127.0.0.1@evil.example",
        "https://sts.example.com/?a=b",
        "https://sts.example.com/#f",
        "https://sts.example.com:99999",
        "https://sts .example.com",
        "https://sts.example.com\n[default]",
        "https://sts.example.com\r/x",
        "\u{1b}[31mhttps://sts.example.com",
        "https://sts.example.com/\u{7f}",
        "http://127.0.0.1:4566 x",
    ]
    .map(String::from)
    .to_vec();
    values.push(format!("https://{}.example.com", "a".repeat(600)));
    let stdin = format!("{}\n{PIN}\n", user.secret_access_key);
    all_refused(&env, "endpoint URL", &values, |url| {
        env.run(
            &[
                "add",
                "other",
                "--access-key-id",
                &user.access_key_id,
                "--stdin",
                &format!("--endpoint-url={url}"),
            ],
            &stdin,
        )
    });
}
