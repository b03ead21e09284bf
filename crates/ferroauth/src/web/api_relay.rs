//! A provider's API answer relayed to the browser (`GET /api/{name}/{*path}`), made unable
//! to script the app.
//!
//! Why: the relayed body is the provider's, but the browser sees it on the app's origin.
//! An HTML or SVG answer, or one a browser sniffs as HTML, would run its scripts with the
//! app's cookies; a provider API that echoes user content (a repository's README, a
//! profile's bio) becomes a stored XSS in every app that relays it. So the relay keeps the
//! status and the body, and of the provider's headers only `Content-Type`; and it adds:
//!
//! | header | why |
//! |---|---|
//! | `X-Content-Type-Options: nosniff` | the browser trusts the type instead of guessing HTML |
//! | `Content-Security-Policy: sandbox; default-src 'none'` | even as a page it has no origin, no script, no subresource |
//! | `Content-Disposition: attachment` (all but JSON) | anything but JSON is downloaded, never rendered |
//! | `Cache-Control: no-store` | the answer was made with the user's token |
//!
//! `Set-Cookie`, hop-by-hop headers and everything else the provider sent stay behind.

use crate::http::{HttpResponse, Method};
use crate::session::{Session, SessionTokens};
use crate::{ApiRequest, Error, OAuthClient};

/// API calls to a provider with the user's stored token: refreshed when it expires within
/// the client's leeway and once after a 401 `invalid_token`, in the registry's single
/// flight (concurrent requests share one refresh), and saved back to the session. `S` is
/// the integration's session; each integration's `UserApi` extractor gives one.
#[derive(Debug, Clone)]
pub struct UserApi<S> {
    /// The provider's client.
    pub client: OAuthClient,
    /// The session holding the token.
    pub session: S,
}

impl<S: Session> UserApi<S> {
    /// A request to `path` under the client's `api_base_url` (with an optional `?query`).
    /// The path may come from the browser: one that could leave the base is refused with
    /// [`Error::InvalidApiPath`] ([`OAuthClient::request_path_with_store`]), so the token
    /// only ever goes to the provider's API. Without a stored token: [`Error::NoToken`].
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        request: ApiRequest,
    ) -> Result<HttpResponse, Error> {
        let tokens = SessionTokens(&self.session);
        self.client
            .request_path_with_store(&tokens, method, path, request)
            .await
    }

    /// A `GET` of `path`.
    pub async fn get(&self, path: &str) -> Result<HttpResponse, Error> {
        self.request(Method::GET, path, ApiRequest::default()).await
    }

    /// A `GET` of `path` with the request's `query` (empty for none), as a relay route
    /// (`/api/{name}/{*path}`) passes them on.
    pub async fn get_with_query(&self, path: &str, query: &str) -> Result<HttpResponse, Error> {
        match query {
            "" => self.get(path).await,
            query => self.get(&format!("{path}?{query}")).await,
        }
    }
}

/// The headers of a relayed answer, in order; `content_type` is the provider's
/// (`application/octet-stream` when it sent none or one that is not text).
pub fn relay_headers(response: &HttpResponse) -> [(&'static str, &str); 5] {
    let content_type = response
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .unwrap_or("application/octet-stream");
    let disposition = if is_json(content_type) {
        "inline"
    } else {
        "attachment"
    };
    [
        ("content-type", content_type),
        ("x-content-type-options", "nosniff"),
        ("content-security-policy", "sandbox; default-src 'none'"),
        ("content-disposition", disposition),
        ("cache-control", "no-store"),
    ]
}

/// The relayed status: the provider's, or 502 for one that is not a final status.
pub fn relay_status(response: &HttpResponse) -> u16 {
    match response.status {
        200..=599 => response.status,
        _ => 502,
    }
}

/// `application/json` or any `+json` type (`application/problem+json`), parameters aside.
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, headers: &[(&'static str, &str)]) -> HttpResponse {
        let mut map = http::HeaderMap::new();
        for (k, v) in headers {
            map.append(*k, v.parse().unwrap());
        }
        HttpResponse {
            status,
            headers: map,
            body: bytes::Bytes::from_static(b"<script>alert(1)</script>"),
        }
    }

    fn header<'a>(headers: &[(&'static str, &'a str); 5], name: &str) -> &'a str {
        headers.iter().find(|(k, _)| *k == name).unwrap().1
    }

    #[test]
    fn html_is_downloaded_sandboxed_and_never_sniffed() {
        let html = answer(
            200,
            &[
                ("content-type", "text/html"),
                ("set-cookie", "id=attacker; Path=/"),
                ("connection", "close"),
            ],
        );
        let relayed = relay_headers(&html);
        assert_eq!(header(&relayed, "content-type"), "text/html");
        assert_eq!(header(&relayed, "x-content-type-options"), "nosniff");
        assert!(header(&relayed, "content-security-policy").starts_with("sandbox"));
        assert_eq!(header(&relayed, "content-disposition"), "attachment");
        assert!(
            relayed
                .iter()
                .all(|(k, _)| *k != "set-cookie" && *k != "connection")
        );
    }

    #[test]
    fn json_stays_inline_and_untyped_answers_are_octets() {
        for json in [
            "application/json",
            "application/json; charset=utf-8",
            "application/problem+json",
        ] {
            let typed = answer(200, &[("content-type", json)]);
            let relayed = relay_headers(&typed);
            assert_eq!(header(&relayed, "content-disposition"), "inline", "{json}");
        }
        let untyped = answer(200, &[]);
        let relayed = relay_headers(&untyped);
        assert_eq!(header(&relayed, "content-type"), "application/octet-stream");
        assert_eq!(header(&relayed, "content-disposition"), "attachment");
        assert_eq!(relay_status(&answer(404, &[])), 404);
        assert_eq!(relay_status(&answer(101, &[])), 502);
    }
}
