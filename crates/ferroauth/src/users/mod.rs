//! The app's own users and the provider identities linked to them.
//!
//! A provider's `sub` is not the app's user: one person logs in with Google today and
//! GitHub tomorrow, and the app wants one account. A [`UserStore`] keeps the app's users
//! and, for each, its linked identities: (authority, `sub`) → user, where the authority is
//! the provider's issuer, or `client:<name>` for a provider with none (GitHub, an OAuth
//! 1.0a provider). When the app gives the registry a store ([`crate::OAuth::set_users`]),
//! every login through the ready-made routes is resolved to a user ([`Users::resolve`]):
//!
//! | the login's identity | no user logged in | user *C* logged in |
//! |---|---|---|
//! | linked to user *U* | *U* | *U* = *C*: *C*; else refused, 409 `identity_linked_to_another_user` |
//! | linked to nobody | a new user (or, opted in, the user with the same verified e-mail) | linked to *C* |
//!
//! So "link GitHub to my account" is logging in with GitHub while logged in, and an
//! identity never moves from one user to another by itself.
//!
//! # Why e-mail addresses do not merge accounts by default
//!
//! Joining a login to an existing user because the addresses match is the classic
//! account-takeover bug: anyone who can make a provider show the victim's address (a
//! provider that does not verify addresses, or one that lets a user type any address)
//! gets the victim's account. Linking by e-mail is therefore off unless the app opts in
//! ([`Users::link_verified_email`]), and even then only an address the provider marks
//! verified (`email_verified`, as [`crate::Profile::email_verified`] reads it; each
//! preset documents whether its provider sets it) joins, and only a user whose own
//! identity has that address verified. An address two users share joins neither.
//!
//! # Stores
//!
//! | store | instances | feature |
//! |---|---|---|
//! | [`MemoryUserStore`] | one (and tests); users die with the process | |
//! | `SqlUserStore` (tables `ferroauth_users`, `ferroauth_identities`) | several on one host (SQLite), many (PostgreSQL) | `sqlite`, `postgres` |
//! | `RedisUserStore` (keys `ferroauth:identity:`, `ferroauth:user:`, `ferroauth:email:`, no expiry) | many | `redis` |
//!
//! [`StoreChoice::open_user_store`](crate::session::store::StoreChoice::open_user_store)
//! opens the one in the session store's database, by the same URL. Each shared store makes
//! every method one atomic step across instances (a transaction or a single statement, a
//! Lua script), so that two instances never both create a user for one identity, nor
//! both unlink a user's last two identities. Every store passes the same conformance
//! suite (`ferroauth_testkit::user_store_conformance::run`).

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{Claims, Error, Login};

mod memory;
#[cfg(feature = "redis")]
mod redis;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;

pub use memory::MemoryUserStore;
#[cfg(feature = "redis")]
pub use redis::RedisUserStore;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use sql::SqlUserStore;

/// The app's id of one of its users: opaque text the store chose (random, 22 characters
/// of base64url in the stores of this crate).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub String);

impl UserId {
    /// A new random id: 128 bits, base64url.
    pub fn random() -> Result<Self, Error> {
        let [id] = crate::random::tokens([16])?;
        Ok(Self(id))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What identifies a user at a provider for good: the authority that vouches for them
/// (the issuer, or `client:<name>` without one) and its subject.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct IdentityKey {
    /// The issuer URL, or `client:<name>` for a provider with no issuer.
    pub authority: String,
    /// The provider's subject (`sub`, or its profile's id).
    pub sub: String,
}

/// A provider identity as a user store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// Which identity this is.
    #[serde(flatten)]
    pub key: IdentityKey,
    /// The client it last logged in with (`google`, `github`): what the app shows and
    /// what `POST /unlink/{name}` names.
    pub provider: String,
    /// The e-mail address the provider gave, lower-cased; `None` when it gave none.
    pub email: Option<String>,
    /// Whether the provider vouched for `email`.
    pub email_verified: bool,
}

