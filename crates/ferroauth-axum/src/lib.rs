//! axum integration for [ferroauth]: the session adapter, a callback extractor for GET and
//! `form_post` callbacks, a redirect-URI builder and errors that become responses.
//!
//! A login is two handlers:
//!
//! ```no_run
//! use axum::{Router, extract::{Path, State}, response::{IntoResponse, Response}, routing::get};
//! use ferroauth::OAuth;
//! use ferroauth_axum::{AuthError, AuthSession, Callback, RedirectUri, authorize_access_token, authorize_redirect};
//! use ferroauth_axum::{memory_store::PurgingMemoryStore, sessions::SessionConfig};
//!
//! async fn login(State(oauth): State<OAuth>, Path(name): Path<String>, session: AuthSession, uri: RedirectUri)
//!     -> Result<Response, AuthError>
//! {
//!     let client = oauth.client(&name)?;
//!     Ok(authorize_redirect(&client, &session, &uri.to(&format!("/auth/{name}"))).await?.into_response())
//! }
//!
//! async fn auth(State(oauth): State<OAuth>, Path(name): Path<String>, session: AuthSession, Callback(params): Callback)
//!     -> Result<String, AuthError>
//! {
//!     let login = authorize_access_token(&oauth.client(&name)?, &session, &params).await?;
//!     Ok(format!("hello {}", login.userinfo.get("sub").and_then(|v| v.as_str()).unwrap_or("?")))
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let oauth = OAuth::from_settings(&ferroauth::settings::Settings::from_file("ferroauth.toml")?)?;
//! let routes = Router::new()
//!     .route("/login/{name}", get(login))
//!     .route("/auth/{name}", get(auth).post(auth));
//! // SameSite=Lax, HttpOnly, Path=/; Secure except for plain http on loopback.
//! let app = SessionConfig::for_public_url("http://127.0.0.1:8000")?
//!     .apply(routes, PurgingMemoryStore::new())
//!     .with_state(oauth);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```
//!
//! Session cookies: the provider's redirect back to the callback is a cross-site top-level
//! GET, which `SameSite=Lax` cookies survive and tower-sessions' default, `Strict`, does
//! not: [`sessions::SessionConfig`] sets the cookie up for logins. A
//! `response_mode=form_post` callback is a cross-site POST, which no `Lax` cookie follows:
//! the [`Callback`] extractor answers it with a page that posts it again from the app's own
//! origin ([`ferroauth::form_post`]). A callback that still arrives without the session
//! fails as `session_missing`, and a completed login renews the session id.
//!
//! Session stores: [`memory_store::PurgingMemoryStore`] for one instance (it forgets
//! expired sessions, unlike tower-sessions' `MemoryStore`, and keeps each one compactly
//! encoded); a database or Redis store (tower-sessions-sqlx-store,
//! tower-sessions-redis-store) shared by every instance behind a load balancer, wrapped in
//! [`store_guard::GuardedStore`] so that an unavailable store answers 503; or no
//! server-side state at all, with every entry in an encrypted cookie ([`sealed_cookies`]).
//!
//! Whichever store, handlers see one [`AuthSession`]: a [`ferroauth::session::Session`]
//! over tower-sessions or the sealed cookies, in which ferroauth keeps the pending logins,
//! the tokens and the accounts (each one JSON text; [`ferroauth::session`] lists them).

// Every public item documented: an undocumented one fails the build, not only CI.
#![deny(missing_docs)]

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use ferroauth::form_post::ResubmitPage;
use ferroauth::session::Session as _;
use ferroauth::web::{AppUrl, CallbackForm, RequestOrigin};
pub use ferroauth::web::{MAX_CALLBACK_BODY, RedirectUriConfig};
use ferroauth::{CallbackParams, Error, Login, OAuthClient};

pub mod extract;
pub mod memory_store;
pub mod routes;
pub mod sealed_cookies;
mod session;
pub mod session_json;
pub mod sessions;
pub mod store_guard;
pub mod stores;

pub use session::AuthSession;

/// Whether the request asks for JSON (`Accept` names `application/json`): API clients and
/// scripts get JSON answers and errors, browsers pages ([`ferroauth::web::wants_json`]).
pub fn wants_json(headers: &HeaderMap) -> bool {
    ferroauth::web::wants_json(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()))
}

