//! The plain OAuth 2.0 presets (Facebook, X, Discord, Reddit, Strava, Dropbox, Spotify,
//! Bitbucket, Zoom, Notion, Patreon, Tumblr) against local providers on their real host
//! names over TLS (see `presets/world.rs`). Each fixture checks what the provider checks
//! (client authentication, PKCE, required parameters and headers) and answers in the
//! provider's shapes; each test asserts the normalized profile and the provider's quirk.

#[path = "presets/world.rs"]
mod world;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ferroauth::{OAuthClient, Profile};
use serde_json::{Value, json};
use world::{REDIRECT_URI, World, settings_error};

const CLIENT_ID: &str = "app-client-7c1d";
const SECRET: &str = "app-secret-3f9a";
const CODE: &str = "code-5b1e";
const TOKEN: &str = "access-9d2c";

type Query_ = HashMap<String, String>;

// ---------------------------------------------------------------------------------------
// Fixture helpers
// ---------------------------------------------------------------------------------------

/// A client table for `name` with the test's id and secret, plus `extra` lines.
fn toml(name: &str, extra: &str) -> String {
    format!(
        "[clients.{name}]\nclient_id = \"{CLIENT_ID}\"\nclient_secret = \"{SECRET}\"\n{extra}\n"
    )
}

/// The form in a body.
fn form(body: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

/// The query parameters of a request a fixture saw.
fn query_of(seen: &world::Seen) -> HashMap<String, String> {
    form(seen.path_and_query.split_once('?').map_or("", |(_, q)| q))
}

/// The id and secret of an `Authorization: Basic` header (RFC 6749 §2.3.1 encoding).
fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let decoded = STANDARD.decode(value.strip_prefix("Basic ")?).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape = |s: &str| form(&format!("v={s}")).remove("v").unwrap_or_default();
    Some((unescape(id), unescape(secret)))
}

fn basic_ok(headers: &HeaderMap) -> bool {
    basic(headers) == Some((CLIENT_ID.to_owned(), SECRET.to_owned()))
}

/// Whether the body names the client with its secret (client_secret_post).
fn post_ok(f: &HashMap<String, String>) -> bool {
    f.get("client_id").map(String::as_str) == Some(CLIENT_ID)
        && f.get("client_secret").map(String::as_str) == Some(SECRET)
}

/// Whether the call carries the bearer token `token` (any case of the scheme).
fn bearer_is(headers: &HeaderMap, token: &str) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.split_once(' '))
        .is_some_and(|(scheme, t)| scheme.eq_ignore_ascii_case("bearer") && t == token)
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (status, axum::Json(json!({ "error": error }))).into_response()
}

fn json_ok(value: Value) -> Response {
    axum::Json(value).into_response()
}

/// Whether a token request is the authorization-code grant for this test's code.
fn code_grant_ok(f: &HashMap<String, String>) -> bool {
    f.get("grant_type").map(String::as_str) == Some("authorization_code")
        && f.get("code").map(String::as_str) == Some(CODE)
        && f.get("redirect_uri").map(String::as_str) == Some(REDIRECT_URI)
}

/// An authorization page that approves at once when `check` accepts the request, and
/// redirects back with the code, the state and `extra` (a query suffix).
fn authorize(
    check: impl Fn(&Query_) -> Result<(), String> + Clone + Send + Sync + 'static,
    extra: &str,
) -> MethodRouter {
    let extra = extra.to_owned();
    get(move |Query(q): Query<Query_>| {
        let (check, extra) = (check.clone(), extra.clone());
        async move {
            if q.get("client_id").map(String::as_str) != Some(CLIENT_ID)
                || q.get("response_type").map(String::as_str) != Some("code")
                || q.get("redirect_uri").map(String::as_str) != Some(REDIRECT_URI)
            {
                return (StatusCode::BAD_REQUEST, "bad authorization request").into_response();
            }
            if let Err(why) = check(&q) {
                return (StatusCode::BAD_REQUEST, why).into_response();
            }
            Redirect::to(&format!(
                "{REDIRECT_URI}?code={CODE}&state={}{extra}",
                q["state"]
            ))
            .into_response()
        }
    })
}

/// Requires `name` = `value` in the query.
fn param(q: &Query_, name: &str, value: &str) -> Result<(), String> {
    match q.get(name) {
        Some(v) if v == value => Ok(()),
        other => Err(format!("{name} must be {value:?}, not {other:?}")),
    }
}

/// A login that must succeed, and its profile.
async fn login(world: &World, client: &OAuthClient) -> (ferroauth::Login, Profile) {
    let login = world.login(client).await.unwrap();
    let profile = Profile::from_claims(&login.userinfo);
    (login, profile)
}

fn refresh_of(login: &ferroauth::Login) -> String {
    login
        .token
        .as_oauth2()
        .and_then(|t| t.refresh_token.as_ref())
        .map(|r| r.expose().to_owned())
        .unwrap_or_default()
}

/// The S256 challenge of a verifier.
fn s256(verifier: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// A refresh-grant endpoint with rotating refresh tokens: each refresh token works once
/// and the answer carries the next one (`<prefix>-<n>`); `rotate` false answers without
/// `refresh_token`, as Spotify may. Authentication is checked by `auth`.
#[derive(Clone)]
struct Rotation {
    current: Arc<Mutex<String>>,
    issued: Arc<Mutex<u32>>,
    prefix: &'static str,
    rotate: bool,
}

impl Rotation {
    fn new(prefix: &'static str, rotate: bool) -> Self {
        Self {
            current: Arc::new(Mutex::new(format!("{prefix}-0"))),
            issued: Arc::new(Mutex::new(0)),
            prefix,
            rotate,
        }
    }

    fn first(&self) -> String {
        self.current.lock().unwrap().clone()
    }

    /// The answer to a refresh grant.
    fn refresh(&self, f: &HashMap<String, String>) -> Response {
        let mut current = self.current.lock().unwrap();
        if f.get("refresh_token") != Some(&*current) {
            return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
        }
        let mut issued = self.issued.lock().unwrap();
        *issued += 1;
        let access = format!("{TOKEN}-r{issued}");
        if self.rotate {
            *current = format!("{}-{issued}", self.prefix);
            json_ok(json!({
                "access_token": access, "token_type": "Bearer", "expires_in": 3600,
                "refresh_token": *current
            }))
        } else {
            json_ok(json!({"access_token": access, "token_type": "Bearer", "expires_in": 3600}))
        }
    }
}

// ---------------------------------------------------------------------------------------
// Facebook
// ---------------------------------------------------------------------------------------

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn appsecret_proof(token: &str) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, SECRET.as_bytes());
    hex(aws_lc_rs::hmac::sign(&key, token.as_bytes()).as_ref())
}

/// A Graph API error as Meta documents it (Graph API docs, "Handling Errors": an `error`
/// object with `message`, `type`, `code`, `error_subcode` and `fbtrace_id`; code 100 an
/// invalid parameter, 190 an invalid access token), HTTP 400, for the token endpoint as
/// for any Graph call.
fn graph_error(code: i64, message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"error": {
            "message": message, "type": "OAuthException", "code": code,
            "fbtrace_id": "AbC123"
        }})),
    )
        .into_response()
}

