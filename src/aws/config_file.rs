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
//! and the AWS SDKs do, refusing writes that could inject syntax) and the
//! write to disk (backup, temp file, fsync, rename, fsync of the folder). It
//! does not decide where the files are (`AWS_CONFIG_FILE`,
//! `AWS_SHARED_CREDENTIALS_FILE`: the caller resolves paths) nor which keys
//! are written: keyfob writes only `credential_process` and `region`, never a
//! secret (DESIGN.md, "Data at rest"). Because a credentials file may still
//! hold other tools' secrets, lines are wiped on drop and [`AwsFile`]'s
//! `Debug` never shows them, and no error message quotes a value.
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

use std::fmt;
use std::fs::{self, DirBuilder, File};
use std::io::{self, ErrorKind, Read, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use zeroize::{Zeroize, Zeroizing};

/// Files larger than this are refused rather than read: a real AWS config
/// file, even one generated for hundreds of accounts, is far smaller.
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Mode of a file created from scratch (the AWS CLI uses the same).
const NEW_FILE_MODE: u32 = 0o600;

/// Appended to the file name for the copy of the previous content.
const BACKUP_SUFFIX: &str = ".keyfob.bak";

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

/// One of the shared files, as lines, edited in place.
#[derive(Clone)]
pub struct AwsFile {
    flavor: Flavor,
    lines: Vec<Line>,
}

/// One line: its text without the line ending, and the ending as found.
#[derive(Clone)]
struct Line {
    body: String,
    eol: Eol,
}

impl Drop for Line {
    /// A credentials file can hold other tools' secret keys.
    fn drop(&mut self) {
        self.body.zeroize();
    }
}

impl Line {
    fn new(body: String, eol: Eol) -> Self {
        Line { body, eol }
    }

    fn set_body(&mut self, body: String) {
        self.body.zeroize();
        self.body = body;
    }

    fn is_blank(&self) -> bool {
        self.body.trim().is_empty()
    }

    fn is_comment(&self) -> bool {
        is_comment(self.body.trim_start())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Eol {
    /// Only the last line of a file can lack an ending.
    None,
    Lf,
    CrLf,
}

impl Eol {
    fn as_str(self) -> &'static str {
        match self {
            Eol::None => "",
            Eol::Lf => "\n",
            Eol::CrLf => "\r\n",
        }
    }
}

/// A section as found by [`AwsFile::sections`]: `lines[header..end]`.
struct Section {
    /// The profile it belongs to; `None` for sections that are not profiles
    /// (or whose header is malformed), which are never edited.
    profile: Option<String>,
    header: usize,
    end: usize,
    keys: Vec<KeyLine>,
}

/// A key line at the top level of a section: `lines[start..end]`, where
/// the lines after `start` are its continuation (nested) lines.
struct KeyLine {
    key: String,
    start: usize,
    end: usize,
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
    /// Reads `path`; a missing file reads as an empty one.
    pub fn load(path: &Path, flavor: Flavor) -> Result<AwsFile, ConfigFileError> {
        match read_existing(path)? {
            None => Ok(AwsFile::parse("", flavor)),
            Some((bytes, _mode)) => {
                let text = std::str::from_utf8(&bytes).map_err(|_| ConfigFileError::NotUtf8 {
                    path: path.to_owned(),
                })?;
                Ok(AwsFile::parse(text, flavor))
            }
        }
    }

    /// Splits `text` into lines. Never fails: anything that is not a section
    /// header, comment or key line is kept as it is and ignored.
    pub fn parse(text: &str, flavor: Flavor) -> AwsFile {
        let mut lines = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            match rest.find('\n') {
                Some(i) => {
                    let line = &rest[..i];
                    lines.push(match line.strip_suffix('\r') {
                        Some(body) => Line::new(body.to_owned(), Eol::CrLf),
                        None => Line::new(line.to_owned(), Eol::Lf),
                    });
                    rest = &rest[i + 1..];
                }
                None => {
                    lines.push(Line::new(rest.to_owned(), Eol::None));
                    rest = "";
                }
            }
        }
        AwsFile { flavor, lines }
    }

    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// The file's text; byte-identical to the parsed text until edited.
    pub fn to_text(&self) -> String {
        let mut text = String::with_capacity(self.lines.iter().map(|l| l.body.len() + 2).sum());
        for line in &self.lines {
            text.push_str(&line.body);
            text.push_str(line.eol.as_str());
        }
        text
    }

    /// Profile names in file order, each once; `default` for `[default]`.
    pub fn profile_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for name in self.sections().into_iter().filter_map(|s| s.profile) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    /// The value of `key` in `profile`, trimmed and without an inline
    /// comment. Keys compare case-sensitively; the last occurrence wins. For
    /// a multi-line value this is its first line.
    pub fn get(&self, profile: &str, key: &str) -> Option<String> {
        self.sections()
            .iter()
            .filter(|s| s.profile.as_deref() == Some(profile))
            .flat_map(|s| &s.keys)
            .rfind(|k| k.key == key)
            .map(|k| self.value_of(k))
    }

    /// The top-level keys of `profile` in order of first appearance, each with
    /// its winning (last) value; `None` if the profile has no section.
    /// Continuation lines (a nested sub-section's indented lines) are not
    /// keys of the profile and are left out, but stay in the text.
    pub fn profile(&self, profile: &str) -> Option<Vec<(String, String)>> {
        let sections = self.sections();
        let mut mine = sections
            .iter()
            .filter(|s| s.profile.as_deref() == Some(profile))
            .peekable();
        mine.peek()?;
        let mut entries: Vec<(String, String)> = Vec::new();
        for k in mine.flat_map(|s| &s.keys) {
            let value = self.value_of(k);
            match entries.iter_mut().find(|(key, _)| *key == k.key) {
                Some(entry) => entry.1 = value,
                None => entries.push((k.key.clone(), value)),
            }
        }
        Some(entries)
    }

    /// Sets `entries` in `profile`, creating the section at the end of the
    /// file if it has none. An existing key keeps its line, indentation and
    /// spelling and gets the new value (every occurrence, so that readers
    /// that take the first and readers that take the last agree); a missing
    /// key is added after the last key line of the profile's last section.
    /// Keys not in `entries` are not touched.
    ///
    /// Refuses, before changing anything, a name, key or value that would
    /// not read back as itself: line breaks or brackets could otherwise add
    /// sections or keys the caller never meant to write.
    pub fn set_profile(
        &mut self,
        profile: &str,
        entries: &[(&str, &str)],
    ) -> Result<(), ConfigFileError> {
        self.check_profile_name(profile)?;
        for (key, value) in entries {
            self.check_entry(key, value)?;
        }
        let before = self.clone();
        if !self.has_profile(profile) {
            self.append_section(profile);
        }
        for (key, value) in entries {
            self.set_one(profile, key, value);
        }
        // A file keyfob cannot read unambiguously (e.g. a malformed section
        // header inside the profile) may make a written line belong to
        // another section for the readers; refuse rather than write
        // something AWS tools would read differently. Found by fuzzing.
        for (key, value) in entries {
            if self.get(profile, key).as_deref() != Some(*value) {
                *self = before;
                return Err(ConfigFileError::Ambiguous {
                    profile: profile.to_owned(),
                    flavor: self.flavor(),
                });
            }
        }
        Ok(())
    }

    /// Removes every occurrence of `keys` in `profile`, with their
    /// continuation lines.
    pub fn remove_keys(&mut self, profile: &str, keys: &[&str]) {
        for key in keys {
            while let Some((start, end)) = self
                .sections()
                .iter()
                .filter(|s| s.profile.as_deref() == Some(profile))
                .flat_map(|s| &s.keys)
                .find(|k| k.key == *key)
                .map(|k| (k.start, k.end))
            {
                self.remove_lines(start, end);
            }
        }
    }

    /// Removes every section of `profile`: its header and body up to the
    /// next section header, except the comment lines directly above that
    /// header, which describe the next section. At the end of the file the
    /// blank lines that separated the section from the one before go too.
    pub fn remove_profile(&mut self, profile: &str) {
        // Rescan after each removal: indices shift, and at the end of the
        // file the removal reaches into the previous section's blank lines.
        while let Some((header, end)) = self
            .sections()
            .iter()
            .find(|s| s.profile.as_deref() == Some(profile))
            .map(|s| (s.header, s.end))
        {
            let (start, stop) = if end < self.lines.len() {
                let mut keep_from = end;
                let mut i = end;
                while i > header + 1 {
                    let line = &self.lines[i - 1];
                    if line.is_comment() {
                        keep_from = i - 1;
                    } else if !line.is_blank() {
                        break;
                    }
                    i -= 1;
                }
                (header, keep_from)
            } else {
                let mut start = header;
                while start > 0 && self.lines[start - 1].is_blank() {
                    start -= 1;
                }
                (start, end)
            };
            self.remove_lines(start, stop);
        }
    }

    /// Writes the text to `path` atomically and durably, after copying the
    /// previous content to `<path>.keyfob.bak` (same mode). Writes nothing
    /// when the content is unchanged. The new file keeps the old one's mode
    /// (0600 for a new file); a missing folder is created 0700. A symbolic
    /// link (a dotfiles checkout, say) is followed, so the link stays and its
    /// target is replaced.
    pub fn save(&self, path: &Path) -> Result<(), ConfigFileError> {
        let text = Zeroizing::new(self.to_text());
        let target = resolve_link(path)?;
        let old = read_existing(&target)?;
        match &old {
            Some((bytes, _)) if bytes.as_slice() == text.as_bytes() => return Ok(()),
            None if text.is_empty() => return Ok(()),
            _ => {}
        }
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
            _ => PathBuf::from("."),
        };
        let write_err = |source| ConfigFileError::Write {
            path: target.clone(),
            source,
        };
        if !dir.exists() {
            // Only a folder keyfob creates gets 0700; an existing ~/.aws keeps
            // whatever mode its owner chose.
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .map_err(write_err)?;
        }
        let mode = match &old {
            Some((bytes, mode)) => {
                let mut backup = target.clone().into_os_string();
                backup.push(BACKUP_SUFFIX);
                let backup = PathBuf::from(backup);
                write_atomic(&dir, &backup, bytes, *mode).map_err(|source| {
                    ConfigFileError::Backup {
                        path: target.clone(),
                        backup: backup.clone(),
                        source,
                    }
                })?;
                *mode
            }
            None => NEW_FILE_MODE,
        };
        write_atomic(&dir, &target, text.as_bytes(), mode).map_err(write_err)
    }

    /// Lines of every section, in file order. Lines before the first header
    /// belong to no section.
    fn sections(&self) -> Vec<Section> {
        let mut sections: Vec<Section> = Vec::new();
        // The key whose continuation lines may follow, with its indentation.
        let mut open_key: Option<usize> = None;
        for (i, line) in self.lines.iter().enumerate() {
            let text = if i == 0 {
                line.body.strip_prefix('\u{feff}').unwrap_or(&line.body)
            } else {
                &line.body
            };
            let trimmed = text.trim_start();
            if trimmed.trim_end().is_empty() {
                continue;
            }
            if is_comment(trimmed) {
                open_key = None;
                continue;
            }
            // In characters, as Python's configparser counts.
            let indent = text[..text.len() - trimmed.len()].chars().count();
            if let (Some(key_indent), Some(section)) = (open_key, sections.last_mut())
                && indent > key_indent
            {
                if let Some(key) = section.keys.last_mut() {
                    key.end = i + 1;
                }
                continue;
            }
            open_key = None;
            if trimmed.starts_with('[') {
                if let Some(previous) = sections.last_mut() {
                    previous.end = i;
                }
                sections.push(Section {
                    profile: parse_header(trimmed.trim_end(), self.flavor),
                    header: i,
                    end: self.lines.len(),
                    keys: Vec::new(),
                });
                continue;
            }
            if let (Some(section), Some((key, _))) = (sections.last_mut(), split_key(text)) {
                section.keys.push(KeyLine {
                    key: key.to_owned(),
                    start: i,
                    end: i + 1,
                });
                open_key = Some(indent);
            }
        }
        sections
    }

    fn value_of(&self, key: &KeyLine) -> String {
        let body = &self.lines[key.start].body;
        split_key(body)
            .map(|(_, value_at)| clean_value(&body[value_at..]).to_owned())
            .unwrap_or_default()
    }

    fn has_profile(&self, profile: &str) -> bool {
        self.sections()
            .iter()
            .any(|s| s.profile.as_deref() == Some(profile))
    }

    fn header_for(&self, profile: &str) -> String {
        match self.flavor {
            Flavor::Config if profile == "default" => "[default]".to_owned(),
            Flavor::Config => format!("[profile {profile}]"),
            Flavor::Credentials => format!("[{profile}]"),
        }
    }

    fn append_section(&mut self, profile: &str) {
        let mut new = Vec::new();
        if self.lines.last().is_some_and(|l| !l.is_blank()) {
            new.push(String::new());
        }
        new.push(self.header_for(profile));
        self.insert_lines(self.lines.len(), new);
    }

    /// Sets one validated entry in an existing profile.
    fn set_one(&mut self, profile: &str, key: &str, value: &str) {
        let sections = self.sections();
        let mine: Vec<&Section> = sections
            .iter()
            .filter(|s| s.profile.as_deref() == Some(profile))
            .collect();
        let found: Vec<(usize, usize)> = mine
            .iter()
            .flat_map(|s| &s.keys)
            .filter(|k| k.key == key)
            .map(|k| (k.start, k.end))
            .collect();
        if found.is_empty() {
            let Some(last) = mine.last() else {
                return;
            };
            let (at, indent) = match last.keys.iter().max_by_key(|k| k.end) {
                Some(k) => (k.end, leading_whitespace(&self.lines[k.start].body)),
                None => (last.header + 1, ""),
            };
            let line = key_line(indent, key, value);
            self.insert_lines(at, vec![line]);
            return;
        }
        // Back to front, so removing continuation lines leaves the earlier
        // indices valid.
        for (start, end) in found.into_iter().rev() {
            let body = &self.lines[start].body;
            let Some((_, raw_at)) = split_key(body) else {
                continue;
            };
            let raw = &body[raw_at..];
            let value_at = raw_at + (raw.len() - raw.trim_start().len());
            // Keep indentation, key and spacing; replace the rest, inline
            // comment included: botocore keeps an inline comment as part of
            // the value, so keeping it would change what the new value means.
            let mut new = body[..value_at].to_owned();
            // `s3 =` becomes `s3 = x`, `key=` becomes `key=x`.
            if raw.trim().is_empty()
                && !value.is_empty()
                && new[..raw_at - 1].ends_with(char::is_whitespace)
                && !new.ends_with(char::is_whitespace)
            {
                new.push(' ');
            }
            new.push_str(value);
            self.lines[start].set_body(new);
            self.remove_lines(start + 1, end);
        }
    }

    fn check_profile_name(&self, name: &str) -> Result<(), ConfigFileError> {
        // Quotes and backslashes too: botocore reads `[profile NAME]` with
        // shlex, which would interpret them.
        let bad = |c: char| {
            c.is_whitespace()
                || c.is_control()
                || matches!(c, '[' | ']' | '#' | ';' | '"' | '\'' | '\\')
        };
        if name.is_empty() || name.contains(bad) {
            return Err(ConfigFileError::InvalidProfileName {
                name: name.to_owned(),
                flavor: self.flavor,
            });
        }
        Ok(())
    }

    fn check_entry(&self, key: &str, value: &str) -> Result<(), ConfigFileError> {
        let bad = |c: char| {
            c.is_whitespace() || c.is_control() || matches!(c, '[' | ']' | '=' | ':' | '#' | ';')
        };
        if key.is_empty() || key.contains(bad) {
            return Err(ConfigFileError::InvalidKey {
                key: key.to_owned(),
                flavor: self.flavor,
            });
        }
        let invalid = |reason| ConfigFileError::InvalidValue {
            key: key.to_owned(),
            flavor: self.flavor,
            reason,
        };
        if value.contains(char::is_control) {
            return Err(invalid(
                "it contains a line break or another control character",
            ));
        }
        // Whatever is written must read back as itself, whichever spacing the
        // existing line uses around `=`.
        if clean_value(&format!(" {value}")) != value {
            return Err(invalid(
                "it starts or ends with a space, or contains # or ; after a space (readers take that for a comment)",
            ));
        }
        Ok(())
    }

    /// The ending most lines use, for new lines.
    fn dominant_eol(&self) -> Eol {
        let crlf = self.lines.iter().filter(|l| l.eol == Eol::CrLf).count();
        let lf = self.lines.iter().filter(|l| l.eol == Eol::Lf).count();
        if crlf > lf { Eol::CrLf } else { Eol::Lf }
    }

    /// Inserts `bodies` before line `at`. At the end of a file that has no
    /// final line ending, the new last line has none either.
    fn insert_lines(&mut self, at: usize, bodies: Vec<String>) {
        let eol = self.dominant_eol();
        let mut last_eol = eol;
        if at == self.lines.len()
            && let Some(last) = self.lines.last_mut()
            && last.eol == Eol::None
        {
            last.eol = eol;
            last_eol = Eol::None;
        }
        let count = bodies.len();
        let new = bodies
            .into_iter()
            .enumerate()
            .map(|(i, body)| Line::new(body, if i + 1 == count { last_eol } else { eol }));
        self.lines.splice(at..at, new);
    }

    /// Removes `lines[start..end]`. If that was the end of a file without a
    /// final line ending, the new last line loses its ending.
    fn remove_lines(&mut self, start: usize, end: usize) {
        let end = end.min(self.lines.len());
        if start >= end {
            return;
        }
        let unterminated = end == self.lines.len() && self.lines[end - 1].eol == Eol::None;
        self.lines.drain(start..end);
        if unterminated && let Some(last) = self.lines.last_mut() {
            last.eol = Eol::None;
        }
    }
}

