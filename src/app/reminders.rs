//! The desktop notification "this key is over 90 days old": which keys need
//! one ([`due`], a pure function), and the record of the keys already
//! notified ([`Notified`], `reminders.json` in the data folder) so a key is
//! announced once, not at every start.
//!
//! The record holds access key IDs (not secret) and is written atomically
//! ([`crate::platform::fsutil::write_atomic`]). An unreadable record is treated as
//! empty: at worst a reminder is shown again.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::app::access_keys::MAX_AGE_DAYS;
use crate::model::identity::Identity;
use crate::platform::fsutil::{WriteError, write_atomic};
use crate::platform::paths::Paths;

const VERSION: u32 = 1;

/// The keys already notified.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notified {
    version: u32,
    /// Access key IDs.
    keys: BTreeSet<String>,
}

/// One reminder to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Due {
    pub identity: String,
    pub access_key_id: String,
    pub age_days: i64,
}

impl Due {
    pub fn title(&self) -> String {
        format!("keyfob: rotate the key of {}", self.identity)
    }

    pub fn body(&self) -> String {
        format!(
            "Its access key is {} days old (over {MAX_AGE_DAYS}). The Rotation screen, or `keyfob rotate {}`, replaces it without downtime.",
            self.age_days, self.identity
        )
    }
}

/// The keys past [`MAX_AGE_DAYS`] at `now` that were not notified yet, in
/// the identities' order. A rotated identity has a new key ID, so its new
/// key is reminded of again in 90 days.
pub fn due(identities: &[Identity], notified: &Notified, now: OffsetDateTime) -> Vec<Due> {
    identities
        .iter()
        .filter(|i| i.key_age_days(now) > MAX_AGE_DAYS)
        .filter(|i| !notified.keys.contains(i.access_key_id.as_str()))
        .map(|i| Due {
            identity: i.name.to_string(),
            access_key_id: i.access_key_id.to_string(),
            age_days: i.key_age_days(now),
        })
        .collect()
}

impl Notified {
    /// Where the record lives.
    pub fn path(paths: &Paths) -> PathBuf {
        paths.data_dir.join("reminders.json")
    }

    /// The record at `path`; empty if missing or unreadable.
    pub fn load(path: &Path) -> Notified {
        std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice::<Notified>(&b).ok())
            .filter(|n| n.version == VERSION)
            .unwrap_or_else(|| Notified {
                version: VERSION,
                keys: BTreeSet::new(),
            })
    }

    pub fn mark(&mut self, access_key_id: &str) {
        self.version = VERSION;
        self.keys.insert(access_key_id.to_owned());
    }

    /// Forgets keys no identity holds any more (rotated or removed).
    pub fn keep_only(&mut self, identities: &[Identity]) {
        self.keys
            .retain(|k| identities.iter().any(|i| i.access_key_id.as_str() == k));
    }

    pub fn save(&self, path: &Path) -> Result<(), WriteError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| WriteError {
                path: dir.into(),
                source,
            })?;
        }
        // Plain data: serialising cannot fail.
        let bytes = serde_json::to_vec_pretty(self).expect("the record serialises");
        write_atomic(path, &bytes, 0o600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::identity::{AccessKeyId, IdentityName};
    use time::macros::datetime;

    fn identity(name: &str, key: &str, created: OffsetDateTime) -> Identity {
        Identity {
            id: name.into(),
            name: IdentityName::parse(name).unwrap(),
            access_key_id: AccessKeyId::parse(key).unwrap(),
            account: None,
            arn: None,
            user_id: None,
            verified: true,
            added_at: created,
            key_created_at: Some(created),
            facts: None,
            endpoints: None,
        }
    }

    #[test]
    fn old_keys_are_due_once() {
        let now = datetime!(2025-06-01 0:00 UTC);
        let days = |d| now - time::Duration::days(d);
        let ids = [
            identity("old", "AKIAOLDOLDOLDOLDOLD1", days(91)),
            identity("edge", "AKIAEDGEEDGEEDGEEDG1", days(90)),
            identity("new", "AKIANEWNEWNEWNEWNEW1", days(3)),
        ];
        let mut notified = Notified::default();
        let found = due(&ids, &notified, now);
        assert_eq!(
            found,
            [Due {
                identity: "old".into(),
                access_key_id: "AKIAOLDOLDOLDOLDOLD1".into(),
                age_days: 91,
            }]
        );
        assert!(found[0].body().contains("91 days old"));
        notified.mark("AKIAOLDOLDOLDOLDOLD1");
        assert!(due(&ids, &notified, now).is_empty());
        // A day later the edge key is due; the old one still is not.
        let later = now + time::Duration::days(1);
        let found = due(&ids, &notified, later);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].identity, "edge");
    }

    #[test]
    fn the_record_survives_a_restart_and_forgets_rotated_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data/reminders.json");
        assert_eq!(Notified::load(&path).keys.len(), 0);
        let mut n = Notified::load(&path);
        n.mark("AKIAOLDOLDOLDOLDOLD1");
        n.mark("AKIAGONEGONEGONEGON1");
        n.save(&path).unwrap();
        let mut again = Notified::load(&path);
        assert_eq!(again, n);
        let now = datetime!(2025-06-01 0:00 UTC);
        again.keep_only(&[identity("old", "AKIAOLDOLDOLDOLDOLD1", now)]);
        assert_eq!(
            again.keys.iter().collect::<Vec<_>>(),
            ["AKIAOLDOLDOLDOLDOLD1"]
        );
        // Garbage reads as empty rather than failing the app's start.
        std::fs::write(&path, b"not json").unwrap();
        assert_eq!(Notified::load(&path).keys.len(), 0);
    }
}
