//! The app's asker, while the app is the agent: when a session request
//! comes from a client that cannot ask (no terminal), the agent calls this
//! (on the request's thread), which brings the window to the front, tells
//! the UI what is asked and by whom (found by the agent from the peer's
//! pid), and waits for `answer_prompt`. The PIN stays in this process: the
//! agent unseals with it and hands the client a session. An approval
//! (a program not approved for the profile yet) is asked the same way and
//! answered with a decision ([`Prompts::decide`]); left unanswered, or
//! refused, it is a denial. The socket, the peer-uid check and the wire
//! format are the library's ([`keyfob::agent`]).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::time::Duration;

use tauri::{AppHandle, Emitter};
use zeroize::Zeroizing;

use keyfob::agent::server::{PromptAnswer, PromptRequest};
use keyfob::link::protocol::AskKind;
use keyfob::model::approval::Decision;
use keyfob::model::secret::Pin;

use crate::dto::{ProgramView, PromptKind, PromptView};
use crate::error::{ErrorKind, UiError};
use crate::window::show_main_window;

/// The client gives up after 120 s; waiting a little longer here only
/// makes sure a late answer never blocks a thread for ever.
const WAIT: Duration = Duration::from_secs(130);

/// A sign-in prompt is answered only once the person approved the code in
/// the browser: it may wait until just before the client gives up (its
/// request timeout is 300 s).
const SIGN_IN_WAIT: Duration = Duration::from_secs(290);

/// The event the UI listens to; its payload is a [`PromptView`].
pub const EVENT: &str = "keyfob://prompt";

/// Requests waiting for the person, by id.
#[derive(Default)]
pub struct Prompts {
    next: AtomicU32,
    waiting: Mutex<BTreeMap<u32, (PromptView, SyncSender<PromptAnswer>)>>,
}

impl Prompts {
    pub fn pending(&self) -> Vec<PromptView> {
        let waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        waiting.values().map(|(v, _)| v.clone()).collect()
    }

    /// Hands the person's answer to the waiting request: `None` refuses.
    pub fn answer(&self, id: u32, value: Option<Zeroizing<String>>) -> Result<(), UiError> {
        let entry = self
            .waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
        let Some((view, tx)) = entry else {
            return Err(UiError::new(
                ErrorKind::PromptGone,
                "that request is gone: it was answered or timed out",
            ));
        };
        let answer = match (value, view.kind) {
            (None, _) => PromptAnswer::Refused,
            (Some(mut v), PromptKind::Pin) => PromptAnswer::Pin(Pin::new(std::mem::take(&mut *v))),
            (Some(v), PromptKind::MfaCode) => PromptAnswer::MfaCode(v.trim().to_owned()),
            // Answered by signing in (`sso_login` with the prompt's id),
            // or with a decision (`decide`), never with a bare value.
            (Some(_), PromptKind::SignIn | PromptKind::Approve) => PromptAnswer::Refused,
        };
        // The requester may have hung up; nothing to do then.
        let _ = tx.send(answer);
        Ok(())
    }
}

impl Prompts {
    /// Hands the person's decision to the waiting approval `id`.
    pub fn decide(&self, id: u32, decision: Decision) -> Result<(), UiError> {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        match waiting.get(&id) {
            Some((v, _)) if v.kind == PromptKind::Approve => {}
            Some(_) => {
                return Err(UiError::new(
                    ErrorKind::Internal,
                    "that request does not ask for an approval",
                ));
            }
            None => {
                return Err(UiError::new(
                    ErrorKind::PromptGone,
                    "that request is gone: it was answered or timed out",
                ));
            }
        }
        if let Some((_, tx)) = waiting.remove(&id) {
            // The requester may have hung up; nothing to do then.
            let _ = tx.send(PromptAnswer::Decision(decision));
        }
        Ok(())
    }

    /// Whether prompt `id` waits for a sign-in of `identity`.
    pub fn wants_sign_in(&self, id: u32, identity: &str) -> bool {
        self.waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .is_some_and(|(v, _)| v.kind == PromptKind::SignIn && v.identity == identity)
    }

