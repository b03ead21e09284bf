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
//! | `ferroauth.index` | who owns the session, for back-channel logout (server-side stores) | [`index`], [`save_login`] |
//! | `ferroauth.user` | the app's user (with a user store) and when each login authenticated | [`SignedIn`], [`signed_in`], [`save_login_as`] |
//!
//! Entries are JSON text: one string per entry in the framework's session, parsed straight
//! into its Rust type (no tree of JSON values to build and walk on every request).
//!
//! In a server-side store, the token entries can be sealed under the app's keys
//! ([`at_rest`]): a dump of the store then holds no usable token.

use std::collections::BTreeMap;
use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::session::at_rest::{Opened, TokenSealer};
use crate::session::pending::{PendingLogins, PendingStore};
use crate::session::tokens::TokenStore;
use crate::users::UserId;
use crate::{Claims, Error, Login, Token};

pub mod at_rest;
pub mod index;
pub mod memory;
pub mod pending;
pub mod sealed;
pub mod store;
pub mod tokens;

/// The entry of the pending logins.
pub const PENDING_KEY: &str = "ferroauth.pending";
/// The entry of the logged-in accounts' claims, by client name.
pub const ACCOUNTS_KEY: &str = "ferroauth.accounts";
/// The prefix of each client's token entry (`ferroauth.token.github`).
pub const TOKEN_KEY_PREFIX: &str = "ferroauth.token.";
/// The entry of who the session is logged in as ([`SignedIn`]).
pub const USER_KEY: &str = "ferroauth.user";

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

    /// The sealer of this session's token entries, when they are sealed at rest
    /// ([`at_rest`]): web integrations over a server-side store give the one their config
    /// names (`SessionConfig::seal_tokens`). `None` (the default) keeps them as they are,
    /// which is right for sessions already sealed as a whole ([`sealed`] cookies).
    fn token_sealer(&self) -> Option<&TokenSealer> {
        None
    }

    /// Whether a login records its owners in the [`index::INDEX_KEY`] entry: a
    /// server-side store finds sessions by them ([`index`]); sealed cookies, which keep
    /// nothing on the server, only when the app has a revocation list
    /// ([`index::Revocations`]) to check them against.
    fn records_owners(&self) -> bool {
        true
    }
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

/// Tokens go through here and nowhere else, so that the session's [`TokenSealer`], when it
/// has one, seals every token written and opens every token read ([`at_rest`]).
impl<S: Session> TokenStore for SessionTokens<'_, S> {
    async fn load(&self, client: &str) -> Result<Option<Token>, Error> {
        let key = token_key(client);
        let Some(stored) = self.0.get(&key).await? else {
            return Ok(None);
        };
        let json = match at_rest::open_entry(self.0.token_sealer(), &key, stored) {
            Opened::Json(json) => json,
            Opened::Absent { remove } => {
                if remove {
                    self.0.remove(&key).await?;
                }
                return Ok(None);
            }
        };
        serde_json::from_str(&json)
            .map(Some)
            .map_err(|e| Error::Session(format!("session entry {key:?} does not parse: {e}")))
    }

    async fn save(&self, client: &str, token: &Token) -> Result<(), Error> {
        let key = token_key(client);
        let json = serde_json::to_string(token)
            .map_err(|e| Error::Session(format!("session entry {key:?}: {e}")))?;
        let stored = match self.0.token_sealer() {
            Some(sealer) => sealer.seal(&key, &json)?,
            None => json,
        };
        self.0.insert(&key, stored).await
    }
}

/// The claims of every client the user is logged in with, by client name.
pub async fn accounts(session: &impl Session) -> Result<BTreeMap<String, Claims>, Error> {
    Ok(get_json(session, ACCOUNTS_KEY).await?.unwrap_or_default())
}

/// Who a session is logged in as: the [`USER_KEY`] entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SignedIn {
    /// The app's user the logins resolved to, when the app has a user store
    /// ([`crate::users`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserId>,
    /// When each client's login authenticated the user, in Unix seconds: the ID token's
    /// `auth_time` when the provider gave one, else the time of the login.
    #[serde(default)]
    pub at: BTreeMap<String, u64>,
}

impl SignedIn {
    /// Whether any login is recorded.
    pub fn is_logged_in(&self) -> bool {
        !self.at.is_empty()
    }
}

/// Who the session is logged in as (empty when nobody is).
pub async fn signed_in(session: &impl Session) -> Result<SignedIn, Error> {
    Ok(get_json(session, USER_KEY).await?.unwrap_or_default())
}

