//! OAuth 2.0 / OpenID Connect endpoints.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::config::{Client, ClientAuthMethod, ClientKind, User};
use crate::html::{self, LoginPage};
use crate::state::{
    AccessToken, AuthRequest, CodeEntry, Pending, PendingKind, PushedRequest, RefreshToken,
    Settings, Shared, Store,
};
use crate::util::{Params, b64url, ct_eq, form_decode, is_pkce_string, now, random_token};
use crate::{device, dpop};

type St = State<Arc<Shared>>;

const TOKEN_BYTES: usize = 32;

// ---------------------------------------------------------------- responses

/// RFC 6749 §5.2 error response.
pub(crate) fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut resp = (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response();
    no_store(&mut resp);
    resp
}

fn invalid_client(description: &str) -> Response {
    let mut resp = oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", description);
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"ferroauth-testkit\", charset=\"UTF-8\""),
    );
    resp
}

pub(crate) fn invalid_request(description: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_request", description)
}

pub(crate) fn invalid_grant(description: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", description)
}

/// Token and user data must not be cached (RFC 6749 §5.1).
pub(crate) fn no_store(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// RFC 6750 §3 error for protected resources.
fn bearer_error(status: StatusCode, error: Option<&str>, description: &str) -> Response {
    let challenge = match error {
        Some(e) => format!(
            "Bearer realm=\"ferroauth-testkit\", error=\"{e}\", error_description=\"{}\"",
            description.replace(['"', '\\'], "'")
        ),
        None => "Bearer realm=\"ferroauth-testkit\"".to_owned(),
    };
    let body = match error {
        Some(e) => json!({ "error": e, "error_description": description }),
        None => json!({ "error": "unauthorized", "error_description": description }),
    };
    let mut resp = (status, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    no_store(&mut resp);
    resp
}

fn redirect(status: StatusCode, location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(v) => {
            let mut resp = status.into_response();
            resp.headers_mut().insert(header::LOCATION, v);
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(_) => html::error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the redirect target cannot be expressed as a header",
        ),
    }
}

/// Appends query parameters to a (registered, absolute) URI.
pub(crate) fn append_query(base: &str, pairs: &[(&str, &str)]) -> String {
    match url::Url::parse(base) {
        Ok(mut u) => {
            {
                let mut q = u.query_pairs_mut();
                for (k, v) in pairs {
                    q.append_pair(k, v);
                }
            }
            u.into()
        }
        Err(_) => base.to_owned(),
    }
}

// ---------------------------------------------------------------- metadata

pub(crate) async fn discovery(State(s): St) -> Response {
    let st = &s.settings;
    let doc = json!({
        "issuer": st.issuer,
        "authorization_endpoint": st.url("/authorize"),
        "token_endpoint": st.url("/token"),
        "userinfo_endpoint": st.url("/userinfo"),
        "jwks_uri": st.url("/jwks"),
        "revocation_endpoint": st.url("/revoke"),
        "end_session_endpoint": st.url("/logout"),
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "introspection_endpoint": st.url("/introspect"),
        "pushed_authorization_request_endpoint": st.url("/par"),
        "device_authorization_endpoint": st.url("/device/authorize"),
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials",
            device::DEVICE_CODE_GRANT],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "azp", "sid",
            "name", "preferred_username", "email", "email_verified"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "authorization_response_iss_parameter_supported": true,
        "dpop_signing_alg_values_supported": dpop::SUPPORTED_ALGS,
    });
    Json(doc).into_response()
}

pub(crate) async fn jwks(State(s): St) -> Response {
    let mut resp = Json(s.keys().jwks()).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

// ---------------------------------------------------------------- authorize

pub(crate) fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

pub(crate) async fn authorize(
    State(s): St,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let params = if method == Method::POST {
        if !is_form(&headers) {
            return html::error_page(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "POST to the authorization endpoint must be form-encoded",
            );
        }
        Params::parse(&body)
    } else {
        Params::parse(query.unwrap_or_default().as_bytes())
    };
    authorize_params(&s, &params)
}

/// RFC 9126: a pushed request's `request_uri` lives this long.
const PUSHED_REQUEST_TTL_SECS: u64 = 60;
const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// The pushed authorization request endpoint (RFC 9126 §2): the client authenticates as
/// at the token endpoint and gets a one-time `request_uri` for its parameters.
pub(crate) async fn par(State(s): St, headers: HeaderMap, body: Bytes) -> Response {
    let p = match read_form(&headers, &body) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let client = match authenticate_client(&s, &headers, &p) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if p.get("request_uri").is_some() {
        return invalid_request("request_uri cannot be pushed");
    }
    let request_uri = format!("{REQUEST_URI_PREFIX}{}", random_token(24));
    let params: Vec<(String, String)> =
        p.0.into_iter()
            .filter(|(k, _)| k != "client_secret")
            .collect();
    let pushed = PushedRequest {
        client_id: client.client_id.clone(),
        params,
        expires_at: now() + PUSHED_REQUEST_TTL_SECS,
    };
    s.store().pushed.insert(request_uri.clone(), pushed);
    (
        StatusCode::CREATED,
        Json(json!({"request_uri": request_uri, "expires_in": PUSHED_REQUEST_TTL_SECS})),
    )
        .into_response()
}

fn authorize_params(s: &Shared, p: &Params) -> Response {
    let Some(request_uri) = p.get("request_uri") else {
        return authorize_checked(s, p);
    };
    // RFC 9126 §4: the pushed parameters, once, for the client that pushed them.
    let pushed = s.store().pushed.remove(request_uri);
    match pushed {
        Some(pushed) if p.get("client_id") == Some(pushed.client_id.as_str()) => {
            authorize_checked(s, &Params(pushed.params))
        }
        _ => html::error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request_uri",
            "the request_uri is unknown, used or expired, or belongs to another client",
        ),
    }
}

