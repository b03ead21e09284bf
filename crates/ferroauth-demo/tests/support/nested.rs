//! The login routes alone, mounted under a prefix (axum `Router::nest`, actix-web
//! `web::scope`), with an app's own login hook: an app built as the routes' docs say.

use actix_web::{App, HttpServer, web};
use ferroauth::{Login, OAuth};
use ferroauth_actix::sessions::SessionsExt as _;
use ferroauth_axum::sessions::SessionsExt as _;

use super::framework::{Framework, Running, shared_actix_key};

/// Where the routes are mounted.
pub const PREFIX: &str = "/prefix";
/// The header the app's login hook adds to the callback's answer.
pub const HOOK_HEADER: &str = "x-login-hook";

/// The routes under [`PREFIX`] on `framework`, with a login hook that names the client in
/// [`HOOK_HEADER`]: to a JSON request it otherwise answers as the default hook, to a
/// browser with a page `<p id="hook">client sub</p>` (the app has no home page).
pub fn serve(framework: Framework, listener: tokio::net::TcpListener, oauth: OAuth) -> Running {
    match framework {
        Framework::Axum => {
            use ferroauth_axum::routes::{AuthRoutes, default_on_login};
            let routes = AuthRoutes::new().on_login(|done| async move {
                let client = done.login.client.clone();
                let mut response = match done.json {
                    true => default_on_login(done),
                    false => axum::response::IntoResponse::into_response(axum::response::Html(
                        hook_page(&done.login),
                    )),
                };
                response
                    .headers_mut()
                    .insert(HOOK_HEADER, client.parse().unwrap());
                response
            });
            let sessions = ferroauth::web::SessionConfig::new().secure(false);
            let app = axum::Router::new().nest(PREFIX, routes.router());
            let store = ferroauth_axum::memory_store::MemoryStore::new();
            Running::axum(listener, sessions.apply(app, store).with_state(oauth))
        }
        Framework::Actix => {
            use ferroauth_actix::routes::{AuthRoutes, default_on_login};
            let listener = listener.into_std().unwrap();
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    let store = ferroauth_actix::memory_store::MemoryStore::new();
                    let sessions = ferroauth::web::SessionConfig::new().secure(false);
                    let server = HttpServer::new(move || {
                        let routes = AuthRoutes::new().on_login(|done| async move {
                            let client = done.login.client.clone();
                            let mut response = match done.json {
                                true => default_on_login(done),
                                false => actix_web::HttpResponse::Ok()
                                    .content_type("text/html; charset=utf-8")
                                    .body(hook_page(&done.login)),
                            };
                            response.headers_mut().insert(
                                actix_web::http::header::HeaderName::from_static(HOOK_HEADER),
                                client.parse().unwrap(),
                            );
                            response
                        });
                        App::new()
                            .app_data(web::Data::new(oauth.clone()))
                            .service(web::scope(PREFIX).configure(routes.config()))
                            .wrap(sessions.middleware(store.clone(), shared_actix_key()))
                    })
                    .workers(1)
                    .disable_signals()
                    .listen(listener)
                    .unwrap()
                    .run();
                    let _ = tx.send(server.handle());
                    let _ = server.await;
                });
            });
            Running::Actix(rx.recv().unwrap())
        }
    }
}

/// The hook's page for a browser: the client and the user's `sub`.
fn hook_page(login: &Login) -> String {
    let sub = login
        .userinfo
        .get("sub")
        .and_then(|v| v.as_str())
        .unwrap_or("?");
    format!(
        "<!DOCTYPE html><title>hook</title><p id=\"hook\">{} {sub}</p>",
        login.client
    )
}
