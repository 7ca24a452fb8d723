//! Asking a person: what a prompt is for ([`Ask`]), who asks it
//! ([`Prompter`]: the terminal, the desktop app, values given up front)
//! and how asking fails ([`PromptError`]).

use std::io;

use crate::model::approval::Decision;
use crate::model::secret::Pin;

/// What a prompt is for, so the one asked knows who wants what.
pub struct Ask<'a> {
    pub profile: &'a str,
    pub identity: &'a str,
    pub mfa_serial: Option<&'a str>,
}

/// Asks a person for a PIN or MFA code: on the terminal, through the
/// desktop app, or from values given on the command line.
pub trait Prompter {
    fn pin(&self, ask: &Ask<'_>) -> Result<Pin, PromptError>;
    fn mfa_code(&self, ask: &Ask<'_>) -> Result<String, PromptError>;
    /// Whether a person is there to be asked again (after a wrong PIN, or
    /// to wait for the next MFA code).
    fn interactive(&self) -> bool;
    /// Tells the person something (e.g. why they must wait).
    fn notice(&self, _text: &str) {}
    /// Asks whether a program may have a profile's session: `question`
    /// names the program, its parents, its folder, the profile and the
    /// account. Only a person answers it (never a value given up front).
    fn approve(&self, _question: &str) -> Result<Decision, PromptError> {
        Err(PromptError::NoTerminal {
            what: "approval".into(),
            hint: "nothing here can ask a person".into(),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("no terminal to ask for the {what}; {hint}")]
    NoTerminal { what: String, hint: String },
    #[error("reading the {what} from the terminal failed: {source}")]
    Io { what: String, source: io::Error },
    #[error("cancelled")]
    Cancelled,
    #[error("the request was refused in the keyfob app")]
    Refused,
    #[error("nobody answered the keyfob app's prompt within {secs} s")]
    TimedOut { secs: u64 },
    #[error("{message}")]
    Service { message: String },
    #[error("the profile needs a {what}; {hint}")]
    NotGiven {
        what: &'static str,
        hint: &'static str,
    },
}

impl PromptError {
    /// What kind of failure this is (see [`crate::model::error_kind::ErrorKind`]).
    pub fn kind(&self) -> crate::model::error_kind::ErrorKind {
        use crate::model::error_kind::ErrorKind as K;
        match self {
            PromptError::Cancelled | PromptError::Refused | PromptError::TimedOut { .. } => {
                K::NotConfirmed
            }
            PromptError::NoTerminal { .. } | PromptError::NotGiven { .. } => K::Locked,
            _ => K::Failed,
        }
    }
}
