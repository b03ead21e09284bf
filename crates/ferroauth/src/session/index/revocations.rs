//! Ending sessions the server does not keep: a revocation list for sealed cookies.
//!
//! A sealed-cookie session lives in the browser, so no store can delete it. Instead, when
//! a provider's logout token (or "sign out everywhere") names an owner, the owner's key is
//! written to a shared list with the time it ended; each request's session is checked
//! against the list ([`SealedCookies::end_if_revoked`](crate::session::sealed::SealedCookies::end_if_revoked)),
//! and a login made before its owner ended is cleared. An entry lives as long as a sealed
//! cookie can ([`Revocations::new`]'s lifetime): a cookie sealed before the revocation
//! cannot outlive it unused, and a used one is cleared at its first request.
//!
//! The list is kept where the sessions of several instances meet: Redis or SQL (the same
//! servers as the session stores, [`RedisIndex`](super::RedisIndex) and
//! [`SqlIndex`](super::SqlIndex)), or memory for one instance. Without a list, sealed
//! cookies cannot end sessions by owner and say so (501 `session_index_unavailable`).
//!
//! The check costs a read of the list per request of a logged-in session (one per
//! login): the price of ending sessions that live in the browser. A list that fails
//! fails the request (503), rather than letting an ended session through.

use std::sync::Arc;

use async_trait::async_trait;
use time::OffsetDateTime;
use tower_sessions_core::session::Id;

use super::{IndexedLogin, SessionIndex};
use crate::Error;

/// Owners' ends, by owner key, in a store the app's instances share; its markers used
/// once are the [`SessionIndex`]'s.
#[async_trait]
pub trait RevocationList: SessionIndex {
    /// Records that every login of `key` made before `at_millis` (Unix milliseconds) has
    /// ended; kept until `until`.
    async fn revoke(&self, key: &str, at_millis: i64, until: OffsetDateTime) -> Result<(), Error>;

    /// When the logins of `key` last ended, in Unix milliseconds, if they did.
    async fn revoked_at(&self, key: &str) -> Result<Option<i64>, Error>;
}

/// A revocation list, and how long its entries must last: the sealed cookies' lifetime.
/// As a [`SessionIndex`] it ends sessions by revoking their owner (and cannot count them:
/// it answers 0).
#[derive(Debug, Clone)]
pub struct Revocations {
    list: Arc<dyn RevocationList>,
    lifetime: time::Duration,
}

impl Revocations {
    /// `list`, its entries kept for `lifetime` (at least the sealed cookies' lifetime).
    pub fn new(list: Arc<dyn RevocationList>, lifetime: time::Duration) -> Self {
        Self { list, lifetime }
    }

    /// Whether `login` ended after it was made: one of its owners was revoked since.
    pub async fn ended(&self, login: &IndexedLogin) -> Result<bool, Error> {
        for key in login.keys() {
            if let Some(at) = self.list.revoked_at(key).await? {
                // Same millisecond: ended (a login must not outlive a revocation it met).
                if at >= i64::try_from(login.at).unwrap_or(i64::MAX) {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }
}

#[async_trait]
impl SessionIndex for Revocations {
    /// Nothing to record: the session carries its owners.
    async fn record(&self, _: &[String], _: Id, _: OffsetDateTime) -> Result<(), Error> {
        Ok(())
    }

    async fn end_sessions(&self, key: &str) -> Result<usize, Error> {
        let now = OffsetDateTime::now_utc();
        let at = i64::try_from(super::now_millis()).unwrap_or(i64::MAX);
        self.list.revoke(key, at, now + self.lifetime).await?;
        Ok(0)
    }

    async fn use_once(&self, marker: &str, until: OffsetDateTime) -> Result<bool, Error> {
        self.list.use_once(marker, until).await
    }
}
