//! Parsing the provider's answer to the temporary-credentials (§2.1) and token (§2.3)
//! requests.
//!
//! RFC 5849 specifies a form-encoded body, but deployed providers also answer in JSON,
//! and their error bodies come in several dialects (`error=…`, `oauth_problem=…`,
//! `{"errors":[{"code":…,"message":…}]}`); all of them end up in [`Credentials`] or in
//! [`Error::Provider`].

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::Value;

use super::encode::parse_form;
use super::error::{Error, Result, truncate};
use crate::Secret;

/// Token credentials (temporary or access) returned by the provider.
///
/// `Debug` shows `extra` but not the token or its secret.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Credentials {
    /// `oauth_token`. Wrapped as a secret because, together with the secret below, it
    /// acts for the user.
    pub token: Secret,
    /// `oauth_token_secret`.
    pub token_secret: Secret,
    /// `oauth_callback_confirmed`, if the provider sent it (temporary credentials only).
    pub callback_confirmed: Option<bool>,
    /// Every other field, such as `user_id` or `screen_name`, which some providers use
    /// to say who signed in.
    pub extra: BTreeMap<String, String>,
}

impl Credentials {
    /// Parses a successful response body: form-encoded, or a JSON object.
    ///
    /// # Errors
    /// [`Error::MissingCredentialsField`] without `oauth_token` / `oauth_token_secret`
    /// (or with an empty token), [`Error::InvalidCredentialsResponse`] for JSON that is
    /// not an object, and [`Error::Provider`] when a 2xx body is in fact an error report.
    pub fn parse(body: &str) -> Result<Self> {
        Self::from_response(200, None, body.as_bytes())
    }

    /// Parses a provider response from its HTTP status, `Content-Type` and body.
    ///
    /// A status outside 2xx becomes [`Error::Provider`] carrying whatever code and
    /// description the body offers.
    ///
    /// # Errors
    /// As [`Credentials::parse`], plus [`Error::Provider`] for non-2xx statuses and
    /// [`Error::InvalidCredentialsResponse`] for a body that is not UTF-8.
    pub fn from_response(status: u16, content_type: Option<&str>, body: &[u8]) -> Result<Self> {
        if !(200..300).contains(&status) {
            return Err(provider_error(status, content_type, body));
        }
        let text = std::str::from_utf8(body).map_err(|_| Error::InvalidCredentialsResponse {
            reason: "body is not UTF-8",
        })?;
        let mut token = None;
        let mut token_secret = None;
        let mut callback_confirmed = None;
        let mut extra = BTreeMap::new();
        // The first occurrence of a field wins; only what is kept gets copied.
        for_each_field(content_type, text, |name, value| match name.as_ref() {
            "oauth_token" if token.is_none() => token = Some(value.into_owned()),
            "oauth_token_secret" if token_secret.is_none() => {
                token_secret = Some(value.into_owned());
            }
            "oauth_callback_confirmed" if callback_confirmed.is_none() => {
                let v = value.trim();
                callback_confirmed = Some(v.eq_ignore_ascii_case("true") || v == "1");
            }
            _ => {
                extra
                    .entry(name.into_owned())
                    .or_insert_with(|| value.into_owned());
            }
        })?;

        let token = match token {
            Some(t) if !t.is_empty() => t,
            _ => {
                if let Some(e) = error_in_fields(status, &extra) {
                    return Err(e);
                }
                return Err(Error::MissingCredentialsField {
                    field: "oauth_token",
                });
            }
        };
        let token_secret = token_secret.ok_or(Error::MissingCredentialsField {
            field: "oauth_token_secret",
        })?;
        Ok(Credentials {
            token: Secret::new(token),
            token_secret: Secret::new(token_secret),
            callback_confirmed,
            extra,
        })
    }

