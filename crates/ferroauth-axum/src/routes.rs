//! Ready-made login routes: [`AuthRoutes`].
//!
//! | route | does |
//! |---|---|
//! | `GET /login/{name}` | starts a login with client `name` and redirects to the provider; `?next=/path` (a path of this app) is where the user goes afterwards |
//! | `GET` or `POST /auth/{name}` | the callback (query or `form_post`); keeps the token and the claims in the session, renews the session id, then runs the login hook |
//! | `POST /refresh/{name}` | refreshes the stored OAuth 2.0 token (with [`AuthRoutes::with_refresh`]); re-reads userinfo when the provider has an endpoint for it |
//! | `POST /logout` | clears the session; redirects to the provider's end-session endpoint when an account has an ID token and the provider one |
//!
//! Every route answers JSON to `Accept: application/json` (`{"error", "error_description"}`
//! on failure, with the codes of [`ferroauth::Error::code`]) and pages or redirects
//! otherwise. Mount them at the root with `merge` or under a prefix with `nest`; the redirect
//! URI is then `<prefix>/auth/{name}`. The routes need a session layer
//! ([`crate::sessions::SessionConfig`]) and the registry as state (`OAuth: FromRef<S>`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use ferroauth::session::{self as store, Session as _};
use ferroauth::{Claims, Error, Login, OAuth, Profile, Token, TokenStore};
use serde::Serialize;

use crate::{
    AuthError, AuthSession, Callback, CallbackRejection, LoginRedirect, RedirectUri, wants_json,
};

/// Authorization parameters a browser may pass through `/login/{name}?...`.
const PASSTHROUGH_PARAMS: &[&str] = &["prompt", "login_hint", "max_age", "ui_locales"];

/// A finished login, as the login hook receives it: the token and claims are already in
/// the session.
#[derive(Debug)]
pub struct Completed {
    /// The login: client name, token, claims, and where the user asked to go.
    pub login: Login,
    /// The session the login was kept in (its id already renewed).
    pub session: AuthSession,
    /// Whether the request asked for JSON.
    pub json: bool,
}

/// A failure of one of the routes, as the error page receives it.
#[derive(Debug)]
pub struct Failure {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable error code (`state_expired`, `no_token`, ...).
    pub code: String,
    /// What went wrong, for people.
    pub description: String,
}

impl Completed {
    /// The user, normalized from the login's claims.
    pub fn profile(&self) -> Profile {
        Profile::from_claims(&self.login.userinfo)
    }
}

impl Failure {
    fn of(e: &AuthError) -> Self {
        Self {
            status: e.status(),
            code: e.0.code().to_owned(),
            description: e.0.to_string(),
        }
    }

    fn new(status: StatusCode, code: &str, description: String) -> Self {
        Self {
            status,
            code: code.to_owned(),
            description,
        }
    }
}

type BoxFuture = Pin<Box<dyn Future<Output = Response> + Send>>;
type LoginHook = Arc<dyn Fn(Completed) -> BoxFuture + Send + Sync>;
type ErrorPage = Arc<dyn Fn(&Failure) -> Response + Send + Sync>;

/// The login routes, configured: see the [module docs](self).
///
/// ```no_run
/// use axum::Router;
/// use ferroauth::OAuth;
/// use ferroauth_axum::routes::AuthRoutes;
///
/// # fn app(oauth: OAuth) -> Router {
/// let app: Router = Router::new()
///     .nest("/auth", AuthRoutes::new().with_refresh().router())
///     .with_state(oauth);
/// # app }
/// ```
#[derive(Clone)]
pub struct AuthRoutes {
    on_login: LoginHook,
    error_page: ErrorPage,
    refresh: bool,
}

impl std::fmt::Debug for AuthRoutes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthRoutes")
            .field("refresh", &self.refresh)
            .finish_non_exhaustive()
    }
}

impl Default for AuthRoutes {
    fn default() -> Self {
        Self::new()
    }
}

