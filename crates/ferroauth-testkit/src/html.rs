//! The login page and error pages.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::config::User;
use crate::util::html_escape as esc;

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f4f5f7;color:#1f2328;margin:0}\
main{max-width:420px;margin:8vh auto;background:#fff;border-radius:12px;padding:28px 32px;box-shadow:0 2px 12px rgba(0,0,0,.08)}\
h1{font-size:1.3rem;margin:0 0 4px}\
p.sub{color:#57606a;margin:0 0 20px;font-size:.92rem;line-height:1.5}\
.users{display:flex;flex-direction:column;gap:8px;margin-bottom:18px}\
button{font:inherit;border-radius:8px;padding:10px 14px;cursor:pointer;border:1px solid #d0d7de;background:#f6f8fa;text-align:left}\
button:hover{background:#eaeef2}\
button.user small{display:block;color:#57606a}\
.row{display:flex;gap:8px}\
input[type=text]{flex:1;font:inherit;padding:9px 12px;border:1px solid #d0d7de;border-radius:8px}\
button.primary{background:#1f6feb;border-color:#1f6feb;color:#fff;text-align:center}\
button.deny{background:none;border:none;color:#cf222e;padding:12px 0 0}\
.error{background:#ffebe9;border:1px solid #ff8182;border-radius:8px;padding:8px 12px;margin-bottom:14px}\
code{background:#f6f8fa;padding:2px 6px;border-radius:4px}";

pub(crate) fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{title}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        title = esc(title),
    );
    let mut resp = (status, html).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:; frame-ancestors 'none'",
        ),
    );
    resp
}

/// An error shown to the user instead of redirecting (unknown client,
/// mismatching redirect URI, expired login, ...).
pub(crate) fn error_page(status: StatusCode, error: &str, description: &str) -> Response {
    page(
        status,
        "Authorization error",
        &format!(
            "<h1>Authorization error</h1><p class=\"sub\"><code>{}</code></p><p>{}</p>",
            esc(error),
            esc(description)
        ),
    )
}

/// The `form_post` response: a form with the response parameters as hidden fields, posted
/// to the client's redirect URI by a script (allowed by a per-response CSP nonce), or by
/// the user's click where scripts are off.
pub(crate) fn form_post_page(redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    let nonce = crate::util::random_token(16);
    let fields: String = pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                esc(k),
                esc(v)
            )
        })
        .collect();
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Submit this form</title></head><body>\
<form method=\"post\" action=\"{action}\">{fields}\
<noscript><button type=\"submit\">Continue</button></noscript></form>\
<script nonce=\"{nonce}\">document.forms[0].submit();</script></body></html>",
        action = esc(redirect_uri),
    );
    let mut resp = (StatusCode::OK, html).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(csp) = HeaderValue::from_str(&format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; form-action http: https:; frame-ancestors 'none'"
    )) {
        h.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    resp
}

pub(crate) struct LoginPage<'a> {
    pub(crate) action: &'a str,
    pub(crate) request_id: &'a str,
    pub(crate) client_id: &'a str,
    pub(crate) protocol: &'a str,
    pub(crate) scope: &'a str,
    pub(crate) users: &'a [User],
    pub(crate) error: Option<&'a str>,
}

pub(crate) fn login_page(p: &LoginPage<'_>) -> Response {
    let mut body = format!(
        "<h1>Sign in</h1><p class=\"sub\"><strong>{client}</strong> asks to sign you in ({protocol}{scope}).</p>",
        client = esc(p.client_id),
        protocol = esc(p.protocol),
        scope = if p.scope.is_empty() {
            String::new()
        } else {
            format!(", scope <code>{}</code>", esc(p.scope))
        },
    );
    if let Some(err) = p.error {
        body.push_str(&format!("<div class=\"error\">{}</div>", esc(err)));
    }
    body.push_str(&format!(
        "<form method=\"post\" action=\"{action}\">\
<input type=\"hidden\" name=\"request\" value=\"{req}\">",
        action = esc(p.action),
        req = esc(p.request_id),
    ));
    push_user_choice(&mut body, p.users, "Sign in");
    page(StatusCode::OK, "Sign in", &body)
}

/// The end of a login form: a button per user, a username field, the deny button.
fn push_user_choice(body: &mut String, users: &[User], submit_label: &str) {
    if !users.is_empty() {
        body.push_str("<div class=\"users\">");
        for u in users {
            let detail = u.email.as_deref().or(u.name.as_deref()).unwrap_or(&u.sub);
            body.push_str(&format!(
                "<button class=\"user\" type=\"submit\" name=\"user\" value=\"{sub}\">{label}<small>{detail}</small></button>",
                sub = esc(&u.sub),
                label = esc(u.name.as_deref().unwrap_or(u.display_username())),
                detail = esc(detail),
            ));
        }
        body.push_str("</div>");
    }
    body.push_str(&format!(
        "<div class=\"row\"><input type=\"text\" name=\"username\" placeholder=\"username or e-mail\" \
autocomplete=\"username\"><button class=\"primary\" type=\"submit\" name=\"action\" value=\"approve\">{}</button></div>\
<button class=\"deny\" type=\"submit\" name=\"action\" value=\"deny\">Cancel and deny access</button></form>",
        esc(submit_label)
    ));
}

/// The device verification page (RFC 8628 §3.3): the user code and who approves.
pub(crate) struct DevicePage<'a> {
    pub(crate) action: &'a str,
    /// Prefilled code (from `verification_uri_complete`, or what was typed).
    pub(crate) user_code: &'a str,
    pub(crate) users: &'a [User],
    pub(crate) error: Option<&'a str>,
}

pub(crate) fn device_page(status: StatusCode, p: &DevicePage<'_>) -> Response {
    let mut body = String::from(
        "<h1>Connect a device</h1><p class=\"sub\">Enter the code your device shows, then \
choose who signs in on it. Only continue if you started this on a device of yours.</p>",
    );
    if let Some(err) = p.error {
        body.push_str(&format!("<div class=\"error\">{}</div>", esc(err)));
    }
    body.push_str(&format!(
        "<form method=\"post\" action=\"{action}\"><div class=\"row\" style=\"margin-bottom:18px\">\
<input type=\"text\" name=\"user_code\" value=\"{code}\" placeholder=\"XXXX-XXXX\" \
autocomplete=\"off\" autocapitalize=\"characters\" spellcheck=\"false\"></div>",
        action = esc(p.action),
        code = esc(p.user_code),
    ));
    push_user_choice(&mut body, p.users, "Approve");
    page(status, "Connect a device", &body)
}

/// The answer to a device approval: where the user stands, and that the device goes on.
pub(crate) fn device_done_page(client_id: &str, approved_as: Option<&str>) -> Response {
    let body = match approved_as {
        Some(user) => format!(
            "<h1>Device connected</h1><p class=\"sub\"><strong>{}</strong> is now signed in as \
<strong>{}</strong>. You can close this window and return to your device.</p>",
            esc(client_id),
            esc(user)
        ),
        None => format!(
            "<h1>Access denied</h1><p class=\"sub\"><strong>{}</strong> was not allowed to sign \
in. You can close this window.</p>",
            esc(client_id)
        ),
    };
    page(StatusCode::OK, "Connect a device", &body)
}

/// Out-of-band OAuth 1.0a verifier display.
pub(crate) fn oob_page(verifier: &str) -> Response {
    page(
        StatusCode::OK,
        "Verification code",
        &format!(
            "<h1>Access granted</h1><p class=\"sub\">Enter this verification code in the application:</p><p><code id=\"oauth_verifier\">{}</code></p>",
            esc(verifier)
        ),
    )
}
