//! Every preset's hooks on whatever a provider may answer: the token response fix-up
//! (error shapes made RFC 6749 errors) through the token response parser, the profile
//! map with its computed part (over userinfo and, for providers without a profile
//! endpoint, the token response), and the verified e-mail picker. The first byte picks
//! the preset and the status; the rest is the body, as JSON when it parses.
#![no_main]

use bytes::Bytes;
use ferroauth::http::HttpResponse;
use ferroauth::presets::{self, Preset, Verified};
use http::{HeaderMap, HeaderValue, header};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const STATUSES: [u16; 4] = [200, 400, 401, 500];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let all = presets::all();
    let preset = all[usize::from(pick) % all.len()];
    let status = STATUSES[usize::from(pick >> 6)];
    token_response(preset, status, body);
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    if let Some(lookup) = &preset.deviations.email_lookup {
        // Whatever the list holds, at most one address, and never an empty one.
        if let Some(email) = (lookup.pick)(&value) {
            assert!(
                !email.is_empty(),
                "{}: an empty address picked",
                preset.name
            );
        }
    }
    if let Value::Object(mut claims) = value {
        preset.profile.apply(&mut claims);
        check_claims(preset, &claims);
    }
});

/// The fix-up runs inside the parser, as the client runs it: any body gives a token or a
/// typed error with a stable code.
fn token_response(preset: &Preset, status: u16, body: &[u8]) {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let response = HttpResponse {
        status,
        headers,
        body: Bytes::copy_from_slice(body),
    };
    let fix = preset.deviations.token_response;
    let parsed = ferroauth::proto::oauth2::token_response::parse_with(
        preset.name,
        &response,
        1_800_000_000,
        |object| {
            if let Some(fix) = fix {
                fix(object);
            }
        },
    );
    match parsed {
        Ok(token) => {
            // The token response may carry the profile (Notion, WorkOS): map it too.
            let mut claims = token.extra.clone();
            preset.profile.apply(&mut claims);
            check_claims(preset, &claims);
        }
        Err(e) => {
            let code = e.code();
            assert!(
                !code.is_empty() && code.bytes().all(|b| b.is_ascii_graphic()),
                "{}: error code {code:?}",
                preset.name
            );
            let _ = e.to_string();
        }
    }
}

/// What a mapped profile must be, whatever went in: `sub`, when the map sets it, is the
/// text of a provider field; `email_verified` is a boolean whenever the preset decides it.
fn check_claims(preset: &Preset, claims: &ferroauth::Claims) {
    let map = &preset.profile;
    if !map.sub.is_empty()
        && let Some(sub) = claims.get("sub")
        && map.sub.iter().any(|p| pointer_text(claims, p).is_some())
    {
        assert!(sub.is_string(), "{}: sub {sub}", preset.name);
    }
    let decided = !matches!(map.email_verified, Verified::AsSent);
    if decided {
        assert!(
            claims.get("email_verified").is_some_and(Value::is_boolean),
            "{}: email_verified {:?}",
            preset.name,
            claims.get("email_verified")
        );
    }
}

/// The text or number at a JSON pointer into the claims, as the profile map reads it.
fn pointer_text<'c>(claims: &'c ferroauth::Claims, pointer: &str) -> Option<&'c Value> {
    let path = pointer.strip_prefix('/').unwrap_or(pointer);
    let (first, rest) = path.find('/').map_or((path, ""), |i| path.split_at(i));
    claims
        .get(first)?
        .pointer(rest)
        .filter(|v| matches!(v, Value::String(s) if !s.is_empty()) || v.is_number())
}
