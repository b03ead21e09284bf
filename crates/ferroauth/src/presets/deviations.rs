//! The extension points a preset's [`super::Deviations`] switch on, as one client holds
//! them: [`Active`]. Its fields are private to the presets; the client consults each
//! point through one method, at one place of the flow (listed in the module
//! documentation of [`crate::presets`]). Every point costs a client without the
//! deviation one branch and nothing else: no allocation, no lookup.

use std::sync::{Arc, Mutex};

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use super::entry::{
    ApiRequestProof, CallbackForm, Deviations, EmailLookup, GrantedScope, IdTokenUse, ProfileMap,
    TokenRequestBody, TokenSignature, UserinfoMethod,
};
use crate::hooks::ProtectedRequest;
use crate::http::Method;
use crate::proto::jose::client_assertion::ClientAssertionKey;
use crate::token::OAuth2Token;
use crate::{Claims, Secret};

/// A form body: its fields in order.
pub(crate) type Form = Vec<(String, String)>;

/// One client's deviations: the preset's data, and what was built from its options.
#[derive(Clone)]
pub(crate) struct Active {
    pub(super) spec: &'static Deviations,
    /// The profile map run over the userinfo response (OAuth 2.0, OAuth 1.0a).
    pub(super) profile: Option<&'static ProfileMap>,
    /// The profile map run over the login's checked claims (OpenID Connect).
    pub(super) claims: Option<&'static ProfileMap>,
    pub(super) tenant: Option<TenantPolicy>,
    pub(super) hosted_domain: Option<String>,
    pub(super) client_secret: Option<Arc<JwtClientSecret>>,
    pub(super) appsecret: Option<hmac::Key>,
}

impl Default for Active {
    fn default() -> Self {
        Self {
            spec: &Deviations::NONE,
            profile: None,
            claims: None,
            tenant: None,
            hosted_domain: None,
            client_secret: None,
            appsecret: None,
        }
    }
}

impl std::fmt::Debug for Active {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deviations")
            .field("spec", self.spec)
            .field("tenant", &self.tenant)
            .field("hosted_domain", &self.hosted_domain)
            .field("client_secret", &self.client_secret.is_some())
            .field("appsecret_proof", &self.appsecret.is_some())
            .finish()
    }
}

/// The extension points, one method each.
impl Active {
    /// Scope separator: `scope` as this provider wants it, the configured separators
    /// (space or comma) replaced by the provider's. Without a separator of its own,
    /// `scope` itself: the login path of every other client pays nothing for this.
    pub(crate) fn scope(&self, scope: String) -> String {
        match self.spec.scope_separator {
            Some(sep) => scope
                .split([' ', ','])
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(&sep.to_string()),
            None => scope,
        }
    }

    /// Token request body: whether the token request is a JSON object (Notion).
    pub(crate) fn json_token_request(&self) -> bool {
        self.spec.token_request == TokenRequestBody::Json
    }

    /// Computed client secret: the secret to send at `now` (Unix seconds) when the
    /// preset computes one (Apple's JWT); `None` for the settings' own.
    pub(crate) fn client_secret(&self, now: u64) -> Result<Option<Secret>, String> {
        match &self.client_secret {
            Some(source) => source.current(now).map(Some),
            None => Ok(None),
        }
    }

    /// Token response fix-up: the provider's error shapes made RFC 6749 errors, before
    /// the app's `token_response` hook.
    pub(crate) fn fix_token_response(&self, object: &mut Map<String, Value>) {
        if let Some(fix) = self.spec.token_response {
            fix(object);
        }
    }

    /// Token response signature: checks the token response's members `extra` with the
    /// client secret (Salesforce); `Err` says why it is refused.
    pub(crate) fn check_token_signature(
        &self,
        extra: &Claims,
        secret: Option<&Secret>,
    ) -> Result<(), String> {
        match self.spec.token_signature {
            TokenSignature::None => Ok(()),
            TokenSignature::HmacIdIssuedAt => hmac_id_issued_at(extra, secret),
        }
    }

    /// Granted scope: the scope the token holds when the token response has none, from
    /// the callback's `scope` (Strava: the user may have unticked some).
    pub(crate) fn granted_scope(&self, token_scope: &mut Option<String>, callback: Option<&str>) {
        if self.spec.granted_scope == GrantedScope::Callback
            && token_scope.is_none()
            && let Some(granted) = callback
        {
            *token_scope = Some(granted.to_owned());
        }
    }

