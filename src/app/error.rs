//! The one error the application core returns, and its kind: what every
//! face acts on (see [`ErrorKind`]).

use std::path::PathBuf;

use crate::app::access_keys::KeysError;
use crate::app::rotation::RotationError;
use crate::app::thirdparty::ThirdPartyError;
use crate::aws::AwsError;
use crate::aws::config_file::ConfigFileError;
use crate::config::profile::ProfileError;
use crate::config::settings::SettingsError;
use crate::credentials::ProviderError;
use crate::link::cache::CacheError;
pub use crate::model::error_kind::ErrorKind;
use crate::model::field::{Field, FieldError};
use crate::platform::fsutil::{LockError, WriteError};
use crate::platform::paths::PathError;
use crate::platform::store::StoreError;
use crate::vault::VaultError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Profile(#[from] ProfileError),
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("could not verify the keys with AWS: {0}")]
    Aws(#[from] AwsError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    ConfigFile(#[from] ConfigFileError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    SaveSettings(#[from] crate::config::settings::SaveError),
    #[error(transparent)]
    Path(#[from] PathError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error(transparent)]
    ThirdParty(#[from] ThirdPartyError),
    #[error(transparent)]
    Rotation(#[from] RotationError),
    #[error(transparent)]
    Keys(#[from] KeysError),
    #[error(transparent)]
    Console(#[from] crate::app::console::ConsoleError),
    #[error(transparent)]
    Import(#[from] crate::app::import::ImportError),
    #[error("cannot find the AWS config file: set HOME or AWS_CONFIG_FILE")]
    NoAwsConfig,
    /// The approvals file could not be read or written.
    #[error("approvals: {message}")]
    Approvals { message: String },
    /// The program was not approved for the profile (see
    /// [`crate::app::approvals`]).
    #[error("{message}")]
    Denied { message: String },
    #[error("cannot find the shared credentials file: set HOME or AWS_SHARED_CREDENTIALS_FILE")]
    NoCredentialsFile,
    #[error(
        "profile {section} in {path} is not managed by keyfob; tick \"take over\" to replace its credential settings (a backup is kept)"
    )]
    NotManaged { section: String, path: PathBuf },
    /// The person said no, or could not be asked: `{hint}` says how to
    /// answer up front.
    #[error("{question} — {hint}")]
    NotConfirmed { question: String, hint: String },
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("{key} is not one of this user's access keys — `keyfob keys {identity}` lists them")]
    NotUsersKey { key: String, identity: String },
    #[error(
        "{key} is the key keyfob uses for {identity}; {doing} it would lock you out — `keyfob rotate {identity}` replaces it safely"
    )]
    VaultsKey {
        key: String,
        identity: String,
        doing: &'static str,
    },
    #[error(
        "{key} is Active: deactivate it first (`keyfob keys {identity} deactivate {key}`), check nothing broke, then delete it — or pass --force"
    )]
    KeyActive { key: String, identity: String },
    #[error("no identity to ask STS with — add one, or use --offline")]
    NoIdentityForSts,
    #[error(
        "several identities: choose the one to ask STS with, --profile NAME (or use --offline)"
    )]
    WhichIdentityForSts,
    #[error("{source} — whois needs the sts:GetAccessKeyInfo permission, or use --offline")]
    WhoisDenied { source: AwsError },
    #[error(
        "the default profile in {} is not managed by keyfob — `keyfob use PROFILE` sets it",
        path.display()
    )]
    DefaultNotManaged { path: PathBuf },
    #[error("no default profile — `keyfob use PROFILE` sets one")]
    NoDefaultProfile,
    #[error("the sign-in with code {code} was cancelled; nothing was stored")]
    SignInCancelled { code: String },
    #[error(
        "the sign-in code {code} expired before it was approved; nothing was stored — run the command again and approve the code within {secs} s"
    )]
    SignInCodeExpired { code: String, secs: u64 },
    #[error("the sign-in code {code} was refused in the browser; nothing was stored")]
    SignInDenied { code: String },
    #[error(
        "the Identity Center sign-in of {identity} has expired and cannot be renewed — run `keyfob sso login {identity}`"
    )]
    SignInExpired { identity: String },
    #[error(
        "identity {identity}'s account is not known, so it has no browser profile of its own — use `keyfob login {profile}` without --browser-profile"
    )]
    AccountUnknown { identity: String, profile: String },
    #[error(
        "the external-ID guard needs identity {identity}'s session and it is locked — run this on a terminal, or pass --pin-stdin{}",
        if *mfa { " and --mfa-code CODE" } else { "" }
    )]
    GuardLocked { identity: String, mfa: bool },
    #[error("identity {identity} added, but its profile was not: {source}")]
    ProfileNotAdded {
        identity: String,
        source: Box<AppError>,
    },
    #[error(transparent)]
    Prompt(#[from] crate::model::ask::PromptError),
    #[error(transparent)]
    Agent(#[from] crate::link::error::AgentError),
    #[error(transparent)]
    Sso(#[from] crate::aws::sso::SsoError),
    #[error("AWS sign-in: {0}")]
    Login(#[from] crate::aws::signin::SignInError),
}

impl AppError {
    /// The form field this error belongs next to, if any.
    pub fn field(&self) -> Option<Field> {
        match self {
            AppError::Field(e) => Some(e.field),
            AppError::Vault(v)
            | AppError::Provider(ProviderError::Vault(v))
            | AppError::Rotation(RotationError::Vault(v))
            | AppError::Keys(KeysError::Vault(v)) => v.field(),
            AppError::ThirdParty(ThirdPartyError::Field(e)) => Some(e.field),
            AppError::ThirdParty(
                ThirdPartyError::Unguarded { .. } | ThirdPartyError::Rejected { .. },
            ) => Some(Field::ExternalId),
            AppError::Provider(ProviderError::Field(e)) => Some(e.field),
            AppError::Console(crate::app::console::ConsoleError::Field(e)) => Some(e.field),
            AppError::Provider(ProviderError::MfaCodeReused { .. }) => Some(Field::MfaCode),
            AppError::Profile(
                ProfileError::Invalid { source, .. } | ProfileError::Field { source, .. },
            ) => Some(source.field),
            AppError::Profile(ProfileError::Exists { .. }) => Some(Field::ProfileName),
            AppError::SaveSettings(crate::config::settings::SaveError::Field(e)) => Some(e.field),
            AppError::ProfileNotAdded { source, .. } => source.field(),
            // A wrong secret (or unknown key) is what GetCallerIdentity
            // refuses when keys are verified before they are added.
            AppError::Aws(e) if e.is_bad_credentials() => Some(Field::SecretAccessKey),
            _ => None,
        }
    }

    /// Seconds to wait before the next PIN attempt, when a back-off applies.
    pub fn wait_secs(&self) -> Option<i64> {
        match self {
            AppError::Vault(v)
            | AppError::Provider(ProviderError::Vault(v))
            | AppError::Rotation(RotationError::Vault(v))
            | AppError::Keys(KeysError::Vault(v)) => match v {
                VaultError::BackOff { wait_secs, .. } => Some(*wait_secs),
                VaultError::WrongPin {
                    remaining: 0,
                    wait_secs,
                    ..
                } => Some(*wait_secs),
                _ => None,
            },
            AppError::Provider(ProviderError::MfaCodeReused { wait_secs }) => {
                Some(*wait_secs as i64)
            }
            _ => None,
        }
    }

    /// What kind of failure this is: the one answer the CLI's exit code,
    /// the agent's reply and the desktop's message all come from.
    pub fn kind(&self) -> ErrorKind {
        use ErrorKind as K;
        match self {
            AppError::Field(_) => K::Field,
            AppError::Vault(v)
            | AppError::Provider(ProviderError::Vault(v))
            | AppError::Rotation(RotationError::Vault(v))
            | AppError::Keys(KeysError::Vault(v)) => v.kind(),
            AppError::Profile(p) => p.kind(),
            AppError::Provider(p) | AppError::Keys(KeysError::Provider(p)) => p.kind(),
            // A wrong secret (or unknown key) is what GetCallerIdentity
            // refuses when keys are verified before they are added.
            AppError::Aws(e) if e.is_bad_credentials() => K::Field,
            AppError::Aws(_) | AppError::WhoisDenied { .. } => K::Aws,
            AppError::Keys(KeysError::Aws { .. }) => K::Aws,
            AppError::Keys(KeysError::Cache(_)) | AppError::Store(_) | AppError::Cache(_) => {
                K::Store
            }
            AppError::Rotation(RotationError::Aws { .. } | RotationError::NotVerified { .. }) => {
                K::Aws
            }
            AppError::Rotation(_) => K::State,
            AppError::ThirdParty(t) => t.kind(),
            AppError::Import(i) => i.kind(),
            AppError::Console(crate::app::console::ConsoleError::Field(_)) => K::Field,
            AppError::Console(_) => K::Aws,
            AppError::SaveSettings(crate::config::settings::SaveError::Field(_)) => K::Field,
            AppError::ConfigFile(_)
            | AppError::Settings(_)
            | AppError::SaveSettings(_)
            | AppError::Path(_)
            | AppError::Write(_)
            | AppError::Lock(_)
            | AppError::NoAwsConfig
            | AppError::Approvals { .. }
            | AppError::NoCredentialsFile => K::Config,
            AppError::Denied { .. } => K::Denied,
            AppError::NotManaged { .. } | AppError::DefaultNotManaged { .. } => K::NotManaged,
            AppError::NotConfirmed { .. } | AppError::SignInCancelled { .. } => K::NotConfirmed,
            AppError::GuardLocked { .. } => K::Locked,
            AppError::ProfileNotAdded { source, .. } => source.kind(),
            AppError::Prompt(p) => p.kind(),
            AppError::Agent(a) => a.kind(),
            AppError::Sso(s) => s.kind(),
            AppError::Login(e) if e.needs_sign_in() => K::SignIn,
            AppError::Login(_) => K::Aws,
            AppError::NotUsersKey { .. } | AppError::NoDefaultProfile => K::NotFound,
            AppError::VaultsKey { .. }
            | AppError::KeyActive { .. }
            | AppError::NoIdentityForSts
            | AppError::WhichIdentityForSts
            | AppError::AccountUnknown { .. }
            | AppError::SignInCodeExpired { .. }
            | AppError::SignInDenied { .. } => K::State,
            AppError::SignInExpired { .. } => K::SignIn,
        }
    }

    /// Refused input rather than a failure (see [`ErrorKind::is_refusal`]).
    pub fn is_refusal(&self) -> bool {
        self.kind().is_refusal()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::error::AgentError;
    use crate::link::protocol::ErrorKind as Wire;

    /// The error `sign_in_again` makes is what `needs_sso_sign_in` looks
    /// for: as a `Refused(String)` it was not, so a face could not offer
    /// the sign-in that would help.
    #[test]
    fn an_expired_sign_in_asks_for_a_sign_in() {
        let e = crate::app::sign_in_again("corp");
        assert_eq!(e.kind(), ErrorKind::SignIn);
        assert!(crate::app::needs_sso_sign_in(&e));
        assert!(!e.is_refusal());
    }

    /// One kind for the same failure, wherever it surfaces: wrapped in
    /// another layer's error, or replied by the agent.
    #[test]
    fn a_failure_keeps_its_kind_through_every_wrapper() {
        let taken = || ProfileError::InUse {
            name: "base".into(),
            users: "child".into(),
        };
        assert_eq!(taken().kind(), ErrorKind::Conflict);
        assert_eq!(AppError::from(taken()).kind(), ErrorKind::Conflict);
        let added = AppError::ProfileNotAdded {
            identity: "dev".into(),
            source: Box::new(AppError::from(taken())),
        };
        assert!(added.is_refusal());

        let locked = || ProviderError::Locked {
            profile: "p".into(),
        };
        assert_eq!(AppError::from(locked()).kind(), ErrorKind::Locked);
        assert_eq!(
            AppError::Keys(KeysError::Provider(locked())).kind(),
            ErrorKind::Locked
        );
        // What the agent replies comes back as the same class.
        for (wire, kind) in [
            (Wire::Refusal, ErrorKind::Invalid),
            (Wire::Locked, ErrorKind::Locked),
            (Wire::SignIn, ErrorKind::SignIn),
            (Wire::Failed, ErrorKind::Failed),
        ] {
            let e = AppError::Agent(AgentError::Replied {
                kind: wire,
                message: String::new(),
            });
            assert_eq!(e.kind(), kind);
        }
        assert!(
            AppError::Agent(AgentError::Replied {
                kind: Wire::Refusal,
                message: String::new()
            })
            .is_refusal()
        );
    }

    #[test]
    fn a_wrong_pin_with_no_attempt_left_is_a_back_off() {
        let wrong = |remaining| {
            AppError::from(VaultError::WrongPin {
                name: crate::model::identity::IdentityName::parse("dev").unwrap(),
                remaining,
                wait_secs: 30,
                tpm_tries_left: None,
            })
        };
        assert_eq!(wrong(2).kind(), ErrorKind::WrongPin);
        assert_eq!(wrong(0).kind(), ErrorKind::BackOff);
        assert!(wrong(0).is_refusal());
    }
}
