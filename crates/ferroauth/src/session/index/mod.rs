//! Sessions found by whom they belong to: what OpenID Connect Back-Channel Logout 1.0 and
//! "sign out everywhere" need.
//!
//! A provider's logout token names a session at the provider (`iss`, `sid`) or a user
//! (`iss`, `sub`); "sign out everywhere" names the current user at each provider. Neither
//! knows the app's session ids, so a server-side store keeps an index from such an
//! **owner** to the ids of the sessions it owns, with their expiry:
//!
//! 1. At a login, [`crate::session::save_login`] writes the session entry
//!    [`INDEX_KEY`]: the owner keys of each logged-in client ([`IndexedLogins`]).
//! 2. When the store saves the session, it records the session's id under each key. The
//!    store does it, not the request, because only the store knows the final id: web
//!    frameworks assign it (and renew it after a login) as the session is saved, after the
//!    handler has answered. [`MemoryStore`](super::memory::MemoryStore) records in the
//!    same lock as the session, and unlinks a session's keys when the session goes; a
//!    database or Redis is wrapped in an [`IndexedStore`].
//! 3. [`SessionIndex::end_sessions`] deletes every session recorded under a key, on
//!    whichever instance it was created: the index lives in the shared store.
//!
//! An owner key is the kind, the issuer's length, the issuer and the value
//! (`sub:27:https://accounts.google.com:1234`): the length prefix keeps two owners from
//! sharing a key whatever their texts hold. A key longer than [`MAX_PLAIN_KEY`] bytes (a
//! provider's long `sid`) is a SHA-256 digest instead, so that keys stay short in Redis and
//! SQL. The keys name users as the sessions beside them do; they are built on every login,
//! so they cost no hashing in the common case. An OAuth 2.0 or 1.0a login, which has no
//! issuer, is owned by its client's name and the profile's id, for "sign out everywhere".
//!
//! An entry outlives nothing: each records its session's expiry, and is ignored (and
//! removed, when the store can) once that has passed. An id whose session was deleted
//! (a logout, a renewal) is harmless: ending it deletes nothing.
//!
//! The sealed-cookie store has no sessions to index: it cannot end a session on the
//! server, and [`OpenStore::index`](super::store::OpenStore::index) says so (`None`), so
//! that the back-channel route answers 501 instead of claiming a logout it did not do,
//! unless the app gives it a revocation list ([`Revocations`]), checked at each request.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_lc_rs::digest;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tower_sessions_core::session::{Id, Record};
use tower_sessions_core::session_store::{self, SessionStore};

use crate::{Claims, Error};

#[cfg(feature = "redis")]
pub(crate) mod redis;
mod revocations;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;

#[cfg(feature = "redis")]
pub use redis::RedisIndex;
pub use revocations::{RevocationList, Revocations};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use sql::SqlIndex;

/// The session entry of the logged-in clients' owner keys.
pub const INDEX_KEY: &str = "ferroauth.index";

/// What an owner key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner<'a> {
    /// A session at the provider: its issuer and `sid`.
    ProviderSession {
        /// The provider's issuer.
        issuer: &'a str,
        /// The provider's session id.
        sid: &'a str,
    },
    /// A user at the provider: its issuer (or, without one, `client:<name>`) and `sub`.
    User {
        /// The provider's issuer.
        issuer: &'a str,
        /// The user's subject.
        sub: &'a str,
    },
}

impl Owner<'_> {
    /// The key the index keeps this owner under: a digest of the kind, the issuer and the
    /// value, each length-prefixed so that no two owners share a key.
    pub fn key(&self) -> String {
        match self {
            Owner::ProviderSession { issuer, sid } => digest_key(["sid", issuer, sid]),
            Owner::User { issuer, sub } => digest_key(["sub", issuer, sub]),
        }
    }
}

/// The marker of a logout token's single use: its issuer and `jti`.
pub fn used_marker(issuer: &str, jti: &str) -> String {
    digest_key(["jti", issuer, jti])
}

/// The owner key of `kind`, `issuer` and `value`: as text, or its SHA-256 digest when
/// long (see the module docs). The text's issuer is length-prefixed and a digest's
/// marker `h` is no length, so no two owners share a key.
fn digest_key([kind, issuer, value]: [&str; 3]) -> String {
    let plain = format!("{kind}:{}:{issuer}:{value}", issuer.len());
    if plain.len() <= MAX_PLAIN_KEY {
        return plain;
    }
    let mut ctx = digest::Context::new(&digest::SHA256);
    for part in [kind, issuer, value] {
        ctx.update(&(part.len() as u64).to_be_bytes());
        ctx.update(part.as_bytes());
    }
    let digest = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(ctx.finish());
    format!("{kind}:h:{digest}")
}

