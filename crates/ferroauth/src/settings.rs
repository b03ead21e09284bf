//! Settings: every client's configuration, with Authlib's key names.
//!
//! Settings come from a TOML file with one `[clients.<name>]` table per provider, and any
//! key can be overridden by an environment variable so that secrets need not live in
//! files: `FERROAUTH__CLIENTS__GITHUB__CLIENT_SECRET` sets `clients.github.client_secret`
//! (double underscores separate the levels; names are lower-cased).
//!
//! ```toml
//! [clients.google]
//! client_id = "1234.apps.googleusercontent.com"
//! server_metadata_url = "https://accounts.google.com/.well-known/openid-configuration"
//! client_kwargs = { scope = "openid email profile" }
//!
//! [clients.github]
//! client_id = "Iv1.abc"
//! authorize_url = "https://github.com/login/oauth/authorize"
//! access_token_url = "https://github.com/login/oauth/access_token"
//! api_base_url = "https://api.github.com/"
//! userinfo_endpoint = "https://api.github.com/user"
//! client_kwargs = { scope = "read:user user:email" }
//! ```
//!
//! Unknown keys are errors (a typo must not silently turn a check off), and every error
//! names the file, the client and the key.

use std::collections::BTreeMap;

use std::path::Path;

use serde::{Deserialize, Deserializer};

use crate::Secret;
pub use crate::error::SettingsError;
use crate::http::HttpSettings;
use crate::proto::oauth2::client_auth::TokenEndpointAuthMethod;

/// The prefix of environment variables that override settings.
pub const ENV_PREFIX: &str = "FERROAUTH";

/// Everything ferroauth reads from the application's settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// One entry per provider, keyed by the name the application uses (`github`, ...).
    #[serde(default)]
    pub clients: BTreeMap<String, ClientSettings>,
    /// How pending logins are kept.
    #[serde(default)]
    pub login: LoginSettings,
    /// The shared HTTP client.
    #[serde(default)]
    pub http: HttpSettings,
}

/// The `preset_options` table: what a preset needs to know about this app's account with
/// the provider. Each preset reads only some of them (see the
/// [presets chapter](crate::guide::presets)).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetOptions {
    /// Ask for a refresh token the provider's way: Google `access_type=offline` and
    /// `prompt=consent`, Dropbox `token_access_type=offline`, Reddit
    /// `duration=permanent`, X `offline.access`.
    pub offline: Option<bool>,
    /// Microsoft Entra: `common` (default), `organizations`, `consumers` or a tenant id;
    /// Azure AD B2C: the tenant's name; FusionAuth: a tenant id.
    pub tenant: Option<String>,
    /// Microsoft Entra: the only tenants (`tid`) whose users may log in.
    pub allowed_tenants: Option<Vec<String>>,
    /// Google: the Workspace domain the ID token's `hd` claim must name.
    pub hosted_domain: Option<String>,
    /// Self-hosted instances: GitHub Enterprise, GitLab, Keycloak (`https://host`).
    pub base_url: Option<String>,
    /// Okta, Auth0 and Salesforce My Domain: the tenant's host name.
    pub domain: Option<String>,
    /// Keycloak: the realm.
    pub realm: Option<String>,
    /// Okta: a custom authorization server's id (`default`); the org server when absent.
    pub authorization_server: Option<String>,
    /// Auth0: the API the access token is for.
    pub audience: Option<String>,
    /// Apple: the Team ID, the client secret JWT's issuer.
    pub team_id: Option<String>,
    /// Apple: the Key ID of the Sign in with Apple key.
    pub key_id: Option<String>,
    /// Apple: the Sign in with Apple private key, PEM (PKCS#8). Prefer the environment.
    pub private_key: Option<Secret>,
    /// Facebook: the Graph API version (`v24.0`).
    pub api_version: Option<String>,
    /// Reddit: the User-Agent Reddit asks every app for,
    /// `<platform>:<app id>:<version> (by /u/<name>)`.
    pub user_agent: Option<String>,
    /// authentik: the application's slug, part of its issuer.
    pub slug: Option<String>,
    /// Azure AD B2C: the user flow or custom policy (`B2C_1_signupsignin`).
    pub policy: Option<String>,
    /// Azure AD B2C: the tenant's directory id, which its issuer names.
    pub tenant_id: Option<String>,
    /// AWS Cognito: the AWS region (`eu-west-1`); PingOne: the region's top-level domain
    /// (`com`, `eu`, `ca`, `asia`, `com.au`).
    pub region: Option<String>,
    /// AWS Cognito: the user pool id (`eu-west-1_AbCdEf123`).
    pub user_pool_id: Option<String>,
    /// PingOne: the environment id.
    pub environment_id: Option<String>,
    /// OneLogin: the account's subdomain (`<subdomain>.onelogin.com`).
    pub subdomain: Option<String>,
}

