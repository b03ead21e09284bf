//! CI's check of the login benchmark: a few hundred complete logins through the demo's HTTP
//! contract, none failing, with the provider's metadata and keys fetched once and its
//! connections reused. It measures nothing: timing belongs to `ferroauth-loadgen`.

use ferroauth::OAuth;
use ferroauth::session::memory::MemoryStore;
use ferroauth::settings::Settings;
use ferroauth_axum::sessions::SessionsExt as _;
use ferroauth_bench::{BenchProvider, Driver, Flow};
use ferroauth_demo::DemoOptions;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_few_hundred_logins_complete_without_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let demo_base = format!("http://{}", listener.local_addr().unwrap());
    let provider = BenchProvider::start(&demo_base).await.unwrap();
    let settings = Settings::from_toml_str(&provider.demo_settings()).unwrap();
    let oauth = OAuth::from_settings(&settings).unwrap();
    let app = demo_app(oauth, MemoryStore::new());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let driver = Driver::new(&demo_base, Some(provider.rewrite())).unwrap();

    let oidc = driver.run(Flow::Oidc, 200, 4).await;
    assert_eq!(
        (oidc.ok, oidc.failures),
        (200, 0),
        "first failure: {:?}",
        oidc.first_error
    );
    let oauth1 = driver.run(Flow::OAuth1, 100, 4).await;
    assert_eq!(
        (oauth1.ok, oauth1.failures),
        (100, 0),
        "first failure: {:?}",
        oauth1.first_error
    );

    let c = provider.counters.snapshot();
    assert_eq!(c.token, 200);
    // The ID token already carries the claims the scope asks for: no userinfo round trip.
    assert_eq!(c.userinfo, 0);
    assert_eq!(c.oauth1_credentials, 200);
    assert_eq!(c.authorize, 300);
    // Warm logins fetch neither discovery nor keys again.
    assert_eq!((c.discovery, c.jwks), (1, 1));
    // 400 back-channel calls over a handful of pooled connections, not one each.
    assert!(
        c.back_connections <= 16,
        "{} connections for 400 calls",
        c.back_connections
    );

    // API calls through the relay: four browsers log in, then 100 calls reach the API.
    let api = driver.run(Flow::Api, 100, 4).await;
    assert_eq!(
        (api.ok, api.failures),
        (100, 0),
        "first failure: {:?}",
        api.first_error
    );
    let after = provider.counters.snapshot();
    assert_eq!(after.token - c.token, 4, "one login per browser");
    assert_eq!(after.other - c.other, 100, "one API request per call");
    server.abort();
}

/// Users who log in again keep one session each: the store holds as many sessions as there
/// are browsers, however many logins they make (the old session id is dropped at each
/// login, and a used pending login leaves only its small tombstone behind).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn returning_users_keep_one_session_each() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let demo_base = format!("http://{}", listener.local_addr().unwrap());
    let provider = BenchProvider::start(&demo_base).await.unwrap();
    let settings = Settings::from_toml_str(&provider.demo_settings()).unwrap();
    let oauth = OAuth::from_settings(&settings).unwrap();
    let store = MemoryStore::new();
    let app = demo_app(oauth, store.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let driver = Driver::new(&demo_base, Some(provider.rewrite()))
        .unwrap()
        .with_returning_users(6);

    for flow in [Flow::Oidc, Flow::OAuth1] {
        let run = driver.run(flow, 120, 3).await;
        assert_eq!(
            (run.ok, run.failures),
            (120, 0),
            "first failure: {:?}",
            run.first_error
        );
        assert_eq!(store.len(), 6, "one session per browser after {flow:?}");
    }
    server.abort();
}

