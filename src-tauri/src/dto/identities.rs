//! The identities' shapes: the main view's groups and an identity's
//! own page (`IdentityView` with its audit badges), and the Add identity
//! form with what STS said of its keys (screens `home`, `identity`,
//! `add-identity`).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use ts_rs::TS;

use keyfob::app::IdentityAudit;
use keyfob::app::access_keys::FindingKind;
use keyfob::model::identity::Identity;

use super::{OLD_KEY_DAYS, rfc3339};
use crate::sealing::Sealed;

/// An identity as the main view and its own page show it: what `keyfob
/// list` shows.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct IdentityView {
    pub name: String,
    /// Masked: `AKIA…MPLE`.
    pub access_key_id: String,
    pub account: Option<String>,
    pub arn: Option<String>,
    pub verified: bool,
    pub root: bool,
    /// RFC 3339.
    pub added_at: String,
    pub key_age_days: i32,
    /// Past [`OLD_KEY_DAYS`]: time to rotate.
    pub key_old: bool,
    /// The age as shown (`12 d`, `120 d — rotate (over 90 d)`).
    pub key_age: String,
    /// What `keyfob audit` reports about it without a PIN.
    pub badges: Vec<BadgeView>,
    /// What protects its key (`keyfob list`'s PROTECTION, in words).
    pub protection: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub enum BadgeKind {
    /// The key is older than 90 days.
    OldKey,
    /// A root user's keys.
    Root,
    /// A rotation was started and not finished.
    Rotation,
    /// Two active keys and no rotation.
    TwoActive,
    /// A third-party role profile of this identity is not guarded.
    Unguarded,
}

/// One audit finding, shown as a badge with its explanation.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct BadgeView {
    pub kind: BadgeKind,
    /// The badge's short label (`key over 90 days`).
    pub label: String,
    pub text: String,
}

impl BadgeKind {
    /// The short label of a badge of this kind.
    pub fn label(self) -> String {
        match self {
            BadgeKind::OldKey => format!("key over {OLD_KEY_DAYS} days"),
            BadgeKind::Root => "root key".into(),
            BadgeKind::Rotation => "unfinished rotation".into(),
            BadgeKind::TwoActive => "two active keys".into(),
            BadgeKind::Unguarded => "unguarded third-party profile".into(),
        }
    }
}

impl IdentityView {
    pub fn new(i: &Identity, now: OffsetDateTime) -> Self {
        let age = i.key_age_days(now);
        Self {
            name: i.name.to_string(),
            access_key_id: i.access_key_id.masked(),
            account: i.account.clone(),
            arn: i.arn.clone(),
            verified: i.verified,
            root: i.is_root(),
            added_at: rfc3339(i.added_at),
            key_age_days: age.clamp(i32::MIN as i64, i32::MAX as i64) as i32,
            key_old: keyfob::app::access_keys::is_old(age),
            key_age: keyfob::app::access_keys::age_text(age),
            badges: Vec::new(),
            protection: String::new(),
        }
    }

    /// With what protects its key, read from its sealed entry.
    pub fn protected(mut self, vault: &keyfob::vault::Vault, i: &Identity) -> Self {
        self.protection = match vault.protection(i) {
            Ok(p) => keyfob::app::tpm::protection_text(&p).to_owned(),
            Err(e) => e.to_string(),
        };
        self
    }

    /// With the audit's badges.
    pub fn audited(a: &IdentityAudit, now: OffsetDateTime) -> Self {
        let mut view = Self::new(&a.identity, now);
        view.badges = a
            .findings
            .iter()
            .map(|f| {
                let kind = match f.kind {
                    FindingKind::OldKey => BadgeKind::OldKey,
                    FindingKind::Root => BadgeKind::Root,
                    FindingKind::Rotation => BadgeKind::Rotation,
                    FindingKind::TwoActive => BadgeKind::TwoActive,
                };
                BadgeView {
                    kind,
                    label: kind.label(),
                    text: f.message.clone(),
                }
            })
            .chain(a.unguarded_profiles.iter().map(|w| BadgeView {
                kind: BadgeKind::Unguarded,
                label: BadgeKind::Unguarded.label(),
                text: w.clone(),
            }))
            .collect();
        view
    }
}

/// The Add identity form. Received only; the secret and the PINs arrive
/// sealed ([`crate::sealing`]).
#[derive(Deserialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct NewIdentityForm {
    pub access_key_id: String,
    #[ts(type = "import(\"../sealing\").Secret")]
    pub secret_access_key: Sealed,
    pub identity_name: String,
    #[ts(type = "import(\"../sealing\").Secret")]
    pub pin: Sealed,
    #[ts(type = "import(\"../sealing\").Secret")]
    pub pin_confirmation: Sealed,
}

/// What STS said about keys being added, shown before they are saved.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct VerifiedKeys {
    pub identity_name: String,
    pub account: String,
    pub arn: String,
    /// A root user's keys: AWS advises against them.
    pub root: bool,
    /// The `[settings] tpm` choice (`require`, `prefer`, `off`): what the
    /// page preselects for binding the key to the TPM.
    pub tpm_default: String,
}

/// An identity just added, and what protects it. The recovery code, made
/// when asked for and the key was bound, is here to be shown once: the
/// page shows it and keeps no copy. No `Debug`: it carries that code.
#[derive(Clone, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct AddedView {
    pub identity: IdentityView,
    /// The recovery code as typed back (`ABCD-EFGH-…`), shown once.
    #[ts(type = "string | null")]
    pub recovery_code: Option<zeroize::Zeroizing<String>>,
    /// Why the key is under the PIN alone where a TPM was preferred.
    pub no_tpm: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_badge_kind_has_a_label_and_the_old_key_names_the_limit() {
        assert_eq!(BadgeKind::OldKey.label(), "key over 90 days");
        assert_eq!(BadgeKind::Root.label(), "root key");
        assert!(BadgeKind::Rotation.label().contains("rotation"));
        assert!(BadgeKind::Unguarded.label().contains("unguarded"));
        assert!(BadgeKind::TwoActive.label().contains("two active"));
    }
}