impl PresetOptions {
    /// The names of the options that are set.
    pub(crate) fn given(&self) -> Vec<&'static str> {
        let flags = [
            ("offline", self.offline.is_some()),
            ("tenant", self.tenant.is_some()),
            ("allowed_tenants", self.allowed_tenants.is_some()),
            ("hosted_domain", self.hosted_domain.is_some()),
            ("base_url", self.base_url.is_some()),
            ("domain", self.domain.is_some()),
            ("realm", self.realm.is_some()),
            ("authorization_server", self.authorization_server.is_some()),
            ("audience", self.audience.is_some()),
            ("team_id", self.team_id.is_some()),
            ("key_id", self.key_id.is_some()),
            ("private_key", self.private_key.is_some()),
            ("api_version", self.api_version.is_some()),
            ("user_agent", self.user_agent.is_some()),
            ("slug", self.slug.is_some()),
            ("policy", self.policy.is_some()),
            ("tenant_id", self.tenant_id.is_some()),
            ("region", self.region.is_some()),
            ("user_pool_id", self.user_pool_id.is_some()),
            ("environment_id", self.environment_id.is_some()),
            ("subdomain", self.subdomain.is_some()),
        ];
        flags
            .iter()
            .filter(|(_, set)| *set)
            .map(|(n, _)| *n)
            .collect()
    }
}

/// How pending logins are kept in the session.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoginSettings {
    /// Seconds a started login stays valid (default 600).
    pub pending_ttl: u64,
    /// How many pending logins one session keeps; the oldest are dropped (default 10).
    pub max_pending: usize,
}

impl Default for LoginSettings {
    fn default() -> Self {
        Self {
            pending_ttl: 600,
            max_pending: 10,
        }
    }
}

/// One provider's settings, with Authlib's key names. Every key is optional where it can be
/// derived (from discovery, mostly).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSettings {
    /// A provider preset (`"github"`, `"google"`, ... see [`crate::presets`]) that fills
    /// every key the provider fixes; keys given here override it. By default the client's
    /// name picks the preset when it is one; `"none"` turns presets off for this client.
    pub preset: Option<String>,
    /// What a preset needs to know about this app's account with the provider (a tenant,
    /// a domain, Apple's team and key ids, ...). Each preset says which it reads.
    #[serde(default)]
    pub preset_options: PresetOptions,
    /// The client identifier (OAuth 1.0a: the consumer key).
    pub client_id: Option<String>,
    /// The client secret (OAuth 1.0a: the consumer secret). Prefer the environment.
    pub client_secret: Option<Secret>,
    /// The authorization endpoint; from discovery when absent.
    pub authorize_url: Option<String>,
    /// Extra parameters for every authorization request.
    #[serde(default)]
    pub authorize_params: BTreeMap<String, String>,
    /// The token endpoint (OAuth 1.0a: the token-credentials endpoint).
    pub access_token_url: Option<String>,
    /// Extra parameters for every token request.
    #[serde(default)]
    pub access_token_params: BTreeMap<String, String>,
    /// OAuth 1.0a temporary-credentials endpoint. Its presence makes the client OAuth 1.0a.
    pub request_token_url: Option<String>,
    /// Extra parameters for the temporary-credentials request.
    #[serde(default)]
    pub request_token_params: BTreeMap<String, String>,
    /// Base URL that relative API paths resolve against.
    pub api_base_url: Option<String>,
    /// Everything else, as in Authlib.
    #[serde(default)]
    pub client_kwargs: ClientKwargs,
    /// OpenID Connect discovery or RFC 8414 metadata URL.
    pub server_metadata_url: Option<String>,
    /// The issuer, for providers without discovery.
    pub issuer: Option<String>,
    /// The userinfo endpoint, for providers without discovery (or a plain OAuth 2.0
    /// profile endpoint such as GitHub's `https://api.github.com/user`; OAuth 1.0a: a
    /// profile endpoint read with a signed GET after the token credentials).
    pub userinfo_endpoint: Option<String>,
    /// The JWKS URL, for providers without discovery.
    pub jwks_uri: Option<String>,
    /// RFC 7009 token revocation endpoint; from discovery when absent.
    pub revocation_endpoint: Option<String>,
    /// RFC 7662 token introspection endpoint; from discovery when absent.
    pub introspection_endpoint: Option<String>,
    /// OpenID Connect RP-Initiated Logout endpoint; from discovery when absent.
    pub end_session_endpoint: Option<String>,
    /// RFC 8628 device authorization endpoint; from discovery when absent.
    pub device_authorization_endpoint: Option<String>,
}

