//! The client against the project's own development provider (ferroauth-testkit, an
//! independent server-side implementation): RFC 8414 discovery, key rotation, and both
//! protocols through the core API.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::Request;
use axum::middleware::Next;
use ferroauth::session::pending::MemoryPendingStore;
use ferroauth::settings::Settings;
use ferroauth::{CallbackParams, OAuth, OAuthClient, Token};
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

// ---------------------------------------------------------------------------------------
// DPoP (RFC 9449) at the development provider: the provider verifies every proof, so a
// login only succeeds if the client's proofs are right, and a bound token only works
// with proofs by its key.

mod dpop_support {
    use aws_lc_rs::encoding::AsBigEndian;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::{Value, json};
    use sha2::{Digest, Sha256};

    pub fn b64(bytes: impl AsRef<[u8]>) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    pub fn now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    /// base64url(SHA-256(token)), a proof's `ath`.
    pub fn ath(token: &str) -> String {
        b64(Sha256::digest(token.as_bytes()))
    }

    /// A P-256 proof key of the test's own, independent of ferroauth's proof code.
    pub struct ProofKey(EcdsaKeyPair);

    impl ProofKey {
        pub fn new() -> Self {
            Self(EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap())
        }

        pub fn jwk(&self) -> Value {
            let point = self.0.public_key().as_ref();
            json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..65])})
        }

        /// The JWK with the private scalar `d`, which a proof must never carry.
        pub fn private_jwk(&self) -> Value {
            let mut jwk = self.jwk();
            jwk["d"] = b64(self.0.private_key().as_be_bytes().unwrap().as_ref()).into();
            jwk
        }

        /// RFC 7638 thumbprint.
        pub fn thumbprint(&self) -> String {
            let jwk = self.jwk();
            let input = format!(
                r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                jwk["x"].as_str().unwrap(),
                jwk["y"].as_str().unwrap()
            );
            b64(Sha256::digest(input.as_bytes()))
        }

        pub fn header(&self) -> Value {
            json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk()})
        }

        /// Fresh claims for a request: a random `jti`, `iat` now.
        pub fn claims(&self, htm: &str, htu: &str, ath: Option<&str>) -> Value {
            let mut jti = [0u8; 16];
            aws_lc_rs::rand::fill(&mut jti).unwrap();
            let mut claims = json!({"jti": b64(jti), "htm": htm, "htu": htu, "iat": now()});
            if let Some(ath) = ath {
                claims["ath"] = ath.into();
            }
            claims
        }

        pub fn sign(&self, header: &Value, claims: &Value) -> String {
            let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
            let signature = self.0.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
            format!("{input}.{}", b64(signature.as_ref()))
        }

        /// A correct proof for one request.
        pub fn proof(&self, htm: &str, htu: &str, ath: Option<&str>) -> String {
            self.sign(&self.header(), &self.claims(htm, htu, ath))
        }
    }
}

use dpop_support::ProofKey;

const PUBLIC: &str = "app";

/// The testkit with a confidential client (`web`), a public one (`app`), and a
/// confidential one that must use DPoP (`strict`).
async fn dpop_provider() -> TestProvider {
    TestProvider::builder()
        .user(User::new("alice").email("alice@example.test"))
        .client(Client::confidential("web", SECRET, REDIRECT))
        .client(Client::public(PUBLIC, REDIRECT))
        .client(Client::confidential("strict", SECRET, REDIRECT).require_dpop(true))
        .auto_approve(true)
        .start()
        .await
        .unwrap()
}

/// Settings of a client of `idp`: `id` with `SECRET` (or public when `secret` is false),
/// through discovery, with `kwargs` added to the client_kwargs.
fn client_of(idp: &TestProvider, id: &str, secret: bool, kwargs: &str) -> OAuthClient {
    let i = idp.issuer();
    let credentials = if secret {
        format!("client_secret = \"{SECRET}\"\n")
    } else {
        String::new()
    };
    let auth = if secret {
        ""
    } else {
        ", token_endpoint_auth_method = \"none\""
    };
    client(&format!(
        "[clients.t]\nclient_id = \"{id}\"\n{credentials}server_metadata_url = \"{i}/.well-known/openid-configuration\"\napi_base_url = \"{i}/api/\"\nclient_kwargs = {{ scope = \"openid email\"{auth}{kwargs} }}\n"
    ))
}

