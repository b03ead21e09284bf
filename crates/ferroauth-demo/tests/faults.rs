//! Failures: the session store going away, and a provider whose token endpoint fails,
//! sends garbage, sends a huge body or hangs. Each test checks the status, the error code,
//! and that the next normal login succeeds.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::{Form, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use ferroauth::OAuth;
use ferroauth_axum::stores::StoreChoice;
use ferroauth_demo::DemoOptions;
use serde_json::{Value, json};
use support::Framework;
use support::harness::{self, Agent, Instance};
use support::services::Redis;
use tokio::sync::Notify;
use url::Url;

const CLIENT: &str = "fake";
/// The client's `client_kwargs.timeout`, in seconds. Only the hanging token request waits
/// it out; it must leave five whole logins room to finish meanwhile on a loaded machine.
const TIMEOUT_SECS: u64 = 10;

/// A provider whose token endpoint behaves as the `code` says: `ok-*`, `500`, `garbage`,
/// `huge`, `hang`. It counts token requests.
#[derive(Clone, Default)]
struct Fake {
    token_hits: Arc<AtomicUsize>,
    hanging: Arc<Notify>,
}

async fn token(State(fake): State<Fake>, Form(form): Form<Vec<(String, String)>>) -> Response {
    fake.token_hits.fetch_add(1, Ordering::SeqCst);
    let code = form
        .iter()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    match code {
        "500" => (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response(),
        "garbage" => (
            [(header::CONTENT_TYPE, "application/json")],
            "<html>{{{ not json",
        )
            .into_response(),
        "huge" => (
            [(header::CONTENT_TYPE, "application/json")],
            format!("{{\"access_token\":\"{}\"}}", "a".repeat(4 << 20)),
        )
            .into_response(),
        "hang" => {
            fake.hanging.notify_one();
            std::future::pending::<Response>().await
        }
        _ => axum::Json(json!({
            "access_token": format!("at-{code}"),
            "token_type": "Bearer",
            "expires_in": 3600,
        }))
        .into_response(),
    }
}

async fn userinfo() -> axum::Json<Value> {
    axum::Json(json!({ "sub": "fake-user" }))
}

struct Setup {
    demo: Instance,
    fake: Fake,
    _fake_server: Instance,
}

async fn setup(framework: Framework, choice: &StoreChoice) -> Setup {
    let fake = Fake::default();
    let fake_server = harness::reserve().await;
    let fake_base = fake_server.base.clone();
    let fake_server = fake_server.serve(
        axum::Router::new()
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
            .with_state(fake.clone()),
    );
    let settings = ferroauth::settings::Settings::from_toml_str(&format!(
        r#"
[clients.{CLIENT}]
client_id = "c"
client_secret = "s"
authorize_url = "{fake_base}/authorize"
access_token_url = "{fake_base}/token"
userinfo_endpoint = "{fake_base}/userinfo"
client_kwargs = {{ scope = "profile", timeout = {TIMEOUT_SECS} }}
"#
    ))
    .unwrap();
    let oauth = OAuth::from_settings(&settings).unwrap();
    let demo = harness::reserve()
        .await
        .serve_demo(framework, oauth, DemoOptions::default(), choice, None)
        .await;
    Setup {
        demo,
        fake,
        _fake_server: fake_server,
    }
}

/// `GET /login/fake`: the state from the redirect to the provider.
async fn start(
    http: &reqwest::Client,
    agent: &mut Agent,
    demo: &str,
) -> Result<String, (u16, Value)> {
    let r = agent
        .send(
            http,
            reqwest::Method::GET,
            &format!("{demo}/login/{CLIENT}"),
        )
        .await
        .unwrap();
    if r.status() != 302 {
        let status = r.status().as_u16();
        return Err((status, r.json().await.unwrap_or(Value::Null)));
    }
    let location = Url::parse(r.headers()[header::LOCATION].to_str().unwrap()).unwrap();
    Ok(location
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("state"))
}

async fn callback(
    http: &reqwest::Client,
    agent: &mut Agent,
    demo: &str,
    query: &str,
) -> (u16, Value) {
    let r = agent
        .send(
            http,
            reqwest::Method::GET,
            &format!("{demo}/auth/{CLIENT}?{query}"),
        )
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A whole normal login; panics unless it succeeds.
async fn normal_login(http: &reqwest::Client, demo: &str, code: &str) {
    let mut agent = Agent::new();
    let state = start(http, &mut agent, demo).await.expect("login starts");
    let (status, body) = callback(
        http,
        &mut agent,
        demo,
        &format!("code={code}&state={state}"),
    )
    .await;
    assert_eq!(status, 200, "normal login: {body}");
    assert_eq!(body["userinfo"]["sub"], "fake-user");
}

async fn token_fault(framework: Framework, code: &str, want_status: u16, want_code: &str) {
    let s = setup(framework, &StoreChoice::Memory).await;
    let http = harness::http();
    let demo = &s.demo.base;
    let mut agent = Agent::new();
    let state = start(&http, &mut agent, demo).await.unwrap();
    let (status, body) = callback(
        &http,
        &mut agent,
        demo,
        &format!("code={code}&state={state}"),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (want_status, Some(want_code)),
        "token endpoint {code}: {body}"
    );
    let description = body["error_description"].as_str().unwrap_or_default();
    assert!(
        description.contains(&format!("`{CLIENT}`")),
        "the error names the provider: {description}"
    );
    normal_login(&http, demo, "ok-after").await;
}

async fn token_endpoint_500(framework: Framework) {
    token_fault(framework, "500", 502, "provider_http_error").await;
}

async fn token_endpoint_garbage(framework: Framework) {
    token_fault(framework, "garbage", 502, "invalid_token_response").await;
}

async fn token_endpoint_huge_body(framework: Framework) {
    token_fault(framework, "huge", 502, "response_too_large").await;
}

async fn token_endpoint_hangs_and_the_app_keeps_serving(framework: Framework) {
    let s = setup(framework, &StoreChoice::Memory).await;
    let http = harness::http();
    let demo = s.demo.base.clone();
    let mut agent = Agent::new();
    let state = start(&http, &mut agent, &demo).await.unwrap();
    let hanging = s.fake.hanging.notified();
    let hung = {
        let (http, demo) = (http.clone(), demo.clone());
        tokio::spawn(async move {
            callback(
                &http,
                &mut agent,
                &demo,
                &format!("code=hang&state={state}"),
            )
            .await
        })
    };
    hanging.await;
    // The token request is hanging: other users log in meanwhile.
    for i in 0..5 {
        normal_login(&http, &demo, &format!("ok-{i}")).await;
    }
    assert!(
        !hung.is_finished(),
        "the hanging callback answered before the {TIMEOUT_SECS} s timeout"
    );
    let (status, body) = hung.await.unwrap();
    assert_eq!(
        (status, body["error"].as_str()),
        (504, Some("provider_timeout")),
        "{body}"
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("`fake`")
    );
    normal_login(&http, &demo, "ok-after").await;
}

async fn junk_callbacks_never_reach_the_provider(framework: Framework) {
    let s = setup(framework, &StoreChoice::Memory).await;
    let http = harness::http();
    let demo = &s.demo.base;
    let mut agent = Agent::new();
    let state = start(&http, &mut agent, demo).await.unwrap();
    let long = "s".repeat(5000);
    let cases = [
        ("code=x".to_owned(), "state_missing"),
        ("code=x&state=forged".to_owned(), "state_unknown"),
        (format!("code=x&state={long}"), "callback_invalid"),
        (
            format!("code=x&state={state}&state=other"),
            "callback_invalid",
        ),
        (format!("code=x&code=y&state={state}"), "callback_invalid"),
    ];
    for (query, want) in &cases {
        let (status, body) = callback(&http, &mut agent, demo, query).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some(*want)),
            "{query:.60}"
        );
    }
    // A fresh browser (no session at all) is refused too, naming the missing session.
    let (status, body) = callback(
        &http,
        &mut Agent::new(),
        demo,
        &format!("code=x&state={state}"),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("session_missing"))
    );
    // The real login is still pending and needs no provider call to refuse a bad code.
    let (status, body) = callback(&http, &mut agent, demo, &format!("code=&state={state}")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("code_missing"))
    );
    assert_eq!(
        s.fake.token_hits.load(Ordering::SeqCst),
        0,
        "no token request"
    );
    normal_login(&http, demo, "ok-after").await;
    assert_eq!(s.fake.token_hits.load(Ordering::SeqCst), 1);
}

