//! One registered client: login, userinfo and API calls.

use std::sync::{Arc, RwLock};

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue};
use serde_json::Value;
use tokio::sync::OnceCell;
use tracing::Instrument;
use url::Url;

use crate::Secret;
use crate::callback::CallbackParams;
use crate::client_assertion::ClientAssertionKey;
use crate::error::{Error, HttpFailure, ProviderError};
use crate::hooks::{ComplianceHooks, ProtectedRequest};
use crate::http::{CallLimits, HttpClient, HttpResponse, Method};
use crate::oauth1_login::OAuth1Setup;
use crate::oauth2::{client_auth, pkce, token_response};
use crate::oidc::jws::Algorithm;
use crate::oidc::metadata::{ProviderMetadata, expected_issuer, same_issuer};
use crate::oidc::{IdTokenCheck, JwksCache};
use crate::pending::{PendingLogin, PendingPolicy, PendingStore};
use crate::random;
use crate::refresh::RefreshCoordinator;
use crate::settings::{ClientSettings, CodeChallengeMethod, HttpSettings, TokenEndpointAuthMethod};
use crate::token::{Claims, OAuth2Token, Token};

/// Parameters ferroauth sets itself on an authorization request; settings and callers may
/// not override them, or a check (state, PKCE, nonce) could be silently defeated.
const RESERVED_AUTHORIZE_PARAMS: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
];

/// A finished login.
#[derive(Debug, Clone)]
pub struct Login {
    /// The client's registered name.
    pub client: String,
    /// The token.
    pub token: Token,
    /// The user's claims: the validated ID token's claims merged with userinfo (OpenID
    /// Connect), the profile from `userinfo_endpoint` (plain OAuth 2.0), or the extra
    /// fields of the token response (OAuth 1.0a).
    pub userinfo: Claims,
}

/// Options for one API call.
#[derive(Debug, Clone, Default)]
pub struct ApiRequest {
    /// Query parameters added to the URL.
    pub query: Vec<(String, String)>,
    /// A form body.
    pub form: Option<Vec<(String, String)>>,
    /// A JSON body (ignored when `form` is set).
    pub json: Option<Value>,
    /// Extra headers.
    pub headers: HeaderMap,
}

/// A registered client. Cheap to clone.
#[derive(Clone)]
pub struct OAuthClient {
    pub(crate) inner: Arc<ClientInner>,
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClient")
            .field("name", &self.inner.name)
            .finish_non_exhaustive()
    }
}

pub(crate) struct ClientInner {
    pub(crate) name: String,
    pub(crate) settings: ClientSettings,
    pub(crate) http: HttpClient,
    pub(crate) limits: CallLimits,
    pub(crate) policy: PendingPolicy,
    resolved: OnceCell<Arc<Resolved>>,
    pub(crate) jwks: JwksCache,
    pub(crate) oauth1: Option<OAuth1Setup>,
    pub(crate) hooks: RwLock<Arc<ComplianceHooks>>,
    /// The registry's single-flight refresh coordinator, shared by every client.
    pub(crate) refresher: Arc<RefreshCoordinator>,
    /// The `private_key_jwt` key, when configured.
    pub(crate) private_key: Option<ClientAssertionKey>,
    /// The `client_secret_jwt` key, when the secret can be one.
    pub(crate) secret_jwt_key: Option<ClientAssertionKey>,
    /// The cached client-credentials token (see `client_credentials_token`).
    pub(crate) service_token: tokio::sync::Mutex<Option<OAuth2Token>>,
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
    pub(crate) issuer: Option<String>,
    pub(crate) issuer_aliases: Vec<String>,
    pub(crate) require_iss: bool,
    pub(crate) auth_method: TokenEndpointAuthMethod,
    pub(crate) id_token_algs: Vec<crate::oidc::jws::Algorithm>,
    pub(crate) api_base: Option<Url>,
}

