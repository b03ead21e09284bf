//! One registered client: its settings, and what it derives from them and the provider's
//! metadata (endpoints, client authentication, ID token algorithms), resolved once.
//!
//! [`OAuthClient`]'s operations are grouped in this module's private files, each named
//! after what it does: `login` (the OAuth 2.0 / OpenID Connect login), `oauth1_login`
//! (OAuth 1.0a), `token_endpoint` (token requests and client authentication), `grants`
//! (client credentials and extension grants), `refresh` (the single-flight refresh),
//! `api` (API calls), `revocation` (revocation, introspection, logout URL). They reach the
//! client's internals here; none of them knows about web frameworks or sessions.

use std::sync::{Arc, OnceLock, RwLock};

use http::header::{ACCEPT, HeaderMap, HeaderValue};
use serde_json::Value;
use tokio::sync::OnceCell;
use url::Url;

use crate::client::oauth1_login::OAuth1Setup;
use crate::client::oidc::JwksCache;
use crate::client::refresh::RefreshCoordinator;
use crate::error::Error;
use crate::error::SettingsError;
use crate::hooks::ComplianceHooks;
use crate::http::HttpSettings;
use crate::http::{CallLimits, HttpClient, Method};
use crate::presets::Preset;
use crate::presets::deviations::Active as Deviations;
use crate::proto::jose::client_assertion::ClientAssertionKey;
use crate::proto::jose::jws::Algorithm;
use crate::proto::oauth2::client_auth::ClientCredentials;
use crate::proto::oauth2::client_auth::TokenEndpointAuthMethod;
use crate::proto::oidc::metadata::{ProviderMetadata, expected_issuer, same_issuer};
use crate::session::pending::PendingPolicy;
use crate::settings::ClientSettings;
use crate::token::OAuth2Token;

mod api;
mod api_path;
mod device;
mod dpop;
mod grants;
mod login;
mod oauth1_login;
mod oidc;
mod par;
mod quirk_calls;
pub(crate) mod refresh;
pub mod registration;
mod request_object;
mod revocation;
mod token_endpoint;

pub use api::ApiRequest;
pub use device::{DeviceAuthorization, DevicePoll};

pub(crate) use login::{check_userinfo_subject, merge_userinfo};
pub use revocation::Introspection;

/// A registered client. Cheap to clone.
#[derive(Clone)]
pub struct OAuthClient {
    inner: Arc<ClientInner>,
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClient")
            .field("name", &self.inner.name)
            .finish_non_exhaustive()
    }
}

struct ClientInner {
    name: String,
    settings: ClientSettings,
    http: HttpClient,
    limits: CallLimits,
    policy: PendingPolicy,
    resolved: OnceCell<Arc<Resolved>>,
    jwks: JwksCache,
    oauth1: Option<OAuth1Setup>,
    hooks: RwLock<Arc<ComplianceHooks>>,
    /// The registry's single-flight refresh coordinator, shared by every client.
    refresher: Arc<RefreshCoordinator>,
    /// The `private_key_jwt` key, when configured.
    private_key: Option<ClientAssertionKey>,
    /// Id and secret for basic/post/none, with the Basic header built once.
    credentials: ClientCredentials,
    /// `client_kwargs.api_headers`, parsed and checked once at registration.
    api_headers: HeaderMap,
    /// The `client_secret_jwt` key, when the secret can be one.
    secret_jwt_key: Option<ClientAssertionKey>,
    /// The cached client-credentials token (see `client_credentials_token`).
    service_token: tokio::sync::Mutex<Option<OAuth2Token>>,
    /// `api_base_url`, parsed, checked and made a directory at registration; `None` when
    /// unset or refused (the API call that needs it then reports why).
    api_base: Option<Url>,
    /// The first redirect URI found to be a URL (see `check_redirect_uri`).
    redirect_uri_checked: OnceLock<Box<str>>,
    /// The DPoP proof key and nonces, when `client_kwargs.dpop` is on.
    dpop: Option<dpop::DpopBinding>,
    /// The preset the settings came from, and its deviations' extension points.
    preset: Option<&'static Preset>,
    deviations: Deviations,
    /// A fediverse template's instances (see `registration`); `None` for other clients.
    fediverse: Option<registration::Instances>,
}