fn authorize_checked(s: &Shared, p: &Params) -> Response {
    let st = &s.settings;
    if let Some(dup) = p.duplicate_of(&["client_id", "redirect_uri"]) {
        return html::error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!("parameter {dup} is repeated"),
        );
    }
    let Some(client_id) = p.get("client_id") else {
        return html::error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "client_id is missing",
        );
    };
    let Some(client) = st.client(client_id, ClientKind::OAuth2) else {
        return html::error_page(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "unknown client_id",
        );
    };
    let (redirect_uri, explicit) = match p.get("redirect_uri") {
        Some(r) if client.redirect_uris.iter().any(|u| u == r) => (r.to_owned(), true),
        Some(_) => {
            return html::error_page(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "redirect_uri does not exactly match a registered redirect URI",
            );
        }
        None if client.redirect_uris.len() == 1 => (client.redirect_uris[0].clone(), false),
        None => {
            return html::error_page(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "redirect_uri is required",
            );
        }
    };
    // From here on errors are returned to the client by redirection (or, in form_post
    // mode, by a form the browser posts to the redirect URI).
    let state = p.get("state").map(str::to_owned);
    let form_post = p.get("response_mode") == Some("form_post");
    let fail = |error: &str, description: &str| {
        error_redirect(
            st.issuer.as_str(),
            &redirect_uri,
            form_post,
            state.as_deref(),
            error,
            description,
        )
    };
    if let Some(dup) = p.duplicate_of(&[
        "response_type",
        "scope",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
        "prompt",
        "login_hint",
        "response_mode",
    ]) {
        return fail("invalid_request", &format!("parameter {dup} is repeated"));
    }
    match p.get("response_type") {
        None => return fail("invalid_request", "response_type is missing"),
        Some("code") => {}
        Some(_) => {
            return fail(
                "unsupported_response_type",
                "only response_type=code is supported",
            );
        }
    }
    if p.get("response_mode")
        .is_some_and(|m| m != "query" && m != "form_post")
    {
        return fail(
            "invalid_request",
            "only response_mode=query and form_post are supported",
        );
    }
    if p.get("request").is_some() {
        return fail("request_not_supported", "request objects are not supported");
    }
    if p.get("request_uri").is_some() {
        return fail("request_uri_not_supported", "request_uri is not supported");
    }
    let code_challenge = match (p.get("code_challenge"), p.get("code_challenge_method")) {
        (None, None) => None,
        (None, Some(_)) => {
            return fail(
                "invalid_request",
                "code_challenge_method without code_challenge",
            );
        }
        (Some(c), Some("S256")) => {
            if !is_pkce_string(c) {
                return fail("invalid_request", "malformed code_challenge");
            }
            Some(c.to_owned())
        }
        (Some(_), _) => {
            return fail(
                "invalid_request",
                "only code_challenge_method=S256 is supported",
            );
        }
    };
    if client.is_public() && code_challenge.is_none() {
        return fail(
            "invalid_request",
            "PKCE (S256) is required for public clients",
        );
    }
    let scope = normalize_scope(p.get("scope").unwrap_or(""));
    let prompt = p.get("prompt").unwrap_or("");
    let req = AuthRequest {
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.clone(),
        redirect_uri_explicit: explicit,
        scope,
        state: state.clone(),
        nonce: p.get("nonce").map(str::to_owned),
        code_challenge,
        form_post,
    };
    if st.auto_approve {
        let user = match p.get("login_hint") {
            Some(hint) => st.find_login(hint),
            None => st.users.first(),
        };
        return match user {
            Some(u) => approve(s, &req, &u.sub, StatusCode::FOUND),
            None => fail("access_denied", "no user matches login_hint"),
        };
    }
    if prompt.split(' ').any(|v| v == "none") {
        return fail("login_required", "interactive login is required");
    }
    let request_id = random_token(TOKEN_BYTES);
    s.store().pending.insert(
        request_id.clone(),
        Pending {
            kind: PendingKind::OAuth2(req.clone()),
            client_id: req.client_id.clone(),
            expires_at: now() + st.login_ttl,
        },
    );
    html::login_page(&LoginPage {
        action: &st.url("/login"),
        request_id: &request_id,
        client_id: &req.client_id,
        protocol: "OpenID Connect / OAuth 2.0",
        scope: &req.scope,
        users: &st.users,
        error: None,
    })
}

