//! DPoP proof JWTs (RFC 9449, OAuth 2.0 Demonstrating Proof of Possession).
//!
//! Why: a bearer token works for whoever holds it, so a token that leaks from a log, a
//! proxy or a compromised resource server can be replayed anywhere. With DPoP the
//! provider binds the token to a public key the client holds (its RFC 7638 thumbprint
//! ends up in the token's `cnf.jkt`), and every request must carry a fresh proof signed
//! with the matching private key, naming that very request: its method, its URL, and a
//! hash of the access token. A stolen token is useless without the key, and a captured
//! proof is only good for the request it was made for, for a short while.
//!
//! This module only makes proofs: [`DpopKey`] is a per-client key, generated in memory or
//! loaded from the settings (so that every instance of an app shares it), never exported,
//! and [`DpopKey::proof`] signs one proof for one request. Sending
//! the `DPoP` header, answering `use_dpop_nonce` challenges and storing the latest nonce
//! belong to the callers.
//!
//! The proof (RFC 9449 §4.2): header `typ` = `dpop+jwt`, `alg` (asymmetric only, so
//! ES256 or EdDSA here), and `jwk`, the public key and nothing else. Claims: a random
//! `jti`, `htm` (the method), `htu` (the URL without query and fragment), `iat`, and,
//! when given, `ath` (the access token's SHA-256 hash) and `nonce` (the server's last
//! `DPoP-Nonce`, §8). No `exp`: the server judges freshness by `iat` (§11.1).

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::digest;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use url::Url;

use crate::proto::jose::jws::Algorithm;

/// The `typ` header of a DPoP proof (RFC 9449 §4.2).
pub const DPOP_JWT_TYPE: &str = "dpop+jwt";

/// Random bytes in a `jti`: 128 bits, above the 96 RFC 9449 §4.2 asks for.
const JTI_BYTES: usize = 16;

/// The signature algorithm of a [`DpopKey`]: asymmetric only, as RFC 9449 §4.2 demands.
#[allow(clippy::upper_case_acronyms)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DpopAlgorithm {
    /// ECDSA on P-256 with SHA-256: what every DPoP server supports.
    #[default]
    ES256,
    /// EdDSA with Ed25519 (RFC 8037): smaller and faster, less widely supported.
    EdDSA,
}

impl DpopAlgorithm {
    /// The JOSE `alg` value.
    pub fn name(self) -> &'static str {
        Algorithm::from(self).name()
    }

    /// The algorithm named by a JOSE `alg` value (case-sensitive), as listed in a
    /// provider's `dpop_signing_alg_values_supported`; `None` for any other.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::ES256, Self::EdDSA]
            .into_iter()
            .find(|a| a.name() == name)
    }
}

impl From<DpopAlgorithm> for Algorithm {
    fn from(alg: DpopAlgorithm) -> Self {
        match alg {
            DpopAlgorithm::ES256 => Algorithm::ES256,
            DpopAlgorithm::EdDSA => Algorithm::EdDSA,
        }
    }
}

