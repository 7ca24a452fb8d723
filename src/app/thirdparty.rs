//! Third-party roles: external IDs and the confused-deputy guard, for both
//! sides of the IAM guide's "Access to AWS accounts owned by third parties".
//!
//! **Customer's role, our profile.** A role another account grants us
//! names an external ID in its trust policy, and we send it with every
//! AssumeRole. Before such a profile is stored, [`check`] tries AssumeRole
//! *without* the external ID: if that works, the ID protects nothing — any
//! other customer who learns the role's ARN could hand it to us as theirs
//! and we would act on this customer's account (the confused deputy). The
//! verdict is kept on the profile ([`ExternalIdGuard`], in config.toml);
//! [`unguarded`] lists the profiles without a `guarded` verdict and
//! [`warning`] is the line printed whenever one is used.
//!
//! **Provider's tools.** [`new_external_id`] draws a fresh ID from the OS's
//! CSPRNG; [`issue`] records which customer an ID went to (in
//! `external-ids.toml` beside config.toml: not secret, but never reused);
//! [`trust_policy`] prints the policy to hand to the customer.
//!
//! Touches: [`crate::aws::sts`] (the two AssumeRole calls, with an identity
//! session the caller gets from [`crate::credentials::Provider`]),
//! [`crate::config::profile`] (the verdict), [`crate::model::limits`] (field rules).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::aws::AwsError;
use crate::aws::sts::{self, AssumeRoleRequest};
pub use crate::config::profile::ExternalIdGuard;
use crate::config::profile::{Profile, ProfileBook, ProfileError};
use crate::credentials::{Provider, ProviderError};
use crate::model::field::FieldError;
use crate::model::limits;
use crate::model::session::Session;
use crate::platform::fsutil::{WriteError, write_atomic};
use crate::platform::paths::Paths;

/// Length of a generated external ID: 32 characters of 62 is about 190
/// bits, so two customers never get the same one by chance (and
/// [`issue`] checks anyway).
pub const EXTERNAL_ID_LEN: usize = 32;

/// The characters a generated ID uses: letters and digits only, a subset
/// of what AWS allows (`[\w+=,.@:/-]`), so the ID survives any copy and
/// paste, shell or JSON without quoting.
const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// The guard's probes ask for the shortest session AWS allows; the probe
/// sessions are dropped at once.
const PROBE_SECS: u64 = 900;

