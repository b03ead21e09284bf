//! Callback parameters from a browser: the query string of a GET and the form body of a
//! `form_post` POST (with and without the session, JSON or not).
#![no_main]

use ferroauth::CallbackParams;
use ferroauth::web::callback_from_form;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    if let Ok(query) = std::str::from_utf8(body) {
        if let Ok(params) = CallbackParams::parse(query) {
            for (name, value) in params.iter() {
                assert_eq!(params.get(name), Some(value), "a parameter reads back");
            }
        }
    }
    let content_type = match flags & 3 {
        0 => None,
        1 => Some("application/json"),
        _ => Some("application/x-www-form-urlencoded; charset=utf-8"),
    };
    let _ = callback_from_form(
        content_type,
        body,
        flags & 4 != 0,
        flags & 8 != 0,
        "/auth/x?a=1",
    );
});
