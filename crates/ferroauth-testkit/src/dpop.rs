//! DPoP proof verification (RFC 9449), for the token endpoint and the protected
//! resources (userinfo and the demo API).
//!
//! Why so strict: a DPoP-bound token is only worth something if the server checks, on
//! every request, that the caller holds the private key the token is bound to. A
//! development provider that let a sloppy proof through would let a client pass its
//! tests and then fail at a real provider (or, worse, pass at a lenient one). So every
//! check of RFC 9449 §4.3 is made:
//!
//! * exactly one `DPoP` header, holding one compact JWS: three base64url parts, at most
//!   8 KiB;
//! * header `typ` = `dpop+jwt`: explicit typing, so that no other kind of JWT signed by
//!   the same key can be passed off as a proof;
//! * header `alg` an asymmetric algorithm the provider supports (ES256 and EdDSA, what
//!   ferroauth makes, and RS256 and PS256): `none` and MACs prove nothing about a public
//!   key. No `crit`: no extension is understood;
//! * header `jwk` a public key of the type `alg` needs, and nothing private (`d`, `p`,
//!   `q`, `dp`, `dq`, `qi`, `oth`, `k`): a client that ships its private key in every
//!   request has lost it, and must be told;
//! * the signature valid under that `jwk`: possession of the private key;
//! * claims `htm` and `htu` naming this request's method and URL (query and fragment
//!   ignored), so that a proof captured on one endpoint is useless on another;
//! * `iat` within ±60 s of the provider's clock: proofs have no `exp`, freshness is
//!   judged by the server (§11.1);
//! * a `jti` not seen in that window: a captured proof cannot be replayed even on the
//!   same endpoint. The set of seen `jti`s is bounded (see [`ReplayCache`]);
//! * with an access token (at a resource), `ath` = base64url(SHA-256(token)): the proof
//!   was made for this token.
//!
//! The outcome is the key's RFC 7638 thumbprint (`jkt`): the value a token is bound to
//! (`cnf.jkt` in introspection), and what later proofs must match. Server-issued nonces
//! (§8) are not used.

use std::collections::{HashSet, VecDeque};

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ED25519, RSA_PKCS1_2048_8192_SHA256, RSA_PSS_2048_8192_SHA256,
    RsaPublicKeyComponents, UnparsedPublicKey,
};
use axum::Json;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::config::Client;
use crate::oidc::{no_store, oauth_error};
use crate::state::Shared;
use crate::util::{b64url, ct_eq, now};

/// The proof algorithms accepted, as advertised in `dpop_signing_alg_values_supported`.
pub(crate) const SUPPORTED_ALGS: [&str; 4] = ["ES256", "EdDSA", "RS256", "PS256"];

/// How far `iat` may be from the provider's clock, either way.
const IAT_WINDOW_SECS: u64 = 60;
/// Longer headers are refused before any decoding (an RSA-4096 proof is under 2 KiB).
const MAX_PROOF_LEN: usize = 8 * 1024;
/// A `jti` is a random identifier; anything longer is not one and would bloat the cache.
const MAX_JTI_LEN: usize = 256;
/// Members that only a private (or symmetric) JWK has.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
/// `jti`s remembered at most; see [`ReplayCache`].
const REPLAY_CAPACITY: usize = 65_536;

/// Why a proof was refused: the `error_description` of an `invalid_dpop_proof` answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProofError(pub(crate) &'static str);

/// The request a proof has to name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expected<'a> {
    /// The request's method (`htm`).
    pub(crate) method: &'a str,
    /// The request's URL under the issuer (`htu`).
    pub(crate) url: &'a str,
    /// The access token presented with it, if any (`ath`).
    pub(crate) access_token: Option<&'a str>,
}

/// A proof that passed every check but the replay check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Proof {
    /// RFC 7638 thumbprint of the proof key.
    pub(crate) jkt: String,
    pub(crate) jti: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alg {
    Es256,
    EdDsa,
    Rs256,
    Ps256,
}

