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

pub mod dev;
pub mod pages;

/// The README's code blocks, compiled as doc tests (the quick start among them).
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{RawPathParams, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use ferroauth::session::sealed::CookieKeys;
use ferroauth::session::{ACCOUNTS_KEY, TOKEN_KEY_PREFIX};
use ferroauth::{Claims, Error, OAuth, Profile, Token};
use ferroauth_axum::extract::{Account, Accounts, UserApi};
use ferroauth_axum::routes::{AuthRoutes, Failure};
use ferroauth_axum::sessions::SessionConfig;
use ferroauth_axum::stores::{StoreChoice, StoreError};
use ferroauth_axum::{AuthError, RedirectUriConfig, wants_json};
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
}

impl DemoOptions {
    fn sessions(&self) -> SessionConfig {
        let config = SessionConfig::new().secure(self.secure_cookies);
        match self.session_inactivity {
            Some(inactivity) => config.inactivity(inactivity),
            None => config,
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
        .merge(auth.router())
        .layer(axum::Extension(options.redirect_uri))
        .layer(axum::Extension(ApiPaths(Arc::new(options.api_paths))))
}

fn error_page(status: StatusCode, code: &str, description: &str) -> Response {
    (
        status,
        Html(pages::error(status.as_u16(), code, description)),
    )
        .into_response()
}

/// The accounts in a session record's data (as a session store holds it): each provider's
/// profile with its current token. For tests that inspect the server-side session.
pub fn accounts_in_session_data(
    data: &std::collections::HashMap<String, serde_json::Value>,
) -> Result<BTreeMap<String, Account>, Error> {
    fn decode<T: serde::de::DeserializeOwned>(
        data: &std::collections::HashMap<String, serde_json::Value>,
        key: &str,
    ) -> Result<Option<T>, Error> {
        data.get(key)
            .cloned()
            .map(|v| ferroauth_axum::session_json::decode(key, v))
            .transpose()
    }
    let users: BTreeMap<String, Claims> = decode(data, ACCOUNTS_KEY)?.unwrap_or_default();
    let mut accounts = BTreeMap::new();
    for (name, claims) in users {
        let key = format!("{TOKEN_KEY_PREFIX}{name}");
        if let Some(token) = decode::<Token>(data, &key)? {
            let profile = Profile::from_claims(&claims);
            accounts.insert(name, Account { profile, token });
        }
    }
    Ok(accounts)
}

async fn home(
    State(oauth): State<OAuth>,
    axum::Extension(ApiPaths(api_paths)): axum::Extension<ApiPaths>,
    accounts: Result<Accounts, AuthError>,
) -> Response {
    let providers: Vec<(String, bool)> = oauth
        .names()
        .into_iter()
        .map(|n| {
            let oauth1 = oauth.client(&n).is_ok_and(|c| c.is_oauth1());
            (n, oauth1)
        })
        .collect();
    match accounts {
        Ok(Accounts(accounts)) => Html(pages::home(
            &providers,
            &accounts.into_iter().collect::<Vec<_>>(),
            &api_paths,
        ))
        .into_response(),
        Err(e) => error_page(e.status(), e.0.code(), &e.0.to_string()),
    }
}

async fn api(
    params: RawPathParams,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    api: Result<UserApi, AuthError>,
) -> Response {
    let json = wants_json(&headers);
    let path = params
        .iter()
        .find(|(k, _)| *k == "path")
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default();
    let target = match &query {
        Some(q) if !q.is_empty() => format!("{path}?{q}"),
        _ => path,
    };
    let result = async { Ok::<_, AuthError>(api?.get(&target).await?) }.await;
    let failure = |status: StatusCode, code: &str, description: String| {
        if json {
            let body = serde_json::json!({ "error": code, "error_description": description });
            (status, axum::Json(body)).into_response()
        } else {
            error_page(status, code, &description)
        }
    };
    match result {
        Ok(response) => {
            let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::BAD_GATEWAY);
            let content_type = response
                .headers
                .get(header::CONTENT_TYPE)
                .cloned()
                .unwrap_or(header::HeaderValue::from_static("application/octet-stream"));
            (
                status,
                [(header::CONTENT_TYPE, content_type)],
                response.body,
            )
                .into_response()
        }
        Err(AuthError(Error::NoToken { client })) => failure(
            StatusCode::UNAUTHORIZED,
            "not_logged_in",
            format!("not logged in with {client}"),
        ),
        Err(e) => failure(e.status(), e.0.code(), e.0.to_string()),
    }
}
