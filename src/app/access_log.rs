//! The access log: every session handed out or refused, one JSON object
//! per line in `access.log` under keyfob's data folder (0600), appended
//! only, rotated by size into `access.log.1` … `.3` (the newest entries
//! are always kept). Never a secret in it: no key, no token, no PIN; a
//! program's identity is its path and the hash of its contents.
//!
//! The agent writes its entries from a thread of their own, so a write
//! never holds up an answer; a CLI that serves a session from the kernel
//! keyring itself appends its own entry after it has printed the session.
//! Appends are single `write(2)`s to a file opened with `O_APPEND`, so
//! two writers never interleave within a line; rotation runs under the
//! log's lock, and a writer that finds the log already rotated does not
//! rotate it again.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::platform::fsutil;

/// The log's file name in the data folder.
pub const LOG_NAME: &str = "access.log";
/// Rotated when it grows past this.
pub const MAX_BYTES: u64 = 1024 * 1024;
/// Rotated files kept (`access.log.1` is the newest of them).
pub const KEEP: usize = 3;

/// What became of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Handed out from the cache.
    Cached,
    /// Made now (STS, Identity Center).
    Made,
    /// Refused by the approvals: denied, or nobody could be asked.
    Denied,
    /// Failed (locked, a wrong PIN, AWS refused): `detail` says why.
    Failed,
}

/// How the request's program was let through (or not).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Approval {
    /// The profile's rule is `off`.
    Off,
    /// Approved before (until lock, or for a while).
    Remembered,
    /// Approved with `keyfob approvals add`.
    PreApproved,
    /// Approved now, for this request.
    Once,
    /// Approved now, until lock.
    UntilLock,
    /// Approved now, for a while.
    ForAWhile,
    /// Denied now, or a moment ago at the same prompt.
    Denied,
    /// Nobody could be asked (no app, no terminal).
    NobodyToAsk,
}

/// The program that asked, as the kernel says (see
/// [`crate::model::approval::Program`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramSeen {
    pub pid: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exe: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// The programs above it, nearest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<String>,
}

impl ProgramSeen {
    /// What a person reads: the script where there is one, else the
    /// executable.
    pub fn label(&self) -> String {
        match (&self.script, &self.exe) {
            (Some(s), Some(e)) => format!("{s} (run by {e})"),
            (Some(s), None) => s.clone(),
            (None, Some(e)) => e.clone(),
            (None, None) => format!("process {}", self.pid),
        }
    }
}

/// One line of the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessEntry {
    /// When (RFC 3339, UTC).
    pub at: String,
    pub profile: String,
    pub identity: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The role's ARN, for a role profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    pub program: ProgramSeen,
    pub outcome: Outcome,
    pub approval: Approval,
    /// The first time this program got this profile.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub first: bool,
    /// Why it failed (an error's message: never a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl AccessEntry {
    /// An entry for `profile` asked for by `r` (whose executable hashed
    /// to `sha256`, where that is known), not yet with its outcome.
    pub fn new(
        profile: &crate::config::profile::Profile,
        account: Option<String>,
        r: &crate::link::requester::Requester,
        sha256: Option<String>,
    ) -> AccessEntry {
        AccessEntry {
            at: now(),
            profile: profile.name.clone(),
            identity: profile.identity.as_str().to_owned(),
            account,
            role: profile.role.as_ref().map(|role| role.arn.clone()),
            program: ProgramSeen {
                pid: r.pid,
                exe: r.exe.clone(),
                sha256,
                script: r.script.clone(),
                cwd: r.cwd.clone(),
                parents: r.parents.clone(),
            },
            outcome: Outcome::Failed,
            approval: Approval::Off,
            first: false,
            detail: None,
        }
    }

    pub fn time(&self) -> Option<OffsetDateTime> {
        OffsetDateTime::parse(&self.at, &Rfc3339).ok()
    }

    /// One line for a person.
    pub fn line(&self) -> String {
        let at = self
            .time()
            .and_then(|t| {
                t.format(time::macros::format_description!(
                    "[year]-[month]-[day] [hour]:[minute]:[second]"
                ))
                .ok()
            })
            .unwrap_or_else(|| self.at.clone());
        let outcome = match self.outcome {
            Outcome::Cached => "from cache",
            Outcome::Made => "made",
            Outcome::Denied => "DENIED",
            Outcome::Failed => "failed",
        };
        let approval = match self.approval {
            Approval::Off => "",
            Approval::Remembered => ", approved before",
            Approval::PreApproved => ", pre-approved",
            Approval::Once => ", approved once",
            Approval::UntilLock => ", approved until lock",
            Approval::ForAWhile => ", approved for a while",
            Approval::Denied => ", denied",
            Approval::NobodyToAsk => ", nobody to ask",
        };
        let mut text = format!(
            "{at}  {}  {outcome}{approval}  {}",
            self.profile,
            self.program.label()
        );
        if !self.program.parents.is_empty() {
            text.push_str(&format!(" ← {}", self.program.parents.join(" ← ")));
        }
        if let Some(account) = &self.account {
            text.push_str(&format!("  account {account}"));
        }
        if let Some(role) = &self.role {
            text.push_str(&format!("  role {role}"));
        }
        if self.first {
            text.push_str("  (first time)");
        }
        if let Some(d) = &self.detail {
            text.push_str(&format!("  — {d}"));
        }
        text
    }
}

