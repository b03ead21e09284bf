//! The session cookie a login needs, configured once: [`SessionConfig`].
//!
//! A provider is always on another site than the app, so its redirect back to the
//! callback is a cross-site navigation: only a `SameSite=Lax` (or `None`) cookie comes
//! with it. [`SessionsExt::middleware`] sets up actix-session's `SessionMiddleware` for
//! that, over any actix-session store:
//!
//! | attribute | value | why |
//! |---|---|---|
//! | `SameSite` | `Lax` | comes back on the provider's redirect, not on cross-site POSTs |
//! | `HttpOnly` | yes | scripts never see the session cookie |
//! | `Secure` | yes, except for a plain-http loopback URL | never sent over plain http |
//! | `Path` | `/` | the callback route sees the cookie the login route set |
//! | `Domain` | none | the cookie belongs to this host alone |
//! | name | `__Host-id` when `Secure`, `id` over plain http | a sibling subdomain cannot plant it |
//! | content | private (encrypted and authenticated with the app's `Key`) | see below |
//!
//! and wraps the store so that a failing store answers 503 `session_unavailable`, not
//! actix-session's empty 500.
//!
//! **Cookie names** ([`ferroauth::cookies`]): another host under the same parent
//! domain (`evil.example.com` beside `app.example.com`) can set a `Domain=example.com`
//! cookie named `id`, and the browser sends it to the app; with actix-session's cookie
//! store it would even be a whole session of the attacker's. Browsers let only the app's
//! own host set a `__Host-` cookie, so behind https the session cookie is `__Host-id` and
//! the sealed cookies ([`SessionsExt::sealed`]) `__Host-fa_...`. Plain-http loopback
//! development keeps `id` and `fa_...` (browsers refuse `__Host-` without `Secure`).
//! [`SessionConfig::cookie_name`] and [`SessionConfig::sealed_cookie_prefix`] name them
//! otherwise; a `__Host-` name without `Secure` is an `invalid_settings` error. A request
//! that sends the session cookie twice (the app's own and a planted one) has no session:
//! the middleware removes both copies before actix-session reads them (wrap it outside any
//! middleware that parses the request's cookies, which actix-web caches). `response_mode=form_post` callbacks are handled by the
//! [`Callback`](crate::Callback) extractor ([`ferroauth::form_post`]).
//!
//! **Why the cookie content is always private.** With a server-side store (Redis, the
//! [`MemoryStore`](crate::memory_store::MemoryStore)) the cookie holds only the session key,
//! and private content hides even that. With actix-session's `CookieSessionStore` the
//! cookie holds the whole session: the pending logins' PKCE verifiers and nonces, and the
//! tokens. A merely *signed* cookie would show them to anything that sees the cookie
//! (browser extensions, proxies' logs, a shared computer's profile), and a stolen verifier
//! or token is exactly what PKCE and server-side tokens exist to keep away; so this config
//! never makes a signed-only cookie. Even private, a `CookieSessionStore` cookie fails once
//! tokens outgrow the 4 KB a browser keeps per cookie; [`SessionsExt::sealed`] keeps
//! each entry in its own sealed cookie instead and drops the oldest pending logins rather
//! than failing.
//!
//! With [`SessionConfig::seal_tokens`], the users' access and refresh tokens are sealed
//! (AES-256-GCM) in the server-side store as well, so that a dump of the store (Redis)
//! holds no usable token ([`ferroauth::session::at_rest`] says what that protects against,
//! and what not). The private cookie above hides only the session key.
//!
//! ```no_run
//! use actix_web::{App, cookie::Key, web};
//! use ferroauth_actix::memory_store::MemoryStore;
//! use ferroauth_actix::sessions::{SessionConfig, SessionsExt as _};
//!
//! # fn app() -> Result<(), ferroauth::Error> {
//! // Secure cookies for https://app.example; none for http://127.0.0.1:8000.
//! let sessions = SessionConfig::for_public_url("https://app.example")?;
//! let (store, key) = (MemoryStore::new(), Key::generate());
//! let _factory = move || {
//!     App::new()
//!         .route("/", web::get().to(|| async { "hi" }))
//!         .wrap(sessions.middleware(store.clone(), key.clone()))
//! };
//! # Ok(()) }
//! ```

