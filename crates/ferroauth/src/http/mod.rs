//! The one pooled HTTP client every provider call goes through.
//!
//! Back-channel calls carry codes, secrets and tokens, so the client is strict: connect and
//! total timeouts, a cap on the body size (a hostile provider cannot exhaust memory), no
//! redirect following (a redirect could carry credentials to another host), a User-Agent
//! naming the library (some APIs refuse requests without one), and https for every
//! endpoint but loopback unless a client explicitly allows plain http. Certificates are
//! checked by the platform's verifier (the OS trust store), over rustls; https calls may go
//! through an HTTP proxy's tunnel (see [`HttpSettings::proxy`]).

mod proxy;
mod public_only;

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use http::{Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use serde::Deserialize;
use tracing::Instrument;
use url::{Host, Position, Url};

use crate::error::{Error, HttpFailure, SettingsError};
use crate::secret::Secret;
use crate::telemetry;
use proxy::{Dialer, ProxyChoice};

pub use http::Method;

/// Settings of the one HTTP client shared by every provider.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSettings {
    /// Seconds to wait for a TCP/TLS connection (default 5).
    pub connect_timeout: f64,
    /// Seconds for a whole call when a client does not set `client_kwargs.timeout`
    /// (default 30).
    pub timeout: f64,
    /// Largest provider response accepted, in bytes (default 1 MiB).
    pub max_response_bytes: usize,
    /// The User-Agent sent to providers (default `ferroauth/<version>`).
    pub user_agent: Option<String>,
    /// The proxy for https calls: `http://[user:password@]host:port`, or `"off"`. When
    /// absent, `HTTPS_PROXY` / `ALL_PROXY` / `NO_PROXY` from the environment apply, as
    /// curl reads them. Plain-http calls (loopback providers) never use a proxy. See
    /// [`crate::http`](self).
    pub proxy: Option<Secret>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            connect_timeout: 5.0,
            timeout: 30.0,
            max_response_bytes: 1024 * 1024,
            user_agent: None,
            proxy: None,
        }
    }
}

/// The User-Agent sent when the settings do not name one.
pub const DEFAULT_USER_AGENT: &str = concat!("ferroauth/", env!("CARGO_PKG_VERSION"));

