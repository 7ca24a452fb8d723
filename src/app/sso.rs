//! Identity Center flows: add an identity (a sign-in, then the sign-in
//! sealed under a new PIN), sign in again, remove.
//!
//! The person approves the sign-in in a browser, in one of two ways, as
//! the AWS CLI v2 does: the browser sign-in (authorization code with PKCE,
//! the code brought back to a loopback listener: [`crate::aws::sso_pkce`])
//! where the face can open a browser on this machine, else the device code
//! (a code to compare, approved on any device). What differs between the
//! faces (printing and opening the browser on a terminal, a countdown in
//! the app, which of the two) is [`SignInHost`]. Nothing is written before
//! the sign-in is approved: a code that expires, a refusal or a wrong
//! field leaves the vault as it was.

use std::time::Duration;

use time::OffsetDateTime;

use super::{AppError, Confirm, Keyfob, Question};
use crate::aws::sso::{self, ClientRegistration, Instance, SsoError, Tokens};
use crate::aws::sso_loopback::{BROWSER_WAIT, Loopback};
use crate::aws::sso_pkce::{self, Pkce};
use crate::config::sso::{NewSso, SsoIdentity, SsoSecrets};
use crate::model::identity::TpmChoice;
use crate::model::identity::check_pin;
use crate::model::secret::Pin;
use crate::vault::{Sealed, SsoKey};

/// What the face shows while the person approves a sign-in.
pub trait SignInHost {
    /// Whether to sign in through the browser (the default of the AWS CLI
    /// v2): a face that can open a browser on this machine, unless the
    /// person asked for the device code (`--use-device-code`). False: the
    /// device code.
    fn browser_sign_in(&self) -> bool {
        false
    }
    /// The browser sign-in: show `page.url` and open it in a browser
    /// (unless told not to). False when no browser could be opened: keyfob
    /// then signs in with the device code instead.
    fn open_sign_in_page(&self, page: &SignInPage<'_>) -> bool {
        let _ = page;
        false
    }
    /// Where to approve and the code to compare; called once per sign-in,
    /// before keyfob starts polling.
    fn show_code(&self, code: &DeviceCode<'_>);
    /// Called after each poll that found the sign-in still pending, with
    /// the time left before the code expires (for a countdown).
    fn waiting(&self, _left: Duration) {}
    /// Whether the person gave up (the app's Cancel): polling stops within
    /// a fraction of a second and nothing is stored.
    fn cancelled(&self) -> bool {
        false
    }
}

/// The browser sign-in's page, as the person sees it (no secret: the
/// URL holds the PKCE challenge, a hash, never the verifier).
#[derive(Debug)]
pub struct SignInPage<'a> {
    pub identity: &'a str,
    /// Identity Center's authorize page for this sign-in.
    pub url: &'a str,
    /// How long keyfob waits for the browser to come back.
    pub expires_in: Duration,
    /// Whether a face may open the URL by itself
    /// ([`verification_url_openable`]); else it only shows it.
    pub openable: bool,
}

/// The device code as the person sees it (no secret: the device code
/// itself stays inside).
#[derive(Debug)]
pub struct DeviceCode<'a> {
    pub identity: &'a str,
    pub verification_uri: &'a str,
    pub verification_uri_complete: Option<&'a str>,
    pub user_code: &'a str,
    pub expires_in: Duration,
    /// Whether a face may open the URL in a browser by itself
    /// ([`verification_url_openable`]); else it only shows it.
    pub openable: bool,
}

