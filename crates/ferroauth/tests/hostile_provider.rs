//! Negative tests against a hostile provider: one test per rejection the client must make,
//! each asserting the exact error code (and, where it matters, the HTTP status a web
//! integration would answer).

mod hostile;

use std::sync::Arc;
use std::time::{Duration, Instant};

use ferroauth::CallbackParams;
use ferroauth::session::pending::MemoryPendingStore;
use hostile::{
    ClientAuth, Hits, Opts, Provider, SUBJECT, Signing, TokenMode, assert_refused, finish, now, qs,
};
use serde_json::{Value, json};

/// A plain OAuth 2.0 login (no `openid`, no ID token): for tests about everything but ID
/// tokens.
fn plain(p: &Provider) -> Opts {
    p.set(|b| b.id_token = false);
    Opts::default().scope("email")
}

// ---------------------------------------------------------------------------------------
// Sanity: the harness works.

#[tokio::test]
async fn happy_path_plain_oauth2_with_pkce_basic_auth_and_userinfo() {
    let p = Provider::start().await;
    let client = p.client(&plain(&p));
    let login = p.login(&client).await.expect("login");
    assert_eq!(login.userinfo["sub"], SUBJECT);
    assert_eq!(login.userinfo["email"], "alice@hostile.test");
    assert_eq!(p.token_hits(), 1);
    assert_eq!(Hits::get(&p.hits().userinfo), 1);
    assert!(p.problems().is_empty(), "{:?}", p.problems());
}

#[tokio::test]
async fn happy_path_openid_with_nonce_at_hash_and_userinfo() {
    let p = Provider::start().await;
    let client = p.client(&Opts::default());
    let store = MemoryPendingStore::new();
    let url = client
        .authorize_redirect(&store, hostile::REDIRECT_URI)
        .await
        .unwrap();
    let nonce = url
        .query_pairs()
        .find(|(k, _)| k == "nonce")
        .map(|(_, v)| v.into_owned())
        .expect("a nonce with scope openid");
    let approval = p.approve(&url);
    let login = finish(&client, &store, &approval.query())
        .await
        .unwrap_or_else(|e| panic!("login failed: {e} ({:?})", p.problems()));
    assert_eq!(login.userinfo["sub"], SUBJECT);
    assert_eq!(login.userinfo["iss"], p.base.as_str());
    // Merged from userinfo.
    assert_eq!(login.userinfo["email"], "alice@hostile.test");
    assert_eq!(login.userinfo["nonce"], nonce.as_str());
    assert_eq!(p.jwks_hits(), 1);
    assert_eq!(Hits::get(&p.hits().userinfo), 1);
    assert!(p.problems().is_empty(), "{:?}", p.problems());
}

// ---------------------------------------------------------------------------------------
// State

#[tokio::test]
async fn state_missing() {
    let p = Provider::start().await;
    let client = p.client(&plain(&p));
    let store = MemoryPendingStore::new();
    let approval = p.start_login(&client, &store).await;
    let r = finish(&client, &store, &qs(&[("code", &approval.code)])).await;
    assert_refused(r, "state_missing", 400);
    assert_eq!(p.token_hits(), 0);
}

#[tokio::test]
async fn state_unknown() {
    let p = Provider::start().await;
    let client = p.client(&plain(&p));
    let store = MemoryPendingStore::new();
    let approval = p.start_login(&client, &store).await;
    let forged = qs(&[("code", &approval.code), ("state", "forged-by-attacker")]);
    assert_refused(finish(&client, &store, &forged).await, "state_unknown", 400);
    // A state from another browser session is just as unknown here.
    let other_session = MemoryPendingStore::new();
    let r = finish(&client, &other_session, &approval.query()).await;
    assert_refused(r, "state_unknown", 400);
    assert_eq!(p.token_hits(), 0);
}

#[tokio::test]
async fn state_expired() {
    let p = Provider::start().await;
    let client = p.client(&plain(&p).login("pending_ttl = 1"));
    let store = MemoryPendingStore::new();
    let approval = p.start_login(&client, &store).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = finish(&client, &store, &approval.query()).await;
    assert_refused(r, "state_expired", 400);
    assert_eq!(p.token_hits(), 0);
}

#[tokio::test]
async fn state_replayed() {
    let p = Provider::start().await;
    let client = p.client(&plain(&p));
    let store = MemoryPendingStore::new();
    let approval = p.start_login(&client, &store).await;
    finish(&client, &store, &approval.query())
        .await
        .expect("first use");
    let r = finish(&client, &store, &approval.query()).await;
    assert_refused(r, "state_reused", 400);
    assert_eq!(p.token_hits(), 1, "a replay must not reach the provider");
}

#[tokio::test]
async fn callback_with_a_duplicated_parameter() {
    let p = Provider::start().await;
    let client = p.client(&plain(&p));
    let store = MemoryPendingStore::new();
    let approval = p.start_login(&client, &store).await;
    for query in [
        format!("{}&state=attacker", approval.query()),
        format!("{}&code=attacker", approval.query()),
    ] {
        assert_refused(
            finish(&client, &store, &query).await,
            "callback_invalid",
            400,
        );
    }
    assert_eq!(p.token_hits(), 0);
    // The malformed callbacks consumed nothing: the real one still works.
    finish(&client, &store, &approval.query())
        .await
        .expect("the genuine callback");
}

#[tokio::test]
async fn junk_state_is_refused_before_any_provider_call() {
    let p = Provider::start().await;
    let client = p.client(&plain(&p));
    let store = MemoryPendingStore::new();
    let approval = p.start_login(&client, &store).await;
    let long = "A".repeat(600);
    let r = finish(
        &client,
        &store,
        &qs(&[("code", &approval.code), ("state", &long)]),
    )
    .await;
    assert_refused(r, "state_unknown", 400);
    let huge = "A".repeat(100_000);
    let r = finish(
        &client,
        &store,
        &qs(&[("code", &approval.code), ("state", &huge)]),
    )
    .await;
    assert_refused(r, "callback_invalid", 400);
    let r = finish(
        &client,
        &store,
        &qs(&[("code", &approval.code), ("state", "")]),
    )
    .await;
    assert_refused(r, "state_unknown", 400);
    assert_eq!(p.token_hits(), 0);
}

#[tokio::test]
async fn callback_reaching_another_client() {
    let p = Provider::start().await;
    let opts = plain(&p);
    let oauth = p.oauth(&opts);
    let client = oauth.client(hostile::CLIENT).unwrap();
    let other = oauth
        .register("other", client.settings().clone())
        .expect("second client");
    let store = MemoryPendingStore::new();
    let approval = p.start_login(&client, &store).await;
    let r = finish(&other, &store, &approval.query()).await;
    assert_refused(r, "state_client_mismatch", 400);
    assert_eq!(p.token_hits(), 0);
}

