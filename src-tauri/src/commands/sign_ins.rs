//! The sign-in commands: Identity Center (add, sign in again, sync,
//! remove) and AWS sign-in (`aws login`'s kind: add, sign in again, sign
//! out), and the page's side of a running sign-in (Cancel, "Open browser",
//! a typed code). As the other commands, each delegates to the library.

use tauri::AppHandle;
use zeroize::Zeroizing;

use keyfob::app;
use keyfob::model::identity::{check_pin, check_pin_confirmation};
use keyfob::model::secret::Pin;
use keyfob::platform::prompt::FixedPrompter;

use super::{Result, blocking, changing, take};
use crate::desk::Desk;
use crate::dto::*;
use crate::error::{ErrorKind, UiError};

// ---------------------------------------------------------------------------
// Identity Center
// ---------------------------------------------------------------------------

/// The Identity Center identities (no PIN needed).
#[tauri::command]
pub async fn list_sso_identities(app: AppHandle) -> Result<Vec<SsoIdentityView>> {
    blocking(app, |d| {
        Ok(app::sso_identities(&d.kf)?
            .iter()
            .map(|i| {
                SsoIdentityView::new(
                    i,
                    d.sign_in_expired(i.name.as_str()),
                    d.kf.held.holds(i.name.as_str()),
                )
            })
            .collect())
    })
    .await
}

/// Checks the form's fields in its order (name, start URL, region, scopes,
/// PIN, PIN again), the same way `keyfob sso add` does.
fn new_sso(d: &Desk, form: NewSsoForm) -> Result<(keyfob::config::sso::NewSso, Pin)> {
    let scopes = Some(form.scopes.trim()).filter(|s| !s.is_empty());
    let new = keyfob::config::sso::NewSso::parse(
        &form.identity_name,
        &form.start_url,
        &form.region,
        scopes,
    )?;
    let pin = Pin::new(take(d.open(&form.pin, "pin")?));
    check_pin(&pin)?;
    let again = Pin::new(take(d.open(&form.pin_confirmation, "pin_confirmation")?));
    check_pin_confirmation(&pin, &again)?;
    Ok((new, pin))
}

/// "Add Identity Center": every field checked, then the device sign-in
/// (the code and the time left reach the page as `keyfob://sign-in`
/// events of sign-in `flow`; the browser opens at the URL), then the
/// sign-in sealed under the new PIN. Nothing is stored unless it is
/// approved.
#[tauri::command]
pub async fn add_sso_identity(
    app: AppHandle,
    form: NewSsoForm,
    flow: u32,
) -> Result<SsoIdentityView> {
    let handle = app.clone();
    changing(app, move |d| {
        let browser = !form.use_device_code;
        let (new, pin) = new_sso(d, form)?;
        app::check_new_sso(&d.kf, &new)?;
        let host = d.sign_ins.begin(&handle, flow, browser)?;
        let bind = (app::tpm_choice(&d.kf), false);
        let (identity, _) = app::add_sso_identity(&d.kf, &new, &pin, bind, &host)?;
        Ok(SsoIdentityView::new(
            &identity,
            false,
            d.kf.held.holds(identity.name.as_str()),
        ))
    })
    .await
}

/// Signs an Identity Center identity in again (`keyfob sso login`), its
/// code shown as for [`add_sso_identity`]. Then, with the same PIN (which
/// the page does not send twice): `unlock` makes that profile's session
/// (the retry of the action that found the sign-in expired), and `prompt`
/// answers the agent's sign-in request of that id (a credential_process
/// client without a terminal), which the agent then retries.
#[tauri::command]
pub async fn sso_login(
    app: AppHandle,
    identity: String,
    form: PinForm,
    flow: u32,
    unlock: Option<String>,
    prompt: Option<u32>,
    use_device_code: Option<bool>,
) -> Result<SignedInView> {
    let handle = app.clone();
    changing(app, move |d| {
        let pin = Pin::new(take(d.open(&form.pin, "pin")?));
        still_wanted(d, prompt, &identity)?;
        let host = d
            .sign_ins
            .begin(&handle, flow, !use_device_code.unwrap_or(false))?;
        let signed = app::sso_login(&d.kf, &identity, &pin, &host)?;
        drop(host);
        d.set_sign_in_expired(&identity, false);
        let session_expires_at = match unlock {
            Some(profile) => {
                let again = FixedPrompter {
                    pin: Some(Pin::new(pin.expose().to_owned())),
                    mfa_code: None,
                };
                Some(rfc3339(app::unlock(&d.kf, &profile, &again)?))
            }
            None => None,
        };
        Ok(signed_in(d, prompt, pin, &signed, session_expires_at))
    })
    .await
}

