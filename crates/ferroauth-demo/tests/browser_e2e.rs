//! Logins in a real browser, with the provider on **another site** than the app, as every
//! real provider is: the app is opened at `http://localhost:PORT` and every provider runs at
//! `http://127.0.0.1:PORT` (two different hosts, so two sites for the browser's SameSite
//! rules), one case at `https://localhost:PORT`. Headless Chromium through chromedriver
//! clicks through the providers' real pages.
//!
//! | test | provider | response mode | sessions |
//! |---|---|---|---|
//! | `openid_connect_login_in_a_browser` (login, API, refresh, logout, screenshots, new session id) | testkit | query | memory |
//! | `oauth1_login_in_a_browser` | testkit | OAuth 1.0a | memory |
//! | `error_pages_in_a_browser` | testkit | query | memory |
//! | `logins_with_{memory,redis,cookie}_sessions` | testkit | query, form_post, OAuth 1.0a | each store |
//! | `oidc_provider_logins_in_a_browser` | panva oidc-provider's login and consent forms | query, form_post | memory |
//! | `authlib_oauth1_login_in_a_browser` | Authlib | OAuth 1.0a | memory |
//! | `https_login_with_a_secure_cookie` | testkit | form_post | memory, over TLS |
//! | `sibling_host_cookies_are_ignored_in_a_browser` (cookie tossing from `evil.example.test`) | testkit | query | memory and cookie, over TLS |
//! | `a_strict_session_cookie_is_named_on_the_callback` | testkit | query | `SameSite=Strict` on purpose |
//! | `readme_quick_start_in_a_browser` | testkit | query, form_post | the quick start binary |
//! | `demo_binary_with_the_dev_provider_on_its_own_port` | the demo's own dev provider | query | the demo binary |
//!
//! Every test but the `SameSite=Strict` one (an axum app built for it: ferroauth-actix has
//! no way to make a Strict session cookie) runs twice, as `<test>::axum` and
//! `<test>::actix`: on the axum demo and on the actix-web demo, the actix runs over
//! ferroauth-actix's in-memory store, Redis and sealed cookies alike.
//!
//! Screenshots of the key pages go to `target/e2e-artifacts/` (or the folder named by
//! `FERROAUTH_E2E_ARTIFACTS`). With `FERROAUTH_UPDATE_DOCS=1` the logged-in page is also
//! copied to `docs/demo-logged-in.png`, the picture in the README.

mod browser;
mod support;

use std::str::FromStr;
use std::time::Instant;

use axum::Router;
use browser::{
    Driver, TestCertificate, TlsListener, absent, click, cookie, find, press, screenshot, text,
    type_into, wait_text, wait_url,
};
use fantoccini::Client;
use ferroauth::session::Account;
use ferroauth::session::sealed::CookieKeys;
use ferroauth::settings::Settings;
use ferroauth::{OAuth, Token};
use ferroauth_actix::sessions::SessionsExt as _;
use ferroauth_actix::stores::Store;
use ferroauth_axum::stores::StoreChoice;
use ferroauth_demo::DemoOptions;
use ferroauth_testkit::TestProvider;
use ferroauth_testkit::dev::{self, DevClients};
use serde_json::{Value, json};
use std::collections::HashMap;
use support::framework::{
    Listen, Running, axum_for, axum_with_store, shared_actix_key, spawn_actix,
};
use support::services::Redis;
use support::{Framework, Peer};
use tower_sessions::session::Id;
use tower_sessions::{MemoryStore, SessionStore};

/// Where the demo keeps sessions in a test.
enum Sessions {
    /// In memory, in a store the test can read: tower-sessions' (axum) or ferroauth-actix's.
    Memory(MemoryStore),
    ActixMemory(ferroauth_actix::memory_store::MemoryStore),
    /// A real redis-server.
    Redis(Redis),
    /// Sealed cookies.
    Cookie,
}

/// How the OpenID Connect client asks for the authorization response.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Query,
    FormPost,
}

/// The demo served on 127.0.0.1 and opened by the browser at `localhost`, with the
/// development provider on its own port at `127.0.0.1`: another site.
struct CrossSiteDemo {
    /// The demo's origin as the browser sees it (`http://localhost:PORT`).
    origin: String,
    sessions: Sessions,
    settings: Settings,
    provider: TestProvider,
    framework: Framework,
    _running: Option<Running>,
}

/// In-memory sessions for `framework`.
fn memory(framework: Framework) -> Sessions {
    match framework {
        Framework::Axum => Sessions::Memory(MemoryStore::default()),
        Framework::Actix => Sessions::ActixMemory(Default::default()),
    }
}

impl CrossSiteDemo {
    async fn start(framework: Framework, sessions: Sessions, mode: Mode) -> CrossSiteDemo {
        Self::start_with(framework, sessions, mode, None).await
    }

    async fn start_with(
        framework: Framework,
        sessions: Sessions,
        mode: Mode,
        tls: Option<&TestCertificate>,
    ) -> CrossSiteDemo {
        Self::start_at(framework, sessions, mode, tls, "localhost").await
    }

