//! The axum-login integration end to end: the crate's `axum_login` example app, served on
//! loopback, against the testkit's provider (auto-approve), with a client that plays the
//! browser (a cookie jar; redirects followed by hand, so that each hop is checked).

use std::sync::Arc;

use ferroauth::OAuth;
use ferroauth::settings::Settings;
use ferroauth::users::{IdentityKey, MemoryUserStore, UserId, Users};
use ferroauth_axum::sessions::SessionConfig;
use ferroauth_testkit::{Client, TestProvider, User};
use reqwest::StatusCode;
use reqwest::cookie::{CookieStore as _, Jar};
use reqwest::header::{COOKIE, LOCATION};

#[path = "../examples/axum_login.rs"]
#[allow(
    dead_code,
    reason = "the example's `main`: the tests serve its `app` themselves"
)]
mod example;

const SECRET: &str = "axum-login-client-secret-0123456789";

/// The provider and the example app, served on loopback.
struct Harness {
    base: String,
    idp: TestProvider,
    users: Users,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Harness {
    async fn start() -> Self {
        // The app's address first: the provider registers its exact redirect URI.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let idp = TestProvider::builder()
            .user(User::new("alice"))
            .user(User::new("bob"))
            .client(Client::confidential(
                "web",
                SECRET,
                format!("{base}/auth/dev"),
            ))
            .auto_approve(true)
            .start()
            .await
            .unwrap();
        let settings = Settings::from_toml_str(&format!(
            "[clients.dev]\nclient_id = \"web\"\nclient_secret = \"{SECRET}\"\nserver_metadata_url = \"{}/.well-known/openid-configuration\"\nclient_kwargs = {{ scope = \"openid\" }}\n",
            idp.issuer()
        ))
        .unwrap();
        let oauth = OAuth::from_settings(&settings).unwrap();
        let users = Users::new(MemoryUserStore::new());
        let sessions = SessionConfig::for_public_url(&base).unwrap();
        let app = example::app(oauth, users.clone(), &sessions);
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            base,
            idp,
            users,
            server,
        }
    }

    /// The app's user that the provider's user `sub` is linked to.
    async fn user_of(&self, sub: &str) -> Option<UserId> {
        let key = self.key(sub);
        self.users.store().find(&key).await.unwrap()
    }

    fn key(&self, sub: &str) -> IdentityKey {
        IdentityKey {
            authority: self.idp.issuer().to_owned(),
            sub: sub.to_owned(),
        }
    }
}

/// A browser: its own cookie jar, redirects followed by hand.
struct Browser {
    http: reqwest::Client,
    jar: Arc<Jar>,
}

impl Browser {
    fn new() -> Self {
        let jar = Arc::new(Jar::default());
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_provider(jar.clone())
            .build()
            .unwrap();
        Self { http, jar }
    }

    async fn get(&self, url: &str) -> reqwest::Response {
        self.http.get(url).send().await.unwrap()
    }

    /// `GET /protected`: the page, or where the app sends the browser instead.
    async fn protected(&self, h: &Harness) -> Result<String, String> {
        protected_with(&self.http, h, None).await
    }

    /// Logs in from the app's login path `login` as the provider's user `who`, hop by
    /// hop; gives where the callback sends the browser at the end.
    async fn log_in(&self, h: &Harness, login: &str, who: &str) -> String {
        let join = if login.contains('?') { '&' } else { '?' };
        let to_provider = self
            .get(&format!("{}{login}{join}login_hint={who}", h.base))
            .await;
        assert_eq!(to_provider.status(), StatusCode::FOUND, "the login route");
        let authorize = location(&to_provider);
        assert!(authorize.starts_with(h.idp.issuer()), "{authorize}");
        // The provider is another server on 127.0.0.1, and cookies ignore ports: a
        // separate client keeps the two servers' cookies apart.
        let provider = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let approved = provider.get(&authorize).send().await.unwrap();
        assert_eq!(approved.status(), StatusCode::FOUND, "auto-approve");
        let callback = location(&approved);
        assert!(callback.starts_with(&format!("{}/auth/dev?", h.base)));
        let done = self.get(&callback).await;
        let status = done.status();
        let next = done.headers().get(LOCATION).cloned();
        assert_eq!(
            status,
            StatusCode::SEE_OTHER,
            "{}",
            done.text().await.unwrap()
        );
        next.unwrap().to_str().unwrap().to_owned()
    }

    /// The session cookie (`id=...`) the browser sends to the app.
    fn session_cookie(&self, h: &Harness) -> String {
        let url = url::Url::parse(&h.base).unwrap();
        let cookies = self.jar.cookies(&url).expect("a session cookie");
        let cookies = cookies.to_str().unwrap();
        assert!(cookies.starts_with("id="), "{cookies}");
        cookies.to_owned()
    }
}

/// `GET /protected` with `http`, with a `Cookie` header of its own if given.
async fn protected_with(
    http: &reqwest::Client,
    h: &Harness,
    cookie: Option<&str>,
) -> Result<String, String> {
    let mut request = http.get(format!("{}/protected", h.base));
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    let response = request.send().await.unwrap();
    match response.status() {
        StatusCode::OK => Ok(response.text().await.unwrap()),
        StatusCode::TEMPORARY_REDIRECT => Err(location(&response)),
        other => panic!("GET /protected: {other}"),
    }
}

