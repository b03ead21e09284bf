//! An in-process OAuth 1.0a, OAuth 2.0 and OpenID Connect **provider** for
//! development and integration tests.
//!
//! `ferroauth-testkit` is the server side: it hands out authorization codes,
//! tokens and signed ID tokens following the RFCs, so that a client (such as
//! `ferroauth`, which this crate deliberately does not depend on) can be
//! tested end to end without a real identity provider.
//!
//! ```
//! use ferroauth_testkit::{Client, TestProvider, User};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let provider = TestProvider::builder()
//!     .user(User::new("alice").name("Alice Liddell").email("alice@example.com"))
//!     .client(Client::confidential("web", "s3cret", "http://localhost:8080/callback"))
//!     .auto_approve(true)
//!     .start()
//!     .await?;
//!
//! // Discovery document, JWKS, /authorize, /token ... are now served.
//! let discovery: serde_json::Value =
//!     reqwest::get(provider.url("/.well-known/openid-configuration"))
//!         .await?
//!         .json()
//!         .await?;
//! assert_eq!(discovery["issuer"], provider.issuer());
//! assert_eq!(discovery["token_endpoint"], provider.url("/token"));
//!
//! provider.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Endpoints
//!
//! All paths are relative to the issuer ([`TestProvider::issuer`]).
//!
//! | path | purpose |
//! | --- | --- |
//! | `GET /.well-known/openid-configuration` | OpenID Connect discovery |
//! | `GET /.well-known/oauth-authorization-server` | RFC 8414 metadata (same document) |
//! | `GET /jwks` | JWK Set: an RS256 and an ES256 key |
//! | `GET, POST /authorize` | authorization endpoint (code flow, PKCE S256) |
//! | `POST /login` | target of the login page form |
//! | `POST /par` | RFC 9126 pushed authorization requests |
//! | `POST /token` | `authorization_code`, `refresh_token`, `client_credentials`, RFC 8628 `device_code` |
//! | `POST /device/authorize` | RFC 8628 device authorization |
//! | `GET, POST /device` | RFC 8628 verification page: the user enters the code and approves or denies |
//! | `GET, POST /userinfo` | OpenID Connect userinfo (Bearer, or DPoP for bound tokens) |
//! | `POST /revoke` | RFC 7009 token revocation |
//! | `GET /logout` | OpenID Connect RP-Initiated Logout 1.0 end-session endpoint (back to a registered `post_logout_redirect_uri` with `state`) |
//! | `POST /introspect` | RFC 7662 token introspection |
//! | `GET /api/me` | small protected demo API (Bearer, or DPoP for bound tokens) |
//! | `POST /oauth1/request_token` | OAuth 1.0a temporary credentials |
//! | `GET /oauth1/authorize` | OAuth 1.0a resource owner authorization |
//! | `POST /oauth1/access_token` | OAuth 1.0a token credentials |
//! | `GET, POST /oauth1/api/me` | OAuth 1.0a protected demo API (echoes a JSON body as `received_json`) |
//!
//! # Behaviour worth knowing
//!
//! * Authorization codes are single use and live 60 s by default. Reusing a
//!   code is refused with `invalid_grant` and revokes the tokens issued for it.
//! * Refresh tokens rotate: each use returns a new one and invalidates the
//!   old one. Presenting an old refresh token again is refused with
//!   `invalid_grant` and revokes the whole grant (RFC 9700 reuse detection).
//! * A refresh token is issued for every authorization code grant; client
//!   credentials grants get no refresh token and no ID token.
//! * ID tokens are issued when the scope contains `openid`. `name` and
//!   `preferred_username` are released with the `profile` scope, `email` and
//!   `email_verified` with `email`; [`User::extra`] claims always.
//! * Every authorization response, success or error, carries `iss`
//!   (RFC 9207) and, when the request had one, `state`. Errors detected
//!   before the client and redirect URI are validated are shown as an HTML
//!   page instead of redirecting.
//! * [`TestProvider::rotate_keys`] generates fresh keys. The previous
//!   generation stays published in the JWKS until the next rotation (so
//!   tokens signed before a single rotation still verify), older ones are
//!   dropped.
//! * OAuth 1.0a accepts `HMAC-SHA1`, `HMAC-SHA256` and `PLAINTEXT`. The
//!   timestamp must be within 5 minutes of the provider's clock and each
//!   (consumer, token, timestamp, nonce) combination is accepted once.
//!   Problems are reported with an `oauth_problem` form body: 400 for
//!   malformed requests, 401 for failed authentication.
//! * Fast mode ([`ProviderBuilder::fast`]) skips OAuth 1.0a signature,
//!   timestamp and nonce checks, forgets redeemed codes and rotated refresh
//!   tokens at once (reuse is still refused, but without revoking the grant),
//!   and shortens default token lifetimes to 5 minutes, so that benchmark
//!   runs keep a flat memory profile. ID tokens are still signed freshly for
//!   every token response.
//! * In auto-approve mode an OAuth 2.0 `login_hint` naming no user yields an
//!   `access_denied` error redirect; for OAuth 1.0a it yields `denied=<token>`.
//! * OAuth 1.0a signatures are checked against the URL under the issuer
//!   (e.g. `{issuer}/oauth1/request_token`), so clients must call the
//!   provider by the issuer's host name, not an alias of it.
//! * DPoP (RFC 9449): a token request with a `DPoP` proof gets `token_type` `DPoP`
//!   and an access token bound to the proof key (introspection shows `cnf.jkt`); a
//!   public client's refresh token is bound too (§5), and refreshing it needs a proof
//!   by the same key. Proofs are checked fully: `typ` `dpop+jwt`; `alg` ES256, EdDSA,
//!   RS256 or PS256; a public `jwk` (a private member is refused); the signature; `htm`
//!   and `htu` naming the request; `iat` within 60 s; a `jti` not used before; and at
//!   resources `ath`, the access token's hash. A bad proof is refused with
//!   `invalid_dpop_proof`. A bound token is accepted at `/userinfo` and `/api/me` only as
//!   `Authorization: DPoP` with a proof by its key, never as Bearer. Bearer tokens work
//!   as before. [`Client::require_dpop`](Client#structfield.require_dpop) refuses token
//!   requests without a proof. No DPoP nonces are issued.
//! * The device authorization grant (RFC 8628): user codes are 8 consonants shown as
//!   `XXXX-XXXX`, approved at `/device` by picking a user as on the login page. Polling
//!   faster than the interval gets `slow_down` and a 5 s longer interval. Codes live 10
//!   minutes and the interval is 5 s unless [`ProviderBuilder::device_code_lifetime`]
//!   and [`ProviderBuilder::device_poll_interval`] say otherwise.
//! * Everything lives in memory; expired entries are purged as requests come in.
//!
//! # Embedding into an axum application
//!
//! ```
//! use ferroauth_testkit::{Client, TestProvider, User};
//!
//! # fn main() -> Result<(), ferroauth_testkit::Error> {
//! let provider = TestProvider::builder()
//!     .issuer("http://localhost:3000/idp")
//!     .user(User::new("alice"))
//!     .client(Client::public("demo", "http://localhost:3000/callback"))
//!     .build()?;
//! let app: axum::Router = axum::Router::new()
//!     .nest("/idp", provider.router())
//!     // optional: RFC 8414 metadata at /.well-known/oauth-authorization-server/idp
//!     .merge(provider.root_metadata_router());
//! # let _ = app;
//! # Ok(())
//! # }
//! ```
//!
//! # Testing your app's login
//!
//! [`agent::Agent`] is a scripted browser: it follows redirects, keeps cookies, posts
//! `form_post` answers and picks a user on the provider's sign-in page, so a test logs in
//! through the app's real routes in one call. Here the "app" is a bare callback route; the
//! repository's `examples/testing_your_app.rs` does the same with a ferroauth app.
//!
//! ```
//! use ferroauth_testkit::{Client, TestProvider, User, agent::Agent};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let app_url = format!("http://{}", listener.local_addr()?);
//! let app = axum::Router::new().route(
//!     "/callback",
//!     axum::routing::get(|q: axum::extract::RawQuery| async move {
//!         format!("the app got {}", q.0.unwrap_or_default())
//!     }),
//! );
//! tokio::spawn(async move { axum::serve(listener, app).await });
//!
//! let provider = TestProvider::builder()
//!     .user(User::new("alice"))
//!     .client(Client::confidential("web", "s3cret", format!("{app_url}/callback")))
//!     .start()
//!     .await?;
//! let authorize = format!(
//!     "{}?response_type=code&client_id=web&redirect_uri={app_url}/callback&state=xyz",
//!     provider.url("/authorize")
//! );
//! let page = Agent::new().login(&authorize, "alice").await?;
//! assert!(page.body.starts_with("the app got code="), "{}", page.body);
//! assert!(page.body.contains("state=xyz"));
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// Handlers bail out with a ready `Response` as the error value; these paths
// are cold and boxing them would only add noise.
#![allow(clippy::result_large_err)]