pub(crate) fn normalize_scope(scope: &str) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for s in scope.split(' ').filter(|s| !s.is_empty()) {
        if !seen.contains(&s) {
            seen.push(s);
        }
    }
    seen.join(" ")
}

fn error_redirect(
    issuer: &str,
    redirect_uri: &str,
    form_post: bool,
    state: Option<&str>,
    error: &str,
    description: &str,
) -> Response {
    let mut pairs = vec![("error", error), ("error_description", description)];
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    pairs.push(("iss", issuer));
    respond(StatusCode::FOUND, redirect_uri, form_post, &pairs)
}

/// The authorization response: a redirect with the parameters in the query, or in
/// `form_post` mode a page that posts them to the redirect URI (OAuth 2.0 Form Post
/// Response Mode).
fn respond(
    status: StatusCode,
    redirect_uri: &str,
    form_post: bool,
    pairs: &[(&str, &str)],
) -> Response {
    if form_post {
        html::form_post_page(redirect_uri, pairs)
    } else {
        redirect(status, &append_query(redirect_uri, pairs))
    }
}

/// Issues a code for `sub` and redirects back to the client.
fn approve(s: &Shared, req: &AuthRequest, sub: &str, status: StatusCode) -> Response {
    let code = random_token(TOKEN_BYTES);
    let t = now();
    s.store().codes.insert(
        code.clone(),
        CodeEntry {
            req: req.clone(),
            sub: sub.to_owned(),
            auth_time: t,
            expires_at: t + s.settings.code_ttl,
            redeemed_grant: None,
        },
    );
    let mut pairs = vec![("code", code.as_str())];
    if let Some(state) = req.state.as_deref() {
        pairs.push(("state", state));
    }
    pairs.push(("iss", s.settings.issuer.as_str()));
    respond(status, &req.redirect_uri, req.form_post, &pairs)
}

/// Target of the login page form (both protocols).
pub(crate) async fn login(State(s): St, headers: HeaderMap, body: Bytes) -> Response {
    if !is_form(&headers) {
        return html::error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "expected a form submission",
        );
    }
    let p = Params::parse(&body);
    let Some(request_id) = p.get("request") else {
        return html::error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the login form is incomplete",
        );
    };
    let Some(pending) = s.store().pending.get(request_id).cloned() else {
        return html::error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "this login request is unknown or has expired; start again from the application",
        );
    };
    let deny = p.get("action") == Some("deny");
    let user: Option<&User> = if deny {
        None
    } else {
        match chosen_user(&s.settings, &p) {
            Ok(user) => Some(user),
            Err(error) => {
                let (protocol, scope) = match &pending.kind {
                    PendingKind::OAuth2(r) => ("OpenID Connect / OAuth 2.0", r.scope.as_str()),
                    PendingKind::OAuth1 { .. } => ("OAuth 1.0a", ""),
                };
                return html::login_page(&LoginPage {
                    action: &s.settings.url("/login"),
                    request_id,
                    client_id: &pending.client_id,
                    protocol,
                    scope,
                    users: &s.settings.users,
                    error: Some(error),
                });
            }
        }
    };
    // Consume the pending request; a concurrent submission loses.
    if s.store().pending.remove(request_id).is_none() {
        return html::error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "this login request was already answered",
        );
    }
    match pending.kind {
        PendingKind::OAuth2(req) => match user {
            Some(u) => approve(&s, &req, &u.sub, StatusCode::SEE_OTHER),
            None => {
                let mut resp = error_redirect(
                    &s.settings.issuer,
                    &req.redirect_uri,
                    req.form_post,
                    req.state.as_deref(),
                    "access_denied",
                    "the user denied the request",
                );
                if !req.form_post {
                    *resp.status_mut() = StatusCode::SEE_OTHER;
                }
                resp
            }
        },
        PendingKind::OAuth1 { token } => {
            crate::oauth1::finish_authorization(&s, &token, user.map(|u| u.sub.as_str()))
        }
    }
}

