//! `response_mode=form_post` callbacks in browsers that keep the session cookie `SameSite=Lax`.
//!
//! With form_post (OAuth 2.0 Form Post Response Mode; Apple always, Microsoft and others on
//! request) the provider's page makes the browser POST the code and state to the redirect
//! URI. That POST comes from the provider's site, and browsers do not attach a
//! `SameSite=Lax` (or `Strict`) cookie to a cross-site POST: the callback would arrive
//! without the session that holds the pending login.
//!
//! **The choice.** Two fixes exist. A `SameSite=None` cookie would be sent, but it needs
//! `Secure` (so https, even in development) and, made the session cookie, it would ride on
//! every cross-site request to the app, which weakens CSRF defences app-wide. A separate
//! `SameSite=None` cookie just for pending logins avoids that, but splits the session in
//! two. ferroauth instead answers a callback POST that arrived without the session with
//! [`ResubmitPage`]: a tiny page, served from the app's own origin, that posts the same
//! fields to the same URL. That second POST is same-origin, so the browser attaches the
//! `Lax` session cookie, and the login finishes as usual.
//!
//! **What stays as strict as before.** The page changes nothing in what the callback
//! checks: the state must still match a pending login of the browser's session (which an
//! attacker cannot read), and PKCE and the nonce bind the code to that login. A forged
//! cross-site POST is re-posted like a real one and then fails the state check exactly as
//! it would have. The page carries the callback's values, which the browser already held;
//! it is never cached (`no-store`), sends no referrer, cannot be framed, and runs only its
//! own script (CSP with a per-response nonce). Without JavaScript its button does the same.
//!
//! **No loops.** The re-posted form carries [`RESUBMITTED_FIELD`]; a callback that has it is
//! never re-posted again, so a browser that blocks the cookie altogether ends on
//! [`Error::SessionMissing`] after one round trip.

use crate::html::escape;
use crate::{CallbackParams, Error};

/// The marker field the re-posted form adds; removed before the callback is checked.
pub const RESUBMITTED_FIELD: &str = "ferroauth_resubmitted";

/// Whether a callback POST should be answered with a [`ResubmitPage`]: it carried no
/// session, and it is not itself a re-post. Removes the marker field from `params`.
///
/// `session_arrived` is whether the request brought the app's session (its cookie). JSON
/// clients are not browsers and never get the page.
pub fn needs_resubmit(params: &mut CallbackParams, session_arrived: bool, json: bool) -> bool {
    let resubmitted = params.remove(RESUBMITTED_FIELD).is_some();
    !resubmitted && !session_arrived && !json
}

/// The page that posts a callback's fields again, from the app's own origin.
#[derive(Clone)]
pub struct ResubmitPage {
    html: String,
    content_security_policy: String,
}

impl std::fmt::Debug for ResubmitPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The page holds the authorization code: never show it.
        f.debug_struct("ResubmitPage").finish_non_exhaustive()
    }
}

impl ResubmitPage {
    /// The page for `params`, posting to `action` (the callback's own path and query, as
    /// the request named it; a relative URL so that it stays on this origin).
    pub fn new(action: &str, params: &CallbackParams) -> Result<Self, Error> {
        let [nonce] = crate::random::tokens([16])?;
        let mut fields = String::new();
        for (name, value) in params.iter() {
            fields.push_str(&format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(name),
                escape(value)
            ));
        }
        let html = format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>Signing you in</title></head><body>\
<form method=\"post\" action=\"{action}\">{fields}\
<input type=\"hidden\" name=\"{RESUBMITTED_FIELD}\" value=\"1\">\
<p>Finishing the sign-in&hellip;</p><button type=\"submit\">Continue</button></form>\
<script nonce=\"{nonce}\">document.forms[0].submit();</script></body></html>",
            action = escape(action),
        );
        let content_security_policy = format!(
            "default-src 'none'; script-src 'nonce-{nonce}'; form-action 'self'; \
             base-uri 'none'; frame-ancestors 'none'"
        );
        Ok(Self {
            html,
            content_security_policy,
        })
    }

    /// The HTML document.
    pub fn html(&self) -> &str {
        &self.html
    }

    /// Every header the page must be sent with: `Content-Type`, the
    /// `Content-Security-Policy` that allows only its own script, `Cache-Control: no-store`
    /// and `Referrer-Policy: no-referrer` (the page holds a code), `X-Frame-Options: DENY`.
    pub fn headers(&self) -> [(&'static str, &str); 5] {
        [
            ("content-type", "text/html; charset=utf-8"),
            ("content-security-policy", &self.content_security_policy),
            ("cache-control", "no-store"),
            ("referrer-policy", "no-referrer"),
            ("x-frame-options", "DENY"),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_reposts_every_field_escaped_with_the_marker() {
        let params =
            CallbackParams::parse("code=a%22b%3C&state=s%26t&iss=https%3A%2F%2Fidp").unwrap();
        let page = ResubmitPage::new("/auth/op?x=1&y=2", &params).unwrap();
        let html = page.html();
        assert!(html.contains("action=\"/auth/op?x=1&amp;y=2\""), "{html}");
        assert!(
            html.contains("name=\"code\" value=\"a&quot;b&lt;\""),
            "{html}"
        );
        assert!(html.contains("name=\"state\" value=\"s&amp;t\""), "{html}");
        assert!(html.contains(&format!("name=\"{RESUBMITTED_FIELD}\" value=\"1\"")));
        let csp = page.headers()[1].1;
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .unwrap()
            .split('\'')
            .next()
            .unwrap();
        assert!(nonce.len() >= 20);
        assert!(html.contains(&format!("<script nonce=\"{nonce}\">")));
        assert!(csp.contains("form-action 'self'") && csp.contains("default-src 'none'"));
        assert!(!format!("{page:?}").contains("a&quot;b"));
        let other = ResubmitPage::new("/auth/op", &params).unwrap();
        assert_ne!(other.headers()[1].1, csp, "a fresh nonce per page");
    }

    #[test]
    fn only_sessionless_first_posts_are_resubmitted() {
        let mut params = CallbackParams::parse("code=c&state=s").unwrap();
        assert!(needs_resubmit(&mut params.clone(), false, false));
        assert!(!needs_resubmit(&mut params.clone(), true, false));
        assert!(!needs_resubmit(&mut params, false, true), "JSON clients");
        let mut again =
            CallbackParams::parse(&format!("code=c&state=s&{RESUBMITTED_FIELD}=1")).unwrap();
        assert!(!needs_resubmit(&mut again, false, false), "no second round");
        assert_eq!(again.get(RESUBMITTED_FIELD), None, "the marker is removed");
        assert_eq!(again.get("code"), Some("c"));
    }
}
