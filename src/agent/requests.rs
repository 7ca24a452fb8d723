//! What each request does: the session request (the agent resolves the
//! profile and asks for the PIN through the request's conversation), the
//! flows run here for the faces, and the agent's own housekeeping.

use std::os::unix::net::UnixStream;

use time::OffsetDateTime;
use zeroize::Zeroizing;

use std::sync::atomic::Ordering;

use super::access::Access;
use super::conversation::Conversation;
use super::hardening::memory_closed;
use super::reply::{refuse_other_user, send};
use super::state::{Agent, PromptAnswer};
use crate::app::access_log::AccessEntry;
use crate::app::{self, AppError};
use crate::credentials::{Ask, Prompter};
use crate::link::peer::{Peer, is_keyfob, trusted_binaries};
use crate::link::protocol::{AskKind, ErrorKind, HandedOver, Reply, Request, decode};

/// Serves one request whose line the accept loop has read.
pub(super) fn serve_line(mut stream: UnixStream, line: Zeroizing<String>, agent: &Agent) {
    let Some(peer) = Peer::of(&stream).ok().filter(Peer::same_user) else {
        refuse_other_user(&mut stream);
        return;
    };
    let request = match decode::<Request>(&line) {
        Ok(r) => r,
        Err(message) => {
            let _ = send(
                &mut stream,
                Reply::Error {
                    kind: ErrorKind::Protocol,
                    message,
                },
            );
            return;
        }
    };
    drop(line);
    let mut logged = Vec::new();
    let reply = handle(&mut stream, agent, &peer, request, &mut logged);
    let _ = send(&mut stream, reply);
    drop(stream);
    // After the reply: the client never waits on the log.
    for entry in logged {
        agent.log(entry);
    }
    agent.touch();
}

/// The reply for a failed request: the error's kind on the wire (coarse:
/// what a client acts on) and its message.
fn failed(e: impl Into<AppError>) -> Reply {
    let e: AppError = e.into();
    let kind = match e.kind() {
        app::ErrorKind::Locked => ErrorKind::Locked,
        app::ErrorKind::SignIn => ErrorKind::SignIn,
        app::ErrorKind::Denied => ErrorKind::Denied,
        k if k.is_refusal() => ErrorKind::Refusal,
        _ => ErrorKind::Failed,
    };
    Reply::Error {
        kind,
        message: e.to_string(),
    }
}

