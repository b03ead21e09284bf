//! Client authentication at the token endpoint (RFC 6749 §2.3).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde::Deserialize;
use url::form_urlencoded::byte_serialize;

use crate::Secret;

/// Token endpoint client authentication (RFC 6749 §2.3, OpenID Connect Core §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenEndpointAuthMethod {
    /// HTTP Basic with the form-urlencoded id and secret (the default with a secret).
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
    /// A public client: only `client_id` in the body (the default without a secret).
    None,
    /// A JWT signed with the client secret (HMAC, HS256 by default; RFC 7523, OpenID
    /// Connect Core §9). The secret never travels.
    ClientSecretJwt,
    /// A JWT signed with the client's private key (`client_kwargs.client_assertion_key`):
    /// no shared secret at all.
    PrivateKeyJwt,
}

impl TokenEndpointAuthMethod {
    /// The name used in settings and provider metadata.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::None => "none",
            Self::ClientSecretJwt => "client_secret_jwt",
            Self::PrivateKeyJwt => "private_key_jwt",
        }
    }
}

/// A client's id and secret, with the Basic header computed once at registration rather
/// than on every token request.
#[derive(Clone)]
pub struct ClientCredentials {
    client_id: String,
    secret: Option<Secret>,
    basic: Option<HeaderValue>,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl ClientCredentials {
    /// The credentials of one client.
    pub fn new(client_id: &str, secret: Option<&Secret>) -> Self {
        Self {
            client_id: client_id.to_owned(),
            secret: secret.cloned(),
            basic: secret.map(|s| basic_header(client_id, s)),
        }
    }

    /// Adds the client's credentials to a token-endpoint request.
    ///
    /// `client_secret_basic` form-urlencodes the id and the secret before base64 (RFC 6749
    /// §2.3.1 and Appendix B): a secret with `:` or non-ASCII characters would otherwise be
    /// mangled, and strict servers decode it that way.
    pub fn apply(
        &self,
        method: TokenEndpointAuthMethod,
        headers: &mut HeaderMap,
        form: &mut Vec<(String, String)>,
    ) {
        match (method, &self.basic, &self.secret) {
            (TokenEndpointAuthMethod::ClientSecretBasic, Some(basic), _) => {
                headers.insert(AUTHORIZATION, basic.clone());
            }
            (TokenEndpointAuthMethod::ClientSecretPost, _, Some(secret)) => {
                form.push(("client_id".into(), self.client_id.clone()));
                form.push(("client_secret".into(), secret.expose().into()));
            }
            _ => form.push(("client_id".into(), self.client_id.clone())),
        }
    }
}

/// The `Authorization: Basic ...` value for a client.
pub fn basic_header(client_id: &str, secret: &Secret) -> HeaderValue {
    let id: String = byte_serialize(client_id.as_bytes()).collect();
    let pw: String = byte_serialize(secret.expose().as_bytes()).collect();
    let mut value =
        HeaderValue::try_from(format!("Basic {}", STANDARD.encode(format!("{id}:{pw}"))))
            .unwrap_or_else(|_| HeaderValue::from_static("Basic"));
    value.set_sensitive(true);
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_form_encodes_before_base64() {
        let v = basic_header("my client", &Secret::new("p:ss/wörd+"));
        let encoded = v.to_str().unwrap().strip_prefix("Basic ").unwrap();
        let decoded = String::from_utf8(STANDARD.decode(encoded).unwrap()).unwrap();
        assert_eq!(decoded, "my+client:p%3Ass%2Fw%C3%B6rd%2B");
        assert!(v.is_sensitive());
    }

    #[test]
    fn post_and_none_use_the_body() {
        let creds = ClientCredentials::new("id", Some(&Secret::new("s")));
        let mut h = HeaderMap::new();
        let mut form = vec![];
        creds.apply(TokenEndpointAuthMethod::ClientSecretPost, &mut h, &mut form);
        assert!(h.is_empty());
        assert_eq!(
            form,
            [
                ("client_id".into(), "id".into()),
                ("client_secret".into(), "s".into())
            ]
        );
        let mut form = vec![];
        creds.apply(TokenEndpointAuthMethod::None, &mut h, &mut form);
        assert_eq!(form, [("client_id".to_owned(), "id".to_owned())]);
        assert!(h.is_empty());
    }

    #[test]
    fn basic_uses_the_header_computed_once() {
        let creds = ClientCredentials::new("my client", Some(&Secret::new("p:ss")));
        let mut h = HeaderMap::new();
        let mut form = vec![];
        creds.apply(
            TokenEndpointAuthMethod::ClientSecretBasic,
            &mut h,
            &mut form,
        );
        assert!(form.is_empty());
        // RFC 6749 §2.3.1: id and secret form-encoded ("my+client", "p%3Ass"), then Basic.
        assert_eq!(h[AUTHORIZATION], "Basic bXkrY2xpZW50OnAlM0Fzcw==");
        assert!(!format!("{creds:?}").contains("p:ss"));
        // Without a secret, basic falls back to identifying the client in the body.
        let public = ClientCredentials::new("pub", None);
        let mut h = HeaderMap::new();
        public.apply(
            TokenEndpointAuthMethod::ClientSecretBasic,
            &mut h,
            &mut form,
        );
        assert!(h.is_empty());
        assert_eq!(form, [("client_id".to_owned(), "pub".to_owned())]);
    }
}
