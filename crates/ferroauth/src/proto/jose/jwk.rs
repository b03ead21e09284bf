//! JSON Web Keys (RFC 7517) for verifying ID token signatures.
//!
//! A [`JwkSet`] is parsed once from the provider's `jwks_uri` document and every key is
//! turned into a ready-to-verify aws-lc-rs key at that moment, so verifying a token does
//! no key parsing. Supported public keys: RSA (`n`, `e`, 2048–8192 bits), EC P-256 and
//! P-384 (`x`, `y`), and OKP Ed25519 (`x`).
//!
//! # Security notes
//!
//! * **Symmetric keys are never taken from a fetched document.** A `kty: "oct"` member of
//!   a JWK Set is skipped by [`JwkSet::from_json`]: a shared secret published next to the
//!   public keys would let anyone who can read (or spoof) that document mint tokens. The
//!   only way to get an HMAC key into a set is [`Jwk::from_shared_secret`], which the
//!   application calls with its own client secret.
//! * **Keys are chosen by algorithm family.** [`JwkSet::find`] only returns a key whose type
//!   fits the token's `alg` (RSA for `RS*`/`PS*`, the exact curve for `ES256`/`ES384`,
//!   Ed25519 for `EdDSA`, `oct` for `HS*`) and whose own `alg`, if it declares one, is that
//!   very algorithm. This closes the classic "algorithm confusion" hole where a token says
//!   `HS256` and a library uses the bytes of an RSA public key as the HMAC secret.
//! * **Only signature keys.** Keys marked `use: "enc"` (or any other non-`sig` use), keys
//!   whose `key_ops` lack `verify`, unknown key types and unknown curves are skipped and
//!   reported in [`JwkSet::skipped`], never fatal: providers publish such keys alongside
//!   signing keys. A key of a known type with a broken member is an error that names the
//!   key's index, because it means the document is not what we think it is.
//! * Private members (`d`, `p`, …) that a misconfigured provider might publish are ignored.

use std::fmt;

use aws_lc_rs::signature::{
    self, ParsedPublicKey, RsaParameters, RsaPublicKeyComponents, VerificationAlgorithm,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use super::jws::Algorithm;

/// Smallest RSA modulus accepted, in bits (RFC 7518 §3.3 requires 2048).
pub const MIN_RSA_BITS: usize = 2048;
/// Largest RSA modulus accepted, in bits (the limit of the verifier).
pub const MAX_RSA_BITS: usize = 8192;

/// The kind of key material a [`Jwk`] holds, which decides the algorithms it can verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// RSA public key: `RS256/384/512` and `PS256/384/512`.
    Rsa,
    /// EC public key on P-256: `ES256` only.
    EcP256,
    /// EC public key on P-384: `ES384` only.
    EcP384,
    /// OKP Ed25519 public key: `EdDSA` only.
    Ed25519,
    /// Shared secret: `HS256/384/512` only. Never read from a fetched JWK Set.
    Oct,
}

/// One verification key with its JWK metadata.
///
/// `Debug` never shows the bytes of a shared secret.
#[derive(Clone)]
pub struct Jwk {
    kid: Option<String>,
    alg: Option<String>,
    key_use: Option<String>,
    key_ops: Option<Vec<String>>,
    material: Material,
}

/// Pre-parsed key material.
#[derive(Clone)]
pub(crate) enum Material {
    /// One parsed key per RSA algorithm this key may be used with.
    Rsa {
        bits: usize,
        parsed: Vec<(Algorithm, ParsedPublicKey)>,
    },
    EcP256(ParsedPublicKey),
    EcP384(ParsedPublicKey),
    Ed25519(ParsedPublicKey),
    Oct(Vec<u8>),
}

impl fmt::Debug for Material {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Material::Rsa { bits, .. } => write!(f, "Rsa({bits} bits)"),
            Material::EcP256(_) => f.write_str("EcP256"),
            Material::EcP384(_) => f.write_str("EcP384"),
            Material::Ed25519(_) => f.write_str("Ed25519"),
            Material::Oct(k) => write!(f, "Oct(<{} secret bytes>)", k.len()),
        }
    }
}

impl fmt::Debug for Jwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwk")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("use", &self.key_use)
            .field("key_ops", &self.key_ops)
            .field("key", &self.material)
            .finish()
    }
}

