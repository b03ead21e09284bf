//! How many times a request waits on the shared stores: the demo (axum and actix-web) over
//! a real redis-server and a real PostgreSQL, each reached through a counting proxy.
//!
//! The proxy forwards bytes both ways and counts a **round trip** each time the app sends
//! after the server has answered: what is sent together (a pipeline, one script, one
//! statement's messages) is one, whatever its number of commands. For Redis it also reads
//! the commands (RESP arrays) so that a failure says which ones, and so that the user
//! store's scripts (keys `ferroauth:identity:...`) are told apart from the session
//! store's; for PostgreSQL, whose statements are prepared once and then named, it records
//! the message types and counts the total. What must hold, per request:
//!
//! | request | session store | user store |
//! |---|---:|---:|
//! | `GET /login/{name}` (a new session with its pending login) | 1 | 0 |
//! | the callback (load; the renewed id's deletion, the new id's write and the owners' index, in one script or statement) | 2 | 1 (find and update, one script or statement) |
//! | `GET /api/{name}/...` with a session that changes nothing | 1 | 0 |
//!
//! The first login of a user also creates it (one more for the user store), kept out by
//! warming up first; each PostgreSQL statement's first use on a pooled connection prepares
//! it (a `Parse` round trip, once per connection), not counted. sqlx also checks every PostgreSQL connection as it
//! returns to its pool (a lone `Sync`, after the statement has answered, which no request
//! waits for); those are not counted.

mod support;

use std::sync::{Arc, Mutex};

use ferroauth::OAuth;
use ferroauth::users::Users;
use ferroauth_axum::stores::StoreChoice;
use ferroauth_demo::DemoOptions;
use reqwest::Method;
use support::Framework;
use support::harness::{self, Agent, CLIENT};
use support::services::{Postgres, Redis};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The round trips seen, each the commands sent in it (name and first key).
#[derive(Default)]
struct Trips(Mutex<Vec<Vec<String>>>);

impl Trips {
    fn take(&self) -> Vec<Vec<String>> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

/// What a proxy reads of the app's messages.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Protocol {
    Redis,
    Postgres,
}

/// A proxy on a free port in front of `target` (`host:port`), counting into `trips`:
/// its `host:port`.
async fn counting_proxy(target: String, protocol: Protocol, trips: Arc<Trips>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let server = TcpStream::connect(&target).await.unwrap();
            tokio::spawn(relay(client, server, protocol, Arc::clone(&trips)));
        }
    });
    address.to_string()
}

