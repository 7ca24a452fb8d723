//! Third-party roles: what `profile add` says about the confused-deputy
//! guard, `role check`, and the provider's tools `external-id new` and
//! `trust-policy`. The flows are in the core ([`keyfob::app`]) and the
//! rules in [`keyfob::app::thirdparty`]; this file prints.

use anyhow::bail;

use keyfob::app::thirdparty;
use keyfob::app::{self, Keyfob, Saved};
use keyfob::config::profile::{ExternalIdGuard, Profile};

use crate::cli::{ExternalIdCommand, RoleCommand, TrustPolicyArgs};
use crate::terminal;

/// What the guard found on a profile just stored.
pub fn tell_verdict(saved: &Saved) {
    let profile = &saved.profile;
    let Some(role) = profile.role.as_ref().filter(|r| r.external_id.is_some()) else {
        return;
    };
    println!("Role {} is in account {}.", role.arn, role.account);
    if saved.own_account {
        println!(
            "Note: that is identity {}'s own account, so this is not a third-party role; the external-ID guard runs all the same.",
            profile.identity
        );
    }
    match role.external_id_guard {
        Some(ExternalIdGuard::Guarded) => println!(
            "Guarded: the role refuses AssumeRole without the external ID and accepts it with it."
        ),
        Some(ExternalIdGuard::Unguarded) => warn(profile),
        None => {}
    }
}

/// Prints the profile's one-line guard warning on stderr, if it has one.
/// Never on stdout: credential_process output must stay pure JSON.
pub fn warn(profile: &Profile) {
    if let Some(w) = thirdparty::warning(profile) {
        eprintln!("keyfob: warning: {w}");
    }
}

pub fn role(kf: &Keyfob, cmd: RoleCommand) -> anyhow::Result<()> {
    let RoleCommand::Check(args) = cmd;
    let fixed = terminal::fixed_prompter(args.pin.pin_stdin, args.pin.mfa_code.as_ref())?;
    let chain = terminal::prompter();
    let (checked, verdict) = app::check_role(kf, &args.profile, terminal::either(&fixed, &chain))?;
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

pub fn external_id(kf: &Keyfob, cmd: ExternalIdCommand) -> anyhow::Result<()> {
    let ExternalIdCommand::New(args) = cmd;
    let Some(customer) = args.customer else {
        println!("{}", thirdparty::new_external_id()?);
        return Ok(());
    };
    let path = thirdparty::record_path(&kf.paths);
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
