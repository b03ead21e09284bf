//! OAuth 1.0a (RFC 5849) endpoints and signature verification.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};

use crate::config::{Client, ClientKind};
use crate::html::{self, LoginPage};
use crate::oidc::{all_claims, append_query};
use crate::state::{OAuth1Token, Pending, PendingKind, Shared, TempCredential};
use crate::util::{Params, ct_eq, now, oauth_encode, percent_decode_strict, random_token};

type St = State<Arc<Shared>>;

// ---------------------------------------------------------------- errors

/// An `oauth_problem` response (OAuth Problem Reporting extension), form encoded.
fn problem(status: StatusCode, problem: &str, extra: &[(&str, &str)]) -> Response {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    ser.append_pair("oauth_problem", problem);
    for (k, v) in extra {
        ser.append_pair(k, v);
    }
    let mut resp = (status, ser.finish()).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if status == StatusCode::UNAUTHORIZED {
        h.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("OAuth realm=\"ferroauth-testkit\""),
        );
    }
    resp
}

fn absent(name: &str) -> Response {
    problem(
        StatusCode::BAD_REQUEST,
        "parameter_absent",
        &[("oauth_parameters_absent", name)],
    )
}

fn rejected(name: &str, advice: &str) -> Response {
    problem(
        StatusCode::BAD_REQUEST,
        "parameter_rejected",
        &[
            ("oauth_parameters_rejected", name),
            ("oauth_problem_advice", advice),
        ],
    )
}

fn unauthorized(p: &str, advice: &str) -> Response {
    problem(
        StatusCode::UNAUTHORIZED,
        p,
        &[("oauth_problem_advice", advice)],
    )
}

fn form_response(pairs: &[(&str, &str)]) -> Response {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k, v);
    }
    let mut resp = ser.finish().into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

// ---------------------------------------------------------------- request parsing

/// All request parameters that take part in the signature, decoded.
struct SignedRequest {
    /// Every parameter except `realm` and `oauth_signature` (RFC 5849 §3.4.1.3).
    params: Vec<(String, String)>,
    /// Protocol parameters (`oauth_*`), including `oauth_signature`.
    protocol: HashMap<String, String>,
}

impl SignedRequest {
    fn get(&self, name: &str) -> Option<&str> {
        self.protocol
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// Parses `Authorization: OAuth k="v", ...` (RFC 5849 §3.5.1).
fn parse_auth_header(value: &str) -> Result<Option<Vec<(String, String)>>, Response> {
    let value = value.trim_start();
    let Some((scheme, rest)) = value.split_once(' ').or(Some((value, ""))) else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("oauth") {
        return Ok(None);
    }
    let malformed = || rejected("Authorization", "malformed OAuth Authorization header");
    let mut out = Vec::new();
    for item in rest.split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let (name, quoted) = item.split_once('=').ok_or_else(malformed)?;
        let quoted = quoted.trim();
        let inner = quoted
            .strip_prefix('"')
            .and_then(|q| q.strip_suffix('"'))
            .ok_or_else(malformed)?;
        let name = percent_decode_strict(name.trim()).ok_or_else(malformed)?;
        let value = percent_decode_strict(inner).ok_or_else(malformed)?;
        out.push((name, value));
    }
    Ok(Some(out))
}

fn collect(
    headers: &HeaderMap,
    query: Option<&str>,
    body: &Bytes,
) -> Result<SignedRequest, Response> {
    let mut all: Vec<(String, String)> = Vec::new();
    let mut from_header = false;
    if let Some(v) = headers.get(header::AUTHORIZATION) {
        let v = v
            .to_str()
            .map_err(|_| rejected("Authorization", "non-ASCII Authorization header"))?;
        if let Some(pairs) = parse_auth_header(v)? {
            from_header = true;
            // Only protocol parameters count from the header; realm is excluded.
            all.extend(pairs.into_iter().filter(|(k, _)| k.starts_with("oauth_")));
        }
    }
    if let Some(q) = query {
        all.extend(Params::parse(q.as_bytes()).0);
    }
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if is_form {
        all.extend(Params::parse(body).0);
    }
    let mut protocol = HashMap::new();
    for (k, v) in &all {
        if k.starts_with("oauth_") && protocol.insert(k.clone(), v.clone()).is_some() {
            return Err(rejected(k, "protocol parameters must appear exactly once"));
        }
    }
    if protocol.is_empty() && !from_header {
        return Err(absent("oauth_consumer_key"));
    }
    let params = all
        .into_iter()
        .filter(|(k, _)| k != "oauth_signature")
        .collect();
    Ok(SignedRequest { params, protocol })
}

/// RFC 5849 §3.4.1: the signature base string.
fn base_string(method: &Method, base_uri: &str, params: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (oauth_encode(k), oauth_encode(v)))
        .collect();
    encoded.sort();
    let normalized = encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{}&{}&{}",
        method.as_str().to_ascii_uppercase(),
        oauth_encode(base_uri),
        oauth_encode(&normalized)
    )
}

