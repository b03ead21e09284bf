//! Logout, done fully, on both frameworks against the testkit provider's end-session
//! endpoint (OpenID Connect RP-Initiated Logout 1.0) and revocation endpoint (RFC 7009):
//! the local session ends at once, the browser goes to the provider with `id_token_hint`,
//! `client_id`, `post_logout_redirect_uri` and a one-time `state`, comes back to
//! `/logged-out`, which checks that state; the tokens are revoked at the provider unless
//! the client opts out.
//!
//! Back-channel logout (OpenID Connect Back-Channel Logout 1.0): the provider ends a
//! user's sessions and POSTs logout tokens to `/backchannel-logout/{name}`, which ends
//! every app session of that provider session and no other; each token that breaks a rule
//! is refused with a code of its own, and the session stays. "Sign out everywhere"
//! (`POST /logout?everywhere=1`) ends every session of the user.

mod support;

use std::time::Duration;

use ferroauth::OAuth;
use ferroauth_testkit::TestProvider;
use reqwest::Method;
use reqwest::header::{ACCEPT, COOKIE, LOCATION};
use serde_json::Value;
use support::Framework;
use support::framework::Running;
use support::harness::{self, Agent, CLIENT};
use url::Url;

/// A demo on `framework` with the provider's client, logged in as `u0` in `agent`.
struct World {
    base: String,
    provider: TestProvider,
    agent: Agent,
    http: reqwest::Client,
    _running: Running,
}

impl World {
    async fn start(framework: Framework, extra_kwargs: &str) -> World {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let provider = harness::provider(&[&base], 2).await;
        let toml = harness::settings_toml(&provider).replace(
            "client_kwargs = { scope = \"openid email profile\" }",
            &format!("client_kwargs = {{ scope = \"openid email profile\"{extra_kwargs} }}"),
        );
        let settings = ferroauth::settings::Settings::from_toml_str(&toml).unwrap();
        let oauth = OAuth::from_settings(&settings).unwrap();
        let running = Running::memory(framework, listener, oauth, Default::default());
        Self::started(base, provider, running).await
    }

    /// A demo on `framework` over the session store `choice` (sealed cookies checked
    /// against a revocation list in `revocations`, if given), logged in as `u0`.
    async fn with_store(framework: Framework, choice: &str, revocations: Option<&str>) -> World {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let provider = harness::provider(&[&base], 2).await;
        let oauth = OAuth::from_settings(&harness::settings_for(&provider)).unwrap();
        let choice = choice.parse().unwrap();
        let mut options = ferroauth_demo::DemoOptions::default();
        if let Some(list) = revocations {
            let list = list.parse().unwrap();
            options.sessions = options.sessions.revocation_list(&list).await.unwrap();
        }
        let running = Running::with_store(framework, listener, oauth, options, &choice, None).await;
        Self::started(base, provider, running).await
    }

    async fn started(base: String, provider: TestProvider, running: Running) -> World {
        let http = harness::http();
        let mut agent = Agent::new();
        agent.login(&http, &base, &base, "u0").await.unwrap();
        World {
            base,
            provider,
            agent,
            http,
            _running: running,
        }
    }

    /// A browser's request: its cookies, `Accept: text/html`, same-origin.
    async fn browse(&mut self, method: Method, url: &str) -> reqwest::Response {
        let mut request = self
            .http
            .request(method, url)
            .header(ACCEPT, "text/html")
            .header("sec-fetch-site", "same-origin");
        if !self.agent.cookies.is_empty() {
            request = request.header(COOKIE, self.agent.cookie_header());
        }
        let response = request.send().await.unwrap();
        self.agent.absorb(&response);
        response
    }

    /// Whether the session still holds the login: the API pass-through answers.
    async fn logged_in(&mut self) -> bool {
        let url = format!("{}/api/{CLIENT}/me", self.base);
        let response = self
            .agent
            .send(&self.http, Method::GET, &url)
            .await
            .unwrap();
        response.status() == 200
    }

    /// Another browser, logged in as `user`.
    async fn another(&self, user: &str) -> Agent {
        let mut agent = Agent::new();
        agent
            .login(&self.http, &self.base, &self.base, user)
            .await
            .unwrap();
        agent
    }

