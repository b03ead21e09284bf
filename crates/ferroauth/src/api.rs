//! API calls with a token: Bearer for OAuth 2.0, signed for OAuth 1.0a.

use std::sync::Arc;

use http::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde_json::Value;
use url::Url;

use crate::client::{OAuthClient, Resolved};
use crate::error::Error;
use crate::hooks::ProtectedRequest;
use crate::http::{HttpResponse, Method};
use crate::token::{OAuth2Token, Token};

/// Options for one API call.
#[derive(Debug, Clone, Default)]
pub struct ApiRequest {
    /// Query parameters added to the URL.
    pub query: Vec<(String, String)>,
    /// A form body.
    pub form: Option<Vec<(String, String)>>,
    /// A JSON body (ignored when `form` is set).
    pub json: Option<Value>,
    /// Extra headers.
    pub headers: HeaderMap,
}

impl OAuthClient {
    /// Calls the provider's API with the token: a path relative to `api_base_url`, or an
    /// absolute URL. OAuth 2.0 tokens go in the `Authorization: Bearer` header; OAuth 1.0a
    /// requests are signed.
    pub async fn request(
        &self,
        method: Method,
        path_or_url: &str,
        token: &Token,
        request: ApiRequest,
    ) -> Result<HttpResponse, Error> {
        let resolved = self.resolved_for_api().await?;
        let mut url = self.api_url(resolved.as_deref(), path_or_url)?;
        if !request.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&request.query);
        }
        let mut headers = self.api_headers();
        headers.extend(request.headers);
        match token {
            Token::OAuth2(t) => {
                headers.insert(AUTHORIZATION, bearer(t)?);
                let (method, url, headers) = match &self.hooks().protected_request {
                    Some(hook) => {
                        let mut call = ProtectedRequest {
                            method,
                            url,
                            headers,
                        };
                        hook(&mut call);
                        (call.method, call.url, call.headers)
                    }
                    None => (method, url, headers),
                };
                let body = if let Some(form) = &request.form {
                    let encoded = url::form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(form)
                        .finish();
                    Some(("application/x-www-form-urlencoded", encoded.into_bytes()))
                } else {
                    request
                        .json
                        .as_ref()
                        .map(|json| ("application/json", json.to_string().into_bytes()))
                };
                self.inner
                    .http
                    .send(
                        "API request",
                        &self.inner.limits,
                        method,
                        &url,
                        headers,
                        body,
                    )
                    .await
            }
            Token::OAuth1(t) => {
                self.oauth1_request(method, url, headers, t, request.form, request.json.as_ref())
                    .await
            }
        }
    }

    /// `GET` on the provider's API.
    pub async fn get(&self, path_or_url: &str, token: &Token) -> Result<HttpResponse, Error> {
        self.request(Method::GET, path_or_url, token, ApiRequest::default())
            .await
    }

    /// `POST` with a form body on the provider's API.
    pub async fn post(
        &self,
        path_or_url: &str,
        token: &Token,
        form: Vec<(String, String)>,
    ) -> Result<HttpResponse, Error> {
        let request = ApiRequest {
            form: Some(form),
            ..ApiRequest::default()
        };
        self.request(Method::POST, path_or_url, token, request)
            .await
    }

    /// `PUT` with a JSON body on the provider's API.
    pub async fn put(
        &self,
        path_or_url: &str,
        token: &Token,
        json: Value,
    ) -> Result<HttpResponse, Error> {
        let request = ApiRequest {
            json: Some(json),
            ..ApiRequest::default()
        };
        self.request(Method::PUT, path_or_url, token, request).await
    }

    /// `PATCH` with a JSON body on the provider's API.
    pub async fn patch(
        &self,
        path_or_url: &str,
        token: &Token,
        json: Value,
    ) -> Result<HttpResponse, Error> {
        let request = ApiRequest {
            json: Some(json),
            ..ApiRequest::default()
        };
        self.request(Method::PATCH, path_or_url, token, request)
            .await
    }

    /// `DELETE` on the provider's API.
    pub async fn delete(&self, path_or_url: &str, token: &Token) -> Result<HttpResponse, Error> {
        self.request(Method::DELETE, path_or_url, token, ApiRequest::default())
            .await
    }

    pub(crate) fn api_headers(&self) -> HeaderMap {
        self.inner.api_headers.clone()
    }

    /// OAuth 1.0a clients have no metadata to resolve.
    async fn resolved_for_api(&self) -> Result<Option<Arc<Resolved>>, Error> {
        if self.is_oauth1() {
            Ok(None)
        } else {
            self.resolved().await.map(Some)
        }
    }

    fn api_url(&self, resolved: Option<&Resolved>, path_or_url: &str) -> Result<Url, Error> {
        let allow = self.inner.settings.client_kwargs.allow_insecure_http;
        // Anything with a scheme is absolute, whatever its case (`HTTP://`, `ftp:`): it
        // must pass the endpoint check, which joining onto the base would skip.
        if Url::parse(path_or_url).is_ok() {
            return crate::http::endpoint(&self.inner.name, path_or_url, allow);
        }
        let base = match resolved {
            Some(r) => r.api_base.clone(),
            None => self
                .settings()
                .api_base_url
                .as_deref()
                .map(|b| crate::http::endpoint(&self.inner.name, b, allow))
                .transpose()?,
        };
        let mut base =
            base.ok_or_else(|| self.misconfigured("a relative API path needs api_base_url"))?;
        // Treat the base as a directory whatever its spelling, so that `https://x/v1` and
        // `/me` make `https://x/v1/me` rather than dropping `v1` as RFC 3986 joining would.
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        base.join(path_or_url.trim_start_matches('/')).map_err(|e| {
            self.misconfigured(format!(
                "API path {path_or_url:?} does not make a URL ({e})"
            ))
        })
    }
}

pub(crate) fn bearer(token: &OAuth2Token) -> Result<HeaderValue, Error> {
    let mut value = HeaderValue::try_from(format!("Bearer {}", token.access_token.expose()))
        .map_err(|_| {
            Error::InvalidTokenResponse(
                "the access token has characters not allowed in a header".into(),
            )
        })?;
    value.set_sensitive(true);
    Ok(value)
}
