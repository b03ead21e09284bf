//! The session cookie a login needs, configured once: [`SessionConfig`].
//!
//! A provider is always on another site than the app, so its redirect back to the
//! callback is a cross-site navigation. Browsers send a `SameSite=Strict` cookie on no
//! cross-site request at all, and tower-sessions' default is `Strict`: with it the
//! callback arrives without the session and no login completes. `SameSite=Lax` cookies
//! are sent on cross-site top-level GET navigations (the query-mode callback) and on
//! nothing else cross-site, which keeps their CSRF protection; `response_mode=form_post`
//! callbacks are handled by the [`Callback`](crate::Callback) extractor (see
//! [`ferroauth::form_post`]).
//!
//! [`SessionConfig`] therefore sets, on the session cookie:
//!
//! | attribute | value | why |
//! |---|---|---|
//! | `SameSite` | `Lax` | comes back on the provider's redirect, not on cross-site POSTs |
//! | `HttpOnly` | yes | scripts never see the session id |
//! | `Secure` | yes, except for a plain-http loopback URL | never sent over plain http |
//! | `Path` | `/` | the callback route sees the cookie the login route set |
//!
//! and wraps the store in [`GuardedStore`] with the [`session_store_guard`] middleware, so
//! that an unavailable store answers 503 `session_unavailable`.
//!
//! With [`SessionConfig::seal_tokens`], the users' access and refresh tokens are sealed
//! (AES-256-GCM) in the server-side store, so that a dump of it holds no usable token
//! ([`ferroauth::session::at_rest`] says what that protects against, and what not).
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use ferroauth_axum::memory_store::PurgingMemoryStore;
//! use ferroauth_axum::sessions::SessionConfig;
//!
//! # fn app() -> Result<Router, ferroauth::Error> {
//! // Secure cookies for https://app.example; none for http://127.0.0.1:8000.
//! let sessions = SessionConfig::for_public_url("https://app.example")?;
//! let app: Router = sessions.apply(
//!     Router::new().route("/", get(|| async { "hi" })),
//!     PurgingMemoryStore::new(),
//! );
//! # Ok(app) }
//! ```

use std::borrow::Cow;

use std::sync::Arc;

use axum::Router;
use ferroauth::Error;
use ferroauth::session::at_rest::TokenSealer;
use ferroauth::session::sealed::{CookieKeys, CookieSealer};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer, SessionStore};

use crate::store_guard::{GuardedStore, session_store_guard};

/// The default session cookie name (tower-sessions' own).
pub const DEFAULT_COOKIE_NAME: &str = "id";

/// How long an unused session lives by default.
pub const DEFAULT_INACTIVITY: time::Duration = time::Duration::hours(8);

/// The session cookie's settings: see the [module docs](self).
#[derive(Debug, Clone)]
pub struct SessionConfig {
    name: Cow<'static, str>,
    secure: bool,
    inactivity: time::Duration,
    tokens: Option<TokenSealer>,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl SessionConfig {
    /// `SameSite=Lax; HttpOnly; Secure; Path=/`, named `id`, 8 hours of inactivity.
    pub fn new() -> Self {
        Self {
            name: Cow::Borrowed(DEFAULT_COOKIE_NAME),
            secure: true,
            inactivity: DEFAULT_INACTIVITY,
            tokens: None,
        }
    }

    /// The settings for an app served at `public_url`: `Secure` unless the URL is plain
    /// http on a loopback host (`localhost`, `127.0.0.0/8`, `[::1]`), where browsers would
    /// refuse or not need it during development. Plain http anywhere else keeps `Secure`:
    /// an app that really serves logins over plain http must say so with
    /// [`secure(false)`](Self::secure).
    pub fn for_public_url(public_url: &str) -> Result<Self, Error> {
        Ok(Self::new().secure(ferroauth::web::secure_cookies_for(public_url)?))
    }

    /// Whether the cookie is `Secure` (sent over https only). Turning it off for an app
    /// served over https, or outside loopback, is an explicit opt-out.
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// The cookie's name (default `id`). With several apps on one host, give each its own.
    pub fn cookie_name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }

    /// How long an unused session lives.
    pub fn inactivity(mut self, inactivity: time::Duration) -> Self {
        self.inactivity = inactivity;
        self
    }