#[tokio::test]
async fn pending_logins_are_bounded_per_session() {
    let p = Provider::start().await;
    let client = p.client(&plain(&p).login("max_pending = 3"));
    let store = MemoryPendingStore::new();
    let mut approvals = Vec::new();
    for _ in 0..4 {
        approvals.push(p.start_login(&client, &store).await);
    }
    assert_eq!(store.snapshot().len(), 3);
    let r = finish(&client, &store, &approvals[0].query()).await;
    assert_refused(r, "state_unknown", 400);
    finish(&client, &store, &approvals[3].query())
        .await
        .expect("the newest login");
    assert_eq!(p.token_hits(), 1);
}

// ---------------------------------------------------------------------------------------
// RFC 9207

#[tokio::test]
async fn iss_differing_is_a_mix_up() {
    let p = Provider::start().await;
    p.set(|b| b.iss_param_supported = true);
    let client = p.client(&plain(&p));
    let store = MemoryPendingStore::new();
    let approval = p.start_login(&client, &store).await;
    let query = qs(&[
        ("code", &approval.code),
        ("state", &approval.state),
        ("iss", "http://127.0.0.1:1/evil"),
    ]);
    assert_refused(
        finish(&client, &store, &query).await,
        "issuer_mismatch",
        400,
    );
    assert_eq!(p.token_hits(), 0);
}

#[tokio::test]
async fn iss_differing_is_refused_even_without_the_metadata_flag() {
    let p = Provider::start().await;
    let client = p.client(&plain(&p));
    let store = MemoryPendingStore::new();
    let approval = p.start_login(&client, &store).await;
    let query = qs(&[
        ("code", &approval.code),
        ("state", &approval.state),
        ("iss", &format!("{}/", p.base)),
    ]);
    assert_refused(
        finish(&client, &store, &query).await,
        "issuer_mismatch",
        400,
    );
    assert_eq!(p.token_hits(), 0);
}

#[tokio::test]
async fn iss_differing_on_an_error_response() {
    // RFC 9207 §2.4: error responses carry `iss` too, and a mix-up there is still a mix-up.
    let p = Provider::start().await;
    p.set(|b| b.iss_param_supported = true);
    let client = p.client(&plain(&p));
    let store = MemoryPendingStore::new();
    let approval = p.start_login(&client, &store).await;
    let query = qs(&[
        ("error", "access_denied"),
        ("state", &approval.state),
        ("iss", "http://127.0.0.1:1/evil"),
    ]);
    assert_refused(
        finish(&client, &store, &query).await,
        "issuer_mismatch",
        400,
    );
}

#[tokio::test]
async fn iss_absent_while_advertised() {
    let p = Provider::start().await;
    p.set(|b| b.iss_param_supported = true);
    let client = p.client(&plain(&p));
    let store = MemoryPendingStore::new();
    let approval = p.start_login(&client, &store).await;
    assert!(approval.iss.is_some());
    let query = qs(&[("code", &approval.code), ("state", &approval.state)]);
    assert_refused(
        finish(&client, &store, &query).await,
        "issuer_mismatch",
        400,
    );
    assert_eq!(p.token_hits(), 0);
}

#[tokio::test]
async fn iss_absent_without_the_flag_is_fine_and_present_is_fine() {
    let p = Provider::start().await;
    let client = p.client(&plain(&p));
    let store = MemoryPendingStore::new();
    let approval = p.start_login(&client, &store).await;
    assert!(approval.iss.is_none());
    finish(&client, &store, &approval.query())
        .await
        .expect("no iss, no flag");

    p.set(|b| b.iss_param_supported = true);
    let client = p.client(&plain(&p));
    let store = MemoryPendingStore::new();
    let approval = p.start_login(&client, &store).await;
    assert_eq!(approval.iss.as_deref(), Some(p.base.as_str()));
    finish(&client, &store, &approval.query())
        .await
        .expect("the right iss");
}

// ---------------------------------------------------------------------------------------
// The provider refuses on the front channel

#[tokio::test]
async fn provider_error_on_the_callback() {
    let p = Provider::start().await;
    let client = p.client(&plain(&p));
    let store = MemoryPendingStore::new();
    let approval = p.start_login(&client, &store).await;
    let query = qs(&[
        ("error", "access_denied"),
        ("error_description", "The user said <b>no</b>"),
        ("state", &approval.state),
    ]);
    let e = assert_refused(finish(&client, &store, &query).await, "access_denied", 400);
    assert!(e.to_string().contains("The user said <b>no</b>"), "{e}");
    assert_eq!(p.token_hits(), 0);
}

#[tokio::test]
async fn provider_invented_error_code_is_not_passed_through() {
    let p = Provider::start().await;
    let client = p.client(&plain(&p));
    let store = MemoryPendingStore::new();
    let approval = p.start_login(&client, &store).await;
    let query = qs(&[("error", "<script>x</script>"), ("state", &approval.state)]);
    assert_refused(
        finish(&client, &store, &query).await,
        "authorization_error",
        400,
    );
}

#[tokio::test]
async fn callback_without_code() {
    let p = Provider::start().await;
    let client = p.client(&plain(&p));
    let store = MemoryPendingStore::new();
    let approval = p.start_login(&client, &store).await;
    let query = qs(&[("state", &approval.state), ("code", "")]);
    assert_refused(finish(&client, &store, &query).await, "code_missing", 400);
    assert_eq!(p.token_hits(), 0);
}

// ---------------------------------------------------------------------------------------
// Token endpoint

async fn token_refused(
    mode: TokenMode,
    opts: impl FnOnce(Opts) -> Opts,
    code: &str,
    status: u16,
) -> Provider {
    let p = Provider::start().await;
    let client = p.client(&opts(plain(&p)));
    p.set(|b| b.token = mode);
    assert_refused(p.login(&client).await, code, status);
    assert_eq!(p.token_hits(), 1);
    p
}

#[tokio::test]
async fn token_error_with_http_200() {
    let body = "error=bad_verification_code&error_description=The+code+is+wrong".to_owned();
    let mode = TokenMode::Raw {
        status: 200,
        content_type: "application/x-www-form-urlencoded",
        body,
    };
    token_refused(mode, |o| o, "token_error", 502).await;
    let mode = TokenMode::Raw {
        status: 200,
        content_type: "application/json",
        body: r#"{"error":"bad_verification_code","access_token":"x"}"#.into(),
    };
    token_refused(mode, |o| o, "token_error", 502).await;
}

