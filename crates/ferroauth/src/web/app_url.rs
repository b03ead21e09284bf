//! The app's own absolute URL, for redirect URIs: [`AppUrl`].

use crate::Error;

/// How [`AppUrl`] derives the app's base URL.
#[derive(Debug, Clone, Default)]
pub struct RedirectUriConfig {
    /// A fixed public base URL (`https://app.example`): the request's headers are then
    /// ignored. The safest choice in production.
    pub public_base_url: Option<String>,
    /// Use `X-Forwarded-Proto` and `X-Forwarded-Host`. Only behind a proxy that sets them:
    /// otherwise any client can choose the redirect URI's host.
    pub trust_forwarded_headers: bool,
}

/// What a request tells about where it was sent: each framework fills it from its own
/// request type.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestOrigin<'a> {
    /// The `Host` header.
    pub host: Option<&'a str>,
    /// The `X-Forwarded-Proto` header.
    pub forwarded_proto: Option<&'a str>,
    /// The `X-Forwarded-Host` header.
    pub forwarded_host: Option<&'a str>,
    /// The request URI's scheme, when it is absolute.
    pub scheme: Option<&'a str>,
    /// The request URI's authority, when it is absolute.
    pub authority: Option<&'a str>,
}

/// The app's base URL, like Django's `build_absolute_uri`: scheme and host from the
/// request, or from `X-Forwarded-Proto`/`X-Forwarded-Host` when the app sits behind a
/// proxy it trusts, or fixed by the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppUrl {
    base: String,
}

impl AppUrl {
    /// The base URL for a request. A host that is not a host name (a path, a query, spaces)
    /// or an unknown forwarded scheme is an [`Error::InvalidCallback`]: the redirect URI
    /// must not be the client's to choose.
    pub fn from_request<'a>(
        origin: &RequestOrigin<'a>,
        config: &RedirectUriConfig,
    ) -> Result<Self, Error> {
        if let Some(base) = &config.public_base_url {
            return Ok(Self {
                base: base.trim_end_matches('/').to_owned(),
            });
        }
        let forwarded = |value: Option<&'a str>| {
            value
                .filter(|_| config.trust_forwarded_headers)
                .and_then(|v| v.split(',').next())
                .map(str::trim)
        };
        let scheme = match forwarded(origin.forwarded_proto) {
            Some("https") => "https",
            Some("http") | None => origin.scheme.unwrap_or("http"),
            Some(_) => return Err(Error::InvalidCallback("unknown X-Forwarded-Proto".into())),
        };
        let host = forwarded(origin.forwarded_host)
            .or(origin.host)
            .or(origin.authority)
            .ok_or_else(|| Error::InvalidCallback("the request has no Host".into()))?;
        if host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]_".contains(&b))
        {
            return Err(Error::InvalidCallback(
                "the Host header is not a host name".into(),
            ));
        }
        Ok(Self {
            base: format!("{scheme}://{host}"),
        })
    }

    /// The base URL, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The absolute URL of a path of this app.
    pub fn to(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_the_host_unless_forwarded_headers_are_trusted() {
        let origin = RequestOrigin {
            host: Some("127.0.0.1:8000"),
            forwarded_host: Some("evil.example"),
            ..Default::default()
        };
        let url = AppUrl::from_request(&origin, &RedirectUriConfig::default()).unwrap();
        assert_eq!(url.to("/auth/dev"), "http://127.0.0.1:8000/auth/dev");
        let origin = RequestOrigin {
            host: Some("10.0.0.5"),
            forwarded_host: Some("app.example"),
            forwarded_proto: Some("https"),
            ..Default::default()
        };
        let trusted = RedirectUriConfig {
            trust_forwarded_headers: true,
            ..Default::default()
        };
        let url = AppUrl::from_request(&origin, &trusted).unwrap();
        assert_eq!(url.to("auth/x"), "https://app.example/auth/x");
        let fixed = RedirectUriConfig {
            public_base_url: Some("https://fixed.example/".into()),
            ..Default::default()
        };
        assert_eq!(
            AppUrl::from_request(&origin, &fixed).unwrap().base(),
            "https://fixed.example"
        );
    }

    #[test]
    fn bad_hosts_are_refused() {
        for host in ["a.example/evil?x=", "", "a b"] {
            let origin = RequestOrigin {
                host: Some(host),
                ..Default::default()
            };
            let e = AppUrl::from_request(&origin, &RedirectUriConfig::default()).unwrap_err();
            assert_eq!(e.code(), "callback_invalid", "{host:?}");
        }
        let none = AppUrl::from_request(&RequestOrigin::default(), &RedirectUriConfig::default());
        assert!(none.is_err());
    }
}