/// Keeps a finished login in the session: its token (through [`SessionTokens`]), its
/// claims (in [`accounts`]) and its time (in [`SignedIn`]). The session id was already
/// renewed by the login itself.
pub async fn save_login(session: &impl Session, login: &Login) -> Result<(), Error> {
    save_login_as(session, login, None).await
}

/// [`save_login`], with the app's user the login resolved to ([`crate::users::Users::resolve`]);
/// `None` keeps the session's user as it was.
pub async fn save_login_as(
    session: &impl Session,
    login: &Login,
    user: Option<&UserId>,
) -> Result<(), Error> {
    let mut signed = signed_in(session).await?;
    if let Some(user) = user {
        signed.user = Some(user.clone());
    }
    signed
        .at
        .insert(login.client.clone(), authenticated_at(&login.userinfo));
    insert_json(session, USER_KEY, &signed).await?;
    save_claims(session, &login.client, &login.userinfo).await?;
    if session.records_owners() {
        save_owners(session, &login.client, &login.userinfo).await?;
    }
    SessionTokens(session)
        .save(&login.client, &login.token)
        .await
}

/// When a login's user authenticated: the `auth_time` the provider vouched for, when it
/// is a time not in the future, else now.
fn authenticated_at(claims: &Claims) -> u64 {
    let now = crate::random::now();
    claims
        .get("auth_time")
        .and_then(serde_json::Value::as_u64)
        .filter(|t| *t <= now)
        .unwrap_or(now)
}

