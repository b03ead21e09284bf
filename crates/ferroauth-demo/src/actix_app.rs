//! The demo on actix-web: the same routes, pages and answers as the axum demo
//! ([`crate::router_for`]), through `ferroauth-actix`.
//!
//! Sessions: any store by URL, as the axum demo ([`Store`], `ferroauth_actix::stores`).

use std::sync::Arc;

use actix_web::cookie::Key;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use ferroauth::OAuth;
use ferroauth_actix::extract::{Accounts, UserApi, api_response};
use ferroauth_actix::routes::{AuthRoutes, Failure};
use ferroauth_actix::sessions::SessionsExt as _;
pub use ferroauth_actix::stores::Store;
use ferroauth_actix::{AuthError, registry, respond};

use crate::{ApiPaths, DemoOptions};

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
    let sessions = options.sessions().for_store(store, key);
    let shared = Shared {
        oauth,
        options: Arc::new(options),
    };
    let server = HttpServer::new(move || {
        App::new()
            .configure(app(shared.clone()))
            .wrap(sessions.middleware())
    });
    let mut server = match listen {
        Listen::Plain(listener) => server.listen(listener)?,
        Listen::Tls(listener, config) => server.listen_rustls_0_23(listener, *config)?,
    };
    if let Some(workers) = serving.workers {
        server = server.workers(workers.max(1));
    }
    if !serving.signals {
        server = server.disable_signals();
    }
    Ok(server.run())
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
