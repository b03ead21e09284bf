//! actix-web integration for [ferroauth]: the same logins, routes, extractors and answers
//! as `ferroauth-axum`, on actix-web 4 and actix-session.
//!
//! The ready-made routes are a few lines:
//!
//! ```no_run
//! use actix_web::{App, HttpServer, cookie::Key, web};
//! use ferroauth::OAuth;
//! use ferroauth_actix::memory_store::MemoryStore;
//! use ferroauth_actix::routes::AuthRoutes;
//! use ferroauth_actix::sessions::{SessionConfig, SessionsExt as _};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let oauth = OAuth::from_settings(&ferroauth::settings::Settings::from_file("ferroauth.toml")?)?;
//! // SameSite=Lax, HttpOnly, Path=/; Secure except for plain http on loopback.
//! let sessions = SessionConfig::for_public_url("http://127.0.0.1:8000")?;
//! let (store, key) = (MemoryStore::new(), Key::generate());
//! HttpServer::new(move || {
//!     App::new()
//!         .app_data(web::Data::new(oauth.clone()))
//!         .configure(AuthRoutes::new().with_refresh().config())
//!         .wrap(sessions.middleware(store.clone(), key.clone()))
//! })
//! .bind("127.0.0.1:8000")?
//! .run()
//! .await?;
//! # Ok(()) }
//! ```
//!
//! The routes find the registry as `web::Data<OAuth>` (or a plain `OAuth` in the app
//! data). Everything framework-neutral (what each route does, the error codes and
//! statuses, the redirect URI, the `form_post` re-post) is [`ferroauth::web`]; this crate
//! translates actix-web's requests and responses to it, so both integrations answer alike.
//!
//! Sessions: [`sessions::SessionConfig`] sets up actix-session for logins (the cookie
//! `SameSite=Lax; HttpOnly; Path=/`, `Secure` on https, private (encrypted) cookie content,
//! store failures as 503) over any actix-session store: [`memory_store::MemoryStore`] for
//! one instance, a database or Redis opened by URL ([`stores::Store::open`], features
//! `sqlite`, `postgres`, `redis`) for many. Or no
//! server-side state at all, with [`sessions::SessionsExt::sealed`]: every entry in its
//! own sealed cookie ([`ferroauth::session::sealed`]). Handlers see one [`AuthSession`]
//! either way.

// Every public item documented: an undocumented one fails the build, not only CI.
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{FromRequest, HttpRequest, HttpResponse, Responder, ResponseError, web};
use ferroauth::form_post::ResubmitPage;
use ferroauth::session::Session as _;
pub use ferroauth::web::flows::{
    authorize_access_token, authorize_redirect, authorize_redirect_with,
};
use ferroauth::web::routes::{Answer, DEFAULT_REDIRECT_URI, JSON, RouteRequest};
use ferroauth::web::{AppUrl, CallbackForm, Failure};
pub use ferroauth::web::{MAX_CALLBACK_BODY, RedirectUriConfig};
use ferroauth::{CallbackParams, Error, OAuth};
use futures_util::StreamExt as _;
use futures_util::future::LocalBoxFuture;

pub mod extract;
pub mod guard;
pub mod memory_store;
pub mod routes;
mod session;
pub mod sessions;
pub mod stores;

pub use session::{AuthSession, ServerSession};

/// Whether the request asks for JSON (`Accept` names `application/json`): API clients and
/// scripts get JSON answers and errors, browsers pages ([`ferroauth::web::wants_json`]).
pub fn wants_json(headers: &HeaderMap) -> bool {
    ferroauth::web::wants_json(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()))
}

/// Refuses a state-changing request from another site, a sibling subdomain or another
/// origin (`Sec-Fetch-Site`, `Origin`): 403 `cross_site_request`
/// ([`ferroauth::web::refuse_cross_site`] says why `SameSite` cookies are not enough).
/// The library's `POST` routes call it; call it in an app's own state-changing handlers.
/// (It takes the whole request, where axum's takes the headers and the app's URL.)
pub fn refuse_cross_site(req: &HttpRequest) -> Result<(), AuthError> {
    let req = route_request(req);
    Ok(req.refuse_cross_site(req.app_url().ok().as_ref())?)
}

