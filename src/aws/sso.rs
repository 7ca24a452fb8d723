//! IAM Identity Center: the SSO OIDC API (client registration, the OAuth
//! device authorization grant of RFC 8628, the refresh-token grant; the
//! browser sign-in's grant is [`super::sso_pkce`]) and the SSO portal API
//! (accounts, roles, role credentials, logout).
//!
//! Both services are unsigned (`"authtype": "none"` in their models): the
//! OIDC calls carry the client secret or device code in the body, the portal
//! calls the access token in a header. So the SDK clients here are built
//! without credentials, for the identity's [`Endpoints`] (the instance's
//! region, or the endpoint URL fixed when the identity was added).
//!
//! Retries are keyfob's own, not the SDK's: device-code polling follows the
//! API's `interval` and `slow_down` (RFC 8628 3.5), and a throttled portal
//! call (429 `TooManyRequestsException`) is retried a bounded number of
//! times with exponential back-off and full jitter ([`backoff`]), so a sync
//! over many accounts never turns into a storm of calls.
//!
//! Every token, secret and code travels in the zeroizing types of
//! [`crate::model::secret`]; errors carry AWS's code and message, never a value
//! that was sent.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use time::OffsetDateTime;

use super::{AwsError, block_on, map_sdk_error};
use crate::model::endpoints::Endpoints;
use crate::model::secret::{
    ClientSecret, DeviceCode, SecretAccessKey, SessionToken, SsoAccessToken, SsoRefreshToken,
};
use crate::model::session::Session;

/// The OAuth grant types, as the SSO OIDC API spells them.
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
pub const REFRESH_TOKEN_GRANT: &str = "refresh_token";
/// The browser sign-in's grant ([`super::sso_pkce`]).
pub const AUTH_CODE_GRANT: &str = "authorization_code";

/// The scope the AWS CLI registers with for an `sso-session`: with a scope,
/// the registration gets refresh tokens.
pub const DEFAULT_SCOPES: &[&str] = &["sso:account:access"];

/// The name keyfob registers its OIDC clients under (shown to the user on
/// the approval page).
pub const CLIENT_NAME: &str = "keyfob";

/// How often a throttled portal call is tried at most (the first try
/// included), and the back-off's first step and ceiling.
pub const THROTTLE_ATTEMPTS: u32 = 5;
const BACKOFF_BASE: Duration = Duration::from_millis(200);
const BACKOFF_CAP: Duration = Duration::from_secs(5);

/// What can go wrong with Identity Center, by what the caller does next.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    /// CreateToken: the person has not approved yet (RFC 8628
    /// `authorization_pending`): poll again after the interval.
    #[error("the sign-in has not been approved yet")]
    Pending,
    /// CreateToken: polling too fast (`slow_down`): add 5 s to the interval.
    #[error("polling too fast")]
    SlowDown,
    /// The device code expired before it was approved.
    #[error("the sign-in code expired before it was approved — sign in again")]
    Expired,
    /// The person refused the sign-in in the browser.
    #[error("the sign-in was refused in the browser; nothing was stored")]
    Denied,
    /// The person cancelled the sign-in in keyfob before approving it.
    #[error("the sign-in was cancelled")]
    Cancelled,
    /// The browser sign-in's loopback got an answer with another `state`:
    /// not from this sign-in's page. Refused, nothing redeemed.
    #[error(
        "the browser's answer did not carry this sign-in's state, so keyfob refused it and stopped; nothing was stored — sign in again (if you did not run another sign-in, a page or program on this machine tried to answer in its place)"
    )]
    WrongState,
    /// No answer from the browser in time.
    #[error(
        "no answer from the browser within {secs} s; nothing was stored — sign in again, or add --use-device-code to sign in with a code (also from another device)"
    )]
    BrowserTimedOut { secs: u64 },
    /// The browser came back with an OAuth error other than a refusal.
    #[error(
        "Identity Center did not approve the sign-in in the browser ({error}); nothing was stored"
    )]
    BrowserRefused { error: String },
    /// The loopback listener failed (no port, a socket error).
    #[error(
        "the browser sign-in could not listen on 127.0.0.1 ({message}) — add --use-device-code to sign in with a code"
    )]
    Loopback { message: String },
    /// The refresh token is no longer valid (expired, revoked or rotated
    /// away), or the client registration was refused: sign in again.
    #[error("the Identity Center sign-in can no longer be renewed ({code}) — sign in again")]
    InvalidGrant { code: String },
    /// The portal refused the access token (expired, revoked, logged out).
    #[error("the Identity Center access token is not valid (expired or revoked) — sign in again")]
    Unauthorized,
    /// The role is not (or no longer) assigned to the user.
    #[error("Identity Center refused the role: {message}")]
    Forbidden { message: String },
    /// Still throttled after [`THROTTLE_ATTEMPTS`] tries.
    #[error(
        "Identity Center kept throttling the request (429) after {attempts} tries — try again later"
    )]
    Throttled { attempts: u32 },
    /// Anything else: network, bad input AWS refused, unexpected answers.
    #[error(transparent)]
    Aws(#[from] AwsError),
}