impl ClientSettings {
    /// Whether these settings describe an OAuth 1.0a client.
    pub fn is_oauth1(&self) -> bool {
        self.request_token_url.is_some()
    }
}

/// PKCE code challenge method (RFC 7636). S256 is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum CodeChallengeMethod {
    /// SHA-256 of the verifier.
    #[default]
    S256,
    /// No PKCE at all: only for providers that reject it (an explicit opt-out).
    #[serde(rename = "none", alias = "disabled")]
    Disabled,
}

/// Where OAuth 1.0a protocol parameters travel (RFC 5849 §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SignatureType {
    /// The `Authorization` header (the default).
    #[default]
    #[serde(alias = "header")]
    Header,
    /// The query string.
    #[serde(alias = "query")]
    Query,
    /// The form body.
    #[serde(alias = "body")]
    Body,
}

/// Authlib's `client_kwargs`: everything about a client that is not an endpoint.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientKwargs {
    /// The scope to request, space-separated.
    pub scope: Option<String>,
    /// Token endpoint authentication. Default: from the metadata, else
    /// `client_secret_basic` with a secret and `none` without.
    pub token_endpoint_auth_method: Option<TokenEndpointAuthMethod>,
    /// PKCE: `S256` (default) or `none` to turn it off for a provider that rejects it.
    pub code_challenge_method: Option<CodeChallengeMethod>,
    /// Seconds for a whole back-channel call (default from `[http]`, 30).
    #[serde(default, deserialize_with = "de_opt_f64")]
    pub timeout: Option<f64>,
    /// Seconds to wait for a connection to this provider (default from `[http]`, 5).
    /// A client with its own value gets its own connection pool.
    #[serde(default, deserialize_with = "de_opt_f64")]
    pub connect_timeout: Option<f64>,
    /// Largest response accepted from this provider, in bytes.
    pub max_response_bytes: Option<usize>,
    /// Allow plain-http endpoints on non-loopback hosts. Unsafe: tokens travel in clear.
    #[serde(default)]
    pub allow_insecure_http: bool,
    /// Revoke the user's tokens at the provider when they log out (RFC 7009, the refresh
    /// token first), if it has a revocation endpoint. On when absent; `false` leaves them
    /// valid at the provider until they expire (an explicit opt-out).
    pub revoke_tokens_on_logout: Option<bool>,
    /// Accept the provider's back-channel logout tokens at `POST /backchannel-logout/{name}`
    /// (OpenID Connect Back-Channel Logout 1.0), ending the sessions they name. On when
    /// absent; `false` answers that route 501.
    pub backchannel_logout: Option<bool>,
    /// ID token signing algorithms accepted (default: the provider's advertised asymmetric
    /// algorithms, or RS256 without metadata). HS256/384/512 must be listed here to be
    /// accepted.
    #[serde(default, deserialize_with = "de_opt_list")]
    pub id_token_signing_algs: Option<Vec<String>>,
    /// Other spellings of the issuer that ID tokens may carry (Google's
    /// `accounts.google.com`).
    #[serde(default, deserialize_with = "de_opt_list")]
    pub issuer_aliases: Option<Vec<String>>,
    /// Clock leeway for ID token times, seconds (default 60).
    pub leeway: Option<u64>,
    /// Call the userinfo endpoint after login: `true` always, `false` never. By default
    /// it is called when there is no ID token, or when the ID token lacks the claims the
    /// scope asked for (`email`, `profile`, `address`, `phone`).
    pub fetch_userinfo: Option<bool>,
    /// Send and check a nonce when the scope has `openid` (default true). Turning it off is
    /// for providers that drop it (LinkedIn).
    pub check_nonce: Option<bool>,
    /// Require `auth_time` in every ID token, even when the login did not send `max_age`
    /// (default false; the `require_auth_time` client metadata of OpenID Connect Dynamic
    /// Client Registration §2).
    pub require_auth_time: Option<bool>,
    /// Extra headers for API calls (`Notion-Version`, `Client-Id`, ...). A `User-Agent`
    /// here is also sent to the token endpoint and the other back-channel endpoints.
    #[serde(default)]
    pub api_headers: BTreeMap<String, String>,
    /// OAuth 1.0a signature method: `HMAC-SHA1` (default), `HMAC-SHA256`, `PLAINTEXT`,
    /// `RSA-SHA1`, `RSA-SHA256`.
    pub signature_method: Option<String>,
    /// OAuth 1.0a parameter placement: `HEADER` (default), `QUERY` or `BODY`.
    pub signature_type: Option<SignatureType>,
    /// OAuth 1.0a `realm` for the Authorization header.
    pub realm: Option<String>,
    /// OAuth 1.0a RSA private key, PEM. Prefer the environment.
    pub rsa_private_key: Option<Secret>,
    /// The private key for `private_key_jwt`: PEM (PKCS#8, PKCS#1 RSA or SEC1 EC) or a
    /// private JWK as JSON. RSA, EC P-256/P-384 and Ed25519. Prefer the environment.
    pub client_assertion_key: Option<Secret>,
    /// The `kid` put in client assertions (default: the JWK's own `kid`, else none).
    pub client_assertion_kid: Option<String>,
    /// The client assertion's signing algorithm (default: RS256 for RSA keys, ES256/ES384
    /// for EC keys, EdDSA for Ed25519, HS256 for `client_secret_jwt`).
    pub client_assertion_alg: Option<String>,
    /// Seconds before expiry at which a stored token is refreshed before use (default 60).
    pub token_refresh_leeway: Option<u64>,
    /// Pushed authorization requests (RFC 9126): `true` always (the metadata must name
    /// the endpoint), `false` never. By default they are used when the provider's
    /// metadata has `require_pushed_authorization_requests`.
    pub pushed_authorization_requests: Option<bool>,
    /// Resource indicators (RFC 8707): the protected resources the token is for, as
    /// absolute URIs; sent as `resource` in the authorization request and in every
    /// token request (code, refresh).
    #[serde(default, deserialize_with = "de_opt_list")]
    pub resource: Option<Vec<String>>,
    /// Signed request objects (RFC 9101, JAR): `true` sends the authorization request as
    /// a JWT signed with `client_assertion_key` (by value, or inside the pushed request
    /// with PAR), `false` never. By default on when the provider's metadata has
    /// `require_signed_request_object`.
    pub request_object: Option<bool>,
    /// DPoP (RFC 9449): bind the access and refresh tokens to a proof key of this client,
    /// and prove possession on every token request and API call. Off by default.
    #[serde(default)]
    pub dpop: bool,
    /// The DPoP proof key's algorithm: `ES256` (default) or `EdDSA`.
    pub dpop_alg: Option<String>,
    /// The DPoP proof key, a PKCS#8 PEM (EC P-256 or Ed25519), shared by every instance
    /// of the app; generated at start-up when absent (bound tokens then work only in this
    /// process). Prefer the environment.
    pub dpop_key: Option<Secret>,
}