#[derive(Debug, thiserror::Error)]
pub enum ThirdPartyError {
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error("account ID: must be 12 digits, such as 123456789012")]
    Account,
    #[error(
        "principal ARN: its account {principal} is not --account {account}; give one or make them agree"
    )]
    PrincipalAccount { principal: String, account: String },
    #[error("customer: {reason}")]
    Customer { reason: String },
    #[error(
        "profile {profile} has no external ID — the guard checks roles assumed with one (`keyfob profile add … --external-id ID`)"
    )]
    NoExternalId { profile: String },
    /// The role can be assumed without the external ID.
    #[error(
        "role {role_arn} can be assumed without its external ID, so the ID does not protect it: anyone else who learns the ARN could have keyfob use it for them (the confused deputy problem) — ask the role's owner to add to its trust policy \"Condition\": {{\"StringEquals\": {{\"sts:ExternalId\": \"{external_id}\"}}}}, then add the profile again (or pass --accept-unguarded to store it marked unguarded)"
    )]
    Unguarded {
        role_arn: String,
        external_id: String,
    },
    /// AssumeRole with the external ID was denied too.
    #[error(
        "role {role_arn} refused AssumeRole with this external ID — the external ID is wrong, or the role's trust policy does not let identity {identity} assume it ({source})"
    )]
    Rejected {
        role_arn: String,
        identity: String,
        source: AwsError,
    },
    /// AWS failed otherwise (network, throttling, a bad duration …): the
    /// guard could not decide.
    #[error("cannot check role {role_arn}: {source}")]
    Probe { role_arn: String, source: AwsError },
    #[error("the operating system's random number generator failed")]
    Random,
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error(transparent)]
    Lock(#[from] crate::platform::fsutil::LockError),
    #[error(transparent)]
    Write(#[from] WriteError),
}

impl ThirdPartyError {
    /// What kind of failure this is (see [`crate::model::error_kind::ErrorKind`]).
    pub fn kind(&self) -> crate::model::error_kind::ErrorKind {
        use crate::model::error_kind::ErrorKind as K;
        match self {
            ThirdPartyError::Field(_)
            | ThirdPartyError::Account
            | ThirdPartyError::PrincipalAccount { .. }
            | ThirdPartyError::Customer { .. }
            | ThirdPartyError::Rejected { .. } => K::Field,
            ThirdPartyError::NoExternalId { .. } => K::Invalid,
            ThirdPartyError::Unguarded { .. } => K::Unguarded,
            ThirdPartyError::Probe { .. } => K::Aws,
            ThirdPartyError::Random => K::Failed,
            _ => K::Config,
        }
    }

    /// Whether the input was refused (exit 2 in the CLI), as opposed to a
    /// failure to decide.
    pub fn is_refusal(&self) -> bool {
        self.kind().is_refusal()
    }
}

// ---------------------------------------------------------------------------
// The guard
// ---------------------------------------------------------------------------

/// Whether AWS said "not allowed" (as opposed to "cannot tell"): the trust
/// policy turned the call down.
fn denied(err: &AwsError) -> bool {
    err.code() == Some("AccessDenied")
}

/// Runs the confused-deputy guard on `profile`'s role with `source_session`
/// (the session its role is assumed with: [`source_session`]):
///
/// 1. AssumeRole **without** the external ID. Allowed → [`ExternalIdGuard::Unguarded`].
/// 2. Denied → AssumeRole **with** it. Allowed → [`ExternalIdGuard::Guarded`];
///    denied → [`ThirdPartyError::Rejected`] (wrong ID, or not assumable).
///
/// Any other failure is [`ThirdPartyError::Probe`]. Both calls carry the
/// profile's session name and source identity, so the external ID is the
/// only difference between them. The sessions they make are dropped.
pub fn check(
    source_session: &Session,
    profile: &Profile,
) -> Result<ExternalIdGuard, ThirdPartyError> {
    let Some((role, external_id)) = profile
        .role
        .as_ref()
        .and_then(|r| Some((r, r.external_id.as_deref()?)))
    else {
        return Err(ThirdPartyError::NoExternalId {
            profile: profile.name.clone(),
        });
    };
    let session_name = profile.role_session_name();
    let request = |external_id| AssumeRoleRequest {
        role_arn: &role.arn,
        role_session_name: &session_name,
        external_id,
        source_identity: role.source_identity.as_deref(),
        duration_secs: PROBE_SECS,
        tags: &role.tags,
        transitive_tag_keys: &role.transitive_tags,
        policy_arns: &role.policy_arns,
    };
    let probe = |source| ThirdPartyError::Probe {
        role_arn: role.arn.clone(),
        source,
    };
    tracing::info!(profile = %profile.name, role = %role.arn, "guard: AssumeRole without the external ID");
    match sts::assume_role(source_session, &request(None)) {
        Ok(_) => return Ok(ExternalIdGuard::Unguarded),
        Err(e) if denied(&e) => {}
        Err(e) => return Err(probe(e)),
    }
    tracing::info!(profile = %profile.name, role = %role.arn, "guard: AssumeRole with the external ID");
    match sts::assume_role(source_session, &request(Some(external_id))) {
        Ok(_) => Ok(ExternalIdGuard::Guarded),
        Err(source) if denied(&source) => Err(ThirdPartyError::Rejected {
            role_arn: role.arn.clone(),
            identity: profile.identity.to_string(),
            source,
        }),
        Err(e) => Err(probe(e)),
    }
}

/// The session a profile's role is assumed with: for a role chain, its
/// source profile's session; else the provider's own identity session for
/// the profile (cached, or made now with what its prompter answers) — the
/// same cache entry its role sessions are made from later. The profile
/// without its role *is* that session's profile (same cache key and
/// fingerprint: identity + MFA device).
pub fn source_session(
    provider: &Provider<'_>,
    profile: &Profile,
) -> Result<Session, ProviderError> {
    if let Some(source) = &profile.source {
        return provider.credentials(source);
    }
    let twin = Profile {
        role: None,
        duration_secs: None,
        ..profile.clone()
    };
    provider.credentials(&twin)
}

/// The guard as `keyfob profile add` and the desktop app's profile form run
/// it on a profile about to be stored, before anything is written: [`check`],
/// then refuse an unguarded role unless `accept_unguarded`, and set the
/// verdict on the profile. A profile without an external ID is left alone
/// (`Ok(None)`).
pub fn guard(
    source_session: &Session,
    profile: &mut Profile,
    accept_unguarded: bool,
) -> Result<Option<ExternalIdGuard>, ThirdPartyError> {
    if !needs_guard(profile) {
        return Ok(None);
    }
    let verdict = check(source_session, profile)?;
    if verdict == ExternalIdGuard::Unguarded
        && !accept_unguarded
        && let Some(refusal) = refusal(profile)
    {
        return Err(refusal);
    }
    if let Some(role) = profile.role.as_mut() {
        role.external_id_guard = Some(verdict);
    }
    Ok(Some(verdict))
}

/// Whether `profile` needs the guard before it is stored: a role with an
/// external ID.
pub fn needs_guard(profile: &Profile) -> bool {
    profile
        .role
        .as_ref()
        .is_some_and(|r| r.external_id.is_some())
}

/// The refusal for an unguarded role (what `profile add` says without
/// `--accept-unguarded`).
pub fn refusal(profile: &Profile) -> Option<ThirdPartyError> {
    let role = profile.role.as_ref()?;
    Some(ThirdPartyError::Unguarded {
        role_arn: role.arn.clone(),
        external_id: role.external_id.clone()?,
    })
}

/// The role profiles with an external ID whose verdict is not `guarded`:
/// stored with `--accept-unguarded`, or never checked (imported from the
/// AWS config file, written by hand, or stored before the guard existed).
/// `role.external_id_guard` tells the two apart (`Unguarded` / `None`).
pub fn unguarded(book: &ProfileBook) -> Result<Vec<Profile>, ProfileError> {
    Ok(book
        .list()?
        .into_iter()
        .filter(|p| {
            p.role.as_ref().is_some_and(|r| {
                r.external_id.is_some() && r.external_id_guard != Some(ExternalIdGuard::Guarded)
            })
        })
        .collect())
}

/// The one-line warning to print (on stderr) whenever `profile` is used,
/// if a role of its chain with an external ID is not known to be guarded.
pub fn warning(profile: &Profile) -> Option<String> {
    profile.chain().into_iter().find_map(hop_warning)
}

fn hop_warning(profile: &Profile) -> Option<String> {
    let role = profile.role.as_ref()?;
    role.external_id.as_ref()?;
    match role.external_id_guard {
        Some(ExternalIdGuard::Guarded) => None,
        Some(ExternalIdGuard::Unguarded) => Some(format!(
            "profile {} is unguarded: role {} can be assumed without its external ID (a confused-deputy risk) — once its owner adds a StringEquals sts:ExternalId condition, run `keyfob role check {}`",
            profile.name, role.arn, profile.name
        )),
        None => Some(format!(
            "profile {}: role {} was never checked for the confused-deputy risk — run `keyfob role check {}`",
            profile.name, role.arn, profile.name
        )),
    }
}

// ---------------------------------------------------------------------------
// External IDs
// ---------------------------------------------------------------------------

/// A fresh external ID: [`EXTERNAL_ID_LEN`] letters and digits drawn
/// uniformly (rand's `Alphanumeric`, which rejects biased samples) from a
/// ChaCha generator seeded from the OS's CSPRNG. Seeding is the one
/// fallible step, so a failing OS source is an error, not a panic.
pub fn new_external_id() -> Result<String, ThirdPartyError> {
    use rand::distr::Alphanumeric;
    use rand::rngs::{StdRng, SysRng};
    use rand::{RngExt, SeedableRng};
    let mut rng = StdRng::try_from_rng(&mut SysRng).map_err(|_| ThirdPartyError::Random)?;
    let id: String = (0..EXTERNAL_ID_LEN)
        .map(|_| char::from(rng.sample(Alphanumeric)))
        .collect();
    // Invariant: every character is from ALPHABET and the length is 32,
    // inside AWS's 2–1224 of [\w+=,.@:/-].
    debug_assert!(id.bytes().all(|b| ALPHABET.contains(&b)));
    debug_assert!(limits::external_id(&id).is_ok());
    Ok(id)
}

/// Where [`issue`] records the IDs given to customers.
pub fn record_path(paths: &Paths) -> PathBuf {
    paths.config_dir.join("external-ids.toml")
}

/// One customer's external ID, and the ones it replaced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub external_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    /// IDs replaced with `--rotate`: kept so they are never issued again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retired: Vec<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    #[serde(default)]
    customers: BTreeMap<String, Customer>,
}

