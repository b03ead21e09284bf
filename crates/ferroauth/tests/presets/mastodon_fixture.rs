//! A Mastodon instance that knows no app until it registers: `POST /api/v1/apps` makes
//! one (and is counted), and the authorization and token endpoints refuse every client
//! id it did not give. Its answers follow Mastodon's documentation
//! (docs.joinmastodon.org, "apps" and "oauth" API methods, "Application" and "Account"
//! entities):
//!
//! - `POST /api/v1/apps` (form or JSON: `client_name`, `redirect_uris`, `scopes`,
//!   `website`) answers 200 with the Application (`id`, `name`, `website`,
//!   `redirect_uri`, `redirect_uris`, `client_id`, `client_secret`, `vapid_key`), or 422
//!   `{"error": "Validation failed: ..."}` for a refused one;
//! - `GET /oauth/authorize` with an unknown client or a redirect URI not registered shows
//!   an error page (no redirect), else redirects with `code` and `state`;
//! - `POST /oauth/token` refuses an unknown client as 401 `invalid_client` with
//!   Doorkeeper's description, a bad code or verifier as 400 `invalid_grant`, and answers
//!   `access_token`, `token_type` `Bearer`, `scope`, `created_at` (no `expires_in`, no
//!   refresh token);
//! - `GET /api/v1/accounts/verify_credentials` answers the Account (`id` a string,
//!   `username`, `acct`, `display_name`, `avatar`, `url`), or 401
//!   `{"error": "The access token is invalid"}`.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::{Value, json};

/// How the instance answers a registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registrations {
    /// As Mastodon does.
    Open,
    /// 422 with Mastodon's validation error.
    Refused,
    /// 200 with an HTML page (a server that is not Mastodon at all).
    Garbage,
    /// 307 to the cloud metadata address (a hostile server aiming the app at its own
    /// network through a redirect).
    Redirect,
}

#[derive(Debug, Clone)]
struct App {
    secret: String,
    redirect_uri: String,
    scopes: String,
}

#[derive(Debug)]
struct Inner {
    host: String,
    mode: Registrations,
    registrations: usize,
    apps: HashMap<String, App>,
    /// code → (client id, redirect URI, PKCE challenge).
    codes: HashMap<String, (String, String, Option<String>)>,
    tokens: HashMap<String, String>,
    /// The account every login here is for.
    account_id: String,
    username: String,
}

/// One instance.
#[derive(Clone)]
pub struct Instance {
    inner: Arc<Mutex<Inner>>,
}

impl Instance {
    /// An instance at `host` whose one user is `username` with account id `account_id`.
    pub fn new(host: &str, account_id: &str, username: &str, mode: Registrations) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                host: host.to_owned(),
                mode,
                registrations: 0,
                apps: HashMap::new(),
                codes: HashMap::new(),
                tokens: HashMap::new(),
                account_id: account_id.to_owned(),
                username: username.to_owned(),
            })),
        }
    }

    /// How many registrations it received (refused ones included).
    pub fn registrations(&self) -> usize {
        self.inner.lock().unwrap().registrations
    }

    /// The client ids it gave.
    pub fn client_ids(&self) -> Vec<String> {
        self.inner.lock().unwrap().apps.keys().cloned().collect()
    }

    /// Its routes.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/api/v1/apps", post(register))
            .route("/oauth/authorize", get(authorize))
            .route("/oauth/token", post(token))
            .route(
                "/api/v1/accounts/verify_credentials",
                get(verify_credentials),
            )
            .with_state(self.clone())
    }
}

fn form(body: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

async fn register(State(instance): State<Instance>, body: String) -> Response {
    let f = form(&body);
    let mut inner = instance.inner.lock().unwrap();
    inner.registrations += 1;
    match inner.mode {
        Registrations::Refused => {
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                axum::Json(
                    json!({"error": "Validation failed: Redirect URI must be an absolute URI."}),
                ),
            )
                .into_response();
        }
        Registrations::Garbage => {
            return (
                [(header::CONTENT_TYPE, "text/html")],
                "<html><body>Welcome to nginx!</body></html>",
            )
                .into_response();
        }
        Registrations::Redirect => {
            return (
                StatusCode::TEMPORARY_REDIRECT,
                [(
                    header::LOCATION,
                    "https://169.254.169.254/latest/meta-data/",
                )],
            )
                .into_response();
        }
        Registrations::Open => {}
    }
    let (Some(name), Some(redirect_uri)) = (f.get("client_name"), f.get("redirect_uris")) else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(json!({"error": "Validation failed: Application name can't be blank"})),
        )
            .into_response();
    };
    let scopes = f.get("scopes").cloned().unwrap_or_else(|| "read".into());
    let client_id = unique(&format!("{}-client", inner.host));
    let secret = unique("secret");
    inner.apps.insert(
        client_id.clone(),
        App {
            secret: secret.clone(),
            redirect_uri: redirect_uri.clone(),
            scopes: scopes.clone(),
        },
    );
    axum::Json(json!({
        "id": inner.registrations.to_string(),
        "name": name,
        "website": f.get("website"),
        "scopes": scopes.split(' ').collect::<Vec<_>>(),
        "redirect_uri": redirect_uri,
        "redirect_uris": [redirect_uri],
        "client_id": client_id,
        "client_secret": secret,
        "client_secret_expires_at": 0,
        "vapid_key": "BCk-QqERU0q-CfYZjcuB6lnyyOYfJ2AifKqfeGIm7Z-HiTU5T9eTG5GxVA0_OH5mMlI4UkkDTpaZwozy0TzdZ2M=",
    }))
    .into_response()
}

