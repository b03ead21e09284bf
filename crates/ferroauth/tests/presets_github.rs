//! The `github` and `github-enterprise` presets against a local GitHub: its real host
//! names over TLS (see `presets/world.rs`), its response shapes — a form-encoded token
//! response unless JSON is asked for, errors with HTTP 200, `/user` with `email: null`,
//! `/user/emails` — and its User-Agent rule.

#[path = "presets/world.rs"]
mod world;

use axum::Router;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde_json::json;
use std::collections::HashMap;
use world::{World, settings_error};

const CLIENT_ID: &str = "Iv1.presetworld";
const SECRET: &str = "github-secret-2b7e";
const CODE: &str = "github-code-91c4";
const TOKEN: &str = "gho_presetworldtoken";

/// github.com (or an Enterprise host): the authorization page approves at once, and the
/// token endpoint behaves as GitHub's does.
fn oauth_host(prefix: &'static str) -> Router {
    Router::new()
        .route(
            &format!("{prefix}/login/oauth/authorize"),
            get(|Query(q): Query<HashMap<String, String>>| async move {
                assert_eq!(q["client_id"], CLIENT_ID);
                assert_eq!(q["scope"], "read:user user:email");
                assert_eq!(q["code_challenge_method"], "S256");
                let url = format!("{}?code={CODE}&state={}", q["redirect_uri"], q["state"]);
                Redirect::to(&url)
            }),
        )
        .route(
            &format!("{prefix}/login/oauth/access_token"),
            post(access_token),
        )
}

/// GitHub's token endpoint: form-encoded unless `Accept: application/json`, and a wrong
/// code is an error with HTTP 200.
async fn access_token(headers: HeaderMap, body: String) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let wants_json = headers
        .get(header::ACCEPT)
        .is_some_and(|a| a.to_str().unwrap_or("").contains("application/json"));
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let authenticated = basic.starts_with("Basic ") || form.contains_key("client_secret");
    let fields: Vec<(&str, &str)> = if form.get("code").map(String::as_str) == Some(CODE)
        && authenticated
        && form.contains_key("code_verifier")
    {
        vec![
            ("access_token", TOKEN),
            ("token_type", "bearer"),
            ("scope", "read:user,user:email"),
        ]
    } else {
        vec![
            ("error", "bad_verification_code"),
            (
                "error_description",
                "The code passed is incorrect or expired.",
            ),
        ]
    };
    if wants_json {
        let object: serde_json::Map<String, serde_json::Value> = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        (StatusCode::OK, axum::Json(object)).into_response()
    } else {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        (
            [(header::CONTENT_TYPE, "application/x-www-form-urlencoded")],
            body,
        )
            .into_response()
    }
}

/// api.github.com: `/user` with a private address, `/user/emails` with the primary
/// verified one; both refuse calls without a User-Agent, as GitHub does.
fn api_host(prefix: &'static str, emails: serde_json::Value) -> Router {
    Router::new()
        .route(
            &format!("{prefix}/user"),
            get(|headers: HeaderMap| async move {
                check_api_call(&headers)?;
                Ok::<_, StatusCode>(axum::Json(json!({
                    "login": "octocat", "id": 583231, "name": "The Octocat",
                    "avatar_url": "https://avatars.githubusercontent.com/u/583231?v=4",
                    "email": null, "type": "User"
                })))
            }),
        )
        .route(
            &format!("{prefix}/user/emails"),
            get(move |headers: HeaderMap| {
                let emails = emails.clone();
                async move {
                    check_api_call(&headers)?;
                    Ok::<_, StatusCode>(emails_answer(emails))
                }
            }),
        )
}

/// `/user/emails` given [`REFUSED`] answers as GitHub does for a GitHub App without the
/// "Email addresses" permission, or for a token without `user:email` (REST API docs, "List
/// email addresses for the authenticated user": 403 Forbidden; the body is GitHub's usual
/// `message` and `documentation_url`); given a string, that text as HTML.
fn emails_answer(emails: serde_json::Value) -> Response {
    match emails {
        serde_json::Value::Null => (
            StatusCode::FORBIDDEN,
            axum::Json(json!({
                "message": "Resource not accessible by integration",
                "documentation_url": "https://docs.github.com/rest/users/emails#list-email-addresses-for-the-authenticated-user",
                "status": "403"
            })),
        )
            .into_response(),
        serde_json::Value::String(page) => axum::response::Html(page).into_response(),
        list => axum::Json(list).into_response(),
    }
}

/// The `/user/emails` lookup refused (see [`emails_answer`]).
const REFUSED: serde_json::Value = serde_json::Value::Null;

fn check_api_call(headers: &HeaderMap) -> Result<(), StatusCode> {
    if !headers.contains_key(header::USER_AGENT) {
        return Err(StatusCode::FORBIDDEN);
    }
    match headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
    {
        Some(h) if h.eq_ignore_ascii_case(&format!("bearer {TOKEN}")) => Ok(()),
        _ => Err(StatusCode::UNAUTHORIZED),
    }
}

fn emails() -> serde_json::Value {
    json!([
        {"email": "octocat@old.example", "primary": false, "verified": true, "visibility": null},
        {"email": "octocat@github.com", "primary": true, "verified": true, "visibility": "private"}
    ])
}

async fn github_world(emails: serde_json::Value) -> World {
    World::start(vec![
        ("github.com", oauth_host("")),
        ("api.github.com", api_host("", emails)),
    ])
    .await
}

const THREE_LINES: &str = r#"
[clients.github]
client_id = "Iv1.presetworld"
client_secret = "github-secret-2b7e"
"#;

