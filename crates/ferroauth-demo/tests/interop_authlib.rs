//! Interop with Authlib's OAuth 1.0a server (the project's Flask provider in
//! interop/authlib): logins through the demo's routes and signed API calls with every
//! signature method and parameter placement. `interop/authlib/selfcheck.py` runs an
//! independent client (requests-oauthlib) against the same server, so a failure here
//! that the self-check does not share is on ferroauth's side.

mod support;

use ferroauth::session::pending::MemoryPendingStore;
use ferroauth::settings::Settings;
use ferroauth::{CallbackParams, OAuth, Token};
use reqwest::header::LOCATION;
use serde_json::{Value, json};
use support::{AtProvider, Browser, Demo, Framework, Peer};

const HMAC_SECRET: &str = "hmac-consumer-secret";
const PLAIN_SECRET: &str = "plaintext consumer secret & more";
const PRIVATE_KEY: &str = include_str!("../../ferroauth/src/proto/oauth1/testdata/rsa_pkcs1.pem");
const PUBLIC_KEY: &str = include_str!("../../ferroauth/src/proto/oauth1/testdata/rsa_public.pem");

const METHODS: &[(&str, &str)] = &[
    ("hmac", "HMAC-SHA1"),
    ("plain", "PLAINTEXT"),
    ("rsa", "RSA-SHA1"),
];
const PLACEMENTS: &[&str] = &["HEADER", "QUERY", "BODY"];

fn demo_name(method: &str, placement: &str) -> String {
    format!("{method}-{}", placement.to_ascii_lowercase())
}

fn provider_clients(redirect: impl Fn(&str) -> String) -> Value {
    let uris = |method: &str| -> Vec<String> {
        PLACEMENTS
            .iter()
            .map(|p| redirect(&demo_name(method, p)))
            .collect()
    };
    json!([
        { "client_id": "hmac-client", "client_secret": HMAC_SECRET, "redirect_uris": uris("hmac") },
        { "client_id": "plain-client", "client_secret": PLAIN_SECRET, "redirect_uris": uris("plain") },
        { "client_id": "rsa-client", "client_secret": null, "rsa_public_key": PUBLIC_KEY, "redirect_uris": uris("rsa") },
    ])
}

fn settings_toml(issuer: &str) -> String {
    let mut toml = String::new();
    for (method, signature_method) in METHODS {
        for placement in PLACEMENTS {
            toml.push_str(&format!(
                "[clients.{name}]\nclient_id = \"{method}-client\"\nrequest_token_url = \"{issuer}/oauth1/request_token\"\nauthorize_url = \"{issuer}/oauth1/authorize\"\naccess_token_url = \"{issuer}/oauth1/access_token\"\napi_base_url = \"{issuer}/oauth1/api/\"\n",
                name = demo_name(method, placement)
            ));
            match *method {
                "hmac" => toml.push_str(&format!("client_secret = \"{HMAC_SECRET}\"\n")),
                "plain" => toml.push_str(&format!("client_secret = \"{PLAIN_SECRET}\"\n")),
                _ => {}
            }
            let mut kwargs = format!(
                "signature_method = \"{signature_method}\", signature_type = \"{placement}\""
            );
            if *method == "rsa" {
                kwargs.push_str(&format!(", rsa_private_key = '''{PRIVATE_KEY}'''"));
            }
            toml.push_str(&format!("client_kwargs = {{ {kwargs} }}\n"));
        }
    }
    toml
}

async fn logins_and_signed_calls_with_every_method_and_placement(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Authlib]) {
        return;
    }
    let mut demo = Demo::reserve_on(framework).await;
    let peer = Peer::authlib(&provider_clients(|n| demo.redirect_uri(n)), &[]);
    demo.serve(&settings_toml(&peer.issuer));
    for (method, _) in METHODS {
        for placement in PLACEMENTS {
            let name = demo_name(method, placement);
            let browser = Browser::new(&demo);
            let outcome = browser.login(&name, "", AtProvider::LogIn("alice")).await;
            assert_eq!(
                outcome.status,
                200,
                "{name}: {}\n{}",
                outcome.body,
                peer.log()
            );
            assert_eq!(outcome.body["userinfo"]["screen_name"], "alice", "{name}");
            assert_eq!(outcome.body["userinfo"]["user_id"], "uid-alice", "{name}");
            assert_eq!(outcome.body["token"]["token_type"], "OAuth1");
            assert!(
                !outcome.body.to_string().contains("oauth_token"),
                "no secrets in the body"
            );
            // A signed API call whose query parameters are part of the signature.
            let (status, me) = browser.api(&name, "me?count=20&q=a%20b%2Bc").await;
            assert_eq!(status, 200, "{name}: {me}\n{}", peer.log());
            assert_eq!(me["screen_name"], "alice");
            assert_eq!(me["params"]["count"], "20");
            assert_eq!(me["params"]["q"], "a b+c");
        }
    }
}

/// Settings for the core-API tests: one HMAC-SHA1 client.
fn core_client(peer: &Peer) -> ferroauth::OAuthClient {
    let toml = format!(
        "[clients.authlib]\nclient_id = \"hmac-client\"\nclient_secret = \"{HMAC_SECRET}\"\nrequest_token_url = \"{i}/oauth1/request_token\"\nauthorize_url = \"{i}/oauth1/authorize\"\naccess_token_url = \"{i}/oauth1/access_token\"\napi_base_url = \"{i}/oauth1/api/\"\n",
        i = peer.issuer
    );
    OAuth::from_settings(&Settings::from_toml_str(&toml).unwrap())
        .unwrap()
        .client("authlib")
        .unwrap()
}