    /// Callback form: what the callback's form adds to the claims (Apple's `user`).
    pub(crate) fn callback_claims(&self, claims: &mut Claims, user: Option<&str>) {
        if self.spec.callback_form == CallbackForm::AppleUser {
            super::callback_user::merge_name(claims, user);
        }
    }

    /// Userinfo method: how the profile endpoint is called (Dropbox's POST, VK ID's form,
    /// HubSpot's introspection form): the method and the form body, if any. The plain GET
    /// of every other client builds nothing here.
    pub(crate) fn userinfo_call(
        &self,
        access_token: &str,
        client_id: &str,
        client_secret: Option<&Secret>,
    ) -> (Method, Option<Form>) {
        match self.spec.userinfo_method {
            UserinfoMethod::Get => (Method::GET, None),
            UserinfoMethod::Post => (Method::POST, None),
            UserinfoMethod::PostTokenForm => {
                let form = vec![
                    ("client_id".into(), client_id.into()),
                    ("access_token".into(), access_token.into()),
                ];
                (Method::POST, Some(form))
            }
            UserinfoMethod::Introspection => {
                let mut form = vec![
                    ("token".into(), access_token.into()),
                    ("token_type_hint".into(), "access_token".into()),
                    ("client_id".into(), client_id.into()),
                ];
                if let Some(secret) = client_secret {
                    form.push(("client_secret".into(), secret.expose().into()));
                }
                (Method::POST, Some(form))
            }
        }
    }

    /// Userinfo method (answer): refuses an introspection answer that does not say the
    /// token is active (RFC 7662 §2.2: `active` is the one required member, and an
    /// inactive token's other members mean nothing).
    pub(crate) fn check_userinfo(&self, claims: &Claims) -> Result<(), String> {
        match self.spec.userinfo_method {
            UserinfoMethod::Introspection if claims.get("active") != Some(&Value::Bool(true)) => {
                Err("the token introspection answer does not say the token is active".into())
            }
            _ => Ok(()),
        }
    }

    /// Carried parameters (code): the authorization response's parameters the provider
    /// wants back (VK ID's `device_id`), to add to the code's token request and keep in
    /// the token ([`keep_carried`]). Empty, with no allocation, for other providers.
    pub(crate) fn carried_from_callback<'c>(
        &self,
        callback: impl Fn(&str) -> Option<&'c str>,
    ) -> Vec<(String, String)> {
        carried(self.spec.carried_params, callback)
    }

    /// Carried parameters (refresh): the same parameters, from the token being refreshed.
    pub(crate) fn carried_from_token(&self, token: &OAuth2Token) -> Vec<(String, String)> {
        carried(self.spec.carried_params, |name| {
            token.extra.get(name).and_then(Value::as_str)
        })
    }

    /// Unused ID token (dropped): removes the ID token of a provider whose ID tokens are
    /// not the identity (VK ID, PayPal), from every token response, before anything
    /// would validate it.
    pub(crate) fn drop_unused_id_token(&self, token: &mut OAuth2Token) {
        if self.spec.id_token == IdTokenUse::Unused {
            token.id_token = None;
        }
    }

    /// Unused ID token (not required): whether a login whose scope has `openid` must
    /// have an ID token.
    pub(crate) fn requires_id_token(&self) -> bool {
        self.spec.id_token == IdTokenUse::Identity
    }

    /// Profile map: how the provider's profile (userinfo, or the token response that
    /// carries it) becomes the standard claims.
    pub(crate) fn profile_map(&self) -> Option<&'static ProfileMap> {
        self.profile
    }

    /// Extra profile call: where the verified address is when the profile lacks one.
    pub(crate) fn email_lookup(&self) -> Option<&'static EmailLookup> {
        self.spec.email_lookup.as_ref()
    }

    /// API request proof: adds what every API call must carry (Facebook's
    /// `appsecret_proof`); false when there is nothing to add.
    pub(crate) fn prove_api_request(&self, call: &mut ProtectedRequest) -> bool {
        match (&self.appsecret, self.spec.api_request) {
            (Some(key), ApiRequestProof::AppSecretProof) => {
                add_appsecret_proof(key, call);
                true
            }
            (_, ApiRequestProof::OAuthScheme) => oauth_scheme(call),
            _ => false,
        }
    }

    /// Whether API calls need [`Active::prove_api_request`]: read with it, at its one
    /// place, so that other clients build no request view.
    pub(crate) fn proves_api_requests(&self) -> bool {
        self.appsecret.is_some() || self.spec.api_request == ApiRequestProof::OAuthScheme
    }

    /// Metadata issuer: whether discovery metadata fetched for issuer `expected` may name
    /// `named` instead (a multi-tenant provider's `common` metadata names its template).
    pub(crate) fn accepts_metadata_issuer(&self, named: &str, expected: &str) -> bool {
        self.tenant
            .as_ref()
            .is_some_and(|t| t.accepts_metadata_issuer(named, expected))
    }

    /// ID token issuer: the multi-tenant rule an ID token's issuer and `tid` must meet
    /// (Microsoft Entra).
    pub(crate) fn id_token_tenant(&self) -> Option<&TenantPolicy> {
        self.tenant.as_ref()
    }

    /// ID token claim: the Workspace domain the ID token's `hd` must name (Google).
    pub(crate) fn hosted_domain(&self) -> Option<&str> {
        self.hosted_domain.as_deref()
    }

    /// Claims map: the mapping run over the login's checked claims (the ID token's
    /// merged with userinfo), at login and after a refresh.
    pub(crate) fn claims_map(&self) -> Option<&'static ProfileMap> {
        self.claims
    }
}

