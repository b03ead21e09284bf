//! The token endpoint: grants with the client's authentication, and refresh.

use http::header::{ACCEPT, HeaderMap, HeaderValue, USER_AGENT};
use url::Url;

use crate::Secret;
use crate::client::oidc::IdTokenCheck;
use crate::client::{OAuthClient, Resolved};
use crate::error::Error;
use crate::http::{HttpResponse, Method};
use crate::presets::deviations;
use crate::proto::oauth2::client_auth::TokenEndpointAuthMethod;
use crate::proto::oauth2::token_response;
use crate::random;
use crate::token::{Claims, OAuth2Token};

/// Which back-channel endpoint a form goes to: it decides on `client_id` and DPoP proofs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BackChannel {
    /// The token endpoint (RFC 6749 §3.2).
    Token,
    /// The pushed authorization request endpoint (RFC 9126).
    PushedAuthorization,
    /// The device authorization endpoint (RFC 8628).
    DeviceAuthorization,
    /// Revocation (RFC 7009) and introspection (RFC 7662).
    TokenManagement,
}

impl OAuthClient {
    /// Sends a grant to the token endpoint with the client's authentication.
    pub(crate) async fn token_request(
        &self,
        resolved: &Resolved,
        form: Vec<(String, String)>,
    ) -> Result<OAuth2Token, Error> {
        self.token_request_hooked(resolved, form, false).await
    }

    /// [`Self::token_request`], also running the `refresh_response` hook when `refresh`.
    pub(crate) async fn token_request_hooked(
        &self,
        resolved: &Resolved,
        mut form: Vec<(String, String)>,
        refresh: bool,
    ) -> Result<OAuth2Token, Error> {
        let settings = &self.inner.settings;
        for (k, v) in &settings.access_token_params {
            form.push((k.clone(), v.clone()));
        }
        // RFC 8707 §2.2: the token request names the resources again.
        if !form.iter().any(|(k, _)| k == "resource") {
            for resource in settings.client_kwargs.resource.iter().flatten() {
                form.push(("resource".into(), resource.clone()));
            }
        }
        let response = self
            .post_authenticated(
                "token request",
                resolved,
                &resolved.token,
                form,
                BackChannel::Token,
            )
            .await?;
        let hooks = self.hooks();
        let token =
            token_response::parse_with(&self.inner.name, &response, random::now(), |object| {
                // The provider's own error shapes first, then the app's hook.
                self.inner.deviations.fix_token_response(object);
                if let Some(hook) = &hooks.token_response {
                    hook(object);
                }
                if refresh && let Some(hook) = &hooks.refresh_response {
                    hook(object);
                }
            })?;
        token_response::check_token_type(
            &self.inner.name,
            &token.token_type,
            self.inner.dpop.is_some(),
        )?;
        self.check_token_signature(&token)?;
        // A provider whose ID token is not the identity (VK ID, PayPal): dropped before
        // anything validates it.
        let mut token = token;
        self.inner.deviations.drop_unused_id_token(&mut token);
        Ok(token)
    }