use std::rc::Rc;
use std::sync::Arc;

use actix_session::config::{CookieContentSecurity, PersistentSession, TtlExtensionPolicy};
use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_session::{SessionExt as _, SessionMiddleware};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::cookie::time::Duration;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpMessage as _, HttpResponse, ResponseError};
use ferroauth::cookies::without_duplicated_cookie;
use ferroauth::session::at_rest::TokenSealer;
use ferroauth::session::sealed::{CookieKeys, CookieSealer, KeyError, SealedCookies};
use ferroauth::session::store::guard::{bounded, watch};
use ferroauth::web::Failure;
pub use ferroauth::web::SessionConfig;
use futures_util::future::LocalBoxFuture;

use crate::AuthSession;
use crate::session::ServerSession;
use crate::stores::{Store, StoreChoice, StoreError, StoreSessions};

/// The default session cookie name over plain http (actix-session's own); behind https it
/// is [`ferroauth::cookies::HOST_SESSION_COOKIE`] (`__Host-id`).
pub const DEFAULT_COOKIE_NAME: &str = ferroauth::cookies::PLAIN_SESSION_COOKIE;

/// actix-session's cookie key (which encrypts the session cookie's content) from the app's
/// cookie-key text, `id:base64url-key[,...]` as [`CookieKeys::parse`] reads it: derived
/// from the current key, so that the one setting serves sealed cookies and actix-session,
/// and every instance given the same text reads the others' cookies. A text that is not
/// valid keys is a [`KeyError`], never a random key.
pub fn session_key(cookie_keys: &str) -> Result<Key, KeyError> {
    Ok(derived_key(&CookieKeys::parse(cookie_keys)?))
}

/// actix-session's key, derived from the current cookie key (32 bytes: what
/// `derive_from` needs at least).
fn derived_key(keys: &CookieKeys) -> Key {
    Key::derive_from(keys.current_key_secret().as_bytes())
}

/// The session settings ([`SessionConfig`], the same on every framework) as actix-web
/// middleware: see the [module docs](self).
pub trait SessionsExt {
    /// Sessions in an actix-session `store`, the cookie's content encrypted under `key`
    /// (64 bytes; the same on every instance that shares the store): actix-session's
    /// middleware set up as the [module docs](self) say, the bridge that gives handlers an
    /// [`AuthSession`], the store-failure guard and the strip of a duplicated session
    /// cookie, as one middleware for `App::wrap`.
    fn middleware<St: SessionStore + 'static>(&self, store: St, key: Key) -> Sessions<St>;

    /// Sessions with no server-side state: every entry in its own sealed (AES-256-GCM)
    /// cookie under `keys` ([`ferroauth::session::sealed`]), `SameSite=Lax; HttpOnly;
    /// Path=/`, `Secure` and named as the config says, living as long as an unused
    /// session does.
    fn sealed(&self, keys: CookieKeys) -> SealedSessions;

    /// The sessions of a store opened by URL ([`Store::open`]), whichever kind it is:
    /// [`middleware`](Self::middleware) for memory, a database or Redis (the cookie's
    /// content encrypted under `key`), [`sealed`](Self::sealed) for cookies. `Send`, for
    /// the `HttpServer::new` closure; each worker takes its middleware with
    /// [`StoreSessions::middleware`].
    fn for_store(&self, store: Store, key: Key) -> StoreSessions;

    /// The sessions of the store `choice` names, opened by [`SessionConfig::open_store`]
    /// (a wrong URL fails here, at start), with the cookie's key derived from the config's
    /// [`keys`](SessionConfig::keys) as [`session_key`] does (a random key without them:
    /// cookies then die with the process).
    fn apply_store(
        &self,
        choice: &StoreChoice,
    ) -> impl Future<Output = Result<StoreSessions, StoreError>>;
}

