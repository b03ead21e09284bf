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
//! | `Domain` | none | the cookie belongs to this host alone |
//! | name | `__Host-id` when `Secure`, `id` over plain http | a sibling subdomain cannot plant it |
//!
//! and wraps the store in [`GuardedStore`] with the [`session_store_guard`] middleware, so
//! that an unavailable store answers 503 `session_unavailable`.
//!
//! **Cookie names** ([`ferroauth::cookies`]): another host under the same parent
//! domain (`evil.example.com` beside `app.example.com`) can set a `Domain=example.com`
//! cookie named `id`, and the browser sends it to the app: the victim would use the
//! attacker's session. Browsers let only the app's own host set a `__Host-` cookie, so
//! behind https the session cookie is `__Host-id` and the sealed cookies
//! ([`apply_sealed`](SessionsExt::apply_sealed)) `__Host-fa_...`. Plain-http loopback
//! development keeps `id` and `fa_...` (browsers refuse `__Host-` without `Secure`).
//! [`cookie_name`](SessionConfig::cookie_name) and
//! [`sealed_cookie_prefix`](SessionConfig::sealed_cookie_prefix) name them otherwise; a
//! `__Host-` name without `Secure` is an `invalid_settings` error. A request that sends the
//! session cookie twice (the app's own and a planted one) has no session:
//! [`apply`](SessionsExt::apply) strips both copies before tower-sessions reads them
//! ([`strip_duplicated_session_cookie`]).
//!
//! With [`SessionConfig::seal_tokens`], the users' access and refresh tokens are sealed
//! (AES-256-GCM) in the server-side store, so that a dump of it holds no usable token
//! ([`ferroauth::session::at_rest`] says what that protects against, and what not).
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use ferroauth_axum::memory_store::MemoryStore;
//! use ferroauth_axum::sessions::{SessionConfig, SessionsExt as _};
//!
//! # fn app() -> Result<Router, ferroauth::Error> {
//! // Secure cookies for https://app.example; none for http://127.0.0.1:8000.
//! let sessions = SessionConfig::for_public_url("https://app.example")?;
//! let app: Router = sessions.apply(
//!     Router::new().route("/", get(|| async { "hi" })),
//!     MemoryStore::new(),
//! );
//! # Ok(app) }
//! ```

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use ferroauth::cookies::without_duplicated_cookie;
use ferroauth::session::index::SharedIndex;
use ferroauth::session::sealed::CookieKeys;
use ferroauth::session::store::{OpenStore, StoreChoice, StoreError};
pub use ferroauth::web::SessionConfig;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer, SessionStore};

pub use crate::sealed_cookies::sealed_cookies;
pub use crate::store_guard::{GuardedStore, session_store_guard};

/// The default session cookie name over plain http (tower-sessions' own); behind https
/// it is [`ferroauth::cookies::HOST_SESSION_COOKIE`] (`__Host-id`).
pub const DEFAULT_COOKIE_NAME: &str = ferroauth::cookies::PLAIN_SESSION_COOKIE;

/// The session settings ([`SessionConfig`], the same on every framework) installed on an
/// axum router: see the [module docs](self).
pub trait SessionsExt {
    /// The tower-sessions layer over `store` (wrapped in [`GuardedStore`]). Prefer
    /// [`apply`](Self::apply), which adds the [`session_store_guard`] and
    /// [`strip_duplicated_session_cookie`] middleware and the token sealer of
    /// [`SessionConfig::seal_tokens`] too; with this layer alone, add the middleware
    /// yourself outside the layer (tokens are then not sealed).
    fn layer<S: SessionStore + Clone>(&self, store: S) -> SessionManagerLayer<GuardedStore<S>>;

    /// `router` with sessions in sealed cookies under `keys` ([`sealed_cookies`]):
    /// no server-side state. The cookies are `SameSite=Lax; HttpOnly; Path=/`, `Secure` and
    /// named as the config says; they live as long as an unused session does.
    fn apply_sealed<St>(&self, router: Router<St>, keys: CookieKeys) -> Router<St>
    where
        St: Clone + Send + Sync + 'static;

    /// `router` with sessions in `store`: the session layer and, outside it, the
    /// duplicated-cookie strip, the store-failure guard and the token sealer, if any.
    fn apply<St, S>(&self, router: Router<St>, store: S) -> Router<St>
    where
        St: Clone + Send + Sync + 'static,
        S: SessionStore + Clone;

