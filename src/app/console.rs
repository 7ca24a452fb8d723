//! Console sign-in (`keyfob login`): a session's credentials are exchanged
//! at AWS's federation endpoint for a sign-in token
//! (`Action=getSigninToken`), and the sign-in URL built from it
//! (`Action=login`) opens the AWS Management Console as that session.
//! This follows "Enable custom identity broker access to the AWS console"
//! in the IAM user guide (`id_roles_providers_enable-console-custom-url`).
//!
//! The endpoint is the partition's (`https://signin.aws.amazon.com/federation`
//! for `aws`), or `/federation` under the identity's endpoint URL (fixed
//! when it was added, see [`crate::model::endpoints`]), as
//! for STS and IAM, which is also how the tests reach their emulator.
//!
//! The sign-in URL is a bearer credential for 15 minutes. It is never
//! logged and never put on a command line: [`open_in_browser`] sends the
//! browser to a one-shot redirect on 127.0.0.1 whose path is a random
//! nonce, and only that local address goes through `xdg-open` (or the
//! platform's equivalent).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::model::field::{Field, FieldError};
use crate::model::limits;
use crate::model::session::Session;

/// Who the sign-in URL says sent the person (shown by AWS on errors).
const ISSUER: &str = "keyfob";
/// The longest answer read from the federation endpoint.
const MAX_ANSWER: usize = 64 * 1024;
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the one-shot redirect waits for the browser.
pub const BROWSER_WAIT: Duration = Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error("the federation endpoint {endpoint} refused the sign-in ({status}): {message}")]
    Refused {
        endpoint: String,
        status: u16,
        message: String,
    },
    #[error("cannot reach the federation endpoint {endpoint}: {message}")]
    Unreachable { endpoint: String, message: String },
    #[error(
        "could not open a browser ({message}) — `keyfob login PROFILE --stdout` prints the sign-in URL instead"
    )]
    Browser { message: String },
    #[error("the browser did not fetch the sign-in page within {} s — run `keyfob login` again, or use --stdout", .0.as_secs())]
    BrowserTimeout(Duration),
}

/// Where AWS's sign-in and console live in one partition.
struct Partition {
    signin: &'static str,
    /// The console's host; region consoles are `REGION.` + this.
    console_host: &'static str,
}

fn partition(name: &str) -> Partition {
    match name {
        "aws-us-gov" => Partition {
            signin: "https://signin.amazonaws-us-gov.com/federation",
            console_host: "console.amazonaws-us-gov.com",
        },
        "aws-cn" => Partition {
            signin: "https://signin.amazonaws.cn/federation",
            console_host: "console.amazonaws.cn",
        },
        _ => Partition {
            signin: "https://signin.aws.amazon.com/federation",
            console_host: "console.aws.amazon.com",
        },
    }
}

/// The federation endpoint a session made at `endpoints` signs in at:
/// `/federation` under the identity's endpoint URL, else the partition's.
pub fn federation_endpoint(
    endpoints: &crate::model::endpoints::Endpoints,
    partition_name: &str,
) -> String {
    endpoints
        .federation_base()
        .unwrap_or_else(|| partition(partition_name).signin.to_owned())
}

/// Where the console opens: `given` (checked to be an https URL of the
/// partition's console), else the console home of `region`, else the
/// console's front page.
pub fn destination(
    partition_name: &str,
    region: Option<&str>,
    given: Option<&str>,
) -> Result<String, FieldError> {
    let p = partition(partition_name);
    if let Some(given) = given {
        let refuse = |why: &str| {
            Err(FieldError::new(
                Field::Destination,
                format!(
                    "{why}; expected an https URL on {} or a subdomain, e.g. https://{}/s3/home",
                    p.console_host, p.console_host
                ),
            ))
        };
        let Ok(url) = url::Url::parse(given) else {
            return refuse("is not a URL");
        };
        let host = url.host_str().unwrap_or_default();
        if url.scheme() != "https" {
            return refuse("must use https");
        }
        if !(host == p.console_host || host.ends_with(&format!(".{}", p.console_host))) {
            return refuse(&format!("{host} is not an AWS console host"));
        }
        return Ok(url.into());
    }
    Ok(match region {
        Some(r) => {
            limits::region(r)?;
            format!("https://{r}.{}/console/home?region={r}", p.console_host)
        }
        None => format!("https://{}/", p.console_host),
    })
}

