//! Compact JSON Web Signatures (RFC 7515) and the algorithms of RFC 7518 / RFC 8037.
//!
//! [`UnverifiedJws::parse`] splits and decodes a compact token and reads its protected
//! header; one of the `verify*` methods then checks the signature and only then hands out
//! the payload bytes, so nothing reads attacker-chosen claims before they are
//! authenticated.
//!
//! # Security notes
//!
//! * **Strict encoding.** A token is at most [`MAX_TOKEN_LEN`] bytes, has exactly three
//!   parts, each made only of the base64url alphabet without padding, and every part must
//!   decode canonically. Header member names must be unique (a duplicate `alg` could make
//!   two parsers disagree about what was signed).
//! * **`alg: none` is always refused** ([`JwsError::NoneAlgorithm`]), in any spelling, and
//!   so is any algorithm missing from the caller's allow-list.
//! * **The algorithm picks the key family; the key must belong to it.** RSA keys only verify
//!   `RS*`/`PS*`, P-256 keys only `ES256`, P-384 keys only `ES384`, Ed25519 keys only
//!   `EdDSA`, and HMAC (`HS*`) only ever uses a shared secret the application supplied
//!   explicitly. So a token that claims `HS256` can never be checked with an RSA or EC
//!   public key used as an HMAC secret (the "algorithm confusion" attack), and an RSA key
//!   cannot be fed to an EC verifier.
//! * **`crit` is rejected whenever present, even as an empty array.** A `crit` header lists
//!   extensions the recipient *must* understand and process (RFC 7515 §4.1.11), such as
//!   `b64: false`, which changes what bytes were signed. We implement no extension, so
//!   accepting such a token would mean verifying something other than what the signer
//!   meant; an empty list is itself forbidden by the RFC.
//! * **Embedded and remote keys are ignored.** `jwk`, `jku`, `x5u`, `x5c` header members are
//!   never read: a key that arrives inside the token, or at a URL the token chooses, is
//!   chosen by whoever made the token, so it proves nothing. Keys only come from the
//!   provider's JWK Set the application fetched itself, or from its own client secret.
//! * ECDSA signatures are the fixed-size `R || S` form of RFC 7518 §3.4 (64 bytes for
//!   `ES256`, 96 for `ES384`); DER-encoded signatures are not accepted.
//! * HMAC keys shorter than the hash output are refused (RFC 7518 §3.2), and HMAC tags are
//!   compared in constant time.

use std::fmt;

use aws_lc_rs::{digest, hmac};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::jwk::{Jwk, JwkSet, KeySelectError, KeyType, Material};

/// Largest compact token accepted, in bytes.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// A JWS signature algorithm we can verify.
#[allow(clippy::upper_case_acronyms)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// HMAC with SHA-256 (shared secret only).
    HS256,
    /// HMAC with SHA-384 (shared secret only).
    HS384,
    /// HMAC with SHA-512 (shared secret only).
    HS512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256 and MGF1 with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384 and MGF1 with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512 and MGF1 with SHA-512.
    PS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// EdDSA with Ed25519 (RFC 8037).
    EdDSA,
}

impl Algorithm {
    /// Every supported algorithm.
    pub const ALL: [Algorithm; 12] = [
        Algorithm::HS256,
        Algorithm::HS384,
        Algorithm::HS512,
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ];