    /// Whether `agent`'s session still holds its login.
    async fn is_logged_in(&self, agent: &mut Agent) -> bool {
        let url = format!("{}/api/{CLIENT}/me", self.base);
        let response = agent.send(&self.http, Method::GET, &url).await.unwrap();
        response.status() == 200
    }

    /// POSTs `token` to the back-channel logout route, as a provider does (no cookie,
    /// from another site): the status, the `Cache-Control` and the JSON body.
    async fn backchannel(&self, token: &str) -> (u16, String, Value) {
        let url = format!("{}/backchannel-logout/{CLIENT}", self.base);
        let response = self
            .http
            .post(&url)
            .header("origin", self.provider.issuer())
            .form(&[("logout_token", token)])
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let cache = response
            .headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = response.text().await.unwrap();
        (
            status,
            cache,
            serde_json::from_str(&body).unwrap_or(Value::Null),
        )
    }

    /// A logout token of the provider for the demo's client with `claims` over the usual
    /// ones (`Value::Null` removes one).
    fn token(&self, claims: Value) -> String {
        let mut all = serde_json::json!({
            "iss": self.provider.issuer(),
            "aud": "demo-oidc",
            "iat": now(),
            "jti": format!("jti-{}", now_nanos()),
            "sub": "u0",
            "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
        });
        for (k, v) in claims.as_object().unwrap() {
            match v {
                Value::Null => all.as_object_mut().unwrap().remove(k),
                v => all.as_object_mut().unwrap().insert(k.clone(), v.clone()),
            };
        }
        self.provider.sign_jwt("logout+jwt", &all).unwrap()
    }

