//! The floor: a login's HTTP messages without ferroauth.
//!
//! An app with the demo's routes that does only what a login's messages require of any
//! app on the same stack (tokio, hyper's server through axum, hyper's pooled client): it
//! answers `/login/{name}` and `/auth/{name}` the way the driver expects, and makes the same
//! calls to the provider, with no session, no state or nonce, no signature, no ID token
//! check and no parsing beyond the one field it must pass on. Its CPU time per login is the
//! floor under any login on this machine: the part of the demo's figure that no library
//! code can remove (`ferroauth-loadgen --floor`).
//!
//! It makes the provider do the same work as for the demo: the OpenID Connect authorization
//! request carries PKCE and a nonce, the OAuth 1.0a requests carry a full `Authorization`
//! header (the benchmark's provider does not check OAuth 1.0a signatures, so a fixed one
//! serves).
//!
//! For API calls (`/api/{name}/{*path}`) it makes a bare hyper `GET` under the provider's
//! API base with the access token of its first OpenID Connect login, and relays the status,
//! the content type and the body: no session, no expiry check, no path check.
//!
//! Never use it for anything but measuring: it performs none of the checks that make a
//! login safe.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use ferroauth::settings::Settings;
use ferroauth_testkit::dev::{OAUTH1_CLIENT, OIDC_CLIENT};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sha2::Digest;

/// A fixed PKCE verifier: the provider checks it against the challenge like any other.
const CODE_VERIFIER: &str = "floor-floor-floor-floor-floor-floor-floor-floor";
/// A fixed OAuth 1.0a nonce, timestamp and signature: the benchmark's provider does not
/// check them, and they give the header the size of a real one.
const OAUTH1_FIXED: &str = "oauth_nonce=\"c2VjcmV0LW5vdC1uZWVkZWQtaGVyZQ\", \
     oauth_signature=\"tR3%2BTy81lMeYAr%2FFid0kMTYa%2FWM%3D\", \
     oauth_signature_method=\"HMAC-SHA1\", oauth_timestamp=\"1764201600\", oauth_version=\"1.0\"";

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// What the floor app knows of the provider, read from the demo's settings once.
struct Floor {
    http: HttpClient,
    /// The OpenID Connect authorization URL, complete but for nothing: state and nonce
    /// are fixed.
    oidc_authorize: String,
    oidc_token_url: String,
    oidc_basic: HeaderValue,
    oidc_token_form_prefix: String,
    oauth1_request_token_url: String,
    oauth1_authorize_url: String,
    oauth1_access_token_url: String,
    oauth1_request_header: HeaderValue,
    oauth1_consumer: String,
    cookies: AtomicU64,
    /// The OpenID Connect client's `api_base_url`.
    api_base: String,
    /// `Bearer <token>` of the first OpenID Connect login, for every API call.
    api_bearer: OnceLock<HeaderValue>,
}

