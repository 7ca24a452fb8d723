//! `import --from aws-cli-sso`: the AWS CLI v2's own Identity Center
//! setup in the AWS config file, made keyfob's.
//!
//! Each `[sso-session NAME]` section (`sso_start_url`, `sso_region`,
//! `sso_registration_scopes`) becomes an Identity Center identity of that
//! name (or the one `--name NAME=IDENTITY` gives), signed in by keyfob
//! itself ([`crate::app::add_sso_identity`], the sign-in `keyfob sso add`
//! runs); legacy profiles that carry `sso_start_url` and `sso_region`
//! themselves are grouped by start URL into one identity, named after the
//! start URL's first host label (`d-1234567890`) unless `--name URL=IDENTITY`
//! says otherwise. The profiles that use a session (`sso_account_id`,
//! `sso_role_name`, `region`) become keyfob profiles of the same names,
//! their sections pointed at `keyfob credential-process` (the `sso_*` keys
//! give way; their other settings stay).
//!
//! Nothing secret is read: the config file holds none. What the AWS CLI
//! keeps in the clear — its token cache (`~/.aws/sso/cache/`, botocore
//! `SSOTokenLoader`: the SHA-1 of the session name, or of the start URL
//! for legacy profiles) and its role-credential cache (`~/.aws/cli/cache/`,
//! `SSOCredentialFetcher._create_cache_key`: the SHA-1 of the minified,
//! sorted JSON of `accountId`, `roleName` and `sessionName` or `startUrl`)
//! — is removed once keyfob's own sign-in of that session worked and the
//! person agreed (`--yes`), as the other sources remove their copies.
//!
//! Unlike the key sources this runs where `keyfob sso add` runs (the
//! sign-in needs the face's browser), and the sign-in is sealed as there.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::app::{Answered, AppError, Keyfob, Question, SignInHost};
use crate::aws::config_file::AwsFile;
use crate::config::profile::{Profile, SsoRole};
use crate::config::sso::NewSso;
use crate::model::field::Field;
use crate::model::flow::Removal;
use crate::model::identity::{IdentityName, check_name, check_pin};

use super::error::ImportError;
use super::host::{ImportHost, ImportReport};

/// What one `--from aws-cli-sso` run is asked to do.
pub struct SsoImport<'a> {
    /// Say what would happen; change nothing anywhere.
    pub dry_run: bool,
    /// What to do with the AWS CLI's caches of an imported session.
    pub removal: Removal,
    /// `--name SESSION=IDENTITY` (a session's name, or a legacy start URL).
    pub names: &'a [(String, IdentityName)],
}

/// One session found in the config file, ready to sign in.
struct Session {
    /// How the person knows it: `sso-session corp`, `the legacy profiles of URL`.
    origin: String,
    /// The session's name, or the start URL of legacy profiles: what the
    /// AWS CLI's token cache is keyed by.
    key: String,
    legacy: bool,
    new: NewSso,
    profiles: Vec<SsoProfile>,
    /// The vault already has this sign-in (same name, same start URL).
    already_in: bool,
}

struct SsoProfile {
    name: String,
    role: SsoRole,
    region: Option<String>,
}

/// The AWS CLI's token cache file of a session (botocore
/// `SSOTokenLoader._generate_cache_key`).
fn token_cache(home: &Path, key: &str) -> PathBuf {
    home.join(".aws/sso/cache")
        .join(format!("{}.json", sha1_hex(key.as_bytes())))
}

/// The AWS CLI's role-credential cache file of a profile (botocore
/// `SSOCredentialFetcher._create_cache_key`: `json.dumps(args,
/// sort_keys=True, separators=(',', ':'))`; the values are checked
/// account digits, role names and session names, which JSON escapes
/// as serde_json does).
fn role_cache(home: &Path, session: &Session, profile: &SsoProfile) -> PathBuf {
    let mut args = BTreeMap::new();
    args.insert("accountId", profile.role.account_id.as_str());
    args.insert("roleName", profile.role.role_name.as_str());
    if session.legacy {
        args.insert("startUrl", session.key.as_str());
    } else {
        args.insert("sessionName", session.key.as_str());
    }
    // A map of strings always serialises.
    let json = serde_json::to_string(&args).expect("strings serialise");
    home.join(".aws/cli/cache")
        .join(format!("{}.json", sha1_hex(json.as_bytes())))
}

/// SHA-1, as the AWS CLI names its cache files (not for security).
fn sha1_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, bytes).as_ref())
}

