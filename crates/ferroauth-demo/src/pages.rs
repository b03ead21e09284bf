//! The demo's HTML pages: small, dependency-free, escaped.

use ferroauth::{Claims, Token};
use serde_json::Value;

use crate::Account;

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f5f6f8;color:#1d2330;margin:0}
main{max-width:46rem;margin:2.5rem auto;padding:0 1rem}
h1{font-size:1.6rem;margin:0 0 .25rem} h1 span{color:#b4461b}
.lede{color:#5b6475;margin:0 0 1.5rem}
.card{background:#fff;border:1px solid #e2e5ea;border-radius:10px;padding:1.1rem 1.3rem;margin:0 0 1rem}
.card h2{font-size:1.1rem;margin:0 0 .6rem}
.providers{display:flex;flex-wrap:wrap;gap:.6rem}
a.button,button{display:inline-block;background:#1f5eff;color:#fff;border:0;border-radius:7px;padding:.55rem 1rem;font-size:.95rem;text-decoration:none;cursor:pointer}
button.secondary,a.secondary{background:#eef1f6;color:#1d2330}
table{border-collapse:collapse;width:100%;font-size:.92rem}
td{border-top:1px solid #eef0f3;padding:.35rem .4rem;vertical-align:top;word-break:break-all}
td:first-child{color:#5b6475;width:11rem;word-break:normal}
pre{background:#0f1420;color:#d6deeb;border-radius:7px;padding:.8rem;overflow:auto;font-size:.85rem;max-height:20rem}
.actions{display:flex;gap:.5rem;flex-wrap:wrap;margin-top:.8rem} .actions form{margin:0}
.error{border-color:#f0b4a8;background:#fff7f5} .error code{color:#b4461b}
.muted{color:#5b6475;font-size:.9rem}
"#;

fn layout(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        escape(title)
    )
}

/// The home page: login buttons and, for each provider logged in, the user and token.
pub fn home(providers: &[(String, bool)], accounts: &[(String, Account)]) -> String {
    let mut body = String::from(
        "<h1><span>ferro</span>auth demo</h1><p class=\"lede\">Log in with a provider, then call its API with your token.</p>",
    );
    body.push_str("<section class=\"card\"><h2>Log in with</h2><div class=\"providers\">");
    for (name, oauth1) in providers {
        let kind = if *oauth1 {
            "OAuth 1.0a"
        } else {
            "OAuth 2.0 / OpenID Connect"
        };
        body.push_str(&format!(
            "<a class=\"button\" id=\"login-{n}\" href=\"/login/{n}\" title=\"{kind}\">{n}</a>",
            n = escape(name)
        ));
    }
    if providers.is_empty() {
        body.push_str(
            "<p class=\"muted\">No providers are configured: pass <code>--config FILE</code>.</p>",
        );
    }
    body.push_str("</div></section>");
    for (name, account) in accounts {
        body.push_str(&account_card(name, account));
    }
    if !accounts.is_empty() {
        body.push_str("<form method=\"post\" action=\"/logout\"><button class=\"secondary\" id=\"logout\">Log out</button></form>");
    }
    layout("ferroauth demo", &body)
}

fn account_card(name: &str, account: &Account) -> String {
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
    .find_map(|k| account.userinfo.get(*k).and_then(Value::as_str))
    .unwrap_or("someone");
    let refresh = matches!(&account.token, Token::OAuth2(t) if t.refresh_token.is_some());
    let mut card = format!(
        "<section class=\"card\" id=\"account-{n}\"><h2>Logged in with {n} as <span class=\"who\">{}</span></h2>",
        escape(who)
    );
    card.push_str("<table>");
    card.push_str(&token_rows(&account.token));
    card.push_str("</table><h2 style=\"margin-top:1rem\">Claims</h2>");
    card.push_str(&claims_table(&account.userinfo));
    card.push_str(&format!(
        "<div class=\"actions\"><button id=\"call-api-{n}\" data-provider=\"{n}\" onclick=\"callApi(this)\">Call the API</button>"
    ));
    if refresh {
        card.push_str(&format!("<form method=\"post\" action=\"/refresh/{n}\"><button class=\"secondary\" id=\"refresh-{n}\">Refresh token</button></form>"));
    }
    card.push_str(&format!(
        "</div><pre id=\"api-result-{n}\" hidden></pre><script>async function callApi(b){{const p=b.dataset.provider;const r=await fetch('/api/'+p+'/'+(b.dataset.path||''),{{headers:{{accept:'application/json'}}}});const out=document.getElementById('api-result-'+p);out.hidden=false;out.textContent='HTTP '+r.status+'\\n'+await r.text();}}</script></section>"
    ));
    card
}

fn token_rows(token: &Token) -> String {
    let expires = token.expires_at().map_or_else(
        || "not given".to_owned(),
        |at| {
            let left = at as i64 - now() as i64;
            format!("{at} (in {left} s)")
        },
    );
    format!(
        "<tr><td>token type</td><td id=\"token-type\">{}</td></tr><tr><td>expires</td><td id=\"token-expires\">{}</td></tr><tr><td>scope</td><td id=\"token-scope\">{}</td></tr>",
        escape(token.token_type()),
        escape(&expires),
        escape(token.scope().unwrap_or("—"))
    )
}

fn claims_table(claims: &Claims) -> String {
    let mut rows = String::from("<table class=\"claims\">");
    for (k, v) in claims {
        let shown = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td></tr>",
            escape(k),
            escape(&shown)
        ));
    }
    rows.push_str("</table>");
    rows
}

/// An error page saying what went wrong and what to do.
pub fn error(status: u16, code: &str, description: &str) -> String {
    let advice = match code {
        "state_missing"
        | "state_unknown"
        | "state_expired"
        | "state_reused"
        | "state_client_mismatch" => {
            "The login could not be matched to this browser session. Start the login again from the home page."
        }
        "access_denied" => {
            "You declined the request at the provider. Nothing was shared; you can try again."
        }
        "session_unavailable" => "The session store is down. Wait a moment and try again.",
        "provider_timeout" | "provider_unreachable" | "provider_http_error" => {
            "The provider did not answer properly. Try again in a moment."
        }
        "not_logged_in" => "Log in with this provider first.",
        _ => {
            "Start the login again; if it keeps failing, check the provider's settings and the server log."
        }
    };
    let body = format!(
        "<h1><span>ferro</span>auth demo</h1><section class=\"card error\"><h2>Login failed (HTTP {status})</h2><p><code id=\"error-code\">{}</code></p><p id=\"error-description\">{}</p><p class=\"muted\">{}</p><div class=\"actions\"><a class=\"button\" href=\"/\">Back to the home page</a></div></section>",
        escape(code),
        escape(description),
        escape(advice)
    );
    layout("Login failed", &body)
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
}
