//! Identities: one IAM user's long-term access key, its name and its PIN —
//! the four fields of the AWS Console Mobile App's "Add identity" screen.
//!
//! This module owns the field rules (checked before anything is written),
//! the identity metadata kept in the store's index, and the offline decoding
//! of an account ID from an access key ID. Sealing lives in
//! [`crate::platform::crypto`], storage in [`crate::vault`].

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use crate::model::field::{Field, FieldError};
use crate::model::secret::{Pin, SecretAccessKey};

/// A long-term access key ID: `AKIA` and uppercase letters and digits,
/// 16–128 characters (the IAM API's limits; 20 today).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccessKeyId(String);

pub const KEY_ID_MIN: usize = 16;
pub const KEY_ID_MAX: usize = 128;

impl AccessKeyId {
    /// Parses a long-term key ID. Surrounding white space (from a paste) is
    /// ignored; anything else unexpected is refused.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let s = input.trim();
        let err = |reason: String| Err(FieldError::new(Field::AccessKeyId, reason));
        if s.is_empty() {
            return err("is empty; it looks like AKIAIOSFODNN7EXAMPLE".into());
        }
        if s.starts_with("ASIA") {
            return err("ASIA… is a temporary (STS) key; only long-term keys (AKIA…) belong in the vault — temporary keys expire, and keyfob makes its own from the long-term key".into());
        }
        if !s.starts_with("AKIA") {
            return err(format!(
                "must start with AKIA (a long-term IAM user key); got {:?}",
                preview(s)
            ));
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_uppercase() || c.is_ascii_digit()))
        {
            return err(format!(
                "may contain only uppercase letters A–Z and digits; found {c:?}"
            ));
        }
        let len = s.len();
        if !(KEY_ID_MIN..=KEY_ID_MAX).contains(&len) {
            return err(format!(
                "must be {KEY_ID_MIN}–{KEY_ID_MAX} characters (20 for keys issued today); got {len}"
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `AKIA…MPLE`: enough to recognise a key in a list without printing it.
    pub fn masked(&self) -> String {
        let tail = &self.0[self.0.len() - 4..];
        format!("AKIA…{tail}")
    }
}

impl TryFrom<String> for AccessKeyId {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, FieldError> {
        Self::parse(&s)
    }
}

impl From<AccessKeyId> for String {
    fn from(k: AccessKeyId) -> String {
        k.0
    }
}

impl fmt::Display for AccessKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The first characters of a refused, non-secret value, for the message.
fn preview(s: &str) -> String {
    let head: String = s.chars().take(8).collect();
    if s.chars().count() > 8 {
        format!("{head}…")
    } else {
        head
    }
}

/// Checks a secret access key: 40 characters of the base64 alphabet.
/// Returns it with surrounding white space removed.
pub fn check_secret(secret: SecretAccessKey) -> Result<SecretAccessKey, FieldError> {
    let trimmed = secret.expose().trim();
    let secret = if trimmed.len() == secret.expose().len() {
        secret
    } else {
        SecretAccessKey::new(trimmed.to_owned())
    };
    let err = |reason: String| Err(FieldError::new(Field::SecretAccessKey, reason));
    let count = secret.char_count();
    if count == 0 {
        return err(
            "is empty; it is the 40-character secret shown once when the key was created".into(),
        );
    }
    if !secret
        .expose()
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '/' || c == '+')
    {
        return err("may contain only letters, digits, '/' and '+'".into());
    }
    if count != 40 {
        return err(format!("must be 40 characters; got {count}"));
    }
    Ok(secret)
}

pub const PIN_MIN: usize = 6;
/// An upper bound so a pasted file cannot become a PIN; far above any
/// passphrase a person types.
pub const PIN_MAX: usize = 1024;

/// Checks a PIN: at least six characters.
pub fn check_pin(pin: &Pin) -> Result<(), FieldError> {
    let count = pin.char_count();
    if count < PIN_MIN {
        return Err(FieldError::new(
            Field::Pin,
            format!("must be at least {PIN_MIN} characters; got {count}"),
        ));
    }
    if count > PIN_MAX {
        return Err(FieldError::new(
            Field::Pin,
            format!("must be at most {PIN_MAX} characters; got {count}"),
        ));
    }
    if pin.expose().chars().any(char::is_control) {
        return Err(FieldError::new(
            Field::Pin,
            "may not contain control characters (tabs, line breaks)",
        ));
    }
    Ok(())
}

/// How many guesses a PIN that alone guards a key must take at least
/// (zxcvbn's estimate, as a power of ten): 10^9 guesses at Argon2id's
/// ~0.15 s of a core each is about 4.7 core-years, and a copy of the
/// keychain can be guessed at offline with no back-off. A TPM-bound key
/// needs no such rule: the TPM refuses guesses after a few wrong ones.
pub const PIN_ONLY_MIN_GUESSES_LOG10: f64 = 9.0;

/// zxcvbn reads at most this many characters; a longer PIN is long enough.
const STRENGTH_CHARS: usize = 100;

/// The estimated guesses to find `pin`, as a power of ten (zxcvbn:
/// dictionaries, keyboard patterns, dates, repeats, l33t).
pub fn pin_guesses_log10(pin: &Pin) -> f64 {
    let head: zeroize::Zeroizing<String> =
        zeroize::Zeroizing::new(pin.expose().chars().take(STRENGTH_CHARS).collect());
    zxcvbn::zxcvbn(head.as_str(), &[]).guesses_log10()
}

/// Refuses a PIN that would guard a key alone (no TPM) and is estimated
/// to fall to fewer than 10^`min_log10` guesses.
pub fn check_pin_strength(pin: &Pin, min_log10: f64) -> Result<(), FieldError> {
    let got = pin_guesses_log10(pin);
    if got >= min_log10 {
        return Ok(());
    }
    Err(FieldError::new(
        Field::Pin,
        format!(
            "too easy to guess for a key that only the PIN protects (no TPM here): about 10^{got:.1} guesses, at least 10^{min_log10:.0} needed — use a passphrase of a few unrelated words, or digits and symbols mixed in"
        ),
    ))
}

/// Whether a new identity's key is bound to the TPM (`keyfob add --tpm`,
/// `[settings] tpm`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TpmChoice {
    /// Refuse to add without a TPM.
    Require,
    /// Bind where a TPM answers, else seal under the PIN alone.
    #[default]
    Prefer,
    /// The PIN alone (Argon2id), as keyfob did before TPMs.
    Off,
}

