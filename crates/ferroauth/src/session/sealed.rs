//! Sealed cookies: session entries kept in the browser, encrypted, for apps without a
//! server-side session store.
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
//!   fails authentication, is ignored as if absent (and logged). The same keys seal the
//!   tokens kept in a server-side store ([`super::at_rest`]).
//! - **Expiry**: the sealed payload carries its own expiry, so a copied old value stops
//!   working even if a browser keeps it.
//! - **Size**: a cookie is at most [`CookieSealer::max_cookie_bytes`] (default 3,584, under
//!   browsers' 4 KiB). Pending logins drop their oldest records to fit
//!   ([`crate::session::SessionPending`]); any other entry that does not fit is refused
//!   with [`Error::SessionEntryTooLarge`], never stored in clear or cut.
//! - **Attributes**: `HttpOnly; SameSite=Lax; Path=/`, plus `Secure` unless turned off for
//!   plain-http development.
//!
//! What a cookie cannot do: client-side state can be replayed by whoever holds it. A
//! pending login taken from the cookie is removed from it, but a browser (or an attacker
//! who stole the cookie) can send the older value again. The provider's single-use
//! authorization code and the expiry inside the payload limit what that gives; a
//! server-side store gives strict single use.
//!
//! [`SealedCookies`] is one request's jar: built from the request's `Cookie` headers, it
//! is a [`Session`] whose entries are cookies (the entry `ferroauth.pending` is the cookie
//! `fa_pending`), and it gives back the `Set-Cookie` values of what changed. A web
//! integration wires it into its request cycle.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Session;
use crate::Error;

/// The default cap on one cookie (`name=value`), in bytes.
pub const DEFAULT_MAX_COOKIE_BYTES: usize = 3584;

/// The default lifetime of a sealed cookie.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(8 * 3600);

/// The prefix of every cookie the jar manages; others are neither read nor written.
pub const COOKIE_PREFIX: &str = "fa_";

