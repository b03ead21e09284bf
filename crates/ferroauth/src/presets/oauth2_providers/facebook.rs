//! Facebook Login (the web flow is OAuth 2.0; Limited Login's OpenID Connect is iOS only).
//!
//! Quirks: every URL names a Graph API version; the profile fields must be asked for
//! (`/me?fields=...`); scopes are comma-separated; with "Require App Secret" on, every
//! Graph call carries `appsecret_proof` = hex HMAC-SHA256(app secret, access token), the
//! profile call included; errors are Graph error objects
//! (`{"error":{"message","type","code","error_subcode"}}`), mapped here to RFC 6749 codes;
//! the address is never said to be verified.

use aws_lc_rs::hmac;
use serde_json::{Map, Value};

use super::super::profile_map::{set, text_at};
use super::super::{Context, Preset, Protocol, Spec, endpoints};
use crate::hooks::{ComplianceHooks, ProtectedRequest};
use crate::proto::oauth2::client_auth::TokenEndpointAuthMethod;
use crate::settings::ClientKwargs;

/// The Graph API version used when `preset_options.api_version` is not given.
const DEFAULT_VERSION: &str = "v24.0";

/// Facebook Login.
pub(crate) const FACEBOOK: Preset = Preset {
    name: "facebook",
    display_name: "Facebook",
    protocol: Protocol::OAuth2,
    options: &["api_version"],
    endpoints: "`https://www.facebook.com/<v>/dialog/oauth`, `https://graph.facebook.com/<v>/oauth/access_token`, `https://graph.facebook.com/<v>/me?fields=id,name,email,picture` (`<v>` = `preset_options.api_version`, default `v24.0`)",
    quirks: "versioned Graph URLs; explicit `fields=`; comma-separated scope (`email,public_profile`); `appsecret_proof` (hex HMAC-SHA256 of the access token under the app secret) on every Graph call, the profile call included; Graph error objects mapped to RFC 6749 errors; `picture` flattened to its URL; client_secret_post",
    trusted: "`sub` (app-scoped user id); `email` never (Facebook does not say it is verified)",
    build: facebook,
};

fn facebook(cx: &Context<'_>) -> Result<Spec, String> {
    let version = cx.options.api_version.as_deref().unwrap_or(DEFAULT_VERSION);
    if !valid_version(version) {
        return Err(format!(
            "preset_options.api_version must look like `{DEFAULT_VERSION}`, not {version:?}"
        ));
    }
    let graph = format!("https://graph.facebook.com/{version}");
    let mut spec = Spec::new(endpoints(
        &format!("https://www.facebook.com/{version}/dialog/oauth"),
        &format!("{graph}/oauth/access_token"),
        &format!("{graph}/"),
        Some(&format!("{graph}/me?fields=id,name,email,picture")),
        ClientKwargs {
            scope: Some("email public_profile".into()),
            token_endpoint_auth_method: Some(TokenEndpointAuthMethod::ClientSecretPost),
            ..ClientKwargs::default()
        },
    ));
    spec.quirks.scope_separator = Some(',');
    let mut hooks = ComplianceHooks::new()
        .token_response(graph_error_to_rfc6749)
        .userinfo(|claims| {
            set(claims, "sub", &["/id"]);
            // `picture` is `{"data":{"url":...}}`: the standard claim is the URL.
            match text_at(claims, "/picture/data/url") {
                Some(url) => claims.insert("picture".into(), Value::String(url)),
                None => claims.remove("picture"),
            };
            claims.insert("email_verified".into(), Value::Bool(false));
        });
    if let Some(secret) = cx.explicit.client_secret.clone() {
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret.expose().as_bytes());
        hooks = hooks.protected_request(move |call| add_appsecret_proof(&key, call));
    }
    spec.hooks = hooks;
    Ok(spec)
}

/// `v<major>.<minor>`, digits only.
fn valid_version(v: &str) -> bool {
    let Some((major, minor)) = v.strip_prefix('v').and_then(|r| r.split_once('.')) else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit());
    digits(major) && digits(minor)
}

/// Adds `appsecret_proof` for the call's access token (taken from its `Authorization`
/// header), replacing any already there.
fn add_appsecret_proof(key: &hmac::Key, call: &mut ProtectedRequest) {
    let Some(token) = call
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .map(|(_, token)| token.trim().to_owned())
    else {
        return;
    };
    let proof = hex(hmac::sign(key, token.as_bytes()).as_ref());
    let kept: Vec<(String, String)> = call
        .url
        .query_pairs()
        .filter(|(k, _)| k != "appsecret_proof")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    call.url
        .query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair("appsecret_proof", &proof);
}

/// Lower-case hex.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]])
        .map(char::from)
        .collect()
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
    fn versions_are_checked() {
        for good in ["v24.0", "v3.1", "v100.12"] {
            assert!(valid_version(good), "{good}");
        }
        for bad in ["24.0", "v24", "v24.0/../x", "v.1", "latest", ""] {
            assert!(!valid_version(bad), "{bad}");
        }
    }

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

    #[test]
    fn proof_is_hex_hmac_sha256() {
        // RFC 4231 test case 2.
        let key = hmac::Key::new(hmac::HMAC_SHA256, b"Jefe");
        assert_eq!(
            hex(hmac::sign(&key, b"what do ya want for nothing?").as_ref()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
