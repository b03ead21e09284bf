//! The OAuth 2.0 / OpenID Connect login: `authorize_redirect` and `authorize_access_token`,
//! with the ID token and userinfo checks.

use http::header::{ACCEPT, HeaderMap, HeaderValue};
use serde_json::Value;
use tracing::Instrument;
use url::Url;

use crate::Secret;
use crate::callback::CallbackParams;
use crate::client::oidc::IdTokenCheck;
use crate::client::{OAuthClient, Resolved};
use crate::error::{Error, HttpFailure, ProviderError};
use crate::http::HttpResponse;
use crate::presets::deviations;
use crate::proto::oauth2::pkce;
use crate::random;
use crate::session::pending::{PendingLogin, PendingStore};
use crate::settings::CodeChallengeMethod;
use crate::telemetry::{Observation, Step};
use crate::token::Login;
use crate::token::{Claims, OAuth2Token, Token};

/// Parameters ferroauth sets itself on an authorization request; settings and callers may
/// not override them, or a check (state, PKCE, nonce) could be silently defeated.
const RESERVED_AUTHORIZE_PARAMS: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "dpop_jkt",
];

impl OAuthClient {
    /// Starts a login: stores a pending-login record in the session and returns the URL to
    /// send the browser to.
    ///
    /// OAuth 2.0: a fresh `state` (256 bits from the OS), PKCE S256 unless turned off, a
    /// `nonce` when the scope has `openid`, and the configured `authorize_params`.
    pub async fn authorize_redirect<S: PendingStore>(
        &self,
        store: &S,
        redirect_uri: &str,
    ) -> Result<Url, Error> {
        self.authorize_redirect_with(store, redirect_uri, &[]).await
    }

    /// [`OAuthClient::authorize_redirect`] with extra per-call authorization parameters
    /// (`prompt`, `login_hint`, `scope`, ...). They override the configured ones, except the
    /// parameters the protocol's checks depend on, which are refused.
    ///
    /// A fediverse client (the `mastodon` preset) takes the server to log in with as
    /// `("instance", "mastodon.social")`, and starts the login there (see
    /// [`crate::registration`]).
    pub async fn authorize_redirect_with<S: PendingStore>(
        &self,
        store: &S,
        redirect_uri: &str,
        params: &[(&str, &str)],
    ) -> Result<Url, Error> {
        self.authorize_redirect_returning(store, redirect_uri, params, None)
            .await
    }

    /// [`OAuthClient::authorize_redirect_with`] that also remembers, with the pending
    /// login, where the app wants the user to go once the login completes
    /// ([`Login::return_to`]). The app checks that place (an open redirect otherwise).
    pub async fn authorize_redirect_returning<S: PendingStore>(
        &self,
        store: &S,
        redirect_uri: &str,
        params: &[(&str, &str)],
        return_to: Option<&str>,
    ) -> Result<Url, Error> {
        if let Some(instances) = &self.inner.fediverse {
            // A fediverse template: the login runs on the client of the named instance.
            return instances
                .authorize_redirect(self, store, redirect_uri, params, return_to)
                .await;
        }
        self.authorize_redirect_here(store, redirect_uri, params, return_to)
            .await
    }

    /// [`OAuthClient::authorize_redirect_returning`] at this client's own provider.
    pub(crate) async fn authorize_redirect_here<S: PendingStore>(
        &self,
        store: &S,
        redirect_uri: &str,
        params: &[(&str, &str)],
        return_to: Option<&str>,
    ) -> Result<Url, Error> {
        let return_to = return_to.map(str::to_owned);
        // Named as its calls are (`limits.client`): a fediverse instance's client is
        // observed under its template's name, one label however many instances users name.
        let observation = Observation::start(Step::LoginStart, &self.inner.limits.client);
        let result = async {
            if self.is_oauth1() {
                return self
                    .oauth1_authorize_redirect(store, redirect_uri, params, return_to)
                    .await;
            }
            self.oauth2_authorize_redirect(store, redirect_uri, params, return_to)
                .await
        }
        .instrument(observation.span())
        .await;
        observation.finish(
            &self.inner.limits.client,
            result.as_ref().err().map(Error::code),
        );
        result
    }

