//! One suite for the route protection of every web adapter: [`run`].
//!
//! Each adapter's tests serve a tiny app and hand its address to [`run`], which speaks
//! plain HTTP, so that both adapters are held to the same answers:
//!
//! | route | does |
//! |---|---|
//! | `GET /seed/{client}/{age}` | records a login of `client` that authenticated `age` seconds ago (the `ferroauth.user` entry) |
//! | `GET /private` | behind the adapter's router-wide protection with `LoginRequired::new().provider("dev").max_age(60).login_routes("/auth")`; answers `ok` |
//! | `GET /private/missing` is no route | under the same protection |
//! | `GET /any` | a handler that takes the adapter's `LoggedIn` extractor; answers the clients it names, comma-separated |
//!
//! | step | what must hold |
//! |---|---|
//! | nobody | a browser gets 303 to `/auth/login/dev?next=%2Fprivate`, JSON 401 `login_required`; `/any` sends to the chooser `/login?next=%2Fany` |
//! | a fresh login | `/private` and `/any` answer |
//! | another provider | a login of `other` does not open `/private` |
//! | a stale login | a browser is sent back to `dev` with `max_age=60`; JSON gets 401 `login_too_old` |
//! | no route | a path under the protection that has no route is a 404, not a login redirect |
//! | `next` | a query is kept in `next`; `//evil.example` never becomes one |

use reqwest::header::{ACCEPT, COOKIE, LOCATION, SET_COOKIE};
use serde_json::Value;

/// The seeding handler's work: the entry's JSON text for a login of `client` `age`
/// seconds ago.
pub fn seeded_entry(client: &str, age: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let signed = ferroauth::session::SignedIn {
        user: None,
        at: [(client.to_owned(), now.saturating_sub(age))].into(),
    };
    serde_json::to_string(&signed).expect("a SignedIn is JSON")
}

/// One browser: its cookies.
#[derive(Default)]
struct Browser {
    cookies: Vec<(String, String)>,
}

struct Answer {
    status: u16,
    location: Option<String>,
    body: String,
}

impl Browser {
    async fn get(&mut self, http: &reqwest::Client, url: &str, accept: &str) -> Answer {
        let mut request = http.get(url).header(ACCEPT, accept);
        if !self.cookies.is_empty() {
            let header: Vec<_> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            request = request.header(COOKIE, header.join("; "));
        }
        let response = request.send().await.expect("the app answers");
        for set in response.headers().get_all(SET_COOKIE) {
            let text = set.to_str().unwrap_or_default();
            let pair = text.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies.retain(|(k, _)| k != name);
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.text().await.unwrap_or_default();
        Answer {
            status,
            location,
            body,
        }
    }
}

fn error_code(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("(not JSON: {body})"))
}

const HTML: &str = "text/html";
const JSON: &str = "application/json";

/// Runs every step against the app at `base` (see the [module docs](self)); `name` tells
/// which adapter in a failure.
pub async fn run(name: &str, base: &str) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client");
    let url = |path: &str| format!("{base}{path}");
    let mut nobody = Browser::default();
    let a = nobody.get(&http, &url("/private"), HTML).await;
    assert_eq!(
        (a.status, a.location.as_deref()),
        (303, Some("/auth/login/dev?next=%2Fprivate")),
        "{name}: nobody, HTML"
    );
    let a = nobody.get(&http, &url("/private"), JSON).await;
    assert_eq!(
        (a.status, error_code(&a.body)),
        (401, "login_required".into()),
        "{name}"
    );
    let a = nobody.get(&http, &url("/any?tab=2"), HTML).await;
    assert_eq!(
        (a.status, a.location.as_deref()),
        (303, Some("/login?next=%2Fany%3Ftab%3D2")),
        "{name}: the extractor, HTML"
    );
    // A path starting `//` matches no route (the guard's own `next` rule is unit-tested in
    // the core): it must stay a 404, never become a redirect.
    let a = nobody.get(&http, &url("//evil.example/any"), HTML).await;
    assert_eq!(a.status, 404, "{name}: //evil.example/any");
    assert!(
        !a.location.as_deref().unwrap_or_default().contains("evil"),
        "{name}: {:?}",
        a.location
    );

    let mut fresh = Browser::default();
    assert_eq!(
        fresh.get(&http, &url("/seed/dev/0"), HTML).await.status,
        200
    );
    let a = fresh.get(&http, &url("/private"), HTML).await;
    assert_eq!(
        (a.status, a.body.as_str()),
        (200, "ok"),
        "{name}: a fresh login"
    );
    let a = fresh.get(&http, &url("/any"), HTML).await;
    assert_eq!(
        (a.status, a.body.as_str()),
        (200, "dev"),
        "{name}: the extractor"
    );
    let a = fresh.get(&http, &url("/private/missing"), HTML).await;
    assert_eq!(a.status, 404, "{name}: no route is a 404");
    let a = nobody.get(&http, &url("/private/missing"), HTML).await;
    assert_eq!(a.status, 404, "{name}: no route is a 404 even logged out");

    let mut other = Browser::default();
    other.get(&http, &url("/seed/other/0"), HTML).await;
    let a = other.get(&http, &url("/private"), HTML).await;
    assert_eq!(a.status, 303, "{name}: another provider does not count");
    let a = other.get(&http, &url("/any"), HTML).await;
    assert_eq!((a.status, a.body.as_str()), (200, "other"), "{name}");

    let mut stale = Browser::default();
    stale.get(&http, &url("/seed/dev/61"), HTML).await;
    let a = stale.get(&http, &url("/private?x=1"), HTML).await;
    assert_eq!(
        (a.status, a.location.as_deref()),
        (
            303,
            Some("/auth/login/dev?max_age=60&next=%2Fprivate%3Fx%3D1")
        ),
        "{name}: a stale login"
    );
    let a = stale.get(&http, &url("/private"), JSON).await;
    assert_eq!(
        (a.status, error_code(&a.body)),
        (401, "login_too_old".into()),
        "{name}"
    );
    let a = stale.get(&http, &url("/any"), HTML).await;
    assert_eq!(a.status, 200, "{name}: the extractor asks no age");
}
