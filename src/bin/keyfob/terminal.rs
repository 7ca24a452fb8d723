//! Everything the CLI asks the person, in one place: confirmations
//! ([`Ask`]), PINs (from stdin's lines or the terminal, a new PIN twice),
//! the prompter that answers the agent's asks, and stdin's lines.

use std::io::Read;

use anyhow::{Context as _, bail};
use zeroize::Zeroizing;

use keyfob::app::{AppError, Confirm, Question};
use keyfob::credentials::Prompter;
use keyfob::model::field::Field;
use keyfob::model::identity::{FieldError, check_pin, check_pin_confirmation};
use keyfob::model::limits;
use keyfob::model::secret::{Pin, take_lines};
use keyfob::platform::prompt::{FixedPrompter, TtyPrompter};
use keyfob::platform::tty;

/// The CLI's answers to the core's questions: `--yes` up front, else a
/// y/N on the terminal; without a terminal the answer is no.
pub struct Ask {
    pub yes: bool,
}

impl Confirm for Ask {
    fn confirm(&self, question: &Question<'_>) -> Result<(), AppError> {
        if self.yes {
            return Ok(());
        }
        let hint = match question {
            Question::TakeOver { .. } => "pass --yes to take it over",
            Question::RemoveIdentity(_)
            | Question::RemoveSsoIdentity(_)
            | Question::RemoveProfile(_) => "pass --yes to remove without asking",
            Question::Import { .. }
            | Question::RemoveFromSource { .. }
            | Question::Remote { .. } => "pass --yes",
        };
        let text = question.text();
        let answer = tty::ask(&format!("{text} [y/N] "), "confirmation", hint).map_err(|e| {
            AppError::NotConfirmed {
                question: text.clone(),
                hint: e.to_string(),
            }
        })?;
        if matches!(answer.trim(), "y" | "Y" | "yes") {
            Ok(())
        } else {
            Err(AppError::NotConfirmed {
                question: text,
                hint: "not changed".into(),
            })
        }
    }
}

/// Reads stdin (at most 64 KiB) and returns its first `count` lines as
/// wiped-on-drop buffers.
pub fn stdin_lines(count: usize) -> anyhow::Result<Vec<Zeroizing<String>>> {
    const MAX: usize = 64 * 1024;
    // Reserved up front so the buffer never reallocates, which would free
    // an unwiped copy of what was read so far.
    let mut text = Zeroizing::new(String::with_capacity(MAX + 1));
    std::io::stdin()
        .take(MAX as u64)
        .read_to_string(&mut text)
        .context("reading stdin")?;
    Ok(take_lines(std::mem::take(&mut *text), count))
}

/// Who answers the agent's asks from here: the terminal when there is
/// one; else nobody — then the agent asks in the desktop app's window if
/// the app is the agent, or a locked profile fails at once with the unlock
/// hint.
pub fn prompter() -> Option<Box<dyn Prompter>> {
    tty::available().then(|| Box::new(TtyPrompter) as Box<dyn Prompter>)
}

/// The answers given up front when there are any, else the chain.
pub fn either<'a>(
    fixed: &'a Option<FixedPrompter>,
    chain: &'a Option<Box<dyn Prompter>>,
) -> Option<&'a dyn Prompter> {
    match fixed {
        Some(f) => Some(f),
        None => chain.as_deref(),
    }
}

/// The answers given up front (`--pin-stdin`, `--mfa-code`), checked, for
/// commands that must not ask anyone; `None` when neither was given.
pub fn fixed_prompter(
    pin_stdin: bool,
    mfa_code: Option<&String>,
) -> anyhow::Result<Option<FixedPrompter>> {
    if let Some(code) = mfa_code {
        limits::mfa_code(code)?;
    }
    if !pin_stdin && mfa_code.is_none() {
        return Ok(None);
    }
    let pin = if pin_stdin {
        Some(pin_from_stdin()?)
    } else {
        None
    };
    Ok(Some(FixedPrompter {
        pin,
        mfa_code: mfa_code.cloned(),
    }))
}

/// The first `fields.len()` lines of stdin, one per field, wiped on drop.
/// A missing line is refused naming its field, and `usage` says what the
/// option expects.
pub fn stdin_fields(fields: &[Field], usage: &str) -> anyhow::Result<Vec<Zeroizing<String>>> {
    let lines = stdin_lines(fields.len())?;
    if let Some(field) = fields.get(lines.len()) {
        bail!(FieldError::new(*field, format!("missing: {usage}")));
    }
    Ok(lines)
}

/// `count` PINs, one per line of stdin.
pub fn pins_from_stdin(count: usize, usage: &str) -> anyhow::Result<Vec<Pin>> {
    Ok(stdin_fields(&vec![Field::Pin; count], usage)?
        .into_iter()
        .map(|mut l| Pin::new(std::mem::take(&mut *l)))
        .collect())
}

/// The PIN on stdin's first line (`--pin-stdin`).
pub fn pin_from_stdin() -> anyhow::Result<Pin> {
    Ok(pins_from_stdin(1, "--pin-stdin expects the PIN on line 1")?.remove(0))
}

/// A PIN: stdin's first line when `from_stdin`, else asked at the
/// terminal with `label` (`hint` says how to give it without one).
pub fn pin(from_stdin: bool, label: &str, hint: &str) -> anyhow::Result<Pin> {
    if from_stdin {
        return pin_from_stdin();
    }
    Ok(tty::ask_pin(label, hint)?)
}

/// A new PIN asked at the terminal: checked against the PIN rule, then
/// asked again (`again`) and compared.
pub fn new_pin(label: &str, again: &str, hint: &str) -> Result<Pin, AppError> {
    let pin = tty::ask_pin(label, hint)?;
    check_pin(&pin)?;
    check_pin_confirmation(&pin, &tty::ask_pin(again, hint)?)?;
    Ok(pin)
}
