//! What a face may ask the one owner of secrets (the agent) to do with a
//! long-term key or an Identity Center token: the flows of
//! [`crate::app::remote`], as plain data. Below both the core and the
//! agent's protocol, which carries them; nothing secret is in them (the
//! PIN comes as the answer to the agent's ask).

use serde::{Deserialize, Serialize};

/// What `keyfob keys NAME ACTION` does to one of the user's keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyAction {
    Deactivate(String),
    Activate(String),
    /// Deletes an inactive key; `force` deletes an active one too.
    Delete {
        key: String,
        force: bool,
    },
}

/// What the rotation wizard asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RotateAction {
    /// Steps 1–3 (`keyfob rotate NAME`).
    Start,
    /// The next step (`--continue`).
    Continue,
    /// Back to the old key (`--rollback`).
    Rollback,
}

/// A flow the agent runs for a client. No secret in it: the PIN comes as
/// the answer to the agent's ask.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "flow", rename_all = "snake_case")]
pub enum Flow {
    /// `keyfob keys NAME`.
    AccessKeys { identity: String },
    /// `keyfob keys NAME activate|deactivate|delete KEY`.
    KeyAction { identity: String, action: KeyAction },
    /// `keyfob keys NAME create`.
    CreateSecondKey { identity: String },
    /// `keyfob rotate NAME [--continue|--rollback]`.
    Rotate {
        identity: String,
        action: RotateAction,
        grace: Option<String>,
    },
    /// `keyfob audit --refresh`, one identity.
    RefreshFacts { identity: String },
    /// `keyfob whois KEY` asked of STS.
    Whois {
        key: String,
        profile: Option<String>,
    },
    /// `keyfob sso sync NAME`.
    SsoSync {
        identity: String,
        template: String,
        dry_run: bool,
    },
    /// `keyfob import`: the agent reads the shared credentials file
    /// itself, asks the client which keys to import and their new PINs,
    /// verifies, seals and rewrites the file — the CLI never reads a key.
    Import {
        /// Where the imported identities' calls go (the settings in force
        /// where the import was asked for, as for `keyfob add`).
        endpoint_url: Option<String>,
        region: Option<String>,
        /// What to import from (`--from`): the credentials file unless
        /// said otherwise.
        #[serde(default)]
        source: ImportSource,
        /// `--dry-run`: say what would happen, change nothing.
        #[serde(default)]
        dry_run: bool,
        /// Whether to remove what was imported from its source.
        #[serde(default)]
        removal: Removal,
    },
    /// `keyfob sso logout NAME`.
    SsoLogout { identity: String },
    /// `keyfob login-session logout NAME`.
    LoginLogout { identity: String },
    /// `keyfob change-pin NAME` (either kind of identity): the agent asks
    /// the current PIN (a `pin` ask) and the new one (`new_pin`).
    ChangePin { identity: String },
    /// `keyfob reseal NAME --tpm on|off`: the agent asks the PIN, or with
    /// `recovery` the recovery code and a new PIN; with `new_code`, the
    /// recovery code the client made and will show (a `new_recovery_code`
    /// ask), so no secret comes back in the result.
    Reseal {
        identity: String,
        tpm: bool,
        recovery: bool,
        new_code: bool,
    },
    /// `keyfob endpoint NAME`: where the identity's calls go, changed
    /// under its PIN (`url: None`: AWS's own).
    SetEndpoints {
        identity: String,
        url: Option<String>,
        region: Option<String>,
    },
}

/// Where `keyfob import` reads keys from. The client resolves its own
/// environment (the agent keeps none of the client's `AWS_*` variables)
/// into these plain, non-secret settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ImportSource {
    /// The shared credentials file (`AWS_SHARED_CREDENTIALS_FILE` or
    /// `~/.aws/credentials`).
    #[default]
    CredentialsFile,
    /// aws-vault's stores: its Secret Service collection and its
    /// encrypted file backend's folder.
    AwsVault {
        /// The Secret Service collection (aws-vault's
        /// `--secret-service-collection`, default `awsvault`).
        collection: String,
        /// The file backend's folder (`--file-dir`, default
        /// `~/.awsvault/keys/`), tilde already expanded.
        file_dir: std::path::PathBuf,
    },
    /// granted's IAM credentials (`granted credentials add`): its
    /// keyring's Secret Service collection and file backend folder.
    Granted {
        /// `granted-aws-iam-credentials`, or its config's
        /// `[Keyring] LibSecretCollectionName`.
        collection: String,
        /// `~/.granted/secure-storage-aws-iam-credentials`, or its
        /// config's `[Keyring] FileDir`.
        file_dir: std::path::PathBuf,
    },
    /// The AWS CLI's `aws login` sessions: the profiles with a
    /// `login_session`, and the CLI's login cache folder.
    AwsLogin {
        /// `AWS_LOGIN_CACHE_DIRECTORY` or `~/.aws/login/cache`, expanded.
        cache_dir: std::path::PathBuf,
    },
    /// Leapp's AWS IAM User sessions: its workspace file
    /// (`~/.Leapp/Leapp-lock.json`) and their keys in the keychain.
    Leapp { workspace: std::path::PathBuf },
}

/// What to do with an imported key in its source (aws-vault's stores)
/// once it is sealed in the vault.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Removal {
    /// Ask the person (a question per source).
    #[default]
    Ask,
    /// Remove without asking (`--yes`).
    Yes,
    /// Keep the source as it is (a script without `--yes`: nobody to ask).
    Keep,
}
