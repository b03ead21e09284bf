//! Tokens after login, against panva's oidc-provider: refresh with rotation and the
//! provider's answer to a reused refresh token, logins with private_key_jwt (RSA, EC and
//! Ed25519 keys) and client_secret_jwt, revocation then introspection, the reactive
//! refresh after a 401 `invalid_token`, automatic refresh of an expired stored token,
//! client credentials, and the demo's RP-initiated logout.
//!
//! Logins here use the library directly (a memory pending store and token store) so the
//! tests can hold on to old tokens; the provider's pages are walked by the scripted user
//! agent of `support`.

mod support;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair};
use ferroauth::http::Method;
use ferroauth::proto::jose::client_assertion::ClientAssertionKey;
use ferroauth::session::pending::MemoryPendingStore;
use ferroauth::session::tokens::MemoryTokenStore;
use ferroauth::settings::Settings;
use ferroauth::{ApiRequest, CallbackParams, Login, OAuth, OAuthClient, Token};
use serde_json::{Value, json};
use support::{AtProvider, Browser, Demo, Framework, Peer};

const SECRET: &str = "a-long-client-secret-for-interop-tests-0123456789";
const REDIRECT: &str = "http://127.0.0.1:9/cb";

/// (client name, PEM, alg) for each private_key_jwt client.
fn private_keys() -> Vec<(&'static str, String, &'static str)> {
    let rng = SystemRandom::new();
    let rsa = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let rsa_der: Pkcs8V1Der = rsa.as_der().unwrap();
    let ec = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let ed = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    vec![
        ("pkjwt-rsa", support::pkcs8_pem(rsa_der.as_ref()), "PS256"),
        ("pkjwt-ec", support::pkcs8_pem(ec.as_ref()), "ES256"),
        ("pkjwt-ed", support::pkcs8_pem(ed.as_ref()), "EdDSA"),
    ]
}

struct Setup {
    peer: Peer,
    oauth: OAuth,
    toml: String,
}

fn setup() -> Setup {
    let keys = private_keys();
    let code_client = |id: &str, method: &str| {
        json!({
            "client_id": id,
            "redirect_uris": [REDIRECT],
            "token_endpoint_auth_method": method,
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
        })
    };
    let mut clients = vec![
        {
            let mut c = code_client("rotate", "client_secret_basic");
            c["client_secret"] = json!(SECRET);
            c
        },
        {
            let mut c = code_client("secretjwt", "client_secret_jwt");
            c["client_secret"] = json!(SECRET);
            c["token_endpoint_auth_signing_alg"] = json!("HS256");
            c
        },
        json!({
            "client_id": "service",
            "client_secret": SECRET,
            "grant_types": ["client_credentials"],
            "response_types": [],
            "redirect_uris": [],
        }),
    ];
    for (name, key, alg) in &keys {
        let jwk = ClientAssertionKey::from_private_key(key, Some(alg), Some(name))
            .unwrap()
            .public_jwk()
            .unwrap();
        let mut c = code_client(name, "private_key_jwt");
        c["jwks"] = json!({ "keys": [jwk] });
        c["token_endpoint_auth_signing_alg"] = json!(alg);
        clients.push(c);
    }
    let peer = Peer::oidc_provider(&Value::Array(clients), &[]);
    let iss = &peer.issuer;
    let common = format!(
        "server_metadata_url = \"{iss}/.well-known/openid-configuration\"\napi_base_url = \"{iss}/\"\n"
    );
    let mut toml = format!(
        "[clients.rotate]\nclient_id = \"rotate\"\nclient_secret = \"{SECRET}\"\n{common}client_kwargs = {{ scope = \"openid email offline_access\" }}\n\
         [clients.secretjwt]\nclient_id = \"secretjwt\"\nclient_secret = \"{SECRET}\"\n{common}client_kwargs = {{ scope = \"openid offline_access\", token_endpoint_auth_method = \"client_secret_jwt\" }}\n\
         [clients.service]\nclient_id = \"service\"\nclient_secret = \"{SECRET}\"\n{common}access_token_params = {{ audience = \"https://api.example\" }}\n"
    );
    for (name, key, alg) in &keys {
        // private_key_jwt is chosen because a key is configured: no method named here.
        toml.push_str(&format!(
            "[clients.{name}]\nclient_id = \"{name}\"\n{common}client_kwargs = {{ scope = \"openid offline_access\", client_assertion_alg = \"{alg}\", client_assertion_kid = \"{name}\", client_assertion_key = '''{key}''' }}\n"
        ));
    }
    let settings = Settings::from_toml_str(&toml).expect("settings");
    let oauth = OAuth::from_settings(&settings).expect("registry");
    Setup { peer, oauth, toml }
}

