//! Getting credentials for a profile: the layered providers.
//!
//! stored key (vault, PIN) → identity session (GetSessionToken, MFA) →
//! role session (AssumeRole), each cached ([`crate::model::session`]) and used
//! until 15 minutes before it expires.
//!
//! A cache hit ([`Provider::cached`]) touches nothing but the cache: no
//! store, no KDF, no network, no async runtime. On a miss the provider
//! takes a file lock per session key (so N concurrent callers make one STS
//! call and show one prompt), looks in the cache again, and only then asks
//! for the PIN (and MFA code) through the [`Prompter`] it was given. With
//! no prompter it fails at once with the unlock hint.

pub mod held;
pub mod login;
pub mod sso;

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::aws::AwsError;
use crate::aws::sts::{self, AssumeRoleRequest, SessionTokenRequest};
use crate::config::profile::Profile;
use crate::link::cache::SessionCache;
pub use crate::model::ask::{Ask, PromptError, Prompter};
use crate::model::field::FieldError;
use crate::model::limits;
use crate::model::secret::Pin;
use crate::model::session::{REFRESH_WINDOW, SIGN_IN_REFRESH_WINDOW, Session, digest};
use crate::platform::fsutil::{self, FileLock, LockError};
use crate::vault::{Vault, VaultError};

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("profile {profile} is locked — run 'keyfob unlock {profile}'")]
    Locked { profile: String },
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error("STS refused the session for profile {profile}: {source}")]
    Aws { profile: String, source: AwsError },
    #[error(transparent)]
    Prompt(#[from] PromptError),
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error(
        "MFA code: that code was already used; AWS accepts each code once — wait for the next one (about {wait_secs} s)"
    )]
    MfaCodeReused { wait_secs: u64 },
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(
        "the Identity Center sign-in of {identity} has expired and cannot be renewed — run `keyfob sso login {identity}`"
    )]
    SsoSignIn { identity: String },
    #[error("Identity Center refused the credentials for profile {profile}: {source}")]
    Sso {
        profile: String,
        source: crate::aws::sso::SsoError,
    },
    #[error(
        "the AWS sign-in of {identity} cannot be renewed: {why} — run `keyfob login-session login {identity}`"
    )]
    LoginSignIn { identity: String, why: String },
    #[error("AWS Sign-In refused the credentials for profile {profile}: {source}")]
    Login {
        profile: String,
        source: crate::aws::signin::SignInError,
    },
}

impl ProviderError {
    /// What kind of failure this is (see [`crate::model::error_kind::ErrorKind`]).
    pub fn kind(&self) -> crate::model::error_kind::ErrorKind {
        use crate::model::error_kind::ErrorKind as K;
        match self {
            ProviderError::Locked { .. } => K::Locked,
            ProviderError::SsoSignIn { .. } | ProviderError::LoginSignIn { .. } => K::SignIn,
            ProviderError::Vault(v) => v.kind(),
            ProviderError::Prompt(p) => p.kind(),
            ProviderError::Field(_) | ProviderError::MfaCodeReused { .. } => K::Field,
            ProviderError::Aws { .. } | ProviderError::Sso { .. } | ProviderError::Login { .. } => {
                K::Aws
            }
            ProviderError::Lock(_) => K::Config,
        }
    }
}

/// The last MFA code sent for a device, as a digest (the code itself is
/// worthless after use, but there is no need to keep it).
#[derive(Serialize, Deserialize)]
struct UsedCode {
    digest: String,
    at: i64,
}

/// A TOTP code is valid for its 30 s step and, at AWS, one step either
/// side; a code seen within this long may not be sent again.
const CODE_REUSE_SECS: i64 = 90;
const PIN_TRIES: usize = 3;
/// How long a cold call waits for another one making the same session: the
/// other may be waiting for the person to type a PIN (the app's prompt
/// gives up after 120 s), so this is longer than that.
const SESSION_LOCK_TIMEOUT: Duration = Duration::from_secs(180);

pub struct Provider<'a> {
    cache: &'a dyn SessionCache,
    held: &'a held::HeldSignIns,
    vault: &'a dyn Fn() -> Result<Vault, VaultError>,
    prompter: Option<&'a dyn Prompter>,
    lock_dir: PathBuf,
}

