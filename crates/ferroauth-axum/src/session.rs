//! [`AuthSession`]: the request's session, whichever way the app keeps sessions, as a
//! [`ferroauth::session::Session`].

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use ferroauth::Error;
use ferroauth::session::at_rest::TokenSealer;
use ferroauth::session::sealed::SealedCookies;
use ferroauth::session::{Session, SessionPending, SessionTokens};
use serde_json::Value;

use crate::AuthError;

/// The session of a request: tower-sessions' (server-side, any store) or the sealed
/// cookies of [`crate::sessions::sealed_cookies`]. An extractor; everything ferroauth keeps for a
/// browser goes through it ([`ferroauth::session`] lists the entries).
#[derive(Debug, Clone)]
pub enum AuthSession {
    /// A tower-sessions session: entries are JSON text values in the session record; the
    /// token entries sealed with the sealer, when the config has one
    /// ([`SessionConfig::seal_tokens`](crate::sessions::SessionConfig::seal_tokens)).
    Server(tower_sessions::Session, Option<TokenSealer>),
    /// Sealed cookies: each entry is its own encrypted cookie.
    Cookies(SealedCookies),
}

impl AuthSession {
    /// The session the session layer (tower-sessions' or the sealed cookies') put in a
    /// request's extensions; `None` without a session layer.
    pub fn from_extensions(extensions: &axum::http::Extensions) -> Option<Self> {
        if let Some(jar) = extensions.get::<SealedCookies>() {
            return Some(AuthSession::Cookies(jar.clone()));
        }
        let sealer = extensions.get::<TokenSealer>().cloned();
        extensions
            .get::<tower_sessions::Session>()
            .cloned()
            .map(|session| AuthSession::Server(session, sealer))
    }

    /// The pending logins.
    pub fn pending(&self) -> SessionPending<'_, Self> {
        SessionPending(self)
    }

    /// The user's tokens, by client name.
    pub fn tokens(&self) -> SessionTokens<'_, Self> {
        SessionTokens(self)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AuthSession {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        AuthSession::from_extensions(&parts.extensions).ok_or_else(|| {
            AuthError(Error::Session(
                "no session layer: add SessionConfig::apply or apply_sealed to the router".into(),
            ))
        })
    }
}

/// An entry of a tower-sessions record as JSON text: ferroauth writes a JSON string
/// holding the text (one allocation to store, one to read); earlier versions wrote the
/// object itself, which still reads.
pub(crate) fn entry_text(value: Value) -> String {
    match value {
        Value::String(text) => text,
        other => other.to_string(),
    }
}

/// tower-sessions writes a session (and sends its cookie with a new `Max-Age`) only when it
/// changed, so a session only read would end `inactivity` after its last change, however
/// much it is used. A read marks it changed when its expiry in the store has slipped by
/// more than the core's slack ([`has_slipped`](ferroauth::session::store::guard::has_slipped)):
/// one write per slack for an active session, none for the other requests.
fn keep_alive(s: &tower_sessions::Session) {
    use ferroauth::session::store::guard::{has_slipped, take_loaded};
    use tower_sessions::Expiry;
    // Checked at the first read after the load only: the later ones cost nothing.
    if let Some((loaded, expiry)) = take_loaded()
        && s.id() == Some(loaded)
        && let Some(Expiry::OnInactivity(inactivity)) = s.expiry()
        && has_slipped(expiry, inactivity)
    {
        s.set_expiry(Some(Expiry::OnInactivity(inactivity)));
    }
}

fn store_error(e: impl std::fmt::Display) -> Error {
    Error::Session(e.to_string())
}

impl Session for AuthSession {
    async fn get(&self, key: &str) -> Result<Option<String>, Error> {
        match self {
            AuthSession::Server(s, _) => {
                let value = s.get_value(key).await.map_err(store_error)?;
                keep_alive(s);
                Ok(value.map(entry_text))
            }
            AuthSession::Cookies(jar) => Session::get(jar, key).await,
        }
    }

    async fn insert(&self, key: &str, json: String) -> Result<(), Error> {
        match self {
            AuthSession::Server(s, _) => s
                .insert_value(key, Value::String(json))
                .await
                .map(drop)
                .map_err(store_error),
            AuthSession::Cookies(jar) => Session::insert(jar, key, json).await,
        }
    }

    async fn remove(&self, key: &str) -> Result<(), Error> {
        match self {
            AuthSession::Server(s, _) => s.remove_value(key).await.map(drop).map_err(store_error),
            AuthSession::Cookies(jar) => Session::remove(jar, key).await,
        }
    }

    async fn renew(&self) -> Result<(), Error> {
        match self {
            AuthSession::Server(s, _) => {
                // The old id's deletion may then go with the new id's creation.
                ferroauth::session::store::guard::renewing();
                s.cycle_id().await.map_err(store_error)
            }
            AuthSession::Cookies(jar) => jar.renew().await,
        }
    }

    async fn clear(&self) -> Result<(), Error> {
        match self {
            AuthSession::Server(s, _) => s.flush().await.map_err(store_error),
            AuthSession::Cookies(jar) => jar.clear().await,
        }
    }

    /// tower-sessions forgets the id when the cookie did not come or named a session the
    /// store does not have.
    fn is_present(&self) -> bool {
        match self {
            AuthSession::Server(s, _) => s.id().is_some(),
            AuthSession::Cookies(jar) => jar.is_present(),
        }
    }

    /// Sealed cookies are sealed as a whole: only a server-side session seals its tokens.
    fn token_sealer(&self) -> Option<&TokenSealer> {
        match self {
            AuthSession::Server(_, sealer) => sealer.as_ref(),
            AuthSession::Cookies(_) => None,
        }
    }

    fn records_owners(&self) -> bool {
        match self {
            AuthSession::Server(..) => true,
            AuthSession::Cookies(jar) => jar.records_owners(),
        }
    }
}
