//! The names of the cookies a web integration sets, and what a request's `Cookie` headers
//! may not do: [`CookieNames`], [`without_duplicated_cookie`].
//!
//! **Cookie tossing.** A page on a sibling host (`evil.example.com`, or any subdomain an
//! attacker can serve content from) may set a cookie with `Domain=example.com`, and the
//! browser then sends it to `app.example.com` too, beside (or instead of) the app's own
//! cookie of the same name. The browser's `Cookie` header does not say which host set a
//! cookie, so an app that reads plain names may be handed the attacker's session cookie
//! (the victim is silently logged in as the attacker) or the attacker's sealed entries.
//!
//! The defence browsers offer is the `__Host-` name prefix: a cookie so named is accepted
//! only with `Secure`, `Path=/` and no `Domain` attribute, from a secure origin; no other
//! host can set or overwrite it. So, **behind https (`Secure` cookies) the default names
//! carry the prefix**:
//!
//! | cookie | Secure (https) | plain-http loopback development |
//! |---|---|---|
//! | the server-side session's id | `__Host-id` | `id` |
//! | sealed-cookie entries ([`crate::session::sealed`]) | `__Host-fa_pending`, `__Host-fa_accounts`, ... | `fa_pending`, ... |
//!
//! Plain http keeps unprefixed names, because browsers refuse `__Host-` (and `__Secure-`)
//! cookies without `Secure`; the same reason makes a configured `__Host-` or `__Secure-`
//! name without `Secure` a settings error (`invalid_settings`), not a cookie that silently
//! never comes back. An app may name its cookies itself ([`CookieNames::with_session`],
//! [`CookieNames::with_sealed_prefix`]); behind https it should keep the `__Host-` prefix.
//!
//! **Duplicated names.** A name the request sends twice means two cookies of that name
//! matched (the app's own and one set for a parent domain or a longer path): one of them
//! was planted. Integrations treat such a cookie as absent instead of letting the first
//! copy win: a duplicated session cookie means no session
//! ([`without_duplicated_cookie`]), a duplicated sealed entry reads as absent. Without the
//! `__Host-` prefix this still lets a sibling host log the user out (the planted copy keeps
//! coming back), but not in as someone else.

use crate::Error;
use crate::error::SettingsError;

/// The prefix browsers keep for cookies of exactly one host (`Secure; Path=/`, no `Domain`).
pub const HOST_PREFIX: &str = "__Host-";

/// The prefix browsers keep for cookies set with `Secure` from a secure origin.
pub const SECURE_PREFIX: &str = "__Secure-";

/// The session cookie's name over plain http (tower-sessions' and actix-session's own).
pub const PLAIN_SESSION_COOKIE: &str = "id";

/// The session cookie's name behind https.
pub const HOST_SESSION_COOKIE: &str = "__Host-id";

/// The sealed cookies' name prefix over plain http.
pub const PLAIN_SEALED_PREFIX: &str = "fa_";

/// The sealed cookies' name prefix behind https.
pub const HOST_SEALED_PREFIX: &str = "__Host-fa_";

/// The longest cookie name or sealed-cookie prefix accepted in settings.
const MAX_NAME: usize = 32;

/// The names of an app's session cookies, and whether they are `Secure`: the defaults
/// follow `Secure` (see the [module docs](self)), names set explicitly are checked against
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieNames {
    secure: bool,
    session: Option<String>,
    sealed_prefix: Option<String>,
}

impl CookieNames {
    /// The default names for `Secure` (`__Host-` prefixed) or plain-http cookies.
    pub fn new(secure: bool) -> Self {
        Self {
            secure,
            session: None,
            sealed_prefix: None,
        }
    }

    /// Whether the cookies are `Secure`.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// Whether the cookies are `Secure`. Turning it off forgets explicit names that need
    /// it (`__Host-`, `__Secure-`; logged), since browsers would refuse them: name cookies
    /// after choosing `Secure`.
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        if !secure {
            for (setting, name) in [
                ("session cookie name", &mut self.session),
                ("sealed cookie prefix", &mut self.sealed_prefix),
            ] {
                if name.as_deref().is_some_and(needs_secure) {
                    tracing::warn!(
                        setting,
                        name = name.as_deref(),
                        "cookies are no longer Secure: the prefixed name falls back to the default"
                    );
                    *name = None;
                }
            }
        }
        self
    }

    /// The server-side session cookie's name. A settings error when it is not a cookie
    /// name (RFC 6265 token, at most 32 bytes) or carries `__Host-`/`__Secure-` without
    /// `Secure`.
    pub fn with_session(mut self, name: &str) -> Result<Self, Error> {
        check_name("session_cookie_name", name, self.secure)?;
        self.session = Some(name.to_owned());
        Ok(self)
    }

    /// The prefix of every sealed cookie's name; checked as for
    /// [`with_session`](Self::with_session).
    pub fn with_sealed_prefix(mut self, prefix: &str) -> Result<Self, Error> {
        check_name("sealed_cookie_prefix", prefix, self.secure)?;
        self.sealed_prefix = Some(prefix.to_owned());
        Ok(self)
    }

    /// The session cookie's name: the one set, else `__Host-id` (`Secure`) or `id`.
    pub fn session(&self) -> &str {
        self.session.as_deref().unwrap_or(if self.secure {
            HOST_SESSION_COOKIE
        } else {
            PLAIN_SESSION_COOKIE
        })
    }

    /// The sealed cookies' prefix: the one set, else `__Host-fa_` (`Secure`) or `fa_`.
    pub fn sealed_prefix(&self) -> &str {
        self.sealed_prefix.as_deref().unwrap_or(if self.secure {
            HOST_SEALED_PREFIX
        } else {
            PLAIN_SEALED_PREFIX
        })
    }
}