pub mod agent;
mod config;
pub mod dev;
mod device;
mod dpop;
mod error;
#[cfg(feature = "store-conformance")]
pub mod guard_conformance;
mod html;
mod keys;
mod logout;
mod oauth1;
mod oidc;
#[cfg(feature = "store-conformance")]
pub mod servers;
pub mod services;
mod state;
#[cfg(feature = "store-conformance")]
pub mod store_conformance;
#[cfg(feature = "store-conformance")]
pub mod user_store_conformance;
mod util;

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use crate::config::{Client, ClientAuthMethod, ClientKind, IdTokenAlg, User};
pub use crate::error::Error;
use crate::keys::KeyRing;
pub use crate::logout::{Delivery, Logout};
use crate::state::{Settings, Shared};

/// Configures a [`TestProvider`]. Obtained from [`TestProvider::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ProviderBuilder {
    issuer: Option<String>,
    bind: SocketAddr,
    users: Vec<User>,
    clients: Vec<Client>,
    auto_approve: bool,
    fast: bool,
    code_ttl: Duration,
    access_ttl: Option<Duration>,
    refresh_ttl: Option<Duration>,
    id_token_ttl: Duration,
    device_ttl: Duration,
    device_interval: Duration,
}

impl Default for ProviderBuilder {
    fn default() -> Self {
        Self {
            issuer: None,
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            users: Vec::new(),
            clients: Vec::new(),
            auto_approve: false,
            fast: false,
            code_ttl: Duration::from_secs(60),
            access_ttl: None,
            refresh_ttl: None,
            id_token_ttl: Duration::from_secs(300),
            device_ttl: Duration::from_secs(600),
            device_interval: Duration::from_secs(5),
        }
    }
}