#[tokio::test]
async fn github_login_with_a_private_address() {
    let world = github_world(emails()).await;
    let github = world.client(THREE_LINES, "github");
    let login = world.login(&github).await.unwrap();
    let profile = ferroauth::Profile::from_claims(&login.userinfo);
    assert_eq!(profile.sub.as_deref(), Some("583231"));
    assert_eq!(profile.preferred_username.as_deref(), Some("octocat"));
    assert_eq!(profile.name.as_deref(), Some("The Octocat"));
    assert_eq!(
        profile.email.as_deref(),
        Some("octocat@github.com"),
        "`/user` has email null: the primary verified address of `/user/emails`"
    );
    assert!(profile.email_verified);
    assert!(profile.picture.unwrap().contains("583231"));
    assert_eq!(login.token.scope(), Some("read:user,user:email"));
    // The token request asked for JSON and was authenticated.
    let token_calls = world.seen_at("/login/oauth/access_token");
    assert_eq!(token_calls.len(), 1);
    assert!(
        token_calls[0]
            .header("accept")
            .unwrap()
            .contains("application/json")
    );
    assert!(
        world.seen_at("/user/emails")[0]
            .header("user-agent")
            .is_some()
    );
}

#[tokio::test]
async fn github_without_a_verified_primary_address_vouches_for_nothing() {
    let world = github_world(json!([
        {"email": "octocat@github.com", "primary": true, "verified": false}
    ]))
    .await;
    let github = world.client(THREE_LINES, "github");
    let profile = ferroauth::Profile::from_claims(&world.login(&github).await.unwrap().userinfo);
    assert_eq!(profile.email, None);
    assert!(!profile.email_verified);
    assert_eq!(profile.sub.as_deref(), Some("583231"));
}

#[tokio::test]
async fn github_login_goes_on_when_the_address_lookup_is_refused() {
    for answer in [REFUSED, json!("<html>Service unavailable</html>")] {
        let world = github_world(answer.clone()).await;
        let github = world.client(THREE_LINES, "github");
        let login = world.login(&github).await;
        let login = login.unwrap_or_else(|e| panic!("{answer}: the login failed: {e}"));
        let profile = ferroauth::Profile::from_claims(&login.userinfo);
        assert_eq!(profile.sub.as_deref(), Some("583231"), "{answer}");
        assert_eq!(profile.preferred_username.as_deref(), Some("octocat"));
        assert_eq!(profile.email, None, "{answer}: no address to show");
        assert!(!profile.email_verified, "{answer}: nothing vouched for");
        assert_eq!(world.seen_at("/user/emails").len(), 1, "{answer}");
    }
}

#[tokio::test]
async fn github_errors_with_http_200_are_errors() {
    let world = github_world(emails()).await;
    // The preset's settings with a wrong secret: GitHub answers 200 with an error field.
    let github = world.client(&THREE_LINES.replace(SECRET, "wrong"), "github");
    let error = world::login_with_code(&world, &github, "not-the-code")
        .await
        .unwrap_err();
    assert_eq!(error.code(), "token_error", "{error}");
    assert!(
        error.to_string().contains("bad_verification_code"),
        "{error}"
    );
}

#[tokio::test]
async fn github_enterprise_on_its_own_host() {
    let world = World::start(vec![(
        "github.corp.example",
        oauth_host("").merge(api_host("/api/v3", emails())),
    )])
    .await;
    let ghe = world.client(
        r#"
[clients.work]
preset = "github-enterprise"
client_id = "Iv1.presetworld"
client_secret = "github-secret-2b7e"
preset_options = { base_url = "https://github.corp.example/" }
"#,
        "work",
    );
    assert_eq!(
        ghe.settings().userinfo_endpoint.as_deref(),
        Some("https://github.corp.example/api/v3/user")
    );
    let profile = ferroauth::Profile::from_claims(&world.login(&ghe).await.unwrap().userinfo);
    assert_eq!(profile.email.as_deref(), Some("octocat@github.com"));
    assert!(world.seen_at("/api/v3/user/emails").len() == 1);
}

#[tokio::test]
async fn settings_override_the_preset_and_bad_presets_are_settings_errors() {
    let world = github_world(emails()).await;
    let github = world.client(
        &format!("{THREE_LINES}client_kwargs = {{ scope = \"read:user\" }}\n"),
        "github",
    );
    assert_eq!(
        github.settings().client_kwargs.scope.as_deref(),
        Some("read:user")
    );
    let text = settings_error("[clients.x]\npreset = \"gihtub\"\nclient_id = \"a\"\n");
    assert!(
        text.contains("unknown preset `gihtub`") && text.contains("github"),
        "{text}"
    );
    let text = settings_error(
        "[clients.github]\nclient_id = \"a\"\npreset_options = { tenant = \"common\" }\n",
    );
    assert!(text.contains("preset_options.tenant"), "{text}");
    let text = settings_error("[clients.ghe]\npreset = \"github-enterprise\"\nclient_id = \"a\"\n");
    assert!(text.contains("base_url"), "{text}");
    let text = settings_error(
        "[clients.ghe]\npreset = \"github-enterprise\"\nclient_id = \"a\"\npreset_options = { base_url = \"github.corp.example\" }\n",
    );
    assert!(
        text.contains("must be a URL"),
        "the option is named: {text}"
    );
    let text = settings_error(
        "[clients.github]\nclient_id = \"a\"\nrequest_token_url = \"https://github.com/rt\"\n",
    );
    assert!(
        text.contains("OAuth 1.0a client"),
        "no mixing of protocols: {text}"
    );
    let text = settings_error("[clients.github]\npreset = \"none\"\nclient_id = \"a\"\n");
    assert!(
        text.contains("authorize_url"),
        "no preset, no endpoints: {text}"
    );
}