impl TpmChoice {
    /// As `--tpm` and the setting spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            TpmChoice::Require => "require",
            TpmChoice::Prefer => "prefer",
            TpmChoice::Off => "off",
        }
    }
}

impl std::str::FromStr for TpmChoice {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, FieldError> {
        match s {
            "require" => Ok(TpmChoice::Require),
            "prefer" => Ok(TpmChoice::Prefer),
            "off" => Ok(TpmChoice::Off),
            _ => Err(FieldError::new(
                Field::Tpm,
                "must be require, prefer or off",
            )),
        }
    }
}

/// Checks that the confirmation matches the PIN.
pub fn check_pin_confirmation(pin: &Pin, confirmation: &Pin) -> Result<(), FieldError> {
    if pin == confirmation {
        Ok(())
    } else {
        Err(FieldError::new(
            Field::PinConfirmation,
            "does not match the PIN; enter the same PIN twice",
        ))
    }
}

/// An identity's name: 1–64 letters, digits, `-`, `_` and `.`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdentityName(String);

pub const NAME_MAX: usize = 64;

impl IdentityName {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        check_name(Field::IdentityName, input)?;
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IdentityName {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, FieldError> {
        Self::parse(&s)
    }
}

impl From<IdentityName> for String {
    fn from(n: IdentityName) -> String {
        n.0
    }
}

impl fmt::Display for IdentityName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The rule for identity and profile names: 1–64 letters, digits, `-`,
/// `_` and `.` — nothing that could inject INI or TOML syntax (`[`, `]`,
/// `=`, line breaks) into the files keyfob writes them to.
pub fn check_name(field: Field, input: &str) -> Result<(), FieldError> {
    let err = |reason: String| Err(FieldError::new(field, reason));
    if input.is_empty() {
        return err("is empty; use 1–64 letters, digits, '-', '_' and '.'".into());
    }
    if let Some(c) = input
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return err(format!(
            "may contain only letters, digits, '-', '_' and '.'; found {c:?}"
        ));
    }
    // A name is an argument of `keyfob credential-process NAME` in the AWS
    // config: one starting with '-' would be read as an option there, and
    // '.' / '..' look like paths.
    if !input.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return err("must start with a letter or a digit".into());
    }
    if input.len() > NAME_MAX {
        return err(format!(
            "must be at most {NAME_MAX} characters; got {}",
            input.len()
        ));
    }
    Ok(())
}

