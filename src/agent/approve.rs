//! The approval gate in front of every session the agent hands out: under
//! a profile's rule (`off`, `new-programs`, `every-time`) a program not
//! approved for the profile is asked about (the person at the app, else
//! at the asking client's terminal) before anything else — before the
//! PIN, so an approval never needs the PIN again.
//!
//! Requests of the same program for the same profile that arrive while
//! its prompt is open wait for that one answer (a burst of 50 shows one
//! prompt); a denial answers the same program's requests for the profile
//! for a while; nobody to ask (no app, no terminal) is a refusal at once.
//! Each (program, profile) waits on its own slot: a prompt never holds up
//! another profile's request, nor another program's.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::conversation::Conversation;
use super::prompts::{Key, Slot};
use super::state::Agent;
use crate::app::access_log::Approval as Logged;
use crate::config::profile::Profile;
use crate::model::approval::{Decision, Program};

/// How long a denial answers the same program's requests for the same
/// profile without a prompt.
pub const DENIAL_HOLDS: Duration = Duration::from_secs(30);

/// How long a request waits for another request's open prompt: the
/// longest a person may take, and a margin.
const WAIT_FOR_PROMPT: Duration = Duration::from_secs(330);

/// What the gate let through, or why not.
pub(super) enum Gate {
    Pass(Logged),
    Denied { logged: Logged, message: String },
}

/// The question a person is asked.
pub fn question(
    program: &Program,
    r: &crate::link::requester::Requester,
    profile: &Profile,
    account: Option<&str>,
) -> String {
    let mut q = format!(
        "keyfob: {} asks for the session of profile {}",
        program.label(),
        profile.name
    );
    match (account, profile.role.as_ref()) {
        (_, Some(role)) => q.push_str(&format!(" (role {})", role.arn)),
        (Some(a), None) => q.push_str(&format!(" (account {a})")),
        (None, None) => {}
    }
    if !r.parents.is_empty() {
        q.push_str(&format!("\n  started by: {}", r.parents.join(" ← ")));
    }
    if let Some(cwd) = &r.cwd {
        q.push_str(&format!("\n  in: {cwd}"));
    }
    q.push_str(&format!(
        "\n  pid {}, sha256 {}",
        r.pid,
        &program.exe_sha256[..program.exe_sha256.len().min(16)]
    ));
    q
}

fn hint(program: &Program, profile: &str) -> String {
    let path = program.script.as_deref().unwrap_or(&program.exe);
    format!(
        "approve it in the keyfob app or at a terminal, or for a script: keyfob approvals add {path} --profile {profile}"
    )
}

/// Lets the request through, or refuses it, under `profile`'s rule. The
/// program is `program` (`None`: the kernel no longer shows it).
pub(super) fn gate(
    agent: &Agent,
    conversation: &Conversation,
    program: Option<&Program>,
    profile: &Profile,
    account: Option<&str>,
) -> Gate {
    let rule = profile.approvals;
    if !rule.is_on() {
        return Gate::Pass(Logged::Off);
    }
    let Some(program) = program else {
        return Gate::Denied {
            logged: Logged::NobodyToAsk,
            message: format!(
                "refused: keyfob could not tell which program asked for profile {} (it exited, or its executable cannot be read), so no approval can apply",
                profile.name
            ),
        };
    };
    match agent.kf.approvals.find(program, &profile.name, rule) {
        Ok(Some(how)) => return Gate::Pass(how),
        Ok(None) => {}
        Err(e) => tracing::warn!("{e}"),
    }
    let key: Key = (program.clone(), profile.name.clone());
    let prompts = &agent.prompts;
    {
        let mut denied = prompts.denied.lock().unwrap_or_else(|e| e.into_inner());
        denied.retain(|_, at| at.elapsed() < DENIAL_HOLDS);
        if denied.contains_key(&key) {
            return Gate::Denied {
                logged: Logged::Denied,
                message: format!(
                    "denied: {} may not have the session of profile {} (denied less than {} s ago)",
                    program.label(),
                    profile.name,
                    DENIAL_HOLDS.as_secs()
                ),
            };
        }
    }
    let (slot, asks) = {
        let mut open = prompts.open.lock().unwrap_or_else(|e| e.into_inner());
        match open.get(&key) {
            Some(slot) => (slot.clone(), false),
            None => {
                let slot = Arc::new(Slot::default());
                open.insert(key.clone(), slot.clone());
                (slot, true)
            }
        }
    };
    let answer = if asks {
        let q = question(program, conversation.requester(), profile, account);
        let answer = conversation
            .approve(&q, program, profile, account)
            .map_err(|e| e.to_string());
        if let Ok(decision) = &answer
            && let Err(e) = agent
                .kf
                .approvals
                .remember(program, &profile.name, *decision)
        {
            tracing::warn!("{e}");
        }
        if matches!(answer, Ok(Decision::Deny)) {
            prompts
                .denied
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key.clone(), Instant::now());
        }
        *slot.answer.lock().unwrap_or_else(|e| e.into_inner()) = Some(answer.clone());
        prompts
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&key);
        slot.done.notify_all();
        answer
    } else {
        agent.parked(|| {
            agent.waiting.fetch_add(1, Ordering::SeqCst);
            let guard = slot.answer.lock().unwrap_or_else(|e| e.into_inner());
            let (guard, _) = slot
                .done
                .wait_timeout_while(guard, WAIT_FOR_PROMPT, |a| a.is_none())
                .unwrap_or_else(|e| e.into_inner());
            agent.waiting.fetch_sub(1, Ordering::SeqCst);
            guard
                .clone()
                .unwrap_or_else(|| Err("the open prompt for it was never answered".into()))
        })
    };
    match answer {
        Ok(Decision::Deny) => Gate::Denied {
            logged: Logged::Denied,
            message: format!(
                "denied: {} may not have the session of profile {}",
                program.label(),
                profile.name
            ),
        },
        Ok(Decision::Once) => Gate::Pass(Logged::Once),
        Ok(Decision::UntilLock) => Gate::Pass(Logged::UntilLock),
        Ok(Decision::For { .. }) => Gate::Pass(Logged::ForAWhile),
        Err(why) => Gate::Denied {
            logged: Logged::NobodyToAsk,
            message: format!(
                "refused: {} is not approved for profile {}, and it could not be asked ({why}); {}",
                program.label(),
                profile.name,
                hint(program, &profile.name)
            ),
        },
    }
}
