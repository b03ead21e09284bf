//! Encrypted cookies: pending logins (and other small state) kept in the browser, for apps
//! without a server-side session store.
//!
//! A signed-only cookie would let anyone who sees it read an OAuth 1.0a request-token
//! secret or a PKCE verifier. These cookies are sealed with AES-256-GCM (aws-lc-rs): the
//! contents are unreadable and any change is detected.
//!
//! - **Format**: `<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`, a fresh random 96-bit
//!   nonce per write. The associated data binds the cookie's name, so a value cannot be
//!   moved to another cookie.
//! - **Keys**: [`CookieKeys`] holds the current key and old keys that are still accepted
//!   for reading (rotation: add a new key in front, keep the old one listed for at least
//!   the cookies' lifetime, then remove it). A cookie under an unknown key, or one that
//!   fails authentication, is ignored as if absent (and logged).
//! - **Expiry**: the sealed payload carries its own expiry, so a copied old value stops
//!   working even if a browser keeps it.
//! - **Size**: a cookie is at most [`CookieSealer::max_cookie_bytes`] (default 3,584, under
//!   browsers' 4 KiB). [`CookiePending`] drops the oldest pending logins to fit.
//! - **Attributes**: `HttpOnly; SameSite=Lax; Path=/`, plus `Secure` unless turned off for
//!   plain-http development.
//!
//! What a cookie cannot do: client-side state can be replayed by whoever holds it. A
//! pending login taken from the cookie is removed from it, but a browser (or an attacker
//! who stole the cookie) can send the older value again. The provider's single-use
//! authorization code and the expiry inside the payload limit what that gives; a
//! server-side store gives strict single use.
//!
//! Wiring: the [`sealed_cookies`] middleware reads the request's cookies and writes the
//! changed ones back; handlers extract a [`SealedJar`].
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use axum::{Router, routing::get};
//! use ferroauth_axum::cookie_store::{CookieKeys, CookieSealer, SealedJar, sealed_cookies};
//!
//! # fn app() -> Result<Router, Box<dyn std::error::Error>> {
//! let keys = CookieKeys::parse(&std::env::var("APP_COOKIE_KEYS")?)?;
//! let sealer = Arc::new(CookieSealer::new(keys));
//! let app: Router = Router::new()
//!     .route("/", get(|jar: SealedJar| async move { format!("{:?}", jar.get::<u32>("fa_n")) }))
//!     .layer(axum::middleware::from_fn_with_state(sealer, sealed_cookies));
//! # Ok(app) }
//! ```

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ferroauth::Error;
use ferroauth::pending::{PendingLogins, PendingStore};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The default cap on one cookie (`name=value`), in bytes.
pub const DEFAULT_MAX_COOKIE_BYTES: usize = 3584;

/// The default lifetime of a sealed cookie.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(8 * 3600);

/// The cookie that holds pending logins.
pub const PENDING_COOKIE: &str = "fa_pending";

/// The prefix of every cookie the jar manages; others are neither read nor written.
pub const COOKIE_PREFIX: &str = "fa_";

const KEY_LEN: usize = 32;
const AAD_PREFIX: &str = "ferroauth sealed cookie v1 ";

/// A problem with cookie keys.
#[derive(Debug, thiserror::Error)]
#[error("cookie keys: {0}")]
pub struct KeyError(String);

/// The keys for sealing cookies: the first seals, all open.
pub struct CookieKeys {
    keys: Vec<(String, LessSafeKey)>,
}

impl std::fmt::Debug for CookieKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("CookieKeys").field("ids", &ids).finish()
    }
}

impl CookieKeys {
    /// One key: `id` (1–16 characters of `A-Z a-z 0-9 _ -`) and 32 key bytes.
    pub fn new(id: &str, key: &[u8]) -> Result<Self, KeyError> {
        let mut keys = Self { keys: Vec::new() };
        keys.push(id, key)?;
        Ok(keys)
    }

    /// Adds an old key, still accepted for reading.
    pub fn with_old_key(mut self, id: &str, key: &[u8]) -> Result<Self, KeyError> {
        self.push(id, key)?;
        Ok(self)
    }

