//! What crosses the IPC boundary, shaped for the UI. TypeScript types are
//! generated from these by ts-rs (`cargo test -p keyfob-desktop` writes
//! ui/src/api/bindings/). Form types that carry a secret are received only
//! (Deserialize, never Serialize) and hold it in wiped-on-drop buffers;
//! nothing sent back to the UI carries a secret.
//!
//! One file per screen (or group of screens) of the UI; each is
//! re-exported here, so the rest of the app names them `dto::X`.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

mod access;
mod identities;
mod keys;
mod profiles;
mod prompt;
mod provider;
mod rotation;
mod sessions;
mod settings;
mod sso;

pub use access::*;
pub use identities::*;
pub use keys::*;
pub use profiles::*;
pub use prompt::*;
pub use provider::*;
pub use rotation::*;
pub use sessions::*;
pub use settings::*;
pub use sso::*;

/// Keys older than this are flagged, following the IAM guide (as `keyfob
/// list` does).
pub const OLD_KEY_DAYS: i64 = keyfob::app::access_keys::MAX_AGE_DAYS;

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}
