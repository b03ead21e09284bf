//! The device authorization grant (RFC 8628), for command-line tools and TVs: the device
//! gets a `user_code` and a `verification_uri` to show, the user approves in any browser,
//! and the device polls the token endpoint until the approval arrives.
//!
//! Polling follows §3.5: wait `interval` seconds (5 by default) between requests, add 5
//! seconds on every `slow_down`, double the interval when the token endpoint does not
//! answer in time (the exponential back-off §3.5 asks for on timeouts), keep going on
//! `authorization_pending`, stop on `access_denied`, `expired_token` or when the code's
//! lifetime is over. Whatever interval the provider asks for is honoured, however long
//! (at least a second). The token that comes back is checked like any login's (ID token
//! included, without a nonce: the device request has none).

use std::time::Duration;

use serde_json::Value;

use crate::Secret;
use crate::client::OAuthClient;
use crate::client::oidc::IdTokenCheck;
use crate::client::token_endpoint::BackChannel;
use crate::error::{Error, HttpFailure, ProviderError};
use crate::proto::oauth2::token_response;
use crate::random;
use crate::token::Login;
use crate::token::Token;

/// RFC 8628 §3.5: the interval when the provider names none, and what `slow_down` adds.
const DEFAULT_INTERVAL_SECS: u64 = 5;
const SLOW_DOWN_SECS: u64 = 5;
/// The grant type of the token request (§3.4).
const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// The longest `user_code` shown; §6.1 recommends about eight characters a person types.
pub const MAX_USER_CODE_LEN: usize = 64;

/// A started device login (RFC 8628 §3.2): what to show the user, and what to poll with.
#[derive(Clone)]
pub struct DeviceAuthorization {
    /// The device code, secret: only the token endpoint may see it.
    pub device_code: Secret,
    /// The code the user types at the verification URI.
    pub user_code: String,
    /// Where the user goes to approve.
    pub verification_uri: String,
    /// The verification URI with the user code in it, for a link or a QR code.
    pub verification_uri_complete: Option<String>,
    /// When the codes stop working, Unix seconds.
    pub expires_at: u64,
    /// Seconds to wait between polls (after `slow_down`s, the current value).
    pub interval: u64,
    /// Whether the scope asked for `openid`: the token must then carry an ID token.
    openid: bool,
}

impl std::fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceAuthorization")
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("expires_at", &self.expires_at)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

/// One poll's outcome.
#[derive(Debug)]
pub enum DevicePoll {
    /// The user has not answered yet: poll again after `interval` seconds.
    Pending,
    /// The provider asked to poll less often; the interval has grown by 5 seconds.
    SlowDown,
    /// The token endpoint did not answer within the client's timeout; the interval has
    /// doubled (RFC 8628 §3.5's exponential back-off).
    TimedOut,
    /// The user approved: the login.
    Done(Box<Login>),
}

impl OAuthClient {
    /// Starts a device login (RFC 8628 §3.1) with the configured scope; `params` are
    /// added to the request (`scope` among them overrides the configured one).
    pub async fn device_authorization(
        &self,
        params: &[(&str, &str)],
    ) -> Result<DeviceAuthorization, Error> {
        let resolved = self.resolved().await?;
        let endpoint = resolved.device_authorization.as_ref().ok_or_else(|| {
            self.misconfigured(
                "no device authorization endpoint: set device_authorization_endpoint or \
                 server_metadata_url",
            )
        })?;
        let mut form: Vec<(String, String)> = Vec::new();
        let scope = params
            .iter()
            .find(|(k, _)| *k == "scope")
            .map(|(_, v)| (*v).to_owned())
            .or_else(|| self.settings().client_kwargs.scope.clone());
        if let Some(scope) = &scope {
            form.push(("scope".into(), scope.clone()));
        }
        for (k, v) in params.iter().filter(|(k, _)| *k != "scope") {
            form.push(((*k).to_owned(), (*v).to_owned()));
        }
        let response = self
            .post_authenticated(
                "device authorization request",
                &resolved,
                endpoint,
                form,
                BackChannel::DeviceAuthorization,
            )
            .await?;
        let openid = scope
            .as_deref()
            .is_some_and(|s| s.split_ascii_whitespace().any(|p| p == "openid"));
        let device =
            parse_device_authorization(response.status, &response.body, random::now(), openid)?;
        let allow_insecure = self.settings().client_kwargs.allow_insecure_http;
        check_shown(&device, self.name(), allow_insecure)?;
        Ok(device)
    }

