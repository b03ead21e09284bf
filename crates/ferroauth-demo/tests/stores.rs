//! The store suite: the same tests for every session store the demo supports — memory,
//! SQLite, PostgreSQL (a real server on a free port), Redis (a real redis-server) and the
//! sealed cookie. Each store runs two demo instances (each with its own store client or
//! pool) over one shared testkit provider; logins start on one instance and finish on the
//! other.
//!
//! `FERROAUTH_CROSS_LOGINS` sets the number of cross-instance logins per direction
//! (default 1,000).

mod support;

use ferroauth::OAuth;
use ferroauth::session::sealed::CookieKeys;

/// The sealed cookie of the pending logins.
const PENDING_COOKIE: &str = "fa_pending";
use ferroauth_axum::memory_store::MemoryStore;
use ferroauth_axum::stores::StoreChoice;
use ferroauth_demo::DemoOptions;
use ferroauth_testkit::TestProvider;
use support::Framework;
use support::framework::{axum_for, axum_with_store};
use support::harness::{self, Agent, CLIENT, Instance};
use support::services::{Postgres, Redis};

const USERS: usize = 50;
const IN_FLIGHT: usize = 32;

fn cross_logins() -> usize {
    std::env::var("FERROAUTH_CROSS_LOGINS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(1000)
}

/// How the demo instances of a run keep sessions.
#[derive(Clone)]
enum Backend {
    /// One in-memory store object shared by both instances (same process).
    Memory(MemoryStore),
    /// A store URL; each instance connects on its own.
    Url(StoreChoice),
    /// Sealed cookies under these keys.
    Cookie(String),
    /// The actix demo over one in-memory actix-session store shared by both instances.
    ActixMemory(ferroauth_actix::memory_store::MemoryStore),
    /// The actix demo over a store URL (Redis), each instance connecting on its own.
    ActixUrl(StoreChoice),
    /// The actix demo with sealed cookies under these keys.
    ActixCookie(String),
}

impl Backend {
    /// The demo over this backend, for `provider`, on its reserved port.
    async fn serve(&self, reserved: harness::Reserved, provider: &TestProvider) -> Instance {
        let oauth = OAuth::from_settings(&harness::settings_for(provider)).unwrap();
        let options = DemoOptions::default();
        let actix = Framework::Actix;
        match self {
            Backend::ActixMemory(store) => {
                let store = ferroauth_actix::stores::Store::Memory(store.clone());
                reserved.serve_actix(oauth, options, store)
            }
            Backend::ActixUrl(choice) => {
                reserved
                    .serve_demo(actix, oauth, options, choice, None)
                    .await
            }
            Backend::ActixCookie(keys) => {
                let choice = StoreChoice::Cookie;
                reserved
                    .serve_demo(actix, oauth, options, &choice, Some(keys))
                    .await
            }
            _ => reserved.serve(self.app(provider).await),
        }
    }

    async fn app(&self, provider: &TestProvider) -> axum::Router {
        let oauth = OAuth::from_settings(&harness::settings_for(provider)).unwrap();
        let options = DemoOptions::default();
        match self {
            Backend::Memory(store) => axum_with_store(oauth, options, store.clone()),
            Backend::Url(choice) => axum_for(oauth, options, choice).await,
            Backend::Cookie(keys) => {
                let mut options = options;
                options.sessions = options.sessions.keys(CookieKeys::parse(keys).unwrap());
                axum_for(oauth, options, &StoreChoice::Cookie).await
            }
            _ => unreachable!("actix backends are served by Backend::serve"),
        }
    }
}

struct Pair {
    a: Instance,
    b: Instance,
    _provider: TestProvider,
}

async fn pair(backend: &Backend) -> Pair {
    pair_with(backend, backend).await
}

async fn pair_with(backend_a: &Backend, backend_b: &Backend) -> Pair {
    let a = harness::reserve().await;
    let b = harness::reserve().await;
    let provider = harness::provider(&[&a.base, &b.base], USERS).await;
    let a = backend_a.serve(a, &provider).await;
    let b = backend_b.serve(b, &provider).await;
    Pair {
        a,
        b,
        _provider: provider,
    }
}

/// The suite every store runs.
async fn suite(name: &str, backend: Backend) {
    let p = pair(&backend).await;
    let http = harness::http();
    let (a, b) = (p.a.base.clone(), p.b.base.clone());

    // 1. One login, the API with its token, logout.
    let mut agent = Agent::new();
    agent.login(&http, &a, &a, "u1").await.unwrap();
    let api = agent
        .send(&http, reqwest::Method::GET, &format!("{b}/api/{CLIENT}/me"))
        .await
        .unwrap();
    assert_eq!(api.status(), 200, "{name}: logged in on A, known on B");
    let me: serde_json::Value = api.json().await.unwrap();
    assert_eq!(me["sub"], "u1", "{name}: the provider saw u1's token: {me}");
    let out = agent
        .send(&http, reqwest::Method::POST, &format!("{b}/logout"))
        .await
        .unwrap();
    assert_eq!(out.status(), 200, "{name}: logout");
    let api = agent
        .send(&http, reqwest::Method::GET, &format!("{a}/api/{CLIENT}/me"))
        .await
        .unwrap();
    assert_eq!(api.status(), 401, "{name}: logged out everywhere");

    // 2. Many logins across instances, both ways, concurrently.
    let n = cross_logins();
    for (from, to, label) in [(&a, &b, "A->B"), (&b, &a, "B->A")] {
        let tally = harness::run_logins(
            &http,
            std::slice::from_ref(from),
            std::slice::from_ref(to),
            n,
            IN_FLIGHT,
            &harness::user_names(USERS),
        )
        .await;
        println!(
            "{name}: {label}: {} of {n} logins succeeded, {} mix-ups",
            tally.ok, tally.mixups
        );
        assert_eq!(tally.mixups, 0, "{name} {label}: {:?}", tally.failures);
        assert_eq!(
            tally.ok,
            n,
            "{name} {label}: {:?}",
            &tally.failures[..tally.failures.len().min(5)]
        );
    }

    // 3. A callback is single use, on either instance.
    let mut agent = Agent::new();
    let callback = agent.start_login(&http, &a, "u2").await.unwrap();
    let before = agent.clone();
    let (status, _) = agent.finish(&http, &callback, &b).await.unwrap();
    assert_eq!(status, 200, "{name}: replay setup");
    let (status, body) = agent.finish(&http, &callback, &a).await.unwrap();
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("state_reused")),
        "{name}: replay {body}"
    );
    // Even with the cookies from before the callback (for the cookie store, the old
    // sealed value still holds the pending login), the provider's single-use code stops
    // a second login.
    let mut old = before;
    let (status, body) = old.finish(&http, &callback, &b).await.unwrap();
    // Server-side stores renewed the session id at the login, so the old cookie names no
    // session any more; the old sealed cookie still holds the record, and the provider
    // refuses.
    let expected = match backend {
        Backend::Cookie(_) | Backend::ActixCookie(_) => (502, Some("invalid_grant")),
        _ => (400, Some("session_missing")),
    };
    assert_eq!(
        (status, body["error"].as_str()),
        expected,
        "{name}: replay with old cookies {body}"
    );

    // 4. A flood of /login cannot grow a session without bound.
    let mut agent = Agent::new();
    let first = agent.start_login(&http, &a, "u3").await.unwrap();
    for _ in 0..200 {
        let r = agent
            .send(&http, reqwest::Method::GET, &format!("{a}/login/{CLIENT}"))
            .await
            .unwrap();
        assert_eq!(r.status(), 302, "{name}: flood");
    }
    let last = agent.start_login(&http, &b, "u3").await.unwrap();
    let cookie_bytes: usize = agent
        .cookies
        .iter()
        .map(|(k, v)| k.len() + v.len() + 2)
        .sum();
    assert!(
        cookie_bytes < 4096,
        "{name}: cookies grew to {cookie_bytes} bytes"
    );
    if let Backend::Memory(store) = &backend {
        let largest = store.largest_session_bytes();
        assert!(
            largest < 16 * 1024,
            "{name}: a session grew to {largest} bytes"
        );
    }
    let (status, body) = agent.finish(&http, &first, &b).await.unwrap();
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("state_unknown")),
        "{name}: the oldest of a flood is dropped {body}"
    );
    let (status, body) = agent.finish(&http, &last, &a).await.unwrap();
    assert_eq!(status, 200, "{name}: the newest of a flood works {body}");

    // 5. Junk callbacks are refused as bad requests (this browser has no session yet).
    let mut agent = Agent::new();
    let long = "x".repeat(2000);
    for (query, code) in [
        ("code=x".to_owned(), "state_missing"),
        (format!("code=x&state={long}"), "session_missing"),
        ("code=x&state=nope".to_owned(), "session_missing"),
        ("code=x&state=a&state=b".to_owned(), "callback_invalid"),
    ] {
        assert_eq!(
            junk_callback(&http, &mut agent, &b, &query).await,
            (400, Some(code.to_owned())),
            "{name}: junk {query:.40}"
        );
    }
    // Once the browser has a session, a state it never issued is unknown.
    agent.start_login(&http, &a, "u3").await.unwrap();
    assert_eq!(
        junk_callback(&http, &mut agent, &b, "code=x&state=nope").await,
        (400, Some("state_unknown".to_owned())),
        "{name}: a foreign state with a session"
    );
    println!("{name}: suite passed");
}

