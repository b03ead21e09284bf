//! Sessions without a server-side store: every session entry (the pending login, the
//! claims, the token) lives in its own sealed cookie, encrypted and authenticated with
//! AES-256-GCM under keys the app holds. Any instance with the same keys opens them, and so
//! does the app after a restart: a logged-in user stays logged in.
//!
//! ```text
//! cargo run --example sealed_cookie_sessions   # prints a fresh key, then open
//!                                              # http://127.0.0.1:8000/login/dev
//! COOKIE_KEYS=k1:... cargo run --example sealed_cookie_sessions
//! ```
//!
//! The keys come from `COOKIE_KEYS`: `id:base64url-32-bytes`, the sealing key first, then
//! any older keys still accepted for reading (`k2:...,k1:...` rotates). A missing, short or
//! malformed value stops the app with an error naming the variable. Only the zero-setup run
//! (no `ferroauth.toml`: the development provider) makes a key when `COOKIE_KEYS` is unset,
//! and prints it: start again with it and the browser is still logged in, with another
//! key it is not.
//!
//! The limit: the state is the browser's, so a cookie copied before a logout still opens
//! until its expiry unless the app keeps a revocation list
//! (`SessionConfig::revocation_list`); a server-side store ends a session for good.
use std::process::ExitCode;

use axum::{Router, routing::get};
use ferroauth::OAuth;
use ferroauth::session::sealed::CookieKeys;
use ferroauth::settings::Settings;
use ferroauth_axum::extract::Accounts;
use ferroauth_axum::routes::AuthRoutes;
use ferroauth_axum::sessions::{SessionConfig, SessionsExt as _};
use ferroauth_testkit::dev::Embedded;

type BoxError = Box<dyn std::error::Error>;

/// Where the cookie keys come from.
const KEYS_VAR: &str = "COOKIE_KEYS";

async fn home(Accounts(accounts): Accounts) -> String {
    match accounts.values().next() {
        Some(account) => format!(
            "hello {}",
            account.profile.display_name().unwrap_or("there")
        ),
        None => "not logged in: open /login/<name>".into(),
    }
}

/// The keys of `COOKIE_KEYS`; without it, a fresh key when `may_generate` (a development
/// run, whose sessions may die with the process), else an error.
fn cookie_keys(may_generate: bool) -> Result<CookieKeys, BoxError> {
    let text = match std::env::var(KEYS_VAR) {
        Ok(text) => text,
        Err(std::env::VarError::NotPresent) if may_generate => {
            let fresh = CookieKeys::generate("k1")?;
            // A development key only: a production key printed would be in the logs.
            println!("{KEYS_VAR} is not set: sealing with a fresh key.");
            println!("Start again with {KEYS_VAR}={fresh} to keep the sessions.");
            fresh
        }
        Err(std::env::VarError::NotPresent) => return Err(key_error(&"not set")),
        // Not `VarError`'s own message: it would quote the (secret) value.
        Err(std::env::VarError::NotUnicode(_)) => return Err(key_error(&"not valid UTF-8")),
    };
    CookieKeys::parse(&text).map_err(|e| key_error(&e))
}

/// What is wrong with `COOKIE_KEYS`, and a good value to copy (every instance needs the
/// same one, so the app does not make one by itself).
fn key_error(problem: &dyn std::fmt::Display) -> BoxError {
    match CookieKeys::generate("k1") {
        Ok(fresh) => format!("{KEYS_VAR}: {problem}; for example {KEYS_VAR}={fresh}").into(),
        Err(_) => format!("{KEYS_VAR}: {problem}").into(),
    }
}

/// The settings of `ferroauth.toml`, when there is one.
fn file_settings() -> Result<Option<Settings>, BoxError> {
    let path = std::path::Path::new("ferroauth.toml");
    Ok(match path.exists() {
        true => Some(Settings::from_file(path)?),
        false => None,
    })
}

/// The settings of a development provider started here.
async fn dev_settings(public_url: &str) -> Result<Settings, BoxError> {
    // Another site than the app, as real providers are; client `dev` is OpenID Connect.
    let dev = Embedded::start(public_url, Some("127.0.0.1:0".parse()?), false, false).await?;
    println!("no ferroauth.toml: development provider at {}", dev.base);
    Ok(Settings::from_toml_str(&dev.settings)?)
}

async fn run() -> Result<(), BoxError> {
    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:8000".into());
    let public_url = format!("http://{listen}");
    let configured = file_settings()?;
    // The keys first: a bad key stops the app before it starts anything.
    let keys = cookie_keys(configured.is_none())?;
    let settings = match configured {
        Some(settings) => settings,
        None => dev_settings(&public_url).await?,
    };
    let oauth = OAuth::from_settings(&settings)?;
    // GET /login/{name}, GET|POST /auth/{name} (then back to `?next=` or /), POST /logout.
    let routes = Router::new()
        .route("/", get(home))
        .merge(AuthRoutes::new().router());
    // The cookies are `fa_...` (`__Host-fa_...` behind https), SameSite=Lax and HttpOnly;
    // the handlers see the same `AuthSession` as with a server-side store.
    let app = SessionConfig::for_public_url(&public_url)?
        .apply_sealed(routes, keys)
        .with_state(oauth);
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("listening on {public_url}: open {public_url}/login/dev");
    axum::serve(listener, app).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    // The error as a sentence, not `main`'s debug print of it.
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sealed_cookie_sessions: {e}");
            ExitCode::FAILURE
        }
    }
}