/// The prefix of the cookies of an app's own session entries (keys outside `ferroauth.`).
const APP_COOKIE_PREFIX: &str = "fa_app_";

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

    /// Seals `in_out` under the current key, bound to `aad`, as
    /// `<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>` with a fresh random nonce. Shared
    /// by the cookies and the tokens kept at rest ([`super::at_rest`]), which differ only
    /// in their associated data.
    pub(crate) fn seal_bytes(&self, aad: &[u8], mut in_out: Vec<u8>) -> Result<String, Error> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce)
            .map_err(|_| Error::Session("no randomness for a nonce".into()))?;
        let (id, key) = &self.keys[0];
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut in_out,
        )
        .map_err(|_| Error::Session("encryption failed".into()))?;
        let mut raw = Vec::with_capacity(NONCE_LEN + in_out.len());
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&in_out);
        Ok(format!("{id}.{}", B64.encode(raw)))
    }

    /// Opens what [`seal_bytes`](Self::seal_bytes) sealed with the same `aad`, under
    /// whichever listed key its id names.
    pub(crate) fn open_bytes(&self, aad: &[u8], sealed: &str) -> Result<Vec<u8>, OpenError> {
        let (id, data) = sealed.split_once('.').ok_or(OpenError::Malformed)?;
        let key = self.find(id).ok_or(OpenError::UnknownKey)?;
        let mut raw = B64.decode(data).map_err(|_| OpenError::Malformed)?;
        if raw.len() < NONCE_LEN {
            return Err(OpenError::Malformed);
        }
        let mut in_out = raw.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&raw).map_err(|_| OpenError::Malformed)?;
        let plain_len = key
            .open_in_place(nonce, Aad::from(aad), &mut in_out)
            .map_err(|_| OpenError::Tampered)?
            .len();
        in_out.truncate(plain_len);
        Ok(in_out)
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
            exp: self.expiry(),
            v: value,
        };
        let plain = serde_json::to_vec(&envelope)
            .map_err(|e| Error::Session(format!("cannot encode cookie {name}: {e}")))?;
        self.seal_plain(name, plain)
    }

    /// Seals JSON text for the cookie `name`, in the same envelope as [`seal`](Self::seal)
    /// writes, without parsing or re-encoding the text. The text must be JSON: what does
    /// not parse opens as absent for [`open`](Self::open).
    pub fn seal_json(&self, name: &str, json: &str) -> Result<String, Error> {
        let mut digits = [0u8; 20];
        let exp = crate::oauth1::encode::write_u64(&mut digits, self.expiry());
        let mut plain = Vec::with_capacity(json.len() + 32);
        plain.extend_from_slice(b"{\"exp\":");
        plain.extend_from_slice(exp.as_bytes());
        plain.extend_from_slice(b",\"v\":");
        plain.extend_from_slice(json.as_bytes());
        plain.push(b'}');
        self.seal_plain(name, plain)
    }

    fn expiry(&self) -> u64 {
        now().saturating_add(self.max_age.as_secs())
    }

    fn seal_plain(&self, name: &str, in_out: Vec<u8>) -> Result<String, Error> {
        let sealed = self.keys.seal_bytes(aad(name).as_bytes(), in_out)?;
        let size = name.len() + 1 + sealed.len();
        if size > self.max_cookie_bytes {
            return Err(Error::SessionEntryTooLarge {
                entry: name.to_owned(),
                bytes: size,
                cap: self.max_cookie_bytes,
            });
        }
        Ok(sealed)
    }

    /// Opens a value sealed for the cookie `name`.
    pub fn open<T: DeserializeOwned>(&self, name: &str, sealed: &str) -> Result<T, OpenError> {
        let plain = self.open_plain(name, sealed)?;
        let envelope: Envelope<T> =
            serde_json::from_slice(&plain).map_err(|_| OpenError::Tampered)?;
        if envelope.exp <= now() {
            return Err(OpenError::Expired);
        }
        Ok(envelope.v)
    }

    /// Opens the JSON text sealed for the cookie `name` (by [`seal_json`](Self::seal_json)
    /// or [`seal`](Self::seal)), without parsing it: the envelope is split where both
    /// writers put its parts, which the authentication tag vouches for.
    pub fn open_json(&self, name: &str, sealed: &str) -> Result<String, OpenError> {
        let plain = self.open_plain(name, sealed)?;
        let text = String::from_utf8(plain).map_err(|_| OpenError::Tampered)?;
        let (exp, json) = text
            .strip_prefix("{\"exp\":")
            .and_then(|rest| rest.split_once(",\"v\":"))
            .and_then(|(exp, rest)| Some((exp.parse::<u64>().ok()?, rest.strip_suffix('}')?)))
            .ok_or(OpenError::Tampered)?;
        if exp <= now() {
            return Err(OpenError::Expired);
        }
        Ok(json.to_owned())
    }

    fn open_plain(&self, name: &str, sealed: &str) -> Result<Vec<u8>, OpenError> {
        if sealed.len() > self.max_cookie_bytes {
            return Err(OpenError::Malformed);
        }
        self.keys.open_bytes(aad(name).as_bytes(), sealed)
    }

    /// The `Set-Cookie` value that sets (`Some`) or removes (`None`) cookie `name`:
    /// `HttpOnly; SameSite=Lax; Path=/`, `Secure` unless turned off, `Max-Age` of the
    /// sealer's lifetime (0 to remove).
    pub fn set_cookie(&self, name: &str, value: Option<&str>) -> String {
        let (value, max_age) = match value {
            Some(v) => (v, self.max_age),
            None => ("", Duration::ZERO),
        };
        cookie::Cookie::build((name, value))
            .path("/")
            .max_age(cookie::time::Duration::seconds(
                i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX),
            ))
            .http_only(true)
            .same_site(cookie::SameSite::Lax)
            .secure(self.secure)
            .build()
            .to_string()
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

/// The cookie that holds the session entry `key`: `ferroauth.pending` is `fa_pending`,
/// `ferroauth.token.github` is `fa_token_github`, an app's own `cart` is `fa_app_cart`.
pub fn cookie_name(key: &str) -> Result<String, Error> {
    let (prefix, rest) = match key.strip_prefix("ferroauth.") {
        Some(rest) => (COOKIE_PREFIX, rest),
        None => (APP_COOKIE_PREFIX, key),
    };
    let ok = !rest.is_empty()
        && rest.len() <= 48
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if !ok {
        return Err(Error::Session(format!(
            "session key {key:?} cannot name a cookie (1-48 of A-Z a-z 0-9 . _ -)"
        )));
    }
    let mut name = String::with_capacity(prefix.len() + rest.len());
    name.push_str(prefix);
    name.extend(rest.chars().map(|c| if c == '.' { '_' } else { c }));
    Ok(name)
}