const RECORD_HEADER: &str = "\
# External IDs keyfob issued to customers (`keyfob external-id new --customer`).
# Not secret, but never reused: an ID goes to one customer only, and a rotated
# one stays listed under `retired` so it is never issued again.

";

/// What [`issue`] did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Issued {
    pub customer: String,
    pub external_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    /// False when the customer already had this ID.
    pub new: bool,
}

/// A customer's name: 1–128 characters, no control characters, no
/// leading or trailing space (so `acme` and `acme ` are not two customers
/// by accident).
pub fn customer_name(name: &str) -> Result<(), ThirdPartyError> {
    let reason = if name.is_empty() || name.chars().count() > 128 {
        "must be 1–128 characters"
    } else if name.chars().any(char::is_control) {
        "may not contain control characters"
    } else if name.trim() != name {
        "may not start or end with a space"
    } else {
        return Ok(());
    };
    Err(ThirdPartyError::Customer {
        reason: reason.into(),
    })
}

/// The customers and their IDs, as recorded at `path` (none if missing).
pub fn issued(path: &Path) -> Result<BTreeMap<String, Customer>, ThirdPartyError> {
    Ok(load_record(path)?.customers)
}

fn load_record(path: &Path) -> Result<Record, ThirdPartyError> {
    let text =
        crate::platform::fsutil::read_or_empty(path).map_err(|source| ThirdPartyError::Read {
            path: path.into(),
            source,
        })?;
    let parse = |message: String| ThirdPartyError::Parse {
        path: path.into(),
        message,
    };
    let record: Record = toml::from_str(&text).map_err(|e| parse(e.message().to_owned()))?;
    // A hand edit must not make one ID belong to two customers.
    let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, c) in &record.customers {
        customer_name(name).map_err(|e| parse(format!("customer {name:?}: {e}")))?;
        for id in std::iter::once(&c.external_id).chain(&c.retired) {
            limits::external_id(id).map_err(|e| parse(format!("customer {name}: {e}")))?;
            if let Some(other) = owner.insert(id, name) {
                return Err(parse(format!(
                    "one external ID is listed for both {other} and {name}; an ID must belong to one customer"
                )));
            }
        }
    }
    Ok(record)
}

