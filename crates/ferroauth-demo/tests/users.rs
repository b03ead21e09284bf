//! The app's own users through the demo's routes, on both frameworks, against three
//! testkit providers on ports of their own (other origins than the demo):
//!
//! | provider | its user `alice` |
//! |---|---|
//! | `a` | `alice@example.test`, verified |
//! | `b` | the same address, **not** verified |
//! | `c` | the same address, verified |
//!
//! The demo keeps users in memory with e-mail linking switched on, so that the tests show
//! both sides of the rule: a verified address joins, an unverified one never does. The
//! last tests run two instances over one Redis, then one PostgreSQL, with the users in the
//! same server (`StoreChoice::open_user_store`, as the demo binary opens them), and
//! logins crossing between the instances.

mod support;

use ferroauth::OAuth;
use ferroauth::users::{MemoryUserStore, Users};
use ferroauth_testkit::{Client, TestProvider, User};
use reqwest::Method;
use reqwest::header::{ACCEPT, COOKIE, LOCATION};
use serde_json::Value;
use support::Framework;
use support::framework::Running;
use support::harness::{self, Agent};
use url::Url;

const CLIENTS: [(&str, bool); 3] = [("a", true), ("b", false), ("c", true)];

struct World {
    base: String,
    http: reqwest::Client,
    _providers: Vec<TestProvider>,
    _running: Option<Running>,
}

impl World {
    async fn start(framework: Framework) -> World {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (providers, settings) = providers(&[&base]).await;
        let oauth = OAuth::from_settings(&settings).unwrap();
        oauth.set_users(Users::new(MemoryUserStore::new()).link_verified_email(true));
        let running = Running::memory(framework, listener, oauth, Default::default());
        World {
            base,
            http: harness::http(),
            _providers: providers,
            _running: Some(running),
        }
    }

    /// A same-origin request of a browser (`accept`), with `agent`'s cookies.
    async fn send(
        &self,
        agent: &mut Agent,
        method: Method,
        path_or_url: &str,
        accept: &str,
    ) -> reqwest::Response {
        let url = match path_or_url.starts_with('/') {
            true => format!("{}{path_or_url}", self.base),
            false => path_or_url.to_owned(),
        };
        let mut request = self
            .http
            .request(method, &url)
            .header(ACCEPT, accept)
            .header("sec-fetch-site", "same-origin");
        if !agent.cookies.is_empty() {
            request = request.header(COOKIE, agent.cookie_header());
        }
        let response = request.send().await.unwrap();
        agent.absorb(&response);
        response
    }

    /// Follows a login route (`/login/{name}?...`) through the provider, as `user`, to the
    /// callback, which a browser asks for HTML: its answer (a redirect once logged in).
    async fn login(&self, agent: &mut Agent, route: &str, user: &str) -> reqwest::Response {
        let sep = if route.contains('?') { '&' } else { '?' };
        let mut next = format!("{route}{sep}login_hint={user}");
        let mut seen = Vec::new();
        for _ in 0..10 {
            let response = self.send(agent, Method::GET, &next, "text/html").await;
            let at = Url::parse(response.url().as_str()).unwrap();
            seen.push(at.to_string());
            if at.path().starts_with("/auth/") && at.as_str().starts_with(&self.base) {
                return response;
            }
            assert!(
                response.status().is_redirection(),
                "{next} answered {} (after {seen:?})",
                response.status()
            );
            next = location(&response);
        }
        panic!("no callback after {seen:?}");
    }

