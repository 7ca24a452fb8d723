//! `import`: moving long-term keys that other tools keep (the shared
//! credentials file, aws-vault's and granted's stores, Leapp's) into the
//! vault, and their profiles into keyfob; and taking over the AWS CLI's
//! Identity Center sessions (`--from aws-cli-sso`). The flows are the
//! core's ([`keyfob::app::import`], [`keyfob::app::import_aws_cli_sso`]);
//! this file resolves the source's settings, asks on the terminal (or
//! reads `--pin-stdin`) and prints.

use std::cell::RefCell;
use std::path::PathBuf;

use keyfob::app::{self, AppError, Confirm, ImportHost, ImportRun, Keyfob, Question};
use keyfob::model::field::Field;
use keyfob::model::flow::{ImportSource, Removal};
use keyfob::model::identity::{FieldError, IdentityName};
use keyfob::model::secret::Pin;
use keyfob::platform::tty;
use zeroize::Zeroizing;

use crate::cli::{ImportArgs, ImportFrom};
use crate::terminal::{self, Ask};

/// Where each tool reads its file backend's passphrase from before it
/// asks: aws-vault v7.2.0 cli/global.go `fileKeyringPassphrasePrompt`;
/// granted pkg/securestorage/securestorage.go `openKeyring`.
const AWS_VAULT_PASSPHRASE: &str = "AWS_VAULT_FILE_PASSPHRASE";
const GRANTED_PASSPHRASE: &str = "CF_KEYRING_FILE_PASSWORD";

/// Answers the import's questions: PINs from stdin, one per imported key
/// (then nothing is asked), or on the terminal with a confirmation each.
struct Terminal {
    yes: bool,
    pins: Option<RefCell<std::vec::IntoIter<Zeroizing<String>>>>,
    /// The variable the source's file passphrase is read from.
    passphrase_var: &'static str,
}

impl Confirm for Terminal {
    fn confirm(&self, question: &Question<'_>) -> Result<(), AppError> {
        Ask {
            yes: self.yes || self.pins.is_some(),
        }
        .confirm(question)
    }
}

impl ImportHost for Terminal {
    fn pin(&self, identity: &IdentityName) -> Result<Pin, AppError> {
        if let Some(lines) = &self.pins {
            return match lines.borrow_mut().next() {
                Some(mut l) => Ok(Pin::new(std::mem::take(&mut *l))),
                None => Err(FieldError::new(
                    Field::Pin,
                    "missing: --pin-stdin expects one PIN per imported key, one per line",
                )
                .into()),
            };
        }
        let hint = "use --pin-stdin";
        terminal::new_pin(
            &format!("PIN for identity {identity} (at least 6 characters): "),
            "Same PIN again: ",
            hint,
        )
    }

    fn say(&self, line: &str) {
        println!("{line}");
    }

    fn passphrase(&self, question: &str) -> Result<Zeroizing<String>, AppError> {
        if let Some(value) = std::env::var_os(self.passphrase_var) {
            return Ok(Zeroizing::new(value.to_string_lossy().into_owned()));
        }
        Ok(tty::ask_hidden(
            question,
            "passphrase",
            &format!("set {}", self.passphrase_var),
        )?)
    }
}

/// `~/…` as aws-vault expands it (keyring's `ExpandTilde`).
fn expand_tilde(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), dirs::home_dir()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(path),
    }
}

/// granted's keyring for IAM credentials: the collection and file folder
/// its `openKeyring` (pkg/securestorage/securestorage.go) uses — its
/// config's `[Keyring]` `LibSecretCollectionName` and `FileDir` when set,
/// else `granted-aws-iam-credentials` and `<folder>/secure-storage-aws-iam-credentials`.
/// The folder is `~/.granted` (the release builds' `build.ConfigFolderName`),
/// or `$XDG_CONFIG_HOME/granted` when that does not exist
/// (pkg/config/config.go `GrantedConfigFolder`).
fn granted_keyring() -> (String, PathBuf) {
    let home = dirs::home_dir().unwrap_or_default();
    let mut folder = home.join(".granted");
    if !folder.exists()
        && let Some(xdg) = std::env::var_os("XDG_CONFIG_HOME").filter(|x| !x.is_empty())
    {
        folder = PathBuf::from(xdg).join("granted");
    }
    let keyring = std::fs::read_to_string(folder.join("config"))
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|t| t.get("Keyring").and_then(|k| k.as_table()).cloned())
        .unwrap_or_default();
    let setting = |name: &str| {
        keyring
            .get(name)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let collection =
        setting("LibSecretCollectionName").unwrap_or_else(|| "granted-aws-iam-credentials".into());
    let file_dir = setting("FileDir")
        .map(|d| expand_tilde(&d))
        .unwrap_or_else(|| folder.join("secure-storage-aws-iam-credentials"));
    (collection, file_dir)
}