#[tokio::test]
async fn token_invalid_grant_400() {
    let mode = TokenMode::Raw {
        status: 400,
        content_type: "application/json",
        body: r#"{"error":"invalid_grant","error_description":"code expired"}"#.into(),
    };
    token_refused(mode, |o| o, "invalid_grant", 502).await;
}

#[tokio::test]
async fn token_500_text() {
    let mode = TokenMode::Raw {
        status: 500,
        content_type: "text/plain",
        body: "Internal Server Error".into(),
    };
    token_refused(mode, |o| o, "provider_http_error", 502).await;
}

#[tokio::test]
async fn token_html_garbage_with_200() {
    let mode = TokenMode::Raw {
        status: 200,
        content_type: "text/html",
        body: "<html><body>Welcome! Please log in.</body></html>".into(),
    };
    token_refused(mode, |o| o, "invalid_token_response", 502).await;
    // A success status with JSON that is not a token.
    let mode = TokenMode::Raw {
        status: 200,
        content_type: "application/json",
        body: r#"{"token_type":"Bearer"}"#.into(),
    };
    token_refused(mode, |o| o, "invalid_token_response", 502).await;
}

#[tokio::test]
async fn token_body_over_the_size_cap() {
    token_refused(
        TokenMode::Sized(64 * 1024),
        |o| o.http("max_response_bytes = 4096"),
        "response_too_large",
        502,
    )
    .await;
    // The per-client cap too.
    token_refused(
        TokenMode::Sized(64 * 1024),
        |o| o.kwarg("max_response_bytes = 4096"),
        "response_too_large",
        502,
    )
    .await;
}

#[tokio::test]
async fn token_endpoint_hangs() {
    let p = Provider::start().await;
    let client = p.client(&plain(&p).kwarg("timeout = 1"));
    let store = MemoryPendingStore::new();
    let approval = p.start_login(&client, &store).await;
    p.set(|b| b.token = TokenMode::Hang);
    let started = Instant::now();
    let r = finish(&client, &store, &approval.query()).await;
    let took = started.elapsed();
    assert_refused(r, "provider_timeout", 504);
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(took >= Duration::from_millis(900), "took only {took:?}");
    assert_eq!(p.token_hits(), 1);
}

