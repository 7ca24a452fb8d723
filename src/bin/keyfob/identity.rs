//! `add`, `list`, `remove`, `rename`, `change-pin`, `unlock`: managing
//! identities.

use std::io::{IsTerminal, Write};

use anyhow::Context as _;
use serde::Serialize;
use time::OffsetDateTime;
use time::macros::format_description;

use keyfob::app::{self, AppError, Keyfob};
use keyfob::model::endpoints::Endpoints;
use keyfob::model::identity::{
    AccessKeyId, Field, FieldError, Identity, IdentityName, check_pin, check_secret,
};
use keyfob::model::secret::{Pin, SecretAccessKey};
use keyfob::platform::tty;
use keyfob::vault::{AddOptions, NewIdentity};

use crate::cli::{AddArgs, ChangePinArgs, EndpointArgs, ListArgs, RemoveArgs, RenameArgs};
use crate::terminal::{self, Ask};

pub fn add(kf: &Keyfob, args: AddArgs) -> anyhow::Result<()> {
    let name = IdentityName::parse(&args.name)?;
    let tpm = crate::tpm::choice(kf, &args.bind)?;
    let options = AddOptions {
        no_verify: args.no_verify,
        allow_root: args.allow_root,
        tpm,
        recovery: args.bind.recovery_code,
    };
    // Refuse a taken name, or an AWS config section keyfob may not write,
    // before asking for any secret.
    app::check_new_identity(kf, &name, !args.no_profile, &Ask { yes: args.yes })
        .map_err(|e| match e {
            AppError::Field(f) if f.field == Field::IdentityName && f.reason.contains("exists already") => {
                AppError::Field(FieldError::new(
                    Field::IdentityName,
                    format!(
                        "a profile named {name} exists already; choose another name or pass --no-profile"
                    ),
                ))
            }
            other => other,
        })?;

    // Where the keys will be sent, checked before any secret is asked.
    let endpoints = Endpoints::at_add(args.endpoint_url.as_deref(), args.region.as_deref())?;
    if !endpoints.is_aws() && std::io::stderr().is_terminal() {
        eprintln!(
            "This identity's calls will go to {} (not AWS).",
            endpoints.describe()
        );
    }
    let new = if args.stdin {
        let access_key_id = AccessKeyId::parse(args.access_key_id.as_deref().unwrap_or(""))?;
        let mut lines = terminal::stdin_fields(
            &[Field::SecretAccessKey, Field::Pin],
            "--stdin expects the secret access key on line 1 and the PIN on line 2",
        )?;
        let secret = check_secret(SecretAccessKey::new(std::mem::take(&mut *lines[0])))?;
        let pin = Pin::new(std::mem::take(&mut *lines[1]));
        check_pin(&pin)?;
        NewIdentity {
            name,
            access_key_id,
            secret,
            pin,
            endpoints,
        }
    } else {
        let hint = "use --access-key-id ID --stdin to give the secret and PIN on stdin";
        let access_key_id = match args.access_key_id {
            Some(id) => AccessKeyId::parse(&id)?,
            None => AccessKeyId::parse(&tty::ask("Access key ID: ", "access key ID", hint)?)?,
        };
        let mut secret = tty::ask_hidden("Secret access key: ", "secret access key", hint)?;
        let secret = check_secret(SecretAccessKey::new(std::mem::take(&mut *secret)))?;
        let pin = terminal::new_pin(
            "Identity PIN (at least 6 characters): ",
            "Identity PIN again: ",
            hint,
        )?;
        NewIdentity {
            name,
            access_key_id,
            secret,
            pin,
            endpoints,
        }
    };

    // Progress only for a person watching: a script's stderr carries
    // nothing but the error line.
    if !options.no_verify && std::io::stderr().is_terminal() {
        eprintln!("Verifying the keys with AWS STS…");
    }
    let (identity, sealed) = app::add_identity(kf, new, options, !args.no_profile)?;
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
    crate::tpm::say_added_protection(identity.name.as_str(), &sealed, &args.bind);
    Ok(())
}

/// The JSON form of `keyfob list`.
#[derive(Serialize)]
struct ListedIdentity<'a> {
    name: &'a str,
    kind: &'static str,
    access_key_id: &'a str,
    account: Option<&'a str>,
    arn: Option<&'a str>,
    user_id: Option<&'a str>,
    verified: bool,
    #[serde(with = "time::serde::rfc3339")]
    added_at: OffsetDateTime,
    key_age_days: i64,
    /// `pin` or `tpm+pin` (`+recovery` with a recovery code).
    protection: &'static str,
}

