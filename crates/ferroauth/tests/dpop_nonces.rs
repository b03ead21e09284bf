//! DPoP nonces (RFC 9449 §8, §9) against a small mock: a server's `use_dpop_nonce`
//! challenge is answered once with the nonce it gave, remembered for the next request,
//! and never looped; DPoP-bound tokens go out as `DPoP`, bearer ones as `Bearer` without
//! a proof. The mock is ours because a real server never keeps challenging forever. Also:
//! a provider whose metadata takes only other DPoP algorithms is named at the first login.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ferroauth::settings::Settings;
use ferroauth::{OAuth, OAuth2Token, Secret, Token};
use serde_json::{Value, json};

#[derive(Default)]
struct Mock {
    /// Challenge every proof, with a new nonce each time.
    always_challenge: bool,
    requests: AtomicUsize,
    nonce: Mutex<Option<String>>,
    /// What the last request carried: (Authorization, proof claims).
    seen: Mutex<Vec<(String, Option<Value>)>>,
}

type Shared = Arc<Mock>;

fn proof_claims(headers: &HeaderMap) -> Option<Value> {
    let proof = headers.get("dpop")?.to_str().ok()?;
    let payload = URL_SAFE_NO_PAD.decode(proof.split('.').nth(1)?).ok()?;
    serde_json::from_slice(&payload).ok()
}

/// Whether the proof carries the nonce this mock handed out last; otherwise a new nonce.
fn check_nonce(mock: &Mock, claims: Option<&Value>) -> Result<(), String> {
    let n = mock.requests.fetch_add(1, Ordering::SeqCst);
    let mut nonce = mock.nonce.lock().unwrap();
    let presented = claims.and_then(|c| c["nonce"].as_str());
    if !mock.always_challenge && nonce.is_some() && presented == nonce.as_deref() {
        return Ok(());
    }
    let fresh = format!("nonce-{n}");
    *nonce = Some(fresh.clone());
    Err(fresh)
}

async fn api(State(mock): State<Shared>, headers: HeaderMap) -> Response {
    let claims = proof_claims(&headers);
    let authorization = headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    mock.seen
        .lock()
        .unwrap()
        .push((authorization.clone(), claims.clone()));
    if authorization.starts_with("Bearer ") {
        return Json(json!({"scheme": "Bearer"})).into_response();
    }
    match check_nonce(&mock, claims.as_ref()) {
        Ok(()) => Json(json!({"scheme": "DPoP", "claims": claims})).into_response(),
        Err(fresh) => (
            StatusCode::UNAUTHORIZED,
            [
                ("www-authenticate", "DPoP error=\"use_dpop_nonce\", error_description=\"Resource server requires nonce in DPoP proof\"".to_owned()),
                ("dpop-nonce", fresh),
            ],
        )
            .into_response(),
    }
}

async fn token(State(mock): State<Shared>, headers: HeaderMap) -> Response {
    let claims = proof_claims(&headers);
    match check_nonce(&mock, claims.as_ref()) {
        Ok(()) => Json(json!({"access_token": "at-service", "token_type": "DPoP", "expires_in": 60}))
            .into_response(),
        Err(fresh) => (
            StatusCode::BAD_REQUEST,
            [("dpop-nonce", fresh)],
            Json(json!({"error": "use_dpop_nonce", "error_description": "Authorization server requires nonce in DPoP proof"})),
        )
            .into_response(),
    }
}

use axum::Json;

