//! The work of the ready-made routes, whichever framework serves them:
//!
//! | route | function |
//! |---|---|
//! | `GET /login/{name}` | [`start_login`] (redirect URI from [`callback_path`]) |
//! | `GET` or `POST /auth/{name}` | [`finish_login`] |
//! | `POST /refresh/{name}` | [`refresh`] (failures through [`super::Failure::of_refresh`]) |
//! | `POST /logout` | [`logout`] |
//!
//! JSON answers are [`LoginAnswer`] (login and refresh) and [`logout_answer`]; failures
//! [`super::Failure`].

use serde::Serialize;

use crate::session::{self as store, Session, SessionPending, SessionTokens};
use crate::{CallbackParams, Claims, Error, Login, OAuth, OAuthClient, Token, TokenStore};

pub use super::login_query::PASSTHROUGH_PARAMS;

/// The callback route of the login route at `login_path` (`/login/{name}`, perhaps under a
/// prefix): `<prefix>/auth/{name}`, wherever the routes are mounted.
pub fn callback_path(login_path: &str, name: &str) -> String {
    let prefix = login_path
        .strip_suffix(name)
        .and_then(|p| p.strip_suffix("/login/"))
        .unwrap_or("");
    format!("{prefix}/auth/{name}")
}

/// Starts a login at `client`: keeps the pending login in `session` and gives the URL to
/// send the browser to. Of the login route's `query`, [`PASSTHROUGH_PARAMS`] go to the
/// provider and `next` (a path of this app) is where the user goes afterwards; each is
/// checked first ([`super::LoginQuery`]), a bad one being a 400 `invalid_request`.
pub async fn start_login(
    client: &OAuthClient,
    session: &impl Session,
    redirect_uri: &str,
    query: &str,
) -> Result<url::Url, Error> {
    let query = super::LoginQuery::parse(query)?;
    client
        .authorize_redirect_returning(
            &SessionPending(session),
            redirect_uri,
            &query.authorize_params(),
            query.next.as_deref(),
        )
        .await
}

/// Finishes a login on its callback and keeps the token and the claims in `session`,
/// whose id is renewed (session fixation).
pub async fn finish_login(
    client: &OAuthClient,
    session: &impl Session,
    params: &CallbackParams,
) -> Result<Login, Error> {
    let login = client
        .authorize_access_token(&SessionPending(session), params)
        .await?;
    store::save_login(session, &login).await?;
    Ok(login)
}

/// Refreshes the OAuth 2.0 token stored for `client`, and re-reads userinfo with the new
/// access token when the provider has an endpoint for it (else keeps the claims of the
/// login). Gives the new token and the user's claims.
///
/// Fresh userinfo updates the login's claims but never its `sub`: the identity was fixed
/// at login, from the ID token (a preset may have qualified it, as Microsoft's `tid:oid`),
/// and claims only the ID token had stay.
pub async fn refresh(
    client: &OAuthClient,
    session: &impl Session,
) -> Result<(Token, Claims), Error> {
    let token = client.refresh_stored_token(&SessionTokens(session)).await?;
    let mut all = store::accounts(session).await?;
    let mut claims = all.remove(client.name()).unwrap_or_default();
    if client.has_userinfo_endpoint().await? {
        let fresh = client.userinfo(&token).await?;
        update_claims(&mut claims, fresh, client.inner.quirks.claims_map);
        store::save_claims(session, client.name(), &claims).await?;
    }
    Ok((token, claims))
}

/// The login's claims updated with fresh userinfo: every field but `sub`, then the
/// preset's mapping again.
fn update_claims(claims: &mut Claims, fresh: Claims, map: Option<fn(&mut Claims)>) {
    let sub = claims.get("sub").cloned();
    claims.extend(fresh);
    if let Some(sub) = sub {
        claims.insert("sub".into(), sub);
    }
    if let Some(map) = map {
        map(claims);
    }
}

/// Logs out: clears `session`, and gives the provider's end-session URL (RP-initiated
/// logout, back to `back`) when a provider can end the user's session there.
pub async fn logout(
    oauth: &OAuth,
    session: &impl Session,
    back: Option<&str>,
) -> Result<Option<url::Url>, Error> {
    let end_session = end_session_url(oauth, session, back).await?;
    session.clear().await?;
    Ok(end_session)
}

/// RP-initiated logout at the first provider that can do it: one with an
/// `end_session_endpoint`, for an account with an ID token to name the session. Local
/// logout must not depend on the provider: a failed lookup only skips it.
async fn end_session_url(
    oauth: &OAuth,
    session: &impl Session,
    back: Option<&str>,
) -> Result<Option<url::Url>, Error> {
    for name in store::accounts(session).await?.into_keys() {
        let Ok(client) = oauth.client(&name) else {
            continue;
        };
        let Some(token) = SessionTokens(session).load(&name).await? else {
            continue;
        };
        let Some(id_token) = token.as_oauth2().and_then(|t| t.id_token.as_ref()) else {
            continue;
        };
        match client.end_session_url(Some(id_token), back, None).await {
            Ok(Some(url)) => return Ok(Some(url)),
            Ok(None) => {}
            Err(e) => tracing::warn!(client = %name, code = e.code(), "no end-session URL"),
        }
    }
    Ok(None)
}

/// The JSON answer of a logout: `{"logged_out": true, "end_session_url": ...}`.
pub fn logout_answer(end_session: Option<&url::Url>) -> serde_json::Value {
    serde_json::json!({
        "logged_out": true,
        "end_session_url": end_session.map(url::Url::as_str),
    })
}

/// The answer of a login or a refresh to a JSON request: no secret values.
#[derive(Debug, Serialize)]
pub struct LoginAnswer<'a> {
    /// The client's name.
    pub provider: &'a str,
    /// The user's claims.
    pub userinfo: &'a Claims,
    /// The token without its secrets.
    pub token: TokenSummary<'a>,
}

impl<'a> LoginAnswer<'a> {
    /// The answer for a client's claims and token.
    pub fn new(provider: &'a str, userinfo: &'a Claims, token: &'a Token) -> Self {
        Self {
            provider,
            userinfo,
            token: TokenSummary::of(token),
        }
    }

    /// The answer of a finished login.
    pub fn of(login: &'a Login) -> Self {
        Self::new(&login.client, &login.userinfo, &login.token)
    }
}

/// A token without secret values: type, expiry and scope.
#[derive(Debug, Serialize)]
pub struct TokenSummary<'a> {
    /// `Bearer`, `DPoP`, or `OAuth1`.
    pub token_type: &'a str,
    /// Expiry, Unix seconds.
    pub expires_at: Option<u64>,
    /// The granted scope.
    pub scope: Option<&'a str>,
}

impl<'a> TokenSummary<'a> {
    /// The summary of `token`.
    pub fn of(token: &'a Token) -> Self {
        Self {
            token_type: token.token_type(),
            expires_at: token.expires_at(),
            scope: token.scope(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callback_is_beside_the_login_route() {
        assert_eq!(callback_path("/login/github", "github"), "/auth/github");
        assert_eq!(
            callback_path("/oauth/login/github", "github"),
            "/oauth/auth/github"
        );
        assert_eq!(callback_path("/elsewhere", "github"), "/auth/github");
    }
}
