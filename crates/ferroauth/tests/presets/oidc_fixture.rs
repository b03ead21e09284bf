//! A small OpenID Connect provider for the preset tests: discovery document, JWKS, an
//! authorization endpoint that approves at once (by redirect or by `form_post`), a token
//! endpoint that checks the client's authentication and PKCE the way the provider does,
//! ID tokens signed RS256 with a key generated per provider, and userinfo.
//!
//! One router serves every path of the provider; it is mounted on each of the provider's
//! host names (Google's endpoints are on four hosts), so each path must be unique across
//! them, as it is for the providers tested.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{self, KeyPair as _};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};

/// How the token endpoint wants the client to authenticate.
#[derive(Clone)]
pub enum ClientAuth {
    /// HTTP Basic only; a secret in the body is refused.
    Basic,
    /// `client_id` and `client_secret` in the body only; Basic is refused.
    Post,
    /// Either.
    Any,
    /// Apple: `client_secret` in the body is an ES256 JWT, verified with this public key
    /// (uncompressed P-256 point), from this team and key id.
    AppleJwt {
        public_key: Vec<u8>,
        team_id: String,
        key_id: String,
    },
}

/// What the token endpoint does with PKCE.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Pkce {
    /// A `code_verifier` must come and match the challenge.
    Required,
    /// A `code_verifier` is refused with `invalid_client` (LinkedIn's web apps).
    Refused,
}

/// How the provider signs its ID tokens.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum IdTokenAlg {
    /// RS256 with the provider's RSA key (in the JWKS).
    Rs256,
    /// ES256 with the provider's P-256 key (in the JWKS instead of the RSA one).
    Es256,
    /// HS256 keyed with this text (LINE: the channel secret), no JWKS entry.
    Hs256(&'static str),
}

/// Makes a token error response in the provider's shape: `(code, description)`.
pub type ErrorShape = fn(&str, &str) -> Response;

/// The RFC 6749 §5.2 shape.
pub fn standard_error(code: &str, description: &str) -> Response {
    let status = if code == "invalid_client" {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::BAD_REQUEST
    };
    (
        status,
        axum::Json(json!({"error": code, "error_description": description})),
    )
        .into_response()
}

/// The description a refused refresh token comes with, so that an [`ErrorShape`] can
/// tell it from a refused code when its provider has a code of its own for each (Slack).
pub const SPENT_REFRESH_TOKEN: &str = "AADSTS70000: the refresh token was already used";

/// One authorization the provider granted, waiting for its code.
#[derive(Clone, Debug)]
pub struct Grant {
    pub params: HashMap<String, String>,
}

/// The provider's configuration; change the fields before [`Op::router`].
#[derive(Clone)]
pub struct Op {
    /// The issuer in the ID tokens (unless the claims override `iss`).
    pub issuer: String,
    /// The issuer the metadata names (Microsoft's template), if not `issuer`.
    pub metadata_issuer: Option<String>,
    pub discovery_url: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: Option<String>,
    pub jwks_uri: String,
    /// More metadata members.
    pub metadata_extra: Value,
    pub client_id: String,
    pub client_secret: String,
    pub auth: ClientAuth,
    pub pkce: Pkce,
    /// The ID token carries the request's nonce.
    pub nonce_in_token: bool,
    /// The authorization response is a form posted by the browser when asked for
    /// `response_mode=form_post`; this `user` field goes with it (Apple).
    pub form_post_user: Option<String>,
    /// Token errors in the provider's shape.
    pub token_error: ErrorShape,
    /// Shapes a successful token response (Twitch's scope array, Salesforce's signature).
    pub token_shape: fn(&mut Map<String, Value>, &Op),
    /// The userinfo response, when the provider has one (see also [`Op::set_userinfo`]).
    pub userinfo: Option<Value>,
    /// The token endpoint also takes `refresh_token` grants, as Microsoft does: every
    /// token response carries a refresh token, each works once (it rotates), and the
    /// answer has a new ID token of the grant's claims (without a nonce).
    pub refresh: bool,
    /// With [`refresh`](Self::refresh): the refresh token does not rotate and the refresh
    /// answer has none, as Google documents ("Refreshing an access token (offline
    /// access)": the response has `access_token`, `expires_in`, `scope`, `token_type` and
    /// an `id_token`; the refresh token stays valid until revoked).
    pub refresh_keeps_token: bool,
    /// Checks the authorization request's parameters (asserts).
    pub check_authorize: fn(&HashMap<String, String>),
    /// How ID tokens are signed (and which key the JWKS publishes).
    pub id_token_alg: IdTokenAlg,
    state: Arc<Shared>,
}