/// The identity a legacy start URL becomes: its host's first label
/// (`d-1234567890` of `https://d-1234567890.awsapps.com/start`).
fn legacy_name(start_url: &str) -> String {
    url::Url::parse(start_url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| h.split('.').next().unwrap_or(h).to_owned())
        })
        .unwrap_or_default()
}

/// Checks one session's fields, naming the config key that is wrong.
fn session_fields(
    identity: &str,
    start_url: Option<String>,
    region: Option<String>,
    scopes: Option<String>,
    legacy: bool,
) -> Result<NewSso, String> {
    let start_url = start_url.ok_or("it has no sso_start_url")?;
    let region = region.ok_or("it has no sso_region")?;
    crate::config::sso::check_start_url(&start_url).map_err(|e| format!("sso_start_url: {e}"))?;
    crate::model::limits::region(region.trim()).map_err(|e| format!("sso_region: {e}"))?;
    if let Some(s) = &scopes {
        crate::config::sso::check_scopes(s).map_err(|e| format!("sso_registration_scopes: {e}"))?;
    }
    let hint = if legacy {
        "give it one with --name START_URL=NAME"
    } else {
        "give it one with --name SESSION=NAME"
    };
    NewSso::parse(identity, &start_url, &region, scopes.as_deref())
        .map_err(|e| format!("{identity} is not an identity name ({e}); {hint}"))
}

/// Reads the sessions and their profiles, saying why what is left out is.
fn read(
    kf: &Keyfob,
    host: &dyn ImportHost,
    config: &AwsFile,
    config_path: &Path,
    names: &[(String, IdentityName)],
) -> Result<Vec<Session>, AppError> {
    let vault = kf.vault()?;
    let book = kf.book()?;
    let named = |key: &str, default: String| {
        names
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, n)| n.as_str().to_owned())
            .unwrap_or(default)
    };
    // Every --name must name something, before anything is said.
    let sessions_in_file = config.sso_session_names();
    for (key, _) in names {
        let legacy = config
            .profile_names()
            .iter()
            .any(|p| config.get(p, "sso_start_url").as_deref() == Some(key.as_str()));
        if !sessions_in_file.contains(key) && !legacy {
            return Err(ImportError::UnknownSession {
                name: key.clone(),
                path: config_path.to_owned(),
            }
            .into());
        }
    }
    let mut sessions: Vec<Session> = Vec::new();
    let mut skipped_sessions: Vec<String> = Vec::new();
    let check = |origin: String, key: String, legacy: bool, new: Result<NewSso, String>| {
        let new = match new {
            Ok(n) => n,
            Err(why) => {
                host.say(&format!("Skipping {origin}: {why}."));
                return None;
            }
        };
        let mut already_in = false;
        if vault.check_name_free(&new.name).is_err() {
            match vault.sso_get(new.name.as_str()) {
                Ok(have) if have.start_url == new.start_url => already_in = true,
                _ => {
                    host.say(&format!(
                        "Skipping {origin}: an identity named {} is already in the vault; give it another name with --name {key}=NAME.",
                        new.name
                    ));
                    return None;
                }
            }
        }
        Some(Session {
            origin,
            key,
            legacy,
            new,
            profiles: Vec::new(),
            already_in,
        })
    };
    for name in &sessions_in_file {
        let get = |k: &str| config.sso_session_get(name, k);
        let new = session_fields(
            &named(name, name.clone()),
            get("sso_start_url"),
            get("sso_region"),
            get("sso_registration_scopes"),
            false,
        );
        match check(format!("sso-session {name}"), name.clone(), false, new) {
            Some(s) => sessions.push(s),
            None => skipped_sessions.push(name.clone()),
        }
    }
    for profile in config.profile_names() {
        let get = |k: &str| config.get(&profile, k);
        let skip = |why: &str| host.say(&format!("Skipping profile {profile}: {why}."));
        let index = match (get("sso_session"), get("sso_start_url")) {
            (Some(s), _) => match sessions.iter().position(|x| !x.legacy && x.key == s) {
                Some(i) => i,
                None if skipped_sessions.contains(&s) => {
                    skip(&format!("its sso-session {s} is not imported"));
                    continue;
                }
                None => {
                    skip(&format!(
                        "its sso_session {s} has no [sso-session {s}] section"
                    ));
                    continue;
                }
            },
            (None, Some(url)) => match sessions.iter().position(|x| x.legacy && x.key == url) {
                Some(i) => {
                    if get("sso_region").as_deref() != Some(sessions[i].new.region.as_str()) {
                        skip(&format!(
                            "its sso_region differs from the other profiles of {url}"
                        ));
                        continue;
                    }
                    i
                }
                None if skipped_sessions.contains(&url) => {
                    skip(&format!("the sign-in of {url} is not imported"));
                    continue;
                }
                None => {
                    let new = session_fields(
                        &named(&url, legacy_name(&url)),
                        Some(url.clone()),
                        get("sso_region"),
                        None,
                        true,
                    );
                    let origin = format!("the legacy profiles of {url}");
                    match check(origin, url.clone(), true, new) {
                        Some(s) => {
                            sessions.push(s);
                            sessions.len() - 1
                        }
                        None => {
                            skipped_sessions.push(url.clone());
                            continue;
                        }
                    }
                }
            },
            (None, None) => continue,
        };
        let role = match (get("sso_account_id"), get("sso_role_name")) {
            (None, None) => {
                skip(
                    "it has no sso_account_id and sso_role_name: the AWS CLI uses it only to sign in, which keyfob now does itself",
                );
                continue;
            }
            (Some(a), Some(r)) => match SsoRole::parse(&a, &r) {
                Ok(role) => role,
                Err(e) => {
                    skip(&e.reason);
                    continue;
                }
            },
            (None, Some(_)) => {
                skip("it has no sso_account_id");
                continue;
            }
            (Some(_), None) => {
                skip("it has no sso_role_name");
                continue;
            }
        };
        if let Err(e) = check_name(Field::ProfileName, &profile) {
            skip(&e.to_string());
            continue;
        }
        if book.contains(&profile) {
            skip("a keyfob profile of that name exists");
            continue;
        }
        let region = get("region");
        if let Some(r) = &region
            && let Err(e) = crate::model::limits::region(r)
        {
            skip(&format!("region: {e}"));
            continue;
        }
        sessions[index].profiles.push(SsoProfile {
            name: profile.clone(),
            role,
            region,
        });
    }
    Ok(sessions)
}

