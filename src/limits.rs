//! AWS's limits on STS parameters, checked before any call so a mistake is
//! refused here, with the rule, instead of by AWS after a PIN prompt.
//!
//! Sources: the STS API reference for GetSessionToken and AssumeRole
//! (DurationSeconds, ExternalId, RoleSessionName, SourceIdentity,
//! SerialNumber, TokenCode) and the IAM ARN format.

use std::time::Duration;

use crate::field::{Field, FieldError};

/// GetSessionToken's DurationSeconds range (root users: at most 3600).
pub const SESSION_DURATION: (u64, u64) = (900, 129_600);
/// AssumeRole's DurationSeconds range (and at most the role's maximum).
pub const ROLE_DURATION: (u64, u64) = (900, 43_200);
/// The most a chained role session (assumed with role credentials) may last.
pub const ROLE_CHAINING_MAX: u64 = 3600;

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Checks `value` is `min..=max` characters, each accepted by `ok`.
fn chars_and_length(
    field: Field,
    value: &str,
    (min, max): (usize, usize),
    ok: impl Fn(char) -> bool,
    allowed: &str,
) -> Result<(), FieldError> {
    if let Some(c) = value.chars().find(|&c| !ok(c)) {
        return Err(FieldError::new(
            field,
            format!("may contain only {allowed}; found {c:?}"),
        ));
    }
    let len = value.chars().count();
    if !(min..=max).contains(&len) {
        return Err(FieldError::new(
            field,
            format!("must be {min}–{max} characters; got {len}"),
        ));
    }
    Ok(())
}

/// ExternalId: 2–1224 characters of `[\w+=,.@:/-]`.
pub fn external_id(value: &str) -> Result<(), FieldError> {
    chars_and_length(
        Field::ExternalId,
        value,
        (2, 1224),
        |c| is_word(c) || "+=,.@:/-".contains(c),
        "letters, digits and _+=,.@:/-",
    )
}

/// RoleSessionName: 2–64 characters of `[\w+=,.@-]`.
pub fn role_session_name(value: &str) -> Result<(), FieldError> {
    chars_and_length(
        Field::RoleSessionName,
        value,
        (2, 64),
        |c| is_word(c) || "+=,.@-".contains(c),
        "letters, digits and _+=,.@-",
    )
}

/// SourceIdentity: 2–64 characters of `[\w+=,.@-]`, not starting `aws:`.
pub fn source_identity(value: &str) -> Result<(), FieldError> {
    chars_and_length(
        Field::SourceIdentity,
        value,
        (2, 64),
        |c| is_word(c) || "+=,.@-".contains(c),
        "letters, digits and _+=,.@-",
    )?;
    if value.to_ascii_lowercase().starts_with("aws:") {
        return Err(FieldError::new(
            Field::SourceIdentity,
            "may not start with aws: (reserved by AWS)",
        ));
    }
    Ok(())
}

/// MFA SerialNumber: 9–256 characters of `[\w+=/:,.@-]` (a virtual
/// device's ARN or a hardware token's serial).
pub fn mfa_serial(value: &str) -> Result<(), FieldError> {
    chars_and_length(
        Field::MfaSerial,
        value,
        (9, 256),
        |c| is_word(c) || "+=/:,.@-".contains(c),
        "letters, digits and _+=/:,.@- (e.g. arn:aws:iam::123456789012:mfa/alice)",
    )
}

/// TokenCode: exactly six digits.
pub fn mfa_code(value: &str) -> Result<(), FieldError> {
    if value.len() == 6 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(FieldError::new(
            Field::MfaCode,
            "must be the 6 digits your MFA device shows",
        ))
    }
}

/// A region name such as `eu-west-1` or `us-gov-west-1`.
pub fn region(value: &str) -> Result<(), FieldError> {
    let parts: Vec<&str> = value.split('-').collect();
    let ok = parts.len() >= 3
        && value.len() <= 32
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty();
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            Field::Region,
            "must be a region name such as us-east-1 or eu-west-2",
        ))
    }
}