async fn try_login(client: &OAuthClient, hint: &str) -> Result<ferroauth::Login, ferroauth::Error> {
    let store = MemoryPendingStore::new();
    let authorize = client
        .authorize_redirect_with(&store, REDIRECT, &[("login_hint", hint)])
        .await?;
    let callback = approve(&authorize).await;
    client.authorize_access_token(&store, &callback).await
}

fn oauth2(token: &Token) -> &ferroauth::OAuth2Token {
    match token {
        Token::OAuth2(t) => t,
        Token::OAuth1(_) => panic!("an OAuth 2.0 token"),
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// A form POST to the testkit, with an optional DPoP proof; (status, JSON body).
async fn post(
    url: &str,
    basic: Option<&str>,
    pairs: &[(&str, &str)],
    proof: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(pairs));
    if let Some(id) = basic {
        request = request.basic_auth(id, Some(SECRET));
    }
    if let Some(proof) = proof {
        request = request.header("dpop", proof);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.bytes().await.unwrap();
    (status, serde_json::from_slice(&body).unwrap_or_default())
}

/// A GET with an `Authorization` value and an optional proof: (status, WWW-Authenticate).
async fn get_with(url: &str, authorization: &str, proof: Option<&str>) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .get(url)
        .header("authorization", authorization);
    if let Some(proof) = proof {
        request = request.header("dpop", proof);
    }
    let response = request.send().await.unwrap();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (response.status().as_u16(), challenge)
}

/// A public client with `dpop = true`: DPoP-bound tokens from the code exchange, used at
/// userinfo and the API, bound in introspection to the client's key, refreshed with
/// the same key; the bound access token replayed as a bearer token is refused.
#[tokio::test]
async fn dpop_login_userinfo_api_and_refresh() {
    let idp = dpop_provider().await;
    let c = client_of(&idp, PUBLIC, false, ", dpop = true");
    let jkt = c.dpop_thumbprint().expect("a DPoP client");
    let done = login(&c, "alice").await;
    let token = oauth2(&done.token).clone();
    assert_eq!(token.token_type, "DPoP");
    assert_eq!(
        c.userinfo(&done.token).await.unwrap()["email"],
        "alice@example.test"
    );
    let me = c.get("me", &done.token).await.unwrap();
    assert_eq!(me.status, 200, "{}", String::from_utf8_lossy(&me.body));
    assert_eq!(me.json::<serde_json::Value>().unwrap()["sub"], "alice");

    // Bound to this client's key: the access token, and (a public client's) refresh token.
    let at = c.introspect_token(&token.access_token, None).await.unwrap();
    assert!(at.active);
    assert_eq!(at.claims["token_type"], "DPoP");
    assert_eq!(at.claims["cnf"]["jkt"], jkt.as_str());
    let rt = token.refresh_token.as_ref().unwrap();
    let rt = c.introspect_token(rt, None).await.unwrap();
    assert_eq!(rt.claims["cnf"]["jkt"], jkt.as_str());

    let fresh = c.refresh_token(&token).await.unwrap();
    assert_eq!(fresh.token_type, "DPoP");
    assert_ne!(fresh.access_token.expose(), token.access_token.expose());
    let fresh_token = Token::OAuth2(fresh.clone());
    let me = c.get("me", &fresh_token).await.unwrap();
    assert_eq!(me.status, 200, "after the refresh");
    assert_eq!(c.userinfo(&fresh_token).await.unwrap()["sub"], "alice");

    // The bound token as a bearer token: refused with a DPoP challenge, through
    // ferroauth and by hand, at both resources.
    let mut as_bearer = fresh.clone();
    as_bearer.token_type = "Bearer".into();
    let replay = c.get("me", &Token::OAuth2(as_bearer)).await.unwrap();
    assert_eq!(replay.status, 401);
    let bearer = format!("Bearer {}", fresh.access_token.expose());
    for path in ["/api/me", "/userinfo"] {
        let (status, challenge) = get_with(&idp.url(path), &bearer, None).await;
        assert_eq!(status, 401, "{path}");
        assert!(
            challenge.starts_with("DPoP ") && challenge.contains("error=\"invalid_token\""),
            "{path}: {challenge}"
        );
    }
    // The DPoP scheme without a proof, or with one for another request: refused too.
    let dpop = format!("DPoP {}", fresh.access_token.expose());
    let (status, challenge) = get_with(&idp.url("/api/me"), &dpop, None).await;
    assert_eq!(status, 401);
    assert!(
        challenge.contains("error=\"invalid_dpop_proof\""),
        "{challenge}"
    );
}

/// A public client's refresh token is bound to its key (RFC 9449 §5): a refresh without
/// a proof, or with a proof by another key, is refused, and does not use the token up.
#[tokio::test]
async fn dpop_bound_refresh_tokens_need_the_same_key() {
    let idp = dpop_provider().await;
    let c = client_of(&idp, PUBLIC, false, ", dpop = true");
    let done = login(&c, "alice").await;
    let token = oauth2(&done.token).clone();
    let refresh = token.refresh_token.as_ref().unwrap().expose().to_owned();
    let grant = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
        ("client_id", PUBLIC),
    ];
    let token_url = idp.url("/token");
    let (status, body) = post(&token_url, None, &grant, None).await;
    assert_eq!(
        (status, &body["error"]),
        (400, &"invalid_dpop_proof".into()),
        "{body}"
    );
    let other = ProofKey::new().proof("POST", &token_url, None);
    let (status, body) = post(&token_url, None, &grant, Some(&other)).await;
    assert_eq!(
        (status, &body["error"]),
        (400, &"invalid_dpop_proof".into()),
        "{body}"
    );
    // The right key still refreshes it.
    let fresh = c.refresh_token(&token).await.unwrap();
    assert_eq!(fresh.token_type, "DPoP");
}

