//! The development setup an app embeds for zero-setup demos: a provider with two users
//! (alice and bob) and three clients — an OpenID Connect one, the same with today's OAuth
//! (pushed authorization requests and DPoP-bound tokens, which the provider demands of
//! it), and an OAuth 1.0a one — and the app's settings for them (Authlib's key names, as
//! TOML).
//!
//! [`DevClients`] is the same setup for a provider running elsewhere (the login benchmark
//! runs it in another process, so that the app's CPU figures are the app's alone).

use crate::{Client, ProviderBuilder, TestProvider, User};

/// The registered name of the OpenID Connect client.
pub const OIDC_CLIENT: &str = "dev";
/// The registered name of the OpenID Connect client with PAR and DPoP.
pub const DPOP_CLIENT: &str = "dev-dpop";
/// The registered name of the OAuth 1.0a client.
pub const OAUTH1_CLIENT: &str = "dev-oauth1";

/// The app's clients at the development provider, with fresh random secrets.
#[derive(Debug, Clone)]
pub struct DevClients {
    oidc_secret: String,
    dpop_secret: String,
    oauth1_secret: String,
}

impl DevClients {
    /// Fresh random secrets.
    pub fn new() -> Result<Self, Box<dyn std::error::Error>> {
        Ok(Self {
            oidc_secret: random_secret()?,
            dpop_secret: random_secret()?,
            oauth1_secret: random_secret()?,
        })
    }

    /// A provider builder with the two users and the three clients, whose redirect URIs
    /// point at the app at `base` (`http://127.0.0.1:8000`, and the same at `localhost`).
    pub fn provider_builder(&self, base: &str, auto_approve: bool, fast: bool) -> ProviderBuilder {
        let alternate = base.replace("127.0.0.1", "localhost");
        TestProvider::builder()
            .users([
                User::new("alice")
                    .name("Alice Example")
                    .email("alice@example.test")
                    .email_verified(true),
                User::new("bob")
                    .name("Bob Example")
                    .email("bob@example.test")
                    .email_verified(true),
            ])
            .client(
                Client::confidential(
                    "demo-oidc",
                    &self.oidc_secret,
                    format!("{base}/auth/{OIDC_CLIENT}"),
                )
                .redirect_uri(format!("{alternate}/auth/{OIDC_CLIENT}"))
                .post_logout_redirect_uri(format!("{base}/logged-out"))
                .post_logout_redirect_uri(format!("{alternate}/logged-out"))
                .backchannel_logout_uri(format!("{base}/backchannel-logout/{OIDC_CLIENT}")),
            )
            .client(
                Client::confidential(
                    "demo-dpop",
                    &self.dpop_secret,
                    format!("{base}/auth/{DPOP_CLIENT}"),
                )
                .redirect_uri(format!("{alternate}/auth/{DPOP_CLIENT}"))
                .post_logout_redirect_uri(format!("{base}/logged-out"))
                .post_logout_redirect_uri(format!("{alternate}/logged-out"))
                .backchannel_logout_uri(format!("{base}/backchannel-logout/{DPOP_CLIENT}"))
                .require_dpop(true),
            )
            .client(Client::oauth1("demo-oauth1", &self.oauth1_secret, None))
            .auto_approve(auto_approve)
            .fast(fast)
    }

    /// The app's settings (TOML, `[clients.<name>]` tables) for a provider with this
    /// `issuer`.
    pub fn settings_toml(&self, issuer: &str) -> String {
        let issuer = issuer.trim_end_matches('/');
        let (oidc_secret, oauth1_secret) = (&self.oidc_secret, &self.oauth1_secret);
        let dpop_secret = &self.dpop_secret;
        format!(
            r#"
[clients.{OIDC_CLIENT}]
client_id = "demo-oidc"
client_secret = "{oidc_secret}"
server_metadata_url = "{issuer}/.well-known/openid-configuration"
api_base_url = "{issuer}/api/"
client_kwargs = {{ scope = "openid email profile" }}

[clients.{DPOP_CLIENT}]
client_id = "demo-dpop"
client_secret = "{dpop_secret}"
server_metadata_url = "{issuer}/.well-known/openid-configuration"
api_base_url = "{issuer}/api/"
client_kwargs = {{ scope = "openid email profile", pushed_authorization_requests = true, dpop = true }}

[clients.{OAUTH1_CLIENT}]
client_id = "demo-oauth1"
client_secret = "{oauth1_secret}"
request_token_url = "{issuer}/oauth1/request_token"
authorize_url = "{issuer}/oauth1/authorize"
access_token_url = "{issuer}/oauth1/access_token"
api_base_url = "{issuer}/oauth1/api/"
"#
        )
    }
}

