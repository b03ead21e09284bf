//! Server-side session stores, chosen by URL, and the policy for their failures: once,
//! for every web adapter.
//!
//! | value | store | instances | feature |
//! |---|---|---|---|
//! | `memory` | [`MemoryStore`], expired sessions swept out | one | |
//! | `sqlite://FILE` | SQLite through tower-sessions-sqlx-store (WAL, busy writes retried) | several on one host | `sqlite` |
//! | `postgres://...` | PostgreSQL (a save is one statement, see [`postgres`]) | many | `postgres` |
//! | `redis://HOST:PORT` | Redis (fred; reconnects by itself; a save is one round trip, see [`redis`]) | many | `redis` |
//! | `cookie` | no server-side state: sealed (AES-256-GCM) cookies ([`super::sealed`]) | many, with the same keys | |
//!
//! Every instance behind a load balancer must use the same store (and, with cookies, the
//! same keys): a login starts on one instance and may finish on another. A store that fails
//! (or, through its own timeouts, takes longer than [`STORE_TIMEOUT`]) answers 503
//! `session_unavailable` ([`guard`]).
//!
//! # Why tower-sessions-core's trait
//!
//! Every store implements tower-sessions-core's [`SessionStore`], a small trait with no
//! web-framework type in it: SQLite through tower-sessions-sqlx-store, which the Rust
//! ecosystem maintains; Redis ([`redis`]) and PostgreSQL ([`postgres`]) through stores of
//! ferroauth's own, because a login's save must be one round trip and theirs took four to
//! eight (each module says why, and keeps those crates' record format). The core opens
//! every store ([`StoreChoice::open`]) with its timeouts, retries SQLite's busy calls,
//! sweeps expired rows, and keeps the in-memory store ([`MemoryStore`]) in one place.
//! `ferroauth-axum` hands the stores to tower-sessions as they are; `ferroauth-actix`
//! bridges the trait to actix-session's store trait (and keeps actix-session's entries in
//! the in-memory store directly, so that its hot path converts nothing).

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tower_sessions_core::session::{Id, Record};
use tower_sessions_core::session_store::{self, SessionStore};

use super::index::{IndexedStore, RevocationList, SharedIndex};
use super::memory::MemoryStore;
use super::sealed::CookieKeys;

pub mod guard;
#[cfg(any(feature = "redis", feature = "postgres"))]
mod msgpack;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "redis")]
pub mod redis;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;

#[cfg(feature = "redis")]
pub use redis::redis_pool;
#[cfg(feature = "sqlite")]
pub use sql::RetryBusy;

/// How long a store call may take before the request fails with 503: a store that hangs
/// must not hold browsers (and workers) with it.
pub const STORE_TIMEOUT: Duration = Duration::from_secs(2);

/// Which session store an app uses, as its settings name it (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChoice {
    /// In memory, one instance.
    Memory,
    /// SQLite at this `sqlite:` URL.
    Sqlite(String),
    /// PostgreSQL at this `postgres://` URL.
    Postgres(String),
    /// Redis at this `redis://` URL.
    Redis(String),
    /// Sealed cookies, no server-side state.
    Cookie,
}

impl StoreChoice {
    /// A description without credentials, for logs.
    pub fn describe(&self) -> String {
        let redact = |url: &str| match url::Url::parse(url) {
            Ok(mut u) => {
                let _ = u.set_password(None);
                let _ = u.set_username("");
                u.to_string()
            }
            Err(_) => "(unparsable URL)".to_owned(),
        };
        match self {
            StoreChoice::Memory => "memory".into(),
            StoreChoice::Sqlite(url) => url.clone(),
            StoreChoice::Postgres(url) | StoreChoice::Redis(url) => redact(url),
            StoreChoice::Cookie => "cookie (sealed, AES-256-GCM)".into(),
        }
    }