impl AuthRoutes {
    /// Login, callback and logout; the default login hook (JSON for JSON requests, else a
    /// redirect to `next` or `/`) and a plain error page.
    pub fn new() -> Self {
        Self {
            on_login: Arc::new(|done| Box::pin(async move { default_on_login(done) })),
            error_page: Arc::new(default_error_page),
            refresh: false,
        }
    }

    /// Also serve `POST /refresh/{name}`.
    pub fn with_refresh(mut self) -> Self {
        self.refresh = true;
        self
    }

    /// What happens once a login completed (the token and claims are already in the
    /// session): the hook's response is the callback's answer.
    pub fn on_login<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Completed) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Response> + Send + 'static,
    {
        self.on_login = Arc::new(move |done| Box::pin(hook(done)));
        self
    }

    /// The HTML page of a failure (JSON requests always get JSON).
    pub fn error_page<F>(mut self, page: F) -> Self
    where
        F: Fn(&Failure) -> Response + Send + Sync + 'static,
    {
        self.error_page = Arc::new(page);
        self
    }

    /// The routes, for an app whose state gives the registry.
    pub fn router<S>(self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
        OAuth: FromRef<S>,
    {
        // The configuration goes to the handlers through their closures, not as a request
        // extension: no insert into every request's extension map.
        let config = Arc::new(self);
        let c = config.clone();
        let login_route = move |o: State<OAuth>,
                                p: Path<String>,
                                u: OriginalUri,
                                h: HeaderMap,
                                s: Result<AuthSession, AuthError>,
                                r: Result<RedirectUri, AuthError>| {
            login(c.clone(), o, p, u, h, s, r)
        };
        let c = config.clone();
        let callback_route =
            move |o: State<OAuth>,
                  p: Path<String>,
                  h: HeaderMap,
                  s: Result<AuthSession, AuthError>,
                  cb: Result<Callback, CallbackRejection>| {
                callback(c.clone(), o, p, h, s, cb)
            };
        let c = config.clone();
        let logout_route =
            move |o: State<OAuth>,
                  h: HeaderMap,
                  s: Result<AuthSession, AuthError>,
                  r: Result<RedirectUri, AuthError>| { logout(c.clone(), o, h, s, r) };
        let routes = Router::new()
            .route("/login/{name}", get(login_route))
            .route(
                "/auth/{name}",
                get(callback_route.clone()).post(callback_route),
            )
            .route("/logout", post(logout_route));
        if !config.refresh {
            return routes;
        }
        let c = config;
        let refresh_route = move |o: State<OAuth>,
                                  p: Path<String>,
                                  h: HeaderMap,
                                  s: Result<AuthSession, AuthError>| {
            refresh_token(c.clone(), o, p, h, s)
        };
        routes.route("/refresh/{name}", post(refresh_route))
    }

    fn fail(&self, json: bool, failure: &Failure) -> Response {
        if json {
            let body = serde_json::json!({
                "error": failure.code,
                "error_description": failure.description,
            });
            (failure.status, axum::Json(body)).into_response()
        } else {
            (self.error_page)(failure)
        }
    }

    fn fail_with(&self, json: bool, e: &AuthError) -> Response {
        if e.status().is_server_error() {
            tracing::warn!(code = e.0.code(), error = %e.0, "OAuth request failed");
        }
        self.fail(json, &Failure::of(e))
    }
}

/// `next` when it is a path of this app: one leading `/`, not `//`, no backslash (browsers
/// read `/\` as `//`, another host) and no control characters. Anything else is dropped:
/// no open redirect.
pub fn same_origin_path(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && next.len() <= 2048
        && !next.chars().any(|c| c.is_control() || c == '\\');
    ok.then_some(next)
}

