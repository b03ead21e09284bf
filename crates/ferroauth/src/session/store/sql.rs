//! The SQL stores: SQLite through tower-sessions-sqlx-store and PostgreSQL through
//! [`super::postgres`], migrated at start, their expired rows swept out every minute, each
//! with its session index ([`SqlIndex`]).

use std::time::Duration;

use tower_sessions_core::session_store::ExpiredDeletion;
#[cfg(feature = "sqlite")]
use tower_sessions_core::{
    session::{Id, Record},
    session_store::{self, SessionStore},
};

use super::STORE_TIMEOUT;
use crate::session::index::SqlIndex;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The SQLite store at `url`, in WAL mode (readers do not wait for the writer; several
/// processes may share the file), its busy calls retried.
#[cfg(feature = "sqlite")]
pub(super) async fn sqlite(
    url: &str,
) -> Result<(RetryBusy<tower_sessions_sqlx_store::SqliteStore>, SqlIndex), BoxError> {
    let pool = sqlite_pool(url).await?;
    let store = tower_sessions_sqlx_store::SqliteStore::new(pool.clone());
    store
        .migrate()
        .await
        .map_err(|e| format!("migration failed: {e}"))?;
    spawn_expiry_sweep(store.clone());
    Ok((RetryBusy(store), SqlIndex::sqlite(pool).await?))
}

/// The PostgreSQL store at `url`, which writes the index's rows itself.
#[cfg(feature = "postgres")]
pub(super) async fn postgres(
    url: &str,
) -> Result<(super::postgres::PostgresStore, SqlIndex), BoxError> {
    let pool = postgres_pool(url).await?;
    // The index's tables first: the store's saves write into them.
    let index = SqlIndex::postgres(pool.clone()).await?;
    let store = super::postgres::PostgresStore::new(pool)
        .await
        .map_err(|e| format!("migration failed: {e}"))?;
    spawn_expiry_sweep(store.clone());
    Ok((store, index))
}

/// A pool on the SQLite database at `url` (the file made if missing), in WAL mode
/// (readers do not wait for the writer; several processes may share the file), a busy
/// writer waited for up to [`STORE_TIMEOUT`].
#[cfg(feature = "sqlite")]
pub(super) async fn sqlite_pool(
    url: &str,
) -> Result<tower_sessions_sqlx_store::sqlx::SqlitePool, BoxError> {
    use std::str::FromStr;
    use tower_sessions_sqlx_store::sqlx::sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions,
    };
    let connect = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(STORE_TIMEOUT);
    Ok(SqlitePoolOptions::new()
        .acquire_timeout(STORE_TIMEOUT)
        .connect_with(connect)
        .await?)
}

/// A pool on the PostgreSQL database at `url`.
#[cfg(feature = "postgres")]
pub(super) async fn postgres_pool(
    url: &str,
) -> Result<tower_sessions_sqlx_store::sqlx::PgPool, BoxError> {
    use tower_sessions_sqlx_store::sqlx::postgres::PgPoolOptions;
    Ok(PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(STORE_TIMEOUT)
        // sqlx pings a pooled connection before every use by default: a round trip more
        // for each statement. A connection that broke while idle instead fails its one
        // statement (503 `session_unavailable`) and is dropped by the pool.
        .test_before_acquire(false)
        .connect(url)
        .await?)
}

/// SQLite answers `SQLITE_BUSY` ("database is locked") at once, without waiting, when a
/// deferred transaction meets another writer (several processes share the file, or a
/// pool's connections write at the same moment). Those calls are retried a few times
/// before the request fails with 503.
#[cfg(feature = "sqlite")]
#[derive(Debug, Clone)]
pub struct RetryBusy<S>(pub S);

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

/// Deletes expired rows every minute, for as long as the runtime runs.
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