impl ProviderBuilder {
    /// Adds a user.
    pub fn user(mut self, user: User) -> Self {
        self.users.push(user);
        self
    }

    /// Adds several users.
    pub fn users(mut self, users: impl IntoIterator<Item = User>) -> Self {
        self.users.extend(users);
        self
    }

    /// Registers a client.
    pub fn client(mut self, client: Client) -> Self {
        self.clients.push(client);
        self
    }

    /// Registers several clients.
    pub fn clients(mut self, clients: impl IntoIterator<Item = Client>) -> Self {
        self.clients.extend(clients);
        self
    }

    /// Sets the issuer identifier, i.e. the external base URL under which
    /// the provider's routes are reachable. Required for
    /// [`build`](Self::build); [`start`](Self::start) uses
    /// `http://<bound address>` instead.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Address [`start`](Self::start) binds to (default `127.0.0.1:0`, a free port).
    pub fn bind_addr(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// Approves authorization requests without showing the login page: the
    /// user named by `login_hint` (matched against `sub`,
    /// `preferred_username` or `email`), else the first configured user.
    pub fn auto_approve(mut self, yes: bool) -> Self {
        self.auto_approve = yes;
        self
    }

    /// Benchmark mode; see the crate documentation.
    pub fn fast(mut self, yes: bool) -> Self {
        self.fast = yes;
        self
    }

    /// Authorization code lifetime (default 60 s).
    pub fn code_lifetime(mut self, ttl: Duration) -> Self {
        self.code_ttl = ttl;
        self
    }

    /// Access token lifetime (default 1 hour, 5 minutes in fast mode).
    pub fn access_token_lifetime(mut self, ttl: Duration) -> Self {
        self.access_ttl = Some(ttl);
        self
    }

    /// Refresh token lifetime (default 1 day, 5 minutes in fast mode).
    pub fn refresh_token_lifetime(mut self, ttl: Duration) -> Self {
        self.refresh_ttl = Some(ttl);
        self
    }

    /// ID token lifetime (default 5 minutes).
    pub fn id_token_lifetime(mut self, ttl: Duration) -> Self {
        self.id_token_ttl = ttl;
        self
    }

    /// Lifetime of a device authorization's codes, RFC 8628 `expires_in` (default 10
    /// minutes). After it, polls get `expired_token`.
    pub fn device_code_lifetime(mut self, ttl: Duration) -> Self {
        self.device_ttl = ttl;
        self
    }

    /// The device grant's polling interval, RFC 8628 `interval` (default 5 s, at least
    /// 1 s; a small value keeps tests fast). Polling faster gets `slow_down`.
    pub fn device_poll_interval(mut self, interval: Duration) -> Self {
        self.device_interval = interval;
        self
    }

    /// Builds a provider that is not listening anywhere: serve it with
    /// [`TestProvider::router`], nested at the path of the configured
    /// [`issuer`](Self::issuer).
    pub fn build(self) -> Result<TestProvider, Error> {
        let issuer = self
            .issuer
            .clone()
            .ok_or_else(|| Error::Config("build() needs an issuer URL".into()))?;
        let shared = self.into_shared(issuer)?;
        Ok(TestProvider {
            shared,
            server: None,
        })
    }

    /// Binds [`bind_addr`](Self::bind_addr) (a free port on 127.0.0.1 by
    /// default) and serves the provider from a background task. The issuer
    /// is `http://<address>`. The server stops when the returned provider is
    /// dropped or [`TestProvider::shutdown`] is called.
    pub async fn start(self) -> Result<TestProvider, Error> {
        let listener = tokio::net::TcpListener::bind(self.bind).await?;
        let addr = listener.local_addr()?;
        let shared = self.into_shared(format!("http://{addr}"))?;
        let app = routes(shared.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
            if let Err(e) = served {
                tracing::warn!(error = %e, "ferroauth-testkit server stopped with an error");
            }
        });
        tracing::debug!(%addr, "ferroauth-testkit provider listening");
        Ok(TestProvider {
            shared,
            server: Some(Server {
                addr,
                stop: Some(tx),
                task: Some(task),
            }),
        })
    }

