//! Input fields and the error that names one. Every command and form checks
//! its fields before writing anything; a refusal says which field and what
//! is accepted, and the desktop app shows it next to that field.

use std::fmt;

use serde::Serialize;

/// The fields of the add-identity form (and of other commands' inputs), so
/// an error can name the one that is wrong and the UI can show it there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    AccessKeyId,
    SecretAccessKey,
    IdentityName,
    Pin,
    PinConfirmation,
    ProfileName,
    RoleArn,
    ExternalId,
    RoleSessionName,
    SourceIdentity,
    MfaSerial,
    MfaCode,
    Duration,
    Region,
    SessionDuration,
    RoleDuration,
    /// A rotation's grace period before the old key is deleted.
    Grace,
    /// The profile a chained role profile is assumed from.
    SourceProfile,
    /// Session tags (`--tag KEY=VALUE`).
    Tags,
    /// Transitive session tag keys (`--transitive-tag KEY`).
    TransitiveTags,
    /// Managed session policy ARNs (`--policy-arn`).
    PolicyArns,
    /// A federated user's name (console sign-in).
    Name,
    /// Where the console opens after sign-in (`--destination`).
    Destination,
    /// A 12-digit AWS account ID.
    Account,
    /// The name a person gives an account (`keyfob alias`).
    AccountAlias,
    /// An IAM Identity Center start URL (`--start-url`).
    StartUrl,
    /// SSO OIDC scopes (`--scopes`).
    Scopes,
    /// A profile name template (`keyfob sso sync --template`).
    Template,
    /// Where an identity's calls go (`--endpoint-url`).
    EndpointUrl,
    /// When the agent asks before handing a session to a program.
    ApprovalRule,
    /// A program to approve (`keyfob approvals add PROGRAM`).
    Program,
    /// How far back the access log is read (`keyfob log --since`).
    Since,
    /// Whether a key is bound to the TPM (`--tpm`, `[settings] tpm`).
    Tpm,
    /// A TPM-bound identity's recovery code.
    RecoveryCode,
    /// The code an AWS sign-in's page shows on another device
    /// (`keyfob login-session add --remote`).
    SignInCode,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::AccessKeyId => "access key ID",
            Field::SecretAccessKey => "secret access key",
            Field::IdentityName => "identity name",
            Field::Pin => "PIN",
            Field::PinConfirmation => "PIN confirmation",
            Field::ProfileName => "profile name",
            Field::RoleArn => "role ARN",
            Field::ExternalId => "external ID",
            Field::RoleSessionName => "role session name",
            Field::SourceIdentity => "source identity",
            Field::MfaSerial => "MFA serial",
            Field::MfaCode => "MFA code",
            Field::Duration => "duration",
            Field::Region => "region",
            Field::SessionDuration => "default session duration",
            Field::RoleDuration => "default role duration",
            Field::Grace => "grace period",
            Field::SourceProfile => "source profile",
            Field::Tags => "session tags",
            Field::TransitiveTags => "transitive tags",
            Field::PolicyArns => "policy ARNs",
            Field::Name => "name",
            Field::Destination => "destination",
            Field::Account => "account",
            Field::AccountAlias => "account alias",
            Field::StartUrl => "start URL",
            Field::Scopes => "scopes",
            Field::Template => "template",
            Field::EndpointUrl => "endpoint URL",
            Field::ApprovalRule => "approval rule",
            Field::Program => "program",
            Field::Since => "since",
            Field::Tpm => "tpm",
            Field::RecoveryCode => "recovery code",
            Field::SignInCode => "sign-in code",
        })
    }
}

/// A refused field value. The message says what is accepted and never
/// quotes a secret.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    pub field: Field,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: Field, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}
