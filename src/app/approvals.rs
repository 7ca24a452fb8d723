//! The remembered approvals: those held until lock, in the agent's memory
//! (shared by its threads like the sign-ins it holds), and those that
//! outlive it, in `approvals.json` under keyfob's data folder (0600,
//! written atomically under its lock): given for a while at a prompt, or
//! with `keyfob approvals add` for scripts and cron jobs.
//!
//! Also the programs seen per profile (`programs-seen`, one line each),
//! so the first time a program gets a profile can be told apart.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::app::AppError;
use crate::app::access_log;
use crate::model::approval::{Approval, ApprovalRule, Decision, Holds, Program};
use crate::platform::fsutil;

pub const FILE_NAME: &str = "approvals.json";
pub const SEEN_NAME: &str = "programs-seen";

/// The approvals file as read, with the file's version it was read at.
#[derive(Default)]
struct FileCache {
    stamp: Option<(u64, i64, i64, u64)>,
    approvals: Vec<Approval>,
}

/// The remembered approvals and the programs seen.
pub struct ApprovalBook {
    file: PathBuf,
    seen_file: PathBuf,
    until_lock: Mutex<Vec<Approval>>,
    cached: Mutex<FileCache>,
    seen: Mutex<Option<HashSet<String>>>,
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> AppError + '_ {
    move |e| AppError::Approvals {
        message: format!("{}: {e}", path.display()),
    }
}

impl ApprovalBook {
    pub fn new(data_dir: &Path) -> ApprovalBook {
        ApprovalBook {
            file: data_dir.join(FILE_NAME),
            seen_file: data_dir.join(SEEN_NAME),
            until_lock: Mutex::default(),
            cached: Mutex::default(),
            seen: Mutex::default(),
        }
    }

    /// The approvals in the file, read again only when it changed.
    fn file_approvals(&self) -> Result<Vec<Approval>, AppError> {
        use std::os::unix::fs::MetadataExt;
        let stamp = match std::fs::metadata(&self.file) {
            Ok(m) => Some((m.ino(), m.mtime(), m.mtime_nsec(), m.size())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_err(&self.file)(e)),
        };
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        if cached.stamp != stamp || stamp.is_none() {
            cached.approvals = read_file(&self.file)?;
            cached.stamp = stamp;
        }
        Ok(cached.approvals.clone())
    }

    /// How a remembered approval lets `program` have `profile`'s session
    /// under `rule`, if one does.
    pub fn find(
        &self,
        program: &Program,
        profile: &str,
        rule: ApprovalRule,
    ) -> Result<Option<access_log::Approval>, AppError> {
        let now = unix_now();
        let matches = |a: &Approval| {
            a.profile == profile && &a.program == program && a.holds_at(now) && a.answers(rule)
        };
        if self
            .until_lock
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(matches)
        {
            return Ok(Some(access_log::Approval::Remembered));
        }
        Ok(self
            .file_approvals()?
            .iter()
            .find(|a| matches(a))
            .map(|a| match a.holds {
                Holds::Always => access_log::Approval::PreApproved,
                _ => access_log::Approval::Remembered,
            }))
    }

    /// Remembers the person's `decision` for `program` and `profile`.
    pub fn remember(
        &self,
        program: &Program,
        profile: &str,
        decision: Decision,
    ) -> Result<(), AppError> {
        let holds = match decision {
            Decision::Once | Decision::Deny => return Ok(()),
            Decision::UntilLock => Holds::UntilLock,
            Decision::For { secs } => Holds::Until {
                at: unix_now() + secs as i64,
            },
        };
        self.add(program, profile, holds)
    }

    /// Adds an approval: until lock in memory, else to the file (replacing
    /// one for the same program and profile).
    pub fn add(&self, program: &Program, profile: &str, holds: Holds) -> Result<(), AppError> {
        let approval = Approval {
            program: program.clone(),
            profile: profile.to_owned(),
            holds,
            given: unix_now(),
        };
        if holds == Holds::UntilLock {
            let mut mem = self.until_lock.lock().unwrap_or_else(|e| e.into_inner());
            mem.retain(|a| !(a.profile == profile && &a.program == program));
            mem.push(approval);
            return Ok(());
        }
        edit_file(&self.file, |list| {
            list.retain(|a| !(a.profile == profile && &a.program == program));
            list.push(approval);
            true
        })?;
        Ok(())
    }

