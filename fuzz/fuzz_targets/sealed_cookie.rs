//! Sealed cookies are what any browser (or anyone) may send back: tampered, truncated,
//! under unknown keys or not base64 at all. Opening must refuse them, never panic; what
//! opens is only what was sealed.
#![no_main]

use std::sync::Arc;

use ferroauth::session::sealed::{CookieKeys, CookieSealer, SealedCookies};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let keys = CookieKeys::new("k1", &[7u8; 32]).expect("a fixed key");
    let sealer = Arc::new(CookieSealer::new(keys));
    assert!(
        sealer
            .open::<serde_json::Value>("fa_pending", text)
            .is_err(),
        "only a sealed value opens, and the fuzzer cannot seal"
    );
    let jar = SealedCookies::from_cookie_headers(sealer.clone(), [text]);
    let _ = jar.get_json("ferroauth.pending");
    let _ = jar.set_cookie_headers();
    // A value that was sealed opens to itself; one too large for a cookie is refused with
    // its own error.
    match sealer.seal("fa_app_x", &text) {
        Ok(sealed) => {
            let opened: String = sealer.open("fa_app_x", &sealed).expect("opens");
            assert_eq!(opened, text);
        }
        Err(e) => assert_eq!(e.code(), "session_unavailable", "{e:?}"),
    }
});
