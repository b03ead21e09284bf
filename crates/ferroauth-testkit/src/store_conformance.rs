//! One conformance suite for session stores, run through a web adapter: [`run`].
//!
//! Each web adapter's own tests serve a tiny app (the adapter's session layer over the store
//! under test, and four handlers written against ferroauth's `Session` trait) and hand its
//! address to [`run`], once per store: memory, SQLite, PostgreSQL, Redis and sealed cookies.
//! The suite speaks plain HTTP, so it knows no framework and no store; it checks what a
//! login needs of a session:
//!
//! | step | what must hold |
//! |---|---|
//! | save, load | an entry written by one request is read by the next with the cookie, and by no other browser |
//! | update | a new value replaces the old; other entries stay |
//! | id renewal | after `renew` (a login's session-fixation defence) the entries stay, the cookie changes, and, in a server-side store, the old cookie names no session any more |
//! | concurrent writes | many browsers writing at once each read their own entry back (no mix-up); one browser's concurrent writes leave one of the written values |
//! | damaged cookie | a session cookie with one character changed is no session, not an error |
//! | expiry | a session unused for longer than the app's inactivity is gone, even to a client that ignores `Max-Age` |
//! | kept alive | in a server-side store, a session only read (never changed) at intervals shorter than the inactivity outlives it |
//! | failure → 503 | while the store fails, a request that needs it answers 503 `session_unavailable`; once it is back, sessions work again |
//! | sessions by owner | with the store's index ([`Target::with_index`]; for sealed cookies, a revocation list): ending a user's sessions ends every session that user's logins own (a renewed one included) and no other, and a later login lives; an expired session is not counted; a marker is used once |
//!
//! # The app's routes
//!
//! | route | does | answers |
//! |---|---|---|
//! | `GET /put/{key}/{value}` | sets the entry `key` to the JSON string `"value"` | 200 |
//! | `GET /get/{key}` | reads the entry `key` | 200, the entry's JSON text, empty when absent |
//! | `GET /renew` | renews the session id | 200 |
//! | `GET /clear` | clears the session | 200 |
//! | `GET /own/{sub}` | records a login of user `sub`: the entry [`INDEX_KEY`](ferroauth::session::index::INDEX_KEY) set to [`owner_entry`]`(sub)` | 200 |
//!
//! Errors answer as the adapter answers them (a session error: 503
//! `{"error": "session_unavailable"}` to `Accept: application/json`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ferroauth::session::index::{IndexedLogin, IndexedLogins, Owner, SharedIndex};
use tower_sessions_core::session::{Id, Record};
use tower_sessions_core::session_store::{self, SessionStore};

/// The issuer of the suite's logins.
const ISSUER: &str = "https://op.conformance.test";

/// The owner key of user `sub` in the suite.
pub fn owner_key(sub: &str) -> String {
    Owner::User {
        issuer: ISSUER,
        sub,
    }
    .key()
}

/// The [`INDEX_KEY`](ferroauth::session::index::INDEX_KEY) entry's JSON text that `GET /own/{sub}` stores: one login of user
/// `sub`.
pub fn owner_entry(sub: &str) -> String {
    let login = IndexedLogin {
        user: Some(owner_key(sub)),
        session: None,
        at: ferroauth::session::index::now_millis(),
    };
    let logins = IndexedLogins::from([("conformance".to_owned(), login)]);
    serde_json::to_string(&logins).expect("an index entry")
}

/// The app under test.
pub struct Target {
    /// What the report calls it (`"axum redis"`).
    pub name: String,
    /// `http://127.0.0.1:PORT` of the tiny app.
    pub base: String,
    /// How long the app keeps an unused session.
    pub inactivity: Duration,
    /// Whether sessions live in a server-side store (`false`: sealed cookies, where a
    /// session has no id to forget and no store to fail).
    pub server_side: bool,
    /// Makes the store fail (`true`) or work again (`false`): a switch in front of it, or
    /// the server itself stopped and restarted. `None` only without a server-side store.
    pub breaker: Option<Box<dyn FnMut(bool) + Send>>,
    /// The store's index of sessions by owner, when it has one.
    pub index: Option<SharedIndex>,
}

