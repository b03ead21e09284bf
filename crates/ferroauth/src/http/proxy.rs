//! How provider connections are made: directly, or through an HTTP proxy's `CONNECT`
//! tunnel.
//!
//! Only https calls go through a proxy. The tunnel carries TLS end to end, so the proxy
//! sees the provider's host name and nothing else: not the codes, secrets and tokens in the
//! requests. Plain http is allowed only for loopback providers (or by an explicit opt-out),
//! and is never proxied: forwarding it would hand those secrets to the proxy in clear.
//!
//! The proxy comes from [`HttpSettings::proxy`](crate::http::HttpSettings::proxy), or,
//! when that is absent, from the environment as curl reads it (`HTTPS_PROXY`, `ALL_PROXY`,
//! `NO_PROXY`, upper or lower case).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Uri;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower_service::Service;

use super::public_only::PublicOnly;
use crate::error::SettingsError;
use crate::secret::Secret;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Where proxy settings come from.
#[derive(Clone, Default)]
pub(crate) enum ProxyChoice {
    /// The environment's `HTTPS_PROXY` / `ALL_PROXY` / `NO_PROXY`.
    #[default]
    Environment,
    /// Never a proxy.
    Off,
    /// This proxy for every https call.
    Fixed(Uri),
}

impl ProxyChoice {
    /// Reads the `http.proxy` setting: absent means the environment, `"off"` no proxy,
    /// anything else an `http://[user:password@]host:port` URL.
    pub(crate) fn from_setting(setting: Option<&Secret>) -> Result<Self, SettingsError> {
        let Some(raw) = setting.map(Secret::expose) else {
            return Ok(ProxyChoice::Environment);
        };
        if raw.eq_ignore_ascii_case("off") {
            return Ok(ProxyChoice::Off);
        }
        // The value may hold a password: errors describe it without repeating it.
        let bad = |why: &str| {
            SettingsError::for_setting(
                "http.proxy",
                format!("{why}; expected \"off\" or http://host:port"),
            )
        };
        let uri: Uri = raw.parse().map_err(|_| bad("not a URL"))?;
        if uri.scheme_str() != Some("http") {
            return Err(bad(
                "only http:// proxies are supported (the tunnel carries TLS)",
            ));
        }
        if uri.host().is_none_or(str::is_empty) {
            return Err(bad("the URL has no host"));
        }
        Ok(ProxyChoice::Fixed(uri))
    }

    fn matcher(&self) -> Option<Matcher> {
        match self {
            ProxyChoice::Off => None,
            ProxyChoice::Environment => Some(Matcher::from_env()),
            ProxyChoice::Fixed(uri) => Some(Matcher::builder().https(uri.to_string()).build()),
        }
    }
}

/// The connector under TLS: a TCP connection to the provider, or a tunnel through the
/// proxy that the settings choose for it.
#[derive(Clone)]
pub(crate) struct Dialer {
    direct: Direct,
    /// The connector to the proxy: the app's own choice of address, never filtered.
    to_proxy: HttpConnector,
    proxy: Option<Arc<Matcher>>,
}

/// How a direct connection resolves its host: as the system does, or keeping only public
/// addresses ([`PublicOnly`], for hosts that users name).
#[derive(Clone)]
enum Direct {
    Any(HttpConnector),
    Public(HttpConnector<PublicOnly>),
}

impl Dialer {
    pub(crate) fn new(direct: HttpConnector, choice: &ProxyChoice) -> Self {
        Self {
            to_proxy: direct.clone(),
            direct: Direct::Any(direct),
            proxy: choice.matcher().map(Arc::new),
        }
    }

    /// A dialer whose direct connections reach public addresses only; `tcp` is the plain
    /// connector's settings, for the tunnel to a proxy.
    pub(crate) fn public_only(
        tcp: HttpConnector,
        public: HttpConnector<PublicOnly>,
        choice: &ProxyChoice,
    ) -> Self {
        Self {
            to_proxy: tcp,
            direct: Direct::Public(public),
            proxy: choice.matcher().map(Arc::new),
        }
    }

    /// The tunnel for `dst`, when it is an https destination the proxy settings cover.
    fn tunnel(&self, dst: &Uri) -> Option<Result<Tunnel<HttpConnector>, BoxError>> {
        if dst.scheme_str() != Some("https") {
            return None;
        }
        let intercept = self.proxy.as_ref()?.intercept(dst)?;
        if intercept.uri().scheme_str() != Some("http") {
            return Some(Err(format!(
                "proxy {}://{} is not supported: use an http:// proxy (the tunnel carries TLS)",
                intercept.uri().scheme_str().unwrap_or(""),
                intercept.uri().host().unwrap_or("")
            )
            .into()));
        }
        let tunnel = Tunnel::new(intercept.uri().clone(), self.to_proxy.clone());
        Some(Ok(match intercept.basic_auth() {
            Some(auth) => tunnel.with_auth(auth.clone()),
            None => tunnel,
        }))
    }
}

impl Service<Uri> for Dialer {
    type Response = TokioIo<TcpStream>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        match &mut self.direct {
            Direct::Any(c) => c.poll_ready(cx).map_err(Into::into),
            Direct::Public(c) => c.poll_ready(cx).map_err(Into::into),
        }
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        match self.tunnel(&dst) {
            Some(Ok(mut tunnel)) => Box::pin(async move { Ok(tunnel.call(dst).await?) }),
            Some(Err(e)) => Box::pin(async move { Err(e) }),
            None => match &mut self.direct {
                Direct::Any(c) => {
                    let connecting = c.call(dst);
                    Box::pin(async move { Ok(connecting.await?) })
                }
                Direct::Public(c) => {
                    let connecting = c.call(dst);
                    Box::pin(async move { Ok(connecting.await?) })
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn choice(raw: Option<&str>) -> Result<ProxyChoice, Error> {
        Ok(ProxyChoice::from_setting(raw.map(Secret::from).as_ref())?)
    }

    #[test]
    fn settings_values() {
        assert!(matches!(choice(None), Ok(ProxyChoice::Environment)));
        assert!(matches!(choice(Some("OFF")), Ok(ProxyChoice::Off)));
        assert!(matches!(
            choice(Some("http://proxy.internal:3128")),
            Ok(ProxyChoice::Fixed(_))
        ));
        for bad in [
            "https://proxy:443",
            "socks5://p:1080",
            "not a url",
            "http://",
        ] {
            let e = choice(Some(bad)).err().expect(bad);
            assert_eq!(e.code(), "invalid_settings", "{bad}");
        }
    }

    #[test]
    fn errors_do_not_repeat_the_password() {
        let e = choice(Some("socks5://user:hunter2@p:1080")).err().unwrap();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert!(!format!("{e:?}").contains("hunter2"));
    }

    #[test]
    fn only_https_destinations_are_tunnelled() {
        let fixed = choice(Some("http://u:p@proxy.internal:3128")).unwrap();
        let dialer = Dialer::new(HttpConnector::new(), &fixed);
        assert!(
            dialer
                .tunnel(&"http://127.0.0.1:8080/token".parse().unwrap())
                .is_none()
        );
        assert!(matches!(
            dialer.tunnel(&"https://idp.example/token".parse().unwrap()),
            Some(Ok(_))
        ));
        let off = Dialer::new(HttpConnector::new(), &ProxyChoice::Off);
        assert!(
            off.tunnel(&"https://idp.example/token".parse().unwrap())
                .is_none()
        );
    }
}