    /// `GET /me` as JSON: the status and the body.
    async fn me(&self, agent: &mut Agent) -> (u16, Value) {
        let response = self
            .send(agent, Method::GET, "/me", "application/json")
            .await;
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The app's user of a fresh browser that logs in with `client` as `user`.
    async fn user_of(&self, client: &str, user: &str) -> String {
        let mut agent = Agent::new();
        let done = self
            .login(&mut agent, &format!("/login/{client}"), user)
            .await;
        assert_eq!(done.status(), 303, "{client}");
        user_id(&self.me(&mut agent).await.1)
    }
}

/// The three providers, each with one client whose redirect URIs are those of the demos at
/// `bases`, and the demo's settings for them.
async fn providers(bases: &[&str]) -> (Vec<TestProvider>, ferroauth::settings::Settings) {
    let mut providers = Vec::new();
    let mut toml = String::new();
    for (name, verified) in CLIENTS {
        let mut client = Client::confidential(
            "demo",
            "a-long-client-secret-0123456789abcdef",
            format!("{}/auth/{name}", bases[0]),
        );
        for base in &bases[1..] {
            client = client.redirect_uri(format!("{base}/auth/{name}"));
        }
        let provider = TestProvider::builder()
            .user(
                User::new("alice")
                    .email("alice@example.test")
                    .email_verified(verified),
            )
            .user(User::new("bob").email("bob@example.test"))
            .client(client)
            .auto_approve(true)
            .start()
            .await
            .unwrap();
        let issuer = provider.issuer();
        toml.push_str(&format!(
            "[clients.{name}]\nclient_id = \"demo\"\nclient_secret = \"a-long-client-secret-0123456789abcdef\"\nserver_metadata_url = \"{issuer}/.well-known/openid-configuration\"\nclient_kwargs = {{ scope = \"openid email profile\" }}\n"
        ));
        providers.push(provider);
    }
    let settings = ferroauth::settings::Settings::from_toml_str(&toml).unwrap();
    (providers, settings)
}

fn location(response: &reqwest::Response) -> String {
    let raw = response.headers()[LOCATION].to_str().unwrap();
    response.url().join(raw).unwrap().to_string()
}

fn user_id(me: &Value) -> String {
    me["user_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no user: {me}"))
        .to_owned()
}

fn identities(me: &Value) -> Vec<(String, String)> {
    let mut all: Vec<_> = me["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let text = |k: &str| i[k].as_str().unwrap().to_owned();
            (text("provider"), text("sub"))
        })
        .collect();
    all.sort();
    all
}

async fn a_protected_page_sends_a_browser_to_the_login_and_back(framework: Framework) {
    let world = World::start(framework).await;
    let mut agent = Agent::new();
    let refused = world
        .send(&mut agent, Method::GET, "/me", "text/html")
        .await;
    assert_eq!(refused.status(), 303);
    assert_eq!(refused.headers()[LOCATION], "/login?next=%2Fme");
    let (status, body) = world.me(&mut agent).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("login_required"))
    );
    let chooser = world
        .send(&mut agent, Method::GET, "/login?next=%2Fme", "text/html")
        .await;
    let page = chooser.text().await.unwrap();
    for (name, _) in CLIENTS {
        assert!(
            page.contains(&format!("href=\"/login/{name}?next=%2Fme\"")),
            "{page}"
        );
    }
    let done = world
        .login(&mut agent, "/login/a?next=%2Fme", "alice")
        .await;
    assert_eq!(done.status(), 303);
    assert_eq!(
        done.headers()[LOCATION],
        "/me",
        "lands on the page it asked for"
    );
    let (status, me) = world.me(&mut agent).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(identities(&me), [("a".into(), "alice".into())]);
    assert_eq!(me["logins"], serde_json::json!(["a"]));
    // Another host in `next` is dropped, not followed.
    let evil = world
        .send(
            &mut Agent::new(),
            Method::GET,
            "//evil.example/me",
            "text/html",
        )
        .await;
    assert_eq!(evil.status(), 404, "no route, so no redirect at all");
    assert!(
        !evil
            .headers()
            .get(LOCATION)
            .is_some_and(|l| l.to_str().unwrap().contains("evil")),
        "{:?}",
        evil.headers().get(LOCATION)
    );
}

async fn linking_a_second_provider_makes_one_user_with_two_identities(framework: Framework) {
    let world = World::start(framework).await;
    let mut agent = Agent::new();
    world.login(&mut agent, "/login/a", "alice").await;
    let (_, me) = world.me(&mut agent).await;
    let user = user_id(&me);
    // Logged in, a login with provider b links it (b's address is unverified: linking
    // while logged in needs no address).
    let done = world.login(&mut agent, "/login/b", "alice").await;
    assert_eq!(done.status(), 303);
    let (_, me) = world.me(&mut agent).await;
    assert_eq!(user_id(&me), user);
    assert_eq!(
        identities(&me),
        [("a".into(), "alice".into()), ("b".into(), "alice".into())]
    );
    assert_eq!(
        world.user_of("b", "alice").await,
        user,
        "b alone finds the user"
    );
    assert_eq!(world.user_of("a", "alice").await, user, "so does a");
    assert_ne!(world.user_of("a", "bob").await, user);
}

