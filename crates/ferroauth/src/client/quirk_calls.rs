//! The calls and checks a preset's [`crate::presets::Deviations`] switch on: the profile
//! and claims maps, the verified e-mail lookup, the computed client secret and signed
//! token responses.

use serde_json::Value;

use crate::client::ApiRequest;
use crate::client::OAuthClient;
use crate::error::{Error, HttpFailure};
use crate::http::Method;
use crate::presets::ProfileMap;
use crate::token::{Claims, OAuth2Token};

impl OAuthClient {
    /// Maps a provider's profile to the standard claims: the preset's profile map, then
    /// the app's `userinfo` hook. With `from`, the claims are first replaced by a copy of
    /// it, only when there is a mapping to run (a profile carried by the token response).
    pub(crate) fn map_profile(&self, claims: &mut Claims, from: Option<&Claims>) {
        let hooks = self.hooks();
        let map = self.inner.deviations.profile_map();
        let hook = hooks.userinfo.as_ref();
        if hook.is_none() && map.is_none() {
            return;
        }
        if let Some(from) = from {
            claims.clone_from(from);
        }
        if let Some(map) = map {
            map.apply(claims);
        }
        if let Some(hook) = hook {
            hook(claims);
        }
    }

    /// The preset's mapping of the login's checked claims (Microsoft's `tid:oid`), at
    /// login and after a refresh.
    pub(crate) fn claims_map(&self) -> Option<&'static ProfileMap> {
        self.inner.deviations.claims_map()
    }

    /// Adds the provider's verified address to the profile when the preset knows where it
    /// is and the profile has none that the provider vouches for (GitHub's private e-mail).
    pub(crate) async fn add_verified_email(
        &self,
        claims: &mut Claims,
        token: &OAuth2Token,
    ) -> Result<(), Error> {
        let Some(lookup) = self.inner.deviations.email_lookup() else {
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
        self.inner
            .deviations
            .client_secret(crate::random::now())
            .map_err(|reason| Error::InvalidClientAssertionKey {
                client: self.inner.name.clone(),
                reason,
            })
    }

    /// Checks a token response's `signature` (Salesforce): base64 HMAC-SHA256 of `id` and
    /// `issued_at` under the client secret, so that a response not from the provider (or
    /// altered on the way) is refused.
    pub(crate) fn check_token_signature(&self, token: &OAuth2Token) -> Result<(), Error> {
        self.inner
            .deviations
            .check_token_signature(&token.extra, self.inner.settings.client_secret.as_ref())
            .map_err(|why| Error::InvalidTokenResponse(format!("signature: {why}")))
    }
}
