//! A provider world on loopback that looks like the real one to the client: presets keep
//! their real URLs (`https://github.com/login/oauth/access_token`), and every https call
//! goes through an HTTP proxy (`[http] proxy`, as in production behind a corporate proxy)
//! whose `CONNECT` tunnels all end at one local TLS server. That server holds a certificate
//! for the provider's host names from a test CA which the process trusts (through
//! `SSL_CERT_FILE`, read by the platform verifier), and routes each request to the fixture
//! of its `Host`. So the test checks the preset's real endpoints, over real TLS, with real
//! certificate and host-name checks.
//!
//! The "browser" is a reqwest client through the same proxy, trusting the same CA, that
//! does not follow redirects: the test reads the provider's redirect back to the app.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header::HOST};
use ferroauth::session::pending::MemoryPendingStore;
use ferroauth::settings::Settings;
use ferroauth::{CallbackParams, Login, OAuth, OAuthClient};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower_service::Service as _;

/// Where the app's callback is (never called: the test reads the redirect).
pub const REDIRECT_URI: &str = "https://app.example/auth/callback";

/// A request a fixture saw, for assertions on what the client sent.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub host: String,
    pub path_and_query: String,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Seen {
    /// A header's value (lower-case name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// The form (or query) parameter `name` of the body.
    pub fn form(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// The test CA, one per process, trusted by every client of the process.
struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
    pem: String,
}

fn ca() -> &'static Ca {
    static CA: OnceLock<Ca> = OnceLock::new();
    CA.get_or_init(|| {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "ferroauth preset-world CA");
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let pem = issuer.pem();
        let dir = std::env::temp_dir().join(format!("ferroauth-world-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("ca.pem");
        std::fs::write(&file, &pem).unwrap();
        // SAFETY: set once, before this process builds any HTTP client (every client is
        // built after `World::start`, which gets here first), and never changed again.
        unsafe { std::env::set_var("SSL_CERT_FILE", &file) };
        Ca { issuer, pem }
    })
}

/// The provider world of one test.
pub struct World {
    proxy_port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    browser: reqwest::Client,
}

impl World {
    /// Serves each `(host, fixture)` over TLS behind the tunnelling proxy.
    pub async fn start(fixtures: Vec<(&str, Router)>) -> World {
        let ca = ca();
        let names: Vec<String> = fixtures.iter().map(|(h, _)| (*h).to_owned()).collect();
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(names)
            .unwrap()
            .signed_by(&key, &ca.issuer)
            .unwrap();
        let chain: Vec<CertificateDer<'static>> = vec![cert.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let routes: Arc<BTreeMap<String, Router>> = Arc::new(
            fixtures
                .into_iter()
                .map(|(h, r)| (h.to_owned(), r))
                .collect(),
        );
        let seen = Arc::new(Mutex::new(Vec::new()));
        let tls_port = serve_tls(Arc::new(config), routes, seen.clone()).await;
        let proxy_port = proxy(tls_port).await;
        let browser = reqwest::Client::builder()
            .proxy(reqwest::Proxy::all(format!("http://127.0.0.1:{proxy_port}")).unwrap())
            .tls_certs_only([reqwest::Certificate::from_pem(ca.pem.as_bytes()).unwrap()])
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        World {
            proxy_port,
            seen,
            browser,
        }
    }

    /// Settings from a `[clients.…]` TOML text, with this world's proxy.
    pub fn settings(&self, clients: &str) -> Settings {
        Settings::from_toml_str(&format!(
            "{clients}\n[http]\nproxy = \"http://127.0.0.1:{}\"\n",
            self.proxy_port
        ))
        .unwrap()
    }

    /// The registry for `clients`, and its client `name`.
    pub fn client(&self, clients: &str, name: &str) -> OAuthClient {
        let oauth = OAuth::from_settings(&self.settings(clients)).unwrap();
        oauth.client(name).unwrap()
    }

    /// What the fixtures have seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The requests seen at `path` (without the query).
    pub fn seen_at(&self, path: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.path_and_query.split('?').next() == Some(path))
            .collect()
    }

    /// The browser opens `url`; the response is returned without following redirects.
    pub async fn browse(&self, url: &str) -> reqwest::Response {
        self.browser.get(url).send().await.unwrap()
    }

    /// A whole login: `authorize_redirect`, the browser at the provider (which must answer
    /// with a redirect to the app), and `authorize_access_token` with the redirect's query.
    pub async fn login(&self, client: &OAuthClient) -> Result<Login, ferroauth::Error> {
        let session = MemoryPendingStore::new();
        let callback = self.start_login(client, &session).await;
        client.authorize_access_token(&session, &callback).await
    }

    /// `authorize_redirect` and the browser's visit to the provider: the callback the app
    /// gets.
    pub async fn start_login(
        &self,
        client: &OAuthClient,
        session: &MemoryPendingStore,
    ) -> CallbackParams {
        let url = client
            .authorize_redirect(session, REDIRECT_URI)
            .await
            .unwrap();
        let response = self.browse(url.as_str()).await;
        assert!(
            response.status().is_redirection(),
            "the provider redirects back: {}",
            response.status()
        );
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with(REDIRECT_URI), "{location}");
        let query = location.split_once('?').map(|(_, q)| q).unwrap_or("");
        CallbackParams::parse(query).unwrap()
    }
}