/// Whether a verification URL from the SSO OIDC answer may be opened in a
/// browser: https on an AWS sign-in domain (`*.amazonaws.com`,
/// `*.awsapps.com` and their China twins) or the start URL's host, or —
/// for an identity added with its own endpoint URL — that endpoint's
/// scheme and host. Anything else an answer names is shown, never opened.
pub fn verification_url_openable(
    url: &str,
    endpoints: &crate::model::endpoints::Endpoints,
    start_url: &str,
) -> bool {
    let Ok(u) = url::Url::parse(url) else {
        return false;
    };
    let host = u.host_str().unwrap_or_default().to_ascii_lowercase();
    if let Some(own) = endpoints
        .url
        .as_deref()
        .and_then(|e| url::Url::parse(e).ok())
        && own.scheme() == u.scheme()
        && own
            .host_str()
            .is_some_and(|h| h.eq_ignore_ascii_case(&host))
    {
        return true;
    }
    if u.scheme() != "https" || !u.username().is_empty() || u.password().is_some() {
        return false;
    }
    let start_host = url::Url::parse(start_url)
        .ok()
        .and_then(|s| s.host_str().map(str::to_ascii_lowercase));
    [
        "amazonaws.com",
        "awsapps.com",
        "amazonaws.com.cn",
        "awsapps.cn",
    ]
    .iter()
    .any(|d| host.ends_with(&format!(".{d}")))
        || start_host.as_deref() == Some(host.as_str())
}

/// A client registration is used for sign-ins while it has at least this
/// long left; else keyfob registers anew.
const CLIENT_MARGIN: time::Duration = time::Duration::hours(1);

/// Refuses a name taken by either kind of identity, before any PIN is
/// asked or any call made.
pub fn check_new_sso(kf: &Keyfob, new: &NewSso) -> Result<(), AppError> {
    kf.vault()?.check_name_free(&new.name)?;
    Ok(())
}

/// `keyfob sso add`: registers a client, runs the device sign-in, and
/// seals the result under `pin`, bound to the TPM as `bind` says (the
/// choice, and whether to make a recovery code). Nothing is stored unless
/// it succeeds. Says what protects it.
pub fn add_sso_identity(
    kf: &Keyfob,
    new: &NewSso,
    pin: &Pin,
    bind: (TpmChoice, bool),
    host: &dyn SignInHost,
) -> Result<(SsoIdentity, Sealed), AppError> {
    check_pin(pin)?;
    check_new_sso(kf, new)?;
    // A TPM that is required but absent is said before any sign-in.
    drop(kf.vault()?.tpm_for(bind.0)?);
    let instance = Instance {
        start_url: &new.start_url,
        endpoints: &new.endpoints,
    };
    let secrets = sign_in(new.name.as_str(), instance, &new.scopes, None, host)?;
    let vault = kf.vault()?;
    let first = super::approvals::new_setup(&vault);
    let added = vault.sso_add_bound(new, pin, &secrets, bind.0, bind.1)?;
    super::approvals::first_identity_added(&kf.paths, first);
    Ok(added)
}

/// `keyfob sso login`: signs the identity in again (its PIN unseals the
/// client registration first, so a wrong PIN costs no sign-in) and seals
/// the new tokens under the same PIN.
pub fn sso_login(
    kf: &Keyfob,
    name: &str,
    pin: &Pin,
    host: &dyn SignInHost,
) -> Result<SsoIdentity, AppError> {
    let vault = kf.vault()?;
    let (identity, old, key) = vault.sso_unseal_keeping_key(name, pin)?;
    let endpoints = identity.endpoints();
    let instance = Instance {
        start_url: &identity.start_url,
        endpoints: &endpoints,
    };
    let secrets = sign_in(
        identity.name.as_str(),
        instance,
        &identity.scopes,
        Some(old.client),
        host,
    )?;
    Ok(vault.sso_reseal(name, &key, &secrets, true)?)
}

/// Whether a stored registration serves a sign-in: it has at least
/// [`CLIENT_MARGIN`] left and registered the grant the sign-in uses (a
/// registration made for the device code cannot redeem an authorization
/// code, nor the other way round).
fn reusable(client: &ClientRegistration, browser: bool) -> bool {
    client.expires_at > OffsetDateTime::now_utc() + CLIENT_MARGIN
        && if browser {
            client.allows_browser_sign_in()
        } else {
            client.allows_device_code()
        }
}