/// Refuses a state-changing request from another site, a sibling subdomain or another
/// origin (`Sec-Fetch-Site`, `Origin`): 403 `cross_site_request`
/// ([`ferroauth::web::refuse_cross_site`] says why `SameSite` cookies are not enough).
/// The library's `POST` routes call it; call it in an app's own state-changing handlers.
pub fn refuse_cross_site(headers: &HeaderMap, app: Option<&RedirectUri>) -> Result<(), AuthError> {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let fetch = ferroauth::web::FetchHeaders {
        sec_fetch_site: header("sec-fetch-site"),
        origin: header("origin"),
    };
    Ok(ferroauth::web::refuse_cross_site(
        fetch,
        app.map(RedirectUri::app_url),
    )?)
}

/// The redirect to the provider: `302 Found` with `Cache-Control: no-store`, since the URL
/// carries a one-time state.
#[derive(Debug, Clone)]
pub struct LoginRedirect(pub url::Url);

impl IntoResponse for LoginRedirect {
    fn into_response(self) -> Response {
        match header::HeaderValue::from_str(self.0.as_str()) {
            Ok(location) => (
                StatusCode::FOUND,
                [
                    (header::LOCATION, location),
                    (
                        header::CACHE_CONTROL,
                        header::HeaderValue::from_static("no-store"),
                    ),
                ],
            )
                .into_response(),
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        }
    }
}

/// Starts a login: stores the pending login in the session and redirects to the provider.
pub async fn authorize_redirect(
    client: &OAuthClient,
    session: &AuthSession,
    redirect_uri: &str,
) -> Result<LoginRedirect, AuthError> {
    authorize_redirect_with(client, session, redirect_uri, &[]).await
}

/// [`authorize_redirect`] with extra authorization parameters (`prompt`, `login_hint`, ...).
pub async fn authorize_redirect_with(
    client: &OAuthClient,
    session: &AuthSession,
    redirect_uri: &str,
    params: &[(&str, &str)],
) -> Result<LoginRedirect, AuthError> {
    let url = client
        .authorize_redirect_with(&session.pending(), redirect_uri, params)
        .await?;
    Ok(LoginRedirect(url))
}

/// Finishes a login on the callback; the session gets a new id once it succeeds.
pub async fn authorize_access_token(
    client: &OAuthClient,
    session: &AuthSession,
    callback: &CallbackParams,
) -> Result<Login, AuthError> {
    Ok(client
        .authorize_access_token(&session.pending(), callback)
        .await?)
}

/// The callback's parameters: the query string of a GET, or the form body of a POST
/// (`response_mode=form_post`).
///
/// A form_post callback is a cross-site POST, which does not carry a `SameSite=Lax`
/// session cookie. When a POST arrives without the session (tower-sessions' [`tower_sessions::Session`]
/// or the [`ferroauth::session::sealed::SealedCookies`] jar tells), the extractor rejects it with
/// [`CallbackRejection::Resubmit`]: a page from the app's own origin that posts the same
/// fields again, this time with the cookie. See [`ferroauth::form_post`] for why this is
/// as strict as before.
#[derive(Debug, Clone)]
pub struct Callback(pub CallbackParams);

/// Why the [`Callback`] extractor did not produce parameters; answers as a response.
#[derive(Debug)]
pub enum CallbackRejection {
    /// The callback is malformed: 400 with the error's code.
    Invalid(AuthError),
    /// A form_post callback without the session: the page that posts it again from the
    /// app's own origin.
    Resubmit(ResubmitPage),
}

impl From<Error> for CallbackRejection {
    fn from(e: Error) -> Self {
        Self::Invalid(AuthError(e))
    }
}

impl IntoResponse for CallbackRejection {
    fn into_response(self) -> Response {
        match self {
            Self::Invalid(e) => e.into_response(),
            Self::Resubmit(page) => resubmit_response(&page),
        }
    }
}

