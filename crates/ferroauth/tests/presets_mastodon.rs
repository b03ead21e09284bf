//! The `mastodon` preset against local Mastodon instances that know no app until it
//! registers (`presets/mastodon_fixture.rs`), on their real-looking host names over TLS
//! (`presets/world.rs`). The settings are two lines; each login names its instance
//! through the login route's query (`ferroauth::web::flows::start_login`, as
//! `GET /login/mastodon?instance=…` does), and the callback finishes it
//! (`finish_login`, as `/auth/mastodon` does).

#[path = "presets/mastodon_fixture.rs"]
mod mastodon_fixture;
#[path = "presets/world.rs"]
mod world;

use std::collections::HashMap;
use std::sync::Mutex;

use ferroauth::registration::{FileRegistrationStore, MemoryRegistrationStore};
use ferroauth::session::Session;
use ferroauth::web::flows;
use ferroauth::{CallbackParams, Error, Login, OAuth, OAuthClient};
use mastodon_fixture::{Instance, Registrations};
use world::{REDIRECT_URI, World};

/// The whole settings block an app needs.
const SETTINGS: &str = "[clients.mastodon]\npreset = \"mastodon\"\n";

/// A session in memory, as a web adapter's would be for one browser.
#[derive(Default)]
struct TestSession {
    entries: Mutex<HashMap<String, String>>,
}

impl Session for TestSession {
    async fn get(&self, key: &str) -> Result<Option<String>, Error> {
        Ok(self.entries.lock().unwrap().get(key).cloned())
    }
    async fn insert(&self, key: &str, json: String) -> Result<(), Error> {
        self.entries.lock().unwrap().insert(key.to_owned(), json);
        Ok(())
    }
    async fn remove(&self, key: &str) -> Result<(), Error> {
        self.entries.lock().unwrap().remove(key);
        Ok(())
    }
    async fn renew(&self) -> Result<(), Error> {
        Ok(())
    }
    async fn clear(&self) -> Result<(), Error> {
        self.entries.lock().unwrap().clear();
        Ok(())
    }
    fn is_present(&self) -> bool {
        true
    }
}

/// `GET /login/mastodon?<query>`: the URL the browser is sent to.
async fn start(
    client: &OAuthClient,
    session: &TestSession,
    query: &str,
) -> Result<url::Url, Error> {
    flows::start_login(client, session, REDIRECT_URI, query).await
}

/// A whole login in one browser: the login route with `instance`, the instance's
/// authorization page, and the callback.
async fn login(world: &World, client: &OAuthClient, instance: &str) -> Result<Login, Error> {
    let session = TestSession::default();
    let url = start(client, &session, &format!("instance={instance}")).await?;
    assert_eq!(
        url.host_str(),
        Some(instance),
        "the login goes to its instance"
    );
    let response = world.browse(url.as_str()).await;
    assert!(
        response.status().is_redirection(),
        "the instance redirects back: {}",
        response.status()
    );
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or("");
    let callback = CallbackParams::parse(query).unwrap();
    flows::finish_login(client, &session, &callback).await
}

async fn two_instances() -> (World, Instance, Instance) {
    // The same account id on both servers: only the instance tells the users apart.
    let social = Instance::new("mastodon.social", "109", "alice", Registrations::Open);
    let hachyderm = Instance::new("hachyderm.io", "109", "bob", Registrations::Open);
    let world = World::start(vec![
        ("mastodon.social", social.router()),
        ("hachyderm.io", hachyderm.router()),
    ])
    .await;
    (world, social, hachyderm)
}

/// The proof of the issue: two instances, two registrations, each reused on the second
/// login; and two users with the same account id on two servers are two identities.
#[tokio::test]
async fn two_instances_register_once_each_and_reuse_it_on_the_next_login() {
    let (world, social, hachyderm) = two_instances().await;
    let client = world.client(SETTINGS, "mastodon");
    assert!(client.is_fediverse());

    let alice = login(&world, &client, "mastodon.social").await.unwrap();
    assert_eq!((social.registrations(), hachyderm.registrations()), (1, 0));
    let bob = login(&world, &client, "hachyderm.io").await.unwrap();
    assert_eq!((social.registrations(), hachyderm.registrations()), (1, 1));

    let alice_again = login(&world, &client, "mastodon.social").await.unwrap();
    let bob_again = login(&world, &client, "hachyderm.io").await.unwrap();
    assert_eq!(
        (social.registrations(), hachyderm.registrations()),
        (1, 1),
        "the second login at each instance reuses its registration"
    );

    // Each registration was made with the app's redirect URI and the preset's scope.
    let apps = world.seen_at("/api/v1/apps");
    assert_eq!(apps.len(), 2);
    for app in &apps {
        assert_eq!(app.form("redirect_uris").as_deref(), Some(REDIRECT_URI));
        assert_eq!(app.form("scopes").as_deref(), Some("read:accounts"));
        assert_eq!(app.form("client_name").as_deref(), Some("app.example"));
        assert_eq!(app.form("website").as_deref(), Some("https://app.example"));
    }
    // Each token request used its own instance's client id.
    for token in world.seen_at("/oauth/token") {
        let basic = token.header("authorization").unwrap_or_default().to_owned();
        assert!(basic.starts_with("Basic "), "{basic}");
    }
    assert_eq!(world.seen_at("/oauth/token").len(), 4);

    for (login, sub, username, iss) in [
        (
            &alice,
            "109@mastodon.social",
            "alice@mastodon.social",
            "https://mastodon.social",
        ),
        (
            &alice_again,
            "109@mastodon.social",
            "alice@mastodon.social",
            "https://mastodon.social",
        ),
        (
            &bob,
            "109@hachyderm.io",
            "bob@hachyderm.io",
            "https://hachyderm.io",
        ),
        (
            &bob_again,
            "109@hachyderm.io",
            "bob@hachyderm.io",
            "https://hachyderm.io",
        ),
    ] {
        assert_eq!(login.client, "mastodon");
        assert_eq!(login.userinfo["sub"], sub);
        assert_eq!(login.userinfo["preferred_username"], username);
        assert_eq!(login.userinfo["iss"], iss);
        // An empty display name falls back to the username; no e-mail is vouched for.
        assert_eq!(login.userinfo["name"], username.split('@').next().unwrap());
        assert_eq!(login.userinfo["email_verified"], false);
    }
}

