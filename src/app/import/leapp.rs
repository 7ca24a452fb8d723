//! `import --from leapp`: the long-term keys of Leapp's AWS IAM User
//! sessions become identities, each session's named profile a keyfob
//! profile (its region, its MFA device).
//!
//! How Leapp keeps them (github.com/Noovolari/leapp v0.26.1, core 0.1.165):
//!
//! - the workspace, `~/.Leapp/Leapp-lock.json` (core
//!   `models/constants.ts` `lockFileDestination`), is
//!   `fileService.encryptText(serialize(workspace))`
//!   (`services/repository.ts` `persistWorkspace`): class-transformer's
//!   JSON of `models/workspace.ts` (private fields as `_sessions`,
//!   `_profiles`, …), encrypted by crypto-js 4.2.0's passphrase AES
//!   ([`crate::platform::cryptojs`]) with the passphrase
//!   `nativeService.machineId` (`services/file-service.ts`), which is
//!   node-machine-id 1.1.12's `machineIdSync()`: the first line of
//!   `/var/lib/dbus/machine-id` or else `/etc/machine-id` (else the host
//!   name), white space removed, lower-cased, then SHA-256 in hex. Only this machine opens it;
//!   a workspace copied from another machine does not;
//! - each session (`models/session.ts`) has `sessionId`, `sessionName`,
//!   `region` and `type` (`models/session-type.ts`); an IAM User session
//!   (`models/aws/aws-iam-user-session.ts`, type `awsIamUser`) adds
//!   `profileId` (one of `_profiles`' `{id, name}`) and `mfaDevice`;
//! - its keys are in the keychain through keytar 7.9.0
//!   (`services/session/aws/aws-iam-user-service.ts` `create`): service
//!   `Leapp`, accounts `<sessionId>-iam-user-aws-session-access-key-id`
//!   and `<sessionId>-iam-user-aws-session-secret-access-key` (the
//!   session token it caches: `…-iam-user-aws-session-token`). keytar's
//!   libsecret backend (`src/keytar_posix.cc`) stores each as a password
//!   of schema `org.freedesktop.Secret.Generic` with attributes `service`
//!   and `account` in the default collection, labelled `service/account`.
//!
//! Other session kinds hold no long-term key (a role chained from
//! another session, a federated role, an Identity Center role, Azure…):
//! each is listed as not imported, with why. Leapp's workspace is never
//! written: on the person's yes, the keychain items of what was imported
//! are deleted (the session then stays listed in Leapp without its keys).

use std::collections::BTreeSet;
use std::path::Path;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::app::{Answered, AppError, Keyfob, Question};
use crate::config::profile::ProfileInput;
use crate::model::endpoints::Endpoints;
use crate::model::flow::Removal;
use crate::model::identity::{AccessKeyId, check_secret};
use crate::model::secret::SecretAccessKey;
use crate::platform::store::foreign::ForeignCollection;

use super::error::ImportError;
use super::host::{ImportHost, ImportReport, ImportRun, Key, name_problem, seal};

/// keytar's service name for Leapp's items (core `constants.appName`).
const SERVICE: &str = "Leapp";
const ACCESS_KEY_ID: &str = "-iam-user-aws-session-access-key-id";
const SECRET_ACCESS_KEY: &str = "-iam-user-aws-session-secret-access-key";
const SESSION_TOKEN: &str = "-iam-user-aws-session-token";

/// node-machine-id 1.1.12 `machineIdSync()` on Linux (hashed), the key
/// Leapp's workspace is encrypted with. Its command is `( cat /var/lib/dbus/machine-id /etc/machine-id
/// 2> /dev/null || hostname ) | head -n 1`: the first file that exists,
/// else (neither does) the host name, which the kernel keeps in
/// /proc/sys/kernel/hostname.
fn machine_id() -> Option<String> {
    let raw = [
        "/var/lib/dbus/machine-id",
        "/etc/machine-id",
        "/proc/sys/kernel/hostname",
    ]
    .iter()
    // An empty file gives cat nothing, so head takes the next one's line.
    .find_map(|p| {
        std::fs::read_to_string(p)
            .ok()
            .filter(|t| !t.trim().is_empty())
    })?;
    let first: String = raw
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase();
    if first.is_empty() {
        return None;
    }
    Some(hex::encode(Sha256::digest(first.as_bytes())))
}

