//! The login route's query, checked: [`LoginQuery::parse`].
//!
//! Everything in `GET /login/{name}?…` comes from whoever made the link, so each value the
//! route uses is checked here, before any of it reaches the provider or the session. A bad
//! value is the browser's mistake — [`Error::InvalidRequest`], 400 `invalid_request`
//! naming the parameter — never a 500 that would page the app's operators. Parameters the
//! route does not use are ignored, as before.

use crate::Error;
use crate::web::same_origin_path;

/// Authorization parameters a browser may pass through `/login/{name}?...`.
pub const PASSTHROUGH_PARAMS: &[&str] = &["prompt", "login_hint", "max_age", "ui_locales"];

/// OpenID Connect Core §3.1.2.1's `prompt` values, and `create` (Initiating User
/// Registration 1.0).
const PROMPT_VALUES: &[&str] = &["none", "login", "consent", "select_account", "create"];

/// Longest `login_hint` / `ui_locales` accepted (an e-mail address fits many times).
const MAX_HINT_CHARS: usize = 256;

/// The parts of a login route's query that the route uses, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoginQuery {
    /// The pass-through authorization parameters ([`PASSTHROUGH_PARAMS`]), in order.
    pub params: Vec<(&'static str, String)>,
    /// Where the user goes after the login: a path of this app.
    pub next: Option<String>,
    /// The server to log in with, for a fediverse client (`instance=mastodon.social`);
    /// bounded here, checked by [`crate::registration::instance_host`] when the client
    /// uses it, ignored by other clients.
    pub instance: Option<String>,
}

impl LoginQuery {
    /// Parses and checks `query` (without its `?`).
    pub fn parse(query: &str) -> Result<Self, Error> {
        let mut parsed = Self::default();
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            if key == "next" {
                if parsed.next.is_some() {
                    return Err(invalid("next", "is given twice"));
                }
                let path = same_origin_path(&value)
                    .ok_or_else(|| invalid("next", "must be a path of this app"))?;
                parsed.next = Some(path.to_owned());
                continue;
            }
            if key == crate::registration::INSTANCE_PARAM {
                if parsed.instance.is_some() {
                    return Err(invalid("instance", "is given twice"));
                }
                if value.len() > MAX_HINT_CHARS || value.chars().any(char::is_control) {
                    return Err(invalid("instance", "must be a server's host name"));
                }
                parsed.instance = Some(value.into_owned());
                continue;
            }
            let Some(name) = PASSTHROUGH_PARAMS.iter().copied().find(|p| *p == key) else {
                continue;
            };
            if parsed.params.iter().any(|(n, _)| *n == name) {
                return Err(invalid(name, "is given twice"));
            }
            check(name, &value)?;
            parsed.params.push((name, value.into_owned()));
        }
        Ok(parsed)
    }

    /// A `max_age` value as the login route accepts it (1 to 10 digits), in seconds; else
    /// a 400 `invalid_request` naming `max_age`.
    pub fn max_age(value: &str) -> Result<u64, Error> {
        check("max_age", value)?;
        value
            .parse()
            .map_err(|_| invalid("max_age", "must be a number of seconds"))
    }

    /// The pass-through parameters as the client's `authorize_redirect_with` takes them.
    pub fn authorize_params(&self) -> Vec<(&str, &str)> {
        self.params.iter().map(|(k, v)| (*k, v.as_str())).collect()
    }
}

fn check(name: &'static str, value: &str) -> Result<(), Error> {
    match name {
        "max_age" => {
            let ok = (1..=10).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit());
            ok.then_some(())
                .ok_or_else(|| invalid(name, "must be a number of seconds"))
        }
        "prompt" => {
            let values: Vec<&str> = value.split(' ').collect();
            if values.iter().any(|v| !PROMPT_VALUES.contains(v)) {
                return Err(invalid(
                    name,
                    "must be none, login, consent, select_account or create, separated by spaces",
                ));
            }
            if values.len() > 1 && values.contains(&"none") {
                return Err(invalid(name, "none cannot be combined with other values"));
            }
            Ok(())
        }
        "ui_locales" => {
            let tag_ok = |t: &str| {
                (1..=35).contains(&t.len())
                    && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            };
            let ok = value.chars().count() <= MAX_HINT_CHARS && value.split(' ').all(tag_ok);
            ok.then_some(())
                .ok_or_else(|| invalid(name, "must be language tags separated by spaces"))
        }
        _ => {
            // login_hint: free text a provider shows or matches; bounded, no control characters.
            let ok = !value.is_empty()
                && value.chars().count() <= MAX_HINT_CHARS
                && !value.chars().any(char::is_control);
            ok.then_some(())
                .ok_or_else(|| invalid(name, "must be 1 to 256 printable characters"))
        }
    }
}

fn invalid(parameter: &'static str, reason: &'static str) -> Error {
    Error::InvalidRequest { parameter, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(query: &str) -> String {
        match LoginQuery::parse(query) {
            Err(Error::InvalidRequest { parameter, .. }) => parameter.to_owned(),
            other => panic!("{query:?} gave {other:?}"),
        }
    }

    #[test]
    fn good_values_pass_through() {
        let q = LoginQuery::parse(
            "prompt=login%20consent&max_age=300&login_hint=alice%40example.com&ui_locales=fr-CA%20en&next=%2Faccount%3Ftab%3D2&instance=mastodon.social&other=ignored",
        )
        .unwrap();
        assert_eq!(
            q.authorize_params(),
            [
                ("prompt", "login consent"),
                ("max_age", "300"),
                ("login_hint", "alice@example.com"),
                ("ui_locales", "fr-CA en"),
            ]
        );
        assert_eq!(q.next.as_deref(), Some("/account?tab=2"));
        // Not an authorization parameter: only a fediverse client reads it.
        assert_eq!(q.instance.as_deref(), Some("mastodon.social"));
        assert_eq!(LoginQuery::parse("").unwrap(), LoginQuery::default());
    }

    #[test]
    fn each_bad_value_names_its_parameter() {
        for (query, parameter) in [
            ("max_age=abc", "max_age"),
            ("max_age=-1", "max_age"),
            ("max_age=", "max_age"),
            ("max_age=99999999999", "max_age"),
            ("max_age=1&max_age=2", "max_age"),
            ("prompt=always", "prompt"),
            ("prompt=none%20login", "prompt"),
            ("prompt=", "prompt"),
            ("login_hint=a%0d%0ab", "login_hint"),
            ("login_hint=", "login_hint"),
            ("ui_locales=fr%3Bx", "ui_locales"),
            ("next=https%3A%2F%2Fevil.example", "next"),
            ("next=%2F%2Fevil.example", "next"),
            ("next=%2Fa&next=%2Fb", "next"),
            ("instance=a.social&instance=b.social", "instance"),
            ("instance=a.social%0a", "instance"),
        ] {
            assert_eq!(refused(query), parameter, "{query}");
        }
        let long = format!("login_hint={}", "a".repeat(MAX_HINT_CHARS + 1));
        assert_eq!(refused(&long), "login_hint");
    }
}
