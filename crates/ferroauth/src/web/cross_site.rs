//! Where a state-changing request comes from: [`refuse_cross_site`].
//!
//! Why not `SameSite` alone: a `SameSite=Lax` cookie is not sent on another site's POST,
//! but a *sibling subdomain* is the same site (`evil.example.com` and `app.example.com`),
//! and its POSTs carry the cookie. So the library's `POST` routes (logout, refresh) check
//! the request itself, as browsers describe it:
//!
//! 1. `Sec-Fetch-Site` (sent by every current browser, and not settable by a page):
//!    `same-origin` and `none` (the user's own action: a bookmark, the address bar) pass;
//!    `same-site` (a sibling subdomain) and `cross-site` are refused.
//! 2. `Origin`: when present it must name the app's own host and port; `null` (a sandboxed
//!    frame, a privacy-redirected form) is refused. The scheme is not compared: behind a
//!    proxy that ends TLS the app sees plain http while the browser's origin is https.
//! 3. Neither header: not a browser's cross-site request (scripts, curl, old clients
//!    without either header), so it passes; a browser that sends no `Origin` on a POST
//!    sends no cookie on a cross-site one either.
//!
//! The refusal is [`Error::CrossSiteRequest`]: 403 `cross_site_request`.

use super::AppUrl;
use crate::Error;

/// The request headers that tell where a request comes from.
#[derive(Debug, Clone, Copy, Default)]
pub struct FetchHeaders<'a> {
    /// `Sec-Fetch-Site`.
    pub sec_fetch_site: Option<&'a str>,
    /// `Origin`.
    pub origin: Option<&'a str>,
}

/// `Ok` when a state-changing request may come from where its headers say it comes from:
/// `Sec-Fetch-Site` first, then `Origin` (the [security chapter](crate::guide::security)
/// says why). `app` is the app's own URL for this request (`None` when the request's `Host`
/// was unusable: then any `Origin` is refused).
pub fn refuse_cross_site(headers: FetchHeaders<'_>, app: Option<&AppUrl>) -> Result<(), Error> {
    match headers.sec_fetch_site.map(str::trim) {
        None | Some("same-origin") | Some("none") => {}
        Some("same-site") => {
            return Err(Error::CrossSiteRequest(
                "the request came from another subdomain of this site (Sec-Fetch-Site: same-site)",
            ));
        }
        Some(_) => {
            return Err(Error::CrossSiteRequest(
                "the request came from another site (Sec-Fetch-Site)",
            ));
        }
    }
    let Some(origin) = headers.origin.map(str::trim) else {
        return Ok(());
    };
    let own = app.and_then(|a| url::Url::parse(a.base()).ok());
    let theirs = url::Url::parse(origin).ok();
    match (own, theirs) {
        (Some(own), Some(theirs))
            if own.host_str().is_some()
                && own.host_str() == theirs.host_str()
                && own.port() == theirs.port() =>
        {
            Ok(())
        }
        _ => Err(Error::CrossSiteRequest(
            "the request's Origin is not this app",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::{RedirectUriConfig, RequestOrigin};

    fn app(host: &str) -> AppUrl {
        let origin = RequestOrigin {
            host: Some(host),
            ..RequestOrigin::default()
        };
        AppUrl::from_request(&origin, &RedirectUriConfig::default()).unwrap()
    }

    fn check(site: Option<&str>, origin: Option<&str>) -> Result<(), Error> {
        refuse_cross_site(
            FetchHeaders {
                sec_fetch_site: site,
                origin,
            },
            Some(&app("app.example.test:8000")),
        )
    }

    #[test]
    fn the_apps_own_pages_and_the_user_pass() {
        check(Some("same-origin"), Some("http://app.example.test:8000")).unwrap();
        check(Some("none"), None).unwrap();
        check(None, None).unwrap();
        // TLS ended by a proxy: the browser's origin is https, the app sees http.
        refuse_cross_site(
            FetchHeaders {
                sec_fetch_site: Some("same-origin"),
                origin: Some("https://app.example"),
            },
            Some(&app("app.example")),
        )
        .unwrap();
    }

    #[test]
    fn other_sites_siblings_and_origins_are_refused() {
        for (site, origin) in [
            (Some("cross-site"), Some("http://evil.example")),
            (Some("same-site"), Some("http://evil.example.test:8000")),
            (Some("cross-site"), None),
            (None, Some("http://evil.example")),
            (None, Some("http://evil.example.test:8000")),
            (None, Some("http://app.example.test:8001")),
            (None, Some("http://app.example.test")),
            (None, Some("null")),
            (Some("same-origin"), Some("http://evil.example")),
            (Some("something-new"), None),
        ] {
            let e = check(site, origin).unwrap_err();
            assert_eq!(
                (e.code(), e.kind().http_status()),
                ("cross_site_request", 403)
            );
        }
        let e = refuse_cross_site(
            FetchHeaders {
                sec_fetch_site: None,
                origin: Some("http://app.example"),
            },
            None,
        )
        .unwrap_err();
        assert_eq!(e.code(), "cross_site_request");
    }
}
