//! OAuth 1.0a logins against local providers on their real host names over TLS (see
//! `presets/world.rs`).
//!
//! Each fixture is a small OAuth 1.0a server: it verifies the HMAC-SHA1 signature of every
//! request it gets (consumer secret and token secret, base string built here from the
//! request as received, not by the crate's signer), refuses a replayed nonce or a stale
//! timestamp, issues temporary credentials only with a callback, sends the browser back to
//! that callback with `oauth_token` and `oauth_verifier`, and gives token credentials only
//! for the right verifier. Answers and error forms follow each provider's.

#[path = "presets/world.rs"]
mod world;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use aws_lc_rs::hmac;
use axum::Router;
use axum::extract::Query;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use ferroauth::ComplianceHooks;
use serde_json::{Value, json};
use world::World;

const KEY: &str = "presetworld-consumer-key";
const SECRET: &str = "presetworld consumer/secret+&=";

/// Which credentials a signed request must carry.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// The temporary-credentials request: no token, a callback.
    Temporary,
    /// The token-credentials request: a temporary token and its verifier.
    TokenCredentials,
    /// An API call with token credentials.
    Api,
}

/// One OAuth 1.0a provider.
#[derive(Clone)]
struct Provider(Arc<Inner>);

struct Inner {
    name: &'static str,
    /// The content type of the credentials responses.
    credentials_type: &'static str,
    /// Fields the token-credentials response carries besides the token.
    token_extra: Vec<(&'static str, &'static str)>,
    /// What the authorization page requires of its query, besides `oauth_token`.
    authorize_check: fn(&HashMap<String, String>) -> Result<(), String>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    temporary: HashMap<String, Temporary>,
    access: HashMap<String, String>,
    nonces: HashSet<String>,
    issued: u32,
    /// The user cancels on the authorization page.
    deny: bool,
    /// The API refuses every token (a revoked app).
    revoked: bool,
}

struct Temporary {
    secret: String,
    callback: String,
    verifier: Option<String>,
}

fn no_check(_: &HashMap<String, String>) -> Result<(), String> {
    Ok(())
}

impl Provider {
    fn new(
        name: &'static str,
        credentials_type: &'static str,
        token_extra: Vec<(&'static str, &'static str)>,
        authorize_check: fn(&HashMap<String, String>) -> Result<(), String>,
    ) -> Self {
        Provider(Arc::new(Inner {
            name,
            credentials_type,
            token_extra,
            authorize_check,
            state: Mutex::new(State::default()),
        }))
    }

    fn revoke(&self) {
        self.0.state.lock().unwrap().revoked = true;
    }

    fn fresh(&self, what: &str) -> String {
        let mut state = self.0.state.lock().unwrap();
        state.issued += 1;
        format!("{}-{what}-{}", self.0.name, state.issued)
    }

    /// The provider's own way of saying no.
    fn refuse(&self, why: &str) -> Response {
        let status = StatusCode::UNAUTHORIZED;
        match self.0.name {
            "twitter" => (
                status,
                axum::Json(json!({"errors": [{"code": 32, "message": "Could not authenticate you."}]})),
            )
                .into_response(),
            "tumblr" => (
                status,
                axum::Json(json!({"meta": {"status": 401, "msg": "Unauthorized"}, "response": [], "why": why})),
            )
                .into_response(),
            "flickr" => (
                status,
                [(header::CONTENT_TYPE, "text/plain;charset=UTF-8")],
                format!("oauth_problem=signature_invalid&debug={why}"),
            )
                .into_response(),
            _ => (
                status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!("invalid signature: {why}"),
            )
                .into_response(),
        }
    }