/// The identity a session name becomes: itself where it is one, else
/// with each character an identity name cannot hold (a space…) made `-`
/// (Leapp's names are free text).
fn identity_name(session: &str) -> String {
    let mapped: String = session
        .trim()
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' | '.' => c,
            _ => '-',
        })
        .take(64)
        .collect();
    mapped
}

/// Why a session kind is not imported (`models/session-type.ts`).
fn not_a_key(kind: &str) -> String {
    let why = match kind {
        "awsIamRoleChained" => {
            "an IAM role chained from another session: it holds no long-term key (a keyfob role profile of the parent's identity does the same: keyfob profile add --role-arn)"
        }
        "awsIamRoleFederated" => {
            "a role federated through a SAML identity provider: it holds no long-term key, and keyfob does not sign in with SAML"
        }
        "awsSsoRole" => {
            "an IAM Identity Center role: it holds no long-term key (keyfob sso add, then keyfob sso sync)"
        }
        "azure" => "an Azure session, not AWS",
        _ => "not an AWS IAM User session, so it holds no long-term key",
    };
    format!("a {kind} session, {why}")
}

/// An identity the vault already has, and Leapp's keychain items of it.
type AlreadyIn = (String, Vec<String>);

/// One IAM User session, read with its keys.
struct Found {
    key: Key,
    profile: Option<String>,
    region: Option<String>,
    mfa: Option<String>,
    /// The keychain items to remove on the person's yes.
    items: Vec<String>,
}

