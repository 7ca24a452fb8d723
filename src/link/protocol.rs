//! The agent's wire protocol: one JSON object per line on a Unix socket,
//! each carrying the protocol version `v`. A connection carries one
//! request; a `session` request may be a short conversation, in which the
//! agent asks the client to ask its person (at the client's terminal):
//!
//! ```text
//! → {"v":4,"op":"session","profile":"prod","fresh":false,"answers":true,"interactive":true,"console":false}
//! ← {"v":4,"reply":"ask","kind":"pin","profile":"prod","identity":"work","mfa_serial":null}
//! → {"v":4,"answer":"pin","value":"…"}
//! ← {"v":4,"reply":"session","credentials":"{\"Version\":1,…}","endpoints":{…}}
//! ```
//!
//! A request names a profile and options; the agent decides everything
//! else. In particular no request carries an endpoint or a region (the
//! identity's own are used, see [`crate::model::endpoints`]), no request writes
//! a session into the agent's cache, and none reads an entry by its raw
//! key: a session comes out only as the answer to a session request the
//! agent resolved itself. Secrets flow in only as answers to the agent's
//! asks (a PIN, an MFA code, a recovery code); only sessions flow out. No reply ever
//! carries a PIN or a long-term key. Messages that can carry
//! a secret have no `Debug` and wipe their strings on drop. A peer of
//! another version is told so by number, never misread: in particular a
//! client of the old prompt service (v1, which asked for a PIN and got it)
//! is refused.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

pub const VERSION: u32 = 4;

/// The socket's name inside keyfob's runtime folder.
pub const SOCKET_NAME: &str = "agent.sock";
/// The lock the running agent holds (one agent per user), with its pid.
pub const LOCK_NAME: &str = "agent.lock";

/// The longest line either side reads (a session's JSON is ~1 KiB).
pub const MAX_LINE: usize = 64 * 1024;

pub fn socket_path(runtime_dir: &Path) -> PathBuf {
    runtime_dir.join(SOCKET_NAME)
}

pub fn lock_path(runtime_dir: &Path) -> PathBuf {
    runtime_dir.join(LOCK_NAME)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AskKind {
    Pin,
    MfaCode,
    /// An Identity Center identity must sign in again (its sign-in expired
    /// and could not be renewed). Asked of the app only, never sent to a
    /// client: the app runs the sign-in (PIN, code, browser) and answers
    /// with the identity's PIN, and the agent tries the request again.
    SignIn,
    /// A new identity's PIN (asked twice where a person types it): what
    /// `import`, run in the agent, seals a key under.
    NewPin,
    /// A yes/no question (the `question` of the ask): answered `yes`, or
    /// `refused`.
    Confirm,
    /// Whether a program may have the profile's session (the `question`
    /// names it): answered with a `decision`.
    Approve,
    /// The recovery code shown when the identity was bound (`reseal
    /// --recovery`), answered as a `pin` answer is: a secret typed at the
    /// client.
    RecoveryCode,
    /// A recovery code the client made to seal the key with and shows
    /// its person once (`reseal --recovery-code`): the code goes *to* the
    /// agent, never back.
    NewRecoveryCode,
    /// The passphrase of another tool's store that `import` reads (the
    /// `question` names it: aws-vault's file backend), answered as a
    /// `pin` answer is: a secret typed at the client, or from its
    /// environment.
    SourcePassphrase,
}

/// Client → agent. No `Debug`: `session` and `put` can carry secrets.
#[derive(Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// The profile's session: cached, or made now (`fresh`: made now
    /// whatever is cached, as `keyfob unlock`). `answers`: the client can
    /// answer asks (a terminal, or `--pin-stdin`); `interactive`: a person
    /// there can be asked again after a wrong PIN.
    Session {
        profile: String,
        fresh: bool,
        answers: bool,
        interactive: bool,
        /// A console session (`keyfob login`): for a profile without a
        /// role, a federated user's session rather than GetSessionToken's.
        #[serde(default)]
        console: bool,
        /// Only if it can be answered at once from the cache, with no one
        /// asked (the `keyfob` front's request): else an error of kind
        /// [`ErrorKind::Miss`], and the full CLI asks again.
        #[serde(default)]
        warm_only: bool,
    },
    /// The identity session of `identity` with MFA device `mfa_serial`:
    /// what the external-ID guard assumes a role with before the profile
    /// it checks is stored.
    IdentitySession {
        identity: String,
        mfa_serial: Option<String>,
        answers: bool,
        interactive: bool,
    },
    /// A flow that opens a long-term key (`keyfob keys`, `rotate`,
    /// `audit --refresh`, `whois`), run by the agent, which asks the
    /// client for the PIN as for a session (see [`crate::app::remote`]).
    Flow {
        flow: crate::model::flow::Flow,
        answers: bool,
        interactive: bool,
    },
    /// When a cached entry expires (no secret): `keyfob sessions`.
    Expiry {
        key: String,
    },
    /// Drops a cache entry (`keyfob lock`, an edited profile).
    Delete {
        key: String,
    },
    /// The names of the cache's entries (no secret).
    Keys,
    /// `keyfob lock NAME` on an Identity Center profile: drop the
    /// identity's sign-in held in the agent's memory.
    ForgetSignIn {
        identity: String,
    },
    Status,
    /// The desktop app taking over: the agent replies with its sessions
    /// and exits.
    Handover,
    /// `keyfob lock --all`: drop every session and every unsealed
    /// Identity Center sign-in held in the agent's memory.
    LockAll,
    /// The remembered approvals: those held until lock (in the agent's
    /// memory) and those in the approvals file.
    Approvals,
    /// Drops approvals: the one named by `id` (a program's short id),
    /// else every one of `profile`'s, else (neither) every one.
    Revoke {
        id: Option<String>,
        profile: Option<String>,
        /// Only those held until lock (`keyfob lock NAME` ends them).
        #[serde(default)]
        until_lock_only: bool,
    },
    Stop,
}

