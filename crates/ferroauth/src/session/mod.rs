//! One browser's session, as every web framework keeps one, and what ferroauth keeps in it.
//!
//! A web integration implements [`Session`] (entries of JSON text by key, a new id, clear)
//! over its framework's session: tower-sessions in `ferroauth-axum`, actix-session in an
//! actix integration, or the [`sealed`] cookies that need no server-side store. Everything
//! ferroauth keeps is built on that trait, so it works the same on every framework and
//! store:
//!
//! | entry | what | through |
//! |---|---|---|
//! | `ferroauth.pending` | the pending logins ([`pending::PendingLogins`]) | [`SessionPending`], a [`PendingStore`] |
//! | `ferroauth.token.<client>` | each client's token | [`SessionTokens`], a [`TokenStore`] |
//! | `ferroauth.accounts` | the claims of each client the user logged in with | [`accounts`], [`save_login`], [`logged_in`] |
//!
//! Entries are JSON text: one string per entry in the framework's session, parsed straight
//! into its Rust type (no tree of JSON values to build and walk on every request).

use std::collections::BTreeMap;
use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::session::pending::{PendingLogins, PendingStore};
use crate::{Claims, Error, Login, Token, TokenStore};

pub mod pending;
pub mod sealed;
pub mod tokens;

/// The entry of the pending logins.
pub const PENDING_KEY: &str = "ferroauth.pending";
/// The entry of the logged-in accounts' claims, by client name.
pub const ACCOUNTS_KEY: &str = "ferroauth.accounts";
/// The prefix of each client's token entry (`ferroauth.token.github`).
pub const TOKEN_KEY_PREFIX: &str = "ferroauth.token.";

/// One browser's session: entries of JSON text by key.
///
/// Errors should be [`Error::Session`] (web integrations answer 503).
pub trait Session: Send + Sync {
    /// The entry under `key`.
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<String>, Error>> + Send;

    /// Sets the entry under `key` to `json`.
    fn insert(&self, key: &str, json: String) -> impl Future<Output = Result<(), Error>> + Send;

    /// Removes the entry under `key`.
    fn remove(&self, key: &str) -> impl Future<Output = Result<(), Error>> + Send;

    /// Gives the session a new identifier, keeping its entries (after a login: session
    /// fixation). A session without an identifier seals or signs its state afresh.
    fn renew(&self) -> impl Future<Output = Result<(), Error>> + Send;

    /// Forgets the session and every entry (logout).
    fn clear(&self) -> impl Future<Output = Result<(), Error>> + Send;

    /// Whether the request brought an existing session (its cookie arrived and the store
    /// knew it); see [`PendingStore::session_present`].
    fn is_present(&self) -> bool;
}

/// The entry under `key`, parsed as `T`. An entry that does not parse is an
/// [`Error::Session`].
pub async fn get_json<T: DeserializeOwned>(
    session: &impl Session,
    key: &str,
) -> Result<Option<T>, Error> {
    let Some(text) = session.get(key).await? else {
        return Ok(None);
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| Error::Session(format!("session entry {key:?} does not parse: {e}")))
}

/// Sets the entry under `key` to `value` as JSON.
pub async fn insert_json<T: Serialize>(
    session: &impl Session,
    key: &str,
    value: &T,
) -> Result<(), Error> {
    let text = serde_json::to_string(value)
        .map_err(|e| Error::Session(format!("session entry {key:?}: {e}")))?;
    session.insert(key, text).await
}

/// A [`Session`]'s pending logins: a [`PendingStore`].
///
/// When the session cannot hold them all (a sealed cookie has a size cap), the oldest
/// pending logins are dropped until they fit: a browser with many abandoned tabs loses the
/// oldest ones first.
#[derive(Debug, Clone, Copy)]
pub struct SessionPending<'a, S>(pub &'a S);

