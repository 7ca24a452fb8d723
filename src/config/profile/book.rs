//! The profile book: the `[profiles]` of config.toml, read (whole or the
//! few tables a call needs), edited with `toml_edit` so comments and
//! layout survive, and written atomically.

use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, Table, value};

use super::model::*;
use crate::model::field::{Field, FieldError};
use crate::model::limits;
use crate::platform::fsutil::{WriteError, write_atomic};

/// The profiles in `config.toml`.
pub struct ProfileBook {
    pub(super) path: PathBuf,
    doc: DocumentMut,
}
impl ProfileBook {
    /// Reads `config.toml`; a missing file has no profiles.
    pub fn load(path: &Path) -> Result<ProfileBook, ProfileError> {
        let text = Self::read(path)?;
        Self::parse(path, &text)
    }

    fn read(path: &Path) -> Result<String, ProfileError> {
        crate::platform::fsutil::read_or_empty(path).map_err(|source| ProfileError::Read {
            path: path.into(),
            source,
        })
    }

    fn parse(path: &Path, text: &str) -> Result<ProfileBook, ProfileError> {
        let doc = text
            .parse::<DocumentMut>()
            .map_err(|e| ProfileError::Parse {
                path: path.into(),
                message: e.message().to_owned(),
            })?;
        Ok(ProfileBook {
            path: path.into(),
            doc,
        })
    }

    /// Reads only what profile `name` needs (`None`: only the settings):
    /// the root keys, `[settings]`, and the tables of the profile and of
    /// its source profiles, found by a line scan ([`crate::config::scan`]);
    /// the file's other profiles are not parsed. The whole file is read
    /// when the scan cannot be sure, or the selection does not parse
    /// (so a broken file is reported as [`ProfileBook::load`] reports it).
    /// For reading one profile: such a book is never listed nor saved.
    pub fn load_for(path: &Path, name: Option<&str>) -> Result<ProfileBook, ProfileError> {
        let text = Self::read(path)?;
        if let Some(tables) = crate::config::scan::tables(&text) {
            let mut names: Vec<String> = name.into_iter().map(str::to_owned).collect();
            // A chain has at most MAX_CHAIN_ROLES + 1 profiles; a longer
            // (or looping) one is the full parse's to report.
            for _ in 0..=limits::MAX_CHAIN_ROLES + 1 {
                let wanted: Vec<&str> = names.iter().map(String::as_str).collect();
                let selected = crate::config::scan::select(&text, &tables, &wanted);
                let Ok(book) = Self::parse(path, &selected) else {
                    break;
                };
                let sources: Vec<String> = names
                    .iter()
                    .filter_map(|n| book.source_name(n))
                    .filter(|s| !names.contains(s))
                    .collect();
                if sources.is_empty() {
                    return Ok(book);
                }
                names.extend(sources);
            }
        }
        Self::parse(path, &text)
    }

    /// The file's `[settings]` table alone, as TOML text: what
    /// [`crate::config::settings::Settings::from_text`] reads, without parsing the
    /// whole file again (it can hold hundreds of synced profiles).
    pub fn settings_text(&self) -> String {
        let mut doc = DocumentMut::new();
        if let Some(settings) = self.doc.get("settings") {
            doc.insert("settings", settings.clone());
        }
        doc.to_string()
    }

    /// Where the book was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The names people gave accounts: `[accounts]` in config.toml
    /// (`"123456789012" = "prod"`). Entries that are not valid are skipped.
    pub fn account_aliases(&self) -> std::collections::BTreeMap<String, String> {
        let Some(table) = self.doc.get("accounts").and_then(Item::as_table_like) else {
            return Default::default();
        };
        table
            .iter()
            .filter_map(|(k, v)| Some((k.to_owned(), v.as_str()?.to_owned())))
            .filter(|(k, v)| limits::account_id(k).is_ok() && limits::account_alias(v).is_ok())
            .collect()
    }

    /// Names account `account` `alias` (or, with `None`, forgets its
    /// name), in memory; both are checked first.
    pub fn set_account_alias(
        &mut self,
        account: &str,
        alias: Option<&str>,
    ) -> Result<(), FieldError> {
        limits::account_id(account)?;
        if let Some(a) = alias {
            limits::account_alias(a)?;
        }
        let accounts = self
            .doc
            .entry("accounts")
            .or_insert_with(|| Item::Table(Table::new()));
        let Some(table) = accounts.as_table_like_mut() else {
            return Err(FieldError::new(
                Field::AccountAlias,
                "[accounts] in config.toml is not a table — fix it by hand",
            ));
        };
        match alias {
            Some(a) => {
                table.insert(account, value(a.trim()));
            }
            None => {
                table.remove(account);
            }
        }
        Ok(())
    }

    pub(super) fn table(&self) -> Option<&Table> {
        self.doc.get("profiles").and_then(Item::as_table)
    }

    /// Every profile, in file order; an invalid one is an error naming it.
    pub fn list(&self) -> Result<Vec<Profile>, ProfileError> {
        let Some(table) = self.table() else {
            return Ok(Vec::new());
        };
        table.iter().map(|(name, _)| self.get(name)).collect()
    }

    pub fn names(&self) -> Vec<String> {
        self.table()
            .map(|t| t.iter().map(|(k, _)| k.to_owned()).collect())
            .unwrap_or_default()
    }