    /// Every approval that still holds: until lock first, then the file's.
    pub fn list(&self) -> Result<Vec<Approval>, AppError> {
        let now = unix_now();
        let mut all = self
            .until_lock
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        all.extend(
            self.file_approvals()?
                .into_iter()
                .filter(|a| a.holds_at(now)),
        );
        Ok(all)
    }

    /// Drops approvals: the program `id`'s (of `profile` if given), else
    /// every one of `profile`'s, else every one. `until_lock_only`: only
    /// those held until lock (what locking a profile ends). How many.
    pub fn revoke(
        &self,
        id: Option<&str>,
        profile: Option<&str>,
        until_lock_only: bool,
    ) -> Result<usize, AppError> {
        let gone = |a: &Approval| {
            id.is_none_or(|id| a.program.id() == id) && profile.is_none_or(|p| a.profile == p)
        };
        let mut count = {
            let mut mem = self.until_lock.lock().unwrap_or_else(|e| e.into_inner());
            let before = mem.len();
            mem.retain(|a| !gone(a));
            before - mem.len()
        };
        if !until_lock_only {
            count += revoke_in_file(&self.file, &gone)?;
        }
        Ok(count)
    }

    /// Whether this is the first time `program` gets `profile` (and
    /// remembers that it got it).
    pub fn first_use(&self, program: &Program, profile: &str) -> bool {
        let line = format!("{} {profile}", program.id());
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let set = seen.get_or_insert_with(|| {
            fsutil::read_or_empty(&self.seen_file)
                .unwrap_or_default()
                .lines()
                .map(str::to_owned)
                .collect()
        });
        if set.contains(&line) {
            return false;
        }
        set.insert(line.clone());
        use std::io::Write;
        let appended = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode_private()
            .open(&self.seen_file)
            .and_then(|mut f| f.write_all(format!("{line}\n").as_bytes()));
        if let Err(e) = appended {
            tracing::warn!("cannot record a program seen: {e}");
        }
        true
    }
}

/// `OpenOptions::mode(0o600)`, named.
trait ModePrivate {
    fn mode_private(&mut self) -> &mut Self;
}

impl ModePrivate for std::fs::OpenOptions {
    fn mode_private(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        self.mode(0o600)
    }
}

/// The approvals in `path` (none if it does not exist).
pub fn read_file(path: &Path) -> Result<Vec<Approval>, AppError> {
    let text = fsutil::read_or_empty(path).map_err(io_err(path))?;
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_str(&text).map_err(|e| AppError::Approvals {
        message: format!("{} is not valid: {e}", path.display()),
    })
}

/// Reads, changes and writes `path` under its lock; `change` says whether
/// it changed anything.
fn edit_file(path: &Path, change: impl FnOnce(&mut Vec<Approval>) -> bool) -> Result<(), AppError> {
    if let Some(dir) = path.parent() {
        crate::platform::paths::private_dir(dir)?;
    }
    let _lock = fsutil::lock_for(path)?;
    let mut list = read_file(path)?;
    let now = unix_now();
    // Expired approvals are dropped on every write.
    list.retain(|a| a.holds_at(now));
    if change(&mut list) {
        let text = serde_json::to_string_pretty(&list).map_err(|e| AppError::Approvals {
            message: e.to_string(),
        })?;
        fsutil::write_atomic(path, text.as_bytes(), 0o600)?;
    }
    Ok(())
}

/// Drops the file's approvals that `gone` names; how many.
pub fn revoke_in_file(path: &Path, gone: &dyn Fn(&Approval) -> bool) -> Result<usize, AppError> {
    let mut count = 0;
    edit_file(path, |list| {
        let before = list.len();
        list.retain(|a| !gone(a));
        count = before - list.len();
        count > 0
    })?;
    Ok(count)
}

/// Adds an approval to the file at `data_dir` without an agent (what
/// `keyfob approvals add` does when none runs).
pub fn add_to_file(data_dir: &Path, approval: Approval) -> Result<(), AppError> {
    edit_file(&data_dir.join(FILE_NAME), |list| {
        list.retain(|a| !(a.profile == approval.profile && a.program == approval.program));
        list.push(approval);
        true
    })
}

