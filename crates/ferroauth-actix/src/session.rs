//! [`AuthSession`]: the request's session, actix-session's or sealed cookies, as a
//! [`ferroauth::session::Session`].
//!
//! actix-session's `Session` lives on one worker thread (`Rc<RefCell<…>>`), while
//! ferroauth's `Session` trait is `Send + Sync` so that axum apps can hold it across
//! `.await`s on any thread. The bridge: [`crate::sessions`]' middleware copies the
//! request's actix-session entries into a [`ServerSession`] (shared, `Send`), hands that to
//! the handlers, and writes what they changed back to actix-session once they answered,
//! before actix-session saves the session. The copy is a few short JSON strings.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use ferroauth::Error;
use ferroauth::session::at_rest::TokenSealer;
use ferroauth::session::sealed::SealedCookies;
use ferroauth::session::{Session, SessionPending, SessionTokens};

use crate::AuthError;

/// The session of a request: actix-session's (any store) or sealed cookies. An extractor;
/// everything ferroauth keeps for a browser goes through it ([`ferroauth::session`] lists
/// the entries).
#[derive(Debug, Clone)]
pub enum AuthSession {
    /// An actix-session session, bridged through a [`ServerSession`].
    Server(ServerSession),
    /// Sealed cookies: each entry is its own encrypted cookie.
    Cookies(SealedCookies),
}

impl AuthSession {
    /// The session the session middleware put in the request; `None` without one.
    pub fn of(req: &HttpRequest) -> Option<Self> {
        req.extensions().get::<AuthSession>().cloned()
    }

    /// The session the session middleware put in the request, or the error that says the
    /// middleware is missing (503 `session_unavailable`).
    pub fn required(req: &HttpRequest) -> Result<Self, AuthError> {
        Self::of(req).ok_or_else(|| {
            AuthError(Error::Session(
                "no session middleware: wrap the App in SessionConfig::middleware or sealed".into(),
            ))
        })
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

impl FromRequest for AuthSession {
    type Error = AuthError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Self::required(req))
    }
}

impl Session for AuthSession {
    async fn get(&self, key: &str) -> Result<Option<String>, Error> {
        match self {
            AuthSession::Server(s) => Ok(s.state().entries.get(key).cloned()),
            AuthSession::Cookies(jar) => Session::get(jar, key).await,
        }
    }

    async fn insert(&self, key: &str, json: String) -> Result<(), Error> {
        match self {
            AuthSession::Server(s) => {
                let mut state = s.state();
                state.changed.insert(key.to_owned());
                state.entries.insert(key.to_owned(), json);
                Ok(())
            }
            AuthSession::Cookies(jar) => Session::insert(jar, key, json).await,
        }
    }

    async fn remove(&self, key: &str) -> Result<(), Error> {
        match self {
            AuthSession::Server(s) => {
                let mut state = s.state();
                if state.entries.remove(key).is_some() {
                    state.changed.insert(key.to_owned());
                }
                Ok(())
            }
            AuthSession::Cookies(jar) => Session::remove(jar, key).await,
        }
    }

    async fn renew(&self) -> Result<(), Error> {
        match self {
            AuthSession::Server(s) => {
                s.state().renew = true;
                // actix-session deletes the old id and saves the new one after the
                // handler; the store may send both together.
                ferroauth::session::store::guard::renewing();
                Ok(())
            }
            AuthSession::Cookies(jar) => jar.renew().await,
        }
    }

    async fn clear(&self) -> Result<(), Error> {
        match self {
            AuthSession::Server(s) => {
                let mut state = s.state();
                state.entries.clear();
                state.changed.clear();
                state.cleared = true;
                Ok(())
            }
            AuthSession::Cookies(jar) => jar.clear().await,
        }
    }

    fn is_present(&self) -> bool {
        match self {
            AuthSession::Server(s) => s.state().present,
            AuthSession::Cookies(jar) => jar.is_present(),
        }
    }

    /// Sealed cookies are sealed as a whole: only a server-side session seals its tokens.
    fn token_sealer(&self) -> Option<&TokenSealer> {
        match self {
            AuthSession::Server(s) => s.1.as_ref(),
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

/// An actix-session session's entries, shared between the handlers and the middleware that
/// writes their changes back.
///
/// actix-session's `Session` lives on one worker thread (`Rc<RefCell<…>>`), while
/// ferroauth's `Session` trait is `Send + Sync`, so that axum apps can hold it across
/// `.await`s on any thread. The middleware of
/// [`SessionsExt::middleware`](crate::sessions::SessionsExt::middleware) copies the
/// request's entries into this (shared, `Send`) value, hands it to the handlers, and writes
/// what they changed back to actix-session once they answered, before actix-session saves
/// the session. The copy is a few short JSON strings.
///
/// The token entries are sealed with the sealer of
/// [`SessionConfig::seal_tokens`](crate::sessions::SessionConfig::seal_tokens), when set.
#[derive(Debug, Clone)]
pub struct ServerSession(Arc<Mutex<State>>, Option<TokenSealer>);

#[derive(Debug, Default)]
struct State {
    /// The entries, JSON text by key, as the handlers changed them.
    entries: HashMap<String, String>,
    /// The keys inserted or removed.
    changed: HashSet<String>,
    /// A new session id was asked for.
    renew: bool,
    /// The session was cleared (then perhaps filled again).
    cleared: bool,
    /// The request brought a stored session: actix-session stores no empty session, so a
    /// loaded one has entries.
    present: bool,
}

impl ServerSession {
    /// The entries of an actix-session session, its tokens sealed with `sealer`.
    pub(crate) fn copy_of(session: &actix_session::Session, sealer: Option<TokenSealer>) -> Self {
        let entries = session.entries().clone();
        let present = !entries.is_empty();
        let state = State {
            entries,
            present,
            ..State::default()
        };
        Self(Arc::new(Mutex::new(state)), sealer)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A handler that panicked while holding the lock left whole strings behind.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Writes the handlers' changes back to actix-session, which then saves them.
    pub(crate) fn write_back(&self, session: &actix_session::Session) -> Result<(), Error> {
        let mut state = self.state();
        if state.cleared && state.entries.is_empty() {
            session.purge();
            return Ok(());
        }
        if state.cleared {
            session.clear();
            state.changed = state.entries.keys().cloned().collect();
            state.renew = true;
        }
        for key in std::mem::take(&mut state.changed) {
            match state.entries.get(&key) {
                Some(json) => insert_text(session, key, json)?,
                None => drop(session.remove(&key)),
            }
        }
        if state.renew {
            session.renew();
        }
        Ok(())
    }
}

/// actix-session keeps each value as JSON text and serializes what it is given: a
/// `RawValue` serializes as the text itself, with no parse or copy of a value tree.
fn insert_text(session: &actix_session::Session, key: String, json: &str) -> Result<(), Error> {
    let raw: &serde_json::value::RawValue = serde_json::from_str(json)
        .map_err(|e| Error::Session(format!("session entry {key:?} is not JSON: {e}")))?;
    session
        .insert(key, raw)
        .map_err(|e| Error::Session(e.to_string()))
}