/// What the index records of an identity. Nothing here is secret: `keyfob
/// list` shows it without a PIN.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// Random and stable: the sealed key's AAD binds it, so a rename needs
    /// no PIN and a sealed key cannot be moved to another identity.
    pub id: String,
    pub name: IdentityName,
    pub access_key_id: AccessKeyId,
    /// From GetCallerIdentity, or decoded offline from the key ID.
    pub account: Option<String>,
    pub arn: Option<String>,
    pub user_id: Option<String>,
    /// Whether STS accepted the key when it was added.
    pub verified: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub added_at: OffsetDateTime,
    /// The key's creation date when IAM told us (ListAccessKeys); else the
    /// key is at least as old as `added_at`.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub key_created_at: Option<OffsetDateTime>,
    /// What IAM said about the user's keys when keyfob last asked
    /// (`keyfob keys`, `keyfob audit --refresh`); `audit` reads it offline.
    #[serde(default)]
    pub facts: Option<KeyFacts>,
    /// Where its key and sessions may be sent, fixed when it was added
    /// (bound into the sealed key's associated data). `None`: stored
    /// before keyfob kept endpoints — AWS's own, in us-east-1.
    #[serde(default)]
    pub endpoints: Option<crate::model::endpoints::Endpoints>,
}

/// The last known state of an identity's keys at IAM.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyFacts {
    #[serde(with = "time::serde::rfc3339")]
    pub checked_at: OffsetDateTime,
    pub active_keys: u32,
    pub total_keys: u32,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    pub last_used_service: Option<String>,
    pub last_used_region: Option<String>,
}

impl Identity {
    /// Where its calls go (see [`crate::model::endpoints`]).
    pub fn endpoints(&self) -> crate::model::endpoints::Endpoints {
        self.endpoints.clone().unwrap_or_default()
    }

    /// Whole days since the key was created (or, if unknown, added).
    pub fn key_age_days(&self, now: OffsetDateTime) -> i64 {
        (now - self.key_created_at.unwrap_or(self.added_at)).whole_days()
    }

    pub fn is_root(&self) -> bool {
        self.arn.as_deref().is_some_and(is_root_arn)
    }
}

/// `arn:aws:iam::123456789012:root` — a root user's (account owner's) keys.
pub fn is_root_arn(arn: &str) -> bool {
    arn.starts_with("arn:") && arn.ends_with(":root")
}

