//! [`MemoryStore`]: actix-session sessions in this process's memory, for one instance.
//!
//! actix-session ships stores for cookies and Redis only. This is ferroauth's in-memory
//! store ([`ferroauth::session::memory`], the one `ferroauth-axum` uses: expired sessions
//! purged on writes, each session compactly encoded) holding actix-session's entries as
//! they are, JSON texts, so that nothing is converted on the way in or out. Session keys are
//! the store's 128-bit random ids. Apps with several instances need a shared store
//! ([`crate::stores`]).

use std::collections::HashMap;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::{Duration, OffsetDateTime};
use ferroauth::session::memory;
use tower_sessions_core::session::Id;
use tower_sessions_core::session_store::Error as StoreError;

type State = HashMap<String, String>;

/// Sessions in memory: see the [module docs](self). Clones share the sessions.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore(memory::MemoryStore);

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The core store underneath (its size, its sweeps).
    pub fn sessions(&self) -> &memory::MemoryStore {
        &self.0
    }

    /// How many sessions are kept (expired ones not yet purged included).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no session is kept.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl MemoryStore {
    /// The store as its own index of sessions by owner ([`ferroauth::session::index`]).
    pub(crate) fn index(&self) -> ferroauth::session::index::SharedIndex {
        std::sync::Arc::new(self.0.clone())
    }
}

impl From<memory::MemoryStore> for MemoryStore {
    fn from(store: memory::MemoryStore) -> Self {
        Self(store)
    }
}

/// When a session saved now with `ttl` expires.
pub(crate) fn expiry(ttl: &Duration) -> OffsetDateTime {
    OffsetDateTime::now_utc().saturating_add(*ttl)
}

/// The store's id of a session key; `None` for a key the store never made.
pub(crate) fn id_of(key: &SessionKey) -> Option<Id> {
    key.as_ref().parse().ok()
}

/// The session key of a store id.
pub(crate) fn key_of(id: Id) -> Result<SessionKey, anyhow::Error> {
    SessionKey::try_from(id.to_string()).map_err(anyhow::Error::from)
}

pub(crate) fn other(e: StoreError) -> anyhow::Error {
    anyhow::Error::from(e)
}

impl SessionStore for MemoryStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<State>, LoadError> {
        let Some(id) = id_of(key) else {
            return Ok(None);
        };
        match self.0.load_data(&id) {
            Ok(found) => Ok(found.map(|(_, state)| state)),
            Err(e) => Err(LoadError::Deserialization(other(e))),
        }
    }

    async fn save(&self, state: State, ttl: &Duration) -> Result<SessionKey, SaveError> {
        let mut id = Id::default();
        self.0
            .create_data(&mut id, expiry(ttl), &state)
            .map_err(|e| SaveError::Serialization(other(e)))?;
        key_of(id).map_err(SaveError::Other)
    }

    async fn update(
        &self,
        key: SessionKey,
        state: State,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        if let Some(id) = id_of(&key) {
            let kept = self
                .0
                .update_data(id, expiry(ttl), &state)
                .map_err(|e| UpdateError::Serialization(other(e)))?;
            if kept {
                return Ok(key);
            }
        }
        // The session is gone (expired, or logged out elsewhere): a new one, as
        // actix-session's own stores do.
        self.save(state, ttl).await.map_err(|e| match e {
            SaveError::Serialization(e) => UpdateError::Serialization(e),
            SaveError::Other(e) => UpdateError::Other(e),
        })
    }

    async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> Result<(), anyhow::Error> {
        if let Some(id) = id_of(key) {
            self.0.set_expiry(id, expiry(ttl));
        }
        Ok(())
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
        if let Some(id) = id_of(key) {
            self.0.remove(&id);
        }
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
        assert_eq!(key.as_ref().len(), 22, "128 bits in base64url");
        assert_eq!(store.load(&key).await.unwrap(), Some(state("1")));
        let key = store
            .update(key, state("2"), &Duration::minutes(1))
            .await
            .unwrap();
        assert_eq!(store.load(&key).await.unwrap(), Some(state("2")));
        store.delete(&key).await.unwrap();
        assert_eq!(store.load(&key).await.unwrap(), None);
        assert!(store.is_empty());
        let junk = SessionKey::try_from("not a key".to_owned()).unwrap();
        assert_eq!(store.load(&junk).await.unwrap(), None);
    }

    #[actix_web::test]
    async fn expired_sessions_are_gone_and_purged() {
        let store = MemoryStore::new();
        let key = store.save(state("1"), &Duration::ZERO).await.unwrap();
        assert_eq!(store.load(&key).await.unwrap(), None);
        for _ in 0..10 {
            store.save(state("x"), &Duration::ZERO).await.unwrap();
        }
        assert!(store.len() <= 1, "{} kept", store.len());
        // An update of a gone session makes a new one, never brings the old key back.
        let old = key.as_ref().to_owned();
        let updated = store
            .update(key, state("2"), &Duration::minutes(1))
            .await
            .unwrap();
        assert_ne!(updated.as_ref(), old);
    }
}
