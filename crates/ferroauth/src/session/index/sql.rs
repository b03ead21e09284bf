//! The session index in SQLite or PostgreSQL: [`SqlIndex`].

use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;
use tower_sessions_core::session::Id;
#[cfg(feature = "postgres")]
use tower_sessions_sqlx_store::sqlx::PgPool;
#[cfg(feature = "sqlite")]
use tower_sessions_sqlx_store::sqlx::SqlitePool;

use super::{RevocationList, SessionIndex};
use crate::Error;

/// The statements of one SQL dialect.
struct Dialect {
    create_owners: &'static str,
    create_used: &'static str,
    record: &'static str,
    end: &'static str,
    forget: &'static str,
    use_once: &'static str,
    sweep_owners: &'static str,
    sweep_used: &'static str,
    create_ended: &'static str,
    revoke: &'static str,
    revoked_at: &'static str,
    sweep_ended: &'static str,
}

#[cfg(feature = "sqlite")]
const SQLITE: Dialect = Dialect {
    create_owners: "create table if not exists ferroauth_session_owners (\
        owner text not null, session_id text not null, expires_at integer not null, \
        primary key (owner, session_id))",
    create_used: "create table if not exists ferroauth_used_markers (\
        marker text primary key not null, expires_at integer not null)",
    record: "insert into ferroauth_session_owners (owner, session_id, expires_at) values (?1, ?2, ?3) \
        on conflict (owner, session_id) do update set expires_at = excluded.expires_at",
    end: "delete from tower_sessions where id in (select session_id from ferroauth_session_owners \
        where owner = ?1 and expires_at > ?2)",
    forget: "delete from ferroauth_session_owners where owner = ?1",
    use_once: "insert into ferroauth_used_markers (marker, expires_at) values (?1, ?2) \
        on conflict (marker) do update set expires_at = excluded.expires_at \
        where ferroauth_used_markers.expires_at <= ?3",
    sweep_owners: "delete from ferroauth_session_owners where expires_at <= ?1",
    sweep_used: "delete from ferroauth_used_markers where expires_at <= ?1",
    create_ended: "create table if not exists ferroauth_ended_owners (\
        owner text primary key not null, ended_at integer not null, expires_at integer not null)",
    revoke: "insert into ferroauth_ended_owners (owner, ended_at, expires_at) values (?1, ?2, ?3) \
        on conflict (owner) do update set ended_at = excluded.ended_at, expires_at = excluded.expires_at",
    revoked_at: "select ended_at from ferroauth_ended_owners where owner = ?1 and expires_at > ?2",
    sweep_ended: "delete from ferroauth_ended_owners where expires_at <= ?1",
};

#[cfg(feature = "postgres")]
const POSTGRES: Dialect = Dialect {
    create_owners: "create table if not exists ferroauth_session_owners (\
        owner text not null, session_id text not null, expires_at bigint not null, \
        primary key (owner, session_id))",
    create_used: "create table if not exists ferroauth_used_markers (\
        marker text primary key not null, expires_at bigint not null)",
    record: "insert into ferroauth_session_owners (owner, session_id, expires_at) values ($1, $2, $3) \
        on conflict (owner, session_id) do update set expires_at = excluded.expires_at",
    end: "delete from \"tower_sessions\".\"session\" where id in (select session_id \
        from ferroauth_session_owners where owner = $1 and expires_at > $2)",
    forget: "delete from ferroauth_session_owners where owner = $1",
    use_once: "insert into ferroauth_used_markers (marker, expires_at) values ($1, $2) \
        on conflict (marker) do update set expires_at = excluded.expires_at \
        where ferroauth_used_markers.expires_at <= $3",
    sweep_owners: "delete from ferroauth_session_owners where expires_at <= $1",
    sweep_used: "delete from ferroauth_used_markers where expires_at <= $1",
    create_ended: "create table if not exists ferroauth_ended_owners (\
        owner text primary key not null, ended_at bigint not null, expires_at bigint not null)",
    revoke: "insert into ferroauth_ended_owners (owner, ended_at, expires_at) values ($1, $2, $3) \
        on conflict (owner) do update set ended_at = excluded.ended_at, expires_at = excluded.expires_at",
    revoked_at: "select ended_at from ferroauth_ended_owners where owner = $1 and expires_at > $2",
    sweep_ended: "delete from ferroauth_ended_owners where expires_at <= $1",
};

#[derive(Debug, Clone)]
enum Db {
    #[cfg(feature = "sqlite")]
    Sqlite(SqlitePool),
    #[cfg(feature = "postgres")]
    Postgres(PgPool),
}