/// Now, as the log writes it.
pub fn now() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// The log in keyfob's data folder `data_dir`.
#[derive(Clone, Debug)]
pub struct AccessLog {
    path: PathBuf,
    max_bytes: u64,
}

#[derive(Debug, thiserror::Error)]
#[error("the access log {path}: {source}")]
pub struct LogError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

impl AccessLog {
    pub fn new(data_dir: &Path) -> AccessLog {
        AccessLog {
            path: data_dir.join(LOG_NAME),
            max_bytes: MAX_BYTES,
        }
    }

    /// A log that rotates past `max_bytes` (tests).
    pub fn with_max_bytes(mut self, max_bytes: u64) -> AccessLog {
        self.max_bytes = max_bytes;
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self) -> impl Fn(std::io::Error) -> LogError + '_ {
        |source| LogError {
            path: self.path.clone(),
            source,
        }
    }

    /// Appends `entry` as one line (one `write(2)`), then rotates if the
    /// log grew past its size.
    pub fn append(&self, entry: &AccessEntry) -> Result<(), LogError> {
        self.append_all(std::slice::from_ref(entry))
    }

    /// Appends `entries` in one write (the agent's writer: what came in
    /// while it wrote the last).
    pub fn append_all(&self, entries: &[AccessEntry]) -> Result<(), LogError> {
        let mut lines = Vec::new();
        for entry in entries {
            serde_json::to_writer(&mut lines, entry).map_err(|e| self.err()(e.into()))?;
            lines.push(b'\n');
        }
        let open = || {
            OpenOptions::new()
                .append(true)
                .create(true)
                .mode(0o600)
                .open(&self.path)
        };
        // The data folder is made (private) only when it is missing: a
        // warm call's log entry costs one open, not three more calls.
        let mut file = match open() {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = self.path.parent() {
                    crate::platform::paths::private_dir(dir)
                        .map_err(|e| self.err()(std::io::Error::other(e.to_string())))?;
                }
                open()
            }
            other => other,
        }
        .map_err(self.err())?;
        file.write_all(&lines).map_err(self.err())?;
        let size = file.metadata().map_err(self.err())?.len();
        if size > self.max_bytes {
            self.rotate()?;
        }
        Ok(())
    }

    fn rotated(&self, n: usize) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }

    /// Moves `access.log` to `.1` (and `.1` to `.2` …, dropping the
    /// oldest), under the log's lock; a writer that finds it rotated by
    /// another meanwhile leaves it.
    fn rotate(&self) -> Result<(), LogError> {
        let _lock = fsutil::lock_for(&self.path)
            .map_err(|e| self.err()(std::io::Error::other(e.to_string())))?;
        let size = std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0);
        if size <= self.max_bytes {
            return Ok(());
        }
        for n in (1..KEEP).rev() {
            let from = self.rotated(n);
            if from.exists() {
                std::fs::rename(&from, self.rotated(n + 1)).map_err(self.err())?;
            }
        }
        std::fs::rename(&self.path, self.rotated(1)).map_err(self.err())?;
        Ok(())
    }

    /// The files that hold entries, oldest first.
    fn files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = (1..=KEEP).rev().map(|n| self.rotated(n)).collect();
        files.push(self.path.clone());
        files.retain(|f| f.exists());
        files
    }

    /// Every entry kept, oldest first, that `keep` accepts. Lines that do
    /// not parse (a line cut by a full disk) are skipped.
    pub fn read(&self, keep: &dyn Fn(&AccessEntry) -> bool) -> Result<Vec<AccessEntry>, LogError> {
        let mut out = Vec::new();
        for path in self.files() {
            let file = match File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(self.err()(e)),
            };
            for line in BufReader::new(file).lines() {
                let line = line.map_err(self.err())?;
                if let Ok(entry) = serde_json::from_str::<AccessEntry>(&line)
                    && keep(&entry)
                {
                    out.push(entry);
                }
            }
        }
        Ok(out)
    }

    /// Calls `each` with every entry kept so far (oldest first), then with
    /// every entry appended from then on, until it returns false; follows
    /// the log across rotation. The log file being written is read through
    /// one handle from its start on, so no entry falls between what was
    /// there and what comes.
    pub fn follow(
        &self,
        keep: &dyn Fn(&AccessEntry) -> bool,
        each: &mut dyn FnMut(&AccessEntry) -> bool,
    ) -> Result<(), LogError> {
        use std::os::unix::fs::MetadataExt;
        let open = || -> Option<(File, u64)> {
            let f = File::open(&self.path).ok()?;
            let ino = f.metadata().ok()?.ino();
            Some((f, ino))
        };
        let mut current = open();
        // The rotated files first (the one being written is read below).
        for path in self.files().into_iter().filter(|p| p != &self.path) {
            let Ok(file) = File::open(&path) else {
                continue;
            };
            for line in BufReader::new(file).lines() {
                let line = line.map_err(self.err())?;
                if let Ok(entry) = serde_json::from_str::<AccessEntry>(&line)
                    && keep(&entry)
                    && !each(&entry)
                {
                    return Ok(());
                }
            }
        }
        let mut pending = String::new();
        loop {
            let mut progressed = false;
            if let Some((f, _)) = &mut current {
                let mut reader = BufReader::new(&*f);
                loop {
                    let mut chunk = String::new();
                    let n = reader.read_line(&mut chunk).map_err(self.err())?;
                    if n == 0 {
                        break;
                    }
                    progressed = true;
                    pending.push_str(&chunk);
                    if pending.ends_with('\n') {
                        if let Ok(entry) = serde_json::from_str::<AccessEntry>(pending.trim_end())
                            && keep(&entry)
                            && !each(&entry)
                        {
                            return Ok(());
                        }
                        pending.clear();
                    }
                }
            }
            if !progressed {
                // Rotated (or created) since: read the new file from its
                // start.
                let now_ino = std::fs::metadata(&self.path).ok().map(|m| m.ino());
                if now_ino.is_some() && now_ino != current.as_ref().map(|(_, i)| *i) {
                    current = open();
                    continue;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// A writer that never holds up its caller: entries go to a thread that
/// appends them (the agent's).
pub struct LogWriter {
    tx: std::sync::mpsc::Sender<AccessEntry>,
}

impl LogWriter {
    pub fn start(log: AccessLog) -> LogWriter {
        let (tx, rx) = std::sync::mpsc::channel::<AccessEntry>();
        let _ = std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || {
                while let Ok(entry) = rx.recv() {
                    let mut batch = vec![entry];
                    batch.extend(rx.try_iter());
                    if let Err(e) = log.append_all(&batch) {
                        tracing::warn!("{e}");
                    }
                }
            });
        LogWriter { tx }
    }

    pub fn write(&self, entry: AccessEntry) {
        let _ = self.tx.send(entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(profile: &str, n: u32) -> AccessEntry {
        AccessEntry {
            at: now(),
            profile: profile.into(),
            identity: "work".into(),
            account: Some("123456789012".into()),
            role: None,
            program: ProgramSeen {
                pid: n,
                exe: Some("/usr/bin/aws".into()),
                ..Default::default()
            },
            outcome: Outcome::Made,
            approval: Approval::Once,
            first: n == 0,
            detail: None,
        }
    }

    #[test]
    fn rotation_keeps_the_newest_entries_and_drops_the_oldest_files() {
        let dir = tempfile::tempdir().unwrap();
        let log = AccessLog::new(dir.path()).with_max_bytes(2000);
        for n in 0..200 {
            log.append(&entry("prod", n)).unwrap();
        }
        let all = log.read(&|_| true).unwrap();
        // The newest entry is there, in order, and the oldest are gone.
        assert_eq!(all.last().unwrap().program.pid, 199);
        assert!(
            all.first().unwrap().program.pid > 0,
            "nothing was rotated away"
        );
        assert!(
            all.windows(2)
                .all(|w| w[0].program.pid + 1 == w[1].program.pid)
        );
        assert!(dir.path().join("access.log.3").exists());
        assert!(!dir.path().join("access.log.4").exists());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(log.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    /// A missing data folder is made, private, by the first entry; a
    /// batch lands whole and in order.
    #[test]
    fn the_first_entry_makes_a_private_folder_and_a_batch_lands_in_order() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data/keyfob");
        let log = AccessLog::new(&data);
        let batch: Vec<AccessEntry> = (0..5).map(|n| entry("prod", n)).collect();
        log.append_all(&batch).unwrap();
        let mode = std::fs::metadata(&data).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        let all = log.read(&|_| true).unwrap();
        let pids: Vec<u32> = all.iter().map(|e| e.program.pid).collect();
        assert_eq!(pids, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn parallel_writers_never_lose_or_cut_a_line() {
        let dir = tempfile::tempdir().unwrap();
        let log = AccessLog::new(dir.path());
        std::thread::scope(|s| {
            for t in 0..8 {
                let log = log.clone();
                s.spawn(move || {
                    for n in 0..100 {
                        log.append(&entry(&format!("p{t}"), n)).unwrap();
                    }
                });
            }
        });
        let all = log.read(&|_| true).unwrap();
        assert_eq!(all.len(), 800);
        let text = std::fs::read_to_string(log.path()).unwrap();
        assert_eq!(text.lines().count(), 800);
    }

    #[test]
    fn a_line_reads_as_a_person_would_say_it() {
        let mut e = entry("prod", 0);
        e.program.parents = vec!["terraform".into(), "bash".into()];
        let line = e.line();
        assert!(
            line.contains("prod  made, approved once  /usr/bin/aws ← terraform ← bash"),
            "{line}"
        );
        assert!(
            line.ends_with("account 123456789012  (first time)"),
            "{line}"
        );
    }
}
