//! The warm path: a session request that is a cache hit for a program the
//! approvals already let through is answered on the accepting thread
//! itself. Handing a request to a thread of its own costs a thread start
//! and a wake-up on another core, about 50 µs on the 2-core reference
//! machine (more than all the rest of a warm answer); a warm answer reads
//! only `/proc`, the memory cache and hashes already known, so it holds
//! the accept loop up for less than that.
//!
//! Anything that could wait (a cache miss, a program never hashed, an
//! approval to ask for, an account the vault must say) is declined here
//! and served as before, on a request thread, from the start: the warm
//! path decides nothing the full one would decide otherwise.

use std::os::unix::net::UnixStream;

use super::access::{Access, account_known};
use super::reply::send;
use super::state::Agent;
use crate::app;
use crate::link::peer::Peer;
use crate::link::protocol::{Reply, Request, decode};
use crate::link::requester::requester;

/// Answers `line` if it is a warm session request (see the module docs);
/// otherwise gives the stream back, nothing read from it or sent.
pub(super) fn serve(mut stream: UnixStream, line: &str, agent: &Agent) -> Result<(), UnixStream> {
    let Ok(Request::Session {
        profile,
        fresh: false,
        console: false,
        ..
    }) = decode::<Request>(line)
    else {
        return Err(stream);
    };
    let Some(peer) = Peer::of(&stream).ok().filter(Peer::same_user) else {
        return Err(stream);
    };
    let kf = &agent.kf;
    let Ok(profile) = kf.profile(&profile) else {
        return Err(stream);
    };
    let Some(session) = app::cached_session(kf, &profile) else {
        return Err(stream);
    };
    let Some(account) = account_known(agent, &profile) else {
        return Err(stream);
    };
    let r = requester(&peer, &kf.cli);
    let Some(program) = agent.hashes.program_if_known(&r) else {
        return Err(stream);
    };
    let mut access = Access::new(&profile, account, &r, Some(program));
    if !access.pass_unasked(agent, &profile) {
        return Err(stream);
    }
    let reply = Reply::Session {
        credentials: session.to_process_json(),
        endpoints: Some(session.endpoints.clone()),
    };
    drop(session);
    let _ = send(&mut stream, reply);
    drop(stream);
    agent.log(access.end(agent, Ok(true)));
    agent
        .warm
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    agent.touch();
    Ok(())
}

/// Overwrites with zeros the stack a warm answer used, which on this
/// long-lived thread would otherwise keep what passed through it until
/// reused. Called by the caller of [`serve`], this frame lies over the
/// ones it used; 64 KiB is several times their depth. A plain fill
/// (vectorised, about 2 µs) that the optimiser must keep, since the
/// buffer is then handed to `black_box`.
#[inline(never)]
pub(super) fn scrub_stack() {
    let mut below = [0u8; 64 * 1024];
    below.fill(0);
    std::hint::black_box(&mut below);
}
