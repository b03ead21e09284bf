//! JWT client assertions for token-endpoint authentication: `client_secret_jwt` and
//! `private_key_jwt` (RFC 7523 §2.2 and §3, RFC 7521 §4.2, OpenID Connect Core §9).
//!
//! Why: with a shared secret in a Basic header, every token request carries the secret
//! itself; a signed assertion proves possession without sending it, expires within a
//! minute, and with `private_key_jwt` the provider holds only a public key.
//!
//! Claims: `iss` = `sub` = the client id, `aud` = the token endpoint URL, a random `jti`,
//! `iat`, and `exp` [`ASSERTION_LIFETIME_SECS`] later. RFC 7523 allows the issuer as `aud`
//! too; the token endpoint URL is what OpenID Connect Core §9 asks for, and what every
//! provider we know accepts (oidc-provider included), so it is used for the token,
//! revocation and introspection endpoints alike.
//!
//! Keys come from PEM (PKCS#8; PKCS#1 `RSA PRIVATE KEY`; SEC1 `EC PRIVATE KEY`) or from a
//! private JWK: RSA (RS256/384/512, PS256/384/512), EC P-256 (ES256), P-384 (ES384) and
//! Ed25519 (EdDSA). [`ClientAssertionKey::public_jwk`] gives the JWK to register at the
//! provider.

use std::fmt;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPairComponents, PublicKeyComponents};
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, EcdsaSigningAlgorithm, Ed25519KeyPair, KeyPair as _, RsaEncoding,
    RsaKeyPair,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rustls_pki_types::pem::{self, PemObject, SectionKind};
use serde_json::{Map, Value, json};

use crate::Secret;
use crate::proto::jose::jws::Algorithm;

/// How long an assertion is valid: short, so a captured one is of little use (RFC 7523
/// §3 item 4 wants an expiry; OpenID Connect asks for a short one).
pub const ASSERTION_LIFETIME_SECS: u64 = 60;

/// Why a key cannot sign client assertions. Never contains key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError(pub String);

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KeyError {}

fn bad(why: impl Into<String>) -> KeyError {
    KeyError(why.into())
}

enum Signer {
    // Boxed: the HMAC key state is over a kilobyte, the others a few pointers.
    Hmac(Box<aws_lc_rs::hmac::Key>),
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// A key that signs client assertions, with its algorithm and optional `kid`.
///
/// `Debug` shows the algorithm and the `kid`, never key material.
pub struct ClientAssertionKey {
    signer: Signer,
    alg: Algorithm,
    kid: Option<String>,
    /// The JWT header, base64url-encoded: fixed by `alg` and `kid`, so built once.
    header_b64: String,
}

impl fmt::Debug for ClientAssertionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientAssertionKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl ClientAssertionKey {
    /// A `client_secret_jwt` key: HMAC with the client secret (HS256 unless `alg` says
    /// HS384 or HS512). The secret must be at least as long as the hash (RFC 7518 §3.2).
    pub fn from_client_secret(secret: &Secret, alg: Option<&str>) -> Result<Self, KeyError> {
        let alg = match alg {
            None => Algorithm::HS256,
            Some(name) => Algorithm::from_name(name)
                .filter(|a| a.is_symmetric())
                .ok_or_else(|| bad(format!("{name:?} is not an HMAC algorithm")))?,
        };
        let min = match alg {
            Algorithm::HS384 => 48,
            Algorithm::HS512 => 64,
            _ => 32,
        };
        if secret.expose().len() < min {
            return Err(bad(format!(
                "{alg} needs a client secret of at least {min} bytes (RFC 7518 §3.2)"
            )));
        }
        let hmac = match alg {
            Algorithm::HS384 => aws_lc_rs::hmac::HMAC_SHA384,
            Algorithm::HS512 => aws_lc_rs::hmac::HMAC_SHA512,
            _ => aws_lc_rs::hmac::HMAC_SHA256,
        };
        let key = aws_lc_rs::hmac::Key::new(hmac, secret.expose().as_bytes());
        Ok(Self::new(Signer::Hmac(Box::new(key)), alg, None))
    }

