//! Demo instances over a shared testkit provider, and a light user agent for running many
//! logins: a shared HTTP client (connection pool) and one cookie map per simulated browser.

use std::collections::BTreeMap;
use std::sync::Arc;

use ferroauth_testkit::{Client, TestProvider, User};
use reqwest::header::{ACCEPT, COOKIE, LOCATION, SET_COOKIE};
use serde_json::Value;
use url::Url;

use super::framework::{Framework, Running};

/// The registered name of the OpenID Connect client in [`settings_for`].
pub const CLIENT: &str = "dev";

/// A port reserved for a demo instance before the provider learns its redirect URI.
pub struct Reserved {
    pub base: String,
    listener: tokio::net::TcpListener,
}

pub async fn reserve() -> Reserved {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Reserved {
        base: format!("http://{}", listener.local_addr().unwrap()),
        listener,
    }
}

/// A demo app (or any axum app) serving on its own port; stopped on drop.
pub struct Instance {
    pub base: String,
    _running: Running,
}

impl Reserved {
    /// Serves an axum app.
    pub fn serve(self, app: axum::Router) -> Instance {
        Instance {
            base: self.base,
            _running: Running::axum(self.listener, app),
        }
    }

    /// Serves the demo on `framework` with the sessions `choice` names (`cookie` with
    /// `keys`).
    pub async fn serve_demo(
        self,
        framework: Framework,
        oauth: ferroauth::OAuth,
        options: ferroauth_demo::DemoOptions,
        choice: &ferroauth_axum::stores::StoreChoice,
        keys: Option<&str>,
    ) -> Instance {
        let running =
            Running::with_store(framework, self.listener, oauth, options, choice, keys).await;
        Instance {
            base: self.base,
            _running: running,
        }
    }

    /// Serves the demo on `framework` with in-memory sessions, default options and the
    /// settings in `toml`.
    pub async fn serve_settings(self, framework: Framework, toml: &str) -> Instance {
        let settings = ferroauth::settings::Settings::from_toml_str(toml).expect("settings");
        let oauth = ferroauth::OAuth::from_settings(&settings).expect("registry");
        let memory = ferroauth_axum::stores::StoreChoice::Memory;
        self.serve_demo(framework, oauth, Default::default(), &memory, None)
            .await
    }

    /// Serves the actix demo over an actix session store of the test's own.
    pub fn serve_actix(
        self,
        oauth: ferroauth::OAuth,
        options: ferroauth_demo::DemoOptions,
        store: ferroauth_actix::stores::Store,
    ) -> Instance {
        Instance {
            base: self.base,
            _running: Running::actix(self.listener, oauth, options, store),
        }
    }
}

/// The user names `u0`..`u{n-1}` registered at the provider.
pub fn user(i: usize, users: usize) -> String {
    format!("u{}", i % users)
}

/// A testkit provider on its own port that approves logins as `login_hint`, with one
/// confidential client whose redirect URIs are those of `bases`.
pub async fn provider(bases: &[&str], users: usize) -> TestProvider {
    let mut client = Client::confidential(
        "demo-oidc",
        "demo-secret",
        format!("{}/auth/{CLIENT}", bases[0]),
    );
    for base in &bases[1..] {
        client = client.redirect_uri(format!("{base}/auth/{CLIENT}"));
    }
    for base in bases {
        client = client.post_logout_redirect_uri(format!("{base}/logged-out"));
    }
    // One delivery address, as a provider has: the first instance.
    client = client.backchannel_logout_uri(format!("{}/backchannel-logout/{CLIENT}", bases[0]));
    TestProvider::builder()
        .users((0..users).map(|i| User::new(user(i, users)).email(format!("u{i}@example.test"))))
        .client(client)
        .auto_approve(true)
        .start()
        .await
        .expect("testkit provider")
}

/// Demo settings for the provider's client.
pub fn settings_for(provider: &TestProvider) -> ferroauth::settings::Settings {
    ferroauth::settings::Settings::from_toml_str(&settings_toml(provider)).expect("settings")
}

/// [`settings_for`] as TOML text, for a demo process's `--config`.
pub fn settings_toml(provider: &TestProvider) -> String {
    let issuer = provider.issuer();
    format!(
        r#"
[clients.{CLIENT}]
client_id = "demo-oidc"
client_secret = "demo-secret"
server_metadata_url = "{issuer}/.well-known/openid-configuration"
api_base_url = "{issuer}/api/"
client_kwargs = {{ scope = "openid email profile" }}
"#
    )
}

/// A shared HTTP client: no redirects, no cookie store (agents keep their own).
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(256)
        .build()
        .unwrap()
}

/// One simulated browser: its cookies, sent to every 127.0.0.1 origin (cookies ignore
/// ports, so a session started on one instance reaches the other).
#[derive(Debug, Default, Clone)]
pub struct Agent {
    pub cookies: BTreeMap<String, String>,
}

