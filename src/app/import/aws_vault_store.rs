//! Reading aws-vault's stores (aws-vault v7.2.0 with
//! github.com/99designs/keyring v1.2.2) into entries an import can judge:
//!
//! - the Secret Service backend (keyring `secretservice.go`): collection
//!   `awsvault` (aws-vault's `--secret-service-collection`,
//!   `AWS_VAULT_SECRET_SERVICE_COLLECTION_NAME`), one item per key, its
//!   label the key (what keyring's `Keys` lists) and its attribute
//!   `profile` = the key, its secret keyring's `Item` as JSON;
//! - the file backend (keyring `file.go`): one file per key in
//!   `~/.awsvault/keys/` (`--file-dir`, `AWS_VAULT_FILE_DIR`), named by
//!   the key percent-encoded (github.com/mtibben/percent, `/` and `%`
//!   escaped), holding the same JSON in a passphrase JWE
//!   ([`crate::platform::jwe`]).
//!
//! In both, `Item.Data` (base64 in the JSON, a Go `[]byte`) is what
//! aws-vault put there: for a long-term key `json.Marshal(aws.Credentials)`
//! (vault/credentialkeyring.go `Set`; aws-sdk-go-v2 v1.17.7's struct has no
//! JSON tags: `AccessKeyID`, `SecretAccessKey`, `SessionToken`, …). The
//! same stores hold aws-vault's cached sessions (vault/sessionkeyring.go:
//! keys `TYPE,b64(profile),b64(mfa),EXPIRY` and three older forms) and
//! Identity Center tokens (vault/oidctokenkeyring.go: keys `oidc:URL`):
//! those are skipped, with the reason.
//!
//! granted (v0.38, pkg/securestorage) keeps IAM credentials with the same
//! keyring v1.2.2: `securestorage.go` `openKeyring` names the collection
//! `granted-aws-iam-credentials` and the file folder
//! `<granted folder>/secure-storage-aws-iam-credentials` (both overridden
//! by its config's `[Keyring]`), its file passphrase is
//! `CF_KEYRING_FILE_PASSWORD`; `iam_credential_storage.go` stores
//! `json.Marshal(aws.Credentials)` under the profile name, as aws-vault
//! does. Its sessions and tokens live in other storages; anything else
//! found there is skipped as not being credentials.

use std::path::{Path, PathBuf};

use data_encoding::{BASE64, BASE64URL_NOPAD};
use zeroize::Zeroizing;

use crate::app::AppError;
use crate::model::secret::SecretAccessKey;
use crate::platform::jwe::{self, JweError};
use crate::platform::store::foreign::ForeignCollection;

use super::error::ImportError;
use super::host::ImportHost;

/// Which tool's stores these are.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Tool {
    AwsVault,
    Granted,
}

impl Tool {
    pub fn name(self) -> &'static str {
        match self {
            Tool::AwsVault => "aws-vault",
            Tool::Granted => "granted",
        }
    }

    /// How the person removes a key with the tool itself.
    pub fn remove_hint(self) -> &'static str {
        match self {
            Tool::AwsVault => "aws-vault remove NAME",
            Tool::Granted => "granted credentials remove NAME",
        }
    }
}

/// Where the tool keeps its keys (resolved by the client).
pub(super) struct Stores<'a> {
    pub tool: Tool,
    pub collection: &'a str,
    pub file_dir: &'a Path,
}

/// Which store an entry is in, and how to remove it from there.
pub(super) enum Place {
    /// The item's object path in the collection.
    SecretService(String),
    File(PathBuf),
}

/// What an entry holds, as far as an import cares.
pub(super) enum Content {
    /// A long-term key pair.
    LongTerm {
        key_id: String,
        secret: SecretAccessKey,
    },
    /// Not importable, and why.
    Skip(String),
}

/// One key of one of the tool's stores.
pub(super) struct Entry {
    /// The tool's name for it (the profile it was added as).
    pub key: String,
    pub place: Place,
    pub content: Content,
}

impl Entry {
    /// How the person knows it.
    pub fn origin(&self, stores: &Stores<'_>) -> String {
        match &self.place {
            Place::SecretService(_) => format!(
                "{} key {} (Secret Service collection {})",
                stores.tool.name(),
                self.key,
                stores.collection
            ),
            Place::File(path) => format!(
                "{} key {} (file {})",
                stores.tool.name(),
                self.key,
                path.display()
            ),
        }
    }
}

/// keyring's JSON of an `Item` (only what is read).
#[derive(serde::Deserialize)]
struct KeyringItem {
    #[serde(rename = "Data")]
    data: Zeroizing<String>,
}

