//! The testkit's session-store conformance suite ([`ferroauth_testkit::store_conformance`])
//! through this adapter: a tiny app with `SessionConfig`'s session layer over each store and
//! handlers that use [`AuthSession`] as a `ferroauth::session::Session`.

use std::time::Duration;

use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use ferroauth::session::index::{INDEX_KEY, SharedIndex};
use ferroauth::session::sealed::CookieKeys;
use ferroauth::session::store::{OpenStore, StoreChoice};
use ferroauth::session::{Session as _, insert_json};
use ferroauth_axum::memory_store::MemoryStore;
use ferroauth_axum::sessions::{SessionConfig, SessionsExt as _};
use ferroauth_axum::{AuthError, AuthSession};
use ferroauth_testkit::servers::{Postgres, Redis, Sqlite};
use ferroauth_testkit::store_conformance::{Fault, FaultyStore, Target, owner_entry, run};

const INACTIVITY: Duration = Duration::from_secs(2);

async fn put(
    session: AuthSession,
    Path((key, value)): Path<(String, String)>,
) -> Result<&'static str, AuthError> {
    insert_json(&session, &key, &value).await?;
    Ok("ok")
}

async fn read(session: AuthSession, Path(key): Path<String>) -> Result<String, AuthError> {
    Ok(session.get(&key).await?.unwrap_or_default())
}

async fn renew(session: AuthSession) -> Result<&'static str, AuthError> {
    session.renew().await?;
    Ok("ok")
}

async fn clear(session: AuthSession) -> Result<&'static str, AuthError> {
    session.clear().await?;
    Ok("ok")
}

async fn own(session: AuthSession, Path(sub): Path<String>) -> Result<&'static str, AuthError> {
    session.insert(INDEX_KEY, owner_entry(&sub)).await?;
    Ok("ok")
}

fn routes() -> Router {
    Router::new()
        .route("/put/{key}/{value}", get(put))
        .route("/get/{key}", get(read))
        .route("/renew", get(renew))
        .route("/clear", get(clear))
        .route("/own/{sub}", get(own))
}

fn config() -> SessionConfig {
    SessionConfig::for_public_url("http://127.0.0.1")
        .unwrap()
        .inactivity(time::Duration::try_from(INACTIVITY).unwrap())
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

fn target(name: &str, base: String, breaker: Option<Box<dyn FnMut(bool) + Send>>) -> Target {
    Target::new(format!("axum {name}"), base, INACTIVITY, breaker)
}

/// The store `url` names, behind a switch that breaks it, and its index.
async fn opened(
    url: &str,
    fault: &Fault,
) -> (
    FaultyStore<ferroauth::session::store::SharedStore>,
    Option<SharedIndex>,
) {
    let choice: StoreChoice = url.parse().unwrap();
    match choice.open(None).await.unwrap() {
        OpenStore::Shared(store) => (FaultyStore::new(store.clone(), fault), store.index()),
        other => panic!("{url} opened {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory() {
    let fault = Fault::new();
    let memory = MemoryStore::new();
    let index: SharedIndex = std::sync::Arc::new(memory.clone());
    let store = FaultyStore::new(memory, &fault);
    let base = serve(config().apply(routes(), store)).await;
    run(target("memory", base, Some(fault.breaker())).with_index(Some(index))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    let db = Sqlite::temp();
    let fault = Fault::new();
    let (store, index) = opened(&db.url(), &fault).await;
    let base = serve(config().apply(routes(), store)).await;
    run(target("sqlite", base, Some(fault.breaker())).with_index(index)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Postgres])
    {
        return;
    }
    let pg = Postgres::start();
    let fault = Fault::new();
    let (store, index) = opened(&pg.url(), &fault).await;
    let base = serve(config().apply(routes(), store)).await;
    run(target("postgres", base, Some(fault.breaker())).with_index(index)).await;
}

/// Redis is really stopped and started again for the failure step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis() {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Redis]) {
        return;
    }
    let redis = Redis::start();
    let choice: StoreChoice = redis.url().parse().unwrap();
    let OpenStore::Shared(store) = choice.open(None).await.unwrap() else {
        panic!("redis opened another store");
    };
    let index = store.index();
    let base = serve(config().apply(routes(), store)).await;
    run(target("redis", base, Some(redis.into_breaker())).with_index(index)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealed_cookies() {
    let keys = CookieKeys::parse(&CookieKeys::generate("k1").unwrap()).unwrap();
    let base = serve(config().apply_sealed(routes(), keys)).await;
    run(target("sealed cookies", base, None)).await;
}

/// Sealed cookies checked against a revocation list kept in `list`.
async fn sealed_with_revocations(list: &str, label: &str) {
    let keys = CookieKeys::parse(&CookieKeys::generate("k1").unwrap()).unwrap();
    let choice: StoreChoice = list.parse().unwrap();
    let config = config().revocation_list(&choice).await.unwrap();
    let index = config.cookie_sealer(keys.clone()).revocation_index();
    let base = serve(config.apply_sealed(routes(), keys)).await;
    run(target(label, base, None).with_index(index)).await;
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