struct Shared {
    key: RsaKeyPair,
    ec: signature::EcdsaKeyPair,
    kid: String,
    grants: Mutex<HashMap<String, Grant>>,
    /// Claims merged into every ID token (they win over the defaults).
    id_claims: Mutex<Map<String, Value>>,
    issued: Mutex<Vec<String>>,
    /// The refresh tokens not yet used, with their grant.
    refresh_tokens: Mutex<HashMap<String, Grant>>,
    /// What userinfo answers from now on, over [`Op::userinfo`].
    userinfo: Mutex<Option<Value>>,
}

/// The subject of every ID token unless the claims say otherwise.
pub const SUB: &str = "user-1001";

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The path of a URL.
fn path(url: &str) -> String {
    let u = url::Url::parse(url).unwrap();
    u.path().to_owned()
}

/// The host of a URL.
fn host(url: &str) -> String {
    url::Url::parse(url).unwrap().host_str().unwrap().to_owned()
}

impl Op {
    /// A provider at `issuer` with `{issuer}/.well-known/openid-configuration` and the
    /// given endpoint paths under the issuer's origin.
    pub fn new(issuer: &str, client_id: &str, client_secret: &str) -> Op {
        let key = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let mut kid = [0u8; 6];
        aws_lc_rs::rand::fill(&mut kid).unwrap();
        Op {
            issuer: issuer.to_owned(),
            metadata_issuer: None,
            discovery_url: format!(
                "{}/.well-known/openid-configuration",
                issuer.trim_end_matches('/')
            ),
            authorization_endpoint: format!("{}/authorize", issuer.trim_end_matches('/')),
            token_endpoint: format!("{}/token", issuer.trim_end_matches('/')),
            userinfo_endpoint: Some(format!("{}/userinfo", issuer.trim_end_matches('/'))),
            jwks_uri: format!("{}/keys", issuer.trim_end_matches('/')),
            metadata_extra: json!({}),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            auth: ClientAuth::Any,
            pkce: Pkce::Required,
            nonce_in_token: true,
            form_post_user: None,
            token_error: standard_error,
            token_shape: |_, _| {},
            userinfo: None,
            refresh: false,
            refresh_keeps_token: false,
            check_authorize: |_| {},
            id_token_alg: IdTokenAlg::Rs256,
            state: Arc::new(Shared {
                key,
                ec: signature::EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING)
                    .unwrap(),
                kid: b64(&kid),
                grants: Mutex::new(HashMap::new()),
                id_claims: Mutex::new(Map::new()),
                issued: Mutex::new(Vec::new()),
                refresh_tokens: Mutex::new(HashMap::new()),
                userinfo: Mutex::new(None),
            }),
        }
    }

    /// Claims merged into the next ID tokens (replacing earlier ones).
    pub fn set_id_claims(&self, claims: Value) {
        *self.state.id_claims.lock().unwrap() = claims.as_object().cloned().unwrap();
    }

    /// What userinfo answers from now on (the user's profile changed at the provider).
    pub fn set_userinfo(&self, userinfo: Value) {
        *self.state.userinfo.lock().unwrap() = Some(userinfo);
    }

    /// The ID tokens issued so far.
    pub fn issued(&self) -> Vec<String> {
        self.state.issued.lock().unwrap().clone()
    }

    /// The discovery document.
    pub fn metadata(&self) -> Value {
        let mut doc = json!({
            "issuer": self.metadata_issuer.as_deref().unwrap_or(&self.issuer),
            "authorization_endpoint": self.authorization_endpoint,
            "token_endpoint": self.token_endpoint,
            "jwks_uri": self.jwks_uri,
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
        });
        if let Some(userinfo) = &self.userinfo_endpoint {
            doc["userinfo_endpoint"] = json!(userinfo);
        }
        for (k, v) in self.metadata_extra.as_object().unwrap() {
            doc[k] = v.clone();
        }
        doc
    }

    /// The public key set.
    pub fn jwks(&self) -> Value {
        if self.id_token_alg == IdTokenAlg::Es256 {
            let point = self.state.ec.public_key().as_ref();
            return json!({"keys": [{
                "kty": "EC", "use": "sig", "alg": "ES256", "crv": "P-256", "kid": self.state.kid,
                "x": b64(&point[1..33]), "y": b64(&point[33..65]),
            }]});
        }
        let public = self.state.key.public_key();
        json!({"keys": [{
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.state.kid,
            "n": b64(public.modulus().big_endian_without_leading_zero()),
            "e": b64(public.exponent().big_endian_without_leading_zero()),
        }]})
    }

    /// Signs `claims` RS256 with the provider's key.
    pub fn sign(&self, claims: &Value) -> String {
        let header = json!({"alg": "RS256", "kid": self.state.kid, "typ": "JWT"});
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let mut sig = vec![0; self.state.key.public_modulus_len()];
        self.state
            .key
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .unwrap();
        format!("{input}.{}", b64(&sig))
    }

    /// Signs `claims` with `alg` (the provider's own keys, or an HMAC key).
    pub fn sign_as(&self, alg: IdTokenAlg, claims: &Value) -> String {
        let (name, kid) = match alg {
            IdTokenAlg::Rs256 => return self.sign(claims),
            IdTokenAlg::Es256 => ("ES256", Some(&self.state.kid)),
            IdTokenAlg::Hs256(_) => ("HS256", None),
        };
        let mut header = json!({"alg": name, "typ": "JWT"});
        if let Some(kid) = kid {
            header["kid"] = json!(kid);
        }
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let sig = match alg {
            IdTokenAlg::Hs256(secret) => {
                let key =
                    aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
                aws_lc_rs::hmac::sign(&key, input.as_bytes())
                    .as_ref()
                    .to_vec()
            }
            _ => self
                .state
                .ec
                .sign(&SystemRandom::new(), input.as_bytes())
                .unwrap()
                .as_ref()
                .to_vec(),
        };
        format!("{input}.{}", b64(&sig))
    }

    /// The ID token for a grant.
    fn id_token(&self, grant: &Grant) -> String {
        let now = now();
        let mut claims = json!({
            "iss": self.issuer, "aud": self.client_id, "sub": SUB,
            "iat": now, "exp": now + 600,
        });
        if self.nonce_in_token
            && let Some(nonce) = grant.params.get("nonce")
        {
            claims["nonce"] = json!(nonce);
        }
        for (k, v) in self.state.id_claims.lock().unwrap().iter() {
            claims[k] = v.clone();
        }
        let token = self.sign_as(self.id_token_alg, &claims);
        self.state.issued.lock().unwrap().push(token.clone());
        token
    }

    /// Every host the provider's URLs name.
    pub fn hosts(&self) -> Vec<String> {
        let mut hosts: Vec<String> = [
            &self.discovery_url,
            &self.authorization_endpoint,
            &self.token_endpoint,
            &self.jwks_uri,
        ]
        .into_iter()
        .chain(self.userinfo_endpoint.as_ref())
        .map(|u| host(u))
        .collect();
        hosts.sort();
        hosts.dedup();
        hosts
    }

    /// The fixture: one router per host, for [`super::world::World::start`].
    pub fn routes(&self) -> Vec<(String, Router)> {
        let router = self.router();
        self.hosts()
            .into_iter()
            .map(|h| (h, router.clone()))
            .collect()
    }

    /// Every endpoint of the provider.
    pub fn router(&self) -> Router {
        let op = Arc::new(self.clone());
        let mut router = Router::new()
            .route(
                &path(&self.discovery_url),
                get(|State(op): State<Arc<Op>>| async move { axum::Json(op.metadata()) }),
            )
            .route(
                &path(&self.jwks_uri),
                get(|State(op): State<Arc<Op>>| async move { axum::Json(op.jwks()) }),
            )
            .route(&path(&self.authorization_endpoint), get(authorize))
            .route(&path(&self.token_endpoint), post(token));
        if let Some(userinfo) = &self.userinfo_endpoint {
            router = router.route(&path(userinfo), get(userinfo_endpoint));
        }
        router.with_state(op)
    }
}