    /// The profile called `name`, with its chain resolved.
    pub fn get(&self, name: &str) -> Result<Profile, ProfileError> {
        self.get_chained(name, &mut Vec::new())
    }

    /// Builds a profile typed by a person, finding its `source_profile`
    /// (and refusing a loop, a missing source or a chain too long).
    pub fn build(&self, input: &ProfileInput) -> Result<Profile, ProfileError> {
        let mut seen = vec![input.name.clone()];
        let source = self.source_of(&input.name, input.source_profile.as_deref(), &mut seen)?;
        Profile::from_input_with(input, source).map_err(|source| ProfileError::Field {
            profile: input.name.clone(),
            source,
        })
    }

    /// Records the guard's verdict on a stored profile, in memory, leaving
    /// the rest of its table (and any comments) as it is.
    pub fn set_guard(&mut self, name: &str, guard: ExternalIdGuard) -> Result<(), ProfileError> {
        let entry = self
            .doc
            .get_mut("profiles")
            .and_then(Item::as_table_mut)
            .and_then(|t| t.get_mut(name))
            .and_then(Item::as_table_like_mut)
            .ok_or_else(|| ProfileError::NotFound { name: name.into() })?;
        entry.insert("external_id_guard", value(guard.as_str()));
        Ok(())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.table().is_some_and(|t| t.contains_key(name))
    }

    /// Adds or (with `replace`) replaces a profile, in memory.
    pub fn put(&mut self, profile: &Profile, replace: bool) -> Result<(), ProfileError> {
        if self.contains(&profile.name) && !replace {
            return Err(ProfileError::Exists {
                name: profile.name.clone(),
            });
        }
        let profiles = self
            .doc
            .entry("profiles")
            .or_insert_with(|| {
                let mut t = Table::new();
                t.set_implicit(true);
                Item::Table(t)
            })
            .as_table_mut()
            .ok_or_else(|| ProfileError::Parse {
                path: self.path.clone(),
                message: "`profiles` must be a table".into(),
            })?;
        let mut t = Table::new();
        match &profile.source {
            Some(source) => t.insert("source_profile", value(&source.name)),
            None => t.insert("identity", value(profile.identity.as_str())),
        };
        if let Some(r) = &profile.role {
            t.insert("role_arn", value(&r.arn));
            for (key, v) in [
                ("external_id", &r.external_id),
                ("role_session_name", &r.session_name),
                ("source_identity", &r.source_identity),
            ] {
                if let Some(v) = v {
                    t.insert(key, value(v));
                }
            }
            if let (Some(_), Some(g)) = (&r.external_id, r.external_id_guard) {
                t.insert("external_id_guard", value(g.as_str()));
            }
            if !r.tags.is_empty() {
                let mut tags = toml_edit::InlineTable::new();
                for (k, v) in &r.tags {
                    tags.insert(k, v.into());
                }
                t.insert("tags", value(tags));
            }
            for (key, list) in [
                ("transitive_tags", &r.transitive_tags),
                ("policy_arns", &r.policy_arns),
            ] {
                if !list.is_empty() {
                    t.insert(key, value(list.iter().collect::<toml_edit::Array>()));
                }
            }
        }
        // A chained profile inherits its first profile's MFA device.
        if let (None, Some(m)) = (&profile.source, &profile.mfa_serial) {
            t.insert("mfa_serial", value(m));
        }
        if let Some(d) = profile.duration_secs {
            t.insert("duration_seconds", value(d as i64));
        }
        if let Some(r) = &profile.region {
            t.insert("region", value(r));
        }
        if let Some(s) = &profile.sso {
            t.insert("sso_account_id", value(&s.account_id));
            t.insert("sso_role_name", value(&s.role_name));
        }
        if let Some(l) = &profile.login {
            t.insert("login_session", value(l));
        }
        profiles.insert(&profile.name, Item::Table(t));
        Ok(())
    }

    /// Removes a profile, in memory; one that others chain from stays.
    pub fn remove(&mut self, name: &str) -> Result<Profile, ProfileError> {
        let profile = self.get(name)?;
        let users = self.chained_from(name);
        if !users.is_empty() {
            return Err(ProfileError::InUse {
                name: name.into(),
                users: users.join(", "),
            });
        }
        if let Some(t) = self.doc.get_mut("profiles").and_then(Item::as_table_mut) {
            t.remove(name);
        }
        Ok(profile)
    }

    /// Renames the identity in every profile that uses it, in memory.
    pub fn rename_identity(&mut self, old: &str, new: &str) {
        if let Some(t) = self.doc.get_mut("profiles").and_then(Item::as_table_mut) {
            for (_, item) in t.iter_mut() {
                if let Some(p) = item.as_table_like_mut()
                    && p.get("identity").and_then(|v| v.as_str()) == Some(old)
                {
                    p.insert("identity", value(new));
                }
            }
        }
    }

    /// Writes the file atomically, keeping a backup of the previous one.
    pub fn save(&self) -> Result<(), ProfileError> {
        if let Some(dir) = self.path.parent() {
            crate::platform::paths::private_dir(dir).map_err(|e| WriteError {
                path: dir.to_owned(),
                source: std::io::Error::other(e.to_string()),
            })?;
        }
        write_atomic(&self.path, self.doc.to_string().as_bytes(), 0o600)?;
        Ok(())
    }
}
