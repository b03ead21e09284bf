//! Typed errors, each with a stable code.
//!
//! Every failure a browser, a provider or a settings file can cause ends up here as an
//! [`Error`]. [`Error::code`] gives a short snake_case string that stays the same across
//! releases (applications and tests match on it), and [`Error::kind`] says whose fault it
//! was, which is what a web integration needs to pick a status code.
//!
//! Messages never contain a secret: a token, a client secret, a PKCE verifier, a nonce or a
//! state value. Text that came from a provider (`error_description`) is kept, because it is
//! what tells a person what went wrong, but it is untrusted: escape it before putting it in
//! HTML.

use std::fmt;
use std::path::PathBuf;

/// Whose fault an [`Error`] is, and so which HTTP status a web integration should answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request from the browser was bad: a callback with a missing, unknown, expired
    /// or reused state, or a provider's refusal relayed by the browser. HTTP 400.
    BadRequest,
    /// The provider failed or misbehaved on a back-channel call. HTTP 502.
    Provider,
    /// The provider did not answer in time. HTTP 504.
    Timeout,
    /// The session store is unavailable. HTTP 503.
    Unavailable,
    /// The application is misconfigured (settings, unknown client). HTTP 500.
    Configuration,
    /// The user must log in (again): no token, or one that cannot be refreshed. HTTP 401.
    Unauthenticated,
    /// The request came from another site to a route that changes state. HTTP 403.
    Forbidden,
    /// The app cannot do what the request asks with its settings (back-channel logout
    /// over sealed-cookie sessions, or turned off). HTTP 501.
    NotImplemented,
    /// The request conflicts with what the app's users already are: an identity linked to
    /// another user, or the last identity of a user to unlink. HTTP 409.
    Conflict,
}

impl ErrorKind {
    /// The HTTP status code that fits this kind of failure.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::BadRequest => 400,
            ErrorKind::Provider => 502,
            ErrorKind::Timeout => 504,
            ErrorKind::Unavailable => 503,
            ErrorKind::Configuration => 500,
            ErrorKind::Unauthenticated => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::NotImplemented => 501,
            ErrorKind::Conflict => 409,
        }
    }
}

/// An error response from a provider: RFC 6749 §4.1.2.1 (authorization) or §5.2 (token).
#[derive(Clone, PartialEq, Eq)]
pub struct ProviderError {
    /// The `error` code as the provider sent it.
    pub error: String,
    /// The `error_description`, if any. Untrusted text.
    pub description: Option<String>,
    /// The `error_uri`, if any. Untrusted.
    pub uri: Option<String>,
}

impl ProviderError {
    /// A provider error with only a code.
    pub fn new(error: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            description: None,
            uri: None,
        }
    }
}

impl fmt::Debug for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderError")
            .field("error", &self.error)
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.error)?;
        if let Some(description) = &self.description {
            write!(f, ": {description}")?;
        }
        Ok(())
    }
}

/// What went wrong with a back-channel HTTP call to a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpFailure {
    /// No answer within the configured timeout.
    Timeout,
    /// The connection could not be made or broke off.
    Connect(String),
    /// The body was larger than the configured cap.
    TooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// An unexpected HTTP status with no usable error body.
    Status(u16),
    /// The provider answered with a redirect; back-channel calls never follow them.
    Redirect(u16),
    /// The body could not be read or parsed.
    Body(String),
}

impl fmt::Display for HttpFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpFailure::Timeout => f.write_str("no answer within the timeout"),
            HttpFailure::Connect(why) => write!(f, "connection failed: {why}"),
            HttpFailure::TooLarge { limit } => {
                write!(f, "response larger than the {limit}-byte limit")
            }
            HttpFailure::Status(status) => write!(f, "unexpected HTTP status {status}"),
            HttpFailure::Redirect(status) => {
                write!(
                    f,
                    "unexpected redirect (HTTP {status}); back-channel calls do not follow redirects"
                )
            }
            HttpFailure::Body(why) => write!(f, "unreadable response: {why}"),
        }
    }
}