    async fn oauth2_authorize_redirect<S: PendingStore>(
        &self,
        store: &S,
        redirect_uri: &str,
        params: &[(&str, &str)],
        return_to: Option<String>,
    ) -> Result<Url, Error> {
        let settings = &self.inner.settings;
        let resolved = self.resolved().await?;
        self.check_redirect_uri(redirect_uri)?;
        let mut scope = settings.client_kwargs.scope.clone();
        let mut extra: Vec<(&str, &str)> = Vec::new();
        let configured = settings
            .authorize_params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()));
        for (name, value) in configured.chain(params.iter().copied()) {
            if RESERVED_AUTHORIZE_PARAMS.contains(&name) {
                return Err(self.misconfigured(format!(
                    "authorization parameter `{name}` is set by ferroauth and cannot be overridden"
                )));
            }
            if name == "scope" {
                scope = Some(value.to_owned());
            } else if let Some(slot) = extra.iter_mut().find(|(n, _)| *n == name) {
                slot.1 = value;
            } else {
                extra.push((name, value));
            }
        }
        let pkce = match settings
            .client_kwargs
            .code_challenge_method
            .unwrap_or_default()
        {
            CodeChallengeMethod::S256 => true,
            CodeChallengeMethod::Disabled => false,
        };
        let openid = scope
            .as_deref()
            .is_some_and(|s| s.split_ascii_whitespace().any(|p| p == "openid"));
        let with_nonce = openid && settings.client_kwargs.check_nonce.unwrap_or(true);
        // State, verifier and nonce from one read of the OS generator; unused ones are empty.
        let [state, verifier, nonce] = random::tokens([
            32,
            if pkce { 32 } else { 0 },
            if with_nonce { 24 } else { 0 },
        ])?;
        let verifier = pkce.then_some(verifier);
        let nonce = with_nonce.then_some(nonce);

        let challenge = verifier.as_deref().map(pkce::s256_challenge);
        let dpop_jkt = self.dpop_thumbprint();
        let scope = scope.map(|s| self.inner.deviations.scope(s));
        let mut request: Vec<(&str, &str)> =
            vec![("response_type", "code"), ("redirect_uri", redirect_uri)];
        if let Some(scope) = &scope {
            request.push(("scope", scope));
        }
        request.push(("state", &state));
        if let Some(challenge) = &challenge {
            request.push(("code_challenge", challenge));
            request.push(("code_challenge_method", "S256"));
        }
        if let Some(nonce) = &nonce {
            request.push(("nonce", nonce));
        }
        for resource in settings.client_kwargs.resource.iter().flatten() {
            request.push(("resource", resource));
        }
        // RFC 9449 §10: the code is bound to the DPoP key, so that a code stolen on its way
        // back cannot be redeemed with another key.
        if let Some(jkt) = &dpop_jkt {
            request.push(("dpop_jkt", jkt));
        }
        let max_age = self.requested_max_age(&extra)?;
        let essential_acr = requested_essential_acr(&extra);
        request.extend(extra);
        let signed = match self.signs_request_objects(&resolved)? {
            true => Some(self.request_object(&resolved, &request)?),
            false => None,
        };
        let url = match (self.pushes_authorization_requests(&resolved)?, &signed) {
            (true, None) => self.push_authorization_request(&resolved, &request).await?,
            (true, Some(jwt)) => {
                self.push_authorization_request(&resolved, &[("request", jwt)])
                    .await?
            }
            (false, None) => {
                // `response_type` leads `request`; `client_id` goes right after it, as in
                // RFC 6749 §4.1.1's example.
                let mut url = resolved.authorize.clone();
                url.query_pairs_mut()
                    .extend_pairs(&request[..1])
                    .append_pair("client_id", self.client_id())
                    .extend_pairs(&request[1..]);
                url
            }
            (false, Some(jwt)) => {
                // OpenID Connect Core §6.1: response_type and scope are repeated outside
                // the request object.
                let outside = request
                    .iter()
                    .filter(|(k, _)| *k == "response_type" || *k == "scope");
                let mut url = resolved.authorize.clone();
                url.query_pairs_mut()
                    .append_pair("client_id", self.client_id())
                    .extend_pairs(outside)
                    .append_pair("request", jwt);
                url
            }
        };
        let record = PendingLogin {
            key: Secret::new(state),
            client: self.inner.name.clone(),
            redirect_uri: redirect_uri.to_owned(),
            code_verifier: verifier.map(Secret::new),
            nonce: nonce.map(Secret::new),
            openid,
            issuer: resolved.issuer.clone(),
            require_iss: resolved.require_iss,
            token_secret: None,
            created_at: random::now(),
            return_to,
            max_age,
            essential_acr,
        };
        self.remember(store, record).await?;
        Ok(url)
    }

    /// The `max_age` this request carries (OpenID Connect Core §3.1.2.1), checked to be
    /// a number of seconds.
    fn requested_max_age(&self, params: &[(&str, &str)]) -> Result<Option<u64>, Error> {
        let Some((_, value)) = params.iter().find(|(k, _)| *k == "max_age") else {
            return Ok(None);
        };
        value.trim().parse().map(Some).map_err(|_| {
            self.misconfigured(format!(
                "max_age must be a number of seconds, not {value:?}"
            ))
        })
    }

    pub(crate) async fn remember<S: PendingStore>(
        &self,
        store: &S,
        record: PendingLogin,
    ) -> Result<(), Error> {
        let mut pending = store.load().await?;
        // The record was made just now: its time stands for the clock.
        let now = record.created_at;
        pending.insert(record, now, &self.inner.policy);
        store.save(pending).await
    }

    /// Consumes the pending login for `key`; the record is gone whatever happens next.
    pub(crate) async fn take_pending<S: PendingStore>(
        &self,
        store: &S,
        key: &str,
    ) -> Result<PendingLogin, Error> {
        let mut pending = store.load().await?;
        if pending.is_empty() && !store.session_present() {
            crate::session::pending::warn_session_missing_once();
            return Err(Error::SessionMissing);
        }
        let taken = pending.take(key, random::now(), &self.inner.policy);
        store.save(pending).await?;
        let record = taken?;
        if record.client != self.inner.name {
            return Err(Error::ClientMismatch {
                expected: record.client,
                actual: self.inner.name.clone(),
            });
        }
        Ok(record)
    }

    /// Finishes a login on the callback: checks the callback against the pending login,
    /// exchanges the code (or the OAuth 1.0a verifier) for a token, validates the ID token
    /// and fetches userinfo.
    pub async fn authorize_access_token<S: PendingStore>(
        &self,
        store: &S,
        callback: &CallbackParams,
    ) -> Result<Login, Error> {
        if let Some(instances) = &self.inner.fediverse
            && let Some(login) = instances
                .authorize_access_token(self, store, callback)
                .await
        {
            return login;
        }
        self.authorize_access_token_here(store, callback).await
    }

    /// [`OAuthClient::authorize_access_token`] at this client's own provider.
    pub(crate) async fn authorize_access_token_here<S: PendingStore>(
        &self,
        store: &S,
        callback: &CallbackParams,
    ) -> Result<Login, Error> {
        let observation = Observation::start(Step::LoginFinish, &self.inner.limits.client);
        let result = async {
            let mut result = if self.is_oauth1() {
                self.oauth1_authorize_access_token(store, callback).await
            } else {
                self.oauth2_authorize_access_token(store, callback).await
            };
            if result.is_ok() {
                // A login is a privilege change: a new session id defeats fixation.
                if let Err(e) = store.renew().await {
                    result = Err(e);
                }
            }
            result
        }
        .instrument(observation.span())
        .await;
        observation.finish(
            &self.inner.limits.client,
            result.as_ref().err().map(Error::code),
        );
        result
    }

    async fn oauth2_authorize_access_token<S: PendingStore>(
        &self,
        store: &S,
        callback: &CallbackParams,
    ) -> Result<Login, Error> {
        let state = callback.get("state").ok_or(Error::MissingState)?;
        let record = self.take_pending(store, state).await?;
        let record_return_to = record.return_to.clone();
        check_issuer(&record, callback.get("iss"))?;
        if let Some(error) = callback.get("error") {
            return Err(Error::Authorization(ProviderError {
                error: error.to_owned(),
                description: callback.get("error_description").map(str::to_owned),
                uri: callback.get("error_uri").map(str::to_owned),
            }));
        }
        let code = callback
            .get("code")
            .filter(|c| !c.is_empty())
            .ok_or(Error::MissingCode)?;
        let resolved = self.resolved().await?;

        let mut form = vec![
            ("grant_type".to_owned(), "authorization_code".to_owned()),
            ("code".to_owned(), code.to_owned()),
            ("redirect_uri".to_owned(), record.redirect_uri),
        ];
        if let Some(verifier) = &record.code_verifier {
            form.push(("code_verifier".into(), verifier.expose().to_owned()));
        }
        // What the provider wants back from its redirect (VK ID's `device_id`), kept in
        // the token for its refreshes; nothing for other providers.
        let carried = self
            .inner
            .deviations
            .carried_from_callback(|name| callback.get(name));
        deviations::send_carried(&mut form, &carried);
        let mut token = self.token_request(&resolved, form).await?;
        deviations::keep_carried(&mut token, carried);
        // The provider may tell the granted scope on the redirect only (Strava): the
        // user may have unticked some of what was asked.
        self.inner
            .deviations
            .granted_scope(&mut token.scope, callback.get("scope"));
        let check = IdTokenCheck {
            nonce: record.nonce.as_ref().map(Secret::expose),
            access_token: None,
            code: Some(code),
            state: Some(state),
            max_age: record.max_age,
            essential_acr: &record.essential_acr,
        };
        let (token, mut userinfo) = self
            .token_and_claims(&resolved, token, check, record.openid)
            .await?;
        self.inner
            .deviations
            .callback_claims(&mut userinfo, callback.get("user"));
        Ok(Login {
            client: self.inner.name.clone(),
            token: Token::OAuth2(token),
            userinfo,
            return_to: record_return_to,
        })
    }

    /// The end of every OAuth 2.0 login, whatever the grant: the ID token validated
    /// (required when `openid` was asked for), userinfo fetched when needed and merged,
    /// an absent `scope` taken as the one requested. `check.access_token` is this token's.
    pub(crate) async fn token_and_claims(
        &self,
        resolved: &Resolved,
        mut token: OAuth2Token,
        check: IdTokenCheck<'_>,
        openid: bool,
    ) -> Result<(OAuth2Token, Claims), Error> {
        let mut userinfo = Claims::new();
        if let Some(id_token) = &token.id_token {
            let check = IdTokenCheck {
                access_token: Some(token.access_token.expose()),
                ..check
            };
            userinfo = self
                .validate_id_token(resolved, id_token.expose(), check)
                .await?;
        } else if (openid || grants_openid(token.scope.as_deref()))
            && self.inner.deviations.requires_id_token()
        {
            // Requested or granted: either way an OpenID Connect response, which always
            // carries an ID token (OpenID Connect Core §3.1.3.3).
            return Err(Error::InvalidIdToken(
                "the token response has no id_token although the scope has openid".into(),
            ));
        }
        let scope = token
            .scope
            .as_deref()
            .or(self.inner.settings.client_kwargs.scope.as_deref());
        let wanted = match self.inner.settings.client_kwargs.fetch_userinfo {
            Some(forced) => forced,
            None => token.id_token.is_none() || scope_claims_missing(&userinfo, scope),
        };
        if wanted && resolved.userinfo.is_some() {
            let fetched = self.fetch_userinfo(resolved, &token).await?;
            merge_userinfo(&mut userinfo, fetched)?;
        } else if token.id_token.is_none() && resolved.userinfo.is_none() {
            // No ID token and no profile endpoint: the profile, if any, is in the token
            // response (Notion's `owner.user`), and the profile map says where.
            self.map_profile(&mut userinfo, Some(&token.extra));
        }
        if let Some(map) = self.claims_map() {
            // The preset's profile mapping, over the checked and merged claims.
            map.apply(&mut userinfo);
        }
        if token.scope.is_none() {
            // RFC 6749 §5.1: an absent scope means the requested one was granted.
            token.scope = self.inner.settings.client_kwargs.scope.clone();
        }
        let sub = userinfo.get("sub").and_then(Value::as_str).unwrap_or("");
        tracing::debug!(sub, "login complete");
        Ok((token, userinfo))
    }

    pub(crate) async fn validate_id_token(
        &self,
        resolved: &Resolved,
        raw: &str,
        check: IdTokenCheck<'_>,
    ) -> Result<Claims, Error> {
        crate::client::oidc::validate_id_token(self, resolved, raw, check).await
    }

    /// Whether the client has a userinfo endpoint (configured or from discovery); OAuth 1.0a
    /// clients have none.
    pub async fn has_userinfo_endpoint(&self) -> Result<bool, Error> {
        if self.is_oauth1() {
            return Ok(false);
        }
        Ok(self.resolved().await?.userinfo.is_some())
    }

    /// Calls the userinfo endpoint with the token.
    pub async fn userinfo(&self, token: &Token) -> Result<Claims, Error> {
        let token = token
            .as_oauth2()
            .ok_or_else(|| Error::Unsupported("userinfo needs an OAuth 2.0 token".into()))?;
        let resolved = self.resolved().await?;
        self.fetch_userinfo(&resolved, token).await
    }

    async fn fetch_userinfo(
        &self,
        resolved: &Resolved,
        token: &OAuth2Token,
    ) -> Result<Claims, Error> {
        let Some(endpoint) = &resolved.userinfo else {
            return Err(self.misconfigured(
                "no userinfo endpoint: set userinfo_endpoint or server_metadata_url",
            ));
        };
        let mut accept = HeaderMap::new();
        accept.insert(ACCEPT, HeaderValue::from_static("application/json"));
        // The profile call is an API call like any other: the `protected_request` hook
        // sees it too (Facebook's `appsecret_proof` goes on every Graph call).
        let mut request = crate::client::ApiRequest {
            headers: accept,
            ..Default::default()
        };
        // GET, or the provider's way: Dropbox's RPC (POST with no body), VK ID's form,
        // HubSpot's introspection form.
        let (method, form) = self.inner.deviations.userinfo_call(
            token.access_token.expose(),
            self.client_id(),
            self.inner.settings.client_secret.as_ref(),
        );
        request.form = form;
        let response = self
            .oauth2_request("userinfo request", method, endpoint.clone(), token, request)
            .await?;
        let signed =
            response.is_success() && response.content_type().as_deref() == Some("application/jwt");
        let mut claims = match signed {
            true => {
                crate::client::oidc::validate_userinfo_jwt(self, resolved, &response.body).await?
            }
            false => self.userinfo_object(&response)?,
        };
        let deviations = &self.inner.deviations;
        deviations
            .check_userinfo(&claims)
            .map_err(Error::InvalidUserinfo)?;
        self.map_profile(&mut claims, None);
        self.add_verified_email(&mut claims, token).await?;
        Ok(claims)
    }

    /// The claims of a userinfo (or OAuth 1.0a profile) response: a 2xx JSON object, else
    /// the typed error saying what it was.
    pub(crate) fn userinfo_object(&self, response: &HttpResponse) -> Result<Claims, Error> {
        if !response.is_success() {
            return Err(Error::Http {
                client: self.inner.name.clone(),
                what: "userinfo request",
                failure: HttpFailure::Status(response.status),
            });
        }
        match response.json::<Value>() {
            Ok(Value::Object(claims)) => Ok(claims),
            Ok(_) => Err(Error::InvalidUserinfo("not a JSON object".into())),
            Err(_) if response.content_type().as_deref() == Some("application/jwt") => Err(
                Error::InvalidUserinfo("signed userinfo responses are not supported".into()),
            ),
            Err(e) => Err(Error::InvalidUserinfo(format!("not JSON ({e})"))),
        }
    }
}