fn is_comment(trimmed_start: &str) -> bool {
    trimmed_start.starts_with('#') || trimmed_start.starts_with(';')
}

fn leading_whitespace(text: &str) -> &str {
    &text[..text.len() - text.trim_start().len()]
}

fn key_line(indent: &str, key: &str, value: &str) -> String {
    if value.is_empty() {
        format!("{indent}{key} =")
    } else {
        format!("{indent}{key} = {value}")
    }
}

/// The profile a trimmed header line names, if it names one.
fn parse_header(trimmed: &str, flavor: Flavor) -> Option<String> {
    let rest = trimmed.strip_prefix('[')?;
    let close = rest.find(']')?;
    let inner = rest[..close].trim();
    let after = rest[close + 1..].trim_start();
    if !(after.is_empty() || is_comment(after)) {
        return None;
    }
    let mut words = inner.split_whitespace();
    match (flavor, words.next(), words.next(), words.next()) {
        (Flavor::Config, Some("default"), None, None) => Some("default".to_owned()),
        (Flavor::Config, Some("profile"), Some(name), None) => Some(name.to_owned()),
        (Flavor::Credentials, Some(name), None, None) => Some(name.to_owned()),
        _ => None,
    }
}

/// The key of a key line and where its raw value starts (just after the
/// delimiter).
fn split_key(text: &str) -> Option<(&str, usize)> {
    let at = text.find(['=', ':'])?;
    let key = text[..at].trim();
    if key.is_empty() {
        return None;
    }
    Some((key, at + 1))
}

