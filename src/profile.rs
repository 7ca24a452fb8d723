//! Profiles: named ways to get credentials — an identity, optionally a role
//! (ARN, external ID, session name, source identity), an MFA device, a
//! duration and a region. They live in `$XDG_CONFIG_HOME/keyfob/config.toml`
//! under `[profiles.NAME]`, edited with `toml_edit` so a user's comments
//! and layout survive, and written atomically with a backup.
//!
//! Every value is checked against AWS's limits ([`crate::limits`]) when a
//! profile is built, and again when the file is read, so a hand-edited
//! mistake is reported with the profile and field instead of reaching AWS.

use std::path::{Path, PathBuf};

use serde::Serialize;
use toml_edit::{DocumentMut, Item, Table, value};

use crate::field::{Field, FieldError};
use crate::fsutil::{WriteError, write_atomic};
use crate::identity::{IdentityName, check_name};
use crate::limits;
use crate::session::digest;

/// Identity sessions last this long unless the profile says otherwise:
/// GetSessionToken's own default. The PIN (and MFA) is asked once per
/// identity session; role sessions are renewed from it without a prompt.
pub const DEFAULT_SESSION_SECS: u64 = 12 * 3600;
/// Role sessions last this long unless the profile says otherwise.
pub const DEFAULT_ROLE_SECS: u64 = 3600;

/// How long sessions last where a profile sets no duration: the constants
/// above, or `session_duration` / `role_duration` under `[settings]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Durations {
    /// GetSessionToken's duration for identity sessions.
    pub session_secs: u64,
    /// AssumeRole's duration for role sessions.
    pub role_secs: u64,
}

impl Default for Durations {
    fn default() -> Self {
        Self {
            session_secs: DEFAULT_SESSION_SECS,
            role_secs: DEFAULT_ROLE_SECS,
        }
    }
}

/// A validated profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Profile {
    pub name: String,
    pub identity: IdentityName,
    pub role: Option<Role>,
    pub mfa_serial: Option<String>,
    /// Seconds; for a role profile the AssumeRole duration, otherwise the
    /// GetSessionToken duration.
    pub duration_secs: Option<u64>,
    pub region: Option<String>,
    /// The durations used where this profile sets none (from settings).
    #[serde(skip)]
    pub defaults: Durations,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Role {
    pub arn: String,
    /// The role's account, parsed from the ARN.
    pub account: String,
    pub external_id: Option<String>,
    pub session_name: Option<String>,
    pub source_identity: Option<String>,
    /// What the confused-deputy guard ([`crate::thirdparty`]) found when
    /// the profile was stored or last checked; `None` for a role without
    /// an external ID, or one never checked (imported, hand-written).
    /// Not part of the fingerprint: a re-check keeps the cached session.
    pub external_id_guard: Option<ExternalIdGuard>,
}

/// The guard's verdict on a role profile with an external ID, kept in
/// config.toml as `external_id_guard = "guarded" | "unguarded"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExternalIdGuard {
    /// AssumeRole without the external ID was denied, with it allowed.
    Guarded,
    /// The role can be assumed without the external ID; stored only with
    /// `--accept-unguarded`.
    Unguarded,
}

impl ExternalIdGuard {
    pub fn as_str(self) -> &'static str {
        match self {
            ExternalIdGuard::Guarded => "guarded",
            ExternalIdGuard::Unguarded => "unguarded",
        }
    }

    /// Reads the value of `external_id_guard` in config.toml.
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        match value {
            "guarded" => Ok(ExternalIdGuard::Guarded),
            "unguarded" => Ok(ExternalIdGuard::Unguarded),
            _ => Err(FieldError::new(
                Field::ExternalId,
                "external_id_guard must be \"guarded\" or \"unguarded\" — `keyfob role check PROFILE` sets it",
            )),
        }
    }
}