    /// The store this choice names: connects (and migrates a database) first, so that a
    /// wrong URL fails at start with a clear error. The cookie store uses `cookie_keys`;
    /// without them, a random key (logged at warn), so cookies then die with the process.
    /// A database or Redis store needs this crate's feature of the same name.
    pub async fn open(&self, cookie_keys: Option<CookieKeys>) -> Result<OpenStore, StoreError> {
        #[cfg(any(feature = "sqlite", feature = "postgres", feature = "redis"))]
        let fail = |e: &dyn std::fmt::Display| {
            StoreError(format!("session store {}: {e}", self.describe()))
        };
        Ok(match self {
            StoreChoice::Memory => OpenStore::Memory(MemoryStore::new()),
            #[cfg(feature = "sqlite")]
            StoreChoice::Sqlite(url) => {
                let (store, index) = sql::sqlite(url).await.map_err(|e| fail(&e))?;
                OpenStore::Shared(SharedStore::indexed(store, Arc::new(index)))
            }
            #[cfg(feature = "postgres")]
            StoreChoice::Postgres(url) => {
                let (store, index) = sql::postgres(url).await.map_err(|e| fail(&e))?;
                OpenStore::Shared(SharedStore::self_indexed(store, Arc::new(index)))
            }
            #[cfg(feature = "redis")]
            StoreChoice::Redis(url) => {
                let pool = redis_pool(url).await.map_err(|e| fail(&e))?;
                let index = Arc::new(crate::session::index::RedisIndex::new(pool.clone()));
                // Redis expires the keys itself (EXAT); no sweep needed. The store writes
                // the index itself, with each session.
                let store = redis::RedisStore::new(pool);
                OpenStore::Shared(SharedStore::self_indexed(store, index))
            }
            StoreChoice::Cookie => OpenStore::Cookie(match cookie_keys {
                Some(keys) => keys,
                None => {
                    tracing::warn!(
                        "sealed-cookie sessions without keys: using a random key; cookies will not survive a restart or reach another instance"
                    );
                    let key = CookieKeys::generate("k1").map_err(|e| StoreError(e.to_string()))?;
                    CookieKeys::parse(&key).map_err(|e| StoreError(e.to_string()))?
                }
            }),
            #[allow(unreachable_patterns)]
            other => {
                return Err(StoreError(format!(
                    "session store {}: ferroauth was built without its feature",
                    other.describe()
                )));
            }
        })
    }
}

impl StoreChoice {
    /// A revocation list in the store this choice names, for sealed-cookie sessions
    /// ([`crate::session::index::Revocations`]): memory (one instance), SQLite,
    /// PostgreSQL or Redis, connected (and its tables made) first. `cookie` is not a
    /// place to keep one: an `invalid_settings` error.
    pub async fn open_revocation_list(&self) -> Result<Arc<dyn RevocationList>, StoreError> {
        #[cfg(any(feature = "sqlite", feature = "postgres", feature = "redis"))]
        let fail = |e: &dyn std::fmt::Display| {
            StoreError(format!("revocation list {}: {e}", self.describe()))
        };
        Ok(match self {
            StoreChoice::Memory => Arc::new(MemoryStore::new()),
            #[cfg(feature = "sqlite")]
            StoreChoice::Sqlite(url) => Arc::new(sql::sqlite(url).await.map_err(|e| fail(&e))?.1),
            #[cfg(feature = "postgres")]
            StoreChoice::Postgres(url) => {
                Arc::new(sql::postgres(url).await.map_err(|e| fail(&e))?.1)
            }
            #[cfg(feature = "redis")]
            StoreChoice::Redis(url) => {
                let pool = redis_pool(url).await.map_err(|e| fail(&e))?;
                Arc::new(crate::session::index::RedisIndex::new(pool))
            }
            StoreChoice::Cookie => {
                return Err(StoreError(
                    "a revocation list must be kept in memory, SQL or Redis, not in cookies".into(),
                ));
            }
            #[allow(unreachable_patterns)]
            other => {
                return Err(StoreError(format!(
                    "revocation list {}: ferroauth was built without its feature",
                    other.describe()
                )));
            }
        })
    }
}

