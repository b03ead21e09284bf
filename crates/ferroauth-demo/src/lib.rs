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
use axum::response::Response;
use axum::routing::get;
use ferroauth::session::Account;
use ferroauth::session::at_rest::TokenSealer;
use ferroauth::session::sealed::CookieKeys;
use ferroauth::web::routes::Answer;
use ferroauth::{Error, OAuth};
use ferroauth_axum::routes::{AuthRoutes, Failure};
use ferroauth_axum::sessions::{SessionConfig, SessionsExt as _};
use ferroauth_axum::stores::{StoreChoice, StoreError};
use ferroauth_axum::{AuthError, RedirectUriConfig, extract, respond};
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
    /// The session cookie's settings, on either framework.
    fn sessions(&self) -> SessionConfig {
        let mut config = SessionConfig::new().secure(self.secure_cookies);
        if let Some(sealer) = &self.seal_tokens {
            config = config.seal_tokens(sealer.clone());
        }
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

/// A session's accounts, by client name.
type Accounts = BTreeMap<String, Account>;

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

fn routes(options: DemoOptions) -> Router<OAuth> {
    let auth = AuthRoutes::new()
        .with_refresh()
        .error_page(|f: &Failure| respond(error_page(f)));
    let metrics = move || std::future::ready(respond(metrics_page(options.metrics.as_ref())));
    Router::new()
        .route("/", get(home))
        .route("/api/{name}/{*path}", get(api))
        .route("/api/{name}/", get(api))
        .route("/metrics", get(metrics))
        .merge(auth.router())
        .layer(axum::Extension(options.redirect_uri))
        .layer(axum::Extension(ApiPaths(Arc::new(options.api_paths))))
}

/// `/metrics`, when the demo has them.
fn metrics_page(metrics: Option<&metrics::Metrics>) -> Answer {
    match metrics {
        Some(m) => Answer::Body(200, metrics::CONTENT_TYPE, m.render()),
        None => error_page(&Failure::new(
            404,
            "not_found",
            "metrics are off (start the demo with --metrics)".into(),
        )),
    }
}

/// The demo's error page, on both frameworks.
fn error_page(failure: &Failure) -> Answer {
    let html = pages::error(failure.status, &failure.code, &failure.description);
    Answer::page(failure.status, html)
}

/// The home page, on both frameworks: the providers, and the accounts of the session.
fn home_page(oauth: &OAuth, accounts: Result<Accounts, Error>, api_paths: &ApiPaths) -> Answer {
    match accounts {
        Ok(accounts) => {
            let accounts: Vec<_> = accounts.into_iter().collect();
            let providers = pages::Provider::all(oauth);
            Answer::page(200, pages::home(&providers, &accounts, &api_paths.0))
        }
        Err(e) => error_page(&Failure::of(&e)),
    }
}

async fn home(
    State(oauth): State<OAuth>,
    axum::Extension(paths): axum::Extension<ApiPaths>,
    accounts: Result<extract::Accounts, AuthError>,
) -> Response {
    respond(home_page(
        &oauth,
        accounts.map(|a| a.0).map_err(|e| e.0),
        &paths,
    ))
}

async fn api(
    params: RawPathParams,
    RawQuery(query): RawQuery,
    api: Result<extract::UserApi, AuthError>,
) -> Result<Response, AuthError> {
    let path = params
        .iter()
        .find(|(k, _)| *k == "path")
        .map_or("", |p| p.1);
    let query = query.as_deref().unwrap_or_default();
    Ok(extract::api_response(
        api?.get_with_query(path, query).await?,
    ))
}