/// A profile as typed by a person: every field a string, unchecked.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct ProfileInput {
    pub name: String,
    pub identity: String,
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
    pub role_session_name: Option<String>,
    pub source_identity: Option<String>,
    pub mfa_serial: Option<String>,
    pub duration: Option<String>,
    pub region: Option<String>,
}

impl Profile {
    /// Checks every field; the first wrong one is named in the error.
    pub fn from_input(input: &ProfileInput) -> Result<Profile, FieldError> {
        check_name(Field::ProfileName, &input.name)?;
        let identity = IdentityName::parse(&input.identity)?;
        let some = |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);

        let role = match some(&input.role_arn) {
            Some(arn) => {
                let account = limits::role_arn(&arn)?;
                let external_id = some(&input.external_id);
                if let Some(x) = &external_id {
                    limits::external_id(x)?;
                }
                let session_name = some(&input.role_session_name);
                if let Some(n) = &session_name {
                    limits::role_session_name(n)?;
                }
                let source_identity = some(&input.source_identity);
                if let Some(s) = &source_identity {
                    limits::source_identity(s)?;
                }
                Some(Role {
                    arn,
                    account,
                    external_id,
                    session_name,
                    source_identity,
                    // Set by the guard, or read back by ProfileBook::get.
                    external_id_guard: None,
                })
            }
            None => {
                for (field, v) in [
                    (Field::ExternalId, &input.external_id),
                    (Field::RoleSessionName, &input.role_session_name),
                    (Field::SourceIdentity, &input.source_identity),
                ] {
                    if some(v).is_some() {
                        return Err(FieldError::new(field, "needs a role ARN (--role-arn)"));
                    }
                }
                None
            }
        };
        let mfa_serial = some(&input.mfa_serial);
        if let Some(m) = &mfa_serial {
            limits::mfa_serial(m)?;
        }
        let duration_secs = match some(&input.duration) {
            Some(d) => {
                let d = crate::duration::parse(&d)?;
                if role.is_some() {
                    limits::duration_within(d, limits::ROLE_DURATION, "a role session")?;
                } else {
                    limits::duration_within(d, limits::SESSION_DURATION, "a session")?;
                }
                Some(d.as_secs())
            }
            None => None,
        };
        let region = some(&input.region);
        if let Some(r) = &region {
            limits::region(r)?;
        }
        Ok(Profile {
            name: input.name.clone(),
            identity,
            role,
            mfa_serial,
            duration_secs,
            region,
            defaults: Durations::default(),
        })
    }

    /// The plain profile keyfob creates for a new identity.
    pub fn plain(identity: &IdentityName) -> Profile {
        Profile {
            name: identity.as_str().to_owned(),
            identity: identity.clone(),
            role: None,
            mfa_serial: None,
            duration_secs: None,
            region: None,
            defaults: Durations::default(),
        }
    }

    /// The cache key of the identity session this profile uses: shared by
    /// every profile of the identity with the same MFA device, so MFA is
    /// asked once for all its roles.
    pub fn identity_session_key(&self) -> String {
        let mfa = self.mfa_serial.as_deref().unwrap_or("");
        format!("id.{}.{}", self.identity, digest(&[mfa]))
    }

    /// The cache key of this profile's role session, if it has a role.
    pub fn role_session_key(&self) -> Option<String> {
        self.role.as_ref().map(|_| format!("role.{}", self.name))
    }

    /// The key of the session `credential-process` hands out.
    pub fn session_key(&self) -> String {
        self.role_session_key()
            .unwrap_or_else(|| self.identity_session_key())
    }

    /// What the session was made for; a cached session whose fingerprint
    /// differs (the profile was edited) is not used.
    pub fn fingerprint(&self) -> String {
        let role = self.role.as_ref();
        fn opt(v: Option<&String>) -> &str {
            v.map(String::as_str).unwrap_or("")
        }
        digest(&[
            self.identity.as_str(),
            opt(self.mfa_serial.as_ref()),
            role.map(|r| r.arn.as_str()).unwrap_or(""),
            opt(role.and_then(|r| r.external_id.as_ref())),
            opt(role.and_then(|r| r.session_name.as_ref())),
            opt(role.and_then(|r| r.source_identity.as_ref())),
            &self.duration_secs.unwrap_or(0).to_string(),
        ])
    }

    /// The fingerprint of the identity session (identity + MFA device).
    pub fn identity_fingerprint(&self) -> String {
        digest(&[
            self.identity.as_str(),
            self.mfa_serial.as_deref().unwrap_or(""),
        ])
    }

    /// The RoleSessionName: the profile's, else derived from the identity
    /// name (AWS shows it in CloudTrail as who assumed the role).
    pub fn role_session_name(&self) -> String {
        match self.role.as_ref().and_then(|r| r.session_name.clone()) {
            Some(n) => n,
            None => {
                let base: String = format!("keyfob-{}", self.identity)
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(*c))
                    .take(64)
                    .collect();
                base
            }
        }
    }

    /// The session duration to ask STS for.
    pub fn session_secs(&self) -> u64 {
        match self.role {
            Some(_) => self.defaults.session_secs,
            None => self.duration_secs.unwrap_or(self.defaults.session_secs),
        }
    }

    /// The role session duration to ask STS for.
    pub fn role_secs(&self) -> u64 {
        self.duration_secs.unwrap_or(self.defaults.role_secs)
    }

    /// This profile, taking `defaults` where it sets no duration.
    pub fn with_defaults(mut self, defaults: Durations) -> Profile {
        self.defaults = defaults;
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid TOML: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: profile {profile}: {source}")]
    Invalid {
        path: PathBuf,
        profile: String,
        source: FieldError,
    },
    #[error("no profile named {name} — `keyfob profile list` shows them")]
    NotFound { name: String },
    #[error("profile name: {name} is already taken — pass --replace to change it")]
    Exists { name: String },
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// The profiles in `config.toml`.
pub struct ProfileBook {
    path: PathBuf,
    doc: DocumentMut,
}

impl ProfileBook {
    /// Reads `config.toml`; a missing file has no profiles.
    pub fn load(path: &Path) -> Result<ProfileBook, ProfileError> {
        let text = crate::fsutil::read_or_empty(path).map_err(|source| ProfileError::Read {
            path: path.into(),
            source,
        })?;
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

    fn table(&self) -> Option<&Table> {
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

    /// The profile called `name`.
    pub fn get(&self, name: &str) -> Result<Profile, ProfileError> {
        let entry = self
            .table()
            .and_then(|t| t.get(name))
            .and_then(Item::as_table_like)
            .ok_or_else(|| ProfileError::NotFound { name: name.into() })?;
        let text = |key: &str| {
            entry.get(key).and_then(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .or_else(|| v.as_integer().map(|i| i.to_string()))
            })
        };
        let input = ProfileInput {
            name: name.to_owned(),
            identity: text("identity").unwrap_or_default(),
            role_arn: text("role_arn"),
            external_id: text("external_id"),
            role_session_name: text("role_session_name"),
            source_identity: text("source_identity"),
            mfa_serial: text("mfa_serial"),
            duration: text("duration_seconds"),
            region: text("region"),
        };
        let invalid = |source| ProfileError::Invalid {
            path: self.path.clone(),
            profile: name.into(),
            source,
        };
        let mut profile = Profile::from_input(&input).map_err(invalid)?;
        // The guard's verdict, checked like every other hand-editable value.
        if let Some(item) = entry.get("external_id_guard") {
            let guard =
                ExternalIdGuard::parse(item.as_str().unwrap_or_default()).map_err(invalid)?;
            match profile.role.as_mut() {
                Some(role) if role.external_id.is_some() => role.external_id_guard = Some(guard),
                _ => {
                    return Err(invalid(FieldError::new(
                        Field::ExternalId,
                        "external_id_guard is set but the profile has no role with an external ID — remove the line",
                    )));
                }
            }
        }
        Ok(profile)
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
        t.insert("identity", value(profile.identity.as_str()));
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
        }
        if let Some(m) = &profile.mfa_serial {
            t.insert("mfa_serial", value(m));
        }
        if let Some(d) = profile.duration_secs {
            t.insert("duration_seconds", value(d as i64));
        }
        if let Some(r) = &profile.region {
            t.insert("region", value(r));
        }
        profiles.insert(&profile.name, Item::Table(t));
        Ok(())
    }

    /// Removes a profile, in memory.
    pub fn remove(&mut self, name: &str) -> Result<Profile, ProfileError> {
        let profile = self.get(name)?;
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
            crate::paths::private_dir(dir).map_err(|e| WriteError {
                path: dir.to_owned(),
                source: std::io::Error::other(e.to_string()),
            })?;
        }
        write_atomic(&self.path, self.doc.to_string().as_bytes(), 0o600)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str) -> ProfileInput {
        ProfileInput {
            name: name.into(),
            identity: "work".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_role_profile_is_checked_field_by_field() {
        let mut i = input("deploy");
        i.role_arn = Some("arn:aws:iam::210987654321:role/Deploy".into());
        i.external_id = Some("ext-123".into());
        i.duration = Some("2h".into());
        i.region = Some("eu-west-1".into());
        let p = Profile::from_input(&i).unwrap();
        assert_eq!(p.role.as_ref().unwrap().account, "210987654321");
        assert_eq!(p.role_secs(), 7200);
        assert_eq!(p.role_session_name(), "keyfob-work");

        type Change = fn(&mut ProfileInput);
        let cases: Vec<(Change, Field)> = vec![
            (|i| i.name = "a=b".into(), Field::ProfileName),
            (|i| i.name = "x\n[default]".into(), Field::ProfileName),
            (|i| i.identity = "".into(), Field::IdentityName),
            (
                |i| i.role_arn = Some("arn:aws:iam::1:role/x".into()),
                Field::RoleArn,
            ),
            (|i| i.external_id = Some("x".into()), Field::ExternalId),
            (|i| i.external_id = Some("a b".into()), Field::ExternalId),
            (
                |i| i.role_session_name = Some("a/b".into()),
                Field::RoleSessionName,
            ),
            (
                |i| i.source_identity = Some("x".into()),
                Field::SourceIdentity,
            ),
            (|i| i.mfa_serial = Some("short".into()), Field::MfaSerial),
            (|i| i.duration = Some("13h".into()), Field::Duration),
            (|i| i.duration = Some("10m".into()), Field::Duration),
            (|i| i.region = Some("mars".into()), Field::Region),
        ];
        for (change, field) in cases {
            let mut bad = i.clone();
            change(&mut bad);
            assert_eq!(Profile::from_input(&bad).unwrap_err().field, field);
        }
    }

    #[test]
    fn session_fields_need_a_role_and_durations_follow_the_kind() {
        let mut i = input("plain");
        i.external_id = Some("ext-123".into());
        assert_eq!(
            Profile::from_input(&i).unwrap_err().field,
            Field::ExternalId
        );
        let mut i = input("plain");
        i.duration = Some("36h".into());
        assert_eq!(Profile::from_input(&i).unwrap().session_secs(), 36 * 3600);
        i.duration = Some("37h".into());
        assert!(Profile::from_input(&i).is_err());
    }

    #[test]
    fn profiles_of_one_identity_and_mfa_share_the_identity_session() {
        let mut a = input("a");
        a.role_arn = Some("arn:aws:iam::210987654321:role/A".into());
        let mut b = input("b");
        b.role_arn = Some("arn:aws:iam::210987654321:role/B".into());
        let (a, b) = (
            Profile::from_input(&a).unwrap(),
            Profile::from_input(&b).unwrap(),
        );
        assert_eq!(a.identity_session_key(), b.identity_session_key());
        assert_ne!(a.session_key(), b.session_key());
        let mut c = input("c");
        c.mfa_serial = Some("arn:aws:iam::123456789012:mfa/work".into());
        assert_ne!(
            Profile::from_input(&c).unwrap().identity_session_key(),
            a.identity_session_key()
        );
    }

    #[test]
    fn the_book_round_trips_and_keeps_comments() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "# my settings\n[settings]\nstore = \"auto\" # keep me\n",
        )
        .unwrap();
        let mut book = ProfileBook::load(&path).unwrap();
        let mut i = input("deploy");
        i.role_arn = Some("arn:aws:iam::210987654321:role/Deploy".into());
        i.duration = Some("1h".into());
        let p = Profile::from_input(&i).unwrap();
        book.put(&p, false).unwrap();
        assert!(matches!(
            book.put(&p, false),
            Err(ProfileError::Exists { .. })
        ));
        book.save().unwrap();

        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("# my settings\n[settings]\nstore = \"auto\" # keep me\n"),
            "{text}"
        );
        let book = ProfileBook::load(&path).unwrap();
        assert_eq!(book.get("deploy").unwrap(), p);
        assert_eq!(book.names(), ["deploy"]);

        let mut book = book;
        book.rename_identity("work", "prod");
        assert_eq!(book.get("deploy").unwrap().identity.as_str(), "prod");
        book.remove("deploy").unwrap();
        assert!(book.list().unwrap().is_empty());
    }

    #[test]
    fn a_hand_edited_mistake_names_the_profile_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "[profiles.bad]\nidentity = \"work\"\nregion = \"nowhere\"\n",
        )
        .unwrap();
        let err = ProfileBook::load(&path).unwrap().get("bad").unwrap_err();
        assert!(
            err.to_string().contains("profile bad: region: must be"),
            "{err}"
        );
    }

    #[test]
    fn the_guard_verdict_round_trips_and_a_hand_edited_one_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let mut book = ProfileBook::load(&path).unwrap();
        let mut i = input("vendor");
        i.role_arn = Some("arn:aws:iam::210987654321:role/Vendor".into());
        i.external_id = Some("ext-123".into());
        let mut p = Profile::from_input(&i).unwrap();
        p.role.as_mut().unwrap().external_id_guard = Some(ExternalIdGuard::Unguarded);
        let fingerprint = p.fingerprint();
        book.put(&p, false).unwrap();
        book.save().unwrap();
        let mut book = ProfileBook::load(&path).unwrap();
        assert_eq!(book.get("vendor").unwrap(), p);
        book.set_guard("vendor", ExternalIdGuard::Guarded).unwrap();
        let got = book.get("vendor").unwrap();
        assert_eq!(
            got.role.as_ref().unwrap().external_id_guard,
            Some(ExternalIdGuard::Guarded)
        );
        // A re-check does not invalidate the cached session.
        assert_eq!(got.fingerprint(), fingerprint);

        for (line, needle) in [
            (
                "external_id_guard = \"maybe\"",
                "external_id_guard must be \"guarded\" or \"unguarded\"",
            ),
            (
                "external_id_guard = true",
                "external_id_guard must be \"guarded\" or \"unguarded\"",
            ),
        ] {
            std::fs::write(
                &path,
                format!("[profiles.v]\nidentity = \"work\"\nrole_arn = \"arn:aws:iam::210987654321:role/V\"\nexternal_id = \"ext-123\"\n{line}\n"),
            )
            .unwrap();
            let err = ProfileBook::load(&path).unwrap().get("v").unwrap_err();
            assert!(err.to_string().contains(needle), "{err}");
        }
        std::fs::write(
            &path,
            "[profiles.v]\nidentity = \"work\"\nrole_arn = \"arn:aws:iam::210987654321:role/V\"\nexternal_id_guard = \"guarded\"\n",
        )
        .unwrap();
        let err = ProfileBook::load(&path).unwrap().get("v").unwrap_err();
        assert!(
            err.to_string().contains("no role with an external ID"),
            "{err}"
        );
    }
}
