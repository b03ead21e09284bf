//! The providers whose refresh behaviour is proven end to end (Google, GitLab,
//! Salesforce), shared by `presets_oidc.rs` and the demo's `tests/presets_refresh.rs`
//! (which proves the same through `POST /refresh/{name}` on both frameworks).

#![allow(dead_code)]

use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::oidc_fixture::{CLIENT_ID, ClientAuth, Op, SECRET};

pub fn google_op() -> Op {
    let mut op = Op::new("https://accounts.google.com", CLIENT_ID, SECRET);
    op.authorization_endpoint = "https://accounts.google.com/o/oauth2/v2/auth".into();
    op.token_endpoint = "https://oauth2.googleapis.com/token".into();
    op.userinfo_endpoint = Some("https://openidconnect.googleapis.com/v1/userinfo".into());
    op.jwks_uri = "https://www.googleapis.com/oauth2/v3/certs".into();
    op.metadata_extra = json!({"token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"]});
    op.check_authorize = |q| assert_eq!(q["scope"], "openid email profile");
    op.set_id_claims(json!({
        "sub": "110169484474386276334", "email": "jane@example.com", "email_verified": true,
        "name": "Jane Doe", "picture": "https://lh3.googleusercontent.com/a/jane",
        "given_name": "Jane", "family_name": "Doe"
    }));
    op
}

/// Google answering refresh grants as it documents them: no new refresh token (the one
/// used stays valid), the userinfo read again.
pub fn google_refreshing() -> Op {
    let mut op = google_op();
    op.refresh = true;
    op.refresh_keeps_token = true;
    // Google's userinfo (OpenID Connect endpoint), read again after the refresh.
    op.set_userinfo(
        json!({"sub": "110169484474386276334", "email": "jane@example.com",
        "email_verified": true, "name": "Jane Doe"}),
    );
    op
}

pub fn gitlab_op(base: &str) -> Op {
    let mut op = Op::new(base, CLIENT_ID, SECRET);
    op.authorization_endpoint = format!("{base}/oauth/authorize");
    op.token_endpoint = format!("{base}/oauth/token");
    op.userinfo_endpoint = Some(format!("{base}/oauth/userinfo"));
    op.jwks_uri = format!("{base}/oauth/discovery/keys");
    op.set_id_claims(
        json!({"sub": "1234567", "nickname": "jdoe", "name": "Jane Doe",
        "email": "jane@example.com", "email_verified": true,
        "picture": "https://gitlab.com/uploads/-/system/user/avatar/1234567/avatar.png"}),
    );
    op
}

/// gitlab.com answering refresh grants: each rotates the refresh token.
pub fn gitlab_refreshing() -> Op {
    let mut op = gitlab_op("https://gitlab.com");
    op.refresh = true;
    // GitLab's /oauth/userinfo (GitLab docs, "OpenID Connect (OIDC) in GitLab", "Shared
    // information"), which a refresh reads again with the new access token.
    op.set_userinfo(
        json!({"sub": "1234567", "nickname": "jdoe", "name": "Jane Doe",
        "email": "jane@example.com", "email_verified": true}),
    );
    op
}

pub const SF_ID: &str = "https://login.salesforce.com/id/00Dx0000000BV7z/005x00000012Q9P";

pub fn salesforce_op(sign_with: fn(&mut Map<String, Value>, &Op)) -> Op {
    let base = "https://login.salesforce.com";
    let mut op = Op::new(base, CLIENT_ID, SECRET);
    op.authorization_endpoint = format!("{base}/services/oauth2/authorize");
    op.token_endpoint = format!("{base}/services/oauth2/token");
    op.userinfo_endpoint = Some(format!("{base}/services/oauth2/userinfo"));
    op.jwks_uri = format!("{base}/id/keys");
    op.auth = ClientAuth::Post;
    op.token_shape = sign_with;
    op.set_id_claims(json!({"sub": SF_ID, "email": "admin@acme.example",
        "email_verified": true, "name": "Admin User",
        "preferred_username": "admin@acme.example"}));
    op
}

pub fn salesforce_sign(o: &mut Map<String, Value>, key: &str) {
    let issued_at = "1700000000000";
    let mac = aws_lc_rs::hmac::sign(
        &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key.as_bytes()),
        format!("{SF_ID}{issued_at}").as_bytes(),
    );
    o.remove("expires_in");
    o.insert("id".into(), json!(SF_ID));
    o.insert("issued_at".into(), json!(issued_at));
    o.insert(
        "instance_url".into(),
        json!("https://acme.my.salesforce.com"),
    );
    o.insert(
        "signature".into(),
        json!(base64::engine::general_purpose::STANDARD.encode(mac.as_ref())),
    );
}

/// Salesforce's refresh answer (Salesforce Help, "OAuth 2.0 Refresh Token Flow"): a new
/// access token with `id`, `issued_at`, `instance_url` and its `signature`, and no new
/// refresh token (the one used stays valid).
pub fn salesforce_refreshing(sign_with: fn(&mut Map<String, Value>, &Op)) -> Op {
    let mut op = salesforce_op(sign_with);
    op.refresh = true;
    op.refresh_keeps_token = true;
    op.set_userinfo(json!({"sub": SF_ID, "email": "admin@acme.example",
        "email_verified": true, "name": "Admin User"}));
    op
}