fn check_name(name: &str) -> Result<(), Error> {
    if name.starts_with(COOKIE_PREFIX) {
        Ok(())
    } else {
        Err(Error::Session(format!(
            "cookie {name} must start with {COOKIE_PREFIX}"
        )))
    }
}

#[derive(Debug, Default)]
struct JarState {
    /// Sealed values as they came with the request.
    incoming: BTreeMap<String, String>,
    /// Values to send back: `Some(sealed)` to set, `None` to remove.
    changes: BTreeMap<String, Option<String>>,
}

/// The sealed cookies of one request: read and change them, then send
/// [`set_cookie_headers`](Self::set_cookie_headers) back. Only cookies named with
/// [`COOKIE_PREFIX`] are managed. Cheap to clone: clones share the jar.
#[derive(Debug, Clone)]
pub struct SealedCookies {
    sealer: Arc<CookieSealer>,
    state: Arc<Mutex<JarState>>,
}

impl SealedCookies {
    /// A jar over the values of a request's `Cookie` headers.
    pub fn from_cookie_headers<'a>(
        sealer: Arc<CookieSealer>,
        headers: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let mut incoming = BTreeMap::new();
        for header in headers {
            for cookie in cookie::Cookie::split_parse(header).flatten() {
                let name = cookie.name();
                if name.starts_with(COOKIE_PREFIX) && name.len() <= 64 {
                    incoming
                        .entry(name.to_owned())
                        .or_insert_with(|| cookie.value().to_owned());
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
        self.opened(name, |sealer, sealed| sealer.open(name, sealed))
    }

    /// The JSON text of cookie `name`, unparsed; `None` as for [`get`](Self::get).
    pub fn get_json(&self, name: &str) -> Option<String> {
        self.opened(name, |sealer, sealed| sealer.open_json(name, sealed))
    }

    fn opened<R>(
        &self,
        name: &str,
        open: impl FnOnce(&CookieSealer, &str) -> Result<R, OpenError>,
    ) -> Option<R> {
        let sealed = {
            let state = self.lock();
            match state.changes.get(name) {
                Some(change) => change.clone(),
                None => state.incoming.get(name).cloned(),
            }
        }?;
        match open(&self.sealer, &sealed) {
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
        check_name(name)?;
        let sealed = self.sealer.seal(name, value)?;
        self.lock().changes.insert(name.to_owned(), Some(sealed));
        Ok(())
    }

    /// Sets cookie `name` to JSON text, sealed without parsing it again.
    pub fn set_json(&self, name: &str, json: &str) -> Result<(), Error> {
        check_name(name)?;
        let sealed = self.sealer.seal_json(name, json)?;
        self.lock().changes.insert(name.to_owned(), Some(sealed));
        Ok(())
    }

    /// Removes cookie `name`.
    pub fn remove_cookie(&self, name: &str) {
        self.lock().changes.insert(name.to_owned(), None);
    }

    /// Whether the request carried cookie `name` (readable or not).
    pub fn arrived(&self, name: &str) -> bool {
        self.lock().incoming.contains_key(name)
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

    /// Removes every managed cookie.
    pub fn remove_all(&self) {
        let mut state = self.lock();
        let names: Vec<String> = state.incoming.keys().cloned().collect();
        for name in names {
            state.changes.insert(name, None);
        }
        for change in state.changes.values_mut() {
            *change = None;
        }
    }

    /// Seals every managed cookie again, with fresh nonces, the current key and a new
    /// expiry: after a login, nothing the browser held before stays valid as it was
    /// (the sealed-cookie counterpart of a new session id). Cookies that cannot be opened
    /// are removed. Cookies this request already changed were sealed afresh by that change
    /// and are left as they are (no second decryption and encryption per login).
    pub fn reseal(&self) -> Result<(), Error> {
        let unchanged: Vec<String> = {
            let state = self.lock();
            state
                .incoming
                .keys()
                .filter(|name| !state.changes.contains_key(*name))
                .cloned()
                .collect()
        };
        for name in unchanged {
            match self.get_json(&name) {
                Some(json) => self.set_json(&name, &json)?,
                None => self.remove_cookie(&name),
            }
        }
        Ok(())
    }

    /// The `Set-Cookie` values for every change: new values, and removals of cookies the
    /// request carried.
    pub fn set_cookie_headers(&self) -> Vec<String> {
        let state = self.lock();
        state
            .changes
            .iter()
            .filter(|(name, value)| value.is_some() || state.incoming.contains_key(*name))
            .map(|(name, value)| self.sealer.set_cookie(name, value.as_deref()))
            .collect()
    }
}

/// Entries as cookies: see [`cookie_name`]. The entry's JSON is sealed as it is: not as a
/// JSON string holding it (which would escape every quote and waste cookie bytes), and not
/// parsed on the way in or out (the caller parses it once).
impl Session for SealedCookies {
    async fn get(&self, key: &str) -> Result<Option<String>, Error> {
        Ok(self.get_json(&cookie_name(key)?))
    }

    async fn insert(&self, key: &str, json: String) -> Result<(), Error> {
        self.set_json(&cookie_name(key)?, &json)
    }

    async fn remove(&self, key: &str) -> Result<(), Error> {
        self.remove_cookie(&cookie_name(key)?);
        Ok(())
    }

    async fn renew(&self) -> Result<(), Error> {
        self.reseal()
    }

    async fn clear(&self) -> Result<(), Error> {
        self.remove_all();
        Ok(())
    }

    /// Whether the request carried any managed cookie.
    fn is_present(&self) -> bool {
        !self.lock().incoming.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[tokio::test]
    async fn entries_are_sealed_as_the_json_they_are() {
        let sealer = Arc::new(CookieSealer::new(keys("k1", 1)));
        let jar = SealedCookies::from_cookie_headers(sealer.clone(), []);
        let json = r#"{"a":"b","list":[1,2,"three"]}"#;
        Session::insert(&jar, "ferroauth.pending", json.to_owned())
            .await
            .unwrap();
        assert_eq!(
            Session::get(&jar, "ferroauth.pending")
                .await
                .unwrap()
                .as_deref(),
            Some(json)
        );
        // Sealed as JSON, not as a JSON string: the envelope's `v` opens as the object.
        let sent = jar.set_cookie_headers();
        let value = sent[0]
            .strip_prefix("fa_pending=")
            .and_then(|rest| rest.split(';').next())
            .unwrap();
        let opened: serde_json::Value = sealer.open("fa_pending", value).unwrap();
        assert_eq!(opened["a"], "b");
        // What seal writes, open_json reads, and the other way round.
        let typed = sealer.seal("fa_x", &vec!["a", "b"]).unwrap();
        assert_eq!(sealer.open_json("fa_x", &typed).unwrap(), r#"["a","b"]"#);
        let text = sealer.seal_json("fa_x", "[1,2]").unwrap();
        assert_eq!(sealer.open::<Vec<u8>>("fa_x", &text).unwrap(), vec![1, 2]);
        let expired = CookieSealer::new(keys("k1", 1)).max_age(Duration::ZERO);
        let old = expired.seal_json("fa_x", "1").unwrap();
        assert_eq!(expired.open_json("fa_x", &old), Err(OpenError::Expired));
    }

    #[test]
    fn cookie_names_for_keys() {
        assert_eq!(cookie_name("ferroauth.pending").unwrap(), "fa_pending");
        assert_eq!(
            cookie_name("ferroauth.token.git-hub").unwrap(),
            "fa_token_git-hub"
        );
        assert_eq!(cookie_name("cart").unwrap(), "fa_app_cart");
        assert!(cookie_name("a b").is_err());
        assert!(cookie_name("").is_err());
    }

    #[test]
    fn reseal_renews_what_the_browser_sent() {
        let sealer = Arc::new(CookieSealer::new(
            keys("new", 2).with_old_key("old", &[1; 32]).unwrap(),
        ));
        let old = CookieSealer::new(keys("old", 1));
        let cookie = format!(
            "fa_a={}; fa_b=junk; other=1",
            old.seal("fa_a", &"kept").unwrap()
        );
        let jar = SealedCookies::from_cookie_headers(sealer, [cookie.as_str()]);
        assert!(jar.arrived("fa_a") && jar.arrived("fa_b") && !jar.arrived("other"));
        jar.reseal().unwrap();
        let sent = jar.set_cookie_headers();
        let a = sent
            .iter()
            .find(|h| h.starts_with("fa_a="))
            .expect("fa_a sealed again");
        assert!(a.starts_with("fa_a=new."), "under the current key: {a}");
        assert_eq!(jar.get::<String>("fa_a").as_deref(), Some("kept"));
        let b = sent
            .iter()
            .find(|h| h.starts_with("fa_b="))
            .expect("the unreadable cookie is removed");
        assert!(b.contains("Max-Age=0"), "{b}");
        for attribute in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
            assert!(a.contains(attribute), "{attribute}: {a}");
        }
    }
}
