//! `import`: moving plaintext long-term keys out of the shared credentials
//! file into the vault, and role profiles of the config file into keyfob.
//! The flow is the core's ([`keyfob::app::import`]); this file asks on the
//! terminal (or reads `--pin-stdin`) and prints.

use std::cell::RefCell;

use keyfob::app::{self, AppError, Confirm, ImportHost, Keyfob, Question};
use keyfob::model::field::Field;
use keyfob::model::identity::{FieldError, IdentityName};
use keyfob::model::secret::Pin;
use zeroize::Zeroizing;

use crate::cli::ImportArgs;
use crate::terminal::{self, Ask};

/// Answers the import's questions: PINs from stdin, one per imported key
/// (then nothing is asked), or on the terminal with a confirmation each.
struct Terminal {
    yes: bool,
    pins: Option<RefCell<std::vec::IntoIter<Zeroizing<String>>>>,
}

impl Confirm for Terminal {
    fn confirm(&self, question: &Question<'_>) -> Result<(), AppError> {
        Ask {
            yes: self.yes || self.pins.is_some(),
        }
        .confirm(question)
    }
}

impl ImportHost for Terminal {
    fn pin(&self, identity: &IdentityName) -> Result<Pin, AppError> {
        if let Some(lines) = &self.pins {
            return match lines.borrow_mut().next() {
                Some(mut l) => Ok(Pin::new(std::mem::take(&mut *l))),
                None => Err(FieldError::new(
                    Field::Pin,
                    "missing: --pin-stdin expects one PIN per imported key, one per line",
                )
                .into()),
            };
        }
        let hint = "use --pin-stdin";
        terminal::new_pin(
            &format!("PIN for identity {identity} (at least 6 characters): "),
            "Same PIN again: ",
            hint,
        )
    }

    fn say(&self, line: &str) {
        println!("{line}");
    }
}

pub fn run(kf: &Keyfob, args: ImportArgs) -> anyhow::Result<()> {
    let pins = if args.pin_stdin {
        // At most one PIN per key in the file; unused lines are wiped.
        Some(RefCell::new(terminal::stdin_lines(usize::MAX)?.into_iter()))
    } else {
        None
    };
    let report = app::import(
        kf,
        &Terminal {
            yes: args.yes,
            pins,
        },
    )?;
    if let Some((path, backup, count)) = &report.cleaned {
        println!(
            "Removed {count} key(s) from {}. The previous file is kept as {} — it still holds the plaintext keys: delete it once everything works.",
            path.display(),
            backup.display()
        );
    }
    Ok(())
}
