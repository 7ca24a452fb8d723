//! Changes: setting and removing keys, removing profiles, and the line
//! insertions and removals they are made of. Every change validates its
//! names and values first and changes nothing when it refuses, so a caller
//! never writes half an edit or syntax it did not mean to write.

use super::line::{Eol, Line};
use super::reader::{Section, clean_value, split_key};
use super::{AwsFile, ConfigFileError, Flavor};

impl AwsFile {
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

#[cfg(test)]
mod tests {
    use super::super::fixtures::{CONFIG, config};
    use super::*;

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
}