    /// The demo opened at `host` (which the browser resolves to 127.0.0.1).
    async fn start_at(
        framework: Framework,
        sessions: Sessions,
        mode: Mode,
        tls: Option<&TestCertificate>,
        host: &str,
    ) -> CrossSiteDemo {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let clients = DevClients::new().expect("secrets");
        // Registered redirect URIs: the demo at 127.0.0.1 and at localhost (or at `host`).
        let registered = match host {
            "localhost" => "127.0.0.1",
            other => other,
        };
        let provider = clients
            .provider_builder(&format!("{scheme}://{registered}:{port}"), false, false)
            .start()
            .await
            .expect("provider");
        let mut settings =
            Settings::from_toml_str(&clients.settings_toml(provider.issuer())).expect("settings");
        if mode == Mode::FormPost {
            settings
                .clients
                .get_mut(dev::OIDC_CLIENT)
                .expect("the OpenID Connect client")
                .authorize_params
                .insert("response_mode".into(), "form_post".into());
        }
        let oauth = OAuth::from_settings(&settings).expect("clients");
        let origin = format!("{scheme}://{host}:{port}");
        let mut options = DemoOptions {
            api_paths: dev::api_paths(),
            ..DemoOptions::default()
        };
        options.sessions = options.sessions.secure(tls.is_some());
        if tls.is_some() {
            // A request that came over TLS does not say so in its URI: an app serving https
            // names its public URL (or trusts its proxy's X-Forwarded-Proto).
            options.redirect_uri.public_base_url = Some(origin.clone());
        }
        let running = match framework {
            Framework::Axum => {
                let app = demo_app(oauth, options, &sessions).await;
                match tls {
                    Some(cert) => {
                        let listener = TlsListener::new(listener, cert.config.clone());
                        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
                    }
                    None => {
                        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
                    }
                }
                None
            }
            Framework::Actix => {
                let store = actix_store(&sessions).await;
                let sessions = options.sessions.for_store(store, shared_actix_key());
                let listener = listener.into_std().unwrap();
                let listen = match tls {
                    Some(cert) => Listen::Tls(listener, Box::new((*cert.config).clone())),
                    None => Listen::Plain(listener),
                };
                let handle = spawn_actix(listen, oauth, options, sessions);
                Some(Running::Actix(handle))
            }
        };
        let demo = CrossSiteDemo {
            origin,
            sessions,
            settings,
            provider,
            framework,
            _running: running,
        };
        assert!(
            !demo.provider.issuer().contains("localhost"),
            "the provider must be another site than the demo"
        );
        demo
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    /// The session cookie's name: `__Host-id` behind https, `id` over plain http.
    fn session_cookie(&self) -> &'static str {
        if self.origin.starts_with("https:") {
            ferroauth::cookies::HOST_SESSION_COOKIE
        } else {
            ferroauth::cookies::PLAIN_SESSION_COOKIE
        }
    }

    /// The browser's session id: the session cookie (for actix-session, the key inside its
    /// private cookie).
    async fn session_id(&self, browser: &Client) -> Option<String> {
        let name = self.session_cookie();
        let value = cookie(browser, name).await?.value().to_owned();
        match self.framework {
            Framework::Axum => Some(value),
            Framework::Actix => {
                let sealed = actix_web::cookie::Cookie::parse_encoded(format!("{name}={value}"))
                    .expect("the session cookie");
                let mut jar = actix_web::cookie::CookieJar::new();
                jar.add_original(sealed.into_owned());
                let key = jar.private(&shared_actix_key()).get(name)?;
                Some(key.value().to_owned())
            }
        }
    }

    /// The entries the memory store holds for session `id` (JSON text by key), if any.
    async fn stored(&self, id: &str) -> Option<HashMap<String, String>> {
        match &self.sessions {
            Sessions::Memory(store) => {
                let record = store.load(&Id::from_str(id).unwrap()).await.unwrap()?;
                let text = |v: Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                Some(record.data.into_iter().map(|(k, v)| (k, text(v))).collect())
            }
            Sessions::ActixMemory(store) => {
                use actix_session::storage::SessionStore as _;
                let key = id.to_owned().try_into().unwrap();
                store.load(&key).await.unwrap()
            }
            _ => panic!("only the memory stores are read by the tests"),
        }
    }

    /// The accounts the browser's demo session holds, read from the memory store.
    async fn accounts(&self, browser: &Client) -> Vec<(String, Account)> {
        let Some(id) = self.session_id(browser).await else {
            return Vec::new();
        };
        let Some(entries) = self.stored(&id).await else {
            return Vec::new();
        };
        let view = Entries(entries);
        ferroauth::session::logged_in(&view)
            .await
            .expect("accounts")
            .into_iter()
            .collect()
    }

    /// Every secret value the page must never show: client secrets and the tokens of
    /// the browser's session.
    async fn secrets(&self, browser: &Client) -> Vec<String> {
        let mut secrets: Vec<String> = self
            .settings
            .clients
            .values()
            .filter_map(|c| c.client_secret.as_ref())
            .map(|s| s.expose().to_owned())
            .collect();
        for (_, account) in self.accounts(browser).await {
            secrets.extend(token_secrets(&account.token));
        }
        secrets
    }
}

/// A stored session's entries, read-only, as a [`ferroauth::session::Session`].
struct Entries(HashMap<String, String>);

impl ferroauth::session::Session for Entries {
    async fn get(&self, key: &str) -> Result<Option<String>, ferroauth::Error> {
        Ok(self.0.get(key).cloned())
    }
    async fn insert(&self, _: &str, _: String) -> Result<(), ferroauth::Error> {
        unreachable!("read-only")
    }
    async fn remove(&self, _: &str) -> Result<(), ferroauth::Error> {
        unreachable!("read-only")
    }
    async fn renew(&self) -> Result<(), ferroauth::Error> {
        unreachable!("read-only")
    }
    async fn clear(&self) -> Result<(), ferroauth::Error> {
        unreachable!("read-only")
    }
    fn is_present(&self) -> bool {
        true
    }
}

/// The actix demo's store for `sessions`.
async fn actix_store(sessions: &Sessions) -> Store {
    match sessions {
        Sessions::ActixMemory(store) => Store::Memory(store.clone()),
        Sessions::Memory(_) => panic!("tower-sessions' store is for the axum demo"),
        Sessions::Redis(redis) => {
            let choice = StoreChoice::from_str(&redis.url()).unwrap();
            Store::open(&choice, None).await.expect("redis store")
        }
        Sessions::Cookie => {
            let keys = CookieKeys::parse(&CookieKeys::generate("k1").unwrap()).unwrap();
            Store::open(&StoreChoice::Cookie, Some(keys)).await.unwrap()
        }
    }
}

async fn demo_app(oauth: OAuth, options: DemoOptions, sessions: &Sessions) -> Router {
    match sessions {
        Sessions::ActixMemory(_) => panic!("ferroauth-actix's store is for the actix demo"),
        Sessions::Memory(store) => axum_with_store(oauth, options, store.clone()),
        Sessions::Redis(redis) => {
            let choice = StoreChoice::from_str(&redis.url()).unwrap();
            axum_for(oauth, options, &choice).await
        }
        Sessions::Cookie => {
            let keys = CookieKeys::parse(&CookieKeys::generate("k1").unwrap()).unwrap();
            let options = DemoOptions {
                sessions: options.sessions.clone().keys(keys),
                ..options
            };
            axum_for(oauth, options, &StoreChoice::Cookie).await
        }
    }
}

