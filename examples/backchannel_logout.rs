//! OpenID Connect Back-Channel Logout 1.0: when a user's session ends at the provider (they
//! log out there, an administrator locks them out, a password is reset), the provider
//! POSTs a signed logout token to the app, server to server, and the app ends that user's
//! sessions, though the user's browser never comes by.
//!
//! ```text
//! cargo run --example backchannel_logout    # then open http://127.0.0.1:8000/login/dev
//! curl -X POST http://127.0.0.1:8000/demo/end-sessions/alice    # the provider ends alice's
//! ```
//!
//! The ready-made routes ([`AuthRoutes`]) include `POST /backchannel-logout/{name}`: it
//! checks the token (signature, issuer, audience, age, events, a `jti` used once) and ends
//! every session of the provider session (`sid`) or user (`sub`) it names. To find those
//! sessions the store keeps an index from owners to session ids: every server-side store
//! has one, installed by `apply_store` (memory here; Redis, SQL). The provider must know
//! where to POST: `{app}/backchannel-logout/dev` is registered as the client's
//! `backchannel_logout_uri`.
//!
//! The example runs the testkit's development provider (users alice and bob) on a port of
//! its own and keeps a handle on it, so that its route `POST /demo/end-sessions/{user}`
//! can stand in for the provider's administration console: it ends the user's sessions
//! at the provider, which sends the logout tokens. Log in as alice in a browser, run the
//! `curl` above, reload: the session is gone.

use std::sync::Arc;

use axum::extract::Path;
use axum::routing::{get, post};
use axum::{Extension, Router};
use ferroauth::OAuth;
use ferroauth::session::store::StoreChoice;
use ferroauth::settings::Settings;
use ferroauth_axum::extract::Accounts;
use ferroauth_axum::routes::AuthRoutes;
use ferroauth_axum::sessions::{SessionConfig, SessionsExt as _};
use ferroauth_testkit::TestProvider;
use ferroauth_testkit::dev::provider_at;

async fn home(Accounts(accounts): Accounts) -> String {
    match accounts.values().next() {
        Some(account) => format!(
            "hello {}",
            account.profile.display_name().unwrap_or("there")
        ),
        None => "not logged in: open /login/dev".into(),
    }
}

/// The example's stand-in for the provider's administration console, NOT part of the
/// app: it ends `user`'s sessions at the provider, which then sends this app a logout
/// token for each. A real app has no such route (anyone could log anyone out with it).
async fn end_sessions(
    Extension(provider): Extension<Arc<TestProvider>>,
    Path(user): Path<String>,
) -> String {
    let deliveries = provider.end_sessions(&user).await;
    let mut report = format!("the provider ended {} session(s)\n", deliveries.len());
    for d in deliveries {
        let answer = d.status.map_or("no answer".into(), |s| s.to_string());
        report.push_str(&format!(
            "logout token for {} (sid {}) sent to {}: {answer}\n",
            d.sub, d.sid, d.client_id
        ));
    }
    report
}

/// The development provider, served at `{its own address}/idp`, with the app at
/// `public_url` registered as its clients' redirect and back-channel logout URIs; and the
/// app's settings for it.
async fn start_provider(
    public_url: &str,
) -> Result<(Arc<TestProvider>, String), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (provider, settings) = provider_at(public_url, &base, false, false)?;
    let idp = Router::new().nest("/idp", provider.router());
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, idp).await {
            eprintln!("the development provider stopped: {e}");
        }
    });
    println!("development provider at {base}/idp (users: alice, bob)");
    Ok((Arc::new(provider), settings))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:8000".into());
    let public_url = format!("http://{listen}");
    let (provider, settings) = start_provider(&public_url).await?;
    let oauth = OAuth::from_settings(&Settings::from_toml_str(&settings)?)?;
    // AuthRoutes: the login routes and POST /backchannel-logout/{name}.
    let routes = Router::new()
        .route("/", get(home))
        .route("/demo/end-sessions/{user}", post(end_sessions))
        .layer(Extension(provider))
        .merge(AuthRoutes::new().router());
    // apply_store, not apply: it installs the store's index of sessions by owner, without
    // which the back-channel route answers 501 `session_index_unavailable`.
    let app = SessionConfig::for_public_url(&public_url)?
        .apply_store(routes, &StoreChoice::Memory)
        .await?
        .with_state(oauth);
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("listening on {public_url}: open {public_url}/login/dev");
    axum::serve(listener, app).await?;
    Ok(())
}
