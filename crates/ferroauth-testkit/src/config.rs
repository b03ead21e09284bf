//! Users and clients configured from code.

use serde_json::{Map, Value};

/// A user who can log in at the provider.
///
/// The login page offers every configured user as a button; a user can also
/// be picked by typing its `sub`, `preferred_username` or `email`, and the
/// same three values are accepted as `login_hint` in auto-approve mode.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct User {
    /// Subject identifier (`sub` claim, OAuth 1.0a `user_id`).
    pub sub: String,
    /// Full name (`name` claim, released with the `profile` scope).
    pub name: Option<String>,
    /// Login name (`preferred_username` claim with the `profile` scope,
    /// OAuth 1.0a `screen_name`; falls back to `sub`).
    pub preferred_username: Option<String>,
    /// E-mail address (`email` claim, released with the `email` scope).
    pub email: Option<String>,
    /// Whether the e-mail address counts as verified (`email_verified`).
    pub email_verified: bool,
    /// Any other claims; they are added to ID tokens, userinfo and the demo
    /// API regardless of scope. Claims that the provider sets itself (`iss`,
    /// `aud`, `exp`, ...) cannot be overridden this way.
    pub extra: Map<String, Value>,
}

impl User {
    /// A user with only a subject identifier.
    pub fn new(sub: impl Into<String>) -> Self {
        Self {
            sub: sub.into(),
            name: None,
            preferred_username: None,
            email: None,
            email_verified: true,
            extra: Map::new(),
        }
    }

    /// Sets the `name` claim.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the `preferred_username` claim.
    pub fn preferred_username(mut self, username: impl Into<String>) -> Self {
        self.preferred_username = Some(username.into());
        self
    }

    /// Sets the `email` claim (marked verified unless [`User::email_verified`] says otherwise).
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Sets `email_verified`.
    pub fn email_verified(mut self, verified: bool) -> Self {
        self.email_verified = verified;
        self
    }

    /// Adds a custom claim.
    pub fn claim(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(name.into(), value.into());
        self
    }

    /// The name shown on the login page and returned as OAuth 1.0a `screen_name`.
    pub fn display_username(&self) -> &str {
        self.preferred_username.as_deref().unwrap_or(&self.sub)
    }

    pub(crate) fn matches_login(&self, input: &str) -> bool {
        let input = input.trim();
        !input.is_empty()
            && (self.sub == input
                || self.preferred_username.as_deref() == Some(input)
                || self
                    .email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(input)))
    }
}

/// How an OAuth 2.0 client authenticates at the token, revocation and
/// introspection endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuthMethod {
    /// HTTP Basic (RFC 6749 §2.3.1): `client_id:client_secret`, each
    /// `application/x-www-form-urlencoded` encoded before base64.
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
    /// Public client: only `client_id`; PKCE is then mandatory.
    None,
}

impl ClientAuthMethod {
    /// The registered name (`token_endpoint_auth_method`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::None => "none",
        }
    }
}

/// Algorithm used to sign a client's ID tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IdTokenAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit key.
    #[default]
    RS256,
    /// ECDSA P-256 with SHA-256.
    ES256,
}

impl IdTokenAlg {
    /// The JWA name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::ES256 => "ES256",
        }
    }
}

/// Which protocol a client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    /// OAuth 2.0 / OpenID Connect client.
    OAuth2,
    /// OAuth 1.0a consumer (`client_id` is the consumer key, `secret` the consumer secret).
    OAuth1,
}

