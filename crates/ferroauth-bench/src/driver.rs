//! Complete logins against the demo, as a browser would do them.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, COOKIE, LOCATION, SET_COOKIE};

/// Which of the demo's clients a login uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// OpenID Connect: code flow with PKCE and nonce, RS256 ID token, userinfo.
    Oidc,
    /// OAuth 1.0a: temporary credentials, authorization, token credentials.
    OAuth1,
    /// An API call with a logged-in browser's stored token: `GET /api/{oidc}/me` through
    /// the app's relay route (session load, the token's expiry check, the provider call,
    /// the relayed answer). Each browser logs in (OpenID Connect) before its first call,
    /// so the warm-up must have at least as many calls as there are in flight.
    Api,
}

impl Flow {
    /// The demo's client name for this flow.
    pub fn client(self) -> &'static str {
        match self {
            Flow::Oidc | Flow::Api => ferroauth_testkit::dev::OIDC_CLIENT,
            Flow::OAuth1 => ferroauth_testkit::dev::OAUTH1_CLIENT,
        }
    }

    /// A label for reports.
    pub fn label(self) -> &'static str {
        match self {
            Flow::Oidc => "OpenID Connect",
            Flow::OAuth1 => "OAuth 1.0a",
            Flow::Api => "API call",
        }
    }

    /// Parses `oidc`, `oauth1` or `api`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "oidc" | "openid" => Some(Flow::Oidc),
            "oauth1" | "oauth1a" => Some(Flow::OAuth1),
            "api" => Some(Flow::Api),
            _ => None,
        }
    }
}

/// What a batch of logins gave.
#[derive(Debug, Clone, Default)]
pub struct PhaseResult {
    /// Completed logins.
    pub ok: u64,
    /// Failed logins.
    pub failures: u64,
    /// The first failure's description.
    pub first_error: Option<String>,
    /// Latency of each completed login (all three requests).
    pub latencies: Vec<Duration>,
    /// Wall-clock time of the batch.
    pub elapsed: Duration,
}

impl PhaseResult {
    /// Adds a later batch: its logins, failures, latencies and time.
    pub fn add(&mut self, part: PhaseResult) {
        self.ok += part.ok;
        self.failures += part.failures;
        self.latencies.extend(part.latencies);
        self.elapsed += part.elapsed;
        if self.first_error.is_none() {
            self.first_error = part.first_error;
        }
    }

    /// Completed logins per second of wall-clock time.
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `p`-th percentile (0..=100) of the login latency.
    pub fn percentile(&self, p: u32) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        percentile_of_sorted(&sorted, p)
    }
}

fn percentile_of_sorted(sorted: &[Duration], p: u32) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    // Nearest rank.
    let rank = (sorted.len() * p.min(100) as usize).div_ceil(100).max(1);
    sorted[rank - 1]
}

/// Performs logins against one demo.
#[derive(Debug, Clone)]
pub struct Driver {
    http: reqwest::Client,
    demo: String,
    /// `(from, to)`: authorize URLs starting with `from` are requested at `to` instead
    /// (the provider's browser-facing listener), so that the provider can count the demo's
    /// own connections apart from the driver's.
    rewrite: Option<(String, String)>,
    /// Returning users: browsers waiting for their next login, each with the session
    /// cookie it was last given (`None`: a fresh browser for every login).
    browsers: Option<Arc<Mutex<VecDeque<Option<String>>>>>,
    /// Logged-in browsers waiting for their next API call ([`Flow::Api`]), by session
    /// cookie.
    api_browsers: Arc<Mutex<Vec<String>>>,
}