    /// POSTs `form` to one of the provider's back-channel endpoints with the client's
    /// authentication, asking for JSON (GitHub answers form-encoded otherwise).
    pub(crate) async fn post_authenticated(
        &self,
        what: &'static str,
        resolved: &Resolved,
        endpoint: &Url,
        mut form: Vec<(String, String)>,
        channel: BackChannel,
    ) -> Result<HttpResponse, Error> {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        // A client's own User-Agent (`client_kwargs.api_headers`) goes on its back-channel
        // calls too: Reddit throttles every call, token requests included, without one
        // naming the app.
        if let Some(agent) = self.inner.api_headers.get(USER_AGENT) {
            headers.insert(USER_AGENT, agent.clone());
        }
        self.authenticate(resolved, &mut headers, &mut form)?;
        // Basic authentication names the client in the header only; pushed and device
        // authorization requests still carry `client_id`, as every authorization request.
        let names_client = matches!(
            channel,
            BackChannel::PushedAuthorization | BackChannel::DeviceAuthorization
        );
        if names_client && !form.iter().any(|(k, _)| k == "client_id") {
            form.push(("client_id".into(), self.client_id().into()));
        }
        let body = if self.inner.deviations.json_token_request() && channel == BackChannel::Token {
            // Notion reads its token requests as JSON objects.
            let object: serde_json::Map<String, serde_json::Value> = form
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v)))
                .collect();
            let json = serde_json::Value::Object(object).to_string();
            Some(("application/json", json.into_bytes()))
        } else {
            let body = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&form)
                .finish();
            Some(("application/x-www-form-urlencoded", body.into_bytes()))
        };
        match channel {
            // RFC 9449 §5 and §10.1: proofs go to the token and PAR endpoints.
            BackChannel::Token | BackChannel::PushedAuthorization => {
                self.send_with_proof(what, Method::POST, endpoint, headers, body, None)
                    .await
            }
            BackChannel::DeviceAuthorization | BackChannel::TokenManagement => {
                self.inner
                    .http
                    .send(
                        what,
                        &self.inner.limits,
                        Method::POST,
                        endpoint,
                        headers,
                        body,
                    )
                    .await
            }
        }
    }

    /// Adds the client's authentication to a request to the token, revocation or
    /// introspection endpoint. JWT assertions are addressed to the token endpoint URL
    /// whatever the endpoint (see [`crate::proto::jose::client_assertion`]).
    pub(crate) fn authenticate(
        &self,
        resolved: &Resolved,
        headers: &mut HeaderMap,
        form: &mut Vec<(String, String)>,
    ) -> Result<(), Error> {
        let method = resolved.auth_method;
        let key = match method {
            TokenEndpointAuthMethod::PrivateKeyJwt => self.inner.private_key.as_ref(),
            TokenEndpointAuthMethod::ClientSecretJwt => self.inner.secret_jwt_key.as_ref(),
            other => {
                match self.computed_client_secret()? {
                    // Apple: a fresh JWT in place of a fixed secret.
                    Some(secret) => crate::proto::oauth2::client_auth::ClientCredentials::new(
                        self.client_id(),
                        Some(&secret),
                    )
                    .apply(other, headers, form),
                    None => self.inner.credentials.apply(other, headers, form),
                }
                return Ok(());
            }
        };
        let key_error = |reason: String| Error::InvalidClientAssertionKey {
            client: self.inner.name.clone(),
            reason,
        };
        let key = key.ok_or_else(|| {
            key_error(format!(
                "{} was chosen but no usable key is configured",
                method.as_str()
            ))
        })?;
        let assertion = key
            .client_assertion(self.client_id(), resolved.token.as_str(), random::now())
            .map_err(|e| key_error(e.0))?;
        form.push(("client_id".into(), self.client_id().into()));
        form.push((
            "client_assertion_type".into(),
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
        ));
        form.push(("client_assertion".into(), assertion));
        Ok(())
    }

    /// Uses a refresh token (RFC 6749 §6), by hand. A new ID token, when the provider
    /// sends one, is validated and must name the same issuer and subject (OpenID Connect
    /// Core §12.2). The new token keeps the old refresh token when the response carries
    /// none.
    ///
    /// Single flight: concurrent calls with the same refresh token, from any client of
    /// this registry, make one request and share its result, and a call with a refresh
    /// token refreshed moments ago gets that result (for `RESULT_GRACE`, 30 s). Saving the
    /// new token is up to the caller; [`OAuthClient::refresh_stored_token`] does it too.
    pub async fn refresh_token(&self, token: &OAuth2Token) -> Result<OAuth2Token, Error> {
        let refresh = self.refresh_secret(token)?;
        let refresher = self.inner.refresher.clone();
        refresher
            .run(&self.inner.name, refresh.expose(), || {
                self.refresh_uncoordinated(token)
            })
            .await
            .map(|(token, _)| token)
    }

    /// The token's refresh token, or the typed error saying there is none.
    pub(crate) fn refresh_secret<'t>(&self, token: &'t OAuth2Token) -> Result<&'t Secret, Error> {
        token
            .refresh_token
            .as_ref()
            .ok_or_else(|| Error::NoRefreshToken {
                client: self.inner.name.clone(),
            })
    }

    /// The refresh request itself, outside the single flight.
    pub(crate) async fn refresh_uncoordinated(
        &self,
        token: &OAuth2Token,
    ) -> Result<OAuth2Token, Error> {
        let refresh = self.refresh_secret(token)?;
        let resolved = self.resolved().await?;
        let mut form = vec![
            ("grant_type".to_owned(), "refresh_token".to_owned()),
            ("refresh_token".to_owned(), refresh.expose().to_owned()),
        ];
        // What the login's token carries for the provider (VK ID's `device_id`).
        let carried = self.inner.deviations.carried_from_token(token);
        deviations::send_carried(&mut form, &carried);
        if let Some(hook) = &self.hooks().refresh_request {
            hook(&mut form);
        }
        tracing::debug!(client = %self.inner.name, "refreshing a token");
        let mut fresh = self.token_request_hooked(&resolved, form, true).await?;
        deviations::keep_carried(&mut fresh, carried);
        if fresh.refresh_token.is_none() {
            fresh.refresh_token = token.refresh_token.clone();
        }
        if fresh.scope.is_none() {
            fresh.scope = token.scope.clone();
        }
        if let Some(new_id) = &fresh.id_token {
            let claims = self
                .validate_id_token(
                    &resolved,
                    new_id.expose(),
                    IdTokenCheck {
                        nonce: None,
                        access_token: Some(fresh.access_token.expose()),
                        code: None,
                        state: None,
                        max_age: None,
                        essential_acr: &[],
                    },
                )
                .await?;
            if let Some(old_id) = &token.id_token {
                let old = crate::proto::oidc::unverified_claims(old_id.expose())?;
                check_refreshed_id_token(&old, &claims)?;
            }
        } else {
            fresh.id_token = token.id_token.clone();
        }
        Ok(fresh)
    }
}