/// The user a login form names: a typed `username` (sub, preferred username or
/// e-mail), else the `user` button's sub. The error is the message to show.
pub(crate) fn chosen_user<'a>(st: &'a Settings, p: &Params) -> Result<&'a User, &'static str> {
    let typed = p.get("username").map(str::trim).filter(|u| !u.is_empty());
    match (typed, p.get("user")) {
        (Some(name), _) => st.find_login(name).ok_or("Unknown user."),
        (None, sub) => sub
            .and_then(|sub| st.user(sub))
            .ok_or("Pick a user or type a username."),
    }
}

// ---------------------------------------------------------------- client auth

/// Authenticates the calling client at the token, revocation and
/// introspection endpoints.
pub(crate) fn authenticate_client<'a>(
    s: &'a Shared,
    headers: &HeaderMap,
    p: &Params,
) -> Result<&'a Client, Response> {
    if let Some(dup) = p.duplicate_of(&["client_id", "client_secret"]) {
        return Err(invalid_request(&format!("parameter {dup} is repeated")));
    }
    let basic = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(v) => {
            let v = v
                .to_str()
                .map_err(|_| invalid_client("malformed Authorization header"))?;
            let (scheme, rest) = v.split_once(' ').unwrap_or((v, ""));
            if !scheme.eq_ignore_ascii_case("basic") {
                return Err(invalid_client("unsupported Authorization scheme"));
            }
            let decoded = STANDARD
                .decode(rest.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| invalid_client("malformed Basic credentials"))?;
            let (id, secret) = decoded
                .split_once(':')
                .ok_or_else(|| invalid_client("malformed Basic credentials"))?;
            // RFC 6749 §2.3.1: both are form-urlencoded before base64.
            Some((form_decode(id), form_decode(secret)))
        }
    };
    let body_secret = p.get("client_secret");
    let (client_id, secret, method) = match (basic, body_secret) {
        (Some(_), Some(_)) => {
            return Err(invalid_request("use only one client authentication method"));
        }
        (Some((id, secret)), None) => {
            if p.get("client_id").is_some_and(|b| b != id) {
                return Err(invalid_request("client_id does not match the credentials"));
            }
            (id, Some(secret), ClientAuthMethod::ClientSecretBasic)
        }
        (None, Some(secret)) => {
            let id = p
                .get("client_id")
                .ok_or_else(|| invalid_client("client_id is missing"))?;
            (
                id.to_owned(),
                Some(secret.to_owned()),
                ClientAuthMethod::ClientSecretPost,
            )
        }
        (None, None) => {
            let id = p
                .get("client_id")
                .ok_or_else(|| invalid_client("client authentication is required"))?;
            (id.to_owned(), None, ClientAuthMethod::None)
        }
    };
    let client = s
        .settings
        .client(&client_id, ClientKind::OAuth2)
        .ok_or_else(|| invalid_client("unknown client"))?;
    if client.auth_method != method {
        return Err(invalid_client(&format!(
            "this client must authenticate with {}",
            client.auth_method.as_str()
        )));
    }
    if let Some(secret) = secret {
        let expected = client.secret.as_deref().unwrap_or("");
        if !ct_eq(secret.as_bytes(), expected.as_bytes()) {
            return Err(invalid_client("client authentication failed"));
        }
    }
    Ok(client)
}

pub(crate) fn read_form(headers: &HeaderMap, body: &Bytes) -> Result<Params, Response> {
    if !is_form(headers) {
        return Err(invalid_request(
            "the request body must be application/x-www-form-urlencoded",
        ));
    }
    Ok(Params::parse(body))
}

// ---------------------------------------------------------------- token

pub(crate) async fn token(State(s): St, headers: HeaderMap, body: Bytes) -> Response {
    match token_inner(&s, &headers, &body) {
        Ok(r) | Err(r) => r,
    }
}

fn token_inner(s: &Shared, headers: &HeaderMap, body: &Bytes) -> Result<Response, Response> {
    let p = read_form(headers, body)?;
    let client = authenticate_client(s, headers, &p)?;
    if let Some(dup) = p.duplicate_of(&[
        "grant_type",
        "code",
        "redirect_uri",
        "code_verifier",
        "refresh_token",
        "scope",
        "device_code",
    ]) {
        return Err(invalid_request(&format!("parameter {dup} is repeated")));
    }
    // Before the grant: a bad proof must not use up a code or a refresh token.
    let jkt = dpop::at_token_endpoint(s, headers, client)?;
    let jkt = jkt.as_deref();
    match p.get("grant_type") {
        None => Err(invalid_request("grant_type is missing")),
        Some("authorization_code") => grant_code(s, client, &p, jkt),
        Some("refresh_token") => grant_refresh(s, client, &p, jkt),
        Some("client_credentials") => grant_client_credentials(s, client, &p, jkt),
        Some(device::DEVICE_CODE_GRANT) => device::grant(s, client, &p, jkt),
        Some(_) => Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "supported: authorization_code, refresh_token, client_credentials, device_code",
        )),
    }
}

