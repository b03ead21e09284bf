//! The demo on actix-web: the same routes, pages and answers as the axum demo
//! ([`crate::router_for`]), through `ferroauth-actix`.
//!
//! Sessions: `memory` ([`MemoryStore`]), `redis://` (actix-session's Redis store) or
//! `cookie` (sealed cookies). actix-session has no SQL store, so `sqlite://` and
//! `postgres://` are refused at start.

use std::sync::Arc;

use actix_session::storage::SessionStore;
use actix_web::cookie::Key;
use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine as _;
use ferroauth::OAuth;
use ferroauth::session::sealed::CookieKeys;
use ferroauth_actix::extract::{Accounts, UserApi, api_response};
use ferroauth_actix::memory_store::MemoryStore;
use ferroauth_actix::routes::{AuthRoutes, Failure};
use ferroauth_actix::sessions::SessionConfig;
use ferroauth_actix::{AuthError, registry, respond};
use ferroauth_axum::stores::StoreChoice;

use crate::{ApiPaths, DemoOptions};

/// Binds an `HttpServer` (whose type names its app factory) as [`Listen`] says, applies
/// [`Serving`] and runs it.
macro_rules! run {
    ($server:expr, $listen:expr, $serving:expr) => {{
        let mut server = match $listen {
            Listen::Plain(listener) => $server.listen(listener)?,
            Listen::Tls(listener, config) => $server.listen_rustls_0_23(listener, *config)?,
        };
        if let Some(workers) = $serving.workers {
            server = server.workers(workers.max(1));
        }
        if !$serving.signals {
            server = server.disable_signals();
        }
        server.run()
    }};
}

/// Where the actix demo keeps sessions.
pub enum Store {
    /// In this process's memory.
    Memory(MemoryStore),
    /// In Redis, shared by every instance (with the same session key).
    Redis(actix_session::storage::RedisSessionStore),
    /// In sealed cookies.
    Cookie(CookieKeys),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Store::Memory(_) => "Store::Memory",
            Store::Redis(_) => "Store::Redis",
            Store::Cookie(_) => "Store::Cookie",
        })
    }
}

impl Store {
    /// The store `choice` names: connects to Redis first, so that a wrong URL fails at
    /// start. The cookie store needs `cookie_keys` (else a random key for this process).
    pub async fn connect(
        choice: &StoreChoice,
        cookie_keys: Option<CookieKeys>,
    ) -> Result<Self, String> {
        match choice {
            StoreChoice::Memory => Ok(Store::Memory(MemoryStore::new())),
            StoreChoice::Cookie => Ok(Store::Cookie(match cookie_keys {
                Some(keys) => keys,
                None => random_cookie_keys()?,
            })),
            StoreChoice::Redis(url) => {
                let store = ferroauth_actix::redis_store::connect(url)
                    .await
                    .map_err(|e| format!("session store {}: {e}", choice.describe()))?;
                Ok(Store::Redis(store))
            }
            StoreChoice::Sqlite(_) | StoreChoice::Postgres(_) => Err(format!(
                "session store {}: actix-session has no SQL store; use memory, cookie or \
                 redis:// with --framework actix",
                choice.describe()
            )),
        }
    }
}

fn random_cookie_keys() -> Result<CookieKeys, String> {
    tracing::warn!("no cookie keys given: a random key, so cookies die with the process");
    CookieKeys::generate("k1")
        .and_then(|text| CookieKeys::parse(&text))
        .map_err(|e| e.to_string())
}

/// The key of actix-session's private cookie: derived from the current cookie key of
/// `--cookie-keys` when given (so that instances sharing a store share it), else random.
pub fn session_key(cookie_keys: Option<&str>) -> Key {
    let secret = cookie_keys
        .and_then(|text| text.split(',').next())
        .and_then(|first| first.split_once(':'))
        .and_then(|(_, b64)| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(b64)
                .ok()
        })
        .filter(|bytes| bytes.len() >= 32);
    match secret {
        Some(bytes) => Key::derive_from(&bytes),
        None => Key::generate(),
    }
}

/// The registry and the demo's options, shared by every worker.
#[derive(Clone)]
struct Shared {
    oauth: OAuth,
    options: Arc<DemoOptions>,
}

