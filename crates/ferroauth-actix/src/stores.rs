//! Session stores by URL, as in `ferroauth-axum`: [`Store::open`] opens the store a
//! [`StoreChoice`] names (memory, `sqlite://`, `postgres://`, `redis://`, `cookie`;
//! [`ferroauth::session::store`] holds the logic and lists them), and [`TowerStore`]
//! bridges the database and Redis stores (tower-sessions-core stores) to actix-session.
//!
//! ```no_run
//! use actix_web::{App, HttpServer};
//! use ferroauth_actix::sessions::{SessionConfig, SessionsExt as _, session_key};
//! use ferroauth_actix::stores::{Store, StoreChoice};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let keys = std::env::var("APP_COOKIE_KEYS")?;
//! let sessions = SessionConfig::for_public_url("https://app.example")?;
//! let key = session_key(&keys)?;
//! let Store::Shared(store) = Store::open(&"redis://127.0.0.1:6379".parse()?, None).await? else {
//!     unreachable!()
//! };
//! HttpServer::new(move || App::new().wrap(sessions.middleware(store.clone(), key.clone())))
//!     .bind("127.0.0.1:8000")?
//!     .run()
//!     .await?;
//! # Ok(()) }
//! ```

use std::collections::HashMap;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration;
use ferroauth::session::sealed::CookieKeys;
use ferroauth::session::store::{OpenStore, SharedStore};
pub use ferroauth::session::store::{StoreChoice, StoreError};
use serde_json::Value;
use tower_sessions_core::session::{Id, Record};
use tower_sessions_core::session_store::SessionStore as TowerSessionStore;

use crate::memory_store::{MemoryStore, expiry, id_of, key_of, other};

/// A store opened by URL, for [`SessionsExt::middleware`](crate::sessions::SessionsExt::middleware)
/// (memory, a database or Redis) or [`SessionsExt::sealed`](crate::sessions::SessionsExt::sealed)
/// (cookies).
#[derive(Debug)]
pub enum Store {
    /// In this process's memory.
    Memory(MemoryStore),
    /// A database or Redis, shared by every instance (with the same session key).
    Shared(TowerStore<SharedStore>),
    /// Sealed cookies under these keys.
    Cookie(CookieKeys),
}

impl Store {
    /// The store `choice` names ([`StoreChoice::open`]): connects first, so that a wrong
    /// URL fails at start. The cookie store uses `cookie_keys` (else a random key for
    /// this process, logged). A database or Redis needs this crate's feature of its name.
    pub async fn open(
        choice: &StoreChoice,
        cookie_keys: Option<CookieKeys>,
    ) -> Result<Self, StoreError> {
        Ok(match choice.open(cookie_keys).await? {
            OpenStore::Memory(store) => Store::Memory(store.into()),
            OpenStore::Shared(store) => Store::Shared(TowerStore(store)),
            OpenStore::Cookie(keys) => Store::Cookie(keys),
        })
    }
}

/// A tower-sessions-core store as an actix-session store. actix-session keeps each entry as
/// JSON text; the record holds it as a JSON string, which is what `ferroauth-axum` writes
/// too, so nothing is parsed on the way.
#[derive(Debug, Clone)]
pub struct TowerStore<S>(pub S);

type State = HashMap<String, String>;

fn record(id: Id, state: State, ttl: &Duration) -> Record {
    Record {
        id,
        data: state
            .into_iter()
            .map(|(k, text)| (k, Value::String(text)))
            .collect(),
        expiry_date: expiry(ttl),
    }
}

fn state(record: Record) -> State {
    record
        .data
        .into_iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(text) => text,
                other => other.to_string(),
            };
            (k, text)
        })
        .collect()
}

impl<S: TowerSessionStore> SessionStore for TowerStore<S> {
    async fn load(&self, key: &SessionKey) -> Result<Option<State>, LoadError> {
        let Some(id) = id_of(key) else {
            return Ok(None);
        };
        let found = self
            .0
            .load(&id)
            .await
            .map_err(|e| LoadError::Other(other(e)))?;
        Ok(found.map(state))
    }

    async fn save(&self, state: State, ttl: &Duration) -> Result<SessionKey, SaveError> {
        let mut record = record(Id::default(), state, ttl);
        self.0
            .create(&mut record)
            .await
            .map_err(|e| SaveError::Other(other(e)))?;
        key_of(record.id).map_err(SaveError::Other)
    }

    async fn update(
        &self,
        key: SessionKey,
        state: State,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let Some(id) = id_of(&key) else {
            return self.save(state, ttl).await.map_err(|e| match e {
                SaveError::Serialization(e) => UpdateError::Serialization(e),
                SaveError::Other(e) => UpdateError::Other(e),
            });
        };
        self.0
            .save(&record(id, state, ttl))
            .await
            .map_err(|e| UpdateError::Other(other(e)))?;
        Ok(key)
    }

    async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> Result<(), anyhow::Error> {
        let Some(id) = id_of(key) else {
            return Ok(());
        };
        // tower-sessions-core stores have no expiry-only write: the record again.
        if let Some(mut found) = self.0.load(&id).await.map_err(other)? {
            found.expiry_date = expiry(ttl);
            self.0.save(&found).await.map_err(other)?;
        }
        Ok(())
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
        match id_of(key) {
            Some(id) => self.0.delete(&id).await.map_err(other),
            None => Ok(()),
        }
    }
}
