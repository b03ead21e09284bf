//! The ID token's claim checks (OpenID Connect Core §3.1.3.7), reached: the target signs
//! the input's payload itself (HS256 under a test secret), so the signature passes and
//! what is fuzzed is the claims, against expectations the input's first byte chooses
//! (nonce, `max_age`, access token, code, state). Any payload must be accepted or refused
//! with a typed reason, never a panic; and an accepted one must really meet what was
//! asked: the issuer, the audience, the lifetime, the nonce.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ferroauth::proto::jose::jwk::JwkSet;
use ferroauth::proto::jose::jws::Algorithm;
use ferroauth::proto::oidc::id_token::{IdTokenValidation, validate};
use libfuzzer_sys::fuzz_target;

const SECRET: &[u8] = b"the id-token fuzz target's client secret, 32+ bytes";
const ISSUER: &str = "https://op.example";
const CLIENT: &str = "client-1";
const NOW: u64 = 1_700_000_000;

fuzz_target!(|data: &[u8]| {
    let [flags, payload @ ..] = data else {
        return;
    };
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, SECRET);
    let signature = aws_lc_rs::hmac::sign(&key, input.as_bytes());
    let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()));

    let issuers = [ISSUER];
    let mut params = IdTokenValidation::new(&issuers, CLIENT, NOW);
    params.allowed_algs = &[Algorithm::HS256];
    params.nonce = (flags & 1 != 0).then_some("n-0S6_WzA2Mj");
    params.max_age = (flags & 2 != 0).then_some(600);
    params.access_token = (flags & 4 != 0).then_some("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y");
    params.code =
        (flags & 8 != 0).then_some("Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk");
    params.state = (flags & 16 != 0).then_some("af0ifjsldkj");
    params.require_auth_time = flags & 32 != 0;

    match validate(&token, &JwkSet::default(), Some(SECRET), &params) {
        Ok(claims) => {
            assert_eq!(claims.iss(), ISSUER);
            assert!(
                claims.aud().iter().any(|a| a == CLIENT),
                "{:?}",
                claims.aud()
            );
            // `saturating_add`: an `exp` far in the future (a float of 22 digits) is valid
            // RFC 7519 and reads as `i64::MAX`; the first version of this line overflowed on it.
            assert!(
                claims.exp().saturating_add(60) > NOW as i64,
                "expired: {}",
                claims.exp()
            );
            if let Some(nonce) = params.nonce {
                assert_eq!(claims.nonce(), Some(nonce));
            }
            if params.max_age.is_some() || params.require_auth_time {
                assert!(claims.auth_time().is_some(), "auth_time required");
            }
            assert!(!claims.sub().is_empty());
        }
        Err(e) => {
            let _ = (e.reason(), e.to_string());
        }
    }
});
