//! The client's OpenID Connect checks: its JWKS cache, and ID-token and signed-userinfo
//! validation wired to its settings and provider deviations.
//!
//! The pure parts ([`crate::proto::jose::jwk`], [`crate::proto::jose::jws`],
//! [`crate::proto::oidc::id_token`]) take every input explicitly, clock included; this
//! module adds what needs the client and the network: the provider's key set, fetched once
//! and refetched at most once per [`MIN_REFETCH_INTERVAL`] when a token names a key id the
//! cached set lacks (key rotation). Concurrent callbacks that hit the same unknown key id
//! share one refetch, and a flood of forged key ids cannot make the app hammer the
//! provider.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use http::header::{ACCEPT, HeaderMap, HeaderValue};
use serde_json::Value;

use super::{OAuthClient, Resolved};
use crate::http::Method;
use crate::proto::jose::jwk::{JwkSet, KeySelectError};
use crate::proto::jose::jws::{self, JwsError, UnverifiedJws};
use crate::proto::oidc::id_token::{self, IdTokenError, IdTokenValidation};
use crate::proto::oidc::logout_token::{
    self, LogoutToken, LogoutTokenError, LogoutTokenValidation,
};
use crate::proto::oidc::{check_essential_acr, unverified_claims};
use crate::token::Claims;
use crate::{Error, random};

/// The shortest time between two refetches of a provider's keys caused by unknown key ids.
pub const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(10);

/// What an ID token must match besides the provider's identity.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IdTokenCheck<'a> {
    pub nonce: Option<&'a str>,
    pub access_token: Option<&'a str>,
    /// The authorization code redeemed for the token: checked against `c_hash`.
    pub code: Option<&'a str>,
    /// The `state` of the authorization response: checked against `s_hash`.
    pub state: Option<&'a str>,
    /// The login's `max_age`: `auth_time` must then be present and recent enough.
    pub max_age: Option<u64>,
    /// The `acr` values the login marked essential (see `PendingLogin::essential_acr`).
    pub essential_acr: &'a [String],
}

/// The provider's keys: one fetch, then refetches only for unknown key ids, rate-limited.
#[derive(Debug, Default)]
pub(crate) struct JwksCache {
    keys: RwLock<Option<Arc<JwkSet>>>,
    /// Bumped at every fetch, so a waiter can tell that someone else already refetched.
    generation: AtomicU64,
    /// Serialises fetches; holds when the last unknown-kid refetch happened.
    fetching: tokio::sync::Mutex<Option<Instant>>,
}

impl JwksCache {
    fn current(&self) -> Option<(Arc<JwkSet>, u64)> {
        let keys = self
            .keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()?;
        Some((keys, self.generation.load(Ordering::Acquire)))
    }

    fn store(&self, keys: JwkSet) -> Arc<JwkSet> {
        let keys = Arc::new(keys);
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Some(keys.clone());
        self.generation.fetch_add(1, Ordering::AcqRel);
        keys
    }

    async fn get(
        &self,
        client: &OAuthClient,
        resolved: &Resolved,
    ) -> Result<(Arc<JwkSet>, u64), Error> {
        if let Some(current) = self.current() {
            return Ok(current);
        }
        let _guard = self.fetching.lock().await;
        if let Some(current) = self.current() {
            return Ok(current);
        }
        let keys = self.store(fetch_jwks(client, resolved).await?);
        Ok((keys, self.generation.load(Ordering::Acquire)))
    }

    /// After an unknown key id: the refreshed set, or `None` when the rate limit forbids a
    /// fetch and nobody refetched since `seen`.
    async fn refetch(
        &self,
        client: &OAuthClient,
        resolved: &Resolved,
        seen: u64,
    ) -> Result<Option<Arc<JwkSet>>, Error> {
        let mut last = self.fetching.lock().await;
        if let Some((keys, generation)) = self.current()
            && generation != seen
        {
            return Ok(Some(keys));
        }
        if last.is_some_and(|at| at.elapsed() < MIN_REFETCH_INTERVAL) {
            return Ok(None);
        }
        *last = Some(Instant::now());
        tracing::info!(
            client = client.name(),
            "unknown key id in an ID token: refetching the provider's keys"
        );
        Ok(Some(self.store(fetch_jwks(client, resolved).await?)))
    }
}

async fn fetch_jwks(client: &OAuthClient, resolved: &Resolved) -> Result<JwkSet, Error> {
    let Some(url) = &resolved.jwks_uri else {
        return Err(client.misconfigured("no jwks_uri: set it or server_metadata_url"));
    };
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    let inner = &client.inner;
    let response = inner
        .http
        .send("JWKS fetch", &inner.limits, Method::GET, url, headers, None)
        .await?;
    if !response.is_success() {
        return Err(Error::Jwks(format!(
            "{url} answered HTTP {}",
            response.status
        )));
    }
    JwkSet::from_json(&response.body).map_err(|e| Error::Jwks(e.to_string()))
}

