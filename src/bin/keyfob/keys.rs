//! `keys`, `rotate`, `audit`, `whois`: the life of access keys.

use std::io::Write;

use serde::Serialize;
use time::OffsetDateTime;

use keyfob::app::access_keys::{KeyRow, MAX_AGE_DAYS};
use keyfob::app::rotation::{self, Report, Rotation, describe_use};
use keyfob::app::{self, AppError, AuditReport, KeyAction, Keyfob, RotateAction};
use keyfob::model::field::{Field, FieldError};
use keyfob::model::identity::Identity;
use keyfob::model::secret::Pin;

use crate::cli::{AuditArgs, KeysAction, KeysArgs, RotateArgs, WhoisArgs};
use crate::terminal;

/// Exit code of `audit` when something needs action (1 is a failure).
pub const AUDIT_FINDINGS_EXIT: u8 = 3;

/// `audit` found something: not a failure of keyfob, a finding.
#[derive(Debug, thiserror::Error)]
#[error("{count} finding(s) need action")]
pub struct Findings {
    pub count: usize,
}

/// The PIN of identity `name`: the CLI reads it and the agent, which
/// runs the flow, gets it as the answer to its ask.
fn pin_for(name: &str, from_stdin: bool) -> anyhow::Result<Pin> {
    terminal::pin(
        from_stdin,
        &format!("PIN for {name}: "),
        "use --pin-stdin to give the PIN on stdin",
    )
}

pub fn keys(kf: &Keyfob, args: KeysArgs) -> anyhow::Result<()> {
    // The flow runs in the agent, which finds the identity: the CLI reads
    // no vault, so it works where only the agent reaches the keychain.
    keyfob::model::identity::IdentityName::parse(&args.name)?;
    let pin = pin_for(&args.name, args.pin_stdin)?;
    let name = args.name.as_str();
    let action = match args.action {
        None => {
            let rows = app::access_keys(kf, name, &pin)?;
            return print_keys(&rows, args.json);
        }
        Some(KeysAction::Create) => {
            print_report(&app::create_second_key(kf, name, &pin)?);
            println!(
                "`keyfob rotate {name} --continue` verifies it and switches to it; `keyfob rotate {name} --rollback` deletes it."
            );
            return Ok(());
        }
        Some(KeysAction::Deactivate { key }) => KeyAction::Deactivate(key),
        Some(KeysAction::Activate { key }) => KeyAction::Activate(key),
        Some(KeysAction::Delete { key, force }) => KeyAction::Delete { key, force },
    };
    let key = app::key_action(kf, name, &pin, &action)?;
    match action {
        KeyAction::Deactivate(_) => {
            println!("Deactivated {key}. `keyfob keys {name} activate {key}` undoes it.")
        }
        KeyAction::Activate(_) => println!("Activated {key}."),
        KeyAction::Delete { .. } => println!("Deleted {key}."),
    }
    Ok(())
}