fn token_secrets(token: &Token) -> Vec<String> {
    match token {
        Token::OAuth2(t) => [
            Some(&t.access_token),
            t.refresh_token.as_ref(),
            t.id_token.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(|s| s.expose().to_owned())
        .collect(),
        Token::OAuth1(t) => vec![
            t.token.expose().to_owned(),
            t.token_secret.expose().to_owned(),
        ],
    }
}

/// Fails when any secret shows in the page's source.
async fn assert_no_secrets(browser: &Client, secrets: &[String]) {
    let source = browser.source().await.expect("page source");
    for secret in secrets {
        assert!(
            !secret.is_empty() && !source.contains(secret.as_str()),
            "a secret value ({}…) shows in the page",
            &secret[..secret.len().min(4)]
        );
    }
}

/// From the demo's home page through the provider's login page (as alice) back to the
/// demo's home page, logged in.
async fn log_in(browser: &Client, demo: &CrossSiteDemo, client: &str, shots: Option<&str>) {
    log_in_as(browser, demo, client, "alice", shots).await
}

async fn log_in_as(
    browser: &Client,
    demo: &CrossSiteDemo,
    client: &str,
    user: &str,
    shots: Option<&str>,
) {
    browser.goto(&demo.url("/")).await.expect("home");
    let login = format!("a#login-{client}");
    find(browser, &login).await;
    if let Some(prefix) = shots {
        screenshot(browser, &format!("{prefix}-1-home")).await;
    }
    click(browser, &login).await;
    let button = format!("button.user[value=\"{user}\"]");
    find(browser, &button).await;
    wait_url(browser, demo.provider.issuer()).await;
    if let Some(prefix) = shots {
        screenshot(browser, &format!("{prefix}-2-provider-login")).await;
    }
    click(browser, &button).await;
    find(browser, &format!("#account-{client}")).await;
    let at = browser.current_url().await.unwrap();
    assert_eq!(at.as_str(), demo.url("/"), "back on the demo's home page");
}

/// Clicks "Call the API" and returns what the page shows.
async fn call_api(browser: &Client, client: &str) -> String {
    press(browser, &format!("#call-api-{client}")).await;
    wait_text(browser, &format!("#api-result-{client}"), "HTTP ").await;
    let shown = wait_text(browser, &format!("#api-result-{client}"), "}").await;
    assert!(shown.starts_with("HTTP 200"), "the API answered: {shown}");
    shown
}

async fn log_out(browser: &Client, client: &str) {
    click(browser, "#logout").await;
    find(browser, &format!("a#login-{client}")).await;
    assert!(absent(browser, &format!("#account-{client}")).await);
    assert!(absent(browser, "#logout").await);
}

async fn openid_connect_login_in_a_browser(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Chromium])
    {
        return;
    }
    let started = Instant::now();
    let driver = Driver::start().await;
    let demo = CrossSiteDemo::start(framework, memory(framework), Mode::Query).await;
    let browser = driver.browser().await;
    let client = dev::OIDC_CLIENT;

    // A login started and abandoned gives the browser a session; its id must not survive
    // the login that follows (session fixation).
    browser.goto(&demo.url("/")).await.expect("home");
    click(&browser, "a#login-dev").await;
    find(&browser, "button.user[value=\"alice\"]").await;
    browser.goto(&demo.url("/")).await.expect("home");
    let before = demo
        .session_id(&browser)
        .await
        .expect("a session after /login");
    assert!(
        demo.stored(&before).await.is_some(),
        "the pending login is stored"
    );

    let shots = format!("oidc-{framework:?}").to_lowercase();
    log_in(&browser, &demo, client, Some(&shots)).await;
    let after = demo
        .session_id(&browser)
        .await
        .expect("a session after the login");
    assert_ne!(before, after, "the login renews the session id");
    assert!(
        demo.stored(&before).await.is_none(),
        "the old session is gone from the store"
    );
    let id_cookie = cookie(&browser, "id").await.unwrap();
    assert_eq!(
        id_cookie.same_site(),
        Some(cookie::SameSite::Lax),
        "{id_cookie}"
    );
    assert_eq!(id_cookie.http_only(), Some(true), "{id_cookie}");

    assert_eq!(text(&browser, "#account-dev .who").await, "Alice Example");
    assert_eq!(text(&browser, "#token-type").await, "Bearer");
    let scope = text(&browser, "#token-scope").await;
    for wanted in ["openid", "email", "profile"] {
        assert!(scope.contains(wanted), "scope shown: {scope}");
    }
    let expires = text(&browser, "#token-expires").await;
    assert!(expires.contains("UTC (in "), "expiry shown: {expires}");
    let claims = text(&browser, "#account-dev table.claims").await;
    assert!(claims.contains("alice@example.test"), "claims: {claims}");
    assert!(claims.contains("Alice Example"), "claims: {claims}");
    let secrets = demo.secrets(&browser).await;
    assert!(
        secrets.len() >= 5,
        "expected 2 client secrets and the access, refresh and ID tokens, got {}",
        secrets.len()
    );
    assert_no_secrets(&browser, &secrets).await;
    let logged_in = screenshot(&browser, &format!("{shots}-3-logged-in")).await;
    if framework == Framework::Axum && std::env::var_os("FERROAUTH_UPDATE_DOCS").is_some() {
        std::fs::copy(
            &logged_in,
            browser::workspace().join("docs/demo-logged-in.png"),
        )
        .unwrap();
    }

    let answer = call_api(&browser, client).await;
    assert!(answer.contains("\"sub\": \"alice\""), "API: {answer}");
    assert!(answer.contains("alice@example.test"), "API: {answer}");
    assert!(
        answer.contains("\"client_id\": \"demo-oidc\""),
        "API: {answer}"
    );
    assert_no_secrets(&browser, &secrets).await;
    screenshot(&browser, &format!("{shots}-4-api-result")).await;

    let before = demo.accounts(&browser).await;
    click(&browser, "#refresh-dev").await;
    find(&browser, "#account-dev").await;
    let after = demo.accounts(&browser).await;
    assert_eq!(after.len(), 1, "still logged in after the refresh");
    assert_ne!(
        token_secrets(&before[0].1.token)[0],
        token_secrets(&after[0].1.token)[0],
        "the refresh gave a new access token"
    );
    let expires = text(&browser, "#token-expires").await;
    assert!(
        expires.contains("UTC (in "),
        "expiry after refresh: {expires}"
    );
    assert_eq!(text(&browser, "#token-type").await, "Bearer");
    let mut all_secrets = secrets.clone();
    all_secrets.extend(demo.secrets(&browser).await);
    assert_no_secrets(&browser, &all_secrets).await;
    // The fresh token works.
    let answer = call_api(&browser, client).await;
    assert!(answer.contains("\"sub\": \"alice\""), "API: {answer}");

    let last = demo.session_id(&browser).await.unwrap();
    log_out(&browser, client).await;
    assert!(
        demo.stored(&last).await.is_none(),
        "logout deletes the session"
    );
    screenshot(&browser, &format!("{shots}-5-logged-out")).await;
    browser.close().await.expect("close the browser");
    println!("OpenID Connect browser flow: {:.1?}", started.elapsed());
}

