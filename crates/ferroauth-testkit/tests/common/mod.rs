//! Hand-written, test-only client code: PKCE, redirects, JWT checks and
//! OAuth 1.0a signing. Deliberately independent of the provider's code.

#![allow(dead_code)]

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ferroauth_testkit::{Client, ClientAuthMethod, IdTokenAlg, TestProvider, User};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const BASIC_REDIRECT: &str = "http://localhost:8080/cb/basic";
pub const POST_REDIRECT: &str = "http://localhost:8080/cb/post";
pub const PUBLIC_REDIRECT: &str = "http://127.0.0.1:9999/cb?app=public";
pub const O1_CALLBACK: &str = "http://localhost:8080/oauth1/callback";

pub fn users() -> Vec<User> {
    vec![
        User::new("alice")
            .name("Alice Liddell")
            .preferred_username("alice")
            .email("alice@example.com")
            .claim("groups", serde_json::json!(["admins", "readers"])),
        User::new("bob")
            .name("Bob Builder")
            .email("bob@example.com")
            .email_verified(false),
    ]
}

pub fn clients() -> Vec<Client> {
    vec![
        Client::confidential("basic-client", "basic secret:with+chars", BASIC_REDIRECT),
        Client::confidential("post-client", "post-secret", POST_REDIRECT)
            .auth_method(ClientAuthMethod::ClientSecretPost)
            .id_token_alg(IdTokenAlg::ES256),
        Client::public("public-client", PUBLIC_REDIRECT).id_token_alg(IdTokenAlg::ES256),
        Client::oauth1(
            "consumer-key",
            "consumer&secret",
            Some(O1_CALLBACK.to_owned()),
        ),
    ]
}

pub async fn start(auto_approve: bool) -> TestProvider {
    TestProvider::builder()
        .users(users())
        .clients(clients())
        .auto_approve(auto_approve)
        .start()
        .await
        .expect("provider starts")
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub fn random_string(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("rng");
    URL_SAFE_NO_PAD.encode(buf)
}

/// (verifier, S256 challenge)
pub fn pkce() -> (String, String) {
    let verifier = random_string(32);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// Query parameters of a `Location` header.
pub fn location_query(resp: &reqwest::Response) -> (url::Url, HashMap<String, String>) {
    let loc = resp
        .headers()
        .get("location")
        .expect("Location header")
        .to_str()
        .expect("ascii");
    let url = url::Url::parse(loc).expect("absolute Location");
    let q = url.query_pairs().into_owned().collect();
    (url, q)
}

pub struct AuthOutcome {
    pub code: String,
    pub state: String,
    pub nonce: String,
    pub verifier: Option<String>,
}

/// Runs /authorize in auto-approve mode and returns the code.
pub async fn authorize(
    provider: &TestProvider,
    client_id: &str,
    redirect_uri: &str,
    use_pkce: bool,
    extra: &[(&str, &str)],
) -> AuthOutcome {
    let state = random_string(12);
    let nonce = random_string(12);
    let (verifier, challenge) = pkce();
    let mut query = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("scope", "openid profile email"),
        ("state", state.as_str()),
        ("nonce", nonce.as_str()),
    ];
    if use_pkce {
        query.push(("code_challenge", challenge.as_str()));
        query.push(("code_challenge_method", "S256"));
    }
    query.extend_from_slice(extra);
    let resp = http()
        .get(provider.url("/authorize"))
        .query(&query)
        .send()
        .await
        .expect("authorize");
    assert_eq!(resp.status(), 302, "authorize should redirect");
    let (url, q) = location_query(&resp);
    let mut base = url.clone();
    base.set_query(None);
    let mut expected_base = url::Url::parse(redirect_uri).expect("redirect uri");
    expected_base.set_query(None);
    assert_eq!(base, expected_base, "redirected to the registered URI");
    assert_eq!(q.get("state"), Some(&state), "state passthrough");
    assert_eq!(
        q.get("iss").map(String::as_str),
        Some(provider.issuer()),
        "RFC 9207 iss"
    );
    let code = q
        .get("code")
        .cloned()
        .unwrap_or_else(|| panic!("no code in {q:?}"));
    AuthOutcome {
        code,
        state,
        nonce,
        verifier: use_pkce.then_some(verifier),
    }
}

/// Test-side client authentication.
pub enum Auth<'a> {
    Basic(&'a str, &'a str),
    Post(&'a str, &'a str),
    None(&'a str),
}

/// RFC 6749 §2.3.1 / Appendix B: form-urlencode, then base64.
fn form_encode_component(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub async fn post_form(
    provider: &TestProvider,
    path: &str,
    auth: &Auth<'_>,
    params: &[(&str, &str)],
) -> reqwest::Response {
    let mut form: Vec<(&str, &str)> = params.to_vec();
    let mut req = http().post(provider.url(path));
    match *auth {
        Auth::Basic(id, secret) => {
            let raw = format!(
                "{}:{}",
                form_encode_component(id),
                form_encode_component(secret)
            );
            req = req.header("authorization", format!("Basic {}", STANDARD.encode(raw)));
        }
        Auth::Post(id, secret) => {
            form.push(("client_id", id));
            form.push(("client_secret", secret));
        }
        Auth::None(id) => form.push(("client_id", id)),
    }
    req.form(&form).send().await.expect("post")
}

pub async fn json(resp: reqwest::Response) -> Value {
    resp.json().await.expect("json body")
}

/// Verifies an ID token with `jsonwebtoken` against the provider's JWKS.
pub async fn verify_id_token(
    provider: &TestProvider,
    id_token: &str,
    client_id: &str,
    expected_alg: jsonwebtoken::Algorithm,
) -> Value {
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
    let jwks: jsonwebtoken::jwk::JwkSet = http()
        .get(provider.url("/jwks"))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("jwks json");
    let header = jsonwebtoken::decode_header(id_token).expect("header");
    assert_eq!(header.alg, expected_alg);
    let kid = header.kid.expect("kid");
    let jwk = jwks.find(&kid).expect("kid published in JWKS");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).expect("decoding key");
    let mut validation = jsonwebtoken::Validation::new(expected_alg);
    validation.set_audience(&[client_id]);
    validation.set_issuer(&[provider.issuer()]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    jsonwebtoken::decode::<Value>(id_token, &key, &validation)
        .expect("ID token verifies")
        .claims
}

pub fn at_hash(access_token: &str) -> String {
    let d = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&d[..16])
}

// ---------------------------------------------------------------- OAuth 1.0a (test side)

fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub struct O1Signer<'a> {
    pub consumer_key: &'a str,
    pub consumer_secret: &'a str,
    pub token: Option<&'a str>,
    pub token_secret: &'a str,
    pub method: &'a str,
}

