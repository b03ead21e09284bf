//! The OAuth 1.0a side of the testkit provider, driven by hand-written client code.

mod common;

use common::*;
use ferroauth_testkit::TestProvider;

const KEY: &str = "consumer-key";
const SECRET: &str = "consumer&secret";

/// Runs the three-legged OAuth 1.0a flow with the given signature method and
/// returns (token, token secret, access_token response).
async fn three_legged(
    p: &TestProvider,
    method: &str,
    hint: Option<&str>,
) -> (String, String, std::collections::HashMap<String, String>) {
    let c = http();
    // 1. temporary credentials (callback in the header)
    let url = p.url("/oauth1/request_token");
    let signer = O1Signer {
        consumer_key: KEY,
        consumer_secret: SECRET,
        token: None,
        token_secret: "",
        method,
    };
    let resp = c
        .post(&url)
        .header(
            "authorization",
            signer.header("POST", &url, &[("oauth_callback", O1_CALLBACK)], &[]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        200,
        "{}",
        resp.text().await.unwrap_or_default()
    );
    let f = parse_form(&resp.text().await.unwrap());
    assert_eq!(f["oauth_callback_confirmed"], "true");
    let temp = f["oauth_token"].clone();
    let temp_secret = f["oauth_token_secret"].clone();

    // 2. authorization (auto-approve)
    let mut q = vec![("oauth_token", temp.as_str())];
    if let Some(h) = hint {
        q.push(("login_hint", h));
    }
    let resp = c
        .get(p.url("/oauth1/authorize"))
        .query(&q)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let (cb, q) = location_query(&resp);
    assert!(cb.as_str().starts_with(O1_CALLBACK));
    assert_eq!(q["oauth_token"], temp);
    let verifier = q["oauth_verifier"].clone();

    // 3. token credentials (verifier in the body, so it is signed as a body param)
    let url = p.url("/oauth1/access_token");
    let signer = O1Signer {
        consumer_key: KEY,
        consumer_secret: SECRET,
        token: Some(&temp),
        token_secret: &temp_secret,
        method,
    };
    let resp = c
        .post(&url)
        .header(
            "authorization",
            signer.header("POST", &url, &[("oauth_verifier", &verifier)], &[]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        200,
        "{}",
        resp.text().await.unwrap_or_default()
    );
    let f = parse_form(&resp.text().await.unwrap());

    // The temporary credentials are single use.
    let resp = c
        .post(&url)
        .header(
            "authorization",
            signer.header("POST", &url, &[("oauth_verifier", &verifier)], &[]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("oauth_problem=token_rejected")
    );
    (f["oauth_token"].clone(), f["oauth_token_secret"].clone(), f)
}

#[tokio::test]
async fn oauth1_hmac_sha1_login() {
    let p = start(true).await;
    let (token, secret, f) = three_legged(&p, "HMAC-SHA1", None).await;
    assert_eq!(f["user_id"], "alice");
    assert_eq!(f["screen_name"], "alice");

    // Protected resource, GET with query parameters that are signed too.
    let c = http();
    let url = p.url("/oauth1/api/me");
    let signer = O1Signer {
        consumer_key: KEY,
        consumer_secret: SECRET,
        token: Some(&token),
        token_secret: &secret,
        method: "HMAC-SHA1",
    };
    let extra = [("fields", "name email"), ("x", "a+b=c")];
    let resp = c
        .get(&url)
        .query(&extra)
        .header("authorization", signer.header("GET", &url, &[], &extra))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        200,
        "{}",
        resp.text().await.unwrap_or_default()
    );
    let me = json(resp).await;
    assert_eq!(me["user_id"], "alice");
    assert_eq!(me["user"]["email"], "alice@example.com");

    // POST with a form body, signed.
    let body = [("status", "hello world & more")];
    let resp = c
        .post(&url)
        .form(&body)
        .header("authorization", signer.header("POST", &url, &[], &body))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        200,
        "{}",
        resp.text().await.unwrap_or_default()
    );

    // A body parameter changed after signing breaks the signature.
    let resp = c
        .post(&url)
        .form(&[("status", "tampered")])
        .header("authorization", signer.header("POST", &url, &[], &body))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.headers().contains_key("www-authenticate"));
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("oauth_problem=signature_invalid")
    );

    // Replay of an exact request (same nonce and timestamp) is refused.
    let header = signer.header("GET", &url, &[], &[]);
    let first = c
        .get(&url)
        .header("authorization", &header)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let replay = c
        .get(&url)
        .header("authorization", &header)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 401);
    assert!(
        replay
            .text()
            .await
            .unwrap()
            .contains("oauth_problem=nonce_used")
    );
    p.shutdown().await;
}

