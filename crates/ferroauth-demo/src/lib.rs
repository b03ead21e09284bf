//! The ferroauth demo app: every configured provider behind the same routes.
//!
//! | route | does |
//! |---|---|
//! | `GET /` | providers as login buttons, the logged-in user |
//! | `GET /login/{name}` | redirect to the provider |
//! | `GET` or `POST /auth/{name}` | the callback; JSON with `Accept: application/json`, else HTML |
//! | `GET /api/{name}/{*path}` | the provider's API at `api_base_url` + path, with the stored token |
//! | `POST /refresh/{name}` | refresh the stored OAuth 2.0 token |
//! | `POST /logout` | clear the session |
//!
//! Tests and benchmarks drive the demo through these routes; keep them stable.

pub mod dev;
pub mod pages;
pub mod store;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use ferroauth::{Claims, OAuth, Token};
use ferroauth_axum::cookie_store::{CookieSealer, sealed_cookies};
use ferroauth_axum::memory_store::PurgingMemoryStore;
use ferroauth_axum::store_guard::{GuardedStore, session_store_guard};
use ferroauth_axum::{AuthError, Callback, RedirectUri, RedirectUriConfig};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::DemoSession;
use tower_sessions::{Expiry, SessionManagerLayer, SessionStore};

/// The session key of the logged-in accounts.
pub(crate) const ACCOUNTS_KEY: &str = "ferroauth.demo.accounts";

/// Authorization parameters a browser may pass through `/login/{name}?...`.
const PASSTHROUGH_PARAMS: &[&str] = &["prompt", "login_hint", "max_age", "ui_locales"];

/// One provider the user is logged in with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Account {
    /// The user's claims.
    pub userinfo: Claims,
    /// The token, kept server-side only.
    pub token: Token,
}

/// How the demo builds its pages and redirect URIs.
#[derive(Debug, Clone, Default)]
pub struct DemoOptions {
    /// How redirect URIs are built.
    pub redirect_uri: RedirectUriConfig,
}

/// The demo's routes over the given session store. A failing store answers 503
/// (`session_unavailable`).
pub fn router_with_store<S: SessionStore + Clone>(
    oauth: OAuth,
    options: DemoOptions,
    store: S,
) -> Router {
    let sessions = SessionManagerLayer::new(GuardedStore::new(store))
        // The demo serves plain http on loopback; a deployment behind TLS keeps Secure.
        .with_secure(false)
        .with_expiry(Expiry::OnInactivity(time::Duration::hours(8)));
    routes(options)
        .layer(sessions)
        .layer(axum::middleware::from_fn(session_store_guard))
        .with_state(oauth)
}

/// The demo's routes without server-side state: pending logins and accounts in sealed
/// cookies (see [`store`]).
pub fn router_with_cookies(
    oauth: OAuth,
    options: DemoOptions,
    sealer: Arc<CookieSealer>,
) -> Router {
    routes(options)
        .layer(axum::middleware::from_fn_with_state(sealer, sealed_cookies))
        .with_state(oauth)
}

fn routes(options: DemoOptions) -> Router<OAuth> {
    Router::new()
        .route("/", get(home))
        .route("/login/{name}", get(login))
        .route("/auth/{name}", get(callback).post(callback))
        .route("/api/{name}/{*path}", get(api))
        .route("/api/{name}/", get(api_root))
        .route("/refresh/{name}", post(refresh))
        .route("/logout", post(logout))
        .layer(axum::Extension(options.redirect_uri))
}

