//! ID token validation (OpenID Connect Core 1.0 §3.1.3.7, §3.2.2.11, §3.3.2.12).
//!
//! [`validate`] takes the compact ID token from the token endpoint, the provider's
//! pre-parsed [`JwkSet`], the client secret for `HS*` providers, and an
//! [`IdTokenValidation`] describing what the application expects. It returns the claims
//! only when every check below passes:
//!
//! 1. The JWS is well formed, not `alg: none`, its `alg` is in the allow-list, it has no
//!    `crit` header, and its `typ` (if any) does not name another kind of JWT
//!    (`at+jwt`, `logout+jwt`, … — RFC 8725 §3.11 explicit typing, so that an access token
//!    or logout token signed by the same provider cannot be replayed as an ID token).
//! 2. The signature verifies with the key chosen by `kid` and by algorithm family (see
//!    [`crate::proto::jose::jws`] for why the key family must follow `alg`, why `crit` is refused and why
//!    keys embedded in the token are ignored).
//! 3. `iss` is exactly one of the expected issuers.
//! 4. `aud` (a string or an array) contains the client id; with several audiences `azp` is
//!    required; when `azp` is present it must be the client id.
//! 5. `exp` is a number and `now < exp + leeway`; `iat` is a number and
//!    `iat <= now + leeway`; `nbf`, when present, is a number and `nbf <= now + leeway`
//!    (RFC 7519 §4.1.5); `sub` is a non-empty string.
//! 6. If a nonce was sent, the `nonce` claim is present and equal (constant-time compare).
//! 7. If an access token (or code, or state) is given and the token carries `at_hash` (or
//!    `c_hash`, or `s_hash`), it must equal the left half of the hash of that value, using
//!    the hash of the signature algorithm (SHA-512 for Ed25519).
//! 8. If `max_age` was requested, `auth_time` is present and not older than `max_age`;
//!    with [`IdTokenValidation::require_auth_time`] it must be present. When present it is
//!    a number.
//! 9. `amr`, when present, is an array of strings (OpenID Connect Core §2).
//!
//! There is no hidden clock: the caller passes `now`, which keeps tests deterministic and
//! lets the application use one time source. Errors name the claim and what was expected,
//! never the token, the nonce, or any secret.

use std::fmt;

use aws_lc_rs::{constant_time, digest};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::proto::jose::jwk::{JwkSet, KeySelectError};
use crate::proto::jose::jws::{self, Algorithm, JwsError, UnverifiedJws};

/// Default clock-skew allowance, in seconds.
pub const DEFAULT_LEEWAY_SECS: u64 = 60;

/// What the application expects of an ID token.
///
/// Build with [`IdTokenValidation::new`] and adjust fields with struct-update syntax or
/// direct assignment.
#[derive(Clone, Copy, Debug)]
pub struct IdTokenValidation<'a> {
    /// Accepted `iss` values, compared exactly (Google, for example, uses both
    /// `accounts.google.com` and `https://accounts.google.com`).
    pub issuers: &'a [&'a str],
    /// This client's id: must be in `aud`, and equal `azp` when that is present.
    pub client_id: &'a str,
    /// Signature algorithms accepted (default: `RS256` only, the OpenID Connect default).
    pub allowed_algs: &'a [Algorithm],
    /// The nonce sent in the authentication request, if any.
    pub nonce: Option<&'a str>,
    /// The access token returned with the ID token, to check `at_hash` against.
    pub access_token: Option<&'a str>,
    /// The authorization code the ID token was issued for, to check `c_hash` when the
    /// token carries one.
    pub code: Option<&'a str>,
    /// The `state` of the authorization response, to check `s_hash` when the token carries
    /// one (FAPI 1.0 Advanced §5.1).
    pub state: Option<&'a str>,
    /// Clock-skew allowance in seconds (default [`DEFAULT_LEEWAY_SECS`]).
    pub leeway_secs: u64,
    /// Current time, in seconds since the Unix epoch.
    pub now: u64,
    /// The `max_age` sent in the authentication request, if any: `auth_time` is then
    /// required and must be at most this many seconds old.
    pub max_age: Option<u64>,
    /// Whether `auth_time` must be present even without `max_age` (the client metadata
    /// `require_auth_time` of OpenID Connect Dynamic Registration §2).
    pub require_auth_time: bool,
}

impl<'a> IdTokenValidation<'a> {
    /// Expectations with defaults: `RS256` only, no nonce, no access token, 60 s leeway.
    pub fn new(issuers: &'a [&'a str], client_id: &'a str, now: u64) -> Self {
        IdTokenValidation {
            issuers,
            client_id,
            allowed_algs: &[Algorithm::RS256],
            nonce: None,
            access_token: None,
            code: None,
            state: None,
            leeway_secs: DEFAULT_LEEWAY_SECS,
            now,
            max_age: None,
            require_auth_time: false,
        }
    }
}

