//! Pushed authorization requests (RFC 9126): the authorization request goes to the
//! provider over the back channel, authenticated like a token request, and the browser
//! carries only `client_id` and the `request_uri` the provider gave back.
//!
//! Why push: the request's parameters (PKCE challenge, nonce, scope, `max_age`…) never
//! pass through the browser, so they cannot be read or altered there, and the provider
//! knows the client before the user sees anything. FAPI 2.0 requires it; some providers
//! (`require_pushed_authorization_requests` in their metadata) accept nothing else.

use serde_json::{Map, Value};
use url::Url;

use crate::client::token_endpoint::BackChannel;
use crate::client::{OAuthClient, Resolved};
use crate::error::{Error, ProviderError};
use crate::proto::oauth2::token_response;

impl OAuthClient {
    /// Whether this login pushes its authorization request: as configured, else when
    /// the provider requires it.
    pub(crate) fn pushes_authorization_requests(&self, resolved: &Resolved) -> Result<bool, Error> {
        let wanted = self
            .settings()
            .client_kwargs
            .pushed_authorization_requests
            .unwrap_or(resolved.require_par);
        if wanted && resolved.par.is_none() {
            return Err(self.misconfigured(
                "pushed authorization requests are on, but the provider's metadata names no \
                 pushed_authorization_request_endpoint",
            ));
        }
        Ok(wanted)
    }

    /// Pushes `request` (the authorization request's parameters, without `client_id`)
    /// and returns the URL the browser goes to: the authorization endpoint with
    /// `client_id` and `request_uri` only (RFC 9126 §4).
    pub(crate) async fn push_authorization_request(
        &self,
        resolved: &Resolved,
        request: &[(&str, &str)],
    ) -> Result<Url, Error> {
        let Some(endpoint) = &resolved.par else {
            return Err(self.misconfigured("no pushed_authorization_request_endpoint"));
        };
        let form: Vec<(String, String)> = request
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let response = self
            .post_authenticated(
                "pushed authorization request",
                resolved,
                endpoint,
                form,
                BackChannel::PushedAuthorization,
            )
            .await?;
        let request_uri = request_uri(response.status, &response.body)?;
        let mut url = resolved.authorize.clone();
        url.query_pairs_mut()
            .append_pair("client_id", self.client_id())
            .append_pair("request_uri", &request_uri);
        Ok(url)
    }
}

/// The `request_uri` of a PAR answer (RFC 9126 §2.2: 201 with JSON), or the provider's
/// error (§2.3).
fn request_uri(status: u16, body: &[u8]) -> Result<String, Error> {
    let object: Option<Map<String, Value>> = serde_json::from_slice(body).ok();
    if let Some(error) = object.as_ref().and_then(token_response::provider_error) {
        return Err(Error::PushedAuthorization(error));
    }
    let uri = object
        .as_ref()
        .and_then(|o| o.get("request_uri"))
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty() && u.len() <= 2048);
    match (status, uri) {
        (200 | 201, Some(uri)) => Ok(uri.to_owned()),
        (200 | 201, None) => Err(Error::PushedAuthorization(ProviderError {
            error: "invalid_response".into(),
            description: Some("the answer has no usable request_uri".into()),
            uri: None,
        })),
        (status, _) => Err(Error::PushedAuthorization(ProviderError {
            error: "http_error".into(),
            description: Some(format!(
                "the endpoint answered HTTP {status} without an error"
            )),
            uri: None,
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_uri_comes_from_a_201() {
        let body = br#"{"request_uri":"urn:ietf:params:oauth:request_uri:abc","expires_in":60}"#;
        assert_eq!(
            request_uri(201, body).unwrap(),
            "urn:ietf:params:oauth:request_uri:abc"
        );
    }

    #[test]
    fn provider_errors_keep_their_code() {
        let body = br#"{"error":"invalid_request","error_description":"bad scope"}"#;
        let e = request_uri(400, body).unwrap_err();
        assert_eq!(e.code(), "invalid_request");
        let e = request_uri(401, br#"{"error":"invalid_client"}"#).unwrap_err();
        assert_eq!(e.code(), "invalid_client");
        let e = request_uri(400, br#"{"error":"<odd>"}"#).unwrap_err();
        assert_eq!(e.code(), "pushed_authorization_failed");
    }

    #[test]
    fn answers_without_a_request_uri_are_refused() {
        for (status, body) in [
            (201, &b"{}"[..]),
            (201, b"not json"),
            (201, br#"{"request_uri":""}"#),
            (500, b"oops"),
        ] {
            let e = request_uri(status, body).unwrap_err();
            assert!(matches!(e, Error::PushedAuthorization(_)), "{e:?}");
            assert_eq!(e.code(), "pushed_authorization_failed");
        }
    }
}