impl Agent {
    pub fn new() -> Agent {
        Agent::default()
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn absorb(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all(SET_COOKIE) {
            let Ok(text) = value.to_str() else { continue };
            let mut parts = text.split(';');
            let Some((name, value)) = parts.next().and_then(|p| p.trim().split_once('=')) else {
                continue;
            };
            let removed = parts.any(|a| a.trim().eq_ignore_ascii_case("max-age=0"));
            if removed || value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    /// A request with this agent's cookies; takes the cookies of the answer.
    pub async fn send(
        &mut self,
        http: &reqwest::Client,
        method: reqwest::Method,
        url: &str,
    ) -> Result<reqwest::Response, String> {
        let mut request = http.request(method, url).header(ACCEPT, "application/json");
        if !self.cookies.is_empty() {
            request = request.header(COOKIE, self.cookie_header());
        }
        let response = request.send().await.map_err(|e| format!("{url}: {e}"))?;
        self.absorb(&response);
        Ok(response)
    }

    /// `GET /login/{CLIENT}?login_hint=user` on `base`, then through the provider up to
    /// the callback URL (not requested).
    pub async fn start_login(
        &mut self,
        http: &reqwest::Client,
        base: &str,
        user: &str,
    ) -> Result<Url, String> {
        let login = format!("{base}/login/{CLIENT}?login_hint={user}");
        let response = self.send(http, reqwest::Method::GET, &login).await?;
        if response.status() != 302 {
            let status = response.status();
            return Err(format!(
                "login answered {status}: {}",
                response.text().await.unwrap_or_default()
            ));
        }
        let mut next = location(&response, &login)?;
        for _ in 0..10 {
            if next.path() == format!("/auth/{CLIENT}") {
                return Ok(next);
            }
            let response = self.send(http, reqwest::Method::GET, next.as_str()).await?;
            if !response.status().is_redirection() {
                return Err(format!("{next} answered {}", response.status()));
            }
            next = location(&response, next.as_str())?;
        }
        Err("too many hops before the callback".into())
    }

    /// Requests the callback at `base` (whatever instance the provider named).
    pub async fn finish(
        &mut self,
        http: &reqwest::Client,
        callback: &Url,
        base: &str,
    ) -> Result<(u16, Value), String> {
        let url = format!(
            "{base}{}?{}",
            callback.path(),
            callback.query().unwrap_or_default()
        );
        let response = self.send(http, reqwest::Method::GET, &url).await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    /// A whole login that starts on `start` and finishes on `finish`; checks that it
    /// succeeds as `user` and no one else.
    pub async fn login(
        &mut self,
        http: &reqwest::Client,
        start: &str,
        finish: &str,
        user: &str,
    ) -> Result<(), String> {
        let callback = self.start_login(http, start, user).await?;
        let (status, body) = self.finish(http, &callback, finish).await?;
        if status != 200 {
            return Err(format!("callback answered {status}: {body}"));
        }
        match body["userinfo"]["sub"].as_str() {
            Some(sub) if sub == user => Ok(()),
            other => Err(format!("MIX-UP: logged in as {other:?}, expected {user}")),
        }
    }
}

fn location(response: &reqwest::Response, base: &str) -> Result<Url, String> {
    let raw = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| format!("{} without Location", response.status()))?;
    Url::parse(base)
        .and_then(|b| b.join(raw))
        .map_err(|e| e.to_string())
}

/// Totals of a batch of logins.
#[derive(Debug, Default)]
pub struct Tally {
    pub ok: usize,
    pub failures: Vec<String>,
    pub mixups: usize,
}

/// The names `u0`..`u{n-1}`, as [`provider`] registers them.
pub fn user_names(n: usize) -> Vec<String> {
    (0..n).map(|i| user(i, n)).collect()
}

/// `n` logins, `in_flight` at a time, each by a fresh agent; login `i` starts on
/// `starts[i % len]` and finishes on `finishes[i % len]`, as user `users[i % len]`.
pub async fn run_logins(
    http: &reqwest::Client,
    starts: &[String],
    finishes: &[String],
    n: usize,
    in_flight: usize,
    users: &[String],
) -> Tally {
    let starts = Arc::new(starts.to_vec());
    let finishes = Arc::new(finishes.to_vec());
    let users = Arc::new(users.to_vec());
    let mut set = tokio::task::JoinSet::new();
    let mut tally = Tally::default();
    fn collect(r: Result<Result<(), String>, tokio::task::JoinError>, t: &mut Tally) {
        match r {
            Ok(Ok(())) => t.ok += 1,
            Ok(Err(e)) => {
                if e.starts_with("MIX-UP") {
                    t.mixups += 1;
                }
                t.failures.push(e);
            }
            Err(e) => t.failures.push(format!("task: {e}")),
        }
    }
    for i in 0..n {
        if set.len() >= in_flight {
            let r = set.join_next().await.expect("a task");
            collect(r, &mut tally);
        }
        let http = http.clone();
        let starts = starts.clone();
        let finishes = finishes.clone();
        let users = users.clone();
        set.spawn(async move {
            let start = &starts[i % starts.len()];
            let finish = &finishes[i % finishes.len()];
            Agent::new()
                .login(&http, start, finish, &users[i % users.len()])
                .await
        });
    }
    while let Some(r) = set.join_next().await {
        collect(r, &mut tally);
    }
    tally
}