/// How many `__`-separated levels an environment variable may name below the prefix: the
/// deepest setting (`FERROAUTH__CLIENTS__NAME__CLIENT_KWARGS__KEY`) has four, and values
/// such as `authorize_params` hold a few more.
const MAX_ENV_DEPTH: usize = 12;

/// Refuses an environment variable the settings reader would misread, before it reads it:
/// brackets (an array index, as in a file), a dot (it splits keys on dots as well, so
/// `FERROAUTH__CLIENTS__A.B__CLIENT_ID` would set client `a`'s table `b`), or more levels
/// than any setting has (a 1 KiB name of hundreds of levels took the reader over a second:
/// the `settings_env` fuzz target, 2026-12-08).
fn check_env_key(key: &str) -> Result<(), SettingsError> {
    let refuse = |why: &str| {
        Err(SettingsError::new(format!(
            "environment variable {key} {why}"
        )))
    };
    if key.contains(['[', ']']) {
        return refuse("has brackets, which the settings reader would take for an array index");
    }
    if key.contains('.') {
        return refuse("has a dot: settings keys are separated by `__`, and no key has a dot");
    }
    if key.split("__").count() > MAX_ENV_DEPTH + 1 {
        return refuse(&format!(
            "names more than {MAX_ENV_DEPTH} levels of `__`-separated keys, deeper than any setting"
        ));
    }
    Ok(())
}