impl<'a> Provider<'a> {
    /// `vault` opens the vault; it is called only on a cache miss.
    pub fn new(
        cache: &'a dyn SessionCache,
        held: &'a held::HeldSignIns,
        vault: &'a dyn Fn() -> Result<Vault, VaultError>,
        prompter: Option<&'a dyn Prompter>,
        lock_dir: PathBuf,
    ) -> Self {
        Self {
            cache,
            held,
            vault,
            prompter,
            lock_dir,
        }
    }

    /// The profile's session from the cache, if it is fresh.
    pub fn cached(&self, profile: &Profile) -> Option<Session> {
        let fingerprint = match (&profile.role, &profile.sso, &profile.login) {
            (None, None, None) => profile.identity_fingerprint(),
            _ => profile.fingerprint(),
        };
        let window = match (&profile.role, &profile.login) {
            (None, Some(_)) => SIGN_IN_REFRESH_WINDOW,
            _ => REFRESH_WINDOW,
        };
        self.lookup(&profile.session_key(), &fingerprint, window)
    }

    /// The identity's console session from the cache, if it is fresh.
    pub fn cached_console(&self, profile: &Profile) -> Option<Session> {
        self.lookup(
            &profile.console_session_key(),
            &profile.identity_fingerprint(),
            REFRESH_WINDOW,
        )
    }

    fn lookup(&self, key: &str, fingerprint: &str, window: Duration) -> Option<Session> {
        let bytes = match self.cache.get(key) {
            Ok(Some(b)) => b,
            Ok(None) => return None,
            Err(e) => {
                tracing::warn!("session cache: {e}");
                return None;
            }
        };
        match Session::from_json(&bytes) {
            Ok((s, Some(fp)))
                if fp == fingerprint && s.is_fresh_within(OffsetDateTime::now_utc(), window) =>
            {
                Some(s)
            }
            Ok(_) => None,
            Err(e) => {
                tracing::warn!("ignoring an unreadable cached session: {e}");
                None
            }
        }
    }

    fn store(&self, key: &str, fingerprint: &str, session: &Session) {
        let json = session.to_cache_json(fingerprint);
        if let Err(e) = self.cache.put(key, json.as_bytes(), session.expiration) {
            // The session is still good: hand it out, uncached.
            tracing::warn!("could not cache the session ({e}); the next call will ask again");
        }
    }

    fn lock(&self, key: &str) -> Result<FileLock, ProviderError> {
        let path = self.lock_dir.join(format!("{key}.lock"));
        Ok(fsutil::lock(&path, SESSION_LOCK_TIMEOUT)?)
    }

    /// The profile's session: cached, or made now (asking for the PIN and
    /// MFA code if the identity session must be renewed).
    pub fn credentials(&self, profile: &Profile) -> Result<Session, ProviderError> {
        if let Some(s) = self.cached(profile) {
            return Ok(s);
        }
        let _guard = self.lock(&profile.session_key())?;
        // Someone else may have made it while we waited for the lock.
        if let Some(s) = self.cached(profile) {
            tracing::debug!(profile = %profile.name, "session made by a concurrent call");
            return Ok(s);
        }
        // A chained profile's role is assumed with its source's session
        // (cached under the source's own key, so hops are shared).
        let source_session = match &profile.source {
            Some(source) => self.credentials(source)?,
            // An Identity Center profile has no role of its own.
            None if profile.sso.is_some() => return self.sso_session(profile),
            // Nor has an AWS sign-in's.
            None if profile.login.is_some() => return self.login_session(profile),
            None => self.identity_session(profile, true)?,
        };
        let Some(role) = &profile.role else {
            return Ok(source_session);
        };
        let duration = profile.role_secs();
        let limit = if profile.is_role_chained() {
            (limits::ROLE_DURATION.0, limits::ROLE_CHAINING_MAX)
        } else {
            limits::ROLE_DURATION
        };
        limits::duration_within(Duration::from_secs(duration), limit, "a role session")?;
        let session_name = profile.role_session_name();
        tracing::info!(profile = %profile.name, role = %role.arn, hops = profile.chain_roles(), "assuming role");
        let session = sts::assume_role(
            &source_session,
            &AssumeRoleRequest {
                role_arn: &role.arn,
                role_session_name: &session_name,
                external_id: role.external_id.as_deref(),
                source_identity: role.source_identity.as_deref(),
                duration_secs: duration,
                tags: &role.tags,
                transitive_tag_keys: &role.transitive_tags,
                policy_arns: &role.policy_arns,
            },
        )
        .map_err(|source| ProviderError::Aws {
            profile: profile.name.clone(),
            source,
        })?;
        self.store(&profile.session_key(), &profile.fingerprint(), &session);
        Ok(session)
    }

