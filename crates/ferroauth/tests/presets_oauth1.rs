//! The OAuth 1.0a presets (`twitter`, `tumblr`, `flickr`, `trello`) against local
//! providers on their real host names over TLS (see `presets/world.rs`).
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
use ferroauth::Profile;
use ferroauth::hooks::ComplianceHooks;
use ferroauth::session::pending::MemoryPendingStore;
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

    fn deny(&self) {
        self.0.state.lock().unwrap().deny = true;
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

        let form_body = headers
            .get(header::CONTENT_TYPE)
            .and_then(|c| c.to_str().ok())
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
        let base = base_string(
            method.as_str(),
            &format!("https://{host}{}", uri.path()),
            uri.query(),
            form_body.then_some(body),
            &oauth,
        );
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

/// The signature base string (RFC 5849 §3.4.1) of a request as received: its query, its
/// form body, and the header's protocol parameters without `realm` and the signature.
fn base_string(
    method: &str,
    base_uri: &str,
    query: Option<&str>,
    form_body: Option<&str>,
    oauth: &BTreeMap<String, String>,
) -> String {
    let mut params: Vec<(String, String)> = Vec::new();
    for text in [query, form_body].into_iter().flatten() {
        params.extend(url::form_urlencoded::parse(text.as_bytes()).into_owned());
    }
    params.extend(
        oauth
            .iter()
            .filter(|(k, _)| *k != "realm" && *k != "oauth_signature")
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    let mut encoded: Vec<(String, String)> = params.iter().map(|(k, v)| (enc(k), enc(v))).collect();
    encoded.sort();
    let normalized = encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!("{method}&{}&{}", enc(base_uri), enc(&normalized))
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

/// Settings for `name` with only the consumer key and secret.
fn three_lines(name: &str) -> String {
    format!("[clients.{name}]\nclient_id = \"{KEY}\"\nclient_secret = \"{SECRET}\"\n")
}

// ---------------------------------------------------------------------------------------
// The fixtures' own signature check

/// The fixtures' base string is built here, apart from the crate's signer; both must agree
/// on RFC 5849 §3.4.1.1's example, with its repeated names, empty values, `+` and
/// double-encoded characters.
#[test]
fn the_fixture_base_string_agrees_with_the_rfc_example() {
    let oauth: BTreeMap<String, String> = [
        ("realm", "Example"),
        ("oauth_consumer_key", "9djdj82h48djs9d2"),
        ("oauth_token", "kkk9d7dh3k39sjv7"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "137131201"),
        ("oauth_nonce", "7d8f3e4a"),
        ("oauth_signature", "bYT5CMsGcbgUdFHObYMEfcx6bsw="),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let query = "b5=%3D%253D&a3=a&c%40=&a2=r%20b";
    let body = "c2&a3=2+q";
    let ours = base_string(
        "POST",
        "http://example.com/request",
        Some(query),
        Some(body),
        &oauth,
    );
    let url = url::Url::parse(&format!("http://example.com/request?{query}")).unwrap();
    let mut signed: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    signed.extend(
        oauth
            .iter()
            .filter(|(k, _)| *k != "realm" && *k != "oauth_signature")
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    let crate_base = ferroauth::proto::oauth1::signature_base_string(
        "POST",
        &url,
        signed.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    )
    .unwrap();
    assert_eq!(ours, crate_base);
    assert!(
        ours.starts_with("POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key"),
        "{ours}"
    );
}

/// A request the crate signs passes the fixture's check; the same request with its query,
/// method or signature changed, or signed under another secret, does not.
#[test]
fn the_fixture_refuses_what_was_not_signed() {
    use ferroauth::proto::oauth1::{Consumer, RequestSigner, SignatureMethod};
    let p = Provider::new("example", "text/plain", vec![], no_check);
    p.0.state
        .lock()
        .unwrap()
        .access
        .insert("tok".into(), "tok secret".into());
    let sign = |secret: &str, url: &str| {
        let signed = RequestSigner::new("GET", url)
            .token("tok", "tok secret")
            .sign(&Consumer::new(KEY, secret), SignatureMethod::HmacSha1)
            .unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            signed.authorization.unwrap().parse().unwrap(),
        );
        headers
    };
    let check = |method: Method, uri: &str, headers: &HeaderMap| {
        let uri: Uri = uri.parse().unwrap();
        p.verify(Stage::Api, "api.example", &method, &uri, headers, "")
    };
    let url = "https://api.example/me?include_email=true";
    let good = sign(SECRET, url);
    check(Method::GET, "/me?include_email=true", &good).unwrap();
    let good = sign(SECRET, url);
    assert!(check(Method::GET, "/me?include_email=false", &good).is_err());
    let good = sign(SECRET, url);
    assert!(check(Method::POST, "/me?include_email=true", &good).is_err());
    let good = sign(SECRET, url);
    assert!(check(Method::GET, "/you?include_email=true", &good).is_err());
    let bad = sign("another secret", url);
    assert!(check(Method::GET, "/me?include_email=true", &bad).is_err());
    let replayed = sign(SECRET, url);
    check(Method::GET, "/me?include_email=true", &replayed).unwrap();
    let error = check(Method::GET, "/me?include_email=true", &replayed).unwrap_err();
    assert_eq!(error, "nonce replayed");
}

// ---------------------------------------------------------------------------------------
// X (Twitter) OAuth 1.0a

fn twitter_profile() -> Value {
    json!({
        "id": 2244994945u64, "id_str": "2244994945", "name": "X Developers",
        "screen_name": "XDevelopers", "location": "127.0.0.1",
        "profile_image_url_https": "https://pbs.twimg.com/profile_images/1/normal.jpg",
        "email": "devs@example.com", "verified": true
    })
}

async fn twitter_world() -> (World, Provider) {
    let x = Provider::new(
        "twitter",
        "text/html; charset=utf-8",
        vec![("user_id", "2244994945"), ("screen_name", "XDevelopers")],
        no_check,
    );
    let host = "api.x.com";
    let router = Router::new()
        .route("/oauth/request_token", x.request_token(host))
        .route("/oauth/authenticate", x.authorize())
        .route("/oauth/access_token", x.access_token(host))
        .route(
            "/1.1/account/verify_credentials.json",
            x.profile(host, twitter_profile()),
        );
    (World::start(vec![(host, router)]).await, x)
}

#[tokio::test]
async fn twitter_login_reads_the_signed_profile_and_trusts_no_email() {
    let (world, _) = twitter_world().await;
    let twitter = world.client(&three_lines("twitter"), "twitter");
    assert_eq!(
        twitter.preset().map(|p| p.display_name),
        Some("X (OAuth 1.0a)")
    );
    let login = world.login(&twitter).await.unwrap();
    let profile = Profile::from_claims(&login.userinfo);
    assert_eq!(profile.sub.as_deref(), Some("2244994945"));
    assert_eq!(profile.preferred_username.as_deref(), Some("XDevelopers"));
    assert_eq!(profile.name.as_deref(), Some("X Developers"));
    assert_eq!(
        profile.picture.as_deref(),
        Some("https://pbs.twimg.com/profile_images/1/normal.jpg")
    );
    assert_eq!(profile.email.as_deref(), Some("devs@example.com"));
    assert!(!profile.email_verified, "X does not vouch for the address");
    assert_eq!(
        login.userinfo["user_id"], "2244994945",
        "token response kept"
    );
    // "Sign in with X", and the profile call was signed over its query.
    assert_eq!(world.seen_at("/oauth/authenticate").len(), 1);
    let calls = world.seen_at("/1.1/account/verify_credentials.json");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].method, "GET");
    assert!(calls[0].path_and_query.ends_with("?include_email=true"));
    assert!(
        calls[0]
            .header("authorization")
            .unwrap()
            .contains("oauth_token=\"twitter-access-")
    );
}

#[tokio::test]
async fn twitter_cancel_is_access_denied_and_uses_up_the_login() {
    let (world, x) = twitter_world().await;
    x.deny();
    let twitter = world.client(&three_lines("twitter"), "twitter");
    let session = MemoryPendingStore::new();
    let callback = world.start_login(&twitter, &session).await;
    let token = callback.get("denied").unwrap().to_owned();
    assert!(
        callback.get("oauth_token").is_none(),
        "X sends only `denied`"
    );
    let error = twitter
        .authorize_access_token(&session, &callback)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "access_denied", "{error}");
    assert!(
        matches!(&error, ferroauth::Error::Authorization(e) if e.error == "access_denied"),
        "{error:?}"
    );
    // The denied request token's pending login is gone: it cannot finish a login later.
    let replay =
        ferroauth::CallbackParams::parse(&format!("oauth_token={token}&oauth_verifier=v")).unwrap();
    let error = twitter
        .authorize_access_token(&session, &replay)
        .await
        .unwrap_err();
    assert_ne!(error.code(), "access_denied");
    assert!(world.seen_at("/oauth/access_token").is_empty());
}

#[tokio::test]
async fn signatures_under_a_wrong_secret_are_refused() {
    let (world, _) = twitter_world().await;
    let twitter = world.client(
        &format!("[clients.twitter]\nclient_id = \"{KEY}\"\nclient_secret = \"not the secret\"\n"),
        "twitter",
    );
    let error = twitter
        .authorize_redirect(&MemoryPendingStore::new(), world::REDIRECT_URI)
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("Could not authenticate you"),
        "{error}"
    );
    assert_eq!(world.seen_at("/oauth/request_token").len(), 1);
}

