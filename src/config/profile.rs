//! Profiles: named ways to get credentials — an identity (or, for a role
//! chain, another profile: `source_profile`), optionally a role (ARN,
//! external ID, session name, source identity, session tags and policies),
//! an MFA device, a duration and a region. They live in `$XDG_CONFIG_HOME/keyfob/config.toml`
//! under `[profiles.NAME]`, edited with `toml_edit` so a user's comments
//! and layout survive, and written atomically with a backup.
//!
//! Every value is checked against AWS's limits ([`crate::model::limits`]) when a
//! profile is built, and again when the file is read, so a hand-edited
//! mistake is reported with the profile and field instead of reaching AWS.

use std::path::{Path, PathBuf};

use serde::Serialize;
use toml_edit::{DocumentMut, Item, Table, value};

use crate::model::field::{Field, FieldError};
use crate::model::identity::{IdentityName, check_name};
use crate::model::limits;
use crate::model::session::digest;
use crate::platform::fsutil::{WriteError, write_atomic};

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
    /// The identity whose key starts the session: for a chained profile,
    /// the first profile's (resolved through the chain).
    pub identity: IdentityName,
    /// For a role chain, the profile whose session assumes this profile's
    /// role (resolved by [`ProfileBook`]; serialised as its name).
    #[serde(rename = "source_profile", serialize_with = "source_name")]
    pub source: Option<Box<Profile>>,
    pub role: Option<Role>,
    /// The identity session's MFA device; a chained profile inherits its
    /// first profile's.
    pub mfa_serial: Option<String>,
    /// Seconds; for a role profile the AssumeRole duration, otherwise the
    /// GetSessionToken duration.
    pub duration_secs: Option<u64>,
    pub region: Option<String>,
    /// For a profile synced from an IAM Identity Center identity
    /// (`keyfob sso sync`): the account and role whose credentials
    /// GetRoleCredentials gives; `identity` names the Identity Center
    /// identity. Such a profile has no role, MFA device or source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sso: Option<SsoRole>,
    /// The durations used where this profile sets none (from settings).
    #[serde(skip)]
    pub defaults: Durations,
}

/// An Identity Center account and role (`sso_account_id`, `sso_role_name`
/// in config.toml, as in the AWS CLI's own SSO profiles).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SsoRole {
    pub account_id: String,
    pub role_name: String,
}