/// OpenID Connect Core §12.2: a refreshed ID token is about the login's authentication.
/// It names the login's `iss`, `sub`, audience and `azp` (none if the login's had none);
/// its `auth_time` and `nonce`, when present, are the login's.
fn check_refreshed_id_token(old: &Claims, new: &Claims) -> Result<(), Error> {
    let differs = |claim: &str| {
        Err(Error::InvalidIdToken(format!(
            "the refreshed ID token names another `{claim}` than the login's"
        )))
    };
    for claim in ["iss", "sub", "azp"] {
        if old.get(claim) != new.get(claim) {
            return differs(claim);
        }
    }
    if audiences(old) != audiences(new) {
        return differs("aud");
    }
    for claim in ["auth_time", "nonce"] {
        if let Some(value) = new.get(claim)
            && old.get(claim) != Some(value)
        {
            return differs(claim);
        }
    }
    Ok(())
}

/// The `aud` of ID token claims as a sorted list (a string or an array of strings).
fn audiences(claims: &Claims) -> Vec<&str> {
    let mut list: Vec<&str> = match claims.get("aud") {
        Some(serde_json::Value::String(s)) => vec![s.as_str()],
        Some(serde_json::Value::Array(a)) => a.iter().filter_map(|v| v.as_str()).collect(),
        _ => Vec::new(),
    };
    list.sort_unstable();
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(v: serde_json::Value) -> Claims {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn a_refreshed_id_token_keeps_the_logins_authentication() {
        let login = claims(serde_json::json!({
            "iss": "https://op.example", "sub": "a", "aud": "app", "auth_time": 100, "nonce": "n"
        }));
        let same = claims(serde_json::json!({
            "iss": "https://op.example", "sub": "a", "aud": ["app"], "auth_time": 100
        }));
        assert!(check_refreshed_id_token(&login, &same).is_ok());
        for (claim, value) in [
            ("iss", serde_json::json!("https://evil.example")),
            ("sub", serde_json::json!("b")),
            ("aud", serde_json::json!(["app", "other"])),
            ("azp", serde_json::json!("app")),
            ("auth_time", serde_json::json!(200)),
            ("nonce", serde_json::json!("m")),
        ] {
            let mut new = same.clone();
            new.insert(claim.into(), value);
            let e = check_refreshed_id_token(&login, &new).unwrap_err();
            assert_eq!(e.code(), "invalid_id_token", "{claim}");
        }
    }
}
