//! `import --from aws-login`: the AWS CLI's `aws login` sessions (2.32 and
//! later) become keyfob's AWS sign-in identities.
//!
//! What the AWS CLI keeps (aws-cli v2 `awscli/customizations/login/`,
//! botocore `utils.LoginCredentialsLoader`, `credentials.LoginProvider`):
//! a profile's `login_session = ARN` in the AWS config file, and for that
//! session the JSON file `sha256(ARN).json` in `~/.aws/login/cache`
//! (`AWS_LOGIN_CACHE_DIRECTORY`) with `accessToken` (`accessKeyId`,
//! `secretAccessKey`, `sessionToken`, `accountId`, `expiresAt`),
//! `tokenType`, `clientId`, `refreshToken`, `idToken` and `dpopKey` (the
//! P-256 key as a SEC1 `EC PRIVATE KEY` PEM), all in plaintext.
//!
//! Each profile's session is verified by a refresh with its own key (the
//! only proof that the refresh token and key still work; it rotates the
//! refresh token, so the AWS CLI's copy stops working) and sealed under its
//! own PIN as an identity of the profile's name; the profile becomes
//! keyfob's (its `login_session` replaced by `credential_process`). The
//! cache file is removed on the person's yes. A root user's sign-in is
//! refused, as `add` refuses root keys. Nothing is written before all is
//! read, and `--dry-run` changes nothing (it does not refresh either).

use std::path::{Path, PathBuf};

use data_encoding::BASE64;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::host::{ImportHost, ImportReport, ImportRun, name_problem};
use crate::app::{Answered, AppError, Keyfob, Question};
use crate::aws::signin::{self, DpopKey, Grant};
use crate::config::login::{LoginSecrets, NewLogin};
use crate::config::profile::Profile;
use crate::model::endpoints::Endpoints;
use crate::model::flow::Removal;
use crate::model::identity::{IdentityName, check_pin};
use crate::model::secret::LoginRefreshToken;

