//! The device authorization grant (RFC 8628): for devices that cannot show a login page
//! (command-line tools, TVs).
//!
//! 1. The device asks `POST /device/authorize` (client authentication as at `/token`,
//!    or a public client's `client_id`) and gets a secret `device_code`, a `user_code`
//!    to show, and the `verification_uri` (`<issuer>/device`).
//! 2. The user opens `GET /device` in any browser, enters the code and picks who signs
//!    in (the same choice as on the login page); `POST /device` approves or denies.
//! 3. Meanwhile the device polls `/token` with the device code grant type and gets
//!    `authorization_pending`, `slow_down` when it polls faster than `interval` (which
//!    then grows by 5 s, §3.5), `access_denied`, `expired_token`, or the tokens (with an
//!    ID token when `openid` was asked for). A device code gives tokens once.
//!
//! User codes are 8 letters from a 20-consonant alphabet (§6.1: no vowels, so no words;
//! no digits, so no 0/O or 1/I confusion), shown as `XXXX-XXXX`; input is accepted in
//! any case, with or without the dash or spaces. 20^8 codes (34 bits) against a code
//! lifetime of minutes is what §5.1 asks for; brute-force throttling of the verification
//! page is left out of a development provider.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::config::Client;
use crate::html::{self, DevicePage};
use crate::oidc::{
    Issue, append_query, authenticate_client, chosen_user, invalid_grant, invalid_request, is_form,
    issue_tokens, no_store, normalize_scope, oauth_error, read_form,
};
use crate::state::{DeviceGrant, DeviceStatus, Shared};
use crate::util::{Params, now, random_token};

type St = State<Arc<Shared>>;

/// The token request's grant type (RFC 8628 §3.4).
pub(crate) const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// RFC 8628 §6.1's base-20 alphabet: consonants only.
const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
const USER_CODE_LEN: usize = 8;
/// What `slow_down` adds to the interval (RFC 8628 §3.5).
const SLOW_DOWN_SECS: u64 = 5;

// ---------------------------------------------------------------- device authorization

/// `POST /device/authorize` (RFC 8628 §3.1, §3.2).
pub(crate) async fn authorize(State(s): St, headers: HeaderMap, body: Bytes) -> Response {
    match authorize_inner(&s, &headers, &body) {
        Ok(r) | Err(r) => r,
    }
}

fn authorize_inner(s: &Shared, headers: &HeaderMap, body: &Bytes) -> Result<Response, Response> {
    let p = read_form(headers, body)?;
    let client = authenticate_client(s, headers, &p)?;
    if p.duplicate_of(&["scope"]).is_some() {
        return Err(invalid_request("parameter scope is repeated"));
    }
    let st = &s.settings;
    let device_code = random_token(32);
    let user_code = {
        let mut store = s.store();
        let user_code = unused_user_code(&store.user_codes)?;
        store
            .user_codes
            .insert(user_code.clone(), device_code.clone());
        store.devices.insert(
            device_code.clone(),
            DeviceGrant {
                client_id: client.client_id.clone(),
                scope: normalize_scope(p.get("scope").unwrap_or("")),
                expires_at: now() + st.device_ttl,
                interval: st.device_interval,
                last_poll: None,
                status: DeviceStatus::Pending,
            },
        );
        user_code
    };
    let shown = display(&user_code);
    let verification_uri = st.url("/device");
    let complete = append_query(&verification_uri, &[("user_code", &shown)]);
    let mut resp = Json(json!({
        "device_code": device_code,
        "user_code": shown,
        "verification_uri": verification_uri,
        "verification_uri_complete": complete,
        "expires_in": st.device_ttl,
        "interval": st.device_interval,
    }))
    .into_response();
    no_store(&mut resp);
    Ok(resp)
}

/// A fresh user code no pending request has.
fn unused_user_code(taken: &std::collections::HashMap<String, String>) -> Result<String, Response> {
    loop {
        let code = random_user_code().map_err(|e| {
            oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                &format!("random generator failed: {e}"),
            )
        })?;
        if !taken.contains_key(&code) {
            return Ok(code);
        }
    }
}

/// 8 letters of [`USER_CODE_ALPHABET`], uniformly drawn.
fn random_user_code() -> Result<String, getrandom::Error> {
    let mut code = String::with_capacity(USER_CODE_LEN);
    let mut buf = [0u8; 16];
    while code.len() < USER_CODE_LEN {
        getrandom::fill(&mut buf)?;
        // 240 = 12 × 20: taking bytes above it would favour the first letters.
        for b in buf.iter().filter(|b| **b < 240) {
            if code.len() < USER_CODE_LEN {
                code.push(char::from(USER_CODE_ALPHABET[usize::from(*b % 20)]));
            }
        }
    }
    Ok(code)
}

/// `BCDFGHJK` → `BCDF-GHJK`.
fn display(code: &str) -> String {
    let (a, b) = code.split_at(code.len() / 2);
    format!("{a}-{b}")
}