/// The fixture really requires registration first: a client id it did not give gets no
/// authorization page, so the reuse above is not the fixture accepting anything.
#[tokio::test]
async fn the_fixture_refuses_a_client_it_did_not_register() {
    let (world, social, _) = two_instances().await;
    let client = world.client(
        "[clients.made-up]\nclient_id = \"never-registered\"\nclient_secret = \"x\"\nauthorize_url = \"https://mastodon.social/oauth/authorize\"\naccess_token_url = \"https://mastodon.social/oauth/token\"\n",
        "made-up",
    );
    let pending = ferroauth::session::pending::MemoryPendingStore::new();
    let url = client
        .authorize_redirect(&pending, REDIRECT_URI)
        .await
        .unwrap();
    let response = world.browse(url.as_str()).await;
    assert_eq!(response.status().as_u16(), 401);
    // Its token endpoint refuses the unknown client id too.
    let state = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let forged = CallbackParams::parse(&format!("code=guessed&state={state}")).unwrap();
    let e = client
        .authorize_access_token(&pending, &forged)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_client", "{e}");
    assert_eq!(social.registrations(), 0);
}

/// Concurrent first logins at one instance register once (single flight).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_logins_at_one_instance_register_once() {
    let (world, social, _) = two_instances().await;
    let client = world.client(SETTINGS, "mastodon");
    let logins: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                let session = TestSession::default();
                start(&client, &session, "instance=mastodon.social")
                    .await
                    .map(|url| url.host_str().map(str::to_owned))
            })
        })
        .collect();
    for login in logins {
        assert_eq!(
            login.await.unwrap().unwrap().as_deref(),
            Some("mastodon.social")
        );
    }
    assert_eq!(social.registrations(), 1);
}

/// An instance that refuses the registration, or answers something that is not one, is
/// `registration_refused` (a provider failure, 502); nothing is kept, so the next login
/// asks again.
#[tokio::test]
async fn an_instance_that_refuses_registration_is_a_typed_error() {
    let refusing = Instance::new("closed.social", "1", "carol", Registrations::Refused);
    let garbage = Instance::new("not-mastodon.net", "1", "dave", Registrations::Garbage);
    let world = World::start(vec![
        ("closed.social", refusing.router()),
        ("not-mastodon.net", garbage.router()),
    ])
    .await;
    let client = world.client(SETTINGS, "mastodon");
    for (host, instance) in [("closed.social", &refusing), ("not-mastodon.net", &garbage)] {
        for attempt in 1..=2 {
            let session = TestSession::default();
            let e = start(&client, &session, &format!("instance={host}"))
                .await
                .unwrap_err();
            assert_eq!(e.code(), "registration_refused", "{e}");
            assert_eq!(e.kind().http_status(), 502);
            assert!(matches!(&e, Error::RegistrationRefused { instance, .. } if instance == host));
            assert_eq!(
                instance.registrations(),
                attempt,
                "{host}: nothing was kept"
            );
        }
    }
    let refused = start(&client, &TestSession::default(), "instance=closed.social")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("HTTP 422") && refused.contains("Validation failed"),
        "{refused}"
    );
    assert!(world.seen_at("/oauth/authorize").is_empty());
}

