//! The container credentials endpoint: what `keyfob exec --server` and
//! `keyfob serve` run for tools that cannot run `credential_process`
//! (containers, old SDKs, Java and Go programs).
//!
//! Every AWS SDK reads `AWS_CONTAINER_CREDENTIALS_FULL_URI` and sends
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN` verbatim as the `Authorization`
//! header of a GET to it (botocore's `ContainerProvider`, the JS SDK's
//! `fromHttp`, the Go and Rust SDKs' ECS providers); the answer is
//! `{"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}` with an
//! RFC 3339 expiration. Over plain http the SDKs accept only a loopback
//! host (and ECS/EKS's link-local addresses), so the endpoint listens on
//! 127.0.0.1 unless told otherwise.
//!
//! This module owns the token ([`Token`]), the HTTP endpoint
//! ([`Endpoint`]: hyper 1.x on a current-thread tokio runtime in a thread
//! of its own) and the held session, which it replaces before it expires
//! by calling back into the core ([`serve_profile`]: the cache, else the
//! agent, never a prompt). Nothing here runs on the `credential-process`
//! path.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use zeroize::Zeroizing;

use crate::app::Keyfob;
use crate::config::profile::Profile;
use crate::model::session::{REFRESH_WINDOW, Session};

/// The variable naming the endpoint (a full http URL).
pub const FULL_URI_VAR: &str = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
/// The variable carrying the token the SDKs send as `Authorization`.
pub const TOKEN_VAR: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
/// Variables that would send an SDK elsewhere (botocore reads a relative
/// URI before a full one, and a token file before the token): unset for
/// `exec --server`'s command, as are [`crate::app::CLEARED`].
pub const CONTAINER_CLEARED: &[&str] = &[
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    FULL_URI_VAR,
    TOKEN_VAR,
];
/// The one path served.
pub const PATH: &str = "/credentials";
/// A request's head (request line and headers) may not be larger: an SDK
/// sends a few hundred bytes. 8 KiB is hyper's smallest buffer.
const MAX_HEAD_BYTES: usize = 8192;
/// A client must send its request head within this long.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// After a failed refresh, the next request retries no sooner than this.
const RETRY_AFTER: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the operating system gave no random bytes for the endpoint's token")]
    Random,
    #[error("cannot start the credentials endpoint: {0}")]
    Start(std::io::Error),
}

/// The per-run secret a client must send: 32 bytes from the OS's CSPRNG,
/// as 64 hex digits (header-safe). Wiped on drop, `[REDACTED]` in `Debug`,
/// compared in constant time.
pub struct Token(Zeroizing<String>);

impl Token {
    pub fn generate() -> Result<Token, ContainerError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut *bytes).map_err(|_| ContainerError::Random)?;
        Ok(Token(Zeroizing::new(hex::encode(*bytes))))
    }

    /// The raw token, for the command's environment or the printed lines.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `presented` is exactly the token. The time taken does not
    /// depend on where the two differ (only on their lengths, which are
    /// not secret).
    pub fn matches(&self, presented: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        self.0.as_bytes().ct_eq(presented).into()
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token([REDACTED])")
    }
}

/// The endpoint's answer: the names botocore's container provider reads
/// (`AccessKeyId`, `SecretAccessKey`, `Token`, `Expiration`), as do the
/// other SDKs.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ContainerJson<'a> {
    access_key_id: &'a str,
    secret_access_key: &'a str,
    token: &'a str,
    expiration: &'a str,
}

/// The container JSON for `session`, in a buffer wiped on drop.
pub fn container_json(session: &Session) -> Zeroizing<Vec<u8>> {
    // Rfc3339 formats any UTC date between years 0 and 9999.
    let expiration = session
        .expiration
        .format(&Rfc3339)
        .expect("an STS expiration formats as RFC 3339");
    let out = ContainerJson {
        access_key_id: &session.access_key_id,
        secret_access_key: session.secret_access_key.expose(),
        token: session.session_token.expose(),
        expiration: &expiration,
    };
    // Reserved up front so the buffer never reallocates (which would free
    // an unwiped partial copy of the secrets).
    let capacity = 128
        + session.access_key_id.len()
        + session.secret_access_key.expose().len()
        + session.session_token.expose().len();
    let mut buf = Zeroizing::new(Vec::with_capacity(capacity));
    // Serialising borrowed strings into a Vec cannot fail.
    serde_json::to_writer(&mut *buf, &out).expect("container JSON serialises");
    buf
}

/// Gets a new session when the held one nears its end; the error is a
/// message for the log and the client (no secrets).
pub type Refresh = Box<dyn Fn() -> Result<Session, String> + Send + Sync>;

/// The session the endpoint hands out, and how to replace it.
struct Keeper {
    refresh: Refresh,
    held: Mutex<Held>,
}

struct Held {
    session: Session,
    /// When this process got it (a cached session may be older).
    got: OffsetDateTime,
    failed: Option<(Instant, String)>,
}

