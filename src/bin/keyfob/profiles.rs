//! `profile add|list|show|remove`, `use`, `current`: parse, call the core
//! ([`keyfob::app`]), print.

use std::io::Write;

use keyfob::app::{self, Keyfob};
use keyfob::config::profile::{ExternalIdGuard, Profile, ProfileInput};

use crate::cli::{
    AliasArgs, ListArgs, ProfileAddArgs, ProfileCommand, ProfileShowArgs, RemoveArgs, UseArgs,
};
use crate::terminal::{self, Ask};
use crate::thirdparty;

pub fn run(kf: &Keyfob, cmd: ProfileCommand) -> anyhow::Result<()> {
    match cmd {
        ProfileCommand::Add(args) => add(kf, *args),
        ProfileCommand::List(args) => list(kf, args),
        ProfileCommand::Show(args) => show(kf, args),
        ProfileCommand::Remove(args) => remove(kf, args),
    }
}

fn add(kf: &Keyfob, args: ProfileAddArgs) -> anyhow::Result<()> {
    let profile = app::build_profile(
        kf,
        &ProfileInput {
            name: args.name,
            identity: args.identity.unwrap_or_default(),
            source_profile: args.source_profile,
            role_arn: args.role_arn,
            external_id: args.external_id,
            role_session_name: args.role_session_name,
            source_identity: args.source_identity,
            mfa_serial: args.mfa_serial,
            duration: args.duration,
            region: args.region,
            tags: args
                .tags
                .iter()
                .map(|t| keyfob::model::limits::parse_tag(t))
                .collect::<Result<_, _>>()?,
            transitive_tags: args.transitive_tags,
            policy_arns: args.policy_arns,
        },
    )?;
    let fixed = terminal::fixed_prompter(args.pin.pin_stdin, args.pin.mfa_code.as_ref())?;
    let chain = terminal::prompter();
    let saved = app::save_guarded_profile(
        kf,
        profile,
        args.replace,
        args.accept_unguarded,
        terminal::either(&fixed, &chain),
        &Ask { yes: args.yes },
    )?;
    thirdparty::tell_verdict(&saved);
    println!("{}", describe(&saved.profile));
    Ok(())
}

/// `keyfob alias [ACCOUNT [NAME] | ACCOUNT --remove]`.
pub fn alias(kf: &Keyfob, args: AliasArgs) -> anyhow::Result<()> {
    let aliases = match (&args.account, &args.name, args.remove) {
        (Some(account), None, true) => app::set_account_alias(kf, account, None)?,
        (Some(account), Some(name), false) => app::set_account_alias(kf, account, Some(name))?,
        (Some(account), None, false) => {
            keyfob::model::limits::account_id(account)?;
            let aliases = app::account_aliases(kf)?;
            aliases
                .get_key_value(account.as_str())
                .map(|(k, v)| [(k.clone(), v.clone())].into_iter().collect())
                .unwrap_or_default()
        }
        _ => app::account_aliases(kf)?,
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &aliases)?;
        writeln!(out)?;
    } else {
        for (account, name) in &aliases {
            writeln!(out, "{account}  {name}")?;
        }
    }
    Ok(())
}

pub fn describe(p: &Profile) -> String {
    let mut text = match &p.source {
        Some(src) => format!(
            "Profile {}: chained from {} (identity {})",
            p.name, src.name, p.identity
        ),
        None => format!("Profile {}: identity {}", p.name, p.identity),
    };
    if let Some(r) = &p.role {
        text.push_str(&format!(", role {} (account {})", r.arn, r.account));
        if !r.tags.is_empty() {
            let tags: Vec<String> = r
                .tags
                .iter()
                .map(|(k, v)| {
                    let transitive = r.transitive_tags.iter().any(|t| t.eq_ignore_ascii_case(k));
                    format!("{k}={v}{}", if transitive { " (transitive)" } else { "" })
                })
                .collect();
            text.push_str(&format!(", tags {}", tags.join(" ")));
        }
        if !r.policy_arns.is_empty() {
            text.push_str(&format!(", policies {}", r.policy_arns.join(" ")));
        }
        if r.external_id.is_some() {
            text.push_str(match r.external_id_guard {
                Some(ExternalIdGuard::Guarded) => ", with an external ID (guarded)",
                Some(ExternalIdGuard::Unguarded) => {
                    ", with an external ID (UNGUARDED: assumable without it)"
                }
                None => ", with an external ID (never checked: `keyfob role check`)",
            });
        }
    }
    if let Some(m) = &p.mfa_serial {
        text.push_str(&format!(", MFA {m}"));
    }
    if let Some(d) = p.duration_secs {
        text.push_str(&format!(", {}", keyfob::model::duration::human(d)));
    } else if p.is_role_chained() {
        text.push_str(&format!(
            ", {} (role chaining: AWS allows at most 1 h)",
            keyfob::model::duration::human(p.role_secs())
        ));
    }
    if let Some(r) = &p.region {
        text.push_str(&format!(", region {r}"));
    }
    text
}

fn list(kf: &Keyfob, args: ListArgs) -> anyhow::Result<()> {
    let profiles = kf.book()?.list()?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &profiles)?;
        writeln!(out)?;
        return Ok(());
    }
    if profiles.is_empty() {
        writeln!(
            out,
            "No profiles yet — `keyfob add NAME` creates one per identity."
        )?;
    }
    for p in &profiles {
        writeln!(out, "{}", describe(p))?;
    }
    Ok(())
}

fn show(kf: &Keyfob, args: ProfileShowArgs) -> anyhow::Result<()> {
    let profile = kf.book()?.get(&args.name)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&profile)?);
    } else {
        println!("{}", describe(&profile));
    }
    Ok(())
}

fn remove(kf: &Keyfob, args: RemoveArgs) -> anyhow::Result<()> {
    let profile = app::remove_profile(kf, &args.name, &Ask { yes: args.yes })?;
    println!("Removed profile {}.", profile.name);
    Ok(())
}

pub fn use_profile(kf: &Keyfob, args: UseArgs) -> anyhow::Result<()> {
    let profile = app::use_profile(kf, &args.profile, &Ask { yes: args.yes })?;
    println!(
        "Every AWS tool now uses profile {} by default.",
        profile.name
    );
    Ok(())
}

pub fn current(kf: &Keyfob) -> anyhow::Result<()> {
    println!("{}", app::require_current(kf)?);
    Ok(())
}
