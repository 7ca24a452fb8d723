//! `keys`, `rotate`, `audit`, `whois`: the life of access keys.

use std::io::Write;

use anyhow::{Context as _, anyhow, bail};
use serde::Serialize;
use time::OffsetDateTime;

use keyfob::aws::AwsError;
use keyfob::aws::config_file::{AwsFile, Flavor};
use keyfob::aws::iam::{Iam, permission_hint};
use keyfob::aws::{sts, wiring};
use keyfob::field::{Field, FieldError};
use keyfob::fsutil::backup_path;
use keyfob::identity::{AccessKeyId, Identity, KeyFacts, account_from_key_id};
use keyfob::keys::MAX_AGE_DAYS;
use keyfob::limits;
use keyfob::prompt::tty;
use keyfob::provider::Provider;
use keyfob::rotation::{
    self, DEFAULT_GRACE_SECS, Report, Rotation, RotationError, Step, describe_use,
};
use keyfob::secret::Pin;
use keyfob::vault::Vault;

use crate::cli::{AuditArgs, KeysAction, KeysArgs, RotateArgs, WhoisArgs};
use crate::{Context, stdin_lines};

/// Exit code of `audit` when something needs action (1 is a failure).
pub const AUDIT_FINDINGS_EXIT: u8 = 3;

/// `audit` found something: not a failure of keyfob, a finding.
#[derive(Debug, thiserror::Error)]
#[error("{count} finding(s) need action")]
pub struct Findings {
    pub count: usize,
}

fn read_pins(count: usize) -> anyhow::Result<Vec<Pin>> {
    let lines = stdin_lines(count)?;
    if lines.len() < count {
        bail!(FieldError::new(
            Field::Pin,
            format!("missing: --pin-stdin expects {count} PIN line(s)")
        ));
    }
    Ok(lines
        .into_iter()
        .map(|mut l| Pin::new(std::mem::take(&mut *l)))
        .collect())
}

fn pin_for(identity: &Identity, from_stdin: bool) -> anyhow::Result<Pin> {
    if from_stdin {
        return Ok(read_pins(1)?.remove(0));
    }
    Ok(tty::ask_pin(
        &format!("PIN for {}: ", identity.name),
        "use --pin-stdin to give the PIN on stdin",
    )?)
}

/// Maps an IAM refusal to the permission it needs, quoting the guide.
fn iam_err(action: &'static str) -> impl FnOnce(AwsError) -> anyhow::Error {
    move |e| {
        if matches!(e.code(), Some("AccessDenied" | "AccessDeniedException")) {
            anyhow!("AWS refused iam:{action}: {}", permission_hint(action))
        } else {
            anyhow!(e).context(format!("iam:{action}"))
        }
    }
}