impl Jwk {
    /// An HMAC key made from a shared secret the application holds (for OpenID Connect, the
    /// UTF-8 bytes of the client secret). This is the only way to obtain an `oct` key.
    pub fn from_shared_secret(secret: &[u8]) -> Self {
        Jwk {
            kid: None,
            alg: None,
            key_use: None,
            key_ops: None,
            material: Material::Oct(secret.to_vec()),
        }
    }

    /// Sets the key id.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// Restricts the key to one algorithm, like a JWK `alg` member.
    #[must_use]
    pub fn with_alg(mut self, alg: Algorithm) -> Self {
        self.alg = Some(alg.name().to_owned());
        self
    }

    /// The key id (`kid`), if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The `alg` member as published, if any (it may name an algorithm we do not support,
    /// in which case the key never matches).
    pub fn alg(&self) -> Option<&str> {
        self.alg.as_deref()
    }

    /// The `use` member, if any (always `sig` for keys kept in a set).
    pub fn key_use(&self) -> Option<&str> {
        self.key_use.as_deref()
    }

    /// The `key_ops` member, if any.
    pub fn key_ops(&self) -> Option<&[String]> {
        self.key_ops.as_deref()
    }

    /// The type of key material.
    pub fn key_type(&self) -> KeyType {
        match &self.material {
            Material::Rsa { .. } => KeyType::Rsa,
            Material::EcP256(_) => KeyType::EcP256,
            Material::EcP384(_) => KeyType::EcP384,
            Material::Ed25519(_) => KeyType::Ed25519,
            Material::Oct(_) => KeyType::Oct,
        }
    }

    /// Whether this key may verify `alg`: its type must be the one `alg` needs, and its own
    /// `alg` member, if present, must be exactly `alg`.
    pub fn fits(&self, alg: Algorithm) -> bool {
        self.key_type() == alg.key_type() && self.alg.as_deref().is_none_or(|a| a == alg.name())
    }

    pub(crate) fn material(&self) -> &Material {
        &self.material
    }
}

/// Why a key was left out of a [`JwkSet`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// `kty` is not one we verify with.
    UnsupportedKeyType,
    /// `crv` is not P-256, P-384 or Ed25519.
    UnsupportedCurve,
    /// `use` is not `sig` (e.g. an encryption key).
    NotForSignatures,
    /// `key_ops` is present and lacks `verify`.
    NoVerifyOperation,
    /// A symmetric (`oct`) key in a fetched document: never trusted.
    SymmetricKey,
    /// RSA modulus outside 2048–8192 bits.
    UnsupportedRsaSize,
}

/// A key that [`JwkSet::from_json`] left out, with its position in the `keys` array.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SkippedKey {
    /// Index in the `keys` array.
    pub index: usize,
    /// Why it was skipped.
    pub reason: SkipReason,
}

/// What is wrong with one key of a JWK Set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JwkProblem {
    /// The entry is not a JSON object.
    #[error("is not a JSON object")]
    NotAnObject,
    /// A required member is absent.
    #[error("lacks the required `{0}` member")]
    MissingMember(&'static str),
    /// A member has the wrong JSON type.
    #[error("has a `{0}` member of the wrong JSON type")]
    WrongType(&'static str),
    /// A member is not valid unpadded base64url.
    #[error("has a `{0}` member that is not unpadded base64url")]
    BadBase64(&'static str),
    /// A coordinate or key has the wrong length for its curve.
    #[error("has a `{0}` member of the wrong length for its curve")]
    WrongLength(&'static str),
    /// The cryptographic library rejected the key (e.g. a point not on the curve).
    #[error("is not a valid public key")]
    InvalidKey,
}

/// Error parsing a JWK Set.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JwkSetError {
    /// The document is not a JSON object.
    #[error("JWK Set is not a JSON object")]
    NotJson,
    /// The document has no `keys` array.
    #[error("JWK Set has no `keys` array")]
    MissingKeys,
    /// One key is malformed.
    #[error("JWK Set key #{index} {problem}")]
    InvalidKey {
        /// Index in the `keys` array.
        index: usize,
        /// What is wrong with it.
        problem: JwkProblem,
    },
}

/// Why [`JwkSet::find`] found no single key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeySelectError {
    /// The token names a `kid` that no key in the set carries. The provider may have
    /// rotated its keys: refetch the JWK Set once, then give up.
    #[error("no key in the JWK Set has the token's `kid`")]
    UnknownKid,
    /// No key fits the token's algorithm (and `kid`, if any).
    #[error("no key in the JWK Set fits the token's algorithm")]
    NoMatchingKey,
    /// Several keys fit and the token has no `kid` (or a `kid` shared by several keys).
    #[error("several keys in the JWK Set fit the token; a `kid` is needed to choose")]
    AmbiguousKey,
}

impl KeySelectError {
    /// Stable snake_case name of the reason.
    pub fn reason(&self) -> &'static str {
        match self {
            KeySelectError::UnknownKid => "unknown_kid",
            KeySelectError::NoMatchingKey => "no_matching_key",
            KeySelectError::AmbiguousKey => "ambiguous_key",
        }
    }
}