    /// Waits up to 5 s for the provider to hold `n` live tokens of the demo's client.
    async fn live_tokens_become(&self, n: usize) -> usize {
        for _ in 0..50 {
            if self.provider.live_tokens("demo-oidc") == n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.provider.live_tokens("demo-oidc")
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn now_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn location(response: &reqwest::Response) -> Url {
    let raw = response.headers()[LOCATION].to_str().unwrap();
    response.url().join(raw).unwrap()
}

fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

async fn logout_goes_to_the_provider_and_back_with_its_state(framework: Framework) {
    let mut w = World::start(framework, "").await;
    assert!(w.logged_in().await);
    assert!(
        w.provider.live_tokens("demo-oidc") >= 2,
        "an access and a refresh token"
    );

    let response = w.browse(Method::POST, &format!("{}/logout", w.base)).await;
    assert_eq!(response.status(), 303);
    let to_provider = location(&response);
    assert_eq!(
        to_provider.as_str().split('?').next(),
        Some(w.provider.url("/logout").as_str())
    );
    let back = format!("{}/logged-out", w.base);
    assert_eq!(
        param(&to_provider, "post_logout_redirect_uri"),
        Some(back.clone())
    );
    assert_eq!(
        param(&to_provider, "client_id").as_deref(),
        Some("demo-oidc")
    );
    assert!(param(&to_provider, "id_token_hint").is_some());
    let state = param(&to_provider, "state").expect("a state");
    assert!(state.len() >= 43, "a 256-bit state: {state}");
    // The app's session ended before the browser even reached the provider.
    assert!(!w.logged_in().await, "logged out locally at once");

    let response = w.browse(Method::GET, to_provider.as_str()).await;
    assert_eq!(response.status(), 303, "the provider accepts the logout");
    let returned = location(&response);
    assert_eq!(returned.as_str().split('?').next(), Some(back.as_str()));
    assert_eq!(param(&returned, "state"), Some(state.clone()));
    let logouts = w.provider.logouts();
    assert_eq!(logouts.len(), 1);
    assert_eq!(
        logouts[0].sub.as_deref(),
        Some("u0"),
        "the hint named the user"
    );

    let response = w.browse(Method::GET, returned.as_str()).await;
    assert_eq!(response.status(), 303, "back home");
    assert_eq!(response.headers()[LOCATION], "/");
    // The state is used up: the same return again is refused.
    let again = w.browse(Method::GET, returned.as_str()).await;
    assert_eq!(again.status(), 400);

    assert_eq!(
        w.live_tokens_become(0).await,
        0,
        "tokens revoked at the provider"
    );
}

async fn a_return_with_another_state_is_refused(framework: Framework) {
    let mut w = World::start(framework, "").await;
    let response = w.browse(Method::POST, &format!("{}/logout", w.base)).await;
    let to_provider = location(&response);
    let state = param(&to_provider, "state").unwrap();
    // Another site sends the browser to /logged-out with a state of its own, or none.
    for query in [
        "?state=forged".to_owned(),
        String::new(),
        format!("?state={state}x"),
    ] {
        let url = format!("{}/logged-out{query}", w.base);
        let response = w
            .http
            .get(&url)
            .header(ACCEPT, "application/json")
            .header(COOKIE, w.agent.cookie_header())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "logout_state_unknown");
    }
    // A wrong try used the pending logout up: even the right state is now refused.
    let right = format!("{}/logged-out?state={state}", w.base);
    assert_eq!(w.browse(Method::GET, &right).await.status(), 400);
}

async fn the_app_names_the_provider_to_log_out_of(framework: Framework) {
    let mut w = World::start(framework, "").await;
    // A provider the session is not logged in with: refused, and nothing is cleared.
    let url = format!("{}/logout?provider=github", w.base);
    let response = w.browse(Method::POST, &url).await;
    assert_eq!(response.status(), 400);
    assert!(w.logged_in().await, "a refused logout keeps the session");
    let url = format!("{}/logout?provider={CLIENT}", w.base);
    let response = w.browse(Method::POST, &url).await;
    assert_eq!(response.status(), 303);
    assert!(
        location(&response)
            .as_str()
            .starts_with(&w.provider.url("/logout"))
    );
}

async fn revocation_is_an_explicit_opt_out(framework: Framework) {
    let mut w = World::start(framework, ", revoke_tokens_on_logout = false").await;
    let live = w.provider.live_tokens("demo-oidc");
    let response = w.browse(Method::POST, &format!("{}/logout", w.base)).await;
    assert_eq!(response.status(), 303);
    assert!(!w.logged_in().await);
    // Give a revocation, were one sent, the time the other test allows it.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        w.provider.live_tokens("demo-oidc"),
        live,
        "tokens kept at the provider"
    );
}

async fn the_provider_ends_sessions_over_the_back_channel(framework: Framework) {
    let mut w = World::start(framework, "").await;
    let mut same_user = w.another("u0").await;
    let mut other_user = w.another("u1").await;
    let deliveries = w.provider.end_sessions("u0").await;
    assert_eq!(deliveries.len(), 2, "one token per provider session of u0");
    assert!(
        deliveries.iter().all(|d| d.status == Some(200)),
        "{deliveries:?}"
    );
    assert!(!w.logged_in().await, "the first session of u0 ended");
    assert!(!w.is_logged_in(&mut same_user).await, "the second too");
    assert!(w.is_logged_in(&mut other_user).await, "u1's session stays");
}

async fn a_logout_at_the_provider_ends_the_users_other_sessions(framework: Framework) {
    let mut w = World::start(framework, "").await;
    let mut second = w.another("u0").await;
    let response = w.browse(Method::POST, &format!("{}/logout", w.base)).await;
    let to_provider = location(&response);
    assert_eq!(
        w.browse(Method::GET, to_provider.as_str()).await.status(),
        303
    );
    // The provider notifies in the background while the browser goes back.
    let mut ended = false;
    for _ in 0..50 {
        if !w.is_logged_in(&mut second).await {
            ended = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        ended,
        "the other session of u0 ended by a back-channel token"
    );
}

async fn logout_tokens_that_break_a_rule_are_refused_each_with_its_code(framework: Framework) {
    let mut w = World::start(framework, "").await;
    let good = w.token(serde_json::json!({}));
    let (head, rest) = good.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    let bad_signature = format!("{head}.{payload}.{flipped}{}", &signature[1..]);
    let cases = [
        (bad_signature, "logout_token_signature_invalid"),
        (
            w.token(serde_json::json!({"aud": "another-client"})),
            "logout_token_audience_mismatch",
        ),
        (
            w.token(serde_json::json!({"nonce": "n-1"})),
            "logout_token_nonce_present",
        ),
        (
            w.token(serde_json::json!({"events": null})),
            "logout_token_event_missing",
        ),
        (
            w.token(serde_json::json!({"sub": null})),
            "logout_token_names_no_session",
        ),
        (
            w.token(serde_json::json!({"iat": now() - 3600})),
            "logout_token_stale",
        ),
        (
            w.token(serde_json::json!({"iss": "https://another.example"})),
            "logout_token_issuer_mismatch",
        ),
    ];
    for (token, code) in cases {
        let (status, cache, body) = w.backchannel(&token).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some(code)),
            "{body}"
        );
        assert_eq!(cache, "no-store");
    }
    assert!(w.logged_in().await, "no refused token ended the session");
    let (status, cache, _) = w.backchannel(&good).await;
    assert_eq!((status, cache.as_str()), (200, "no-store"));
    assert!(!w.logged_in().await, "the good token ended it");
    let (status, _, body) = w.backchannel(&good).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("logout_token_replayed"))
    );
    let (status, _, body) = w.backchannel("").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request")),
        "{body}"
    );
}