async fn login(
    config: Arc<AuthRoutes>,
    State(oauth): State<OAuth>,
    Path(name): Path<String>,
    OriginalUri(original): OriginalUri,
    headers: HeaderMap,
    session: Result<AuthSession, AuthError>,
    uri: Result<RedirectUri, AuthError>,
) -> Response {
    let json = wants_json(&headers);
    let result = async {
        let client = oauth.client(&name)?;
        let session = session?;
        // The callback is this router's own `/auth/{name}`, wherever it is mounted.
        let path = original.path();
        let prefix = path.strip_suffix(&format!("/login/{name}")).unwrap_or("");
        let redirect_uri = uri?.to(&format!("{prefix}/auth/{name}"));
        let pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(original.query().unwrap_or_default().as_bytes())
                .into_owned()
                .collect();
        let params: Vec<(&str, &str)> = pairs
            .iter()
            .filter(|(k, _)| PASSTHROUGH_PARAMS.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let next = pairs
            .iter()
            .find(|(k, _)| k == "next")
            .and_then(|(_, v)| same_origin_path(v));
        let url = client
            .authorize_redirect_returning(&session.pending(), &redirect_uri, &params, next)
            .await?;
        Ok::<_, AuthError>(LoginRedirect(url))
    }
    .await;
    match result {
        Ok(redirect) => redirect.into_response(),
        Err(e) => config.fail_with(json, &e),
    }
}

async fn callback(
    config: Arc<AuthRoutes>,
    State(oauth): State<OAuth>,
    Path(name): Path<String>,
    headers: HeaderMap,
    session: Result<AuthSession, AuthError>,
    callback: Result<Callback, CallbackRejection>,
) -> Response {
    let json = wants_json(&headers);
    let params = match callback {
        Ok(Callback(params)) => params,
        Err(CallbackRejection::Invalid(e)) => return config.fail_with(json, &e),
        // A form_post callback without the session cookie: posted again from this origin.
        Err(resubmit) => return resubmit.into_response(),
    };
    let result = async {
        let client = oauth.client(&name)?;
        let session = session?;
        // Renews the session id once the login succeeds (session fixation).
        let login = client
            .authorize_access_token(&session.pending(), &params)
            .await?;
        store::save_login(&session, &login).await?;
        Ok::<_, AuthError>((login, session))
    }
    .await;
    match result {
        Ok((login, session)) => {
            (config.on_login)(Completed {
                login,
                session,
                json,
            })
            .await
        }
        Err(e) => config.fail_with(json, &e),
    }
}

/// The answer of a login or a refresh to a JSON request: no secret values.
#[derive(Serialize)]
pub struct LoginAnswer<'a> {
    /// The client's name.
    pub provider: &'a str,
    /// The user's claims.
    pub userinfo: &'a Claims,
    /// The token without its secrets.
    pub token: TokenSummary<'a>,
}

/// A token without secret values: type, expiry and scope.
#[derive(Serialize)]
pub struct TokenSummary<'a> {
    /// `Bearer`, `DPoP`, or `OAuth1`.
    pub token_type: &'a str,
    /// Expiry, Unix seconds.
    pub expires_at: Option<u64>,
    /// The granted scope.
    pub scope: Option<&'a str>,
}

impl<'a> TokenSummary<'a> {
    /// The summary of `token`.
    pub fn of(token: &'a Token) -> Self {
        Self {
            token_type: token.token_type(),
            expires_at: token.expires_at(),
            scope: token.scope(),
        }
    }
}

fn answer(name: &str, userinfo: &Claims, token: &Token) -> Response {
    axum::Json(LoginAnswer {
        provider: name,
        userinfo,
        token: TokenSummary::of(token),
    })
    .into_response()
}

/// The default login hook: JSON for JSON requests, else a redirect to `next` or `/`.
pub fn default_on_login(done: Completed) -> Response {
    if done.json {
        return answer(&done.login.client, &done.login.userinfo, &done.login.token);
    }
    Redirect::to(done.login.return_to.as_deref().unwrap_or("/")).into_response()
}

/// The default error page: the code and description, and a way back
/// ([`ferroauth::html::error_page`]).
pub fn default_error_page(failure: &Failure) -> Response {
    let page =
        ferroauth::html::error_page(failure.status.as_u16(), &failure.code, &failure.description);
    (failure.status, Html(page)).into_response()
}

