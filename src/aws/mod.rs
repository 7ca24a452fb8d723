//! Everything that talks to AWS. Every call names the [`Endpoints`] of the
//! identity it is made for: where it goes is the identity's, fixed when it
//! was added, never the environment of the process that makes it. Tests
//! reach the emulator the way a user of one would: by adding identities
//! with its URL.
//!
//! The SDK is async; keyfob is not. Each call builds a current-thread tokio
//! runtime for its duration, so the credential_process fast path (a cache
//! hit) never starts one.

pub mod config_file;
pub mod http;
pub mod iam;
pub mod signin;
pub mod sso;
pub mod sso_loopback;
pub mod sso_pkce;
pub mod sts;
pub mod wiring;

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};

use crate::model::endpoints::Endpoints;
use crate::model::secret::SecretAccessKey;

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

/// The SDK configuration for calls to `endpoints` with the given
/// credentials (none for Identity Center's unauthenticated calls).
///
/// Built field by field rather than by `aws_config`'s loader, which reads
/// `AWS_ENDPOINT_URL*`, `AWS_REGION` and the config file's `endpoint_url`
/// and `region`: an identity's calls go where the identity says
/// ([`crate::model::endpoints`]), whatever the environment of the process making
/// them. The HTTPS client is the SDK's default stack with ring as its
/// crypto ([`https_client`]); the client's own defaults supply the sleep
/// and the clock.
pub(crate) fn sdk_config(
    endpoints: &Endpoints,
    credentials: Option<(&str, &SecretAccessKey, Option<&str>)>,
) -> aws_config::SdkConfig {
    let mut builder = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(https_client())
        .region(aws_config::Region::new(endpoints.region.clone()))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(OPERATION_TIMEOUT)
                .connect_timeout(CONNECT_TIMEOUT)
                .build(),
        );
    if let Some((access_key_id, secret, session_token)) = credentials {
        builder = builder.credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            access_key_id,
            secret.expose(),
            session_token.map(str::to_owned),
            None,
            "keyfob",
        )));
    }
    if let Some(url) = &endpoints.url {
        builder = builder.endpoint_url(url.clone());
    }
    builder.build()
}

/// The SDK's default HTTPS client (hyper 1 and rustls with the system's
/// roots, proxies from `HTTPS_PROXY`/`NO_PROXY`, as
/// aws-smithy-runtime's `default_https_client` builds it), with ring in
/// place of aws-lc as rustls' crypto: one C library fewer to build.
pub fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
    use aws_smithy_http_client::{Builder, ConnectorBuilder};
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(CryptoMode::Ring));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}