/// Whether `vault` holds no identity yet: its first makes a new setup.
pub(crate) fn new_setup(vault: &crate::vault::Vault) -> bool {
    vault.list().is_ok_and(|l| l.is_empty()) && vault.sso_list().is_ok_and(|l| l.is_empty())
}

/// A new setup's first identity turns approvals on (`new-programs`),
/// unless config.toml already sets a rule; a setup made before approvals
/// existed keeps working as it did until the user turns them on.
pub(crate) fn first_identity_added(paths: &crate::platform::paths::Paths, first: bool) {
    if first && let Err(e) = crate::config::settings::default_approvals_for_new_setup(paths) {
        tracing::warn!("cannot turn approvals on for the new setup: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program(hash: &str) -> Program {
        Program {
            exe: "/usr/bin/aws".into(),
            exe_sha256: hash.into(),
            script: None,
            script_sha256: None,
        }
    }

    #[test]
    fn approvals_hold_as_given_and_revoke_drops_them() {
        let dir = tempfile::tempdir().unwrap();
        let book = ApprovalBook::new(dir.path());
        let aws = program("aa");
        let rule = ApprovalRule::NewPrograms;
        assert_eq!(book.find(&aws, "prod", rule).unwrap(), None);
        book.remember(&aws, "prod", Decision::Once).unwrap();
        assert_eq!(
            book.find(&aws, "prod", rule).unwrap(),
            None,
            "once is not kept"
        );
        book.remember(&aws, "prod", Decision::UntilLock).unwrap();
        assert_eq!(
            book.find(&aws, "prod", rule).unwrap(),
            Some(access_log::Approval::Remembered)
        );
        // Another profile, another binary at the same path: not approved.
        assert_eq!(book.find(&aws, "dev", rule).unwrap(), None);
        assert_eq!(book.find(&program("bb"), "prod", rule).unwrap(), None);
        // Under every-time only what `approvals add` gave answers.
        assert_eq!(
            book.find(&aws, "prod", ApprovalRule::EveryTime).unwrap(),
            None
        );
        book.add(&aws, "dev", Holds::Always).unwrap();
        assert_eq!(
            book.find(&aws, "dev", ApprovalRule::EveryTime).unwrap(),
            Some(access_log::Approval::PreApproved)
        );
        // A new book over the same folder (a new agent) keeps the file's.
        let again = ApprovalBook::new(dir.path());
        assert_eq!(again.find(&aws, "prod", rule).unwrap(), None);
        assert!(again.find(&aws, "dev", rule).unwrap().is_some());
        // Locking prod ends its until-lock approval only.
        assert_eq!(book.revoke(None, Some("prod"), true).unwrap(), 1);
        assert_eq!(book.find(&aws, "prod", rule).unwrap(), None);
        assert_eq!(book.list().unwrap().len(), 1);
        assert_eq!(book.revoke(Some(&aws.id()), None, false).unwrap(), 1);
        assert!(book.list().unwrap().is_empty());
    }

    #[test]
    fn an_approval_for_a_while_expires() {
        let dir = tempfile::tempdir().unwrap();
        let book = ApprovalBook::new(dir.path());
        let aws = program("aa");
        book.add(&aws, "prod", Holds::Until { at: unix_now() - 1 })
            .unwrap();
        assert_eq!(
            book.find(&aws, "prod", ApprovalRule::NewPrograms).unwrap(),
            None
        );
        book.remember(&aws, "prod", Decision::For { secs: 3600 })
            .unwrap();
        assert!(
            book.find(&aws, "prod", ApprovalRule::NewPrograms)
                .unwrap()
                .is_some()
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(FILE_NAME))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_program_is_new_to_a_profile_once() {
        let dir = tempfile::tempdir().unwrap();
        let book = ApprovalBook::new(dir.path());
        assert!(book.first_use(&program("aa"), "prod"));
        assert!(!book.first_use(&program("aa"), "prod"));
        assert!(book.first_use(&program("aa"), "dev"));
        assert!(!ApprovalBook::new(dir.path()).first_use(&program("aa"), "prod"));
    }
}
