//! The command line: clap definitions only. Each command group's behaviour
//! lives in its own file.

use clap::{Args, Parser, Subcommand};

use keyfob::store::Backend;

/// A credential vault and AWS identity switcher: long-term keys sealed in
/// the OS keychain behind a PIN, short-lived credentials for every AWS tool.
#[derive(Debug, Parser)]
#[command(name = "keyfob", version, propagate_version = true)]
pub struct Cli {
    /// Where identities are kept: auto (the OS keychain, else an encrypted
    /// file), keychain, or file. Overrides `store` in config.toml.
    #[arg(long, global = true, env = "KEYFOB_STORE", value_name = "STORE")]
    pub store: Option<Backend>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add an identity: access key ID, secret access key, name and PIN,
    /// verified with AWS before anything is stored.
    Add(AddArgs),
    /// List identities (no PIN needed).
    List(ListArgs),
    /// Remove an identity and its sealed key.
    Remove(RemoveArgs),
    /// Rename an identity (no PIN needed).
    Rename(RenameArgs),
    /// Change an identity's PIN (needs the current one).
    ChangePin(ChangePinArgs),
    /// Check an identity's PIN.
    Unlock(UnlockArgs),
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The identity name: 1–64 letters, digits, '-', '_' and '.'.
    pub name: String,
    /// The access key ID (AKIA…); asked for on the terminal if omitted.
    #[arg(long, value_name = "ID")]
    pub access_key_id: Option<String>,
    /// Read the secret access key from stdin's first line and the PIN from
    /// its second, for scripts. Secrets are never taken from arguments.
    #[arg(long, requires = "access_key_id")]
    pub stdin: bool,
    /// Do not call AWS to verify the keys (offline); the account is decoded
    /// from the key ID where possible.
    #[arg(long)]
    pub no_verify: bool,
    /// Accept a root user's access keys (AWS advises against them).
    #[arg(long)]
    pub allow_root: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    pub name: String,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct RenameArgs {
    pub old: String,
    pub new: String,
}

#[derive(Debug, Args)]
pub struct ChangePinArgs {
    pub name: String,
    /// Read the current PIN from stdin's first line and the new one from its
    /// second.
    #[arg(long)]
    pub stdin: bool,
}

#[derive(Debug, Args)]
pub struct UnlockArgs {
    pub name: String,
    /// Read the PIN from stdin's first line.
    #[arg(long)]
    pub pin_stdin: bool,
}