/// Gives `customer` an external ID and records it at `path`: their
/// existing one, unless `rotate` (then a new one, the old one retired).
/// A new ID is never one already recorded for anybody. Holds a file lock
/// beside `path` while reading and writing, so concurrent calls cannot
/// hand out two IDs or lose one.
pub fn issue(path: &Path, customer: &str, rotate: bool) -> Result<Issued, ThirdPartyError> {
    customer_name(customer)?;
    let lock = crate::platform::fsutil::lock_for(path)?;

    let mut record = load_record(path)?;
    if let Some(c) = record.customers.get(customer)
        && !rotate
    {
        return Ok(Issued {
            customer: customer.into(),
            external_id: c.external_id.clone(),
            issued_at: c.issued_at,
            new: false,
        });
    }
    let taken = |id: &str| {
        record
            .customers
            .values()
            .any(|c| c.external_id == id || c.retired.iter().any(|r| r == id))
    };
    let external_id = loop {
        let id = new_external_id()?;
        if !taken(&id) {
            break id;
        }
    };
    let now = OffsetDateTime::now_utc();
    let issued_at = now.replace_nanosecond(0).unwrap_or(now);
    let retired = match record.customers.get(customer) {
        Some(old) => {
            let mut r = old.retired.clone();
            r.push(old.external_id.clone());
            r
        }
        None => Vec::new(),
    };
    record.customers.insert(
        customer.into(),
        Customer {
            external_id: external_id.clone(),
            issued_at,
            retired,
        },
    );
    let body = toml::to_string(&record).map_err(|e| ThirdPartyError::Parse {
        path: path.into(),
        message: e.to_string(),
    })?;
    write_atomic(path, format!("{RECORD_HEADER}{body}").as_bytes(), 0o600)?;
    drop(lock);
    Ok(Issued {
        customer: customer.into(),
        external_id,
        issued_at,
        new: true,
    })
}

// ---------------------------------------------------------------------------
// Trust policies
// ---------------------------------------------------------------------------

/// An AWS account ID: exactly 12 digits.
pub fn account_id(value: &str) -> Result<(), ThirdPartyError> {
    if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ThirdPartyError::Account)
    }
}

