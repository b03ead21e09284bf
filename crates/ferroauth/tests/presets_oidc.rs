//! The OpenID Connect presets against local providers on their real host names (see
//! `presets/world.rs` and `presets/oidc_fixture.rs`): discovery, keys, ID tokens and the
//! token endpoint's rules as each provider has them, then the normalized profile and the
//! provider's quirk.

#[path = "presets/oidc_fixture.rs"]
mod oidc_fixture;
#[path = "presets/refresh_ops.rs"]
mod refresh_ops;
#[path = "presets/world.rs"]
mod world;

use std::collections::HashMap;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use ferroauth::session::pending::MemoryPendingStore;
use ferroauth::{CallbackParams, OAuthClient, Profile};
use oidc_fixture::{
    CLIENT_ID, ClientAuth, Op, Pkce, SECRET, SPENT_REFRESH_TOKEN, SUB, toml, world,
};
use refresh_ops::{
    SF_ID, gitlab_op, gitlab_refreshing, google_op, google_refreshing, salesforce_op,
    salesforce_refreshing, salesforce_sign,
};
use serde_json::{Value, json};
use world::{World, settings_error};

async fn profile(world: &World, client: &OAuthClient) -> Result<Profile, ferroauth::Error> {
    world
        .login(client)
        .await
        .map(|login| Profile::from_claims(&login.userinfo))
}