/// Decodes the AWS account ID from an access key ID without calling AWS.
///
/// Key IDs issued since 2019 carry the account in base32 (`A-Z2-7`) after
/// the four-letter prefix: take the first 6 bytes of the decoded suffix as
/// a big-endian integer `n`; the account is `(n & 0x7fffffffff80) >> 7`.
/// Older keys are not base32 and give `None`.
///
/// Written by hand because only the first 48 bits matter and a base32
/// crate would insist on a length-aligned input.
pub fn account_from_key_id(key_id: &str) -> Option<String> {
    // The first 48 bits of the base32 (RFC 4648 alphabet, A-Z2-7) after
    // the four-letter prefix: 10 characters hold 50 bits, and base32
    // decodes in groups of 8 characters, so 16 are decoded (80 bits).
    let suffix = key_id.get(4..)?;
    if !suffix
        .bytes()
        .all(|c| c.is_ascii_uppercase() || (b'2'..=b'7').contains(&c))
    {
        return None; // not base32: an older key format
    }
    let head = suffix.get(..16).or_else(|| suffix.get(..10))?;
    let mut group = head.to_owned();
    // Pad a short suffix with 'A' (zero bits) to a whole group; only the
    // first 48 bits are used.
    while group.len() % 8 != 0 {
        group.push('A');
    }
    let bytes = data_encoding::BASE32_NOPAD.decode(group.as_bytes()).ok()?;
    let n = bytes
        .iter()
        .take(6)
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    Some(format!("{:012}", (n & 0x7fff_ffff_ff80) >> 7))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The strength rule for a PIN that alone guards a key: measured, not
    /// a length rule (a long repeat is weak, a short mix is not), and the
    /// refusal never quotes the PIN.
    #[test]
    fn pin_strength_is_an_estimate_of_guesses_not_a_length() {
        let min = PIN_ONLY_MIN_GUESSES_LOG10;
        for weak in [
            "123456",
            "password1",
            "aaaaaaaaaaaaaaaa",
            "qwertyuiop",
            "keys-pin",
        ] {
            let e = check_pin_strength(&Pin::new(weak.into()), min).unwrap_err();
            assert_eq!(e.field, Field::Pin);
            assert!(!e.reason.contains(weak), "{}", e.reason);
        }
        for strong in [
            "pin-Ag3nt-only",
            "approve-pin-4821",
            "e2e-pin-123456",
            "Tr0ub4dor&3",
        ] {
            assert!(
                check_pin_strength(&Pin::new(strong.into()), min).is_ok(),
                "{strong}"
            );
        }
        // Only the first 100 characters are estimated (zxcvbn's time grows
        // with the length); a 1024-character PIN is checked at once.
        let long = Pin::new("x".repeat(1024));
        assert!(pin_guesses_log10(&long) < min);
    }

    #[test]
    fn key_ids() {
        assert!(AccessKeyId::parse("AKIAIOSFODNN7EXAMPLE").is_ok());
        assert_eq!(
            AccessKeyId::parse("  AKIAIOSFODNN7EXAMPLE\n")
                .unwrap()
                .as_str(),
            "AKIAIOSFODNN7EXAMPLE"
        );
        assert!(AccessKeyId::parse(&format!("AKIA{}", "A".repeat(124))).is_ok());
        for bad in [
            "",
            "AKIA",
            "AKIA12345678901",       // 15 characters
            "akiaiosfodnn7example",  // lowercase
            "AKIAIOSFODNN7EXAMPL!",  // punctuation
            "AKIAIOSF ODNN7EXAMPLE", // inner space
            "AIDAIOSFODNN7EXAMPLE",  // a user ID, not a key
            "ABIAIOSFODNN7EXAMPLE",
        ] {
            let e = AccessKeyId::parse(bad).unwrap_err();
            assert_eq!(e.field, Field::AccessKeyId, "{bad:?}");
        }
        assert!(AccessKeyId::parse(&format!("AKIA{}", "A".repeat(125))).is_err());
    }

    #[test]
    fn temporary_keys_are_refused_with_an_explanation() {
        let e = AccessKeyId::parse("ASIAY34FZKBOKMUTVV7A").unwrap_err();
        assert!(e.reason.contains("temporary"), "{e}");
        assert!(e.reason.contains("long-term"), "{e}");
    }

    #[test]
    fn masked_key_shows_only_the_end() {
        let k = AccessKeyId::parse("AKIAIOSFODNN7EXAMPLE").unwrap();
        assert_eq!(k.masked(), "AKIA…MPLE");
    }

    #[test]
    fn secrets() {
        let good = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        assert!(check_secret(SecretAccessKey::new(good.into())).is_ok());
        assert_eq!(
            check_secret(SecretAccessKey::new(format!(" {good}\n")))
                .unwrap()
                .expose(),
            good
        );
        for bad in [
            "",
            "short",
            &good[..39],
            &format!("{good}A"),
            &good.replace('/', "-"),
        ] {
            let e = check_secret(SecretAccessKey::new(bad.into())).unwrap_err();
            assert_eq!(e.field, Field::SecretAccessKey);
            if !bad.is_empty() {
                assert!(
                    !e.to_string().contains(bad),
                    "the message quotes the secret"
                );
            }
        }
    }

    #[test]
    fn pins() {
        assert!(check_pin(&Pin::new("123456".into())).is_ok());
        assert!(check_pin(&Pin::new("correct horse battery".into())).is_ok());
        for bad in ["", "12345", "12345\t", &"x".repeat(1025)] {
            assert_eq!(
                check_pin(&Pin::new(bad.into())).unwrap_err().field,
                Field::Pin
            );
        }
        let e = check_pin_confirmation(&Pin::new("123456".into()), &Pin::new("123465".into()))
            .unwrap_err();
        assert_eq!(e.field, Field::PinConfirmation);
    }

    #[test]
    fn names() {
        for good in ["work", "a", "prod-admin_2.eu", &"n".repeat(64)] {
            assert!(IdentityName::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "with space",
            "a/b",
            "x=y",
            "[prod]",
            "é",
            "new\nline",
            &"n".repeat(65),
            // Read as an option in `keyfob credential-process NAME`.
            "-x",
            "--help",
            ".",
            "..",
        ] {
            assert_eq!(
                IdentityName::parse(bad).unwrap_err().field,
                Field::IdentityName,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn account_decoding() {
        // The vector from the issue and AWS's published example.
        assert_eq!(
            account_from_key_id("ASIAY34FZKBOKMUTVV7A").as_deref(),
            Some("609629065308")
        );
        // Older keys are not base32: '0', '1', '8' and '9' appear.
        assert_eq!(account_from_key_id("AKIAI44QH8DHBEXAMPLE"), None);
        assert_eq!(account_from_key_id("AKIA"), None);
    }

    #[test]
    fn root_arns() {
        assert!(is_root_arn("arn:aws:iam::123456789012:root"));
        assert!(!is_root_arn("arn:aws:iam::123456789012:user/root"));
    }
}
