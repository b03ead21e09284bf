//! Today's OAuth against panva's oidc-provider, with each feature required by the server
//! for the client under test, so that a login can only succeed by using it: pushed
//! authorization requests (RFC 9126; the same client without them is refused), signed
//! request objects (RFC 9101; by value and pushed; unsigned requests refused), DPoP
//! (RFC 9449; DPoP-bound tokens, with and without server nonces; the same client without
//! DPoP is refused), resource indicators (RFC 8707; the token is for the named
//! resource, checked by a resource server of the test), and the device authorization
//! grant (RFC 8628; approved at oidc-provider's own pages by a scripted user).

mod support;

use reqwest::header::LOCATION;
use serde_json::{Value, json};
use support::{AtProvider, Browser, Demo, Framework, Peer};

const SECRET: &str = "a-long-client-secret-for-modern-oauth-tests-0123456789";

/// A confidential client of oidc-provider for each demo name, with `extra` metadata.
fn client(demo: &Demo, id: &str, names: &[&str], extra: Value) -> Value {
    let mut c = json!({
        "client_id": id,
        "client_secret": SECRET,
        "redirect_uris": names.iter().map(|n| demo.redirect_uri(n)).collect::<Vec<_>>(),
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
    });
    if let (Value::Object(c), Value::Object(extra)) = (&mut c, extra) {
        c.extend(extra);
    }
    c
}

/// Demo settings: one client named `name` registered as `id`, with `kwargs`.
fn settings(peer: &Peer, name: &str, id: &str, kwargs: &str) -> String {
    format!(
        "[clients.{name}]\nclient_id = \"{id}\"\nclient_secret = \"{SECRET}\"\nserver_metadata_url = \"{iss}/.well-known/openid-configuration\"\napi_base_url = \"{iss}/\"\nclient_kwargs = {{ scope = \"openid email\"{kwargs} }}\n",
        iss = peer.issuer
    )
}

/// Where `GET /login/{name}` sends the browser.
async fn authorization_url(demo: &Demo, name: &str) -> url::Url {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = http
        .get(format!("{}/login/{name}", demo.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    url::Url::parse(response.headers()[LOCATION].to_str().unwrap()).unwrap()
}

fn query_names(url: &url::Url) -> Vec<String> {
    let mut names: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
    names.sort();
    names
}

/// The client requires PAR in its registration (not in the metadata): the client that
/// pushes logs in, and the browser sees only `client_id` and `request_uri`; the same
/// registration used without PAR is refused by the provider.
async fn par_required_by_the_client_registration(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
    ]) {
        return;
    }
    let mut demo = Demo::reserve_on(framework).await;
    let par = json!({"require_pushed_authorization_requests": true});
    let peer = Peer::oidc_provider(
        &json!([client(&demo, "par-client", &["pushed", "unpushed"], par)]),
        &[],
    );
    let toml = settings(
        &peer,
        "pushed",
        "par-client",
        ", pushed_authorization_requests = true",
    ) + &settings(&peer, "unpushed", "par-client", "");
    demo.serve(&toml);

    let url = authorization_url(&demo, "pushed").await;
    assert_eq!(query_names(&url), ["client_id", "request_uri"], "{url}");
    assert!(url.as_str().starts_with(&format!("{}/auth?", peer.issuer)));
    let browser = Browser::new(&demo);
    let outcome = browser
        .login("pushed", "", AtProvider::LogIn("alice"))
        .await;
    assert_eq!(outcome.status, 200, "{}\n{}", outcome.body, peer.log());
    assert_eq!(outcome.body["userinfo"]["sub"], "alice");
    let (status, me) = browser.api("pushed", "me").await;
    assert_eq!((status, &me["sub"]), (200, &json!("alice")), "{me}");
    assert!(
        peer.log().contains("POST /request -> 201"),
        "no pushed request in the provider's log:\n{}",
        peer.log()
    );

    // Without PAR the provider refuses the authorization request itself.
    let url = authorization_url(&demo, "unpushed").await;
    assert!(
        query_names(&url).contains(&"code_challenge".to_owned()),
        "{url}"
    );
    let outcome = Browser::new(&demo)
        .login("unpushed", "", AtProvider::LogIn("alice"))
        .await;
    assert_eq!(outcome.status, 400, "{}", outcome.body);
    assert_eq!(outcome.body["error"], "invalid_request", "{}", outcome.body);
}

