//! Who is on the other end of a loopback TCP connection: the local
//! listeners keyfob opens for a browser (the console's one-shot redirect,
//! Identity Center's sign-in redirect) answer only this user's programs,
//! since another local user can read the address from the browser's
//! command line in `/proc` and connect first.

use std::net::TcpStream;

/// The uid owning the peer of `stream`, a connection accepted on a
/// loopback listener; `None` when it cannot be told. Without
/// `/proc/net/tcp` (macOS, untested here) it cannot be, and the
/// connection counts as this user's: the listener's own check (a nonce,
/// a state) alone guards it.
pub fn peer_owner(stream: &TcpStream) -> Option<u32> {
    #[cfg(target_os = "linux")]
    return match (stream.local_addr(), stream.peer_addr()) {
        (Ok(local), Ok(peer)) => owner_in_proc(local, peer),
        _ => None,
    };
    #[cfg(not(target_os = "linux"))]
    {
        let _ = stream;
        Some(rustix::process::getuid().as_raw())
    }
}

/// Whether the peer of `stream` is a program of this user.
pub fn peer_is_this_user(stream: &TcpStream) -> bool {
    peer_owner(stream) == Some(rustix::process::getuid().as_raw())
}

/// The uid owning the other end of a loopback TCP connection: the entry
/// of `/proc/net/tcp` (or `tcp6`) whose local address is the peer's and
/// whose remote address is ours. `None` when it cannot be told.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn owner_in_proc(ours: std::net::SocketAddr, peer: std::net::SocketAddr) -> Option<u32> {
    fn hex(addr: std::net::SocketAddr) -> String {
        match addr {
            // The kernel prints the address as the u32 in host order.
            std::net::SocketAddr::V4(a) => format!(
                "{:08X}:{:04X}",
                u32::from_ne_bytes(a.ip().octets()),
                a.port()
            ),
            std::net::SocketAddr::V6(a) => {
                let o = a.ip().octets();
                let words: String = o
                    .chunks(4)
                    .map(|w| format!("{:08X}", u32::from_ne_bytes([w[0], w[1], w[2], w[3]])))
                    .collect();
                format!("{words}:{:04X}", a.port())
            }
        }
    }
    let (theirs, mine) = (hex(peer), hex(ours));
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.len() > 7 && cols[1] == theirs && cols[2] == mine {
                return cols[7].parse().ok();
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loopback_connection_is_known_to_be_this_users() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        assert_eq!(
            peer_owner(&server),
            Some(rustix::process::getuid().as_raw())
        );
        assert!(peer_is_this_user(&server));
        drop(client);
    }
}
