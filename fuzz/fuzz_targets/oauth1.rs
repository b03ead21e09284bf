//! OAuth 1.0a: the temporary and token credentials responses (RFC 5849 §2.1, §2.3) and the
//! signature base string of any request parameters.
#![no_main]

use ferroauth::proto::oauth1::{Credentials, parse_form, signature_base_string};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    let status = if flags & 1 == 0 { 200 } else { 401 };
    let content_type = (flags & 2 != 0).then_some("application/x-www-form-urlencoded");
    let _ = Credentials::from_response(status, content_type, body);
    let _ = Credentials::temporary_from_response(status, content_type, body)
        .and_then(|c| c.ensure_callback_confirmed());
    let Ok(text) = std::str::from_utf8(body) else {
        return;
    };
    let _ = Credentials::parse(text);
    let url = url::Url::parse("https://api.example/1.1/statuses?count=2&q=a+b").unwrap();
    let params: Vec<(String, String)> = parse_form(text)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let _ = signature_base_string(
        "POST",
        &url,
        params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    );
});
