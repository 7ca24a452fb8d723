//! The TPM as the faces show it: whether one answers, its
//! dictionary-attack state, what protects each identity, and setting its
//! lockout authorization (`keyfob doctor`, the app's settings).

use crate::model::identity::Identity;
use crate::model::secret::{Pin, SecretBytes};
use crate::platform::bound::Protection;
use crate::platform::tpm::{self, Tpm, TpmError, TpmStatus};
use crate::vault::VaultError;

use super::{AppError, Keyfob};

/// What `doctor` says of the TPM.
pub struct TpmReport {
    /// Where keyfob looks for it (`TPM2TOOLS_TCTI`, `TCTI`, or the device).
    pub tcti: String,
    pub status: Result<TpmStatus, TpmError>,
}

/// Asks the TPM for its state (connecting anew: its counter changes).
pub fn tpm_report() -> TpmReport {
    TpmReport {
        tcti: tpm::tcti(),
        status: Tpm::open().and_then(|mut t| t.status()),
    }
}

/// An identity and what protects its key, or why that cannot be read.
pub type Protected = (Identity, Result<Protection, VaultError>);

/// Each identity with what protects its key (read from the sealed
/// entries' headers: no PIN, no TPM).
pub fn protections(kf: &Keyfob) -> Result<Vec<Protected>, AppError> {
    let vault = kf.vault()?;
    Ok(vault
        .list()?
        .into_iter()
        .map(|i| {
            let p = vault.protection(&i);
            (i, p)
        })
        .collect())
}

/// Sets a random 32-byte lockout authorization on the TPM, sealed first
/// under `pin` in the store (so it is never set and lost): without it
/// nobody can reset the TPM's wrong-PIN counter, which otherwise anyone on
/// the machine can. Refused by the TPM if one is set already.
pub fn set_lockout_auth(kf: &Keyfob, pin: &Pin) -> Result<(), AppError> {
    let mut tpm = Tpm::open().map_err(tpm_error)?;
    let status = tpm.status().map_err(tpm_error)?;
    if status.lockout_auth_set {
        return Err(tpm_error(TpmError::Failed {
            tcti: tpm.tcti().to_owned(),
            message: "it has a lockout authorization already; keyfob leaves it as it is".into(),
        }));
    }
    let mut auth = zeroize::Zeroizing::new([0u8; 32]);
    getrandom::fill(auth.as_mut()).map_err(|_| {
        tpm_error(TpmError::Failed {
            tcti: tpm.tcti().to_owned(),
            message: "the system's random number generator failed".into(),
        })
    })?;
    let vault = kf.vault()?;
    vault.store_lockout_auth(pin, auth.as_ref())?;
    if let Err(e) = tpm.set_lockout_auth(auth.as_ref()) {
        let _ = vault.forget_lockout_auth();
        return Err(tpm_error(e));
    }
    tracing::info!("TPM lockout authorization set");
    Ok(())
}

/// The lockout authorization keyfob set, opened with its PIN.
pub fn lockout_auth(kf: &Keyfob, pin: &Pin) -> Result<SecretBytes, AppError> {
    Ok(kf.vault()?.open_lockout_auth(pin)?)
}

/// Ends a TPM lockout at once (TPM2_DictionaryAttackLockReset) with the
/// lockout authorization keyfob set, opened with its PIN: the count of
/// wrong PINs starts from zero and the right PIN works again.
pub fn reset_lockout(kf: &Keyfob, pin: &Pin) -> Result<(), AppError> {
    let auth = kf.vault()?.open_lockout_auth(pin)?;
    let at = tpm::tcti();
    tpm::reset_lockout(&at, auth.expose()).map_err(|e| match e {
        TpmError::AuthFail => tpm_error(TpmError::Failed {
            tcti: at.clone(),
            message: "it refused the lockout authorization keyfob keeps (was it changed or the TPM cleared since?)".into(),
        }),
        e => tpm_error(e),
    })?;
    tracing::info!("TPM dictionary-attack lockout reset");
    Ok(())
}

fn tpm_error(source: TpmError) -> AppError {
    VaultError::Tpm { name: None, source }.into()
}

/// What protects a key, in a sentence for the app's identity page.
pub fn protection_text(p: &Protection) -> &'static str {
    match (p.tpm, p.recovery) {
        (true, true) => "PIN and this machine's TPM (a recovery code opens it without the TPM)",
        (true, false) => "PIN and this machine's TPM (no recovery code: a cleared TPM loses it)",
        (false, _) => {
            "PIN alone: guessing through keyfob backs off, offline guessing of a copied keychain does not"
        }
    }
}

/// The TPM in one line, and what is wrong with it if anything (no TPM, no
/// permission, the empty lockout authorization, a lockout now): what the
/// app's settings show.
pub fn tpm_summary(report: &TpmReport) -> (String, Option<String>) {
    match &report.status {
        Ok(s) => {
            let line = format!(
                "TPM 2.0 at {}: locks out after {} wrong PINs, one forgiven every {} s",
                report.tcti, s.max_auth_fail, s.lockout_interval
            );
            let problem = if s.in_lockout {
                Some(
                    TpmError::Lockout {
                        wait_secs: s.lockout_wait_secs(),
                    }
                    .to_string(),
                )
            } else if !s.lockout_auth_set {
                Some("its lockout authorization is empty: any program on this machine can reset its count of wrong PINs — `keyfob doctor --set-lockout-auth` sets one".into())
            } else {
                None
            };
            (line, problem)
        }
        Err(TpmError::NoTpm { .. }) => (
            format!(
                "no TPM answers at {}: keys are sealed under the PIN alone",
                report.tcti
            ),
            None,
        ),
        Err(e) => (
            format!("the TPM at {} cannot be used", report.tcti),
            Some(e.to_string()),
        ),
    }
}
