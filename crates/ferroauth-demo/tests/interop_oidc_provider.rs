//! Interop with panva's oidc-provider (OpenID Certified), driven through the demo's routes
//! by a scripted user agent that fills in the provider's login and consent forms.

mod support;

use serde_json::{Value, json};
use support::{AtProvider, Browser, Demo, Framework, Peer};

const SECRET: &str = "a-long-client-secret-for-interop-tests-0123456789";

/// (demo name, client_id, auth method, ID token alg)
const CLIENTS: &[(&str, &str, &str, &str)] = &[
    ("basic", "basic-rs256", "client_secret_basic", "RS256"),
    ("post", "post-ps256", "client_secret_post", "PS256"),
    ("public", "public-es256", "none", "ES256"),
    ("eddsa", "basic-eddsa", "client_secret_basic", "EdDSA"),
];

async fn setup(framework: Framework) -> (Peer, Demo) {
    let mut demo = Demo::reserve_on(framework).await;
    let clients: Vec<Value> = CLIENTS
        .iter()
        .map(|(name, id, method, alg)| {
            let mut c = json!({
                "client_id": id,
                "redirect_uris": [demo.redirect_uri(name)],
                "token_endpoint_auth_method": method,
                "id_token_signed_response_alg": alg,
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "post_logout_redirect_uris": [format!("{}/logged-out", demo.base)],
            });
            if *method != "none" {
                c["client_secret"] = json!(SECRET);
            }
            c
        })
        .collect();
    let mut clients = clients;
    clients.push(json!({
        "client_id": "formpost",
        "client_secret": SECRET,
        "redirect_uris": [demo.redirect_uri("formpost")],
        "response_types": ["code"],
        "grant_types": ["authorization_code"],
    }));
    let peer = Peer::oidc_provider(&Value::Array(clients), &[]);
    let mut toml = String::new();
    for (name, id, method, _) in CLIENTS {
        toml.push_str(&format!(
            "[clients.{name}]\nclient_id = \"{id}\"\nserver_metadata_url = \"{iss}/.well-known/openid-configuration\"\napi_base_url = \"{iss}/\"\nclient_kwargs = {{ scope = \"openid email profile offline_access\", token_endpoint_auth_method = \"{method}\" }}\n",
            iss = peer.issuer
        ));
        if *method != "none" {
            toml.push_str(&format!("client_secret = \"{SECRET}\"\n"));
        }
    }
    toml.push_str(&format!(
        "[clients.formpost]\nclient_id = \"formpost\"\nclient_secret = \"{SECRET}\"\nserver_metadata_url = \"{}/.well-known/openid-configuration\"\nauthorize_params = {{ response_mode = \"form_post\" }}\nclient_kwargs = {{ scope = \"openid email\" }}\n",
        peer.issuer
    ));
    demo.serve(&toml);
    (peer, demo)
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn logins_with_every_client_authentication_and_signature_algorithm(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
    ]) {
        return;
    }
    let (peer, demo) = setup(framework).await;
    for (name, _, method, alg) in CLIENTS {
        let browser = Browser::new(&demo);
        let user = format!("user-{name}");
        let outcome = browser.login(name, "", AtProvider::LogIn(&user)).await;
        assert_eq!(
            outcome.status,
            200,
            "{name} ({method}, {alg}): {}\n{}",
            outcome.body,
            peer.log()
        );
        let body = &outcome.body;
        assert_eq!(body["provider"], *name);
        assert_eq!(body["userinfo"]["sub"], user.as_str());
        assert_eq!(body["userinfo"]["iss"], peer.issuer.as_str());
        // Profile claims come from userinfo: oidc-provider keeps them out of the ID token.
        assert_eq!(body["userinfo"]["email"], format!("{user}@example.test"));
        assert_eq!(body["token"]["token_type"], "Bearer");
        assert!(body["token"]["expires_at"].as_u64().unwrap() > now());
        assert!(body["token"]["scope"].as_str().unwrap().contains("openid"));
        let text = body.to_string();
        assert!(
            !text.contains("access_token")
                && !text.contains("refresh_token")
                && !text.contains(SECRET)
        );
        // The stored token works against the provider's API (its userinfo endpoint).
        let (status, me) = browser.api(name, "me").await;
        assert_eq!(status, 200, "{me}");
        assert_eq!(me["sub"], user.as_str());
        // The callback says where it came from (RFC 9207).
        assert!(
            outcome
                .callback
                .query_pairs()
                .any(|(k, v)| k == "iss" && v == peer.issuer.as_str())
        );
    }
}

async fn a_user_who_aborts_reaches_the_app_as_access_denied(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
    ]) {
        return;
    }
    let (_peer, demo) = setup(framework).await;
    let browser = Browser::new(&demo);
    let outcome = browser.login("basic", "", AtProvider::Abort).await;
    assert_eq!(outcome.status, 400);
    assert_eq!(outcome.body["error"], "access_denied");
    let (status, _) = browser.api("basic", "me").await;
    assert_eq!(status, 401, "no token after an aborted login");
}

async fn refresh_with_rotation(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
    ]) {
        return;
    }
    let (_peer, demo) = setup(framework).await;
    let browser = Browser::new(&demo);
    // oidc-provider issues a refresh token only with offline_access and prompt=consent.
    let outcome = browser
        .login("basic", "prompt=consent", AtProvider::LogIn("alice"))
        .await;
    assert_eq!(outcome.status, 200, "{}", outcome.body);
    let (status, first) = browser.post("/refresh/basic").await;
    assert_eq!(status, 200, "{first}");
    let (status, second) = browser.post("/refresh/basic").await;
    assert_eq!(
        status, 200,
        "rotated refresh token must be used the second time: {second}"
    );
    let (status, me) = browser.api("basic", "me").await;
    assert_eq!((status, &me["sub"]), (200, &json!("alice")));
}