    /// Parses `id:base64url-key[,id:base64url-key...]`, the current key first. This is the
    /// format of the demo's `--cookie-keys` setting and of [`CookieKeys::generate`].
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let mut keys = Self { keys: Vec::new() };
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (id, key) = item
                .split_once(':')
                .ok_or_else(|| KeyError("each key must be `id:base64url-key`".into()))?;
            let bytes = B64
                .decode(key.trim_end_matches('='))
                .map_err(|_| KeyError(format!("key `{id}` is not base64url")))?;
            keys.push(id, &bytes)?;
        }
        if keys.keys.is_empty() {
            return Err(KeyError("no key given".into()));
        }
        Ok(keys)
    }

    /// A fresh random key as `id:base64url-key`, for settings files.
    pub fn generate(id: &str) -> Result<String, KeyError> {
        let mut key = [0u8; KEY_LEN];
        aws_lc_rs::rand::fill(&mut key).map_err(|_| KeyError("no randomness".into()))?;
        Self::new(id, &key)?;
        Ok(format!("{id}:{}", B64.encode(key)))
    }

    /// The id of the key that seals.
    pub fn current_id(&self) -> &str {
        &self.keys[0].0
    }

    fn push(&mut self, id: &str, key: &[u8]) -> Result<(), KeyError> {
        let id_ok = (1..=16).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !id_ok {
            return Err(KeyError(format!(
                "key id `{id}` must be 1-16 characters of A-Z a-z 0-9 _ -"
            )));
        }
        if self.keys.iter().any(|(k, _)| k == id) {
            return Err(KeyError(format!("key id `{id}` is listed twice")));
        }
        if key.len() != KEY_LEN {
            return Err(KeyError(format!(
                "key `{id}` has {} bytes; AES-256-GCM needs {KEY_LEN}",
                key.len()
            )));
        }
        let unbound = UnboundKey::new(&AES_256_GCM, key)
            .map_err(|_| KeyError(format!("key `{id}` was refused")))?;
        self.keys.push((id.to_owned(), LessSafeKey::new(unbound)));
        Ok(())
    }

    fn find(&self, id: &str) -> Option<&LessSafeKey> {
        self.keys.iter().find(|(k, _)| k == id).map(|(_, key)| key)
    }
}

/// Why a sealed value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// Not of the form `<key id>.<base64url>`.
    #[error("malformed sealed cookie")]
    Malformed,
    /// Sealed under a key that is not (or no longer) listed.
    #[error("sealed cookie under an unknown key")]
    UnknownKey,
    /// Authentication failed: the value was changed, or moved from another cookie.
    #[error("sealed cookie failed authentication")]
    Tampered,
    /// The payload's own expiry has passed.
    #[error("sealed cookie expired")]
    Expired,
}

#[derive(Serialize, serde::Deserialize)]
struct Envelope<T> {
    exp: u64,
    v: T,
}

/// Seals and opens cookie values: keys, size cap and cookie attributes.
#[derive(Debug)]
pub struct CookieSealer {
    keys: CookieKeys,
    max_cookie_bytes: usize,
    max_age: Duration,
    secure: bool,
}

impl CookieSealer {
    /// A sealer with these keys, `Secure` cookies, the default size cap and lifetime.
    pub fn new(keys: CookieKeys) -> Self {
        Self {
            keys,
            max_cookie_bytes: DEFAULT_MAX_COOKIE_BYTES,
            max_age: DEFAULT_MAX_AGE,
            secure: true,
        }
    }

    /// Whether cookies get the `Secure` attribute (default true; turn off only for plain
    /// http on loopback).
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// The cap on one cookie, `name=value`, in bytes.
    pub fn max_cookie_bytes(mut self, bytes: usize) -> Self {
        self.max_cookie_bytes = bytes;
        self
    }