async fn redis_down_answers_503_and_recovers(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Redis]) {
        return;
    }
    let mut redis = Redis::start();
    let s = setup(framework, &StoreChoice::Redis(redis.url())).await;
    let http = harness::http();
    let demo = s.demo.base.clone();
    normal_login(&http, &demo, "ok-before").await;
    // A browser with a session, and one without.
    let mut known = Agent::new();
    start(&http, &mut known, &demo).await.unwrap();

    redis.stop();
    for agent in [&mut Agent::new(), &mut known] {
        let (status, body) = start(&http, agent, &demo).await.unwrap_err();
        assert_eq!(
            (status, body["error"].as_str()),
            (503, Some("session_unavailable")),
            "{body}"
        );
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .contains("session store is unavailable")
        );
    }
    // The HTML answer says so too.
    let r = http
        .get(format!("{demo}/login/{CLIENT}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("session store is unavailable")
    );

    redis.restart();
    // The pool reconnects by itself (every 250 ms): poll, boundedly, until it has.
    let mut recovered = false;
    for _ in 0..80 {
        if start(&http, &mut Agent::new(), &demo).await.is_ok() {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(
        recovered,
        "the demo did not recover after redis-server returned"
    );
    normal_login(&http, &demo, "ok-after").await;
}

/// A PostgreSQL restart closes every pooled connection. The pool does not ping a
/// connection before each use (a round trip per statement), so a request that meets a
/// broken one fails, as a 503 and never a 500 or a hang, and the pool drops it: the app
/// serves again within a few requests, and a session made before the restart is still
/// there.
async fn postgres_restart_costs_a_few_503s_then_serves(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Postgres])
    {
        return;
    }
    let pg = ferroauth_testkit::servers::Postgres::start();
    let s = setup(framework, &StoreChoice::Postgres(pg.url())).await;
    let http = harness::http();
    let demo = s.demo.base.clone();
    normal_login(&http, &demo, "ok-before").await;
    // Several connections in the pool: concurrent login starts.
    let mut starts = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let (http, demo) = (http.clone(), demo.clone());
        starts.spawn(async move { start(&http, &mut Agent::new(), &demo).await.unwrap() });
    }
    starts.join_all().await;

    pg.restart();
    let mut failures = 0;
    let mut served = 0;
    for _ in 0..40 {
        match start(&http, &mut Agent::new(), &demo).await {
            Ok(_) => served += 1,
            Err((status, body)) => {
                assert_eq!(
                    (status, body["error"].as_str()),
                    (503, Some("session_unavailable")),
                    "{body}"
                );
                failures += 1;
            }
        }
        if served == 5 {
            break;
        }
    }
    assert_eq!(served, 5, "the demo did not serve again after the restart");
    assert!(
        failures <= 16,
        "{failures} failed requests: one per pooled connection at most"
    );
    normal_login(&http, &demo, "ok-after").await;
}

crate::on_both!(
    token_endpoint_500,
    token_endpoint_garbage,
    token_endpoint_huge_body,
    token_endpoint_hangs_and_the_app_keeps_serving,
    junk_callbacks_never_reach_the_provider,
    redis_down_answers_503_and_recovers,
    postgres_restart_costs_a_few_503s_then_serves,
);