    /// The algorithm named by a JOSE `alg` value (case-sensitive), if supported.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The JOSE `alg` value.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::HS256 => "HS256",
            Algorithm::HS384 => "HS384",
            Algorithm::HS512 => "HS512",
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::PS384 => "PS384",
            Algorithm::PS512 => "PS512",
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::EdDSA => "EdDSA",
        }
    }

    /// The only key type that may verify this algorithm.
    pub fn key_type(self) -> KeyType {
        match self {
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => KeyType::Oct,
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => KeyType::Rsa,
            Algorithm::ES256 => KeyType::EcP256,
            Algorithm::ES384 => KeyType::EcP384,
            Algorithm::EdDSA => KeyType::Ed25519,
        }
    }

    /// Whether this is an HMAC algorithm (needs a shared secret).
    pub fn is_symmetric(self) -> bool {
        self.key_type() == KeyType::Oct
    }

    /// The hash that OpenID Connect pairs with this algorithm for `at_hash` / `c_hash`
    /// (SHA-512 for Ed25519).
    pub(crate) fn hash(self) -> &'static digest::Algorithm {
        match self {
            Algorithm::HS256 | Algorithm::RS256 | Algorithm::PS256 | Algorithm::ES256 => {
                &digest::SHA256
            }
            Algorithm::HS384 | Algorithm::RS384 | Algorithm::PS384 | Algorithm::ES384 => {
                &digest::SHA384
            }
            Algorithm::HS512 | Algorithm::RS512 | Algorithm::PS512 | Algorithm::EdDSA => {
                &digest::SHA512
            }
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a JWS was refused. Messages never contain the token or key material.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JwsError {
    /// Longer than [`MAX_TOKEN_LEN`].
    #[error("token is longer than {MAX_TOKEN_LEN} bytes")]
    TooLarge,
    /// Not a well-formed compact JWS; the text says which part is wrong.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// The header says `alg: none` (an unsigned token).
    #[error("unsigned tokens (`alg: none`) are never accepted")]
    NoneAlgorithm,
    /// The header names an algorithm this library does not implement.
    #[error("the token's `alg` is not a supported signature algorithm")]
    UnsupportedAlgorithm,
    /// The algorithm is supported but not in the caller's allow-list.
    #[error("algorithm {0} is not among the allowed algorithms")]
    AlgorithmNotAllowed(Algorithm),
    /// The header has a `crit` member; no extension is understood.
    #[error("the token has a `crit` header; no JWS extensions are supported")]
    UnknownCritical,
    /// No single key could be chosen.
    #[error(transparent)]
    KeySelection(#[from] KeySelectError),
    /// The key given does not belong to the algorithm's family.
    #[error("the key's type does not fit algorithm {0}")]
    KeyMismatch(Algorithm),
    /// An HMAC secret shorter than the hash output.
    #[error("the shared secret is shorter than {0} requires")]
    WeakHmacKey(Algorithm),
    /// The signature does not verify.
    #[error("signature verification failed")]
    BadSignature,
}

impl JwsError {
    /// Stable snake_case name of the reason.
    pub fn reason(&self) -> &'static str {
        match self {
            JwsError::TooLarge => "too_large",
            JwsError::Malformed(_) => "malformed",
            JwsError::NoneAlgorithm => "none_algorithm",
            JwsError::UnsupportedAlgorithm => "unsupported_algorithm",
            JwsError::AlgorithmNotAllowed(_) => "algorithm_not_allowed",
            JwsError::UnknownCritical => "unknown_critical",
            JwsError::KeySelection(e) => e.reason(),
            JwsError::KeyMismatch(_) => "key_mismatch",
            JwsError::WeakHmacKey(_) => "weak_hmac_key",
            JwsError::BadSignature => "bad_signature",
        }
    }
}

/// The protected header members we act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    alg: Algorithm,
    kid: Option<String>,
    typ: Option<String>,
}

impl Header {
    /// The signature algorithm (`alg`).
    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// The key id (`kid`), if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The media type (`typ`), if any.
    pub fn typ(&self) -> Option<&str> {
        self.typ.as_deref()
    }
}

/// A parsed compact JWS whose signature has not been checked yet.
#[derive(Clone, Debug)]
pub struct UnverifiedJws<'a> {
    header: Header,
    signing_input: &'a str,
    payload_b64: &'a str,
    signature: Vec<u8>,
}