/// A client registered with `require_dpop`: without DPoP ferroauth is refused at the
/// token endpoint; with it, the same registration logs in.
#[tokio::test]
async fn require_dpop_refuses_token_requests_without_proofs() {
    let idp = dpop_provider().await;
    let plain = client_of(&idp, "strict", true, "");
    let e = try_login(&plain, "alice").await.unwrap_err();
    assert_eq!(e.code(), "invalid_dpop_proof", "{e}");
    let with = client_of(&idp, "strict", true, ", dpop = true");
    let done = try_login(&with, "alice").await.unwrap();
    assert_eq!(oauth2(&done.token).token_type, "DPoP");
    // A confidential client's refresh token is not key-bound (RFC 9449 §5), but this
    // client still cannot refresh without a proof.
    let refresh = oauth2(&done.token).refresh_token.clone().unwrap();
    let grant = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.expose()),
    ];
    let (status, body) = post(&idp.url("/token"), Some("strict"), &grant, None).await;
    assert_eq!(
        (status, &body["error"]),
        (400, &"invalid_dpop_proof".into()),
        "{body}"
    );
}

/// Proofs made by hand, at the token endpoint (client credentials) and at the API: a
/// correct one is accepted, and each broken rule is refused with `invalid_dpop_proof`.
#[tokio::test]
async fn broken_dpop_proofs_are_refused() {
    let idp = dpop_provider().await;
    let key = ProofKey::new();
    let token_url = idp.url("/token");
    let grant = [("grant_type", "client_credentials")];
    let good = key.proof("POST", &token_url, None);
    let (status, issued) = post(&token_url, Some("web"), &grant, Some(&good)).await;
    assert_eq!(status, 200, "{issued}");
    assert_eq!(issued["token_type"], "DPoP");
    let access = issued["access_token"].as_str().unwrap().to_owned();
    let (_, introspection) = post(
        &idp.url("/introspect"),
        Some("web"),
        &[("token", access.as_str())],
        None,
    )
    .await;
    assert_eq!(introspection["cnf"]["jkt"], key.thumbprint().as_str());

    let stale = {
        let mut claims = key.claims("POST", &token_url, None);
        claims["iat"] = (dpop_support::now() - 300).into();
        key.sign(&key.header(), &claims)
    };
    let private = {
        let mut header = key.header();
        header["jwk"] = key.private_jwk();
        key.sign(&header, &key.claims("POST", &token_url, None))
    };
    let not_typed = {
        let mut header = key.header();
        header["typ"] = "JWT".into();
        key.sign(&header, &key.claims("POST", &token_url, None))
    };
    let forged = {
        // Signed by another key than the one in the header.
        let other = ProofKey::new();
        other.sign(&key.header(), &key.claims("POST", &token_url, None))
    };
    let cases = [
        ("reused jti", good.clone()),
        ("wrong htu", key.proof("POST", &idp.url("/userinfo"), None)),
        ("wrong htm", key.proof("GET", &token_url, None)),
        ("stale iat", stale),
        ("private jwk", private),
        ("typ JWT", not_typed),
        ("forged signature", forged),
    ];
    for (what, proof) in cases {
        let (status, body) = post(&token_url, Some("web"), &grant, Some(&proof)).await;
        assert_eq!(status, 400, "{what}: {body}");
        assert_eq!(body["error"], "invalid_dpop_proof", "{what}: {body}");
    }

    // At the API: the bound token with a proof for this request and token passes; with
    // a wrong `ath`, another key, or a reused proof, it does not.
    let api = idp.url("/api/me");
    let dpop = format!("DPoP {access}");
    let ath = dpop_support::ath(&access);
    let ok = key.proof("GET", &api, Some(&ath));
    assert_eq!(get_with(&api, &dpop, Some(&ok)).await.0, 200);
    let cases = [
        ("reused proof", ok),
        ("no ath", key.proof("GET", &api, None)),
        (
            "ath of another token",
            key.proof("GET", &api, Some(&dpop_support::ath("x"))),
        ),
        (
            "another key",
            ProofKey::new().proof("GET", &api, Some(&ath)),
        ),
        (
            "wrong htu",
            key.proof("GET", &idp.url("/userinfo"), Some(&ath)),
        ),
    ];
    for (what, proof) in cases {
        let (status, challenge) = get_with(&api, &dpop, Some(&proof)).await;
        assert_eq!(status, 401, "{what}");
        assert!(
            challenge.starts_with("DPoP ") && challenge.contains("error=\"invalid_dpop_proof\""),
            "{what}: {challenge}"
        );
    }
    // Unbound tokens work as bearer tokens, as before.
    let (_, bearer) = post(&token_url, Some("web"), &grant, None).await;
    assert_eq!(bearer["token_type"], "Bearer");
    let bearer = format!("Bearer {}", bearer["access_token"].as_str().unwrap());
    assert_eq!(get_with(&api, &bearer, None).await.0, 200);
}