impl O1Signer<'_> {
    /// Builds the Authorization header for a request with the given extra
    /// protocol parameters (header) and other parameters (query/body).
    pub fn header(
        &self,
        http_method: &str,
        url: &str,
        protocol_extra: &[(&str, &str)],
        other: &[(&str, &str)],
    ) -> String {
        let ts = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs()
            .to_string();
        let nonce = random_string(12);
        let mut proto: Vec<(String, String)> = vec![
            ("oauth_consumer_key".into(), self.consumer_key.into()),
            ("oauth_signature_method".into(), self.method.into()),
            ("oauth_timestamp".into(), ts),
            ("oauth_nonce".into(), nonce),
            ("oauth_version".into(), "1.0".into()),
        ];
        if let Some(t) = self.token {
            proto.push(("oauth_token".into(), t.into()));
        }
        for (k, v) in protocol_extra {
            proto.push(((*k).into(), (*v).into()));
        }
        let key = format!("{}&{}", pct(self.consumer_secret), pct(self.token_secret));
        let signature = match self.method {
            "PLAINTEXT" => key,
            "HMAC-SHA1" => {
                let mut all: Vec<(String, String)> = proto
                    .iter()
                    .chain(
                        other
                            .iter()
                            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                            .collect::<Vec<_>>()
                            .iter(),
                    )
                    .map(|(k, v)| (pct(k), pct(v)))
                    .collect();
                all.sort();
                let norm = all
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("&");
                let base = format!("{}&{}&{}", http_method, pct(url), pct(&norm));
                use hmac::{KeyInit, Mac};
                let mut mac =
                    hmac::Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()).expect("key");
                mac.update(base.as_bytes());
                STANDARD.encode(mac.finalize().into_bytes())
            }
            other => panic!("unsupported {other}"),
        };
        proto.push(("oauth_signature".into(), signature));
        let parts: Vec<String> = proto
            .iter()
            .map(|(k, v)| format!("{}=\"{}\"", pct(k), pct(v)))
            .collect();
        format!("OAuth realm=\"test\", {}", parts.join(", "))
    }
}

pub fn parse_form(body: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}
