//! The `postgres://` store: `PostgresStore`, a session and its owners saved in one
//! statement.
//!
//! # Why not tower-sessions-sqlx-store's store
//!
//! That store (which earlier versions used) creates a session in a transaction of four
//! round trips (`BEGIN`, a `SELECT` for the id, the `INSERT`, `COMMIT`), and its calls
//! come one by one: a login's callback saved its session in eight, the renewal's
//! `DELETE` and the index's upserts ([`crate::session::index`]) included. This one keeps
//! its table (`"tower_sessions"."session"`: the id, the record in MessagePack, the
//! expiry), so sessions saved by either survive a switch, and sends each save as one
//! statement whose data-modifying `WITH` parts delete the renewed id (see
//! [`super::guard`] on why it may wait for the creation), write the row, and upsert the
//! owners' index rows for the row written, all or nothing.
//!
//! A save of a session that is no longer there (ended by a logout on another instance
//! while this request ran) writes nothing, as with Redis' `SET ... XX`: an ended session
//! stays ended.

use std::sync::Arc;

use async_trait::async_trait;
use time::OffsetDateTime;
use tower_sessions_core::session::{Id, Record};
use tower_sessions_core::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::sqlx::{self, PgPool};

use super::guard::{defer_deletion, take_deferred_deletion};
use super::msgpack::{decode, encode};
use crate::session::index::keys_of_record;

/// `$1` id, `$2` record, `$3` expiry, `$4` the renewed id (or null), `$5` the owner keys,
/// `$6` the expiry in Unix seconds. One row: 1 when the row was written (an id in use, a
/// 2^-128 chance, writes nothing).
const CREATE: &str = r#"
with gone as (delete from "tower_sessions"."session" where id = $4),
saved as (
  insert into "tower_sessions"."session" (id, data, expiry_date) values ($1, $2, $3)
  on conflict (id) do nothing returning id
),
owned as (
  insert into ferroauth_session_owners (owner, session_id, expires_at)
  select owner, saved.id, $6 from saved, unnest($5::text[]) as owner
  on conflict (owner, session_id) do update set expires_at = excluded.expires_at
)
select count(*) from saved"#;

/// `$1` id, `$2` record, `$3` expiry, `$4` the owner keys, `$5` the expiry in Unix
/// seconds. One row: 1 when the row was there and written.
const SAVE: &str = r#"
with saved as (
  update "tower_sessions"."session" set data = $2, expiry_date = $3 where id = $1 returning id
),
owned as (
  insert into ferroauth_session_owners (owner, session_id, expires_at)
  select owner, saved.id, $5 from saved, unnest($4::text[]) as owner
  on conflict (owner, session_id) do update set expires_at = excluded.expires_at
)
select count(*) from saved"#;

const LOAD: &str =
    r#"select data from "tower_sessions"."session" where id = $1 and expiry_date > $2"#;

const DELETE: &str = r#"delete from "tower_sessions"."session" where id = $1"#;

const DELETE_EXPIRED: &str = r#"delete from "tower_sessions"."session" where expiry_date < $1"#;

/// Sessions in PostgreSQL, each saved with its index rows in one statement (see the
/// [module docs](self)). The index's tables must exist: [`crate::session::index::SqlIndex`]
/// makes them.
#[derive(Debug, Clone)]
pub(crate) struct PostgresStore {
    pool: PgPool,
}

fn backend(e: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

impl PostgresStore {
    /// The store on `pool`: makes its schema and table when missing.
    pub(crate) async fn new(pool: PgPool) -> Result<Self, sqlx::Error> {
        // Two instances starting together may both try to make the schema.
        if let Err(e) = sqlx::query(r#"create schema if not exists "tower_sessions""#)
            .execute(&pool)
            .await
            && !e.to_string().contains("duplicate key value")
        {
            return Err(e);
        }
        sqlx::query(
            r#"create table if not exists "tower_sessions"."session" (
                 id text primary key not null,
                 data bytea not null,
                 expiry_date timestamptz not null)"#,
        )
        .execute(&pool)
        .await?;
        Ok(Self { pool })
    }
}

#[async_trait]
impl SessionStore for PostgresStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let mut old = take_deferred_deletion().map(|id| id.to_string());
        let owners = keys_of_record(record);
        loop {
            let written: i64 = sqlx::query_scalar(CREATE)
                .bind(record.id.to_string())
                .bind(encode(record)?)
                .bind(record.expiry_date)
                .bind(old.take())
                .bind(&owners)
                .bind(record.expiry_date.unix_timestamp())
                .fetch_one(&self.pool)
                .await
                .map_err(backend)?;
            if written == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let _written: i64 = sqlx::query_scalar(SAVE)
            .bind(record.id.to_string())
            .bind(encode(record)?)
            .bind(record.expiry_date)
            .bind(keys_of_record(record))
            .bind(record.expiry_date.unix_timestamp())
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let data: Option<Vec<u8>> = sqlx::query_scalar(LOAD)
            .bind(session_id.to_string())
            .bind(OffsetDateTime::now_utc())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        decode(data)
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        if defer_deletion(*session_id, || Arc::new(self.clone())) {
            return Ok(());
        }
        sqlx::query(DELETE)
            .bind(session_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl ExpiredDeletion for PostgresStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        sqlx::query(DELETE_EXPIRED)
            .bind(OffsetDateTime::now_utc())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
