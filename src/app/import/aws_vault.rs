//! `import --from aws-vault` (and `--from granted`, whose IAM credentials
//! are kept the same way): the long-term keys the tool keeps (its Secret
//! Service collection and its encrypted file backend, read by
//! [`super::aws_vault_store`]) become identities, and the profiles it
//! reads from the AWS config file keyfob profiles.
//!
//! aws-vault names each key after the profile it was added as; that name
//! becomes the identity's, and the profile of that name (its `region`,
//! `mfa_serial`, `duration_seconds`) its plain profile — or, when the
//! profile has a `role_arn` and no `source_profile` (aws-vault then uses
//! the profile's own keys), a role profile of the identity. Everything is
//! read before anything is sealed; aws-vault's copies are removed only
//! once the person agrees (a question per store, `--yes` answers it).

use std::collections::BTreeSet;

use crate::app::{Answered, AppError, Keyfob, Question};
use crate::aws::config_file::AwsFile;
use crate::config::profile::ProfileInput;
use crate::model::endpoints::Endpoints;
use crate::model::flow::Removal;
use crate::model::identity::{AccessKeyId, IdentityName};
use crate::vault::Vault;

use super::aws_vault_store::{self, Content, Entry, Place, Stores, Tool};
use super::host::{ImportHost, ImportReport, ImportRun, Key, name_problem, seal};
use super::roles::{RoleOptions, import_roles, not_imported};

/// An entry judged: to import, or already in the vault.
enum Verdict {
    Import(Key),
    /// The vault already has this very key, as identity `.0`.
    AlreadyIn(String),
}

/// Judges every entry, saying why those skipped are; the rest, each
/// with its place in aws-vault's stores.
fn judge(
    host: &dyn ImportHost,
    vault: &Vault,
    stores: &Stores<'_>,
    entries: Vec<Entry>,
) -> Result<Vec<(Place, Verdict)>, AppError> {
    let known = vault.list()?;
    let mut claimed = BTreeSet::new();
    let mut out = Vec::new();
    for entry in entries {
        let origin = entry.origin(stores);
        let skip = |why: &str| host.say(&format!("Skipping {origin}: {why}."));
        let (key_id, secret) = match entry.content {
            Content::Skip(why) => {
                skip(&why);
                continue;
            }
            Content::LongTerm { key_id, secret } => (key_id, secret),
        };
        let key_id = match AccessKeyId::parse(&key_id) {
            Ok(k) => k,
            Err(e) => {
                skip(&e.to_string());
                continue;
            }
        };
        if let Some(i) = known.iter().find(|i| i.access_key_id == key_id) {
            host.say(&format!(
                "{origin} is already in the vault, as identity {}.",
                i.name
            ));
            out.push((entry.place, Verdict::AlreadyIn(i.name.as_str().to_owned())));
            continue;
        }
        let identity = match name_problem(vault, &entry.key) {
            Ok(n) if claimed.insert(n.as_str().to_owned()) => n,
            Ok(_) => {
                skip("another key of that name comes first");
                continue;
            }
            Err(why) => {
                skip(&why);
                continue;
            }
        };
        let key = Key {
            origin,
            identity,
            key_id,
            secret,
        };
        out.push((entry.place, Verdict::Import(key)));
    }
    Ok(out)
}

/// The identity's plain profile, from the config's profile of that name
/// (`None` when, for aws-vault, that profile is a role profile:
/// [`import_roles`] makes it).
fn plain_profile(config: &AwsFile, tool: Tool, identity: &IdentityName) -> Option<ProfileInput> {
    let name = identity.as_str();
    if tool == Tool::AwsVault && config.get(name, "role_arn").is_some() {
        return None;
    }
    Some(ProfileInput {
        name: name.to_owned(),
        identity: name.to_owned(),
        mfa_serial: config.get(name, "mfa_serial"),
        duration: config.get(name, "duration_seconds"),
        region: config
            .get(name, "region")
            .filter(|r| crate::model::limits::region(r).is_ok()),
        ..ProfileInput::default()
    })
}

/// Which store a place is in, as the removal question names it.
fn store_name(stores: &Stores<'_>, place: &Place) -> String {
    match place {
        Place::SecretService(_) => format!(
            "{}'s Secret Service collection {}",
            stores.tool.name(),
            stores.collection
        ),
        Place::File(_) => format!(
            "{}'s file backend {}",
            stores.tool.name(),
            stores.file_dir.display()
        ),
    }
}

