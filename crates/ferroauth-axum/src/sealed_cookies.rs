//! Sessions without server-side state: every entry in its own sealed (AES-256-GCM) cookie,
//! through [`ferroauth::session::sealed`]. This module is the axum wiring: the
//! [`sealed_cookies`] middleware reads the request's cookies into a
//! [`SealedCookies`] jar, which [`crate::AuthSession`] then uses, and writes what changed
//! back as `Set-Cookie`. [`crate::sessions::SessionsExt::apply_sealed`] installs it.
//!
//! ```no_run
//! # use axum::{Router, routing::get};
//! use ferroauth_axum::sessions::{SessionConfig, SessionsExt as _};
//! use ferroauth::session::sealed::CookieKeys;
//!
//! # fn app() -> Result<Router, Box<dyn std::error::Error>> {
//! let keys = CookieKeys::parse(&std::env::var("APP_COOKIE_KEYS")?)?;
//! let app: Router = SessionConfig::for_public_url("https://app.example")?
//!     .apply_sealed(Router::new().route("/", get(|| async { "hi" })), keys);
//! # Ok(app) }
//! ```

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::IntoResponse as _;
use axum::response::Response;
use ferroauth::session::sealed::{CookieSealer, SealedCookies};

/// Middleware: gives the request a [`SealedCookies`] jar and writes its changes as
/// `Set-Cookie`.
pub async fn sealed_cookies(
    State(sealer): State<Arc<CookieSealer>>,
    mut request: Request,
    next: Next,
) -> Response {
    let jar = SealedCookies::from_cookie_headers(
        sealer,
        request
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok()),
    );
    if let Err(e) = jar.end_if_revoked().await {
        return crate::AuthError(e).into_response();
    }
    if let Some(revocations) = jar.revocation_index() {
        // The routes that end sessions by owner find the list here.
        request.extensions_mut().insert(revocations);
    }
    request.extensions_mut().insert(jar.clone());
    let mut response = next.run(request).await;
    for value in jar.set_cookie_headers() {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}