    fn into_shared(self, issuer: String) -> Result<Arc<Shared>, Error> {
        let issuer = issuer.trim_end_matches('/').to_owned();
        let parsed = url::Url::parse(&issuer)
            .map_err(|e| Error::Config(format!("issuer {issuer:?} is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https")
            || parsed.query().is_some()
            || parsed.fragment().is_some()
        {
            return Err(Error::Config(format!(
                "issuer {issuer:?} must be an http(s) URL without query or fragment"
            )));
        }
        let mut seen = std::collections::HashSet::new();
        for u in &self.users {
            if u.sub.is_empty() || !seen.insert(u.sub.clone()) {
                return Err(Error::Config(format!(
                    "user sub {:?} is empty or duplicated",
                    u.sub
                )));
            }
        }
        let mut clients = HashMap::new();
        for c in self.clients {
            validate_client(&c)?;
            if clients.insert(c.client_id.clone(), c.clone()).is_some() {
                return Err(Error::Config(format!(
                    "client id {:?} is registered twice",
                    c.client_id
                )));
            }
        }
        // At least one second, at most ten years (keeps `now + ttl` far from overflow).
        let secs = |d: Duration| d.as_secs().clamp(1, 10 * 365 * 86_400);
        let default_access = if self.fast { 300 } else { 3600 };
        let default_refresh = if self.fast { 300 } else { 86_400 };
        let settings = Settings {
            issuer,
            users: self.users,
            clients,
            auto_approve: self.auto_approve,
            fast: self.fast,
            code_ttl: secs(self.code_ttl),
            access_ttl: self.access_ttl.map_or(default_access, secs),
            refresh_ttl: self.refresh_ttl.map_or(default_refresh, secs),
            id_token_ttl: secs(self.id_token_ttl),
            login_ttl: 600,
            oauth1_window: 300,
            device_ttl: secs(self.device_ttl),
            device_interval: secs(self.device_interval),
        };
        Ok(Arc::new(Shared::new(settings, KeyRing::new()?)))
    }
}

fn validate_client(c: &Client) -> Result<(), Error> {
    let bad = |why: &str| Err(Error::Config(format!("client {:?}: {why}", c.client_id)));
    if c.client_id.is_empty() || c.client_id.contains(':') && c.kind == ClientKind::OAuth1 {
        return bad("client id is empty or unusable");
    }
    match c.kind {
        ClientKind::OAuth2 => {
            if c.redirect_uris.is_empty() {
                return bad("needs at least one redirect URI");
            }
            for uri in &c.redirect_uris {
                match url::Url::parse(uri) {
                    Ok(u) if u.fragment().is_none() => {}
                    _ => return bad("redirect URIs must be absolute URIs without fragment"),
                }
            }
            if !c.is_public() && c.secret.as_deref().is_none_or(str::is_empty) {
                return bad("a confidential client needs a secret");
            }
        }
        ClientKind::OAuth1 => {
            if c.secret.is_none() {
                return bad("an OAuth 1.0a consumer needs a consumer secret");
            }
            for uri in &c.redirect_uris {
                if uri != "oob" && url::Url::parse(uri).is_err() {
                    return bad("callbacks must be absolute URIs or \"oob\"");
                }
            }
        }
    }
    Ok(())
}

struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// A running (or embeddable) development provider.
///
/// Dropping a started provider stops its server in the background; use
/// [`shutdown`](Self::shutdown) to wait for it.
pub struct TestProvider {
    shared: Arc<Shared>,
    server: Option<Server>,
}

impl std::fmt::Debug for TestProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestProvider")
            .field("issuer", &self.shared.settings.issuer)
            .field("listening", &self.local_addr())
            .finish_non_exhaustive()
    }
}

