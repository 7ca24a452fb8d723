//! A request from `keyfob credential-process` waiting for the person in
//! the app's window (`prompt.ts`; the app's side is `crate::prompt`).

use serde::Serialize;
use ts_rs::TS;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub enum PromptKind {
    Pin,
    MfaCode,
    /// An Identity Center identity must sign in again: the page runs the
    /// sign-in (`sso_login` with this prompt's id), which answers it.
    SignIn,
    /// A program not approved for the profile asks for its session: the
    /// person allows it (once, until lock, for a while) or denies it
    /// (`answer_approval`).
    Approve,
}

/// A request from `keyfob credential-process` waiting for the person.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct PromptView {
    pub id: u32,
    pub kind: PromptKind,
    pub profile: String,
    pub identity: String,
    pub mfa_serial: Option<String>,
    pub pid: u32,
    pub exe: Option<String>,
    /// Its working directory.
    pub cwd: Option<String>,
    /// The script an interpreter runs (python3, node, a shell's file).
    pub script: Option<String>,
    /// The asking program's parents, nearest first (`bash`, `tmux`).
    pub parents: Vec<String>,
    /// For an approval: the program as approvals know it (its path and
    /// hash), and the account the session is in.
    pub program: Option<super::ProgramView>,
    pub account: Option<String>,
}
