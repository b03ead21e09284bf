//! Protected routes: the [`LoggedIn`] extractor for one handler, and the [`Protect`]
//! middleware for a whole scope, both checking the core's [`LoginRequired`] rule, as
//! `ferroauth_axum::guard` does.
//!
//! ```no_run
//! use actix_web::{App, web};
//! use ferroauth_actix::guard::{LoggedIn, LoginRequired, Protect};
//!
//! // One handler: any login.
//! async fn me(LoggedIn(who): LoggedIn) -> String {
//!     format!("logged in with {:?}", who.at.keys().collect::<Vec<_>>())
//! }
//!
//! async fn settings() -> &'static str { "settings" }
//!
//! # fn app() {
//! // A scope: a GitHub login of the last five minutes.
//! let sensitive = web::scope("/settings")
//!     .wrap(Protect::new(LoginRequired::new().provider("github").max_age(300)))
//!     .route("", web::get().to(settings));
//! let _app = App::new().route("/me", web::get().to(me)).service(sensitive);
//! # }
//! ```
//!
//! Not logged in, a browser gets a 303 to the login route with `next` set to the path it
//! asked for, and a JSON request a 401 `{"error": "login_required"}`
//! ([`ferroauth::web::guard`] has the whole table).

use std::rc::Rc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::{FromRequest, HttpMessage as _, HttpRequest, HttpResponse};
use ferroauth::session::SignedIn;
pub use ferroauth::web::guard::LoginRequired;
use futures_util::future::LocalBoxFuture;

use crate::{AuthSession, route_request};

/// Who the request's session is logged in as, for a handler that needs any login
/// ([`LoginRequired::new`]); a request without one is refused as the [module docs](self)
/// say. Behind [`Protect`], the middleware's rule was already checked and its result is
/// reused.
#[derive(Debug, Clone)]
pub struct LoggedIn(pub SignedIn);

/// The refusal of a request without the login a rule asks for (a redirect to the login,
/// or a 401): its response, kept as parts so that actix-web can build it again.
#[derive(Debug, Clone)]
pub struct LoginRefused {
    status: actix_web::http::StatusCode,
    headers: actix_web::http::header::HeaderMap,
    body: actix_web::web::Bytes,
}

impl LoginRefused {
    fn of(response: HttpResponse) -> Self {
        let (status, headers) = (response.status(), response.headers().clone());
        let body = response.into_body().try_into_bytes().unwrap_or_default();
        Self {
            status,
            headers,
            body,
        }
    }
}

impl std::fmt::Display for LoginRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "login required ({})", self.status)
    }
}

impl actix_web::ResponseError for LoginRefused {
    fn status_code(&self) -> actix_web::http::StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        for (name, value) in &self.headers {
            response.insert_header((name.clone(), value.clone()));
        }
        response.body(self.body.clone())
    }
}

impl FromRequest for LoggedIn {
    type Error = LoginRefused;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            if let Some(checked) = req.extensions().get::<LoggedIn>() {
                return Ok(checked.clone());
            }
            check(&LoginRequired::new(), &req)
                .await
                .map(LoggedIn)
                .map_err(LoginRefused::of)
        })
    }
}

/// Checks `rule` for `req`; the refusal as a response.
async fn check(rule: &LoginRequired, req: &HttpRequest) -> Result<SignedIn, HttpResponse> {
    let result = match AuthSession::required(req) {
        Ok(session) => rule.check(&session).await,
        Err(e) => Err(e.0),
    };
    result.map_err(|e| crate::respond(rule.refuse(&e, &route_request(req))))
}

/// Middleware that refuses, as the [module docs](self) say, every request to the scope or
/// app it wraps without a login that meets its rule.
#[derive(Debug, Clone)]
pub struct Protect(Rc<LoginRequired>);

impl Protect {
    /// Protects with `rule`.
    pub fn new(rule: LoginRequired) -> Self {
        Self(Rc::new(rule))
    }
}

impl<S, B> Transform<S, ServiceRequest> for Protect
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = Protected<S>;
    type InitError = ();
    type Future = std::future::Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        std::future::ready(Ok(Protected {
            service: Rc::new(service),
            rule: self.0.clone(),
        }))
    }
}

/// A service behind [`Protect`].
#[derive(Debug)]
pub struct Protected<S> {
    service: Rc<S>,
    rule: Rc<LoginRequired>,
}

impl<S, B> Service<ServiceRequest> for Protected<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let (service, rule) = (self.service.clone(), self.rule.clone());
        // A path no route serves stays a 404, as behind axum's route layer: the check is
        // for pages, not for every path under a scope.
        if req.match_pattern().is_none() {
            return Box::pin(async move { Ok(service.call(req).await?.map_into_left_body()) });
        }
        Box::pin(async move {
            match check(&rule, req.request()).await {
                Ok(signed) => {
                    req.extensions_mut().insert(LoggedIn(signed));
                    Ok(service.call(req).await?.map_into_left_body())
                }
                Err(refused) => Ok(req.into_response(refused).map_into_right_body()),
            }
        })
    }
}