/// The core's view of a request ([`RouteRequest`]): its path and query (inside a
/// `web::scope` the path is still the full one), its headers, and the
/// [`RedirectUriConfig`] of the app data (`web::Data` or plain).
pub(crate) fn route_request<'a>(
    req: &'a HttpRequest,
) -> RouteRequest<'a, impl Fn(&str) -> Option<&'a str> + 'a> {
    let config = req
        .app_data::<web::Data<RedirectUriConfig>>()
        .map(|d| d.get_ref());
    RouteRequest {
        path: req.path(),
        query: req.query_string(),
        scheme: req.uri().scheme_str(),
        authority: req.uri().authority().map(|a| a.as_str()),
        headers: move |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()),
        redirect_uri: config
            .or_else(|| req.app_data::<RedirectUriConfig>())
            .unwrap_or(&DEFAULT_REDIRECT_URI),
    }
}

/// A route's [`Answer`] as a response; a failure gets the default error page
/// ([`failure_page`]).
pub fn respond(answer: Answer) -> HttpResponse {
    match answer {
        Answer::ToProvider(url) => found(&url),
        Answer::SeeOther(to) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, &*to))
            .finish(),
        Answer::Body(status, content_type, body) => {
            let mut response = HttpResponse::build(status_of(status));
            response.content_type(content_type);
            if content_type == JSON {
                // Answers about a user's login: never kept by a cache.
                response.insert_header((header::CACHE_CONTROL, "no-store"));
            }
            response.body(body)
        }
        Answer::Resubmit(page) => resubmit_response(&page),
        Answer::Failed(failure) => failure_page(&failure),
        Answer::Acknowledged => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
    }
}

fn status_of(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A [`Failure`] as JSON `{"error", "error_description"}` with its status.
pub fn failure_json(failure: &Failure) -> HttpResponse {
    HttpResponse::build(status_of(failure.status)).json(failure.json())
}

/// A [`Failure`] as the default HTML error page ([`ferroauth::html::error_page`]).
pub fn failure_page(failure: &Failure) -> HttpResponse {
    HttpResponse::build(status_of(failure.status))
        .content_type("text/html; charset=utf-8")
        .body(failure.page())
}

/// The registry of the app: `web::Data<OAuth>` or a plain `OAuth` in the app data. (axum
/// handlers take it as state instead.)
pub fn registry(req: &HttpRequest) -> Result<OAuth, AuthError> {
    req.app_data::<web::Data<OAuth>>()
        .map(|data| data.get_ref().clone())
        .or_else(|| req.app_data::<OAuth>().cloned())
        .ok_or_else(|| {
            AuthError(Error::Misconfigured {
                client: String::new(),
                reason: "no registry: add .app_data(web::Data::new(oauth)) to the App".into(),
            })
        })
}

/// A ferroauth [`Error`] as an actix-web error: the status of [`ferroauth::web::http_status`]
/// (400 bad callback, 404 unknown client, 502 provider failure, 504 provider timeout, 503
/// session store down, 500 misconfiguration) and a JSON body
/// `{"error": code, "error_description": text}`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct AuthError(#[from] pub Error);

impl ResponseError for AuthError {
    fn status_code(&self) -> StatusCode {
        status_of(ferroauth::web::http_status(&self.0))
    }

    fn error_response(&self) -> HttpResponse {
        respond(Answer::fail(true, &Failure::of(&self.0)))
    }
}

impl AuthError {
    /// The HTTP status for this error ([`ResponseError::status_code`]).
    pub fn status(&self) -> StatusCode {
        self.status_code()
    }
}

/// The redirect to the provider: `302 Found` with `Cache-Control: no-store`, since the URL
/// carries a one-time state.
#[derive(Debug, Clone)]
pub struct LoginRedirect(pub url::Url);

impl Responder for LoginRedirect {
    type Body = actix_web::body::BoxBody;

    fn respond_to(self, _req: &HttpRequest) -> HttpResponse {
        found(&self.0)
    }
}

fn found(url: &url::Url) -> HttpResponse {
    match HeaderValue::from_str(url.as_str()) {
        Ok(location) => HttpResponse::Found()
            .insert_header((header::LOCATION, location))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

/// The callback's parameters: the query string of a GET, or the form body of a POST
/// (`response_mode=form_post`).
///
/// A form_post callback is a cross-site POST, which does not carry a `SameSite=Lax`
/// session cookie. When a POST arrives without the session, the extractor fails with
/// [`CallbackRejection::Resubmit`]: a page from the app's own origin that posts the same
/// fields again, this time with the cookie ([`ferroauth::form_post`]), to the path the
/// client sent (inside a `web::scope`, the scope's prefix included).
#[derive(Debug, Clone)]
pub struct Callback(pub CallbackParams);

/// Why the [`Callback`] extractor did not produce parameters; answers as a response.
#[derive(Debug, thiserror::Error)]
pub enum CallbackRejection {
    /// The callback is malformed: 400 with the error's code.
    #[error("{0}")]
    Invalid(AuthError),
    /// A form_post callback without the session: the page that posts it again from the
    /// app's own origin.
    #[error("a form_post callback without the session")]
    Resubmit(ResubmitPage),
}

impl ResponseError for CallbackRejection {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Invalid(e) => e.status_code(),
            Self::Resubmit(_) => StatusCode::OK,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Invalid(e) => e.error_response(),
            Self::Resubmit(page) => resubmit_response(page),
        }
    }
}

/// A [`ResubmitPage`] as a response, with its headers.
pub fn resubmit_response(page: &ResubmitPage) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    for (name, value) in page.headers() {
        response.insert_header((name, value));
    }
    response.body(page.html().to_owned())
}