// The policy's shape, in the order AWS documents it (serde_json keeps
// struct field order; a map would sort "Statement" before "Version").
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Policy<'a> {
    version: &'static str,
    statement: [Statement<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Statement<'a> {
    effect: &'static str,
    principal: PrincipalAws,
    action: &'static str,
    condition: Condition<'a>,
}

#[derive(Serialize)]
struct PrincipalAws {
    #[serde(rename = "AWS")]
    aws: String,
}

#[derive(Serialize)]
struct Condition<'a> {
    #[serde(rename = "StringEquals")]
    string_equals: ExternalIdKey<'a>,
}

#[derive(Serialize)]
struct ExternalIdKey<'a> {
    #[serde(rename = "sts:ExternalId")]
    external_id: &'a str,
}

/// The trust policy a customer puts on the role they grant us: the
/// provider's account (`arn:aws:iam::ACCOUNT:root`, i.e. any principal of
/// it whose own policies allow sts:AssumeRole) or one of its roles may
/// assume the role, only with `external_id`. Every value is checked first;
/// when both are given, the principal's account must be `account`.
pub fn trust_policy(
    account: Option<&str>,
    principal_arn: Option<&str>,
    external_id: &str,
) -> Result<String, ThirdPartyError> {
    limits::external_id(external_id)?;
    if let Some(a) = account {
        account_id(a)?;
    }
    let principal = match (principal_arn, account) {
        (Some(arn), account) => {
            let principal_account = limits::role_arn(arn)?;
            if let Some(a) = account
                && a != principal_account
            {
                return Err(ThirdPartyError::PrincipalAccount {
                    principal: principal_account,
                    account: a.into(),
                });
            }
            arn.to_owned()
        }
        (None, Some(a)) => format!("arn:aws:iam::{a}:root"),
        (None, None) => return Err(ThirdPartyError::Account),
    };
    let policy = Policy {
        version: "2012-10-17",
        statement: [Statement {
            effect: "Allow",
            principal: PrincipalAws { aws: principal },
            action: "sts:AssumeRole",
            condition: Condition {
                string_equals: ExternalIdKey { external_id },
            },
        }],
    };
    // Plain structs of strings always serialise.
    Ok(serde_json::to_string_pretty(&policy).expect("a policy serialises"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::profile::ProfileInput;
    use serde_json::Value;

    #[test]
    fn generated_ids_are_long_valid_and_distinct() {
        let ids: std::collections::HashSet<String> =
            (0..1000).map(|_| new_external_id().unwrap()).collect();
        assert_eq!(ids.len(), 1000);
        for id in &ids {
            assert_eq!(id.len(), EXTERNAL_ID_LEN);
            assert!(limits::external_id(id).is_ok(), "{id}");
            assert!(id.bytes().all(|b| ALPHABET.contains(&b)), "{id}");
        }
        // Every character of the alphabet turns up: no position is stuck.
        let seen: std::collections::HashSet<u8> = ids.iter().flat_map(|i| i.bytes()).collect();
        assert_eq!(seen.len(), ALPHABET.len());
    }

    #[test]
    fn the_policy_names_the_principal_and_requires_the_external_id() {
        let text = trust_policy(Some("123456789012"), None, "ext-Abc_123").unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["Version"], "2012-10-17");
        let s = &v["Statement"][0];
        assert_eq!(v["Statement"].as_array().unwrap().len(), 1);
        assert_eq!(s["Effect"], "Allow");
        assert_eq!(s["Action"], "sts:AssumeRole");
        assert_eq!(s["Principal"]["AWS"], "arn:aws:iam::123456789012:root");
        assert_eq!(
            s["Condition"]["StringEquals"]["sts:ExternalId"],
            "ext-Abc_123"
        );
        assert!(text.find("\"Version\"").unwrap() < text.find("\"Statement\"").unwrap());

        let role = "arn:aws:iam::123456789012:role/path/Provider";
        for account in [Some("123456789012"), None] {
            let v: Value =
                serde_json::from_str(&trust_policy(account, Some(role), "ext-Abc_123").unwrap())
                    .unwrap();
            assert_eq!(v["Statement"][0]["Principal"]["AWS"], role);
        }
    }

    #[test]
    fn the_policy_refuses_a_bad_account_id_or_arn() {
        let id = "ext-Abc_123";
        for bad in [
            "12345678901",
            "1234567890123",
            "12345678901a",
            "",
            " 123456789012",
        ] {
            assert!(
                matches!(
                    trust_policy(Some(bad), None, id),
                    Err(ThirdPartyError::Account)
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            trust_policy(None, None, id),
            Err(ThirdPartyError::Account)
        ));
        for bad in ["x", "has space", "semi;colon", "quote\"", ""] {
            assert!(
                matches!(
                    trust_policy(Some("123456789012"), None, bad),
                    Err(ThirdPartyError::Field(_))
                ),
                "{bad:?}"
            );
        }
        for bad in [
            "arn:aws:iam::123456789012:user/alice",
            "arn:aws:iam::1:role/x",
            "role/x",
        ] {
            assert!(
                matches!(
                    trust_policy(None, Some(bad), id),
                    Err(ThirdPartyError::Field(_))
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            trust_policy(
                Some("210987654321"),
                Some("arn:aws:iam::123456789012:role/P"),
                id
            ),
            Err(ThirdPartyError::PrincipalAccount { .. })
        ));
    }

    #[test]
    fn a_customer_keeps_their_id_and_rotation_never_reissues_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keyfob/external-ids.toml");
        let a = issue(&path, "Example Corp", false).unwrap();
        assert!(a.new);
        let again = issue(&path, "Example Corp", false).unwrap();
        assert_eq!(
            (again.external_id.as_str(), again.new),
            (a.external_id.as_str(), false)
        );
        let b = issue(&path, "Other", false).unwrap();
        assert_ne!(a.external_id, b.external_id);
        let rotated = issue(&path, "Example Corp", true).unwrap();
        assert!(rotated.new);
        assert_ne!(rotated.external_id, a.external_id);
        let all = issued(&path).unwrap();
        assert_eq!(all["Example Corp"].external_id, rotated.external_id);
        assert_eq!(all["Example Corp"].retired, vec![a.external_id.clone()]);
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .starts_with("# External IDs")
        );

        for bad in ["", " acme", "acme\n", &"x".repeat(129)] {
            assert!(issue(&path, bad, false).is_err(), "{bad:?}");
        }
        // A hand edit giving one ID to two customers is refused.
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace(&b.external_id, &a.external_id);
        std::fs::write(&path, text).unwrap();
        let err = issue(&path, "Third", false).unwrap_err();
        assert!(err.to_string().contains("both"), "{err}");
    }

    fn profile(name: &str, external_id: Option<&str>, guard: Option<ExternalIdGuard>) -> Profile {
        let mut p = Profile::from_input(&ProfileInput {
            name: name.into(),
            identity: "work".into(),
            role_arn: Some("arn:aws:iam::210987654321:role/Vendor".into()),
            external_id: external_id.map(Into::into),
            ..Default::default()
        })
        .unwrap();
        p.role.as_mut().unwrap().external_id_guard = guard;
        p
    }

    #[test]
    fn unguarded_lists_what_is_not_known_guarded_and_warns_for_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let mut book = ProfileBook::load(&path).unwrap();
        let guarded = profile("guarded", Some("ext-1"), Some(ExternalIdGuard::Guarded));
        let open = profile("open", Some("ext-2"), Some(ExternalIdGuard::Unguarded));
        let unchecked = profile("unchecked", Some("ext-3"), None);
        let no_id = profile("same-account", None, None);
        for p in [&guarded, &open, &unchecked, &no_id] {
            book.put(p, false).unwrap();
        }
        let work = crate::model::identity::IdentityName::parse("work").unwrap();
        book.put(&Profile::plain(&work), false).unwrap();
        book.save().unwrap();
        let book = ProfileBook::load(&path).unwrap();
        let names: Vec<String> = unguarded(&book)
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(names, ["open", "unchecked"]);

        assert_eq!(warning(&guarded), None);
        assert_eq!(warning(&no_id), None);
        assert!(
            warning(&open)
                .unwrap()
                .contains("profile open is unguarded")
        );
        assert!(warning(&unchecked).unwrap().contains("never checked"));
        for w in [warning(&open).unwrap(), warning(&unchecked).unwrap()] {
            assert!(!w.contains('\n'));
        }
        let refused = refusal(&open).unwrap();
        assert!(refused.is_refusal());
        let text = refused.to_string();
        assert!(text.contains("confused deputy"), "{text}");
        assert!(
            text.contains(r#""StringEquals": {"sts:ExternalId": "ext-2"}"#),
            "{text}"
        );
        assert!(!text.contains('\n'));
    }
}
