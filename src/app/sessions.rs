//! Sessions: what `credential-process`, `exec` and `env` hand out, `unlock`
//! and `lock`, and the list of cached sessions. A cache hit needs no
//! prompter, no store and no network; a miss asks through the prompter the
//! face supplies.

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use zeroize::Zeroizing;

use crate::config::profile::Profile;
use crate::credentials::Prompter;
use crate::model::session::Session;

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
    if !fresh && let Some(s) = cached_here(kf, profile)? {
        log_served_here(kf, profile, &s);
        return Ok(s);
    }
    Ok(kf.agent_link().session(&profile.name, fresh, prompter)?)
}

/// The profile's cached session, read by this process itself (a client
/// over the kernel keyring): never for a profile under approvals, whose
/// sessions only the agent hands out, after it asked.
pub fn cached_here(kf: &Keyfob, profile: &Profile) -> Result<Option<Session>, AppError> {
    if kf.is_agent() || profile.approvals.is_on() {
        return Ok(None);
    }
    let cache = kf.cache()?;
    let vault = || kf.vault();
    Ok(kf.provider(cache.as_ref(), &vault, None).cached(profile))
}

/// The profile of `keyfob credential-process NAME` when these are exactly
/// the arguments and neither `KEYFOB_LOG` nor `KEYFOB_STORE` is set: the
/// command every AWS tool runs, served without clap or logging set up.
pub fn credential_process_args() -> Option<String> {
    let mut args = std::env::args_os().skip(1);
    let (command, name) = (args.next()?, args.next()?);
    if command != "credential-process" || args.next().is_some() {
        return None;
    }
    if std::env::var_os("KEYFOB_LOG").is_some() || std::env::var_os("KEYFOB_STORE").is_some() {
        return None;
    }
    name.into_string().ok().filter(|n| !n.starts_with('-'))
}

/// Whether `profile`'s sessions come only from the agent's session
/// requests: under approvals, or where the kernel keyring is refused and
/// the sessions live in the agent's memory.
pub fn served_by_agent(kf: &Keyfob, profile: &Profile) -> bool {
    profile.approvals.is_on() || kf.cache().is_ok_and(|c| c.in_agent())
}

/// Writes the access log's entry for a session this process served from
/// the cache itself ([`cached_here`]): the program as the kernel shows it
/// above this process (its hash is the agent's to know, and not read
/// here: a warm call stays a few system calls). A failed write is only
/// logged: the session was already handed out.
pub fn log_served_here(kf: &Keyfob, profile: &Profile, session: &Session) {
    use crate::app::access_log::{AccessEntry, AccessLog, Outcome};
    let r = crate::link::requester::requester_of_self(&kf.cli);
    let account = match (&profile.role, &profile.sso) {
        (Some(role), _) => Some(role.account.clone()),
        (None, Some(sso)) => Some(sso.account_id.clone()),
        (None, None) => crate::model::identity::account_from_key_id(&session.access_key_id),
    };
    let mut entry = AccessEntry::new(profile, account, &r, None);
    entry.outcome = Outcome::Cached;
    if let Err(e) = AccessLog::new(&kf.paths.data_dir).append(&entry) {
        tracing::warn!("{e}");
    }
}