/// RP-initiated logout against a certified provider: the demo's logout sends the browser
/// to oidc-provider's end-session endpoint, the user confirms there, the provider sends
/// the browser back to `/logged-out` with the state, and its own session has ended: the
/// next login asks for the user's credentials again.
async fn rp_initiated_logout_ends_the_providers_session(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
    ]) {
        return;
    }
    let (peer, demo) = setup(framework).await;
    let browser = Browser::new(&demo);
    let outcome = browser.login("basic", "", AtProvider::LogIn("alice")).await;
    assert_eq!(outcome.status, 200, "{}", outcome.body);
    let logout = browser
        .http
        .post(format!("{}/logout", demo.base))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 303);
    let end_session = support::location_of(&logout);
    assert!(
        end_session
            .as_str()
            .starts_with(&format!("{}/session/end", peer.issuer)),
        "{end_session}"
    );
    let state = end_session
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    // oidc-provider asks the user to confirm, with a form carrying its xsrf token.
    let page = browser.http.get(end_session.clone()).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let action = support::attr(&html, "<form", "action").expect("the confirmation form");
    let xsrf = support::hidden_value(&html, "xsrf").expect("its xsrf token");
    let confirm = end_session.join(&action).unwrap();
    let form = [("xsrf", xsrf.as_str()), ("logout", "yes")];
    let mut next = browser.http.post(confirm).form(&form).send().await.unwrap();
    let logged_out = format!("{}/logged-out", demo.base);
    for _ in 0..3 {
        let to = support::location_of(&next);
        if to.as_str().starts_with(&logged_out) {
            assert_eq!(
                to.query_pairs()
                    .find(|(k, _)| k == "state")
                    .map(|(_, v)| v.into_owned()),
                Some(state.clone())
            );
            let home = browser
                .http
                .get(to)
                .header("accept", "text/html")
                .send()
                .await
                .unwrap();
            assert_eq!(home.status(), 303, "the demo accepts its state");
            let (status, _) = browser.api("basic", "me").await;
            assert_eq!(status, 401, "logged out of the app");
            // The provider's session is gone: a new login meets its login form again.
            let login = format!("{}/login/basic", demo.base);
            let mut at = support::location_of(&browser.http.get(&login).send().await.unwrap());
            for _ in 0..5 {
                let response = browser.http.get(at.clone()).send().await.unwrap();
                if !response.status().is_redirection() {
                    let html = response.text().await.unwrap();
                    assert_eq!(
                        support::hidden_value(&html, "prompt").as_deref(),
                        Some("login")
                    );
                    return;
                }
                at = support::location_of(&response);
            }
            panic!("no login form after the logout");
        }
        assert!(next.status().is_redirection(), "{}", next.status());
        next = browser.http.get(to).send().await.unwrap();
    }
    panic!("the provider did not send the browser back to /logged-out");
}

async fn callbacks_are_single_use_and_bound_to_the_session(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
    ]) {
        return;
    }
    let (_peer, demo) = setup(framework).await;
    let browser = Browser::new(&demo);
    let callback = browser
        .to_callback("basic", "", AtProvider::LogIn("alice"))
        .await;
    // Another browser cannot use the callback: without a session it is told so; with a
    // session of its own, the state is not one of its logins.
    let stranger = Browser::new(&demo);
    let (status, body) = stranger.finish(&callback).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("session_missing"))
    );
    let _ = stranger
        .to_callback("basic", "", AtProvider::LogIn("mallory"))
        .await;
    let (status, body) = stranger.finish(&callback).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("state_unknown"))
    );
    let (status, body) = browser.finish(&callback).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = browser.finish(&callback).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("state_reused"))
    );
}

async fn parallel_logins_in_one_session(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
    ]) {
        return;
    }
    let (_peer, demo) = setup(framework).await;
    let browser = Browser::new(&demo);
    let first = browser
        .to_callback("basic", "", AtProvider::LogIn("alice"))
        .await;
    // Bob logs in at the provider with a fresh provider session: the provider would
    // otherwise reuse alice's.
    let second = browser
        .to_callback_via(&Browser::new(&demo), "post", "", AtProvider::LogIn("bob"))
        .await;
    let (status, body) = browser.finish(&second).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["userinfo"]["sub"], "bob");
    let (status, body) = browser.finish(&first).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["userinfo"]["sub"], "alice");
}

async fn a_callback_at_the_wrong_client_route_is_refused(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
    ]) {
        return;
    }
    let (_peer, demo) = setup(framework).await;
    let browser = Browser::new(&demo);
    let callback = browser
        .to_callback("basic", "", AtProvider::LogIn("alice"))
        .await;
    let moved = url::Url::parse(&callback.as_str().replace("/auth/basic", "/auth/post")).unwrap();
    let (status, body) = browser.finish(&moved).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("state_client_mismatch"))
    );
}

async fn form_post_callbacks(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
    ]) {
        return;
    }
    // response_mode=form_post: the provider's page posts the response to the callback,
    // which must accept a POST form as well as a GET query.
    let (_peer, demo) = setup(framework).await;
    let browser = Browser::new(&demo);
    let (status, body) = browser.login_form_post("formpost", "carol").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["userinfo"]["sub"], "carol");
}

crate::on_both!(
    logins_with_every_client_authentication_and_signature_algorithm,
    a_user_who_aborts_reaches_the_app_as_access_denied,
    refresh_with_rotation,
    callbacks_are_single_use_and_bound_to_the_session,
    parallel_logins_in_one_session,
    a_callback_at_the_wrong_client_route_is_refused,
    form_post_callbacks,
    rp_initiated_logout_ends_the_providers_session,
);
