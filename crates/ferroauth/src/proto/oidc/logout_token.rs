//! Logout token validation (OpenID Connect Back-Channel Logout 1.0 §2.4, §2.6).
//!
//! A provider that ends a user's session (a logout elsewhere, an administrator, a password
//! reset) POSTs a logout token to each relying party. [`validate`] takes it, the provider's
//! keys and what the application expects, and gives the session it names only when every
//! check passes:
//!
//! 1. The JWS is well formed, not `alg: none`, its `alg` is in the allow-list of the
//!    provider's ID tokens, and its signature verifies ([`crate::proto::jose::jws`]). An
//!    encrypted token (JWE, five parts) is refused: none is asked for.
//! 2. Its `typ`, when present, is `logout+jwt` (the explicit type §2.4 recommends) or
//!    plain `JWT`: any other `+jwt` type is another kind of token (RFC 8725 §3.11).
//! 3. `iss` is exactly one of the expected issuers; `aud` (a string or an array) names
//!    the client.
//! 4. `iat` is a number, not in the future beyond the leeway and not older than
//!    [`LogoutTokenValidation::max_age_secs`]: a logout token is sent as the logout
//!    happens, so an old one is a replay. `exp`, which the specification does not
//!    require, is honoured when present.
//! 5. `jti` is a non-empty string (its single use is the caller's to check, across
//!    instances).
//! 6. `events` is an object with the member
//!    `http://schemas.openid.net/event/backchannel-logout`, whose value is an object: this
//!    is what tells a logout token from an ID token signed by the same keys.
//! 7. `sid` or `sub`, or both, name whose session ended (non-empty strings).
//! 8. There is no `nonce`: an ID token carries one, a logout token must not (§2.4), so
//!    that neither can stand for the other.
//!
//! Like the ID-token checks this is a pure function: the clock is a parameter. Errors name
//! the claim and the rule, never the token.

use serde_json::{Map, Value};

use crate::proto::jose::jwk::JwkSet;
use crate::proto::jose::jws::{self, Algorithm, JwsError, UnverifiedJws};

/// The event member that makes a JWT a back-channel logout token.
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// The explicit JWT type of logout tokens (`typ`).
pub const LOGOUT_TOKEN_TYPE: &str = "logout+jwt";

/// How old a logout token may be by default, in seconds (its `iat`).
pub const DEFAULT_MAX_AGE_SECS: u64 = 300;

/// What the application expects of a logout token.
#[derive(Debug, Clone)]
pub struct LogoutTokenValidation<'a> {
    /// The issuers accepted (the provider's, and its aliases).
    pub issuers: &'a [&'a str],
    /// The client id that `aud` must name.
    pub client_id: &'a str,
    /// The signing algorithms accepted: the provider's ID-token allow-list.
    pub allowed_algs: &'a [Algorithm],
    /// The current time, in Unix seconds.
    pub now: u64,
    /// Clock-skew allowance, in seconds.
    pub leeway_secs: u64,
    /// How old `iat` may be, in seconds.
    pub max_age_secs: u64,
}

/// A validated logout token: whose session ended at which provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutToken {
    /// The issuer.
    pub iss: String,
    /// The subject whose sessions ended, when named.
    pub sub: Option<String>,
    /// The provider's session id that ended, when named.
    pub sid: Option<String>,
    /// The token's unique id, for the single-use check.
    pub jti: String,
    /// When it was issued, in Unix seconds.
    pub iat: u64,
}