async fn oauth1_login_in_a_browser(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Chromium])
    {
        return;
    }
    let started = Instant::now();
    let driver = Driver::start().await;
    let demo = CrossSiteDemo::start(framework, memory(framework), Mode::Query).await;
    let browser = driver.browser().await;
    let client = dev::OAUTH1_CLIENT;

    let shots = format!("oauth1-{framework:?}").to_lowercase();
    log_in(&browser, &demo, client, Some(&shots)).await;
    let who = text(&browser, "#account-dev-oauth1 .who").await;
    assert!(who.to_lowercase().contains("alice"), "logged in as {who}");
    assert_eq!(text(&browser, "#token-type").await, "OAuth1");
    let expires = text(&browser, "#token-expires").await;
    assert!(expires.contains("never"), "expiry shown: {expires}");
    // OAuth 1.0a tokens cannot be refreshed: no button for it.
    assert!(absent(&browser, "#refresh-dev-oauth1").await);
    let secrets = demo.secrets(&browser).await;
    assert!(
        secrets.len() >= 4,
        "expected 2 client secrets and the token and its secret, got {}",
        secrets.len()
    );
    assert_no_secrets(&browser, &secrets).await;
    screenshot(&browser, &format!("{shots}-3-logged-in")).await;

    let answer = call_api(&browser, client).await;
    assert!(answer.contains("\"user_id\": \"alice\""), "API: {answer}");
    assert!(answer.contains("alice@example.test"), "API: {answer}");
    assert!(
        answer.contains("\"consumer_key\": \"demo-oauth1\""),
        "API: {answer}"
    );
    assert_no_secrets(&browser, &secrets).await;
    screenshot(&browser, &format!("{shots}-4-api-result")).await;

    // Logged in with both providers at once, then out of both.
    log_in(&browser, &demo, dev::OIDC_CLIENT, None).await;
    find(&browser, "#account-dev-oauth1").await;
    let both = call_api(&browser, client).await;
    assert!(both.contains("\"user_id\": \"alice\""), "API: {both}");
    log_out(&browser, client).await;
    assert!(absent(&browser, "#account-dev").await);
    browser.close().await.expect("close the browser");
    println!("OAuth 1.0a browser flow: {:.1?}", started.elapsed());
}

/// The zero-setup demo's `dev-dpop` client in a real browser, the provider on another
/// site: the authorization request is pushed (the browser sees only `client_id` and
/// `request_uri`), the token is DPoP-bound, and the API call proves possession of the key
/// (the provider refuses this client's token requests without a proof).
async fn par_and_dpop_login_in_a_browser(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Chromium])
    {
        return;
    }
    let driver = Driver::start().await;
    let demo = CrossSiteDemo::start(framework, memory(framework), Mode::Query).await;
    let browser = driver.browser().await;
    let client = dev::DPOP_CLIENT;
    browser.goto(&demo.url("/")).await.expect("home");
    click(&browser, &format!("a#login-{client}")).await;
    find(&browser, "button.user[value=\"alice\"]").await;
    let at_provider = url::Url::parse(browser.current_url().await.unwrap().as_str()).unwrap();
    let mut names: Vec<String> = at_provider
        .query_pairs()
        .map(|(k, _)| k.into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["client_id", "request_uri"], "{at_provider}");
    browser.goto(&demo.url("/")).await.expect("home");
    log_in(&browser, &demo, client, None).await;
    assert_eq!(text(&browser, "#token-type").await, "DPoP");
    let answer = call_api(&browser, client).await;
    assert!(answer.contains("alice"), "API: {answer}");
    let secrets = demo.secrets(&browser).await;
    assert_no_secrets(&browser, &secrets).await;
    browser.close().await.expect("close the browser");
}

async fn error_pages_in_a_browser(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Chromium])
    {
        return;
    }
    let started = Instant::now();
    let driver = Driver::start().await;
    let demo = CrossSiteDemo::start(framework, memory(framework), Mode::Query).await;
    let browser = driver.browser().await;

    // A login is pending, but the callback carries a state this session never issued.
    browser.goto(&demo.url("/")).await.expect("home");
    click(&browser, "a#login-dev").await;
    find(&browser, "button.user[value=\"alice\"]").await;
    browser
        .goto(&demo.url("/auth/dev?code=bogus-code&state=bogus-state"))
        .await
        .expect("callback");
    assert_eq!(text(&browser, "#error-code").await, "state_unknown");
    let description = text(&browser, "#error-description").await;
    assert!(!description.trim().is_empty());
    let page = text(&browser, "main").await;
    assert!(page.contains("Start the login again"), "advice: {page}");
    assert!(page.contains("Back to the home page"), "way out: {page}");
    screenshot(&browser, &format!("error-{framework:?}-1-state-unknown")).await;

    // The user declines at the provider.
    browser.goto(&demo.url("/")).await.expect("home");
    click(&browser, "a#login-dev").await;
    click(&browser, "button.deny").await;
    assert_eq!(text(&browser, "#error-code").await, "access_denied");
    assert!(text(&browser, "main").await.contains("declined"));
    screenshot(&browser, &format!("error-{framework:?}-2-access-denied")).await;

    // The way back works.
    click(&browser, "a.button[href=\"/\"]").await;
    find(&browser, "a#login-dev").await;
    assert!(absent(&browser, "#account-dev").await);
    browser.close().await.expect("close the browser");
    println!("error pages browser flow: {:.1?}", started.elapsed());
}

