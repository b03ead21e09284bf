//! The signature base string of RFC 5849 §3.4.1.
//!
//! Client and server each rebuild this string from the request and sign it; any
//! difference (a port, a `+` in the body, the order of repeated names) breaks the
//! signature, so each rule of §3.4.1 has its own small function here.

use url::Url;

use super::encode::{parse_form, percent_encode_into, write_u64};
use super::error::{Error, Result};

/// Whether `b` may appear in an HTTP method (RFC 9110 `tchar`).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Checks the method is an HTTP token and appends it upper-cased (§3.4.1.1 step 1).
pub(crate) fn write_method(out: &mut String, method: &str) -> Result<()> {
    // `&` is a legal tchar but would make the base string ambiguous.
    if method.is_empty() || !method.bytes().all(|b| is_tchar(b) && b != b'&') {
        return Err(Error::InvalidMethod);
    }
    out.extend(method.chars().map(|c| c.to_ascii_uppercase()));
    Ok(())
}

/// Appends the base string URI of §3.4.1.2 (not yet percent-encoded) to `out`.
pub(crate) fn write_base_string_uri(out: &mut String, url: &Url) -> Result<()> {
    write_uri(out, url, false)
}

/// Appends the base string URI percent-encoded, as it appears in the base string,
/// without building the plain URI first.
fn write_base_string_uri_encoded(out: &mut String, url: &Url) -> Result<()> {
    write_uri(out, url, true)
}

/// Appends the base string URI, percent-encoded once more when `encoded`; encoding
/// works character by character, so encoding each part equals encoding the whole.
fn write_uri(out: &mut String, url: &Url, encoded: bool) -> Result<()> {
    let scheme = url.scheme();
    if scheme != "http" && scheme != "https" {
        return Err(Error::InvalidUrl {
            reason: "scheme must be http or https",
        });
    }
    let host = url.host_str().ok_or(Error::InvalidUrl {
        reason: "URL has no host",
    })?;
    let push = |out: &mut String, s: &str| {
        if encoded {
            percent_encode_into(out, s);
        } else {
            out.push_str(s);
        }
    };
    // `Url` already lower-cases the scheme and host of http(s) URLs and reports no port
    // when the port is the scheme's default, which is exactly what §3.4.1.2 asks for.
    out.push_str(scheme);
    push(out, "://");
    push(out, host);
    if let Some(port) = url.port() {
        push(out, ":");
        let mut buf = [0; 20];
        out.push_str(write_u64(&mut buf, port.into()));
    }
    // The path as it goes on the wire; `Url::path` is never empty for http(s).
    push(out, url.path());
    Ok(())
}

/// The base string URI of RFC 5849 §3.4.1.2 for `url`.
///
/// Scheme and host come out lower-case, the default port (80 for http, 443 for https)
/// is dropped and any other port kept, the path is kept as sent, and the query and
/// fragment are removed (the query takes part through the parameters instead).
///
/// "As sent" means as the `url` crate serialises it, which is what HTTP clients built on
/// it (reqwest, hyper-util) put on the request line: `.`/`..` segments are already
/// resolved and characters not allowed in a path are already percent-encoded.
///
/// # Errors
/// [`Error::InvalidUrl`] when the scheme is not http(s) or there is no host.
pub fn base_string_uri(url: &Url) -> Result<String> {
    let mut out = String::with_capacity(url.as_str().len());
    write_base_string_uri(&mut out, url)?;
    Ok(out)
}

/// The request parameters, percent-encoded into one buffer and sortable in place.
///
/// Keeping every name and value in one `String` with index spans, instead of a
/// `String` per item, keeps the signing path down to a handful of allocations.
#[derive(Debug, Default, Clone)]
pub(crate) struct EncodedParams {
    text: String,
    spans: Vec<Span>,
}

/// One parameter in [`EncodedParams::text`].
#[derive(Debug, Clone, Copy)]
struct Span {
    name_start: usize,
    /// Where the name ends and the value starts.
    value_start: usize,
    value_end: usize,
    /// Nothing was escaped, so encoding the pair again changes nothing; most
    /// parameters (keys, nonces, timestamps) are like this.
    unescaped: bool,
}

