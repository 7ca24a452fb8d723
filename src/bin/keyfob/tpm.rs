//! `reseal`, and what `add` says of a key's protection: bound to the TPM
//! (with or without a recovery code), or the PIN alone and what that does
//! not stop.

use anyhow::Context as _;

use keyfob::app::{self, Keyfob};
use keyfob::model::field::{Field, FieldError};
use keyfob::model::identity::TpmChoice;
use keyfob::platform::bound::RecoveryCode;
use keyfob::platform::tty;
use keyfob::vault::{Opener, PIN_ONLY_NOTICE, Sealed};

use crate::cli::{BindArgs, ResealArgs};
use crate::terminal;

/// What `add` and `reseal` print of the protection a key got.
pub fn say_protection(name: &str, sealed: &Sealed) {
    if !sealed.protection.tpm {
        let why = match &sealed.no_tpm {
            Some(e) => format!(" ({e})"),
            None => String::new(),
        };
        eprintln!("Identity {name}: {PIN_ONLY_NOTICE}{why}.");
        return;
    }
    println!(
        "Identity {name} is bound to this machine's TPM: its key opens only with the PIN and this TPM, which refuses guesses after a few wrong PINs."
    );
    match &sealed.recovery {
        Some(code) => println!(
            "Recovery code (shown only now; write it down and keep it away from this machine): {}\n  It opens {name} without the TPM: keyfob reseal {name} --tpm off --recovery",
            code.display().as_str()
        ),
        None if sealed.protection.recovery => {
            println!("Its recovery code stays the one shown when it was first bound.")
        }
        None => println!(
            "No recovery code: if this TPM is cleared or the machine replaced, {name}'s key cannot be opened again (keep the access key elsewhere, or make a code: keyfob reseal {name} --tpm on --recovery-code)."
        ),
    }
}

/// The TPM choice of `add` or `sso add`: `--tpm`, else the setting; a
/// recovery code only where a TPM may bind.
pub fn choice(kf: &Keyfob, args: &BindArgs) -> anyhow::Result<TpmChoice> {
    let tpm = match &args.tpm {
        Some(t) => t.parse::<TpmChoice>()?,
        None => app::tpm_choice(kf),
    };
    if args.recovery_code && tpm == TpmChoice::Off {
        return Err(FieldError::new(
            Field::RecoveryCode,
            "is made only for a key bound to the TPM; --tpm off seals under the PIN alone, which opens it anywhere",
        )
        .into());
    }
    Ok(tpm)
}

/// What `add` and `sso add` print of the protection they sealed with.
pub fn say_added_protection(name: &str, sealed: &Sealed, args: &BindArgs) {
    say_protection(name, sealed);
    if args.recovery_code && !sealed.protection.tpm {
        println!(
            "No recovery code was made: the key is not bound to a TPM, so its PIN opens it anywhere."
        );
    }
}

pub fn reseal(kf: &Keyfob, args: ResealArgs) -> anyhow::Result<()> {
    let tpm = match args.tpm.as_str() {
        "on" => true,
        "off" => false,
        _ => return Err(FieldError::new(Field::Tpm, "--tpm must be on or off").into()),
    };
    if args.recovery_code && !tpm {
        return Err(FieldError::new(
            Field::RecoveryCode,
            "a recovery code is made only for a TPM-bound key (--tpm on)",
        )
        .into());
    }
    // A missing identity (of either kind) is said before anything is asked.
    let vault = kf.vault()?;
    if let Err(e) = vault.get(&args.name)
        && vault.sso_get(&args.name).is_err()
    {
        return Err(e.into());
    }
    // Made here, shown here: the agent gets it as an answer and sends no
    // secret back.
    let new_code = match args.recovery_code {
        true => Some(RecoveryCode::generate().context("no recovery code made")?),
        false => None,
    };
    let protection = if args.recovery {
        let (code, pin) = if args.stdin {
            let mut lines = terminal::pins_from_stdin(
                2,
                "--stdin --recovery expects the recovery code on line 1 and the new PIN on line 2",
            )?;
            let pin = lines.remove(1);
            (lines.remove(0), pin)
        } else {
            let hint = "use --stdin to give the recovery code and the new PIN on stdin";
            let code = tty::ask_pin("Recovery code: ", hint)?;
            let pin = terminal::new_pin("New PIN (at least 6 characters): ", "New PIN again: ", hint)?;
            (code, pin)
        };
        let code = RecoveryCode::parse(code.expose()).ok_or_else(|| {
            FieldError::new(
                Field::RecoveryCode,
                "must be the 26 letters and digits (2–7) shown when the key was bound, in groups of four",
            )
        })?;
        let opener = Opener::Recovery(&code);
        app::reseal(kf, &args.name, opener, Some(&pin), tpm, new_code.as_ref())
    } else {
        let pin = if args.stdin {
            terminal::pins_from_stdin(1, "--stdin expects the PIN on line 1")?.remove(0)
        } else {
            tty::ask_pin("PIN: ", "use --stdin to give the PIN on stdin")?
        };
        app::reseal(kf, &args.name, Opener::Pin(&pin), None, tpm, new_code.as_ref())
    }
    .with_context(|| format!("identity {} not resealed", args.name))?;
    println!(
        "Resealed identity {}: {}.",
        args.name,
        protection.describe()
    );
    let sealed = Sealed {
        protection,
        recovery: new_code,
        no_tpm: None,
    };
    say_protection(&args.name, &sealed);
    Ok(())
}
