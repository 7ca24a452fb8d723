//! The command line: clap definitions only. Each command group's behaviour
//! lives in its own file.

use clap::{Args, Parser, Subcommand};

use keyfob::platform::store::Backend;

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
    /// Change where an identity's key and sessions are sent (under its PIN).
    Endpoint(EndpointArgs),
    /// Change an identity's PIN (needs the current one).
    ChangePin(ChangePinArgs),
    /// Seal an identity's key again: bound to this machine's TPM (PIN +
    /// TPM), or under the PIN alone; or open it with its recovery code.
    Reseal(ResealArgs),
    /// Ask for the PIN (and MFA code) and fetch a profile's session now.
    Unlock(UnlockArgs),
    /// Drop a profile's cached session, or every session.
    Lock(LockArgs),
    /// Manage profiles: an identity plus optional role, MFA, duration, region.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Print a profile's short-lived credentials as credential_process JSON
    /// (what ~/.aws/config runs).
    CredentialProcess(ProfileArg),
    /// Make a profile the default for every AWS tool ([default] in the AWS
    /// config file).
    Use(UseArgs),
    /// Name an AWS account (shown with its ID in the app), list the
    /// names, or forget one.
    Alias(AliasArgs),
    /// Show which keyfob profile is the default.
    Current,
    /// Run a command with a profile's session in its environment (or, with
    /// --server, on a container credentials endpoint only it can use).
    Exec(ExecArgs),
    /// Serve a profile's sessions on the container credentials endpoint
    /// (for `docker run` and other tools that read
    /// AWS_CONTAINER_CREDENTIALS_FULL_URI) until stopped.
    Serve(ServeArgs),
    /// Print shell lines that export a profile's session.
    Env(EnvArgs),
    /// Open the AWS console as a profile: its role session, or for an
    /// identity a federated user's session (GetFederationToken).
    Login(LoginArgs),
    /// Move long-term keys out of the shared credentials file into the
    /// vault, and role profiles out of the config file into keyfob.
    Import(ImportArgs),
    /// Print shell completions.
    Completions(CompletionsArgs),
    /// List an identity's IAM access keys (age, last use, which is in the
    /// vault), or create, deactivate, activate or delete one.
    Keys(KeysArgs),
    /// Rotate an identity's key without downtime: the IAM guide's six steps.
    Rotate(RotateArgs),
    /// Check every identity (key age, last use, active keys, root keys,
    /// unfinished rotations) and the credentials file for plaintext keys.
    Audit(AuditArgs),
    /// Tell what an access key ID is and which account it belongs to.
    Whois(WhoisArgs),
    /// Third-party roles: re-run the confused-deputy guard on a profile.
    #[command(subcommand)]
    Role(RoleCommand),
    /// External IDs for the customers whose roles you assume (provider side).
    #[command(subcommand)]
    ExternalId(ExternalIdCommand),
    /// Print the trust policy a customer puts on the role they grant you:
    /// your account (or one of your roles) may assume it, only with the
    /// external ID.
    TrustPolicy(TrustPolicyArgs),
    /// IAM Identity Center identities: add one (sign in with the device
    /// code), sign in again.
    #[command(subcommand)]
    Sso(SsoCommand),
    /// AWS sign-in identities (the AWS CLI's `aws login`): an IAM user's
    /// console sign-in, with no access key; its 15-minute credentials are
    /// renewed for up to 12 hours.
    #[command(subcommand)]
    LoginSession(LoginSessionCommand),
    /// Which programs may have which profile's sessions: list, revoke,
    /// pre-approve a script, and the rule that asks (off, new-programs,
    /// every-time).
    #[command(subcommand)]
    Approvals(ApprovalsCommand),
    /// The access log: every session handed out or refused, by whom.
    Log(LogArgs),
    /// What protects your keys here, and what you could turn on.
    Doctor(DoctorArgs),
    /// Run the agent: the one process that holds sessions and asks for
    /// PINs. Other commands start it when needed; a systemd user unit may
    /// too. It exits after holding no session for the idle time.
    Agent(AgentArgs),
}