fn needs_secure(name: &str) -> bool {
    name.starts_with(HOST_PREFIX) || name.starts_with(SECURE_PREFIX)
}

fn check_name(setting: &str, name: &str, secure: bool) -> Result<(), Error> {
    let token = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    let problem = if !token {
        format!(
            "{name:?} is not a cookie name (1-{MAX_NAME} of A-Z a-z 0-9 ! # $ % & ' * + - . ^ _ ` | ~)"
        )
    } else if needs_secure(name) && !secure {
        format!(
            "{name:?} needs Secure cookies (https): browsers refuse {HOST_PREFIX} and \
             {SECURE_PREFIX} cookies without it; use an unprefixed name for plain http"
        )
    } else {
        return Ok(());
    };
    Err(Error::Settings(SettingsError::for_setting(
        setting, problem,
    )))
}

/// The `Cookie` header that replaces a request's when the request sends the cookie `name`
/// more than once: every other cookie, in one value (empty when none is left); `None` when
/// `name` occurs at most once and the headers may stay as they are. Integrations strip a
/// duplicated session cookie this way before their session layer reads it, so that the
/// request has no session rather than possibly the planted one.
pub fn without_duplicated_cookie(headers: &[&str], name: &str) -> Option<String> {
    // The common case, the name seen at most once, costs a substring scan: no parse, no
    // allocation, on every request.
    if name.is_empty()
        || headers
            .iter()
            .map(|h| h.matches(name).count())
            .sum::<usize>()
            < 2
    {
        return None;
    }
    let cookies = || {
        headers
            .iter()
            .flat_map(|h| cookie::Cookie::split_parse(*h).flatten())
    };
    let count = cookies().filter(|c| c.name() == name).count();
    if count < 2 {
        return None;
    }
    tracing::warn!(
        cookie = name,
        count,
        "the session cookie arrived more than once (planted by another host?): no session"
    );
    let rest: Vec<String> = cookies()
        .filter(|c| c.name() != name)
        .map(|c| format!("{}={}", c.name(), c.value()))
        .collect();
    Some(rest.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_secure() {
        let https = CookieNames::new(true);
        assert_eq!(https.session(), "__Host-id");
        assert_eq!(https.sealed_prefix(), "__Host-fa_");
        let http = CookieNames::new(false);
        assert_eq!(http.session(), "id");
        assert_eq!(http.sealed_prefix(), "fa_");
        assert_eq!(https.secure(false), http);
    }

    #[test]
    fn prefixed_names_need_secure() {
        let error = CookieNames::new(false)
            .with_session("__Host-app")
            .unwrap_err();
        assert_eq!(error.code(), "invalid_settings");
        assert!(error.to_string().contains("session_cookie_name"), "{error}");
        let error = CookieNames::new(false)
            .with_sealed_prefix("__Secure-x_")
            .unwrap_err();
        assert_eq!(error.code(), "invalid_settings");
        for bad in ["", "a b", "a;b", "a=b", "é", &"x".repeat(33)] {
            assert!(CookieNames::new(true).with_session(bad).is_err(), "{bad:?}");
        }
        let names = CookieNames::new(true)
            .with_session("__Host-app")
            .unwrap()
            .with_sealed_prefix("__Host-app_")
            .unwrap();
        assert_eq!(
            (names.session(), names.sealed_prefix()),
            ("__Host-app", "__Host-app_")
        );
        // Turning Secure off drops what browsers would refuse, keeps what they take.
        let plain = names.secure(false);
        assert_eq!((plain.session(), plain.sealed_prefix()), ("id", "fa_"));
        let own = CookieNames::new(false).with_session("app").unwrap();
        assert_eq!(own.secure(true).session(), "app");
    }

    #[test]
    fn duplicated_names_are_found() {
        let once = ["id=1; fa_a=x", "other=2"];
        assert_eq!(without_duplicated_cookie(&once, "id"), None);
        assert_eq!(without_duplicated_cookie(&once, "fa_a"), None);
        let twice = ["id=1; fa_a=x; id=2", "fa_a=y; b"];
        assert_eq!(
            without_duplicated_cookie(&twice, "fa_a").as_deref(),
            Some("id=1; id=2")
        );
        assert_eq!(
            without_duplicated_cookie(&twice, "id").as_deref(),
            Some("fa_a=x; fa_a=y")
        );
        assert_eq!(without_duplicated_cookie(&["  ; ;"], "id"), None);
        // A name inside other names is no duplicate; an empty name matches nothing.
        assert_eq!(
            without_duplicated_cookie(&["xid=1; idx=2; a=id"], "id"),
            None
        );
        assert_eq!(without_duplicated_cookie(&["id=1; id=2"], ""), None);
    }

    #[test]
    fn a_duplicated_session_cookie_is_stripped() {
        assert_eq!(without_duplicated_cookie(&["id=1; a=2"], "id"), None);
        assert_eq!(
            without_duplicated_cookie(&["id=1; a=2", "id=3"], "id"),
            Some("a=2".to_owned())
        );
        assert_eq!(
            without_duplicated_cookie(&["id=1; id=3"], "id"),
            Some(String::new())
        );
    }
}