    /// Drops the profile's cached sessions (role and identity) and makes
    /// new ones: `keyfob unlock`.
    pub fn unlock(&self, profile: &Profile) -> Result<Session, ProviderError> {
        for key in [
            Some(profile.identity_session_key()),
            profile.role_session_key(),
            profile.sso_session_key(),
            profile.login_session_key(),
        ]
        .into_iter()
        .flatten()
        {
            let _ = self.cache.delete(&key);
        }
        self.credentials(profile)
    }

    /// Replaces the profile's identity session with one made now, without
    /// dropping the old one first, so concurrent callers never find the
    /// cache empty (used after a key rotation switches keys).
    pub fn renew(&self, profile: &Profile) -> Result<Session, ProviderError> {
        let _guard = self.lock(&profile.identity_session_key())?;
        self.identity_session(profile, false)
    }

    /// A console session for a profile without a role: a federated user's
    /// session (GetFederationToken with the long-term key), since AWS does
    /// not let a GetSessionToken session sign in to the console. Cached
    /// like any session, under its own key; the PIN is asked as for an
    /// identity session. AWS takes no MFA code for it.
    pub fn console_session(&self, profile: &Profile) -> Result<Session, ProviderError> {
        let key = profile.console_session_key();
        let fingerprint = profile.identity_fingerprint();
        if let Some(s) = self.cached_console(profile) {
            return Ok(s);
        }
        let _guard = self.lock(&key)?;
        if let Some(s) = self.lookup(&key, &fingerprint, REFRESH_WINDOW) {
            return Ok(s);
        }
        let Some(prompter) = self.prompter else {
            return Err(ProviderError::Locked {
                profile: profile.name.clone(),
            });
        };
        let duration = profile.session_secs().min(limits::CONSOLE_SESSION_MAX);
        let name = profile.federated_user_name();
        limits::federated_user_name(&name)?;
        let (identity, secret) = self.unseal(profile, prompter)?;
        tracing::info!(profile = %profile.name, "getting a federation token for the console");
        let session = sts::get_federation_token(
            &identity.endpoints(),
            identity.access_key_id.as_str(),
            &secret,
            &name,
            duration,
        )
        .map_err(|source| ProviderError::Aws {
            profile: profile.name.clone(),
            source,
        })?;
        drop(secret);
        self.store(&key, &fingerprint, &session);
        Ok(session)
    }

    /// Opens the profile's long-term key with the PIN, asking again after a
    /// wrong one while a person is there (at most [`PIN_TRIES`] times).
    /// The identity comes back as it was when the key opened: its
    /// endpoints are bound into the sealed key, so they are the ones the
    /// key may be used with.
    fn unseal(
        &self,
        profile: &Profile,
        prompter: &dyn Prompter,
    ) -> Result<
        (
            crate::model::identity::Identity,
            crate::model::secret::SecretAccessKey,
        ),
        ProviderError,
    > {
        let vault = (self.vault)()?;
        let identity = vault.get(profile.identity.as_str())?;
        let ask = Ask {
            profile: &profile.name,
            identity: profile.identity.as_str(),
            mfa_serial: profile.mfa_serial.as_deref(),
        };
        with_pin(prompter, &ask, |pin| {
            vault.unseal_identity(identity.name.as_str(), pin)
        })
    }

