//! `profile add|list|show|remove`, `use`, `current`: keyfob profiles and
//! their sections in the AWS config file.

use std::io::Write;

use anyhow::{Context as _, bail};

use keyfob::aws::config_file::{AwsFile, Flavor};
use keyfob::aws::wiring::{self, Ownership};
use keyfob::profile::{ExternalIdGuard, Profile, ProfileInput};

use crate::cli::{ListArgs, ProfileAddArgs, ProfileCommand, ProfileShowArgs, RemoveArgs, UseArgs};
use crate::{Context, confirm};

pub fn run(ctx: &Context, cmd: ProfileCommand) -> anyhow::Result<()> {
    match cmd {
        ProfileCommand::Add(args) => add(ctx, *args),
        ProfileCommand::List(args) => list(ctx, args),
        ProfileCommand::Show(args) => show(ctx, args),
        ProfileCommand::Remove(args) => remove(ctx, args),
    }
}

/// The AWS config file's section name for a keyfob profile.
fn aws_name(profile: &str) -> &str {
    profile
}

pub fn aws_config() -> anyhow::Result<(std::path::PathBuf, AwsFile)> {
    let path = wiring::config_path()
        .context("cannot find the AWS config file: set HOME or AWS_CONFIG_FILE")?;
    let file = AwsFile::load(&path, Flavor::Config)?;
    Ok((path, file))
}

/// Checks that keyfob may write `aws_profile`'s section: it is missing,
/// already keyfob's, or the user agrees to hand it over.
pub fn may_write(
    file: &AwsFile,
    path: &std::path::Path,
    aws_profile: &str,
    yes: bool,
) -> anyhow::Result<()> {
    if wiring::ownership(file, aws_profile) == Ownership::Unmanaged {
        confirm(
            &format!(
                "profile {aws_profile} in {} is not managed by keyfob; replace its credential settings (a backup is kept)?",
                path.display()
            ),
            yes,
            "pass --yes to take it over",
        )?;
    }
    Ok(())
}

/// Adds `profile` to config.toml and wires it into the AWS config file.
/// Both files are checked before either is written.
pub fn save_profile(
    ctx: &Context,
    profile: &Profile,
    replace: bool,
    yes: bool,
) -> anyhow::Result<()> {
    let mut book = ctx.book()?;
    let (path, mut file) = aws_config()?;
    book.put(profile, replace)?;
    may_write(&file, &path, aws_name(&profile.name), yes)?;
    wiring::point_at(
        &mut file,
        aws_name(&profile.name),
        &profile.name,
        &ctx.exe()?,
        profile.region.as_deref(),
    )?;
    book.save()?;
    file.save(&path)?;
    Ok(())
}

fn add(ctx: &Context, args: ProfileAddArgs) -> anyhow::Result<()> {
    let mut profile = Profile::from_input(&ProfileInput {
        name: args.name,
        identity: args.identity,
        role_arn: args.role_arn,
        external_id: args.external_id,
        role_session_name: args.role_session_name,
        source_identity: args.source_identity,
        mfa_serial: args.mfa_serial,
        duration: args.duration,
        region: args.region,
    })?;
    // The identity must exist (a typo would otherwise surface at unlock).
    let identity = ctx.vault()?.get(profile.identity.as_str())?;
    // A role with an external ID: the confused-deputy guard, before
    // anything is written.
    crate::thirdparty::guard_new_profile(
        ctx,
        &mut profile,
        &identity,
        args.replace,
        args.accept_unguarded,
        &args.pin,
    )?;
    save_profile(ctx, &profile, args.replace, args.yes)?;
    // A changed profile must not keep handing out the old session.
    if let Ok(cache) = ctx.cache() {
        let _ = cache.delete(&profile.session_key());
    }
    println!("{}", describe(&profile));
    Ok(())
}

fn describe(p: &Profile) -> String {
    let mut text = format!("Profile {}: identity {}", p.name, p.identity);
    if let Some(r) = &p.role {
        text.push_str(&format!(", role {} (account {})", r.arn, r.account));
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
        text.push_str(&format!(", {}", keyfob::limits::human(d)));
    }
    if let Some(r) = &p.region {
        text.push_str(&format!(", region {r}"));
    }
    text
}

fn list(ctx: &Context, args: ListArgs) -> anyhow::Result<()> {
    let profiles = ctx.book()?.list()?;
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

fn show(ctx: &Context, args: ProfileShowArgs) -> anyhow::Result<()> {
    let profile = ctx.book()?.get(&args.name)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&profile)?);
    } else {
        println!("{}", describe(&profile));
    }
    Ok(())
}

fn remove(ctx: &Context, args: RemoveArgs) -> anyhow::Result<()> {
    let mut book = ctx.book()?;
    let profile = book.remove(&args.name)?;
    let (path, mut file) = aws_config()?;
    let managed = wiring::ownership(&file, aws_name(&profile.name))
        == Ownership::Managed(profile.name.clone());
    if !args.yes {
        confirm(
            &format!("Remove profile {}?", profile.name),
            false,
            "pass --yes to remove without asking",
        )?;
    }
    book.save()?;
    if managed {
        file.remove_profile(aws_name(&profile.name));
        file.save(&path)?;
    }
    if let Ok(cache) = ctx.cache() {
        let _ = cache.delete(&profile.session_key());
    }
    println!("Removed profile {}.", profile.name);
    Ok(())
}

/// Removes the AWS config sections of `profiles` that keyfob manages.
pub fn unwire(profiles: &[Profile]) -> anyhow::Result<()> {
    let (path, mut file) = aws_config()?;
    for p in profiles {
        if wiring::ownership(&file, aws_name(&p.name)) == Ownership::Managed(p.name.clone()) {
            file.remove_profile(aws_name(&p.name));
        }
    }
    file.save(&path)?;
    Ok(())
}

pub fn use_profile(ctx: &Context, args: UseArgs) -> anyhow::Result<()> {
    let profile = ctx.profile(&args.profile)?;
    let (path, mut file) = aws_config()?;
    may_write(&file, &path, "default", args.yes)?;
    wiring::point_at(
        &mut file,
        "default",
        &profile.name,
        &ctx.exe()?,
        profile.region.as_deref(),
    )?;
    file.save(&path)?;
    println!(
        "Every AWS tool now uses profile {} by default.",
        profile.name
    );
    Ok(())
}

pub fn current(_ctx: &Context) -> anyhow::Result<()> {
    let (path, file) = aws_config()?;
    match wiring::ownership(&file, "default") {
        Ownership::Managed(profile) => {
            println!("{profile}");
            Ok(())
        }
        Ownership::Unmanaged => bail!(
            "the default profile in {} is not managed by keyfob — `keyfob use PROFILE` sets it",
            path.display()
        ),
        Ownership::Missing => bail!("no default profile — `keyfob use PROFILE` sets one"),
    }
}