/// aws-sdk-go-v2 `aws.Credentials` as Go's encoding/json writes it.
#[derive(serde::Deserialize)]
struct Credentials {
    #[serde(rename = "AccessKeyID")]
    access_key_id: String,
    #[serde(rename = "SecretAccessKey")]
    secret_access_key: Zeroizing<String>,
    #[serde(rename = "SessionToken", default)]
    session_token: Zeroizing<String>,
}

/// vault/sessionkeyring.go `IsSessionKey`: the current form
/// `^[^,]+,[^,]+,[^,]*,[0-9]+$` whose profile and MFA serial are
/// unpadded base64url, or one of the three older forms.
fn is_session_key(key: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let parts: Vec<&str> = key.split(',').collect();
    if let [kind, profile, mfa, expiry] = parts[..]
        && !kind.is_empty()
        && !profile.is_empty()
        && digits(expiry)
    {
        let b64 = |s: &str| BASE64URL_NOPAD.decode(s.as_bytes()).is_ok();
        // `^session,[^,]+,[^,]*,[0-9]{2,}$` (old) or the current form.
        if (kind == "session" && expiry.len() >= 2) || (b64(profile) && b64(mfa)) {
            return true;
        }
    }
    // `^session:([^ ]+):([^ ]*):([^:]+)$`
    // (the profile may hold ':', the expiry may not; no spaces before it).
    if let Some(rest) = key.strip_prefix("session:")
        && let Some((head, expiry)) = rest.rsplit_once(':')
        && !expiry.is_empty()
        && !head.contains(' ')
        && head.get(1..).is_some_and(|h| h.contains(':'))
    {
        return true;
    }
    // `^(.+?) session \((\d+)\)$`
    if let Some(head) = key.strip_suffix(')')
        && let Some((profile, number)) = head.rsplit_once(" session (")
    {
        return !profile.is_empty() && digits(number);
    }
    false
}

/// What `plain` (keyring's JSON of an `Item`) holds under `key`.
fn classify(tool: Tool, key: &str, plain: &[u8]) -> Content {
    let skip = |why: &str| Content::Skip(why.to_owned());
    if tool != Tool::AwsVault {
        return credentials(plain);
    }
    if key.starts_with("oidc:") {
        return skip(
            "an Identity Center token aws-vault caches, not a long-term key (add the sign-in with keyfob sso add)",
        );
    }
    if is_session_key(key) {
        return skip("a session aws-vault caches (temporary credentials that expire on their own)");
    }
    credentials(plain)
}

/// The long-term key pair in `plain` (keyring's JSON of an `Item` whose
/// Data is `aws.Credentials` as JSON), or why it is not one.
fn credentials(plain: &[u8]) -> Content {
    let skip = |why: &str| Content::Skip(why.to_owned());
    let Ok(item) = serde_json::from_slice::<KeyringItem>(plain) else {
        return skip("its data is not keyring's JSON of an item");
    };
    let Ok(data) = BASE64.decode(item.data.as_bytes()).map(Zeroizing::new) else {
        return skip("its Data is not base64");
    };
    let Ok(mut creds) = serde_json::from_slice::<Credentials>(&data) else {
        return skip("its Data is not a JSON of AWS credentials");
    };
    if !creds.session_token.is_empty() || creds.access_key_id.starts_with("ASIA") {
        return skip("a temporary key; it expires on its own");
    }
    Content::LongTerm {
        key_id: std::mem::take(&mut creds.access_key_id),
        secret: SecretAccessKey::new(std::mem::take(&mut *creds.secret_access_key)),
    }
}

