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
//! - **One session**: each entry is sealed on its own, so the associated data of every
//!   entry also names the jar's random session id (128 bits), kept in a sealed cookie of
//!   its own (`fa_sid`). An entry taken from another browser's session (or from the
//!   attacker's own session on the same app) does not open beside this session's: it reads
//!   as absent and is logged as tampering. A login ([`Session::renew`]) picks a new id and
//!   seals every entry again; a logout ([`Session::clear`]) removes the id with the rest.
//! - **Names**: behind https (`Secure`) every cookie is named `__Host-fa_...`
//!   (`__Host-fa_sid`, `__Host-fa_pending`, ...), which browsers accept only from this
//!   very host, with `Path=/` and no `Domain`: a sibling subdomain cannot plant one
//!   (cookie tossing, see [`crate::cookies`]). Plain-http development keeps `fa_...`;
//!   [`CookieSealer::cookie_prefix`] sets another prefix.
//! - **Sent twice**: a cookie name the request carries more than once (the app's own and
//!   a planted copy) reads as absent, whichever copy came first, and is logged.
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
//! - **Attributes**: `HttpOnly; SameSite=Lax; Path=/`, no `Domain`, plus `Secure` unless
//!   turned off for plain-http development.
//!
//! What a cookie cannot do: client-side state can be replayed by whoever holds it. A
//! pending login taken from the cookie is removed from it, but a browser (or an attacker
//! who stole the cookie) can send the older value again. The provider's single-use
//! authorization code and the expiry inside the payload limit what that gives; a
//! server-side store gives strict single use. Nor can the binding stop a sibling host that
//! plants a *whole* session (its id and entries) in a browser that has none: only the
//! `__Host-` names, hence https, do.
//!
//! [`SealedCookies`] is one request's jar: built from the request's `Cookie` headers, it
//! is a [`Session`] whose entries are cookies (the entry `ferroauth.pending` is the cookie
//! `fa_pending`, or `__Host-fa_pending`), and it gives back the `Set-Cookie` values of what
//! changed. A web integration wires it into its request cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Session;
use super::index::{INDEX_KEY, IndexedLogins, Revocations, SharedIndex};
use crate::Error;
use crate::cookies::CookieNames;

/// The default cap on one cookie (`name=value`), in bytes.
pub const DEFAULT_MAX_COOKIE_BYTES: usize = 3584;

/// The default lifetime of a sealed cookie.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(8 * 3600);

/// The prefix of every cookie the jar manages over plain http (behind https,
/// [`crate::cookies::HOST_SEALED_PREFIX`]); others are neither read nor written.
pub const COOKIE_PREFIX: &str = crate::cookies::PLAIN_SEALED_PREFIX;

/// What follows the prefix in the cookies of an app's own session entries (keys outside
/// `ferroauth.`).
const APP_COOKIE_INFIX: &str = "app_";

/// What follows the prefix in the name of the cookie of the jar's session id.
const SESSION_ID_SUFFIX: &str = "sid";

/// The longest part of a managed cookie's name after the prefix.
const MAX_NAME_REST: usize = 56;

const KEY_LEN: usize = 32;
const AAD_PREFIX: &str = "ferroauth sealed cookie v1 ";

/// A problem with cookie keys.
#[derive(Debug, thiserror::Error)]
#[error("cookie keys: {0}")]
pub struct KeyError(String);

/// The bytes of one cookie key ([`CookieKeys::current_secret`]); never shown in `Debug`.
pub struct KeySecret([u8; KEY_LEN]);

impl KeySecret {
    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for KeySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeySecret(..)")
    }
}