    /// `router` with sessions in the store `choice` names ([`crate::stores`]), opened by
    /// [`SessionConfig::open_store`] (a wrong URL fails here, at start). The cookie store
    /// uses the config's [`keys`](SessionConfig::keys); without them, a random key (logged
    /// at warn), so cookies then die with the process.
    fn apply_store<St>(
        &self,
        router: Router<St>,
        choice: &StoreChoice,
    ) -> impl Future<Output = Result<Router<St>, StoreError>> + Send
    where
        St: Clone + Send + Sync + 'static;

    /// `router` with sessions in a store already opened ([`SessionConfig::open_store`]),
    /// and the store's index of sessions by owner for the routes that end sessions by
    /// owner (back-channel logout, "sign out everywhere").
    fn apply_open<St>(&self, router: Router<St>, store: OpenStore) -> Router<St>
    where
        St: Clone + Send + Sync + 'static;
}

impl SessionsExt for SessionConfig {
    fn layer<S: SessionStore + Clone>(&self, store: S) -> SessionManagerLayer<GuardedStore<S>> {
        SessionManagerLayer::new(GuardedStore::new(store))
            .with_name(self.cookie_names().session().to_owned())
            .with_same_site(SameSite::Lax)
            .with_http_only(true)
            .with_secure(self.is_secure())
            .with_path("/")
            .with_expiry(Expiry::OnInactivity(self.idle_lifetime()))
    }

    fn apply_sealed<St>(&self, router: Router<St>, keys: CookieKeys) -> Router<St>
    where
        St: Clone + Send + Sync + 'static,
    {
        router.layer(axum::middleware::from_fn_with_state(
            Arc::new(self.cookie_sealer(keys)),
            crate::sealed_cookies::sealed_cookies,
        ))
    }

    fn apply<St, S>(&self, router: Router<St>, store: S) -> Router<St>
    where
        St: Clone + Send + Sync + 'static,
        S: SessionStore + Clone,
    {
        apply_indexed(self, router, store, None)
    }

    async fn apply_store<St>(
        &self,
        router: Router<St>,
        choice: &StoreChoice,
    ) -> Result<Router<St>, StoreError>
    where
        St: Clone + Send + Sync + 'static,
    {
        Ok(self.apply_open(router, self.open_store(choice).await?))
    }

    fn apply_open<St>(&self, router: Router<St>, store: OpenStore) -> Router<St>
    where
        St: Clone + Send + Sync + 'static,
    {
        let index = store.index();
        match store {
            OpenStore::Memory(store) => apply_indexed(self, router, store, index),
            OpenStore::Shared(store) => apply_indexed(self, router, store, index),
            OpenStore::Cookie(keys) => self.apply_sealed(router, keys),
        }
    }
}

/// [`SessionsExt::apply`], and the store's index of sessions by owner for the routes that
/// end sessions by owner (back-channel logout, "sign out everywhere"), which find it in
/// the request's extensions.
fn apply_indexed<St, S>(
    config: &SessionConfig,
    router: Router<St>,
    store: S,
    index: Option<SharedIndex>,
) -> Router<St>
where
    St: Clone + Send + Sync + 'static,
    S: SessionStore + Clone,
{
    let guard = Guard {
        name: Arc::from(config.cookie_names().session()),
        index,
    };
    // One middleware for every job: each layer costs an allocation and a service clone
    // per request, on every login.
    let router = router
        .layer(config.layer(store))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(guard),
            session_guard,
        ));
    match config.token_sealer() {
        // AuthSession takes it from the request's extensions.
        Some(sealer) => router.layer(axum::Extension(sealer.clone())),
        None => router,
    }
}

/// What the session guard middleware needs.
struct Guard {
    name: Arc<str>,
    index: Option<SharedIndex>,
}

/// Middleware (outside the session layer): a request that sends the session cookie `name`
/// more than once loses every copy, so that tower-sessions, which would take the first,
/// sees no session instead of possibly a planted one ([`without_duplicated_cookie`]).
pub async fn strip_duplicated_session_cookie(
    State(name): State<Arc<str>>,
    mut request: Request,
    next: Next,
) -> Response {
    strip_duplicated(&name, &mut request);
    next.run(request).await
}

