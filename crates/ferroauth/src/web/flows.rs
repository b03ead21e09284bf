//! The work of the ready-made routes, whichever framework serves them:
//!
//! | route | function |
//! |---|---|
//! | `GET /login/{name}` | [`start_login`] (redirect URI from [`callback_path`]) |
//! | `GET` or `POST /auth/{name}` | [`finish_login`] |
//! | `POST /refresh/{name}` | [`refresh`] (failures through [`super::Failure::of_refresh`]) |
//! | `POST /logout` | [`super::logout::logout`] |
//!
//! A handler of the app's own does the first two with [`authorize_redirect`] and
//! [`authorize_access_token`], as an Authlib app does.
//!
//! JSON answers are [`LoginAnswer`] (login and refresh) and [`logout_answer`]; failures
//! [`super::Failure`].

use serde::Serialize;
use serde_json::Value;

use crate::presets::ProfileMap;
use crate::session::tokens::TokenStore;
use crate::session::{self as store, Session, SessionPending, SessionTokens};
use crate::users::{Identity, UserId, Users};
use crate::{CallbackParams, Claims, Error, Login, OAuthClient, Token};

pub use super::login_query::PASSTHROUGH_PARAMS;

/// The callback route of the login route at `login_path` (`/login/{name}`, perhaps under a
/// prefix): `<prefix>/auth/{name}`, wherever the routes are mounted.
pub fn callback_path(login_path: &str, name: &str) -> String {
    let prefix = login_path
        .strip_suffix(name)
        .and_then(|p| p.strip_suffix("/login/"))
        .unwrap_or("");
    format!("{prefix}/auth/{name}")
}

/// Starts a login at `client`: keeps the pending login in `session` and gives the URL to
/// send the browser to. Of the login route's `query`, [`PASSTHROUGH_PARAMS`] go to the
/// provider and `next` (a path of this app) is where the user goes afterwards; each is
/// checked first ([`super::LoginQuery`]), a bad one being a 400 `invalid_request`; a
/// fediverse client (the `mastodon` preset) also takes `instance`, the server to log in
/// with (see [`crate::registration`]).
pub async fn start_login(
    client: &OAuthClient,
    session: &impl Session,
    redirect_uri: &str,
    query: &str,
) -> Result<url::Url, Error> {
    let query = super::LoginQuery::parse(query)?;
    let mut params = query.authorize_params();
    // A fediverse client's login names its server; other clients never send it.
    if let Some(instance) = &query.instance
        && client.is_fediverse()
    {
        params.push((crate::registration::INSTANCE_PARAM, instance));
    }
    client
        .authorize_redirect_returning(
            &SessionPending(session),
            redirect_uri,
            &params,
            query.next.as_deref(),
        )
        .await
}

/// Starts a login in a handler of the app's own, as Authlib's `authorize_redirect`: keeps
/// the pending login in `session` (either adapter's `AuthSession`) and gives the URL to send
/// the browser to (the adapters' `LoginRedirect` does, with `Cache-Control: no-store`).
pub async fn authorize_redirect(
    client: &OAuthClient,
    session: &impl Session,
    redirect_uri: &str,
) -> Result<url::Url, Error> {
    authorize_redirect_with(client, session, redirect_uri, &[]).await
}

/// [`authorize_redirect`] with extra authorization parameters (`prompt`, `login_hint`, ...).
pub async fn authorize_redirect_with(
    client: &OAuthClient,
    session: &impl Session,
    redirect_uri: &str,
    params: &[(&str, &str)],
) -> Result<url::Url, Error> {
    let pending = SessionPending(session);
    client
        .authorize_redirect_with(&pending, redirect_uri, params)
        .await
}

/// Finishes a login on the callback in a handler of the app's own, as Authlib's
/// `authorize_access_token`: the session gets a new id once it succeeds; what to keep of
/// the login is the handler's choice ([`finish_login`] keeps the token and the claims).
pub async fn authorize_access_token(
    client: &OAuthClient,
    session: &impl Session,
    callback: &CallbackParams,
) -> Result<Login, Error> {
    client
        .authorize_access_token(&SessionPending(session), callback)
        .await
}

/// Finishes a login on its callback and keeps the token and the claims in `session`,
/// whose id is renewed (session fixation).
pub async fn finish_login(
    client: &OAuthClient,
    session: &impl Session,
    params: &CallbackParams,
) -> Result<Login, Error> {
    Ok(finish_login_as_user(client, session, params, None).await?.0)
}

