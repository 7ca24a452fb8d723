//! A format-preserving editor for the AWS shared `config` and `credentials`
//! files.
//!
//! Why by hand: the INI crates (rust-ini, configparser) parse into maps and
//! write the maps back, which drops comments and blank lines, reorders
//! sections and normalises spacing. These files belong to the user and to
//! every other AWS tool, so keyfob edits them line by line instead: comments,
//! blank lines, order, line endings (`\n` or `\r\n`), unknown keys, nested
//! sub-sections (`s3 =` followed by indented lines) and every section keyfob
//! does not touch (other profiles, `[sso-session …]`, `[services …]`) are
//! kept byte for byte. Only the lines of the keys being set or removed change.
//!
//! This module owns the syntax (reading sections and keys the way botocore
//! and the AWS SDKs do, refusing writes that could inject syntax) and what
//! is particular to loading and saving these files (the size cap, following
//! a symbolic link); the atomic write itself, with its backup, is
//! [`crate::platform::fsutil::write_atomic`]. It does not decide where the files are
//! (`AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE`: the caller resolves
//! paths), nor which keys are written: keyfob writes only
//! `credential_process` and `region`, never a secret (DESIGN.md, "Data at
//! rest"). Because a credentials file may still hold other tools' secrets,
//! lines are wiped on drop and [`AwsFile`]'s `Debug` never shows them, and
//! no error message quotes a value.
//!
//! The parts: `reader` splits the text into lines and finds sections, keys
//! and values; `editor` validates and makes the changes; `writer` loads and
//! saves.
//!
//! Reading rules, shared by every lookup:
//! - a line whose first non-blank character is `[` starts a section; text
//!   after the closing `]` may only be a comment;
//! - `#` or `;` after optional whitespace starts a comment line;
//! - `key = value` (botocore also accepts `key: value`): the first `=` or `:`
//!   splits key from value; in a value, `#` or `;` preceded by whitespace
//!   starts an inline comment;
//! - a line indented deeper than the key line above it continues that key
//!   (a multi-line value or a nested sub-section such as `s3 =`); blank lines
//!   do not end the continuation, comment lines do (Python's configparser);
//! - a profile spread over several sections, or a key given twice, reads as
//!   one profile in which the last occurrence wins.

mod editor;
mod line;
mod reader;
mod writer;

use std::fmt;
use std::io;
use std::path::PathBuf;

use line::Line;

/// Which of the two shared files a text is: they spell section headers
/// differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// `~/.aws/config`: `[default]` and `[profile NAME]`, plus sections that
    /// are not profiles (`[sso-session NAME]`, `[services NAME]`).
    Config,
    /// `~/.aws/credentials`: `[NAME]`.
    Credentials,
}

impl fmt::Display for Flavor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Flavor::Config => "config",
            Flavor::Credentials => "credentials",
        })
    }
}

/// Files larger than this are refused rather than read: a real AWS config
/// file, even one generated for hundreds of accounts, is far smaller.
pub(super) const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error(
        "{path} is larger than {} MiB, which no AWS config file should be; keyfob will not edit it — check the file or the AWS_CONFIG_FILE variable",
        MAX_FILE_BYTES / 1024 / 1024
    )]
    TooLarge { path: PathBuf },
    #[error(
        "{path} is not UTF-8 text; keyfob will not edit it — remove the non-UTF-8 bytes and try again"
    )]
    NotUtf8 { path: PathBuf },
    #[error("cannot back up {path} to {backup}: {source}; the file was not changed")]
    Backup {
        path: PathBuf,
        backup: PathBuf,
        source: io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error(
        "profile name {name:?} cannot be written to an AWS {flavor} file: use a non-empty name without spaces, control characters, brackets, quotes, backslashes, # or ;"
    )]
    InvalidProfileName { name: String, flavor: Flavor },
    #[error(
        "key name {key:?} cannot be written to an AWS {flavor} file: use a non-empty name without spaces, control characters, brackets, =, :, # or ;"
    )]
    InvalidKey { key: String, flavor: Flavor },
    #[error(
        "profile {profile} in the AWS {flavor} file has lines keyfob cannot read unambiguously (e.g. a malformed [section] header); fix the file by hand and try again"
    )]
    Ambiguous { profile: String, flavor: Flavor },
    /// The value itself is never part of the message: it may be a secret.
    #[error("the value for {key} cannot be written to an AWS {flavor} file: {reason}")]
    InvalidValue {
        key: String,
        flavor: Flavor,
        reason: &'static str,
    },
}

/// One of the shared files, as lines, edited in place. Its methods are
/// spread over the parts: reading in `reader`, changes in `editor`,
/// [`AwsFile::load`] and [`AwsFile::save`] in `writer`.
#[derive(Clone)]
pub struct AwsFile {
    flavor: Flavor,
    lines: Vec<Line>,
}

impl fmt::Debug for AwsFile {
    /// Profile names only: the lines may hold secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsFile")
            .field("flavor", &self.flavor)
            .field("profiles", &self.profile_names())
            .finish_non_exhaustive()
    }
}

impl AwsFile {
    pub fn flavor(&self) -> Flavor {
        self.flavor
    }
}

/// The fixture the parts' tests share.
#[cfg(test)]
mod fixtures {
    use super::{AwsFile, Flavor};

    /// Comments of both kinds, blank lines, an inline comment, duplicate
    /// keys, `[profile default]`, an sso-session and a services section, a
    /// nested s3 sub-section, odd spacing, and no final newline.
    pub(super) const CONFIG: &str = "\
# keyfob test fixture
; written by hand

[default]
region = us-east-1   # home region
output=json

[ profile  work ]
region = eu-west-1
sso_session = corp
s3 =
  max_concurrent_requests = 10

  multipart_threshold = 64MB
region = eu-central-1

# the staging account
[profile staging]
\tregion: ap-south-1
credential_process = /usr/bin/keyfob credential-process --profile staging

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1

[services local]
s3 =
  endpoint_url = http://localhost:4566
[profile default]
cli_pager =";

    pub(super) fn config(text: &str) -> AwsFile {
        AwsFile::parse(text, Flavor::Config)
    }
}
