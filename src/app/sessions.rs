//! Sessions: what `credential-process`, `exec` and `env` hand out, `unlock`
//! and `lock`, and the list of cached sessions. A cache hit needs no
//! prompter, no store and no network; a miss asks through the prompter the
//! face supplies.

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use zeroize::Zeroizing;

use crate::profile::Profile;
use crate::provider::Prompter;
use crate::session::Session;

use super::{AppError, Keyfob};

/// Set in `keyfob exec`'s child, so a nested exec is refused.
pub const EXEC_MARKER: &str = "KEYFOB_PROFILE";

/// Variables that would compete with an injected session: unset for
/// `exec`'s child and by `env`'s output.
pub const CLEARED: &[&str] = &[
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
];

/// The profile's session: cached, or made by the agent (`fresh`: made
/// now, as `keyfob unlock`). A client (the CLI) reads the cache and, on a
/// miss, asks the agent, answering its asks with `prompter` (the
/// terminal, or values given up front) — the PIN goes to the agent, never
/// the other way. In the agent this makes the session itself.
pub fn session(
    kf: &Keyfob,
    profile: &Profile,
    fresh: bool,
    prompter: Option<&dyn Prompter>,
) -> Result<Session, AppError> {
    if kf.is_agent() {
        return make_session(kf, profile, fresh, prompter);
    }
    if !fresh {
        let cache = kf.cache()?;
        let vault = || kf.vault();
        if let Some(s) = kf.provider(cache.as_ref(), &vault, None).cached(profile) {
            return Ok(s);
        }
    }
    Ok(kf.agent_link().session(&profile.name, fresh, prompter)?)
}

/// Makes (or finds cached, unless `fresh`) the profile's session in this
/// process: what the agent does for a session request. `prompter: None`
/// makes a locked profile fail at once with the unlock hint.
pub fn make_session(
    kf: &Keyfob,
    profile: &Profile,
    fresh: bool,
    prompter: Option<&dyn Prompter>,
) -> Result<Session, AppError> {
    let cache = kf.cache()?;
    let vault = || kf.vault();
    let provider = kf.provider(cache.as_ref(), &vault, prompter);
    Ok(if fresh {
        provider.unlock(profile)?
    } else {
        provider.credentials(profile)?
    })
}

/// The variables a session sets, in the order they are printed; the values
/// are wiped when the list drops.
pub fn session_vars(profile: &Profile, s: &Session) -> Vec<(&'static str, Zeroizing<String>)> {
    let mut vars = vec![
        ("AWS_ACCESS_KEY_ID", s.access_key_id.clone()),
        (
            "AWS_SECRET_ACCESS_KEY",
            s.secret_access_key.expose().to_owned(),
        ),
        ("AWS_SESSION_TOKEN", s.session_token.expose().to_owned()),
        (
            "AWS_CREDENTIAL_EXPIRATION",
            s.expiration.format(&Rfc3339).unwrap_or_default(),
        ),
    ];
    if let Some(region) = &profile.region {
        vars.push(("AWS_REGION", region.clone()));
        vars.push(("AWS_DEFAULT_REGION", region.clone()));
    }
    vars.push((EXEC_MARKER, profile.name.clone()));
    vars.into_iter()
        .map(|(k, v)| (k, Zeroizing::new(v)))
        .collect()
}

/// A cached session, without its secrets.
#[derive(Clone, Debug, Serialize)]
pub struct SessionInfo {
    pub profile: String,
    pub identity: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// The profiles that have a cached, unexpired session, soonest to expire
/// first.
pub fn sessions(kf: &Keyfob) -> Result<Vec<SessionInfo>, AppError> {
    let cache = kf.cache()?;
    let now = OffsetDateTime::now_utc();
    let mut out = Vec::new();
    for p in kf.profiles()? {
        let Ok(Some(bytes)) = cache.get(&p.session_key()) else {
            continue;
        };
        if let Ok((s, _)) = Session::from_json(&bytes)
            && s.expiration > now
        {
            out.push(SessionInfo {
                profile: p.name.clone(),
                identity: p.identity.to_string(),
                expires_at: s.expiration,
            });
        }
    }
    out.sort_by_key(|s| s.expires_at);
    Ok(out)
}

/// Makes new sessions for a profile with what `prompter` answers
/// (`keyfob unlock`); returns when the session expires.
pub fn unlock(
    kf: &Keyfob,
    name: &str,
    prompter: &dyn Prompter,
) -> Result<OffsetDateTime, AppError> {
    let profile = kf.profile(name)?;
    Ok(session(kf, &profile, true, Some(prompter))?.expiration)
}

/// Drops a profile's cached session (`keyfob lock NAME`).
pub fn lock(kf: &Keyfob, name: &str) -> Result<Profile, AppError> {
    let profile = kf.profile(name)?;
    kf.cache()?.delete(&profile.session_key())?;
    Ok(profile)
}

/// Drops every cached session (`keyfob lock --all`); returns how many.
pub fn lock_all(kf: &Keyfob) -> Result<usize, AppError> {
    let cache = kf.cache()?;
    let keys = cache.keys()?;
    let sessions = keys.iter().filter(|k| !k.starts_with("mfa.")).count();
    for key in keys {
        cache.delete(&key)?;
    }
    Ok(sessions)
}
