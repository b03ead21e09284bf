//! A session record as the `redis://` and `postgres://` stores keep it: MessagePack, in the
//! format tower-sessions-redis-store and tower-sessions-sqlx-store wrote, so that sessions
//! saved by those stores (earlier versions of ferroauth) still load.

use tower_sessions_core::session::Record;
use tower_sessions_core::session_store;

/// `record` encoded.
pub(super) fn encode(record: &Record) -> session_store::Result<Vec<u8>> {
    rmp_serde::to_vec(record).map_err(|e| session_store::Error::Encode(e.to_string()))
}

/// The record in `bytes`, if any.
pub(super) fn decode(bytes: Option<Vec<u8>>) -> session_store::Result<Option<Record>> {
    bytes
        .map(|bytes| rmp_serde::from_slice(&bytes))
        .transpose()
        .map_err(|e| session_store::Error::Decode(e.to_string()))
}
