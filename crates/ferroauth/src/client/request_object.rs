//! Signed request objects (RFC 9101, JAR): the authorization request as a JWT signed with
//! the client's `private_key_jwt` key, so the provider knows the parameters come from the
//! client and were not changed in the browser. Sent by value (`request=`), or inside a
//! pushed authorization request.

use serde_json::{Map, Value, json};

use crate::client::{OAuthClient, Resolved};
use crate::error::Error;
use crate::random;

/// How long a request object is valid: the provider reads it when the browser arrives
/// (or when it is pushed), seconds after it is made.
const REQUEST_OBJECT_LIFETIME_SECS: u64 = 300;
/// The request object's media type (RFC 9101 §10.8), in its header's `typ`.
const REQUEST_OBJECT_TYPE: &str = "oauth-authz-req+jwt";

impl OAuthClient {
    /// Whether this login sends a signed request object: as configured, else when the
    /// provider requires it.
    pub(crate) fn signs_request_objects(&self, resolved: &Resolved) -> Result<bool, Error> {
        let wanted = self
            .settings()
            .client_kwargs
            .request_object
            .unwrap_or(resolved.require_request_object);
        if wanted && self.inner.private_key.is_none() {
            return Err(self.misconfigured(
                "signed request objects need a key: set client_kwargs.client_assertion_key",
            ));
        }
        Ok(wanted)
    }

    /// The request object for these authorization parameters (RFC 9101 §4), typed
    /// `oauth-authz-req+jwt`: each parameter as a claim (`max_age` a number, `claims` an
    /// object, a repeated one such as `resource` an array), plus `iss`,
    /// `client_id`, `aud` (the issuer), `iat`, `nbf`, `exp` and a `jti`.
    pub(crate) fn request_object(
        &self,
        resolved: &Resolved,
        request: &[(&str, &str)],
    ) -> Result<String, Error> {
        let key = self.inner.private_key.as_ref().ok_or_else(|| {
            self.misconfigured("signed request objects need client_kwargs.client_assertion_key")
        })?;
        let audience = resolved.issuer.as_deref().ok_or_else(|| {
            self.misconfigured(
                "a request object needs the issuer: set issuer or server_metadata_url",
            )
        })?;
        let mut claims = parameter_claims(request);
        let now = random::now();
        let [jti] = random::tokens([24])?;
        claims.insert("iss".into(), json!(self.client_id()));
        claims.insert("client_id".into(), json!(self.client_id()));
        claims.insert("aud".into(), json!(audience));
        claims.insert("iat".into(), json!(now));
        claims.insert("nbf".into(), json!(now));
        claims.insert("exp".into(), json!(now + REQUEST_OBJECT_LIFETIME_SECS));
        claims.insert("jti".into(), json!(jti));
        key.sign_typed(REQUEST_OBJECT_TYPE, &claims)
            .map_err(|e| Error::InvalidClientAssertionKey {
                client: self.name().to_owned(),
                reason: e.0,
            })
    }
}

/// The authorization parameters as claims. A repeated parameter (RFC 8707's `resource`)
/// is an array of its values: a map keeps one value per name, and the others must not be
/// lost.
fn parameter_claims(request: &[(&str, &str)]) -> Map<String, Value> {
    let mut claims = Map::new();
    for (name, value) in request {
        let value = claim_value(name, value);
        match claims.get_mut(*name) {
            None => {
                claims.insert((*name).to_owned(), value);
            }
            Some(Value::Array(values)) => values.push(value),
            Some(first) => *first = Value::Array(vec![first.take(), value]),
        }
    }
    claims
}

/// A parameter as a claim: JSON where OpenID Connect gives it a type, a string otherwise.
fn claim_value(name: &str, value: &str) -> Value {
    match name {
        "max_age" => value
            .parse::<u64>()
            .map_or_else(|_| json!(value), |n| json!(n)),
        "claims" => serde_json::from_str(value).unwrap_or_else(|_| json!(value)),
        _ => json!(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_parameters_keep_their_type() {
        assert_eq!(claim_value("max_age", "60"), json!(60));
        assert_eq!(claim_value("max_age", "soon"), json!("soon"));
        assert_eq!(
            claim_value("claims", r#"{"id_token":{"acr":null}}"#),
            json!({"id_token": {"acr": null}})
        );
        assert_eq!(claim_value("state", "60"), json!("60"));
    }

    #[test]
    fn every_resource_is_kept() {
        let claims = parameter_claims(&[
            ("scope", "openid"),
            ("resource", "https://a.example/"),
            ("resource", "https://b.example/"),
            ("resource", "https://c.example/"),
        ]);
        assert_eq!(
            claims["resource"],
            json!([
                "https://a.example/",
                "https://b.example/",
                "https://c.example/"
            ])
        );
        let one = parameter_claims(&[("resource", "https://a.example/")]);
        assert_eq!(
            one["resource"],
            json!("https://a.example/"),
            "one value stays a string"
        );
    }
}