    /// How long a sealed cookie stays valid.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// Seals `value` for the cookie `name`; fails when the result would exceed the cap.
    pub fn seal<T: Serialize>(&self, name: &str, value: &T) -> Result<String, Error> {
        let envelope = Envelope {
            exp: now().saturating_add(self.max_age.as_secs()),
            v: value,
        };
        let mut in_out = serde_json::to_vec(&envelope)
            .map_err(|e| Error::Session(format!("cannot encode cookie {name}: {e}")))?;
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce)
            .map_err(|_| Error::Session("no randomness for a cookie nonce".into()))?;
        let (id, key) = &self.keys.keys[0];
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad(name).as_bytes()),
            &mut in_out,
        )
        .map_err(|_| Error::Session("cookie encryption failed".into()))?;
        let mut raw = Vec::with_capacity(NONCE_LEN + in_out.len());
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&in_out);
        let sealed = format!("{id}.{}", B64.encode(raw));
        let size = name.len() + 1 + sealed.len();
        if size > self.max_cookie_bytes {
            return Err(Error::Session(format!(
                "cookie {name} would be {size} bytes, over the {}-byte cap",
                self.max_cookie_bytes
            )));
        }
        Ok(sealed)
    }

    /// Opens a value sealed for the cookie `name`.
    pub fn open<T: DeserializeOwned>(&self, name: &str, sealed: &str) -> Result<T, OpenError> {
        if sealed.len() > self.max_cookie_bytes {
            return Err(OpenError::Malformed);
        }
        let (id, data) = sealed.split_once('.').ok_or(OpenError::Malformed)?;
        let key = self.keys.find(id).ok_or(OpenError::UnknownKey)?;
        let mut raw = B64.decode(data).map_err(|_| OpenError::Malformed)?;
        if raw.len() < NONCE_LEN {
            return Err(OpenError::Malformed);
        }
        let mut in_out = raw.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&raw).map_err(|_| OpenError::Malformed)?;
        let plain = key
            .open_in_place(nonce, Aad::from(aad(name).as_bytes()), &mut in_out)
            .map_err(|_| OpenError::Tampered)?;
        let envelope: Envelope<T> =
            serde_json::from_slice(plain).map_err(|_| OpenError::Tampered)?;
        if envelope.exp <= now() {
            return Err(OpenError::Expired);
        }
        Ok(envelope.v)
    }

    fn set_cookie(&self, name: &str, value: Option<&str>) -> Option<HeaderValue> {
        let (value, max_age) = match value {
            Some(v) => (v, self.max_age.as_secs()),
            None => ("", 0),
        };
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
        ))
        .ok()
    }
}

