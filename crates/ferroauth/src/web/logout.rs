//! Logout, done fully (OpenID Connect RP-Initiated Logout 1.0, RFC 7009).
//!
//! [`logout`] ends the app's session at once and never waits on the provider:
//!
//! 1. The tokens of every logged-in account are read, then the session is cleared.
//! 2. For the provider the app names (`?provider=` on the logout route), or else the first
//!    account whose provider has an `end_session_endpoint`, the browser is sent there with
//!    `id_token_hint`, `client_id`, `post_logout_redirect_uri` (the app's `/logged-out`)
//!    and a fresh one-time `state`. That state is the only thing the cleared session keeps,
//!    for [`logged_out`] to check when the provider sends the browser back (§3: the RP
//!    must check it, so that no other site can send a browser to `/logged-out` as if its
//!    logout had ended there).
//! 3. The tokens are revoked at the provider, the refresh token first (revoking it ends the
//!    grant; RFC 7009 §2.1), in the background: a provider that is slow or down delays
//!    nothing and is logged at warn. Clients opt out with
//!    `client_kwargs.revoke_tokens_on_logout = false`.
//!
//! The end-session URL is built from what the client already knows
//! ([`OAuthClient::end_session_url_known`]): metadata not fetched yet on this instance
//! gives a local logout, never a wait on discovery.
//!
//! # When the provider ends the session
//!
//! [`backchannel_logout`] takes a provider's logout token (OpenID Connect Back-Channel
//! Logout 1.0), checks it ([`OAuthClient::validate_logout_token`], then its `jti` once
//! across instances in the store's index) and ends every session of the app that the
//! provider's session (`sid`) or, without one, its user (`sub`) owns
//! ([`crate::session::index`]).
//!
//! # Signing out everywhere
//!
//! With `everywhere`, [`logout`] also ends every other session of the same user at this
//! app (other browsers, other devices): each of the session's logins names its user
//! (the issuer, or the client, and `sub`), and the index finds their sessions.

use serde::{Deserialize, Serialize};

use crate::proto::oidc::logout_token::LogoutTokenError;
use crate::session::index::{self, IndexedLogins, Owner, SessionIndex};
use crate::session::pending::constant_time_eq;
use crate::session::tokens::TokenStore as _;
use crate::session::{self as store, Session, SessionTokens};
use crate::{Error, OAuth, OAuthClient, Secret, Token};

/// The session entry of a logout waiting for the provider's return: its state.
pub const LOGOUT_KEY: &str = "ferroauth.logout";

/// How long the provider has to send the browser back, in seconds.
pub const LOGOUT_LIFETIME: u64 = 600;

/// How long a logout token's `jti` is remembered, in seconds: longer than a token is
/// accepted (its `iat` at most [`DEFAULT_MAX_AGE_SECS`] old, plus the clock leeway).
///
/// [`DEFAULT_MAX_AGE_SECS`]: crate::proto::oidc::logout_token::DEFAULT_MAX_AGE_SECS
pub const JTI_MEMORY_SECS: i64 = 3600;

/// A logout sent to the provider, until the browser comes back.
#[derive(Serialize, Deserialize)]
struct PendingLogout {
    state: String,
    client: String,
    expires_at: u64,
}

/// Ends the session (see the [module docs](self)) and gives the provider's logout URL to
/// send the browser to, if any. `provider` names the account whose provider to log out
/// of (an account not logged in is an `invalid_request`, before anything is cleared);
/// `logged_out_uri` is the app's absolute `/logged-out` URL, registered at the provider
/// as a `post_logout_redirect_uri`. With `everywhere` (the store's index), every other
/// session of the same users ends too: "sign out everywhere".
pub async fn logout(
    oauth: &OAuth,
    session: &impl Session,
    provider: Option<&str>,
    logged_out_uri: Option<&str>,
    everywhere: Option<&dyn SessionIndex>,
) -> Result<Option<url::Url>, Error> {
    let accounts = store::accounts(session).await?;
    if provider.is_some_and(|p| !accounts.contains_key(p)) {
        return Err(Error::InvalidRequest {
            parameter: "provider",
            reason: "names no provider this session is logged in with",
        });
    }
    let mut tokens = Vec::new();
    for name in accounts.keys() {
        if let (Ok(client), Some(token)) =
            (oauth.client(name), SessionTokens(session).load(name).await?)
        {
            tokens.push((client, token));
        }
    }
    let [state] = crate::random::tokens([32])?;
    let chosen = tokens
        .iter()
        .filter(|(client, _)| provider.is_none_or(|p| client.name() == p))
        .find_map(|(client, token)| {
            let hint = id_token(token)?;
            let url = client.end_session_url_known(Some(hint), logged_out_uri, Some(&state))?;
            Some((client.name().to_owned(), url))
        });
    if let Some(index) = everywhere {
        let ended = end_everywhere(session, index).await?;
        tracing::info!(ended, "signed out everywhere");
    }
    session.clear().await?;
    revoke_in_background(tokens);
    let Some((client, url)) = chosen else {
        return Ok(None);
    };
    // A fresh id for what the cleared session keeps: some stores would otherwise save it
    // under the ended session's id, which must not outlive the logout.
    session.renew().await?;
    let pending = PendingLogout {
        state,
        client,
        expires_at: crate::random::now() + LOGOUT_LIFETIME,
    };
    store::insert_json(session, LOGOUT_KEY, &pending).await?;
    Ok(Some(url))
}

