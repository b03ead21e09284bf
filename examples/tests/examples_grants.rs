//! The examples of grants, bound tokens, a custom provider and back-channel logout, each
//! run as its own process the way a reader runs it (`cargo run --example NAME`), and
//! checked on what it prints or answers: a command-line example's output and exit status,
//! a serving example's pages after a scripted login (`ferroauth_testkit::agent`).

mod support;

use ferroauth_testkit::agent::Agent;
use serde_json::Value;
use support::Example;

/// The JSON after `prefix` on the output line that starts with it.
fn json_after(output: &str, prefix: &str) -> Value {
    let line = output
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in: {output}"));
    serde_json::from_str(&line[prefix.len()..])
        .unwrap_or_else(|e| panic!("not JSON after {prefix:?} ({e}): {line}"))
}

/// The text between `start` and `end` in `line`.
fn between<'a>(line: &'a str, start: &str, end: &str) -> &'a str {
    let from = line
        .find(start)
        .map(|i| i + start.len())
        .unwrap_or_else(|| {
            panic!("no {start:?} in {line:?}");
        });
    let to = line[from..].find(end).map_or(line.len(), |i| from + i);
    &line[from..to]
}

#[tokio::test]
async fn client_credentials_calls_the_api_twice_with_one_cached_token() {
    let example = Example::spawn("client_credentials", &[], &[]);
    let (status, output) = example.finish().await;
    assert!(status.success(), "{output}");
    assert!(
        output.contains("token: Bearer, scope \"reports:read\", expires in "),
        "{output}"
    );
    for call in ["call 1: 200 ", "call 2: 200 "] {
        let answer = json_after(&output, call);
        // The API saw the service itself: no user, the client as the subject.
        assert_eq!(answer["sub"], "reporting-service", "{output}");
        assert_eq!(answer["client_id"], "reporting-service", "{output}");
        assert_eq!(answer["scope"], "reports:read", "{output}");
        assert!(answer.get("user").is_none(), "{output}");
    }
    // One token for the explicit fetch and both calls: the cache was used.
    assert!(
        output.contains("tokens the provider issued to reporting-service: 1\n"),
        "{output}"
    );
}

#[tokio::test]
async fn device_flow_prints_who_approved_the_device() {
    let example = Example::spawn("device_flow", &[], &["--poll-interval", "1"]);
    let shown = example.line_with("(or open ").await;
    let complete = between(&shown, "(or open ", ")").to_owned();
    let code = between(
        &example.line_with("and enter the code ").await,
        "code ",
        "\n",
    )
    .to_owned();
    assert!(
        complete.ends_with(&format!("/device?user_code={code}")),
        "{}",
        example.output()
    );
    assert!(example.output().contains("polling every 1 s"));

    let page = Agent::new()
        .approve_device(&complete, None, "alice")
        .await
        .unwrap();
    assert!(page.body.contains("Device connected"), "{}", page.body);

    let (status, output) = example.finish().await;
    assert!(status.success(), "{output}");
    assert!(
        output.contains("logged in as Alice Example (sub alice, email alice@example.test)\n"),
        "{output}"
    );
}

#[tokio::test]
async fn device_flow_fails_clearly_when_the_user_denies() {
    let example = Example::spawn("device_flow", &[], &["--poll-interval", "1"]);
    let uri = between(&example.line_with("To log in, open ").await, "open ", "\n").to_owned();
    let code = between(
        &example.line_with("and enter the code ").await,
        "code ",
        "\n",
    )
    .to_owned();

    // The user types the code on the provider's page and refuses.
    let agent = Agent::new();
    let form = agent.get(&uri).await.unwrap();
    let page = agent
        .submit(&form, &[("user_code", &code), ("action", "deny")])
        .await
        .unwrap();
    assert!(page.body.contains("Access denied"), "{}", page.body);

    let (status, output) = example.finish().await;
    assert_eq!(status.code(), Some(1), "{output}");
    assert!(
        output.contains("device login failed: the request was denied at the provider\n"),
        "{output}"
    );
    assert!(!output.contains("logged in as"), "{output}");
}

