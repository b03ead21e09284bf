//! The testkit's session-store conformance suite ([`ferroauth_testkit::store_conformance`])
//! through this adapter: a tiny app with `SessionConfig`'s middleware over each store and
//! handlers that use [`AuthSession`] as a `ferroauth::session::Session`.

use std::collections::HashMap;
use std::time::Duration;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::Key;
use actix_web::{App, HttpServer, web};
use ferroauth::session::index::{INDEX_KEY, SharedIndex};
use ferroauth::session::sealed::CookieKeys;
use ferroauth::session::store::StoreChoice;
use ferroauth::session::{Session as _, insert_json};
use ferroauth_actix::memory_store::MemoryStore;
use ferroauth_actix::sessions::{SessionConfig, SessionsExt as _};
use ferroauth_actix::stores::{Store, TowerStore};
use ferroauth_actix::{AuthError, AuthSession};
use ferroauth_testkit::servers::{Postgres, Redis, Sqlite};
use ferroauth_testkit::store_conformance::{Fault, FaultyStore, Target, owner_entry, run};

const INACTIVITY: Duration = Duration::from_secs(2);

async fn put(
    session: AuthSession,
    path: web::Path<(String, String)>,
) -> Result<&'static str, AuthError> {
    let (key, value) = path.into_inner();
    insert_json(&session, &key, &value).await?;
    Ok("ok")
}

async fn read(session: AuthSession, key: web::Path<String>) -> Result<String, AuthError> {
    Ok(session.get(&key).await?.unwrap_or_default())
}

/// `/renew` and `/clear`: the session's id renewed, or the session emptied.
async fn lifecycle(session: AuthSession, op: web::Path<String>) -> Result<&'static str, AuthError> {
    match op.as_str() {
        "renew" => session.renew().await?,
        _ => session.clear().await?,
    }
    Ok("ok")
}

async fn own(session: AuthSession, sub: web::Path<String>) -> Result<&'static str, AuthError> {
    session.insert(INDEX_KEY, owner_entry(&sub)).await?;
    Ok("ok")
}

fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/own/{sub}", web::get().to(own))
        .route("/put/{key}/{value}", web::get().to(put))
        .route("/get/{key}", web::get().to(read))
        .route("/{op:renew|clear}", web::get().to(lifecycle));
}

fn config() -> SessionConfig {
    SessionConfig::for_public_url("http://127.0.0.1")
        .unwrap()
        .inactivity(actix_web::cookie::time::Duration::try_from(INACTIVITY).unwrap())
}

/// Where the app keeps sessions.
enum Sessions<St> {
    Server(St),
    Sealed(CookieKeys, SessionConfig),
}

/// The app, served by one worker on a thread of its own (actix-web's runtime).
fn serve<St: SessionStore + Clone + Send + 'static>(sessions: Sessions<St>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let config = config();
            let server = match sessions {
                Sessions::Server(store) => {
                    let key = Key::generate();
                    HttpServer::new(move || {
                        App::new()
                            .configure(routes)
                            .wrap(config.middleware(store.clone(), key.clone()))
                    })
                    .listen(listener)
                    .unwrap()
                    .workers(1)
                    .disable_signals()
                    .run()
                }
                Sessions::Sealed(keys, config) => {
                    let sealed = config.sealed(keys);
                    HttpServer::new(move || App::new().configure(routes).wrap(sealed.clone()))
                        .listen(listener)
                        .unwrap()
                        .workers(1)
                        .disable_signals()
                        .run()
                }
            };
            server.await.unwrap();
        });
    });
    base
}

fn target(name: &str, base: String, breaker: Option<Box<dyn FnMut(bool) + Send>>) -> Target {
    Target::new(format!("actix {name}"), base, INACTIVITY, breaker)
}

/// The store `url` names, bridged to actix-session.
async fn opened(url: &str) -> TowerStore<ferroauth::session::store::SharedStore> {
    let choice: StoreChoice = url.parse().unwrap();
    let Store::Shared(store) = Store::open(&choice, None).await.unwrap() else {
        panic!("{url} opened another store");
    };
    store
}

/// An actix-session store that fails every call while its fault is on.
#[derive(Clone)]
struct Faulty<St>(St, Fault);

type State = HashMap<String, String>;

impl<St: SessionStore> Faulty<St> {
    fn down(&self) -> Result<(), anyhow::Error> {
        match self.1.is_on() {
            true => Err(anyhow::anyhow!("the store is down (test)")),
            false => Ok(()),
        }
    }
}