/// Every error ferroauth returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The settings are invalid.
    #[error(transparent)]
    Settings(#[from] SettingsError),

    /// No client of that name is registered.
    #[error("no OAuth client named `{0}` is registered")]
    UnknownClient(String),

    /// A client's settings do not allow the requested operation.
    #[error("client `{client}` is misconfigured: {reason}")]
    Misconfigured {
        /// The client's name.
        client: String,
        /// What is missing or wrong.
        reason: String,
    },

    /// A provider endpoint is plain http on a non-loopback host.
    #[error(
        "client `{client}`: endpoint {url} is not https; set client_kwargs.allow_insecure_http = true to allow it (unsafe outside development)"
    )]
    InsecureEndpoint {
        /// The client's name.
        client: String,
        /// The offending URL.
        url: String,
    },

    /// The callback's parameters are malformed (e.g. a parameter sent twice, RFC 6749 §3.1).
    #[error("the callback is malformed: {0}")]
    InvalidCallback(String),

    /// A value the browser sent to a route is not acceptable (`max_age=abc`, an unknown
    /// `prompt`, a `next` that is not a path of this app, a parameter sent twice). The
    /// message names the parameter; the value is never echoed.
    #[error("the request's `{parameter}` is invalid: {reason}")]
    InvalidRequest {
        /// The parameter.
        parameter: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// An API path from the browser would leave the client's `api_base_url` (another host,
    /// a scheme, `//`, a backslash, `..`, a control character, or an encoded form of one).
    #[error("the API path is refused: {0}")]
    InvalidApiPath(&'static str),

    /// A request that changes state (logout, refresh) came from another site or origin
    /// (`Sec-Fetch-Site`, `Origin`): refused, whatever cookies it carried.
    #[error("refused a cross-site request: {0}")]
    CrossSiteRequest(&'static str),

    /// The callback carried no `state` (or, for OAuth 1.0a, no `oauth_token`).
    #[error("the callback has no state parameter; start the login again")]
    MissingState,

    /// The callback arrived without the browser's session: its session cookie was not sent,
    /// so no login started in this browser can be found. Usually the cookie is
    /// `SameSite=Strict` (a browser does not send it on the provider's cross-site redirect),
    /// the browser blocks it, or the login was started in another browser.
    #[error(
        "the callback arrived without this browser's session: its cookie may be SameSite=Strict (not sent on the provider's cross-site redirect), blocked by the browser or expired, or the login was started in another browser; start the login again"
    )]
    SessionMissing,

    /// A session entry is larger than the session can hold (a sealed cookie's cap).
    #[error("session entry {entry:?} would be {bytes} bytes, over the session's {cap}-byte cap")]
    SessionEntryTooLarge {
        /// The entry (for sealed cookies, the cookie's name).
        entry: String,
        /// Its size.
        bytes: usize,
        /// The cap.
        cap: usize,
    },

    /// The callback's state matches no login started in this browser session.
    #[error(
        "the callback does not belong to a login started in this browser session; start the login again"
    )]
    UnknownState,

    /// The pending login was started too long ago.
    #[error("the login took too long and expired; start the login again")]
    StateExpired,

    /// The pending login was already completed once.
    #[error("this login was already completed; start a new login")]
    StateReused,

    /// The browser came back from the provider's logout page with a `state` that belongs
    /// to no logout started in this browser (missing, wrong, already used or expired). The
    /// app's own session ended at the logout all the same.
    #[error(
        "the return from the provider's logout does not match a logout started in this browser; you are logged out of this app all the same"
    )]
    UnknownLogout,

    /// The callback arrived at another client's route than the one that started it.
    #[error("the login was started for client `{expected}` but the callback reached `{actual}`")]
    ClientMismatch {
        /// The client that started the login.
        expected: String,
        /// The client whose callback was called.
        actual: String,
    },

    /// The authorization response's `iss` does not match the provider (RFC 9207).
    #[error(
        "the authorization response names issuer {actual:?}, expected {expected}: possible mix-up attack"
    )]
    IssuerMismatch {
        /// The issuer the login was started with.
        expected: String,
        /// What the response said, if anything.
        actual: Option<String>,
    },

    /// The provider refused the authorization (the callback carried `error`).
    #[error("the provider refused the login: {0}")]
    Authorization(ProviderError),

    /// The callback had neither `code` nor `error`.
    #[error("the callback has no authorization code")]
    MissingCode,

    /// The token endpoint answered with an error (RFC 6749 §5.2).
    #[error("the provider's token endpoint refused the request: {0}")]
    Token(ProviderError),

    /// The token endpoint's answer could not be understood.
    #[error("the provider's token response is invalid: {0}")]
    InvalidTokenResponse(String),

    /// The ID token failed validation.
    #[error("the ID token is invalid: {0}")]
    InvalidIdToken(String),

    /// A back-channel logout token failed validation (OpenID Connect Back-Channel Logout
    /// 1.0 §2.6): the provider, or someone posing as it, sent a token to refuse.
    /// `code` names the rule it broke (`logout_token_replayed`, ...: the codes of
    /// `proto::oidc::logout_token::LogoutTokenError`).
    #[error("the logout token is invalid: {reason}")]
    InvalidLogoutToken {
        /// The stable code of the rule.
        code: &'static str,
        /// The rule, for people.
        reason: String,
    },

    /// Sessions cannot be ended by their owner (back-channel logout, "sign out
    /// everywhere"): the session store keeps no sessions on the server to end (sealed
    /// cookies), or the client turned back-channel logout off
    /// (`client_kwargs.backchannel_logout = false`). Answered 501, so that a provider is
    /// never told that sessions ended when none did.
    #[error("sessions cannot be ended by their owner here: {0}")]
    NoSessionIndex(&'static str),

    /// A protected route was asked for without a login that counts for it
    /// (`web::guard::LoginRequired`): answered 401, or a redirect to the login for a
    /// browser.
    #[error("a login is required: {0}")]
    LoginRequired(&'static str),

    /// A protected route asks for a login more recent than the session's
    /// (`LoginRequired::max_age`): the user must log in with `client` again.
    #[error("the login with `{client}` is older than the {max_age}s this page allows")]
    LoginTooOld {
        /// The client whose login is too old.
        client: String,
        /// The largest age the route accepts, in seconds.
        max_age: u64,
    },

    /// The identity the login found is already linked to another of the app's users than
    /// the one logged in: it is never moved silently (`users`); log out first, or unlink
    /// it from the other user.
    #[error("this {provider} account is already linked to another user")]
    IdentityLinkedElsewhere {
        /// The client the identity logged in with.
        provider: String,
    },

    /// A login at a client the session is already logged in with as another account of
    /// that provider (with the app's users): it is neither linked to the session's user
    /// nor allowed to replace it; the user logs out first to switch accounts.
    #[error("this session is logged in with another {provider} account: log out first to switch")]
    AnotherAccountAtProvider {
        /// The client logged in with.
        provider: String,
    },

    /// Unlinking would leave the user with no identity to log in with (`users`).
    #[error("the last identity of a user cannot be unlinked")]
    LastIdentity,

    /// The session names a user the user store does not know (deleted since): log in
    /// again.
    #[error("the session's user is not in the user store")]
    UnknownUser,

    /// The user store failed (a database or Redis error).
    #[error("user store: {0}")]
    UserStore(String),

    /// A route needs the app's users and the app keeps none (`OAuth::set_users`).
    #[error("the app keeps no users: {0}")]
    NoUserStore(&'static str),

    /// The login asked for `max_age` and the ID token's `auth_time` is older (OpenID
    /// Connect Core §3.1.2.1): the user must log in again.
    #[error("the provider's authentication is too old for the requested max_age: {0}")]
    AuthTooOld(String),

    /// The login marked `acr` essential and the ID token's `acr` is absent or not one of
    /// the values asked for (OpenID Connect Core §5.5.1.1).
    #[error("the ID token's authentication context does not satisfy the request: {0}")]
    AcrNotSatisfied(String),

    /// Google Workspace: the ID token's `hd` claim is absent or names another domain than
    /// the one the client is restricted to (`preset_options.hosted_domain`). The `hd`
    /// authorization parameter is only a hint to Google's account chooser.
    #[error("the account is not in the hosted domain {expected:?} (its `hd` is {actual:?})")]
    HostedDomainMismatch {
        /// The domain required.
        expected: String,
        /// The ID token's `hd`, if any.
        actual: Option<String>,
    },

    /// Microsoft Entra: the user's tenant (the ID token's `tid`) is not one of the tenants
    /// allowed to log in (`preset_options.allowed_tenants`).
    #[error("users of tenant {tenant:?} may not log in with this client")]
    TenantNotAllowed {
        /// The ID token's `tid`.
        tenant: String,
    },

    /// The pushed authorization request endpoint (RFC 9126) refused the request.
    #[error("the provider refused the pushed authorization request: {0}")]
    PushedAuthorization(ProviderError),

    /// The userinfo response is unusable (not a JSON object, no `sub` where one is due).
    #[error("the userinfo response is invalid: {0}")]
    InvalidUserinfo(String),

    /// The userinfo response names another subject than the login (OpenID Connect Core
    /// §5.3.2), at the login or at a refresh: a token for one user paired with another's
    /// profile.
    #[error("the userinfo response names another subject than the login")]
    UserinfoSubMismatch,

    /// The device authorization response (RFC 8628 §3.2) has something unsafe to show the
    /// user: a `verification_uri` that is not https (plain http only on a loopback host),
    /// or a `user_code` that is not short printable ASCII.
    #[error("the device authorization response is unsafe to show: {0}")]
    InvalidDeviceAuthorization(String),

    /// Fetching or checking the provider metadata failed.
    #[error("provider discovery failed: {0}")]
    Discovery(String),

    /// Fetching or parsing the provider's key set failed.
    #[error("the provider's key set (JWKS) is unusable: {0}")]
    Jwks(String),

    /// A back-channel call to the provider failed.
    #[error("{what} for client `{client}` failed: {failure}")]
    Http {
        /// The client's name.
        client: String,
        /// Which call: "token request", "discovery", ...
        what: &'static str,
        /// What went wrong.
        failure: HttpFailure,
    },

    /// An OAuth 1.0a protocol error.
    #[error(transparent)]
    OAuth1(#[from] crate::proto::oauth1::Error),

    /// The session store failed.
    #[error("the session store is unavailable: {0}")]
    Session(String),

    /// The operation needs a token of the other protocol (OAuth 1.0a vs 2.0).
    #[error("{0}")]
    Unsupported(String),

    /// A refresh was needed but the token has no refresh token (the provider issued none,
    /// e.g. because `offline_access` was not granted): the user must log in again.
    #[error("client `{client}`: the token has no refresh token; log in again")]
    NoRefreshToken {
        /// The client's name.
        client: String,
    },

    /// There is no stored token for this client: the user is not logged in with it.
    #[error("client `{client}`: no token is stored; log in first")]
    NoToken {
        /// The client's name.
        client: String,
    },

    /// A refresh run by another request of this process failed; this is its error, passed
    /// on to the requests that waited for it.
    #[error("the token refresh for client `{client}` failed: {reason}")]
    RefreshFailed {
        /// The client's name.
        client: String,
        /// The stable code of the original error.
        code: String,
        /// What went wrong.
        reason: String,
    },

    /// The key for `private_key_jwt` / `client_secret_jwt` client authentication is
    /// unusable (bad PEM or JWK, unsupported key type, algorithm not fitting the key).
    #[error("client `{client}`: the client assertion key is unusable: {reason}")]
    InvalidClientAssertionKey {
        /// The client's name.
        client: String,
        /// What is wrong (never the key material).
        reason: String,
    },

    /// A fediverse instance refused to register the app (dynamic client registration),
    /// or answered something that is not a registration: nothing is kept, and the next
    /// login with that instance tries again.
    #[error("client `{client}`: the instance {instance} refused to register the app: {reason}")]
    RegistrationRefused {
        /// The template client's name.
        client: String,
        /// The instance's host.
        instance: String,
        /// What the instance answered (its status and own error text, bounded).
        reason: String,
    },

    /// The revocation or introspection endpoint refused the request.
    #[error("the provider's {what} endpoint refused the request: {error}")]
    TokenManagement {
        /// `revocation` or `introspection`.
        what: &'static str,
        /// The provider's error.
        error: ProviderError,
    },
}

/// RFC 6749 §4.1.2.1 and OpenID Connect Core §3.1.2.6 authorization error codes, kept as
/// their own stable codes; anything else a provider invents maps to `authorization_error`.
const AUTHORIZATION_CODES: &[&str] = &[
    "access_denied",
    "invalid_request",
    "unauthorized_client",
    "unsupported_response_type",
    "invalid_scope",
    "server_error",
    "temporarily_unavailable",
    "interaction_required",
    "login_required",
    "account_selection_required",
    "consent_required",
    "invalid_request_uri",
    "invalid_request_object",
    "request_not_supported",
    "request_uri_not_supported",
    "registration_not_supported",
];

/// Errors of the pushed authorization request endpoint that keep their own code (RFC 9126
/// §2.3: the token endpoint's, plus the authorization endpoint's request errors).
const PAR_CODES: &[&str] = &[
    "invalid_request",
    "invalid_client",
    "unauthorized_client",
    "invalid_scope",
    "invalid_request_object",
];

/// RFC 6749 §5.2 token error codes, RFC 8628's device ones and RFC 9449's DPoP ones;
/// others map to `token_error`.
const TOKEN_CODES: &[&str] = &[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "use_dpop_nonce",
    "invalid_dpop_proof",
    "authorization_pending",
    "slow_down",
    "expired_token",
    "access_denied",
];

/// Whether `code` is one of the token endpoint's standard error codes (RFC 6749 §5.2,
/// RFC 8628, RFC 9449), for hooks that tell a provider's own `error` values apart.
pub(crate) fn is_token_error_code(code: &str) -> bool {
    TOKEN_CODES.contains(&code)
}

fn known_or(code: &str, known: &[&'static str], fallback: &'static str) -> &'static str {
    known
        .iter()
        .find(|k| **k == code)
        .copied()
        .unwrap_or(fallback)
}

impl Error {
    /// A copy of this error for the requests that waited for a shared operation (a
    /// single-flight refresh): the provider's answer is kept as it is, anything else is
    /// summarised as [`Error::RefreshFailed`] with the original code.
    pub(crate) fn shared_copy(&self, client: &str) -> Error {
        match self {
            Error::Token(e) => Error::Token(e.clone()),
            Error::InvalidIdToken(s) => Error::InvalidIdToken(s.clone()),
            Error::AuthTooOld(s) => Error::AuthTooOld(s.clone()),
            Error::AcrNotSatisfied(s) => Error::AcrNotSatisfied(s.clone()),
            Error::InvalidTokenResponse(s) => Error::InvalidTokenResponse(s.clone()),
            Error::NoRefreshToken { client } => Error::NoRefreshToken {
                client: client.clone(),
            },
            Error::Http {
                client,
                what,
                failure,
            } => Error::Http {
                client: client.clone(),
                what,
                failure: failure.clone(),
            },
            other => Error::RefreshFailed {
                client: client.to_owned(),
                code: other.code().to_owned(),
                reason: other.to_string(),
            },
        }
    }

    /// A stable snake_case code for this error, for programs and tests to match on.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Settings(_) => "invalid_settings",
            Error::UnknownClient(_) => "unknown_client",
            Error::Misconfigured { .. } => "client_misconfigured",
            Error::InsecureEndpoint { .. } => "insecure_endpoint",
            Error::InvalidCallback(_) => "callback_invalid",
            Error::InvalidRequest { .. } => "invalid_request",
            Error::InvalidApiPath(_) => "invalid_api_path",
            Error::CrossSiteRequest(_) => "cross_site_request",
            Error::MissingState => "state_missing",
            Error::SessionMissing => "session_missing",
            Error::UnknownState => "state_unknown",
            Error::StateExpired => "state_expired",
            Error::StateReused => "state_reused",
            Error::UnknownLogout => "logout_state_unknown",
            Error::ClientMismatch { .. } => "state_client_mismatch",
            Error::IssuerMismatch { .. } => "issuer_mismatch",
            Error::Authorization(e) => {
                known_or(&e.error, AUTHORIZATION_CODES, "authorization_error")
            }
            Error::MissingCode => "code_missing",
            Error::Token(e) => known_or(&e.error, TOKEN_CODES, "token_error"),
            Error::InvalidTokenResponse(_) => "invalid_token_response",
            Error::InvalidIdToken(_) => "invalid_id_token",
            Error::InvalidLogoutToken { code, .. } => code,
            Error::NoSessionIndex(_) => "session_index_unavailable",
            Error::LoginRequired(_) => "login_required",
            Error::LoginTooOld { .. } => "login_too_old",
            Error::IdentityLinkedElsewhere { .. } => "identity_linked_to_another_user",
            Error::LastIdentity => "last_identity",
            Error::AnotherAccountAtProvider { .. } => "another_account_at_provider",
            Error::UnknownUser => "unknown_user",
            Error::UserStore(_) => "user_store_failed",
            Error::NoUserStore(_) => "user_store_unavailable",
            Error::AuthTooOld(_) => "auth_too_old",
            Error::AcrNotSatisfied(_) => "acr_not_satisfied",
            Error::HostedDomainMismatch { .. } => "hosted_domain_mismatch",
            Error::TenantNotAllowed { .. } => "tenant_not_allowed",
            Error::PushedAuthorization(e) => {
                known_or(&e.error, PAR_CODES, "pushed_authorization_failed")
            }
            Error::InvalidUserinfo(_) => "invalid_userinfo",
            Error::UserinfoSubMismatch => "userinfo_sub_mismatch",
            Error::InvalidDeviceAuthorization(_) => "invalid_device_authorization",
            Error::Discovery(_) => "discovery_failed",
            Error::Jwks(_) => "jwks_failed",
            Error::Http { failure, .. } => match failure {
                HttpFailure::Timeout => "provider_timeout",
                HttpFailure::Connect(_) => "provider_unreachable",
                HttpFailure::TooLarge { .. } => "response_too_large",
                HttpFailure::Status(_) | HttpFailure::Redirect(_) => "provider_http_error",
                HttpFailure::Body(_) => "invalid_provider_response",
            },
            Error::OAuth1(e) => e.code(),
            Error::Session(_) | Error::SessionEntryTooLarge { .. } => "session_unavailable",
            Error::Unsupported(_) => "unsupported",
            Error::NoRefreshToken { .. } => "no_refresh_token",
            Error::NoToken { .. } => "no_token",
            Error::RefreshFailed { .. } => "refresh_failed",
            Error::InvalidClientAssertionKey { .. } => "invalid_client_assertion_key",
            Error::RegistrationRefused { .. } => "registration_refused",
            Error::TokenManagement { what, .. } => match *what {
                "revocation" => "revocation_failed",
                _ => "introspection_failed",
            },
        }
    }

    /// Whose fault the error is; see [`ErrorKind::http_status`].
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Settings(_)
            | Error::UnknownClient(_)
            | Error::Misconfigured { .. }
            | Error::InsecureEndpoint { .. }
            | Error::Unsupported(_)
            | Error::InvalidClientAssertionKey { .. } => ErrorKind::Configuration,
            Error::NoRefreshToken { .. }
            | Error::NoToken { .. }
            | Error::LoginRequired(_)
            | Error::LoginTooOld { .. }
            | Error::UnknownUser => ErrorKind::Unauthenticated,
            Error::IdentityLinkedElsewhere { .. }
            | Error::LastIdentity
            | Error::AnotherAccountAtProvider { .. } => ErrorKind::Conflict,
            Error::CrossSiteRequest(_) => ErrorKind::Forbidden,
            Error::NoSessionIndex(_) | Error::NoUserStore(_) => ErrorKind::NotImplemented,
            Error::InvalidCallback(_)
            | Error::InvalidRequest { .. }
            | Error::InvalidApiPath(_)
            | Error::MissingState
            | Error::SessionMissing
            | Error::UnknownState
            | Error::StateExpired
            | Error::StateReused
            | Error::UnknownLogout
            | Error::InvalidLogoutToken { .. }
            | Error::ClientMismatch { .. }
            | Error::IssuerMismatch { .. }
            | Error::HostedDomainMismatch { .. }
            | Error::TenantNotAllowed { .. }
            | Error::Authorization(_)
            | Error::MissingCode => ErrorKind::BadRequest,
            Error::Http {
                failure: HttpFailure::Timeout,
                ..
            } => ErrorKind::Timeout,
            Error::Session(_) | Error::SessionEntryTooLarge { .. } | Error::UserStore(_) => {
                ErrorKind::Unavailable
            }
            _ => ErrorKind::Provider,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_codes_are_kept_only_when_standard() {
        let denied = Error::Authorization(ProviderError::new("access_denied"));
        assert_eq!(denied.code(), "access_denied");
        assert_eq!(denied.kind().http_status(), 400);
        let odd = Error::Authorization(ProviderError::new("<script>"));
        assert_eq!(odd.code(), "authorization_error");
        let grant = Error::Token(ProviderError::new("invalid_grant"));
        assert_eq!(grant.code(), "invalid_grant");
        assert_eq!(grant.kind().http_status(), 502);
        let github = Error::Token(ProviderError::new("bad_verification_code"));
        assert_eq!(github.code(), "token_error");
    }

    #[test]
    fn state_errors_have_distinct_codes() {
        let codes = [
            Error::MissingState.code(),
            Error::SessionMissing.code(),
            Error::UnknownState.code(),
            Error::StateExpired.code(),
            Error::StateReused.code(),
            Error::UnknownLogout.code(),
        ];
        for (i, a) in codes.iter().enumerate() {
            for b in &codes[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn refused_accounts_are_bad_requests_with_their_own_codes() {
        let hd = Error::HostedDomainMismatch {
            expected: "example.com".into(),
            actual: None,
        };
        assert_eq!(hd.code(), "hosted_domain_mismatch");
        assert_eq!(hd.kind().http_status(), 400);
        let tenant = Error::TenantNotAllowed {
            tenant: "9188040d-6c67-4c5b-b112-36a304b66dad".into(),
        };
        assert_eq!(tenant.code(), "tenant_not_allowed");
        assert_eq!(tenant.kind().http_status(), 400);
    }

    #[test]
    fn browser_mistakes_are_4xx() {
        let e = Error::InvalidRequest {
            parameter: "max_age",
            reason: "must be a number of seconds",
        };
        assert_eq!((e.code(), e.kind().http_status()), ("invalid_request", 400));
        assert!(e.to_string().contains("max_age"));
        let e = Error::InvalidApiPath("the path names another host");
        assert_eq!(
            (e.code(), e.kind().http_status()),
            ("invalid_api_path", 400)
        );
        let e = Error::CrossSiteRequest("Sec-Fetch-Site is cross-site");
        assert_eq!(
            (e.code(), e.kind().http_status()),
            ("cross_site_request", 403)
        );
    }

    #[test]
    fn timeouts_are_gateway_timeouts() {
        let e = Error::Http {
            client: "x".into(),
            what: "token request",
            failure: HttpFailure::Timeout,
        };
        assert_eq!(e.code(), "provider_timeout");
        assert_eq!(e.kind().http_status(), 504);
    }
}

/// A settings error, naming where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError {
    /// The settings file, if the error is in one.
    pub file: Option<PathBuf>,
    /// The client whose table holds the error.
    pub client: Option<String>,
    /// The key, dotted from the client's table (`client_kwargs.timeout`).
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl SettingsError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            file: None,
            client: None,
            key: None,
            message: message.into(),
        }
    }

    /// An error about a key outside the clients' tables (`http.proxy`).
    pub fn for_setting(key: &str, message: impl Into<String>) -> Self {
        Self {
            key: Some(key.to_owned()),
            ..Self::new(message)
        }
    }

    /// An error about one client's key.
    pub fn for_key(client: &str, key: &str, message: impl Into<String>) -> Self {
        Self {
            client: Some(client.to_owned()),
            key: Some(key.to_owned()),
            ..Self::new(message)
        }
    }
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid settings")?;
        if let Some(file) = &self.file {
            write!(f, " in {}", file.display())?;
        }
        if let Some(client) = &self.client {
            write!(f, ", client `{client}`")?;
        }
        if let Some(key) = &self.key {
            write!(f, ", key `{key}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for SettingsError {}