impl Alg {
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "ES256" => Some(Self::Es256),
            "EdDSA" => Some(Self::EdDsa),
            "RS256" => Some(Self::Rs256),
            "PS256" => Some(Self::Ps256),
            _ => None,
        }
    }
}

/// The public key of a proof's `jwk`, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PublicKey {
    /// P-256 affine coordinates, 32 bytes each.
    Ec { x: Vec<u8>, y: Vec<u8> },
    /// Ed25519 point, 32 bytes.
    Okp { x: Vec<u8> },
    /// RSA modulus and exponent, big-endian.
    Rsa { n: Vec<u8>, e: Vec<u8> },
}

impl PublicKey {
    /// The key in `jwk`, if it is a public key of the type `alg` needs.
    fn from_jwk(jwk: &Map<String, Value>, alg: Alg) -> Result<Self, ProofError> {
        if PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
            return Err(ProofError("the jwk has private key members"));
        }
        let text = |name: &str| jwk.get(name).and_then(Value::as_str);
        match (alg, text("kty"), text("crv")) {
            (Alg::Es256, Some("EC"), Some("P-256")) => Ok(Self::Ec {
                x: member(jwk, "x", Some(32))?,
                y: member(jwk, "y", Some(32))?,
            }),
            (Alg::EdDsa, Some("OKP"), Some("Ed25519")) => Ok(Self::Okp {
                x: member(jwk, "x", Some(32))?,
            }),
            (Alg::Rs256 | Alg::Ps256, Some("RSA"), _) => Ok(Self::Rsa {
                n: member(jwk, "n", None)?,
                e: member(jwk, "e", None)?,
            }),
            _ => Err(ProofError("the jwk is not a key for the header's alg")),
        }
    }

    /// Whether `signature` is this key's signature of `message` under `alg`.
    fn verifies(&self, alg: Alg, message: &[u8], signature: &[u8]) -> bool {
        match (self, alg) {
            (Self::Ec { x, y }, Alg::Es256) => {
                // Uncompressed SEC1 point; the curve check happens in `verify`.
                let point: Vec<u8> = [&[4u8][..], x, y].concat();
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, signature)
                    .is_ok()
            }
            (Self::Okp { x }, Alg::EdDsa) => UnparsedPublicKey::new(&ED25519, x)
                .verify(message, signature)
                .is_ok(),
            (Self::Rsa { n, e }, Alg::Rs256 | Alg::Ps256) => {
                let params = if alg == Alg::Rs256 {
                    &RSA_PKCS1_2048_8192_SHA256
                } else {
                    &RSA_PSS_2048_8192_SHA256
                };
                RsaPublicKeyComponents { n, e }
                    .verify(params, message, signature)
                    .is_ok()
            }
            _ => false,
        }
    }

    /// The RFC 7638 thumbprint: SHA-256 of the required members in lexicographic order,
    /// no whitespace. Written out rather than serialized so that the order does not
    /// depend on a JSON map type; the values are re-encoded from the decoded bytes, so
    /// two spellings of one key cannot give two thumbprints.
    fn thumbprint(&self) -> String {
        let input = match self {
            Self::Ec { x, y } => format!(
                r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                b64url(x),
                b64url(y)
            ),
            Self::Okp { x } => format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, b64url(x)),
            Self::Rsa { n, e } => {
                format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, b64url(e), b64url(n))
            }
        };
        b64url(Sha256::digest(input.as_bytes()))
    }
}

/// A base64url member of `jwk`, of exactly `len` bytes when given.
fn member(jwk: &Map<String, Value>, name: &str, len: Option<usize>) -> Result<Vec<u8>, ProofError> {
    jwk.get(name)
        .and_then(Value::as_str)
        .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
        .filter(|bytes| !bytes.is_empty() && len.is_none_or(|l| bytes.len() == l))
        .ok_or(ProofError("a jwk member is missing or malformed"))
}

/// A base64url-encoded JSON object (a JWS header or payload).
fn json_object(part: &str) -> Result<Map<String, Value>, ProofError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(ProofError("a part of the proof is not base64url JSON"))
}

