//! One request's conversation with whoever can answer for it: the asking
//! client (a PIN or MFA code typed at its terminal, or given up front;
//! import's questions and new PINs; lines of progress), else the person
//! at the desktop app when the app is the agent. Every answer is read
//! against one whole-answer deadline, and one refusal at the app answers
//! the same program's further requests for the same profile for a while,
//! so a flood shows one prompt.

use std::io::Read;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use super::reply::send;
use super::state::{Agent, Asker, PromptAnswer, PromptRequest, Refusals};
use crate::credentials::{Ask, Prompter};
use crate::link::peer::Peer;
use crate::link::protocol::{Answer, AskKind, MAX_LINE, Reply, decode};
use crate::link::requester::{Requester, requester};
use crate::model::approval::Decision;
use crate::model::ask::PromptError;
use crate::model::secret::Pin;

impl Conversation {
    /// The conversation of one request from `peer` on `stream`.
    pub(super) fn new(
        stream: &UnixStream,
        agent: &Agent,
        peer: &Peer,
        answers: bool,
        interactive: bool,
    ) -> Conversation {
        Conversation {
            refused: agent.refused.clone(),
            stream: stream.try_clone().ok(),
            answers,
            interactive,
            app: agent.asker.clone(),
            requester: requester(peer, &agent.kf.cli),
        }
    }
}

/// Asks for a PIN or MFA code during a `session` request: the asking
/// client's person when the client can answer, else the app's window.
pub(super) struct Conversation {
    /// The agent's recent refusals, by requester and profile.
    refused: Arc<Refusals>,
    stream: Option<UnixStream>,
    answers: bool,
    interactive: bool,
    app: Option<Asker>,
    requester: Requester,
}

/// How long a refusal at the app answers the same program's further
/// requests for the same profile.
const REFUSAL_HOLDS: Duration = Duration::from_secs(30);

/// How long the person at the client's terminal may take.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(300);

impl Conversation {
    fn ask_client(&self, kind: AskKind, ask: &Ask<'_>) -> Result<Answer, PromptError> {
        self.ask_client_about(kind, ask, None)
    }

