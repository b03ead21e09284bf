//! Tokens at rest (`ferroauth::session::at_rest`): real logins against real session
//! stores, then the store's raw contents read as a dump or a backup would (Redis `KEYS` and
//! `GET`, a PostgreSQL `SELECT` of the session table, the SQLite files' bytes).
//!
//! Each test runs the demo over one store twice: first without keys, where the dump must
//! hold the user's tokens in clear (the check can see a leak), then with keys (the demo's
//! `--cookie-keys`), where it must hold no access or refresh token at all, while the API
//! and a refresh with the stored token still work. The token strings are learned from the
//! dump itself: found in clear, or opened with the test's keys from the sealed entries.

mod support;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;

use ferroauth::OAuth;
use ferroauth::session::at_rest::TokenSealer;
use ferroauth::session::sealed::CookieKeys;
use ferroauth::session::token_key;
use ferroauth_axum::stores::StoreChoice;
use ferroauth_demo::DemoOptions;
use ferroauth_testkit::TestProvider;
use reqwest::Method;
use support::Framework;
use support::harness::{self, Agent, CLIENT, Instance};
use support::services::{Postgres, Redis};

/// The id of the test's key: sealed values in a dump start with it.
const KID: &str = "atrest";

/// Where a test's sessions live, and how to dump them.
enum Store {
    Redis(Redis),
    Postgres(Postgres),
    Sqlite(tempfile::TempDir),
}

impl Store {
    fn choice(&self) -> StoreChoice {
        let url = match self {
            Store::Redis(redis) => redis.url(),
            Store::Postgres(pg) => pg.url(),
            Store::Sqlite(dir) => format!("sqlite://{}", dir.path().join("sessions.db").display()),
        };
        url.parse().unwrap()
    }

    /// Everything the store holds, as raw bytes.
    fn dump(&self) -> Vec<u8> {
        match self {
            Store::Redis(redis) => redis_dump(redis.port),
            Store::Postgres(pg) => {
                let rows = pg.query("SELECT id, encode(data, 'hex') FROM tower_sessions.session");
                let mut dump = Vec::new();
                for line in rows.lines() {
                    let (id, hex) = line.split_once('|').expect("id|data");
                    dump.extend_from_slice(id.as_bytes());
                    dump.extend(from_hex(hex));
                }
                dump
            }
            // The database file and its write-ahead log, as a file backup copies them.
            Store::Sqlite(dir) => {
                let mut dump = Vec::new();
                for entry in std::fs::read_dir(dir.path()).unwrap() {
                    let path: PathBuf = entry.unwrap().path();
                    dump.extend(std::fs::read(path).unwrap());
                }
                dump
            }
        }
    }
}

fn from_hex(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

/// Sends one Redis command and reads its reply (RESP 2), appending every string in it to
/// `out`; returns the reply's bulk strings.
fn redis_command(stream: &mut BufReader<TcpStream>, args: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut request = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        request.extend(format!("${}\r\n", arg.len()).into_bytes());
        request.extend_from_slice(arg);
        request.extend_from_slice(b"\r\n");
    }
    stream.get_mut().write_all(&request).unwrap();
    let mut strings = Vec::new();
    read_reply(stream, &mut strings);
    strings
}

fn read_reply(stream: &mut BufReader<TcpStream>, strings: &mut Vec<Vec<u8>>) {
    let mut line = String::new();
    stream.read_line(&mut line).unwrap();
    let (kind, rest) = line.trim_end().split_at(1);
    match kind {
        "*" => {
            for _ in 0..rest.parse::<i64>().unwrap().max(0) {
                read_reply(stream, strings);
            }
        }
        "$" => {
            let Ok(len) = usize::try_from(rest.parse::<i64>().unwrap()) else {
                return;
            };
            let mut data = vec![0u8; len + 2];
            stream.read_exact(&mut data).unwrap();
            data.truncate(len);
            strings.push(data);
        }
        "+" => strings.push(rest.as_bytes().to_vec()),
        ":" => {}
        _ => panic!("redis answered {line}"),
    }
}