/// The AWS CLI's login cache file for a session (botocore
/// `generate_login_cache_key`: the SHA-256 of the session name, hex).
pub fn cache_file(dir: &Path, session: &str) -> PathBuf {
    dir.join(format!(
        "{}.json",
        hex::encode(Sha256::digest(session.as_bytes()))
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Cached {
    client_id: String,
    refresh_token: Zeroizing<String>,
    dpop_key: Zeroizing<String>,
    #[serde(default)]
    access_token: Option<CachedAccess>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CachedAccess {
    #[serde(default)]
    account_id: Option<String>,
}

/// One profile's session as read.
struct Found {
    profile: String,
    session: String,
    region: Option<String>,
    file: PathBuf,
    identity: IdentityName,
    secrets: LoginSecrets,
}

/// The P-256 scalar of a SEC1 `EC PRIVATE KEY` (RFC 5915): `SEQUENCE {
/// INTEGER 1, OCTET STRING (32) key, … }`. The optional parameters and
/// public key that follow are not needed.
fn sec1_key(pem: &str) -> Option<DpopKey> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    let der = Zeroizing::new(BASE64.decode(body.trim().as_bytes()).ok()?);
    // 30 len | 02 01 01 | 04 20 <32 bytes>
    let rest = match der.as_slice() {
        [0x30, 0x81, _, rest @ ..] => rest,
        [0x30, len, rest @ ..] if *len < 0x80 => rest,
        _ => return None,
    };
    match rest {
        [0x02, 0x01, 0x01, 0x04, 0x20, key @ ..] if key.len() >= 32 => {
            DpopKey::from_bytes(&key[..32])
        }
        _ => None,
    }
}

/// Reads one session's cache file; why not, if it cannot be used.
fn read_cached(file: &Path, session: &str) -> Result<LoginSecrets, String> {
    let bytes = Zeroizing::new(std::fs::read(file).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!(
            "no cached sign-in ({} is missing): sign in with `keyfob login-session add` instead",
            file.display()
        ),
        _ => format!("{}: {e}", file.display()),
    })?);
    let cached: Cached = serde_json::from_slice(&bytes)
        .map_err(|_| format!("{} is not the AWS CLI's login cache", file.display()))?;
    let key = sec1_key(&cached.dpop_key).ok_or_else(|| {
        format!(
            "{}: its dpopKey is not a P-256 EC PRIVATE KEY",
            file.display()
        )
    })?;
    if !session.starts_with("arn:") || signin::account_of(session).is_none() {
        return Err(format!("its login_session {session:?} is not an ARN"));
    }
    if let Some(account) = cached
        .access_token
        .as_ref()
        .and_then(|a| a.account_id.as_deref())
        && Some(account) != signin::account_of(session)
    {
        return Err(format!(
            "{}: the cached sign-in is account {account}'s, not the profile's session's",
            file.display()
        ));
    }
    if is_root(session) {
        return Err(format!(
            "it is the root user's sign-in ({session}); AWS advises against using the root user for everyday work — sign in as an IAM user"
        ));
    }
    Ok(LoginSecrets {
        client_id: cached.client_id,
        refresh_token: Some(LoginRefreshToken::new(
            cached.refresh_token.as_str().to_owned(),
        )),
        key,
        principal: session.to_owned(),
    })
}

fn is_root(principal: &str) -> bool {
    principal.ends_with(":root")
}

/// The profiles of the AWS config file with a `login_session`, read, and
/// each one's cached sign-in; what cannot be imported is said.
fn find(kf: &Keyfob, host: &dyn ImportHost, cache_dir: &Path) -> Result<Vec<Found>, AppError> {
    let vault = kf.vault()?;
    let files = kf.read_files()?;
    let mut found = Vec::new();
    for profile in files.aws.profile_names() {
        let Some(session) = files.aws.get(&profile, "login_session") else {
            continue;
        };
        let origin = format!("profile {profile} ({session})");
        let file = cache_file(cache_dir, &session);
        let secrets = match read_cached(&file, &session) {
            Ok(s) => s,
            Err(why) => {
                host.say(&format!("Skipping {origin}: {why}."));
                continue;
            }
        };
        let identity = match name_problem(&vault, &profile) {
            Ok(n) if !found.iter().any(|f: &Found| f.identity == n) => n,
            Ok(_) => continue,
            Err(why) => {
                host.say(&format!("Skipping {origin}: {why}."));
                continue;
            }
        };
        found.push(Found {
            region: files
                .aws
                .get(&profile, "region")
                .filter(|r| crate::model::limits::region(r).is_ok()),
            profile,
            session,
            file,
            identity,
            secrets,
        });
    }
    Ok(found)
}

/// Imports the AWS CLI's `aws login` sessions (see the module docs).
pub(super) fn import(
    kf: &Keyfob,
    host: &dyn ImportHost,
    endpoints: &Endpoints,
    run: &ImportRun,
    cache_dir: &Path,
) -> Result<ImportReport, AppError> {
    let found = find(kf, host, cache_dir)?;
    if found.is_empty() {
        host.say("No `aws login` sessions to import.");
    }
    if run.dry_run {
        for f in &found {
            host.say(&format!(
                "Would import profile {}'s sign-in ({}) as AWS sign-in identity {}, once a refresh proves it (the AWS CLI's copy then stops working), with its profile {} through credential_process.",
                f.profile, f.session, f.identity, f.profile
            ));
            host.say(&format!(
                "On your yes after the import, {} would be removed.",
                f.file.display()
            ));
        }
        host.say("Dry run: nothing was changed.");
        return Ok(ImportReport::default());
    }
    let vault = kf.vault()?;
    let mut removable = Vec::new();
    for mut f in found {
        let origin = format!("profile {} ({})", f.profile, f.session);
        let question = Question::Import {
            section: &origin,
            key: f.session.clone(),
        };
        if host.confirm(&question).is_err() {
            host.say(&format!("Not importing {origin}."));
            continue;
        }
        let pin = host.pin(&f.identity)?;
        check_pin(&pin)?;
        let region = f.region.clone().unwrap_or_else(|| endpoints.region.clone());
        let new = NewLogin {
            name: f.identity.clone(),
            region: region.clone(),
            endpoints: Endpoints {
                url: endpoints.url.clone(),
                region,
            },
        };
        // The proof: a refresh with the session's own key.
        let refreshed = {
            let refresh = f.secrets.refresh_token.as_ref().expect("read with one");
            let grant = Grant::Refresh {
                client_id: &f.secrets.client_id,
                refresh_token: refresh,
            };
            signin::create_token(&new.endpoints, &grant, &f.secrets.key)
        };
        match refreshed {
            Ok(tokens) => f.secrets.refresh_token = Some(tokens.refresh_token),
            Err(e) => {
                host.say(&format!(
                    "Not importing {origin}: AWS Sign-In refused it: {e}."
                ));
                continue;
            }
        }
        let tpm = crate::app::tpm_choice(kf);
        let first = crate::app::approvals::new_setup(&vault);
        match vault.login_add_bound(&new, &pin, &f.secrets, tpm, false) {
            Ok(_) => crate::app::approvals::first_identity_added(&kf.paths, first),
            Err(e) => {
                host.say(&format!("Not importing {origin}: {e}."));
                continue;
            }
        }
        let mut profile = Profile::plain(&f.identity);
        profile.name = f.profile.clone();
        profile.region = Some(new.region.clone());
        profile.login = Some(f.session.clone());
        crate::app::save_profile(kf, &profile, false, &Answered { take_over: true })?;
        host.say(&format!(
            "Imported {origin} as AWS sign-in identity {}, with its profile {} through credential_process.",
            f.identity, f.profile
        ));
        removable.push((f.identity.to_string(), f.file));
    }
    Ok(ImportReport {
        cleaned: None,
        kept: remove(host, run.removal, cache_dir, removable),
    })
}

/// Removes the imported sessions' cache files on the person's yes; what
/// stays, in one line.
fn remove(
    host: &dyn ImportHost,
    removal: Removal,
    cache_dir: &Path,
    removable: Vec<(String, PathBuf)>,
) -> Vec<String> {
    if removable.is_empty() {
        return Vec::new();
    }
    let names: Vec<&str> = removable.iter().map(|(n, _)| n.as_str()).collect();
    let store = format!("the AWS CLI's login cache {}", cache_dir.display());
    let question = Question::RemoveFromSource {
        source: &store,
        names: &names.join(", "),
    };
    let yes = match removal {
        Removal::Yes => true,
        Removal::Keep => false,
        Removal::Ask => host.confirm(&question).is_ok(),
    };
    if !yes {
        return vec![format!(
            "{store} still holds the sign-ins of {} (now in the vault, and no longer working there): `aws logout --profile NAME` or deleting the files removes them.",
            names.join(", ")
        )];
    }
    for (name, file) in &removable {
        match std::fs::remove_file(file) {
            Ok(()) => host.say(&format!("Removed {name}'s sign-in from {store}.")),
            Err(e) => host.say(&format!("Could not remove {}: {e}.", file.display())),
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_file_is_named_as_botocore_names_it() {
        // sha256("arn:aws:iam::123456789012:user/alice"), as botocore's
        // generate_login_cache_key gives it.
        let f = cache_file(Path::new("/c"), "arn:aws:iam::123456789012:user/alice");
        let name = f.file_name().unwrap().to_str().unwrap();
        assert_eq!(name.len(), 64 + 5);
        assert_eq!(
            name,
            format!(
                "{}.json",
                hex::encode(Sha256::digest(b"arn:aws:iam::123456789012:user/alice"))
            )
        );
    }

    #[test]
    fn a_sec1_pem_gives_its_key_and_anything_else_none() {
        // RFC 5915 ECPrivateKey with the P-256 OID and the public key, as
        // awscrt's export_key(SEC1) writes it (the first bytes matter).
        let key = DpopKey::generate().unwrap();
        let mut der = vec![0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20];
        der.extend_from_slice(&key.to_bytes());
        der.extend_from_slice(&[
            0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
        ]);
        der.extend_from_slice(&[0xa1, 0x44, 0x03, 0x42, 0x00]);
        der.extend_from_slice(&[4u8; 65]);
        let pem = format!(
            "-----BEGIN EC PRIVATE KEY-----\n{}\n-----END EC PRIVATE KEY-----\n",
            BASE64.encode(&der)
        );
        assert_eq!(sec1_key(&pem).unwrap().thumbprint(), key.thumbprint());
        assert!(sec1_key("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END").is_none());
        assert!(sec1_key("not pem at all").is_none());
        assert!(is_root("arn:aws:iam::123456789012:root"));
        assert!(!is_root("arn:aws:iam::123456789012:user/root-admin"));
    }
}