/// The query of the (last) authorization request the provider saw at `path`.
fn authorize_query(world: &World, path: &str) -> HashMap<String, String> {
    let seen = world.seen_at(path);
    let last = seen.last().expect("an authorization request");
    let query = last.path_and_query.split_once('?').map_or("", |(_, q)| q);
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

// ---------------------------------------------------------------------------------------
// Google

#[tokio::test]
async fn google_accepts_both_issuer_spellings_and_nothing_else() {
    let op = google_op();
    let world = world(&[&op], vec![]).await;
    let google = world.client(
        &toml("google", "preset_options = { offline = true }"),
        "google",
    );
    let p = profile(&world, &google).await.unwrap();
    assert_eq!(p.sub.as_deref(), Some("110169484474386276334"));
    assert_eq!(p.email.as_deref(), Some("jane@example.com"));
    assert!(p.email_verified);
    assert_eq!(p.name.as_deref(), Some("Jane Doe"));
    assert!(p.picture.is_some());
    let q = authorize_query(&world, "/o/oauth2/v2/auth");
    assert_eq!(q["access_type"], "offline");
    assert_eq!(q["prompt"], "consent");
    assert!(!q.contains_key("hd"));

    // Google's older spelling, without the scheme.
    op.set_id_claims(
        json!({"iss": "accounts.google.com", "email_verified": false, "name": "J",
        "email": "jane@example.com"}),
    );
    let p = profile(&world, &google).await.unwrap();
    assert_eq!(p.sub.as_deref(), Some(SUB));
    assert!(!p.email_verified);

    op.set_id_claims(json!({"iss": "https://accounts.google.com.evil.example"}));
    let e = profile(&world, &google).await.unwrap_err();
    assert_eq!(e.code(), "invalid_id_token", "{e}");
}

#[tokio::test]
async fn google_hosted_domain_is_checked_on_the_id_token() {
    let op = google_op();
    let world = world(&[&op], vec![]).await;
    let google = world.client(
        &toml(
            "google",
            "preset_options = { hosted_domain = \"example.com\" }",
        ),
        "google",
    );
    op.set_id_claims(json!({"hd": "example.com", "email": "jane@example.com",
        "email_verified": true, "name": "Jane"}));
    let p = profile(&world, &google).await.unwrap();
    assert_eq!(p.raw["hd"], "example.com");
    assert_eq!(
        authorize_query(&world, "/o/oauth2/v2/auth")["hd"],
        "example.com"
    );
    assert!(!authorize_query(&world, "/o/oauth2/v2/auth").contains_key("access_type"));

    // The `hd` parameter is only a hint: an account of another domain still comes back.
    op.set_id_claims(json!({"hd": "other.example", "email": "x@other.example", "name": "X"}));
    let e = profile(&world, &google).await.unwrap_err();
    assert_eq!(e.code(), "hosted_domain_mismatch", "{e}");
    assert_eq!(e.kind().http_status(), 400);
    // A consumer account has no `hd` at all.
    op.set_id_claims(json!({"email": "x@gmail.com", "name": "X"}));
    let e = profile(&world, &google).await.unwrap_err();
    assert_eq!(e.code(), "hosted_domain_mismatch", "{e}");
}

// ---------------------------------------------------------------------------------------
// Microsoft Entra ID

const TENANT_1: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const TENANT_2: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";

fn entra_issuer(tid: &str) -> String {
    format!("https://login.microsoftonline.com/{tid}/v2.0")
}

fn microsoft_op() -> Op {
    let mut op = Op::new(
        "https://login.microsoftonline.com/common/v2.0",
        CLIENT_ID,
        SECRET,
    );
    op.metadata_issuer = Some("https://login.microsoftonline.com/{tenantid}/v2.0".into());
    op.authorization_endpoint =
        "https://login.microsoftonline.com/common/oauth2/v2.0/authorize".into();
    op.token_endpoint = "https://login.microsoftonline.com/common/oauth2/v2.0/token".into();
    op.jwks_uri = "https://login.microsoftonline.com/common/discovery/v2.0/keys".into();
    op.userinfo_endpoint = Some("https://graph.microsoft.com/oidc/userinfo".into());
    op.metadata_extra = json!({
        "token_endpoint_auth_methods_supported":
            ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "tenant_region_scope": null,
    });
    // Graph's userinfo: the pairwise `sub`, the address, no tenant.
    op.userinfo = Some(json!({
        "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
        "name": "Megan Bowen", "email": "megan@contoso.example",
        "picture": "https://graph.microsoft.com/v1.0/me/photo/$value"
    }));
    op
}

/// An Entra ID token's claims for a user of tenant `tid`, issued by `iss`'s tenant.
fn entra_claims(tid: &str, iss: &str) -> Value {
    json!({
        "iss": entra_issuer(iss), "tid": tid,
        "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
        "oid": "00000000-0000-0000-66f3-3332eca7ea81",
        "name": "Megan Bowen", "preferred_username": "megan@contoso.example",
        "ver": "2.0"
    })
}

#[tokio::test]
async fn microsoft_tokens_name_their_own_tenant_and_only_allowed_tenants_log_in() {
    let op = microsoft_op();
    let world = world(&[&op], vec![]).await;
    let microsoft = world.client(
        &toml(
            "microsoft",
            &format!("preset_options = {{ allowed_tenants = [\"{TENANT_1}\"] }}"),
        ),
        "microsoft",
    );
    // The `common` metadata names the `{tenantid}` template, which discovery accepts.
    op.set_id_claims(entra_claims(TENANT_1, TENANT_1));
    let login = world.login(&microsoft).await.unwrap();
    let p = Profile::from_claims(&login.userinfo);
    assert_eq!(
        p.sub.as_deref(),
        Some(format!("{TENANT_1}:00000000-0000-0000-66f3-3332eca7ea81").as_str()),
        "keyed on tenant and object id"
    );
    // The ID token had no address: userinfo was merged (its `sub` matched the ID token's
    // before the profile was keyed), and the address is not vouched for.
    assert_eq!(world.seen_at("/oidc/userinfo").len(), 1);
    assert_eq!(p.email.as_deref(), Some("megan@contoso.example"));
    assert!(!p.email_verified);
    assert_eq!(p.raw["tid"], TENANT_1);
    assert!(world.seen_at("/common/oauth2/v2.0/authorize").len() == 1);

    // Another tenant's user, with a token rightly naming that tenant: not allowed.
    op.set_id_claims(entra_claims(TENANT_2, TENANT_2));
    let e = world.login(&microsoft).await.unwrap_err();
    assert_eq!(e.code(), "tenant_not_allowed", "{e}");

    // A token whose `iss` names another tenant than its `tid`.
    op.set_id_claims(entra_claims(TENANT_1, TENANT_2));
    let e = world.login(&microsoft).await.unwrap_err();
    assert_eq!(e.code(), "invalid_id_token", "{e}");
    // No `tid`: no issuer to check against.
    let mut no_tid = entra_claims(TENANT_1, TENANT_1);
    no_tid.as_object_mut().unwrap().remove("tid");
    op.set_id_claims(no_tid);
    let e = world.login(&microsoft).await.unwrap_err();
    assert_eq!(e.code(), "invalid_id_token", "{e}");
}

#[tokio::test]
async fn microsoft_any_tenant_and_verified_domains() {
    let op = microsoft_op();
    let world = world(&[&op], vec![]).await;
    let microsoft = world.client(&toml("microsoft", ""), "microsoft");
    let mut claims = entra_claims(TENANT_2, TENANT_2);
    claims["email"] = json!("megan@contoso.example");
    claims["xms_edov"] = json!(true);
    op.set_id_claims(claims);
    let p = profile(&world, &microsoft).await.unwrap();
    assert!(p.sub.unwrap().starts_with(TENANT_2));
    assert!(
        p.email_verified,
        "the tenant's domain is verified (xms_edov)"
    );
    assert!(
        world.seen_at("/oidc/userinfo").is_empty(),
        "the ID token had it all"
    );
}

#[tokio::test]
async fn microsoft_single_tenant_metadata_names_the_tenant() {
    let mut op = microsoft_op();
    // A tenant's own metadata names its own issuer, not the template.
    let base = format!("https://login.microsoftonline.com/{TENANT_1}");
    op.metadata_issuer = Some(entra_issuer(TENANT_1));
    op.discovery_url = format!("{base}/v2.0/.well-known/openid-configuration");
    op.authorization_endpoint = format!("{base}/oauth2/v2.0/authorize");
    op.token_endpoint = format!("{base}/oauth2/v2.0/token");
    op.jwks_uri = format!("{base}/discovery/v2.0/keys");
    let world = world(&[&op], vec![]).await;
    let microsoft = world.client(
        &toml(
            "microsoft",
            &format!("preset_options = {{ tenant = \"{TENANT_1}\" }}"),
        ),
        "microsoft",
    );
    op.set_id_claims(entra_claims(TENANT_1, TENANT_1));
    let p = profile(&world, &microsoft).await.unwrap();
    assert!(p.sub.unwrap().starts_with(TENANT_1));
    // Another tenant's user, even with a token consistent in itself, is not this
    // tenant's: its issuer is not this client's.
    op.set_id_claims(entra_claims(TENANT_2, TENANT_2));
    let e = profile(&world, &microsoft).await.unwrap_err();
    assert_eq!(e.code(), "invalid_id_token", "{e}");
    let e = settings_error(
        "[clients.microsoft]\nclient_id = \"a\"\npreset_options = { tenant = \"../evil\" }\n",
    );
    assert!(e.contains("preset_options.tenant"), "{e}");
}

/// A browser session in memory, for the web flows (`POST /refresh/{name}`).
#[derive(Default)]
struct MemorySession(std::sync::Mutex<std::collections::BTreeMap<String, String>>);

impl ferroauth::session::Session for MemorySession {
    async fn get(&self, key: &str) -> Result<Option<String>, ferroauth::Error> {
        Ok(self.0.lock().unwrap().get(key).cloned())
    }
    async fn insert(&self, key: &str, json: String) -> Result<(), ferroauth::Error> {
        self.0.lock().unwrap().insert(key.to_owned(), json);
        Ok(())
    }
    async fn remove(&self, key: &str) -> Result<(), ferroauth::Error> {
        self.0.lock().unwrap().remove(key);
        Ok(())
    }
    async fn renew(&self) -> Result<(), ferroauth::Error> {
        Ok(())
    }
    async fn clear(&self) -> Result<(), ferroauth::Error> {
        self.0.lock().unwrap().clear();
        Ok(())
    }
    fn is_present(&self) -> bool {
        true
    }
}

/// The Entra user's identity as the preset keys it.
fn entra_identity(tid: &str) -> String {
    format!("{tid}:00000000-0000-0000-66f3-3332eca7ea81")
}

/// A Microsoft provider that answers refresh requests, a world, its client, and a session
/// holding a login whose ID token has `claims`.
async fn microsoft_logged_in(claims: Value) -> (Op, World, OAuthClient, MemorySession) {
    let mut op = microsoft_op();
    op.refresh = true;
    let world = world(&[&op], vec![]).await;
    let microsoft = world.client(&toml("microsoft", ""), "microsoft");
    op.set_id_claims(claims);
    let login = world.login(&microsoft).await.unwrap();
    let session = MemorySession::default();
    ferroauth::session::save_login(&session, &login)
        .await
        .unwrap();
    (op, world, microsoft, session)
}

/// The claims the session keeps for the Microsoft login.
async fn kept_claims(session: &MemorySession) -> ferroauth::Claims {
    ferroauth::session::accounts(session)
        .await
        .unwrap()
        .remove("microsoft")
        .unwrap()
}

/// The refresh token the session keeps for the Microsoft login.
async fn kept_refresh_token(session: &MemorySession) -> Option<String> {
    kept_refresh_token_of(session, "microsoft").await
}

/// The refresh token the session keeps for the login with `client`.
async fn kept_refresh_token_of(session: &MemorySession, client: &str) -> Option<String> {
    use ferroauth::session::tokens::TokenStore as _;
    let token = ferroauth::session::SessionTokens(session)
        .load(client)
        .await
        .unwrap()?;
    let t = token.as_oauth2().unwrap();
    Some(t.refresh_token.as_ref().unwrap().expose().to_owned())
}

#[tokio::test]
async fn microsoft_refresh_does_not_vouch_for_a_changed_address() {
    let mut claims = entra_claims(TENANT_1, TENANT_1);
    claims["email"] = json!("megan@contoso.example");
    claims["xms_edov"] = json!(true);
    let (op, world, microsoft, session) = microsoft_logged_in(claims).await;
    let before = Profile::from_claims(&kept_claims(&session).await);
    assert!(before.email_verified, "the login's address is vouched for");
    let first_refresh_token = kept_refresh_token(&session).await.unwrap();

    // nOAuth: the tenant's admin sets the user's `mail` to someone else's address; the
    // refreshed ID token has no address (an optional claim), Graph has the new one.
    op.set_id_claims(entra_claims(TENANT_1, TENANT_1));
    op.set_userinfo(json!({
        "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
        "name": "Megan Bowen", "email": "ceo@victim.example"
    }));
    let (_, claims) = ferroauth::web::flows::refresh(&microsoft, &session)
        .await
        .unwrap();
    let p = Profile::from_claims(&claims);
    assert_eq!(p.email.as_deref(), Some("ceo@victim.example"));
    assert!(
        !p.email_verified,
        "the login's xms_edov vouched for a new address"
    );
    assert_eq!(p.sub.as_deref(), Some(entra_identity(TENANT_1).as_str()));
    assert_eq!(
        claims,
        kept_claims(&session).await,
        "the session keeps them"
    );
    assert_eq!(world.seen_at("/oidc/userinfo").len(), 1);

    // The refresh token rotated and the new one was kept: a second refresh works.
    let second_refresh_token = kept_refresh_token(&session).await.unwrap();
    assert_ne!(first_refresh_token, second_refresh_token);
    let (_, claims) = ferroauth::web::flows::refresh(&microsoft, &session)
        .await
        .unwrap();
    assert!(!Profile::from_claims(&claims).email_verified);
    assert_eq!(claims["sub"], entra_identity(TENANT_1).as_str());
}

#[tokio::test]
async fn microsoft_refresh_refuses_userinfo_of_another_subject() {
    // No address in the ID token: the login read it from Graph, whose `sub` matched.
    let (op, world, microsoft, session) =
        microsoft_logged_in(entra_claims(TENANT_1, TENANT_1)).await;
    assert_eq!(world.seen_at("/oidc/userinfo").len(), 1);
    op.set_userinfo(json!({
        "sub": "AAAAAAAAAAAAAAAAAAAAAOtherUserOtherUser0", "name": "Mallory",
        "email": "mallory@contoso.example"
    }));
    let e = ferroauth::web::flows::refresh(&microsoft, &session)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "userinfo_sub_mismatch", "{e}");
    let kept = kept_claims(&session).await;
    assert_eq!(kept["sub"], entra_identity(TENANT_1).as_str());
    assert_eq!(kept["email"], "megan@contoso.example");
    assert_eq!(
        kept_refresh_token(&session).await,
        None,
        "a token answering for another user is not kept"
    );
}