impl fmt::Display for DpopAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why no key or no proof could be made. Never contains key material, access tokens or
/// nonces.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DpopError {
    /// The OS random generator failed (for a key or a `jti`).
    #[error("random generator failed: {0}")]
    Random(String),
    /// aws-lc-rs refused to generate a key or to sign.
    #[error("DPoP {0} failed")]
    Crypto(&'static str),
    /// The method is not an HTTP method token (RFC 9110 §9.1).
    #[error("{0:?} is not an HTTP method")]
    InvalidMethod(String),
    /// The URL cannot be a DPoP `htu`; the text says why.
    #[error("unusable DPoP target URL: {0}")]
    InvalidUri(&'static str),
    /// The access token is empty or not visible ASCII (RFC 6749 Appendix A.12).
    #[error("the access token is empty or not visible ASCII, so it has no `ath`")]
    InvalidAccessToken,
    /// The nonce is empty or has characters outside RFC 9449 §8.1's `NQCHAR`.
    #[error("the DPoP nonce is empty or has characters a nonce cannot have")]
    InvalidNonce,
    /// A configured key cannot be a DPoP key; the text says why (never the key).
    #[error("unusable DPoP key: {0}")]
    InvalidKey(&'static str),
}

impl DpopError {
    /// Stable snake_case name of the reason.
    pub fn reason(&self) -> &'static str {
        match self {
            DpopError::Random(_) => "random",
            DpopError::Crypto(_) => "crypto",
            DpopError::InvalidMethod(_) => "invalid_method",
            DpopError::InvalidUri(_) => "invalid_uri",
            DpopError::InvalidAccessToken => "invalid_access_token",
            DpopError::InvalidNonce => "invalid_nonce",
            DpopError::InvalidKey(_) => "invalid_key",
        }
    }
}

enum Signer {
    Ec(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// The public half, in the base64url form JWKs use.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PublicKey {
    /// P-256: the affine coordinates.
    Ec { x: String, y: String },
    /// Ed25519: the encoded point.
    Okp { x: String },
}

impl PublicKey {
    /// The public JWK: the members that define the key and nothing else (no `d`, no
    /// `kid`, `use` or `alg`, which the header's `alg` already says).
    fn jwk(&self) -> Value {
        match self {
            PublicKey::Ec { x, y } => json!({ "kty": "EC", "crv": "P-256", "x": x, "y": y }),
            PublicKey::Okp { x } => json!({ "kty": "OKP", "crv": "Ed25519", "x": x }),
        }
    }

    /// What RFC 7638 §3 hashes: the required members (RFC 7518 §6.2.1 for EC, RFC 8037
    /// §2 for OKP) in lexicographic order, without whitespace. Written out rather than
    /// serialized, so the order does not depend on serde_json's map type; the values are
    /// fixed names and base64url, which need no JSON escaping.
    fn thumbprint_input(&self) -> String {
        match self {
            PublicKey::Ec { x, y } => {
                format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#)
            }
            PublicKey::Okp { x } => format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#),
        }
    }

    /// The RFC 7638 JWK SHA-256 thumbprint, base64url.
    fn thumbprint(&self) -> String {
        b64(digest::digest(&digest::SHA256, self.thumbprint_input().as_bytes()).as_ref())
    }
}

struct Inner {
    signer: Signer,
    alg: DpopAlgorithm,
    public: PublicKey,
    thumbprint: String,
    /// The protected header, base64url: the same for every proof, so built once.
    header_b64: String,
}

/// A DPoP proof key: kept per client, used for the token request, every refresh and
/// every API call, since a DPoP-bound token only works with the key it was bound to.
///
/// Cloning is cheap (the key pair is shared). A generated key lives in memory only: a
/// refresh token bound to it (RFC 9449 §5) is useless once it is gone, and other
/// instances of the app cannot use it; [`DpopKey::from_pkcs8_pem`] loads a shared one.
///
/// `Debug` shows the algorithm and the public thumbprint, never key material.
#[derive(Clone)]
pub struct DpopKey {
    inner: Arc<Inner>,
}

impl fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopKey")
            .field("alg", &self.inner.alg)
            .field("thumbprint", &self.inner.thumbprint)
            .finish_non_exhaustive()
    }
}

impl DpopKey {
    /// A fresh key pair for `alg`, from the OS random generator.
    pub fn generate(alg: DpopAlgorithm) -> Result<Self, DpopError> {
        let failed = |_| DpopError::Crypto("key generation");
        let signer = match alg {
            DpopAlgorithm::ES256 => Signer::Ec(
                EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(failed)?,
            ),
            DpopAlgorithm::EdDSA => Signer::Ed25519(Ed25519KeyPair::generate().map_err(failed)?),
        };
        Self::from_signer(signer)
    }