// ---------------------------------------------------------------------------------------
// Tumblr

fn tumblr_info() -> Value {
    json!({
        "meta": {"status": 200, "msg": "OK"},
        "response": {"user": {
            "name": "new-name-2026", "likes": 12, "following": 3,
            "default_post_format": "html",
            "blogs": [
                {"name": "side-project", "title": "Side", "uuid": "t:SideBlogUuid",
                 "primary": false, "url": "https://side-project.tumblr.com/"},
                {"name": "new-name-2026", "title": "Notes from the Field",
                 "uuid": "t:PrimaryBlogUuid", "primary": true,
                 "url": "https://new-name-2026.tumblr.com/",
                 "avatar": [{"width": 512, "height": 512,
                             "url": "https://64.media.tumblr.com/avatar_512.png"}]}
            ]
        }}
    })
}

async fn tumblr_world() -> (World, Provider) {
    let t = Provider::new(
        "tumblr",
        "application/x-www-form-urlencoded",
        vec![],
        no_check,
    );
    let www = "www.tumblr.com";
    let api = "api.tumblr.com";
    let world = World::start(vec![
        (
            www,
            Router::new()
                .route("/oauth/request_token", t.request_token(www))
                .route("/oauth/authorize", t.authorize())
                .route("/oauth/access_token", t.access_token(www)),
        ),
        (
            api,
            Router::new().route("/v2/user/info", t.profile(api, tumblr_info())),
        ),
    ])
    .await;
    (world, t)
}

