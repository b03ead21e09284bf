//! Token endpoint responses as a provider may send them: any status, JSON, form or text,
//! every tolerated quirk (errors with HTTP 200, `expires_in` as a string, `scope` as an
//! array).
#![no_main]

use bytes::Bytes;
use ferroauth::http::HttpResponse;
use http::{HeaderMap, HeaderValue, header};
use libfuzzer_sys::fuzz_target;

const STATUSES: [u16; 8] = [200, 201, 204, 302, 400, 401, 500, 503];

fuzz_target!(|data: &[u8]| {
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    let mut headers = HeaderMap::new();
    let content_type = match (flags >> 3) & 3 {
        0 => "application/json",
        1 => "application/x-www-form-urlencoded",
        2 => "text/plain; charset=utf-8",
        _ => "application/json; charset=utf-8",
    };
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let response = HttpResponse {
        status: STATUSES[usize::from(flags & 7)],
        headers,
        body: Bytes::copy_from_slice(body),
    };
    if let Ok(token) =
        ferroauth::proto::oauth2::token_response::parse("fuzz", &response, 1_800_000_000)
    {
        // A parsed token serializes and reads back (it is kept in sessions that way).
        let text = serde_json::to_string(&token).expect("a token serializes");
        let _: ferroauth::OAuth2Token = serde_json::from_str(&text).expect("and reads back");
    }
});
