//! actix-session's Redis store, set up for logins: [`connect`].
//!
//! actix-session's `RedisSessionStore::new` sits on a redis-rs connection manager, which,
//! once Redis has gone away, backs off between reconnection attempts for longer and
//! longer: in a test that stops and restarts redis-server, logins came back only after
//! about 100 seconds. Over a deadpool pool instead, each request takes a connection that
//! is checked (and replaced) on the way out of the pool, waits at most
//! [`STORE_TIMEOUT`] for one, and logins work again as soon
//! as Redis answers.

use actix_session::storage::RedisSessionStore;
use deadpool_redis::{Config, PoolConfig, Runtime, Timeouts};

use crate::sessions::STORE_TIMEOUT;

/// Connections kept per instance: enough for the requests a worker has in flight.
const POOL_SIZE: usize = 32;

/// actix-session's Redis store at `url` (`redis://HOST:PORT[/DB]`, `rediss://` for TLS
/// when redis-rs is built with it), over a pool of up to 32 connections. Connects once
/// first, so that a wrong URL or a Redis that is down fails at start.
pub async fn connect(url: &str) -> Result<RedisSessionStore, anyhow::Error> {
    let mut config = Config::from_url(url);
    config.pool = Some(PoolConfig {
        max_size: POOL_SIZE,
        timeouts: Timeouts {
            wait: Some(STORE_TIMEOUT),
            create: Some(STORE_TIMEOUT),
            recycle: Some(STORE_TIMEOUT),
        },
        ..PoolConfig::default()
    });
    let pool = config.create_pool(Some(Runtime::Tokio1))?;
    drop(pool.get().await?);
    RedisSessionStore::new_pooled(pool).await
}