async fn authorize(
    State(op): State<Arc<Op>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    assert_eq!(q["client_id"], op.client_id);
    assert_eq!(q["response_type"], "code");
    assert!(q.contains_key("state"));
    (op.check_authorize)(&q);
    let mut code = [0u8; 12];
    aws_lc_rs::rand::fill(&mut code).unwrap();
    let code = b64(&code);
    op.state
        .grants
        .lock()
        .unwrap()
        .insert(code.clone(), Grant { params: q.clone() });
    let redirect_uri = &q["redirect_uri"];
    let state = &q["state"];
    if q.get("response_mode").map(String::as_str) == Some("form_post") {
        // The browser is made to POST the response to the app.
        let mut fields = vec![("code", code.as_str()), ("state", state.as_str())];
        if let Some(user) = &op.form_post_user {
            fields.push(("user", user));
        }
        let inputs: String = fields
            .iter()
            .map(|(k, v)| {
                format!(
                    "<input type=\"hidden\" name=\"{k}\" value=\"{}\">",
                    v.replace('&', "&amp;").replace('"', "&quot;")
                )
            })
            .collect();
        return Html(format!(
            "<html><body onload=\"document.forms[0].submit()\"><form method=\"post\" action=\"{redirect_uri}\">{inputs}</form></body></html>"
        ))
        .into_response();
    }
    let mut url = url::Url::parse(redirect_uri).unwrap();
    url.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", state);
    Redirect::to(url.as_str()).into_response()
}