/// With one store: an OpenID Connect login in query mode and one in form_post mode, and an
/// OAuth 1.0a login, each cross-site, each ending on the demo's page as alice.
async fn logins_with(framework: Framework, sessions: impl Fn() -> Sessions, label: &str) {
    let started = Instant::now();
    let label = format!("{label}-{framework:?}").to_lowercase();
    let driver = Driver::start().await;
    for mode in [Mode::Query, Mode::FormPost] {
        let demo = CrossSiteDemo::start(framework, sessions(), mode).await;
        let browser = driver.browser().await;
        log_in(&browser, &demo, dev::OIDC_CLIENT, None).await;
        assert_eq!(text(&browser, "#account-dev .who").await, "Alice Example");
        if mode == Mode::FormPost {
            screenshot(&browser, &format!("{label}-form-post-logged-in")).await;
        } else {
            log_in(&browser, &demo, dev::OAUTH1_CLIENT, None).await;
            let who = text(&browser, "#account-dev-oauth1 .who").await;
            assert!(who.to_lowercase().contains("alice"), "logged in as {who}");
            find(&browser, "#account-dev").await;
            call_api(&browser, dev::OAUTH1_CLIENT).await;
        }
        call_api(&browser, dev::OIDC_CLIENT).await;
        browser.close().await.expect("close the browser");
    }
    println!("{label}: cross-site logins in {:.1?}", started.elapsed());
}

async fn logins_with_memory_sessions(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Chromium])
    {
        return;
    }
    logins_with(framework, || memory(framework), "memory").await;
}

async fn logins_with_redis_sessions(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::Redis,
        ferroauth_testkit::services::Service::Chromium,
    ]) {
        return;
    }
    logins_with(framework, || Sessions::Redis(Redis::start()), "redis").await;
}

async fn logins_with_cookie_sessions(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Chromium])
    {
        return;
    }
    logins_with(framework, || Sessions::Cookie, "cookie").await;
}

/// panva's oidc-provider with its own login and consent pages, in query and form_post
/// mode, at 127.0.0.1 while the demo is at localhost.
async fn oidc_provider_logins_in_a_browser(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
        ferroauth_testkit::services::Service::Chromium,
    ]) {
        return;
    }
    const SECRET: &str = "a-long-client-secret-for-browser-tests-0123456789";
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://localhost:{}", listener.local_addr().unwrap().port());
    let clients = json!([
        { "client_id": "op-client", "client_secret": SECRET,
          "redirect_uris": [format!("{origin}/auth/op"), format!("{origin}/auth/op-form")] },
    ]);
    let peer = Peer::oidc_provider(&clients, &[]);
    let metadata = format!("{}/.well-known/openid-configuration", peer.issuer);
    let settings = Settings::from_toml_str(&format!(
        "[clients.op]\nclient_id = \"op-client\"\nclient_secret = \"{SECRET}\"\nserver_metadata_url = \"{metadata}\"\nclient_kwargs = {{ scope = \"openid profile email\" }}\n\
         [clients.op-form]\nclient_id = \"op-client\"\nclient_secret = \"{SECRET}\"\nserver_metadata_url = \"{metadata}\"\nauthorize_params = {{ response_mode = \"form_post\" }}\nclient_kwargs = {{ scope = \"openid profile email\" }}\n"
    ))
    .unwrap();
    let oauth = OAuth::from_settings(&settings).unwrap();
    let _demo = Running::memory(framework, listener, oauth, DemoOptions::default());

    let driver = Driver::start().await;
    for (client, user) in [("op", "carol"), ("op-form", "dave")] {
        let browser = driver.browser().await;
        browser.goto(&format!("{origin}/")).await.expect("home");
        click(&browser, &format!("a#login-{client}")).await;
        // oidc-provider's own login form, then its consent form.
        wait_url(&browser, &peer.issuer).await;
        type_into(&browser, "input[name=login]", user).await;
        type_into(&browser, "input[name=password]", "any password").await;
        if client == "op-form" {
            screenshot(&browser, &format!("oidc-provider-{framework:?}-login-form")).await;
        }
        click(&browser, "button[type=submit]").await;
        find(&browser, "input[name=prompt][value=consent]").await;
        click(&browser, "button[type=submit]").await;
        find(&browser, &format!("#account-{client}")).await;
        let who = text(&browser, &format!("#account-{client} .who")).await;
        let name = format!("{}{} Example", user[..1].to_uppercase(), &user[1..]);
        assert_eq!(who, name, "{}", peer.log());
        let claims = text(&browser, &format!("#account-{client} table.claims")).await;
        assert!(claims.contains(user), "claims: {claims}");
        browser.close().await.expect("close the browser");
    }
}

/// Authlib's OAuth 1.0a server at 127.0.0.1, the demo at localhost.
async fn authlib_oauth1_login_in_a_browser(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::Authlib,
        ferroauth_testkit::services::Service::Chromium,
    ]) {
        return;
    }
    const SECRET: &str = "authlib-browser-consumer-secret";
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://localhost:{}", listener.local_addr().unwrap().port());
    let clients = json!([
        { "client_id": "browser-client", "client_secret": SECRET,
          "redirect_uris": [format!("{origin}/auth/authlib")] },
    ]);
    // The approval page: a click on the provider's own site, so that the way back is a
    // cross-site navigation (an instant redirect chain would count as same-site).
    let peer = Peer::authlib(&clients, &["--approval-page"]);
    let i = &peer.issuer;
    let settings = Settings::from_toml_str(&format!(
        "[clients.authlib]\nclient_id = \"browser-client\"\nclient_secret = \"{SECRET}\"\nrequest_token_url = \"{i}/oauth1/request_token\"\nauthorize_url = \"{i}/oauth1/authorize\"\naccess_token_url = \"{i}/oauth1/access_token\"\napi_base_url = \"{i}/oauth1/api/\"\n"
    ))
    .unwrap();
    let oauth = OAuth::from_settings(&settings).unwrap();
    let options = DemoOptions {
        api_paths: [("authlib".to_owned(), "me".to_owned())].into(),
        ..DemoOptions::default()
    };
    let _demo = Running::memory(framework, listener, oauth, options);

    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser.goto(&format!("{origin}/")).await.expect("home");
    click(&browser, "a#login-authlib").await;
    wait_url(&browser, &peer.issuer).await;
    click(&browser, "#approve").await;
    find(&browser, "#account-authlib").await;
    let who = text(&browser, "#account-authlib .who").await;
    assert_eq!(who, "alice", "{}", peer.log());
    let answer = call_api(&browser, "authlib").await;
    assert!(
        answer.contains("\"screen_name\": \"alice\""),
        "API: {answer}"
    );
    browser.close().await.expect("close the browser");
}

