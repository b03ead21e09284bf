//! Calling the provider's API with the user's stored token, refreshed when it is due: the
//! app's own handler (`GET /me/{name}`) through `OAuthClient::get_with_store`, and the
//! ready-made pass-through (`GET /api/{name}/{*path}`) through the `UserApi` extractor.
//!
//! ```text
//! cargo run --example api_calls             # open http://127.0.0.1:8000/login/dev, then
//!                                           # http://127.0.0.1:8000/me/dev
//! ACCESS_TOKEN_SECONDS=10 cargo run --example api_calls   # watch the token being refreshed
//! ```
//!
//! | route | answers |
//! |---|---|
//! | `GET /` | hello, once logged in |
//! | `GET /me/{name}` | JSON: the provider's answer at `me` under the client's `api_base_url` (`api`), when the token now expires (`token_expires_at`) and how many times this session's token was refreshed (`refreshes`) |
//! | `GET /api/{name}/{*path}` | the provider's answer at `path` under `api_base_url`, as is (with headers that keep it from scripting the app) |
//!
//! Each call loads the token from the session, refreshes it first when it expires within
//! the client's leeway (`client_kwargs.token_refresh_leeway`, 60 s by default) or once
//! after a 401 `invalid_token`, and saves the new one back; concurrent calls share one
//! refresh. With no `ferroauth.toml` it starts the testkit's development provider (users
//! alice and bob), whose API answers `GET me`. There `ACCESS_TOKEN_SECONDS` makes short
//! access tokens, refreshed at half their life: `/me/dev` keeps answering while
//! `refreshes` grows and `token_expires_at` moves on. (With a `ferroauth.toml`, `me` is the
//! development provider's path: use your provider's, `user` at GitHub.)
use std::time::Duration;

use axum::extract::Path;
use axum::response::Response;
use axum::{Json, Router, routing::get};
use ferroauth::session::tokens::TokenStore;
use ferroauth::session::{Session as _, SessionTokens};
use ferroauth::settings::Settings;
use ferroauth::{Error, OAuth, Token};
use ferroauth_axum::extract::{Accounts, NamedClient, UserApi, api_response};
use ferroauth_axum::memory_store::MemoryStore;
use ferroauth_axum::routes::AuthRoutes;
use ferroauth_axum::sessions::{SessionConfig, SessionsExt as _};
use ferroauth_axum::{AuthError, AuthSession};
use ferroauth_testkit::dev::{DevClients, OIDC_CLIENT};
use serde_json::{Value, json};

type BoxError = Box<dyn std::error::Error>;

/// The session entry counting this session's refreshes (JSON text, as every entry).
const REFRESHES_KEY: &str = "example.refreshes";

async fn home(Accounts(accounts): Accounts) -> String {
    match accounts.iter().next() {
        Some((name, account)) => format!(
            "hello {}: open /me/{name}",
            account.profile.display_name().unwrap_or("there")
        ),
        None => "not logged in: open /login/<name>".into(),
    }
}

/// The session's tokens, where the login put them (`SessionTokens`), counting saves: the
/// library saves a token only after refreshing it. A `TokenStore` of your own (a database
/// row per user, say) plugs in the same way: `load` is Authlib's `fetch_token`, `save` its
/// `update_token`.
struct CountingTokens<'a>(SessionTokens<'a, AuthSession>);

impl TokenStore for CountingTokens<'_> {
    async fn load(&self, client: &str) -> Result<Option<Token>, Error> {
        self.0.load(client).await
    }

    async fn save(&self, client: &str, token: &Token) -> Result<(), Error> {
        self.0.save(client, token).await?;
        let session = self.0.0;
        let count = refreshes(session).await? + 1;
        session.insert(REFRESHES_KEY, count.to_string()).await
    }
}

async fn refreshes(session: &AuthSession) -> Result<u64, Error> {
    let stored = session.get(REFRESHES_KEY).await?;
    Ok(stored.and_then(|n| n.parse().ok()).unwrap_or(0))
}