    /// Polls the token endpoint once (RFC 8628 §3.4). `SlowDown` has already added 5
    /// seconds to `device.interval`, `TimedOut` doubled it.
    pub async fn poll_device_token(
        &self,
        device: &mut DeviceAuthorization,
    ) -> Result<DevicePoll, Error> {
        if random::now() >= device.expires_at {
            return Err(Error::Token(ProviderError::new("expired_token")));
        }
        let resolved = self.resolved().await?;
        let form = vec![
            ("grant_type".to_owned(), DEVICE_CODE_GRANT.to_owned()),
            (
                "device_code".to_owned(),
                device.device_code.expose().to_owned(),
            ),
        ];
        let token = match self.token_request(&resolved, form).await {
            Ok(token) => token,
            Err(Error::Token(e)) if e.error == "authorization_pending" => {
                return Ok(DevicePoll::Pending);
            }
            Err(Error::Token(e)) if e.error == "slow_down" => {
                device.interval = device.interval.saturating_add(SLOW_DOWN_SECS);
                return Ok(DevicePoll::SlowDown);
            }
            Err(Error::Http {
                failure: HttpFailure::Timeout,
                ..
            }) => {
                device.interval = device.interval.saturating_mul(2);
                return Ok(DevicePoll::TimedOut);
            }
            Err(e) => return Err(e),
        };
        let check = IdTokenCheck {
            nonce: None,
            access_token: None,
            code: None,
            state: None,
            max_age: None,
            essential_acr: &[],
        };
        let (token, userinfo) = self
            .token_and_claims(&resolved, token, check, device.openid)
            .await?;
        Ok(DevicePoll::Done(Box::new(Login {
            client: self.name().to_owned(),
            token: Token::OAuth2(token),
            userinfo,
            return_to: None,
        })))
    }

    /// Polls until the user answers or the codes expire, waiting `interval` seconds
    /// between polls, 5 more after each `slow_down` and twice as long after each timeout.
    /// `access_denied` and `expired_token` end it with their own codes.
    pub async fn wait_for_device_token(
        &self,
        device: &mut DeviceAuthorization,
    ) -> Result<Login, Error> {
        loop {
            tokio::time::sleep(Duration::from_secs(device.interval)).await;
            if let DevicePoll::Done(login) = self.poll_device_token(device).await? {
                return Ok(*login);
            }
        }
    }
}

/// The device authorization response (§3.2), or the provider's error.
fn parse_device_authorization(
    status: u16,
    body: &[u8],
    now: u64,
    openid: bool,
) -> Result<DeviceAuthorization, Error> {
    let object: Option<serde_json::Map<String, Value>> = serde_json::from_slice(body).ok();
    if let Some(error) = object.as_ref().and_then(token_response::provider_error) {
        return Err(Error::Token(error));
    }
    let invalid = |why: &str| Error::InvalidTokenResponse(format!("device authorization: {why}"));
    let Some(object) = object.filter(|_| (200..300).contains(&status)) else {
        return Err(invalid(&format!("HTTP {status} without a JSON answer")));
    };
    let text = |key: &str| {
        object
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty() && s.len() <= 2048)
            .map(str::to_owned)
    };
    let number = |key: &str| match object.get(key) {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let device_code = text("device_code").ok_or_else(|| invalid("no device_code"))?;
    let user_code = text("user_code").ok_or_else(|| invalid("no user_code"))?;
    // Google spells it verification_url.
    let verification_uri = text("verification_uri")
        .or_else(|| text("verification_url"))
        .ok_or_else(|| invalid("no verification_uri"))?;
    let expires_in = number("expires_in").ok_or_else(|| invalid("no expires_in"))?;
    // Honoured as asked (at least a second apart): a client that polls faster than the
    // provider asked is told `slow_down`, or locked out.
    let interval = number("interval").unwrap_or(DEFAULT_INTERVAL_SECS).max(1);
    Ok(DeviceAuthorization {
        device_code: Secret::new(device_code),
        user_code,
        verification_uri,
        verification_uri_complete: text("verification_uri_complete"),
        expires_at: now.saturating_add(expires_in),
        interval,
        openid,
    })
}