/// The provider requires PAR for everyone (`require_pushed_authorization_requests` in its
/// metadata): ferroauth pushes without being told; told not to, it is refused.
async fn par_required_by_the_metadata(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
    ]) {
        return;
    }
    let mut demo = Demo::reserve_on(framework).await;
    let peer = Peer::oidc_provider(
        &json!([client(&demo, "any-client", &["auto", "never"], json!({}))]),
        &["--require-par"],
    );
    let toml = settings(&peer, "auto", "any-client", "")
        + &settings(
            &peer,
            "never",
            "any-client",
            ", pushed_authorization_requests = false",
        );
    demo.serve(&toml);

    let url = authorization_url(&demo, "auto").await;
    assert_eq!(query_names(&url), ["client_id", "request_uri"], "{url}");
    let outcome = Browser::new(&demo)
        .login("auto", "", AtProvider::LogIn("bob"))
        .await;
    assert_eq!(outcome.status, 200, "{}\n{}", outcome.body, peer.log());
    assert_eq!(outcome.body["userinfo"]["sub"], "bob");

    let outcome = Browser::new(&demo)
        .login("never", "", AtProvider::LogIn("bob"))
        .await;
    assert_eq!(outcome.status, 400, "{}", outcome.body);
    assert_eq!(outcome.body["error"], "invalid_request", "{}", outcome.body);
}

/// A pushed request the provider refuses (an unknown scope… here a redirect URI it does
/// not know) surfaces as the PAR endpoint's own error, before the browser goes anywhere.
async fn par_endpoint_errors_are_typed(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
    ]) {
        return;
    }
    let mut demo = Demo::reserve_on(framework).await;
    // Registered with another redirect URI than the demo's.
    let mut registration = client(&demo, "elsewhere", &["x"], json!({}));
    registration["redirect_uris"] = json!(["https://app.example/callback"]);
    let peer = Peer::oidc_provider(&json!([registration]), &["--require-par"]);
    demo.serve(&settings(&peer, "elsewhere", "elsewhere", ""));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = http
        .get(format!("{}/login/elsewhere", demo.base))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"], "invalid_request", "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap_or_default()
            .contains("pushed authorization request"),
        "{body}"
    );
}

/// A resource server: answers any path with the claims of the bearer token (a JWT
/// access token's payload), or 401 when the token is not a JWT (an opaque token, for the
/// provider's own userinfo).
async fn resource_server() -> (String, tokio::task::JoinHandle<()>) {
    use axum::http::{HeaderMap, StatusCode};
    use base64::Engine;
    async fn claims(headers: HeaderMap) -> (StatusCode, axum::Json<Value>) {
        let token = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        let payload = token.split('.').nth(1).and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .ok()
        });
        match payload.and_then(|p| serde_json::from_slice::<Value>(&p).ok()) {
            Some(claims) => (StatusCode::OK, axum::Json(claims)),
            None => (
                StatusCode::UNAUTHORIZED,
                axum::Json(json!({"error": "invalid_token", "error_description": "not a JWT"})),
            ),
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(claims);
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, server)
}

