//! One session request's line in the access log: who asked, for what, how
//! the approvals let it through, and what became of it. The entry is
//! handed back rather than written here: the request's thread sends it to
//! the log's writer only after the reply is on its way, so the client
//! never waits on the log (nor on waking its writer).

use super::approve::{self, Gate};
use super::conversation::Conversation;
use super::state::Agent;
use crate::app::AppError;
use crate::app::access_log::{AccessEntry, Approval as Logged, Outcome};
use crate::config::profile::Profile;
use crate::link::protocol::{ErrorKind, Reply};
use crate::link::requester::Requester;
use crate::model::approval::Program;

pub(super) struct Access {
    entry: AccessEntry,
    program: Option<Program>,
}

impl Access {
    /// The request of `r` for `profile`, its program hashed here if it
    /// must be (a file version not seen before is read whole).
    pub(super) fn begin(agent: &Agent, r: &Requester, profile: &Profile) -> Access {
        let program = agent.hashes.program(r);
        Access::new(profile, account_of(agent, profile), r, program)
    }

    pub(super) fn new(
        profile: &Profile,
        account: Option<String>,
        r: &Requester,
        program: Option<Program>,
    ) -> Access {
        Access {
            entry: AccessEntry::new(
                profile,
                account,
                r,
                program.as_ref().map(|p| p.exe_sha256.clone()),
            ),
            program,
        }
    }

    /// The approval gate (see `approve`): `Some(refusal)` to reply when
    /// the program may not have the session (then [`Self::refused`] is
    /// the log's entry).
    pub(super) fn gate(
        &mut self,
        agent: &Agent,
        asker: &Conversation,
        profile: &Profile,
    ) -> Option<Reply> {
        let account = self.entry.account.clone();
        match approve::gate(
            agent,
            asker,
            self.program.as_ref(),
            profile,
            account.as_deref(),
        ) {
            Gate::Pass(how) => {
                self.entry.approval = how;
                None
            }
            Gate::Denied { logged, message } => {
                self.entry.approval = logged;
                self.entry.outcome = Outcome::Denied;
                self.entry.detail = Some(message.clone());
                Some(Reply::Error {
                    kind: ErrorKind::Denied,
                    message,
                })
            }
        }
    }

    /// Lets the request through without asking anybody, or says it cannot
    /// be: `true` when `profile`'s rule is off or an approval on record
    /// covers this program (the warm path's gate; anything else is the
    /// full gate's to decide).
    pub(super) fn pass_unasked(&mut self, agent: &Agent, profile: &Profile) -> bool {
        if !profile.approvals.is_on() {
            self.entry.approval = Logged::Off;
            return true;
        }
        let Some(program) = &self.program else {
            return false;
        };
        match agent
            .kf
            .approvals
            .find(program, &profile.name, profile.approvals)
        {
            Ok(Some(how)) => {
                self.entry.approval = how;
                true
            }
            _ => false,
        }
    }

    /// The entry of a request the gate refused.
    pub(super) fn refused(self) -> AccessEntry {
        self.entry
    }

    /// The entry of what became of the request: `Ok(cached)` handed out.
    pub(super) fn end(mut self, agent: &Agent, outcome: Result<bool, &AppError>) -> AccessEntry {
        match outcome {
            Ok(cached) => {
                self.entry.outcome = if cached {
                    Outcome::Cached
                } else {
                    Outcome::Made
                };
                self.entry.first = self
                    .program
                    .as_ref()
                    .is_some_and(|p| agent.kf.approvals.first_use(p, &self.entry.profile));
            }
            Err(e) => {
                self.entry.outcome = Outcome::Failed;
                self.entry.detail = Some(e.to_string());
            }
        }
        self.entry
    }
}

/// The account a profile's sessions are in: its role's, its Identity
/// Center account, else its identity's as the vault knows it (read once
/// per identity by this agent).
pub(super) fn account_of(agent: &Agent, profile: &Profile) -> Option<String> {
    if let Some(known) = account_known(agent, profile) {
        return known;
    }
    let name = profile.identity.as_str();
    let account = agent
        .kf
        .vault()
        .ok()
        .and_then(|v| v.get(name).ok())
        .and_then(|i| i.account);
    agent
        .accounts
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(name.to_owned(), account.clone());
    account
}

/// [`account_of`] where it is known without reading the vault: `None`
/// when the vault would have to be read.
pub(super) fn account_known(agent: &Agent, profile: &Profile) -> Option<Option<String>> {
    if let Some(role) = &profile.role {
        return Some(Some(role.account.clone()));
    }
    if let Some(sso) = &profile.sso {
        return Some(Some(sso.account_id.clone()));
    }
    agent
        .accounts
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(profile.identity.as_str())
        .cloned()
}