impl SessionsExt for SessionConfig {
    fn middleware<St: SessionStore + 'static>(&self, store: St, key: Key) -> Sessions<St> {
        let lifecycle = PersistentSession::default()
            .session_ttl(self.idle_lifetime())
            .session_ttl_extension_policy(TtlExtensionPolicy::OnEveryRequest);
        let inner = SessionMiddleware::builder(GuardedStore(store), key)
            .cookie_name(self.cookie_names().session().to_owned())
            .cookie_same_site(SameSite::Lax)
            .cookie_http_only(true)
            .cookie_secure(self.is_secure())
            .cookie_path("/".to_owned())
            .cookie_content_security(CookieContentSecurity::Private)
            .session_lifecycle(lifecycle)
            .build();
        Sessions {
            inner: Rc::new(inner),
            session_cookie: Rc::from(self.cookie_names().session()),
            tokens: self.token_sealer().cloned(),
        }
    }

    fn sealed(&self, keys: CookieKeys) -> SealedSessions {
        SealedSessions {
            sealer: Arc::new(self.cookie_sealer(keys)),
        }
    }

    fn for_store(&self, store: Store, key: Key) -> StoreSessions {
        StoreSessions::new(self, store, key)
    }

    async fn apply_store(&self, choice: &StoreChoice) -> Result<StoreSessions, StoreError> {
        let key = match self.cookie_keys() {
            Some(keys) => derived_key(keys),
            None => Key::generate(),
        };
        let store = Store::from(self.open_store(choice).await?);
        Ok(self.for_store(store, key))
    }
}

/// An actix-session store whose failures (and calls slower than
/// [`STORE_TIMEOUT`](ferroauth::session::store::STORE_TIMEOUT)) the [`Sessions`]
/// middleware answers as 503 ([`ferroauth::session::store::guard`], the policy both
/// adapters share).
#[derive(Debug, Clone)]
pub struct GuardedStore<St>(St);

type State = std::collections::HashMap<String, String>;

impl<St: SessionStore> SessionStore for GuardedStore<St> {
    async fn load(&self, key: &SessionKey) -> Result<Option<State>, LoadError> {
        bounded(self.0.load(key), |m| LoadError::Other(anyhow::anyhow!(m))).await
    }

    async fn save(&self, state: State, ttl: &Duration) -> Result<SessionKey, SaveError> {
        bounded(self.0.save(state, ttl), |m| {
            SaveError::Other(anyhow::anyhow!(m))
        })
        .await
    }

    async fn update(
        &self,
        key: SessionKey,
        state: State,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        bounded(self.0.update(key, state, ttl), |m| {
            UpdateError::Other(anyhow::anyhow!(m))
        })
        .await
    }

    async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> Result<(), anyhow::Error> {
        bounded(self.0.update_ttl(key, ttl), |m| anyhow::anyhow!(m)).await
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
        bounded(self.0.delete(key), |m| anyhow::anyhow!(m)).await
    }
}

/// The middleware of [`SessionsExt::middleware`]: the store-failure guard around
/// actix-session's middleware around the bridge to [`AuthSession`].
pub struct Sessions<St: SessionStore> {
    inner: Rc<SessionMiddleware<GuardedStore<St>>>,
    session_cookie: Rc<str>,
    tokens: Option<TokenSealer>,
}

impl<St: SessionStore> Clone for Sessions<St> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            session_cookie: self.session_cookie.clone(),
            tokens: self.tokens.clone(),
        }
    }
}

impl<S, B, St> Transform<S, ServiceRequest> for Sessions<St>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    S::Future: 'static,
    B: MessageBody + 'static,
    St: SessionStore + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = StoreGuard<
        <SessionMiddleware<GuardedStore<St>> as Transform<Bridge<S>, ServiceRequest>>::Transform,
    >;
    type InitError = ();
    type Future = LocalBoxFuture<'static, Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        let bridged = Bridge {
            service: Rc::new(service),
            tokens: self.tokens.clone(),
        };
        let inner = self.inner.new_transform(bridged);
        let session_cookie = self.session_cookie.clone();
        Box::pin(async move {
            Ok(StoreGuard {
                service: Rc::new(inner.await?),
                session_cookie,
            })
        })
    }
}