/// The request's `DPoP` header: `None` when absent; refused when repeated or not text.
pub(crate) fn header_of(headers: &HeaderMap) -> Result<Option<&str>, ProofError> {
    let mut values = headers.get_all("dpop").iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ProofError("more than one DPoP header"));
    }
    first
        .to_str()
        .map(Some)
        .map_err(|_| ProofError("the DPoP header is not visible ASCII"))
}

/// Checks a proof against the request it came with, at time `now` (Unix seconds). The
/// `jti` is returned for the caller's replay check.
pub(crate) fn verify(proof: &str, expected: &Expected<'_>, now: u64) -> Result<Proof, ProofError> {
    if proof.len() > MAX_PROOF_LEN {
        return Err(ProofError("the proof is too long"));
    }
    let parts: Vec<&str> = proof.split('.').collect();
    let [header_b64, claims_b64, signature_b64] = parts[..] else {
        return Err(ProofError("the proof is not a compact JWS"));
    };
    let header = json_object(header_b64)?;
    let alg = check_header(&header)?;
    let key = match header.get("jwk") {
        Some(Value::Object(jwk)) => PublicKey::from_jwk(jwk, alg)?,
        _ => return Err(ProofError("the header has no jwk")),
    };
    let signature = URL_SAFE_NO_PAD
        .decode(signature_b64)
        .map_err(|_| ProofError("the signature is not base64url"))?;
    // The signing input is the first two parts exactly as sent.
    let signing_input = &proof[..header_b64.len() + 1 + claims_b64.len()];
    if !key.verifies(alg, signing_input.as_bytes(), &signature) {
        return Err(ProofError(
            "the signature does not verify with the header's jwk",
        ));
    }
    let claims = json_object(claims_b64)?;
    let jti = check_claims(&claims, expected, now)?;
    Ok(Proof {
        jkt: key.thumbprint(),
        jti,
    })
}

/// `typ`, `alg` and `crit`; returns the algorithm.
fn check_header(header: &Map<String, Value>) -> Result<Alg, ProofError> {
    // Media types are case-insensitive (RFC 7515 §4.1.9).
    let typ = header.get("typ").and_then(Value::as_str);
    if !typ.is_some_and(|t| t.eq_ignore_ascii_case("dpop+jwt")) {
        return Err(ProofError("typ is not dpop+jwt"));
    }
    if header.contains_key("crit") {
        return Err(ProofError(
            "crit names extensions this provider does not understand",
        ));
    }
    header
        .get("alg")
        .and_then(Value::as_str)
        .and_then(Alg::from_name)
        .ok_or(ProofError(
            "alg is missing or not one of ES256, EdDSA, RS256, PS256",
        ))
}

/// `jti`, `htm`, `htu`, `iat` and, with an access token, `ath`; returns the `jti`.
fn check_claims(
    claims: &Map<String, Value>,
    expected: &Expected<'_>,
    now: u64,
) -> Result<String, ProofError> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let jti = text("jti")
        .filter(|j| !j.is_empty() && j.len() <= MAX_JTI_LEN)
        .ok_or(ProofError("jti is missing or unusable"))?;
    if text("htm") != Some(expected.method) {
        return Err(ProofError("htm does not name this request's method"));
    }
    if !text("htu").is_some_and(|htu| same_target(htu, expected.url)) {
        return Err(ProofError("htu does not name this request's URL"));
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_f64)
        .ok_or(ProofError("iat is missing"))?;
    // Unix seconds are far below 2^53, so the float is exact.
    if (iat - now as f64).abs() > IAT_WINDOW_SECS as f64 {
        return Err(ProofError(
            "iat is not within 60 seconds of the provider's clock",
        ));
    }
    if let Some(token) = expected.access_token {
        let want = b64url(Sha256::digest(token.as_bytes()));
        if !text("ath").is_some_and(|ath| ct_eq(ath.as_bytes(), want.as_bytes())) {
            return Err(ProofError(
                "ath is not the hash of the presented access token",
            ));
        }
    }
    Ok(jti.to_owned())
}