/// Reads the workspace and the keychain: what can be imported, saying
/// why the rest cannot.
fn read(
    kf: &Keyfob,
    host: &dyn ImportHost,
    workspace: &Path,
) -> Result<(Vec<Found>, Vec<AlreadyIn>), AppError> {
    let text = match std::fs::read_to_string(workspace) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            host.say(&format!("No Leapp workspace at {}.", workspace.display()));
            return Ok((Vec::new(), Vec::new()));
        }
        Err(source) => {
            return Err(ImportError::ReadFolder {
                path: workspace.to_owned(),
                source,
            }
            .into());
        }
    };
    let bad = |why: &str| ImportError::LeappWorkspace {
        path: workspace.to_owned(),
        why: why.to_owned(),
    };
    let id = machine_id().ok_or_else(|| bad("this machine has no machine id (/var/lib/dbus/machine-id, /etc/machine-id) nor host name, which Leapp's key is made from"))?;
    let plain = crate::platform::cryptojs::decrypt(&text, id.as_bytes()).map_err(|e| {
        bad(&format!(
            "{e}: Leapp encrypts it with this machine's id, so a workspace from another machine cannot be read"
        ))
    })?;
    let json: serde_json::Value = std::str::from_utf8(&plain)
        .ok()
        .and_then(|t| serde_json::from_str(t).ok())
        .ok_or_else(|| {
            bad("it does not decrypt to Leapp's workspace JSON with this machine's id")
        })?;
    let sessions = json["_sessions"]
        .as_array()
        .ok_or_else(|| bad("it has no _sessions list"))?;
    let profile_name = |id: &str| {
        json["_profiles"].as_array().and_then(|ps| {
            ps.iter()
                .find(|p| p["id"].as_str() == Some(id))
                .and_then(|p| p["name"].as_str())
                .map(str::to_owned)
        })
    };

    let keychain = ForeignCollection::connect("default (keytar's items for Leapp)")
        .map_err(ImportError::from)?;
    let secret_of = |account: &str| -> Result<Option<(String, Zeroizing<String>)>, AppError> {
        let items = keychain
            .search(&[("service", SERVICE), ("account", account)])
            .map_err(ImportError::from)?;
        Ok(items.into_iter().next().map(|i| {
            let text = Zeroizing::new(String::from_utf8_lossy(&i.secret).into_owned());
            (i.path.clone(), text)
        }))
    };

    let vault = kf.vault()?;
    let known = vault.list()?;
    let mut claimed = BTreeSet::new();
    let mut found = Vec::new();
    let mut already = Vec::new();
    for s in sessions {
        let name = s["sessionName"].as_str().unwrap_or_default().to_owned();
        let kind = s["type"].as_str().unwrap_or("unknown");
        let origin = format!("Leapp session {name}");
        let skip = |why: &str| host.say(&format!("Skipping {origin}: {why}."));
        if kind != "awsIamUser" {
            skip(&not_a_key(kind));
            continue;
        }
        let Some(sid) = s["sessionId"].as_str().filter(|i| !i.is_empty()) else {
            skip("it has no sessionId");
            continue;
        };
        let id_account = format!("{sid}{ACCESS_KEY_ID}");
        let secret_account = format!("{sid}{SECRET_ACCESS_KEY}");
        let (Some((id_path, key_id)), Some((secret_path, secret))) =
            (secret_of(&id_account)?, secret_of(&secret_account)?)
        else {
            skip(&format!(
                "its keys are not both in the keychain (keytar service {SERVICE}, accounts {id_account} and {secret_account})"
            ));
            continue;
        };
        let mut items = vec![id_path, secret_path];
        if let Some((token_path, _)) = secret_of(&format!("{sid}{SESSION_TOKEN}"))? {
            items.push(token_path);
        }
        let key_id = match AccessKeyId::parse(key_id.trim()) {
            Ok(k) => k,
            Err(e) => {
                skip(&e.to_string());
                continue;
            }
        };
        if let Some(i) = known.iter().find(|i| i.access_key_id == key_id) {
            host.say(&format!(
                "{origin} is already in the vault, as identity {}.",
                i.name
            ));
            already.push((i.name.as_str().to_owned(), items));
            continue;
        }
        let identity = match name_problem(&vault, &identity_name(&name)) {
            Ok(n) if claimed.insert(n.as_str().to_owned()) => n,
            Ok(_) => {
                skip("another session of that name comes first");
                continue;
            }
            Err(why) => {
                skip(&why);
                continue;
            }
        };
        // Checked here, so a bad secret skips its session rather than
        // stopping the run once PINs are being asked.
        let secret = match check_secret(SecretAccessKey::new(secret.trim().to_owned())) {
            Ok(s) => s,
            Err(e) => {
                skip(&e.to_string());
                continue;
            }
        };
        let region = s["region"].as_str().map(str::to_owned);
        if let Some(r) = &region
            && let Err(e) = crate::model::limits::region(r)
        {
            host.say(&format!(
                "{origin}: its region is not kept ({e}); its profile gets none."
            ));
        }
        let profile = s["profileId"].as_str().and_then(profile_name);
        found.push(Found {
            key: Key {
                origin,
                identity,
                key_id,
                secret,
            },
            profile,
            region,
            mfa: s["mfaDevice"]
                .as_str()
                .filter(|m| !m.is_empty())
                .map(str::to_owned),
            items,
        });
    }
    Ok((found, already))
}

/// The keyfob profile a session's named profile becomes.
fn profile_input(f: &Found) -> ProfileInput {
    ProfileInput {
        name: f
            .profile
            .clone()
            .unwrap_or_else(|| f.key.identity.as_str().to_owned()),
        identity: f.key.identity.as_str().to_owned(),
        mfa_serial: f.mfa.clone(),
        region: f
            .region
            .clone()
            .filter(|r| crate::model::limits::region(r).is_ok()),
        ..ProfileInput::default()
    }
}

