//! The stub provider: ferroauth-testkit in fast, auto-approve mode with the demo's two
//! clients, counting what the demo asks of it.
//!
//! It listens twice: the issuer's address is the back channel the demo calls (token,
//! userinfo, discovery, JWKS, OAuth 1.0a credentials), and a second address takes the
//! browser's authorization requests from the driver. Connections accepted on the back
//! channel are therefore the demo's alone, which shows whether it reuses them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::serve::ListenerExt;
use ferroauth_testkit::TestProvider;
use ferroauth_testkit::dev::DevClients;
use tokio::net::TcpListener;

/// What the provider was asked, by endpoint.
#[derive(Debug, Default)]
pub struct Counters {
    /// TCP connections accepted on the back channel (the demo's).
    pub back_connections: AtomicU64,
    /// Discovery documents served.
    pub discovery: AtomicU64,
    /// JWK Sets served.
    pub jwks: AtomicU64,
    /// Token requests (OAuth 2.0).
    pub token: AtomicU64,
    /// Userinfo requests.
    pub userinfo: AtomicU64,
    /// OAuth 1.0a temporary and token credential requests.
    pub oauth1_credentials: AtomicU64,
    /// Authorization requests (OAuth 2.0 and 1.0a).
    pub authorize: AtomicU64,
    /// Anything else.
    pub other: AtomicU64,
}

/// A copy of the [`Counters`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CountersSnapshot {
    /// See [`Counters::back_connections`].
    pub back_connections: u64,
    /// See [`Counters::discovery`].
    pub discovery: u64,
    /// See [`Counters::jwks`].
    pub jwks: u64,
    /// See [`Counters::token`].
    pub token: u64,
    /// See [`Counters::userinfo`].
    pub userinfo: u64,
    /// See [`Counters::oauth1_credentials`].
    pub oauth1_credentials: u64,
    /// See [`Counters::authorize`].
    pub authorize: u64,
    /// See [`Counters::other`].
    pub other: u64,
}

impl CountersSnapshot {
    /// What happened between `earlier` and this snapshot.
    pub fn since(&self, earlier: &Self) -> Self {
        Self {
            back_connections: self.back_connections - earlier.back_connections,
            discovery: self.discovery - earlier.discovery,
            jwks: self.jwks - earlier.jwks,
            token: self.token - earlier.token,
            userinfo: self.userinfo - earlier.userinfo,
            oauth1_credentials: self.oauth1_credentials - earlier.oauth1_credentials,
            authorize: self.authorize - earlier.authorize,
            other: self.other - earlier.other,
        }
    }
}

impl Counters {
    /// The current values.
    pub fn snapshot(&self) -> CountersSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CountersSnapshot {
            back_connections: get(&self.back_connections),
            discovery: get(&self.discovery),
            jwks: get(&self.jwks),
            token: get(&self.token),
            userinfo: get(&self.userinfo),
            oauth1_credentials: get(&self.oauth1_credentials),
            authorize: get(&self.authorize),
            other: get(&self.other),
        }
    }

    fn hit(&self, path: &str) {
        let counter = match path {
            "/.well-known/openid-configuration" | "/.well-known/oauth-authorization-server" => {
                &self.discovery
            }
            "/jwks" => &self.jwks,
            "/token" => &self.token,
            "/userinfo" => &self.userinfo,
            "/oauth1/request_token" | "/oauth1/access_token" => &self.oauth1_credentials,
            "/authorize" | "/oauth1/authorize" => &self.authorize,
            _ => &self.other,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

async fn count(State(counters): State<Arc<Counters>>, request: Request, next: Next) -> Response {
    counters.hit(request.uri().path());
    next.run(request).await
}

/// A running stub provider for the demo at a given origin.
#[derive(Debug)]
pub struct BenchProvider {
    /// The issuer: the back channel's origin (`http://127.0.0.1:<port>`).
    pub issuer: String,
    /// The browser-facing origin.
    pub front: String,
    /// What the provider was asked.
    pub counters: Arc<Counters>,
    clients: DevClients,
    _provider: TestProvider,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl BenchProvider {
    /// Starts a provider whose clients redirect to the demo at `demo_base`; serves it from
    /// tasks of the current runtime.
    pub async fn start(demo_base: &str) -> Result<Self, Box<dyn std::error::Error>> {
        let back = TcpListener::bind("127.0.0.1:0").await?;
        let front = TcpListener::bind("127.0.0.1:0").await?;
        let issuer = format!("http://{}", back.local_addr()?);
        let front_origin = format!("http://{}", front.local_addr()?);
        let clients = DevClients::new()?;
        let provider = clients
            .provider_builder(demo_base, true, true)
            .issuer(&issuer)
            .build()?;
        let counters = Arc::new(Counters::default());
        let app = provider
            .router()
            .layer(axum::middleware::from_fn_with_state(
                counters.clone(),
                count,
            ));
        let connections = counters.clone();
        let back = back.tap_io(move |tcp| {
            connections.back_connections.fetch_add(1, Ordering::Relaxed);
            let _ = tcp.set_nodelay(true);
        });
        let front = front.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let serve_back = axum::serve(back, app.clone()).into_future();
        let serve_front = axum::serve(front, app).into_future();
        let tasks = vec![
            tokio::spawn(async move {
                let _ = serve_back.await;
            }),
            tokio::spawn(async move {
                let _ = serve_front.await;
            }),
        ];
        Ok(Self {
            issuer,
            front: front_origin,
            counters,
            clients,
            _provider: provider,
            tasks,
        })
    }

    /// The demo's settings (TOML) for this provider.
    pub fn demo_settings(&self) -> String {
        self.clients.settings_toml(&self.issuer)
    }

    /// The driver's rewrite of authorize URLs to the browser-facing listener.
    pub fn rewrite(&self) -> (String, String) {
        (self.issuer.clone(), self.front.clone())
    }
}

impl Drop for BenchProvider {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