/// Turns a failure of a request during which the session store failed into 503
/// `session_unavailable` (JSON or a page, as the request asked). Before that, removes the
/// session cookie from a request that sends it more than once
/// ([`without_duplicated_cookie`]): actix-session would take the first copy, possibly a
/// planted one; the request has no session instead.
pub struct StoreGuard<S> {
    service: Rc<S>,
    session_cookie: Rc<str>,
}

impl<S, B> Service<ServiceRequest> for StoreGuard<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        strip_duplicated_session_cookie(&mut req, &self.session_cookie);
        let service = self.service.clone();
        let json = crate::wants_json(req.headers());
        Box::pin(async move {
            let (result, watched) = watch(service.call(req)).await;
            if !watched.failed() {
                return result.map(ServiceResponse::map_into_left_body);
            }
            let unavailable = StoreUnavailable { json };
            match result {
                Ok(response) if !watched.answers_unavailable(response.status().as_u16()) => {
                    Ok(response.map_into_left_body())
                }
                Ok(response) => {
                    let (request, _) = response.into_parts();
                    let answer = unavailable.error_response();
                    Ok(ServiceResponse::new(request, answer).map_into_right_body())
                }
                // actix-session fails the whole request when a load or save fails.
                Err(_) => Err(unavailable.into()),
            }
        })
    }
}

/// Removes every copy of the cookie `name` from a request that sends it more than once.
fn strip_duplicated_session_cookie(req: &mut ServiceRequest, name: &str) {
    let values: Vec<&str> = (req.headers().get_all(header::COOKIE))
        .filter_map(|v| v.to_str().ok())
        .collect();
    let Some(rest) = without_duplicated_cookie(&values, name) else {
        return;
    };
    req.headers_mut().remove(header::COOKIE);
    if let Some(value) = HeaderValue::from_str(&rest).ok().filter(|v| !v.is_empty()) {
        req.headers_mut().insert(header::COOKIE, value);
    }
}

/// The answer to a request during which the session store failed: 503
/// `session_unavailable`, as JSON or a page as the request asked.
#[derive(Debug)]
struct StoreUnavailable {
    json: bool,
}

impl std::fmt::Display for StoreUnavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&Failure::store_unavailable().description)
    }
}

impl ResponseError for StoreUnavailable {
    fn status_code(&self) -> StatusCode {
        StatusCode::SERVICE_UNAVAILABLE
    }

    fn error_response(&self) -> HttpResponse {
        let failure = Failure::store_unavailable();
        failure.log();
        if self.json {
            crate::failure_json(&failure)
        } else {
            crate::failure_page(&failure)
        }
    }
}

/// Gives each request an [`AuthSession`] over its actix-session session and writes the
/// handlers' changes back ([`ServerSession`] tells why).
pub struct Bridge<S> {
    service: Rc<S>,
    tokens: Option<TokenSealer>,
}

impl<S, B> Service<ServiceRequest> for Bridge<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = self.service.clone();
        let session = req.get_session();
        let shared = ServerSession::copy_of(&session, self.tokens.clone());
        req.extensions_mut()
            .insert(AuthSession::Server(shared.clone()));
        Box::pin(async move {
            let response = service.call(req).await?;
            // Fails only for an entry that is not JSON, which ferroauth never writes.
            shared
                .write_back(&session)
                .map_err(|e| actix_web::Error::from(crate::AuthError(e)))?;
            Ok(response)
        })
    }
}

/// The middleware of [`SessionsExt::sealed`]: gives each request a [`SealedCookies`] jar
/// as its [`AuthSession`] and writes what changed as `Set-Cookie`.
#[derive(Clone)]
pub struct SealedSessions {
    sealer: Arc<CookieSealer>,
}

impl<S, B> Transform<S, ServiceRequest> for SealedSessions
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = SealedService<S>;
    type InitError = ();
    type Future = std::future::Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        std::future::ready(Ok(SealedService {
            service: Rc::new(service),
            sealer: self.sealer.clone(),
        }))
    }
}

/// The service of [`SealedSessions`].
pub struct SealedService<S> {
    service: Rc<S>,
    sealer: Arc<CookieSealer>,
}

