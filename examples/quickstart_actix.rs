//! The quick start on actix-web: log in with the providers of `ferroauth.toml` and say
//! hello, with the same routes and answers as the axum quick start (`quickstart.rs`). With
//! no `ferroauth.toml`, it starts the testkit's development provider (users alice and bob)
//! on a port of its own, so it runs with no account anywhere.
//!
//! ```text
//! cargo run --example quickstart_actix  # then open http://127.0.0.1:8000/login/dev
//! ```
//!
//! `LISTEN` (default `127.0.0.1:8000`) is where it listens. With a `ferroauth.toml`, open
//! `/login/<name>` for one of its clients and register `http://127.0.0.1:8000/auth/<name>`
//! as the redirect URI at the provider.
use actix_web::{App, HttpServer, cookie::Key, web};
use ferroauth::OAuth;
use ferroauth::settings::Settings;
use ferroauth_actix::routes::AuthRoutes;
use ferroauth_actix::sessions::{SessionConfig, SessionsExt as _};
use ferroauth_actix::{extract::Accounts, memory_store::MemoryStore};
use ferroauth_testkit::dev::Embedded;

async fn home(Accounts(accounts): Accounts) -> String {
    match accounts.values().next() {
        Some(account) => format!(
            "hello {}",
            account.profile.display_name().unwrap_or("there")
        ),
        None => "not logged in: open /login/<name>".into(),
    }
}

/// The settings of `ferroauth.toml`, or those of a development provider started here.
async fn settings(public_url: &str) -> Result<Settings, Box<dyn std::error::Error>> {
    if std::path::Path::new("ferroauth.toml").exists() {
        return Ok(Settings::from_file("ferroauth.toml")?);
    }
    // Another site than the app, as real providers are; client `dev` is OpenID Connect.
    // An actix app cannot mount the provider's axum router: it gets a port of its own,
    // served by a task on this runtime.
    let dev = Embedded::start(public_url, Some("127.0.0.1:0".parse()?), false, false).await?;
    println!("no ferroauth.toml: development provider at {}", dev.base);
    Ok(Settings::from_toml_str(&dev.settings)?)
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:8000".into());
    let public_url = format!("http://{listen}");
    let oauth = OAuth::from_settings(&settings(&public_url).await?)?;
    // SameSite=Lax, HttpOnly, Path=/; Secure except for plain http on loopback.
    let sessions = SessionConfig::for_public_url(&public_url)?;
    // The key encrypts the session cookie's content. A fresh one per start suits one
    // instance with an in-memory store, whose sessions end with the process anyway.
    let (store, key) = (MemoryStore::new(), Key::generate());
    // GET /login/{name}, GET|POST /auth/{name} (then back to `?next=` or /), POST /logout.
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(oauth.clone()))
            .route("/", web::get().to(home))
            .configure(AuthRoutes::new().config())
            .wrap(sessions.middleware(store.clone(), key.clone()))
    })
    .bind(&listen)?;
    println!("listening on {public_url}: open {public_url}/login/dev");
    server.run().await?;
    Ok(())
}
