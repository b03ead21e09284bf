//! [`Quirks`]: what a provider does differently that settings and hooks cannot express —
//! extra calls, computed secrets, checks on claims only that provider sends.
//!
//! Each field is off by default and switched on by a preset; the client consults them at
//! the one point of the flow each concerns.

use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

use crate::Secret;
use crate::jose::client_assertion::ClientAssertionKey;

/// A provider's departures from the specifications, as a preset switches them on.
#[derive(Clone, Default)]
pub struct Quirks {
    /// Scopes are joined with this character instead of a space (Strava, Facebook).
    pub(crate) scope_separator: Option<char>,
    /// The profile endpoint is called with POST and no body (Dropbox's RPC style).
    pub(crate) userinfo_post: bool,
    /// Where the verified address is when the profile lacks one (GitHub, Bitbucket).
    pub(crate) verified_email: Option<EmailLookup>,
    /// Multi-tenant issuers (Microsoft Entra).
    pub(crate) tenant: Option<TenantPolicy>,
    /// The Google Workspace domain the ID token's `hd` claim must name.
    pub(crate) hosted_domain: Option<String>,
    /// A client secret computed per request (Apple's ES256 JWT).
    pub(crate) client_secret: Option<Arc<JwtClientSecret>>,
    /// The callback's form may carry the user's name as JSON in `user`, on the first
    /// login only (Apple).
    pub(crate) callback_user: bool,
    /// The callback's `scope` is the granted scope, which the token response omits
    /// (Strava).
    pub(crate) granted_scope_on_callback: bool,
    /// The token request is a JSON body instead of a form (Notion).
    pub(crate) json_token_request: bool,
    /// The token response carries `signature` = base64 HMAC-SHA256(client secret,
    /// `id` + `issued_at`), which must match (Salesforce).
    pub(crate) signed_token_response: bool,
}

impl std::fmt::Debug for Quirks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Quirks")
            .field("scope_separator", &self.scope_separator)
            .field("userinfo_post", &self.userinfo_post)
            .field("verified_email", &self.verified_email.is_some())
            .field("tenant", &self.tenant)
            .field("hosted_domain", &self.hosted_domain)
            .field("client_secret", &self.client_secret.is_some())
            .field("callback_user", &self.callback_user)
            .field("granted_scope_on_callback", &self.granted_scope_on_callback)
            .field("json_token_request", &self.json_token_request)
            .field("signed_token_response", &self.signed_token_response)
            .finish()
    }
}

impl Quirks {
    /// `scope` as this provider wants it: the configured separators (space or comma)
    /// replaced by the provider's.
    pub(crate) fn scope(&self, scope: &str) -> String {
        match self.scope_separator {
            Some(sep) => scope
                .split([' ', ','])
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(&sep.to_string()),
            None => scope.to_owned(),
        }
    }
}

/// Where to find the user's verified e-mail address when the profile does not give one.
#[derive(Clone)]
pub(crate) struct EmailLookup {
    /// The endpoint, relative to `api_base_url` or absolute.
    pub(crate) path: &'static str,
    /// Picks the primary verified address from the endpoint's JSON.
    pub(crate) pick: fn(&Value) -> Option<String>,
}

#[allow(dead_code, reason = "used by the presets being added next")]
/// Which tenants of a multi-tenant provider may log in.
#[derive(Debug, Clone, Default)]
pub(crate) struct TenantPolicy {
    /// The tenant ids (`tid`) allowed; any tenant when `None`.
    pub(crate) allowed: Option<Vec<String>>,
}

#[allow(dead_code, reason = "used by the presets being added next")]
impl TenantPolicy {
    /// Whether users of tenant `tid` may log in.
    pub(crate) fn allows(&self, tid: &str) -> bool {
        self.allowed
            .as_ref()
            .is_none_or(|allowed| allowed.iter().any(|t| t.eq_ignore_ascii_case(tid)))
    }
}

/// A client secret that is a JWT signed with the client's key (Sign in with Apple): built
/// on first use and again shortly before it expires, so that a leaked one is soon useless.
pub(crate) struct JwtClientSecret {
    key: ClientAssertionKey,
    issuer: String,
    subject: String,
    audience: String,
    cached: Mutex<Option<(Secret, u64)>>,
}

/// How long each client secret JWT is valid; Apple accepts up to six months.
pub(crate) const JWT_SECRET_LIFETIME_SECS: u64 = 3600;
/// A cached secret is replaced when it has less than this left.
const JWT_SECRET_RENEW_SECS: u64 = 300;

#[allow(dead_code, reason = "used by the presets being added next")]
impl JwtClientSecret {
    /// A secret signed with `key`, claims `iss` = `issuer`, `sub` = `subject`,
    /// `aud` = `audience`.
    pub(crate) fn new(
        key: ClientAssertionKey,
        issuer: &str,
        subject: &str,
        audience: &str,
    ) -> Self {
        Self {
            key,
            issuer: issuer.to_owned(),
            subject: subject.to_owned(),
            audience: audience.to_owned(),
            cached: Mutex::new(None),
        }
    }

    /// The current secret at `now` (Unix seconds), renewed when it is about to expire.
    pub(crate) fn current(&self, now: u64) -> Result<Secret, String> {
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((secret, exp)) = cached.as_ref()
            && now + JWT_SECRET_RENEW_SECS < *exp
        {
            return Ok(secret.clone());
        }
        let exp = now + JWT_SECRET_LIFETIME_SECS;
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(self.issuer));
        claims.insert("sub".into(), json!(self.subject));
        claims.insert("aud".into(), json!(self.audience));
        claims.insert("iat".into(), json!(now));
        claims.insert("exp".into(), json!(exp));
        let secret = Secret::new(self.key.sign(&claims).map_err(|e| e.0)?);
        *cached = Some((secret.clone(), exp));
        Ok(secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_take_the_providers_separator() {
        let comma = Quirks {
            scope_separator: Some(','),
            ..Quirks::default()
        };
        assert_eq!(
            comma.scope("read activity:read_all"),
            "read,activity:read_all"
        );
        assert_eq!(
            comma.scope("read,activity:read_all"),
            "read,activity:read_all"
        );
        assert_eq!(Quirks::default().scope("openid email"), "openid email");
    }

    #[test]
    fn tenant_allow_lists() {
        assert!(TenantPolicy::default().allows("any"));
        let one = TenantPolicy {
            allowed: Some(vec!["72F988BF-86F1-41AF-91AB-2D7CD011DB47".into()]),
        };
        assert!(one.allows("72f988bf-86f1-41af-91ab-2d7cd011db47"));
        assert!(!one.allows("9188040d-6c67-4c5b-b112-36a304b66dad"));
    }
}
