//! The prompt protocol between `keyfob credential-process` (the client) and
//! the desktop app (the server): one request and one answer per connection
//! on a Unix socket, each a line of JSON carrying the protocol version.
//!
//! ```text
//! → {"v":1,"ask":"pin","profile":"prod","identity":"work","mfa_serial":null,
//!    "requester":{"pid":4242,"exe":"/usr/bin/aws"}}
//! ← {"v":1,"answer":"pin","value":"…"}      or "mfa_code", or
//! ← {"v":1,"answer":"refused"}              or
//! ← {"v":1,"answer":"error","message":"…"}
//! ```
//!
//! An answer carries a PIN: [`Answer`] has no `Debug` and its values are
//! wiped on drop. A peer speaking another version is told so, by version
//! number, rather than misread.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

pub const VERSION: u32 = 1;

/// The socket's name inside keyfob's runtime folder.
pub const SOCKET_NAME: &str = "prompt.sock";

/// The longest line either side reads; a PIN is at most 1 KiB.
pub const MAX_LINE: usize = 64 * 1024;

pub fn socket_path(runtime_dir: &Path) -> PathBuf {
    runtime_dir.join(SOCKET_NAME)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AskKind {
    Pin,
    MfaCode,
}

/// The program that asked for credentials, as the client sees it: its
/// parent process (the AWS CLI, an SDK, a shell).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requester {
    pub pid: u32,
    pub exe: Option<String>,
}

/// What the client asks. Nothing secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub v: u32,
    pub ask: AskKind,
    pub profile: String,
    pub identity: String,
    pub mfa_serial: Option<String>,
    pub requester: Requester,
}

/// What the app answers. No `Debug`: it can carry a PIN.
#[derive(Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum Answer {
    Pin { value: Zeroizing<String> },
    MfaCode { value: String },
    Refused,
    Error { message: String },
}

/// An answer with its version, as sent on the wire.
#[derive(Serialize, Deserialize)]
pub struct AnswerLine {
    pub v: u32,
    #[serde(flatten)]
    pub answer: Answer,
}

/// Only the version, to read a line from a peer of another version.
#[derive(Deserialize)]
pub struct VersionOnly {
    pub v: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_format() {
        let req = Request {
            v: VERSION,
            ask: AskKind::MfaCode,
            profile: "prod".into(),
            identity: "work".into(),
            mfa_serial: Some("arn:aws:iam::123456789012:mfa/work".into()),
            requester: Requester {
                pid: 42,
                exe: Some("/usr/bin/aws".into()),
            },
        };
        let text = serde_json::to_string(&req).unwrap();
        assert!(
            text.starts_with(r#"{"v":1,"ask":"mfa_code","profile":"prod""#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<Request>(&text).unwrap(), req);

        let line = AnswerLine {
            v: VERSION,
            answer: Answer::Pin {
                value: Zeroizing::new("123456".into()),
            },
        };
        assert_eq!(
            serde_json::to_string(&line).unwrap(),
            r#"{"v":1,"answer":"pin","value":"123456"}"#
        );
        let refused: AnswerLine = serde_json::from_str(r#"{"v":1,"answer":"refused"}"#).unwrap();
        assert!(matches!(refused.answer, Answer::Refused));
        let v2: VersionOnly = serde_json::from_str(r#"{"v":2,"answer":"new-thing"}"#).unwrap();
        assert_eq!(v2.v, 2);
    }
}