impl Setup {
    fn client(&self, name: &str) -> OAuthClient {
        self.oauth.client(name).unwrap()
    }

    /// A whole login with consent (so that offline_access yields a refresh token).
    async fn login(&self, name: &str, user: &str) -> Login {
        let client = self.client(name);
        let pending = MemoryPendingStore::new();
        let start = client
            .authorize_redirect_with(&pending, REDIRECT, &[("prompt", "consent")])
            .await
            .unwrap();
        let browser = Browser {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            demo: String::new(),
        };
        let callback = browser
            .through_provider(start, REDIRECT, AtProvider::LogIn(user))
            .await;
        let params = CallbackParams::parse(callback.query().unwrap_or("")).unwrap();
        client
            .authorize_access_token(&pending, &params)
            .await
            .unwrap_or_else(|e| panic!("{name}: {} {e}\n{}", e.code(), self.peer.log()))
    }

    /// Token requests the provider has answered (refreshes included).
    fn token_requests(&self) -> usize {
        self.peer.log().matches("POST /token ->").count()
    }

    /// The token requests in the provider's log once it shows at least `least`: the log
    /// comes through a pipe, a moment after the responses.
    async fn token_requests_at_least(&self, least: usize) -> usize {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let seen = self.token_requests();
            if seen >= least || std::time::Instant::now() > deadline {
                return seen;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

fn oauth2(token: &Token) -> &ferroauth::OAuth2Token {
    token.as_oauth2().unwrap()
}

#[tokio::test]
async fn refresh_rotation_and_a_reused_refresh_token() {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
    ]) {
        return;
    }
    let s = setup();
    let login = s.login("rotate", "alice").await;
    let first = oauth2(&login.token).clone();
    assert!(
        first.refresh_token.is_some(),
        "offline_access with consent gives a refresh token"
    );
    let store = MemoryTokenStore::with_token("rotate", login.token.clone());
    let client = s.client("rotate");

    let second = client.refresh_stored_token(&store).await.unwrap();
    let third = client.refresh_stored_token(&store).await.unwrap();
    assert_eq!(store.saves(), 2);
    let rts: Vec<&str> = [&first, oauth2(&second), oauth2(&third)]
        .iter()
        .map(|t| t.refresh_token.as_ref().unwrap().expose())
        .collect();
    assert!(
        rts[0] != rts[1] && rts[1] != rts[2],
        "the provider rotates refresh tokens"
    );
    // The refreshed ID token was validated and names the same user.
    assert!(oauth2(&third).id_token.is_some());
    let (status, me) = json_of(client.get_with_store(&store, "me").await.unwrap());
    assert_eq!((status, me["sub"].as_str()), (200, Some("alice")));

    // Inside this registry, the first refresh token was just used: its result is handed
    // out again instead of spending it at the provider.
    // The login and two refreshes are in the provider's log: the count reads it.
    let before = s.token_requests_at_least(3).await;
    assert!(before >= 3, "{before} token requests counted");
    let again = client.refresh_token(&first).await.unwrap();
    assert_eq!(again.access_token, oauth2(&second).access_token);
    assert_eq!(s.token_requests(), before);

    // Another process (another registry) presenting the rotated token is refused, with a
    // clear error; oidc-provider then revokes the whole grant.
    let other = OAuth::from_settings(&Settings::from_toml_str(&s.toml).unwrap()).unwrap();
    let e = other
        .client("rotate")
        .unwrap()
        .refresh_token(&first)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_grant", "{e}");
    assert_eq!(e.kind().http_status(), 502);
    let e = client.refresh_stored_token(&store).await.unwrap_err();
    assert_eq!(
        e.code(),
        "invalid_grant",
        "the grant is revoked after reuse: {e}"
    );
}

fn json_of(r: ferroauth::http::HttpResponse) -> (u16, Value) {
    (r.status, r.json().unwrap_or(Value::Null))
}

#[tokio::test]
async fn logins_with_private_key_jwt_and_client_secret_jwt() {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
    ]) {
        return;
    }
    let s = setup();
    for name in ["pkjwt-rsa", "pkjwt-ec", "pkjwt-ed", "secretjwt"] {
        let user = format!("user-{name}");
        let login = s.login(name, &user).await;
        assert_eq!(login.userinfo["sub"], user.as_str());
        // The refresh authenticates with an assertion too.
        let store = MemoryTokenStore::with_token(name, login.token);
        let client = s.client(name);
        client
            .refresh_stored_token(&store)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}\n{}", s.peer.log()));
        let (status, me) = json_of(client.get_with_store(&store, "me").await.unwrap());
        assert_eq!((status, me["sub"].as_str()), (200, Some(user.as_str())));
    }
    assert!(!s.peer.log().contains("grant.error"), "{}", s.peer.log());
}