/// RFC 5849 §3.4.1.2: scheme and host lower case, default port omitted.
fn base_uri(s: &Shared, path: &str) -> String {
    let full = s.settings.url(path);
    match url::Url::parse(&full) {
        Ok(u) => {
            let host = u.host_str().unwrap_or("").to_ascii_lowercase();
            match u.port() {
                Some(p) => format!("{}://{host}:{p}{}", u.scheme(), u.path()),
                None => format!("{}://{host}{}", u.scheme(), u.path()),
            }
        }
        Err(_) => full,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TokenUse {
    /// `request_token`: no token.
    None,
    /// `access_token`: temporary credentials.
    Temporary,
    /// Protected resources: token credentials.
    Access,
}

struct Verified {
    consumer: Client,
    /// The token presented (if any) and its secret.
    token: Option<String>,
    protocol: HashMap<String, String>,
}

/// Authenticates a signed request (consumer, token, timestamp, nonce, signature).
fn verify(
    s: &Shared,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    query: Option<&str>,
    body: &Bytes,
    token_use: TokenUse,
) -> Result<Verified, Response> {
    let req = collect(headers, query, body)?;
    let fast = s.settings.fast;
    if let Some(v) = req.get("oauth_version")
        && v != "1.0"
    {
        return Err(problem(
            StatusCode::BAD_REQUEST,
            "version_rejected",
            &[("oauth_acceptable_versions", "1.0-1.0")],
        ));
    }
    let key = req
        .get("oauth_consumer_key")
        .ok_or_else(|| absent("oauth_consumer_key"))?;
    let sig_method = req
        .get("oauth_signature_method")
        .ok_or_else(|| absent("oauth_signature_method"))?;
    if !matches!(sig_method, "HMAC-SHA1" | "HMAC-SHA256" | "PLAINTEXT") {
        return Err(problem(
            StatusCode::BAD_REQUEST,
            "signature_method_rejected",
            &[(
                "oauth_acceptable_signature_methods",
                "HMAC-SHA1&HMAC-SHA256&PLAINTEXT",
            )],
        ));
    }
    let plaintext = sig_method == "PLAINTEXT";
    let timestamp = match req.get("oauth_timestamp") {
        Some(ts) => Some(
            ts.parse::<u64>()
                .map_err(|_| rejected("oauth_timestamp", "must be a positive integer"))?,
        ),
        None if plaintext || fast => None,
        None => return Err(absent("oauth_timestamp")),
    };
    let nonce = match req.get("oauth_nonce") {
        Some(n) => Some(n.to_owned()),
        None if plaintext || fast => None,
        None => return Err(absent("oauth_nonce")),
    };
    let signature = req.get("oauth_signature");
    if signature.is_none() && !fast {
        return Err(absent("oauth_signature"));
    }
    let consumer = s
        .settings
        .client(key, ClientKind::OAuth1)
        .cloned()
        .ok_or_else(|| unauthorized("consumer_key_unknown", "unknown consumer key"))?;

    let t = now();
    let window = s.settings.oauth1_window;
    if let Some(ts) = timestamp
        && !fast
        && ts.abs_diff(t) > window
    {
        let range = format!("{}-{}", t.saturating_sub(window), t + window);
        return Err(problem(
            StatusCode::UNAUTHORIZED,
            "timestamp_refused",
            &[("oauth_acceptable_timestamps", &range)],
        ));
    }

    let token = req.get("oauth_token").map(str::to_owned);
    let token_secret = {
        let store = s.store();
        match (token_use, token.as_deref()) {
            (TokenUse::None, None) => String::new(),
            (TokenUse::None, Some(_)) => {
                return Err(rejected("oauth_token", "not expected on this endpoint"));
            }
            (_, None) => return Err(absent("oauth_token")),
            (TokenUse::Temporary, Some(tok)) => match store.temp.get(tok) {
                Some(c) if c.consumer_key == consumer.client_id => c.secret.clone(),
                _ => {
                    return Err(unauthorized(
                        "token_rejected",
                        "unknown or expired request token",
                    ));
                }
            },
            (TokenUse::Access, Some(tok)) => match store.oauth1_tokens.get(tok) {
                Some(c) if c.consumer_key == consumer.client_id => c.secret.clone(),
                _ => {
                    return Err(unauthorized(
                        "token_rejected",
                        "unknown, expired or revoked token",
                    ));
                }
            },
        }
    };

    if !fast {
        let signature = signature.unwrap_or("");
        let signing_key = format!(
            "{}&{}",
            oauth_encode(consumer.secret.as_deref().unwrap_or("")),
            oauth_encode(&token_secret)
        );
        let ok = match sig_method {
            "PLAINTEXT" => ct_eq(signature.as_bytes(), signing_key.as_bytes()),
            alg => {
                let base = base_string(method, &base_uri(s, path), &req.params);
                let Ok(sig) = STANDARD.decode(signature) else {
                    return Err(unauthorized("signature_invalid", "signature is not base64"));
                };
                if alg == "HMAC-SHA1" {
                    verify_hmac::<sha1::Sha1>(signing_key.as_bytes(), base.as_bytes(), &sig)
                } else {
                    verify_hmac::<sha2::Sha256>(signing_key.as_bytes(), base.as_bytes(), &sig)
                }
            }
        };
        if !ok {
            return Err(unauthorized(
                "signature_invalid",
                "signature verification failed",
            ));
        }
        // Only authenticated requests may consume nonces.
        if let (Some(ts), Some(nonce)) = (timestamp, nonce) {
            let id = format!(
                "{}\n{}\n{ts}\n{nonce}",
                consumer.client_id,
                token.as_deref().unwrap_or("")
            );
            let mut store = s.store();
            if store.nonces.contains_key(&id) {
                return Err(unauthorized("nonce_used", "nonce already used"));
            }
            store.nonces.insert(id, ts.max(t) + window + 1);
        }
    }
    Ok(Verified {
        consumer,
        token,
        protocol: req.protocol,
    })
}

fn verify_hmac<D>(key: &[u8], msg: &[u8], sig: &[u8]) -> bool
where
    D: hmac::EagerHash,
    Hmac<D>: KeyInit + Mac,
{
    match <Hmac<D> as KeyInit>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(msg);
            mac.verify_slice(sig).is_ok()
        }
        Err(_) => false,
    }
}