#[tokio::test]
async fn oauth1_plaintext_login() {
    let p = start(true).await;
    let (token, secret, f) = three_legged(&p, "PLAINTEXT", Some("bob")).await;
    assert_eq!(f["user_id"], "bob");
    let url = p.url("/oauth1/api/me");
    let signer = O1Signer {
        consumer_key: KEY,
        consumer_secret: SECRET,
        token: Some(&token),
        token_secret: &secret,
        method: "PLAINTEXT",
    };
    let resp = http()
        .get(&url)
        .header("authorization", signer.header("GET", &url, &[], &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(json(resp).await["screen_name"], "bob");
    p.shutdown().await;
}

#[tokio::test]
async fn oauth1_bad_requests_refused() {
    let p = start(true).await;
    let c = http();
    let url = p.url("/oauth1/request_token");

    // Wrong consumer secret.
    let bad = O1Signer {
        consumer_key: KEY,
        consumer_secret: "wrong",
        token: None,
        token_secret: "",
        method: "HMAC-SHA1",
    };
    let resp = c
        .post(&url)
        .header(
            "authorization",
            bad.header("POST", &url, &[("oauth_callback", O1_CALLBACK)], &[]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.headers()["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("oauth_problem=signature_invalid")
    );

    // Signed for a different URL.
    let good = O1Signer {
        consumer_key: KEY,
        consumer_secret: SECRET,
        token: None,
        token_secret: "",
        method: "HMAC-SHA1",
    };
    let resp = c
        .post(&url)
        .header(
            "authorization",
            good.header(
                "POST",
                "http://elsewhere.example/oauth1/request_token",
                &[("oauth_callback", O1_CALLBACK)],
                &[],
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    // Missing callback.
    let resp = c
        .post(&url)
        .header("authorization", good.header("POST", &url, &[], &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("oauth_parameters_absent=oauth_callback")
    );

    // Unregistered callback.
    let resp = c
        .post(&url)
        .header(
            "authorization",
            good.header(
                "POST",
                &url,
                &[("oauth_callback", "http://evil.example/cb")],
                &[],
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);

    // Unknown consumer.
    let unknown = O1Signer {
        consumer_key: "nobody",
        consumer_secret: SECRET,
        token: None,
        token_secret: "",
        method: "HMAC-SHA1",
    };
    let resp = c
        .post(&url)
        .header(
            "authorization",
            unknown.header("POST", &url, &[("oauth_callback", O1_CALLBACK)], &[]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.text().await.unwrap().contains("consumer_key_unknown"));

    // Stale timestamp.
    let header = "OAuth oauth_consumer_key=\"consumer-key\", oauth_signature_method=\"HMAC-SHA1\", \
oauth_timestamp=\"1000\", oauth_nonce=\"n\", oauth_signature=\"AAAA\", oauth_callback=\"oob\"";
    let resp = c
        .post(&url)
        .header("authorization", header)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.text().await.unwrap().contains("timestamp_refused"));

    // Unsupported signature method.
    let header = "OAuth oauth_consumer_key=\"consumer-key\", oauth_signature_method=\"RSA-SHA1\", \
oauth_timestamp=\"1000\", oauth_nonce=\"n\", oauth_signature=\"AAAA\"";
    let resp = c
        .post(&url)
        .header("authorization", header)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("signature_method_rejected")
    );

    // Access token endpoint with a token that was never authorized.
    let resp = c
        .post(&url)
        .header(
            "authorization",
            good.header("POST", &url, &[("oauth_callback", O1_CALLBACK)], &[]),
        )
        .send()
        .await
        .unwrap();
    let f = parse_form(&resp.text().await.unwrap());
    let at_url = p.url("/oauth1/access_token");
    let s2 = O1Signer {
        consumer_key: KEY,
        consumer_secret: SECRET,
        token: Some(&f["oauth_token"]),
        token_secret: &f["oauth_token_secret"],
        method: "HMAC-SHA1",
    };
    let resp = c
        .post(&at_url)
        .header(
            "authorization",
            s2.header("POST", &at_url, &[("oauth_verifier", "guess")], &[]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.text().await.unwrap().contains("permission_unknown"));
    p.shutdown().await;
}

#[tokio::test]
async fn oauth1_login_page_and_deny() {
    let p = start(false).await;
    let c = http();
    let url = p.url("/oauth1/request_token");
    let good = O1Signer {
        consumer_key: KEY,
        consumer_secret: SECRET,
        token: None,
        token_secret: "",
        method: "HMAC-SHA1",
    };
    let resp = c
        .post(&url)
        .header(
            "authorization",
            good.header("POST", &url, &[("oauth_callback", O1_CALLBACK)], &[]),
        )
        .send()
        .await
        .unwrap();
    let f = parse_form(&resp.text().await.unwrap());
    let temp = f["oauth_token"].clone();
    let resp = c
        .get(p.url("/oauth1/authorize"))
        .query(&[("oauth_token", &temp)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("value=\"alice\"") && html.contains("value=\"bob\""));
    assert!(html.contains("OAuth 1.0a"));
    let marker = "name=\"request\" value=\"";
    let start = html.find(marker).unwrap() + marker.len();
    let id = html[start..].split('"').next().unwrap().to_owned();
    let resp = c
        .post(p.url("/login"))
        .form(&[("request", id.as_str()), ("action", "deny")])
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_redirection());
    let (_, q) = location_query(&resp);
    assert_eq!(q["denied"], temp);
    // The token is gone after denial.
    let resp = c
        .get(p.url("/oauth1/authorize"))
        .query(&[("oauth_token", &temp)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    p.shutdown().await;
}

#[tokio::test]
async fn oauth1_fast_mode_skips_signatures() {
    let p = TestProvider::builder()
        .users(users())
        .clients(clients())
        .auto_approve(true)
        .fast(true)
        .start()
        .await
        .unwrap();
    let c = http();
    let url = p.url("/oauth1/request_token");
    let header = "OAuth oauth_consumer_key=\"consumer-key\", oauth_signature_method=\"HMAC-SHA1\", \
oauth_signature=\"bogus\", oauth_callback=\"http%3A%2F%2Flocalhost%3A8080%2Foauth1%2Fcallback\"";
    let resp = c
        .post(&url)
        .header("authorization", header)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // Unknown consumers are still refused.
    let resp = c
        .post(&url)
        .header("authorization", header.replace("consumer-key", "nobody"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    p.shutdown().await;
}