/// A sign-in: the browser sign-in where the face runs it, else (or when no
/// browser opened) the device code; `old`, the registration a previous
/// sign-in left, is used again where [`reusable`].
fn sign_in(
    name: &str,
    instance: Instance<'_>,
    scopes: &[String],
    old: Option<ClientRegistration>,
    host: &dyn SignInHost,
) -> Result<SsoSecrets, AppError> {
    let mut old = old;
    if host.browser_sign_in() {
        let client = match old.take() {
            Some(c) if reusable(&c, true) => c,
            other => {
                old = other;
                sso_pkce::register_client(instance.endpoints, scopes, instance.start_url)
                    .map_err(sso_error)?
            }
        };
        if let Some(tokens) = browser_sign_in(name, instance, &client, host)? {
            return Ok(SsoSecrets::new(client, tokens));
        }
    }
    let client = match old {
        Some(c) if reusable(&c, false) => c,
        _ => sso::register_client(instance.endpoints, scopes).map_err(sso_error)?,
    };
    device_sign_in(name, instance, client, host)
}

/// The authorization code grant with PKCE: listen on the loopback, open
/// the authorize page, wait for the browser to bring the code back (with
/// this sign-in's state), redeem it with the verifier. `None` when the
/// face could not open a browser.
fn browser_sign_in(
    name: &str,
    instance: Instance<'_>,
    client: &ClientRegistration,
    host: &dyn SignInHost,
) -> Result<Option<Tokens>, AppError> {
    let loopback = Loopback::bind().map_err(sso_error)?;
    let redirect_uri = loopback.redirect_uri();
    let pkce = Pkce::new().map_err(sso_error)?;
    let state = sso_pkce::new_state().map_err(sso_error)?;
    let url = sso_pkce::authorize_url(instance.endpoints, client, &redirect_uri, &state, &pkce)
        .map_err(sso_error)?;
    let page = SignInPage {
        identity: name,
        url: &url,
        expires_in: BROWSER_WAIT,
        openable: verification_url_openable(&url, instance.endpoints, instance.start_url),
    };
    if !host.open_sign_in_page(&page) {
        return Ok(None);
    }
    let code = loopback
        .wait(&state, BROWSER_WAIT, &|| host.cancelled())
        .map_err(sso_error)?;
    let tokens = sso_pkce::create_token(instance.endpoints, client, &code, &redirect_uri, &pkce)
        .map_err(sso_error)?;
    tracing::info!(identity = %name, "Identity Center browser sign-in approved");
    Ok(Some(tokens))
}

/// The device authorization grant: start it, show the code, poll.
fn device_sign_in(
    name: &str,
    instance: Instance<'_>,
    client: ClientRegistration,
    host: &dyn SignInHost,
) -> Result<SsoSecrets, AppError> {
    let device = sso::start_device_authorization(instance, &client).map_err(sso_error)?;
    host.show_code(&DeviceCode {
        identity: name,
        verification_uri: &device.verification_uri,
        verification_uri_complete: device.verification_uri_complete.as_deref(),
        user_code: &device.user_code,
        expires_in: device.expires_in,
        openable: verification_url_openable(
            device
                .verification_uri_complete
                .as_deref()
                .unwrap_or(&device.verification_uri),
            instance.endpoints,
            instance.start_url,
        ),
    });
    let tokens = sso::wait_for_approval_or_cancel(
        instance.endpoints,
        &client,
        &device,
        |left| host.waiting(left),
        || host.cancelled(),
    )
    .map_err(|e| match e {
        SsoError::Cancelled => AppError::SignInCancelled {
            code: device.user_code.to_string(),
        },
        SsoError::Expired => AppError::SignInCodeExpired {
            code: device.user_code.to_string(),
            secs: device.expires_in.as_secs(),
        },
        SsoError::Denied => AppError::SignInDenied {
            code: device.user_code.to_string(),
        },
        other => sso_error(other),
    })?;
    Ok(SsoSecrets::new(client, tokens))
}

