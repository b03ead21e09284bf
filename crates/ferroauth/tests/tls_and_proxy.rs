//! https provider calls for real: certificates are checked against the trust store (a
//! test CA, given to the platform verifier through `SSL_CERT_FILE`), and https calls go
//! through an HTTP proxy's `CONNECT` tunnel when the settings or the environment say so.
//!
//! One test function on purpose: it sets environment variables for its own process, once,
//! before any client (or resolver thread) exists.

use std::sync::{Arc, Mutex};

use ferroauth::OAuth;
use ferroauth::settings::Settings;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const SECRET: &str = "tunnel-secret-7f3a";

/// What a test server saw: the request lines it answered.
type Seen = Arc<Mutex<Vec<String>>>;

struct Pki {
    ca_pem: String,
    /// Server config for a certificate naming `localhost` and `127.0.0.1`, from the CA.
    trusted: Arc<rustls::ServerConfig>,
    /// Same CA, but the certificate names another host only.
    wrong_name: Arc<rustls::ServerConfig>,
    /// Right names, but a CA the client does not trust.
    unknown_ca: Arc<rustls::ServerConfig>,
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

fn server_config(
    names: &[&str],
    issuer: &CertifiedIssuer<'_, KeyPair>,
) -> Arc<rustls::ServerConfig> {
    let key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let cert = CertificateParams::new(names)
        .unwrap()
        .signed_by(&key, issuer)
        .unwrap();
    let chain: Vec<CertificateDer<'static>> = vec![cert.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    Arc::new(config)
}

fn pki() -> Pki {
    let trusted_ca = ca("ferroauth test CA");
    let other_ca = ca("someone else's CA");
    Pki {
        ca_pem: trusted_ca.pem(),
        trusted: server_config(&["localhost", "127.0.0.1"], &trusted_ca),
        wrong_name: server_config(&["other.example"], &trusted_ca),
        unknown_ca: server_config(&["localhost", "127.0.0.1"], &other_ca),
    }
}

/// Answers one HTTP/1.1 request with a token and closes.
async fn answer<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, seen: Seen) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let Ok(n) = stream.read(&mut chunk).await else {
            return;
        };
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let Ok(n) = stream.read(&mut chunk).await else {
            return;
        };
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    seen.lock()
        .unwrap()
        .push(head.lines().next().unwrap_or("").to_owned());
    let body = r#"{"access_token":"at-1","token_type":"Bearer","expires_in":3600}"#;
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// A token endpoint over TLS with the given certificate.
async fn tls_server(config: Arc<rustls::ServerConfig>) -> (u16, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Seen::default();
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, log) = (acceptor.clone(), log.clone());
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(tcp).await {
                    answer(tls, log).await;
                }
            });
        }
    });
    (port, seen)
}

/// A plain-http token endpoint.
async fn plain_server() -> (u16, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Seen::default();
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(answer(tcp, log.clone()));
        }
    });
    (port, seen)
}

/// What the proxy saw: each CONNECT head, and every byte the client sent into a tunnel.
#[derive(Default)]
struct ProxyLog {
    connects: Vec<String>,
    tunnelled: Vec<u8>,
}

/// An HTTP proxy that only tunnels (`CONNECT`), to 127.0.0.1 at the requested port.
async fn proxy() -> (u16, Arc<Mutex<ProxyLog>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let log = Arc::new(Mutex::new(ProxyLog::default()));
    let shared = log.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(tunnel(client, shared.clone()));
        }
    });
    (port, log)
}

async fn tunnel(mut client: TcpStream, log: Arc<Mutex<ProxyLog>>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if client.read(&mut byte).await.unwrap_or(0) == 0 {
            return;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let target = head.split_whitespace().nth(1).unwrap_or("").to_owned();
    log.lock().unwrap().connects.push(head);
    let port = target
        .rsplit(':')
        .next()
        .and_then(|p| p.parse::<u16>().ok());
    let Some(Ok(mut upstream)) = (match port {
        Some(port) => Some(TcpStream::connect(("127.0.0.1", port)).await),
        None => None,
    }) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
        return;
    };
    client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await
        .unwrap();
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_upstream, mut to_upstream) = upstream.split();
    let up = async {
        let mut buf = [0u8; 4096];
        while let Ok(n) = from_client.read(&mut buf).await {
            if n == 0 || to_upstream.write_all(&buf[..n]).await.is_err() {
                break;
            }
            log.lock().unwrap().tunnelled.extend_from_slice(&buf[..n]);
        }
        let _ = to_upstream.shutdown().await;
    };
    let down = async {
        let _ = tokio::io::copy(&mut from_upstream, &mut to_client).await;
        let _ = to_client.shutdown().await;
    };
    tokio::join!(up, down);
}