fn print_keys(rows: &[KeyRow], json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &rows)?;
        writeln!(out)?;
        return Ok(());
    }
    for r in rows {
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

pub fn rotate(kf: &Keyfob, args: RotateArgs) -> anyhow::Result<()> {
    if args.status {
        let (identity, state) = app::rotation_status(kf, &args.name)?;
        print_status(&identity, state.as_ref());
        return Ok(());
    }
    keyfob::model::identity::IdentityName::parse(&args.name)?;
    let pin = pin_for(&args.name, args.pin_stdin)?;
    let action = if args.rollback {
        RotateAction::Rollback
    } else if args.continue_ {
        RotateAction::Continue
    } else {
        RotateAction::Start
    };
    let report = app::rotate(kf, &args.name, &pin, action, args.grace.as_deref())?;
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
    for step in keyfob::app::rotation::guide_steps(Some(state)) {
        let mark = if step.done { "x" } else { " " };
        println!("  [{mark}] {}. {}", step.number, step.text);
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
    /// `pin`, `tpm+pin` or `tpm+pin+recovery`.
    protection: &'static str,
    findings: Vec<String>,
}

#[derive(Serialize)]
struct AuditJson {
    identities: Vec<AuditIdentity>,
    plaintext_keys: Vec<String>,
    /// Third-party role profiles not proven safe against the confused
    /// deputy (accepted unguarded, or never checked).
    unguarded_profiles: Vec<String>,
    /// Advice (not counted in `findings`): identities Identity Center can
    /// replace.
    identity_center: Vec<String>,
    findings: usize,
}

impl AuditJson {
    /// The core's report in `audit --json`'s shape.
    fn new(kf: &Keyfob, report: &AuditReport) -> anyhow::Result<AuditJson> {
        let vault = kf.vault()?;
        let now = OffsetDateTime::now_utc();
        let mut identities = Vec::new();
        for a in &report.identities {
            let i = &a.identity;
            let rotation = rotation::load(&vault, i).ok().flatten();
            identities.push(AuditIdentity {
                name: i.name.to_string(),
                access_key_id: i.access_key_id.to_string(),
                account: i.account.clone(),
                key_age_days: i.key_age_days(now),
                last_used: i.facts.as_ref().and_then(|f| f.last_used_at),
                active_keys: i.facts.as_ref().map(|f| f.active_keys),
                checked_at: i.facts.as_ref().map(|f| f.checked_at),
                root: i.is_root(),
                rotation_step: rotation.map(|r| r.step.number()),
                protection: vault
                    .protection(i)
                    .map(|p| p.describe())
                    .unwrap_or("unreadable"),
                findings: a.findings.iter().map(|f| f.message.clone()).collect(),
            });
        }
        Ok(AuditJson {
            identities,
            plaintext_keys: report.plaintext_keys.clone(),
            unguarded_profiles: report.unguarded_profiles.clone(),
            identity_center: report.identity_center.clone(),
            findings: report.count(),
        })
    }
}

pub fn audit(kf: &Keyfob, args: AuditArgs) -> anyhow::Result<()> {
    let report = if args.refresh {
        let count = kf.identities()?.len();
        let mut pins = if args.pin_stdin {
            Some(
                terminal::pins_from_stdin(
                    count,
                    &format!("--pin-stdin expects {count} PIN line(s)"),
                )?
                .into_iter(),
            )
        } else {
            None
        };
        let mut pin_for_identity = |identity: &Identity| -> Result<Pin, AppError> {
            match pins.as_mut() {
                Some(p) => p
                    .next()
                    .ok_or_else(|| FieldError::new(Field::Pin, "missing PIN line").into()),
                None => Ok(keyfob::platform::tty::ask_pin(
                    &format!("PIN for {}: ", identity.name),
                    "use --pin-stdin to give the PINs on stdin",
                )?),
            }
        };
        app::audit_report(kf, Some(&mut pin_for_identity))?
    } else {
        app::audit_report(kf, None)?
    };
    let report = AuditJson::new(kf, &report)?;
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
                "{}: key {} days old, {used}{active}, protected by {}",
                i.name, i.key_age_days, i.protection
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
        for advice in &report.identity_center {
            writeln!(out, "→ {advice}")?;
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

pub fn whois(kf: &Keyfob, args: WhoisArgs) -> anyhow::Result<()> {
    let fixed = terminal::fixed_prompter(args.pin_stdin, None)?;
    let chain = terminal::prompter();
    let found = app::whois(
        kf,
        &args.key_id,
        args.offline,
        args.profile.as_deref(),
        terminal::either(&fixed, &chain),
    )?;
    let key = args.key_id.trim();
    let kind = found.kind;
    match (found.account, found.asked_sts) {
        (Some(account), true) => {
            println!("{key}: {kind}; account {account} (STS GetAccessKeyInfo)")
        }
        (Some(account), false) => println!("{key}: {kind}; account {account} (decoded offline)"),
        (None, _) => println!("{key}: {kind}; account unknown offline (an older key format)"),
    }
    Ok(())
}
