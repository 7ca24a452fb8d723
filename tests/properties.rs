//! Property tests over the parsers and validators that read untrusted
//! input: the AWS config editor, the sealed-key envelope, the
//! credential_process JSON, and the field validators. Each property states
//! what must hold for every input, not just the examples in the unit tests.

use keyfob::aws::config_file::{AwsFile, Flavor};
use keyfob::model::identity::{AccessKeyId, IdentityName, check_pin, check_secret};
use keyfob::model::limits;
use keyfob::model::secret::{Pin, SecretAccessKey, SessionToken};
use keyfob::model::session::Session;
use keyfob::platform::crypto::{self, KdfParams};
use proptest::prelude::*;
use time::OffsetDateTime;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Any text survives a parse and print unchanged: the editor never
    /// rewrites what it did not touch.
    #[test]
    fn config_text_round_trips(text in "([\\[\\] a-z=#;:\\t]{0,12}(\\r?\\n)?){0,12}") {
        let file = AwsFile::parse(&text, Flavor::Config);
        prop_assert_eq!(file.to_text(), text);
    }

    /// Setting a value either refuses it or makes it read back exactly,
    /// and never disturbs another profile.
    #[test]
    fn config_set_reads_back_or_refuses(
        other in "[a-z]{1,8}",
        name in "[a-zA-Z0-9._\\- \\[\\]#]{1,12}",
        value in "[ -~]{0,30}",
    ) {
        prop_assume!(other != name);
        let start = format!("[profile {other}]\nregion = eu-west-1\n");
        let mut file = AwsFile::parse(&start, Flavor::Config);
        match file.set_profile(&name, &[("credential_process", value.as_str())]) {
            Ok(()) => prop_assert_eq!(file.get(&name, "credential_process"), Some(value.clone())),
            Err(_) => prop_assert_eq!(file.to_text(), start.clone()),
        }
        prop_assert_eq!(file.get(&other, "region"), Some("eu-west-1".to_string()));
    }

    /// No byte string makes the envelope parser panic or open.
    #[test]
    fn random_envelopes_never_open(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let pin = Pin::new("123456".into());
        prop_assert!(crypto::open(&pin, b"ctx", &bytes).is_err());
    }

    /// Credential JSON round-trips for any secret text, and no input makes
    /// the parser panic.
    #[test]
    fn credential_json_round_trips(
        key in "ASIA[A-Z0-9]{16}",
        secret in "\\PC{1,60}",
        token in "\\PC{1,200}",
        secs in 0i64..4_000_000_000,
    ) {
        let s = Session {
            access_key_id: key.clone(),
            secret_access_key: SecretAccessKey::new(secret.clone()),
            session_token: SessionToken::new(token.clone()),
            expiration: OffsetDateTime::from_unix_timestamp(secs).unwrap(),
            endpoints: Default::default(),
        };
        let json = s.to_process_json();
        let (back, fp) = Session::from_json(json.as_bytes()).unwrap();
        prop_assert_eq!(back.access_key_id, key);
        prop_assert_eq!(back.secret_access_key.expose(), secret.as_str());
        prop_assert_eq!(back.session_token.expose(), token.as_str());
        prop_assert_eq!(back.expiration, s.expiration);
        prop_assert!(fp.is_none());
    }

    #[test]
    fn credential_json_parser_never_panics(text in "\\PC{0,200}") {
        let _ = Session::from_json(text.as_bytes());
    }

    /// The key ID validator accepts exactly AKIA + 12–124 of [A-Z0-9].
    #[test]
    fn key_id_rule(s in "[A-Za-z0-9 _/+]{0,40}") {
        let expected = s.len() >= 16
            && s.len() <= 128
            && s.starts_with("AKIA")
            && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        prop_assert_eq!(AccessKeyId::parse(&s).is_ok(), expected, "{:?}", s);
    }

    /// Names never admit characters that could inject INI or TOML syntax.
    #[test]
    fn names_never_admit_syntax(s in "\\PC{0,70}") {
        if IdentityName::parse(&s).is_ok() {
            prop_assert!(!s.contains(['[', ']', '=', '\n', '\r', '"', '#', ';', ' ']));
            prop_assert!((1..=64).contains(&s.len()));
        }
    }

    /// The secret and PIN validators never panic and never quote the value.
    #[test]
    fn secret_and_pin_errors_do_not_quote_input(s in "[ -~]{8,60}") {
        if let Err(e) = check_secret(SecretAccessKey::new(s.clone())) {
            prop_assert!(!e.to_string().contains(&s));
        }
        if let Err(e) = check_pin(&Pin::new(s.clone())) {
            prop_assert!(!e.to_string().contains(&s));
        }
    }

    /// Durations written as h/m/s parse back to their seconds.
    #[test]
    fn durations_round_trip(h in 0u64..50, m in 0u64..60, s in 0u64..60) {
        let text = format!("{h}h{m}m{s}s");
        prop_assert_eq!(keyfob::model::duration::parse(&text).unwrap().as_secs(), h * 3600 + m * 60 + s);
        prop_assert_eq!(keyfob::model::duration::parse(&keyfob::model::duration::human(h * 3600 + m * 60 + s)).unwrap().as_secs(), h * 3600 + m * 60 + s);
    }

    /// ExternalId validation matches AWS's pattern exactly.
    #[test]
    fn external_id_rule(s in "[a-zA-Z0-9_+=,.@:/\\- ;!]{0,40}") {
        let expected = (2..=1224).contains(&s.chars().count())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c));
        prop_assert_eq!(limits::external_id(&s).is_ok(), expected);
    }
}

/// A valid envelope with any single byte changed does not open (beyond the
/// exhaustive unit test, here with the default parameters' layout).
#[test]
fn tampered_default_envelope_never_opens() {
    let pin = Pin::new("correct horse".into());
    let sealed = crypto::seal(&pin, KdfParams::MIN, b"ctx", b"secret").unwrap();
    let mut runner = proptest::test_runner::TestRunner::default();
    runner
        .run(&(0..sealed.len(), 1u8..=255), |(i, x)| {
            let mut bad = sealed.clone();
            bad[i] ^= x;
            prop_assert!(crypto::open(&pin, b"ctx", &bad).is_err());
            Ok(())
        })
        .unwrap();
}