/// How long the console session may last, for `getSigninToken`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsoleDuration {
    /// Let AWS decide (1 hour for role sessions; a federated user's
    /// session lasts as long as its credentials).
    Default,
    /// `SessionDuration`, 900–43200 s: only for a role session that is not
    /// chained (AWS refuses it for the others).
    Seconds(u64),
}

/// Exchanges `session` for a sign-in token and returns the sign-in URL.
pub fn signin_url(
    endpoint: &str,
    session: &Session,
    duration: ConsoleDuration,
    destination: &str,
) -> Result<Zeroizing<String>, ConsoleError> {
    // The session JSON the endpoint takes: three keys, by these names.
    let session_json = Zeroizing::new(
        serde_json::json!({
            "sessionId": session.access_key_id,
            "sessionKey": session.secret_access_key.expose(),
            "sessionToken": session.session_token.expose(),
        })
        .to_string(),
    );
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("Action", "getSigninToken");
    if let ConsoleDuration::Seconds(secs) = duration {
        query.append_pair("SessionDuration", &secs.to_string());
    }
    query.append_pair("Session", &session_json);
    let request = Zeroizing::new(format!("{endpoint}?{}", query.finish()));
    drop(session_json);

    let (status, body) = http_get(endpoint, &request)?;
    let body = Zeroizing::new(body);
    let token = (status == 200)
        .then(|| serde_json::from_slice::<serde_json::Value>(&body).ok())
        .flatten()
        .and_then(|v| {
            v.get("SigninToken")?
                .as_str()
                .map(|t| Zeroizing::new(t.to_owned()))
        });
    let Some(token) = token else {
        // AWS answers refusals with a short text or HTML page; show its
        // first line (it never holds the token, which is only in a 200).
        let text = String::from_utf8_lossy(&body);
        let message = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("no sign-in token in the answer")
            .chars()
            .take(200)
            .collect();
        return Err(ConsoleError::Refused {
            endpoint: endpoint.to_owned(),
            status,
            message,
        });
    };
    let mut login = url::form_urlencoded::Serializer::new(String::new());
    login.append_pair("Action", "login");
    login.append_pair("Issuer", ISSUER);
    login.append_pair("Destination", destination);
    login.append_pair("SigninToken", &token);
    Ok(Zeroizing::new(format!("{endpoint}?{}", login.finish())))
}

/// GETs `url` (whose query holds credentials: never logged), returning
/// the status and at most [`MAX_ANSWER`] bytes of the body.
fn http_get(endpoint: &str, url: &str) -> Result<(u16, Vec<u8>), ConsoleError> {
    let unreachable = |message: String| ConsoleError::Unreachable {
        endpoint: endpoint.to_owned(),
        message,
    };
    let uri: hyper::Uri = url
        .parse()
        .map_err(|_| unreachable("not a valid URL".into()))?;
    let request = hyper::Request::get(uri)
        .header("user-agent", crate::aws::http::USER_AGENT)
        .body(Full::<Bytes>::default())
        .map_err(|e| unreachable(e.to_string()))?;
    crate::aws::http::exchange(request, MAX_ANSWER, HTTP_TIMEOUT).map_err(unreachable)
}

/// Which browser opens the console.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Browser {
    /// The desktop's default browser (`xdg-open` and the like).
    Default,
    /// A browser profile of one AWS account's own, so consoles of two
    /// accounts can be open side by side (the console keeps one sign-in
    /// per browser profile): a Chromium-family browser with
    /// `--user-data-dir=DIR`, or Firefox with `--profile DIR`.
    Isolated {
        program: PathBuf,
        firefox: bool,
        dir: PathBuf,
    },
}

/// Browsers that take a profile folder on their command line, in the
/// order they are looked for on PATH (after `$BROWSER`).
const PROFILE_BROWSERS: &[&str] = &[
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "brave-browser",
    "microsoft-edge",
    "firefox",
];