impl Callback {
    /// Reads a callback request ([`RouteRequest::callback_form`]).
    pub(crate) async fn read(
        req: &HttpRequest,
        mut payload: Payload,
    ) -> Result<CallbackForm, Error> {
        let post = req.method() == Method::POST;
        let mut body = web::BytesMut::new();
        while let Some(chunk) = match post {
            true => payload.next().await,
            false => None,
        } {
            let chunk = chunk.map_err(|e| {
                Error::InvalidCallback(format!("the callback body did not arrive: {e}"))
            })?;
            // One byte over the limit is enough for the core to refuse it.
            let room = (MAX_CALLBACK_BODY + 1).saturating_sub(body.len());
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if room <= chunk.len() {
                break;
            }
        }
        route_request(req).callback_form(post, &body, session_arrived(req))
    }
}

impl FromRequest for Callback {
    type Error = CallbackRejection;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (req, payload) = (req.clone(), payload.take());
        Box::pin(async move {
            match Self::read(&req, payload).await {
                Ok(CallbackForm::Params(params)) => Ok(Callback(params)),
                Ok(CallbackForm::Resubmit(page)) => Err(CallbackRejection::Resubmit(page)),
                Err(e) => Err(CallbackRejection::Invalid(AuthError(e))),
            }
        })
    }
}

/// Whether the request brought the app's session ([`AuthSession`]'s own answer), or, with
/// no session middleware installed, any cookie at all.
fn session_arrived(req: &HttpRequest) -> bool {
    AuthSession::of(req).map_or_else(
        || req.headers().contains_key(header::COOKIE),
        |session| session.is_present(),
    )
}

/// Builds absolute URLs for this app ([`AppUrl`]): scheme and host from the request, or
/// from `X-Forwarded-Proto`/`X-Forwarded-Host` behind a trusted proxy, or a fixed public
/// URL, as the [`RedirectUriConfig`] in the app data says (`web::Data` or plain); without
/// one, no forwarded header is trusted.
#[derive(Debug, Clone)]
pub struct RedirectUri(pub AppUrl);