/// The carried parameters that `value` has, in the order the preset names them.
fn carried<'v>(names: &[&str], value: impl Fn(&str) -> Option<&'v str>) -> Vec<(String, String)> {
    names
        .iter()
        .filter_map(|name| Some(((*name).to_owned(), value(name)?.to_owned())))
        .collect()
}

/// Sends the carried parameters with a token request: added to its form.
pub(crate) fn send_carried(form: &mut Vec<(String, String)>, carried: &[(String, String)]) {
    form.extend(carried.iter().cloned());
}

/// Keeps the carried parameters in the token that the request gave, unless the token
/// response names them itself (its own value is then the one later calls send).
pub(crate) fn keep_carried(token: &mut OAuth2Token, carried: Vec<(String, String)>) {
    for (name, value) in carried {
        token.extra.entry(name).or_insert(Value::String(value));
    }
}

/// The `signature` check of Salesforce's token responses.
fn hmac_id_issued_at(extra: &Claims, secret: Option<&Secret>) -> Result<(), String> {
    let text = |k: &str| match extra.get(k) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let (Some(id), Some(issued_at), Some(signature)) =
        (text("id"), text("issued_at"), text("signature"))
    else {
        return Err("`id`, `issued_at` or `signature` is missing".into());
    };
    let secret = secret.ok_or("no client secret to check it with")?;
    let signature = STANDARD.decode(signature).map_err(|_| "not base64")?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.expose().as_bytes());
    hmac::verify(&key, format!("{id}{issued_at}").as_bytes(), &signature)
        .map_err(|_| "does not match".into())
}

/// Adds `appsecret_proof` for the call's access token (taken from its `Authorization`
/// header), replacing any already there.
fn add_appsecret_proof(key: &hmac::Key, call: &mut ProtectedRequest) {
    let Some(token) = call
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .map(|(_, token)| token.trim().to_owned())
    else {
        return;
    };
    let proof = hex(hmac::sign(key, token.as_bytes()).as_ref());
    let kept: Vec<(String, String)> = call
        .url
        .query_pairs()
        .filter(|(k, _)| k != "appsecret_proof")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    call.url
        .query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair("appsecret_proof", &proof);
}

/// Rewrites `Authorization: Bearer <token>` as `Authorization: OAuth <token>` (Yandex);
/// false when the call carries no bearer token.
fn oauth_scheme(call: &mut ProtectedRequest) -> bool {
    let Some(mut value) = call
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|token| http::HeaderValue::from_str(&format!("OAuth {token}")).ok())
    else {
        return false;
    };
    value.set_sensitive(true);
    call.headers.insert(http::header::AUTHORIZATION, value);
    true
}

/// Lower-case hex.
pub(super) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]])
        .map(char::from)
        .collect()
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
        static COMMA: Deviations = Deviations {
            scope_separator: Some(','),
            ..Deviations::NONE
        };
        let comma = Active {
            spec: &COMMA,
            ..Active::default()
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
            Active::default().scope("openid email".into()),
            "openid email"
        );
    }

    #[test]
    fn proof_is_hex_hmac_sha256() {
        // RFC 4231 test case 2.
        let key = hmac::Key::new(hmac::HMAC_SHA256, b"Jefe");
        assert_eq!(
            hex(hmac::sign(&key, b"what do ya want for nothing?").as_ref()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
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
