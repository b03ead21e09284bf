//! Cookie tossing: a sibling host (`evil.example.com` beside `app.example.com`) sets
//! `Domain=example.com` cookies that the browser then sends to the app, beside the app's
//! own cookies of the same names, or instead of them. The attacker logs in to the demo
//! themselves, takes their own cookies and plants them in the victim's browser; the victim
//! must never end up using the attacker's account or token.
//!
//! Over plain http the names are the unprefixed `id` and `fa_...`, so what is tested here is
//! what holds even where a sibling host *can* plant them: sealed entries are bound to their
//! jar's session id (another session's entries do not open), and a name sent twice counts as
//! absent (a duplicated session cookie is no session). That a sibling host cannot plant the
//! `__Host-` names used behind https at all is shown in a real browser:
//! `browser_e2e.rs`, `sibling_host_cookies_are_ignored_in_a_browser`.
//!
//! Each test runs on both frameworks (`<test>::axum`, `<test>::actix`).

mod support;

use ferroauth::OAuth;
use ferroauth::session::sealed::CookieKeys;
use ferroauth_axum::stores::StoreChoice;
use ferroauth_demo::DemoOptions;
use reqwest::header::{ACCEPT, COOKIE};
use support::Framework;
use support::harness::{self, Agent, CLIENT, Instance};

/// The victim is `u0`, the attacker `u1`.
const USERS: usize = 2;
const VICTIM: &str = "u0";
const ATTACKER: &str = "u1";

/// One demo over a testkit provider; sealed-cookie sessions with `keys`, else in memory.
struct World {
    demo: Instance,
    _provider: ferroauth_testkit::TestProvider,
}

async fn world(framework: Framework, keys: Option<&str>) -> World {
    let reserved = harness::reserve().await;
    let provider = harness::provider(&[&reserved.base], USERS).await;
    let oauth = OAuth::from_settings(&harness::settings_for(&provider)).unwrap();
    let choice = match keys {
        Some(_) => StoreChoice::Cookie,
        None => StoreChoice::Memory,
    };
    let demo = reserved
        .serve_demo(framework, oauth, DemoOptions::default(), &choice, keys)
        .await;
    World {
        demo,
        _provider: provider,
    }
}