impl StoreChoice {
    /// The user store ([`crate::users`]) beside the sessions this choice names, connected
    /// (and its tables made) first, so that a wrong URL fails at start:
    ///
    /// | choice | user store |
    /// |---|---|
    /// | `memory` | [`MemoryUserStore`](crate::users::MemoryUserStore) |
    /// | `sqlite://FILE`, `postgres://...` | `SqlUserStore` in the same database (feature `sqlite`, `postgres`) |
    /// | `redis://HOST:PORT` | `RedisUserStore` on the same server (feature `redis`) |
    /// | `cookie` | [`MemoryUserStore`](crate::users::MemoryUserStore), logged at warn |
    ///
    /// Sealed cookies keep no state on the server, and neither can they keep users: with
    /// `cookie`, each instance has users of its own, lost at restart. An app with cookie
    /// sessions and several instances gives the registry a shared store itself (opened
    /// from a database URL with this method). A connection or migration failure, or a
    /// store whose feature is off, is a [`crate::Error::UserStore`].
    pub async fn open_user_store(&self) -> Result<crate::users::SharedUserStore, crate::Error> {
        #[cfg(any(feature = "sqlite", feature = "postgres", feature = "redis"))]
        let fail = |e: &dyn std::fmt::Display| {
            crate::Error::UserStore(format!("{}: {e}", self.describe()))
        };
        Ok(match self {
            StoreChoice::Memory => Arc::new(crate::users::MemoryUserStore::new()),
            #[cfg(feature = "sqlite")]
            StoreChoice::Sqlite(url) => {
                let pool = sql::sqlite_pool(url).await.map_err(|e| fail(&e))?;
                Arc::new(crate::users::SqlUserStore::sqlite(pool).await?)
            }
            #[cfg(feature = "postgres")]
            StoreChoice::Postgres(url) => {
                let pool = sql::postgres_pool(url).await.map_err(|e| fail(&e))?;
                Arc::new(crate::users::SqlUserStore::postgres(pool).await?)
            }
            #[cfg(feature = "redis")]
            StoreChoice::Redis(url) => {
                let pool = redis_pool(url).await.map_err(|e| fail(&e))?;
                Arc::new(crate::users::RedisUserStore::new(pool))
            }
            StoreChoice::Cookie => {
                tracing::warn!(
                    "sealed-cookie sessions: users are kept in this process's memory; they will not survive a restart or reach another instance"
                );
                Arc::new(crate::users::MemoryUserStore::new())
            }
            #[allow(unreachable_patterns)]
            other => {
                return Err(crate::Error::UserStore(format!(
                    "{}: ferroauth was built without its feature",
                    other.describe()
                )));
            }
        })
    }
}

impl FromStr for StoreChoice {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Ok(match s {
            "memory" => StoreChoice::Memory,
            "cookie" => StoreChoice::Cookie,
            _ if s.starts_with("sqlite:") => StoreChoice::Sqlite(s.into()),
            _ if s.starts_with("postgres://") || s.starts_with("postgresql://") => {
                StoreChoice::Postgres(s.into())
            }
            _ if s.starts_with("redis://") || s.starts_with("rediss://") => {
                StoreChoice::Redis(s.into())
            }
            _ => {
                // The text may be a URL with a password: not repeated.
                return Err(StoreError(
                    "unknown session store: use memory, cookie, sqlite://FILE, postgres://... or redis://HOST:PORT".into(),
                ));
            }
        })
    }
}

/// A session store that could not be named or opened.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(String);

impl StoreError {
    /// The stable code: the store is a setting.
    pub fn code(&self) -> &'static str {
        "invalid_settings"
    }
}

/// An opened store ([`StoreChoice::open`]), for a web adapter to install.
#[derive(Debug)]
pub enum OpenStore {
    /// The in-memory store.
    Memory(MemoryStore),
    /// A database or Redis.
    Shared(SharedStore),
    /// Sealed cookies under these keys.
    Cookie(CookieKeys),
}