async fn authorize(
    State(instance): State<Instance>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut inner = instance.inner.lock().unwrap();
    let app = q
        .get("client_id")
        .and_then(|id| inner.apps.get(id))
        .cloned();
    let Some(app) = app else {
        // Doorkeeper's error page: no redirect for an unknown client.
        return (
            StatusCode::UNAUTHORIZED,
            "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.",
        )
            .into_response();
    };
    if q.get("redirect_uri") != Some(&app.redirect_uri) {
        return (
            StatusCode::BAD_REQUEST,
            "The redirect uri included is not valid.",
        )
            .into_response();
    }
    let scope_ok = q
        .get("scope")
        .is_some_and(|s| s.split(' ').all(|p| app.scopes.split(' ').any(|a| a == p)));
    if !scope_ok || q.get("response_type").map(String::as_str) != Some("code") {
        return (StatusCode::BAD_REQUEST, "The requested scope is invalid.").into_response();
    }
    let code = unique("code");
    inner.codes.insert(
        code.clone(),
        (
            q["client_id"].clone(),
            app.redirect_uri.clone(),
            q.get("code_challenge").cloned(),
        ),
    );
    Redirect::to(&format!(
        "{}?code={code}&state={}",
        app.redirect_uri, q["state"]
    ))
    .into_response()
}

/// The client's id and secret: HTTP Basic (RFC 6749 §2.3.1, form-encoded), or the body.
fn client_credentials(
    headers: &HeaderMap,
    f: &HashMap<String, String>,
) -> Option<(String, String)> {
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Basic "))
    {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(basic)
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (id, secret) = text.split_once(':')?;
        let unescape = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
        };
        return Some((unescape(id)?, unescape(secret)?));
    }
    Some((f.get("client_id")?.clone(), f.get("client_secret")?.clone()))
}

async fn token(State(instance): State<Instance>, headers: HeaderMap, body: String) -> Response {
    let f = form(&body);
    let mut inner = instance.inner.lock().unwrap();
    let known = client_credentials(&headers, &f)
        .filter(|(id, secret)| inner.apps.get(id).is_some_and(|app| &app.secret == secret));
    let Some((client_id, _)) = known else {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({
                "error": "invalid_client",
                "error_description": "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method."
            })),
        )
            .into_response();
    };
    let invalid_grant = || {
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({
                "error": "invalid_grant",
                "error_description": "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."
            })),
        )
            .into_response()
    };
    let Some((code_client, redirect_uri, challenge)) =
        f.get("code").and_then(|c| inner.codes.remove(c))
    else {
        return invalid_grant();
    };
    if code_client != client_id || f.get("redirect_uri") != Some(&redirect_uri) {
        return invalid_grant();
    }
    if let Some(challenge) = challenge {
        let verifier = f.get("code_verifier").cloned().unwrap_or_default();
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
        let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref());
        if expected != challenge {
            return invalid_grant();
        }
    }
    let access = unique("access");
    inner.tokens.insert(access.clone(), client_id);
    axum::Json(json!({
        "access_token": access,
        "token_type": "Bearer",
        "scope": "read:accounts",
        "created_at": 1_733_000_000,
    }))
    .into_response()
}

async fn verify_credentials(State(instance): State<Instance>, headers: HeaderMap) -> Response {
    let inner = instance.inner.lock().unwrap();
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "));
    if !token.is_some_and(|t| inner.tokens.contains_key(t)) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "The access token is invalid"})),
        )
            .into_response();
    }
    let account: Value = json!({
        "id": inner.account_id,
        "username": inner.username,
        "acct": inner.username,
        "display_name": "",
        "locked": false,
        "bot": false,
        "created_at": "2022-11-02T00:00:00.000Z",
        "note": "<p>Hello</p>",
        "url": format!("https://{}/@{}", inner.host, inner.username),
        "avatar": format!("https://{}/avatars/original/missing.png", inner.host),
        "followers_count": 1,
        "following_count": 2,
        "statuses_count": 3,
    });
    axum::Json(account).into_response()
}