    fn new(signer: Signer, alg: Algorithm, kid: Option<String>) -> Self {
        let mut header = json!({ "alg": alg.name(), "typ": "JWT" });
        if let Some(kid) = &kid {
            header["kid"] = json!(kid);
        }
        Self {
            signer,
            alg,
            header_b64: b64(header.to_string().as_bytes()),
            kid,
        }
    }

    /// A `private_key_jwt` key from PEM text or a private JWK (JSON). `alg` overrides the
    /// key type's default algorithm; `kid` overrides the JWK's own `kid`.
    pub fn from_private_key(
        text: &str,
        alg: Option<&str>,
        kid: Option<&str>,
    ) -> Result<Self, KeyError> {
        let trimmed = text.trim();
        let (signer, jwk_kid, jwk_alg) = if trimmed.starts_with('{') {
            from_jwk(trimmed)?
        } else {
            (from_pem(trimmed)?, None, None)
        };
        let requested = alg.or(jwk_alg.as_deref());
        let alg = pick_alg(&signer, requested)?;
        Ok(Self::new(signer, alg, kid.map(str::to_owned).or(jwk_kid)))
    }

    /// The signing algorithm (`alg` header).
    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// The key id sent in the header, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The public key as a JWK, to register at the provider (`jwks` client metadata);
    /// `None` for an HMAC key, which has no public part.
    pub fn public_jwk(&self) -> Option<Value> {
        let mut jwk = match &self.signer {
            Signer::Hmac(_) => return None,
            Signer::Rsa(k) => {
                let public = k.public_key();
                json!({
                    "kty": "RSA",
                    "n": b64(public.modulus().big_endian_without_leading_zero()),
                    "e": b64(public.exponent().big_endian_without_leading_zero()),
                })
            }
            Signer::Ec(k) => {
                let point = k.public_key().as_ref();
                let half = (point.len() - 1) / 2;
                let crv = if self.alg == Algorithm::ES384 {
                    "P-384"
                } else {
                    "P-256"
                };
                json!({
                    "kty": "EC",
                    "crv": crv,
                    "x": b64(&point[1..1 + half]),
                    "y": b64(&point[1 + half..]),
                })
            }
            Signer::Ed25519(k) => json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": b64(k.public_key().as_ref()),
            }),
        };
        jwk["use"] = json!("sig");
        jwk["alg"] = json!(self.alg.name());
        if let Some(kid) = &self.kid {
            jwk["kid"] = json!(kid);
        }
        Some(jwk)
    }

    /// A client assertion for `client_id` addressed to `audience` (the token endpoint
    /// URL), valid from `now` (Unix seconds) for [`ASSERTION_LIFETIME_SECS`].
    pub fn client_assertion(
        &self,
        client_id: &str,
        audience: &str,
        now: u64,
    ) -> Result<String, KeyError> {
        let [jti] = crate::random::tokens([24]).map_err(|e| bad(e.to_string()))?;
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(client_id));
        claims.insert("sub".into(), json!(client_id));
        claims.insert("aud".into(), json!(audience));
        claims.insert("jti".into(), json!(jti));
        claims.insert("iat".into(), json!(now));
        claims.insert("exp".into(), json!(now + ASSERTION_LIFETIME_SECS));
        self.sign(&claims)
    }

    /// Signs a JWT with these claims (header `typ` `JWT`).
    pub fn sign(&self, claims: &Map<String, Value>) -> Result<String, KeyError> {
        self.sign_with_header(&self.header_b64, claims)
    }

    /// Signs a JWT with these claims and this media type in the header's `typ`, for JWTs
    /// whose specification names one (RFC 9101 §10.8: `oauth-authz-req+jwt`), so that one
    /// kind of JWT cannot be passed off as another.
    pub fn sign_typed(&self, typ: &str, claims: &Map<String, Value>) -> Result<String, KeyError> {
        let mut header = json!({ "alg": self.alg.name(), "typ": typ });
        if let Some(kid) = &self.kid {
            header["kid"] = json!(kid);
        }
        self.sign_with_header(&b64(header.to_string().as_bytes()), claims)
    }

    fn sign_with_header(
        &self,
        header_b64: &str,
        claims: &Map<String, Value>,
    ) -> Result<String, KeyError> {
        let claims = serde_json::to_string(claims).map_err(|_| bad("unserializable claims"))?;
        let input = format!("{header_b64}.{}", b64(claims.as_bytes()));
        let signature = self.signature(input.as_bytes())?;
        Ok(format!("{input}.{}", b64(&signature)))
    }

    fn signature(&self, input: &[u8]) -> Result<Vec<u8>, KeyError> {
        let failed = |_| bad("signing failed");
        let rng = SystemRandom::new();
        match &self.signer {
            Signer::Hmac(key) => Ok(aws_lc_rs::hmac::sign(key, input).as_ref().to_vec()),
            Signer::Rsa(key) => {
                let mut out = vec![0u8; key.public_modulus_len()];
                key.sign(rsa_padding(self.alg)?, &rng, input, &mut out)
                    .map_err(failed)?;
                Ok(out)
            }
            Signer::Ec(key) => Ok(key.sign(&rng, input).map_err(failed)?.as_ref().to_vec()),
            Signer::Ed25519(key) => Ok(key.sign(input).as_ref().to_vec()),
        }
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn rsa_padding(alg: Algorithm) -> Result<&'static dyn RsaEncoding, KeyError> {
    Ok(match alg {
        Algorithm::RS256 => &signature::RSA_PKCS1_SHA256,
        Algorithm::RS384 => &signature::RSA_PKCS1_SHA384,
        Algorithm::RS512 => &signature::RSA_PKCS1_SHA512,
        Algorithm::PS256 => &signature::RSA_PSS_SHA256,
        Algorithm::PS384 => &signature::RSA_PSS_SHA384,
        Algorithm::PS512 => &signature::RSA_PSS_SHA512,
        other => return Err(bad(format!("{other} does not fit an RSA key"))),
    })
}

