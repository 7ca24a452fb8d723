//! Sessions: short-lived STS credentials, their credential_process JSON,
//! and the cache that keeps them until shortly before they expire.
//!
//! The cache is the Linux kernel's user keyring where it answers: a read is
//! two system calls, with no D-Bus round trip and no async runtime, which
//! is what keeps `credential-process` on a cache hit about as fast as `cat`.
//! Keys there are readable only by this user and expire with the session
//! (the kernel's own timeout). Elsewhere, or where keyctl is blocked (some
//! containers), sessions stay in the keyfob agent's memory
//! ([`crate::agent`]). Never in the secret store, never in a file.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use zeroize::Zeroizing;

use crate::model::endpoints::Endpoints;
use crate::model::secret::{SecretAccessKey, SessionToken};

/// botocore refreshes credential_process credentials 15 minutes before
/// they expire; a session with less left is refreshed here, or every AWS
/// command would call keyfob twice.
pub const REFRESH_WINDOW: Duration = Duration::from_secs(15 * 60);

/// The window of an AWS sign-in's credentials, which live 15 minutes only
/// (so [`REFRESH_WINDOW`] would renew them on every call): the AWS CLI's
/// own for them (botocore's `LoginCredentialFetcher`, 5 minutes).
pub const SIGN_IN_REFRESH_WINDOW: Duration = Duration::from_secs(5 * 60);

/// Short-lived STS credentials.
pub struct Session {
    pub access_key_id: String,
    pub secret_access_key: SecretAccessKey,
    pub session_token: SessionToken,
    pub expiration: OffsetDateTime,
    /// Where it was made, and so where calls made with it (a role assumed
    /// from it, a console sign-in) go: the identity's endpoints. Kept in
    /// cache entries, never in credential_process output.
    pub endpoints: Endpoints,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key)
            .field("session_token", &self.session_token)
            .field("expiration", &self.expiration)
            .field("endpoints", &self.endpoints)
            .finish()
    }
}