pub fn keys(ctx: &Context, args: KeysArgs) -> anyhow::Result<()> {
    let vault = ctx.vault()?;
    let identity = vault.get(&args.name)?;
    let pin = pin_for(&identity, args.pin_stdin)?;
    if let Some(KeysAction::Create) = &args.action {
        let report = rotation::create_second_key(&vault, &identity, &pin)?;
        print_report(&report);
        println!(
            "`keyfob rotate {0} --continue` verifies it and switches to it; `keyfob rotate {0} --rollback` deletes it.",
            identity.name
        );
        return Ok(());
    }
    let secret = vault.unseal(identity.name.as_str(), &pin)?;
    let iam = Iam::connect(identity.access_key_id.as_str(), &secret)?;
    drop(secret);
    let listed = iam.list_keys().map_err(iam_err("ListAccessKeys"))?;
    let find = |key: &str| {
        let key = AccessKeyId::parse(key)?;
        match listed.iter().find(|k| k.access_key_id == key.as_str()) {
            Some(info) => Ok((key, info.clone())),
            None => Err(anyhow!(
                "{key} is not one of this user's access keys — `keyfob keys {}` lists them",
                identity.name
            )),
        }
    };
    let guard_active_key = |key: &AccessKeyId, what: &str| -> anyhow::Result<()> {
        if *key == identity.access_key_id {
            bail!(
                "{key} is the key keyfob uses for {}; {what} it would lock you out — `keyfob rotate {}` replaces it safely",
                identity.name,
                identity.name
            );
        }
        Ok(())
    };
    match args.action {
        Some(KeysAction::Create) => unreachable!("handled above"),
        Some(KeysAction::Deactivate { key }) => {
            let (key, _) = find(&key)?;
            guard_active_key(&key, "deactivating")?;
            iam.set_active(key.as_str(), false)
                .map_err(iam_err("UpdateAccessKey"))?;
            println!(
                "Deactivated {key}. `keyfob keys {} activate {key}` undoes it.",
                identity.name
            );
        }
        Some(KeysAction::Activate { key }) => {
            let (key, _) = find(&key)?;
            iam.set_active(key.as_str(), true)
                .map_err(iam_err("UpdateAccessKey"))?;
            println!("Activated {key}.");
        }
        Some(KeysAction::Delete { key, force }) => {
            let (key, info) = find(&key)?;
            guard_active_key(&key, "deleting")?;
            if info.active && !force {
                bail!(
                    "{key} is Active: deactivate it first (`keyfob keys {} deactivate {key}`), check nothing broke, then delete it — or pass --force",
                    identity.name
                );
            }
            iam.delete_key(key.as_str())
                .map_err(iam_err("DeleteAccessKey"))?;
            println!("Deleted {key}.");
        }
        None => list_keys(&vault, &identity, &iam, &listed, args.json)?,
    }
    Ok(())
}

fn list_keys(
    vault: &Vault,
    identity: &Identity,
    iam: &Iam,
    listed: &[keyfob::aws::iam::AccessKeyInfo],
    json: bool,
) -> anyhow::Result<()> {
    let rows = keyfob::keys::list(vault, identity, iam, listed, OffsetDateTime::now_utc())?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &rows)?;
        writeln!(out)?;
        return Ok(());
    }
    for r in &rows {
        let age = r
            .age_days
            .map(|d| {
                if d > MAX_AGE_DAYS {
                    format!("{d} days old — rotate it (over {MAX_AGE_DAYS})")
                } else {
                    format!("{d} days old")
                }
            })
            .unwrap_or_else(|| "age unknown".into());
        writeln!(
            out,
            "{}  {:<8}  {}  last used {}{}",
            r.access_key_id,
            r.status,
            age,
            describe_use(&r.last_used),
            if r.in_vault { "  (in the vault)" } else { "" }
        )?;
    }
    Ok(())
}

fn print_report(report: &Report) {
    for line in &report.lines {
        println!("{line}");
    }
    for w in &report.warnings {
        eprintln!("keyfob: warning: {w}");
    }
}

/// After the vault switched keys: sessions made with the old key are
/// replaced (identity sessions without MFA, renewed now with the PIN in
/// hand, so callers never find the cache empty) or dropped (role sessions,
/// MFA sessions: made again on next use).
fn renew_sessions(ctx: &Context, identity: &Identity, pin: &Pin) -> anyhow::Result<()> {
    let cache = ctx.cache()?;
    let vault = || ctx.vault_lib();
    let profiles = ctx
        .book()?
        .list()?
        .into_iter()
        .map(|p| p.with_defaults(ctx.durations))
        .collect();
    keyfob::keys::renew_sessions(
        cache.as_ref(),
        &vault,
        ctx.paths.runtime_dir.join("locks"),
        profiles,
        ctx.durations,
        identity,
        pin,
    )?;
    Ok(())
}

fn parse_grace(text: &Option<String>) -> anyhow::Result<Option<u64>> {
    Ok(match text {
        Some(g) => Some(limits::parse_duration(g)?.as_secs()),
        None => None,
    })
}