    /// Parses the temporary-credentials response (§2.1), which must confirm the callback.
    ///
    /// OAuth 1.0a added `oauth_callback_confirmed=true` to close the 1.0 session-fixation
    /// hole; a provider that does not send it cannot be trusted with the flow.
    ///
    /// # Errors
    /// As [`Credentials::from_response`], plus [`Error::CallbackNotConfirmed`].
    pub fn temporary_from_response(
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Self> {
        let creds = Self::from_response(status, content_type, body)?;
        creds.ensure_callback_confirmed()?;
        Ok(creds)
    }

    /// Checks `oauth_callback_confirmed` was present and true.
    ///
    /// # Errors
    /// [`Error::CallbackNotConfirmed`] otherwise.
    pub fn ensure_callback_confirmed(&self) -> Result<()> {
        if self.callback_confirmed == Some(true) {
            Ok(())
        } else {
            Err(Error::CallbackNotConfirmed)
        }
    }
}

/// Whether `content_type` names `kind` (such as `json`), in any case.
fn content_type_has(content_type: Option<&str>, kind: &str) -> bool {
    content_type.is_some_and(|ct| {
        ct.as_bytes()
            .windows(kind.len())
            .any(|w| w.eq_ignore_ascii_case(kind.as_bytes()))
    })
}

/// Whether the body should be read as JSON rather than as a form.
fn is_json(content_type: Option<&str>, text: &str) -> bool {
    content_type_has(content_type, "json") || text.trim_start().starts_with('{')
}

/// Calls `field` with each of the body's top-level fields as strings, in order.
///
/// Form fields are handed over borrowed where no decoding was needed, so callers copy
/// only the fields they keep.
fn for_each_field<'t>(
    content_type: Option<&str>,
    text: &'t str,
    mut field: impl FnMut(Cow<'t, str>, Cow<'t, str>),
) -> Result<()> {
    if !is_json(content_type, text) {
        for (name, value) in parse_form(text.trim()) {
            field(name, value);
        }
        return Ok(());
    }
    let value: Value =
        serde_json::from_str(text).map_err(|_| Error::InvalidCredentialsResponse {
            reason: "body is not valid JSON",
        })?;
    let Value::Object(map) = value else {
        return Err(Error::InvalidCredentialsResponse {
            reason: "JSON body is not an object",
        });
    };
    for (name, value) in map {
        if let Some(value) = json_to_string(value) {
            field(Cow::Owned(name), Cow::Owned(value));
        }
    }
    Ok(())
}

/// A JSON value as a field string: strings as-is, scalars printed, nested values as
/// JSON text, `null` dropped.
fn json_to_string(v: Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

/// Text from a provider made safe to log: no control characters, bounded length.
fn clean(s: &str, max: usize) -> Option<String> {
    let s: String = s.chars().filter(|c| !c.is_control()).collect();
    let s = s.trim();
    (!s.is_empty()).then(|| truncate(s, max))
}

/// Finds an error report among parsed fields, if there is one.
fn error_in_fields(status: u16, fields: &BTreeMap<String, String>) -> Option<Error> {
    let get = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| fields.get(*n))
            .and_then(|v| clean(v, 256))
    };
    let mut code = get(&["error", "oauth_problem", "code"]).map(|c| truncate(&c, 64));
    let mut description = get(&[
        "error_description",
        "oauth_problem_advice",
        "message",
        "error_message",
    ]);
    // X/Twitter: {"errors":[{"code":32,"message":"Could not authenticate you."}]}
    if code.is_none()
        && description.is_none()
        && let Some(Value::Array(errors)) = fields
            .get("errors")
            .and_then(|e| serde_json::from_str::<Value>(e).ok())
        && let Some(first) = errors.first()
    {
        code = first
            .get("code")
            .cloned()
            .and_then(json_to_string)
            .and_then(|c| clean(&c, 64));
        description = first
            .get("message")
            .and_then(Value::as_str)
            .and_then(|m| clean(m, 256));
    }
    (code.is_some() || description.is_some()).then_some(Error::Provider {
        status,
        code,
        description,
    })
}

