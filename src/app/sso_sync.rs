//! `keyfob sso sync`: the accounts and roles an Identity Center identity
//! may use become profiles, named by a template; renamed accounts and
//! removed assignments are reported, never deleted.

use super::sso::{refresh_sealed, sign_in_again, sso_access_token, sso_error};
use super::{AppError, Keyfob};
use crate::aws::sso::{self, SsoError};
use crate::model::secret::Pin;

/// The default profile name template of `keyfob sso sync`.
pub const DEFAULT_TEMPLATE: &str = "{account_name}-{role_name}";

/// The placeholders a template may use.
pub const PLACEHOLDERS: &[&str] = &["account_name", "account_id", "role_name", "identity"];

/// A checked profile name template.
#[derive(Clone, Debug)]
pub struct Template(Vec<Piece>);

#[derive(Clone, Debug)]
enum Piece {
    Text(String),
    Var(&'static str),
}

impl Template {
    /// Checks a template: text of profile-name characters and known
    /// `{placeholders}`, at least one of `{account_name}`/`{account_id}`
    /// and `{role_name}`, so every account and role gets its own name.
    pub fn parse(input: &str) -> Result<Template, crate::model::field::FieldError> {
        use crate::model::field::{Field, FieldError};
        let err = |reason: String| {
            Err(FieldError::new(
                Field::Template,
                format!(
                    "{reason}; placeholders are {}, e.g. {DEFAULT_TEMPLATE}",
                    PLACEHOLDERS
                        .iter()
                        .map(|p| format!("{{{p}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ))
        };
        let mut pieces = Vec::new();
        let mut rest = input;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('{') {
                let Some(end) = after.find('}') else {
                    return err("a '{' is not closed".into());
                };
                let name = &after[..end];
                let Some(known) = PLACEHOLDERS.iter().find(|p| **p == name) else {
                    return err(format!("unknown placeholder {{{name}}}"));
                };
                pieces.push(Piece::Var(known));
                rest = &after[end + 1..];
            } else {
                let end = rest.find('{').unwrap_or(rest.len());
                let text = &rest[..end];
                if let Some(c) = text
                    .chars()
                    .find(|c| !(c.is_ascii_alphanumeric() || "-_.".contains(*c)))
                {
                    return err(format!(
                        "{c:?} cannot be in a profile name (letters, digits, '-', '_' and '.')"
                    ));
                }
                pieces.push(Piece::Text(text.to_owned()));
                rest = &rest[end..];
            }
        }
        let has = |v: &str| pieces.iter().any(|p| matches!(p, Piece::Var(x) if *x == v));
        if !(has("account_name") || has("account_id")) || !has("role_name") {
            return err(
                "must contain {role_name} and {account_name} or {account_id}, so every account and role gets its own profile".into(),
            );
        }
        Ok(Template(pieces))
    }

    /// The profile name for one assignment. Characters a profile name may
    /// not hold (an account name's spaces) become '-'; a result that is
    /// still not a profile name is refused, naming the account.
    pub fn render(
        &self,
        identity: &str,
        account: &sso::Account,
        role_name: &str,
    ) -> Result<String, crate::model::field::FieldError> {
        let clean = |s: &str| -> String {
            s.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                        c
                    } else {
                        '-'
                    }
                })
                .collect()
        };
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Var("account_name") => out.push_str(&clean(&account.account_name)),
                Piece::Var("account_id") => out.push_str(&account.account_id),
                Piece::Var("role_name") => out.push_str(&clean(role_name)),
                Piece::Var(_) => out.push_str(identity),
            }
        }
        crate::model::identity::check_name(crate::model::field::Field::ProfileName, &out).map_err(|e| {
            crate::model::field::FieldError::new(
                crate::model::field::Field::Template,
                format!(
                    "gives {out:?} for account {} role {role_name}, which is not a profile name ({})",
                    account.account_id, e.reason
                ),
            )
        })?;
        Ok(out)
    }
}

/// What a sync did (or, dry, would do) to one profile.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SyncChange {
    Created {
        profile: String,
        account_id: String,
        role_name: String,
    },
    /// Its region changed.
    Updated {
        profile: String,
    },
    Unchanged {
        profile: String,
    },
    /// The template gives another name now (the account was renamed): the
    /// profile keeps its name, so nothing that uses it breaks.
    Renamed {
        profile: String,
        now: String,
    },
    /// The assignment is gone: the profile stays until the person removes
    /// it.
    Removed {
        profile: String,
        account_id: String,
        role_name: String,
    },
    /// The name is taken by a profile or AWS config section that is not
    /// this assignment's: left alone.
    Conflict {
        profile: String,
        reason: String,
    },
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct SyncReport {
    pub identity: String,
    pub accounts: usize,
    pub assignments: usize,
    pub dry_run: bool,
    pub changes: Vec<SyncChange>,
}