fn callback_allowed(consumer: &Client, callback: &str) -> bool {
    if !consumer.redirect_uris.is_empty() {
        return consumer.redirect_uris.iter().any(|u| u == callback);
    }
    callback == "oob"
        || url::Url::parse(callback).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

// ---------------------------------------------------------------- endpoints

pub(crate) async fn request_token(
    State(s): St,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let v = match verify(
        &s,
        &method,
        "/oauth1/request_token",
        &headers,
        query.as_deref(),
        &body,
        TokenUse::None,
    ) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(callback) = v.protocol.get("oauth_callback").filter(|c| !c.is_empty()) else {
        return absent("oauth_callback");
    };
    if !callback_allowed(&v.consumer, callback) {
        return rejected(
            "oauth_callback",
            "callback is not registered for this consumer",
        );
    }
    let token = random_token(24);
    let secret = random_token(24);
    s.store().temp.insert(
        token.clone(),
        TempCredential {
            consumer_key: v.consumer.client_id.clone(),
            secret: secret.clone(),
            callback: callback.clone(),
            approved: None,
            expires_at: now() + s.settings.login_ttl,
        },
    );
    form_response(&[
        ("oauth_token", &token),
        ("oauth_token_secret", &secret),
        ("oauth_callback_confirmed", "true"),
    ])
}

pub(crate) async fn authorize(State(s): St, RawQuery(query): RawQuery) -> Response {
    let p = Params::parse(query.unwrap_or_default().as_bytes());
    let Some(token) = p.get("oauth_token") else {
        return html::error_page(
            StatusCode::BAD_REQUEST,
            "parameter_absent",
            "oauth_token is missing",
        );
    };
    let consumer = {
        let store = s.store();
        match store.temp.get(token) {
            Some(t) if t.approved.is_none() => t.consumer_key.clone(),
            _ => {
                return html::error_page(
                    StatusCode::BAD_REQUEST,
                    "token_rejected",
                    "unknown, expired or already used request token",
                );
            }
        }
    };
    let st = &s.settings;
    if st.auto_approve {
        let user = match p.get("login_hint") {
            Some(hint) => st.find_login(hint),
            None => st.users.first(),
        };
        return finish_authorization(&s, token, user.map(|u| u.sub.as_str()));
    }
    let request_id = random_token(32);
    s.store().pending.insert(
        request_id.clone(),
        Pending {
            kind: PendingKind::OAuth1 {
                token: token.to_owned(),
            },
            client_id: consumer.clone(),
            expires_at: now() + st.login_ttl,
        },
    );
    html::login_page(&LoginPage {
        action: &st.url("/login"),
        request_id: &request_id,
        client_id: &consumer,
        protocol: "OAuth 1.0a",
        scope: "",
        users: &st.users,
        error: None,
    })
}

/// Completes the user's decision: redirect to the callback with a verifier,
/// or with `denied=<token>`.
pub(crate) fn finish_authorization(s: &Shared, token: &str, sub: Option<&str>) -> Response {
    let mut store = s.store();
    let Some(temp) = store.temp.get_mut(token).filter(|t| t.approved.is_none()) else {
        return html::error_page(
            StatusCode::BAD_REQUEST,
            "token_rejected",
            "unknown, expired or already used request token",
        );
    };
    let callback = temp.callback.clone();
    let Some(sub) = sub else {
        store.temp.remove(token);
        drop(store);
        if callback == "oob" {
            return html::error_page(StatusCode::OK, "denied", "access was denied");
        }
        return see_other(&append_query(&callback, &[("denied", token)]));
    };
    let verifier = random_token(16);
    temp.approved = Some((verifier.clone(), sub.to_owned()));
    drop(store);
    if callback == "oob" {
        return html::oob_page(&verifier);
    }
    see_other(&append_query(
        &callback,
        &[("oauth_token", token), ("oauth_verifier", &verifier)],
    ))
}

fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(v) => {
            let mut resp = StatusCode::FOUND.into_response();
            resp.headers_mut().insert(header::LOCATION, v);
            resp
        }
        Err(_) => html::error_page(StatusCode::BAD_REQUEST, "invalid_callback", "bad callback"),
    }
}

