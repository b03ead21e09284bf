//! The one pooled HTTP client every provider call goes through.
//!
//! Back-channel calls carry codes, secrets and tokens, so the client is strict: connect and
//! total timeouts, a cap on the body size (a hostile provider cannot exhaust memory), no
//! redirect following (a redirect could carry credentials to another host), a User-Agent
//! naming the library (some APIs refuse requests without one), and https for every
//! endpoint but loopback unless a client explicitly allows plain http.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tracing::Instrument;
use url::{Host, Url};

use crate::error::{Error, HttpFailure};
use crate::settings::HttpSettings;

pub use reqwest::Method;

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
        let value = self
            .headers
            .get(reqwest::header::CONTENT_TYPE)?
            .to_str()
            .ok()?;
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

/// The shared client. Cloning is cheap (one connection pool).
#[derive(Debug, Clone)]
pub(crate) struct HttpClient {
    inner: reqwest::Client,
}

impl HttpClient {
    pub(crate) fn new(settings: &HttpSettings) -> Result<Self, Error> {
        let user_agent = settings.user_agent.as_deref().unwrap_or(DEFAULT_USER_AGENT);
        let inner = reqwest::Client::builder()
            .connect_timeout(secs(settings.connect_timeout))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(user_agent)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| Error::Unsupported(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self { inner })
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
        let mut request = self.inner.request(method, url.clone()).headers(headers);
        if let Some((content_type, bytes)) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(bytes);
        }
        let call = async {
            let mut response = request.send().await.map_err(|e| fail(classify(&e)))?;
            let status = response.status().as_u16();
            let headers = std::mem::take(response.headers_mut());
            if let Some(len) = response.content_length()
                && len > limits.max_body as u64
            {
                return Err(fail(HttpFailure::TooLarge {
                    limit: limits.max_body,
                }));
            }
            let mut body = BytesMut::new();
            while let Some(chunk) = response.chunk().await.map_err(|e| fail(classify(&e)))? {
                if body.len() + chunk.len() > limits.max_body {
                    return Err(fail(HttpFailure::TooLarge {
                        limit: limits.max_body,
                    }));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(HttpResponse {
                status,
                headers,
                body: body.freeze(),
            })
        };
        let span = tracing::debug_span!("provider_call", client = %limits.client, what, host = url.host_str().unwrap_or(""));
        let response = tokio::time::timeout(limits.timeout, call.instrument(span))
            .await
            .map_err(|_| fail(HttpFailure::Timeout))??;
        tracing::debug!(client = %limits.client, what, status = response.status, bytes = response.body.len(), "provider answered");
        if (300..400).contains(&response.status) {
            return Err(fail(HttpFailure::Redirect(response.status)));
        }
        Ok(response)
    }
}

fn classify(e: &reqwest::Error) -> HttpFailure {
    if e.is_timeout() {
        HttpFailure::Timeout
    } else if e.is_body() || e.is_decode() {
        HttpFailure::Body(root_cause(e))
    } else {
        HttpFailure::Connect(root_cause(e))
    }
}

/// The innermost error message: reqwest's own top-level text repeats the URL, which may
/// carry query parameters.
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
