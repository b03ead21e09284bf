//! A hostile OpenID Connect provider for negative tests: it serves discovery, a JWK Set, a
//! token endpoint and userinfo on 127.0.0.1, and each test tells it how to misbehave.
//!
//! The test plays the browser: it asks the client for the authorization URL, hands it to
//! [`Provider::approve`] (which records what the provider would have to remember: the PKCE
//! challenge, the redirect URI and the nonce) and feeds the resulting callback back to the
//! client.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ferroauth::session::pending::MemoryPendingStore;
use ferroauth::settings::Settings;
use ferroauth::{CallbackParams, Error, Login, OAuth, OAuthClient};
use serde_json::{Map, Value, json};
use url::Url;

/// The redirect URI every test registers; nothing listens there, the test plays the browser.
pub const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";
/// The name the client is registered under.
pub const CLIENT: &str = "hostile";
/// The subject the provider logs in.
pub const SUBJECT: &str = "alice";

/// An RSA signing key the provider may publish and sign with.
pub struct TestKey {
    pub kid: String,
    pub pair: RsaKeyPair,
    pub n: String,
    pub e: String,
}

/// Three keys, generated once for the whole test binary: `k0` is the provider's normal key,
/// `k1` the one it rotates to, `k2` one it never publishes.
pub static KEYS: LazyLock<Vec<TestKey>> = LazyLock::new(|| {
    (0..3)
        .map(|i| {
            let pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA key generation");
            let components = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
            TestKey {
                kid: format!("k{i}"),
                n: URL_SAFE_NO_PAD.encode(&components.n),
                e: URL_SAFE_NO_PAD.encode(&components.e),
                pair,
            }
        })
        .collect()
});

/// Unix seconds.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// What the token endpoint does.
#[derive(Clone, Debug)]
pub enum TokenMode {
    /// Check the request and answer a token (with an ID token unless told otherwise).
    Normal,
    /// Answer this, whatever the request.
    Raw {
        status: u16,
        content_type: &'static str,
        body: String,
    },
    /// Never answer.
    Hang,
    /// Answer 302 to `/stolen`.
    Redirect,
    /// Answer a valid-looking JSON body of this many bytes.
    Sized(usize),
}

/// How the ID token is signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Signing {
    /// RS256 with `KEYS[sign_key]`.
    Rs256,
    /// RS256, then one signature bit flipped.
    BadSignature,
    /// `alg: none` and an empty signature.
    Unsigned,
    /// HS256 keyed with the DER bytes of `KEYS[sign_key]`'s public key (algorithm
    /// confusion).
    Hs256WithPublicKey,
    /// HS256 keyed with this secret.
    Hs256With(String),
}

/// How the token endpoint expects the client to authenticate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// RFC 6749 §2.3.1 HTTP Basic, with form-urlencoded id and secret.
    Basic,
    /// `client_id` and `client_secret` in the body.
    Post,
    /// `client_id` only (public client).
    Public,
}

