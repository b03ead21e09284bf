//! Compact JWS (ID tokens, request objects) and their headers, verified against a fixed key
//! set and an HMAC secret: malformed input must be refused, never panic.
#![no_main]

use ferroauth::proto::jose::jwk::JwkSet;
use ferroauth::proto::jose::jws::{Algorithm, UnverifiedJws};
use libfuzzer_sys::fuzz_target;

const JWKS: &[u8] = br#"{"keys":[
 {"kty":"EC","crv":"P-256","kid":"ec","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
 {"kty":"OKP","crv":"Ed25519","kid":"ed","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
 {"kty":"oct","kid":"hs","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}
]}"#;

const ALL: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::EdDSA,
    Algorithm::HS256,
];

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(jws) = UnverifiedJws::parse(token) else {
        return;
    };
    let header = jws.header();
    let _ = (header.alg(), header.kid(), header.typ());
    let keys = JwkSet::from_json(JWKS).expect("the fixed key set parses");
    let _ = jws.verify(&keys, Some(b"a shared secret of the fuzz target"), ALL);
});