impl Identity {
    /// The identity of a login of `client` with these claims; `None` when they name no
    /// subject. The address is trimmed and lower-cased, so that stores compare it as
    /// text.
    pub fn of(client: &str, claims: &Claims) -> Option<Self> {
        let (authority, sub) = crate::profile::subject_of(client, claims)?;
        // Read straight from the claims: a whole `Profile` would copy every claim, at
        // every login.
        let email = claims
            .get("email")
            .and_then(serde_json::Value::as_str)
            .map(|e| e.trim().to_lowercase())
            .filter(|e| !e.is_empty());
        Some(Self {
            key: IdentityKey { authority, sub },
            provider: client.to_owned(),
            email_verified: email.is_some() && crate::profile::email_verified(claims),
            email,
        })
    }

    /// The identity of a finished login ([`Self::of`]); a login whose claims name no
    /// subject is an [`Error::InvalidUserinfo`].
    pub fn of_login(login: &Login) -> Result<Self, Error> {
        Self::of(&login.client, &login.userinfo).ok_or_else(|| {
            Error::InvalidUserinfo(format!(
                "the login with `{}` names no subject (`sub` or `id`): it cannot be linked to a user",
                login.client
            ))
        })
    }

    /// The verified address, the only one that may link accounts.
    pub fn verified_email(&self) -> Option<&str> {
        self.email.as_deref().filter(|_| self.email_verified)
    }
}

/// Where an app keeps its users and their linked identities. Implementations must make
/// each method atomic with respect to the others, across every instance of the app that
/// shares the store: the conformance suite checks the rules below, and concurrent
/// creations of one identity.
#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// The user an identity is linked to.
    async fn find(&self, key: &IdentityKey) -> Result<Option<UserId>, Error>;

    /// A new user with `identity` as its first identity. An identity already linked (a
    /// concurrent first login of the same person) is
    /// [`Error::IdentityLinkedElsewhere`], and nothing is created.
    async fn create(&self, identity: &Identity) -> Result<UserId, Error>;

    /// Links `identity` to `user`, or updates it (its client and address) when it is
    /// already linked to `user`. Linked to another user: [`Error::IdentityLinkedElsewhere`];
    /// an unknown user: [`Error::UnknownUser`].
    async fn link(&self, user: &UserId, identity: &Identity) -> Result<(), Error>;

    /// Unlinks an identity from `user`; `false` when it was not linked to `user`. Never the
    /// last identity: [`Error::LastIdentity`], and nothing changes.
    async fn unlink(&self, user: &UserId, key: &IdentityKey) -> Result<bool, Error>;

    /// The identities of `user`, oldest link first; empty for an unknown user.
    async fn identities(&self, user: &UserId) -> Result<Vec<Identity>, Error>;

    /// The one user with an identity whose address is `email` (lower-case) and verified;
    /// `None` when none has, or when several users have (an address two users share
    /// joins neither).
    async fn find_by_verified_email(&self, email: &str) -> Result<Option<UserId>, Error>;

    /// The user `identity` is linked to (`None`: nobody), its stored copy brought up to
    /// date as [`link`](Self::link) does, unless `expected` names another user: then
    /// nothing is written. What a returning user's login needs, in one step: a shared
    /// store overrides it to make one round trip of it (the Redis store runs one script),
    /// and the default is [`find`](Self::find) then [`link`](Self::link).
    async fn find_and_update(
        &self,
        identity: &Identity,
        expected: Option<&UserId>,
    ) -> Result<Option<UserId>, Error> {
        let Some(owner) = self.find(&identity.key).await? else {
            return Ok(None);
        };
        if expected.is_none_or(|e| *e == owner) {
            self.link(&owner, identity).await?;
        }
        Ok(Some(owner))
    }
}

/// A user store shared by the registry and the routes.
pub type SharedUserStore = Arc<dyn UserStore>;

/// The app's users as the registry resolves logins to them: a [`UserStore`] and the
/// linking policy.
#[derive(Clone)]
pub struct Users {
    store: SharedUserStore,
    link_verified_email: bool,
}

