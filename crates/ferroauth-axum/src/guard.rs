//! Protected routes: the [`LoggedIn`] extractor for one handler, and
//! [`LoginRequiredExt::login_required`] for a whole router, both checking the core's
//! [`LoginRequired`] rule.
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use ferroauth_axum::guard::{LoggedIn, LoginRequired, LoginRequiredExt as _};
//!
//! // One handler: any login.
//! async fn me(LoggedIn(who): LoggedIn) -> String {
//!     format!("logged in with {:?}", who.at.keys().collect::<Vec<_>>())
//! }
//!
//! async fn settings() -> &'static str { "settings" }
//!
//! # fn app() -> Router<ferroauth::OAuth> {
//! // A router: a GitHub login of the last five minutes.
//! let sensitive = Router::new()
//!     .route("/settings", get(settings))
//!     .login_required(LoginRequired::new().provider("github").max_age(300));
//! Router::new().route("/me", get(me)).merge(sensitive)
//! # }
//! ```
//!
//! Not logged in, a browser gets a 303 to the login route with `next` set to the path it
//! asked for, and a JSON request a 401 `{"error": "login_required"}`
//! ([`ferroauth::web::guard`] has the whole table).

use axum::Router;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ferroauth::Error;
use ferroauth::session::SignedIn;
pub use ferroauth::web::guard::LoginRequired;

use crate::{AuthSession, route_request};

/// Who the request's session is logged in as, for a handler that needs any login
/// ([`LoginRequired::new`]); a request without one is refused as the [module docs](self)
/// say. Behind [`LoginRequiredExt::login_required`], the layer's rule was already checked
/// and its result is reused.
#[derive(Debug, Clone)]
pub struct LoggedIn(pub SignedIn);

impl<S: Send + Sync> FromRequestParts<S> for LoggedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if let Some(checked) = parts.extensions.get::<LoggedIn>() {
            return Ok(checked.clone());
        }
        check(&LoginRequired::new(), parts).await.map(LoggedIn)
    }
}

/// Checks `rule` for the request of `parts`; the refusal as a response.
async fn check(rule: &LoginRequired, parts: &Parts) -> Result<SignedIn, Response> {
    let result = match AuthSession::from_extensions(&parts.extensions) {
        Some(session) => rule.check(&session).await,
        None => Err(Error::Session(
            "no session layer: add SessionConfig::apply or apply_sealed to the router".into(),
        )),
    };
    result.map_err(|e| {
        let req = route_request(&parts.uri, &parts.headers, &parts.extensions);
        crate::respond(rule.refuse(&e, &req))
    })
}

/// Protects every route of a router with a [`LoginRequired`] rule.
pub trait LoginRequiredExt {
    /// Refuses, as the [module docs](self) say, every request to this router's routes
    /// without a login that meets `rule` (a request for no route still gets its 404).
    fn login_required(self, rule: LoginRequired) -> Self;
}

impl<S: Clone + Send + Sync + 'static> LoginRequiredExt for Router<S> {
    fn login_required(self, rule: LoginRequired) -> Self {
        let rule = std::sync::Arc::new(rule);
        self.route_layer(axum::middleware::from_fn(
            move |req: Request, next: Next| {
                let rule = rule.clone();
                async move {
                    let (mut parts, body) = req.into_parts();
                    match check(&rule, &parts).await {
                        Ok(signed) => {
                            parts.extensions.insert(LoggedIn(signed));
                            next.run(Request::from_parts(parts, body)).await
                        }
                        Err(refused) => refused.into_response(),
                    }
                }
            },
        ))
    }
}
