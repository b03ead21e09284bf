//! Lua scripts on Redis: what the Redis stores (sessions, their index, users) run for each
//! step that must be atomic, or one round trip.
//!
//! Each call sends the script whole (`EVAL`); Redis keeps the compiled script by its
//! digest. Sending the digest instead (`EVALSHA`, with the text again on `NOSCRIPT`) was
//! measured: it saved nothing of the app's instructions per login (400,571 against
//! 399,025 for an OAuth 1.0a login on Redis under callgrind), so the simpler call stays.

use fred::prelude::*;
use fred::types::{ClusterHash, CustomCommand, FromValue};

/// A Lua script.
pub(crate) struct Script(&'static str);

impl Script {
    /// The script `text`.
    pub(crate) const fn new(text: &'static str) -> Self {
        Self(text)
    }

    /// Runs the script on `keys` with `args` (one round trip): its answer.
    pub(crate) async fn run<R: FromValue>(
        &self,
        pool: &Pool,
        keys: Vec<Value>,
        args: Vec<Value>,
    ) -> Result<R, fred::error::Error> {
        let mut all: Vec<Value> = Vec::with_capacity(2 + keys.len() + args.len());
        all.push(self.0.into());
        all.push(keys.len().try_into()?);
        all.extend(keys);
        all.extend(args);
        // Offset 2: the first key, after the script and the number of keys.
        let command = CustomCommand::new_static("EVAL", ClusterHash::Offset(2), false);
        pool.custom(command, all).await
    }
}
