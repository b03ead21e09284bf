//! The calls and checks a preset's [`crate::presets::Quirks`] switch on: the verified
//! e-mail lookup, the JWT client secret, JSON token requests and signed token responses.

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::client::ApiRequest;
use crate::client::OAuthClient;
use crate::error::{Error, HttpFailure};
use crate::http::Method;
use crate::token::{Claims, OAuth2Token};

impl OAuthClient {
    /// Adds the provider's verified address to the profile when the preset knows where it
    /// is and the profile has none that the provider vouches for (GitHub's private e-mail).
    pub(crate) async fn add_verified_email(
        &self,
        claims: &mut Claims,
        token: &OAuth2Token,
    ) -> Result<(), Error> {
        let Some(lookup) = &self.inner.quirks.verified_email else {
            return Ok(());
        };
        if claims.get("email_verified") == Some(&Value::Bool(true)) {
            return Ok(());
        }
        let url = self.api_url(lookup.path)?;
        let response = self
            .oauth2_request(
                "e-mail address request",
                Method::GET,
                url,
                token,
                ApiRequest::default(),
            )
            .await?;
        if !response.is_success() {
            return Err(Error::Http {
                client: self.inner.name.clone(),
                what: "e-mail address request",
                failure: HttpFailure::Status(response.status),
            });
        }
        let emails: Value = response.json().map_err(|e| {
            Error::InvalidUserinfo(format!("the e-mail addresses are not JSON ({e})"))
        })?;
        // No verified address: the profile keeps `email_verified: false`.
        if let Some(email) = (lookup.pick)(&emails) {
            claims.insert("email".into(), Value::String(email));
            claims.insert("email_verified".into(), Value::Bool(true));
        }
        Ok(())
    }

    /// The client secret to send: the preset's computed one (Apple's JWT) when it has one.
    pub(crate) fn computed_client_secret(&self) -> Result<Option<crate::Secret>, Error> {
        let Some(source) = &self.inner.quirks.client_secret else {
            return Ok(None);
        };
        source
            .current(crate::random::now())
            .map(Some)
            .map_err(|reason| Error::InvalidClientAssertionKey {
                client: self.inner.name.clone(),
                reason,
            })
    }

    /// Checks a token response's `signature` (Salesforce): base64 HMAC-SHA256 of `id` and
    /// `issued_at` under the client secret, so that a response not from the provider (or
    /// altered on the way) is refused.
    pub(crate) fn check_token_signature(&self, token: &OAuth2Token) -> Result<(), Error> {
        if !self.inner.quirks.signed_token_response {
            return Ok(());
        }
        let invalid = |why: &str| Error::InvalidTokenResponse(format!("signature: {why}"));
        let text = |k: &str| match token.extra.get(k) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let (Some(id), Some(issued_at), Some(signature)) =
            (text("id"), text("issued_at"), text("signature"))
        else {
            return Err(invalid("`id`, `issued_at` or `signature` is missing"));
        };
        let secret = self
            .inner
            .settings
            .client_secret
            .as_ref()
            .ok_or_else(|| invalid("no client secret to check it with"))?;
        let signature = STANDARD
            .decode(signature)
            .map_err(|_| invalid("not base64"))?;
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret.expose().as_bytes());
        hmac::verify(&key, format!("{id}{issued_at}").as_bytes(), &signature)
            .map_err(|_| invalid("does not match"))
    }
}
