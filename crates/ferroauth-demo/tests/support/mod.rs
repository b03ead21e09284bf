//! Test support: third-party providers as child processes, the demo in-process, and a
//! scripted user agent that plays the browser.
#![allow(dead_code)]

pub mod app;
pub mod framework;
pub mod harness;
pub mod load;
pub mod nested;
pub mod services;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use reqwest::header::{ACCEPT, LOCATION};
use serde_json::Value;
use url::Url;

pub use framework::Framework;

pub use ferroauth_testkit::services::interop_dir;

/// A provider running as a child process; killed on drop.
pub struct Peer {
    pub issuer: String,
    child: Child,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
    _dir: tempfile::TempDir,
}

impl Peer {
    /// panva's oidc-provider with these clients (oidc-provider client metadata).
    pub fn oidc_provider(clients: &Value, extra: &[&str]) -> Peer {
        let dir = interop_dir();
        let script = dir.join("oidc-provider/server.mjs");
        assert!(
            dir.join("oidc-provider/node_modules").exists(),
            "oidc-provider is not installed: run scripts/setup-peers (scripts/test does)"
        );
        let node = std::env::var("FERROAUTH_NODE").unwrap_or_else(|_| "node".into());
        Self::spawn(&node, &[script.to_string_lossy().as_ref()], clients, extra)
    }

    /// The project's Authlib provider with these clients.
    pub fn authlib(clients: &Value, extra: &[&str]) -> Peer {
        let dir = interop_dir();
        let python = ferroauth_testkit::services::authlib_python();
        assert!(
            python.exists(),
            "the Authlib venv is missing: run scripts/setup-peers (scripts/test does)"
        );
        let script = dir.join("authlib/provider.py");
        Self::spawn(
            &python.to_string_lossy(),
            &[script.to_string_lossy().as_ref()],
            clients,
            extra,
        )
    }

    /// Starts a provider; one more try if the first start hangs. oidc-provider's launcher
    /// used to deadlock in Node's key generation about one start in twelve (fixed in
    /// `interop/oidc-provider/server.mjs`); a provider's start-up is not what these tests
    /// check, and a second failure still fails the test.
    fn spawn(program: &str, args: &[&str], clients: &Value, extra: &[&str]) -> Peer {
        match Self::try_spawn(program, args, clients, extra) {
            Ok(peer) => peer,
            Err(first) => {
                eprintln!("{program} did not start, trying once more:\n{first}");
                Self::try_spawn(program, args, clients, extra)
                    .unwrap_or_else(|second| panic!("{second}"))
            }
        }
    }