#[derive(Debug, Subcommand)]
pub enum ApprovalsCommand {
    /// The approvals that hold now: until lock (the agent's), for a while,
    /// and pre-approved programs.
    List(JsonArg),
    /// Drop approvals: one program's (its id from `list`), a profile's, or
    /// (--all) every one.
    Revoke(RevokeArgs),
    /// Pre-approve a program (a script, a cron job's command) for a
    /// profile, until revoked or for --for.
    Add(ApprovalAddArgs),
    /// Show the approval rule, or set it (globally, or for one profile).
    Rule(RuleArgs),
}

#[derive(Debug, Args)]
pub struct JsonArg {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The program's id, as `keyfob approvals list` shows it.
    #[arg(required_unless_present_any = ["profile", "all"])]
    pub id: Option<String>,
    /// Only this profile's approvals.
    #[arg(long)]
    pub profile: Option<String>,
    /// Every approval.
    #[arg(long, conflicts_with_all = ["id", "profile"])]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct ApprovalAddArgs {
    /// The program: an executable, or a script (`#!` line) whose
    /// interpreter is found as the kernel will run it; or an interpreter
    /// (`python3`), followed by its script.
    pub program: std::path::PathBuf,
    /// The script PROGRAM runs (`keyfob approvals add python3 job.py`).
    pub script: Option<std::path::PathBuf>,
    /// The profile it may have.
    #[arg(long)]
    pub profile: String,
    /// Only for this long (1m to 30d, e.g. 8h); else until revoked.
    #[arg(long = "for", value_name = "DURATION")]
    pub duration: Option<String>,
}

#[derive(Debug, Args)]
pub struct RuleArgs {
    /// off, new-programs or every-time; none: show the rules.
    pub rule: Option<String>,
    /// Set this profile's own rule (instead of the global one).
    #[arg(long)]
    pub profile: Option<String>,
    /// Remove the profile's own rule: the global one applies to it.
    #[arg(long, requires = "profile", conflicts_with = "rule")]
    pub clear: bool,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// Only this profile's entries.
    #[arg(long)]
    pub profile: Option<String>,
    /// Only entries this recent (e.g. 1h, 30m, 7d).
    #[arg(long, value_name = "DURATION")]
    pub since: Option<String>,
    /// Keep printing entries as they are written.
    #[arg(long, short)]
    pub follow: bool,
    /// One JSON object per line.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Set a random lockout authorization on the TPM while it has none
    /// (then nobody can reset its wrong-PIN counter without it), sealed
    /// under a PIN you choose; `--show-lockout-auth` prints it.
    #[arg(long, conflicts_with = "show_lockout_auth")]
    pub set_lockout_auth: bool,
    /// Print the lockout authorization keyfob set (under its PIN), as
    /// tpm2-tools take it: `tpm2_dictionarylockout -c -p hex:…` ends a
    /// lockout, `tpm2_clear -c l -p hex:…` clears the TPM.
    #[arg(long)]
    pub show_lockout_auth: bool,
    /// End the TPM's lockout after too many wrong PINs now, with the
    /// lockout authorization keyfob set (asks its PIN): the TPM then
    /// counts no wrong PIN.
    #[arg(long, conflicts_with_all = ["set_lockout_auth", "show_lockout_auth"])]
    pub reset_lockout: bool,
    /// Read that PIN from stdin (twice for --set-lockout-auth: two lines).
    #[arg(long)]
    pub stdin: bool,
}

#[derive(Debug, Args)]
pub struct AgentArgs {
    /// Exit after this long without a session in memory or a request
    /// (default: 15m, or `agent_idle` under [settings]).
    #[arg(long)]
    pub idle: Option<String>,
    /// Give back mapped code and free memory after this long without a
    /// request (the next request maps back what it runs).
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub trim_after: String,
    /// Tell the running agent to stop (its sessions are wiped).
    #[arg(long)]
    pub stop: bool,
    /// Show whether an agent runs, and how many sessions it holds.
    #[arg(long, conflicts_with = "stop")]
    pub status: bool,
}