#[tokio::test]
async fn dpop_logs_in_and_calls_the_api_with_a_bound_token() {
    let example = Example::serve("dpop").await;
    let agent = Agent::new();
    let before = agent.get(&example.url("/")).await.unwrap();
    assert_eq!(before.body, "not logged in: open /login/dev-dpop");

    let page = agent
        .login(&example.url("/login/dev-dpop"), "alice")
        .await
        .unwrap();
    let body = &page.body;
    assert_eq!(page.status, 200, "{body}\n{}", example.output());
    assert!(body.starts_with("logged in as Alice Example\n"), "{body}");
    assert!(body.contains("\ntoken type: DPoP\n"), "{body}");
    let thumbprint = between(body, "proof key thumbprint: ", "\n");
    // A base64url SHA-256 (RFC 7638): 43 characters.
    assert_eq!(thumbprint.len(), 43, "{body}");
    // The provider takes a bound token only with a proof by its key: this answer is the
    // proof that ferroauth sent one.
    let answer = json_after(body, "the API answered 200: ");
    assert_eq!(answer["sub"], "alice", "{body}");
    assert_eq!(answer["client_id"], "demo-dpop", "{body}");
    assert_eq!(answer["user"]["name"], "Alice Example", "{body}");
}

#[tokio::test]
async fn custom_provider_logs_in_through_the_compliance_hooks() {
    let example = Example::serve_on("custom_provider", support::free_port(), &[], &[]).await;
    let base = example.url("");
    let agent = Agent::new();
    let page = agent
        .login(&format!("{base}/login/acme"), "alice")
        .await
        .unwrap();
    // The name is in the nested `user` of Acme's profile: the userinfo hook lifted it.
    // The token's expiry is in the envelope: the token_response hook lifted it.
    assert_eq!(page.status, 200, "{}\n{}", page.body, example.output());
    assert!(
        page.body
            .starts_with("hello Alice Example\nyour token expires at "),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn custom_provider_login_fails_without_the_hooks() {
    let example = Example::serve_on(
        "custom_provider",
        support::free_port(),
        &[],
        &["--without-hooks"],
    )
    .await;
    let base = example.url("");
    assert!(example.output().contains("no compliance hooks"));
    let page = Agent::new()
        .login(&format!("{base}/login/acme"), "alice")
        .await
        .unwrap();
    // The envelope hides the token: the callback cannot complete the login.
    assert_eq!(page.status, 502, "{}", page.body);
    assert!(
        page.body.contains("invalid_token_response"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn backchannel_logout_ends_only_the_named_users_sessions() {
    let example = Example::serve("backchannel_logout").await;
    let (alice, bob) = (Agent::new(), Agent::new());
    let page = alice
        .login(&example.url("/login/dev"), "alice")
        .await
        .unwrap();
    assert_eq!(page.body, "hello Alice Example", "{}", example.output());
    let page = bob.login(&example.url("/login/dev"), "bob").await.unwrap();
    assert_eq!(page.body, "hello Bob Example", "{}", example.output());

    // The provider ends alice's sessions and POSTs the logout token to the app, which
    // answers before the provider's call returns.
    let report = Agent::new()
        .post_form(&example.url("/demo/end-sessions/alice"), &[])
        .await
        .unwrap();
    assert!(
        report.body.starts_with("the provider ended 1 session(s)\n"),
        "{}",
        report.body
    );
    assert!(
        report.body.contains("logout token for alice (sid ")
            && report.body.ends_with("sent to demo-oidc: 200\n"),
        "{}\n{}",
        report.body,
        example.output()
    );

    let page = alice.get(&example.url("/")).await.unwrap();
    assert_eq!(page.body, "not logged in: open /login/dev");
    let page = bob.get(&example.url("/")).await.unwrap();
    assert_eq!(page.body, "hello Bob Example", "bob's session is his own");
}