/// Why an ID token was refused. One variant per reason; see [`IdTokenError::reason`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdTokenError {
    /// Longer than [`jws::MAX_TOKEN_LEN`].
    #[error("ID token is longer than {} bytes", jws::MAX_TOKEN_LEN)]
    TooLarge,
    /// Not a well-formed compact JWS, or the payload is not a JSON object.
    #[error("malformed ID token: {0}")]
    Malformed(&'static str),
    /// `alg: none`.
    #[error("unsigned ID tokens (`alg: none`) are never accepted")]
    NoneAlgorithm,
    /// The `alg` is not one this library implements.
    #[error("the ID token's `alg` is not a supported signature algorithm")]
    UnsupportedAlgorithm,
    /// The `alg` is not in [`IdTokenValidation::allowed_algs`].
    #[error("ID token algorithm {0} is not among the allowed algorithms")]
    AlgorithmNotAllowed(Algorithm),
    /// The header has a `crit` member.
    #[error("the ID token has a `crit` header; no JWS extensions are supported")]
    UnknownCritical,
    /// The header `typ` names another kind of JWT.
    #[error("the ID token's header `typ` names a different kind of token")]
    WrongTokenType,
    /// No single key could be chosen; `UnknownKid` means the JWK Set may need one refetch.
    #[error(transparent)]
    KeySelection(KeySelectError),
    /// The chosen key does not fit the algorithm.
    #[error("the key's type does not fit algorithm {0}")]
    KeyMismatch(Algorithm),
    /// The shared secret is too short for the HMAC algorithm.
    #[error("the client secret is shorter than {0} requires")]
    WeakHmacKey(Algorithm),
    /// The signature does not verify.
    #[error("ID token signature verification failed")]
    BadSignature,
    /// A required claim is absent.
    #[error("ID token lacks the required `{0}` claim")]
    MissingClaim(&'static str),
    /// A claim has the wrong JSON type (or is an empty `sub`).
    #[error("ID token claim `{0}` has the wrong type or an empty value")]
    InvalidClaim(&'static str),
    /// `iss` is not one of the expected issuers.
    #[error("ID token `iss` is not one of the expected issuers {expected:?}")]
    IssuerMismatch {
        /// The issuers that would have been accepted.
        expected: Vec<String>,
    },
    /// `aud` does not contain the client id.
    #[error("ID token `aud` does not contain the client id `{client_id}`")]
    AudienceMismatch {
        /// The expected client id.
        client_id: String,
    },
    /// Several audiences but no `azp`.
    #[error("ID token has several audiences but no `azp` claim (expected the client id)")]
    AzpMissing,
    /// `azp` is not the client id.
    #[error("ID token `azp` is not the client id `{client_id}`")]
    AzpMismatch {
        /// The expected client id.
        client_id: String,
    },
    /// `exp` has passed, beyond the leeway.
    #[error("ID token expired: `exp` {exp} is not after now ({now}) minus leeway {leeway}s")]
    Expired {
        /// The token's `exp` (rounded down).
        exp: i64,
        /// The `now` used.
        now: u64,
        /// The leeway used.
        leeway: u64,
    },
    /// `iat` is in the future, beyond the leeway.
    #[error(
        "ID token issued in the future: `iat` {iat} is after now ({now}) plus leeway {leeway}s"
    )]
    IssuedInFuture {
        /// The token's `iat` (rounded down).
        iat: i64,
        /// The `now` used.
        now: u64,
        /// The leeway used.
        leeway: u64,
    },
    /// `nbf` is in the future, beyond the leeway: the token is not valid yet.
    #[error("ID token not valid yet: `nbf` {nbf} is after now ({now}) plus leeway {leeway}s")]
    NotYetValid {
        /// The token's `nbf` (rounded down).
        nbf: i64,
        /// The `now` used.
        now: u64,
        /// The leeway used.
        leeway: u64,
    },
    /// A nonce was sent but the token has no `nonce` claim.
    #[error("ID token lacks the `nonce` claim, but a nonce was sent in the request")]
    NonceMissing,
    /// The `nonce` claim differs from the nonce sent.
    #[error("ID token `nonce` does not match the nonce sent in the request")]
    NonceMismatch,
    /// `at_hash` does not match the access token.
    #[error("ID token `at_hash` does not match the access token")]
    AtHashMismatch,
    /// `c_hash` does not match the authorization code.
    #[error("ID token `c_hash` does not match the authorization code")]
    CHashMismatch,
    /// `s_hash` does not match the state.
    #[error("ID token `s_hash` does not match the state")]
    SHashMismatch,
    /// `auth_time` is older than the requested `max_age`.
    #[error("ID token `auth_time` {auth_time} is older than max_age {max_age}s (now {now})")]
    AuthTooOld {
        /// The token's `auth_time` (rounded down).
        auth_time: i64,
        /// The requested `max_age`.
        max_age: u64,
        /// The `now` used.
        now: u64,
    },
}

impl IdTokenError {
    /// Stable snake_case name of the reason, for metrics and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            IdTokenError::TooLarge => "too_large",
            IdTokenError::Malformed(_) => "malformed",
            IdTokenError::NoneAlgorithm => "none_algorithm",
            IdTokenError::UnsupportedAlgorithm => "unsupported_algorithm",
            IdTokenError::AlgorithmNotAllowed(_) => "algorithm_not_allowed",
            IdTokenError::UnknownCritical => "unknown_critical",
            IdTokenError::WrongTokenType => "wrong_token_type",
            IdTokenError::KeySelection(e) => e.reason(),
            IdTokenError::KeyMismatch(_) => "key_mismatch",
            IdTokenError::WeakHmacKey(_) => "weak_hmac_key",
            IdTokenError::BadSignature => "bad_signature",
            IdTokenError::MissingClaim(_) => "missing_claim",
            IdTokenError::InvalidClaim(_) => "invalid_claim",
            IdTokenError::IssuerMismatch { .. } => "issuer_mismatch",
            IdTokenError::AudienceMismatch { .. } => "audience_mismatch",
            IdTokenError::AzpMissing => "azp_missing",
            IdTokenError::AzpMismatch { .. } => "azp_mismatch",
            IdTokenError::Expired { .. } => "expired",
            IdTokenError::IssuedInFuture { .. } => "issued_in_future",
            IdTokenError::NotYetValid { .. } => "not_yet_valid",
            IdTokenError::NonceMissing => "nonce_missing",
            IdTokenError::NonceMismatch => "nonce_mismatch",
            IdTokenError::AtHashMismatch => "at_hash_mismatch",
            IdTokenError::CHashMismatch => "c_hash_mismatch",
            IdTokenError::SHashMismatch => "s_hash_mismatch",
            IdTokenError::AuthTooOld { .. } => "auth_too_old",
        }
    }
}

