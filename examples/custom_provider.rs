//! A provider without a preset, declared in settings with Authlib's key names, and
//! compliance hooks for the ways it bends the rules.
//!
//! ```text
//! cargo run --example custom_provider    # then open http://127.0.0.1:8000/login/acme
//! cargo run --example custom_provider -- --without-hooks    # and see the login fail
//! ```
//!
//! "Acme" is plain OAuth 2.0 (no OpenID Connect, no discovery), so its settings name each
//! endpoint: `authorize_url`, `access_token_url`, `userinfo_endpoint` (where the profile
//! comes from) and `api_base_url`. It bends the rules twice, as real providers do:
//!
//! - its token endpoint wraps every answer in an envelope,
//!   `{"status": "ok", "data": {"access_token": ..., "expires_in": ...}}`, where RFC 6749
//!   §5.1 puts the members at the top: without a fix no token is found and the login
//!   fails with `invalid_token_response`. The `token_response` hook, which sees every
//!   token endpoint answer (login, refresh, client credentials) before it is read, lifts
//!   `data` to the top.
//! - its profile endpoint nests the person under `user` (`{"sub": "alice", "user":
//!   {"name": ...}}`): without a fix the user has no name. The `userinfo` hook lifts
//!   `user`'s members beside `sub`.
//!
//! Hooks are the place for such fixes: they run at one point of the flow, for one client,
//! and every check ferroauth makes (state, PKCE, token type, the `sub` of the profile)
//! still applies to what they hand on.
//!
//! The example plays Acme itself: the testkit's provider (users alice and bob) on a port
//! of its own, with a middleware in front of its token endpoint that puts each answer in
//! the envelope.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::{Router, routing::get};
use ferroauth::OAuth;
use ferroauth::hooks::ComplianceHooks;
use ferroauth::settings::Settings;
use ferroauth_axum::routes::AuthRoutes;
use ferroauth_axum::sessions::{SessionConfig, SessionsExt as _};
use ferroauth_axum::{extract::Accounts, memory_store::MemoryStore};
use ferroauth_testkit::{Client, TestProvider, User};
use serde_json::{Map, Value, json};

/// The app's client id at Acme.
const CLIENT_ID: &str = "acme-example-app";

/// The secret both sides know. A local provider that lives as long as this process makes
/// a fixed one harmless here; a real app keeps it out of its code and its settings file
/// (`FERROAUTH__CLIENTS__ACME__CLIENT_SECRET` with `Settings::from_file`).
const SECRET: &str = "example-only-not-a-real-secret";

/// The app's `ferroauth.toml` for Acme at `issuer`: Authlib's keys, no preset.
fn settings(issuer: &str) -> String {
    format!(
        r#"
[clients.acme]
client_id = "{CLIENT_ID}"
client_secret = "{SECRET}"
authorize_url = "{issuer}/authorize"
access_token_url = "{issuer}/token"
userinfo_endpoint = "{issuer}/api/me"
api_base_url = "{issuer}/api/"
client_kwargs = {{ scope = "profile email" }}
"#
    )
}

/// The fixes for Acme's two deviations (see the module docs).
fn acme_hooks() -> ComplianceHooks {
    ComplianceHooks::new()
        // {"status": "ok", "data": {...}} → {...}; an answer without `data` is left as it
        // is, so a provider that stops wrapping keeps working.
        .token_response(|answer| {
            if let Some(Value::Object(data)) = answer.remove("data") {
                *answer = data;
            }
        })
        // {"sub": "alice", "user": {"name": ...}} → {"sub": "alice", "name": ...}; members
        // already at the top (`sub`) win over the nested ones.
        .userinfo(|profile| {
            if let Some(Value::Object(user)) = profile.remove("user") {
                lift(profile, user);
            }
        })
}

/// Adds `inner`'s members to `outer`, keeping those `outer` already has.
fn lift(outer: &mut Map<String, Value>, inner: Map<String, Value>) {
    for (key, value) in inner {
        outer.entry(key).or_insert(value);
    }
}

async fn home(Accounts(accounts): Accounts) -> String {
    let Some(account) = accounts.get("acme") else {
        return "not logged in: open /login/acme".into();
    };
    let expires = match account.token.expires_at() {
        Some(at) => format!("your token expires at {at} (Unix time)"),
        None => "your token has no expiry".into(),
    };
    format!(
        "hello {}\n{expires}\n",
        account.profile.display_name().unwrap_or("there")
    )
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let with_hooks = match std::env::args().nth(1).as_deref() {
        None => true,
        Some("--without-hooks") => false,
        Some(_) => {
            eprintln!("usage: custom_provider [--without-hooks]");
            std::process::exit(2);
        }
    };
    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:8000".into());
    let public_url = format!("http://{listen}");
    let issuer = start_acme(&public_url).await?;
    println!("Acme (the testkit's provider in an envelope) at {issuer}");

    let oauth = OAuth::from_settings(&Settings::from_toml_str(&settings(&issuer))?)?;
    if with_hooks {
        oauth.client("acme")?.set_hooks(acme_hooks());
    } else {
        println!("no compliance hooks: the login will fail");
    }
    let routes = Router::new()
        .route("/", get(home))
        .merge(AuthRoutes::new().router());
    let app = SessionConfig::for_public_url(&public_url)?
        .apply(routes, MemoryStore::new())
        .with_state(oauth);
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("listening on {public_url}: open {public_url}/login/acme");
    axum::serve(listener, app).await?;
    Ok(())
}

/// Acme: the testkit's provider with the app at `public_url` as its client, served on a
/// free loopback port behind [`envelope`]. Gives its issuer.
async fn start_acme(public_url: &str) -> Result<String, Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let issuer = format!("http://{}", listener.local_addr()?);
    let provider = TestProvider::builder()
        .issuer(&issuer)
        .users([
            User::new("alice")
                .name("Alice Example")
                .email("alice@example.test"),
            User::new("bob")
                .name("Bob Example")
                .email("bob@example.test"),
        ])
        .client(Client::confidential(
            CLIENT_ID,
            SECRET,
            format!("{public_url}/auth/acme"),
        ))
        .build()?;
    let acme = provider.router().layer(middleware::from_fn(envelope));
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, acme).await {
            eprintln!("Acme stopped: {e}");
        }
    });
    Ok(issuer)
}

/// Acme's deviation: every answer of the token endpoint is wrapped in
/// `{"status": ..., "data": ...}`, with the status code kept.
async fn envelope(request: Request, next: Next) -> Response {
    let token_endpoint = request.uri().path() == "/token";
    let response = next.run(request).await;
    if !token_endpoint {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let answer = match axum::body::to_bytes(body, 1 << 20).await {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        Err(_) => Value::Null,
    };
    let status = if parts.status.is_success() {
        "ok"
    } else {
        "error"
    };
    let wrapped = json!({ "status": status, "data": answer });
    // The body changes length.
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(wrapped.to_string()))
}
