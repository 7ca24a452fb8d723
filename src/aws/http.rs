//! One HTTP exchange outside the SDK, on the hyper/rustls (ring) stack the
//! SDK already builds: for endpoints that have no SDK client here (the
//! console's federation endpoint, AWS Sign-In's OAuth endpoints).
//!
//! The request may hold credentials (a sign-in token in a query, a refresh
//! token in a body): nothing here logs it, and an error names only what
//! failed, never the request.

use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;

/// The user agent of keyfob's own requests.
pub const USER_AGENT: &str = concat!("keyfob/", env!("CARGO_PKG_VERSION"));

/// Sends `request`, returning the status and at most `max` bytes of the
/// body, within `timeout`. The error is a sentence without the request.
pub fn exchange(
    request: hyper::Request<Full<Bytes>>,
    max: usize,
    timeout: Duration,
) -> Result<(u16, Vec<u8>), String> {
    super::block_on(async {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| format!("no TLS roots: {e}"))?
            .https_or_http()
            .enable_http1()
            .build();
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(https);
        let exchange = async {
            let response = client
                .request(request)
                .await
                // The error names the host, never the request.
                .map_err(|e| super::error_chain(&e))?;
            let status = response.status().as_u16();
            let body = Limited::new(response.into_body(), max)
                .collect()
                .await
                .map_err(|e| format!("reading the answer: {e}"))?
                .to_bytes();
            Ok((status, body.to_vec()))
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| format!("no answer in {} s", timeout.as_secs()))?
    })
    .map_err(|e| e.to_string())?
}