pub(crate) async fn access_token(
    State(s): St,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let v = match verify(
        &s,
        &method,
        "/oauth1/access_token",
        &headers,
        query.as_deref(),
        &body,
        TokenUse::Temporary,
    ) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(verifier) = v.protocol.get("oauth_verifier").filter(|x| !x.is_empty()) else {
        return absent("oauth_verifier");
    };
    let token = v.token.unwrap_or_default();
    let sub = {
        let mut store = s.store();
        let Some(temp) = store.temp.get(&token) else {
            return unauthorized("token_rejected", "unknown or already used request token");
        };
        let Some((expected, sub)) = temp.approved.clone() else {
            return unauthorized(
                "permission_unknown",
                "the user has not authorized this token yet",
            );
        };
        // Single use, whether the verifier matches or not.
        store.temp.remove(&token);
        if !ct_eq(expected.as_bytes(), verifier.as_bytes()) {
            return unauthorized("token_rejected", "oauth_verifier does not match");
        }
        sub
    };
    let Some(user) = s.settings.user(&sub) else {
        return unauthorized("permission_denied", "the user no longer exists");
    };
    let access = random_token(24);
    let secret = random_token(24);
    s.store().oauth1_tokens.insert(
        access.clone(),
        OAuth1Token {
            consumer_key: v.consumer.client_id.clone(),
            secret: secret.clone(),
            sub: sub.clone(),
            expires_at: now() + s.settings.refresh_ttl,
        },
    );
    form_response(&[
        ("oauth_token", &access),
        ("oauth_token_secret", &secret),
        ("user_id", &user.sub),
        ("screen_name", user.display_username()),
    ])
}

