//! The loopback listener of Identity Center's browser sign-in (RFC 8252
//! 7.3): where the browser brings the authorization code back.
//!
//! It listens on 127.0.0.1 only, on a port the system picks, and answers
//! on [`CALLBACK_PATH`]: one redirect that carries this sign-in's `state`
//! ends the wait, with the code or the refusal it carries; a redirect with
//! another state is refused (the browser sees a 400 page) and ends the
//! sign-in without redeeming anything, since only a page that did not
//! come from this sign-in's authorize URL sends one. Other paths (a
//! browser's `/favicon.ico`) get a 404, and another user's connections a
//! 403 ([`crate::platform::loopback`]); the wait goes on, up to a deadline
//! and while the face has not cancelled.
//!
//! Written on `std::net` rather than hyper: it reads one request head
//! (capped at [`MAX_HEAD`]) and needs only its request line; the query is
//! parsed by `url`. Nothing it logs or returns holds the code.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use super::sso::SsoError;
use super::sso_pkce::CALLBACK_PATH;
use crate::model::secret::AuthCode;

/// How long a sign-in waits for the browser at most (the person signs in
/// to the portal meanwhile, maybe with MFA).
pub const BROWSER_WAIT: Duration = Duration::from_secs(300);

/// The longest request head read; a redirect with a code and a state is
/// well under 2 KiB.
const MAX_HEAD: usize = 8 * 1024;

/// How long one connection may take to send its request head.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// How often the wait looks whether it was cancelled.
const TICK: Duration = Duration::from_millis(100);

/// A bound listener, waiting for the one redirect of a sign-in.
pub struct Loopback {
    listener: TcpListener,
    port: u16,
}

impl Loopback {
    /// Listens on 127.0.0.1 on a port the system picks.
    pub fn bind() -> Result<Loopback, SsoError> {
        let listener =
            TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| loopback_error(&e))?;
        let port = listener
            .local_addr()
            .map_err(|e| loopback_error(&e))?
            .port();
        listener
            .set_nonblocking(true)
            .map_err(|e| loopback_error(&e))?;
        Ok(Loopback { listener, port })
    }

    /// The redirect URI for the authorize URL and CreateToken.
    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}{CALLBACK_PATH}", self.port)
    }

    /// Waits for the redirect that carries `state`, at most `wait`, and
    /// stops with [`SsoError::Cancelled`] soon after `cancelled` turns true.
    pub fn wait(
        self,
        state: &str,
        wait: Duration,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<AuthCode, SsoError> {
        let deadline = Instant::now() + wait;
        loop {
            if cancelled() {
                return Err(SsoError::Cancelled);
            }
            if Instant::now() >= deadline {
                return Err(SsoError::BrowserTimedOut {
                    secs: wait.as_secs(),
                });
            }
            match self.listener.accept() {
                Ok((stream, _)) => {
                    if let Some(done) = answer(stream, state) {
                        return done;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(TICK),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(loopback_error(&e)),
            }
        }
    }
}

fn loopback_error(e: &std::io::Error) -> SsoError {
    SsoError::Loopback {
        message: e.to_string(),
    }
}

/// Reads one request and answers it; `Some` when it ends the sign-in.
fn answer(mut stream: TcpStream, state: &str) -> Option<Result<AuthCode, SsoError>> {
    // The accepted socket may inherit non-blocking mode; one request is
    // read with a timeout instead.
    if stream.set_nonblocking(false).is_err()
        || stream.set_read_timeout(Some(READ_TIMEOUT)).is_err()
    {
        return None;
    }
    // Another local user's program (it may read the authorize URL, with
    // the state and the port, from the browser's command line in /proc):
    // refused, and the sign-in goes on waiting for the person's browser.
    if !crate::platform::loopback::peer_is_this_user(&stream) {
        tracing::warn!("refused a connection to the sign-in redirect from another user");
        reply(&mut stream, "403 Forbidden", "Not yours.");
        return None;
    }
    let Some(target) = request_target(&mut stream) else {
        reply(
            &mut stream,
            "400 Bad Request",
            "This is not a request keyfob understands.",
        );
        return None;
    };
    let Ok(url) = url::Url::parse(&format!("http://127.0.0.1{target}")) else {
        reply(
            &mut stream,
            "400 Bad Request",
            "This is not a request keyfob understands.",
        );
        return None;
    };
    if url.path() != CALLBACK_PATH {
        reply(&mut stream, "404 Not Found", "Nothing here.");
        return None;
    }
    let mut got_state = None;
    let mut code = None;
    let mut error = None;
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "state" => got_state = Some(v.into_owned()),
            "code" => code = Some(AuthCode::new(v.into_owned())),
            "error" => error = Some(v.into_owned()),
            _ => {}
        }
    }
    if got_state.as_deref() != Some(state) {
        reply(
            &mut stream,
            "400 Bad Request",
            "This answer does not belong to the sign-in keyfob is waiting for, so keyfob refused it and stopped that sign-in. Run the sign-in again.",
        );
        return Some(Err(SsoError::WrongState));
    }
    let done = match (code, error) {
        (_, Some(error)) => {
            reply(
                &mut stream,
                "200 OK",
                "The sign-in was not approved. You can close this tab; keyfob says what to do next.",
            );
            if error == "access_denied" {
                Err(SsoError::Denied)
            } else {
                Err(SsoError::BrowserRefused {
                    error: oauth_error_code(&error),
                })
            }
        }
        (Some(code), None) => {
            reply(
                &mut stream,
                "200 OK",
                "keyfob got the sign-in. You can close this tab and go back to keyfob.",
            );
            Ok(code)
        }
        (None, None) => {
            reply(
                &mut stream,
                "400 Bad Request",
                "This answer carries no sign-in.",
            );
            Err(SsoError::BrowserRefused {
                error: "no code".into(),
            })
        }
    };
    Some(done)
}