impl SsoError {
    /// What kind of failure this is (see [`crate::model::error_kind::ErrorKind`]).
    pub fn kind(&self) -> crate::model::error_kind::ErrorKind {
        use crate::model::error_kind::ErrorKind as K;
        match self {
            e if e.needs_sign_in() => K::SignIn,
            SsoError::Cancelled => K::NotConfirmed,
            SsoError::WrongState | SsoError::BrowserTimedOut { .. } => K::State,
            SsoError::Loopback { .. } => K::Failed,
            _ => K::Aws,
        }
    }

    /// Whether the user must sign in again for this to work.
    pub fn needs_sign_in(&self) -> bool {
        matches!(
            self,
            SsoError::Expired
                | SsoError::Denied
                | SsoError::InvalidGrant { .. }
                | SsoError::Unauthorized
        )
    }
}

/// Sorts an AWS refusal into [`SsoError`] by its error code.
pub(super) fn classify_refusal(err: AwsError) -> SsoError {
    classify(err)
}

fn classify(err: AwsError) -> SsoError {
    let code = match &err {
        AwsError::Refused { code, .. } => code.as_str(),
        _ => return SsoError::Aws(err),
    };
    match code {
        "AuthorizationPendingException" => SsoError::Pending,
        "SlowDownException" => SsoError::SlowDown,
        "ExpiredTokenException" => SsoError::Expired,
        "AccessDeniedException" => SsoError::Denied,
        "InvalidGrantException" | "InvalidClientException" | "UnauthorizedClientException" => {
            SsoError::InvalidGrant {
                code: code.to_owned(),
            }
        }
        "UnauthorizedException" => SsoError::Unauthorized,
        "ForbiddenException" => match err {
            AwsError::Refused { message, .. } => SsoError::Forbidden { message },
            _ => unreachable!("matched a refusal above"),
        },
        "TooManyRequestsException" => SsoError::Throttled { attempts: 1 },
        _ => SsoError::Aws(err),
    }
}

/// An OIDC client registration (RegisterClient). The secret is what the
/// vault seals; the ID is not secret.
pub struct ClientRegistration {
    pub client_id: String,
    pub client_secret: ClientSecret,
    pub expires_at: OffsetDateTime,
    pub scopes: Vec<String>,
    /// The grant types it registered; none for a device code registration
    /// (the AWS CLI's, and every one keyfob made before the browser
    /// sign-in), which Identity Center allows the device code and refresh
    /// grants.
    pub grant_types: Vec<String>,
}

impl ClientRegistration {
    /// Whether the browser sign-in may use it (it registered the
    /// authorization code grant).
    pub fn allows_browser_sign_in(&self) -> bool {
        self.grant_types.iter().any(|g| g == AUTH_CODE_GRANT)
    }

    /// Whether the device code sign-in may use it.
    pub fn allows_device_code(&self) -> bool {
        self.grant_types.is_empty() || self.grant_types.iter().any(|g| g == DEVICE_CODE_GRANT)
    }
}

impl std::fmt::Debug for ClientRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientRegistration")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .field("grant_types", &self.grant_types)
            .finish()
    }
}

/// A pending device authorization (StartDeviceAuthorization).
pub struct DeviceAuthorization {
    pub device_code: DeviceCode,
    /// What the person checks on the approval page; shown, not secret.
    pub user_code: String,
    pub verification_uri: String,
    /// The verification URI with the user code filled in, where given.
    pub verification_uri_complete: Option<String>,
    pub expires_in: Duration,
    pub interval: Duration,
}