/// www.facebook.com and graph.facebook.com for Graph version `v`. The Graph host
/// requires `appsecret_proof` on every call ("Require App Secret" on).
async fn facebook_world(v: &'static str) -> World {
    let www = Router::new().route(
        &format!("/{v}/dialog/oauth"),
        authorize(|q| param(q, "scope", "email,public_profile"), ""),
    );
    let graph = Router::new()
        .route(
            &format!("/{v}/oauth/access_token"),
            post(|body: String| async move {
                let f = form(&body);
                if !post_ok(&f) {
                    return graph_error(1, "Error validating client secret.");
                }
                if !code_grant_ok(&f) {
                    return graph_error(100, "This authorization code has been used.");
                }
                json_ok(json!({"access_token": TOKEN, "token_type": "bearer", "expires_in": 5183944}))
            }),
        )
        .route(
            &format!("/{v}/me"),
            get(|Query(q): Query<Query_>, headers: HeaderMap| async move {
                if !bearer_is(&headers, TOKEN) {
                    return graph_error(190, "Invalid OAuth access token.");
                }
                if q.get("appsecret_proof") != Some(&appsecret_proof(TOKEN)) {
                    return graph_error(100, "API calls from the server require an appsecret_proof argument");
                }
                let Some(fields) = q.get("fields") else {
                    return json_ok(json!({"id": "10158", "name": "Mark Zed"}));
                };
                let mut me = serde_json::Map::new();
                let all = json!({
                    "id": "10158", "name": "Mark Zed", "email": "mark@fb.example",
                    "picture": {"data": {"height": 50, "is_silhouette": false,
                        "url": "https://platform-lookaside.fbsbx.example/pic?asid=10158", "width": 50}}
                });
                for field in fields.split(',') {
                    if let Some(v) = all.get(field) {
                        me.insert(field.to_owned(), v.clone());
                    }
                }
                json_ok(Value::Object(me))
            }),
        );
    World::start(vec![
        ("www.facebook.com", www),
        ("graph.facebook.com", graph),
    ])
    .await
}

#[tokio::test]
async fn facebook_login_sends_appsecret_proof_on_every_graph_call() {
    let world = facebook_world("v24.0").await;
    let facebook = world.client(&toml("facebook", ""), "facebook");
    let (login, profile) = login(&world, &facebook).await;
    assert_eq!(profile.sub.as_deref(), Some("10158"));
    assert_eq!(profile.name.as_deref(), Some("Mark Zed"));
    assert_eq!(profile.email.as_deref(), Some("mark@fb.example"));
    assert!(
        !profile.email_verified,
        "Facebook never says the address is verified"
    );
    assert_eq!(
        profile.picture.as_deref(),
        Some("https://platform-lookaside.fbsbx.example/pic?asid=10158")
    );
    // The profile call asked for the fields and carried the proof.
    let me = &world.seen_at("/v24.0/me")[0];
    let query = query_of(me);
    assert_eq!(query["fields"], "id,name,email,picture");
    assert_eq!(query["appsecret_proof"], appsecret_proof(TOKEN));
    // So does any other Graph call made with the client.
    let response = facebook.get("me", &login.token).await.unwrap();
    assert_eq!(response.status, 200, "{:?}", response.body);
    assert_eq!(world.seen_at("/v24.0/me").len(), 2);
}

#[tokio::test]
async fn facebook_graph_errors_become_rfc6749_errors_and_versions_are_options() {
    let world = facebook_world("v23.0").await;
    let facebook = world.client(
        &toml("facebook", "preset_options = { api_version = \"v23.0\" }"),
        "facebook",
    );
    assert_eq!(
        facebook.settings().access_token_url.as_deref(),
        Some("https://graph.facebook.com/v23.0/oauth/access_token")
    );
    // A spent code: Graph answers `{"error":{"type":"OAuthException","code":100,...}}`.
    let error = world::login_with_code(&world, &facebook, "spent")
        .await
        .unwrap_err();
    assert_eq!(error.code(), "invalid_grant", "{error}");
    assert!(error.to_string().contains("has been used"), "{error}");
    // A wrong secret is the client's fault.
    let wrong = world.client(
        &toml("facebook", "preset_options = { api_version = \"v23.0\" }").replace(SECRET, "wrong"),
        "facebook",
    );
    let error = world.login(&wrong).await.unwrap_err();
    assert_eq!(error.code(), "invalid_client", "{error}");
    // A version that is not one is a settings error.
    let error = settings_error(&toml(
        "facebook",
        "preset_options = { api_version = \"24\" }",
    ));
    assert!(error.contains("api_version"), "{error}");
}

#[tokio::test]
async fn facebook_errors_need_the_presets_hook() {
    let world = facebook_world("v24.0").await;
    let facebook = world.client(&toml("facebook", ""), "facebook");
    let error = world::login_with_code(&world, &facebook, "spent")
        .await
        .unwrap_err();
    assert_eq!(error.code(), "invalid_grant", "{error}");
    // The same Graph answer to a client without the preset's hook: `error` is an object,
    // so the refusal is reported, but with no RFC 6749 code an app could act on.
    let bare = world.client(
        &toml(
            "bare",
            "preset = \"none\"\n\
             authorize_url = \"https://www.facebook.com/v24.0/dialog/oauth\"\n\
             access_token_url = \"https://graph.facebook.com/v24.0/oauth/access_token\"\n\
             client_kwargs = { scope = \"email,public_profile\", token_endpoint_auth_method = \"client_secret_post\" }",
        ),
        "bare",
    );
    world.login(&bare).await.unwrap();
    let error = world::login_with_code(&world, &bare, "spent")
        .await
        .unwrap_err();
    assert_ne!(error.code(), "invalid_grant", "{error}");
}

/// An app's own hooks, set after registration, run after the preset's deviations at
/// the same points and do not replace them: the Graph error is already an RFC 6749 error
/// when the app's `token_response` hook sees it, and the profile is still mapped and the
/// profile call still carries `appsecret_proof`.
#[tokio::test]
async fn app_hooks_run_after_the_presets_deviations_and_keep_them() {
    let world = facebook_world("v24.0").await;
    let facebook = world.client(&toml("facebook", ""), "facebook");
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let record = seen.clone();
    facebook.set_hooks(
        ferroauth::hooks::ComplianceHooks::new()
            .token_response(move |object| {
                record
                    .lock()
                    .unwrap()
                    .push(object.get("error").cloned().unwrap_or_default());
            })
            .userinfo(|claims| {
                let sub = claims.get("sub").cloned().unwrap_or_default();
                claims.insert("app_saw_sub".into(), sub);
            }),
    );
    let error = world::login_with_code(&world, &facebook, "spent")
        .await
        .unwrap_err();
    assert_eq!(error.code(), "invalid_grant", "{error}");
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        [json!("invalid_grant")],
        "the app's hook sees the preset's fix-up"
    );
    let (login, profile) = login(&world, &facebook).await;
    assert_eq!(profile.sub.as_deref(), Some("10158"));
    assert_eq!(
        login.userinfo["app_saw_sub"], "10158",
        "mapped before the app's hook"
    );
    assert!(!profile.email_verified);
    let me = &world.seen_at("/v24.0/me")[0];
    assert_eq!(query_of(me)["appsecret_proof"], appsecret_proof(TOKEN));
}

// ---------------------------------------------------------------------------------------
// X
// ---------------------------------------------------------------------------------------

/// x.com and api.x.com: PKCE is mandatory, confidential clients use HTTP Basic, a refresh
/// token only with `offline.access`.
async fn x_world() -> World {
    let challenge: Arc<Mutex<Option<(String, String)>>> = Arc::default();
    let (c1, c2) = (challenge.clone(), challenge.clone());
    let www = Router::new().route(
        "/i/oauth2/authorize",
        get(move |Query(q): Query<Query_>| {
            let c1 = c1.clone();
            async move {
                if q.get("code_challenge_method").map(String::as_str) != Some("S256") {
                    return (StatusCode::BAD_REQUEST, "PKCE is required").into_response();
                }
                let scope = q.get("scope").cloned().unwrap_or_default();
                *c1.lock().unwrap() = Some((q["code_challenge"].clone(), scope));
                Redirect::to(&format!("{REDIRECT_URI}?state={}&code={CODE}", q["state"]))
                    .into_response()
            }
        }),
    );
    let api = Router::new()
        .route(
            "/2/oauth2/token",
            post(move |headers: HeaderMap, body: String| {
                let c2 = c2.clone();
                async move {
                    let f = form(&body);
                    if !basic_ok(&headers) {
                        return oauth_error(StatusCode::UNAUTHORIZED, "unauthorized_client");
                    }
                    let Some((challenge, scope)) = c2.lock().unwrap().clone() else {
                        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
                    };
                    let pkce = f.get("code_verifier").is_some_and(|v| s256(v) == challenge);
                    if !code_grant_ok(&f) || !pkce {
                        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
                    }
                    let mut answer = json!({
                        "token_type": "bearer", "expires_in": 7200,
                        "access_token": TOKEN, "scope": scope
                    });
                    if scope.split(' ').any(|s| s == "offline.access") {
                        answer["refresh_token"] = json!("x-refresh-1");
                    }
                    json_ok(answer)
                }
            }),
        )
        .route(
            "/2/users/me",
            get(|Query(q): Query<Query_>, headers: HeaderMap| async move {
                if !bearer_is(&headers, TOKEN) {
                    return (
                        StatusCode::UNAUTHORIZED,
                        axum::Json(json!({"title": "Unauthorized", "status": 401})),
                    )
                        .into_response();
                }
                let mut data =
                    json!({"id": "2244994945", "name": "X Dev", "username": "XDevelopers"});
                if q.get("user.fields")
                    .is_some_and(|f| f.contains("profile_image_url"))
                {
                    data["profile_image_url"] =
                        json!("https://pbs.twimg.example/profile_images/1/dev_normal.png");
                }
                json_ok(json!({ "data": data }))
            }),
        );
    World::start(vec![("x.com", www), ("api.x.com", api)]).await
}

