//! `add`, `list`, `remove`, `rename`, `change-pin`, `unlock`: managing
//! identities.

use std::io::{IsTerminal, Write};

use anyhow::{Context as _, bail};
use serde::Serialize;
use time::OffsetDateTime;
use time::macros::format_description;

use keyfob::identity::{
    AccessKeyId, Field, FieldError, Identity, IdentityName, check_pin, check_pin_confirmation,
    check_secret,
};
use keyfob::profile::Profile;
use keyfob::prompt::tty;
use keyfob::secret::{Pin, SecretAccessKey};
use keyfob::vault::{AddOptions, NewIdentity, Sts};

use crate::cli::{AddArgs, ChangePinArgs, ListArgs, RemoveArgs, RenameArgs};
use crate::{Context, profiles, stdin_lines};

/// Keys older than this are flagged, following the IAM guide.
const OLD_KEY_DAYS: i64 = 90;

pub fn add(ctx: &Context, args: AddArgs) -> anyhow::Result<()> {
    let name = IdentityName::parse(&args.name)?;
    let options = AddOptions {
        no_verify: args.no_verify,
        allow_root: args.allow_root,
    };
    let vault = ctx.vault()?;
    // Refuse a taken name, or an AWS config section keyfob may not write,
    // before asking for any secret.
    vault.check_name_free(&name)?;
    let plain = (!args.no_profile).then(|| Profile::plain(&name));
    if let Some(p) = &plain {
        if ctx.book()?.contains(&p.name) {
            bail!(FieldError::new(
                Field::IdentityName,
                format!(
                    "a profile named {} exists already; choose another name or pass --no-profile",
                    p.name
                )
            ));
        }
        let (path, file) = profiles::aws_config()?;
        profiles::may_write(&file, &path, &p.name, args.yes)?;
    }

    let new = if args.stdin {
        let access_key_id = AccessKeyId::parse(args.access_key_id.as_deref().unwrap_or(""))?;
        let mut lines = stdin_lines(2)?.into_iter();
        let mut next = |field: Field| {
            lines
                .next()
                .map(|mut l| std::mem::take(&mut *l))
                .ok_or_else(|| FieldError::new(field, "missing: --stdin expects the secret access key on line 1 and the PIN on line 2"))
        };
        let secret = check_secret(SecretAccessKey::new(next(Field::SecretAccessKey)?))?;
        let pin = Pin::new(next(Field::Pin)?);
        check_pin(&pin)?;
        NewIdentity {
            name,
            access_key_id,
            secret,
            pin,
        }
    } else {
        let hint = "use --access-key-id ID --stdin to give the secret and PIN on stdin";
        let access_key_id = match args.access_key_id {
            Some(id) => AccessKeyId::parse(&id)?,
            None => AccessKeyId::parse(&tty::ask("Access key ID: ", "access key ID", hint)?)?,
        };
        let mut secret = tty::ask_hidden("Secret access key: ", "secret access key", hint)?;
        let secret = check_secret(SecretAccessKey::new(std::mem::take(&mut *secret)))?;
        let pin = tty::ask_pin("Identity PIN (at least 6 characters): ", hint)?;
        check_pin(&pin)?;
        let confirmation = tty::ask_pin("Identity PIN again: ", hint)?;
        check_pin_confirmation(&pin, &confirmation)?;
        NewIdentity {
            name,
            access_key_id,
            secret,
            pin,
        }
    };

    // Progress only for a person watching: a script's stderr carries
    // nothing but the error line.
    if !options.no_verify && std::io::stderr().is_terminal() {
        eprintln!("Verifying the keys with AWS STS…");
    }
    let identity = vault.add(new, options, &Sts)?;
    if let Some(p) = &plain {
        // The identity is stored; a failure here leaves it without its
        // plain profile, which `keyfob profile add` can still create.
        profiles::save_profile(ctx, p, false, true).with_context(|| {
            format!("identity {} added, but its profile was not", identity.name)
        })?;
    }
    match (&identity.account, &identity.arn) {
        (Some(account), Some(arn)) => {
            println!("Added identity {}: account {account}, {arn}", identity.name)
        }
        (Some(account), None) => println!(
            "Added identity {} (not verified): account {account}, decoded from the key ID",
            identity.name
        ),
        _ => println!(
            "Added identity {} (not verified): account unknown",
            identity.name
        ),
    }
    Ok(())
}

/// The JSON form of `keyfob list`.
#[derive(Serialize)]
struct ListedIdentity<'a> {
    name: &'a str,
    access_key_id: &'a str,
    account: Option<&'a str>,
    arn: Option<&'a str>,
    user_id: Option<&'a str>,
    verified: bool,
    #[serde(with = "time::serde::rfc3339")]
    added_at: OffsetDateTime,
    key_age_days: i64,
}