/// Whether a session got at `got` should be replaced at `now`: when less
/// than 15 minutes (botocore's advisory refresh window), or half the life
/// it had when we got it, is left. The half keeps a short session (a
/// 15-minute role) from being replaced on every request.
fn due(session: &Session, got: OffsetDateTime, now: OffsetDateTime) -> bool {
    let life: Duration = (session.expiration - got).try_into().unwrap_or_default();
    session.remaining(now) <= REFRESH_WINDOW.min(life / 2)
}

impl Keeper {
    /// The answer to one authorised request: the held session, replaced
    /// first when it is due. Concurrent requests wait for one refresh.
    fn answer(&self) -> Result<Zeroizing<Vec<u8>>, String> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let now = OffsetDateTime::now_utc();
        let may_try = held
            .failed
            .as_ref()
            .is_none_or(|(at, _)| at.elapsed() >= RETRY_AFTER);
        if due(&held.session, held.got, now) && may_try {
            match (self.refresh)() {
                Ok(session) => {
                    tracing::info!(
                        expires = %session.expiration.format(&Rfc3339).unwrap_or_default(),
                        "container endpoint: new session"
                    );
                    held.session = session;
                    held.got = OffsetDateTime::now_utc();
                    held.failed = None;
                }
                Err(message) => {
                    tracing::warn!("container endpoint: could not refresh the session: {message}");
                    held.failed = Some((Instant::now(), message));
                }
            }
        }
        if held.session.remaining(OffsetDateTime::now_utc()).is_zero() {
            return Err(match &held.failed {
                Some((_, message)) => format!("the session has expired: {message}"),
                None => "the session has expired".into(),
            });
        }
        Ok(container_json(&held.session))
    }
}

struct Shared {
    token: Token,
    keeper: Keeper,
}

/// A running endpoint. Dropping it (or [`Endpoint::stop`]) ends it.
pub struct Endpoint {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("addr", &self.addr)
            .field("token", &self.shared.token)
            .finish()
    }
}

