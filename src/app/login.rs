//! AWS sign-in identities (`aws login`'s kind): add one (a console sign-in
//! in the browser, sealed under a new PIN, with a profile of its name),
//! sign it in again, sign it out.
//!
//! The sign-in is [`crate::aws::signin`]'s: on this machine the browser
//! brings the code back to a loopback listener (as `aws login`); with
//! `--remote`, or where no browser opens, the page shows a code the person
//! types in here (as `aws login --remote`). A DPoP key is made for each
//! sign-in and sealed with its refresh token. Nothing is written before the
//! sign-in succeeds; a wrong field is refused before any sign-in.

use super::sso::{SignInPage, sso_error, verification_url_openable};
use super::{AppError, Confirm, Keyfob};
use crate::aws::signin::{self, CROSS_DEVICE, DpopKey, Grant, SAME_DEVICE, Tokens};
use crate::aws::sso_loopback::{BROWSER_WAIT, Loopback};
use crate::aws::sso_pkce::{self, Pkce};
use crate::config::login::{LoginSecrets, NewLogin};
use crate::config::profile::{Profile, ProfileError};
use crate::config::sso::SsoIdentity;
use crate::model::endpoints::Endpoints;
use crate::model::field::{Field, FieldError};
use crate::model::identity::{TpmChoice, check_pin};
use crate::model::secret::Pin;
use crate::vault::Sealed;

