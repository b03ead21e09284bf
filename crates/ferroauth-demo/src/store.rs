//! Where the demo keeps sessions, chosen with `--session-store`:
//!
//! | value | store | instances |
//! |---|---|---|
//! | `memory` (default) | [`ferroauth_axum::memory_store::PurgingMemoryStore`], expired sessions swept out | one |
//! | `sqlite://FILE` | SQLite through tower-sessions-sqlx-store; survives restarts | several on one host |
//! | `postgres://...` | PostgreSQL through tower-sessions-sqlx-store | many |
//! | `redis://HOST:PORT` | Redis through tower-sessions-redis-store | many |
//! | `cookie` | no server-side state: sealed (AES-256-GCM) cookies | many, with the same keys |
//!
//! Every instance behind a load balancer must use the same store (and, in cookie mode, the
//! same keys): a login starts on one instance and may finish on another.
//!
//! **Cookie mode and tokens.** Without server-side state the logged-in account has to live
//! in the browser too: the claims in one sealed cookie (`fa_users`), each provider's token
//! in its own (`fa_tok_<name>`), encrypted like the pending logins, never in clear. A token
//! too large for one cookie is refused with a clear error (503 `session_unavailable`)
//! rather than stored in clear or truncated.
//!
//! A store that fails answers 503 (`session_unavailable`): the handlers' own loads map
//! to [`Error::Session`], and a failed save after the handler is turned into a 503 by
//! [`ferroauth_axum::store_guard`].

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use ferroauth::pending::{PendingLogins, PendingStore};
use ferroauth::{Claims, Error, Token, TokenStore};
use ferroauth_axum::cookie_store::{CookieKeys, CookiePending, CookieSealer, SealedJar};
use ferroauth_axum::{AuthError, SessionPending, SessionTokens, session_json};
use tower_sessions::Session;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

/// How long a store call may take before the request fails with 503.
pub const STORE_TIMEOUT: Duration = Duration::from_secs(2);

/// The cookie of the logged-in users' claims in cookie mode.
const USERS_COOKIE: &str = "fa_users";

/// The prefix of the per-provider token cookies in cookie mode.
pub const TOKEN_COOKIE_PREFIX: &str = "fa_tok_";

/// Which session store the demo uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChoice {
    /// In memory, one instance.
    Memory,
    /// SQLite at this `sqlite:` URL.
    Sqlite(String),
    /// PostgreSQL at this `postgres://` URL.
    Postgres(String),
    /// Redis at this `redis://` URL.
    Redis(String),
    /// Sealed cookies, no server-side state.
    Cookie,
}

impl StoreChoice {
    /// A description without credentials, for logs.
    pub fn describe(&self) -> String {
        let redact = |url: &str| match url::Url::parse(url) {
            Ok(mut u) => {
                let _ = u.set_password(None);
                let _ = u.set_username("");
                u.to_string()
            }
            Err(_) => "(unparsable URL)".to_owned(),
        };
        match self {
            StoreChoice::Memory => "memory".into(),
            StoreChoice::Sqlite(url) => url.clone(),
            StoreChoice::Postgres(url) | StoreChoice::Redis(url) => redact(url),
            StoreChoice::Cookie => "cookie (sealed, AES-256-GCM)".into(),
        }
    }
}

impl FromStr for StoreChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Ok(match s {
            "memory" => StoreChoice::Memory,
            "cookie" => StoreChoice::Cookie,
            _ if s.starts_with("sqlite:") => StoreChoice::Sqlite(s.into()),
            _ if s.starts_with("postgres://") || s.starts_with("postgresql://") => {
                StoreChoice::Postgres(s.into())
            }
            _ if s.starts_with("redis://") || s.starts_with("rediss://") => {
                StoreChoice::Redis(s.into())
            }
            _ => {
                return Err(format!(
                    "unknown session store {s:?}: use memory, cookie, sqlite://FILE, postgres://... or redis://HOST:PORT"
                ));
            }
        })
    }
}