/// `resource = ...` names the API: the access token the provider issues is for it (a JWT
/// whose `aud` is the API), so the API accepts it; without it the token is the
/// provider's opaque one, which the API cannot use; a resource the provider does not
/// know is refused at the authorization endpoint.
async fn resource_indicators_bind_the_token_to_the_api(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
    ]) {
        return;
    }
    let mut demo = Demo::reserve_on(framework).await;
    let (api, _server) = resource_server().await;
    let peer = Peer::oidc_provider(
        &json!([client(
            &demo,
            "rs-client",
            &["bound", "unbound", "unknown"],
            json!({})
        )]),
        &["--resource-server", &api],
    );
    let entry = |name: &str, kwargs: &str| {
        format!(
            "[clients.{name}]\nclient_id = \"rs-client\"\nclient_secret = \"{SECRET}\"\nserver_metadata_url = \"{iss}/.well-known/openid-configuration\"\napi_base_url = \"{api}\"\nclient_kwargs = {{ scope = \"openid api:read\"{kwargs} }}\n",
            iss = peer.issuer
        )
    };
    let toml = entry("bound", &format!(", resource = \"{api}\""))
        + &entry("unbound", "")
        + &entry("unknown", ", resource = \"https://elsewhere.example/\"");
    demo.serve(&toml);

    let url = authorization_url(&demo, "bound").await;
    assert!(
        url.query_pairs()
            .any(|(k, v)| k == "resource" && v == api.as_str()),
        "{url}"
    );
    let browser = Browser::new(&demo);
    let outcome = browser.login("bound", "", AtProvider::LogIn("dora")).await;
    assert_eq!(outcome.status, 200, "{}\n{}", outcome.body, peer.log());
    let (status, claims) = browser.api("bound", "whoami").await;
    assert_eq!(status, 200, "{claims}");
    assert_eq!(claims["aud"], api.as_str(), "{claims}");
    assert_eq!(claims["sub"], "dora", "{claims}");
    assert!(
        claims["scope"]
            .as_str()
            .unwrap_or_default()
            .contains("api:read"),
        "{claims}"
    );

    let browser = Browser::new(&demo);
    let outcome = browser
        .login("unbound", "", AtProvider::LogIn("dora"))
        .await;
    assert_eq!(outcome.status, 200, "{}", outcome.body);
    let (status, answer) = browser.api("unbound", "whoami").await;
    assert_eq!(
        status, 401,
        "an opaque token reached the API as a JWT: {answer}"
    );

    let outcome = Browser::new(&demo)
        .login("unknown", "", AtProvider::LogIn("dora"))
        .await;
    assert_eq!(outcome.status, 400, "{}", outcome.body);
    assert!(
        outcome
            .callback
            .query_pairs()
            .any(|(k, v)| k == "error" && v == "invalid_target"),
        "{}",
        outcome.callback
    );
}

/// The client's registration says `dpop_bound_access_tokens`: with `dpop = true` the
/// login, the userinfo fetch, the API call and the refresh all succeed with DPoP-bound
/// tokens; the same registration without DPoP is refused at the token endpoint. With
/// `nonce`, the server demands a nonce in every proof: the challenge is answered once per
/// request, at the token endpoint and at the resource server (its userinfo).
async fn dpop_bound_tokens(framework: Framework, nonce: bool, alg: &str) {
    let mut demo = Demo::reserve_on(framework).await;
    let bound = json!({"dpop_bound_access_tokens": true});
    let args: &[&str] = if nonce { &["--dpop-nonce"] } else { &[] };
    let peer = Peer::oidc_provider(
        &json!([client(&demo, "dpop-client", &["dpop", "plain"], bound)]),
        args,
    );
    let toml = settings(
        &peer,
        "dpop",
        "dpop-client",
        &format!(", dpop = true, dpop_alg = \"{alg}\", scope = \"openid email offline_access\""),
    )
    .replace("scope = \"openid email\", ", "")
        + &settings(&peer, "plain", "dpop-client", "");
    demo.serve(&toml);
    // RFC 9449 §10: the authorization request names the key the code will be bound to.
    let jkt = authorization_url(&demo, "dpop")
        .await
        .query_pairs()
        .find(|(k, _)| k == "dpop_jkt")
        .map(|(_, v)| v.into_owned());
    assert_eq!(
        jkt.as_deref().map(str::len),
        Some(43),
        "a SHA-256 thumbprint: {jkt:?}"
    );

    let browser = Browser::new(&demo);
    let outcome = browser
        .login("dpop", "prompt=consent", AtProvider::LogIn("erin"))
        .await;
    assert_eq!(outcome.status, 200, "{}\n{}", outcome.body, peer.log());
    assert_eq!(
        outcome.body["token"]["token_type"], "DPoP",
        "{}",
        outcome.body
    );
    // Userinfo was fetched with the bound token (oidc-provider keeps email out of the
    // ID token).
    assert_eq!(outcome.body["userinfo"]["email"], "erin@example.test");
    let (status, me) = browser.api("dpop", "me").await;
    assert_eq!(
        (status, &me["sub"]),
        (200, &json!("erin")),
        "{me}\n{}",
        peer.log()
    );
    let (status, refreshed) = browser.post("/refresh/dpop").await;
    assert_eq!(status, 200, "{refreshed}\n{}", peer.log());
    assert_eq!(refreshed["token"]["token_type"], "DPoP");
    let (status, me) = browser.api("dpop", "me").await;
    assert_eq!(status, 200, "after the refresh: {me}");
    if nonce {
        // The first token request met the challenge and its one retry passed; later
        // requests to this server (userinfo included) reuse the nonce it gave.
        let log = peer.log();
        assert_eq!(log.matches("use_dpop_nonce").count(), 1, "{log}");
        assert!(log.contains("POST /token -> 400"), "{log}");
        assert!(!log.contains("GET /me -> 401"), "{log}");
    }

    // The same registration without DPoP: oidc-provider refuses the code exchange
    // (`invalid_grant`, its generic wording for a missing proof).
    let outcome = Browser::new(&demo)
        .login("plain", "", AtProvider::LogIn("erin"))
        .await;
    assert_eq!(outcome.status, 502, "{}", outcome.body);
    assert_eq!(
        outcome.body["error"],
        "invalid_grant",
        "{}\n{}",
        outcome.body,
        peer.log()
    );
}

