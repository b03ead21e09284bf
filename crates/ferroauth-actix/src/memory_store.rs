//! [`MemoryStore`]: actix-session sessions in this process's memory, for one instance.
//!
//! actix-session ships stores for cookies and Redis only. An app with one instance (and
//! the demo) needs none of Redis; this store keeps sessions in a map, forgets each one
//! when its time-to-live runs out, and sweeps expired sessions out every few hundred saves
//! so that abandoned logins do not pile up. Apps with several instances need a shared
//! store: actix-session's `RedisSessionStore` (feature `redis`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration;

type State = HashMap<String, String>;

/// Saves between two sweeps of expired sessions.
const SWEEP_EVERY: u32 = 256;

/// Sessions in memory: see the [module docs](self). Clones share the sessions.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<Sessions>>,
}

#[derive(Debug, Default)]
struct Sessions {
    by_key: HashMap<String, (State, Instant)>,
    saves: u32,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many sessions are kept (expired ones not yet swept out included).
    pub fn len(&self) -> usize {
        self.sessions().by_key.len()
    }

    /// Whether no session is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn sessions(&self) -> MutexGuard<'_, Sessions> {
        // The map holds whole entries whatever a panicking thread was doing.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn deadline(ttl: &Duration) -> Instant {
    let ttl = std::time::Duration::try_from(*ttl).unwrap_or_default();
    Instant::now() + ttl
}

/// A new session key: 256 bits from the OS, in hex.
fn new_key() -> Result<SessionKey, anyhow::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    // By table, not `format!` per byte: that was a twentieth of a login's instructions.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(2 * bytes.len());
    for b in bytes {
        text.push(char::from(HEX[usize::from(b >> 4)]));
        text.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    SessionKey::try_from(text).map_err(anyhow::Error::from)
}

impl Sessions {
    fn sweep_now_and_then(&mut self) {
        self.saves += 1;
        if self.saves >= SWEEP_EVERY {
            self.saves = 0;
            let now = Instant::now();
            self.by_key.retain(|_, (_, until)| *until > now);
        }
    }
}

impl SessionStore for MemoryStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<State>, LoadError> {
        let mut sessions = self.sessions();
        let found = match sessions.by_key.get(key.as_ref()) {
            Some((state, until)) if *until > Instant::now() => Some(state.clone()),
            Some(_) => {
                sessions.by_key.remove(key.as_ref());
                None
            }
            None => None,
        };
        Ok(found)
    }

    async fn save(&self, state: State, ttl: &Duration) -> Result<SessionKey, SaveError> {
        let key = new_key().map_err(SaveError::Other)?;
        let mut sessions = self.sessions();
        sessions.sweep_now_and_then();
        sessions
            .by_key
            .insert(key.as_ref().to_owned(), (state, deadline(ttl)));
        Ok(key)
    }

    async fn update(
        &self,
        key: SessionKey,
        state: State,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        // The state back when the session is gone (expired, or logged out elsewhere).
        let gone = match self.sessions().by_key.get_mut(key.as_ref()) {
            Some(entry) => {
                *entry = (state, deadline(ttl));
                None
            }
            None => Some(state),
        };
        let Some(state) = gone else {
            return Ok(key);
        };
        // A new session, as actix-session's own stores do.
        self.save(state, ttl).await.map_err(|e| match e {
            SaveError::Serialization(e) => UpdateError::Serialization(e),
            SaveError::Other(e) => UpdateError::Other(e),
        })
    }

    async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> Result<(), anyhow::Error> {
        if let Some((_, until)) = self.sessions().by_key.get_mut(key.as_ref()) {
            *until = deadline(ttl);
        }
        Ok(())
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
        self.sessions().by_key.remove(key.as_ref());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(value: &str) -> State {
        HashMap::from([("k".to_owned(), value.to_owned())])
    }

    #[actix_web::test]
    async fn saves_loads_updates_and_forgets() {
        let store = MemoryStore::new();
        let key = store.save(state("1"), &Duration::minutes(1)).await.unwrap();
        assert_eq!(key.as_ref().len(), 64);
        assert!(key.as_ref().bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(store.load(&key).await.unwrap(), Some(state("1")));
        let key = store
            .update(key, state("2"), &Duration::minutes(1))
            .await
            .unwrap();
        assert_eq!(store.load(&key).await.unwrap(), Some(state("2")));
        store.delete(&key).await.unwrap();
        assert_eq!(store.load(&key).await.unwrap(), None);
        assert!(store.is_empty());
    }

    #[actix_web::test]
    async fn expired_sessions_are_gone_and_swept_out() {
        let store = MemoryStore::new();
        let key = store.save(state("1"), &Duration::ZERO).await.unwrap();
        assert_eq!(store.load(&key).await.unwrap(), None);
        for _ in 0..SWEEP_EVERY {
            store.save(state("x"), &Duration::ZERO).await.unwrap();
        }
        assert!(store.len() < SWEEP_EVERY as usize, "{} kept", store.len());
    }
}
