//! Signature methods of RFC 5849 §3.4 and the consumer's signing key.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};

use super::encode::percent_encode_into;
use super::error::{Error, Result, truncate};
use crate::Secret;

#[cfg(feature = "rsa")]
use super::rsa_key::RsaKey;

/// How a request is signed (`oauth_signature_method`).
///
/// Providers each accept a fixed set; HMAC-SHA1 is the one nearly all of them support.
/// The RSA methods exist only with the crate feature `rsa`; see `RsaKey` for the
/// RUSTSEC-2023-0071 security note that comes with them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureMethod {
    /// `HMAC-SHA1` (§3.4.2), keyed with the client and token secrets.
    HmacSha1,
    /// `HMAC-SHA256`, the same construction with SHA-256; not in RFC 5849 but widely
    /// offered by providers that moved off SHA-1.
    HmacSha256,
    /// `PLAINTEXT` (§3.4.4): the key itself is the signature, so it is only safe over TLS.
    Plaintext,
    /// `RSA-SHA1` (§3.4.3): PKCS#1 v1.5 over SHA-1 with the consumer's RSA key.
    ///
    /// Signs with the pure-Rust `rsa` crate in this process; see [`RsaKey`] about
    /// advisory RUSTSEC-2023-0071 before relying on it.
    #[cfg(feature = "rsa")]
    RsaSha1,
    /// `RSA-SHA256`: PKCS#1 v1.5 over SHA-256 with the consumer's RSA key (same
    /// RUSTSEC-2023-0071 note as [`SignatureMethod::RsaSha1`]).
    #[cfg(feature = "rsa")]
    RsaSha256,
}

impl SignatureMethod {
    /// The name sent as `oauth_signature_method`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SignatureMethod::HmacSha1 => "HMAC-SHA1",
            SignatureMethod::HmacSha256 => "HMAC-SHA256",
            SignatureMethod::Plaintext => "PLAINTEXT",
            #[cfg(feature = "rsa")]
            SignatureMethod::RsaSha1 => "RSA-SHA1",
            #[cfg(feature = "rsa")]
            SignatureMethod::RsaSha256 => "RSA-SHA256",
        }
    }

    /// Whether the method signs with the consumer's RSA key rather than its secret.
    pub const fn uses_rsa_key(self) -> bool {
        match self {
            #[cfg(feature = "rsa")]
            SignatureMethod::RsaSha1 | SignatureMethod::RsaSha256 => true,
            _ => false,
        }
    }
}

impl fmt::Display for SignatureMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SignatureMethod {
    type Err = Error;

    /// Reads a method name as written in provider documentation or configuration;
    /// case is ignored because configuration files are written by people.
    fn from_str(s: &str) -> Result<Self> {
        let m = s.trim();
        let known = [
            SignatureMethod::HmacSha1,
            SignatureMethod::HmacSha256,
            SignatureMethod::Plaintext,
            #[cfg(feature = "rsa")]
            SignatureMethod::RsaSha1,
            #[cfg(feature = "rsa")]
            SignatureMethod::RsaSha256,
        ];
        known
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(m))
            .ok_or_else(|| Error::UnsupportedSignatureMethod {
                method: truncate(s, 32),
            })
    }
}

/// The client credentials (RFC 5849 §1.1 "client", a.k.a. consumer) used to sign.
///
/// Holds the key sent as `oauth_consumer_key`, the shared secret for HMAC and PLAINTEXT,
/// and, with the `rsa` feature, an optional RSA private key for the RSA methods.
#[derive(Clone)]
pub struct Consumer {
    key: String,
    secret: Secret,
    #[cfg(feature = "rsa")]
    rsa_key: Option<RsaKey>,
}

impl Consumer {
    /// Client credentials for the HMAC and PLAINTEXT methods.
    pub fn new(key: impl Into<String>, secret: impl Into<Secret>) -> Self {
        Self {
            key: key.into(),
            secret: secret.into(),
            #[cfg(feature = "rsa")]
            rsa_key: None,
        }
    }

