//! Logout in a real browser against panva's oidc-provider (OpenID Certified), with the app
//! opened at `http://localhost:PORT` and the provider at `http://127.0.0.1:PORT`: another
//! site, as every real provider is. Headless Chromium clicks through the provider's own
//! pages.
//!
//! | test | what ends the session | sessions |
//! |---|---|---|
//! | `logout_at_the_provider_and_from_the_app_in_a_browser` | the provider's own end-session page (back-channel logout token to the demo), then the demo's logout button (RP-initiated: the provider's page, back with the `state`, the refresh token revoked) | memory |
//! | `backchannel_logout_reaches_another_instance_in_a_browser` | the provider's end-session page; the token goes to instance A, the browser's session lives on instance B | Redis, two instances |

mod browser;
mod support;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use browser::{Driver, absent, click, find, wait_url};
use fantoccini::Client;
use ferroauth::session::memory::MemoryStore;
use ferroauth::session::store::{OpenStore, SharedStore, StoreChoice};
use ferroauth::settings::Settings;
use ferroauth::{OAuth, Token};
use ferroauth_actix::stores::Store;
use ferroauth_axum::sessions::SessionsExt as AxumSessions;
use ferroauth_demo::DemoOptions;
use serde_json::{Value, json};
use support::framework::Running;
use support::services::Redis;
use support::{Framework, Peer};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

const SECRET: &str = "a-long-client-secret-for-logout-tests-0123456789";

/// An oidc-provider whose client `op-client` logs in to the demos at `origins` and is sent
/// back-channel logout tokens at `backchannel` (with `sid`).
fn provider(origins: &[&str], backchannel: &str) -> Peer {
    let mut redirects = Vec::new();
    let mut returns = Vec::new();
    for origin in origins {
        redirects.push(format!("{origin}/auth/op"));
        returns.push(format!("{origin}/logged-out"));
    }
    let clients = json!([{
        "client_id": "op-client",
        "client_secret": SECRET,
        "redirect_uris": redirects,
        "post_logout_redirect_uris": returns,
        "grant_types": ["authorization_code", "refresh_token"],
        "backchannel_logout_uri": backchannel,
        "backchannel_logout_session_required": true,
    }]);
    Peer::oidc_provider(&clients, &[])
}

/// The demo's settings for that provider: `offline_access` (a refresh token to revoke),
/// which oidc-provider grants only with `prompt=consent`.
fn settings(peer: &Peer) -> OAuth {
    let metadata = format!("{}/.well-known/openid-configuration", peer.issuer);
    let toml = format!(
        "[clients.op]\nclient_id = \"op-client\"\nclient_secret = \"{SECRET}\"\nserver_metadata_url = \"{metadata}\"\nauthorize_params = {{ prompt = \"consent\" }}\nclient_kwargs = {{ scope = \"openid profile email offline_access\" }}\n"
    );
    OAuth::from_settings(&Settings::from_toml_str(&toml).unwrap()).unwrap()
}

/// A store that keeps the last token entry saved: how the test learns the refresh token
/// that the logout must revoke (the demo never shows it).
#[derive(Debug, Clone)]
struct Capture {
    store: MemoryStore,
    token: Arc<Mutex<Option<String>>>,
}

#[async_trait]
impl SessionStore for Capture {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.keep(record);
        self.store.create(record).await
    }
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.keep(record);
        self.store.save(record).await
    }
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        self.store.load(id).await
    }
    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.store.delete(id).await
    }
}

impl Capture {
    fn keep(&self, record: &Record) {
        if let Some(Value::String(json)) = record.data.get("ferroauth.token.op") {
            *self.token.lock().unwrap() = Some(json.clone());
        }
    }

    fn refresh_token(&self) -> String {
        let json = self
            .token
            .lock()
            .unwrap()
            .clone()
            .expect("a token was saved");
        let token: Token = serde_json::from_str(&json).unwrap();
        let refresh = token.as_oauth2().unwrap().refresh_token.as_ref();
        refresh.expect("a refresh token").expose().to_owned()
    }
}

/// Serves the demo on `framework` over `store` (opened as the binary opens one, index
/// included).
fn serve(
    framework: Framework,
    listener: std::net::TcpListener,
    oauth: OAuth,
    store: OpenStore,
) -> Running {
    let options = DemoOptions::default();
    listener.set_nonblocking(true).unwrap();
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    match framework {
        Framework::Axum => {
            let sessions = options.sessions.clone();
            let app = ferroauth_demo::routes(options).with_state(oauth);
            Running::axum(listener, AxumSessions::apply_open(&sessions, app, store))
        }
        Framework::Actix => Running::actix(listener, oauth, options, Store::from(store)),
    }
}