pub(super) fn import(
    kf: &Keyfob,
    host: &dyn ImportHost,
    endpoints: &Endpoints,
    run: &ImportRun,
    stores: &Stores<'_>,
) -> Result<ImportReport, AppError> {
    let vault = kf.vault()?;
    let entries = aws_vault_store::read(host, stores)?;
    let judged = judge(host, &vault, stores, entries)?;
    let files = kf.read_files()?;
    let config = &files.aws;
    if !judged.iter().any(|(_, v)| matches!(v, Verdict::Import(_))) {
        host.say(&format!(
            "No long-term keys of {} to import.",
            stores.tool.name()
        ));
    }

    if run.dry_run {
        let mut would_be = BTreeSet::new();
        for (place, verdict) in &judged {
            let Verdict::Import(key) = verdict else {
                continue;
            };
            let profile = match plain_profile(config, stores.tool, &key.identity) {
                Some(_) => format!("with a profile {}", key.identity),
                None => "its role profile converted below".to_owned(),
            };
            host.say(&format!(
                "Would import {} ({}) as identity {}, once STS verifies it (a root user's key is refused), {profile}.",
                key.origin,
                key.key_id.masked(),
                key.identity
            ));
            if let Some(line) = not_imported(config, key.identity.as_str()) {
                host.say(&line);
            }
            would_be.insert(key.identity.as_str().to_owned());
            host.say(&format!(
                "On your yes after the import, it would be removed from {}.",
                store_name(stores, place)
            ));
        }
        for (place, verdict) in &judged {
            if let Verdict::AlreadyIn(name) = verdict {
                host.say(&format!(
                    "On your yes, {}'s copy of identity {name} would be removed from {}.",
                    stores.tool.name(),
                    store_name(stores, place)
                ));
            }
        }
        let options = RoleOptions {
            dry_run: true,
            would_be: &would_be,
            self_sourced: stores.tool == Tool::AwsVault,
        };
        import_roles(kf, host, &options)?;
        host.say("Dry run: nothing was changed.");
        return Ok(ImportReport::default());
    }

    // Seal each key; what is in the vault now may leave aws-vault.
    let mut removable: Vec<(Place, String)> = Vec::new();
    let mut imported = Vec::new();
    for (place, verdict) in judged {
        match verdict {
            Verdict::AlreadyIn(name) => removable.push((place, name)),
            Verdict::Import(key) => {
                let identity = key.identity.clone();
                if seal(kf, host, &vault, endpoints, key)? {
                    removable.push((place, identity.as_str().to_owned()));
                    imported.push(identity);
                }
            }
        }
    }
    for identity in &imported {
        let Some(input) = plain_profile(config, stores.tool, identity) else {
            continue;
        };
        let book = kf.book()?;
        if book.contains(&input.name) {
            continue;
        }
        match book.build(&input) {
            Ok(profile) => {
                crate::app::save_profile(kf, &profile, false, &Answered { take_over: true })?;
                if let Some(line) = not_imported(config, identity.as_str()) {
                    host.say(&line);
                }
            }
            Err(e) => host.say(&format!("No profile {identity}: {e}.")),
        }
    }
    let options = RoleOptions {
        dry_run: false,
        would_be: &BTreeSet::new(),
        self_sourced: stores.tool == Tool::AwsVault,
    };
    import_roles(kf, host, &options)?;
    Ok(ImportReport {
        cleaned: None,
        kept: remove(host, run.removal, stores, removable),
    })
}

/// Removes from aws-vault's stores the keys now in the vault, a question
/// per store; what stays there, one line per store.
fn remove(
    host: &dyn ImportHost,
    removal: Removal,
    stores: &Stores<'_>,
    removable: Vec<(Place, String)>,
) -> Vec<String> {
    let mut kept = Vec::new();
    let (ss, file): (Vec<_>, Vec<_>) = removable
        .into_iter()
        .partition(|(p, _)| matches!(p, Place::SecretService(_)));
    for group in [ss, file] {
        let Some((first, _)) = group.first() else {
            continue;
        };
        let store = store_name(stores, first);
        let names: Vec<&str> = group.iter().map(|(_, n)| n.as_str()).collect();
        let question = Question::RemoveFromSource {
            source: &store,
            names: &names.join(", "),
        };
        let yes = match removal {
            Removal::Yes => true,
            Removal::Keep => false,
            Removal::Ask => host.confirm(&question).is_ok(),
        };
        if !yes {
            kept.push(format!(
                "{store} still holds the keys of {} (now in the vault): run keyfob import --from {} --yes to remove them, or {}.",
                names.join(", "),
                stores.tool.name(),
                stores.tool.remove_hint()
            ));
            continue;
        }
        for (place, name) in &group {
            match aws_vault_store::remove(stores, place) {
                Ok(()) => host.say(&format!("Removed {name} from {store}.")),
                Err(e) => host.say(&format!("Could not remove {name} from {store}: {e}.")),
            }
        }
    }
    kept
}