#[tokio::test]
async fn x_login_with_pkce_basic_and_offline_access() {
    let world = x_world().await;
    let x = world.client(&toml("x", "preset_options = { offline = true }"), "x");
    assert_eq!(x.preset().map(|p| p.display_name), Some("X"));
    let (login, profile) = login(&world, &x).await;
    assert_eq!(profile.sub.as_deref(), Some("2244994945"));
    assert_eq!(profile.name.as_deref(), Some("X Dev"));
    assert_eq!(profile.preferred_username.as_deref(), Some("XDevelopers"));
    assert!(profile.picture.unwrap().contains("dev_normal"));
    assert!(!profile.email_verified);
    assert_eq!(
        login.token.scope(),
        Some("tweet.read users.read offline.access")
    );
    assert_eq!(
        refresh_of(&login),
        "x-refresh-1",
        "offline.access brings a refresh token"
    );
    let token_call = &world.seen_at("/2/oauth2/token")[0];
    assert!(
        token_call
            .header("authorization")
            .unwrap()
            .starts_with("Basic ")
    );
    assert_eq!(token_call.form("client_secret"), None);
}

#[tokio::test]
async fn x_without_offline_has_no_refresh_token_and_refuses_a_login_without_pkce() {
    let world = x_world().await;
    let x = world.client(&toml("x", ""), "x");
    let (login, _) = login(&world, &x).await;
    assert_eq!(login.token.scope(), Some("tweet.read users.read"));
    assert_eq!(refresh_of(&login), "");
    // The fixture is strict: turning PKCE off makes X refuse the authorization request.
    let no_pkce = world.client(
        &toml("x", "client_kwargs = { code_challenge_method = \"none\" }"),
        "x",
    );
    let session = ferroauth::session::pending::MemoryPendingStore::new();
    let url = no_pkce
        .authorize_redirect(&session, REDIRECT_URI)
        .await
        .unwrap();
    assert_eq!(world.browse(url.as_str()).await.status(), 400);
    // offline with a scope of the app's own that forgets offline.access is refused.
    let error = settings_error(&toml(
        "x",
        "preset_options = { offline = true }\nclient_kwargs = { scope = \"tweet.read users.read\" }",
    ));
    assert!(error.contains("offline.access"), "{error}");
}

// ---------------------------------------------------------------------------------------
// Discord
// ---------------------------------------------------------------------------------------

async fn discord_world(user: Value) -> World {
    let host = Router::new()
        .route(
            "/oauth2/authorize",
            authorize(|q| param(q, "scope", "identify email"), ""),
        )
        .route(
            "/api/oauth2/token",
            post(|headers: HeaderMap, body: String| async move {
                let is_form = headers
                    .get(header::CONTENT_TYPE)
                    .is_some_and(|c| c == "application/x-www-form-urlencoded");
                let f = form(&body);
                if !is_form || !(basic_ok(&headers) || post_ok(&f)) {
                    return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
                }
                if !code_grant_ok(&f) {
                    return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
                }
                json_ok(
                    json!({"access_token": TOKEN, "token_type": "Bearer", "expires_in": 604800,
                    "refresh_token": "discord-refresh", "scope": "identify email"}),
                )
            }),
        )
        .route(
            "/api/users/@me",
            get(move |headers: HeaderMap| {
                let user = user.clone();
                async move {
                    if !bearer_is(&headers, TOKEN) {
                        return (
                            StatusCode::UNAUTHORIZED,
                            axum::Json(json!({"message": "401: Unauthorized", "code": 0})),
                        )
                            .into_response();
                    }
                    json_ok(user)
                }
            }),
        );
    World::start(vec![("discord.com", host)]).await
}

#[tokio::test]
async fn discord_builds_the_avatar_url_and_trusts_verified() {
    let world = discord_world(json!({
        "id": "80351110224678912", "username": "nelly", "global_name": "Nelly",
        "discriminator": "0", "avatar": "a_8342729096ea3675442027381ff50dfe",
        "email": "nelly@discord.example", "verified": true, "locale": "en-US"
    }))
    .await;
    let discord = world.client(&toml("discord", ""), "discord");
    let (_, profile) = login(&world, &discord).await;
    assert_eq!(profile.sub.as_deref(), Some("80351110224678912"));
    assert_eq!(profile.name.as_deref(), Some("Nelly"));
    assert_eq!(profile.preferred_username.as_deref(), Some("nelly"));
    assert_eq!(
        profile.picture.as_deref(),
        Some(
            "https://cdn.discordapp.com/avatars/80351110224678912/a_8342729096ea3675442027381ff50dfe.gif"
        )
    );
    assert!(profile.email_verified);
    assert_eq!(
        profile.raw["avatar"], "a_8342729096ea3675442027381ff50dfe",
        "own fields kept"
    );
}

#[tokio::test]
async fn discord_unverified_address_and_default_avatar() {
    let world = discord_world(json!({
        "id": "80351110224678912", "username": "nelly", "global_name": null,
        "discriminator": "0", "avatar": null,
        "email": "nelly@discord.example", "verified": false
    }))
    .await;
    let discord = world.client(&toml("discord", ""), "discord");
    let (_, profile) = login(&world, &discord).await;
    assert!(!profile.email_verified);
    assert_eq!(profile.name.as_deref(), Some("nelly"));
    assert_eq!(
        profile.picture.as_deref(),
        Some("https://cdn.discordapp.com/embed/avatars/5.png")
    );
}

// ---------------------------------------------------------------------------------------
// Reddit
// ---------------------------------------------------------------------------------------

