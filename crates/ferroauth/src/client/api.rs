//! API calls with a token: Bearer for OAuth 2.0, signed for OAuth 1.0a.

use std::borrow::Cow;

use http::header::{AUTHORIZATION, HeaderMap};
use serde_json::Value;
use url::Url;

use crate::client::OAuthClient;
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
    ///
    /// An absolute URL sends the token wherever it points: pass one only from the app's own
    /// code. A path that came from a browser goes through [`OAuthClient::api_path`] instead,
    /// which keeps it under `api_base_url`.
    pub async fn request(
        &self,
        method: Method,
        path_or_url: &str,
        token: &Token,
        request: ApiRequest,
    ) -> Result<HttpResponse, Error> {
        let url = self.api_url(path_or_url)?;
        self.request_at(method, url, token, request).await
    }

    /// [`OAuthClient::request`] to a URL already made (by [`OAuthClient::api_path`] or the
    /// app's own code).
    pub async fn request_at(
        &self,
        method: Method,
        mut url: Url,
        token: &Token,
        request: ApiRequest,
    ) -> Result<HttpResponse, Error> {
        if !request.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&request.query);
        }
        match token {
            Token::OAuth2(t) => {
                self.oauth2_request("API request", method, url, t, request)
                    .await
            }
            Token::OAuth1(t) => {
                let mut headers = self.api_headers();
                headers.extend(request.headers);
                self.oauth1_request(method, url, headers, t, request.form, request.json.as_ref())
                    .await
            }
        }
    }

    /// A call with an OAuth 2.0 token — an API call, the userinfo request, the e-mail
    /// lookup: `Authorization` (Bearer, or DPoP with its proof), then the
    /// `protected_request` hook. `what` names the call in errors and logs.
    pub(crate) async fn oauth2_request(
        &self,
        what: &'static str,
        method: Method,
        url: Url,
        token: &OAuth2Token,
        request: ApiRequest,
    ) -> Result<HttpResponse, Error> {
        let mut headers = self.api_headers();
        headers.extend(request.headers);
        headers.insert(AUTHORIZATION, self.authorization(token)?);
        let hooks = self.hooks();
        let deviations = &self.inner.deviations;
        let (method, url, headers) =
            match (&hooks.protected_request, deviations.proves_api_requests()) {
                (None, false) => (method, url, headers),
                (hook, _) => {
                    let mut call = ProtectedRequest {
                        method,
                        url,
                        headers,
                    };
                    // The provider's proof (Facebook's `appsecret_proof`), then the app's hook.
                    deviations.prove_api_request(&mut call);
                    if let Some(hook) = hook {
                        hook(&mut call);
                    }
                    (call.method, call.url, call.headers)
                }
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
        self.send_with_proof(what, method, &url, headers, body, Some(token))
            .await
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

    /// The URL of `path` (with an optional `?query`) under `api_base_url`, for paths that
    /// come from a browser (the `/api/{name}/{*path}` pass-through, `UserApi`): refused
    /// with [`Error::InvalidApiPath`] when it could reach another origin or leave the base
    /// path — a scheme, `//`, a backslash, `..`, a control character, or a percent-encoded
    /// form of one. See `client/api_path.rs` for why each is refused.
    pub fn api_path(&self, path: &str) -> Result<Url, Error> {
        let base = self.api_base()?;
        super::api_path::confine(&base, path).map_err(Error::InvalidApiPath)
    }

    /// Whether `url` is on the origin of `api_base_url`: only that origin's 401 may make a
    /// token refresh, so that another host cannot make the app send it a fresh token.
    pub(crate) fn is_api_origin(&self, url: &Url) -> bool {
        self.api_base()
            .is_ok_and(|base| base.origin() == url.origin())
    }

    fn api_base(&self) -> Result<Cow<'_, Url>, Error> {
        let name = &self.inner.name;
        let allow = self.inner.settings.client_kwargs.allow_insecure_http;
        match (&self.inner.api_base, &self.settings().api_base_url) {
            (Some(base), _) => Ok(Cow::Borrowed(base)),
            // Refused at registration; the same check again gives the error.
            (None, Some(raw)) => Ok(Cow::Owned(api_base(crate::http::endpoint(
                name, raw, allow,
            )?))),
            (None, None) => Err(self.misconfigured("a relative API path needs api_base_url")),
        }
    }

    pub(crate) fn api_url(&self, path_or_url: &str) -> Result<Url, Error> {
        // Anything with a scheme is absolute, whatever its case (`HTTP://`, `ftp:`): it
        // must pass the endpoint check, which joining onto the base would skip.
        if Url::parse(path_or_url).is_ok() {
            let allow = self.inner.settings.client_kwargs.allow_insecure_http;
            return crate::http::endpoint(&self.inner.name, path_or_url, allow);
        }
        let base = self.api_base()?;
        base.join(path_or_url.trim_start_matches('/')).map_err(|e| {
            self.misconfigured(format!(
                "API path {path_or_url:?} does not make a URL ({e})"
            ))
        })
    }
}

/// `api_base_url` as a directory whatever its spelling, so that `https://x/v1` and `/me`
/// make `https://x/v1/me` rather than dropping `v1` as RFC 3986 joining would.
pub(crate) fn api_base(mut base: Url) -> Url {
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    base
}

#[cfg(test)]
mod tests {
    use crate::settings::Settings;
    use crate::{Error, OAuth};

    fn client(api_base_url: Option<&str>) -> crate::OAuthClient {
        let base = api_base_url.map_or(String::new(), |b| format!("api_base_url = \"{b}\"\n"));
        let settings = Settings::from_toml_str(&format!(
            "[clients.c]\nclient_id = \"id\"\nauthorize_url = \"https://op.example/a\"\naccess_token_url = \"https://op.example/t\"\n{base}"
        ))
        .unwrap();
        OAuth::from_settings(&settings)
            .unwrap()
            .client("c")
            .unwrap()
    }

    #[test]
    fn paths_join_the_base_as_a_directory() {
        let c = client(Some("https://api.example/v1"));
        for path in ["me", "/me"] {
            assert_eq!(
                c.api_url(path).unwrap().as_str(),
                "https://api.example/v1/me"
            );
        }
        assert_eq!(
            c.api_url("https://other.example/x?y=1").unwrap().as_str(),
            "https://other.example/x?y=1"
        );
    }

    #[test]
    fn a_refused_or_missing_base_is_reported_by_the_call() {
        let insecure = client(Some("http://api.example/"));
        assert!(matches!(
            insecure.api_url("me"),
            Err(Error::InsecureEndpoint { .. })
        ));
        assert!(matches!(
            client(None).api_url("me"),
            Err(Error::Misconfigured { reason, .. }) if reason.contains("api_base_url")
        ));
    }
}
