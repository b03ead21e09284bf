//! [`SessionConfig`]: the session cookie's settings, the same for every framework.
//!
//! What the cookie must be for logins (`SameSite=Lax`, `HttpOnly`, `Secure` but on a
//! plain-http loopback URL, `Path=/`, no `Domain`, `__Host-` names behind https), how long
//! an unused session lives, and whether the users' tokens are sealed in the server-side
//! store are decided here, once. Each adapter installs it its own way:
//! `ferroauth_axum::sessions::SessionsExt` as a tower-sessions layer,
//! `ferroauth_actix::sessions::SessionsExt` as actix-session's middleware; both read the
//! settings through the getters below and nothing else.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use crate::Error;
use crate::cookies::CookieNames;
use crate::session::at_rest::TokenSealer;
use crate::session::index::{RevocationList, Revocations};
use crate::session::sealed::{CookieKeys, CookieSealer};
use crate::session::store::{OpenStore, StoreChoice, StoreError};

/// How long an unused session lives by default.
pub const DEFAULT_INACTIVITY: time::Duration = time::Duration::hours(8);

/// The session cookie's settings: `SameSite=Lax; HttpOnly; Secure; Path=/`, named
/// `__Host-id` (`id` without `Secure`), 8 hours of inactivity, tokens in the store as
/// they are. Each adapter installs it its own way (its `sessions::SessionsExt`).
#[derive(Debug, Clone)]
pub struct SessionConfig {
    names: CookieNames,
    inactivity: time::Duration,
    tokens: Option<TokenSealer>,
    keys: Option<CookieKeys>,
    revocations: Option<Arc<dyn RevocationList>>,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl SessionConfig {
    /// `SameSite=Lax; HttpOnly; Secure; Path=/`, named `__Host-id`, 8 hours of inactivity.
    pub fn new() -> Self {
        Self {
            names: CookieNames::new(true),
            inactivity: DEFAULT_INACTIVITY,
            tokens: None,
            keys: None,
            revocations: None,
        }
    }

    /// The settings for an app served at `public_url`: `Secure` unless the URL is plain
    /// http on a loopback host (`localhost`, `127.0.0.0/8`, `[::1]`), where browsers would
    /// refuse or not need it during development. Plain http anywhere else keeps `Secure`:
    /// an app that really serves logins over plain http must say so with
    /// [`secure(false)`](Self::secure).
    pub fn for_public_url(public_url: &str) -> Result<Self, Error> {
        Ok(Self::new().secure(super::secure_cookies_for(public_url)?))
    }

    /// Whether the cookie is `Secure` (sent over https only). Turning it off for an app
    /// served over https, or outside loopback, is an explicit opt-out; it also drops the
    /// `__Host-` prefix of the default names (and forgets names set before that need
    /// `Secure`, logged): name cookies after this.
    pub fn secure(mut self, secure: bool) -> Self {
        self.names = self.names.secure(secure);
        self
    }

    /// The session cookie's name (default `__Host-id`, `id` without `Secure`). With several
    /// apps on one host, give each its own, `__Host-` prefixed behind https. An
    /// `invalid_settings` error when it is not a cookie name or is `__Host-`/`__Secure-`
    /// prefixed without `Secure`.
    pub fn cookie_name(mut self, name: &str) -> Result<Self, Error> {
        self.names = self.names.with_session(name)?;
        Ok(self)
    }

    /// The prefix of the sealed cookies' names (default `__Host-fa_`, `fa_` without
    /// `Secure`); checked as [`cookie_name`](Self::cookie_name).
    pub fn sealed_cookie_prefix(mut self, prefix: &str) -> Result<Self, Error> {
        self.names = self.names.with_sealed_prefix(prefix)?;
        Ok(self)
    }

    /// How long an unused session lives.
    pub fn inactivity(mut self, inactivity: time::Duration) -> Self {
        self.inactivity = inactivity;
        self
    }

    /// Seals the users' tokens in the server-side store under `keys` (the first seals, all
    /// open: rotation as for sealed cookies; the same keys may serve both). Tokens stored
    /// in clear before are dropped at their next read (the user logs in again);
    /// [`crate::session::at_rest`] says why. Sessions in sealed cookies are sealed whole
    /// already.
    pub fn seal_tokens(mut self, keys: impl Into<TokenSealer>) -> Self {
        self.tokens = Some(keys.into());
        self
    }

    /// The app's cookie keys (the first seals, all open: rotation), one setting for every
    /// store: they seal the sessions when the store is sealed cookies, and the users'
    /// tokens when it is a server-side one ([`seal_tokens`](Self::seal_tokens)). Adapters
    /// whose framework signs or encrypts its own session cookie derive that key from them
    /// too, so that every instance given the same keys reads the others' cookies. Without
    /// keys, the cookie store makes a random key per process (cookies then die with it)
    /// and tokens are stored as they are.
    pub fn keys(self, keys: CookieKeys) -> Self {
        let mut config = self.seal_tokens(keys.clone());
        config.keys = Some(keys);
        config
    }

    /// Checks sealed-cookie sessions against a revocation list kept in the store `choice`
    /// names (memory for one instance; SQL or Redis for many), opened here: back-channel
    /// logout and "sign out everywhere" then end sessions that live in the browser
    /// ([`crate::session::index::Revocations`]). Server-side stores need none: they find
    /// and delete sessions by owner themselves.
    pub async fn revocation_list(mut self, choice: &StoreChoice) -> Result<Self, StoreError> {
        self.revocations = Some(choice.open_revocation_list().await?);
        Ok(self)
    }

    /// The keys set by [`keys`](Self::keys).
    pub fn cookie_keys(&self) -> Option<&CookieKeys> {
        self.keys.as_ref()
    }

    /// Opens the store `choice` names ([`StoreChoice::open`]) with these settings' keys:
    /// the cookie store seals under them (or a random key, logged, without them).
    pub async fn open_store(&self, choice: &StoreChoice) -> Result<OpenStore, StoreError> {
        choice.open(self.keys.clone()).await
    }

    /// The cookies' names.
    pub fn cookie_names(&self) -> &CookieNames {
        &self.names
    }

    /// Whether the cookie will be `Secure`.
    pub fn is_secure(&self) -> bool {
        self.names.is_secure()
    }

    /// How long an unused session lives (set by [`inactivity`](Self::inactivity)).
    pub fn idle_lifetime(&self) -> time::Duration {
        self.inactivity
    }

    /// Whether tokens are sealed in the server-side store.
    pub fn seals_tokens(&self) -> bool {
        self.tokens.is_some()
    }

    /// The sealer of the users' tokens in the server-side store, when
    /// [`seal_tokens`](Self::seal_tokens) set one.
    pub fn token_sealer(&self) -> Option<&TokenSealer> {
        self.tokens.as_ref()
    }

    /// The sealer of sessions kept in cookies under `keys`: the cookies named as this
    /// config says, living as long as an unused session does.
    /// With a [`revocation_list`](Self::revocation_list), every session is checked
    /// against it, whose entries last as long as the cookies.
    pub fn cookie_sealer(&self, keys: CookieKeys) -> CookieSealer {
        let lifetime =
            StdDuration::from_secs(u64::try_from(self.inactivity.whole_seconds()).unwrap_or(0));
        let sealer = CookieSealer::new(keys)
            .cookie_names(&self.names)
            .max_age(lifetime);
        match &self.revocations {
            Some(list) => sealer.revocations(Revocations::new(Arc::clone(list), self.inactivity)),
            None => sealer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_safe_ones() {
        let config = SessionConfig::new();
        assert!(config.is_secure());
        assert_eq!(config.cookie_names().session(), "__Host-id");
        assert_eq!(config.idle_lifetime(), time::Duration::hours(8));
        assert!(!config.seals_tokens());
        let local = SessionConfig::for_public_url("http://127.0.0.1:8000").unwrap();
        assert!(!local.is_secure());
        assert_eq!(local.cookie_names().session(), "id");
        assert!(
            SessionConfig::for_public_url("http://app.example")
                .unwrap()
                .is_secure()
        );
    }

    #[test]
    fn a_host_prefixed_name_needs_secure() {
        let dev = SessionConfig::for_public_url("http://127.0.0.1:8000").unwrap();
        for result in [
            dev.clone().cookie_name("__Host-app"),
            dev.sealed_cookie_prefix("__Host-app_"),
        ] {
            assert_eq!(result.unwrap_err().code(), "invalid_settings");
        }
        let https = SessionConfig::for_public_url("https://app.example").unwrap();
        assert_eq!(https.cookie_names().sealed_prefix(), "__Host-fa_");
        let named = https.cookie_name("__Host-app").unwrap();
        assert_eq!(named.cookie_names().session(), "__Host-app");
    }
}