/// www.reddit.com and oauth.reddit.com: every call without the app's own User-Agent is
/// throttled (429), the token endpoint wants HTTP Basic.
async fn reddit_world(agent: &'static str) -> (World, Rotation) {
    let rotation = Rotation::new("reddit-refresh", false);
    let r = rotation.clone();
    let agent_ok = move |headers: &HeaderMap| {
        headers
            .get(header::USER_AGENT)
            .and_then(|a| a.to_str().ok())
            == Some(agent)
    };
    let www = Router::new()
        .route(
            "/api/v1/authorize",
            authorize(
                |q| {
                    param(q, "scope", "identity")?;
                    if q.contains_key("duration") {
                        Ok(())
                    } else {
                        Err("duration is required".into())
                    }
                },
                "",
            ),
        )
        .route(
            "/api/v1/access_token",
            post(move |headers: HeaderMap, body: String| {
                let r = r.clone();
                async move {
                    if !agent_ok(&headers) {
                        return (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests")
                            .into_response();
                    }
                    if !basic_ok(&headers) {
                        return (
                            StatusCode::UNAUTHORIZED,
                            axum::Json(json!({"message": "Unauthorized", "error": 401})),
                        )
                            .into_response();
                    }
                    let f = form(&body);
                    if f.get("grant_type").map(String::as_str) == Some("refresh_token") {
                        return r.refresh(&f);
                    }
                    if !code_grant_ok(&f) {
                        return oauth_error(StatusCode::OK, "invalid_grant");
                    }
                    json_ok(
                        json!({"access_token": TOKEN, "token_type": "bearer", "expires_in": 86400,
                        "refresh_token": r.first(), "scope": "identity"}),
                    )
                }
            }),
        );
    let api = Router::new().route(
        "/api/v1/me",
        get(move |headers: HeaderMap| async move {
            if !agent_ok(&headers) {
                return (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests").into_response();
            }
            if !bearer_is(&headers, TOKEN) && !bearer_is(&headers, &format!("{TOKEN}-r1")) {
                return (StatusCode::UNAUTHORIZED, axum::Json(json!({"message": "Unauthorized", "error": 401}))).into_response();
            }
            json_ok(json!({
                "id": "1w72", "name": "spez", "created_utc": 1118030400.0,
                "icon_img": "https://styles.redditmedia.example/t5_3k30p/styles/profileIcon_x.png?width=256&amp;height=256&amp;s=abc",
                "has_verified_email": true, "link_karma": 1
            }))
        }),
    );
    (
        World::start(vec![("www.reddit.com", www), ("oauth.reddit.com", api)]).await,
        rotation,
    )
}

#[tokio::test]
async fn reddit_sends_its_user_agent_on_every_call_including_the_token_endpoint() {
    const AGENT: &str = "web:com.example.app:1.0 (by /u/example)";
    let (world, _) = reddit_world(AGENT).await;
    let reddit = world.client(
        &toml(
            "reddit",
            &format!("preset_options = {{ offline = true, user_agent = \"{AGENT}\" }}"),
        ),
        "reddit",
    );
    let (login, profile) = login(&world, &reddit).await;
    assert_eq!(profile.sub.as_deref(), Some("1w72"));
    assert_eq!(profile.preferred_username.as_deref(), Some("spez"));
    assert_eq!(
        profile.picture.as_deref(),
        Some(
            "https://styles.redditmedia.example/t5_3k30p/styles/profileIcon_x.png?width=256&height=256&s=abc"
        )
    );
    assert!(!profile.email_verified, "Reddit gives no address");
    let authorize_call = &world.seen_at("/api/v1/authorize")[0];
    assert_eq!(query_of(authorize_call)["duration"], "permanent");
    assert_eq!(refresh_of(&login), "reddit-refresh-0");
    // The refresh is a token-endpoint call too: same User-Agent, or Reddit throttles.
    let fresh = reddit
        .refresh_token(login.token.as_oauth2().unwrap())
        .await
        .unwrap();
    assert_eq!(fresh.access_token.expose(), "access-9d2c-r1");
    for call in world.seen().iter().filter(|s| {
        s.host != "www.reddit.com" || !s.path_and_query.starts_with("/api/v1/authorize")
    }) {
        assert_eq!(
            call.header("user-agent"),
            Some(AGENT),
            "{}",
            call.path_and_query
        );
    }
    assert_eq!(world.seen_at("/api/v1/access_token").len(), 2);
}

#[tokio::test]
async fn reddit_default_user_agent_names_the_app_and_temporary_duration() {
    const DEFAULT: &str = concat!("web:app-client-7c1d:ferroauth-", env!("CARGO_PKG_VERSION"));
    let (world, _) = reddit_world(DEFAULT).await;
    let reddit = world.client(&toml("reddit", ""), "reddit");
    let (_, profile) = login(&world, &reddit).await;
    assert_eq!(profile.sub.as_deref(), Some("1w72"));
    assert_eq!(
        query_of(&world.seen_at("/api/v1/authorize")[0])["duration"],
        "temporary"
    );
    assert_eq!(
        world.seen_at("/api/v1/access_token")[0].header("user-agent"),
        Some(DEFAULT)
    );
}

// ---------------------------------------------------------------------------------------
// Strava
// ---------------------------------------------------------------------------------------

async fn strava_world() -> (World, Rotation) {
    let rotation = Rotation::new("strava-refresh", true);
    let r = rotation.clone();
    let host = Router::new()
        .route(
            "/oauth/authorize",
            // The user unticks `activity:read_all`: the redirect names what was granted.
            authorize(|q| param(q, "scope", "read,activity:read_all"), "&scope=read"),
        )
        .route(
            "/oauth/token",
            post(move |body: String| {
                let r = r.clone();
                async move {
                    let f = form(&body);
                    if !post_ok(&f) {
                        return (StatusCode::UNAUTHORIZED, axum::Json(json!({"message": "Bad Request", "errors": [{"resource": "Application", "field": "client_id", "code": "invalid"}]}))).into_response();
                    }
                    if f.get("grant_type").map(String::as_str) == Some("refresh_token") {
                        return r.refresh(&f);
                    }
                    if !code_grant_ok(&f) {
                        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
                    }
                    // No `scope` in the answer: it was on the redirect.
                    json_ok(json!({"token_type": "Bearer", "expires_at": 4102444800u64,
                        "refresh_token": r.first(), "access_token": TOKEN,
                        "athlete": {"id": 134815, "username": "marianne_t", "firstname": "Marianne"}}))
                }
            }),
        )
        .route(
            "/api/v3/athlete",
            get(|headers: HeaderMap| async move {
                if !bearer_is(&headers, TOKEN) {
                    return (StatusCode::UNAUTHORIZED, axum::Json(json!({"message": "Authorization Error"}))).into_response();
                }
                json_ok(json!({"id": 134815, "username": "marianne_t", "firstname": "Marianne",
                    "lastname": "Teutenberg", "city": "San Francisco",
                    "profile_medium": "https://dgalywyr863hv.cloudfront.example/medium.jpg",
                    "profile": "https://dgalywyr863hv.cloudfront.example/large.jpg"}))
            }),
        );
    (World::start(vec![("www.strava.com", host)]).await, rotation)
}

#[tokio::test]
async fn strava_takes_the_granted_scope_from_the_redirect_and_rotates_refresh_tokens() {
    let (world, _) = strava_world().await;
    let strava = world.client(
        &toml(
            "strava",
            "client_kwargs = { scope = \"read activity:read_all\" }",
        ),
        "strava",
    );
    let (login, profile) = login(&world, &strava).await;
    assert_eq!(profile.sub.as_deref(), Some("134815"));
    assert_eq!(profile.name.as_deref(), Some("Marianne Teutenberg"));
    assert_eq!(profile.preferred_username.as_deref(), Some("marianne_t"));
    assert!(profile.picture.unwrap().ends_with("large.jpg"));
    assert!(!profile.email_verified);
    assert_eq!(
        login.token.scope(),
        Some("read"),
        "the scope the user granted, not the one asked for"
    );
    assert_eq!(
        login.token.expires_at(),
        Some(4102444800),
        "Strava's `expires_at`"
    );
    // Refresh tokens rotate: each refresh keeps the new one, and the old one is spent.
    let first = login.token.as_oauth2().unwrap().clone();
    let second = strava.refresh_token(&first).await.unwrap();
    assert_eq!(
        second.refresh_token.as_ref().unwrap().expose(),
        "strava-refresh-1"
    );
    assert_eq!(second.scope.as_deref(), Some("read"));
    let third = strava.refresh_token(&second).await.unwrap();
    assert_eq!(
        third.refresh_token.as_ref().unwrap().expose(),
        "strava-refresh-2"
    );
    assert_eq!(third.access_token.expose(), "access-9d2c-r2");
    let refreshes = world.seen_at("/oauth/token");
    assert_eq!(
        refreshes[2].form("refresh_token").as_deref(),
        Some("strava-refresh-1")
    );
}

// ---------------------------------------------------------------------------------------
// Dropbox
// ---------------------------------------------------------------------------------------

async fn dropbox_world() -> World {
    let www = Router::new().route(
        "/oauth2/authorize",
        authorize(|q| param(q, "token_access_type", "offline"), ""),
    );
    let api = Router::new()
        .route(
            "/oauth2/token",
            post(|headers: HeaderMap, body: String| async move {
                let f = form(&body);
                if !(basic_ok(&headers) || post_ok(&f)) {
                    return oauth_error(StatusCode::BAD_REQUEST, "invalid_client");
                }
                if !code_grant_ok(&f) || !f.contains_key("code_verifier") {
                    return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
                }
                json_ok(json!({"access_token": TOKEN, "token_type": "bearer", "expires_in": 14400,
                    "refresh_token": "dropbox-refresh", "scope": "account_info.read",
                    "uid": "12345", "account_id": "dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc"}))
            }),
        )
        // An RPC endpoint: POST only (axum answers 405 to GET), and no body — Dropbox
        // refuses a Content-Type with an empty or non-`null` body.
        .route(
            "/2/users/get_current_account",
            post(|headers: HeaderMap, body: String| async move {
                if !bearer_is(&headers, TOKEN) {
                    return (StatusCode::UNAUTHORIZED, axum::Json(json!({"error_summary": "invalid_access_token/"}))).into_response();
                }
                if headers.contains_key(header::CONTENT_TYPE) || !body.is_empty() {
                    return (StatusCode::BAD_REQUEST, "Error in call to API function \"users/get_current_account\": Bad HTTP \"Content-Type\" header").into_response();
                }
                json_ok(json!({
                    "account_id": "dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc",
                    "name": {"given_name": "Franz", "surname": "Ferdinand", "familiar_name": "Franz",
                        "display_name": "Franz Ferdinand (Personal)", "abbreviated_name": "FF"},
                    "email": "franz@dropbox.example", "email_verified": true, "disabled": false,
                    "profile_photo_url": "https://dl-web.dropbox.example/account_photo/get/dbaphid%3AAAH",
                    "country": "US", "locale": "en"
                }))
            }),
        );
    World::start(vec![("www.dropbox.com", www), ("api.dropboxapi.com", api)]).await
}

#[tokio::test]
async fn dropbox_profile_is_a_post_rpc_and_offline_asks_for_a_refresh_token() {
    let world = dropbox_world().await;
    let dropbox = world.client(
        &toml("dropbox", "preset_options = { offline = true }"),
        "dropbox",
    );
    let (login, profile) = login(&world, &dropbox).await;
    assert_eq!(
        profile.sub.as_deref(),
        Some("dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc")
    );
    assert_eq!(profile.name.as_deref(), Some("Franz Ferdinand (Personal)"));
    assert_eq!(profile.raw["given_name"], "Franz");
    assert_eq!(profile.raw["family_name"], "Ferdinand");
    assert_eq!(profile.email.as_deref(), Some("franz@dropbox.example"));
    assert!(profile.email_verified);
    assert!(profile.picture.is_some());
    assert_eq!(refresh_of(&login), "dropbox-refresh");
    let call = &world.seen_at("/2/users/get_current_account")[0];
    assert_eq!(call.method, "POST");
    assert_eq!(call.body, "");
}

// ---------------------------------------------------------------------------------------
// Spotify
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn spotify_uses_basic_and_keeps_the_refresh_token_a_refresh_omits() {
    let rotation = Rotation::new("spotify-refresh", false);
    let r = rotation.clone();
    let accounts = Router::new()
        .route(
            "/authorize",
            authorize(
                |q| param(q, "scope", "user-read-email user-read-private"),
                "",
            ),
        )
        .route(
            "/api/token",
            post(move |headers: HeaderMap, body: String| {
                let r = r.clone();
                async move {
                    let f = form(&body);
                    if !basic_ok(&headers) || f.contains_key("client_secret") {
                        return oauth_error(StatusCode::BAD_REQUEST, "invalid_client");
                    }
                    if f.get("grant_type").map(String::as_str) == Some("refresh_token") {
                        return r.refresh(&f);
                    }
                    if !code_grant_ok(&f) {
                        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
                    }
                    json_ok(
                        json!({"access_token": TOKEN, "token_type": "Bearer", "expires_in": 3600,
                        "refresh_token": r.first(), "scope": "user-read-email user-read-private"}),
                    )
                }
            }),
        );
    let api = Router::new().route(
        "/v1/me",
        get(|headers: HeaderMap| async move {
            if !bearer_is(&headers, TOKEN) {
                return (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": {"status": 401, "message": "Invalid access token"}}))).into_response();
            }
            json_ok(json!({"id": "wizzler", "display_name": "JM Wizzler", "email": "jm@spotify.example",
                "uri": "spotify:user:wizzler", "country": "SE",
                "images": [{"url": "https://i.scdn.example/image/ab67", "height": 300, "width": 300}]}))
        }),
    );
    let world = World::start(vec![
        ("accounts.spotify.com", accounts),
        ("api.spotify.com", api),
    ])
    .await;
    let spotify = world.client(&toml("spotify", ""), "spotify");
    let (login, profile) = login(&world, &spotify).await;
    assert_eq!(profile.sub.as_deref(), Some("wizzler"));
    assert_eq!(profile.name.as_deref(), Some("JM Wizzler"));
    assert_eq!(profile.email.as_deref(), Some("jm@spotify.example"));
    assert!(!profile.email_verified, "Spotify does not verify addresses");
    assert_eq!(
        profile.picture.as_deref(),
        Some("https://i.scdn.example/image/ab67")
    );
    // The refresh answer has no refresh_token: the old one stays usable and is kept.
    let fresh = spotify
        .refresh_token(login.token.as_oauth2().unwrap())
        .await
        .unwrap();
    assert_eq!(fresh.access_token.expose(), "access-9d2c-r1");
    assert_eq!(
        fresh.refresh_token.as_ref().unwrap().expose(),
        "spotify-refresh-0"
    );
    assert!(
        world.seen_at("/api/token")[1]
            .header("authorization")
            .unwrap()
            .starts_with("Basic ")
    );
}

// ---------------------------------------------------------------------------------------
// Bitbucket
// ---------------------------------------------------------------------------------------

async fn bitbucket_world(emails: Value) -> World {
    let www = Router::new()
        .route("/site/oauth2/authorize", authorize(|_| Ok(()), ""))
        .route(
            "/site/oauth2/access_token",
            post(|headers: HeaderMap, body: String| async move {
                let f = form(&body);
                if !basic_ok(&headers) {
                    return (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": "invalid_client", "error_description": "Client credentials missing; this request needs to be authenticated with the OAuth client id and secret"}))).into_response();
                }
                if !code_grant_ok(&f) {
                    return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
                }
                json_ok(json!({"access_token": TOKEN, "scopes": "account email", "token_type": "bearer",
                    "expires_in": 7200, "state": "authorization_code", "refresh_token": "bb-refresh"}))
            }),
        );
    let api = Router::new()
        .route(
            "/2.0/user",
            get(|headers: HeaderMap| async move {
                if !bearer_is(&headers, TOKEN) {
                    return StatusCode::UNAUTHORIZED.into_response();
                }
                json_ok(json!({"uuid": "{d301aafa-d676-4ee0-88be-962be7417567}", "username": "tutorials",
                    "display_name": "Tutorials Account", "nickname": "tutorials", "type": "user",
                    "account_id": "557058:c0b72ad0-1cb5-4018-9cdc-0cde8492c443",
                    "links": {"avatar": {"href": "https://bitbucket.example/account/tutorials/avatar/"}}}))
            }),
        )
        .route(
            "/2.0/user/emails",
            get(move |headers: HeaderMap| {
                let emails = emails.clone();
                async move {
                    if !bearer_is(&headers, TOKEN) {
                        return StatusCode::UNAUTHORIZED.into_response();
                    }
                    if emails.is_null() {
                        // A token without the `email` scope (Bitbucket Cloud REST API,
                        // "Errors": 403 with Bitbucket's `{"type": "error", "error": {...}}`).
                        return (StatusCode::FORBIDDEN, axum::Json(json!({"type": "error",
                            "error": {"message": "Your credentials lack one or more required privilege scopes.",
                                "detail": {"granted": ["account"], "required": ["email"]}}})))
                            .into_response();
                    }
                    json_ok(json!({"pagelen": 10, "page": 1, "size": 2, "values": emails}))
                }
            }),
        );
    World::start(vec![("bitbucket.org", www), ("api.bitbucket.org", api)]).await
}

#[tokio::test]
async fn bitbucket_uuid_and_primary_confirmed_address() {
    let world = bitbucket_world(json!([
        {"email": "old@bb.example", "is_primary": false, "is_confirmed": true, "type": "email"},
        {"email": "tutorials@bb.example", "is_primary": true, "is_confirmed": true, "type": "email"}
    ]))
    .await;
    let bitbucket = world.client(&toml("bitbucket", ""), "bitbucket");
    let (_, profile) = login(&world, &bitbucket).await;
    assert_eq!(
        profile.sub.as_deref(),
        Some("{d301aafa-d676-4ee0-88be-962be7417567}")
    );
    assert_eq!(profile.name.as_deref(), Some("Tutorials Account"));
    assert_eq!(profile.preferred_username.as_deref(), Some("tutorials"));
    assert_eq!(profile.email.as_deref(), Some("tutorials@bb.example"));
    assert!(profile.email_verified);
    assert!(profile.picture.unwrap().contains("avatar"));
    assert_eq!(world.seen_at("/2.0/user/emails").len(), 1);
}

#[tokio::test]
async fn bitbucket_login_goes_on_when_the_address_lookup_is_refused() {
    let world = bitbucket_world(Value::Null).await;
    let bitbucket = world.client(&toml("bitbucket", ""), "bitbucket");
    let (_, profile) = login(&world, &bitbucket).await;
    assert_eq!(
        profile.sub.as_deref(),
        Some("{d301aafa-d676-4ee0-88be-962be7417567}")
    );
    assert_eq!(profile.email, None);
    assert!(!profile.email_verified);
    assert_eq!(world.seen_at("/2.0/user/emails").len(), 1);
}

#[tokio::test]
async fn bitbucket_unconfirmed_primary_address_is_not_vouched_for() {
    let world = bitbucket_world(json!([
        {"email": "tutorials@bb.example", "is_primary": true, "is_confirmed": false, "type": "email"}
    ]))
    .await;
    let bitbucket = world.client(&toml("bitbucket", ""), "bitbucket");
    let (_, profile) = login(&world, &bitbucket).await;
    assert_eq!(profile.email, None);
    assert!(!profile.email_verified);
}

// ---------------------------------------------------------------------------------------
// Zoom
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn zoom_uses_basic_trusts_verified_and_rotates_refresh_tokens() {
    let rotation = Rotation::new("zoom-refresh", true);
    let r = rotation.clone();
    let host = Router::new()
        .route("/oauth/authorize", authorize(|_| Ok(()), ""))
        .route(
            "/oauth/token",
            post(move |headers: HeaderMap, body: String| {
                let r = r.clone();
                async move {
                    let f = form(&body);
                    if !basic_ok(&headers) {
                        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
                    }
                    if f.get("grant_type").map(String::as_str) == Some("refresh_token") {
                        return r.refresh(&f);
                    }
                    if !code_grant_ok(&f) {
                        return (StatusCode::BAD_REQUEST, axum::Json(json!({"reason": "Invalid authorization code", "error": "invalid_request"}))).into_response();
                    }
                    json_ok(json!({"access_token": TOKEN, "token_type": "bearer", "refresh_token": r.first(),
                        "expires_in": 3599, "scope": "user:read:user"}))
                }
            }),
        );
    let api = Router::new().route(
        "/v2/users/me",
        get(|headers: HeaderMap| async move {
            if !bearer_is(&headers, TOKEN) {
                return (StatusCode::UNAUTHORIZED, axum::Json(json!({"code": 124, "message": "Invalid access token."}))).into_response();
            }
            json_ok(json!({"id": "KDcuGIm1QgePTO8WbOqwIQ", "first_name": "Jill", "last_name": "Chill",
                "display_name": "Jill Chill", "email": "jchill@zoom.example", "type": 1,
                "pic_url": "https://zoom.example/p/KDcuGIm1QgePTO8WbOqwIQ", "verified": 1, "status": "active"}))
        }),
    );
    let world = World::start(vec![("zoom.us", host), ("api.zoom.us", api)]).await;
    let zoom = world.client(&toml("zoom", ""), "zoom");
    let (login, profile) = login(&world, &zoom).await;
    assert_eq!(profile.sub.as_deref(), Some("KDcuGIm1QgePTO8WbOqwIQ"));
    assert_eq!(profile.name.as_deref(), Some("Jill Chill"));
    assert_eq!(profile.email.as_deref(), Some("jchill@zoom.example"));
    assert!(profile.email_verified, "verified: 1");
    assert!(profile.picture.is_some());
    let second = zoom
        .refresh_token(login.token.as_oauth2().unwrap())
        .await
        .unwrap();
    assert_eq!(
        second.refresh_token.as_ref().unwrap().expose(),
        "zoom-refresh-1"
    );
    let third = zoom.refresh_token(&second).await.unwrap();
    assert_eq!(
        third.refresh_token.as_ref().unwrap().expose(),
        "zoom-refresh-2"
    );
    let refreshes = world.seen_at("/oauth/token");
    assert_eq!(refreshes.len(), 3);
    assert_eq!(
        refreshes[2].form("refresh_token").as_deref(),
        Some("zoom-refresh-1")
    );
}

// ---------------------------------------------------------------------------------------
// Notion
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn notion_json_token_request_and_profile_from_the_token_response() {
    let api = Router::new()
        .route(
            "/v1/oauth/authorize",
            authorize(|q| param(q, "owner", "user"), ""),
        )
        .route(
            "/v1/oauth/token",
            post(|headers: HeaderMap, body: String| async move {
                let is_json = headers
                    .get(header::CONTENT_TYPE)
                    .is_some_and(|c| c.to_str().unwrap_or("").starts_with("application/json"));
                let Some(object) = serde_json::from_str::<Value>(&body).ok().filter(|_| is_json) else {
                    return (StatusCode::BAD_REQUEST, axum::Json(json!({"object": "error", "status": 400,
                        "code": "invalid_request", "error": "invalid_request",
                        "message": "body failed validation"}))).into_response();
                };
                if !basic_ok(&headers) {
                    return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
                }
                let text = |k: &str| object.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                if text("grant_type") != "authorization_code" || text("code") != CODE || text("redirect_uri") != REDIRECT_URI {
                    return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
                }
                json_ok(json!({
                    "access_token": TOKEN, "token_type": "bearer", "refresh_token": "notion-refresh",
                    "bot_id": "b3414d659-1224-5ty7-6ffr-cc9d8773drt601288f",
                    "workspace_name": "Ada's Notion", "workspace_icon": null,
                    "workspace_id": "j565j4d7x3-ntyt-9h43-cbb5-f8x6c8ge1ge7",
                    "owner": {"type": "user", "user": {"object": "user", "id": "e79a0b74-3aba-4149-9f74-0bb5791a6ee6",
                        "name": "Ada Lovelace", "avatar_url": "https://s3.notion.example/ada.png", "type": "person",
                        "person": {"email": "ada@notion.example"}}},
                    "duplicated_template_id": null, "request_id": "f3b3a9d1"
                }))
            }),
        )
        .route(
            "/v1/users/me",
            get(|headers: HeaderMap| async move {
                if headers.get("notion-version").is_none() {
                    return (StatusCode::BAD_REQUEST, axum::Json(json!({"object": "error", "status": 400,
                        "code": "missing_version", "message": "Notion-Version header failed validation"}))).into_response();
                }
                if !bearer_is(&headers, TOKEN) {
                    return StatusCode::UNAUTHORIZED.into_response();
                }
                json_ok(json!({"object": "user", "id": "bot-1", "type": "bot"}))
            }),
        );
    let world = World::start(vec![("api.notion.com", api)]).await;
    let notion = world.client(&toml("notion", ""), "notion");
    let (login, profile) = login(&world, &notion).await;
    assert_eq!(
        profile.sub.as_deref(),
        Some("e79a0b74-3aba-4149-9f74-0bb5791a6ee6")
    );
    assert_eq!(profile.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(profile.email.as_deref(), Some("ada@notion.example"));
    assert!(!profile.email_verified);
    assert_eq!(
        profile.picture.as_deref(),
        Some("https://s3.notion.example/ada.png")
    );
    assert_eq!(
        profile.raw["workspace_name"], "Ada's Notion",
        "Notion's own fields kept"
    );
    assert!(
        !login.userinfo.contains_key("access_token"),
        "the token is not in the profile"
    );
    let token_call = &world.seen_at("/v1/oauth/token")[0];
    assert!(
        token_call
            .header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    // API calls carry Notion-Version.
    let me = notion.get("users/me", &login.token).await.unwrap();
    assert_eq!(me.status, 200, "{:?}", me.body);
    assert_eq!(
        world.seen_at("/v1/users/me")[0].header("notion-version"),
        Some("2022-06-28")
    );
}

// ---------------------------------------------------------------------------------------
// Patreon
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn patreon_asks_for_sparse_fields_and_trusts_is_email_verified() {
    let www = Router::new()
        .route(
            "/oauth2/authorize",
            authorize(|q| param(q, "scope", "identity identity[email]"), ""),
        )
        .route(
            "/api/oauth2/token",
            post(|body: String| async move {
                let f = form(&body);
                if !post_ok(&f) {
                    return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
                }
                if !code_grant_ok(&f) {
                    return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
                }
                json_ok(json!({"access_token": TOKEN, "refresh_token": "patreon-refresh", "expires_in": 2678400,
                    "scope": "identity identity[email]", "token_type": "Bearer", "version": "0.0.1"}))
            }),
        )
        .route(
            "/api/oauth2/v2/identity",
            get(|Query(q): Query<Query_>, headers: HeaderMap| async move {
                if !bearer_is(&headers, TOKEN) {
                    return StatusCode::UNAUTHORIZED.into_response();
                }
                // JSON:API sparse fieldsets: only the attributes asked for.
                let all = json!({"email": "creator@patreon.example", "full_name": "Cory Creator",
                    "image_url": "https://c8.patreon.example/2/200/5505", "is_email_verified": true,
                    "vanity": "corycreates", "created": "2017-10-20T21:36:23+00:00"});
                let mut attributes = serde_json::Map::new();
                for field in q.get("fields[user]").map(String::as_str).unwrap_or("").split(',') {
                    if let Some(v) = all.get(field) {
                        attributes.insert(field.to_owned(), v.clone());
                    }
                }
                json_ok(json!({"data": {"id": "5505", "type": "user", "attributes": attributes},
                    "links": {"self": "https://www.patreon.com/api/oauth2/v2/user/5505"}}))
            }),
        );
    let world = World::start(vec![("www.patreon.com", www)]).await;
    let patreon = world.client(&toml("patreon", ""), "patreon");
    let (_, profile) = login(&world, &patreon).await;
    assert_eq!(profile.sub.as_deref(), Some("5505"));
    assert_eq!(profile.name.as_deref(), Some("Cory Creator"));
    assert_eq!(profile.email.as_deref(), Some("creator@patreon.example"));
    assert!(profile.email_verified, "is_email_verified");
    assert_eq!(profile.preferred_username.as_deref(), Some("corycreates"));
    assert!(profile.picture.is_some());
    let call = &world.seen_at("/api/oauth2/v2/identity")[0];
    assert!(
        call.path_and_query.contains("fields%5Buser%5D="),
        "{}",
        call.path_and_query
    );
}

// ---------------------------------------------------------------------------------------
// Tumblr
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn tumblr_sub_is_the_primary_blog_uuid() {
    let www = Router::new().route(
        "/oauth2/authorize",
        authorize(|q| param(q, "scope", "basic"), ""),
    );
    let api = Router::new()
        .route(
            "/v2/oauth2/token",
            post(|body: String| async move {
                let f = form(&body);
                if !post_ok(&f) {
                    return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
                }
                if !code_grant_ok(&f) {
                    return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
                }
                json_ok(json!({"access_token": TOKEN, "expires_in": 2520, "token_type": "bearer",
                    "scope": "basic"}))
            }),
        )
        .route(
            "/v2/user/info",
            get(|headers: HeaderMap| async move {
                if !bearer_is(&headers, TOKEN) {
                    return (StatusCode::UNAUTHORIZED, axum::Json(json!({"meta": {"status": 401, "msg": "Unauthorized"}, "response": []}))).into_response();
                }
                json_ok(json!({"meta": {"status": 200, "msg": "OK"}, "response": {"user": {
                    "name": "derekg", "likes": 25, "following": 263, "default_post_format": "html",
                    "blogs": [
                        {"name": "derekg-side", "title": "Side", "primary": false, "uuid": "t:side123"},
                        {"name": "derekg", "title": "Derek's Blog", "primary": true, "uuid": "t:dkA9bL3mNqR",
                         "url": "https://derekg.tumblr.example/",
                         "avatar": [{"width": 512, "height": 512, "url": "https://64.media.tumblr.example/avatar_512.png"}]}
                    ]}}}))
            }),
        );
    let world = World::start(vec![("www.tumblr.com", www), ("api.tumblr.com", api)]).await;
    let tumblr = world.client(&toml("tumblr", "preset = \"tumblr-oauth2\""), "tumblr");
    let (_, profile) = login(&world, &tumblr).await;
    assert_eq!(
        profile.sub.as_deref(),
        Some("t:dkA9bL3mNqR"),
        "the primary blog's uuid, not the renamable name"
    );
    assert_eq!(profile.preferred_username.as_deref(), Some("derekg"));
    assert_eq!(
        profile.picture.as_deref(),
        Some("https://64.media.tumblr.example/avatar_512.png")
    );
    assert!(!profile.email_verified);
    assert_eq!(profile.email, None);
}

// ---------------------------------------------------------------------------------------
// The catalogue
// ---------------------------------------------------------------------------------------

/// One row per plain OAuth 2.0 preset (no deviations, no options): the profile its
/// provider's documentation shows, and what the login must make of it. The fixture is
/// built from the catalogue entry itself: its endpoints, scope and client authentication.
struct Plain {
    preset: &'static str,
    profile: fn() -> Value,
    sub: &'static str,
    name: Option<&'static str>,
    email: Option<&'static str>,
    email_verified: bool,
}

const PLAIN: &[Plain] = &[
    Plain {
        // Spotify Web API, "Get Current User's Profile" (GET /v1/me).
        preset: "spotify",
        profile: || {
            json!({"id": "wizzler", "display_name": "JM Wizzler", "email": "email@example.com",
                "images": [{"url": "https://i.scdn.co/image/wizzler", "height": null, "width": null}],
                "country": "SE", "product": "premium"})
        },
        sub: "wizzler",
        name: Some("JM Wizzler"),
        email: Some("email@example.com"),
        email_verified: false,
    },
    Plain {
        // Zoom API, "Get a user" (GET /v2/users/me): `verified: 1` for a verified address.
        preset: "zoom",
        profile: || {
            json!({"id": "KDcuGIm1QgePTO8WbOqwIQ", "first_name": "Jill", "last_name": "Chill",
                "email": "jchill@example.com", "type": 1, "verified": 1,
                "pic_url": "https://example.com/photo.jpg"})
        },
        sub: "KDcuGIm1QgePTO8WbOqwIQ",
        name: Some("Jill Chill"),
        email: Some("jchill@example.com"),
        email_verified: true,
    },
    Plain {
        // Patreon API v2, "/api/oauth2/v2/identity" with `fields[user]`.
        preset: "patreon",
        profile: || {
            json!({"data": {"id": "5505", "type": "user", "attributes": {
                "email": "creator@patreon.example", "full_name": "Cory Creator",
                "is_email_verified": true, "vanity": "corycreates"}}})
        },
        sub: "5505",
        name: Some("Cory Creator"),
        email: Some("creator@patreon.example"),
        email_verified: true,
    },
    Plain {
        // Box API reference, "Get current user" (GET /2.0/users/me): a `user` object.
        preset: "box",
        profile: || {
            json!({"type": "user", "id": "11446498", "name": "Aaron Levie",
                "login": "ceo@example.com", "language": "en", "status": "active",
                "avatar_url": "https://www.box.com/api/avatar/large/181216415"})
        },
        sub: "11446498",
        name: Some("Aaron Levie"),
        email: Some("ceo@example.com"),
        email_verified: false,
    },
    Plain {
        // Login with Amazon, "Obtain Customer Profile Information": the `profile` scope
        // gives `user_id`, `name` and `email` (and `postal_code` with its own scope).
        preset: "amazon",
        profile: || {
            json!({"user_id": "amzn1.account.K2LI23KL2LK2", "email": "mhashimoto-04@plaxo.com",
                "name": "Mork Hashimoto", "postal_code": "98052"})
        },
        sub: "amzn1.account.K2LI23KL2LK2",
        name: Some("Mork Hashimoto"),
        email: Some("mhashimoto-04@plaxo.com"),
        email_verified: false,
    },
    Plain {
        // NAVER Login API reference, "회원 프로필 조회 API" (GET /v1/nid/me): the profile
        // wrapped in `response` beside `resultcode` and `message`.
        preset: "naver",
        profile: || {
            json!({"resultcode": "00", "message": "success", "response": {
                "email": "openapi@naver.com", "nickname": "OpenAPI",
                "profile_image": "https://ssl.pstatic.net/static/pwe/address/nodata_33x33.gif",
                "age": "40-49", "gender": "F", "id": "32742776", "name": "오픈 API",
                "birthday": "10-01"}})
        },
        sub: "32742776",
        name: Some("오픈 API"),
        email: Some("openapi@naver.com"),
        email_verified: false,
    },
];

/// Whether a preset is plain: what its entry says is all there is to it, so that a row
/// of [`PLAIN`] and the generic fixture test it completely.
fn is_plain(preset: &ferroauth::presets::Preset) -> bool {
    use ferroauth::presets::{Endpoints, Offline, Protocol};
    let d = &preset.deviations;
    preset.protocol == Protocol::OAuth2
        && matches!(
            preset.endpoints,
            Endpoints::OAuth2 {
                userinfo: Some(_),
                ..
            }
        )
        && preset.options.is_empty()
        && matches!(preset.offline, Offline::Unsupported)
        && preset.api_headers.is_empty()
        && preset.authorize_params.is_empty()
        && preset.pkce.is_none()
        && preset.profile.computed.is_none()
        && d.scope_separator.is_none()
        && d.token_response.is_none()
        && d.email_lookup.is_none()
        && d.userinfo_method == ferroauth::presets::UserinfoMethod::Get
        && d.api_request == ferroauth::presets::ApiRequestProof::None
        && d.granted_scope == ferroauth::presets::GrantedScope::TokenResponse
        && d.token_request == ferroauth::presets::TokenRequestBody::Form
        && d.id_token == ferroauth::presets::IdTokenUse::Identity
        && d.carried_params.is_empty()
}

/// The host and path of a preset URL.
fn host_path(url: &str) -> (String, String) {
    let url = url::Url::parse(url).unwrap();
    (url.host_str().unwrap().to_owned(), url.path().to_owned())
}

/// A provider world for a plain preset, from its catalogue entry: authorization (the
/// preset's scope, PKCE), token (the preset's client authentication, the code and its
/// verifier) and profile (the bearer token) endpoints.
async fn plain_world(preset: &'static ferroauth::presets::Preset, profile: Value) -> World {
    use ferroauth::presets::Endpoints;
    use ferroauth::proto::oauth2::client_auth::TokenEndpointAuthMethod;
    let Endpoints::OAuth2 {
        authorize: authorize_url,
        token,
        userinfo: Some(userinfo),
        ..
    } = preset.endpoints
    else {
        panic!("{} is not plain", preset.name);
    };
    let scope = preset.scope;
    let challenge: Arc<Mutex<Option<String>>> = Arc::default();
    let seen = challenge.clone();
    let mut hosts: std::collections::BTreeMap<String, Router> = Default::default();
    let (host, path) = host_path(authorize_url);
    let route = authorize(
        move |q| {
            if let Some(scope) = scope {
                param(q, "scope", scope)?;
            }
            param(q, "code_challenge_method", "S256")?;
            *seen.lock().unwrap() = q.get("code_challenge").cloned();
            Ok(())
        },
        "",
    );
    hosts.insert(host, Router::new().route(&path, route));
    let auth = preset.token_auth;
    let (host, path) = host_path(token);
    let route = post(move |headers: HeaderMap, body: String| {
        let challenge = challenge.clone();
        async move {
            let f = form(&body);
            let authenticated = match auth {
                Some(TokenEndpointAuthMethod::ClientSecretPost) => post_ok(&f),
                _ => basic_ok(&headers),
            };
            if !authenticated {
                return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
            }
            let verifier = f.get("code_verifier").map(|v| s256(v));
            if !code_grant_ok(&f) || verifier != *challenge.lock().unwrap() {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            json_ok(
                json!({"access_token": TOKEN, "token_type": "bearer", "expires_in": 3600,
                "refresh_token": "plain-refresh"}),
            )
        }
    });
    let router = hosts.remove(&host).unwrap_or_default();
    hosts.insert(host, router.route(&path, route));
    let (host, path) = host_path(userinfo);
    let route = get(move |headers: HeaderMap| {
        let profile = profile.clone();
        async move {
            if !bearer_is(&headers, TOKEN) {
                return StatusCode::UNAUTHORIZED.into_response();
            }
            json_ok(profile)
        }
    });
    let router = hosts.remove(&host).unwrap_or_default();
    hosts.insert(host, router.route(&path, route));
    World::start(hosts.iter().map(|(h, r)| (h.as_str(), r.clone())).collect()).await
}

#[tokio::test]
async fn plain_presets_log_in_against_their_documented_answers() {
    for row in PLAIN {
        let preset = ferroauth::presets::find(row.preset)
            .unwrap_or_else(|| panic!("{} is not in the catalogue", row.preset));
        assert!(
            is_plain(preset),
            "{} has deviations: give it its own test",
            row.preset
        );
        let world = plain_world(preset, (row.profile)()).await;
        let client = world.client(&toml(row.preset, ""), row.preset);
        let (login, profile) = login(&world, &client).await;
        assert_eq!(profile.sub.as_deref(), Some(row.sub), "{}", row.preset);
        assert_eq!(profile.name.as_deref(), row.name, "{}", row.preset);
        assert_eq!(profile.email.as_deref(), row.email, "{}", row.preset);
        assert_eq!(profile.email_verified, row.email_verified, "{}", row.preset);
        assert_eq!(refresh_of(&login), "plain-refresh", "{}", row.preset);
    }
}

#[test]
fn every_oauth2_preset_is_documented_and_every_new_plain_one_has_a_row() {
    for preset in ferroauth::presets::all() {
        if preset.protocol != ferroauth::presets::Protocol::OAuth2 {
            continue;
        }
        let name = preset.name;
        assert!(preset.trusted.contains("`sub`"), "{name}");
        assert!(!preset.quirks.is_empty(), "{name}");
        assert!(!preset.endpoints_doc().is_empty(), "{name}");
        if is_plain(preset) {
            assert!(
                PLAIN.iter().any(|row| row.preset == name),
                "{name} is a plain OAuth 2.0 preset: add its row to PLAIN"
            );
        }
    }
}
