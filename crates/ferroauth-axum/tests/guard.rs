//! Route protection on axum, held to the testkit's suite
//! ([`ferroauth_testkit::guard_conformance`]), as the actix adapter is: the router layer
//! ([`LoginRequiredExt::login_required`]) and the [`LoggedIn`] extractor.

use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use ferroauth::session::{Session as _, USER_KEY};
use ferroauth_axum::guard::{LoggedIn, LoginRequired, LoginRequiredExt as _};
use ferroauth_axum::memory_store::MemoryStore;
use ferroauth_axum::sessions::{SessionConfig, SessionsExt as _};
use ferroauth_axum::{AuthError, AuthSession};
use ferroauth_testkit::guard_conformance::{run, seeded_entry};

async fn seed(
    session: AuthSession,
    Path((client, age)): Path<(String, u64)>,
) -> Result<&'static str, AuthError> {
    session.insert(USER_KEY, seeded_entry(&client, age)).await?;
    Ok("seeded")
}

async fn any(LoggedIn(who): LoggedIn) -> String {
    who.at.keys().cloned().collect::<Vec<_>>().join(",")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_layer_and_the_extractor_pass_the_suite() {
    let rule = LoginRequired::new()
        .provider("dev")
        .max_age(60)
        .login_routes("/auth");
    let private = Router::new()
        .route("/private", get(|| async { "ok" }))
        .login_required(rule);
    let routes = Router::new()
        .route("/seed/{client}/{age}", get(seed))
        .route("/any", get(any))
        .merge(private);
    let config = SessionConfig::for_public_url("http://127.0.0.1").unwrap();
    let app = config.apply(routes, MemoryStore::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    run("axum", &base).await;
}