/// The isolated browser for `account`: `$BROWSER` when it is one of
/// [`PROFILE_BROWSERS`], else the first of them on PATH; its profile folder
/// is `profiles_dir/ACCOUNT` (made, private to the user).
pub fn isolated_browser(profiles_dir: &Path, account: &str) -> Result<Browser, ConsoleError> {
    let browser = |message: String| ConsoleError::Browser { message };
    // It becomes a folder name: 12 digits, or nothing is made of it (an
    // answer or a record naming `../x` would point outside).
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(browser(format!(
            "{account:?} is not a 12-digit AWS account ID; no browser profile is made for it"
        )));
    }
    let known = |name: &str| PROFILE_BROWSERS.contains(&name);
    let on_path = |name: &str| -> Option<PathBuf> {
        std::env::split_paths(&std::env::var_os("PATH")?)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    };
    let from_env = std::env::var("BROWSER").ok().and_then(|b| {
        let path = PathBuf::from(&b);
        let name = path.file_name()?.to_str()?.to_owned();
        known(&name).then(|| {
            if path.is_absolute() {
                Some(path)
            } else {
                on_path(&name)
            }
        })?
    });
    let program = from_env
        .or_else(|| PROFILE_BROWSERS.iter().find_map(|b| on_path(b)))
        .ok_or_else(|| {
            browser(format!(
                "a browser profile per account needs one of {} on PATH (or $BROWSER naming one)",
                PROFILE_BROWSERS.join(", ")
            ))
        })?;
    let firefox = program
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("firefox"));
    let dir = profiles_dir.join(account);
    crate::platform::paths::private_dir(&dir)
        .map_err(|e| browser(format!("{}: {e}", dir.display())))?;
    Ok(Browser::Isolated {
        program,
        firefox,
        dir,
    })
}

/// Opens `local` (the one-shot redirect) in `browser`, without waiting.
fn launch(browser: &Browser, local: &str) -> Result<(), ConsoleError> {
    let failed = |e: std::io::Error| ConsoleError::Browser {
        message: e.to_string(),
    };
    match browser {
        Browser::Default => open::that_detached(local).map_err(failed),
        Browser::Isolated {
            program,
            firefox,
            dir,
        } => {
            let mut cmd = std::process::Command::new(program);
            if *firefox {
                cmd.arg("--profile").arg(dir).arg("--new-tab");
            } else {
                cmd.arg(format!("--user-data-dir={}", dir.display()))
                    .arg("--no-first-run")
                    .arg("--new-window");
            }
            cmd.arg(local)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .map(drop)
                .map_err(failed)
        }
    }
}