/// The fields of a `form_post` page, as the browser would post them.
pub fn form_fields(html: &str) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for input in html.split("<input ").skip(1) {
        let attr = |name: &str| {
            let start = input.find(&format!("{name}=\""))? + name.len() + 2;
            let end = input[start..].find('"')? + start;
            Some(
                input[start..end]
                    .replace("&quot;", "\"")
                    .replace("&amp;", "&"),
            )
        };
        if let (Some(name), Some(value)) = (attr("name"), attr("value")) {
            out.append_pair(&name, &value);
        }
    }
    out.finish()
}

async fn token(State(op): State<Arc<Op>>, headers: HeaderMap, body: String) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let error = op.token_error;
    if let Err(why) = check_client(&op, &headers, &form) {
        return error("invalid_client", &why);
    }
    if op.refresh && form.get("grant_type").map(String::as_str) == Some("refresh_token") {
        return refresh(&op, &form);
    }
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return error("unsupported_grant_type", "only authorization_code");
    }
    let grant = form
        .get("code")
        .and_then(|c| op.state.grants.lock().unwrap().remove(c));
    let Some(grant) = grant else {
        return error("invalid_grant", "Invalid authorization code");
    };
    if form.get("redirect_uri") != grant.params.get("redirect_uri") {
        return error("invalid_grant", "redirect_uri mismatch");
    }
    match (op.pkce, form.get("code_verifier")) {
        (Pkce::Refused, Some(_)) => {
            return error(
                "invalid_client",
                "code_verifier is not allowed for web apps",
            );
        }
        (Pkce::Required, verifier) => {
            let Some(verifier) = verifier else {
                return error("invalid_request", "code_verifier is required");
            };
            let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
            if grant.params.get("code_challenge") != Some(&b64(digest.as_ref())) {
                return error("invalid_grant", "code_verifier does not match");
            }
        }
        (Pkce::Refused, None) => {}
    }
    let mut access = [0u8; 16];
    aws_lc_rs::rand::fill(&mut access).unwrap();
    let mut response = json!({
        "access_token": format!("at-{}", b64(&access)),
        "token_type": "Bearer",
        "expires_in": 3600,
        "id_token": op.id_token(&grant),
    });
    if let Some(scope) = grant.params.get("scope") {
        response["scope"] = json!(scope);
    }
    if op.refresh {
        response["refresh_token"] = json!(op.new_refresh_token(grant));
    }
    let object = response.as_object_mut().unwrap();
    (op.token_shape)(object, &op);
    axum::Json(Value::Object(object.clone())).into_response()
}

/// A `refresh_token` grant, answered as Microsoft and GitLab do: a new access token, a
/// rotated refresh token (the one used is spent) and a new ID token; or as Google does
/// ([`Op::refresh_keeps_token`]): no refresh token in the answer, the one used still good.
fn refresh(op: &Op, form: &HashMap<String, String>) -> Response {
    let grant = form.get("refresh_token").and_then(|t| {
        let mut tokens = op.state.refresh_tokens.lock().unwrap();
        match op.refresh_keeps_token {
            true => tokens.get(t).cloned(),
            false => tokens.remove(t),
        }
    });
    let Some(mut grant) = grant else {
        return (op.token_error)("invalid_grant", SPENT_REFRESH_TOKEN);
    };
    // A refreshed ID token has no nonce: the login's request is long gone.
    grant.params.remove("nonce");
    let mut access = [0u8; 16];
    aws_lc_rs::rand::fill(&mut access).unwrap();
    let mut response = json!({
        "access_token": format!("at-{}", b64(&access)),
        "token_type": "Bearer",
        "expires_in": 3600,
        "id_token": op.id_token(&grant),
    });
    if !op.refresh_keeps_token {
        response["refresh_token"] = json!(op.new_refresh_token(grant.clone()));
    }
    if let Some(scope) = grant.params.get("scope") {
        response["scope"] = json!(scope);
    }
    // A provider shapes every token response alike (Salesforce signs this one too).
    let object = response.as_object_mut().unwrap();
    (op.token_shape)(object, op);
    axum::Json(Value::Object(object.clone())).into_response()
}

