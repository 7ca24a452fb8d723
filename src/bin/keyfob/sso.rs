//! `keyfob sso add | login | sync | logout`: IAM Identity Center identities on the
//! terminal. The flows are in `keyfob::app` (`add_sso_identity`,
//! `sso_login`); this file parses, asks for the PIN, and shows the
//! sign-in code.

use std::io::IsTerminal;
use std::time::Duration;

use keyfob::app::{self, DeviceCode, Keyfob, SignInHost, SignInPage};
use keyfob::config::sso::NewSso;
use keyfob::model::identity::check_pin;
use keyfob::model::secret::Pin;

use crate::cli::{SsoAddArgs, SsoCommand, SsoLoginArgs, SsoLogoutArgs, SsoSyncArgs};
use crate::terminal;

pub fn run(kf: &Keyfob, cmd: SsoCommand) -> anyhow::Result<()> {
    match cmd {
        SsoCommand::Add(args) => add(kf, args),
        SsoCommand::Login(args) => login(kf, args),
        SsoCommand::Sync(args) => sync(kf, args),
        SsoCommand::Logout(args) => logout(kf, args),
    }
}

fn logout(kf: &Keyfob, args: SsoLogoutArgs) -> anyhow::Result<()> {
    // The agent, which runs the logout, finds the identity.
    keyfob::model::identity::IdentityName::parse(&args.name)?;
    let pin = read_pin(args.pin_stdin, false)?;
    let done = app::sso_logout(kf, &args.name, &pin)?;
    if let Some(why) = &done.not_ended {
        eprintln!(
            "Identity Center could not be told ({why}); the sign-in is forgotten here and its tokens expire there."
        );
    }
    println!(
        "Signed out Identity Center identity {} ({} profile session(s) dropped). `keyfob sso login {}` signs in again.",
        done.identity, done.locked, done.identity
    );
    Ok(())
}

fn sync(kf: &Keyfob, args: SsoSyncArgs) -> anyhow::Result<()> {
    use keyfob::app::SyncChange;
    // Checked before the PIN is asked.
    app::Template::parse(&args.template)?;
    keyfob::model::identity::IdentityName::parse(&args.name)?;
    let pin = read_pin(args.pin_stdin, false)?;
    let report = app::sso_sync(kf, &args.name, &pin, &args.template, args.dry_run)?;
    let would = if report.dry_run { "would be " } else { "" };
    let (mut created, mut updated, mut unchanged, mut removed, mut other) = (0, 0, 0, 0, 0);
    for change in &report.changes {
        match change {
            SyncChange::Created {
                profile,
                account_id,
                role_name,
            } => {
                created += 1;
                println!("{would}created  {profile}  ({account_id} {role_name})");
            }
            SyncChange::Updated { profile } => {
                updated += 1;
                println!("{would}updated  {profile}");
            }
            SyncChange::Unchanged { .. } => unchanged += 1,
            SyncChange::Renamed { profile, now } => {
                other += 1;
                println!(
                    "renamed  {profile}: the template now gives {now} (the account was renamed); kept as {profile}"
                );
            }
            SyncChange::Removed {
                profile,
                account_id,
                role_name,
            } => {
                removed += 1;
                println!(
                    "removed  {profile}: {account_id} {role_name} is no longer assigned; kept — `keyfob profile remove {profile}` deletes it"
                );
            }
            SyncChange::Conflict { profile, reason } => {
                other += 1;
                println!("skipped  {profile}: {reason}");
            }
        }
    }
    println!(
        "{} {}: {} accounts, {} roles; {created} {would}created, {updated} {would}updated, {unchanged} unchanged, {removed} no longer assigned, {other} to look at.",
        if report.dry_run {
            "Dry run of sync for"
        } else {
            "Synced"
        },
        report.identity,
        report.accounts,
        report.assignments,
    );
    Ok(())
}

fn add(kf: &Keyfob, args: SsoAddArgs) -> anyhow::Result<()> {
    let new = NewSso::parse(
        &args.name,
        &args.start_url,
        &args.region,
        args.scopes.as_deref(),
    )?;
    let tpm = crate::tpm::choice(kf, &args.bind)?;
    app::check_new_sso(kf, &new)?;
    let pin = read_pin(args.sign_in.pin_stdin, true)?;
    let host = Terminal::new(&args.sign_in);
    let added = app::add_sso_identity(kf, &new, &pin, (tpm, args.bind.recovery_code), &host);
    end_countdown();
    let (identity, sealed) = added?;
    println!(
        "Added Identity Center identity {} ({}, {}). `keyfob sso sync {}` makes its profiles.",
        identity.name, identity.start_url, identity.region, identity.name
    );
    crate::tpm::say_added_protection(identity.name.as_str(), &sealed, &args.bind);
    Ok(())
}