/// A callback with `query` at the instance `base`: the status and the error code.
async fn junk_callback(
    http: &reqwest::Client,
    agent: &mut Agent,
    base: &str,
    query: &str,
) -> (u16, Option<String>) {
    let r = agent
        .send(
            http,
            reqwest::Method::GET,
            &format!("{base}/auth/{CLIENT}?{query}"),
        )
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body: serde_json::Value = r.json().await.unwrap_or_default();
    (status, body["error"].as_str().map(str::to_owned))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_memory() {
    suite("memory", Backend::Memory(MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_store_memory() {
    let store = ferroauth_actix::memory_store::MemoryStore::new();
    suite("actix memory", Backend::ActixMemory(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_store_redis() {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Redis]) {
        return;
    }
    let redis = Redis::start();
    suite(
        "actix redis",
        Backend::ActixUrl(redis.url().parse().unwrap()),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_store_cookie() {
    let keys = CookieKeys::generate("k1").unwrap();
    suite("actix cookie", Backend::ActixCookie(keys)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("sessions.db").display());
    suite("sqlite", Backend::Url(url.parse().unwrap())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_postgres() {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Postgres])
    {
        return;
    }
    let pg = Postgres::start();
    suite("postgres", Backend::Url(pg.url().parse().unwrap())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_redis() {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Redis]) {
        return;
    }
    let redis = Redis::start();
    suite("redis", Backend::Url(redis.url().parse().unwrap())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_cookie() {
    suite(
        "cookie",
        Backend::Cookie(CookieKeys::generate("k1").unwrap()),
    )
    .await;
}

/// SQLite survives a restart of the app: a login started before finishes after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("sessions.db").display());
    let backend = Backend::Url(url.parse().unwrap());
    let http = harness::http();
    let mut agent = Agent::new();
    let first = harness::reserve().await;
    let second = harness::reserve().await;
    let provider = harness::provider(&[&first.base, &second.base], USERS).await;
    let first = backend.serve(first, &provider).await;
    let callback = agent.start_login(&http, &first.base, "u4").await.unwrap();
    drop(first);
    let second = backend.serve(second, &provider).await;
    let (status, body) = agent.finish(&http, &callback, &second.base).await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["userinfo"]["sub"], "u4");
}

fn flip_one_char(value: &str) -> String {
    let (id, data) = value.split_once('.').unwrap();
    let mut bytes = data.as_bytes().to_vec();
    let i = bytes.len() / 2;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    format!("{id}.{}", String::from_utf8(bytes).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_tampered_is_rejected() {
    let backend = Backend::Cookie(CookieKeys::generate("k1").unwrap());
    let p = pair(&backend).await;
    let http = harness::http();
    let mut agent = Agent::new();
    let callback = agent.start_login(&http, &p.a.base, "u5").await.unwrap();
    let sealed = agent
        .cookies
        .get(PENDING_COOKIE)
        .expect("pending cookie")
        .clone();
    // The pending login (its redirect URI, client, state) is not readable in the cookie.
    // (Checking a short plaintext such as the user name against random base64 would fail
    // now and then by chance.)
    let (kid, body) = sealed.split_once('.').expect("a key id prefix");
    assert_eq!(kid, "k1");
    let raw = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .expect("base64url")
    };
    assert!(!raw.windows(6).any(|w| w == b"/auth/") && !sealed.contains("/auth/"));
    let mut tampered = agent.clone();
    tampered
        .cookies
        .insert(PENDING_COOKIE.into(), flip_one_char(&sealed));
    let (status, body) = tampered.finish(&http, &callback, &p.b.base).await.unwrap();
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("state_unknown"))
    );
    // The untouched cookie still works: the test can fail for the right reason only.
    let (status, _) = agent.finish(&http, &callback, &p.b.base).await.unwrap();
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_under_unknown_key_is_rejected() {
    let a = Backend::Cookie(CookieKeys::generate("k1").unwrap());
    let b = Backend::Cookie(CookieKeys::generate("k2").unwrap());
    let p = pair_with(&a, &b).await;
    let http = harness::http();
    let mut agent = Agent::new();
    let callback = agent.start_login(&http, &p.a.base, "u6").await.unwrap();
    let (status, body) = agent.finish(&http, &callback, &p.b.base).await.unwrap();
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("state_unknown")),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_under_old_rotation_key_is_accepted() {
    let old = CookieKeys::generate("old").unwrap();
    let new = CookieKeys::generate("new").unwrap();
    let a = Backend::Cookie(old.clone());
    let b = Backend::Cookie(format!("{new},{old}"));
    let p = pair_with(&a, &b).await;
    let http = harness::http();
    let mut agent = Agent::new();
    let callback = agent.start_login(&http, &p.a.base, "u7").await.unwrap();
    assert!(agent.cookies[PENDING_COOKIE].starts_with("old."));
    let (status, body) = agent.finish(&http, &callback, &p.b.base).await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["userinfo"]["sub"], "u7");
    // What B writes back is sealed under the new key, and the token is sealed too.
    let account = &agent.cookies[&format!("fa_token_{CLIENT}")];
    assert!(account.starts_with("new."), "{account:.12}");
    let raw = {
        use base64::Engine;
        let body = account.split_once('.').expect("a key id prefix").1;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .expect("base64url")
    };
    for plain in [&b"Bearer"[..], b"access_token"] {
        assert!(!raw.windows(plain.len()).any(|w| w == plain));
    }
    assert!(!account.contains("Bearer"));
    assert!(agent.cookies["fa_accounts"].starts_with("new."));
    // An instance without the old key no longer reads the old cookie.
    let c = Backend::Cookie(new);
    let p2 = pair_with(&a, &c).await;
    let mut agent = Agent::new();
    let callback = agent.start_login(&http, &p2.a.base, "u7").await.unwrap();
    let (status, body) = agent.finish(&http, &callback, &p2.b.base).await.unwrap();
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("state_unknown")),
        "{body}"
    );
}
