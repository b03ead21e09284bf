//! One scenario suite, written once against the HTTP contract (the crate docs of
//! `ferroauth_demo`, "The HTTP contract"), run against four apps as their own processes: the
//! quick-start apps of the guide's frameworks chapter as they are (`src/bin/quickstart.rs` on
//! axum, `src/bin/quickstart_actix.rs` on actix-web),
//! and the demo binary on each framework (`--framework axum|actix`). The providers are real: panva
//! oidc-provider (OpenID Connect, its own login and consent forms) and Authlib (OAuth 1.0a).
//!
//! Both apps serve the library's routes, so the login, form_post, logout and error
//! scenarios run on both; the API call and the refresh are routes only the demo mounts.

mod support;

use reqwest::header::{ACCEPT, LOCATION};
use serde_json::{Value, json};
use support::app::ChildApp;
use support::services::free_port;
use support::{AtProvider, Browser, Peer};

const SECRET: &str = "a-long-client-secret-for-the-scenario-suite-0123456789";
const OAUTH1_SECRET: &str = "scenario-consumer-secret";

/// Which app the scenarios run against.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Target {
    QuickStart,
    Demo,
    ActixQuickStart,
    ActixDemo,
}

impl Target {
    fn is_demo(self) -> bool {
        matches!(self, Target::Demo | Target::ActixDemo)
    }
}

/// The app under test, its providers and its settings.
struct World {
    target: Target,
    base: String,
    op: Peer,
    _authlib: Peer,
    _app: ChildApp,
    _dir: tempfile::TempDir,
}