/// The demo's routes over the chosen store. Connects (and migrates a database) first, so
/// that a wrong URL fails at start with a clear error.
///
/// `cookie_keys` is needed for [`StoreChoice::Cookie`]; [`crate::DemoOptions::secure_cookies`]
/// sets `Secure` on every cookie.
pub async fn router_for(
    oauth: ferroauth::OAuth,
    options: crate::DemoOptions,
    choice: &StoreChoice,
    cookie_keys: Option<CookieKeys>,
) -> Result<axum::Router, Box<dyn std::error::Error + Send + Sync>> {
    Ok(match choice {
        StoreChoice::Memory => {
            let store = ferroauth_axum::memory_store::PurgingMemoryStore::new();
            crate::router_with_store(oauth, options, store)
        }
        StoreChoice::Sqlite(url) => {
            use tower_sessions_sqlx_store::sqlx::sqlite::{
                SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions,
            };
            let connect = SqliteConnectOptions::from_str(url)
                .map_err(|e| format!("session store {url}: {e}"))?
                .create_if_missing(true)
                // WAL: readers do not wait for the writer; several processes may share
                // the file.
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(STORE_TIMEOUT);
            let pool = SqlitePoolOptions::new()
                .acquire_timeout(STORE_TIMEOUT)
                .connect_with(connect)
                .await
                .map_err(|e| format!("session store {url}: {e}"))?;
            let store = tower_sessions_sqlx_store::SqliteStore::new(pool);
            store
                .migrate()
                .await
                .map_err(|e| format!("session store {url}: migration failed: {e}"))?;
            spawn_expiry_sweep(store.clone());
            crate::router_with_store(oauth, options, RetryBusy(store))
        }
        StoreChoice::Postgres(url) => {
            use tower_sessions_sqlx_store::sqlx::postgres::PgPoolOptions;
            let shown = choice.describe();
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(STORE_TIMEOUT)
                .connect(url)
                .await
                .map_err(|e| format!("session store {shown}: {e}"))?;
            let store = tower_sessions_sqlx_store::PostgresStore::new(pool);
            store
                .migrate()
                .await
                .map_err(|e| format!("session store {shown}: migration failed: {e}"))?;
            spawn_expiry_sweep(store.clone());
            crate::router_with_store(oauth, options, store)
        }
        StoreChoice::Redis(url) => {
            let pool = redis_pool(url)
                .await
                .map_err(|e| format!("session store {}: {e}", choice.describe()))?;
            // Redis expires the keys itself (EXAT); no sweep needed.
            crate::router_with_store(
                oauth,
                options,
                tower_sessions_redis_store::RedisStore::new(pool),
            )
        }
        StoreChoice::Cookie => {
            let keys = cookie_keys.ok_or(
                "the cookie store needs keys: --cookie-keys or FERROAUTH_COOKIE_KEYS (id:base64url-32-bytes,...)",
            )?;
            let sealer = Arc::new(CookieSealer::new(keys).secure(options.secure_cookies));
            crate::router_with_cookies(oauth, options, sealer)
        }
    })
}

/// A Redis connection pool that gives up on a command after [`STORE_TIMEOUT`] and
/// reconnects by itself, for ever, when the server comes back.
pub async fn redis_pool(
    url: &str,
) -> Result<tower_sessions_redis_store::fred::prelude::Pool, Box<dyn std::error::Error + Send + Sync>>
{
    use tower_sessions_redis_store::fred::prelude::*;
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

/// SQLite answers `SQLITE_BUSY` ("database is locked") at once, without waiting, when a
/// deferred transaction meets another writer (several processes share the file, or a
/// pool's connections write at the same moment). Those calls are retried a few times
/// before the request fails with 503.
#[derive(Debug, Clone)]
struct RetryBusy<S>(S);

const BUSY_RETRIES: u32 = 8;

fn is_busy(e: &session_store::Error) -> bool {
    matches!(e, session_store::Error::Backend(m) if m.contains("database is locked") || m.contains("(code: 5)"))
}

macro_rules! retry_busy {
    ($call:expr) => {{
        let mut attempt = 0;
        loop {
            match $call {
                Err(e) if is_busy(&e) && attempt < BUSY_RETRIES => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(5 * u64::from(attempt))).await;
                }
                other => break other,
            }
        }
    }};
}

#[async_trait::async_trait]
impl<S: SessionStore> SessionStore for RetryBusy<S> {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        retry_busy!(self.0.create(record).await)
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        retry_busy!(self.0.save(record).await)
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        retry_busy!(self.0.load(session_id).await)
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        retry_busy!(self.0.delete(session_id).await)
    }
}

fn spawn_expiry_sweep<S: ExpiredDeletion + Clone + 'static>(store: S) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            if let Err(e) = store.delete_expired().await {
                tracing::warn!(error = %e, "deleting expired sessions failed");
            }
        }
    });
}

/// A request's session: server-side (tower-sessions) or sealed cookies.
#[derive(Debug, Clone)]
pub enum DemoSession {
    /// A tower-sessions session in a server-side store.
    Server(Session),
    /// Sealed cookies.
    Cookie(SealedJar),
}

impl<S: Send + Sync> FromRequestParts<S> for DemoSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(jar) = parts.extensions.get::<SealedJar>() {
            return Ok(DemoSession::Cookie(jar.clone()));
        }
        Session::from_request_parts(parts, state)
            .await
            .map(DemoSession::Server)
            .map_err(IntoResponse::into_response)
    }
}

/// The pending logins of a [`DemoSession`].
#[derive(Debug)]
pub enum DemoPending<'a> {
    /// In the server-side session.
    Server(SessionPending<'a>),
    /// In a sealed cookie.
    Cookie(CookiePending),
}

