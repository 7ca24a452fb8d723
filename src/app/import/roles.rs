//! Role profiles of the AWS config file, made keyfob profiles by an
//! import: one whose source is an identity becomes an identity's role
//! profile, one whose source is a profile keyfob has (or converts in this
//! run) a role chain. Sources are converted before the profiles that
//! chain from them, so the order of sections in the file does not matter.

use std::collections::BTreeSet;

use crate::app::{Answered, AppError, Keyfob};
use crate::aws::config_file::AwsFile;
use crate::config::profile::ProfileInput;

use super::host::ImportHost;

/// The settings aws-vault v7.2.0 reads from a profile (vault/config.go,
/// `ProfileSection`) that keyfob has no counterpart for: listed as not
/// imported wherever a profile is converted.
const NOT_IMPORTED: &[&str] = &[
    "include_profile",
    "sso_session",
    "sso_start_url",
    "sso_region",
    "sso_account_id",
    "sso_role_name",
    "web_identity_token_file",
    "web_identity_token_process",
    "sts_regional_endpoints",
    "mfa_process",
];

/// How a run converts role profiles.
pub(super) struct RoleOptions<'a> {
    /// Say what would be converted; change nothing.
    pub dry_run: bool,
    /// Identities the run would have imported (a dry run has none yet).
    pub would_be: &'a BTreeSet<String>,
    /// aws-vault's rule: a profile with a `role_arn` and no
    /// `source_profile` takes the keys stored under its own name.
    pub self_sourced: bool,
}

/// The settings of `section` that are not imported, as a sentence
/// (`None` when there are none).
pub(super) fn not_imported(config: &AwsFile, section: &str) -> Option<String> {
    let mut names: Vec<String> = NOT_IMPORTED
        .iter()
        .filter(|k| config.get(section, k).is_some())
        .map(|k| (*k).to_owned())
        .collect();
    if let Some(process) = config.get(section, "credential_process")
        && !process.contains("keyfob")
    {
        names.push("credential_process (replaced by keyfob's)".into());
    }
    (!names.is_empty()).then(|| {
        format!(
            "Profile {section}: not imported (keyfob has no such setting): {}.",
            names.join(", ")
        )
    })
}

/// aws-vault's `session_tags = k1=v1,k2=v2` (vault/config.go
/// `SetSessionTags`: split on ',', then on the first '=', both sides
/// trimmed; a pair without '=' is an error).
fn session_tags(text: &str) -> Result<Vec<(String, String)>, String> {
    text.split(',')
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => Ok((k.trim().to_owned(), v.trim().to_owned())),
            None => Err("session_tags must be key=value pairs separated by commas".to_owned()),
        })
        .collect()
}

/// `transitive_session_tags = k1,k2` (`SetTransitiveSessionTags`).
fn transitive_tags(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Converts (or, in a dry run, says it would convert) the role profiles
/// of the AWS config file.
pub(super) fn import_roles(
    kf: &Keyfob,
    host: &dyn ImportHost,
    options: &RoleOptions<'_>,
) -> Result<(), AppError> {
    let files = kf.read_files()?;
    let vault = kf.vault()?;
    let config = &files.aws;
    let is_identity = |name: &str| {
        vault.get(name).is_ok() || (options.dry_run && options.would_be.contains(name))
    };
    let mut pending: Vec<(String, String, String)> = Vec::new();
    for section in config.profile_names() {
        let Some(role_arn) = config.get(&section, "role_arn") else {
            continue;
        };
        let source = match config.get(&section, "source_profile") {
            Some(source) => source,
            None if options.self_sourced && is_identity(&section) => section.clone(),
            None => continue,
        };
        if kf.book()?.contains(&section) {
            host.say(&format!(
                "Skipping role profile {section}: a keyfob profile of that name exists."
            ));
            continue;
        }
        pending.push((section, role_arn, source));
    }
    // One pass converts every profile whose source is ready; a pass that
    // converts nothing leaves the rest (unknown sources, loops) skipped.
    let mut converted = BTreeSet::new();
    loop {
        let before = pending.len();
        let mut waiting = Vec::new();
        for (section, role_arn, source) in pending {
            let from_identity = is_identity(&source);
            let book = kf.book()?;
            if !from_identity && !book.contains(&source) && !converted.contains(&source) {
                waiting.push((section, role_arn, source));
                continue;
            }
            let how = match from_identity {
                true => format!("identity {source}"),
                false => format!("chained from {source}"),
            };
            let tags = match config
                .get(&section, "session_tags")
                .map(|t| session_tags(&t))
            {
                Some(Err(e)) => {
                    host.say(&format!("Skipping role profile {section}: {e}."));
                    continue;
                }
                Some(Ok(tags)) => tags,
                None => Vec::new(),
            };
            let skipped = not_imported(config, &section);
            if options.dry_run {
                host.say(&format!(
                    "Would convert role profile {section} ({how}) into a keyfob profile; its section in {} would run keyfob.",
                    files.aws_path.display()
                ));
                converted.insert(section.clone());
                if let Some(line) = skipped {
                    host.say(&line);
                }
                continue;
            }
            let input = ProfileInput {
                name: section.clone(),
                identity: if from_identity {
                    source.clone()
                } else {
                    String::new()
                },
                source_profile: (!from_identity).then(|| source.clone()),
                role_arn: Some(role_arn),
                external_id: config.get(&section, "external_id"),
                role_session_name: config.get(&section, "role_session_name"),
                source_identity: config.get(&section, "source_identity"),
                mfa_serial: config.get(&section, "mfa_serial"),
                duration: config.get(&section, "duration_seconds"),
                region: config.get(&section, "region"),
                tags,
                transitive_tags: config
                    .get(&section, "transitive_session_tags")
                    .map(|t| transitive_tags(&t))
                    .unwrap_or_default(),
                ..ProfileInput::default()
            };
            match book.build(&input) {
                Ok(profile) => {
                    crate::app::save_profile(kf, &profile, false, &Answered { take_over: true })?;
                    converted.insert(section.clone());
                    host.say(&format!(
                        "Converted role profile {section} ({how}; a backup of {} is kept).",
                        files.aws_path.display()
                    ));
                    if let Some(line) = skipped {
                        host.say(&line);
                    }
                }
                Err(e) => host.say(&format!("Skipping role profile {section}: {e}.")),
            }
        }
        pending = waiting;
        if pending.is_empty() || pending.len() == before {
            break;
        }
    }
    for (section, _, source) in pending {
        host.say(&format!(
            "Skipping role profile {section}: its source_profile {source} is neither an identity in the vault nor a role profile keyfob could convert."
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_tags_read_as_aws_vault_reads_them() {
        assert_eq!(
            session_tags("team = infra,env=prod=1").unwrap(),
            [
                ("team".to_owned(), "infra".to_owned()),
                ("env".to_owned(), "prod=1".to_owned())
            ]
        );
        assert!(session_tags("team").is_err());
        assert_eq!(transitive_tags(" team, ,env"), ["team", "env"]);
    }
}
