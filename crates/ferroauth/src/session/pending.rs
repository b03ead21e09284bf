//! Pending logins: what the callback needs, kept in the session between the redirect to the
//! provider and the callback.
//!
//! Each record is keyed by the value that comes back on the callback: the OAuth 2.0
//! `state`, or the OAuth 1.0a request token. The rules:
//!
//! - **Single use.** Taking a record removes it and leaves a tombstone (a hash of the key,
//!   never the key), so a replayed callback is told apart from a forged one.
//! - **Expiry.** A record older than the TTL is refused as expired; records and tombstones
//!   are purged some time after that, so a session does not carry them for ever.
//! - **Bounded.** A session keeps at most `max_pending` records (the newest), so a flood of
//!   `/login` requests or abandoned tabs cannot grow it without end; several tabs can still
//!   log in at once.
//!
//! [`crate::session::SessionPending`] keeps them in any [`crate::session::Session`]; other
//! places implement [`PendingStore`].
//!
//! What single use does not cover: `take` is a load, a change and a save, not one atomic
//! operation on the store, so two copies of the same callback arriving at the same moment
//! *in the same browser session* can both pass the state check. The provider's single-use
//! authorization code (RFC 6749 §4.1.2) is then the second line: only one code exchange
//! succeeds, and the other fails as `invalid_grant`. An attacker would need the victim's
//! session cookie to try it, which is a larger compromise than this check guards against.

use std::future::Future;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{Error, Secret};

/// Longest key accepted from a callback; anything longer is junk and refused before any
/// lookup.
pub const MAX_KEY_LEN: usize = 512;

/// One started login.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct PendingLogin {
    /// The callback key: `state` (OAuth 2.0) or the request token (OAuth 1.0a).
    pub key: Secret,
    /// The registered client's name.
    pub client: String,
    /// The redirect URI sent to the provider; the token request must repeat it.
    pub redirect_uri: String,
    /// The PKCE code verifier, when PKCE is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_verifier: Option<Secret>,
    /// The OpenID Connect nonce, when the scope has `openid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<Secret>,
    /// Whether the scope asked for `openid`: the token response must then carry an ID
    /// token, whether or not a nonce was sent.
    #[serde(default)]
    pub openid: bool,
    /// The issuer the authorization response must name (RFC 9207).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Whether the response must carry `iss` (the metadata said so).
    #[serde(default)]
    pub require_iss: bool,
    /// OAuth 1.0a: the temporary credentials' secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_secret: Option<Secret>,
    /// When the login started, Unix seconds.
    pub created_at: u64,
    /// Where the app sends the user once the login completes (a path of the app), if the
    /// app said so when it started the login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_to: Option<String>,
    /// The `max_age` the authorization request carried: the ID token's `auth_time` must
    /// then be at most this old (OpenID Connect Core §3.1.2.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u64>,
    /// The `acr` values the request marked essential (through the `claims` parameter):
    /// the ID token's `acr` must be one of them. Empty when none was essential; a single
    /// empty string when any `acr` will do as long as there is one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub essential_acr: Vec<String>,
}

impl std::fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLogin")
            .field("client", &self.client)
            .field("redirect_uri", &self.redirect_uri)
            .field("issuer", &self.issuer)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// A consumed key, remembered by hash so that replays get their own error.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Tombstone {
    digest: String,
    at: u64,
}

/// How long records live and how many a session keeps.
#[derive(Debug, Clone, Copy)]
pub struct PendingPolicy {
    /// How long a started login stays valid.
    pub ttl: Duration,
    /// How many pending logins one session keeps.
    pub max_pending: usize,
}

impl Default for PendingPolicy {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(600),
            max_pending: 10,
        }
    }
}

impl PendingPolicy {
    /// Expired records are kept this long past their expiry (so that "expired" can be told
    /// apart from "unknown"), then purged.
    fn retention(&self) -> u64 {
        self.ttl.as_secs().saturating_mul(2)
    }
}

/// The pending logins of one session.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PendingLogins {
    #[serde(default)]
    records: Vec<PendingLogin>,
    #[serde(default)]
    used: Vec<Tombstone>,
}

