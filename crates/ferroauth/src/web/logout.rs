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

use serde::{Deserialize, Serialize};

use crate::session::pending::constant_time_eq;
use crate::session::tokens::TokenStore as _;
use crate::session::{self as store, Session, SessionTokens};
use crate::{Error, OAuth, OAuthClient, Secret, Token};

/// The session entry of a logout waiting for the provider's return: its state.
pub const LOGOUT_KEY: &str = "ferroauth.logout";

/// How long the provider has to send the browser back, in seconds.
pub const LOGOUT_LIFETIME: u64 = 600;

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
/// as a `post_logout_redirect_uri`.
pub async fn logout(
    oauth: &OAuth,
    session: &impl Session,
    provider: Option<&str>,
    logged_out_uri: Option<&str>,
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