impl std::fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceAuthorization")
            .field("device_code", &self.device_code)
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

/// The tokens of a sign-in (CreateToken).
pub struct Tokens {
    pub access_token: SsoAccessToken,
    /// Only registrations with scopes get one, and only where the
    /// instance allows it.
    pub refresh_token: Option<SsoRefreshToken>,
    pub expires_at: OffsetDateTime,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("access_token", &self.access_token)
            .field("refresh_token", &self.refresh_token)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// An account the user may sign in to (ListAccounts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub account_id: String,
    pub account_name: String,
    pub email: String,
}

/// Where the Identity Center instance is.
#[derive(Clone, Copy, Debug)]
pub struct Instance<'a> {
    pub start_url: &'a str,
    pub endpoints: &'a Endpoints,
}

/// The SDK configuration for the unsigned Identity Center calls to
/// `endpoints`. keyfob retries by itself (see the module docs).
fn sso_config(endpoints: &Endpoints) -> aws_config::SdkConfig {
    super::sdk_config(endpoints, None)
        .into_builder()
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .build()
}

pub(super) async fn oidc_client(endpoints: &Endpoints) -> aws_sdk_ssooidc::Client {
    aws_sdk_ssooidc::Client::new(&sso_config(endpoints))
}

async fn portal_client(endpoints: &Endpoints) -> aws_sdk_sso::Client {
    aws_sdk_sso::Client::new(&sso_config(endpoints))
}

fn missing(what: &str) -> SsoError {
    SsoError::Aws(AwsError::Unexpected {
        message: format!("Identity Center returned no {what}"),
    })
}

fn in_secs(secs: i64) -> OffsetDateTime {
    OffsetDateTime::now_utc() + time::Duration::seconds(secs.max(0))
}

fn secs(n: i32) -> Duration {
    Duration::from_secs(u64::try_from(n).unwrap_or(0))
}

/// RegisterClient: a public OIDC client named [`CLIENT_NAME`] with `scopes`
/// (and so refresh tokens where the scopes are not empty).
pub fn register_client(
    endpoints: &Endpoints,
    scopes: &[String],
) -> Result<ClientRegistration, SsoError> {
    block_on(async {
        let out = oidc_client(endpoints)
            .await
            .register_client()
            .client_name(CLIENT_NAME)
            .client_type("public")
            .set_scopes((!scopes.is_empty()).then(|| scopes.to_vec()))
            .send()
            .await
            .map_err(|e| classify(map_sdk_error(e)))?;
        let client_id = out.client_id.ok_or_else(|| missing("client ID"))?;
        let client_secret = out.client_secret.ok_or_else(|| missing("client secret"))?;
        Ok(ClientRegistration {
            client_id,
            client_secret: ClientSecret::new(client_secret),
            expires_at: OffsetDateTime::from_unix_timestamp(out.client_secret_expires_at)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
            scopes: scopes.to_vec(),
            grant_types: Vec::new(),
        })
    })?
}

/// StartDeviceAuthorization for the instance at `start_url`.
pub fn start_device_authorization(
    instance: Instance<'_>,
    client: &ClientRegistration,
) -> Result<DeviceAuthorization, SsoError> {
    block_on(async {
        let out = oidc_client(instance.endpoints)
            .await
            .start_device_authorization()
            .client_id(&client.client_id)
            .client_secret(client.client_secret.expose())
            .start_url(instance.start_url)
            .send()
            .await
            .map_err(|e| classify(map_sdk_error(e)))?;
        Ok(DeviceAuthorization {
            device_code: DeviceCode::new(out.device_code.ok_or_else(|| missing("device code"))?),
            user_code: out.user_code.ok_or_else(|| missing("user code"))?,
            verification_uri: out
                .verification_uri
                .ok_or_else(|| missing("verification URI"))?,
            verification_uri_complete: out.verification_uri_complete,
            expires_in: secs(out.expires_in),
            // RFC 8628 3.2: "If no value is provided, clients MUST use 5".
            interval: if out.interval > 0 {
                secs(out.interval)
            } else {
                Duration::from_secs(5)
            },
        })
    })?
}