async fn refresh_token(
    config: Arc<AuthRoutes>,
    State(oauth): State<OAuth>,
    Path(name): Path<String>,
    headers: HeaderMap,
    session: Result<AuthSession, AuthError>,
) -> Response {
    let json = wants_json(&headers);
    let result = async {
        let client = oauth.client(&name)?;
        let session = session?;
        let token = client.refresh_stored_token(&session.tokens()).await?;
        let claims = if client.has_userinfo_endpoint().await? {
            let claims = client.userinfo(&token).await?;
            store::save_claims(&session, &name, &claims).await?;
            claims
        } else {
            let mut all = store::accounts(&session).await?;
            all.remove(&name).unwrap_or_default()
        };
        Ok::<_, AuthError>((token, claims))
    }
    .await;
    match result {
        Ok((token, claims)) if json => answer(&name, &claims, &token),
        Ok(_) => Redirect::to("/").into_response(),
        Err(e) => config.fail(json, &refresh_failure(&e)),
    }
}

/// Refresh errors the error's own kind gets wrong for this route: a login without a refresh
/// token and an OAuth 1.0a token are the request's fault (400), not the configuration's or
/// the credentials'. Everything else (`no_token` among them) keeps its code and status.
fn refresh_failure(e: &AuthError) -> Failure {
    match &e.0 {
        Error::NoRefreshToken { .. } => Failure::new(
            StatusCode::BAD_REQUEST,
            "no_refresh_token",
            "the provider issued no refresh token for this login".to_owned(),
        ),
        Error::Unsupported(_) => Failure::new(
            StatusCode::BAD_REQUEST,
            "refresh_unsupported",
            "OAuth 1.0a tokens do not expire and cannot be refreshed".to_owned(),
        ),
        _ => Failure::of(e),
    }
}

async fn logout(
    config: Arc<AuthRoutes>,
    State(oauth): State<OAuth>,
    headers: HeaderMap,
    session: Result<AuthSession, AuthError>,
    uri: Result<RedirectUri, AuthError>,
) -> Response {
    let json = wants_json(&headers);
    let result = async {
        let session = session?;
        let back = uri.as_ref().ok().map(|u| u.to("/"));
        let end_session = end_session_url(&oauth, &session, back.as_deref()).await?;
        session.clear().await?;
        Ok::<_, AuthError>(end_session)
    }
    .await;
    match result {
        Ok(url) if json => axum::Json(serde_json::json!({
            "logged_out": true,
            "end_session_url": url.as_ref().map(|u| u.as_str()),
        }))
        .into_response(),
        Ok(Some(url)) => Redirect::to(url.as_str()).into_response(),
        Ok(None) => Redirect::to("/").into_response(),
        Err(e) => config.fail_with(json, &e),
    }
}

/// RP-initiated logout at the first provider that can do it: one with an
/// `end_session_endpoint`, for an account with an ID token to name the session. Local
/// logout must not depend on the provider: a failed lookup only skips it.
async fn end_session_url(
    oauth: &OAuth,
    session: &AuthSession,
    back: Option<&str>,
) -> Result<Option<url::Url>, Error> {
    for name in store::accounts(session).await?.into_keys() {
        let Ok(client) = oauth.client(&name) else {
            continue;
        };
        let Some(token) = session.tokens().load(&name).await? else {
            continue;
        };
        let Some(id_token) = token.as_oauth2().and_then(|t| t.id_token.as_ref()) else {
            continue;
        };
        match client.end_session_url(Some(id_token), back, None).await {
            Ok(Some(url)) => return Ok(Some(url)),
            Ok(None) => {}
            Err(e) => tracing::warn!(client = %name, code = e.code(), "no end-session URL"),
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_be_a_path_of_this_app() {
        assert_eq!(same_origin_path("/"), Some("/"));
        assert_eq!(same_origin_path("/account?tab=2"), Some("/account?tab=2"));
        for evil in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "evil",
            "/a\r\nLocation: x",
            "",
        ] {
            assert_eq!(same_origin_path(evil), None, "{evil:?}");
        }
    }
}