pub fn rotate(ctx: &Context, args: RotateArgs) -> anyhow::Result<()> {
    let grace = parse_grace(&args.grace)?;
    let vault = ctx.vault()?;
    let identity = vault.get(&args.name)?;
    if args.status {
        print_status(&identity, rotation::load(&vault, &identity)?.as_ref());
        return Ok(());
    }
    let pin = pin_for(&identity, args.pin_stdin)?;
    let result = if args.rollback {
        rotation::rollback(&vault, &identity, &pin)
    } else if args.continue_ {
        rotation::advance(&vault, &identity, &pin, grace)
    } else {
        rotation::start(&vault, &identity, &pin, grace.unwrap_or(DEFAULT_GRACE_SECS))
    };
    let report = result.map_err(|e| match &e {
        RotationError::Aws { action, source }
            if matches!(
                source.code(),
                Some("AccessDenied" | "AccessDeniedException")
            ) =>
        {
            anyhow!(
                "AWS refused {action}: {}",
                permission_hint(action.trim_start_matches("iam:"))
            )
        }
        _ => anyhow!(e),
    })?;
    if report.switched {
        let current = vault.get(&args.name)?;
        renew_sessions(ctx, &current, &pin)
            .context("the vault switched keys, but renewing its sessions failed; `keyfob lock --all` drops them")?;
    }
    print_report(&report);
    Ok(())
}

fn print_status(identity: &Identity, state: Option<&Rotation>) {
    let Some(state) = state else {
        println!(
            "{}: no rotation in progress; the vault uses {}.",
            identity.name,
            identity.access_key_id.masked()
        );
        return;
    };
    let steps = [
        (1, "create a second key", state.step >= Step::Created),
        (
            2,
            "verify it and switch the vault to it",
            state.step >= Step::Switched,
        ),
        (
            3,
            "check the old key's last use",
            state.step >= Step::Switched,
        ),
        (4, "deactivate the old key", state.step >= Step::Deactivated),
        (
            5,
            "confirm nothing broke (--rollback to undo)",
            state.step >= Step::Deactivated,
        ),
        (6, "delete the old key after the grace period", false),
    ];
    println!(
        "{}: rotating {} → {}",
        identity.name,
        state.old_key_id.masked(),
        state
            .new_key_id
            .as_ref()
            .map(|k| k.masked())
            .unwrap_or_else(|| "(being created)".into())
    );
    for (n, what, done) in steps {
        println!("  [{}] {n}. {what}", if done { "x" } else { " " });
    }
    if let Some(when) = state.delete_after() {
        println!("  The old key may be deleted after {when}.");
    }
}

/// One audit finding or fact line.
#[derive(Serialize)]
struct AuditIdentity {
    name: String,
    access_key_id: String,
    account: Option<String>,
    key_age_days: i64,
    #[serde(with = "time::serde::rfc3339::option")]
    last_used: Option<OffsetDateTime>,
    active_keys: Option<u32>,
    #[serde(with = "time::serde::rfc3339::option")]
    checked_at: Option<OffsetDateTime>,
    root: bool,
    rotation_step: Option<u8>,
    findings: Vec<String>,
}

#[derive(Serialize)]
struct AuditReport {
    identities: Vec<AuditIdentity>,
    plaintext_keys: Vec<String>,
    /// Third-party role profiles not proven safe against the confused
    /// deputy (accepted unguarded, or never checked).
    unguarded_profiles: Vec<String>,
    findings: usize,
}