fn pick_alg(signer: &Signer, requested: Option<&str>) -> Result<Algorithm, KeyError> {
    let requested = requested
        .map(|name| {
            Algorithm::from_name(name).ok_or_else(|| bad(format!("unsupported algorithm {name:?}")))
        })
        .transpose()?;
    let (default, fits): (Algorithm, fn(Algorithm) -> bool) = match signer {
        Signer::Hmac(_) => (Algorithm::HS256, Algorithm::is_symmetric),
        Signer::Rsa(_) => (Algorithm::RS256, |a| {
            a.key_type() == crate::proto::jose::jwk::KeyType::Rsa
        }),
        Signer::Ec(k) if k.public_key().as_ref().len() == 97 => {
            (Algorithm::ES384, |a| a == Algorithm::ES384)
        }
        Signer::Ec(_) => (Algorithm::ES256, |a| a == Algorithm::ES256),
        Signer::Ed25519(_) => (Algorithm::EdDSA, |a| a == Algorithm::EdDSA),
    };
    match requested {
        None => Ok(default),
        Some(alg) if fits(alg) => Ok(alg),
        Some(alg) => Err(bad(format!("{alg} does not fit this key's type"))),
    }
}

const EC_ALGS: [(&EcdsaSigningAlgorithm, &str); 2] = [
    (&signature::ECDSA_P256_SHA256_FIXED_SIGNING, "P-256"),
    (&signature::ECDSA_P384_SHA384_FIXED_SIGNING, "P-384"),
];