impl World {
    async fn start(target: Target) -> World {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let op = Peer::oidc_provider(
            &json!([{
                "client_id": "scenario", "client_secret": SECRET,
                "redirect_uris": [format!("{base}/auth/op"), format!("{base}/auth/op-form")],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
            }]),
            &[],
        );
        let authlib = Peer::authlib(
            &json!([{ "client_id": "scenario-o1", "client_secret": OAUTH1_SECRET,
                      "redirect_uris": [format!("{base}/auth/authlib")] }]),
            &[],
        );
        let (o, a) = (&op.issuer, &authlib.issuer);
        let settings = format!(
            "[clients.op]\nclient_id = \"scenario\"\nclient_secret = \"{SECRET}\"\nserver_metadata_url = \"{o}/.well-known/openid-configuration\"\napi_base_url = \"{o}/\"\nclient_kwargs = {{ scope = \"openid email profile offline_access\" }}\n\
             [clients.op-form]\nclient_id = \"scenario\"\nclient_secret = \"{SECRET}\"\nserver_metadata_url = \"{o}/.well-known/openid-configuration\"\nauthorize_params = {{ response_mode = \"form_post\" }}\nclient_kwargs = {{ scope = \"openid email\" }}\n\
             [clients.authlib]\nclient_id = \"scenario-o1\"\nclient_secret = \"{OAUTH1_SECRET}\"\nrequest_token_url = \"{a}/oauth1/request_token\"\nauthorize_url = \"{a}/oauth1/authorize\"\naccess_token_url = \"{a}/oauth1/access_token\"\napi_base_url = \"{a}/oauth1/api/\"\n"
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ferroauth.toml"), settings).unwrap();
        let listen = format!("127.0.0.1:{port}");
        let (program, args): (&str, Vec<&str>) = match target {
            Target::QuickStart => (env!("CARGO_BIN_EXE_quickstart"), vec![]),
            Target::ActixQuickStart => (env!("CARGO_BIN_EXE_quickstart_actix"), vec![]),
            Target::Demo | Target::ActixDemo => {
                let framework = if target == Target::Demo {
                    "axum"
                } else {
                    "actix"
                };
                let args = vec!["--config", "ferroauth.toml", "--listen", &listen];
                (
                    env!("CARGO_BIN_EXE_ferroauth-demo"),
                    [args, vec!["--framework", framework]].concat(),
                )
            }
        };
        let env = [("LISTEN", listen.clone())];
        let app = ChildApp::spawn(program, &args, dir.path(), &env, port).await;
        World {
            target,
            base,
            op,
            _authlib: authlib,
            _app: app,
            _dir: dir,
        }
    }

    fn browser(&self) -> Browser {
        Browser::at(&self.base)
    }
}

fn error_of(outcome: &(u16, Value)) -> (u16, Option<&str>) {
    (outcome.0, outcome.1["error"].as_str())
}

/// OpenID Connect in query mode: the JSON answer names the provider, the user and the
/// token without its secrets.
async fn oidc_login(w: &World) {
    let b = w.browser();
    let outcome = b.login("op", "", AtProvider::LogIn("alice")).await;
    assert_eq!(outcome.status, 200, "{:?}: {}", w.target, outcome.body);
    assert_eq!(outcome.body["provider"], "op");
    assert_eq!(outcome.body["userinfo"]["sub"], "alice");
    assert_eq!(outcome.body["userinfo"]["email"], "alice@example.test");
    assert_eq!(outcome.body["token"]["token_type"], "Bearer");
    let text = outcome.body.to_string();
    assert!(
        !text.contains("access_token") && !text.contains("refresh_token"),
        "no secrets in the answer: {text}"
    );
}

/// OpenID Connect with `response_mode=form_post`.
async fn form_post_login(w: &World) {
    let outcome = w.browser().login_form_post("op-form", "bob").await;
    assert_eq!(outcome.0, 200, "{:?}: {}", w.target, outcome.1);
    assert_eq!(outcome.1["userinfo"]["sub"], "bob");
}

/// OAuth 1.0a at Authlib (which approves as alice at once).
async fn oauth1_login(w: &World) {
    let b = w.browser();
    let outcome = b.login("authlib", "", AtProvider::LogIn("alice")).await;
    assert_eq!(outcome.status, 200, "{:?}: {}", w.target, outcome.body);
    assert_eq!(outcome.body["userinfo"]["screen_name"], "alice");
    assert_eq!(outcome.body["token"]["token_type"], "OAuth1");
}

/// After a browser login: `next` when it is a path of the app; any other `next` is the
/// link's mistake, refused at the login route (400 `invalid_request`), never an open
/// redirect.
async fn next_is_same_origin_only(w: &World) {
    let b = w.browser();
    let callback = b
        .to_callback(
            "op",
            "next=%2Faccount%3Ftab%3D2",
            AtProvider::LogIn("carol"),
        )
        .await;
    let response = b.http.get(callback).send().await.unwrap();
    assert!(response.status().is_redirection(), "{:?}", w.target);
    assert_eq!(response.headers()[LOCATION], "/account?tab=2");
    for next in ["https%3A%2F%2Fevil.example%2F", "%2F%2Fevil.example"] {
        let response = b
            .http
            .get(format!("{}/login/op?next={next}", w.base))
            .header(ACCEPT, "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{:?}: next={next}", w.target);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request", "next={next}");
    }
}

/// The error cases, each with its own code.
async fn errors(w: &World) {
    let b = w.browser();
    // A callback in a browser without a session.
    let callback = b.to_callback("op", "", AtProvider::LogIn("dave")).await;
    assert_eq!(
        error_of(&w.browser().finish(&callback).await),
        (400, Some("session_missing"))
    );
    // A state this session never issued, then the real one twice.
    let mut forged = callback.clone();
    forged.set_query(Some("code=x&state=forged"));
    assert_eq!(
        error_of(&b.finish(&forged).await),
        (400, Some("state_unknown"))
    );
    assert_eq!(b.finish(&callback).await.0, 200);
    assert_eq!(
        error_of(&b.finish(&callback).await),
        (400, Some("state_reused"))
    );
    // The user declines at the provider.
    let b = w.browser();
    let outcome = b.login("op", "", AtProvider::Abort).await;
    assert_eq!(
        (outcome.status, outcome.body["error"].as_str()),
        (400, Some("access_denied"))
    );
    // An unknown client, a callback without state, a duplicated parameter.
    let response = b
        .http
        .get(format!("{}/login/nope", w.base))
        .header(ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "unknown_client");
    let mut bare = callback.clone();
    bare.set_query(Some("code=x"));
    assert_eq!(
        error_of(&b.finish(&bare).await),
        (400, Some("state_missing"))
    );
    bare.set_query(Some("state=a&state=b"));
    assert_eq!(
        error_of(&b.finish(&bare).await),
        (400, Some("callback_invalid"))
    );
}

/// Logout clears the session: the old session's logins are gone.
async fn logout(w: &World) {
    let b = w.browser();
    assert_eq!(
        b.login("op", "", AtProvider::LogIn("erin")).await.status,
        200
    );
    let (status, body) = b.post("/logout").await;
    assert_eq!((status, &body["logged_out"]), (200, &json!(true)), "{body}");
    let (status, _) = b.post("/logout").await;
    assert_eq!(status, 200, "logging out twice is fine");
}

/// Demo only: the API with the stored token, and a refresh that rotates it.
async fn api_and_refresh(w: &World) {
    let b = w.browser();
    let outcome = b
        .login("op", "prompt=consent", AtProvider::LogIn("frank"))
        .await;
    assert_eq!(outcome.status, 200, "{}", outcome.body);
    let (status, me) = b.api("op", "me").await;
    assert_eq!(
        (status, &me["sub"]),
        (200, &json!("frank")),
        "{}",
        w.op.log()
    );
    let count = |what: &str| w.op.log().matches(what).count();
    // The provider's log comes through a pipe, a moment after its answers, and lines of
    // earlier logins can still be on the way: take the counts once they have stopped
    // changing.
    let counts = || (count("POST /token ->"), count("GET /me ->"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut settled = counts();
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        let now = counts();
        if (now == settled && now.1 > 0) || std::time::Instant::now() > deadline {
            break;
        }
        settled = now;
    }
    let (tokens, userinfos) = settled;
    let (status, refreshed) = b.post("/refresh/op").await;
    assert_eq!(status, 200, "{refreshed}");
    // One refresh at the provider, then userinfo read again with the new token (the log
    // comes through a pipe, a moment after the answers).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while (count("POST /token ->"), count("GET /me ->")) != (tokens + 1, userinfos + 1)
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        (count("POST /token ->"), count("GET /me ->")),
        (tokens + 1, userinfos + 1),
        "{}",
        w.op.log()
    );
    assert_eq!(refreshed["provider"], "op");
    assert_eq!(refreshed["userinfo"]["sub"], "frank", "userinfo re-read");
    assert_ne!(
        refreshed["token"]["expires_at"],
        Value::Null,
        "a fresh expiry"
    );
    let (status, me) = b.api("op", "me").await;
    assert_eq!((status, &me["sub"]), (200, &json!("frank")));
    // alice's Authlib identity belongs to the user the OAuth 1.0a scenario made (the demo
    // keeps users): this browser, logged in as frank, may not take it, and nothing moves.
    let refused = b.login("authlib", "", AtProvider::LogIn("alice")).await;
    assert_eq!(
        error_of(&(refused.status, refused.body)),
        (409, Some("identity_linked_to_another_user"))
    );
    let (status, me) = b.api("op", "me").await;
    assert_eq!(
        (status, &me["sub"]),
        (200, &json!("frank")),
        "still frank's"
    );
    assert_eq!(b.api("authlib", "me").await.0, 401, "nothing of it kept");
    b.post("/logout").await;
    let (status, o1) = {
        assert_eq!(
            b.login("authlib", "", AtProvider::LogIn("alice"))
                .await
                .status,
            200
        );
        b.api("authlib", "me").await
    };
    assert_eq!((status, &o1["screen_name"]), (200, &json!("alice")));
    let (status, body) = b.post("/refresh/authlib").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("refresh_unsupported"))
    );
    b.post("/logout").await;
    let (status, body) = b.api("op", "me").await;
    assert_eq!((status, body["error"].as_str()), (401, Some("no_token")));
}

async fn suite(target: Target) {
    let w = World::start(target).await;
    oidc_login(&w).await;
    form_post_login(&w).await;
    oauth1_login(&w).await;
    next_is_same_origin_only(&w).await;
    errors(&w).await;
    logout(&w).await;
    if target.is_demo() {
        api_and_refresh(&w).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_on_the_readme_quick_start() {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
        ferroauth_testkit::services::Service::Authlib,
    ]) {
        return;
    }
    suite(Target::QuickStart).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_on_the_demo() {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
        ferroauth_testkit::services::Service::Authlib,
    ]) {
        return;
    }
    suite(Target::Demo).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_on_the_readme_actix_quick_start() {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
        ferroauth_testkit::services::Service::Authlib,
    ]) {
        return;
    }
    suite(Target::ActixQuickStart).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_on_the_actix_demo() {
    if ferroauth_testkit::services::skip_without(&[
        ferroauth_testkit::services::Service::OidcProvider,
        ferroauth_testkit::services::Service::Authlib,
    ]) {
        return;
    }
    suite(Target::ActixDemo).await;
}