/// The instance comes from the browser: a name that would make the server call its own
/// network, or another host than the one named, is refused before any request.
#[tokio::test]
async fn instances_that_reach_elsewhere_are_refused_before_any_request() {
    let (world, _, _) = two_instances().await;
    let client = world.client(SETTINGS, "mastodon");
    for attack in [
        "127.0.0.1",
        "localhost",
        "169.254.169.254",
        "%5B%3A%3A1%5D",
        "0x7f.1",
        "2130706433",
        "metadata.google.internal",
        "mastodon.social%3A8443",
        "mastodon.social%40127.0.0.1",
        "127.0.0.1%23%40mastodon.social",
        "mastodon.social%2F..%2Fadmin",
        "http%3A%2F%2Fmastodon.social",
        "mastodon.social.",
    ] {
        let e = start(
            &client,
            &TestSession::default(),
            &format!("instance={attack}"),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidRequest {
                    parameter: "instance",
                    ..
                }
            ),
            "{attack}: {e:?}"
        );
        assert_eq!(e.kind().http_status(), 400);
    }
    assert!(
        world.seen().is_empty(),
        "no request may leave: {:?}",
        world.seen()
    );
    // Without an instance, a fediverse login cannot start either.
    let e = start(&client, &TestSession::default(), "")
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidRequest {
                parameter: "instance",
                ..
            }
        ),
        "{e:?}"
    );
}

/// Registrations kept in a persistent store survive the app: a new process (a new
/// registry over the same file) logs in without registering again.
#[tokio::test]
async fn a_kept_registration_is_reused_by_the_next_process() {
    let (world, social, _) = two_instances().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registrations.json");
    for _ in 0..2 {
        let oauth = OAuth::from_settings(&world.settings(SETTINGS)).unwrap();
        oauth.set_registration_store(FileRegistrationStore::new(&path));
        let client = oauth.client("mastodon").unwrap();
        let alice = login(&world, &client, "mastodon.social").await.unwrap();
        assert_eq!(alice.userinfo["sub"], "109@mastodon.social");
    }
    assert_eq!(social.registrations(), 1);
    // A memory store starts empty: a fresh one registers anew.
    let oauth = OAuth::from_settings(&world.settings(SETTINGS)).unwrap();
    oauth.set_registration_store(MemoryRegistrationStore::new());
    login(
        &world,
        &oauth.client("mastodon").unwrap(),
        "mastodon.social",
    )
    .await
    .unwrap();
    assert_eq!(social.registrations(), 2);
}

/// A callback carries no instance of its own: it finishes at the instance its pending
/// login started with, and a callback whose state is unknown is refused as such.
#[tokio::test]
async fn the_callback_finishes_at_the_instance_the_login_started_with() {
    let (world, social, hachyderm) = two_instances().await;
    let client = world.client(SETTINGS, "mastodon");
    let session = TestSession::default();
    let url = start(&client, &session, "instance=hachyderm.io")
        .await
        .unwrap();
    let response = world.browse(url.as_str()).await;
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    // The browser adds an `instance` of its choosing to the callback: it is not read.
    let query = format!(
        "{}&instance=mastodon.social",
        location.split_once('?').unwrap().1
    );
    let login = flows::finish_login(&client, &session, &CallbackParams::parse(&query).unwrap())
        .await
        .unwrap();
    assert_eq!(login.userinfo["sub"], "109@hachyderm.io");
    assert_eq!((social.registrations(), hachyderm.registrations()), (0, 1));
    let tokens = world.seen_at("/oauth/token");
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].host, "hachyderm.io");
    let unknown = CallbackParams::parse("code=x&state=never-issued").unwrap();
    let e = flows::finish_login(&client, &session, &unknown)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "state_unknown", "{e}");
}

/// A hostile instance that answers the registration with a redirect to an internal
/// address is not followed there: the login fails, and nothing reaches that address.
#[tokio::test]
async fn a_registration_redirected_elsewhere_is_not_followed() {
    let hostile = Instance::new("hostile.social", "1", "eve", Registrations::Redirect);
    let world = World::start(vec![("hostile.social", hostile.router())]).await;
    let client = world.client(SETTINGS, "mastodon");
    let e = start(&client, &TestSession::default(), "instance=hostile.social")
        .await
        .unwrap_err();
    assert_eq!(e.kind().http_status(), 502, "{e}");
    assert_eq!(hostile.registrations(), 1);
    assert!(
        world.seen().iter().all(|s| s.host == "hostile.social"),
        "{:?}",
        world.seen()
    );
}

/// The callback never registers: a process that does not know the login's registration
/// (its own memory store) fails the callback instead of registering anew, whose new
/// client id could not redeem the code anyway.
#[tokio::test]
async fn a_callback_without_its_registration_fails_and_does_not_register() {
    let (world, social, _) = two_instances().await;
    let first = world.client(SETTINGS, "mastodon");
    let other_process = world.client(SETTINGS, "mastodon");
    let session = TestSession::default();
    let url = start(&first, &session, "instance=mastodon.social")
        .await
        .unwrap();
    let response = world.browse(url.as_str()).await;
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let callback = CallbackParams::parse(location.split_once('?').unwrap().1).unwrap();
    let e = flows::finish_login(&other_process, &session, &callback)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "client_misconfigured", "{e}");
    assert!(e.to_string().contains("registration store"), "{e}");
    assert_eq!(social.registrations(), 1);
    assert!(world.seen_at("/oauth/token").is_empty());
}
