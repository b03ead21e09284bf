//! Protected routes: [`LoginRequired`], the rule both adapters' extractors and layers
//! check, and the answer to a request that does not meet it.
//!
//! | the request | HTML | JSON (`Accept: application/json`) |
//! |---|---|---|
//! | no login that counts | 303 to the login route, `next` = the requested path | 401 `{"error": "login_required"}` |
//! | a login older than `max_age` | 303 to that provider's login route with `max_age` and `next` | 401 `{"error": "login_too_old"}` |
//!
//! The login route is `<prefix>/login/{name}` when one provider counts, else the chooser
//! `<prefix>/login` ([`super::routes::choose_login`]). `next` is only ever a path of this
//! app ([`super::same_origin_path`]): a request for `//evil.example` gets no `next`, not an
//! open redirect.
//!
//! # A fresh login
//!
//! A login's age is counted from when the user authenticated: the ID token's `auth_time`
//! when the provider gave one, else the time of the login ([`crate::session::SignedIn`]).
//! A stale login is sent back through the provider with `max_age`: an OpenID Connect
//! provider must then authenticate the user again, or the callback refuses its ID token
//! (`auth_time` is checked against the `max_age` the login asked for,
//! `auth_too_old`). A plain OAuth 2.0 or 1.0a provider has no such promise: its own session
//! may let the user through without asking again, so `max_age` proves a fresh
//! authentication only with OpenID Connect.

use std::borrow::Cow;

use super::routes::Answer;
use super::{Failure, same_origin_path};
use crate::Error;
use crate::session::{self, Session, SignedIn};

/// Which logins let a request through: see the [module docs](self).
///
/// ```
/// use ferroauth::web::guard::LoginRequired;
///
/// // Any provider, any age, the login routes at the root.
/// let any = LoginRequired::new();
/// // Settings pages: a GitHub login of the last five minutes; routes under `/auth`.
/// let sensitive = LoginRequired::new().provider("github").max_age(300).login_routes("/auth");
/// # let _ = (any, sensitive);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoginRequired {
    providers: Vec<String>,
    max_age: Option<u64>,
    prefix: String,
}

impl LoginRequired {
    /// A login with any provider, of any age, the login routes mounted at the root.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts logins with client `name` (each call adds one; none means any client).
    pub fn provider(mut self, name: &str) -> Self {
        self.providers.push(name.to_owned());
        self
    }

    /// Lets through only a login whose user authenticated at most `seconds` ago.
    pub fn max_age(mut self, seconds: u64) -> Self {
        self.max_age = Some(seconds);
        self
    }

    /// Where the login routes are mounted (`/auth` for `nest("/auth", ...)`; the root by
    /// default).
    pub fn login_routes(mut self, prefix: &str) -> Self {
        self.prefix = prefix.trim_end_matches('/').to_owned();
        self
    }

    /// Whether `session` meets the rule now: who it is logged in as, or
    /// [`Error::LoginRequired`] / [`Error::LoginTooOld`] (or the session's own error).
    pub async fn check(&self, session: &impl Session) -> Result<SignedIn, Error> {
        self.check_at(session::signed_in(session).await?, crate::random::now())
    }

    /// [`Self::check`] of what a session holds, at `now` (Unix seconds).
    pub fn check_at(&self, signed: SignedIn, now: u64) -> Result<SignedIn, Error> {
        let counts =
            |client: &str| self.providers.is_empty() || self.providers.iter().any(|p| p == client);
        let mut logins = signed.at.iter().filter(|(client, _)| counts(client));
        let Some(first) = logins.next() else {
            return Err(Error::LoginRequired(
                "no login with a provider this page accepts",
            ));
        };
        let Some(max_age) = self.max_age else {
            return Ok(signed);
        };
        let fresh = |at: &u64| now.saturating_sub(*at) <= max_age;
        if std::iter::once(first)
            .chain(logins)
            .any(|(_, at)| fresh(at))
        {
            return Ok(signed);
        }
        Err(Error::LoginTooOld {
            client: first.0.clone(),
            max_age,
        })
    }

    /// The answer to a request for `path_and_query` that `error` (from [`Self::check`])
    /// refused: a redirect to the login for a browser, JSON for a JSON request.
    pub fn answer(&self, error: &Error, path_and_query: &str, json: bool) -> Answer {
        let login = match error {
            Error::LoginRequired(_) => self.login_url(None, path_and_query),
            Error::LoginTooOld { client, max_age } => {
                self.login_url(Some((client, *max_age)), path_and_query)
            }
            other => return Answer::fail(json, &Failure::of(other)),
        };
        if json {
            return Answer::fail(true, &Failure::of(error));
        }
        Answer::SeeOther(Cow::Owned(login))
    }