impl<'a> UnverifiedJws<'a> {
    /// Splits and decodes a compact JWS and reads its header.
    ///
    /// Refuses oversized or malformed tokens, `alg: none`, unsupported algorithms and any
    /// `crit` header. The payload is not decoded until a signature check succeeds.
    pub fn parse(token: &'a str) -> Result<Self, JwsError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(JwsError::TooLarge);
        }
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwsError::Malformed(
                "a compact JWS has exactly three dot-separated parts",
            ));
        };
        check_charset(header_b64, "header is not unpadded base64url")?;
        check_charset(payload_b64, "payload is not unpadded base64url")?;
        check_charset(signature_b64, "signature is not unpadded base64url")?;
        if header_b64.is_empty() {
            return Err(JwsError::Malformed("empty header"));
        }
        let header_json = URL_SAFE_NO_PAD
            .decode(header_b64)
            .map_err(|_| JwsError::Malformed("header is not unpadded base64url"))?;
        let header = parse_header(&header_json)?;
        if signature_b64.is_empty() {
            return Err(JwsError::Malformed("empty signature"));
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature_b64)
            .map_err(|_| JwsError::Malformed("signature is not unpadded base64url"))?;
        // Cannot fail: both parts were found in `token` with one '.' between them.
        let signing_input = token
            .get(..header_b64.len() + 1 + payload_b64.len())
            .ok_or(JwsError::Malformed("bad part boundaries"))?;
        Ok(UnverifiedJws {
            header,
            signing_input,
            payload_b64,
            signature,
        })
    }

    /// The protected header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Verifies with keys chosen from `keys` by the header's `kid` and `alg`, or — for
    /// `HS*` — with `hmac_secret` when given. Returns the payload bytes.
    pub fn verify(
        &self,
        keys: &JwkSet,
        hmac_secret: Option<&[u8]>,
        allowed: &[Algorithm],
    ) -> Result<Vec<u8>, JwsError> {
        let alg = self.allowed_alg(allowed)?;
        if let (true, Some(secret)) = (alg.is_symmetric(), hmac_secret) {
            verify_hmac(alg, secret, self.signing_input.as_bytes(), &self.signature)?;
            return self.payload();
        }
        let key = keys.find(self.header.kid(), alg)?;
        self.check_with(alg, key)
    }

    /// Verifies with one given key, which must fit the header's algorithm.
    pub fn verify_with_key(&self, key: &Jwk, allowed: &[Algorithm]) -> Result<Vec<u8>, JwsError> {
        let alg = self.allowed_alg(allowed)?;
        self.check_with(alg, key)
    }

    fn check_with(&self, alg: Algorithm, key: &Jwk) -> Result<Vec<u8>, JwsError> {
        verify_signature(alg, key, self.signing_input.as_bytes(), &self.signature)?;
        self.payload()
    }

    fn allowed_alg(&self, allowed: &[Algorithm]) -> Result<Algorithm, JwsError> {
        let alg = self.header.alg;
        if allowed.contains(&alg) {
            Ok(alg)
        } else {
            Err(JwsError::AlgorithmNotAllowed(alg))
        }
    }

    fn payload(&self) -> Result<Vec<u8>, JwsError> {
        URL_SAFE_NO_PAD
            .decode(self.payload_b64)
            .map_err(|_| JwsError::Malformed("payload is not unpadded base64url"))
    }
}

/// The base64url alphabet as a lookup table: one load per byte instead of five compares
/// (an ID token is about a kilobyte, checked on every login).
const BASE64URL: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
        b += 1;
    }
    table
};

fn check_charset(part: &str, what: &'static str) -> Result<(), JwsError> {
    if part.bytes().all(|b| BASE64URL[usize::from(b)]) {
        Ok(())
    } else {
        Err(JwsError::Malformed(what))
    }
}

fn parse_header(json: &[u8]) -> Result<Header, JwsError> {
    let header = parse_object(json).map_err(|e| match e {
        ObjectError::Duplicate => JwsError::Malformed("duplicate header member"),
        ObjectError::Invalid => JwsError::Malformed("header is not a JSON object"),
    })?;
    if header.contains_key("crit") {
        return Err(JwsError::UnknownCritical);
    }
    let alg = match header.get("alg") {
        Some(Value::String(name)) => name,
        Some(_) => return Err(JwsError::Malformed("header `alg` is not a string")),
        None => return Err(JwsError::Malformed("header has no `alg`")),
    };
    if alg.eq_ignore_ascii_case("none") {
        return Err(JwsError::NoneAlgorithm);
    }
    let alg = Algorithm::from_name(alg).ok_or(JwsError::UnsupportedAlgorithm)?;
    let text = |name: &str, err: &'static str| match header.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(JwsError::Malformed(err)),
    };
    Ok(Header {
        alg,
        kid: text("kid", "header `kid` is not a string")?,
        typ: text("typ", "header `typ` is not a string")?,
    })
}