impl EncodedParams {
    /// An empty set with room for about `n` parameters.
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self {
            text: String::with_capacity(n * 24),
            spans: Vec::with_capacity(n),
        }
    }

    /// Adds one decoded parameter, skipping `oauth_signature` as §3.4.1.3.1 requires.
    pub(crate) fn push(&mut self, name: &str, value: &str) {
        if name == "oauth_signature" {
            return;
        }
        let name_start = self.text.len();
        percent_encode_into(&mut self.text, name);
        let value_start = self.text.len();
        percent_encode_into(&mut self.text, value);
        let value_end = self.text.len();
        self.spans.push(Span {
            name_start,
            value_start,
            value_end,
            // Escaping lengthens the text, so an unchanged length means none happened.
            unescaped: value_end - name_start == name.len() + value.len(),
        });
    }

    /// Adds every pair of a form-urlencoded string (a URL query or a request body).
    pub(crate) fn push_form(&mut self, form: &str) {
        for (name, value) in parse_form(form) {
            self.push(&name, &value);
        }
    }

    /// Sorts by encoded name, then encoded value, by byte value (§3.4.1.3.2 step 2).
    pub(crate) fn sort(&mut self) {
        let text = &self.text;
        self.spans.sort_unstable_by(|a, b| {
            let (a_name, a_value) = a.pair(text);
            let (b_name, b_value) = b.pair(text);
            a_name.cmp(b_name).then_with(|| a_value.cmp(b_value))
        });
    }

    fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.spans.iter().map(|span| span.pair(&self.text))
    }

    /// Appends `name=value&…` in the current order (the normalized parameter string).
    pub(crate) fn write_normalized(&self, out: &mut String) {
        for (i, (name, value)) in self.pairs().enumerate() {
            if i > 0 {
                out.push('&');
            }
            out.push_str(name);
            out.push('=');
            out.push_str(value);
        }
    }

    /// Appends the normalized parameter string percent-encoded once more, as it
    /// appears in the base string, without building the intermediate string.
    pub(crate) fn write_normalized_encoded(&self, out: &mut String) {
        for (i, span) in self.spans.iter().enumerate() {
            if i > 0 {
                out.push_str("%26");
            }
            let (name, value) = span.pair(&self.text);
            let encode = |out: &mut String, s: &str| {
                if span.unescaped {
                    out.push_str(s);
                } else {
                    percent_encode_into(out, s);
                }
            };
            encode(out, name);
            out.push_str("%3D");
            encode(out, value);
        }
    }

    /// Length of the normalized string, to size buffers up front.
    pub(crate) fn text_len(&self) -> usize {
        self.text.len()
    }
}

impl Span {
    fn pair<'t>(&self, text: &'t str) -> (&'t str, &'t str) {
        (
            &text[self.name_start..self.value_start],
            &text[self.value_start..self.value_end],
        )
    }
}

/// The normalized request parameter string of RFC 5849 §3.4.1.3.2.
///
/// `params` are decoded `(name, value)` pairs from every source (query, form body,
/// protocol parameters); `oauth_signature` is dropped, names and values are
/// percent-encoded, sorted by name then value, and repeated names are all kept.
pub fn normalize_parameters<'a, I>(params: I) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut enc = EncodedParams::default();
    for (name, value) in params {
        enc.push(name, value);
    }
    enc.sort();
    let mut out = String::with_capacity(enc.text_len() + enc.spans.len() * 2);
    enc.write_normalized(&mut out);
    out
}

/// The signature base string of RFC 5849 §3.4.1.1.
///
/// The query parameters of `url` are read from the URL itself; `params` are the
/// remaining decoded parameters: the `oauth_*` protocol parameters (without `realm` and
/// `oauth_signature`) and, when the body is `application/x-www-form-urlencoded`, the
/// body parameters.
///
/// # Errors
/// [`Error::InvalidMethod`] for a method that is not an HTTP token, and
/// [`Error::InvalidUrl`] when the URL is not http(s) or has no host.
pub fn signature_base_string<'a, I>(method: &str, url: &Url, params: I) -> Result<String>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut enc = EncodedParams::default();
    if let Some(query) = url.query() {
        enc.push_form(query);
    }
    for (name, value) in params {
        enc.push(name, value);
    }
    enc.sort();
    let mut out = String::new();
    write_base_string(&mut out, method, url, &enc)?;
    Ok(out)
}