/// Opens the sign-in URL in `browser` without putting it on a command
/// line: the browser is given `http://127.0.0.1:PORT/NONCE`, and the first
/// request for that path is answered with a redirect to `url`; then the
/// listener closes. Other paths get 404. Waits at most `wait`.
pub fn open_in_browser(
    url: &Zeroizing<String>,
    browser: &Browser,
    wait: Duration,
) -> Result<(), ConsoleError> {
    let failed = |message: String| ConsoleError::Browser { message };
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| failed(format!("local redirect: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| failed(e.to_string()))?
        .port();
    let mut nonce = [0u8; 32];
    getrandom::fill(&mut nonce).map_err(|e| failed(format!("no randomness: {e}")))?;
    let nonce = Zeroizing::new(hex::encode(nonce));
    let local = Zeroizing::new(format!("http://127.0.0.1:{port}/{}", nonce.as_str()));
    listener
        .set_nonblocking(true)
        .map_err(|e| failed(e.to_string()))?;
    launch(browser, local.as_str())?;

    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        match listener.accept() {
            Ok((stream, _)) => {
                if answer(stream, &nonce, url) {
                    return Ok(());
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(failed(format!("local redirect: {e}"))),
        }
    }
    Err(ConsoleError::BrowserTimeout(wait))
}

/// Answers one request on the redirect: true when it was the nonce's (and
/// the redirect was sent).
fn answer(mut stream: TcpStream, nonce: &str, url: &str) -> bool {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Zeroizing::new(Vec::with_capacity(1024));
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 8192 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    // Only this user's programs: the address is on the browser's command
    // line, which every local user can read in /proc, and the first to
    // fetch it would win the sign-in.
    let owner = crate::platform::loopback::peer_owner(&stream);
    if owner != Some(rustix::process::getuid().as_raw()) {
        tracing::warn!(
            ?owner,
            "refused the console redirect to another user's connection"
        );
        let _ = stream
            .write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return false;
    }
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let mut parts = line.split(|&b| b == b' ');
    let (method, path) = (parts.next(), parts.next().unwrap_or_default());
    let expected = format!("/{nonce}");
    let ours = method == Some(b"GET".as_slice())
        && path.len() == expected.len()
        && bool::from(path.ct_eq(expected.as_bytes()));
    let response = if ours {
        Zeroizing::new(format!(
            "HTTP/1.1 302 Found\r\nLocation: {url}\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ))
    } else {
        Zeroizing::new(
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned(),
        )
    };
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.flush();
    ours
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_are_console_urls_of_the_partition() {
        assert_eq!(
            destination("aws", None, None).unwrap(),
            "https://console.aws.amazon.com/"
        );
        assert_eq!(
            destination("aws", Some("eu-west-1"), None).unwrap(),
            "https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1"
        );
        assert_eq!(
            destination("aws-us-gov", None, None).unwrap(),
            "https://console.amazonaws-us-gov.com/"
        );
        assert!(
            destination(
                "aws",
                None,
                Some("https://s3.console.aws.amazon.com/s3/home")
            )
            .is_ok()
        );
        for bad in [
            "https://docs.aws.amazon.com/",
            "http://console.aws.amazon.com/",
            "https://evil.example/",
            "https://aws.amazon.com.evil.example/",
            "console.aws.amazon.com",
            "javascript:alert(1)",
        ] {
            let e = destination("aws", None, Some(bad)).unwrap_err();
            assert_eq!(e.field, Field::Destination, "{bad}");
        }
        assert_eq!(
            destination("aws", Some("mars"), None).unwrap_err().field,
            Field::Region
        );
    }

    #[test]
    fn a_failed_exchange_names_the_endpoint_and_never_the_session() {
        use crate::model::secret::{SecretAccessKey, SessionToken};
        let session = Session {
            access_key_id: "ASIAEXAMPLEEXAMPLE12".into(),
            secret_access_key: SecretAccessKey::new("secret-Sh0uld-N3ver-Show".into()),
            session_token: SessionToken::new("token-Sh0uld-N3ver-Show".into()),
            expiration: time::OffsetDateTime::now_utc(),
            endpoints: Default::default(),
        };
        // Port 1 on loopback: nothing listens there.
        let endpoint = "http://127.0.0.1:1/federation";
        let err = signin_url(
            endpoint,
            &session,
            ConsoleDuration::Default,
            "https://console.aws.amazon.com/",
        )
        .unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(matches!(err, ConsoleError::Unreachable { .. }), "{text}");
        assert!(text.contains(endpoint), "{text}");
        for secret in ["Sh0uld-N3ver-Show", "ASIAEXAMPLE", "getSigninToken"] {
            assert!(!text.contains(secret), "{text}");
        }
    }

    #[test]
    fn the_redirect_answers_only_its_nonce_once() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let client = std::thread::spawn(move || {
            let get = |path: &str| {
                let mut s = TcpStream::connect(addr).unwrap();
                write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
                let mut out = String::new();
                s.read_to_string(&mut out).unwrap();
                out
            };
            (get("/wrong"), get("/abcd"))
        });
        let url = "https://signin.aws.amazon.com/federation?Action=login&SigninToken=t";
        let (first, _) = listener.accept().unwrap();
        assert!(!answer(first, "abcd", url));
        let (second, _) = listener.accept().unwrap();
        assert!(answer(second, "abcd", url));
        let (wrong, right) = client.join().unwrap();
        assert!(wrong.starts_with("HTTP/1.1 404"), "{wrong}");
        assert!(!wrong.contains("SigninToken"));
        assert!(right.starts_with("HTTP/1.1 302"), "{right}");
        assert!(right.contains(&format!("Location: {url}\r\n")), "{right}");
    }
}
