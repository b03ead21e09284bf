//! `ferroauth-endbench`: how long one back-channel logout token takes to end every session
//! of one user, on a real Redis (OpenID Connect Back-Channel Logout 1.0 through
//! [`ferroauth::web::logout::backchannel_logout`], the call behind the
//! `POST /backchannel-logout/{name}` route).
//!
//! It opens the Redis session store at `--redis` as an app does (index included), saves
//! `--sessions` sessions owned by one user of an in-process testkit provider (each with a
//! login's entries, about 1 KiB), then has the provider sign a logout token naming that
//! user and times the whole call: the token's checks, the single-use `jti`, and ending
//! the sessions. It checks that every session is gone, and repeats `--runs` times.
//!
//! ```text
//! redis-server --port 6399 --save '' &
//! cargo run --release -p ferroauth-bench --bin ferroauth-endbench -- --redis redis://127.0.0.1:6399
//! ```

use std::collections::HashMap;
use std::time::{Duration, Instant};

use clap::Parser;
use ferroauth::OAuth;
use ferroauth::session::index::{INDEX_KEY, IndexedLogin, IndexedLogins, Owner};
use ferroauth::session::store::{OpenStore, StoreChoice};
use ferroauth_testkit::{Client, TestProvider, User};
use serde_json::Value;
use tower_sessions_core::SessionStore;
use tower_sessions_core::session::{Id, Record};

/// Ending many sessions of one user with one logout token, on Redis.
#[derive(Debug, Parser)]
struct Args {
    /// The Redis server (a scratch one: the benchmark writes sessions to it).
    #[arg(long)]
    redis: String,
    /// Sessions of the user.
    #[arg(long, default_value_t = 10_000)]
    sessions: usize,
    /// Repetitions.
    #[arg(long, default_value_t = 5)]
    runs: usize,
}

const CLIENT: &str = "op";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::process::ExitCode {
    match run(Args::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ferroauth-endbench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let provider = TestProvider::builder()
        .users([User::new("alice")])
        .client(Client::confidential(
            "bench",
            "bench-secret",
            "http://127.0.0.1/auth/op",
        ))
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let settings = format!(
        "[clients.{CLIENT}]\nclient_id = \"bench\"\nclient_secret = \"bench-secret\"\nserver_metadata_url = \"{}/.well-known/openid-configuration\"\n",
        provider.issuer()
    );
    let settings =
        ferroauth::settings::Settings::from_toml_str(&settings).map_err(|e| e.to_string())?;
    let oauth = OAuth::from_settings(&settings).map_err(|e| e.to_string())?;
    let choice: StoreChoice = args.redis.parse().map_err(|e| format!("{e}"))?;
    let OpenStore::Shared(store) = choice.open(None).await.map_err(|e| e.to_string())? else {
        return Err("--redis must name a Redis server".into());
    };
    let index = store.index().ok_or("the Redis store has no index")?;
    let data = session_data(provider.issuer(), "alice");
    let mut times = Vec::new();
    for run in 1..=args.runs {
        let ids = save_sessions(&store, &data, args.sessions).await?;
        let token = provider
            .logout_token("bench", Some("alice"), None)
            .map_err(|e| e.to_string())?;
        let body = format!("logout_token={token}");
        let started = Instant::now();
        let ended = ferroauth::web::logout::backchannel_logout(
            &oauth,
            Some(&*index),
            CLIENT,
            body.as_bytes(),
        )
        .await
        .map_err(|e| e.to_string())?;
        let took = started.elapsed();
        let left = count_left(&store, &ids).await?;
        if ended != args.sessions || left != 0 {
            return Err(format!(
                "run {run}: {ended} sessions ended, {left} left of {}",
                args.sessions
            ));
        }
        println!("run {run}: {ended} sessions ended in {:.1} ms", ms(took));
        times.push(took);
    }
    times.sort();
    println!(
        "{} sessions of one user, one logout token, Redis: median {:.1} ms, min {:.1} ms, max {:.1} ms ({} runs)",
        args.sessions,
        ms(times[times.len() / 2]),
        ms(times[0]),
        ms(times[times.len() - 1]),
        times.len()
    );
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A logged-in session's entries: the user's owners, and a token and claims of the size
/// a login leaves.
fn session_data(issuer: &str, sub: &str) -> HashMap<String, Value> {
    let login = IndexedLogin {
        user: Some(Owner::User { issuer, sub }.key()),
        session: None,
        at: ferroauth::session::index::now_millis(),
    };
    let logins = IndexedLogins::from([(CLIENT.to_owned(), login)]);
    let owners = serde_json::to_string(&logins).unwrap_or_default();
    HashMap::from([
        (INDEX_KEY.to_owned(), Value::String(owners)),
        (
            "ferroauth.token.op".to_owned(),
            Value::String("x".repeat(900)),
        ),
        (
            "ferroauth.accounts".to_owned(),
            Value::String("y".repeat(300)),
        ),
    ])
}

/// Saves `n` sessions with `data`, 64 at a time, and gives their ids.
async fn save_sessions(
    store: &ferroauth::session::store::SharedStore,
    data: &HashMap<String, Value>,
    n: usize,
) -> Result<Vec<Id>, String> {
    let expiry = time::OffsetDateTime::now_utc() + time::Duration::hours(8);
    let mut ids = Vec::with_capacity(n);
    let mut pending = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (store, data) = (store.clone(), data.clone());
        pending.spawn(async move {
            let mut record = Record {
                id: Id::default(),
                data,
                expiry_date: expiry,
            };
            store.create(&mut record).await.map(|()| record.id)
        });
        if pending.len() >= 64 {
            ids.push(next(&mut pending).await?);
        }
    }
    while !pending.is_empty() {
        ids.push(next(&mut pending).await?);
    }
    Ok(ids)
}

async fn next(
    pending: &mut tokio::task::JoinSet<Result<Id, tower_sessions_core::session_store::Error>>,
) -> Result<Id, String> {
    match pending.join_next().await {
        Some(Ok(Ok(id))) => Ok(id),
        Some(Ok(Err(e))) => Err(e.to_string()),
        Some(Err(e)) => Err(e.to_string()),
        None => Err("no task".into()),
    }
}

/// How many of `ids` the store still holds.
async fn count_left(
    store: &ferroauth::session::store::SharedStore,
    ids: &[Id],
) -> Result<usize, String> {
    let mut left = 0;
    for id in ids {
        if store.load(id).await.map_err(|e| e.to_string())?.is_some() {
            left += 1;
        }
    }
    Ok(left)
}