async fn sealed_cookies_cannot_end_sessions_by_owner(framework: Framework) {
    let mut w = World::with_store(framework, "cookie", None).await;
    let token = w.token(serde_json::json!({}));
    let (status, _, body) = w.backchannel(&token).await;
    assert_eq!(status, 501, "{body}");
    assert_eq!(body["error"], "session_index_unavailable");
    let url = format!("{}/logout?everywhere=1", w.base);
    assert_eq!(w.browse(Method::POST, &url).await.status(), 501);
    assert!(w.logged_in().await, "a refused sign-out clears nothing");
}

async fn sealed_cookies_with_a_revocation_list_end_by_owner(framework: Framework) {
    let mut w = World::with_store(framework, "cookie", Some("memory")).await;
    let mut phone = w.another("u0").await;
    let mut someone_else = w.another("u1").await;
    let deliveries = w.provider.end_sessions("u0").await;
    assert!(
        deliveries.iter().all(|d| d.status == Some(200)),
        "{deliveries:?}"
    );
    assert!(!w.logged_in().await, "ended by the provider's token");
    assert!(
        !w.is_logged_in(&mut phone).await,
        "the user's other device too"
    );
    assert!(
        w.is_logged_in(&mut someone_else).await,
        "another user stays"
    );
    // Signing out everywhere, with sealed cookies too.
    let mut again = w.another("u1").await;
    w.agent.cookies = someone_else.cookies.clone();
    let url = format!("{}/logout?everywhere=1", w.base);
    assert_eq!(w.browse(Method::POST, &url).await.status(), 303);
    assert!(
        !w.is_logged_in(&mut again).await,
        "u1's other session ended"
    );
}

async fn signing_out_everywhere_ends_every_session_of_the_user(framework: Framework) {
    let mut w = World::start(framework, "").await;
    let mut phone = w.another("u0").await;
    let mut someone_else = w.another("u1").await;
    let url = format!("{}/logout?everywhere=1", w.base);
    assert_eq!(w.browse(Method::POST, &url).await.status(), 303);
    assert!(!w.logged_in().await);
    assert!(!w.is_logged_in(&mut phone).await, "the user's other device");
    assert!(
        w.is_logged_in(&mut someone_else).await,
        "another user's session stays"
    );
}

crate::on_both!(
    the_provider_ends_sessions_over_the_back_channel,
    a_logout_at_the_provider_ends_the_users_other_sessions,
    logout_tokens_that_break_a_rule_are_refused_each_with_its_code,
    sealed_cookies_cannot_end_sessions_by_owner,
    sealed_cookies_with_a_revocation_list_end_by_owner,
    signing_out_everywhere_ends_every_session_of_the_user,
    logout_goes_to_the_provider_and_back_with_its_state,
    a_return_with_another_state_is_refused,
    the_app_names_the_provider_to_log_out_of,
    revocation_is_an_explicit_opt_out,
);
