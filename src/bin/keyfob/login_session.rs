//! `keyfob login-session add | login | logout`: AWS sign-in identities (the
//! AWS CLI's `aws login`) on the terminal. The flows are in `keyfob::app`
//! (`add_login_identity`, `login_again`, `login_logout`); this file
//! parses, asks for the PIN, shows the sign-in page and reads the code.

use keyfob::app::{self, Keyfob, LoginHost, SignInPage};
use keyfob::config::login::NewLogin;
use keyfob::model::secret::Pin;

use crate::cli::{
    LoginAddArgs, LoginAgainArgs, LoginSessionCommand, LoginSignInArgs, SsoLogoutArgs,
};
use crate::terminal;

pub fn run(kf: &Keyfob, cmd: LoginSessionCommand) -> anyhow::Result<()> {
    match cmd {
        LoginSessionCommand::Add(args) => add(kf, args),
        LoginSessionCommand::Login(args) => again(kf, args),
        LoginSessionCommand::Logout(args) => logout(kf, args),
    }
}

fn add(kf: &Keyfob, args: LoginAddArgs) -> anyhow::Result<()> {
    let new = NewLogin::parse(&args.name, &args.region, args.endpoint_url.as_deref())?;
    let tpm = crate::tpm::choice(kf, &args.bind)?;
    app::check_new_login(kf, &new)?;
    let pin = crate::sso::read_pin(args.sign_in.pin_stdin, true)?;
    let host = Terminal::new(&args.sign_in);
    let confirm = terminal::Ask { yes: args.yes };
    let added = app::add_login_identity(
        kf,
        &new,
        &pin,
        (tpm, args.bind.recovery_code),
        &host,
        &confirm,
    )?;
    println!(
        "Added AWS sign-in identity {} ({}, {}), with profile {}: `aws --profile {} sts get-caller-identity` uses it; `keyfob login-session login {}` signs in again after 12 hours.",
        added.identity.name,
        added.principal,
        added.identity.region,
        added.profile,
        added.profile,
        added.identity.name
    );
    crate::tpm::say_added_protection(added.identity.name.as_str(), &added.sealed, &args.bind);
    hand_to_agent(kf, &added.profile, pin);
    Ok(())
}

/// Opens the new sign-in in the agent with the PIN just typed, so its
/// profile works at once; failing that, the first call asks (or says to
/// `keyfob unlock`), as for any identity.
fn hand_to_agent(kf: &Keyfob, profile: &str, pin: Pin) {
    let prompter = keyfob::platform::prompt::FixedPrompter {
        pin: Some(pin),
        mfa_code: None,
    };
    if let Err(e) = app::unlock(kf, profile, &prompter) {
        eprintln!("(the agent could not open it yet: {e}; `keyfob unlock {profile}` does)");
    }
}

fn again(kf: &Keyfob, args: LoginAgainArgs) -> anyhow::Result<()> {
    kf.vault()?.login_get(&args.name)?;
    let pin = crate::sso::read_pin(args.sign_in.pin_stdin, false)?;
    let host = Terminal::new(&args.sign_in);
    let identity = app::login_again(kf, &args.name, &pin, &host)?;
    println!("Signed in AWS sign-in identity {} again.", identity.name);
    if let Some(profile) = kf
        .profiles()?
        .into_iter()
        .find(|p| p.identity == identity.name && p.login.is_some())
    {
        hand_to_agent(kf, &profile.name, pin);
    }
    Ok(())
}

fn logout(kf: &Keyfob, args: SsoLogoutArgs) -> anyhow::Result<()> {
    kf.vault()?.login_get(&args.name)?;
    let pin = crate::sso::read_pin(args.pin_stdin, false)?;
    let done = app::login_logout(kf, &args.name, &pin)?;
    if let Some(why) = &done.not_ended {
        eprintln!(
            "AWS could not be told ({why}); the sign-in is forgotten here and its token ends with its 12 hours."
        );
    }
    println!(
        "Signed out AWS sign-in identity {} ({} profile session(s) dropped). `keyfob login-session login {}` signs in again.",
        done.identity, done.locked, done.identity
    );
    Ok(())
}

/// Shows the sign-in on stderr (stdout stays for results), opens the
/// browser unless told not to, and reads a typed code from the terminal.
struct Terminal {
    remote: bool,
    no_browser: bool,
}

impl Terminal {
    fn new(args: &LoginSignInArgs) -> Terminal {
        Terminal {
            remote: args.remote,
            no_browser: args.no_browser,
        }
    }
}

impl LoginHost for Terminal {
    /// The loopback unless `--remote`, or where no browser can run here
    /// (no display, no `$BROWSER`: an SSH session).
    fn same_device(&self) -> bool {
        !self.remote && keyfob::platform::browser::available()
    }

    fn open_sign_in_page(&self, page: &SignInPage<'_>) -> bool {
        crate::sso::open_page(
            page,
            "with your AWS console credentials",
            "--remote",
            self.no_browser,
        )
    }

    fn ask_code(&self, page: &SignInPage<'_>) -> Option<zeroize::Zeroizing<String>> {
        eprintln!(
            "To sign in {} with your AWS console credentials, open this page in a browser on any device:\n{}",
            page.identity, page.url
        );
        keyfob::platform::tty::ask(
            "Enter the authorization code displayed in your browser: ",
            "the sign-in code",
            "run it on a terminal, or without --remote where a browser opens here",
        )
        .ok()
        .map(zeroize::Zeroizing::new)
        .filter(|c| !c.trim().is_empty())
    }
}
