//! Third-party roles: the confused-deputy guard that `profile add` runs on
//! a role with an external ID, `role check`, and the provider's tools
//! `external-id new` and `trust-policy`. The rules and the AWS calls are
//! in the library ([`keyfob::thirdparty`]); this file gets the identity
//! session, prints, and records the verdict.

use anyhow::bail;

use keyfob::identity::Identity;
use keyfob::profile::{ExternalIdGuard, Profile, ProfileError};
use keyfob::provider::{Prompter, Provider, ProviderError};
use keyfob::session::Session;
use keyfob::thirdparty::{self, ThirdPartyError};

use crate::cli::{ExternalIdCommand, GuardPinArgs, RoleCommand, TrustPolicyArgs};
use crate::{Context, sessions};

/// Runs the guard on a profile about to be stored (`profile add`), before
/// anything is written, and sets its verdict. A role in the identity's own
/// account is noted as not third-party; the guard runs all the same.
/// Refuses an unguarded role unless `accept_unguarded`.
pub fn guard_new_profile(
    ctx: &Context,
    profile: &mut Profile,
    identity: &Identity,
    replace: bool,
    accept_unguarded: bool,
    pin: &GuardPinArgs,
) -> anyhow::Result<()> {
    let Some(role) = &profile.role else {
        return Ok(());
    };
    if role.external_id.is_none() {
        return Ok(());
    }
    println!("Role {} is in account {}.", role.arn, role.account);
    if identity.account.as_deref() == Some(role.account.as_str()) {
        println!(
            "Note: that is identity {}'s own account, so this is not a third-party role; the external-ID guard runs all the same.",
            identity.name
        );
    }
    // Refuse a taken name before any AWS call or PIN prompt.
    if !replace && ctx.book()?.contains(&profile.name) {
        return Err(ProfileError::Exists {
            name: profile.name.clone(),
        }
        .into());
    }
    let session = identity_session(ctx, profile, pin)?;
    let verdict = thirdparty::guard(&session, profile, accept_unguarded)?;
    drop(session);
    match verdict {
        Some(ExternalIdGuard::Guarded) => println!(
            "Guarded: the role refuses AssumeRole without the external ID and accepts it with it."
        ),
        Some(ExternalIdGuard::Unguarded) => warn(profile),
        None => {}
    }
    Ok(())
}

/// Prints the profile's one-line guard warning on stderr, if it has one.
/// Never on stdout: credential_process output must stay pure JSON.
pub fn warn(profile: &Profile) {
    if let Some(w) = thirdparty::warning(profile) {
        eprintln!("keyfob: warning: {w}");
    }
}

/// The identity session the profile's role is assumed with: cached, or
/// made now through the prompt chain (or `--pin-stdin` / `--mfa-code`).
/// It is the provider's own identity session for the profile — the same
/// cache entry its role sessions are made from later.
fn identity_session(
    ctx: &Context,
    profile: &Profile,
    pin: &GuardPinArgs,
) -> anyhow::Result<Session> {
    let fixed = sessions::fixed_prompter(pin.pin_stdin, pin.mfa_code.as_ref())?;
    let chain = sessions::prompter(ctx);
    let prompter: Option<&dyn Prompter> = match &fixed {
        Some(f) => Some(f),
        None => chain.as_deref(),
    };
    let cache = ctx.cache()?;
    let vault = || ctx.vault_lib();
    let provider = Provider::new(
        cache.as_ref(),
        &vault,
        prompter,
        ctx.paths.runtime_dir.join("locks"),
    );
    match thirdparty::identity_session(&provider, profile) {
        Ok(s) => Ok(s),
        Err(ProviderError::Locked { .. }) => bail!(
            "the external-ID guard needs identity {}'s session and it is locked — run this on a terminal, or pass --pin-stdin{}",
            profile.identity,
            if profile.mfa_serial.is_some() {
                " and --mfa-code CODE"
            } else {
                ""
            }
        ),
        Err(e) => Err(e.into()),
    }
}

pub fn role(ctx: &Context, cmd: RoleCommand) -> anyhow::Result<()> {
    let RoleCommand::Check(args) = cmd;
    let mut book = ctx.book()?;
    let profile = book.get(&args.profile)?;
    if profile
        .role
        .as_ref()
        .and_then(|r| r.external_id.as_ref())
        .is_none()
    {
        return Err(ThirdPartyError::NoExternalId {
            profile: profile.name.clone(),
        }
        .into());
    }
    let session = identity_session(ctx, &profile, &args.pin)?;
    let verdict = thirdparty::check(&session, &profile)?;
    drop(session);
    // Read again: the file may have changed while AWS answered.
    book = ctx.book()?;
    book.set_guard(&profile.name, verdict)?;
    book.save()?;
    let checked = book.get(&profile.name)?;
    match verdict {
        ExternalIdGuard::Guarded => {
            println!(
                "Profile {} is guarded: its role refuses AssumeRole without the external ID and accepts it with it.",
                checked.name
            );
            Ok(())
        }
        ExternalIdGuard::Unguarded => match thirdparty::warning(&checked) {
            Some(w) => bail!("{w}"),
            None => bail!("profile {} is unguarded", checked.name),
        },
    }
}

pub fn external_id(ctx: &Context, cmd: ExternalIdCommand) -> anyhow::Result<()> {
    let ExternalIdCommand::New(args) = cmd;
    let Some(customer) = args.customer else {
        println!("{}", thirdparty::new_external_id()?);
        return Ok(());
    };
    let path = thirdparty::record_path(&ctx.paths);
    let issued = thirdparty::issue(&path, &customer, args.rotate)?;
    println!("{}", issued.external_id);
    // Notes on stderr, so `ID=$(keyfob external-id new …)` gets the ID alone.
    if issued.new {
        eprintln!(
            "Issued to customer {customer} (recorded in {}). `keyfob trust-policy --account YOUR_ACCOUNT_ID --external-id {}` prints the trust policy to give them.",
            path.display(),
            issued.external_id
        );
    } else {
        eprintln!(
            "Customer {customer} already has this external ID (issued {}); --rotate gives them a new one.",
            issued
                .issued_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
        );
    }
    Ok(())
}

pub fn trust_policy(args: TrustPolicyArgs) -> anyhow::Result<()> {
    let policy = thirdparty::trust_policy(
        args.account.as_deref(),
        args.principal_arn.as_deref(),
        &args.external_id,
    )?;
    println!("{policy}");
    Ok(())
}
