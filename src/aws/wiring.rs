//! Wiring keyfob profiles into the AWS config file: each profile keyfob
//! manages is a section whose `credential_process` runs
//! `keyfob credential-process NAME`, plus `region` if the profile has one.
//!
//! A section is *managed* when its `credential_process` runs a program
//! called `keyfob` with `credential-process`; keyfob never rewrites a
//! section it does not manage without the caller having asked the user.

use std::path::{Path, PathBuf};

use super::config_file::{AwsFile, ConfigFileError};

/// The AWS config file: `AWS_CONFIG_FILE`, else `~/.aws/config`.
pub fn config_path() -> Option<PathBuf> {
    std::env::var_os("AWS_CONFIG_FILE")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|h| h.join(".aws/config")))
}

/// The shared credentials file: `AWS_SHARED_CREDENTIALS_FILE`, else
/// `~/.aws/credentials`.
pub fn credentials_path() -> Option<PathBuf> {
    std::env::var_os("AWS_SHARED_CREDENTIALS_FILE")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|h| h.join(".aws/credentials")))
}

/// `<exe> credential-process NAME`, the executable quoted for the shell-like
/// splitting botocore and the SDKs apply.
pub fn credential_process_line(exe: &Path, profile: &str) -> String {
    let exe = exe.to_string_lossy();
    let quoted = shlex::try_quote(&exe).unwrap_or(exe.clone());
    format!("{quoted} credential-process {profile}")
}

/// Who owns a section of the AWS config file.
#[derive(Debug, PartialEq, Eq)]
pub enum Ownership {
    Missing,
    /// Managed by keyfob, pointing at this keyfob profile.
    Managed(String),
    Unmanaged,
}

/// Whether `aws_profile` exists and whether keyfob manages it.
pub fn ownership(file: &AwsFile, aws_profile: &str) -> Ownership {
    if file.profile(aws_profile).is_none() {
        return Ownership::Missing;
    }
    match file
        .get(aws_profile, "credential_process")
        .and_then(|line| keyfob_target(&line))
    {
        Some(profile) => Ownership::Managed(profile),
        None => Ownership::Unmanaged,
    }
}

/// The keyfob profile a `credential_process` line runs, if it runs keyfob.
pub fn keyfob_target(line: &str) -> Option<String> {
    let argv = shlex::split(line)?;
    let program = Path::new(argv.first()?).file_name()?.to_str()?;
    match argv.as_slice() {
        [_, cmd, profile] if program == "keyfob" && cmd == "credential-process" => {
            Some(profile.clone())
        }
        _ => None,
    }
}

/// Keys that would compete with `credential_process` for where credentials
/// come from; removed when keyfob takes a section over.
const CONFLICTING: &[&str] = &[
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "role_arn",
    "source_profile",
    "credential_source",
    "external_id",
    "mfa_serial",
    "role_session_name",
    "duration_seconds",
    "web_identity_token_file",
    "sso_session",
    "sso_account_id",
    "sso_role_name",
    "sso_start_url",
    "sso_region",
    "login_session",
];

/// Points `aws_profile` at `keyfob credential-process keyfob_profile`,
/// with `region` if given. Other keys and sections are kept as they are.
pub fn point_at(
    file: &mut AwsFile,
    aws_profile: &str,
    keyfob_profile: &str,
    exe: &Path,
    region: Option<&str>,
) -> Result<(), ConfigFileError> {
    file.remove_keys(aws_profile, CONFLICTING);
    let line = credential_process_line(exe, keyfob_profile);
    let mut entries = vec![("credential_process", line.as_str())];
    if let Some(r) = region {
        entries.push(("region", r));
    }
    file.set_profile(aws_profile, &entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::config_file::Flavor;

    #[test]
    fn recognises_keyfob_lines() {
        assert_eq!(
            keyfob_target("/usr/bin/keyfob credential-process work").as_deref(),
            Some("work")
        );
        assert_eq!(
            keyfob_target("'/home/a b/keyfob' credential-process work").as_deref(),
            Some("work")
        );
        assert_eq!(keyfob_target("aws-vault export --format=json work"), None);
        assert_eq!(keyfob_target("keyfob credential-process"), None);
        assert_eq!(keyfob_target("/bin/notkeyfob credential-process x"), None);
    }

    #[test]
    fn quotes_paths_with_spaces() {
        let line = credential_process_line(Path::new("/home/a b/keyfob"), "work");
        assert_eq!(line, "'/home/a b/keyfob' credential-process work");
        assert_eq!(keyfob_target(&line).as_deref(), Some("work"));
    }

    #[test]
    fn ownership_and_takeover() {
        let text = "# mine\n[profile legacy]\naws_access_key_id = AKIAX\nregion = us-east-1\n\n[profile k]\ncredential_process = /x/keyfob credential-process k\n";
        let mut file = AwsFile::parse(text, Flavor::Config);
        assert_eq!(ownership(&file, "legacy"), Ownership::Unmanaged);
        assert_eq!(ownership(&file, "k"), Ownership::Managed("k".into()));
        assert_eq!(ownership(&file, "none"), Ownership::Missing);
        point_at(&mut file, "legacy", "work", Path::new("/x/keyfob"), None).unwrap();
        assert_eq!(
            ownership(&file, "legacy"),
            Ownership::Managed("work".into())
        );
        assert_eq!(file.get("legacy", "aws_access_key_id"), None);
        assert_eq!(file.get("legacy", "region").as_deref(), Some("us-east-1"));
        assert!(file.to_text().starts_with("# mine\n[profile legacy]\n"));
    }
}