#[tokio::test]
async fn the_reactive_refresh_then_revocation_and_introspection() {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
    ]) {
        return;
    }
    let s = setup();
    let login = s.login("pkjwt-ec", "carol").await;
    let client = s.client("pkjwt-ec");

    // The stored access token is one the provider does not accept (its expiry looks
    // fine): the API answers 401 invalid_token, the client refreshes once and retries.
    let mut stale = login.token.clone();
    if let Token::OAuth2(t) = &mut stale {
        t.access_token = ferroauth::Secret::new("an-access-token-the-provider-does-not-know");
    }
    let store = MemoryTokenStore::with_token("pkjwt-ec", stale);
    let before = s.token_requests_at_least(1).await;
    let (status, me) = json_of(client.get_with_store(&store, "me").await.unwrap());
    assert_eq!((status, me["sub"].as_str()), (200, Some("carol")));
    assert_eq!(
        s.token_requests_at_least(before + 1).await,
        before + 1,
        "one refresh"
    );
    assert_eq!(store.saves(), 1);
    assert!(s.peer.log().contains("GET /me -> 401"), "{}", s.peer.log());

    // Introspection, revocation, introspection again.
    let current = store.get("pkjwt-ec").unwrap();
    let access = oauth2(&current).access_token.clone();
    let seen = client
        .introspect_token(&access, Some("access_token"))
        .await
        .unwrap();
    assert!(seen.active, "{:?}", seen.claims);
    assert_eq!(seen.claims["sub"], "carol");
    client
        .revoke_token(&access, Some("access_token"))
        .await
        .unwrap();
    let seen = client
        .introspect_token(&access, Some("access_token"))
        .await
        .unwrap();
    assert!(
        !seen.active,
        "revoked tokens are inactive: {:?}",
        seen.claims
    );
    // oidc-provider revokes the whole grant with any of its tokens, refresh token
    // included: the next call cannot be saved by a refresh and says so.
    let e = client.get_with_store(&store, "me").await.unwrap_err();
    assert_eq!(e.code(), "invalid_grant", "{e}");
}

#[tokio::test]
async fn an_expired_stored_token_is_refreshed_before_use() {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
    ]) {
        return;
    }
    let s = setup();
    let login = s.login("secretjwt", "dave").await;
    let mut token = login.token.clone();
    if let Token::OAuth2(t) = &mut token {
        t.expires_at = Some(1);
    }
    let store = MemoryTokenStore::with_token("secretjwt", token);
    let before = s.token_requests_at_least(1).await;
    let response = s
        .client("secretjwt")
        .request_with_store(&store, Method::GET, "me", ApiRequest::default())
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(s.token_requests_at_least(before + 1).await, before + 1);
    assert_eq!(store.saves(), 1);
    let saved = store.get("secretjwt").unwrap();
    assert!(saved.expires_at().unwrap() > 1_000_000);
}

