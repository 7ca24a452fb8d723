//! Writing a reply on a connection.

use std::io::Write;
use std::os::unix::net::UnixStream;

use crate::link::protocol::{ErrorKind, Reply, encode};

/// Writes one reply line.
pub(super) fn send(stream: &mut UnixStream, reply: Reply) -> std::io::Result<()> {
    stream.write_all(encode(reply).as_bytes())
}

/// Tells a connection of another user that it is refused (the socket is
/// 0600 in a 0700 folder, so only root gets this far).
pub(super) fn refuse_other_user(stream: &mut UnixStream) {
    tracing::warn!("refused an agent connection from another user");
    let _ = send(
        stream,
        Reply::Error {
            kind: ErrorKind::Refusal,
            message: "refused: the keyfob agent serves only its own user".into(),
        },
    );
}
