//! Identity Center flows: add an identity (the device sign-in, then the
//! sign-in sealed under a new PIN), sign in again, remove.
//!
//! The person approves the sign-in in a browser; what differs between the
//! faces (printing the code and opening the browser on a terminal, a
//! countdown in the app) is [`SignInHost`]. Nothing is written before the
//! sign-in is approved: a code that expires, a refusal or a wrong field
//! leaves the vault as it was.

use std::time::Duration;

use time::OffsetDateTime;

use super::{AppError, Confirm, Keyfob, Question};
use crate::aws::sso::{self, ClientRegistration, Instance, SsoError};
use crate::identity::check_pin;
use crate::secret::Pin;
use crate::sso::{NewSso, SsoIdentity, SsoSecrets};

/// What the face shows while the person approves a sign-in.
pub trait SignInHost {
    /// Where to approve and the code to compare; called once per sign-in,
    /// before keyfob starts polling.
    fn show_code(&self, code: &DeviceCode<'_>);
    /// Called after each poll that found the sign-in still pending, with
    /// the time left before the code expires (for a countdown).
    fn waiting(&self, _left: Duration) {}
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
/// seals the result under `pin`. Nothing is stored unless it succeeds.
pub fn add_sso_identity(
    kf: &Keyfob,
    new: &NewSso,
    pin: &Pin,
    host: &dyn SignInHost,
) -> Result<SsoIdentity, AppError> {
    check_pin(pin)?;
    check_new_sso(kf, new)?;
    let client = sso::register_client(&new.region, &new.scopes).map_err(sso_error)?;
    let instance = Instance {
        start_url: &new.start_url,
        region: &new.region,
    };
    let secrets = sign_in(new.name.as_str(), instance, client, host)?;
    Ok(kf.vault()?.sso_add(new, pin, &secrets)?)
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
    let (identity, old) = vault.sso_unseal(name, pin)?;
    let client = if old.client.expires_at > OffsetDateTime::now_utc() + CLIENT_MARGIN {
        old.client
    } else {
        sso::register_client(&identity.region, &identity.scopes).map_err(sso_error)?
    };
    let instance = Instance {
        start_url: &identity.start_url,
        region: &identity.region,
    };
    let secrets = sign_in(identity.name.as_str(), instance, client, host)?;
    Ok(vault.sso_reseal(name, pin, &secrets, true)?)
}

/// The device authorization grant: start it, show the code, poll.
fn sign_in(
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
    });
    let tokens = sso::wait_for_approval(instance.region, &client, &device, |left| {
        host.waiting(left)
    })
    .map_err(|e| match e {
        SsoError::Expired => AppError::Refused(format!(
            "the sign-in code {} expired before it was approved; nothing was stored — run the command again and approve the code within {} s",
            device.user_code,
            device.expires_in.as_secs()
        )),
        SsoError::Denied => AppError::Refused(format!(
            "the sign-in code {} was refused in the browser; nothing was stored",
            device.user_code
        )),
        other => sso_error(other),
    })?;
    Ok(SsoSecrets::new(client, tokens))
}

fn sso_error(e: SsoError) -> AppError {
    AppError::Sso(e)
}

/// The Identity Center identities, as `keyfob list` shows them.
pub fn sso_identities(kf: &Keyfob) -> Result<Vec<SsoIdentity>, AppError> {
    Ok(kf.vault()?.sso_list()?)
}

/// Removes an Identity Center identity and its sealed sign-in, as
/// `keyfob remove` does for an access-key identity. The sign-in is not
/// logged out at AWS (that needs the PIN); its tokens expire there.
pub fn remove_sso_identity(
    kf: &Keyfob,
    name: &str,
    confirm: &dyn Confirm,
) -> Result<SsoIdentity, AppError> {
    let vault = kf.vault()?;
    let identity = vault.sso_get(name)?;
    confirm.confirm(&Question::RemoveSsoIdentity(&identity))?;
    Ok(vault.sso_remove(name)?)
}