impl From<JwsError> for IdTokenError {
    fn from(e: JwsError) -> Self {
        match e {
            JwsError::TooLarge => IdTokenError::TooLarge,
            JwsError::Malformed(what) => IdTokenError::Malformed(what),
            JwsError::NoneAlgorithm => IdTokenError::NoneAlgorithm,
            JwsError::UnsupportedAlgorithm => IdTokenError::UnsupportedAlgorithm,
            JwsError::AlgorithmNotAllowed(a) => IdTokenError::AlgorithmNotAllowed(a),
            JwsError::UnknownCritical => IdTokenError::UnknownCritical,
            JwsError::KeySelection(k) => IdTokenError::KeySelection(k),
            JwsError::KeyMismatch(a) => IdTokenError::KeyMismatch(a),
            JwsError::WeakHmacKey(a) => IdTokenError::WeakHmacKey(a),
            JwsError::BadSignature => IdTokenError::BadSignature,
        }
    }
}

/// The claims of a validated ID token.
///
/// `Debug` shows the standard identifiers and the names of the other claims, not their
/// values (they may hold personal data or the nonce).
#[derive(Clone)]
pub struct IdTokenClaims {
    claims: Map<String, Value>,
    alg: Algorithm,
    kid: Option<String>,
    iss: String,
    sub: String,
    aud: Vec<String>,
    exp: i64,
    iat: i64,
    nonce: Option<String>,
    azp: Option<String>,
    auth_time: Option<i64>,
}

impl fmt::Debug for IdTokenClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdTokenClaims")
            .field("iss", &self.iss)
            .field("sub", &self.sub)
            .field("aud", &self.aud)
            .field("exp", &self.exp)
            .field("iat", &self.iat)
            .field("alg", &self.alg)
            .field("claims", &self.claims.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl IdTokenClaims {
    /// Issuer (`iss`).
    pub fn iss(&self) -> &str {
        &self.iss
    }

    /// Subject (`sub`): with `iss`, the stable identifier of the user.
    pub fn sub(&self) -> &str {
        &self.sub
    }

    /// Audiences (`aud`), as a list even when the token had a single string.
    pub fn aud(&self) -> &[String] {
        &self.aud
    }

    /// Expiry (`exp`), seconds since the epoch, rounded down.
    pub fn exp(&self) -> i64 {
        self.exp
    }

    /// Issued-at (`iat`), seconds since the epoch, rounded down.
    pub fn iat(&self) -> i64 {
        self.iat
    }

    /// The `nonce` claim, if present.
    pub fn nonce(&self) -> Option<&str> {
        self.nonce.as_deref()
    }

    /// Authorized party (`azp`), if present.
    pub fn azp(&self) -> Option<&str> {
        self.azp.as_deref()
    }

    /// Time of authentication (`auth_time`), if present, rounded down.
    pub fn auth_time(&self) -> Option<i64> {
        self.auth_time
    }

    /// The algorithm the token was signed with.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The header `kid`, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// One claim by name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.claims.get(name)
    }

    /// All claims.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// All claims, by value.
    pub fn into_claims(self) -> Map<String, Value> {
        self.claims
    }
}

/// Validates an ID token and returns its claims.
///
/// `keys` is the provider's JWK Set; `hmac_secret` is the client secret's bytes for
/// providers that sign with `HS*` (only used if such an algorithm is allowed and named by
/// the token). See the [module docs](self) for the exact checks.
pub fn validate(
    token: &str,
    keys: &JwkSet,
    hmac_secret: Option<&[u8]>,
    params: &IdTokenValidation<'_>,
) -> Result<IdTokenClaims, IdTokenError> {
    let jws = UnverifiedJws::parse(token)?;
    if jws.header().typ().is_some_and(names_other_jwt_type) {
        return Err(IdTokenError::WrongTokenType);
    }
    let payload = jws.verify(keys, hmac_secret, params.allowed_algs)?;
    let claims = jws::parse_object(&payload).map_err(|e| match e {
        jws::ObjectError::Duplicate => IdTokenError::Malformed("duplicate claim"),
        jws::ObjectError::Invalid => IdTokenError::Malformed("payload is not a JSON object"),
    })?;
    let alg = jws.header().alg();
    let now = params.now;
    let leeway = params.leeway_secs;

    let iss = required_str(&claims, "iss")?;
    if !params.issuers.contains(&iss) {
        return Err(IdTokenError::IssuerMismatch {
            expected: params.issuers.iter().map(|s| (*s).to_owned()).collect(),
        });
    }

    let aud: Vec<String> = match claims.get("aud") {
        None => return Err(IdTokenError::MissingClaim("aud")),
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(list)) => list
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or(IdTokenError::InvalidClaim("aud"))?,
        Some(_) => return Err(IdTokenError::InvalidClaim("aud")),
    };
    if !aud.iter().any(|a| a == params.client_id) {
        return Err(IdTokenError::AudienceMismatch {
            client_id: params.client_id.to_owned(),
        });
    }
    let azp = optional_str(&claims, "azp")?;
    match azp {
        None if aud.len() > 1 => return Err(IdTokenError::AzpMissing),
        Some(azp) if azp != params.client_id => {
            return Err(IdTokenError::AzpMismatch {
                client_id: params.client_id.to_owned(),
            });
        }
        _ => {}
    }

    let exp = required_number(&claims, "exp")?;
    if now as f64 >= exp + leeway as f64 {
        return Err(IdTokenError::Expired {
            exp: exp.floor() as i64,
            now,
            leeway,
        });
    }
    let iat = required_number(&claims, "iat")?;
    if iat > (now as f64) + leeway as f64 {
        return Err(IdTokenError::IssuedInFuture {
            iat: iat.floor() as i64,
            now,
            leeway,
        });
    }
    if let Some(nbf) = optional_number(&claims, "nbf")?
        && nbf > (now as f64) + leeway as f64
    {
        return Err(IdTokenError::NotYetValid {
            nbf: nbf.floor() as i64,
            now,
            leeway,
        });
    }

    let sub = required_str(&claims, "sub")?;
    if sub.is_empty() {
        return Err(IdTokenError::InvalidClaim("sub"));
    }

    let nonce = optional_str(&claims, "nonce")?;
    if let Some(expected) = params.nonce {
        let got = nonce.ok_or(IdTokenError::NonceMissing)?;
        constant_time::verify_slices_are_equal(got.as_bytes(), expected.as_bytes())
            .map_err(|_| IdTokenError::NonceMismatch)?;
    }

    let auth_time = optional_number(&claims, "auth_time")?;
    if params.require_auth_time && auth_time.is_none() {
        return Err(IdTokenError::MissingClaim("auth_time"));
    }
    if let Some(max_age) = params.max_age {
        let auth_time = auth_time.ok_or(IdTokenError::MissingClaim("auth_time"))?;
        if now as f64 > auth_time + max_age as f64 + leeway as f64 {
            return Err(IdTokenError::AuthTooOld {
                auth_time: auth_time.floor() as i64,
                max_age,
                now,
            });
        }
    }

    if let (Some(access_token), Some(claim)) =
        (params.access_token, optional_str(&claims, "at_hash")?)
    {
        check_half_hash(alg, access_token, claim).map_err(|()| IdTokenError::AtHashMismatch)?;
    }
    if let (Some(code), Some(claim)) = (params.code, optional_str(&claims, "c_hash")?) {
        check_half_hash(alg, code, claim).map_err(|()| IdTokenError::CHashMismatch)?;
    }
    if let (Some(state), Some(claim)) = (params.state, optional_str(&claims, "s_hash")?) {
        check_half_hash(alg, state, claim).map_err(|()| IdTokenError::SHashMismatch)?;
    }
    check_amr(&claims)?;

    Ok(IdTokenClaims {
        alg,
        kid: jws.header().kid().map(str::to_owned),
        iss: iss.to_owned(),
        sub: sub.to_owned(),
        aud,
        exp: exp.floor() as i64,
        iat: iat.floor() as i64,
        nonce: nonce.map(str::to_owned),
        azp: azp.map(str::to_owned),
        auth_time: auth_time.map(|t| t.floor() as i64),
        claims,
    })
}