async fn an_identity_of_another_user_is_never_moved(framework: Framework) {
    let world = World::start(framework).await;
    let alice = world.user_of("a", "alice").await;
    let mut agent = Agent::new();
    world.login(&mut agent, "/login/b", "bob").await;
    let (_, me) = world.me(&mut agent).await;
    let bob = user_id(&me);
    let refused = world.login(&mut agent, "/login/a", "alice").await;
    assert_eq!(refused.status(), 409);
    let (_, me) = world.me(&mut agent).await;
    assert_eq!(user_id(&me), bob, "the session stays bob's");
    assert_eq!(identities(&me), [("b".into(), "bob".into())]);
    assert_eq!(world.user_of("a", "alice").await, alice);
}

async fn another_account_at_the_same_provider_is_not_linked(framework: Framework) {
    let world = World::start(framework).await;
    let mut agent = Agent::new();
    world.login(&mut agent, "/login/a", "alice").await;
    let (_, me) = world.me(&mut agent).await;
    let alice = user_id(&me);
    // Someone else at the same computer, still logged in as alice, logs in as bob.
    let refused = world.login(&mut agent, "/login/a", "bob").await;
    assert_eq!(refused.status(), 409);
    let (_, me) = world.me(&mut agent).await;
    assert_eq!(user_id(&me), alice);
    assert_eq!(
        identities(&me),
        [("a".into(), "alice".into())],
        "bob not linked"
    );
    assert_ne!(
        world.user_of("a", "bob").await,
        alice,
        "bob has a user of his own"
    );
}

async fn unlinking_works_but_never_the_last_identity(framework: Framework) {
    let world = World::start(framework).await;
    let mut agent = Agent::new();
    world.login(&mut agent, "/login/a", "alice").await;
    let json = "application/json";
    let refused = world
        .send(&mut agent, Method::POST, "/unlink/a", json)
        .await;
    assert_eq!(refused.status(), 409);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "last_identity");
    world.login(&mut agent, "/login/b", "alice").await;
    // From another site: refused before anything changes.
    let mut request = world
        .http
        .post(format!("{}/unlink/b", world.base))
        .header(ACCEPT, json)
        .header("sec-fetch-site", "cross-site")
        .header(COOKIE, agent.cookie_header());
    request = request.header("origin", "http://evil.example");
    assert_eq!(request.send().await.unwrap().status(), 403);
    let (_, me) = world.me(&mut agent).await;
    assert_eq!(identities(&me).len(), 2);
    let unlinked = world
        .send(&mut agent, Method::POST, "/unlink/b", json)
        .await;
    assert_eq!(unlinked.status(), 200);
    let (_, me) = world.me(&mut agent).await;
    assert_eq!(identities(&me), [("a".into(), "alice".into())]);
    assert_eq!(
        me["logins"],
        serde_json::json!(["a"]),
        "b's login forgotten"
    );
    let b_alone = world.user_of("b", "alice").await;
    assert_ne!(b_alone, user_id(&me), "b now makes a user of its own");
}

async fn an_unverified_address_never_joins_a_user(framework: Framework) {
    let world = World::start(framework).await;
    let alice = world.user_of("a", "alice").await;
    assert_ne!(
        world.user_of("b", "alice").await,
        alice,
        "b says alice@example.test but does not vouch for it"
    );
    // The control: c vouches for the same address, and the demo opted in to linking.
    assert_eq!(world.user_of("c", "alice").await, alice);
}