#[tokio::test]
async fn microsoft_refreshed_id_token_keeps_the_logins_authentication() {
    let mut login_claims = entra_claims(TENANT_1, TENANT_1);
    login_claims["auth_time"] = json!(1_700_000_000);
    let (op, world, microsoft, session) = microsoft_logged_in(login_claims.clone()).await;
    // OpenID Connect Core §12.2: `auth_time` and a nonce, if any, are the login's, and an
    // `azp` is there only if the login's had one.
    let changes = [
        ("auth_time", json!(1_700_000_600)),
        ("nonce", json!("another-login")),
        ("azp", json!(CLIENT_ID)),
    ];
    for (i, (claim, value)) in changes.into_iter().enumerate() {
        if i > 0 {
            // The refused refresh spent the refresh token: log in again.
            op.set_id_claims(login_claims.clone());
            let login = world.login(&microsoft).await.unwrap();
            ferroauth::session::save_login(&session, &login)
                .await
                .unwrap();
        }
        let mut refreshed = login_claims.clone();
        refreshed[claim] = value;
        op.set_id_claims(refreshed);
        let e = ferroauth::web::flows::refresh(&microsoft, &session)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "invalid_id_token", "{claim}: {e}");
    }
    // The same authentication refreshes, without a nonce.
    op.set_id_claims(login_claims.clone());
    let login = world.login(&microsoft).await.unwrap();
    ferroauth::session::save_login(&session, &login)
        .await
        .unwrap();
    let (_, kept) = ferroauth::web::flows::refresh(&microsoft, &session)
        .await
        .unwrap();
    assert_eq!(kept["sub"], entra_identity(TENANT_1).as_str());
}

// ---------------------------------------------------------------------------------------
// Apple