pub(super) fn import(
    kf: &Keyfob,
    host: &dyn ImportHost,
    endpoints: &Endpoints,
    run: &ImportRun,
    workspace: &Path,
) -> Result<ImportReport, AppError> {
    let (found, already) = read(kf, host, workspace)?;
    if found.is_empty() && already.is_empty() {
        host.say("No long-term keys of Leapp to import.");
    }
    let store = format!("the keychain (keytar service {SERVICE})");
    if run.dry_run {
        for f in &found {
            let p = profile_input(f);
            host.say(&format!(
                "Would import {} ({}) as identity {}, once STS verifies it (a root user's key is refused), with a profile {}{}{}.",
                f.key.origin,
                f.key.key_id.masked(),
                f.key.identity,
                p.name,
                p.region.as_deref().map(|r| format!(", region {r}")).unwrap_or_default(),
                p.mfa_serial.as_deref().map(|m| format!(", MFA device {m}")).unwrap_or_default(),
            ));
            host.say(&format!(
                "On your yes after the import, its {} item(s) would be removed from {store}.",
                f.items.len()
            ));
        }
        for (name, items) in &already {
            host.say(&format!(
                "On your yes, Leapp's copy of identity {name} ({} item(s)) would be removed from {store}.",
                items.len()
            ));
        }
        host.say("Dry run: nothing was changed.");
        return Ok(ImportReport::default());
    }

    let vault = kf.vault()?;
    let mut removable = already;
    for f in found {
        let input = profile_input(&f);
        let identity = f.key.identity.clone();
        if !seal(kf, host, &vault, endpoints, f.key)? {
            continue;
        }
        removable.push((identity.as_str().to_owned(), f.items));
        let book = kf.book()?;
        if book.contains(&input.name) {
            host.say(&format!(
                "No profile {} for identity {identity}: a keyfob profile of that name exists.",
                input.name
            ));
            continue;
        }
        match book.build(&input) {
            Ok(profile) => {
                crate::app::save_profile(kf, &profile, false, &Answered { take_over: true })?;
                host.say(&format!(
                    "Made profile {} of identity {identity}.",
                    input.name
                ));
            }
            Err(e) => host.say(&format!("No profile {}: {e}.", input.name)),
        }
    }
    Ok(ImportReport {
        cleaned: None,
        kept: remove(host, run.removal, &store, removable)?,
    })
}

/// Deletes the keychain items of what is in the vault now, on the
/// person's yes; what stays, one line.
fn remove(
    host: &dyn ImportHost,
    removal: Removal,
    store: &str,
    removable: Vec<AlreadyIn>,
) -> Result<Vec<String>, AppError> {
    if removable.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<&str> = removable.iter().map(|(n, _)| n.as_str()).collect();
    let question = Question::RemoveFromSource {
        source: store,
        names: &names.join(", "),
    };
    let yes = match removal {
        Removal::Yes => true,
        Removal::Keep => false,
        Removal::Ask => host.confirm(&question).is_ok(),
    };
    if !yes {
        return Ok(vec![format!(
            "{store} still holds Leapp's keys of {} (now in the vault): run keyfob import --from leapp --yes to remove them, or delete the sessions in Leapp.",
            names.join(", ")
        )]);
    }
    let keychain = ForeignCollection::connect("default (keytar's items for Leapp)")
        .map_err(ImportError::from)?;
    for (name, items) in &removable {
        let failed: Vec<String> = items
            .iter()
            .filter_map(|p| keychain.delete(p).err().map(|e| e.to_string()))
            .collect();
        match failed.first() {
            None => host.say(&format!("Removed {name}'s keys from {store}.")),
            Some(e) => host.say(&format!(
                "Could not remove {name}'s keys from {store}: {e}."
            )),
        }
    }
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_become_identity_names() {
        assert_eq!(identity_name("dev"), "dev");
        assert_eq!(identity_name(" my IAM user/prod "), "my-IAM-user-prod");
    }

    #[test]
    fn other_session_kinds_say_why() {
        assert!(not_a_key("awsIamRoleChained").contains("no long-term key"));
        assert!(not_a_key("awsSsoRole").contains("keyfob sso add"));
        assert!(not_a_key("google").contains("not an AWS IAM User session"));
    }
}