/// [`strip_duplicated_session_cookie`] and [`session_store_guard`] as the one middleware
/// that [`SessionsExt::apply`] adds; it also hands the routes the store's index.
async fn session_guard(
    State(guard): State<Arc<Guard>>,
    mut request: Request,
    next: Next,
) -> Response {
    strip_duplicated(&guard.name, &mut request);
    if let Some(index) = &guard.index {
        request.extensions_mut().insert(Arc::clone(index));
    }
    session_store_guard(request, next).await
}

fn strip_duplicated(name: &str, request: &mut Request) {
    let cookies = request.headers().get_all(header::COOKIE).iter();
    let values: Vec<&str> = cookies.filter_map(|v| v.to_str().ok()).collect();
    if let Some(rest) = without_duplicated_cookie(&values, name) {
        let rest = HeaderValue::from_str(&rest).ok().filter(|v| !v.is_empty());
        let headers = request.headers_mut();
        headers.remove(header::COOKIE);
        headers.extend(rest.map(|v| (header::COOKIE, v)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory_store::MemoryStore;
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
            MemoryStore::new(),
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
        // __Host-: Secure, Path=/ and no Domain, or browsers refuse it.
        assert!(cookie.starts_with("__Host-id="), "{cookie}");
        for wanted in ["SameSite=Lax", "HttpOnly", "Secure", "Path=/"] {
            assert!(cookie.contains(wanted), "{wanted} missing: {cookie}");
        }
        assert!(!cookie.contains("Domain"), "{cookie}");
        let dev = SessionConfig::for_public_url("http://127.0.0.1:8000").unwrap();
        let cookie = set_cookie(&dev).await;
        assert!(
            cookie.starts_with("id="),
            "plain http keeps the plain name: {cookie}"
        );
        let cookie = set_cookie(&dev.cookie_name("app_session").unwrap()).await;
        assert!(cookie.starts_with("app_session="), "{cookie}");
        assert!(!cookie.contains("Secure"), "{cookie}");
        assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    }

    #[tokio::test]
    async fn a_session_cookie_sent_twice_is_no_session() {
        let app: Router = SessionConfig::new().apply(
            Router::new()
                .route(
                    "/set/{user}",
                    get(
                        |s: Session, axum::extract::Path(user): axum::extract::Path<String>| async move {
                            s.insert("user", user).await.unwrap()
                        },
                    ),
                )
                .route(
                    "/get",
                    get(|s: Session| async move {
                        s.get::<String>("user").await.unwrap().unwrap_or_default()
                    }),
                ),
            MemoryStore::new(),
        );
        let get = |cookies: Vec<String>| {
            let app = app.clone();
            async move {
                let mut request = Request::get("/get");
                for cookie in cookies {
                    request = request.header(header::COOKIE, cookie);
                }
                let response = app
                    .oneshot(request.body(axum::body::Body::empty()).unwrap())
                    .await
                    .unwrap();
                let body = axum::body::to_bytes(response.into_body(), 1024)
                    .await
                    .unwrap();
                String::from_utf8(body.to_vec()).unwrap()
            }
        };
        let session_of = |user: &'static str| {
            let app = app.clone();
            async move {
                let request = Request::get(format!("/set/{user}"));
                let response = app
                    .oneshot(request.body(axum::body::Body::empty()).unwrap())
                    .await
                    .unwrap();
                response.headers()[header::SET_COOKIE]
                    .to_str()
                    .unwrap()
                    .split(';')
                    .next()
                    .unwrap()
                    .to_owned()
            }
        };
        let own = session_of("victim").await;
        let planted = session_of("attacker").await;
        assert_eq!(get(vec![format!("a=1; {own}")]).await, "victim");
        assert_eq!(get(vec![planted.clone()]).await, "attacker");
        // Another copy, in the same header or another, first or last: no session, never
        // the attacker's.
        for cookies in [
            vec![format!("{planted}; {own}")],
            vec![format!("{own}; a=1"), planted.clone()],
            vec![format!("{own}; {own}")],
        ] {
            assert_eq!(get(cookies.clone()).await, "", "{cookies:?}");
        }
    }

    #[test]
    fn secure_except_for_plain_http_on_loopback() {
        let secure = |url: &str| SessionConfig::for_public_url(url).unwrap().is_secure();
        assert!(secure("https://app.example"));
        assert!(!secure("http://localhost:8000"));
        assert!(SessionConfig::for_public_url("not a url").is_err());
    }
}