/// Everything a test can change about the provider.
#[derive(Clone, Debug)]
pub struct Behaviour {
    /// The issuer the metadata names (default: the provider's base URL).
    pub metadata_issuer: Option<String>,
    /// RFC 9207 `authorization_response_iss_parameter_supported`.
    pub iss_param_supported: bool,
    /// The token endpoint the metadata names (default: `/token` here).
    pub metadata_token_endpoint: Option<String>,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub client_auth: ClientAuth,
    pub token: TokenMode,
    /// Whether the token response carries an ID token.
    pub id_token: bool,
    /// Index into [`KEYS`] of the key that signs, and whose kid goes in the header.
    pub sign_key: usize,
    pub signing: Signing,
    /// Claims to set on top of the good defaults; `null` removes a claim.
    pub claims: Map<String, Value>,
    /// Header members to set on top of `alg`/`typ`/`kid`; `null` removes a member.
    pub header: Map<String, Value>,
    /// Indexes into [`KEYS`] of the published keys.
    pub jwks: Vec<usize>,
    /// Answer this HTTP status from `/jwks` instead of the keys.
    pub jwks_status: Option<u16>,
    /// Answer `/jwks` only after this long (to make concurrent fetches overlap).
    pub jwks_delay: Option<std::time::Duration>,
    /// The `sub` userinfo answers (default [`SUBJECT`]).
    pub userinfo_sub: String,
    /// Answer this from userinfo instead: status, content type, body.
    pub userinfo_raw: Option<(u16, &'static str, String)>,
    /// The access token the token endpoint hands out (default: a fresh `at-<n>`).
    pub access_token: Option<String>,
    /// The device authorization endpoint's answer (RFC 8628 §3.2), whatever the request
    /// (default: a well-formed one with an https `verification_uri`).
    pub device: Value,
    /// The `token_type` the token endpoint answers (default `Bearer`).
    pub token_type: String,
    /// The `scope` the token endpoint says it granted (default: the one asked for).
    pub granted_scope: Option<String>,
    /// Whether the ID token carries the right `c_hash` and `s_hash` (OpenID Connect Core
    /// §3.3.2.11, FAPI 1.0 Advanced §5.1) for the code and state it answers.
    pub hash_code_and_state: bool,
    /// Whether token responses carry a refresh token (then `grant_type=refresh_token`
    /// works too).
    pub refresh_tokens: bool,
    /// Whether a refresh answers a new refresh token (rotation) or none.
    pub rotate_refresh_token: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            metadata_issuer: None,
            iss_param_supported: false,
            metadata_token_endpoint: None,
            client_id: "hostile-app".into(),
            client_secret: Some("s3cret-value".into()),
            client_auth: ClientAuth::Basic,
            token: TokenMode::Normal,
            id_token: true,
            sign_key: 0,
            signing: Signing::Rs256,
            claims: Map::new(),
            header: Map::new(),
            jwks: vec![0],
            jwks_status: None,
            jwks_delay: None,
            userinfo_sub: SUBJECT.into(),
            userinfo_raw: None,
            access_token: None,
            device: json!({
                "device_code": "dc-hostile-0123456789",
                "user_code": "WDJB-MJHT",
                "verification_uri": "https://op.example/device",
                "verification_uri_complete": "https://op.example/device?user_code=WDJB-MJHT",
                "expires_in": 600,
                "interval": 5,
            }),
            token_type: "Bearer".into(),
            granted_scope: None,
            hash_code_and_state: false,
            refresh_tokens: false,
            rotate_refresh_token: false,
        }
    }
}

/// Request counters, per endpoint.
#[derive(Debug, Default)]
pub struct Hits {
    pub discovery: AtomicUsize,
    pub jwks: AtomicUsize,
    pub token: AtomicUsize,
    pub userinfo: AtomicUsize,
    /// The target of the token endpoint's redirect.
    pub stolen: AtomicUsize,
}

impl Hits {
    pub fn get(counter: &AtomicUsize) -> usize {
        counter.load(Ordering::SeqCst)
    }
}

/// What the provider remembers about an authorization it granted.
#[derive(Clone, Debug)]
struct Grant {
    client_id: String,
    redirect_uri: String,
    challenge: Option<String>,
    challenge_method: Option<String>,
    nonce: Option<String>,
    scope: Option<String>,
    state: String,
}

struct Shared {
    base: String,
    behaviour: Mutex<Behaviour>,
    hits: Hits,
    grants: Mutex<HashMap<String, Grant>>,
    access_tokens: Mutex<Vec<String>>,
    /// The live refresh tokens, with the grant they continue.
    refresh_tokens: Mutex<HashMap<String, Grant>>,
    /// Why the provider refused requests, for failure messages.
    problems: Mutex<Vec<String>>,
    serial: AtomicUsize,
}