impl SsoRole {
    /// Checks both values: a 12-digit account and a role name of 1–64
    /// `[\w+=,.@-]` (IAM's role name rule; permission sets follow it).
    pub fn parse(account_id: &str, role_name: &str) -> Result<SsoRole, FieldError> {
        if account_id.len() != 12 || !account_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(
                Field::ProfileName,
                "sso_account_id must be a 12-digit account ID",
            ));
        }
        let ok = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c);
        if role_name.is_empty() || role_name.len() > 64 || !role_name.chars().all(ok) {
            return Err(FieldError::new(
                Field::ProfileName,
                "sso_role_name must be 1–64 letters, digits and _+=,.@-",
            ));
        }
        Ok(SsoRole {
            account_id: account_id.into(),
            role_name: role_name.into(),
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Role {
    pub arn: String,
    /// The role's account, parsed from the ARN.
    pub account: String,
    pub external_id: Option<String>,
    pub session_name: Option<String>,
    pub source_identity: Option<String>,
    /// What the confused-deputy guard ([`crate::app::thirdparty`]) found when
    /// the profile was stored or last checked; `None` for a role without
    /// an external ID, or one never checked (imported, hand-written).
    /// Not part of the fingerprint: a re-check keeps the cached session.
    pub external_id_guard: Option<ExternalIdGuard>,
    /// Session tags passed to AssumeRole, in the order given.
    pub tags: Vec<(String, String)>,
    /// The tag keys that carry on into sessions chained from this one.
    pub transitive_tags: Vec<String>,
    /// Managed policies that limit the role session further.
    pub policy_arns: Vec<String>,
}

fn source_name<S: serde::Serializer>(
    source: &Option<Box<Profile>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_some(&source.as_ref().map(|p| p.name.as_str()))
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
    /// Empty for a chained profile (one with `source_profile`).
    pub identity: String,
    /// The profile this one's role is assumed from (a role chain).
    #[serde(default)]
    pub source_profile: Option<String>,
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
    pub role_session_name: Option<String>,
    pub source_identity: Option<String>,
    pub mfa_serial: Option<String>,
    pub duration: Option<String>,
    pub region: Option<String>,
    /// Session tags as (key, value).
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    #[serde(default)]
    pub transitive_tags: Vec<String>,
    #[serde(default)]
    pub policy_arns: Vec<String>,
}

impl Profile {
    /// Checks every field of a profile that starts from an identity; the
    /// first wrong one is named in the error. A chained profile (with
    /// `source_profile`) is built by [`ProfileBook::build`], which finds
    /// its source.
    pub fn from_input(input: &ProfileInput) -> Result<Profile, FieldError> {
        Self::from_input_with(input, None)
    }

    /// Checks every field; `source` is the resolved `source_profile`.
    fn from_input_with(
        input: &ProfileInput,
        source: Option<Profile>,
    ) -> Result<Profile, FieldError> {
        check_name(Field::ProfileName, &input.name)?;
        let some = |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
        let identity = match (&source, some(&input.source_profile)) {
            (None, None) => IdentityName::parse(&input.identity)?,
            (Some(src), Some(_)) => {
                if !input.identity.is_empty() {
                    return Err(FieldError::new(
                        Field::SourceProfile,
                        "give an identity or a source profile, not both",
                    ));
                }
                src.identity.clone()
            }
            (None, Some(name)) => {
                return Err(FieldError::new(
                    Field::SourceProfile,
                    format!("no profile named {name} — `keyfob profile list` shows them"),
                ));
            }
            (Some(_), None) => unreachable!("a source is only resolved for a source_profile"),
        };

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
                limits::tags(&input.tags)?;
                limits::transitive_tags(&input.transitive_tags, &input.tags)?;
                limits::policy_arns(&input.policy_arns)?;
                Some(Role {
                    arn,
                    account,
                    external_id,
                    session_name,
                    source_identity,
                    // Set by the guard, or read back by ProfileBook::get.
                    external_id_guard: None,
                    tags: input.tags.clone(),
                    transitive_tags: input.transitive_tags.clone(),
                    policy_arns: input.policy_arns.clone(),
                })
            }
            None => {
                for (field, given) in [
                    (Field::ExternalId, some(&input.external_id).is_some()),
                    (
                        Field::RoleSessionName,
                        some(&input.role_session_name).is_some(),
                    ),
                    (
                        Field::SourceIdentity,
                        some(&input.source_identity).is_some(),
                    ),
                    (Field::Tags, !input.tags.is_empty()),
                    (Field::TransitiveTags, !input.transitive_tags.is_empty()),
                    (Field::PolicyArns, !input.policy_arns.is_empty()),
                    (Field::SourceProfile, source.is_some()),
                ] {
                    if given {
                        return Err(FieldError::new(field, "needs a role ARN (--role-arn)"));
                    }
                }
                None
            }
        };
        let mut mfa_serial = some(&input.mfa_serial);
        if let Some(m) = &mfa_serial {
            limits::mfa_serial(m)?;
        }
        // What the chain allows: a chained profile uses its first
        // profile's identity session (and MFA), and a role assumed with
        // role credentials lasts at most an hour.
        let chained = match &source {
            Some(src) => {
                if mfa_serial.is_some() && mfa_serial != src.mfa_serial {
                    return Err(FieldError::new(
                        Field::MfaSerial,
                        format!(
                            "a chained profile uses the session of its first profile, {}: set mfa_serial there",
                            src.root().name
                        ),
                    ));
                }
                mfa_serial = src.mfa_serial.clone();
                if src.chain_roles() + 1 > limits::MAX_CHAIN_ROLES {
                    return Err(FieldError::new(
                        Field::SourceProfile,
                        format!(
                            "a role chain may hold at most {} roles; {} already has {}",
                            limits::MAX_CHAIN_ROLES,
                            src.name,
                            src.chain_roles()
                        ),
                    ));
                }
                if let Some(role) = &role {
                    for (key, _) in &role.tags {
                        if let Some(hop) = src.transitive_tag_owner(key) {
                            return Err(FieldError::new(
                                Field::Tags,
                                format!(
                                    "{key:?} is a transitive tag of {hop}, earlier in the chain; AWS refuses to set it again"
                                ),
                            ));
                        }
                    }
                }
                src.role.is_some() || src.sso.is_some()
            }
            None => false,
        };
        let duration_secs = match some(&input.duration) {
            Some(d) => {
                let d = crate::model::duration::parse(&d)?;
                if chained {
                    limits::duration_within(
                        d,
                        (limits::ROLE_DURATION.0, limits::ROLE_CHAINING_MAX),
                        "a chained role session (AWS's limit for role chaining)",
                    )?;
                } else if role.is_some() {
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
            source: source.map(Box::new),
            role,
            mfa_serial,
            duration_secs,
            region,
            sso: None,
            defaults: Durations::default(),
        })
    }

    /// The chain's first profile (this one when it is not chained).
    pub fn root(&self) -> &Profile {
        let mut p = self;
        while let Some(src) = &p.source {
            p = src;
        }
        p
    }

    /// The profiles of the chain, first to last (this one).
    pub fn chain(&self) -> Vec<&Profile> {
        let mut hops = vec![self];
        while let Some(src) = &hops[hops.len() - 1].source {
            hops.push(src);
        }
        hops.reverse();
        hops
    }

    /// How many roles the chain up to this profile assumes.
    pub fn chain_roles(&self) -> usize {
        self.chain().iter().filter(|p| p.role.is_some()).count()
    }

    /// Whether this profile's role is assumed with another role's session
    /// (AWS's "role chaining", capped at an hour).
    pub fn is_role_chained(&self) -> bool {
        // An Identity Center profile's session is a role session too.
        self.role.is_some()
            && self
                .source
                .as_ref()
                .is_some_and(|s| s.role.is_some() || s.sso.is_some())
    }

    /// The profile of the chain that made `key` a transitive tag, if any.
    fn transitive_tag_owner(&self, key: &str) -> Option<&str> {
        self.chain().into_iter().rev().find_map(|p| {
            p.role
                .as_ref()
                .filter(|r| {
                    r.transitive_tags
                        .iter()
                        .any(|t| t.eq_ignore_ascii_case(key))
                })
                .map(|_| p.name.as_str())
        })
    }

    /// The plain profile keyfob creates for a new identity.
    pub fn plain(identity: &IdentityName) -> Profile {
        Profile {
            name: identity.as_str().to_owned(),
            identity: identity.clone(),
            source: None,
            role: None,
            mfa_serial: None,
            duration_secs: None,
            region: None,
            sso: None,
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

    /// The cache key of the identity's console (federated user) session.
    pub fn console_session_key(&self) -> String {
        format!("console.{}", self.identity)
    }

    /// The federated user a console session of the identity signs in as:
    /// `keyfob-IDENTITY`, cut to GetFederationToken's 32 characters.
    pub fn federated_user_name(&self) -> String {
        format!("keyfob-{}", self.identity)
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(*c))
            .take(32)
            .collect()
    }

    /// The cache key of this profile's role session, if it has a role.
    pub fn role_session_key(&self) -> Option<String> {
        self.role.as_ref().map(|_| format!("role.{}", self.name))
    }

    /// The key of the session `credential-process` hands out.
    pub fn session_key(&self) -> String {
        self.role_session_key()
            .or_else(|| self.sso_session_key())
            .unwrap_or_else(|| self.identity_session_key())
    }

    /// The cache key of an Identity Center role session: shared by every
    /// profile of the same identity, account and role.
    pub fn sso_session_key(&self) -> Option<String> {
        self.sso.as_ref().map(|s| {
            format!(
                "sso.{}.{}",
                self.identity,
                digest(&[&s.account_id, &s.role_name])
            )
        })
    }

    /// What the session was made for; a cached session whose fingerprint
    /// differs (the profile was edited) is not used.
    pub fn fingerprint(&self) -> String {
        let role = self.role.as_ref();
        fn opt(v: Option<&String>) -> &str {
            v.map(String::as_str).unwrap_or("")
        }
        let tags = role
            .map(|r| {
                let tags: Vec<String> = r
                    .tags
                    .iter()
                    .map(|(k, v)| format!("{k}\u{1f}{v}"))
                    .collect();
                format!(
                    "{}\u{1e}{}\u{1e}{}",
                    tags.join("\u{1d}"),
                    r.transitive_tags.join("\u{1d}"),
                    r.policy_arns.join("\u{1d}")
                )
            })
            .unwrap_or_default();
        // A chained session depends on its source's: editing any hop
        // makes the sessions after it new.
        let source = self
            .source
            .as_ref()
            .map(|s| s.fingerprint())
            .unwrap_or_default();
        let duration = self.duration_secs.unwrap_or(0).to_string();
        let mut parts = vec![
            self.identity.as_str(),
            opt(self.mfa_serial.as_ref()),
            role.map(|r| r.arn.as_str()).unwrap_or(""),
            opt(role.and_then(|r| r.external_id.as_ref())),
            opt(role.and_then(|r| r.session_name.as_ref())),
            opt(role.and_then(|r| r.source_identity.as_ref())),
            &duration,
            &tags,
            &source,
        ];
        // Only Identity Center profiles carry the extra part, so every
        // other profile keeps the fingerprint (and cached session) it had.
        if let Some(s) = &self.sso {
            parts.push(&s.account_id);
            parts.push(&s.role_name);
        }
        digest(&parts)
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

    /// The role session duration to ask STS for; a chained role's default
    /// is capped at AWS's hour (an explicit longer one is refused when the
    /// profile is built).
    pub fn role_secs(&self) -> u64 {
        match self.duration_secs {
            Some(d) => d,
            None if self.is_role_chained() => {
                self.defaults.role_secs.min(limits::ROLE_CHAINING_MAX)
            }
            None => self.defaults.role_secs,
        }
    }

    /// This profile (and every hop of its chain), taking `defaults` where
    /// it sets no duration.
    pub fn with_defaults(mut self, defaults: Durations) -> Profile {
        self.defaults = defaults;
        self.source = self.source.map(|s| Box::new(s.with_defaults(defaults)));
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
    #[error(
        "profile {name} is the source_profile of {users} — change or remove {them} first",
        them = if users.contains(',') { "those" } else { "it" }
    )]
    InUse { name: String, users: String },
    /// A field of a profile being built (not yet in the file).
    #[error("{source}")]
    Field { profile: String, source: FieldError },
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

    /// The `source_profile` profile `name` names, if any.
    fn source_name(&self, name: &str) -> Option<String> {
        self.table()?
            .get(name)?
            .as_table_like()?
            .get("source_profile")?
            .as_str()
            .map(str::to_owned)
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

    /// The resolved source profile `source` of profile `name`, refusing a
    /// loop (`seen` holds the chain walked so far).
    fn source_of(
        &self,
        name: &str,
        source: Option<&str>,
        seen: &mut Vec<String>,
    ) -> Result<Option<Profile>, ProfileError> {
        let Some(source) = source.filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        let field_error = |reason: String| ProfileError::Field {
            profile: name.to_owned(),
            source: FieldError::new(Field::SourceProfile, reason),
        };
        if seen.iter().any(|s| s == source) {
            seen.push(source.to_owned());
            return Err(field_error(format!(
                "the chain loops: {}",
                seen.join(" → ")
            )));
        }
        if !self.contains(source) {
            return Err(field_error(format!(
                "no profile named {source} — `keyfob profile list` shows them"
            )));
        }
        if seen.len() > limits::MAX_CHAIN_ROLES + 1 {
            return Err(field_error(format!(
                "a role chain may hold at most {} roles",
                limits::MAX_CHAIN_ROLES
            )));
        }
        self.get_chained(source, seen).map(Some)
    }

    fn get_chained(&self, name: &str, seen: &mut Vec<String>) -> Result<Profile, ProfileError> {
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
        let invalid = |source| ProfileError::Invalid {
            path: self.path.clone(),
            profile: name.into(),
            source,
        };
        let strings = |key: &str, field: Field| -> Result<Vec<String>, ProfileError> {
            let Some(item) = entry.get(key) else {
                return Ok(Vec::new());
            };
            item.as_array()
                .and_then(|a| a.iter().map(|v| v.as_str().map(str::to_owned)).collect())
                .ok_or_else(|| {
                    invalid(FieldError::new(
                        field,
                        format!("{key} must be a list of strings"),
                    ))
                })
        };
        let tags = match entry.get("tags") {
            None => Vec::new(),
            Some(item) => item
                .as_table_like()
                .and_then(|t| {
                    t.iter()
                        .map(|(k, v)| v.as_str().map(|v| (k.to_owned(), v.to_owned())))
                        .collect::<Option<Vec<_>>>()
                })
                .ok_or_else(|| {
                    invalid(FieldError::new(
                        Field::Tags,
                        "tags must be a table of strings, e.g. tags = { Project = \"blue\" }",
                    ))
                })?,
        };
        let input = ProfileInput {
            name: name.to_owned(),
            identity: text("identity").unwrap_or_default(),
            source_profile: text("source_profile"),
            role_arn: text("role_arn"),
            external_id: text("external_id"),
            role_session_name: text("role_session_name"),
            source_identity: text("source_identity"),
            mfa_serial: text("mfa_serial"),
            duration: text("duration_seconds"),
            region: text("region"),
            tags,
            transitive_tags: strings("transitive_tags", Field::TransitiveTags)?,
            policy_arns: strings("policy_arns", Field::PolicyArns)?,
        };
        seen.push(name.to_owned());
        let source = match self.source_of(name, input.source_profile.as_deref(), seen) {
            Ok(s) => s,
            Err(ProfileError::Field { source, .. }) => return Err(invalid(source)),
            Err(e) => return Err(e),
        };
        let mut profile = Profile::from_input_with(&input, source).map_err(invalid)?;
        match (text("sso_account_id"), text("sso_role_name")) {
            (None, None) => {}
            (Some(account), Some(role)) => {
                if profile.role.is_some()
                    || profile.source.is_some()
                    || profile.mfa_serial.is_some()
                {
                    return Err(invalid(FieldError::new(
                        Field::ProfileName,
                        "an Identity Center profile (sso_account_id) takes no role_arn, source_profile or mfa_serial — chain a further role from it with source_profile instead",
                    )));
                }
                profile.sso = Some(SsoRole::parse(&account, &role).map_err(invalid)?);
            }
            _ => {
                return Err(invalid(FieldError::new(
                    Field::ProfileName,
                    "sso_account_id and sso_role_name go together",
                )));
            }
        }
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
        profiles.insert(&profile.name, Item::Table(t));
        Ok(())
    }

    /// The profiles that name `name` as their `source_profile`.
    pub fn chained_from(&self, name: &str) -> Vec<String> {
        self.table()
            .map(|t| {
                t.iter()
                    .filter(|(_, item)| {
                        item.as_table_like()
                            .and_then(|p| p.get("source_profile"))
                            .and_then(|v| v.as_str())
                            == Some(name)
                    })
                    .map(|(k, _)| k.to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Checks profile `name` and every profile chained from it (directly
    /// or through others), as they are in memory now.
    pub fn check_chains_through(&self, name: &str) -> Result<(), ProfileError> {
        let mut todo = vec![name.to_owned()];
        let mut done = std::collections::HashSet::new();
        while let Some(next) = todo.pop() {
            if !done.insert(next.clone()) {
                continue;
            }
            self.get(&next)?;
            todo.extend(self.chained_from(&next));
        }
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

    fn book_in(dir: &tempfile::TempDir) -> ProfileBook {
        ProfileBook::load(&dir.path().join("config.toml")).unwrap()
    }

    fn role_input(name: &str, source: Option<&str>, role: &str) -> ProfileInput {
        let mut i = input(name);
        if let Some(src) = source {
            i.identity = String::new();
            i.source_profile = Some(src.into());
        }
        i.role_arn = Some(format!("arn:aws:iam::210987654321:role/{role}"));
        i
    }

    #[test]
    fn a_chain_resolves_its_identity_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let mut book = book_in(&dir);
        let mut hub = role_input("hub", None, "Hub");
        hub.mfa_serial = Some("arn:aws:iam::123456789012:mfa/alice".into());
        hub.external_id = Some("hub-ext".into());
        hub.tags = vec![("Project".into(), "blue".into())];
        hub.transitive_tags = vec!["Project".into()];
        let hub = book.build(&hub).unwrap();
        book.put(&hub, false).unwrap();
        let mut target = role_input("target", Some("hub"), "Target");
        target.external_id = Some("target-ext".into());
        target.policy_arns = vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()];
        let target = book.build(&target).unwrap();
        assert_eq!(target.identity.as_str(), "work");
        assert_eq!(
            target.mfa_serial, hub.mfa_serial,
            "the identity session is the hub's"
        );
        assert_eq!(target.identity_session_key(), hub.identity_session_key());
        assert!(target.is_role_chained());
        assert_eq!(target.chain_roles(), 2);
        assert_eq!(target.role_secs(), 3600);
        book.put(&target, false).unwrap();
        book.save().unwrap();

        let text = std::fs::read_to_string(dir.path().join("config.toml")).unwrap();
        assert!(text.contains("source_profile = \"hub\""), "{text}");
        assert!(!text.contains("[profiles.target]\nidentity"), "{text}");
        assert!(text.contains("tags = { Project = \"blue\" }"), "{text}");
        let again = book_in(&dir);
        assert_eq!(again.get("target").unwrap(), target);
        assert_eq!(again.get("hub").unwrap(), hub);
        let names: Vec<&str> = target.chain().iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["hub", "target"]);

        // Editing the hub changes the chained session's fingerprint.
        let mut edited = role_input("hub", None, "Hub2");
        edited.mfa_serial = hub.mfa_serial.clone();
        book.put(&book.build(&edited).unwrap(), true).unwrap();
        assert_ne!(
            book.get("target").unwrap().fingerprint(),
            target.fingerprint()
        );
    }

    #[test]
    fn chains_refuse_loops_long_hops_and_more_than_an_hour() {
        let dir = tempfile::tempdir().unwrap();
        let mut book = book_in(&dir);
        let field = |e: ProfileError| match e {
            ProfileError::Field { source, .. } | ProfileError::Invalid { source, .. } => source,
            other => panic!("not a field error: {other}"),
        };
        let e = field(
            book.build(&role_input("a", Some("nobody"), "A"))
                .unwrap_err(),
        );
        assert_eq!(e.field, Field::SourceProfile);
        assert!(e.reason.contains("no profile named nobody"), "{e}");

        book.put(&book.build(&role_input("r1", None, "R1")).unwrap(), false)
            .unwrap();
        for i in 2..=limits::MAX_CHAIN_ROLES {
            let p = book
                .build(&role_input(
                    &format!("r{i}"),
                    Some(&format!("r{}", i - 1)),
                    "R",
                ))
                .unwrap();
            book.put(&p, false).unwrap();
        }
        let last = format!("r{}", limits::MAX_CHAIN_ROLES);
        let e = field(
            book.build(&role_input("too-long", Some(&last), "X"))
                .unwrap_err(),
        );
        assert_eq!(e.field, Field::SourceProfile);
        assert!(e.reason.contains("at most 5 roles"), "{e}");

        let mut long = role_input("long", Some("r1"), "L");
        long.duration = Some("2h".into());
        let e = field(book.build(&long).unwrap_err());
        assert_eq!(e.field, Field::Duration);
        assert!(
            e.reason.contains("role chaining") && e.reason.contains("3600"),
            "{e}"
        );
        // From an identity's plain profile it is not role chaining.
        book.put(
            &Profile::plain(&IdentityName::parse("work").unwrap()),
            false,
        )
        .unwrap();
        let mut from_plain = role_input("from-plain", Some("work"), "P");
        from_plain.duration = Some("2h".into());
        assert_eq!(book.build(&from_plain).unwrap().role_secs(), 7200);

        // r1 chained from r2 would loop: r1 → r2 → r1; refused when checked.
        let looped = book.build(&role_input("r1", Some("r2"), "R1"));
        let e = field(looped.unwrap_err());
        assert!(e.reason.contains("loops"), "{e}");
        // A loop written by hand is named when the file is read.
        book.save().unwrap();
        let path = dir.path().join("config.toml");
        let text = std::fs::read_to_string(&path).unwrap().replace(
            "[profiles.r1]\nidentity = \"work\"",
            "[profiles.r1]\nsource_profile = \"r3\"",
        );
        std::fs::write(&path, text).unwrap();
        let e = book_in(&dir).get("r3").unwrap_err();
        assert!(e.to_string().contains("the chain loops"), "{e}");

        let mut mfa = role_input("mfa", Some("r1"), "M");
        mfa.mfa_serial = Some("arn:aws:iam::123456789012:mfa/bob".into());
        assert_eq!(field(book.build(&mfa).unwrap_err()).field, Field::MfaSerial);
    }

    #[test]
    fn a_transitive_tag_may_not_be_set_again_down_the_chain_and_sources_stay() {
        let dir = tempfile::tempdir().unwrap();
        let mut book = book_in(&dir);
        let mut hub = role_input("hub", None, "Hub");
        hub.tags = vec![("Project".into(), "blue".into())];
        hub.transitive_tags = vec!["Project".into()];
        book.put(&book.build(&hub).unwrap(), false).unwrap();
        let mut next = role_input("next", Some("hub"), "Next");
        next.tags = vec![("project".into(), "red".into())];
        let e = book.build(&next).unwrap_err();
        assert!(e.to_string().contains("transitive tag of hub"), "{e}");
        next.tags = vec![("Team".into(), "red".into())];
        book.put(&book.build(&next).unwrap(), false).unwrap();
        let e = book.remove("hub").unwrap_err();
        assert!(matches!(e, ProfileError::InUse { .. }), "{e}");
        assert!(e.to_string().contains("source_profile of next"), "{e}");
        book.remove("next").unwrap();
        book.remove("hub").unwrap();
    }

    #[test]
    fn tags_need_a_role() {
        let mut i = input("plain");
        i.tags = vec![("Project".into(), "blue".into())];
        assert_eq!(Profile::from_input(&i).unwrap_err().field, Field::Tags);
        let mut i = input("plain");
        i.policy_arns = vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()];
        assert_eq!(
            Profile::from_input(&i).unwrap_err().field,
            Field::PolicyArns
        );
    }
}

#[cfg(test)]
mod partial_load {
    //! `ProfileBook::load_for` reads a few tables of the file; whatever the
    //! file, what it gives for a profile is what the whole file gives.

    use super::*;
    use proptest::prelude::*;

    const NAMES: [&str; 5] = ["work", "hub", "mid", "my.prod", "p-4"];

    fn quoted(name: &str) -> String {
        if name.contains('.') {
            format!("\"{name}\"")
        } else {
            name.to_owned()
        }
    }

    /// One profile's tables, in one of the shapes TOML allows.
    fn profile_text(name: &str, source: Option<&str>, shape: u8, tag: &str) -> String {
        let key = quoted(name);
        let origin = match source {
            Some(s) => format!(
                "source_profile = \"{s}\"\nrole_arn = \"arn:aws:iam::111122223333:role/R-{}\"\n",
                name.replace('.', "")
            ),
            None => "identity = \"work\"\n".to_owned(),
        };
        match shape % 4 {
            0 => format!("[profiles.{key}]\n{origin}region = \"eu-west-1\" # [not] a header\n"),
            1 => format!(
                "[profiles.{key}]\n{origin}policy_arns = [\n  \"arn:aws:iam::aws:policy/[x]\", # ]\n]\n[profiles.{key}.tags]\nteam = \"{tag}\"\n"
            ),
            2 => format!("[ profiles . {key} ]\n{origin}tags = {{ team = '{tag}' }}\n"),
            _ => format!("[profiles.{key}]\n{origin}duration = \"1h\"\n"),
        }
    }

    fn file() -> impl Strategy<Value = String> {
        (
            proptest::collection::vec(
                (0..NAMES.len(), proptest::option::of(0..NAMES.len()), 0u8..4),
                0..8,
            ),
            any::<bool>(),
            any::<bool>(),
            "[a-z\\[\\]{} ]{0,6}",
        )
            .prop_map(|(profiles, settings, accounts, tag)| {
                let mut text = String::from("# keyfob [profiles.fake]\n");
                if settings {
                    text.push_str("[settings]\nsession_duration = \"4h\"\n");
                }
                let mut seen = Vec::new();
                for (i, (name, source, shape)) in profiles.into_iter().enumerate() {
                    // One definition each (a duplicate is the test below).
                    if seen.contains(&name) {
                        continue;
                    }
                    seen.push(name);
                    let source = source.map(|s| NAMES[s]);
                    text.push_str(&profile_text(NAMES[name], source, shape, &tag));
                    if accounts && i == 1 {
                        text.push_str("[accounts]\n\"111122223333\" = \"prod [eu]\"\n");
                    }
                }
                text
            })
    }

    fn shown(r: Result<Profile, ProfileError>) -> String {
        match r {
            Ok(p) => format!("{p:?}"),
            Err(e) => format!("error: {e}"),
        }
    }

    proptest! {
        #[test]
        fn a_profile_read_alone_is_the_profile_of_the_whole_file(text in file()) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("config.toml");
            std::fs::write(&path, &text).unwrap();
            let whole = ProfileBook::load(&path);
            let settings = ProfileBook::load_for(&path, None);
            let whole = whole.unwrap();
            prop_assert_eq!(whole.settings_text(), settings.unwrap().settings_text());
            for name in NAMES.iter().chain(&["missing"]) {
                let alone = ProfileBook::load_for(&path, Some(name)).unwrap();
                prop_assert_eq!(shown(alone.get(name)), shown(whole.get(name)), "profile {} of\n{}", name, text);
            }
        }
    }

    /// A file broken in one profile's table: that profile is refused with
    /// the whole file's error; another, whole, is still read.
    #[test]
    fn a_break_is_reported_where_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let text = "[profiles.work]\nidentity = \"work\"\n[profiles.hub]\nidentity = \"work\"\n[profiles.hub]\nregion = \"x\"\n";
        std::fs::write(&path, text).unwrap();
        let whole = ProfileBook::load(&path).err().unwrap().to_string();
        assert!(whole.contains("duplicate key"), "{whole}");
        let hub = ProfileBook::load_for(&path, Some("hub"))
            .err()
            .unwrap()
            .to_string();
        assert_eq!(hub, whole);
        let work = ProfileBook::load_for(&path, Some("work")).unwrap();
        assert_eq!(work.get("work").unwrap().identity.as_str(), "work");
        // What the scan cannot follow goes to the whole parse, and its error.
        std::fs::write(&path, "[profiles.work\n").unwrap();
        assert!(
            ProfileBook::load_for(&path, Some("work"))
                .err()
                .unwrap()
                .to_string()
                .contains("not valid TOML")
        );
    }
}