/// Refuses keys with `[` or `]` before the settings reader sees them: it reads
/// `"name[8818081]" = 1` as an index into an array and builds one of nine million entries
/// (found by the `settings` fuzz target: 13 s and a gigabyte for a 15-byte file). No
/// setting of ferroauth has a bracket in its name.
fn check_keys(
    source: &config::File<config::FileSourceString, config::FileFormat>,
) -> Result<(), SettingsError> {
    use config::Source as _;
    let top = source
        .collect()
        .map_err(|e| SettingsError::new(e.to_string()))?;
    let mut pending: Vec<(String, &config::Value)> =
        top.iter().map(|(k, v)| (k.clone(), v)).collect();
    while let Some((key, value)) = pending.pop() {
        if key.contains(['[', ']']) {
            return Err(SettingsError::for_setting(
                &key,
                "has brackets in its name, which no setting has",
            ));
        }
        match &value.kind {
            config::ValueKind::Table(table) => {
                pending.extend(table.iter().map(|(k, v)| (format!("{key}.{k}"), v)));
            }
            config::ValueKind::Array(items) => {
                pending.extend(items.iter().map(|v| (key.clone(), v)));
            }
            _ => {}
        }
    }
    Ok(())
}

fn de_opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Num {
        F(f64),
        S(String),
    }
    match Option::<Num>::deserialize(d)? {
        None => Ok(None),
        Some(Num::F(f)) => Ok(Some(f)),
        Some(Num::S(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("expected a number, found {s:?}"))),
    }
}

fn de_opt_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum List {
        L(Vec<String>),
        S(String),
    }
    Ok(Option::<List>::deserialize(d)?.map(|l| match l {
        List::L(v) => v,
        List::S(s) => s
            .split([' ', ','])
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect(),
    }))
}

impl Settings {
    /// Loads settings from a TOML file, then applies `FERROAUTH__...` environment
    /// overrides from the process environment.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, SettingsError> {
        Self::load(Some(path.as_ref()), std::env::vars())
    }

    /// Loads settings from the process environment alone.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::load(None, std::env::vars())
    }

    /// Parses settings from TOML text (no environment overrides).
    pub fn from_toml_str(text: &str) -> Result<Self, SettingsError> {
        let source = config::File::from_str(text, config::FileFormat::Toml);
        check_keys(&source)?;
        Self::build(config::Config::builder().add_source(source), None)
    }

    /// Loads an optional file plus overrides from the given environment variables (the
    /// process environment in [`Settings::from_file`]; explicit here for tests).
    pub fn load(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, SettingsError> {
        let overrides: config::Map<String, String> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with(&format!("{ENV_PREFIX}__")))
            .collect();
        let mut builder = config::Config::builder();
        if let Some(path) = path {
            let text = std::fs::read_to_string(path).map_err(|e| SettingsError {
                file: Some(path.to_owned()),
                ..SettingsError::new(format!("cannot read the file: {e}"))
            })?;
            let source = config::File::from_str(&text, config::FileFormat::Toml);
            check_keys(&source).map_err(|e| SettingsError {
                file: Some(path.to_owned()),
                ..e
            })?;
            builder = builder.add_source(source);
        }
        for key in overrides.keys() {
            check_env_key(key)?;
        }
        let environment = config::Environment::with_prefix(ENV_PREFIX)
            .prefix_separator("__")
            .separator("__")
            .try_parsing(true)
            .source(Some(overrides));
        Self::build(builder.add_source(environment), path)
    }

    fn build(
        builder: config::ConfigBuilder<config::builder::DefaultState>,
        path: Option<&Path>,
    ) -> Result<Self, SettingsError> {
        let in_file = |mut e: SettingsError| {
            e.file = path.map(Path::to_owned);
            e
        };
        let merged = builder
            .build()
            .map_err(|e| in_file(SettingsError::new(e.to_string())))?;
        let root: config::Map<String, config::Value> = merged
            .try_deserialize()
            .map_err(|e| in_file(SettingsError::new(e.to_string())))?;
        Self::from_tree(root).map_err(in_file)
    }

    fn from_tree(root: config::Map<String, config::Value>) -> Result<Self, SettingsError> {
        let mut settings = Settings::default();
        for (section, value) in root {
            match section.as_str() {
                "clients" => {
                    let table = value
                        .into_table()
                        .map_err(|e| SettingsError::for_setting("clients", e.to_string()))?;
                    for (name, value) in table {
                        let client: ClientSettings = deserialize_at(value, |key, msg| {
                            SettingsError::for_key(&name, key, msg)
                        })?;
                        // What a preset cannot change is checked now, so that the error
                        // names the file; the rest once the client is registered, its
                        // preset applied (`OAuth::from_settings`): settings know nothing
                        // of presets.
                        check_given(&name, &client)?;
                        settings.clients.insert(name, client);
                    }
                }
                "login" => settings.login = deserialize_at(value, section_error("login"))?,
                "http" => {
                    settings.http = deserialize_at(value, section_error("http"))?;
                    // Checked here too, not only when the client is built, so that the
                    // error names the settings file.
                    crate::http::check_settings(&settings.http)?;
                }
                other => {
                    return Err(SettingsError::for_setting(
                        other,
                        "unknown section; expected clients, login or http",
                    ));
                }
            }
        }
        Ok(settings)
    }
}

