//! A profile's session cache keys and fingerprints: which cached session
//! it may use, and when a cached one no longer matches the profile.

use super::model::*;
use crate::model::session::digest;

impl Profile {
    /// The cache key of the identity session this profile uses: shared by
    /// every profile of the identity with the same MFA device, so MFA is
    /// asked once for all its roles.
    pub fn identity_session_key(&self) -> String {
        let mfa = self.mfa_serial.as_deref().unwrap_or("");
        format!("id.{}.{}", self.identity, digest(&[mfa]))
    }

    /// The cache key of the identity's console (federated user) session.
    pub fn console_session_key(&self) -> String {
        format!("console.{}", self.identity)
    }

    /// The federated user a console session of the identity signs in as:
    /// `keyfob-IDENTITY`, cut to GetFederationToken's 32 characters.
    pub fn federated_user_name(&self) -> String {
        format!("keyfob-{}", self.identity)
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(*c))
            .take(32)
            .collect()
    }

    /// The cache key of this profile's role session, if it has a role.
    pub fn role_session_key(&self) -> Option<String> {
        self.role.as_ref().map(|_| format!("role.{}", self.name))
    }

    /// The key of the session `credential-process` hands out.
    pub fn session_key(&self) -> String {
        self.role_session_key()
            .or_else(|| self.sso_session_key())
            .or_else(|| self.login_session_key())
            .unwrap_or_else(|| self.identity_session_key())
    }

    /// The cache key of an AWS sign-in's credentials: one per identity,
    /// shared by its profiles.
    pub fn login_session_key(&self) -> Option<String> {
        self.login
            .as_ref()
            .map(|_| format!("login.{}", self.identity))
    }

    /// The cache key of an Identity Center role session: shared by every
    /// profile of the same identity, account and role.
    pub fn sso_session_key(&self) -> Option<String> {
        self.sso.as_ref().map(|s| {
            format!(
                "sso.{}.{}",
                self.identity,
                digest(&[&s.account_id, &s.role_name])
            )
        })
    }

    /// What the session was made for; a cached session whose fingerprint
    /// differs (the profile was edited) is not used.
    pub fn fingerprint(&self) -> String {
        let role = self.role.as_ref();
        fn opt(v: Option<&String>) -> &str {
            v.map(String::as_str).unwrap_or("")
        }
        let tags = role
            .map(|r| {
                let tags: Vec<String> = r
                    .tags
                    .iter()
                    .map(|(k, v)| format!("{k}\u{1f}{v}"))
                    .collect();
                format!(
                    "{}\u{1e}{}\u{1e}{}",
                    tags.join("\u{1d}"),
                    r.transitive_tags.join("\u{1d}"),
                    r.policy_arns.join("\u{1d}")
                )
            })
            .unwrap_or_default();
        // A chained session depends on its source's: editing any hop
        // makes the sessions after it new.
        let source = self
            .source
            .as_ref()
            .map(|s| s.fingerprint())
            .unwrap_or_default();
        let duration = self.duration_secs.unwrap_or(0).to_string();
        let mut parts = vec![
            self.identity.as_str(),
            opt(self.mfa_serial.as_ref()),
            role.map(|r| r.arn.as_str()).unwrap_or(""),
            opt(role.and_then(|r| r.external_id.as_ref())),
            opt(role.and_then(|r| r.session_name.as_ref())),
            opt(role.and_then(|r| r.source_identity.as_ref())),
            &duration,
            &tags,
            &source,
        ];
        // Only Identity Center profiles carry the extra part, so every
        // other profile keeps the fingerprint (and cached session) it had.
        if let Some(s) = &self.sso {
            parts.push(&s.account_id);
            parts.push(&s.role_name);
        }
        if let Some(l) = &self.login {
            parts.push("login");
            parts.push(l);
        }
        digest(&parts)
    }

    /// The fingerprint of the identity session (identity + MFA device).
    pub fn identity_fingerprint(&self) -> String {
        digest(&[
            self.identity.as_str(),
            self.mfa_serial.as_deref().unwrap_or(""),
        ])
    }
}
