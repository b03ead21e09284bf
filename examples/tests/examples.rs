//! Every example of this folder, run as its own process the way a reader runs it
//! (`cargo run --example NAME`, no `ferroauth.toml`, so against the development provider
//! it starts), and used as its doc comment says: a scripted browser
//! (`ferroauth_testkit::agent`) logs in and checks what the app answers.

mod support;

use ferroauth_testkit::agent::Agent;
use support::Example;

/// A quick start as its doc comment says: not logged in, alice's login says hello, a
/// second browser is bob, and alice's logout goes through the provider back to "not
/// logged in" while bob stays logged in.
async fn quickstart_logs_in_and_out(name: &str) {
    let example = Example::serve(name).await;
    let agent = Agent::new();
    assert_eq!(
        agent.get(&example.url("/")).await.unwrap().body,
        "not logged in: open /login/<name>"
    );
    let page = agent
        .login(&example.url("/login/dev"), "alice")
        .await
        .unwrap();
    assert_eq!(page.body, "hello Alice Example", "{}", example.output());
    // Another browser is someone else.
    let other = Agent::new();
    let page = other
        .login(&example.url("/login/dev"), "bob")
        .await
        .unwrap();
    assert_eq!(page.body, "hello Bob Example", "{}", example.output());
    // Logout goes through the provider's end-session page and back to /.
    let page = agent.post_form(&example.url("/logout"), &[]).await.unwrap();
    assert_eq!(
        page.body,
        "not logged in: open /login/<name>",
        "{}",
        example.output()
    );
    assert_eq!(
        other.get(&example.url("/")).await.unwrap().body,
        "hello Bob Example"
    );
}

#[tokio::test]
async fn quickstart_logs_alice_in_and_says_hello() {
    quickstart_logs_in_and_out("quickstart").await;
}

#[tokio::test]
async fn quickstart_actix_logs_in_and_out_like_the_axum_one() {
    quickstart_logs_in_and_out("quickstart_actix").await;
}

/// A fresh cookie key in `COOKIE_KEYS`'s format.
fn cookie_key() -> String {
    ferroauth::session::sealed::CookieKeys::generate("k1").unwrap()
}

#[tokio::test]
async fn sealed_cookie_sessions_survive_a_restart_with_the_same_key_only() {
    let (port, key) = (support::free_port(), cookie_key());
    let keys = [("COOKIE_KEYS", key.clone())];
    let example = Example::serve_on("sealed_cookie_sessions", port, &keys, &[]).await;
    let agent = Agent::new();
    let page = agent
        .login(&example.url("/login/dev"), "alice")
        .await
        .unwrap();
    assert_eq!(page.body, "hello Alice Example", "{}", example.output());

    // The same key: the cookies open, with no store anywhere.
    example.stop().await;
    let example = Example::serve_on("sealed_cookie_sessions", port, &keys, &[]).await;
    let page = agent.get(&example.url("/")).await.unwrap();
    assert_eq!(page.body, "hello Alice Example", "{}", example.output());

    // Another key: the same cookies count as absent.
    example.stop().await;
    let other = [("COOKIE_KEYS", cookie_key())];
    let example = Example::serve_on("sealed_cookie_sessions", port, &other, &[]).await;
    let page = agent.get(&example.url("/")).await.unwrap();
    assert_eq!(page.body, "not logged in: open /login/<name>");
    // ... and the first key still opens them: nothing was overwritten.
    example.stop().await;
    let example = Example::serve_on("sealed_cookie_sessions", port, &keys, &[]).await;
    let page = agent.get(&example.url("/")).await.unwrap();
    assert_eq!(page.body, "hello Alice Example", "{}", example.output());
}