/// RFC 9449 §4.3: `htu` matches the request URI ignoring query and fragment, after
/// syntax-based normalization (scheme and host case, default port), which the URL
/// parser does.
fn same_target(htu: &str, expected: &str) -> bool {
    let strip = |s: &str| {
        url::Url::parse(s).ok().map(|mut u| {
            u.set_query(None);
            u.set_fragment(None);
            u
        })
    };
    matches!((strip(htu), strip(expected)), (Some(a), Some(b)) if a == b)
}

/// Recently seen `jti`s, each kept until no proof carrying it could pass the `iat`
/// check any more (an `iat` up to 60 s ahead, accepted up to 60 s later).
///
/// Bounded: at [`REPLAY_CAPACITY`] entries the oldest is forgotten early. Refusing new
/// proofs instead would turn a burst of requests into failed logins; forgetting early
/// only reopens a replay window for a proof after 65 536 others in two minutes, which a
/// development provider can live with.
#[derive(Debug, Default)]
pub(crate) struct ReplayCache {
    seen: HashSet<String>,
    /// (forget at, jti), in insertion order, which is expiry order.
    order: VecDeque<(u64, String)>,
}

impl ReplayCache {
    /// Records `jti`; false when it was already there (a replay).
    pub(crate) fn insert(&mut self, jti: &str, now: u64) -> bool {
        if self.seen.contains(jti) {
            return false;
        }
        if self.order.len() >= REPLAY_CAPACITY
            && let Some((_, oldest)) = self.order.pop_front()
        {
            self.seen.remove(&oldest);
        }
        self.seen.insert(jti.to_owned());
        self.order
            .push_back((now + 2 * IAT_WINDOW_SECS + 1, jti.to_owned()));
        true
    }

    /// Forgets the `jti`s whose proofs have all gone stale.
    pub(crate) fn purge(&mut self, now: u64) {
        while let Some((until, _)) = self.order.front()
            && *until <= now
        {
            if let Some((_, jti)) = self.order.pop_front() {
                self.seen.remove(&jti);
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }
}

/// Verifies the request's proof, if it has one, and records its `jti`. `Ok(None)`: no
/// proof; `Ok(Some(jkt))`: a valid, fresh proof by the key with that thumbprint.
fn check(
    s: &Shared,
    headers: &HeaderMap,
    expected: &Expected<'_>,
) -> Result<Option<String>, ProofError> {
    let Some(proof) = header_of(headers)? else {
        return Ok(None);
    };
    let t = now();
    let proof = verify(proof, expected, t)?;
    if !s.store().dpop_jtis.insert(&proof.jti, t) {
        return Err(ProofError("the proof's jti was already used"));
    }
    Ok(Some(proof.jkt))
}

/// The token endpoint's `invalid_dpop_proof` answer (400, RFC 9449 §5).
pub(crate) fn token_error(description: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_dpop_proof", description)
}

/// The token endpoint's check: `Ok(Some(jkt))` when the tokens are to be bound to that
/// key, `Ok(None)` for bearer tokens, which a client with `require_dpop` cannot get.
pub(crate) fn at_token_endpoint(
    s: &Shared,
    headers: &HeaderMap,
    client: &Client,
) -> Result<Option<String>, Response> {
    let url = s.settings.url("/token");
    let expected = Expected {
        method: "POST",
        url: &url,
        access_token: None,
    };
    match check(s, headers, &expected) {
        Ok(None) if client.require_dpop => Err(token_error(
            "this client must send a DPoP proof with every token request",
        )),
        Ok(jkt) => Ok(jkt),
        Err(e) => Err(token_error(e.0)),
    }
}

/// A protected resource's check of a DPoP-bound `token` presented with the DPoP scheme:
/// a valid proof for this request and this token, by the key the token is bound to.
pub(crate) fn at_resource(
    s: &Shared,
    headers: &HeaderMap,
    method: &Method,
    path: &str,
    token: &str,
    bound_to: &str,
) -> Result<(), Response> {
    let url = s.settings.url(path);
    let expected = Expected {
        method: method.as_str(),
        url: &url,
        access_token: Some(token),
    };
    match check(s, headers, &expected) {
        Ok(Some(jkt)) if ct_eq(jkt.as_bytes(), bound_to.as_bytes()) => Ok(()),
        Ok(Some(_)) => Err(challenge(
            "invalid_dpop_proof",
            "the proof is signed by another key than the token is bound to",
        )),
        Ok(None) => Err(challenge(
            "invalid_dpop_proof",
            "a DPoP-bound token needs a DPoP proof",
        )),
        Err(e) => Err(challenge("invalid_dpop_proof", e.0)),
    }
}

/// A protected resource's 401 with a DPoP challenge (RFC 9449 §7.1), naming the
/// algorithms accepted.
pub(crate) fn challenge(error: &str, description: &str) -> Response {
    let value = format!(
        "DPoP algs=\"{}\", error=\"{error}\", error_description=\"{}\"",
        SUPPORTED_ALGS.join(" "),
        description.replace(['"', '\\'], "'")
    );
    let body = json!({ "error": error, "error_description": description });
    let mut resp = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&value) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    no_store(&mut resp);
    resp
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::encoding::AsBigEndian;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
        RSA_PKCS1_SHA256, RSA_PSS_SHA256,
    };

