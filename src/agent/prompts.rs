//! The approval prompts open now, and the recent denials: what the
//! approval gate (`approve`) shares across the agent's requests.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use crate::model::approval::{Decision, Program};

pub(super) type Key = (Program, String);

/// One open prompt's answer, for the requests waiting on it.
#[derive(Default)]
pub(super) struct Slot {
    pub(super) answer: Mutex<Option<Result<Decision, String>>>,
    pub(super) done: Condvar,
}

/// The open prompts and the recent denials.
#[derive(Default)]
pub struct Prompts {
    pub(super) open: Mutex<HashMap<Key, Arc<Slot>>>,
    pub(super) denied: Mutex<HashMap<Key, Instant>>,
}
