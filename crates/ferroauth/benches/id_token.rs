//! Throughput of ID token validation: an RS256 token (2048-bit key, typical claims)
//! checked against a JWK Set parsed once, as the JWKS cache would hold it.

// criterion_group! defines an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use ferroauth::proto::jose::jwk::JwkSet;
use ferroauth::proto::jose::jws::Algorithm;
use ferroauth::proto::oidc::id_token::{IdTokenValidation, validate};
use serde_json::json;

const ISS: &str = "https://accounts.example.com";
const CLIENT: &str = "1234567890-abcdefg.apps.example.com";
const NOW: u64 = 1_700_000_000;
const NONCE: &str = "0S6_WzA2Mj-HkWEdUXMU1BwAsC4vtUs";
const ACCESS_TOKEN: &str = "ya29.a0AfB_byC-example-access-token-value";

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn setup() -> (String, JwkSet) {
    let key = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
        .expect("generate RSA key");
    let public = key.public_key();
    let jwks = json!({"keys": [
        {"kty": "RSA", "kid": "other", "use": "sig", "alg": "RS256",
         "n": b64(public.modulus().big_endian_without_leading_zero()), "e": "AQAB"},
        {"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
         "n": b64(public.modulus().big_endian_without_leading_zero()),
         "e": b64(public.exponent().big_endian_without_leading_zero())},
    ]});
    let keys = JwkSet::from_json(jwks.to_string().as_bytes()).expect("parse JWKS");

    let header = json!({"alg": "RS256", "kid": "k1", "typ": "JWT"});
    let claims = json!({
        "iss": ISS,
        "azp": CLIENT,
        "aud": CLIENT,
        "sub": "110169484474386276334",
        "hd": "example.com",
        "email": "jane.doe@example.com",
        "email_verified": true,
        "at_hash": ferroauth::proto::oidc::id_token::at_hash(Algorithm::RS256, ACCESS_TOKEN),
        "nonce": NONCE,
        "name": "Jane Doe",
        "picture": "https://lh3.example.com/a/ACg8ocJexample=s96-c",
        "given_name": "Jane",
        "family_name": "Doe",
        "locale": "en",
        "iat": NOW - 10,
        "exp": NOW + 3590,
    });
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let mut sig = vec![0; key.public_modulus_len()];
    key.sign(
        &signature::RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .expect("sign");
    (format!("{input}.{}", b64(&sig)), keys)
}

fn bench(c: &mut Criterion) {
    let (token, keys) = setup();
    let issuers = [ISS, "accounts.example.com"];
    let params = IdTokenValidation {
        nonce: Some(NONCE),
        access_token: Some(ACCESS_TOKEN),
        ..IdTokenValidation::new(&issuers, CLIENT, NOW)
    };
    validate(&token, &keys, None, &params).expect("the benchmark token is valid");
    c.bench_function("validate_rs256_id_token", |b| {
        b.iter(|| {
            validate(
                black_box(&token),
                black_box(&keys),
                None,
                black_box(&params),
            )
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
