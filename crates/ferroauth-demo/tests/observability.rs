//! Observable logins, and no secret in any log line.
//!
//! The demo binary runs on each framework with `RUST_LOG=trace` and `--metrics`, against the
//! testkit provider served behind a recorder that keeps every request and answer the demo
//! exchanged with it. The test drives every flow through the demo's HTTP contract — an
//! OpenID Connect login, an API call, a refresh, an OAuth 1.0a login and signed API call,
//! logout and each kind of failed login — then:
//!
//! - the demo's whole output (ferroauth's spans and events and every dependency's, hyper,
//!   rustls, actix and tower included, at TRACE) must not contain one secret value that
//!   crossed the wire: client secrets, authorization codes, PKCE verifiers, access,
//!   refresh and ID tokens, OAuth 1.0a token secrets, verifiers and signatures,
//!   `Authorization` headers, the session cookie and the cookie key;
//! - the spans name the client, the outcome, the error code and the duration;
//! - `/metrics` counts the logins by client and outcome, the refresh and the provider
//!   calls.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use ferroauth_testkit::{Client, TestProvider, User};
use reqwest::Method;
use reqwest::header::LOCATION;
use serde_json::Value;
use support::app::ChildApp;
use support::harness::{Agent, http};
use support::services::free_port;
use url::Url;

const OIDC_SECRET: &str = "observability-oidc-secret-5f1c0a9e";
const OAUTH1_SECRET: &str = "observability-oauth1-secret-77d3b2";
/// The sealed-cookie key (`id:base64url`); its key part must never be logged.
const COOKIE_KEY_ID: &str = "k1";
const COOKIE_KEY: &str = "b2JzZXJ2YWJpbGl0eS1jb29raWUta2V5LTMyYnl0ZXM";

/// Every exchange between the demo and the provider, as text: request line, headers and
/// body, then the answer's headers and body.
#[derive(Clone, Default)]
struct Wire(Arc<Mutex<Vec<Exchange>>>);

struct Exchange {
    query: String,
    authorization: Option<String>,
    request_body: String,
    location: Option<String>,
    response_body: String,
}

async fn record(wire: Wire, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let request_body = to_bytes(body, 1 << 20).await.unwrap();
    let exchange_query = parts.uri.query().unwrap_or("").to_owned();
    let authorization = parts
        .headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_owned());
    let request = Request::from_parts(parts, Body::from(request_body.clone()));
    let response = next.run(request).await;
    let (parts, body) = response.into_parts();
    let response_body = to_bytes(body, 1 << 22).await.unwrap();
    wire.0.lock().unwrap().push(Exchange {
        query: exchange_query,
        authorization,
        request_body: String::from_utf8_lossy(&request_body).into_owned(),
        location: parts
            .headers
            .get(LOCATION)
            .map(|v| v.to_str().unwrap().to_owned()),
        response_body: String::from_utf8_lossy(&response_body).into_owned(),
    });
    Response::from_parts(parts, Body::from(response_body))
}

/// Parameter names whose values are secrets, in forms, queries and JSON answers.
const SECRET_PARAMS: &[&str] = &[
    "code",
    "code_verifier",
    "client_secret",
    "access_token",
    "refresh_token",
    "id_token",
    "oauth_token_secret",
    "oauth_verifier",
    "oauth_signature",
];

fn secret_params(text: &str, into: &mut BTreeSet<String>) {
    if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) {
        for name in SECRET_PARAMS {
            if let Some(Value::String(v)) = map.get(*name) {
                into.insert(v.clone());
            }
        }
        return;
    }
    for (name, value) in url::form_urlencoded::parse(text.as_bytes()) {
        if SECRET_PARAMS.contains(&name.as_ref()) {
            into.insert(value.into_owned());
        }
    }
}