/// Why a logout token was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LogoutTokenError {
    /// The JWS is malformed, its algorithm is not allowed or its signature does not verify.
    #[error("logout token: {0}")]
    Jws(#[from] JwsError),
    /// An encrypted (JWE) token, which was not asked for.
    #[error("logout token: encrypted tokens are not accepted")]
    Encrypted,
    /// Its `typ` names another kind of JWT.
    #[error("logout token: `typ` names another kind of token")]
    WrongType,
    /// The payload is not a JSON object with unique members.
    #[error("logout token: the payload is not a JSON object")]
    Malformed,
    /// A required claim is absent.
    #[error("logout token: `{0}` is required")]
    MissingClaim(&'static str),
    /// A claim has the wrong type or an empty value.
    #[error("logout token: `{0}` is malformed")]
    InvalidClaim(&'static str),
    /// `iss` is not one of the provider's issuers.
    #[error("logout token: `iss` is not the provider's issuer")]
    IssuerMismatch,
    /// `aud` does not name this client.
    #[error("logout token: `aud` does not name this client")]
    AudienceMismatch,
    /// `iat` is in the future.
    #[error("logout token: `iat` is in the future")]
    IssuedInTheFuture,
    /// `iat` is older than allowed, or `exp` has passed.
    #[error("logout token: too old (`iat` or `exp`)")]
    Stale,
    /// `events` lacks the back-channel logout event.
    #[error("logout token: `events` has no back-channel logout event")]
    NotALogoutEvent,
    /// Neither `sid` nor `sub` is present.
    #[error("logout token: neither `sid` nor `sub` names a session")]
    NoSession,
    /// A `nonce` claim is present (§2.4 forbids it).
    #[error("logout token: a `nonce` is present, which a logout token must not have")]
    NonceForbidden,
    /// Its `jti` was seen before (checked by the caller, across instances).
    #[error("logout token: its `jti` was used before (a replay)")]
    Replayed,
}

/// A refused token as the crate's error: its code and its rule.
impl From<LogoutTokenError> for crate::Error {
    fn from(e: LogoutTokenError) -> Self {
        crate::Error::InvalidLogoutToken {
            code: e.code(),
            reason: e.to_string(),
        }
    }
}

impl LogoutTokenError {
    /// The stable code of the rule the token broke, one per rule, for the back-channel
    /// route's 400 answer and for logs.
    pub fn code(&self) -> &'static str {
        match self {
            LogoutTokenError::Jws(_) => "logout_token_signature_invalid",
            LogoutTokenError::Encrypted => "logout_token_encrypted",
            LogoutTokenError::WrongType => "logout_token_wrong_type",
            LogoutTokenError::Malformed => "logout_token_malformed",
            LogoutTokenError::MissingClaim("events") | LogoutTokenError::NotALogoutEvent => {
                "logout_token_event_missing"
            }
            LogoutTokenError::MissingClaim(_) => "logout_token_claim_missing",
            LogoutTokenError::InvalidClaim(_) => "logout_token_claim_invalid",
            LogoutTokenError::IssuerMismatch => "logout_token_issuer_mismatch",
            LogoutTokenError::AudienceMismatch => "logout_token_audience_mismatch",
            LogoutTokenError::IssuedInTheFuture => "logout_token_issued_in_the_future",
            LogoutTokenError::Stale => "logout_token_stale",
            LogoutTokenError::NoSession => "logout_token_names_no_session",
            LogoutTokenError::NonceForbidden => "logout_token_nonce_present",
            LogoutTokenError::Replayed => "logout_token_replayed",
        }
    }
}

/// Validates a logout token: see the [module docs](self) for the checks. `hmac_secret` is
/// the client secret's bytes, used only when an `HS*` algorithm is allowed.
pub fn validate(
    token: &str,
    keys: &JwkSet,
    hmac_secret: Option<&[u8]>,
    params: &LogoutTokenValidation<'_>,
) -> Result<LogoutToken, LogoutTokenError> {
    if token.split('.').count() == 5 {
        return Err(LogoutTokenError::Encrypted);
    }
    let jws = UnverifiedJws::parse(token)?;
    if jws.header().typ().is_some_and(names_other_type) {
        return Err(LogoutTokenError::WrongType);
    }
    let payload = jws.verify(keys, hmac_secret, params.allowed_algs)?;
    let claims = jws::parse_object(&payload).map_err(|_| LogoutTokenError::Malformed)?;
    check_parties(&claims, params)?;
    let iat = check_times(&claims, params)?;
    check_event(&claims)?;
    if claims.contains_key("nonce") {
        return Err(LogoutTokenError::NonceForbidden);
    }
    let sub = optional_str(&claims, "sub")?;
    let sid = optional_str(&claims, "sid")?;
    if sub.is_none() && sid.is_none() {
        return Err(LogoutTokenError::NoSession);
    }
    let jti = optional_str(&claims, "jti")?.ok_or(LogoutTokenError::MissingClaim("jti"))?;
    Ok(LogoutToken {
        iss: optional_str(&claims, "iss")?.unwrap_or_default(),
        sub,
        sid,
        jti,
        iat,
    })
}

/// `typ` other than `logout+jwt` (with or without `application/`) or `JWT`.
fn names_other_type(typ: &str) -> bool {
    let lower = typ.to_ascii_lowercase();
    let media = lower.strip_prefix("application/").unwrap_or(&lower);
    media != LOGOUT_TOKEN_TYPE && media != "jwt"
}

fn check_parties(
    claims: &Map<String, Value>,
    params: &LogoutTokenValidation<'_>,
) -> Result<(), LogoutTokenError> {
    let iss = optional_str(claims, "iss")?.ok_or(LogoutTokenError::MissingClaim("iss"))?;
    if !params.issuers.contains(&iss.as_str()) {
        return Err(LogoutTokenError::IssuerMismatch);
    }
    let names_client = match claims.get("aud") {
        None => return Err(LogoutTokenError::MissingClaim("aud")),
        Some(Value::String(aud)) => aud == params.client_id,
        Some(Value::Array(auds)) => auds.iter().any(|a| a == params.client_id),
        Some(_) => return Err(LogoutTokenError::InvalidClaim("aud")),
    };
    match names_client {
        true => Ok(()),
        false => Err(LogoutTokenError::AudienceMismatch),
    }
}

/// Checks `iat` (required, recent) and `exp` (when present); gives `iat`.
fn check_times(
    claims: &Map<String, Value>,
    params: &LogoutTokenValidation<'_>,
) -> Result<u64, LogoutTokenError> {
    let time = |name: &'static str| match claims.get(name) {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or(LogoutTokenError::InvalidClaim(name)),
    };
    let iat = time("iat")?.ok_or(LogoutTokenError::MissingClaim("iat"))?;
    let (now, leeway) = (params.now, params.leeway_secs);
    if iat > now.saturating_add(leeway) {
        return Err(LogoutTokenError::IssuedInTheFuture);
    }
    let too_old = now.saturating_sub(iat) > params.max_age_secs.saturating_add(leeway);
    let expired = time("exp")?.is_some_and(|exp| now >= exp.saturating_add(leeway));
    if too_old || expired {
        return Err(LogoutTokenError::Stale);
    }
    Ok(iat)
}