/// Validates an ID token for this client: signature with the provider's keys (or the
/// client secret for an explicitly allowed HS* algorithm), then every claim check of
/// OpenID Connect Core §3.1.3.7.
pub(crate) async fn validate_id_token(
    client: &OAuthClient,
    resolved: &Resolved,
    raw: &str,
    check: IdTokenCheck<'_>,
) -> Result<Claims, Error> {
    let issuer = resolved.issuer.as_deref().ok_or_else(|| {
        client.misconfigured("an ID token needs an issuer: set issuer or server_metadata_url")
    })?;
    let deviations = &client.inner.deviations;
    // A multi-tenant provider: the token must name its own tenant's issuer.
    let tenant = match deviations.id_token_tenant() {
        Some(policy) => {
            let tid = unverified_tid(raw)?;
            let own = policy
                .token_issuer(issuer, &tid)
                .map_err(Error::InvalidIdToken)?;
            Some((policy, tid, own))
        }
        None => None,
    };
    let mut issuers = Vec::with_capacity(1 + resolved.issuer_aliases.len());
    issuers.push(tenant.as_ref().map_or(issuer, |(_, _, own)| own.as_str()));
    issuers.extend(resolved.issuer_aliases.iter().map(String::as_str));
    let settings = client.settings();
    let hmac_secret = hmac_secret(client, resolved);
    let params = IdTokenValidation {
        allowed_algs: &resolved.id_token_algs,
        nonce: check.nonce,
        access_token: check.access_token,
        code: check.code,
        state: check.state,
        max_age: check.max_age,
        require_auth_time: settings.client_kwargs.require_auth_time.unwrap_or(false),
        leeway_secs: leeway(client),
        ..IdTokenValidation::new(&issuers, client.client_id(), random::now())
    };
    let result = with_provider_keys(
        client,
        resolved,
        |e| matches!(e, IdTokenError::KeySelection(KeySelectError::UnknownKid)),
        |keys| id_token::validate(raw, keys, hmac_secret, &params),
    )
    .await?;
    let claims = result.map_err(|e| {
        tracing::warn!(
            client = client.name(),
            reason = e.reason(),
            "ID token refused"
        );
        match e {
            IdTokenError::AuthTooOld { .. } => Error::AuthTooOld(e.to_string()),
            e => Error::InvalidIdToken(e.to_string()),
        }
    })?;
    let claims = claims.into_claims();
    check_essential_acr(&claims, check.essential_acr)?;
    if let Some((policy, tid, _)) = tenant {
        // The issuer was chosen from this same signed payload's `tid`.
        if claims.get("tid").and_then(Value::as_str) != Some(tid.as_str()) {
            return Err(Error::InvalidIdToken(
                "`tid` changed under validation".into(),
            ));
        }
        if !policy.allows(&tid) {
            tracing::warn!(client = client.name(), tenant = %tid, "tenant not allowed");
            return Err(Error::TenantNotAllowed { tenant: tid });
        }
    }
    if let Some(domain) = deviations.hosted_domain() {
        let hd = claims.get("hd").and_then(Value::as_str);
        if !hd.is_some_and(|hd| hd.eq_ignore_ascii_case(domain)) {
            return Err(Error::HostedDomainMismatch {
                expected: domain.to_owned(),
                actual: hd.map(str::to_owned),
            });
        }
    }
    Ok(claims)
}

/// The client secret's bytes when an `HS*` algorithm is allowed for the provider's JWTs.
fn hmac_secret<'a>(client: &'a OAuthClient, resolved: &Resolved) -> Option<&'a [u8]> {
    resolved
        .id_token_algs
        .iter()
        .any(|a| a.is_symmetric())
        .then(|| {
            client
                .settings()
                .client_secret
                .as_ref()
                .map(|s| s.expose().as_bytes())
        })
        .flatten()
}

/// The clock leeway for the provider's JWTs, in seconds.
fn leeway(client: &OAuthClient) -> u64 {
    client
        .settings()
        .client_kwargs
        .leeway
        .unwrap_or(id_token::DEFAULT_LEEWAY_SECS)
}

/// Runs `check` with the provider's keys, and once more with a refetched set when it fails
/// for a key id the cached set lacks (`unknown_kid`), within the refetch rate limit.
async fn with_provider_keys<T, E>(
    client: &OAuthClient,
    resolved: &Resolved,
    unknown_kid: impl Fn(&E) -> bool,
    check: impl Fn(&JwkSet) -> Result<T, E>,
) -> Result<Result<T, E>, Error> {
    let only_symmetric = resolved.id_token_algs.iter().all(|a| a.is_symmetric());
    let (keys, generation) = if only_symmetric {
        (Arc::new(JwkSet::from_keys(Vec::new())), 0)
    } else {
        client.inner.jwks.get(client, resolved).await?
    };
    match check(&keys) {
        Err(e) if unknown_kid(&e) => {
            match client
                .inner
                .jwks
                .refetch(client, resolved, generation)
                .await?
            {
                Some(fresh) => Ok(check(&fresh)),
                None => Ok(Err(e)),
            }
        }
        other => Ok(other),
    }
}