/// What a client runs besides its settings: hooks, and its preset's deviations.
pub(crate) struct Behaviour {
    pub(crate) hooks: ComplianceHooks,
    pub(crate) preset: Option<&'static Preset>,
    pub(crate) deviations: Deviations,
    /// Set for a fediverse template: the instances its logins name.
    pub(crate) fediverse: Option<registration::Instances>,
}

/// Everything derived from settings and metadata, computed once per client.
pub(crate) struct Resolved {
    pub(crate) metadata: Option<Arc<ProviderMetadata>>,
    pub(crate) authorize: Url,
    pub(crate) token: Url,
    pub(crate) userinfo: Option<Url>,
    pub(crate) jwks_uri: Option<Url>,
    pub(crate) revocation: Option<Url>,
    pub(crate) introspection: Option<Url>,
    pub(crate) end_session: Option<Url>,
    /// RFC 9126: the pushed authorization request endpoint, and whether the provider
    /// requires it.
    pub(crate) par: Option<Url>,
    pub(crate) require_par: bool,
    /// RFC 9101: the provider accepts only signed request objects.
    pub(crate) require_request_object: bool,
    /// RFC 8628: the device authorization endpoint.
    pub(crate) device_authorization: Option<Url>,
    pub(crate) issuer: Option<String>,
    pub(crate) issuer_aliases: Vec<String>,
    pub(crate) require_iss: bool,
    pub(crate) auth_method: TokenEndpointAuthMethod,
    pub(crate) id_token_algs: Vec<crate::proto::jose::jws::Algorithm>,
}

impl OAuthClient {
    /// Whether its connections reach public addresses only (see `http::public_only`).
    #[cfg(test)]
    pub(crate) fn http_is_public_only(&self) -> bool {
        self.inner.http.is_public_only()
    }
}

