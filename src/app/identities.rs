//! Identities: adding one (verified with STS in one step for the CLI, or in
//! two for the app's "Verify and add keys"), with its plain profile;
//! removing one with its profiles; renaming; changing the PIN.

use crate::aws::AwsError;
use crate::aws::sts::{self, CallerIdentity};
use crate::config::profile::Profile;
use crate::model::field::{Field, FieldError};
use crate::model::identity::{AccessKeyId, Identity, IdentityName};
use crate::model::secret::{Pin, SecretAccessKey};
use crate::platform::bound::{Protection, RecoveryCode};
use crate::vault::{AddOptions, KeyVerifier, NewIdentity, Opener, Sealed, Sts, VaultError};

use super::remote::Given;
use super::{Answered, AppError, Confirm, Keyfob, Question};

/// Refuses a name that is taken, or whose plain profile cannot be written
/// (`with_profile`): a keyfob profile of that name exists, or the AWS
/// config has a section of that name keyfob does not manage and `confirm`
/// refuses to take it over. Call it before asking for any secret.
pub fn check_new_identity(
    kf: &Keyfob,
    name: &IdentityName,
    with_profile: bool,
    confirm: &dyn Confirm,
) -> Result<(), AppError> {
    kf.vault()?.check_name_free(name)?;
    if !with_profile {
        return Ok(());
    }
    // Read, not locked: nothing is written here, and `confirm` may wait
    // for a person.
    let files = kf.read_files()?;
    if files.book.contains(name.as_str()) {
        return Err(FieldError::new(
            Field::IdentityName,
            format!("a profile named {name} exists already; choose another name"),
        )
        .into());
    }
    files
        .may_write(name.as_str(), confirm)
        .map_err(|e| match e {
            AppError::NotManaged { path, .. } => FieldError::new(
                Field::IdentityName,
                format!(
                    "{} has a profile {name} that keyfob does not manage; choose another name",
                    path.display()
                ),
            )
            .into(),
            other => other,
        })
}

/// Verifies the keys with STS (unless `options.no_verify`), seals and
/// stores them, and creates the identity's plain profile when
/// `with_profile` (`keyfob add`). [`check_new_identity`] ran first, so the
/// profile's section is keyfob's to write.
pub fn add_identity(
    kf: &Keyfob,
    new: NewIdentity,
    options: AddOptions,
    with_profile: bool,
) -> Result<(Identity, Sealed), AppError> {
    let vault = kf.vault()?;
    let first = super::approvals::new_setup(&vault);
    let (identity, sealed) = vault.add_bound(new, options, &Sts)?;
    super::approvals::first_identity_added(&kf.paths, first);
    if with_profile {
        // The identity is stored; a failure here leaves it without its
        // plain profile, which `keyfob profile add` can still create.
        super::save_profile(
            kf,
            &Profile::plain(&identity.name),
            false,
            &Answered { take_over: true },
        )
        .map_err(|e| AppError::ProfileNotAdded {
            identity: identity.name.to_string(),
            source: Box::new(e),
        })?;
    }
    Ok((identity, sealed))
}

/// The `[settings] tpm` choice for new identities (`prefer` if unset or
/// unreadable: the file's own errors are reported where it is read).
pub fn tpm_choice(kf: &Keyfob) -> crate::model::identity::TpmChoice {
    crate::config::settings::Settings::load(&kf.paths.config_file())
        .map(|s| s.tpm)
        .unwrap_or_default()
}

/// `keyfob reseal`: seals identity `name`'s keys again, bound to the TPM
/// or under the PIN alone, with `new_code` (made by the face, which shows
/// it) as its new recovery code (see [`crate::vault::Vault::reseal`]).
/// Run in the agent, which does the TPM's work as for every unseal: this
/// process sends what opens the key as the answers to its asks.
pub fn reseal(
    kf: &Keyfob,
    name: &str,
    opener: Opener<'_>,
    new_pin: Option<&Pin>,
    tpm: bool,
    new_code: Option<&RecoveryCode>,
) -> Result<Protection, AppError> {
    if !kf.is_agent() {
        let (pin, code) = match opener {
            Opener::Pin(p) => (Some(p), None),
            Opener::Recovery(c) => (None, Some(c)),
        };
        let flow = crate::model::flow::Flow::Reseal {
            identity: name.to_owned(),
            tpm,
            recovery: code.is_some(),
            new_code: new_code.is_some(),
        };
        let given = Given {
            pin,
            new_pin,
            code,
            new_code,
        };
        return super::remote::in_agent_given(kf, flow, &given);
    }
    Ok(kf.vault()?.reseal(name, opener, new_pin, tpm, new_code)?)
}

/// Step one of "Verify and add keys": checks that the name (and its plain
/// profile) is free, then asks STS who the keys belong to. Nothing is
/// stored.
pub fn verify_new_identity(kf: &Keyfob, new: &NewIdentity) -> Result<CallerIdentity, AppError> {
    check_new_identity(kf, &new.name, true, &Answered { take_over: false })?;
    Ok(sts::get_caller_identity(
        &new.endpoints,
        new.access_key_id.as_str(),
        &new.secret,
    )?)
}

/// Answers with what STS said in step one, so adding does not call AWS a
/// second time.
struct Verified(CallerIdentity);

impl KeyVerifier for Verified {
    fn verify(
        &self,
        _: &AccessKeyId,
        _: &SecretAccessKey,
        _: &crate::model::endpoints::Endpoints,
    ) -> Result<CallerIdentity, AwsError> {
        Ok(self.0.clone())
    }
}