#[tokio::test]
async fn apple_form_post_jwt_secret_and_first_login_name() {
    let (pem, public_key) = oidc_fixture::p256_key();
    let mut op = Op::new("https://appleid.apple.com", "com.example.web", "");
    op.authorization_endpoint = "https://appleid.apple.com/auth/authorize".into();
    op.token_endpoint = "https://appleid.apple.com/auth/token".into();
    op.jwks_uri = "https://appleid.apple.com/auth/keys".into();
    op.userinfo_endpoint = None;
    op.metadata_extra = json!({
        "response_modes_supported": ["query", "fragment", "form_post"],
        "token_endpoint_auth_methods_supported": ["client_secret_post"],
        "scopes_supported": ["openid", "email", "name"],
    });
    op.auth = ClientAuth::AppleJwt {
        public_key,
        team_id: "TEAM123456".into(),
        key_id: "KEY987654".into(),
    };
    op.form_post_user = Some(
        json!({"name": {"firstName": "Jane", "lastName": "Appleseed"},
               "email": "forged@example.com"})
        .to_string(),
    );
    op.check_authorize = |q| {
        assert_eq!(q["scope"], "openid name email");
        assert_eq!(
            q["response_mode"], "form_post",
            "Apple refuses a query response"
        );
    };
    op.set_id_claims(json!({
        "sub": "001234.abcdef.1234", "email": "x7@privaterelay.appleid.com",
        "email_verified": "true", "is_private_email": "true"
    }));
    let world = world(&[&op], vec![]).await;
    let apple = world.client(
        &format!(
            "[clients.apple]\nclient_id = \"com.example.web\"\n[clients.apple.preset_options]\nteam_id = \"TEAM123456\"\nkey_id = \"KEY987654\"\nprivate_key = \"\"\"\n{pem}\"\"\"\n"
        ),
        "apple",
    );
    let session = MemoryPendingStore::new();
    let url = apple
        .authorize_redirect(&session, world::REDIRECT_URI)
        .await
        .unwrap();
    let page = world.browse(url.as_str()).await;
    assert_eq!(
        page.status(),
        200,
        "the browser is made to POST the response"
    );
    let body = oidc_fixture::form_fields(&page.text().await.unwrap());
    let callback = CallbackParams::parse(&body).unwrap();
    assert!(callback.get("user").is_some());
    let login = apple
        .authorize_access_token(&session, &callback)
        .await
        .unwrap();
    let p = Profile::from_claims(&login.userinfo);
    assert_eq!(p.sub.as_deref(), Some("001234.abcdef.1234"));
    assert_eq!(
        p.name.as_deref(),
        Some("Jane Appleseed"),
        "from the `user` field"
    );
    assert_eq!(p.email.as_deref(), Some("x7@privaterelay.appleid.com"));
    assert!(p.email_verified, "Apple's string \"true\"");
    // The fixture verified the ES256 secret with the public key; it went in the body.
    let token_call = &world.seen_at("/auth/token")[0];
    assert!(token_call.header("authorization").is_none());
    assert_eq!(
        token_call.form("client_secret").unwrap().split('.').count(),
        3
    );

    // A later login: Apple sends no `user`, and the profile has no name.
    let session = MemoryPendingStore::new();
    let url = apple
        .authorize_redirect(&session, world::REDIRECT_URI)
        .await
        .unwrap();
    let body = oidc_fixture::form_fields(&world.browse(url.as_str()).await.text().await.unwrap());
    let mut callback = CallbackParams::parse(&body).unwrap();
    callback.remove("user");
    let login = apple
        .authorize_access_token(&session, &callback)
        .await
        .unwrap();
    assert_eq!(Profile::from_claims(&login.userinfo).name, None);
}

// ---------------------------------------------------------------------------------------
// LinkedIn

fn linkedin_op() -> Op {
    let mut op = Op::new("https://www.linkedin.com/oauth", CLIENT_ID, SECRET);
    op.authorization_endpoint = "https://www.linkedin.com/oauth/v2/authorization".into();
    op.token_endpoint = "https://www.linkedin.com/oauth/v2/accessToken".into();
    op.userinfo_endpoint = Some("https://api.linkedin.com/v2/userinfo".into());
    op.jwks_uri = "https://www.linkedin.com/oauth/openid/jwks".into();
    op.auth = ClientAuth::Post;
    op.pkce = Pkce::Refused;
    op.nonce_in_token = false;
    op.set_id_claims(json!({
        "sub": "782bbtaQ", "name": "Jane Doe", "given_name": "Jane", "family_name": "Doe",
        "picture": "https://media.licdn.com/jane", "email": "jane@example.com",
        "email_verified": true, "locale": "en-US"
    }));
    op
}

#[tokio::test]
async fn linkedin_without_nonce_and_pkce() {
    let op = linkedin_op();
    let world = world(&[&op], vec![]).await;
    let linkedin = world.client(&toml("linkedin", ""), "linkedin");
    let p = profile(&world, &linkedin).await.unwrap();
    assert_eq!(p.sub.as_deref(), Some("782bbtaQ"));
    assert!(p.email_verified);
    let q = authorize_query(&world, "/oauth/v2/authorization");
    assert!(!q.contains_key("nonce") && !q.contains_key("code_challenge"));
    let token = &world.seen_at("/oauth/v2/accessToken")[0];
    assert_eq!(token.form("client_secret").as_deref(), Some(SECRET));

    // Without the preset's exceptions LinkedIn's answers are refused: a nonce the ID
    // token never carries, and a verifier LinkedIn rejects.
    let strict = world.client(
        &toml(
            "linkedin",
            "client_kwargs = { check_nonce = true, code_challenge_method = \"none\" }",
        ),
        "linkedin",
    );
    let e = profile(&world, &strict).await.unwrap_err();
    assert_eq!(e.code(), "invalid_id_token", "{e}");
    assert!(e.to_string().contains("nonce"), "{e}");
    let pkce = world.client(
        &toml(
            "linkedin",
            "client_kwargs = { code_challenge_method = \"S256\" }",
        ),
        "linkedin",
    );
    let e = profile(&world, &pkce).await.unwrap_err();
    assert_eq!(e.code(), "invalid_client", "{e}");
}

// ---------------------------------------------------------------------------------------
// Auth0, Okta, Keycloak, GitLab

