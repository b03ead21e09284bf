//! Facebook Login (the web flow is OAuth 2.0; Limited Login's OpenID Connect is iOS only).
//!
//! Quirks: every URL names a Graph API version; the profile fields must be asked for
//! (`/me?fields=...`); scopes are comma-separated; with "Require App Secret" on, every
//! Graph call carries `appsecret_proof` = hex HMAC-SHA256(app secret, access token), the
//! profile call included; errors are Graph error objects
//! (`{"error":{"message","type","code","error_subcode"}}`), mapped here to RFC 6749 codes;
//! the address is never said to be verified.

use serde_json::{Map, Value};

use super::super::entry::{ApiRequestProof, Deviations, Endpoints, Preset, ProfileMap, Verified};
use super::super::profile_map::text_at;
use crate::Claims;
use crate::proto::oauth2::client_auth::TokenEndpointAuthMethod;

/// The presets of this file.
pub(crate) const PRESETS: &[Preset] = &[
    // Facebook Login.
    Preset {
        name: "facebook",
        display_name: "Facebook",
        options: &["api_version"],
        defaults: &[("api_version", "v24.0")],
        endpoints: Endpoints::OAuth2 {
            authorize: "https://www.facebook.com/<api_version>/dialog/oauth",
            token: "https://graph.facebook.com/<api_version>/oauth/access_token",
            userinfo: Some(
                "https://graph.facebook.com/<api_version>/me?fields=id,name,email,picture",
            ),
            revocation: None,
        },
        api_base: Some("https://graph.facebook.com/<api_version>/"),
        scope: Some("email public_profile"),
        token_auth: Some(TokenEndpointAuthMethod::ClientSecretPost),
        profile: ProfileMap {
            sub: &["/id"],
            computed: Some(picture_url),
            email_verified: Verified::Never,
            ..ProfileMap::NONE
        },
        deviations: Deviations {
            scope_separator: Some(','),
            token_response: Some(graph_error_to_rfc6749),
            api_request: ApiRequestProof::AppSecretProof,
            ..Deviations::NONE
        },
        quirks: "versioned Graph URLs; explicit `fields=`; comma-separated scope (`email,public_profile`); `appsecret_proof` (hex HMAC-SHA256 of the access token under the app secret) on every Graph call, the profile call included; Graph error objects mapped to RFC 6749 errors; `picture` flattened to its URL; client_secret_post",
        trusted: "`sub` (app-scoped user id); `email` never (Facebook does not say it is verified)",
        ..Preset::OAUTH2
    },
];

/// `picture` is `{"data":{"url":...}}`: the standard claim is the URL.
fn picture_url(claims: &mut Claims) {
    match text_at(claims, "/picture/data/url") {
        Some(url) => claims.insert("picture".into(), Value::String(url)),
        None => claims.remove("picture"),
    };
}

/// Rewrites a Graph error object (`{"error":{"message","type","code","error_subcode"}}`)
/// as an RFC 6749 §5.2 error: `error` a standard code, `error_description` Graph's message
/// with its type and codes.
fn graph_error_to_rfc6749(object: &mut Map<String, Value>) {
    let Some(Value::Object(graph)) = object.get("error") else {
        return;
    };
    let number = |k: &str| graph.get(k).and_then(Value::as_i64);
    let code = number("code");
    let error = match code {
        // Invalid or expired code, redirect_uri mismatch, invalid token.
        Some(100 | 190) => "invalid_grant",
        // The app id or secret is wrong.
        Some(1 | 101) => "invalid_client",
        // Rate limits.
        Some(4 | 17 | 32 | 613) => "temporarily_unavailable",
        _ => "invalid_request",
    };
    let message = graph
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("Graph API error");
    let kind = graph.get("type").and_then(Value::as_str).unwrap_or("error");
    let mut description = format!("{message} ({kind}");
    if let Some(code) = code {
        description.push_str(&format!(", code {code}"));
    }
    if let Some(sub) = number("error_subcode") {
        description.push_str(&format!(", subcode {sub}"));
    }
    description.push(')');
    object.insert("error".into(), Value::String(error.into()));
    object.insert("error_description".into(), Value::String(description));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_errors_become_rfc6749_errors() {
        let mut object = serde_json::json!({"error": {
            "message": "This authorization code has been used.",
            "type": "OAuthException", "code": 100, "error_subcode": 36009,
            "fbtrace_id": "A1"
        }})
        .as_object()
        .cloned()
        .unwrap_or_default();
        graph_error_to_rfc6749(&mut object);
        assert_eq!(object["error"], "invalid_grant");
        assert_eq!(
            object["error_description"],
            "This authorization code has been used. (OAuthException, code 100, subcode 36009)"
        );
        let mut fine = serde_json::json!({"access_token": "x"})
            .as_object()
            .cloned()
            .unwrap_or_default();
        graph_error_to_rfc6749(&mut fine);
        assert!(!fine.contains_key("error"));
    }
}