    fn ask_client_about(
        &self,
        kind: AskKind,
        ask: &Ask<'_>,
        question: Option<&str>,
    ) -> Result<Answer, PromptError> {
        let service = |message: String| PromptError::Service { message };
        let mut stream = self
            .stream
            .as_ref()
            .ok_or_else(|| service("the asking client is gone".into()))?
            .try_clone()
            .map_err(|e| service(e.to_string()))?;
        send(
            &mut stream,
            Reply::Ask {
                kind,
                profile: ask.profile.to_owned(),
                identity: ask.identity.to_owned(),
                mfa_serial: ask.mfa_serial.map(str::to_owned),
                question: question.map(str::to_owned),
            },
        )
        .map_err(|e| service(format!("cannot ask the client: {e}")))?;
        let line =
            read_line_by(&stream, Instant::now() + ANSWER_TIMEOUT).map_err(|e| match e.kind() {
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                    PromptError::TimedOut {
                        secs: ANSWER_TIMEOUT.as_secs(),
                    }
                }
                _ => service(e.to_string()),
            })?;
        if line.is_empty() {
            return Err(PromptError::Cancelled);
        }
        decode::<Answer>(&line).map_err(service)
    }

    /// Asks the person at the app; one refusal answers every request of
    /// the same program for the same profile for [`REFUSAL_HOLDS`], so a
    /// flood of requests (waiting in turn on the profile's lock) shows one
    /// prompt, not one after another.
    pub(super) fn ask_app(&self, kind: AskKind, ask: &Ask<'_>) -> Option<PromptAnswer> {
        let app = self.app.as_ref()?;
        let key = (
            self.requester.pid,
            self.requester.start_time,
            ask.profile.to_owned(),
        );
        {
            let mut refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
            refused.retain(|_, at| at.elapsed() < REFUSAL_HOLDS);
            if refused.contains_key(&key) {
                tracing::info!(
                    profile = ask.profile,
                    pid = key.0,
                    "refused again without asking"
                );
                return Some(PromptAnswer::Refused);
            }
        }
        let answer = app(PromptRequest {
            kind,
            profile: ask.profile.to_owned(),
            identity: ask.identity.to_owned(),
            mfa_serial: ask.mfa_serial.map(str::to_owned),
            requester: self.requester.clone(),
            program: None,
            account: None,
            question: None,
        });
        if matches!(answer, PromptAnswer::Refused) {
            self.refused
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key, Instant::now());
        }
        Some(answer)
    }

    /// The program that asked.
    pub(super) fn requester(&self) -> &Requester {
        &self.requester
    }

    /// Asks whether the requesting program may have `profile`'s session:
    /// the person at the app when the app is the agent, else the one at
    /// the client's terminal; nobody there is an error at once.
    pub(super) fn approve(
        &self,
        question: &str,
        program: &crate::model::approval::Program,
        profile: &crate::config::profile::Profile,
        account: Option<&str>,
    ) -> Result<Decision, PromptError> {
        if let Some(app) = &self.app {
            return match app(PromptRequest {
                kind: AskKind::Approve,
                profile: profile.name.clone(),
                identity: profile.identity.as_str().to_owned(),
                mfa_serial: None,
                requester: self.requester.clone(),
                program: Some(program.clone()),
                account: account.map(str::to_owned),
                question: Some(question.to_owned()),
            }) {
                PromptAnswer::Decision(d) => Ok(d),
                _ => Ok(Decision::Deny),
            };
        }
        if !self.answers {
            return Err(PromptError::NoTerminal {
                what: "approval".into(),
                hint: "no keyfob app runs either".into(),
            });
        }
        let ask = Ask {
            profile: &profile.name,
            identity: profile.identity.as_str(),
            mfa_serial: None,
        };
        match self.ask_client_about(AskKind::Approve, &ask, Some(question))? {
            Answer::Decision { decision } => Ok(decision),
            Answer::Refused => Ok(Decision::Deny),
            Answer::Unavailable { message } => Err(PromptError::Service { message }),
            _ => Err(PromptError::Cancelled),
        }
    }

    fn ask(&self, kind: AskKind, ask: &Ask<'_>) -> Result<Zeroizing<String>, PromptError> {
        if self.answers {
            match self.ask_client(kind, ask)? {
                Answer::Pin { value } => return Ok(value),
                Answer::MfaCode { value } => return Ok(Zeroizing::new(value)),
                Answer::Refused | Answer::Yes | Answer::Decision { .. } => {
                    return Err(PromptError::Cancelled);
                }
                Answer::Unavailable { message } => {
                    if self.app.is_none() {
                        return Err(PromptError::Service { message });
                    }
                }
            }
        }
        match self.ask_app(kind, ask) {
            Some(PromptAnswer::Pin(pin)) => Ok(Zeroizing::new(pin.expose().to_owned())),
            Some(PromptAnswer::MfaCode(code)) => Ok(Zeroizing::new(code)),
            Some(PromptAnswer::Refused | PromptAnswer::Decision(_)) => Err(PromptError::Refused),
            None => Err(PromptError::NotGiven {
                what: "PIN",
                hint: "run 'keyfob unlock' in a terminal",
            }),
        }
    }
}

/// The client's side of a flow that asks more than a PIN (`import`,
/// `change-pin`, `reseal`): yes or no, a new PIN, a recovery code, and
/// lines of progress — all at the client's terminal (or from what it was
/// given up front).
impl super::flows::FlowHost for Conversation {
    fn confirm(&self, question: &str) -> bool {
        let ask = Ask {
            profile: "",
            identity: "",
            mfa_serial: None,
        };
        self.answers
            && matches!(
                self.ask_client_about(AskKind::Confirm, &ask, Some(question)),
                Ok(Answer::Yes)
            )
    }