#[tokio::test]
async fn client_credentials() {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
    ]) {
        return;
    }
    let s = setup();
    let client = s.client("service");
    let token = client
        .client_credentials_token()
        .await
        .unwrap_or_else(|e| panic!("{} {e}\n{}", e.code(), s.peer.log()));
    let cached = client.client_credentials_token().await.unwrap();
    assert_eq!(
        token.access_token, cached.access_token,
        "cached while fresh"
    );
    let seen = client
        .introspect_token(&token.access_token, None)
        .await
        .unwrap();
    assert!(seen.active, "{:?}", seen.claims);
    assert_eq!(seen.claims["client_id"], "service");
    // Without the resourceIndicators feature oidc-provider ignores `audience` and issues
    // an opaque token with no `aud`; the parameter is still sent (see the mock test).
    assert!(seen.claims.get("sub").is_none());
}

async fn demo_logout_goes_to_the_end_session_endpoint(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
    ]) {
        return;
    }
    let mut demo = Demo::reserve_on(framework).await;
    let clients = json!([{
        "client_id": "basic",
        "client_secret": SECRET,
        "redirect_uris": [demo.redirect_uri("basic")],
        "post_logout_redirect_uris": [format!("{}/logged-out", demo.base)],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
    }]);
    let peer = Peer::oidc_provider(&clients, &[]);
    demo.serve(&format!(
        "[clients.basic]\nclient_id = \"basic\"\nclient_secret = \"{SECRET}\"\nserver_metadata_url = \"{iss}/.well-known/openid-configuration\"\napi_base_url = \"{iss}/\"\nclient_kwargs = {{ scope = \"openid email offline_access\" }}\n",
        iss = peer.issuer
    ));
    let browser = Browser::new(&demo);
    let outcome = browser
        .login("basic", "prompt=consent", AtProvider::LogIn("erin"))
        .await;
    assert_eq!(outcome.status, 200, "{}", outcome.body);
    let (status, body) = browser.post("/refresh/basic").await;
    assert_eq!(status, 200, "{body}");
    let (status, me) = browser.api("basic", "me").await;
    assert_eq!((status, me["sub"].as_str()), (200, Some("erin")));

    let (status, body) = browser.post("/logout").await;
    assert_eq!(status, 200);
    assert_eq!(body["logged_out"], true);
    let url = url::Url::parse(
        body["end_session_url"]
            .as_str()
            .expect("an end-session URL"),
    )
    .unwrap();
    assert!(
        url.as_str()
            .starts_with(&format!("{}/session/end", peer.issuer))
    );
    let params: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert!(params.contains_key("id_token_hint"));
    assert_eq!(
        params["post_logout_redirect_uri"],
        format!("{}/logged-out", demo.base)
    );
    assert!(params["state"].len() >= 43, "a one-time 256-bit state");
    assert_eq!(params["client_id"], "basic");
    // The provider accepts it (a confirmation page, not an error).
    let page = browser.http.get(url).send().await.unwrap();
    assert_eq!(page.status(), 200, "{}", peer.log());
    // Logged out locally.
    let (status, _) = browser.api("basic", "me").await;
    assert_eq!(status, 401);

    // The HTML form is redirected to the provider.
    let browser = Browser::new(&demo);
    let outcome = browser.login("basic", "", AtProvider::LogIn("erin")).await;
    assert_eq!(outcome.status, 200);
    let r = browser
        .http
        .post(format!("{}/logout", demo.base))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection());
    let to = r.headers()["location"].to_str().unwrap();
    assert!(
        to.starts_with(&format!("{}/session/end?", peer.issuer)),
        "{to}"
    );
}

crate::on_both!(demo_logout_goes_to_the_end_session_endpoint,);