/// A provider's answer, fully read (within the size cap).
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The HTTP status code.
    pub status: u16,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl HttpResponse {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The media type of the body, lower-cased, without parameters.
    pub fn content_type(&self) -> Option<String> {
        let value = self.headers.get(CONTENT_TYPE)?.to_str().ok()?;
        let essence = value.split(';').next()?.trim();
        Some(essence.to_ascii_lowercase())
    }

    /// Parses the body as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

/// What a call needs besides its URL: limits and names for errors.
#[derive(Debug, Clone)]
pub(crate) struct CallLimits {
    pub client: String,
    pub timeout: Duration,
    pub max_body: usize,
}

/// `tcp` set up for the client: TLS is layered on top (so it must accept https
/// destinations), no Nagle delay, the settings' connect timeout.
fn tcp_connector<R: Clone>(mut tcp: HttpConnector<R>, settings: &HttpSettings) -> HttpConnector<R> {
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(Some(secs(settings.connect_timeout)));
    tcp
}

/// How long an idle pooled connection is kept for reuse: less than the keep-alive timeouts
/// at which servers commonly close idle connections (Node.js and Apache: 5 s). A request
/// sent on a connection the provider is closing at that moment fails ("connection closed
/// before message completed"), and a token request cannot be sent again: the code may
/// have been used. Seen in the browser suite against oidc-provider (Node.js) under load.
const POOL_IDLE: Duration = Duration::from_secs(4);

/// The shared client. Cloning is cheap (one connection pool).
///
/// It is hyper's pooled client under rustls with the platform's certificate verifier,
/// driven directly: a general-purpose client would re-parse every URL (twice, for its
/// redirect bookkeeping) on calls that never follow redirects.
#[derive(Clone)]
pub(crate) struct HttpClient {
    inner: Client<HttpsConnector<Dialer>, Full<Bytes>>,
    user_agent: HeaderValue,
    public_only: bool,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("user_agent", &self.user_agent)
            .field("public_only", &self.public_only)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    pub(crate) fn new(settings: &HttpSettings) -> Result<Self, Error> {
        let tcp = tcp_connector(HttpConnector::new(), settings);
        let dialer = Dialer::new(tcp, &ProxyChoice::from_setting(settings.proxy.as_ref())?);
        Self::over(dialer, settings, false)
    }

    /// A client whose direct connections reach only public addresses: for hosts that a
    /// user names (a fediverse instance), whose DNS may answer a private address
    /// (`public_only`).
    pub(crate) fn public_only(settings: &HttpSettings) -> Result<Self, Error> {
        let tcp = tcp_connector(HttpConnector::new(), settings);
        let public = tcp_connector(
            HttpConnector::new_with_resolver(public_only::PublicOnly::new()),
            settings,
        );
        let choice = ProxyChoice::from_setting(settings.proxy.as_ref())?;
        Self::over(Dialer::public_only(tcp, public, &choice), settings, true)
    }

    /// Whether its direct connections reach public addresses only.
    #[cfg(test)]
    pub(crate) fn is_public_only(&self) -> bool {
        self.public_only
    }

    fn over(dialer: Dialer, settings: &HttpSettings, public_only: bool) -> Result<Self, Error> {
        let user_agent = user_agent(settings)?;
        // The provider is named rather than taken from the process default, which is
        // ambiguous (and a panic) when another crate of the app enables a second one.
        let connector = HttpsConnectorBuilder::new()
            .with_provider_and_platform_verifier(rustls::crypto::aws_lc_rs::default_provider())
            .map_err(|e| {
                Error::Unsupported(format!(
                    "cannot build the HTTP client: no certificate verifier: {e}"
                ))
            })?
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(dialer);
        let inner = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(POOL_IDLE)
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .build(connector);
        Ok(Self {
            inner,
            user_agent,
            public_only,
        })
    }

    /// Sends a request and reads the whole body within the limits.
    pub(crate) async fn send(
        &self,
        what: &'static str,
        limits: &CallLimits,
        method: Method,
        url: &Url,
        headers: HeaderMap,
        body: Option<(&'static str, Vec<u8>)>,
    ) -> Result<HttpResponse, Error> {
        let fail = |failure| Error::Http {
            client: limits.client.clone(),
            what,
            failure,
        };
        let request = self
            .request(method, url, headers, body)
            .map_err(|why| fail(HttpFailure::Connect(why)))?;
        let call = async {
            let response = self
                .inner
                .request(request)
                .await
                .map_err(|e| fail(classify(&e)))?;
            let (parts, body) = response.into_parts();
            let body = read_capped(
                body,
                limits.max_body,
                parts.headers.get(http::header::CONTENT_LENGTH),
            )
            .await
            .map_err(fail)?;
            Ok::<_, Error>(HttpResponse {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body,
            })
        };
        let span =
            telemetry::provider_call_span(&limits.client, what, url.host_str().unwrap_or(""));
        let started = Instant::now();
        let response = tokio::time::timeout(limits.timeout, call.instrument(span.clone()))
            .await
            .map_err(|_| fail(HttpFailure::Timeout))
            .and_then(|answer| answer);
        let answer = match &response {
            Ok(r) => Ok(r.status),
            Err(e) => Err(e.code()),
        };
        telemetry::provider_answered(&span, &limits.client, what, started.elapsed(), answer);
        let response = response?;
        if (300..400).contains(&response.status) {
            return Err(fail(HttpFailure::Redirect(response.status)));
        }
        Ok(response)
    }

    /// The request for `url`. The fragment stays behind: it is never sent.
    fn request(
        &self,
        method: Method,
        url: &Url,
        mut headers: HeaderMap,
        body: Option<(&'static str, Vec<u8>)>,
    ) -> Result<Request<Full<Bytes>>, String> {
        let uri: Uri = url[..Position::AfterQuery]
            .parse()
            .map_err(|e| format!("the URL cannot be sent ({e})"))?;
        if !headers.contains_key(USER_AGENT) {
            headers.insert(USER_AGENT, self.user_agent.clone());
        }
        let body = match body {
            Some((content_type, bytes)) => {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
                Full::new(Bytes::from(bytes))
            }
            None => Full::new(Bytes::new()),
        };
        let mut request = Request::new(body);
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;
        Ok(request)
    }
}

/// Checks the `[http]` settings that can be wrong beyond their types.
pub(crate) fn check_settings(settings: &HttpSettings) -> Result<(), SettingsError> {
    user_agent(settings)?;
    ProxyChoice::from_setting(settings.proxy.as_ref())?;
    Ok(())
}

fn user_agent(settings: &HttpSettings) -> Result<HeaderValue, SettingsError> {
    let value = settings.user_agent.as_deref().unwrap_or(DEFAULT_USER_AGENT);
    HeaderValue::from_str(value).map_err(|_| {
        SettingsError::for_setting(
            "http.user_agent",
            "not a valid header value (visible ASCII only)",
        )
    })
}

/// Reads a body, refusing it as soon as it is known to exceed `limit`: by its declared
/// length, or while it streams in.
async fn read_capped(
    mut body: hyper::body::Incoming,
    limit: usize,
    declared: Option<&HeaderValue>,
) -> Result<Bytes, HttpFailure> {
    let declared = declared
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(HttpFailure::TooLarge { limit });
    }
    let mut buf = BytesMut::with_capacity(declared.map_or(0, |len| len as usize));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| HttpFailure::Body(root_cause(&e)))?;
        if let Ok(chunk) = frame.into_data() {
            if buf.len() + chunk.len() > limit {
                return Err(HttpFailure::TooLarge { limit });
            }
            buf.extend_from_slice(&chunk);
        }
    }
    Ok(buf.freeze())
}