/// [`finish_login`], resolving the login to one of the app's `users` when it keeps them
/// ([`Users::resolve`], with the user the session was logged in as): a login refused there
/// (an identity linked to another user) keeps nothing, and the session stays as it was.
/// Gives the login and the user.
pub async fn finish_login_as_user(
    client: &OAuthClient,
    session: &impl Session,
    params: &CallbackParams,
    users: Option<&Users>,
) -> Result<(Login, Option<UserId>), Error> {
    let login = client
        .authorize_access_token(&SessionPending(session), params)
        .await?;
    let user = match users {
        Some(users) => {
            let current = store::signed_in(session).await?.user;
            let identity = Identity::of_login(&login)?;
            refuse_account_switch(session, &identity).await?;
            Some(users.resolve(current.as_ref(), &identity).await?)
        }
        None => None,
    };
    store::save_login_as(session, &login, user.as_ref()).await?;
    Ok((login, user))
}

/// Refuses a login at a client the session already holds for another account of that
/// provider. Linked, the second account would join the first one's user: on a shared
/// computer left logged in, the next person's login would be linked to the previous
/// person's account, and later open it. Switching accounts is logging out first.
async fn refuse_account_switch(session: &impl Session, identity: &Identity) -> Result<(), Error> {
    let accounts = store::accounts(session).await?;
    let held = accounts
        .get(&identity.provider)
        .and_then(|claims| Identity::of(&identity.provider, claims));
    match held {
        Some(held) if held.key != identity.key => Err(Error::AnotherAccountAtProvider {
            provider: identity.provider.clone(),
        }),
        _ => Ok(()),
    }
}