/// Forgets the login of `client` in this session (its claims, token, time and owner keys),
/// keeping the others: after its identity was unlinked from the app's user.
pub async fn forget_login(session: &impl Session, client: &str) -> Result<(), Error> {
    let mut signed = signed_in(session).await?;
    if signed.at.remove(client).is_some() {
        insert_json(session, USER_KEY, &signed).await?;
    }
    let mut all = accounts(session).await?;
    if all.remove(client).is_some() {
        insert_json(session, ACCOUNTS_KEY, &all).await?;
    }
    let owners: Option<index::IndexedLogins> = get_json(session, index::INDEX_KEY).await?;
    if let Some(mut owners) = owners
        && owners.remove(client).is_some()
    {
        insert_json(session, index::INDEX_KEY, &owners).await?;
    }
    SessionTokens(session).remove(client).await
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

/// Records who owns the session after a login of `client` ([`index::IndexedLogin::of`]),
/// beside the other clients' owners; the store indexes them when it saves the session.
async fn save_owners(session: &impl Session, client: &str, claims: &Claims) -> Result<(), Error> {
    let mut logins: index::IndexedLogins = get_json(session, index::INDEX_KEY)
        .await?
        .unwrap_or_default();
    let login = index::IndexedLogin::of(client, claims);
    if login == index::IndexedLogin::default() {
        logins.remove(client);
    } else {
        let at = index::now_millis();
        logins.insert(client.to_owned(), index::IndexedLogin { at, ..login });
    }
    insert_json(session, index::INDEX_KEY, &logins).await
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
        sealer: Option<TokenSealer>,
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
        fn token_sealer(&self) -> Option<&TokenSealer> {
            self.sealer.as_ref()
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

    fn sealing(keys: &[(&str, u8)]) -> Memory {
        let (first, rest) = keys.split_first().unwrap();
        let mut all = sealed::CookieKeys::new(first.0, &[first.1; 32]).unwrap();
        for (id, byte) in rest {
            all = all.with_old_key(id, &[*byte; 32]).unwrap();
        }
        Memory {
            sealer: Some(TokenSealer::new(all)),
            ..Memory::default()
        }
    }

    fn token(access: &str, refresh: &str) -> Token {
        Token::OAuth2(crate::OAuth2Token {
            access_token: crate::Secret::new(access),
            token_type: "Bearer".into(),
            refresh_token: Some(crate::Secret::new(refresh)),
            expires_at: Some(2_000_000_000),
            scope: None,
            id_token: None,
            extra: Default::default(),
        })
    }

    fn raw(session: &Memory, client: &str) -> Option<String> {
        session
            .entries
            .lock()
            .unwrap()
            .get(&token_key(client))
            .cloned()
    }

    fn put_raw(session: &Memory, client: &str, text: String) {
        session
            .entries
            .lock()
            .unwrap()
            .insert(token_key(client), text);
    }

    #[tokio::test]
    async fn tokens_are_sealed_at_rest_and_open_again() {
        let session = sealing(&[("k1", 1)]);
        let tokens = SessionTokens(&session);
        let stored = token("access-secret-1", "refresh-secret-1");
        tokens.save("github", &stored).await.unwrap();
        let text = raw(&session, "github").unwrap();
        assert!(
            text.starts_with("\"k1."),
            "sealed under the current key: {text:.12}"
        );
        for secret in [
            "access-secret-1",
            "refresh-secret-1",
            "Bearer",
            "access_token",
        ] {
            assert!(!text.contains(secret), "{secret} readable at rest");
        }
        assert_eq!(tokens.load("github").await.unwrap(), Some(stored.clone()));
        // A fresh nonce per write: the same token never stores the same way twice.
        tokens.save("github", &stored).await.unwrap();
        assert_ne!(raw(&session, "github").unwrap(), text);
        // The accounts built on the tokens open them too.
        let mut claims = Claims::new();
        claims.insert("sub".into(), "alice".into());
        save_claims(&session, "github", &claims).await.unwrap();
        assert_eq!(logged_in(&session).await.unwrap()["github"].token, stored);
    }

    #[tokio::test]
    async fn sealed_tokens_follow_key_rotation() {
        let old = sealing(&[("old", 1)]);
        let stored = token("access-rot", "refresh-rot");
        SessionTokens(&old).save("github", &stored).await.unwrap();
        let sealed_old = raw(&old, "github").unwrap();
        // A new key in front: the old entry still opens, the next write uses the new key.
        let rotated = sealing(&[("new", 2), ("old", 1)]);
        put_raw(&rotated, "github", sealed_old.clone());
        let tokens = SessionTokens(&rotated);
        assert_eq!(tokens.load("github").await.unwrap(), Some(stored.clone()));
        tokens.save("github", &stored).await.unwrap();
        assert!(raw(&rotated, "github").unwrap().starts_with("\"new."));
        // The old key removed: its entries count as absent, without an error.
        let retired = sealing(&[("new", 2)]);
        put_raw(&retired, "github", sealed_old);
        assert_eq!(SessionTokens(&retired).load("github").await.unwrap(), None);
    }

    #[tokio::test]
    async fn sealed_token_under_a_wrong_key_or_tampered_is_absent() {
        let session = sealing(&[("k1", 1)]);
        SessionTokens(&session)
            .save("github", &token("access-t", "refresh-t"))
            .await
            .unwrap();
        let sealed = raw(&session, "github").unwrap();
        // Same key id, other key material.
        let impostor = sealing(&[("k1", 9)]);
        put_raw(&impostor, "github", sealed.clone());
        assert_eq!(SessionTokens(&impostor).load("github").await.unwrap(), None);
        // One character of the ciphertext changed.
        let mut bytes = sealed.clone().into_bytes();
        let i = bytes.len() / 2;
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        put_raw(&session, "github", String::from_utf8(bytes).unwrap());
        assert_eq!(SessionTokens(&session).load("github").await.unwrap(), None);
        // Junk that is not even a sealed value: absent, no panic.
        for junk in ["\"\"", "\"k1.\"", "\"k1.!!\"", "\"nokey\"", "\"k1.QUJD\""] {
            put_raw(&session, "github", junk.into());
            assert_eq!(SessionTokens(&session).load("github").await.unwrap(), None);
        }
    }

    #[tokio::test]
    async fn sealed_token_moved_to_another_client_is_absent() {
        let session = sealing(&[("k1", 1)]);
        let tokens = SessionTokens(&session);
        let stored = token("access-github", "refresh-github");
        tokens.save("github", &stored).await.unwrap();
        put_raw(&session, "google", raw(&session, "github").unwrap());
        assert_eq!(tokens.load("google").await.unwrap(), None);
        assert_eq!(tokens.load("github").await.unwrap(), Some(stored));
    }

    #[tokio::test]
    async fn token_stored_in_clear_before_sealing_is_removed() {
        let clear = Memory::default();
        SessionTokens(&clear)
            .save("github", &token("access-clear", "refresh-clear"))
            .await
            .unwrap();
        let text = raw(&clear, "github").unwrap();
        assert!(text.contains("access-clear"), "no sealer: stored as it was");
        let session = sealing(&[("k1", 1)]);
        put_raw(&session, "github", text);
        assert_eq!(SessionTokens(&session).load("github").await.unwrap(), None);
        assert_eq!(raw(&session, "github"), None, "the clear token is gone");
        // And the other way round: sealed entries read without keys are absent, kept.
        let sealed = sealing(&[("k1", 1)]);
        SessionTokens(&sealed)
            .save("github", &token("access-s", "refresh-s"))
            .await
            .unwrap();
        put_raw(&clear, "github", raw(&sealed, "github").unwrap());
        assert_eq!(SessionTokens(&clear).load("github").await.unwrap(), None);
        assert!(raw(&clear, "github").is_some());
    }
}
