//! Tokens at rest: the `ferroauth.token.<client>` entries of a server-side session store
//! (Redis, PostgreSQL, SQLite, memory), sealed with AES-256-GCM.
//!
//! A server-side store keeps every session entry in clear. The token entries hold access
//! and refresh tokens, so a dump or backup of the store, a replica, or anyone allowed to
//! read it would otherwise hold every logged-in user's tokens: with a refresh token, API
//! access for as long as the provider lets it live. With a [`TokenSealer`] switched on
//! (`SessionConfig::seal_tokens` in `ferroauth-axum` and `ferroauth-actix`), those entries
//! are sealed under the app's [`CookieKeys`], and what the store holds opens only with
//! them.
//!
//! - **Where**: in [`SessionTokens`](super::SessionTokens), the one path every token of a
//!   session is read and written through; a [`Session`](super::Session) names its sealer
//!   with [`Session::token_sealer`](super::Session::token_sealer).
//! - **Format**: the entry is a JSON string, `"<key id>.<base64url(nonce ‖ ciphertext ‖
//!   tag)>"`, the same sealing as [`super::sealed`]'s cookies (one key handling, fresh
//!   random 96-bit nonce per write). The associated data binds the entry's key
//!   (`ferroauth.token.<client>`) under a label of its own: a sealed token cannot be moved
//!   to another client's entry, and a sealed cookie value is not a sealed token.
//! - **Keys and rotation**: as for cookies. The first key seals, the others still open:
//!   put a new key in front, keep the old one listed at least as long as sessions live,
//!   then remove it. The same keys may seal cookies and tokens (the labels keep the two
//!   apart).
//! - **Refused entries**: an entry under an unknown key, or one that fails authentication
//!   (changed, or moved from another entry), counts as absent, and is logged: the user
//!   logs in again; never a panic, never a 5xx.
//! - **Tokens stored in clear before sealing was switched on**: counted as absent, logged,
//!   and removed from the session at once. Accepting them would keep a readable token in
//!   the store (the leak this module closes) for as long as the session lives, and would
//!   let anyone able to write the store plant a token of their choice in any session,
//!   which sealing otherwise stops. The cost is one new login per user logged in at the
//!   switch. (A database may keep the old bytes in freed pages or old backups until they
//!   are overwritten: providers' token revocation, or the tokens' own expiry, ends those.)
//!   The other way round, a sealed entry read without keys (sealing switched off
//!   again) is absent and left in place, so that switching back on still reads it.
//!
//! What it protects against: a leak of the store's contents (a dump, a backup, a replica,
//! a read-only credential, a `MONITOR` session): those hold no usable token. What it does
//! not: an attacker with the app's keys, or running code in the app, opens every token as
//! the app does; one who can *write* the store can still copy a whole session record (or
//! its sealed token entry) into another session, as with any stolen session id. The rest
//! of the session stays in clear: the logged-in accounts' claims (personal data, not
//! credentials) and the pending logins (single-use, minutes-long PKCE verifiers and
//! states).

use std::sync::Arc;

use super::sealed::{CookieKeys, OpenError};
use crate::Error;

/// The label of the associated data, in front of the entry key: keeps sealed tokens apart
/// from sealed cookies under the same keys.
const AAD_PREFIX: &str = "ferroauth sealed token v1 ";

/// Seals and opens the token entries of a server-side session under [`CookieKeys`]: see
/// the [module docs](self). Cheap to clone (the keys are shared).
#[derive(Debug, Clone)]
pub struct TokenSealer {
    keys: Arc<CookieKeys>,
}

impl From<CookieKeys> for TokenSealer {
    fn from(keys: CookieKeys) -> Self {
        Self::new(keys)
    }
}

impl TokenSealer {
    /// A sealer with these keys: the first seals, all open.
    pub fn new(keys: CookieKeys) -> Self {
        Self {
            keys: Arc::new(keys),
        }
    }

    /// The id of the key that seals.
    pub fn current_id(&self) -> &str {
        self.keys.current_id()
    }