/// Refreshes the OAuth 2.0 token stored for `client`, and re-reads userinfo with the new
/// access token when the provider has an endpoint for it (else keeps the claims of the
/// login). Gives the new token and the user's claims.
///
/// What the refresh brought (a new ID token, checked in
/// [`OAuthClient::refresh_token`], and fresh userinfo) updates the login's claims under
/// the login's rules: userinfo must name the login's subject (`userinfo_sub_mismatch`,
/// and the new token is then not kept), and a verification flag stays only with the
/// value it vouched for (see [`VOUCHED`]). The login's `sub` never changes: the identity
/// was fixed at login (a preset may have qualified it, as Microsoft's `tid:oid`), and
/// claims only the login's ID token had stay.
pub async fn refresh(
    client: &OAuthClient,
    session: &impl Session,
) -> Result<(Token, Claims), Error> {
    let tokens = SessionTokens(session);
    let before = tokens.load(client.name()).await?;
    let token = client.refresh_stored_token(&tokens).await?;
    let mut all = store::accounts(session).await?;
    let mut claims = all.remove(client.name()).unwrap_or_default();
    let map = client.claims_map();
    let fresh = match refreshed_claims(client, before.as_ref(), &token, &claims, map).await {
        Ok(fresh) => fresh,
        Err(e @ Error::UserinfoSubMismatch) => {
            // The new access token answers for another user: it must not stay.
            tokens.remove(client.name()).await?;
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    if let Some(fresh) = fresh {
        update_claims(&mut claims, fresh, map);
        store::save_claims(session, client.name(), &claims).await?;
    }
    Ok((token, claims))
}

/// The claims a refresh brought, as the provider sent them (no preset mapping yet): a
/// new ID token's, with fresh userinfo under them as at a login; `None` when it brought
/// neither. Userinfo must name the subject of the login: the provider's own `sub` in
/// its ID token (never the preset's mapped one), or, for a login without an ID token,
/// the `sub` the login kept, mapped alike.
async fn refreshed_claims(
    client: &OAuthClient,
    before: Option<&Token>,
    token: &Token,
    login: &Claims,
    map: Option<&ProfileMap>,
) -> Result<Option<Claims>, Error> {
    let id_token = |t: &Token| {
        t.as_oauth2()
            .and_then(|t| t.id_token.as_ref())
            .map(|id| id.expose().to_owned())
    };
    let (old_id, new_id) = (before.and_then(id_token), id_token(token));
    // The refresh keeps the login's ID token when its answer had none; a new one was
    // validated by the refresh (signature, and the login's `iss` and `sub`).
    let new_id_claims = match &new_id {
        Some(raw) if old_id.as_ref() != Some(raw) => {
            Some(crate::proto::oidc::unverified_claims(raw)?)
        }
        _ => None,
    };
    let userinfo = match client.has_userinfo_endpoint().await? {
        true => Some(client.userinfo(token).await?),
        false => None,
    };
    let fresh = match (new_id_claims, userinfo) {
        (None, None) => return Ok(None),
        (Some(id_claims), None) => id_claims,
        (Some(mut id_claims), Some(userinfo)) => {
            crate::client::merge_userinfo(&mut id_claims, userinfo)?;
            id_claims
        }
        (None, Some(userinfo)) => {
            if let Some(raw) = &old_id {
                let login_id = crate::proto::oidc::unverified_claims(raw)?;
                crate::client::check_userinfo_subject(&login_id, &userinfo)?;
            }
            userinfo
        }
    };
    if old_id.is_none() {
        // No ID token at login: the kept `sub` is the profile's, perhaps mapped.
        let mut mapped = fresh.clone();
        if let Some(map) = map {
            map.apply(&mut mapped);
        }
        let kept: Claims = login
            .get("sub")
            .map(|s| ("sub".into(), s.clone()))
            .into_iter()
            .collect();
        crate::client::check_userinfo_subject(&kept, &mapped)?;
    }
    Ok(Some(fresh))
}

/// Claims whose value a verification flag vouches for, and that flag: a flag is true of
/// the value it came with, never of a later one.
pub const VOUCHED: &[(&str, &str)] = &[
    ("email", "email_verified"),
    ("phone_number", "phone_number_verified"),
];

/// The login's claims updated with `fresh` claims from a refresh: the preset's mapping
/// runs on the fresh claims alone (so that nothing kept from the login, such as
/// Microsoft's `xms_edov`, vouches for a new value), then every field but `sub` is
/// replaced. A flag of [`VOUCHED`] then stays only with its value: for a new value it
/// is what the fresh claims say of it (false when they say nothing); for the same value
/// the login's flag stays unless the fresh claims vouch for it themselves.
fn update_claims(claims: &mut Claims, fresh: Claims, map: Option<&ProfileMap>) {
    let mut mapped = fresh.clone();
    if let Some(map) = map {
        map.apply(&mut mapped);
    }
    for (value, flag) in VOUCHED {
        // What the fresh claims themselves say: a flag they carry, or one their mapping
        // found true (a mapping's `false` may only mean "not said").
        let said = mapped
            .get(*flag)
            .filter(|v| fresh.contains_key(*flag) || truthy(v))
            .cloned();
        let kept = match mapped.get(*value) {
            Some(new) if claims.get(*value) != Some(new) => {
                Some(said.filter(truthy).unwrap_or(Value::Bool(false)))
            }
            Some(_) => said.or_else(|| claims.get(*flag).cloned()),
            None => claims.get(*flag).cloned(),
        };
        match kept {
            Some(v) => mapped.insert((*flag).to_owned(), v),
            None => mapped.remove(*flag),
        };
    }
    let sub = claims.get("sub").cloned();
    claims.extend(mapped);
    if let Some(sub) = sub {
        claims.insert("sub".into(), sub);
    }
}

/// Whether a flag says true: `true`, or the string `"true"` (Apple).
fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// The JSON answer of a logout: `{"logged_out": true, "end_session_url": ...}`.
pub fn logout_answer(end_session: Option<&url::Url>) -> serde_json::Value {
    serde_json::json!({
        "logged_out": true,
        "end_session_url": end_session.map(url::Url::as_str),
    })
}

/// The answer of a login or a refresh to a JSON request: no secret values.
#[derive(Debug, Serialize)]
pub struct LoginAnswer<'a> {
    /// The client's name.
    pub provider: &'a str,
    /// The user's claims.
    pub userinfo: &'a Claims,
    /// The token without its secrets.
    pub token: TokenSummary<'a>,
}

impl<'a> LoginAnswer<'a> {
    /// The answer for a client's claims and token.
    pub fn new(provider: &'a str, userinfo: &'a Claims, token: &'a Token) -> Self {
        Self {
            provider,
            userinfo,
            token: TokenSummary::of(token),
        }
    }

    /// The answer of a finished login.
    pub fn of(login: &'a Login) -> Self {
        Self::new(&login.client, &login.userinfo, &login.token)
    }
}

/// A token without secret values: type, expiry and scope.
#[derive(Debug, Serialize)]
pub struct TokenSummary<'a> {
    /// `Bearer`, `DPoP`, or `OAuth1`.
    pub token_type: &'a str,
    /// Expiry, Unix seconds.
    pub expires_at: Option<u64>,
    /// The granted scope.
    pub scope: Option<&'a str>,
}

