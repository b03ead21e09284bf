//! axum integration for [ferroauth]: the session adapter, a callback extractor for GET and
//! `form_post` callbacks, a redirect-URI builder and errors that become responses.
//!
//! A login is two handlers:
//!
//! ```no_run
//! use axum::{Router, extract::{Path, State}, response::{IntoResponse, Response}, routing::get};
//! use ferroauth::OAuth;
//! use ferroauth_axum::{AuthError, AuthSession, Callback, LoginRedirect, RedirectUri, authorize_access_token, authorize_redirect};
//! use ferroauth_axum::memory_store::MemoryStore;
//! use ferroauth_axum::sessions::{SessionConfig, SessionsExt as _};
//!
//! async fn login(State(oauth): State<OAuth>, Path(name): Path<String>, session: AuthSession, uri: RedirectUri)
//!     -> Result<Response, AuthError>
//! {
//!     let client = oauth.client(&name)?;
//!     let url = authorize_redirect(&client, &session, &uri.to(&format!("/auth/{name}"))).await?;
//!     Ok(LoginRedirect(url).into_response())
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
//!     .apply(routes, MemoryStore::new())
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
//! Session stores: [`memory_store::MemoryStore`] for one instance (it forgets expired
//! sessions, unlike tower-sessions' own `MemoryStore`, and keeps each one compactly
//! encoded); a database or Redis store, by URL ([`stores`]), shared by every instance
//! behind a load balancer, wrapped in [`sessions::GuardedStore`] so that an unavailable
//! store answers 503; or no server-side state at all, with every entry in an encrypted
//! cookie ([`sessions::SessionsExt::apply_sealed`]).
//!
//! Whichever store, handlers see one [`AuthSession`]: a [`ferroauth::session::Session`]
//! over tower-sessions or the sealed cookies, in which ferroauth keeps the pending logins,
//! the tokens and the accounts (each one JSON text; [`ferroauth::session`] lists them).
//!
//! With the `axum-login` feature, [`axum_login`] makes the app's users
//! ([`ferroauth::users`]) an axum-login backend: ferroauth logs in, axum-login guards routes.

// Every public item documented: an undocumented one fails the build, not only CI.
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

use axum::extract::{FromRequest, FromRequestParts, OriginalUri, Request};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use ferroauth::form_post::ResubmitPage;
use ferroauth::session::Session as _;
pub use ferroauth::web::flows::{
    authorize_access_token, authorize_redirect, authorize_redirect_with,
};
use ferroauth::web::routes::{Answer, DEFAULT_REDIRECT_URI, JSON, RouteRequest};
use ferroauth::web::{AppUrl, CallbackForm, Failure};
pub use ferroauth::web::{MAX_CALLBACK_BODY, RedirectUriConfig};
use ferroauth::{CallbackParams, Error};

#[cfg(feature = "axum-login")]
pub mod axum_login;
pub mod extract;
pub mod guard;
pub mod memory_store;
pub mod routes;
mod sealed_cookies;
mod session;
pub mod sessions;
mod store_guard;
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
/// (axum handlers have no one request object: it takes the headers and the app's URL.)
pub fn refuse_cross_site(headers: &HeaderMap, app: Option<&RedirectUri>) -> Result<(), AuthError> {
    let (uri, extensions) = (Uri::from_static("/"), Extensions::new());
    let req = route_request(&uri, headers, &extensions);
    Ok(req.refuse_cross_site(app.map(|a| &a.0))?)
}

/// The core's view of a request ([`RouteRequest`]): the path and query as the client sent
/// them (`OriginalUri`, so a `nest` prefix stays), its headers, and the
/// [`RedirectUriConfig`] of the request extensions.
pub(crate) fn route_request<'a>(
    uri: &'a Uri,
    headers: &'a HeaderMap,
    extensions: &'a Extensions,
) -> RouteRequest<'a, impl Fn(&str) -> Option<&'a str> + Copy + Send + Sync + 'a> {
    let original = extensions.get::<OriginalUri>().map_or(uri, |o| &o.0);
    RouteRequest {
        path: original.path(),
        query: original.query().unwrap_or_default(),
        scheme: uri.scheme_str(),
        authority: uri.authority().map(|a| a.as_str()),
        headers: move |name: &str| headers.get(name).and_then(|v| v.to_str().ok()),
        redirect_uri: extensions.get().unwrap_or(&DEFAULT_REDIRECT_URI),
    }
}

/// A route's [`Answer`] as a response; a failure gets the default error page
/// ([`failure_page`]).
pub fn respond(answer: Answer) -> Response {
    match answer {
        Answer::ToProvider(url) => LoginRedirect(url).into_response(),
        Answer::SeeOther(to) => axum::response::Redirect::to(&to).into_response(),
        Answer::Body(status, content_type, body) => {
            let mut response = (status_of(status), body).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            if content_type == JSON {
                // Answers about a user's login: never kept by a cache.
                headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            }
            response
        }
        Answer::Resubmit(page) => resubmit_response(&page),
        Answer::Failed(failure) => failure_page(&failure),
        Answer::Acknowledged => {
            let no_store = [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))];
            (StatusCode::OK, no_store).into_response()
        }
    }
}