/// `--name SESSION=IDENTITY`, split at the last `=` (an identity name
/// has none; a start URL may).
fn names(args: &[String]) -> Result<Vec<(String, IdentityName)>, FieldError> {
    args.iter()
        .map(|a| {
            let (key, name) = a.rsplit_once('=').ok_or_else(|| {
                FieldError::new(
                    Field::IdentityName,
                    format!("--name {a}: give SESSION=IDENTITY (an sso-session's name or a legacy start URL, then the identity name)"),
                )
            })?;
            let name = IdentityName::parse(name)
                .map_err(|e| FieldError::new(Field::IdentityName, format!("--name {a}: {}", e.reason)))?;
            Ok((key.to_owned(), name))
        })
        .collect()
}

/// `--from aws-cli-sso`: run here, as `keyfob sso add` is (the sign-in
/// needs this terminal's browser), not in the agent.
fn aws_cli_sso(
    kf: &Keyfob,
    args: &ImportArgs,
    pins: Option<RefCell<std::vec::IntoIter<Zeroizing<String>>>>,
    removal: Removal,
) -> anyhow::Result<()> {
    let names = names(&args.names)?;
    let host = Terminal {
        yes: args.yes,
        pins,
        passphrase_var: AWS_VAULT_PASSPHRASE,
    };
    let sign_in = crate::sso::Terminal::signing_in(args.no_browser, args.use_device_code);
    let run = app::SsoImport {
        dry_run: args.dry_run,
        removal,
        names: &names,
    };
    let report = app::import_aws_cli_sso(kf, &host, &sign_in, &run);
    crate::sso::end_countdown();
    for line in &report?.kept {
        println!("{line}");
    }
    Ok(())
}

pub fn run(kf: &Keyfob, args: ImportArgs) -> anyhow::Result<()> {
    if args.from != ImportFrom::AwsCliSso
        && (!args.names.is_empty() || args.use_device_code || args.no_browser)
    {
        anyhow::bail!("--name, --use-device-code and --no-browser are for --from aws-cli-sso");
    }
    let pins = if args.pin_stdin && !args.dry_run {
        // At most one PIN per key in the file; unused lines are wiped.
        Some(RefCell::new(terminal::stdin_lines(usize::MAX)?.into_iter()))
    } else {
        None
    };
    let removal = match (args.yes, args.pin_stdin) {
        (true, _) => Removal::Yes,
        (false, true) => Removal::Keep,
        (false, false) => Removal::Ask,
    };
    let (source, passphrase_var) = match args.from {
        ImportFrom::AwsCliSso => return aws_cli_sso(kf, &args, pins, removal),
        // Leapp's core constants.ts `lockFileDestination`, under the home
        // folder (os.homedir()).
        ImportFrom::Leapp => (
            ImportSource::Leapp {
                workspace: dirs::home_dir()
                    .unwrap_or_default()
                    .join(".Leapp/Leapp-lock.json"),
            },
            AWS_VAULT_PASSPHRASE,
        ),
        ImportFrom::CredentialsFile => (ImportSource::CredentialsFile, AWS_VAULT_PASSPHRASE),
        ImportFrom::AwsVault => (
            ImportSource::AwsVault {
                collection: args
                    .secret_service_collection
                    .clone()
                    .or_else(|| std::env::var("AWS_VAULT_SECRET_SERVICE_COLLECTION_NAME").ok())
                    .unwrap_or_else(|| "awsvault".into()),
                file_dir: expand_tilde(
                    &args
                        .file_dir
                        .clone()
                        .or_else(|| std::env::var("AWS_VAULT_FILE_DIR").ok())
                        .unwrap_or_else(|| "~/.awsvault/keys/".into()),
                ),
            },
            AWS_VAULT_PASSPHRASE,
        ),
        ImportFrom::Granted => {
            let (collection, file_dir) = granted_keyring();
            (
                ImportSource::Granted {
                    collection: args.secret_service_collection.clone().unwrap_or(collection),
                    file_dir: args
                        .file_dir
                        .as_deref()
                        .map(expand_tilde)
                        .unwrap_or(file_dir),
                },
                GRANTED_PASSPHRASE,
            )
        }
        ImportFrom::AwsLogin => (
            ImportSource::AwsLogin {
                cache_dir: expand_tilde(
                    &std::env::var("AWS_LOGIN_CACHE_DIRECTORY")
                        .ok()
                        .filter(|d| !d.is_empty())
                        .unwrap_or_else(|| "~/.aws/login/cache".into()),
                ),
            },
            AWS_VAULT_PASSPHRASE,
        ),
    };
    let run = ImportRun {
        source,
        dry_run: args.dry_run,
        removal,
    };
    let report = app::import(
        kf,
        &Terminal {
            yes: args.yes,
            pins,
            passphrase_var,
        },
        &run,
    )?;
    if let Some((path, backup, count)) = &report.cleaned {
        println!(
            "Removed {count} key(s) from {}. The previous file is kept as {} — it still holds the plaintext keys: delete it once everything works.",
            path.display(),
            backup.display()
        );
    }
    for line in &report.kept {
        println!("{line}");
    }
    Ok(())
}
