//! axum-login over ferroauth: ferroauth logs the browser in at a provider, the login's
//! identity is resolved to the app's own user ([`ferroauth::users`]), and axum-login keeps
//! that user in the session and guards `/protected`.
//!
//! ```text
//! cargo run -p ferroauth-axum --features axum-login --example axum_login -- ferroauth.toml
//! ```
//!
//! The settings file names a client `dev` whose redirect URI is
//! `http://127.0.0.1:8000/auth/dev`; then open `http://127.0.0.1:8000/protected`.
//! `tests/axum_login.rs` runs this app against the testkit's provider.
//!
//! | route | does |
//! |---|---|
//! | `GET /` | who is logged in |
//! | `GET /login/{name}` | starts a login with client `name`; `?next=/path` is where the user goes afterwards |
//! | `GET` or `POST /auth/{name}` | the callback: finishes the login, resolves it to the app's user and logs that user in (logged in already: links the identity to that user) |
//! | `GET /protected` | the user's id; without a user, a redirect to `/login/dev?next=/protected` |

use axum::extract::{Path, RawQuery, State};
use axum::response::Redirect;
use axum::routing::get;
use axum::{Router, http::StatusCode};
use ferroauth::settings::Settings;
use ferroauth::users::{MemoryUserStore, Users};
use ferroauth::{Error, OAuth};
use ferroauth_axum::axum_login::{LoginCredentials, UserBackend};
use ferroauth_axum::memory_store::MemoryStore;
use ferroauth_axum::sessions::{SessionConfig, SessionsExt as _};
use ferroauth_axum::{
    AuthError, AuthSession, Callback, LoginRedirect, RedirectUri, authorize_access_token,
};

/// axum-login's view of the request's session.
type Auth = axum_login::AuthSession<UserBackend>;

/// The app: its routes, axum-login inside ferroauth's session layer (one session for
/// both), sessions in memory, and `oauth` as the state.
pub fn app(oauth: OAuth, users: Users, sessions: &SessionConfig) -> Router {
    let routes = Router::new()
        .route("/protected", get(protected))
        // Only the routes above: the login routes must stay open.
        .route_layer(axum_login::login_required!(
            UserBackend,
            login_url = "/login/dev"
        ))
        .route("/", get(home))
        .route("/login/{name}", get(login))
        .route("/auth/{name}", get(callback).post(callback))
        // `layer` before `apply`: axum-login runs inside the session layer.
        .layer(UserBackend::new(users).layer());
    sessions.apply(routes, MemoryStore::new()).with_state(oauth)
}

/// Starts a login: the query's `next` (a path of this app, else 400) and the
/// parameters a login may pass on to the provider (`login_hint`, `prompt`, ...) are
/// checked as the ready-made login route checks them.
async fn login(
    State(oauth): State<OAuth>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    session: AuthSession,
    uri: RedirectUri,
) -> Result<LoginRedirect, AuthError> {
    let client = oauth.client(&name)?;
    let callback = uri.to(&format!("/auth/{name}"));
    let query = query.unwrap_or_default();
    let url = ferroauth::web::flows::start_login(&client, &session, &callback, &query).await?;
    Ok(LoginRedirect(url))
}

/// The callback: ferroauth finishes the login (and renews the session id), the backend
/// resolves its identity to the app's user, and axum-login logs that user in.
async fn callback(
    State(oauth): State<OAuth>,
    Path(name): Path<String>,
    session: AuthSession,
    mut auth: Auth,
    Callback(params): Callback,
) -> Result<Redirect, AuthError> {
    let login = authorize_access_token(&oauth.client(&name)?, &session, &params).await?;
    // Checked when the login started; a path of this app.
    let next = login.return_to.clone();
    let credentials = LoginCredentials::new(login, auth.user.as_ref());
    let user = auth
        .authenticate(credentials)
        .await?
        .ok_or(AuthError(Error::UnknownUser))?;
    auth.login(&user).await?;
    Ok(Redirect::to(next.as_deref().unwrap_or("/")))
}

async fn home(auth: Auth) -> String {
    match auth.user {
        Some(user) => format!("logged in as {}", user.user_id()),
        None => "not logged in: /login/dev".to_owned(),
    }
}

/// Behind `login_required!`: a user is always there.
async fn protected(auth: Auth) -> Result<String, StatusCode> {
    let user = auth.user.ok_or(StatusCode::UNAUTHORIZED)?;
    Ok(format!("user {}", user.user_id()))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1);
    let settings = Settings::from_file(path.as_deref().unwrap_or("ferroauth.toml"))?;
    let oauth = OAuth::from_settings(&settings)?;
    // SameSite=Lax, HttpOnly, Path=/; not Secure on plain-http loopback.
    let sessions = SessionConfig::for_public_url("http://127.0.0.1:8000")?;
    let users = Users::new(MemoryUserStore::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
    axum::serve(listener, app(oauth, users, &sessions)).await?;
    Ok(())
}