    use super::*;

    const URL: &str = "https://idp.example/token";
    const NOW: u64 = 1_700_000_000;

    enum Key {
        Ec(EcdsaKeyPair),
        Ed(Ed25519KeyPair),
        /// The key and whether it signs with PSS.
        Rsa(RsaKeyPair, bool),
    }

    impl Key {
        fn ec() -> Self {
            Self::Ec(EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap())
        }

        fn ed() -> Self {
            Self::Ed(Ed25519KeyPair::generate().unwrap())
        }

        fn rsa(pss: bool) -> Self {
            Self::Rsa(RsaKeyPair::generate(KeySize::Rsa2048).unwrap(), pss)
        }

        fn alg(&self) -> &'static str {
            match self {
                Self::Ec(_) => "ES256",
                Self::Ed(_) => "EdDSA",
                Self::Rsa(_, false) => "RS256",
                Self::Rsa(_, true) => "PS256",
            }
        }

        fn jwk(&self) -> Value {
            match self {
                Self::Ec(k) => {
                    let point = k.public_key().as_ref();
                    json!({"kty": "EC", "crv": "P-256",
                        "x": b64url(&point[1..33]), "y": b64url(&point[33..65])})
                }
                Self::Ed(k) => {
                    json!({"kty": "OKP", "crv": "Ed25519", "x": b64url(k.public_key().as_ref())})
                }
                Self::Rsa(k, _) => {
                    let public = k.public_key();
                    json!({"kty": "RSA",
                        "n": b64url(public.modulus().big_endian_without_leading_zero()),
                        "e": b64url(public.exponent().big_endian_without_leading_zero())})
                }
            }
        }

        fn private_d(&self) -> String {
            match self {
                Self::Ec(k) => b64url(k.private_key().as_be_bytes().unwrap().as_ref()),
                Self::Ed(k) => b64url(k.seed().unwrap().as_be_bytes().unwrap().as_ref()),
                Self::Rsa(..) => "not-needed".into(),
            }
        }

        fn sign(&self, header: &Value, claims: &Value) -> String {
            let input = format!(
                "{}.{}",
                b64url(header.to_string()),
                b64url(claims.to_string())
            );
            let signature = match self {
                Self::Ec(k) => k
                    .sign(&SystemRandom::new(), input.as_bytes())
                    .unwrap()
                    .as_ref()
                    .to_vec(),
                Self::Ed(k) => k.sign(input.as_bytes()).as_ref().to_vec(),
                Self::Rsa(k, pss) => {
                    let padding = if *pss {
                        &RSA_PSS_SHA256
                    } else {
                        &RSA_PKCS1_SHA256
                    };
                    let mut sig = vec![0u8; k.public_modulus_len()];
                    k.sign(padding, &SystemRandom::new(), input.as_bytes(), &mut sig)
                        .unwrap();
                    sig
                }
            };
            format!("{input}.{}", b64url(signature))
        }