/// Who the demo takes a browser sending `cookies` for: the user of the home page's account
/// card, and the user the API pass-through calls the provider as (with the stored token).
async fn seen_as(base: &str, cookies: &str) -> (Option<String>, Option<String>) {
    let http = harness::http();
    let home = http
        .get(format!("{base}/"))
        .header(COOKIE, cookies)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let page_user = (0..USERS)
        .map(|i| harness::user(i, USERS))
        .find(|u| home.contains(&format!("{u}@example.test")));
    assert_eq!(
        page_user.is_some(),
        home.contains(&format!("id=\"account-{CLIENT}\"")),
        "{home}"
    );
    let api = http
        .get(format!("{base}/api/{CLIENT}/me"))
        .header(COOKIE, cookies)
        .header(ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    let api_user = if api.status() == 200 {
        let body: serde_json::Value = api.json().await.unwrap();
        body["sub"].as_str().map(str::to_owned)
    } else {
        None
    };
    (page_user, api_user)
}

fn header(cookies: &[(&str, &str)]) -> String {
    cookies
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The agent's cookies as `(name, value)`, in name order.
fn pairs(agent: &Agent) -> Vec<(&str, &str)> {
    agent
        .cookies
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect()
}

/// Sealed-cookie sessions: the attacker's own `fa_accounts` and `fa_token_dev` (valid, under
/// the app's keys) planted in the victim's browser: with no session of the victim's, beside
/// a login the victim has started, and beside (duplicating) the victim's own logged-in
/// entries, before or after them.
async fn planted_sealed_entries_do_not_log_the_victim_in(framework: Framework) {
    let keys = CookieKeys::generate("k1").unwrap();
    let w = world(framework, Some(&keys)).await;
    let base = &w.demo.base;
    let http = harness::http();
    let mut attacker = Agent::new();
    attacker.login(&http, base, base, ATTACKER).await.unwrap();
    let token_cookie = format!("fa_token_{CLIENT}");
    let planted: Vec<(&str, &str)> = pairs(&attacker)
        .into_iter()
        .filter(|(n, _)| *n == "fa_accounts" || *n == token_cookie)
        .collect();
    assert_eq!(planted.len(), 2, "{:?}", attacker.cookies.keys());
    // The attacker's cookies work for the attacker: the test can fail for the right reason.
    let own = header(&pairs(&attacker));
    let attacker_view = (Some(ATTACKER.to_owned()), Some(ATTACKER.to_owned()));
    assert_eq!(seen_as(base, &own).await, attacker_view);

    // A victim with no session at all.
    let nobody = (None, None);
    assert_eq!(
        seen_as(base, &header(&planted)).await,
        nobody,
        "fresh victim"
    );

    // A victim in the middle of a login.
    let mut victim = Agent::new();
    let callback = victim.start_login(&http, base, VICTIM).await.unwrap();
    let mut midway = pairs(&victim);
    midway.extend(&planted);
    assert_eq!(seen_as(base, &header(&midway)).await, nobody, "mid-login");
    let (status, body) = victim.finish(&http, &callback, base).await.unwrap();
    assert_eq!(
        (status, body["userinfo"]["sub"].as_str()),
        (200, Some(VICTIM))
    );

    // A logged-in victim: the planted copies first or last.
    let victim_view = (Some(VICTIM.to_owned()), Some(VICTIM.to_owned()));
    assert_eq!(seen_as(base, &header(&pairs(&victim))).await, victim_view);
    for attacker_first in [true, false] {
        let mut cookies = pairs(&victim);
        if attacker_first {
            cookies.splice(0..0, planted.iter().copied());
        } else {
            cookies.extend(&planted);
        }
        let (page, api) = seen_as(base, &header(&cookies)).await;
        assert_ne!(
            page.as_deref(),
            Some(ATTACKER),
            "attacker first: {attacker_first}"
        );
        assert_ne!(
            api.as_deref(),
            Some(ATTACKER),
            "attacker first: {attacker_first}"
        );
    }
}

/// Server-side sessions: the attacker's own session cookie sent beside the victim's (the
/// planted copy first, as a parent-domain cookie with a longer path would come): no
/// session at all, never the attacker's.
async fn a_duplicated_session_cookie_is_no_session(framework: Framework) {
    let w = world(framework, None).await;
    let base = &w.demo.base;
    let http = harness::http();
    let mut attacker = Agent::new();
    attacker.login(&http, base, base, ATTACKER).await.unwrap();
    let mut victim = Agent::new();
    victim.login(&http, base, base, VICTIM).await.unwrap();
    let name = ferroauth::cookies::PLAIN_SESSION_COOKIE;
    let planted = (name, attacker.cookies[name].as_str());
    let own = (name, victim.cookies[name].as_str());
    let victim_view = (Some(VICTIM.to_owned()), Some(VICTIM.to_owned()));
    assert_eq!(seen_as(base, &header(&[own])).await, victim_view);
    let attacker_view = (Some(ATTACKER.to_owned()), Some(ATTACKER.to_owned()));
    assert_eq!(seen_as(base, &header(&[planted])).await, attacker_view);
    for cookies in [vec![planted, own], vec![own, planted], vec![own, own]] {
        assert_eq!(
            seen_as(base, &header(&cookies)).await,
            (None, None),
            "{cookies:?}"
        );
    }
    // The same across two Cookie headers.
    let response = http
        .get(format!("{base}/api/{CLIENT}/me"))
        .header(COOKIE, header(&[planted]))
        .header(COOKIE, header(&[own]))
        .header(ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    assert_ne!(response.status(), 200);
}

crate::on_both!(
    planted_sealed_entries_do_not_log_the_victim_in,
    a_duplicated_session_cookie_is_no_session,
);