/// Over https with a certificate made for the test: the session cookie is `Secure`, and a
/// form_post login completes.
async fn https_login_with_a_secure_cookie(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Chromium])
    {
        return;
    }
    let cert = TestCertificate::localhost();
    let driver = Driver::start().await;
    let demo =
        CrossSiteDemo::start_with(framework, memory(framework), Mode::FormPost, Some(&cert)).await;
    assert!(demo.origin.starts_with("https://localhost:"));
    let browser = driver
        .browser_with(std::slice::from_ref(&cert.chromium_flag))
        .await;
    let shots = format!("https-{framework:?}").to_lowercase();
    log_in(&browser, &demo, dev::OIDC_CLIENT, Some(&shots)).await;
    // Behind https the session cookie is __Host- prefixed: no sibling host can plant it.
    let id = cookie(&browser, "__Host-id")
        .await
        .expect("the session cookie");
    assert_eq!(id.secure(), Some(true), "{id}");
    assert_eq!(id.same_site(), Some(cookie::SameSite::Lax), "{id}");
    assert_eq!(id.http_only(), Some(true), "{id}");
    assert_eq!(id.path(), Some("/"), "{id}");
    assert_eq!(demo.accounts(&browser).await.len(), 1);
    call_api(&browser, dev::OIDC_CLIENT).await;
    browser.close().await.expect("close the browser");
}

/// An app that keeps tower-sessions' `SameSite=Strict` default: the browser does not send
/// the cookie on the provider's redirect, and the callback says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strict_session_cookie_is_named_on_the_callback() {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Chromium])
    {
        return;
    }
    use axum::extract::{Path, State};
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;
    use ferroauth_axum::{AuthError, AuthSession, Callback, RedirectUri};
    use tower_sessions::SessionManagerLayer;
    use tower_sessions::cookie::SameSite;

    async fn login(
        State(oauth): State<OAuth>,
        Path(name): Path<String>,
        session: AuthSession,
        uri: RedirectUri,
    ) -> Result<Response, AuthError> {
        let client = oauth.client(&name)?;
        let to = uri.to(&format!("/auth/{name}"));
        let url = ferroauth_axum::authorize_redirect(&client, &session, &to).await?;
        Ok(ferroauth_axum::LoginRedirect(url).into_response())
    }
    async fn auth(
        State(oauth): State<OAuth>,
        Path(name): Path<String>,
        session: AuthSession,
        Callback(params): Callback,
    ) -> Result<String, AuthError> {
        ferroauth_axum::authorize_access_token(&oauth.client(&name)?, &session, &params).await?;
        Ok("logged in".into())
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let clients = DevClients::new().unwrap();
    let provider = clients
        .provider_builder(&format!("http://127.0.0.1:{port}"), false, false)
        .start()
        .await
        .unwrap();
    let settings = Settings::from_toml_str(&clients.settings_toml(provider.issuer())).unwrap();
    let app = Router::new()
        .route("/login/{name}", get(login))
        .route("/auth/{name}", get(auth).post(auth))
        .layer(
            SessionManagerLayer::new(MemoryStore::default())
                .with_same_site(SameSite::Strict)
                .with_secure(false),
        )
        .with_state(OAuth::from_settings(&settings).unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser
        .goto(&format!("http://localhost:{port}/login/dev"))
        .await
        .expect("login");
    wait_url(&browser, provider.issuer()).await;
    click(&browser, "button.user[value=\"alice\"]").await;
    let body = text(&browser, "body").await;
    let answer: Value = serde_json::from_str(&body).expect("a JSON error");
    assert_eq!(answer["error"], "session_missing", "{body}");
    assert!(
        answer["error_description"]
            .as_str()
            .unwrap()
            .contains("SameSite=Strict"),
        "{body}"
    );
    browser.close().await.expect("close the browser");
}

/// The quick-start app as it is (`src/bin/quickstart.rs`, the same text as the axum app of
/// the guide's frameworks chapter), run as its own process with a settings file, logging in
/// across sites in query and form_post mode.
async fn readme_quick_start_in_a_browser(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Chromium])
    {
        return;
    }
    let port = support::services::free_port();
    let origin = format!("http://localhost:{port}");
    let provider = TestProvider::builder()
        .user(ferroauth_testkit::User::new("alice").name("Alice Example"))
        .client(
            ferroauth_testkit::Client::confidential("qs", "qs-secret", format!("{origin}/auth/qs"))
                .redirect_uri(format!("{origin}/auth/qs-form")),
        )
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let metadata = format!("{}/.well-known/openid-configuration", provider.issuer());
    std::fs::write(
        dir.path().join("ferroauth.toml"),
        format!(
            "[clients.qs]\nclient_id = \"qs\"\nclient_secret = \"qs-secret\"\nserver_metadata_url = \"{metadata}\"\nclient_kwargs = {{ scope = \"openid profile\" }}\n\
             [clients.qs-form]\nclient_id = \"qs\"\nclient_secret = \"qs-secret\"\nserver_metadata_url = \"{metadata}\"\nauthorize_params = {{ response_mode = \"form_post\" }}\nclient_kwargs = {{ scope = \"openid profile\" }}\n"
        ),
    )
    .unwrap();
    let program = match framework {
        Framework::Axum => env!("CARGO_BIN_EXE_quickstart"),
        Framework::Actix => env!("CARGO_BIN_EXE_quickstart_actix"),
    };
    let app = support::app::ChildApp::spawn(
        program,
        &[],
        dir.path(),
        &[("LISTEN", format!("127.0.0.1:{port}"))],
        port,
    )
    .await;

    let driver = Driver::start().await;
    for client in ["qs", "qs-form"] {
        let browser = driver.browser().await;
        browser
            .goto(&format!("{origin}/login/{client}"))
            .await
            .expect("login");
        wait_url(&browser, provider.issuer()).await;
        click(&browser, "button.user[value=\"alice\"]").await;
        let body = wait_text(&browser, "body", "hello").await;
        assert_eq!(body, "hello Alice Example", "{client}: {}", app.log());
        browser.close().await.expect("close the browser");
    }
}