/// Client → agent, answering an ask. No `Debug`: it can carry a PIN.
#[derive(Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum Answer {
    /// A PIN, or a recovery code (the secret a `pin`, `new_pin`,
    /// `recovery_code` or `new_recovery_code` ask wants).
    Pin {
        value: Zeroizing<String>,
    },
    MfaCode {
        value: String,
    },
    /// Yes, to a `confirm` ask.
    Yes,
    /// The answer to an `approve` ask.
    Decision {
        decision: crate::model::approval::Decision,
    },
    /// Nobody there to ask (no terminal), or nothing given up front.
    Unavailable {
        message: String,
    },
    Refused,
}

/// What kind of failure an error reply is, for the client's exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Refused input (a wrong PIN, a bad MFA code): the CLI exits 2.
    Refusal,
    /// The profile is locked and nobody could be asked.
    Locked,
    /// An Identity Center profile's sign-in expired and could not be
    /// renewed: a face that can show a sign-in code signs in again.
    SignIn,
    Failed,
    /// The peer speaks another protocol version, or not this protocol.
    Protocol,
    /// The program was not approved for the profile: the person denied
    /// it, or nobody could be asked.
    Denied,
    /// A `warm_only` request that the cache could not answer at once.
    Miss,
}

/// Agent → client. No `Debug`: sessions.
#[derive(Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum Reply {
    /// Ask the client's person (only during `session`).
    Ask {
        kind: AskKind,
        profile: String,
        identity: String,
        mfa_serial: Option<String>,
        /// The question of a `confirm` ask.
        #[serde(default)]
        question: Option<String>,
    },
    /// A line for the client's person (a flow's progress); no answer.
    Say {
        line: String,
    },
    /// A session, as credential_process JSON, and the endpoints it was
    /// made at (where a console sign-in with it goes).
    Session {
        credentials: Zeroizing<String>,
        #[serde(default)]
        endpoints: Option<crate::model::endpoints::Endpoints>,
    },
    /// A flow's result, as JSON (nothing secret).
    Flow {
        result: Zeroizing<String>,
    },
    /// When an entry expires (Unix seconds), if it is cached.
    Expiry {
        at: Option<i64>,
    },
    Keys {
        keys: Vec<String>,
    },
    /// `dumpable`: whether the user's other processes could read the
    /// agent's memory (a dumpable agent without Yama's ptrace restriction,
    /// see the agent server's `harden_process`).
    Status {
        pid: u32,
        sessions: usize,
        app: bool,
        dumpable: bool,
        /// How many times a screen lock or sleep wiped every session.
        wipes: u64,
        /// Whether it listens for the screen locking.
        watching: bool,
        /// Screen-lock and sleep signals it has read, acted on or not.
        signals: u64,
        /// Sessions it handed out warm, on its accepting thread.
        #[serde(default)]
        warm: u64,
        /// Requests waiting on another request's open approval prompt.
        #[serde(default)]
        waiting: usize,
    },
    /// `handover`: every cached session, with its key and expiry.
    Sessions {
        entries: Vec<HandedOver>,
    },
    Done,
    /// Whether something was there to drop.
    Dropped {
        dropped: bool,
    },
    /// The remembered approvals (nothing secret).
    Approvals {
        approvals: Vec<crate::model::approval::Approval>,
    },
    /// How many approvals were dropped.
    Revoked {
        count: usize,
    },
    Error {
        kind: ErrorKind,
        message: String,
    },
}

