//! Log in with the providers of ferroauth.toml, then say hello: on actix-web.
use actix_web::{App, HttpServer, cookie::Key, web};
use ferroauth::OAuth;
use ferroauth::settings::Settings;
use ferroauth_actix::routes::AuthRoutes;
use ferroauth_actix::sessions::{SessionConfig, SessionsExt as _};
use ferroauth_actix::{extract::Accounts, memory_store::MemoryStore};

async fn home(Accounts(accounts): Accounts) -> String {
    match accounts.values().next() {
        Some(account) => format!(
            "hello {}",
            account.profile.display_name().unwrap_or("there")
        ),
        None => "not logged in: open /login/<name>".into(),
    }
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let oauth = OAuth::from_settings(&Settings::from_file("ferroauth.toml")?)?;
    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:8000".into());
    // https makes the session cookie Secure; it is SameSite=Lax and HttpOnly either way.
    let public_url = std::env::var("PUBLIC_URL").unwrap_or_else(|_| format!("http://{listen}"));
    let sessions = SessionConfig::for_public_url(&public_url)?;
    let (store, key) = (MemoryStore::new(), Key::generate());
    // GET /login/{name}, GET|POST /auth/{name} (then back to `?next=` or /), POST /logout.
    HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(oauth.clone()))
            .route("/", web::get().to(home))
            .configure(AuthRoutes::new().config())
            .wrap(sessions.middleware(store.clone(), key.clone()))
    })
    .bind(listen)?
    .run()
    .await?;
    Ok(())
}
