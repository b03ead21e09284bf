//! [`Quirks`]: what a provider does differently that settings and hooks cannot express —
//! extra calls, computed secrets, checks on claims only that provider sends.
//!
//! Each field is off by default and switched on by a preset; the client consults them at
//! the one point of the flow each concerns.

use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

use crate::proto::jose::client_assertion::ClientAssertionKey;
use crate::{Claims, Secret};

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
    /// Maps the login's claims (the ID token's merged with userinfo) to the standard
    /// profile, once both are checked: for what the ID token alone carries (Microsoft's
    /// `tid` and `oid`), which a userinfo hook never sees.
    pub(crate) claims_map: Option<fn(&mut Claims)>,
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
            .field("claims_map", &self.claims_map.is_some())
            .finish()
    }
}

impl Quirks {
    /// `scope` as this provider wants it: the configured separators (space or comma)
    /// replaced by the provider's. Without a separator of its own, `scope` itself: the
    /// login path of every other client pays nothing for this.
    pub(crate) fn scope(&self, scope: String) -> String {
        match self.scope_separator {
            Some(sep) => scope
                .split([' ', ','])
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(&sep.to_string()),
            None => scope,
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

/// The placeholder for the tenant id in a multi-tenant issuer.
pub(crate) const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// A multi-tenant provider (Microsoft Entra): each tenant is its own issuer, the
/// `issuer_template` with [`TENANT_PLACEHOLDER`] replaced by the tenant id, and the
/// `common` and `organizations` metadata name the template itself. An ID token must then
/// name the issuer of its own tenant (its `tid` claim), and the tenant must be allowed.
#[derive(Debug, Clone, Default)]
pub(crate) struct TenantPolicy {
    /// The tenant ids (`tid`) allowed; any tenant when `None`.
    pub(crate) allowed: Option<Vec<String>>,
    /// Every tenant's issuer, with [`TENANT_PLACEHOLDER`] for the tenant id.
    pub(crate) issuer_template: String,
}

impl TenantPolicy {
    /// Whether users of tenant `tid` may log in.
    pub(crate) fn allows(&self, tid: &str) -> bool {
        self.allowed
            .as_ref()
            .is_none_or(|allowed| allowed.iter().any(|t| t.eq_ignore_ascii_case(tid)))
    }

    /// The template split around the placeholder.
    fn parts(&self) -> Option<(&str, &str)> {
        self.issuer_template.split_once(TENANT_PLACEHOLDER)
    }

    /// The tenant of an issuer of this provider (`None` when `issuer` is not one).
    fn tenant_of<'i>(&self, issuer: &'i str) -> Option<&'i str> {
        let (prefix, suffix) = self.parts()?;
        let tenant = issuer.strip_prefix(prefix)?.strip_suffix(suffix)?;
        is_tenant_id(tenant).then_some(tenant)
    }

    /// Whether discovery metadata fetched for issuer `expected` (from the URL) may name
    /// `named`: for `common` and `organizations` it names the template itself, for
    /// `consumers` or a tenant's domain name the tenant's id.
    pub(crate) fn accepts_metadata_issuer(&self, named: &str, expected: &str) -> bool {
        self.tenant_of(expected).is_some()
            && (named == self.issuer_template || self.tenant_of(named).is_some())
    }

    /// The issuer an ID token of tenant `tid` must name, given the client's issuer
    /// (the template, or one tenant's own issuer); an error when the token's tenant
    /// cannot be this client's.
    pub(crate) fn token_issuer(&self, client_issuer: &str, tid: &str) -> Result<String, String> {
        if !is_tenant_id(tid) {
            return Err("the ID token's `tid` is not a tenant id".into());
        }
        let own = self.issuer_template.replace(TENANT_PLACEHOLDER, tid);
        if client_issuer == self.issuer_template || client_issuer == own {
            Ok(own)
        } else {
            Err(format!(
                "the ID token's tenant {tid:?} is not the tenant of issuer {client_issuer:?}"
            ))
        }
    }
}

/// A tenant id as it can appear in an issuer URL: a GUID, or a domain name for the
/// settings' `tenant`.
fn is_tenant_id(tid: &str) -> bool {
    !tid.is_empty()
        && tid.len() <= 64
        && tid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
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
            comma.scope("read activity:read_all".into()),
            "read,activity:read_all"
        );
        assert_eq!(
            comma.scope("read,activity:read_all".into()),
            "read,activity:read_all"
        );
        assert_eq!(
            Quirks::default().scope("openid email".into()),
            "openid email"
        );
    }

    #[test]
    fn tenant_allow_lists() {
        assert!(TenantPolicy::default().allows("any"));
        let one = TenantPolicy {
            allowed: Some(vec!["72F988BF-86F1-41AF-91AB-2D7CD011DB47".into()]),
            ..TenantPolicy::default()
        };
        assert!(one.allows("72f988bf-86f1-41af-91ab-2d7cd011db47"));
        assert!(!one.allows("9188040d-6c67-4c5b-b112-36a304b66dad"));
    }

    const ENTRA: &str = "https://login.microsoftonline.com/{tenantid}/v2.0";
    const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    fn entra() -> TenantPolicy {
        TenantPolicy {
            allowed: None,
            issuer_template: ENTRA.into(),
        }
    }

    #[test]
    fn tenant_issuers() {
        let policy = entra();
        let common = "https://login.microsoftonline.com/common/v2.0";
        let own = format!("https://login.microsoftonline.com/{TID}/v2.0");
        assert!(policy.accepts_metadata_issuer(ENTRA, common));
        assert!(policy.accepts_metadata_issuer(&own, common));
        assert!(!policy.accepts_metadata_issuer("https://evil.example/x/v2.0", common));
        assert!(!policy.accepts_metadata_issuer(ENTRA, "https://evil.example/common/v2.0"));
        assert_eq!(policy.token_issuer(ENTRA, TID).unwrap(), own);
        assert_eq!(policy.token_issuer(&own, TID).unwrap(), own);
        let other = "9188040d-6c67-4c5b-b112-36a304b66dad";
        assert!(policy.token_issuer(&own, other).is_err(), "another tenant");
        assert!(policy.token_issuer(ENTRA, "a/b").is_err());
        assert!(policy.token_issuer(ENTRA, "").is_err());
    }

    /// A P-256 key as PKCS#8 PEM, as Apple hands it out.
    fn p256_pem() -> String {
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
        use base64::Engine as _;
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let der = key.to_pkcs8v1().unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            lines.join("\n")
        )
    }

    #[test]
    fn jwt_client_secrets_are_reused_then_renewed_before_expiry() {
        let key =
            ClientAssertionKey::from_private_key(&p256_pem(), Some("ES256"), Some("KEY1")).unwrap();
        let source =
            JwtClientSecret::new(key, "TEAM", "com.example.web", "https://appleid.apple.com");
        let now = 1_700_000_000;
        let first = source.current(now).unwrap();
        let claims = crate::proto::oidc::unverified_claims(first.expose()).unwrap();
        assert_eq!(claims["iss"], "TEAM");
        assert_eq!(claims["sub"], "com.example.web");
        assert_eq!(claims["aud"], "https://appleid.apple.com");
        assert_eq!(claims["exp"], now + JWT_SECRET_LIFETIME_SECS);
        let still = now + JWT_SECRET_LIFETIME_SECS - JWT_SECRET_RENEW_SECS - 1;
        assert_eq!(
            source.current(still).unwrap().expose(),
            first.expose(),
            "reused while it has time left"
        );
        let late = still + 1;
        let renewed = source.current(late).unwrap();
        assert_ne!(
            renewed.expose(),
            first.expose(),
            "renewed before it expires"
        );
        let claims = crate::proto::oidc::unverified_claims(renewed.expose()).unwrap();
        assert_eq!(claims["iat"], late);
        assert_eq!(
            source.current(late + 1).unwrap().expose(),
            renewed.expose(),
            "and the new one is kept"
        );
    }
}