/// A development provider at `{provider_base}/idp` for the app at `base`
/// (`http://127.0.0.1:8000`), to serve with [`TestProvider::router`], and the app's
/// settings (TOML) for its clients. With another origin than the app's, the provider
/// is another site, as real providers are. Secrets are fresh random values per call;
/// `auto_approve` skips the login page and `fast` signature checks (for load tests).
pub fn provider_at(
    base: &str,
    provider_base: &str,
    auto_approve: bool,
    fast: bool,
) -> Result<(TestProvider, String), Box<dyn std::error::Error>> {
    let issuer = format!("{provider_base}/idp");
    let clients = DevClients::new()?;
    let provider = clients
        .provider_builder(base, auto_approve, fast)
        .issuer(&issuer)
        .build()?;
    Ok((provider, clients.settings_toml(&issuer)))
}

/// The development provider set up for an app with no settings of its own: started on an
/// address of its own (another site than the app, as real providers are) and served in
/// the background, or left for the app to mount under its own `/idp`
/// ([`nest_into`](Self::nest_into)). What the demo and a zero-setup app need, in one call.
#[derive(Debug)]
pub struct Embedded {
    /// The app's settings (TOML) for the provider's clients.
    pub settings: String,
    /// Where the provider is (`{base}/idp`): the app's own origin when nested.
    pub base: String,
    /// Per client, the path of the provider's demo API ([`api_paths`]).
    pub api_paths: std::collections::BTreeMap<String, String>,
    nested: Option<TestProvider>,
}

impl Embedded {
    /// A development provider for the app at `app_base`: served at `own` (port 0 for any)
    /// when given, else waiting for [`nest_into`](Self::nest_into).
    pub async fn start(
        app_base: &str,
        own: Option<std::net::SocketAddr>,
        auto_approve: bool,
        fast: bool,
    ) -> Result<Self, Box<dyn std::error::Error>> {
        let listener = match own {
            Some(addr) => Some(tokio::net::TcpListener::bind(addr).await?),
            None => None,
        };
        let base = match &listener {
            Some(l) => format!("http://{}", l.local_addr()?),
            None => app_base.to_owned(),
        };
        let (provider, settings) = provider_at(app_base, &base, auto_approve, fast)?;
        let nested = match listener {
            Some(listener) => {
                let idp = axum::Router::new().nest("/idp", provider.router());
                tokio::spawn(async move {
                    if let Err(e) = axum::serve(listener, idp).await {
                        eprintln!("the development provider stopped: {e}");
                    }
                });
                None
            }
            None => Some(provider),
        };
        Ok(Self {
            settings,
            base,
            api_paths: api_paths(),
            nested,
        })
    }

    /// `app` with the provider under its `/idp`, unless it has an address of its own.
    pub fn nest_into<S: Clone + Send + Sync + 'static>(
        self,
        app: axum::Router<S>,
    ) -> axum::Router<S> {
        match self.nested {
            Some(provider) => app.nest_service("/idp", provider.router()),
            None => app,
        }
    }
}

/// The API path of each client where the provider's demo API answers (`me`).
pub fn api_paths() -> std::collections::BTreeMap<String, String> {
    [OIDC_CLIENT, DPOP_CLIENT, OAUTH1_CLIENT]
        .into_iter()
        .map(|name| (name.to_owned(), "me".to_owned()))
        .collect()
}

fn random_secret() -> Result<String, Box<dyn std::error::Error>> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| format!("OS random generator: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