// ---------------------------------------------------------------------------------------
// The device authorization grant (RFC 8628) at the development provider, approved at its
// /device page as a browser would.

/// The testkit with a public device client `tv` (1 s polling interval, codes living
/// `ttl`), and ferroauth's client for it (through discovery).
async fn device_setup(ttl: u64, kwargs: &str) -> (TestProvider, OAuthClient) {
    let idp = TestProvider::builder()
        .user(User::new("alice").email("alice@example.test"))
        .user(User::new("bob"))
        .client(Client::public("tv", REDIRECT))
        .device_poll_interval(std::time::Duration::from_secs(1))
        .device_code_lifetime(std::time::Duration::from_secs(ttl))
        .start()
        .await
        .unwrap();
    let c = client_of(&idp, "tv", false, kwargs);
    (idp, c)
}

/// The value of `name="..."`'s attribute `attr` in a page.
fn attribute_of(html: &str, marker: &str, attr: &str) -> String {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in {html}"));
    let start = at + html[at..].find(&format!("{attr}=\"")).unwrap() + attr.len() + 2;
    let end = start + html[start..].find('"').unwrap();
    html[start..end].replace("&amp;", "&")
}

/// Plays the user: opens the verification page from `verification_uri_complete`, finds
/// the code prefilled, and submits it approving as `user`, or denying; (status, page).
async fn answer_device(complete: &str, user: Option<&str>) -> (u16, String) {
    let http = reqwest::Client::new();
    let page = http.get(complete).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let code = attribute_of(&html, "name=\"user_code\"", "value");
    let action = attribute_of(&html, "<form", "action");
    let mut fields = vec![("user_code", code.as_str())];
    match user {
        Some(sub) => fields.push(("user", sub)),
        None => fields.push(("action", "deny")),
    }
    let response = http
        .post(action)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&fields))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// A raw device-code poll at the token endpoint: (status, error).
