//! The login routes mounted under a prefix (axum `Router::nest`, actix-web `web::scope`),
//! with an app's own login hook: the redirect URI keeps the prefix, the login completes,
//! and the callback's answer is the hook's (a header only the hook sets).

mod support;

use ferroauth::OAuth;
use reqwest::Method;
use serde_json::Value;
use support::Framework;
use support::harness::{self, Agent, CLIENT};
use support::nested::{HOOK_HEADER, PREFIX, serve};

async fn a_nested_login_runs_the_apps_hook(framework: Framework) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}{PREFIX}", listener.local_addr().unwrap());
    let provider = harness::provider(&[&base], 1).await;
    let oauth = OAuth::from_settings(&harness::settings_for(&provider)).unwrap();
    let _running = serve(framework, listener, oauth);
    let http = harness::http();
    let mut agent = Agent::new();
    let login = format!("{base}/login/{CLIENT}?login_hint=u0");
    let response = agent.send(&http, Method::GET, &login).await.unwrap();
    assert_eq!(response.status(), 302, "the login starts under the prefix");
    let mut next = location(&response);
    let redirect_uri = next
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| v.into_owned());
    assert_eq!(redirect_uri, Some(format!("{base}/auth/{CLIENT}")));
    // Through the provider (it approves at once) up to the callback under the prefix.
    while !next.as_str().starts_with(&base) {
        let response = agent.send(&http, Method::GET, next.as_str()).await.unwrap();
        assert!(response.status().is_redirection(), "{next}");
        next = location(&response);
    }
    let response = agent.send(&http, Method::GET, next.as_str()).await.unwrap();
    assert_eq!(response.status(), 200, "the callback under the prefix");
    assert_eq!(
        response
            .headers()
            .get(HOOK_HEADER)
            .map(|v| v.to_str().unwrap()),
        Some(CLIENT),
        "the app's login hook answered the callback"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["userinfo"]["sub"], "u0");
}

fn location(response: &reqwest::Response) -> url::Url {
    let raw = response.headers()["location"].to_str().unwrap();
    response.url().join(raw).unwrap()
}

crate::on_both!(a_nested_login_runs_the_apps_hook);
