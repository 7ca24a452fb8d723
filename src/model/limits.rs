//! AWS's limits on STS parameters, checked before any call so a mistake is
//! refused here, with the rule, instead of by AWS after a PIN prompt.
//!
//! Sources: the STS API reference for GetSessionToken, AssumeRole and
//! GetFederationToken (DurationSeconds, ExternalId, RoleSessionName,
//! SourceIdentity, SerialNumber, TokenCode, Tags, TransitiveTagKeys,
//! PolicyArns, Name), the IAM user guide's "Passing session tags in AWS
//! STS" and "Role chaining", and the IAM ARN format.

use std::time::Duration;

use crate::model::field::{Field, FieldError};

/// GetSessionToken's DurationSeconds range (root users: at most 3600).
pub const SESSION_DURATION: (u64, u64) = (900, 129_600);
/// AssumeRole's DurationSeconds range (and at most the role's maximum).
pub const ROLE_DURATION: (u64, u64) = (900, 43_200);
/// The most a chained role session (assumed with role credentials) may last.
pub const ROLE_CHAINING_MAX: u64 = 3600;
/// GetFederationToken's DurationSeconds range (root users: at most 3600).
pub const FEDERATION_DURATION: (u64, u64) = (900, 129_600);
/// The console accepts a sign-in session of at most 12 hours.
pub const CONSOLE_SESSION_MAX: u64 = 43_200;
/// Session tags per AssumeRole call.
pub const MAX_TAGS: usize = 50;
/// Managed session policies per AssumeRole call.
pub const MAX_POLICY_ARNS: usize = 10;
/// Roles in one chain (identity → role → role …). AWS documents no fixed
/// number; each hop's session carries the previous one's packed tags and
/// can only be shorter, so keyfob stops a chain at five roles.
pub const MAX_CHAIN_ROLES: usize = 5;

/// The characters AWS accepts in a tag key or value:
/// `[\p{L}\p{Z}\p{N}_.:/=+\-@]`.
fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c)
}

/// A session tag key: 1–128 of the tag characters, not starting `aws:`.
pub fn tag_key(field: Field, key: &str) -> Result<(), FieldError> {
    chars_and_length(
        field,
        key,
        (1, 128),
        is_tag_char,
        "letters, digits, spaces and _.:/=+-@",
    )
    .map_err(|e| FieldError::new(field, format!("key {key:?}: {}", e.reason)))?;
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Err(FieldError::new(
            field,
            format!("key {key:?}: may not start with aws: (reserved by AWS)"),
        ));
    }
    Ok(())
}