/// A set of pre-parsed verification keys.
#[derive(Clone, Debug, Default)]
pub struct JwkSet {
    keys: Vec<Jwk>,
    skipped: Vec<SkippedKey>,
}

impl JwkSet {
    /// Parses a JWK Set document (as served at a provider's `jwks_uri`).
    ///
    /// Unsupported or non-signature keys, and any `oct` key, are skipped (see
    /// [`skipped`](Self::skipped)); a supported key with a malformed member is an error.
    pub fn from_json(json: &[u8]) -> Result<Self, JwkSetError> {
        let doc: Map<String, Value> =
            serde_json::from_slice(json).map_err(|_| JwkSetError::NotJson)?;
        let Some(Value::Array(entries)) = doc.get("keys") else {
            return Err(JwkSetError::MissingKeys);
        };
        let mut set = JwkSet::default();
        for (index, entry) in entries.iter().enumerate() {
            match parse_key(entry) {
                Ok(Ok(key)) => set.keys.push(key),
                Ok(Err(reason)) => set.skipped.push(SkippedKey { index, reason }),
                Err(problem) => return Err(JwkSetError::InvalidKey { index, problem }),
            }
        }
        Ok(set)
    }

    /// A set made of keys the application built itself (this may include
    /// [`Jwk::from_shared_secret`] keys).
    pub fn from_keys(keys: Vec<Jwk>) -> Self {
        JwkSet {
            keys,
            skipped: Vec::new(),
        }
    }

    /// The usable keys.
    pub fn keys(&self) -> &[Jwk] {
        &self.keys
    }

    /// Keys that were left out while parsing, and why.
    pub fn skipped(&self) -> &[SkippedKey] {
        &self.skipped
    }

    /// Number of usable keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there is no usable key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Chooses the key to verify a token signed with `alg`.
    ///
    /// With a `kid`: the one key with that `kid` that [fits](Jwk::fits) `alg`
    /// ([`KeySelectError::UnknownKid`] if no key has that `kid` at all). Without a `kid`:
    /// the one key that fits `alg`. Never guesses between several candidates.
    pub fn find(&self, kid: Option<&str>, alg: Algorithm) -> Result<&Jwk, KeySelectError> {
        let mut kid_seen = false;
        let mut found: Option<&Jwk> = None;
        for key in &self.keys {
            if let Some(kid) = kid {
                if key.kid() != Some(kid) {
                    continue;
                }
                kid_seen = true;
            }
            if key.fits(alg) {
                if found.is_some() {
                    return Err(KeySelectError::AmbiguousKey);
                }
                found = Some(key);
            }
        }
        match found {
            Some(key) => Ok(key),
            None if kid.is_some() && !kid_seen => Err(KeySelectError::UnknownKid),
            None => Err(KeySelectError::NoMatchingKey),
        }
    }
}

