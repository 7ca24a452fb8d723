//! The access-keys panel of an identity's page (`keyfob keys`; screen
//! `keys`).

use serde::Serialize;
use ts_rs::TS;

use keyfob::app::access_keys::KeyRow;

use super::rfc3339;

/// One of the user's access keys, as `keyfob keys` shows it. Key IDs are
/// not secret; the CLI prints them whole too.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct KeyView {
    pub access_key_id: String,
    /// `Active` or `Inactive`.
    pub status: String,
    /// RFC 3339.
    pub created: Option<String>,
    pub age_days: Option<i32>,
    /// Past the IAM guide's 90 days.
    pub old: bool,
    /// The age as shown (`12 d`, `120 d — rotate (over 90 d)`, `unknown`).
    pub age: String,
    /// RFC 3339; none if never used.
    pub last_used: Option<String>,
    pub last_used_service: Option<String>,
    pub last_used_region: Option<String>,
    /// The key the vault holds.
    pub in_vault: bool,
}

impl From<KeyRow> for KeyView {
    fn from(k: KeyRow) -> Self {
        Self {
            access_key_id: k.access_key_id,
            status: k.status.clone(),
            created: k.created.map(rfc3339),
            age_days: k.age_days.map(|d| d.clamp(0, i32::MAX as i64) as i32),
            old: k.age_days.is_some_and(keyfob::app::access_keys::is_old),
            age: k
                .age_days
                .map(keyfob::app::access_keys::age_text)
                .unwrap_or_else(|| "unknown".into()),
            last_used: k.last_used.date.map(rfc3339),
            last_used_service: k.last_used.service,
            last_used_region: k.last_used.region,
            in_vault: k.in_vault,
        }
    }
}