/// Session tags (`--tag KEY=VALUE`): at most 50; keys 1–128 and values
/// 0–256 of the tag characters; no key twice, in any case (AWS treats
/// keys case-insensitively).
pub fn tags(tags: &[(String, String)]) -> Result<(), FieldError> {
    if tags.len() > MAX_TAGS {
        return Err(FieldError::new(
            Field::Tags,
            format!("at most {MAX_TAGS} session tags; got {}", tags.len()),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (key, value) in tags {
        tag_key(Field::Tags, key)?;
        chars_and_length(
            Field::Tags,
            value,
            (0, 256),
            is_tag_char,
            "letters, digits, spaces and _.:/=+-@",
        )
        .map_err(|e| FieldError::new(Field::Tags, format!("value of {key:?}: {}", e.reason)))?;
        if !seen.insert(key.to_lowercase()) {
            return Err(FieldError::new(
                Field::Tags,
                format!("key {key:?} is given twice (AWS compares tag keys without case)"),
            ));
        }
    }
    Ok(())
}

/// `--tag KEY=VALUE`, split at the first `=` (a value may hold more; a
/// key cannot, on the command line).
pub fn parse_tag(value: &str) -> Result<(String, String), FieldError> {
    match value.split_once('=') {
        Some((key, v)) if !key.is_empty() => Ok((key.to_owned(), v.to_owned())),
        _ => Err(FieldError::new(
            Field::Tags,
            format!("{value:?}: expected KEY=VALUE (an empty value is KEY=)"),
        )),
    }
}

/// Transitive tag keys (`--transitive-tag KEY`): each one of the tags.
pub fn transitive_tags(keys: &[String], tags: &[(String, String)]) -> Result<(), FieldError> {
    if keys.len() > MAX_TAGS {
        return Err(FieldError::new(
            Field::TransitiveTags,
            format!("at most {MAX_TAGS} transitive tags; got {}", keys.len()),
        ));
    }
    for key in keys {
        tag_key(Field::TransitiveTags, key)?;
        if !tags.iter().any(|(k, _)| k.eq_ignore_ascii_case(key)) {
            return Err(FieldError::new(
                Field::TransitiveTags,
                format!("{key:?} is not one of the session tags; add it with --tag {key}=VALUE"),
            ));
        }
    }
    Ok(())
}

/// Managed session policies (`--policy-arn ARN`): at most 10 IAM policy
/// ARNs, each 20–2048 characters.
pub fn policy_arns(arns: &[String]) -> Result<(), FieldError> {
    if arns.len() > MAX_POLICY_ARNS {
        return Err(FieldError::new(
            Field::PolicyArns,
            format!("at most {MAX_POLICY_ARNS} policy ARNs; got {}", arns.len()),
        ));
    }
    for arn in arns {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let ok = (20..=2048).contains(&arn.len())
            && parts.len() == 6
            && parts[0] == "arn"
            && parts[2] == "iam"
            && parts[3].is_empty()
            && (parts[4] == "aws"
                || (parts[4].len() == 12 && parts[4].bytes().all(|b| b.is_ascii_digit())))
            && parts[5]
                .strip_prefix("policy/")
                .is_some_and(|n| !n.is_empty())
            && arn.chars().all(|c| c.is_ascii_graphic());
        if !ok {
            return Err(FieldError::new(
                Field::PolicyArns,
                format!(
                    "{arn:?} is not an IAM policy ARN; expected e.g. arn:aws:iam::aws:policy/ReadOnlyAccess or arn:aws:iam::123456789012:policy/NAME"
                ),
            ));
        }
    }
    Ok(())
}

/// An AWS account ID: exactly 12 digits.
pub fn account_id(value: &str) -> Result<(), FieldError> {
    if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(FieldError::new(
            Field::Account,
            "must be a 12-digit AWS account ID, e.g. 123456789012",
        ))
    }
}

/// The name a person gives an account: 1–64 letters, digits, spaces and
/// `-_.`, not only spaces.
pub fn account_alias(value: &str) -> Result<(), FieldError> {
    chars_and_length(
        Field::AccountAlias,
        value,
        (1, 64),
        |c| c.is_alphanumeric() || " -_.".contains(c),
        "letters, digits, spaces and -_.",
    )?;
    if value.trim().is_empty() {
        return Err(FieldError::new(
            Field::AccountAlias,
            "may not be only spaces",
        ));
    }
    Ok(())
}

/// GetFederationToken's Name: 2–32 characters of `[\w+=,.@-]`.
pub fn federated_user_name(value: &str) -> Result<(), FieldError> {
    chars_and_length(
        Field::Name,
        value,
        (2, 32),
        |c| is_word(c) || "+=,.@-".contains(c),
        "letters, digits and _+=,.@-",
    )
}

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
                crate::model::duration::human(min),
                crate::model::duration::human(max)
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

    fn tag(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    #[test]
    fn session_tags_follow_aws_limits() {
        assert!(
            tags(&[
                tag("Project", "blue"),
                tag("cost:centre", ""),
                tag("Ünïcode key", "v 1")
            ])
            .is_ok()
        );
        let fifty: Vec<_> = (0..50).map(|i| tag(&format!("k{i}"), "v")).collect();
        assert!(tags(&fifty).is_ok());
        let fifty_one: Vec<_> = (0..51).map(|i| tag(&format!("k{i}"), "v")).collect();
        let e = tags(&fifty_one).unwrap_err();
        assert_eq!(e.field, Field::Tags);
        assert!(e.reason.contains("at most 50"), "{e}");
        for bad in [
            vec![tag("", "v")],
            vec![tag(&"k".repeat(129), "v")],
            vec![tag("k", &"v".repeat(257))],
            vec![tag("semi;colon", "v")],
            vec![tag("k", "new\nline\u{0}")],
            vec![tag("aws:reserved", "v")],
            vec![tag("Team", "a"), tag("team", "b")],
        ] {
            assert_eq!(tags(&bad).unwrap_err().field, Field::Tags, "{bad:?}");
        }
        assert!(tags(&[tag(&"k".repeat(128), &"v".repeat(256))]).is_ok());
    }

    #[test]
    fn transitive_tags_must_be_tags() {
        let t = [tag("Project", "blue")];
        assert!(transitive_tags(&["Project".into()], &t).is_ok());
        assert!(transitive_tags(&["project".into()], &t).is_ok());
        let e = transitive_tags(&["Team".into()], &t).unwrap_err();
        assert_eq!(e.field, Field::TransitiveTags);
        assert!(e.reason.contains("--tag Team=VALUE"), "{e}");
    }

    #[test]
    fn policy_arns_are_checked() {
        assert!(policy_arns(&["arn:aws:iam::aws:policy/ReadOnlyAccess".into()]).is_ok());
        assert!(policy_arns(&["arn:aws:iam::123456789012:policy/path/Mine".into()]).is_ok());
        let eleven: Vec<String> = (0..11)
            .map(|i| format!("arn:aws:iam::aws:policy/P{i}"))
            .collect();
        assert!(
            policy_arns(&eleven)
                .unwrap_err()
                .reason
                .contains("at most 10")
        );
        for bad in [
            "ReadOnlyAccess",
            "arn:aws:iam::aws:role/ReadOnly",
            "arn:aws:iam::12345:policy/P",
            "arn:aws:s3:::bucket/policy/x",
            "arn:aws:iam::aws:policy/",
        ] {
            assert_eq!(
                policy_arns(&[bad.into()]).unwrap_err().field,
                Field::PolicyArns,
                "{bad}"
            );
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
