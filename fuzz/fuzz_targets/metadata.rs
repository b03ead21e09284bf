//! Provider metadata (OpenID Connect Discovery, RFC 8414) as a provider may serve it, and
//! the issuer rules applied to it.
#![no_main]

use ferroauth::proto::oidc::metadata::{ProviderMetadata, same_issuer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(metadata) = serde_json::from_slice::<ProviderMetadata>(data) {
        let _ = same_issuer(&metadata.issuer, "https://issuer.example/");
        let _ = url::Url::parse(&metadata.issuer)
            .map(|u| ferroauth::proto::oidc::metadata::expected_issuer(&u));
    }
});