fn aad(name: &str) -> String {
    format!("{AAD_PREFIX}{name}")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[derive(Debug, Default)]
struct JarState {
    /// Sealed values as they came with the request.
    incoming: BTreeMap<String, String>,
    /// Values to send back: `Some(sealed)` to set, `None` to remove.
    changes: BTreeMap<String, Option<String>>,
}

/// The sealed cookies of one request: read, change, and have the changes sent back by the
/// [`sealed_cookies`] middleware. Only cookies named with [`COOKIE_PREFIX`] are managed.
#[derive(Debug, Clone)]
pub struct SealedJar {
    sealer: Arc<CookieSealer>,
    state: Arc<Mutex<JarState>>,
}

impl SealedJar {
    /// A jar over the `Cookie` headers of a request.
    pub fn from_headers(sealer: Arc<CookieSealer>, headers: &axum::http::HeaderMap) -> Self {
        let mut incoming = BTreeMap::new();
        for value in headers.get_all(header::COOKIE) {
            let Ok(text) = value.to_str() else { continue };
            for pair in text.split(';') {
                let Some((name, value)) = pair.trim().split_once('=') else {
                    continue;
                };
                if name.starts_with(COOKIE_PREFIX) && name.len() <= 64 {
                    incoming
                        .entry(name.to_owned())
                        .or_insert_with(|| value.to_owned());
                }
            }
        }
        Self {
            sealer,
            state: Arc::new(Mutex::new(JarState {
                incoming,
                changes: BTreeMap::new(),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, JarState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value of cookie `name`, or `None` when absent, expired, tampered with or sealed
    /// under an unknown key (the last two are logged).
    pub fn get<T: DeserializeOwned>(&self, name: &str) -> Option<T> {
        let sealed = {
            let state = self.lock();
            match state.changes.get(name) {
                Some(change) => change.clone(),
                None => state.incoming.get(name).cloned(),
            }
        }?;
        match self.sealer.open(name, &sealed) {
            Ok(value) => Some(value),
            Err(OpenError::Expired) => None,
            Err(e) => {
                tracing::warn!(cookie = name, error = %e, "sealed cookie refused");
                None
            }
        }
    }

    /// Sets cookie `name` (which must start with [`COOKIE_PREFIX`]).
    pub fn set<T: Serialize>(&self, name: &str, value: &T) -> Result<(), Error> {
        if !name.starts_with(COOKIE_PREFIX) {
            return Err(Error::Session(format!(
                "cookie {name} must start with {COOKIE_PREFIX}"
            )));
        }
        let sealed = self.sealer.seal(name, value)?;
        self.lock().changes.insert(name.to_owned(), Some(sealed));
        Ok(())
    }

    /// Removes cookie `name`.
    pub fn remove(&self, name: &str) {
        self.lock().changes.insert(name.to_owned(), None);
    }

    /// Removes every managed cookie the request carried.
    pub fn clear(&self) {
        let mut state = self.lock();
        let names: Vec<String> = state.incoming.keys().cloned().collect();
        for name in names {
            state.changes.insert(name, None);
        }
        for change in state.changes.values_mut() {
            *change = None;
        }
    }

    /// Names of the managed cookies present after the changes so far.
    pub fn names(&self) -> Vec<String> {
        let state = self.lock();
        let mut names: Vec<String> = state
            .incoming
            .keys()
            .filter(|n| !state.changes.contains_key(*n))
            .cloned()
            .collect();
        names.extend(
            state
                .changes
                .iter()
                .filter(|(_, v)| v.is_some())
                .map(|(k, _)| k.clone()),
        );
        names.sort();
        names
    }

    /// Whether the request carried cookie `name` (readable or not).
    pub fn arrived(&self, name: &str) -> bool {
        self.lock().incoming.contains_key(name)
    }

    /// Seals every managed cookie again, with fresh nonces, the current key and a new
    /// expiry: after a login, nothing the browser held before stays valid as it was
    /// (the sealed-cookie counterpart of a new session id). Cookies that cannot be opened
    /// are removed.
    pub fn renew(&self) -> Result<(), Error> {
        for name in self.names() {
            match self.get::<serde_json::Value>(&name) {
                Some(value) => self.set(&name, &value)?,
                None => self.remove(&name),
            }
        }
        Ok(())
    }

    /// The pending logins of this browser, in the [`PENDING_COOKIE`] cookie.
    pub fn pending(&self) -> CookiePending {
        CookiePending { jar: self.clone() }
    }

    fn set_cookie_headers(&self) -> Vec<HeaderValue> {
        let state = self.lock();
        state
            .changes
            .iter()
            .filter(|(name, value)| value.is_some() || state.incoming.contains_key(*name))
            .filter_map(|(name, value)| self.sealer.set_cookie(name, value.as_deref()))
            .collect()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SealedJar {
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<SealedJar>().cloned().ok_or((
            StatusCode::INTERNAL_SERVER_ERROR,
            "the sealed_cookies middleware is not installed",
        ))
    }
}

/// Middleware: gives the request a [`SealedJar`] and writes its changes as `Set-Cookie`.
pub async fn sealed_cookies(
    State(sealer): State<Arc<CookieSealer>>,
    mut request: Request,
    next: Next,
) -> Response {
    let jar = SealedJar::from_headers(sealer, request.headers());
    request.extensions_mut().insert(jar.clone());
    let mut response = next.run(request).await;
    for value in jar.set_cookie_headers() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// Pending logins in a sealed cookie: a [`PendingStore`].
///
/// When the set does not fit under the size cap, the oldest pending logins are dropped
/// (a browser with many abandoned tabs loses the oldest ones first).
#[derive(Debug, Clone)]
pub struct CookiePending {
    jar: SealedJar,
}

impl PendingStore for CookiePending {
    async fn load(&self) -> Result<PendingLogins, Error> {
        Ok(self.jar.get(PENDING_COOKIE).unwrap_or_default())
    }

    async fn save(&self, mut logins: PendingLogins) -> Result<(), Error> {
        loop {
            if logins.is_empty() {
                self.jar.remove(PENDING_COOKIE);
                return Ok(());
            }
            match self.jar.set(PENDING_COOKIE, &logins) {
                Ok(()) => return Ok(()),
                Err(e) if !logins.drop_oldest() => return Err(e),
                Err(_) => {}
            }
        }
    }

    /// The pending-login cookie is this store's session.
    fn session_present(&self) -> bool {
        self.jar.arrived(PENDING_COOKIE)
    }

    async fn renew(&self) -> Result<(), Error> {
        self.jar.renew()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferroauth::Secret;
    use ferroauth::pending::{PendingLogin, PendingPolicy};

    fn keys(id: &str, byte: u8) -> CookieKeys {
        CookieKeys::new(id, &[byte; 32]).unwrap()
    }

    #[test]
    fn round_trip_and_unreadable() {
        let sealer = CookieSealer::new(keys("k1", 1));
        let sealed = sealer.seal("fa_x", &"request-token-secret").unwrap();
        assert!(sealed.starts_with("k1."));
        assert!(!sealed.contains("request-token-secret"));
        assert_eq!(
            sealer.open::<String>("fa_x", &sealed).unwrap(),
            "request-token-secret"
        );
        let again = sealer.seal("fa_x", &"request-token-secret").unwrap();
        assert_ne!(sealed, again, "a fresh nonce per write");
    }

    #[test]
    fn tampering_is_detected() {
        let sealer = CookieSealer::new(keys("k1", 1));
        let sealed = sealer.seal("fa_x", &42u32).unwrap();
        let (id, data) = sealed.split_once('.').unwrap();
        let mut raw = B64.decode(data).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        let forged = format!("{id}.{}", B64.encode(&raw));
        assert_eq!(
            sealer.open::<u32>("fa_x", &forged),
            Err(OpenError::Tampered)
        );
        assert_eq!(
            sealer.open::<u32>("fa_other", &sealed),
            Err(OpenError::Tampered),
            "bound to the cookie name"
        );
        assert_eq!(
            sealer.open::<u32>("fa_x", "junk"),
            Err(OpenError::Malformed)
        );
    }

    #[test]
    fn unknown_keys_are_refused_and_old_keys_accepted() {
        let old = CookieSealer::new(keys("old", 1));
        let sealed_old = old.seal("fa_x", &7u32).unwrap();
        let stranger = CookieSealer::new(keys("other", 3));
        let sealed_stranger = stranger.seal("fa_x", &7u32).unwrap();
        let rotated = CookieSealer::new(keys("new", 2).with_old_key("old", &[1; 32]).unwrap());
        assert_eq!(rotated.open::<u32>("fa_x", &sealed_old), Ok(7));
        assert!(rotated.seal("fa_x", &7u32).unwrap().starts_with("new."));
        assert_eq!(
            rotated.open::<u32>("fa_x", &sealed_stranger),
            Err(OpenError::UnknownKey)
        );
        // Same id, different key material: authentication fails.
        let impostor = CookieSealer::new(keys("old", 9));
        assert_eq!(
            rotated.open::<u32>("fa_x", &impostor.seal("fa_x", &7u32).unwrap()),
            Err(OpenError::Tampered)
        );
    }

    #[test]
    fn expired_payloads_are_refused() {
        let sealer = CookieSealer::new(keys("k1", 1)).max_age(Duration::ZERO);
        let sealed = sealer.seal("fa_x", &1u8).unwrap();
        assert_eq!(sealer.open::<u8>("fa_x", &sealed), Err(OpenError::Expired));
    }

    #[test]
    fn key_parsing() {
        let text = format!(
            "{},{}",
            CookieKeys::generate("new").unwrap(),
            CookieKeys::generate("old").unwrap()
        );
        let keys = CookieKeys::parse(&text).unwrap();
        assert_eq!(keys.current_id(), "new");
        assert!(CookieKeys::parse("").is_err());
        assert!(CookieKeys::parse("k:AAAA").is_err(), "too short");
        assert!(CookieKeys::parse("bad id:AAAA").is_err());
        let dup = format!(
            "{},{}",
            CookieKeys::generate("a").unwrap(),
            CookieKeys::generate("a").unwrap()
        );
        assert!(CookieKeys::parse(&dup).is_err());
        assert!(!format!("{keys:?}").contains(text.split(':').nth(1).unwrap()));
    }

    #[test]
    fn renew_reseals_what_the_browser_sent() {
        let sealer = Arc::new(CookieSealer::new(
            keys("new", 2).with_old_key("old", &[1; 32]).unwrap(),
        ));
        let old = CookieSealer::new(keys("old", 1));
        let mut headers = axum::http::HeaderMap::new();
        let cookie = format!(
            "fa_a={}; fa_b=junk; other=1",
            old.seal("fa_a", &"kept").unwrap()
        );
        headers.insert(header::COOKIE, cookie.parse().unwrap());
        let jar = SealedJar::from_headers(sealer.clone(), &headers);
        assert!(jar.arrived("fa_a") && jar.arrived("fa_b") && !jar.arrived("other"));
        jar.renew().unwrap();
        let sent = jar.set_cookie_headers();
        let a = sent
            .iter()
            .map(|h| h.to_str().unwrap())
            .find(|h| h.starts_with("fa_a="))
            .expect("fa_a sealed again");
        assert!(a.starts_with("fa_a=new."), "under the current key: {a}");
        assert_eq!(jar.get::<String>("fa_a").as_deref(), Some("kept"));
        let b = sent
            .iter()
            .map(|h| h.to_str().unwrap())
            .find(|h| h.starts_with("fa_b="))
            .expect("the unreadable cookie is removed");
        assert!(b.contains("Max-Age=0"), "{b}");
    }

    fn record(i: u64) -> PendingLogin {
        PendingLogin {
            key: Secret::new(format!("state-{i:040}")),
            client: "dev".into(),
            redirect_uri: "http://127.0.0.1:8000/auth/dev".into(),
            code_verifier: Some(Secret::new("v".repeat(43))),
            nonce: Some(Secret::new("n".repeat(43))),
            issuer: Some("http://127.0.0.1:8000/idp".into()),
            require_iss: false,
            openid: true,
            token_secret: None,
            created_at: now(),
        }
    }

    #[tokio::test]
    async fn pending_logins_stay_under_the_cap() {
        let sealer = Arc::new(CookieSealer::new(keys("k1", 1)));
        let jar = SealedJar::from_headers(sealer.clone(), &Default::default());
        let store = jar.pending();
        let policy = PendingPolicy::default();
        for i in 0..50 {
            let mut logins = store.load().await.unwrap();
            logins.insert(record(i), now(), &policy);
            store.save(logins).await.unwrap();
        }
        let headers = jar.set_cookie_headers();
        assert_eq!(headers.len(), 1);
        let cookie = headers[0].to_str().unwrap();
        let pair = cookie.split(';').next().unwrap();
        assert!(
            pair.len() <= DEFAULT_MAX_COOKIE_BYTES,
            "{} bytes",
            pair.len()
        );
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
        assert!(cookie.contains("Secure"));
        let logins = store.load().await.unwrap();
        assert!(logins.len() >= 3, "several logins still fit");
        let mut logins = logins;
        assert!(
            logins
                .take(
                    "state-0000000000000000000000000000000000000049",
                    now(),
                    &policy
                )
                .is_ok()
        );
        assert!(
            logins
                .take(
                    "state-0000000000000000000000000000000000000000",
                    now(),
                    &policy
                )
                .is_err()
        );
    }
}
