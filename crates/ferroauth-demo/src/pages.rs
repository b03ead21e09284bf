//! The demo's HTML pages: small, dependency-free, escaped.

use std::collections::BTreeMap;

use ferroauth::{Claims, Token};
use serde_json::Value;

use ferroauth::session::{Account, Session};
use ferroauth::users::{Identity, UserId};
use ferroauth::{Error, OAuth};

pub use ferroauth::html::escape;

const STYLE: &str = r#"
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f3f5f9;color:#1d2330;margin:0;line-height:1.45}
main{max-width:46rem;margin:2.5rem auto;padding:0 1rem}
header{margin:0 0 1.5rem} h1{font-size:1.7rem;margin:0 0 .25rem;letter-spacing:-.01em} h1 span{color:#b4461b}
.lede{color:#5b6475;margin:0}
.card{background:#fff;border:1px solid #e2e5ea;border-radius:12px;padding:1.2rem 1.4rem;margin:0 0 1rem;box-shadow:0 1px 3px rgba(16,24,40,.05)}
.card h2{font-size:1.1rem;margin:0 0 .8rem}
.card h3{font-size:.8rem;text-transform:uppercase;letter-spacing:.06em;color:#5b6475;margin:1.1rem 0 .4rem}
.providers{display:flex;flex-wrap:wrap;gap:.7rem}
a.button,button{display:inline-block;background:#1f5eff;color:#fff;border:0;border-radius:8px;padding:.6rem 1.05rem;font:inherit;font-size:.95rem;text-decoration:none;cursor:pointer}
a.button:hover,button:hover{background:#1849cc}
a.provider{display:flex;flex-direction:column;align-items:flex-start;min-width:12rem;padding:.7rem 1.1rem}
a.provider strong{font-size:1rem} a.provider small{opacity:.85;font-size:.8rem}
button.secondary,a.secondary{background:#eef1f6;color:#1d2330} button.secondary:hover{background:#e0e5ee}
.badge{display:inline-block;background:#e8f5ee;color:#17683c;border-radius:99px;padding:.1rem .6rem;font-size:.8rem;font-weight:600;vertical-align:middle;margin-left:.3rem}
table{border-collapse:collapse;width:100%;font-size:.92rem}
td{border-top:1px solid #eef0f3;padding:.4rem .45rem;vertical-align:top;word-break:break-all}
td:first-child{color:#5b6475;width:10rem;word-break:normal}
pre{background:#0f1420;color:#d6deeb;border-radius:8px;padding:.8rem;overflow:auto;font-size:.85rem;max-height:22rem;margin:.8rem 0 0;white-space:pre-wrap;word-break:break-all}
.actions{display:flex;gap:.5rem;flex-wrap:wrap;align-items:center;margin-top:1rem} .actions form{margin:0}
.error{border-color:#f0b4a8;background:#fff8f6} .error h2{color:#a1341a}
code{background:#f1f3f7;border-radius:4px;padding:.1rem .35rem;font-size:.9em} .error code{color:#a1341a;background:#fdeae5}
.muted{color:#5b6475;font-size:.88rem}
tr.protocol td{color:#8a92a3;font-size:.85rem} tr.protocol td:first-child{color:#8a92a3}
footer{margin-top:1.5rem}
"#;

/// Fetches `/api/<provider>/<path>` and shows the answer (pretty-printed JSON) under the button.
const SCRIPT: &str = "async function callApi(b){const p=b.dataset.provider;const out=document.getElementById('api-result-'+p);out.hidden=false;out.textContent='Calling '+b.dataset.url+' \u{2026}';try{const r=await fetch(b.dataset.url,{headers:{accept:'application/json'}});let t=await r.text();try{t=JSON.stringify(JSON.parse(t),null,2);}catch(e){}out.textContent='HTTP '+r.status+'\\n'+t;}catch(e){out.textContent='The request failed: '+e;}}";

fn layout(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        escape(title)
    )
}

const HEADER: &str = "<header><h1><span>ferro</span>auth demo</h1><p class=\"lede\">Log in with a provider, see who you are, and call its API with your token.</p></header>";

/// A login button of the home page.
#[derive(Debug, Clone)]
pub struct Provider {
    /// The client's name in the settings (and in `/login/<name>`).
    pub name: String,
    /// The provider's name for people, when the client comes from a preset ("GitHub").
    pub label: Option<String>,
    /// Whether the client speaks OAuth 1.0a.
    pub oauth1: bool,
}

impl Provider {
    /// The configured providers, with their preset's name for people.
    pub fn all(oauth: &ferroauth::OAuth) -> Vec<Provider> {
        let provider = |name: String| {
            let client = oauth.client(&name).ok()?;
            let label = client.preset().map(|p| p.display_name.to_owned());
            let oauth1 = client.is_oauth1();
            Some(Provider {
                name,
                label,
                oauth1,
            })
        };
        oauth.names().into_iter().filter_map(provider).collect()
    }
}

/// What the home page shows of a session: its accounts and, when the app keeps users,
/// the app's user with its linked identities.
#[derive(Debug, Default)]
pub struct Home {
    /// The accounts of the session, by client name.
    pub accounts: Vec<(String, Account)>,
    /// The app's user and its identities.
    pub user: Option<(UserId, Vec<Identity>)>,
}

impl Home {
    /// What `session` holds, with the user's identities from the registry's user store.
    pub async fn load(oauth: &OAuth, session: &impl Session) -> Result<Self, Error> {
        let accounts = ferroauth::session::logged_in(session).await?;
        let signed = ferroauth::session::signed_in(session).await?;
        let user = match (oauth.users(), signed.user) {
            (Some(users), Some(id)) => {
                let identities = users.store().identities(&id).await?;
                Some((id, identities))
            }
            _ => None,
        };
        Ok(Self {
            accounts: accounts.into_iter().collect(),
            user,
        })
    }
}

/// The home page: login buttons and, for each provider logged in, the user and token.
///
/// `api_paths` gives, per provider, the path under its API base URL that the
/// "Call the API" button requests (the API root when absent).
pub fn home(providers: &[Provider], home: &Home, api_paths: &BTreeMap<String, String>) -> String {
    let accounts = &home.accounts;
    let mut body = String::from(HEADER);
    // Logged in, a login with another provider links it to the same user.
    let heading = match home.user.is_some() {
        true => "Link another provider",
        false => "Log in with",
    };
    body.push_str(&format!(
        "<section class=\"card\"><h2 id=\"providers-heading\">{heading}</h2><div class=\"providers\">"
    ));
    for provider in providers {
        let kind = if provider.oauth1 {
            "OAuth 1.0a"
        } else {
            "OAuth 2.0 / OpenID Connect"
        };
        let name = escape(&provider.name);
        // A preset's provider name leads; the client's own name stays visible beneath.
        let (title, detail) = match &provider.label {
            Some(label) => (escape(label), format!("{name} · {kind}")),
            None => (name.clone(), kind.to_owned()),
        };
        body.push_str(&format!(
            "<a class=\"button provider\" id=\"login-{name}\" href=\"/login/{name}\" title=\"Log in with {title} ({kind})\"><strong>{title}</strong><small>{detail}</small></a>"
        ));
    }
    if providers.is_empty() {
        body.push_str(
            "<p class=\"muted\">No providers are configured: pass <code>--config FILE</code>.</p>",
        );
    }
    body.push_str("</div></section>");
    if let Some((id, identities)) = &home.user {
        body.push_str(&user_card(id, identities));
    }
    for (name, account) in accounts {
        let path = api_paths.get(name).map_or("", String::as_str);
        body.push_str(&account_card(name, account, path));
    }
    if !accounts.is_empty() {
        body.push_str(&format!(
            "<footer class=\"actions\"><form method=\"post\" action=\"/logout\"><button class=\"secondary\" id=\"logout\">Log out</button></form><form method=\"post\" action=\"/logout?everywhere=1\"><button class=\"secondary\" id=\"logout-everywhere\">Sign out everywhere</button></form><span class=\"muted\">Logging out ends this browser session here at once, revokes its tokens at the providers, and signs you out at the first provider that offers it (a provider's own button: only there). Signing out everywhere also ends your sessions in every other browser and device.</span></footer><script>{SCRIPT}</script>"
        ));
    }
    layout("ferroauth demo", &body)
}

/// The app's user: its id and linked identities, each with an unlink button (the store
/// refuses the last one).
fn user_card(id: &UserId, identities: &[Identity]) -> String {
    let mut card = format!(
        "<section class=\"card\" id=\"user\"><h2>Your account <span class=\"badge\" id=\"user-id\">{}</span></h2><table class=\"identities\">",
        escape(id.as_str())
    );
    for identity in identities {
        let p = escape(&identity.provider);
        card.push_str(&format!(
            "<tr class=\"identity\" data-provider=\"{p}\"><td>{p}</td><td>{}</td><td><form method=\"post\" action=\"/unlink/{}\"><button class=\"secondary\" id=\"unlink-{p}\">Unlink</button></form></td></tr>",
            escape(&identity.key.sub),
            escape(&url_path_segment(&identity.provider)),
        ));
    }
    card.push_str("</table><p class=\"muted\">Logging in with another provider while logged in links it to this account; an account keeps at least one way to log in.</p></section>");
    card
}

fn account_card(name: &str, account: &Account, api_path: &str) -> String {
    let n = escape(name);
    let who = [
        "name",
        "preferred_username",
        "screen_name",
        "login",
        "email",
        "sub",
        "user_id",
    ]
    .iter()
    .find_map(|k| account.profile.raw.get(*k).and_then(Value::as_str))
    .unwrap_or("someone");
    let refresh = matches!(&account.token, Token::OAuth2(t) if t.refresh_token.is_some());
    let url = format!(
        "/api/{}/{}",
        url_path_segment(name),
        api_path.trim_start_matches('/')
    );
    let mut card = format!(
        "<section class=\"card\" id=\"account-{n}\"><h2>Logged in as <span class=\"who\">{}</span> <span class=\"badge\">{n}</span></h2>",
        escape(who)
    );
    card.push_str("<h3>Token</h3><table class=\"token\">");
    card.push_str(&token_rows(&account.token));
    card.push_str("</table><p class=\"muted\">The token itself stays on the server; only its type, expiry and scope are shown.</p><h3>Claims</h3>");
    card.push_str(&claims_table(&account.profile.raw));
    card.push_str(&format!(
        "<div class=\"actions\"><button id=\"call-api-{n}\" data-provider=\"{n}\" data-url=\"{u}\" onclick=\"callApi(this)\">Call the API</button>",
        u = escape(&url)
    ));
    if refresh {
        card.push_str(&format!("<form method=\"post\" action=\"/refresh/{n}\"><button class=\"secondary\" id=\"refresh-{n}\">Refresh token</button></form>"));
    }
    card.push_str(&format!("<form method=\"post\" action=\"/logout?provider={q}\"><button class=\"secondary\" id=\"logout-{n}\">Log out (here and at this provider)</button></form>", q = escape(&url_path_segment(name))));
    card.push_str(&format!(
        "<span class=\"muted\">GET <code>{}</code></span></div><pre id=\"api-result-{n}\" hidden></pre></section>",
        escape(&url)
    ));
    card
}

/// Percent-encodes a provider name for a URL path segment.
fn url_path_segment(name: &str) -> String {
    url::form_urlencoded::byte_serialize(name.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

fn token_rows(token: &Token) -> String {
    let expires = match (token, token.expires_at()) {
        (Token::OAuth1(_), _) => "never (OAuth 1.0a tokens do not expire)".to_owned(),
        (_, None) => "not said by the provider".to_owned(),
        (_, Some(at)) => format!("{} ({})", utc(at), relative(at as i64 - now() as i64)),
    };
    let scope = match token {
        Token::OAuth1(_) => "— (OAuth 1.0a has no scopes)",
        _ => token.scope().unwrap_or("— (not said by the provider)"),
    };
    format!(
        "<tr><td>type</td><td id=\"token-type\">{}</td></tr><tr><td>expires</td><td id=\"token-expires\">{}</td></tr><tr><td>scope</td><td id=\"token-scope\">{}</td></tr>",
        escape(token.token_type()),
        escape(&expires),
        escape(scope)
    )
}

/// `2025-01-31 12:00:00 UTC`.
fn utc(unix: u64) -> String {
    match i64::try_from(unix)
        .ok()
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
    {
        Some(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        None => unix.to_string(),
    }
}

/// `in 59 min 58 s`, `expired 3 s ago`.
fn relative(seconds: i64) -> String {
    let span = |s: i64| match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    };
    if seconds >= 0 {
        format!("in {}", span(seconds))
    } else {
        format!("expired {} ago", span(-seconds))
    }
}

/// Claims about the login itself rather than the user: listed after the user's claims.
const PROTOCOL_CLAIMS: &[&str] = &[
    "iss",
    "aud",
    "azp",
    "iat",
    "exp",
    "nbf",
    "auth_time",
    "nonce",
    "at_hash",
    "c_hash",
    "sid",
    "acr",
    "amr",
    "jti",
];
/// Claims holding Unix times, shown as dates.
const TIME_CLAIMS: &[&str] = &["iat", "exp", "nbf", "auth_time", "updated_at"];

fn claims_table(claims: &Claims) -> String {
    let mut rows = String::from("<table class=\"claims\">");
    let (user, protocol): (Vec<_>, Vec<_>) = claims
        .iter()
        .partition(|(k, _)| !PROTOCOL_CLAIMS.contains(&k.as_str()));
    for (class, group) in [("", user), (" class=\"protocol\"", protocol)] {
        for (k, v) in group {
            let shown = match v {
                Value::Number(n) if TIME_CLAIMS.contains(&k.as_str()) => n
                    .as_u64()
                    .map_or_else(|| n.to_string(), |t| format!("{} ({t})", utc(t))),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            rows.push_str(&format!(
                "<tr{class}><td>{}</td><td>{}</td></tr>",
                escape(k),
                escape(&shown)
            ));
        }
    }
    rows.push_str("</table>");
    rows
}

/// An error page saying what went wrong and what to do.
pub fn error(status: u16, code: &str, description: &str) -> String {
    let (title, advice) = match code {
        "state_missing"
        | "state_unknown"
        | "state_expired"
        | "state_reused"
        | "state_client_mismatch" => (
            "Login failed",
            "The login could not be matched to this browser session (it may have expired, been used already, or been started in another browser). Start the login again from the home page.",
        ),
        "access_denied" => (
            "Login cancelled",
            "You declined the request at the provider. Nothing was shared; you can try again.",
        ),
        "session_unavailable" => (
            "Session unavailable",
            "The session store is down. Wait a moment and try again.",
        ),
        "provider_timeout" | "provider_unreachable" | "provider_http_error" => (
            "The provider did not answer",
            "The provider did not answer properly. Try again in a moment.",
        ),
        "no_token" => ("Not logged in", "Log in with this provider first."),
        "refresh_unsupported" | "no_refresh_token" => (
            "Cannot refresh",
            "This login has no token that can be refreshed. Log in again to get a fresh one.",
        ),
        _ => (
            "Something went wrong",
            "Start the login again; if it keeps failing, check the provider's settings and the server log.",
        ),
    };
    let body = format!(
        "{HEADER}<section class=\"card error\"><h2>{t}</h2><p>What went wrong: <code id=\"error-code\">{}</code> <span class=\"muted\">(HTTP {status})</span></p><p id=\"error-description\">{}</p><p><strong>What to do:</strong> {}</p><div class=\"actions\"><a class=\"button\" href=\"/\">Back to the home page</a></div></section>",
        escape(code),
        escape(description),
        escape(advice),
        t = escape(title),
    );
    layout(title, &body)
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_dangerous() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn error_page_escapes_provider_text() {
        let page = error(400, "access_denied", "<script>alert(1)</script>");
        assert!(!page.contains("<script>alert"));
        assert!(page.contains("declined"));
    }

    #[test]
    fn presets_show_the_providers_name_and_the_clients() {
        let oauth = ferroauth::OAuth::from_settings(
            &ferroauth::settings::Settings::from_toml_str(
                "[clients.github]\nclient_id = \"a\"\n[clients.work]\npreset = \"github-enterprise\"\nclient_id = \"b\"\npreset_options = { base_url = \"https://git.corp.example\" }\n[clients.mine]\nclient_id = \"c\"\nauthorize_url = \"https://op.example/a\"\naccess_token_url = \"https://op.example/t\"\n",
            )
            .unwrap(),
        )
        .unwrap();
        let page = home(&Provider::all(&oauth), &Home::default(), &BTreeMap::new());
        assert!(
            page.contains("<strong>GitHub</strong><small>github · OAuth 2.0"),
            "{page}"
        );
        assert!(page.contains("<strong>GitHub Enterprise Server</strong><small>work ·"));
        assert!(
            page.contains("<strong>mine</strong><small>OAuth 2.0"),
            "no preset: the name"
        );
        assert!(page.contains("href=\"/login/work\""));
    }
}