/// The AWS CLI's cache files of `session` that exist now.
fn cache_files(home: &Path, session: &Session) -> Vec<PathBuf> {
    std::iter::once(token_cache(home, &session.key))
        .chain(
            session
                .profiles
                .iter()
                .map(|p| role_cache(home, session, p)),
        )
        .filter(|p| p.exists())
        .collect()
}

/// Imports the AWS CLI's Identity Center sessions and their profiles
/// (see the module docs); with `run.dry_run`, says what it would do.
pub fn import_aws_cli_sso(
    kf: &Keyfob,
    host: &dyn ImportHost,
    sign_in: &dyn SignInHost,
    run: &SsoImport<'_>,
) -> Result<ImportReport, AppError> {
    let files = kf.read_files()?;
    let config_path = files.aws_path.clone();
    let home = dirs::home_dir().ok_or(AppError::NoCredentialsFile)?;
    let sessions = read(kf, host, &files.aws, &config_path, run.names)?;
    drop(files);
    if sessions.is_empty() {
        host.say(&format!(
            "No Identity Center sessions to import in {}.",
            config_path.display()
        ));
    }

    if run.dry_run {
        for s in &sessions {
            if s.already_in {
                host.say(&format!(
                    "{} is already in the vault, as Identity Center identity {}.",
                    s.origin, s.new.name
                ));
            } else {
                host.say(&format!(
                    "Would import {} ({}, {}) as Identity Center identity {}, once keyfob's own sign-in is approved (in the browser, or with a code with --use-device-code).",
                    s.origin, s.new.start_url, s.new.region, s.new.name
                ));
                for p in &s.profiles {
                    host.say(&format!(
                        "Would make profile {} ({} {}{}) a keyfob profile of identity {}; its section in {} would run keyfob (its sso_* settings removed, the others kept).",
                        p.name,
                        p.role.account_id,
                        p.role.role_name,
                        p.region.as_deref().map(|r| format!(", {r}")).unwrap_or_default(),
                        s.new.name,
                        config_path.display()
                    ));
                }
            }
            for f in cache_files(&home, s) {
                host.say(&format!(
                    "On your yes after the sign-in, the AWS CLI's cache {} would be removed.",
                    f.display()
                ));
            }
        }
        host.say("Dry run: nothing was changed.");
        return Ok(ImportReport::default());
    }

    let mut removable: Vec<(String, Vec<PathBuf>)> = Vec::new();
    for s in &sessions {
        if s.already_in {
            host.say(&format!(
                "{} is already in the vault, as Identity Center identity {}.",
                s.origin, s.new.name
            ));
            removable.push((s.new.name.as_str().to_owned(), cache_files(&home, s)));
            continue;
        }
        let question = Question::Import {
            section: &s.origin,
            key: s.new.start_url.clone(),
        };
        if host.confirm(&question).is_err() {
            host.say(&format!("Not importing {}.", s.origin));
            continue;
        }
        let pin = host.pin(&s.new.name)?;
        check_pin(&pin)?;
        let bind = (crate::app::tpm_choice(kf), false);
        match crate::app::add_sso_identity(kf, &s.new, &pin, bind, sign_in) {
            Ok((identity, _)) => host.say(&format!(
                "Imported {} as Identity Center identity {} ({}, {}).",
                s.origin, identity.name, identity.start_url, identity.region
            )),
            Err(e) => {
                host.say(&format!("Not importing {}: {e}.", s.origin));
                continue;
            }
        }
        for p in &s.profiles {
            let mut profile = Profile::plain(&s.new.name);
            profile.name = p.name.clone();
            profile.region = p.region.clone();
            profile.sso = Some(p.role.clone());
            match crate::app::save_profile(kf, &profile, false, &Answered { take_over: true }) {
                Ok(()) => host.say(&format!(
                    "Converted profile {} ({} {}) into a keyfob profile (a backup of {} is kept).",
                    p.name,
                    p.role.account_id,
                    p.role.role_name,
                    config_path.display()
                )),
                Err(e) => host.say(&format!("Skipping profile {}: {e}.", p.name)),
            }
        }
        removable.push((s.new.name.as_str().to_owned(), cache_files(&home, s)));
    }
    Ok(ImportReport {
        cleaned: None,
        kept: remove(host, run.removal, removable),
    })
}