fn registry(token_url: &str, proxy: Option<&str>) -> OAuth {
    let proxy = proxy.map_or(String::new(), |p| format!("proxy = \"{p}\"\n"));
    let settings = Settings::from_toml_str(&format!(
        r#"
[http]
timeout = 5
{proxy}
[clients.idp]
client_id = "tls-client"
client_secret = "{SECRET}"
authorize_url = "https://idp.example/authorize"
access_token_url = "{token_url}"
"#
    ))
    .unwrap();
    OAuth::from_settings(&settings).unwrap()
}

async fn fetch(oauth: &OAuth) -> Result<String, ferroauth::Error> {
    let client = oauth.client("idp")?;
    let token = client.fetch_client_credentials_token(&[]).await?;
    Ok(token.access_token.expose().to_owned())
}

#[tokio::test]
async fn tls_is_verified_and_https_calls_use_the_proxy_tunnel() {
    let pki = pki();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem).unwrap();
    let (proxy_port, proxy_log) = proxy().await;
    // SAFETY: this test binary holds this one test; no other thread reads the environment
    // yet (the runtime is current-thread, and no resolver thread has been started).
    unsafe {
        std::env::set_var("SSL_CERT_FILE", &ca_file);
        for var in [
            "ALL_PROXY",
            "all_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "https_proxy",
            "no_proxy",
        ] {
            std::env::remove_var(var);
        }
        std::env::set_var("HTTPS_PROXY", format!("http://127.0.0.1:{proxy_port}"));
        std::env::set_var("NO_PROXY", "127.0.0.1");
    }
    let (tls_port, tls_seen) = tls_server(pki.trusted.clone()).await;
    let connects = || proxy_log.lock().unwrap().connects.len();

    // Direct (proxy off): a verified TLS exchange.
    let off = registry(&format!("https://localhost:{tls_port}/token"), Some("off"));
    assert_eq!(fetch(&off).await.unwrap(), "at-1");
    assert_eq!(
        tls_seen.lock().unwrap().last().unwrap(),
        "POST /token HTTP/1.1"
    );
    assert_eq!(connects(), 0);

    // The environment's HTTPS_PROXY: through the tunnel, end-to-end TLS inside it.
    let env = registry(&format!("https://localhost:{tls_port}/token"), None);
    assert_eq!(fetch(&env).await.unwrap(), "at-1");
    assert_eq!(connects(), 1);
    {
        let log = proxy_log.lock().unwrap();
        assert!(
            log.connects[0].starts_with(&format!("CONNECT localhost:{tls_port} HTTP/1.1\r\n")),
            "{}",
            log.connects[0]
        );
        assert!(!log.tunnelled.is_empty());
        let basic = base64_basic("tls-client", SECRET);
        let seen = String::from_utf8_lossy(&log.tunnelled);
        assert!(
            !seen.contains(SECRET) && !seen.contains(&basic) && !seen.contains("/token"),
            "the proxy saw plaintext"
        );
    }

    // NO_PROXY: this host goes direct.
    let bypass = registry(&format!("https://127.0.0.1:{tls_port}/token"), None);
    assert_eq!(fetch(&bypass).await.unwrap(), "at-1");
    assert_eq!(connects(), 1);

    // A proxy from the settings, with credentials, used for every https host.
    let fixed_url = format!("http://proxy-user:proxy-pass@127.0.0.1:{proxy_port}");
    let fixed = registry(
        &format!("https://127.0.0.1:{tls_port}/token"),
        Some(&fixed_url),
    );
    assert_eq!(fetch(&fixed).await.unwrap(), "at-1");
    assert_eq!(connects(), 2);
    let head = proxy_log.lock().unwrap().connects[1].clone();
    assert!(head.contains("CONNECT 127.0.0.1:"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains(
            &format!(
                "proxy-authorization: basic {}",
                base64_basic("proxy-user", "proxy-pass")
            )
            .to_ascii_lowercase()
        ),
        "{head}"
    );

    // Plain http (loopback) never goes through the proxy.
    let (plain_port, plain_seen) = plain_server().await;
    let plain = registry(
        &format!("http://127.0.0.1:{plain_port}/token"),
        Some(&fixed_url),
    );
    assert_eq!(fetch(&plain).await.unwrap(), "at-1");
    assert_eq!(plain_seen.lock().unwrap().len(), 1);
    assert_eq!(connects(), 2);

    // Certificates are checked: a wrong name and an unknown CA are refused.
    for (config, why) in [(pki.wrong_name, "name"), (pki.unknown_ca, "issuer")] {
        let (port, seen) = tls_server(config).await;
        let oauth = registry(&format!("https://localhost:{port}/token"), Some("off"));
        let e = fetch(&oauth).await.unwrap_err();
        let text = e.to_string();
        assert!(text.to_lowercase().contains("certificate"), "{why}: {text}");
        assert!(!text.contains(SECRET));
        assert!(
            seen.lock().unwrap().is_empty(),
            "{why}: no request after a failed handshake"
        );
    }
}

fn base64_basic(user: &str, password: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}
