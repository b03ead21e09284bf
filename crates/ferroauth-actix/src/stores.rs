//! Session stores by URL, as in `ferroauth-axum`: [`SessionsExt::apply_store`](crate::sessions::SessionsExt::apply_store)
//! (or [`Store::open`]) opens the store a
//! [`StoreChoice`] names (memory, `sqlite://`, `postgres://`, `redis://`, `cookie`;
//! [`ferroauth::session::store`] holds the logic and lists them), and [`TowerStore`]
//! bridges the database and Redis stores (tower-sessions-core stores) to actix-session.
//!
//! ```no_run
//! use actix_web::{App, HttpServer};
//! use ferroauth::session::sealed::CookieKeys;
//! use ferroauth_actix::sessions::{SessionConfig, SessionsExt as _};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // The same keys on every instance: they derive the cookie's key and seal the tokens.
//! let keys = CookieKeys::parse(&std::env::var("APP_COOKIE_KEYS")?)?;
//! let sessions = SessionConfig::for_public_url("https://app.example")?
//!     .keys(keys)
//!     .apply_store(&"redis://127.0.0.1:6379".parse()?)
//!     .await?;
//! HttpServer::new(move || App::new().wrap(sessions.middleware()))
//!     .bind("127.0.0.1:8000")?
//!     .run()
//!     .await?;
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use futures_util::TryFutureExt as _;
use futures_util::future::LocalBoxFuture;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::HttpMessage as _;
use actix_web::cookie::time::Duration;
use ferroauth::session::index::SharedIndex;
use ferroauth::session::sealed::CookieKeys;
use ferroauth::session::store::{OpenStore, SharedStore, guard};
pub use ferroauth::session::store::{StoreChoice, StoreError};
use serde_json::Value;
use tower_sessions_core::session::{Id, Record};
use tower_sessions_core::session_store::SessionStore as TowerSessionStore;

use crate::memory_store::{MemoryStore, expiry, id_of, key_of, other};
use crate::sessions::{SealedSessions, SessionConfig, Sessions, SessionsExt as _};
use actix_web::cookie::Key;

/// A store opened by URL, for [`SessionsExt::middleware`](crate::sessions::SessionsExt::middleware)
/// (memory, a database or Redis) or [`SessionsExt::sealed`](crate::sessions::SessionsExt::sealed)
/// (cookies).
#[derive(Debug)]
pub enum Store {
    /// In this process's memory.
    Memory(MemoryStore),
    /// A database or Redis, shared by every instance (with the same session key).
    Shared(TowerStore<SharedStore>),
    /// Sealed cookies under these keys.
    Cookie(CookieKeys),
}

impl Store {
    /// The store `choice` names ([`StoreChoice::open`]): connects first, so that a wrong
    /// URL fails at start. The cookie store uses `cookie_keys` (else a random key for
    /// this process, logged). A database or Redis needs this crate's feature of its name.
    pub async fn open(
        choice: &StoreChoice,
        cookie_keys: Option<CookieKeys>,
    ) -> Result<Self, StoreError> {
        Ok(choice.open(cookie_keys).await?.into())
    }
}

impl From<OpenStore> for Store {
    fn from(store: OpenStore) -> Self {
        match store {
            OpenStore::Memory(store) => Store::Memory(store.into()),
            OpenStore::Shared(store) => Store::Shared(TowerStore(store)),
            OpenStore::Cookie(keys) => Store::Cookie(keys),
        }
    }
}

/// A tower-sessions-core store as an actix-session store. actix-session keeps each entry as
/// JSON text; the record holds it as a JSON string, which is what `ferroauth-axum` writes
/// too, so nothing is parsed on the way.
#[derive(Debug, Clone)]
pub struct TowerStore<S>(pub S);

type State = HashMap<String, String>;

fn record(id: Id, state: State, ttl: &Duration) -> Record {
    Record {
        id,
        data: state
            .into_iter()
            .map(|(k, text)| (k, Value::String(text)))
            .collect(),
        expiry_date: expiry(ttl),
    }
}

fn state(record: Record) -> State {
    record
        .data
        .into_iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(text) => text,
                other => other.to_string(),
            };
            (k, text)
        })
        .collect()
}

impl<S: TowerSessionStore> SessionStore for TowerStore<S> {
    async fn load(&self, key: &SessionKey) -> Result<Option<State>, LoadError> {
        let Some(id) = id_of(key) else {
            return Ok(None);
        };
        let found = self
            .0
            .load(&id)
            .await
            .map_err(|e| LoadError::Other(other(e)))?;
        if let Some(record) = &found {
            guard::note_loaded(record);
        }
        Ok(found.map(state))
    }

    async fn save(&self, state: State, ttl: &Duration) -> Result<SessionKey, SaveError> {
        let mut record = record(Id::default(), state, ttl);
        self.0
            .create(&mut record)
            .await
            .map_err(|e| SaveError::Other(other(e)))?;
        key_of(record.id).map_err(SaveError::Other)
    }

    async fn update(
        &self,
        key: SessionKey,
        state: State,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let Some(id) = id_of(&key) else {
            return self.save(state, ttl).await.map_err(|e| match e {
                SaveError::Serialization(e) => UpdateError::Serialization(e),
                SaveError::Other(e) => UpdateError::Other(e),
            });
        };
        self.0
            .save(&record(id, state, ttl))
            .await
            .map_err(|e| UpdateError::Other(other(e)))?;
        Ok(key)
    }