    /// Client credentials for the RSA methods; providers that use RSA register the
    /// public key instead of issuing a shared secret, so the secret is left empty.
    #[cfg(feature = "rsa")]
    pub fn with_rsa_key(key: impl Into<String>, rsa_key: RsaKey) -> Self {
        Self {
            key: key.into(),
            secret: Secret::default(),
            rsa_key: Some(rsa_key),
        }
    }

    /// Adds an RSA key to credentials that also have a shared secret.
    #[cfg(feature = "rsa")]
    #[must_use]
    pub fn rsa_key(mut self, rsa_key: RsaKey) -> Self {
        self.rsa_key = Some(rsa_key);
        self
    }

    /// The consumer key, sent in clear as `oauth_consumer_key`.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The shared secret.
    pub fn secret(&self) -> &Secret {
        &self.secret
    }
}

impl fmt::Debug for Consumer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Consumer");
        d.field("key", &self.key).field("secret", &self.secret);
        #[cfg(feature = "rsa")]
        d.field("rsa_key", &self.rsa_key);
        d.finish()
    }
}

/// Appends `encode(client_secret) & encode(token_secret)`: the HMAC key of §3.4.2 and
/// the PLAINTEXT signature of §3.4.4.
fn write_secret_key(out: &mut String, consumer_secret: &str, token_secret: &str) {
    percent_encode_into(out, consumer_secret);
    out.push('&');
    percent_encode_into(out, token_secret);
}

fn hmac_base64<D>(key: &[u8], message: &[u8]) -> Result<String>
where
    D: hmac::EagerHash,
    Hmac<D>: KeyInit + Mac,
{
    // HMAC accepts keys of any length, so this cannot fail in practice.
    let mut mac = <Hmac<D> as KeyInit>::new_from_slice(key).map_err(|_| Error::SigningFailed)?;
    mac.update(message);
    Ok(BASE64.encode(mac.finalize().into_bytes()))
}