/// `keyfob sso sync`: one profile per account and role the user may use,
/// named by `template`, region the identity's. Existing profiles of the
/// same assignment are kept (renamed accounts and removed assignments are
/// reported, never deleted); a name taken by anything else is left alone.
/// A dry run lists the same changes and writes nothing.
pub fn sso_sync(
    kf: &Keyfob,
    name: &str,
    pin: &Pin,
    template: &str,
    dry_run: bool,
) -> Result<SyncReport, AppError> {
    if !kf.is_agent() {
        let flow = super::Flow::SsoSync {
            identity: name.to_owned(),
            template: template.to_owned(),
            dry_run,
        };
        return super::remote::in_agent(kf, flow, Some(pin));
    }
    let template = Template::parse(template)?;
    let vault = kf.vault()?;
    vault.sso_get(name)?;
    let (identity, mut secrets, key) = sso_access_token(kf, name, pin)?;
    let listed = match sso::list_assignments(&identity.endpoints(), &secrets.access_token) {
        Err(SsoError::Unauthorized) => {
            // Revoked or expired early: one refresh, then once more.
            refresh_sealed(kf, &identity, &key, &mut secrets)?;
            sso::list_assignments(&identity.endpoints(), &secrets.access_token)
        }
        other => other,
    };
    let listed = listed.map_err(|e| {
        if e.needs_sign_in() {
            sign_in_again(name)
        } else {
            sso_error(e)
        }
    })?;
    // Every name is rendered (and a bad one refused) before any lock.
    let mut wanted = Vec::new();
    for (account, roles) in &listed {
        for role in roles {
            let profile = template.render(name, account, role)?;
            wanted.push((profile, account.account_id.clone(), role.clone()));
        }
    }
    let mut files = if dry_run {
        kf.read_files()?
    } else {
        kf.edit_files()?
    };
    let existing: Vec<crate::config::profile::Profile> = files
        .book
        .list()?
        .into_iter()
        .filter(|p| p.identity.as_str() == name && p.sso.is_some())
        .collect();
    let find = |account: &str, role: &str| {
        existing.iter().find(|p| {
            p.sso
                .as_ref()
                .is_some_and(|s| s.account_id == account && s.role_name == role)
        })
    };
    let mut changes = Vec::new();
    let mut write = Vec::new();
    for (profile, account_id, role_name) in &wanted {
        if let Some(have) = find(account_id, role_name) {
            if &have.name != profile {
                changes.push(SyncChange::Renamed {
                    profile: have.name.clone(),
                    now: profile.clone(),
                });
            }
            if have.region.as_deref() == Some(identity.region.as_str()) {
                if &have.name == profile {
                    changes.push(SyncChange::Unchanged {
                        profile: have.name.clone(),
                    });
                }
            } else {
                changes.push(SyncChange::Updated {
                    profile: have.name.clone(),
                });
                write.push((
                    have.name.clone(),
                    account_id.clone(),
                    role_name.clone(),
                    true,
                ));
            }
            continue;
        }
        if files.book.contains(profile) {
            changes.push(SyncChange::Conflict {
                profile: profile.clone(),
                reason: "a profile of that name exists and is not this account and role".into(),
            });
            continue;
        }
        if crate::aws::wiring::ownership(&files.aws, profile)
            == crate::aws::wiring::Ownership::Unmanaged
        {
            changes.push(SyncChange::Conflict {
                profile: profile.clone(),
                reason: format!(
                    "{} has a section of that name that keyfob does not manage",
                    files.aws_path.display()
                ),
            });
            continue;
        }
        changes.push(SyncChange::Created {
            profile: profile.clone(),
            account_id: account_id.clone(),
            role_name: role_name.clone(),
        });
        write.push((
            profile.clone(),
            account_id.clone(),
            role_name.clone(),
            false,
        ));
    }
    for p in &existing {
        let s = p.sso.as_ref().expect("filtered on sso above");
        if !wanted
            .iter()
            .any(|(_, a, r)| *a == s.account_id && *r == s.role_name)
        {
            changes.push(SyncChange::Removed {
                profile: p.name.clone(),
                account_id: s.account_id.clone(),
                role_name: s.role_name.clone(),
            });
        }
    }
    if !dry_run && !write.is_empty() {
        for (profile, account_id, role_name, replace) in &write {
            let mut p = crate::config::profile::Profile::plain(&identity.name);
            p.name = profile.clone();
            p.region = Some(identity.region.clone());
            p.sso = Some(crate::config::profile::SsoRole::parse(
                account_id, role_name,
            )?);
            files.book.put(&p, *replace)?;
            crate::aws::wiring::point_at(
                &mut files.aws,
                profile,
                profile,
                &kf.cli,
                p.region.as_deref(),
            )?;
        }
        files.save()?;
    }
    drop(files);
    Ok(SyncReport {
        identity: name.to_owned(),
        accounts: listed.len(),
        assignments: wanted.len(),
        dry_run,
        changes,
    })
}
