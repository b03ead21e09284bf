//! Parsing token endpoint responses: a typical OpenID Connect JSON answer (with an ID
//! token) and GitHub's form-encoded one.
//!
//! Run with `cargo bench -p ferroauth --bench token_response`.

// criterion_group! defines an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ferroauth::http::HttpResponse;
use ferroauth::proto::oauth2::token_response;
use http::header::{CONTENT_TYPE, HeaderMap, HeaderValue};

const NOW: u64 = 1_700_000_000;

fn response(content_type: &'static str, body: String) -> HttpResponse {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    HttpResponse {
        status: 200,
        headers,
        body: body.into(),
    }
}

fn bench(c: &mut Criterion) {
    // An RS256 ID token's size: ~900 bytes of base64url in three parts.
    let id_token = format!(
        "{}.{}.{}",
        "e".repeat(100),
        "p".repeat(460),
        "s".repeat(342)
    );
    let oidc = response(
        "application/json; charset=utf-8",
        serde_json::json!({
            "access_token": "ya29.a0AfB_byC-example-access-token-value-0123456789abcdefghijklmnopqrstuvwxyz",
            "token_type": "Bearer",
            "expires_in": 3599,
            "refresh_token": "1//0g-example-refresh-token-value-0123456789abcdefghijklmnopqrstuvwxyz",
            "scope": "openid https://www.example.com/auth/userinfo.email https://www.example.com/auth/userinfo.profile",
            "id_token": id_token,
        })
        .to_string(),
    );
    let github = response(
        "application/x-www-form-urlencoded; charset=utf-8",
        "access_token=gho_16C7e42F292c6912E7710c838347Ae178B4a&scope=repo%2Cgist&token_type=bearer"
            .to_owned(),
    );
    token_response::parse("example", &oidc, NOW).expect("valid OIDC response");
    token_response::parse("github", &github, NOW).expect("valid GitHub response");

    let mut group = c.benchmark_group("token_response");
    group.throughput(Throughput::Elements(1));
    group.bench_function("oidc_json_with_id_token", |b| {
        b.iter(|| token_response::parse("example", black_box(&oidc), NOW))
    });
    group.bench_function("github_form", |b| {
        b.iter(|| token_response::parse("github", black_box(&github), NOW))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