#[tokio::test]
async fn auth0_issuer_with_a_trailing_slash_and_audience() {
    let mut op = Op::new("https://dev-abc.us.auth0.com/", CLIENT_ID, SECRET);
    op.token_endpoint = "https://dev-abc.us.auth0.com/oauth/token".into();
    op.jwks_uri = "https://dev-abc.us.auth0.com/.well-known/jwks.json".into();
    op.check_authorize = |q| assert_eq!(q["audience"], "https://api.example.com");
    op.set_id_claims(json!({"sub": "auth0|65f1", "email": "a@example.com",
        "email_verified": false, "nickname": "a", "name": "a@example.com"}));
    let world = world(&[&op], vec![]).await;
    let auth0 = world.client(
        &toml(
            "auth0",
            "preset_options = { domain = \"dev-abc.us.auth0.com\", audience = \"https://api.example.com\" }",
        ),
        "auth0",
    );
    let p = profile(&world, &auth0).await.unwrap();
    assert_eq!(p.sub.as_deref(), Some("auth0|65f1"));
    assert!(!p.email_verified);
    // The ID token's `iss` is the slash-terminated issuer, compared exactly.
    let issued = op.issued();
    let payload = issued[0].split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["iss"], "https://dev-abc.us.auth0.com/");
    op.set_id_claims(json!({"iss": "https://dev-abc.us.auth0.com"}));
    let e = profile(&world, &auth0).await.unwrap_err();
    assert_eq!(e.code(), "invalid_id_token", "exact comparison: {e}");
    let missing = settings_error("[clients.auth0]\nclient_id = \"a\"\n");
    assert!(missing.contains("preset_options.domain"), "{missing}");
}

#[tokio::test]
async fn okta_custom_authorization_server() {
    let mut op = Op::new("https://acme.okta.com/oauth2/default", CLIENT_ID, SECRET);
    op.authorization_endpoint = "https://acme.okta.com/oauth2/default/v1/authorize".into();
    op.token_endpoint = "https://acme.okta.com/oauth2/default/v1/token".into();
    op.userinfo_endpoint = Some("https://acme.okta.com/oauth2/default/v1/userinfo".into());
    op.jwks_uri = "https://acme.okta.com/oauth2/default/v1/keys".into();
    op.set_id_claims(json!({"sub": "00uid4BxXw6I6TV4m0g3", "name": "John Doe",
        "preferred_username": "john@acme.example", "email": "john@acme.example",
        "email_verified": true}));
    let world = world(&[&op], vec![]).await;
    let okta = world.client(
        &toml(
            "okta",
            "preset_options = { domain = \"https://acme.okta.com/\", authorization_server = \"default\" }",
        ),
        "okta",
    );
    let p = profile(&world, &okta).await.unwrap();
    assert_eq!(p.sub.as_deref(), Some("00uid4BxXw6I6TV4m0g3"));
    assert!(p.email_verified);
    // The org server is another issuer: its tokens are refused by this client.
    op.set_id_claims(json!({"iss": "https://acme.okta.com"}));
    let e = profile(&world, &okta).await.unwrap_err();
    assert_eq!(e.code(), "invalid_id_token", "{e}");
}

#[tokio::test]
async fn keycloak_realm_on_its_own_host() {
    let realm = "https://sso.example.org/realms/staff";
    let mut op = Op::new(realm, CLIENT_ID, SECRET);
    op.authorization_endpoint = format!("{realm}/protocol/openid-connect/auth");
    op.token_endpoint = format!("{realm}/protocol/openid-connect/token");
    op.userinfo_endpoint = Some(format!("{realm}/protocol/openid-connect/userinfo"));
    op.jwks_uri = format!("{realm}/protocol/openid-connect/certs");
    op.userinfo = Some(json!({"sub": "f:1c7f:jdoe", "email": "jdoe@example.org",
        "email_verified": true, "preferred_username": "jdoe", "name": "J Doe"}));
    op.set_id_claims(json!({"sub": "f:1c7f:jdoe", "typ": "ID", "azp": CLIENT_ID}));
    let world = world(&[&op], vec![]).await;
    let keycloak = world.client(
        &toml(
            "staff",
            "preset = \"keycloak\"\npreset_options = { base_url = \"https://sso.example.org\", realm = \"staff\" }",
        ),
        "staff",
    );
    let p = profile(&world, &keycloak).await.unwrap();
    assert_eq!(p.sub.as_deref(), Some("f:1c7f:jdoe"));
    assert_eq!(p.preferred_username.as_deref(), Some("jdoe"));
    assert!(
        p.email_verified,
        "from userinfo, fetched for the missing scope claims"
    );
    let e = settings_error(
        "[clients.kc]\npreset = \"keycloak\"\nclient_id = \"a\"\npreset_options = { base_url = \"https://sso.example.org\", realm = \"a/b\" }\n",
    );
    assert!(e.contains("realm"), "{e}");
}

#[tokio::test]
async fn gitlab_com_and_self_managed() {
    let com = gitlab_op("https://gitlab.com");
    let own = gitlab_op("https://git.example.net");
    let world = world(&[&com, &own], vec![]).await;
    let gitlab = world.client(&toml("gitlab", ""), "gitlab");
    let p = profile(&world, &gitlab).await.unwrap();
    assert_eq!(p.sub.as_deref(), Some("1234567"));
    assert_eq!(
        p.preferred_username.as_deref(),
        Some("jdoe"),
        "GitLab's `nickname`"
    );
    assert!(p.email_verified);
    let mine = world.client(
        &toml(
            "work",
            "preset = \"gitlab\"\npreset_options = { base_url = \"https://git.example.net/\" }",
        ),
        "work",
    );
    assert_eq!(
        mine.settings().api_base_url.as_deref(),
        Some("https://git.example.net/api/v4/")
    );
    profile(&world, &mine).await.unwrap();
    assert_eq!(
        world
            .seen_at("/oauth/token")
            .iter()
            .map(|s| s.host.as_str())
            .collect::<Vec<_>>(),
        ["gitlab.com", "git.example.net"]
    );
}

// ---------------------------------------------------------------------------------------
// Refresh as each provider documents it

/// A session logged in with `client` at `op`'s world (which answers refresh grants).
async fn logged_in_for_refresh(
    op: &Op,
    client_toml: &str,
    name: &str,
) -> (World, OAuthClient, MemorySession) {
    let world = world(&[op], vec![]).await;
    let client = world.client(client_toml, name);
    let login = world.login(&client).await.unwrap();
    let session = MemorySession::default();
    ferroauth::session::save_login(&session, &login)
        .await
        .unwrap();
    (world, client, session)
}

/// Refreshes twice: the identity stays the login's and the kept refresh token is the one
/// the provider wants used next (so the second refresh works).
async fn refresh_twice(client: &OAuthClient, session: &MemorySession, sub: &str) -> [String; 3] {
    let name = client.name().to_owned();
    let first = kept_refresh_token_of(session, &name).await.unwrap();
    let mut kept = [first.clone(), String::new(), String::new()];
    for slot in &mut kept[1..] {
        let (_, claims) = ferroauth::web::flows::refresh(client, session)
            .await
            .unwrap();
        assert_eq!(claims["sub"], sub, "the identity survives the refresh");
        *slot = kept_refresh_token_of(session, &name).await.unwrap();
    }
    kept
}

