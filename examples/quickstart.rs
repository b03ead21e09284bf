//! The quick start: log in with the providers of `ferroauth.toml` and say hello. With no
//! `ferroauth.toml`, it starts the testkit's development provider (users alice and bob)
//! on a port of its own, so it runs with no account anywhere.
//!
//! ```text
//! cargo run --example quickstart        # then open http://127.0.0.1:8000/login/dev
//! ```
use axum::{Router, routing::get};
use ferroauth::OAuth;
use ferroauth::settings::Settings;
use ferroauth_axum::routes::AuthRoutes;
use ferroauth_axum::sessions::{SessionConfig, SessionsExt as _};
use ferroauth_axum::{extract::Accounts, memory_store::MemoryStore};
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

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:8000".into());
    let public_url = format!("http://{listen}");
    let settings = if std::path::Path::new("ferroauth.toml").exists() {
        Settings::from_file("ferroauth.toml")?
    } else {
        // Another site than the app, as real providers are; client `dev` is OpenID Connect.
        let dev = Embedded::start(&public_url, Some("127.0.0.1:0".parse()?), false, false).await?;
        println!("no ferroauth.toml: development provider at {}", dev.base);
        Settings::from_toml_str(&dev.settings)?
    };
    let oauth = OAuth::from_settings(&settings)?;
    // GET /login/{name}, GET|POST /auth/{name} (then back to `?next=` or /), POST /logout.
    let routes = Router::new()
        .route("/", get(home))
        .merge(AuthRoutes::new().router());
    let app = SessionConfig::for_public_url(&public_url)?
        .apply(routes, MemoryStore::new())
        .with_state(oauth);
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("listening on {public_url}: open {public_url}/login/dev");
    axum::serve(listener, app).await?;
    Ok(())
}