impl Shared {
    fn behaviour(&self) -> Behaviour {
        self.behaviour.lock().unwrap().clone()
    }

    fn problem(&self, what: String) {
        self.problems.lock().unwrap().push(what);
    }
}

/// A running hostile provider.
pub struct Provider {
    pub base: String,
    shared: Arc<Shared>,
}

/// The callback a provider sends after the user consented.
#[derive(Clone, Debug)]
pub struct Approval {
    pub code: String,
    pub state: String,
    /// `iss`, when the provider advertises RFC 9207.
    pub iss: Option<String>,
}

impl Approval {
    /// The callback query string, as the provider would build it.
    pub fn query(&self) -> String {
        let mut pairs = vec![("code", self.code.as_str()), ("state", self.state.as_str())];
        if let Some(iss) = &self.iss {
            pairs.push(("iss", iss));
        }
        qs(&pairs)
    }
}

/// Form-urlencodes pairs.
pub fn qs(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// Options for the settings of the client under test.
#[derive(Clone, Debug, Default)]
pub struct Opts {
    /// Extra `key = value` entries for `client_kwargs`.
    pub kwargs: Vec<String>,
    /// Extra lines for `[http]`.
    pub http: Vec<String>,
    /// Extra lines for `[login]`.
    pub login: Vec<String>,
    /// Scope (default `openid email`).
    pub scope: Option<String>,
}

impl Opts {
    pub fn kwarg(mut self, entry: &str) -> Self {
        self.kwargs.push(entry.to_owned());
        self
    }
    pub fn http(mut self, line: &str) -> Self {
        self.http.push(line.to_owned());
        self
    }
    pub fn login(mut self, line: &str) -> Self {
        self.login.push(line.to_owned());
        self
    }
    pub fn scope(mut self, scope: &str) -> Self {
        self.scope = Some(scope.to_owned());
        self
    }
}

/// A TOML basic string.
fn toml_str(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

impl Provider {
    /// Starts a provider with the default (well-behaved) behaviour.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            base: base.clone(),
            behaviour: Mutex::new(Behaviour::default()),
            hits: Hits::default(),
            grants: Mutex::new(HashMap::new()),
            access_tokens: Mutex::new(Vec::new()),
            refresh_tokens: Mutex::new(HashMap::new()),
            problems: Mutex::new(Vec::new()),
            serial: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
            .route("/device", post(device))
            .route("/stolen", get(stolen).post(stolen))
            .with_state(shared.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        Self { base, shared }
    }

    /// Changes the behaviour.
    pub fn set(&self, change: impl FnOnce(&mut Behaviour)) {
        change(&mut self.shared.behaviour.lock().unwrap());
    }

    /// Sets (or, with `null`, removes) one ID token claim.
    pub fn claim(&self, name: &str, value: Value) {
        self.set(|b| {
            b.claims.insert(name.to_owned(), value);
        });
    }

    /// Sets (or, with `null`, removes) one ID token header member.
    pub fn header(&self, name: &str, value: Value) {
        self.set(|b| {
            b.header.insert(name.to_owned(), value);
        });
    }

    pub fn hits(&self) -> &Hits {
        &self.shared.hits
    }

    pub fn token_hits(&self) -> usize {
        Hits::get(&self.shared.hits.token)
    }

    pub fn jwks_hits(&self) -> usize {
        Hits::get(&self.shared.hits.jwks)
    }

    /// Why the provider refused requests so far.
    pub fn problems(&self) -> Vec<String> {
        self.shared.problems.lock().unwrap().clone()
    }

    /// The settings of a client of this provider, as TOML.
    pub fn settings_toml(&self, opts: &Opts) -> String {
        let b = self.shared.behaviour();
        let mut kwargs = vec![format!(
            "scope = {}",
            toml_str(opts.scope.as_deref().unwrap_or("openid email"))
        )];
        match b.client_auth {
            ClientAuth::Basic => {
                kwargs.push("token_endpoint_auth_method = \"client_secret_basic\"".into())
            }
            ClientAuth::Post => {
                kwargs.push("token_endpoint_auth_method = \"client_secret_post\"".into())
            }
            ClientAuth::Public => kwargs.push("token_endpoint_auth_method = \"none\"".into()),
        }
        kwargs.extend(opts.kwargs.iter().cloned());
        let mut text = String::new();
        text.push_str("[login]\n");
        for line in &opts.login {
            text.push_str(line);
            text.push('\n');
        }
        text.push_str("[http]\n");
        for line in &opts.http {
            text.push_str(line);
            text.push('\n');
        }
        text.push_str(&format!("[clients.{CLIENT}]\n"));
        text.push_str(&format!("client_id = {}\n", toml_str(&b.client_id)));
        if let Some(secret) = &b.client_secret {
            text.push_str(&format!("client_secret = {}\n", toml_str(secret)));
        }
        text.push_str(&format!(
            "server_metadata_url = {}\n",
            toml_str(&format!("{}/.well-known/openid-configuration", self.base))
        ));
        text.push_str(&format!("client_kwargs = {{ {} }}\n", kwargs.join(", ")));
        text
    }

    /// A registry with one client of this provider.
    pub fn oauth(&self, opts: &Opts) -> OAuth {
        let toml = self.settings_toml(opts);
        let settings = Settings::from_toml_str(&toml)
            .unwrap_or_else(|e| panic!("settings {toml:?} are refused: {e}"));
        OAuth::from_settings(&settings).expect("registry")
    }

    /// The client under test.
    pub fn client(&self, opts: &Opts) -> OAuthClient {
        self.oauth(opts).client(CLIENT).expect("client")
    }

    /// Plays the user consenting: checks the authorization URL, remembers what the token
    /// endpoint will have to check, and returns the callback.
    pub fn approve(&self, authorization_url: &Url) -> Approval {
        assert!(
            authorization_url
                .as_str()
                .starts_with(&format!("{}/authorize?", self.base)),
            "authorization URL {authorization_url} is not this provider's"
        );
        let mut params: HashMap<String, String> = HashMap::new();
        for (k, v) in authorization_url.query_pairs() {
            let previous = params.insert(k.to_string(), v.to_string());
            assert!(previous.is_none(), "authorization parameter {k} sent twice");
        }
        assert_eq!(
            params.get("response_type").map(String::as_str),
            Some("code")
        );
        let state = params
            .get("state")
            .expect("authorization URL without state");
        let n = self.shared.serial.fetch_add(1, Ordering::SeqCst);
        let code = format!("code-{n}-{}", URL_SAFE_NO_PAD.encode(state.as_bytes()));
        let grant = Grant {
            client_id: params.get("client_id").cloned().unwrap_or_default(),
            redirect_uri: params.get("redirect_uri").cloned().unwrap_or_default(),
            challenge: params.get("code_challenge").cloned(),
            challenge_method: params.get("code_challenge_method").cloned(),
            nonce: params.get("nonce").cloned(),
            scope: params.get("scope").cloned(),
            state: state.clone(),
        };
        self.shared
            .grants
            .lock()
            .unwrap()
            .insert(code.clone(), grant);
        let b = self.shared.behaviour();
        Approval {
            code,
            state: state.clone(),
            iss: b.iss_param_supported.then(|| {
                b.metadata_issuer
                    .clone()
                    .unwrap_or_else(|| self.base.clone())
            }),
        }
    }

    /// Starts a login in a session and has the user consent.
    pub async fn start_login(&self, client: &OAuthClient, store: &MemoryPendingStore) -> Approval {
        let url = client
            .authorize_redirect(store, REDIRECT_URI)
            .await
            .expect("authorize_redirect");
        self.approve(&url)
    }

    /// A whole login: redirect, consent, callback.
    pub async fn login(&self, client: &OAuthClient) -> Result<Login, Error> {
        let store = MemoryPendingStore::new();
        let approval = self.start_login(client, &store).await;
        finish(client, &store, &approval.query()).await
    }
}

/// Delivers a callback query to the client.
pub async fn finish(
    client: &OAuthClient,
    store: &MemoryPendingStore,
    query: &str,
) -> Result<Login, Error> {
    let params = CallbackParams::parse(query)?;
    client.authorize_access_token(store, &params).await
}

/// Asserts that a login failed with this code and HTTP status.
#[track_caller]
pub fn assert_refused<T: std::fmt::Debug>(
    result: Result<T, Error>,
    code: &str,
    status: u16,
) -> Error {
    match result {
        Ok(v) => panic!("expected the error `{code}`, but the call succeeded: {v:?}"),
        Err(e) => {
            assert_eq!(e.code(), code, "wrong error: {e}");
            assert_eq!(e.kind().http_status(), status, "wrong status for {e}");
            e
        }
    }
}

// ---------------------------------------------------------------------------------------
// Endpoints

async fn discovery(State(s): State<Arc<Shared>>) -> Response {
    s.hits.discovery.fetch_add(1, Ordering::SeqCst);
    let b = s.behaviour();
    let base = &s.base;
    axum::Json(json!({
        "issuer": b.metadata_issuer.clone().unwrap_or_else(|| base.clone()),
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": b.metadata_token_endpoint.clone().unwrap_or_else(|| format!("{base}/token")),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "device_authorization_endpoint": format!("{base}/device"),
        "jwks_uri": format!("{base}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        // Hostile: advertises symmetric and unsigned ID tokens too.
        "id_token_signing_alg_values_supported": ["RS256", "HS256", "none"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": b.iss_param_supported,
    }))
    .into_response()
}

async fn jwks(State(s): State<Arc<Shared>>) -> Response {
    s.hits.jwks.fetch_add(1, Ordering::SeqCst);
    let b = s.behaviour();
    if let Some(delay) = b.jwks_delay {
        tokio::time::sleep(delay).await;
    }
    if let Some(status) = b.jwks_status {
        return Response::builder()
            .status(status)
            .body(Body::from("unavailable"))
            .unwrap();
    }
    let keys: Vec<Value> = b
        .jwks
        .iter()
        .map(|&i| {
            let k = &KEYS[i];
            json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": k.kid, "n": k.n, "e": k.e})
        })
        .collect();
    axum::Json(json!({ "keys": keys })).into_response()
}

async fn stolen(State(s): State<Arc<Shared>>) -> Response {
    s.hits.stolen.fetch_add(1, Ordering::SeqCst);
    axum::Json(json!({"access_token": "stolen", "token_type": "Bearer"})).into_response()
}

async fn userinfo(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    s.hits.userinfo.fetch_add(1, Ordering::SeqCst);
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let known = bearer.is_some_and(|t| s.access_tokens.lock().unwrap().contains(&t));
    if !known {
        s.problem("userinfo: no valid bearer token".into());
        return (StatusCode::UNAUTHORIZED, "no valid bearer token").into_response();
    }
    let b = s.behaviour();
    if let Some((status, content_type, body)) = b.userinfo_raw {
        return Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap();
    }
    axum::Json(json!({
        "sub": b.userinfo_sub,
        "email": "alice@hostile.test",
        "name": "Alice",
    }))
    .into_response()
}

async fn device(State(s): State<Arc<Shared>>) -> Response {
    axum::Json(s.behaviour().device).into_response()
}

fn json_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// Strict `application/x-www-form-urlencoded` decoding of one component.
fn form_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// RFC 6749 §2.3.1: base64, split at the first colon, form-urldecode each half.
fn basic_credentials(headers: &HeaderMap) -> Result<(String, String), String> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or("no Authorization header")?
        .to_str()
        .map_err(|_| "Authorization header is not ASCII")?;
    let encoded = value.strip_prefix("Basic ").ok_or("not Basic")?;
    let decoded = STANDARD
        .decode(encoded)
        .map_err(|e| format!("bad base64 ({e})"))?;
    let decoded = String::from_utf8(decoded).map_err(|_| "not UTF-8")?;
    let (id, secret) = decoded.split_once(':').ok_or("no colon")?;
    let id = form_decode(id).ok_or("client id is not form-urlencoded")?;
    let secret = form_decode(secret).ok_or("client secret is not form-urlencoded")?;
    Ok((id, secret))
}

fn check_client(
    b: &Behaviour,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<(), String> {
    let body_id = form.get("client_id");
    let body_secret = form.get("client_secret");
    let has_header = headers.contains_key(header::AUTHORIZATION);
    match b.client_auth {
        ClientAuth::Basic => {
            let (id, secret) = basic_credentials(headers)?;
            if id != b.client_id {
                return Err(format!("basic: client id {id:?} != {:?}", b.client_id));
            }
            if Some(&secret) != b.client_secret.as_ref() {
                return Err(format!("basic: wrong secret {secret:?}"));
            }
            if body_secret.is_some() {
                return Err("basic: the secret is also in the body".into());
            }
        }
        ClientAuth::Post => {
            if has_header {
                return Err("post: an Authorization header too".into());
            }
            if body_id != Some(&b.client_id) {
                return Err(format!("post: client_id {body_id:?}"));
            }
            if body_secret != b.client_secret.as_ref() {
                return Err(format!("post: wrong client_secret {body_secret:?}"));
            }
        }
        ClientAuth::Public => {
            if has_header || body_secret.is_some() {
                return Err("public: a secret was sent".into());
            }
            if body_id != Some(&b.client_id) {
                return Err(format!("public: client_id {body_id:?}"));
            }
        }
    }
    Ok(())
}

fn s256(verifier: &str) -> String {
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    URL_SAFE_NO_PAD.encode(hash.as_ref())
}

/// OpenID Connect Core §3.1.3.6: the left half of SHA-256 of the access token (and the
/// same for `c_hash` of a code and `s_hash` of a state, with RS256).
pub fn at_hash(access_token: &str) -> String {
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&hash.as_ref()[..16])
}

fn patch(target: &mut Map<String, Value>, changes: &Map<String, Value>) {
    for (k, v) in changes {
        if v.is_null() {
            target.remove(k);
        } else {
            target.insert(k.clone(), v.clone());
        }
    }
}

/// Builds and signs an ID token as the behaviour says.
fn make_id_token(
    base: &str,
    b: &Behaviour,
    grant: &Grant,
    code: &str,
    access_token: &str,
) -> String {
    let t = now();
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(base));
    claims.insert("sub".into(), json!(SUBJECT));
    claims.insert("aud".into(), json!(b.client_id));
    claims.insert("exp".into(), json!(t + 300));
    claims.insert("iat".into(), json!(t));
    claims.insert("at_hash".into(), json!(at_hash(access_token)));
    if let Some(nonce) = &grant.nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    if b.hash_code_and_state {
        claims.insert("c_hash".into(), json!(at_hash(code)));
        claims.insert("s_hash".into(), json!(at_hash(&grant.state)));
    }
    patch(&mut claims, &b.claims);
    let key = &KEYS[b.sign_key];
    let alg = match b.signing {
        Signing::Rs256 | Signing::BadSignature => "RS256",
        Signing::Unsigned => "none",
        Signing::Hs256WithPublicKey | Signing::Hs256With(_) => "HS256",
    };
    let mut head = Map::new();
    head.insert("alg".into(), json!(alg));
    head.insert("typ".into(), json!("JWT"));
    head.insert("kid".into(), json!(key.kid));
    patch(&mut head, &b.header);
    sign_jwt(
        &Value::Object(head),
        &Value::Object(claims),
        &b.signing,
        key,
    )
}

/// Compact JWS by hand, so that it can be made wrong on purpose.
pub fn sign_jwt(head: &Value, claims: &Value, signing: &Signing, key: &TestKey) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(head.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = match signing {
        Signing::Unsigned => Vec::new(),
        Signing::Rs256 | Signing::BadSignature => {
            let mut sig = vec![0; key.pair.public_modulus_len()];
            key.pair
                .sign(
                    &RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    input.as_bytes(),
                    &mut sig,
                )
                .expect("RSA signing");
            if *signing == Signing::BadSignature {
                let last = sig.len() - 1;
                sig[last] ^= 1;
            }
            sig
        }
        Signing::Hs256WithPublicKey | Signing::Hs256With(_) => {
            let secret = match signing {
                Signing::Hs256With(secret) => secret.as_bytes().to_vec(),
                _ => key.pair.public_key().as_ref().to_vec(),
            };
            let hmac_key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret);
            aws_lc_rs::hmac::sign(&hmac_key, input.as_bytes())
                .as_ref()
                .to_vec()
        }
    };
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

async fn token(State(s): State<Arc<Shared>>, headers: HeaderMap, body: String) -> Response {
    s.hits.token.fetch_add(1, Ordering::SeqCst);
    let b = s.behaviour();
    match &b.token {
        TokenMode::Normal => {}
        TokenMode::Raw {
            status,
            content_type,
            body,
        } => {
            return Response::builder()
                .status(*status)
                .header(header::CONTENT_TYPE, *content_type)
                .body(Body::from(body.clone()))
                .unwrap();
        }
        TokenMode::Hang => {
            std::future::pending::<()>().await;
            unreachable!()
        }
        TokenMode::Redirect => {
            return Response::builder()
                .status(StatusCode::FOUND)
                .header(header::LOCATION, format!("{}/stolen", s.base))
                .body(Body::empty())
                .unwrap();
        }
        TokenMode::Sized(n) => {
            let head = r#"{"access_token":"big","token_type":"Bearer","padding":""#;
            let tail = r#""}"#;
            let padding = "x".repeat(n.saturating_sub(head.len() + tail.len()));
            return Response::builder()
                .status(200)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(format!("{head}{padding}{tail}")))
                .unwrap();
        }
    }

    let mut form: HashMap<String, String> = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(body.as_bytes()) {
        if form.insert(k.to_string(), v.to_string()).is_some() {
            s.problem(format!("token: parameter {k} sent twice"));
            return json_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "duplicate parameter",
            );
        }
    }
    if form.get("grant_type").map(String::as_str) == Some("refresh_token") {
        return refresh(&s, &b, &headers, &form);
    }
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        s.problem(format!("token: grant_type {:?}", form.get("grant_type")));
        return json_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type",
        );
    }
    if let Err(why) = check_client(&b, &headers, &form) {
        s.problem(format!("token: client authentication: {why}"));
        return json_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        );
    }
    let code = form.get("code").cloned().unwrap_or_default();
    let Some(grant) = s.grants.lock().unwrap().remove(&code) else {
        s.problem("token: unknown or used code".into());
        return json_error(StatusCode::BAD_REQUEST, "invalid_grant", "unknown code");
    };
    if grant.client_id != b.client_id {
        s.problem(format!("token: code issued to {:?}", grant.client_id));
        return json_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "code of another client",
        );
    }
    if form.get("redirect_uri") != Some(&grant.redirect_uri) {
        s.problem(format!(
            "token: redirect_uri {:?} != {:?}",
            form.get("redirect_uri"),
            grant.redirect_uri
        ));
        return json_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "redirect_uri mismatch",
        );
    }
    match (&grant.challenge, form.get("code_verifier")) {
        (Some(challenge), Some(verifier)) => {
            if grant.challenge_method.as_deref() != Some("S256") {
                s.problem(format!(
                    "token: challenge method {:?}",
                    grant.challenge_method
                ));
                return json_error(StatusCode::BAD_REQUEST, "invalid_grant", "PKCE method");
            }
            if &s256(verifier) != challenge {
                s.problem("token: S256(code_verifier) != code_challenge".into());
                return json_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "PKCE verification failed",
                );
            }
        }
        (None, None) => {}
        (c, v) => {
            s.problem(format!(
                "token: PKCE challenge present {} but verifier present {}",
                c.is_some(),
                v.is_some()
            ));
            return json_error(StatusCode::BAD_REQUEST, "invalid_grant", "PKCE mismatch");
        }
    }

    let n = s.serial.fetch_add(1, Ordering::SeqCst);
    let access_token = b.access_token.clone().unwrap_or_else(|| format!("at-{n}"));
    s.access_tokens.lock().unwrap().push(access_token.clone());
    let mut answer = json!({
        "access_token": access_token,
        "token_type": b.token_type,
        "expires_in": 3600,
    });
    if let Some(scope) = b.granted_scope.as_ref().or(grant.scope.as_ref()) {
        answer["scope"] = json!(scope);
    }
    if b.id_token {
        answer["id_token"] = json!(make_id_token(&s.base, &b, &grant, &code, &access_token));
    }
    if b.refresh_tokens {
        let refresh_token = format!("rt-{n}");
        s.refresh_tokens
            .lock()
            .unwrap()
            .insert(refresh_token.clone(), grant);
        answer["refresh_token"] = json!(refresh_token);
    }
    axum::Json(answer).into_response()
}