    fn new_pin(&self, identity: &str) -> Result<Pin, PromptError> {
        if !self.answers {
            return Err(PromptError::NotGiven {
                what: "PIN",
                hint: "run keyfob import in a terminal, or pass --pin-stdin",
            });
        }
        let ask = Ask {
            profile: identity,
            identity,
            mfa_serial: None,
        };
        match self.ask_client(AskKind::NewPin, &ask)? {
            Answer::Pin { mut value } => Ok(Pin::new(std::mem::take(&mut *value))),
            Answer::Unavailable { message } => Err(PromptError::Service { message }),
            _ => Err(PromptError::Cancelled),
        }
    }

    fn recovery_code(&self, identity: &str, new: bool) -> Result<Zeroizing<String>, PromptError> {
        if !self.answers {
            return Err(PromptError::NotGiven {
                what: "recovery code",
                hint: "run keyfob reseal in a terminal, or pass --stdin",
            });
        }
        let ask = Ask {
            profile: identity,
            identity,
            mfa_serial: None,
        };
        let kind = match new {
            true => AskKind::NewRecoveryCode,
            false => AskKind::RecoveryCode,
        };
        match self.ask_client(kind, &ask)? {
            Answer::Pin { value } => Ok(value),
            Answer::Unavailable { message } => Err(PromptError::Service { message }),
            _ => Err(PromptError::Cancelled),
        }
    }

    fn source_passphrase(&self, question: &str) -> Result<Zeroizing<String>, PromptError> {
        if !self.answers {
            return Err(PromptError::NotGiven {
                what: "passphrase",
                hint: "run keyfob import in a terminal",
            });
        }
        let ask = Ask {
            profile: "",
            identity: "",
            mfa_serial: None,
        };
        match self.ask_client_about(AskKind::SourcePassphrase, &ask, Some(question))? {
            Answer::Pin { value } => Ok(value),
            Answer::Unavailable { message } => Err(PromptError::Service { message }),
            _ => Err(PromptError::Cancelled),
        }
    }

    fn say(&self, line: &str) {
        if let Some(stream) = &self.stream
            && let Ok(mut stream) = stream.try_clone()
        {
            let _ = send(
                &mut stream,
                Reply::Say {
                    line: line.to_owned(),
                },
            );
        }
    }
}

impl Prompter for Conversation {
    fn pin(&self, ask: &Ask<'_>) -> Result<Pin, PromptError> {
        let mut value = self.ask(AskKind::Pin, ask)?;
        Ok(Pin::new(std::mem::take(&mut *value)))
    }

    fn mfa_code(&self, ask: &Ask<'_>) -> Result<String, PromptError> {
        Ok(self.ask(AskKind::MfaCode, ask)?.trim().to_owned())
    }

    fn interactive(&self) -> bool {
        self.interactive || (!self.answers && self.app.is_some())
    }
}

/// Reads one line (at most [`MAX_LINE`]) into a buffer wiped on drop,
/// all of it before `deadline`: a peer trickling bytes cannot hold the
/// read open past it. Empty at end of stream.
fn read_line_by(stream: &UnixStream, deadline: Instant) -> std::io::Result<Zeroizing<String>> {
    // Reserved so the buffer never reallocates around a PIN.
    let mut line = Zeroizing::new(Vec::with_capacity(MAX_LINE + 1));
    let mut byte = [0u8; 1];
    let mut reader: &UnixStream = stream;
    while line.len() <= MAX_LINE {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        stream.set_read_timeout(Some(left))?;
        // One byte at a time: nothing past the line is consumed, and the
        // line is short (an answer, not a stream).
        match reader.read(&mut byte) {
            Ok(0) => break,
            Ok(_) => {
                line.push(byte[0]);
                if byte[0] == b'\n' {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    let text = std::str::from_utf8(&line).map_err(|_| std::io::ErrorKind::InvalidData)?;
    Ok(Zeroizing::new(text.to_owned()))
}
