//! Asking the user for input: the controlling terminal ([`tty`]), or
//! values given up front. (The desktop app asks in its window when it is
//! the agent: [`crate::agent`].) Never stdout or stderr, which tools like
//! botocore capture.

use crate::credentials::{Ask, Prompter};
use crate::model::approval::Decision;
use crate::model::ask::PromptError;
use crate::model::secret::Pin;

/// Prompts on the controlling terminal.
pub struct TtyPrompter;

impl Prompter for TtyPrompter {
    fn pin(&self, ask: &Ask<'_>) -> Result<Pin, PromptError> {
        let label = if ask.profile == ask.identity {
            format!("keyfob: PIN for {}: ", ask.identity)
        } else {
            format!(
                "keyfob: PIN for {} (profile {}): ",
                ask.identity, ask.profile
            )
        };
        super::tty::ask_pin(&label, "run 'keyfob unlock' in a terminal")
    }

    fn mfa_code(&self, ask: &Ask<'_>) -> Result<String, PromptError> {
        super::tty::ask(
            &format!(
                "keyfob: MFA code for {} ({}): ",
                ask.identity,
                ask.mfa_serial.unwrap_or("MFA device")
            ),
            "MFA code",
            "pass --mfa-code to keyfob unlock",
        )
        .map(|c| c.trim().to_owned())
    }

    fn interactive(&self) -> bool {
        true
    }

    fn notice(&self, text: &str) {
        super::tty::say(text);
    }

    /// Shows the question on the terminal and reads the answer until it
    /// is one of the choices (three tries; anything else denies).
    fn approve(&self, question: &str) -> Result<Decision, PromptError> {
        super::tty::say(question);
        for _ in 0..3 {
            let answer = super::tty::ask(
                "keyfob: allow [o]nce, until [l]ock, for a while (e.g. 8h), or [d]eny? ",
                "approval",
                "approve the program in the keyfob app or with keyfob approvals add",
            )?;
            if let Some(decision) = Decision::parse(&answer) {
                return Ok(decision);
            }
            super::tty::say("keyfob: answer o, l, a duration from 1m to 30d (like 8h), or d");
        }
        Ok(Decision::Deny)
    }
}

/// Answers from values given up front (`--pin-stdin`, `--mfa-code`), for
/// scripts; asks nobody.
pub struct FixedPrompter {
    pub pin: Option<Pin>,
    pub mfa_code: Option<String>,
}

impl Prompter for FixedPrompter {
    fn pin(&self, _ask: &Ask<'_>) -> Result<Pin, PromptError> {
        self.pin.clone().ok_or(PromptError::NotGiven {
            what: "PIN",
            hint: "pass --pin-stdin",
        })
    }

    fn mfa_code(&self, _ask: &Ask<'_>) -> Result<String, PromptError> {
        self.mfa_code.clone().ok_or(PromptError::NotGiven {
            what: "MFA code",
            hint: "pass --mfa-code CODE",
        })
    }

    fn interactive(&self) -> bool {
        false
    }

    /// Never from what was given up front: the person at the terminal, if
    /// there is one.
    fn approve(&self, question: &str) -> Result<Decision, PromptError> {
        if super::tty::available() {
            return TtyPrompter.approve(question);
        }
        Err(PromptError::NoTerminal {
            what: "approval".into(),
            hint: "answers given up front do not approve programs".into(),
        })
    }
}