impl Endpoint {
    /// Listens on `bind` (port 0: one the OS picks) and serves `first`,
    /// then what `refresh` returns, to requests carrying a fresh random
    /// token.
    pub fn start(
        bind: SocketAddr,
        first: Session,
        refresh: Refresh,
    ) -> Result<Endpoint, ContainerError> {
        let token = Token::generate()?;
        let bind_err = |source| ContainerError::Bind { addr: bind, source };
        let listener = std::net::TcpListener::bind(bind).map_err(bind_err)?;
        listener.set_nonblocking(true).map_err(bind_err)?;
        let addr = listener.local_addr().map_err(bind_err)?;
        let shared = Arc::new(Shared {
            token,
            keeper: Keeper {
                refresh,
                held: Mutex::new(Held {
                    session: first,
                    got: OffsetDateTime::now_utc(),
                    failed: None,
                }),
            },
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(ContainerError::Start)?;
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let served = shared.clone();
        let thread = std::thread::Builder::new()
            .name("keyfob-endpoint".into())
            .spawn(move || {
                runtime.block_on(accept(listener, served, stopped));
                // A refresh may be waiting on a session lock: do not wait
                // for it.
                runtime.shutdown_timeout(Duration::from_secs(1));
            })
            .map_err(ContainerError::Start)?;
        Ok(Endpoint {
            addr,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL for [`FULL_URI_VAR`]. An unspecified bind address (0.0.0.0,
    /// ::) is reached on this machine through loopback.
    pub fn full_uri(&self) -> String {
        let ip = match self.addr.ip() {
            std::net::IpAddr::V4(ip) if ip.is_unspecified() => {
                std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
            }
            std::net::IpAddr::V6(ip) if ip.is_unspecified() => {
                std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)
            }
            ip => ip,
        };
        format!("http://{}{PATH}", SocketAddr::new(ip, self.addr.port()))
    }

    /// The token for [`TOKEN_VAR`].
    pub fn token(&self) -> &Token {
        &self.shared.token
    }

    /// Serves until the process ends (`keyfob serve`).
    pub fn wait(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// Stops listening and ends the endpoint's thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Serves `profile`'s sessions, starting with `first` (got by the face,
/// with its prompt chain). Later sessions come from the cache or the agent
/// with no prompter: a profile whose identity session has ended fails with
/// the unlock hint, and the endpoint picks up the session `keyfob unlock`
/// makes.
pub fn serve_profile(
    kf: Keyfob,
    profile: Profile,
    first: Session,
    bind: SocketAddr,
) -> Result<Endpoint, ContainerError> {
    let refresh: Refresh = Box::new(move || {
        crate::app::session(&kf, &profile, false, None).map_err(|e| e.to_string())
    });
    Endpoint::start(bind, first, refresh)
}

async fn accept(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("container endpoint: cannot listen: {e}");
            return;
        }
    };
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    tokio::spawn(connection(stream, peer, shared.clone()));
                }
                Err(e) => {
                    // E.g. out of file descriptors: try again shortly.
                    tracing::warn!("container endpoint: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
}

async fn connection(stream: tokio::net::TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    let service = hyper::service::service_fn(move |req| {
        let shared = shared.clone();
        async move { Ok::<_, Infallible>(handle(shared, peer, req).await) }
    });
    let served = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .max_buf_size(MAX_HEAD_BYTES)
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
        .await;
    if let Err(e) = served {
        tracing::debug!("container endpoint: connection from {peer}: {e}");
    }
}

fn reply(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({ "message": message }).to_string();
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// One request: the token first (so nothing else is told to a caller
/// without it), then only GET on [`PATH`] without a body.
async fn handle(
    shared: Arc<Shared>,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    match req.headers().get(header::AUTHORIZATION) {
        None => {
            tracing::warn!(
                "container endpoint: refused {method} from {peer}: no Authorization header"
            );
            return reply(
                StatusCode::UNAUTHORIZED,
                "an Authorization token is required",
            );
        }
        Some(value) if !shared.token.matches(value.as_bytes()) => {
            tracing::warn!("container endpoint: refused {method} from {peer}: wrong token");
            return reply(StatusCode::FORBIDDEN, "wrong Authorization token");
        }
        Some(_) => {}
    }
    if method != Method::GET {
        let mut response = reply(StatusCode::METHOD_NOT_ALLOWED, "only GET is served");
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET"));
        return response;
    }
    if req.uri().path() != PATH {
        return reply(StatusCode::NOT_FOUND, "no such path");
    }
    let has_body = req.headers().contains_key(header::TRANSFER_ENCODING)
        || req
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0");
    if has_body {
        return reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            "a credentials request has no body",
        );
    }
    // The refresh calls blocking code (the cache, the agent's socket, STS
    // on its own runtime): off this runtime's one thread.
    let answer = tokio::task::spawn_blocking(move || shared.keeper.answer()).await;
    match answer {
        Ok(Ok(mut json)) => {
            let mut response = Response::new(Full::new(Bytes::from(std::mem::take(&mut *json))));
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Ok(Err(message)) => {
            tracing::warn!("container endpoint: no session to serve: {message}");
            reply(StatusCode::SERVICE_UNAVAILABLE, &message)
        }
        Err(_) => reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the session could not be read",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::secret::{SecretAccessKey, SessionToken};

    fn session(expiration: OffsetDateTime) -> Session {
        Session {
            access_key_id: "ASIAEXAMPLE123456789".into(),
            secret_access_key: SecretAccessKey::new("s3cr3t/with+\"quote".into()),
            session_token: SessionToken::new("token\\with\nescapes".into()),
            expiration,
            endpoints: Default::default(),
        }
    }

    #[test]
    fn tokens_are_random_redacted_and_compared_exactly() {
        let a = Token::generate().unwrap();
        let b = Token::generate().unwrap();
        assert_eq!(a.expose().len(), 64);
        assert_ne!(a.expose(), b.expose());
        assert!(a.matches(a.expose().as_bytes()));
        assert!(!a.matches(b.expose().as_bytes()));
        assert!(!a.matches(&a.expose().as_bytes()[..63]));
        assert!(!a.matches(format!("{}0", a.expose()).as_bytes()));
        assert!(!a.matches(b""));
        assert_eq!(format!("{a:?}"), "Token([REDACTED])");
    }

    #[test]
    fn the_json_has_the_names_the_sdks_read() {
        let s = session(OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap());
        let json = container_json(&s);
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["AccessKeyId", "Expiration", "SecretAccessKey", "Token"]
        );
        assert_eq!(v["SecretAccessKey"], "s3cr3t/with+\"quote");
        assert_eq!(v["Token"], "token\\with\nescapes");
        assert_eq!(v["Expiration"], "2030-03-17T17:46:40Z");
    }

    #[test]
    fn a_session_is_replaced_at_15_minutes_or_half_its_life() {
        let now = OffsetDateTime::now_utc();
        let min = |m: i64| time::Duration::minutes(m);
        // 12 h got now: due with 15 minutes left, not before.
        let long = session(now + min(720));
        assert!(!due(&long, now, now + min(700)));
        assert!(due(&long, now, now + min(705)));
        // A 15-minute role session: due at half its life, not at once.
        let short = session(now + min(15));
        assert!(!due(&short, now, now));
        assert!(!due(&short, now, now + min(7)));
        assert!(due(&short, now, now + min(8)));
        // Expired: due.
        assert!(due(&short, now, now + min(20)));
    }

    #[test]
    fn a_failed_refresh_serves_the_held_session_until_it_ends() {
        let now = OffsetDateTime::now_utc();
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = calls.clone();
        let keeper = Keeper {
            refresh: Box::new(move || {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Err("profile p is locked — run 'keyfob unlock p'".into())
            }),
            held: Mutex::new(Held {
                session: session(now + time::Duration::minutes(5)),
                got: now - time::Duration::minutes(55),
                failed: None,
            }),
        };
        // Due (5 of 60 minutes left): the refresh fails, the held one is served.
        assert!(keeper.answer().is_ok());
        // Retried no sooner than RETRY_AFTER.
        assert!(keeper.answer().is_ok());
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
        // Once it has ended: the error, with the unlock hint.
        keeper.held.lock().unwrap().session.expiration = now - time::Duration::seconds(1);
        let err = keeper.answer().unwrap_err();
        assert!(
            err.contains("expired") && err.contains("keyfob unlock p"),
            "{err}"
        );
    }
}
