//! The ferroauth demo app: every configured provider behind the same routes.
//!
//! | route | does |
//! |---|---|
//! | `GET /` | providers as login buttons, the logged-in user |
//! | `GET /login/{name}` | redirect to the provider |
//! | `GET` or `POST /auth/{name}` | the callback; JSON with `Accept: application/json`, else HTML |
//! | `GET /api/{name}/{*path}` | the provider's API at `api_base_url` + path, with the stored token (refreshed when it expires within a minute, or once after a 401 `invalid_token`) |
//! | `POST /refresh/{name}` | refresh the stored OAuth 2.0 token |
//! | `POST /logout` | clear the session; then the provider's end-session endpoint when an account has an ID token and the provider one (HTML: redirect; JSON: `end_session_url`) |
//!
//! Tokens live in the session through [`ferroauth_axum::SessionTokens`] (or, with the
//! cookie store, in sealed cookies: see [`store`]), so every route goes through the
//! registry's single-flight refresh.
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
use ferroauth::http::Method;
use ferroauth::{ApiRequest, Claims, Error, OAuth, Token, TokenStore};
use ferroauth_axum::cookie_store::{CookieSealer, sealed_cookies};
use ferroauth_axum::memory_store::PurgingMemoryStore;
use ferroauth_axum::sessions::SessionConfig;
use ferroauth_axum::{
    AuthError, Callback, CallbackRejection, LoginRedirect, RedirectUri, RedirectUriConfig,
    wants_json,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::DemoSession;
use tower_sessions::SessionStore;

/// The session key of the logged-in users' claims, by provider. Tokens are kept apart, by
/// [`ferroauth_axum::SessionTokens`] under [`ferroauth_axum::TOKENS_KEY`]; [`accounts_in_session_data`]
/// joins the two.
pub const USERS_KEY: &str = "ferroauth.demo.users";

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
    /// Per provider name: the path under its `api_base_url` that the home page's
    /// "Call the API" button requests (the API root when absent), e.g. `me`.
    pub api_paths: BTreeMap<String, String>,
    /// How long an unused server-side session lives (default 8 hours). Benchmarks shorten
    /// it to see expired sessions purged within a run.
    pub session_inactivity: Option<time::Duration>,
    /// Whether cookies are `Secure`. Off by default because the demo itself serves plain
    /// http; `main` turns it on for an https public URL or `--secure-cookies`.
    pub secure_cookies: bool,
}

/// The API paths of [`DemoOptions::api_paths`], for the pages.
#[derive(Debug, Clone, Default)]
struct ApiPaths(std::sync::Arc<BTreeMap<String, String>>);

/// The demo's routes over the given session store. A failing store answers 503
/// (`session_unavailable`).
pub fn router_with_store<S: SessionStore + Clone>(
    oauth: OAuth,
    options: DemoOptions,
    store: S,
) -> Router {
    let sessions = SessionConfig::new()
        .secure(options.secure_cookies)
        .inactivity(
            options
                .session_inactivity
                .unwrap_or(ferroauth_axum::sessions::DEFAULT_INACTIVITY),
        );
    sessions.apply(routes(options), store).with_state(oauth)
}

/// The demo's routes without server-side state: pending logins, claims and tokens in
/// sealed cookies (see [`store`]).
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
        .layer(axum::Extension(ApiPaths(Arc::new(options.api_paths))))
}

/// The demo's routes with the in-memory session store (expired sessions are swept out).
pub fn router(oauth: OAuth, options: DemoOptions) -> Router {
    router_with_store(oauth, options, PurgingMemoryStore::new())
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

/// The accounts in a session record's data (as a session store holds it): each provider's
/// claims with its current token. For tests that inspect the server-side session.
pub fn accounts_in_session_data(
    data: &std::collections::HashMap<String, serde_json::Value>,
) -> Result<BTreeMap<String, Account>, Error> {
    let read = |key: &str| data.get(key).cloned().unwrap_or(serde_json::Value::Null);
    let users: Option<BTreeMap<String, Claims>> =
        ferroauth_axum::session_json::decode(USERS_KEY, read(USERS_KEY))?;
    let tokens: Option<BTreeMap<String, Token>> = ferroauth_axum::session_json::decode(
        ferroauth_axum::TOKENS_KEY,
        read(ferroauth_axum::TOKENS_KEY),
    )?;
    Ok(join(users.unwrap_or_default(), tokens.unwrap_or_default()))
}

/// Each provider's claims with its token; a provider with only one of the two is left out.
fn join(
    users: BTreeMap<String, Claims>,
    mut tokens: BTreeMap<String, Token>,
) -> BTreeMap<String, Account> {
    users
        .into_iter()
        .filter_map(|(name, userinfo)| {
            let token = tokens.remove(&name)?;
            Some((name, Account { userinfo, token }))
        })
        .collect()
}

/// The logged-in accounts: each provider's claims with its current token.
async fn accounts(session: &DemoSession) -> Result<BTreeMap<String, Account>, AuthError> {
    let tokens = session.tokens().load_all().await?;
    Ok(join(session.users().await?, tokens))
}

/// Records a login with `name` in the session; returns every logged-in user's claims,
/// this one's included.
async fn save_account(
    session: &DemoSession,
    name: &str,
    userinfo: Claims,
    token: &Token,
) -> Result<BTreeMap<String, Claims>, AuthError> {
    let mut all = session.users().await?;
    all.insert(name.to_owned(), userinfo);
    session.save_users(&all).await?;
    session.tokens().save(name, token).await?;
    Ok(all)
}

async fn home(
    State(oauth): State<OAuth>,
    axum::Extension(ApiPaths(api_paths)): axum::Extension<ApiPaths>,
    session: DemoSession,
) -> Response {
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
            &api_paths,
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
        Ok::<_, AuthError>(LoginRedirect(url))
    }
    .await;
    match result {
        Ok(redirect) => redirect.into_response(),
        Err(e) => auth_failure(json, e),
    }
}