fn grant_code(
    s: &Shared,
    client: &Client,
    p: &Params,
    jkt: Option<&str>,
) -> Result<Response, Response> {
    let code = p
        .get("code")
        .ok_or_else(|| invalid_request("code is missing"))?;
    let t = now();
    let entry = {
        let mut store = s.store();
        let Some(entry) = store.codes.get_mut(code) else {
            return Err(invalid_grant("unknown or expired authorization code"));
        };
        if entry.req.client_id != client.client_id {
            return Err(invalid_grant("the code was issued to another client"));
        }
        if let Some(grant) = entry.redeemed_grant.clone() {
            store.revoke_grant(&grant);
            return Err(invalid_grant("the authorization code was already used"));
        }
        // Consume now, whatever happens next: a code gets one attempt.
        let grant_id = random_token(16);
        let entry_copy = entry.clone();
        if s.settings.fast {
            store.codes.remove(code);
        } else {
            entry.redeemed_grant = Some(grant_id.clone());
        }
        (entry_copy, grant_id)
    };
    let (entry, grant_id) = entry;
    match (p.get("redirect_uri"), entry.req.redirect_uri_explicit) {
        (Some(r), _) if r != entry.req.redirect_uri => {
            return Err(invalid_grant(
                "redirect_uri does not match the authorization request",
            ));
        }
        (None, true) => return Err(invalid_request("redirect_uri is required")),
        _ => {}
    }
    match (&entry.req.code_challenge, p.get("code_verifier")) {
        (None, None) => {}
        (None, Some(_)) => {
            return Err(invalid_grant(
                "code_verifier sent but the authorization request had no code_challenge",
            ));
        }
        (Some(_), None) => return Err(invalid_grant("code_verifier is missing")),
        (Some(challenge), Some(verifier)) => {
            if !is_pkce_string(verifier) {
                return Err(invalid_grant("malformed code_verifier"));
            }
            let computed = b64url(Sha256::digest(verifier.as_bytes()));
            if !ct_eq(computed.as_bytes(), challenge.as_bytes()) {
                return Err(invalid_grant("PKCE verification failed"));
            }
        }
    }
    let Some(user) = s.settings.user(&entry.sub) else {
        return Err(invalid_grant("the user no longer exists"));
    };
    let issue = Issue {
        client,
        user,
        scope: &entry.req.scope,
        auth_time: entry.auth_time,
        nonce: entry.req.nonce.as_deref(),
        grant_id: &grant_id,
        jkt,
    };
    issue_tokens(s, &issue, t)
}

/// What a token response for a user is issued for.
pub(crate) struct Issue<'a> {
    pub(crate) client: &'a Client,
    pub(crate) user: &'a User,
    pub(crate) scope: &'a str,
    pub(crate) auth_time: u64,
    /// The authorization request's nonce, for the ID token.
    pub(crate) nonce: Option<&'a str>,
    /// The grant the tokens belong to (revoked together).
    pub(crate) grant_id: &'a str,
    /// The DPoP key thumbprint to bind the tokens to.
    pub(crate) jkt: Option<&'a str>,
}

/// The `token_type` of an access token bound to `jkt`, or not.
fn token_type(jkt: Option<&str>) -> &'static str {
    if jkt.is_some() { "DPoP" } else { "Bearer" }
}