    /// Answers a sign-in prompt once the page signed the identity in: the
    /// agent retries the request with the PIN that opened the sign-in.
    pub fn signed_in(&self, id: u32, pin: Pin) {
        let entry = self
            .waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
        if let Some((_, tx)) = entry {
            let _ = tx.send(PromptAnswer::Pin(pin));
        }
    }
}

/// The server's handler: blocks its request's thread until the person
/// answers, refuses, or [`WAIT`] passes. `prompts` is the app state's
/// own (shared with it), so a request is never lost between the two.
pub fn ask(app: &AppHandle, prompts: &Prompts, request: PromptRequest) -> PromptAnswer {
    let id = prompts.next.fetch_add(1, Ordering::SeqCst) + 1;
    let view = PromptView {
        id,
        kind: match request.kind {
            AskKind::Pin => PromptKind::Pin,
            AskKind::MfaCode => PromptKind::MfaCode,
            AskKind::SignIn => PromptKind::SignIn,
            // Asked of a client's terminal only (import's questions,
            // reseal's codes), never of the app: refused as unknown.
            AskKind::NewPin
            | AskKind::Confirm
            | AskKind::RecoveryCode
            | AskKind::NewRecoveryCode
            | AskKind::SourcePassphrase => return PromptAnswer::Refused,
            AskKind::Approve => PromptKind::Approve,
        },
        profile: request.profile,
        identity: request.identity,
        mfa_serial: request.mfa_serial,
        pid: request.requester.pid,
        exe: request.requester.exe,
        cwd: request.requester.cwd,
        script: request.requester.script,
        parents: request.requester.parents,
        program: request.program.as_ref().map(ProgramView::from),
        account: request.account,
    };
    let (tx, rx) = sync_channel(1);
    prompts
        .waiting
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id, (view.clone(), tx));
    show_main_window(app);
    let _ = app.emit(EVENT, &view);
    let wait = if view.kind == PromptKind::SignIn {
        SIGN_IN_WAIT
    } else {
        WAIT
    };
    let answer = rx.recv_timeout(wait).unwrap_or(PromptAnswer::Refused);
    prompts
        .waiting
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&id);
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiting(
        prompts: &Prompts,
        kind: PromptKind,
    ) -> (u32, std::sync::mpsc::Receiver<PromptAnswer>) {
        let id = prompts.next.fetch_add(1, Ordering::SeqCst) + 1;
        let (tx, rx) = sync_channel(1);
        let view = PromptView {
            id,
            kind,
            profile: "prod".into(),
            identity: "alice".into(),
            mfa_serial: None,
            pid: 42,
            exe: Some("/usr/bin/aws".into()),
            cwd: None,
            script: None,
            parents: vec![],
            program: None,
            account: None,
        };
        prompts.waiting.lock().unwrap().insert(id, (view, tx));
        (id, rx)
    }

    #[test]
    fn an_approval_is_answered_with_a_decision_and_only_once() {
        let prompts = Prompts::default();
        let (id, rx) = waiting(&prompts, PromptKind::Approve);
        prompts.decide(id, Decision::UntilLock).unwrap();
        assert!(matches!(
            rx.try_recv(),
            Ok(PromptAnswer::Decision(Decision::UntilLock))
        ));
        let again = prompts.decide(id, Decision::Once).unwrap_err();
        assert_eq!(again.kind, ErrorKind::PromptGone);
    }

    #[test]
    fn a_pin_prompt_takes_no_decision_and_an_approval_no_value() {
        let prompts = Prompts::default();
        let (pin, _rx) = waiting(&prompts, PromptKind::Pin);
        assert!(prompts.decide(pin, Decision::Once).is_err());
        assert_eq!(prompts.pending().len(), 1, "the PIN prompt still waits");
        // A value sent to an approval (a page that went wrong) denies it.
        let (approve, rx) = waiting(&prompts, PromptKind::Approve);
        prompts
            .answer(approve, Some(Zeroizing::new("yes".into())))
            .unwrap();
        assert!(matches!(rx.try_recv(), Ok(PromptAnswer::Refused)));
    }
}