async fn raw_poll(idp: &TestProvider, device: &ferroauth::DeviceAuthorization) -> (u16, String) {
    let grant = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("device_code", device.device_code.expose()),
        ("client_id", "tv"),
    ];
    let (status, body) = post(&idp.url("/token"), None, &grant, None).await;
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn device_flow_approved_at_the_verification_page() {
    let (idp, c) = device_setup(600, "").await;
    let metadata = c.server_metadata().await.unwrap().unwrap();
    assert_eq!(
        metadata.device_authorization_endpoint.as_deref(),
        Some(idp.url("/device/authorize").as_str())
    );
    let mut device = c.device_authorization(&[]).await.unwrap();
    let code = device.user_code.clone();
    let (a, b) = code.split_once('-').expect("XXXX-XXXX");
    assert!(
        a.len() == 4
            && b.len() == 4
            && (a.to_owned() + b)
                .bytes()
                .all(|c| b"BCDFGHJKLMNPQRSTVWXZ".contains(&c)),
        "{code}"
    );
    assert_eq!(device.verification_uri, idp.url("/device"));
    let complete = device.verification_uri_complete.clone().unwrap();
    assert_eq!(complete, format!("{}?user_code={code}", idp.url("/device")));
    assert_eq!(device.interval, 1);
    assert!(matches!(
        c.poll_device_token(&mut device).await.unwrap(),
        ferroauth::DevicePoll::Pending
    ));

    // The user approves in "another browser" while the library polls.
    let user = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        answer_device(&complete, Some("alice")).await
    });
    let waited = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        c.wait_for_device_token(&mut device),
    );
    let login = waited.await.expect("no answer in 30 s").unwrap();
    let (status, page) = user.await.unwrap();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Device connected"), "{page}");
    assert_eq!(login.userinfo["sub"], "alice");
    assert_eq!(login.userinfo["email"], "alice@example.test");
    let token = oauth2(&login.token);
    assert!(token.id_token.is_some(), "openid was asked for");
    assert_eq!(token.token_type, "Bearer");
    assert_eq!(c.get("me", &login.token).await.unwrap().status, 200);
    // A device code gives tokens once, and a user code is answered once.
    assert_eq!(raw_poll(&idp, &device).await, (400, "invalid_grant".into()));
    let again = format!("{}?user_code={code}", idp.url("/device"));
    assert_eq!(answer_device(&again, Some("bob")).await.0, 400);
}