pub(crate) async fn api_me(
    State(s): St,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let v = match verify(
        &s,
        &method,
        "/oauth1/api/me",
        &headers,
        query.as_deref(),
        &body,
        TokenUse::Access,
    ) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let token = v.token.unwrap_or_default();
    let sub = s.store().oauth1_tokens.get(&token).map(|t| t.sub.clone());
    let Some(user) = sub.as_deref().and_then(|sub| s.settings.user(sub)) else {
        return unauthorized("token_rejected", "token revoked");
    };
    // A JSON body comes back as it arrived, so that clients can see it was sent.
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let received = if is_json {
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    } else {
        Value::Null
    };
    Json(json!({
        "user_id": user.sub,
        "screen_name": user.display_username(),
        "consumer_key": v.consumer.client_id,
        "user": Value::Object(all_claims(user)),
        "received_json": received,
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of RFC 5849 §3.4.1.1 (parameters and base string).
    #[test]
    fn rfc5849_base_string_example() {
        let params: Vec<(String, String)> = [
            ("b5", "=%3D"),
            ("a3", "a"),
            ("c@", ""),
            ("a2", "r b"),
            ("oauth_consumer_key", "9djdj82h48djs9d2"),
            ("oauth_token", "kkk9d7dh3k39sjv7"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131201"),
            ("oauth_nonce", "7d8f3e4a"),
            ("c2", ""),
            ("a3", "2 q"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let base = base_string(&Method::POST, "http://example.com/request", &params);
        let expected = "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q\
%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9dj\
dj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1\
%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7";
        assert_eq!(base, expected);
    }

    /// Known answer from the OAuth Core 1.0 specification, Appendix A.5.
    #[test]
    fn hmac_sha1_known_answer() {
        let params: Vec<(String, String)> = [
            ("file", "vacation.jpg"),
            ("size", "original"),
            ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
            ("oauth_token", "nnch734d00sl2jdk"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "1191242096"),
            ("oauth_nonce", "kllo9940pd9333jh"),
            ("oauth_version", "1.0"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let base = base_string(&Method::GET, "http://photos.example.net/photos", &params);
        let sig = STANDARD
            .decode("tR3+Ty81lMeYAr/Fid0kMTYa/WM=")
            .unwrap_or_default();
        let key = b"kd94hf93k423kf44&pfkkdhi9sl3r4s00";
        assert!(verify_hmac::<sha1::Sha1>(key, base.as_bytes(), &sig));
        assert!(!verify_hmac::<sha1::Sha1>(
            b"kd94hf93k423kf44&",
            base.as_bytes(),
            &sig
        ));
    }

    #[test]
    fn header_parsing() {
        let h = r#"OAuth realm="Example", oauth_consumer_key="a%20b", oauth_nonce="x""#;
        let pairs = parse_auth_header(h).ok().flatten().unwrap_or_default();
        assert_eq!(pairs.len(), 3);
        assert_eq!(pairs[1], ("oauth_consumer_key".into(), "a b".into()));
        assert!(parse_auth_header("OAuth oauth_nonce=x").is_err());
        assert!(parse_auth_header("Bearer abc").ok().flatten().is_none());
        assert!(parse_auth_header("OAuth ").ok().flatten().is_some());
    }
}
