//! JWK sets as a provider's `jwks_uri` may serve them: every key parsed or skipped with a
//! reason, never a panic.
#![no_main]

use ferroauth::proto::jose::jwk::JwkSet;
use ferroauth::proto::jose::jws::Algorithm;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(set) = JwkSet::from_json(data) {
        for alg in [
            Algorithm::RS256,
            Algorithm::ES256,
            Algorithm::EdDSA,
            Algorithm::PS256,
        ] {
            let _ = set.find(None, alg);
            let _ = set.find(Some("k"), alg);
        }
    }
});
