//! Reading: the text split into lines (each keeping its line ending), and
//! the sections, keys and values found in them by the rules in the
//! module docs. Every lookup and every edit starts from [`AwsFile::sections`].

use super::line::{Eol, Line, is_comment};
use super::{AwsFile, Flavor};

/// A section as found by [`AwsFile::sections`]: `lines[header..end]`.
pub(super) struct Section {
    /// The profile it belongs to; `None` for sections that are not profiles
    /// (or whose header is malformed), which are never edited.
    pub(super) profile: Option<String>,
    pub(super) header: usize,
    pub(super) end: usize,
    pub(super) keys: Vec<KeyLine>,
}

/// A key line at the top level of a section: `lines[start..end]`, where
/// the lines after `start` are its continuation (nested) lines.
pub(super) struct KeyLine {
    pub(super) key: String,
    pub(super) start: usize,
    pub(super) end: usize,
}

impl AwsFile {
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

    /// The names of the `[sso-session NAME]` sections (the AWS CLI v2's
    /// Identity Center sign-ins, botocore `configprovider`'s
    /// `sso_sessions`), in file order, each once.
    pub fn sso_session_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for s in self.sections() {
            if let Some(name) = self.sso_session_of(&s)
                && !names.contains(&name)
            {
                names.push(name);
            }
        }
        names
    }

    /// The value of `key` in `[sso-session NAME]` (as [`AwsFile::get`]
    /// reads a profile's).
    pub fn sso_session_get(&self, name: &str, key: &str) -> Option<String> {
        self.sections()
            .iter()
            .filter(|s| self.sso_session_of(s).as_deref() == Some(name))
            .flat_map(|s| &s.keys)
            .rfind(|k| k.key == key)
            .map(|k| self.value_of(k))
    }

    /// The session a section's header names, if it is `[sso-session NAME]`
    /// (only in the config file).
    fn sso_session_of(&self, section: &Section) -> Option<String> {
        if self.flavor != Flavor::Config || section.profile.is_some() {
            return None;
        }
        let body = &self.lines[section.header].body;
        let body = body.strip_prefix('\u{feff}').unwrap_or(body).trim();
        let rest = body.strip_prefix('[')?;
        let close = rest.find(']')?;
        let after = rest[close + 1..].trim_start();
        if !(after.is_empty() || is_comment(after)) {
            return None;
        }
        let mut words = rest[..close].split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some("sso-session"), Some(name), None) => Some(name.to_owned()),
            _ => None,
        }
    }

    /// Lines of every section, in file order. Lines before the first header
    /// belong to no section.
    pub(super) fn sections(&self) -> Vec<Section> {
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

    pub(super) fn has_profile(&self, profile: &str) -> bool {
        self.sections()
            .iter()
            .any(|s| s.profile.as_deref() == Some(profile))
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
pub(super) fn split_key(text: &str) -> Option<(&str, usize)> {
    let at = text.find(['=', ':'])?;
    let key = text[..at].trim();
    if key.is_empty() {
        return None;
    }
    Some((key, at + 1))
}

/// A raw value without its inline comment (`#` or `;` preceded by
/// whitespace), trimmed.
pub(super) fn clean_value(raw: &str) -> &str {
    let mut previous_blank = false;
    for (i, c) in raw.char_indices() {
        if (c == '#' || c == ';') && previous_blank {
            return raw[..i].trim();
        }
        previous_blank = c.is_whitespace();
    }
    raw.trim()
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{CONFIG, config};
    use super::*;

    #[test]
    fn sso_sessions_are_read_beside_profiles() {
        let text = "[sso-session corp]\nsso_start_url = https://x.awsapps.com/start\nsso_region = eu-west-1 # home\n\n[profile sso-session]\nregion = a\n[sso-session  two ] ; c\nsso_region = b\n[sso-session a b]\nsso_region = c\n";
        let file = AwsFile::parse(text, Flavor::Config);
        assert_eq!(file.sso_session_names(), ["corp", "two"]);
        assert_eq!(
            file.sso_session_get("corp", "sso_region").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(
            file.sso_session_get("two", "sso_region").as_deref(),
            Some("b")
        );
        assert_eq!(file.sso_session_get("sso-session", "region"), None);
        assert_eq!(file.profile_names(), ["sso-session"]);
        let creds = AwsFile::parse(text, Flavor::Credentials);
        assert!(creds.sso_session_names().is_empty());
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
}