pub(super) fn sso_error(e: SsoError) -> AppError {
    AppError::Sso(e)
}

/// The Identity Center identities, as `keyfob list` shows them.
pub fn sso_identities(kf: &Keyfob) -> Result<Vec<SsoIdentity>, AppError> {
    Ok(kf.vault()?.sso_list()?)
}

/// Removes an Identity Center identity, its sealed sign-in and the
/// profiles that use it (with their AWS config sections and sessions), as
/// `keyfob remove` does for an access-key identity. The sign-in is not
/// logged out at AWS (that needs the PIN); its tokens expire there.
pub fn remove_sso_identity(
    kf: &Keyfob,
    name: &str,
    confirm: &dyn Confirm,
) -> Result<(SsoIdentity, Vec<String>), AppError> {
    let vault = kf.vault()?;
    let identity = vault.sso_get(name)?;
    confirm.confirm(&Question::RemoveSsoIdentity(&identity))?;
    let mut files = kf.edit_files()?;
    let mut dependents: Vec<crate::config::profile::Profile> = files
        .book
        .list()?
        .into_iter()
        .filter(|p| p.identity == identity.name)
        .collect();
    // Longest chains first: a profile others chain from goes last.
    dependents.sort_by_key(|p| std::cmp::Reverse(p.chain().len()));
    let gone = vault.sso_remove(name)?;
    for p in &dependents {
        files.book.remove(&p.name)?;
        if files.manages(&p.name, &p.name) {
            files.aws.remove_profile(&p.name);
        }
    }
    files.save()?;
    drop(files);
    if let Ok(cache) = kf.cache() {
        for p in &dependents {
            let _ = cache.delete(&p.session_key());
        }
    }
    Ok((gone, dependents.into_iter().map(|p| p.name).collect()))
}

/// A valid access token of the identity: unsealed with `pin`, refreshed
/// (and the refreshed tokens sealed again) when it has under a minute
/// left and a refresh token allows it; with the entry's key, which seals
/// it again.
pub fn sso_access_token(
    kf: &Keyfob,
    name: &str,
    pin: &Pin,
) -> Result<(SsoIdentity, SsoSecrets, SsoKey), AppError> {
    let vault = kf.vault()?;
    let (identity, mut secrets, key) = vault.sso_unseal_keeping_key(name, pin)?;
    if secrets.access_expires_at <= OffsetDateTime::now_utc() + time::Duration::minutes(1) {
        refresh_sealed(kf, &identity, &key, &mut secrets)?;
    }
    Ok((identity, secrets, key))
}

/// Refreshes the tokens with the refresh token and seals them again.
pub(super) fn refresh_sealed(
    kf: &Keyfob,
    identity: &SsoIdentity,
    key: &SsoKey,
    secrets: &mut SsoSecrets,
) -> Result<(), AppError> {
    let Some(refresh) = &secrets.refresh_token else {
        return Err(sign_in_again(identity.name.as_str()));
    };
    let tokens = match sso::refresh(&identity.endpoints(), &secrets.client, refresh) {
        Ok(t) => t,
        Err(e) if e.needs_sign_in() => return Err(sign_in_again(identity.name.as_str())),
        Err(e) => return Err(sso_error(e)),
    };
    secrets.renew(tokens);
    kf.vault()?
        .sso_reseal(identity.name.as_str(), key, secrets, false)?;
    Ok(())
}

/// The error when only a new sign-in helps.
pub fn sign_in_again(name: &str) -> AppError {
    AppError::SignInExpired {
        identity: name.to_owned(),
    }
}

