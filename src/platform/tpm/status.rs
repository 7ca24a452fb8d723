//! What the TPM says of its dictionary-attack protection, and setting its
//! lockout authorization: the hole systemd documents is an empty
//! lockoutAuth, with which anyone on the machine can reset the counter
//! (`tpm2_dictionarylockout -c`) and so guess without limit.

use tss_esapi::constants::CapabilityType;
use tss_esapi::constants::property_tag::PropertyTag;
use tss_esapi::handles::AuthHandle;
use tss_esapi::structures::{Auth, CapabilityData};

use super::{Tpm, TpmError};

/// TPMA_PERMANENT bits (TPM 2.0 Part 2, 8.6).
const LOCKOUT_AUTH_SET: u32 = 1 << 2;
const IN_LOCKOUT: u32 = 1 << 9;

/// The TPM's dictionary-attack state (TPM 2.0 Part 1, 19.8.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TpmStatus {
    /// Failed authorizations the TPM counts now.
    pub lockout_counter: u32,
    /// Failures at which the TPM refuses DA-protected objects.
    pub max_auth_fail: u32,
    /// Seconds after which the counter drops by one (0: no DA protection).
    pub lockout_interval: u32,
    /// Seconds the lockout hierarchy waits after a failed lockoutAuth.
    pub lockout_recovery: u32,
    /// TPMA_PERMANENT.lockoutAuthSet: without it anyone can reset the counter.
    pub lockout_auth_set: bool,
    /// TPMA_PERMANENT.inLockout.
    pub in_lockout: bool,
}

impl TpmStatus {
    /// Failed PINs the TPM still takes before it locks out.
    pub fn tries_left(&self) -> u32 {
        self.max_auth_fail.saturating_sub(self.lockout_counter)
    }

    /// See [`lockout_wait_secs`].
    pub fn lockout_wait_secs(&self) -> u64 {
        lockout_wait_secs(self)
    }
}

/// How long until the TPM takes a PIN again: the counter drops by one each
/// `lockout_interval` seconds, and authorizations are refused while it is
/// at `max_auth_fail` or above, so the wait is at most
/// `(counter - max + 1) × interval` (the TPM does not say how far into the
/// current interval it is). 0 when the TPM is not locked out, and when it
/// forgives nothing by itself (interval 0: only a reset with the lockout
/// authorization ends it). LockoutRecovery is the lockout hierarchy's own
/// wait after a wrong lockout authorization, which `doctor` shows.
pub fn lockout_wait_secs(s: &TpmStatus) -> u64 {
    if (!s.in_lockout && s.lockout_counter < s.max_auth_fail) || s.lockout_interval == 0 {
        return 0;
    }
    let over = u64::from(s.lockout_counter.saturating_sub(s.max_auth_fail)) + 1;
    (over * u64::from(s.lockout_interval)).max(1)
}

impl Tpm {
    /// Reads the dictionary-attack properties and TPMA_PERMANENT, afresh
    /// (ESAPI's property cache would keep an old counter).
    pub fn status(&mut self) -> Result<TpmStatus, TpmError> {
        let first = u32::from(PropertyTag::Permanent);
        let last = u32::from(PropertyTag::LockoutRecovery);
        let (data, _) = self
            .ctx
            .execute_without_session(|ctx| {
                ctx.get_capability(CapabilityType::TpmProperties, first, last - first + 1)
            })
            .map_err(|e| self.failed("TPM2_GetCapability", e))?;
        let CapabilityData::TpmProperties(list) = data else {
            return Err(self.failed_msg("TPM2_GetCapability answered another capability"));
        };
        let get = |tag: PropertyTag| {
            list.iter()
                .find(|p| p.property() == tag)
                .map(|p| p.value())
                .unwrap_or(0)
        };
        let permanent = get(PropertyTag::Permanent);
        Ok(TpmStatus {
            lockout_counter: get(PropertyTag::LockoutCounter),
            max_auth_fail: get(PropertyTag::MaxAuthFail),
            lockout_interval: get(PropertyTag::LockoutInterval),
            lockout_recovery: get(PropertyTag::LockoutRecovery),
            lockout_auth_set: permanent & LOCKOUT_AUTH_SET != 0,
            in_lockout: permanent & IN_LOCKOUT != 0,
        })
    }

    /// Sets the lockout hierarchy's authorization to `new`, while it is
    /// still empty. Refused (with the TPM's answer) once one is set.
    pub fn set_lockout_auth(&mut self, new: &[u8]) -> Result<(), TpmError> {
        let auth = Auth::try_from(new.to_vec()).map_err(|e| self.failed("lockoutAuth", e))?;
        self.ctx
            .execute_with_nullauth_session(|ctx| {
                ctx.hierarchy_change_auth(AuthHandle::Lockout, auth)
            })
            .map_err(|e| self.failed("TPM2_HierarchyChangeAuth(lockout)", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(counter: u32, max: u32, interval: u32, in_lockout: bool) -> TpmStatus {
        TpmStatus {
            lockout_counter: counter,
            max_auth_fail: max,
            lockout_interval: interval,
            lockout_recovery: 86400,
            lockout_auth_set: false,
            in_lockout,
        }
    }

    #[test]
    fn the_wait_counts_the_intervals_until_the_counter_is_below_the_limit() {
        assert_eq!(lockout_wait_secs(&status(2, 3, 2, false)), 0);
        assert_eq!(lockout_wait_secs(&status(3, 3, 2, true)), 2);
        assert_eq!(lockout_wait_secs(&status(5, 3, 600, true)), 1800);
        // libtpms's defaults: 3 tries, 1000 s.
        assert_eq!(lockout_wait_secs(&status(3, 3, 1000, true)), 1000);
        assert_eq!(status(1, 3, 2, false).tries_left(), 2);
        // No self-healing: only a reset ends it (the error says so).
        assert_eq!(lockout_wait_secs(&status(3, 3, 0, true)), 0);
        assert!(
            super::super::TpmError::Lockout { wait_secs: 0 }
                .to_string()
                .contains("lockout authorization")
        );
        assert!(
            super::super::TpmError::Lockout { wait_secs: 2 }
                .to_string()
                .contains("try again in 2 s")
        );
    }
}
