//! Extractors for an app's own handlers: the logged-in [`Accounts`], the client a route
//! names ([`NamedClient`]), and API calls with the user's token ([`UserApi`]).
//!
//! ```no_run
//! use ferroauth_actix::extract::{Accounts, UserApi};
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
//! async fn repos(api: UserApi) -> Result<String, ferroauth_actix::AuthError> {
//!     let response = api.get("user/repos").await?;
//!     Ok(String::from_utf8_lossy(&response.body).into_owned())
//! }
//! ```

use std::collections::BTreeMap;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use ferroauth::http::HttpResponse as ProviderResponse;
pub use ferroauth::session::Account;
use ferroauth::{Error, OAuthClient};
use futures_util::future::LocalBoxFuture;

use crate::{AuthError, AuthSession, registry};

/// The accounts of the request's session, by client name: each login's profile with its
/// current token ([`ferroauth::session::logged_in`]).
#[derive(Debug, Clone, Default)]
pub struct Accounts(pub BTreeMap<String, Account>);

impl FromRequest for Accounts {
    type Error = AuthError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = AuthSession::required(req);
        Box::pin(async move { Ok(Self(ferroauth::session::logged_in(&session?).await?)) })
    }
}

/// The registered client named by the route's `{name}` segment; an unknown name answers
/// 404 `unknown_client`.
#[derive(Debug, Clone)]
pub struct NamedClient(pub OAuthClient);

impl NamedClient {
    fn of(req: &HttpRequest) -> Result<Self, AuthError> {
        let name = req.match_info().get("name").ok_or_else(|| {
            AuthError(Error::Misconfigured {
                client: String::new(),
                reason: "NamedClient needs a `{name}` segment in the route".into(),
            })
        })?;
        Ok(Self(registry(req)?.client(name)?))
    }
}

impl FromRequest for NamedClient {
    type Error = AuthError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Self::of(req))
    }
}

/// API calls to the provider of the route's `{name}` with the user's stored token
/// ([`ferroauth::web::UserApi`], which it dereferences to: `api.get(path)`).
#[derive(Debug, Clone)]
pub struct UserApi(pub ferroauth::web::UserApi<AuthSession>);

impl std::ops::Deref for UserApi {
    type Target = ferroauth::web::UserApi<AuthSession>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl FromRequest for UserApi {
    type Error = AuthError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let api = NamedClient::of(req).and_then(|NamedClient(client)| {
            let session = AuthSession::required(req)?;
            Ok(Self(ferroauth::web::UserApi { client, session }))
        });
        std::future::ready(api)
    }
}

/// A provider's API answer as this app's response: its status, `Content-Type` and body,
/// made unable to script the app (`nosniff`, a sandboxing CSP, anything but JSON as an
/// attachment; [`ferroauth::web::relay_headers`]). No other header of the provider's
/// (`Set-Cookie` among them) is passed on.
pub fn api_response(response: ProviderResponse) -> HttpResponse {
    let status = StatusCode::from_u16(ferroauth::web::relay_status(&response))
        .unwrap_or(StatusCode::BAD_GATEWAY);
    let mut relayed = HttpResponse::build(status);
    for header in ferroauth::web::relay_headers(&response) {
        relayed.insert_header(header);
    }
    relayed.body(response.body)
}