fn section_error(section: &'static str) -> impl Fn(&str, String) -> SettingsError {
    move |key, message| {
        if key.is_empty() {
            SettingsError::for_setting(section, message)
        } else {
            SettingsError::for_setting(&format!("{section}.{key}"), message)
        }
    }
}

fn deserialize_at<T: serde::de::DeserializeOwned>(
    value: config::Value,
    error: impl Fn(&str, String) -> SettingsError,
) -> Result<T, SettingsError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let key = if path == "." { String::new() } else { path };
        error(&key, e.into_inner().to_string())
    })
}

/// Checks what serde cannot: URLs parse, and the combination of keys makes a usable client.
/// Checks a client's settings as it is registered, its preset (if any) applied: what
/// [`check_given`] checks, and that every required key is there.
pub(crate) fn validate_client(name: &str, c: &ClientSettings) -> Result<(), SettingsError> {
    check_given(name, c)?;
    check_required(name, c)
}

/// What can be checked of a client's settings as they are read, before a preset may fill
/// them in: every URL given is an http(s) URL, every timeout a positive number.
fn check_given(name: &str, c: &ClientSettings) -> Result<(), SettingsError> {
    let urls = [
        ("authorize_url", &c.authorize_url),
        ("access_token_url", &c.access_token_url),
        ("request_token_url", &c.request_token_url),
        ("api_base_url", &c.api_base_url),
        ("server_metadata_url", &c.server_metadata_url),
        ("userinfo_endpoint", &c.userinfo_endpoint),
        ("jwks_uri", &c.jwks_uri),
        ("revocation_endpoint", &c.revocation_endpoint),
        ("introspection_endpoint", &c.introspection_endpoint),
        ("end_session_endpoint", &c.end_session_endpoint),
        (
            "device_authorization_endpoint",
            &c.device_authorization_endpoint,
        ),
    ];
    for (key, value) in urls {
        if let Some(value) = value {
            let url = url::Url::parse(value)
                .map_err(|e| SettingsError::for_key(name, key, format!("not a URL ({e})")))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(SettingsError::for_key(name, key, "must be an http(s) URL"));
            }
        }
    }
    for (key, value) in [
        ("client_kwargs.timeout", c.client_kwargs.timeout),
        (
            "client_kwargs.connect_timeout",
            c.client_kwargs.connect_timeout,
        ),
    ] {
        if let Some(t) = value
            && !(t.is_finite() && t > 0.0)
        {
            return Err(SettingsError::for_key(
                name,
                key,
                "must be a positive number of seconds",
            ));
        }
    }
    Ok(())
}