impl Wire {
    /// Every secret value that crossed the wire (each at least 8 characters long, so a
    /// match in the log is no coincidence).
    fn secrets(&self) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        for e in self.0.lock().unwrap().iter() {
            secret_params(&e.query, &mut found);
            secret_params(&e.request_body, &mut found);
            secret_params(&e.response_body, &mut found);
            if let Some(location) = &e.location {
                let query = Url::parse(location)
                    .ok()
                    .and_then(|u| u.query().map(str::to_owned));
                secret_params(&query.unwrap_or_default(), &mut found);
            }
            if let Some(authorization) = &e.authorization {
                found.insert(authorization.clone());
                authorization_parts(authorization, &mut found);
            }
        }
        found.retain(|s| s.len() >= 8);
        found
    }
}

/// The credential of an `Authorization` header, and for OAuth 1.0a its signature and token.
fn authorization_parts(header: &str, into: &mut BTreeSet<String>) {
    let Some((scheme, credential)) = header.split_once(' ') else {
        return;
    };
    into.insert(credential.to_owned());
    match scheme {
        "Basic" => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(credential)
                .unwrap();
            into.insert(String::from_utf8(decoded).unwrap());
        }
        "OAuth" => {
            for pair in credential.split(',') {
                let Some((name, value)) = pair.trim().split_once('=') else {
                    continue;
                };
                if name == "oauth_signature" || name == "oauth_token" {
                    let value = value.trim_matches('"');
                    into.insert(value.to_owned());
                    let decoded = percent_decode(value);
                    into.insert(decoded);
                }
            }
        }
        _ => {}
    }
}