async fn dpop_bound_tokens_es256(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
    ]) {
        return;
    }
    dpop_bound_tokens(framework, false, "ES256").await;
}

async fn dpop_bound_tokens_eddsa_with_server_nonces(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
    ]) {
        return;
    }
    dpop_bound_tokens(framework, true, "EdDSA").await;
}

/// A client registered for signed request objects (ES256 `private_key_jwt` key, the
/// registration naming its public JWK) and the settings entry that logs in with it.
struct JarClient {
    key: String,
    registration: Value,
}

impl JarClient {
    fn new(demo: &Demo, names: &[&str], require_in_registration: bool) -> Self {
        use aws_lc_rs::rand::SystemRandom;
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
        use ferroauth::proto::jose::client_assertion::ClientAssertionKey;
        let der =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .unwrap();
        let key = support::pkcs8_pem(der.as_ref());
        let jwk = ClientAssertionKey::from_private_key(&key, Some("ES256"), Some("jar-key"))
            .unwrap()
            .public_jwk()
            .unwrap();
        let mut registration = client(
            demo,
            "jar-client",
            names,
            json!({
                "require_signed_request_object": require_in_registration,
                "request_object_signing_alg": "ES256",
                "token_endpoint_auth_method": "private_key_jwt",
                "token_endpoint_auth_signing_alg": "ES256",
                "jwks": {"keys": [jwk]},
            }),
        );
        registration
            .as_object_mut()
            .unwrap()
            .remove("client_secret");
        Self { key, registration }
    }

    fn entry(&self, peer: &Peer, name: &str, kwargs: &str) -> String {
        format!(
            "[clients.{name}]\nclient_id = \"jar-client\"\nserver_metadata_url = \"{iss}/.well-known/openid-configuration\"\nclient_kwargs = {{ scope = \"openid email\", client_assertion_alg = \"ES256\", client_assertion_kid = \"jar-key\", client_assertion_key = '''{key}'''{kwargs} }}\n",
            iss = peer.issuer,
            key = self.key
        )
    }
}