/// Issues an access token, a refresh token and, with `openid`, an ID token at time `t`.
pub(crate) fn issue_tokens(s: &Shared, issue: &Issue<'_>, t: u64) -> Result<Response, Response> {
    let st = &s.settings;
    let access = random_token(TOKEN_BYTES);
    let refresh = random_token(TOKEN_BYTES);
    let id_token = if has_scope(issue.scope, "openid") {
        Some(id_token(s, issue, &access, t)?)
    } else {
        None
    };
    {
        let mut store = s.store();
        store.access.insert(
            access.clone(),
            AccessToken {
                client_id: issue.client.client_id.clone(),
                sub: Some(issue.user.sub.clone()),
                scope: issue.scope.to_owned(),
                iat: t,
                expires_at: t + st.access_ttl,
                grant_id: Some(issue.grant_id.to_owned()),
                jkt: issue.jkt.map(str::to_owned),
            },
        );
        store.refresh.insert(
            refresh.clone(),
            RefreshToken {
                client_id: issue.client.client_id.clone(),
                sub: issue.user.sub.clone(),
                scope: issue.scope.to_owned(),
                auth_time: issue.auth_time,
                iat: t,
                expires_at: t + st.refresh_ttl,
                grant_id: issue.grant_id.to_owned(),
                used: false,
                // RFC 9449 §5: a confidential client's refresh token is already bound
                // to its client authentication.
                jkt: issue
                    .jkt
                    .filter(|_| issue.client.is_public())
                    .map(str::to_owned),
            },
        );
    }
    let mut body = json!({
        "access_token": access,
        "token_type": token_type(issue.jkt),
        "expires_in": st.access_ttl,
        "refresh_token": refresh,
        "scope": issue.scope,
    });
    if let Some(jwt) = id_token {
        body["id_token"] = jwt.into();
    }
    let mut resp = Json(body).into_response();
    no_store(&mut resp);
    Ok(resp)
}

/// A signed ID token for `issue`, with `at_hash` of `access`.
fn id_token(s: &Shared, issue: &Issue<'_>, access: &str, t: u64) -> Result<String, Response> {
    let st = &s.settings;
    let mut claims = user_claims(issue.user, issue.scope);
    claims.insert("iss".into(), st.issuer.clone().into());
    claims.insert("sub".into(), issue.user.sub.clone().into());
    claims.insert("aud".into(), issue.client.client_id.clone().into());
    claims.insert("azp".into(), issue.client.client_id.clone().into());
    claims.insert("iat".into(), t.into());
    claims.insert("exp".into(), (t + st.id_token_ttl).into());
    claims.insert("auth_time".into(), issue.auth_time.into());
    // The provider's login session: one per approved login (its grant), kept until it
    // ends, for back-channel logout.
    claims.insert("sid".into(), issue.grant_id.into());
    s.store().sessions.insert(
        issue.grant_id.to_owned(),
        crate::logout::ProviderSession {
            client_id: issue.client.client_id.clone(),
            sub: issue.user.sub.clone(),
        },
    );
    if let Some(nonce) = issue.nonce {
        claims.insert("nonce".into(), nonce.into());
    }
    let digest = Sha256::digest(access.as_bytes());
    claims.insert("at_hash".into(), b64url(&digest[..16]).into());
    s.keys()
        .current
        .sign_jwt(issue.client.id_token_alg, &Value::Object(claims))
        .map_err(|e| {
            oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                &e.to_string(),
            )
        })
}

fn has_scope(scope: &str, wanted: &str) -> bool {
    scope.split(' ').any(|s| s == wanted)
}

/// User claims released for `scope` (used in ID tokens and userinfo).
fn user_claims(user: &User, scope: &str) -> Map<String, Value> {
    let mut claims = user.extra.clone();
    for reserved in [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "at_hash",
        "azp",
        "nbf",
        "jti",
    ] {
        claims.remove(reserved);
    }
    claims.insert("sub".into(), user.sub.clone().into());
    if has_scope(scope, "profile") {
        if let Some(name) = &user.name {
            claims.insert("name".into(), name.clone().into());
        }
        claims.insert(
            "preferred_username".into(),
            user.display_username().to_owned().into(),
        );
    }
    if has_scope(scope, "email")
        && let Some(email) = &user.email
    {
        claims.insert("email".into(), email.clone().into());
        claims.insert("email_verified".into(), user.email_verified.into());
    }
    claims
}

fn grant_refresh(
    s: &Shared,
    client: &Client,
    p: &Params,
    jkt: Option<&str>,
) -> Result<Response, Response> {
    let presented = p
        .get("refresh_token")
        .ok_or_else(|| invalid_request("refresh_token is missing"))?;
    let t = now();
    let old = {
        let mut store = s.store();
        let Some(rt) = store.refresh.get_mut(presented) else {
            return Err(invalid_grant("unknown, expired or revoked refresh token"));
        };
        if rt.client_id != client.client_id {
            return Err(invalid_grant(
                "the refresh token was issued to another client",
            ));
        }
        // Checked before the token is used up: a wrong proof is no reason to end the grant.
        if let Some(bound) = rt.jkt.as_deref()
            && jkt != Some(bound)
        {
            return Err(dpop::token_error(
                "the refresh token is DPoP-bound: refresh with a proof by the same key",
            ));
        }
        if rt.used {
            let grant = rt.grant_id.clone();
            store.revoke_grant(&grant);
            return Err(invalid_grant(
                "the refresh token was already used; the grant is revoked",
            ));
        }
        let copy = rt.clone();
        if s.settings.fast {
            store.refresh.remove(presented);
        } else {
            rt.used = true;
        }
        copy
    };
    let scope = match p.get("scope") {
        None => old.scope.clone(),
        Some(requested) => {
            let requested = normalize_scope(requested);
            if !requested.split(' ').all(|r| has_scope(&old.scope, r)) {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    "the requested scope exceeds the original grant",
                ));
            }
            requested
        }
    };
    let Some(user) = s.settings.user(&old.sub) else {
        return Err(invalid_grant("the user no longer exists"));
    };
    // No nonce on refreshed ID tokens (OpenID Connect Core §12.2).
    let issue = Issue {
        client,
        user,
        scope: &scope,
        auth_time: old.auth_time,
        nonce: None,
        grant_id: &old.grant_id,
        jkt,
    };
    issue_tokens(s, &issue, t)
}