impl Driver {
    /// A driver for the demo at `demo_base` (`http://127.0.0.1:8000`).
    pub fn new(demo_base: &str, rewrite: Option<(String, String)>) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Self {
            http,
            demo: demo_base.trim_end_matches('/').to_owned(),
            rewrite,
            browsers: None,
            api_browsers: Arc::default(),
        })
    }

    /// Logins by `users` returning users instead of a fresh browser each time: every login
    /// takes the browser that has waited longest and sends the session cookie the app last
    /// gave it, as a user logging in again would. Needs at least as many users as logins
    /// in flight, so that no browser runs two logins at once.
    pub fn with_returning_users(mut self, users: usize) -> Self {
        self.browsers = (users > 0).then(|| Arc::new(Mutex::new(vec![None; users].into())));
        self
    }

    fn take_browser(&self) -> Option<String> {
        let browsers = self.browsers.as_ref()?;
        browsers.lock().ok()?.pop_front().flatten()
    }

    fn return_browser(&self, cookie: Option<String>) {
        if let Some(browsers) = &self.browsers
            && let Ok(mut idle) = browsers.lock()
        {
            idle.push_back(cookie);
        }
    }

    /// One complete login, in a fresh browser or a returning user's; for [`Flow::Api`],
    /// one API call.
    pub async fn login(&self, flow: Flow) -> Result<(), String> {
        if flow == Flow::Api {
            return self.api_call().await;
        }
        let previous = self.take_browser();
        let result = self.login_with(flow, previous.as_deref()).await;
        let keep = match &result {
            Ok(cookie) => Some(cookie.clone()),
            Err(_) => previous,
        };
        self.return_browser(keep);
        result.map(drop)
    }

    /// One complete login; `previous` is the browser's session cookie, if it has one.
    /// Returns the session cookie the browser holds afterwards.
    async fn login_with(&self, flow: Flow, previous: Option<&str>) -> Result<String, String> {
        let client = flow.client();
        // 1. The app's login route: a redirect to the provider and a session cookie.
        let mut request = self.http.get(format!("{}/login/{client}", self.demo));
        if let Some(cookie) = previous {
            request = request.header(COOKIE, cookie);
        }
        let start = request
            .send()
            .await
            .map_err(|e| format!("GET /login/{client}: {e}"))?;
        let authorize = redirect_target(&start, "GET /login")?;
        let cookie = cookies_after(previous.unwrap_or(""), &start);
        if cookie.is_empty() {
            return Err("GET /login: no session cookie".into());
        }
        drop(start.bytes().await);
        let authorize = match &self.rewrite {
            Some((from, to)) if authorize.starts_with(from.as_str()) => {
                format!("{to}{}", &authorize[from.len()..])
            }
            _ => authorize,
        };
        // 2. The provider's authorization endpoint, auto-approving: back to the callback.
        let approved = self
            .http
            .get(&authorize)
            .send()
            .await
            .map_err(|e| format!("GET authorize: {e}"))?;
        let callback = redirect_target(&approved, "GET authorize")?;
        drop(approved.bytes().await);
        if !callback.starts_with(&self.demo) {
            return Err(format!("the provider redirected elsewhere: {callback}"));
        }
        // 3. The app's callback, as JSON.
        let done = self
            .http
            .get(&callback)
            .header(COOKIE, &cookie)
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| format!("GET /auth/{client}: {e}"))?;
        let status = done.status();
        // The app gives a new session id after a login (against session fixation).
        let cookie = cookies_after(&cookie, &done);
        let body = done
            .bytes()
            .await
            .map_err(|e| format!("GET /auth/{client}: reading the body: {e}"))?;
        if status != StatusCode::OK {
            return Err(format!(
                "GET /auth/{client}: HTTP {status}: {}",
                String::from_utf8_lossy(&body)
            ));
        }
        let json: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| format!("GET /auth/{client}: not JSON ({e})"))?;
        if json["provider"] != client || json["userinfo"].as_object().is_none_or(|u| u.is_empty()) {
            return Err(format!("GET /auth/{client}: unexpected answer {json}"));
        }
        Ok(cookie)
    }

    /// One API call by a logged-in browser (one that logs in first when none is idle).
    async fn api_call(&self) -> Result<(), String> {
        let idle = self.api_browsers.lock().ok().and_then(|mut b| b.pop());
        let cookie = match idle {
            Some(cookie) => cookie,
            None => self.login_with(Flow::Oidc, None).await?,
        };
        let client = Flow::Api.client();
        let answer = self
            .http
            .get(format!("{}/api/{client}/me", self.demo))
            .header(COOKIE, &cookie)
            .send()
            .await
            .map_err(|e| format!("GET /api/{client}/me: {e}"))?;
        let status = answer.status();
        let cookie = cookies_after(&cookie, &answer);
        let body = answer
            .bytes()
            .await
            .map_err(|e| format!("GET /api/{client}/me: reading the body: {e}"))?;
        if status != StatusCode::OK || !body.starts_with(b"{") {
            return Err(format!(
                "GET /api/{client}/me: HTTP {status}: {}",
                String::from_utf8_lossy(&body)
            ));
        }
        if let Ok(mut idle) = self.api_browsers.lock() {
            idle.push(cookie);
        }
        Ok(())
    }

    /// `logins` logins of one flow, `concurrency` at a time.
    pub async fn run(&self, flow: Flow, logins: u64, concurrency: usize) -> PhaseResult {
        let remaining = Arc::new(AtomicU64::new(logins));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..concurrency.max(1) {
            let driver = self.clone();
            let remaining = remaining.clone();
            tasks.push(tokio::spawn(async move {
                let mut part = PhaseResult::default();
                while remaining
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
                    .is_ok()
                {
                    let t = Instant::now();
                    match driver.login(flow).await {
                        Ok(()) => {
                            part.ok += 1;
                            part.latencies.push(t.elapsed());
                        }
                        Err(e) => {
                            part.failures += 1;
                            part.first_error.get_or_insert(e);
                        }
                    }
                }
                part
            }));
        }
        let mut total = PhaseResult::default();
        for task in tasks {
            match task.await {
                Ok(part) => total.add(part),
                Err(e) => {
                    total.failures += 1;
                    total.first_error.get_or_insert(format!("driver task: {e}"));
                }
            }
        }
        total.elapsed = started.elapsed();
        total
    }
}