/// The longest owner key kept as text; a longer one is a digest.
pub const MAX_PLAIN_KEY: usize = 200;

/// One logged-in client's owner keys, kept in the session ([`INDEX_KEY`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexedLogin {
    /// The key of the user (`sub`), when the login named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The key of the provider's session (`sid`), when the ID token named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// When the login was made, in Unix milliseconds (what a revocation list compares).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub at: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The current time in Unix milliseconds.
pub fn now_millis() -> u64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The [`INDEX_KEY`] entry: each logged-in client's keys, by client name.
pub type IndexedLogins = BTreeMap<String, IndexedLogin>;

impl IndexedLogin {
    /// The keys of a login of `client` with these claims: the user from `iss` (or the
    /// client's name) and `sub` (or a profile's `id`), the provider's session from `iss`
    /// and `sid`.
    pub fn of(client: &str, claims: &Claims) -> Self {
        let text = |name: &str| {
            claims
                .get(name)
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
        };
        let issuer = text("iss");
        // Made only when needed: this runs at every login.
        let numeric_id = || {
            let id = claims.get("id").filter(|v| v.is_number());
            id.map(|v| Cow::Owned(v.to_string()))
        };
        let sub = text("sub")
            .or_else(|| text("id"))
            .map(Cow::Borrowed)
            .or_else(numeric_id);
        let user = sub.map(|sub| match issuer {
            Some(issuer) => Owner::User { issuer, sub: &sub }.key(),
            None => Owner::User {
                issuer: &format!("client:{client}"),
                sub: &sub,
            }
            .key(),
        });
        let session = issuer
            .zip(text("sid"))
            .map(|(issuer, sid)| Owner::ProviderSession { issuer, sid }.key());
        Self {
            user,
            session,
            at: 0,
        }
    }

    /// Its owner keys.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.user.iter().chain(&self.session).map(String::as_str)
    }
}

/// Every owner key in an [`INDEX_KEY`] entry's JSON text, deduplicated. A text that does
/// not parse owns nothing (and is logged): the index must never fail a save.
///
/// Stores call it at each save of a logged-in session, so it reads the keys straight out
/// of the text (borrowed where the JSON has no escapes) instead of building the entry's
/// map.
pub fn keys_of_entry(json: &str) -> Vec<String> {
    match serde_json::from_str::<EntryKeys>(json) {
        Ok(EntryKeys(mut keys)) => {
            keys.sort_unstable();
            keys.dedup();
            keys
        }
        Err(e) => {
            tracing::warn!("session entry {INDEX_KEY:?} does not parse: {e}");
            Vec::new()
        }
    }
}

/// The keys of an [`INDEX_KEY`] entry, read without its map.
struct EntryKeys(Vec<String>);

/// One login's keys, borrowed from the text.
#[derive(Deserialize)]
struct LoginKeys<'a> {
    #[serde(borrow, default)]
    user: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    session: Option<Cow<'a, str>>,
}

impl<'de> Deserialize<'de> for EntryKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = EntryKeys;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of logins")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<EntryKeys, M::Error> {
                let mut keys = Vec::with_capacity(2);
                while let Some((_, login)) =
                    map.next_entry::<serde::de::IgnoredAny, LoginKeys<'de>>()?
                {
                    keys.extend(
                        login
                            .user
                            .into_iter()
                            .chain(login.session)
                            .map(String::from),
                    );
                }
                Ok(EntryKeys(keys))
            }
        }
        d.deserialize_map(Visit)
    }
}

/// Sessions by owner, and markers used once: see the [module docs](self). Implemented by
/// the in-memory store, Redis ([`RedisIndex`]) and SQL ([`SqlIndex`]).
#[async_trait]
pub trait SessionIndex: Send + Sync + std::fmt::Debug {
    /// Records that the session `id`, live until `expiry`, is owned by each of `keys`.
    async fn record(&self, keys: &[String], id: Id, expiry: OffsetDateTime) -> Result<(), Error>;

    /// Deletes every live session recorded under `key`, on every instance; how many.
    async fn end_sessions(&self, key: &str) -> Result<usize, Error>;