pub fn list(ctx: &Context, args: ListArgs) -> anyhow::Result<()> {
    let identities = ctx.vault()?.list()?;
    let now = OffsetDateTime::now_utc();
    let mut out = std::io::stdout().lock();
    if args.json {
        let listed: Vec<_> = identities
            .iter()
            .map(|i| ListedIdentity {
                name: i.name.as_str(),
                access_key_id: i.access_key_id.as_str(),
                account: i.account.as_deref(),
                arn: i.arn.as_deref(),
                user_id: i.user_id.as_deref(),
                verified: i.verified,
                added_at: i.added_at,
                key_age_days: i.key_age_days(now),
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &listed)?;
        writeln!(out)?;
        return Ok(());
    }
    if identities.is_empty() {
        writeln!(out, "No identities yet — add one with `keyfob add NAME`.")?;
        return Ok(());
    }
    let rows: Vec<[String; 6]> = identities.iter().map(|i| row(i, now)).collect();
    let header = ["NAME", "KEY ID", "ACCOUNT", "ARN", "ADDED", "KEY AGE"].map(String::from);
    let mut widths = header.clone().map(|h| h.chars().count());
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for r in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = r
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        writeln!(out, "{}", line.join("  ").trim_end())?;
    }
    Ok(())
}

fn row(i: &Identity, now: OffsetDateTime) -> [String; 6] {
    let date = format_description!("[year]-[month]-[day]");
    let age = i.key_age_days(now);
    let age = if age > OLD_KEY_DAYS {
        format!("{age} d (rotate: over {OLD_KEY_DAYS} d)")
    } else {
        format!("{age} d")
    };
    let root = if i.is_root() { " (root!)" } else { "" };
    [
        i.name.to_string(),
        i.access_key_id.masked(),
        i.account.clone().unwrap_or_else(|| "unknown".into()),
        format!(
            "{}{root}",
            i.arn
                .as_deref()
                .unwrap_or(if i.verified { "" } else { "(not verified)" })
        ),
        i.added_at.format(&date).unwrap_or_default(),
        age,
    ]
}

pub fn remove(ctx: &Context, args: RemoveArgs) -> anyhow::Result<()> {
    let vault = ctx.vault()?;
    let identity = vault.get(&args.name)?;
    if !args.yes {
        let answer = tty::ask(
            &format!(
                "Remove identity {} ({}, account {})? Its sealed key is deleted. [y/N] ",
                identity.name,
                identity.access_key_id.masked(),
                identity.account.as_deref().unwrap_or("unknown")
            ),
            "confirmation",
            "pass --yes to remove without asking",
        )?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            bail!("not removed");
        }
    }
    let mut book = ctx.book()?;
    let dependents: Vec<Profile> = book
        .list()?
        .into_iter()
        .filter(|p| p.identity == identity.name)
        .collect();
    vault.remove(&args.name)?;
    for p in &dependents {
        book.remove(&p.name)?;
        if let Ok(cache) = ctx.cache() {
            let _ = cache.delete(&p.session_key());
            let _ = cache.delete(&p.identity_session_key());
        }
    }
    book.save()?;
    profiles::unwire(&dependents)?;
    println!("Removed identity {}.", identity.name);
    for p in &dependents {
        println!("Removed its profile {}.", p.name);
    }
    Ok(())
}

pub fn rename(ctx: &Context, args: RenameArgs) -> anyhow::Result<()> {
    let new = IdentityName::parse(&args.new)?;
    let mut book = ctx.book()?;
    let renamed = ctx.vault()?.rename(&args.old, new)?;
    let dependents: Vec<Profile> = book
        .list()?
        .into_iter()
        .filter(|p| p.identity.as_str() == args.old)
        .collect();
    book.rename_identity(&args.old, renamed.name.as_str());
    book.save()?;
    // Sessions are keyed by identity name: the old ones are unreachable.
    if let Ok(cache) = ctx.cache() {
        for p in &dependents {
            let _ = cache.delete(&p.session_key());
            let _ = cache.delete(&p.identity_session_key());
        }
    }
    println!("Renamed identity {} to {}.", args.old, renamed.name);
    Ok(())
}

pub fn change_pin(ctx: &Context, args: ChangePinArgs) -> anyhow::Result<()> {
    let vault = ctx.vault()?;
    vault.get(&args.name)?;
    let (old, new) = if args.stdin {
        let mut lines = stdin_lines(2)?.into_iter();
        let mut next = |field: Field| {
            lines
                .next()
                .map(|mut l| Pin::new(std::mem::take(&mut *l)))
                .ok_or_else(|| FieldError::new(field, "missing: --stdin expects the current PIN on line 1 and the new PIN on line 2"))
        };
        let old = next(Field::Pin)?;
        (old, next(Field::Pin)?)
    } else {
        let hint = "use --stdin to give the current and new PIN on stdin";
        let old = tty::ask_pin("Current PIN: ", hint)?;
        let new = tty::ask_pin("New PIN (at least 6 characters): ", hint)?;
        check_pin(&new)?;
        check_pin_confirmation(&new, &tty::ask_pin("New PIN again: ", hint)?)?;
        (old, new)
    };
    vault
        .change_pin(&args.name, &old, &new)
        .with_context(|| format!("PIN of {} not changed", args.name))?;
    println!("Changed the PIN of identity {}.", args.name);
    Ok(())
}
