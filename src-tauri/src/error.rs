//! The one error type that crosses to the UI: `{kind, message, field?,
//! wait_secs?}`, so the UI can put a message next to its field or run a
//! back-off countdown without parsing text. Messages are the library's,
//! which never carry a secret.

use serde::Serialize;
use ts_rs::TS;

use keyfob::app::AppError;
use keyfob::app::thirdparty::ThirdPartyError;

/// What went wrong, for the UI to react to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub enum ErrorKind {
    /// A field's value was refused; `field` names it.
    Field,
    WrongPin,
    BackOff,
    /// AWS refused, or could not be reached.
    Aws,
    NotFound,
    /// An AWS config section keyfob does not manage.
    NotManaged,
    RootRefused,
    /// The keychain or file store failed.
    Store,
    /// A file (config.toml, the AWS config) could not be read or written.
    Config,
    /// The prompt the answer was for is gone (answered or timed out).
    PromptGone,
    /// The external-ID guard found the role assumable without its external
    /// ID; the profile can be stored only marked unguarded.
    Unguarded,
    /// Not possible where things stand (a rotation in progress, or not
    /// started, or in its grace period …); the message says what to do.
    State,
    /// The profile is locked and this call was given no PIN: ask for it
    /// and call again.
    Locked,
    /// A secret field was sealed to a key the app has replaced since (a
    /// page that outlived "Lock all"): fetch the key, seal, call again.
    Resealed,
    /// An Identity Center sign-in expired and nothing could renew it: sign
    /// in again (`sso_login`), then call again.
    SignIn,
    Internal,
}

#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct UiError {
    pub kind: ErrorKind,
    pub message: String,
    /// The form field the message belongs next to (snake_case, e.g.
    /// `secret_access_key`), if any.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Seconds until the next PIN attempt is accepted, during a back-off.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_secs: Option<u32>,
}

impl UiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            field: None,
            wait_secs: None,
        }
    }
}

impl From<AppError> for UiError {
    fn from(e: AppError) -> Self {
        use keyfob::app::ErrorKind as K;
        // The library's one kind, as the UI knows them.
        let kind = match e.kind() {
            K::Field | K::Invalid => ErrorKind::Field,
            // A taken name is shown at its field; a profile others chain
            // from is a state to change first.
            K::Conflict if e.field().is_some() => ErrorKind::Field,
            K::Conflict | K::State | K::NotConfirmed | K::Denied => ErrorKind::State,
            K::WrongPin => ErrorKind::WrongPin,
            K::BackOff => ErrorKind::BackOff,
            K::RootRefused => ErrorKind::RootRefused,
            K::Unguarded => ErrorKind::Unguarded,
            K::Locked => ErrorKind::Locked,
            K::SignIn => ErrorKind::SignIn,
            K::NotFound => ErrorKind::NotFound,
            K::NotManaged => ErrorKind::NotManaged,
            K::Aws => ErrorKind::Aws,
            K::Store => ErrorKind::Store,
            K::Config => ErrorKind::Config,
            K::Agent | K::Failed => ErrorKind::Internal,
        };
        let field = match &e {
            // The provider page's fields, which no library form shares.
            AppError::ThirdParty(ThirdPartyError::Account) => Some("account".to_owned()),
            AppError::ThirdParty(ThirdPartyError::Customer { .. }) => Some("customer".to_owned()),
            AppError::ThirdParty(ThirdPartyError::PrincipalAccount { .. }) => {
                Some("role_arn".to_owned())
            }
            _ => e.field().and_then(|f| {
                serde_json::to_value(f)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
            }),
        };
        Self {
            kind,
            message: e.to_string(),
            field,
            wait_secs: e.wait_secs().map(|s| s.clamp(0, u32::MAX as i64) as u32),
        }
    }
}

impl From<keyfob::config::settings::SaveError> for UiError {
    fn from(e: keyfob::config::settings::SaveError) -> Self {
        AppError::from(e).into()
    }
}

impl From<crate::autostart::AutostartError> for UiError {
    fn from(e: crate::autostart::AutostartError) -> Self {
        UiError::new(ErrorKind::Config, e.to_string())
    }
}

impl From<ThirdPartyError> for UiError {
    fn from(e: ThirdPartyError) -> Self {
        AppError::from(e).into()
    }
}

impl From<keyfob::model::field::FieldError> for UiError {
    fn from(e: keyfob::model::field::FieldError) -> Self {
        AppError::from(e).into()
    }
}