/// Every key of the Redis server and its value: the sessions (strings) and the index of
/// sessions by owner (sorted sets of session ids).
fn redis_dump(port: u16) -> Vec<u8> {
    let mut stream = BufReader::new(TcpStream::connect(("127.0.0.1", port)).unwrap());
    let keys = redis_command(&mut stream, &[b"KEYS", b"*"]);
    assert!(!keys.is_empty(), "the store holds sessions");
    let mut dump = Vec::new();
    for key in keys {
        let kind = redis_command(&mut stream, &[b"TYPE", &key]);
        let value = match kind.first().map(Vec::as_slice) {
            Some(b"zset") => redis_command(&mut stream, &[b"ZRANGE", &key, b"0", b"-1"]),
            Some(b"string") | None => redis_command(&mut stream, &[b"GET", &key]),
            Some(other) => panic!("unexpected Redis type {}", String::from_utf8_lossy(other)),
        };
        dump.extend(key);
        dump.extend(value.into_iter().flatten());
    }
    dump
}

fn contains(dump: &[u8], needle: &str) -> bool {
    dump.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// The access and refresh tokens of the dump: `clear`, those in clear (after
/// `"access_token":"`, however escaped), and `opened`, those the sealer opens from the
/// sealed values under [`KID`].
struct Found {
    clear: BTreeSet<String>,
    opened: BTreeSet<String>,
}

fn tokens_in(dump: &[u8], sealer: &TokenSealer) -> Found {
    let text = String::from_utf8_lossy(dump);
    let token_char = |c: char| c.is_ascii_alphanumeric() || "-_.~+/=".contains(c);
    let mut found = Found {
        clear: BTreeSet::new(),
        opened: BTreeSet::new(),
    };
    for field in ["access_token", "refresh_token"] {
        for (at, _) in text.match_indices(field) {
            let value: String = text[at + field.len()..]
                .trim_start_matches(['\\', '"', ':'])
                .chars()
                .take_while(|c| token_char(*c))
                .collect();
            if value.len() >= 16 {
                found.clear.insert(value);
            }
        }
    }
    let entry = token_key(CLIENT);
    for (at, _) in text.match_indices(&format!("{KID}.")) {
        let sealed: String = text[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
            .collect();
        if let Ok(json) = sealer.open(&entry, &format!("\"{sealed}\"")) {
            let token: serde_json::Value = serde_json::from_str(&json).unwrap();
            for field in ["access_token", "refresh_token"] {
                if let Some(value) = token[field].as_str() {
                    found.opened.insert(value.to_owned());
                }
            }
        }
    }
    found
}

/// Checks that the dump holds no token in clear but (pieces of) those `allowed`, and
/// gives the tokens opened from the sealed entries.
fn sealed_only(
    name: &str,
    store: &Store,
    sealer: &TokenSealer,
    allowed: &BTreeSet<String>,
) -> BTreeSet<String> {
    let dump = store.dump();
    let found = tokens_in(&dump, sealer);
    for token in &found.clear {
        assert!(
            allowed.iter().any(|a| a.contains(token.as_str())),
            "{name}: a token is readable in the store dump: {token:.6}..."
        );
    }
    for token in &found.opened {
        assert!(
            !contains(&dump, token),
            "{name}: a sealed token is also readable in the store dump"
        );
    }
    found.opened
}

fn keys() -> String {
    CookieKeys::generate(KID).unwrap()
}

fn sealer(keys: &str) -> TokenSealer {
    TokenSealer::new(CookieKeys::parse(keys).unwrap())
}

/// The demo on `framework` over `store`, with `keys` as its `--cookie-keys`.
async fn demo(
    framework: Framework,
    reserved: harness::Reserved,
    provider: &TestProvider,
    store: &Store,
    keys: Option<&str>,
) -> Instance {
    let oauth = OAuth::from_settings(&harness::settings_for(provider)).unwrap();
    reserved
        .serve_demo(
            framework,
            oauth,
            DemoOptions::default(),
            &store.choice(),
            keys,
        )
        .await
}

async fn api_status(agent: &mut Agent, http: &reqwest::Client, base: &str) -> u16 {
    let url = format!("{base}/api/{CLIENT}/me");
    let response = agent.send(http, Method::GET, &url).await.unwrap();
    response.status().as_u16()
}

/// The test: see the module docs.
async fn tokens_at_rest(framework: Framework, store: Store) {
    let name = format!("{framework:?} over {:?}", store.choice());
    let http = harness::http();
    let keys = keys();
    let sealer = sealer(&keys);
    let (clear, sealed) = (harness::reserve().await, harness::reserve().await);
    let provider = harness::provider(&[&clear.base, &sealed.base], 10).await;

    // Without keys: the dump holds the user's tokens in clear.
    let clear = demo(framework, clear, &provider, &store, None).await;
    let mut before = Agent::new();
    before
        .login(&http, &clear.base, &clear.base, "u1")
        .await
        .unwrap();
    assert_eq!(api_status(&mut before, &http, &clear.base).await, 200);
    let dump = store.dump();
    let clear_tokens = tokens_in(&dump, &sealer).clear;
    assert!(
        clear_tokens.len() >= 2,
        "{name}: without keys, an access and a refresh token in clear ({} found)",
        clear_tokens.len()
    );
    assert!(clear_tokens.iter().all(|t| contains(&dump, t)));

    // With keys, over the same store: a login's tokens are sealed.
    let sealed = demo(framework, sealed, &provider, &store, Some(&keys)).await;
    let base = sealed.base.clone();
    let mut agent = Agent::new();
    agent.login(&http, &base, &base, "u2").await.unwrap();
    assert_eq!(
        api_status(&mut agent, &http, &base).await,
        200,
        "{name}: API"
    );
    let opened = sealed_only(&name, &store, &sealer, &clear_tokens);
    assert!(
        opened.len() >= 2,
        "{name}: the login's access and refresh token, opened with the keys ({} found)",
        opened.len()
    );

    // The token stored in clear before is dropped at its first read (log in again), and
    // removed from the store.
    assert_eq!(
        api_status(&mut before, &http, &base).await,
        401,
        "{name}: a token stored in clear is not used once tokens are sealed"
    );
    // (SQLite's freed pages keep old bytes, cut anywhere, until they are reused.)
    let leftovers = match store {
        Store::Sqlite(_) => clear_tokens.clone(),
        _ => BTreeSet::new(),
    };
    sealed_only(&name, &store, &sealer, &leftovers);

    // A refresh with the stored refresh token, then the API with the new access token.
    let refresh = format!("{base}/refresh/{CLIENT}");
    let refreshed = agent.send(&http, Method::POST, &refresh).await.unwrap();
    assert_eq!(refreshed.status(), 200, "{name}: refresh");
    assert_eq!(
        api_status(&mut agent, &http, &base).await,
        200,
        "{name}: API"
    );
    let after = sealed_only(&name, &store, &sealer, &leftovers);
    assert!(
        after.difference(&opened).count() >= 1,
        "{name}: the refreshed token is stored, sealed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_redis_dump_holds_no_token() {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Redis]) {
        return;
    }
    tokens_at_rest(Framework::Axum, Store::Redis(Redis::start())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_redis_dump_holds_no_token() {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Redis]) {
        return;
    }
    tokens_at_rest(Framework::Actix, Store::Redis(Redis::start())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_postgres_dump_holds_no_token() {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Postgres])
    {
        return;
    }
    tokens_at_rest(Framework::Axum, Store::Postgres(Postgres::start())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_sqlite_files_hold_no_token() {
    tokens_at_rest(Framework::Axum, Store::Sqlite(tempfile::tempdir().unwrap())).await;
}