/// Refuses to sign in for an agent request (`prompt`) that is gone.
fn still_wanted(d: &Desk, prompt: Option<u32>, identity: &str) -> Result<()> {
    if let Some(id) = prompt
        && !d.prompts.wants_sign_in(id, identity)
    {
        return Err(UiError::new(
            ErrorKind::PromptGone,
            "that request is gone: it was answered or timed out",
        ));
    }
    Ok(())
}

/// After a sign-in again: the agent's waiting request (a program without
/// a terminal), if any, gets the PIN and tries again; the page gets the
/// identity and the session made for `unlock`.
fn signed_in(
    d: &Desk,
    prompt: Option<u32>,
    pin: Pin,
    signed: &keyfob::config::sso::SsoIdentity,
    session_expires_at: Option<String>,
) -> SignedInView {
    if let Some(id) = prompt {
        d.prompts.signed_in(id, pin);
    }
    SignedInView {
        identity: SsoIdentityView::new(signed, false, d.kf.held.holds(signed.name.as_str())),
        session_expires_at,
    }
}

// ---------------------------------------------------------------------------
// AWS sign-in (`aws login`'s kind)
// ---------------------------------------------------------------------------

/// "Add AWS sign-in": every field checked (name, region, PIN, PIN again,
/// as `keyfob login-session add`), then the console sign-in in the
/// browser here, or (`remote`) on another device with its code typed into
/// the page; the sign-in sealed under the new PIN, its profile made, and
/// the sign-in opened in the agent with the same PIN. Nothing is stored
/// unless the sign-in succeeds.
#[tauri::command]
pub async fn add_login_identity(
    app: AppHandle,
    form: NewLoginForm,
    flow: u32,
) -> Result<SsoIdentityView> {
    let handle = app.clone();
    changing(app, move |d| {
        let new = keyfob::config::login::NewLogin::parse(&form.identity_name, &form.region, None)?;
        let pin = Pin::new(take(d.open(&form.pin, "pin")?));
        check_pin(&pin)?;
        let again = Pin::new(take(d.open(&form.pin_confirmation, "pin_confirmation")?));
        check_pin_confirmation(&pin, &again)?;
        app::check_new_login(&d.kf, &new)?;
        let host = d.sign_ins.begin(&handle, flow, !form.remote)?;
        let bind = (app::tpm_choice(&d.kf), false);
        let confirm = app::Answered { take_over: true };
        let added = app::add_login_identity(&d.kf, &new, &pin, bind, &host, &confirm)?;
        drop(host);
        let opener = FixedPrompter {
            pin: Some(pin),
            mfa_code: None,
        };
        if let Err(e) = app::unlock(&d.kf, &added.profile, &opener) {
            tracing::warn!("the new sign-in is not open in the agent yet: {e}");
        }
        Ok(SsoIdentityView::new(
            &added.identity,
            false,
            d.kf.held.holds(added.identity.name.as_str()),
        ))
    })
    .await
}