/// `grant_type=refresh_token` (RFC 6749 §6): a new access token and, as the behaviour
/// says, an ID token (without a nonce, OpenID Connect Core §12.2) and a new refresh token.
fn refresh(
    s: &Shared,
    b: &Behaviour,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Response {
    if let Err(why) = check_client(b, headers, form) {
        s.problem(format!("refresh: client authentication: {why}"));
        return json_error(StatusCode::UNAUTHORIZED, "invalid_client", "client");
    }
    let presented = form.get("refresh_token").cloned().unwrap_or_default();
    let Some(grant) = s.refresh_tokens.lock().unwrap().get(&presented).cloned() else {
        s.problem("refresh: unknown refresh token".into());
        return json_error(StatusCode::BAD_REQUEST, "invalid_grant", "refresh token");
    };
    let n = s.serial.fetch_add(1, Ordering::SeqCst);
    let access_token = format!("at-{n}");
    s.access_tokens.lock().unwrap().push(access_token.clone());
    let mut answer = json!({
        "access_token": access_token,
        "token_type": b.token_type,
        "expires_in": 3600,
    });
    if b.id_token {
        let grant = Grant {
            nonce: None,
            ..grant.clone()
        };
        answer["id_token"] = json!(make_id_token(&s.base, b, &grant, "", &access_token));
    }
    if b.rotate_refresh_token {
        let fresh = format!("rt-{n}");
        let mut live = s.refresh_tokens.lock().unwrap();
        live.remove(&presented);
        live.insert(fresh.clone(), grant);
        answer["refresh_token"] = json!(fresh);
    }
    axum::Json(answer).into_response()
}

/// What a [`raw_server`] does after writing its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Then {
    /// Close the connection.
    Close,
    /// Keep the connection open and never write again.
    Hang,
}

/// A bare TCP server on 127.0.0.1 that answers every request with exactly these bytes,
/// for responses axum will not produce (a body that stops half-way, an endless chunked
/// stream). Returns its base URL and a hit counter.
pub async fn raw_server(response: Vec<u8>, then: Then) -> (String, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let response = Arc::new(response);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let response = response.clone();
            tokio::spawn(async move {
                // Read the request head; the body, if any, does not matter.
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                if socket.write_all(&response).await.is_err() {
                    return;
                }
                let _ = socket.flush().await;
                if then == Then::Hang {
                    std::future::pending::<()>().await;
                }
            });
        }
    });
    (base, hits)
}