/// RFC 9207: the authorization response's `iss` must name the issuer the login started
/// with, and must be present when the provider's metadata promises it.
fn check_issuer(record: &PendingLogin, iss: Option<&str>) -> Result<(), Error> {
    match (&record.issuer, iss) {
        (Some(expected), Some(actual)) if actual != expected => Err(Error::IssuerMismatch {
            expected: expected.clone(),
            actual: Some(actual.to_owned()),
        }),
        (Some(expected), None) if record.require_iss => Err(Error::IssuerMismatch {
            expected: expected.clone(),
            actual: None,
        }),
        _ => Ok(()),
    }
}

/// Whether the scope the token response says was granted has `openid` (space-separated,
/// or comma-separated as some providers write it).
fn grants_openid(scope: Option<&str>) -> bool {
    scope.is_some_and(|s| {
        s.split(|c: char| c.is_ascii_whitespace() || c == ',')
            .any(|p| p == "openid")
    })
}

/// Standard claims each scope asks for (OpenID Connect Core §5.4), by the claim that shows
/// the scope was answered.
const SCOPE_CLAIMS: &[(&str, &[&str])] = &[
    (
        "profile",
        &["name", "preferred_username", "given_name", "nickname"],
    ),
    ("email", &["email"]),
    ("address", &["address"]),
    ("phone", &["phone_number"]),
];