/// The keys for sealing cookies: the first seals, all open. Cheap to clone (clones share
/// the keys).
#[derive(Clone)]
pub struct CookieKeys {
    keys: Arc<Vec<(String, LessSafeKey)>>,
    /// The current key's bytes, for [`current_key_secret`](Self::current_key_secret).
    current: Arc<KeySecret>,
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
        let mut keys = Self::empty();
        keys.push(id, key)?;
        Ok(keys)
    }

    /// Adds an old key, still accepted for reading. Keys gain old keys before they are
    /// cloned: on keys already shared it is an error.
    pub fn with_old_key(mut self, id: &str, key: &[u8]) -> Result<Self, KeyError> {
        self.push(id, key)?;
        Ok(self)
    }

    /// Parses `id:base64url-key[,id:base64url-key...]`, the current key first. This is the
    /// format of the demo's `--cookie-keys` setting and of [`CookieKeys::generate`].
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let mut keys = Self::empty();
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

    /// The current (first) key of `text`, in the format of [`parse`](Self::parse), as
    /// secret bytes: what a web framework's own session-cookie key is derived from (the
    /// actix adapter's), so that the app's one key setting serves both and every instance
    /// sharing the keys derives the same. The whole text is checked as `parse` does.
    pub fn current_secret(text: &str) -> Result<KeySecret, KeyError> {
        Ok(KeySecret(Self::parse(text)?.current.0))
    }

    fn empty() -> Self {
        Self {
            keys: Arc::default(),
            current: Arc::new(KeySecret([0; KEY_LEN])),
        }
    }

    /// The current (first) key as secret bytes: [`current_secret`](Self::current_secret)
    /// for keys already parsed.
    pub fn current_key_secret(&self) -> &KeySecret {
        &self.current
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
        let keys = Arc::get_mut(&mut self.keys)
            .ok_or_else(|| KeyError("keys gain old keys before they are cloned".into()))?;
        if keys.is_empty() {
            let mut current = [0; KEY_LEN];
            current.copy_from_slice(key);
            self.current = Arc::new(KeySecret(current));
        }
        keys.push((id.to_owned(), LessSafeKey::new(unbound)));
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

/// Seals and opens cookie values: keys, size cap, cookie names and attributes.
#[derive(Debug)]
pub struct CookieSealer {
    keys: CookieKeys,
    max_cookie_bytes: usize,
    max_age: Duration,
    names: CookieNames,
    revocations: Option<Arc<Revocations>>,
}

impl CookieSealer {
    /// A sealer with these keys, `Secure` cookies named `__Host-fa_...`, the default size
    /// cap and lifetime.
    pub fn new(keys: CookieKeys) -> Self {
        Self {
            keys,
            max_cookie_bytes: DEFAULT_MAX_COOKIE_BYTES,
            max_age: DEFAULT_MAX_AGE,
            names: CookieNames::new(true),
            revocations: None,
        }
    }

    /// Whether cookies get the `Secure` attribute (default true; turn off only for plain
    /// http on loopback). Without it the default names lose their `__Host-` prefix
    /// ([`crate::cookies`]).
    pub fn secure(mut self, secure: bool) -> Self {
        self.names = self.names.secure(secure);
        self
    }

    /// The prefix of every cookie's name (default `__Host-fa_`, `fa_` without `Secure`).
    /// A settings error for a prefix that is not a cookie name, or a `__Host-` one without
    /// `Secure`: set [`secure`](Self::secure) first.
    pub fn cookie_prefix(mut self, prefix: &str) -> Result<Self, Error> {
        self.names = self.names.with_sealed_prefix(prefix)?;
        Ok(self)
    }

    /// `Secure` and the cookies' prefix as `names` say (already checked).
    pub fn cookie_names(mut self, names: &CookieNames) -> Self {
        self.names = names.clone();
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

    /// Checks every session against `revocations` at each request
    /// ([`SealedCookies::end_if_revoked`]), so that back-channel logout and "sign out
    /// everywhere" can end sessions the server does not keep.
    pub fn revocations(mut self, revocations: Revocations) -> Self {
        self.revocations = Some(Arc::new(revocations));
        self
    }

    /// The revocation list the sessions are checked against, if any.
    pub fn revocation_list(&self) -> Option<&Revocations> {
        self.revocations.as_deref()
    }

    /// The revocation list as the index of sessions by owner that the routes ending
    /// sessions by owner use (back-channel logout, "sign out everywhere").
    pub fn revocation_index(&self) -> Option<SharedIndex> {
        self.revocations
            .as_ref()
            .map(|r| Arc::clone(r) as SharedIndex)
    }

    /// The prefix of the cookies this sealer names.
    pub fn prefix(&self) -> &str {
        self.names.sealed_prefix()
    }

    /// The cookie that holds the session entry `key`: with the default plain-http prefix,
    /// `ferroauth.pending` is `fa_pending`, `ferroauth.token.github` is `fa_token_github`,
    /// an app's own `cart` is `fa_app_cart` (behind https each starts with `__Host-fa_`).
    pub fn cookie_name(&self, key: &str) -> Result<String, Error> {
        let (kind, rest) = match key.strip_prefix("ferroauth.") {
            Some(rest) => ("", rest),
            None => (APP_COOKIE_INFIX, key),
        };
        let ok = !rest.is_empty()
            && rest.len() <= 48
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            && !(kind.is_empty() && rest == SESSION_ID_SUFFIX);
        if !ok {
            return Err(Error::Session(format!(
                "session key {key:?} cannot name a cookie (1-48 of A-Z a-z 0-9 . _ -)"
            )));
        }
        let prefix = self.prefix();
        let mut name = String::with_capacity(prefix.len() + kind.len() + rest.len());
        name.push_str(prefix);
        name.push_str(kind);
        name.extend(rest.chars().map(|c| if c == '.' { '_' } else { c }));
        Ok(name)
    }

    /// The cookie of the jar's session id, which every entry's seal names.
    pub fn session_id_cookie(&self) -> String {
        format!("{}{SESSION_ID_SUFFIX}", self.prefix())
    }

    /// Seals `value` for the cookie `name` alone (bound to no session); fails when the
    /// result would exceed the cap.
    pub fn seal<T: Serialize>(&self, name: &str, value: &T) -> Result<String, Error> {
        self.seal_for(name, None, value)
    }

    fn seal_for<T: Serialize>(
        &self,
        name: &str,
        session: Option<&str>,
        value: &T,
    ) -> Result<String, Error> {
        let envelope = Envelope {
            exp: self.expiry(),
            v: value,
        };
        let plain = serde_json::to_vec(&envelope)
            .map_err(|e| Error::Session(format!("cannot encode cookie {name}: {e}")))?;
        self.seal_plain(name, session, plain)
    }

    /// Seals JSON text for the cookie `name`, in the same envelope as [`seal`](Self::seal)
    /// writes, without parsing or re-encoding the text. The text must be JSON: what does
    /// not parse opens as absent for [`open`](Self::open).
    pub fn seal_json(&self, name: &str, json: &str) -> Result<String, Error> {
        self.seal_json_for(name, None, json)
    }

    fn seal_json_for(
        &self,
        name: &str,
        session: Option<&str>,
        json: &str,
    ) -> Result<String, Error> {
        let mut digits = [0u8; 20];
        let exp = crate::proto::oauth1::write_u64(&mut digits, self.expiry());
        let mut plain = Vec::with_capacity(json.len() + 32);
        plain.extend_from_slice(b"{\"exp\":");
        plain.extend_from_slice(exp.as_bytes());
        plain.extend_from_slice(b",\"v\":");
        plain.extend_from_slice(json.as_bytes());
        plain.push(b'}');
        self.seal_plain(name, session, plain)
    }

    fn expiry(&self) -> u64 {
        now().saturating_add(self.max_age.as_secs())
    }

    fn seal_plain(
        &self,
        name: &str,
        session: Option<&str>,
        in_out: Vec<u8>,
    ) -> Result<String, Error> {
        let sealed = self
            .keys
            .seal_bytes(aad(name, session).as_bytes(), in_out)?;
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

    /// Opens a value sealed for the cookie `name` alone (by [`seal`](Self::seal)).
    pub fn open<T: DeserializeOwned>(&self, name: &str, sealed: &str) -> Result<T, OpenError> {
        self.open_for(name, None, sealed)
    }

    fn open_for<T: DeserializeOwned>(
        &self,
        name: &str,
        session: Option<&str>,
        sealed: &str,
    ) -> Result<T, OpenError> {
        let plain = self.open_plain(name, session, sealed)?;
        let envelope: Envelope<T> =
            serde_json::from_slice(&plain).map_err(|_| OpenError::Tampered)?;
        if envelope.exp <= now() {
            return Err(OpenError::Expired);
        }
        Ok(envelope.v)
    }

    /// Opens the JSON text sealed for the cookie `name` alone (by
    /// [`seal_json`](Self::seal_json) or [`seal`](Self::seal)), without parsing it: the
    /// envelope is split where both writers put its parts, which the authentication tag
    /// vouches for.
    pub fn open_json(&self, name: &str, sealed: &str) -> Result<String, OpenError> {
        self.open_json_for(name, None, sealed)
    }

    fn open_json_for(
        &self,
        name: &str,
        session: Option<&str>,
        sealed: &str,
    ) -> Result<String, OpenError> {
        let plain = self.open_plain(name, session, sealed)?;
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

    fn open_plain(
        &self,
        name: &str,
        session: Option<&str>,
        sealed: &str,
    ) -> Result<Vec<u8>, OpenError> {
        if sealed.len() > self.max_cookie_bytes {
            return Err(OpenError::Malformed);
        }
        self.keys.open_bytes(aad(name, session).as_bytes(), sealed)
    }

    /// The `Set-Cookie` value that sets (`Some`) or removes (`None`) cookie `name`:
    /// `HttpOnly; SameSite=Lax; Path=/`, `Secure` unless turned off, `Max-Age` of the
    /// sealer's lifetime (0 to remove), never a `Domain` (so that `__Host-` names are
    /// accepted).
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
            .secure(self.names.is_secure())
            .build()
            .to_string()
    }

    fn check_name(&self, name: &str) -> Result<(), Error> {
        if name.starts_with(self.prefix()) && name != self.session_id_cookie() {
            Ok(())
        } else {
            Err(Error::Session(format!(
                "cookie {name} must start with {} and not be the session id's",
                self.prefix()
            )))
        }
    }
}

/// The associated data of a seal: the cookie's name and, for a jar's entries, its session
/// id. Names are cookie tokens (no spaces), so no name-only text equals a bound one.
fn aad(name: &str, session: Option<&str>) -> String {
    match session {
        None => format!("{AAD_PREFIX}{name}"),
        Some(id) => format!("{AAD_PREFIX}{name} session {id}"),
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A fresh random session id for a jar: 128 bits, base64url.
fn new_session_id() -> Result<String, Error> {
    let mut id = [0u8; 16];
    aws_lc_rs::rand::fill(&mut id)
        .map_err(|_| Error::Session("no randomness for a session id".into()))?;
    Ok(B64.encode(id))
}

#[derive(Debug, Default)]
struct JarState {
    /// Sealed values as they came with the request (names sent once).
    incoming: BTreeMap<String, String>,
    /// Managed names the request sent more than once: planted, never read.
    duplicated: BTreeSet<String>,
    /// Values to send back: `Some(sealed)` to set, `None` to remove.
    changes: BTreeMap<String, Option<String>>,
    /// The session id every entry is bound to: `None` until first looked up, then
    /// `Some(None)` when the jar has none (yet).
    session: Option<Option<String>>,
}

/// The sealed cookies of one request: read and change them, then send
/// [`set_cookie_headers`](Self::set_cookie_headers) back. Only cookies named with the
/// sealer's [prefix](CookieSealer::prefix) are managed; entries are bound to the jar's
/// session id (see the [module docs](self)). Cheap to clone: clones share the jar.
#[derive(Debug, Clone)]
pub struct SealedCookies {
    sealer: Arc<CookieSealer>,
    state: Arc<Mutex<JarState>>,
}

impl SealedCookies {
    /// Clears the session when its sealer checks a revocation list
    /// ([`CookieSealer::revocations`]) and one of its logins' owners ended after the login
    /// ([`super::index::Revocations`]); whether it did. Each adapter's sealed-cookie
    /// middleware calls it before the handler sees the session; an unreadable list is an
    /// error (503), never a pass.
    pub async fn end_if_revoked(&self) -> Result<bool, Error> {
        // Most requests have no login, or no list: one lookup each, no await.
        let Some(revocations) = self.sealer.revocation_list() else {
            return Ok(false);
        };
        let Some(json) = self.get_json(&self.sealer.cookie_name(INDEX_KEY)?) else {
            return Ok(false);
        };
        let logins: IndexedLogins = serde_json::from_str(&json).unwrap_or_default();
        for login in logins.values() {
            if revocations.ended(login).await? {
                tracing::info!("a sealed-cookie session ended by its owner's logout");
                self.remove_all();
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The sealer's revocation list as an index of sessions by owner
    /// ([`CookieSealer::revocation_index`]).
    pub fn revocation_index(&self) -> Option<SharedIndex> {
        self.sealer.revocation_index()
    }

    /// A jar over the values of a request's `Cookie` headers. A managed name sent more than
    /// once is kept apart: it reads as absent (logged), whichever copy is the app's own.
    pub fn from_cookie_headers<'a>(
        sealer: Arc<CookieSealer>,
        headers: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let mut incoming = BTreeMap::new();
        let mut duplicated = BTreeSet::new();
        let prefix = sealer.prefix();
        for header in headers {
            for cookie in cookie::Cookie::split_parse(header).flatten() {
                let name = cookie.name();
                if !name.starts_with(prefix) || name.len() > prefix.len() + MAX_NAME_REST {
                    continue;
                }
                if duplicated.contains(name) {
                    continue;
                }
                if incoming.remove(name).is_some() {
                    tracing::warn!(
                        cookie = name,
                        "sealed cookie sent more than once (planted by another host?): ignored"
                    );
                    duplicated.insert(name.to_owned());
                } else {
                    incoming.insert(name.to_owned(), cookie.value().to_owned());
                }
            }
        }
        Self {
            sealer,
            state: Arc::new(Mutex::new(JarState {
                incoming,
                duplicated,
                ..JarState::default()
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, JarState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The jar's session id: from its sealed cookie, if it arrived once and opens.
    fn session_id(&self) -> Option<String> {
        if let Some(known) = self.lock().session.clone() {
            return known;
        }
        let name = self.sealer.session_id_cookie();
        let (sealed, duplicated) = {
            let state = self.lock();
            (
                state.incoming.get(&name).cloned(),
                state.duplicated.contains(&name),
            )
        };
        let id = match sealed {
            _ if duplicated => None,
            None => None,
            Some(sealed) => match self.sealer.open::<String>(&name, &sealed) {
                Ok(id) => Some(id),
                Err(OpenError::Expired) => None,
                Err(e) => {
                    tracing::warn!(cookie = name, error = %e, "sealed cookie refused");
                    None
                }
            },
        };
        self.lock().session = Some(id.clone());
        id
    }

    /// The jar's session id, a new one (and its cookie) when it has none; its cookie is
    /// sealed again once per request that writes, so that it lives as long as the entries.
    fn session_id_for_writing(&self) -> Result<String, Error> {
        let id = match self.session_id() {
            Some(id) => id,
            None => {
                let id = new_session_id()?;
                self.lock().session = Some(Some(id.clone()));
                id
            }
        };
        let name = self.sealer.session_id_cookie();
        if !matches!(self.lock().changes.get(&name), Some(Some(_))) {
            let sealed = self.sealer.seal(&name, &id)?;
            self.lock().changes.insert(name, Some(sealed));
        }
        Ok(id)
    }

    /// The value of cookie `name`, or `None` when absent, sent twice, expired, tampered
    /// with, sealed for another session or under an unknown key (all but expiry are
    /// logged).
    pub fn get<T: DeserializeOwned>(&self, name: &str) -> Option<T> {
        self.opened(name, |sealer, session, sealed| {
            sealer.open_for(name, Some(session), sealed)
        })
    }

    /// The JSON text of cookie `name`, unparsed; `None` as for [`get`](Self::get).
    pub fn get_json(&self, name: &str) -> Option<String> {
        self.opened(name, |sealer, session, sealed| {
            sealer.open_json_for(name, Some(session), sealed)
        })
    }

    fn opened<R>(
        &self,
        name: &str,
        open: impl FnOnce(&CookieSealer, &str, &str) -> Result<R, OpenError>,
    ) -> Option<R> {
        if name == self.sealer.session_id_cookie() {
            return None;
        }
        let sealed = {
            let state = self.lock();
            match state.changes.get(name) {
                Some(change) => change.clone(),
                None if state.duplicated.contains(name) => None,
                None => state.incoming.get(name).cloned(),
            }
        }?;
        let Some(session) = self.session_id() else {
            tracing::warn!(
                cookie = name,
                "sealed cookie without the jar's session id (planted?): ignored"
            );
            return None;
        };
        match open(&self.sealer, &session, &sealed) {
            Ok(value) => Some(value),
            Err(OpenError::Expired) => None,
            Err(e) => {
                tracing::warn!(cookie = name, error = %e, "sealed cookie refused (another session's?)");
                None
            }
        }
    }

    /// Sets cookie `name` (which must start with the sealer's prefix).
    pub fn set<T: Serialize>(&self, name: &str, value: &T) -> Result<(), Error> {
        self.sealer.check_name(name)?;
        let session = self.session_id_for_writing()?;
        let sealed = self.sealer.seal_for(name, Some(&session), value)?;
        self.lock().changes.insert(name.to_owned(), Some(sealed));
        Ok(())
    }

    /// Sets cookie `name` to JSON text, sealed without parsing it again.
    pub fn set_json(&self, name: &str, json: &str) -> Result<(), Error> {
        self.sealer.check_name(name)?;
        let session = self.session_id_for_writing()?;
        let sealed = self.sealer.seal_json_for(name, Some(&session), json)?;
        self.lock().changes.insert(name.to_owned(), Some(sealed));
        Ok(())
    }

    /// Removes cookie `name`.
    pub fn remove_cookie(&self, name: &str) {
        self.lock().changes.insert(name.to_owned(), None);
    }

    /// Whether the request carried cookie `name` (readable or not, once or more).
    pub fn arrived(&self, name: &str) -> bool {
        let state = self.lock();
        state.incoming.contains_key(name) || state.duplicated.contains(name)
    }

    /// Names of the managed cookies present after the changes so far (the session id's
    /// among them; not those sent twice).
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

    /// Removes every managed cookie, the session id's too: what is set next starts a new
    /// session.
    pub fn remove_all(&self) {
        let mut state = self.lock();
        let names: Vec<String> = state
            .incoming
            .keys()
            .chain(state.duplicated.iter())
            .cloned()
            .collect();
        for name in names {
            state.changes.insert(name, None);
        }
        for change in state.changes.values_mut() {
            *change = None;
        }
        state.session = Some(None);
    }

    /// Gives the jar a new session id and seals every entry again under it, with fresh
    /// nonces, the current key and a new expiry: after a login, nothing the browser held
    /// before stays valid as it was (the sealed-cookie counterpart of a new session id).
    /// Entries that cannot be opened, or were sent twice, are removed.
    pub fn reseal(&self) -> Result<(), Error> {
        let session_cookie = self.sealer.session_id_cookie();
        let names: BTreeSet<String> = {
            let state = self.lock();
            state
                .incoming
                .keys()
                .chain(state.duplicated.iter())
                .chain(state.changes.keys())
                .filter(|name| **name != session_cookie)
                .cloned()
                .collect()
        };
        let entries: Vec<(String, Option<String>)> = names
            .into_iter()
            .map(|name| {
                let json = self.get_json(&name);
                (name, json)
            })
            .collect();
        {
            let mut state = self.lock();
            state.session = Some(Some(new_session_id()?));
            state.changes.remove(&session_cookie);
        }
        if self.arrived(&session_cookie) || entries.iter().any(|(_, json)| json.is_some()) {
            self.session_id_for_writing()?;
        }
        for (name, json) in entries {
            match json {
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
            .filter(|(name, value)| {
                value.is_some()
                    || state.incoming.contains_key(*name)
                    || state.duplicated.contains(*name)
            })
            .map(|(name, value)| self.sealer.set_cookie(name, value.as_deref()))
            .collect()
    }
}

/// Entries as cookies: see [`CookieSealer::cookie_name`]. The entry's JSON is sealed as it
/// is: not as a JSON string holding it (which would escape every quote and waste cookie
/// bytes), and not parsed on the way in or out (the caller parses it once).
impl Session for SealedCookies {
    async fn get(&self, key: &str) -> Result<Option<String>, Error> {
        Ok(self.get_json(&self.sealer.cookie_name(key)?))
    }

    async fn insert(&self, key: &str, json: String) -> Result<(), Error> {
        self.set_json(&self.sealer.cookie_name(key)?, &json)
    }

    async fn remove(&self, key: &str) -> Result<(), Error> {
        self.remove_cookie(&self.sealer.cookie_name(key)?);
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
        let state = self.lock();
        !state.incoming.is_empty() || !state.duplicated.is_empty()
    }

    fn records_owners(&self) -> bool {
        self.sealer.revocation_list().is_some()
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

    /// The `Cookie` header a browser sends after these `Set-Cookie` values (removals left
    /// out), in front of what `before` held.
    fn browser_after(before: &str, sent: &[String]) -> String {
        let mut jar: BTreeMap<String, String> = before
            .split("; ")
            .filter_map(|p| p.split_once('='))
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect();
        for header in sent {
            let (name, rest) = header.split_once('=').unwrap();
            let value = rest.split(';').next().unwrap();
            if header.contains("Max-Age=0") {
                jar.remove(name);
            } else {
                jar.insert(name.to_owned(), value.to_owned());
            }
        }
        jar.iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// A browser's cookies after one request that sets these entries in a fresh jar.
    async fn session_with(sealer: &Arc<CookieSealer>, entries: &[(&str, &str)]) -> String {
        let jar = SealedCookies::from_cookie_headers(sealer.clone(), []);
        for (key, json) in entries {
            Session::insert(&jar, key, (*json).to_owned())
                .await
                .unwrap();
        }
        browser_after("", &jar.set_cookie_headers())
    }

    fn cookie_value<'a>(cookies: &'a str, name: &str) -> &'a str {
        cookies
            .split("; ")
            .find_map(|p| p.strip_prefix(name)?.strip_prefix('='))
            .unwrap_or_else(|| panic!("no {name} in {cookies}"))
    }

    async fn entry(sealer: &Arc<CookieSealer>, cookies: &str, key: &str) -> Option<String> {
        let jar = SealedCookies::from_cookie_headers(sealer.clone(), [cookies]);
        Session::get(&jar, key).await.unwrap()
    }

    #[tokio::test]
    async fn entries_are_sealed_as_the_json_they_are() {
        let sealer = Arc::new(CookieSealer::new(keys("k1", 1)).secure(false));
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
        let cookies = browser_after("", &jar.set_cookie_headers());
        let session: String = sealer
            .open("fa_sid", cookie_value(&cookies, "fa_sid"))
            .unwrap();
        let opened: serde_json::Value = sealer
            .open_for(
                "fa_pending",
                Some(&session),
                cookie_value(&cookies, "fa_pending"),
            )
            .unwrap();
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
        let plain = CookieSealer::new(keys("k1", 1)).secure(false);
        assert_eq!(
            plain.cookie_name("ferroauth.pending").unwrap(),
            "fa_pending"
        );
        assert_eq!(
            plain.cookie_name("ferroauth.token.git-hub").unwrap(),
            "fa_token_git-hub"
        );
        assert_eq!(plain.cookie_name("cart").unwrap(), "fa_app_cart");
        assert_eq!(plain.cookie_name("sid").unwrap(), "fa_app_sid");
        assert!(
            plain.cookie_name("ferroauth.sid").is_err(),
            "the session id's"
        );
        assert!(plain.cookie_name("a b").is_err());
        assert!(plain.cookie_name("").is_err());
    }

    #[test]
    fn https_names_cannot_be_planted_by_a_sibling_host() {
        let https = CookieSealer::new(keys("k1", 1));
        assert_eq!(
            https.cookie_name("ferroauth.accounts").unwrap(),
            "__Host-fa_accounts"
        );
        assert_eq!(https.session_id_cookie(), "__Host-fa_sid");
        // What browsers require of a __Host- cookie.
        let set = https.set_cookie("__Host-fa_accounts", Some("v"));
        for attribute in ["Secure", "Path=/"] {
            assert!(set.contains(attribute), "{attribute}: {set}");
        }
        assert!(!set.contains("Domain"), "{set}");
        let own = CookieSealer::new(keys("k1", 1))
            .cookie_prefix("__Host-shop_")
            .unwrap();
        assert_eq!(own.cookie_name("cart").unwrap(), "__Host-shop_app_cart");
        let error = CookieSealer::new(keys("k1", 1))
            .secure(false)
            .cookie_prefix("__Host-shop_")
            .unwrap_err();
        assert_eq!(error.code(), "invalid_settings");
        // The jar neither reads nor writes another prefix's cookies.
        let jar = SealedCookies::from_cookie_headers(Arc::new(https), ["fa_accounts=x"]);
        assert!(!jar.arrived("fa_accounts"));
        assert!(jar.set("fa_accounts", &1).is_err());
    }

    #[tokio::test]
    async fn an_entry_of_another_session_does_not_open() {
        let sealer = Arc::new(CookieSealer::new(keys("k1", 1)).secure(false));
        let victim = session_with(&sealer, &[("ferroauth.pending", "[1]")]).await;
        let attacker = session_with(
            &sealer,
            &[
                ("ferroauth.accounts", r#"{"dev":{"sub":"mallory"}}"#),
                ("ferroauth.token.dev", r#"{"t":"mallory's"}"#),
            ],
        )
        .await;
        assert!(
            entry(&sealer, &attacker, "ferroauth.accounts")
                .await
                .is_some()
        );
        // The attacker's entries beside the victim's own session: absent.
        let planted = format!(
            "{victim}; fa_accounts={}; fa_token_dev={}",
            cookie_value(&attacker, "fa_accounts"),
            cookie_value(&attacker, "fa_token_dev")
        );
        assert_eq!(
            entry(&sealer, &planted, "ferroauth.pending")
                .await
                .as_deref(),
            Some("[1]")
        );
        assert_eq!(entry(&sealer, &planted, "ferroauth.accounts").await, None);
        assert_eq!(entry(&sealer, &planted, "ferroauth.token.dev").await, None);
        // Without any session id: absent too.
        let alone = format!("fa_accounts={}", cookie_value(&attacker, "fa_accounts"));
        assert_eq!(entry(&sealer, &alone, "ferroauth.accounts").await, None);
        // Writing into the victim's jar keeps the victim's id: the planted entries stay
        // shut, the victim's open.
        let jar = SealedCookies::from_cookie_headers(sealer.clone(), [planted.as_str()]);
        Session::insert(&jar, "cart", "2".into()).await.unwrap();
        let after = browser_after(&planted, &jar.set_cookie_headers());
        assert_eq!(entry(&sealer, &after, "cart").await.as_deref(), Some("2"));
        assert_eq!(
            entry(&sealer, &after, "ferroauth.pending").await.as_deref(),
            Some("[1]")
        );
        assert_eq!(entry(&sealer, &after, "ferroauth.accounts").await, None);
    }

    #[tokio::test]
    async fn a_name_sent_twice_reads_as_absent() {
        let sealer = Arc::new(CookieSealer::new(keys("k1", 1)).secure(false));
        let victim = session_with(&sealer, &[("ferroauth.accounts", "[\"victim\"]")]).await;
        let accounts = cookie_value(&victim, "fa_accounts");
        // Even two copies of the very same valid value: one of them was planted.
        for planted in [
            format!("fa_accounts={accounts}; {victim}"),
            format!("{victim}; fa_accounts=junk"),
        ] {
            let jar = SealedCookies::from_cookie_headers(sealer.clone(), [planted.as_str()]);
            assert!(jar.arrived("fa_accounts") && Session::is_present(&jar));
            assert_eq!(jar.get_json("fa_accounts"), None, "{planted}");
            assert!(!jar.names().contains(&"fa_accounts".to_owned()));
        }
        // A duplicated session id: every entry is absent.
        let sid = format!("{victim}; fa_sid={}", cookie_value(&victim, "fa_sid"));
        assert_eq!(entry(&sealer, &sid, "ferroauth.accounts").await, None);
        // Across two Cookie headers as well.
        let jar = SealedCookies::from_cookie_headers(
            sealer.clone(),
            [victim.as_str(), &format!("fa_accounts={accounts}")],
        );
        assert_eq!(jar.get_json("fa_accounts"), None);
        // A logout removes the duplicated cookie too (the copy this host set).
        jar.remove_all();
        let sent = jar.set_cookie_headers();
        assert!(
            sent.iter()
                .any(|h| h.starts_with("fa_accounts=;") && h.contains("Max-Age=0")),
            "{sent:?}"
        );
    }

    #[tokio::test]
    async fn renew_picks_a_new_session_id_and_seals_again() {
        let sealer = Arc::new(CookieSealer::new(keys("k1", 1)).secure(false));
        let before = session_with(&sealer, &[("ferroauth.pending", "[1]"), ("cart", "3")]).await;
        let jar = SealedCookies::from_cookie_headers(sealer.clone(), [before.as_str()]);
        Session::insert(&jar, "ferroauth.accounts", "{}".into())
            .await
            .unwrap();
        Session::renew(&jar).await.unwrap();
        let after = browser_after(&before, &jar.set_cookie_headers());
        for name in ["fa_sid", "fa_pending", "fa_app_cart"] {
            assert_ne!(
                cookie_value(&before, name).get(..20),
                cookie_value(&after, name).get(..20),
                "{name} sealed again"
            );
        }
        assert_eq!(
            entry(&sealer, &after, "ferroauth.pending").await.as_deref(),
            Some("[1]")
        );
        assert_eq!(entry(&sealer, &after, "cart").await.as_deref(), Some("3"));
        assert_eq!(
            entry(&sealer, &after, "ferroauth.accounts")
                .await
                .as_deref(),
            Some("{}")
        );
        let old_id: String = sealer
            .open("fa_sid", cookie_value(&before, "fa_sid"))
            .unwrap();
        let new_id: String = sealer
            .open("fa_sid", cookie_value(&after, "fa_sid"))
            .unwrap();
        assert_ne!(old_id, new_id);
        // An entry from before the login no longer opens beside the new id.
        let stale = format!(
            "fa_sid={}; fa_pending={}",
            cookie_value(&after, "fa_sid"),
            cookie_value(&before, "fa_pending")
        );
        assert_eq!(entry(&sealer, &stale, "ferroauth.pending").await, None);
        // A logout drops the id with the entries; what comes next is a new session.
        let jar = SealedCookies::from_cookie_headers(sealer.clone(), [after.as_str()]);
        Session::clear(&jar).await.unwrap();
        Session::insert(&jar, "cart", "4".into()).await.unwrap();
        let next = browser_after(&after, &jar.set_cookie_headers());
        assert!(!next.contains("fa_pending="), "{next}");
        let next_id: String = sealer
            .open("fa_sid", cookie_value(&next, "fa_sid"))
            .unwrap();
        assert_ne!(next_id, new_id);
        assert_eq!(entry(&sealer, &next, "cart").await.as_deref(), Some("4"));
    }

    #[tokio::test]
    async fn rotation_opens_and_renews_old_key_cookies() {
        let old = Arc::new(CookieSealer::new(keys("old", 1)).secure(false));
        let rotated = Arc::new(
            CookieSealer::new(keys("new", 2).with_old_key("old", &[1; 32]).unwrap()).secure(false),
        );
        let before = session_with(&old, &[("ferroauth.accounts", "[\"kept\"]")]).await;
        let cookie = format!("{before}; fa_b=junk; other=1");
        let jar = SealedCookies::from_cookie_headers(rotated.clone(), [cookie.as_str()]);
        assert!(jar.arrived("fa_accounts") && jar.arrived("fa_b") && !jar.arrived("other"));
        assert_eq!(jar.get_json("fa_accounts").as_deref(), Some("[\"kept\"]"));
        jar.reseal().unwrap();
        let sent = jar.set_cookie_headers();
        for name in ["fa_sid", "fa_accounts"] {
            let header = sent
                .iter()
                .find(|h| h.starts_with(&format!("{name}=")))
                .unwrap_or_else(|| panic!("{name} sealed again: {sent:?}"));
            assert!(
                header.starts_with(&format!("{name}=new.")),
                "under the current key: {header}"
            );
            for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
                assert!(header.contains(attribute), "{attribute}: {header}");
            }
        }
        let b = sent
            .iter()
            .find(|h| h.starts_with("fa_b="))
            .expect("the unreadable cookie is removed");
        assert!(b.contains("Max-Age=0"), "{b}");
        let after = browser_after(&cookie, &sent);
        assert_eq!(
            entry(&rotated, &after, "ferroauth.accounts")
                .await
                .as_deref(),
            Some("[\"kept\"]")
        );
        // An instance that no longer lists the old key reads nothing of the old cookies.
        let without_old = Arc::new(CookieSealer::new(keys("new", 2)).secure(false));
        assert_eq!(
            entry(&without_old, &before, "ferroauth.accounts").await,
            None
        );
    }
}