impl TestProvider {
    /// Starts configuring a provider.
    pub fn builder() -> ProviderBuilder {
        ProviderBuilder::default()
    }

    /// The issuer identifier (no trailing slash), e.g. `http://127.0.0.1:39123`.
    pub fn issuer(&self) -> &str {
        &self.shared.settings.issuer
    }

    /// An absolute URL for `path` (which should start with `/`) below the issuer.
    pub fn url(&self, path: &str) -> String {
        self.shared.settings.url(path)
    }

    /// The socket address of a started provider.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.server.as_ref().map(|s| s.addr)
    }

    /// An axum router serving this provider (sharing its state), to be
    /// nested at the issuer's path in another application.
    pub fn router(&self) -> Router {
        routes(self.shared.clone())
    }

    /// For an issuer with a path (e.g. `http://host/idp`): a router to merge
    /// at the **root** of the host application that serves the RFC 8414
    /// path-inserted metadata location
    /// `/.well-known/oauth-authorization-server/idp`. For an issuer without
    /// a path it serves nothing that [`router`](Self::router) does not.
    pub fn root_metadata_router(&self) -> Router {
        let path = url::Url::parse(&self.shared.settings.issuer)
            .map(|u| u.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        if path.is_empty() {
            return Router::new();
        }
        Router::new()
            .route(
                &format!("/.well-known/oauth-authorization-server{path}"),
                axum::routing::get(oidc::discovery),
            )
            .with_state(self.shared.clone())
    }

    /// The current JWK Set document.
    pub fn jwks(&self) -> serde_json::Value {
        self.shared.keys().jwks()
    }

    /// Generates new RS256 and ES256 signing keys. New ID tokens are signed
    /// with them; the previous keys stay in the JWKS until the next rotation.
    pub fn rotate_keys(&self) -> Result<(), Error> {
        self.shared.keys_mut().rotate()
    }

    /// A back-channel logout token (OpenID Connect Back-Channel Logout 1.0 §2.4) for
    /// `client_id`, naming `sub` and/or `sid`, as this provider would send it when the
    /// user's session ends: `typ` `logout+jwt`, signed RS256 with the current key, a
    /// fresh `jti`, issued now.
    pub fn logout_token(
        &self,
        client_id: &str,
        sub: Option<&str>,
        sid: Option<&str>,
    ) -> Result<String, Error> {
        logout::logout_token(&self.shared, client_id, sub, sid)
    }

    /// Signs any `claims` with the provider's current RS256 key under the header type
    /// `typ`: a token the provider could have sent, for tests of what a relying party
    /// must refuse even when the signature is good (a logout token with a `nonce`, no
    /// `events`, an old `iat`, ...).
    pub fn sign_jwt(&self, typ: &str, claims: &serde_json::Value) -> Result<String, Error> {
        self.shared
            .keys()
            .current
            .sign_typed(IdTokenAlg::RS256, typ, claims)
    }

    /// Ends every session of user `sub` at the provider, as an administrator (or a
    /// password reset) would, and sends each client that registered a
    /// `backchannel_logout_uri` a logout token for each of its sessions of that user
    /// (OpenID Connect Back-Channel Logout 1.0: a form POST of `logout_token`, `typ`
    /// `logout+jwt`, naming `sub` and `sid`). Every approved login is a provider session;
    /// its ID tokens carry its `sid`. Gives the deliveries and the relying parties'
    /// answers.
    pub async fn end_sessions(&self, sub: &str) -> Vec<Delivery> {
        logout::end_sessions(&self.shared, sub).await
    }

    /// The back-channel logout tokens delivered so far, oldest first.
    pub fn backchannel_deliveries(&self) -> Vec<Delivery> {
        self.shared.store().deliveries.clone()
    }

    /// The RP-initiated logouts accepted so far, oldest first.
    pub fn logouts(&self) -> Vec<Logout> {
        self.shared.store().logouts.clone()
    }

    /// How many access and refresh tokens issued to `client_id` are held (revoked ones
    /// are gone; expired ones until the next purge).
    pub fn live_tokens(&self, client_id: &str) -> usize {
        let store = self.shared.store();
        let access = store.access.values().filter(|t| t.client_id == client_id);
        let refresh = store.refresh.values().filter(|t| t.client_id == client_id);
        access.count() + refresh.count()
    }

    /// Number of live codes, tokens, nonces (OAuth 1.0a nonces, DPoP `jti`s), device
    /// authorizations and pending logins held in memory.
    pub fn state_size(&self) -> usize {
        self.shared.store().len()
    }

    /// Stops the server (if started) and waits until it has finished.
    /// Open keep-alive connections are given up to 5 seconds.
    pub async fn shutdown(mut self) {
        if let Some(server) = self.server.as_mut() {
            if let Some(stop) = server.stop.take() {
                let _ = stop.send(());
            }
            if let Some(task) = server.task.take() {
                let abort = task.abort_handle();
                if tokio::time::timeout(Duration::from_secs(5), task)
                    .await
                    .is_err()
                {
                    abort.abort();
                }
            }
        }
    }
}

