//! The example CLI (`src/bin/device_login.rs`) against the project's own development
//! provider (ferroauth-testkit), as a user runs it: the CLI prints the address and the
//! code, the user opens the provider's /device page in "another browser", types the code
//! and approves (or denies), and the CLI prints who logged in (or fails). The same CLI
//! against panva's oidc-provider is in interop_modern_oauth.rs.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use ferroauth_testkit::{Client, TestProvider, User};
use tokio::sync::mpsc;

/// How long any step may take before the test gives up (the CLI polls every second).
const WAIT: Duration = Duration::from_secs(30);

/// The development provider with a public device client `cli`, polled every second.
async fn provider() -> TestProvider {
    TestProvider::builder()
        .user(User::new("alice").email("alice@example.test"))
        .user(User::new("bob").email("bob@example.test"))
        .client(Client::public("cli", "http://127.0.0.1:9/unused"))
        .device_poll_interval(Duration::from_secs(1))
        .start()
        .await
        .unwrap()
}

/// The CLI running against `idp`, its standard output arriving line by line.
struct Cli {
    child: Option<Child>,
    stdout: mpsc::UnboundedReceiver<String>,
    _dir: tempfile::TempDir,
}

impl Cli {
    fn start(idp: &TestProvider) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let settings = dir.path().join("ferroauth.toml");
        std::fs::write(
            &settings,
            format!(
                "[clients.cli]\nclient_id = \"cli\"\nserver_metadata_url = \"{}/.well-known/openid-configuration\"\nclient_kwargs = {{ scope = \"openid email\", token_endpoint_auth_method = \"none\" }}\n",
                idp.issuer()
            ),
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_device_login"))
            .arg(&settings)
            .arg("cli")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::unbounded_channel();
        // A thread, not a task: the read blocks, and the provider shares the runtime.
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child: Some(child),
            stdout: rx,
            _dir: dir,
        }
    }

    /// The next line the CLI prints.
    async fn line(&mut self) -> String {
        tokio::time::timeout(WAIT, self.stdout.recv())
            .await
            .expect("the CLI printed nothing in time")
            .expect("the CLI closed its output")
    }

    /// Waits for the CLI to exit: its status, the rest of its output, its errors.
    async fn finish(&mut self) -> (ExitStatus, Vec<String>, String) {
        let mut rest = Vec::new();
        // The channel closes when the CLI closes its output, that is when it exits.
        while let Some(line) = tokio::time::timeout(WAIT, self.stdout.recv())
            .await
            .expect("the CLI did not finish in time")
        {
            rest.push(line);
        }
        let mut child = self.child.take().unwrap();
        let (status, stderr) = tokio::task::spawn_blocking(move || {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                pipe.read_to_string(&mut stderr).unwrap();
            }
            (child.wait().unwrap(), stderr)
        })
        .await
        .unwrap();
        (status, rest, stderr)
    }
}

impl Drop for Cli {
    /// A failed test leaves no CLI behind.
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Reads the CLI's instructions; returns the user code after checking the addresses.
async fn instructions(cli: &mut Cli, idp: &TestProvider) -> String {
    let open = cli.line().await;
    assert_eq!(open, format!("To log in, open {}", idp.url("/device")));
    let enter = cli.line().await;
    let code = enter
        .strip_prefix("and enter the code ")
        .unwrap_or_else(|| panic!("no code in {enter:?}"))
        .to_owned();
    let complete = cli.line().await;
    assert_eq!(
        complete,
        format!("(or open {}?user_code={code})", idp.url("/device"))
    );
    code
}

/// The user at the provider's page: opens it, types the code (as people do, in lower
/// case and without the dash) and their username, and approves; or denies.
async fn answer(idp: &TestProvider, code: &str, username: Option<&str>) -> String {
    let http = reqwest::Client::new();
    let page = http.get(idp.url("/device")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("name=\"user_code\""));
    let typed = code.replace('-', "").to_lowercase();
    let mut form = vec![("user_code", typed.as_str())];
    match username {
        Some(name) => form.extend([("username", name), ("action", "approve")]),
        None => form.push(("action", "deny")),
    }
    let response = http
        .post(idp.url("/device"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

#[tokio::test]
async fn the_device_login_cli_logs_in_at_the_development_provider() {
    let idp = provider().await;
    let mut cli = Cli::start(&idp);
    let code = instructions(&mut cli, &idp).await;
    // Let the CLI poll (and hear `authorization_pending`) before the user answers.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let page = answer(&idp, &code, Some("bob@example.test")).await;
    assert!(page.contains("Device connected"), "{page}");
    let (status, rest, stderr) = cli.finish().await;
    assert!(status.success(), "{status}: {rest:?} {stderr}");
    assert_eq!(rest, ["logged in as bob (scope: openid email)"], "{stderr}");
}

#[tokio::test]
async fn the_device_login_cli_reports_a_denial() {
    let idp = provider().await;
    let mut cli = Cli::start(&idp);
    let code = instructions(&mut cli, &idp).await;
    let page = answer(&idp, &code, None).await;
    assert!(page.contains("Access denied"), "{page}");
    let (status, rest, stderr) = cli.finish().await;
    assert!(!status.success(), "{rest:?}");
    assert!(rest.is_empty(), "{rest:?}");
    assert!(
        stderr.starts_with("device login failed:") && stderr.contains("access_denied"),
        "{stderr}"
    );
}
