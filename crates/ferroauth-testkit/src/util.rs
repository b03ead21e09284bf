//! Small helpers: randomness, encodings, time, parameter lists.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Seconds since the Unix epoch.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A random, URL-safe string carrying `bytes` bytes of entropy.
pub(crate) fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // The OS RNG failing is not recoverable in any meaningful way for a
    // security token generator; fall back loudly rather than hand out zeros.
    if let Err(e) = getrandom::fill(&mut buf) {
        panic!("operating system random number generator failed: {e}");
    }
    URL_SAFE_NO_PAD.encode(buf)
}

pub(crate) fn b64url(data: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// Constant-time byte comparison (length is not hidden).
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    std::hint::black_box(diff) == 0
}

/// RFC 3986 percent-encoding as required by RFC 5849 §3.6: everything but
/// unreserved characters is encoded, hex digits upper case.
pub(crate) fn oauth_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b >> 4)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b & 15)]));
        }
    }
    out
}

/// Strict percent-decoding (no `+` handling). `None` on malformed escapes
/// or invalid UTF-8.
pub(crate) fn percent_decode_strict(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = hex_val(*bytes.get(i + 1)?)?;
            let lo = hex_val(*bytes.get(i + 2)?)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `application/x-www-form-urlencoded` decoding of a single component
/// (`+` means space).
pub(crate) fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// An ordered list of decoded name/value pairs, duplicates preserved.
#[derive(Debug, Default, Clone)]
pub(crate) struct Params(pub(crate) Vec<(String, String)>);

impl Params {
    pub(crate) fn parse(input: &[u8]) -> Self {
        Self(
            url::form_urlencoded::parse(input)
                .filter(|(k, _)| !k.is_empty())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value for `name`, treating an empty value as absent
    /// (RFC 6749 §3.1).
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// The name of the first parameter (among `names`) that is present more
    /// than once, which RFC 6749 §3.1 forbids.
    pub(crate) fn duplicate_of(&self, names: &[&str]) -> Option<String> {
        names
            .iter()
            .find(|n| self.0.iter().filter(|(k, _)| k == *n).count() > 1)
            .map(|n| (*n).to_owned())
    }
}

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// PKCE `code_verifier` / `code_challenge` syntax (RFC 7636 §4.1): 43 to 128
/// unreserved characters.
pub(crate) fn is_pkce_string(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauth_encoding_round_trips() {
        let s = "Ladies + Gentlemen ~ a/b=c&d é";
        let e = oauth_encode(s);
        assert_eq!(e, "Ladies%20%2B%20Gentlemen%20~%20a%2Fb%3Dc%26d%20%C3%A9");
        assert_eq!(percent_decode_strict(&e).as_deref(), Some(s));
        assert_eq!(percent_decode_strict("%zz"), None);
        assert_eq!(percent_decode_strict("%4"), None);
    }

    #[test]
    fn form_decoding_handles_plus() {
        assert_eq!(form_decode("a+b%2Bc%3A"), "a b+c:");
        assert_eq!(form_decode("%"), "%");
    }

    #[test]
    fn params_detect_duplicates() {
        let p = Params::parse(b"a=1&b=2&a=3&c=");
        assert_eq!(p.duplicate_of(&["b", "a"]).as_deref(), Some("a"));
        assert_eq!(p.get("c"), None);
        assert_eq!(p.get("a"), Some("1"));
    }

    #[test]
    fn constant_time_eq() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }
}