    /// [`Self::answer`] for the request `req` (its path and query, whether it wants JSON):
    /// what both adapters' extractors and layers send back.
    pub fn refuse<'a, H: Fn(&str) -> Option<&'a str>>(
        &self,
        error: &Error,
        req: &super::routes::RouteRequest<'a, H>,
    ) -> Answer {
        self.answer(error, &req.path_and_query(), req.wants_json())
    }

    /// The login route to send a refused browser to, with `next`.
    fn login_url(&self, stale: Option<(&String, u64)>, path_and_query: &str) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        let route = match (stale, self.providers.as_slice()) {
            (Some((client, max_age)), _) => {
                query.append_pair("max_age", &max_age.to_string());
                format!("{}/login/{}", self.prefix, encode_segment(client))
            }
            (None, [only]) => format!("{}/login/{}", self.prefix, encode_segment(only)),
            (None, _) => format!("{}/login", self.prefix),
        };
        if let Some(next) = same_origin_path(path_and_query) {
            query.append_pair("next", next);
        }
        match query.finish() {
            q if q.is_empty() => route,
            q => format!("{route}?{q}"),
        }
    }
}

/// A client name as one path segment.
fn encode_segment(name: &str) -> String {
    url::form_urlencoded::byte_serialize(name.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(logins: &[(&str, u64)]) -> SignedIn {
        SignedIn {
            user: None,
            at: logins.iter().map(|(c, t)| ((*c).to_owned(), *t)).collect(),
        }
    }

    #[test]
    fn nobody_logged_in_goes_to_the_chooser_or_the_one_provider() {
        let any = LoginRequired::new();
        let e = any.check_at(signed(&[]), 100).unwrap_err();
        assert_eq!(e.code(), "login_required");
        let Answer::SeeOther(to) = any.answer(&e, "/me?tab=2", false) else {
            panic!("a browser is redirected");
        };
        assert_eq!(to, "/login?next=%2Fme%3Ftab%3D2");
        let one = LoginRequired::new().provider("dev").login_routes("/auth/");
        let Answer::SeeOther(to) = one.answer(&e, "/me", false) else {
            panic!("redirected");
        };
        assert_eq!(to, "/auth/login/dev?next=%2Fme");
        let Answer::Body(401, _, body) = any.answer(&e, "/me", true) else {
            panic!("JSON gets 401");
        };
        assert!(body.contains("\"login_required\""), "{body}");
    }

    #[test]
    fn next_is_never_another_host() {
        let e = Error::LoginRequired("none");
        for evil in ["//evil.example/x", "/\\evil.example"] {
            let Answer::SeeOther(to) = LoginRequired::new().answer(&e, evil, false) else {
                panic!("redirected");
            };
            assert_eq!(to, "/login", "{evil}");
        }
    }

    #[test]
    fn only_the_named_providers_count() {
        let github = LoginRequired::new().provider("github");
        assert!(github.check_at(signed(&[("dev", 1)]), 2).is_err());
        assert!(github.check_at(signed(&[("github", 1)]), 2).is_ok());
    }

    #[test]
    fn a_stale_login_goes_back_with_max_age() {
        let rule = LoginRequired::new().max_age(300);
        assert!(rule.check_at(signed(&[("dev", 1_000)]), 1_300).is_ok());
        let e = rule.check_at(signed(&[("dev", 1_000)]), 1_301).unwrap_err();
        assert_eq!(e.code(), "login_too_old");
        assert_eq!(e.kind().http_status(), 401);
        let Answer::SeeOther(to) = rule.answer(&e, "/settings", false) else {
            panic!("redirected");
        };
        assert_eq!(to, "/login/dev?max_age=300&next=%2Fsettings");
        let both = signed(&[("dev", 1_000), ("github", 1_200)]);
        assert!(
            rule.check_at(both, 1_400).is_ok(),
            "one fresh login is enough"
        );
    }

    #[test]
    fn a_session_error_is_not_a_redirect() {
        let e = Error::Session("down".into());
        assert_eq!(LoginRequired::new().answer(&e, "/me", false).status(), 503);
    }
}
