//! OAuth 1.0a login and signed requests for a registered client.

use reqwest::header::HeaderMap;
use url::Url;

use crate::Error;
use crate::callback::CallbackParams;
use crate::client::{Login, OAuthClient};
use crate::http::{HttpResponse, Method};
use crate::pending::PendingStore;
use crate::token::OAuth1Token;

impl OAuthClient {
    pub(crate) async fn oauth1_authorize_redirect<S: PendingStore>(
        &self,
        _store: &S,
        _redirect_uri: &str,
        _params: &[(&str, &str)],
    ) -> Result<Url, Error> {
        Err(Error::Unsupported("OAuth 1.0a is being wired".into()))
    }

    pub(crate) async fn oauth1_authorize_access_token<S: PendingStore>(
        &self,
        _store: &S,
        _callback: &CallbackParams,
    ) -> Result<Login, Error> {
        Err(Error::Unsupported("OAuth 1.0a is being wired".into()))
    }

    pub(crate) async fn oauth1_request(
        &self,
        _method: Method,
        _url: Url,
        _headers: HeaderMap,
        _token: &OAuth1Token,
        _form: Option<Vec<(String, String)>>,
    ) -> Result<HttpResponse, Error> {
        Err(Error::Unsupported("OAuth 1.0a is being wired".into()))
    }
}
