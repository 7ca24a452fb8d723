//! Approvals: which programs may have which profile's sessions, and the
//! rule that says when to ask. No I/O here: the agent identifies the
//! program (what the kernel says it runs, hashed) and keeps the answers;
//! config.toml holds the rule.
//!
//! A program is its executable's full path and a hash of its contents, so
//! a binary replaced at the same path is a new program; for an interpreter
//! (python, node, a shell running a file) also the script's path and hash,
//! since that is what runs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::model::field::{Field, FieldError};

/// When the agent asks before it hands a profile's session to a program.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApprovalRule {
    /// Never: any program of the user gets an unlocked session (how
    /// keyfob worked before approvals, and still works for setups made
    /// then, until the user turns approvals on).
    #[default]
    Off,
    /// A program not approved for the profile yet is asked about once;
    /// its answer holds until lock, for a while, or always.
    NewPrograms,
    /// Every request is asked about, except from programs approved with
    /// `keyfob approvals add` (scripts, cron jobs).
    EveryTime,
}

impl ApprovalRule {
    pub const ALL: [ApprovalRule; 3] = [
        ApprovalRule::Off,
        ApprovalRule::NewPrograms,
        ApprovalRule::EveryTime,
    ];

    /// What config.toml and the CLI call it.
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalRule::Off => "off",
            ApprovalRule::NewPrograms => "new-programs",
            ApprovalRule::EveryTime => "every-time",
        }
    }

    /// What a person reads.
    pub fn describe(self) -> &'static str {
        match self {
            ApprovalRule::Off => "off: every program of yours gets an unlocked session",
            ApprovalRule::NewPrograms => "new programs: a program is asked about once per profile",
            ApprovalRule::EveryTime => {
                "every time: every request is asked about, except pre-approved programs"
            }
        }
    }

    pub fn is_on(self) -> bool {
        self != ApprovalRule::Off
    }
}

impl fmt::Display for ApprovalRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ApprovalRule {
    type Err = FieldError;

    /// `off`, `new-programs` (or `new programs`, `new_programs`),
    /// `every-time` (likewise); any case.
    fn from_str(s: &str) -> Result<Self, FieldError> {
        let norm: String = s
            .trim()
            .chars()
            .map(|c| match c {
                ' ' | '_' => '-',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        ApprovalRule::ALL
            .into_iter()
            .find(|r| r.as_str() == norm)
            .ok_or_else(|| {
                FieldError::new(
                    Field::ApprovalRule,
                    "must be one of off, new-programs, every-time",
                )
            })
    }
}

/// A program, as the kernel says it runs. Compared as a whole: the same
/// path with other contents is another program.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Program {
    /// The executable's full path.
    pub exe: String,
    /// SHA-256 of the executable's contents, hex.
    pub exe_sha256: String,
    /// For an interpreter: the script's full path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    /// SHA-256 of the script's contents, hex (none for `-c`/`-m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script_sha256: Option<String>,
}

impl Program {
    /// What a person reads: the script where there is one (with its
    /// interpreter), else the executable.
    pub fn label(&self) -> String {
        match &self.script {
            Some(script) => format!("{script} (run by {})", self.exe),
            None => self.exe.clone(),
        }
    }

    /// A short, stable name for this program's approval (the first 12 hex
    /// digits over its identity): what `keyfob approvals revoke` takes.
    pub fn id(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for part in [
            self.exe.as_str(),
            self.exe_sha256.as_str(),
            self.script.as_deref().unwrap_or(""),
            self.script_sha256.as_deref().unwrap_or(""),
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        hex::encode(&h.finalize()[..6])
    }
}

/// How long an approval holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "holds", rename_all = "kebab-case")]
pub enum Holds {
    /// Until the profile is locked (or every session is: screen lock,
    /// `lock --all`), or the agent ends. Kept in the agent's memory.
    UntilLock,
    /// Until this time (unix seconds).
    Until { at: i64 },
    /// Until revoked (`keyfob approvals add`: scripts, cron jobs).
    Always,
}

/// The person's answer to an approval prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "kebab-case")]
pub enum Decision {
    /// This request (and the same program's requests that waited on the
    /// same prompt), nothing remembered.
    Once,
    /// Remembered until lock.
    UntilLock,
    /// Remembered for this many seconds.
    For {
        secs: u64,
    },
    Deny,
}

/// The longest an approval "for a while" may hold: longer is `approvals
/// add`, which a person revokes.
pub const MAX_APPROVAL_SECS: u64 = 30 * 24 * 3600;

impl Decision {
    /// Reads a typed answer: `o`/`once`, `l`/`lock`/`until-lock`, a
    /// duration (`8h`, `30m`), `d`/`deny`/`n`/`no`. `None` for anything
    /// else.
    pub fn parse(answer: &str) -> Option<Decision> {
        let a = answer.trim().to_ascii_lowercase();
        match a.as_str() {
            "o" | "once" | "y" | "yes" => Some(Decision::Once),
            "l" | "lock" | "until-lock" | "until lock" => Some(Decision::UntilLock),
            "d" | "deny" | "n" | "no" | "" => Some(Decision::Deny),
            _ => crate::model::duration::parse(&a)
                .ok()
                .map(|d| d.as_secs())
                .filter(|s| (60..=MAX_APPROVAL_SECS).contains(s))
                .map(|secs| Decision::For { secs }),
        }
    }