/// Whether the ID token lacks claims the scope asked for, so that userinfo must supply them.
/// Providers differ: some put the profile in the ID token (Authlib, Google), others only
/// in userinfo (oidc-provider); asking userinfo only when needed saves a round trip per login.
fn scope_claims_missing(claims: &Claims, scope: Option<&str>) -> bool {
    let Some(scope) = scope else { return false };
    scope.split_ascii_whitespace().any(|s| {
        SCOPE_CLAIMS
            .iter()
            .find(|(name, _)| *name == s)
            .is_some_and(|(_, shown_by)| !shown_by.iter().any(|c| claims.contains_key(*c)))
    })
}

/// Adds userinfo claims to the ID token's; the subject must be the same (OpenID Connect
/// Core §5.3.2), or a token for one user could be paired with another's profile.
pub(crate) fn merge_userinfo(claims: &mut Claims, userinfo: Claims) -> Result<(), Error> {
    check_userinfo_subject(claims, &userinfo)?;
    for (k, v) in userinfo {
        claims.entry(k).or_insert(v);
    }
    Ok(())
}

/// Whether `userinfo` names the subject of `id_claims` (the provider's own claims of an
/// ID token, before any preset mapping): at the login and at every refresh. Without a
/// `sub` in `id_claims` there is nothing to compare.
pub(crate) fn check_userinfo_subject(id_claims: &Claims, userinfo: &Claims) -> Result<(), Error> {
    let Some(sub) = id_claims.get("sub") else {
        return Ok(());
    };
    match userinfo.get("sub") {
        None => Err(Error::InvalidUserinfo(
            "it has no `sub` to compare with the login's".into(),
        )),
        Some(other) if other != sub => Err(Error::UserinfoSubMismatch),
        Some(_) => Ok(()),
    }
}

