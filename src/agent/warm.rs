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
use crate::link::protocol::{ErrorKind, Reply, Request, decode};
use crate::link::requester::requester;

/// Answers `line` if it is a warm session request (see the module docs);
/// otherwise gives the stream back, nothing read from it or sent. A
/// `warm_only` request (the `keyfob` front's) is answered either way: a
/// miss says so, and its client hands over to the full CLI.
pub(super) fn serve(mut stream: UnixStream, line: &str, agent: &Agent) -> Result<(), UnixStream> {
    let Ok(Request::Session {
        profile,
        fresh: false,
        console: false,
        warm_only,
        ..
    }) = decode::<Request>(line)
    else {
        return Err(stream);
    };
    match answer(&stream, &profile, agent) {
        Some((reply, access)) => {
            let _ = send(&mut stream, reply);
            drop(stream);
            // After the reply: whether this is the program's first use of
            // the profile may write the programs-seen file.
            agent.log(access.end(agent, Ok(true)));
            agent
                .warm
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        None if warm_only => {
            let _ = send(
                &mut stream,
                Reply::Error {
                    kind: ErrorKind::Miss,
                    message: format!("no warm session of profile {profile} here"),
                },
            );
        }
        None => return Err(stream),
    }
    agent.touch();
    Ok(())
}

/// The reply to a warm request of the peer at `stream` for `profile`,
/// and the access it logs; `None` when it is not warm.
fn answer(stream: &UnixStream, profile: &str, agent: &Agent) -> Option<(Reply, Access)> {
    let peer = Peer::of(stream).ok().filter(Peer::same_user)?;
    let kf = &agent.kf;
    let profile = kf.profile(profile).ok()?;
    let session = app::cached_session(kf, &profile)?;
    let account = account_known(agent, &profile)?;
    let r = requester(&peer, &kf.cli);
    let program = agent.hashes.program_if_known(&r)?;
    let mut access = Access::new(&profile, account, &r, Some(program));
    if !access.pass_unasked(agent, &profile) {
        return None;
    }
    let reply = Reply::Session {
        credentials: session.to_process_json(),
        endpoints: Some(session.endpoints.clone()),
    };
    Some((reply, access))
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
