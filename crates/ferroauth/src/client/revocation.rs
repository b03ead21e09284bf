//! Token revocation (RFC 7009), introspection (RFC 7662) and the RP-initiated logout URL
//! (OpenID Connect RP-Initiated Logout 1.0).
//!
//! Endpoints come from the settings (`revocation_endpoint`, `introspection_endpoint`,
//! `end_session_endpoint`) or the provider metadata. Revocation and introspection requests
//! carry the client's token-endpoint authentication (RFC 7009 §2.1, RFC 7662 §2.1).

use serde_json::Value;
use url::Url;

use crate::client::token_endpoint::BackChannel;
use crate::client::{OAuthClient, Resolved};
use crate::error::HttpFailure;
use crate::proto::oauth2::token_response::{body_object, provider_error};
use crate::token::Claims;
use crate::{Error, Secret};

/// An introspection answer (RFC 7662 §2.2).
#[derive(Debug, Clone, PartialEq)]
pub struct Introspection {
    /// Whether the token is active. Inactive covers expired, revoked and unknown tokens.
    pub active: bool,
    /// Every member of the answer (`scope`, `client_id`, `sub`, `exp`, ...).
    pub claims: Claims,
}

impl OAuthClient {
    /// Revokes a token (RFC 7009). `token_type_hint` is `access_token` or
    /// `refresh_token`. Revoking a refresh token usually ends the whole grant.
    pub async fn revoke_token(
        &self,
        token: &Secret,
        token_type_hint: Option<&str>,
    ) -> Result<(), Error> {
        self.token_management("revocation", token, token_type_hint)
            .await
            .map(drop)
    }

    /// Asks the provider about a token (RFC 7662).
    pub async fn introspect_token(
        &self,
        token: &Secret,
        token_type_hint: Option<&str>,
    ) -> Result<Introspection, Error> {
        let claims = self
            .token_management("introspection", token, token_type_hint)
            .await?
            .ok_or_else(|| Error::TokenManagement {
                what: "introspection",
                error: crate::ProviderError::new("the answer is not a JSON object"),
            })?;
        Ok(Introspection {
            active: claims.get("active") == Some(&Value::Bool(true)),
            claims,
        })
    }

    async fn token_management(
        &self,
        what: &'static str,
        token: &Secret,
        hint: Option<&str>,
    ) -> Result<Option<Claims>, Error> {
        let resolved = self.resolved().await?;
        let endpoint = match what {
            "revocation" => resolved.revocation.as_ref(),
            _ => resolved.introspection.as_ref(),
        }
        .ok_or_else(|| {
            self.misconfigured(format!(
                "no {what} endpoint: set {what}_endpoint or server_metadata_url"
            ))
        })?;
        let mut form = vec![("token".to_owned(), token.expose().to_owned())];
        if let Some(hint) = hint {
            form.push(("token_type_hint".to_owned(), hint.to_owned()));
        }
        let call = if what == "revocation" {
            "revocation request"
        } else {
            "introspection request"
        };
        let response = self
            .post_authenticated(
                call,
                &resolved,
                endpoint,
                form,
                BackChannel::TokenManagement,
            )
            .await?;
        let object = body_object(&response);
        if let Some(error) = object.as_ref().and_then(provider_error) {
            return Err(Error::TokenManagement { what, error });
        }
        if !response.is_success() {
            return Err(Error::Http {
                client: self.name().to_owned(),
                what: call,
                failure: HttpFailure::Status(response.status),
            });
        }
        Ok(object)
    }

    /// The provider's logout URL (OpenID Connect RP-Initiated Logout 1.0 §2), or `None`
    /// when the provider has no `end_session_endpoint`. `id_token_hint` tells the provider
    /// whose session to end without asking; `post_logout_redirect_uri` must be registered
    /// at the provider; `state` comes back on that redirect.
    pub async fn end_session_url(
        &self,
        id_token_hint: Option<&Secret>,
        post_logout_redirect_uri: Option<&str>,
        state: Option<&str>,
    ) -> Result<Option<Url>, Error> {
        if self.is_oauth1() {
            return Ok(None);
        }
        let resolved = self.resolved().await?;
        Ok(self.end_session_at(&resolved, id_token_hint, post_logout_redirect_uri, state))
    }

    /// [`end_session_url`](Self::end_session_url) from what this client already knows
    /// (its settings, or metadata fetched before), never calling the provider: a logout
    /// must not wait on it. `None` as well when the metadata was not fetched yet on this
    /// instance; its fetch then starts in the background, for the next logout.
    pub fn end_session_url_known(
        &self,
        id_token_hint: Option<&Secret>,
        post_logout_redirect_uri: Option<&str>,
        state: Option<&str>,
    ) -> Option<Url> {
        if self.is_oauth1() {
            return None;
        }
        let Some(resolved) = self.inner.resolved.get() else {
            let client = self.clone();
            tokio::spawn(async move { client.resolved().await.map(drop) });
            return None;
        };
        self.end_session_at(resolved, id_token_hint, post_logout_redirect_uri, state)
    }

    /// Whether the provider has a revocation endpoint (RFC 7009), from the settings or its
    /// metadata (fetched if need be).
    pub async fn can_revoke(&self) -> bool {
        !self.is_oauth1() && self.resolved().await.is_ok_and(|r| r.revocation.is_some())
    }

    /// Whether the user's tokens are revoked when they log out (`revoke_tokens_on_logout`,
    /// on unless the settings turn it off).
    pub fn revokes_tokens_on_logout(&self) -> bool {
        let kwargs = &self.inner.settings.client_kwargs;
        !self.is_oauth1() && kwargs.revoke_tokens_on_logout.unwrap_or(true)
    }

    /// Whether the provider's back-channel logout tokens are accepted
    /// (`backchannel_logout`): on for OpenID Connect clients, those with an `issuer` or a
    /// `server_metadata_url`, unless the settings turn it off. A plain OAuth 2.0 or 1.0a
    /// client has no issuer to sign logout tokens.
    pub fn accepts_backchannel_logout(&self) -> bool {
        let settings = &self.inner.settings;
        let has_issuer = settings.issuer.is_some() || settings.server_metadata_url.is_some();
        !self.is_oauth1() && has_issuer && settings.client_kwargs.backchannel_logout.unwrap_or(true)
    }

    fn end_session_at(
        &self,
        resolved: &Resolved,
        id_token_hint: Option<&Secret>,
        post_logout_redirect_uri: Option<&str>,
        state: Option<&str>,
    ) -> Option<Url> {
        let mut url = resolved.end_session.clone()?;
        {
            let mut q = url.query_pairs_mut();
            if let Some(hint) = id_token_hint {
                q.append_pair("id_token_hint", hint.expose());
            }
            q.append_pair("client_id", self.client_id());
            if let Some(uri) = post_logout_redirect_uri {
                q.append_pair("post_logout_redirect_uri", uri);
            }
            if let Some(state) = state {
                q.append_pair("state", state);
            }
        }
        Some(url)
    }
}
