//! OpenID Connect: discovery metadata and ID-token validation, as pure functions of their
//! inputs (the provider's keys, the clock and the expected values are parameters). The
//! client's JWKS cache and the checks wired to its settings live in the client module.

pub mod id_token;
pub mod logout_token;
pub mod metadata;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::error::Error;
use crate::token::Claims;

/// The claims of an ID token this client validated earlier (kept in the session), without
/// verifying it again: used to compare `iss` and `sub` across a refresh.
pub(crate) fn unverified_claims(raw: &str) -> Result<Claims, Error> {
    let payload = raw
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
        .ok_or_else(|| Error::InvalidIdToken("the stored ID token is malformed".into()))?;
    match serde_json::from_slice(&payload) {
        Ok(Value::Object(claims)) => Ok(claims),
        _ => Err(Error::InvalidIdToken(
            "the stored ID token is malformed".into(),
        )),
    }
}

/// OpenID Connect Core §5.5.1.1: an `acr` requested as essential must come back, and be
/// one of the values asked for when values were given.
pub(crate) fn check_essential_acr(claims: &Claims, essential: &[String]) -> Result<(), Error> {
    if essential.is_empty() {
        return Ok(());
    }
    let acr = claims.get("acr").and_then(Value::as_str);
    let any = essential.iter().all(String::is_empty);
    match acr {
        None => Err(Error::AcrNotSatisfied(
            "the ID token has no `acr` claim, which the login marked essential".into(),
        )),
        Some(acr) if any || essential.iter().any(|v| v == acr) => Ok(()),
        Some(acr) => Err(Error::AcrNotSatisfied(format!(
            "`acr` {acr:?} is not one of the essential values {essential:?}"
        ))),
    }
}