/// A raw value without its inline comment (`#` or `;` preceded by
/// whitespace), trimmed.
fn clean_value(raw: &str) -> &str {
    let mut previous_blank = false;
    for (i, c) in raw.char_indices() {
        if (c == '#' || c == ';') && previous_blank {
            return raw[..i].trim();
        }
        previous_blank = c.is_whitespace();
    }
    raw.trim()
}

/// The file a symbolic link points to, so that replacing it keeps the link.
fn resolve_link(path: &Path) -> Result<PathBuf, ConfigFileError> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            fs::canonicalize(path).map_err(|source| ConfigFileError::Read {
                path: path.to_owned(),
                source,
            })
        }
        _ => Ok(path.to_owned()),
    }
}

/// A file's content and permission bits.
type Existing = (Zeroizing<Vec<u8>>, u32);

/// The content and permission bits of `path`, or `None` if it is missing.
fn read_existing(path: &Path) -> Result<Option<Existing>, ConfigFileError> {
    let read_err = |source| ConfigFileError::Read {
        path: path.to_owned(),
        source,
    };
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(read_err(e)),
    };
    let meta = file.metadata().map_err(read_err)?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(ConfigFileError::TooLarge {
            path: path.to_owned(),
        });
    }
    let mut bytes = Zeroizing::new(Vec::new());
    // The cap again, in case the file grows while it is read.
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ConfigFileError::TooLarge {
            path: path.to_owned(),
        });
    }
    Ok(Some((bytes, meta.permissions().mode() & 0o777)))
}

