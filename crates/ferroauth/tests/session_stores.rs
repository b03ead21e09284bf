//! What the shared session stores promise below the web layer, on real servers: the
//! `redis://` and `postgres://` stores ferroauth writes itself.
//!
//! - **An ended session stays ended.** A back-channel logout (or "sign out everywhere") on
//!   one instance deletes a session while a request of that session runs on another; the
//!   request's save at its end must not bring it back. (tower-sessions-sqlx-store's save
//!   was an upsert, and did.)
//! - **A renewal deletes the old id with the creation.** Inside a watched request, the
//!   renewal's deletion waits for the new id's creation and goes with it: afterwards the
//!   old id loads nothing, the new one loads the data, and the owners' index names the new
//!   id. A request that ends without a creation still deletes the old id.

#![cfg(any(feature = "redis", feature = "postgres"))]

use std::collections::HashMap;

use ferroauth::session::index::{INDEX_KEY, SharedIndex};
use ferroauth::session::store::guard::{renewing, watch};
use ferroauth::session::store::{OpenStore, SharedStore, StoreChoice};
use ferroauth_testkit::store_conformance::{owner_entry, owner_key};
use serde_json::Value;
use time::{Duration, OffsetDateTime};
use tower_sessions_core::session::{Id, Record};
use tower_sessions_core::session_store::SessionStore;

async fn open(url: &str) -> (SharedStore, SharedIndex) {
    let choice: StoreChoice = url.parse().unwrap();
    match choice.open(None).await.expect("open") {
        OpenStore::Shared(store) => {
            let index = store.index().expect("an index");
            (store, index)
        }
        other => panic!("not a shared store: {other:?}"),
    }
}

fn record(sub: &str) -> Record {
    let mut data = HashMap::new();
    data.insert("k".to_owned(), Value::String("\"v\"".into()));
    data.insert(INDEX_KEY.to_owned(), Value::String(owner_entry(sub)));
    Record {
        id: Id::default(),
        data,
        expiry_date: OffsetDateTime::now_utc() + Duration::hours(1),
    }
}

async fn ended_sessions_stay_ended(url: &str) {
    let (one, index) = open(url).await;
    let (two, _) = open(url).await;
    let sub = format!("ended-{}", Id::default());
    let mut session = record(&sub);
    one.create(&mut session).await.unwrap();
    assert!(two.load(&session.id).await.unwrap().is_some());

    // Instance two's request has the session loaded; instance one ends it meanwhile.
    assert_eq!(index.end_sessions(&owner_key(&sub)).await.unwrap(), 1);
    session
        .data
        .insert("k".into(), Value::String("\"changed\"".into()));
    two.save(&session).await.unwrap();
    assert!(
        one.load(&session.id).await.unwrap().is_none(),
        "{url}: a save after the logout brought the session back"
    );
}

async fn renewal_deletes_the_old_id_with_the_creation(url: &str) {
    let (store, index) = open(url).await;
    let sub = format!("renewed-{}", Id::default());
    let mut session = record(&sub);
    store.create(&mut session).await.unwrap();
    let old = session.id;

    let (new, watched) = watch(async {
        renewing();
        store.delete(&old).await.unwrap();
        assert!(
            store.load(&old).await.unwrap().is_some(),
            "{url}: the deletion waits for the creation"
        );
        let mut renewed = Record {
            id: Id::default(),
            ..session.clone()
        };
        store.create(&mut renewed).await.unwrap();
        renewed.id
    })
    .await;
    assert!(!watched.failed());
    assert!(store.load(&old).await.unwrap().is_none(), "{url}: old id");
    assert!(store.load(&new).await.unwrap().is_some(), "{url}: new id");
    assert_eq!(index.end_sessions(&owner_key(&sub)).await.unwrap(), 1);
    assert!(store.load(&new).await.unwrap().is_none(), "{url}: ended");

    // A request that renews and then saves nothing (a server error) still deletes it.
    let mut session = record(&sub);
    store.create(&mut session).await.unwrap();
    let ((), watched) = watch(async {
        renewing();
        store.delete(&session.id).await.unwrap();
    })
    .await;
    assert!(!watched.failed());
    assert!(store.load(&session.id).await.unwrap().is_none(), "{url}");
}

#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis() {
    use ferroauth_testkit::services::{Service, skip_without};
    if skip_without(&[Service::Redis]) {
        return;
    }
    let redis = ferroauth_testkit::servers::Redis::start();
    ended_sessions_stay_ended(&redis.url()).await;
    renewal_deletes_the_old_id_with_the_creation(&redis.url()).await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    use ferroauth_testkit::services::{Service, skip_without};
    if skip_without(&[Service::Postgres]) {
        return;
    }
    let pg = ferroauth_testkit::servers::Postgres::start();
    ended_sessions_stay_ended(&pg.url()).await;
    renewal_deletes_the_old_id_with_the_creation(&pg.url()).await;
}