/// An OAuth error code as shown to the user: RFC 6749's charset for
/// `error` is printable ASCII; anything else is replaced, and the length
/// is capped, so a hostile page cannot write to the terminal.
fn oauth_error_code(error: &str) -> String {
    error
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// The request target of a `GET` request head, or `None`.
fn request_target(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
        if head.len() > MAX_HEAD {
            return None;
        }
    }
    let line = head.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?.trim_end();
    let mut parts = line.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    (method == "GET" && target.starts_with('/') && version.starts_with("HTTP/1."))
        .then(|| target.to_owned())
}

/// A plain page: no script, no external resource, not cached, and no
/// Referer with the code in it for anything the page could load.
fn reply(stream: &mut TcpStream, status: &str, text: &str) {
    let body = format!(
        "<!doctype html><meta charset=\"utf-8\"><title>keyfob sign-in</title><p>{text}</p>\n"
    );
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nContent-Security-Policy: default-src 'none'\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
    let _ = stream.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(port: u16, target: &str) -> String {
        let mut s = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
        write!(s, "GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    fn run(
        requests: &'static [&'static str],
        wait: Duration,
    ) -> (Result<AuthCode, SsoError>, Vec<String>) {
        let lb = Loopback::bind().unwrap();
        assert!(lb.redirect_uri().starts_with("http://127.0.0.1:"));
        assert!(lb.redirect_uri().ends_with("/oauth/callback"));
        let port = lb.port;
        let browser = std::thread::spawn(move || {
            requests
                .iter()
                .map(|r| get(port, r))
                .collect::<Vec<String>>()
        });
        let got = lb.wait("good-state", wait, &|| false);
        (got, browser.join().unwrap())
    }

    #[test]
    fn the_right_state_brings_the_code_after_other_paths_get_404() {
        let (got, pages) = run(
            &[
                "/favicon.ico",
                "/oauth/callback?code=the-code&state=good-state",
            ],
            Duration::from_secs(10),
        );
        assert_eq!(got.unwrap().expose(), "the-code");
        assert!(pages[0].starts_with("HTTP/1.1 404"), "{}", pages[0]);
        assert!(pages[1].starts_with("HTTP/1.1 200"), "{}", pages[1]);
        assert!(!pages[1].contains("the-code"));
    }

    #[test]
    fn a_wrong_or_missing_state_is_refused_and_ends_the_sign_in() {
        for target in [
            "/oauth/callback?code=c&state=other",
            "/oauth/callback?code=c",
        ] {
            let lb = Loopback::bind().unwrap();
            let port = lb.port;
            let page = std::thread::spawn(move || get(port, target));
            let got = lb.wait("good-state", Duration::from_secs(10), &|| false);
            assert!(matches!(got, Err(SsoError::WrongState)), "{target}");
            assert!(page.join().unwrap().starts_with("HTTP/1.1 400"));
        }
    }

    #[test]
    fn a_refusal_is_denied_and_other_errors_are_named_safely() {
        let (got, _) = run(
            &["/oauth/callback?error=access_denied&state=good-state"],
            Duration::from_secs(10),
        );
        assert!(matches!(got, Err(SsoError::Denied)));
        let (got, _) = run(
            &["/oauth/callback?error=bad%1b%5b2J&state=good-state"],
            Duration::from_secs(10),
        );
        match got {
            Err(SsoError::BrowserRefused { error }) => assert_eq!(error, "bad??2J"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_wait_ends_at_the_deadline_or_when_cancelled() {
        let lb = Loopback::bind().unwrap();
        let got = lb.wait("s", Duration::from_millis(300), &|| false);
        assert!(matches!(got, Err(SsoError::BrowserTimedOut { .. })));
        let lb = Loopback::bind().unwrap();
        let got = lb.wait("s", Duration::from_secs(30), &|| true);
        assert!(matches!(got, Err(SsoError::Cancelled)));
    }
}