#[tokio::test]
async fn google_refresh_omits_the_refresh_token_and_the_old_one_is_kept() {
    let op = google_refreshing();
    let google_toml = toml("google", "preset_options = { offline = true }");
    let (_world, google, session) = logged_in_for_refresh(&op, &google_toml, "google").await;
    let [first, second, third] = refresh_twice(&google, &session, "110169484474386276334").await;
    assert_eq!(
        first, second,
        "Google sends no new refresh token: the old one stays"
    );
    assert_eq!(second, third);
}

#[tokio::test]
async fn gitlab_refresh_rotates_and_the_latest_is_kept() {
    let op = gitlab_refreshing();
    let (_world, gitlab, session) = logged_in_for_refresh(&op, &toml("gitlab", ""), "gitlab").await;
    let [first, second, third] = refresh_twice(&gitlab, &session, "1234567").await;
    assert_ne!(first, second, "GitLab rotates the refresh token");
    assert_ne!(second, third, "the second refresh used the rotated one");
}

// ---------------------------------------------------------------------------------------
// Slack

/// Slack's answer to a failed token request, as its docs give it: HTTP 200, `ok: false`
/// and Slack's own code where it has one. Slack API docs, method `openid.connect.token`
/// (api.slack.com/methods/openid.connect.token), "Errors": `invalid_code`,
/// `invalid_client_id`, `bad_client_secret`, `invalid_grant_type`,
/// `invalid_refresh_token` (and RFC 6749's codes for a few cases, such as `invalid_grant`
/// for a PKCE mismatch); every Web API method answers HTTP 200 with `ok` (Slack API
/// docs, "Web API basics", "Evaluating responses").
fn slack_error(code: &str, description: &str) -> Response {
    let slack = match code {
        "invalid_grant" if description == SPENT_REFRESH_TOKEN => "invalid_refresh_token",
        "invalid_grant" => "invalid_code",
        "invalid_client" => "invalid_client_id",
        "unsupported_grant_type" => "invalid_grant_type",
        other => other,
    };
    (
        StatusCode::OK,
        axum::Json(json!({"ok": false, "error": slack})),
    )
        .into_response()
}

/// Slack's OpenID Connect provider: its endpoints, errors and `ok: true` on success.
/// With `refresh`, token rotation is on for the app: the token endpoint takes
/// `grant_type=refresh_token` (`openid.connect.token`, argument `grant_type`: one of
/// `authorization_code`, `refresh_token`) and answers as Slack's token rotation guide
/// (api.slack.com/authentication/rotation, "Exchange a refresh token") says: `ok: true`,
/// a new access token expiring in 12 hours and a new refresh token, the used one spent.
fn slack_op(refresh: bool) -> Op {
    let mut op = Op::new("https://slack.com", CLIENT_ID, SECRET);
    op.authorization_endpoint = "https://slack.com/openid/connect/authorize".into();
    op.token_endpoint = "https://slack.com/api/openid.connect.token".into();
    op.userinfo_endpoint = Some("https://slack.com/api/openid.connect.userInfo".into());
    op.jwks_uri = "https://slack.com/openid/connect/keys".into();
    op.token_error = slack_error;
    op.refresh = refresh;
    op.token_shape = |o, _| {
        o.insert("ok".into(), json!(true));
        if o.contains_key("refresh_token") {
            o.insert("expires_in".into(), json!(43200));
        }
    };
    op.set_id_claims(
        json!({"sub": "U0R7JM", "https://slack.com/user_id": "U0R7JM",
        "https://slack.com/team_id": "T0R7GR", "email": "krane@slack-corp.example",
        "email_verified": true, "name": "krane", "picture": "https://secure.gravatar.com/x.jpg"}),
    );
    // `openid.connect.userInfo` (Slack API docs, the method's "Example response"), which a
    // refresh reads again with the new access token.
    op.set_userinfo(
        json!({"ok": true, "sub": "U0R7JM", "https://slack.com/user_id": "U0R7JM",
        "https://slack.com/team_id": "T0R7GR", "email": "krane@slack-corp.example",
        "email_verified": true, "name": "krane", "picture": "https://secure.gravatar.com/x.jpg"}),
    );
    op
}

/// A client for Slack's provider without the preset: the same discovery document, no
/// hook.
const SLACK_BARE: &str = "preset = \"none\"\n\
    server_metadata_url = \"https://slack.com/.well-known/openid-configuration\"\n\
    client_kwargs = { scope = \"openid email profile\" }";

#[tokio::test]
async fn slack_errors_come_with_http_200() {
    let op = slack_op(false);
    let world = world(&[&op], vec![]).await;
    let slack = world.client(&toml("slack", ""), "slack");
    let p = profile(&world, &slack).await.unwrap();
    assert_eq!(p.sub.as_deref(), Some("U0R7JM"));
    assert_eq!(p.raw["https://slack.com/team_id"], "T0R7GR");
    assert!(p.email_verified);
    // Slack says `invalid_code`; the preset makes it RFC 6749's `invalid_grant`.
    let e = world::login_with_code(&world, &slack, "not-the-code")
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_grant", "{e}");
    assert!(e.to_string().contains("invalid_code"), "{e}");
}

#[tokio::test]
async fn slack_errors_need_the_presets_hook() {
    let op = slack_op(false);
    let world = world(&[&op], vec![]).await;
    let slack = world.client(&toml("slack", ""), "slack");
    let e = world::login_with_code(&world, &slack, "not-the-code")
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_grant", "{e}");
    // The same answer to a client without Slack's hook: `invalid_code` is no RFC 6749
    // code, so the app would not see the spent code for what it is.
    let bare = world.client(&toml("bare", SLACK_BARE), "bare");
    profile(&world, &bare).await.unwrap();
    let e = world::login_with_code(&world, &bare, "not-the-code")
        .await
        .unwrap_err();
    assert_ne!(e.code(), "invalid_grant", "{e}");
}

