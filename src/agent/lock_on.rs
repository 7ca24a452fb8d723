//! Locking when the person leaves: the agent wipes every session when the
//! screen locks (the session bus's `org.freedesktop.ScreenSaver` or
//! `org.gnome.ScreenSaver` `ActiveChanged(true)`), when logind says the
//! session locks (`org.freedesktop.login1.Session.Lock`) and before the
//! machine sleeps (`org.freedesktop.login1.Manager.PrepareForSleep(true)`).
//! Each bus is watched on a thread of its own; a bus that is not there
//! (a server, a container) is simply not watched.

use std::sync::Arc;

use zbus::blocking::{Connection, MessageIterator};
use zbus::{MatchRule, message::Type};

use super::state::Agent;

/// What is watched on each bus: (interface, member, whether the signal
/// carries a bool that must be true).
const SESSION_SIGNALS: &[(&str, &str, bool)] = &[
    ("org.freedesktop.ScreenSaver", "ActiveChanged", true),
    ("org.gnome.ScreenSaver", "ActiveChanged", true),
];
const SYSTEM_SIGNALS: &[(&str, &str, bool)] = &[
    ("org.freedesktop.login1.Session", "Lock", false),
    ("org.freedesktop.login1.Manager", "PrepareForSleep", true),
];

/// Starts watching both buses for `agent`.
pub fn watch(agent: Arc<Agent>) {
    let a = agent.clone();
    std::thread::spawn(move || {
        if let Ok(conn) = Connection::session() {
            listen(&conn, SESSION_SIGNALS, &a, true);
        }
    });
    std::thread::spawn(move || {
        if let Ok(conn) = Connection::system() {
            listen(&conn, SYSTEM_SIGNALS, &agent, false);
        }
    });
}

fn listen(conn: &Connection, signals: &[(&str, &str, bool)], agent: &Agent, screen: bool) {
    let mut iters = Vec::new();
    for (interface, member, _) in signals {
        let rule = MatchRule::builder()
            .msg_type(Type::Signal)
            .interface(*interface)
            .and_then(|b| b.member(*member))
            .map(|b| b.build());
        if let Ok(rule) = rule
            && let Ok(it) = MessageIterator::for_match_rule(rule, conn, Some(64))
        {
            iters.push(it);
        }
    }
    // The match rules are registered with the bus by now.
    if screen && !iters.is_empty() {
        agent
            .watching
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }
    // One iterator per rule; each is read on its own thread but the
    // first, which this one reads.
    let mut iters = iters.into_iter();
    let Some(first) = iters.next() else { return };
    std::thread::scope(|s| {
        for it in iters {
            s.spawn(move || read(it, signals, agent));
        }
        read(first, signals, agent);
    });
}

fn read(it: MessageIterator, signals: &[(&str, &str, bool)], agent: &Agent) {
    for msg in it.flatten() {
        let header = msg.header();
        let (Some(interface), Some(member)) = (header.interface(), header.member()) else {
            continue;
        };
        let Some((_, _, needs_true)) = signals
            .iter()
            .find(|(i, m, _)| interface.as_str() == *i && member.as_str() == *m)
        else {
            continue;
        };
        let acted = !*needs_true || msg.body().deserialize::<bool>().unwrap_or(false);
        if !acted {
            agent
                .signals
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            continue;
        }
        match agent.lock_all() {
            Ok(n) => tracing::info!("{interface}.{member}: wiped {n} session(s)"),
            Err(e) => tracing::warn!("{interface}.{member}: could not wipe the sessions: {e}"),
        }
        agent
            .signals
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}
