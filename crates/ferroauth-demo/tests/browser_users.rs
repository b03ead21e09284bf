//! The app's own users in a real browser, on both frameworks: the demo opened at
//! `http://localhost:PORT`, three testkit providers at `http://127.0.0.1:PORT` (other
//! sites, as real providers are), headless Chromium clicking through their login pages
//! and the demo's buttons.
//!
//! | provider | its user `alice` |
//! |---|---|
//! | `a` | `alice@example.test`, verified |
//! | `b` | the same address, **not** verified |
//! | `c` | the same address, verified |
//!
//! The demo keeps users in memory with e-mail linking switched on, so that one test shows
//! both sides of the rule.
//!
//! | test | what it shows |
//! |---|---|
//! | `a_protected_page_lands_after_the_login_in_a_browser` | `/me` logged out → the provider chooser → the provider → back on `/me` |
//! | `linking_a_second_provider_in_a_browser` | "Link another provider" makes one user with two identities; either provider alone later gives that user |
//! | `unlinking_the_last_identity_is_refused_in_a_browser` | the last identity's unlink button answers 409 and changes nothing; a second one unlinks |
//! | `an_unverified_address_does_not_join_in_a_browser` | `b`'s unverified address makes a user of its own; `c`'s verified one joins |

mod browser;
mod support;

use browser::{Driver, click, find, text, wait_url};
use fantoccini::Client;
use ferroauth::OAuth;
use ferroauth::users::{MemoryUserStore, Users};
use ferroauth_testkit::{Client as Registered, TestProvider, User};
use support::Framework;
use support::framework::Running;

const SECRET: &str = "a-long-client-secret-for-browser-users-0123456789";
const CLIENTS: [(&str, bool); 3] = [("a", true), ("b", false), ("c", true)];

struct Demo {
    origin: String,
    providers: Vec<TestProvider>,
    _running: Running,
}

impl Demo {
    async fn start(framework: Framework) -> Demo {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let origin = format!("http://localhost:{port}");
        let mut providers = Vec::new();
        let mut toml = String::new();
        for (name, verified) in CLIENTS {
            let client = Registered::confidential("demo", SECRET, format!("{origin}/auth/{name}"))
                .post_logout_redirect_uri(format!("{origin}/logged-out"));
            let alice = User::new("alice")
                .name("Alice Example")
                .email("alice@example.test")
                .email_verified(verified);
            let provider = TestProvider::builder()
                .user(alice)
                .client(client)
                .start()
                .await
                .expect("provider");
            assert!(!provider.issuer().contains("localhost"), "another site");
            let issuer = provider.issuer();
            toml.push_str(&format!(
                "[clients.{name}]\nclient_id = \"demo\"\nclient_secret = \"{SECRET}\"\nserver_metadata_url = \"{issuer}/.well-known/openid-configuration\"\nclient_kwargs = {{ scope = \"openid email profile\" }}\n"
            ));
            providers.push(provider);
        }
        let settings = ferroauth::settings::Settings::from_toml_str(&toml).unwrap();
        let oauth = OAuth::from_settings(&settings).unwrap();
        oauth.set_users(Users::new(MemoryUserStore::new()).link_verified_email(true));
        let running = Running::memory(framework, listener, oauth, Default::default());
        Demo {
            origin,
            providers,
            _running: running,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    fn issuer(&self, client: &str) -> &str {
        let at = CLIENTS.iter().position(|(n, _)| *n == client).unwrap();
        self.providers[at].issuer()
    }

    /// At the provider of `client`'s login page: log in as alice, and wait for the demo.
    async fn approve(&self, browser: &Client, client: &str) {
        wait_url(browser, self.issuer(client)).await;
        click(browser, "button.user[value=\"alice\"]").await;
        wait_url(browser, &self.origin).await;
    }

    /// From the home page, the button of `client`, through its provider, back home.
    async fn log_in(&self, browser: &Client, client: &str) {
        browser.goto(&self.url("/")).await.unwrap();
        click(browser, &format!("a#login-{client}")).await;
        self.approve(browser, client).await;
        find(browser, &format!("#account-{client}")).await;
    }

    /// The app's user the home page shows.
    async fn user_id(&self, browser: &Client) -> String {
        browser.goto(&self.url("/")).await.unwrap();
        text(browser, "#user-id").await
    }

    /// The providers of the identities the home page lists.
    async fn identities(&self, browser: &Client) -> Vec<String> {
        browser.goto(&self.url("/")).await.unwrap();
        find(browser, "#user").await;
        let rows = browser
            .find_all(fantoccini::Locator::Css("tr.identity"))
            .await
            .unwrap();
        let mut providers = Vec::new();
        for row in rows {
            providers.push(row.attr("data-provider").await.unwrap().unwrap_or_default());
        }
        providers.sort();
        providers
    }

    async fn log_out(&self, browser: &Client) {
        browser.goto(&self.url("/")).await.unwrap();
        click(browser, "#logout").await;
        find(browser, "a#login-a").await;
        browser.goto(&self.url("/")).await.unwrap();
        assert!(browser::absent(browser, "#user").await, "logged out");
    }
}

async fn a_protected_page_lands_after_the_login_in_a_browser(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Chromium])
    {
        return;
    }
    let driver = Driver::start().await;
    let demo = Demo::start(framework).await;
    let browser = driver.browser().await;
    browser.goto(&demo.url("/me")).await.unwrap();
    let chooser = wait_url(&browser, &demo.url("/login?next=")).await;
    assert_eq!(chooser, demo.url("/login?next=%2Fme"));
    click(&browser, "a[href=\"/login/a?next=%2Fme\"]").await;
    demo.approve(&browser, "a").await;
    let landed = browser.current_url().await.unwrap();
    assert_eq!(
        landed.as_str(),
        demo.url("/me"),
        "back on the page it asked for"
    );
    let shown = browser.source().await.unwrap();
    assert!(
        shown.contains("user_id") && shown.contains("alice"),
        "{shown}"
    );
    browser.close().await.unwrap();
}