/// An IAM role ARN: `arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME`, with a
/// 12-digit account, a name of 1–64 `[\w+=,.@-]` and a path of
/// `[\w+=,.@/-]`. Returns the account.
pub fn role_arn(value: &str) -> Result<String, FieldError> {
    let err = |reason: &str| {
        Err(FieldError::new(
            Field::RoleArn,
            format!("{reason}; expected arn:aws:iam::123456789012:role/NAME"),
        ))
    };
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" || parts[2] != "iam" || !parts[3].is_empty() {
        return err("is not an IAM ARN");
    }
    if !matches!(
        parts[1],
        "aws" | "aws-cn" | "aws-us-gov" | "aws-iso" | "aws-iso-b"
    ) {
        return err("has an unknown partition");
    }
    let account = parts[4];
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return err("needs a 12-digit account ID");
    }
    let Some(path_and_name) = parts[5].strip_prefix("role/") else {
        return err("is not a role ARN");
    };
    let name = path_and_name.rsplit('/').next().unwrap_or_default();
    let name_ok =
        (1..=64).contains(&name.len()) && name.chars().all(|c| is_word(c) || "+=,.@-".contains(c));
    let path_ok = path_and_name.len() <= 512 + 64
        && path_and_name
            .chars()
            .all(|c| is_word(c) || "+=,.@/-".contains(c))
        && !path_and_name.contains("//")
        // `role/` already holds the path's leading '/'.
        && !path_and_name.starts_with('/');
    if !name_ok || !path_ok {
        return err("has an invalid role name or path");
    }
    Ok(account.to_owned())
}

/// Checks a duration against a `(min, max)` range in seconds.
pub fn duration_within(
    value: Duration,
    (min, max): (u64, u64),
    what: &str,
) -> Result<(), FieldError> {
    let secs = value.as_secs();
    if (min..=max).contains(&secs) {
        Ok(())
    } else {
        Err(FieldError::new(
            Field::Duration,
            format!(
                "{what} must last {min}–{max} seconds ({}–{}); got {secs} s",
                crate::duration::human(min),
                crate::duration::human(max)
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_ids() {
        assert!(external_id("ab").is_ok());
        assert!(external_id("Unique-ID_1234+=,.@:/").is_ok());
        assert!(external_id(&"x".repeat(1224)).is_ok());
        for bad in [
            "",
            "a",
            "has space",
            "semi;colon",
            "new\nline",
            "[x]",
            &"x".repeat(1225),
        ] {
            assert_eq!(
                external_id(bad).unwrap_err().field,
                Field::ExternalId,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn session_names_and_source_identities() {
        assert!(role_session_name("alice@example.com").is_ok());
        assert!(role_session_name("a").is_err());
        assert!(role_session_name("a/b").is_err());
        assert!(role_session_name(&"x".repeat(65)).is_err());
        assert!(source_identity("alice").is_ok());
        assert!(source_identity("aws:alice").is_err());
        assert!(source_identity("a:b").is_err());
    }

    #[test]
    fn mfa() {
        assert!(mfa_serial("arn:aws:iam::123456789012:mfa/alice").is_ok());
        assert!(mfa_serial("GAHT12345678").is_ok());
        assert!(mfa_serial("short").is_err());
        assert!(mfa_serial("arn:aws:iam::123456789012:mfa/al ice").is_err());
        assert!(mfa_code("123456").is_ok());
        for bad in ["12345", "1234567", "12345a", "", "１２３４５６"] {
            assert!(mfa_code(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn regions() {
        for good in ["us-east-1", "eu-west-2", "us-gov-west-1", "ap-southeast-4"] {
            assert!(region(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "us",
            "us-east",
            "US-EAST-1",
            "us-east-1a",
            "us_east_1",
            "us-east-1\n",
        ] {
            assert!(region(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn role_arns() {
        assert_eq!(
            role_arn("arn:aws:iam::123456789012:role/Admin").unwrap(),
            "123456789012"
        );
        assert!(role_arn("arn:aws:iam::123456789012:role/path/to/Deploy-Role").is_ok());
        assert!(role_arn("arn:aws-cn:iam::123456789012:role/x").is_ok());
        for bad in [
            "",
            "role/Admin",
            "arn:aws:iam::12345678901:role/Admin",
            "arn:aws:iam::123456789012:user/alice",
            "arn:aws:sts::123456789012:role/Admin",
            "arn:aws:iam:us-east-1:123456789012:role/Admin",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:role/has space",
            "arn:aws:iam::123456789012:role/a]b",
            "arn:aws:iam::123456789012:role//Admin",
            "arn:nope:iam::123456789012:role/Admin",
        ] {
            assert_eq!(role_arn(bad).unwrap_err().field, Field::RoleArn, "{bad:?}");
        }
    }

    #[test]
    fn duration_ranges() {
        assert!(
            duration_within(Duration::from_secs(899), ROLE_DURATION, "a role session").is_err()
        );
        assert!(duration_within(Duration::from_secs(43200), ROLE_DURATION, "x").is_ok());
        assert!(duration_within(Duration::from_secs(43201), ROLE_DURATION, "x").is_err());
    }
}
