//! Ready-made login routes: [`AuthRoutes`].
//!
//! | route | does |
//! |---|---|
//! | `GET /login/{name}` | starts a login with client `name` and redirects to the provider; `?next=/path` (a path of this app) is where the user goes afterwards |
//! | `GET` or `POST /auth/{name}` | the callback (query or `form_post`); keeps the token and the claims in the session, renews the session id, then runs the login hook |
//! | `POST /refresh/{name}` | refreshes the stored OAuth 2.0 token (with [`AuthRoutes::with_refresh`]); re-reads userinfo when the provider has an endpoint for it |
//! | `POST /logout` | clears the session; redirects to the provider's end-session endpoint when an account has an ID token and the provider one |
//!
//! The `POST` routes refuse requests from other sites, sibling subdomains and other
//! origins with 403 `cross_site_request` ([`crate::refuse_cross_site`]); the login route
//! answers 400 `invalid_request` naming the parameter for a bad `max_age`, `prompt`,
//! `login_hint`, `ui_locales` or `next` ([`ferroauth::web::LoginQuery`]).
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
pub use ferroauth::web::flows::TokenSummary;
use ferroauth::web::flows::{self, LoginAnswer};
pub use ferroauth::web::{Failure, same_origin_path};
use ferroauth::{Login, OAuth, Profile};

use crate::{
    AuthError, AuthSession, Callback, CallbackRejection, LoginRedirect, RedirectUri,
    refuse_cross_site, wants_json,
};

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

impl Completed {
    /// The user, normalized from the login's claims.
    pub fn profile(&self) -> Profile {
        Profile::from_claims(&self.login.userinfo)
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
                                  s: Result<AuthSession, AuthError>,
                                  r: Result<RedirectUri, AuthError>| {
            refresh_token(c.clone(), o, p, h, s, r)
        };
        routes.route("/refresh/{name}", post(refresh_route))
    }

    fn fail(&self, json: bool, failure: &Failure) -> Response {
        failure.log();
        if json {
            let status =
                StatusCode::from_u16(failure.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, axum::Json(failure.json())).into_response()
        } else {
            (self.error_page)(failure)
        }
    }

    fn fail_with(&self, json: bool, e: &AuthError) -> Response {
        self.fail(json, &Failure::of(&e.0))
    }
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
        let redirect_uri = uri?.to(&flows::callback_path(original.path(), &name));
        let query = original.query().unwrap_or_default();
        let url = flows::start_login(&client, &session, &redirect_uri, query).await?;
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
        let login = flows::finish_login(&client, &session, &params).await?;
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

fn answer(answer: &LoginAnswer<'_>) -> Response {
    axum::Json(answer).into_response()
}

/// The default login hook: JSON for JSON requests, else a redirect to `next` or `/`.
pub fn default_on_login(done: Completed) -> Response {
    if done.json {
        return answer(&LoginAnswer::of(&done.login));
    }
    Redirect::to(done.login.return_to.as_deref().unwrap_or("/")).into_response()
}

/// The default error page: the code and description, and a way back
/// ([`ferroauth::html::error_page`]).
pub fn default_error_page(failure: &Failure) -> Response {
    let status = StatusCode::from_u16(failure.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Html(failure.page())).into_response()
}

async fn refresh_token(
    config: Arc<AuthRoutes>,
    State(oauth): State<OAuth>,
    Path(name): Path<String>,
    headers: HeaderMap,
    session: Result<AuthSession, AuthError>,
    uri: Result<RedirectUri, AuthError>,
) -> Response {
    let json = wants_json(&headers);
    let result = async {
        refuse_cross_site(&headers, uri.as_ref().ok())?;
        let client = oauth.client(&name)?;
        let session = session?;
        Ok::<_, AuthError>(flows::refresh(&client, &session).await?)
    }
    .await;
    match result {
        Ok((token, claims)) if json => answer(&LoginAnswer::new(&name, &claims, &token)),
        Ok(_) => Redirect::to("/").into_response(),
        Err(e) => config.fail(json, &Failure::of_refresh(&e.0)),
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
        refuse_cross_site(&headers, uri.as_ref().ok())?;
        let session = session?;
        let back = uri.as_ref().ok().map(|u| u.to("/"));
        Ok::<_, AuthError>(flows::logout(&oauth, &session, back.as_deref()).await?)
    }
    .await;
    match result {
        Ok(url) if json => axum::Json(flows::logout_answer(url.as_ref())).into_response(),
        Ok(Some(url)) => Redirect::to(url.as_str()).into_response(),
        Ok(None) => Redirect::to("/").into_response(),
        Err(e) => config.fail_with(json, &e),
    }
}
