//! Differential: ferroauth's JWS verification (HS256 with a shared secret) against the
//! `jsonwebtoken` crate, an independent implementation. The target builds the token itself
//! from the input: a header it serializes (alg, typ and kid chosen by the input), a payload
//! of the input's bytes, and the right signature or a damaged one, each segment in
//! base64url without padding or, chosen by the input, with padding or the standard
//! alphabet. Whenever the payload is a JSON object, both must agree on accepting it, and
//! on the payload they give back.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use ferroauth::proto::jose::jwk::JwkSet;
use ferroauth::proto::jose::jws::{Algorithm, UnverifiedJws};
use jsonwebtoken::{DecodingKey, Validation, decode};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

const SECRET: &[u8] = b"a shared secret of the differential fuzz target, 32+ bytes";
const ALGS: &[&str] = &["HS256", "HS384", "none", "hs256", "RS256", "HS256 "];

fn hs256(input: &[u8]) -> Vec<u8> {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, SECRET);
    aws_lc_rs::hmac::sign(&key, input).as_ref().to_vec()
}

fuzz_target!(|data: &[u8]| {
    let [mode, alg, rest @ ..] = data else {
        return;
    };
    let (extra, payload) = match rest.iter().position(|&b| b == 0xff) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (&[][..], rest),
    };
    let mut header = Map::new();
    header.insert("alg".into(), json!(ALGS[usize::from(*alg) % ALGS.len()]));
    if mode & 0x10 != 0 {
        header.insert("typ".into(), json!(String::from_utf8_lossy(extra)));
    }
    if mode & 0x20 != 0 {
        header.insert("kid".into(), json!("k1"));
    }
    let encode = |bytes: &[u8]| match mode & 0x06 {
        0x02 => URL_SAFE.encode(bytes),
        0x04 => STANDARD.encode(bytes),
        _ => URL_SAFE_NO_PAD.encode(bytes),
    };
    let input = format!(
        "{}.{}",
        encode(Value::Object(header).to_string().as_bytes()),
        encode(payload)
    );
    let mut signature = hs256(input.as_bytes());
    if mode & 0x01 != 0 {
        signature[usize::from(*alg) % 32] ^= 1 << (mode >> 6);
    }
    let token = format!("{input}.{}", encode(&signature));

    let ours = UnverifiedJws::parse(&token)
        .and_then(|jws| jws.verify(&JwkSet::default(), Some(SECRET), &[Algorithm::HS256]));
    let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    let key = DecodingKey::from_secret(SECRET).expect("an HMAC key");
    let theirs = decode::<Value>(&token, &key, &validation);

    let Ok(Value::Object(claims)) = serde_json::from_slice::<Value>(payload) else {
        // Not a JWT's claims: only ours must not accept what it cannot have signed.
        assert!(
            mode & 0x01 == 0 || ours.is_err(),
            "a damaged signature accepted"
        );
        return;
    };
    if !registered_claims_typed(&claims) {
        // jsonwebtoken reads the registered claims while decoding, so a wrongly typed one is
        // a JSON error there; ferroauth's JWS layer leaves claims to the ID token checks,
        // which refuse it (`IdTokenError::InvalidClaim`). Not comparable here.
        assert!(
            mode & 0x01 == 0 || ours.is_err(),
            "a damaged signature accepted"
        );
        return;
    }
    match (&ours, &theirs) {
        (Ok(bytes), Ok(data)) => {
            let ours: Value = serde_json::from_slice(bytes).expect("the payload given back");
            assert_eq!(ours, Value::Object(claims), "ferroauth's payload differs");
            assert_eq!(data.claims, ours, "the two payloads differ");
        }
        (Err(_), Err(_)) => {}
        _ => panic!(
            "they disagree on {token:?}: ferroauth {:?}, jsonwebtoken {:?}",
            ours.as_ref().map(|_| "accepts"),
            theirs
                .as_ref()
                .map(|_| "accepts")
                .map_err(|e| e.to_string())
        ),
    }
});

/// Whether the registered claims jsonwebtoken parses have their RFC 7519 types: `exp`,
/// `nbf` and `iat` numbers, `iss` and `sub` strings, `aud` a string or strings.
fn registered_claims_typed(claims: &Map<String, Value>) -> bool {
    let number = |k: &str| claims.get(k).is_none_or(Value::is_number);
    let string = |k: &str| claims.get(k).is_none_or(Value::is_string);
    let audience = claims.get("aud").is_none_or(|aud| match aud {
        Value::String(_) => true,
        Value::Array(items) => items.iter().all(Value::is_string),
        _ => false,
    });
    number("exp") && number("nbf") && number("iat") && string("iss") && string("sub") && audience
}
