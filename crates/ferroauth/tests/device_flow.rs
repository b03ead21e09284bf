//! The device authorization grant's polling rules (RFC 8628 §3.5) against a scripted
//! mock, for the answers a well-behaved provider rarely gives on cue: `slow_down` grows
//! the interval by 5 s, `authorization_pending` keeps polling, `expired_token` and
//! `access_denied` end it with their codes, a token endpoint that does not answer in time
//! doubles the interval, and the device code never leaves the back channel. The approval at a real provider is in ferroauth-demo's interop_modern_oauth.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use ferroauth::settings::Settings;
use ferroauth::{DevicePoll, OAuth};
use serde_json::{Value, json};

#[derive(Default)]
struct Script {
    /// The token endpoint's next answers: an error code, `HANG` for no answer within the
    /// client's timeout, or `None` for a token.
    answers: VecDeque<Option<&'static str>>,
    /// The forms the token endpoint received.
    polls: Vec<Vec<(String, String)>>,
}

type Shared = Arc<Mutex<Script>>;

/// A scripted answer: the token endpoint says nothing for longer than the client waits.
const HANG: &str = "(hang)";
/// The client's whole-call timeout in these tests, seconds.
const CLIENT_TIMEOUT: f64 = 1.0;

async fn device(Form(form): Form<Vec<(String, String)>>) -> Json<Value> {
    assert!(form.iter().any(|(k, v)| k == "client_id" && v == "tv"));
    Json(json!({
        "device_code": "dc-secret-0123456789",
        "user_code": "BDWP-HQPK",
        "verification_uri": "https://op.example/device",
        "verification_uri_complete": "https://op.example/device?user_code=BDWP-HQPK",
        "expires_in": 600,
        "interval": 2,
    }))
}

async fn token(State(s): State<Shared>, Form(form): Form<Vec<(String, String)>>) -> Response {
    let answer = {
        let mut s = s.lock().unwrap();
        s.polls.push(form);
        s.answers.pop_front().flatten()
    };
    match answer {
        Some(HANG) => {
            tokio::time::sleep(std::time::Duration::from_secs_f64(CLIENT_TIMEOUT * 3.0)).await;
            StatusCode::BAD_REQUEST.into_response()
        }
        Some(error) => (StatusCode::BAD_REQUEST, Json(json!({"error": error}))).into_response(),
        None => Json(json!({"access_token": "at-tv", "token_type": "Bearer", "expires_in": 3600}))
            .into_response(),
    }
}

async fn start(answers: &[Option<&'static str>]) -> (Shared, ferroauth::OAuthClient) {
    let script = Arc::new(Mutex::new(Script {
        answers: answers.iter().copied().collect(),
        polls: Vec::new(),
    }));
    let app = Router::new()
        .route("/device", post(device))
        .route("/token", post(token))
        .with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let toml = format!(
        "[clients.tv]\nclient_id = \"tv\"\nauthorize_url = \"{base}/authorize\"\naccess_token_url = \"{base}/token\"\ndevice_authorization_endpoint = \"{base}/device\"\nclient_kwargs = {{ scope = \"read\", timeout = {CLIENT_TIMEOUT} }}\n"
    );
    let client = OAuth::from_settings(&Settings::from_toml_str(&toml).unwrap())
        .unwrap()
        .client("tv")
        .unwrap();
    (script, client)
}

#[tokio::test]
async fn slow_down_grows_the_interval_and_pending_keeps_polling() {
    let (script, client) = start(&[Some("slow_down"), Some("authorization_pending"), None]).await;
    let mut device = client.device_authorization(&[]).await.unwrap();
    assert_eq!(device.interval, 2);
    assert!(!format!("{device:?}").contains("dc-secret"), "{device:?}");
    assert!(matches!(
        client.poll_device_token(&mut device).await.unwrap(),
        DevicePoll::SlowDown
    ));
    assert_eq!(device.interval, 7, "slow_down adds 5 s (RFC 8628 §3.5)");
    assert!(matches!(
        client.poll_device_token(&mut device).await.unwrap(),
        DevicePoll::Pending
    ));
    assert_eq!(device.interval, 7);
    let DevicePoll::Done(login) = client.poll_device_token(&mut device).await.unwrap() else {
        panic!("the third poll gets the token")
    };
    assert_eq!(login.client, "tv");
    let polls = &script.lock().unwrap().polls;
    assert_eq!(polls.len(), 3);
    assert!(polls[0].contains(&(
        "grant_type".into(),
        "urn:ietf:params:oauth:grant-type:device_code".into()
    )));
    assert!(polls[0].contains(&("device_code".into(), "dc-secret-0123456789".into())));
}

#[tokio::test]
async fn expired_and_denied_end_the_polling_with_their_codes() {
    for code in ["expired_token", "access_denied"] {
        let (_, client) = start(&[Some("authorization_pending"), Some(code)]).await;
        let mut device = client.device_authorization(&[]).await.unwrap();
        assert!(matches!(
            client.poll_device_token(&mut device).await.unwrap(),
            DevicePoll::Pending
        ));
        let e = client.poll_device_token(&mut device).await.unwrap_err();
        assert_eq!(e.code(), code, "{e}");
    }
    // Past its lifetime the code is not even sent.
    let (script, client) = start(&[]).await;
    let mut device = client.device_authorization(&[]).await.unwrap();
    device.expires_at = 0;
    let e = client.poll_device_token(&mut device).await.unwrap_err();
    assert_eq!(e.code(), "expired_token");
    assert!(script.lock().unwrap().polls.is_empty());
}

#[tokio::test]
async fn timeouts_back_off_exponentially() {
    let answers = [
        Some("slow_down"),
        Some(HANG),
        Some(HANG),
        Some("authorization_pending"),
        None,
    ];
    let (script, client) = start(&answers).await;
    let mut device = client.device_authorization(&[]).await.unwrap();
    // The waits a device makes between its polls (what `wait_for_device_token` sleeps):
    // 2 s as asked, 5 s more on slow_down, then twice as long after each timeout
    // (RFC 8628 §3.5), kept once the endpoint answers again.
    let mut waits = vec![device.interval];
    let login = loop {
        match client.poll_device_token(&mut device).await.unwrap() {
            DevicePoll::Done(login) => break login,
            _ => waits.push(device.interval),
        }
    };
    assert_eq!(waits, [2, 7, 14, 28, 28]);
    assert_eq!(login.client, "tv");
    assert_eq!(script.lock().unwrap().polls.len(), 5);
}