/// `keyfob audit`'s advice: each access-key identity whose account an
/// Identity Center identity reaches (a profile synced from it names the
/// account) could use Identity Center's short-lived credentials instead of
/// a long-term key. Known offline, from config.toml: accounts of an
/// identity never synced are not seen.
pub fn identity_center_advice(kf: &Keyfob) -> Result<Vec<String>, AppError> {
    let profiles = kf.book()?.list()?;
    let mut out = Vec::new();
    for identity in kf.vault()?.list()? {
        let Some(account) = &identity.account else {
            continue;
        };
        let reach: Vec<&crate::config::profile::Profile> = profiles
            .iter()
            .filter(|p| p.sso.as_ref().is_some_and(|s| &s.account_id == account))
            .collect();
        let Some(first) = reach.first() else {
            continue;
        };
        out.push(format!(
            "identity {} (account {account}) can be replaced by Identity Center: {} reaches the account (profile {}{}); use it and remove the long-term key (`keyfob remove {}`)",
            identity.name,
            first.identity,
            first.name,
            if reach.len() > 1 {
                format!(" and {} more", reach.len() - 1)
            } else {
                String::new()
            },
            identity.name
        ));
    }
    Ok(out)
}

/// What `keyfob sso logout` did.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Logout {
    pub identity: String,
    /// Profiles whose cached role sessions were dropped.
    pub locked: usize,
    /// Why Identity Center could not be told, if it could not (the
    /// sign-in is forgotten here all the same).
    pub not_ended: Option<String>,
}

/// `keyfob sso logout`: ends the sign-in at Identity Center (Logout, as
/// `aws sso logout` does), forgets its tokens in the vault (the client
/// registration stays, so `keyfob sso login` needs no new one) and drops
/// the cached role sessions of the identity's profiles. Role credentials
/// already handed out live on until they expire, as AWS documents for
/// Logout. Locking the profiles drops the sign-in the agent holds, so no
/// profile of the identity gets a session until it signs in again.
pub fn sso_logout(kf: &Keyfob, name: &str, pin: &Pin) -> Result<Logout, AppError> {
    if !kf.is_agent() {
        let flow = super::Flow::SsoLogout {
            identity: name.to_owned(),
        };
        return super::remote::in_agent(kf, flow, Some(pin));
    }
    let vault = kf.vault()?;
    let (identity, mut secrets, key) = vault.sso_unseal_keeping_key(name, pin)?;
    // An expired access token with a refresh token: the sign-in still
    // lives at Identity Center; a fresh access token can end it.
    if secrets.access_expires_at <= OffsetDateTime::now_utc()
        && let Some(refresh) = &secrets.refresh_token
        && let Ok(tokens) = sso::refresh(&identity.endpoints(), &secrets.client, refresh)
    {
        secrets.renew(tokens);
    }
    let not_ended = if secrets.access_expires_at > OffsetDateTime::now_utc() {
        match sso::logout(&identity.endpoints(), &secrets.access_token) {
            Ok(()) => None,
            // Already ended (expired, revoked): nothing more to end.
            Err(e) if e.needs_sign_in() => None,
            Err(e) => Some(e.to_string()),
        }
    } else {
        None
    };
    secrets.sign_out();
    vault.sso_reseal(name, &key, &secrets, false)?;
    let mut locked = 0;
    for profile in kf.profiles()? {
        if profile.identity.as_str() == name && super::lock(kf, &profile.name).is_ok() {
            locked += 1;
        }
    }
    tracing::info!(identity = %identity.name, "Identity Center sign-in ended");
    Ok(Logout {
        identity: identity.name.to_string(),
        locked,
        not_ended,
    })
}

/// Whether `e` says an Identity Center profile needs a new sign-in (from
/// the agent, or made in this process): a face that can show a sign-in
/// code then runs [`sso_login`] and tries again.
pub fn needs_sso_sign_in(e: &AppError) -> bool {
    e.kind() == crate::app::ErrorKind::SignIn
}

