//! The Tauri commands: each delegates to the library (`keyfob::app` and
//! friends) in one to three lines. Work that may block (the keychain over
//! D-Bus, the KDF, STS) runs on a blocking thread via [`blocking`], never
//! on the UI thread.

use tauri::{AppHandle, Manager};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use keyfob::app;
use keyfob::app::thirdparty;
use keyfob::model::identity::{
    AccessKeyId, IdentityName, check_pin, check_pin_confirmation, check_secret,
};
use keyfob::model::limits;
use keyfob::model::secret::{Pin, SecretAccessKey};
use keyfob::platform::prompt::FixedPrompter;
use keyfob::vault::NewIdentity;

use crate::desk::{Desk, renew_webview};
use crate::dto::*;
use crate::error::{ErrorKind, UiError};
use crate::sealing::{Sealed, SealingKey};

type Result<T> = std::result::Result<T, UiError>;

/// Runs `f` with the app's state on tokio's blocking pool.
async fn blocking<T, F>(app: AppHandle, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(&Desk) -> Result<T> + Send + 'static,
{
    tauri::async_runtime::spawn_blocking(move || f(&app.state::<Desk>()))
        .await
        .map_err(|e| UiError::new(ErrorKind::Internal, e.to_string()))?
}

/// [`blocking`] for a command that changes what the tray shows (profiles,
/// the default, sessions): the tray is brought up to date at once, and
/// its watcher does not announce the change to the UI, which made it and
/// reads the state again itself. (Only these: a read-only command that
/// took the tray's snapshot would swallow a change the CLI made
/// meanwhile, which the UI would then never hear of.)
async fn changing<T, F>(app: AppHandle, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(&Desk) -> Result<T> + Send + 'static,
{
    let handle = app.clone();
    let out = blocking(app, f).await;
    let _ = tauri::async_runtime::spawn_blocking(move || crate::tray::refresh(&handle)).await;
    out
}

#[tauri::command]
pub async fn list_identities(app: AppHandle) -> Result<Vec<IdentityView>> {
    blocking(app, |d| {
        let now = OffsetDateTime::now_utc();
        let vault = d.kf.vault().map_err(app::AppError::from)?;
        Ok(app::audit(&d.kf)?
            .iter()
            .map(|a| IdentityView::audited(a, now).protected(&vault, &a.identity))
            .collect())
    })
    .await
}

/// Checks the four fields (in the order of the form), the same way `keyfob
/// add` does.
fn new_identity(d: &Desk, form: NewIdentityForm) -> Result<NewIdentity> {
    let access_key_id = AccessKeyId::parse(&form.access_key_id)?;
    let secret = check_secret(SecretAccessKey::new(take(
        d.open(&form.secret_access_key, "secret_access_key")?,
    )))?;
    let name = IdentityName::parse(&form.identity_name)?;
    let pin = Pin::new(take(d.open(&form.pin, "pin")?));
    check_pin(&pin)?;
    let again = Pin::new(take(d.open(&form.pin_confirmation, "pin_confirmation")?));
    check_pin_confirmation(&pin, &again)?;
    // Where its calls go: the endpoint settings the app runs with (AWS's
    // own unless AWS_ENDPOINT_URL is set), fixed with the identity.
    let endpoints = keyfob::model::endpoints::Endpoints::at_add(None, None)?;
    Ok(NewIdentity {
        name,
        access_key_id,
        secret,
        pin,
        endpoints,
    })
}

/// "Verify and add keys", step one: validates, asks STS who the keys
/// belong to, and keeps them (sealed by nothing yet, in wiped memory) until
/// [`confirm_identity`] or [`cancel_identity`]. Nothing is stored.
#[tauri::command]
pub async fn verify_identity(app: AppHandle, form: NewIdentityForm) -> Result<VerifiedKeys> {
    blocking(app, move |d| {
        let new = new_identity(d, form)?;
        let caller = app::verify_new_identity(&d.kf, &new)?;
        Ok(d.pending_add(new, caller))
    })
    .await
}

/// Step two: seals and stores the verified keys, bound to the TPM as
/// `tpm` (`require`, `prefer`, `off`) says, with a recovery code when
/// `recovery_code`, and creates the profile.
#[tauri::command]
pub async fn confirm_identity(
    app: AppHandle,
    allow_root: bool,
    tpm: String,
    recovery_code: bool,
) -> Result<AddedView> {
    changing(app, move |d| {
        let choice = tpm.parse().map_err(app::AppError::from)?;
        let (new, caller) = d.take_pending_add()?;
        let bind = (choice, recovery_code);
        let (identity, sealed) = app::add_verified_identity(&d.kf, new, caller, allow_root, bind)?;
        Ok(AddedView {
            identity: IdentityView::new(&identity, OffsetDateTime::now_utc())
                .protected(&d.kf.vault().map_err(app::AppError::from)?, &identity),
            recovery_code: sealed.recovery.map(|c| c.display()),
            no_tpm: sealed.no_tpm.map(|e| e.to_string()),
        })
    })
    .await
}

#[tauri::command]
pub fn cancel_identity(state: tauri::State<'_, Desk>) {
    drop(state.take_pending_add());
}

#[tauri::command]
pub async fn remove_identity(app: AppHandle, name: String) -> Result<()> {
    changing(app, move |d| {
        // The page asked "remove?" before calling.
        let confirmed = app::Answered { take_over: false };
        Ok(app::remove_identity(&d.kf, &name, &confirmed).map(drop)?)
    })
    .await
}

#[tauri::command]
pub async fn list_profiles(app: AppHandle) -> Result<Vec<ProfileView>> {
    blocking(app, |d| {
        let current = app::current(&d.kf).ok().flatten();
        Ok(d.kf
            .profiles()?
            .iter()
            .map(|p| ProfileView::new(p, current.as_deref()))
            .collect())
    })
    .await
}

/// Saves a profile; a role with an external ID first goes through the
/// external-ID guard with the identity's session (`guard` answers its PIN
/// and MFA prompts if the session is not cached).
#[tauri::command]
pub async fn save_profile(
    app: AppHandle,
    form: ProfileForm,
    guard: Option<PinForm>,
) -> Result<ProfileView> {
    changing(app, move |d| {
        let profile = app::build_profile(&d.kf, &form.input())?;
        let prompter = fixed_prompter(d, guard)?;
        let (replace, take_over, accept) = (form.replace, form.take_over, form.accept_unguarded);
        let saved = app::save_guarded_profile(
            &d.kf,
            profile,
            replace,
            accept,
            Some(&prompter),
            &app::Answered { take_over },
        )?;
        Ok(ProfileView::new(&saved.profile, None))
    })
    .await
}

/// The PIN and MFA code of a [`PinForm`] as prompt answers; empty ones are
/// not given (a cached session may not need them).
fn fixed_prompter(d: &Desk, form: Option<PinForm>) -> Result<FixedPrompter> {
    let Some(mut form) = form else {
        return Ok(FixedPrompter {
            pin: None,
            mfa_code: None,
        });
    };
    let mfa_code = form
        .mfa_code
        .take()
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty());
    if let Some(code) = &mfa_code {
        limits::mfa_code(code)?;
    }
    let pin = Some(Pin::new(take(d.open(&form.pin, "pin")?))).filter(|p| p.char_count() > 0);
    Ok(FixedPrompter { pin, mfa_code })
}

/// The access-keys panel: `keyfob keys NAME` (IAM calls signed with the
/// long-term key, opened with the PIN).
#[tauri::command]
pub async fn list_keys(app: AppHandle, identity: String, form: PinForm) -> Result<Vec<KeyView>> {
    blocking(app, move |d| {
        let pin = Pin::new(take(d.open(&form.pin, "pin")?));
        let rows = app::access_keys(&d.kf, &identity, &pin)?;
        Ok(rows.into_iter().map(KeyView::from).collect())
    })
    .await
}

/// Where the identity's rotation stands; no PIN needed.
#[tauri::command]
pub async fn rotation_status(app: AppHandle, identity: String) -> Result<RotationView> {
    blocking(app, move |d| {
        let (identity, state) = app::rotation_status(&d.kf, &identity)?;
        Ok(RotationView::new(&identity, state.as_ref()))
    })
    .await
}

/// The rotation wizard's start / continue / rollback (`keyfob rotate`).
#[tauri::command]
pub async fn rotate(app: AppHandle, form: RotateForm) -> Result<RotateResult> {
    blocking(app, move |d| {
        let pin = Pin::new(take(d.open(&form.pin, "pin")?));
        let grace = Some(form.grace.as_str());
        let report = app::rotate(&d.kf, &form.identity, &pin, form.action.into(), grace)?;
        let (identity, state) = app::rotation_status(&d.kf, &form.identity)?;
        Ok(RotateResult::new(
            report,
            RotationView::new(&identity, state.as_ref()),
        ))
    })
    .await
}

/// The provider page: a fresh external ID (`keyfob external-id new`), or,
/// for a named customer, the one recorded for them (issued now if none).
#[tauri::command]
pub async fn new_external_id(app: AppHandle, customer: Option<String>) -> Result<ExternalIdView> {
    blocking(app, move |d| match customer.filter(|c| !c.is_empty()) {
        None => Ok(ExternalIdView {
            external_id: thirdparty::new_external_id()?,
            customer: None,
            new: true,
            issued_at: None,
        }),
        Some(c) => {
            let path = thirdparty::record_path(&d.kf.paths);
            Ok(thirdparty::issue(&path, &c, false)?.into())
        }
    })
    .await
}

/// The trust policy to give a customer (`keyfob trust-policy`).
#[tauri::command]
pub fn trust_policy(form: TrustPolicyForm) -> Result<String> {
    let opt = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let (account, principal) = (opt(&form.account), opt(&form.principal_arn));
    Ok(thirdparty::trust_policy(
        account.as_deref(),
        principal.as_deref(),
        form.external_id.trim(),
    )?)
}

#[tauri::command]
pub async fn remove_profile(app: AppHandle, name: String) -> Result<()> {
    changing(app, move |d| {
        let confirmed = app::Answered { take_over: false };
        Ok(app::remove_profile(&d.kf, &name, &confirmed).map(drop)?)
    })
    .await
}

#[tauri::command]
pub async fn current_profile(app: AppHandle) -> Result<Option<String>> {
    blocking(app, |d| Ok(app::current(&d.kf)?)).await
}

/// `keyfob use NAME`: points `[default]` at the profile.
#[tauri::command]
pub async fn use_profile(app: AppHandle, name: String, take_over: bool) -> Result<String> {
    changing(app, move |d| {
        Ok(app::use_profile(&d.kf, &name, &app::Answered { take_over })?.name)
    })
    .await
}

/// `keyfob unlock`; returns when the new session expires (RFC 3339).
#[tauri::command]
pub async fn unlock(app: AppHandle, mut form: UnlockForm) -> Result<String> {
    changing(app, move |d| {
        if let Some(code) = &form.mfa_code {
            limits::mfa_code(code)?;
        }
        let prompter = FixedPrompter {
            pin: Some(Pin::new(take(d.open(&form.pin, "pin")?))),
            mfa_code: form.mfa_code.take(),
        };
        app::unlock(&d.kf, &form.profile, &prompter)
            .map(rfc3339)
            .map_err(|e| d.noting_profile_sign_in(&form.profile, e))
    })
    .await
}

#[tauri::command]
pub async fn list_sessions(app: AppHandle) -> Result<Vec<SessionView>> {
    blocking(app, |d| {
        Ok(app::sessions(&d.kf)?
            .into_iter()
            .map(SessionView::from)
            .collect())
    })
    .await
}

#[tauri::command]
pub async fn lock(app: AppHandle, profile: String) -> Result<()> {
    changing(app, move |d| Ok(app::lock(&d.kf, &profile).map(drop)?)).await
}

/// The names people gave accounts, by account ID (`keyfob alias`).
#[tauri::command]
pub async fn account_aliases(app: AppHandle) -> Result<std::collections::BTreeMap<String, String>> {
    blocking(app, |d| Ok(app::account_aliases(&d.kf)?)).await
}

/// Names an account (`alias: null` forgets its name); returns every name.
#[tauri::command]
pub async fn set_account_alias(
    app: AppHandle,
    account: String,
    alias: Option<String>,
) -> Result<std::collections::BTreeMap<String, String>> {
    changing(app, move |d| {
        let alias = alias.as_deref().map(str::trim).filter(|a| !a.is_empty());
        Ok(app::set_account_alias(&d.kf, &account, alias)?)
    })
    .await
}

/// Opens the AWS console as `profile` (`keyfob login`): its role session,
/// or an identity's federated session. `pin` answers the PIN (and MFA)
/// prompt when that session must be made; without it a locked profile is
/// refused with kind `locked`. The browser gets a one-shot local address,
/// never the sign-in URL, which the UI never sees.
#[tauri::command]
pub async fn open_console(app: AppHandle, profile: String, pin: Option<PinForm>) -> Result<()> {
    changing(app, move |d| {
        // No PIN given: no prompter, so a locked profile says so (kind
        // `locked`) instead of failing on a missing answer.
        let prompter = pin.map(|p| fixed_prompter(d, Some(p))).transpose()?;
        let url = app::console_url(
            &d.kf,
            &profile,
            &app::ConsoleOptions::default(),
            prompter
                .as_ref()
                .map(|p| p as &dyn keyfob::credentials::Prompter),
        )
        .map_err(|e| d.noting_profile_sign_in(&profile, e))?;
        keyfob::app::console::open_in_browser(
            &url,
            &keyfob::app::console::Browser::Default,
            keyfob::app::console::BROWSER_WAIT,
        )
        .map_err(|e| UiError::from(app::AppError::from(e)))
    })
    .await
}

/// Drops every session, then ends the web process (the window is built
/// afresh), so nothing typed into the page outlives the lock.
#[tauri::command]
pub async fn lock_all(app: AppHandle) -> Result<u32> {
    let handle = app.clone();
    let n = changing(app, |d| Ok(app::lock_all(&d.kf)? as u32)).await?;
    renew_webview(&handle);
    Ok(n)
}

#[tauri::command]
pub fn get_settings(state: tauri::State<'_, Desk>) -> SettingsView {
    state.settings_view()
}

#[tauri::command]
pub async fn save_settings(app: AppHandle, form: SettingsForm) -> Result<SettingsView> {
    let handle = app.clone();
    blocking(app, move |d| {
        // Every field is checked before anything is written.
        crate::shortcut::parse(&form.global_shortcut)?;
        keyfob::config::settings::save(
            &d.kf.paths,
            &keyfob::config::settings::SettingsInput {
                store: form.store.into(),
                session_duration: form.session_duration,
                role_duration: form.role_duration,
            },
        )?;
        crate::autostart::set(&d.app_exe, form.start_at_login)?;
        crate::shortcut::save(&d.kf.paths.config_file(), &form.global_shortcut)?;
        let applied = crate::shortcut::apply(&handle, &form.global_shortcut);
        *d.shortcut_error.lock().unwrap_or_else(|e| e.into_inner()) = applied.err();
        Ok(d.settings_view())
    })
    .await
}

#[tauri::command]
pub fn pending_prompts(state: tauri::State<'_, Desk>) -> Vec<PromptView> {
    state.prompts.pending()
}

/// The person's answer to a prompt from `keyfob credential-process`;
/// `value: null` refuses.
#[tauri::command]
pub fn answer_prompt(state: tauri::State<'_, Desk>, id: u32, value: Option<Sealed>) -> Result<()> {
    let value = value.map(|v| state.open(&v, "value")).transpose()?;
    state.prompts.answer(id, value)
}

/// The person's answer to an approval prompt ([`crate::prompt`]).
#[tauri::command]
pub fn answer_approval(
    state: tauri::State<'_, Desk>,
    id: u32,
    answer: ApprovalAnswer,
) -> Result<()> {
    let decision = answer.decision().ok_or_else(|| {
        UiError::new(
            ErrorKind::Field,
            "an approval holds for 1 minute to 30 days",
        )
    })?;
    state.prompts.decide(id, decision)
}

#[tauri::command]
pub async fn list_approvals(app: AppHandle) -> Result<ApprovalsView> {
    blocking(app, |d| crate::access::approvals(&d.kf)).await
}

#[tauri::command]
pub async fn revoke_approval(app: AppHandle, id: String, profile: String) -> Result<ApprovalsView> {
    blocking(app, move |d| crate::access::revoke(&d.kf, &id, &profile)).await
}

/// Sets the global rule (`profile: null`) or a profile's own (`rule:
/// null` drops it).
#[tauri::command]
pub async fn set_approval_rule(
    app: AppHandle,
    profile: Option<String>,
    rule: Option<RuleChoice>,
) -> Result<ApprovalsView> {
    blocking(app, move |d| {
        crate::access::set_rule(&d.kf, profile.as_deref(), rule)
    })
    .await
}

/// The access log, newest first.
#[tauri::command]
pub async fn access_log(app: AppHandle) -> Result<Vec<AccessView>> {
    blocking(app, |d| crate::access::log(&d.kf)).await
}

/// The key the page seals secret fields to ([`crate::sealing`]).
#[tauri::command]
pub fn sealing_key(state: tauri::State<'_, Desk>) -> SealingKey {
    state.sealer.public()
}

/// Moves an opened field's text into the secret type that takes a
/// `String`: the buffer moves, nothing is copied.
fn take(mut text: Zeroizing<String>) -> String {
    std::mem::take(&mut *text)
}

mod sign_ins;
pub use sign_ins::*;