/// How a token came back from CreateToken.
pub(super) fn tokens_from(
    out: aws_sdk_ssooidc::operation::create_token::CreateTokenOutput,
) -> Result<Tokens, SsoError> {
    let access_token = out.access_token.ok_or_else(|| missing("access token"))?;
    Ok(Tokens {
        access_token: SsoAccessToken::new(access_token),
        refresh_token: out.refresh_token.map(SsoRefreshToken::new),
        expires_at: in_secs(i64::from(out.expires_in)),
    })
}

/// One CreateToken poll with the device-code grant. [`SsoError::Pending`]
/// and [`SsoError::SlowDown`] say to poll again ([`wait_for_approval`]
/// does the loop).
pub fn create_token_device(
    endpoints: &Endpoints,
    client: &ClientRegistration,
    device: &DeviceAuthorization,
) -> Result<Tokens, SsoError> {
    block_on(async {
        let oidc = oidc_client(endpoints).await;
        create_token_device_with(&oidc, client, device).await
    })?
}

async fn create_token_device_with(
    oidc: &aws_sdk_ssooidc::Client,
    client: &ClientRegistration,
    device: &DeviceAuthorization,
) -> Result<Tokens, SsoError> {
    let out = oidc
        .create_token()
        .client_id(&client.client_id)
        .client_secret(client.client_secret.expose())
        .grant_type(DEVICE_CODE_GRANT)
        .device_code(device.device_code.expose())
        .send()
        .await
        .map_err(|e| classify(map_sdk_error(e)))?;
    tokens_from(out)
}

/// Polls CreateToken until the person approves the sign-in, as RFC 8628
/// 3.5 says: wait `interval` between polls, add 5 s on `slow_down`, stop at
/// the device code's expiry with [`SsoError::Expired`] (or when AWS says
/// it expired first). `on_poll` sees each pending answer with the time
/// left, for a countdown.
pub fn wait_for_approval(
    endpoints: &Endpoints,
    client: &ClientRegistration,
    device: &DeviceAuthorization,
    on_poll: impl FnMut(Duration),
) -> Result<Tokens, SsoError> {
    wait_for_approval_or_cancel(endpoints, client, device, on_poll, || false)
}

/// How often a wait between polls looks whether it was cancelled.
const CANCEL_CHECK: Duration = Duration::from_millis(200);

/// [`wait_for_approval`] that stops with [`SsoError::Cancelled`] within
/// [`CANCEL_CHECK`] of `cancelled` turning true (the app's Cancel button):
/// no further poll is made, so nothing is issued.
pub fn wait_for_approval_or_cancel(
    endpoints: &Endpoints,
    client: &ClientRegistration,
    device: &DeviceAuthorization,
    mut on_poll: impl FnMut(Duration),
    cancelled: impl Fn() -> bool,
) -> Result<Tokens, SsoError> {
    // Sleeps `d` in short steps, false if cancelled meanwhile.
    let nap = |d: Duration| {
        let cancelled = &cancelled;
        async move {
            let end = std::time::Instant::now() + d;
            loop {
                if cancelled() {
                    return false;
                }
                let left = end.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    return true;
                }
                tokio::time::sleep(left.min(CANCEL_CHECK)).await;
            }
        }
    };
    let started = std::time::Instant::now();
    let deadline = started + device.expires_in;
    block_on(async {
        let oidc = oidc_client(endpoints).await;
        let mut interval = device.interval;
        loop {
            match create_token_device_with(&oidc, client, device).await {
                Err(SsoError::Pending) => {}
                Err(SsoError::SlowDown) => interval += Duration::from_secs(5),
                other => return other,
            }
            let now = std::time::Instant::now();
            if now + interval >= deadline {
                // One last poll at the deadline would only meet an
                // expired code; say so now.
                if !nap(deadline.saturating_duration_since(now)).await {
                    return Err(SsoError::Cancelled);
                }
                return match create_token_device_with(&oidc, client, device).await {
                    Err(SsoError::Pending | SsoError::SlowDown) => Err(SsoError::Expired),
                    other => other,
                };
            }
            on_poll(deadline.saturating_duration_since(now));
            if !nap(interval).await {
                return Err(SsoError::Cancelled);
            }
        }
    })?
}