/// The account a profile's identity starts in, refusing a profile whose
/// identity does not exist: an access-key identity's account, or for a
/// profile chained from an Identity Center profile, that profile's account.
pub(super) fn identity_account(
    kf: &Keyfob,
    profile: &crate::config::profile::Profile,
) -> Result<Option<String>, AppError> {
    let vault = kf.vault()?;
    match vault.get(profile.identity.as_str()) {
        Ok(identity) => Ok(identity.account),
        Err(crate::vault::VaultError::NotFound { .. })
            if vault.sso_get(profile.identity.as_str()).is_ok() =>
        {
            let root = profile.root();
            Ok(root.sso.as_ref().map(|s| s.account_id.clone()).or_else(|| {
                root.login
                    .as_deref()
                    .and_then(crate::aws::signin::account_of)
                    .map(str::to_owned)
            }))
        }
        Err(e) => Err(super::no_identity(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::sso_sync::{DEFAULT_TEMPLATE, Template};
    use crate::model::field::Field;

    fn account(name: &str) -> sso::Account {
        sso::Account {
            account_id: "111122223333".into(),
            account_name: name.into(),
            email: "a@example.com".into(),
        }
    }

    #[test]
    fn templates_take_known_placeholders_and_name_characters_only() {
        let t = Template::parse(DEFAULT_TEMPLATE).unwrap();
        assert_eq!(
            t.render("corp", &account("prod"), "Admin").unwrap(),
            "prod-Admin"
        );
        let t = Template::parse("{identity}.{account_id}_{role_name}").unwrap();
        assert_eq!(
            t.render("corp", &account("x"), "ReadOnly").unwrap(),
            "corp.111122223333_ReadOnly"
        );
        for bad in [
            "",
            "{role_name}",
            "{account_name}",
            "{account}-{role_name}",
            "{account_name}-{role_name",
            "a b-{account_id}-{role_name}",
            "{account_name}/{role_name}",
        ] {
            let e = Template::parse(bad).unwrap_err();
            assert_eq!(e.field, Field::Template, "{bad}");
        }
    }

    #[test]
    fn rendering_cleans_names_and_refuses_what_is_still_no_profile_name() {
        let t = Template::parse(DEFAULT_TEMPLATE).unwrap();
        assert_eq!(
            t.render("corp", &account("My Prod (EU)"), "Admin").unwrap(),
            "My-Prod--EU--Admin"
        );
        let long = "x".repeat(80);
        let e = t.render("corp", &account(&long), "Admin").unwrap_err();
        assert_eq!(e.field, Field::Template);
        assert!(e.reason.contains("111122223333"), "{e}");
    }

    #[test]
    fn only_aws_or_the_identitys_own_verification_urls_are_opened() {
        use crate::model::endpoints::Endpoints;
        let aws = Endpoints::aws("eu-west-1");
        let start = "https://d-1234567890.awsapps.com/start";
        for good in [
            "https://device.sso.eu-west-1.amazonaws.com/?user_code=ABCD-EFGH",
            "https://d-1234567890.awsapps.com/start/#/device?user_code=X",
        ] {
            assert!(verification_url_openable(good, &aws, start), "{good}");
        }
        for bad in [
            "http://device.sso.eu-west-1.amazonaws.com/",
            "https://evil.example.com/amazonaws.com",
            "https://amazonaws.com.evil.example/",
            "https://user:pw@device.sso.eu-west-1.amazonaws.com/",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "http://127.0.0.1:9/device",
        ] {
            assert!(!verification_url_openable(bad, &aws, start), "{bad}");
        }
        let emulator = Endpoints::parse(Some("http://127.0.0.1:4566"), Some("eu-west-1")).unwrap();
        assert!(verification_url_openable(
            "http://127.0.0.1:4566/device?code=1",
            &emulator,
            start
        ));
        assert!(!verification_url_openable(
            "http://127.0.0.2:4566/device",
            &emulator,
            start
        ));
    }
}