/// Appends the full base string to `out`, given already collected parameters.
pub(crate) fn write_base_string(
    out: &mut String,
    method: &str,
    url: &Url,
    params: &EncodedParams,
) -> Result<()> {
    out.reserve(method.len() + url.as_str().len() * 2 + params.text_len() * 2);
    write_method(out, method)?;
    out.push('&');
    write_base_string_uri_encoded(out, url)?;
    out.push('&');
    params.write_normalized_encoded(out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test URL")
    }

    #[test]
    fn base_string_uri_examples() {
        // RFC 5849 §3.4.1.2: `GET /r%20v/X?id=123`, `Host: EXAMPLE.COM:80`.
        assert_eq!(
            base_string_uri(&url("http://EXAMPLE.COM:80/r%20v/X?id=123"))
                .ok()
                .as_deref(),
            Some("http://example.com/r%20v/X")
        );
        // `GET /?q=1`, `Host: www.example.net:8080`, https.
        assert_eq!(
            base_string_uri(&url("https://www.example.net:8080/?q=1"))
                .ok()
                .as_deref(),
            Some("https://www.example.net:8080/")
        );
        assert_eq!(
            base_string_uri(&url("HTTPS://Example.com:443/a/B#frag"))
                .ok()
                .as_deref(),
            Some("https://example.com/a/B")
        );
        // A non-default port for the other scheme is kept.
        assert_eq!(
            base_string_uri(&url("http://example.com:443/"))
                .ok()
                .as_deref(),
            Some("http://example.com:443/")
        );
        assert_eq!(
            base_string_uri(&url("https://user:pw@example.com/x"))
                .ok()
                .as_deref(),
            Some("https://example.com/x")
        );
    }

    #[test]
    fn encoded_uri_is_the_encoded_plain_uri() {
        for u in [
            "http://example.com:8080/r%20v/X?id=1",
            "https://[::1]:8443/a/b~c",
            "https://xn--bcher-kva.example/%E2%98%83/",
        ] {
            let u = url(u);
            let plain = base_string_uri(&u).expect("plain");
            let mut encoded = String::new();
            write_base_string_uri_encoded(&mut encoded, &u).expect("encoded");
            assert_eq!(encoded, crate::proto::oauth1::percent_encode(&plain));
        }
    }

    #[test]
    fn base_string_uri_rejects_other_schemes() {
        let e = base_string_uri(&url("ftp://example.com/x")).err();
        assert_eq!(e.map(|e| e.code()), Some("invalid_url"));
    }

    #[test]
    fn rfc5849_section_3_4_1_1_with_erratum_2550() {
        let u = url("http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b");
        let body: Vec<(String, String)> = parse_form("c2&a3=2+q")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let oauth = [
            ("oauth_consumer_key", "9djdj82h48djs9d2"),
            ("oauth_token", "kkk9d7dh3k39sjv7"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131201"),
            ("oauth_nonce", "7d8f3e4a"),
            ("oauth_signature", "ignored"),
        ];
        let params = body
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(oauth.iter().copied());
        let base = signature_base_string("post", &u, params).ok();
        assert_eq!(
            base.as_deref(),
            Some(
                "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26\
                 b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26\
                 oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D\
                 137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
            )
        );

        let query: Vec<(String, String)> = parse_form(u.query().unwrap_or(""))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let all = query
            .iter()
            .chain(body.iter())
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(oauth.iter().copied());
        assert_eq!(
            normalize_parameters(all),
            "a2=r%20b&a3=2%20q&a3=a&b5=%3D%253D&c%40=&c2=&oauth_consumer_key=9djdj82h48djs9d2\
             &oauth_nonce=7d8f3e4a&oauth_signature_method=HMAC-SHA1&oauth_timestamp=137131201\
             &oauth_token=kkk9d7dh3k39sjv7"
        );
    }

    #[test]
    fn method_must_be_a_token() {
        let u = url("http://example.com/");
        for bad in ["", "GE T", "GE&T", "GÉT"] {
            let e = signature_base_string(bad, &u, []).err();
            assert_eq!(e.map(|e| e.code()), Some("invalid_http_method"), "{bad:?}");
        }
    }
}
