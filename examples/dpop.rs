//! DPoP-bound tokens (RFC 9449) with pushed authorization requests (RFC 9126): an axum
//! app logs in with a client whose provider demands both, then calls the provider's API
//! with the bound token.
//!
//! ```text
//! cargo run --example dpop              # then open http://127.0.0.1:8000/login/dev-dpop
//! ```
//!
//! A bearer token works for whoever holds it; a DPoP-bound token works only with a proof
//! signed by the key it was issued to, which never leaves this process. With
//! `dpop = true` ferroauth makes that key, proves it at the token endpoint (the provider
//! answers `token_type` `DPoP`) and signs a fresh proof for every API call
//! (`Authorization: DPoP ...` plus a `DPoP` header naming the method, the URL and the
//! token's hash). With `pushed_authorization_requests = true` the authorization request
//! goes to the provider over the back channel and the browser carries only a reference
//! to it. For a provider of your own, the client's settings are:
//!
//! ```toml
//! [clients.corp]
//! client_id = "..."
//! server_metadata_url = "https://sso.corp.example/.well-known/openid-configuration"
//! client_kwargs = { scope = "openid profile", pushed_authorization_requests = true, dpop = true }
//! ```
//!
//! This example runs the testkit's development provider on a port of its own; its client
//! `dev-dpop` has those settings, and the provider refuses token requests without a proof.

use axum::extract::State;
use axum::{Router, routing::get};
use ferroauth::OAuth;
use ferroauth::settings::Settings;
use ferroauth::web::UserApi;
use ferroauth_axum::extract::Accounts;
use ferroauth_axum::routes::AuthRoutes;
use ferroauth_axum::sessions::{SessionConfig, SessionsExt as _};
use ferroauth_axum::{AuthError, AuthSession, memory_store::MemoryStore};
use ferroauth_testkit::dev::{DPOP_CLIENT, Embedded};

/// After the login: who, the token's type, and what the API answers to the bound token.
async fn home(State(oauth): State<OAuth>, session: AuthSession) -> Result<String, AuthError> {
    let Some(account) = Accounts::of(&session).await?.0.remove(DPOP_CLIENT) else {
        return Ok(format!("not logged in: open /login/{DPOP_CLIENT}"));
    };
    let client = oauth.client(DPOP_CLIENT)?;
    // The public key's thumbprint: what the provider bound the token to (`cnf.jkt`).
    let key = client.dpop_thumbprint().unwrap_or_else(|| "none".into());
    // The stored token, refreshed when due; a bound one goes out with a fresh proof.
    let api = UserApi { client, session };
    let answer = api.get("me").await?;
    Ok(format!(
        "logged in as {}\ntoken type: {}\nproof key thumbprint: {key}\nthe API answered {}: {}\n",
        account.profile.display_name().unwrap_or("?"),
        account.token.token_type(),
        answer.status,
        String::from_utf8_lossy(&answer.body)
    ))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:8000".into());
    let public_url = format!("http://{listen}");
    // Another site than the app, as real providers are.
    let dev = Embedded::start(&public_url, Some("127.0.0.1:0".parse()?), false, false).await?;
    println!("development provider at {} (users: alice, bob)", dev.base);
    let oauth = OAuth::from_settings(&Settings::from_toml_str(&dev.settings)?)?;
    // GET /login/{name}, GET|POST /auth/{name} (then back to /), POST /logout.
    let routes = Router::new()
        .route("/", get(home))
        .merge(AuthRoutes::new().router());
    let app = SessionConfig::for_public_url(&public_url)?
        .apply(routes, MemoryStore::new())
        .with_state(oauth);
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("listening on {public_url}: open {public_url}/login/{DPOP_CLIENT}");
    axum::serve(listener, app).await?;
    Ok(())
}
