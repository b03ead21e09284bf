//! The login routes mounted under a prefix (axum `Router::nest`, actix-web `web::scope`),
//! with an app's own login hook: the redirect URI keeps the prefix, the login completes,
//! and the callback's answer is the hook's (a header only the hook sets).

mod support;

use actix_web::{App, HttpServer, web};
use ferroauth::OAuth;
use reqwest::Method;
use serde_json::Value;
use support::Framework;
use support::framework::{Running, shared_actix_key};
use support::harness::{self, Agent, CLIENT};

/// Where the routes are mounted.
const PREFIX: &str = "/prefix";
/// The header the app's login hook adds to the callback's answer.
const HOOK_HEADER: &str = "x-login-hook";

/// The routes under [`PREFIX`] on `framework`, with a login hook that names the client in
/// [`HOOK_HEADER`] and otherwise answers as the default hook.
fn serve(framework: Framework, listener: tokio::net::TcpListener, oauth: OAuth) -> Running {
    match framework {
        Framework::Axum => {
            use ferroauth_axum::routes::{AuthRoutes, default_on_login};
            let routes = AuthRoutes::new().on_login(|done| async move {
                let client = done.login.client.clone();
                let mut response = default_on_login(done);
                response
                    .headers_mut()
                    .insert(HOOK_HEADER, client.parse().unwrap());
                response
            });
            let sessions = ferroauth_axum::sessions::SessionConfig::new().secure(false);
            let app = axum::Router::new().nest(PREFIX, routes.router());
            let store = ferroauth_axum::memory_store::PurgingMemoryStore::new();
            Running::axum(listener, sessions.apply(app, store).with_state(oauth))
        }
        Framework::Actix => {
            use ferroauth_actix::routes::{AuthRoutes, default_on_login};
            let listener = listener.into_std().unwrap();
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    let store = ferroauth_actix::memory_store::MemoryStore::new();
                    let sessions = ferroauth_actix::sessions::SessionConfig::new().secure(false);
                    let server = HttpServer::new(move || {
                        let routes = AuthRoutes::new().on_login(|done| async move {
                            let client = done.login.client.clone();
                            let mut response = default_on_login(done);
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

async fn a_nested_login_runs_the_apps_hook(framework: Framework) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}{PREFIX}", listener.local_addr().unwrap());
    let provider = harness::provider(&[&base], 1).await;
    let oauth = OAuth::from_settings(&harness::settings_for(&provider)).unwrap();
    let _running = serve(framework, listener, oauth);
    let http = harness::http();
    let mut agent = Agent::new();
    let login = format!("{base}/login/{CLIENT}?login_hint=u0");
    let response = agent.send(&http, Method::GET, &login).await.unwrap();
    assert_eq!(response.status(), 302, "the login starts under the prefix");
    let mut next = location(&response);
    let redirect_uri = next
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| v.into_owned());
    assert_eq!(redirect_uri, Some(format!("{base}/auth/{CLIENT}")));
    // Through the provider (it approves at once) up to the callback under the prefix.
    while !next.as_str().starts_with(&base) {
        let response = agent.send(&http, Method::GET, next.as_str()).await.unwrap();
        assert!(response.status().is_redirection(), "{next}");
        next = location(&response);
    }
    let response = agent.send(&http, Method::GET, next.as_str()).await.unwrap();
    assert_eq!(response.status(), 200, "the callback under the prefix");
    assert_eq!(
        response
            .headers()
            .get(HOOK_HEADER)
            .map(|v| v.to_str().unwrap()),
        Some(CLIENT),
        "the app's login hook answered the callback"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["userinfo"]["sub"], "u0");
}

fn location(response: &reqwest::Response) -> url::Url {
    let raw = response.headers()["location"].to_str().unwrap();
    response.url().join(raw).unwrap()
}

crate::on_both!(a_nested_login_runs_the_apps_hook);