/// The credential_process JSON (version 1), borrowing the secrets so the
/// only copy made is the output buffer, which is wiped.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ProcessJson<'a> {
    version: u8,
    access_key_id: &'a str,
    secret_access_key: &'a str,
    session_token: &'a str,
    expiration: &'a str,
    /// Cache entries only: what the session was made for (see
    /// [`Session::to_cache_json`]). Never in credential_process output.
    #[serde(skip_serializing_if = "Option::is_none")]
    fingerprint: Option<&'a str>,
    /// Cache entries only: where the session was made.
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoints: Option<&'a Endpoints>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProcessJsonOwned {
    version: u8,
    access_key_id: String,
    secret_access_key: Zeroizing<String>,
    session_token: Zeroizing<String>,
    expiration: String,
    #[serde(default)]
    fingerprint: Option<String>,
    #[serde(default)]
    endpoints: Option<Endpoints>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SessionError {
    #[error("credential JSON is not valid: {0}")]
    Json(String),
    #[error("credential JSON has Version {0}; only 1 is defined")]
    Version(u8),
    #[error("credential JSON has an Expiration that is not RFC 3339: {0}")]
    Expiration(String),
    #[error("credential JSON has an empty {0}")]
    Empty(&'static str),
}

impl Session {
    /// The exact credential_process output: one line of JSON v1.
    pub fn to_process_json(&self) -> Zeroizing<String> {
        self.json(None)
    }

    /// The cached form: the same JSON plus a fingerprint of the profile
    /// settings it was made with, so an edited profile misses the cache.
    pub fn to_cache_json(&self, fingerprint: &str) -> Zeroizing<String> {
        self.json(Some(fingerprint))
    }

    fn json(&self, fingerprint: Option<&str>) -> Zeroizing<String> {
        let expiration = self
            .expiration
            .format(&Rfc3339)
            // Rfc3339 formats any UTC date between years 0 and 9999.
            .expect("an STS expiration formats as RFC 3339");
        let out = ProcessJson {
            version: 1,
            access_key_id: &self.access_key_id,
            secret_access_key: self.secret_access_key.expose(),
            session_token: self.session_token.expose(),
            expiration: &expiration,
            fingerprint,
            endpoints: fingerprint.map(|_| &self.endpoints),
        };
        // Reserved up front so the buffer never reallocates (a reallocation
        // would free an unwiped partial copy of the secrets).
        let capacity = 256
            + self.access_key_id.len()
            + self.secret_access_key.expose().len()
            + self.session_token.expose().len()
            + fingerprint.map_or(0, |f| {
                f.len() + 64 + self.endpoints.url.as_ref().map_or(0, String::len)
            });
        let mut buf = Zeroizing::new(Vec::with_capacity(capacity));
        // Serialising borrowed strings into a Vec cannot fail.
        serde_json::to_writer(&mut *buf, &out).expect("credential JSON serialises");
        let text = String::from_utf8(std::mem::take(&mut *buf)).expect("serde_json writes UTF-8");
        Zeroizing::new(text)
    }

    /// Parses credential_process JSON (or a cache entry), returning the
    /// session and the fingerprint if any.
    pub fn from_json(bytes: &[u8]) -> Result<(Session, Option<String>), SessionError> {
        let mut parsed: ProcessJsonOwned =
            serde_json::from_slice(bytes).map_err(|e| SessionError::Json(e.to_string()))?;
        if parsed.version != 1 {
            return Err(SessionError::Version(parsed.version));
        }
        for (name, value) in [
            ("AccessKeyId", parsed.access_key_id.as_str()),
            ("SecretAccessKey", parsed.secret_access_key.as_str()),
            ("SessionToken", parsed.session_token.as_str()),
        ] {
            if value.is_empty() {
                return Err(SessionError::Empty(name));
            }
        }
        let expiration = OffsetDateTime::parse(&parsed.expiration, &Rfc3339)
            .map_err(|_| SessionError::Expiration(parsed.expiration.clone()))?;
        Ok((
            Session {
                access_key_id: parsed.access_key_id,
                secret_access_key: SecretAccessKey::new(std::mem::take(
                    &mut *parsed.secret_access_key,
                )),
                session_token: SessionToken::new(std::mem::take(&mut *parsed.session_token)),
                expiration,
                endpoints: parsed.endpoints.unwrap_or_default(),
            },
            parsed.fingerprint,
        ))
    }

    /// Time left before the session expires (zero if it has).
    pub fn remaining(&self, now: OffsetDateTime) -> Duration {
        (self.expiration - now).try_into().unwrap_or(Duration::ZERO)
    }

    /// Whether the session is good to hand out: more than the refresh
    /// window left.
    pub fn is_fresh(&self, now: OffsetDateTime) -> bool {
        self.is_fresh_within(now, REFRESH_WINDOW)
    }

    /// Whether more than `window` is left.
    pub fn is_fresh_within(&self, now: OffsetDateTime, window: Duration) -> bool {
        self.remaining(now) > window
    }
}

/// A short stable digest for cache keys and fingerprints (hex, 16 chars).
pub fn digest(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex::encode(&hasher.finalize()[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session {
            access_key_id: "ASIAEXAMPLE123456789".into(),
            secret_access_key: SecretAccessKey::new("s3cr3t/with+\"quote".into()),
            session_token: SessionToken::new("token\\with\nescapes".into()),
            expiration: OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap(),
            endpoints: Default::default(),
        }
    }

    #[test]
    fn process_json_is_exactly_version_1() {
        let json = session().to_process_json();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "AccessKeyId",
                "Expiration",
                "SecretAccessKey",
                "SessionToken",
                "Version"
            ]
        );
        assert_eq!(v["Version"], 1);
        assert_eq!(v["SecretAccessKey"], "s3cr3t/with+\"quote");
        assert_eq!(v["Expiration"], "2030-03-17T17:46:40Z");
        assert!(!json.contains('\n'), "one line");
    }

    #[test]
    fn json_round_trips_with_fingerprint() {
        let json = session().to_cache_json("abc");
        let (back, fp) = Session::from_json(json.as_bytes()).unwrap();
        assert_eq!(fp.as_deref(), Some("abc"));
        assert_eq!(back.secret_access_key.expose(), "s3cr3t/with+\"quote");
        assert_eq!(back.session_token.expose(), "token\\with\nescapes");
        assert_eq!(back.expiration, session().expiration);
    }

    #[test]
    fn bad_json_is_refused() {
        let good = session().to_process_json();
        for (bad, want) in [
            ("", "not valid"),
            ("{}", "not valid"),
            (&good.replace("\"Version\":1", "\"Version\":2"), "Version 2"),
            (
                &good.replace("2030-03-17T17:46:40Z", "tomorrow"),
                "RFC 3339",
            ),
            (
                &good.replace("ASIAEXAMPLE123456789", ""),
                "empty AccessKeyId",
            ),
        ] {
            let e = Session::from_json(bad.as_bytes()).unwrap_err();
            assert!(e.to_string().contains(want), "{bad}: {e}");
            assert!(!e.to_string().contains("s3cr3t"));
        }
    }

    #[test]
    fn freshness_uses_the_15_minute_window() {
        let s = session();
        let at = |left: i64| s.expiration - time::Duration::seconds(left);
        assert!(s.is_fresh(at(15 * 60 + 1)));
        assert!(!s.is_fresh(at(15 * 60)));
        assert_eq!(s.remaining(at(-5)), Duration::ZERO);
    }

    #[test]
    fn debug_hides_secrets() {
        let printed = format!("{:?}", session());
        assert!(
            !printed.contains("s3cr3t") && !printed.contains("escapes"),
            "{printed}"
        );
    }
}