/// The `acr` values the request's `claims` parameter marks essential for the ID token
/// (OpenID Connect Core §5.5.1): `{"id_token":{"acr":{"essential":true,"values":[...]}}}`.
/// A single empty string when `acr` is essential without values.
fn requested_essential_acr(params: &[(&str, &str)]) -> Vec<String> {
    let Some((_, claims)) = params.iter().find(|(k, _)| *k == "claims") else {
        return Vec::new();
    };
    let Ok(claims) = serde_json::from_str::<Value>(claims) else {
        return Vec::new();
    };
    let acr = &claims["id_token"]["acr"];
    if acr["essential"] != Value::Bool(true) {
        return Vec::new();
    }
    let values: Vec<String> = match (&acr["values"], &acr["value"]) {
        (Value::Array(values), _) => values
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        (_, Value::String(value)) => vec![value.clone()],
        _ => Vec::new(),
    };
    if values.is_empty() {
        vec![String::new()]
    } else {
        values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(issuer: Option<&str>, require_iss: bool) -> PendingLogin {
        PendingLogin {
            key: Secret::new("s"),
            client: "c".into(),
            redirect_uri: "http://127.0.0.1/cb".into(),
            code_verifier: None,
            nonce: None,
            openid: false,
            issuer: issuer.map(str::to_owned),
            require_iss,
            token_secret: None,
            created_at: 0,
            return_to: None,
            max_age: None,
            essential_acr: Vec::new(),
        }
    }

    #[test]
    fn rfc9207_issuer_checks() {
        let r = record(Some("https://op.example"), false);
        assert!(check_issuer(&r, Some("https://op.example")).is_ok());
        assert!(check_issuer(&r, None).is_ok());
        assert_eq!(
            check_issuer(&r, Some("https://evil.example"))
                .unwrap_err()
                .code(),
            "issuer_mismatch"
        );
        let r = record(Some("https://op.example"), true);
        assert_eq!(
            check_issuer(&r, None).unwrap_err().code(),
            "issuer_mismatch"
        );
        assert!(check_issuer(&record(None, false), Some("https://any")).is_ok());
    }

    #[test]
    fn granted_openid_is_found_in_either_separator() {
        assert!(grants_openid(Some("openid email")));
        assert!(grants_openid(Some("email,openid")));
        assert!(!grants_openid(Some("email openid_like")));
        assert!(!grants_openid(None));
    }

    #[test]
    fn userinfo_is_needed_only_for_missing_scope_claims() {
        let claims: Claims =
            serde_json::from_str(r#"{"sub":"a","email":"a@x","name":"A"}"#).unwrap();
        assert!(!scope_claims_missing(&claims, Some("openid email profile")));
        assert!(scope_claims_missing(&claims, Some("openid phone")));
        let bare: Claims = serde_json::from_str(r#"{"sub":"a"}"#).unwrap();
        assert!(scope_claims_missing(&bare, Some("openid email")));
        assert!(!scope_claims_missing(&bare, Some("openid offline_access")));
        assert!(!scope_claims_missing(&bare, None));
    }

    #[tokio::test]
    async fn a_redirect_uri_that_is_not_a_url_is_refused_every_time() {
        let settings = crate::settings::Settings::from_toml_str(
            r#"
[clients.plain]
client_id = "id"
client_secret = "secret"
authorize_url = "https://op.example/authorize"
access_token_url = "https://op.example/token"
"#,
        )
        .unwrap();
        let client = crate::OAuth::from_settings(&settings)
            .unwrap()
            .client("plain")
            .unwrap();
        let store = crate::session::pending::MemoryPendingStore::new();
        let refused = |e: Error| matches!(e, Error::Misconfigured { ref reason, .. } if reason.contains("is not a URL"));
        // A good URI remembered in between must not let the bad one through.
        for uri in [
            "/auth/plain",
            "https://app.example/auth/plain",
            "/auth/plain",
        ] {
            let result = client.authorize_redirect(&store, uri).await;
            if uri.starts_with('/') {
                assert!(refused(result.unwrap_err()), "{uri}");
            } else {
                assert!(result.is_ok(), "{uri}");
            }
        }
    }

    #[test]
    fn userinfo_must_name_the_same_subject() {
        let mut claims: Claims = serde_json::from_str(r#"{"sub":"alice","iss":"x"}"#).unwrap();
        let good: Claims =
            serde_json::from_str(r#"{"sub":"alice","email":"a@x","iss":"ignored"}"#).unwrap();
        merge_userinfo(&mut claims, good).unwrap();
        assert_eq!(claims["email"], "a@x");
        assert_eq!(claims["iss"], "x");
        let bad: Claims = serde_json::from_str(r#"{"sub":"mallory"}"#).unwrap();
        assert_eq!(
            merge_userinfo(&mut claims, bad).unwrap_err().code(),
            "userinfo_sub_mismatch"
        );
        let none: Claims = serde_json::from_str(r#"{"email":"m@x"}"#).unwrap();
        assert_eq!(
            merge_userinfo(&mut claims, none).unwrap_err().code(),
            "invalid_userinfo"
        );
        let mut plain = Claims::new();
        merge_userinfo(
            &mut plain,
            serde_json::from_str(r#"{"id":1,"login":"octocat"}"#).unwrap(),
        )
        .unwrap();
        assert_eq!(plain["login"], "octocat");
    }
}