    /// The stored text of the entry `entry` holding `json`: a JSON string of the sealed
    /// value, bound to `entry`.
    pub fn seal(&self, entry: &str, json: &str) -> Result<String, Error> {
        let sealed = self
            .keys
            .seal_bytes(aad(entry).as_bytes(), json.as_bytes().to_vec())?;
        // Key ids and base64url need no JSON escaping.
        Ok(format!("\"{sealed}\""))
    }

    /// The JSON that [`seal`](Self::seal) sealed into the stored text of `entry`.
    pub fn open(&self, entry: &str, stored: &str) -> Result<String, OpenError> {
        let sealed = sealed_value(stored).ok_or(OpenError::Malformed)?;
        let plain = self.keys.open_bytes(aad(entry).as_bytes(), sealed)?;
        String::from_utf8(plain).map_err(|_| OpenError::Tampered)
    }
}

/// The sealed value inside a stored entry: a sealed token is a JSON string (a token in
/// clear is a JSON object).
fn sealed_value(stored: &str) -> Option<&str> {
    stored.strip_prefix('"')?.strip_suffix('"')
}

fn aad(entry: &str) -> String {
    format!("{AAD_PREFIX}{entry}")
}

/// What a stored token entry gives: its JSON, or nothing (and whether to remove it).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Opened {
    /// The token's JSON.
    Json(String),
    /// No usable token; `remove` when the entry must go (a token in clear while sealing).
    Absent {
        /// Remove the entry from the session.
        remove: bool,
    },
}

/// The token JSON of the stored entry `entry`, with `sealer` when sealing is on.
pub(crate) fn open_entry(sealer: Option<&TokenSealer>, entry: &str, stored: String) -> Opened {
    let sealed = stored.starts_with('"');
    match (sealer, sealed) {
        (None, false) => Opened::Json(stored),
        (Some(sealer), true) => match sealer.open(entry, &stored) {
            Ok(json) => Opened::Json(json),
            Err(e) => {
                tracing::warn!(entry, error = %e, "sealed token entry refused; counted as absent");
                Opened::Absent { remove: false }
            }
        },
        (Some(_), false) => {
            tracing::warn!(
                entry,
                "token entry stored in clear before tokens were sealed; removed (log in again)"
            );
            Opened::Absent { remove: true }
        }
        (None, true) => {
            tracing::warn!(
                entry,
                "sealed token entry but no keys to open it (SessionConfig::seal_tokens); counted as absent"
            );
            Opened::Absent { remove: false }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::sealed::CookieSealer;

    fn sealer() -> TokenSealer {
        TokenSealer::new(CookieKeys::new("k1", &[1; 32]).unwrap())
    }

    #[test]
    fn a_sealed_cookie_is_not_a_sealed_token() {
        // Same keys, same name: the labels of the associated data differ.
        let cookies = CookieSealer::new(CookieKeys::new("k1", &[1; 32]).unwrap());
        let cookie = cookies.seal_json("ferroauth.token.github", "{}").unwrap();
        assert_eq!(
            sealer().open("ferroauth.token.github", &format!("\"{cookie}\"")),
            Err(OpenError::Tampered)
        );
        let token = sealer().seal("ferroauth.token.github", "{}").unwrap();
        assert_eq!(
            sealer().open("ferroauth.token.github", &token).as_deref(),
            Ok("{}")
        );
    }

    #[test]
    fn entries_open_by_what_they_are() {
        let s = sealer();
        let entry = "ferroauth.token.github";
        let sealed = s.seal(entry, r#"{"protocol":"oauth2"}"#).unwrap();
        let open = |sealer: Option<&TokenSealer>, stored: &str| {
            open_entry(sealer, entry, stored.to_owned())
        };
        assert_eq!(
            open(Some(&s), &sealed),
            Opened::Json(r#"{"protocol":"oauth2"}"#.into())
        );
        assert_eq!(open(Some(&s), "{}"), Opened::Absent { remove: true });
        assert_eq!(open(None, &sealed), Opened::Absent { remove: false });
        assert_eq!(open(None, "{}"), Opened::Json("{}".into()));
        assert_eq!(open(Some(&s), "\""), Opened::Absent { remove: false });
        assert!(!format!("{s:?}").contains("[1, 1"), "no key bytes in Debug");
    }
}