impl Op {
    /// A new refresh token for `grant`.
    fn new_refresh_token(&self, grant: Grant) -> String {
        let mut bytes = [0u8; 16];
        aws_lc_rs::rand::fill(&mut bytes).unwrap();
        let token = format!("rt-{}", b64(&bytes));
        self.state
            .refresh_tokens
            .lock()
            .unwrap()
            .insert(token.clone(), grant);
        token
    }
}

fn check_client(
    op: &Op,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<(), String> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Basic "))
        .map(str::to_owned);
    let basic_ok = || {
        let expected = STANDARD.encode(format!("{}:{}", op.client_id, op.client_secret));
        basic.as_deref() == Some(expected.as_str())
    };
    let post_ok = || {
        form.get("client_id") == Some(&op.client_id)
            && form.get("client_secret") == Some(&op.client_secret)
    };
    match &op.auth {
        ClientAuth::Basic if form.contains_key("client_secret") => {
            Err("the secret must not be in the body".into())
        }
        ClientAuth::Basic if basic_ok() => Ok(()),
        ClientAuth::Post if basic.is_some() => Err("HTTP Basic is not accepted".into()),
        ClientAuth::Post if post_ok() => Ok(()),
        ClientAuth::Any if basic_ok() || post_ok() => Ok(()),
        ClientAuth::AppleJwt {
            public_key,
            team_id,
            key_id,
        } => {
            if basic.is_some() {
                return Err("HTTP Basic is not accepted".into());
            }
            if form.get("client_id") != Some(&op.client_id) {
                return Err("client_id".into());
            }
            let jwt = form.get("client_secret").ok_or("no client_secret")?;
            let claims = verify_es256(jwt, public_key, key_id)?;
            let now = now();
            let ok = claims["iss"] == json!(team_id)
                && claims["sub"] == json!(op.client_id)
                && claims["aud"] == json!("https://appleid.apple.com")
                && claims["iat"].as_u64().is_some_and(|t| t <= now + 60)
                && claims["exp"]
                    .as_u64()
                    .is_some_and(|t| t > now && t <= now + 15_777_000);
            if ok {
                Ok(())
            } else {
                Err(format!("client secret claims refused: {claims}"))
            }
        }
        _ => Err("client authentication failed".into()),
    }
}

/// Verifies an ES256 JWT with a P-256 public key; its claims.
pub fn verify_es256(jwt: &str, public_key: &[u8], kid: &str) -> Result<Value, String> {
    let mut parts = jwt.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("not a JWT".into());
    };
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    if header["alg"] != "ES256" || header["kid"] != kid {
        return Err(format!("header {header}"));
    }
    let sig = URL_SAFE_NO_PAD.decode(s).map_err(|e| e.to_string())?;
    signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, public_key)
        .verify(format!("{h}.{p}").as_bytes(), &sig)
        .map_err(|_| "bad signature".to_owned())?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())
}

async fn userinfo_endpoint(State(op): State<Arc<Op>>, headers: HeaderMap) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !bearer.starts_with("Bearer at-") {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let changed = op.state.userinfo.lock().unwrap().clone();
    match changed.as_ref().or(op.userinfo.as_ref()) {
        Some(info) => axum::Json(info.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A P-256 key pair for Apple: the PKCS#8 PEM and the public point.
pub fn p256_key() -> (String, Vec<u8>) {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
    let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let der = key.to_pkcs8v1().unwrap();
    let text = STANDARD.encode(der.as_ref());
    let lines: Vec<&str> = text
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    );
    (pem, key.public_key().as_ref().to_vec())
}

/// The client id of the OpenID Connect preset tests.
pub const CLIENT_ID: &str = "client-7f3a";
/// Its secret.
pub const SECRET: &str = "secret-0b9d-e4c1-long-enough";

/// A world serving these providers (and any extra hosts).
pub async fn world(ops: &[&Op], extra: Vec<(&str, Router)>) -> super::world::World {
    let mut routes: Vec<(String, Router)> = ops.iter().flat_map(|op| op.routes()).collect();
    routes.extend(extra.into_iter().map(|(h, r)| (h.to_owned(), r)));
    super::world::World::start(
        routes
            .iter()
            .map(|(h, r)| (h.as_str(), r.clone()))
            .collect(),
    )
    .await
}

/// A client `name` with the test's id and secret and more TOML lines.
pub fn toml(name: &str, more: &str) -> String {
    format!("[clients.{name}]\nclient_id = \"{CLIENT_ID}\"\nclient_secret = \"{SECRET}\"\n{more}\n")
}