/// The demo binary in its zero-setup mode with `--dev-provider-listen`: the development
/// provider on its own port, another site than the demo opened at localhost.
async fn demo_binary_with_the_dev_provider_on_its_own_port(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Chromium])
    {
        return;
    }
    let (port, idp_port) = (
        support::services::free_port(),
        support::services::free_port(),
    );
    let dir = tempfile::tempdir().unwrap();
    let app = support::app::ChildApp::spawn(
        env!("CARGO_BIN_EXE_ferroauth-demo"),
        &[
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--dev-provider-listen",
            &format!("127.0.0.1:{idp_port}"),
            "--framework",
            &format!("{framework:?}").to_lowercase(),
        ],
        dir.path(),
        &[],
        port,
    )
    .await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser
        .goto(&format!("http://localhost:{port}/"))
        .await
        .expect("home");
    click(&browser, "a#login-dev").await;
    wait_url(&browser, &format!("http://127.0.0.1:{idp_port}/idp/")).await;
    click(&browser, "button.user[value=\"bob\"]").await;
    find(&browser, "#account-dev").await;
    assert_eq!(
        text(&browser, "#account-dev .who").await,
        "Bob Example",
        "{}",
        app.log()
    );
    browser.close().await.expect("close the browser");
}

/// The attacker's host: a sibling of the app's under the same parent domain.
const EVIL_HOST: &str = "evil.example.test";
/// The app's host.
const APP_HOST: &str = "app.example.test";
/// The parent domain both share, which a sibling host may set cookies for.
const PARENT_DOMAIN: &str = "example.test";

/// The attacker's page on `evil.example.test`: its answer sets each of `cookies` for the
/// whole parent domain (`Domain=example.test`), under the name the app uses and, for a
/// `__Host-` name, the same name without the prefix too.
async fn serve_attacker_page(
    cert: &TestCertificate,
    cookies: Vec<(String, String)>,
) -> (String, tokio::task::JoinHandle<()>) {
    let mut set_cookies = Vec::new();
    for (name, value) in cookies {
        let mut names = vec![name.clone()];
        if let Some(bare) = name.strip_prefix(ferroauth::cookies::HOST_PREFIX) {
            names.push(bare.to_owned());
        }
        for name in names {
            set_cookies.push(format!(
                "{name}={value}; Domain={PARENT_DOMAIN}; Path=/; Secure; HttpOnly; SameSite=Lax"
            ));
        }
    }
    serve_on_evil_host(
        cert,
        "<p id=\"planted\">nothing to see here</p>".to_owned(),
        set_cookies,
    )
    .await
}

/// A certificate for the app's and the attacker's hosts, chromedriver, and the Chromium
/// flags that trust the certificate and resolve every `*.example.test` to 127.0.0.1.
async fn sibling_hosts() -> (TestCertificate, Driver, [String; 2]) {
    let cert = TestCertificate::for_names(&[APP_HOST, EVIL_HOST]);
    let driver = Driver::start().await;
    let flags = [
        cert.chromium_flag.clone(),
        format!("--host-resolver-rules=MAP *.{PARENT_DOMAIN} 127.0.0.1"),
    ];
    (cert, driver, flags)
}

/// A page on `https://evil.example.test` (a sibling host of the app): `html`, with these
/// `Set-Cookie` values.
async fn serve_on_evil_host(
    cert: &TestCertificate,
    html: String,
    set_cookies: Vec<String>,
) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let page = move || {
        let set_cookies = set_cookies.clone();
        let html = html.clone();
        async move {
            let mut response =
                axum::response::IntoResponse::into_response(axum::response::Html(html));
            for value in set_cookies {
                response.headers_mut().append(
                    axum::http::header::SET_COOKIE,
                    axum::http::HeaderValue::from_str(&value).unwrap(),
                );
            }
            response
        }
    };
    let app = Router::new().route("/", axum::routing::get(page));
    let listener = TlsListener::new(listener, cert.config.clone());
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("https://{EVIL_HOST}:{port}/"), task)
}

/// Cross-site request forgery from a sibling host, in a real browser: a page on
/// `https://evil.example.test` posts a form to the app's `/logout` and `/refresh/dev` on
/// `https://app.example.test`. The two are the same site, so Chromium sends the
/// `SameSite=Lax` session cookie with the POST: only the routes' own check
/// (`Sec-Fetch-Site: same-site`, as Chromium sets it) stops the forgery. The victim stays
/// logged in; the app's own logout button still works.
async fn sibling_host_posts_are_refused_in_a_browser(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Chromium])
    {
        return;
    }
    let (cert, driver, flags) = sibling_hosts().await;
    let client = dev::OIDC_CLIENT;
    let demo = CrossSiteDemo::start_at(
        framework,
        memory(framework),
        Mode::Query,
        Some(&cert),
        APP_HOST,
    )
    .await;
    let victim = driver.browser_with(&flags).await;
    log_in_as(&victim, &demo, client, "alice", None).await;
    for route in ["/logout".to_owned(), format!("/refresh/{client}")] {
        let html = format!(
            "<form id=\"f\" method=\"post\" action=\"{}\"></form>\
             <script>document.getElementById('f').submit()</script>",
            demo.url(&route)
        );
        let (evil, _page) = serve_on_evil_host(&cert, html, Vec::new()).await;
        victim.goto(&evil).await.expect("the attacker's page");
        // The forged POST lands on the app's error page.
        wait_url(&victim, &demo.url(&route)).await;
        let page = victim.source().await.expect("the answer's source");
        assert!(
            page.contains("cross_site_request"),
            "{framework:?}: POST {route} from a sibling host was not refused: {page}"
        );
        victim.goto(&demo.url("/")).await.expect("home");
        assert_eq!(
            text(&victim, &format!("#account-{client} .who")).await,
            "Alice Example",
            "{framework:?}: the forged POST {route} changed the session"
        );
    }
    // The app's own form (same-origin) still logs out.
    click(&victim, "#logout").await;
    find(&victim, &format!("a#login-{client}")).await;
    assert!(absent(&victim, "#logout").await, "{framework:?}");
    victim.close().await.expect("close the browser");
}

