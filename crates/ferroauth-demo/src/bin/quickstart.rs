//! Log in with the providers of ferroauth.toml, then say hello.
use axum::{Router, routing::get};
use ferroauth::OAuth;
use ferroauth::settings::Settings;
use ferroauth_axum::routes::AuthRoutes;
use ferroauth_axum::sessions::{SessionConfig, SessionsExt as _};
use ferroauth_axum::{extract::Accounts, memory_store::MemoryStore};

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
    let oauth = OAuth::from_settings(&Settings::from_file("ferroauth.toml")?)?;
    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:8000".into());
    // https makes the session cookie Secure; it is SameSite=Lax and HttpOnly either way.
    let public_url = std::env::var("PUBLIC_URL").unwrap_or_else(|_| format!("http://{listen}"));
    // GET /login/{name}, GET|POST /auth/{name} (then back to `?next=` or /), POST /logout.
    let routes = Router::new()
        .route("/", get(home))
        .merge(AuthRoutes::new().router());
    let app = SessionConfig::for_public_url(&public_url)?
        .apply(routes, MemoryStore::new())
        .with_state(oauth);
    axum::serve(tokio::net::TcpListener::bind(listen).await?, app).await?;
    Ok(())
}