#[tokio::test]
async fn tumblr_login_takes_the_primary_blogs_uuid_not_its_name() {
    let (world, _) = tumblr_world().await;
    let tumblr = world.client(&three_lines("tumblr"), "tumblr");
    let login = world.login(&tumblr).await.unwrap();
    let profile = Profile::from_claims(&login.userinfo);
    assert_eq!(
        profile.sub.as_deref(),
        Some("t:PrimaryBlogUuid"),
        "the primary blog's uuid, not the (renamable) blog name"
    );
    assert_eq!(profile.preferred_username.as_deref(), Some("new-name-2026"));
    assert_eq!(profile.name.as_deref(), Some("Notes from the Field"));
    assert_eq!(
        profile.picture.as_deref(),
        Some("https://64.media.tumblr.com/avatar_512.png")
    );
    assert_eq!(profile.email, None);
    assert!(!profile.email_verified);
    assert_eq!(
        login.userinfo["response"]["user"]["likes"], 12,
        "Tumblr's own fields kept"
    );
    assert_eq!(world.seen_at("/oauth/request_token")[0].method, "POST");
    assert_eq!(world.seen_at("/v2/user/info").len(), 1);
}

// ---------------------------------------------------------------------------------------
// Flickr

/// Flickr's authorization page wants `perms`.
fn flickr_perms(q: &HashMap<String, String>) -> Result<(), String> {
    match q.get("perms").map(String::as_str) {
        Some("read" | "write" | "delete") => Ok(()),
        _ => Err("Oops! Flickr can't find a valid callback URL or perms.".into()),
    }
}

