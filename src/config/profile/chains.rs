//! Role chains in the book: a profile's `source_profile`, resolved and
//! checked for loops, depth and the profiles that chain from one.

use toml_edit::Item;

use super::book::ProfileBook;
use super::model::*;
use crate::model::field::{Field, FieldError};
use crate::model::limits;

impl ProfileBook {
    /// The `source_profile` profile `name` names, if any.
    pub(super) fn source_name(&self, name: &str) -> Option<String> {
        self.table()?
            .get(name)?
            .as_table_like()?
            .get("source_profile")?
            .as_str()
            .map(str::to_owned)
    }

    /// The resolved source profile `source` of profile `name`, refusing a
    /// loop (`seen` holds the chain walked so far).
    pub(super) fn source_of(
        &self,
        name: &str,
        source: Option<&str>,
        seen: &mut Vec<String>,
    ) -> Result<Option<Profile>, ProfileError> {
        let Some(source) = source.filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        let field_error = |reason: String| ProfileError::Field {
            profile: name.to_owned(),
            source: FieldError::new(Field::SourceProfile, reason),
        };
        if seen.iter().any(|s| s == source) {
            seen.push(source.to_owned());
            return Err(field_error(format!(
                "the chain loops: {}",
                seen.join(" → ")
            )));
        }
        if !self.contains(source) {
            return Err(field_error(format!(
                "no profile named {source} — `keyfob profile list` shows them"
            )));
        }
        if seen.len() > limits::MAX_CHAIN_ROLES + 1 {
            return Err(field_error(format!(
                "a role chain may hold at most {} roles",
                limits::MAX_CHAIN_ROLES
            )));
        }
        self.get_chained(source, seen).map(Some)
    }

    pub(super) fn get_chained(
        &self,
        name: &str,
        seen: &mut Vec<String>,
    ) -> Result<Profile, ProfileError> {
        let entry = self
            .table()
            .and_then(|t| t.get(name))
            .and_then(Item::as_table_like)
            .ok_or_else(|| ProfileError::NotFound { name: name.into() })?;
        let text = |key: &str| {
            entry.get(key).and_then(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .or_else(|| v.as_integer().map(|i| i.to_string()))
            })
        };
        let invalid = |source| ProfileError::Invalid {
            path: self.path.clone(),
            profile: name.into(),
            source,
        };
        let strings = |key: &str, field: Field| -> Result<Vec<String>, ProfileError> {
            let Some(item) = entry.get(key) else {
                return Ok(Vec::new());
            };
            item.as_array()
                .and_then(|a| a.iter().map(|v| v.as_str().map(str::to_owned)).collect())
                .ok_or_else(|| {
                    invalid(FieldError::new(
                        field,
                        format!("{key} must be a list of strings"),
                    ))
                })
        };
        let tags = match entry.get("tags") {
            None => Vec::new(),
            Some(item) => item
                .as_table_like()
                .and_then(|t| {
                    t.iter()
                        .map(|(k, v)| v.as_str().map(|v| (k.to_owned(), v.to_owned())))
                        .collect::<Option<Vec<_>>>()
                })
                .ok_or_else(|| {
                    invalid(FieldError::new(
                        Field::Tags,
                        "tags must be a table of strings, e.g. tags = { Project = \"blue\" }",
                    ))
                })?,
        };
        let input = ProfileInput {
            name: name.to_owned(),
            identity: text("identity").unwrap_or_default(),
            source_profile: text("source_profile"),
            role_arn: text("role_arn"),
            external_id: text("external_id"),
            role_session_name: text("role_session_name"),
            source_identity: text("source_identity"),
            mfa_serial: text("mfa_serial"),
            duration: text("duration_seconds"),
            region: text("region"),
            tags,
            transitive_tags: strings("transitive_tags", Field::TransitiveTags)?,
            policy_arns: strings("policy_arns", Field::PolicyArns)?,
        };
        seen.push(name.to_owned());
        let source = match self.source_of(name, input.source_profile.as_deref(), seen) {
            Ok(s) => s,
            Err(ProfileError::Field { source, .. }) => return Err(invalid(source)),
            Err(e) => return Err(e),
        };
        let mut profile = Profile::from_input_with(&input, source).map_err(invalid)?;
        match (text("sso_account_id"), text("sso_role_name")) {
            (None, None) => {}
            (Some(account), Some(role)) => {
                if profile.role.is_some()
                    || profile.source.is_some()
                    || profile.mfa_serial.is_some()
                {
                    return Err(invalid(FieldError::new(
                        Field::ProfileName,
                        "an Identity Center profile (sso_account_id) takes no role_arn, source_profile or mfa_serial — chain a further role from it with source_profile instead",
                    )));
                }
                profile.sso = Some(SsoRole::parse(&account, &role).map_err(invalid)?);
            }
            _ => {
                return Err(invalid(FieldError::new(
                    Field::ProfileName,
                    "sso_account_id and sso_role_name go together",
                )));
            }
        }
        if let Some(principal) = text("login_session") {
            if profile.role.is_some()
                || profile.source.is_some()
                || profile.mfa_serial.is_some()
                || profile.sso.is_some()
            {
                return Err(invalid(FieldError::new(
                    Field::ProfileName,
                    "a profile of an AWS sign-in (login_session) takes no role_arn, source_profile, mfa_serial or sso_* — chain a role from it with source_profile instead",
                )));
            }
            if !principal.starts_with("arn:") || principal.len() > 2048 {
                return Err(invalid(FieldError::new(
                    Field::ProfileName,
                    "login_session must be the ARN of who signed in, e.g. arn:aws:iam::123456789012:user/alice",
                )));
            }
            profile.login = Some(principal);
        }
        // The guard's verdict, checked like every other hand-editable value.
        if let Some(item) = entry.get("external_id_guard") {
            let guard =
                ExternalIdGuard::parse(item.as_str().unwrap_or_default()).map_err(invalid)?;
            match profile.role.as_mut() {
                Some(role) if role.external_id.is_some() => role.external_id_guard = Some(guard),
                _ => {
                    return Err(invalid(FieldError::new(
                        Field::ExternalId,
                        "external_id_guard is set but the profile has no role with an external ID — remove the line",
                    )));
                }
            }
        }
        Ok(profile)
    }

    /// The profiles that name `name` as their `source_profile`.
    pub fn chained_from(&self, name: &str) -> Vec<String> {
        self.table()
            .map(|t| {
                t.iter()
                    .filter(|(_, item)| {
                        item.as_table_like()
                            .and_then(|p| p.get("source_profile"))
                            .and_then(|v| v.as_str())
                            == Some(name)
                    })
                    .map(|(k, _)| k.to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Checks profile `name` and every profile chained from it (directly
    /// or through others), as they are in memory now.
    pub fn check_chains_through(&self, name: &str) -> Result<(), ProfileError> {
        let mut todo = vec![name.to_owned()];
        let mut done = std::collections::HashSet::new();
        while let Some(next) = todo.pop() {
            if !done.insert(next.clone()) {
                continue;
            }
            self.get(&next)?;
            todo.extend(self.chained_from(&next));
        }
        Ok(())
    }
}
