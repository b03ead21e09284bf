//! Throughput of OAuth 1.0a request signing (HMAC-SHA1, header placement).
//!
//! Run with `cargo bench -p ferroauth --bench oauth1_sign`; criterion reports
//! elements per second, i.e. signatures per second on one core.

// criterion_group! defines an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ferroauth::proto::oauth1::{Consumer, Placement, RequestSigner, SignatureMethod};
use url::Url;

const URL: &str = "https://api.example.com/1.1/statuses/home_timeline.json?count=20&since_id=12345&include_entities=true";

fn sign(c: &mut Criterion) {
    let consumer = Consumer::new(
        "xvz1evFS4wEEPTGEFPHBog",
        "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
    );
    let token = "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb";
    let token_secret = "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE";

    let mut group = c.benchmark_group("oauth1_sign");
    group.throughput(Throughput::Elements(1));
    // The production path: clock timestamp and CSPRNG nonce.
    group.bench_function("hmac_sha1_get_header", |b| {
        b.iter(|| {
            RequestSigner::new("GET", black_box(URL))
                .token(token, token_secret)
                .placement(Placement::HEADER)
                .sign(black_box(&consumer), SignatureMethod::HmacSha1)
        });
    });
    // Fixed timestamp and nonce: the cost of signing alone.
    group.bench_function("hmac_sha1_get_header_fixed_nonce", |b| {
        b.iter(|| {
            RequestSigner::new("GET", black_box(URL))
                .token(token, token_secret)
                .timestamp(1_318_622_958)
                .nonce("kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg")
                .sign(black_box(&consumer), SignatureMethod::HmacSha1)
        });
    });
    // A URL parsed once, as clients keep their endpoints.
    let parsed = Url::parse(URL).expect("bench URL parses");
    group.bench_function("hmac_sha1_get_header_parsed_url", |b| {
        b.iter(|| {
            RequestSigner::for_url("GET", black_box(&parsed))
                .token(token, token_secret)
                .sign(black_box(&consumer), SignatureMethod::HmacSha1)
        });
    });
    group.finish();
}

criterion_group!(benches, sign);
criterion_main!(benches);