/// How the guard gets the identity session when none is cached.
#[derive(Debug, Args)]
pub struct GuardPinArgs {
    /// Read the identity's PIN from stdin's first line (used only if the
    /// identity's session must be made to run the guard).
    #[arg(long)]
    pub pin_stdin: bool,
    /// The current code of the profile's MFA device (used only if the
    /// identity's session must be made to run the guard).
    #[arg(long, value_name = "CODE")]
    pub mfa_code: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    /// Try the profile's role without its external ID again and record
    /// whether it is guarded; exits 1 if it is not.
    Check(RoleCheckArgs),
}

#[derive(Debug, Args)]
pub struct RoleCheckArgs {
    /// A profile with a role and an external ID.
    pub profile: String,
    #[command(flatten)]
    pub pin: GuardPinArgs,
}

#[derive(Debug, Subcommand)]
pub enum ExternalIdCommand {
    /// Print a fresh random external ID (32 letters and digits from the
    /// OS's CSPRNG).
    New(ExternalIdNewArgs),
}

#[derive(Debug, Args)]
pub struct ExternalIdNewArgs {
    /// Record the ID as this customer's (never issued to anyone else);
    /// asked again, print their existing ID.
    #[arg(long, value_name = "NAME")]
    pub customer: Option<String>,
    /// Give the customer a new ID; the old one is retired, never reissued.
    #[arg(long, requires = "customer")]
    pub rotate: bool,
}

#[derive(Debug, Args)]
pub struct TrustPolicyArgs {
    /// Your AWS account ID (12 digits): its principals may assume the role.
    #[arg(
        long,
        value_name = "ACCOUNT_ID",
        required_unless_present = "principal_arn"
    )]
    pub account: Option<String>,
    /// The external ID you issued the customer.
    #[arg(long, value_name = "ID")]
    pub external_id: String,
    /// Only this role of yours may assume it (instead of the whole account).
    #[arg(long, value_name = "ARN")]
    pub principal_arn: Option<String>,
}

#[derive(Debug, Args)]
pub struct KeysArgs {
    /// The identity.
    pub name: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Read the identity's PIN from stdin's first line.
    #[arg(long, global = true)]
    pub pin_stdin: bool,
    #[command(subcommand)]
    pub action: Option<KeysAction>,
}

