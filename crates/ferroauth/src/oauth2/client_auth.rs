//! Client authentication at the token endpoint (RFC 6749 §2.3).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use url::form_urlencoded::byte_serialize;

use crate::Secret;
use crate::settings::TokenEndpointAuthMethod;

/// Adds the client's credentials to a token-endpoint request.
///
/// `client_secret_basic` form-urlencodes the id and the secret before base64 (RFC 6749
/// §2.3.1 and Appendix B): a secret with `:` or non-ASCII characters would otherwise be
/// mangled, and strict servers decode it that way.
pub fn apply(
    method: TokenEndpointAuthMethod,
    client_id: &str,
    secret: Option<&Secret>,
    headers: &mut HeaderMap,
    form: &mut Vec<(String, String)>,
) {
    match (method, secret) {
        (TokenEndpointAuthMethod::ClientSecretBasic, Some(secret)) => {
            headers.insert(AUTHORIZATION, basic_header(client_id, secret));
        }
        (TokenEndpointAuthMethod::ClientSecretPost, Some(secret)) => {
            form.push(("client_id".into(), client_id.into()));
            form.push(("client_secret".into(), secret.expose().into()));
        }
        _ => form.push(("client_id".into(), client_id.into())),
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
        let mut h = HeaderMap::new();
        let mut form = vec![];
        apply(
            TokenEndpointAuthMethod::ClientSecretPost,
            "id",
            Some(&Secret::new("s")),
            &mut h,
            &mut form,
        );
        assert!(h.is_empty());
        assert_eq!(
            form,
            [
                ("client_id".into(), "id".into()),
                ("client_secret".into(), "s".into())
            ]
        );
        let mut form = vec![];
        apply(
            TokenEndpointAuthMethod::None,
            "id",
            Some(&Secret::new("s")),
            &mut h,
            &mut form,
        );
        assert_eq!(form, [("client_id".to_owned(), "id".to_owned())]);
        assert!(h.is_empty());
    }
}