        fn header(&self) -> Value {
            json!({"typ": "dpop+jwt", "alg": self.alg(), "jwk": self.jwk()})
        }
    }

    fn claims() -> Value {
        json!({"jti": "jti-1", "htm": "POST", "htu": URL, "iat": NOW})
    }

    fn expected(access_token: Option<&str>) -> Expected<'_> {
        Expected {
            method: "POST",
            url: URL,
            access_token,
        }
    }

    fn refused(proof: &str, access_token: Option<&str>) -> &'static str {
        verify(proof, &expected(access_token), NOW).unwrap_err().0
    }

    #[test]
    fn valid_proofs_of_every_algorithm_give_the_rfc_7638_thumbprint() {
        for key in [Key::ec(), Key::ed(), Key::rsa(false), Key::rsa(true)] {
            let proof = verify(&key.sign(&key.header(), &claims()), &expected(None), NOW);
            let proof = proof.unwrap();
            assert_eq!(proof.jti, "jti-1");
            let jwk = key.jwk();
            let input = match key {
                Key::Ec(_) => format!(
                    r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                    jwk["x"].as_str().unwrap(),
                    jwk["y"].as_str().unwrap()
                ),
                Key::Ed(_) => format!(
                    r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
                    jwk["x"].as_str().unwrap()
                ),
                Key::Rsa(..) => format!(
                    r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
                    jwk["e"].as_str().unwrap(),
                    jwk["n"].as_str().unwrap()
                ),
            };
            assert_eq!(proof.jkt, b64url(Sha256::digest(input.as_bytes())));
        }
    }

    #[test]
    fn thumbprint_matches_the_rfc_9449_example() {
        // RFC 9449 §4.1 Figure 1's key and its jkt from §6.1.
        let key = PublicKey::Ec {
            x: URL_SAFE_NO_PAD
                .decode("l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs")
                .unwrap(),
            y: URL_SAFE_NO_PAD
                .decode("9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA")
                .unwrap(),
        };
        assert_eq!(
            key.thumbprint(),
            "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
        );
    }

    #[test]
    fn header_problems_are_refused() {
        let key = Key::ec();
        let with = |name: &str, value: Value| {
            let mut h = key.header();
            h[name] = value;
            key.sign(&h, &claims())
        };
        assert_eq!(
            refused(&with("typ", json!("JWT")), None),
            "typ is not dpop+jwt"
        );
        for alg in ["none", "HS256", "ES384", "EdDSA"] {
            let proof = with("alg", json!(alg));
            assert!(verify(&proof, &expected(None), NOW).is_err(), "{alg}");
        }
        assert!(refused(&with("crit", json!(["exp"])), None).starts_with("crit"));
        let mut private = key.jwk();
        private["d"] = key.private_d().into();
        assert_eq!(
            refused(&with("jwk", private), None),
            "the jwk has private key members"
        );
        let mut header = key.header();
        header.as_object_mut().unwrap().remove("jwk");
        assert_eq!(
            refused(&key.sign(&header, &claims()), None),
            "the header has no jwk"
        );
        // An Ed25519 key under ES256.
        let ed = Key::ed().jwk();
        assert!(refused(&with("jwk", ed), None).contains("not a key for"));
    }

    #[test]
    fn a_signature_by_another_key_or_over_other_claims_fails() {
        let key = Key::ec();
        let other = Key::ec();
        let forged = other.sign(&key.header(), &claims());
        assert!(refused(&forged, None).starts_with("the signature"));
        let genuine = key.sign(&key.header(), &claims());
        let parts: Vec<&str> = genuine.split('.').collect();
        let mut changed = claims();
        changed["htm"] = "GET".into();
        let spliced = format!("{}.{}.{}", parts[0], b64url(changed.to_string()), parts[2]);
        assert!(refused(&spliced, None).starts_with("the signature"));
        for broken in ["", "a.b", "a.b.c.d", &format!("{genuine}x"), "!!.!!.!!"] {
            assert!(verify(broken, &expected(None), NOW).is_err(), "{broken}");
        }
        assert_eq!(
            refused(&"a".repeat(MAX_PROOF_LEN + 1), None),
            "the proof is too long"
        );
        // A PKCS#1 v1.5 signature presented as PSS.
        let rsa = Key::rsa(false);
        let mut header = rsa.header();
        header["alg"] = "PS256".into();
        let confused = rsa.sign(&header, &claims());
        assert!(refused(&confused, None).starts_with("the signature"));
    }

    #[test]
    fn claims_must_name_this_request_now() {
        let key = Key::ed();
        let with = |name: &str, value: Value| {
            let mut c = claims();
            c[name] = value;
            key.sign(&key.header(), &c)
        };
        assert!(refused(&with("htm", json!("GET")), None).starts_with("htm"));
        assert!(refused(&with("htu", json!("https://idp.example/other")), None).starts_with("htu"));
        assert!(
            refused(&with("htu", json!("https://evil.example/token")), None).starts_with("htu")
        );
        assert!(refused(&with("iat", json!(NOW - 61)), None).starts_with("iat"));
        assert!(refused(&with("iat", json!(NOW + 61)), None).starts_with("iat"));
        assert!(refused(&with("iat", json!("now")), None).starts_with("iat"));
        assert!(refused(&with("jti", json!("")), None).starts_with("jti"));
        // Within the window, and htu with a query, a fragment, a default port or upper
        // case host: accepted.
        for ok in [
            with("iat", json!(NOW - 60)),
            with("iat", json!(NOW + 59)),
            with("htu", json!("https://IDP.example:443/token?x=1#f")),
        ] {
            verify(&ok, &expected(None), NOW).unwrap();
        }
    }

    #[test]
    fn ath_must_be_the_hash_of_the_presented_token() {
        let key = Key::ec();
        let token = "access-token-1";
        let mut c = claims();
        assert!(refused(&key.sign(&key.header(), &c), Some(token)).starts_with("ath"));
        c["ath"] = b64url(Sha256::digest(b"another-token")).into();
        assert!(refused(&key.sign(&key.header(), &c), Some(token)).starts_with("ath"));
        c["ath"] = b64url(Sha256::digest(token.as_bytes())).into();
        verify(&key.sign(&key.header(), &c), &expected(Some(token)), NOW).unwrap();
    }

    #[test]
    fn the_replay_cache_refuses_repeats_and_forgets_stale_entries() {
        let mut cache = ReplayCache::default();
        assert!(cache.insert("a", NOW));
        assert!(!cache.insert("a", NOW + 5));
        assert!(cache.insert("b", NOW + 10));
        cache.purge(NOW + 120);
        assert!(!cache.insert("a", NOW + 120), "still inside the window");
        cache.purge(NOW + 121);
        assert_eq!(cache.len(), 1);
        assert!(
            cache.insert("a", NOW + 121),
            "a proof with that jti is stale by now"
        );
    }

    #[test]
    fn the_replay_cache_is_bounded() {
        let mut cache = ReplayCache::default();
        for i in 0..REPLAY_CAPACITY + 10 {
            assert!(cache.insert(&i.to_string(), NOW));
        }
        assert_eq!(cache.len(), REPLAY_CAPACITY);
        assert!(!cache.insert(&(REPLAY_CAPACITY + 9).to_string(), NOW));
    }

    #[test]
    fn the_header_must_be_single() {
        let mut headers = HeaderMap::new();
        assert_eq!(header_of(&headers), Ok(None));
        headers.append("dpop", HeaderValue::from_static("a.b.c"));
        assert_eq!(header_of(&headers), Ok(Some("a.b.c")));
        headers.append("dpop", HeaderValue::from_static("d.e.f"));
        assert!(header_of(&headers).is_err());
    }
}