/// A login whose callback carries `code` instead of the provider's (a spent or forged
/// one), with the state of a real pending login: what the token endpoint says of it.
pub async fn login_with_code(
    world: &World,
    client: &OAuthClient,
    code: &str,
) -> Result<Login, ferroauth::Error> {
    let session = MemoryPendingStore::new();
    let callback = world.start_login(client, &session).await;
    let forged = CallbackParams::parse(&format!(
        "code={code}&state={}",
        callback.get("state").unwrap()
    ))
    .unwrap();
    client.authorize_access_token(&session, &forged).await
}

/// The settings error for `toml`, whether reading or registering finds it.
pub fn settings_error(toml: &str) -> String {
    let error: ferroauth::Error = match Settings::from_toml_str(toml) {
        Err(e) => e.into(),
        Ok(settings) => OAuth::from_settings(&settings).unwrap_err(),
    };
    assert_eq!(error.code(), "invalid_settings");
    error.to_string()
}

/// The host name a request is for, without the port.
pub fn host_of(request: &Request<Body>) -> String {
    request
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| h.split(':').next().unwrap_or(h).to_owned())
        .or_else(|| request.uri().host().map(str::to_owned))
        .unwrap_or_default()
}

async fn serve_tls(
    config: Arc<rustls::ServerConfig>,
    routes: Arc<BTreeMap<String, Router>>,
    seen: Arc<Mutex<Vec<Seen>>>,
) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, routes, seen) = (acceptor.clone(), routes.clone(), seen.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper::service::service_fn(move |request| {
                    dispatch(request, routes.clone(), seen.clone())
                });
                let io = hyper_util::rt::TokioIo::new(tls);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    port
}

/// Records the request and hands it to the fixture of its host.
async fn dispatch(
    request: Request<hyper::body::Incoming>,
    routes: Arc<BTreeMap<String, Router>>,
    seen: Arc<Mutex<Vec<Seen>>>,
) -> Result<Response<Body>, std::convert::Infallible> {
    use http_body_util::BodyExt as _;
    let (parts, body) = request.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let request = Request::from_parts(parts, Body::from(bytes.clone()));
    let host = host_of(&request);
    seen.lock().unwrap().push(Seen {
        method: request.method().to_string(),
        host: host.clone(),
        path_and_query: request
            .uri()
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        headers: request
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    });
    let Some(router) = routes.get(&host) else {
        let mut response = Response::new(Body::from(format!("no fixture for host {host}")));
        *response.status_mut() = StatusCode::MISDIRECTED_REQUEST;
        return Ok(response);
    };
    Ok(router.clone().call(request).await.unwrap())
}

/// An HTTP proxy that tunnels every `CONNECT host:443` to the local TLS server.
async fn proxy(tls_port: u16) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(tunnel(client, tls_port));
        }
    });
    port
}

async fn tunnel(mut client: TcpStream, tls_port: u16) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if client.read(&mut byte).await.unwrap_or(0) == 0 {
            return;
        }
        head.push(byte[0]);
    }
    if !head.starts_with(b"CONNECT ") {
        let _ = client
            .write_all(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
            .await;
        return;
    }
    let Ok(mut upstream) = TcpStream::connect(("127.0.0.1", tls_port)).await else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
        return;
    };
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await
        .is_err()
    {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}