/// Signs a signature base string, returning the value of `oauth_signature`
/// (before the percent-encoding that the header, query or body applies).
///
/// `token_secret` is `None` before a token exists (temporary-credentials request); the
/// key then ends in `&` as §3.4.2 requires.
///
/// # Errors
/// [`Error::MissingRsaKey`] for an RSA method on a consumer without an RSA key, and
/// [`Error::SigningFailed`] if the primitive refuses (an RSA key too small).
pub fn sign_base_string(
    method: SignatureMethod,
    base_string: &str,
    consumer: &Consumer,
    token_secret: Option<&str>,
) -> Result<String> {
    let token_secret = token_secret.unwrap_or("");
    let consumer_secret = consumer.secret.expose();
    match method {
        SignatureMethod::Plaintext => {
            let mut out = String::with_capacity(consumer_secret.len() + token_secret.len() + 8);
            write_secret_key(&mut out, consumer_secret, token_secret);
            Ok(out)
        }
        SignatureMethod::HmacSha1 | SignatureMethod::HmacSha256 => {
            let mut key = String::with_capacity(consumer_secret.len() + token_secret.len() + 8);
            write_secret_key(&mut key, consumer_secret, token_secret);
            if method == SignatureMethod::HmacSha1 {
                hmac_base64::<sha1::Sha1>(key.as_bytes(), base_string.as_bytes())
            } else {
                hmac_base64::<sha2::Sha256>(key.as_bytes(), base_string.as_bytes())
            }
        }
        #[cfg(feature = "rsa")]
        SignatureMethod::RsaSha1 | SignatureMethod::RsaSha256 => {
            let key = consumer.rsa_key.as_ref().ok_or(Error::MissingRsaKey)?;
            let sig = key.sign(method == SignatureMethod::RsaSha256, base_string.as_bytes())?;
            Ok(BASE64.encode(sig))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Base string of RFC 5849 §1.2's protected-resource request, with the method name
    /// swapped in.
    fn photos_base(method: &str) -> String {
        format!(
            "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26\
             oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3DchapoH%26\
             oauth_signature_method%3D{method}%26oauth_timestamp%3D137131202%26\
             oauth_token%3Dnnch734d00sl2jdk%26size%3Doriginal"
        )
    }

    fn photos_consumer() -> Consumer {
        Consumer::new("dpf43f3p2l4k3l03", "kd94hf93k423kf44")
    }

    #[test]
    fn parses_method_names() {
        assert_eq!(
            "HMAC-SHA1".parse::<SignatureMethod>().ok(),
            Some(SignatureMethod::HmacSha1)
        );
        assert_eq!(
            "hmac-sha256".parse::<SignatureMethod>().ok(),
            Some(SignatureMethod::HmacSha256)
        );
        assert_eq!(
            "PLAINTEXT".parse::<SignatureMethod>().ok(),
            Some(SignatureMethod::Plaintext)
        );
        #[cfg(feature = "rsa")]
        {
            assert_eq!(
                "RSA-SHA1".parse::<SignatureMethod>().ok(),
                Some(SignatureMethod::RsaSha1)
            );
            assert_eq!(
                "RSA-SHA256".parse::<SignatureMethod>().ok(),
                Some(SignatureMethod::RsaSha256)
            );
        }
        for m in [
            SignatureMethod::HmacSha1,
            SignatureMethod::HmacSha256,
            SignatureMethod::Plaintext,
        ] {
            assert_eq!(m.to_string().parse::<SignatureMethod>().ok(), Some(m));
        }
    }

    #[test]
    fn unknown_method_is_a_typed_error() {
        let e = "HMAC-MD5".parse::<SignatureMethod>().err();
        assert_eq!(
            e.as_ref().map(Error::code),
            Some("unsupported_signature_method")
        );
        assert!(matches!(
            e,
            Some(Error::UnsupportedSignatureMethod { method }) if method == "HMAC-MD5"
        ));
    }

    #[test]
    fn hmac_sha1_rfc5849_resource_request() {
        let sig = sign_base_string(
            SignatureMethod::HmacSha1,
            &photos_base("HMAC-SHA1"),
            &photos_consumer(),
            Some("pfkkdhi9sl3r4s00"),
        );
        assert_eq!(sig.ok().as_deref(), Some("MdpQcU8iPSUjWoN/UDMsK2sui9I="));
    }

    #[test]
    fn hmac_sha256_known_answer() {
        // Expected value computed independently with Python:
        //   base64.b64encode(hmac.new(b"kd94hf93k423kf44&pfkkdhi9sl3r4s00",
        //                             base.encode(), hashlib.sha256).digest())
        let sig = sign_base_string(
            SignatureMethod::HmacSha256,
            &photos_base("HMAC-SHA256"),
            &photos_consumer(),
            Some("pfkkdhi9sl3r4s00"),
        );
        assert_eq!(
            sig.ok().as_deref(),
            Some("HtMwoX2zenlFjgGg/SNEoKEQmL7CzxYFEKzs7er044Y=")
        );
    }

    #[test]
    fn plaintext_known_answers() {
        let sig = sign_base_string(
            SignatureMethod::Plaintext,
            "ignored",
            &photos_consumer(),
            Some("pfkkdhi9sl3r4s00"),
        );
        assert_eq!(
            sig.ok().as_deref(),
            Some("kd94hf93k423kf44&pfkkdhi9sl3r4s00")
        );
        let sig = sign_base_string(SignatureMethod::Plaintext, "", &photos_consumer(), None);
        assert_eq!(sig.ok().as_deref(), Some("kd94hf93k423kf44&"));
        // Expected value computed independently with Python:
        //   quote("s e/c+ret~", safe="-._~") + "&" + quote("ü&=", safe="-._~")
        let c = Consumer::new("k", "s e/c+ret~");
        let sig = sign_base_string(SignatureMethod::Plaintext, "", &c, Some("ü&="));
        assert_eq!(sig.ok().as_deref(), Some("s%20e%2Fc%2Bret~&%C3%BC%26%3D"));
    }

    #[test]
    fn debug_hides_consumer_secret() {
        let dbg = format!("{:?}", photos_consumer());
        assert!(dbg.contains("dpf43f3p2l4k3l03"));
        assert!(!dbg.contains("kd94hf93k423kf44"));
    }

    #[cfg(feature = "rsa")]
    #[test]
    fn rsa_without_key_is_a_typed_error() {
        let e = sign_base_string(SignatureMethod::RsaSha1, "x", &photos_consumer(), None).err();
        assert_eq!(e.map(|e| e.code()), Some("missing_rsa_key"));
    }
}