/// The `at_hash` value for an access token issued with an ID token signed with `alg`:
/// base64url of the left half of the hash of its ASCII bytes.
pub fn at_hash(alg: Algorithm, access_token: &str) -> String {
    half_hash(alg, access_token)
}

/// The `c_hash` value for an authorization code issued with an ID token signed with `alg`.
pub fn c_hash(alg: Algorithm, code: &str) -> String {
    half_hash(alg, code)
}

fn half_hash(alg: Algorithm, value: &str) -> String {
    let d = digest::digest(alg.hash(), value.as_bytes());
    let bytes = d.as_ref();
    URL_SAFE_NO_PAD.encode(&bytes[..bytes.len() / 2])
}

fn check_half_hash(alg: Algorithm, value: &str, claim: &str) -> Result<(), ()> {
    let expected = half_hash(alg, value);
    constant_time::verify_slices_are_equal(expected.as_bytes(), claim.as_bytes()).map_err(|_| ())
}

/// OpenID Connect Core §2: `amr` is a JSON array of strings; a provider sending anything
/// else would have an application that reads it see something other than what was meant.
fn check_amr(claims: &Map<String, Value>) -> Result<(), IdTokenError> {
    match claims.get("amr") {
        None => Ok(()),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => Ok(()),
        Some(_) => Err(IdTokenError::InvalidClaim("amr")),
    }
}

/// Whether a header `typ` explicitly names a JWT kind that is not an ID token, such as
/// `at+jwt` (RFC 9068) or `logout+jwt` (Back-Channel Logout).
fn names_other_jwt_type(typ: &str) -> bool {
    let lower = typ.to_ascii_lowercase();
    let media = lower.strip_prefix("application/").unwrap_or(&lower);
    media.ends_with("+jwt") && media != "id_token+jwt"
}

fn required_str<'a>(
    claims: &'a Map<String, Value>,
    name: &'static str,
) -> Result<&'a str, IdTokenError> {
    optional_str(claims, name)?.ok_or(IdTokenError::MissingClaim(name))
}

fn optional_str<'a>(
    claims: &'a Map<String, Value>,
    name: &'static str,
) -> Result<Option<&'a str>, IdTokenError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(IdTokenError::InvalidClaim(name)),
    }
}

fn required_number(claims: &Map<String, Value>, name: &'static str) -> Result<f64, IdTokenError> {
    optional_number(claims, name)?.ok_or(IdTokenError::MissingClaim(name))
}