/// Step two: seals and stores an identity that [`verify_new_identity`]
/// verified as `caller`, bound to the TPM as `bind` says (the choice, and
/// whether to make a recovery code), and creates its plain profile.
pub fn add_verified_identity(
    kf: &Keyfob,
    new: NewIdentity,
    caller: CallerIdentity,
    allow_root: bool,
    bind: (crate::model::identity::TpmChoice, bool),
) -> Result<(Identity, Sealed), AppError> {
    let options = AddOptions {
        no_verify: false,
        allow_root,
        tpm: bind.0,
        recovery: bind.1,
    };
    let vault = kf.vault()?;
    let first = super::approvals::new_setup(&vault);
    let (identity, sealed) = vault.add_bound(new, options, &Verified(caller))?;
    super::approvals::first_identity_added(&kf.paths, first);
    super::save_profile(
        kf,
        &Profile::plain(&identity.name),
        false,
        &Answered { take_over: false },
    )?;
    Ok((identity, sealed))
}

/// Removes an identity, its sealed key, the profiles that use it (and
/// their AWS config sections and sessions), as `keyfob remove`. Returns
/// the identity and the removed profiles' names.
pub fn remove_identity(
    kf: &Keyfob,
    name: &str,
    confirm: &dyn Confirm,
) -> Result<(Identity, Vec<String>), AppError> {
    let vault = kf.vault()?;
    let identity = vault.get(name)?;
    confirm.confirm(&Question::RemoveIdentity(&identity))?;
    let mut files = kf.edit_files()?;
    let dependents: Vec<Profile> = files
        .book
        .list()?
        .into_iter()
        .filter(|p| p.identity == identity.name)
        .collect();
    vault.remove(name)?;
    for p in &dependents {
        files.book.remove(&p.name)?;
        if files.manages(&p.name, &p.name) {
            files.aws.remove_profile(&p.name);
        }
    }
    files.save()?;
    drop(files);
    drop_sessions(kf, &dependents);
    Ok((identity, dependents.into_iter().map(|p| p.name).collect()))
}

/// Renames an identity and the `identity =` of its profiles.
pub fn rename_identity(
    kf: &Keyfob,
    old: &str,
    new: IdentityName,
) -> Result<IdentityName, AppError> {
    let mut files = kf.edit_files()?;
    let vault = kf.vault()?;
    // Either kind: an access-key identity, else an Identity Center one.
    let renamed = match vault.rename(old, new.clone()) {
        Err(VaultError::NotFound { .. }) if vault.sso_get(old).is_ok() => {
            vault.sso_rename(old, new)?.name
        }
        other => other?.name,
    };
    let dependents: Vec<Profile> = files
        .book
        .list()?
        .into_iter()
        .filter(|p| p.identity.as_str() == old)
        .collect();
    files.book.rename_identity(old, renamed.as_str());
    files.save()?;
    drop(files);
    // Sessions are keyed by identity name: the old ones are unreachable.
    drop_sessions(kf, &dependents);
    Ok(renamed)
}

/// Changes an identity's PIN (every sealed key it has), in the agent,
/// which unseals and seals (the TPM's work included) as for every unseal.
pub fn change_pin(kf: &Keyfob, name: &str, old: &Pin, new: &Pin) -> Result<(), AppError> {
    if !kf.is_agent() {
        let flow = crate::model::flow::Flow::ChangePin {
            identity: name.to_owned(),
        };
        let given = Given {
            pin: Some(old),
            new_pin: Some(new),
            ..Given::default()
        };
        return super::remote::in_agent_given(kf, flow, &given);
    }
    let vault = kf.vault()?;
    match vault.get(name) {
        Err(VaultError::NotFound { .. }) if vault.sso_get(name).is_ok() => {
            vault.sso_change_pin(name, old, new)?
        }
        other => {
            other?;
            vault.change_pin(name, old, new)?
        }
    }
    Ok(())
}

fn drop_sessions(kf: &Keyfob, profiles: &[Profile]) {
    if let Ok(cache) = kf.cache() {
        for p in profiles {
            let _ = cache.delete(&p.session_key());
            let _ = cache.delete(&p.identity_session_key());
        }
    }
}

/// `keyfob endpoint NAME`: where identity `name`'s key and sessions go,
/// changed under its PIN (see [`crate::vault::Vault::set_endpoints`]),
/// run in the agent; its cached sessions are dropped (they were made at
/// the old endpoints). Returns the endpoints now in force.
pub fn set_endpoints(
    kf: &Keyfob,
    name: &str,
    pin: &Pin,
    endpoints: crate::model::endpoints::Endpoints,
) -> Result<crate::model::endpoints::Endpoints, AppError> {
    if !kf.is_agent() {
        let flow = crate::model::flow::Flow::SetEndpoints {
            identity: name.to_owned(),
            url: endpoints.url.clone(),
            region: Some(endpoints.region.clone()),
        };
        return super::remote::in_agent(kf, flow, Some(pin));
    }
    let moved = kf.vault()?.set_endpoints(name, pin, endpoints)?;
    if let Ok(cache) = kf.cache() {
        for p in kf.profiles()?.iter().filter(|p| p.identity == moved.name) {
            let _ = cache.delete(&p.session_key());
            let _ = cache.delete(&p.identity_session_key());
        }
        let plain = Profile::plain(&moved.name);
        let _ = cache.delete(&plain.identity_session_key());
        let _ = cache.delete(&plain.console_session_key());
    }
    Ok(moved.endpoints())
}