/// The JSON form of an Identity Center identity in `keyfob list`.
#[derive(Serialize)]
struct ListedSso<'a> {
    name: &'a str,
    kind: &'static str,
    start_url: &'a str,
    region: &'a str,
    scopes: &'a [String],
    /// An AWS sign-in's principal (an ARN).
    #[serde(skip_serializing_if = "Option::is_none")]
    principal: Option<&'a str>,
    #[serde(with = "time::serde::rfc3339")]
    added_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    signed_in_at: OffsetDateTime,
    /// As for an access key: `pin`, `tpm+pin`, `tpm+pin+recovery`.
    protection: &'static str,
}

pub fn list(kf: &Keyfob, args: ListArgs) -> anyhow::Result<()> {
    let identities = kf.identities()?;
    let vault = kf.vault()?;
    // Read from each sealed entry's header: no PIN, no TPM.
    let protection = |i: &Identity| {
        vault
            .protection(i)
            .map(|p| p.describe())
            .unwrap_or("unreadable")
    };
    let sso_protection = |i: &keyfob::config::sso::SsoIdentity| {
        vault
            .sso_protection(i)
            .map(|p| p.describe())
            .unwrap_or("unreadable")
    };
    let sso = app::sso_identities(kf)?;
    let now = OffsetDateTime::now_utc();
    let mut out = std::io::stdout().lock();
    if args.json {
        let listed: Vec<_> = identities
            .iter()
            .map(|i| ListedIdentity {
                name: i.name.as_str(),
                kind: "access-key",
                access_key_id: i.access_key_id.as_str(),
                account: i.account.as_deref(),
                arn: i.arn.as_deref(),
                user_id: i.user_id.as_deref(),
                verified: i.verified,
                added_at: i.added_at,
                key_age_days: i.key_age_days(now),
                protection: protection(i),
            })
            .collect();
        let mut listed: Vec<serde_json::Value> = listed
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<_, _>>()?;
        for i in &sso {
            listed.push(serde_json::to_value(ListedSso {
                name: i.name.as_str(),
                kind: sign_in_kind(i),
                start_url: &i.start_url,
                region: &i.region,
                scopes: &i.scopes,
                principal: i.principal.as_deref(),
                added_at: i.added_at,
                signed_in_at: i.signed_in_at,
                protection: sso_protection(i),
            })?);
        }
        serde_json::to_writer_pretty(&mut out, &listed)?;
        writeln!(out)?;
        return Ok(());
    }
    if identities.is_empty() && sso.is_empty() {
        writeln!(
            out,
            "No identities yet — add one with `keyfob add NAME` (access keys), `keyfob sso add NAME` (IAM Identity Center) or `keyfob login-session add NAME` (your AWS console sign-in)."
        )?;
        return Ok(());
    }
    // Columns two spaces apart, as wide as their widest cell.
    let mut table = tabwriter::TabWriter::new(&mut out).padding(2);
    let header = [
        "NAME",
        "KIND",
        "KEY ID",
        "ACCOUNT",
        "ARN",
        "ADDED",
        "KEY AGE",
        "PROTECTION",
    ]
    .map(String::from);
    let sso_rows = sso.iter().map(|i| sso_row(i, sso_protection(i)));
    for r in std::iter::once(header)
        .chain(identities.iter().map(|i| row(i, now, protection(i))))
        .chain(sso_rows)
    {
        writeln!(table, "{}", r.join("\t"))?;
    }
    table.flush()?;
    Ok(())
}

/// What `list` calls a sign-in identity's kind.
fn sign_in_kind(i: &keyfob::config::sso::SsoIdentity) -> &'static str {
    match i.kind {
        keyfob::config::sso::SignInKind::IdentityCenter => "identity-center",
        keyfob::config::sso::SignInKind::Console => "aws-sign-in",
    }
}

/// An Identity Center identity's row: its start URL and region stand
/// where an access key's ARN does.
fn sso_row(i: &keyfob::config::sso::SsoIdentity, protection: &str) -> [String; 8] {
    let date = format_description!("[year]-[month]-[day]");
    let account = i
        .principal
        .as_deref()
        .and_then(keyfob::aws::signin::account_of)
        .unwrap_or("-");
    [
        i.name.to_string(),
        sign_in_kind(i).into(),
        "-".into(),
        account.into(),
        match &i.principal {
            // An AWS sign-in: who signed in, where.
            Some(p) => format!("{p} ({})", i.region),
            None => format!("{} ({})", i.start_url, i.region),
        },
        i.added_at.format(&date).unwrap_or_default(),
        "-".into(),
        protection.into(),
    ]
}