    /// The key in a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`): EC P-256 (ES256) or
    /// Ed25519 (EdDSA). Every instance of an app that loads the same key makes proofs
    /// the provider accepts for the same bound tokens, so a refresh or an API call may
    /// happen on any of them.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, DpopError> {
        use rustls_pki_types::pem::{PemObject as _, SectionKind};
        let unusable = DpopError::InvalidKey("not a PKCS#8 PEM private key");
        let (kind, der) = <(SectionKind, Vec<u8>)>::from_pem_slice(pem.trim().as_bytes())
            .map_err(|_| unusable.clone())?;
        if kind != SectionKind::PrivateKey {
            return Err(unusable);
        }
        let signer = match EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der) {
            Ok(pair) => Signer::Ec(pair),
            Err(_) => Signer::Ed25519(
                Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
                    .map_err(|_| DpopError::InvalidKey("neither EC P-256 nor Ed25519"))?,
            ),
        };
        Self::from_signer(signer)
    }

    fn from_signer(signer: Signer) -> Result<Self, DpopError> {
        let (alg, public) = match &signer {
            Signer::Ec(pair) => (DpopAlgorithm::ES256, ec_public(pair.public_key().as_ref())?),
            Signer::Ed25519(pair) => (
                DpopAlgorithm::EdDSA,
                PublicKey::Okp {
                    x: b64(pair.public_key().as_ref()),
                },
            ),
        };
        let header = json!({ "typ": DPOP_JWT_TYPE, "alg": alg.name(), "jwk": public.jwk() });
        Ok(Self {
            inner: Arc::new(Inner {
                signer,
                alg,
                thumbprint: public.thumbprint(),
                header_b64: b64(header.to_string().as_bytes()),
                public,
            }),
        })
    }

    /// The signature algorithm (`alg` header).
    pub fn alg(&self) -> DpopAlgorithm {
        self.inner.alg
    }

    /// The public key as a JWK: `kty`, `crv`, `x` (and `y` for EC), never `d`. This is
    /// the proof header's `jwk`.
    pub fn public_jwk(&self) -> Value {
        self.inner.public.jwk()
    }

    /// The RFC 7638 JWK SHA-256 thumbprint of the public key, base64url: the value of
    /// `dpop_jkt` in an authorization request (RFC 9449 §10) and of the token's
    /// `cnf.jkt` (§6.1).
    pub fn thumbprint(&self) -> String {
        self.inner.thumbprint.clone()
    }

    /// A proof for one request made now: `htm` is the method (`POST`, `GET`, …), `htu`
    /// the request URL (its query and fragment are left out, §4.2), `access_token` the
    /// token sent with it to a resource server (None at the token endpoint), `nonce` the
    /// server's latest `DPoP-Nonce` if it sent one (§8, §9).
    pub fn proof(
        &self,
        htm: &str,
        htu: &Url,
        access_token: Option<&str>,
        nonce: Option<&str>,
    ) -> Result<String, DpopError> {
        self.proof_at(htm, htu, access_token, nonce, crate::random::now())
    }

    /// [`DpopKey::proof`] with `iat` = `now` (Unix seconds) instead of the clock.
    pub fn proof_at(
        &self,
        htm: &str,
        htu: &Url,
        access_token: Option<&str>,
        nonce: Option<&str>,
        now: u64,
    ) -> Result<String, DpopError> {
        let claims = claims(htm, htu, access_token, nonce, now)?;
        self.sign(&Value::Object(claims).to_string())
    }

    /// A compact JWS of `claims` under the DPoP header.
    fn sign(&self, claims: &str) -> Result<String, DpopError> {
        let input = format!("{}.{}", self.inner.header_b64, b64(claims.as_bytes()));
        let signature = match &self.inner.signer {
            // The FIXED algorithm gives R || S, 64 bytes, as RFC 7518 §3.4 wants; JOSE
            // verifiers refuse the DER form.
            Signer::Ec(pair) => pair
                .sign(&SystemRandom::new(), input.as_bytes())
                .map_err(|_| DpopError::Crypto("signing"))?
                .as_ref()
                .to_vec(),
            Signer::Ed25519(pair) => pair.sign(input.as_bytes()).as_ref().to_vec(),
        };
        Ok(format!("{input}.{}", b64(&signature)))
    }
}

/// The proof claims (RFC 9449 §4.2). Every input is checked before the random `jti` is
/// drawn, so a bad input costs no system call.
fn claims(
    htm: &str,
    htu: &Url,
    access_token: Option<&str>,
    nonce: Option<&str>,
    now: u64,
) -> Result<Map<String, Value>, DpopError> {
    check_method(htm)?;
    let htu = target_uri(htu)?;
    let ath = access_token.map(access_token_hash).transpose()?;
    if let Some(nonce) = nonce {
        check_nonce(nonce)?;
    }
    let [jti] = crate::random::tokens([JTI_BYTES]).map_err(|e| DpopError::Random(e.to_string()))?;
    let mut claims = Map::new();
    claims.insert("jti".into(), json!(jti));
    claims.insert("htm".into(), json!(htm));
    claims.insert("htu".into(), json!(htu));
    claims.insert("iat".into(), json!(now));
    if let Some(ath) = ath {
        claims.insert("ath".into(), json!(ath));
    }
    if let Some(nonce) = nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    Ok(claims)
}