impl RedirectUri {
    /// The app's URL for a request.
    pub fn of(req: &HttpRequest) -> Result<Self, AuthError> {
        Ok(Self(route_request(req).app_url()?))
    }
}

impl FromRequest for RedirectUri {
    type Error = AuthError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Self::of(req))
    }
}

/// The app's URL: `uri.to(path)`, `uri.base()` ([`AppUrl`]).
impl std::ops::Deref for RedirectUri {
    type Target = AppUrl;

    fn deref(&self) -> &AppUrl {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;
    use ferroauth::form_post;

    async fn extract(req: TestRequest) -> Result<Callback, CallbackRejection> {
        let (req, mut payload) = req.to_http_parts();
        Callback::from_request(&req, &mut payload).await
    }

    fn form(body: &str) -> TestRequest {
        TestRequest::post()
            .uri("/auth/x?tab=2")
            .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
            .set_payload(body.to_owned())
    }

    #[actix_web::test]
    async fn callback_from_query_and_form() {
        let Callback(p) = extract(TestRequest::get().uri("/auth/x?code=c&state=s"))
            .await
            .unwrap();
        assert_eq!(p.get("code"), Some("c"));
        let with_cookie = form("code=c2&state=s2").insert_header((header::COOKIE, "id=x"));
        let Callback(p) = extract(with_cookie).await.unwrap();
        assert_eq!(p.get("state"), Some("s2"));
        let Err(CallbackRejection::Invalid(e)) =
            extract(form(&"a".repeat(MAX_CALLBACK_BODY + 1))).await
        else {
            panic!("an oversized body is invalid");
        };
        assert_eq!(e.0.code(), "callback_invalid");
        assert_eq!(e.status_code(), StatusCode::BAD_REQUEST);
    }

    #[actix_web::test]
    async fn a_sessionless_form_post_is_posted_again_once() {
        let rejection = extract(form("code=c&state=s")).await.unwrap_err();
        let CallbackRejection::Resubmit(page) = &rejection else {
            panic!("expected the re-post page, got {rejection:?}");
        };
        assert!(page.html().contains("action=\"/auth/x?tab=2\""));
        let response = rejection.error_response();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers().get(header::CACHE_CONTROL).unwrap(),
            "no-store"
        );
        let again = format!("code=c&state=s&{}=1", form_post::RESUBMITTED_FIELD);
        let Callback(p) = extract(form(&again)).await.unwrap();
        assert_eq!(p.get(form_post::RESUBMITTED_FIELD), None);
    }

    /// Inside a `web::scope` actix-web's request path is still the full one: the re-post
    /// page posts to it.
    #[actix_web::test]
    async fn a_scoped_form_post_is_posted_again_to_its_full_path() {
        use actix_web::{App, test};
        let page = |_: Callback| async { "logged in" };
        let app =
            App::new().service(web::scope("/prefix").route("/auth/{name}", web::post().to(page)));
        let app = test::init_service(app).await;
        let request = form("code=c&state=s")
            .uri("/prefix/auth/x?tab=2")
            .to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(response.status(), StatusCode::OK);
        let html = String::from_utf8(test::read_body(response).await.to_vec()).unwrap();
        assert!(html.contains("action=\"/prefix/auth/x?tab=2\""), "{html}");
    }

    #[actix_web::test]
    async fn redirect_uri_from_the_host_and_errors_as_json() {
        let req = TestRequest::get()
            .insert_header(("host", "127.0.0.1:8000"))
            .insert_header(("x-forwarded-host", "evil.example"))
            .to_http_request();
        assert_eq!(
            RedirectUri::of(&req).unwrap().to("/auth/a"),
            "http://127.0.0.1:8000/auth/a"
        );
        let e = AuthError(Error::UnknownClient("x".into()));
        assert_eq!(e.status_code(), StatusCode::NOT_FOUND);
        let response = AuthError(Error::Session("down".into())).error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