pub fn audit(ctx: &Context, args: AuditArgs) -> anyhow::Result<()> {
    let vault = ctx.vault()?;
    let identities = vault.list()?;
    if args.refresh {
        let mut pins = if args.pin_stdin {
            Some(read_pins(identities.len())?.into_iter())
        } else {
            None
        };
        for identity in &identities {
            let pin = match pins.as_mut() {
                Some(p) => p.next().context("missing PIN line")?,
                None => pin_for(identity, false)?,
            };
            let secret = vault.unseal(identity.name.as_str(), &pin)?;
            let iam = Iam::connect(identity.access_key_id.as_str(), &secret)?;
            let listed = iam.list_keys().map_err(iam_err("ListAccessKeys"))?;
            list_keys_quiet(&vault, identity, &iam, &listed)?;
        }
    }
    let now = OffsetDateTime::now_utc();
    let mut report = AuditReport {
        identities: Vec::new(),
        plaintext_keys: plaintext_keys(),
        unguarded_profiles: keyfob::thirdparty::unguarded(&ctx.book()?)?
            .iter()
            .map(|p| {
                keyfob::thirdparty::warning(p).unwrap_or_else(|| {
                    format!(
                        "profile {} is not guarded — `keyfob role check {}`",
                        p.name, p.name
                    )
                })
            })
            .collect(),
        findings: 0,
    };
    for i in vault.list()? {
        let age = i.key_age_days(now);
        let rotation = rotation::load(&vault, &i)?;
        let findings = keyfob::keys::findings(&i, rotation.as_ref(), now)
            .into_iter()
            .map(|f| f.message)
            .collect();
        report.identities.push(AuditIdentity {
            name: i.name.to_string(),
            access_key_id: i.access_key_id.to_string(),
            account: i.account.clone(),
            key_age_days: age,
            last_used: i.facts.as_ref().and_then(|f| f.last_used_at),
            active_keys: i.facts.as_ref().map(|f| f.active_keys),
            checked_at: i.facts.as_ref().map(|f| f.checked_at),
            root: i.is_root(),
            rotation_step: rotation.map(|r| r.step.number()),
            findings,
        });
    }
    report.findings = report
        .identities
        .iter()
        .map(|i| i.findings.len())
        .sum::<usize>()
        + report.plaintext_keys.len()
        + report.unguarded_profiles.len();

    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        for i in &report.identities {
            let used = match (i.last_used, i.checked_at) {
                (Some(d), _) => format!("last used {}", d.date()),
                (None, Some(_)) => "never used".into(),
                (None, None) => "last use unknown (`keyfob audit --refresh`)".into(),
            };
            let active = i
                .active_keys
                .map(|n| format!(", {n} active key(s)"))
                .unwrap_or_default();
            writeln!(
                out,
                "{}: key {} days old, {used}{active}",
                i.name, i.key_age_days
            )?;
            for f in &i.findings {
                writeln!(out, "  ! {f}")?;
            }
        }
        for p in report
            .plaintext_keys
            .iter()
            .chain(&report.unguarded_profiles)
        {
            writeln!(out, "! {p}")?;
        }
        if report.findings == 0 {
            writeln!(out, "Nothing needs action.")?;
        }
    }
    if report.findings > 0 {
        return Err(Findings {
            count: report.findings,
        }
        .into());
    }
    Ok(())
}

fn list_keys_quiet(
    vault: &Vault,
    identity: &Identity,
    iam: &Iam,
    listed: &[keyfob::aws::iam::AccessKeyInfo],
) -> anyhow::Result<()> {
    let mine = listed
        .iter()
        .find(|k| k.access_key_id == identity.access_key_id.as_str());
    let used = iam
        .last_used(identity.access_key_id.as_str())
        .map_err(iam_err("GetAccessKeyLastUsed"))?;
    let facts = KeyFacts {
        checked_at: OffsetDateTime::now_utc(),
        active_keys: listed.iter().filter(|k| k.active).count() as u32,
        total_keys: listed.len() as u32,
        last_used_at: used.date,
        last_used_service: used.service,
        last_used_region: used.region,
    };
    vault.record_facts(identity.name.as_str(), mine.and_then(|k| k.created), facts)?;
    Ok(())
}

