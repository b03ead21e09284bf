//! The client against the project's own development provider (ferroauth-testkit, an
//! independent server-side implementation): RFC 8414 discovery, key rotation, and both
//! protocols through the core API.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::Request;
use axum::middleware::Next;
use ferroauth::{CallbackParams, MemoryPendingStore, OAuth, OAuthClient, Settings, Token};
use ferroauth_testkit::{Client, TestProvider, User};
use http::header::LOCATION;

const REDIRECT: &str = "http://127.0.0.1:9/cb";
const SECRET: &str = "testkit-client-secret-0123456789abcdef";

async fn provider() -> TestProvider {
    TestProvider::builder()
        .user(User::new("alice").email("alice@example.test"))
        .user(User::new("bob"))
        .client(Client::confidential("web", SECRET, REDIRECT))
        .client(Client::oauth1("consumer", SECRET, None))
        .auto_approve(true)
        .start()
        .await
        .unwrap()
}

fn client(toml: &str) -> OAuthClient {
    OAuth::from_settings(&Settings::from_toml_str(toml).unwrap())
        .unwrap()
        .client("t")
        .unwrap()
}

/// Plays the browser at the provider (auto-approve answers with one redirect).
async fn approve(authorize: &url::Url) -> CallbackParams {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = http.get(authorize.clone()).send().await.unwrap();
    assert_eq!(response.status(), 302, "{authorize}");
    let location = url::Url::parse(response.headers()[LOCATION].to_str().unwrap()).unwrap();
    assert!(location.as_str().starts_with(REDIRECT), "{location}");
    CallbackParams::parse(location.query().unwrap_or("")).unwrap()
}

async fn login(client: &OAuthClient, hint: &str) -> ferroauth::Login {
    let store = MemoryPendingStore::new();
    let authorize = client
        .authorize_redirect_with(&store, REDIRECT, &[("login_hint", hint)])
        .await
        .unwrap();
    let callback = approve(&authorize).await;
    client
        .authorize_access_token(&store, &callback)
        .await
        .unwrap()
}

#[tokio::test]
async fn rfc8414_metadata_discovery() {
    let idp = provider().await;
    let c = client(&format!(
        "[clients.t]\nclient_id = \"web\"\nclient_secret = \"{SECRET}\"\nserver_metadata_url = \"{}/.well-known/oauth-authorization-server\"\nclient_kwargs = {{ scope = \"openid email\" }}\n",
        idp.issuer()
    ));
    let done = login(&c, "alice").await;
    assert_eq!(done.userinfo["sub"], "alice");
    assert_eq!(done.userinfo["email"], "alice@example.test");
    let metadata = c.server_metadata().await.unwrap().unwrap();
    assert_eq!(metadata.issuer, idp.issuer());
}

#[tokio::test]
async fn key_rotation_is_followed_by_one_refetch() {
    // The provider served here, behind a layer that counts JWKS fetches.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let idp = TestProvider::builder()
        .issuer(&issuer)
        .user(User::new("alice"))
        .user(User::new("bob"))
        .client(Client::confidential("web", SECRET, REDIRECT))
        .auto_approve(true)
        .build()
        .unwrap();
    let fetches = Arc::new(AtomicUsize::new(0));
    let counter = fetches.clone();
    let app = idp.router().layer(axum::middleware::from_fn(
        move |req: Request, next: Next| {
            if req.uri().path() == "/jwks" {
                counter.fetch_add(1, Ordering::SeqCst);
            }
            next.run(req)
        },
    ));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let c = client(&format!(
        "[clients.t]\nclient_id = \"web\"\nclient_secret = \"{SECRET}\"\nserver_metadata_url = \"{issuer}/.well-known/openid-configuration\"\nclient_kwargs = {{ scope = \"openid\" }}\n",
    ));
    let jwks = || fetches.load(Ordering::SeqCst);
    assert_eq!(login(&c, "alice").await.userinfo["sub"], "alice");
    assert_eq!(jwks(), 1);
    idp.rotate_keys().unwrap();
    // The new ID token names a key id the cached set lacks: one refetch, then it verifies.
    assert_eq!(login(&c, "bob").await.userinfo["sub"], "bob");
    assert_eq!(jwks(), 2);
    assert_eq!(login(&c, "alice").await.userinfo["sub"], "alice");
    assert_eq!(jwks(), 2, "the new keys are cached");
    server.abort();
}

#[tokio::test]
async fn oauth1_login_and_signed_call() {
    let idp = provider().await;
    let i = idp.issuer();
    let c = client(&format!(
        "[clients.t]\nclient_id = \"consumer\"\nclient_secret = \"{SECRET}\"\nrequest_token_url = \"{i}/oauth1/request_token\"\nauthorize_url = \"{i}/oauth1/authorize\"\naccess_token_url = \"{i}/oauth1/access_token\"\napi_base_url = \"{i}/oauth1/api/\"\n"
    ));
    let done = login(&c, "bob").await;
    let Token::OAuth1(token) = &done.token else {
        panic!("an OAuth 1.0a token")
    };
    assert_eq!(token.extra["screen_name"], "bob");
    let response = c.get("me?x=1", &done.token).await.unwrap();
    assert_eq!(
        response.status,
        200,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    // A JSON body is sent, unsigned (RFC 5849 signs only form bodies), with the protocol
    // parameters in the header; the provider checks the signature.
    let response = c
        .request(
            http::Method::POST,
            "me",
            &done.token,
            ferroauth::ApiRequest {
                json: Some(serde_json::json!({"status": "hello"})),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        response.status,
        200,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    let answer: serde_json::Value = response.json().unwrap();
    assert_eq!(
        answer["received_json"],
        serde_json::json!({"status": "hello"})
    );
    // An absolute URL in any letter case is checked as an endpoint: no token over plain
    // http to another host.
    for url in ["HTTP://api.example.test/me", "ftp://api.example.test/me"] {
        let e = c.get(url, &done.token).await.unwrap_err();
        assert!(
            matches!(e, ferroauth::Error::InsecureEndpoint { .. }),
            "{url}: {e:?}"
        );
    }
}

#[tokio::test]
async fn pushed_authorization_requests_at_the_development_provider() {
    let idp = provider().await;
    let c = client(&format!(
        "[clients.t]\nclient_id = \"web\"\nclient_secret = \"{SECRET}\"\nserver_metadata_url = \"{}/.well-known/openid-configuration\"\nclient_kwargs = {{ scope = \"openid email\", pushed_authorization_requests = true }}\n",
        idp.issuer()
    ));
    let store = MemoryPendingStore::new();
    let authorize = c
        .authorize_redirect_with(&store, REDIRECT, &[("login_hint", "alice")])
        .await
        .unwrap();
    let mut names: Vec<String> = authorize.query_pairs().map(|(k, _)| k.into()).collect();
    names.sort();
    assert_eq!(names, ["client_id", "request_uri"], "{authorize}");
    let callback = approve(&authorize).await;
    let done = c.authorize_access_token(&store, &callback).await.unwrap();
    assert_eq!(done.userinfo["sub"], "alice");
    // A request_uri is good once.
    let again = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(authorize)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 400);
}