/// The floor app for the demo's settings (the benchmark provider's `demo_settings`),
/// serving at `base` (`http://127.0.0.1:PORT`). Fetches the OpenID Connect discovery
/// document once.
pub async fn router(settings: &Settings, base: &str) -> Result<Router, String> {
    let client = |name: &str| {
        settings
            .clients
            .get(name)
            .ok_or_else(|| format!("the settings have no client {name:?}"))
    };
    let (oidc, oauth1) = (client(OIDC_CLIENT)?, client(OAUTH1_CLIENT)?);
    let required = |value: &Option<String>, what: &str| {
        value
            .clone()
            .ok_or_else(|| format!("the settings lack {what}"))
    };
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let http: HttpClient = Client::builder(TokioExecutor::new()).build(connector);

    let discovery = fetch(
        &http,
        Request::get(required(&oidc.server_metadata_url, "server_metadata_url")?)
            .body(Full::default()),
    )
    .await?;
    let discovery: serde_json::Value =
        serde_json::from_slice(&discovery).map_err(|e| format!("discovery: {e}"))?;
    let endpoint = |key: &str| {
        discovery[key]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("discovery has no {key}"))
    };
    let oidc_id = required(&oidc.client_id, "the OpenID Connect client_id")?;
    let oidc_secret = oidc.client_secret.as_ref().map_or("", |s| s.expose());
    let oidc_redirect = format!("{base}/auth/{OIDC_CLIENT}");
    let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(CODE_VERIFIER));
    let oidc_authorize = url::Url::parse_with_params(
        &endpoint("authorization_endpoint")?,
        [
            ("response_type", "code"),
            ("client_id", oidc_id.as_str()),
            ("redirect_uri", oidc_redirect.as_str()),
            ("scope", "openid email profile"),
            ("state", "floor-state-floor-state-floor-state-floor-s"),
            ("nonce", "floor-nonce-floor-nonce-floor-nonce-floor-n"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )
    .map_err(|e| format!("authorization_endpoint: {e}"))?;
    let oidc_token_form_prefix = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("redirect_uri", &oidc_redirect)
        .append_pair("code_verifier", CODE_VERIFIER)
        .finish();
    let basic = STANDARD.encode(format!("{oidc_id}:{oidc_secret}"));

    let oauth1_consumer = required(&oauth1.client_id, "the OAuth 1.0a client_id")?;
    let callback: String =
        url::form_urlencoded::byte_serialize(format!("{base}/auth/{OAUTH1_CLIENT}").as_bytes())
            .collect();
    let request_header = format!(
        "OAuth oauth_consumer_key=\"{oauth1_consumer}\", oauth_callback=\"{callback}\", {OAUTH1_FIXED}"
    );
    Ok(Router::new()
        .route(
            "/",
            get(|| async { "the floor app: see ferroauth_bench::floor" }),
        )
        .route("/login/{name}", get(login))
        .route("/auth/{name}", get(callback_route))
        .route("/api/{name}/{*path}", get(api))
        .with_state(Arc::new(Floor {
            http,
            oidc_authorize: oidc_authorize.into(),
            oidc_token_url: endpoint("token_endpoint")?,
            oidc_basic: header_value(&format!("Basic {basic}"))?,
            oidc_token_form_prefix,
            oauth1_request_token_url: required(&oauth1.request_token_url, "request_token_url")?,
            oauth1_authorize_url: required(&oauth1.authorize_url, "authorize_url")?,
            oauth1_access_token_url: required(&oauth1.access_token_url, "access_token_url")?,
            oauth1_request_header: header_value(&request_header)?,
            oauth1_consumer,
            cookies: AtomicU64::new(0),
            api_base: required(&oidc.api_base_url, "the OpenID Connect api_base_url")?,
            api_bearer: OnceLock::new(),
        })))
}

fn header_value(text: &str) -> Result<HeaderValue, String> {
    HeaderValue::from_str(text).map_err(|e| format!("header {text:?}: {e}"))
}

/// Sends a request and returns the body of a 200 answer.
async fn fetch(
    http: &HttpClient,
    request: Result<Request<Full<Bytes>>, axum::http::Error>,
) -> Result<Bytes, String> {
    let request = request.map_err(|e| format!("request: {e}"))?;
    let what = request.uri().to_string();
    let response = http
        .request(request)
        .await
        .map_err(|e| format!("{what}: {e}"))?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("{what}: {e}"))?
        .to_bytes();
    if status != StatusCode::OK {
        return Err(format!("{what}: HTTP {status}"));
    }
    Ok(body)
}

/// The value of `key` in an `application/x-www-form-urlencoded` string, undecoded (the
/// provider's tokens need no decoding).
fn form_field<'a>(form: &'a str, key: &str) -> Option<&'a str> {
    form.split('&')
        .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
}

fn failure(status: StatusCode, message: String) -> Response {
    (status, message).into_response()
}