impl<S, B> Service<ServiceRequest> for SealedService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let jar = SealedCookies::from_cookie_headers(
            self.sealer.clone(),
            req.headers()
                .get_all(header::COOKIE)
                .filter_map(|v| v.to_str().ok()),
        );
        if let Some(revocations) = jar.revocation_index() {
            // The routes that end sessions by owner find the list here.
            req.extensions_mut().insert(revocations);
        }
        req.extensions_mut()
            .insert(AuthSession::Cookies(jar.clone()));
        let service = self.service.clone();
        Box::pin(async move {
            if let Err(e) = jar.end_if_revoked().await {
                return Err(actix_web::Error::from(crate::AuthError(e)));
            }
            let mut response = service.call(req).await?;
            for value in jar.set_cookie_headers() {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    response.headers_mut().append(header::SET_COOKIE, value);
                }
            }
            Ok(response)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory_store::MemoryStore;
    use actix_web::test::{TestRequest, call_service, init_service, try_call_service};
    use actix_web::{App, HttpResponse, web};
    use ferroauth::session::Session as _;

    async fn set(session: AuthSession) -> HttpResponse {
        session.insert("k", "1".into()).await.unwrap();
        HttpResponse::Ok().finish()
    }

    async fn renew(session: AuthSession) -> HttpResponse {
        session.insert("k", "2".into()).await.unwrap();
        session.renew().await.unwrap();
        HttpResponse::Ok().finish()
    }

    fn set_cookie(response: &ServiceResponse<impl MessageBody>) -> String {
        response
            .headers()
            .get(header::SET_COOKIE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }

    #[actix_web::test]
    async fn the_cookie_comes_back_on_a_cross_site_redirect_and_is_renewed() {
        let store = MemoryStore::new();
        let app = init_service(
            App::new()
                .route("/set", web::get().to(set))
                .route("/renew", web::get().to(renew))
                .wrap(SessionConfig::new().middleware(store.clone(), Key::generate())),
        )
        .await;
        let response = call_service(&app, TestRequest::get().uri("/set").to_request()).await;
        let cookie = set_cookie(&response);
        // __Host-: Secure, Path=/ and no Domain, or browsers refuse it.
        assert!(cookie.starts_with("__Host-id="), "{cookie}");
        for wanted in ["SameSite=Lax", "HttpOnly", "Secure", "Path=/", "Max-Age="] {
            assert!(cookie.contains(wanted), "{wanted} missing: {cookie}");
        }
        assert!(!cookie.contains("Domain"), "{cookie}");
        let first = cookie.split(';').next().unwrap().to_owned();
        let request = TestRequest::get()
            .uri("/renew")
            .insert_header((header::COOKIE, first.clone()))
            .to_request();
        let renewed = set_cookie(&call_service(&app, request).await);
        let second = renewed.split(';').next().unwrap();
        assert_ne!(first, second, "a renewed session gets a new id");
        assert_eq!(store.len(), 1, "the old session is deleted");
    }

    async fn set_user(session: AuthSession, user: web::Path<String>) -> HttpResponse {
        session
            .insert("user", format!("{:?}", user.as_str()))
            .await
            .unwrap();
        HttpResponse::Ok().finish()
    }

    async fn get_user(session: AuthSession) -> HttpResponse {
        let user = session.get("user").await.unwrap().unwrap_or_default();
        HttpResponse::Ok().body(user)
    }

    #[actix_web::test]
    async fn a_session_cookie_sent_twice_is_no_session() {
        let app = init_service(
            App::new()
                .route("/set/{user}", web::get().to(set_user))
                .route("/get", web::get().to(get_user))
                .wrap(SessionConfig::new().middleware(MemoryStore::new(), Key::generate())),
        )
        .await;
        let cookie_of = async |user: &str| {
            let request = TestRequest::get().uri(&format!("/set/{user}")).to_request();
            let cookie = set_cookie(&call_service(&app, request).await);
            cookie.split(';').next().unwrap().to_owned()
        };
        let own = cookie_of("victim").await;
        let planted = cookie_of("attacker").await;
        let get = async |cookies: &[String]| {
            let mut request = TestRequest::get().uri("/get");
            for cookie in cookies {
                request = request.append_header((header::COOKIE, cookie.clone()));
            }
            let response = call_service(&app, request.to_request()).await;
            let body = actix_web::body::to_bytes(response.into_body())
                .await
                .unwrap();
            String::from_utf8(body.to_vec()).unwrap()
        };
        assert_eq!(get(&[format!("a=1; {own}")]).await, "\"victim\"");
        assert_eq!(get(std::slice::from_ref(&planted)).await, "\"attacker\"");
        // Another copy, in the same header or another, first or last: no session, never
        // the attacker's.
        for cookies in [
            vec![format!("{planted}; {own}")],
            vec![format!("{own}; a=1"), planted.clone()],
            vec![format!("{own}; {own}")],
        ] {
            assert_eq!(get(&cookies).await, "", "{cookies:?}");
        }
    }

    #[test]
    fn the_session_key_comes_from_the_current_cookie_key() {
        let text = CookieKeys::generate("k1").unwrap();
        let old = CookieKeys::generate("k0").unwrap();
        let key = session_key(&text).unwrap();
        assert_eq!(key.master(), session_key(&text).unwrap().master());
        let rotated = session_key(&format!("{text},{old}")).unwrap();
        assert_eq!(key.master(), rotated.master(), "old keys do not change it");
        assert_ne!(key.master(), session_key(&old).unwrap().master());
        for bad in ["", "k1", "k1:!!!", "k1:AAAA", &format!("{text},bad")] {
            assert!(session_key(bad).is_err(), "{bad:?}");
        }
    }

    #[derive(Clone)]
    struct Broken;

    impl SessionStore for Broken {
        async fn load(
            &self,
            _: &SessionKey,
        ) -> Result<Option<std::collections::HashMap<String, String>>, LoadError> {
            Err(LoadError::Other(anyhow::anyhow!("down")))
        }
        async fn save(
            &self,
            _: std::collections::HashMap<String, String>,
            _: &Duration,
        ) -> Result<SessionKey, SaveError> {
            Err(SaveError::Other(anyhow::anyhow!("down")))
        }
        async fn update(
            &self,
            _: SessionKey,
            _: std::collections::HashMap<String, String>,
            _: &Duration,
        ) -> Result<SessionKey, UpdateError> {
            Err(UpdateError::Other(anyhow::anyhow!("down")))
        }
        async fn update_ttl(&self, _: &SessionKey, _: &Duration) -> Result<(), anyhow::Error> {
            Err(anyhow::anyhow!("down"))
        }
        async fn delete(&self, _: &SessionKey) -> Result<(), anyhow::Error> {
            Err(anyhow::anyhow!("down"))
        }
    }

    #[actix_web::test]
    async fn a_failing_store_answers_503() {
        let app = init_service(
            App::new()
                .route("/set", web::get().to(set))
                .route("/", web::get().to(HttpResponse::Ok))
                .wrap(SessionConfig::new().middleware(Broken, Key::generate())),
        )
        .await;
        let request = TestRequest::get()
            .uri("/set")
            .insert_header((header::ACCEPT, "application/json"))
            .to_request();
        // actix-session fails the request; the server answers with the error's response.
        let error = try_call_service(&app, request).await.err().unwrap();
        let response = error.error_response();
        assert_eq!(response.status(), 503);
        let body = actix_web::body::to_bytes(response.into_body())
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"], "session_unavailable");
        // A request that touches no session never reaches the store.
        let response = call_service(&app, TestRequest::get().uri("/").to_request()).await;
        assert_eq!(response.status(), 200);
    }

    #[actix_web::test]
    async fn sealed_cookies_hold_the_entries() {
        let keys = CookieKeys::parse(&CookieKeys::generate("t").unwrap()).unwrap();
        let app = init_service(
            App::new().route("/set", web::get().to(set)).wrap(
                SessionConfig::for_public_url("http://127.0.0.1:8000")
                    .unwrap()
                    .sealed(keys),
            ),
        )
        .await;
        let response = call_service(&app, TestRequest::get().uri("/set").to_request()).await;
        let cookie = set_cookie(&response);
        assert!(cookie.starts_with("fa_app_k="), "{cookie}");
        assert!(
            cookie.contains("SameSite=Lax") && !cookie.contains("Secure"),
            "{cookie}"
        );
    }
}