    fn identity_session(
        &self,
        profile: &Profile,
        use_cache: bool,
    ) -> Result<Session, ProviderError> {
        let key = profile.identity_session_key();
        let fingerprint = profile.identity_fingerprint();
        // A plain profile's lock is already this key's; a role profile
        // takes it too, so its sibling roles share one prompt.
        let _guard = match (&profile.role, use_cache) {
            (Some(_), true) => Some(self.lock(&key)?),
            _ => None,
        };
        if use_cache && let Some(s) = self.lookup(&key, &fingerprint, REFRESH_WINDOW) {
            return Ok(s);
        }
        let Some(prompter) = self.prompter else {
            return Err(ProviderError::Locked {
                profile: profile.name.clone(),
            });
        };
        let duration = profile.session_secs();
        limits::duration_within(
            Duration::from_secs(duration),
            limits::SESSION_DURATION,
            "a session",
        )?;

        let (identity, secret) = self.unseal(profile, prompter)?;
        let ask = Ask {
            profile: &profile.name,
            identity: profile.identity.as_str(),
            mfa_serial: profile.mfa_serial.as_deref(),
        };
        let code = match &profile.mfa_serial {
            Some(serial) => Some(self.fresh_mfa_code(prompter, &ask, serial)?),
            None => None,
        };
        tracing::info!(profile = %profile.name, mfa = code.is_some(), "getting a session token");
        let session = sts::get_session_token(
            &identity.endpoints(),
            identity.access_key_id.as_str(),
            &secret,
            &SessionTokenRequest {
                duration_secs: duration,
                mfa: profile.mfa_serial.as_deref().zip(code.as_deref()),
            },
        )
        .map_err(|source| ProviderError::Aws {
            profile: profile.name.clone(),
            source,
        })?;
        drop(secret);
        self.store(&key, &fingerprint, &session);
        Ok(session)
    }

    /// Asks for an MFA code that has not been sent before. A code already
    /// used makes an interactive prompter wait for the next 30 s window
    /// and ask again; otherwise it is an error saying how long to wait.
    fn fresh_mfa_code(
        &self,
        prompter: &dyn Prompter,
        ask: &Ask<'_>,
        serial: &str,
    ) -> Result<String, ProviderError> {
        let key = format!("mfa.{}", digest(&[serial]));
        for _ in 0..3 {
            let code = prompter.mfa_code(ask)?;
            limits::mfa_code(&code)?;
            let now = OffsetDateTime::now_utc().unix_timestamp();
            let seen = self
                .cache
                .get(&key)
                .ok()
                .flatten()
                .and_then(|b| serde_json::from_slice::<UsedCode>(&b).ok());
            let code_digest = digest(&[serial, &code]);
            let reused = seen
                .as_ref()
                .is_some_and(|u| u.digest == code_digest && now - u.at < CODE_REUSE_SECS);
            if !reused {
                let used = UsedCode {
                    digest: code_digest,
                    at: now,
                };
                // A plain struct always serialises.
                let bytes = serde_json::to_vec(&used).expect("used code serialises");
                let expires = OffsetDateTime::now_utc() + time::Duration::seconds(CODE_REUSE_SECS);
                if let Err(e) = self.cache.put(&key, &bytes, expires) {
                    tracing::warn!("could not remember the MFA code as used: {e}");
                }
                return Ok(code);
            }
            let wait_secs = (30 - now.rem_euclid(30)) as u64;
            if !prompter.interactive() {
                return Err(ProviderError::MfaCodeReused { wait_secs });
            }
            prompter.notice(&format!(
                "That MFA code was just used, and AWS accepts each code once. Waiting {wait_secs} s for the next one…"
            ));
            std::thread::sleep(Duration::from_secs(wait_secs));
        }
        Err(ProviderError::MfaCodeReused { wait_secs: 30 })
    }
}

/// Asks `prompter` for the PIN and runs `open` with it; after a wrong PIN
/// asks again while a person is there to ask (at most [`PIN_TRIES`] times,
/// and never past the vault's attempts), telling them why.
fn with_pin<T>(
    prompter: &dyn Prompter,
    ask: &Ask<'_>,
    open: impl Fn(&Pin) -> Result<T, VaultError>,
) -> Result<T, ProviderError> {
    let mut tries = 0;
    loop {
        tries += 1;
        let pin = prompter.pin(ask)?;
        match open(&pin) {
            Ok(opened) => return Ok(opened),
            Err(e @ VaultError::WrongPin { remaining, .. })
                if prompter.interactive() && tries < PIN_TRIES && remaining > 0 =>
            {
                prompter.notice(&e.to_string());
            }
            Err(e) => return Err(e.into()),
        }
    }
}
