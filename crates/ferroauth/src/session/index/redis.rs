//! The session index in Redis: [`RedisIndex`].

use async_trait::async_trait;
use fred::prelude::*;
use fred::types::{Expiration, SetOptions};
use time::OffsetDateTime;
use tower_sessions_core::session::Id;

use super::{RevocationList, SessionIndex};
use crate::Error;
use crate::redis_script::Script;

const OWNED: &str = "ferroauth:owned:";
const USED: &str = "ferroauth:used:";
const ENDED: &str = "ferroauth:ended:";

/// The session index on a Redis pool, beside the `redis://` store's sessions.
///
/// Each owner key is a sorted set `ferroauth:owned:<key>` of session ids scored by their
/// expiry (Unix seconds): entries past their score are ignored, trimmed at each record,
/// and the set itself expires with its longest-lived session (`EXPIREAT … NX` then
/// `… GT`, Redis 7). A record is one Lua script, which the `redis://` store runs as part
/// of the session's save. Ending a key reads its live ids and deletes those sessions (the
/// store keeps each under its id) in one `DEL`, so that a user's thousands of sessions end
/// in one round trip. Used markers are `SET ferroauth:used:<marker> NX EXAT`; a revocation
/// list's entries (sealed cookies) `SET ferroauth:ended:<key> <millis> EXAT`.
#[derive(Clone)]
pub struct RedisIndex {
    pool: Pool,
}

impl std::fmt::Debug for RedisIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisIndex").finish_non_exhaustive()
    }
}

impl RedisIndex {
    /// The index on `pool`.
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }
}

fn failed(e: fred::error::Error) -> Error {
    Error::Session(format!("session index (redis): {e}"))
}

/// Lua: `index(first, id, at, now)` records that the session `id`, live until `at` (Unix
/// seconds), is owned by each of `KEYS[first..]` (the owner sets), and trims their
/// entries past `now`. Shared by [`RECORD`] and the store's save script, so that the
/// index is written one way.
macro_rules! lua_index {
    () => {
        "local function index(first, id, at, now)
           for i = first, #KEYS do
             redis.call('ZADD', KEYS[i], at, id)
             redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
             redis.call('EXPIREAT', KEYS[i], at, 'NX')
             redis.call('EXPIREAT', KEYS[i], at, 'GT')
           end
         end
        "
    };
}
pub(crate) use lua_index;

/// KEYS: the owner sets. ARGV: the session id, its expiry, now.
static RECORD: Script = Script::new(concat!(lua_index!(), "index(1, ARGV[1], ARGV[2], ARGV[3])"));

/// The owner set of `key`.
pub(crate) fn owned(key: &str) -> String {
    format!("{OWNED}{key}")
}

#[async_trait]
impl SessionIndex for RedisIndex {
    async fn record(&self, keys: &[String], id: Id, expiry: OffsetDateTime) -> Result<(), Error> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let sets = keys.iter().map(|k| owned(k).into()).collect();
        let args = vec![
            id.to_string().into(),
            expiry.unix_timestamp().into(),
            now.into(),
        ];
        RECORD
            .run::<()>(&self.pool, sets, args)
            .await
            .map_err(failed)
    }

    async fn end_sessions(&self, key: &str) -> Result<usize, Error> {
        let key = owned(key);
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let ids: Vec<String> = self
            .pool
            .zrangebyscore(&key, now as f64, f64::INFINITY, false, None)
            .await
            .map_err(failed)?;
        let mut doomed = ids;
        let live = doomed.len();
        doomed.push(key);
        let deleted: i64 = self.pool.del(doomed).await.map_err(failed)?;
        // The set itself was one of the deleted keys; a session already gone is not counted.
        Ok(usize::try_from(deleted.saturating_sub(1))
            .unwrap_or(0)
            .min(live))
    }

    async fn use_once(&self, marker: &str, until: OffsetDateTime) -> Result<bool, Error> {
        let set: Option<String> = self
            .pool
            .set(
                format!("{USED}{marker}"),
                "1",
                Some(Expiration::EXAT(until.unix_timestamp())),
                Some(SetOptions::NX),
                false,
            )
            .await
            .map_err(failed)?;
        Ok(set.is_some())
    }
}

#[async_trait]
impl RevocationList for RedisIndex {
    async fn revoke(&self, key: &str, at: i64, until: OffsetDateTime) -> Result<(), Error> {
        let expire = Some(Expiration::EXAT(until.unix_timestamp()));
        let _: () = self
            .pool
            .set(format!("{ENDED}{key}"), at, expire, None, false)
            .await
            .map_err(failed)?;
        Ok(())
    }

    async fn revoked_at(&self, key: &str) -> Result<Option<i64>, Error> {
        self.pool.get(format!("{ENDED}{key}")).await.map_err(failed)
    }
}