/// Logs in through the demo at `origin` with oidc-provider's login and consent forms.
async fn log_in(browser: &Client, origin: &str, peer: &Peer, user: &str) {
    browser.goto(&format!("{origin}/")).await.expect("home");
    click(browser, "a#login-op").await;
    wait_url(browser, &peer.issuer).await;
    browser::type_into(browser, "input[name=login]", user).await;
    browser::type_into(browser, "input[name=password]", "any password").await;
    click(browser, "button[type=submit]").await;
    find(browser, "input[name=prompt][value=consent]").await;
    click(browser, "button[type=submit]").await;
    find(browser, "#account-op").await;
}

/// The provider's own end-session page, confirmed: oidc-provider then sends every client
/// of the session its back-channel logout token.
async fn end_at_the_provider(browser: &Client, peer: &Peer) {
    browser
        .goto(&format!("{}/session/end", peer.issuer))
        .await
        .expect("end-session page");
    click(browser, "button[name=logout][value=yes]").await;
}

/// Whether the demo's home page at `origin` shows the user logged out.
async fn shows_logged_out(browser: &Client, origin: &str) -> bool {
    browser.goto(&format!("{origin}/")).await.expect("home");
    find(browser, "a#login-op").await;
    absent(browser, "#account-op").await
}

async fn introspect(peer: &Peer, token: &str) -> Value {
    reqwest::Client::new()
        .post(format!("{}/token/introspection", peer.issuer))
        .basic_auth("op-client", Some(SECRET))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn logout_at_the_provider_and_from_the_app_in_a_browser(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
        ferroauth_testkit::services::Service::Chromium,
    ]) {
        return;
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let origin = format!("http://localhost:{port}");
    let peer = provider(
        &[&origin],
        &format!("http://127.0.0.1:{port}/backchannel-logout/op"),
    );
    let memory = MemoryStore::new();
    let capture = Capture {
        store: memory.clone(),
        token: Arc::default(),
    };
    let store = OpenStore::Shared(SharedStore::indexed(capture.clone(), Arc::new(memory)));
    let _demo = serve(framework, listener, settings(&peer), store);
    let driver = Driver::start().await;
    let browser = driver.browser().await;

    // Ended at the provider: its back-channel token ends the demo's session.
    log_in(&browser, &origin, &peer, "carol").await;
    end_at_the_provider(&browser, &peer).await;
    assert!(shows_logged_out(&browser, &origin).await, "{}", peer.log());
    assert!(
        peer.log()
            .contains("back-channel logout delivered to op-client"),
        "{}",
        peer.log()
    );

    // Ended from the demo's button: the provider's page, back with the state, and the
    // refresh token revoked at the provider.
    log_in(&browser, &origin, &peer, "carol").await;
    let refresh = capture.refresh_token();
    assert_eq!(introspect(&peer, &refresh).await["active"], true);
    click(&browser, "#logout").await;
    wait_url(&browser, &format!("{}/session/end", peer.issuer)).await;
    let at = browser.current_url().await.unwrap();
    assert!(at.query_pairs().any(|(k, _)| k == "id_token_hint"), "{at}");
    assert!(at.query_pairs().any(|(k, _)| k == "state"), "{at}");
    click(&browser, "button[name=logout][value=yes]").await;
    find(&browser, "a#login-op").await;
    let home = browser.current_url().await.unwrap();
    assert_eq!(
        home.as_str(),
        format!("{origin}/"),
        "back home once the state checked out"
    );
    let mut revoked = false;
    for _ in 0..50 {
        if introspect(&peer, &refresh).await["active"] == false {
            revoked = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(revoked, "the refresh token is inactive at the provider");
    browser.close().await.expect("close the browser");
}

async fn backchannel_logout_reaches_another_instance_in_a_browser(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::Redis,
        ferroauth_testkit::services::Service::OidcProvider,
        ferroauth_testkit::services::Service::Chromium,
    ]) {
        return;
    }
    let redis = Redis::start();
    let choice: StoreChoice = redis.url().parse().unwrap();
    let (a, b) = (
        std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
        std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
    );
    let (port_a, port_b) = (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    );
    let origin_b = format!("http://localhost:{port_b}");
    // The provider knows one address for the app: instance A's.
    let peer = provider(
        &[&origin_b],
        &format!("http://127.0.0.1:{port_a}/backchannel-logout/op"),
    );
    let open = || async { choice.open(None).await.expect("redis") };
    let _a = serve(framework, a, settings(&peer), open().await);
    let _b = serve(framework, b, settings(&peer), open().await);
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    log_in(&browser, &origin_b, &peer, "dave").await;
    end_at_the_provider(&browser, &peer).await;
    assert!(
        shows_logged_out(&browser, &origin_b).await,
        "{}",
        peer.log()
    );
    browser.close().await.expect("close the browser");
}

crate::on_both!(
    logout_at_the_provider_and_from_the_app_in_a_browser,
    backchannel_logout_reaches_another_instance_in_a_browser,
);
