//! The end-session endpoint (OpenID Connect RP-Initiated Logout 1.0): `GET /logout`.
//!
//! The provider keeps no login session of its own (every login is approved afresh), so
//! logging out is checking the request and sending the browser back: `client_id` must be
//! a registered OAuth 2.0 client, `id_token_hint` (when sent) an ID token this provider
//! issued to it, and `post_logout_redirect_uri` one the client registered (§3, exact
//! match), to which `state` is returned. Anything else is an error page, never a redirect
//! to an unregistered place. Each accepted logout is recorded
//! ([`TestProvider::logouts`](crate::TestProvider::logouts)).

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::config::ClientKind;
use crate::html;
use crate::state::Shared;
use crate::util::Params;

/// A logout the end-session endpoint accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logout {
    /// The client that sent the user.
    pub client_id: String,
    /// The subject of the `id_token_hint`, when one was sent.
    pub sub: Option<String>,
    /// The `state` sent back.
    pub state: Option<String>,
}

pub(crate) async fn end_session(
    State(s): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.unwrap_or_default().as_bytes());
    match accept(&s, &params) {
        Ok((logout, back)) => {
            let mut back = back;
            if let Some(state) = &logout.state {
                back.query_pairs_mut().append_pair("state", state);
            }
            s.store().logouts.push(logout);
            (
                StatusCode::SEE_OTHER,
                [(header::LOCATION, back.to_string())],
            )
                .into_response()
        }
        Err(why) => html::error_page(StatusCode::BAD_REQUEST, "invalid_request", why),
    }
}

fn accept(s: &Shared, params: &Params) -> Result<(Logout, url::Url), &'static str> {
    let client_id = params.get("client_id").ok_or("client_id is required")?;
    let client = s
        .settings
        .client(client_id, ClientKind::OAuth2)
        .ok_or("unknown client_id")?;
    let sub = match params.get("id_token_hint") {
        Some(hint) => Some(
            hinted_subject(s, hint, client_id)
                .ok_or("id_token_hint is not an ID token of this client")?,
        ),
        None => None,
    };
    let back = params
        .get("post_logout_redirect_uri")
        .ok_or("post_logout_redirect_uri is required")?;
    if !client.post_logout_redirect_uris.iter().any(|u| u == back) {
        return Err("post_logout_redirect_uri is not registered for this client");
    }
    let back = url::Url::parse(back).map_err(|_| "post_logout_redirect_uri is not a URL")?;
    let logout = Logout {
        client_id: client_id.to_owned(),
        sub,
        state: params.get("state").map(str::to_owned),
    };
    Ok((logout, back))
}

/// The `sub` of an ID token this provider signed for `client_id` (expired ones included:
/// §2 lets the hint be expired).
fn hinted_subject(s: &Shared, token: &str, client_id: &str) -> Option<String> {
    let claims = s.keys().verify_id_token(token)?;
    let payload: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).ok()?).ok()?;
    let for_client = match &payload["aud"] {
        Value::String(aud) => aud == client_id,
        Value::Array(auds) => auds.iter().any(|a| a == client_id),
        _ => false,
    };
    let from_here = payload["iss"] == s.settings.issuer.as_str();
    (for_client && from_here)
        .then(|| payload["sub"].as_str().map(str::to_owned))
        .flatten()
}
