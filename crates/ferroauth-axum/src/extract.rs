//! Extractors for an app's own handlers: the logged-in [`Accounts`], the client a route
//! names ([`NamedClient`]), and API calls with the user's token ([`UserApi`]).
//!
//! ```no_run
//! use ferroauth_axum::extract::{Accounts, UserApi};
//!
//! // GET /me: who is logged in, with which providers.
//! async fn me(Accounts(accounts): Accounts) -> String {
//!     accounts
//!         .iter()
//!         .map(|(client, a)| format!("{client}: {}", a.profile.display_name().unwrap_or("?")))
//!         .collect::<Vec<_>>()
//!         .join("\n")
//! }
//!
//! // GET /repos/{name}: the provider's API with the stored token, refreshed when due.
//! async fn repos(api: UserApi) -> Result<String, ferroauth_axum::AuthError> {
//!     let response = api.get("user/repos").await?;
//!     Ok(String::from_utf8_lossy(&response.body).into_owned())
//! }
//! ```

use std::collections::BTreeMap;

use axum::extract::{FromRef, FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use ferroauth::http::HttpResponse;
use std::collections::HashMap;

use ferroauth::session::Session;
use ferroauth::{Error, OAuth, OAuthClient};
use serde_json::Value;

use crate::{AuthError, AuthSession};

pub use ferroauth::session::Account;

/// The accounts of the request's session, by client name: each login's profile with its
/// current token. A client whose token is gone is left out.
#[derive(Debug, Clone, Default)]
pub struct Accounts(pub BTreeMap<String, Account>);

impl Accounts {
    /// The accounts kept in `session`.
    pub async fn of(session: &impl Session) -> Result<Self, Error> {
        Ok(Self(ferroauth::session::logged_in(session).await?))
    }

    /// The accounts in a tower-sessions record's data, as a session store holds it: for
    /// tools and tests that inspect stored sessions.
    pub async fn from_record(data: &HashMap<String, Value>) -> Result<Self, Error> {
        Self::of(&RecordView(data)).await
    }
}

/// A stored session record's data, read-only, as a [`Session`].
struct RecordView<'a>(&'a HashMap<String, Value>);

impl Session for RecordView<'_> {
    async fn get(&self, key: &str) -> Result<Option<String>, Error> {
        Ok(self.0.get(key).cloned().map(crate::session::entry_text))
    }

    async fn insert(&self, key: &str, _json: String) -> Result<(), Error> {
        Err(read_only(key))
    }

    async fn remove(&self, key: &str) -> Result<(), Error> {
        Err(read_only(key))
    }

    async fn renew(&self) -> Result<(), Error> {
        Err(read_only("the id"))
    }

    async fn clear(&self) -> Result<(), Error> {
        Err(read_only("the record"))
    }

    fn is_present(&self) -> bool {
        true
    }
}

fn read_only(what: &str) -> Error {
    Error::Session(format!(
        "a stored record is read-only: cannot change {what}"
    ))
}

impl<S: Send + Sync> FromRequestParts<S> for Accounts {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session = AuthSession::from_request_parts(parts, state).await?;
        Ok(Self::of(&session).await?)
    }
}

/// The registered client named by the route's `{name}` segment; an unknown name answers
/// 404 `unknown_client`.
#[derive(Debug, Clone)]
pub struct NamedClient(pub OAuthClient);

impl<S> FromRequestParts<S> for NamedClient
where
    S: Send + Sync,
    OAuth: FromRef<S>,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| AuthError(Error::InvalidCallback(e.body_text())))?;
        let name = params
            .iter()
            .find(|(key, _)| *key == "name")
            .map(|(_, value)| value.to_owned())
            .ok_or_else(|| {
                AuthError(Error::Misconfigured {
                    client: String::new(),
                    reason: "NamedClient needs a `{name}` segment in the route".into(),
                })
            })?;
        Ok(Self(OAuth::from_ref(state).client(&name)?))
    }
}

/// API calls to the provider of the route's `{name}` with the user's stored token
/// ([`ferroauth::web::UserApi`], which it dereferences to: `api.get(path)`).
#[derive(Debug, Clone)]
pub struct UserApi(pub ferroauth::web::UserApi<AuthSession>);

/// A provider's API answer as this app's response: its status, `Content-Type` and body,
/// made unable to script the app (`nosniff`, a sandboxing CSP, anything but JSON as an
/// attachment; [`ferroauth::web::relay_headers`]). No other header of the provider's
/// (`Set-Cookie` among them) is passed on.
pub fn api_response(response: HttpResponse) -> Response {
    let status = StatusCode::from_u16(ferroauth::web::relay_status(&response))
        .unwrap_or(StatusCode::BAD_GATEWAY);
    let mut relayed = (status, response.body.clone()).into_response();
    let headers = relayed.headers_mut();
    for (name, value) in ferroauth::web::relay_headers(&response) {
        if let Ok(value) = header::HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
    relayed
}

impl<S> FromRequestParts<S> for UserApi
where
    S: Send + Sync,
    OAuth: FromRef<S>,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let NamedClient(client) = NamedClient::from_request_parts(parts, state).await?;
        let session = AuthSession::from_request_parts(parts, state).await?;
        Ok(Self(ferroauth::web::UserApi { client, session }))
    }
}

impl std::ops::Deref for UserApi {
    type Target = ferroauth::web::UserApi<AuthSession>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}