impl OAuthClient {
    pub(crate) fn new(
        name: &str,
        settings: ClientSettings,
        http: HttpClient,
        http_settings: &HttpSettings,
        policy: PendingPolicy,
        refresher: Arc<RefreshCoordinator>,
        hooks: ComplianceHooks,
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
        let key_error = |e: crate::client_assertion::KeyError| Error::InvalidClientAssertionKey {
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
                return Err(key_error(crate::client_assertion::KeyError(
                    "client_secret_jwt needs client_secret".into(),
                )));
            }
            None => None,
        };
        if kwargs.token_endpoint_auth_method == Some(TokenEndpointAuthMethod::PrivateKeyJwt)
            && private_key.is_none()
        {
            return Err(key_error(crate::client_assertion::KeyError(
                "private_key_jwt needs client_kwargs.client_assertion_key".into(),
            )));
        }
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
                hooks: RwLock::new(Arc::new(hooks)),
                refresher,
                private_key,
                secret_jwt_key,
                service_token: tokio::sync::Mutex::new(None),
            }),
        })
    }

    /// The client's registered name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The client's settings.
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

    /// Starts a login: stores a pending-login record in the session and returns the URL to
    /// send the browser to.
    ///
    /// OAuth 2.0: a fresh `state` (256 bits from the OS), PKCE S256 unless turned off, a
    /// `nonce` when the scope has `openid`, and the configured `authorize_params`.
    pub async fn authorize_redirect<S: PendingStore>(
        &self,
        store: &S,
        redirect_uri: &str,
    ) -> Result<Url, Error> {
        self.authorize_redirect_with(store, redirect_uri, &[]).await
    }

    /// [`OAuthClient::authorize_redirect`] with extra per-call authorization parameters
    /// (`prompt`, `login_hint`, `scope`, ...). They override the configured ones, except the
    /// parameters the protocol's checks depend on, which are refused.
    pub async fn authorize_redirect_with<S: PendingStore>(
        &self,
        store: &S,
        redirect_uri: &str,
        params: &[(&str, &str)],
    ) -> Result<Url, Error> {
        let span = tracing::info_span!("authorize_redirect", client = %self.inner.name);
        async {
            if self.is_oauth1() {
                return self
                    .oauth1_authorize_redirect(store, redirect_uri, params)
                    .await;
            }
            self.oauth2_authorize_redirect(store, redirect_uri, params)
                .await
        }
        .instrument(span)
        .await
    }

    async fn oauth2_authorize_redirect<S: PendingStore>(
        &self,
        store: &S,
        redirect_uri: &str,
        params: &[(&str, &str)],
    ) -> Result<Url, Error> {
        let settings = &self.inner.settings;
        let resolved = self.resolved().await?;
        Url::parse(redirect_uri).map_err(|e| {
            self.misconfigured(format!("redirect_uri {redirect_uri:?} is not a URL ({e})"))
        })?;
        let mut scope = settings.client_kwargs.scope.clone();
        let mut extra: Vec<(&str, &str)> = Vec::new();
        let configured = settings
            .authorize_params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()));
        for (name, value) in configured.chain(params.iter().copied()) {
            if RESERVED_AUTHORIZE_PARAMS.contains(&name) {
                return Err(self.misconfigured(format!(
                    "authorization parameter `{name}` is set by ferroauth and cannot be overridden"
                )));
            }
            if name == "scope" {
                scope = Some(value.to_owned());
            } else if let Some(slot) = extra.iter_mut().find(|(n, _)| *n == name) {
                slot.1 = value;
            } else {
                extra.push((name, value));
            }
        }
        let state = random::token(32)?;
        let verifier = match settings
            .client_kwargs
            .code_challenge_method
            .unwrap_or_default()
        {
            CodeChallengeMethod::S256 => Some(random::token(32)?),
            CodeChallengeMethod::Disabled => None,
        };
        let openid = scope
            .as_deref()
            .is_some_and(|s| s.split_ascii_whitespace().any(|p| p == "openid"));
        let nonce = if openid && settings.client_kwargs.check_nonce.unwrap_or(true) {
            Some(random::token(24)?)
        } else {
            None
        };

        let mut url = resolved.authorize.clone();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code");
            q.append_pair("client_id", self.client_id());
            q.append_pair("redirect_uri", redirect_uri);
            if let Some(scope) = &scope {
                q.append_pair("scope", scope);
            }
            q.append_pair("state", &state);
            if let Some(verifier) = &verifier {
                q.append_pair("code_challenge", &pkce::s256_challenge(verifier));
                q.append_pair("code_challenge_method", "S256");
            }
            if let Some(nonce) = &nonce {
                q.append_pair("nonce", nonce);
            }
            for (name, value) in extra {
                q.append_pair(name, value);
            }
        }
        let record = PendingLogin {
            key: Secret::new(state),
            client: self.inner.name.clone(),
            redirect_uri: redirect_uri.to_owned(),
            code_verifier: verifier.map(Secret::new),
            nonce: nonce.map(Secret::new),
            openid,
            issuer: resolved.issuer.clone(),
            require_iss: resolved.require_iss,
            token_secret: None,
            created_at: random::now(),
        };
        self.remember(store, record).await?;
        Ok(url)
    }

    pub(crate) async fn remember<S: PendingStore>(
        &self,
        store: &S,
        record: PendingLogin,
    ) -> Result<(), Error> {
        let mut pending = store.load().await?;
        pending.insert(record, random::now(), &self.inner.policy);
        store.save(pending).await
    }

    /// Consumes the pending login for `key`; the record is gone whatever happens next.
    pub(crate) async fn take_pending<S: PendingStore>(
        &self,
        store: &S,
        key: &str,
    ) -> Result<PendingLogin, Error> {
        let mut pending = store.load().await?;
        let taken = pending.take(key, random::now(), &self.inner.policy);
        store.save(pending).await?;
        let record = taken?;
        if record.client != self.inner.name {
            return Err(Error::ClientMismatch {
                expected: record.client,
                actual: self.inner.name.clone(),
            });
        }
        Ok(record)
    }

    /// Finishes a login on the callback: checks the callback against the pending login,
    /// exchanges the code (or the OAuth 1.0a verifier) for a token, validates the ID token
    /// and fetches userinfo.
    pub async fn authorize_access_token<S: PendingStore>(
        &self,
        store: &S,
        callback: &CallbackParams,
    ) -> Result<Login, Error> {
        let span = tracing::info_span!("authorize_access_token", client = %self.inner.name);
        async {
            let result = if self.is_oauth1() {
                self.oauth1_authorize_access_token(store, callback).await
            } else {
                self.oauth2_authorize_access_token(store, callback).await
            };
            if let Err(e) = &result {
                tracing::info!(code = e.code(), "login failed");
            }
            result
        }
        .instrument(span)
        .await
    }

    async fn oauth2_authorize_access_token<S: PendingStore>(
        &self,
        store: &S,
        callback: &CallbackParams,
    ) -> Result<Login, Error> {
        let state = callback.get("state").ok_or(Error::MissingState)?;
        let record = self.take_pending(store, state).await?;
        check_issuer(&record, callback.get("iss"))?;
        if let Some(error) = callback.get("error") {
            return Err(Error::Authorization(ProviderError {
                error: error.to_owned(),
                description: callback.get("error_description").map(str::to_owned),
                uri: callback.get("error_uri").map(str::to_owned),
            }));
        }
        let code = callback
            .get("code")
            .filter(|c| !c.is_empty())
            .ok_or(Error::MissingCode)?;
        let resolved = self.resolved().await?;

        let mut form = vec![
            ("grant_type".to_owned(), "authorization_code".to_owned()),
            ("code".to_owned(), code.to_owned()),
            ("redirect_uri".to_owned(), record.redirect_uri.clone()),
        ];
        if let Some(verifier) = &record.code_verifier {
            form.push(("code_verifier".into(), verifier.expose().to_owned()));
        }
        let mut token = self.token_request(&resolved, form).await?;

        let mut userinfo = Claims::new();
        if let Some(id_token) = token.id_token.clone() {
            userinfo = self
                .validate_id_token(
                    &resolved,
                    id_token.expose(),
                    IdTokenCheck {
                        nonce: record.nonce.as_ref().map(Secret::expose),
                        access_token: Some(token.access_token.expose()),
                    },
                )
                .await?;
        } else if record.openid {
            return Err(Error::InvalidIdToken(
                "the token response has no id_token although the scope has openid".into(),
            ));
        }
        if self
            .inner
            .settings
            .client_kwargs
            .fetch_userinfo
            .unwrap_or(true)
            && resolved.userinfo.is_some()
        {
            let fetched = self.fetch_userinfo(&resolved, &token).await?;
            merge_userinfo(&mut userinfo, fetched)?;
        }
        if token.scope.is_none() {
            // RFC 6749 §5.1: an absent scope means the requested one was granted.
            token.scope = self.inner.settings.client_kwargs.scope.clone();
        }
        let sub = userinfo.get("sub").and_then(Value::as_str).unwrap_or("");
        tracing::info!(sub, "login complete");
        Ok(Login {
            client: self.inner.name.clone(),
            token: Token::OAuth2(token),
            userinfo,
        })
    }

    /// Sends a grant to the token endpoint with the client's authentication.
    pub(crate) async fn token_request(
        &self,
        resolved: &Resolved,
        form: Vec<(String, String)>,
    ) -> Result<OAuth2Token, Error> {
        self.token_request_hooked(resolved, form, false).await
    }

    /// [`Self::token_request`], also running the `refresh_response` hook when `refresh`.
    pub(crate) async fn token_request_hooked(
        &self,
        resolved: &Resolved,
        mut form: Vec<(String, String)>,
        refresh: bool,
    ) -> Result<OAuth2Token, Error> {
        let settings = &self.inner.settings;
        for (k, v) in &settings.access_token_params {
            form.push((k.clone(), v.clone()));
        }
        let mut headers = HeaderMap::new();
        // GitHub answers form-encoded unless asked for JSON.
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        self.authenticate(resolved, &mut headers, &mut form)?;
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&form)
            .finish();
        let response = self
            .inner
            .http
            .send(
                "token request",
                &self.inner.limits,
                Method::POST,
                &resolved.token,
                headers,
                Some(("application/x-www-form-urlencoded", body.into_bytes())),
            )
            .await?;
        let hooks = self.hooks();
        token_response::parse_with(&self.inner.name, &response, random::now(), |object| {
            if let Some(hook) = &hooks.token_response {
                hook(object);
            }
            if refresh && let Some(hook) = &hooks.refresh_response {
                hook(object);
            }
        })
    }

    /// Adds the client's authentication to a request to the token, revocation or
    /// introspection endpoint. JWT assertions are addressed to the token endpoint URL
    /// whatever the endpoint (see [`crate::client_assertion`]).
    pub(crate) fn authenticate(
        &self,
        resolved: &Resolved,
        headers: &mut HeaderMap,
        form: &mut Vec<(String, String)>,
    ) -> Result<(), Error> {
        let method = resolved.auth_method;
        let key = match method {
            TokenEndpointAuthMethod::PrivateKeyJwt => self.inner.private_key.as_ref(),
            TokenEndpointAuthMethod::ClientSecretJwt => self.inner.secret_jwt_key.as_ref(),
            other => {
                client_auth::apply(
                    other,
                    self.client_id(),
                    self.inner.settings.client_secret.as_ref(),
                    headers,
                    form,
                );
                return Ok(());
            }
        };
        let key_error = |reason: String| Error::InvalidClientAssertionKey {
            client: self.inner.name.clone(),
            reason,
        };
        let key = key.ok_or_else(|| {
            key_error(format!(
                "{} was chosen but no usable key is configured",
                method.as_str()
            ))
        })?;
        let assertion = key
            .client_assertion(self.client_id(), resolved.token.as_str(), random::now())
            .map_err(|e| key_error(e.0))?;
        form.push(("client_id".into(), self.client_id().into()));
        form.push((
            "client_assertion_type".into(),
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
        ));
        form.push(("client_assertion".into(), assertion));
        Ok(())
    }

    /// Uses a refresh token (RFC 6749 §6), by hand. A new ID token, when the provider
    /// sends one, is validated and must name the same issuer and subject (OpenID Connect
    /// Core §12.2). The new token keeps the old refresh token when the response carries
    /// none.
    ///
    /// Single flight: concurrent calls with the same refresh token, from any client of
    /// this registry, make one request and share its result, and a call with a refresh
    /// token refreshed moments ago gets that result (see [`crate::refresh`]). Saving the
    /// new token is up to the caller; [`OAuthClient::refresh_stored_token`] does it too.
    pub async fn refresh_token(&self, token: &OAuth2Token) -> Result<OAuth2Token, Error> {
        let refresh = token
            .refresh_token
            .as_ref()
            .ok_or_else(|| Error::NoRefreshToken {
                client: self.inner.name.clone(),
            })?;
        let refresher = self.inner.refresher.clone();
        refresher
            .run(&self.inner.name, refresh.expose(), || {
                self.refresh_uncoordinated(token)
            })
            .await
            .map(|(token, _)| token)
    }

    /// The refresh request itself, outside the single flight.
    pub(crate) async fn refresh_uncoordinated(
        &self,
        token: &OAuth2Token,
    ) -> Result<OAuth2Token, Error> {
        let refresh = token
            .refresh_token
            .as_ref()
            .ok_or_else(|| Error::NoRefreshToken {
                client: self.inner.name.clone(),
            })?;
        let resolved = self.resolved().await?;
        let mut form = vec![
            ("grant_type".to_owned(), "refresh_token".to_owned()),
            ("refresh_token".to_owned(), refresh.expose().to_owned()),
        ];
        if let Some(hook) = &self.hooks().refresh_request {
            hook(&mut form);
        }
        tracing::debug!(client = %self.inner.name, "refreshing a token");
        let mut fresh = self.token_request_hooked(&resolved, form, true).await?;
        if fresh.refresh_token.is_none() {
            fresh.refresh_token = token.refresh_token.clone();
        }
        if fresh.scope.is_none() {
            fresh.scope = token.scope.clone();
        }
        if let Some(new_id) = &fresh.id_token {
            let claims = self
                .validate_id_token(
                    &resolved,
                    new_id.expose(),
                    IdTokenCheck {
                        nonce: None,
                        access_token: Some(fresh.access_token.expose()),
                    },
                )
                .await?;
            if let Some(old_id) = &token.id_token {
                let old = crate::oidc::unverified_claims(old_id.expose())?;
                for claim in ["iss", "sub"] {
                    if old.get(claim) != claims.get(claim) {
                        return Err(Error::InvalidIdToken(format!(
                            "the refreshed ID token names another `{claim}`"
                        )));
                    }
                }
            }
        } else {
            fresh.id_token = token.id_token.clone();
        }
        Ok(fresh)
    }

    async fn validate_id_token(
        &self,
        resolved: &Resolved,
        raw: &str,
        check: IdTokenCheck<'_>,
    ) -> Result<Claims, Error> {
        crate::oidc::validate_id_token(self, resolved, raw, check).await
    }

    /// Calls the userinfo endpoint with the token.
    pub async fn userinfo(&self, token: &Token) -> Result<Claims, Error> {
        let token = token
            .as_oauth2()
            .ok_or_else(|| Error::Unsupported("userinfo needs an OAuth 2.0 token".into()))?;
        let resolved = self.resolved().await?;
        self.fetch_userinfo(&resolved, token).await
    }

    async fn fetch_userinfo(
        &self,
        resolved: &Resolved,
        token: &OAuth2Token,
    ) -> Result<Claims, Error> {
        let Some(endpoint) = &resolved.userinfo else {
            return Err(self.misconfigured(
                "no userinfo endpoint: set userinfo_endpoint or server_metadata_url",
            ));
        };
        let mut headers = self.api_headers();
        headers.insert(AUTHORIZATION, bearer(token)?);
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let response = self
            .inner
            .http
            .send(
                "userinfo request",
                &self.inner.limits,
                Method::GET,
                endpoint,
                headers,
                None,
            )
            .await?;
        if !response.is_success() {
            return Err(Error::Http {
                client: self.inner.name.clone(),
                what: "userinfo request",
                failure: HttpFailure::Status(response.status),
            });
        }
        match response.json::<Value>() {
            Ok(Value::Object(mut claims)) => {
                if let Some(hook) = &self.hooks().userinfo {
                    hook(&mut claims);
                }
                Ok(claims)
            }
            Ok(_) => Err(Error::InvalidUserinfo("not a JSON object".into())),
            Err(_) if response.content_type().as_deref() == Some("application/jwt") => Err(
                Error::InvalidUserinfo("signed userinfo responses are not supported".into()),
            ),
            Err(e) => Err(Error::InvalidUserinfo(format!("not JSON ({e})"))),
        }
    }

    /// Calls the provider's API with the token: a path relative to `api_base_url`, or an
    /// absolute URL. OAuth 2.0 tokens go in the `Authorization: Bearer` header; OAuth 1.0a
    /// requests are signed.
    pub async fn request(
        &self,
        method: Method,
        path_or_url: &str,
        token: &Token,
        request: ApiRequest,
    ) -> Result<HttpResponse, Error> {
        let resolved = self.resolved_for_api().await?;
        let mut url = self.api_url(resolved.as_deref(), path_or_url)?;
        if !request.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&request.query);
        }
        let mut headers = self.api_headers();
        headers.extend(request.headers);
        match token {
            Token::OAuth2(t) => {
                headers.insert(AUTHORIZATION, bearer(t)?);
                let (method, url, headers) = match &self.hooks().protected_request {
                    Some(hook) => {
                        let mut call = ProtectedRequest {
                            method,
                            url,
                            headers,
                        };
                        hook(&mut call);
                        (call.method, call.url, call.headers)
                    }
                    None => (method, url, headers),
                };
                let body = if let Some(form) = &request.form {
                    let encoded = url::form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(form)
                        .finish();
                    Some(("application/x-www-form-urlencoded", encoded.into_bytes()))
                } else {
                    request
                        .json
                        .as_ref()
                        .map(|json| ("application/json", json.to_string().into_bytes()))
                };
                self.inner
                    .http
                    .send(
                        "API request",
                        &self.inner.limits,
                        method,
                        &url,
                        headers,
                        body,
                    )
                    .await
            }
            Token::OAuth1(t) => {
                self.oauth1_request(method, url, headers, t, request.form)
                    .await
            }
        }
    }

    /// `GET` on the provider's API.
    pub async fn get(&self, path_or_url: &str, token: &Token) -> Result<HttpResponse, Error> {
        self.request(Method::GET, path_or_url, token, ApiRequest::default())
            .await
    }

    /// `POST` with a form body on the provider's API.
    pub async fn post(
        &self,
        path_or_url: &str,
        token: &Token,
        form: Vec<(String, String)>,
    ) -> Result<HttpResponse, Error> {
        let request = ApiRequest {
            form: Some(form),
            ..ApiRequest::default()
        };
        self.request(Method::POST, path_or_url, token, request)
            .await
    }

    /// `PUT` with a JSON body on the provider's API.
    pub async fn put(
        &self,
        path_or_url: &str,
        token: &Token,
        json: Value,
    ) -> Result<HttpResponse, Error> {
        let request = ApiRequest {
            json: Some(json),
            ..ApiRequest::default()
        };
        self.request(Method::PUT, path_or_url, token, request).await
    }

    /// `PATCH` with a JSON body on the provider's API.
    pub async fn patch(
        &self,
        path_or_url: &str,
        token: &Token,
        json: Value,
    ) -> Result<HttpResponse, Error> {
        let request = ApiRequest {
            json: Some(json),
            ..ApiRequest::default()
        };
        self.request(Method::PATCH, path_or_url, token, request)
            .await
    }

    /// `DELETE` on the provider's API.
    pub async fn delete(&self, path_or_url: &str, token: &Token) -> Result<HttpResponse, Error> {
        self.request(Method::DELETE, path_or_url, token, ApiRequest::default())
            .await
    }

    fn api_headers(&self) -> HeaderMap {
        self.inner
            .settings
            .client_kwargs
            .api_headers
            .iter()
            .filter_map(|(k, v)| crate::http::header(k, v))
            .collect()
    }

    /// OAuth 1.0a clients have no metadata to resolve.
    async fn resolved_for_api(&self) -> Result<Option<Arc<Resolved>>, Error> {
        if self.is_oauth1() {
            Ok(None)
        } else {
            self.resolved().await.map(Some)
        }
    }

    fn api_url(&self, resolved: Option<&Resolved>, path_or_url: &str) -> Result<Url, Error> {
        let allow = self.inner.settings.client_kwargs.allow_insecure_http;
        if path_or_url.starts_with("https://") || path_or_url.starts_with("http://") {
            return crate::http::endpoint(&self.inner.name, path_or_url, allow);
        }
        let base = match resolved {
            Some(r) => r.api_base.clone(),
            None => self
                .settings()
                .api_base_url
                .as_deref()
                .map(|b| crate::http::endpoint(&self.inner.name, b, allow))
                .transpose()?,
        };
        let mut base =
            base.ok_or_else(|| self.misconfigured("a relative API path needs api_base_url"))?;
        // Treat the base as a directory whatever its spelling, so that `https://x/v1` and
        // `/me` make `https://x/v1/me` rather than dropping `v1` as RFC 3986 joining would.
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        base.join(path_or_url.trim_start_matches('/')).map_err(|e| {
            self.misconfigured(format!(
                "API path {path_or_url:?} does not make a URL ({e})"
            ))
        })
    }

    pub(crate) fn client_id(&self) -> &str {
        self.inner.settings.client_id.as_deref().unwrap_or_default()
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
        let api_base = optional(&settings.api_base_url, None)?;
        let issuer = pick(&settings.issuer, m.map(|m| &m.issuer));
        Ok(Resolved {
            authorize,
            token,
            userinfo,
            jwks_uri,
            revocation,
            introspection,
            end_session,
            issuer,
            issuer_aliases: settings
                .client_kwargs
                .issuer_aliases
                .clone()
                .unwrap_or_default(),
            require_iss: m.is_some_and(|m| m.authorization_response_iss_parameter_supported),
            auth_method: self.auth_method(m),
            id_token_algs: self.id_token_algs(m)?,
            api_base,
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
        if !same_issuer(&metadata.issuer, &expected) {
            return Err(Error::Discovery(format!(
                "the metadata names issuer {:?}, but it was fetched for issuer {expected:?} (OpenID Connect Discovery §4.3)",
                metadata.issuer
            )));
        }
        tracing::debug!(client = %self.inner.name, issuer = %metadata.issuer, "discovered provider metadata");
        Ok(metadata)
    }
}

/// RFC 9207: the authorization response's `iss` must name the issuer the login started
/// with, and must be present when the provider's metadata promises it.
fn check_issuer(record: &PendingLogin, iss: Option<&str>) -> Result<(), Error> {
    match (&record.issuer, iss) {
        (Some(expected), Some(actual)) if actual != expected => Err(Error::IssuerMismatch {
            expected: expected.clone(),
            actual: Some(actual.to_owned()),
        }),
        (Some(expected), None) if record.require_iss => Err(Error::IssuerMismatch {
            expected: expected.clone(),
            actual: None,
        }),
        _ => Ok(()),
    }
}

/// Adds userinfo claims to the ID token's; the subject must be the same (OpenID Connect
/// Core §5.3.2), or a token for one user could be paired with another's profile.
fn merge_userinfo(claims: &mut Claims, userinfo: Claims) -> Result<(), Error> {
    if let Some(sub) = claims.get("sub") {
        if userinfo.get("sub") != Some(sub) {
            return Err(Error::InvalidUserinfo(
                "its `sub` differs from the ID token's".into(),
            ));
        }
    }
    for (k, v) in userinfo {
        claims.entry(k).or_insert(v);
    }
    Ok(())
}

fn bearer(token: &OAuth2Token) -> Result<HeaderValue, Error> {
    let mut value = HeaderValue::try_from(format!("Bearer {}", token.access_token.expose()))
        .map_err(|_| {
            Error::InvalidTokenResponse(
                "the access token has characters not allowed in a header".into(),
            )
        })?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(issuer: Option<&str>, require_iss: bool) -> PendingLogin {
        PendingLogin {
            key: Secret::new("s"),
            client: "c".into(),
            redirect_uri: "http://127.0.0.1/cb".into(),
            code_verifier: None,
            nonce: None,
            openid: false,
            issuer: issuer.map(str::to_owned),
            require_iss,
            token_secret: None,
            created_at: 0,
        }
    }

    #[test]
    fn rfc9207_issuer_checks() {
        let r = record(Some("https://op.example"), false);
        assert!(check_issuer(&r, Some("https://op.example")).is_ok());
        assert!(check_issuer(&r, None).is_ok());
        assert_eq!(
            check_issuer(&r, Some("https://evil.example"))
                .unwrap_err()
                .code(),
            "issuer_mismatch"
        );
        let r = record(Some("https://op.example"), true);
        assert_eq!(
            check_issuer(&r, None).unwrap_err().code(),
            "issuer_mismatch"
        );
        assert!(check_issuer(&record(None, false), Some("https://any")).is_ok());
    }

    #[test]
    fn userinfo_must_name_the_same_subject() {
        let mut claims: Claims = serde_json::from_str(r#"{"sub":"alice","iss":"x"}"#).unwrap();
        let good: Claims =
            serde_json::from_str(r#"{"sub":"alice","email":"a@x","iss":"ignored"}"#).unwrap();
        merge_userinfo(&mut claims, good).unwrap();
        assert_eq!(claims["email"], "a@x");
        assert_eq!(claims["iss"], "x");
        let bad: Claims = serde_json::from_str(r#"{"sub":"mallory"}"#).unwrap();
        assert_eq!(
            merge_userinfo(&mut claims, bad).unwrap_err().code(),
            "invalid_userinfo"
        );
        let mut plain = Claims::new();
        merge_userinfo(
            &mut plain,
            serde_json::from_str(r#"{"id":1,"login":"octocat"}"#).unwrap(),
        )
        .unwrap();
        assert_eq!(plain["login"], "octocat");
    }
}
