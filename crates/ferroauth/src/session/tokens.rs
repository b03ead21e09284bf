//! Where an application keeps its users' tokens: the equivalents of Authlib's
//! `fetch_token` and `update_token`.
//!
//! A [`TokenStore`] value stands for one user (a web session, a database row's owner), and
//! holds at most one token per client name. The auto-refreshing calls
//! ([`crate::OAuthClient::request_with_store`] and friends) load the token from it, refresh
//! the token when it is about to expire, and save the new one back, once, however many
//! requests needed it at the same time.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;

use crate::{Error, Token};

/// Loads and saves one user's tokens, by client name.
///
/// Errors should be [`Error::Session`] (a web integration answers 503).
pub trait TokenStore: Send + Sync {
    /// The token stored for `client`, if any (Authlib's `fetch_token`).
    fn load(&self, client: &str) -> impl Future<Output = Result<Option<Token>, Error>> + Send;

    /// Replaces the token for `client` after a refresh (Authlib's `update_token`). The new
    /// token keeps the old refresh token when the provider sent none.
    fn save(&self, client: &str, token: &Token) -> impl Future<Output = Result<(), Error>> + Send;
}

/// A [`TokenStore`] in memory, for one user: tests and programs without sessions. It
/// counts saves, which tests use to check that a refresh is saved exactly once.
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    tokens: Mutex<BTreeMap<String, Token>>,
    saves: std::sync::atomic::AtomicUsize,
}

impl MemoryTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store holding one token.
    pub fn with_token(client: &str, token: Token) -> Self {
        let store = Self::default();
        store.put(client, token);
        store
    }

    /// Puts a token in without counting it as a save.
    pub fn put(&self, client: &str, token: Token) {
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(client.to_owned(), token);
    }

    /// The token held for `client`.
    pub fn get(&self, client: &str) -> Option<Token> {
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(client)
            .cloned()
    }

    /// How many times [`TokenStore::save`] ran.
    pub fn saves(&self) -> usize {
        self.saves.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl TokenStore for MemoryTokenStore {
    async fn load(&self, client: &str) -> Result<Option<Token>, Error> {
        Ok(self.get(client))
    }

    async fn save(&self, client: &str, token: &Token) -> Result<(), Error> {
        self.saves.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.put(client, token.clone());
        Ok(())
    }
}
