//! The demo in a real browser: headless Chromium driven through WebDriver (Debian's
//! `chromium` and `chromium-driver`, installed by `scripts/setup-browser`), against the
//! embedded development provider, as a person would use it: buttons, the provider's login
//! page, the logged-in page, the API call, refresh, logout and the error pages.
//!
//! Screenshots of the key pages go to `target/e2e-artifacts/` (or the folder named by
//! `FERROAUTH_E2E_ARTIFACTS`). With `FERROAUTH_UPDATE_DOCS=1` the logged-in page is also
//! copied to `docs/demo-logged-in.png`, the picture in the README.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use ferroauth::Token;
use ferroauth_demo::{Account, DemoOptions, accounts_in_session_data, dev};
use serde_json::{Value, json};
use tower_sessions::session::Id;
use tower_sessions::{MemoryStore, SessionStore};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long any one page or element may take.
const PATIENCE: Duration = Duration::from_secs(60);
/// Window width for the screenshots.
const WIDTH: u32 = 900;

/// The folder for screenshots.
fn artifacts() -> PathBuf {
    let dir = std::env::var_os("FERROAUTH_E2E_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/e2e-artifacts"));
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A chromedriver child process in its own process group; the group (chromedriver and
/// the Chromium it started) is killed on drop.
struct Driver {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
}

impl Driver {
    async fn start() -> Driver {
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
    async fn browser(&self) -> Client {
        let profile = self.dir.path().join("profile");
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--no-first-run".to_owned(),
            format!("--window-size={WIDTH},900"),
            format!("--user-data-dir={}", profile.display()),
        ];
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

/// The demo with the embedded development provider, served in-process.
struct Demo {
    base: String,
    store: MemoryStore,
    settings: ferroauth::Settings,
    _provider: ferroauth_testkit::TestProvider,
}

impl Demo {
    async fn start() -> Demo {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (provider, settings) = dev::provider(&base, false, false).expect("dev provider");
        let oauth = ferroauth::OAuth::from_settings(&settings).expect("clients");
        let options = DemoOptions {
            api_paths: dev::api_paths(),
            ..DemoOptions::default()
        };
        let store = MemoryStore::default();
        let app = ferroauth_demo::router_with_store(oauth, options, store.clone())
            .nest("/idp", provider.router());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Demo {
            base,
            store,
            settings,
            _provider: provider,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The accounts the browser's demo session holds, read from the server-side store.
    async fn accounts(&self, browser: &Client) -> Vec<(String, Account)> {
        let cookies = browser.get_all_cookies().await.expect("cookies");
        let Some(cookie) = cookies.iter().find(|c| c.name() == "id") else {
            return Vec::new();
        };
        let id = Id::from_str(cookie.value()).expect("session id");
        let Some(record) = self.store.load(&id).await.expect("session store") else {
            return Vec::new();
        };
        accounts_in_session_data(&record.data)
            .expect("accounts")
            .into_iter()
            .collect()
    }

    /// Every secret value the page must never show: client secrets and the tokens of
    /// the browser's session.
    async fn secrets(&self, browser: &Client) -> Vec<String> {
        let mut secrets: Vec<String> = self
            .settings
            .clients
            .values()
            .filter_map(|c| c.client_secret.as_ref())
            .map(|s| s.expose().to_owned())
            .collect();
        for (_, account) in self.accounts(browser).await {
            secrets.extend(token_secrets(&account.token));
        }
        secrets
    }
}

fn token_secrets(token: &Token) -> Vec<String> {
    match token {
        Token::OAuth2(t) => [
            Some(&t.access_token),
            t.refresh_token.as_ref(),
            t.id_token.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(|s| s.expose().to_owned())
        .collect(),
        Token::OAuth1(t) => vec![
            t.token.expose().to_owned(),
            t.token_secret.expose().to_owned(),
        ],
    }
}

/// Fails when any secret shows in the page's source.
async fn assert_no_secrets(browser: &Client, secrets: &[String]) {
    let source = browser.source().await.expect("page source");
    for secret in secrets {
        assert!(
            !secret.is_empty() && !source.contains(secret.as_str()),
            "a secret value ({}…) shows in the page",
            &secret[..secret.len().min(4)]
        );
    }
}

async fn find(browser: &Client, css: &str) -> fantoccini::elements::Element {
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

async fn text(browser: &Client, css: &str) -> String {
    find(browser, css).await.text().await.expect("element text")
}

/// Clicks an element that loads another page (a link or a form button) and waits until
/// the old page is gone.
async fn click(browser: &Client, css: &str) {
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
async fn press(browser: &Client, css: &str) {
    find(browser, css).await.click().await.expect("click");
}

async fn absent(browser: &Client, css: &str) -> bool {
    browser
        .find_all(Locator::Css(css))
        .await
        .expect("find")
        .is_empty()
}

/// Waits until the element's text contains `wanted`; returns the text.
async fn wait_text(browser: &Client, css: &str, wanted: &str) -> String {
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

/// A PNG of the whole page (the window is fitted to the page's height first).
async fn screenshot(browser: &Client, name: &str) -> PathBuf {
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

/// From the home page through the provider's login page (as alice) back to the demo.
async fn log_in(browser: &Client, demo: &Demo, client: &str, shots: Option<&str>) {
    browser.goto(&demo.url("/")).await.expect("home");
    let login = format!("a#login-{client}");
    find(browser, &login).await;
    if let Some(prefix) = shots {
        screenshot(browser, &format!("{prefix}-1-home")).await;
    }
    click(browser, &login).await;
    find(browser, "button.user[value=\"alice\"]").await;
    let at = browser.current_url().await.unwrap();
    assert!(
        at.as_str().starts_with(&demo.url("/idp/")),
        "expected the provider's login page, at {at}"
    );
    if let Some(prefix) = shots {
        screenshot(browser, &format!("{prefix}-2-provider-login")).await;
    }
    click(browser, "button.user[value=\"alice\"]").await;
    find(browser, &format!("#account-{client}")).await;
    let at = browser.current_url().await.unwrap();
    assert_eq!(at.as_str(), demo.url("/"), "back on the demo's home page");
}

/// Clicks "Call the API" and returns what the page shows.
async fn call_api(browser: &Client, client: &str) -> String {
    press(browser, &format!("#call-api-{client}")).await;
    wait_text(browser, &format!("#api-result-{client}"), "HTTP ").await;
    let shown = wait_text(browser, &format!("#api-result-{client}"), "}").await;
    assert!(shown.starts_with("HTTP 200"), "the API answered: {shown}");
    shown
}

async fn log_out(browser: &Client, client: &str) {
    click(browser, "#logout").await;
    find(browser, &format!("a#login-{client}")).await;
    assert!(absent(browser, &format!("#account-{client}")).await);
    assert!(absent(browser, "#logout").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_connect_login_in_a_browser() {
    let started = Instant::now();
    let driver = Driver::start().await;
    let demo = Demo::start().await;
    let browser = driver.browser().await;
    let client = dev::OIDC_CLIENT;

    log_in(&browser, &demo, client, Some("oidc")).await;
    assert_eq!(text(&browser, "#account-dev .who").await, "Alice Example");
    assert_eq!(text(&browser, "#token-type").await, "Bearer");
    let scope = text(&browser, "#token-scope").await;
    for wanted in ["openid", "email", "profile"] {
        assert!(scope.contains(wanted), "scope shown: {scope}");
    }
    let expires = text(&browser, "#token-expires").await;
    assert!(expires.contains("UTC (in "), "expiry shown: {expires}");
    let claims = text(&browser, "#account-dev table.claims").await;
    assert!(claims.contains("alice@example.test"), "claims: {claims}");
    assert!(claims.contains("Alice Example"), "claims: {claims}");
    let secrets = demo.secrets(&browser).await;
    assert!(
        secrets.len() >= 5,
        "expected 2 client secrets and the access, refresh and ID tokens, got {}",
        secrets.len()
    );
    assert_no_secrets(&browser, &secrets).await;
    let logged_in = screenshot(&browser, "oidc-3-logged-in").await;
    if std::env::var_os("FERROAUTH_UPDATE_DOCS").is_some() {
        std::fs::copy(&logged_in, workspace().join("docs/demo-logged-in.png")).unwrap();
    }

    let answer = call_api(&browser, client).await;
    assert!(answer.contains("\"sub\": \"alice\""), "API: {answer}");
    assert!(answer.contains("alice@example.test"), "API: {answer}");
    assert!(
        answer.contains("\"client_id\": \"demo-oidc\""),
        "API: {answer}"
    );
    assert_no_secrets(&browser, &secrets).await;
    screenshot(&browser, "oidc-4-api-result").await;

    let before = demo.accounts(&browser).await;
    click(&browser, "#refresh-dev").await;
    find(&browser, "#account-dev").await;
    let after = demo.accounts(&browser).await;
    assert_eq!(after.len(), 1, "still logged in after the refresh");
    assert_ne!(
        token_secrets(&before[0].1.token)[0],
        token_secrets(&after[0].1.token)[0],
        "the refresh gave a new access token"
    );
    let expires = text(&browser, "#token-expires").await;
    assert!(
        expires.contains("UTC (in "),
        "expiry after refresh: {expires}"
    );
    assert_eq!(text(&browser, "#token-type").await, "Bearer");
    let mut all_secrets = secrets.clone();
    all_secrets.extend(demo.secrets(&browser).await);
    assert_no_secrets(&browser, &all_secrets).await;
    // The fresh token works.
    let answer = call_api(&browser, client).await;
    assert!(answer.contains("\"sub\": \"alice\""), "API: {answer}");

    log_out(&browser, client).await;
    screenshot(&browser, "oidc-5-logged-out").await;
    browser.close().await.expect("close the browser");
    println!("OpenID Connect browser flow: {:.1?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth1_login_in_a_browser() {
    let started = Instant::now();
    let driver = Driver::start().await;
    let demo = Demo::start().await;
    let browser = driver.browser().await;
    let client = dev::OAUTH1_CLIENT;

    log_in(&browser, &demo, client, Some("oauth1")).await;
    let who = text(&browser, "#account-dev-oauth1 .who").await;
    assert!(who.to_lowercase().contains("alice"), "logged in as {who}");
    assert_eq!(text(&browser, "#token-type").await, "OAuth1");
    let expires = text(&browser, "#token-expires").await;
    assert!(expires.contains("never"), "expiry shown: {expires}");
    // OAuth 1.0a tokens cannot be refreshed: no button for it.
    assert!(absent(&browser, "#refresh-dev-oauth1").await);
    let secrets = demo.secrets(&browser).await;
    assert!(
        secrets.len() >= 4,
        "expected 2 client secrets and the token and its secret, got {}",
        secrets.len()
    );
    assert_no_secrets(&browser, &secrets).await;
    screenshot(&browser, "oauth1-3-logged-in").await;

    let answer = call_api(&browser, client).await;
    assert!(answer.contains("\"user_id\": \"alice\""), "API: {answer}");
    assert!(answer.contains("alice@example.test"), "API: {answer}");
    assert!(
        answer.contains("\"consumer_key\": \"demo-oauth1\""),
        "API: {answer}"
    );
    assert_no_secrets(&browser, &secrets).await;
    screenshot(&browser, "oauth1-4-api-result").await;

    // Logged in with both providers at once, then out of both.
    log_in(&browser, &demo, dev::OIDC_CLIENT, None).await;
    find(&browser, "#account-dev-oauth1").await;
    let both = call_api(&browser, client).await;
    assert!(both.contains("\"user_id\": \"alice\""), "API: {both}");
    log_out(&browser, client).await;
    assert!(absent(&browser, "#account-dev").await);
    browser.close().await.expect("close the browser");
    println!("OAuth 1.0a browser flow: {:.1?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_pages_in_a_browser() {
    let started = Instant::now();
    let driver = Driver::start().await;
    let demo = Demo::start().await;
    let browser = driver.browser().await;

    // A login is pending, but the callback carries a state this session never issued.
    browser.goto(&demo.url("/")).await.expect("home");
    click(&browser, "a#login-dev").await;
    find(&browser, "button.user[value=\"alice\"]").await;
    browser
        .goto(&demo.url("/auth/dev?code=bogus-code&state=bogus-state"))
        .await
        .expect("callback");
    assert_eq!(text(&browser, "#error-code").await, "state_unknown");
    let description = text(&browser, "#error-description").await;
    assert!(!description.trim().is_empty());
    let page = text(&browser, "main").await;
    assert!(page.contains("Start the login again"), "advice: {page}");
    assert!(page.contains("Back to the home page"), "way out: {page}");
    screenshot(&browser, "error-1-state-unknown").await;

    // The user declines at the provider.
    browser.goto(&demo.url("/")).await.expect("home");
    click(&browser, "a#login-dev").await;
    click(&browser, "button.deny").await;
    assert_eq!(text(&browser, "#error-code").await, "access_denied");
    assert!(text(&browser, "main").await.contains("declined"));
    screenshot(&browser, "error-2-access-denied").await;

    // The way back works.
    click(&browser, "a.button[href=\"/\"]").await;
    find(&browser, "a#login-dev").await;
    assert!(absent(&browser, "#account-dev").await);
    browser.close().await.expect("close the browser");
    println!("error pages browser flow: {:.1?}", started.elapsed());
}
