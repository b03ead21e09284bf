//! Compliance hooks: small functions that bend requests and responses for providers that
//! do not follow the specifications (Authlib's `register_compliance_hook`).
//!
//! Each hook is optional and called at one point of the flow, with a mutable view of what
//! is about to be used:
//!
//! | hook | called with | when |
//! |---|---|---|
//! | `token_response` | the token endpoint's JSON object | before any token response is parsed (login, refresh, client credentials, extension grants) |
//! | `refresh_request` | the form fields of a refresh request | before it is sent |
//! | `refresh_response` | the refresh response's JSON object | after `token_response`, for refreshes only |
//! | `protected_request` | method, URL and headers of an API call or a userinfo request | before it is sent (the token is already in the headers) |
//! | `userinfo` | the userinfo claims | after they are fetched, before they are checked against the ID token |
//!
//! For example, a provider that sends `{"data": {"access_token": ...}}` can be fixed with a
//! `token_response` hook that lifts `data`'s members to the top.

use std::fmt;
use std::sync::Arc;

use http::header::HeaderMap;
use serde_json::{Map, Value};
use url::Url;

use crate::http::Method;
use crate::token::Claims;

/// A hook over a JSON object (a token response or userinfo).
pub type ObjectHook = Arc<dyn Fn(&mut Map<String, Value>) + Send + Sync>;

/// A hook over a request's form fields.
pub type FormHook = Arc<dyn Fn(&mut Vec<(String, String)>) + Send + Sync>;

/// A hook over an API request.
pub type RequestHook = Arc<dyn Fn(&mut ProtectedRequest) + Send + Sync>;

/// An API call about to be sent, as a [`ComplianceHooks::protected_request`] hook sees it.
#[derive(Debug)]
pub struct ProtectedRequest {
    /// The HTTP method.
    pub method: Method,
    /// The URL, query included. Providers that want the token as a query parameter get it
    /// moved here.
    pub url: Url,
    /// The headers, `Authorization` included (a sensitive value).
    pub headers: HeaderMap,
}

/// The compliance hooks of one client. Register with
/// [`crate::OAuth::register_with_hooks`] or [`crate::OAuthClient::set_hooks`].
#[derive(Clone, Default)]
pub struct ComplianceHooks {
    /// Adjusts every token endpoint response object before it is parsed.
    pub token_response: Option<ObjectHook>,
    /// Adjusts the form of a refresh request before it is sent.
    pub refresh_request: Option<FormHook>,
    /// Adjusts a refresh response object (after `token_response`).
    pub refresh_response: Option<ObjectHook>,
    /// Adjusts an API or userinfo request before it is sent.
    pub protected_request: Option<RequestHook>,
    /// Maps a provider's profile to standard claims.
    pub userinfo: Option<ObjectHook>,
}

impl ComplianceHooks {
    /// No hooks.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the `token_response` hook.
    #[must_use]
    pub fn token_response(
        mut self,
        f: impl Fn(&mut Map<String, Value>) + Send + Sync + 'static,
    ) -> Self {
        self.token_response = Some(Arc::new(f));
        self
    }

    /// Sets the `refresh_request` hook.
    #[must_use]
    pub fn refresh_request(
        mut self,
        f: impl Fn(&mut Vec<(String, String)>) + Send + Sync + 'static,
    ) -> Self {
        self.refresh_request = Some(Arc::new(f));
        self
    }

    /// Sets the `refresh_response` hook.
    #[must_use]
    pub fn refresh_response(
        mut self,
        f: impl Fn(&mut Map<String, Value>) + Send + Sync + 'static,
    ) -> Self {
        self.refresh_response = Some(Arc::new(f));
        self
    }

    /// Sets the `protected_request` hook.
    #[must_use]
    pub fn protected_request(
        mut self,
        f: impl Fn(&mut ProtectedRequest) + Send + Sync + 'static,
    ) -> Self {
        self.protected_request = Some(Arc::new(f));
        self
    }

    /// Sets the `userinfo` hook.
    #[must_use]
    pub fn userinfo(mut self, f: impl Fn(&mut Claims) + Send + Sync + 'static) -> Self {
        self.userinfo = Some(Arc::new(f));
        self
    }
}

impl fmt::Debug for ComplianceHooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ComplianceHooks")
            .field("token_response", &self.token_response.is_some())
            .field("refresh_request", &self.refresh_request.is_some())
            .field("refresh_response", &self.refresh_response.is_some())
            .field("protected_request", &self.protected_request.is_some())
            .field("userinfo", &self.userinfo.is_some())
            .finish()
    }
}
