//! The ferroauth demo app: every configured provider behind the library's routes, plus a
//! home page and an API pass-through. `cargo run -p ferroauth-demo` with no settings starts
//! a development provider in the same process (users alice and bob) with an OpenID Connect
//! client, the same with pushed authorization requests and DPoP-bound tokens (`dev-dpop`),
//! and an OAuth 1.0a client; `-- --dev-provider-listen 127.0.0.1:9000` serves it on its own
//! port, another site than the demo at `http://localhost:8000/`, as real providers are, and
//! `-- --framework actix` runs the same demo on actix-web. `-- --config ferroauth.toml` reads
//! the app's own providers; `-- --help` lists every flag.
//!
//! # The HTTP contract
//!
//! | route | does |
//! |---|---|
//! | `GET /` | providers as login buttons, the logged-in user |
//! | `GET /login/{name}` | 302 to the provider (sets the session cookie, `SameSite=Lax; HttpOnly`); `?next=/path` is where the browser goes after the login, when it is a path of the app |
//! | `GET` or `POST /auth/{name}` | the callback. With `Accept: application/json`: 200 `{"provider", "userinfo", "token": {"token_type", "expires_at", "scope"}}` (no secrets), or 4xx/5xx `{"error", "error_description"}`; otherwise HTML |
//! | `GET /api/{name}/{*path}` | the provider API at `api_base_url` + path with the stored token, refreshed when it expires within 60 s or once after a 401 `invalid_token`; a path that would leave `api_base_url` is 400 `invalid_api_path`; the answer carries `X-Content-Type-Options: nosniff` and a sandboxing CSP |
//! | `POST /refresh/{name}` | refresh the stored OAuth 2.0 token; with `Accept: application/json` answers like the callback (`provider`, `userinfo` re-read when the provider has a userinfo endpoint, `token`) |
//! | `POST /logout[?provider=NAME]` | end the session at once (never waiting on a provider); revoke its tokens at their providers in the background, the refresh token first (RFC 7009; `client_kwargs.revoke_tokens_on_logout = false` opts out); when the named account (else the first) has an ID token and its provider an `end_session_endpoint` (known already: no discovery at logout), HTML requests are redirected there with `id_token_hint`, `client_id`, `post_logout_redirect_uri` = the app's `/logged-out` and a one-time `state`, and JSON gets `{"logged_out": true, "end_session_url": ...}`. A `provider` the session is not logged in with is 400 `invalid_request`, and nothing is cleared |
//! | `GET /logged-out` | where the provider sends the browser back: its `state` must be the logout's (once, within 10 minutes), then 303 to `/`; any other is 400 `logout_state_unknown` |
//! | `POST /logout?everywhere=1` | "sign out everywhere": also ends every other session of the same user at this app (each login's user at its provider: the issuer, or the client, and `sub`), on every instance; the home page's "Sign out everywhere" button. 501 `session_index_unavailable` over sealed cookies without a revocation list, and nothing is cleared |
//! | `GET /login[?next=PATH]` | where a protected page sends a browser: one link per provider, each carrying `next` (with one provider, straight to its login route) |
//! | `GET /me[?max_age=N]` | a protected page: not logged in, HTML gets 303 to `/login?next=%2Fme`, JSON 401 `{"error": "login_required"}`; logged in, JSON `{"user_id", "identities": [{"provider", "sub"}], "logins"}` (the app's own user, from the user store); with `max_age`, an older login is sent back through its provider (401 `login_too_old` to JSON) |
//! | `POST /unlink/{name}` | unlinks the user's identities at provider `name` and forgets that login here; the last identity is refused with 409 `last_identity`; 403 from another site |
//! | `POST /backchannel-logout/{name}` | OpenID Connect Back-Channel Logout 1.0: the provider's `logout_token` (a form POST, server to server: no cookie and no cross-site check) is checked (signature with the provider's keys, `iss`, `aud`, `iat` within 5 minutes, `events`, `sid` or `sub`, no `nonce`, `typ` `logout+jwt` or `JWT`, `jti` used once across instances), then every session of its `sid` (else its `sub`) ends on every instance: 200 with `Cache-Control: no-store`; a bad token is 400 JSON whose code names the rule (`logout_token_signature_invalid`, `logout_token_audience_mismatch`, `logout_token_replayed`, `logout_token_nonce_present`, `logout_token_event_missing`, `logout_token_names_no_session`, `logout_token_stale`, ...); 501 `session_index_unavailable` when the store cannot find sessions by user |
//!
//! `POST /refresh/{name}` and `POST /logout` answer 403 `cross_site_request` to a request
//! from another site or a sibling subdomain; `GET /login/{name}` answers 400
//! `invalid_request` naming the parameter for a bad `max_age`, `prompt`, `login_hint`,
//! `ui_locales` or `next`.
//!
//! The login routes, the callback, `/logout`, `/logged-out`, `/refresh/{name}`, `/login`,
//! `/me`, `/unlink/{name}` and `/backchannel-logout/{name}` are
//! [`ferroauth_axum::routes::AuthRoutes`] (or its actix-web twin); the rest is the demo's.
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