async fn flickr_world() -> World {
    let f = Provider::new(
        "flickr",
        "text/plain;charset=UTF-8",
        vec![
            ("fullname", "Jamal Fanaian"),
            ("user_nsid", "21207597@N07"),
            ("username", "jamalfanaian"),
        ],
        flickr_perms,
    );
    let host = "www.flickr.com";
    let router = Router::new()
        .route("/services/oauth/request_token", f.request_token(host))
        .route("/services/oauth/authorize", f.authorize())
        .route("/services/oauth/access_token", f.access_token(host));
    World::start(vec![(host, router)]).await
}

#[tokio::test]
async fn flickr_login_asks_perms_and_reads_the_user_from_the_token_response() {
    let world = flickr_world().await;
    let flickr = world.client(&three_lines("flickr"), "flickr");
    let login = world.login(&flickr).await.unwrap();
    let profile = Profile::from_claims(&login.userinfo);
    assert_eq!(profile.sub.as_deref(), Some("21207597@N07"));
    assert_eq!(profile.preferred_username.as_deref(), Some("jamalfanaian"));
    assert_eq!(profile.name.as_deref(), Some("Jamal Fanaian"));
    assert!(!profile.email_verified);
    let authorize = world.seen_at("/services/oauth/authorize");
    assert!(authorize[0].path_and_query.contains("&perms=read"));
    // No profile endpoint: three calls to Flickr, the browser's included.
    assert_eq!(world.seen().len(), 3);
}

#[tokio::test]
async fn flickr_perms_can_be_raised_and_are_sent_once() {
    let world = flickr_world().await;
    let flickr = world.client(
        &format!(
            "{}authorize_params = {{ perms = \"write\" }}\n",
            three_lines("flickr")
        ),
        "flickr",
    );
    let profile = Profile::from_claims(&world.login(&flickr).await.unwrap().userinfo);
    assert_eq!(profile.sub.as_deref(), Some("21207597@N07"));
    let authorize = &world.seen_at("/services/oauth/authorize")[0].path_and_query;
    assert_eq!(authorize.matches("perms=").count(), 1, "{authorize}");
    assert!(authorize.contains("perms=write"), "{authorize}");
    // A call's own parameter wins over the settings' and is not sent twice either.
    let session = MemoryPendingStore::new();
    let url = flickr
        .authorize_redirect_with(&session, world::REDIRECT_URI, &[("perms", "delete")])
        .await
        .unwrap();
    let perms: Vec<_> = url.query_pairs().filter(|(k, _)| k == "perms").collect();
    assert_eq!(perms.len(), 1);
    assert_eq!(perms[0].1, "delete");
}

// ---------------------------------------------------------------------------------------
// Trello

/// Trello's authorization page: the app's name, a scope and an expiration.
fn trello_params(q: &HashMap<String, String>) -> Result<(), String> {
    if q.get("name").is_none_or(String::is_empty) {
        return Err("name is required".into());
    }
    let scopes_ok = q.get("scope").is_some_and(|s| {
        s.split(',')
            .all(|s| ["read", "write", "account"].contains(&s))
    });
    let expiration_ok = q
        .get("expiration")
        .is_some_and(|e| ["1hour", "1day", "30days", "never"].contains(&e.as_str()));
    match scopes_ok && expiration_ok {
        true => Ok(()),
        false => Err("invalid scope or expiration".into()),
    }
}

