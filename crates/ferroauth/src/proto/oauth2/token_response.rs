//! Token responses as real providers send them (RFC 6749 §5.1, §5.2).
//!
//! Providers differ: GitHub answers form-encoded unless asked for JSON and reports errors
//! with HTTP 200; `token_type` comes as `bearer` or `Bearer`; `expires_in` as a number, a
//! string or not at all; Twitch sends `scope` as an array. All of these are understood; a
//! body that is neither JSON nor a form, or has no `access_token`, is an error.

use serde_json::{Map, Value};

use crate::Secret;
use crate::error::{Error, HttpFailure, ProviderError};
use crate::http::HttpResponse;
use crate::token::OAuth2Token;

/// Longest `expires_in` honoured (ten years): larger values are treated as "no expiry
/// known" rather than overflowing.
const MAX_EXPIRES_IN: u64 = 10 * 365 * 24 * 3600;

/// Reads a provider's answer as a JSON object or a form, whichever it is.
pub fn body_object(response: &HttpResponse) -> Option<Map<String, Value>> {
    let looks_json = response.content_type().is_some_and(|t| t.ends_with("json"))
        || response.body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if looks_json {
        return match serde_json::from_slice(&response.body) {
            Ok(Value::Object(map)) => Some(map),
            _ => None,
        };
    }
    let text = std::str::from_utf8(&response.body).ok()?;
    if text.trim().is_empty() || !text.contains('=') {
        return None;
    }
    Some(
        url::form_urlencoded::parse(text.trim().as_bytes())
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect(),
    )
}

/// The RFC 6749 §5.2 error in a body, if it has one.
pub fn provider_error(object: &Map<String, Value>) -> Option<ProviderError> {
    let error = object.get("error")?;
    let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::to_owned);
    Some(ProviderError {
        error: match error {
            Value::String(s) => s.clone(),
            // Facebook-style `{"error": {"message": ..., "type": ...}}`.
            Value::Object(inner) => inner
                .get("type")
                .or_else(|| inner.get("code"))
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .unwrap_or_else(|| "error".into()),
            other => other.to_string(),
        },
        description: text("error_description").or_else(|| {
            error
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_owned)
        }),
        uri: text("error_uri"),
    })
}

/// Parses a token endpoint response.
pub fn parse(client: &str, response: &HttpResponse, now: u64) -> Result<OAuth2Token, Error> {
    parse_with(client, response, now, |_| {})
}

/// Parses a token endpoint response after `adjust` (a compliance hook) has seen the body
/// object; errors are recognised after the hook, so it can also repair them.
pub fn parse_with(
    client: &str,
    response: &HttpResponse,
    now: u64,
    adjust: impl FnOnce(&mut Map<String, Value>),
) -> Result<OAuth2Token, Error> {
    let Some(mut object) = body_object(response) else {
        if !response.is_success() {
            return Err(Error::Http {
                client: client.to_owned(),
                what: "token request",
                failure: HttpFailure::Status(response.status),
            });
        }
        return Err(Error::InvalidTokenResponse(format!(
            "client `{client}`: the body is neither a JSON object nor a form"
        )));
    };
    adjust(&mut object);
    if let Some(error) = provider_error(&object) {
        return Err(Error::Token(error));
    }
    if !response.is_success() {
        return Err(Error::Http {
            client: client.to_owned(),
            what: "token request",
            failure: HttpFailure::Status(response.status),
        });
    }
    // Name the client, so that an app with several providers can tell which one failed.
    from_object(&mut object, now).map_err(|e| match e {
        Error::InvalidTokenResponse(why) => {
            Error::InvalidTokenResponse(format!("client `{client}`: {why}"))
        }
        other => other,
    })
}

/// Builds a token from a response object, consuming the members it understands.
pub fn from_object(object: &mut Map<String, Value>, now: u64) -> Result<OAuth2Token, Error> {
    let access_token = match object.remove("access_token") {
        Some(Value::String(s)) if !s.is_empty() => Secret::new(s),
        Some(_) => return Err(invalid("`access_token` is not a non-empty string")),
        None => return Err(invalid("`access_token` is missing")),
    };
    let token_type = match object.remove("token_type") {
        Some(Value::String(s)) if s.eq_ignore_ascii_case("bearer") => "Bearer".to_owned(),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("dpop") => "DPoP".to_owned(),
        Some(Value::String(s)) if !s.is_empty() => s,
        // RFC 6749 makes it required, but some providers leave it out; Bearer is the only
        // type in common use.
        None => "Bearer".to_owned(),
        Some(_) => return Err(invalid("`token_type` is not a string")),
    };
    let expires_at = match object.remove("expires_in") {
        None | Some(Value::Null) => match object.get("expires_at") {
            Some(v) => Some(number(v).ok_or_else(|| invalid("`expires_at` is not a number"))?),
            None => None,
        },
        Some(v) => {
            let secs = number(&v).ok_or_else(|| invalid("`expires_in` is not a number"))?;
            (secs <= MAX_EXPIRES_IN).then(|| now.saturating_add(secs))
        }
    };
    object.remove("expires_at");
    let scope = match object.remove("scope") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|v| {
                    v.as_str()
                        .ok_or_else(|| invalid("`scope` array holds a non-string"))
                })
                .collect::<Result<Vec<_>, _>>()?
                .join(" "),
        ),
        Some(_) => return Err(invalid("`scope` is neither a string nor an array")),
    };
    let optional_secret = |v: Option<Value>, name: &str| match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(Secret::new(s))),
        Some(_) => Err(invalid(&format!("`{name}` is not a string"))),
    };
    let refresh_token = optional_secret(object.remove("refresh_token"), "refresh_token")?;
    let id_token = optional_secret(object.remove("id_token"), "id_token")?;
    Ok(OAuth2Token {
        access_token,
        token_type,
        refresh_token,
        expires_at,
        scope,
        id_token,
        extra: std::mem::take(object),
    })
}

