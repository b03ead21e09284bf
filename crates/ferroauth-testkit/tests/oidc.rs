//! The OpenID Connect side of the testkit provider, driven by hand-written client code.

mod common;

use common::*;
use jsonwebtoken::Algorithm;
use std::collections::HashMap;

#[tokio::test]
async fn discovery_and_jwks() {
    let p = start(true).await;
    let d = json(
        http()
            .get(p.url("/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(d["issuer"], p.issuer());
    assert_eq!(d["authorization_response_iss_parameter_supported"], true);
    assert_eq!(d["jwks_uri"], p.url("/jwks"));
    assert_eq!(
        d["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    let m = json(
        http()
            .get(p.url("/.well-known/oauth-authorization-server"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(m["issuer"], p.issuer());
    assert_eq!(m["token_endpoint"], p.url("/token"));

    let jwks = json(http().get(p.url("/jwks")).send().await.unwrap()).await;
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0]["alg"], "RS256");
    assert_eq!(keys[1]["alg"], "ES256");
    assert_ne!(keys[0]["kid"], keys[1]["kid"]);
    assert!(
        keys.iter().all(|k| k.get("d").is_none()),
        "no private parts"
    );

    let old_kid = keys[0]["kid"].clone();
    p.rotate_keys().unwrap();
    let jwks = json(http().get(p.url("/jwks")).send().await.unwrap()).await;
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 4, "previous generation kept for one rotation");
    assert_ne!(keys[0]["kid"], old_kid);
    assert_eq!(keys[2]["kid"], old_kid);
    p.rotate_keys().unwrap();
    let jwks = p.jwks();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 4);
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["kid"] != old_kid)
    );
    p.shutdown().await;
}

/// Full code + PKCE flow for a client_secret_basic client with an RS256 ID token.
#[tokio::test]
async fn basic_client_login_rs256() {
    let p = start(true).await;
    let a = authorize(&p, "basic-client", BASIC_REDIRECT, true, &[]).await;
    let resp = post_form(
        &p,
        "/token",
        &Auth::Basic("basic-client", "basic secret:with+chars"),
        &[
            ("grant_type", "authorization_code"),
            ("code", &a.code),
            ("redirect_uri", BASIC_REDIRECT),
            ("code_verifier", a.verifier.as_deref().unwrap()),
        ],
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let t = json(resp).await;
    assert_eq!(t["token_type"], "Bearer");
    assert!(t["expires_in"].as_u64().unwrap() > 0);
    assert!(t["refresh_token"].is_string());
    let access = t["access_token"].as_str().unwrap();
    let claims = verify_id_token(
        &p,
        t["id_token"].as_str().unwrap(),
        "basic-client",
        Algorithm::RS256,
    )
    .await;
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["nonce"], a.nonce.as_str());
    assert_eq!(claims["at_hash"], at_hash(access).as_str());
    assert_eq!(claims["name"], "Alice Liddell");
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["groups"], serde_json::json!(["admins", "readers"]));
    assert!(claims["auth_time"].as_u64().is_some());

    // userinfo and the demo API
    let ui = http()
        .get(p.url("/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(ui.status(), 200);
    let ui = json(ui).await;
    assert_eq!(ui["sub"], "alice");
    assert_eq!(ui["email_verified"], true);
    let me = json(
        http()
            .get(p.url("/api/me"))
            .bearer_auth(access)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me["sub"], "alice");
    assert_eq!(me["client_id"], "basic-client");
    assert_eq!(me["user"]["name"], "Alice Liddell");
    p.shutdown().await;
}

/// client_secret_post client, ES256 ID token, user chosen with login_hint.
#[tokio::test]
async fn post_client_login_es256_with_login_hint() {
    let p = start(true).await;
    let a = authorize(
        &p,
        "post-client",
        POST_REDIRECT,
        true,
        &[("login_hint", "bob@example.com")],
    )
    .await;
    let resp = post_form(
        &p,
        "/token",
        &Auth::Post("post-client", "post-secret"),
        &[
            ("grant_type", "authorization_code"),
            ("code", &a.code),
            ("redirect_uri", POST_REDIRECT),
            ("code_verifier", a.verifier.as_deref().unwrap()),
        ],
    )
    .await;
    assert_eq!(resp.status(), 200);
    let t = json(resp).await;
    let claims = verify_id_token(
        &p,
        t["id_token"].as_str().unwrap(),
        "post-client",
        Algorithm::ES256,
    )
    .await;
    assert_eq!(claims["sub"], "bob");
    assert_eq!(claims["email_verified"], false);
    assert_eq!(
        claims["at_hash"],
        at_hash(t["access_token"].as_str().unwrap()).as_str()
    );

    // The same client authenticating with the wrong method is refused.
    let resp = post_form(
        &p,
        "/token",
        &Auth::Basic("post-client", "post-secret"),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(resp.status(), 401);
    assert!(resp.headers().contains_key("www-authenticate"));
    assert_eq!(json(resp).await["error"], "invalid_client");
    p.shutdown().await;
}

/// Public client: PKCE required, no secret.
#[tokio::test]
async fn public_client_login() {
    let p = start(true).await;
    // Without PKCE the request is refused by redirect.
    let resp = http()
        .get(p.url("/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", "public-client"),
            ("redirect_uri", PUBLIC_REDIRECT),
            ("scope", "openid"),
            ("state", "xyz"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let (url, q) = location_query(&resp);
    assert_eq!(q["error"], "invalid_request");
    assert_eq!(q["state"], "xyz");
    assert_eq!(q["iss"], p.issuer());
    assert_eq!(q["app"], "public", "registered query kept");
    assert_eq!(url.port(), Some(9999));

    let a = authorize(&p, "public-client", PUBLIC_REDIRECT, true, &[]).await;
    let resp = post_form(
        &p,
        "/token",
        &Auth::None("public-client"),
        &[
            ("grant_type", "authorization_code"),
            ("code", &a.code),
            ("redirect_uri", PUBLIC_REDIRECT),
            ("code_verifier", a.verifier.as_deref().unwrap()),
        ],
    )
    .await;
    assert_eq!(resp.status(), 200);
    let t = json(resp).await;
    let claims = verify_id_token(
        &p,
        t["id_token"].as_str().unwrap(),
        "public-client",
        Algorithm::ES256,
    )
    .await;
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["nonce"], a.nonce.as_str());

    // Public clients may not use client_credentials.
    let resp = post_form(
        &p,
        "/token",
        &Auth::None("public-client"),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(json(resp).await["error"], "unauthorized_client");
    p.shutdown().await;
}

#[tokio::test]
async fn code_is_single_use_and_reuse_revokes() {
    let p = start(true).await;
    let a = authorize(&p, "basic-client", BASIC_REDIRECT, false, &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", a.code.as_str()),
        ("redirect_uri", BASIC_REDIRECT),
    ];
    let auth = Auth::Basic("basic-client", "basic secret:with+chars");
    let first = post_form(&p, "/token", &auth, &form).await;
    assert_eq!(first.status(), 200);
    let access = json(first).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = post_form(&p, "/token", &auth, &form).await;
    assert_eq!(second.status(), 400);
    assert_eq!(json(second).await["error"], "invalid_grant");
    // The tokens from the first redemption are revoked.
    let ui = http()
        .get(p.url("/userinfo"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(ui.status(), 401);
    p.shutdown().await;
}

#[tokio::test]
async fn wrong_pkce_and_redirect_mismatch_refused() {
    let p = start(true).await;
    let auth = Auth::Basic("basic-client", "basic secret:with+chars");
    let a = authorize(&p, "basic-client", BASIC_REDIRECT, true, &[]).await;
    let (other_verifier, _) = pkce();
    let resp = post_form(
        &p,
        "/token",
        &auth,
        &[
            ("grant_type", "authorization_code"),
            ("code", &a.code),
            ("redirect_uri", BASIC_REDIRECT),
            ("code_verifier", &other_verifier),
        ],
    )
    .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(json(resp).await["error"], "invalid_grant");
    // The code was consumed by the failed attempt.
    let resp = post_form(
        &p,
        "/token",
        &auth,
        &[
            ("grant_type", "authorization_code"),
            ("code", &a.code),
            ("redirect_uri", BASIC_REDIRECT),
            ("code_verifier", a.verifier.as_deref().unwrap()),
        ],
    )
    .await;
    assert_eq!(json(resp).await["error"], "invalid_grant");

    // Missing verifier.
    let a = authorize(&p, "basic-client", BASIC_REDIRECT, true, &[]).await;
    let resp = post_form(
        &p,
        "/token",
        &auth,
        &[
            ("grant_type", "authorization_code"),
            ("code", &a.code),
            ("redirect_uri", BASIC_REDIRECT),
        ],
    )
    .await;
    assert_eq!(json(resp).await["error"], "invalid_grant");

    // redirect_uri mismatch at the token endpoint.
    let a = authorize(&p, "basic-client", BASIC_REDIRECT, true, &[]).await;
    let resp = post_form(
        &p,
        "/token",
        &auth,
        &[
            ("grant_type", "authorization_code"),
            ("code", &a.code),
            ("redirect_uri", "http://localhost:8080/other"),
            ("code_verifier", a.verifier.as_deref().unwrap()),
        ],
    )
    .await;
    assert_eq!(json(resp).await["error"], "invalid_grant");

    // Unregistered redirect_uri at /authorize: error page, no redirect.
    let resp = http()
        .get(p.url("/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", "basic-client"),
            ("redirect_uri", "http://evil.example/cb"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(!resp.headers().contains_key("location"));
    // plain PKCE is not accepted
    let resp = http()
        .get(p.url("/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", "basic-client"),
            ("redirect_uri", BASIC_REDIRECT),
            ("code_challenge", "a".repeat(43).as_str()),
            ("code_challenge_method", "plain"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location_query(&resp).1["error"], "invalid_request");
    p.shutdown().await;
}

#[tokio::test]
async fn refresh_rotation_and_reuse_refused() {
    let p = start(true).await;
    let auth = Auth::Basic("basic-client", "basic secret:with+chars");
    let a = authorize(&p, "basic-client", BASIC_REDIRECT, true, &[]).await;
    let t = json(
        post_form(
            &p,
            "/token",
            &auth,
            &[
                ("grant_type", "authorization_code"),
                ("code", &a.code),
                ("redirect_uri", BASIC_REDIRECT),
                ("code_verifier", a.verifier.as_deref().unwrap()),
            ],
        )
        .await,
    )
    .await;
    let rt1 = t["refresh_token"].as_str().unwrap().to_owned();
    let resp = post_form(
        &p,
        "/token",
        &auth,
        &[("grant_type", "refresh_token"), ("refresh_token", &rt1)],
    )
    .await;
    assert_eq!(resp.status(), 200);
    let t2 = json(resp).await;
    let rt2 = t2["refresh_token"].as_str().unwrap().to_owned();
    let at2 = t2["access_token"].as_str().unwrap().to_owned();
    assert_ne!(rt1, rt2);
    let claims = verify_id_token(
        &p,
        t2["id_token"].as_str().unwrap(),
        "basic-client",
        Algorithm::RS256,
    )
    .await;
    assert!(
        claims.get("nonce").is_none(),
        "no nonce on refreshed ID tokens"
    );

    // Narrowing the scope is fine, widening is not.
    let resp = post_form(
        &p,
        "/token",
        &auth,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &rt2),
            ("scope", "openid admin"),
        ],
    )
    .await;
    assert_eq!(json(resp).await["error"], "invalid_scope");

    // Reusing the rotated token is refused and revokes the grant.
    let resp = post_form(
        &p,
        "/token",
        &auth,
        &[("grant_type", "refresh_token"), ("refresh_token", &rt1)],
    )
    .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(json(resp).await["error"], "invalid_grant");
    let resp = post_form(
        &p,
        "/token",
        &auth,
        &[("grant_type", "refresh_token"), ("refresh_token", &rt2)],
    )
    .await;
    assert_eq!(json(resp).await["error"], "invalid_grant");
    let ui = http()
        .get(p.url("/userinfo"))
        .bearer_auth(&at2)
        .send()
        .await
        .unwrap();
    assert_eq!(ui.status(), 401);
    p.shutdown().await;
}

#[tokio::test]
async fn revocation_introspection_and_userinfo_errors() {
    let p = start(true).await;
    let auth = Auth::Basic("basic-client", "basic secret:with+chars");
    let a = authorize(&p, "basic-client", BASIC_REDIRECT, true, &[]).await;
    let t = json(
        post_form(
            &p,
            "/token",
            &auth,
            &[
                ("grant_type", "authorization_code"),
                ("code", &a.code),
                ("redirect_uri", BASIC_REDIRECT),
                ("code_verifier", a.verifier.as_deref().unwrap()),
            ],
        )
        .await,
    )
    .await;
    let at = t["access_token"].as_str().unwrap();
    let rt = t["refresh_token"].as_str().unwrap();

    let i = json(post_form(&p, "/introspect", &auth, &[("token", at)]).await).await;
    assert_eq!(i["active"], true);
    assert_eq!(i["sub"], "alice");
    assert_eq!(i["client_id"], "basic-client");
    assert_eq!(i["scope"], "openid profile email");
    let i = json(
        post_form(
            &p,
            "/introspect",
            &auth,
            &[("token", rt), ("token_type_hint", "refresh_token")],
        )
        .await,
    )
    .await;
    assert_eq!(i["active"], true);

    let resp = post_form(
        &p,
        "/revoke",
        &auth,
        &[("token", at), ("token_type_hint", "access_token")],
    )
    .await;
    assert_eq!(resp.status(), 200);
    let i = json(post_form(&p, "/introspect", &auth, &[("token", at)]).await).await;
    assert_eq!(i, serde_json::json!({ "active": false }));
    // Unknown tokens revoke fine too.
    assert_eq!(
        post_form(&p, "/revoke", &auth, &[("token", "nope")])
            .await
            .status(),
        200
    );

    // Revoked token at userinfo.
    let ui = http()
        .get(p.url("/userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(ui.status(), 401);
    let challenge = ui.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    // No token at all.
    let ui = http().get(p.url("/userinfo")).send().await.unwrap();
    assert_eq!(ui.status(), 401);

    // Revoking the refresh token ends the grant.
    assert_eq!(
        post_form(&p, "/revoke", &auth, &[("token", rt)])
            .await
            .status(),
        200
    );
    let resp = post_form(
        &p,
        "/token",
        &auth,
        &[("grant_type", "refresh_token"), ("refresh_token", rt)],
    )
    .await;
    assert_eq!(json(resp).await["error"], "invalid_grant");

    // Introspection requires client authentication.
    let resp = post_form(
        &p,
        "/introspect",
        &Auth::Basic("basic-client", "wrong"),
        &[("token", rt)],
    )
    .await;
    assert_eq!(resp.status(), 401);
    p.shutdown().await;
}

#[tokio::test]
async fn client_credentials_and_token_errors() {
    let p = start(true).await;
    let auth = Auth::Basic("basic-client", "basic secret:with+chars");
    let resp = post_form(
        &p,
        "/token",
        &auth,
        &[("grant_type", "client_credentials"), ("scope", "api")],
    )
    .await;
    assert_eq!(resp.status(), 200);
    let t = json(resp).await;
    assert!(t.get("refresh_token").is_none());
    assert!(t.get("id_token").is_none());
    let me = json(
        http()
            .get(p.url("/api/me"))
            .bearer_auth(t["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me["sub"], "basic-client");

    let resp = post_form(&p, "/token", &auth, &[("grant_type", "password")]).await;
    assert_eq!(json(resp).await["error"], "unsupported_grant_type");
    let resp = post_form(&p, "/token", &auth, &[]).await;
    assert_eq!(json(resp).await["error"], "invalid_request");
    let resp = post_form(
        &p,
        "/token",
        &Auth::None("nobody"),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(resp.status(), 401);
    // Garbage Basic credentials.
    let resp = http()
        .post(p.url("/token"))
        .header("authorization", "Basic !!!")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // Not a form body.
    let resp = http()
        .post(p.url("/token"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    // Repeated parameter.
    let resp = http()
        .post(p.url("/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("client_id=public-client&grant_type=authorization_code&grant_type=refresh_token")
        .send()
        .await
        .unwrap();
    assert_eq!(json(resp).await["error"], "invalid_request");
    p.shutdown().await;
}

/// The interactive login page: renders users, logs in by button, typed
/// username and denies.
#[tokio::test]
async fn login_page_flow() {
    let p = start(false).await;
    let (_, challenge) = pkce();
    let query = [
        ("response_type", "code"),
        ("client_id", "basic-client"),
        ("redirect_uri", BASIC_REDIRECT),
        ("scope", "openid"),
        ("state", "s<1>"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let page = |()| async {
        let resp = http()
            .get(p.url("/authorize"))
            .query(&query)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let html = resp.text().await.unwrap();
        let marker = "name=\"request\" value=\"";
        let start = html.find(marker).unwrap() + marker.len();
        let id = html[start..].split('"').next().unwrap().to_owned();
        (html, id)
    };
    let (html, id) = page(()).await;
    assert!(html.contains("<button class=\"user\" type=\"submit\" name=\"user\" value=\"alice\">"));
    assert!(html.contains("value=\"bob\""));
    assert!(html.contains("Alice Liddell"));
    assert!(html.contains("value=\"deny\""));

    // Pick bob by button.
    let resp = http()
        .post(p.url("/login"))
        .form(&[("request", id.as_str()), ("user", "bob")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let (_, q) = location_query(&resp);
    assert!(q.contains_key("code"));
    assert_eq!(q["state"], "s<1>");
    assert_eq!(q["iss"], p.issuer());
    // The request cannot be answered twice.
    let resp = http()
        .post(p.url("/login"))
        .form(&[("request", id.as_str()), ("user", "bob")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);

    // Typed username wins over the implicit first button; unknown re-renders.
    let (_, id) = page(()).await;
    let resp = http()
        .post(p.url("/login"))
        .form(&[
            ("request", id.as_str()),
            ("username", "mallory"),
            ("action", "approve"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("Unknown user."));
    let resp = http()
        .post(p.url("/login"))
        .form(&[
            ("request", id.as_str()),
            ("user", "alice"),
            ("username", "bob@example.com"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);

    // Deny.
    let (_, id) = page(()).await;
    let resp = http()
        .post(p.url("/login"))
        .form(&[("request", id.as_str()), ("action", "deny")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let (_, q) = location_query(&resp);
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "s<1>");
    assert_eq!(q["iss"], p.issuer());

    // prompt=none without auto-approve
    let mut q2 = query.to_vec();
    q2.push(("prompt", "none"));
    let resp = http()
        .get(p.url("/authorize"))
        .query(&q2)
        .send()
        .await
        .unwrap();
    assert_eq!(location_query(&resp).1["error"], "login_required");
    p.shutdown().await;
}

#[tokio::test]
async fn embedded_router_with_path_issuer() {
    let provider = ferroauth_testkit::TestProvider::builder()
        .users(users())
        .clients(clients())
        .auto_approve(true);
    // Bind first so the issuer can name the port.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let provider = provider
        .issuer(format!("http://{addr}/idp/"))
        .build()
        .unwrap();
    assert_eq!(provider.issuer(), format!("http://{addr}/idp"));
    let app = axum::Router::new()
        .route("/", axum::routing::get(|| async { "host app" }))
        .nest("/idp", provider.router())
        .merge(provider.root_metadata_router());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let d = json(
        http()
            .get(provider.url("/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(d["token_endpoint"], format!("http://{addr}/idp/token"));
    let m = json(
        http()
            .get(format!(
                "http://{addr}/.well-known/oauth-authorization-server/idp"
            ))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(m["issuer"], provider.issuer());
    let a = authorize(&provider, "public-client", PUBLIC_REDIRECT, true, &[]).await;
    let resp = post_form(
        &provider,
        "/token",
        &Auth::None("public-client"),
        &[
            ("grant_type", "authorization_code"),
            ("code", &a.code),
            ("redirect_uri", PUBLIC_REDIRECT),
            ("code_verifier", a.verifier.as_deref().unwrap()),
        ],
    )
    .await;
    assert_eq!(resp.status(), 200);
    let t = json(resp).await;
    verify_id_token(
        &provider,
        t["id_token"].as_str().unwrap(),
        "public-client",
        Algorithm::ES256,
    )
    .await;
    assert_eq!(
        http()
            .get(format!("http://{addr}/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "host app"
    );
    server.abort();
}

#[tokio::test]
async fn fast_mode_still_signs_fresh_id_tokens() {
    let p = ferroauth_testkit::TestProvider::builder()
        .users(users())
        .clients(clients())
        .auto_approve(true)
        .fast(true)
        .start()
        .await
        .unwrap();
    let auth = Auth::Basic("basic-client", "basic secret:with+chars");
    let mut seen = std::collections::HashSet::new();
    for _ in 0..5 {
        let a = authorize(&p, "basic-client", BASIC_REDIRECT, true, &[]).await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", a.code.as_str()),
            ("redirect_uri", BASIC_REDIRECT),
            ("code_verifier", a.verifier.as_deref().unwrap()),
        ];
        let t = json(post_form(&p, "/token", &auth, &form).await).await;
        let id = t["id_token"].as_str().unwrap().to_owned();
        let claims = verify_id_token(&p, &id, "basic-client", Algorithm::RS256).await;
        assert_eq!(claims["nonce"], a.nonce.as_str());
        assert!(seen.insert(id));
        // Reuse still refused in fast mode.
        let again = post_form(&p, "/token", &auth, &form).await;
        assert_eq!(json(again).await["error"], "invalid_grant");
    }
    // Codes are forgotten once redeemed: only tokens remain.
    assert_eq!(p.state_size(), 10);
    p.shutdown().await;
}

#[tokio::test]
async fn garbage_requests_get_errors_not_panics() {
    let p = start(false).await;
    let c = http();
    for q in [
        "",
        "client_id=",
        "client_id=%FF%FE",
        "client_id=basic-client&client_id=post-client",
        "client_id=basic-client&redirect_uri=%00",
        "client_id=basic-client&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcb%2Fbasic&response_type=token",
        "client_id=basic-client&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcb%2Fbasic&response_type=code&state=a&state=b",
        "%%%%&&&===",
    ] {
        let resp = c
            .get(format!("{}?{q}", p.url("/authorize")))
            .send()
            .await
            .unwrap();
        assert!(
            resp.status().is_client_error() || resp.status() == 302,
            "{q}: {}",
            resp.status()
        );
    }
    for path in [
        "/token",
        "/revoke",
        "/introspect",
        "/login",
        "/oauth1/request_token",
        "/oauth1/access_token",
    ] {
        let resp = c
            .post(p.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("authorization", "OAuth oauth_consumer_key=\"%ZZ\", =,,\"")
            .body("a=%ZZ&&=&%FF=%FE")
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_client_error(), "{path}: {}", resp.status());
    }
    let resp = c
        .get(p.url("/userinfo"))
        .header("authorization", "Bearer")
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_client_error());
    let resp = c.get(p.url("/oauth1/api/me")).send().await.unwrap();
    assert!(resp.status().is_client_error());
    // The server is still healthy.
    assert_eq!(c.get(p.url("/jwks")).send().await.unwrap().status(), 200);
    p.shutdown().await;
}

/// Pulls `name="..." value="..."` pairs out of the hidden inputs of a form page.
fn hidden_fields(html: &str) -> HashMap<String, String> {
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .filter_map(|input| {
            let name = input.split("name=\"").nth(1)?.split('"').next()?;
            let value = input.split("value=\"").nth(1)?.split('"').next()?;
            Some((name.to_owned(), value.replace("&amp;", "&")))
        })
        .collect()
}

/// `response_mode=form_post`: the code comes back as a page that posts it to the redirect
/// URI, with a nonce'd script, and is redeemable like a query-mode code; errors too.
#[tokio::test]
async fn form_post_response_mode() {
    let p = start(true).await;
    let (verifier, challenge) = pkce();
    let query = [
        ("response_type", "code"),
        ("response_mode", "form_post"),
        ("client_id", "basic-client"),
        ("redirect_uri", BASIC_REDIRECT),
        ("scope", "openid"),
        ("state", "st-1"),
        ("nonce", "n-1"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let resp = http()
        .get(p.url("/authorize"))
        .query(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = resp.text().await.unwrap();
    assert!(
        html.contains(&format!(
            "<form method=\"post\" action=\"{BASIC_REDIRECT}\">"
        )),
        "{html}"
    );
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .expect("a script nonce in the CSP");
    assert!(html.contains(&format!("<script nonce=\"{nonce}\">")));
    let fields = hidden_fields(&html);
    assert_eq!(fields.get("state").map(String::as_str), Some("st-1"));
    assert_eq!(fields.get("iss").map(String::as_str), Some(p.issuer()));
    let token = post_form(
        &p,
        "/token",
        &Auth::Basic("basic-client", "basic secret:with+chars"),
        &[
            ("grant_type", "authorization_code"),
            ("code", &fields["code"]),
            ("redirect_uri", BASIC_REDIRECT),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(token.status(), 200);

    // An error after the redirect URI is known goes back the same way.
    let resp = http()
        .get(p.url("/authorize"))
        .query(&[
            ("response_type", "token"),
            ("response_mode", "form_post"),
            ("client_id", "basic-client"),
            ("redirect_uri", BASIC_REDIRECT),
            ("state", "st-2"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let fields = hidden_fields(&resp.text().await.unwrap());
    assert_eq!(
        fields.get("error").map(String::as_str),
        Some("unsupported_response_type")
    );
    assert_eq!(fields.get("state").map(String::as_str), Some("st-2"));
    p.shutdown().await;
}
