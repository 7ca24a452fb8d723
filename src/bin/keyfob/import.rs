//! `import`: moving long-term keys that other tools keep (the shared
//! credentials file, aws-vault's stores) into the vault, and their
//! profiles into keyfob. The flow is the core's ([`keyfob::app::import`]);
//! this file resolves the source's settings, asks on the terminal (or
//! reads `--pin-stdin`) and prints.

use std::cell::RefCell;
use std::path::PathBuf;

use keyfob::app::{self, AppError, Confirm, ImportHost, ImportRun, Keyfob, Question};
use keyfob::model::field::Field;
use keyfob::model::flow::{ImportSource, Removal};
use keyfob::model::identity::{FieldError, IdentityName};
use keyfob::model::secret::Pin;
use keyfob::platform::tty;
use zeroize::Zeroizing;

use crate::cli::{ImportArgs, ImportFrom};
use crate::terminal::{self, Ask};

/// aws-vault reads its file backend's passphrase from this variable
/// before it asks (aws-vault v7.2.0 cli/global.go
/// `fileKeyringPassphrasePrompt`).
const PASSPHRASE_VAR: &str = "AWS_VAULT_FILE_PASSPHRASE";

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

    fn passphrase(&self, question: &str) -> Result<Zeroizing<String>, AppError> {
        if let Some(value) = std::env::var_os(PASSPHRASE_VAR) {
            return Ok(Zeroizing::new(value.to_string_lossy().into_owned()));
        }
        Ok(tty::ask_hidden(
            question,
            "passphrase",
            &format!("set {PASSPHRASE_VAR}"),
        )?)
    }
}

/// `~/…` as aws-vault expands it (keyring's `ExpandTilde`).
fn expand_tilde(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), dirs::home_dir()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(path),
    }
}

pub fn run(kf: &Keyfob, args: ImportArgs) -> anyhow::Result<()> {
    let pins = if args.pin_stdin && !args.dry_run {
        // At most one PIN per key in the file; unused lines are wiped.
        Some(RefCell::new(terminal::stdin_lines(usize::MAX)?.into_iter()))
    } else {
        None
    };
    let source = match args.from {
        ImportFrom::CredentialsFile => ImportSource::CredentialsFile,
        ImportFrom::AwsVault => ImportSource::AwsVault {
            collection: args.secret_service_collection.clone(),
            file_dir: expand_tilde(&args.file_dir),
        },
    };
    let removal = match (args.yes, args.pin_stdin) {
        (true, _) => Removal::Yes,
        (false, true) => Removal::Keep,
        (false, false) => Removal::Ask,
    };
    let run = ImportRun {
        source,
        dry_run: args.dry_run,
        removal,
    };
    let report = app::import(
        kf,
        &Terminal {
            yes: args.yes,
            pins,
        },
        &run,
    )?;
    if let Some((path, backup, count)) = &report.cleaned {
        println!(
            "Removed {count} key(s) from {}. The previous file is kept as {} — it still holds the plaintext keys: delete it once everything works.",
            path.display(),
            backup.display()
        );
    }
    for line in &report.kept {
        println!("{line}");
    }
    Ok(())
}