/// A [`ResubmitPage`] as a response, with its headers.
pub fn resubmit_response(page: &ResubmitPage) -> Response {
    let mut response = (StatusCode::OK, page.html().to_owned()).into_response();
    for (name, value) in page.headers() {
        if let Ok(value) = header::HeaderValue::from_str(value) {
            response
                .headers_mut()
                .insert(header::HeaderName::from_static(name), value);
        }
    }
    response
}

/// Whether the request brought the app's session ([`AuthSession`]'s own answer), or, with
/// no session layer installed, any cookie at all.
fn session_arrived(parts: &Parts) -> bool {
    AuthSession::from_extensions(&parts.extensions).map_or_else(
        || parts.headers.contains_key(header::COOKIE),
        |session| session.is_present(),
    )
}

impl<S: Send + Sync> FromRequest<S> for Callback {
    type Rejection = CallbackRejection;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        if req.method() != Method::POST {
            return Ok(Callback(CallbackParams::parse(
                req.uri().query().unwrap_or(""),
            )?));
        }
        let (parts, body) = req.into_parts();
        // One byte over the limit, so that the core tells an oversized body apart.
        let body = axum::body::to_bytes(body, MAX_CALLBACK_BODY + 1)
            .await
            .map_err(|_| Error::InvalidCallback("the callback body is too large".into()))?;
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let action = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let json = wants_json(&parts.headers);
        match ferroauth::web::callback_from_form(
            content_type,
            &body,
            session_arrived(&parts),
            json,
            action,
        )? {
            CallbackForm::Params(params) => Ok(Callback(params)),
            CallbackForm::Resubmit(page) => Err(CallbackRejection::Resubmit(page)),
        }
    }
}

/// Builds absolute URLs for this app, like Django's `build_absolute_uri`: scheme and host
/// from the request, or from `X-Forwarded-Proto`/`X-Forwarded-Host` when the app sits
/// behind a proxy it trusts.
///
/// As an extractor it reads the [`RedirectUriConfig`] from the request extensions (add it
/// with `axum::Extension`), and otherwise trusts no forwarded headers.
#[derive(Debug, Clone)]
pub struct RedirectUri {
    url: AppUrl,
}

impl RedirectUri {
    /// The base URL for a request's headers ([`AppUrl::from_request`]).
    pub fn from_headers(
        headers: &HeaderMap,
        uri: &axum::http::Uri,
        config: &RedirectUriConfig,
    ) -> Result<Self, AuthError> {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let origin = RequestOrigin {
            host: header("host"),
            forwarded_proto: header("x-forwarded-proto"),
            forwarded_host: header("x-forwarded-host"),
            scheme: uri.scheme_str(),
            authority: uri.authority().map(|a| a.as_str()),
        };
        Ok(Self {
            url: AppUrl::from_request(&origin, config)?,
        })
    }

    /// The app's URL, as the core's functions take it.
    pub fn app_url(&self) -> &AppUrl {
        &self.url
    }

    /// The base URL, without a trailing slash.
    pub fn base(&self) -> &str {
        self.url.base()
    }

