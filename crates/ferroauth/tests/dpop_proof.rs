//! DPoP proofs (RFC 9449) checked by an independent JOSE implementation: `jsonwebtoken`
//! reads the header, builds the verification key from the header's own `jwk` and checks
//! the signature; the expected `ath` and thumbprint are computed here with `sha2`, not
//! with anything from ferroauth.

use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ferroauth::proto::jose::dpop::{DpopAlgorithm, DpopKey};
use jsonwebtoken::jwk::ThumbprintHash;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};
use url::Url;

const BOTH: [DpopAlgorithm; 2] = [DpopAlgorithm::ES256, DpopAlgorithm::EdDSA];

fn jwt_alg(alg: DpopAlgorithm) -> Algorithm {
    match alg {
        DpopAlgorithm::ES256 => Algorithm::ES256,
        DpopAlgorithm::EdDSA => Algorithm::EdDSA,
    }
}

fn now() -> i64 {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(secs.as_secs()).unwrap()
}

fn sha256_b64(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes()))
}

/// The JSON of one part of a compact JWS, read without any JOSE library.
fn raw_part(token: &str, index: usize) -> Map<String, Value> {
    let part = token.split('.').nth(index).expect("three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

fn sorted_keys(map: &Map<String, Value>) -> Vec<&str> {
    let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

/// Checks the header, then verifies the signature with jsonwebtoken using the key from
/// the header's `jwk`, and returns the verified claims.
fn verify(
    proof: &str,
    alg: DpopAlgorithm,
) -> Result<Map<String, Value>, jsonwebtoken::errors::Error> {
    let raw = raw_part(proof, 0);
    assert_eq!(sorted_keys(&raw), ["alg", "jwk", "typ"], "{raw:?}");
    let jwk_members = sorted_keys(raw["jwk"].as_object().expect("jwk object"));
    match alg {
        DpopAlgorithm::ES256 => assert_eq!(jwk_members, ["crv", "kty", "x", "y"]),
        DpopAlgorithm::EdDSA => assert_eq!(jwk_members, ["crv", "kty", "x"]),
    }

    let header = jsonwebtoken::decode_header(proof)?;
    assert_eq!(header.typ.as_deref(), Some("dpop+jwt"));
    assert_eq!(header.alg, jwt_alg(alg));
    assert!(header.kid.is_none() && header.jku.is_none() && header.x5c.is_none());
    let jwk = header.jwk.expect("the header carries the public key");
    let key = DecodingKey::from_jwk(&jwk)?;

    // A DPoP proof has no exp, aud or iss; freshness is judged by iat below.
    let mut validation = Validation::new(jwt_alg(alg));
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_aud = false;
    Ok(jsonwebtoken::decode::<Map<String, Value>>(proof, &key, &validation)?.claims)
}

fn htu(s: &str) -> Url {
    Url::parse(s).unwrap()
}

#[test]
fn token_request_proofs_verify_with_jsonwebtoken() {
    for alg in BOTH {
        let key = DpopKey::generate(alg).unwrap();
        let before = now();
        let proof = key
            .proof("POST", &htu("https://as.example/token"), None, None)
            .unwrap();
        let claims = verify(&proof, alg).unwrap();
        assert_eq!(sorted_keys(&claims), ["htm", "htu", "iat", "jti"], "{alg}");
        assert_eq!(claims["htm"], "POST");
        assert_eq!(claims["htu"], "https://as.example/token");
        let iat = claims["iat"].as_i64().expect("integer iat");
        assert!((before - 5..=now() + 5).contains(&iat), "iat {iat}");
        let jti = claims["jti"].as_str().expect("string jti");
        assert!(URL_SAFE_NO_PAD.decode(jti).unwrap().len() >= 16, "{jti}");
    }
}

#[test]
fn resource_request_proofs_carry_ath_nonce_and_a_bare_htu() {
    // The access token of RFC 9449 §7.1; its ath is recomputed here, not copied.
    let token = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU";
    let want_ath = sha256_b64(token);
    assert_eq!(want_ath, "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
    let target = htu("https://rs.example:8443/api/v1/items?page=2&q=x#top");
    for alg in BOTH {
        let key = DpopKey::generate(alg).unwrap();
        let proof = key
            .proof("GET", &target, Some(token), Some("server-nonce_1.x"))
            .unwrap();
        let claims = verify(&proof, alg).unwrap();
        assert_eq!(claims["htm"], "GET");
        assert_eq!(claims["htu"], "https://rs.example:8443/api/v1/items");
        assert_eq!(claims["ath"], want_ath.as_str());
        assert_eq!(claims["nonce"], "server-nonce_1.x");

        let other = key
            .proof("GET", &target, Some("another-token"), None)
            .unwrap();
        let claims = verify(&other, alg).unwrap();
        assert_eq!(claims["ath"], sha256_b64("another-token").as_str());
        assert_ne!(claims["ath"], want_ath.as_str());
        assert!(!claims.contains_key("nonce"), "no nonce unless given");
    }
}

#[test]
fn jti_is_unique_across_proofs() {
    let key = DpopKey::generate(DpopAlgorithm::ES256).unwrap();
    let target = htu("https://as.example/token");
    let jtis: HashSet<String> = (0..32)
        .map(|_| {
            let proof = key.proof("POST", &target, None, None).unwrap();
            verify(&proof, DpopAlgorithm::ES256).unwrap()["jti"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(jtis.len(), 32);
}

#[test]
fn thumbprint_agrees_with_jsonwebtoken_and_the_header_key() {
    for alg in BOTH {
        let key = DpopKey::generate(alg).unwrap();
        let proof = key
            .proof("POST", &htu("https://as.example/token"), None, None)
            .unwrap();
        let jwk = jsonwebtoken::decode_header(&proof).unwrap().jwk.unwrap();
        assert_eq!(
            jwk.thumbprint(ThumbprintHash::SHA256).unwrap(),
            key.thumbprint()
        );
        assert_eq!(raw_part(&proof, 0)["jwk"], key.public_jwk());
        // Computed from the RFC 7638 input written out here.
        let p = key.public_jwk();
        let input = match alg {
            DpopAlgorithm::ES256 => format!(
                r#"{{"crv":"P-256","kty":"EC","x":{},"y":{}}}"#,
                p["x"], p["y"]
            ),
            DpopAlgorithm::EdDSA => format!(r#"{{"crv":"Ed25519","kty":"OKP","x":{}}}"#, p["x"]),
        };
        assert_eq!(sha256_b64(&input), key.thumbprint());
    }
}

/// The same signature as ASN.1 DER, `SEQUENCE { INTEGER r, INTEGER s }`.
fn to_der(fixed: &[u8]) -> Vec<u8> {
    let int = |bytes: &[u8]| {
        let first = bytes
            .iter()
            .position(|b| *b != 0)
            .unwrap_or(bytes.len() - 1);
        let mut v = bytes[first..].to_vec();
        if v[0] & 0x80 != 0 {
            v.insert(0, 0);
        }
        let mut out = vec![0x02, v.len() as u8];
        out.extend(v);
        out
    };
    let (r, s) = fixed.split_at(fixed.len() / 2);
    let body = [int(r), int(s)].concat();
    let mut der = vec![0x30, body.len() as u8];
    der.extend(body);
    der
}

#[test]
fn es256_signatures_are_r_s_and_der_would_be_refused() {
    let key = DpopKey::generate(DpopAlgorithm::ES256).unwrap();
    let proof = key
        .proof("GET", &htu("https://rs.example/x"), Some("tok"), None)
        .unwrap();
    let (input, signature) = proof.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    assert_eq!(signature.len(), 64, "R || S, RFC 7518 §3.4");
    let der = format!("{input}.{}", URL_SAFE_NO_PAD.encode(to_der(&signature)));
    assert!(verify(&der, DpopAlgorithm::ES256).is_err());
}

#[test]
fn altered_proofs_fail_verification() {
    for alg in BOTH {
        let key = DpopKey::generate(alg).unwrap();
        let proof = key
            .proof("GET", &htu("https://rs.example/x"), Some("tok"), None)
            .unwrap();
        let parts: Vec<&str> = proof.split('.').collect();

        // Another ath under the original signature.
        let mut claims = raw_part(&proof, 1);
        claims.insert("ath".into(), Value::String(sha256_b64("other")));
        let payload = URL_SAFE_NO_PAD.encode(Value::Object(claims).to_string());
        let forged = format!("{}.{payload}.{}", parts[0], parts[2]);
        assert!(verify(&forged, alg).is_err(), "{alg}: changed ath accepted");

        // Another key in the header.
        let other = DpopKey::generate(alg).unwrap();
        let other_proof = other
            .proof("GET", &htu("https://rs.example/x"), Some("tok"), None)
            .unwrap();
        let other_header = other_proof.split('.').next().unwrap();
        let swapped = format!("{other_header}.{}.{}", parts[1], parts[2]);
        assert!(
            verify(&swapped, alg).is_err(),
            "{alg}: swapped key accepted"
        );
    }
}