async fn a_stale_login_goes_back_through_the_provider_with_max_age(framework: Framework) {
    let world = World::start(framework).await;
    let mut agent = Agent::new();
    world.login(&mut agent, "/login/a", "alice").await;
    let fresh = world
        .send(
            &mut agent,
            Method::GET,
            "/me?max_age=60",
            "application/json",
        )
        .await;
    assert_eq!(fresh.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let stale = world
        .send(&mut agent, Method::GET, "/me?max_age=1", "application/json")
        .await;
    assert_eq!(stale.status(), 401);
    assert_eq!(
        stale.json::<Value>().await.unwrap()["error"],
        "login_too_old"
    );
    let stale = world
        .send(&mut agent, Method::GET, "/me?max_age=1", "text/html")
        .await;
    assert_eq!(stale.status(), 303);
    let again = stale.headers()[LOCATION].to_str().unwrap().to_owned();
    assert_eq!(again, "/login/a?max_age=1&next=%2Fme%3Fmax_age%3D1");
    let to_provider = world
        .send(&mut agent, Method::GET, &again, "text/html")
        .await;
    let authorize = Url::parse(&location(&to_provider)).unwrap();
    assert!(
        authorize
            .query_pairs()
            .any(|(k, v)| k == "max_age" && v == "1"),
        "the provider is asked for a fresh authentication: {authorize}"
    );
    let done = world.login(&mut agent, &again, "alice").await;
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()[LOCATION], "/me?max_age=1");
    let fresh = world
        .send(&mut agent, Method::GET, "/me?max_age=1", "application/json")
        .await;
    assert_eq!(fresh.status(), 200);
    let bad = world
        .send(
            &mut agent,
            Method::GET,
            "/me?max_age=soon",
            "application/json",
        )
        .await;
    assert_eq!(bad.status(), 400, "a browser's bad value is a 4xx");
}

/// Two instances over the store `url` names, users included: a user made on one is found
/// on the other, a link made on one holds on the other, and the last identity is refused
/// on either.
async fn users_are_shared_between_instances(framework: Framework, url: &str) {
    let mut listeners = Vec::new();
    let mut bases = Vec::new();
    for _ in 0..2 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        bases.push(format!("http://{}", listener.local_addr().unwrap()));
        listeners.push(listener);
    }
    let (providers, settings) = providers(&[&bases[0], &bases[1]]).await;
    let choice: ferroauth::session::store::StoreChoice = url.parse().unwrap();
    let mut running = Vec::new();
    for listener in listeners {
        let oauth = OAuth::from_settings(&settings).unwrap();
        oauth.set_users(Users::shared(choice.open_user_store().await.unwrap()));
        let options = Default::default();
        running.push(Running::with_store(framework, listener, oauth, options, &choice, None).await);
    }
    let world = |i: usize| World {
        base: bases[i].clone(),
        http: harness::http(),
        _providers: Vec::new(),
        _running: None,
    };
    let (one, two) = (world(0), world(1));
    let alice = one.user_of("a", "alice").await;
    assert_eq!(
        two.user_of("a", "alice").await,
        alice,
        "made on one, found on two"
    );
    let mut agent = Agent::new();
    two.login(&mut agent, "/login/a", "alice").await;
    two.login(&mut agent, "/login/b", "alice").await;
    assert_eq!(
        one.user_of("b", "alice").await,
        alice,
        "linked on two, found on one"
    );
    let json = "application/json";
    assert_eq!(
        one.send(&mut agent, Method::POST, "/unlink/b", json)
            .await
            .status(),
        200
    );
    let refused = two.send(&mut agent, Method::POST, "/unlink/a", json).await;
    assert_eq!(
        refused.status(),
        409,
        "the last identity, on the other instance"
    );
    drop((running, providers));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_shared_between_instances_on_redis() {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Redis]) {
        return;
    }
    let redis = support::services::Redis::start();
    users_are_shared_between_instances(Framework::Axum, &redis.url()).await;
    users_are_shared_between_instances(Framework::Actix, &redis.url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_shared_between_instances_on_postgres() {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Postgres])
    {
        return;
    }
    let pg = support::services::Postgres::start();
    users_are_shared_between_instances(Framework::Axum, &pg.url()).await;
    users_are_shared_between_instances(Framework::Actix, &pg.url()).await;
}

on_both!(
    a_protected_page_sends_a_browser_to_the_login_and_back,
    linking_a_second_provider_makes_one_user_with_two_identities,
    an_identity_of_another_user_is_never_moved,
    another_account_at_the_same_provider_is_not_linked,
    unlinking_works_but_never_the_last_identity,
    an_unverified_address_never_joins_a_user,
    a_stale_login_goes_back_through_the_provider_with_max_age,
);