/// The `Cookie` header a browser holding `jar` (`name=value; ...`) sends after this
/// response: the cookies it sets replace those of the same name, the ones it removes (empty
/// value) are dropped, the others are kept. The sealed-cookie store sets several cookies and
/// removes its pending-login cookie in one answer.
fn cookies_after(jar: &str, response: &reqwest::Response) -> String {
    let mut cookies: Vec<(&str, &str)> = jar
        .split("; ")
        .filter_map(|pair| pair.split_once('='))
        .collect();
    let set = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next()?.split_once('='));
    for (name, value) in set {
        cookies.retain(|(n, _)| *n != name);
        if !value.is_empty() {
            cookies.push((name, value));
        }
    }
    cookies
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

fn redirect_target(response: &reqwest::Response, what: &str) -> Result<String, String> {
    if !response.status().is_redirection() {
        return Err(format!(
            "{what}: HTTP {} instead of a redirect",
            response.status()
        ));
    }
    response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| format!("{what}: redirect without Location"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile_of_sorted(&v, 50), Duration::from_millis(50));
        assert_eq!(percentile_of_sorted(&v, 99), Duration::from_millis(99));
        assert_eq!(percentile_of_sorted(&v, 100), Duration::from_millis(100));
        assert_eq!(percentile_of_sorted(&[], 50), Duration::ZERO);
        let one = [Duration::from_millis(7)];
        assert_eq!(percentile_of_sorted(&one, 1), Duration::from_millis(7));
    }

    #[test]
    fn the_cookie_jar_follows_set_cookie() {
        let response = axum::http::Response::builder()
            .header(SET_COOKIE, "fa_pending=; Path=/; Max-Age=0")
            .header(SET_COOKIE, "fa_users=z; Path=/; HttpOnly")
            .header(SET_COOKIE, "id=2; Path=/")
            .body("")
            .unwrap();
        let response = reqwest::Response::from(response);
        assert_eq!(
            cookies_after("id=1; fa_pending=x; fa_tok=y", &response),
            "fa_tok=y; fa_users=z; id=2"
        );
        assert_eq!(cookies_after("", &response), "fa_users=z; id=2");
    }

    #[test]
    fn flows_parse() {
        assert_eq!(Flow::parse("OIDC"), Some(Flow::Oidc));
        assert_eq!(Flow::parse("oauth1"), Some(Flow::OAuth1));
        assert_eq!(Flow::parse("api"), Some(Flow::Api));
        assert_eq!(Flow::parse("saml"), None);
    }
}