/// CreateToken with the refresh-token grant: new tokens (and, where the
/// instance rotates them, a new refresh token that replaces the old one).
pub fn refresh(
    endpoints: &Endpoints,
    client: &ClientRegistration,
    refresh_token: &SsoRefreshToken,
) -> Result<Tokens, SsoError> {
    block_on(async {
        let out = oidc_client(endpoints)
            .await
            .create_token()
            .client_id(&client.client_id)
            .client_secret(client.client_secret.expose())
            .grant_type(REFRESH_TOKEN_GRANT)
            .refresh_token(refresh_token.expose())
            .send()
            .await
            .map_err(|e| classify(map_sdk_error(e)))?;
        tokens_from(out)
    })?
}

/// The delay before try `attempt` (1-based, after a throttled try):
/// exponential from [`BACKOFF_BASE`], capped at [`BACKOFF_CAP`], with full
/// jitter (a uniformly random part of it), so parallel clients spread out.
pub fn backoff(attempt: u32) -> Duration {
    let ceiling = BACKOFF_BASE
        .saturating_mul(1u32 << attempt.min(16))
        .min(BACKOFF_CAP);
    let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::random_range(millis / 2..=millis))
}

/// Runs `call` until it is not throttled, at most [`THROTTLE_ATTEMPTS`]
/// times, sleeping [`backoff`] between tries.
async fn retry_throttled<T, F, Fut>(mut call: F) -> Result<T, SsoError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, SsoError>>,
{
    let mut attempt = 1;
    loop {
        match call().await {
            Err(SsoError::Throttled { .. }) if attempt < THROTTLE_ATTEMPTS => {
                let delay = backoff(attempt);
                tracing::debug!(
                    attempt,
                    ?delay,
                    "Identity Center throttled a call; backing off"
                );
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            Err(SsoError::Throttled { .. }) => {
                return Err(SsoError::Throttled { attempts: attempt });
            }
            other => return other,
        }
    }
}

/// ListAccounts, every page, each page retried when throttled.
pub fn list_accounts(
    endpoints: &Endpoints,
    token: &SsoAccessToken,
) -> Result<Vec<Account>, SsoError> {
    block_on(async {
        let portal = portal_client(endpoints).await;
        list_accounts_with(&portal, token).await
    })?
}

async fn list_accounts_with(
    portal: &aws_sdk_sso::Client,
    token: &SsoAccessToken,
) -> Result<Vec<Account>, SsoError> {
    let mut accounts = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let out = retry_throttled(|| async {
            portal
                .list_accounts()
                .access_token(token.expose())
                .set_next_token(next.clone())
                .send()
                .await
                .map_err(|e| classify(map_sdk_error(e)))
        })
        .await?;
        for a in out.account_list.unwrap_or_default() {
            accounts.push(Account {
                account_id: a.account_id.ok_or_else(|| missing("account ID"))?,
                account_name: a.account_name.unwrap_or_default(),
                email: a.email_address.unwrap_or_default(),
            });
        }
        match out.next_token {
            Some(t) if !t.is_empty() => next = Some(t),
            _ => return Ok(accounts),
        }
    }
}

/// ListAccountRoles for one account, every page, each page retried when
/// throttled.
pub fn list_account_roles(
    endpoints: &Endpoints,
    token: &SsoAccessToken,
    account_id: &str,
) -> Result<Vec<String>, SsoError> {
    block_on(async {
        let portal = portal_client(endpoints).await;
        list_account_roles_with(&portal, token, account_id).await
    })?
}

async fn list_account_roles_with(
    portal: &aws_sdk_sso::Client,
    token: &SsoAccessToken,
    account_id: &str,
) -> Result<Vec<String>, SsoError> {
    let mut roles = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let out = retry_throttled(|| async {
            portal
                .list_account_roles()
                .access_token(token.expose())
                .account_id(account_id)
                .set_next_token(next.clone())
                .send()
                .await
                .map_err(|e| classify(map_sdk_error(e)))
        })
        .await?;
        for r in out.role_list.unwrap_or_default() {
            roles.push(r.role_name.ok_or_else(|| missing("role name"))?);
        }
        match out.next_token {
            Some(t) if !t.is_empty() => next = Some(t),
            _ => return Ok(roles),
        }
    }
}

