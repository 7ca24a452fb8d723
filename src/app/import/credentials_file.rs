//! `import --from credentials-file` (the default): moving plaintext
//! long-term keys out of the shared credentials file into the vault, and
//! role profiles of the AWS config file into keyfob.
//!
//! Each key is verified with STS and sealed under its own PIN before the
//! credentials file is rewritten without it; keys that fail stay where
//! they were. The credentials file is locked from the moment it is read
//! until it is written, so a concurrent edit of it waits rather than being
//! lost; its backup (which still holds the keys) is readable by the user
//! alone. Role profiles whose `source_profile` is (now) an identity become
//! keyfob profiles, and their config sections point at keyfob.

use std::collections::BTreeSet;

use crate::app::{Answered, AppError, Keyfob};
use crate::aws::config_file::{AwsFile, Flavor};
use crate::aws::wiring;
use crate::config::profile::Profile;
use crate::model::endpoints::Endpoints;
use crate::model::identity::AccessKeyId;
use crate::model::secret::SecretAccessKey;
use crate::platform::fsutil::{self, backup_path};

use super::host::{ImportHost, ImportReport, Key, name_problem, seal};
use super::roles::{RoleOptions, import_roles};

/// Imports every long-term key of the shared credentials file that
/// `host` agrees to, then the role profiles that name an identity; with
/// `dry_run`, says what it would do.
pub(super) fn import(
    kf: &Keyfob,
    host: &dyn ImportHost,
    endpoints: Endpoints,
    dry_run: bool,
) -> Result<ImportReport, AppError> {
    let mut report = ImportReport::default();
    let cred_path = wiring::credentials_path().ok_or(AppError::NoCredentialsFile)?;
    let vault = kf.vault()?;

    // What can be imported, and why the rest cannot (read unlocked: the
    // person is asked about each key before anything is written).
    let creds = AwsFile::load(&cred_path, Flavor::Credentials)?;
    let mut candidates = Vec::new();
    for name in creds.profile_names() {
        let (Some(key_id), Some(_)) = (
            creds.get(&name, "aws_access_key_id"),
            creds.get(&name, "aws_secret_access_key"),
        ) else {
            continue;
        };
        let skip = |why: String| host.say(&format!("Skipping [{name}]: {why}."));
        if creds.get(&name, "aws_session_token").is_some() || key_id.starts_with("ASIA") {
            skip("a temporary key; it expires on its own".into());
            continue;
        }
        let identity = match name_problem(&vault, &name) {
            Ok(n) => n,
            Err(e) => {
                skip(e);
                continue;
            }
        };
        match AccessKeyId::parse(&key_id) {
            Ok(k) => candidates.push((name, identity, k)),
            Err(e) => skip(e.to_string()),
        }
    }
    if candidates.is_empty() {
        host.say(&format!(
            "No long-term keys to import in {}.",
            cred_path.display()
        ));
    }

    if dry_run {
        let mut would_be = BTreeSet::new();
        for (section, identity, key_id) in &candidates {
            host.say(&format!(
                "Would import [{section}] ({}) as identity {identity}, once STS verifies it, with a profile {identity}; its key would then be removed from {} (a backup kept).",
                key_id.masked(),
                cred_path.display()
            ));
            would_be.insert(identity.as_str().to_owned());
        }
        let options = RoleOptions {
            dry_run: true,
            would_be: &would_be,
            self_sourced: false,
        };
        import_roles(kf, host, &options)?;
        host.say("Dry run: nothing was changed.");
        return Ok(report);
    }

    let mut imported = Vec::new();
    for (section, identity, key_id) in candidates {
        // Read only now, and wiped when the key drops.
        let secret = SecretAccessKey::new(
            creds
                .get(&section, "aws_secret_access_key")
                .unwrap_or_default(),
        );
        let key = Key {
            origin: format!("[{section}]"),
            identity: identity.clone(),
            key_id,
            secret,
        };
        if seal(kf, host, &vault, &endpoints, key)? {
            imported.push((section, identity));
        }
    }

    // Plain profiles for the new identities, then the credentials file
    // without their keys: read again under its lock, so an edit made since
    // the first read is kept.
    for (section, identity) in &imported {
        let mut profile = Profile::plain(identity);
        profile.region = creds
            .get(section, "region")
            .filter(|r| crate::model::limits::region(r).is_ok());
        if !kf.book()?.contains(&profile.name) {
            crate::app::save_profile(kf, &profile, false, &Answered { take_over: true })?;
        }
    }
    if !imported.is_empty() {
        let _lock = fsutil::lock_for(&cred_path)?;
        let mut creds = AwsFile::load(&cred_path, Flavor::Credentials)?;
        for (section, _) in &imported {
            creds.remove_keys(
                section,
                &[
                    "aws_access_key_id",
                    "aws_secret_access_key",
                    "aws_session_token",
                ],
            );
            if creds.profile(section).is_some_and(|kv| kv.is_empty()) {
                creds.remove_profile(section);
            }
        }
        creds.save(&cred_path)?;
        report.cleaned = Some((cred_path.clone(), backup_path(&cred_path), imported.len()));
    }

    let options = RoleOptions {
        dry_run: false,
        would_be: &BTreeSet::new(),
        self_sourced: false,
    };
    import_roles(kf, host, &options)?;
    Ok(report)
}
