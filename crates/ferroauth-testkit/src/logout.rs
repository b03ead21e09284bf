//! The end-session endpoint (OpenID Connect RP-Initiated Logout 1.0): `GET /logout`.
//!
//! The provider keeps no login session of its own (every login is approved afresh), so
//! logging out is checking the request and sending the browser back: `client_id` must be
//! a registered OAuth 2.0 client, `id_token_hint` (when sent) an ID token this provider
//! issued to it, and `post_logout_redirect_uri` one the client registered (§3, exact
//! match), to which `state` is returned. Anything else is an error page, never a redirect
//! to an unregistered place. Each accepted logout is recorded
//! ([`TestProvider::logouts`](crate::TestProvider::logouts)).
//!
//! # Back-channel logout
//!
//! Every approved login is a provider session, named by the `sid` of its ID tokens. When
//! a user's sessions end (a logout at this endpoint with an `id_token_hint`, or
//! [`TestProvider::end_sessions`](crate::TestProvider::end_sessions), as an administrator
//! would), each client that registered a `backchannel_logout_uri` is sent a logout token
//! for each of its sessions of that user (OpenID Connect Back-Channel Logout 1.0 §2.5):
//! a form POST of `logout_token`, `typ` `logout+jwt`, with `sub` and `sid`. The deliveries
//! and the relying parties' answers are recorded (`TestProvider::backchannel_deliveries`).

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::Error;
use crate::config::{ClientKind, IdTokenAlg};
use crate::html;
use crate::state::Shared;
use crate::util::{self, Params};

/// How long a relying party has to answer a back-channel logout POST.
const DELIVERY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// A login session at the provider (`sid`): whose, at which client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProviderSession {
    pub(crate) client_id: String,
    pub(crate) sub: String,
}

/// A back-channel logout token sent to a relying party, and its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delivery {
    /// The client it was sent to.
    pub client_id: String,
    /// The provider session it ended.
    pub sid: String,
    /// The user.
    pub sub: String,
    /// The relying party's HTTP status, or `None` when it could not be reached.
    pub status: Option<u16>,
}

/// A back-channel logout token for `client_id` naming `sub` and/or `sid`, issued now.
pub(crate) fn logout_token(
    s: &Shared,
    client_id: &str,
    sub: Option<&str>,
    sid: Option<&str>,
) -> Result<String, Error> {
    let mut claims = serde_json::json!({
        "iss": s.settings.issuer,
        "aud": client_id,
        "iat": util::now(),
        "jti": util::random_token(16),
        "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
    });
    if let Some(sub) = sub {
        claims["sub"] = sub.into();
    }
    if let Some(sid) = sid {
        claims["sid"] = sid.into();
    }
    s.keys()
        .current
        .sign_typed(IdTokenAlg::RS256, "logout+jwt", &claims)
}

/// Ends every provider session of `sub` and sends each client with a
/// `backchannel_logout_uri` its logout tokens; gives the deliveries made.
pub(crate) async fn end_sessions(s: &Arc<Shared>, sub: &str) -> Vec<Delivery> {
    let ended: Vec<(String, ProviderSession)> = {
        let mut store = s.store();
        let sids: Vec<String> = store
            .sessions
            .iter()
            .filter(|(_, session)| session.sub == sub)
            .map(|(sid, _)| sid.clone())
            .collect();
        sids.into_iter()
            .filter_map(|sid| store.sessions.remove(&sid).map(|session| (sid, session)))
            .collect()
    };
    let http = reqwest::Client::builder()
        .timeout(DELIVERY_TIMEOUT)
        .build()
        .unwrap_or_default();
    let mut deliveries = Vec::new();
    for (sid, session) in ended {
        let Some(uri) = s
            .settings
            .client(&session.client_id, ClientKind::OAuth2)
            .and_then(|c| c.backchannel_logout_uri.clone())
        else {
            continue;
        };
        let Ok(token) = logout_token(s, &session.client_id, Some(&session.sub), Some(&sid)) else {
            continue;
        };
        let form = [("logout_token", token)];
        let status = match http.post(&uri).form(&form).send().await {
            Ok(response) => Some(response.status().as_u16()),
            Err(e) => {
                tracing::warn!(client = %session.client_id, error = %e, "back-channel logout not delivered");
                None
            }
        };
        let delivery = Delivery {
            client_id: session.client_id,
            sid,
            sub: session.sub,
            status,
        };
        s.store().deliveries.push(delivery.clone());
        deliveries.push(delivery);
    }
    deliveries
}

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
            // The user's sessions at the provider end: every relying party hears of it,
            // while the browser goes back (the deliveries do not hold it).
            if let Some(sub) = logout.sub.clone() {
                let s = Arc::clone(&s);
                tokio::spawn(async move { end_sessions(&s, &sub).await });
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
