//! Profiles and the AWS config file: `use`, `current`, saving a profile
//! (with the confused-deputy guard for a role with an external ID),
//! removing one, and `role check`. Every change edits config.toml and the
//! AWS config file under their locks ([`Keyfob::edit_files`]).

use serde::Serialize;

use crate::app::thirdparty::{self, ThirdPartyError};
use crate::aws::wiring::{self, Ownership};
use crate::config::profile::{ExternalIdGuard, Profile, ProfileError, ProfileInput};
use crate::credentials::{Prompter, ProviderError};
use crate::model::session::Session;

use super::{AppError, Confirm, Keyfob, resolve};

/// The keyfob profile `[default]` points at, if keyfob manages it.
pub fn current(kf: &Keyfob) -> Result<Option<String>, AppError> {
    Ok(match default_owner(kf)? {
        (_, Ownership::Managed(p)) => Some(p),
        _ => None,
    })
}

/// The profile `[default]` points at (`keyfob current`), or why there is
/// none keyfob manages.
pub fn require_current(kf: &Keyfob) -> Result<String, AppError> {
    match default_owner(kf)? {
        (_, Ownership::Managed(p)) => Ok(p),
        (path, Ownership::Unmanaged) => Err(AppError::DefaultNotManaged { path }),
        (_, Ownership::Missing) => Err(AppError::NoDefaultProfile),
    }
}

fn default_owner(kf: &Keyfob) -> Result<(std::path::PathBuf, Ownership), AppError> {
    use crate::aws::config_file::{AwsFile, Flavor};
    let path = kf.aws_config.clone().ok_or(AppError::NoAwsConfig)?;
    let file = AwsFile::load(&path, Flavor::Config)?;
    let owner = wiring::ownership(&file, "default");
    Ok((path, owner))
}

/// Points `[default]` at `name` (`keyfob use NAME`).
pub fn use_profile(kf: &Keyfob, name: &str, confirm: &dyn Confirm) -> Result<Profile, AppError> {
    kf.profile(name)?;
    let answer = super::take_over_answer(kf, "default", confirm)?;
    let mut files = kf.edit_files()?;
    let (profile, _) = resolve(kf, &files.book, name)?;
    files.may_write("default", &answer)?;
    wiring::point_at(
        &mut files.aws,
        "default",
        &profile.name,
        &kf.cli,
        profile.region.as_deref(),
    )?;
    files.save()?;
    Ok(profile)
}

/// The names people gave accounts (`keyfob alias`, the app's account
/// names), by account ID.
pub fn account_aliases(
    kf: &Keyfob,
) -> Result<std::collections::BTreeMap<String, String>, AppError> {
    Ok(kf.book()?.account_aliases())
}

/// Names an account (`alias: None` forgets its name) in config.toml,
/// under its lock; returns every alias as the file holds them now.
pub fn set_account_alias(
    kf: &Keyfob,
    account: &str,
    alias: Option<&str>,
) -> Result<std::collections::BTreeMap<String, String>, AppError> {
    crate::model::limits::account_id(account)?;
    if let Some(a) = alias {
        crate::model::limits::account_alias(a)?;
    }
    let mut files = kf.edit_files()?;
    files.book.set_account_alias(account, alias)?;
    files.save()?;
    Ok(files.book.account_aliases())
}

/// Checks a profile typed by a person and resolves its `source_profile`
/// (for `profile add` and the app's profile form).
pub fn build_profile(kf: &Keyfob, input: &ProfileInput) -> Result<Profile, AppError> {
    Ok(kf.book()?.build(input)?)
}