impl fmt::Debug for Users {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Users")
            .field("link_verified_email", &self.link_verified_email)
            .finish_non_exhaustive()
    }
}

impl Users {
    /// Users kept in `store`; linking by e-mail off.
    pub fn new(store: impl UserStore) -> Self {
        Self::shared(Arc::new(store))
    }

    /// Users kept in a store shared with other parts of the app.
    pub fn shared(store: SharedUserStore) -> Self {
        Self {
            store,
            link_verified_email: false,
        }
    }

    /// Whether a first login whose provider vouches for its address joins the one user
    /// with that verified address, instead of making a new user (off by default; see the
    /// [module docs](self) for why).
    pub fn link_verified_email(mut self, on: bool) -> Self {
        self.link_verified_email = on;
        self
    }

    /// The store.
    pub fn store(&self) -> &dyn UserStore {
        &*self.store
    }

    /// The store, shared.
    pub fn shared_store(&self) -> SharedUserStore {
        self.store.clone()
    }

    /// The user a login's `identity` belongs to, linking or creating as the table of the
    /// [module docs](self) says; `current` is the user the session was logged in as.
    pub async fn resolve(
        &self,
        current: Option<&UserId>,
        identity: &Identity,
    ) -> Result<UserId, Error> {
        // Keeps the client and the address current: an address the provider no longer
        // vouches for must stop linking.
        if let Some(owner) = self.store.find_and_update(identity, current).await? {
            if current.is_some_and(|c| *c != owner) {
                return Err(linked_elsewhere(identity));
            }
            return Ok(owner);
        }
        if let Some(current) = current {
            match self.store.link(current, identity).await {
                Ok(()) => return Ok(current.clone()),
                // The session's user was deleted since: this login starts afresh.
                Err(Error::UnknownUser) => {}
                Err(e) => return Err(e),
            }
        }
        if let Some(user) = self.by_verified_email(identity).await? {
            self.store.link(&user, identity).await?;
            return Ok(user);
        }
        match self.store.create(identity).await {
            // The same person's first login finished on another request meanwhile.
            Err(Error::IdentityLinkedElsewhere { .. }) => self
                .store
                .find(&identity.key)
                .await?
                .ok_or_else(|| linked_elsewhere(identity)),
            other => other,
        }
    }

    async fn by_verified_email(&self, identity: &Identity) -> Result<Option<UserId>, Error> {
        match identity.verified_email() {
            Some(email) if self.link_verified_email => {
                self.store.find_by_verified_email(email).await
            }
            _ => Ok(None),
        }
    }

    /// Unlinks every identity of `user` that logged in with client `provider`; refused
    /// when that would leave the user none ([`Error::LastIdentity`]). Gives how many went.
    pub async fn unlink_provider(&self, user: &UserId, provider: &str) -> Result<usize, Error> {
        let identities = self.store.identities(user).await?;
        let (gone, kept): (Vec<_>, Vec<_>) =
            identities.into_iter().partition(|i| i.provider == provider);
        if !gone.is_empty() && kept.is_empty() {
            return Err(Error::LastIdentity);
        }
        let mut count = 0;
        for identity in &gone {
            count += usize::from(self.store.unlink(user, &identity.key).await?);
        }
        Ok(count)
    }
}

