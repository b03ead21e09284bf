//! Session stores by URL, for apps that let their settings choose:
//!
//! | value | store | instances | feature |
//! |---|---|---|---|
//! | `memory` | [`crate::memory_store::PurgingMemoryStore`], expired sessions swept out | one | |
//! | `sqlite://FILE` | SQLite through tower-sessions-sqlx-store (WAL, busy writes retried) | several on one host | `sqlite` |
//! | `postgres://...` | PostgreSQL through tower-sessions-sqlx-store | many | `postgres` |
//! | `redis://HOST:PORT` | Redis through tower-sessions-redis-store (fred; 2 s command timeout, reconnects by itself) | many | `redis` |
//! | `cookie` | no server-side state: sealed (AES-256-GCM) cookies | many, with the same keys | |
//!
//! Every instance behind a load balancer must use the same store (and, with cookies, the
//! same keys): a login starts on one instance and may finish on another. A store that fails
//! answers 503 `session_unavailable` ([`crate::store_guard`]).

use std::str::FromStr;
use std::time::Duration;

use axum::Router;
use ferroauth::session::sealed::CookieKeys;
#[cfg(feature = "sqlite")]
use tower_sessions::session::{Id, Record};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use tower_sessions::session_store::ExpiredDeletion;
#[cfg(feature = "sqlite")]
use tower_sessions::session_store::{self, SessionStore};

use crate::memory_store::PurgingMemoryStore;
use crate::sessions::SessionConfig;

/// How long a store call may take before the request fails with 503.
pub const STORE_TIMEOUT: Duration = Duration::from_secs(2);

/// Which session store the demo uses.
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
}

impl FromStr for StoreChoice {
    type Err = String;

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
                return Err(format!(
                    "unknown session store {s:?}: use memory, cookie, sqlite://FILE, postgres://... or redis://HOST:PORT"
                ));
            }
        })
    }
}

impl SessionConfig {
    /// `router` with sessions in the store `choice` names: connects (and migrates a
    /// database) first, so that a wrong URL fails at start with a clear error. The cookie
    /// store uses `cookie_keys`; without them, a random key (logged at warn), so cookies
    /// then die with the process.
    pub async fn apply_store<St>(
        &self,
        router: Router<St>,
        choice: &StoreChoice,
        cookie_keys: Option<CookieKeys>,
    ) -> Result<Router<St>, StoreError>
    where
        St: Clone + Send + Sync + 'static,
    {
        #[cfg(any(feature = "sqlite", feature = "postgres", feature = "redis"))]
        let fail = |e: &dyn std::fmt::Display| {
            StoreError(format!("session store {}: {e}", choice.describe()))
        };
        Ok(match choice {
            StoreChoice::Memory => self.apply(router, PurgingMemoryStore::new()),
            #[cfg(feature = "sqlite")]
            StoreChoice::Sqlite(url) => {
                use tower_sessions_sqlx_store::sqlx::sqlite::{
                    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions,
                };
                let connect = SqliteConnectOptions::from_str(url)
                    .map_err(|e| fail(&e))?
                    .create_if_missing(true)
                    // WAL: readers do not wait for the writer; several processes may share
                    // the file.
                    .journal_mode(SqliteJournalMode::Wal)
                    .busy_timeout(STORE_TIMEOUT);
                let pool = SqlitePoolOptions::new()
                    .acquire_timeout(STORE_TIMEOUT)
                    .connect_with(connect)
                    .await
                    .map_err(|e| fail(&e))?;
                let store = tower_sessions_sqlx_store::SqliteStore::new(pool);
                store
                    .migrate()
                    .await
                    .map_err(|e| fail(&format!("migration failed: {e}")))?;
                spawn_expiry_sweep(store.clone());
                self.apply(router, RetryBusy(store))
            }
            #[cfg(feature = "postgres")]
            StoreChoice::Postgres(url) => {
                use tower_sessions_sqlx_store::sqlx::postgres::PgPoolOptions;
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(STORE_TIMEOUT)
                    .connect(url)
                    .await
                    .map_err(|e| fail(&e))?;
                let store = tower_sessions_sqlx_store::PostgresStore::new(pool);
                store
                    .migrate()
                    .await
                    .map_err(|e| fail(&format!("migration failed: {e}")))?;
                spawn_expiry_sweep(store.clone());
                self.apply(router, store)
            }
            #[cfg(feature = "redis")]
            StoreChoice::Redis(url) => {
                let pool = redis_pool(url).await.map_err(|e| fail(&e))?;
                // Redis expires the keys itself (EXAT); no sweep needed.
                self.apply(router, tower_sessions_redis_store::RedisStore::new(pool))
            }
            StoreChoice::Cookie => {
                let keys = match cookie_keys {
                    Some(keys) => keys,
                    None => {
                        tracing::warn!(
                            "sealed-cookie sessions without keys: using a random key; cookies will not survive a restart or reach another instance"
                        );
                        let key =
                            CookieKeys::generate("k1").map_err(|e| StoreError(e.to_string()))?;
                        CookieKeys::parse(&key).map_err(|e| StoreError(e.to_string()))?
                    }
                };
                self.apply_sealed(router, keys)
            }
            #[allow(unreachable_patterns)]
            other => {
                return Err(StoreError(format!(
                    "session store {}: ferroauth-axum was built without its feature",
                    other.describe()
                )));
            }
        })
    }
}