    /// Whether the cookie will be `Secure`.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// Seals the users' tokens in the server-side store under `keys` (the first seals, all
    /// open: rotation as for sealed cookies; the same keys may serve both), through
    /// [`apply`](Self::apply). Tokens stored in clear before are dropped at their next read
    /// (the user logs in again); [`ferroauth::session::at_rest`] says why. Sessions in
    /// sealed cookies ([`apply_sealed`](Self::apply_sealed)) are sealed whole already.
    pub fn seal_tokens(mut self, keys: impl Into<TokenSealer>) -> Self {
        self.tokens = Some(keys.into());
        self
    }

    /// Whether tokens are sealed in the server-side store.
    pub fn seals_tokens(&self) -> bool {
        self.tokens.is_some()
    }

    /// The tower-sessions layer over `store` (wrapped in [`GuardedStore`]). Prefer
    /// [`apply`](Self::apply), which adds the [`session_store_guard`] middleware and the
    /// token sealer of [`seal_tokens`](Self::seal_tokens) too; with this layer alone, add
    /// the guard yourself outside the layer (tokens are then not sealed).
    pub fn layer<S: SessionStore + Clone>(&self, store: S) -> SessionManagerLayer<GuardedStore<S>> {
        SessionManagerLayer::new(GuardedStore::new(store))
            .with_name(self.name.clone())
            .with_same_site(SameSite::Lax)
            .with_http_only(true)
            .with_secure(self.secure)
            .with_path("/")
            .with_expiry(Expiry::OnInactivity(self.inactivity))
    }

    /// `router` with sessions in sealed cookies under `keys` ([`crate::sealed_cookies`]):
    /// no server-side state. The cookies are `SameSite=Lax; HttpOnly; Path=/` and `Secure`
    /// as this config says; they live as long as [`inactivity`](Self::inactivity).
    pub fn apply_sealed<St>(&self, router: Router<St>, keys: CookieKeys) -> Router<St>
    where
        St: Clone + Send + Sync + 'static,
    {
        let lifetime = std::time::Duration::from_secs(
            u64::try_from(self.inactivity.whole_seconds()).unwrap_or(0),
        );
        let sealer = Arc::new(
            CookieSealer::new(keys)
                .secure(self.secure)
                .max_age(lifetime),
        );
        router.layer(axum::middleware::from_fn_with_state(
            sealer,
            crate::sealed_cookies::sealed_cookies,
        ))
    }

    /// `router` with sessions in `store`: the session layer and, outside it, the
    /// store-failure guard and the token sealer, if any.
    pub fn apply<St, S>(&self, router: Router<St>, store: S) -> Router<St>
    where
        St: Clone + Send + Sync + 'static,
        S: SessionStore + Clone,
    {
        let router = router
            .layer(self.layer(store))
            .layer(axum::middleware::from_fn(session_store_guard));
        match &self.tokens {
            // AuthSession takes it from the request's extensions.
            Some(sealer) => router.layer(axum::Extension(sealer.clone())),
            None => router,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory_store::PurgingMemoryStore;
    use axum::http::{Request, header};
    use axum::routing::get;
    use tower::ServiceExt;
    use tower_sessions::Session;

    async fn set_cookie(config: &SessionConfig) -> String {
        let app: Router = config.apply(
            Router::new().route(
                "/",
                get(|s: Session| async move {
                    s.insert("k", 1).await.unwrap();
                }),
            ),
            PurgingMemoryStore::new(),
        );
        let response = app
            .oneshot(Request::get("/").body(axum::body::Body::empty()).unwrap())
            .await
            .unwrap();
        response.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .to_owned()
    }

    #[tokio::test]
    async fn the_cookie_comes_back_on_a_cross_site_redirect() {
        let cookie = set_cookie(&SessionConfig::new()).await;
        assert!(cookie.starts_with("id="), "{cookie}");
        for wanted in ["SameSite=Lax", "HttpOnly", "Secure", "Path=/"] {
            assert!(cookie.contains(wanted), "{wanted} missing: {cookie}");
        }
        let dev = SessionConfig::for_public_url("http://127.0.0.1:8000").unwrap();
        let cookie = set_cookie(&dev.cookie_name("app_session")).await;
        assert!(cookie.starts_with("app_session="), "{cookie}");
        assert!(!cookie.contains("Secure"), "{cookie}");
        assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    }

    #[test]
    fn secure_except_for_plain_http_on_loopback() {
        let secure = |url: &str| SessionConfig::for_public_url(url).unwrap().is_secure();
        assert!(secure("https://app.example"));
        assert!(!secure("http://localhost:8000"));
        assert!(SessionConfig::for_public_url("not a url").is_err());
    }
}