/// The demo's routes with the in-memory session store (expired sessions are swept out).
pub fn router(oauth: OAuth, options: DemoOptions) -> Router {
    router_with_store(oauth, options, PurgingMemoryStore::new())
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// An error as JSON or as a readable page.
fn failure(json: bool, status: StatusCode, code: &str, description: &str) -> Response {
    if json {
        (
            status,
            axum::Json(json!({ "error": code, "error_description": description })),
        )
            .into_response()
    } else {
        (
            status,
            Html(pages::error(status.as_u16(), code, description)),
        )
            .into_response()
    }
}

fn auth_failure(json: bool, e: AuthError) -> Response {
    failure(json, e.status(), e.0.code(), &e.0.to_string())
}

async fn accounts(session: &DemoSession) -> Result<BTreeMap<String, Account>, AuthError> {
    session.accounts().await
}

async fn save_accounts(
    session: &DemoSession,
    accounts: &BTreeMap<String, Account>,
) -> Result<(), AuthError> {
    session.save_accounts(accounts).await
}

async fn home(State(oauth): State<OAuth>, session: DemoSession) -> Response {
    let providers: Vec<(String, bool)> = oauth
        .names()
        .into_iter()
        .map(|n| {
            let oauth1 = oauth.client(&n).is_ok_and(|c| c.is_oauth1());
            (n, oauth1)
        })
        .collect();
    match accounts(&session).await {
        Ok(accounts) => Html(pages::home(
            &providers,
            &accounts.into_iter().collect::<Vec<_>>(),
        ))
        .into_response(),
        Err(e) => auth_failure(false, e),
    }
}

async fn login(
    State(oauth): State<OAuth>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    session: DemoSession,
    uri: Result<RedirectUri, AuthError>,
) -> Response {
    let json = wants_json(&headers);
    let result = async {
        let client = oauth.client(&name)?;
        let redirect_uri = uri?.to(&format!("/auth/{name}"));
        let pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                .into_owned()
                .filter(|(k, _)| PASSTHROUGH_PARAMS.contains(&k.as_str()))
                .collect();
        let params: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let url = client
            .authorize_redirect_with(&session.pending(), &redirect_uri, &params)
            .await?;
        Ok::<_, AuthError>(Redirect::to(url.as_str()))
    }
    .await;
    match result {
        // 302 as the contract says; axum's Redirect::to would answer 303.
        Ok(redirect) => {
            let location = redirect
                .into_response()
                .headers()
                .get(header::LOCATION)
                .cloned();
            match location {
                Some(location) => {
                    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
                }
                None => failure(
                    json,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "no redirect location",
                ),
            }
        }
        Err(e) => auth_failure(json, e),
    }
}

async fn callback(
    State(oauth): State<OAuth>,
    Path(name): Path<String>,
    headers: HeaderMap,
    session: DemoSession,
    callback: Result<Callback, AuthError>,
) -> Response {
    let json = wants_json(&headers);
    let result = async {
        let client = oauth.client(&name)?;
        let Callback(params) = callback?;
        let login = client
            .authorize_access_token(&session.pending(), &params)
            .await?;
        // A new login is a privilege change: a fresh session id defeats fixation.
        session.renew().await?;
        let mut all = accounts(&session).await?;
        let account = Account {
            userinfo: login.userinfo,
            token: login.token,
        };
        all.insert(name.clone(), account.clone());
        save_accounts(&session, &all).await?;
        Ok::<_, AuthError>(account)
    }
    .await;
    match result {
        Ok(account) if json => axum::Json(json!({
            "provider": name,
            "userinfo": account.userinfo,
            "token": token_summary(&account.token),
        }))
        .into_response(),
        Ok(_) => Redirect::to("/").into_response(),
        Err(e) => auth_failure(json, e),
    }
}

/// The token without secret values.
fn token_summary(token: &Token) -> serde_json::Value {
    json!({
        "token_type": token.token_type(),
        "expires_at": token.expires_at(),
        "scope": token.scope(),
    })
}

async fn api_root(
    state: State<OAuth>,
    Path(name): Path<String>,
    query: RawQuery,
    headers: HeaderMap,
    session: DemoSession,
) -> Response {
    api(state, Path((name, String::new())), query, headers, session).await
}

async fn api(
    State(oauth): State<OAuth>,
    Path((name, path)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    session: DemoSession,
) -> Response {
    let json = wants_json(&headers);
    let result = async {
        let client = oauth.client(&name)?;
        let all = accounts(&session).await?;
        let Some(account) = all.get(&name) else {
            return Ok(None);
        };
        let target = match &query {
            Some(q) if !q.is_empty() => format!("{path}?{q}"),
            _ => path,
        };
        Ok::<_, AuthError>(Some(client.get(&target, &account.token).await?))
    }
    .await;
    match result {
        Ok(Some(response)) => {
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
        Ok(None) => failure(
            json,
            StatusCode::UNAUTHORIZED,
            "not_logged_in",
            &format!("not logged in with {name}"),
        ),
        Err(e) => auth_failure(json, e),
    }
}

async fn refresh(
    State(oauth): State<OAuth>,
    Path(name): Path<String>,
    headers: HeaderMap,
    session: DemoSession,
) -> Response {
    let json = wants_json(&headers);
    let result = async {
        let client = oauth.client(&name)?;
        let mut all = accounts(&session).await?;
        let Some(account) = all.get_mut(&name) else {
            return Ok(Err((
                StatusCode::UNAUTHORIZED,
                "not_logged_in",
                format!("not logged in with {name}"),
            )));
        };
        let Token::OAuth2(token) = &account.token else {
            return Ok(Err((
                StatusCode::BAD_REQUEST,
                "refresh_unsupported",
                "OAuth 1.0a tokens do not expire and cannot be refreshed".to_owned(),
            )));
        };
        if token.refresh_token.is_none() {
            return Ok(Err((
                StatusCode::BAD_REQUEST,
                "no_refresh_token",
                "the provider issued no refresh token for this login".to_owned(),
            )));
        }
        let fresh = client.refresh_token(token).await?;
        account.token = Token::OAuth2(fresh);
        let summary = token_summary(&account.token);
        save_accounts(&session, &all).await?;
        Ok::<_, AuthError>(Ok(summary))
    }
    .await;
    match result {
        Ok(Ok(summary)) if json => {
            axum::Json(json!({ "provider": name, "token": summary })).into_response()
        }
        Ok(Ok(_)) => Redirect::to("/").into_response(),
        Ok(Err((status, code, description))) => failure(json, status, code, &description),
        Err(e) => auth_failure(json, e),
    }
}

async fn logout(headers: HeaderMap, session: DemoSession) -> Response {
    let json = wants_json(&headers);
    match session.clear().await {
        Ok(()) if json => axum::Json(json!({ "logged_out": true })).into_response(),
        Ok(()) => Redirect::to("/").into_response(),
        Err(e) => auth_failure(json, e),
    }
}