async fn callback(
    State(oauth): State<OAuth>,
    Path(name): Path<String>,
    headers: HeaderMap,
    session: DemoSession,
    callback: Result<Callback, CallbackRejection>,
) -> Response {
    let json = wants_json(&headers);
    let callback = match callback {
        Ok(Callback(params)) => Ok(params),
        Err(CallbackRejection::Invalid(e)) => Err(e),
        // A form_post callback without the session cookie: posted again from this origin.
        Err(resubmit) => return resubmit.into_response(),
    };
    let result = async {
        let client = oauth.client(&name)?;
        let params = callback?;
        // The library renews the session id once the login succeeds (session fixation).
        let login = client
            .authorize_access_token(&session.pending(), &params)
            .await?;
        let mut users = save_account(&session, &name, login.userinfo, &login.token).await?;
        let userinfo = users.remove(&name).unwrap_or_default();
        Ok::<_, AuthError>((userinfo, login.token))
    }
    .await;
    match result {
        Ok((userinfo, token)) if json => axum::Json(LoginAnswer {
            provider: &name,
            userinfo: &userinfo,
            token: TokenSummary::of(&token),
        })
        .into_response(),
        Ok(_) => Redirect::to("/").into_response(),
        Err(e) => auth_failure(json, e),
    }
}

/// The JSON answer of a login: written straight from the claims, without building a
/// `serde_json::Value` copy of them first.
#[derive(Serialize)]
struct LoginAnswer<'a> {
    provider: &'a str,
    userinfo: &'a Claims,
    token: TokenSummary<'a>,
}

/// The token without secret values.
#[derive(Serialize)]
struct TokenSummary<'a> {
    token_type: &'a str,
    expires_at: Option<u64>,
    scope: Option<&'a str>,
}

impl<'a> TokenSummary<'a> {
    fn of(token: &'a Token) -> Self {
        Self {
            token_type: token.token_type(),
            expires_at: token.expires_at(),
            scope: token.scope(),
        }
    }
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
        let target = match &query {
            Some(q) if !q.is_empty() => format!("{path}?{q}"),
            _ => path,
        };
        let store = session.tokens();
        match client
            .request_with_store(&store, Method::GET, &target, ApiRequest::default())
            .await
        {
            Err(Error::NoToken { .. }) => Ok(None),
            other => Ok::<_, AuthError>(Some(other?)),
        }
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
        let refused =
            |status, code: &'static str, description: String| Ok(Err((status, code, description)));
        match client.refresh_stored_token(&session.tokens()).await {
            Ok(token) => Ok(Ok(token)),
            Err(Error::NoToken { .. }) => refused(
                StatusCode::UNAUTHORIZED,
                "not_logged_in",
                format!("not logged in with {name}"),
            ),
            Err(Error::NoRefreshToken { .. }) => refused(
                StatusCode::BAD_REQUEST,
                "no_refresh_token",
                "the provider issued no refresh token for this login".to_owned(),
            ),
            Err(Error::Unsupported(_)) => refused(
                StatusCode::BAD_REQUEST,
                "refresh_unsupported",
                "OAuth 1.0a tokens do not expire and cannot be refreshed".to_owned(),
            ),
            Err(e) => Err(AuthError(e)),
        }
    }
    .await;
    match result {
        Ok(Ok(token)) if json => {
            axum::Json(json!({ "provider": name, "token": TokenSummary::of(&token) }))
                .into_response()
        }
        Ok(Ok(_)) => Redirect::to("/").into_response(),
        Ok(Err((status, code, description))) => failure(json, status, code, &description),
        Err(e) => auth_failure(json, e),
    }
}

async fn logout(
    State(oauth): State<OAuth>,
    headers: HeaderMap,
    session: DemoSession,
    uri: Result<RedirectUri, AuthError>,
) -> Response {
    let json = wants_json(&headers);
    let result = async {
        // RP-initiated logout at the first provider that can do it: one with an
        // end_session_endpoint, for an account with an ID token to name the session.
        let mut end_session = None;
        for (name, account) in accounts(&session).await? {
            let Some(id_token) = account.token.as_oauth2().and_then(|t| t.id_token.as_ref()) else {
                continue;
            };
            let Ok(client) = oauth.client(&name) else {
                continue;
            };
            let back = uri.as_ref().ok().map(|u| u.to("/"));
            // Local logout must not depend on the provider: a failed lookup only skips it.
            match client
                .end_session_url(Some(id_token), back.as_deref(), None)
                .await
            {
                Ok(Some(url)) => {
                    end_session = Some(url);
                    break;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(client = %name, code = e.code(), "no end-session URL"),
            }
        }
        session.clear().await?;
        Ok::<_, AuthError>(end_session)
    }
    .await;
    match result {
        Ok(url) if json => axum::Json(json!({
            "logged_out": true,
            "end_session_url": url.as_ref().map(|u| u.as_str()),
        }))
        .into_response(),
        Ok(Some(url)) => Redirect::to(url.as_str()).into_response(),
        Ok(None) => Redirect::to("/").into_response(),
        Err(e) => auth_failure(json, e),
    }
}
