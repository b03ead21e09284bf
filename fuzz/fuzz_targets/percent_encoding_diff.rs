//! Differential: ferroauth's RFC 5849 percent-encoding (a fast path over a membership table)
//! against the `percent-encoding` crate with the unreserved set written out here from RFC
//! 5849 §3.6 (ALPHA, DIGIT, `-`, `.`, `_`, `~` stay; every other byte is `%XX`, upper-case).
#![no_main]

use libfuzzer_sys::fuzz_target;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

const UNRESERVED_KEPT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let ours = ferroauth::proto::oauth1::percent_encode(text);
    let reference = utf8_percent_encode(text, UNRESERVED_KEPT).to_string();
    assert_eq!(ours, reference, "RFC 5849 encodings differ for {text:?}");
    let mut appended = String::from("x");
    ferroauth::proto::oauth1::percent_encode_into(&mut appended, text);
    assert_eq!(&appended[1..], reference);
    // And decoding gives the text back.
    assert_eq!(ferroauth::proto::oauth1::form_decode(&reference), text);
});