/// Adds or replaces a profile in config.toml and wires it into the AWS
/// config file (`keyfob profile add [--replace]`). The identity must exist.
/// Both files are checked before either is written; a changed profile's
/// cached session is dropped.
pub fn save_profile(
    kf: &Keyfob,
    profile: &Profile,
    replace: bool,
    confirm: &dyn Confirm,
) -> Result<(), AppError> {
    super::identity_account(kf, profile)?;
    // A taken name is refused before the person is asked anything.
    if !replace && kf.book()?.contains(&profile.name) {
        return Err(ProfileError::Exists {
            name: profile.name.clone(),
        }
        .into());
    }
    let answer = super::take_over_answer(kf, &profile.name, confirm)?;
    let mut files = kf.edit_files()?;
    files.book.put(profile, replace)?;
    // The chain as the file holds it now (a hop may have changed since the
    // profile was built), and the profiles that chain from this one: a
    // loop, a missing source, an over-long chain or a chained duration over
    // an hour is refused under the lock, before anything is written.
    files.book.check_chains_through(&profile.name)?;
    files.may_write(&profile.name, &answer)?;
    wiring::point_at(
        &mut files.aws,
        &profile.name,
        &profile.name,
        &kf.cli,
        profile.region.as_deref(),
    )?;
    files.save()?;
    drop(files);
    if let Ok(cache) = kf.cache() {
        let _ = cache.delete(&profile.session_key());
    }
    Ok(())
}

/// What saving a guarded profile found, for the face to tell.
pub struct Saved {
    pub profile: Profile,
    /// The role is in the identity's own account: not a third party's,
    /// though the guard ran all the same.
    pub own_account: bool,
}

/// Stores a profile (as [`save_profile`]) after running the external-ID
/// guard when it names a role with an external ID: the role is assumed
/// without the external ID and with it, using the identity's session
/// (cached, or made with what `prompter` answers). An unguarded role is
/// refused and nothing is written, unless `accept_unguarded` (then it is
/// stored marked unguarded).
pub fn save_guarded_profile(
    kf: &Keyfob,
    mut profile: Profile,
    replace: bool,
    accept_unguarded: bool,
    prompter: Option<&dyn Prompter>,
    confirm: &dyn Confirm,
) -> Result<Saved, AppError> {
    let identity_account = super::identity_account(kf, &profile)?;
    let mut own_account = false;
    // Earlier hops of a chain that carry an external ID and were never
    // checked (imported, hand-written) are checked now too: every hop
    // with an external ID is guarded before a session goes through it.
    let unchecked: Vec<Profile> = profile
        .chain()
        .into_iter()
        .filter(|hop| hop.name != profile.name && thirdparty::needs_guard(hop))
        .filter(|hop| {
            hop.role
                .as_ref()
                .is_some_and(|r| r.external_id_guard.is_none())
        })
        .cloned()
        .collect();
    if thirdparty::needs_guard(&profile) || !unchecked.is_empty() {
        if let Some(role) = &profile.role {
            own_account = identity_account.as_deref() == Some(role.account.as_str());
        }
        // Refuse a taken name before any AWS call or PIN prompt.
        if !replace && kf.book()?.contains(&profile.name) {
            return Err(ProfileError::Exists {
                name: profile.name.clone(),
            }
            .into());
        }
        let mut verdicts = Vec::new();
        for mut hop in unchecked {
            let session = guard_session(kf, &hop, prompter)?;
            if let Some(v) = thirdparty::guard(&session, &mut hop, accept_unguarded)? {
                verdicts.push((hop.name.clone(), v));
            }
        }
        if thirdparty::needs_guard(&profile) {
            let session = guard_session(kf, &profile, prompter)?;
            thirdparty::guard(&session, &mut profile, accept_unguarded)?;
        }
        if !verdicts.is_empty() {
            let mut files = kf.edit_files()?;
            for (name, verdict) in verdicts {
                files.book.set_guard(&name, verdict)?;
            }
            files.save()?;
        }
    }
    save_profile(kf, &profile, replace, confirm)?;
    Ok(Saved {
        profile,
        own_account,
    })
}

