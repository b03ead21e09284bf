//! The ferroauth demo app: every configured provider behind the library's routes, plus a
//! home page and an API pass-through.
//!
//! | route | does |
//! |---|---|
//! | `GET /` | providers as login buttons, the logged-in user |
//! | `GET /login/{name}`, `GET`/`POST /auth/{name}`, `POST /refresh/{name}`, `POST /logout` | [`ferroauth_axum::routes::AuthRoutes`] |
//! | `GET /api/{name}/{*path}` | the provider's API at `api_base_url` + path, with the stored token (refreshed when it expires within a minute, or once after a 401 `invalid_token`) |
//!
//! Tests and benchmarks drive the demo through these routes; keep them stable.

pub mod actix_app;
pub mod metrics;
pub mod pages;

/// The README's code blocks, compiled as doc tests (the quick start among them).
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{RawPathParams, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use ferroauth::OAuth;
use ferroauth::session::at_rest::TokenSealer;
use ferroauth::session::sealed::CookieKeys;
use ferroauth_axum::extract::{Accounts, UserApi, api_response};
use ferroauth_axum::routes::{AuthRoutes, Failure};
use ferroauth_axum::sessions::SessionConfig;
use ferroauth_axum::stores::{StoreChoice, StoreError};
use ferroauth_axum::{AuthError, RedirectUriConfig};
use tower_sessions::SessionStore;

/// How the demo builds its pages, redirect URIs and cookies.
#[derive(Debug, Clone, Default)]
pub struct DemoOptions {
    /// How redirect URIs are built.
    pub redirect_uri: RedirectUriConfig,
    /// Per provider name: the path under its `api_base_url` that the home page's
    /// "Call the API" button requests (the API root when absent), e.g. `me`.
    pub api_paths: BTreeMap<String, String>,
    /// How long an unused session lives (default 8 hours). Benchmarks shorten it to see
    /// expired sessions purged within a run.
    pub session_inactivity: Option<time::Duration>,
    /// Whether cookies are `Secure`. Off by default because the demo itself serves plain
    /// http; `main` turns it on for an https public URL or `--secure-cookies`.
    pub secure_cookies: bool,
    /// Serve `/metrics` (Prometheus text format) from this handle; 404 when `None`.
    pub metrics: Option<metrics::Metrics>,
    /// Seal the users' tokens in the server-side session store under these keys
    /// ([`ferroauth::session::at_rest`]); set by [`use_keys`](Self::use_keys).
    pub seal_tokens: Option<TokenSealer>,
}

impl DemoOptions {
    fn sessions(&self) -> SessionConfig {
        let config = SessionConfig::new().secure(self.secure_cookies);
        let config = match &self.seal_tokens {
            Some(sealer) => config.seal_tokens(sealer.clone()),
            None => config,
        };
        match self.session_inactivity {
            Some(inactivity) => config.inactivity(inactivity),
            None => config,
        }
    }

    /// The demo's `--cookie-keys` for the store `choice`: the cookie store seals its
    /// cookies with them (they are given back for [`router_for`] or
    /// [`actix_app::Store::open`]); a server-side store keeps them here, to seal the
    /// users' tokens in it ([`seal_tokens`](Self::seal_tokens)).
    pub fn use_keys(
        &mut self,
        choice: &StoreChoice,
        keys: Option<CookieKeys>,
    ) -> Option<CookieKeys> {
        match (choice, keys) {
            (StoreChoice::Cookie, keys) => keys,
            (_, Some(keys)) => {
                self.seal_tokens = Some(TokenSealer::new(keys));
                None
            }
            (_, None) => None,
        }
    }
}

/// The API paths of [`DemoOptions::api_paths`], for the pages.
#[derive(Debug, Clone, Default)]
struct ApiPaths(Arc<BTreeMap<String, String>>);

/// The demo over the session store `choice` names (`cookie` needs `cookie_keys`).
pub async fn router_for(
    oauth: OAuth,
    options: DemoOptions,
    choice: &StoreChoice,
    cookie_keys: Option<CookieKeys>,
) -> Result<Router, StoreError> {
    let sessions = options.sessions();
    let app = sessions
        .apply_store(routes(options), choice, cookie_keys)
        .await?;
    Ok(app.with_state(oauth))
}

/// The demo over a session store of the app's own.
pub fn router_with_store<S: SessionStore + Clone>(
    oauth: OAuth,
    options: DemoOptions,
    store: S,
) -> Router {
    let sessions = options.sessions();
    sessions.apply(routes(options), store).with_state(oauth)
}

/// The demo with in-memory sessions (expired sessions are swept out).
pub fn router(oauth: OAuth, options: DemoOptions) -> Router {
    router_with_store(
        oauth,
        options,
        ferroauth_axum::memory_store::PurgingMemoryStore::new(),
    )
}

fn routes(options: DemoOptions) -> Router<OAuth> {
    let auth = AuthRoutes::new()
        .with_refresh()
        .error_page(|f: &Failure| error_page(f.status, &f.code, &f.description));
    Router::new()
        .route("/", get(home))
        .route("/api/{name}/{*path}", get(api))
        .route("/api/{name}/", get(api))
        .route("/metrics", get(move || serve_metrics(options.metrics)))
        .merge(auth.router())
        .layer(axum::Extension(options.redirect_uri))
        .layer(axum::Extension(ApiPaths(Arc::new(options.api_paths))))
}

async fn serve_metrics(metrics: Option<metrics::Metrics>) -> Response {
    match metrics {
        Some(m) => ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], m.render()).into_response(),
        None => error_page(
            404,
            "not_found",
            "metrics are off (start the demo with --metrics)",
        ),
    }
}

fn error_page(status: u16, code: &str, description: &str) -> Response {
    let status_code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status_code, Html(pages::error(status, code, description))).into_response()
}

async fn home(
    State(oauth): State<OAuth>,
    axum::Extension(ApiPaths(api_paths)): axum::Extension<ApiPaths>,
    accounts: Result<Accounts, AuthError>,
) -> Response {
    let providers = providers(&oauth);
    match accounts {
        Ok(Accounts(accounts)) => Html(pages::home(
            &providers,
            &accounts.into_iter().collect::<Vec<_>>(),
            &api_paths,
        ))
        .into_response(),
        Err(e) => error_page(e.status().as_u16(), e.0.code(), &e.0.to_string()),
    }
}

/// The configured providers for the home page, with their preset's provider name.
fn providers(oauth: &OAuth) -> Vec<pages::Provider> {
    oauth
        .names()
        .into_iter()
        .filter_map(|name| {
            let client = oauth.client(&name).ok()?;
            Some(pages::Provider {
                label: client.preset().map(|p| p.display_name.to_owned()),
                oauth1: client.is_oauth1(),
                name,
            })
        })
        .collect()
}

async fn api(
    params: RawPathParams,
    RawQuery(query): RawQuery,
    api: Result<UserApi, AuthError>,
) -> Result<Response, AuthError> {
    let path = params
        .iter()
        .find(|(k, _)| *k == "path")
        .map_or("", |(_, v)| v);
    let target = match query.as_deref() {
        Some(q) if !q.is_empty() => format!("{path}?{q}"),
        _ => path.to_owned(),
    };
    Ok(api_response(api?.get(&target).await?))
}