impl OpenStore {
    /// Where its sessions are found by owner ([`crate::session::index`]): `None` for
    /// sealed cookies, which keep no session on the server.
    pub fn index(&self) -> Option<SharedIndex> {
        match self {
            OpenStore::Memory(store) => Some(Arc::new(store.clone())),
            OpenStore::Shared(store) => store.index(),
            OpenStore::Cookie(_) => None,
        }
    }
}

/// A database or Redis store opened by URL. Cheap to clone (the instances share the pool).
///
/// Its calls are bounded by the store's own settings, each [`STORE_TIMEOUT`]: the pool's
/// wait for a connection, SQLite's busy wait, Redis' command timeout. No timer is laid over
/// the whole call: a SQLite write retried while busy may take longer than one wait, and
/// under load that is a slow login, not a failed one.
#[derive(Debug, Clone)]
pub struct SharedStore {
    store: Arc<dyn SessionStore>,
    index: Option<SharedIndex>,
}

impl SharedStore {
    /// `store`, shared, with no index of its sessions by owner.
    pub fn new(store: impl SessionStore) -> Self {
        Self {
            store: Arc::new(store),
            index: None,
        }
    }

    /// Its index of sessions by owner, when it has one.
    pub fn index(&self) -> Option<SharedIndex> {
        self.index.clone()
    }

    /// `store`, shared, recording its sessions' owners in `index` at each save.
    pub fn indexed(store: impl SessionStore, index: SharedIndex) -> Self {
        Self {
            store: Arc::new(IndexedStore::new(store, Arc::clone(&index))),
            index: Some(index),
        }
    }

    /// `store`, which records its sessions' owners in `index` itself.
    #[cfg(any(feature = "redis", feature = "postgres"))]
    fn self_indexed(store: impl SessionStore, index: SharedIndex) -> Self {
        Self {
            store: Arc::new(store),
            index: Some(index),
        }
    }
}

#[async_trait]
impl SessionStore for SharedStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.store.create(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.store.save(record).await
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        self.store.load(session_id).await
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        self.store.delete(session_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_describes_without_credentials() {
        let pg: StoreChoice = "postgres://app:hunter2@db.example/app".parse().unwrap();
        assert_eq!(pg.describe(), "postgres://db.example/app");
        let redis: StoreChoice = " redis://:pw@127.0.0.1:6379 ".parse().unwrap();
        assert!(!redis.describe().contains("pw"), "{}", redis.describe());
        assert_eq!(
            "memory".parse::<StoreChoice>().unwrap(),
            StoreChoice::Memory
        );
        assert_eq!(
            "cookie".parse::<StoreChoice>().unwrap(),
            StoreChoice::Cookie
        );
        let err = "mysql://u:secret@h/db".parse::<StoreChoice>().unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
        assert_eq!(err.code(), "invalid_settings");
    }

    #[tokio::test]
    async fn memory_and_cookie_keep_users_in_memory() {
        use crate::users::{Identity, IdentityKey};
        let identity = Identity {
            key: IdentityKey {
                authority: "https://op.example".into(),
                sub: "1".into(),
            },
            provider: "op".into(),
            email: None,
            email_verified: false,
        };
        for choice in [StoreChoice::Memory, StoreChoice::Cookie] {
            let users = choice.open_user_store().await.unwrap();
            let user = users.create(&identity).await.unwrap();
            assert_eq!(users.find(&identity.key).await.unwrap(), Some(user));
        }
    }

    #[tokio::test]
    async fn memory_and_cookie_open_without_features() {
        assert!(matches!(
            StoreChoice::Memory.open(None).await.unwrap(),
            OpenStore::Memory(_)
        ));
        assert!(matches!(
            StoreChoice::Cookie.open(None).await.unwrap(),
            OpenStore::Cookie(_)
        ));
    }
}