impl Target {
    /// The app at `base` called `name`, keeping unused sessions for `inactivity`: with a
    /// server-side store that `breaker` can break, or in sealed cookies (`None`).
    pub fn new(
        name: String,
        base: String,
        inactivity: Duration,
        breaker: Option<Box<dyn FnMut(bool) + Send>>,
    ) -> Self {
        Self {
            name,
            base,
            inactivity,
            server_side: breaker.is_some(),
            breaker,
            index: None,
        }
    }

    /// Also checks the store's index of sessions by owner (the app must serve `/own/{sub}`).
    pub fn with_index(mut self, index: Option<SharedIndex>) -> Self {
        self.index = index;
        self
    }
}

/// A switch that a test's store wrapper reads: while on, every call fails.
#[derive(Debug, Clone, Default)]
pub struct Fault(Arc<AtomicBool>);

impl Fault {
    /// Off: the store works.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether calls fail now.
    pub fn is_on(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Turns failures on or off.
    pub fn set(&self, on: bool) {
        self.0.store(on, Ordering::SeqCst);
    }

    /// A [`Target::breaker`] that flips this switch.
    pub fn breaker(&self) -> Box<dyn FnMut(bool) + Send> {
        let fault = self.clone();
        Box::new(move |on| fault.set(on))
    }
}

/// A tower-sessions-core store that fails every call while its [`Fault`] is on: the
/// breaker of stores a test cannot stop (memory, SQLite), a broken store as a browser
/// meets it.
#[derive(Debug, Clone)]
pub struct FaultyStore<S> {
    store: S,
    fault: Fault,
}

impl<S> FaultyStore<S> {
    /// `store`, failing while `fault` is on.
    pub fn new(store: S, fault: &Fault) -> Self {
        Self {
            store,
            fault: fault.clone(),
        }
    }

