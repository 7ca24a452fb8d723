//! `import`: moving long-term keys that other tools keep into the vault,
//! and their profiles into keyfob. One source per run (`--from`):
//!
//! - [`credentials_file`]: the plaintext shared credentials file, and the
//!   role profiles of the AWS config file;
//! - [`aws_vault`]: aws-vault's Secret Service collection and encrypted
//!   file backend ([`aws_vault_store`] reads them), and its profiles'
//!   settings in the AWS config file;
//! - [`aws_cli_sso`]: the AWS CLI's own Identity Center sessions and
//!   their profiles (signed in anew by keyfob; no key moves);
//! - [`leapp`]: Leapp's AWS IAM User sessions (its encrypted workspace
//!   file and keytar's keychain items).
//!
//! - [`aws_login`]: the AWS CLI's `aws login` sessions, which become AWS
//!   sign-in identities (a refresh token and its DPoP key, no access key).
//!
//! Every source goes the same way ([`host::seal`]): each key verified with
//! STS, refused if it is a root user's (as `add` refuses it), sealed
//! under its own PIN; role profiles become keyfob profiles ([`roles`]).
//! The flow runs in the agent, which reads the sources itself: the client
//! only answers its questions (yes or no, PINs, a store's passphrase).
//! `--dry-run` says, per item, what would happen and changes nothing.

mod aws_cli_sso;
mod aws_login;
mod aws_vault;
mod aws_vault_store;
mod credentials_file;
pub(crate) mod error;
mod host;
mod leapp;
mod roles;

pub use aws_cli_sso::{SsoImport, import_aws_cli_sso};
pub use error::ImportError;
pub use host::{ImportAnswers, ImportHost, ImportReport, ImportRun};

use crate::app::{AppError, Keyfob};
use crate::model::endpoints::Endpoints;
use crate::model::flow::ImportSource;

/// Imports from `run`'s source what `host` agrees to (see the module
/// docs). The imported identities' endpoints are the settings in force
/// where the import was asked for (as for `keyfob add`).
pub fn import(
    kf: &Keyfob,
    host: &dyn ImportHost,
    run: &ImportRun,
) -> Result<ImportReport, AppError> {
    let endpoints = Endpoints::at_add(None, None)?;
    if !kf.is_agent() {
        // Run where keys are sealed: the agent reads the sources, verifies
        // and seals; this process only answers its questions.
        let result = kf.agent_link().flow_answered(
            crate::model::flow::Flow::Import {
                endpoint_url: endpoints.url,
                region: Some(endpoints.region),
                source: run.source.clone(),
                dry_run: run.dry_run,
                removal: run.removal,
            },
            &ImportAnswers(host),
            true,
            false,
        )?;
        return serde_json::from_str(&result).map_err(|e| {
            AppError::Agent(crate::link::error::AgentError::Replied {
                kind: crate::link::protocol::ErrorKind::Protocol,
                message: format!("the agent's answer is not what this keyfob expects: {e}"),
            })
        });
    }
    import_with(kf, host, endpoints, run)
}

/// [`import`] here, in the agent, the identities going to `endpoints`.
pub fn import_with(
    kf: &Keyfob,
    host: &dyn ImportHost,
    endpoints: Endpoints,
    run: &ImportRun,
) -> Result<ImportReport, AppError> {
    match &run.source {
        ImportSource::CredentialsFile => credentials_file::import(kf, host, endpoints, run.dry_run),
        ImportSource::AwsVault {
            collection,
            file_dir,
        } => aws_vault::import(
            kf,
            host,
            &endpoints,
            run,
            &aws_vault_store::Stores {
                tool: aws_vault_store::Tool::AwsVault,
                collection,
                file_dir,
            },
        ),
        ImportSource::Leapp { workspace } => leapp::import(kf, host, &endpoints, run, workspace),
        ImportSource::Granted {
            collection,
            file_dir,
        } => aws_vault::import(
            kf,
            host,
            &endpoints,
            run,
            &aws_vault_store::Stores {
                tool: aws_vault_store::Tool::Granted,
                collection,
                file_dir,
            },
        ),
        ImportSource::AwsLogin { cache_dir } => {
            aws_login::import(kf, host, &endpoints, run, cache_dir)
        }
    }
}
