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
pub mod pages;

/// The README's code blocks, compiled as doc tests (the quick start among them).
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use ferroauth::session::Session;
use ferroauth::web::routes::Answer;
use ferroauth::{Error, OAuth};
use ferroauth_axum::routes::{AuthRoutes, Failure};
use ferroauth_axum::sessions::SessionConfig;
use ferroauth_axum::{AuthError, AuthSession, RedirectUriConfig, extract, respond};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// How the demo builds its pages, redirect URIs and cookies.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// How redirect URIs are built.
    pub redirect_uri: RedirectUriConfig,
    /// Per provider name: the path under its `api_base_url` that the home page's
    /// "Call the API" button requests (the API root when absent), e.g. `me`.
    pub api_paths: BTreeMap<String, String>,
    /// The session cookie and store settings, on either framework: the cookie keys among
    /// them (sealing the cookie store, or the users' tokens in a server-side one). Not
    /// `Secure` by default, since the demo itself serves plain http; `main` turns it on
    /// for an https public URL or `--secure-cookies`.
    pub sessions: SessionConfig,
    /// Serve `/metrics` (ferroauth's metrics, see `ferroauth::telemetry`, in the
    /// Prometheus text format) from this handle ([`install_metrics`]); 404 when `None`.
    pub metrics: Option<PrometheusHandle>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            redirect_uri: RedirectUriConfig::default(),
            api_paths: BTreeMap::new(),
            sessions: SessionConfig::new().secure(false),
            metrics: None,
        }
    }
}

/// The API paths of [`DemoOptions::api_paths`], for the pages.
#[derive(Debug, Clone, Default)]
struct ApiPaths(Arc<BTreeMap<String, String>>);

/// The demo's routes, for the registry as state and a session layer around them
/// (`SessionConfig::apply_store` or `apply` of `ferroauth_axum::sessions`, as `main` does).
pub fn routes(options: DemoOptions) -> Router<OAuth> {
    let auth = AuthRoutes::new()
        .with_refresh()
        .with_user_routes()
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

/// Installs the Prometheus recorder as the process's metrics recorder (the `metrics`
/// facade has one): the first call does, later ones return the same handle. `None` when
/// another recorder was installed first.
pub fn install_metrics() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    let install = || PrometheusBuilder::new().install_recorder().ok();
    HANDLE.get_or_init(install).clone()
}

/// `/metrics`, when the demo has them: the Prometheus text exposition format.
fn metrics_page(metrics: Option<&PrometheusHandle>) -> Answer {
    const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
    match metrics {
        Some(m) => Answer::Body(200, PROMETHEUS_TEXT, m.render()),
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

/// The home page, on both frameworks: the providers, the session's accounts and user.
async fn home_page(
    oauth: &OAuth,
    session: Result<impl Session, Error>,
    paths: &ApiPaths,
) -> Answer {
    match async { pages::Home::load(oauth, &session?).await }.await {
        Ok(home) => Answer::page(
            200,
            pages::home(&pages::Provider::all(oauth), &home, &paths.0),
        ),
        Err(e) => error_page(&Failure::of(&e)),
    }
}

async fn home(
    State(oauth): State<OAuth>,
    axum::Extension(paths): axum::Extension<ApiPaths>,
    session: Result<AuthSession, AuthError>,
) -> Response {
    respond(home_page(&oauth, session.map_err(|e| e.0), &paths).await)
}

async fn api(
    Path(params): Path<BTreeMap<String, String>>,
    RawQuery(query): RawQuery,
    api: Result<extract::UserApi, AuthError>,
) -> Result<Response, AuthError> {
    let path = params.get("path").map_or("", String::as_str);
    let query = query.as_deref().unwrap_or_default();
    Ok(extract::api_response(
        api?.get_with_query(path, query).await?,
    ))
}