/// The floor app (`ferroauth-loadgen --floor`) completes logins through the same driver and
/// makes the same calls to the provider as the demo, so that its figures compare.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_floor_app_makes_the_same_provider_calls() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let provider = BenchProvider::start(&base).await.unwrap();
    let settings = Settings::from_toml_str(&provider.demo_settings()).unwrap();
    let app = ferroauth_bench::floor::router(&settings, &base)
        .await
        .unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let driver = Driver::new(&base, Some(provider.rewrite())).unwrap();

    for (flow, n) in [(Flow::Oidc, 50), (Flow::OAuth1, 30)] {
        let run = driver.run(flow, n, 3).await;
        assert_eq!(
            (run.ok, run.failures),
            (n, 0),
            "first failure: {:?}",
            run.first_error
        );
    }
    let api = driver.run(Flow::Api, 20, 2).await;
    assert_eq!((api.ok, api.failures), (20, 0), "{:?}", api.first_error);
    let c = provider.counters.snapshot();
    // The provider checked PKCE and issued an ID token for each code, as for the demo (and
    // for the two browsers of the API calls).
    assert_eq!(c.token, 52);
    assert_eq!(c.other, 20, "one API request per call");
    assert_eq!(c.oauth1_credentials, 60);
    assert_eq!(c.authorize, 82);
    assert_eq!((c.discovery, c.jwks), (1, 0));
    server.abort();
}

/// `--against-floor`'s rounds: both apps get every round's logins, and each round gives a
/// difference. (Both apps run in this test's process, so the CPU figures mean nothing
/// here; the load benchmark runs them as separate processes.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alternating_rounds_drive_both_apps() {
    async fn serve(app: axum::Router, listener: tokio::net::TcpListener) {
        let _ = axum::serve(listener, app).await;
    }
    let demo_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let floor_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let demo_base = format!("http://{}", demo_listener.local_addr().unwrap());
    let floor_base = format!("http://{}", floor_listener.local_addr().unwrap());
    let demo_provider = BenchProvider::start(&demo_base).await.unwrap();
    let floor_provider = BenchProvider::start(&floor_base).await.unwrap();
    let demo_settings = Settings::from_toml_str(&demo_provider.demo_settings()).unwrap();
    let floor_settings = Settings::from_toml_str(&floor_provider.demo_settings()).unwrap();
    let demo = demo_app(
        OAuth::from_settings(&demo_settings).unwrap(),
        MemoryStore::new(),
    );
    let floor = ferroauth_bench::floor::router(&floor_settings, &floor_base)
        .await
        .unwrap();
    let servers = [
        tokio::spawn(serve(demo, demo_listener)),
        tokio::spawn(serve(floor, floor_listener)),
    ];
    let demo_driver = Driver::new(&demo_base, Some(demo_provider.rewrite())).unwrap();
    let floor_driver = Driver::new(&floor_base, Some(floor_provider.rewrite())).unwrap();
    let pid = std::process::id();
    let side = |driver| ferroauth_bench::compare::Side { driver, pid };

    let c = ferroauth_bench::compare::alternate(
        Flow::OAuth1,
        side(&demo_driver),
        side(&floor_driver),
        4,
        5,
        2,
    )
    .await
    .unwrap();
    assert_eq!((c.demo.logins.ok, c.demo.logins.failures), (20, 0));
    assert_eq!((c.floor.logins.ok, c.floor.logins.failures), (20, 0));
    assert_eq!(c.round_differences_us.len(), 4);
    assert!(c.demo.cpu_ns > 0 && c.floor.cpu_ns > 0);
    assert_eq!(demo_provider.counters.snapshot().oauth1_credentials, 40);
    assert_eq!(floor_provider.counters.snapshot().oauth1_credentials, 40);
    for server in servers {
        server.abort();
    }
}

/// The demo with its sessions in `store`.
fn demo_app(oauth: OAuth, store: MemoryStore) -> axum::Router {
    let options = DemoOptions::default();
    let sessions = options.sessions.clone();
    let routes = ferroauth_demo::routes(options).with_state(oauth);
    sessions.apply(routes, store)
}