    fn try_spawn(
        program: &str,
        args: &[&str],
        clients: &Value,
        extra: &[&str],
    ) -> Result<Peer, String> {
        let dir = tempfile::tempdir().expect("temp dir");
        let clients_file = dir.path().join("clients.json");
        std::fs::write(&clients_file, serde_json::to_vec_pretty(clients).unwrap()).unwrap();
        let mut child = Command::new(program)
            .args(args)
            .arg("--clients")
            .arg(&clients_file)
            .args(["--port", "0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut err_pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        // Generous: a provider generating its keys on a loaded 2-core machine can take a
        // while, and a slow start is not what these tests are about.
        let line = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_default();
        let Some(issuer) = line.trim().strip_prefix("READY ") else {
            let _ = child.kill();
            let _ = child.wait();
            std::thread::sleep(Duration::from_millis(200));
            return Err(format!(
                "{program} did not start: {line:?}\n{}",
                stderr.lock().unwrap()
            ));
        };
        Ok(Peer {
            issuer: issuer.to_owned(),
            child,
            stderr,
            _dir: dir,
        })
    }

    /// What the provider logged so far.
    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A demo app served in-process on a free loopback port, on axum or actix-web.
pub struct Demo {
    pub base: String,
    pub framework: Framework,
    listener: Option<tokio::net::TcpListener>,
    server: Option<framework::Running>,
}

impl Demo {
    /// Reserves the port first (the axum demo): providers need the redirect URI before
    /// they start.
    pub async fn reserve() -> Demo {
        Self::reserve_on(Framework::Axum).await
    }

    /// Reserves the port for a demo on `framework`.
    pub async fn reserve_on(framework: Framework) -> Demo {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        Demo {
            base,
            framework,
            listener: Some(listener),
            server: None,
        }
    }

    pub fn redirect_uri(&self, name: &str) -> String {
        format!("{}/auth/{name}", self.base)
    }

    /// Starts serving with these settings (in-memory sessions).
    pub fn serve(&mut self, settings_toml: &str) {
        let settings =
            ferroauth::settings::Settings::from_toml_str(settings_toml).expect("settings");
        let oauth = ferroauth::OAuth::from_settings(&settings).expect("registry");
        let listener = self.listener.take().expect("serve once");
        self.server = Some(framework::Running::memory(
            self.framework,
            listener,
            oauth,
            ferroauth_demo::DemoOptions::default(),
        ));
    }
}

/// What a login through the demo ended with.
#[derive(Debug)]
pub struct Outcome {
    pub status: u16,
    pub body: Value,
    /// The callback URL the provider sent the browser to.
    pub callback: Url,
}

/// A scripted user agent: a cookie jar, no automatic redirects.
pub struct Browser {
    pub http: reqwest::Client,
    pub demo: String,
}

/// How the user behaves at the provider.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AtProvider<'a> {
    /// Log in as this user and consent.
    LogIn(&'a str),
    /// Abort the interaction.
    Abort,
}

impl Browser {
    pub fn new(demo: &Demo) -> Browser {
        Browser::at(&demo.base)
    }

    /// A fresh browser for the app at `base`.
    pub fn at(base: &str) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            demo: base.to_owned(),
        }
    }

    /// `GET /login/{name}` on the demo, then through the provider to the callback URL
    /// (not yet requested).
    pub async fn to_callback(&self, name: &str, query: &str, user: AtProvider<'_>) -> Url {
        self.to_callback_via(self, name, query, user).await
    }

    /// Like [`Browser::to_callback`], but the provider's pages are visited by `agent`
    /// (another cookie jar: a fresh provider session, as in another browser profile).
    pub async fn to_callback_via(
        &self,
        agent: &Browser,
        name: &str,
        query: &str,
        user: AtProvider<'_>,
    ) -> Url {
        let login = format!(
            "{}/login/{name}{}",
            self.demo,
            if query.is_empty() {
                String::new()
            } else {
                format!("?{query}")
            }
        );
        let response = self.http.get(&login).send().await.unwrap();
        assert_eq!(
            response.status(),
            302,
            "login: {}",
            response.text().await.unwrap_or_default()
        );
        let next = location(&response, &Url::parse(&login).unwrap());
        let callback_prefix = format!("{}/auth/{name}", self.demo);
        agent.through_provider(next, &callback_prefix, user).await
    }

    /// From an authorization URL through the provider's pages to the redirect back to
    /// `callback_prefix` (not requested).
    pub async fn through_provider(
        &self,
        start: Url,
        callback_prefix: &str,
        user: AtProvider<'_>,
    ) -> Url {
        let agent = self;
        let mut next = start;
        for _ in 0..20 {
            if next.as_str().starts_with(callback_prefix) {
                return next;
            }
            if user == AtProvider::Abort
                && next.path().starts_with("/interaction/")
                && !next.path().ends_with("/abort")
            {
                next = next
                    .join(&format!("{}/abort", next.path().trim_end_matches('/')))
                    .unwrap();
            }
            let response = agent.http.get(next.clone()).send().await.unwrap();
            if response.status().is_redirection() {
                next = location(&response, &next);
                continue;
            }
            let page = next.clone();
            let html = response.text().await.unwrap();
            next = agent.submit_interaction(&page, &html, user).await;
        }
        panic!("too many hops before the callback");
    }

    /// Answers an oidc-provider development interaction (login or consent form).
    async fn submit_interaction(&self, page: &Url, html: &str, user: AtProvider<'_>) -> Url {
        let action =
            attr(html, "<form", "action").unwrap_or_else(|| panic!("no form at {page}: {html}"));
        let action = page.join(&action).unwrap();
        let prompt = hidden_value(html, "prompt").unwrap_or_default();
        let AtProvider::LogIn(login) = user else {
            panic!("abort expected an interaction redirect, got a page at {page}");
        };
        let form: Vec<(&str, &str)> = match prompt.as_str() {
            "login" => vec![("prompt", "login"), ("login", login), ("password", "x")],
            "consent" => vec![("prompt", "consent")],
            other => panic!("unknown interaction prompt {other:?} at {page}"),
        };
        let response = self
            .http
            .post(action.clone())
            .form(&form)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_redirection(),
            "interaction answered {}",
            response.status()
        );
        location(&response, &action)
    }