fn percent_decode(value: &str) -> String {
    url::form_urlencoded::parse(format!("v={value}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The testkit provider behind the recorder, on its own port.
struct Provider {
    issuer: String,
    wire: Wire,
    _server: tokio::task::JoinHandle<()>,
}

async fn provider(app_base: &str) -> Provider {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let idp = TestProvider::builder()
        .issuer(&issuer)
        .user(User::new("alice").email("alice@example.test"))
        .client(Client::confidential(
            "obs-oidc",
            OIDC_SECRET,
            format!("{app_base}/auth/op"),
        ))
        .client(Client::oauth1(
            "obs-oauth1",
            OAUTH1_SECRET,
            Some(format!("{app_base}/auth/o1")),
        ))
        .auto_approve(true)
        .build()
        .unwrap();
    let wire = Wire::default();
    let recorder = wire.clone();
    let app = idp.router().layer(axum::middleware::from_fn(
        move |req: Request, next: Next| record(recorder.clone(), req, next),
    ));
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Provider {
        issuer,
        wire,
        _server: server,
    }
}

fn settings(issuer: &str) -> String {
    format!(
        "[clients.op]\nclient_id = \"obs-oidc\"\nclient_secret = \"{OIDC_SECRET}\"\nserver_metadata_url = \"{issuer}/.well-known/openid-configuration\"\napi_base_url = \"{issuer}/api/\"\nclient_kwargs = {{ scope = \"openid email profile offline_access\" }}\n\
         [clients.o1]\nclient_id = \"obs-oauth1\"\nclient_secret = \"{OAUTH1_SECRET}\"\nrequest_token_url = \"{issuer}/oauth1/request_token\"\nauthorize_url = \"{issuer}/oauth1/authorize\"\naccess_token_url = \"{issuer}/oauth1/access_token\"\napi_base_url = \"{issuer}/oauth1/api/\"\n"
    )
}

/// The demo binary on `framework` at TRACE with `--metrics`, and its provider.
struct World {
    base: String,
    provider: Provider,
    http: reqwest::Client,
    app: ChildApp,
    _dir: tempfile::TempDir,
}

impl World {
    async fn start(framework: &str, sessions: &str) -> World {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let provider = provider(&base).await;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("ferroauth.toml"),
            settings(&provider.issuer),
        )
        .unwrap();
        let listen = format!("127.0.0.1:{port}");
        let args = [
            "--config",
            "ferroauth.toml",
            "--listen",
            &listen,
            "--framework",
            framework,
            "--session-store",
            sessions,
            "--metrics",
        ];
        let env = [
            ("RUST_LOG", "trace".to_owned()),
            (
                "FERROAUTH_COOKIE_KEYS",
                format!("{COOKIE_KEY_ID}:{COOKIE_KEY}"),
            ),
        ];
        let app = ChildApp::spawn(
            env!("CARGO_BIN_EXE_ferroauth-demo"),
            &args,
            dir.path(),
            &env,
            port,
        )
        .await;
        World {
            base,
            provider,
            http: http(),
            app,
            _dir: dir,
        }
    }

    /// `GET /login/{name}` and through the provider (which approves at once) up to the
    /// callback URL, not requested.
    async fn to_callback(&self, agent: &mut Agent, name: &str) -> Url {
        let mut next = Url::parse(&format!("{}/login/{name}", self.base)).unwrap();
        for _ in 0..10 {
            let response = agent
                .send(&self.http, Method::GET, next.as_str())
                .await
                .unwrap();
            assert!(response.status().is_redirection(), "{next}");
            let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
            next = next.join(&location).unwrap();
            if next.path() == format!("/auth/{name}") && next.as_str().starts_with(&self.base) {
                return next;
            }
        }
        panic!("no callback after ten hops")
    }

    /// The provider's authorization URL of a login that starts (the browser stops there).
    async fn authorization_url(&self, agent: &mut Agent, name: &str) -> Url {
        let login = format!("{}/login/{name}", self.base);
        let response = agent.send(&self.http, Method::GET, &login).await.unwrap();
        assert_eq!(response.status(), 302);
        Url::parse(response.headers()[LOCATION].to_str().unwrap()).unwrap()
    }

    async fn json(&self, agent: &mut Agent, method: Method, url: &str) -> (u16, Value) {
        let response = agent.send(&self.http, method, url).await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn metrics(&self) -> String {
        let response = self
            .http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }
}

fn error_code(outcome: &(u16, Value)) -> String {
    outcome.1["error"].as_str().unwrap_or("").to_owned()
}

/// What the flows left behind: the session cookie values the agents held, and the failed
/// logins by client and error code.
#[derive(Default)]
struct Driven {
    cookies: BTreeSet<String>,
    failures: BTreeMap<(&'static str, String), u32>,
}

impl Driven {
    fn failed(&mut self, client: &'static str, outcome: &(u16, Value)) -> String {
        let code = error_code(outcome);
        assert!(!code.is_empty(), "a failure without a code: {}", outcome.1);
        *self.failures.entry((client, code.clone())).or_default() += 1;
        code
    }
}

/// Drives every flow.
async fn drive_every_flow(w: &World) -> Driven {
    let mut driven = Driven::default();
    let base = &w.base;

    // OpenID Connect: login, API call, refresh.
    let mut alice = Agent::new();
    let callback = w.to_callback(&mut alice, "op").await;
    let done = w.json(&mut alice, Method::GET, callback.as_str()).await;
    assert_eq!(done.0, 200, "{}", done.1);
    assert_eq!(done.1["userinfo"]["sub"], "alice");
    let api = w
        .json(&mut alice, Method::GET, &format!("{base}/api/op/me"))
        .await;
    assert_eq!(api.0, 200, "{}", api.1);
    let refreshed = w
        .json(&mut alice, Method::POST, &format!("{base}/refresh/op"))
        .await;
    assert_eq!(refreshed.0, 200, "{}", refreshed.1);
    // The callback again: single use.
    let replay = w.json(&mut alice, Method::GET, callback.as_str()).await;
    assert_eq!(replay.0, 400, "{}", replay.1);
    driven.failed("op", &replay);

    // OAuth 1.0a: login and a signed API call.
    let callback = w.to_callback(&mut alice, "o1").await;
    let done = w.json(&mut alice, Method::GET, callback.as_str()).await;
    assert_eq!(done.0, 200, "{}", done.1);
    let api = w
        .json(&mut alice, Method::GET, &format!("{base}/api/o1/me"))
        .await;
    assert_eq!(api.0, 200, "{}", api.1);
    driven.cookies.extend(alice.cookies.values().cloned());
    let out = w
        .json(&mut alice, Method::POST, &format!("{base}/logout"))
        .await;
    assert_eq!(out.0, 200, "{}", out.1);

    // Failed logins, one of each kind.
    let mut mallory = Agent::new();
    // The provider refused (the user said no).
    let authorize = w.authorization_url(&mut mallory, "op").await;
    let state = query_value(&authorize, "state");
    // RFC 9207: the provider names itself in error answers too.
    let iss = &w.provider.issuer;
    let denied = w
        .json(
            &mut mallory,
            Method::GET,
            &format!("{base}/auth/op?error=access_denied&state={state}&iss={iss}"),
        )
        .await;
    assert_eq!(driven.failed("op", &denied), "access_denied");
    // A callback whose state no login of this browser is waiting for.
    let forged = w
        .json(
            &mut mallory,
            Method::GET,
            &format!("{base}/auth/op?code=forged-code-0123456789&state=forged-state-0123456789"),
        )
        .await;
    assert_eq!(forged.0, 400, "{}", forged.1);
    driven.failed("op", &forged);
    // A code the provider did not issue: the token endpoint says invalid_grant.
    let callback = w.to_callback(&mut mallory, "op").await;
    let mut tampered = callback.clone();
    let pairs: Vec<(String, String)> = callback
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "code" {
                format!("{v}x")
            } else {
                v.into()
            };
            (k.into_owned(), v)
        })
        .collect();
    tampered.query_pairs_mut().clear().extend_pairs(pairs);
    let refused = w.json(&mut mallory, Method::GET, tampered.as_str()).await;
    assert_eq!(driven.failed("op", &refused), "invalid_grant");
    // An OAuth 1.0a login the user refused.
    let authorize = w.authorization_url(&mut mallory, "o1").await;
    let token = query_value(&authorize, "oauth_token");
    let denied = w
        .json(
            &mut mallory,
            Method::GET,
            &format!("{base}/auth/o1?denied={token}"),
        )
        .await;
    assert_eq!(driven.failed("o1", &denied), "access_denied");
    // A provider that is not configured; an API call without a token.
    let unknown = w
        .json(&mut mallory, Method::GET, &format!("{base}/login/nope"))
        .await;
    assert_eq!(unknown.0, 404, "{}", unknown.1);
    let no_token = w
        .json(&mut mallory, Method::GET, &format!("{base}/api/op/me"))
        .await;
    assert_eq!(no_token.0, 401, "{}", no_token.1);
    driven.cookies.extend(mallory.cookies.values().cloned());
    driven
}

fn query_value(url: &Url, name: &str) -> String {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("{name} in {url}"))
}

/// The value of the one sample of `metric` with exactly these labels.
fn sample(metrics: &str, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (name, rest) = series.split_once('{').unwrap_or((series, "}"));
        if name != metric {
            return None;
        }
        let mut found: Vec<(String, String)> = rest
            .trim_end_matches('}')
            .split(',')
            .filter(|p| !p.is_empty())
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned()))
            .collect();
        let mut wanted: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        found.sort();
        wanted.sort();
        (found == wanted).then(|| value.parse().unwrap())
    })
}

