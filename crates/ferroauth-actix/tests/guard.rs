//! Route protection on actix-web, held to the testkit's suite
//! ([`ferroauth_testkit::guard_conformance`]), as the axum adapter is: the [`Protect`]
//! middleware and the [`LoggedIn`] extractor.

use actix_web::cookie::Key;
use actix_web::{App, HttpServer, web};
use ferroauth::session::{Session as _, USER_KEY};
use ferroauth_actix::guard::{LoggedIn, LoginRequired, Protect};
use ferroauth_actix::memory_store::MemoryStore;
use ferroauth_actix::sessions::{SessionConfig, SessionsExt as _};
use ferroauth_actix::{AuthError, AuthSession};
use ferroauth_testkit::guard_conformance::{run, seeded_entry};

async fn seed(
    session: AuthSession,
    path: web::Path<(String, u64)>,
) -> Result<&'static str, AuthError> {
    let (client, age) = path.into_inner();
    session.insert(USER_KEY, seeded_entry(&client, age)).await?;
    Ok("seeded")
}

async fn any(LoggedIn(who): LoggedIn) -> String {
    who.at.keys().cloned().collect::<Vec<_>>().join(",")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_middleware_and_the_extractor_pass_the_suite() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let (store, key) = (MemoryStore::default(), Key::generate());
            let config = SessionConfig::for_public_url("http://127.0.0.1").unwrap();
            let rule = LoginRequired::new()
                .provider("dev")
                .max_age(60)
                .login_routes("/auth");
            HttpServer::new(move || {
                let private = web::scope("/private")
                    .wrap(Protect::new(rule.clone()))
                    .route("", web::get().to(|| async { "ok" }));
                App::new()
                    .route("/seed/{client}/{age}", web::get().to(seed))
                    .route("/any", web::get().to(any))
                    .service(private)
                    .wrap(config.middleware(store.clone(), key.clone()))
            })
            .listen(listener)
            .unwrap()
            .workers(1)
            .disable_signals()
            .run()
            .await
            .unwrap();
        });
    });
    run("actix", &base).await;
}