#[tokio::test]
async fn token_body_stops_half_way() {
    // Headers promise 1000 bytes; 20 arrive, then nothing.
    let (raw, raw_hits) = hostile::raw_server(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"access_token\":\"ab"
            .to_vec(),
        hostile::Then::Hang,
    )
    .await;
    let p = Provider::start().await;
    p.set(|b| b.metadata_token_endpoint = Some(format!("{raw}/token")));
    let client = p.client(&plain(&p).kwarg("timeout = 1"));
    let started = Instant::now();
    assert_refused(p.login(&client).await, "provider_timeout", 504);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(raw_hits.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test]
async fn token_endless_chunked_body_is_cut_at_the_cap() {
    // No Content-Length: the cap must be enforced while reading, not only from the header.
    let mut response =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_vec();
    let start = r#"{"access_token":""#;
    response.extend_from_slice(format!("{:x}\r\n{start}\r\n", start.len()).as_bytes());
    for _ in 0..16 {
        response.extend_from_slice(format!("400\r\n{}\r\n", "x".repeat(0x400)).as_bytes());
    }
    let (raw, _) = hostile::raw_server(response, hostile::Then::Hang).await;
    let p = Provider::start().await;
    p.set(|b| b.metadata_token_endpoint = Some(format!("{raw}/token")));
    let client = p.client(
        &plain(&p)
            .http("max_response_bytes = 4096")
            .kwarg("timeout = 10"),
    );
    let started = Instant::now();
    assert_refused(p.login(&client).await, "response_too_large", 502);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn token_with_a_header_injecting_access_token() {
    let p = Provider::start().await;
    let client = p.client(&plain(&p));
    p.set(|b| b.access_token = Some("at\r\nX-Injected: 1".into()));
    assert_refused(p.login(&client).await, "invalid_token_response", 502);
    assert_eq!(Hits::get(&p.hits().userinfo), 0);
}

#[tokio::test]
async fn token_redirect_is_not_followed() {
    let p = token_refused(TokenMode::Redirect, |o| o, "provider_http_error", 502).await;
    assert_eq!(Hits::get(&p.hits().stolen), 0, "the redirect was followed");
}

#[tokio::test]
async fn token_endpoint_failures_never_echo_credentials() {
    // Each failure with the error it must be, so that an earlier failure (settings,
    // discovery) cannot pass for it.
    let modes = [
        (
            TokenMode::Raw {
                status: 500,
                content_type: "text/plain",
                body: "Internal Server Error".into(),
            },
            "provider_http_error",
            502,
        ),
        (
            TokenMode::Raw {
                status: 200,
                content_type: "text/html",
                body: "<html></html>".into(),
            },
            "invalid_token_response",
            502,
        ),
        (TokenMode::Redirect, "provider_http_error", 502),
        (TokenMode::Sized(64 * 1024), "response_too_large", 502),
        (TokenMode::Hang, "provider_timeout", 504),
    ];
    for (mode, code, status) in modes {
        let p = Provider::start().await;
        p.set(|b| b.client_secret = Some(AWKWARD_SECRET.into()));
        let opts = plain(&p)
            .kwarg("timeout = 1")
            .http("max_response_bytes = 4096");
        let client = p.client(&opts);
        let store = MemoryPendingStore::new();
        let approval = p.start_login(&client, &store).await;
        p.set(|b| b.token = mode.clone());
        let e = assert_refused(
            finish(&client, &store, &approval.query()).await,
            code,
            status,
        );
        assert_eq!(p.token_hits(), 1, "{mode:?}");
        let text = format!("{e} {e:?}");
        for secret in [AWKWARD_SECRET, &approval.code, &approval.state] {
            assert!(!text.contains(secret), "{mode:?}: {text}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Client authentication and PKCE, checked by the provider

/// A secret with every character RFC 6749 §2.3.1's form-encoding matters for.
const AWKWARD_SECRET: &str = "p:ss+w rd%41/é€😀=&";

#[tokio::test]
async fn client_secret_basic_is_form_encoded_before_base64() {
    let p = Provider::start().await;
    p.set(|b| {
        b.client_id = "hostile app:1+ü".into();
        b.client_secret = Some(AWKWARD_SECRET.into());
        b.client_auth = ClientAuth::Basic;
    });
    let client = p.client(&plain(&p));
    p.login(&client)
        .await
        .unwrap_or_else(|e| panic!("{e}: {:?}", p.problems()));
    assert!(p.problems().is_empty(), "{:?}", p.problems());

    // The provider really checks: a wrong secret is refused as invalid_client.
    p.set(|b| b.client_secret = Some("p:ss+w rd%41/é€😀=".into()));
    assert_refused(p.login(&client).await, "invalid_client", 502);
}

#[tokio::test]
async fn client_secret_post_puts_the_secret_in_the_body() {
    let p = Provider::start().await;
    p.set(|b| {
        b.client_secret = Some(AWKWARD_SECRET.into());
        b.client_auth = ClientAuth::Post;
    });
    let client = p.client(&plain(&p));
    p.login(&client)
        .await
        .unwrap_or_else(|e| panic!("{e}: {:?}", p.problems()));
    assert!(p.problems().is_empty(), "{:?}", p.problems());
}

#[tokio::test]
async fn public_client_sends_no_secret() {
    let p = Provider::start().await;
    p.set(|b| {
        b.client_secret = None;
        b.client_auth = ClientAuth::Public;
    });
    let client = p.client(&plain(&p));
    p.login(&client)
        .await
        .unwrap_or_else(|e| panic!("{e}: {:?}", p.problems()));
    assert!(p.problems().is_empty(), "{:?}", p.problems());
}

#[tokio::test]
async fn pkce_binds_the_code_to_its_login() {
    // An attacker injects a code obtained for their own login into the victim's callback:
    // the victim's verifier does not match the attacker's challenge.
    let p = Provider::start().await;
    let client = p.client(&plain(&p));
    let attacker = MemoryPendingStore::new();
    let victim = MemoryPendingStore::new();
    let stolen = p.start_login(&client, &attacker).await;
    let genuine = p.start_login(&client, &victim).await;
    let query = qs(&[("code", &stolen.code), ("state", &genuine.state)]);
    assert_refused(finish(&client, &victim, &query).await, "invalid_grant", 502);
    assert!(
        p.problems().iter().any(|w| w.contains("code_verifier")),
        "{:?}",
        p.problems()
    );
}

#[tokio::test]
async fn pkce_and_redirect_uri_are_checked_on_every_login() {
    let p = Provider::start().await;
    let client = p.client(&plain(&p));
    let store = MemoryPendingStore::new();
    let url = client
        .authorize_redirect(&store, "http://127.0.0.1:9/other/callback?x=1")
        .await
        .unwrap();
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("code_challenge_method"), Some("S256"));
    assert_eq!(get("code_challenge").map(str::len), Some(43));
    assert_eq!(
        get("redirect_uri"),
        Some("http://127.0.0.1:9/other/callback?x=1")
    );
    let approval = p.approve(&url);
    finish(&client, &store, &approval.query())
        .await
        .unwrap_or_else(|e| panic!("{e}: {:?}", p.problems()));
    assert!(p.problems().is_empty(), "{:?}", p.problems());
}

// ---------------------------------------------------------------------------------------
// Discovery

#[tokio::test]
async fn discovery_issuer_differs_from_the_url() {
    let p = Provider::start().await;
    p.set(|b| b.metadata_issuer = Some("https://accounts.example.com".into()));
    let client = p.client(&Opts::default());
    let r = client
        .authorize_redirect(&MemoryPendingStore::new(), hostile::REDIRECT_URI)
        .await;
    assert_refused(r, "discovery_failed", 502);
}

#[tokio::test]
async fn discovery_document_is_not_metadata() {
    let (raw, _) = hostile::raw_server(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\nConnection: close\r\n\r\n<html></html>"
            .to_vec(),
        hostile::Then::Close,
    )
    .await;
    let (missing, _) = hostile::raw_server(
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
        hostile::Then::Close,
    )
    .await;
    for base in [raw, missing] {
        let toml = format!(
            "[clients.corp]\nclient_id = \"a\"\nserver_metadata_url = \"{base}/.well-known/openid-configuration\"\n"
        );
        let oauth = ferroauth::OAuth::from_settings(
            &ferroauth::settings::Settings::from_toml_str(&toml).unwrap(),
        )
        .unwrap();
        let r = oauth
            .client("corp")
            .unwrap()
            .authorize_redirect(&MemoryPendingStore::new(), hostile::REDIRECT_URI)
            .await;
        assert_refused(r, "discovery_failed", 502);
    }
}

#[tokio::test]
async fn discovery_document_over_the_size_cap() {
    let p = Provider::start().await;
    let client = p.client(&Opts::default().http("max_response_bytes = 256"));
    let r = client
        .authorize_redirect(&MemoryPendingStore::new(), hostile::REDIRECT_URI)
        .await;
    assert_refused(r, "response_too_large", 502);
}

#[tokio::test]
async fn discovery_names_a_plain_http_endpoint() {
    let p = Provider::start().await;
    p.set(|b| b.metadata_token_endpoint = Some("http://example.com/token".into()));
    let client = p.client(&Opts::default());
    let r = client
        .authorize_redirect(&MemoryPendingStore::new(), hostile::REDIRECT_URI)
        .await;
    assert_refused(r, "insecure_endpoint", 500);
}

// ---------------------------------------------------------------------------------------
// ID tokens

/// Logs in with an ID token made bad by `spoil`, and expects `invalid_id_token` for the
/// reason `why` (a fragment of the message, so that a token refused for another reason
/// than the one under test does not pass).
async fn id_token_refused(why: &str, spoil: impl FnOnce(&Provider)) -> Provider {
    let p = Provider::start().await;
    let client = p.client(&Opts::default());
    spoil(&p);
    let e = assert_refused(p.login(&client).await, "invalid_id_token", 502);
    assert!(
        e.to_string().contains(why),
        "refused for another reason: {e}"
    );
    assert!(p.problems().is_empty(), "{e}: {:?}", p.problems());
    assert_eq!(
        Hits::get(&p.hits().userinfo),
        0,
        "userinfo called after {e}"
    );
    p
}

#[tokio::test]
async fn id_token_bad_signature() {
    id_token_refused("signature", |p| {
        p.set(|b| b.signing = Signing::BadSignature)
    })
    .await;
}

#[tokio::test]
async fn id_token_alg_none() {
    id_token_refused("alg: none", |p| p.set(|b| b.signing = Signing::Unsigned)).await;
}

#[tokio::test]
async fn id_token_alg_none_without_kid() {
    id_token_refused("alg: none", |p| {
        p.set(|b| b.signing = Signing::Unsigned);
        p.header("kid", Value::Null);
    })
    .await;
}

#[tokio::test]
async fn id_token_hs256_keyed_with_the_rsa_public_key() {
    id_token_refused("HS256", |p| {
        p.set(|b| b.signing = Signing::Hs256WithPublicKey)
    })
    .await;
}

#[tokio::test]
async fn id_token_crit_header() {
    id_token_refused("crit", |p| p.header("crit", json!(["exp"]))).await;
}

#[tokio::test]
async fn id_token_wrong_iss() {
    id_token_refused("`iss`", |p| {
        p.claim("iss", json!("http://127.0.0.1:1/evil"))
    })
    .await;
}

#[tokio::test]
async fn id_token_aud_without_the_client_id() {
    id_token_refused("`aud`", |p| p.claim("aud", json!("another-app"))).await;
}

#[tokio::test]
async fn id_token_several_audiences_without_azp() {
    id_token_refused("`azp`", |p| {
        p.claim("aud", json!(["hostile-app", "another-app"]))
    })
    .await;
}

#[tokio::test]
async fn id_token_azp_of_another_client() {
    id_token_refused("`azp`", |p| {
        p.claim("aud", json!(["hostile-app", "another-app"]));
        p.claim("azp", json!("another-app"));
    })
    .await;
}

#[tokio::test]
async fn id_token_expired_beyond_leeway() {
    id_token_refused("`exp`", |p| {
        p.claim("iat", json!(now() - 7200));
        p.claim("exp", json!(now() - 3600));
    })
    .await;
}

#[tokio::test]
async fn id_token_issued_in_the_future() {
    id_token_refused("`iat`", |p| {
        p.claim("iat", json!(now() + 3600));
        p.claim("exp", json!(now() + 7200));
    })
    .await;
}

#[tokio::test]
async fn id_token_nonce_missing() {
    id_token_refused("`nonce`", |p| p.claim("nonce", Value::Null)).await;
}

#[tokio::test]
async fn id_token_nonce_mismatch() {
    id_token_refused("`nonce`", |p| {
        p.claim("nonce", json!("a-nonce-from-another-login"))
    })
    .await;
}

#[tokio::test]
async fn id_token_at_hash_mismatch() {
    id_token_refused("`at_hash`", |p| {
        p.claim("at_hash", json!(hostile::at_hash("another-token")))
    })
    .await;
}

#[tokio::test]
async fn id_token_missing_sub() {
    id_token_refused("`sub`", |p| p.claim("sub", Value::Null)).await;
}

#[tokio::test]
async fn id_token_absent_although_scope_has_openid() {
    id_token_refused("no id_token", |p| p.set(|b| b.id_token = false)).await;
}

/// Long enough for HS256 (RFC 7518 §3.2: at least 256 bits).
const LONG_SECRET: &str = "a-client-secret-long-enough-for-hs256-keys";

#[tokio::test]
async fn id_token_hs256_keyed_with_the_rsa_public_key_even_when_hs256_is_allowed() {
    // With HS256 explicitly allowed the HMAC key is the client secret, never a JWK.
    let p = Provider::start().await;
    p.set(|b| b.client_secret = Some(LONG_SECRET.into()));
    let client = p.client(&Opts::default().kwarg("id_token_signing_algs = \"RS256 HS256\""));
    p.set(|b| b.signing = Signing::Hs256WithPublicKey);
    let e = assert_refused(p.login(&client).await, "invalid_id_token", 502);
    assert!(e.to_string().contains("signature"), "{e}");
}

#[tokio::test]
async fn id_token_hs256_with_a_client_secret_too_short_to_be_a_key() {
    let p = Provider::start().await;
    let client = p.client(&Opts::default().kwarg("id_token_signing_algs = \"HS256\""));
    p.set(|b| b.signing = Signing::Hs256With(b.client_secret.clone().unwrap()));
    let e = assert_refused(p.login(&client).await, "invalid_id_token", 502);
    assert!(e.to_string().contains("shorter"), "{e}");
}

#[tokio::test]
async fn id_token_hs256_with_the_client_secret_when_allowed_passes() {
    // The counterpart of the test above: the harness's HS256 tokens are good ones.
    let p = Provider::start().await;
    p.set(|b| b.client_secret = Some(LONG_SECRET.into()));
    let client = p.client(&Opts::default().kwarg("id_token_signing_algs = \"HS256\""));
    p.set(|b| b.signing = Signing::Hs256With(LONG_SECRET.into()));
    let login = p
        .login(&client)
        .await
        .expect("HS256 with the client secret");
    assert_eq!(login.userinfo["sub"], SUBJECT);
    // And the same token is refused when HS256 was not opted into.
    let client = p.client(&Opts::default());
    let e = assert_refused(p.login(&client).await, "invalid_id_token", 502);
    assert!(e.to_string().contains("HS256"), "{e}");
}

#[tokio::test]
async fn id_token_edge_cases_that_must_pass() {
    let p = Provider::start().await;
    let client = p.client(&Opts::default());
    // Expired 30 s ago: within the default 60 s leeway.
    p.claim("iat", json!(now() - 600));
    p.claim("exp", json!(now() - 30));
    p.login(&client).await.expect("exp within leeway");
    // Several audiences with azp = client_id.
    p.claim("exp", json!(now() + 300));
    p.claim("aud", json!(["another-app", "hostile-app"]));
    p.claim("azp", json!("hostile-app"));
    p.login(&client).await.expect("several audiences with azp");
}

#[tokio::test]
async fn id_token_absent_although_scope_has_openid_with_nonce_checks_off() {
    // `check_nonce = false` (for providers that drop the nonce) must not also turn off the
    // requirement that an OpenID Connect token response carries an ID token.
    let p = Provider::start().await;
    let client = p.client(&Opts::default().kwarg("check_nonce = false"));
    p.set(|b| b.id_token = false);
    assert_refused(p.login(&client).await, "invalid_id_token", 502);
    assert_eq!(Hits::get(&p.hits().userinfo), 0);
}

// ---------------------------------------------------------------------------------------
// JWKS

#[tokio::test]
async fn jwks_unknown_kid_refetches_once_then_the_rotated_key_verifies() {
    let p = Provider::start().await;
    let client = p.client(&Opts::default());
    p.login(&client).await.expect("login with k0");
    assert_eq!(p.jwks_hits(), 1);
    p.login(&client)
        .await
        .expect("login with k0 from the cache");
    assert_eq!(p.jwks_hits(), 1, "a known kid must not refetch");
    // The provider rotates to k1.
    p.set(|b| {
        b.jwks = vec![0, 1];
        b.sign_key = 1;
    });
    p.login(&client)
        .await
        .unwrap_or_else(|e| panic!("rotated key: {e}"));
    assert_eq!(p.jwks_hits(), 2, "exactly one refetch");
    p.login(&client).await.expect("rotated key, cached");
    assert_eq!(p.jwks_hits(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwks_concurrent_callbacks_with_an_unknown_kid_share_one_refetch() {
    let p = Arc::new(Provider::start().await);
    let client = p.client(&Opts::default());
    p.login(&client).await.expect("login with k0");
    assert_eq!(p.jwks_hits(), 1);
    // The refetch takes a while, and the callbacks start together: they overlap it.
    p.set(|b| {
        b.jwks = vec![0, 1];
        b.sign_key = 1;
        b.jwks_delay = Some(std::time::Duration::from_millis(300));
    });
    let mut sessions = Vec::new();
    for _ in 0..20 {
        let store = MemoryPendingStore::new();
        let approval = p.start_login(&client, &store).await;
        sessions.push((store, approval));
    }
    let start = Arc::new(tokio::sync::Barrier::new(sessions.len()));
    let tasks: Vec<_> = sessions
        .into_iter()
        .map(|(store, approval)| {
            let (client, start) = (client.clone(), start.clone());
            tokio::spawn(async move {
                let params = CallbackParams::parse(&approval.query()).unwrap();
                start.wait().await;
                client.authorize_access_token(&store, &params).await
            })
        })
        .collect();
    for task in tasks {
        task.await
            .unwrap()
            .unwrap_or_else(|e| panic!("concurrent login: {e}"));
    }
    assert_eq!(p.jwks_hits(), 2, "20 callbacks must share one refetch");
}

#[tokio::test]
async fn jwks_kid_unknown_even_after_refetch_and_no_refetch_storm() {
    let p = Provider::start().await;
    let client = p.client(&Opts::default());
    p.login(&client).await.expect("login with k0");
    assert_eq!(p.jwks_hits(), 1);
    // Signed with k2, which the provider never publishes.
    p.set(|b| b.sign_key = 2);
    assert_refused(p.login(&client).await, "invalid_id_token", 502);
    assert_eq!(p.jwks_hits(), 2, "one refetch for an unknown kid");
    for _ in 0..3 {
        assert_refused(p.login(&client).await, "invalid_id_token", 502);
    }
    assert_eq!(p.jwks_hits(), 2, "no refetch within the rate-limit window");
    // The known key still verifies without a fetch.
    p.set(|b| b.sign_key = 0);
    p.login(&client).await.expect("k0 still verifies");
    assert_eq!(p.jwks_hits(), 2);
}

#[tokio::test]
async fn jwks_unavailable() {
    let p = Provider::start().await;
    let client = p.client(&Opts::default());
    p.set(|b| b.jwks_status = Some(503));
    assert_refused(p.login(&client).await, "jwks_failed", 502);
    assert_eq!(Hits::get(&p.hits().userinfo), 0);
}

// ---------------------------------------------------------------------------------------
// Userinfo

#[tokio::test]
async fn userinfo_garbage() {
    for (status, content_type, body, code) in [
        (200, "text/html", "<html>login</html>", "invalid_userinfo"),
        (200, "application/json", "[\"alice\"]", "invalid_userinfo"),
        (200, "application/jwt", "e30.e30.", "invalid_userinfo"),
        (500, "text/plain", "oops", "provider_http_error"),
        (302, "text/plain", "", "provider_http_error"),
    ] {
        let p = Provider::start().await;
        let client = p.client(&plain(&p));
        p.set(|b| b.userinfo_raw = Some((status, content_type, body.to_owned())));
        assert_refused(p.login(&client).await, code, 502);
    }
}

#[tokio::test]
async fn userinfo_without_sub_after_an_id_token() {
    let p = Provider::start().await;
    let client = p.client(&Opts::default());
    p.set(|b| b.userinfo_raw = Some((200, "application/json", r#"{"email":"mallory@x"}"#.into())));
    assert_refused(p.login(&client).await, "invalid_userinfo", 502);
}

#[tokio::test]
async fn userinfo_names_another_subject() {
    let p = Provider::start().await;
    let client = p.client(&Opts::default());
    p.set(|b| b.userinfo_sub = "mallory".into());
    assert_refused(p.login(&client).await, "userinfo_sub_mismatch", 502);
    assert_eq!(Hits::get(&p.hits().userinfo), 1);
}

/// A login whose authorization request carries `params`.
async fn login_with(
    p: &Provider,
    client: &ferroauth::OAuthClient,
    params: &[(&str, &str)],
) -> Result<ferroauth::Login, ferroauth::Error> {
    let store = MemoryPendingStore::new();
    let url = client
        .authorize_redirect_with(&store, hostile::REDIRECT_URI, params)
        .await?;
    let approval = p.approve(&url);
    hostile::finish(client, &store, &approval.query()).await
}

#[tokio::test]
async fn max_age_requires_a_recent_auth_time() {
    let p = Provider::start().await;
    let client = p.client(&Opts::default());
    let max_age = [("max_age", "600")];
    p.claim("auth_time", json!(now() - 30));
    login_with(&p, &client, &max_age)
        .await
        .expect("authenticated 30 s ago, max_age 600");
    // An hour ago: the provider did not make the user log in again.
    p.claim("auth_time", json!(now() - 3600));
    let e = assert_refused(login_with(&p, &client, &max_age).await, "auth_too_old", 502);
    assert!(e.to_string().contains("max_age"), "{e}");
    // Without max_age, an old authentication is the provider's business.
    login_with(&p, &client, &[])
        .await
        .expect("no max_age asked");
    // max_age asked, auth_time absent: OpenID Connect Core §2 requires it.
    p.claim("auth_time", Value::Null);
    let e = assert_refused(
        login_with(&p, &client, &max_age).await,
        "invalid_id_token",
        502,
    );
    assert!(e.to_string().contains("auth_time"), "{e}");
    // max_age from the settings works the same; a non-number is a settings error.
    p.claim("auth_time", json!(now() - 3600));
    let configured =
        Provider::settings_toml(&p, &Opts::default()) + "authorize_params = { max_age = \"60\" }\n";
    let oauth = ferroauth::OAuth::from_settings(
        &ferroauth::settings::Settings::from_toml_str(&configured).unwrap(),
    )
    .unwrap();
    let configured = oauth.client(hostile::CLIENT).unwrap();
    assert_refused(login_with(&p, &configured, &[]).await, "auth_too_old", 502);
    let e = client
        .authorize_redirect_with(
            &MemoryPendingStore::new(),
            hostile::REDIRECT_URI,
            &[("max_age", "an hour")],
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "client_misconfigured", "{e}");
}

#[tokio::test]
async fn essential_acr_must_come_back() {
    let p = Provider::start().await;
    let client = p.client(&Opts::default());
    let claims =
        json!({"id_token": {"acr": {"essential": true, "values": ["urn:gold", "urn:silver"]}}})
            .to_string();
    let essential = [("claims", claims.as_str())];
    p.claim("acr", json!("urn:silver"));
    login_with(&p, &client, &essential)
        .await
        .expect("acr among the values");
    p.claim("acr", json!("urn:bronze"));
    let e = assert_refused(
        login_with(&p, &client, &essential).await,
        "acr_not_satisfied",
        502,
    );
    assert!(e.to_string().contains("urn:bronze"), "{e}");
    p.claim("acr", Value::Null);
    assert_refused(
        login_with(&p, &client, &essential).await,
        "acr_not_satisfied",
        502,
    );
    // Voluntary (not essential): no acr is fine.
    let voluntary = json!({"id_token": {"acr": {"values": ["urn:gold"]}}}).to_string();
    login_with(&p, &client, &[("claims", voluntary.as_str())])
        .await
        .expect("acr voluntary");
    // Essential without values: any acr, but one.
    let any = json!({"id_token": {"acr": {"essential": true}}}).to_string();
    assert_refused(
        login_with(&p, &client, &[("claims", any.as_str())]).await,
        "acr_not_satisfied",
        502,
    );
    p.claim("acr", json!("0"));
    login_with(&p, &client, &[("claims", any.as_str())])
        .await
        .expect("some acr");
}

// ---------------------------------------------------------------------------------------
// Device authorization (RFC 8628): what a device shows its user comes from the provider.

#[tokio::test]
async fn device_authorization_with_terminal_escapes_or_unsafe_uris() {
    let p = Provider::start().await;
    let client = p.client(&plain(&p));
    let good = client
        .device_authorization(&[])
        .await
        .expect("a well-formed answer");
    assert_eq!(good.user_code, "WDJB-MJHT");
    let long = "A".repeat(200);
    for (field, value) in [
        // An OSC 8 hyperlink hiding another address behind the code, a screen clear,
        // an 8-bit CSI (C1), a line break that forges a second line.
        (
            "user_code",
            "\u{1b}]8;;https://evil.example\u{7}WDJB-MJHT\u{1b}]8;;\u{7}",
        ),
        ("user_code", "WDJB\u{1b}[2J"),
        ("user_code", "WDJB\u{9b}2J"),
        ("user_code", "WDJB\nOpen https://evil.example"),
        ("user_code", long.as_str()),
        ("verification_uri", "https://op.example/device\u{1b}[8m"),
        ("verification_uri", "javascript:alert(document.cookie)"),
        ("verification_uri", "http://evil.example/device"),
        (
            "verification_uri",
            "data:text/html,<script>alert(1)</script>",
        ),
        (
            "verification_uri_complete",
            "http://evil.example/device?user_code=WDJB-MJHT",
        ),
        (
            "verification_uri_complete",
            "https://op.example/\u{1b}[2Jdevice",
        ),
    ] {
        p.set(|b| b.device[field] = json!(value));
        let e = assert_refused(
            client.device_authorization(&[]).await,
            "invalid_device_authorization",
            502,
        );
        assert!(
            !e.to_string().chars().any(char::is_control),
            "the error shows no control character: {e:?}"
        );
        p.set(|b| b.device = hostile::Behaviour::default().device);
    }
    // Plain http on a loopback host is a local provider in development.
    p.set(|b| b.device["verification_uri"] = json!("http://127.0.0.1:8080/device"));
    let local = client.device_authorization(&[]).await.expect("loopback");
    assert_eq!(local.verification_uri, "http://127.0.0.1:8080/device");
}

// ---------------------------------------------------------------------------------------
// Checks the reference clients make (Authlib, openid-client / oauth4webapi,
// openidconnect-rs); each row of the guide's provider checks
// (src/guide/provider_checks.md) names its test.

#[tokio::test]
async fn id_token_not_yet_valid() {
    // RFC 7519 §4.1.5: not to be accepted before `nbf`.
    id_token_refused("`nbf`", |p| p.claim("nbf", json!(now() + 3600))).await;
}

#[tokio::test]
async fn id_token_nbf_not_a_number() {
    id_token_refused("`nbf`", |p| p.claim("nbf", json!(now().to_string()))).await;
}

#[tokio::test]
async fn id_token_nbf_past_or_within_leeway_passes() {
    let p = Provider::start().await;
    let client = p.client(&Opts::default());
    p.claim("nbf", json!(now() - 10));
    p.login(&client).await.expect("nbf in the past");
    p.claim("nbf", json!(now() + 30));
    p.login(&client).await.expect("nbf within the 60 s leeway");
}

#[tokio::test]
async fn id_token_amr_not_an_array() {
    // OpenID Connect Core §2: `amr` is a JSON array of strings.
    id_token_refused("`amr`", |p| p.claim("amr", json!("pwd"))).await;
}

#[tokio::test]
async fn id_token_auth_time_not_a_number() {
    id_token_refused("`auth_time`", |p| p.claim("auth_time", json!("yesterday"))).await;
}

#[tokio::test]
async fn id_token_c_hash_and_s_hash_that_match_pass() {
    let p = Provider::start().await;
    let client = p.client(&Opts::default());
    p.set(|b| b.hash_code_and_state = true);
    p.login(&client).await.expect("right c_hash and s_hash");
}

#[tokio::test]
async fn id_token_c_hash_mismatch() {
    // OpenID Connect Core §3.3.2.11: when present, `c_hash` must be the code's.
    id_token_refused("`c_hash`", |p| {
        p.set(|b| b.hash_code_and_state = true);
        p.claim("c_hash", json!(hostile::at_hash("a-code-of-another-login")));
    })
    .await;
}

#[tokio::test]
async fn id_token_s_hash_mismatch() {
    // FAPI 1.0 Advanced §5.1: when present, `s_hash` must be the state's.
    id_token_refused("`s_hash`", |p| {
        p.set(|b| b.hash_code_and_state = true);
        p.claim(
            "s_hash",
            json!(hostile::at_hash("a-state-of-another-login")),
        );
    })
    .await;
}

#[tokio::test]
async fn id_token_absent_although_the_granted_scope_has_openid() {
    // The client did not ask for `openid`, but the provider says it granted it: an
    // OpenID Connect response, so it must carry an ID token.
    let p = Provider::start().await;
    let client = p.client(&plain(&p));
    p.set(|b| b.granted_scope = Some("openid email".into()));
    let e = assert_refused(p.login(&client).await, "invalid_id_token", 502);
    assert!(e.to_string().contains("no id_token"), "{e}");
    assert_eq!(Hits::get(&p.hits().userinfo), 0);
}

#[tokio::test]
async fn require_auth_time_needs_auth_time() {
    // openid-client's `require_auth_time`: `auth_time` must come back.
    let p = Provider::start().await;
    let client = p.client(&Opts::default().kwarg("require_auth_time = true"));
    p.claim("auth_time", json!(now() - 30));
    p.login(&client).await.expect("auth_time present");
    p.claim("auth_time", Value::Null);
    let e = assert_refused(p.login(&client).await, "invalid_id_token", 502);
    assert!(e.to_string().contains("auth_time"), "{e}");
}

#[tokio::test]
async fn token_type_mac_is_refused() {
    // RFC 6749 §7.1: a token of a type the client does not understand is not used.
    let p = Provider::start().await;
    let client = p.client(&plain(&p));
    p.set(|b| b.token_type = "mac".into());
    let e = assert_refused(p.login(&client).await, "invalid_token_response", 502);
    assert!(e.to_string().contains("token_type"), "{e}");
    assert_eq!(Hits::get(&p.hits().userinfo), 0, "the token was used");
}

#[tokio::test]
async fn token_type_dpop_without_dpop_is_refused() {
    let p = Provider::start().await;
    let client = p.client(&plain(&p));
    p.set(|b| b.token_type = "DPoP".into());
    let e = assert_refused(p.login(&client).await, "invalid_token_response", 502);
    assert!(e.to_string().contains("DPoP"), "{e}");
    assert_eq!(Hits::get(&p.hits().userinfo), 0, "the token was used");
}

#[tokio::test]
async fn token_type_bearer_in_any_case_passes() {
    let p = Provider::start().await;
    let client = p.client(&plain(&p));
    for spelling in ["bearer", "BEARER", "Bearer"] {
        p.set(|b| b.token_type = spelling.into());
        let login = p.login(&client).await.expect(spelling);
        assert_eq!(login.token.token_type(), "Bearer");
    }
}

/// A userinfo response as a signed JWT (OpenID Connect Core §5.3.2), signed with `KEYS[0]`
/// unless `signing` says otherwise.
fn userinfo_jwt(p: &Provider, claims: Value, signing: Signing) -> String {
    let mut all = json!({
        "iss": p.base,
        "aud": "hostile-app",
        "sub": SUBJECT,
        "email": "alice@signed.test",
    });
    for (k, v) in claims.as_object().unwrap() {
        if v.is_null() {
            all.as_object_mut().unwrap().remove(k);
        } else {
            all[k] = v.clone();
        }
    }
    let key = &hostile::KEYS[0];
    let head = json!({"alg": "RS256", "kid": key.kid});
    hostile::sign_jwt(&head, &all, &signing, key)
}

#[tokio::test]
async fn userinfo_signed_jwt_is_verified() {
    let p = Provider::start().await;
    let client = p.client(&Opts::default());
    let jwt = userinfo_jwt(&p, json!({}), Signing::Rs256);
    p.set(|b| b.userinfo_raw = Some((200, "application/jwt", jwt)));
    let login = p.login(&client).await.expect("signed userinfo");
    assert_eq!(login.userinfo["email"], "alice@signed.test");
    for (claims, signing, code) in [
        (json!({}), Signing::BadSignature, "invalid_userinfo"),
        (json!({}), Signing::Unsigned, "invalid_userinfo"),
        (
            json!({"iss": "http://127.0.0.1:1/evil"}),
            Signing::Rs256,
            "invalid_userinfo",
        ),
        (
            json!({"aud": "another-app"}),
            Signing::Rs256,
            "invalid_userinfo",
        ),
        // Well signed, but for another user: the subject check's own code.
        (
            json!({"sub": "mallory"}),
            Signing::Rs256,
            "userinfo_sub_mismatch",
        ),
    ] {
        let jwt = userinfo_jwt(&p, claims.clone(), signing.clone());
        p.set(|b| b.userinfo_raw = Some((200, "application/jwt", jwt)));
        let e = assert_refused(p.login(&client).await, code, 502);
        assert!(
            !e.to_string().contains("not JSON"),
            "{claims} {signing:?}: {e}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Refresh responses: the token response and ID token checks apply to them too.

/// A login whose token has a refresh token.
async fn login_with_refresh(p: &Provider) -> (ferroauth::OAuthClient, ferroauth::OAuth2Token) {
    p.set(|b| b.refresh_tokens = true);
    let client = p.client(&Opts::default());
    let login = p.login(&client).await.expect("login");
    let token = login.token.as_oauth2().expect("an OAuth 2.0 token").clone();
    assert!(token.refresh_token.is_some());
    (client, token)
}

#[tokio::test]
async fn refresh_without_a_refresh_token_keeps_the_old_one() {
    let p = Provider::start().await;
    let (client, token) = login_with_refresh(&p).await;
    let fresh = client.refresh_token(&token).await.expect("refresh");
    assert_ne!(fresh.access_token.expose(), token.access_token.expose());
    assert_eq!(
        fresh.refresh_token.as_ref().map(|r| r.expose()),
        token.refresh_token.as_ref().map(|r| r.expose())
    );
    // A rotating provider's new refresh token replaces it. (Another registry: this one
    // would answer its result of a moment ago for the same refresh token.)
    p.set(|b| b.rotate_refresh_token = true);
    let client = p.client(&Opts::default());
    let rotated = client.refresh_token(&fresh).await.expect("refresh");
    assert_ne!(
        rotated.refresh_token.as_ref().map(|r| r.expose()),
        token.refresh_token.as_ref().map(|r| r.expose())
    );
}

#[tokio::test]
async fn refresh_with_an_id_token_of_another_subject() {
    // OpenID Connect Core §12.2: the same `iss` and `sub` as the login's ID token.
    let p = Provider::start().await;
    let (client, token) = login_with_refresh(&p).await;
    p.claim("sub", json!("mallory"));
    let e = assert_refused(client.refresh_token(&token).await, "invalid_id_token", 502);
    assert!(e.to_string().contains("`sub`"), "{e}");
}

#[tokio::test]
async fn refresh_with_an_id_token_not_yet_valid() {
    let p = Provider::start().await;
    let (client, token) = login_with_refresh(&p).await;
    p.claim("nbf", json!(now() + 3600));
    let e = assert_refused(client.refresh_token(&token).await, "invalid_id_token", 502);
    assert!(e.to_string().contains("`nbf`"), "{e}");
}

#[tokio::test]
async fn refresh_with_token_type_mac_is_refused() {
    let p = Provider::start().await;
    let (client, token) = login_with_refresh(&p).await;
    p.set(|b| b.token_type = "mac".into());
    let e = assert_refused(
        client.refresh_token(&token).await,
        "invalid_token_response",
        502,
    );
    assert!(e.to_string().contains("token_type"), "{e}");
}
