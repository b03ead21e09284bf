//! The environment reader: any set of `FERROAUTH__...` variables (keys of any shape, values
//! of any text, numbers, booleans, lists) must give settings or a typed error naming what is
//! wrong, never a panic, and a secret never shows in `Debug` or in the error.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// The secret every generated `client_secret` carries, to look for in the output.
const SECRET: &str = "fuzz-secret-value-0123456789";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // One variable per line, `KEY=VALUE`; a key without the prefix gets it, so that most
    // inputs reach the reader; `@` in the value of a secret key (`..._SECRET`, `..._KEY`)
    // stands for the secret. (Other values may be quoted back in an error: they are not
    // secrets.)
    let env: Vec<(String, String)> = text
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| {
            let key = if key.starts_with("FERROAUTH__") {
                key.to_owned()
            } else {
                format!("FERROAUTH__{key}")
            };
            let upper = key.to_ascii_uppercase();
            let value = match upper.ends_with("SECRET") || upper.ends_with("_KEY") {
                true => value.replace('@', SECRET),
                false => value.to_owned(),
            };
            (key, value)
        })
        .collect();
    match ferroauth::settings::Settings::load(None, env) {
        Ok(settings) => {
            for client in settings.clients.values() {
                let shown = format!("{client:?}");
                assert!(!shown.contains(SECRET), "a secret in Debug: {shown}");
            }
        }
        Err(e) => {
            let shown = format!("{e} {e:?}");
            assert!(!shown.contains(SECRET), "a secret in an error: {shown}");
        }
    }
});
