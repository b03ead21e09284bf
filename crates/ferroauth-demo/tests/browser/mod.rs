//! Headless Chromium through chromedriver (Debian's `chromium` and `chromium-driver`,
//! installed by `scripts/setup-browser`), and the helpers the browser tests share: finding,
//! clicking, reading cookies, screenshots, and serving an app over https with a
//! certificate made for the test.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

pub use ferroauth_testkit::services::{CHROMEDRIVER, CHROMIUM};
/// How long any one page or element may take.
pub const PATIENCE: Duration = Duration::from_secs(60);
/// Window width for the screenshots.
const WIDTH: u32 = 900;

/// The folder for screenshots.
pub fn artifacts() -> PathBuf {
    let dir = std::env::var_os("FERROAUTH_E2E_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/e2e-artifacts"));
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A chromedriver child process in its own process group; the group (chromedriver and
/// the Chromium it started) is killed on drop.
pub struct Driver {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
}

impl Driver {
    pub async fn start() -> Driver {
        for program in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(program).exists(),
                "{program} is missing: the browser test needs Chromium and chromedriver. \
                 Run scripts/setup-browser (scripts/test does) to install them."
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir = tempfile::tempdir().expect("temp dir");
        let log = std::fs::File::create(dir.path().join("chromedriver.log")).unwrap();
        let mut command = Command::new(CHROMEDRIVER);
        command
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
        let mut driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
        };
        driver.wait_ready().await;
        driver
    }

    async fn wait_ready(&mut self) {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("chromedriver exited with {status}:\n{}", self.log());
            }
            let status = match http.get(format!("{}/status", self.url)).send().await {
                Ok(response) => response.json::<Value>().await.ok(),
                Err(_) => None,
            };
            if status.is_some_and(|body| body["value"]["ready"] == true) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver not ready after {PATIENCE:?}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("chromedriver.log")).unwrap_or_default()
    }

    /// A headless Chromium session with a fresh profile.
    pub async fn browser(&self) -> Client {
        self.browser_with(&[]).await
    }

    /// A headless Chromium session with a fresh profile and these extra flags.
    pub async fn browser_with(&self, extra: &[String]) -> Client {
        let profile = tempfile::tempdir_in(self.dir.path()).expect("profile dir");
        let mut args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--no-first-run".to_owned(),
            format!("--window-size={WIDTH},900"),
            format!("--user-data-dir={}", profile.keep().display()),
        ];
        args.extend_from_slice(extra);
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("cannot start Chromium: {e}\n{}", self.log()))
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Our own process group: chromedriver and the browser it started.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn find(browser: &Client, css: &str) -> fantoccini::elements::Element {
    match browser
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(css))
        .await
    {
        Ok(element) => element,
        Err(e) => {
            let url = browser.current_url().await.map(|u| u.to_string());
            let source = browser.source().await.unwrap_or_default();
            panic!("no {css} at {url:?} ({e}):\n{source}");
        }
    }
}

pub async fn text(browser: &Client, css: &str) -> String {
    find(browser, css).await.text().await.expect("element text")
}

/// Clicks an element that loads another page (a link or a form button) and waits until
/// the old page is gone.
pub async fn click(browser: &Client, css: &str) {
    let old_page = find(browser, "html").await;
    find(browser, css).await.click().await.expect("click");
    let deadline = Instant::now() + PATIENCE;
    // An element of the old document goes stale once the new one has replaced it.
    while old_page.tag_name().await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "clicking {css} loaded no new page"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Clicks an element that changes the page in place (the API button).
pub async fn press(browser: &Client, css: &str) {
    find(browser, css).await.click().await.expect("click");
}

/// Types into a form field.
pub async fn type_into(browser: &Client, css: &str, value: &str) {
    find(browser, css)
        .await
        .send_keys(value)
        .await
        .expect("type");
}

pub async fn absent(browser: &Client, css: &str) -> bool {
    browser
        .find_all(Locator::Css(css))
        .await
        .expect("find")
        .is_empty()
}

/// Waits until the element's text contains `wanted`; returns the text.
pub async fn wait_text(browser: &Client, css: &str, wanted: &str) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let shown = text(browser, css).await;
        if shown.contains(wanted) {
            return shown;
        }
        assert!(
            Instant::now() < deadline,
            "{css} never showed {wanted:?}; it shows {shown:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the browser is at a URL starting with `prefix`; returns it.
pub async fn wait_url(browser: &Client, prefix: &str) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let at = browser.current_url().await.expect("url").to_string();
        if at.starts_with(prefix) {
            return at;
        }
        assert!(
            Instant::now() < deadline,
            "never reached {prefix}; at {at}:\n{}",
            browser.source().await.unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The cookie `name` of the current page's site, as the browser keeps it.
pub async fn cookie(browser: &Client, name: &str) -> Option<cookie::Cookie<'static>> {
    browser
        .get_all_cookies()
        .await
        .expect("cookies")
        .into_iter()
        .find(|c| c.name() == name)
}

/// A PNG of the whole page (the window is fitted to the page's height first).
pub async fn screenshot(browser: &Client, name: &str) -> PathBuf {
    // The window's height is the page's plus whatever the browser keeps for itself.
    let sizes = browser
        .execute(
            "return [Math.ceil(document.documentElement.scrollHeight), window.outerHeight - window.innerHeight];",
            vec![],
        )
        .await
        .expect("page height");
    let height = sizes[0].as_u64().unwrap_or(900).clamp(400, 4000) + sizes[1].as_u64().unwrap_or(0);
    browser
        .set_window_size(WIDTH, height as u32)
        .await
        .expect("resize");
    let png = browser.screenshot().await.expect("screenshot");
    let path = artifacts().join(format!("{name}.png"));
    std::fs::write(&path, png).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    println!("screenshot: {}", path.display());
    path
}

/// A certificate for `localhost` (or other names), made for one test, and the Chromium flag that trusts
/// exactly its key (`--ignore-certificate-errors-spki-list`: no other certificate error is
/// ignored).
pub struct TestCertificate {
    pub config: Arc<rustls::ServerConfig>,
    pub chromium_flag: String,
}

impl TestCertificate {
    pub fn localhost() -> TestCertificate {
        Self::for_names(&["localhost"])
    }

    /// A certificate for these host names.
    pub fn for_names(names: &[&str]) -> TestCertificate {
        let key = rcgen::KeyPair::generate().expect("key");
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let cert = rcgen::CertificateParams::new(names)
            .expect("params")
            .self_signed(&key)
            .expect("certificate");
        let spki = aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA256,
            &rcgen::PublicKeyData::subject_public_key_info(&key),
        );
        let pin = base64::engine::general_purpose::STANDARD.encode(spki.as_ref());
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(
            rustls::pki_types::PrivatePkcs8KeyDer::from(key.serialize_der()),
        );
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .expect("server config");
        TestCertificate {
            config: Arc::new(config),
            chromium_flag: format!("--ignore-certificate-errors-spki-list={pin}"),
        }
    }
}

/// A TCP listener whose connections are TLS, for `axum::serve`.
pub struct TlsListener {
    tcp: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl TlsListener {
    pub fn new(tcp: tokio::net::TcpListener, config: Arc<rustls::ServerConfig>) -> TlsListener {
        TlsListener {
            tcp,
            acceptor: tokio_rustls::TlsAcceptor::from(config),
        }
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, addr)) = self.tcp.accept().await else {
                continue;
            };
            // A failed handshake (a probe, a refused certificate) only loses that connection.
            if let Ok(tls) = self.acceptor.accept(tcp).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