/// Polling faster than the interval gets `slow_down`, and the provider's interval grows
/// by 5 s: a poll after the original interval is still too early.
#[tokio::test]
async fn device_flow_polling_too_fast_slows_down() {
    let (idp, c) = device_setup(600, "").await;
    let mut device = c.device_authorization(&[]).await.unwrap();
    assert!(matches!(
        c.poll_device_token(&mut device).await.unwrap(),
        ferroauth::DevicePoll::Pending
    ));
    assert!(matches!(
        c.poll_device_token(&mut device).await.unwrap(),
        ferroauth::DevicePoll::SlowDown
    ));
    assert_eq!(device.interval, 6);
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    assert_eq!(raw_poll(&idp, &device).await, (400, "slow_down".into()));
}

#[tokio::test]
async fn device_flow_denied_and_expired() {
    let (_idp, c) = device_setup(600, "").await;
    let mut denied = c.device_authorization(&[]).await.unwrap();
    let complete = denied.verification_uri_complete.clone().unwrap();
    let (status, page) = answer_device(&complete, None).await;
    assert_eq!(status, 200);
    assert!(page.contains("Access denied"), "{page}");
    let e = c.poll_device_token(&mut denied).await.unwrap_err();
    assert_eq!(e.code(), "access_denied", "{e}");

    // Codes living 1 s. ferroauth stops by itself at `expires_in`; the provider says
    // `expired_token` too, and the page no longer takes the code.
    let (idp, c) = device_setup(1, "").await;
    let mut expired = c.device_authorization(&[]).await.unwrap();
    let complete = expired.verification_uri_complete.clone().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let e = c.poll_device_token(&mut expired).await.unwrap_err();
    assert_eq!(e.code(), "expired_token", "{e}");
    assert_eq!(
        raw_poll(&idp, &expired).await,
        (400, "expired_token".into())
    );
    assert_eq!(answer_device(&complete, Some("alice")).await.0, 400);
}

/// The device grant with `dpop = true`: the polls carry proofs and the token is bound.
#[tokio::test]
async fn device_flow_with_dpop_binds_the_token() {
    let (_idp, c) = device_setup(600, ", dpop = true").await;
    let mut device = c.device_authorization(&[]).await.unwrap();
    let complete = device.verification_uri_complete.clone().unwrap();
    assert_eq!(answer_device(&complete, Some("bob")).await.0, 200);
    let login = c.wait_for_device_token(&mut device).await.unwrap();
    assert_eq!(login.userinfo["sub"], "bob");
    assert_eq!(oauth2(&login.token).token_type, "DPoP");
    assert_eq!(c.get("me", &login.token).await.unwrap().status, 200);
}

/// Back-channel logout tokens from a real provider's keys (RS256, fetched as a JWKS):
/// the provider's own token is accepted; one for another client, or one of its ID tokens
/// posing as a logout token, is refused.
#[tokio::test]
async fn logout_tokens_from_the_providers_keys() {
    let p = provider().await;
    let web = client(&format!(
        "[clients.t]\nclient_id = \"web\"\nclient_secret = \"{SECRET}\"\nserver_metadata_url = \"{}/.well-known/openid-configuration\"\nclient_kwargs = {{ scope = \"openid\" }}\n",
        p.issuer()
    ));
    let token = p.logout_token("web", Some("alice"), Some("sid-1")).unwrap();
    let logout = web.validate_logout_token(&token).await.unwrap();
    assert_eq!(logout.iss, p.issuer());
    assert_eq!(
        (logout.sub.as_deref(), logout.sid.as_deref()),
        (Some("alice"), Some("sid-1"))
    );
    assert!(!logout.jti.is_empty());

    let for_another = p.logout_token("mobile", Some("alice"), None).unwrap();
    let e = web.validate_logout_token(&for_another).await.unwrap_err();
    assert_eq!(e.code(), "logout_token_audience_mismatch", "{e}");
    assert_eq!(e.kind().http_status(), 400);

    let login = login(&web, "alice").await;
    let Token::OAuth2(token) = login.token else {
        panic!("an OAuth 2.0 token");
    };
    let id_token = token.id_token.expect("an ID token");
    let e = web
        .validate_logout_token(id_token.expose())
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        "logout_token_event_missing",
        "an ID token is no logout token: {e}"
    );
}