/// Relays one connection; a read from the app after an answer from Redis opens a round
/// trip.
async fn relay(client: TcpStream, server: TcpStream, protocol: Protocol, trips: Arc<Trips>) {
    let (mut from_app, mut to_app) = client.into_split();
    let (mut from_redis, mut to_redis) = server.into_split();
    let answered = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let seen = Arc::clone(&answered);
    tokio::spawn(async move {
        let mut buf = vec![0; 16 * 1024];
        while let Ok(n @ 1..) = from_redis.read(&mut buf).await {
            seen.store(true, std::sync::atomic::Ordering::SeqCst);
            if to_app.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
    });
    let mut buf = vec![0; 16 * 1024];
    let mut pending = Vec::new();
    let mut current = None;
    while let Ok(n @ 1..) = from_app.read(&mut buf).await {
        if answered.swap(false, std::sync::atomic::Ordering::SeqCst) {
            let mut all = trips.0.lock().unwrap();
            all.push(Vec::new());
            current = Some(all.len() - 1);
        }
        pending.extend_from_slice(&buf[..n]);
        while let Some((command, used)) = match protocol {
            Protocol::Redis => parse_command(&pending),
            Protocol::Postgres => parse_message(&pending),
        } {
            pending.drain(..used);
            if let Some(i) = current {
                // A `take` may have emptied the list since: then this trip is a new one.
                let mut all = trips.0.lock().unwrap();
                match all.get_mut(i) {
                    Some(trip) => trip.push(command),
                    None => {
                        all.push(vec![command]);
                        current = Some(all.len() - 1);
                    }
                }
            }
        }
        if to_redis.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
}

/// One RESP command (an array of bulk strings) at the start of `buf`: its name and first
/// key (for `EVAL`, the script's first key), and the bytes it took; `None` when
/// incomplete.
fn parse_command(buf: &[u8]) -> Option<(String, usize)> {
    fn line(buf: &[u8], at: usize) -> Option<(&[u8], usize)> {
        let end = buf[at..].windows(2).position(|w| w == b"\r\n")? + at;
        Some((&buf[at..end], end + 2))
    }
    let (head, mut at) = line(buf, 0)?;
    let count: usize = std::str::from_utf8(head.strip_prefix(b"*")?)
        .ok()?
        .parse()
        .ok()?;
    let mut parts = Vec::with_capacity(count);
    for _ in 0..count {
        let (len, start) = line(buf, at)?;
        let len: usize = std::str::from_utf8(len.strip_prefix(b"$")?)
            .ok()?
            .parse()
            .ok()?;
        let end = start + len;
        if buf.len() < end + 2 {
            return None;
        }
        parts.push(String::from_utf8_lossy(&buf[start..end]).into_owned());
        at = end + 2;
    }
    let name = parts.first().cloned().unwrap_or_default().to_uppercase();
    let key = match name.as_str() {
        "EVAL" | "EVALSHA" => parts.get(3),
        _ => parts.get(1),
    };
    let key: String = key
        .map(|k| k.chars().take(40).collect())
        .unwrap_or_default();
    Some((format!("{name} {key}"), at))
}

/// One PostgreSQL frontend message at the start of `buf`: its type and the bytes it took
/// (the startup messages, which have no type, count as `startup`).
fn parse_message(buf: &[u8]) -> Option<(String, usize)> {
    let length = |at: usize| -> Option<usize> {
        let bytes: [u8; 4] = buf.get(at..at + 4)?.try_into().ok()?;
        Some(u32::from_be_bytes(bytes) as usize)
    };
    let (name, size) = match buf.first()? {
        kind if kind.is_ascii_alphabetic() => ((*kind as char).to_string(), 1 + length(1)?),
        _ => ("startup".to_owned(), length(0)?),
    };
    (buf.len() >= size).then_some((name, size))
}

/// Whether a round trip was the user store's.
fn is_users(trip: &[String]) -> bool {
    trip.iter()
        .any(|c| c.contains(" ferroauth:identity:") || c.contains(" ferroauth:user:"))
}

/// (session store, user store) round trips of `trips`.
fn split(trips: &[Vec<String>]) -> (usize, usize) {
    let users = trips.iter().filter(|t| is_users(t)).count();
    (trips.len() - users, users)
}

/// A shared store behind a counting proxy, and the URL that goes through it.
struct Server {
    url: String,
    protocol: Protocol,
    _server: Box<dyn std::any::Any + Send>,
}

async fn redis(trips: &Arc<Trips>) -> Server {
    let redis = Redis::start();
    let direct = redis.url().trim_start_matches("redis://").to_owned();
    let proxy = counting_proxy(direct, Protocol::Redis, Arc::clone(trips)).await;
    Server {
        url: format!("redis://{proxy}"),
        protocol: Protocol::Redis,
        _server: Box::new(redis),
    }
}

async fn postgres(trips: &Arc<Trips>) -> Server {
    let postgres = Postgres::start();
    let url = postgres.url();
    let direct = url.split('@').nth(1).unwrap().split('/').next().unwrap();
    let proxy = counting_proxy(direct.to_owned(), Protocol::Postgres, Arc::clone(trips)).await;
    Server {
        url: url.replace(direct, &proxy),
        protocol: Protocol::Postgres,
        _server: Box::new(postgres),
    }
}

/// Checks a request's round trips: `sessions` of the session store and `users` of the user
/// store (with PostgreSQL, their total).
fn expect(server: &Server, what: &str, trips: &[Vec<String>], sessions: usize, users: usize) {
    match server.protocol {
        Protocol::Redis => assert_eq!(split(trips), (sessions, users), "{what}: {trips:?}"),
        Protocol::Postgres => {
            // sqlx checks each connection as it goes back to its pool, with a `Sync` of
            // its own, after the statement has answered: no request waits for it. A
            // statement's first use on a connection prepares it (`Parse`), once per
            // connection of the pool.
            let counted = |t: &&Vec<String>| *t != &["S"] && t.first().is_none_or(|m| m != "P");
            let waited = trips.iter().filter(counted).count();
            assert_eq!(waited, sessions + users, "{what}: {trips:?}");
        }
    }
}

async fn round_trips(framework: Framework, server: Server, trips: Arc<Trips>) {
    let choice: StoreChoice = server.url.parse().unwrap();
    let reserved = harness::reserve().await;
    let provider = harness::provider(&[&reserved.base], 2).await;
    let oauth = OAuth::from_settings(&harness::settings_for(&provider)).unwrap();
    oauth.set_users(Users::shared(choice.open_user_store().await.unwrap()));
    let app = reserved
        .serve_demo(framework, oauth, DemoOptions::default(), &choice, None)
        .await;
    let base = app.base.clone();
    let http = harness::http();
    let user = harness::user(0, 2);
    let api = format!("{base}/api/{CLIENT}/me");

    // Warming up: the user is created, and every statement prepared.
    for _ in 0..3 {
        let mut agent = Agent::new();
        agent.login(&http, &base, &base, &user).await.unwrap();
        let response = agent.send(&http, Method::GET, &api).await.unwrap();
        assert_eq!(response.status(), 200);
    }

    for login in 0..3 {
        let what = format!("{framework:?} on {:?}, login {login}", server.protocol);
        let mut agent = Agent::new();
        trips.take();
        let callback = agent.start_login(&http, &base, &user).await.unwrap();
        expect(&server, &format!("{what}: /login"), &trips.take(), 1, 0);

        let (status, body) = agent.finish(&http, &callback, &base).await.unwrap();
        assert_eq!(status, 200, "{body}");
        expect(&server, &format!("{what}: callback"), &trips.take(), 2, 1);

        for call in 0..3 {
            let response = agent.send(&http, Method::GET, &api).await.unwrap();
            assert_eq!(response.status(), 200);
            expect(
                &server,
                &format!("{what}: API call {call}"),
                &trips.take(),
                1,
                0,
            );
        }
    }
}

#[tokio::test]
async fn axum_on_redis_makes_one_load_and_one_save_per_request() {
    let trips = Arc::new(Trips::default());
    round_trips(Framework::Axum, redis(&trips).await, trips).await;
}

#[tokio::test]
async fn actix_on_redis_makes_one_load_and_one_save_per_request() {
    let trips = Arc::new(Trips::default());
    round_trips(Framework::Actix, redis(&trips).await, trips).await;
}

#[tokio::test]
async fn axum_on_postgres_makes_one_load_and_one_save_per_request() {
    let trips = Arc::new(Trips::default());
    round_trips(Framework::Axum, postgres(&trips).await, trips).await;
}

#[tokio::test]
async fn actix_on_postgres_makes_one_load_and_one_save_per_request() {
    let trips = Arc::new(Trips::default());
    round_trips(Framework::Actix, postgres(&trips).await, trips).await;
}