    async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> Result<(), anyhow::Error> {
        let Some(id) = id_of(key) else {
            return Ok(());
        };
        // actix-session asks at every request; a session loaded by this one and still
        // kept long enough is not written (one write per slack, not per request).
        if !guard::needs_extension(&id, *ttl) {
            return Ok(());
        }
        // tower-sessions-core stores have no expiry-only write: the record again.
        if let Some(mut found) = self.0.load(&id).await.map_err(other)? {
            found.expiry_date = expiry(ttl);
            self.0.save(&found).await.map_err(other)?;
        }
        Ok(())
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
        match id_of(key) {
            Some(id) => self.0.delete(&id).await.map_err(other),
            None => Ok(()),
        }
    }
}

/// The sessions of a [`Store`] opened by URL, whichever kind it is, ready to be made into
/// each worker's middleware ([`middleware`](Self::middleware)): actix-web builds the app
/// once per worker thread and its middleware is not `Send`, while this is. Made by
/// [`SessionsExt::for_store`](crate::sessions::SessionsExt::for_store).
#[derive(Clone)]
pub struct StoreSessions {
    config: SessionConfig,
    kind: Kind,
    index: Option<SharedIndex>,
}

#[derive(Clone)]
enum Kind {
    Memory(MemoryStore, Key),
    Shared(TowerStore<SharedStore>, Key),
    Cookie(SealedSessions),
}

impl std::fmt::Debug for StoreSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.kind {
            Kind::Memory(..) => "StoreSessions::Memory",
            Kind::Shared(..) => "StoreSessions::Shared",
            Kind::Cookie(_) => "StoreSessions::Cookie",
        })
    }
}

impl StoreSessions {
    pub(crate) fn new(config: &SessionConfig, store: Store, key: Key) -> Self {
        let index = match &store {
            Store::Memory(store) => Some(store.index()),
            Store::Shared(store) => store.0.index(),
            Store::Cookie(_) => None,
        };
        let kind = match store {
            Store::Memory(store) => Kind::Memory(store, key),
            Store::Shared(store) => Kind::Shared(store, key),
            Store::Cookie(keys) => Kind::Cookie(config.sealed(keys)),
        };
        Self {
            config: config.clone(),
            kind,
            index,
        }
    }

    /// The store's index of sessions by owner ([`ferroauth::session::index`]): `None` for
    /// sealed cookies. The middleware hands it to the routes that end sessions by owner
    /// (back-channel logout, "sign out everywhere") in each request's extensions.
    pub fn index(&self) -> Option<SharedIndex> {
        self.index.clone()
    }

    /// This worker's middleware, for `App::wrap`.
    pub fn middleware(&self) -> StoreMiddleware {
        let kind = match &self.kind {
            Kind::Memory(store, key) => {
                MiddlewareKind::Memory(self.config.middleware(store.clone(), key.clone()))
            }
            Kind::Shared(store, key) => {
                MiddlewareKind::Shared(self.config.middleware(store.clone(), key.clone()))
            }
            Kind::Cookie(sealed) => MiddlewareKind::Cookie(sealed.clone()),
        };
        StoreMiddleware {
            kind,
            index: self.index.clone(),
        }
    }
}

/// One worker's session middleware of a store opened by URL: the one of its kind, which
/// also hands the routes the store's index of sessions by owner.
pub struct StoreMiddleware {
    kind: MiddlewareKind,
    index: Option<SharedIndex>,
}

enum MiddlewareKind {
    /// Sessions in memory ([`SessionsExt::middleware`](crate::sessions::SessionsExt::middleware)).
    Memory(Sessions<MemoryStore>),
    /// Sessions in a database or Redis.
    Shared(Sessions<TowerStore<SharedStore>>),
    /// Sessions in sealed cookies ([`SessionsExt::sealed`](crate::sessions::SessionsExt::sealed)).
    Cookie(SealedSessions),
}

type Answer<B> = ServiceResponse<EitherBody<B>>;
type Erased<B> = Box<
    dyn Service<
            ServiceRequest,
            Response = Answer<B>,
            Error = actix_web::Error,
            Future = LocalBoxFuture<'static, Result<Answer<B>, actix_web::Error>>,
        >,
>;

/// The service [`StoreMiddleware`] makes: the one of its store's kind, behind one type.
pub struct StoreService<B>(Erased<B>, Option<SharedIndex>);

/// The sealed-cookie service with its answers in the body type of the others.
struct LeftBody<S>(S);

impl<S, B> Service<ServiceRequest> for LeftBody<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    type Response = Answer<B>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Answer<B>, actix_web::Error>>;

    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<Result<(), actix_web::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&self, req: ServiceRequest) -> Self::Future {
        Box::pin(self.0.call(req).map_ok(ServiceResponse::map_into_left_body))
    }
}

impl<S, B> Transform<S, ServiceRequest> for StoreMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    type Response = Answer<B>;
    type Error = actix_web::Error;
    type Transform = StoreService<B>;
    type InitError = ();
    type Future = LocalBoxFuture<'static, Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        let index = self.index.clone();
        match &self.kind {
            MiddlewareKind::Memory(t) => Box::pin(
                t.new_transform(service)
                    .map_ok(|s| StoreService(Box::new(s), index)),
            ),
            MiddlewareKind::Shared(t) => Box::pin(
                t.new_transform(service)
                    .map_ok(|s| StoreService(Box::new(s), index)),
            ),
            MiddlewareKind::Cookie(t) => {
                let sealed = t.new_transform(service);
                Box::pin(async move { Ok(StoreService(Box::new(LeftBody(sealed.await?)), index)) })
            }
        }
    }
}

impl<B> Service<ServiceRequest> for StoreService<B> {
    type Response = Answer<B>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Answer<B>, actix_web::Error>>;

    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<Result<(), actix_web::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&self, req: ServiceRequest) -> Self::Future {
        if let Some(index) = &self.1 {
            req.extensions_mut().insert(Arc::clone(index));
        }
        // Memory and database sessions hand their boxed future on as it is: a virtual call
        // per request, no second box.
        self.0.call(req)
    }
}
