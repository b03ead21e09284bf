//! Cost of starting a login: the authorization URL with state, nonce and PKCE S256, plus
//! the pending-login record written to the in-memory store (what `/login/{name}` costs the
//! app besides the web framework and the session layer).
//!
//! Run with `cargo bench -p ferroauth --bench authorize_url`.

// criterion_group! defines an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ferroauth::OAuth;
use ferroauth::session::pending::MemoryPendingStore;
use ferroauth::settings::Settings;

const SETTINGS: &str = r#"
[clients.example]
client_id = "1234567890-abcdefg.apps.example.com"
client_secret = "GOCSPX-example-client-secret"
authorize_url = "https://accounts.example.com/o/oauth2/v2/auth"
access_token_url = "https://oauth2.example.com/token"
userinfo_endpoint = "https://openidconnect.example.com/v1/userinfo"
jwks_uri = "https://www.example.com/oauth2/v3/certs"
issuer = "https://accounts.example.com"
client_kwargs = { scope = "openid email profile" }
"#;

const REDIRECT_URI: &str = "https://app.example.com/auth/example";

fn bench(c: &mut Criterion) {
    let oauth = OAuth::from_settings(&Settings::from_toml_str(SETTINGS).expect("settings"))
        .expect("registry");
    let client = oauth.client("example").expect("client");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    // Endpoints are resolved once per client; the benchmark measures warm logins.
    let url = runtime
        .block_on(client.authorize_redirect(&MemoryPendingStore::new(), REDIRECT_URI))
        .expect("authorization URL");
    for key in ["state", "nonce", "code_challenge"] {
        assert!(
            url.query_pairs().any(|(k, _)| k == key),
            "no {key} in {url}"
        );
    }

    let mut group = c.benchmark_group("authorize_url");
    group.throughput(Throughput::Elements(1));
    group.bench_function("oidc_state_nonce_pkce_memory_store", |b| {
        b.iter(|| {
            // A fresh store per login, as a new browser session has.
            let store = MemoryPendingStore::new();
            let url = runtime
                .block_on(client.authorize_redirect(&store, black_box(REDIRECT_URI)))
                .expect("authorization URL");
            black_box((url, store))
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