/// The provider sent the browser back to `/logged-out` with `state`: it must be the one
/// [`logout`] kept, not expired, and is then used up. Anything else is
/// [`Error::UnknownLogout`] (the app's session is ended either way).
pub async fn logged_out(session: &impl Session, state: Option<&str>) -> Result<(), Error> {
    let pending: Option<PendingLogout> = store::get_json(session, LOGOUT_KEY).await?;
    let Some(pending) = pending else {
        return Err(Error::UnknownLogout);
    };
    session.remove(LOGOUT_KEY).await?;
    let same = state.is_some_and(|s| constant_time_eq(s, &pending.state));
    if !same || crate::random::now() > pending.expires_at {
        return Err(Error::UnknownLogout);
    }
    tracing::debug!(client = %pending.client, "back from the provider's logout");
    Ok(())
}

/// Back-channel logout (OpenID Connect Back-Channel Logout 1.0 §2.5–§2.8): the form
/// `body` that provider `provider` POSTed holds a `logout_token`; once it passes every check
/// and its `jti` is new, every session of the app it names is ended through `index`, on
/// every instance. Gives how many sessions ended (zero is a success: the user may have
/// logged out already).
///
/// Without an index (sealed-cookie sessions) or with `backchannel_logout = false` it is
/// [`Error::NoSessionIndex`] (501), a bad token
/// [`Error::InvalidLogoutToken`] (400, its code naming the rule).
pub async fn backchannel_logout(
    oauth: &OAuth,
    index: Option<&dyn SessionIndex>,
    provider: &str,
    body: &[u8],
) -> Result<usize, Error> {
    let client = oauth.client(provider)?;
    if !client.accepts_backchannel_logout() {
        return Err(Error::NoSessionIndex(
            "not for this client: it has no issuer (not OpenID Connect), or backchannel_logout = false",
        ));
    }
    let index = index.ok_or(Error::NoSessionIndex(
        "the session store keeps no sessions on the server (sealed cookies)",
    ))?;
    let raw = url::form_urlencoded::parse(body)
        .find(|(k, _)| k == "logout_token")
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
        .ok_or(Error::InvalidRequest {
            parameter: "logout_token",
            reason: "is required",
        })?;
    let token = client.validate_logout_token(&raw).await?;
    let marker = index::used_marker(&token.iss, &token.jti);
    let until = time::OffsetDateTime::now_utc() + time::Duration::seconds(JTI_MEMORY_SECS);
    if !index.use_once(&marker, until).await? {
        tracing::warn!(client = %provider, "logout token replayed");
        return Err(LogoutTokenError::Replayed.into());
    }
    let owner = match (&token.sid, &token.sub) {
        (Some(sid), _) => Owner::ProviderSession {
            issuer: &token.iss,
            sid,
        },
        (None, Some(sub)) => Owner::User {
            issuer: &token.iss,
            sub,
        },
        (None, None) => return Err(LogoutTokenError::NoSession.into()),
    };
    let ended = index.end_sessions(&owner.key()).await?;
    tracing::info!(client = %provider, ended, "back-channel logout");
    Ok(ended)
}

/// Ends every session owned by a user of this session's logins (see [`logout`] with
/// `everywhere`), the current one included; how many. Before the session is cleared.
async fn end_everywhere(session: &impl Session, index: &dyn SessionIndex) -> Result<usize, Error> {
    let logins: IndexedLogins = store::get_json(session, index::INDEX_KEY)
        .await?
        .unwrap_or_default();
    let mut ended = 0;
    for user in logins.values().filter_map(|l| l.user.as_deref()) {
        ended += index.end_sessions(user).await?;
    }
    Ok(ended)
}

fn id_token(token: &Token) -> Option<&Secret> {
    token.as_oauth2()?.id_token.as_ref()
}

/// Revokes each token whose client asks for it, the refresh token first, on tasks of
/// their own.
fn revoke_in_background(tokens: Vec<(OAuthClient, Token)>) {
    for (client, token) in tokens {
        if !client.revokes_tokens_on_logout() {
            continue;
        }
        let Some(token) = token.as_oauth2().cloned() else {
            continue;
        };
        tokio::spawn(async move {
            if !client.can_revoke().await {
                return;
            }
            if let Some(refresh) = &token.refresh_token {
                revoke(&client, refresh, "refresh_token").await;
            }
            revoke(&client, &token.access_token, "access_token").await;
        });
    }
}

async fn revoke(client: &OAuthClient, token: &Secret, hint: &str) {
    match client.revoke_token(token, Some(hint)).await {
        Ok(()) => tracing::debug!(client = %client.name(), hint, "token revoked at logout"),
        Err(e) => tracing::warn!(
            client = %client.name(),
            hint,
            code = e.code(),
            "token not revoked at logout: {e}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::memory::MemoryStore;

    /// Anyone may POST to the back-channel route of any client the app has. A client
    /// with no issuer (plain OAuth 2.0, such as GitHub) cannot be sent logout tokens:
    /// that is 501, not a server error logged for each stranger's POST.
    #[tokio::test]
    async fn a_client_without_an_issuer_has_no_back_channel() {
        let settings = crate::settings::Settings::from_toml_str(
            "[clients.github]\nclient_id = \"a\"\nclient_secret = \"b\"\n",
        )
        .unwrap();
        let oauth = OAuth::from_settings(&settings).unwrap();
        let index = MemoryStore::new();
        let body = b"logout_token=eyJhbGciOiJSUzI1NiJ9.e30.c2ln";
        let e = backchannel_logout(&oauth, Some(&index), "github", body)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "session_index_unavailable", "{e}");
        assert_eq!(crate::web::http_status(&e), 501);
    }
}
