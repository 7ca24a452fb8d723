//! `import`: moving plaintext long-term keys out of the shared credentials
//! file into the vault, and role profiles of the config file into keyfob.
//!
//! Each key is verified with STS and sealed under its own PIN before the
//! credentials file is rewritten without it. Keys that fail stay where they
//! were. Role profiles whose `source_profile` is (now) an identity become
//! keyfob profiles, and their config sections point at keyfob.

use anyhow::{Context as _, bail};

use keyfob::aws::config_file::{AwsFile, Flavor};
use keyfob::aws::wiring;
use keyfob::field::Field;
use keyfob::fsutil::backup_path;
use keyfob::identity::{
    AccessKeyId, FieldError, IdentityName, check_pin, check_pin_confirmation, check_secret,
};
use keyfob::profile::{Profile, ProfileInput};
use keyfob::prompt::tty;
use keyfob::secret::{Pin, SecretAccessKey};
use keyfob::vault::{AddOptions, NewIdentity, Sts};

use crate::cli::ImportArgs;
use crate::{Context, profiles, stdin_lines};

pub fn run(ctx: &Context, args: ImportArgs) -> anyhow::Result<()> {
    let cred_path =
        wiring::credentials_path().context("cannot find the shared credentials file")?;
    let mut creds = AwsFile::load(&cred_path, Flavor::Credentials)?;
    let vault = ctx.vault()?;

    // What can be imported, and why the rest cannot.
    let mut candidates = Vec::new();
    for name in creds.profile_names() {
        let (Some(key_id), Some(_)) = (
            creds.get(&name, "aws_access_key_id"),
            creds.get(&name, "aws_secret_access_key"),
        ) else {
            continue;
        };
        let skip = |why: String| println!("Skipping [{name}]: {why}.");
        if creds.get(&name, "aws_session_token").is_some() || key_id.starts_with("ASIA") {
            skip("a temporary key; it expires on its own".into());
            continue;
        }
        let identity = match IdentityName::parse(&name) {
            Ok(n) => n,
            Err(e) => {
                skip(e.to_string());
                continue;
            }
        };
        if vault.check_name_free(&identity).is_err() {
            skip(format!("an identity named {name} is already in the vault"));
            continue;
        }
        match AccessKeyId::parse(&key_id) {
            Ok(k) => candidates.push((name, identity, k)),
            Err(e) => skip(e.to_string()),
        }
    }
    if candidates.is_empty() {
        println!("No long-term keys to import in {}.", cred_path.display());
    }

    let mut pins = if args.pin_stdin {
        Some(stdin_lines(candidates.len())?.into_iter())
    } else {
        None
    };
    let mut imported = Vec::new();
    for (section, identity, key_id) in candidates {
        if !args.yes && pins.is_none() {
            let question = format!("Import [{section}] ({}) into the vault?", key_id.masked());
            if crate::confirm(&question, false, "pass --yes").is_err() {
                println!("Not importing [{section}].");
                continue;
            }
        }
        let pin = match pins.as_mut() {
            Some(lines) => match lines.next() {
                Some(mut l) => Pin::new(std::mem::take(&mut *l)),
                None => bail!(FieldError::new(
                    Field::Pin,
                    "missing: --pin-stdin expects one PIN per imported key, one per line"
                )),
            },
            None => {
                let hint = "use --pin-stdin";
                let pin = tty::ask_pin(
                    &format!("PIN for identity {identity} (at least 6 characters): "),
                    hint,
                )?;
                check_pin(&pin)?;
                check_pin_confirmation(&pin, &tty::ask_pin("Same PIN again: ", hint)?)?;
                pin
            }
        };
        check_pin(&pin)?;
        // Read only now, and wiped when `new` drops.
        let secret = check_secret(SecretAccessKey::new(
            creds
                .get(&section, "aws_secret_access_key")
                .unwrap_or_default(),
        ))?;
        let new = NewIdentity {
            name: identity.clone(),
            access_key_id: key_id,
            secret,
            pin,
        };
        match vault.add(new, AddOptions::default(), &Sts) {
            Ok(i) => {
                println!(
                    "Imported [{section}] as identity {} (account {}).",
                    i.name,
                    i.account.as_deref().unwrap_or("unknown")
                );
                imported.push((section, identity));
            }
            Err(e) => println!("Not importing [{section}]: {e}."),
        }
    }

    // Plain profiles for the new identities, then the credentials file
    // without their keys.
    for (section, identity) in &imported {
        let mut profile = Profile::plain(identity);
        profile.region = creds
            .get(section, "region")
            .filter(|r| keyfob::limits::region(r).is_ok());
        if !ctx.book()?.contains(&profile.name) {
            profiles::save_profile(ctx, &profile, false, true)?;
        }
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
    if !imported.is_empty() {
        creds.save(&cred_path)?;
        println!(
            "Removed {} key(s) from {}. The previous file is kept as {} — it still holds the plaintext keys: delete it once everything works.",
            imported.len(),
            cred_path.display(),
            backup_path(&cred_path).display()
        );
    }

    import_roles(ctx)
}

/// Converts role profiles (`role_arn` + `source_profile` naming an
/// identity) into keyfob profiles.
fn import_roles(ctx: &Context) -> anyhow::Result<()> {
    let (path, config) = profiles::aws_config()?;
    let vault = ctx.vault()?;
    for section in config.profile_names() {
        let (Some(role_arn), Some(source)) = (
            config.get(&section, "role_arn"),
            config.get(&section, "source_profile"),
        ) else {
            continue;
        };
        if vault.get(&source).is_err() {
            println!(
                "Skipping role profile {section}: its source_profile {source} is not an identity in the vault."
            );
            continue;
        }
        if ctx.book()?.contains(&section) {
            println!("Skipping role profile {section}: a keyfob profile of that name exists.");
            continue;
        }
        let input = ProfileInput {
            name: section.clone(),
            identity: source,
            role_arn: Some(role_arn),
            external_id: config.get(&section, "external_id"),
            role_session_name: config.get(&section, "role_session_name"),
            source_identity: None,
            mfa_serial: config.get(&section, "mfa_serial"),
            duration: config.get(&section, "duration_seconds"),
            region: config.get(&section, "region"),
        };
        match Profile::from_input(&input) {
            Ok(profile) => {
                profiles::save_profile(ctx, &profile, false, true)?;
                println!(
                    "Converted role profile {section} (a backup of {} is kept).",
                    path.display()
                );
            }
            Err(e) => println!("Skipping role profile {section}: {e}."),
        }
    }
    Ok(())
}