/// Removes the AWS CLI's caches of the sessions keyfob signed in, a
/// question for them all; what stays, one line.
fn remove(
    host: &dyn ImportHost,
    removal: Removal,
    removable: Vec<(String, Vec<PathBuf>)>,
) -> Vec<String> {
    let removable: Vec<(String, Vec<PathBuf>)> = removable
        .into_iter()
        .filter(|(_, f)| !f.is_empty())
        .collect();
    if removable.is_empty() {
        return Vec::new();
    }
    let names: Vec<&str> = removable.iter().map(|(n, _)| n.as_str()).collect();
    let count: usize = removable.iter().map(|(_, f)| f.len()).sum();
    let text = format!(
        "keyfob signs in {} itself now; remove the AWS CLI's plaintext token and role credential caches of them ({count} file(s) in ~/.aws/sso/cache and ~/.aws/cli/cache)?",
        names.join(", ")
    );
    let yes = match removal {
        Removal::Yes => true,
        Removal::Keep => false,
        Removal::Ask => host.confirm(&Question::Remote { text: &text }).is_ok(),
    };
    if !yes {
        return vec![format!(
            "The AWS CLI's caches still hold sign-ins of {} (now keyfob's): run keyfob import --from aws-cli-sso --yes to remove them, or aws sso logout.",
            names.join(", ")
        )];
    }
    for (name, files) in &removable {
        for f in files {
            match std::fs::remove_file(f) {
                Ok(()) => host.say(&format!(
                    "Removed the AWS CLI's cache {} ({name}).",
                    f.display()
                )),
                Err(e) => host.say(&format!("Could not remove {}: {e}.", f.display())),
            }
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_names_are_the_aws_clis() {
        // botocore: sha1("corp") and sha1 of
        // '{"accountId":"111100000000","roleName":"Admin","sessionName":"corp"}'.
        let home = Path::new("/h");
        assert_eq!(
            token_cache(home, "corp"),
            Path::new("/h/.aws/sso/cache/ee0bfd2552fbd840c02cc48b6e823320543c450f.json")
        );
        let session = Session {
            origin: String::new(),
            key: "corp".into(),
            legacy: false,
            new: NewSso::parse("corp", "https://x.awsapps.com/start", "eu-west-1", None).unwrap(),
            profiles: Vec::new(),
            already_in: false,
        };
        let profile = SsoProfile {
            name: "dev".into(),
            role: SsoRole::parse("111100000000", "Admin").unwrap(),
            region: None,
        };
        assert_eq!(
            role_cache(home, &session, &profile),
            Path::new("/h/.aws/cli/cache/6b9c28d68ff83bc1a24d897671d88e0b7373e7c5.json")
        );
        assert_eq!(
            legacy_name("https://d-1234567890.awsapps.com/start"),
            "d-1234567890"
        );
    }
}