/// The profile's session if it is cached and fresh (what the access log
/// calls "from cache"), read from this process's cache.
pub fn cached_session(kf: &Keyfob, profile: &Profile) -> Option<Session> {
    let cache = kf.cache().ok()?;
    let vault = || kf.vault();
    kf.provider(cache.as_ref(), &vault, None).cached(profile)
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

/// The identity session of `identity` with MFA device `mfa_serial` (the
/// external-ID guard's), made or found in this process: the agent's
/// answer to an identity-session request.
pub fn identity_session(
    kf: &Keyfob,
    identity: &str,
    mfa_serial: Option<&str>,
    prompter: Option<&dyn Prompter>,
) -> Result<Session, AppError> {
    let name = crate::model::identity::IdentityName::parse(identity)?;
    if let Some(serial) = mfa_serial {
        crate::model::limits::mfa_serial(serial)?;
    }
    let mut profile = Profile::plain(&name).with_defaults(kf.durations());
    profile.mfa_serial = mfa_serial.map(str::to_owned);
    make_session(kf, &profile, false, prompter)
}

/// A console session for a profile without a role, made in this process
/// (what the agent does for a console session request).
pub fn make_console_session(
    kf: &Keyfob,
    profile: &Profile,
    prompter: Option<&dyn Prompter>,
) -> Result<Session, AppError> {
    let cache = kf.cache()?;
    let vault = || kf.vault();
    Ok(kf
        .provider(cache.as_ref(), &vault, prompter)
        .console_session(profile)?)
}

/// What `keyfob login` was asked for beyond the profile.
#[derive(Clone, Debug, Default)]
pub struct ConsoleOptions {
    /// Open the console in this region (default: the profile's).
    pub region: Option<String>,
    /// Open this console URL instead of the console's home.
    pub destination: Option<String>,
    /// How long the console session lasts (`1h`, `3600`): role profiles
    /// that are not chained only.
    pub duration: Option<String>,
}

/// The console sign-in URL for profile `name` (`keyfob login`, the app's
/// Console button): the role session for a role profile (chains included),
/// else a federated user's session of the identity — a GetSessionToken
/// session cannot sign in. Every option is checked before any session is
/// asked for. The URL is a bearer credential for 15 minutes.
pub fn console_url(
    kf: &Keyfob,
    name: &str,
    options: &ConsoleOptions,
    prompter: Option<&dyn Prompter>,
) -> Result<Zeroizing<String>, AppError> {
    use crate::app::console::{self, ConsoleDuration};
    use crate::model::field::{Field, FieldError};

    let profile = kf.profile(name)?;
    let partition = match &profile.role {
        Some(role) => role.arn.split(':').nth(1).unwrap_or("aws").to_owned(),
        None => kf
            .vault()?
            .get(profile.identity.as_str())
            .ok()
            .and_then(|i| i.arn.and_then(|a| a.split(':').nth(1).map(str::to_owned)))
            .unwrap_or_else(|| "aws".into()),
    };
    let region = options.region.as_deref().or(profile.region.as_deref());
    let destination = console::destination(&partition, region, options.destination.as_deref())?;
    let duration = match &options.duration {
        None => ConsoleDuration::Default,
        Some(d) => {
            let why = if profile.role.is_none() {
                Some(
                    "an identity's console session lasts as long as its federation token (the profile's duration); set it with --duration on the profile",
                )
            } else if profile.is_role_chained() {
                Some(
                    "AWS does not let a chained role session choose its console duration (it lasts at most 1 hour)",
                )
            } else {
                None
            };
            if let Some(why) = why {
                return Err(FieldError::new(Field::Duration, why).into());
            }
            let d = crate::model::duration::parse(d)?;
            crate::model::limits::duration_within(
                d,
                (900, crate::model::limits::CONSOLE_SESSION_MAX),
                "a console session",
            )?;
            ConsoleDuration::Seconds(d.as_secs())
        }
    };

    // A role session (an Identity Center profile's is one) signs in as it is.
    let session = if profile.role.is_some() || profile.sso.is_some() {
        session(kf, &profile, false, prompter)?
    } else {
        console_session(kf, &profile, prompter)?
    };
    // Where the session was made: the identity's endpoints, never this
    // process's environment.
    let endpoint = console::federation_endpoint(&session.endpoints, &partition);
    Ok(console::signin_url(
        &endpoint,
        &session,
        duration,
        &destination,
    )?)
}

/// The AWS account a profile's console opens in: its role's, else its
/// identity's (for `login --browser-profile`).
pub fn console_account(kf: &Keyfob, name: &str) -> Result<String, AppError> {
    let profile = kf.profile(name)?;
    if let Some(role) = &profile.role {
        return Ok(role.account.clone());
    }
    kf.vault()?
        .get(profile.identity.as_str())?
        .account
        .ok_or_else(|| AppError::AccountUnknown {
            identity: profile.identity.to_string(),
            profile: name.to_owned(),
        })
}

/// The identity's console session: cached, or made by the agent.
fn console_session(
    kf: &Keyfob,
    profile: &Profile,
    prompter: Option<&dyn Prompter>,
) -> Result<Session, AppError> {
    if kf.is_agent() {
        return make_console_session(kf, profile, prompter);
    }
    let cache = kf.cache()?;
    let vault = || kf.vault();
    if let Some(s) = kf
        .provider(cache.as_ref(), &vault, None)
        .cached_console(profile)
    {
        return Ok(s);
    }
    Ok(kf
        .agent_link()
        .session_of_kind(&profile.name, false, true, prompter)?)
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
        let Ok(Some(expires_at)) = cache.expires(&p.session_key()) else {
            continue;
        };
        if expires_at > now {
            out.push(SessionInfo {
                profile: p.name.clone(),
                identity: p.identity.to_string(),
                expires_at,
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

/// What `keyfob lock NAME` did to an Identity Center sign-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignInLock {
    /// Not an Identity Center profile.
    NotIdentityCenter,
    /// The agent held the identity's sign-in and dropped it.
    Dropped,
    /// No sign-in of the identity was held.
    NoneHeld,
}

/// Drops a profile's cached session (`keyfob lock NAME`); for an Identity
/// Center profile also the identity's sign-in the agent holds, without
/// which none of its profiles gets a session without the PIN.
pub fn lock(kf: &Keyfob, name: &str) -> Result<(Profile, SignInLock), AppError> {
    let profile = kf.profile(name)?;
    let cache = kf.cache()?;
    cache.delete(&profile.session_key())?;
    if profile.role.is_none() {
        cache.delete(&profile.console_session_key())?;
    }
    // Approvals given until lock end with it.
    if kf.is_agent() {
        kf.approvals.revoke(None, Some(&profile.name), true)?;
    } else {
        kf.agent_link()
            .revoke_running(None, Some(&profile.name), true)?;
    }
    if profile.sso.is_none() && profile.login.is_none() {
        return Ok((profile, SignInLock::NotIdentityCenter));
    }
    let dropped = if kf.is_agent() {
        kf.held.forget(profile.identity.as_str())
    } else {
        kf.agent_link().forget_sign_in(profile.identity.as_str())?
    };
    let state = if dropped {
        SignInLock::Dropped
    } else {
        SignInLock::NoneHeld
    };
    Ok((profile, state))
}

/// Drops every cached session (`keyfob lock --all`); returns how many.
pub fn lock_all(kf: &Keyfob) -> Result<usize, AppError> {
    let cache = kf.cache()?;
    let keys = cache.keys()?;
    let sessions = keys.iter().filter(|k| !k.starts_with("mfa.")).count();
    for key in keys {
        cache.delete(&key)?;
    }
    // Identity Center sign-ins unsealed in the agent go too: without them
    // no profile of the identity gets a session without its PIN again.
    if kf.is_agent() {
        kf.held.forget_all();
        kf.approvals.revoke(None, None, true)?;
    } else {
        crate::link::client::AgentLink::lock_all_running(&kf.paths.runtime_dir, &kf.cli)?;
    }
    Ok(sessions)
}
