use axum::{
    Router,
    extract::{Path, State},
    response::{IntoResponse, Response},
    routing::get,
};
use ferroauth::OAuth;
use ferroauth_axum::{
    AuthError, Callback, RedirectUri, authorize_access_token, authorize_redirect,
};
use ferroauth_axum::{memory_store::PurgingMemoryStore, sessions::SessionConfig};
use tower_sessions::Session;

async fn login(
    State(oauth): State<OAuth>,
    Path(name): Path<String>,
    session: Session,
    uri: RedirectUri,
) -> Result<Response, AuthError> {
    let client = oauth.client(&name)?;
    Ok(
        authorize_redirect(&client, &session, &uri.to(&format!("/auth/{name}")))
            .await?
            .into_response(),
    )
}

async fn auth(
    State(oauth): State<OAuth>,
    Path(name): Path<String>,
    session: Session,
    Callback(params): Callback,
) -> Result<String, AuthError> {
    // Checks state, iss, PKCE and the ID token, then gives the session a new id.
    let login = authorize_access_token(&oauth.client(&name)?, &session, &params).await?;
    // login.token: keep it server-side (e.g. ferroauth_axum::SessionTokens); login.userinfo: the claims.
    let who = login
        .userinfo
        .get("name")
        .or(login.userinfo.get("sub"))
        .and_then(|v| v.as_str());
    Ok(format!("hello {}", who.unwrap_or("there")))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let oauth = OAuth::from_settings(&ferroauth::Settings::from_file("ferroauth.toml")?)?;
    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:8000".into());
    // The app's public URL: https makes the session cookie Secure (it is SameSite=Lax either way).
    let public_url = std::env::var("PUBLIC_URL").unwrap_or_else(|_| format!("http://{listen}"));
    let routes = Router::new()
        .route("/login/{name}", get(login))
        .route("/auth/{name}", get(auth).post(auth));
    let app = SessionConfig::for_public_url(&public_url)?
        .apply(routes, PurgingMemoryStore::new())
        .with_state(oauth);
    axum::serve(tokio::net::TcpListener::bind(listen).await?, app).await?;
    Ok(())
}