/// The public key of a P-256 pair from its uncompressed point `04 || X || Y`.
fn ec_public(point: &[u8]) -> Result<PublicKey, DpopError> {
    match point {
        [4, xy @ ..] if xy.len() == 64 => {
            let (x, y) = xy.split_at(32);
            Ok(PublicKey::Ec {
                x: b64(x),
                y: b64(y),
            })
        }
        _ => Err(DpopError::Crypto("public key encoding")),
    }
}

/// `htm` must be a method token (RFC 9110 §9.1, `tchar` of §5.6.2). Methods are
/// case-sensitive, so it is used as given.
fn check_method(htm: &str) -> Result<(), DpopError> {
    let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if !htm.is_empty() && htm.bytes().all(tchar) {
        Ok(())
    } else {
        Err(DpopError::InvalidMethod(htm.chars().take(32).collect()))
    }
}

/// `htu`: the HTTP target URI (RFC 9110 §7.1) without query and fragment (RFC 9449
/// §4.2). User info is dropped too: it is never part of a target URI, and a password
/// has no place in a signed, logged header. The `url` crate has already normalized the
/// rest as RFC 9449 §4.3 compares it (lower-case scheme and host, no default port).
fn target_uri(url: &Url) -> Result<String, DpopError> {
    if !matches!(url.scheme(), "https" | "http") {
        return Err(DpopError::InvalidUri("not an http or https URL"));
    }
    let mut htu = url.clone();
    htu.set_query(None);
    htu.set_fragment(None);
    htu.set_username("")
        .and_then(|()| htu.set_password(None))
        .map_err(|()| DpopError::InvalidUri("the user info cannot be removed"))?;
    Ok(htu.into())
}

/// `ath`: base64url(SHA-256(the token's ASCII)), RFC 9449 §4.2. An access token is
/// 1*VSCHAR (RFC 6749 Appendix A.12), so anything else is refused rather than hashed
/// in some encoding the server would not use.
fn access_token_hash(token: &str) -> Result<String, DpopError> {
    if token.is_empty() || !token.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        return Err(DpopError::InvalidAccessToken);
    }
    Ok(b64(
        digest::digest(&digest::SHA256, token.as_bytes()).as_ref()
    ))
}

