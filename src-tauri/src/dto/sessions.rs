//! Sessions and what opens them: the unlock dialog's form, the PIN form
//! of any one operation, and a session as the lists show it (screens
//! `unlock`, `home`, `quick-switch`).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use keyfob::app::SessionInfo;

use super::rfc3339;
use crate::sealing::Sealed;

/// The unlock dialog's form (the main view, the quick switcher). Received
/// only.
#[derive(Deserialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct UnlockForm {
    pub profile: String,
    #[ts(type = "import(\"../sealing\").Secret")]
    pub pin: Sealed,
    pub mfa_code: Option<String>,
}

/// A PIN (and MFA code) for one operation. Received only; wiped on drop.
#[derive(Deserialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct PinForm {
    #[ts(type = "import(\"../sealing\").Secret")]
    pub pin: Sealed,
    pub mfa_code: Option<String>,
}

#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct SessionView {
    pub profile: String,
    pub identity: String,
    /// RFC 3339.
    pub expires_at: String,
}

impl From<SessionInfo> for SessionView {
    fn from(s: SessionInfo) -> Self {
        Self {
            profile: s.profile,
            identity: s.identity,
            expires_at: rfc3339(s.expires_at),
        }
    }
}