/// One session handed over to the app.
#[derive(Serialize, Deserialize)]
pub struct HandedOver {
    pub key: String,
    pub value: Zeroizing<String>,
    pub expires: i64,
}

/// A message with its version, as sent on the wire.
#[derive(Serialize, Deserialize)]
pub struct Line<T> {
    pub v: u32,
    #[serde(flatten)]
    pub body: T,
}

/// Only the version, to read a line from a peer of another version.
#[derive(Deserialize)]
pub struct VersionOnly {
    pub v: u32,
}

/// Serialises `body` as one line, in a buffer wiped on drop.
pub fn encode<T: Serialize>(body: T) -> Zeroizing<String> {
    // Plain data with string keys: serialising cannot fail.
    let mut text = Zeroizing::new(
        serde_json::to_string(&Line { v: VERSION, body }).expect("protocol messages serialise"),
    );
    text.push('\n');
    text
}

/// Parses one line: the body if it is this version, else what is wrong.
pub fn decode<T: for<'de> Deserialize<'de>>(line: &str) -> Result<T, String> {
    match serde_json::from_str::<Line<T>>(line) {
        Ok(l) if l.v == VERSION => Ok(l.body),
        _ => Err(match serde_json::from_str::<VersionOnly>(line) {
            Ok(v) if v.v != VERSION => format!(
                "protocol v{} is not spoken here: keyfob's agent speaks v{VERSION} (the v1 prompt service, which handed out PINs, is gone) — update keyfob",
                v.v
            ),
            _ => "not a keyfob agent message".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_format_and_versions() {
        let text = encode(Request::Session {
            profile: "prod".into(),
            fresh: false,
            answers: true,
            interactive: true,
            console: false,
            warm_only: false,
        });
        assert!(
            text.starts_with(r#"{"v":4,"op":"session","profile":"prod""#),
            "{}",
            text.as_str()
        );
        assert!(matches!(
            decode::<Request>(&text),
            Ok(Request::Session { fresh: false, .. })
        ));
        let answer = encode(Answer::Pin {
            value: Zeroizing::new("123456".into()),
        });
        assert_eq!(
            answer.as_str(),
            "{\"v\":4,\"answer\":\"pin\",\"value\":\"123456\"}\n"
        );
        // The old prompt service's request: refused by version.
        let v1 = r#"{"v":1,"ask":"pin","profile":"work","identity":"work","mfa_serial":null,"requester":{"pid":1,"exe":null}}"#;
        let err = decode::<Request>(v1).err().unwrap();
        assert!(err.contains("v1 is not spoken here"), "{err}");
        assert!(decode::<Request>("hello").is_err());
        // The requests that planted and fished sessions are gone: a line
        // carrying one is not a request, and the client-named endpoint of
        // v2 is not read.
        for planted in [
            r#"{"v":4,"op":"put","key":"role.prod","value":"{}","expires":9999999999}"#,
            r#"{"v":4,"op":"get","key":"role.prod"}"#,
        ] {
            assert!(decode::<Request>(planted).is_err(), "{planted}");
        }
        let named = r#"{"v":4,"op":"session","profile":"p","fresh":false,"answers":false,"interactive":false,"endpoint":"http://127.0.0.1:9","region":"eu-west-1"}"#;
        assert!(matches!(
            decode::<Request>(named),
            Ok(Request::Session { .. })
        ));
    }
}
