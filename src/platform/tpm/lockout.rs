//! Ending a dictionary-attack lockout at once with the lockout
//! authorization keyfob set: TPM2_DictionaryAttackLockReset. tss-esapi 7
//! has no call for it, so this uses tpm2-tss's own ESAPI function,
//! `Esys_DictionaryAttackLockReset`, through the bindings tss-esapi
//! re-exports (`tss_esapi::tss2_esys`), on an ESAPI context of its own —
//! still ESAPI's marshalling and session handling, no command built here.
//!
//! The authorization is an HMAC session: the TPM checks an HMAC keyed
//! with the lockout authorization, which itself never crosses the bus.

use std::ffi::CString;
use std::ptr::null_mut;

use tss_esapi::constants::response_code::{Tss2ResponseCode, Tss2ResponseCodeKind};
use tss_esapi::constants::tss;
use tss_esapi::tss2_esys as sys;
use zeroize::Zeroize;

use super::TpmError;

/// An ESAPI context on its own TCTI, finalized (both) on drop.
struct Esys {
    tcti: *mut sys::TSS2_TCTI_CONTEXT,
    ctx: *mut sys::ESYS_CONTEXT,
}

impl Drop for Esys {
    fn drop(&mut self) {
        // SAFETY: each pointer is null or what its initializer returned,
        // finalized once here (the functions null them), the context
        // before the TCTI it uses.
        unsafe {
            if !self.ctx.is_null() {
                sys::Esys_Finalize(&mut self.ctx);
            }
            if !self.tcti.is_null() {
                sys::Tss2_TctiLdr_Finalize(&mut self.tcti);
            }
        }
    }
}

/// Resets the dictionary-attack counter of the TPM at `tcti` with its
/// lockout authorization `auth` (at most 64 bytes): a lockout ends at
/// once and the count of wrong PINs starts from zero. A wrong `auth` is
/// [`TpmError::AuthFail`] (the TPM then refuses the lockout hierarchy for
/// its LockoutRecovery). Open no other connection to the TPM meanwhile:
/// a simulator over TCP serves one at a time.
pub fn reset_lockout(tcti: &str, auth: &[u8]) -> Result<(), TpmError> {
    let failed = |what: &str, rc: u32| TpmError::Failed {
        tcti: tcti.to_owned(),
        message: format!("{what}: {}", tss_esapi::Error::Tss2Error(rc.into())),
    };
    let conf = CString::new(tcti).map_err(|_| failed("the TCTI names a NUL", 0))?;
    let mut esys = Esys {
        tcti: null_mut(),
        ctx: null_mut(),
    };
    // SAFETY: `conf` is a NUL-terminated string that outlives the call;
    // the out-pointer is ours.
    let rc = unsafe { sys::Tss2_TctiLdr_Initialize(conf.as_ptr(), &mut esys.tcti) };
    if rc != 0 {
        return Err(TpmError::NoTpm {
            tcti: tcti.to_owned(),
        });
    }
    // SAFETY: a TCTI just initialized; no ABI version (null) is allowed.
    let rc = unsafe { sys::Esys_Initialize(&mut esys.ctx, esys.tcti, null_mut()) };
    if rc != 0 {
        return Err(failed("Esys_Initialize", rc));
    }
    let mut session: sys::ESYS_TR = sys::ESYS_TR_NONE;
    // An unsalted, unbound HMAC session with no parameter encryption
    // (TPM2_DictionaryAttackLockReset has no parameters): the random
    // 32-byte authorization cannot be guessed from its HMAC.
    // SAFETY: all-zero is a valid TPMT_SYM_DEF (plain data).
    let mut symmetric: sys::TPMT_SYM_DEF = unsafe { std::mem::zeroed() };
    symmetric.algorithm = tss::TPM2_ALG_NULL;
    // SAFETY: a live context; null nonce and handles NONE are allowed.
    let rc = unsafe {
        sys::Esys_StartAuthSession(
            esys.ctx,
            sys::ESYS_TR_NONE,
            sys::ESYS_TR_NONE,
            sys::ESYS_TR_NONE,
            sys::ESYS_TR_NONE,
            sys::ESYS_TR_NONE,
            std::ptr::null(),
            tss::TPM2_SE_HMAC,
            &symmetric,
            tss::TPM2_ALG_SHA256,
            &mut session,
        )
    };
    if rc != 0 {
        return Err(failed("Esys_StartAuthSession", rc));
    }
    let result = reset_in(&esys, session, auth, tcti);
    // SAFETY: a live context and the session it started.
    unsafe { sys::Esys_FlushContext(esys.ctx, session) };
    result
}

fn reset_in(esys: &Esys, session: sys::ESYS_TR, auth: &[u8], tcti: &str) -> Result<(), TpmError> {
    // SAFETY: all-zero is a valid TPM2B_AUTH (plain data).
    let mut value: sys::TPM2B_AUTH = unsafe { std::mem::zeroed() };
    if auth.len() > value.buffer.len() {
        return Err(TpmError::Failed {
            tcti: tcti.to_owned(),
            message: "the lockout authorization is longer than 64 bytes".into(),
        });
    }
    value.buffer[..auth.len()].copy_from_slice(auth);
    value.size = auth.len() as u16;
    // SAFETY: a live context; ESAPI copies the value.
    let rc = unsafe { sys::Esys_TR_SetAuth(esys.ctx, sys::ESYS_TR_RH_LOCKOUT, &value) };
    value.buffer.zeroize();
    if rc != 0 {
        return Err(TpmError::Failed {
            tcti: tcti.to_owned(),
            message: format!(
                "Esys_TR_SetAuth: {}",
                tss_esapi::Error::Tss2Error(rc.into())
            ),
        });
    }
    // SAFETY: a live context and session; the lockout hierarchy's handle.
    let rc = unsafe {
        sys::Esys_DictionaryAttackLockReset(
            esys.ctx,
            sys::ESYS_TR_RH_LOCKOUT,
            session,
            sys::ESYS_TR_NONE,
            sys::ESYS_TR_NONE,
        )
    };
    // Forget the authorization ESAPI keeps for the hierarchy.
    // SAFETY: all-zero is a valid (empty) TPM2B_AUTH; a live context.
    unsafe {
        let empty: sys::TPM2B_AUTH = std::mem::zeroed();
        sys::Esys_TR_SetAuth(esys.ctx, sys::ESYS_TR_RH_LOCKOUT, &empty);
    }
    match rc {
        0 => Ok(()),
        rc => Err(match Tss2ResponseCode::from(rc).kind() {
            Some(Tss2ResponseCodeKind::AuthFail | Tss2ResponseCodeKind::BadAuth) => {
                TpmError::AuthFail
            }
            Some(Tss2ResponseCodeKind::Lockout) => TpmError::Failed {
                tcti: tcti.to_owned(),
                message: "the TPM refuses its lockout authorization for now (a wrong one was tried: wait its LockoutRecovery, see `keyfob doctor`)".into(),
            },
            _ => TpmError::Failed {
                tcti: tcti.to_owned(),
                message: format!(
                    "TPM2_DictionaryAttackLockReset: {}",
                    tss_esapi::Error::Tss2Error(rc.into())
                ),
            },
        }),
    }
}