fn from_pem(text: &str) -> Result<Signer, KeyError> {
    // Not a section kind the PEM reader knows, so it would only say "nothing found".
    if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        return Err(bad("encrypted PEM keys are not supported; decrypt it"));
    }
    // The reader's own messages may quote lines of the input: fixed texts instead.
    let (kind, der) = <(SectionKind, Vec<u8>)>::from_pem_slice(text.as_bytes()).map_err(|e| {
        bad(match e {
            pem::Error::NoItemsFound => "neither PEM nor a JSON Web Key",
            pem::Error::MissingSectionEnd { .. } => "PEM without its END line",
            pem::Error::Base64Decode(_) => "the PEM body is not base64",
            _ => "malformed PEM",
        })
    })?;
    match kind {
        SectionKind::PrivateKey => {
            if let Ok(k) = RsaKeyPair::from_pkcs8(&der) {
                return Ok(Signer::Rsa(k));
            }
            for (alg, _) in EC_ALGS {
                if let Ok(k) = EcdsaKeyPair::from_pkcs8(alg, &der) {
                    return Ok(Signer::Ec(k));
                }
            }
            Ed25519KeyPair::from_pkcs8(&der)
                .map(Signer::Ed25519)
                .map_err(|_| bad("a PKCS#8 key that is not RSA, EC P-256/P-384 or Ed25519"))
        }
        SectionKind::RsaPrivateKey => RsaKeyPair::from_der(&der)
            .map(Signer::Rsa)
            .map_err(|e| bad(format!("unusable RSA key ({e})"))),
        SectionKind::EcPrivateKey => EC_ALGS
            .iter()
            .find_map(|(alg, _)| EcdsaKeyPair::from_private_key_der(alg, &der).ok())
            .map(Signer::Ec)
            .ok_or_else(|| bad("an EC key not on P-256 or P-384")),
        other => Err(bad(format!("PEM block {other:?} is not a private key"))),
    }
}

type JwkParts = (Signer, Option<String>, Option<String>);