impl PendingStore for DemoPending<'_> {
    async fn load(&self) -> Result<PendingLogins, Error> {
        match self {
            DemoPending::Server(s) => s.load().await,
            DemoPending::Cookie(c) => c.load().await,
        }
    }

    async fn save(&self, logins: PendingLogins) -> Result<(), Error> {
        match self {
            DemoPending::Server(s) => s.save(logins).await,
            DemoPending::Cookie(c) => c.save(logins).await,
        }
    }

    fn session_present(&self) -> bool {
        match self {
            DemoPending::Server(s) => s.session_present(),
            DemoPending::Cookie(c) => c.session_present(),
        }
    }

    async fn renew(&self) -> Result<(), Error> {
        match self {
            DemoPending::Server(s) => s.renew().await,
            DemoPending::Cookie(c) => c.renew().await,
        }
    }
}

/// The tokens of a [`DemoSession`]: a [`TokenStore`].
#[derive(Debug)]
pub enum DemoTokens<'a> {
    /// In the server-side session.
    Server(SessionTokens<'a>),
    /// One sealed cookie per provider.
    Cookie(SealedJar),
}

fn token_cookie(client: &str) -> Result<String, Error> {
    if client.is_empty()
        || !client
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(Error::Session(format!(
            "client name {client:?} cannot be part of a cookie name"
        )));
    }
    Ok(format!("{TOKEN_COOKIE_PREFIX}{client}"))
}

impl DemoTokens<'_> {
    /// Every stored token, by client name.
    pub async fn load_all(&self) -> Result<BTreeMap<String, Token>, Error> {
        match self {
            DemoTokens::Server(s) => s.load_all().await,
            DemoTokens::Cookie(jar) => Ok(jar
                .names()
                .into_iter()
                .filter_map(|cookie| {
                    let name = cookie.strip_prefix(TOKEN_COOKIE_PREFIX)?.to_owned();
                    Some((name, jar.get::<Token>(&cookie)?))
                })
                .collect()),
        }
    }
}

impl TokenStore for DemoTokens<'_> {
    async fn load(&self, client: &str) -> Result<Option<Token>, Error> {
        match self {
            DemoTokens::Server(s) => s.load(client).await,
            DemoTokens::Cookie(jar) => Ok(jar.get(&token_cookie(client)?)),
        }
    }

    async fn save(&self, client: &str, token: &Token) -> Result<(), Error> {
        match self {
            DemoTokens::Server(s) => s.save(client, token).await,
            DemoTokens::Cookie(jar) => jar.set(&token_cookie(client)?, token),
        }
    }
}

fn session_error(e: impl std::fmt::Display) -> AuthError {
    AuthError(Error::Session(e.to_string()))
}

impl DemoSession {
    /// Where the pending logins are kept.
    pub fn pending(&self) -> DemoPending<'_> {
        match self {
            DemoSession::Server(s) => DemoPending::Server(SessionPending(s)),
            DemoSession::Cookie(jar) => DemoPending::Cookie(jar.pending()),
        }
    }

    /// Where the tokens are kept.
    pub fn tokens(&self) -> DemoTokens<'_> {
        match self {
            DemoSession::Server(s) => DemoTokens::Server(SessionTokens(s)),
            DemoSession::Cookie(jar) => DemoTokens::Cookie(jar.clone()),
        }
    }

    /// The logged-in users' claims, by provider name.
    pub async fn users(&self) -> Result<BTreeMap<String, Claims>, AuthError> {
        match self {
            DemoSession::Server(s) => Ok(session_json::get(s, crate::USERS_KEY)
                .await?
                .unwrap_or_default()),
            DemoSession::Cookie(jar) => Ok(jar.get(USERS_COOKIE).unwrap_or_default()),
        }
    }

    /// Replaces the logged-in users' claims.
    pub async fn save_users(&self, users: &BTreeMap<String, Claims>) -> Result<(), AuthError> {
        match self {
            DemoSession::Server(s) => Ok(session_json::insert(s, crate::USERS_KEY, users).await?),
            DemoSession::Cookie(jar) => jar.set(USERS_COOKIE, users).map_err(AuthError),
        }
    }

    /// Logs out: forgets the session and everything in it.
    pub async fn clear(&self) -> Result<(), AuthError> {
        match self {
            DemoSession::Server(s) => s.flush().await.map_err(session_error),
            DemoSession::Cookie(jar) => {
                jar.clear();
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_parse() {
        assert_eq!("memory".parse(), Ok(StoreChoice::Memory));
        assert_eq!("cookie".parse(), Ok(StoreChoice::Cookie));
        assert!(matches!(
            "sqlite://x.db".parse(),
            Ok(StoreChoice::Sqlite(_))
        ));
        assert!(matches!(
            "postgres://u@127.0.0.1:5/db".parse(),
            Ok(StoreChoice::Postgres(_))
        ));
        assert!(matches!(
            "redis://127.0.0.1:6390".parse(),
            Ok(StoreChoice::Redis(_))
        ));
        assert!("mysql://x".parse::<StoreChoice>().is_err());
        let pg: StoreChoice = "postgres://user:hunter2@127.0.0.1/db".parse().unwrap();
        assert!(!pg.describe().contains("hunter2"));
    }
}
