//! The `redis://` store: its connection pool, and `RedisStore`, sessions and their
//! owners written in one round trip.
//!
//! # Why not tower-sessions-redis-store's store
//!
//! That store (which earlier versions used) sends each of tower-sessions-core's calls on
//! its own: a login's callback then made four round trips to save one session, the old
//! id's `DEL` at the renewal, the new id's `SET`, and the index's pipeline
//! ([`crate::session::index`]) after it. This one keeps its record format (the record in
//! MessagePack under the bare id, expiring with `EXAT`), so sessions saved by either
//! survive a switch, and sends a save as one Lua script, run atomically: the renewed
//! id's `DEL` (see [`super::guard`] on why it may wait for the creation), the `SET`, and
//! the owners' index entries, written only when the `SET` was. One script rather than a
//! pipeline of the same commands also costs the app less: fred's work is per command
//! (about 10,000 instructions each under callgrind), and an OpenID Connect login's save
//! was ten of them.

use std::sync::Arc;

use async_trait::async_trait;
use fred::prelude::*;
use time::OffsetDateTime;
use tower_sessions_core::session::{Id, Record};
use tower_sessions_core::session_store::{self, SessionStore};

use super::STORE_TIMEOUT;
use super::guard::{defer_deletion, take_deferred_deletion};
use super::msgpack::{decode, encode};
use crate::redis_script::Script;
use crate::session::index::keys_of_record;
use crate::session::index::redis::{lua_index, owned};

/// A Redis connection pool that gives up on a command after [`STORE_TIMEOUT`] and
/// reconnects by itself, for ever, when the server comes back.
pub async fn redis_pool(url: &str) -> Result<Pool, Box<dyn std::error::Error + Send + Sync>> {
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

/// Sessions in Redis, each saved with its index entries in one round trip (see the
/// [module docs](self)).
#[derive(Clone)]
pub(crate) struct RedisStore {
    pool: Pool,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore").finish_non_exhaustive()
    }
}

fn backend(e: fred::error::Error) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

/// Saves a session and its owners' index entries, atomically. KEYS: the session's id, the
/// old id to delete when `ARGV[5]` is `1`, then the owner sets. ARGV: the record, its
/// expiry (Unix seconds), `NX` (a new id) or `XX` (a saved one), now, `1` or `0`. 1 when
/// the record was written (nothing else is written otherwise), 0 when not.
static SAVE: Script = Script::new(concat!(
    lua_index!(),
    "local first = 2
     if ARGV[5] == '1' then
       redis.call('DEL', KEYS[2])
       first = 3
     end
     if not redis.call('SET', KEYS[1], ARGV[1], ARGV[3], 'EXAT', ARGV[2]) then return 0 end
     index(first, KEYS[1], ARGV[2], ARGV[4])
     return 1"
));

impl RedisStore {
    /// The store on `pool`.
    pub(crate) fn new(pool: Pool) -> Self {
        Self { pool }
    }

    /// Writes `record` (`mode`: `NX` or `XX`) and its owners' index entries in one round
    /// trip ([`SAVE`]), after deleting `old` (a renewal's id) when given: whether the
    /// record was written.
    async fn write(
        &self,
        record: &Record,
        mode: &'static str,
        old: Option<Id>,
    ) -> session_store::Result<bool> {
        let value = encode(record)?;
        let owners = keys_of_record(record);
        let mut keys: Vec<Value> = Vec::with_capacity(2 + owners.len());
        keys.push(record.id.to_string().into());
        keys.extend(old.map(|old| old.to_string().into()));
        keys.extend(owners.iter().map(|key| owned(key).into()));
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let args = vec![
            Value::Bytes(value.into()),
            record.expiry_date.unix_timestamp().into(),
            mode.into(),
            now.into(),
            if old.is_some() { "1" } else { "0" }.into(),
        ];
        let written: i64 = SAVE.run(&self.pool, keys, args).await.map_err(backend)?;
        Ok(written == 1)
    }
}

#[async_trait]
impl SessionStore for RedisStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let mut old = take_deferred_deletion();
        // `NX`: an id already in use (a 2^-128 chance) is never overwritten.
        while !self.write(record, "NX", old.take()).await? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        // `XX`: a session deleted meanwhile (a logout elsewhere) stays deleted.
        self.write(record, "XX", None).await?;
        Ok(())
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let data: Option<Vec<u8>> = self
            .pool
            .get(session_id.to_string())
            .await
            .map_err(backend)?;
        decode(data)
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        if defer_deletion(*session_id, || Arc::new(self.clone())) {
            return Ok(());
        }
        let _: () = self
            .pool
            .del(session_id.to_string())
            .await
            .map_err(backend)?;
        Ok(())
    }
}