impl<St: SessionStore> SessionStore for Faulty<St> {
    async fn load(&self, key: &SessionKey) -> Result<Option<State>, LoadError> {
        self.down().map_err(LoadError::Other)?;
        self.0.load(key).await
    }
    async fn save(
        &self,
        state: State,
        ttl: &actix_web::cookie::time::Duration,
    ) -> Result<SessionKey, SaveError> {
        self.down().map_err(SaveError::Other)?;
        self.0.save(state, ttl).await
    }
    async fn update(
        &self,
        key: SessionKey,
        state: State,
        ttl: &actix_web::cookie::time::Duration,
    ) -> Result<SessionKey, UpdateError> {
        self.down().map_err(UpdateError::Other)?;
        self.0.update(key, state, ttl).await
    }
    async fn update_ttl(
        &self,
        key: &SessionKey,
        ttl: &actix_web::cookie::time::Duration,
    ) -> Result<(), anyhow::Error> {
        self.down()?;
        self.0.update_ttl(key, ttl).await
    }
    async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
        self.down()?;
        self.0.delete(key).await
    }
}

/// The suite against the app over `sessions`, whose store `breaker` breaks and `index`
/// finds by owner.
async fn check<St: SessionStore + Clone + Send + 'static>(
    name: &str,
    sessions: Sessions<St>,
    breaker: Option<Box<dyn FnMut(bool) + Send>>,
    index: Option<SharedIndex>,
) {
    run(target(name, serve(sessions), breaker).with_index(index)).await;
}

/// The database `url` names, bridged to actix-session behind a switch that breaks it, and
/// its index.
async fn faulty_database(
    url: &str,
    fault: &Fault,
) -> (
    Sessions<impl SessionStore + Clone + use<>>,
    Option<SharedIndex>,
) {
    let store = opened(url).await.0;
    let index = store.index();
    (
        Sessions::Server(TowerStore(FaultyStore::new(store, fault))),
        index,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory() {
    let fault = Fault::new();
    let memory = ferroauth::session::memory::MemoryStore::new();
    let index: SharedIndex = std::sync::Arc::new(memory.clone());
    let store = Faulty(MemoryStore::from(memory), fault.clone());
    check(
        "memory",
        Sessions::Server(store),
        Some(fault.breaker()),
        Some(index),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    let (db, fault) = (Sqlite::temp(), Fault::new());
    let (sessions, index) = faulty_database(&db.url(), &fault).await;
    check("sqlite", sessions, Some(fault.breaker()), index).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Postgres])
    {
        return;
    }
    let (pg, fault) = (Postgres::start(), Fault::new());
    let (sessions, index) = faulty_database(&pg.url(), &fault).await;
    check("postgres", sessions, Some(fault.breaker()), index).await;
}

/// Redis is really stopped and started again for the failure step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis() {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Redis]) {
        return;
    }
    let redis = Redis::start();
    let store = opened(&redis.url()).await;
    let index = store.0.index();
    check(
        "redis",
        Sessions::Server(store),
        Some(redis.into_breaker()),
        index,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealed_cookies() {
    let keys = CookieKeys::parse(&CookieKeys::generate("k1").unwrap()).unwrap();
    check(
        "sealed cookies",
        Sessions::<MemoryStore>::Sealed(keys, config()),
        None,
        None,
    )
    .await;
}

/// Sealed cookies checked against a revocation list kept in `list`.
async fn sealed_with_revocations(list: &str, label: &str) {
    let keys = CookieKeys::parse(&CookieKeys::generate("k1").unwrap()).unwrap();
    let choice: StoreChoice = list.parse().unwrap();
    let config = config().revocation_list(&choice).await.unwrap();
    let index = config.cookie_sealer(keys.clone()).revocation_index();
    let sessions = Sessions::<MemoryStore>::Sealed(keys, config);
    check(label, sessions, None, index).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealed_cookies_revoked_in_memory() {
    sealed_with_revocations("memory", "sealed cookies, revoked in memory").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealed_cookies_revoked_in_sqlite() {
    let db = Sqlite::temp();
    sealed_with_revocations(&db.url(), "sealed cookies, revoked in sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealed_cookies_revoked_in_postgres() {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Postgres])
    {
        return;
    }
    let pg = Postgres::start();
    sealed_with_revocations(&pg.url(), "sealed cookies, revoked in postgres").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealed_cookies_revoked_in_redis() {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Redis]) {
        return;
    }
    let redis = Redis::start();
    sealed_with_revocations(&redis.url(), "sealed cookies, revoked in redis").await;
}
