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
    ///
    /// The lookup is optional: a provider may refuse it (GitHub answers 403 to a GitHub
    /// App without the "Email addresses" permission and to a token narrowed to
    /// `read:user`; Bitbucket without the `email` scope), or fail, or answer something
    /// unreadable. The login then goes on without a verified address (`email_verified`
    /// false, so nothing links accounts by it) and one warning is logged; only the
    /// identity (`sub`) is mandatory.
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
        match self.email_addresses(url, token).await {
            Ok(emails) => {
                // No verified address: the profile keeps `email_verified: false`.
                if let Some(email) = (lookup.pick)(&emails) {
                    claims.insert("email".into(), Value::String(email));
                    claims.insert("email_verified".into(), Value::Bool(true));
                }
            }
            Err(e) => {
                tracing::warn!(
                    client = self.name(),
                    error = %e,
                    "the optional e-mail address lookup failed; the login goes on without a \
                     verified address"
                );
                claims.insert("email_verified".into(), Value::Bool(false));
            }
        }
        Ok(())
    }

    /// The provider's list of the user's addresses, as JSON.
    async fn email_addresses(&self, url: url::Url, token: &OAuth2Token) -> Result<Value, Error> {
        let what = "e-mail address request";
        let response = self
            .oauth2_request(what, Method::GET, url, token, ApiRequest::default())
            .await?;
        if !response.is_success() {
            return Err(Error::Http {
                client: self.inner.name.clone(),
                what,
                failure: HttpFailure::Status(response.status),
            });
        }
        response
            .json()
            .map_err(|e| Error::InvalidUserinfo(format!("the e-mail addresses are not JSON ({e})")))
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
