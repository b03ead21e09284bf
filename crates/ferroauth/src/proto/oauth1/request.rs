//! Signing an HTTP request (RFC 5849 §3.1) and placing the protocol parameters (§3.5).

use std::borrow::Cow;
use std::time::{SystemTime, UNIX_EPOCH};

use url::Url;

use super::base_string::{EncodedParams, write_base_string};
use super::credentials::Credentials;
use super::encode::{parse_form, percent_encode_into, write_u64};
use super::error::{Error, Result, truncate};
use super::signature::{Consumer, SignatureMethod, sign_base_string};

/// Where the protocol parameters travel (RFC 5849 §3.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// The `Authorization: OAuth …` header (§3.5.1), which every provider accepts and
    /// which keeps credentials out of URLs that end up in logs.
    Header {
        /// Optional `realm`, sent first and not signed.
        realm: Option<String>,
    },
    /// The URL query (§3.5.3), for clients that cannot set headers.
    Query,
    /// The form-encoded body (§3.5.2); the request must then be sent with
    /// `Content-Type: application/x-www-form-urlencoded`.
    Body,
}

impl Placement {
    /// Header placement without a realm, the usual choice.
    pub const HEADER: Placement = Placement::Header { realm: None };
}

impl Default for Placement {
    fn default() -> Self {
        Placement::HEADER
    }
}

/// What to send, once a request is signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// The URL to request: the given URL as normalised by the URL parser and without a
    /// fragment, plus the protocol parameters when [`Placement::Query`] was chosen.
    pub url: String,
    /// The full value of the `Authorization` header (`OAuth realm="…", oauth_…="…"`),
    /// present only with [`Placement::Header`].
    pub authorization: Option<String>,
    /// The `application/x-www-form-urlencoded` body: the form parameters, plus the
    /// protocol parameters with [`Placement::Body`]. `None` when the request has no form
    /// parameters and the protocol parameters are not in the body.
    pub form_body: Option<String>,
}

/// Protocol parameter names the signer sets itself and callers may not supply.
const MANAGED: [&str; 7] = [
    "oauth_consumer_key",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
    "oauth_timestamp",
    "oauth_token",
    "oauth_version",
];

type Pair<'a> = (Cow<'a, str>, Cow<'a, str>);

/// Builds and signs one OAuth 1.0a request.
///
/// Timestamp and nonce default to the system clock and 128 bits from the operating
/// system's CSPRNG; [`RequestSigner::timestamp`] and [`RequestSigner::nonce`] exist so tests
/// and published examples can be reproduced exactly, not for production use.
///
/// ```
/// use ferroauth::proto::oauth1::{Consumer, Placement, RequestSigner, SignatureMethod};
///
/// let consumer = Consumer::new("dpf43f3p2l4k3l03", "kd94hf93k423kf44");
/// let signed = RequestSigner::new("GET", "http://photos.example.net/photos?size=original")
///     .token("nnch734d00sl2jdk", "pfkkdhi9sl3r4s00")
///     .placement(Placement::HEADER)
///     .sign(&consumer, SignatureMethod::HmacSha1)?;
/// assert!(signed.authorization.is_some_and(|h| h.starts_with("OAuth ")));
/// # Ok::<(), ferroauth::proto::oauth1::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct RequestSigner<'a> {
    method: &'a str,
    url: Target<'a>,
    form: Vec<Pair<'a>>,
    token: Option<(&'a str, &'a str)>,
    extra: Vec<Pair<'a>>,
    placement: Placement,
    timestamp: Option<u64>,
    nonce: Option<Cow<'a, str>>,
    include_version: bool,
}