/// Replaces `target` with `bytes`: a temp file in the same folder, given
/// `mode`, written, fsynced and renamed over `target`, then the folder
/// fsynced, so a crash leaves the old file or the new one, never a mix.
fn write_atomic(dir: &Path, target: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let mut tmp = tempfile::Builder::new()
        .prefix(".keyfob-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.as_file()
        .set_permissions(fs::Permissions::from_mode(mode))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(target).map_err(|e| e.error)?;
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use super::*;

    /// Comments of both kinds, blank lines, an inline comment, duplicate
    /// keys, `[profile default]`, an sso-session and a services section, a
    /// nested s3 sub-section, odd spacing, and no final newline.
    const CONFIG: &str = "\
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

    fn lines(text: &str) -> Vec<&str> {
        text.split_inclusive('\n').collect()
    }

    /// The lines of `after` that differ from `before`, when both have the
    /// same number of lines.
    fn changed_lines<'a>(before: &str, after: &'a str) -> Vec<&'a str> {
        let (b, a) = (lines(before), lines(after));
        assert_eq!(b.len(), a.len(), "line count changed:\n{after}");
        b.iter()
            .zip(&a)
            .filter(|(x, y)| x != y)
            .map(|(_, y)| *y)
            .collect()
    }

    fn config(text: &str) -> AwsFile {
        AwsFile::parse(text, Flavor::Config)
    }

    /// Found by `scripts/fuzz`: a malformed header line inside the section
    /// made the written key read back as another one.
    #[test]
    fn regression_malformed_header_inside_a_section_is_refused_not_misread() {
        for flavor in [Flavor::Config, Flavor::Credentials] {
            let text = "[fuzz]\n [\ncredential_process: ";
            let header = if flavor == Flavor::Config {
                "[profile fuzz]"
            } else {
                "[fuzz]"
            };
            let text = text.replace("[fuzz]", header);
            let mut file = AwsFile::parse(&text, flavor);
            match file.set_profile("fuzz", &[("credential_process", ":")]) {
                Ok(()) => assert_eq!(file.get("fuzz", "credential_process").as_deref(), Some(":")),
                Err(_) => assert_eq!(file.to_text(), text),
            }
        }
    }

    #[test]
    fn round_trip_is_byte_identical() {
        let crlf = CONFIG.replace('\n', "\r\n");
        let mixed = format!("{CONFIG}\n[profile x]\r\nregion = a\n\r\n");
        for text in [
            CONFIG,
            crlf.as_str(),
            mixed.as_str(),
            "",
            "\n",
            "\r\n",
            "no newline",
            "\u{feff}[default]\nregion = x\n",
            "\r",
            "a\rb\n",
        ] {
            for flavor in [Flavor::Config, Flavor::Credentials] {
                assert_eq!(AwsFile::parse(text, flavor).to_text(), text);
            }
        }
    }

    #[test]
    fn reads_profiles_and_values_like_aws() {
        let file = config(CONFIG);
        assert_eq!(file.profile_names(), ["default", "work", "staging"]);
        // Inline comment after whitespace is stripped; `=` needs no spaces.
        assert_eq!(file.get("default", "region").as_deref(), Some("us-east-1"));
        assert_eq!(file.get("default", "output").as_deref(), Some("json"));
        // `[profile default]` is the same profile; its key is found too.
        assert_eq!(file.get("default", "cli_pager").as_deref(), Some(""));
        // Last occurrence wins; the nested s3 lines are not keys.
        assert_eq!(file.get("work", "region").as_deref(), Some("eu-central-1"));
        assert_eq!(file.get("work", "max_concurrent_requests"), None);
        assert_eq!(file.get("work", "multipart_threshold"), None);
        // Keys are case-sensitive; `:` delimits too; tabs indent.
        assert_eq!(file.get("work", "Region"), None);
        assert_eq!(file.get("staging", "region").as_deref(), Some("ap-south-1"));
        // sso-session and services sections are not profiles.
        assert_eq!(file.get("corp", "sso_region"), None);
        assert_eq!(file.get("local", "s3"), None);
        assert_eq!(file.get("missing", "region"), None);

        assert_eq!(
            file.profile("work").unwrap(),
            [
                ("region".to_owned(), "eu-central-1".to_owned()),
                ("sso_session".to_owned(), "corp".to_owned()),
                ("s3".to_owned(), String::new()),
            ]
        );
        assert_eq!(file.profile("missing"), None);
        assert_eq!(
            config("[profile empty]\n").profile("empty"),
            Some(Vec::new())
        );
    }

    #[test]
    fn inline_comments_need_whitespace_before_them() {
        let file = config(
            "[default]\na = x #c\nb = x;y\nc = x\t;c\nd = #c\ne = x#y\nf = http://h/#frag\n",
        );
        let get = |k| file.get("default", k).unwrap();
        assert_eq!(get("a"), "x");
        assert_eq!(get("b"), "x;y");
        assert_eq!(get("c"), "x");
        assert_eq!(get("d"), "");
        assert_eq!(get("e"), "x#y");
        assert_eq!(get("f"), "http://h/#frag");
    }

    #[test]
    fn default_and_profile_default_are_one_profile() {
        let file = config("[default]\nregion = a\n[profile default]\nregion = b\n");
        assert_eq!(file.profile_names(), ["default"]);
        assert_eq!(file.get("default", "region").as_deref(), Some("b"));
        let file = config("[profile default]\nregion = b\n[default]\nregion = a\n");
        assert_eq!(file.get("default", "region").as_deref(), Some("a"));
        // In the credentials file `[profile x]` is not profile x.
        let creds = AwsFile::parse("[profile x]\na = 1\n[x]\na = 2\n", Flavor::Credentials);
        assert_eq!(creds.profile_names(), ["x"]);
        assert_eq!(creds.get("x", "a").as_deref(), Some("2"));
    }

    #[test]
    fn setting_an_existing_key_changes_only_its_line() {
        let mut file = config(CONFIG);
        file.set_profile("staging", &[("region", "us-west-2")])
            .unwrap();
        let after = file.to_text();
        // Tab indent and `:` spelling kept.
        assert_eq!(changed_lines(CONFIG, &after), ["\tregion: us-west-2\n"]);
        assert_eq!(file.get("staging", "region").as_deref(), Some("us-west-2"));

        // The inline comment goes with the old value; the spacing stays.
        let mut file = config(CONFIG);
        file.set_profile("default", &[("region", "eu-north-1")])
            .unwrap();
        assert_eq!(
            changed_lines(CONFIG, &file.to_text()),
            ["region = eu-north-1\n"]
        );

        // Setting a value equal to the current one changes nothing.
        let mut file = config(CONFIG);
        file.set_profile("default", &[("output", "json")]).unwrap();
        assert_eq!(file.to_text(), CONFIG);
    }

    #[test]
    fn every_occurrence_of_a_duplicated_key_is_set() {
        let mut file = config(CONFIG);
        file.set_profile("work", &[("region", "sa-east-1")])
            .unwrap();
        assert_eq!(
            changed_lines(CONFIG, &file.to_text()),
            ["region = sa-east-1\n", "region = sa-east-1\n"]
        );
    }

    #[test]
    fn a_missing_key_goes_after_the_last_key_line() {
        let mut file = config(CONFIG);
        file.set_profile("work", &[("credential_process", "keyfob cp work")])
            .unwrap();
        let expected = CONFIG.replace(
            "region = eu-central-1\n",
            "region = eu-central-1\ncredential_process = keyfob cp work\n",
        );
        assert_eq!(file.to_text(), expected);

        // After a nested sub-section, not inside it; with the keys' indent.
        let text = "[profile a]\n  region = x\n  s3 =\n    addressing_style = path\n\n# next\n[profile b]\n";
        let mut file = config(text);
        file.set_profile("a", &[("output", "json")]).unwrap();
        assert_eq!(
            file.to_text(),
            "[profile a]\n  region = x\n  s3 =\n    addressing_style = path\n  output = json\n\n# next\n[profile b]\n"
        );
        assert_eq!(file.get("a", "output").as_deref(), Some("json"));

        // A section without keys gets it right after its header.
        let mut file = config("[profile a]\n# nothing yet\n\n[profile b]\n");
        file.set_profile("a", &[("region", "x")]).unwrap();
        assert_eq!(
            file.to_text(),
            "[profile a]\nregion = x\n# nothing yet\n\n[profile b]\n"
        );
    }

    #[test]
    fn replacing_a_sub_section_drops_its_nested_lines() {
        let text = "[default]\ns3 =\n  a = 1\n\n  b = 2\noutput = json\n";
        let mut file = config(text);
        file.set_profile("default", &[("s3", "x")]).unwrap();
        assert_eq!(file.to_text(), "[default]\ns3 = x\noutput = json\n");
    }

    #[test]
    fn a_new_profile_is_appended_and_nothing_else_changes() {
        let mut file = config(CONFIG);
        file.set_profile(
            "new",
            &[
                ("credential_process", "keyfob cp new"),
                ("region", "eu-west-3"),
            ],
        )
        .unwrap();
        let after = file.to_text();
        // No final newline before: none after either.
        assert_eq!(
            after,
            format!(
                "{CONFIG}\n\n[profile new]\ncredential_process = keyfob cp new\nregion = eu-west-3"
            )
        );
        assert_eq!(file.get("new", "region").as_deref(), Some("eu-west-3"));
        assert_eq!(file.profile_names(), ["default", "work", "staging", "new"]);

        // A file ending in a blank line gets no second one.
        let mut file = config("[default]\nregion = x\n\n");
        file.set_profile("default", &[]).unwrap();
        file.set_profile("a", &[("region", "y")]).unwrap();
        assert_eq!(
            file.to_text(),
            "[default]\nregion = x\n\n[profile a]\nregion = y\n"
        );

        // An empty file gets no leading blank line; `default` is `[default]`.
        let mut file = config("");
        file.set_profile("default", &[("region", "x")]).unwrap();
        assert_eq!(file.to_text(), "[default]\nregion = x\n");

        let mut creds = AwsFile::parse("[a]\nk = v\n", Flavor::Credentials);
        creds.set_profile("b", &[("k", "w")]).unwrap();
        assert_eq!(creds.to_text(), "[a]\nk = v\n\n[b]\nk = w\n");
    }

    #[test]
    fn new_lines_use_the_files_line_ending() {
        let text = "[default]\r\nregion = x\r\n";
        let mut file = config(text);
        file.set_profile("default", &[("output", "json")]).unwrap();
        file.set_profile("a", &[("region", "y")]).unwrap();
        assert_eq!(
            file.to_text(),
            "[default]\r\nregion = x\r\noutput = json\r\n\r\n[profile a]\r\nregion = y\r\n"
        );
    }

    #[test]
    fn injection_attempts_are_refused_and_change_nothing() {
        let attempts: &[(&str, &str, &str)] = &[
            ("a", "region", "x\n[profile evil]"),
            ("a", "region", "x\r\ncredential_process = evil"),
            ("a", "region", "x\rcredential_process = evil"),
            ("a", "region", " leading"),
            ("a", "region", "trailing "),
            ("a", "region", "x # hidden"),
            ("a", "region", "#x"),
            ("a", "region", "nul\0"),
            ("a", "region\ncredential_process", "evil"),
            ("a", "credential_process = evil #", "x"),
            ("a", "k:v", "x"),
            ("a", "[k]", "x"),
            ("a", "", "x"),
            ("evil]\n[profile a", "region", "x"),
            ("a]", "region", "x"),
            ("[a", "region", "x"),
            ("a b", "region", "x"),
            ("a\"b", "region", "x"),
            ("", "region", "x"),
            ("a\r", "region", "x"),
        ];
        for (profile, key, value) in attempts {
            let mut file = config(CONFIG);
            // A valid entry first: refusing must be all or nothing.
            let result = file.set_profile(profile, &[("output", "yaml"), (key, value)]);
            let err = result.expect_err(&format!("{profile:?} {key:?} {value:?} accepted"));
            assert_eq!(file.to_text(), CONFIG, "text changed by a refused set");
            // Messages never quote a value.
            if value.len() > 1 {
                assert!(!err.to_string().contains(value), "{err}");
            }
        }
    }

    #[test]
    fn secret_values_stay_out_of_messages_and_debug() {
        let mut file = AwsFile::parse(
            "[a]\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG\n",
            Flavor::Credentials,
        );
        let err = file
            .set_profile("a", &[("aws_session_token", "Zq9Fo\ngE")])
            .unwrap_err();
        assert!(!err.to_string().contains("Zq9Fo"), "{err}");
        assert!(
            err.to_string()
                .starts_with("the value for aws_session_token")
        );
        assert!(!format!("{file:?}").contains("wJalr"));
        assert!(!format!("{err:?}").contains("Zq9Fo"));
    }

    #[test]
    fn remove_profile_removes_exactly_that_section() {
        let mut file = config(CONFIG);
        file.remove_profile("work");
        let expected = CONFIG.replace(
            "[ profile  work ]\nregion = eu-west-1\nsso_session = corp\ns3 =\n  max_concurrent_requests = 10\n\n  multipart_threshold = 64MB\nregion = eu-central-1\n\n",
            "",
        );
        // The comment above the next header stays with it.
        assert!(expected.contains("output=json\n\n# the staging account\n[profile staging]"));
        assert_eq!(file.to_text(), expected);
        assert_eq!(file.profile_names(), ["default", "staging"]);

        // Both sections of `default`, the last at the end of the file with
        // no final newline.
        let mut file = config(CONFIG);
        file.remove_profile("default");
        assert!(
            file.to_text()
                .starts_with("# keyfob test fixture\n; written by hand\n\n[ profile  work ]")
        );
        assert!(
            file.to_text()
                .ends_with("  endpoint_url = http://localhost:4566")
        );
        assert_eq!(file.profile_names(), ["work", "staging"]);

        // The last section takes its separating blank lines with it.
        let mut file = config("[a]\nk = 1\n\n[b]\nk = 2\n");
        let before = file.to_text();
        file.remove_profile("a");
        assert_eq!(file.to_text(), before, "[a] is not a config-file profile");
        let mut creds = AwsFile::parse("[a]\nk = 1\n\n[b]\nk = 2\n", Flavor::Credentials);
        creds.remove_profile("b");
        assert_eq!(creds.to_text(), "[a]\nk = 1\n");
        creds.remove_profile("missing");
        assert_eq!(creds.to_text(), "[a]\nk = 1\n");
    }

    #[test]
    fn remove_keys_removes_every_occurrence_with_nested_lines() {
        let mut file = config(CONFIG);
        file.remove_keys("work", &["region", "s3", "absent"]);
        let expected = CONFIG
            .replace("region = eu-west-1\n", "")
            .replace(
                "s3 =\n  max_concurrent_requests = 10\n\n  multipart_threshold = 64MB\nregion = eu-central-1\n",
                "",
            );
        assert_eq!(file.to_text(), expected);
        // Other profiles' keys of the same name are untouched.
        assert_eq!(file.get("default", "region").as_deref(), Some("us-east-1"));

        // Removing the unterminated last line keeps the file unterminated.
        let mut file = config("[default]\na = 1\nb = 2");
        file.remove_keys("default", &["b"]);
        assert_eq!(file.to_text(), "[default]\na = 1");
    }

    #[test]
    fn arbitrary_input_never_panics_and_writes_read_back() {
        // A dependency-free property test: deterministic pseudo-random
        // strings over the characters that matter to the syntax.
        const PIECES: &[&str] = &[
            "[",
            "]",
            "=",
            ":",
            "#",
            ";",
            " ",
            "\t",
            "\r",
            "\n",
            "\r\n",
            "profile",
            "default",
            "a",
            "b",
            "region",
            "é",
            "\u{feff}",
            "\0",
            "[profile a]",
            "[a]",
            "x = 1",
            "\n  ",
        ];
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        fn random(max: usize, next: &mut impl FnMut(usize) -> usize) -> String {
            let len = next(max);
            (0..len).map(|_| PIECES[next(PIECES.len())]).collect()
        }
        for round in 0..3000 {
            let flavor = if round % 2 == 0 {
                Flavor::Config
            } else {
                Flavor::Credentials
            };
            let text = random(30, &mut next);
            let mut file = AwsFile::parse(&text, flavor);
            assert_eq!(file.to_text(), text);
            let _ = (file.profile_names(), file.profile("a"), file.get("a", "x"));

            let profile = ["a", "default", "b"][next(3)];
            let key = if next(4) == 0 {
                random(3, &mut next)
            } else {
                ["x", "region"][next(2)].to_owned()
            };
            let value = random(4, &mut next);
            let before = file.to_text();
            match file.set_profile(profile, &[(&key, &value)]) {
                Ok(()) => {
                    assert_eq!(
                        file.get(profile, &key).as_deref(),
                        Some(value.as_str()),
                        "{text:?} {profile} {key:?} {value:?} -> {:?}",
                        file.to_text()
                    );
                    let reparsed = AwsFile::parse(&file.to_text(), flavor);
                    assert_eq!(reparsed.get(profile, &key), file.get(profile, &key));
                }
                Err(_) => assert_eq!(file.to_text(), before),
            }
            file.remove_keys(profile, &[&key]);
            assert_eq!(file.get(profile, &key), None);
            file.remove_profile(profile);
            assert!(!file.profile_names().iter().any(|p| p == profile));
        }
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn save_keeps_a_backup_and_the_mode_and_leaves_no_temp_files() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("config");
        fs::write(&path, CONFIG).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let backup = tmp.path().join("config.keyfob.bak");
        fs::write(&backup, "an older backup").unwrap();

        let mut file = AwsFile::load(&path, Flavor::Config).unwrap();
        assert_eq!(file.to_text(), CONFIG);
        file.set_profile("staging", &[("region", "us-west-2")])
            .unwrap();
        file.save(&path).unwrap();

        assert_eq!(fs::read_to_string(&backup).unwrap(), CONFIG);
        assert_eq!(fs::read_to_string(&path).unwrap(), file.to_text());
        assert_eq!(mode(&path), 0o640);
        assert_eq!(mode(&backup), 0o640);
        assert_eq!(entries(tmp.path()), ["config", "config.keyfob.bak"]);
    }

    #[test]
    fn save_with_unchanged_content_does_not_touch_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("config");
        fs::write(&path, CONFIG).unwrap();
        let before = fs::metadata(&path).unwrap();

        let mut file = AwsFile::load(&path, Flavor::Config).unwrap();
        file.set_profile("default", &[("output", "json")]).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        file.save(&path).unwrap();

        let after = fs::metadata(&path).unwrap();
        assert_eq!(after.ino(), before.ino());
        assert_eq!(after.mtime_nsec(), before.mtime_nsec());
        assert_eq!(after.mtime(), before.mtime());
        assert_eq!(entries(tmp.path()), ["config"], "no backup, no temp file");
    }

    #[test]
    fn save_creates_a_private_file_and_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("home/.aws");
        let path = dir.join("credentials");

        let mut file = AwsFile::load(&path, Flavor::Credentials).unwrap();
        assert_eq!(file.to_text(), "");
        assert!(file.profile_names().is_empty());
        // Nothing to write: not even the folder appears.
        file.save(&path).unwrap();
        assert!(!dir.exists());

        file.set_profile("a", &[("region", "x")]).unwrap();
        file.save(&path).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "[a]\nregion = x\n");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(
            entries(&dir),
            ["credentials"],
            "no backup of a missing file"
        );
    }

    #[test]
    fn save_through_a_symlink_keeps_the_link() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("dotfiles-config");
        fs::write(&real, "[default]\nregion = x\n").unwrap();
        let link = tmp.path().join("config");
        std::os::unix::fs::symlink(&real, &link).unwrap();

        let mut file = AwsFile::load(&link, Flavor::Config).unwrap();
        file.set_profile("default", &[("region", "y")]).unwrap();
        file.save(&link).unwrap();

        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            fs::read_to_string(&real).unwrap(),
            "[default]\nregion = y\n"
        );
        assert_eq!(
            fs::read_to_string(tmp.path().join("dotfiles-config.keyfob.bak")).unwrap(),
            "[default]\nregion = x\n"
        );
    }

    #[test]
    fn load_refuses_files_it_must_not_rewrite() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("config");
        fs::write(&path, b"[default]\nregion = \xff\n").unwrap();
        assert!(matches!(
            AwsFile::load(&path, Flavor::Config),
            Err(ConfigFileError::NotUtf8 { .. })
        ));
        let big = File::create(&path).unwrap();
        big.set_len(MAX_FILE_BYTES + 1).unwrap();
        assert!(matches!(
            AwsFile::load(&path, Flavor::Config),
            Err(ConfigFileError::TooLarge { .. })
        ));
    }
}