    /// Checks the request's OAuth 1.0a signature (RFC 5849 §3.4, HMAC-SHA1) and its
    /// credentials for `stage`; gives the protocol parameters.
    fn verify(
        &self,
        stage: Stage,
        host: &str,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &str,
    ) -> Result<BTreeMap<String, String>, String> {
        let authorization = headers
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .ok_or("no Authorization header")?;
        let oauth = parse_authorization(authorization)?;
        let param = |name: &str| oauth.get(name).map(String::as_str);
        if param("oauth_consumer_key") != Some(KEY) {
            return Err("unknown consumer key".into());
        }
        if param("oauth_signature_method") != Some("HMAC-SHA1") {
            return Err("HMAC-SHA1 only".into());
        }
        if param("oauth_version").is_some_and(|v| v != "1.0") {
            return Err("oauth_version must be 1.0".into());
        }
        let timestamp: u64 = param("oauth_timestamp")
            .and_then(|t| t.parse().ok())
            .ok_or("no timestamp")?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        if timestamp.abs_diff(now) > 300 {
            return Err("stale timestamp".into());
        }
        let nonce = param("oauth_nonce").ok_or("no nonce")?.to_owned();
        let signature = param("oauth_signature").ok_or("no signature")?.to_owned();
        let token = param("oauth_token");

        let mut state = self.0.state.lock().unwrap();
        let token_secret = match stage {
            Stage::Temporary => {
                if token.is_some() {
                    return Err("a token on the temporary-credentials request".into());
                }
                if param("oauth_callback").is_none_or(|c| c == "oob") {
                    return Err("a callback is required".into());
                }
                String::new()
            }
            Stage::TokenCredentials => {
                let token = token.ok_or("no token")?;
                let temporary = state.temporary.get(token).ok_or("unknown request token")?;
                if temporary.verifier.is_none()
                    || param("oauth_verifier") != temporary.verifier.as_deref()
                {
                    return Err("wrong verifier".into());
                }
                temporary.secret.clone()
            }
            Stage::Api => {
                if state.revoked {
                    return Err("revoked".into());
                }
                let token = token.ok_or("no token")?;
                state.access.get(token).ok_or("unknown token")?.clone()
            }
        };

        // The parameters as received: the query, a form body, and the header's protocol
        // parameters without `realm` and the signature itself.
        let mut params: Vec<(String, String)> = Vec::new();
        if let Some(query) = uri.query() {
            params.extend(url::form_urlencoded::parse(query.as_bytes()).into_owned());
        }
        let form_body = headers
            .get(header::CONTENT_TYPE)
            .and_then(|c| c.to_str().ok())
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
        if form_body {
            params.extend(url::form_urlencoded::parse(body.as_bytes()).into_owned());
        }
        params.extend(
            oauth
                .iter()
                .filter(|(k, _)| *k != "realm" && *k != "oauth_signature")
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        let mut encoded: Vec<(String, String)> =
            params.iter().map(|(k, v)| (enc(k), enc(v))).collect();
        encoded.sort();
        let normalized = encoded
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let base_uri = format!("https://{host}{}", uri.path());
        let base = format!("{method}&{}&{}", enc(&base_uri), enc(&normalized));
        let key = format!("{}&{}", enc(SECRET), enc(&token_secret));
        let expected = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key.as_bytes()),
            base.as_bytes(),
        );
        let expected = base64::engine::general_purpose::STANDARD.encode(expected.as_ref());
        if signature != expected {
            return Err(format!("bad signature over {base}"));
        }
        if !state.nonces.insert(nonce) {
            return Err("nonce replayed".into());
        }
        Ok(oauth)
    }

    /// `POST` request token: temporary credentials for a callback.
    fn request_token(&self, host: &'static str) -> axum::routing::MethodRouter {
        let p = self.clone();
        post(
            move |method: Method, uri: Uri, headers: HeaderMap, body: String| async move {
                let oauth = match p.verify(Stage::Temporary, host, &method, &uri, &headers, &body) {
                    Ok(o) => o,
                    Err(why) => return p.refuse(&why),
                };
                let token = p.fresh("request");
                let secret = p.fresh("request-secret");
                p.0.state.lock().unwrap().temporary.insert(
                    token.clone(),
                    Temporary {
                        secret: secret.clone(),
                        callback: oauth["oauth_callback"].clone(),
                        verifier: None,
                    },
                );
                p.credentials(&[
                    ("oauth_token", &token),
                    ("oauth_token_secret", &secret),
                    ("oauth_callback_confirmed", "true"),
                ])
            },
        )
    }

    /// The authorization page: the user approves (or cancels) at once, and the browser
    /// goes back to the callback given with the request token.
    fn authorize(&self) -> axum::routing::MethodRouter {
        let p = self.clone();
        get(move |Query(q): Query<HashMap<String, String>>| async move {
            if let Err(why) = (p.0.authorize_check)(&q) {
                return (StatusCode::BAD_REQUEST, why).into_response();
            }
            let Some(token) = q.get("oauth_token") else {
                return (StatusCode::BAD_REQUEST, "no oauth_token").into_response();
            };
            let verifier = p.fresh("verifier");
            let mut state = p.0.state.lock().unwrap();
            let deny = state.deny;
            let Some(temporary) = state.temporary.get_mut(token) else {
                return (StatusCode::BAD_REQUEST, "unknown request token").into_response();
            };
            let query = if deny {
                url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("denied", token)
                    .finish()
            } else {
                temporary.verifier = Some(verifier.clone());
                url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("oauth_token", token)
                    .append_pair("oauth_verifier", &verifier)
                    .finish()
            };
            let separator = if temporary.callback.contains('?') {
                '&'
            } else {
                '?'
            };
            Redirect::to(&format!("{}{separator}{query}", temporary.callback)).into_response()
        })
    }

    /// `POST` access token: token credentials for a temporary token and its verifier;
    /// the temporary token is used up.
    fn access_token(&self, host: &'static str) -> axum::routing::MethodRouter {
        let p = self.clone();
        post(
            move |method: Method, uri: Uri, headers: HeaderMap, body: String| async move {
                let oauth = match p.verify(
                    Stage::TokenCredentials,
                    host,
                    &method,
                    &uri,
                    &headers,
                    &body,
                ) {
                    Ok(o) => o,
                    Err(why) => return p.refuse(&why),
                };
                let token = p.fresh("access");
                let secret = p.fresh("access-secret");
                {
                    let mut state = p.0.state.lock().unwrap();
                    state.temporary.remove(&oauth["oauth_token"]);
                    state.access.insert(token.clone(), secret.clone());
                }
                let mut fields = vec![("oauth_token", token.as_str())];
                fields.push(("oauth_token_secret", secret.as_str()));
                fields.extend(p.0.token_extra.iter().copied());
                p.credentials(&fields)
            },
        )
    }

    /// A signed `GET` API call answering `profile`.
    fn profile(&self, host: &'static str, profile: Value) -> axum::routing::MethodRouter {
        let p = self.clone();
        get(
            move |method: Method, uri: Uri, headers: HeaderMap| async move {
                match p.verify(Stage::Api, host, &method, &uri, &headers, "") {
                    Ok(_) => axum::Json(profile).into_response(),
                    Err(why) => p.refuse(&why),
                }
            },
        )
    }

    fn credentials(&self, fields: &[(&str, &str)]) -> Response {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        ([(header::CONTENT_TYPE, self.0.credentials_type)], body).into_response()
    }
}

