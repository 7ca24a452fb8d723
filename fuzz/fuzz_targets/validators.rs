//! The input validators: no input panics; what they accept never carries
//! syntax that could be injected into the files keyfob writes.
#![no_main]

use keyfob::model::identity::{AccessKeyId, IdentityName, check_pin, check_secret};
use keyfob::model::limits;
use keyfob::model::secret::{Pin, SecretAccessKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(k) = AccessKeyId::parse(s) {
        assert!(
            k.as_str()
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        );
    }
    if IdentityName::parse(s).is_ok() {
        assert!(!s.contains(['[', ']', '=', '\n', '\r', '"', ' ']));
    }
    let _ = check_secret(SecretAccessKey::new(s.to_owned()));
    let _ = check_pin(&Pin::new(s.to_owned()));
    let checks: [fn(&str) -> Result<(), keyfob::model::field::FieldError>; 6] = [
        limits::external_id,
        limits::role_session_name,
        limits::source_identity,
        limits::mfa_serial,
        limits::mfa_code,
        limits::region,
    ];
    for check in checks {
        if check(s).is_ok() {
            assert!(!s.contains(['\n', '\r', '[', ']', '"']));
        }
    }
    if let Ok(account) = limits::role_arn(s) {
        assert_eq!(account.len(), 12);
    }
    let _ = limits::parse_duration(s);
});
