//! The web layer attacked as a hostile page, a sibling subdomain or a careless link would,
//! on both frameworks (the guide's security chapter,
//! `crates/ferroauth/src/guide/security.md`, lists each attack with its defence).
//!
//! The world: the testkit provider on its own port, the demo on another, and two more
//! servers of the test's own — the provider's API (which answers what a hostile or merely
//! careless API might: HTML with a script, a `Set-Cookie`) and an attacker's host that
//! records every request and answers 401 `invalid_token`, as a host would that wants a
//! fresh token. A mock is right for those two: no real API answers that way on purpose.

mod support;

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use reqwest::header::{ACCEPT, COOKIE};
use serde_json::Value;
use support::Framework;
use support::harness::{self, Agent, CLIENT, Instance};

/// What the attacker's host saw: the `Authorization` header of each request.
type Seen = Arc<Mutex<Vec<String>>>;

struct World {
    demo: Instance,
    attacker: String,
    seen: Seen,
    http: reqwest::Client,
    agent: Agent,
    _provider: ferroauth_testkit::TestProvider,
    _api: Instance,
    _attacker: Instance,
}

/// The provider's API: JSON for `me`, and an HTML page with a script and a cookie.
fn api() -> axum::Router {
    axum::Router::new()
        .route(
            "/api/me",
            get(|| async { axum::Json(serde_json::json!({"sub": "u0"})) }),
        )
        .route(
            "/api/readme",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/html"),
                        (header::SET_COOKIE, "id=planted-by-the-api; Path=/"),
                    ],
                    "<script>fetch('/logout',{method:'POST'})</script>",
                )
            }),
        )
}

/// The attacker's host: records the `Authorization` it was sent, asks for a fresh token.
fn attacker(seen: Seen) -> axum::Router {
    axum::Router::new().fallback(move |headers: HeaderMap| {
        let seen = seen.clone();
        async move {
            let auth = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-")
                .to_owned();
            seen.lock().unwrap().push(auth);
            (
                StatusCode::UNAUTHORIZED,
                [
                    (header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\""),
                    (header::CONTENT_TYPE, "text/html"),
                ],
                "<script>alert(document.cookie)</script>",
            )
                .into_response()
        }
    })
}

/// The demo on `framework`, logged in as `u0`.
async fn logged_in(framework: Framework) -> World {
    let demo = harness::reserve().await;
    let provider = harness::provider(&[&demo.base], 1).await;
    let api_server = harness::reserve().await;
    let api_base = api_server.base.clone();
    let api_server = api_server.serve(api());
    let seen: Seen = Arc::default();
    let attacker_server = harness::reserve().await;
    let attacker_base = attacker_server.base.clone();
    let attacker_server = attacker_server.serve(attacker(seen.clone()));
    let settings = format!(
        "{}api_base_url = \"{api_base}/api/\"\n",
        harness::settings_toml(&provider).replace("api_base_url", "# api_base_url")
    );
    let demo = demo.serve_settings(framework, &settings).await;
    let http = harness::http();
    let mut agent = Agent::new();
    agent
        .login(&http, &demo.base, &demo.base, "u0")
        .await
        .unwrap();
    World {
        demo,
        attacker: attacker_base,
        seen,
        http,
        agent,
        _provider: provider,
        _api: api_server,
        _attacker: attacker_server,
    }
}

impl World {
    fn cookies(&self) -> String {
        let pairs: Vec<String> = self
            .agent
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        pairs.join("; ")
    }

    /// A request from the logged-in browser, with extra headers.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.demo.base))
            .header(ACCEPT, "application/json")
            .header(COOKIE, self.cookies());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap()
    }

    async fn still_logged_in(&self) -> bool {
        let r = self.send(reqwest::Method::GET, "/api/dev/me", &[]).await;
        r.status() == 200
    }
}

async fn code_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body["error"].as_str().unwrap_or("").to_owned())
}

/// Every spelling of another host, or of a path outside the API's base, that the
/// pass-through once accepted or could: none reaches the attacker, none leaves the base.
async fn the_api_pass_through_keeps_the_token_on_the_api(framework: Framework) {
    let w = logged_in(framework).await;
    assert!(w.still_logged_in().await, "the API's own path works");
    let host = w.attacker.trim_start_matches("http://");
    let upper = format!("HTTP://{host}/a");
    let spellings = [
        format!("http://{host}/a"),
        format!("http:%2F%2F{host}/a"),
        format!("%5C%5C{host}/a"),
        upper,
        format!("/{host}/a"),
        format!("%2F%2F{host}/a"),
        format!("http%3A%2F%2F{host}/a"),
        "..%2F..%2Ftoken".to_owned(),
        "%2e%2e/%2e%2e/token".to_owned(),
        "me%0d%0aX-Injected:%201".to_owned(),
    ];
    for spelling in &spellings {
        let r = w
            .send(
                reqwest::Method::GET,
                &format!("/api/{CLIENT}/{spelling}"),
                &[],
            )
            .await;
        let (status, code) = code_of(r).await;
        assert_eq!(
            w.seen.lock().unwrap().as_slice(),
            &[] as &[String],
            "{framework:?}: /api/{CLIENT}/{spelling} reached the attacker's host"
        );
        assert!(
            (400..500).contains(&status),
            "{framework:?}: /api/{CLIENT}/{spelling} answered {status} {code}"
        );
        if status == 400 {
            assert_eq!(code, "invalid_api_path", "{spelling}");
        }
    }
    assert!(w.still_logged_in().await);
}