/// mtibben/percent v0.2.1 `Decode`: `%XX` is the byte 0xXX.
fn percent_decode(name: &str) -> String {
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = name.get(i + 1..i + 3);
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every entry of the Secret Service collection (none when there is no
/// such collection or no Secret Service: said, not an error).
fn secret_service(host: &dyn ImportHost, stores: &Stores<'_>) -> Result<Vec<Entry>, AppError> {
    let items = match ForeignCollection::connect(stores.collection) {
        Ok(c) => c.items().map_err(ImportError::from)?,
        Err(e) => {
            host.say(&format!(
                "{}'s Secret Service backend: not read ({e}).",
                stores.tool.name()
            ));
            return Ok(Vec::new());
        }
    };
    let Some(items) = items else {
        host.say(&format!(
            "{}'s Secret Service backend: no collection {}.",
            stores.tool.name(),
            stores.collection
        ));
        return Ok(Vec::new());
    };
    Ok(items
        .into_iter()
        .map(|item| Entry {
            content: classify(stores.tool, &item.label, &item.secret),
            key: item.label,
            place: Place::SecretService(item.path),
        })
        .collect())
}

/// Every entry of the file backend's folder, opened with the passphrase
/// (asked once, only when there are files). A passphrase that opens no
/// file is an error naming the first: nothing is imported then.
fn files(host: &dyn ImportHost, stores: &Stores<'_>) -> Result<Vec<Entry>, AppError> {
    let dir = stores.file_dir;
    let listing = match std::fs::read_dir(dir) {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            host.say(&format!(
                "{}'s file backend: no folder {}.",
                stores.tool.name(),
                dir.display()
            ));
            return Ok(Vec::new());
        }
        Err(source) => {
            return Err(ImportError::ReadFolder {
                path: dir.into(),
                source,
            }
            .into());
        }
    };
    let mut paths: Vec<PathBuf> = listing
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let passphrase = host.passphrase(&format!(
        "Passphrase of {}'s file backend ({}): ",
        stores.tool.name(),
        dir.display()
    ))?;
    let mut entries = Vec::new();
    let mut refused = None;
    let mut opened = false;
    for path in paths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let key = percent_decode(&name);
        let content = match std::fs::read_to_string(&path) {
            Err(e) => Content::Skip(format!("cannot read it: {e}")),
            Ok(text) => match jwe::open(&text, passphrase.as_bytes()) {
                Ok(plain) => {
                    opened = true;
                    classify(stores.tool, &key, &plain)
                }
                Err(JweError::WrongPassphrase) => {
                    refused.get_or_insert_with(|| path.clone());
                    Content::Skip(
                        "the passphrase that opens the other files does not open it".into(),
                    )
                }
                Err(e) => Content::Skip(e.to_string()),
            },
        };
        entries.push(Entry {
            key,
            place: Place::File(path),
            content,
        });
    }
    if let (false, Some(path)) = (opened, refused) {
        return Err(ImportError::WrongPassphrase {
            path,
            tool: stores.tool.name(),
        }
        .into());
    }
    Ok(entries)
}

/// Every entry of both stores, Secret Service first.
pub(super) fn read(host: &dyn ImportHost, stores: &Stores<'_>) -> Result<Vec<Entry>, AppError> {
    let mut entries = secret_service(host, stores)?;
    entries.extend(files(host, stores)?);
    Ok(entries)
}

/// Removes `entry` from its store.
pub(super) fn remove(stores: &Stores<'_>, entry: &Place) -> Result<(), String> {
    match entry {
        Place::SecretService(path) => ForeignCollection::connect(stores.collection)
            .and_then(|c| c.delete(path))
            .map_err(|e| e.to_string()),
        Place::File(path) => std::fs::remove_file(path).map_err(|e| e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_and_token_keys_are_told_from_profile_names() {
        // vault/sessionkeyring_test.go's forms, and the three older ones.
        for key in [
            "sts.GetSessionToken,Zm9v,,1572281751",
            "sts.AssumeRole,Zm9v,YXJuOmF3czppYW06OjEyMzQ1Njc4OTAxMjptZmEvam9obi5kb2U,1572281751",
            "session,foo,,1572281751",
            "session:foo:arn:aws:iam::1234:mfa/x:1572281751",
            "foo session (1572281751)",
        ] {
            assert!(is_session_key(key), "{key}");
        }
        for key in ["dev", "prod-admin", "a,b", "session", "x session (y)"] {
            assert!(!is_session_key(key), "{key}");
        }
        assert!(matches!(
            classify(Tool::AwsVault, "oidc:https://x", b"{}"),
            Content::Skip(_)
        ));
    }

    #[test]
    fn items_read_as_aws_vault_writes_them() {
        let creds = br#"{"AccessKeyID":"AKIAEXAMPLE","SecretAccessKey":"s3cr3t","SessionToken":"","Source":"","CanExpire":false,"Expires":"0001-01-01T00:00:00Z"}"#;
        let item = format!(
            r#"{{"Key":"dev","Data":"{}","Label":"aws-vault (dev)","Description":"","KeychainNotTrustApplication":true,"KeychainNotSynchronizable":false}}"#,
            BASE64.encode(creds)
        );
        match classify(Tool::AwsVault, "dev", item.as_bytes()) {
            Content::LongTerm { key_id, secret } => {
                assert_eq!(key_id, "AKIAEXAMPLE");
                assert_eq!(secret.expose(), "s3cr3t");
            }
            Content::Skip(why) => panic!("{why}"),
        }
        for broken in [
            &b"not json"[..],
            br#"{"Data":"%%%"}"#,
            br#"{"Data":"e30="}"#,
        ] {
            assert!(matches!(
                classify(Tool::Granted, "dev", broken),
                Content::Skip(_)
            ));
        }
    }

    #[test]
    fn file_names_decode_as_percent_decodes_them() {
        assert_eq!(percent_decode("a%2Fb%25c"), "a/b%c");
        assert_eq!(percent_decode("dev"), "dev");
        assert_eq!(percent_decode("x%2"), "x%2");
    }
}
