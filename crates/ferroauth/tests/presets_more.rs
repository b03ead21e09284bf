//! The presets of the self-hosted, enterprise, Asian and platform groups against local
//! providers on their real host names (see `presets/world.rs` and
//! `presets/oidc_fixture.rs`): each logs in end to end, and each test checks the
//! provider's quirk (issuer shape, option-built URLs, response wrapping, the verified
//! flag, LINE's HS256 ID tokens, Yandex's `OAuth` scheme, TikTok's `client_key`).

#[path = "presets/oidc_fixture.rs"]
mod oidc_fixture;
#[path = "presets/world.rs"]
mod world;

use std::collections::HashMap;

use axum::Router;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use ferroauth::{OAuthClient, Profile};
use oidc_fixture::{CLIENT_ID, ClientAuth, IdTokenAlg, Op, SECRET, toml, world};
use serde_json::{Value, json};
use world::{REDIRECT_URI, World, settings_error};

const CODE: &str = "code-5b1e";
const TOKEN: &str = "access-9d2c";

/// A client `name` of preset `preset` with these `preset_options` (an inline table).
fn with_options(name: &str, preset: &str, options: &str) -> String {
    toml(
        name,
        &format!("preset = \"{preset}\"\npreset_options = {{ {options} }}"),
    )
}

async fn profile(world: &World, client: &OAuthClient) -> Result<Profile, ferroauth::Error> {
    world
        .login(client)
        .await
        .map(|login| Profile::from_claims(&login.userinfo))
}

/// The query of the (last) request the provider saw at `path`.
fn query_at(world: &World, path: &str) -> HashMap<String, String> {
    let seen = world.seen_at(path);
    let last = seen.last().expect("a request");
    form(last.path_and_query.split_once('?').map_or("", |(_, q)| q))
}

fn form(text: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(text.as_bytes())
        .into_owned()
        .collect()
}

/// An OpenID Connect provider at `issuer` with its endpoints at these paths of `origin`.
fn op_at(issuer: &str, origin: &str, paths: [&str; 4]) -> Op {
    let mut op = Op::new(issuer, CLIENT_ID, SECRET);
    let [authorize, token, userinfo, jwks] = paths;
    op.authorization_endpoint = format!("{origin}{authorize}");
    op.token_endpoint = format!("{origin}{token}");
    op.userinfo_endpoint = Some(format!("{origin}{userinfo}"));
    op.jwks_uri = format!("{origin}{jwks}");
    op.userinfo = Some(json!({"sub": SUBJECT}));
    op
}

/// The subject of the self-hosted and enterprise fixtures' users.
const SUBJECT: &str = "u-42";