fn grant_client_credentials(
    s: &Shared,
    client: &Client,
    p: &Params,
    jkt: Option<&str>,
) -> Result<Response, Response> {
    if client.is_public() {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "public clients cannot use client_credentials",
        ));
    }
    let scope = normalize_scope(p.get("scope").unwrap_or(""));
    let t = now();
    let access = random_token(TOKEN_BYTES);
    s.store().access.insert(
        access.clone(),
        AccessToken {
            client_id: client.client_id.clone(),
            sub: None,
            scope: scope.clone(),
            iat: t,
            expires_at: t + s.settings.access_ttl,
            grant_id: None,
            jkt: jkt.map(str::to_owned),
        },
    );
    let mut resp = Json(json!({
        "access_token": access,
        "token_type": token_type(jkt),
        "expires_in": s.settings.access_ttl,
        "scope": scope,
    }))
    .into_response();
    no_store(&mut resp);
    Ok(resp)
}

// ---------------------------------------------------------------- revoke / introspect

pub(crate) async fn revoke(State(s): St, headers: HeaderMap, body: Bytes) -> Response {
    let result = (|| {
        let p = read_form(&headers, &body)?;
        let client = authenticate_client(&s, &headers, &p)?;
        let token = p
            .get("token")
            .ok_or_else(|| invalid_request("token is missing"))?;
        let mut store = s.store();
        revoke_token(&mut store, client, token)?;
        let mut resp = StatusCode::OK.into_response();
        no_store(&mut resp);
        Ok::<_, Response>(resp)
    })();
    match result {
        Ok(r) | Err(r) => r,
    }
}

fn revoke_token(store: &mut Store, client: &Client, token: &str) -> Result<(), Response> {
    let other_client = || {
        oauth_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "the token was issued to another client",
        )
    };
    // The token_type_hint is only an optimisation; both stores are searched.
    if let Some(at) = store.access.get(token) {
        if at.client_id != client.client_id {
            return Err(other_client());
        }
        store.access.remove(token);
    } else if let Some(rt) = store.refresh.get(token) {
        if rt.client_id != client.client_id {
            return Err(other_client());
        }
        // Revoking a refresh token ends the whole grant (RFC 7009 §2.1).
        let grant = rt.grant_id.clone();
        store.revoke_grant(&grant);
    }
    // Unknown tokens: 200 as well (RFC 7009 §2.2).
    Ok(())
}

pub(crate) async fn introspect(State(s): St, headers: HeaderMap, body: Bytes) -> Response {
    let result = (|| {
        let p = read_form(&headers, &body)?;
        authenticate_client(&s, &headers, &p)?;
        let token = p
            .get("token")
            .ok_or_else(|| invalid_request("token is missing"))?;
        let store = s.store();
        let t = now();
        let body = if let Some(at) = store.access.get(token).filter(|a| a.expires_at > t) {
            let mut v = json!({
                "active": true,
                "token_type": token_type(at.jkt.as_deref()),
                "scope": at.scope,
                "client_id": at.client_id,
                "sub": at.sub.clone().unwrap_or_else(|| at.client_id.clone()),
                "iat": at.iat,
                "exp": at.expires_at,
                "iss": s.settings.issuer,
                "aud": at.client_id,
            });
            if let Some(u) = at.sub.as_deref().and_then(|sub| s.settings.user(sub)) {
                v["username"] = u.display_username().into();
            }
            // RFC 9449 §6.2: the confirmation names the key the token is bound to.
            if let Some(jkt) = &at.jkt {
                v["cnf"] = json!({ "jkt": jkt });
            }
            v
        } else if let Some(rt) = store
            .refresh
            .get(token)
            .filter(|r| !r.used && r.expires_at > t)
        {
            let mut v = json!({
                "active": true,
                "token_type": "refresh_token",
                "scope": rt.scope,
                "client_id": rt.client_id,
                "sub": rt.sub,
                "iat": rt.iat,
                "exp": rt.expires_at,
                "iss": s.settings.issuer,
            });
            if let Some(jkt) = &rt.jkt {
                v["cnf"] = json!({ "jkt": jkt });
            }
            v
        } else {
            json!({ "active": false })
        };
        let mut resp = Json(body).into_response();
        no_store(&mut resp);
        Ok::<_, Response>(resp)
    })();
    match result {
        Ok(r) | Err(r) => r,
    }
}