/// Every account with its roles: ListAccounts, then ListAccountRoles per
/// account, one after the other (a sync is not worth a burst of parallel
/// calls that would only meet the portal's rate limit), in one runtime.
pub fn list_assignments(
    endpoints: &Endpoints,
    token: &SsoAccessToken,
) -> Result<Vec<(Account, Vec<String>)>, SsoError> {
    block_on(async {
        let portal = portal_client(endpoints).await;
        let accounts = list_accounts_with(&portal, token).await?;
        let mut out = Vec::with_capacity(accounts.len());
        for account in accounts {
            let roles = list_account_roles_with(&portal, token, &account.account_id).await?;
            out.push((account, roles));
        }
        Ok(out)
    })?
}

/// GetRoleCredentials: a role session for `role_name` in `account_id`.
pub fn get_role_credentials(
    endpoints: &Endpoints,
    token: &SsoAccessToken,
    account_id: &str,
    role_name: &str,
) -> Result<Session, SsoError> {
    block_on(async {
        let portal = portal_client(endpoints).await;
        let out = retry_throttled(|| async {
            portal
                .get_role_credentials()
                .access_token(token.expose())
                .account_id(account_id)
                .role_name(role_name)
                .send()
                .await
                .map_err(|e| classify(map_sdk_error(e)))
        })
        .await?;
        let c = out
            .role_credentials
            .ok_or_else(|| missing("role credentials"))?;
        // Epoch milliseconds, unlike STS.
        let expiration = OffsetDateTime::from_unix_timestamp(c.expiration / 1000)
            .map_err(|_| missing("valid expiration"))?;
        Ok(Session {
            access_key_id: c.access_key_id.ok_or_else(|| missing("access key ID"))?,
            secret_access_key: SecretAccessKey::new(
                c.secret_access_key
                    .ok_or_else(|| missing("secret access key"))?,
            ),
            session_token: SessionToken::new(
                c.session_token.ok_or_else(|| missing("session token"))?,
            ),
            expiration,
            endpoints: endpoints.clone(),
        })
    })?
}

/// Logout: ends the sign-in session the token belongs to.
pub fn logout(endpoints: &Endpoints, token: &SsoAccessToken) -> Result<(), SsoError> {
    block_on(async {
        portal_client(endpoints)
            .await
            .logout()
            .access_token(token.expose())
            .send()
            .await
            .map_err(|e| classify(map_sdk_error(e)))?;
        Ok(())
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        for attempt in 1..20 {
            let d = backoff(attempt);
            let ceiling = BACKOFF_BASE
                .saturating_mul(1u32 << attempt.min(16))
                .min(BACKOFF_CAP);
            assert!(d <= ceiling && d >= ceiling / 2, "attempt {attempt}: {d:?}");
        }
        assert!(backoff(30) <= BACKOFF_CAP);
    }

    #[test]
    fn refusals_are_sorted_by_code() {
        let refused = |code: &str| AwsError::Refused {
            code: code.into(),
            message: "m".into(),
            status: Some(400),
        };
        assert!(matches!(
            classify(refused("AuthorizationPendingException")),
            SsoError::Pending
        ));
        assert!(matches!(
            classify(refused("SlowDownException")),
            SsoError::SlowDown
        ));
        assert!(matches!(
            classify(refused("ExpiredTokenException")),
            SsoError::Expired
        ));
        assert!(matches!(
            classify(refused("UnauthorizedException")),
            SsoError::Unauthorized
        ));
        assert!(matches!(
            classify(refused("TooManyRequestsException")),
            SsoError::Throttled { .. }
        ));
        assert!(classify(refused("InvalidGrantException")).needs_sign_in());
        assert!(matches!(
            classify(refused("InvalidRequestException")),
            SsoError::Aws(_)
        ));
    }

    #[test]
    fn debug_never_shows_tokens() {
        let tokens = Tokens {
            access_token: SsoAccessToken::new("aoa-secret-access".into()),
            refresh_token: Some(SsoRefreshToken::new("aor-secret-refresh".into())),
            expires_at: OffsetDateTime::UNIX_EPOCH,
        };
        let reg = ClientRegistration {
            client_id: "id".into(),
            client_secret: ClientSecret::new("client-secret-value".into()),
            expires_at: OffsetDateTime::UNIX_EPOCH,
            scopes: vec![],
            grant_types: vec![],
        };
        let printed = format!("{tokens:?} {reg:?}");
        assert!(!printed.contains("secret-"), "{printed}");
        assert!(printed.contains("[REDACTED]"));
    }
}