/// The identity session a profile's role is assumed with for the guard:
/// the provider's own, so its role sessions are later made from it.
fn guard_session(
    kf: &Keyfob,
    profile: &Profile,
    prompter: Option<&dyn Prompter>,
) -> Result<Session, AppError> {
    let profile = profile.clone().with_defaults(kf.durations());
    if !kf.is_agent() {
        // Sessions are made in the agent: the source profile's, or the
        // identity's with this profile's MFA device.
        let link = kf.agent_link();
        let got = match &profile.source {
            Some(source) => link.session(&source.name, false, prompter),
            None => link.identity_session(
                profile.identity.as_str(),
                profile.mfa_serial.as_deref(),
                prompter,
            ),
        };
        return got.map_err(|e| match e {
            crate::link::error::AgentError::Replied {
                kind: crate::link::protocol::ErrorKind::Locked,
                ..
            } => AppError::GuardLocked {
                identity: profile.identity.to_string(),
                mfa: profile.mfa_serial.is_some(),
            },
            other => other.into(),
        });
    }
    let cache = kf.cache()?;
    let vault = || kf.vault();
    let provider = kf.provider(cache.as_ref(), &vault, prompter);
    thirdparty::source_session(&provider, &profile).map_err(|e| match e {
        ProviderError::Locked { .. } => AppError::GuardLocked {
            identity: profile.identity.to_string(),
            mfa: profile.mfa_serial.is_some(),
        },
        ProviderError::Prompt(crate::model::ask::PromptError::NotGiven { what, .. }) => {
            let field = if what == "PIN" {
                crate::model::field::Field::Pin
            } else {
                crate::model::field::Field::MfaCode
            };
            AppError::Field(crate::model::field::FieldError::new(
                field,
                format!(
                    "needed: the external-ID guard assumes the role with identity {}'s session",
                    profile.identity
                ),
            ))
        }
        other => other.into(),
    })
}

/// `keyfob role check NAME`: runs the guard on a stored profile and records
/// the verdict. Returns the profile as stored now.
pub fn check_role(
    kf: &Keyfob,
    name: &str,
    prompter: Option<&dyn Prompter>,
) -> Result<(Profile, ExternalIdGuard), AppError> {
    let profile = kf.book()?.get(name)?;
    if profile
        .role
        .as_ref()
        .and_then(|r| r.external_id.as_ref())
        .is_none()
    {
        return Err(ThirdPartyError::NoExternalId {
            profile: profile.name.clone(),
        }
        .into());
    }
    let session = guard_session(kf, &profile, prompter)?;
    let verdict = thirdparty::check(&session, &profile)?;
    drop(session);
    // Under the lock, on the file as it is now: it may have changed while
    // AWS answered.
    let mut files = kf.edit_files()?;
    files.book.set_guard(&profile.name, verdict)?;
    files.save()?;
    Ok((files.book.get(&profile.name)?, verdict))
}

/// Removes a profile from config.toml, its AWS config section if keyfob
/// manages it, and its cached session.
pub fn remove_profile(kf: &Keyfob, name: &str, confirm: &dyn Confirm) -> Result<Profile, AppError> {
    // Asked before the files are locked: a person may take their time.
    kf.book()?.get(name)?;
    confirm.confirm(&super::Question::RemoveProfile(name))?;
    let mut files = kf.edit_files()?;
    let profile = files.book.remove(name)?;
    if files.manages(&profile.name, name) {
        files.aws.remove_profile(&profile.name);
    }
    files.save()?;
    drop(files);
    if let Ok(cache) = kf.cache() {
        let _ = cache.delete(&profile.session_key());
    }
    Ok(profile)
}

/// A profile's external-ID guard verdict, for the profiles table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GuardState {
    /// No role with an external ID: nothing to guard.
    NotApplicable,
    Guarded,
    /// Stored with "accept unguarded": assumable without the external ID.
    Unguarded,
    /// Never checked (imported, written by hand, or older than the guard).
    Unchecked,
}

pub fn guard_state(profile: &Profile) -> GuardState {
    match &profile.role {
        Some(r) if r.external_id.is_some() => match r.external_id_guard {
            Some(ExternalIdGuard::Guarded) => GuardState::Guarded,
            Some(ExternalIdGuard::Unguarded) => GuardState::Unguarded,
            None => GuardState::Unchecked,
        },
        _ => GuardState::NotApplicable,
    }
}