// ---------------------------------------------------------------- protected resources

/// How an access token was presented (RFC 6750 §2.1, RFC 9449 §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Bearer,
    Dpop,
}

fn presented_token(headers: &HeaderMap) -> Result<(Scheme, &str), Response> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(bearer_error(
            StatusCode::UNAUTHORIZED,
            None,
            "a Bearer access token is required",
        ));
    };
    let value = value.to_str().unwrap_or("");
    let scheme = match value.split_once(' ') {
        Some((scheme, token)) if !token.trim().is_empty() => {
            if scheme.eq_ignore_ascii_case("bearer") {
                Some((Scheme::Bearer, token.trim()))
            } else if scheme.eq_ignore_ascii_case("dpop") {
                Some((Scheme::Dpop, token.trim()))
            } else {
                None
            }
        }
        _ => None,
    };
    scheme.ok_or_else(|| {
        bearer_error(
            StatusCode::BAD_REQUEST,
            Some("invalid_request"),
            "malformed Authorization header; expected Bearer or DPoP",
        )
    })
}

/// The live access token of a request to the resource at `path`. A DPoP-bound token
/// must come with the DPoP scheme and a proof for this request by its key; an unbound
/// one with the Bearer scheme, as before DPoP.
fn lookup_access(
    s: &Shared,
    headers: &HeaderMap,
    method: &Method,
    path: &str,
) -> Result<AccessToken, Response> {
    let (scheme, token) = presented_token(headers)?;
    let t = now();
    let found = s
        .store()
        .access
        .get(token)
        .filter(|a| a.expires_at > t)
        .cloned();
    let Some(at) = found else {
        let why = "the access token is invalid, expired or revoked";
        return Err(match scheme {
            Scheme::Bearer => bearer_error(StatusCode::UNAUTHORIZED, Some("invalid_token"), why),
            Scheme::Dpop => dpop::challenge("invalid_token", why),
        });
    };
    match (scheme, at.jkt.as_deref()) {
        (Scheme::Bearer, None) => Ok(at),
        // RFC 9449 §7.2: a bound token sent as a bearer token is refused, or DPoP
        // would protect nothing.
        (Scheme::Bearer, Some(_)) => Err(dpop::challenge(
            "invalid_token",
            "the access token is DPoP-bound: present it with the DPoP scheme and a proof",
        )),
        (Scheme::Dpop, None) => Err(dpop::challenge(
            "invalid_token",
            "the access token is not DPoP-bound: present it with the Bearer scheme",
        )),
        (Scheme::Dpop, Some(jkt)) => {
            dpop::at_resource(s, headers, method, path, token, jkt)?;
            Ok(at)
        }
    }
}

pub(crate) async fn userinfo(State(s): St, method: Method, headers: HeaderMap) -> Response {
    let at = match lookup_access(&s, &headers, &method, "/userinfo") {
        Ok(at) => at,
        Err(r) => return r,
    };
    let user = at.sub.as_deref().and_then(|sub| s.settings.user(sub));
    match user {
        Some(user) if has_scope(&at.scope, "openid") => {
            let mut resp = Json(Value::Object(user_claims(user, &at.scope))).into_response();
            no_store(&mut resp);
            resp
        }
        _ => bearer_error(
            StatusCode::FORBIDDEN,
            Some("insufficient_scope"),
            "userinfo needs a user access token with the openid scope",
        ),
    }
}

pub(crate) async fn api_me(State(s): St, method: Method, headers: HeaderMap) -> Response {
    let at = match lookup_access(&s, &headers, &method, "/api/me") {
        Ok(at) => at,
        Err(r) => return r,
    };
    let mut body = json!({
        "client_id": at.client_id,
        "scope": at.scope,
        "sub": at.sub.clone().unwrap_or_else(|| at.client_id.clone()),
    });
    if let Some(user) = at.sub.as_deref().and_then(|sub| s.settings.user(sub)) {
        body["user"] = Value::Object(all_claims(user));
    }
    Json(body).into_response()
}

/// All of a user's claims, whatever the scope (for the demo APIs).
pub(crate) fn all_claims(user: &User) -> Map<String, Value> {
    user_claims(user, "profile email")
}