/// Where the actix demo listens.
pub enum Listen {
    /// Plain http.
    Plain(std::net::TcpListener),
    /// https with this rustls configuration (tests; a real deployment terminates TLS in a
    /// proxy or configures it the same way).
    Tls(std::net::TcpListener, Box<rustls::ServerConfig>),
}

/// How the actix demo is served.
#[derive(Debug, Clone, Copy, Default)]
pub struct Serving {
    /// Worker threads (actix-web's default, one per core, when `None`).
    pub workers: Option<usize>,
    /// Stop gracefully on SIGINT/SIGTERM (the binary); tests stop through the handle.
    pub signals: bool,
}

/// The demo's server on `listener`, started: await it, or stop it through its handle.
pub fn start(
    listen: Listen,
    oauth: OAuth,
    options: DemoOptions,
    store: Store,
    key: Key,
    serving: Serving,
) -> std::io::Result<actix_web::dev::Server> {
    let shared = Shared {
        oauth,
        options: Arc::new(options),
    };
    let sessions = crate::session_config!(SessionConfig, shared.options);
    match store {
        Store::Memory(store) => with_store(shared, sessions, store, key, listen, serving),
        Store::Redis(store) => with_store(shared, sessions, store, key, listen, serving),
        Store::Cookie(keys) => {
            let sealed = sessions.sealed(keys);
            let server = HttpServer::new(move || {
                App::new()
                    .configure(app(shared.clone()))
                    .wrap(sealed.clone())
            });
            Ok(run!(server, listen, serving))
        }
    }
}

fn with_store<St: SessionStore + Clone + Send + 'static>(
    shared: Shared,
    sessions: SessionConfig,
    store: St,
    key: Key,
    listen: Listen,
    serving: Serving,
) -> std::io::Result<actix_web::dev::Server> {
    let server = HttpServer::new(move || {
        App::new()
            .configure(app(shared.clone()))
            .wrap(sessions.middleware(store.clone(), key.clone()))
    });
    Ok(run!(server, listen, serving))
}

/// [`start`] on a thread of its own (actix-web runs its own runtime), with one worker and
/// no signal handling, for tests: the server stops when the handle is stopped or the
/// process ends.
pub fn spawn(
    listen: Listen,
    oauth: OAuth,
    options: DemoOptions,
    store: Store,
    key: Key,
) -> ServerHandle {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let serving = Serving {
                workers: Some(1),
                signals: false,
            };
            let server = start(listen, oauth, options, store, key, serving).expect("listen");
            let _ = tx.send(server.handle());
            let _ = server.await;
        });
    });
    rx.recv().expect("the actix demo started")
}

/// The demo's routes, without the session middleware.
fn app(shared: Shared) -> impl FnOnce(&mut web::ServiceConfig) {
    let auth = AuthRoutes::new()
        .with_refresh()
        .error_page(|f| respond(crate::error_page(f)));
    let metrics = shared.options.metrics.clone();
    let metrics = move || std::future::ready(respond(crate::metrics_page(metrics.as_ref())));
    move |cfg| {
        cfg.app_data(web::Data::new(shared.oauth))
            .app_data(web::Data::new(shared.options.redirect_uri.clone()))
            .app_data(web::Data::new(ApiPaths(Arc::new(
                shared.options.api_paths.clone(),
            ))))
            // The login routes first: actix-web tries patterns in order, and logins are
            // the demo's hot path.
            .configure(auth.config())
            .route("/", web::get().to(home))
            .route("/api/{name}/{path:.*}", web::get().to(api))
            .route("/metrics", web::get().to(metrics));
    }
}

async fn home(
    req: HttpRequest,
    paths: web::Data<ApiPaths>,
    accounts: Result<Accounts, AuthError>,
) -> HttpResponse {
    let accounts = accounts.map(|a| a.0).map_err(|e| e.0);
    match registry(&req) {
        Ok(oauth) => respond(crate::home_page(&oauth, accounts, &paths)),
        Err(e) => respond(crate::error_page(&Failure::of(&e.0))),
    }
}

async fn api(req: HttpRequest, api: Result<UserApi, AuthError>) -> Result<HttpResponse, AuthError> {
    let path = req.match_info().get("path").unwrap_or("");
    Ok(api_response(
        api?.get_with_query(path, req.query_string()).await?,
    ))
}