/// A session store that could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(String);

/// A Redis connection pool that gives up on a command after [`STORE_TIMEOUT`] and
/// reconnects by itself, for ever, when the server comes back.
#[cfg(feature = "redis")]
pub async fn redis_pool(
    url: &str,
) -> Result<tower_sessions_redis_store::fred::prelude::Pool, Box<dyn std::error::Error + Send + Sync>>
{
    use tower_sessions_redis_store::fred::prelude::*;
    let config = Config::from_url(url)?;
    let pool = Builder::from_config(config)
        .with_performance_config(|p| {
            p.default_command_timeout = STORE_TIMEOUT;
        })
        .with_connection_config(|c| {
            c.connection_timeout = STORE_TIMEOUT;
            c.internal_command_timeout = STORE_TIMEOUT;
            c.max_command_attempts = 2;
        })
        // 0 attempts = no limit; retry every 250 ms.
        .set_policy(ReconnectPolicy::new_constant(0, 250))
        .build_pool(4)?;
    pool.init().await?;
    Ok(pool)
}

/// SQLite answers `SQLITE_BUSY` ("database is locked") at once, without waiting, when a
/// deferred transaction meets another writer (several processes share the file, or a
/// pool's connections write at the same moment). Those calls are retried a few times
/// before the request fails with 503.
#[cfg(feature = "sqlite")]
#[derive(Debug, Clone)]
struct RetryBusy<S>(S);

#[cfg(feature = "sqlite")]
const BUSY_RETRIES: u32 = 8;

#[cfg(feature = "sqlite")]
fn is_busy(e: &session_store::Error) -> bool {
    matches!(e, session_store::Error::Backend(m) if m.contains("database is locked") || m.contains("(code: 5)"))
}

#[cfg(feature = "sqlite")]
macro_rules! retry_busy {
    ($call:expr) => {{
        let mut attempt = 0;
        loop {
            match $call {
                Err(e) if is_busy(&e) && attempt < BUSY_RETRIES => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(5 * u64::from(attempt))).await;
                }
                other => break other,
            }
        }
    }};
}

#[cfg(feature = "sqlite")]
#[async_trait::async_trait]
impl<S: SessionStore> SessionStore for RetryBusy<S> {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        retry_busy!(self.0.create(record).await)
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        retry_busy!(self.0.save(record).await)
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        retry_busy!(self.0.load(session_id).await)
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        retry_busy!(self.0.delete(session_id).await)
    }
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn spawn_expiry_sweep<S: ExpiredDeletion + Clone + 'static>(store: S) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            if let Err(e) = store.delete_expired().await {
                tracing::warn!(error = %e, "deleting expired sessions failed");
            }
        }
    });
}