/// What the face shows while the person signs in.
pub trait LoginHost {
    /// Whether the browser runs on this machine (it can reach the
    /// loopback): not `--remote`, and a browser can open here.
    fn same_device(&self) -> bool;
    /// Shows the sign-in page and opens it in a browser on this machine;
    /// false when no browser could be opened (the code is asked instead).
    fn open_sign_in_page(&self, page: &SignInPage<'_>) -> bool;
    /// Shows the sign-in page to open on any device, and returns the code
    /// its confirmation page shows, as typed; `None` when none was typed.
    fn ask_code(&self, page: &SignInPage<'_>) -> Option<zeroize::Zeroizing<String>>;
    /// Whether the person gave up (polling the loopback stops).
    fn cancelled(&self) -> bool {
        false
    }
}

/// A new AWS sign-in identity, as added.
#[derive(Debug)]
pub struct LoginAdded {
    pub identity: SsoIdentity,
    pub sealed: Sealed,
    /// Who signed in (an ARN).
    pub principal: String,
    /// The profile made for it (the identity's name).
    pub profile: String,
}

/// Refuses a name taken by any identity or profile, before any PIN is
/// asked or any sign-in made.
pub fn check_new_login(kf: &Keyfob, new: &NewLogin) -> Result<(), AppError> {
    kf.vault()?.check_name_free(&new.name)?;
    if kf.book()?.contains(new.name.as_str()) {
        return Err(ProfileError::Exists {
            name: new.name.to_string(),
        }
        .into());
    }
    Ok(())
}

/// `keyfob login-session add`: signs in, seals the sign-in under `pin`
/// (bound to the TPM as `bind` says) and makes the identity's profile,
/// wired into the AWS config file through `credential_process`.
pub fn add_login_identity(
    kf: &Keyfob,
    new: &NewLogin,
    pin: &Pin,
    bind: (TpmChoice, bool),
    host: &dyn LoginHost,
    confirm: &dyn Confirm,
) -> Result<LoginAdded, AppError> {
    check_pin(pin)?;
    check_new_login(kf, new)?;
    drop(kf.vault()?.tpm_for(bind.0)?);
    let key = DpopKey::generate()?;
    let (tokens, client_id) = sign_in(new.name.as_str(), &new.endpoints, &key, host)?;
    let principal = principal(tokens.principal.as_deref())?;
    let secrets = LoginSecrets {
        client_id: client_id.to_owned(),
        refresh_token: Some(tokens.refresh_token),
        key,
        principal: principal.clone(),
    };
    let vault = kf.vault()?;
    let first = super::approvals::new_setup(&vault);
    let (identity, sealed) = vault.login_add_bound(new, pin, &secrets, bind.0, bind.1)?;
    super::approvals::first_identity_added(&kf.paths, first);
    tracing::info!(identity = %identity.name, "AWS sign-in identity added");
    let mut profile = Profile::plain(&identity.name);
    profile.region = Some(identity.region.clone());
    profile.login = Some(principal.clone());
    super::save_profile(kf, &profile, false, confirm).map_err(|e| AppError::ProfileNotAdded {
        identity: identity.name.to_string(),
        source: Box::new(e),
    })?;
    Ok(LoginAdded {
        profile: profile.name,
        identity,
        sealed,
        principal,
    })
}

/// `keyfob login-session login`: signs the identity in again (its PIN is
/// checked first, so a wrong one costs no sign-in) with a new DPoP key,
/// sealed under the same PIN. The same principal must sign in: the
/// identity's profiles (and roles chained from them) are that user's.
pub fn login_again(
    kf: &Keyfob,
    name: &str,
    pin: &Pin,
    host: &dyn LoginHost,
) -> Result<SsoIdentity, AppError> {
    let vault = kf.vault()?;
    let (identity, old, key) = vault.login_unseal_keeping_key(name, pin)?;
    let dpop = DpopKey::generate()?;
    let (tokens, client_id) = sign_in(identity.name.as_str(), &identity.endpoints(), &dpop, host)?;
    let principal = principal(tokens.principal.as_deref())?;
    if principal != old.principal {
        // The new sign-in is dropped: its token ends with its 12 hours.
        return Err(FieldError::new(
            Field::IdentityName,
            format!(
                "{name} is the sign-in of {}, but {principal} signed in — sign in as that user, or add the other one as a new identity",
                old.principal
            ),
        )
        .into());
    }
    let secrets = LoginSecrets {
        client_id: client_id.to_owned(),
        refresh_token: Some(tokens.refresh_token),
        key: dpop,
        principal,
    };
    let updated = vault.login_reseal(name, &key, &secrets, true)?;
    tracing::info!(identity = %updated.name, "AWS sign-in renewed");
    Ok(updated)
}

/// What `keyfob login-session logout` did.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct LoginLogout {
    pub identity: String,
    /// Profiles whose cached sessions were dropped.
    pub locked: usize,
    /// Why AWS could not be told, if it could not (the sign-in is
    /// forgotten here all the same).
    pub not_ended: Option<String>,
}

/// `keyfob login-session logout`: ends the sign-in at AWS (a refresh for
/// credentials to sign with, then RevokeOAuth2TokenWithIAM: `aws logout`
/// only deletes its cache file), forgets the refresh token in the vault,
/// and drops the cached sessions of the identity's profiles and the
/// sign-in the agent holds. It runs in the agent, which holds and renews
/// the sign-in. Credentials already handed out live on until
/// they expire (15 minutes at most).
pub fn login_logout(kf: &Keyfob, name: &str, pin: &Pin) -> Result<LoginLogout, AppError> {
    if !kf.is_agent() {
        // Run where the sign-in is held and renewed: the agent.
        let flow = super::Flow::LoginLogout {
            identity: name.to_owned(),
        };
        return super::remote::in_agent(kf, flow, Some(pin));
    }
    let vault = kf.vault()?;
    // Under the token lock the agent renews with: no renewal meanwhile
    // seals a refresh token this revokes.
    let lock_path = kf
        .paths
        .runtime_dir
        .join("locks")
        .join(format!("logintoken.{name}.lock"));
    let _guard = crate::platform::fsutil::lock(&lock_path, std::time::Duration::from_secs(60))?;
    let (identity, mut secrets, key) = vault.login_unseal_keeping_key(name, pin)?;
    let not_ended = match &secrets.refresh_token {
        None => None,
        Some(refresh) => {
            let endpoints = identity.endpoints();
            let grant = Grant::Refresh {
                client_id: &secrets.client_id,
                refresh_token: refresh,
            };
            match signin::create_token(&endpoints, &grant, &secrets.key) {
                Ok(t) => match signin::revoke(&endpoints, &t.session, &t.refresh_token) {
                    Ok(()) => None,
                    Err(e) => Some(e.to_string()),
                },
                // Already ended: nothing more to end.
                Err(e) if e.needs_sign_in() => None,
                Err(e) => Some(e.to_string()),
            }
        }
    };
    secrets.sign_out();
    vault.login_reseal(name, &key, &secrets, false)?;
    drop(_guard);
    let mut locked = 0;
    for profile in kf.profiles()? {
        if profile.identity.as_str() == name && super::lock(kf, &profile.name).is_ok() {
            locked += 1;
        }
    }
    tracing::info!(identity = %identity.name, "AWS sign-in ended");
    Ok(LoginLogout {
        identity: identity.name.to_string(),
        locked,
        not_ended,
    })
}

/// The principal a code's answer names.
fn principal(p: Option<&str>) -> Result<String, AppError> {
    p.map(str::to_owned).ok_or_else(|| {
        AppError::Login(signin::SignInError::Unexpected {
            message: "the answer to the code names no principal".into(),
        })
    })
}

/// A sign-in: the loopback where the browser runs here, else (or when no
/// browser opened) the code typed in from another device. Returns the
/// tokens and the client it signed in as.
fn sign_in(
    name: &str,
    endpoints: &Endpoints,
    key: &DpopKey,
    host: &dyn LoginHost,
) -> Result<(Tokens, &'static str), AppError> {
    let base = signin::base_uri(endpoints);
    let pkce = Pkce::new().map_err(sso_error)?;
    let state = sso_pkce::new_state().map_err(sso_error)?;
    let page = |url: &'_ str| -> bool { verification_url_openable(url, endpoints, &base) };
    if host.same_device() {
        let loopback = Loopback::bind().map_err(sso_error)?;
        let redirect_uri = loopback.redirect_uri();
        let url = signin::authorize_url(&base, SAME_DEVICE, &redirect_uri, &state, &pkce.challenge);
        let shown = SignInPage {
            identity: name,
            url: &url,
            expires_in: BROWSER_WAIT,
            openable: page(&url),
        };
        if host.open_sign_in_page(&shown) {
            let code = loopback
                .wait(&state, BROWSER_WAIT, &|| host.cancelled())
                .map_err(sso_error)?;
            let grant = Grant::Code {
                client_id: SAME_DEVICE,
                code: &code,
                verifier: &pkce.verifier,
                redirect_uri: &redirect_uri,
            };
            let tokens = signin::create_token(endpoints, &grant, key)?;
            tracing::info!(identity = %name, "AWS sign-in approved in the browser");
            return Ok((tokens, SAME_DEVICE));
        }
    }
    let redirect_uri = signin::confirmation_uri(&base);
    let url = signin::authorize_url(&base, CROSS_DEVICE, &redirect_uri, &state, &pkce.challenge);
    let shown = SignInPage {
        identity: name,
        url: &url,
        expires_in: BROWSER_WAIT,
        openable: page(&url),
    };
    let refused = |reason: &str| AppError::Field(FieldError::new(Field::SignInCode, reason));
    let typed = host
        .ask_code(&shown)
        .ok_or_else(|| refused("none was typed; nothing was stored"))?;
    let (got_state, code) = signin::parse_verification_code(&typed).ok_or_else(|| {
        refused("is not what the sign-in page shows (a base64 code); nothing was stored")
    })?;
    if got_state != state {
        return Err(refused(
            "belongs to another sign-in (its state differs); nothing was stored — open this sign-in's page",
        ));
    }
    let grant = Grant::Code {
        client_id: CROSS_DEVICE,
        code: &code,
        verifier: &pkce.verifier,
        redirect_uri: &redirect_uri,
    };
    let tokens = signin::create_token(endpoints, &grant, key)?;
    tracing::info!(identity = %name, "AWS sign-in approved with a code");
    Ok((tokens, CROSS_DEVICE))
}