/// The reply to `request`; the access log's entries it makes go to `log`.
fn handle(
    stream: &mut UnixStream,
    agent: &Agent,
    peer: &Peer,
    request: Request,
    log: &mut Vec<AccessEntry>,
) -> Reply {
    let kf = &agent.kf;
    // Only keyfob itself may end the agent or take its sessions over.
    if matches!(request, Request::Stop | Request::Handover)
        && !is_keyfob(peer, &trusted_binaries(&kf.cli))
    {
        tracing::warn!(pid = peer.pid, exe = ?peer.exe, "refused stop/handover from a program that is not keyfob");
        return Reply::Error {
            kind: ErrorKind::Refusal,
            message:
                "refused: only keyfob's own binaries may stop the agent or take over its sessions"
                    .into(),
        };
    }
    let cache = match kf.cache() {
        Ok(c) => c,
        Err(e) => return failed(e),
    };
    match request {
        Request::Session {
            profile,
            fresh,
            answers,
            interactive,
            console,
            // Always answered by the warm path (a miss says so there).
            warm_only: _,
        } => {
            let profile = match kf.profile(&profile) {
                Ok(p) => p,
                Err(e) => return failed(e),
            };
            let asker = Conversation::new(stream, agent, peer, answers, interactive);
            let mut access = Access::begin(agent, asker.requester(), &profile);
            if let Some(refusal) = access.gate(agent, &asker, &profile) {
                log.push(access.refused());
                return refusal;
            }
            // A cached session is handed out as it is (and logged so).
            let hit = if fresh || console {
                None
            } else {
                app::cached_session(kf, &profile)
            };
            let cached = hit.is_some();
            let prompter: Option<&dyn Prompter> =
                (answers || agent.asker.is_some()).then_some(&asker as &dyn Prompter);
            let started = OffsetDateTime::now_utc();
            // Made with the identity's own endpoints: nothing of the
            // client's environment reaches this.
            let run = |prompter: Option<&dyn Prompter>| {
                if console {
                    app::make_console_session(kf, &profile, prompter)
                } else {
                    app::make_session(kf, &profile, fresh, prompter)
                }
            };
            let mut made = match hit {
                Some(session) => Ok(session),
                None => run(prompter),
            };
            // An Identity Center sign-in nothing could renew, for a client
            // with no terminal (a terminal signs in itself): the app signs
            // in, then the request is tried again.
            if let Err(e) = &made
                && app::needs_sso_sign_in(e)
                && !interactive
                && agent.asker.is_some()
            {
                made = sign_in_through_app(agent, &asker, &profile, started, &run).unwrap_or(made);
            }
            log.push(access.end(agent, made.as_ref().map(|_| cached)));
            match made {
                Ok(s) => Reply::Session {
                    credentials: s.to_process_json(),
                    endpoints: Some(s.endpoints.clone()),
                },
                Err(e) => failed(e),
            }
        }
        Request::IdentitySession {
            identity,
            mfa_serial,
            answers,
            interactive,
        } => {
            let asker = Conversation::new(stream, agent, peer, answers, interactive);
            // Gated as the identity's own profile: its session is as good
            // as that profile's.
            let profile = match kf.profile(&identity) {
                Ok(p) => p,
                Err(e) => return failed(e),
            };
            let mut access = Access::begin(agent, asker.requester(), &profile);
            if let Some(refusal) = access.gate(agent, &asker, &profile) {
                log.push(access.refused());
                return refusal;
            }
            let prompter: Option<&dyn Prompter> =
                (answers || agent.asker.is_some()).then_some(&asker as &dyn Prompter);
            let made = app::identity_session(kf, &identity, mfa_serial.as_deref(), prompter);
            log.push(access.end(agent, made.as_ref().map(|_| false)));
            match made {
                Ok(s) => Reply::Session {
                    credentials: s.to_process_json(),
                    endpoints: Some(s.endpoints.clone()),
                },
                Err(e) => failed(e),
            }
        }
        Request::Approvals => match kf.approvals.list() {
            Ok(approvals) => Reply::Approvals { approvals },
            Err(e) => failed(e),
        },
        Request::Revoke {
            id,
            profile,
            until_lock_only,
        } => match kf
            .approvals
            .revoke(id.as_deref(), profile.as_deref(), until_lock_only)
        {
            Ok(count) => Reply::Revoked { count },
            Err(e) => failed(e),
        },
        Request::Flow {
            flow,
            answers,
            interactive,
        } => {
            let asker = Conversation::new(stream, agent, peer, answers, interactive);
            match super::flows::run(kf, flow, &asker as &dyn super::flows::FlowHost) {
                Ok(result) => Reply::Flow { result },
                Err(e) => failed(e),
            }
        }
        Request::Expiry { key } => match cache.expires(&key) {
            Ok(at) => Reply::Expiry {
                at: at.map(OffsetDateTime::unix_timestamp),
            },
            Err(e) => failed(e),
        },
        Request::Delete { key } => match cache.delete(&key) {
            Ok(()) => Reply::Done,
            Err(e) => failed(e),
        },
        Request::ForgetSignIn { identity } => Reply::Dropped {
            dropped: kf.held.forget(&identity),
        },
        Request::Keys => match cache.keys() {
            Ok(keys) => Reply::Keys { keys },
            Err(e) => failed(e),
        },
        Request::Status => Reply::Status {
            pid: std::process::id(),
            sessions: agent.sessions_in_memory(),
            app: agent.asker.is_some(),
            dumpable: !memory_closed(),
            wipes: agent.wipes.load(Ordering::SeqCst),
            watching: agent.watching.load(Ordering::SeqCst),
            signals: agent.signals.load(Ordering::SeqCst),
            warm: agent.warm.load(Ordering::SeqCst),
            waiting: agent.waiting.load(Ordering::SeqCst),
        },
        Request::Handover => {
            let entries = agent
                .memory
                .as_ref()
                .map(|m| m.export())
                .unwrap_or_default()
                .into_iter()
                .map(|(key, value, expires)| HandedOver {
                    key,
                    value: Zeroizing::new(String::from_utf8_lossy(&value).into_owned()),
                    expires: expires.unix_timestamp(),
                })
                .collect();
            agent.stop();
            Reply::Sessions { entries }
        }
        Request::Stop => {
            agent.stop();
            Reply::Done
        }
        // Not counted as a screen-lock wipe: the person asked for it.
        Request::LockAll => match agent.wipe_all() {
            Ok(_) => Reply::Done,
            Err(e) => failed(e),
        },
    }
}

/// A session request's attempt, with the prompter it may use.
type Attempt<'a, T> = dyn Fn(Option<&dyn Prompter>) -> Result<T, AppError> + 'a;

/// Asks the app to sign `profile`'s Identity Center identity in again and
/// runs `run` once more: with the PIN the app answers, or with no prompt
/// at all when another request signed the identity in while this one
/// waited its turn (single flight: parallel cold calls make one sign-in).
/// `None` when the person refused or the app is not asking: the first
/// error stands.
fn sign_in_through_app<T>(
    agent: &Agent,
    asker: &Conversation,
    profile: &crate::config::profile::Profile,
    started: OffsetDateTime,
    run: &Attempt<'_, T>,
) -> Option<Result<T, AppError>> {
    let name = profile.identity.as_str();
    let kf = &agent.kf;
    let flight = agent
        .sign_ins
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .entry(name.to_owned())
        .or_default()
        .clone();
    let _turn = flight
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let signed_in_since = kf
        .vault()
        .ok()
        .and_then(|v| v.sso_get(name).ok())
        .is_some_and(|i| i.signed_in_at >= started);
    if signed_in_since {
        return Some(run(Some(asker as &dyn Prompter)));
    }
    let ask = Ask {
        profile: &profile.name,
        identity: name,
        mfa_serial: None,
    };
    match asker.ask_app(AskKind::SignIn, &ask)? {
        PromptAnswer::Pin(pin) => {
            let again = crate::platform::prompt::FixedPrompter {
                pin: Some(pin),
                mfa_code: None,
            };
            Some(run(Some(&again as &dyn Prompter)))
        }
        _ => None,
    }
}