#[tokio::test]
async fn slack_refresh_rotates_the_refresh_token_and_keeps_the_identity() {
    let op = slack_op(true);
    let (world, slack, session) = logged_in_for_refresh(&op, &toml("slack", ""), "slack").await;
    let [first, second, third] = refresh_twice(&slack, &session, "U0R7JM").await;
    assert_ne!(first, second, "Slack rotates the refresh token");
    assert_ne!(second, third, "the second refresh used the rotated one");
    let seen = world.seen_at("/api/openid.connect.token");
    let last = seen.last().unwrap();
    assert_eq!(last.form("grant_type").as_deref(), Some("refresh_token"));
    assert_eq!(last.form("refresh_token").as_deref(), Some(second.as_str()));
}

#[tokio::test]
async fn slack_refresh_errors_need_the_presets_hook() {
    use ferroauth::session::tokens::TokenStore as _;
    let op = slack_op(true);
    let (world, slack, session) = logged_in_for_refresh(&op, &toml("slack", ""), "slack").await;
    let stored = ferroauth::session::SessionTokens(&session)
        .load("slack")
        .await
        .unwrap()
        .unwrap();
    let mut unknown = stored.as_oauth2().unwrap().clone();
    unknown.refresh_token = Some("xoxe-1-not-issued".into());
    // Slack says `invalid_refresh_token`; the preset makes it `invalid_grant`.
    let e = slack.refresh_token(&unknown).await.unwrap_err();
    assert_eq!(e.code(), "invalid_grant", "{e}");
    assert!(e.to_string().contains("invalid_refresh_token"), "{e}");
    let mut other = unknown.clone();
    other.refresh_token = Some("xoxe-1-not-issued-either".into());
    let bare = world.client(&toml("bare", SLACK_BARE), "bare");
    let e = bare.refresh_token(&other).await.unwrap_err();
    assert_ne!(e.code(), "invalid_grant", "{e}");
}

// ---------------------------------------------------------------------------------------
// Twitch

/// Twitch's token errors: the HTTP status and a message, and in `error` at most the
/// status's reason phrase. A failed refresh is documented as `{"error": "Bad Request",
/// "status": 400, "message": "Invalid refresh token"}` (Twitch docs, "Refreshing Access
/// Tokens", the failed-request example); a bad code answers `{"status": 400, "message":
/// "Invalid authorization code"}` (reported from the endpoint; the docs quote only the
/// success body of "Getting OAuth Access Tokens").
fn twitch_error(_: &str, description: &str) -> Response {
    let body = match description {
        SPENT_REFRESH_TOKEN => {
            json!({"error": "Bad Request", "status": 400, "message": "Invalid refresh token"})
        }
        _ => json!({"status": 400, "message": description}),
    };
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

#[tokio::test]
async fn twitch_scope_arrays_status_errors_claims_and_client_id() {
    let mut op = Op::new("https://id.twitch.tv/oauth2", CLIENT_ID, SECRET);
    op.auth = ClientAuth::Post;
    op.token_error = twitch_error;
    op.token_shape = |o, _| {
        o.insert("scope".into(), json!(["openid", "user:read:email"]));
    };
    op.check_authorize = |q| {
        let claims: Value = serde_json::from_str(&q["claims"]).unwrap();
        assert!(
            claims["id_token"]
                .as_object()
                .unwrap()
                .contains_key("email")
        );
        assert!(
            claims["id_token"]
                .as_object()
                .unwrap()
                .contains_key("email_verified")
        );
    };
    op.set_id_claims(
        json!({"sub": "713936733", "preferred_username": "twitchdev",
        "email": "dev@twitch.example", "email_verified": true,
        "picture": "https://static-cdn.jtvnw.net/u.png"}),
    );
    let helix = Router::new().route(
        "/helix/users",
        get(|headers: HeaderMap| async move {
            if headers.get("client-id").and_then(|v| v.to_str().ok()) != Some(CLIENT_ID) {
                return (StatusCode::UNAUTHORIZED, "Client-Id header required").into_response();
            }
            axum::Json(json!({"data": [{"id": "713936733", "login": "twitchdev"}]})).into_response()
        }),
    );
    let world = world(&[&op], vec![("api.twitch.tv", helix)]).await;
    let twitch = world.client(&toml("twitch", ""), "twitch");
    let login = world.login(&twitch).await.unwrap();
    assert_eq!(login.token.scope(), Some("openid user:read:email"));
    let p = Profile::from_claims(&login.userinfo);
    assert_eq!(p.sub.as_deref(), Some("713936733"));
    assert_eq!(p.preferred_username.as_deref(), Some("twitchdev"));
    assert!(p.email_verified);
    let token = &world.seen_at("/oauth2/token")[0];
    assert_eq!(token.form("client_secret").as_deref(), Some(SECRET));
    let users = twitch.get("users", &login.token).await.unwrap();
    assert_eq!(users.status, 200, "Helix got the Client-Id header");

    let e = world::login_with_code(&world, &twitch, "not-the-code")
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_grant", "{e}");
    assert!(e.to_string().contains("Invalid authorization code"), "{e}");
}

#[tokio::test]
async fn twitch_errors_need_the_presets_hook() {
    let mut op = Op::new("https://id.twitch.tv/oauth2", CLIENT_ID, SECRET);
    op.auth = ClientAuth::Post;
    op.token_error = twitch_error;
    let world = world(&[&op], vec![]).await;
    let twitch = world.client(&toml("twitch", ""), "twitch");
    let e = world::login_with_code(&world, &twitch, "not-the-code")
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_grant", "{e}");
    // The same answer to a client without Twitch's hook: no `error`, so no RFC 6749
    // error, only a failed HTTP call.
    let bare = world.client(
        &toml(
            "bare",
            "preset = \"none\"\n\
             server_metadata_url = \"https://id.twitch.tv/oauth2/.well-known/openid-configuration\"\n\
             client_kwargs = { scope = \"openid\", token_endpoint_auth_method = \"client_secret_post\" }",
        ),
        "bare",
    );
    profile(&world, &bare).await.unwrap();
    let e = world::login_with_code(&world, &bare, "not-the-code")
        .await
        .unwrap_err();
    assert_ne!(e.code(), "invalid_grant", "{e}");
    assert!(!e.to_string().contains("Invalid authorization code"), "{e}");
}

/// A spent refresh token at Twitch: its documented failure body, whose `error` is the
/// reason phrase "Bad Request", is `invalid_grant` with Twitch's message through the
/// preset's hook (the app then knows to log the user in again), and not without it.
#[tokio::test]
async fn twitch_a_spent_refresh_token_is_invalid_grant_only_with_the_hook() {
    let mut op = Op::new("https://id.twitch.tv/oauth2", CLIENT_ID, SECRET);
    op.auth = ClientAuth::Post;
    op.token_error = twitch_error;
    op.refresh = true;
    op.set_id_claims(json!({"sub": "713936733", "preferred_username": "twitchdev"}));
    op.set_userinfo(json!({"sub": "713936733", "preferred_username": "twitchdev"}));
    let bare_toml = toml(
        "bare",
        "preset = \"none\"\n\
         server_metadata_url = \"https://id.twitch.tv/oauth2/.well-known/openid-configuration\"\n\
         client_kwargs = { scope = \"openid\", token_endpoint_auth_method = \"client_secret_post\" }",
    );
    for (name, client_toml, hooked) in [
        ("twitch", toml("twitch", ""), true),
        ("bare", bare_toml, false),
    ] {
        let (_world, client, session) = logged_in_for_refresh(&op, &client_toml, name).await;
        use ferroauth::session::tokens::TokenStore as _;
        let tokens = ferroauth::session::SessionTokens(&session);
        // A refresh token Twitch no longer knows (revoked when the user disconnected the
        // app, or spent by another copy of the app).
        let kept = tokens.load(name).await.unwrap().unwrap();
        let spent = kept.as_oauth2().unwrap().refresh_token.as_ref().unwrap();
        let json = serde_json::to_string(&kept)
            .unwrap()
            .replace(spent.expose(), "revoked-at-twitch");
        let revoked: ferroauth::Token = serde_json::from_str(&json).unwrap();
        tokens.save(name, &revoked).await.unwrap();
        let e = ferroauth::web::flows::refresh(&client, &session)
            .await
            .unwrap_err();
        assert_eq!(e.code() == "invalid_grant", hooked, "{name}: {e}");
        let said = e.to_string().contains("Invalid refresh token");
        assert_eq!(said, hooked, "{name}: {e}");
    }
}

// ---------------------------------------------------------------------------------------
// Salesforce

#[tokio::test]
async fn salesforce_signed_token_response() {
    let op = salesforce_op(|o, op| salesforce_sign(o, &op.client_secret));
    let world = world(&[&op], vec![]).await;
    let salesforce = world.client(&toml("salesforce", ""), "salesforce");
    let login = world.login(&salesforce).await.unwrap();
    let token = login.token.as_oauth2().unwrap();
    assert_eq!(
        token.extra["instance_url"],
        "https://acme.my.salesforce.com"
    );
    let p = Profile::from_claims(&login.userinfo);
    assert_eq!(p.sub.as_deref(), Some(SF_ID));
    assert!(p.email_verified);
}

#[tokio::test]
async fn salesforce_refuses_a_wrong_signature() {
    let op = salesforce_op(|o, _| salesforce_sign(o, "not-the-client-secret"));
    let world = world(&[&op], vec![]).await;
    let salesforce = world.client(
        &toml(
            "sf",
            "preset = \"salesforce\"\npreset_options = { domain = \"login.salesforce.com\" }",
        ),
        "sf",
    );
    let e = profile(&world, &salesforce).await.unwrap_err();
    assert_eq!(e.code(), "invalid_token_response", "{e}");
    assert!(e.to_string().contains("signature"), "{e}");
}

#[tokio::test]
async fn salesforce_refresh_is_signed_and_keeps_the_refresh_token() {
    let op = salesforce_refreshing(|o, op| salesforce_sign(o, &op.client_secret));
    let sf_toml = toml("salesforce", "");
    let (_world, sf, session) = logged_in_for_refresh(&op, &sf_toml, "salesforce").await;
    let [first, second, third] = refresh_twice(&sf, &session, SF_ID).await;
    assert_eq!(
        (&first, &second),
        (&second, &third),
        "the refresh token stays"
    );
}

#[tokio::test]
async fn salesforce_refuses_a_refresh_with_a_wrong_signature() {
    // Signed right at the login (its answer has a refresh token), wrong at the refresh.
    let op = salesforce_refreshing(|o, op| match o.contains_key("refresh_token") {
        true => salesforce_sign(o, &op.client_secret),
        false => salesforce_sign(o, "not-the-client-secret"),
    });
    let sf_toml = toml("salesforce", "");
    let (_world, sf, session) = logged_in_for_refresh(&op, &sf_toml, "salesforce").await;
    let e = ferroauth::web::flows::refresh(&sf, &session)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("signature"), "{e}");
    assert!(
        kept_refresh_token_of(&session, "salesforce")
            .await
            .is_some(),
        "a refused refresh keeps the login's refresh token"
    );
}