impl PendingLogins {
    /// Number of records held (including expired ones not yet purged).
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether there is nothing to keep: no record and no tombstone. A store may then
    /// delete the entry from the session.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty() && self.used.is_empty()
    }

    /// Adds a record, purging stale ones and keeping only the newest `max_pending`.
    pub fn insert(&mut self, record: PendingLogin, now: u64, policy: &PendingPolicy) {
        self.purge(now, policy);
        self.records.push(record);
        let excess = self.records.len().saturating_sub(policy.max_pending.max(1));
        self.records.drain(..excess);
    }

    /// Drops the oldest record (or, when there is none, the oldest tombstone), to make
    /// room in a size-capped store such as a cookie. Returns whether anything was dropped.
    pub fn drop_oldest(&mut self) -> bool {
        if !self.records.is_empty() {
            self.records.remove(0);
            true
        } else if !self.used.is_empty() {
            self.used.remove(0);
            true
        } else {
            false
        }
    }

    /// The record for `key`, left in place: which client a callback is for (a fediverse
    /// instance's). Whether the key may be used is for [`take`](Self::take) to say.
    pub fn peek(&self, key: &str) -> Option<&PendingLogin> {
        if key.is_empty() || key.len() > MAX_KEY_LEN {
            return None;
        }
        self.records
            .iter()
            .find(|r| constant_time_eq(r.key.expose(), key))
    }

    /// Takes the record for `key`, once.
    ///
    /// Errors: [`Error::UnknownState`] when no record matches, [`Error::StateReused`] when
    /// the key was already used, [`Error::StateExpired`] when the record is too old (it is
    /// consumed all the same).
    pub fn take(
        &mut self,
        key: &str,
        now: u64,
        policy: &PendingPolicy,
    ) -> Result<PendingLogin, Error> {
        if key.is_empty() || key.len() > MAX_KEY_LEN {
            return Err(Error::UnknownState);
        }
        self.purge(now, policy);
        let digest = key_digest(key);
        let Some(index) = self
            .records
            .iter()
            .position(|r| constant_time_eq(r.key.expose(), key))
        else {
            return Err(if self.used.iter().any(|t| t.digest == digest) {
                Error::StateReused
            } else {
                Error::UnknownState
            });
        };
        let record = self.records.remove(index);
        self.used.push(Tombstone { digest, at: now });
        let excess = self
            .used
            .len()
            .saturating_sub(policy.max_pending.max(1) * 2);
        self.used.drain(..excess);
        if now >= record.created_at.saturating_add(policy.ttl.as_secs()) {
            return Err(Error::StateExpired);
        }
        Ok(record)
    }

    fn purge(&mut self, now: u64, policy: &PendingPolicy) {
        let keep_until = |t: u64| {
            t.saturating_add(policy.ttl.as_secs())
                .saturating_add(policy.retention())
                > now
        };
        self.records.retain(|r| keep_until(r.created_at));
        self.used.retain(|t| keep_until(t.at));
    }
}

fn key_digest(key: &str) -> String {
    use base64::Engine;
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, key.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&hash.as_ref()[..16])
}

/// Compares without an early exit on the first differing byte, so that response timing
/// does not reveal how much of a guessed key was right.
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

/// Where a web integration keeps one session's [`PendingLogins`].
///
/// `load` of a session that has none returns an empty set. Errors should be
/// [`Error::Session`], which web integrations answer with 503.
pub trait PendingStore: Send + Sync {
    /// Reads the pending logins of this session.
    fn load(&self) -> impl Future<Output = Result<PendingLogins, Error>> + Send;

    /// Replaces the pending logins of this session.
    fn save(&self, logins: PendingLogins) -> impl Future<Output = Result<(), Error>> + Send;

    /// Whether the request brought an existing session (its cookie arrived and, for a
    /// server-side store, the store knew it). Asked after [`load`](Self::load) on a
    /// callback: a callback without a session fails as [`Error::SessionMissing`], which
    /// names the usual cause (a `SameSite=Strict` or blocked cookie) instead of the
    /// misleading [`Error::UnknownState`]. Stores that cannot tell answer `true`.
    fn session_present(&self) -> bool {
        true
    }

    /// Called once a login has completed, before the app stores anything of the user: a
    /// login is a privilege change, so the session must get a new identifier (session
    /// fixation, OWASP ASVS 3.2.1). Server-side sessions cycle their id; sealed cookies are
    /// sealed again. Stores without an identifier do nothing.
    fn renew(&self) -> impl Future<Output = Result<(), Error>> + Send;
}

/// Logs, once per process, that callbacks arrive without a session: the cause is almost
/// always configuration (a `SameSite=Strict` or misplaced cookie), which one line explains.
pub(crate) fn warn_session_missing_once() {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        tracing::warn!(
            code = "session_missing",
            "an OAuth callback arrived without the browser's session cookie: check that the \
             session cookie is SameSite=Lax (not Strict), has Path=/, and is not Secure on a \
             plain-http site; logged once"
        );
    }
}

/// A [`PendingStore`] for one session held in memory: for tests, benchmarks and
/// non-web programs.
#[derive(Debug, Default)]
pub struct MemoryPendingStore {
    logins: std::sync::Mutex<PendingLogins>,
}

