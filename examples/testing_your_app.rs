//! Testing your own app's login: the tests to copy into your project. Each one starts a
//! `TestProvider` with a user and a client of its own, serves the app's real router
//! in-process on a random port, logs in through it with a scripted browser
//! (`ferroauth_testkit::agent::Agent`) and checks what the app answers.
//!
//! ```text
//! cargo test -p ferroauth-examples --example testing_your_app
//! ```
//!
//! This file is tests only (`test = true` in Cargo.toml): `cargo run --example
//! testing_your_app` just prints that command. In your project, `app` below is your own
//! router builder (from your library crate), and the tests go under `tests/`, with
//! `ferroauth-testkit` and `tokio` as dev-dependencies.
// Run as a binary this file only prints how to test it: the app is used by the tests.
#![cfg_attr(not(test), allow(dead_code))]

use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use axum::{Json, Router, routing::get};
use ferroauth::{OAuth, Profile};
use ferroauth_axum::extract::Accounts;
use ferroauth_axum::memory_store::MemoryStore;
use ferroauth_axum::routes::{AuthRoutes, Failure};
use ferroauth_axum::sessions::{SessionConfig, SessionsExt as _};

/// The app under test, as its `main` would build it: a home page, the user's profile as
/// JSON, the login routes with the app's own error page.
fn app(oauth: OAuth, public_url: &str) -> Result<Router, ferroauth::Error> {
    let auth = AuthRoutes::new().error_page(login_failed);
    let routes = Router::new()
        .route("/", get(home))
        .route("/profile", get(profile))
        .merge(auth.router());
    Ok(SessionConfig::for_public_url(public_url)?
        .apply(routes, MemoryStore::new())
        .with_state(oauth))
}

async fn home(Accounts(accounts): Accounts) -> String {
    match accounts.values().next() {
        Some(account) => format!(
            "hello {}",
            account.profile.display_name().unwrap_or("there")
        ),
        None => "not logged in".into(),
    }
}

/// The logged-in user's profile; 401 without one.
async fn profile(Accounts(accounts): Accounts) -> Result<Json<Profile>, StatusCode> {
    let account = accounts.into_values().next();
    account
        .map(|a| Json(a.profile))
        .ok_or(StatusCode::UNAUTHORIZED)
}

/// What the app shows when a login fails (the user said no, the state expired, ...): its
/// status and stable code, which a test can check.
fn login_failed(failure: &Failure) -> Response {
    let status = StatusCode::from_u16(failure.status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, format!("login failed: {}", failure.code)).into_response()
}

fn main() {
    println!("this example is tests: cargo test -p ferroauth-examples --example testing_your_app");
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferroauth::settings::Settings;
    use ferroauth_testkit::agent::Agent;
    use ferroauth_testkit::{Client, TestProvider, User};

    /// The app serving on a random port, and the provider it logs in with (which stops
    /// when dropped: keep it for the test's length).
    struct Running {
        url: String,
        _provider: TestProvider,
    }

    /// Binds the app's port first: the provider must know the app's redirect URI.
    async fn start() -> Running {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let provider = TestProvider::builder()
            .user(
                User::new("alice")
                    .name("Alice Liddell")
                    .email("alice@example.com")
                    .email_verified(true)
                    .claim("groups", serde_json::json!(["admins"])),
            )
            .client(Client::confidential(
                "my-app",
                "my-secret",
                format!("{url}/auth/corp"),
            ))
            .start()
            .await
            .unwrap();
        // The settings your app reads from ferroauth.toml, pointed at the test provider.
        let settings = Settings::from_toml_str(&format!(
            r#"
[clients.corp]
client_id = "my-app"
client_secret = "my-secret"
server_metadata_url = "{}/.well-known/openid-configuration"
client_kwargs = {{ scope = "openid email profile" }}
"#,
            provider.issuer()
        ))
        .unwrap();
        let router = app(OAuth::from_settings(&settings).unwrap(), &url).unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Running {
            url,
            _provider: provider,
        }
    }

    #[tokio::test]
    async fn alice_logs_in_and_the_app_knows_her() {
        let app = start().await;
        let browser = Agent::new();
        assert_eq!(browser.get(&app.url).await.unwrap().body, "not logged in");

        // The app's login route, the provider's sign-in page (alice picked), the callback,
        // then the app's home page.
        let page = browser
            .login(&format!("{}/login/corp", app.url), "alice")
            .await
            .unwrap();
        assert_eq!(page.status, 200);
        assert_eq!(page.body, "hello Alice Liddell");

        // The claims the app received, and kept in the session.
        let profile = browser
            .get(&format!("{}/profile", app.url))
            .await
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(profile["sub"], "alice");
        assert_eq!(profile["email"], "alice@example.com");
        assert_eq!(profile["email_verified"], true);
        assert_eq!(profile["raw"]["groups"], serde_json::json!(["admins"]));
    }

    #[tokio::test]
    async fn a_denied_login_shows_the_apps_error_and_logs_nobody_in() {
        let app = start().await;
        let browser = Agent::new();
        let sign_in = browser
            .get(&format!("{}/login/corp", app.url))
            .await
            .unwrap();
        // "Cancel and deny access" on the provider's page.
        let page = browser
            .submit(&sign_in, &[("action", "deny")])
            .await
            .unwrap();
        assert_eq!(page.body, "login failed: access_denied");
        assert!(page.url.starts_with(&format!("{}/auth/corp", app.url)));
        assert_eq!(page.status, 400);

        let profile = browser.get(&format!("{}/profile", app.url)).await.unwrap();
        assert_eq!(profile.status, 401);
    }
}