/// What a device shows its user must be safe to show, since it comes from the provider:
/// a terminal obeys escape sequences (a hostile code could clear the screen, forge lines
/// or hide another address behind a hyperlink), and the user opens the address in a
/// browser. So `user_code` is short printable ASCII, and each verification URI is
/// printable ASCII and a provider endpoint as good as any other: https, or plain http
/// on a loopback host (or where the client allows plain http).
fn check_shown(
    device: &DeviceAuthorization,
    client: &str,
    allow_insecure: bool,
) -> Result<(), Error> {
    let code = &device.user_code;
    if code.len() > MAX_USER_CODE_LEN || !code.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        return Err(Error::InvalidDeviceAuthorization(format!(
            "user_code must be at most {MAX_USER_CODE_LEN} printable ASCII characters"
        )));
    }
    let uris = [
        ("verification_uri", Some(&device.verification_uri)),
        (
            "verification_uri_complete",
            device.verification_uri_complete.as_ref(),
        ),
    ];
    for (name, uri) in uris {
        let Some(uri) = uri else { continue };
        let printable = uri.bytes().all(|b| b.is_ascii_graphic());
        // The URI is not quoted in the error: it is what could not be shown.
        if !printable || crate::http::endpoint(client, uri, allow_insecure).is_err() {
            return Err(Error::InvalidDeviceAuthorization(format!(
                "{name} must be an https URL of printable ASCII (plain http only on a \
                 loopback host)"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_authorization_is_read_with_defaults() {
        let body = br#"{"device_code":"dc-1","user_code":"WDJB-MJHT","verification_uri":"https://op.example/device","expires_in":1800}"#;
        let d = parse_device_authorization(200, body, 1000, true).unwrap();
        assert_eq!(d.user_code, "WDJB-MJHT");
        assert_eq!(d.expires_at, 2800);
        assert_eq!(d.interval, 5, "RFC 8628 §3.2: 5 s when absent");
        assert!(
            !format!("{d:?}").contains("dc-1"),
            "the device code is secret"
        );
        let google = br#"{"device_code":"d","user_code":"u","verification_url":"https://www.google.com/device","expires_in":"1800","interval":"7"}"#;
        let d = parse_device_authorization(200, google, 0, false).unwrap();
        assert_eq!(
            (d.verification_uri.as_str(), d.interval),
            ("https://www.google.com/device", 7)
        );
    }

    #[test]
    fn any_interval_the_provider_asks_for_is_honoured() {
        let answer = |interval: u64, expires_in: u64| {
            let body = serde_json::json!({
                "device_code": "d", "user_code": "u", "verification_uri": "https://op.example/d",
                "expires_in": expires_in, "interval": interval
            });
            parse_device_authorization(200, body.to_string().as_bytes(), 0, false)
        };
        // Once clamped to 300 s, which polled a server asking for 900 s three times too
        // often.
        assert_eq!(answer(900, 3600).unwrap().interval, 900);
        assert_eq!(
            answer(0, 600).unwrap().interval,
            1,
            "at least a second apart"
        );
    }

    #[test]
    fn only_what_is_safe_to_show_is_shown() {
        let body = |code: &str, uri: &str| {
            serde_json::json!({
                "device_code": "d", "user_code": code, "verification_uri": uri,
                "expires_in": 600
            })
            .to_string()
        };
        let shown = |code: &str, uri: &str| {
            let d = parse_device_authorization(200, body(code, uri).as_bytes(), 0, false)?;
            check_shown(&d, "tv", false)
        };
        assert!(shown("WDJB-MJHT", "https://op.example/device").is_ok());
        assert!(shown("WDJB MJHT", "http://localhost:8080/device").is_ok());
        for (code, uri) in [
            ("WDJB\u{1b}[2J", "https://op.example/device"),
            ("WDJB\u{9b}2J", "https://op.example/device"),
            ("WDJB\u{202e}", "https://op.example/device"),
            (
                &"A".repeat(MAX_USER_CODE_LEN + 1),
                "https://op.example/device",
            ),
            ("WDJB", "https://op.example/\u{1b}]8;;x\u{7}"),
            ("WDJB", "javascript:alert(1)"),
            ("WDJB", "http://evil.example/device"),
        ] {
            let e = shown(code, uri).unwrap_err();
            assert_eq!(e.code(), "invalid_device_authorization", "{code:?} {uri:?}");
        }
        let d = parse_device_authorization(
            200,
            body("W", "http://tv.example/device").as_bytes(),
            0,
            false,
        )
        .unwrap();
        assert!(
            check_shown(&d, "tv", true).is_ok(),
            "allow_insecure_http allows plain http"
        );
    }

    #[test]
    fn errors_and_broken_answers_are_typed() {
        let e = parse_device_authorization(400, br#"{"error":"invalid_client"}"#, 0, false)
            .unwrap_err();
        assert_eq!(e.code(), "invalid_client");
        for (status, body) in [
            (200, &b"{}"[..]),
            (200, b"<html>"),
            (500, b"oops"),
            (
                200,
                br#"{"device_code":"d","user_code":"u","verification_uri":"x"}"#,
            ),
        ] {
            let e = parse_device_authorization(status, body, 0, false).unwrap_err();
            assert_eq!(e.code(), "invalid_token_response", "{e}");
        }
    }
}