fn check_event(claims: &Map<String, Value>) -> Result<(), LogoutTokenError> {
    let events = match claims.get("events") {
        None => return Err(LogoutTokenError::MissingClaim("events")),
        Some(Value::Object(events)) => events,
        Some(_) => return Err(LogoutTokenError::InvalidClaim("events")),
    };
    match events.get(BACKCHANNEL_LOGOUT_EVENT) {
        Some(Value::Object(_)) => Ok(()),
        _ => Err(LogoutTokenError::NotALogoutEvent),
    }
}

/// A claim that, when present, is a non-empty string.
fn optional_str(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<String>, LogoutTokenError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(_) => Err(LogoutTokenError::InvalidClaim(name)),
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;

    use super::*;

    const ISS: &str = "https://op.example";
    const CLIENT: &str = "rp-1";
    const NOW: u64 = 1_800_000_000;
    const SECRET: &[u8] = b"a client secret that is long enough for HS256 here";

    /// A token signed with HS256 under the test secret (the JWS layer's own tests cover
    /// the asymmetric algorithms; these are about the claims).
    fn sign(header: Value, claims: Value) -> String {
        let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let input = format!("{}.{}", b64(&header), b64(&claims));
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, SECRET);
        let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    fn good_claims() -> Value {
        json!({
            "iss": ISS, "aud": CLIENT, "iat": NOW - 5, "jti": "bWJq",
            "sid": "08a5019c-17e1-4977-8f42-65a12843ea02", "sub": "248289761001",
            "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
        })
    }

    fn check(claims: Value) -> Result<LogoutToken, LogoutTokenError> {
        check_typed(json!({"alg": "HS256", "typ": "logout+jwt"}), claims)
    }

    /// What the tests' client expects: HS256 tokens of [`ISS`] for [`CLIENT`] at [`NOW`].
    fn params() -> LogoutTokenValidation<'static> {
        LogoutTokenValidation {
            issuers: &[ISS],
            client_id: CLIENT,
            allowed_algs: &[Algorithm::HS256],
            now: NOW,
            leeway_secs: 60,
            max_age_secs: DEFAULT_MAX_AGE_SECS,
        }
    }

    fn check_typed(header: Value, claims: Value) -> Result<LogoutToken, LogoutTokenError> {
        let keys = JwkSet::from_keys(Vec::new());
        validate(&sign(header, claims), &keys, Some(SECRET), &params())
    }

    /// `good_claims` with `name` set to `value` (or removed, for `Null`).
    fn with(name: &str, value: Value) -> Value {
        let mut claims = good_claims();
        match value {
            Value::Null => claims.as_object_mut().unwrap().remove(name),
            value => claims.as_object_mut().unwrap().insert(name.into(), value),
        };
        claims
    }

    #[test]
    fn the_specifications_example_is_accepted() {
        let token = check(good_claims()).unwrap();
        assert_eq!(token.iss, ISS);
        assert_eq!(token.sub.as_deref(), Some("248289761001"));
        assert_eq!(
            token.sid.as_deref(),
            Some("08a5019c-17e1-4977-8f42-65a12843ea02")
        );
        assert_eq!((token.jti.as_str(), token.iat), ("bWJq", NOW - 5));
        // sid alone, sub alone, an audience list, an exp still ahead, plain JWT type.
        assert!(check(with("sub", Value::Null)).is_ok());
        assert!(check(with("sid", Value::Null)).is_ok());
        assert!(check(with("aud", json!(["other", CLIENT]))).is_ok());
        assert!(check(with("exp", json!(NOW + 120))).is_ok());
        assert!(check_typed(json!({"alg": "HS256", "typ": "JWT"}), good_claims()).is_ok());
        assert!(check_typed(json!({"alg": "HS256"}), good_claims()).is_ok());
    }

    #[test]
    fn an_id_token_is_not_a_logout_token() {
        // What an ID token of the same provider looks like: a nonce, no events.
        let id_token = with("events", Value::Null);
        let mut id_token = id_token.as_object().unwrap().clone();
        id_token.insert("nonce".into(), json!("n-0S6_WzA2Mj"));
        id_token.insert("exp".into(), json!(NOW + 300));
        assert_eq!(
            check(Value::Object(id_token)),
            Err(LogoutTokenError::MissingClaim("events"))
        );
        assert_eq!(
            check(with("nonce", json!("n-0S6_WzA2Mj"))),
            Err(LogoutTokenError::NonceForbidden)
        );
        let typed = json!({"alg": "HS256", "typ": "id_token+jwt"});
        assert_eq!(
            check_typed(typed, good_claims()),
            Err(LogoutTokenError::WrongType)
        );
        let typed = json!({"alg": "HS256", "typ": "at+jwt"});
        assert_eq!(
            check_typed(typed, good_claims()),
            Err(LogoutTokenError::WrongType)
        );
    }

    #[test]
    fn the_event_must_be_the_back_channel_logout_object() {
        let refused = [
            json!(["http://schemas.openid.net/event/backchannel-logout"]),
            json!({"http://schemas.openid.net/event/other": {}}),
            json!({BACKCHANNEL_LOGOUT_EVENT: "yes"}),
        ];
        for events in refused {
            assert!(check(with("events", events.clone())).is_err(), "{events}");
        }
    }

    #[test]
    fn the_parties_must_be_the_provider_and_this_client() {
        assert_eq!(
            check(with("iss", json!("https://evil.example"))),
            Err(LogoutTokenError::IssuerMismatch)
        );
        assert_eq!(
            check(with("aud", json!("another-rp"))),
            Err(LogoutTokenError::AudienceMismatch)
        );
        assert_eq!(
            check(with("aud", Value::Null)),
            Err(LogoutTokenError::MissingClaim("aud"))
        );
    }

    #[test]
    fn old_future_or_expired_tokens_are_refused() {
        assert_eq!(
            check(with("iat", json!(NOW - DEFAULT_MAX_AGE_SECS - 61))),
            Err(LogoutTokenError::Stale)
        );
        assert!(check(with("iat", json!(NOW - DEFAULT_MAX_AGE_SECS))).is_ok());
        assert_eq!(
            check(with("iat", json!(NOW + 61))),
            Err(LogoutTokenError::IssuedInTheFuture)
        );
        assert_eq!(
            check(with("exp", json!(NOW - 61))),
            Err(LogoutTokenError::Stale)
        );
        assert_eq!(
            check(with("iat", Value::Null)),
            Err(LogoutTokenError::MissingClaim("iat"))
        );
        assert_eq!(
            check(with("iat", json!("yesterday"))),
            Err(LogoutTokenError::InvalidClaim("iat"))
        );
    }

    #[test]
    fn a_session_and_a_jti_are_required() {
        let none = with("sub", Value::Null);
        let mut none = none.as_object().unwrap().clone();
        none.remove("sid");
        assert_eq!(check(Value::Object(none)), Err(LogoutTokenError::NoSession));
        assert_eq!(
            check(with("sid", json!(""))),
            Err(LogoutTokenError::InvalidClaim("sid"))
        );
        assert_eq!(
            check(with("jti", Value::Null)),
            Err(LogoutTokenError::MissingClaim("jti"))
        );
    }

    #[test]
    fn a_bad_signature_or_an_encrypted_token_is_refused() {
        let token = sign(json!({"alg": "HS256"}), good_claims());
        let params = params();
        let keys = JwkSet::from_keys(Vec::new());
        let wrong = validate(
            &token,
            &keys,
            Some(b"another secret, just as long as the other"),
            &params,
        );
        assert!(matches!(wrong, Err(LogoutTokenError::Jws(_))), "{wrong:?}");
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(good_claims().to_string())
        );
        assert!(matches!(
            validate(&none, &keys, Some(SECRET), &params),
            Err(LogoutTokenError::Jws(_))
        ));
        assert_eq!(
            validate("a.b.c.d.e", &keys, Some(SECRET), &params),
            Err(LogoutTokenError::Encrypted)
        );
    }
}