/// The session index in the SQL database of the session store, beside
/// tower-sessions-sqlx-store's table.
///
/// Two tables, created at start:
///
/// - `ferroauth_session_owners (owner, session_id, expires_at)`: one row per owner key and
///   session, upserted at each save with the session's expiry (Unix seconds);
/// - `ferroauth_used_markers (marker, expires_at)`: one row per marker used once;
/// - `ferroauth_ended_owners (owner, ended_at, expires_at)`: a revocation list's entries
///   (sealed cookies).
///
/// Ending a key is one statement that deletes the sessions its live rows name from the
/// store's own table (`tower_sessions`, or `"tower_sessions"."session"` in PostgreSQL: the
/// names the stores that [`StoreChoice::open`](crate::session::store::StoreChoice::open)
/// builds use), so no session is read into the app. Expired rows are swept every minute,
/// with the sessions.
#[derive(Debug, Clone)]
pub struct SqlIndex {
    db: Db,
}

/// One statement with its bound values, on either database; its rows affected.
macro_rules! execute {
    ($db:expr, $stmt:ident $(, $value:expr)*) => {
        match $db {
            #[cfg(feature = "sqlite")]
            Db::Sqlite(pool) => tower_sessions_sqlx_store::sqlx::query(SQLITE.$stmt)
                $(.bind($value))*
                .execute(pool)
                .await
                .map(|r| r.rows_affected()),
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => tower_sessions_sqlx_store::sqlx::query(POSTGRES.$stmt)
                $(.bind($value))*
                .execute(pool)
                .await
                .map(|r| r.rows_affected()),
        }
        .map_err(failed)
    };
}

fn failed(e: tower_sessions_sqlx_store::sqlx::Error) -> Error {
    Error::Session(format!("session index (sql): {e}"))
}

impl SqlIndex {
    /// The index in the SQLite database of `pool`: creates its tables.
    #[cfg(feature = "sqlite")]
    pub async fn sqlite(pool: SqlitePool) -> Result<Self, Error> {
        Self::migrate(Db::Sqlite(pool)).await
    }

    /// The index in the PostgreSQL database of `pool`: creates its tables.
    #[cfg(feature = "postgres")]
    pub async fn postgres(pool: PgPool) -> Result<Self, Error> {
        Self::migrate(Db::Postgres(pool)).await
    }

    async fn migrate(db: Db) -> Result<Self, Error> {
        execute!(&db, create_owners)?;
        execute!(&db, create_used)?;
        execute!(&db, create_ended)?;
        let index = Self { db };
        index.spawn_sweep();
        Ok(index)
    }

    /// Deletes the expired rows every minute, for as long as the runtime runs.
    fn spawn_sweep(&self) {
        let db = self.db.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                let now = OffsetDateTime::now_utc().unix_timestamp();
                let swept = async {
                    execute!(&db, sweep_owners, now)?;
                    execute!(&db, sweep_ended, now)?;
                    execute!(&db, sweep_used, now)
                };
                if let Err(e) = swept.await {
                    tracing::warn!(error = %e, "sweeping the session index failed");
                }
            }
        });
    }
}

#[async_trait]
impl SessionIndex for SqlIndex {
    async fn record(&self, keys: &[String], id: Id, expiry: OffsetDateTime) -> Result<(), Error> {
        let id = id.to_string();
        let at = expiry.unix_timestamp();
        for key in keys {
            execute!(&self.db, record, key.as_str(), id.as_str(), at)?;
        }
        Ok(())
    }

    async fn end_sessions(&self, key: &str) -> Result<usize, Error> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let ended = execute!(&self.db, end, key, now)?;
        execute!(&self.db, forget, key)?;
        Ok(usize::try_from(ended).unwrap_or(usize::MAX))
    }

    async fn use_once(&self, marker: &str, until: OffsetDateTime) -> Result<bool, Error> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let stored = execute!(&self.db, use_once, marker, until.unix_timestamp(), now)?;
        Ok(stored == 1)
    }
}

#[async_trait]
impl RevocationList for SqlIndex {
    async fn revoke(&self, key: &str, at: i64, until: OffsetDateTime) -> Result<(), Error> {
        execute!(&self.db, revoke, key, at, until.unix_timestamp())?;
        Ok(())
    }

    async fn revoked_at(&self, key: &str) -> Result<Option<i64>, Error> {
        use tower_sessions_sqlx_store::sqlx::query_scalar;
        let now = OffsetDateTime::now_utc().unix_timestamp();
        match &self.db {
            #[cfg(feature = "sqlite")]
            Db::Sqlite(pool) => {
                query_scalar(SQLITE.revoked_at)
                    .bind(key)
                    .bind(now)
                    .fetch_optional(pool)
                    .await
            }
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => {
                query_scalar(POSTGRES.revoked_at)
                    .bind(key)
                    .bind(now)
                    .fetch_optional(pool)
                    .await
            }
        }
        .map_err(failed)
    }
}