/// The claims of the `n`th ID token the provider issued (unverified: the test's own).
fn issued_claims(op: &Op, n: usize) -> Value {
    use base64::Engine as _;
    let token = &op.issued()[n];
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

// ---------------------------------------------------------------------------------------
// Self-hosted OpenID Connect servers
// ---------------------------------------------------------------------------------------

/// One self-hosted server whose only quirk is where its issuer is under `base_url`.
struct Hosted {
    preset: &'static str,
    base_url: &'static str,
    /// The issuer the server's discovery and ID tokens name.
    issuer: &'static str,
    /// authorize, token, userinfo and JWKS paths (the product's own, from its docs).
    paths: [&'static str; 4],
    /// `offline = true` adds `offline_access`.
    offline: bool,
}

const HOSTED: &[Hosted] = &[
    Hosted {
        preset: "zitadel",
        base_url: "https://acme-x1y2.zitadel.cloud",
        issuer: "https://acme-x1y2.zitadel.cloud",
        paths: [
            "/oauth/v2/authorize",
            "/oauth/v2/token",
            "/oidc/v1/userinfo",
            "/oauth/v2/keys",
        ],
        offline: true,
    },
    Hosted {
        preset: "authelia",
        base_url: "https://auth.home.example",
        issuer: "https://auth.home.example",
        paths: [
            "/api/oidc/authorization",
            "/api/oidc/token",
            "/api/oidc/userinfo",
            "/jwks.json",
        ],
        offline: true,
    },
    Hosted {
        preset: "dex",
        base_url: "https://dex.example.com/dex/",
        issuer: "https://dex.example.com/dex",
        paths: ["/dex/auth", "/dex/token", "/dex/userinfo", "/dex/keys"],
        offline: true,
    },
    Hosted {
        preset: "ory-hydra",
        base_url: "https://elated-curie-4h7x.projects.oryapis.com",
        issuer: "https://elated-curie-4h7x.projects.oryapis.com",
        paths: [
            "/oauth2/auth",
            "/oauth2/token",
            "/userinfo",
            "/.well-known/jwks.json",
        ],
        offline: true,
    },
    Hosted {
        preset: "casdoor",
        base_url: "https://door.casdoor.example",
        issuer: "https://door.casdoor.example",
        paths: [
            "/login/oauth/authorize",
            "/api/login/oauth/access_token",
            "/api/userinfo",
            "/.well-known/jwks",
        ],
        offline: false,
    },
];

#[tokio::test]
async fn self_hosted_servers_log_in_at_their_own_issuer() {
    for row in HOSTED {
        let origin = {
            let u = url::Url::parse(row.issuer).unwrap();
            u.origin().ascii_serialization()
        };
        let op = op_at(row.issuer, &origin, row.paths);
        op.set_id_claims(json!({"sub": "u-42", "email": "ada@example.org",
            "email_verified": true, "name": "Ada", "preferred_username": "ada"}));
        let world = world(&[&op], vec![]).await;
        let options = format!("base_url = \"{}\"", row.base_url);
        let options = match row.offline {
            true => format!("{options}, offline = true"),
            false => options,
        };
        let client = world.client(&with_options("app", row.preset, &options), "app");
        let p = profile(&world, &client)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", row.preset));
        assert_eq!(p.sub.as_deref(), Some("u-42"), "{}", row.preset);
        assert!(p.email_verified, "{}", row.preset);
        let scope = query_at(&world, row.paths[0])["scope"].clone();
        assert_eq!(
            scope.split(' ').any(|s| s == "offline_access"),
            row.offline,
            "{}: {scope}",
            row.preset
        );
        // The server does not vouch: neither does the profile.
        op.set_id_claims(json!({"sub": "u-42", "email": "ada@example.org",
            "email_verified": false}));
        let p = profile(&world, &client).await.unwrap();
        assert!(!p.email_verified, "{}", row.preset);
        // Another server's tokens are refused.
        op.set_id_claims(json!({"iss": "https://other.example"}));
        let e = profile(&world, &client).await.unwrap_err();
        assert_eq!(e.code(), "invalid_id_token", "{}: {e}", row.preset);
        // `base_url` is required, and a URL.
        let e = settings_error(&format!(
            "[clients.app]\npreset = \"{}\"\nclient_id = \"a\"\n",
            row.preset
        ));
        assert!(e.contains("preset_options.base_url"), "{}: {e}", row.preset);
    }
    let e = settings_error(
        "[clients.app]\npreset = \"dex\"\nclient_id = \"a\"\npreset_options = { base_url = \"dex.example.com\" }\n",
    );
    assert!(e.contains("must be a URL"), "{e}");
}

#[tokio::test]
async fn authentik_issuer_is_per_application_with_its_trailing_slash() {
    let issuer = "https://authentik.example.org/application/o/wiki/";
    let op = op_at(
        issuer,
        "https://authentik.example.org",
        [
            "/application/o/authorize/",
            "/application/o/token/",
            "/application/o/userinfo/",
            "/application/o/wiki/jwks/",
        ],
    );
    op.set_id_claims(json!({"sub": SUBJECT, "email": "jo@example.org",
        "email_verified": true, "preferred_username": "jo"}));
    let world = world(&[&op], vec![]).await;
    let client = world.client(
        &with_options(
            "wiki",
            "authentik",
            "base_url = \"https://authentik.example.org\", slug = \"wiki\"",
        ),
        "wiki",
    );
    let p = profile(&world, &client).await.unwrap();
    assert_eq!(p.sub.as_deref(), Some(SUBJECT));
    assert_eq!(issued_claims(&op, 0)["iss"], issuer);
    assert_eq!(
        world
            .seen_at("/application/o/wiki/.well-known/openid-configuration")
            .len(),
        1,
        "discovery under the application's slug"
    );
    // The issuer is compared exactly: without its slash it is another issuer.
    op.set_id_claims(json!({"iss": "https://authentik.example.org/application/o/wiki"}));
    let e = profile(&world, &client).await.unwrap_err();
    assert_eq!(e.code(), "invalid_id_token", "{e}");
    // A slug is required, and a path segment.
    let e = settings_error(
        "[clients.wiki]\npreset = \"authentik\"\nclient_id = \"a\"\npreset_options = { base_url = \"https://authentik.example.org\" }\n",
    );
    assert!(e.contains("preset_options.slug is required"), "{e}");
    let e = settings_error(
        "[clients.wiki]\npreset = \"authentik\"\nclient_id = \"a\"\npreset_options = { base_url = \"https://a.example\", slug = \"../admin\" }\n",
    );
    assert!(e.contains("preset_options.slug may hold only"), "{e}");
}

#[tokio::test]
async fn kanidm_issuer_names_the_client_pkce_and_es256() {
    let base = "https://idm.example.com";
    let issuer = format!("{base}/oauth2/openid/{CLIENT_ID}");
    let mut op = op_at(
        &issuer,
        base,
        [
            "/ui/oauth2",
            "/oauth2/token",
            &format!("/oauth2/openid/{CLIENT_ID}/userinfo"),
            &format!("/oauth2/openid/{CLIENT_ID}/public_key.jwk"),
        ],
    );
    op.id_token_alg = IdTokenAlg::Es256;
    op.metadata_extra = json!({"id_token_signing_alg_values_supported": ["ES256"]});
    op.check_authorize = |q| assert_eq!(q["code_challenge_method"], "S256");
    op.set_id_claims(json!({"sub": SUBJECT,
        "email": "ann@example.com", "email_verified": true, "preferred_username": "ann@idm.example.com"}));
    let world = world(&[&op], vec![]).await;
    let client = world.client(
        &with_options("idm", "kanidm", "base_url = \"https://idm.example.com\""),
        "idm",
    );
    let p = profile(&world, &client).await.unwrap();
    assert_eq!(p.sub.as_deref(), Some(SUBJECT));
    assert!(p.email_verified);
    assert!(op.issued()[0].starts_with(&{
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256""#)[..12]
            .to_owned()
    }));
    // Another client's issuer on the same server is another issuer.
    op.set_id_claims(json!({"iss": format!("{base}/oauth2/openid/other-client")}));
    let e = profile(&world, &client).await.unwrap_err();
    assert_eq!(e.code(), "invalid_id_token", "{e}");
}

#[tokio::test]
async fn fusionauth_tenant_picks_its_discovery_document() {
    let base = "https://auth.fusion.example";
    let mut op = op_at(
        base,
        base,
        [
            "/oauth2/authorize",
            "/oauth2/token",
            "/oauth2/userinfo",
            "/.well-known/jwks.json",
        ],
    );
    op.auth = ClientAuth::Any;
    op.set_id_claims(json!({"sub": SUBJECT,
        "email": "rich@example.com", "email_verified": true, "preferred_username": "rich"}));
    let world = world(&[&op], vec![]).await;
    let tenant = "30663132-6464-6665-3032-326466613934";
    let client = world.client(
        &with_options(
            "fa",
            "fusionauth",
            &format!("base_url = \"{base}\", tenant = \"{tenant}\""),
        ),
        "fa",
    );
    profile(&world, &client).await.unwrap();
    assert_eq!(
        query_at(&world, "/.well-known/openid-configuration")["tenantId"],
        tenant
    );
    let default = world.client(
        &with_options("fa", "fusionauth", &format!("base_url = \"{base}\"")),
        "fa",
    );
    profile(&world, &default).await.unwrap();
    let last = world.seen_at("/.well-known/openid-configuration");
    assert!(!last.last().unwrap().path_and_query.contains("tenantId"));
}

#[tokio::test]
async fn gitea_issuer_is_root_url_with_its_slash_and_the_api_is_v1() {
    let base = "https://git.example.net";
    let op = op_at(
        &format!("{base}/"),
        base,
        [
            "/login/oauth/authorize",
            "/login/oauth/access_token",
            "/login/oauth/userinfo",
            "/login/oauth/keys",
        ],
    );
    op.set_id_claims(
        json!({"sub": SUBJECT, "name": "Jo Doe", "nickname": "jodoe",
        "email": "jo@example.net", "email_verified": false,
        "picture": "https://git.example.net/avatars/7"}),
    );
    let world = world(&[&op], vec![]).await;
    let client = world.client(
        &with_options("forge", "gitea", "base_url = \"https://git.example.net/\""),
        "forge",
    );
    assert_eq!(
        client.settings().api_base_url.as_deref(),
        Some("https://git.example.net/api/v1/")
    );
    let p = profile(&world, &client).await.unwrap();
    assert_eq!(p.sub.as_deref(), Some(SUBJECT));
    assert_eq!(p.preferred_username.as_deref(), Some("jodoe"));
    assert!(!p.email_verified);
    op.set_id_claims(json!({"iss": base}));
    let e = profile(&world, &client).await.unwrap_err();
    assert_eq!(e.code(), "invalid_id_token", "{e}");
}

// ---------------------------------------------------------------------------------------
// Enterprise
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn cognito_issuer_from_region_and_pool_endpoints_on_the_pool_domain() {
    let issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123";
    let mut op = Op::new(issuer, CLIENT_ID, SECRET);
    let domain = "https://acme.auth.eu-west-1.amazoncognito.com";
    op.authorization_endpoint = format!("{domain}/oauth2/authorize");
    op.token_endpoint = format!("{domain}/oauth2/token");
    op.userinfo_endpoint = Some(format!("{domain}/oauth2/userInfo"));
    op.jwks_uri = format!("{issuer}/.well-known/jwks.json");
    // Cognito's userInfo says `email_verified` as a string.
    op.userinfo = Some(json!({"sub": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "email_verified": "true", "email": "ann@example.com", "username": "ann"}));
    op.set_id_claims(json!({"sub": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "cognito:username": "ann", "email": "ann@example.com", "email_verified": true,
        "token_use": "id"}));
    let world = world(&[&op], vec![]).await;
    let client = world.client(
        &with_options(
            "pool",
            "cognito",
            "region = \"eu-west-1\", user_pool_id = \"eu-west-1_AbCdEf123\"",
        ),
        "pool",
    );
    let p = profile(&world, &client).await.unwrap();
    assert_eq!(
        p.sub.as_deref(),
        Some("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee")
    );
    assert_eq!(p.preferred_username.as_deref(), Some("ann"));
    assert!(p.email_verified);
    assert_eq!(
        world.seen_at("/oauth2/authorize")[0].host,
        "acme.auth.eu-west-1.amazoncognito.com"
    );
    // Another pool's tokens are refused.
    op.set_id_claims(json!({"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"}));
    let e = profile(&world, &client).await.unwrap_err();
    assert_eq!(e.code(), "invalid_id_token", "{e}");
    // Both options are required, and path segments.
    let e = settings_error(
        "[clients.pool]\npreset = \"cognito\"\nclient_id = \"a\"\npreset_options = { region = \"eu-west-1\" }\n",
    );
    assert!(e.contains("preset_options.user_pool_id is required"), "{e}");
    let e = settings_error(
        "[clients.pool]\npreset = \"cognito\"\nclient_id = \"a\"\npreset_options = { region = \"eu-west-1/x\", user_pool_id = \"p\" }\n",
    );
    assert!(e.contains("preset_options.region may hold only"), "{e}");
}

#[tokio::test]
async fn azure_ad_b2c_metadata_per_policy_and_emails_never_verified() {
    let tenant_id = "775527ff-9a37-4307-8b3d-cc311f58d925";
    let host = "https://contoso.b2clogin.com";
    let issuer = format!("{host}/{tenant_id}/v2.0/");
    let mut op = Op::new(&issuer, CLIENT_ID, SECRET);
    op.discovery_url = format!("{host}/{tenant_id}/v2.0/.well-known/openid-configuration");
    op.authorization_endpoint = format!("{host}/{tenant_id}/oauth2/v2.0/authorize");
    op.token_endpoint = format!("{host}/{tenant_id}/oauth2/v2.0/token");
    op.userinfo_endpoint = None;
    op.jwks_uri = format!("{host}/{tenant_id}/discovery/v2.0/keys");
    op.check_authorize = |q| assert_eq!(q["scope"], "openid");
    op.set_id_claims(json!({"sub": "0b3c6a2e-1d11-4b7e-9b8a-5cf3b2d9e001",
        "oid": "0b3c6a2e-1d11-4b7e-9b8a-5cf3b2d9e001", "tfp": "B2C_1_signin",
        "emails": ["sam@contoso.example"], "name": "Sam"}));
    let world = world(&[&op], vec![]).await;
    let client = world.client(
        &with_options(
            "b2c",
            "azure-ad-b2c",
            &format!(
                "tenant = \"contoso\", tenant_id = \"{tenant_id}\", policy = \"B2C_1_signin\""
            ),
        ),
        "b2c",
    );
    let p = profile(&world, &client).await.unwrap();
    assert_eq!(
        p.sub.as_deref(),
        Some("0b3c6a2e-1d11-4b7e-9b8a-5cf3b2d9e001")
    );
    assert_eq!(p.email.as_deref(), Some("sam@contoso.example"));
    assert!(!p.email_verified, "B2C does not vouch for `emails`");
    assert_eq!(
        query_at(
            &world,
            &format!("/{tenant_id}/v2.0/.well-known/openid-configuration")
        )["p"],
        "B2C_1_signin"
    );
    let e = settings_error(&format!(
        "[clients.b2c]\npreset = \"azure-ad-b2c\"\nclient_id = \"a\"\npreset_options = {{ tenant = \"contoso\", tenant_id = \"{tenant_id}\" }}\n"
    ));
    assert!(e.contains("preset_options.policy is required"), "{e}");
}

#[tokio::test]
async fn pingone_issuer_per_region_and_environment() {
    let env = "8c7f1a6e-3b1d-4f0a-9a55-2a7c4b7d1e01";
    for (region, host) in [(None, "auth.pingone.com"), (Some("eu"), "auth.pingone.eu")] {
        let issuer = format!("https://{host}/{env}/as");
        let op = op_at(
            &issuer,
            &format!("https://{host}"),
            [
                &format!("/{env}/as/authorize"),
                &format!("/{env}/as/token"),
                &format!("/{env}/as/userinfo"),
                &format!("/{env}/as/jwks"),
            ],
        );
        op.set_id_claims(json!({"sub": SUBJECT, "email": "p@example.com", "email_verified": true}));
        let world = world(&[&op], vec![]).await;
        let options = match region {
            Some(r) => format!("region = \"{r}\", environment_id = \"{env}\""),
            None => format!("environment_id = \"{env}\""),
        };
        let client = world.client(&with_options("ping", "pingone", &options), "ping");
        let p = profile(&world, &client).await.unwrap();
        assert_eq!(p.sub.as_deref(), Some(SUBJECT));
        assert_eq!(world.seen_at(&format!("/{env}/as/token"))[0].host, host);
    }
    let e = settings_error("[clients.ping]\npreset = \"pingone\"\nclient_id = \"a\"\n");
    assert!(
        e.contains("preset_options.environment_id is required"),
        "{e}"
    );
}

#[tokio::test]
async fn onelogin_issuer_under_the_subdomain() {
    let issuer = "https://acme.onelogin.com/oidc/2";
    let op = op_at(
        issuer,
        "https://acme.onelogin.com",
        [
            "/oidc/2/auth",
            "/oidc/2/token",
            "/oidc/2/me",
            "/oidc/2/certs",
        ],
    );
    op.set_id_claims(json!({"sub": SUBJECT, "email": "kim@acme.example",
        "preferred_username": "kim", "name": "Kim"}));
    let world = world(&[&op], vec![]).await;
    let client = world.client(
        &with_options("ol", "onelogin", "subdomain = \"acme\""),
        "ol",
    );
    let p = profile(&world, &client).await.unwrap();
    assert_eq!(p.sub.as_deref(), Some(SUBJECT));
    assert!(!p.email_verified, "no `email_verified`: not vouched for");
    let e = settings_error(
        "[clients.ol]\npreset = \"onelogin\"\nclient_id = \"a\"\npreset_options = { subdomain = \"acme.evil.example/x\" }\n",
    );
    assert!(e.contains("preset_options.subdomain may hold only"), "{e}");
}

/// An authorization page that approves at once, after `check`.
fn approve(check: fn(&HashMap<String, String>)) -> axum::routing::MethodRouter {
    get(move |Query(q): Query<HashMap<String, String>>| async move {
        assert_eq!(q["client_id"], CLIENT_ID);
        assert_eq!(q["redirect_uri"], REDIRECT_URI);
        check(&q);
        Redirect::to(&format!("{REDIRECT_URI}?code={CODE}&state={}", q["state"])).into_response()
    })
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (status, axum::Json(json!({ "error": error }))).into_response()
}

#[tokio::test]
async fn workos_json_token_request_and_the_user_in_the_token_response() {
    let api = Router::new()
        .route(
            "/user_management/authorize",
            approve(|q| assert_eq!(q["provider"], "authkit")),
        )
        .route(
            "/user_management/authenticate",
            post(|headers: HeaderMap, body: String| async move {
                let json = headers
                    .get(header::CONTENT_TYPE)
                    .is_some_and(|c| c.to_str().unwrap_or("").starts_with("application/json"));
                let Some(o) = serde_json::from_str::<Value>(&body).ok().filter(|_| json) else {
                    return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
                };
                if o["client_id"] != CLIENT_ID || o["client_secret"] != SECRET {
                    return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
                }
                if o["grant_type"] != "authorization_code" || o["code"] != CODE {
                    return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
                }
                axum::Json(json!({
                    "user": {"object": "user", "id": "user_01E4ZCR3C56J083X43JQXF3JK5",
                        "email": "marcelina.davis@example.com", "first_name": "Marcelina",
                        "last_name": "Davis", "email_verified": true,
                        "profile_picture_url": "https://workoscdn.com/images/v1/123abc",
                        "created_at": "2021-06-25T19:07:33.155Z", "updated_at": "2021-06-25T19:07:33.155Z"},
                    "organization_id": "org_01H945H0YD4F97JN9MATX7BYAG",
                    "access_token": TOKEN, "refresh_token": "yAjhKk123NLIjdrBdGZPf8pLIDvK",
                    "authentication_method": "SSO"
                }))
                .into_response()
            }),
        );
    let world = World::start(vec![("api.workos.com", api)]).await;
    let client = world.client(&toml("workos", ""), "workos");
    let login = world.login(&client).await.unwrap();
    let p = Profile::from_claims(&login.userinfo);
    assert_eq!(p.sub.as_deref(), Some("user_01E4ZCR3C56J083X43JQXF3JK5"));
    assert_eq!(p.name.as_deref(), Some("Marcelina Davis"));
    assert_eq!(p.email.as_deref(), Some("marcelina.davis@example.com"));
    assert!(p.email_verified);
    assert_eq!(
        p.picture.as_deref(),
        Some("https://workoscdn.com/images/v1/123abc")
    );
    assert!(!login.userinfo.contains_key("access_token"));
}

// ---------------------------------------------------------------------------------------
// LINE, Kakao, Yandex
// ---------------------------------------------------------------------------------------

/// A channel secret as LINE issues them: 32 hexadecimal digits.
const CHANNEL_SECRET: &str = "8d3f0c9b1a2e4f5061728394a5b6c7d8";

/// A LINE client with the channel secret.
fn line_toml(more: &str) -> String {
    format!(
        "[clients.line]\nclient_id = \"{CLIENT_ID}\"\nclient_secret = \"{CHANNEL_SECRET}\"\n{more}\n"
    )
}

fn line_op() -> Op {
    let mut op = Op::new("https://access.line.me", CLIENT_ID, CHANNEL_SECRET);
    op.authorization_endpoint = "https://access.line.me/oauth2/v2.1/authorize".into();
    op.token_endpoint = "https://api.line.me/oauth2/v2.1/token".into();
    op.userinfo_endpoint = Some("https://api.line.me/oauth2/v2.1/userinfo".into());
    op.jwks_uri = "https://api.line.me/oauth2/v2.1/certs".into();
    op.metadata_extra = json!({"id_token_signing_alg_values_supported": ["ES256"]});
    op.auth = ClientAuth::Post;
    op.id_token_alg = IdTokenAlg::Hs256(CHANNEL_SECRET);
    op.userinfo = Some(json!({"sub": "U4af4980629...", "name": "Taro Line",
        "picture": "https://profile.line-scdn.net/abcdefghijklmn"}));
    op.set_id_claims(json!({"sub": "U4af4980629...", "name": "Taro Line",
        "picture": "https://profile.line-scdn.net/abcdefghijklmn", "email": "taro.line@example.com",
        "amr": ["linesso"]}));
    op
}

#[tokio::test]
async fn line_id_tokens_hs256_with_the_channel_secret_only() {
    let op = line_op();
    let world = world(&[&op], vec![]).await;
    let line = world.client(&line_toml(""), "line");
    let p = profile(&world, &line).await.unwrap();
    assert_eq!(p.sub.as_deref(), Some("U4af4980629..."));
    assert_eq!(p.email.as_deref(), Some("taro.line@example.com"));
    assert!(
        !p.email_verified,
        "LINE does not say the address is verified"
    );
    assert_eq!(
        world.seen_at("/oauth2/v2.1/token")[0]
            .form("client_secret")
            .as_deref(),
        Some(CHANNEL_SECRET)
    );

    // An HS256 token keyed with anything but the channel secret is forged.
    let mut forged = line_op();
    forged.id_token_alg = IdTokenAlg::Hs256("not-the-channel-secret-at-all");
    let world = self::world(&[&forged], vec![]).await;
    let line = world.client(&line_toml(""), "line");
    let e = profile(&world, &line).await.unwrap_err();
    assert_eq!(e.code(), "invalid_id_token", "{e}");

    // HS256 is accepted because the preset lists it: an app that narrows the list to
    // what discovery says (ES256) refuses LINE's web-login tokens, as for any provider.
    let op = line_op();
    let world = self::world(&[&op], vec![]).await;
    let strict = world.client(
        &line_toml("client_kwargs = { id_token_signing_algs = [\"ES256\"] }"),
        "line",
    );
    let e = profile(&world, &strict).await.unwrap_err();
    assert_eq!(e.code(), "invalid_id_token", "{e}");
    // And no other preset accepts an HS256 ID token keyed with the client secret.
    let mut other = Op::new("https://oidc.other.example", CLIENT_ID, CHANNEL_SECRET);
    other.id_token_alg = IdTokenAlg::Hs256(CHANNEL_SECRET);
    let world = self::world(&[&other], vec![]).await;
    let dex = world.client(
        &format!(
            "[clients.kc]\npreset = \"dex\"\nclient_id = \"{CLIENT_ID}\"\nclient_secret = \"{CHANNEL_SECRET}\"\npreset_options = {{ base_url = \"https://oidc.other.example\" }}\n"
        ),
        "kc",
    );
    let e = profile(&world, &dex).await.unwrap_err();
    assert_eq!(e.code(), "invalid_id_token", "{e}");
}

/// How a fixture's token endpoint wants the client to authenticate.
#[derive(Clone, Copy)]
enum Auth {
    /// `client_id` and `client_secret` in the body.
    Post,
    /// HTTP Basic only, never the secret in the body.
    Basic,
}

/// A plain OAuth 2.0 provider: authorize (after `check`), token (the client's
/// authentication and the code) and a profile endpoint answering `profile` to
/// `Authorization: <scheme> <token>`.
fn oauth2_provider(
    authorize: (&'static str, fn(&HashMap<String, String>)),
    token: (&'static str, Auth),
    profile: (&'static str, &'static str, Value),
) -> Vec<(String, Router)> {
    let mut hosts: std::collections::BTreeMap<String, Router> = Default::default();
    let mut add = |url: &str, route: axum::routing::MethodRouter| {
        let u = url::Url::parse(url).unwrap();
        let host = u.host_str().unwrap().to_owned();
        let router = hosts.remove(&host).unwrap_or_default();
        hosts.insert(host, router.route(u.path(), route));
    };
    add(authorize.0, approve(authorize.1));
    let (token, auth) = token;
    add(
        token,
        post(move |headers: HeaderMap, body: String| async move {
            use base64::Engine as _;
            let f = form(&body);
            let basic = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{SECRET}"))
            );
            let header = headers
                .get(header::AUTHORIZATION)
                .and_then(|h| h.to_str().ok());
            let authenticated = match auth {
                Auth::Post => {
                    f.get("client_id").map(String::as_str) == Some(CLIENT_ID)
                        && f.get("client_secret").map(String::as_str) == Some(SECRET)
                }
                Auth::Basic => header == Some(basic.as_str()) && !f.contains_key("client_secret"),
            };
            if !authenticated {
                return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
            }
            if f.get("code").map(String::as_str) != Some(CODE)
                || f.get("redirect_uri").map(String::as_str) != Some(REDIRECT_URI)
            {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            axum::Json(json!({"access_token": TOKEN, "token_type": "bearer",
                "expires_in": 3600, "refresh_token": "rt-1"}))
            .into_response()
        }),
    );
    let (url, scheme, answer) = profile;
    add(
        url,
        get(move |headers: HeaderMap| {
            let answer = answer.clone();
            async move {
                let expected = format!("{scheme} {TOKEN}");
                if headers
                    .get(header::AUTHORIZATION)
                    .and_then(|h| h.to_str().ok())
                    != Some(expected.as_str())
                {
                    return StatusCode::UNAUTHORIZED.into_response();
                }
                axum::Json(answer).into_response()
            }
        }),
    );
    hosts.into_iter().collect()
}

async fn start(routes: Vec<(String, Router)>) -> World {
    World::start(
        routes
            .iter()
            .map(|(h, r)| (h.as_str(), r.clone()))
            .collect(),
    )
    .await
}

/// Kakao Developers, "Kakao Login" REST API, "Retrieve user information" example.
fn kakao_user(verified: bool, valid: bool) -> Value {
    json!({"id": 123456789, "connected_at": "2022-04-11T01:45:28Z",
        "properties": {"nickname": "홍길동"},
        "kakao_account": {"profile_nickname_needs_agreement": false,
            "profile": {"nickname": "홍길동", "profile_image_url": "http://yyy.kakao.com/dn/.../img_640x640.jpg",
                "is_default_image": false},
            "email_needs_agreement": false, "has_email": true, "is_email_valid": valid,
            "is_email_verified": verified, "email": "sample@sample.com"}})
}

#[tokio::test]
async fn kakao_vouches_only_for_a_verified_and_valid_address() {
    for (verified, valid, expected) in [
        (true, true, true),
        (true, false, false),
        (false, true, false),
    ] {
        let world = start(oauth2_provider(
            ("https://kauth.kakao.com/oauth/authorize", |_| {}),
            ("https://kauth.kakao.com/oauth/token", Auth::Post),
            (
                "https://kapi.kakao.com/v2/user/me",
                "Bearer",
                kakao_user(verified, valid),
            ),
        ))
        .await;
        let kakao = world.client(&toml("kakao", ""), "kakao");
        let p = profile(&world, &kakao).await.unwrap();
        assert_eq!(p.sub.as_deref(), Some("123456789"));
        assert_eq!(p.name.as_deref(), Some("홍길동"));
        assert_eq!(p.email.as_deref(), Some("sample@sample.com"));
        assert_eq!(
            p.email_verified, expected,
            "verified {verified}, valid {valid}"
        );
    }
}

#[tokio::test]
async fn yandex_profile_call_uses_the_oauth_scheme() {
    // Yandex ID docs, "Exchange the token for user information": the JSON example.
    let user = json!({"login": "ivan", "old_social_login": "uid-mmzxrnry", "default_email": "test@yandex.ru",
        "id": "1000034426", "client_id": "4760187d81bc4b7799476b42b5103713",
        "emails": ["test@yandex.ru", "other-test@yandex.ru"], "psuid": "1.AAceCw.tbHgw5DtJ9_zeqPrk-Ba2w.qPWSRC5v2t2IaksPJgnge",
        "default_avatar_id": "131652443", "is_avatar_empty": false,
        "first_name": "Иван", "last_name": "Иванов", "display_name": "Ivan", "real_name": "Иван Иванов", "sex": "male"});
    let world = start(oauth2_provider(
        ("https://oauth.yandex.com/authorize", |_| {}),
        ("https://oauth.yandex.com/token", Auth::Post),
        ("https://login.yandex.ru/info", "OAuth", user),
    ))
    .await;
    let yandex = world.client(&toml("yandex", ""), "yandex");
    let login = world.login(&yandex).await.unwrap();
    let p = Profile::from_claims(&login.userinfo);
    assert_eq!(p.sub.as_deref(), Some("1000034426"));
    assert_eq!(p.name.as_deref(), Some("Иван Иванов"));
    assert_eq!(p.preferred_username.as_deref(), Some("ivan"));
    assert_eq!(p.email.as_deref(), Some("test@yandex.ru"));
    assert!(!p.email_verified);
    assert_eq!(
        p.picture.as_deref(),
        Some("https://avatars.yandex.net/get-yapic/131652443/islands-200")
    );
    assert_eq!(query_at(&world, "/info")["format"], "json");
    // Every API call, not only the profile, carries the scheme.
    let info = yandex
        .get("https://login.yandex.ru/info?format=json", &login.token)
        .await
        .unwrap();
    assert_eq!(info.status, 200);
    assert_eq!(
        world.seen_at("/info")[1].header("authorization"),
        Some(format!("OAuth {TOKEN}").as_str())
    );
}

// ---------------------------------------------------------------------------------------
// Platforms
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn atlassian_asks_for_the_api_audience_and_consent() {
    // Atlassian, "Frequently asked questions", User Identity API example response.
    let me = json!({"account_type": "atlassian", "account_id": "112233aa-bb11-cc22-33dd-445566abcabc",
        "email": "mia@example.com", "name": "Mia Krystof",
        "picture": "https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/112233aa/1234abcd",
        "account_status": "active", "nickname": "mkrystof", "zoneinfo": "Australia/Sydney", "locale": "en-US",
        "extended_profile": {"job_title": "Designer", "organization": "mia@example.com",
            "department": "Design team", "location": "Sydney"}});
    let world = start(oauth2_provider(
        ("https://auth.atlassian.com/authorize", |q| {
            assert_eq!(q["audience"], "api.atlassian.com");
            assert_eq!(q["prompt"], "consent");
            assert_eq!(q["scope"], "read:me offline_access");
        }),
        ("https://auth.atlassian.com/oauth/token", Auth::Post),
        ("https://api.atlassian.com/me", "Bearer", me),
    ))
    .await;
    let client = world.client(
        &toml("atlassian", "preset_options = { offline = true }"),
        "atlassian",
    );
    let p = profile(&world, &client).await.unwrap();
    assert_eq!(
        p.sub.as_deref(),
        Some("112233aa-bb11-cc22-33dd-445566abcabc")
    );
    assert_eq!(p.name.as_deref(), Some("Mia Krystof"));
    assert_eq!(p.preferred_username.as_deref(), Some("mkrystof"));
    assert_eq!(p.email.as_deref(), Some("mia@example.com"));
    assert!(
        !p.email_verified,
        "Atlassian does not say the address is verified"
    );
}

#[tokio::test]
async fn tiktok_names_the_app_client_key_and_unwraps_data_user() {
    // TikTok for Developers, "Get User Info" example response.
    let user = json!({"data": {"user": {"avatar_url": "https://p19-sign.tiktokcdn-us.com/tos-useast5-avt-0068-tx/b17f0e4b3a4f4a50993cf72cda8b88b8~c5_168x168.jpeg",
        "open_id": "723f24d7-e717-40f8-a2b6-cb8464cd23b4", "union_id": "c9c60f44-a68e-4f5d-84dd-ce22faeb0ba1",
        "display_name": "Tik Toker"}}, "error": {"code": "ok", "message": "", "log_id": "20220829194722CBE87ED59D524E727021"}});
    let world = start(oauth2_provider(
        ("https://www.tiktok.com/v2/auth/authorize/", |q| {
            assert_eq!(q["client_key"], CLIENT_ID);
            assert_eq!(q["scope"], "user.info.basic,video.list");
            assert!(!q.contains_key("code_challenge"), "no PKCE for web apps");
        }),
        ("https://open.tiktokapis.com/v2/oauth/token/", Auth::Post),
        ("https://open.tiktokapis.com/v2/user/info/", "Bearer", user),
    ))
    .await;
    let client = world.client(
        &toml(
            "tiktok",
            "client_kwargs = { scope = \"user.info.basic video.list\" }",
        ),
        "tiktok",
    );
    let p = profile(&world, &client).await.unwrap();
    assert_eq!(
        p.sub.as_deref(),
        Some("723f24d7-e717-40f8-a2b6-cb8464cd23b4")
    );
    assert_eq!(p.name.as_deref(), Some("Tik Toker"));
    assert!(p.email.is_none());
    let token = &world.seen_at("/v2/oauth/token/")[0];
    assert_eq!(token.form("client_key").as_deref(), Some(CLIENT_ID));
    assert_eq!(
        query_at(&world, "/v2/auth/authorize/")["scope"],
        "user.info.basic,video.list",
        "comma-separated"
    );
    assert_eq!(
        query_at(&world, "/v2/user/info/")["fields"],
        "open_id,union_id,avatar_url,display_name"
    );
}

#[tokio::test]
async fn pinterest_comma_scopes_basic_auth_and_the_account_id() {
    // Pinterest API v5, "Get user account" example response.
    let account = json!({"account_type": "BUSINESS", "id": "549755885175",
        "profile_image": "https://i.pinimg.com/280x280_RS/42/03/a5/4203a5c8d1e8b3f4.jpg",
        "website_url": "https://www.example.com", "username": "pinterest_user",
        "about": "", "business_name": "Example Co", "board_count": 12, "pin_count": 340,
        "follower_count": 120, "following_count": 80, "monthly_views": 1000});
    let routes = oauth2_provider(
        ("https://www.pinterest.com/oauth/", |q| {
            assert_eq!(q["scope"], "user_accounts:read,pins:read");
        }),
        ("https://api.pinterest.com/v5/oauth/token", Auth::Basic),
        (
            "https://api.pinterest.com/v5/user_account",
            "Bearer",
            account,
        ),
    );
    let world = start(routes).await;
    let client = world.client(
        &toml(
            "pinterest",
            "client_kwargs = { scope = \"user_accounts:read pins:read\" }",
        ),
        "pinterest",
    );
    let p = profile(&world, &client).await.unwrap();
    assert_eq!(p.sub.as_deref(), Some("549755885175"));
    assert_eq!(p.preferred_username.as_deref(), Some("pinterest_user"));
    assert!(p.email.is_none());
}

// ---------------------------------------------------------------------------------------
// VK ID, HubSpot, PayPal
// ---------------------------------------------------------------------------------------

const DEVICE_ID: &str = "device-4d1f-e58a";

/// The S256 challenge of a PKCE verifier (RFC 7636 §4.2).
fn s256(verifier: &str) -> String {
    use base64::Engine as _;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// VK ID at `id.vk.com`, as its API reference describes it: PKCE required, `device_id` on
/// the redirect and wanted back by every token request (code and refresh), refresh tokens
/// that rotate, an ID token beside the tokens, the profile as a form POST.
async fn vk_world() -> World {
    use std::sync::{Arc, Mutex};
    // The login's challenge and state, and the refresh token now valid.
    let challenge: Arc<Mutex<(String, String)>> = Arc::default();
    let current = Arc::new(Mutex::new(String::from("vk-rt-0")));
    let seen = challenge.clone();
    let authorize = get(move |Query(q): Query<HashMap<String, String>>| {
        let seen = seen.clone();
        async move {
            assert_eq!(q["client_id"], CLIENT_ID);
            assert_eq!(q["response_type"], "code");
            assert_eq!(q["code_challenge_method"], "S256");
            assert_eq!(q["scope"], "vkid.personal_info email");
            *seen.lock().unwrap() = (q["code_challenge"].clone(), q["state"].clone());
            // The redirect of "Справочник методов": code, state, device_id, expires_in.
            Redirect::to(&format!(
                "{REDIRECT_URI}?code={CODE}&state={}&device_id={DEVICE_ID}&expires_in=600&type=code_v2",
                q["state"]
            ))
            .into_response()
        }
    });
    let token = post(move |body: String| {
        let (challenge, current) = (challenge.clone(), current.clone());
        async move {
            let f = form(&body);
            let get = |k: &str| f.get(k).map(String::as_str);
            // A public client: no secret anywhere; `device_id` on every grant.
            if get("client_id") != Some(CLIENT_ID) || f.contains_key("client_secret") {
                return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
            }
            if get("device_id") != Some(DEVICE_ID) {
                return (
                    StatusCode::BAD_REQUEST,
                    axum::Json(json!({"error": "invalid_request",
                    "error_description": "device_id is missing or invalid"})),
                )
                    .into_response();
            }
            let (expected_challenge, state) = challenge.lock().unwrap().clone();
            let mut current = current.lock().unwrap();
            let n: u32 = current.trim_start_matches("vk-rt-").parse().unwrap();
            match get("grant_type") {
                Some("authorization_code") => {
                    let verifier = get("code_verifier").unwrap_or_default();
                    if get("code") != Some(CODE)
                        || get("redirect_uri") != Some(REDIRECT_URI)
                        || s256(verifier) != expected_challenge
                        || get("state") != Some(state.as_str())
                    {
                        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
                    }
                }
                Some("refresh_token") if get("refresh_token") == Some(current.as_str()) => {}
                _ => return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant"),
            }
            *current = format!("vk-rt-{}", n + 1);
            // "Справочник методов", the token response: the tokens, an ID token (here
            // one that no key could verify), `user_id`, `state`, `scope`.
            axum::Json(json!({"refresh_token": *current, "access_token": TOKEN,
                "id_token": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl",
                "token_type": "Bearer", "expires_in": 3600, "user_id": 1234567890,
                "state": state, "scope": "vkid.personal_info email"}))
            .into_response()
        }
    });
    // "Обмен токена на информацию о пользователе": the profile for a form with the
    // token and the app's id.
    let user_info = post(|body: String| async move {
        let f = form(&body);
        if f.get("access_token").map(String::as_str) != Some(TOKEN)
            || f.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        {
            return oauth_error(StatusCode::UNAUTHORIZED, "invalid_token");
        }
        axum::Json(json!({"user": {"user_id": "1234567890", "first_name": "Ivan",
            "last_name": "Ivanov", "phone": "79991234567",
            "avatar": "https://pp.userapi.com/60tZWMo4SmwcploUVl9XEt8ufnTTvDUmQ6Bj1g/mmv1pcj63C4.png",
            "email": "ivan_i123@vk.com", "sex": 2, "verified": false, "birthday": "01.01.2000"}}))
        .into_response()
    });
    let router = Router::new()
        .route("/authorize", authorize)
        .route("/oauth2/auth", token)
        .route("/oauth2/user_info", user_info);
    start(vec![("id.vk.com".to_owned(), router)]).await
}

#[tokio::test]
async fn vk_id_sends_the_device_id_back_on_the_code_and_every_refresh() {
    let world = vk_world().await;
    let vk = world.client(&toml("vk-id", ""), "vk-id");
    let login = world.login(&vk).await.unwrap();
    let p = Profile::from_claims(&login.userinfo);
    assert_eq!(p.sub.as_deref(), Some("1234567890"));
    assert_eq!(p.name.as_deref(), Some("Ivan Ivanov"));
    assert_eq!(p.email.as_deref(), Some("ivan_i123@vk.com"));
    assert!(!p.email_verified, "VK's `verified` is the account's");
    let token = login.token.as_oauth2().unwrap();
    assert!(token.id_token.is_none(), "VK's ID token is not used");
    assert_eq!(token.extra["device_id"], DEVICE_ID, "kept for later calls");
    assert_eq!(token.extra["user_id"], 1234567890);
    let code = &world.seen_at("/oauth2/auth")[0];
    assert_eq!(code.form("device_id").as_deref(), Some(DEVICE_ID));
    // The profile call is a form, as VK's docs ask.
    let profile_call = &world.seen_at("/oauth2/user_info")[0];
    assert_eq!(profile_call.method, "POST");
    assert_eq!(profile_call.form("access_token").as_deref(), Some(TOKEN));
    // Two refreshes: each sends the login's device_id and the latest refresh token.
    let first = vk.refresh_token(token).await.unwrap();
    assert_eq!(first.refresh_token.as_ref().unwrap().expose(), "vk-rt-2");
    assert_eq!(first.extra["device_id"], DEVICE_ID);
    assert!(first.id_token.is_none());
    let second = vk.refresh_token(&first).await.unwrap();
    assert_eq!(second.refresh_token.as_ref().unwrap().expose(), "vk-rt-3");
    let refreshes = world.seen_at("/oauth2/auth");
    assert_eq!(refreshes.len(), 3);
    for call in &refreshes[1..] {
        assert_eq!(call.form("grant_type").as_deref(), Some("refresh_token"));
        assert_eq!(call.form("device_id").as_deref(), Some(DEVICE_ID));
    }
}

/// HubSpot's token endpoint and token introspection (both v3), with HubSpot's error body
/// for a spent code.
async fn hubspot_world() -> World {
    let app = Router::new().route(
        "/oauth/authorize",
        approve(|q| assert!(q["scope"].starts_with("oauth"), "HubSpot's minimum scope")),
    );
    let api = Router::new()
        .route(
            "/oauth/v3/token",
            post(|body: String| async move {
                let f = form(&body);
                if f.get("client_id").map(String::as_str) != Some(CLIENT_ID)
                    || f.get("client_secret").map(String::as_str) != Some(SECRET)
                {
                    return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
                }
                // A token the introspection does not know: revoked between the two calls.
                let token = match f.get("code").map(String::as_str) {
                    Some(CODE) => TOKEN,
                    Some("code-of-a-revoked-token") => "revoked-token",
                    _ => "",
                };
                if token.is_empty() {
                    // "Create OAuth token" (v3), the error response's fields.
                    return (
                        StatusCode::BAD_REQUEST,
                        axum::Json(json!({
                        "category": "VALIDATION_ERROR", "subCategory": "INVALID_TOKEN",
                        "message": "missing or unknown auth code",
                        "correlationId": "aeb5f871-7f07-4993-9211-075dc63e7cbf"})),
                    )
                        .into_response();
                }
                axum::Json(json!({"token_type": "bearer", "refresh_token": "hs-rt-1",
                    "access_token": token, "expires_in": 1800}))
                .into_response()
            }),
        )
        .route(
            "/oauth/v3/token/introspect",
            post(|body: String| async move {
                let f = form(&body);
                if f.get("client_id").map(String::as_str) != Some(CLIENT_ID)
                    || f.get("client_secret").map(String::as_str) != Some(SECRET)
                {
                    return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
                }
                if f.get("token").map(String::as_str) != Some(TOKEN) {
                    // RFC 7662 §2.2: an unknown token is `{"active": false}`, nothing else.
                    return axum::Json(json!({"active": false})).into_response();
                }
                // "Token introspection endpoint" (v3), the response's fields.
                axum::Json(json!({"token_use": "access_token", "active": true,
                    "token": TOKEN, "user": "maria@example.com",
                    "hub_domain": "demo-acme.hubspot.com", "client_id": CLIENT_ID,
                    "scopes": ["oauth", "crm.objects.contacts.read"], "hub_id": 62515,
                    "app_id": 456789, "expires_in": 1754, "user_id": 123456,
                    "is_private_distribution": false, "token_type": "bearer"}))
                .into_response()
            }),
        );
    start(vec![
        ("app.hubspot.com".to_owned(), app),
        ("api.hubapi.com".to_owned(), api),
    ])
    .await
}

#[tokio::test]
async fn hubspot_identity_is_the_access_tokens_metadata() {
    let world = hubspot_world().await;
    let hubspot = world.client(
        &toml(
            "hubspot",
            "client_kwargs = { scope = \"oauth crm.objects.contacts.read\" }",
        ),
        "hubspot",
    );
    let login = world.login(&hubspot).await.unwrap();
    assert_eq!(
        query_at(&world, "/oauth/authorize")["scope"],
        "oauth crm.objects.contacts.read"
    );
    let p = Profile::from_claims(&login.userinfo);
    assert_eq!(p.sub.as_deref(), Some("123456"));
    assert_eq!(p.email.as_deref(), Some("maria@example.com"));
    assert!(!p.email_verified);
    assert_eq!(login.userinfo["hub_id"], 62515);
    let metadata = &world.seen_at("/oauth/v3/token/introspect")[0];
    assert_eq!(metadata.method, "POST");
    assert_eq!(metadata.form("token").as_deref(), Some(TOKEN));
    assert_eq!(
        metadata.form("token_type_hint").as_deref(),
        Some("access_token")
    );
    // Nothing deprecated is called: v1 put the token in the URL.
    assert!(
        world
            .seen_at(&format!("/oauth/v1/access-tokens/{TOKEN}"))
            .is_empty()
    );
}

#[tokio::test]
async fn hubspot_refuses_the_metadata_of_a_token_that_is_not_active() {
    let world = hubspot_world().await;
    let hubspot = world.client(&toml("hubspot", ""), "hubspot");
    let error = world::login_with_code(&world, &hubspot, "code-of-a-revoked-token")
        .await
        .unwrap_err();
    assert_eq!(error.code(), "invalid_userinfo", "{error}");
    assert!(
        error.to_string().contains("not say the token is active"),
        "{error}"
    );
    assert_eq!(world.seen_at("/oauth/v3/token/introspect").len(), 1);
}

#[tokio::test]
async fn hubspot_errors_need_the_presets_hook() {
    let world = hubspot_world().await;
    let hubspot = world.client(&toml("hubspot", ""), "hubspot");
    let error = world::login_with_code(&world, &hubspot, "spent-code")
        .await
        .unwrap_err();
    assert_eq!(error.code(), "invalid_grant", "{error}");
    assert!(error.to_string().contains("unknown auth code"), "{error}");
    // The same provider without the preset's hook: HubSpot's body is no RFC 6749 error.
    let bare = world.client(
        &toml(
            "bare",
            "preset = \"none\"\nauthorize_url = \"https://app.hubspot.com/oauth/authorize\"\n\
             access_token_url = \"https://api.hubapi.com/oauth/v3/token\"\n\
             client_kwargs = { scope = \"oauth\", token_endpoint_auth_method = \"client_secret_post\" }",
        ),
        "bare",
    );
    let error = world::login_with_code(&world, &bare, "spent-code")
        .await
        .unwrap_err();
    assert_ne!(error.code(), "invalid_grant", "{error}");
}

#[tokio::test]
async fn paypal_identity_from_the_paypalv1_1_profile_without_its_id_token() {
    // Identity API v1, "Show user profile details" with `schema=paypalv1.1`.
    let user = json!({"user_id": "https://www.paypal.com/webapps/auth/identity/user/mWq6_1sU85v5EG9yHdPxJRrhGHrnMJ-1PQKtX6pcsmA",
        "name": "identity test", "given_name": "identity", "family_name": "test",
        "payer_id": "WDJJHEBZ4X2LY", "verified_account": "true",
        "address": {"street_address": "1 Main St", "locality": "San Jose", "region": "CA",
            "postal_code": "95131", "country": "US"},
        "emails": [{"value": "user1@example.com", "primary": true, "confirmed": true}]});
    let authorize = Router::new().route(
        "/signin/authorize",
        approve(|q| {
            assert_eq!(q["flowEntry"], "static");
            assert_eq!(q["scope"], "openid profile email");
        }),
    );
    // PayPal's token response names `openid` and may carry an ID token no key verifies.
    let token = post(|headers: HeaderMap, body: String| async move {
        use base64::Engine as _;
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{SECRET}"))
        );
        let header = headers
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok());
        if header != Some(basic.as_str())
            || form(&body).get("code").map(String::as_str) != Some(CODE)
        {
            return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
        }
        axum::Json(
            json!({"scope": "openid profile email", "access_token": TOKEN,
            "token_type": "Bearer", "expires_in": "28800", "refresh_token": "pp-rt-1",
            "nonce": "2024-01-01T00:00:00Zabc", "id_token": "not.a.jwt"}),
        )
        .into_response()
    });
    let userinfo = get(move |headers: HeaderMap| {
        let user = user.clone();
        async move {
            let bearer = format!("Bearer {TOKEN}");
            if headers
                .get(header::AUTHORIZATION)
                .and_then(|h| h.to_str().ok())
                != Some(bearer.as_str())
            {
                return StatusCode::UNAUTHORIZED.into_response();
            }
            axum::Json(user).into_response()
        }
    });
    let api = Router::new()
        .route("/v1/oauth2/token", token)
        .route("/v1/identity/oauth2/userinfo", userinfo);
    let routes = vec![
        ("www.paypal.com".to_owned(), authorize),
        ("api-m.paypal.com".to_owned(), api),
    ];
    let world = start(routes).await;
    let paypal = world.client(&toml("paypal", ""), "paypal");
    let login = world.login(&paypal).await.unwrap();
    let p = Profile::from_claims(&login.userinfo);
    assert_eq!(
        p.sub.as_deref(),
        Some(
            "https://www.paypal.com/webapps/auth/identity/user/mWq6_1sU85v5EG9yHdPxJRrhGHrnMJ-1PQKtX6pcsmA"
        )
    );
    assert_eq!(p.name.as_deref(), Some("identity test"));
    assert_eq!(p.email.as_deref(), Some("user1@example.com"));
    assert!(p.email_verified, "primary and confirmed");
    assert_eq!(login.userinfo["payer_id"], "WDJJHEBZ4X2LY");
    assert!(login.token.as_oauth2().unwrap().id_token.is_none());
    assert_eq!(
        query_at(&world, "/v1/identity/oauth2/userinfo")["schema"],
        "paypalv1.1"
    );
}

// ---------------------------------------------------------------------------------------
// The catalogue
// ---------------------------------------------------------------------------------------

#[test]
fn the_unknown_preset_error_lists_every_preset() {
    let e = settings_error("[clients.x]\npreset = \"no-such-provider\"\nclient_id = \"a\"\n");
    let known = e.split("known presets: ").nth(1).expect(&e);
    let names: Vec<&str> = known.split(", ").map(str::trim).collect();
    assert_eq!(names.len(), ferroauth::presets::all().len());
    assert!(names.len() >= 57, "{} presets", names.len());
    for name in [
        "authentik",
        "zitadel",
        "authelia",
        "kanidm",
        "dex",
        "ory-hydra",
        "fusionauth",
        "casdoor",
        "gitea",
        "cognito",
        "azure-ad-b2c",
        "pingone",
        "onelogin",
        "workos",
        "line",
        "kakao",
        "naver",
        "yandex",
        "atlassian",
        "tiktok",
        "pinterest",
        "vk-id",
        "hubspot",
        "paypal",
        "mastodon",
    ] {
        assert!(names.contains(&name), "{name} missing from: {known}");
    }
}
