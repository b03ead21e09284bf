//! Refresh as each provider documents it, proven through the demo's HTTP routes on both
//! frameworks: a login through `GET /login/{name}` and the callback, then `POST
//! /refresh/{name}` twice (JSON, same-origin). The providers are the fixtures of
//! ferroauth's preset tests on their real host names over TLS (`presets/world.rs`,
//! `presets/oidc_fixture.rs`, `presets/refresh_ops.rs`): Google sends no new refresh
//! token (the old one must be kept), GitLab rotates it (each one works once: the newest
//! must be kept), Salesforce signs each answer (checked at every refresh). Each refresh
//! must keep the identity (`sub`), and the refresh token each refresh sends must be the
//! one the provider wants used next.

mod support;

#[path = "../../ferroauth/tests/presets/oidc_fixture.rs"]
mod oidc_fixture;
#[path = "../../ferroauth/tests/presets/refresh_ops.rs"]
mod refresh_ops;
#[path = "../../ferroauth/tests/presets/world.rs"]
mod world;

use ferroauth_axum::stores::StoreChoice;
use oidc_fixture::{Op, toml};
use reqwest::Method;
use reqwest::header::{ACCEPT, COOKIE, LOCATION};
use serde_json::Value;
use support::Framework;
use support::harness::{self, Agent};

/// A provider, the demo logged in with it, and what a refresh through the demo answers.
struct Demo {
    world: world::World,
    base: String,
    agent: Agent,
    http: reqwest::Client,
    _demo: harness::Instance,
}

impl Demo {
    /// The demo on `framework` with `client_toml`, logged in as the provider's user.
    async fn logged_in(framework: Framework, op: &Op, client_toml: &str, name: &str) -> Demo {
        let world = oidc_fixture::world(&[op], vec![]).await;
        let oauth = ferroauth::OAuth::from_settings(&world.settings(client_toml)).unwrap();
        let reserved = harness::reserve().await;
        let base = reserved.base.clone();
        let demo = reserved
            .serve_demo(
                framework,
                oauth,
                Default::default(),
                &StoreChoice::Memory,
                None,
            )
            .await;
        let http = harness::http();
        let mut agent = Agent::new();
        let login = format!("{base}/login/{name}");
        let to_provider = agent.send(&http, Method::GET, &login).await.unwrap();
        assert_eq!(to_provider.status(), 302, "{name}: the login redirects");
        let at_provider = to_provider.headers()[LOCATION].to_str().unwrap().to_owned();
        // The provider approves at once and sends the browser back to the demo.
        let back = world.browse(&at_provider).await;
        assert!(back.status().is_redirection(), "{name}: {}", back.status());
        let callback = back.headers()[LOCATION].to_str().unwrap().to_owned();
        assert!(
            callback.starts_with(&base),
            "{name}: back to the demo: {callback}"
        );
        let answer = agent.send(&http, Method::GET, &callback).await.unwrap();
        assert_eq!(answer.status(), 200, "{name}: the callback");
        Demo {
            world,
            base,
            agent,
            http,
            _demo: demo,
        }
    }

    /// `POST /refresh/{name}` as the demo's own page sends it: the session's cookies,
    /// same-origin fetch headers, JSON wanted. The answer's status and body.
    async fn refresh(&mut self, name: &str) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/refresh/{name}", self.base))
            .header(ACCEPT, "application/json")
            .header("origin", &self.base)
            .header("sec-fetch-site", "same-origin")
            .header(COOKIE, self.agent.cookie_header())
            .send()
            .await
            .unwrap();
        self.agent.absorb(&response);
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Refreshes twice, each keeping the identity `sub`; the refresh tokens the demo
    /// sent, as the provider's token endpoint saw them. (A refresh token that did not
    /// change reaches the provider once: the registry's single flight hands a second
    /// refresh with it the first's result for `RESULT_GRACE`.) The fixtures refuse a
    /// refresh token they did not issue or that was spent, so a 200 shows that the
    /// token sent was the one to use.
    async fn refresh_twice(&mut self, name: &str, sub: &str) -> Vec<String> {
        for n in 1..=2 {
            let (status, body) = self.refresh(name).await;
            assert_eq!(status, 200, "{name}: refresh {n}: {body}");
            assert_eq!(
                body["userinfo"]["sub"], sub,
                "{name}: refresh {n} keeps the identity: {body}"
            );
        }
        self.world
            .seen()
            .iter()
            .filter(|s| s.form("grant_type").as_deref() == Some("refresh_token"))
            .map(|s| s.form("refresh_token").unwrap_or_default())
            .collect()
    }
}

/// Google: no new refresh token on refresh; the login's is kept and sent.
async fn google_refresh_keeps_the_logins_refresh_token(framework: Framework) {
    let op = refresh_ops::google_refreshing();
    let google = toml("google", "preset_options = { offline = true }");
    let mut demo = Demo::logged_in(framework, &op, &google, "google").await;
    let sent = demo.refresh_twice("google", "110169484474386276334").await;
    assert!(!sent.is_empty());
    assert!(
        sent.iter().all(|t| *t == sent[0]),
        "the refresh token Google did not replace is kept: {sent:?}"
    );
}

/// GitLab: each refresh rotates the refresh token; the second refresh sends the first's.
async fn gitlab_refresh_keeps_the_rotated_refresh_token(framework: Framework) {
    let op = refresh_ops::gitlab_refreshing();
    let mut demo = Demo::logged_in(framework, &op, &toml("gitlab", ""), "gitlab").await;
    let sent = demo.refresh_twice("gitlab", "1234567").await;
    assert_eq!(sent.len(), 2);
    assert_ne!(
        sent[0], sent[1],
        "the rotated refresh token is the one kept"
    );
}

/// Salesforce: each refresh answer is signed (and checked); the refresh token stays.
async fn salesforce_refresh_is_signed_and_keeps_the_refresh_token(framework: Framework) {
    let op = refresh_ops::salesforce_refreshing(|o, op| {
        refresh_ops::salesforce_sign(o, &op.client_secret)
    });
    let mut demo = Demo::logged_in(framework, &op, &toml("salesforce", ""), "salesforce").await;
    let sent = demo.refresh_twice("salesforce", refresh_ops::SF_ID).await;
    assert!(!sent.is_empty());
    assert!(
        sent.iter().all(|t| *t == sent[0]),
        "Salesforce's refresh token stays: {sent:?}"
    );
}

/// Salesforce's refresh answer signed with another key: refused through the demo too,
/// with the typed error's code.
async fn salesforce_refresh_with_a_wrong_signature_is_refused(framework: Framework) {
    let op = refresh_ops::salesforce_refreshing(|o, op| match o.contains_key("refresh_token") {
        true => refresh_ops::salesforce_sign(o, &op.client_secret),
        false => refresh_ops::salesforce_sign(o, "not-the-client-secret"),
    });
    let mut demo = Demo::logged_in(framework, &op, &toml("salesforce", ""), "salesforce").await;
    let (status, body) = demo.refresh("salesforce").await;
    assert_ne!(status, 200, "{body}");
    assert!(
        body.to_string().contains("invalid_token_response"),
        "{body}"
    );
}

on_both!(
    google_refresh_keeps_the_logins_refresh_token,
    gitlab_refresh_keeps_the_rotated_refresh_token,
    salesforce_refresh_is_signed_and_keeps_the_refresh_token,
    salesforce_refresh_with_a_wrong_signature_is_refused,
);
