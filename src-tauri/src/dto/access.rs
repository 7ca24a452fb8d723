//! The approvals screen (screen `approvals`) and the access log page
//! (screen `access-log`), and the answer to an approval prompt. Nothing
//! here carries a secret: a program is its path and the hash of its
//! contents, an access is who asked for which profile and what became of
//! it.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use keyfob::app::access_log::{self, AccessEntry, Outcome};
use keyfob::model::approval::{
    Approval, ApprovalRule, Decision, Holds, MAX_APPROVAL_SECS, Program,
};

/// When the agent asks before it hands a profile's session to a program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub enum RuleChoice {
    Off,
    NewPrograms,
    EveryTime,
}

impl From<ApprovalRule> for RuleChoice {
    fn from(r: ApprovalRule) -> Self {
        match r {
            ApprovalRule::Off => RuleChoice::Off,
            ApprovalRule::NewPrograms => RuleChoice::NewPrograms,
            ApprovalRule::EveryTime => RuleChoice::EveryTime,
        }
    }
}

impl From<RuleChoice> for ApprovalRule {
    fn from(r: RuleChoice) -> Self {
        match r {
            RuleChoice::Off => ApprovalRule::Off,
            RuleChoice::NewPrograms => ApprovalRule::NewPrograms,
            RuleChoice::EveryTime => ApprovalRule::EveryTime,
        }
    }
}

/// How long a remembered approval holds.
#[derive(Clone, Debug, Serialize, TS)]
#[serde(tag = "holds", rename_all = "snake_case")]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub enum HoldsView {
    /// Until the profile (or every session) is locked.
    UntilLock,
    /// Until this time (RFC 3339).
    Until { at: String },
    /// Until revoked (`keyfob approvals add`).
    Always,
}

/// One remembered approval.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct ApprovalView {
    /// The program's short id (what revoking takes).
    pub id: String,
    /// The script where there is one (with its interpreter), else the
    /// executable.
    pub label: String,
    pub exe: String,
    pub script: Option<String>,
    pub profile: String,
    pub holds: HoldsView,
    /// When it was given (RFC 3339).
    pub given: String,
}

fn rfc3339_unix(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .map(super::rfc3339)
        .unwrap_or_default()
}

impl From<&Approval> for ApprovalView {
    fn from(a: &Approval) -> Self {
        ApprovalView {
            id: a.program.id(),
            label: a.program.label(),
            exe: a.program.exe.clone(),
            script: a.program.script.clone(),
            profile: a.profile.clone(),
            holds: match a.holds {
                Holds::UntilLock => HoldsView::UntilLock,
                Holds::Until { at } => HoldsView::Until {
                    at: rfc3339_unix(at),
                },
                Holds::Always => HoldsView::Always,
            },
            given: rfc3339_unix(a.given),
        }
    }
}

/// A profile's rule: its own if it has one, else the global one.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct ProfileRuleView {
    pub profile: String,
    /// The profile's own rule; `None`: the global one applies.
    pub own: Option<RuleChoice>,
}

/// The approvals screen.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct ApprovalsView {
    /// The global rule in force (config.toml's, else off).
    pub rule: RuleChoice,
    /// Every profile, with its own rule if it has one.
    pub profiles: Vec<ProfileRuleView>,
    /// The approvals that hold now: until lock first, then the file's.
    pub approvals: Vec<ApprovalView>,
}

/// The person's answer to an approval prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, TS)]
#[serde(tag = "answer", rename_all = "snake_case")]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub enum ApprovalAnswer {
    Once,
    UntilLock,
    /// For this many seconds (60 s to 30 days).
    For {
        secs: u32,
    },
    Deny,
}

impl ApprovalAnswer {
    /// The decision it makes; a duration out of range is `None`.
    pub fn decision(self) -> Option<Decision> {
        Some(match self {
            ApprovalAnswer::Once => Decision::Once,
            ApprovalAnswer::UntilLock => Decision::UntilLock,
            ApprovalAnswer::For { secs } => {
                let secs = u64::from(secs);
                if !(60..=MAX_APPROVAL_SECS).contains(&secs) {
                    return None;
                }
                Decision::For { secs }
            }
            ApprovalAnswer::Deny => Decision::Deny,
        })
    }
}

/// What became of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub enum OutcomeView {
    Cached,
    Made,
    Denied,
    Failed,
}

/// One entry of the access log.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct AccessView {
    /// When (RFC 3339, UTC).
    pub at: String,
    pub profile: String,
    pub identity: String,
    pub account: Option<String>,
    pub role: Option<String>,
    /// The program as a person reads it (the script where there is one).
    pub program: String,
    pub pid: u32,
    pub exe: Option<String>,
    pub script: Option<String>,
    pub cwd: Option<String>,
    /// The programs above it, nearest first.
    pub parents: Vec<String>,
    pub outcome: OutcomeView,
    /// How it was let through or not, as a person reads it ("approved
    /// until lock"); empty when approvals are off.
    pub approval: String,
    /// The first time this program got this profile.
    pub first: bool,
    /// Why it failed or was refused.
    pub detail: Option<String>,
}

/// How an entry's approval reads.
fn approval_text(a: access_log::Approval) -> &'static str {
    use access_log::Approval as A;
    match a {
        A::Off => "",
        A::Remembered => "approved before",
        A::PreApproved => "pre-approved",
        A::Once => "approved once",
        A::UntilLock => "approved until lock",
        A::ForAWhile => "approved for a while",
        A::Denied => "denied",
        A::NobodyToAsk => "nobody to ask",
    }
}

impl From<&AccessEntry> for AccessView {
    fn from(e: &AccessEntry) -> Self {
        AccessView {
            at: e.at.clone(),
            profile: e.profile.clone(),
            identity: e.identity.clone(),
            account: e.account.clone(),
            role: e.role.clone(),
            program: e.program.label(),
            pid: e.program.pid,
            exe: e.program.exe.clone(),
            script: e.program.script.clone(),
            cwd: e.program.cwd.clone(),
            parents: e.program.parents.clone(),
            outcome: match e.outcome {
                Outcome::Cached => OutcomeView::Cached,
                Outcome::Made => OutcomeView::Made,
                Outcome::Denied => OutcomeView::Denied,
                Outcome::Failed => OutcomeView::Failed,
            },
            approval: approval_text(e.approval).to_owned(),
            first: e.first,
            detail: e.detail.clone(),
        }
    }
}

/// What the approval prompt shows of the program, beside the requester.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct ProgramView {
    pub id: String,
    pub label: String,
    pub exe: String,
    /// The start of its SHA-256 (16 hex digits), as the terminal shows it.
    pub exe_sha256: String,
    pub script: Option<String>,
}

impl From<&Program> for ProgramView {
    fn from(p: &Program) -> Self {
        ProgramView {
            id: p.id(),
            label: p.label(),
            exe: p.exe.clone(),
            exe_sha256: p.exe_sha256.chars().take(16).collect(),
            script: p.script.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_for_a_while_keeps_to_the_librarys_limits() {
        assert_eq!(
            ApprovalAnswer::For { secs: 3600 }.decision(),
            Some(Decision::For { secs: 3600 })
        );
        assert_eq!(ApprovalAnswer::For { secs: 59 }.decision(), None);
        assert_eq!(
            ApprovalAnswer::For {
                secs: MAX_APPROVAL_SECS as u32 + 1
            }
            .decision(),
            None
        );
        assert_eq!(ApprovalAnswer::Deny.decision(), Some(Decision::Deny));
    }
}