impl<S: Session> PendingStore for SessionPending<'_, S> {
    async fn load(&self) -> Result<PendingLogins, Error> {
        Ok(get_json(self.0, PENDING_KEY).await?.unwrap_or_default())
    }

    async fn save(&self, mut logins: PendingLogins) -> Result<(), Error> {
        loop {
            if logins.is_empty() {
                return self.0.remove(PENDING_KEY).await;
            }
            match insert_json(self.0, PENDING_KEY, &logins).await {
                Err(e @ Error::SessionEntryTooLarge { .. }) if !logins.drop_oldest() => {
                    return Err(e);
                }
                Err(Error::SessionEntryTooLarge { .. }) => {}
                other => return other,
            }
        }
    }

    fn session_present(&self) -> bool {
        self.0.is_present()
    }

    async fn renew(&self) -> Result<(), Error> {
        self.0.renew().await
    }
}

/// A [`Session`]'s tokens, one entry per client: a [`TokenStore`], the default place for a
/// user's tokens (server-side with a session store, sealed with cookies).
///
/// Concurrent requests of one session that refresh the same token share one refresh and one
/// save (the single flight is in the [`crate::OAuth`] registry).
#[derive(Debug, Clone, Copy)]
pub struct SessionTokens<'a, S>(pub &'a S);

/// The entry of `client`'s token.
pub fn token_key(client: &str) -> String {
    format!("{TOKEN_KEY_PREFIX}{client}")
}

impl<S: Session> SessionTokens<'_, S> {
    /// Forgets the token of `client`.
    pub async fn remove(&self, client: &str) -> Result<(), Error> {
        self.0.remove(&token_key(client)).await
    }
}

impl<S: Session> TokenStore for SessionTokens<'_, S> {
    async fn load(&self, client: &str) -> Result<Option<Token>, Error> {
        get_json(self.0, &token_key(client)).await
    }

    async fn save(&self, client: &str, token: &Token) -> Result<(), Error> {
        insert_json(self.0, &token_key(client), token).await
    }
}

/// The claims of every client the user is logged in with, by client name.
pub async fn accounts(session: &impl Session) -> Result<BTreeMap<String, Claims>, Error> {
    Ok(get_json(session, ACCOUNTS_KEY).await?.unwrap_or_default())
}

/// Keeps a finished login in the session: its token (through [`SessionTokens`]) and its
/// claims (in [`accounts`]). The session id was already renewed by the login itself.
pub async fn save_login(session: &impl Session, login: &Login) -> Result<(), Error> {
    save_claims(session, &login.client, &login.userinfo).await?;
    SessionTokens(session)
        .save(&login.client, &login.token)
        .await
}

/// Replaces the claims kept for `client` (at a login, or after a refresh re-read
/// userinfo).
pub async fn save_claims(
    session: &impl Session,
    client: &str,
    claims: &Claims,
) -> Result<(), Error> {
    let others = accounts(session).await?;
    // Written from references: the claims are not copied to be stored.
    let mut all: BTreeMap<&str, &Claims> = others.iter().map(|(k, v)| (k.as_str(), v)).collect();
    all.insert(client, claims);
    insert_json(session, ACCOUNTS_KEY, &all).await
}

/// One provider the user is logged in with.
#[derive(Debug, Clone)]
pub struct Account {
    /// The user as that provider describes them; `profile.raw` holds every claim.
    pub profile: crate::Profile,
    /// The token, kept server-side (or sealed): never send it to the browser.
    pub token: Token,
}

