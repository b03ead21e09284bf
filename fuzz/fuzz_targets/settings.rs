//! Settings files: any TOML (or not) must give settings or a typed error naming the key.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(settings) = ferroauth::settings::Settings::from_toml_str(text) {
        for client in settings.clients.values() {
            // Debug must never show a secret; formatting must not panic.
            let _ = format!("{client:?}");
        }
    }
});