    /// The absolute URL of a path of this app.
    pub fn to(&self, path: &str) -> String {
        self.url.to(path)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RedirectUri {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let config = parts
            .extensions
            .get::<RedirectUriConfig>()
            .cloned()
            .unwrap_or_default();
        Self::from_headers(&parts.headers, &parts.uri, &config)
    }
}

/// A ferroauth [`Error`] as an axum response: the status from [`ferroauth::ErrorKind`]
/// (400 bad callback, 502 provider failure, 504 provider timeout, 503 session store down,
/// 500 misconfiguration) and a JSON body `{"error": code, "error_description": text}`.
#[derive(Debug)]
pub struct AuthError(pub Error);

impl From<Error> for AuthError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

impl AuthError {
    /// The HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(ferroauth::web::http_status(&self.0))
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The JSON body for this error.
    pub fn body(&self) -> serde_json::Value {
        ferroauth::web::Failure::of(&self.0).json()
    }
}

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for AuthError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let failure = ferroauth::web::Failure::of(&self.0);
        failure.log();
        (self.status(), axum::Json(failure.json())).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Uri;
    use ferroauth::form_post;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (axum::http::HeaderName::from_static(k), v.parse().unwrap()))
            .collect()
    }

    #[test]
    fn redirect_uri_from_host() {
        let h = headers(&[
            ("host", "127.0.0.1:8000"),
            ("x-forwarded-host", "evil.example"),
        ]);
        let r = RedirectUri::from_headers(
            &h,
            &Uri::from_static("/login/x"),
            &RedirectUriConfig::default(),
        )
        .unwrap();
        assert_eq!(r.to("/auth/dev"), "http://127.0.0.1:8000/auth/dev");
    }

    #[test]
    fn forwarded_headers_only_when_trusted() {
        let h = headers(&[
            ("host", "10.0.0.5"),
            ("x-forwarded-host", "app.example"),
            ("x-forwarded-proto", "https"),
        ]);
        let config = RedirectUriConfig {
            trust_forwarded_headers: true,
            ..Default::default()
        };
        let r = RedirectUri::from_headers(&h, &Uri::from_static("/"), &config).unwrap();
        assert_eq!(r.to("auth/x"), "https://app.example/auth/x");
        let fixed = RedirectUriConfig {
            public_base_url: Some("https://fixed.example/".into()),
            ..Default::default()
        };
        assert_eq!(
            RedirectUri::from_headers(&h, &Uri::from_static("/"), &fixed)
                .unwrap()
                .base(),
            "https://fixed.example"
        );
    }

    #[test]
    fn bad_hosts_are_refused() {
        let h = headers(&[("host", "a.example/evil?x=")]);
        let e =
            RedirectUri::from_headers(&h, &Uri::from_static("/"), &RedirectUriConfig::default())
                .unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn errors_map_to_statuses() {
        assert_eq!(
            AuthError(Error::StateExpired).status(),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            AuthError(Error::Session("down".into())).status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            AuthError(Error::InvalidIdToken("x".into())).status(),
            StatusCode::BAD_GATEWAY
        );
        assert_eq!(
            AuthError(Error::UnknownClient("x".into())).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            AuthError(Error::StateReused).body()["error"],
            "state_reused"
        );
    }

    #[tokio::test]
    async fn callback_from_query_and_form() {
        let req = Request::builder()
            .uri("/auth/x?code=c&state=s")
            .body(axum::body::Body::empty())
            .unwrap();
        let Callback(p) = Callback::from_request(req, &()).await.unwrap();
        assert_eq!(p.get("code"), Some("c"));
        let req = Request::builder()
            .method(Method::POST)
            .uri("/auth/x")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, "id=some-session")
            .body(axum::body::Body::from("code=c2&state=s2"))
            .unwrap();
        let Callback(p) = Callback::from_request(req, &()).await.unwrap();
        assert_eq!(p.get("state"), Some("s2"));
        let req = Request::builder()
            .method(Method::POST)
            .uri("/auth/x")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(axum::body::Body::from("a".repeat(MAX_CALLBACK_BODY + 1)))
            .unwrap();
        let Err(CallbackRejection::Invalid(e)) = Callback::from_request(req, &()).await else {
            panic!("an oversized body is invalid");
        };
        assert_eq!(e.0.code(), "callback_invalid");
    }

    fn form_post(body: &str) -> Request {
        Request::builder()
            .method(Method::POST)
            .uri("/auth/x?tab=2")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(axum::body::Body::from(body.to_owned()))
            .unwrap()
    }

    #[tokio::test]
    async fn a_sessionless_form_post_is_posted_again_once() {
        let rejection = Callback::from_request(form_post("code=c&state=s"), &())
            .await
            .unwrap_err();
        let CallbackRejection::Resubmit(page) = &rejection else {
            panic!("expected the re-post page, got {rejection:?}");
        };
        assert!(page.html().contains("action=\"/auth/x?tab=2\""));
        let response = rejection.into_response();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        assert!(
            response.headers()[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .contains("'nonce-")
        );
        let body = format!("code=c&state=s&{}=1", form_post::RESUBMITTED_FIELD);
        let Callback(p) = Callback::from_request(form_post(&body), &()).await.unwrap();
        assert_eq!(p.get("code"), Some("c"));
        assert_eq!(p.get(form_post::RESUBMITTED_FIELD), None);
    }
}