async fn linking_a_second_provider_in_a_browser(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Chromium])
    {
        return;
    }
    let driver = Driver::start().await;
    let demo = Demo::start(framework).await;
    let browser = driver.browser().await;
    demo.log_in(&browser, "a").await;
    let user = demo.user_id(&browser).await;
    assert_eq!(demo.identities(&browser).await, ["a"]);
    assert_eq!(
        text(&browser, "#providers-heading").await,
        "Link another provider"
    );
    demo.log_in(&browser, "b").await;
    assert_eq!(demo.user_id(&browser).await, user);
    assert_eq!(demo.identities(&browser).await, ["a", "b"]);
    demo.log_out(&browser).await;
    demo.log_in(&browser, "b").await;
    assert_eq!(
        demo.user_id(&browser).await,
        user,
        "b alone gives the same user"
    );
    demo.log_out(&browser).await;
    demo.log_in(&browser, "a").await;
    assert_eq!(demo.user_id(&browser).await, user, "so does a");
    browser.close().await.unwrap();
}

async fn unlinking_the_last_identity_is_refused_in_a_browser(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Chromium])
    {
        return;
    }
    let driver = Driver::start().await;
    let demo = Demo::start(framework).await;
    let browser = driver.browser().await;
    demo.log_in(&browser, "a").await;
    click(&browser, "#unlink-a").await;
    let refused = browser.source().await.unwrap();
    assert!(refused.contains("last_identity"), "{refused}");
    assert_eq!(demo.identities(&browser).await, ["a"], "nothing changed");
    demo.log_in(&browser, "b").await;
    assert_eq!(demo.identities(&browser).await, ["a", "b"]);
    click(&browser, "#unlink-b").await;
    find(&browser, "#user").await;
    assert_eq!(demo.identities(&browser).await, ["a"]);
    assert!(
        browser::absent(&browser, "#account-b").await,
        "b's login forgotten"
    );
    browser.close().await.unwrap();
}

async fn an_unverified_address_does_not_join_in_a_browser(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Chromium])
    {
        return;
    }
    let driver = Driver::start().await;
    let demo = Demo::start(framework).await;
    let browser = driver.browser().await;
    demo.log_in(&browser, "a").await;
    let alice = demo.user_id(&browser).await;
    demo.log_out(&browser).await;
    demo.log_in(&browser, "b").await;
    assert_ne!(
        demo.user_id(&browser).await,
        alice,
        "unverified: a user of its own"
    );
    assert_eq!(demo.identities(&browser).await, ["b"]);
    demo.log_out(&browser).await;
    demo.log_in(&browser, "c").await;
    assert_eq!(
        demo.user_id(&browser).await,
        alice,
        "verified and opted in: joins"
    );
    browser.close().await.unwrap();
}

on_both!(
    a_protected_page_lands_after_the_login_in_a_browser,
    linking_a_second_provider_in_a_browser,
    unlinking_the_last_identity_is_refused_in_a_browser,
    an_unverified_address_does_not_join_in_a_browser,
);