/// RFC 6749 §7.1: a client must not use an access token whose type it does not
/// understand. ferroauth understands `Bearer` (RFC 6750), and `DPoP` (RFC 9449) when the
/// client uses DPoP (`dpop`): a DPoP-bound token is useless, and a sign of a confused or
/// hostile provider, for a client that sends no proofs. Anything else (`mac`, ...) would
/// otherwise be sent as a bearer token, which is what the provider did not issue.
/// `token_type` is as [`from_object`] left it (`Bearer` and `DPoP` in their canonical case).
pub fn check_token_type(client: &str, token_type: &str, dpop: bool) -> Result<(), Error> {
    match token_type {
        "Bearer" => Ok(()),
        "DPoP" if dpop => Ok(()),
        "DPoP" => Err(Error::InvalidTokenResponse(format!(
            "client `{client}`: `token_type` is DPoP, but this client does not use DPoP (client_kwargs.dpop)"
        ))),
        other => Err(Error::InvalidTokenResponse(format!(
            "client `{client}`: unsupported `token_type` {:?}; only Bearer and DPoP tokens can be used",
            other.chars().take(40).collect::<String>()
        ))),
    }
}

fn invalid(why: &str) -> Error {
    Error::InvalidTokenResponse(why.to_owned())
}

/// A non-negative whole number of seconds from a JSON number or a numeric string.
fn number(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0)
                .map(|f| f as u64)
        }),
        Value::String(s) => s.trim().parse::<u64>().ok().or_else(|| {
            s.trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite() && *f >= 0.0)
                .map(|f| f as u64)
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::{CONTENT_TYPE, HeaderMap, HeaderValue};

    fn response(status: u16, content_type: &str, body: &str) -> HttpResponse {
        let mut headers = HeaderMap::new();
        if !content_type.is_empty() {
            headers.insert(CONTENT_TYPE, HeaderValue::from_str(content_type).unwrap());
        }
        HttpResponse {
            status,
            headers,
            body: bytes::Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn json_with_everything() {
        let r = response(
            200,
            "application/json; charset=utf-8",
            r#"{"access_token":"at","token_type":"bearer","expires_in":3600,"refresh_token":"rt","scope":"openid email","id_token":"a.b.c","x_extra":1}"#,
        );
        let t = parse("c", &r, 1000).unwrap();
        assert_eq!(t.access_token.expose(), "at");
        assert_eq!(t.token_type, "Bearer");
        assert_eq!(t.expires_at, Some(4600));
        assert_eq!(t.scope.as_deref(), Some("openid email"));
        assert_eq!(t.refresh_token.unwrap().expose(), "rt");
        assert_eq!(t.id_token.unwrap().expose(), "a.b.c");
        assert_eq!(t.extra["x_extra"], 1);
    }

    #[test]
    fn github_form_body() {
        let r = response(
            200,
            "application/x-www-form-urlencoded",
            "access_token=gho_x&scope=read%3Auser%2Cuser%3Aemail&token_type=bearer",
        );
        let t = parse("c", &r, 0).unwrap();
        assert_eq!(t.access_token.expose(), "gho_x");
        assert_eq!(t.scope.as_deref(), Some("read:user,user:email"));
        assert_eq!(t.expires_at, None);
    }

    #[test]
    fn github_error_with_200() {
        let r = response(
            200,
            "application/x-www-form-urlencoded",
            "error=bad_verification_code&error_description=The+code+passed+is+incorrect+or+expired.",
        );
        let e = parse("c", &r, 0).unwrap_err();
        assert_eq!(e.code(), "token_error");
        let Error::Token(p) = e else { panic!() };
        assert_eq!(p.error, "bad_verification_code");
        assert_eq!(
            p.description.as_deref(),
            Some("The code passed is incorrect or expired.")
        );
        let r = response(
            200,
            "application/json",
            r#"{"error":"bad_verification_code"}"#,
        );
        assert_eq!(parse("c", &r, 0).unwrap_err().code(), "token_error");
    }

    #[test]
    fn expires_in_forms_and_scope_array() {
        for (body, want) in [
            (
                r#"{"access_token":"a","token_type":"Bearer","expires_in":"60"}"#,
                Some(160),
            ),
            (
                r#"{"access_token":"a","token_type":"BEARER","expires_in":60.0}"#,
                Some(160),
            ),
            (r#"{"access_token":"a","token_type":"Bearer"}"#, None),
            (
                r#"{"access_token":"a","token_type":"Bearer","expires_in":null}"#,
                None,
            ),
            (r#"{"access_token":"a","expires_at":5000}"#, Some(5000)),
        ] {
            let t = parse("c", &response(200, "application/json", body), 100).unwrap();
            assert_eq!(t.expires_at, want, "{body}");
            assert_eq!(t.token_type, "Bearer");
        }
        let t = parse("c", &response(200, "application/json", r#"{"access_token":"a","token_type":"bearer","scope":["user:read:email","openid"]}"#), 0).unwrap();
        assert_eq!(t.scope.as_deref(), Some("user:read:email openid"));
        let t = parse(
            "c",
            &response(
                200,
                "application/json",
                r#"{"access_token":"a","token_type":"DPoP"}"#,
            ),
            0,
        )
        .unwrap();
        assert_eq!(t.token_type, "DPoP");
    }

    #[test]
    fn rfc_errors_with_400() {
        let r = response(
            400,
            "application/json",
            r#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#,
        );
        let e = parse("c", &r, 0).unwrap_err();
        assert_eq!(e.code(), "invalid_grant");
        assert!(e.to_string().contains("grant request is invalid"));
    }

    #[test]
    fn garbage_is_refused() {
        for (status, ct, body, code) in [
            (
                200,
                "text/html",
                "<html>oops</html>",
                "invalid_token_response",
            ),
            (200, "application/json", "[1,2]", "invalid_token_response"),
            (
                200,
                "application/json",
                r#"{"token_type":"bearer"}"#,
                "invalid_token_response",
            ),
            (
                200,
                "application/json",
                r#"{"access_token":"","token_type":"bearer"}"#,
                "invalid_token_response",
            ),
            (
                200,
                "application/json",
                r#"{"access_token":5}"#,
                "invalid_token_response",
            ),
            (
                200,
                "application/json",
                r#"{"access_token":"a","expires_in":"soon"}"#,
                "invalid_token_response",
            ),
            (
                200,
                "application/json",
                r#"{"access_token":"a","expires_in":-5}"#,
                "invalid_token_response",
            ),
            (
                200,
                "application/json",
                r#"{"access_token":"a","scope":{"x":1}}"#,
                "invalid_token_response",
            ),
            (
                200,
                "application/json",
                r#"{"access_token":"a","refresh_token":5}"#,
                "invalid_token_response",
            ),
            (
                200,
                "application/json",
                r#"{"access_token":"a","id_token":{"iss":"x"}}"#,
                "invalid_token_response",
            ),
            (
                500,
                "text/plain",
                "Internal Server Error",
                "provider_http_error",
            ),
            (
                502,
                "application/json",
                r#"{"message":"bad gateway"}"#,
                "provider_http_error",
            ),
        ] {
            let e = parse("c", &response(status, ct, body), 0).unwrap_err();
            assert_eq!(e.code(), code, "{body}");
        }
    }

    #[test]
    fn only_understood_token_types_are_used() {
        let token_type = |body: &str| {
            parse("c", &response(200, "application/json", body), 0)
                .unwrap()
                .token_type
        };
        for (body, canonical) in [
            (r#"{"access_token":"a","token_type":"bearer"}"#, "Bearer"),
            (r#"{"access_token":"a"}"#, "Bearer"),
            (r#"{"access_token":"a","token_type":"dpop"}"#, "DPoP"),
        ] {
            assert_eq!(token_type(body), canonical);
            assert!(check_token_type("c", canonical, true).is_ok());
        }
        assert!(check_token_type("c", "Bearer", false).is_ok());
        let e = check_token_type("c", "DPoP", false).unwrap_err();
        assert_eq!(e.code(), "invalid_token_response");
        for odd in ["mac", "N_A", "Bearer ", "bearer-ish"] {
            let t = token_type(&format!(r#"{{"access_token":"a","token_type":"{odd}"}}"#));
            let e = check_token_type("c", &t, true).unwrap_err();
            assert_eq!(e.code(), "invalid_token_response", "{odd}");
            assert!(e.to_string().contains("token_type"), "{e}");
        }
    }

    #[test]
    fn huge_expires_in_means_unknown() {
        let t = parse(
            "c",
            &response(
                200,
                "application/json",
                r#"{"access_token":"a","expires_in":1e300}"#,
            ),
            0,
        )
        .unwrap();
        assert_eq!(t.expires_at, None);
    }
}