/// Reads an error response into [`Error::Provider`], whatever dialect it is in.
///
/// Useful on its own for any OAuth 1.0a endpoint, not only the credential ones. The raw
/// body is never copied whole into the error: only recognised fields, or a short line
/// of plain text, cut to 256 characters.
pub fn provider_error(status: u16, content_type: Option<&str>, body: &[u8]) -> Error {
    let unknown = Error::Provider {
        status,
        code: None,
        description: None,
    };
    let Ok(text) = std::str::from_utf8(body) else {
        return unknown;
    };
    let mut map = BTreeMap::new();
    let parsed = for_each_field(content_type, text, |name, value| {
        // The first occurrence wins, as in `Credentials::from_response`.
        map.entry(name.into_owned())
            .or_insert_with(|| value.into_owned());
    });
    if parsed.is_ok()
        && let Some(e) = error_in_fields(status, &map)
    {
        return e;
    }
    // A short plain-text sentence (some providers answer "Invalid signature" and the
    // like); HTML pages and anything form- or JSON-shaped are not repeated.
    let t = text.trim();
    let is_plain = !t.is_empty()
        && t.len() <= 256
        && !t.contains(['<', '=', '{', '\n'])
        && !content_type_has(content_type, "html");
    if is_plain {
        return Error::Provider {
            status,
            code: None,
            description: clean(t, 256),
        };
    }
    unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc5849_temporary_credentials() {
        let body = "oauth_token=hh5s93j4hdidpola&oauth_token_secret=hdhd0244k9j7ao03&oauth_callback_confirmed=true";
        let c = Credentials::temporary_from_response(
            200,
            Some("application/x-www-form-urlencoded"),
            body.as_bytes(),
        )
        .expect("parses");
        assert_eq!(c.token.expose(), "hh5s93j4hdidpola");
        assert_eq!(c.token_secret.expose(), "hdhd0244k9j7ao03");
        assert_eq!(c.callback_confirmed, Some(true));
        assert!(c.extra.is_empty());
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("hh5s93j4hdidpola") && !dbg.contains("hdhd0244k9j7ao03"));
    }

    #[test]
    fn keeps_extra_fields_and_decodes() {
        let body = "oauth_token=6253282-eWudHldSbIaelX7swmsiHImEL4KinwaGloHANdrY&oauth_token_secret=2EEfA%2Bx&user_id=6253282&screen_name=twitter+api";
        let c = Credentials::parse(body).expect("parses");
        assert_eq!(c.token_secret.expose(), "2EEfA+x");
        assert_eq!(c.callback_confirmed, None);
        assert_eq!(c.extra.get("user_id").map(String::as_str), Some("6253282"));
        assert_eq!(
            c.extra.get("screen_name").map(String::as_str),
            Some("twitter api")
        );
    }

    #[test]
    fn callback_confirmed_is_case_insensitive() {
        for (v, expect) in [
            ("true", true),
            ("True", true),
            ("TRUE", true),
            ("1", true),
            ("false", false),
            ("0", false),
            ("yes", false),
        ] {
            let body = format!("oauth_token=t&oauth_token_secret=s&oauth_callback_confirmed={v}");
            let c = Credentials::parse(&body).expect("parses");
            assert_eq!(c.callback_confirmed, Some(expect), "{v}");
        }
    }

    #[test]
    fn parses_json_defensively() {
        let body = r#"{"oauth_token":"t","oauth_token_secret":"s","oauth_callback_confirmed":true,"user_id":42,"x":null,"n":{"a":1}}"#;
        let c = Credentials::temporary_from_response(
            200,
            Some("application/json; charset=utf-8"),
            body.as_bytes(),
        )
        .expect("parses");
        assert_eq!(c.token.expose(), "t");
        assert_eq!(c.callback_confirmed, Some(true));
        assert_eq!(c.extra.get("user_id").map(String::as_str), Some("42"));
        assert_eq!(c.extra.get("n").map(String::as_str), Some(r#"{"a":1}"#));
        assert!(!c.extra.contains_key("x"));
        // Without a content type, a leading `{` is enough.
        assert!(Credentials::parse(body).is_ok());
    }

    #[test]
    fn missing_fields_are_typed_errors() {
        let e = Credentials::parse("oauth_token_secret=s").err();
        assert!(matches!(
            e,
            Some(Error::MissingCredentialsField {
                field: "oauth_token"
            })
        ));
        let e = Credentials::parse("oauth_token=&oauth_token_secret=s").err();
        assert!(matches!(
            e,
            Some(Error::MissingCredentialsField {
                field: "oauth_token"
            })
        ));
        let e = Credentials::parse("oauth_token=t").err();
        assert!(matches!(
            e,
            Some(Error::MissingCredentialsField {
                field: "oauth_token_secret"
            })
        ));
        assert_eq!(
            Credentials::parse("").err().map(|e| e.code()),
            Some("missing_credentials_field")
        );
        let e = Credentials::from_response(200, Some("application/json"), b"[1,2]").err();
        assert_eq!(e.map(|e| e.code()), Some("invalid_credentials_response"));
        let e = Credentials::from_response(200, Some("application/json"), b"{nope").err();
        assert_eq!(e.map(|e| e.code()), Some("invalid_credentials_response"));
        let e = Credentials::from_response(200, None, &[0xff, 0xfe]).err();
        assert_eq!(e.map(|e| e.code()), Some("invalid_credentials_response"));
    }

    #[test]
    fn first_field_wins_and_content_type_case_is_ignored() {
        let c = Credentials::parse("oauth_token=a&oauth_token=b&oauth_token_secret=s&x=1&x=2")
            .expect("parses");
        assert_eq!(c.token.expose(), "a");
        assert_eq!(c.extra.get("x").map(String::as_str), Some("1"));
        let body = br#"  {"oauth_token":"t","oauth_token_secret":"s"}"#;
        let c = Credentials::from_response(200, Some("Application/JSON"), body).expect("json");
        assert_eq!(c.token_secret.expose(), "s");
        let e = provider_error(400, None, b"error=first&error=second");
        assert!(matches!(e, Error::Provider { code: Some(ref c), .. } if c == "first"));
    }

    #[test]
    fn callback_not_confirmed() {
        for body in [
            "oauth_token=t&oauth_token_secret=s",
            "oauth_token=t&oauth_token_secret=s&oauth_callback_confirmed=false",
        ] {
            let e = Credentials::temporary_from_response(200, None, body.as_bytes()).err();
            assert!(matches!(e, Some(Error::CallbackNotConfirmed)), "{body}");
        }
    }

    #[test]
    fn form_error_bodies() {
        let e = Credentials::from_response(
            401,
            Some("application/x-www-form-urlencoded"),
            b"oauth_problem=signature_invalid&oauth_problem_advice=Signature+does+not+match",
        )
        .err();
        assert!(matches!(
            e,
            Some(Error::Provider { status: 401, code: Some(ref c), description: Some(ref d) })
                if c == "signature_invalid" && d == "Signature does not match"
        ));
        let e =
            Credentials::from_response(400, None, b"error=invalid_request&error_description=nope")
                .err();
        assert!(matches!(
            e,
            Some(Error::Provider { status: 400, code: Some(ref c), description: Some(ref d) })
                if c == "invalid_request" && d == "nope"
        ));
        // A 200 that is really a problem report.
        let e = Credentials::parse("oauth_problem=token_rejected").err();
        assert!(matches!(
            e,
            Some(Error::Provider { status: 200, code: Some(ref c), description: None }) if c == "token_rejected"
        ));
    }

    #[test]
    fn json_error_bodies() {
        let e = Credentials::from_response(
            401,
            Some("application/json"),
            br#"{"errors":[{"code":32,"message":"Could not authenticate you."}]}"#,
        )
        .err();
        assert!(matches!(
            e,
            Some(Error::Provider { status: 401, code: Some(ref c), description: Some(ref d) })
                if c == "32" && d == "Could not authenticate you."
        ));
        let e = Credentials::from_response(
            403,
            None,
            br#"{"error":"access_denied","error_description":"User said no"}"#,
        )
        .err();
        assert!(matches!(
            e,
            Some(Error::Provider { status: 403, code: Some(ref c), description: Some(ref d) })
                if c == "access_denied" && d == "User said no"
        ));
        assert_eq!(e.map(|e| e.code()), Some("provider_error"));
    }

    #[test]
    fn opaque_error_bodies() {
        let e = provider_error(500, Some("text/html"), b"<html><body>oops</body></html>");
        assert!(matches!(
            e,
            Error::Provider {
                status: 500,
                code: None,
                description: None
            }
        ));
        let e = provider_error(
            401,
            Some("text/plain"),
            b"Failed to validate oauth signature and token",
        );
        assert!(matches!(
            e,
            Error::Provider { code: None, description: Some(ref d), .. } if d == "Failed to validate oauth signature and token"
        ));
        let long = "x".repeat(1000);
        let e = provider_error(400, None, format!("error={long}").as_bytes());
        let Error::Provider { code: Some(c), .. } = e else {
            panic!("expected provider error");
        };
        assert!(c.chars().count() <= 65);
        let e = provider_error(400, None, &[0xff]);
        assert!(matches!(
            e,
            Error::Provider {
                code: None,
                description: None,
                ..
            }
        ));
    }
}
