//! `approvals`, `log`: which programs may have which profile's
//! sessions, and every session handed out or refused. The approvals held
//! until lock live in the agent; the rest are files ([`keyfob::app::approvals`], [`keyfob::app::access_log`]).

use anyhow::bail;
use time::OffsetDateTime;

use keyfob::app::Keyfob;
use keyfob::app::access_log::{AccessEntry, AccessLog};
use keyfob::app::approvals::{add_to_file, read_file, revoke_in_file};
use keyfob::config::settings::{Settings, save_approval_rule};
use keyfob::model::approval::{Approval, ApprovalRule, Holds, MAX_APPROVAL_SECS};
use keyfob::model::field::{Field, FieldError};

use crate::cli::{ApprovalsCommand, LogArgs, RuleArgs};

pub fn run(kf: &Keyfob, cmd: ApprovalsCommand) -> anyhow::Result<()> {
    match cmd {
        ApprovalsCommand::List(args) => {
            let list = approvals(kf)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&list)?);
                return Ok(());
            }
            if list.is_empty() {
                println!("No approvals.");
            }
            for a in &list {
                println!("{}", describe(a));
            }
            Ok(())
        }
        ApprovalsCommand::Revoke(args) => {
            let (id, profile) = if args.all {
                (None, None)
            } else {
                (args.id.as_deref(), args.profile.as_deref())
            };
            let count = match kf.agent_link().revoke_running(id, profile, false)? {
                Some(count) => count,
                // No agent: nothing held until lock, only the file's.
                None => revoke_in_file(
                    &kf.paths.data_dir.join(keyfob::app::approvals::FILE_NAME),
                    &|a: &Approval| {
                        id.is_none_or(|id| a.program.id() == id)
                            && profile.is_none_or(|p| a.profile == p)
                    },
                )?,
            };
            if count == 0 && id.is_some() {
                bail!(
                    "no approval has id {}: see keyfob approvals list",
                    id.unwrap_or_default()
                );
            }
            println!("Revoked {count} approval(s).");
            Ok(())
        }
        ApprovalsCommand::Add(args) => {
            let profile = kf.profile(&args.profile)?;
            let holds = match &args.duration {
                None => Holds::Always,
                Some(d) => {
                    let secs = keyfob::model::duration::parse(d)?.as_secs();
                    if !(60..=MAX_APPROVAL_SECS).contains(&secs) {
                        return Err(FieldError::new(
                            Field::Duration,
                            "an approval lasts from 1m to 30d; longer is until revoked (leave --for out)",
                        )
                        .into());
                    }
                    Holds::Until {
                        at: OffsetDateTime::now_utc().unix_timestamp() + secs as i64,
                    }
                }
            };
            let program = match &args.script {
                Some(script) => {
                    keyfob::agent::programs::script_program(&args.program.to_string_lossy(), script)
                }
                None => keyfob::agent::programs::program_at(&args.program),
            }
            .map_err(|reason| FieldError::new(Field::Program, reason))?;
            let approval = Approval {
                program,
                profile: profile.name.clone(),
                holds,
                given: OffsetDateTime::now_utc().unix_timestamp(),
            };
            let line = describe(&approval);
            add_to_file(&kf.paths.data_dir, approval)?;
            println!("Approved: {line}");
            if !profile.approvals.is_on() {
                println!(
                    "Note: approvals are off for profile {}, so every program gets its sessions anyway; turn them on with: keyfob approvals rule new-programs",
                    profile.name
                );
            }
            Ok(())
        }
        ApprovalsCommand::Rule(args) => rule(kf, args),
    }
}

/// The approvals that hold: the agent's (those until lock too), else the
/// file's.
fn approvals(kf: &Keyfob) -> anyhow::Result<Vec<Approval>> {
    if let Some(list) = kf.agent_link().approvals_running()? {
        return Ok(list);
    }
    let now = OffsetDateTime::now_utc().unix_timestamp();
    Ok(
        read_file(&kf.paths.data_dir.join(keyfob::app::approvals::FILE_NAME))?
            .into_iter()
            .filter(|a| a.holds_at(now))
            .collect(),
    )
}

fn describe(a: &Approval) -> String {
    let holds = match a.holds {
        Holds::UntilLock => "until lock".to_owned(),
        Holds::Always => "until revoked".to_owned(),
        Holds::Until { at } => {
            let left = (at - OffsetDateTime::now_utc().unix_timestamp()).max(0) as u64;
            format!("{} more", keyfob::model::duration::human(left))
        }
    };
    format!(
        "{}  {}  {}  ({holds})",
        a.program.id(),
        a.profile,
        a.program.label()
    )
}

fn rule(kf: &Keyfob, args: RuleArgs) -> anyhow::Result<()> {
    if let Some(name) = &args.profile {
        kf.profile(name)?;
    }
    if args.clear {
        save_approval_rule(&kf.paths, args.profile.as_deref(), None)?;
    } else if let Some(text) = &args.rule {
        let rule: ApprovalRule = text.parse()?;
        save_approval_rule(&kf.paths, args.profile.as_deref(), Some(rule))?;
    }
    let settings = Settings::load(&kf.paths.config_file())?;
    println!("Approvals: {}", settings.approvals.describe());
    for (name, rule) in &settings.approvals_by_profile {
        println!("  profile {name}: {}", rule.describe());
    }
    Ok(())
}

/// How far back `--since` reaches.
fn since(text: &str) -> anyhow::Result<OffsetDateTime> {
    let d = keyfob::model::duration::parse(text.trim())
        .map_err(|e| FieldError::new(Field::Since, e.reason))?;
    Ok(OffsetDateTime::now_utc() - d)
}

pub fn log(kf: &Keyfob, args: LogArgs) -> anyhow::Result<()> {
    let from = args.since.as_deref().map(since).transpose()?;
    let profile = args.profile.clone();
    let keep = move |e: &AccessEntry| {
        profile.as_ref().is_none_or(|p| &e.profile == p)
            && from.is_none_or(|from| e.time().is_some_and(|t| t >= from))
    };
    let log = AccessLog::new(&kf.paths.data_dir);
    let print = |e: &AccessEntry| {
        if args.json {
            println!("{}", serde_json::to_string(e).unwrap_or_default());
        } else {
            println!("{}", e.line());
        }
    };
    if args.follow {
        use std::io::Write;
        // What is there, then what comes, through one reading: nothing
        // written in between is missed.
        log.follow(&keep, &mut |e| {
            print(e);
            std::io::stdout().flush().is_ok()
        })?;
    } else {
        for e in log.read(&keep)? {
            print(&e);
        }
    }
    Ok(())
}