    /// Marks `marker` used until `until`; `false` when it already was (a replay). For the
    /// single use of a logout token's `jti` across instances.
    async fn use_once(&self, marker: &str, until: OffsetDateTime) -> Result<bool, Error>;
}

/// A session index shared by the requests of an app ([`OpenStore::index`](super::store::OpenStore::index)).
pub type SharedIndex = Arc<dyn SessionIndex>;

/// The owner keys of a session's data in tower-sessions' form.
pub fn keys_of_record(record: &Record) -> Vec<String> {
    match record.data.get(INDEX_KEY) {
        Some(serde_json::Value::String(json)) => keys_of_entry(json),
        _ => Vec::new(),
    }
}

/// A database or Redis store that records each saved session's owners in its index.
#[derive(Debug)]
pub struct IndexedStore<S> {
    store: S,
    index: SharedIndex,
}

impl<S> IndexedStore<S> {
    /// `store`, recording owners in `index`.
    pub fn new(store: S, index: SharedIndex) -> Self {
        Self { store, index }
    }

    async fn record(&self, record: &Record) -> session_store::Result<()> {
        let keys = keys_of_record(record);
        if keys.is_empty() {
            return Ok(());
        }
        self.index
            .record(&keys, record.id, record.expiry_date)
            .await
            .map_err(|e| session_store::Error::Backend(e.to_string()))
    }
}

#[async_trait]
impl<S: SessionStore> SessionStore for IndexedStore<S> {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.store.create(record).await?;
        self.record(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.store.save(record).await?;
        self.record(record).await
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        self.store.load(session_id).await
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        self.store.delete(session_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: serde_json::Value) -> Claims {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn owner_keys_are_distinct_per_kind_issuer_and_value() {
        let a = Owner::User {
            issuer: "https://op",
            sub: "alice",
        }
        .key();
        let b = Owner::ProviderSession {
            issuer: "https://op",
            sid: "alice",
        }
        .key();
        let c = Owner::User {
            issuer: "https://op/",
            sub: "alice",
        }
        .key();
        // The length prefixes keep ("ab", "c") apart from ("a", "bc").
        let d = Owner::User {
            issuer: "https://opa",
            sub: "lice",
        }
        .key();
        let keys = [&a, &b, &c, &d];
        for (i, x) in keys.iter().enumerate() {
            assert!(x.len() <= MAX_PLAIN_KEY);
            for y in &keys[i + 1..] {
                assert_ne!(x, y);
            }
        }
        assert_eq!(
            a,
            Owner::User {
                issuer: "https://op",
                sub: "alice"
            }
            .key()
        );
    }

    #[test]
    fn a_login_is_owned_by_its_user_and_its_provider_session() {
        let oidc = IndexedLogin::of(
            "op",
            &claims(json!({"iss": "https://op", "sub": "u1", "sid": "s1"})),
        );
        assert_eq!(
            oidc.user,
            Some(
                Owner::User {
                    issuer: "https://op",
                    sub: "u1"
                }
                .key()
            )
        );
        assert_eq!(
            oidc.session,
            Some(
                Owner::ProviderSession {
                    issuer: "https://op",
                    sid: "s1"
                }
                .key()
            )
        );
        // GitHub: no issuer, a numeric id.
        let github = IndexedLogin::of("github", &claims(json!({"id": 42, "login": "octo"})));
        assert_eq!(
            github.user,
            Some(
                Owner::User {
                    issuer: "client:github",
                    sub: "42"
                }
                .key()
            )
        );
        assert_eq!(github.session, None);
        assert_eq!(
            IndexedLogin::of("x", &claims(json!({"sub": ""}))),
            IndexedLogin::default()
        );
    }

    #[test]
    fn an_entry_that_does_not_parse_owns_nothing() {
        assert!(keys_of_entry("{not json").is_empty());
        let mut logins = IndexedLogins::new();
        logins.insert(
            "a".into(),
            IndexedLogin {
                user: Some("k1".into()),
                session: Some("k2".into()),
                at: 0,
            },
        );
        logins.insert(
            "b".into(),
            IndexedLogin {
                user: Some("k1".into()),
                session: None,
                at: 0,
            },
        );
        let json = serde_json::to_string(&logins).unwrap();
        assert_eq!(keys_of_entry(&json), ["k1", "k2"]);
    }
}