/// The header of the request object in an authorization URL.
fn request_object_header(url: &url::Url) -> Value {
    use base64::Engine as _;
    let (_, jwt) = url.query_pairs().find(|(k, _)| k == "request").unwrap();
    let header = jwt.split('.').next().unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// The client's registration says `require_signed_request_object`: ferroauth signs the
/// authorization request with its private_key_jwt key, by value or pushed, typed
/// `oauth-authz-req+jwt` (RFC 9101 §10.8), and logs in; the same registration without
/// request objects is refused.
async fn signed_request_objects(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
    ]) {
        return;
    }
    let mut demo = Demo::reserve_on(framework).await;
    let jar = JarClient::new(&demo, &["byvalue", "pushed", "unsigned"], true);
    let peer = Peer::oidc_provider(&json!([jar.registration]), &[]);
    let toml = jar.entry(&peer, "byvalue", ", request_object = true")
        + &jar.entry(
            &peer,
            "pushed",
            ", request_object = true, pushed_authorization_requests = true",
        )
        + &jar.entry(&peer, "unsigned", "");
    demo.serve(&toml);

    let url = authorization_url(&demo, "byvalue").await;
    assert_eq!(
        query_names(&url),
        ["client_id", "request", "response_type", "scope"],
        "{url}"
    );
    let header = request_object_header(&url);
    assert_eq!(header["typ"], "oauth-authz-req+jwt", "{header}");
    assert_eq!(header["alg"], "ES256", "{header}");
    for name in ["byvalue", "pushed"] {
        let outcome = Browser::new(&demo)
            .login(name, "", AtProvider::LogIn("ivan"))
            .await;
        assert_eq!(
            outcome.status,
            200,
            "{name}: {}\n{}",
            outcome.body,
            peer.log()
        );
        assert_eq!(outcome.body["userinfo"]["sub"], "ivan");
    }
    let outcome = Browser::new(&demo)
        .login("unsigned", "", AtProvider::LogIn("ivan"))
        .await;
    assert_eq!(outcome.status, 400, "{}", outcome.body);
    assert_eq!(outcome.body["error"], "invalid_request", "{}", outcome.body);
}

/// The provider's metadata says `require_signed_request_object` (for every client): a
/// client whose settings say nothing of request objects signs its authorization requests
/// because the metadata asks, and logs in.
async fn request_objects_switched_on_by_the_metadata(framework: Framework) {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
    ]) {
        return;
    }
    let mut demo = Demo::reserve_on(framework).await;
    let jar = JarClient::new(&demo, &["auto"], false);
    let peer = Peer::oidc_provider(&json!([jar.registration]), &["--require-request-objects"]);
    demo.serve(&jar.entry(&peer, "auto", ""));
    let url = authorization_url(&demo, "auto").await;
    assert_eq!(
        query_names(&url),
        ["client_id", "request", "response_type", "scope"],
        "{url}"
    );
    let outcome = Browser::new(&demo)
        .login("auto", "", AtProvider::LogIn("ivan"))
        .await;
    assert_eq!(outcome.status, 200, "{}\n{}", outcome.body, peer.log());
    assert_eq!(outcome.body["userinfo"]["sub"], "ivan");
}

crate::on_both!(
    signed_request_objects,
    request_objects_switched_on_by_the_metadata,
    dpop_bound_tokens_es256,
    dpop_bound_tokens_eddsa_with_server_nonces,
    resource_indicators_bind_the_token_to_the_api,
    par_required_by_the_client_registration,
    par_required_by_the_metadata,
    par_endpoint_errors_are_typed,
);

// ---------------------------------------------------------------------------------------
// The device authorization grant (RFC 8628): no web app, the core API as a CLI uses it.

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// oidc-provider with one public device client, and that client in ferroauth.
fn device_setup(extra: &[&str]) -> (Peer, ferroauth::OAuthClient) {
    let peer = Peer::oidc_provider(
        &json!([{
            "client_id": "cli",
            "token_endpoint_auth_method": "none",
            "grant_types": [DEVICE_GRANT, "refresh_token"],
            "response_types": [],
            "redirect_uris": [],
        }]),
        extra,
    );
    let toml = format!(
        "[clients.cli]\nclient_id = \"cli\"\nserver_metadata_url = \"{}/.well-known/openid-configuration\"\nclient_kwargs = {{ scope = \"openid email\" }}\n",
        peer.issuer
    );
    let oauth = ferroauth::OAuth::from_settings(
        &ferroauth::settings::Settings::from_toml_str(&toml).unwrap(),
    )
    .unwrap();
    (peer, oauth.client("cli").unwrap())
}

/// The value of the attribute `name` in the tag `tag`.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let end = tag[start..].find('"')? + start;
    Some(tag[start..end].replace("&amp;", "&"))
}

/// The first form of a page: its action and its inputs that have a value.
fn form_of(html: &str) -> Option<(String, Vec<(String, String)>)> {
    let form = &html[html.find("<form")?..];
    let action = attribute(&form[..form.find('>')?], "action")?;
    let body = &form[..form.find("</form>")?];
    let inputs = body
        .split("<input")
        .skip(1)
        .filter_map(|tag| {
            let tag = &tag[..tag.find('>')?];
            Some((attribute(tag, "name")?, attribute(tag, "value")?))
        })
        .collect();
    Some((action, inputs))
}

