//! Stored tokens against a small counting mock provider: single-flight refresh (proactive
//! and after a 401), rotation, client credentials with re-fetch, extension grants and
//! compliance hooks. The mock is ours on purpose: these tests are about ferroauth's own
//! concurrency, and the mock counts exactly what the provider saw.

use std::sync::{Arc, Mutex};

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use ferroauth::hooks::ComplianceHooks;
use ferroauth::session::tokens::MemoryTokenStore;
use ferroauth::settings::Settings;
use ferroauth::{OAuth, OAuth2Token, Secret, Token};
use serde_json::json;

#[derive(Default)]
struct Provider {
    access: String,
    refresh: String,
    issued: usize,
    refresh_requests: usize,
    refused_refreshes: usize,
    cc_requests: Vec<Vec<(String, String)>>,
}

type Shared = Arc<Mutex<Provider>>;

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn token(State(p): State<Shared>, Form(form): Form<Vec<(String, String)>>) -> Response {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    // Widen the window in which concurrent requests could race (not a timed assertion).
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let mut p = p.lock().unwrap();
    match field("grant_type").as_str() {
        "refresh_token" => {
            p.refresh_requests += 1;
            if field("refresh_token") != p.refresh {
                p.refused_refreshes += 1;
                return (
                    StatusCode::BAD_REQUEST,
                    Json(json!({"error": "invalid_grant", "error_description": "grant request is invalid"})),
                )
                    .into_response();
            }
            p.issued += 1;
            p.access = format!("at-{}", p.issued);
            p.refresh = format!("rt-{}", p.issued);
            Json(json!({"access_token": p.access, "refresh_token": p.refresh, "token_type": "Bearer", "expires_in": 3600}))
                .into_response()
        }
        "client_credentials" => {
            p.cc_requests.push(form.clone());
            // The first token is about to expire, so the next use re-fetches.
            let expires_in = if p.cc_requests.len() == 1 { 1 } else { 3600 };
            p.issued += 1;
            p.access = format!("cc-{}", p.issued);
            Json(json!({"access_token": p.access, "token_type": "bearer", "expires_in": expires_in}))
                .into_response()
        }
        "urn:example:wrapped" => Json(json!({"data": {"access_token": "wrapped-at", "token_type": "bearer"}, "assertion": field("assertion")}))
            .into_response(),
        _ => (StatusCode::BAD_REQUEST, Json(json!({"error": "unsupported_grant_type"}))).into_response(),
    }
}

async fn me(State(p): State<Shared>, headers: HeaderMap) -> Response {
    let p = p.lock().unwrap();
    let expected = format!("Bearer {}", p.access);
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        != Some(expected.as_str())
    {
        return (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                "Bearer realm=\"mock\", error=\"invalid_token\"",
            )],
            Json(json!({"error": "invalid_token"})),
        )
            .into_response();
    }
    let extra = headers
        .get("x-hooked")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    Json(json!({"user_id": "42", "hooked": extra})).into_response()
}

async fn start(access: &str, refresh: &str) -> (Shared, String) {
    let state: Shared = Arc::new(Mutex::new(Provider {
        access: access.into(),
        refresh: refresh.into(),
        ..Provider::default()
    }));
    let app = Router::new()
        .route("/token", post(token))
        .route("/api/me", get(me))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (state, base)
}

fn registry(base: &str) -> OAuth {
    let settings = Settings::from_toml_str(&format!(
        r#"
[clients.mock]
client_id = "mock-client"
client_secret = "mock-secret"
authorize_url = "{base}/authorize"
access_token_url = "{base}/token"
api_base_url = "{base}/api/"
access_token_params = {{ audience = "https://api.example" }}
"#
    ))
    .unwrap();
    OAuth::from_settings(&settings).unwrap()
}

fn stored(access: &str, refresh: &str, expires_at: u64) -> Token {
    Token::OAuth2(OAuth2Token {
        access_token: Secret::new(access),
        token_type: "Bearer".into(),
        refresh_token: Some(Secret::new(refresh)),
        expires_at: Some(expires_at),
        scope: Some("read".into()),
        id_token: None,
        extra: Default::default(),
    })
}

/// 100 concurrent calls, each with its own client object, find the stored token expired.
async fn hundred_calls(oauth: &OAuth, store: &Arc<MemoryTokenStore>) -> Vec<u16> {
    concurrent_calls(oauth, store, 100).await
}

