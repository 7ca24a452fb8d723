//! The profile: its fields, defaults and chain, and the error every
//! profile operation returns.

use std::path::PathBuf;

use serde::Serialize;

use crate::model::field::{Field, FieldError};
use crate::model::identity::IdentityName;
use crate::model::limits;
use crate::platform::fsutil::WriteError;

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
    /// For a profile of an AWS sign-in identity (`keyfob login-session
    /// add`, the AWS CLI's `login_session`): who signed in (an ARN, shown,
    /// not trusted: the identity's sealed sign-in says who it is). Such a
    /// profile has no role, MFA device or source; its sessions are the
    /// sign-in's 15-minute credentials.
    #[serde(rename = "login_session", skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
    /// The durations used where this profile sets none (from settings).
    #[serde(skip)]
    pub defaults: Durations,
    /// When the agent asks before handing this profile's session to a
    /// program (from settings: the global rule or this profile's own).
    #[serde(skip)]
    pub approvals: crate::model::approval::ApprovalRule,
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
    pub(super) fn transitive_tag_owner(&self, key: &str) -> Option<&str> {
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
            login: None,
            defaults: Durations::default(),
            approvals: Default::default(),
        }
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

impl ProfileError {
    /// What kind of failure this is (see [`crate::model::error_kind::ErrorKind`]).
    pub fn kind(&self) -> crate::model::error_kind::ErrorKind {
        use crate::model::error_kind::ErrorKind as K;
        match self {
            ProfileError::Invalid { .. } | ProfileError::Field { .. } => K::Field,
            ProfileError::Exists { .. } | ProfileError::InUse { .. } => K::Conflict,
            ProfileError::NotFound { .. } => K::NotFound,
            _ => K::Config,
        }
    }
}