/// The accounts of a session, by client name: each login's profile with its current token.
/// A client whose token is gone is left out.
pub async fn logged_in(session: &impl Session) -> Result<BTreeMap<String, Account>, Error> {
    let mut logged_in = BTreeMap::new();
    for (name, claims) in accounts(session).await? {
        if let Some(token) = SessionTokens(session).load(&name).await? {
            let profile = crate::Profile::from_claims(&claims);
            logged_in.insert(name, Account { profile, token });
        }
    }
    Ok(logged_in)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A session in memory, for the tests of what is built on the trait.
    #[derive(Default)]
    struct Memory {
        entries: Mutex<BTreeMap<String, String>>,
        cap: Option<usize>,
        renewed: Mutex<u32>,
    }

    impl Session for Memory {
        async fn get(&self, key: &str) -> Result<Option<String>, Error> {
            Ok(self.entries.lock().unwrap().get(key).cloned())
        }
        async fn insert(&self, key: &str, json: String) -> Result<(), Error> {
            if let Some(cap) = self.cap.filter(|cap| json.len() > *cap) {
                return Err(Error::SessionEntryTooLarge {
                    entry: key.to_owned(),
                    bytes: json.len(),
                    cap,
                });
            }
            self.entries.lock().unwrap().insert(key.to_owned(), json);
            Ok(())
        }
        async fn remove(&self, key: &str) -> Result<(), Error> {
            self.entries.lock().unwrap().remove(key);
            Ok(())
        }
        async fn renew(&self) -> Result<(), Error> {
            *self.renewed.lock().unwrap() += 1;
            Ok(())
        }
        async fn clear(&self) -> Result<(), Error> {
            self.entries.lock().unwrap().clear();
            Ok(())
        }
        fn is_present(&self) -> bool {
            !self.entries.lock().unwrap().is_empty()
        }
    }

    fn record(i: u64) -> pending::PendingLogin {
        pending::PendingLogin {
            key: crate::Secret::new(format!("state-{i:040}")),
            client: "dev".into(),
            redirect_uri: "http://127.0.0.1:8000/auth/dev".into(),
            code_verifier: Some(crate::Secret::new("v".repeat(43))),
            nonce: None,
            issuer: None,
            require_iss: false,
            openid: true,
            token_secret: None,
            created_at: 1_000 + i,
            return_to: None,
            max_age: None,
            essential_acr: Vec::new(),
        }
    }

    #[tokio::test]
    async fn pending_logins_drop_the_oldest_to_fit() {
        let session = Memory {
            cap: Some(700),
            ..Memory::default()
        };
        let store = SessionPending(&session);
        let policy = pending::PendingPolicy::default();
        for i in 0..8 {
            let mut logins = store.load().await.unwrap();
            logins.insert(record(i), 1_000 + i, &policy);
            store.save(logins).await.unwrap();
        }
        let mut logins = store.load().await.unwrap();
        assert!((2..8).contains(&logins.len()), "{} kept", logins.len());
        let newest = format!("state-{:040}", 7);
        let oldest = format!("state-{:040}", 0);
        assert!(logins.take(&newest, 1_010, &policy).is_ok());
        assert!(logins.take(&oldest, 1_010, &policy).is_err());
        assert!(store.session_present());
        store.renew().await.unwrap();
        assert_eq!(*session.renewed.lock().unwrap(), 1);
        store.save(PendingLogins::default()).await.unwrap();
        assert_eq!(session.get(PENDING_KEY).await.unwrap(), None);
    }

    #[tokio::test]
    async fn tokens_and_accounts_by_client() {
        let session = Memory::default();
        let token = Token::OAuth2(crate::OAuth2Token {
            access_token: crate::Secret::new("at-1"),
            token_type: "Bearer".into(),
            refresh_token: None,
            expires_at: None,
            scope: None,
            id_token: None,
            extra: Default::default(),
        });
        let mut userinfo = Claims::new();
        userinfo.insert("sub".into(), "alice".into());
        let login = Login {
            client: "github".into(),
            token: token.clone(),
            userinfo,
            return_to: None,
        };
        save_login(&session, &login).await.unwrap();
        let tokens = SessionTokens(&session);
        assert!(tokens.load("github").await.unwrap().is_some());
        assert!(tokens.load("google").await.unwrap().is_none());
        assert_eq!(accounts(&session).await.unwrap()["github"]["sub"], "alice");
        tokens.remove("github").await.unwrap();
        assert!(tokens.load("github").await.unwrap().is_none());
        session
            .insert(ACCOUNTS_KEY, "not json".into())
            .await
            .unwrap();
        assert_eq!(
            accounts(&session).await.unwrap_err().code(),
            "session_unavailable"
        );
    }
}
