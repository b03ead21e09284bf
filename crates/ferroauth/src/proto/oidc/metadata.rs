//! Provider metadata: OpenID Connect Discovery 1.0 and RFC 8414.

use serde::Deserialize;
use serde_json::{Map, Value};
use url::Url;

/// The members of a provider's metadata that ferroauth uses; the rest are kept in `extra`.
#[derive(Debug, Clone, Deserialize)]
pub struct ProviderMetadata {
    /// The issuer identifier.
    pub issuer: String,
    /// The authorization endpoint.
    pub authorization_endpoint: Option<String>,
    /// The token endpoint.
    pub token_endpoint: Option<String>,
    /// The userinfo endpoint.
    pub userinfo_endpoint: Option<String>,
    /// The JWKS URL.
    pub jwks_uri: Option<String>,
    /// RFC 7009 revocation endpoint.
    pub revocation_endpoint: Option<String>,
    /// RFC 7662 introspection endpoint.
    pub introspection_endpoint: Option<String>,
    /// RP-initiated logout endpoint.
    pub end_session_endpoint: Option<String>,
    /// Client authentication methods the token endpoint accepts.
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// ID token signing algorithms the provider uses.
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Option<Vec<String>>,
    /// PKCE methods the provider supports.
    #[serde(default)]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// RFC 9207: the provider puts `iss` in every authorization response.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// RFC 9101 §10.5: the provider accepts only signed request objects.
    #[serde(default)]
    pub require_signed_request_object: bool,
    /// RFC 8628: where a device login starts.
    #[serde(default)]
    pub device_authorization_endpoint: Option<String>,
    /// RFC 9126: where authorization requests are pushed.
    #[serde(default)]
    pub pushed_authorization_request_endpoint: Option<String>,
    /// RFC 9126 §5: the provider accepts authorization requests only when pushed.
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

const OIDC_SUFFIX: &str = "/.well-known/openid-configuration";
const RFC8414_INFIX: &str = "/.well-known/oauth-authorization-server";

/// The issuer a metadata document fetched from `url` must name.
///
/// OpenID Connect Discovery §4.3: the issuer is the URL with `/.well-known/openid-configuration`
/// removed. RFC 8414 §3.1: the well-known segment sits between the host and the issuer's
/// path. For any other URL the issuer cannot be derived and must be configured.
pub fn expected_issuer(url: &Url) -> Option<String> {
    let path = url.path();
    let origin = url.origin().ascii_serialization();
    if let Some(prefix) = path.strip_suffix(OIDC_SUFFIX) {
        return Some(format!("{origin}{prefix}"));
    }
    if let Some(rest) = path.strip_prefix(RFC8414_INFIX) {
        return Some(format!("{origin}{rest}"));
    }
    None
}

/// Whether two issuer strings are the same identifier. A single terminating `/` is not
/// significant in the discovery URL construction (Discovery §4.1), so Auth0-style
/// `https://tenant/` matches `https://tenant`; nothing else is normalised.
pub fn same_issuer(a: &str, b: &str) -> bool {
    a.strip_suffix('/').unwrap_or(a) == b.strip_suffix('/').unwrap_or(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_the_issuer_from_the_url() {
        let u = |s: &str| expected_issuer(&Url::parse(s).unwrap());
        assert_eq!(
            u("https://accounts.google.com/.well-known/openid-configuration").as_deref(),
            Some("https://accounts.google.com")
        );
        assert_eq!(
            u("http://127.0.0.1:3000/realms/x/.well-known/openid-configuration").as_deref(),
            Some("http://127.0.0.1:3000/realms/x")
        );
        assert_eq!(
            u("https://as.example/.well-known/oauth-authorization-server/tenant1").as_deref(),
            Some("https://as.example/tenant1")
        );
        assert_eq!(
            u("https://as.example/.well-known/oauth-authorization-server").as_deref(),
            Some("https://as.example")
        );
        assert_eq!(u("https://as.example/metadata.json"), None);
    }

    #[test]
    fn issuer_comparison() {
        assert!(same_issuer(
            "https://tenant.auth0.com/",
            "https://tenant.auth0.com"
        ));
        assert!(!same_issuer("https://evil.example", "https://good.example"));
        assert!(!same_issuer("https://a.example/x", "https://a.example/X"));
    }

    #[test]
    fn parses_and_keeps_unknown_members() {
        let m: ProviderMetadata = serde_json::from_str(
            r#"{"issuer":"https://a","authorization_endpoint":"https://a/auth","authorization_response_iss_parameter_supported":true,"x":1}"#,
        )
        .unwrap();
        assert!(m.authorization_response_iss_parameter_supported);
        assert_eq!(m.extra["x"], 1);
    }
}