/// `GET /me/{name}`: one API call with the stored token, refreshed first when due.
async fn me(
    NamedClient(client): NamedClient,
    session: AuthSession,
) -> Result<Json<Value>, AuthError> {
    let tokens = CountingTokens(SessionTokens(&session));
    // Load, refresh when due, call, save: one call. No token in the session is 401
    // `no_token`; a refresh the provider refuses is its error (the user logs in again).
    let response = client.get_with_store(&tokens, "me").await?;
    let api = serde_json::from_slice(&response.body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&response.body).into()));
    // The token as the call left it: the refreshed one, if the call refreshed it.
    let expires_at = tokens
        .load(client.name())
        .await?
        .and_then(|t| t.expires_at());
    Ok(Json(json!({
        "status": response.status,
        "api": api,
        "token_expires_at": expires_at,
        "refreshes": refreshes(&session).await?,
    })))
}

/// `GET /api/{name}/{*path}`: the provider's API, relayed. `UserApi` keeps the path under
/// `api_base_url` (400 `invalid_api_path` otherwise), so the token goes nowhere else.
async fn relay(
    Path((_name, path)): Path<(String, String)>,
    api: UserApi,
) -> Result<Response, AuthError> {
    Ok(api_response(api.get(&path).await?))
}

/// `ACCESS_TOKEN_SECONDS`, when set.
fn access_token_seconds() -> Result<Option<u64>, BoxError> {
    match std::env::var("ACCESS_TOKEN_SECONDS") {
        Ok(text) => match text.parse::<u64>() {
            Ok(secs) if secs >= 2 => Ok(Some(secs)),
            _ => Err(format!(
                "ACCESS_TOKEN_SECONDS={text:?}: expected a number of seconds, at least 2"
            )
            .into()),
        },
        Err(_) => Ok(None),
    }
}

/// The development provider, served on a port of its own (another site than the app, as
/// real providers are), and the app's settings for it. Built from `DevClients` rather than
/// `Embedded::start` so that its access tokens can be made short.
async fn dev_settings(public_url: &str) -> Result<Settings, BoxError> {
    let lifetime = access_token_seconds()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let issuer = format!("http://{}", listener.local_addr()?);
    let clients = DevClients::new()?;
    let mut provider = clients
        .provider_builder(public_url, false, false)
        .issuer(&issuer);
    if let Some(secs) = lifetime {
        provider = provider.access_token_lifetime(Duration::from_secs(secs));
    }
    let idp = provider.build()?.router();
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, idp).await {
            eprintln!("the development provider stopped: {e}");
        }
    });
    println!("no ferroauth.toml: development provider at {issuer}");
    let mut settings = Settings::from_toml_str(&clients.settings_toml(&issuer))?;
    if let (Some(secs), Some(dev)) = (lifetime, settings.clients.get_mut(OIDC_CLIENT)) {
        // The default leeway (refresh 60 s before the end) would refresh such short
        // tokens on every call; half their life shows a refresh when one is due.
        dev.client_kwargs.token_refresh_leeway = Some(secs / 2);
    }
    Ok(settings)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:8000".into());
    let public_url = format!("http://{listen}");
    let settings = if std::path::Path::new("ferroauth.toml").exists() {
        Settings::from_file("ferroauth.toml")?
    } else {
        dev_settings(&public_url).await?
    };
    let oauth = OAuth::from_settings(&settings)?;
    let routes = Router::new()
        .route("/", get(home))
        .route("/me/{name}", get(me))
        .route("/api/{name}/{*path}", get(relay))
        .merge(AuthRoutes::new().router());
    let app = SessionConfig::for_public_url(&public_url)?
        .apply(routes, MemoryStore::new())
        .with_state(oauth);
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("listening on {public_url}: open {public_url}/login/dev, then {public_url}/me/dev");
    axum::serve(listener, app).await?;
    Ok(())
}