/// The provider's HTML answer, relayed from the app's origin, cannot run: sniffing off,
/// a sandboxing CSP, downloaded rather than shown, and its cookie left behind.
async fn relayed_answers_cannot_script_the_app(framework: Framework) {
    let w = logged_in(framework).await;
    let r = w
        .send(reqwest::Method::GET, &format!("/api/{CLIENT}/readme"), &[])
        .await;
    assert_eq!(r.status(), 200);
    let h = r.headers();
    assert_eq!(h["x-content-type-options"], "nosniff", "{framework:?}");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("sandbox"),
        "{framework:?}"
    );
    assert_eq!(h["content-disposition"], "attachment", "{framework:?}");
    // The app's own session middleware may set its cookie; the API's never passes.
    let planted = h.get_all(header::SET_COOKIE).iter().any(|v| {
        v.to_str()
            .unwrap_or_default()
            .contains("planted-by-the-api")
    });
    assert!(!planted, "{framework:?}: {h:?}");
    let r = w
        .send(reqwest::Method::GET, &format!("/api/{CLIENT}/me"), &[])
        .await;
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.headers()["content-disposition"], "inline");
}

/// A POST to logout or refresh from another site, or a sibling subdomain (same site, so
/// `SameSite=Lax` cookies come along), is refused; the app's own page still works.
async fn state_changing_posts_refuse_other_sites(framework: Framework) {
    let w = logged_in(framework).await;
    let own = w.demo.base.clone();
    let attacks: [&[(&str, &str)]; 4] = [
        &[
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://evil.example"),
        ],
        &[
            ("sec-fetch-site", "same-site"),
            ("origin", "http://evil.127.0.0.1.nip.example"),
        ],
        &[("origin", "http://evil.example")],
        &[("origin", "null")],
    ];
    for path in ["/logout", &format!("/refresh/{CLIENT}")] {
        for headers in attacks {
            let r = w.send(reqwest::Method::POST, path, headers).await;
            assert_eq!(
                code_of(r).await,
                (403, "cross_site_request".to_owned()),
                "{framework:?}: POST {path} with {headers:?}"
            );
            assert!(
                w.still_logged_in().await,
                "{framework:?}: {path} {headers:?}"
            );
        }
    }
    let same_origin = [("sec-fetch-site", "same-origin"), ("origin", own.as_str())];
    let r = w
        .send(
            reqwest::Method::POST,
            &format!("/refresh/{CLIENT}"),
            &same_origin,
        )
        .await;
    assert_ne!(r.status(), 403, "{framework:?}: the app's own refresh");
    let r = w.send(reqwest::Method::POST, "/logout", &same_origin).await;
    assert_eq!(r.status(), 200, "{framework:?}: the app's own logout");
    assert!(!w.still_logged_in().await);
}

/// A value the browser got wrong is a 400 `invalid_request` naming it, never a 5xx.
async fn bad_login_parameters_are_the_browsers_fault(framework: Framework) {
    let w = logged_in(framework).await;
    for (query, parameter) in [
        ("max_age=abc", "max_age"),
        ("max_age=-5", "max_age"),
        ("prompt=always", "prompt"),
        ("prompt=none%20login", "prompt"),
        ("login_hint=a%0d%0aSet-Cookie:%20x", "login_hint"),
        ("ui_locales=%3Cscript%3E", "ui_locales"),
        ("next=https%3A%2F%2Fevil.example%2F", "next"),
        ("next=%2F%2Fevil.example", "next"),
        ("max_age=1&max_age=2", "max_age"),
    ] {
        let r = w
            .send(
                reqwest::Method::GET,
                &format!("/login/{CLIENT}?{query}"),
                &[],
            )
            .await;
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_request")),
            "{framework:?}: {query}: {body}"
        );
        let description = body["error_description"].as_str().unwrap_or_default();
        assert!(description.contains(parameter), "{query}: {description}");
    }
    let r = w
        .send(
            reqwest::Method::GET,
            &format!("/login/{CLIENT}?max_age=60&prompt=login&next=%2Fme"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 302, "{framework:?}: good values still log in");
}

crate::on_both!(
    the_api_pass_through_keeps_the_token_on_the_api,
    relayed_answers_cannot_script_the_app,
    state_changing_posts_refuse_other_sites,
    bad_login_parameters_are_the_browsers_fault,
);