impl Drop for TestProvider {
    fn drop(&mut self) {
        if let Some(stop) = self.server.as_mut().and_then(|s| s.stop.take()) {
            let _ = stop.send(());
        }
    }
}

fn routes(shared: Arc<Shared>) -> Router {
    use axum::routing::{get, post};
    Router::new()
        .route("/.well-known/openid-configuration", get(oidc::discovery))
        .route(
            "/.well-known/oauth-authorization-server",
            get(oidc::discovery),
        )
        .route("/jwks", get(oidc::jwks))
        .route("/authorize", get(oidc::authorize).post(oidc::authorize))
        .route("/login", post(oidc::login))
        .route("/token", post(oidc::token))
        .route("/par", post(oidc::par))
        .route("/device/authorize", post(device::authorize))
        .route("/device", get(device::page).post(device::submit))
        .route("/userinfo", get(oidc::userinfo).post(oidc::userinfo))
        .route("/revoke", post(oidc::revoke))
        .route("/logout", get(logout::end_session))
        .route("/introspect", post(oidc::introspect))
        .route("/api/me", get(oidc::api_me))
        .route("/oauth1/request_token", post(oauth1::request_token))
        .route("/oauth1/authorize", get(oauth1::authorize))
        .route("/oauth1/access_token", post(oauth1::access_token))
        .route("/oauth1/api/me", get(oauth1::api_me).post(oauth1::api_me))
        .with_state(shared)
}

#[cfg(test)]
mod tests {
    #[test]
    fn provider_is_send_and_sync() {
        fn check<T: Send + Sync + 'static>() {}
        check::<super::TestProvider>();
        check::<super::ProviderBuilder>();
    }

    #[test]
    fn builder_rejects_bad_config() {
        use super::{Client, TestProvider, User};
        let err = |b: super::ProviderBuilder| b.build().is_err();
        assert!(err(TestProvider::builder()), "issuer required");
        assert!(err(TestProvider::builder().issuer("not a url")));
        assert!(err(TestProvider::builder()
            .issuer("http://x")
            .user(User::new("a"))
            .user(User::new("a"))));
        assert!(err(TestProvider::builder()
            .issuer("http://x")
            .client(Client::public("c", "relative/path"))));
        assert!(err(TestProvider::builder()
            .issuer("http://x")
            .client(Client::confidential("c", "", "http://x/cb"))));
        assert!(err(TestProvider::builder()
            .issuer("http://x")
            .client(Client::public("c", "http://x/cb"))
            .client(Client::public("c", "http://x/cb"))));
        assert!(
            TestProvider::builder()
                .issuer("http://x/")
                .client(Client::public("c", "http://x/cb"))
                .build()
                .is_ok()
        );
    }
}