/// Cookie tossing in a real browser: the app on `https://app.example.test`, an attacker
/// page on `https://evil.example.test` (both resolved to 127.0.0.1 by Chromium). The
/// attacker logs in to the app as Bob in their own browser, takes the cookies the app gave
/// them and has their page set them for `Domain=example.test`; the victim opens that page,
/// then the app. The app's cookies are `__Host-` named, which a sibling host cannot set,
/// so the victim is not logged in as Bob, and then logs in as Alice as usual. With the old
/// plain names (`id`, `fa_accounts`, ...) the planted cookies reached the app and the
/// victim was Bob. Over server-side (memory) and sealed-cookie sessions.
async fn sibling_host_cookies_are_ignored_in_a_browser(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Chromium])
    {
        return;
    }
    let (cert, driver, flags) = sibling_hosts().await;
    let client = dev::OIDC_CLIENT;
    for sessions in [memory(framework), Sessions::Cookie] {
        let store = match sessions {
            Sessions::Cookie => "cookie",
            _ => "memory",
        };
        let demo =
            CrossSiteDemo::start_at(framework, sessions, Mode::Query, Some(&cert), APP_HOST).await;
        // The attacker's own login, in the attacker's browser.
        let attacker = driver.browser_with(&flags).await;
        log_in_as(&attacker, &demo, client, "bob", None).await;
        assert_eq!(text(&attacker, "#account-dev .who").await, "Bob Example");
        let stolen: Vec<(String, String)> = attacker
            .get_all_cookies()
            .await
            .expect("the attacker's cookies")
            .into_iter()
            .map(|c| (c.name().to_owned(), c.value().to_owned()))
            .collect();
        attacker
            .close()
            .await
            .expect("close the attacker's browser");
        assert!(!stolen.is_empty(), "{store}: the app set no cookie");
        let (evil, _attacker_page) = serve_attacker_page(&cert, stolen.clone()).await;

        // The victim visits the attacker's page, then the app.
        let victim = driver.browser_with(&flags).await;
        victim.goto(&evil).await.expect("the attacker's page");
        find(&victim, "#planted").await;
        victim.goto(&demo.url("/")).await.expect("home");
        find(&victim, "a#login-dev").await;
        let planted: Vec<cookie::Cookie<'static>> = victim
            .get_all_cookies()
            .await
            .expect("the victim's cookies");
        // The planting works (the test can fail): the parent-domain copies reach the app's
        // pages, but none under a __Host- name.
        assert!(
            planted.iter().any(|c| c
                .domain()
                .is_some_and(|d| d.trim_start_matches('.') == PARENT_DOMAIN)),
            "{store}: nothing was planted: {planted:?}"
        );
        for c in &planted {
            assert!(
                !c.name().starts_with(ferroauth::cookies::HOST_PREFIX),
                "{store}: a sibling host set {}",
                c.name()
            );
        }
        if !absent(&victim, "#account-dev").await {
            panic!(
                "{store}: the planted cookies {:?} logged the victim in as {:?}",
                planted.iter().map(|c| c.name()).collect::<Vec<_>>(),
                text(&victim, "#account-dev .who").await
            );
        }
        // The victim's own login works beside the planted cookies, as the victim.
        log_in_as(&victim, &demo, client, "alice", None).await;
        assert_eq!(text(&victim, "#account-dev .who").await, "Alice Example");
        let answer = call_api(&victim, client).await;
        assert!(
            answer.contains("\"sub\": \"alice\""),
            "{store}: API: {answer}"
        );
        let own: Vec<String> = victim
            .get_all_cookies()
            .await
            .expect("cookies")
            .into_iter()
            .filter(|c| c.name().starts_with(ferroauth::cookies::HOST_PREFIX))
            .map(|c| c.name().to_owned())
            .collect();
        assert!(
            !own.is_empty(),
            "{store}: the app's own cookies are __Host- named"
        );
        victim.close().await.expect("close the victim's browser");
    }
}

/// The login routes mounted under a prefix (axum `nest`, actix-web `scope`) with an app's
/// own login hook, cross-site in query and form_post mode: the redirect URI and the
/// form_post re-post page keep the prefix, and the hook's page ends the login.
async fn nested_routes_in_a_browser(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Chromium])
    {
        return;
    }
    use support::nested::{PREFIX, serve};
    let driver = Driver::start().await;
    for mode in [Mode::Query, Mode::FormPost] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let clients = DevClients::new().expect("secrets");
        let provider = clients
            .provider_builder(&format!("http://127.0.0.1:{port}{PREFIX}"), false, false)
            .start()
            .await
            .expect("provider");
        let mut settings =
            Settings::from_toml_str(&clients.settings_toml(provider.issuer())).expect("settings");
        if mode == Mode::FormPost {
            let client = settings.clients.get_mut(dev::OIDC_CLIENT).unwrap();
            let params = &mut client.authorize_params;
            params.insert("response_mode".into(), "form_post".into());
        }
        let oauth = OAuth::from_settings(&settings).expect("clients");
        let _running = serve(framework, listener, oauth);
        let browser = driver.browser().await;
        let login = format!("http://localhost:{port}{PREFIX}/login/{}", dev::OIDC_CLIENT);
        browser.goto(&login).await.expect("the login route");
        wait_url(&browser, provider.issuer()).await;
        click(&browser, "button.user[value=\"alice\"]").await;
        let hook = wait_text(&browser, "#hook", dev::OIDC_CLIENT).await;
        assert!(hook.contains("alice"), "logged in as alice: {hook}");
        let at = browser.current_url().await.unwrap();
        assert!(
            at.path().starts_with(PREFIX),
            "ended under the prefix: {at}"
        );
        browser.close().await.expect("close the browser");
    }
}

crate::on_both!(
    nested_routes_in_a_browser,
    sibling_host_cookies_are_ignored_in_a_browser,
    sibling_host_posts_are_refused_in_a_browser,
    openid_connect_login_in_a_browser,
    oauth1_login_in_a_browser,
    par_and_dpop_login_in_a_browser,
    error_pages_in_a_browser,
    logins_with_memory_sessions,
    logins_with_redis_sessions,
    logins_with_cookie_sessions,
    oidc_provider_logins_in_a_browser,
    authlib_oauth1_login_in_a_browser,
    https_login_with_a_secure_cookie,
    readme_quick_start_in_a_browser,
    demo_binary_with_the_dev_provider_on_its_own_port,
);