    /// A login whose provider answers with `response_mode=form_post`: the provider's page
    /// auto-submits a form to the callback, which this agent posts to the demo.
    pub async fn login_form_post(&self, name: &str, user: &str) -> (u16, Value) {
        let login = format!("{}/login/{name}", self.demo);
        let response = self.http.get(&login).send().await.unwrap();
        assert_eq!(response.status(), 302);
        let mut next = location(&response, &Url::parse(&login).unwrap());
        let callback_prefix = format!("{}/auth/{name}", self.demo);
        for _ in 0..20 {
            assert!(
                !next.as_str().starts_with(&callback_prefix),
                "a query callback despite form_post: {next}"
            );
            let response = self.http.get(next.clone()).send().await.unwrap();
            if response.status().is_redirection() {
                next = location(&response, &next);
                continue;
            }
            let page = next.clone();
            let html = response.text().await.unwrap();
            let action = attr(&html, "<form", "action").map(|a| page.join(&a).unwrap());
            if let Some(action) = action.filter(|a| a.as_str().starts_with(&callback_prefix)) {
                let response = self
                    .http
                    .post(action)
                    .header(ACCEPT, "application/json")
                    .form(&inputs(&html))
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                return (status, response.json().await.unwrap_or(Value::Null));
            }
            next = self
                .submit_interaction(&page, &html, AtProvider::LogIn(user))
                .await;
        }
        panic!("too many hops before the form_post callback");
    }

    /// Requests the callback on the demo with `Accept: application/json`.
    pub async fn finish(&self, callback: &Url) -> (u16, Value) {
        let response = self
            .http
            .get(callback.clone())
            .header(ACCEPT, "application/json")
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A whole login.
    pub async fn login(&self, name: &str, query: &str, user: AtProvider<'_>) -> Outcome {
        let callback = self.to_callback(name, query, user).await;
        let (status, body) = self.finish(&callback).await;
        Outcome {
            status,
            body,
            callback,
        }
    }

    /// `GET /api/{name}/{path}` on the demo.
    pub async fn api(&self, name: &str, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}/api/{name}/{path}", self.demo))
            .header(ACCEPT, "application/json")
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// `POST` a demo route with `Accept: application/json`.
    pub async fn post(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.demo))
            .header(ACCEPT, "application/json")
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

/// The `Location` of a redirect, resolved against the request's URL.
pub fn location_of(response: &reqwest::Response) -> Url {
    location(response, response.url())
}

fn location(response: &reqwest::Response, base: &Url) -> Url {
    let raw = response
        .headers()
        .get(LOCATION)
        .unwrap_or_else(|| panic!("{} without Location", response.status()))
        .to_str()
        .unwrap();
    base.join(raw).unwrap()
}

/// The value of attribute `name` in the first tag starting with `tag`.
pub fn attr(html: &str, tag: &str, name: &str) -> Option<String> {
    let start = html.find(tag)?;
    let end = start + html[start..].find('>')?;
    let element = &html[start..end];
    let key = format!("{name}=\"");
    let from = element.find(&key)? + key.len();
    let to = from + element[from..].find('"')?;
    Some(unescape(&element[from..to]))
}

/// The value of the hidden input named `name`.
pub fn hidden_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\"");
    let at = html.find(&marker)?;
    let start = html[..at].rfind('<')?;
    let end = at + html[at..].find('>')?;
    let element = &html[start..end];
    let from = element.find("value=\"")? + 7;
    let to = from + element[from..].find('"')?;
    Some(unescape(&element[from..to]))
}

/// Every `<input name=... value=...>` of a page.
fn inputs(html: &str) -> Vec<(String, String)> {
    html.match_indices("<input")
        .filter_map(|(at, _)| {
            let element = &html[at..at + html[at..].find('>')?];
            let get = |key: &str| {
                let marker = format!("{key}=\"");
                let from = element.find(&marker)? + marker.len();
                let to = from + element[from..].find('"')?;
                Some(unescape(&element[from..to]))
            };
            Some((get("name")?, get("value").unwrap_or_default()))
        })
        .collect()
}

fn unescape(s: &str) -> String {
    s.replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#x2F;", "/")
        .replace("&#39;", "'")
}

/// A PKCS#8 private key in PEM, as settings files carry `client_assertion_key`.
pub fn pkcs8_pem(der: &[u8]) -> String {
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    )
}
