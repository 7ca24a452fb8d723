//! The session cache of a process that is not the agent: the kernel
//! keyring where it answers, else the agent's memory over its socket
//! ([`AgentCache`]), which such a process may list and drop from but
//! never read or write.

use std::os::unix::net::UnixStream;

use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::link::cache::{CacheError, SessionCache};
use crate::link::client::{AgentLink, unexpected};
use crate::link::error::AgentError;
use crate::link::protocol::{Reply, Request, socket_path};

/// Opens the session cache of a process that is not the agent: the
/// kernel keyring where it answers (a hit costs two system calls), else
/// the agent's memory over its socket (`agent`, started if needed). Never
/// the secret store, never a file.
pub fn open_cache(namespace: &str, agent: AgentLink) -> Box<dyn SessionCache> {
    #[cfg(target_os = "linux")]
    match crate::link::cache::KernelCache::open(namespace) {
        Ok(cache) => return Box::new(cache),
        Err(e) => {
            tracing::debug!("kernel keyring unavailable ({e}); sessions stay in the keyfob agent")
        }
    }
    let _ = namespace;
    Box::new(AgentCache(agent))
}

/// The agent's cache, over its socket (see the module docs).
pub struct AgentCache(pub AgentLink);

fn cache_err(op: &'static str) -> impl FnOnce(AgentError) -> CacheError {
    move |e| CacheError::Agent {
        op,
        message: e.to_string(),
    }
}

/// What a process that is not the agent may do with the agent's cache:
/// list, see when an entry expires, drop. It can neither read a session
/// by its key nor write one: a session comes from a session request
/// ([`AgentLink::session`]), which the agent resolves itself.
impl SessionCache for AgentCache {
    fn get(&self, _key: &str) -> Result<Option<Zeroizing<Vec<u8>>>, CacheError> {
        // Not readable by key: the caller asks for the profile's session.
        Ok(None)
    }

    fn put(&self, _key: &str, _value: &[u8], _expires: OffsetDateTime) -> Result<(), CacheError> {
        Err(CacheError::Agent {
            op: "store",
            message: "only the agent makes and caches sessions".into(),
        })
    }

    fn expires(&self, key: &str) -> Result<Option<OffsetDateTime>, CacheError> {
        if UnixStream::connect(socket_path(&self.0.runtime_dir)).is_err() {
            return Ok(None);
        }
        match self
            .0
            .simple(Request::Expiry {
                key: key.to_owned(),
            })
            .map_err(cache_err("read"))?
        {
            Reply::Expiry { at } => {
                Ok(at.and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok()))
            }
            _ => Err(cache_err("read")(unexpected())),
        }
    }

    fn delete(&self, key: &str) -> Result<(), CacheError> {
        // No agent, no sessions in its memory: nothing to delete.
        if UnixStream::connect(socket_path(&self.0.runtime_dir)).is_err() {
            return Ok(());
        }
        self.0
            .simple(Request::Delete {
                key: key.to_owned(),
            })
            .map_err(cache_err("delete"))?;
        Ok(())
    }

    fn keys(&self) -> Result<Vec<String>, CacheError> {
        if UnixStream::connect(socket_path(&self.0.runtime_dir)).is_err() {
            return Ok(Vec::new());
        }
        match self.0.simple(Request::Keys).map_err(cache_err("list"))? {
            Reply::Keys { keys } => Ok(keys),
            _ => Err(cache_err("list")(unexpected())),
        }
    }

    fn describe(&self) -> &'static str {
        "the keyfob agent's memory"
    }
    fn in_agent(&self) -> bool {
        true
    }
}