async fn every_flow_observed_without_secrets(framework: &str, sessions: &str) {
    let w = World::start(framework, sessions).await;
    let driven = drive_every_flow(&w).await;
    let metrics = w.metrics().await;
    // Let the last lines reach the log file.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let log = w.app.log();

    let mut secrets = w.provider.wire.secrets();
    secrets.extend(driven.cookies.iter().cloned());
    secrets.insert(OIDC_SECRET.to_owned());
    secrets.insert(OAUTH1_SECRET.to_owned());
    secrets.insert(COOKIE_KEY.to_owned());
    // The test saw every kind of secret it means to look for.
    let kinds_seen =
        w.provider.wire.0.lock().unwrap().iter().any(|e| {
            e.response_body.contains("refresh_token") && e.response_body.contains("id_token")
        });
    assert!(kinds_seen, "no token response with refresh and ID tokens");
    assert!(
        secrets.len() >= 20,
        "only {} secrets recorded: {secrets:?}",
        secrets.len()
    );
    let trace_lines = log.lines().filter(|l| l.contains(" TRACE ")).count();
    assert!(
        trace_lines > 20,
        "the log is not at TRACE: {trace_lines} lines"
    );
    let leaked: Vec<&String> = secrets
        .iter()
        .filter(|s| log.contains(s.as_str()))
        .collect();
    assert!(
        leaked.is_empty(),
        "{framework}: secrets in the log: {leaked:?}\n{}",
        lines_with(&log, &leaked)
    );

    // The spans: client, outcome, error code and duration.
    for needle in [
        "authorize_redirect{client=\"op\"",
        "authorize_access_token{client=\"op\"",
        "authorize_access_token{client=\"o1\"",
        "refresh{client=\"op\"",
        "provider_call{client=\"op\" call=\"token\"",
        "provider_call{client=\"o1\" call=\"request_token\"",
        "provider_call{client=\"o1\" call=\"api\"",
        "provider_call{client=\"op\" call=\"api\"",
    ] {
        assert!(log.contains(needle), "{framework}: no span {needle}");
    }
    for (_, code) in driven.failures.keys() {
        let line = format!("login finished outcome=\"error\" error=\"{code}\" elapsed_ms=");
        assert!(log.contains(&line), "{framework}: no event {line}");
    }
    assert!(log.contains("login finished outcome=\"ok\""));
    assert!(log.contains("refresh finished joined=false outcome=\"ok\""));

    // The metrics.
    let count = |metric: &str, labels: &[(&str, &str)]| sample(&metrics, metric, labels);
    let login = |client, outcome, error| {
        count(
            "ferroauth_logins_total",
            &[("client", client), ("outcome", outcome), ("error", error)],
        )
    };
    assert_eq!(login("op", "ok", ""), Some(1.0), "{metrics}");
    assert_eq!(login("o1", "ok", ""), Some(1.0), "{metrics}");
    for ((client, code), n) in &driven.failures {
        assert_eq!(
            login(client, "error", code),
            Some(f64::from(*n)),
            "{client} {code}: {metrics}"
        );
    }
    let refreshes = count(
        "ferroauth_refreshes_total",
        &[("client", "op"), ("outcome", "ok"), ("error", "")],
    );
    assert_eq!(refreshes, Some(1.0), "{metrics}");
    let token_calls = count(
        "ferroauth_provider_calls_total",
        &[("client", "op"), ("call", "token"), ("outcome", "ok")],
    );
    // The login, the refused code, the refresh.
    assert_eq!(token_calls, Some(3.0), "{metrics}");
    assert!(
        metrics.contains("ferroauth_provider_call_duration_seconds{client=\"op\",call=\"token\""),
        "{metrics}"
    );
    assert!(
        metrics.contains("ferroauth_login_duration_seconds{client=\"op\",outcome=\"ok\""),
        "{metrics}"
    );
}

fn lines_with(log: &str, secrets: &[&String]) -> String {
    log.lines()
        .filter(|l| secrets.iter().any(|s| l.contains(s.as_str())))
        .take(20)
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn every_flow_observed_without_secrets_axum() {
    every_flow_observed_without_secrets("axum", "memory").await;
}

#[tokio::test]
async fn every_flow_observed_without_secrets_actix() {
    every_flow_observed_without_secrets("actix", "memory").await;
}

#[tokio::test]
async fn every_flow_observed_without_secrets_sealed_cookies() {
    every_flow_observed_without_secrets("axum", "cookie").await;
}