fn optional_number(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<f64>, IdTokenError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(v) if v.is_finite() => Ok(Some(v)),
            _ => Err(IdTokenError::InvalidClaim(name)),
        },
        Some(_) => Err(IdTokenError::InvalidClaim(name)),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _};
    use serde_json::json;

    use super::*;
    use crate::proto::jose::jwk::Jwk;

    const ISS: &str = "https://issuer.example";
    const CLIENT: &str = "client-123";
    const NOW: u64 = 1_700_000_000;

    /// Test-only signing keys.
    struct Keys {
        rsa: aws_lc_rs::rsa::KeyPair,
        p256: EcdsaKeyPair,
        p384: EcdsaKeyPair,
        ed: Ed25519KeyPair,
    }

    fn keys() -> &'static Keys {
        static KEYS: OnceLock<Keys> = OnceLock::new();
        KEYS.get_or_init(|| Keys {
            rsa: aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap(),
            p256: EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap(),
            p384: EcdsaKeyPair::generate(&signature::ECDSA_P384_SHA384_FIXED_SIGNING).unwrap(),
            ed: Ed25519KeyPair::generate().unwrap(),
        })
    }

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The public halves as a JWK Set document, as a provider would serve it.
    fn jwks() -> JwkSet {
        let k = keys();
        let rsa = k.rsa.public_key();
        let p256 = k.p256.public_key().as_ref();
        let p384 = k.p384.public_key().as_ref();
        let doc = json!({"keys": [
            {"kty": "RSA", "kid": "rsa", "use": "sig",
             "n": b64(rsa.modulus().big_endian_without_leading_zero()),
             "e": b64(rsa.exponent().big_endian_without_leading_zero())},
            {"kty": "EC", "kid": "p256", "crv": "P-256", "x": b64(&p256[1..33]), "y": b64(&p256[33..])},
            {"kty": "EC", "kid": "p384", "crv": "P-384", "x": b64(&p384[1..49]), "y": b64(&p384[49..])},
            {"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": b64(k.ed.public_key().as_ref())},
        ]});
        JwkSet::from_json(doc.to_string().as_bytes()).unwrap()
    }

    /// Signs `claims` with a header built from `header`; the key is chosen by `alg`.
    fn sign_with_header(header: &Value, claims: &Value) -> String {
        let k = keys();
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let msg = input.as_bytes();
        let rng = SystemRandom::new();
        let rsa = |enc: &'static dyn signature::RsaEncoding| {
            let mut sig = vec![0; k.rsa.public_modulus_len()];
            k.rsa.sign(enc, &rng, msg, &mut sig).unwrap();
            sig
        };
        let sig = match header["alg"].as_str().unwrap() {
            "RS256" => rsa(&signature::RSA_PKCS1_SHA256),
            "RS384" => rsa(&signature::RSA_PKCS1_SHA384),
            "PS256" => rsa(&signature::RSA_PSS_SHA256),
            "PS512" => rsa(&signature::RSA_PSS_SHA512),
            "ES256" => k.p256.sign(&rng, msg).unwrap().as_ref().to_vec(),
            "ES384" => k.p384.sign(&rng, msg).unwrap().as_ref().to_vec(),
            "EdDSA" => k.ed.sign(msg).as_ref().to_vec(),
            "HS256" => {
                let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, SECRET);
                aws_lc_rs::hmac::sign(&key, msg).as_ref().to_vec()
            }
            other => panic!("test signer has no {other}"),
        };
        format!("{input}.{}", b64(&sig))
    }

    fn sign(alg: &str, claims: &Value) -> String {
        let kid = match alg {
            "ES256" => "p256",
            "ES384" => "p384",
            "EdDSA" => "ed",
            _ => "rsa",
        };
        sign_with_header(&json!({"alg": alg, "kid": kid, "typ": "JWT"}), claims)
    }

    const SECRET: &[u8] = b"a client secret of at least thirty-two bytes";
    const ACCESS_TOKEN: &str = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";

    fn claims() -> Value {
        json!({
            "iss": ISS,
            "sub": "248289761001",
            "aud": CLIENT,
            "exp": NOW + 600,
            "iat": NOW - 5,
            "nonce": "n-0S6_WzA2Mj",
            "auth_time": NOW - 100,
            "email": "jane@example.org",
        })
    }

    fn with(mut base: Value, changes: Value) -> Value {
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                base.as_object_mut().unwrap().remove(k);
            } else {
                base[k] = v.clone();
            }
        }
        base
    }

    const ALL: &[Algorithm] = &Algorithm::ALL;

    fn params() -> IdTokenValidation<'static> {
        IdTokenValidation {
            allowed_algs: ALL,
            nonce: Some("n-0S6_WzA2Mj"),
            ..IdTokenValidation::new(&[ISS, "issuer.example"], CLIENT, NOW)
        }
    }

    fn check(token: &str) -> Result<IdTokenClaims, IdTokenError> {
        validate(token, &jwks(), None, &params())
    }

    fn rejected(claims: Value) -> IdTokenError {
        check(&sign("RS256", &claims)).unwrap_err()
    }

    #[test]
    fn spec_hash_vectors() {
        // OpenID Connect Core, Appendix A.
        assert_eq!(
            at_hash(Algorithm::RS256, ACCESS_TOKEN),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
        assert_eq!(
            c_hash(
                Algorithm::RS256,
                "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk"
            ),
            "LDktKdoQak3Pk0cnXxCltA"
        );
        assert_eq!(at_hash(Algorithm::ES384, "x").len(), 32);
        assert_eq!(at_hash(Algorithm::EdDSA, "x").len(), 43);
    }

    #[test]
    fn one_valid_token_per_family() {
        for alg in [
            "RS256", "RS384", "PS256", "PS512", "ES256", "ES384", "EdDSA",
        ] {
            let c = check(&sign(alg, &claims())).unwrap_or_else(|e| panic!("{alg}: {e}"));
            assert_eq!(c.algorithm().name(), alg);
            assert_eq!(c.iss(), ISS);
            assert_eq!(c.sub(), "248289761001");
            assert_eq!(c.aud(), [CLIENT.to_owned()]);
            assert_eq!(c.exp(), (NOW + 600) as i64);
            assert_eq!(c.iat(), (NOW - 5) as i64);
            assert_eq!(c.nonce(), Some("n-0S6_WzA2Mj"));
            assert_eq!(c.get("email"), Some(&json!("jane@example.org")));
        }
    }

    #[test]
    fn hs256_with_client_secret() {
        let token = sign_with_header(&json!({"alg": "HS256"}), &claims());
        let ok = validate(&token, &JwkSet::default(), Some(SECRET), &params()).unwrap();
        assert_eq!(ok.algorithm(), Algorithm::HS256);
        let err = validate(
            &token,
            &JwkSet::default(),
            Some(b"another secret of thirty-two bytes!!"),
            &params(),
        );
        assert_eq!(err.unwrap_err(), IdTokenError::BadSignature);
        // Equally via an explicitly built set.
        let set = JwkSet::from_keys(vec![Jwk::from_shared_secret(SECRET)]);
        assert!(validate(&token, &set, None, &params()).is_ok());
    }

    #[test]
    fn bad_signature() {
        let token = sign("RS256", &claims());
        let (input, _) = token.rsplit_once('.').unwrap();
        let other = sign("RS256", &with(claims(), json!({"sub": "someone-else"})));
        let (_, other_sig) = other.rsplit_once('.').unwrap();
        let forged = format!("{input}.{other_sig}");
        assert_eq!(check(&forged).unwrap_err(), IdTokenError::BadSignature);
    }

    #[test]
    fn issuer_checks() {
        // Both spellings listed are accepted; anything else is not.
        assert!(
            check(&sign(
                "RS256",
                &with(claims(), json!({"iss": "issuer.example"}))
            ))
            .is_ok()
        );
        let e = rejected(with(claims(), json!({"iss": "https://issuer.example/"})));
        assert_eq!(e.reason(), "issuer_mismatch");
        assert!(e.to_string().contains("https://issuer.example"));
        assert_eq!(
            rejected(with(claims(), json!({"iss": null}))),
            IdTokenError::MissingClaim("iss")
        );
        assert_eq!(
            rejected(with(claims(), json!({"iss": 7}))),
            IdTokenError::InvalidClaim("iss")
        );
    }

    #[test]
    fn audience_checks() {
        let e = rejected(with(claims(), json!({"aud": "someone-else"})));
        assert_eq!(
            e,
            IdTokenError::AudienceMismatch {
                client_id: CLIENT.into()
            }
        );
        let e = rejected(with(claims(), json!({"aud": ["a", "b"]})));
        assert_eq!(e.reason(), "audience_mismatch");
        assert_eq!(
            rejected(with(claims(), json!({"aud": null}))),
            IdTokenError::MissingClaim("aud")
        );
        assert_eq!(
            rejected(with(claims(), json!({"aud": [CLIENT, 3]}))),
            IdTokenError::InvalidClaim("aud")
        );
        // Several audiences: azp required, and must be us.
        let e = rejected(with(claims(), json!({"aud": [CLIENT, "other"]})));
        assert_eq!(e, IdTokenError::AzpMissing);
        let ok = check(&sign(
            "RS256",
            &with(claims(), json!({"aud": [CLIENT, "other"], "azp": CLIENT})),
        ));
        assert_eq!(ok.unwrap().azp(), Some(CLIENT));
        let e = rejected(with(
            claims(),
            json!({"aud": [CLIENT, "other"], "azp": "other"}),
        ));
        assert_eq!(
            e,
            IdTokenError::AzpMismatch {
                client_id: CLIENT.into()
            }
        );
        // azp present with a single audience must still be us.
        let e = rejected(with(claims(), json!({"azp": "other"})));
        assert_eq!(e.reason(), "azp_mismatch");
        // Single-element array is fine.
        assert!(check(&sign("RS256", &with(claims(), json!({"aud": [CLIENT]})))).is_ok());
    }

    #[test]
    fn time_checks() {
        // Expired 30 s ago: within the 60 s leeway.
        assert!(check(&sign("RS256", &with(claims(), json!({"exp": NOW - 30})))).is_ok());
        // Expired 60 s ago: at the boundary, refused (now < exp + leeway fails).
        let e = rejected(with(claims(), json!({"exp": NOW - 60})));
        assert_eq!(
            e,
            IdTokenError::Expired {
                exp: (NOW - 60) as i64,
                now: NOW,
                leeway: 60
            }
        );
        // Floats are fine.
        assert!(
            check(&sign(
                "RS256",
                &with(claims(), json!({"exp": (NOW as f64) + 0.5}))
            ))
            .is_ok()
        );
        let e = rejected(with(claims(), json!({"exp": (NOW as f64) - 60.5})));
        assert_eq!(e.reason(), "expired");
        // Zero leeway.
        let strict = IdTokenValidation {
            leeway_secs: 0,
            ..params()
        };
        let t = sign("RS256", &with(claims(), json!({"exp": NOW - 1})));
        assert_eq!(
            validate(&t, &jwks(), None, &strict).unwrap_err().reason(),
            "expired"
        );
        // iat in the future beyond leeway; within leeway is fine.
        assert!(check(&sign("RS256", &with(claims(), json!({"iat": NOW + 60})))).is_ok());
        let e = rejected(with(claims(), json!({"iat": NOW + 61})));
        assert_eq!(
            e,
            IdTokenError::IssuedInFuture {
                iat: (NOW + 61) as i64,
                now: NOW,
                leeway: 60
            }
        );
        // Missing or non-numeric.
        assert_eq!(
            rejected(with(claims(), json!({"exp": null}))),
            IdTokenError::MissingClaim("exp")
        );
        assert_eq!(
            rejected(with(claims(), json!({"iat": null}))),
            IdTokenError::MissingClaim("iat")
        );
        assert_eq!(
            rejected(with(claims(), json!({"exp": (NOW + 600).to_string()}))),
            IdTokenError::InvalidClaim("exp")
        );
        assert_eq!(
            rejected(with(claims(), json!({"iat": true}))),
            IdTokenError::InvalidClaim("iat")
        );
    }

    #[test]
    fn max_age_checks() {
        let p = IdTokenValidation {
            max_age: Some(3600),
            ..params()
        };
        let t = sign("RS256", &claims());
        assert_eq!(
            validate(&t, &jwks(), None, &p).unwrap().auth_time(),
            Some((NOW - 100) as i64)
        );
        let p = IdTokenValidation {
            max_age: Some(10),
            ..params()
        };
        assert_eq!(
            validate(&t, &jwks(), None, &p).unwrap_err().reason(),
            "auth_too_old"
        );
        let t = sign("RS256", &with(claims(), json!({"auth_time": null})));
        assert_eq!(
            validate(&t, &jwks(), None, &p).unwrap_err(),
            IdTokenError::MissingClaim("auth_time")
        );
    }

    #[test]
    fn nbf_checks() {
        // In the past, or in the future within the leeway: fine.
        assert!(check(&sign("RS256", &with(claims(), json!({"nbf": NOW - 5})))).is_ok());
        assert!(check(&sign("RS256", &with(claims(), json!({"nbf": NOW + 60})))).is_ok());
        let e = rejected(with(claims(), json!({"nbf": NOW + 3600})));
        assert_eq!(
            e,
            IdTokenError::NotYetValid {
                nbf: (NOW + 3600) as i64,
                now: NOW,
                leeway: 60
            }
        );
        assert_eq!(e.reason(), "not_yet_valid");
        assert_eq!(
            rejected(with(claims(), json!({"nbf": NOW.to_string()}))),
            IdTokenError::InvalidClaim("nbf")
        );
    }

    #[test]
    fn require_auth_time_checks() {
        let p = IdTokenValidation {
            require_auth_time: true,
            ..params()
        };
        assert!(validate(&sign("RS256", &claims()), &jwks(), None, &p).is_ok());
        let t = sign("RS256", &with(claims(), json!({"auth_time": null})));
        assert_eq!(
            validate(&t, &jwks(), None, &p).unwrap_err(),
            IdTokenError::MissingClaim("auth_time")
        );
        assert_eq!(
            rejected(with(claims(), json!({"auth_time": "yesterday"}))),
            IdTokenError::InvalidClaim("auth_time")
        );
    }

    #[test]
    fn amr_checks() {
        assert!(
            check(&sign(
                "RS256",
                &with(claims(), json!({"amr": ["pwd", "otp"]}))
            ))
            .is_ok()
        );
        for bad in [json!("pwd"), json!(["pwd", 1]), json!({"pwd": true})] {
            assert_eq!(
                rejected(with(claims(), json!({"amr": bad}))),
                IdTokenError::InvalidClaim("amr")
            );
        }
    }

    #[test]
    fn s_hash_checks() {
        let state = "a-state-value";
        let p = IdTokenValidation {
            state: Some(state),
            ..params()
        };
        let good = c_hash(Algorithm::RS256, state);
        let t = sign("RS256", &with(claims(), json!({"s_hash": good})));
        assert!(validate(&t, &jwks(), None, &p).is_ok());
        let t = sign(
            "RS256",
            &with(claims(), json!({"s_hash": "LDktKdoQak3Pk0cnXxCltB"})),
        );
        assert_eq!(
            validate(&t, &jwks(), None, &p).unwrap_err(),
            IdTokenError::SHashMismatch
        );
        // Without a state to compare with, not checked.
        assert!(validate(&t, &jwks(), None, &params()).is_ok());
    }

    #[test]
    fn subject_checks() {
        assert_eq!(
            rejected(with(claims(), json!({"sub": null}))),
            IdTokenError::MissingClaim("sub")
        );
        assert_eq!(
            rejected(with(claims(), json!({"sub": ""}))),
            IdTokenError::InvalidClaim("sub")
        );
        assert_eq!(
            rejected(with(claims(), json!({"sub": 42}))),
            IdTokenError::InvalidClaim("sub")
        );
    }

    #[test]
    fn nonce_checks() {
        assert_eq!(
            rejected(with(claims(), json!({"nonce": null}))),
            IdTokenError::NonceMissing
        );
        let e = rejected(with(claims(), json!({"nonce": "n-0S6_WzA2Mk"})));
        assert_eq!(e, IdTokenError::NonceMismatch);
        assert!(!e.to_string().contains("n-0S6"));
        assert_eq!(
            rejected(with(claims(), json!({"nonce": ["x"]}))),
            IdTokenError::InvalidClaim("nonce")
        );
        // No nonce expected: not checked.
        let p = IdTokenValidation {
            nonce: None,
            ..params()
        };
        let t = sign("RS256", &with(claims(), json!({"nonce": null})));
        assert!(validate(&t, &jwks(), None, &p).is_ok());
        // Nor is a nonce the token carries anyway (see the guide's provider checks,
        // src/guide/provider_checks.md).
        assert!(validate(&sign("RS256", &claims()), &jwks(), None, &p).is_ok());
    }

    #[test]
    fn at_hash_and_c_hash_checks() {
        let p = IdTokenValidation {
            access_token: Some(ACCESS_TOKEN),
            ..params()
        };
        let good = sign(
            "RS256",
            &with(claims(), json!({"at_hash": "77QmUPtjPfzWtF2AnpK9RQ"})),
        );
        assert!(validate(&good, &jwks(), None, &p).is_ok());
        let bad = sign(
            "RS256",
            &with(claims(), json!({"at_hash": "77QmUPtjPfzWtF2AnpK9RR"})),
        );
        assert_eq!(
            validate(&bad, &jwks(), None, &p).unwrap_err(),
            IdTokenError::AtHashMismatch
        );
        // at_hash uses the hash of the signing algorithm: SHA-512 for EdDSA.
        let ed = sign(
            "EdDSA",
            &with(
                claims(),
                json!({"at_hash": at_hash(Algorithm::EdDSA, ACCESS_TOKEN)}),
            ),
        );
        assert!(validate(&ed, &jwks(), None, &p).is_ok());
        let ed_wrong = sign(
            "EdDSA",
            &with(claims(), json!({"at_hash": "77QmUPtjPfzWtF2AnpK9RQ"})),
        );
        assert_eq!(
            validate(&ed_wrong, &jwks(), None, &p).unwrap_err(),
            IdTokenError::AtHashMismatch
        );
        // Without an access token, at_hash is not checked.
        assert!(validate(&bad, &jwks(), None, &params()).is_ok());
        // c_hash.
        let code = "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk";
        let p = IdTokenValidation {
            code: Some(code),
            ..params()
        };
        let t = sign(
            "RS256",
            &with(claims(), json!({"c_hash": "LDktKdoQak3Pk0cnXxCltA"})),
        );
        assert!(validate(&t, &jwks(), None, &p).is_ok());
        let t = sign(
            "RS256",
            &with(claims(), json!({"c_hash": "LDktKdoQak3Pk0cnXxCltB"})),
        );
        assert_eq!(
            validate(&t, &jwks(), None, &p).unwrap_err().reason(),
            "c_hash_mismatch"
        );
    }

    #[test]
    fn header_checks() {
        let crit = sign_with_header(
            &json!({"alg": "RS256", "kid": "rsa", "crit": []}),
            &claims(),
        );
        assert_eq!(check(&crit).unwrap_err(), IdTokenError::UnknownCritical);
        let at = sign_with_header(
            &json!({"alg": "RS256", "kid": "rsa", "typ": "at+jwt"}),
            &claims(),
        );
        assert_eq!(check(&at).unwrap_err(), IdTokenError::WrongTokenType);
        let logout = sign_with_header(
            &json!({"alg": "RS256", "kid": "rsa", "typ": "application/logout+JWT"}),
            &claims(),
        );
        assert_eq!(check(&logout).unwrap_err().reason(), "wrong_token_type");
        let unknown_kid = sign_with_header(&json!({"alg": "RS256", "kid": "rotated"}), &claims());
        assert_eq!(
            check(&unknown_kid).unwrap_err(),
            IdTokenError::KeySelection(KeySelectError::UnknownKid)
        );
        assert_eq!(check(&unknown_kid).unwrap_err().reason(), "unknown_kid");
        // No kid: the single RSA key is chosen by family.
        let no_kid = sign_with_header(&json!({"alg": "RS256"}), &claims());
        assert!(check(&no_kid).is_ok());
    }

    #[test]
    fn algorithm_not_allowed() {
        let p = IdTokenValidation::new(&[ISS], CLIENT, NOW); // RS256 only
        let t = sign("ES256", &claims());
        assert_eq!(
            validate(&t, &jwks(), None, &p).unwrap_err(),
            IdTokenError::AlgorithmNotAllowed(Algorithm::ES256)
        );
        let t = sign("RS256", &with(claims(), json!({"nonce": null})));
        assert!(validate(&t, &jwks(), None, &p).is_ok());
    }

    #[test]
    fn none_algorithm() {
        let t = format!(
            "{}.{}.",
            b64(br#"{"alg":"none"}"#),
            b64(claims().to_string().as_bytes())
        );
        assert_eq!(check(&t).unwrap_err(), IdTokenError::NoneAlgorithm);
    }

    #[test]
    fn hs256_confusion_with_rsa_public_key_bytes() {
        // The attacker HMACs the token with bytes of the provider's public RSA key (the
        // modulus, the DER encoding, or the JWK JSON). None of it may verify.
        let k = keys();
        let rsa_pub = k.rsa.public_key();
        let candidates: Vec<Vec<u8>> = vec![
            rsa_pub.modulus().big_endian_without_leading_zero().to_vec(),
            rsa_pub.as_ref().to_vec(),
            json!({
                "kty": "RSA",
                "n": b64(rsa_pub.modulus().big_endian_without_leading_zero()),
                "e": b64(rsa_pub.exponent().big_endian_without_leading_zero()),
            })
            .to_string()
            .into_bytes(),
        ];
        for secret in candidates {
            let input = format!(
                "{}.{}",
                b64(br#"{"alg":"HS256","kid":"rsa"}"#),
                b64(claims().to_string().as_bytes())
            );
            let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret);
            let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
            let token = format!("{input}.{}", b64(tag.as_ref()));
            // Default allow-list: HS256 not allowed.
            let p = IdTokenValidation {
                nonce: Some("n-0S6_WzA2Mj"),
                ..IdTokenValidation::new(&[ISS], CLIENT, NOW)
            };
            assert_eq!(
                validate(&token, &jwks(), None, &p).unwrap_err(),
                IdTokenError::AlgorithmNotAllowed(Algorithm::HS256)
            );
            // Every algorithm allowed, no client secret: the RSA key is never an HMAC key.
            assert_eq!(
                check(&token).unwrap_err(),
                IdTokenError::KeySelection(KeySelectError::NoMatchingKey)
            );
            // With the real client secret, the forged tag does not verify.
            assert_eq!(
                validate(&token, &jwks(), Some(SECRET), &params()).unwrap_err(),
                IdTokenError::BadSignature
            );
        }
    }

    #[test]
    fn malformed_payloads() {
        let t = sign_with_header(&json!({"alg": "RS256"}), &json!(["not", "an", "object"]));
        assert_eq!(
            check(&t).unwrap_err(),
            IdTokenError::Malformed("payload is not a JSON object")
        );
        // Duplicate claims: hand-build the JSON.
        let k = keys();
        let input = format!(
            "{}.{}",
            b64(br#"{"alg":"RS256"}"#),
            b64(format!(r#"{{"iss":"{ISS}","iss":"https://evil.example"}}"#).as_bytes())
        );
        let mut sig = vec![0; k.rsa.public_modulus_len()];
        k.rsa
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .unwrap();
        let t = format!("{input}.{}", b64(&sig));
        assert_eq!(
            check(&t).unwrap_err(),
            IdTokenError::Malformed("duplicate claim")
        );
    }

    #[test]
    fn errors_never_leak_values() {
        let t = sign(
            "RS256",
            &with(claims(), json!({"nonce": "secret-nonce-value"})),
        );
        let e = check(&t).unwrap_err();
        assert!(!format!("{e} {e:?}").contains("secret-nonce-value"));
        let c = check(&sign("RS256", &claims())).unwrap();
        let dbg = format!("{c:?}");
        assert!(
            !dbg.contains("n-0S6_WzA2Mj") && !dbg.contains("jane@"),
            "{dbg}"
        );
    }

    proptest::proptest! {
        #[test]
        fn random_tokens_never_panic(s in "[A-Za-z0-9_.-]{0,400}") {
            let _ = validate(&s, &jwks(), Some(SECRET), &params());
        }

        #[test]
        fn random_hs256_claims_never_panic(claims in "\\PC{0,200}") {
            let input = format!("{}.{}", b64(br#"{"alg":"HS256"}"#), b64(claims.as_bytes()));
            let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, SECRET);
            let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
            let t = format!("{input}.{}", b64(tag.as_ref()));
            let _ = validate(&t, &JwkSet::default(), Some(SECRET), &params());
        }
    }
}