// ---------------------------------------------------------------------------------------
// Yahoo

#[tokio::test]
async fn yahoo_basic_authentication_and_its_paths() {
    let base = "https://api.login.yahoo.com";
    let mut op = Op::new(base, CLIENT_ID, SECRET);
    op.authorization_endpoint = format!("{base}/oauth2/request_auth");
    op.token_endpoint = format!("{base}/oauth2/get_token");
    op.userinfo_endpoint = Some(format!("{base}/openid/v1/userinfo"));
    op.jwks_uri = format!("{base}/openid/v1/certs");
    // Whatever discovery lists (here post only, which would make ferroauth pick post),
    // the preset sends Basic, as Yahoo requires.
    op.metadata_extra = json!({"token_endpoint_auth_methods_supported": ["client_secret_post"]});
    op.auth = ClientAuth::Basic;
    op.token_shape = |o, _| {
        o.insert("xoauth_yahoo_guid".into(), json!("JT4FACLQZI2OCE"));
    };
    op.set_id_claims(json!({"sub": "JT4FACLQZI2OCE", "name": "Jane Doe",
        "nickname": "jane", "email": "jane@yahoo.example", "email_verified": true}));
    let world = world(&[&op], vec![]).await;
    let yahoo = world.client(&toml("yahoo", ""), "yahoo");
    let login = world.login(&yahoo).await.unwrap();
    let p = Profile::from_claims(&login.userinfo);
    assert_eq!(p.sub.as_deref(), Some("JT4FACLQZI2OCE"));
    assert_eq!(p.preferred_username.as_deref(), Some("jane"));
    assert!(p.email_verified);
    let token = &world.seen_at("/oauth2/get_token")[0];
    assert!(token.header("authorization").unwrap().starts_with("Basic "));
    assert_eq!(token.form("client_secret"), None);
}