fn from_jwk(text: &str) -> Result<JwkParts, KeyError> {
    let jwk: Map<String, Value> = serde_json::from_str(text)
        .map_err(|_| bad("the key looks like JSON but is not a JWK object"))?;
    let text_member = |name: &str| jwk.get(name).and_then(Value::as_str).map(str::to_owned);
    let bytes = |name: &str| -> Result<Vec<u8>, KeyError> {
        let v = jwk
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("the JWK has no `{name}`")))?;
        URL_SAFE_NO_PAD
            .decode(v)
            .map_err(|_| bad(format!("the JWK's `{name}` is not base64url")))
    };
    if !jwk.contains_key("d") {
        return Err(bad(
            "the JWK is a public key; a private key (`d`) is needed",
        ));
    }
    let signer = match jwk.get("kty").and_then(Value::as_str) {
        Some("RSA") => {
            if jwk.contains_key("oth") {
                return Err(bad("multi-prime RSA keys are not supported"));
            }
            let components = KeyPairComponents {
                public_key: PublicKeyComponents {
                    n: bytes("n")?,
                    e: bytes("e")?,
                },
                d: bytes("d")?,
                p: bytes("p")?,
                q: bytes("q")?,
                dP: bytes("dp")?,
                dQ: bytes("dq")?,
                qInv: bytes("qi")?,
            };
            Signer::Rsa(
                RsaKeyPair::from_components(&components)
                    .map_err(|e| bad(format!("unusable RSA JWK ({e})")))?,
            )
        }
        Some("EC") => {
            let crv = text_member("crv").unwrap_or_default();
            let (alg, _) = EC_ALGS
                .iter()
                .find(|(_, name)| *name == crv)
                .ok_or_else(|| bad(format!("unsupported EC curve {crv:?}")))?;
            let mut point = vec![4u8];
            point.extend(bytes("x")?);
            point.extend(bytes("y")?);
            Signer::Ec(
                EcdsaKeyPair::from_private_key_and_public_key(alg, &bytes("d")?, &point)
                    .map_err(|e| bad(format!("unusable EC JWK ({e})")))?,
            )
        }
        Some("OKP") if text_member("crv").as_deref() == Some("Ed25519") => Signer::Ed25519(
            Ed25519KeyPair::from_seed_and_public_key(&bytes("d")?, &bytes("x")?)
                .map_err(|e| bad(format!("unusable Ed25519 JWK ({e})")))?,
        ),
        Some("oct") => {
            return Err(bad(
                "an `oct` JWK is a shared secret: use client_secret_jwt with the client secret",
            ));
        }
        other => return Err(bad(format!("unsupported JWK key type {other:?}"))),
    };
    Ok((signer, text_member("kid"), text_member("alg")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::jose::jwk::JwkSet;
    use crate::proto::jose::jws::UnverifiedJws;
    use aws_lc_rs::encoding::{AsBigEndian, AsDer, Pkcs8V1Der};
    use base64::engine::general_purpose::STANDARD;

    const AUD: &str = "https://op.example/token";

    fn pem(label: &str, der: &[u8]) -> String {
        let body = STANDARD.encode(der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            lines.join("\n")
        )
    }

    fn rsa_pkcs8() -> Vec<u8> {
        let key = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let der: Pkcs8V1Der = key.as_der().unwrap();
        der.as_ref().to_vec()
    }

    /// Verifies the assertion with the key's public JWK alone and returns its claims.
    fn verify(token: &str, key: &ClientAssertionKey) -> Map<String, Value> {
        let jws = UnverifiedJws::parse(token).unwrap();
        assert_eq!(jws.header().alg(), key.alg());
        assert_eq!(jws.header().kid(), key.kid());
        assert_eq!(jws.header().typ(), Some("JWT"));
        let payload = match key.public_jwk() {
            Some(jwk) => {
                let set =
                    JwkSet::from_json(json!({ "keys": [jwk] }).to_string().as_bytes()).unwrap();
                assert_eq!(set.len(), 1, "{:?}", set.skipped());
                jws.verify(&set, None, &[key.alg()]).unwrap()
            }
            None => panic!("no public key"),
        };
        serde_json::from_slice(&payload).unwrap()
    }

    fn check_claims(claims: &Map<String, Value>) {
        assert_eq!(claims["iss"], "client-1");
        assert_eq!(claims["sub"], "client-1");
        assert_eq!(claims["aud"], AUD);
        assert_eq!(claims["iat"], 1_000_000);
        assert_eq!(claims["exp"], 1_000_000 + ASSERTION_LIFETIME_SECS);
        let lifetime = claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap();
        assert!(lifetime <= 300, "exp at most 5 minutes after iat");
        assert!(claims["jti"].as_str().unwrap().len() >= 32);
    }

    #[test]
    fn rsa_pkcs8_pem_rs256_and_ps256() {
        let text = pem("PRIVATE KEY", &rsa_pkcs8());
        for (alg, want) in [(None, Algorithm::RS256), (Some("PS256"), Algorithm::PS256)] {
            let key = ClientAssertionKey::from_private_key(&text, alg, Some("k1")).unwrap();
            assert_eq!(key.alg(), want);
            let token = key.client_assertion("client-1", AUD, 1_000_000).unwrap();
            check_claims(&verify(&token, &key));
        }
        let e = ClientAssertionKey::from_private_key(&text, Some("ES256"), None).unwrap_err();
        assert!(e.0.contains("does not fit"), "{e}");
    }

    #[test]
    fn ec_and_ed25519_pem() {
        let rng = SystemRandom::new();
        for alg in [
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
        ] {
            let der = EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
            let key =
                ClientAssertionKey::from_private_key(&pem("PRIVATE KEY", der.as_ref()), None, None)
                    .unwrap();
            let token = key.client_assertion("client-1", AUD, 1_000_000).unwrap();
            check_claims(&verify(&token, &key));
        }
        let der = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let key =
            ClientAssertionKey::from_private_key(&pem("PRIVATE KEY", der.as_ref()), None, None)
                .unwrap();
        assert_eq!(key.alg(), Algorithm::EdDSA);
        let token = key.client_assertion("client-1", AUD, 1_000_000).unwrap();
        check_claims(&verify(&token, &key));
    }

    /// Reads the top-level INTEGERs of a DER SEQUENCE (enough for PKCS#1 and to find the
    /// PKCS#1 key inside PKCS#8).
    fn der_items(der: &[u8]) -> Vec<(u8, Vec<u8>)> {
        fn item(der: &[u8]) -> (u8, &[u8], &[u8]) {
            let tag = der[0];
            let (len, head) = if der[1] < 0x80 {
                (der[1] as usize, 2)
            } else {
                let n = (der[1] & 0x7f) as usize;
                let len = der[2..2 + n]
                    .iter()
                    .fold(0usize, |a, b| (a << 8) | *b as usize);
                (len, 2 + n)
            };
            (tag, &der[head..head + len], &der[head + len..])
        }
        let (_, mut body, _) = item(der);
        let mut out = Vec::new();
        while !body.is_empty() {
            let (tag, content, rest) = item(body);
            out.push((tag, content.to_vec()));
            body = rest;
        }
        out
    }

    #[test]
    fn pkcs1_sec1_and_encrypted_pem() {
        // The PKCS#1 and SEC1 keys are the OCTET STRING inside a PKCS#8 key.
        let inner = |pkcs8: &[u8]| {
            der_items(pkcs8)
                .into_iter()
                .find(|(tag, _)| *tag == 0x04)
                .unwrap()
                .1
        };
        let rsa = pem("RSA PRIVATE KEY", &inner(&rsa_pkcs8()));
        let key = ClientAssertionKey::from_private_key(&rsa, None, None).unwrap();
        assert_eq!(key.alg(), Algorithm::RS256);
        check_claims(&verify(
            &key.client_assertion("client-1", AUD, 1_000_000).unwrap(),
            &key,
        ));
        let rng = SystemRandom::new();
        let ec = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .unwrap();
        let sec1 = pem("EC PRIVATE KEY", &inner(ec.as_ref()));
        let key = ClientAssertionKey::from_private_key(&sec1, None, None).unwrap();
        assert_eq!(key.alg(), Algorithm::ES256);
        check_claims(&verify(
            &key.client_assertion("client-1", AUD, 1_000_000).unwrap(),
            &key,
        ));
        let encrypted = pem("ENCRYPTED PRIVATE KEY", &[0x30, 0x00]);
        let e = ClientAssertionKey::from_private_key(&encrypted, None, None).unwrap_err();
        assert!(e.0.contains("encrypted"), "{e}");
        let cut = "-----BEGIN PRIVATE KEY-----\nAAAA\n";
        let e = ClientAssertionKey::from_private_key(cut, None, None).unwrap_err();
        assert!(e.0.contains("END line"), "{e}");
    }

    #[test]
    fn private_jwks_of_every_type() {
        // RSA: take the PKCS#1 members out of a generated PKCS#8 key.
        let pkcs8 = rsa_pkcs8();
        let outer = der_items(&pkcs8);
        let pkcs1 = &outer.iter().find(|(tag, _)| *tag == 0x04).unwrap().1;
        let ints: Vec<String> = der_items(pkcs1)
            .into_iter()
            .skip(1)
            .map(|(_, v)| b64(&v[usize::from(v[0] == 0)..]))
            .collect();
        let names = ["n", "e", "d", "p", "q", "dp", "dq", "qi"];
        let mut jwk = json!({ "kty": "RSA", "kid": "rsa-jwk", "alg": "PS256" });
        for (name, value) in names.iter().zip(&ints) {
            jwk[*name] = json!(value);
        }
        let key = ClientAssertionKey::from_private_key(&jwk.to_string(), None, None).unwrap();
        assert_eq!((key.alg(), key.kid()), (Algorithm::PS256, Some("rsa-jwk")));
        let token = key.client_assertion("client-1", AUD, 1_000_000).unwrap();
        check_claims(&verify(&token, &key));

        // EC P-256.
        let rng = SystemRandom::new();
        let ec = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let d = ec.private_key().as_be_bytes().unwrap();
        let point = ec.public_key().as_ref().to_vec();
        let jwk = json!({"kty":"EC","crv":"P-256","kid":"ec","d":b64(d.as_ref()),"x":b64(&point[1..33]),"y":b64(&point[33..])});
        let key = ClientAssertionKey::from_private_key(&jwk.to_string(), None, None).unwrap();
        let token = key.client_assertion("client-1", AUD, 1_000_000).unwrap();
        check_claims(&verify(&token, &key));

        // Ed25519.
        let der = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let ed = Ed25519KeyPair::from_pkcs8(der.as_ref()).unwrap();
        let seed = ed.seed().unwrap().as_be_bytes().unwrap();
        let jwk = json!({"kty":"OKP","crv":"Ed25519","d":b64(seed.as_ref()),"x":b64(ed.public_key().as_ref())});
        let key = ClientAssertionKey::from_private_key(&jwk.to_string(), None, Some("ed")).unwrap();
        assert_eq!(key.kid(), Some("ed"));
        let token = key.client_assertion("client-1", AUD, 1_000_000).unwrap();
        check_claims(&verify(&token, &key));
    }

    #[test]
    fn client_secret_jwt_is_hmac_with_the_secret() {
        let secret = Secret::new("a-long-client-secret-for-interop-tests-0123456789");
        let key = ClientAssertionKey::from_client_secret(&secret, None).unwrap();
        assert_eq!(key.alg(), Algorithm::HS256);
        assert!(key.public_jwk().is_none());
        let token = key.client_assertion("client-1", AUD, 1_000_000).unwrap();
        let jws = UnverifiedJws::parse(&token).unwrap();
        let empty = JwkSet::from_keys(Vec::new());
        let payload = jws
            .verify(
                &empty,
                Some(secret.expose().as_bytes()),
                &[Algorithm::HS256],
            )
            .unwrap();
        check_claims(&serde_json::from_slice(&payload).unwrap());
        assert!(
            jws.verify(
                &empty,
                Some(b"another-secret-of-sufficient-length-xx"),
                &[Algorithm::HS256]
            )
            .is_err()
        );
        let short = ClientAssertionKey::from_client_secret(&Secret::new("short"), None);
        assert!(short.unwrap_err().0.contains("at least 32"));
        assert!(ClientAssertionKey::from_client_secret(&secret, Some("RS256")).is_err());
    }

    #[test]
    fn assertions_are_unique_and_debug_hides_keys() {
        let secret = Secret::new("a-long-client-secret-for-interop-tests-0123456789");
        let key = ClientAssertionKey::from_client_secret(&secret, None).unwrap();
        let a = key.client_assertion("c", AUD, 1).unwrap();
        let b = key.client_assertion("c", AUD, 1).unwrap();
        assert_ne!(a, b, "jti must differ");
        assert!(!format!("{key:?}").contains("interop"));
        let text = pem("PRIVATE KEY", &rsa_pkcs8());
        let rsa = ClientAssertionKey::from_private_key(&text, None, None).unwrap();
        assert!(!format!("{rsa:?}").contains("MII"));
    }

    #[test]
    fn bad_keys_are_refused_with_reasons() {
        for (text, want) in [
            ("hello", "neither PEM"),
            (
                "{\"kty\":\"RSA\",\"n\":\"AQ\",\"e\":\"AQAB\"}",
                "public key",
            ),
            (
                "{\"kty\":\"oct\",\"k\":\"AQ\",\"d\":\"x\"}",
                "shared secret",
            ),
            (
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
                "not a private key",
            ),
            (
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
                "PKCS#8",
            ),
        ] {
            let e = ClientAssertionKey::from_private_key(text, None, None).unwrap_err();
            assert!(e.0.contains(want), "{text}: {e}");
        }
    }
}