/// Signs an AWS sign-in identity in again (`keyfob login-session login`),
/// then, with the same PIN: `unlock` makes that profile's session (the
/// retry of the action that found the sign-in ended), else the identity's
/// own profile is opened in the agent; `prompt` answers the agent's
/// sign-in request of that id (as [`sso_login`]).
#[tauri::command]
pub async fn login_again(
    app: AppHandle,
    identity: String,
    form: PinForm,
    flow: u32,
    remote: bool,
    unlock: Option<String>,
    prompt: Option<u32>,
) -> Result<SignedInView> {
    let handle = app.clone();
    changing(app, move |d| {
        let pin = Pin::new(take(d.open(&form.pin, "pin")?));
        still_wanted(d, prompt, &identity)?;
        let host = d.sign_ins.begin(&handle, flow, !remote)?;
        let signed = app::login_again(&d.kf, &identity, &pin, &host)?;
        drop(host);
        d.set_sign_in_expired(&identity, false);
        let again = || FixedPrompter {
            pin: Some(Pin::new(pin.expose().to_owned())),
            mfa_code: None,
        };
        let session_expires_at = match unlock {
            Some(profile) => Some(rfc3339(app::unlock(&d.kf, &profile, &again())?)),
            None => {
                if let Some(own) =
                    d.kf.profiles()?
                        .into_iter()
                        .find(|p| p.identity == signed.name && p.login.is_some())
                    && let Err(e) = app::unlock(&d.kf, &own.name, &again())
                {
                    tracing::warn!("the new sign-in is not open in the agent yet: {e}");
                }
                None
            }
        };
        Ok(signed_in(d, prompt, pin, &signed, session_expires_at))
    })
    .await
}

/// `keyfob login-session logout`: ends the sign-in at AWS, forgets its
/// refresh token; says whether AWS could be told.
#[tauri::command]
pub async fn login_logout(app: AppHandle, identity: String, form: PinForm) -> Result<String> {
    changing(app, move |d| {
        let pin = Pin::new(take(d.open(&form.pin, "pin")?));
        let done = app::login_logout(&d.kf, &identity, &pin)?;
        Ok(match done.not_ended {
            None => format!(
                "Signed out {}: AWS ended the sign-in ({} profile session(s) dropped).",
                done.identity, done.locked
            ),
            Some(why) => format!(
                "Signed out {} here; AWS could not be told ({why}), so its token ends with its 12 hours.",
                done.identity
            ),
        })
    })
    .await
}

/// The code the page's field took for sign-in `flow` (an AWS sign-in on
/// another device). False if that sign-in is not waiting.
#[tauri::command]
pub fn submit_sign_in_code(state: tauri::State<'_, Desk>, flow: u32, code: String) -> bool {
    state.sign_ins.submit_code(flow, Zeroizing::new(code))
}

/// The page's Cancel of sign-in `flow`: it stops polling; nothing stored.
#[tauri::command]
pub fn cancel_sign_in(state: tauri::State<'_, Desk>, flow: u32) -> bool {
    state.sign_ins.cancel(flow)
}

/// Opens the browser at sign-in `flow`'s verification URL again (the page
/// never chooses the address).
#[tauri::command]
pub fn open_sign_in_page(state: tauri::State<'_, Desk>, flow: u32) -> Result<()> {
    let url = state
        .sign_ins
        .url(flow)
        .ok_or_else(|| UiError::new(ErrorKind::State, "that sign-in is over: start it again"))?;
    if crate::sign_in::open_browser(&url) {
        Ok(())
    } else {
        Err(UiError::new(
            ErrorKind::Internal,
            format!("could not open a browser: open {url} yourself"),
        ))
    }
}

/// `keyfob sso sync`: one profile per account and role, named by
/// `template`; `dryRun` reports what would change and writes nothing.
#[tauri::command]
pub async fn sso_sync(
    app: AppHandle,
    identity: String,
    template: String,
    dry_run: bool,
    form: PinForm,
) -> Result<SyncReportView> {
    changing(app, move |d| {
        // The template is checked before the PIN opens anything.
        app::Template::parse(&template)?;
        let pin = Pin::new(take(d.open(&form.pin, "pin")?));
        let report = app::sso_sync(&d.kf, &identity, &pin, &template, dry_run)
            .map_err(|e| d.noting_sign_in(&identity, e))?;
        Ok(report.into())
    })
    .await
}

/// Removes an Identity Center identity and its profiles (the page asked
/// first).
#[tauri::command]
pub async fn remove_sso_identity(app: AppHandle, name: String) -> Result<Vec<String>> {
    changing(app, move |d| {
        let confirmed = app::Answered { take_over: false };
        let (_, profiles) = app::remove_sso_identity(&d.kf, &name, &confirmed)?;
        d.set_sign_in_expired(&name, false);
        Ok(profiles)
    })
    .await
}