/// Plays the user at oidc-provider: opens `verification_uri_complete`, confirms the code
/// (or aborts), logs in as `user` and consents; returns the last page.
async fn approve_device(uri: &str, user: &str, abort: bool) -> String {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut request = http.get(uri);
    let mut at = url::Url::parse(uri).unwrap();
    let mut aborted = false;
    for _ in 0..20 {
        let response = request.send().await.unwrap();
        if response.status().is_redirection() {
            at = at
                .join(response.headers()[LOCATION].to_str().unwrap())
                .unwrap();
            request = http.get(at.clone());
            continue;
        }
        let html = response.text().await.unwrap();
        let form = form_of(&html).filter(|_| !aborted);
        let Some((action, mut inputs)) = form else {
            return html;
        };
        if inputs.iter().any(|(k, v)| k == "prompt" && v == "login") {
            inputs.push(("login".into(), user.into()));
            inputs.push(("password".into(), "x".into()));
        }
        if abort && inputs.iter().any(|(k, _)| k == "confirm") {
            inputs.retain(|(k, _)| k != "confirm");
            inputs.push(("abort".into(), "yes".into()));
            aborted = true;
        }
        at = at.join(&action).unwrap();
        request = http.post(at.clone()).form(&inputs);
    }
    panic!("no end to the device approval")
}

#[tokio::test]
async fn device_flow_login_approved_at_the_provider() {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
    ]) {
        return;
    }
    let (peer, client) = device_setup(&[]);
    let mut device = client.device_authorization(&[]).await.unwrap();
    assert!(!device.user_code.is_empty());
    assert!(
        device.verification_uri.starts_with(&peer.issuer),
        "{device:?}"
    );
    let complete = device
        .verification_uri_complete
        .clone()
        .expect("a complete URI");
    // Before the user answers: pending. (oidc-provider never says slow_down; the mock
    // of crates/ferroauth/tests/device_flow.rs does.)
    assert!(matches!(
        client.poll_device_token(&mut device).await.unwrap(),
        ferroauth::DevicePoll::Pending
    ));

    let page = approve_device(&complete, "frank", false).await;
    assert!(page.contains("Sign-in Success"), "{page}\n{}", peer.log());
    // The library's own loop waits the (grown) interval, then gets the token.
    let login = client.wait_for_device_token(&mut device).await.unwrap();
    assert_eq!(login.userinfo["sub"], "frank");
    assert_eq!(login.userinfo["email"], "frank@example.test");
    assert_eq!(login.userinfo["iss"], peer.issuer.as_str());
    let ferroauth::Token::OAuth2(token) = &login.token else {
        panic!("an OAuth 2.0 token")
    };
    assert!(token.id_token.is_some(), "the ID token was validated");
}

#[tokio::test]
async fn device_flow_denied_and_expired() {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
    ]) {
        return;
    }
    let (_peer, client) = device_setup(&["--device-code-ttl", "3"]);
    let mut denied = client.device_authorization(&[]).await.unwrap();
    let complete = denied.verification_uri_complete.clone().unwrap();
    approve_device(&complete, "grace", true).await;
    let e = client.poll_device_token(&mut denied).await.unwrap_err();
    assert_eq!(e.code(), "access_denied", "{e}");

    let mut expired = client.device_authorization(&[]).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(3200)).await;
    let e = client.poll_device_token(&mut expired).await.unwrap_err();
    assert_eq!(e.code(), "expired_token", "{e}");
}

