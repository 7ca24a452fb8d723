//! A profile from what a person typed: every field checked against AWS's
//! limits, the first wrong one named.

use super::model::*;
use crate::model::field::{Field, FieldError};
use crate::model::identity::{IdentityName, check_name};
use crate::model::limits;

impl Profile {
    /// Checks every field of a profile that starts from an identity; the
    /// first wrong one is named in the error. A chained profile (with
    /// `source_profile`) is built by [`ProfileBook::build`], which finds
    /// its source.
    pub fn from_input(input: &ProfileInput) -> Result<Profile, FieldError> {
        Self::from_input_with(input, None)
    }

    /// Checks every field; `source` is the resolved `source_profile`.
    pub(super) fn from_input_with(
        input: &ProfileInput,
        source: Option<Profile>,
    ) -> Result<Profile, FieldError> {
        check_name(Field::ProfileName, &input.name)?;
        let some = |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
        let identity = match (&source, some(&input.source_profile)) {
            (None, None) => IdentityName::parse(&input.identity)?,
            (Some(src), Some(_)) => {
                if !input.identity.is_empty() {
                    return Err(FieldError::new(
                        Field::SourceProfile,
                        "give an identity or a source profile, not both",
                    ));
                }
                src.identity.clone()
            }
            (None, Some(name)) => {
                return Err(FieldError::new(
                    Field::SourceProfile,
                    format!("no profile named {name} — `keyfob profile list` shows them"),
                ));
            }
            (Some(_), None) => unreachable!("a source is only resolved for a source_profile"),
        };

        let role = match some(&input.role_arn) {
            Some(arn) => {
                let account = limits::role_arn(&arn)?;
                let external_id = some(&input.external_id);
                if let Some(x) = &external_id {
                    limits::external_id(x)?;
                }
                let session_name = some(&input.role_session_name);
                if let Some(n) = &session_name {
                    limits::role_session_name(n)?;
                }
                let source_identity = some(&input.source_identity);
                if let Some(s) = &source_identity {
                    limits::source_identity(s)?;
                }
                limits::tags(&input.tags)?;
                limits::transitive_tags(&input.transitive_tags, &input.tags)?;
                limits::policy_arns(&input.policy_arns)?;
                Some(Role {
                    arn,
                    account,
                    external_id,
                    session_name,
                    source_identity,
                    // Set by the guard, or read back by ProfileBook::get.
                    external_id_guard: None,
                    tags: input.tags.clone(),
                    transitive_tags: input.transitive_tags.clone(),
                    policy_arns: input.policy_arns.clone(),
                })
            }
            None => {
                for (field, given) in [
                    (Field::ExternalId, some(&input.external_id).is_some()),
                    (
                        Field::RoleSessionName,
                        some(&input.role_session_name).is_some(),
                    ),
                    (
                        Field::SourceIdentity,
                        some(&input.source_identity).is_some(),
                    ),
                    (Field::Tags, !input.tags.is_empty()),
                    (Field::TransitiveTags, !input.transitive_tags.is_empty()),
                    (Field::PolicyArns, !input.policy_arns.is_empty()),
                    (Field::SourceProfile, source.is_some()),
                ] {
                    if given {
                        return Err(FieldError::new(field, "needs a role ARN (--role-arn)"));
                    }
                }
                None
            }
        };
        let mut mfa_serial = some(&input.mfa_serial);
        if let Some(m) = &mfa_serial {
            limits::mfa_serial(m)?;
        }
        // What the chain allows: a chained profile uses its first
        // profile's identity session (and MFA), and a role assumed with
        // role credentials lasts at most an hour.
        let chained = match &source {
            Some(src) => {
                if mfa_serial.is_some() && mfa_serial != src.mfa_serial {
                    return Err(FieldError::new(
                        Field::MfaSerial,
                        format!(
                            "a chained profile uses the session of its first profile, {}: set mfa_serial there",
                            src.root().name
                        ),
                    ));
                }
                mfa_serial = src.mfa_serial.clone();
                if src.chain_roles() + 1 > limits::MAX_CHAIN_ROLES {
                    return Err(FieldError::new(
                        Field::SourceProfile,
                        format!(
                            "a role chain may hold at most {} roles; {} already has {}",
                            limits::MAX_CHAIN_ROLES,
                            src.name,
                            src.chain_roles()
                        ),
                    ));
                }
                if let Some(role) = &role {
                    for (key, _) in &role.tags {
                        if let Some(hop) = src.transitive_tag_owner(key) {
                            return Err(FieldError::new(
                                Field::Tags,
                                format!(
                                    "{key:?} is a transitive tag of {hop}, earlier in the chain; AWS refuses to set it again"
                                ),
                            ));
                        }
                    }
                }
                src.role.is_some() || src.sso.is_some()
            }
            None => false,
        };
        let duration_secs = match some(&input.duration) {
            Some(d) => {
                let d = crate::model::duration::parse(&d)?;
                if chained {
                    limits::duration_within(
                        d,
                        (limits::ROLE_DURATION.0, limits::ROLE_CHAINING_MAX),
                        "a chained role session (AWS's limit for role chaining)",
                    )?;
                } else if role.is_some() {
                    limits::duration_within(d, limits::ROLE_DURATION, "a role session")?;
                } else {
                    limits::duration_within(d, limits::SESSION_DURATION, "a session")?;
                }
                Some(d.as_secs())
            }
            None => None,
        };
        let region = some(&input.region);
        if let Some(r) = &region {
            limits::region(r)?;
        }
        Ok(Profile {
            name: input.name.clone(),
            identity,
            source: source.map(Box::new),
            role,
            mfa_serial,
            duration_secs,
            region,
            sso: None,
            login: None,
            defaults: Durations::default(),
            approvals: Default::default(),
        })
    }
}
