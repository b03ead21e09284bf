//! What every web-framework integration does the same way, with no framework's types: the
//! ready-made routes, whole ([`routes`]: request view, answers, one function per route)
//! and their steps ([`flows`]), errors as HTTP answers ([`Failure`]), the app's own
//! URL for redirect URIs ([`AppUrl`]), reading a callback's form body
//! ([`callback_from_form`]), and the web layer's defences against hostile browsers, pages
//! and sibling hosts: the login query checked ([`LoginQuery`]), state-changing requests
//! from other sites refused ([`refuse_cross_site`]), relayed API answers unable to script
//! the app ([`relay_headers`]), cookie names a sibling cannot plant ([`crate::cookies`]).
//! The [security chapter](crate::guide::security) of the guide has the threat model they
//! answer.
//!
//! An integration (`ferroauth-axum`, `ferroauth-actix`) only translates: its request to
//! these functions' arguments, their results to its responses, its session to
//! [`crate::session::Session`]. Whatever one integration would otherwise have to copy from
//! another lives here, so that both answer every request alike.

mod api_relay;
mod app_url;
mod cross_site;
mod failure;
pub mod flows;
pub mod guard;
mod login_query;
pub mod logout;
pub mod routes;
mod session_config;

pub use api_relay::{UserApi, relay_headers, relay_status};
pub use app_url::{AppUrl, RedirectUriConfig, RequestOrigin};
pub use cross_site::{FetchHeaders, refuse_cross_site};
pub use failure::{Failure, http_status};
pub use login_query::LoginQuery;
pub use session_config::{DEFAULT_INACTIVITY, SessionConfig};

use crate::form_post::{self, ResubmitPage};
use crate::{CallbackParams, Error};

/// Largest callback body accepted (`form_post`): a code, a state, an `iss` and an ID token
/// fit many times over.
pub const MAX_CALLBACK_BODY: usize = 16 * 1024;

/// Whether a request whose `Accept` header is `accept` asks for JSON: API clients and
/// scripts get JSON answers and errors, browsers pages.
pub fn wants_json(accept: Option<&str>) -> bool {
    accept.is_some_and(|v| v.contains("application/json"))
}

/// `next` when it is a path of this app: one leading `/`, not `//`, no backslash (browsers
/// read `/\` as `//`, another host) and no control characters. Anything else is dropped:
/// no open redirect.
pub fn same_origin_path(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && next.len() <= 2048
        && !next.chars().any(|c| c.is_control() || c == '\\');
    ok.then_some(next)
}

/// Whether the session cookie of an app served at `public_url` must be `Secure`: yes,
/// unless the URL is plain http on a loopback host (`localhost`, `127.0.0.0/8`, `[::1]`),
/// where browsers would refuse or not need it during development. Plain http anywhere else
/// keeps `Secure`: an app that really serves logins over plain http must say so itself.
pub fn secure_cookies_for(public_url: &str) -> Result<bool, Error> {
    let url = url::Url::parse(public_url)
        .map_err(|e| bad_public_url(format!("{public_url:?} is not a URL: {e}")))?;
    match url.scheme() {
        "https" => Ok(true),
        "http" => Ok(!is_loopback(&url)),
        other => Err(bad_public_url(format!(
            "{public_url:?}: scheme {other:?} is neither http nor https"
        ))),
    }
}