fn status_of(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A [`Failure`] as JSON `{"error", "error_description"}` with its status.
pub fn failure_json(failure: &Failure) -> Response {
    (status_of(failure.status), axum::Json(failure.json())).into_response()
}

/// A [`Failure`] as the default HTML error page ([`ferroauth::html::error_page`]).
pub fn failure_page(failure: &Failure) -> Response {
    (
        status_of(failure.status),
        axum::response::Html(failure.page()),
    )
        .into_response()
}

/// The redirect to the provider: `302 Found` with `Cache-Control: no-store`, since the URL
/// carries a one-time state.
#[derive(Debug, Clone)]
pub struct LoginRedirect(pub url::Url);

impl IntoResponse for LoginRedirect {
    fn into_response(self) -> Response {
        let Ok(location) = HeaderValue::from_str(self.0.as_str()) else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        let no_store = HeaderValue::from_static("no-store");
        let headers = [
            (header::LOCATION, location),
            (header::CACHE_CONTROL, no_store),
        ];
        (StatusCode::FOUND, headers).into_response()
    }
}

/// The callback's parameters: the query string of a GET, or the form body of a POST
/// (`response_mode=form_post`).
///
/// A form_post callback is a cross-site POST, which does not carry a `SameSite=Lax`
/// session cookie. When a POST arrives without the session (tower-sessions' [`tower_sessions::Session`]
/// or the [`ferroauth::session::sealed::SealedCookies`] jar tells), the extractor rejects it with
/// [`CallbackRejection::Resubmit`]: a page from the app's own origin that posts the same
/// fields again, this time with the cookie, to the path the client sent (a `nest` prefix
/// included). See [`ferroauth::form_post`] for why this is as strict as before.
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
        if let Ok(value) = HeaderValue::from_str(value) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(name), value);
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

impl Callback {
    /// Reads a callback request ([`RouteRequest::callback_form`]).
    pub(crate) async fn read(req: Request) -> Result<CallbackForm, Error> {
        let post = req.method() == Method::POST;
        let (parts, body) = req.into_parts();
        let body = match post {
            // One byte over the limit, so that the core tells an oversized body apart.
            true => axum::body::to_bytes(body, MAX_CALLBACK_BODY + 1)
                .await
                .map_err(|_| Error::InvalidCallback("the callback body is too large".into()))?,
            false => Default::default(),
        };
        let req = route_request(&parts.uri, &parts.headers, &parts.extensions);
        req.callback_form(post, &body, session_arrived(&parts))
    }
}

impl<S: Send + Sync> FromRequest<S> for Callback {
    type Rejection = CallbackRejection;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        match Self::read(req).await {
            Ok(CallbackForm::Params(params)) => Ok(Callback(params)),
            Ok(CallbackForm::Resubmit(page)) => Err(CallbackRejection::Resubmit(page)),
            Err(e) => Err(CallbackRejection::Invalid(AuthError(e))),
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
pub struct RedirectUri(pub AppUrl);

impl RedirectUri {
    /// The base URL for a request's headers ([`AppUrl::from_request`]).
    pub fn from_headers(
        headers: &HeaderMap,
        uri: &Uri,
        config: &RedirectUriConfig,
    ) -> Result<Self, AuthError> {
        let extensions = Extensions::new();
        let mut req = route_request(uri, headers, &extensions);
        req.redirect_uri = config;
        Ok(Self(req.app_url()?))
    }
}

/// The app's URL: `uri.to(path)`, `uri.base()` ([`AppUrl`]).
impl std::ops::Deref for RedirectUri {
    type Target = AppUrl;

    fn deref(&self) -> &AppUrl {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RedirectUri {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let req = route_request(&parts.uri, &parts.headers, &parts.extensions);
        Ok(Self(req.app_url()?))
    }
}

/// A ferroauth [`Error`] as an axum response: the status from [`ferroauth::web::http_status`]
/// (400 bad callback, 404 unknown client, 502 provider failure, 504 provider timeout, 503
/// session store down, 500 misconfiguration) and a JSON body
/// `{"error": code, "error_description": text}`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct AuthError(#[from] pub Error);

impl AuthError {
    /// The HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        status_of(ferroauth::web::http_status(&self.0))
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        respond(Answer::fail(true, &Failure::of(&self.0)))
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

    /// A nested router sees the path without its prefix: the re-post page must still post
    /// to the path the browser sent (`OriginalUri`), or it posts to a 404.
    #[tokio::test]
    async fn a_nested_form_post_is_posted_again_to_its_full_path() {
        use tower::ServiceExt as _;
        let page = |Callback(_): Callback| async { "logged in" };
        let app = axum::Router::new().nest(
            "/prefix",
            axum::Router::new().route("/auth/{name}", axum::routing::post(page)),
        );
        let request = Request::builder()
            .method(Method::POST)
            .uri("/prefix/auth/x?tab=2")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(axum::body::Body::from("code=c&state=s"))
            .unwrap();
        let response = app.oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let html = String::from_utf8(body.to_vec()).unwrap();
        assert!(
            html.contains("action=\"/prefix/auth/x?tab=2\""),
            "the re-post goes to the nested path: {html}"
        );
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
