//! Prompts on the controlling terminal (`/dev/tty`), so answers never come
//! from, or echo into, a pipe another program reads.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};

use zeroize::Zeroizing;

use crate::model::ask::PromptError;
use crate::model::secret::Pin;

/// Writes one line to the terminal, if there is one.
pub fn say(text: &str) {
    if let Ok(mut tty) = open_tty("", "") {
        let _ = writeln!(tty, "{text}");
    }
}

fn open_tty(what: &str, hint: &str) -> Result<File, PromptError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(|_| PromptError::NoTerminal {
            what: what.into(),
            hint: hint.into(),
        })
}

/// Whether a controlling terminal can be opened.
pub fn available() -> bool {
    open_tty("", "").is_ok()
}

/// Asks for a visible value (e.g. an access key ID).
pub fn ask(label: &str, what: &str, hint: &str) -> Result<String, PromptError> {
    let mut tty = open_tty(what, hint)?;
    let io_err = |source| PromptError::Io {
        what: what.into(),
        source,
    };
    write!(tty, "{label}")
        .and_then(|_| tty.flush())
        .map_err(io_err)?;
    let mut line = String::new();
    let n = BufReader::new(&tty).read_line(&mut line).map_err(io_err)?;
    if n == 0 {
        return Err(PromptError::Cancelled);
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Asks for a hidden value (a secret or PIN); the terminal echo is off while
/// it is typed. The returned buffer is wiped on drop.
pub fn ask_hidden(label: &str, what: &str, hint: &str) -> Result<Zeroizing<String>, PromptError> {
    // Fails early with a helpful message where rpassword's error would only
    // say "No such device or address".
    drop(open_tty(what, hint)?);
    rpassword::prompt_password(label)
        .map(Zeroizing::new)
        .map_err(|source| PromptError::Io {
            what: what.into(),
            source,
        })
}

/// Asks for a PIN.
pub fn ask_pin(label: &str, hint: &str) -> Result<Pin, PromptError> {
    let mut text = ask_hidden(label, "PIN", hint)?;
    Ok(Pin::new(std::mem::take(&mut *text)))
}