impl MemoryPendingStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of what it holds.
    pub fn snapshot(&self) -> PendingLogins {
        self.logins
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl PendingStore for MemoryPendingStore {
    async fn load(&self) -> Result<PendingLogins, Error> {
        Ok(self.snapshot())
    }

    async fn save(&self, logins: PendingLogins) -> Result<(), Error> {
        *self.logins.lock().unwrap_or_else(|e| e.into_inner()) = logins;
        Ok(())
    }

    /// One in-memory session has no identifier to renew.
    async fn renew(&self) -> Result<(), Error> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: &str, created_at: u64) -> PendingLogin {
        PendingLogin {
            key: Secret::new(key),
            client: "dev".into(),
            redirect_uri: "http://127.0.0.1/cb".into(),
            code_verifier: None,
            nonce: None,
            openid: false,
            issuer: None,
            require_iss: false,
            token_secret: None,
            created_at,
            return_to: None,
            max_age: None,
            essential_acr: Vec::new(),
        }
    }

    fn policy() -> PendingPolicy {
        PendingPolicy {
            ttl: Duration::from_secs(600),
            max_pending: 3,
        }
    }

    #[test]
    fn several_logins_pending_at_once() {
        let mut p = PendingLogins::default();
        p.insert(record("a", 100), 100, &policy());
        p.insert(record("b", 101), 101, &policy());
        assert_eq!(p.take("b", 102, &policy()).unwrap().key.expose(), "b");
        assert_eq!(p.take("a", 103, &policy()).unwrap().key.expose(), "a");
    }

    #[test]
    fn a_record_is_single_use() {
        let mut p = PendingLogins::default();
        p.insert(record("a", 100), 100, &policy());
        p.take("a", 101, &policy()).unwrap();
        assert!(matches!(
            p.take("a", 102, &policy()),
            Err(Error::StateReused)
        ));
    }

    #[test]
    fn unknown_missing_expired_and_reused_are_distinct() {
        let mut p = PendingLogins::default();
        p.insert(record("a", 100), 100, &policy());
        assert!(matches!(
            p.take("zzz", 101, &policy()),
            Err(Error::UnknownState)
        ));
        assert!(matches!(
            p.take("", 101, &policy()),
            Err(Error::UnknownState)
        ));
        assert!(matches!(
            p.take("a", 700, &policy()),
            Err(Error::StateExpired)
        ));
        assert!(matches!(
            p.take("a", 701, &policy()),
            Err(Error::StateReused)
        ));
    }

    #[test]
    fn expiry_boundary() {
        let mut p = PendingLogins::default();
        p.insert(record("a", 100), 100, &policy());
        p.insert(record("b", 100), 100, &policy());
        assert!(p.take("a", 699, &policy()).is_ok());
        assert!(matches!(
            p.take("b", 700, &policy()),
            Err(Error::StateExpired)
        ));
    }

    #[test]
    fn the_newest_are_kept() {
        let mut p = PendingLogins::default();
        for (i, k) in ["a", "b", "c", "d", "e"].iter().enumerate() {
            p.insert(record(k, 100 + i as u64), 100 + i as u64, &policy());
        }
        assert_eq!(p.len(), 3);
        assert!(matches!(
            p.take("a", 110, &policy()),
            Err(Error::UnknownState)
        ));
        assert!(p.take("e", 110, &policy()).is_ok());
    }

    #[test]
    fn stale_records_and_tombstones_are_purged() {
        let mut p = PendingLogins::default();
        p.insert(record("a", 100), 100, &policy());
        p.insert(record("b", 100), 100, &policy());
        p.take("a", 101, &policy()).unwrap();
        p.insert(record("c", 10_000), 10_000, &policy());
        assert_eq!(p.len(), 1);
        assert!(p.used.is_empty());
        assert!(matches!(
            p.take("b", 10_001, &policy()),
            Err(Error::UnknownState)
        ));
    }

    #[test]
    fn drop_oldest_goes_records_first() {
        let mut p = PendingLogins::default();
        p.insert(record("a", 100), 100, &policy());
        p.insert(record("b", 100), 100, &policy());
        p.take("b", 101, &policy()).unwrap();
        assert!(p.drop_oldest());
        assert_eq!(p.len(), 0);
        assert!(!p.is_empty());
        assert!(p.drop_oldest());
        assert!(p.is_empty());
        assert!(!p.drop_oldest());
    }

    #[test]
    fn overlong_keys_are_refused_without_lookup() {
        let mut p = PendingLogins::default();
        let long = "x".repeat(MAX_KEY_LEN + 1);
        assert!(matches!(
            p.take(&long, 1, &policy()),
            Err(Error::UnknownState)
        ));
    }

    #[test]
    fn tombstones_hold_no_key() {
        let mut p = PendingLogins::default();
        p.insert(record("very-secret-state", 100), 100, &policy());
        p.take("very-secret-state", 101, &policy()).unwrap();
        let json = serde_json::to_string(&p).unwrap();
        assert!(!json.contains("very-secret-state"));
    }

    #[tokio::test]
    async fn memory_store_round_trip() {
        let store = MemoryPendingStore::new();
        let mut p = store.load().await.unwrap();
        p.insert(record("a", 1), 1, &policy());
        store.save(p).await.unwrap();
        assert_eq!(store.load().await.unwrap().len(), 1);
    }
}