fn row(i: &Identity, now: OffsetDateTime, protection: &str) -> [String; 8] {
    let date = format_description!("[year]-[month]-[day]");
    let age = keyfob::app::access_keys::age_text(i.key_age_days(now));
    let root = if i.is_root() { " (root!)" } else { "" };
    [
        i.name.to_string(),
        "access-key".into(),
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
        protection.into(),
    ]
}

pub fn remove(kf: &Keyfob, args: RemoveArgs) -> anyhow::Result<()> {
    if kf.vault()?.get(&args.name).is_err() && kf.vault()?.sso_get(&args.name).is_ok() {
        let (gone, profiles) = app::remove_sso_identity(kf, &args.name, &Ask { yes: args.yes })?;
        println!("Removed Identity Center identity {}.", gone.name);
        for p in &profiles {
            println!("Removed its profile {p}.");
        }
        return Ok(());
    }
    let (identity, profiles) = app::remove_identity(kf, &args.name, &Ask { yes: args.yes })?;
    println!("Removed identity {}.", identity.name);
    for p in &profiles {
        println!("Removed its profile {p}.");
    }
    Ok(())
}

pub fn rename(kf: &Keyfob, args: RenameArgs) -> anyhow::Result<()> {
    let new = IdentityName::parse(&args.new)?;
    let renamed = app::rename_identity(kf, &args.old, new)?;
    println!("Renamed identity {} to {renamed}.", args.old);
    Ok(())
}

pub fn change_pin(kf: &Keyfob, args: ChangePinArgs) -> anyhow::Result<()> {
    // Either kind of identity; a missing one is said before any PIN.
    let vault = kf.vault()?;
    if let Err(e) = vault.get(&args.name)
        && vault.sso_get(&args.name).is_err()
    {
        return Err(e.into());
    }
    let (old, new) = if args.stdin {
        let mut pins = terminal::pins_from_stdin(
            2,
            "--stdin expects the current PIN on line 1 and the new PIN on line 2",
        )?;
        let new = pins.remove(1);
        (pins.remove(0), new)
    } else {
        let hint = "use --stdin to give the current and new PIN on stdin";
        let old = tty::ask_pin("Current PIN: ", hint)?;
        let new = terminal::new_pin("New PIN (at least 6 characters): ", "New PIN again: ", hint)?;
        (old, new)
    };
    app::change_pin(kf, &args.name, &old, &new)
        .with_context(|| format!("PIN of {} not changed", args.name))?;
    println!("Changed the PIN of identity {}.", args.name);
    Ok(())
}

/// `keyfob endpoint NAME`: where the identity's key and sessions go, changed
/// under its PIN (in the agent, which reseals the key).
pub fn endpoint(kf: &Keyfob, args: EndpointArgs) -> anyhow::Result<()> {
    let current = kf.vault()?.get(&args.name)?.endpoints();
    if args.endpoint_url.is_none() && !args.aws && args.region.is_none() {
        println!(
            "Identity {}'s calls go to {}.",
            args.name,
            current.describe()
        );
        return Ok(());
    }
    let url = if args.aws {
        None
    } else {
        args.endpoint_url.clone().or(current.url.clone())
    };
    let region = args.region.clone().unwrap_or(current.region.clone());
    let endpoints = Endpoints::parse(url.as_deref(), Some(&region))?;
    let pin = if args.pin_stdin {
        let mut lines = terminal::stdin_lines(1)?.into_iter();
        Pin::new(
            lines
                .next()
                .map(|mut l| std::mem::take(&mut *l))
                .ok_or_else(|| {
                    FieldError::new(Field::Pin, "missing: --pin-stdin expects the PIN on line 1")
                })?,
        )
    } else {
        tty::ask_pin(
            &format!("PIN for {}: ", args.name),
            "use --pin-stdin to give the PIN on stdin",
        )?
    };
    let now = app::set_endpoints(kf, &args.name, &pin, endpoints)?;
    println!(
        "Identity {}'s calls now go to {} (were {}); its sessions were dropped.",
        args.name,
        now.describe(),
        current.describe()
    );
    Ok(())
}