    fn check(&self) -> session_store::Result<()> {
        if self.fault.is_on() {
            return Err(session_store::Error::Backend(
                "the store is down (test)".into(),
            ));
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl<S: SessionStore> SessionStore for FaultyStore<S> {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.check()?;
        self.store.create(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.check()?;
        self.store.save(record).await
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        self.check()?;
        self.store.load(session_id).await
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        self.check()?;
        self.store.delete(session_id).await
    }
}

/// A browser: the cookies it was given, sent back as they are (`Max-Age` ignored, as a
/// copied cookie would be).
#[derive(Debug, Clone, Default)]
struct Browser {
    cookies: BTreeMap<String, String>,
}

impl Browser {
    /// `GET path`: the status and the body.
    async fn get(&mut self, http: &reqwest::Client, base: &str, path: &str) -> (u16, String) {
        let mut request = http
            .get(format!("{base}{path}"))
            .header("accept", "application/json");
        if !self.cookies.is_empty() {
            let header: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            request = request.header("cookie", header.join("; "));
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap_or_default();
            let pair = text.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let gone = value.is_empty() || text.to_ascii_lowercase().contains("max-age=0");
            if gone {
                self.cookies.remove(name.trim());
            } else {
                self.cookies
                    .insert(name.trim().to_owned(), value.to_owned());
            }
        }
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// The entry `key` as the app reads it (its JSON text, or empty).
    async fn read(&mut self, http: &reqwest::Client, base: &str, key: &str) -> String {
        let (status, body) = self.get(http, base, &format!("/get/{key}")).await;
        assert_eq!(status, 200, "GET /get/{key}: {body}");
        body
    }

    /// Records a login of user `sub` (`GET /own/{sub}`).
    async fn own(&mut self, http: &reqwest::Client, base: &str, sub: &str) {
        let (status, body) = self.get(http, base, &format!("/own/{sub}")).await;
        assert_eq!(status, 200, "GET /own/{sub}: {body}");
    }

    /// Sets the entry `key` to `value`.
    async fn put(&mut self, http: &reqwest::Client, base: &str, key: &str, value: &str) {
        let (status, body) = self.get(http, base, &format!("/put/{key}/{value}")).await;
        assert_eq!(status, 200, "GET /put/{key}/{value}: {body}");
    }
}

fn quoted(value: &str) -> String {
    format!("\"{value}\"")
}

/// Runs the suite against `target` (see the [module docs](self)); panics, naming the
/// target and the step, at the first thing that does not hold.
pub async fn run(mut target: Target) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("an http client");
    let (name, base) = (target.name.clone(), target.base.clone());
    let base = base.as_str();

    // Save, load, update.
    let mut browser = Browser::default();
    browser.put(&http, base, "a", "1").await;
    assert!(!browser.cookies.is_empty(), "{name}: no session cookie");
    assert_eq!(
        browser.read(&http, base, "a").await,
        quoted("1"),
        "{name}: load"
    );
    assert_eq!(
        Browser::default().read(&http, base, "a").await,
        "",
        "{name}: another browser sees nothing"
    );
    browser.put(&http, base, "a", "2").await;
    browser.put(&http, base, "b", "x").await;
    assert_eq!(
        browser.read(&http, base, "a").await,
        quoted("2"),
        "{name}: update"
    );
    assert_eq!(
        browser.read(&http, base, "b").await,
        quoted("x"),
        "{name}: update"
    );

    // Id renewal.
    let before = browser.clone();
    let (status, body) = browser.get(&http, base, "/renew").await;
    assert_eq!(status, 200, "{name}: renew {body}");
    assert_ne!(
        browser.cookies, before.cookies,
        "{name}: renew changes the cookie"
    );
    assert_eq!(
        browser.read(&http, base, "a").await,
        quoted("2"),
        "{name}: renew keeps entries"
    );
    if target.server_side {
        let mut old = before.clone();
        assert_eq!(
            old.read(&http, base, "a").await,
            "",
            "{name}: the old session id names no session after renewal"
        );
    }

    // Concurrent writes: many browsers, then one browser many times.
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let (http, base) = (http.clone(), base.to_owned());
            tokio::spawn(async move {
                let mut own = Browser::default();
                let value = format!("u{i}");
                own.put(&http, &base, "who", &value).await;
                (value, own.read(&http, &base, "who").await)
            })
        })
        .collect();
    for task in tasks {
        let (value, read) = task.await.expect("a browser task");
        assert_eq!(
            read,
            quoted(&value),
            "{name}: a concurrent browser read another's entry"
        );
    }
    let writes: Vec<_> = (0..8)
        .map(|i| {
            let (http, base, mut same) = (http.clone(), base.to_owned(), browser.clone());
            tokio::spawn(async move { same.get(&http, &base, &format!("/put/c/v{i}")).await })
        })
        .collect();
    for write in writes {
        let (status, body) = write.await.expect("a write task");
        assert_eq!(status, 200, "{name}: concurrent write {body}");
    }
    let last = browser.read(&http, base, "c").await;
    let written: Vec<String> = (0..8).map(|i| quoted(&format!("v{i}"))).collect();
    assert!(
        written.contains(&last) || (!target.server_side && last.is_empty()),
        "{name}: after concurrent writes, c = {last:?}"
    );

    // A damaged cookie is no session.
    let mut damaged = browser.clone();
    for value in damaged.cookies.values_mut() {
        let mut bytes = value.clone().into_bytes();
        let i = bytes.len() / 2;
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        *value = String::from_utf8(bytes).expect("ASCII cookie");
    }
    assert_eq!(
        damaged.read(&http, base, "a").await,
        "",
        "{name}: damaged cookie"
    );

    if let Some(index) = &target.index {
        sessions_by_owner(&http, base, &name, index, target.server_side).await;
    }

    // Expiry: unused for longer than the inactivity (stores keep whole seconds).
    let mut idle = Browser::default();
    idle.put(&http, base, "e", "1").await;
    if target.index.is_some() {
        idle.own(&http, base, "carol").await;
    }
    tokio::time::sleep(target.inactivity + Duration::from_millis(1500)).await;
    assert_eq!(
        idle.read(&http, base, "e").await,
        "",
        "{name}: an expired session"
    );
    if let Some(index) = &target.index {
        let ended = index.end_sessions(&owner_key("carol")).await;
        assert_eq!(
            ended.ok(),
            Some(0),
            "{name}: an expired session is not ended"
        );
    }

    // Kept alive: a session only read, at intervals shorter than its inactivity, outlives
    // it (the store's copy is written again once its expiry has slipped by the slack).
    if target.server_side {
        let mut reader = Browser::default();
        reader.put(&http, base, "r", "1").await;
        let step = target.inactivity * 2 / 5;
        for round in 1..=5 {
            tokio::time::sleep(step).await;
            assert_eq!(
                reader.read(&http, base, "r").await,
                quoted("1"),
                "{name}: a session read every {step:?} is kept alive (read {round})"
            );
        }
    }

    // Failure → 503, then recovery.
    match target.breaker.as_mut() {
        Some(breaker) => {
            let mut kept = Browser::default();
            kept.put(&http, base, "k", "1").await;
            breaker(true);
            for (mut who, path) in [
                (Browser::default(), "/put/f/1"),
                (kept.clone(), "/get/k"),
                (kept.clone(), "/put/k/2"),
            ] {
                let (status, body) = who.get(&http, base, path).await;
                assert_eq!(status, 503, "{name}: {path} while the store fails: {body}");
                let json: serde_json::Value = serde_json::from_str(&body)
                    .unwrap_or_else(|_| panic!("{name}: a JSON error: {body}"));
                assert_eq!(json["error"], "session_unavailable", "{name}: {body}");
            }
            breaker(false);
            recovers(&http, base, &name).await;
        }
        None => assert!(
            !target.server_side,
            "{name}: a server-side store needs a breaker for the failure step"
        ),
    }
}

/// Ending a user's sessions through the index ends those the user's logins own, a
/// renewed one included, and no other; a later login of the user lives; markers are used
/// once. A server-side store counts the sessions it ended; a revocation list (sealed
/// cookies) cannot, and answers 0.
async fn sessions_by_owner(
    http: &reqwest::Client,
    base: &str,
    name: &str,
    index: &SharedIndex,
    counts: bool,
) {
    let count = |n: usize| Some(if counts { n } else { 0 });
    let mut browsers: Vec<(Browser, &str)> = ["alice", "alice", "bob", "alice"]
        .into_iter()
        .map(|sub| (Browser::default(), sub))
        .collect();
    for (browser, sub) in &mut browsers {
        browser.own(http, base, sub).await;
        browser.put(http, base, "x", "1").await;
    }
    // A login renews the session id after the owners were recorded: the renewed session
    // must be the one indexed.
    let (status, body) = browsers[3].0.get(http, base, "/renew").await;
    assert_eq!(status, 200, "{name}: renew {body}");
    let ended = index.end_sessions(&owner_key("alice")).await;
    assert_eq!(ended.ok(), count(3), "{name}: alice's three sessions end");
    for (browser, sub) in &mut browsers {
        let expected = if *sub == "alice" {
            String::new()
        } else {
            quoted("1")
        };
        assert_eq!(
            browser.read(http, base, "x").await,
            expected,
            "{name}: after ending alice's sessions, a session of {sub}"
        );
    }
    let again = index.end_sessions(&owner_key("alice")).await;
    assert_eq!(again.ok(), Some(0), "{name}: nothing left to end");
    // A login after the end lives.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let mut later = Browser::default();
    later.own(http, base, "alice").await;
    later.put(http, base, "x", "2").await;
    assert_eq!(
        later.read(http, base, "x").await,
        quoted("2"),
        "{name}: alice logs in again"
    );
    let until = time::OffsetDateTime::now_utc() + time::Duration::minutes(5);
    let first = index.use_once("marker-1", until).await.ok();
    let replay = index.use_once("marker-1", until).await.ok();
    let other = index.use_once("marker-2", until).await.ok();
    assert_eq!(
        (first, replay, other),
        (Some(true), Some(false), Some(true)),
        "{name}: a marker is used once"
    );
}

/// Sessions work again within a few seconds of the store's return (a reconnecting pool may
/// need a moment).
async fn recovers(http: &reqwest::Client, base: &str, name: &str) {
    let mut last = String::new();
    for _ in 0..40 {
        let mut browser = Browser::default();
        let (status, body) = browser.get(http, base, "/put/r/1").await;
        if status == 200 {
            assert_eq!(
                browser.read(http, base, "r").await,
                quoted("1"),
                "{name}: after recovery"
            );
            return;
        }
        last = format!("{status} {body}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("{name}: sessions did not work again after the store came back: {last}");
}