async fn login(State(floor): State<Arc<Floor>>, Path(name): Path<String>) -> Response {
    let target = match name.as_str() {
        OIDC_CLIENT => floor.oidc_authorize.clone(),
        OAUTH1_CLIENT => {
            let request = Request::post(&floor.oauth1_request_token_url)
                .header(header::AUTHORIZATION, floor.oauth1_request_header.clone())
                .body(Full::default());
            let body = match fetch(&floor.http, request).await {
                Ok(body) => body,
                Err(e) => return failure(StatusCode::BAD_GATEWAY, e),
            };
            let body = String::from_utf8_lossy(&body);
            let Some(token) = form_field(&body, "oauth_token") else {
                return failure(StatusCode::BAD_GATEWAY, "no oauth_token".into());
            };
            format!("{}?oauth_token={token}", floor.oauth1_authorize_url)
        }
        _ => return failure(StatusCode::NOT_FOUND, format!("no client {name:?}")),
    };
    // A cookie as long as a session id, so that the answers have the demo's size.
    let n = floor.cookies.fetch_add(1, Ordering::Relaxed);
    let cookie = format!("id=floor{n:017}; HttpOnly; SameSite=Lax; Path=/");
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, target), (header::SET_COOKIE, cookie)],
    )
        .into_response()
}

async fn callback_route(
    State(floor): State<Arc<Floor>>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    let request = match name.as_str() {
        OIDC_CLIENT => {
            let code = form_field(&query, "code").unwrap_or_default();
            Request::post(&floor.oidc_token_url)
                .header(header::AUTHORIZATION, floor.oidc_basic.clone())
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Full::new(Bytes::from(format!(
                    "{}&code={code}",
                    floor.oidc_token_form_prefix
                ))))
        }
        OAUTH1_CLIENT => {
            let token = form_field(&query, "oauth_token").unwrap_or_default();
            let verifier = form_field(&query, "oauth_verifier").unwrap_or_default();
            Request::post(&floor.oauth1_access_token_url)
                .header(
                    header::AUTHORIZATION,
                    format!(
                        "OAuth oauth_consumer_key=\"{}\", oauth_token=\"{token}\", oauth_verifier=\"{verifier}\", {OAUTH1_FIXED}",
                        floor.oauth1_consumer
                    ),
                )
                .body(Full::default())
        }
        _ => return failure(StatusCode::NOT_FOUND, format!("no client {name:?}")),
    };
    match fetch(&floor.http, request).await {
        Ok(body) if name == OIDC_CLIENT && floor.api_bearer.get().is_none() => {
            keep_api_token(&floor, &body);
            axum::Json(serde_json::json!({
                "provider": name,
                "userinfo": { "sub": "floor" },
            }))
            .into_response()
        }
        Ok(_) => axum::Json(serde_json::json!({
            "provider": name,
            "userinfo": { "sub": "floor" },
        }))
        .into_response(),
        Err(e) => failure(StatusCode::BAD_GATEWAY, e),
    }
}

/// Keeps the access token of a token response for the API calls (once).
fn keep_api_token(floor: &Floor, token_response: &[u8]) {
    let token = serde_json::from_slice::<serde_json::Value>(token_response)
        .ok()
        .and_then(|v| v["access_token"].as_str().map(|t| format!("Bearer {t}")));
    if let Some(bearer) = token.and_then(|t| HeaderValue::from_str(&t).ok()) {
        let _ = floor.api_bearer.set(bearer);
    }
}

/// An API call: a bare `GET` under the API base with the kept token, relayed.
async fn api(
    State(floor): State<Arc<Floor>>,
    Path((name, path)): Path<(String, String)>,
) -> Response {
    let Some(bearer) = floor.api_bearer.get() else {
        return failure(StatusCode::UNAUTHORIZED, "no login yet".into());
    };
    if name != OIDC_CLIENT {
        return failure(StatusCode::NOT_FOUND, format!("no client {name:?}"));
    }
    let request = Request::get(format!("{}{path}", floor.api_base))
        .header(header::AUTHORIZATION, bearer.clone())
        .body(Full::default());
    match fetch(&floor.http, request).await {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => failure(StatusCode::BAD_GATEWAY, e),
    }
}