/// `Ok(Ok(key))`: usable; `Ok(Err(reason))`: skipped; `Err(problem)`: malformed.
fn parse_key(entry: &Value) -> Result<Result<Jwk, SkipReason>, JwkProblem> {
    let Value::Object(obj) = entry else {
        return Err(JwkProblem::NotAnObject);
    };
    let kty = required_str(obj, "kty")?;
    let kid = optional_str(obj, "kid")?.map(str::to_owned);
    let alg = optional_str(obj, "alg")?.map(str::to_owned);
    let key_use = optional_str(obj, "use")?.map(str::to_owned);
    let key_ops = match obj.get("key_ops") {
        None => None,
        Some(Value::Array(ops)) => Some(
            ops.iter()
                .map(|op| op.as_str().map(str::to_owned))
                .collect::<Option<Vec<String>>>()
                .ok_or(JwkProblem::WrongType("key_ops"))?,
        ),
        Some(_) => return Err(JwkProblem::WrongType("key_ops")),
    };

    if key_use.as_deref().is_some_and(|u| u != "sig") {
        return Ok(Err(SkipReason::NotForSignatures));
    }
    if key_ops
        .as_ref()
        .is_some_and(|ops| !ops.iter().any(|op| op == "verify"))
    {
        return Ok(Err(SkipReason::NoVerifyOperation));
    }

    let material = match kty {
        "RSA" => {
            let n = strip_leading_zeros(required_b64(obj, "n")?);
            let e = strip_leading_zeros(required_b64(obj, "e")?);
            if n.is_empty() {
                return Err(JwkProblem::InvalidKey);
            }
            if e.is_empty() {
                return Err(JwkProblem::InvalidKey);
            }
            let bits = n.len() * 8 - n[0].leading_zeros() as usize;
            if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
                return Ok(Err(SkipReason::UnsupportedRsaSize));
            }
            let components = RsaPublicKeyComponents { n, e };
            let mut parsed = Vec::new();
            for (candidate, params) in RSA_ALGS {
                // A key restricted by its `alg` member gets only that one verifier.
                if alg.as_deref().is_some_and(|a| a != candidate.name()) {
                    continue;
                }
                let key = components
                    .to_parsed_public_key(params)
                    .map_err(|_| JwkProblem::InvalidKey)?;
                parsed.push((*candidate, key));
            }
            if parsed.is_empty() {
                // Declared for an algorithm we cannot verify (e.g. `RSA-OAEP`): still check
                // the key is well formed, but it will never be selected.
                components
                    .to_parsed_public_key(&signature::RSA_PKCS1_2048_8192_SHA256)
                    .map_err(|_| JwkProblem::InvalidKey)?;
            }
            Material::Rsa { bits, parsed }
        }
        "EC" => {
            let crv = required_str(obj, "crv")?;
            let (len, verifier): (usize, &'static dyn VerificationAlgorithm) = match crv {
                "P-256" => (32, &signature::ECDSA_P256_SHA256_FIXED),
                "P-384" => (48, &signature::ECDSA_P384_SHA384_FIXED),
                _ => return Ok(Err(SkipReason::UnsupportedCurve)),
            };
            let x = required_b64(obj, "x")?;
            let y = required_b64(obj, "y")?;
            if x.len() != len {
                return Err(JwkProblem::WrongLength("x"));
            }
            if y.len() != len {
                return Err(JwkProblem::WrongLength("y"));
            }
            let mut point = Vec::with_capacity(1 + 2 * len);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            let key = ParsedPublicKey::new(verifier, &point).map_err(|_| JwkProblem::InvalidKey)?;
            if len == 32 {
                Material::EcP256(key)
            } else {
                Material::EcP384(key)
            }
        }
        "OKP" => {
            let crv = required_str(obj, "crv")?;
            if crv != "Ed25519" {
                return Ok(Err(SkipReason::UnsupportedCurve));
            }
            let x = required_b64(obj, "x")?;
            if x.len() != 32 {
                return Err(JwkProblem::WrongLength("x"));
            }
            let key = ParsedPublicKey::new(&signature::ED25519, &x)
                .map_err(|_| JwkProblem::InvalidKey)?;
            Material::Ed25519(key)
        }
        "oct" => return Ok(Err(SkipReason::SymmetricKey)),
        _ => return Ok(Err(SkipReason::UnsupportedKeyType)),
    };
    Ok(Ok(Jwk {
        kid,
        alg,
        key_use,
        key_ops,
        material,
    }))
}

/// RSA algorithms and the aws-lc-rs parameters that verify them.
const RSA_ALGS: &[(Algorithm, &RsaParameters)] = &[
    (Algorithm::RS256, &signature::RSA_PKCS1_2048_8192_SHA256),
    (Algorithm::RS384, &signature::RSA_PKCS1_2048_8192_SHA384),
    (Algorithm::RS512, &signature::RSA_PKCS1_2048_8192_SHA512),
    (Algorithm::PS256, &signature::RSA_PSS_2048_8192_SHA256),
    (Algorithm::PS384, &signature::RSA_PSS_2048_8192_SHA384),
    (Algorithm::PS512, &signature::RSA_PSS_2048_8192_SHA512),
];