#[tokio::test]
async fn sealed_cookie_sessions_without_a_key_makes_one_and_says_so() {
    let example = Example::serve("sealed_cookie_sessions").await;
    let line = example.line_with("Start again with COOKIE_KEYS=").await;
    let printed = line
        .split("COOKIE_KEYS=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap();
    ferroauth::session::sealed::CookieKeys::parse(printed).expect("the printed key is valid");
    let page = Agent::new()
        .login(&example.url("/login/dev"), "bob")
        .await
        .unwrap();
    assert_eq!(page.body, "hello Bob Example", "{}", example.output());
}

#[tokio::test]
async fn sealed_cookie_sessions_refuses_a_short_or_malformed_key() {
    for (bad, why) in [
        ("k1:c2hvcnQ", "has 5 bytes; AES-256-GCM needs 32"),
        ("no-colon-here", "id:base64url-key"),
    ] {
        let example = Example::spawn(
            "sealed_cookie_sessions",
            &[
                ("COOKIE_KEYS", bad.to_owned()),
                ("LISTEN", "127.0.0.1:0".into()),
            ],
            &[],
        );
        let (status, output) = example.finish().await;
        assert!(!status.success(), "{bad}: {output}");
        assert!(output.contains("COOKIE_KEYS"), "{bad}: {output}");
        assert!(output.contains(why), "{bad}: {output}");
        assert!(!output.contains("listening on"), "{bad}: {output}");
    }
}

#[tokio::test]
async fn api_calls_refreshes_the_token_when_due_and_keeps_answering() {
    let env = [("ACCESS_TOKEN_SECONDS", "2".to_owned())];
    let example = Example::serve_on("api_calls", support::free_port(), &env, &[]).await;
    let agent = Agent::new();
    let before = agent.get(&example.url("/me/dev")).await.unwrap();
    assert_eq!(before.status, 401, "{}", before.body);
    assert_eq!(before.json().unwrap()["error"], "no_token");

    let page = agent
        .login(&example.url("/login/dev"), "alice")
        .await
        .unwrap();
    assert_eq!(
        page.body,
        "hello Alice Example: open /me/dev",
        "{}",
        example.output()
    );

    // The pass-through: the provider's answer as is.
    let relayed = agent.get(&example.url("/api/dev/me")).await.unwrap();
    assert_eq!(relayed.status, 200, "{}", relayed.body);
    assert_eq!(relayed.json().unwrap()["user"]["name"], "Alice Example");

    // The app's own call, with a fresh token: no refresh yet.
    let me = |page: ferroauth_testkit::agent::Page| {
        assert_eq!(page.status, 200, "{}", page.body);
        let json = page.json().unwrap();
        assert_eq!(json["status"], 200, "{json}");
        assert_eq!(json["api"]["sub"], "alice", "{json}");
        json
    };
    let first = me(agent.get(&example.url("/me/dev")).await.unwrap());
    assert_eq!(first["refreshes"], 0, "{first}");
    let expires = first["token_expires_at"].as_u64().unwrap();

    // Within a second or two the token is due: a call refreshes it and still answers.
    let mut refreshed = None;
    for _ in 0..100 {
        let json = me(agent.get(&example.url("/me/dev")).await.unwrap());
        if json["refreshes"].as_u64().unwrap() > 0 {
            refreshed = Some(json);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let refreshed = refreshed.unwrap_or_else(|| panic!("no refresh: {}", example.output()));
    assert_eq!(refreshed["refreshes"], 1, "{refreshed}");
    assert!(
        refreshed["token_expires_at"].as_u64().unwrap() > expires,
        "{refreshed} after {first}"
    );
    // The refreshed token works at the pass-through too.
    let relayed = agent.get(&example.url("/api/dev/me")).await.unwrap();
    assert_eq!(relayed.json().unwrap()["sub"], "alice");
}

#[tokio::test]
async fn api_calls_relay_keeps_paths_under_the_api_base() {
    let example = Example::serve("api_calls").await;
    let agent = Agent::new();
    agent
        .login(&example.url("/login/dev"), "alice")
        .await
        .unwrap();
    let escape = agent
        .get(&example.url("/api/dev/..%2F..%2Ftoken"))
        .await
        .unwrap();
    assert_eq!(escape.status, 400, "{}", escape.body);
    assert!(escape.body.contains("invalid_api_path"), "{}", escape.body);
}
