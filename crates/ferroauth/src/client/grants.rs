//! Grants besides the authorization code: client credentials (with a cached,
//! automatically re-fetched token) and extension grants by URI.

use crate::client::refresh::{DEFAULT_REFRESH_LEEWAY_SECS, is_invalid_token};
use crate::client::{ApiRequest, OAuthClient};
use crate::http::{HttpResponse, Method};
use crate::token::{OAuth2Token, Token};
use crate::{Error, random};

/// Form fields a caller may not set on a grant: the client's authentication and the grant
/// type are ferroauth's to set.
const RESERVED: &[&str] = &[
    "grant_type",
    "client_id",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
];

impl OAuthClient {
    /// Any grant by its `grant_type` (an RFC 6749 §4.5 extension grant URI such as
    /// `urn:ietf:params:oauth:grant-type:token-exchange`, or a standard name) with these
    /// parameters, authenticated like every token request; `access_token_params` from the
    /// settings are added.
    pub async fn fetch_token_with_grant(
        &self,
        grant_type: &str,
        params: &[(&str, &str)],
    ) -> Result<OAuth2Token, Error> {
        if grant_type.is_empty() {
            return Err(self.misconfigured("an empty grant_type"));
        }
        if let Some((name, _)) = params.iter().find(|(n, _)| RESERVED.contains(n)) {
            return Err(self.misconfigured(format!(
                "token request parameter `{name}` is set by ferroauth"
            )));
        }
        let resolved = self.resolved().await?;
        let mut form = vec![("grant_type".to_owned(), grant_type.to_owned())];
        form.extend(
            params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        self.token_request(&resolved, form).await
    }

    /// A new client-credentials token (RFC 6749 §4.4), not cached: the configured scope
    /// unless `params` has one, plus `access_token_params` (e.g. `audience`).
    pub async fn fetch_client_credentials_token(
        &self,
        params: &[(&str, &str)],
    ) -> Result<OAuth2Token, Error> {
        let mut all: Vec<(&str, &str)> = params.to_vec();
        if !params.iter().any(|(k, _)| *k == "scope")
            && let Some(scope) = self.settings().client_kwargs.scope.as_deref()
        {
            all.push(("scope", scope));
        }
        self.fetch_token_with_grant("client_credentials", &all)
            .await
    }

    /// The client's own token from the client-credentials grant, cached and re-fetched
    /// when it expires within the leeway. Concurrent callers share one fetch.
    pub async fn client_credentials_token(&self) -> Result<OAuth2Token, Error> {
        let mut cached = self.inner.service_token.lock().await;
        let leeway = self
            .settings()
            .client_kwargs
            .token_refresh_leeway
            .unwrap_or(DEFAULT_REFRESH_LEEWAY_SECS);
        if let Some(token) = cached.as_ref()
            && !token.expires_within(random::now(), leeway)
        {
            return Ok(token.clone());
        }
        let fresh = self.fetch_client_credentials_token(&[]).await?;
        *cached = Some(fresh.clone());
        Ok(fresh)
    }

    /// An API call as the client itself, with [`OAuthClient::client_credentials_token`];
    /// after a 401 `invalid_token` the token is fetched anew once.
    pub async fn request_as_client(
        &self,
        method: Method,
        path_or_url: &str,
        request: ApiRequest,
    ) -> Result<HttpResponse, Error> {
        let token = self.client_credentials_token().await?;
        let response = self
            .request(
                method.clone(),
                path_or_url,
                &Token::OAuth2(token.clone()),
                request.clone(),
            )
            .await?;
        if !is_invalid_token(&response) {
            return Ok(response);
        }
        {
            let mut cached = self.inner.service_token.lock().await;
            // Another caller may already have replaced the refused token.
            if cached
                .as_ref()
                .is_some_and(|c| c.access_token == token.access_token)
            {
                *cached = None;
            }
        }
        let fresh = self.client_credentials_token().await?;
        self.request(method, path_or_url, &Token::OAuth2(fresh), request)
            .await
    }
}