impl OAuthClient {
    pub(crate) fn new(
        name: &str,
        settings: ClientSettings,
        http: HttpClient,
        http_settings: &HttpSettings,
        policy: PendingPolicy,
        refresher: Arc<RefreshCoordinator>,
        behaviour: Behaviour,
    ) -> Result<Self, Error> {
        let timeout = settings
            .client_kwargs
            .timeout
            .unwrap_or(http_settings.timeout);
        let limits = CallLimits {
            client: name.to_owned(),
            timeout: crate::http::secs(timeout),
            max_body: settings
                .client_kwargs
                .max_response_bytes
                .unwrap_or(http_settings.max_response_bytes),
        };
        let oauth1 = if settings.is_oauth1() {
            Some(OAuth1Setup::from_settings(name, &settings)?)
        } else {
            None
        };
        let kwargs = &settings.client_kwargs;
        let key_error =
            |e: crate::proto::jose::client_assertion::KeyError| Error::InvalidClientAssertionKey {
                client: name.to_owned(),
                reason: e.0,
            };
        let private_key = kwargs
            .client_assertion_key
            .as_ref()
            .map(|pem| {
                ClientAssertionKey::from_private_key(
                    pem.expose(),
                    kwargs.client_assertion_alg.as_deref(),
                    kwargs.client_assertion_kid.as_deref(),
                )
            })
            .transpose()
            .map_err(key_error)?;
        let wants_secret_jwt =
            kwargs.token_endpoint_auth_method == Some(TokenEndpointAuthMethod::ClientSecretJwt);
        let secret_jwt_key = match &settings.client_secret {
            Some(secret) => {
                let alg = kwargs
                    .client_assertion_alg
                    .as_deref()
                    .filter(|_| private_key.is_none());
                match ClientAssertionKey::from_client_secret(secret, alg) {
                    Ok(key) => Some(key),
                    // Only an error when the settings ask for client_secret_jwt; otherwise
                    // the method is simply not available for this secret.
                    Err(e) if wants_secret_jwt => return Err(key_error(e)),
                    Err(_) => None,
                }
            }
            None if wants_secret_jwt => {
                return Err(key_error(crate::proto::jose::client_assertion::KeyError(
                    "client_secret_jwt needs client_secret".into(),
                )));
            }
            None => None,
        };
        if kwargs.token_endpoint_auth_method == Some(TokenEndpointAuthMethod::PrivateKeyJwt)
            && private_key.is_none()
        {
            return Err(key_error(crate::proto::jose::client_assertion::KeyError(
                "private_key_jwt needs client_kwargs.client_assertion_key".into(),
            )));
        }
        let api_base = settings
            .api_base_url
            .as_deref()
            .and_then(|raw| crate::http::endpoint(name, raw, kwargs.allow_insecure_http).ok())
            .map(crate::client::api::api_base);
        let credentials = ClientCredentials::new(
            settings.client_id.as_deref().unwrap_or_default(),
            settings.client_secret.as_ref(),
        );
        let api_headers = kwargs
            .api_headers
            .iter()
            .map(|(k, v)| {
                crate::http::header(k, v).ok_or_else(|| {
                    SettingsError::for_key(
                        name,
                        &format!("client_kwargs.api_headers.{k}"),
                        "is not a valid HTTP header name and value",
                    )
                })
            })
            .collect::<Result<HeaderMap, _>>()?;
        let dpop_key = kwargs.dpop_key.as_ref().map(crate::Secret::expose);
        let dpop = kwargs
            .dpop
            .then(|| dpop::DpopBinding::new(kwargs.dpop_alg.as_deref(), dpop_key))
            .transpose()
            .map_err(|e| {
                let key = match dpop_key {
                    Some(_) => "client_kwargs.dpop_key",
                    None => "client_kwargs.dpop_alg",
                };
                SettingsError::for_key(name, key, e)
            })?;
        Ok(Self {
            inner: Arc::new(ClientInner {
                name: name.to_owned(),
                settings,
                http,
                limits,
                policy,
                resolved: OnceCell::new(),
                jwks: JwksCache::default(),
                oauth1,
                hooks: RwLock::new(Arc::new(behaviour.hooks)),
                refresher,
                private_key,
                credentials,
                api_headers,
                secret_jwt_key,
                service_token: tokio::sync::Mutex::new(None),
                api_base,
                redirect_uri_checked: OnceLock::new(),
                dpop,
                preset: behaviour.preset,
                deviations: behaviour.deviations,
                fediverse: behaviour.fediverse,
            }),
        })
    }