/// Follows the provider's authorization redirect and returns the callback's parameters.
async fn approve(authorize: &url::Url, extra: &str) -> CallbackParams {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = http
        .get(format!("{authorize}{extra}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let location = url::Url::parse(response.headers()[LOCATION].to_str().unwrap()).unwrap();
    CallbackParams::parse(location.query().unwrap_or("")).unwrap()
}

#[tokio::test]
async fn signed_form_post_and_denials_through_the_core_api() {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Authlib]) {
        return;
    }
    let redirect = "http://127.0.0.1:9/cb";
    let peer = Peer::authlib(
        &json!([{ "client_id": "hmac-client", "client_secret": HMAC_SECRET, "redirect_uris": [redirect] }]),
        &[],
    );
    let client = core_client(&peer);
    let store = MemoryPendingStore::new();

    // Login, then a POST whose form body is signed.
    let authorize = client.authorize_redirect(&store, redirect).await.unwrap();
    let callback = approve(&authorize, "&user=carol").await;
    let login = client
        .authorize_access_token(&store, &callback)
        .await
        .unwrap();
    let Token::OAuth1(token) = &login.token else {
        panic!("OAuth 1.0a token expected")
    };
    assert_eq!(token.extra["screen_name"], "carol");
    let form = vec![
        (
            "status".to_owned(),
            "Hello Ladies + Gentlemen, a signed OAuth request!".to_owned(),
        ),
        ("n".to_owned(), "1".to_owned()),
        ("n".to_owned(), "2".to_owned()),
    ];
    let response = client.post("me", &login.token, form).await.unwrap();
    assert_eq!(
        response.status,
        200,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    let me: Value = response.json().unwrap();
    assert_eq!(me["method"], "POST");
    assert_eq!(
        me["params"]["status"],
        "Hello Ladies + Gentlemen, a signed OAuth request!"
    );
    assert_eq!(
        me["param_pairs"],
        json!([
            [
                "status",
                "Hello Ladies + Gentlemen, a signed OAuth request!"
            ],
            ["n", "1"],
            ["n", "2"]
        ])
    );

    // The same callback twice: the pending record is single-use.
    let again = client
        .authorize_access_token(&store, &callback)
        .await
        .unwrap_err();
    assert_eq!(again.code(), "state_reused");

    // A denial (Twitter's `denied=<token>`) is a typed error, and consumes the record.
    let authorize = client.authorize_redirect(&store, redirect).await.unwrap();
    let denied = approve(&authorize, "&deny=1").await;
    let e = client
        .authorize_access_token(&store, &denied)
        .await
        .unwrap_err();
    assert_eq!((e.code(), e.kind().http_status()), ("access_denied", 400));
    // `error=access_denied` on the callback too.
    let authorize = client.authorize_redirect(&store, redirect).await.unwrap();
    let denied = approve(&authorize, "&deny=error").await;
    assert_eq!(
        client
            .authorize_access_token(&store, &denied)
            .await
            .unwrap_err()
            .code(),
        "access_denied"
    );
}

#[tokio::test]
async fn a_request_token_from_another_session_is_refused() {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Authlib]) {
        return;
    }
    let redirect = "http://127.0.0.1:9/cb";
    let peer = Peer::authlib(
        &json!([{ "client_id": "hmac-client", "client_secret": HMAC_SECRET, "redirect_uris": [redirect] }]),
        &[],
    );
    let client = core_client(&peer);
    // The attacker starts a login in their session and gets the victim to approve it.
    let attacker = MemoryPendingStore::new();
    let authorize = client
        .authorize_redirect(&attacker, redirect)
        .await
        .unwrap();
    let callback = approve(&authorize, "&user=victim").await;
    // The victim's session never started that login: refused before any token request.
    let victim = MemoryPendingStore::new();
    assert_eq!(
        client
            .authorize_access_token(&victim, &callback)
            .await
            .unwrap_err()
            .code(),
        "state_unknown"
    );
    // Without oauth_token at all.
    let empty = CallbackParams::parse("oauth_verifier=x").unwrap();
    assert_eq!(
        client
            .authorize_access_token(&victim, &empty)
            .await
            .unwrap_err()
            .code(),
        "state_missing"
    );
}

#[tokio::test]
async fn a_wrong_consumer_secret_is_a_provider_error() {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Authlib]) {
        return;
    }
    let redirect = "http://127.0.0.1:9/cb";
    let peer = Peer::authlib(
        &json!([{ "client_id": "hmac-client", "client_secret": "the-real-secret", "redirect_uris": [redirect] }]),
        &[],
    );
    let client = core_client(&peer);
    let e = client
        .authorize_redirect(&MemoryPendingStore::new(), redirect)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "provider_error", "{e}");
    assert_eq!(e.kind().http_status(), 502);
    assert!(e.to_string().contains("401"), "{e}");
}

crate::on_both!(logins_and_signed_calls_with_every_method_and_placement,);
