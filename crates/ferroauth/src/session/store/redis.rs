//! The Redis connection pool under the `redis://` store.

use tower_sessions_redis_store::fred::prelude::*;

use super::STORE_TIMEOUT;

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