    /// The client's registered name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The preset this client's settings came from, if any (see [`crate::presets`]).
    pub fn preset(&self) -> Option<&'static Preset> {
        self.inner.preset
    }

    /// The client's settings, with its preset's defaults filled in.
    pub fn settings(&self) -> &ClientSettings {
        &self.inner.settings
    }

    /// Replaces the client's compliance hooks (for every clone of this client).
    pub fn set_hooks(&self, hooks: ComplianceHooks) {
        *self.inner.hooks.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(hooks);
    }

    /// The client's compliance hooks.
    pub fn hooks(&self) -> Arc<ComplianceHooks> {
        self.inner
            .hooks
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The public JWK of the `private_key_jwt` key, to register at the provider.
    pub fn client_assertion_jwk(&self) -> Option<Value> {
        self.inner
            .private_key
            .as_ref()
            .and_then(ClientAssertionKey::public_jwk)
    }

    /// Whether this is an OAuth 1.0a client.
    pub fn is_oauth1(&self) -> bool {
        self.inner.settings.is_oauth1()
    }

    /// The provider metadata (fetched once, then cached), if the client has a
    /// `server_metadata_url`.
    pub async fn server_metadata(&self) -> Result<Option<Arc<ProviderMetadata>>, Error> {
        Ok(self.resolved().await?.metadata.clone())
    }

    pub(crate) fn client_id(&self) -> &str {
        self.inner.settings.client_id.as_deref().unwrap_or_default()
    }

    /// Refuses a `redirect_uri` that is not an absolute URL, as a misconfiguration rather
    /// than the provider's less clear error. An app passes the same one on nearly every
    /// login, so the first one accepted is kept (without a lock) and not parsed again.
    pub(crate) fn check_redirect_uri(&self, redirect_uri: &str) -> Result<(), Error> {
        let known = &self.inner.redirect_uri_checked;
        if known.get().is_some_and(|k| **k == *redirect_uri) {
            return Ok(());
        }
        Url::parse(redirect_uri).map_err(|e| {
            self.misconfigured(format!("redirect_uri {redirect_uri:?} is not a URL ({e})"))
        })?;
        let _ = known.set(redirect_uri.into());
        Ok(())
    }

    pub(crate) fn misconfigured(&self, reason: impl Into<String>) -> Error {
        Error::Misconfigured {
            client: self.inner.name.clone(),
            reason: reason.into(),
        }
    }

    pub(crate) fn endpoint(&self, raw: &str) -> Result<Url, Error> {
        crate::http::endpoint(
            &self.inner.name,
            raw,
            self.inner.settings.client_kwargs.allow_insecure_http,
        )
    }

    pub(crate) async fn resolved(&self) -> Result<Arc<Resolved>, Error> {
        self.inner
            .resolved
            .get_or_try_init(|| async { self.resolve().await.map(Arc::new) })
            .await
            .cloned()
    }

    async fn resolve(&self) -> Result<Resolved, Error> {
        let settings = &self.inner.settings;
        let metadata = match &settings.server_metadata_url {
            Some(url) => Some(self.discover(url).await?),
            None => None,
        };
        let pick = |configured: &Option<String>, discovered: Option<&String>| {
            configured.as_ref().or(discovered).cloned()
        };
        let m = metadata.as_ref();
        let required = |key: &str, value: Option<String>| {
            value.ok_or_else(|| {
                self.misconfigured(format!("no {key}: set it or server_metadata_url"))
            })
        };
        let authorize = self.endpoint(&required(
            "authorize_url",
            pick(
                &settings.authorize_url,
                m.and_then(|m| m.authorization_endpoint.as_ref()),
            ),
        )?)?;
        let token = self.endpoint(&required(
            "access_token_url",
            pick(
                &settings.access_token_url,
                m.and_then(|m| m.token_endpoint.as_ref()),
            ),
        )?)?;
        let optional = |configured: &Option<String>, discovered: Option<&String>| {
            pick(configured, discovered)
                .map(|u| self.endpoint(&u))
                .transpose()
        };
        let userinfo = optional(
            &settings.userinfo_endpoint,
            m.and_then(|m| m.userinfo_endpoint.as_ref()),
        )?;
        let jwks_uri = optional(&settings.jwks_uri, m.and_then(|m| m.jwks_uri.as_ref()))?;
        let revocation = optional(
            &settings.revocation_endpoint,
            m.and_then(|m| m.revocation_endpoint.as_ref()),
        )?;
        let introspection = optional(
            &settings.introspection_endpoint,
            m.and_then(|m| m.introspection_endpoint.as_ref()),
        )?;
        let end_session = optional(
            &settings.end_session_endpoint,
            m.and_then(|m| m.end_session_endpoint.as_ref()),
        )?;
        let par = optional(
            &None,
            m.and_then(|m| m.pushed_authorization_request_endpoint.as_ref()),
        )?;
        let device_authorization = optional(
            &settings.device_authorization_endpoint,
            m.and_then(|m| m.device_authorization_endpoint.as_ref()),
        )?;
        let issuer = pick(&settings.issuer, m.map(|m| &m.issuer));
        if let (Some(dpop), Some(m)) = (&self.inner.dpop, m) {
            dpop.check_server_algs(m.extra.get("dpop_signing_alg_values_supported"))
                .map_err(|reason| self.misconfigured(reason))?;
        }
        Ok(Resolved {
            authorize,
            token,
            userinfo,
            jwks_uri,
            revocation,
            introspection,
            end_session,
            par,
            require_par: m.is_some_and(|m| m.require_pushed_authorization_requests),
            require_request_object: m.is_some_and(|m| m.require_signed_request_object),
            device_authorization,
            issuer,
            issuer_aliases: settings
                .client_kwargs
                .issuer_aliases
                .clone()
                .unwrap_or_default(),
            require_iss: m.is_some_and(|m| m.authorization_response_iss_parameter_supported),
            auth_method: self.auth_method(m),
            id_token_algs: self.id_token_algs(m)?,
            metadata: metadata.map(Arc::new),
        })
    }

    /// The token-endpoint authentication: the configured method; else `private_key_jwt`
    /// when a key is configured; `none` without a secret; with a secret, basic unless the
    /// metadata lists other methods and not basic (RFC 8414 §2 makes basic the default),
    /// then post, then `client_secret_jwt`.
    fn auth_method(&self, metadata: Option<&ProviderMetadata>) -> TokenEndpointAuthMethod {
        let kwargs = &self.inner.settings.client_kwargs;
        if let Some(method) = kwargs.token_endpoint_auth_method {
            return method;
        }
        if self.inner.private_key.is_some() {
            return TokenEndpointAuthMethod::PrivateKeyJwt;
        }
        if self.inner.settings.client_secret.is_none() {
            return TokenEndpointAuthMethod::None;
        }
        let supported = metadata.and_then(|m| m.token_endpoint_auth_methods_supported.as_ref());
        let Some(list) = supported else {
            return TokenEndpointAuthMethod::ClientSecretBasic;
        };
        let offers = |m: TokenEndpointAuthMethod| list.iter().any(|s| s == m.as_str());
        [
            TokenEndpointAuthMethod::ClientSecretBasic,
            TokenEndpointAuthMethod::ClientSecretPost,
        ]
        .into_iter()
        .find(|m| offers(*m))
        .or_else(|| {
            (offers(TokenEndpointAuthMethod::ClientSecretJwt)
                && self.inner.secret_jwt_key.is_some())
            .then_some(TokenEndpointAuthMethod::ClientSecretJwt)
        })
        .unwrap_or(TokenEndpointAuthMethod::ClientSecretBasic)
    }

    fn id_token_algs(&self, metadata: Option<&ProviderMetadata>) -> Result<Vec<Algorithm>, Error> {
        if let Some(configured) = &self.inner.settings.client_kwargs.id_token_signing_algs {
            return configured
                .iter()
                .map(|name| {
                    Algorithm::from_name(name).ok_or_else(|| {
                        self.misconfigured(format!(
                            "id_token_signing_algs: unsupported algorithm {name:?}"
                        ))
                    })
                })
                .collect();
        }
        // Only asymmetric algorithms unless the settings list HS*: a symmetric ID token is
        // keyed with the client secret, which the app must opt into knowingly.
        let advertised: Vec<Algorithm> = metadata
            .and_then(|m| m.id_token_signing_alg_values_supported.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|name| Algorithm::from_name(name))
            .filter(|alg| !alg.is_symmetric())
            .collect();
        Ok(if advertised.is_empty() {
            vec![Algorithm::RS256]
        } else {
            advertised
        })
    }

    async fn discover(&self, raw: &str) -> Result<ProviderMetadata, Error> {
        let url = self.endpoint(raw)?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let response = self
            .inner
            .http
            .send(
                "discovery",
                &self.inner.limits,
                Method::GET,
                &url,
                headers,
                None,
            )
            .await?;
        if !response.is_success() {
            return Err(Error::Discovery(format!(
                "{url} answered HTTP {}",
                response.status
            )));
        }
        let metadata: ProviderMetadata = response
            .json()
            .map_err(|e| Error::Discovery(format!("{url} is not a metadata document ({e})")))?;
        let expected = self
            .inner
            .settings
            .issuer
            .clone()
            .or_else(|| expected_issuer(&url))
            .ok_or_else(|| {
                Error::Discovery(format!(
                    "cannot tell the issuer {url} must name: set `issuer` in the settings"
                ))
            })?;
        // A multi-tenant provider's `common` metadata names its issuer template.
        let multi_tenant = self
            .inner
            .deviations
            .accepts_metadata_issuer(&metadata.issuer, &expected);
        if !same_issuer(&metadata.issuer, &expected) && !multi_tenant {
            return Err(Error::Discovery(format!(
                "the metadata names issuer {:?}, but it was fetched for issuer {expected:?} (OpenID Connect Discovery §4.3)",
                metadata.issuer
            )));
        }
        tracing::debug!(client = %self.inner.name, issuer = %metadata.issuer, "discovered provider metadata");
        Ok(metadata)
    }
}