/// A failed exchange: a timeout anywhere in the chain (the connect timeout) is a timeout.
fn classify(e: &hyper_util::client::legacy::Error) -> HttpFailure {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = current {
        if err
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
        {
            return HttpFailure::Timeout;
        }
        current = err.source();
    }
    HttpFailure::Connect(root_cause(e))
}

/// The innermost error message: outer layers' texts can repeat the URL, which may carry
/// query parameters.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current = e;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

pub(crate) fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or(Duration::from_secs(30))
}

/// Whether plain http is acceptable for this URL without an explicit opt-in: loopback
/// hosts only (development and tests on one machine; RFC 8252 §8.3 reasons the same way).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost") || d.to_ascii_lowercase().ends_with(".localhost")
        }
        None => false,
    }
}

/// Parses a provider endpoint and refuses plain http on a non-loopback host unless allowed.
pub(crate) fn endpoint(client: &str, raw: &str, allow_insecure: bool) -> Result<Url, Error> {
    let url = Url::parse(raw).map_err(|e| Error::Misconfigured {
        client: client.to_owned(),
        reason: format!("endpoint {raw:?} is not a URL ({e})"),
    })?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if allow_insecure || is_loopback(&url) => Ok(url),
        _ => Err(Error::InsecureEndpoint {
            client: client.to_owned(),
            url: url.to_string(),
        }),
    }
}

/// A header from strings that came from settings.
pub(crate) fn header(name: &str, value: &str) -> Option<(HeaderName, HeaderValue)> {
    Some((
        HeaderName::from_bytes(name.as_bytes()).ok()?,
        HeaderValue::from_str(value).ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A host named by a user whose DNS answers a private address (here `localhost`, as a
    /// rebinding name would) is not connected to by the public-only client; the plain one
    /// reaches it.
    #[tokio::test]
    async fn the_public_only_client_does_not_connect_to_a_name_resolving_to_loopback() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
                let mut request = [0u8; 1024];
                let _ = socket.read(&mut request).await;
                let answer = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n";
                let _ = socket.write_all(answer).await;
            }
        });
        let url = Url::parse(&format!("http://localhost:{port}/")).unwrap();
        let limits = CallLimits {
            client: "c".into(),
            timeout: Duration::from_secs(5),
            max_body: 1024,
        };
        let settings = HttpSettings {
            proxy: Some(Secret::from("off")),
            ..HttpSettings::default()
        };
        let send = |client: HttpClient| {
            let (url, limits) = (url.clone(), limits.clone());
            async move {
                client
                    .send("test", &limits, Method::GET, &url, HeaderMap::new(), None)
                    .await
            }
        };
        let plain = send(HttpClient::new(&settings).unwrap()).await.unwrap();
        assert_eq!(plain.status, 204);
        let refused = send(HttpClient::public_only(&settings).unwrap())
            .await
            .unwrap_err();
        assert!(
            refused.to_string().contains("no public address"),
            "{refused}"
        );
    }

    #[test]
    fn a_bad_user_agent_is_a_settings_error() {
        let settings = HttpSettings {
            user_agent: Some("line\nbreak".into()),
            ..HttpSettings::default()
        };
        let e = HttpClient::new(&settings).unwrap_err();
        assert_eq!(e.code(), "invalid_settings");
        assert!(e.to_string().contains("http.user_agent"), "{e}");
    }

    #[test]
    fn http_settings_are_checked_when_read() {
        for (toml, key) in [
            ("[http]\nproxy = \"socks5://p:1080\"", "http.proxy"),
            ("[http]\nuser_agent = \"a\\nb\"", "http.user_agent"),
        ] {
            let e = crate::settings::Settings::from_toml_str(toml).unwrap_err();
            assert_eq!(e.key.as_deref(), Some(key), "{e}");
        }
    }

    #[test]
    fn https_required_except_loopback() {
        assert!(endpoint("c", "https://example.com/token", false).is_ok());
        assert!(endpoint("c", "http://127.0.0.1:8080/token", false).is_ok());
        assert!(endpoint("c", "http://[::1]:8080/token", false).is_ok());
        assert!(endpoint("c", "http://localhost/token", false).is_ok());
        let e = endpoint("c", "http://example.com/token", false).unwrap_err();
        assert_eq!(e.code(), "insecure_endpoint");
        assert!(endpoint("c", "http://example.com/token", true).is_ok());
        assert_eq!(
            endpoint("c", "ftp://example.com/", true)
                .unwrap_err()
                .code(),
            "insecure_endpoint"
        );
        assert_eq!(
            endpoint("c", "::", false).unwrap_err().code(),
            "client_misconfigured"
        );
    }
}