fn bad_public_url(message: String) -> Error {
    Error::Settings(crate::error::SettingsError::for_setting(
        "public_url",
        message,
    ))
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A callback POST's body, read: its parameters, or the page that posts them again from
/// the app's origin when the POST came without the session ([`crate::form_post`]).
#[derive(Debug)]
pub enum CallbackForm {
    /// The callback's parameters.
    Params(CallbackParams),
    /// A cross-site form_post without the session cookie: answer with this page.
    Resubmit(ResubmitPage),
}

/// Reads a callback POST (`response_mode=form_post`): it must be a form of at most
/// [`MAX_CALLBACK_BODY`] bytes of UTF-8. `action` is the request's path and query (where
/// a [`ResubmitPage`] posts to), `session_arrived` whether the request brought the app's
/// session, `json` whether it asked for JSON.
pub fn callback_from_form(
    content_type: Option<&str>,
    body: &[u8],
    session_arrived: bool,
    json: bool,
    action: &str,
) -> Result<CallbackForm, Error> {
    if !content_type.is_some_and(|v| v.starts_with("application/x-www-form-urlencoded")) {
        return Err(Error::InvalidCallback(
            "a POST callback must be a form".into(),
        ));
    }
    if body.len() > MAX_CALLBACK_BODY {
        return Err(Error::InvalidCallback(
            "the callback body is too large".into(),
        ));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| Error::InvalidCallback("the callback body is not UTF-8".into()))?;
    let mut params = CallbackParams::parse(text)?;
    if form_post::needs_resubmit(&mut params, session_arrived, json) {
        return Ok(CallbackForm::Resubmit(ResubmitPage::new(action, &params)?));
    }
    Ok(CallbackForm::Params(params))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

    #[test]
    fn next_must_be_a_path_of_this_app() {
        assert_eq!(same_origin_path("/"), Some("/"));
        assert_eq!(same_origin_path("/account?tab=2"), Some("/account?tab=2"));
        for evil in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "evil",
            "/a\r\nLocation: x",
            "",
        ] {
            assert_eq!(same_origin_path(evil), None, "{evil:?}");
        }
    }

    #[test]
    fn secure_except_for_plain_http_on_loopback() {
        let secure = |url: &str| secure_cookies_for(url).unwrap();
        assert!(secure("https://app.example"));
        assert!(secure("https://localhost:8443"));
        assert!(
            secure("http://app.example"),
            "plain http elsewhere is an explicit opt-out"
        );
        assert!(!secure("http://localhost:8000"));
        assert!(!secure("http://127.0.0.2:8000"));
        assert!(!secure("http://[::1]:8000"));
        assert_eq!(
            secure_cookies_for("ftp://x").unwrap_err().code(),
            "invalid_settings"
        );
        assert!(secure_cookies_for("not a url").is_err());
    }

    #[test]
    fn json_is_asked_for_by_accept() {
        assert!(wants_json(Some("application/json")));
        assert!(wants_json(Some("text/html, application/json;q=0.9")));
        assert!(!wants_json(Some("text/html")));
        assert!(!wants_json(None));
    }

    #[test]
    fn callback_forms() {
        let Ok(CallbackForm::Params(p)) =
            callback_from_form(FORM, b"code=c&state=s", true, false, "/a")
        else {
            panic!("a form with the session gives its parameters");
        };
        assert_eq!(p.get("code"), Some("c"));
        let e = callback_from_form(Some("application/json"), b"{}", true, false, "/a").unwrap_err();
        assert_eq!(e.code(), "callback_invalid");
        let big = vec![b'a'; MAX_CALLBACK_BODY + 1];
        let e = callback_from_form(FORM, &big, true, false, "/a").unwrap_err();
        assert_eq!(e.code(), "callback_invalid");
        let e = callback_from_form(FORM, b"code=\xff", true, false, "/a").unwrap_err();
        assert_eq!(e.code(), "callback_invalid");
    }

    #[test]
    fn a_sessionless_form_post_is_posted_again_once() {
        let Ok(CallbackForm::Resubmit(page)) =
            callback_from_form(FORM, b"code=c&state=s", false, false, "/auth/x?tab=2")
        else {
            panic!("a form_post without the session is posted again");
        };
        assert!(page.html().contains("action=\"/auth/x?tab=2\""));
        let again = format!("code=c&state=s&{}=1", form_post::RESUBMITTED_FIELD);
        let Ok(CallbackForm::Params(p)) =
            callback_from_form(FORM, again.as_bytes(), false, false, "/auth/x")
        else {
            panic!("a re-post is never posted again");
        };
        assert_eq!(p.get(form_post::RESUBMITTED_FIELD), None);
        assert!(matches!(
            callback_from_form(FORM, b"code=c&state=s", false, true, "/a"),
            Ok(CallbackForm::Params(_))
        ));
    }
}