fn location(response: &reqwest::Response) -> String {
    response.headers()[LOCATION].to_str().unwrap().to_owned()
}

const TO_LOGIN: &str = "/login/dev?next=%2Fprotected";

#[tokio::test]
async fn a_protected_page_sends_to_the_login_and_back_then_knows_the_user() {
    let h = Harness::start().await;
    let browser = Browser::new();
    let to_login = browser.protected(&h).await.unwrap_err();
    assert_eq!(to_login, TO_LOGIN);
    assert_eq!(browser.log_in(&h, &to_login, "alice").await, "/protected");
    let alice = h.user_of("alice").await.expect("a user for alice");
    assert_eq!(
        browser.protected(&h).await.unwrap(),
        format!("user {alice}")
    );

    // Another browser, the same identity: the same user, no second one.
    let other = Browser::new();
    assert_eq!(other.log_in(&h, "/login/dev", "alice").await, "/");
    assert_eq!(other.protected(&h).await.unwrap(), format!("user {alice}"));
    assert_eq!(h.users.store().identities(&alice).await.unwrap().len(), 1);
}

#[tokio::test]
async fn no_session_or_a_tampered_one_is_sent_to_the_login() {
    let h = Harness::start().await;
    let browser = Browser::new();
    browser.log_in(&h, "/login/dev", "alice").await;
    let cookie = browser.session_cookie(&h);
    let bare = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // The cookie itself opens the page from any client: the test sends it right.
    assert!(protected_with(&bare, &h, Some(&cookie)).await.is_ok());
    assert_eq!(protected_with(&bare, &h, None).await.unwrap_err(), TO_LOGIN);
    // One character of the session id changed: another id, which the store lacks.
    let value = &cookie["id=".len()..];
    let first = if value.starts_with('A') { 'B' } else { 'A' };
    let tampered = format!("id={first}{}", &value[1..]);
    assert_eq!(
        protected_with(&bare, &h, Some(&tampered))
            .await
            .unwrap_err(),
        TO_LOGIN
    );
    assert_eq!(
        protected_with(&bare, &h, Some("id=")).await.unwrap_err(),
        TO_LOGIN
    );
}

/// The session auth hash covers the user's set of identities: linking one logs out the
/// user's other sessions, unlinking one logs out all of them, those opened through it
/// included.
#[tokio::test]
async fn a_change_of_the_users_identities_logs_out_its_other_sessions() {
    let h = Harness::start().await;
    let (a, b) = (Browser::new(), Browser::new());
    a.log_in(&h, "/login/dev", "alice").await;
    b.log_in(&h, "/login/dev", "alice").await;
    let alice = h.user_of("alice").await.unwrap();
    let page = format!("user {alice}");
    assert_eq!(b.protected(&h).await.unwrap(), page);

    // Logged in as alice, `a` logs in with bob: bob's identity joins alice's user.
    a.log_in(&h, "/login/dev", "bob").await;
    assert_eq!(h.user_of("bob").await, Some(alice.clone()));
    assert_eq!(a.protected(&h).await.unwrap(), page, "the linking session");
    assert_eq!(b.protected(&h).await.unwrap_err(), TO_LOGIN, "logged out");

    // bob now logs in as alice's user, until bob is unlinked.
    let c = Browser::new();
    c.log_in(&h, "/login/dev", "bob").await;
    assert_eq!(c.protected(&h).await.unwrap(), page);
    assert!(h.users.store().unlink(&alice, &h.key("bob")).await.unwrap());
    assert_eq!(c.protected(&h).await.unwrap_err(), TO_LOGIN);
    assert_eq!(a.protected(&h).await.unwrap_err(), TO_LOGIN);
}

/// Logged in as alice, a login with bob's identity, which is another user's, is refused
/// (409): an identity never moves to the user who happens to be logged in.
#[tokio::test]
async fn another_users_identity_is_not_linked_to_the_logged_in_user() {
    let h = Harness::start().await;
    let (a, b) = (Browser::new(), Browser::new());
    a.log_in(&h, "/login/dev", "alice").await;
    b.log_in(&h, "/login/dev", "bob").await;
    let (alice, bob) = (
        h.user_of("alice").await.unwrap(),
        h.user_of("bob").await.unwrap(),
    );
    assert_ne!(alice, bob);
    let to_provider = a.get(&format!("{}/login/dev?login_hint=bob", h.base)).await;
    let provider = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let approved = provider.get(location(&to_provider)).send().await.unwrap();
    let refused = a.get(&location(&approved)).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let body = refused.text().await.unwrap();
    assert!(body.contains("identity_linked_to_another_user"), "{body}");
    assert_eq!(
        h.user_of("bob").await,
        Some(bob.clone()),
        "bob's identity stays"
    );
    assert_eq!(a.protected(&h).await.unwrap(), format!("user {alice}"));
    assert_eq!(b.protected(&h).await.unwrap(), format!("user {bob}"));
}

/// `next` is where the callback sends the browser: another site there is refused at the
/// start of the login (400), not followed at its end.
#[tokio::test]
async fn a_next_of_another_site_is_refused() {
    let h = Harness::start().await;
    let browser = Browser::new();
    for next in [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
    ] {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("next", next)
            .finish();
        let response = browser.get(&format!("{}/login/dev?{query}", h.base)).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{next}");
    }
}