/// Long-term keys in plaintext: the shared credentials file and keyfob's
/// own backup of it from `import`.
fn plaintext_keys() -> Vec<String> {
    let Some(path) = wiring::credentials_path() else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for file in [path.clone(), backup_path(&path)] {
        let Ok(creds) = AwsFile::load(&file, Flavor::Credentials) else {
            continue;
        };
        for name in creds.profile_names() {
            if creds.get(&name, "aws_secret_access_key").is_some()
                && creds
                    .get(&name, "aws_access_key_id")
                    .is_some_and(|k| k.starts_with("AKIA"))
            {
                found.push(format!(
                    "[{name}] in {} holds a plaintext long-term key — {}",
                    file.display(),
                    if file == path {
                        "`keyfob import` moves it into the vault"
                    } else {
                        "a backup from `keyfob import`: delete it once the imported identity works"
                    }
                ));
            }
        }
    }
    found
}

/// What a key ID's four-letter prefix says it is.
fn kind_of(key_id: &str) -> &'static str {
    match key_id.get(..4).unwrap_or("") {
        "AKIA" => "a long-term access key (an IAM user's)",
        "ASIA" => "a temporary access key (STS)",
        "ABIA" => "an STS service bearer token",
        "ACCA" => "a context-specific credential",
        "AIDA" => "an IAM user ID, not a key",
        "AROA" => "an IAM role ID, not a key",
        "AGPA" => "an IAM group ID, not a key",
        _ => "not an AWS access key ID this version of keyfob knows",
    }
}

pub fn whois(ctx: &Context, args: WhoisArgs) -> anyhow::Result<()> {
    let key = args.key_id.trim();
    if !(16..=128).contains(&key.len())
        || !key
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        bail!(FieldError::new(
            Field::AccessKeyId,
            "must be 16–128 uppercase letters and digits, like AKIAIOSFODNN7EXAMPLE"
        ));
    }
    let kind = kind_of(key);
    if args.offline {
        match account_from_key_id(key) {
            Some(account) => println!("{key}: {kind}; account {account} (decoded offline)"),
            None => println!("{key}: {kind}; account unknown offline (an older key format)"),
        }
        return Ok(());
    }
    let profile_name = match args.profile {
        Some(p) => p,
        None => {
            let identities = ctx.vault()?.list()?;
            match identities.as_slice() {
                [only] => only.name.to_string(),
                [] => bail!("no identity to ask STS with — add one, or use --offline"),
                _ => bail!(
                    "several identities: choose the one to ask STS with, --profile NAME (or use --offline)"
                ),
            }
        }
    };
    let profile = ctx.profile(&profile_name)?;
    // AWS refuses GetAccessKeyInfo with GetSessionToken credentials: a
    // role profile asks with its role session, an identity with its key.
    let account = if profile.role.is_some() {
        let cache = ctx.cache()?;
        let vault = || ctx.vault_lib();
        let prompter = crate::sessions::prompter(ctx);
        let provider = Provider::new(
            cache.as_ref(),
            &vault,
            prompter.as_deref(),
            ctx.paths.runtime_dir.join("locks"),
        );
        let s = provider.credentials(&profile)?;
        sts::get_access_key_info(
            &s.access_key_id,
            &s.secret_access_key,
            Some(s.session_token.expose()),
            key,
        )?
    } else {
        let vault = ctx.vault()?;
        let identity = vault.get(profile.identity.as_str())?;
        let pin = pin_for(&identity, args.pin_stdin)?;
        let secret = vault.unseal(identity.name.as_str(), &pin)?;
        sts::get_access_key_info(identity.access_key_id.as_str(), &secret, None, key).map_err(
            |e| match e.code() {
                Some("AccessDenied") => anyhow!(
                    "{e} — whois needs the sts:GetAccessKeyInfo permission, or use --offline"
                ),
                _ => anyhow!(e),
            },
        )?
    };
    println!("{key}: {kind}; account {account} (STS GetAccessKeyInfo)");
    Ok(())
}