    pub fn allows(self) -> bool {
        self != Decision::Deny
    }
}

/// One remembered approval.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub program: Program,
    pub profile: String,
    #[serde(flatten)]
    pub holds: Holds,
    /// When it was given (unix seconds).
    pub given: i64,
}

impl Approval {
    /// Whether it still holds at `now` (unix seconds).
    pub fn holds_at(&self, now: i64) -> bool {
        match self.holds {
            Holds::Until { at } => now < at,
            Holds::UntilLock | Holds::Always => true,
        }
    }

    /// Whether it answers a request under `rule`: under `every-time` only
    /// what `keyfob approvals add` gave does.
    pub fn answers(&self, rule: ApprovalRule) -> bool {
        match rule {
            ApprovalRule::Off => true,
            ApprovalRule::NewPrograms => true,
            ApprovalRule::EveryTime => self.holds == Holds::Always,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program(exe: &str, hash: &str) -> Program {
        Program {
            exe: exe.into(),
            exe_sha256: hash.into(),
            script: None,
            script_sha256: None,
        }
    }

    #[test]
    fn rules_read_every_spelling_and_name_the_accepted_ones() {
        for (text, rule) in [
            ("off", ApprovalRule::Off),
            ("new-programs", ApprovalRule::NewPrograms),
            ("New programs", ApprovalRule::NewPrograms),
            ("new_programs", ApprovalRule::NewPrograms),
            ("EVERY-TIME", ApprovalRule::EveryTime),
        ] {
            assert_eq!(text.parse::<ApprovalRule>().unwrap(), rule, "{text}");
        }
        let err = "sometimes".parse::<ApprovalRule>().unwrap_err().to_string();
        assert!(err.contains("off, new-programs, every-time"), "{err}");
        for rule in ApprovalRule::ALL {
            assert_eq!(rule.as_str().parse::<ApprovalRule>().unwrap(), rule);
        }
    }

    #[test]
    fn another_hash_at_the_same_path_is_another_program() {
        let a = program("/usr/bin/aws", "aa");
        let b = program("/usr/bin/aws", "bb");
        assert_ne!(a, b);
        assert_ne!(a.id(), b.id());
        assert_eq!(a.id(), program("/usr/bin/aws", "aa").id());
        assert_eq!(a.id().len(), 12);
        let mut s = a.clone();
        s.script = Some("/home/u/x.py".into());
        assert_ne!(s.id(), a.id());
        assert_eq!(s.label(), "/home/u/x.py (run by /usr/bin/aws)");
    }

    #[test]
    fn typed_answers_and_their_limits() {
        assert_eq!(Decision::parse("o"), Some(Decision::Once));
        assert_eq!(Decision::parse(" Lock "), Some(Decision::UntilLock));
        assert_eq!(
            Decision::parse("8h"),
            Some(Decision::For { secs: 8 * 3600 })
        );
        assert_eq!(Decision::parse("d"), Some(Decision::Deny));
        assert_eq!(Decision::parse(""), Some(Decision::Deny));
        assert_eq!(Decision::parse("10s"), None, "under a minute");
        assert_eq!(Decision::parse("400d"), None, "over 30 days");
        assert_eq!(Decision::parse("maybe"), None);
    }

    #[test]
    fn every_time_is_answered_only_by_approvals_added_for_scripts() {
        let mut a = Approval {
            program: program("/usr/bin/aws", "aa"),
            profile: "prod".into(),
            holds: Holds::UntilLock,
            given: 0,
        };
        assert!(a.answers(ApprovalRule::NewPrograms));
        assert!(!a.answers(ApprovalRule::EveryTime));
        a.holds = Holds::Always;
        assert!(a.answers(ApprovalRule::EveryTime));
        a.holds = Holds::Until { at: 100 };
        assert!(a.holds_at(99) && !a.holds_at(100));
    }
}
