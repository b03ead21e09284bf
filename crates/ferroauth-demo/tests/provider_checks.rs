//! The provider checks of the guide (crates/ferroauth/src/guide/provider_checks.md) live in
//! the core, so both frameworks make them: a provider answering a token of an unknown type
//! (`mac`), or an ID token not valid yet (`nbf` an hour ahead), gets the same typed 502
//! from the axum and the actix demo, and the next good login still succeeds.

mod support;

use aws_lc_rs::hmac;
use axum::extract::Form;
use axum::http::header;
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use support::Framework;
use support::harness::{self, Agent, Instance};
use url::Url;

const CLIENT: &str = "checked";
const CLIENT_ID: &str = "checked-app";
/// Long enough to key HS256 (RFC 7518 §3.2), so that the fake needs no key set.
const SECRET: &str = "a-client-secret-long-enough-to-key-hs256";

/// The fake provider's issuer, fixed per test run by the port it listens on.
#[derive(Clone)]
struct Issuer(String);

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// An HS256 ID token keyed with the client secret.
fn id_token(issuer: &str, nonce: &str, extra: Value) -> String {
    let mut claims = json!({
        "iss": issuer,
        "sub": "checked-user",
        "aud": CLIENT_ID,
        "iat": now(),
        "exp": now() + 300,
        "nonce": nonce,
    });
    for (k, v) in extra.as_object().unwrap() {
        claims[k] = v.clone();
    }
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(json!({"alg": "HS256", "typ": "JWT"}).to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let key = hmac::Key::new(hmac::HMAC_SHA256, SECRET.as_bytes());
    let tag = hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// The token endpoint. The code is `<behaviour>~<nonce>`: the test plays the browser and
/// passes on the nonce the demo sent, as a real provider would remember it.
async fn token(
    axum::extract::State(Issuer(issuer)): axum::extract::State<Issuer>,
    Form(form): Form<Vec<(String, String)>>,
) -> axum::Json<Value> {
    let code = form
        .iter()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    let (behaviour, nonce) = code.split_once('~').unwrap_or((code, ""));
    let (token_type, extra) = match behaviour {
        "mac" => ("mac", json!({})),
        "nbf" => ("Bearer", json!({"nbf": now() + 3600})),
        _ => ("Bearer", json!({})),
    };
    axum::Json(json!({
        "access_token": format!("at-{behaviour}"),
        "token_type": token_type,
        "expires_in": 3600,
        "scope": "openid",
        "id_token": id_token(&issuer, nonce, extra),
    }))
}

async fn setup(framework: Framework) -> (Instance, Instance) {
    let fake = harness::reserve().await;
    let base = fake.base.clone();
    let fake = fake.serve(
        axum::Router::new()
            .route("/token", post(token))
            .with_state(Issuer(base.clone())),
    );
    let settings = format!(
        r#"
[clients.{CLIENT}]
client_id = "{CLIENT_ID}"
client_secret = "{SECRET}"
issuer = "{base}"
authorize_url = "{base}/authorize"
access_token_url = "{base}/token"
client_kwargs = {{ scope = "openid", id_token_signing_algs = "HS256" }}
"#
    );
    let demo = harness::reserve()
        .await
        .serve_settings(framework, &settings)
        .await;
    (demo, fake)
}

/// A login through the demo whose provider behaves as `behaviour` says: status and body of
/// the callback.
async fn login(demo: &str, behaviour: &str) -> (u16, Value) {
    let http = harness::http();
    let mut agent = Agent::new();
    let r = agent
        .send(
            &http,
            reqwest::Method::GET,
            &format!("{demo}/login/{CLIENT}"),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 302, "the login starts");
    let location = Url::parse(r.headers()[header::LOCATION].to_str().unwrap()).unwrap();
    let param = |name: &str| {
        location
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| panic!("no {name} in {location}"))
    };
    let (state, nonce) = (param("state"), param("nonce"));
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("code", &format!("{behaviour}~{nonce}"))
        .append_pair("state", &state)
        .finish();
    let r = agent
        .send(
            &http,
            reqwest::Method::GET,
            &format!("{demo}/auth/{CLIENT}?{query}"),
        )
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn refused(framework: Framework, behaviour: &str, code: &str, names: &str) {
    let (demo, _fake) = setup(framework).await;
    let (status, body) = login(&demo.base, behaviour).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (502, Some(code)),
        "{framework:?} {behaviour}: {body}"
    );
    let description = body["error_description"].as_str().unwrap_or_default();
    assert!(description.contains(names), "{description}");
    let (status, body) = login(&demo.base, "ok").await;
    assert_eq!(status, 200, "{framework:?}: the next login: {body}");
    assert_eq!(body["userinfo"]["sub"], "checked-user");
}

async fn token_type_mac_is_a_typed_502(framework: Framework) {
    refused(framework, "mac", "invalid_token_response", "token_type").await;
}

async fn id_token_nbf_ahead_is_a_typed_502(framework: Framework) {
    refused(framework, "nbf", "invalid_id_token", "`nbf`").await;
}

crate::on_both!(
    token_type_mac_is_a_typed_502,
    id_token_nbf_ahead_is_a_typed_502
);