fn strip_leading_zeros(mut bytes: Vec<u8>) -> Vec<u8> {
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    bytes.drain(..zeros);
    bytes
}

fn required_str<'a>(
    obj: &'a Map<String, Value>,
    name: &'static str,
) -> Result<&'a str, JwkProblem> {
    optional_str(obj, name)?.ok_or(JwkProblem::MissingMember(name))
}

fn optional_str<'a>(
    obj: &'a Map<String, Value>,
    name: &'static str,
) -> Result<Option<&'a str>, JwkProblem> {
    match obj.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(JwkProblem::WrongType(name)),
    }
}

fn required_b64(obj: &Map<String, Value>, name: &'static str) -> Result<Vec<u8>, JwkProblem> {
    let text = required_str(obj, name)?;
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| JwkProblem::BadBase64(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC7515_N: &str = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
    const EC_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
    const EC_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
    // RFC 8037 A.2.
    const ED_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    fn mixed_set() -> String {
        format!(
            r#"{{"keys":[
              {{"kty":"RSA","kid":"r1","use":"sig","alg":"RS256","n":"{RFC7515_N}","e":"AQAB"}},
              {{"kty":"EC","kid":"e1","crv":"P-256","x":"{EC_X}","y":"{EC_Y}","key_ops":["verify"]}},
              {{"kty":"OKP","kid":"o1","crv":"Ed25519","x":"{ED_X}"}},
              {{"kty":"RSA","kid":"enc","use":"enc","n":"{RFC7515_N}","e":"AQAB"}},
              {{"kty":"oct","kid":"s","k":"c2VjcmV0"}},
              {{"kty":"EC","crv":"P-521","x":"AA","y":"AA"}},
              {{"kty":"OKP","crv":"X25519","x":"AA"}},
              {{"kty":"PQ","kid":"future"}},
              {{"kty":"RSA","kid":"small","n":"AQAB","e":"AQAB"}},
              {{"kty":"RSA","kid":"ops","key_ops":["encrypt"],"n":"{RFC7515_N}","e":"AQAB"}}
            ]}}"#
        )
    }

    #[test]
    fn parses_supported_and_skips_the_rest() {
        let set = JwkSet::from_json(mixed_set().as_bytes()).unwrap();
        assert_eq!(set.len(), 3);
        let types: Vec<_> = set.keys().iter().map(Jwk::key_type).collect();
        assert_eq!(types, [KeyType::Rsa, KeyType::EcP256, KeyType::Ed25519]);
        assert_eq!(set.keys()[0].kid(), Some("r1"));
        assert_eq!(set.keys()[0].alg(), Some("RS256"));
        assert_eq!(set.keys()[0].key_use(), Some("sig"));
        assert_eq!(set.keys()[1].key_ops(), Some(&["verify".to_owned()][..]));
        let skipped: Vec<_> = set.skipped().iter().map(|s| (s.index, s.reason)).collect();
        assert_eq!(
            skipped,
            [
                (3, SkipReason::NotForSignatures),
                (4, SkipReason::SymmetricKey),
                (5, SkipReason::UnsupportedCurve),
                (6, SkipReason::UnsupportedCurve),
                (7, SkipReason::UnsupportedKeyType),
                (8, SkipReason::UnsupportedRsaSize),
                (9, SkipReason::NoVerifyOperation),
            ]
        );
    }

    #[test]
    fn find_by_kid_and_family() {
        let set = JwkSet::from_json(mixed_set().as_bytes()).unwrap();
        assert_eq!(
            set.find(Some("r1"), Algorithm::RS256).unwrap().kid(),
            Some("r1")
        );
        // The key declares alg RS256, so PS256 does not fit it.
        assert_eq!(
            set.find(Some("r1"), Algorithm::PS256).unwrap_err(),
            KeySelectError::NoMatchingKey
        );
        assert_eq!(
            set.find(Some("r1"), Algorithm::HS256).unwrap_err(),
            KeySelectError::NoMatchingKey
        );
        assert_eq!(
            set.find(Some("nope"), Algorithm::RS256).unwrap_err(),
            KeySelectError::UnknownKid
        );
        assert_eq!(set.find(None, Algorithm::ES256).unwrap().kid(), Some("e1"));
        assert_eq!(
            set.find(None, Algorithm::ES384).unwrap_err(),
            KeySelectError::NoMatchingKey
        );
        assert_eq!(set.find(None, Algorithm::EdDSA).unwrap().kid(), Some("o1"));
        // The oct key in the document was never accepted.
        assert_eq!(
            set.find(Some("s"), Algorithm::HS256).unwrap_err(),
            KeySelectError::UnknownKid
        );
    }

    #[test]
    fn ambiguous_without_kid() {
        let doc = format!(
            r#"{{"keys":[{{"kty":"RSA","n":"{RFC7515_N}","e":"AQAB"}},{{"kty":"RSA","n":"{RFC7515_N}","e":"AQAB"}}]}}"#
        );
        let set = JwkSet::from_json(doc.as_bytes()).unwrap();
        assert_eq!(
            set.find(None, Algorithm::RS256).unwrap_err(),
            KeySelectError::AmbiguousKey
        );
    }

    #[test]
    fn malformed_members_name_the_index() {
        let cases = [
            (
                r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AA"}]}"#,
                0,
                JwkProblem::WrongLength("x"),
            ),
            (
                r#"{"keys":[{},{"kty":"RSA","e":"AQAB"}]}"#,
                0,
                JwkProblem::MissingMember("kty"),
            ),
            (
                &format!(
                    r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{ED_X}"}},{{"kty":"RSA","e":"AQAB"}}]}}"#
                ),
                1,
                JwkProblem::MissingMember("n"),
            ),
            (
                r#"{"keys":[{"kty":"RSA","n":"a+b","e":"AQAB"}]}"#,
                0,
                JwkProblem::BadBase64("n"),
            ),
            (
                r#"{"keys":[{"kty":"RSA","kid":5,"n":"AQAB","e":"AQAB"}]}"#,
                0,
                JwkProblem::WrongType("kid"),
            ),
            (r#"{"keys":[7]}"#, 0, JwkProblem::NotAnObject),
            (
                &format!(r#"{{"keys":[{{"kty":"EC","crv":"P-256","x":"{EC_X}","y":"{EC_X}"}}]}}"#),
                0,
                JwkProblem::InvalidKey,
            ),
            (
                &format!(r#"{{"keys":[{{"kty":"EC","crv":"P-384","x":"{EC_X}","y":"{EC_Y}"}}]}}"#),
                0,
                JwkProblem::WrongLength("x"),
            ),
        ];
        for (doc, index, problem) in cases {
            assert_eq!(
                JwkSet::from_json(doc.as_bytes()).unwrap_err(),
                JwkSetError::InvalidKey { index, problem },
                "{doc}"
            );
        }
        assert_eq!(JwkSet::from_json(b"[]").unwrap_err(), JwkSetError::NotJson);
        assert_eq!(
            JwkSet::from_json(b"{}").unwrap_err(),
            JwkSetError::MissingKeys
        );
        let msg = JwkSetError::InvalidKey {
            index: 3,
            problem: JwkProblem::MissingMember("n"),
        };
        assert_eq!(
            msg.to_string(),
            "JWK Set key #3 lacks the required `n` member"
        );
    }

    #[test]
    fn shared_secret_debug_is_redacted() {
        let key = Jwk::from_shared_secret(b"super secret value").with_kid("k");
        let dbg = format!("{key:?}");
        assert!(!dbg.contains("super"), "{dbg}");
        assert!(dbg.contains("18 secret bytes"), "{dbg}");
        assert_eq!(key.key_type(), KeyType::Oct);
        assert!(key.fits(Algorithm::HS512));
        assert!(!key.fits(Algorithm::RS256));
    }

    proptest::proptest! {
        #[test]
        fn random_documents_never_panic(doc in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
            let _ = JwkSet::from_json(&doc);
        }

        #[test]
        fn random_members_never_panic(kty in "(RSA|EC|OKP|oct|x)", crv in "(P-256|P-384|Ed25519|)", a in "[A-Za-z0-9_-]{0,90}", b in "[A-Za-z0-9_-]{0,90}") {
            let doc = format!(r#"{{"keys":[{{"kty":"{kty}","crv":"{crv}","n":"{a}","e":"{b}","x":"{a}","y":"{b}"}}]}}"#);
            let _ = JwkSet::from_json(doc.as_bytes());
        }
    }
}