async fn trello_world() -> World {
    let t = Provider::new("trello", "text/plain; charset=utf-8", vec![], trello_params);
    let web = "trello.com";
    let api = "api.trello.com";
    let member = json!({
        "id": "5f1c2e3d4b5a697887766554", "username": "ada_l", "fullName": "Ada Lovelace",
        "avatarUrl": "https://trello-members.s3.amazonaws.com/5f1c2e3d4b5a697887766554/0a1b2c",
        "email": "ada@example.com", "confirmed": true, "initials": "AL"
    });
    World::start(vec![
        (
            web,
            Router::new()
                .route("/1/OAuthGetRequestToken", t.request_token(web))
                .route("/1/OAuthAuthorizeToken", t.authorize())
                .route("/1/OAuthGetAccessToken", t.access_token(web)),
        ),
        (
            api,
            Router::new().route("/1/members/me", t.profile(api, member)),
        ),
    ])
    .await
}

#[tokio::test]
async fn trello_login_names_the_app_and_maps_the_member() {
    let world = trello_world().await;
    let trello = world.client(&three_lines("trello"), "trello");
    let login = world.login(&trello).await.unwrap();
    let profile = Profile::from_claims(&login.userinfo);
    assert_eq!(profile.sub.as_deref(), Some("5f1c2e3d4b5a697887766554"));
    assert_eq!(profile.preferred_username.as_deref(), Some("ada_l"));
    assert_eq!(profile.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(
        profile.picture.as_deref(),
        Some("https://trello-members.s3.amazonaws.com/5f1c2e3d4b5a697887766554/0a1b2c/170.png")
    );
    assert_eq!(profile.email.as_deref(), Some("ada@example.com"));
    assert!(!profile.email_verified);
    let authorize = &world.seen_at("/1/OAuthAuthorizeToken")[0].path_and_query;
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(authorize.split_once('?').unwrap().1.as_bytes())
            .into_owned()
            .collect();
    assert_eq!(query["name"], "trello", "the client's name by default");
    assert_eq!(query["scope"], "read");
    assert_eq!(query["expiration"], "never");
    assert_eq!(world.seen_at("/1/members/me").len(), 1);
}

#[tokio::test]
async fn trello_app_name_and_expiration_from_settings() {
    let world = trello_world().await;
    let trello = world.client(
        &format!(
            "[clients.boards]\npreset = \"trello\"\nclient_id = \"{KEY}\"\nclient_secret = \"{SECRET}\"\nauthorize_params = {{ name = \"Board Reports\", expiration = \"30days\" }}\n"
        ),
        "boards",
    );
    let profile = Profile::from_claims(&world.login(&trello).await.unwrap().userinfo);
    assert_eq!(profile.sub.as_deref(), Some("5f1c2e3d4b5a697887766554"));
    let authorize = &world.seen_at("/1/OAuthAuthorizeToken")[0].path_and_query;
    assert!(authorize.contains("name=Board+Reports"), "{authorize}");
    assert!(authorize.contains("expiration=30days"), "{authorize}");
    assert!(authorize.contains("scope=read"), "{authorize}");
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

#[tokio::test]
async fn callbacks_without_a_verifier_or_for_an_unknown_token_are_refused() {
    // Authlib refuses a missing verifier; the `oauth_token` of the callback plays the
    // part of OAuth 2.0's `state` and must name a request token of this session.
    let (world, _) = twitter_world().await;
    let twitter = world.client(&three_lines("twitter"), "twitter");
    let session = MemoryPendingStore::new();
    let callback = world.start_login(&twitter, &session).await;
    let token = callback.get("oauth_token").unwrap().to_owned();
    let without_verifier =
        ferroauth::CallbackParams::parse(&format!("oauth_token={token}")).unwrap();
    let error = twitter
        .authorize_access_token(&session, &without_verifier)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "code_missing", "{error}");
    world.start_login(&twitter, &session).await;
    let unknown =
        ferroauth::CallbackParams::parse("oauth_token=not-a-request-token&oauth_verifier=v")
            .unwrap();
    let error = twitter
        .authorize_access_token(&session, &unknown)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "state_unknown", "{error}");
    assert!(world.seen_at("/oauth/access_token").is_empty());
}