/// The request URL as the caller gave it.
#[derive(Debug, Clone, Copy)]
enum Target<'a> {
    /// Text, parsed when signing.
    Text(&'a str),
    /// Already parsed by the caller, who usually keeps endpoints parsed.
    Parsed(&'a Url),
}

impl<'a> RequestSigner<'a> {
    /// Starts a request to `url` (which may carry a query) with the HTTP `method`.
    pub fn new(method: &'a str, url: &'a str) -> Self {
        Self::with_target(method, Target::Text(url))
    }

    /// Starts a request to an already parsed `url` (which may carry a query) with the
    /// HTTP `method`; the same as [`RequestSigner::new`] without parsing the URL again.
    pub fn for_url(method: &'a str, url: &'a Url) -> Self {
        Self::with_target(method, Target::Parsed(url))
    }

    fn with_target(method: &'a str, url: Target<'a>) -> Self {
        Self {
            method,
            url,
            form: Vec::new(),
            token: None,
            extra: Vec::new(),
            placement: Placement::HEADER,
            timestamp: None,
            nonce: None,
            include_version: true,
        }
    }

    /// Adds one form-body parameter (decoded). Form parameters are signed, so every one
    /// that will be sent in an `application/x-www-form-urlencoded` body must be given.
    #[must_use]
    pub fn form_param(
        mut self,
        name: impl Into<Cow<'a, str>>,
        value: impl Into<Cow<'a, str>>,
    ) -> Self {
        self.form.push((name.into(), value.into()));
        self
    }

    /// Adds several form-body parameters (decoded).
    #[must_use]
    pub fn form_params<I, K, V>(mut self, params: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<Cow<'a, str>>,
        V: Into<Cow<'a, str>>,
    {
        self.form
            .extend(params.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Adds the parameters of an already-encoded `application/x-www-form-urlencoded`
    /// body. The body is re-encoded in [`SignedRequest::form_body`].
    #[must_use]
    pub fn form_body(mut self, body: &'a str) -> Self {
        self.form.extend(parse_form(body));
        self
    }

    /// Signs with token credentials (temporary or access): `oauth_token` and its secret.
    #[must_use]
    pub fn token(mut self, token: &'a str, token_secret: &'a str) -> Self {
        self.token = Some((token, token_secret));
        self
    }

    /// Signs with credentials parsed from a provider response.
    #[must_use]
    pub fn credentials(self, credentials: &'a Credentials) -> Self {
        self.token(
            credentials.token.expose(),
            credentials.token_secret.expose(),
        )
    }

    /// Sets `oauth_callback` for the temporary-credentials request (§2.1); use `"oob"`
    /// when there is no callback.
    #[must_use]
    pub fn callback(self, callback: &'a str) -> Self {
        self.protocol_param("oauth_callback", callback)
    }

    /// Sets `oauth_verifier` for the token request (§2.3).
    #[must_use]
    pub fn verifier(self, verifier: &'a str) -> Self {
        self.protocol_param("oauth_verifier", verifier)
    }

    /// Adds another `oauth_*` protocol parameter some providers define (for example
    /// `oauth_session_handle`). Names the signer manages itself are rejected at
    /// [`RequestSigner::sign`].
    #[must_use]
    pub fn protocol_param(
        mut self,
        name: impl Into<Cow<'a, str>>,
        value: impl Into<Cow<'a, str>>,
    ) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    /// Chooses where the protocol parameters go; the default is the header, no realm.
    #[must_use]
    pub fn placement(mut self, placement: Placement) -> Self {
        self.placement = placement;
        self
    }

    /// Fixes `oauth_timestamp` (seconds since the Unix epoch), for reproducible tests.
    #[must_use]
    pub fn timestamp(mut self, timestamp: u64) -> Self {
        self.timestamp = Some(timestamp);
        self
    }

    /// Fixes `oauth_nonce`, for reproducible tests. A nonce must never repeat with the
    /// same timestamp, which is why the default draws one from the OS CSPRNG.
    #[must_use]
    pub fn nonce(mut self, nonce: impl Into<Cow<'a, str>>) -> Self {
        self.nonce = Some(nonce.into());
        self
    }

    /// Whether to send `oauth_version=1.0` (default `true`). The parameter is optional
    /// in RFC 5849; turning it off reproduces the RFC's own examples.
    #[must_use]
    pub fn include_version(mut self, include: bool) -> Self {
        self.include_version = include;
        self
    }

    /// Signs the request with `consumer` using `method`.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`] / [`Error::InvalidMethod`] for an unusable URL or HTTP
    /// method, [`Error::InvalidProtocolParameter`] for an extra parameter that is not
    /// `oauth_*` or is managed by the signer, [`Error::Clock`] / [`Error::Rng`] when the
    /// default timestamp or nonce cannot be made, and the errors of
    /// [`sign_base_string`].
    pub fn sign(&self, consumer: &Consumer, method: SignatureMethod) -> Result<SignedRequest> {
        let url = self.url_without_fragment()?;

        for (name, _) in &self.extra {
            if !name.starts_with("oauth_") || MANAGED.contains(&name.as_ref()) {
                return Err(Error::InvalidProtocolParameter {
                    name: truncate(name, 32),
                });
            }
        }

        let timestamp = match self.timestamp {
            Some(t) => t,
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_err(|_| Error::Clock)?
                .as_secs(),
        };
        let mut ts_buf = [0u8; 20];
        let timestamp = write_u64(&mut ts_buf, timestamp);
        let mut nonce_buf = [0u8; 32];
        let nonce: &str = match &self.nonce {
            Some(n) => n,
            None => random_nonce(&mut nonce_buf)?,
        };

        // Protocol parameters, in no particular order; sorted where needed.
        let mut protocol: Vec<(&str, &str)> = Vec::with_capacity(8 + self.extra.len());
        protocol.push(("oauth_consumer_key", consumer.key()));
        protocol.push(("oauth_nonce", nonce));
        protocol.push(("oauth_signature_method", method.as_str()));
        protocol.push(("oauth_timestamp", timestamp));
        if let Some((token, _)) = self.token {
            protocol.push(("oauth_token", token));
        }
        if self.include_version {
            protocol.push(("oauth_version", "1.0"));
        }
        protocol.extend(self.extra.iter().map(|(k, v)| (k.as_ref(), v.as_ref())));

        let mut params = EncodedParams::with_capacity(protocol.len() + self.form.len() + 4);
        if let Some(query) = url.query() {
            params.push_form(query);
        }
        for (name, value) in &self.form {
            params.push(name, value);
        }
        for &(name, value) in &protocol {
            params.push(name, value);
        }
        params.sort();

        let mut base = String::new();
        write_base_string(&mut base, self.method, &url, &params)?;
        let token_secret = self.token.map(|(_, secret)| secret);
        let signature = sign_base_string(method, &base, consumer, token_secret)?;

        protocol.push(("oauth_signature", &signature));
        protocol.sort_unstable();

        let form_body = if self.form.is_empty() && self.placement != Placement::Body {
            None
        } else {
            let mut body = String::with_capacity(64);
            write_pairs(
                &mut body,
                self.form.iter().map(|(k, v)| (k.as_ref(), v.as_ref())),
            );
            if self.placement == Placement::Body {
                if !body.is_empty() {
                    body.push('&');
                }
                write_pairs(&mut body, protocol.iter().copied());
            }
            Some(body)
        };

        let authorization = match &self.placement {
            Placement::Header { realm } => Some(authorization_header(realm.as_deref(), &protocol)),
            Placement::Query | Placement::Body => None,
        };

        let mut url = String::from(url.into_owned());
        if self.placement == Placement::Query {
            // `Url` serialises an empty query as a bare `?`.
            if !url.ends_with('?') {
                url.push(if url.contains('?') { '&' } else { '?' });
            }
            write_pairs(&mut url, protocol.iter().copied());
        }

        Ok(SignedRequest {
            url,
            authorization,
            form_body,
        })
    }

    /// The URL to sign and send: a fragment is never sent, so it is dropped.
    fn url_without_fragment(&self) -> Result<Cow<'a, Url>> {
        let mut url = match self.url {
            Target::Parsed(url) if url.fragment().is_none() => return Ok(Cow::Borrowed(url)),
            Target::Parsed(url) => url.clone(),
            Target::Text(text) => Url::parse(text).map_err(|_| Error::InvalidUrl {
                reason: "not an absolute URL",
            })?,
        };
        url.set_fragment(None);
        Ok(Cow::Owned(url))
    }
}

/// Appends `name=value&…`, each side percent-encoded (§3.5.2, §3.5.3).
fn write_pairs<'p>(out: &mut String, pairs: impl Iterator<Item = (&'p str, &'p str)>) {
    for (i, (name, value)) in pairs.enumerate() {
        if i > 0 {
            out.push('&');
        }
        percent_encode_into(out, name);
        out.push('=');
        percent_encode_into(out, value);
    }
}

/// The `Authorization` header value of §3.5.1: realm first, then each protocol
/// parameter, every value percent-encoded and quoted.
///
/// The realm is percent-encoded too: it is not signed, and encoding it keeps a realm
/// with quotes or line breaks from breaking out of the header.
fn authorization_header(realm: Option<&str>, protocol: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(64 + protocol.len() * 40);
    out.push_str("OAuth ");
    let mut first = true;
    if let Some(realm) = realm {
        out.push_str("realm=\"");
        percent_encode_into(&mut out, realm);
        out.push('"');
        first = false;
    }
    for &(name, value) in protocol {
        if !first {
            out.push_str(", ");
        }
        first = false;
        percent_encode_into(&mut out, name);
        out.push_str("=\"");
        percent_encode_into(&mut out, value);
        out.push('"');
    }
    out
}

/// Fills `buf` with 128 random bits from the OS CSPRNG, as 32 lower-case hex digits.
///
/// Hex keeps the nonce inside the unreserved set, so it needs no encoding anywhere and is
/// accepted by providers that restrict nonces to alphanumerics.
fn random_nonce(buf: &mut [u8; 32]) -> Result<&str> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).map_err(|_| Error::Rng)?;
    for (i, b) in raw.iter().enumerate() {
        buf[2 * i] = HEX[usize::from(b >> 4)];
        buf[2 * i + 1] = HEX[usize::from(b & 0x0f)];
    }
    std::str::from_utf8(buf).map_err(|_| Error::Rng)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::oauth1::form_decode;

    /// Pulls the decoded `oauth_signature` out of an `Authorization` header.
    fn header_param(header: &str, name: &str) -> Option<String> {
        let rest = header.strip_prefix("OAuth ")?;
        rest.split(", ").find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k == name).then(|| form_decode(v.trim_matches('"')).into_owned())
        })
    }

    fn rfc_consumer() -> Consumer {
        Consumer::new("dpf43f3p2l4k3l03", "kd94hf93k423kf44")
    }

    #[test]
    fn rfc5849_temporary_credentials_request() {
        let signed = RequestSigner::new("POST", "https://photos.example.net/initiate")
            .callback("http://printer.example.com/ready")
            .timestamp(137_131_200)
            .nonce("wIjqoS")
            .include_version(false)
            .placement(Placement::Header {
                realm: Some("Photos".into()),
            })
            .sign(&rfc_consumer(), SignatureMethod::HmacSha1)
            .expect("signs");
        let header = signed.authorization.expect("header placement");
        assert_eq!(
            header,
            "OAuth realm=\"Photos\", oauth_callback=\"http%3A%2F%2Fprinter.example.com%2Fready\", \
             oauth_consumer_key=\"dpf43f3p2l4k3l03\", oauth_nonce=\"wIjqoS\", \
             oauth_signature=\"74KNZJeDHnMBp0EMJ9ZHt%2FXKycU%3D\", \
             oauth_signature_method=\"HMAC-SHA1\", oauth_timestamp=\"137131200\""
        );
        assert_eq!(
            header_param(&header, "oauth_signature").as_deref(),
            Some("74KNZJeDHnMBp0EMJ9ZHt/XKycU=")
        );
        assert_eq!(signed.url, "https://photos.example.net/initiate");
        assert_eq!(signed.form_body, None);
    }

    #[test]
    fn rfc5849_token_request() {
        let signed = RequestSigner::new("POST", "https://photos.example.net/token")
            .token("hh5s93j4hdidpola", "hdhd0244k9j7ao03")
            .verifier("hfdp7dh39dks9884")
            .timestamp(137_131_201)
            .nonce("walatlh")
            .include_version(false)
            .sign(&rfc_consumer(), SignatureMethod::HmacSha1)
            .expect("signs");
        let header = signed.authorization.expect("header placement");
        assert_eq!(
            header_param(&header, "oauth_signature").as_deref(),
            Some("gKgrFCywp7rO0OXSjdot/IHF7IU=")
        );
        assert_eq!(
            header_param(&header, "oauth_verifier").as_deref(),
            Some("hfdp7dh39dks9884")
        );
    }

    #[test]
    fn rfc5849_resource_request_in_each_placement() {
        let base = || {
            RequestSigner::new(
                "GET",
                "http://photos.example.net/photos?file=vacation.jpg&size=original",
            )
            .token("nnch734d00sl2jdk", "pfkkdhi9sl3r4s00")
            .timestamp(137_131_202)
            .nonce("chapoH")
            .include_version(false)
        };
        let consumer = rfc_consumer();
        let sig = "MdpQcU8iPSUjWoN/UDMsK2sui9I=";

        let header = base()
            .sign(&consumer, SignatureMethod::HmacSha1)
            .expect("signs");
        let auth = header.authorization.expect("header");
        assert_eq!(header_param(&auth, "oauth_signature").as_deref(), Some(sig));
        assert_eq!(
            header.url,
            "http://photos.example.net/photos?file=vacation.jpg&size=original"
        );

        let query = base()
            .placement(Placement::Query)
            .sign(&consumer, SignatureMethod::HmacSha1)
            .expect("signs");
        assert_eq!(query.authorization, None);
        assert_eq!(
            query.url,
            "http://photos.example.net/photos?file=vacation.jpg&size=original&\
             oauth_consumer_key=dpf43f3p2l4k3l03&oauth_nonce=chapoH&\
             oauth_signature=MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D&oauth_signature_method=HMAC-SHA1&\
             oauth_timestamp=137131202&oauth_token=nnch734d00sl2jdk"
        );

        let body = base()
            .placement(Placement::Body)
            .sign(&consumer, SignatureMethod::HmacSha1)
            .expect("signs");
        assert_eq!(body.authorization, None);
        assert_eq!(
            body.form_body.as_deref(),
            Some(
                "oauth_consumer_key=dpf43f3p2l4k3l03&oauth_nonce=chapoH&\
                 oauth_signature=MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D&oauth_signature_method=HMAC-SHA1&\
                 oauth_timestamp=137131202&oauth_token=nnch734d00sl2jdk"
            )
        );
    }

    #[test]
    fn rfc5849_section_3_4_1_1_end_to_end() {
        let consumer = Consumer::new("9djdj82h48djs9d2", "j49sk3j29djd");
        let signed = RequestSigner::new(
            "POST",
            "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b",
        )
        .form_body("c2&a3=2+q")
        .token("kkk9d7dh3k39sjv7", "dh893hdasih9")
        .timestamp(137_131_201)
        .nonce("7d8f3e4a")
        .include_version(false)
        .sign(&consumer, SignatureMethod::HmacSha1)
        .expect("signs");
        let auth = signed.authorization.expect("header");
        assert_eq!(
            header_param(&auth, "oauth_signature").as_deref(),
            Some("r6/TJjbCOr97/+UU0NsvSne7s5g=")
        );
        assert_eq!(signed.form_body.as_deref(), Some("c2=&a3=2%20q"));
    }

    #[test]
    fn twitter_status_update() {
        let consumer = Consumer::new(
            "xvz1evFS4wEEPTGEFPHBog",
            "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
        );
        let signed = RequestSigner::new("POST", "https://api.twitter.com/1.1/statuses/update.json")
            .form_param(
                "status",
                "Hello Ladies + Gentlemen, a signed OAuth request!",
            )
            .form_param("include_entities", "true")
            .token(
                "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
                "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
            )
            .timestamp(1_318_622_958)
            .nonce("kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg")
            .sign(&consumer, SignatureMethod::HmacSha1)
            .expect("signs");
        assert_eq!(
            signed.authorization.as_deref(),
            Some(
                "OAuth oauth_consumer_key=\"xvz1evFS4wEEPTGEFPHBog\", \
                 oauth_nonce=\"kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg\", \
                 oauth_signature=\"hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D\", \
                 oauth_signature_method=\"HMAC-SHA1\", oauth_timestamp=\"1318622958\", \
                 oauth_token=\"370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb\", \
                 oauth_version=\"1.0\""
            )
        );
        assert_eq!(
            signed.form_body.as_deref(),
            Some(
                "status=Hello%20Ladies%20%2B%20Gentlemen%2C%20a%20signed%20OAuth%20request%21&include_entities=true"
            )
        );
    }

    #[test]
    fn twitter_base_string() {
        let url = Url::parse("https://api.twitter.com/1.1/statuses/update.json").expect("url");
        let params = [
            (
                "status",
                "Hello Ladies + Gentlemen, a signed OAuth request!",
            ),
            ("include_entities", "true"),
            ("oauth_consumer_key", "xvz1evFS4wEEPTGEFPHBog"),
            ("oauth_nonce", "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "1318622958"),
            (
                "oauth_token",
                "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
            ),
            ("oauth_version", "1.0"),
        ];
        let base = crate::proto::oauth1::signature_base_string("POST", &url, params).expect("base");
        assert_eq!(
            base,
            "POST&https%3A%2F%2Fapi.twitter.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue%26\
             oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg%26\
             oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26\
             oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version%3D1.0%26\
             status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521"
        );
        let resource = "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26\
             oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3DchapoH%26oauth_signature_method%3DHMAC-SHA1%26\
             oauth_timestamp%3D137131202%26oauth_token%3Dnnch734d00sl2jdk%26size%3Doriginal";
        let url = Url::parse("http://photos.example.net/photos?file=vacation.jpg&size=original")
            .expect("url");
        let params = [
            ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
            ("oauth_nonce", "chapoH"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131202"),
            ("oauth_token", "nnch734d00sl2jdk"),
        ];
        assert_eq!(
            crate::proto::oauth1::signature_base_string("GET", &url, params)
                .ok()
                .as_deref(),
            Some(resource)
        );
    }

    #[test]
    fn plaintext_request_keeps_timestamp_and_nonce() {
        let signed = RequestSigner::new("POST", "https://photos.example.net/initiate")
            .callback("oob")
            .timestamp(1)
            .nonce("n")
            .sign(&rfc_consumer(), SignatureMethod::Plaintext)
            .expect("signs");
        let auth = signed.authorization.expect("header");
        assert_eq!(
            header_param(&auth, "oauth_signature").as_deref(),
            Some("kd94hf93k423kf44&")
        );
        assert_eq!(
            header_param(&auth, "oauth_signature_method").as_deref(),
            Some("PLAINTEXT")
        );
        assert_eq!(header_param(&auth, "oauth_timestamp").as_deref(), Some("1"));
        assert_eq!(header_param(&auth, "oauth_nonce").as_deref(), Some("n"));
    }

    #[test]
    fn default_timestamp_and_nonce_come_from_clock_and_rng() {
        let a = RequestSigner::new("GET", "https://example.com/")
            .sign(&rfc_consumer(), SignatureMethod::HmacSha1)
            .expect("signs");
        let b = RequestSigner::new("GET", "https://example.com/")
            .sign(&rfc_consumer(), SignatureMethod::HmacSha1)
            .expect("signs");
        let (a, b) = (a.authorization.expect("a"), b.authorization.expect("b"));
        let na = header_param(&a, "oauth_nonce").expect("nonce");
        assert_eq!(na.len(), 32);
        assert!(na.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(Some(na), header_param(&b, "oauth_nonce"));
        let ts: u64 = header_param(&a, "oauth_timestamp")
            .and_then(|t| t.parse().ok())
            .expect("ts");
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        assert!(now.abs_diff(ts) < 120);
        assert_eq!(header_param(&a, "oauth_version").as_deref(), Some("1.0"));
    }

    #[test]
    fn query_placement_on_url_without_query_and_with_fragment() {
        let signed = RequestSigner::new("GET", "https://Example.com:443/a#frag")
            .timestamp(5)
            .nonce("x")
            .include_version(false)
            .placement(Placement::Query)
            .sign(&rfc_consumer(), SignatureMethod::Plaintext)
            .expect("signs");
        assert_eq!(
            signed.url,
            "https://example.com/a?oauth_consumer_key=dpf43f3p2l4k3l03&oauth_nonce=x&\
             oauth_signature=kd94hf93k423kf44%26&oauth_signature_method=PLAINTEXT&oauth_timestamp=5"
        );
    }

    #[test]
    fn parsed_url_signs_like_text() {
        let text = "http://photos.example.net/photos?file=vacation.jpg&size=original#top";
        let parsed = Url::parse(text).expect("url");
        let sign = |signer: RequestSigner<'_>| {
            signer
                .token("nnch734d00sl2jdk", "pfkkdhi9sl3r4s00")
                .timestamp(137_131_202)
                .nonce("chapoH")
                .include_version(false)
                .placement(Placement::Query)
                .sign(&rfc_consumer(), SignatureMethod::HmacSha1)
                .expect("signs")
        };
        let from_text = sign(RequestSigner::new("GET", text));
        let from_url = sign(RequestSigner::for_url("GET", &parsed));
        assert_eq!(from_text, from_url);
        assert!(
            from_url
                .url
                .contains("oauth_signature=MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D")
        );
        assert!(!from_url.url.contains('#'));
    }

    #[test]
    fn realm_and_values_are_encoded() {
        let signed = RequestSigner::new("GET", "https://example.com/")
            .timestamp(5)
            .nonce("a\"b")
            .include_version(false)
            .placement(Placement::Header {
                realm: Some("x\", evil=\"1\r\n".into()),
            })
            .sign(&rfc_consumer(), SignatureMethod::HmacSha1)
            .expect("signs");
        let auth = signed.authorization.expect("header");
        assert!(
            auth.starts_with("OAuth realm=\"x%22%2C%20evil%3D%221%0D%0A\", oauth_consumer_key=")
        );
        assert!(auth.contains("oauth_nonce=\"a%22b\""));
    }

    #[test]
    fn rejects_bad_inputs() {
        let c = rfc_consumer();
        let e = RequestSigner::new("GET", "/relative")
            .sign(&c, SignatureMethod::HmacSha1)
            .err();
        assert_eq!(e.map(|e| e.code()), Some("invalid_url"));
        let e = RequestSigner::new("G T", "https://e.com/")
            .sign(&c, SignatureMethod::HmacSha1)
            .err();
        assert_eq!(e.map(|e| e.code()), Some("invalid_http_method"));
        for name in ["oauth_nonce", "oauth_signature", "x_custom"] {
            let e = RequestSigner::new("GET", "https://e.com/")
                .protocol_param(name, "v")
                .sign(&c, SignatureMethod::HmacSha1)
                .err();
            assert_eq!(
                e.map(|e| e.code()),
                Some("invalid_protocol_parameter"),
                "{name}"
            );
        }
        let ok = RequestSigner::new("GET", "https://e.com/")
            .protocol_param("oauth_session_handle", "h")
            .sign(&c, SignatureMethod::HmacSha1);
        assert!(ok.is_ok());
    }

    #[test]
    fn errors_do_not_leak_secrets() {
        let c = Consumer::new("ck", "topsecret");
        let e = RequestSigner::new("GET", "not a url topsecret")
            .token("tok", "tokensecret")
            .sign(&c, SignatureMethod::HmacSha1)
            .expect_err("fails");
        let text = format!("{e} {e:?}");
        assert!(!text.contains("topsecret") && !text.contains("tokensecret"));
    }
}