/// A registered client (OAuth 2.0 client or OAuth 1.0a consumer).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Client {
    /// `client_id`, or the OAuth 1.0a consumer key.
    pub client_id: String,
    /// Client secret / consumer secret; `None` for public clients.
    pub secret: Option<String>,
    /// Registered redirect URIs, compared by exact string match. For OAuth
    /// 1.0a consumers: allowed `oauth_callback` values (empty = any absolute
    /// http(s) URL or `oob`).
    pub redirect_uris: Vec<String>,
    /// Token endpoint authentication method (OAuth 2.0 only).
    pub auth_method: ClientAuthMethod,
    /// ID token signing algorithm (OAuth 2.0 only).
    pub id_token_alg: IdTokenAlg,
    /// Protocol.
    pub kind: ClientKind,
    /// Whether every token request of this client must carry a DPoP proof (RFC 9449),
    /// as with the client metadata `dpop_bound_access_tokens` (§5.2); without one the
    /// token endpoint answers `invalid_dpop_proof`. Off by default: a proof, when sent,
    /// binds the tokens either way.
    pub require_dpop: bool,
    /// Where the end-session endpoint may send the browser back after a logout
    /// (OpenID Connect RP-Initiated Logout 1.0 `post_logout_redirect_uri`), compared by
    /// exact string match.
    pub post_logout_redirect_uris: Vec<String>,
    /// Where the provider POSTs a back-channel logout token when a session of this
    /// client's user ends (OpenID Connect Back-Channel Logout 1.0
    /// `backchannel_logout_uri`).
    pub backchannel_logout_uri: Option<String>,
}

impl Client {
    /// A confidential OAuth 2.0 client using `client_secret_basic`.
    pub fn confidential(
        client_id: impl Into<String>,
        secret: impl Into<String>,
        redirect_uri: impl Into<String>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            secret: Some(secret.into()),
            redirect_uris: vec![redirect_uri.into()],
            auth_method: ClientAuthMethod::ClientSecretBasic,
            id_token_alg: IdTokenAlg::RS256,
            kind: ClientKind::OAuth2,
            require_dpop: false,
            post_logout_redirect_uris: Vec::new(),
            backchannel_logout_uri: None,
        }
    }

    /// A public OAuth 2.0 client (auth method `none`, PKCE required).
    pub fn public(client_id: impl Into<String>, redirect_uri: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            secret: None,
            redirect_uris: vec![redirect_uri.into()],
            auth_method: ClientAuthMethod::None,
            id_token_alg: IdTokenAlg::RS256,
            kind: ClientKind::OAuth2,
            require_dpop: false,
            post_logout_redirect_uris: Vec::new(),
            backchannel_logout_uri: None,
        }
    }

    /// An OAuth 1.0a consumer. `callback` is the allowed `oauth_callback`;
    /// pass `None` to allow any absolute http(s) callback.
    pub fn oauth1(
        consumer_key: impl Into<String>,
        consumer_secret: impl Into<String>,
        callback: Option<String>,
    ) -> Self {
        Self {
            client_id: consumer_key.into(),
            secret: Some(consumer_secret.into()),
            redirect_uris: callback.into_iter().collect(),
            auth_method: ClientAuthMethod::ClientSecretBasic,
            id_token_alg: IdTokenAlg::RS256,
            kind: ClientKind::OAuth1,
            require_dpop: false,
            post_logout_redirect_uris: Vec::new(),
            backchannel_logout_uri: None,
        }
    }

    /// Sets the token endpoint authentication method.
    pub fn auth_method(mut self, method: ClientAuthMethod) -> Self {
        self.auth_method = method;
        self
    }

    /// Sets the ID token signing algorithm.
    pub fn id_token_alg(mut self, alg: IdTokenAlg) -> Self {
        self.id_token_alg = alg;
        self
    }

    /// Sets the `require_dpop` field: whether token requests must carry a DPoP proof.
    pub fn require_dpop(mut self, yes: bool) -> Self {
        self.require_dpop = yes;
        self
    }

    /// Registers a `post_logout_redirect_uri`.
    pub fn post_logout_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.post_logout_redirect_uris.push(uri.into());
        self
    }

    /// Registers the `backchannel_logout_uri`.
    pub fn backchannel_logout_uri(mut self, uri: impl Into<String>) -> Self {
        self.backchannel_logout_uri = Some(uri.into());
        self
    }

    /// Registers one more redirect URI.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uris.push(uri.into());
        self
    }

    pub(crate) fn is_public(&self) -> bool {
        self.auth_method == ClientAuthMethod::None
    }
}