/// `client_kwargs.dpop_key` makes the proof key every instance's: a token bound on one
/// instance is used, and refreshed, on another (as behind a load balancer with one session
/// store), while an instance with its own generated key is refused by the provider.
#[tokio::test]
async fn a_dpop_key_from_the_settings_is_shared_by_instances() {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
    ]) {
        return;
    }
    let peer = Peer::oidc_provider(
        &json!([{
            "client_id": "shared",
            "token_endpoint_auth_method": "none",
            "grant_types": [DEVICE_GRANT, "refresh_token"],
            "response_types": [],
            "redirect_uris": [],
            "dpop_bound_access_tokens": true,
        }]),
        &[],
    );
    // A P-256 key in PKCS#8 PEM, as an app would keep in its secret store.
    let pem = rcgen::KeyPair::generate().unwrap().serialize_pem();
    let instance = |key: Option<&str>| {
        let key = key.map_or(String::new(), |pem| {
            format!(", dpop_key = \"{}\"", pem.trim().replace('\n', "\\n"))
        });
        let toml = format!(
            "[clients.cli]\nclient_id = \"shared\"\nserver_metadata_url = \"{}/.well-known/openid-configuration\"\nclient_kwargs = {{ scope = \"openid email offline_access\", dpop = true{key} }}\n",
            peer.issuer
        );
        let oauth = ferroauth::OAuth::from_settings(
            &ferroauth::settings::Settings::from_toml_str(&toml).unwrap(),
        )
        .unwrap();
        oauth.client("cli").unwrap()
    };
    let (one, two, stranger) = (instance(Some(&pem)), instance(Some(&pem)), instance(None));
    assert_eq!(one.dpop_thumbprint(), two.dpop_thumbprint());
    assert_ne!(one.dpop_thumbprint(), stranger.dpop_thumbprint());

    let mut device = one.device_authorization(&[]).await.unwrap();
    approve_device(
        device.verification_uri_complete.as_deref().unwrap(),
        "heidi",
        false,
    )
    .await;
    let login = one.wait_for_device_token(&mut device).await.unwrap();
    assert_eq!(login.token.token_type(), "DPoP", "{}", peer.log());
    let claims = two.userinfo(&login.token).await.unwrap();
    assert_eq!(claims["sub"], "heidi");
    let refused = stranger.userinfo(&login.token).await.unwrap_err();
    assert!(refused.to_string().contains("401"), "{refused}");

    let ferroauth::Token::OAuth2(token) = &login.token else {
        panic!("an OAuth 2.0 token")
    };
    assert!(
        token.refresh_token.is_some(),
        "offline_access gives a refresh token"
    );
    let refreshed = two.refresh_token(token).await.unwrap();
    assert_eq!(refreshed.token_type, "DPoP");
    let claims = one
        .userinfo(&ferroauth::Token::OAuth2(refreshed))
        .await
        .unwrap();
    assert_eq!(
        claims["sub"], "heidi",
        "the refreshed token works on the first instance"
    );
}

/// The example CLI (`src/bin/device_login.rs`) as a user runs it: it prints the address,
/// the user approves in "another browser", and it prints who logged in.
#[tokio::test]
async fn the_device_login_cli_logs_in() {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
    ]) {
        return;
    }
    use std::io::{BufRead, BufReader};
    let (peer, _) = device_setup(&[]);
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("ferroauth.toml");
    std::fs::write(
        &settings,
        format!(
            "[clients.cli]\nclient_id = \"cli\"\nserver_metadata_url = \"{}/.well-known/openid-configuration\"\nclient_kwargs = {{ scope = \"openid email\", token_endpoint_auth_method = \"none\" }}\n",
            peer.issuer
        ),
    )
    .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_device_login"))
        .arg(&settings)
        .arg("cli")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let complete = loop {
        let line = lines.next().expect("the CLI printed no address").unwrap();
        printed.push(line.clone());
        if let Some(rest) = line.strip_prefix("(or open ") {
            break rest.trim_end_matches(')').to_owned();
        }
    };
    assert!(
        printed[0].starts_with(&format!("To log in, open {}", peer.issuer)),
        "{printed:?}"
    );
    assert!(printed[1].starts_with("and enter the code "), "{printed:?}");
    let page = approve_device(&complete, "heidi", false).await;
    assert!(page.contains("Sign-in Success"), "{page}");
    let last = tokio::task::spawn_blocking(move || {
        let last = lines.next().expect("the CLI said nothing more").unwrap();
        let status = child.wait().unwrap();
        (last, status)
    })
    .await
    .unwrap();
    assert!(last.1.success(), "{last:?}");
    assert!(
        last.0
            .starts_with("logged in as heidi (scope: openid email"),
        "{last:?}"
    );
}