/// `n` concurrent calls, each with its own client object.
async fn concurrent_calls(oauth: &OAuth, store: &Arc<MemoryTokenStore>, n: usize) -> Vec<u16> {
    let mut tasks = Vec::new();
    for _ in 0..n {
        let (oauth, store) = (oauth.clone(), store.clone());
        tasks.push(tokio::spawn(async move {
            let client = oauth.client("mock").unwrap();
            client
                .get_with_store(store.as_ref(), "me")
                .await
                .map(|r| r.status)
                .unwrap_or_else(|e| panic!("a call failed: {} ({e})", e.code()))
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses
}

/// A writer into a shared buffer, for a captured log.
#[cfg(feature = "metrics")]
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

#[cfg(feature = "metrics")]
impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The hundred concurrent calls again, observed: one `refresh` span ran the refresh, the
/// other 99 joined it; the metrics count one refresh and 99 joins.
#[cfg(feature = "metrics")]
#[test]
fn the_single_flight_is_observable_in_spans_and_metrics() {
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let metrics = recorder.handle();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // A current-thread runtime: every task runs on this thread, under the thread's
    // subscriber and recorder.
    let statuses = tracing::subscriber::with_default(subscriber, || {
        metrics::with_local_recorder(&recorder, || {
            runtime.block_on(async {
                let (_provider, base) = start("at-old", "rt-0").await;
                let oauth = registry(&base);
                let store = Arc::new(MemoryTokenStore::with_token(
                    "mock",
                    stored("at-old", "rt-0", now() - 10),
                ));
                hundred_calls(&oauth, &store).await
            })
        })
    });
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let log = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    let finished = |joined: bool| {
        log.lines()
            .filter(|l| l.contains(&format!("refresh finished joined={joined} outcome=\"ok\"")))
            .count()
    };
    assert_eq!((finished(false), finished(true)), (1, 99), "{log}");
    assert!(log.contains("refresh{client=\"mock\""), "{log}");
    let text = metrics.render();
    let value = |series: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no {series} in {text}"))
    };
    assert_eq!(
        value("ferroauth_refreshes_total{client=\"mock\",outcome=\"ok\",error=\"\"}"),
        1.0
    );
    assert_eq!(
        value("ferroauth_refresh_joins_total{client=\"mock\"}"),
        99.0
    );
    assert_eq!(
        value("ferroauth_provider_calls_total{client=\"mock\",call=\"token\",outcome=\"ok\"}"),
        1.0
    );
    assert_eq!(
        value("ferroauth_provider_calls_total{client=\"mock\",call=\"api\",outcome=\"ok\"}"),
        100.0
    );
    // The tokens of the test never reach the log.
    for secret in ["at-old", "rt-0", "at-1", "rt-1", "mock-secret"] {
        assert!(!log.contains(secret), "{secret} in the log");
    }
}

/// Issue 29's figure: a token due for refresh under 1,000 concurrent calls makes exactly
/// one refresh request, and every call gets through with the new token.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_token_due_for_refresh_is_refreshed_once_for_a_thousand_concurrent_calls() {
    let (provider, base) = start("at-old", "rt-0").await;
    let oauth = registry(&base);
    // Not yet expired, but within the default 60-second leeway: due for refresh.
    let store = Arc::new(MemoryTokenStore::with_token(
        "mock",
        stored("at-old", "rt-0", now() + 30),
    ));
    let statuses = concurrent_calls(&oauth, &store, 1000).await;
    assert_eq!(statuses.len(), 1000);
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let p = provider.lock().unwrap();
    assert_eq!(p.refresh_requests, 1, "refresh requests for 1,000 calls");
    assert_eq!(p.refused_refreshes, 0);
    assert_eq!(store.saves(), 1, "the refreshed token saved once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn expired_token_is_refreshed_once_for_a_hundred_concurrent_calls() {
    let (provider, base) = start("at-old", "rt-0").await;
    let oauth = registry(&base);
    let store = Arc::new(MemoryTokenStore::with_token(
        "mock",
        stored("at-old", "rt-0", now() - 10),
    ));
    let statuses = hundred_calls(&oauth, &store).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    {
        let p = provider.lock().unwrap();
        assert_eq!(
            p.refresh_requests, 1,
            "the provider saw more than one refresh"
        );
        assert_eq!(p.refused_refreshes, 0);
    }
    assert_eq!(store.saves(), 1, "the save hook must run once");
    let Some(Token::OAuth2(saved)) = store.get("mock") else {
        panic!("no token saved")
    };
    assert_eq!(saved.access_token.expose(), "at-1");
    assert_eq!(saved.refresh_token.as_ref().unwrap().expose(), "rt-1");
    assert_eq!(
        saved.scope.as_deref(),
        Some("read"),
        "scope kept across refresh"
    );

    // A late request that loaded the old token before the save gets the new one without
    // spending the rotated refresh token.
    let client = oauth.client("mock").unwrap();
    let Token::OAuth2(old) = stored("at-old", "rt-0", now() - 10) else {
        unreachable!()
    };
    let again = client.refresh_token(&old).await.unwrap();
    assert_eq!(again.access_token.expose(), "at-1");
    assert_eq!(provider.lock().unwrap().refresh_requests, 1);

    // A second registry has its own coordinator: presenting the rotated token there is
    // what the provider refuses, and the error says so.
    let other = registry(&base).client("mock").unwrap();
    let e = other.refresh_token(&old).await.unwrap_err();
    assert_eq!(e.code(), "invalid_grant", "{e}");
    assert!(e.to_string().contains("grant request is invalid"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_401_invalid_token_refreshes_once_and_retries() {
    // The stored token looks valid, but the provider has revoked it.
    let (provider, base) = start("at-revoked-elsewhere", "rt-0").await;
    let oauth = registry(&base);
    let store = Arc::new(MemoryTokenStore::with_token(
        "mock",
        stored("at-old", "rt-0", now() + 3600),
    ));
    let statuses = hundred_calls(&oauth, &store).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(provider.lock().unwrap().refresh_requests, 1);
    assert_eq!(store.saves(), 1);

    // Without a refresh token the 401 is passed through untouched.
    let store = MemoryTokenStore::new();
    let mut t = stored("bad", "x", now() + 3600);
    if let Token::OAuth2(t) = &mut t {
        t.refresh_token = None;
    }
    store.put("mock", t);
    let r = oauth
        .client("mock")
        .unwrap()
        .get_with_store(&store, "me")
        .await
        .unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(provider.lock().unwrap().refresh_requests, 1);
    let e = oauth
        .client("mock")
        .unwrap()
        .refresh_stored_token(&store)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "no_refresh_token");
    let e = oauth
        .client("mock")
        .unwrap()
        .get_with_store(&MemoryTokenStore::new(), "me")
        .await
        .unwrap_err();
    assert_eq!((e.code(), e.kind().http_status()), ("no_token", 401));
}

#[tokio::test]
async fn client_credentials_are_refetched_on_expiry_with_their_parameters() {
    let (provider, base) = start("none", "none").await;
    let client = registry(&base).client("mock").unwrap();
    let first = client.client_credentials_token().await.unwrap();
    // The first token expires in 1 s, inside the leeway: the next use fetches anew.
    let second = client.client_credentials_token().await.unwrap();
    assert_ne!(first.access_token, second.access_token);
    let third = client.client_credentials_token().await.unwrap();
    assert_eq!(
        second.access_token, third.access_token,
        "cached while fresh"
    );
    let r = client
        .request_as_client(ferroauth::http::Method::GET, "me", Default::default())
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    let p = provider.lock().unwrap();
    assert_eq!(p.cc_requests.len(), 2);
    for form in &p.cc_requests {
        assert!(
            form.contains(&("audience".into(), "https://api.example".into())),
            "{form:?}"
        );
        assert!(form.contains(&("grant_type".into(), "client_credentials".into())));
    }
}

#[tokio::test]
async fn extension_grants_and_compliance_hooks() {
    let (_provider, base) = start("wrapped-at", "none").await;
    let oauth = registry(&base);
    let settings = oauth.client("mock").unwrap().settings().clone();
    let hooks = ComplianceHooks::new()
        .token_response(|object| {
            // This provider wraps the token in `data`.
            if let Some(serde_json::Value::Object(inner)) = object.remove("data") {
                object.extend(inner);
            }
        })
        .protected_request(|request| {
            request.headers.insert("x-hooked", "yes".parse().unwrap());
        });
    let client = oauth.register_with_hooks("mock", settings, hooks).unwrap();
    let token = client
        .fetch_token_with_grant("urn:example:wrapped", &[("assertion", "a.b.c")])
        .await
        .unwrap();
    assert_eq!(token.access_token.expose(), "wrapped-at");
    assert_eq!(token.extra["assertion"], "a.b.c");
    let store = MemoryTokenStore::with_token("mock", Token::OAuth2(token));
    let r = oauth
        .client("mock")
        .unwrap()
        .get_with_store(&store, "me")
        .await
        .unwrap();
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["hooked"], "yes");
    let e = client
        .fetch_token_with_grant("urn:x", &[("client_secret", "s")])
        .await
        .unwrap_err();
    assert_eq!(e.code(), "client_misconfigured");
    // Without the hook the wrapped response has no access_token.
    client.set_hooks(ComplianceHooks::new());
    let e = client
        .fetch_token_with_grant("urn:example:wrapped", &[])
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_token_response");
}

/// Another host answering 401 `invalid_token` to an absolute URL must not make the client
/// refresh and send it the fresh token: only the API's own origin may ask for a refresh.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_from_another_origin_never_refreshes() {
    let (provider, base) = start("at-current", "rt-0").await;
    // Same mock, another origin: it refuses every token, as an attacker's host would.
    let (attacker, elsewhere) = start("never-matches", "rt-unused").await;
    let oauth = registry(&base);
    let client = oauth.client("mock").unwrap();
    let store = MemoryTokenStore::with_token("mock", stored("at-current", "rt-0", now() + 3600));
    let r = client
        .get_with_store(&store, &format!("{elsewhere}/api/me"))
        .await
        .unwrap();
    assert_eq!(
        r.status, 401,
        "the other host's answer is passed on as it is"
    );
    assert_eq!(provider.lock().unwrap().refresh_requests, 0);
    assert_eq!(attacker.lock().unwrap().refresh_requests, 0);
    assert_eq!(store.saves(), 0, "no refresh, no save");
    // The API's own 401 still refreshes once.
    provider.lock().unwrap().access = "at-revoked".into();
    let r = client.get_with_store(&store, "me").await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(provider.lock().unwrap().refresh_requests, 1);
}