/// A nonce is 1*NQCHAR (RFC 9449 §8.1): visible ASCII but `"` and `\`. It comes from
/// the server's `DPoP-Nonce` header, so it is checked rather than trusted.
fn check_nonce(nonce: &str) -> Result<(), DpopError> {
    let nqchar = |b: u8| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\';
    if !nonce.is_empty() && nonce.bytes().all(nqchar) {
        Ok(())
    } else {
        Err(DpopError::InvalidNonce)
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::jose::jwk::JwkSet;
    use crate::proto::jose::jws::UnverifiedJws;
    use aws_lc_rs::encoding::AsBigEndian;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    /// Verifies the proof with the key in its own header (after checking it is the
    /// key's) and returns its claims.
    fn verify(proof: &str, key: &DpopKey) -> Map<String, Value> {
        let header = decode_part(proof, 0);
        assert_eq!(header["typ"], DPOP_JWT_TYPE);
        assert_eq!(header["alg"], key.alg().name());
        assert_eq!(header["jwk"], key.public_jwk());
        let jws = UnverifiedJws::parse(proof).unwrap();
        let set = JwkSet::from_json(json!({ "keys": [key.public_jwk()] }).to_string().as_bytes())
            .unwrap();
        let payload = jws.verify(&set, None, &[key.alg().into()]).unwrap();
        serde_json::from_slice(&payload).unwrap()
    }

    fn decode_part(token: &str, index: usize) -> Map<String, Value> {
        let part = token.split('.').nth(index).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn proofs_of_both_algorithms_verify() {
        for alg in [DpopAlgorithm::ES256, DpopAlgorithm::EdDSA] {
            let key = DpopKey::generate(alg).unwrap();
            let htu = url("https://rs.example/api");
            let proof = key
                .proof_at("GET", &htu, None, None, 1_700_000_000)
                .unwrap();
            let claims = verify(&proof, &key);
            assert_eq!(claims["htm"], "GET");
            assert_eq!(claims["htu"], "https://rs.example/api");
            assert_eq!(claims["iat"], 1_700_000_000);
            assert!(!claims.contains_key("ath") && !claims.contains_key("nonce"));
            let names: Vec<&str> = claims.keys().map(String::as_str).collect();
            assert_eq!(names.len(), 4, "{names:?}");
        }
    }

    #[test]
    fn es256_signatures_are_fixed_size_r_s() {
        let key = DpopKey::generate(DpopAlgorithm::default()).unwrap();
        assert_eq!(key.alg(), DpopAlgorithm::ES256);
        let proof = key.proof("POST", &url("https://as.example/token"), None, None);
        let proof = proof.unwrap();
        let signature = URL_SAFE_NO_PAD
            .decode(proof.rsplit('.').next().unwrap())
            .unwrap();
        assert_eq!(signature.len(), 64);
    }

    #[test]
    fn htu_drops_query_fragment_and_user_info_but_keeps_path_and_port() {
        let cases = [
            (
                "https://RS.Example:8443/a/b%20c/?q=1&r=2#frag",
                "https://rs.example:8443/a/b%20c/",
            ),
            ("https://rs.example:443/x?", "https://rs.example/x"),
            (
                "http://user:pw@rs.example:8080/x#f",
                "http://rs.example:8080/x",
            ),
            ("https://rs.example", "https://rs.example/"),
            ("https://[::1]:9000/p", "https://[::1]:9000/p"),
        ];
        for (input, want) in cases {
            assert_eq!(target_uri(&url(input)).unwrap(), want, "{input}");
        }
        let key = DpopKey::generate(DpopAlgorithm::ES256).unwrap();
        let htu = url("https://rs.example:8443/api/v1/items?page=2#top");
        let claims = verify(&key.proof("GET", &htu, None, None).unwrap(), &key);
        assert_eq!(claims["htu"], "https://rs.example:8443/api/v1/items");
        for bad in [
            "ftp://rs.example/x",
            "mailto:a@rs.example",
            "data:text/plain,x",
        ] {
            let e = target_uri(&url(bad)).unwrap_err();
            assert_eq!(e.reason(), "invalid_uri", "{bad}");
        }
    }

    #[test]
    fn jti_is_fresh_and_long_enough() {
        let key = DpopKey::generate(DpopAlgorithm::EdDSA).unwrap();
        let htu = url("https://as.example/token");
        let a = verify(&key.proof_at("POST", &htu, None, None, 1).unwrap(), &key);
        let b = verify(&key.proof_at("POST", &htu, None, None, 1).unwrap(), &key);
        let (a, b) = (a["jti"].as_str().unwrap(), b["jti"].as_str().unwrap());
        assert_ne!(a, b);
        assert!(URL_SAFE_NO_PAD.decode(a).unwrap().len() >= 16);
    }

    #[test]
    fn ath_matches_rfc_9449_example() {
        // RFC 9449 §7.1, Figures 12 and 13.
        let token = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU";
        let want = "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo";
        assert_eq!(access_token_hash(token).unwrap(), want);
        let key = DpopKey::generate(DpopAlgorithm::ES256).unwrap();
        let htu = url("https://resource.example.org/protectedresource");
        let claims = verify(&key.proof("GET", &htu, Some(token), None).unwrap(), &key);
        assert_eq!(claims["ath"], want);
    }

    #[test]
    fn nonce_is_included_only_when_given() {
        let key = DpopKey::generate(DpopAlgorithm::ES256).unwrap();
        let htu = url("https://as.example/token");
        let nonce = "eyJ7S_zG.eyJH0-Z.HX4w-7v";
        let with = verify(&key.proof("POST", &htu, None, Some(nonce)).unwrap(), &key);
        assert_eq!(with["nonce"], nonce);
        let without = verify(&key.proof("POST", &htu, None, None).unwrap(), &key);
        assert!(!without.contains_key("nonce"));
    }

    #[test]
    fn bad_inputs_are_errors_without_secrets() {
        let key = DpopKey::generate(DpopAlgorithm::ES256).unwrap();
        let htu = url("https://rs.example/x");
        let cases: [(&str, Option<&str>, Option<&str>, &str); 8] = [
            ("", None, None, "invalid_method"),
            ("GET /x", None, None, "invalid_method"),
            ("GÉT", None, None, "invalid_method"),
            ("GET", Some(""), None, "invalid_access_token"),
            ("GET", Some("sécret-token"), None, "invalid_access_token"),
            ("GET", Some("secret\ntoken"), None, "invalid_access_token"),
            ("GET", None, Some("secret\"nonce"), "invalid_nonce"),
            ("GET", None, Some(""), "invalid_nonce"),
        ];
        for (htm, token, nonce, want) in cases {
            let e = key.proof(htm, &htu, token, nonce).unwrap_err();
            assert_eq!(e.reason(), want, "{htm:?} {token:?} {nonce:?}");
            let text = format!("{e} {e:?}");
            assert!(!text.contains("secret"), "{text}");
        }
        // A custom method is a token like any other.
        assert!(key.proof("PROPFIND", &htu, None, None).is_ok());
    }

    #[test]
    fn thumbprint_input_is_rfc_7638_and_matches_rfc_9449_example() {
        // The key of RFC 9449 §4.1 Figure 1 and its jkt from §6.1 Figure 9.
        let rfc = PublicKey::Ec {
            x: "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs".into(),
            y: "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA".into(),
        };
        assert_eq!(
            rfc.thumbprint_input(),
            r#"{"crv":"P-256","kty":"EC","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}"#
        );
        assert_eq!(
            rfc.thumbprint(),
            "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
        );

        let key = DpopKey::generate(DpopAlgorithm::ES256).unwrap();
        let jwk = key.public_jwk();
        let (x, y) = (jwk["x"].as_str().unwrap(), jwk["y"].as_str().unwrap());
        let input = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        assert_eq!(key.inner.public.thumbprint_input(), input);
        let hash = digest::digest(&digest::SHA256, input.as_bytes());
        assert_eq!(key.thumbprint(), b64(hash.as_ref()));
        assert_eq!(key.thumbprint().len(), 43);

        let ed = DpopKey::generate(DpopAlgorithm::EdDSA).unwrap();
        let x = ed.public_jwk()["x"].as_str().unwrap().to_owned();
        let input = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
        assert_eq!(ed.inner.public.thumbprint_input(), input);
    }

    #[test]
    fn public_jwk_has_public_members_only() {
        let ec = DpopKey::generate(DpopAlgorithm::ES256)
            .unwrap()
            .public_jwk();
        let mut names: Vec<&str> = ec.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["crv", "kty", "x", "y"]);
        assert_eq!((&ec["kty"], &ec["crv"]), (&json!("EC"), &json!("P-256")));
        let ed = DpopKey::generate(DpopAlgorithm::EdDSA)
            .unwrap()
            .public_jwk();
        let mut names: Vec<&str> = ed.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["crv", "kty", "x"]);
        assert_eq!((&ed["kty"], &ed["crv"]), (&json!("OKP"), &json!("Ed25519")));
    }

    #[test]
    fn debug_shows_no_key_bytes() {
        let key = DpopKey::generate(DpopAlgorithm::ES256).unwrap();
        let Signer::Ec(pair) = &key.inner.signer else {
            panic!("not an EC key")
        };
        let d = pair.private_key().as_be_bytes().unwrap();
        let text = format!("{key:?}");
        assert!(
            text.contains("ES256") && text.contains(&key.thumbprint()),
            "{text}"
        );
        let jwk = key.public_jwk();
        for secret in [b64(d.as_ref()), jwk["x"].as_str().unwrap().to_owned()] {
            assert!(!text.contains(&secret), "{text}");
        }

        let ed = DpopKey::generate(DpopAlgorithm::EdDSA).unwrap();
        let Signer::Ed25519(pair) = &ed.inner.signer else {
            panic!("not an Ed25519 key")
        };
        let seed = pair.seed().unwrap().as_be_bytes().unwrap();
        assert!(!format!("{ed:?}").contains(&b64(seed.as_ref())));
    }

    #[test]
    fn clones_share_the_key_and_keys_are_distinct() {
        fn shareable<T: Send + Sync + Clone>() {}
        shareable::<DpopKey>();
        let a = DpopKey::generate(DpopAlgorithm::ES256).unwrap();
        let b = a.clone();
        assert!(Arc::ptr_eq(&a.inner, &b.inner));
        let c = DpopKey::generate(DpopAlgorithm::ES256).unwrap();
        assert_ne!(a.thumbprint(), c.thumbprint());
    }

    #[test]
    fn algorithm_names() {
        assert_eq!(
            DpopAlgorithm::from_name("ES256"),
            Some(DpopAlgorithm::ES256)
        );
        assert_eq!(
            DpopAlgorithm::from_name("EdDSA"),
            Some(DpopAlgorithm::EdDSA)
        );
        assert_eq!(DpopAlgorithm::from_name("es256"), None);
        assert_eq!(DpopAlgorithm::from_name("HS256"), None);
        assert_eq!(DpopAlgorithm::EdDSA.to_string(), "EdDSA");
    }
}
