//! Everything that talks to AWS. Endpoints, regions and timeouts come from
//! the SDK's own settings (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_STS`,
//! `endpoint_url` and `region` in the config file), which is also how the
//! tests reach the emulator: there is no test-only path.
//!
//! The SDK is async; keyfob is not. Each call builds a current-thread tokio
//! runtime for its duration, so the credential_process fast path (a cache
//! hit) never starts one.

pub mod config_file;
pub mod iam;
pub mod sso;
pub mod sts;
pub mod wiring;

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::meta::region::RegionProviderChain;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::Credentials;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};

use crate::secret::SecretAccessKey;

/// How long one AWS operation may take, retries included, before keyfob
/// gives up with a clear error instead of hanging a calling tool.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// AWS (or the emulator) answered and said no.
    #[error("AWS refused the request ({code}): {message}")]
    Refused {
        code: String,
        message: String,
        status: Option<u16>,
    },
    #[error(
        "could not reach AWS within {}s: {message} — check the network, or AWS_ENDPOINT_URL if set",
        OPERATION_TIMEOUT.as_secs()
    )]
    Unreachable { message: String },
    #[error("unexpected answer from AWS: {message}")]
    Unexpected { message: String },
    #[error("cannot start the AWS client: {message}")]
    Runtime { message: String },
}

impl AwsError {
    /// The AWS error code, where AWS gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            AwsError::Refused { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Whether AWS rejected the credentials themselves (unknown, inactive or
    /// deleted key, or a secret that does not match).
    pub fn is_bad_credentials(&self) -> bool {
        matches!(self, AwsError::Refused { code, status, .. }
            if matches!(code.as_str(), "InvalidClientTokenId" | "SignatureDoesNotMatch"
                | "UnrecognizedClientException" | "IncompleteSignature")
            || (code.starts_with("HTTP ") && *status == Some(403)))
    }
}

/// Maps any SDK error to [`AwsError`]. The SDK's own error text can quote
/// request parameters but never credentials, which are only in the signer.
pub(crate) fn map_sdk_error<E, R>(err: SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + HttpStatus,
{
    let status = err.raw_response().map(HttpStatus::status);
    match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => AwsError::Unreachable {
            message: error_chain(&err),
        },
        _ => match err.code() {
            Some(code) => AwsError::Refused {
                code: code.to_owned(),
                message: err.message().unwrap_or("no message").to_owned(),
                status,
            },
            // Some services' (and the emulator's) auth-layer errors are not
            // in the format the SDK parses: the status still says enough.
            None => match status {
                Some(s) if (400..500).contains(&s) => AwsError::Refused {
                    code: format!("HTTP {s}"),
                    message: error_chain(&err),
                    status,
                },
                _ => AwsError::Unexpected {
                    message: error_chain(&err),
                },
            },
        },
    }
}

/// The raw response's HTTP status, behind a trait so [`map_sdk_error`]
/// works for every service's error type.
pub(crate) trait HttpStatus {
    fn status(&self) -> u16;
}

impl HttpStatus for aws_smithy_runtime_api::http::Response {
    fn status(&self) -> u16 {
        self.status().as_u16()
    }
}

/// An error and its sources on one line.
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Runs `fut` to completion on a fresh current-thread runtime.
pub(crate) fn block_on<F: std::future::Future>(fut: F) -> Result<F::Output, AwsError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| AwsError::Runtime {
            message: e.to_string(),
        })?;
    Ok(rt.block_on(fut))
}

thread_local! {
    /// The asking client's `AWS_ENDPOINT_URL` and region, while the agent
    /// makes a session for it (see [`with_client_endpoint`]).
    static CLIENT_ENDPOINT: std::cell::RefCell<(Option<String>, Option<String>)> =
        const { std::cell::RefCell::new((None, None)) };
}

/// Runs `f` with the AWS calls on this thread going to `endpoint` in
/// `region` where given: the agent makes a session with the endpoint the
/// asking tool was configured with (its environment), not the one the
/// agent happened to start with.
pub fn with_client_endpoint<T>(
    endpoint: Option<String>,
    region: Option<String>,
    f: impl FnOnce() -> T,
) -> T {
    CLIENT_ENDPOINT.with(|c| *c.borrow_mut() = (endpoint, region));
    let out = f();
    CLIENT_ENDPOINT.with(|c| *c.borrow_mut() = (None, None));
    out
}

/// The SDK configuration for calls made with the given credentials. The
/// region comes from the usual chain, defaulting to us-east-1 (STS and IAM
/// answer there for every commercial account).
pub(crate) async fn sdk_config(
    access_key_id: &str,
    secret: &SecretAccessKey,
    session_token: Option<&str>,
) -> aws_config::SdkConfig {
    let credentials = Credentials::new(
        access_key_id,
        secret.expose(),
        session_token.map(str::to_owned),
        None,
        "keyfob",
    );
    let (endpoint, region) = CLIENT_ENDPOINT.with(|c| c.borrow().clone());
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).credentials_provider(credentials);
    loader = match region {
        Some(r) => loader.region(aws_config::Region::new(r)),
        None => loader.region(RegionProviderChain::default_provider().or_else("us-east-1")),
    };
    if let Some(url) = endpoint {
        loader = loader.endpoint_url(url);
    }
    loader
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(OPERATION_TIMEOUT)
                .connect_timeout(CONNECT_TIMEOUT)
                .build(),
        )
        .load()
        .await
}