fn verify_hmac(alg: Algorithm, secret: &[u8], input: &[u8], tag: &[u8]) -> Result<(), JwsError> {
    let (hmac_alg, min_len) = match alg {
        Algorithm::HS256 => (hmac::HMAC_SHA256, 32),
        Algorithm::HS384 => (hmac::HMAC_SHA384, 48),
        Algorithm::HS512 => (hmac::HMAC_SHA512, 64),
        _ => return Err(JwsError::KeyMismatch(alg)),
    };
    if secret.len() < min_len {
        return Err(JwsError::WeakHmacKey(alg));
    }
    let key = hmac::Key::new(hmac_alg, secret);
    hmac::verify(&key, input, tag).map_err(|_| JwsError::BadSignature)
}

/// Verifies `signature` over `input` with `key` for `alg`; the key must fit `alg`.
fn verify_signature(
    alg: Algorithm,
    key: &Jwk,
    input: &[u8],
    signature: &[u8],
) -> Result<(), JwsError> {
    if !key.fits(alg) {
        return Err(JwsError::KeyMismatch(alg));
    }
    let parsed = match (key.material(), alg) {
        (Material::Oct(secret), _) => return verify_hmac(alg, secret, input, signature),
        (Material::Rsa { parsed, .. }, _) => parsed
            .iter()
            .find(|(a, _)| *a == alg)
            .map(|(_, k)| k)
            .ok_or(JwsError::KeyMismatch(alg))?,
        (Material::EcP256(k), Algorithm::ES256) if signature.len() == 64 => k,
        (Material::EcP384(k), Algorithm::ES384) if signature.len() == 96 => k,
        (Material::EcP256(_) | Material::EcP384(_), _) => return Err(JwsError::BadSignature),
        (Material::Ed25519(k), Algorithm::EdDSA) => k,
        (Material::Ed25519(_), _) => return Err(JwsError::KeyMismatch(alg)),
    };
    parsed
        .verify_sig(input, signature)
        .map_err(|_| JwsError::BadSignature)
}

/// Why [`parse_object`] failed.
#[derive(Debug)]
pub(crate) enum ObjectError {
    /// Not JSON, or not an object at the top level.
    Invalid,
    /// The same member name appears twice at the top level.
    Duplicate,
}

/// Parses a JSON object, refusing duplicate top-level member names.
pub(crate) fn parse_object(json: &[u8]) -> Result<Map<String, Value>, ObjectError> {
    match serde_json::from_slice::<StrictObject>(json) {
        Ok(StrictObject(map)) => Ok(map),
        Err(e) if e.to_string().starts_with(DUPLICATE) => Err(ObjectError::Duplicate),
        Err(_) => Err(ObjectError::Invalid),
    }
}

const DUPLICATE: &str = "duplicate member";

struct StrictObject(Map<String, Value>);

impl<'de> Deserialize<'de> for StrictObject {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = StrictObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<StrictObject, A::Error> {
                let mut map = Map::new();
                while let Some(name) = access.next_key::<String>()? {
                    let value: Value = access.next_value()?;
                    if map.contains_key(&name) {
                        return Err(de::Error::custom(DUPLICATE));
                    }
                    map.insert(name, value);
                }
                Ok(StrictObject(map))
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAYLOAD: &str = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
    const A1_HEADER: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9";
    const A1_K: &str =
        "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
    const A1_SIG: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const A2_HEADER: &str = "eyJhbGciOiJSUzI1NiJ9";
    const A2_N: &str = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
    const A2_SIG: &str = "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
    const A3_HEADER: &str = "eyJhbGciOiJFUzI1NiJ9";
    const A3_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
    const A3_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
    const A3_SIG: &str =
        "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
    const R4_KID: &str = "018c0ae5-4d9b-471b-bfd6-eef314bc7037";
    const R4_K: &str = "hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg";
    const R4_HEADER: &str =
        "eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOGMwYWU1LTRkOWItNDcxYi1iZmQ2LWVlZjMxNGJjNzAzNyJ9";
    const R4_PAYLOAD: &str = "SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4";
    const R4_SIG: &str = "s0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0";