fn login(kf: &Keyfob, args: SsoLoginArgs) -> anyhow::Result<()> {
    kf.vault()?.sso_get(&args.name)?;
    let pin = read_pin(args.sign_in.pin_stdin, false)?;
    let host = Terminal::new(&args.sign_in);
    let identity = app::sso_login(kf, &args.name, &pin, &host);
    end_countdown();
    let identity = identity?;
    println!("Signed in Identity Center identity {}.", identity.name);
    Ok(())
}

/// Signs identity `name` in again on the terminal (its PIN, the code, the
/// browser) when a profile's call found the sign-in expired; returns the
/// PIN for the retry.
pub fn sign_in_on_terminal(kf: &Keyfob, name: &str) -> anyhow::Result<Pin> {
    eprintln!(
        "The Identity Center sign-in of {name} has expired and cannot be renewed; signing in again."
    );
    let pin = read_pin(false, false)?;
    let host = Terminal {
        no_browser: false,
        use_device_code: false,
    };
    let identity = app::sso_login(kf, name, &pin, &host);
    end_countdown();
    identity?;
    Ok(pin)
}

/// Shows a browser sign-in's page on stderr and opens it here (unless
/// `no_browser`, or it is not an AWS sign-in address); false when no
/// browser could be opened, so the caller signs in with a code instead.
/// `to` says what is signed in to, `other_way` the flag that avoids the
/// browser on this machine.
pub fn open_page(page: &SignInPage<'_>, to: &str, other_way: &str, no_browser: bool) -> bool {
    eprintln!(
        "To sign in {} {to}, open this page in a browser on this machine:\n{}\n(keyfob waits {} s for it; where you cannot open it here, run the command again with {other_way})",
        page.identity,
        page.url,
        page.expires_in.as_secs()
    );
    if !page.openable {
        eprintln!(
            "(not opened in a browser: it is not an AWS sign-in address; check it before opening it yourself)"
        );
    } else if !no_browser && let Err(e) = keyfob::platform::browser::open(page.url) {
        eprintln!("(could not open a browser: {e}; signing in with a code instead)");
        return false;
    }
    true
}

/// Ends the countdown line [`Terminal::waiting`] draws.
pub fn end_countdown() {
    if std::io::stderr().is_terminal() {
        eprintln!();
    }
}

/// The PIN from stdin's first line, or the terminal (twice for a new one).
pub fn read_pin(stdin: bool, new: bool) -> anyhow::Result<Pin> {
    let hint = "pass --pin-stdin to give the PIN on stdin";
    let pin = match (stdin, new) {
        (false, true) => terminal::new_pin(
            "Identity PIN (at least 6 characters): ",
            "Identity PIN again: ",
            hint,
        )?,
        _ => terminal::pin(stdin, "Identity PIN: ", hint)?,
    };
    if new {
        check_pin(&pin)?;
    }
    Ok(pin)
}

/// Shows the sign-in on stderr (stdout stays for results) and opens the
/// browser unless told not to.
pub struct Terminal {
    no_browser: bool,
    use_device_code: bool,
}

impl Terminal {
    /// The sign-in as `import --from aws-cli-sso` asks for it (the same
    /// flags as `sso add`).
    pub fn signing_in(no_browser: bool, use_device_code: bool) -> Terminal {
        Terminal {
            no_browser,
            use_device_code,
        }
    }

    fn new(args: &crate::cli::SignInArgs) -> Terminal {
        Terminal {
            no_browser: args.no_browser,
            use_device_code: args.use_device_code,
        }
    }
}

impl SignInHost for Terminal {
    /// The browser sign-in unless asked for the code, or where no browser
    /// can run on this machine (no display, no `$BROWSER`: an SSH session),
    /// since only a browser here reaches the loopback. `--no-browser` alone
    /// keeps the browser sign-in where one can run: the URL is printed,
    /// not opened.
    fn browser_sign_in(&self) -> bool {
        !self.use_device_code && keyfob::platform::browser::available()
    }

    fn open_sign_in_page(&self, page: &SignInPage<'_>) -> bool {
        open_page(
            page,
            "to IAM Identity Center",
            "--use-device-code",
            self.no_browser,
        )
    }

    fn show_code(&self, code: &DeviceCode<'_>) {
        let url = code
            .verification_uri_complete
            .unwrap_or(code.verification_uri);
        eprintln!(
            "To sign in {} to IAM Identity Center, open {url}\nand check that it shows the code: {}\n(the code expires in {} s)",
            code.identity,
            code.user_code,
            code.expires_in.as_secs()
        );
        if !code.openable {
            eprintln!(
                "(not opened in a browser: {url} is not an AWS sign-in address; check it before opening it yourself)"
            );
        } else if !self.no_browser
            && let Err(e) = keyfob::platform::browser::open(url)
        {
            eprintln!("(could not open a browser: {e}; open the URL yourself)");
        }
    }

    fn waiting(&self, left: Duration) {
        if std::io::stderr().is_terminal() {
            eprint!("\rWaiting for approval… {:>4} s left ", left.as_secs());
        }
    }
}