/// What the user typed, in the stored form: upper case, without dashes and spaces.
fn normalize_user_code(input: &str) -> String {
    input
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

// ---------------------------------------------------------------- verification page

/// `GET /device`: the verification page, prefilled from `?user_code=`.
pub(crate) async fn page(State(s): St, RawQuery(query): RawQuery) -> Response {
    let p = Params::parse(query.unwrap_or_default().as_bytes());
    html::device_page(
        StatusCode::OK,
        &DevicePage {
            action: &s.settings.url("/device"),
            user_code: p.get("user_code").unwrap_or(""),
            users: &s.settings.users,
            error: None,
        },
    )
}

/// `POST /device`: the user's answer (`user_code`, `user` or `username`, `action`).
pub(crate) async fn submit(State(s): St, headers: HeaderMap, body: Bytes) -> Response {
    if !is_form(&headers) {
        return html::error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "expected a form submission",
        );
    }
    let p = Params::parse(&body);
    let typed = p.get("user_code").unwrap_or("");
    let again = |status: StatusCode, error: &str| {
        html::device_page(
            status,
            &DevicePage {
                action: &s.settings.url("/device"),
                user_code: typed,
                users: &s.settings.users,
                error: Some(error),
            },
        )
    };
    let user = if p.get("action") == Some("deny") {
        None
    } else {
        match chosen_user(&s.settings, &p) {
            Ok(user) => Some(user),
            Err(error) => return again(StatusCode::OK, error),
        }
    };
    let sub = user.map(|u| u.sub.as_str());
    match answer(&s, &normalize_user_code(typed), sub) {
        Some(client_id) => html::device_done_page(&client_id, user.map(|u| u.display_username())),
        None => again(
            StatusCode::BAD_REQUEST,
            "This code is unknown, has expired or was already used. Check it on your device.",
        ),
    }
}

/// Records the user's answer for a pending user code: approved as `sub`, or denied.
/// The client's id, or `None` when the code is not awaiting an answer.
fn answer(s: &Shared, user_code: &str, sub: Option<&str>) -> Option<String> {
    let t = now();
    let mut store = s.store();
    let device_code = store.user_codes.get(user_code)?.clone();
    let grant = store
        .devices
        .get_mut(&device_code)
        .filter(|g| g.expires_at > t && g.status == DeviceStatus::Pending)?;
    grant.status = match sub {
        Some(sub) => DeviceStatus::Approved {
            sub: sub.to_owned(),
            auth_time: t,
        },
        None => DeviceStatus::Denied,
    };
    let client_id = grant.client_id.clone();
    // One answer per code.
    store.user_codes.remove(user_code);
    Some(client_id)
}

// ---------------------------------------------------------------- token endpoint

/// The device code grant at `/token` (RFC 8628 §3.4, §3.5).
pub(crate) fn grant(
    s: &Shared,
    client: &Client,
    p: &Params,
    jkt: Option<&str>,
) -> Result<Response, Response> {
    let code = p
        .get("device_code")
        .ok_or_else(|| invalid_request("device_code is missing"))?;
    let (sub, scope, auth_time) = poll(s, client, code)?;
    let Some(user) = s.settings.user(&sub) else {
        return Err(invalid_grant("the user no longer exists"));
    };
    let grant_id = random_token(16);
    let issue = Issue {
        client,
        user,
        scope: &scope,
        auth_time,
        nonce: None,
        grant_id: &grant_id,
        jkt,
    };
    issue_tokens(s, &issue, now())
}

/// One poll: the approved request's (sub, scope, auth_time), now spent, or the error.
fn poll(s: &Shared, client: &Client, code: &str) -> Result<(String, String, u64), Response> {
    let t = now();
    let mut store = s.store();
    let Some(grant) = store.devices.get_mut(code) else {
        return Err(invalid_grant("unknown device_code"));
    };
    if grant.client_id != client.client_id {
        return Err(invalid_grant(
            "the device code was issued to another client",
        ));
    }
    if t >= grant.expires_at {
        return Err(poll_error("expired_token", "the device code has expired"));
    }
    let polled = Instant::now();
    let early = grant
        .last_poll
        .is_some_and(|last| polled.duration_since(last) < Duration::from_secs(grant.interval));
    grant.last_poll = Some(polled);
    match &grant.status {
        // slow_down is "a variant of authorization_pending" (§3.5): only while pending.
        DeviceStatus::Pending if early => {
            grant.interval += SLOW_DOWN_SECS;
            Err(poll_error(
                "slow_down",
                &format!("poll at most every {} seconds", grant.interval),
            ))
        }
        DeviceStatus::Pending => Err(poll_error(
            "authorization_pending",
            "the user has not answered yet",
        )),
        DeviceStatus::Denied => Err(poll_error("access_denied", "the user denied the request")),
        DeviceStatus::Redeemed => Err(invalid_grant("the device code was already used")),
        DeviceStatus::Approved { sub, auth_time } => {
            let approved = (sub.clone(), grant.scope.clone(), *auth_time);
            grant.status = DeviceStatus::Redeemed;
            Ok(approved)
        }
    }
}

fn poll_error(error: &str, description: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, error, description)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_use_the_unambiguous_alphabet() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let code = random_user_code().unwrap();
            assert_eq!(code.len(), USER_CODE_LEN);
            assert!(
                code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)),
                "{code}"
            );
            seen.insert(code);
        }
        assert!(seen.len() > 190, "codes repeat too often");
    }

    #[test]
    fn user_codes_are_shown_with_a_dash_and_read_back_loosely() {
        assert_eq!(display("BCDFGHJK"), "BCDF-GHJK");
        for typed in ["BCDF-GHJK", "bcdf-ghjk", " bcdf ghjk ", "BCDFGHJK"] {
            assert_eq!(normalize_user_code(typed), "BCDFGHJK", "{typed:?}");
        }
        assert_ne!(normalize_user_code("BCDF_GHJK"), "BCDFGHJK");
    }
}