/// RFC 5849 §3.6 percent-encoding: everything but unreserved characters, upper-case hex.
fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The parameters of an `Authorization: OAuth k="v", ...` header, decoded.
fn parse_authorization(value: &str) -> Result<BTreeMap<String, String>, String> {
    let rest = value
        .strip_prefix("OAuth ")
        .ok_or("not an OAuth Authorization header")?;
    let mut params = BTreeMap::new();
    for part in rest.split(',') {
        let (name, quoted) = part.trim().split_once('=').ok_or("a parameter without =")?;
        let value = quoted
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .ok_or("an unquoted value")?;
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| "not UTF-8".to_owned())
        };
        if params.insert(decode(name)?, decode(value)?).is_some() {
            return Err("a repeated parameter".into());
        }
    }
    Ok(params)
}

// ---------------------------------------------------------------------------------------
// The OAuth 1.0a profile fetch without a preset

/// A provider with no preset, and a client of it with a profile endpoint.
async fn custom_world() -> (World, Provider, ferroauth::OAuthClient) {
    let p = Provider::new(
        "example",
        "application/x-www-form-urlencoded",
        vec![("user_id", "7")],
        no_check,
    );
    let host = "oauth1.example";
    let world = World::start(vec![(
        host,
        Router::new()
            .route("/request", p.request_token(host))
            .route("/authorize", p.authorize())
            .route("/access", p.access_token(host))
            .route(
                "/me",
                p.profile(host, json!({"account": {"id": 7, "handle": "seven"}})),
            ),
    )])
    .await;
    let client = world.client(
        &format!(
            r#"[clients.custom]
client_id = "{KEY}"
client_secret = "{SECRET}"
request_token_url = "https://oauth1.example/request"
authorize_url = "https://oauth1.example/authorize"
access_token_url = "https://oauth1.example/access"
userinfo_endpoint = "https://oauth1.example/me?fields=account"
"#
        ),
        "custom",
    );
    (world, p, client)
}

#[tokio::test]
async fn an_oauth1_client_with_a_userinfo_endpoint_reads_it_and_runs_the_hook() {
    let (world, _, client) = custom_world().await;
    client.set_hooks(ComplianceHooks::new().userinfo(|claims| {
        let handle = claims["account"]["handle"].clone();
        claims.insert("preferred_username".into(), handle);
    }));
    let login = world.login(&client).await.unwrap();
    assert_eq!(
        login.userinfo["user_id"], "7",
        "the token response's fields"
    );
    assert_eq!(login.userinfo["account"]["id"], 7, "the profile's");
    assert_eq!(login.userinfo["preferred_username"], "seven", "the hook's");
    let me = world.seen_at("/me");
    assert_eq!(me.len(), 1);
    assert_eq!(me[0].header("accept"), Some("application/json"));
}

#[tokio::test]
async fn a_refused_profile_call_fails_the_login() {
    let (world, p, client) = custom_world().await;
    p.revoke();
    let error = world.login(&client).await.unwrap_err();
    assert!(
        matches!(
            &error,
            ferroauth::Error::Http {
                what: "userinfo request",
                failure: ferroauth::HttpFailure::Status(401),
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(world.seen_at("/me").len(), 1);
}