    fn token(header: &str, payload: &str, sig: &str) -> String {
        format!("{header}.{payload}.{sig}")
    }

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn a1_key() -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(A1_K).unwrap()
    }

    fn a2_set() -> JwkSet {
        let doc = format!(r#"{{"keys":[{{"kty":"RSA","n":"{A2_N}","e":"AQAB"}}]}}"#);
        JwkSet::from_json(doc.as_bytes()).unwrap()
    }

    const EXPECTED_PAYLOAD: &[u8] =
        b"{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";

    #[test]
    fn rfc7515_a1_hs256() {
        let t = token(A1_HEADER, PAYLOAD, A1_SIG);
        let jws = UnverifiedJws::parse(&t).unwrap();
        assert_eq!(jws.header().alg(), Algorithm::HS256);
        assert_eq!(jws.header().typ(), Some("JWT"));
        let key = Jwk::from_shared_secret(&a1_key());
        assert_eq!(
            jws.verify_with_key(&key, &[Algorithm::HS256]).unwrap(),
            EXPECTED_PAYLOAD
        );
        // Same result through the set-less secret path.
        let empty = JwkSet::default();
        let out = jws
            .verify(&empty, Some(&a1_key()), &[Algorithm::HS256])
            .unwrap();
        assert_eq!(out, EXPECTED_PAYLOAD);
        // Recompute the tag to check the vector end to end.
        let tag = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, &a1_key()),
            format!("{A1_HEADER}.{PAYLOAD}").as_bytes(),
        );
        assert_eq!(b64(tag.as_ref()), A1_SIG);
        // Wrong secret.
        let mut other = a1_key();
        other[0] ^= 1;
        assert_eq!(
            jws.verify(&empty, Some(&other), &[Algorithm::HS256]),
            Err(JwsError::BadSignature)
        );
    }

    #[test]
    fn rfc7515_a2_rs256() {
        let t = token(A2_HEADER, PAYLOAD, A2_SIG);
        let jws = UnverifiedJws::parse(&t).unwrap();
        let out = jws.verify(&a2_set(), None, &[Algorithm::RS256]).unwrap();
        assert_eq!(out, EXPECTED_PAYLOAD);
    }

    #[test]
    fn rfc7515_a2_flipped_signature_char_fails() {
        // Flip one character in the middle of the signature (a change in the last
        // character could only touch padding bits, which strict decoding rejects anyway).
        let mut sig = A2_SIG.to_owned().into_bytes();
        sig[10] = if sig[10] == b'A' { b'B' } else { b'A' };
        let sig = String::from_utf8(sig).unwrap();
        let t = token(A2_HEADER, PAYLOAD, &sig);
        let jws = UnverifiedJws::parse(&t).unwrap();
        assert_eq!(
            jws.verify(&a2_set(), None, &[Algorithm::RS256]),
            Err(JwsError::BadSignature)
        );
        // And a flipped payload character.
        let mut payload = PAYLOAD.to_owned().into_bytes();
        payload[20] = if payload[20] == b'A' { b'B' } else { b'A' };
        let payload = String::from_utf8(payload).unwrap();
        let t = token(A2_HEADER, &payload, A2_SIG);
        let jws = UnverifiedJws::parse(&t).unwrap();
        assert_eq!(
            jws.verify(&a2_set(), None, &[Algorithm::RS256]),
            Err(JwsError::BadSignature)
        );
    }

    #[test]
    fn rfc7515_a3_es256() {
        let doc = format!(r#"{{"keys":[{{"kty":"EC","crv":"P-256","x":"{A3_X}","y":"{A3_Y}"}}]}}"#);
        let set = JwkSet::from_json(doc.as_bytes()).unwrap();
        let t = token(A3_HEADER, PAYLOAD, A3_SIG);
        let jws = UnverifiedJws::parse(&t).unwrap();
        assert_eq!(
            jws.verify(&set, None, &[Algorithm::ES256]).unwrap(),
            EXPECTED_PAYLOAD
        );
        // A truncated (wrong-size) signature is refused before the verifier sees it.
        let short = &A3_SIG[..A3_SIG.len() - 2];
        let t = token(A3_HEADER, PAYLOAD, short);
        let jws = UnverifiedJws::parse(&t).unwrap();
        assert_eq!(
            jws.verify(&set, None, &[Algorithm::ES256]),
            Err(JwsError::BadSignature)
        );
    }

    #[test]
    fn rfc7515_a5_unsecured_rejected() {
        let t = format!("eyJhbGciOiJub25lIn0.{PAYLOAD}.");
        assert_eq!(
            UnverifiedJws::parse(&t).unwrap_err(),
            JwsError::NoneAlgorithm
        );
        // Even with a bogus signature, and in other spellings.
        for alg in ["none", "None", "NONE"] {
            let h = b64(format!(r#"{{"alg":"{alg}"}}"#).as_bytes());
            let t = token(&h, PAYLOAD, "AAAA");
            assert_eq!(
                UnverifiedJws::parse(&t).unwrap_err(),
                JwsError::NoneAlgorithm
            );
        }
    }

    #[test]
    fn rfc7520_4_4_hs256_with_kid() {
        let k = URL_SAFE_NO_PAD.decode(R4_K).unwrap();
        let set = JwkSet::from_keys(vec![
            Jwk::from_shared_secret(&k)
                .with_kid(R4_KID)
                .with_alg(Algorithm::HS256),
        ]);
        let t = token(R4_HEADER, R4_PAYLOAD, R4_SIG);
        let jws = UnverifiedJws::parse(&t).unwrap();
        assert_eq!(jws.header().kid(), Some(R4_KID));
        let out = jws.verify(&set, None, &[Algorithm::HS256]).unwrap();
        assert!(out.starts_with("It\u{2019}s a dangerous business, Frodo".as_bytes()));
        let tag = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, &k),
            format!("{R4_HEADER}.{R4_PAYLOAD}").as_bytes(),
        );
        assert_eq!(b64(tag.as_ref()), R4_SIG);
    }

    #[test]
    fn alg_confusion_hs256_against_rsa_key_fails() {
        let t = token(A1_HEADER, PAYLOAD, A1_SIG);
        let jws = UnverifiedJws::parse(&t).unwrap();
        let set = a2_set();
        // Not allowed at all.
        assert_eq!(
            jws.verify(&set, None, &[Algorithm::RS256]),
            Err(JwsError::AlgorithmNotAllowed(Algorithm::HS256))
        );
        // Even when HS256 is allowed, an RSA key is never an HMAC key.
        assert_eq!(
            jws.verify(&set, None, &[Algorithm::RS256, Algorithm::HS256]),
            Err(JwsError::KeySelection(KeySelectError::NoMatchingKey))
        );
        assert_eq!(
            jws.verify_with_key(&set.keys()[0], &[Algorithm::HS256]),
            Err(JwsError::KeyMismatch(Algorithm::HS256))
        );
        // Conversely an RS256 token cannot be checked with a shared secret.
        let t = token(A2_HEADER, PAYLOAD, A2_SIG);
        let jws = UnverifiedJws::parse(&t).unwrap();
        assert_eq!(
            jws.verify_with_key(&Jwk::from_shared_secret(&a1_key()), &[Algorithm::RS256]),
            Err(JwsError::KeyMismatch(Algorithm::RS256))
        );
        // An ES256 token cannot use the RSA key either.
        let t = token(A3_HEADER, PAYLOAD, A3_SIG);
        let jws = UnverifiedJws::parse(&t).unwrap();
        assert_eq!(
            jws.verify_with_key(&set.keys()[0], &[Algorithm::ES256]),
            Err(JwsError::KeyMismatch(Algorithm::ES256))
        );
    }

    #[test]
    fn a2_against_two_rsa_keys_without_kid_is_ambiguous() {
        let second = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        use aws_lc_rs::signature::KeyPair as _;
        let n2 = b64(second
            .public_key()
            .modulus()
            .big_endian_without_leading_zero());
        let doc = format!(
            r#"{{"keys":[{{"kty":"RSA","n":"{A2_N}","e":"AQAB"}},{{"kty":"RSA","n":"{n2}","e":"AQAB"}}]}}"#
        );
        let set = JwkSet::from_json(doc.as_bytes()).unwrap();
        let t = token(A2_HEADER, PAYLOAD, A2_SIG);
        let jws = UnverifiedJws::parse(&t).unwrap();
        assert_eq!(
            jws.verify(&set, None, &[Algorithm::RS256]),
            Err(JwsError::KeySelection(KeySelectError::AmbiguousKey))
        );
    }

    #[test]
    fn crit_is_always_rejected() {
        for crit in [
            r#""crit":[]"#,
            r#""crit":["exp"]"#,
            r#""crit":["b64"],"b64":false"#,
            r#""crit":null"#,
        ] {
            let h = b64(format!(r#"{{"alg":"RS256",{crit}}}"#).as_bytes());
            let t = token(&h, PAYLOAD, A2_SIG);
            assert_eq!(
                UnverifiedJws::parse(&t).unwrap_err(),
                JwsError::UnknownCritical,
                "{crit}"
            );
        }
    }

    #[test]
    fn embedded_keys_are_ignored() {
        // A header carrying its own key (and a key URL) still verifies only against the set.
        let h = b64(
            format!(r#"{{"alg":"HS256","jwk":{{"kty":"oct","k":"{A1_K}"}},"jku":"https://evil.example/jwks","x5u":"https://evil.example/cert"}}"#)
                .as_bytes(),
        );
        let tag = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, &a1_key()),
            format!("{h}.{PAYLOAD}").as_bytes(),
        );
        let t = token(&h, PAYLOAD, &b64(tag.as_ref()));
        let jws = UnverifiedJws::parse(&t).unwrap();
        assert_eq!(
            jws.verify(&a2_set(), None, &[Algorithm::HS256]),
            Err(JwsError::KeySelection(KeySelectError::NoMatchingKey))
        );
    }

    #[test]
    fn weak_hmac_secret_refused() {
        let h = b64(br#"{"alg":"HS256"}"#);
        let tag = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, b"short"),
            format!("{h}.{PAYLOAD}").as_bytes(),
        );
        let t = token(&h, PAYLOAD, &b64(tag.as_ref()));
        let jws = UnverifiedJws::parse(&t).unwrap();
        assert_eq!(
            jws.verify(&JwkSet::default(), Some(b"short"), &[Algorithm::HS256]),
            Err(JwsError::WeakHmacKey(Algorithm::HS256))
        );
    }

    /// Base64url of `bytes` with the last character's unused low bits set.
    fn non_canonical(bytes: &[u8]) -> String {
        let mut s = b64(bytes);
        assert_ne!(bytes.len() % 3, 0, "needs trailing bits");
        let last = s.pop().unwrap();
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let idx = alphabet.find(last).unwrap();
        s.push(alphabet.as_bytes()[idx + 1] as char);
        assert!(URL_SAFE_NO_PAD.decode(&s).is_err());
        s
    }

    #[test]
    fn malformed_tokens() {
        let sig = A2_SIG;
        let cases: Vec<(String, JwsError)> = vec![
            (
                String::new(),
                JwsError::Malformed("a compact JWS has exactly three dot-separated parts"),
            ),
            (
                format!("{A2_HEADER}.{PAYLOAD}"),
                JwsError::Malformed("a compact JWS has exactly three dot-separated parts"),
            ),
            (
                format!("{A2_HEADER}.{PAYLOAD}.{sig}.x.y"),
                JwsError::Malformed("a compact JWS has exactly three dot-separated parts"),
            ),
            (
                format!("{A2_HEADER}=.{PAYLOAD}.{sig}"),
                JwsError::Malformed("header is not unpadded base64url"),
            ),
            (
                format!("{A2_HEADER}.{PAYLOAD}+.{sig}"),
                JwsError::Malformed("payload is not unpadded base64url"),
            ),
            (
                format!("{A2_HEADER}.{PAYLOAD}.{sig} "),
                JwsError::Malformed("signature is not unpadded base64url"),
            ),
            (
                format!(".{PAYLOAD}.{sig}"),
                JwsError::Malformed("empty header"),
            ),
            (
                format!("{A2_HEADER}.{PAYLOAD}."),
                JwsError::Malformed("empty signature"),
            ),
            // Non-canonical base64: the unused low bits of the last character are set.
            (
                format!("{}.{PAYLOAD}.{sig}", non_canonical(br#"{"alg":"RS256" }"#)),
                JwsError::Malformed("header is not unpadded base64url"),
            ),
            (
                format!("{}.{PAYLOAD}.{sig}", b64(b"[1]")),
                JwsError::Malformed("header is not a JSON object"),
            ),
            (
                format!(
                    "{}.{PAYLOAD}.{sig}",
                    b64(br#"{"alg":"RS256","alg":"HS256"}"#)
                ),
                JwsError::Malformed("duplicate header member"),
            ),
            (
                format!("{}.{PAYLOAD}.{sig}", b64(br#"{"typ":"JWT"}"#)),
                JwsError::Malformed("header has no `alg`"),
            ),
            (
                format!("{}.{PAYLOAD}.{sig}", b64(br#"{"alg":256}"#)),
                JwsError::Malformed("header `alg` is not a string"),
            ),
            (
                format!("{}.{PAYLOAD}.{sig}", b64(br#"{"alg":"RS256","kid":1}"#)),
                JwsError::Malformed("header `kid` is not a string"),
            ),
            (
                format!("{}.{PAYLOAD}.{sig}", b64(br#"{"alg":"RS1"}"#)),
                JwsError::UnsupportedAlgorithm,
            ),
            (
                format!("{}.{PAYLOAD}.{sig}", b64(br#"{"alg":"rs256"}"#)),
                JwsError::UnsupportedAlgorithm,
            ),
            ("a".repeat(MAX_TOKEN_LEN + 1), JwsError::TooLarge),
        ];
        for (t, expected) in cases {
            assert_eq!(UnverifiedJws::parse(&t).unwrap_err(), expected, "{t}");
        }
    }

    #[test]
    fn reasons_are_stable() {
        assert_eq!(JwsError::NoneAlgorithm.reason(), "none_algorithm");
        assert_eq!(
            JwsError::KeySelection(KeySelectError::UnknownKid).reason(),
            "unknown_kid"
        );
        assert_eq!(
            JwsError::AlgorithmNotAllowed(Algorithm::HS256).to_string(),
            "algorithm HS256 is not among the allowed algorithms"
        );
    }

    #[test]
    fn algorithm_names_round_trip() {
        for alg in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(alg.name()), Some(alg));
        }
        assert_eq!(Algorithm::from_name("none"), None);
    }

    proptest::proptest! {
        #[test]
        fn random_strings_never_panic(s in "\\PC{0,300}") {
            let _ = UnverifiedJws::parse(&s);
        }

        #[test]
        fn random_b64_parts_never_panic(h in "[A-Za-z0-9_-]{0,80}", p in "[A-Za-z0-9_-]{0,80}", s in "[A-Za-z0-9_-]{0,120}") {
            let t = format!("{h}.{p}.{s}");
            if let Ok(jws) = UnverifiedJws::parse(&t) {
                let _ = jws.verify(&a2_set(), Some(&[7u8; 64]), &Algorithm::ALL);
            }
        }

        #[test]
        fn random_headers_never_panic(alg in "(RS256|HS256|ES256|EdDSA|none|PS512|x)", extra in "\\PC{0,40}") {
            let h = b64(format!(r#"{{"alg":"{alg}","kid":"{}"}}"#, extra.replace(['"', '\\'], "")).as_bytes());
            let t = format!("{h}.{PAYLOAD}.{A2_SIG}");
            if let Ok(jws) = UnverifiedJws::parse(&t) {
                let _ = jws.verify(&a2_set(), Some(&[7u8; 64]), &Algorithm::ALL);
            }
        }
    }
}