impl OAuthClient {
    /// Validates a back-channel logout token this provider sent (OpenID Connect
    /// Back-Channel Logout 1.0 §2.6; [`logout_token`] lists the checks): its signature
    /// with the provider's keys and the ID tokens' algorithms, `iss` and `aud`, a recent
    /// `iat`, the logout event, `sid` or `sub`, and no `nonce`. Its `jti` is the caller's
    /// to use once. A refused token is [`Error::InvalidLogoutToken`] (a 400).
    pub async fn validate_logout_token(&self, raw: &str) -> Result<LogoutToken, Error> {
        let resolved = self.resolved().await?;
        let issuer = resolved.issuer.as_deref().ok_or_else(|| {
            self.misconfigured("a logout token needs an issuer: set issuer or server_metadata_url")
        })?;
        let mut issuers = vec![issuer];
        issuers.extend(resolved.issuer_aliases.iter().map(String::as_str));
        let params = LogoutTokenValidation {
            issuers: &issuers,
            client_id: self.client_id(),
            allowed_algs: &resolved.id_token_algs,
            now: random::now(),
            leeway_secs: leeway(self),
            max_age_secs: logout_token::DEFAULT_MAX_AGE_SECS,
        };
        let hmac_secret = hmac_secret(self, &resolved);
        let unknown_kid = |e: &LogoutTokenError| {
            matches!(
                e,
                LogoutTokenError::Jws(JwsError::KeySelection(KeySelectError::UnknownKid))
            )
        };
        let check = |keys: &JwkSet| logout_token::validate(raw, keys, hmac_secret, &params);
        let result = with_provider_keys(self, &resolved, unknown_kid, check).await?;
        result.map_err(|e| {
            tracing::warn!(client = self.name(), reason = %e, "logout token refused");
            Error::from(e)
        })
    }
}

/// A userinfo response signed as a JWT (`application/jwt`, OpenID Connect Core §5.3.2):
/// its signature verified with the provider's keys and the ID tokens' algorithm
/// allow-list, `iss` one of the provider's issuers and `aud` naming this client (both
/// required: a signed response MUST carry them), `exp` and `nbf` honoured when present.
/// The `sub` is compared with the ID token's by the caller, as for a JSON response.
pub(crate) async fn validate_userinfo_jwt(
    client: &OAuthClient,
    resolved: &Resolved,
    body: &[u8],
) -> Result<Claims, Error> {
    let invalid = |why: String| Error::InvalidUserinfo(format!("signed response: {why}"));
    let raw = std::str::from_utf8(body)
        .map_err(|_| invalid("not UTF-8".into()))?
        .trim();
    let jws = UnverifiedJws::parse(raw).map_err(|e| invalid(e.to_string()))?;
    let hmac_secret = hmac_secret(client, resolved);
    let payload = with_provider_keys(
        client,
        resolved,
        |e| matches!(e, JwsError::KeySelection(KeySelectError::UnknownKid)),
        |keys| jws.verify(keys, hmac_secret, &resolved.id_token_algs),
    )
    .await?
    .map_err(|e| {
        tracing::warn!(
            client = client.name(),
            reason = e.reason(),
            "signed userinfo refused"
        );
        invalid(e.to_string())
    })?;
    let claims = jws::parse_object(&payload)
        .map_err(|_| invalid("the payload is not a JSON object".into()))?;
    let issuer_ok = claims
        .get("iss")
        .and_then(Value::as_str)
        .is_some_and(|iss| {
            resolved.issuer.as_deref() == Some(iss)
                || resolved.issuer_aliases.iter().any(|a| a == iss)
        });
    if !issuer_ok {
        return Err(invalid(
            "`iss` is absent or not the provider's issuer".into(),
        ));
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(aud)) => aud == client.client_id(),
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(client.client_id())),
        _ => false,
    };
    if !aud_ok {
        return Err(invalid(
            "`aud` is absent or does not name this client".into(),
        ));
    }
    let now = random::now() as f64;
    let leeway = leeway(client) as f64;
    let time = |name: &str| match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(_) => Err(invalid(format!("`{name}` is not a number"))),
    };
    if time("exp")?.is_some_and(|exp| now >= exp + leeway) {
        return Err(invalid("`exp` has passed".into()));
    }
    if time("nbf")?.is_some_and(|nbf| nbf > now + leeway) {
        return Err(invalid("`nbf` is in the future".into()));
    }
    Ok(claims)
}

/// The `tid` claim of a not yet validated ID token: which tenant's issuer it must name.
/// Validation then checks the signature over this same payload.
fn unverified_tid(raw: &str) -> Result<String, Error> {
    let claims = unverified_claims(raw)
        .map_err(|_| Error::InvalidIdToken("the ID token is malformed".into()))?;
    match claims.get("tid") {
        Some(Value::String(tid)) => Ok(tid.clone()),
        _ => Err(Error::InvalidIdToken(
            "the ID token has no `tid` claim naming its tenant".into(),
        )),
    }
}