#[derive(Debug, Subcommand)]
pub enum KeysAction {
    /// Create a second key (AWS allows two) and seal it beside the active
    /// one; `keyfob rotate NAME --continue` then switches to it.
    Create,
    /// Mark a key Inactive (reversible).
    Deactivate { key: String },
    /// Mark a key Active again.
    Activate { key: String },
    /// Delete a key (deactivate it first, or pass --force).
    Delete {
        key: String,
        /// Delete even an active key.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The identity.
    pub name: String,
    /// Go on to the next step (deactivate the old key; after the grace
    /// period, delete it).
    #[arg(long = "continue", conflicts_with_all = ["rollback", "status"])]
    pub continue_: bool,
    /// Undo the rotation from any step: the old key is active and in use again.
    #[arg(long, conflicts_with = "status")]
    pub rollback: bool,
    /// Show where the rotation stands.
    #[arg(long)]
    pub status: bool,
    /// How long to keep the deactivated old key before deleting it
    /// (default 7d; 0s allowed).
    #[arg(long, value_name = "DURATION")]
    pub grace: Option<String>,
    /// Read the identity's PIN from stdin's first line.
    #[arg(long)]
    pub pin_stdin: bool,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Ask IAM now (needs each identity's PIN) instead of using what keyfob
    /// learnt last time.
    #[arg(long)]
    pub refresh: bool,
    /// With --refresh: read one PIN per identity (in `keyfob list` order)
    /// from stdin.
    #[arg(long, requires = "refresh")]
    pub pin_stdin: bool,
}

#[derive(Debug, Args)]
pub struct WhoisArgs {
    /// An access key ID (AKIA… or ASIA…).
    pub key_id: String,
    /// Decode the account from the key ID without calling AWS.
    #[arg(long)]
    pub offline: bool,
    /// The profile that asks STS (default: the only identity). A role
    /// profile asks with its role session; an identity with its key (PIN).
    #[arg(long)]
    pub profile: Option<String>,
    /// Read the identity's PIN from stdin's first line.
    #[arg(long)]
    pub pin_stdin: bool,
}

#[derive(Debug, Args)]
pub struct ProfileArg {
    /// The profile (or an identity's name, for its plain profile).
    pub profile: String,
}

#[derive(Debug, Args)]
pub struct LockArgs {
    /// The profile whose session to drop.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub profile: Option<String>,
    /// Drop every cached session.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Add (or with --replace, change) a profile and wire it into the AWS
    /// config file.
    Add(Box<ProfileAddArgs>),
    /// List profiles.
    List(ListArgs),
    /// Show one profile.
    Show(ProfileShowArgs),
    /// Remove a profile and its AWS config section.
    Remove(RemoveArgs),
}

#[derive(Debug, Args)]
pub struct ProfileAddArgs {
    /// The profile name: 1–64 letters, digits, '-', '_' and '.'.
    pub name: String,
    /// The identity whose key the profile uses.
    #[arg(long)]
    pub identity: Option<String>,
    /// A role chain: assume this profile's role with PROFILE's session
    /// (identity → hub role → this role). Chained sessions last at most 1 h.
    #[arg(long, value_name = "PROFILE")]
    pub source_profile: Option<String>,
    /// Assume this role (arn:aws:iam::ACCOUNT:role/NAME).
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
    /// A session tag for the role session (repeatable; at most 50).
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<String>,
    /// Make a tag transitive: it carries on into sessions chained from
    /// this one (repeatable; each must be a --tag).
    #[arg(long = "transitive-tag", value_name = "KEY")]
    pub transitive_tags: Vec<String>,
    /// A managed policy that limits the role session (repeatable; at most 10).
    #[arg(long = "policy-arn", value_name = "ARN")]
    pub policy_arns: Vec<String>,
    /// The external ID the role's trust policy requires.
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,
    /// The RoleSessionName (default: keyfob-IDENTITY).
    #[arg(long, value_name = "NAME")]
    pub role_session_name: Option<String>,
    /// The SourceIdentity to set on the role session.
    #[arg(long, value_name = "NAME")]
    pub source_identity: Option<String>,
    /// The MFA device's serial (ARN); its code is asked at unlock.
    #[arg(long, value_name = "SERIAL")]
    pub mfa_serial: Option<String>,
    /// Session duration, e.g. 1h, 45m, 12h.
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<String>,
    /// The region AWS tools use with this profile.
    #[arg(long)]
    pub region: Option<String>,
    /// Replace an existing profile of this name.
    #[arg(long)]
    pub replace: bool,
    /// Take over an AWS config section keyfob does not manage without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Store a role that can be assumed without its external ID (the
    /// guard's refusal), marked unguarded; every use then warns.
    #[arg(long, requires = "external_id")]
    pub accept_unguarded: bool,
    #[command(flatten)]
    pub pin: GuardPinArgs,
}

#[derive(Debug, Args)]
pub struct ProfileShowArgs {
    pub name: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct UseArgs {
    pub profile: String,
    /// Replace a [default] keyfob does not manage without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    pub profile: String,
    /// Give the command no credentials in its environment, only a
    /// container credentials endpoint on 127.0.0.1 (a random port, a
    /// random token) that ends with it; its SDKs refresh from it.
    #[arg(long)]
    pub server: bool,
    /// The command and its arguments.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    pub profile: String,
    /// The port to listen on (default: one the system picks).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// The address to listen on. Anything but loopback makes the endpoint
    /// reachable from other machines, guarded only by the token.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// How to print the two variables: `export` lines for a POSIX shell,
    /// or NAME=VALUE lines for `docker run --env-file`.
    #[arg(long, value_enum, default_value = "export")]
    pub format: ServeFormat,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ServeFormat {
    Export,
    EnvFile,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ShellKind {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

#[derive(Debug, Args)]
pub struct EnvArgs {
    pub profile: String,
    #[arg(long, value_enum, default_value = "bash")]
    pub shell: ShellKind,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Where the keys are: the shared credentials file, aws-vault's or
    /// granted's stores (a Secret Service collection and a file backend),
    /// Leapp's; or the AWS CLI's own Identity Center setup.
    #[arg(long = "from", value_enum, default_value = "credentials-file")]
    pub from: ImportFrom,
    /// Say, per key and profile, what would happen; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Import without asking which profiles (each key still needs its
    /// PIN), and remove what was imported from aws-vault's stores.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Read one PIN per imported key from stdin, one per line. aws-vault's
    /// stores then keep their copies unless --yes is given.
    #[arg(long)]
    pub pin_stdin: bool,
    /// The tool's Secret Service collection. aws-vault: its
    /// --secret-service-collection (AWS_VAULT_SECRET_SERVICE_COLLECTION_NAME,
    /// default awsvault); granted: its config's [Keyring]
    /// LibSecretCollectionName (default granted-aws-iam-credentials).
    #[arg(long, value_name = "NAME")]
    pub secret_service_collection: Option<String>,
    /// The tool's file backend folder. aws-vault: its --file-dir
    /// (AWS_VAULT_FILE_DIR, default ~/.awsvault/keys/; passphrase
    /// AWS_VAULT_FILE_PASSPHRASE, or asked); granted: its config's
    /// [Keyring] FileDir (default ~/.granted/secure-storage-aws-iam-credentials;
    /// passphrase CF_KEYRING_FILE_PASSWORD, or asked).
    #[arg(long, value_name = "DIR")]
    pub file_dir: Option<String>,
    /// aws-cli-sso: the identity name for a session (its sso-session
    /// name, or a legacy profile's sso_start_url) whose own name is not
    /// an identity name or is taken; may be given more than once.
    #[arg(long = "name", value_name = "SESSION=IDENTITY")]
    pub names: Vec<String>,
    /// aws-cli-sso: sign in with a code to approve on any device, as
    /// `keyfob sso add --use-device-code`.
    #[arg(long)]
    pub use_device_code: bool,
    /// aws-cli-sso: do not open the browser; only print the URL.
    #[arg(long)]
    pub no_browser: bool,
}

/// `keyfob import --from`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportFrom {
    /// The shared credentials file (AWS_SHARED_CREDENTIALS_FILE or
    /// ~/.aws/credentials).
    CredentialsFile,
    /// aws-vault v7: its Secret Service collection and encrypted files.
    AwsVault,
    /// granted's IAM credentials (`granted credentials add`), kept the
    /// same way as aws-vault's.
    Granted,
    /// The AWS CLI's `aws login` sessions (profiles with login_session,
    /// and AWS_LOGIN_CACHE_DIRECTORY or ~/.aws/login/cache).
    AwsLogin,
    /// The AWS CLI's own Identity Center setup in the AWS config file:
    /// its sso-sessions and their profiles, signed in anew by keyfob.
    AwsCliSso,
    /// Leapp's AWS IAM User sessions (~/.Leapp/Leapp-lock.json and their
    /// keys in the keychain).
    Leapp,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
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
    /// Do not create a plain profile of the same name.
    #[arg(long)]
    pub no_profile: bool,
    /// Take over an AWS config section keyfob does not manage without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Send this identity's calls (STS, IAM, console sign-in) to this
    /// endpoint instead of AWS's (default: AWS_ENDPOINT_URL if set now).
    /// Fixed with the identity; `keyfob endpoint` changes it under the PIN.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// The region of its STS calls (default: AWS_REGION or
    /// AWS_DEFAULT_REGION if set now, else us-east-1).
    #[arg(long)]
    pub region: Option<String>,
    #[command(flatten)]
    pub bind: BindArgs,
}

/// How `add` and `sso add` protect what they seal.
#[derive(Debug, Args)]
pub struct BindArgs {
    /// Bind it to the TPM: require, prefer (bind where a TPM answers;
    /// the default, or `tpm` under [settings]) or off (the PIN alone).
    #[arg(long, value_name = "require|prefer|off")]
    pub tpm: Option<String>,
    /// With a TPM: also make a recovery code (shown once) that opens it
    /// without the TPM, should the TPM be cleared or replaced.
    #[arg(long)]
    pub recovery_code: bool,
}

#[derive(Debug, Args)]
pub struct ResealArgs {
    pub name: String,
    /// on: bind to this machine's TPM (PIN + TPM); off: the PIN alone.
    #[arg(long, value_name = "on|off")]
    pub tpm: String,
    /// With --tpm on: make a new recovery code (shown once); without it a
    /// recovery code the key has stays valid.
    #[arg(long)]
    pub recovery_code: bool,
    /// Open the key with its recovery code instead of the PIN (the TPM was
    /// cleared, or the vault came from another machine), then set a PIN.
    #[arg(long)]
    pub recovery: bool,
    /// Read the PIN from stdin's first line (with --recovery: the recovery
    /// code on line 1 and the new PIN on line 2).
    #[arg(long)]
    pub stdin: bool,
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
pub struct EndpointArgs {
    /// The identity.
    pub name: String,
    /// Send its calls to this endpoint URL (https, or http to this machine).
    #[arg(long, value_name = "URL", conflicts_with = "aws")]
    pub endpoint_url: Option<String>,
    /// Send its calls to AWS's own endpoints.
    #[arg(long)]
    pub aws: bool,
    /// Its region (default: the one it has).
    #[arg(long)]
    pub region: Option<String>,
    /// Read the PIN from stdin's first line.
    #[arg(long)]
    pub pin_stdin: bool,
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
pub struct AliasArgs {
    /// The 12-digit account ID (without it: list every name).
    pub account: Option<String>,
    /// Its name, e.g. prod (without it: show the account's name).
    pub name: Option<String>,
    /// Forget the account's name.
    #[arg(long, requires = "account", conflicts_with = "name")]
    pub remove: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    pub profile: String,
    /// Print the sign-in URL (valid 15 minutes; treat it as a password)
    /// instead of opening a browser.
    #[arg(long)]
    pub stdout: bool,
    /// Open the console in this region (default: the profile's).
    #[arg(long)]
    pub region: Option<String>,
    /// Open this console URL, e.g. https://console.aws.amazon.com/s3/home.
    #[arg(long, value_name = "URL")]
    pub destination: Option<String>,
    /// How long the console session lasts (role profiles that are not
    /// chained; 15m–12h; AWS's default is 1 h).
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<String>,
    /// Open it in a browser profile of the account's own (Chromium-family
    /// or Firefox), so two accounts can be signed in side by side.
    #[arg(long, conflicts_with = "stdout")]
    pub browser_profile: bool,
    #[command(flatten)]
    pub pin: GuardPinArgs,
}

#[derive(Debug, Args)]
pub struct UnlockArgs {
    /// The profile (or an identity's name, for its plain profile).
    pub profile: String,
    /// Read the PIN from stdin's first line.
    #[arg(long)]
    pub pin_stdin: bool,
    /// The current code of the profile's MFA device.
    #[arg(long, value_name = "CODE")]
    pub mfa_code: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum SsoCommand {
    /// Add an Identity Center identity: sign in with a device code in the
    /// browser, then seal the sign-in under a new PIN.
    Add(SsoAddArgs),
    /// Sign an Identity Center identity in again (same PIN).
    Login(SsoLoginArgs),
    /// Make one profile per account and role the identity may use
    /// (ListAccounts, ListAccountRoles); renamed accounts and removed
    /// assignments are reported, never deleted.
    Sync(SsoSyncArgs),
    /// End the identity's sign-in at Identity Center and forget its
    /// tokens (`keyfob sso login` signs in again); its profiles' cached
    /// sessions are dropped.
    Logout(SsoLogoutArgs),
}

#[derive(Debug, Args)]
pub struct SsoLogoutArgs {
    /// The Identity Center identity.
    pub name: String,
    /// Read the PIN from stdin's first line instead of the terminal.
    #[arg(long)]
    pub pin_stdin: bool,
}

#[derive(Debug, Args)]
pub struct SsoSyncArgs {
    /// The Identity Center identity.
    pub name: String,
    /// How profiles are named: {account_name}, {account_id}, {role_name},
    /// {identity} and profile-name characters.
    #[arg(long, default_value = keyfob::app::DEFAULT_TEMPLATE)]
    pub template: String,
    /// Show what would change; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Read the PIN from stdin's first line instead of the terminal.
    #[arg(long)]
    pub pin_stdin: bool,
}

#[derive(Debug, Args)]
pub struct SsoAddArgs {
    /// The identity name: 1–64 letters, digits, '-', '_' and '.'.
    pub name: String,
    /// The AWS access portal URL, e.g. https://d-1234567890.awsapps.com/start.
    #[arg(long, value_name = "URL")]
    pub start_url: String,
    /// The region of the Identity Center instance, e.g. eu-west-1.
    #[arg(long, value_name = "REGION")]
    pub region: String,
    /// OIDC scopes, comma-separated (default sso:account:access, which
    /// also gives a refresh token).
    #[arg(long, value_name = "S,…")]
    pub scopes: Option<String>,
    #[command(flatten)]
    pub sign_in: SignInArgs,
    #[command(flatten)]
    pub bind: BindArgs,
}

#[derive(Debug, Subcommand)]
pub enum LoginSessionCommand {
    /// Add one: sign in with the console credentials in a browser, seal the
    /// sign-in under a new PIN, and make a profile of the same name.
    Add(LoginAddArgs),
    /// Sign it in again (same PIN, same user), e.g. after its 12 hours.
    Login(LoginAgainArgs),
    /// End the sign-in at AWS and forget its refresh token (`login` signs
    /// in again); its profiles' cached sessions are dropped.
    Logout(SsoLogoutArgs),
}

#[derive(Debug, Args)]
pub struct LoginAddArgs {
    /// The identity name: 1–64 letters, digits, '-', '_' and '.'; also
    /// its profile's.
    pub name: String,
    /// The region to sign in to, e.g. eu-west-1 (also the profile's).
    #[arg(long, value_name = "REGION")]
    pub region: String,
    /// Send this identity's sign-in and renewals to this endpoint instead
    /// of AWS Sign-In's (default: AWS_ENDPOINT_URL if set now). Fixed with
    /// the identity: a sign-in elsewhere is another identity.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    #[command(flatten)]
    pub sign_in: LoginSignInArgs,
    #[command(flatten)]
    pub bind: BindArgs,
    /// Take over an AWS config section of the same name that keyfob does
    /// not manage, without asking.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct LoginAgainArgs {
    /// The AWS sign-in identity.
    pub name: String,
    #[command(flatten)]
    pub sign_in: LoginSignInArgs,
}

#[derive(Debug, Args)]
pub struct LoginSignInArgs {
    /// Sign in with a browser on another device: open the printed URL
    /// there and type in the code its page shows (`aws login --remote`).
    #[arg(long)]
    pub remote: bool,
    /// Do not open the browser; only print the URL.
    #[arg(long)]
    pub no_browser: bool,
    /// Read the PIN from stdin's first line instead of the terminal.
    #[arg(long)]
    pub pin_stdin: bool,
}

#[derive(Debug, Args)]
pub struct SsoLoginArgs {
    /// The Identity Center identity.
    pub name: String,
    #[command(flatten)]
    pub sign_in: SignInArgs,
}

#[derive(Debug, Args)]
pub struct SignInArgs {
    /// Do not open the browser; only print the URL (and the code).
    #[arg(long)]
    pub no_browser: bool,
    /// Sign in with a code to approve on any device (the device code),
    /// instead of the browser sign-in on this machine; also what keyfob
    /// does by itself where no browser can open (no display).
    #[arg(long)]
    pub use_device_code: bool,
    /// Read the PIN from stdin's first line instead of the terminal.
    #[arg(long)]
    pub pin_stdin: bool,
}