async fn start(always_challenge: bool) -> (Shared, String) {
    let mock = Arc::new(Mock {
        always_challenge,
        ..Mock::default()
    });
    let app = Router::new()
        .route("/api/me", get(api))
        .route("/token", post(token))
        .with_state(mock.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (mock, base)
}

fn client(base: &str, dpop: bool) -> ferroauth::OAuthClient {
    let toml = format!(
        "[clients.rs]\nclient_id = \"dpop-app\"\nclient_secret = \"dpop-secret\"\nauthorize_url = \"{base}/authorize\"\naccess_token_url = \"{base}/token\"\napi_base_url = \"{base}/api/\"\nclient_kwargs = {{ dpop = {dpop} }}\n"
    );
    OAuth::from_settings(&Settings::from_toml_str(&toml).unwrap())
        .unwrap()
        .client("rs")
        .unwrap()
}

fn token_of(kind: &str) -> Token {
    Token::OAuth2(OAuth2Token {
        access_token: Secret::new("at-bound-0123456789"),
        token_type: kind.into(),
        refresh_token: None,
        expires_at: None,
        scope: None,
        id_token: None,
        extra: Default::default(),
    })
}

fn requests(mock: &Mock) -> usize {
    mock.requests.load(Ordering::SeqCst)
}

#[tokio::test]
async fn a_resource_server_nonce_is_answered_once_then_remembered() {
    let (mock, base) = start(false).await;
    let c = client(&base, true);
    let response = c.get("me", &token_of("DPoP")).await.unwrap();
    assert_eq!(
        response.status,
        200,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    assert_eq!(requests(&mock), 2, "one challenge, one retry");
    let seen = mock.seen.lock().unwrap().clone();
    assert_eq!(seen[1].0, "DPoP at-bound-0123456789");
    let claims = seen[1].1.as_ref().expect("a proof");
    assert_eq!(claims["nonce"], "nonce-0");
    assert_eq!(claims["htm"], "GET");
    assert_eq!(claims["htu"], format!("{base}/api/me"));
    assert!(seen[0].1.as_ref().unwrap().get("nonce").is_none());
    // The nonce is kept: the next call passes at once.
    let response = c.get("me", &token_of("dpop")).await.unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(requests(&mock), 3);
}

#[tokio::test]
async fn a_nonce_challenge_is_never_looped() {
    let (mock, base) = start(true).await;
    let c = client(&base, true);
    let response = c.get("me", &token_of("DPoP")).await.unwrap();
    assert_eq!(
        response.status, 401,
        "the second challenge is the caller's answer"
    );
    assert_eq!(requests(&mock), 2, "exactly one retry");
    // At the token endpoint the same: two requests, then the typed error.
    let (mock, base) = start(true).await;
    let e = client(&base, true)
        .fetch_client_credentials_token(&[])
        .await
        .unwrap_err();
    assert_eq!(e.code(), "use_dpop_nonce", "{e}");
    assert_eq!(requests(&mock), 2);
}

#[tokio::test]
async fn a_token_endpoint_nonce_is_answered_once() {
    let (mock, base) = start(false).await;
    let token = client(&base, true)
        .fetch_client_credentials_token(&[])
        .await
        .unwrap();
    assert_eq!(token.token_type, "DPoP");
    assert_eq!(requests(&mock), 2);
}

#[tokio::test]
async fn bearer_tokens_go_without_proofs_and_bound_tokens_need_dpop_on() {
    let (mock, base) = start(false).await;
    let response = client(&base, true)
        .get("me", &token_of("Bearer"))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    let seen = mock.seen.lock().unwrap().clone();
    assert_eq!(seen[0].0, "Bearer at-bound-0123456789");
    assert!(seen[0].1.is_none(), "no proof with a bearer token");
    let e = client(&base, false)
        .get("me", &token_of("DPoP"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "client_misconfigured", "{e}");
    assert!(e.to_string().contains("dpop"), "{e}");
}

/// A provider whose metadata takes only other DPoP algorithms than the client's key: the
/// first login says so as a settings problem, before any proof is sent.
#[tokio::test]
async fn a_provider_that_takes_other_dpop_algorithms_is_named_at_the_first_login() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let metadata = json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/jwks"),
        "response_types_supported": ["code"],
        "dpop_signing_alg_values_supported": ["PS256", "ES384"],
    });
    let app = Router::new().route(
        "/.well-known/openid-configuration",
        get(move || async move { axum::Json(metadata) }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let toml = format!(
        "[clients.rs]\nclient_id = \"dpop-app\"\nserver_metadata_url = \"{base}/.well-known/openid-configuration\"\nclient_kwargs = {{ dpop = true, scope = \"openid\" }}\n"
    );
    let client = OAuth::from_settings(&Settings::from_toml_str(&toml).unwrap())
        .unwrap()
        .client("rs")
        .unwrap();
    let e = client
        .authorize_redirect(
            &ferroauth::session::pending::MemoryPendingStore::new(),
            "http://127.0.0.1/callback",
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "client_misconfigured", "{e}");
    assert!(e.to_string().contains("PS256, ES384, not ES256"), "{e}");
}