impl<'a> TokenSummary<'a> {
    /// The summary of `token`.
    pub fn of(token: &'a Token) -> Self {
        Self {
            token_type: token.token_type(),
            expires_at: token.expires_at(),
            scope: token.scope(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callback_is_beside_the_login_route() {
        assert_eq!(callback_path("/login/github", "github"), "/auth/github");
        assert_eq!(
            callback_path("/oauth/login/github", "github"),
            "/oauth/auth/github"
        );
        assert_eq!(callback_path("/elsewhere", "github"), "/auth/github");
    }

    fn claims(v: serde_json::Value) -> Claims {
        v.as_object().cloned().unwrap_or_default()
    }

    /// A preset-like mapping that reads a verification flag from a claim the login's ID
    /// token had (Microsoft's `xms_edov`): it must not vouch for a newer address.
    const EDOV_MAP: ProfileMap = ProfileMap {
        email_verified: crate::presets::Verified::At("/edov"),
        ..ProfileMap::NONE
    };

    #[test]
    fn a_verification_flag_goes_with_the_value_it_vouched_for() {
        let login = claims(serde_json::json!({
            "sub": "a", "email": "a@x.example", "email_verified": true,
            "phone_number": "+1 555 0100", "phone_number_verified": true
        }));
        // A new address without a flag: the old flag does not carry over to it.
        let mut c = login.clone();
        let fresh = claims(serde_json::json!({
            "sub": "a", "email": "ceo@victim.example", "phone_number": "+1 555 0199"
        }));
        update_claims(&mut c, fresh, None);
        assert_eq!(c["email"], "ceo@victim.example");
        assert_eq!(c["email_verified"], false);
        assert_eq!(c["phone_number_verified"], false);
        // The same address again: still vouched for by the login.
        let mut c = login.clone();
        update_claims(
            &mut c,
            claims(serde_json::json!({"sub": "a", "email": "a@x.example", "name": "A"})),
            None,
        );
        assert_eq!(c["email_verified"], true);
        assert_eq!(c["phone_number_verified"], true);
        assert_eq!(c["name"], "A");
        // The fresh response vouches for its own new address.
        let mut c = login.clone();
        update_claims(
            &mut c,
            claims(serde_json::json!({"sub": "a", "email": "b@x.example", "email_verified": true})),
            None,
        );
        assert_eq!(c["email_verified"], true);
        // A flag without its value vouches for nothing: the login's stays.
        let mut c = claims(
            serde_json::json!({"sub": "a", "email": "a@x.example", "email_verified": false}),
        );
        update_claims(
            &mut c,
            claims(serde_json::json!({"sub": "a", "email_verified": true})),
            None,
        );
        assert_eq!(c["email_verified"], false);
    }

    #[test]
    fn a_mapping_cannot_vouch_from_the_logins_claims() {
        let mut login =
            claims(serde_json::json!({"sub": "t:o", "edov": true, "email": "a@x.example"}));
        EDOV_MAP.apply(&mut login);
        assert_eq!(login["email_verified"], true);
        // The tenant admin changed the address; the fresh profile has no `edov`.
        let mut c = login.clone();
        update_claims(
            &mut c,
            claims(serde_json::json!({"sub": "raw", "email": "ceo@victim.example"})),
            Some(&EDOV_MAP),
        );
        assert_eq!(c["email"], "ceo@victim.example");
        assert_eq!(c["email_verified"], false, "nOAuth: stale edov vouched");
        assert_eq!(c["sub"], "t:o", "the login's identity stays");
        // The same address: the login's flag stays.
        let mut c = login.clone();
        update_claims(
            &mut c,
            claims(serde_json::json!({"sub": "raw", "email": "a@x.example"})),
            Some(&EDOV_MAP),
        );
        assert_eq!(c["email_verified"], true);
        // A fresh response with its own `edov` vouches again.
        let mut c = login;
        update_claims(
            &mut c,
            claims(serde_json::json!({"sub": "raw", "email": "b@x.example", "edov": true})),
            Some(&EDOV_MAP),
        );
        assert_eq!(c["email_verified"], true);
    }
}