fn linked_elsewhere(identity: &Identity) -> Error {
    Error::IdentityLinkedElsewhere {
        provider: identity.provider.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(authority: &str, sub: &str, email: Option<&str>, verified: bool) -> Identity {
        Identity {
            key: IdentityKey {
                authority: authority.into(),
                sub: sub.into(),
            },
            provider: authority.trim_start_matches("client:").into(),
            email: email.map(Into::into),
            email_verified: verified,
        }
    }

    fn claims(value: serde_json::Value) -> Claims {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn identities_of_logins() {
        let google = Identity::of(
            "google",
            &claims(serde_json::json!({
                "iss": "https://accounts.google.com", "sub": "1", "email": " Jane@Example.COM ",
                "email_verified": true
            })),
        )
        .unwrap();
        assert_eq!(google.key.authority, "https://accounts.google.com");
        assert_eq!(google.verified_email(), Some("jane@example.com"));
        let github = Identity::of(
            "github",
            &claims(serde_json::json!({"id": 7, "email": "jane@example.com"})),
        )
        .unwrap();
        assert_eq!(github.key.authority, "client:github");
        assert_eq!(github.verified_email(), None, "no email_verified, no trust");
        assert!(Identity::of("x", &claims(serde_json::json!({"name": "n"}))).is_none());
    }

    #[tokio::test]
    async fn first_login_creates_then_finds_the_same_user() {
        let users = Users::new(MemoryUserStore::new());
        let g = identity("https://idp", "1", None, false);
        let u = users.resolve(None, &g).await.unwrap();
        assert_eq!(users.resolve(None, &g).await.unwrap(), u);
        assert_eq!(users.resolve(Some(&u), &g).await.unwrap(), u);
    }

    #[tokio::test]
    async fn a_login_while_logged_in_links_and_never_moves_an_identity() {
        let users = Users::new(MemoryUserStore::new());
        let (g, h) = (
            identity("https://idp", "1", None, false),
            identity("client:github", "9", None, false),
        );
        let u = users.resolve(None, &g).await.unwrap();
        assert_eq!(users.resolve(Some(&u), &h).await.unwrap(), u, "linked");
        assert_eq!(users.resolve(None, &h).await.unwrap(), u, "either logs in");
        let other = users
            .resolve(None, &identity("https://idp", "2", None, false))
            .await
            .unwrap();
        let e = users.resolve(Some(&other), &h).await.unwrap_err();
        assert_eq!(e.code(), "identity_linked_to_another_user");
        assert_eq!(e.kind().http_status(), 409);
        assert_eq!(users.store().find(&h.key).await.unwrap(), Some(u));
    }

    #[tokio::test]
    async fn e_mail_links_only_when_opted_in_and_verified() {
        let store = Arc::new(MemoryUserStore::new());
        let strict = Users::shared(store.clone());
        let lenient = Users::shared(store.clone()).link_verified_email(true);
        let mail = Some("j@x.example");
        let u = strict
            .resolve(None, &identity("https://a", "1", mail, true))
            .await
            .unwrap();
        let unverified = identity("https://b", "2", mail, false);
        assert_ne!(lenient.resolve(None, &unverified).await.unwrap(), u);
        let verified = identity("https://c", "3", mail, true);
        assert_eq!(
            lenient.resolve(None, &verified).await.unwrap(),
            u,
            "opted in"
        );
        let w = strict
            .resolve(None, &identity("https://d", "4", mail, true))
            .await
            .unwrap();
        assert_ne!(w, u, "off by default");
        // Two users now have the verified address: it joins neither.
        let fifth = lenient
            .resolve(None, &identity("https://e", "5", mail, true))
            .await
            .unwrap();
        assert!(fifth != u && fifth != w);
    }

    #[tokio::test]
    async fn a_deleted_session_user_does_not_block_a_login() {
        let users = Users::new(MemoryUserStore::new());
        let gone = UserId::random().unwrap();
        let g = identity("https://idp", "1", None, false);
        let u = users.resolve(Some(&gone), &g).await.unwrap();
        assert_ne!(u, gone, "a new user, not an error");
        assert_eq!(users.store().find(&g.key).await.unwrap(), Some(u));
    }

    #[tokio::test]
    async fn the_last_identity_stays() {
        let users = Users::new(MemoryUserStore::new());
        let g = identity("https://idp", "1", None, false);
        let u = users.resolve(None, &g).await.unwrap();
        let e = users.unlink_provider(&u, "https://idp").await.unwrap_err();
        assert_eq!(e.code(), "last_identity");
        let h = identity("client:github", "9", None, false);
        users.resolve(Some(&u), &h).await.unwrap();
        assert_eq!(users.unlink_provider(&u, "github").await.unwrap(), 1);
        assert_eq!(users.store().identities(&u).await.unwrap(), vec![g]);
        assert_eq!(users.unlink_provider(&u, "github").await.unwrap(), 0);
    }
}
