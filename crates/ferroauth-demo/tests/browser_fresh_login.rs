//! A page that asks for a fresh login, against a provider that keeps its own login
//! session: panva's oidc-provider (OpenID Certified) at `http://127.0.0.1:PORT`, the demo
//! opened at `http://localhost:PORT` (another site), headless Chromium on the provider's
//! own forms, on both frameworks.
//!
//! 1. `/me` logged out sends the browser to the one provider; its login and consent forms
//!    bring it back to `/me`.
//! 2. The control: another login is let through by the provider's own session, with no
//!    form, so a provider does not ask again by itself.
//! 3. Once the login is older than the page's `max_age`, `/me?max_age=N` sends the
//!    browser back with `max_age`: the provider shows its login form again, and the new
//!    ID token's `auth_time` (checked against `max_age` at the callback) opens the page.

mod browser;
mod support;

use std::time::Duration;

use browser::{Driver, click, find, wait_url};
use fantoccini::Client;
use ferroauth::OAuth;
use ferroauth::settings::Settings;
use serde_json::json;
use support::framework::Running;
use support::{Framework, Peer};

const SECRET: &str = "a-long-client-secret-for-fresh-logins-0123456789";
const MAX_AGE: u64 = 5;

fn provider(origin: &str) -> Peer {
    let clients = json!([{
        "client_id": "op-client",
        "client_secret": SECRET,
        "redirect_uris": [format!("{origin}/auth/op")],
        "post_logout_redirect_uris": [format!("{origin}/logged-out")],
        "grant_types": ["authorization_code"],
    }]);
    Peer::oidc_provider(&clients, &[])
}

fn settings(peer: &Peer) -> OAuth {
    let metadata = format!("{}/.well-known/openid-configuration", peer.issuer);
    let toml = format!(
        "[clients.op]\nclient_id = \"op-client\"\nclient_secret = \"{SECRET}\"\nserver_metadata_url = \"{metadata}\"\nclient_kwargs = {{ scope = \"openid profile email\" }}\n"
    );
    OAuth::from_settings(&Settings::from_toml_str(&toml).unwrap()).unwrap()
}

/// The provider's login form, filled as `user`.
async fn sign_in_at_the_provider(browser: &Client, peer: &Peer, user: &str) {
    wait_url(browser, &peer.issuer).await;
    browser::type_into(browser, "input[name=login]", user).await;
    browser::type_into(browser, "input[name=password]", "any password").await;
    click(browser, "button[type=submit]").await;
}

async fn a_stale_login_signs_in_at_the_provider_again(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
        ferroauth_testkit::services::Service::Chromium,
    ]) {
        return;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://localhost:{}", listener.local_addr().unwrap().port());
    let peer = provider(&origin);
    let _demo = Running::memory(framework, listener, settings(&peer), Default::default());
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    let me = format!("{origin}/me");

    browser.goto(&me).await.unwrap();
    sign_in_at_the_provider(&browser, &peer, "carol").await;
    find(&browser, "input[name=prompt][value=consent]").await;
    click(&browser, "button[type=submit]").await;
    assert_eq!(wait_url(&browser, &origin).await, me, "{}", peer.log());
    assert!(browser.source().await.unwrap().contains("user_id"));

    // The provider's session lets a second login through without a form.
    browser
        .goto(&format!("{origin}/login/op?next=%2Fme"))
        .await
        .unwrap();
    assert_eq!(wait_url(&browser, &origin).await, me, "no form: SSO");

    tokio::time::sleep(Duration::from_secs(MAX_AGE + 1)).await;
    let fresh = format!("{origin}/me?max_age={MAX_AGE}");
    browser.goto(&fresh).await.unwrap();
    sign_in_at_the_provider(&browser, &peer, "carol").await;
    assert_eq!(wait_url(&browser, &origin).await, fresh, "{}", peer.log());
    let page = browser.source().await.unwrap();
    assert!(page.contains("user_id"), "the page opened: {page}");
    browser.close().await.unwrap();
}

on_both!(a_stale_login_signs_in_at_the_provider_again);