/// The keys a client cannot do without, once its preset filled in what it knows.
fn check_required(name: &str, c: &ClientSettings) -> Result<(), SettingsError> {
    if c.client_id.as_deref().is_none_or(str::is_empty) {
        return Err(SettingsError::for_key(name, "client_id", "is required"));
    }
    if c.is_oauth1() {
        for (key, value) in [
            ("authorize_url", &c.authorize_url),
            ("access_token_url", &c.access_token_url),
        ] {
            if value.is_none() {
                return Err(SettingsError::for_key(
                    name,
                    key,
                    "is required for an OAuth 1.0a client",
                ));
            }
        }
    } else if c.server_metadata_url.is_none() {
        for (key, value) in [
            ("authorize_url", &c.authorize_url),
            ("access_token_url", &c.access_token_url),
        ] {
            if value.is_none() {
                return Err(SettingsError::for_key(
                    name,
                    key,
                    "is required when server_metadata_url is not set",
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// Regression: the `settings` fuzz target's 15-byte input that made the settings
    /// reader build a nine-million-entry array (fuzz/artifacts, 2026-12-04).
    #[test]
    fn bracketed_keys_are_refused_before_they_become_arrays() {
        let e = Settings::from_toml_str("\"Mi[8818081]\"=1").unwrap_err();
        assert!(e.to_string().contains("brackets"), "{e}");
        let nested = "[clients.a]\n\"client_id[9]\" = \"x\"\n";
        let e = Settings::from_toml_str(nested).unwrap_err();
        assert!(e.to_string().contains("clients.a.client_id[9]"), "{e}");
        let env = [(
            "FERROAUTH__CLIENTS__A__X[99999999]".to_owned(),
            "1".to_owned(),
        )];
        let e = Settings::load(None, env).unwrap_err();
        assert!(e.to_string().contains("brackets"), "{e}");
    }

    /// Regression: the `settings_env` fuzz target's 1,270-byte variable name of hundreds of
    /// dotted and `__` levels, which the reader took over a second to build and drop.
    #[test]
    fn environment_keys_with_dots_or_too_many_levels_are_refused() {
        let load = |key: &str| Settings::load(None, [(key.to_owned(), "x".to_owned())]);
        let e = load("FERROAUTH__CLIENTS__A.B__CLIENT_ID").unwrap_err();
        assert!(e.to_string().contains("has a dot"), "{e}");
        let deep = format!("FERROAUTH{}", "__A".repeat(MAX_ENV_DEPTH + 1));
        let e = load(&deep).unwrap_err();
        assert!(e.to_string().contains("levels"), "{e}");
        // The deepest real setting still loads.
        let ok = [
            ("FERROAUTH__CLIENTS__A__CLIENT_ID", "id"),
            (
                "FERROAUTH__CLIENTS__A__AUTHORIZE_URL",
                "https://idp.example/authorize",
            ),
            (
                "FERROAUTH__CLIENTS__A__ACCESS_TOKEN_URL",
                "https://idp.example/token",
            ),
            ("FERROAUTH__CLIENTS__A__CLIENT_KWARGS__SCOPE", "openid"),
        ];
        let settings = Settings::load(None, ok.map(|(k, v)| (k.to_owned(), v.to_owned())))
            .expect("four levels load");
        assert!(settings.clients.contains_key("a"));
    }

    use super::*;

    const GOOD: &str = r#"
[login]
pending_ttl = 300

[clients.google]
client_id = "g-id"
client_secret = "g-secret"
server_metadata_url = "https://accounts.google.com/.well-known/openid-configuration"
client_kwargs = { scope = "openid email profile", issuer_aliases = "accounts.google.com" }

[clients.github]
client_id = "gh-id"
authorize_url = "https://github.com/login/oauth/authorize"
access_token_url = "https://github.com/login/oauth/access_token"
api_base_url = "https://api.github.com/"
userinfo_endpoint = "https://api.github.com/user"
client_kwargs = { scope = "read:user", token_endpoint_auth_method = "client_secret_post", timeout = 5 }
"#;

    fn write_temp(text: &str) -> tempfile::NamedTempFile {
        use std::io::Write;
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn reads_clients_with_authlib_keys() {
        let s = Settings::from_toml_str(GOOD).unwrap();
        assert_eq!(s.login.pending_ttl, 300);
        assert_eq!(s.login.max_pending, 10);
        let g = &s.clients["google"];
        assert_eq!(g.client_secret.as_ref().unwrap().expose(), "g-secret");
        assert_eq!(
            g.client_kwargs.issuer_aliases.as_deref(),
            Some(&["accounts.google.com".to_owned()][..])
        );
        let gh = &s.clients["github"];
        assert_eq!(
            gh.client_kwargs.token_endpoint_auth_method,
            Some(TokenEndpointAuthMethod::ClientSecretPost)
        );
        assert_eq!(gh.client_kwargs.timeout, Some(5.0));
        assert!(!gh.is_oauth1());
    }

    #[test]
    fn environment_overrides_any_key() {
        let f = write_temp(GOOD);
        let env = [
            ("FERROAUTH__CLIENTS__GITHUB__CLIENT_SECRET", "12345"),
            ("FERROAUTH__CLIENTS__GITHUB__CLIENT_KWARGS__TIMEOUT", "2.5"),
            ("FERROAUTH__CLIENTS__GOOGLE__CLIENT_ID", "from-env"),
            ("UNRELATED", "x"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let s = Settings::load(Some(f.path()), env).unwrap();
        let gh = &s.clients["github"];
        assert_eq!(gh.client_secret.as_ref().unwrap().expose(), "12345");
        assert_eq!(gh.client_kwargs.timeout, Some(2.5));
        assert_eq!(s.clients["google"].client_id.as_deref(), Some("from-env"));
        // Keys the environment did not touch are kept.
        assert_eq!(gh.client_kwargs.scope.as_deref(), Some("read:user"));
    }

    #[test]
    fn a_client_can_come_from_the_environment_alone() {
        let env = [
            ("FERROAUTH__CLIENTS__DEV__CLIENT_ID", "dev"),
            (
                "FERROAUTH__CLIENTS__DEV__SERVER_METADATA_URL",
                "http://127.0.0.1:9/.well-known/openid-configuration",
            ),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let s = Settings::load(None, env).unwrap();
        assert_eq!(s.clients["dev"].client_id.as_deref(), Some("dev"));
    }

    #[test]
    fn a_bad_value_names_file_client_and_key() {
        let f = write_temp(&GOOD.replace("timeout = 5", "timeout = \"soon\""));
        let e = Settings::load(Some(f.path()), []).unwrap_err();
        assert_eq!(e.file.as_deref(), Some(f.path()));
        assert_eq!(e.client.as_deref(), Some("github"));
        assert_eq!(e.key.as_deref(), Some("client_kwargs.timeout"));
        let shown = e.to_string();
        assert!(
            shown.contains("github") && shown.contains("client_kwargs.timeout"),
            "{shown}"
        );
    }

    #[test]
    fn unknown_keys_are_errors() {
        let e = Settings::from_toml_str(&GOOD.replace(
            "client_id = \"gh-id\"",
            "client_id = \"gh-id\"\nclent_secret = \"x\"",
        ))
        .unwrap_err();
        assert_eq!(e.client.as_deref(), Some("github"));
        assert!(e.message.contains("clent_secret"), "{e}");
        let e = Settings::from_toml_str("[clinets.x]\nclient_id = \"a\"").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("clinets"));
    }

    #[test]
    fn bad_urls_and_missing_endpoints_are_errors() {
        let e = Settings::from_toml_str(&GOOD.replace("https://api.github.com/user", "not a url"))
            .unwrap_err();
        assert_eq!(e.key.as_deref(), Some("userinfo_endpoint"));
        // Missing keys once the client is registered, its preset (none here) applied.
        // Not `x`: a client named like a preset (X) gets its endpoints.
        let missing = |toml: &str| {
            let settings = Settings::from_toml_str(toml).expect("read; checked when registered");
            match crate::OAuth::from_settings(&settings).unwrap_err() {
                crate::Error::Settings(e) => e,
                other => panic!("{other}"),
            }
        };
        let e = missing("[clients.plain]\nclient_id = \"a\"");
        assert_eq!(e.key.as_deref(), Some("authorize_url"));
        let e = missing(
            "[clients.plain]\nserver_metadata_url = \"https://a.example/.well-known/openid-configuration\"",
        );
        assert_eq!(e.key.as_deref(), Some("client_id"));
    }

    #[test]
    fn toml_syntax_errors_name_the_file() {
        let f = write_temp("[clients.x\nclient_id=");
        let e = Settings::load(Some(f.path()), []).unwrap_err();
        assert_eq!(e.file.as_deref(), Some(f.path()));
    }

    #[test]
    fn debug_hides_secrets() {
        let s = Settings::from_toml_str(GOOD).unwrap();
        assert!(!format!("{s:?}").contains("g-secret"));
    }
}
