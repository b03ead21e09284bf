//! OAuth 1.0a login and signed requests for a registered client (RFC 5849 §2, §3).
//!
//! The temporary credentials are fetched before the redirect and kept as a pending-login
//! record keyed by the request token, under the same rules as an OAuth 2.0 `state`:
//! single use, expiry, a bounded count. The callback's `oauth_token` must match a record of
//! *this* browser session — the fix for the 2009 session-fixation attack, where an attacker
//! starts a login and lures a victim into authorizing the attacker's request token.
//!
//! After the token credentials, a client with a `userinfo_endpoint` reads the user's
//! profile there with a signed GET; its fields join the token response's, and the
//! `userinfo` hook maps them to standard claims (as it does for OAuth 2.0 profiles).

use std::borrow::Cow;

use http::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue};
use serde_json::Value;
use url::Url;

use crate::callback::CallbackParams;
use crate::client::OAuthClient;
use crate::error::SettingsError;
use crate::error::{Error, ProviderError};
use crate::http::{HttpResponse, Method};
use crate::proto::oauth1::{
    Consumer, Credentials, Placement, RequestSigner, SignatureMethod, SignedRequest,
};
use crate::session::pending::{PendingLogin, PendingStore};
use crate::settings::{ClientSettings, SignatureType};
use crate::token::Login;
use crate::token::{Claims, OAuth1Token, Token};
use crate::{Secret, random};

/// An OAuth 1.0a client's signing setup, built once at registration.
#[derive(Debug)]
pub(crate) struct OAuth1Setup {
    consumer: Consumer,
    method: SignatureMethod,
    placement: Placement,
    /// The endpoints that parsed and passed the https check at registration, so that a
    /// login does not parse them again; `None` leaves the error to the call that needs it.
    request_token_url: Option<Url>,
    authorize_url: Option<Url>,
    access_token_url: Option<Url>,
    userinfo_endpoint: Option<Url>,
}

impl OAuth1Setup {
    /// Reads the signing setup from settings; errors name the key.
    pub(crate) fn from_settings(
        name: &str,
        settings: &ClientSettings,
    ) -> Result<Self, SettingsError> {
        let kwargs = &settings.client_kwargs;
        let method: SignatureMethod = match &kwargs.signature_method {
            None => SignatureMethod::HmacSha1,
            Some(m) => m.parse().map_err(|e: crate::proto::oauth1::Error| {
                SettingsError::for_key(name, "client_kwargs.signature_method", e.to_string())
            })?,
        };
        let key = settings.client_id.clone().unwrap_or_default();
        let secret = settings.client_secret.clone().unwrap_or_default();
        let consumer = if method.uses_rsa_key() {
            rsa_consumer(name, key, secret, kwargs.rsa_private_key.as_ref())?
        } else {
            if secret.is_empty() {
                return Err(SettingsError::for_key(
                    name,
                    "client_secret",
                    "is required for HMAC and PLAINTEXT signatures",
                ));
            }
            Consumer::new(key, secret)
        };
        let placement = match kwargs.signature_type.unwrap_or_default() {
            SignatureType::Header => Placement::Header {
                realm: kwargs.realm.clone(),
            },
            SignatureType::Query => Placement::Query,
            SignatureType::Body => Placement::Body,
        };
        let parse = |raw: &Option<String>| {
            let raw = raw.as_deref()?;
            crate::http::endpoint(name, raw, kwargs.allow_insecure_http).ok()
        };
        Ok(Self {
            consumer,
            method,
            placement,
            request_token_url: parse(&settings.request_token_url),
            authorize_url: parse(&settings.authorize_url),
            access_token_url: parse(&settings.access_token_url),
            userinfo_endpoint: parse(&settings.userinfo_endpoint),
        })
    }
}

#[cfg(feature = "rsa")]
fn rsa_consumer(
    name: &str,
    key: String,
    secret: Secret,
    pem: Option<&Secret>,
) -> Result<Consumer, SettingsError> {
    let pem = pem.ok_or_else(|| {
        SettingsError::for_key(
            name,
            "client_kwargs.rsa_private_key",
            "is required for RSA signatures",
        )
    })?;
    let rsa = crate::proto::oauth1::RsaKey::from_pem(pem.expose()).map_err(|e| {
        SettingsError::for_key(name, "client_kwargs.rsa_private_key", e.to_string())
    })?;
    Ok(Consumer::new(key, secret).rsa_key(rsa))
}

#[cfg(not(feature = "rsa"))]
fn rsa_consumer(
    _: &str,
    _: String,
    _: Secret,
    _: Option<&Secret>,
) -> Result<Consumer, SettingsError> {
    unreachable!("RSA signature methods do not parse without the `rsa` feature")
}

impl OAuthClient {
    fn oauth1(&self) -> Result<&OAuth1Setup, Error> {
        self.inner
            .oauth1
            .as_ref()
            .ok_or_else(|| self.misconfigured("not an OAuth 1.0a client"))
    }

    /// The endpoint parsed at registration, or the error that parsing it again gives.
    fn oauth1_endpoint<'u>(
        &self,
        key: &str,
        parsed: &'u Option<Url>,
        value: &Option<String>,
    ) -> Result<Cow<'u, Url>, Error> {
        if let Some(url) = parsed {
            return Ok(Cow::Borrowed(url));
        }
        let raw = value
            .as_deref()
            .ok_or_else(|| self.misconfigured(format!("{key} is required for OAuth 1.0a")))?;
        self.endpoint(raw).map(Cow::Owned)
    }

    /// Sends a signed request. `unsigned` is the URL that was signed: when the signer left
    /// it as it was (header and body placements), it is sent without parsing it again.
    /// `unsigned_body` is sent when the signed request has no form body of its own.
    async fn send_signed(
        &self,
        what: &'static str,
        method: Method,
        unsigned: &Url,
        signed: SignedRequest,
        mut headers: HeaderMap,
        unsigned_body: Option<(&'static str, Vec<u8>)>,
    ) -> Result<HttpResponse, Error> {
        let reparsed;
        let url = if signed.url == unsigned.as_str() {
            unsigned
        } else {
            reparsed = Url::parse(&signed.url)
                .map_err(|_| self.misconfigured("the signed URL does not parse"))?;
            &reparsed
        };
        if let Some(authorization) = signed.authorization {
            let mut value = HeaderValue::try_from(authorization).map_err(|_| {
                self.misconfigured(
                    "the Authorization header has characters not allowed in a header",
                )
            })?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        let body = signed
            .form_body
            .map(|b| ("application/x-www-form-urlencoded", b.into_bytes()))
            .or(unsigned_body);
        self.inner
            .http
            .send(what, &self.inner.limits, method, url, headers, body)
            .await
    }

    /// Signs and sends a temporary- or token-credentials request (RFC 5849 §2.1, §2.3).
    async fn credentials_request(
        &self,
        what: &'static str,
        url: &Url,
        signer: RequestSigner<'_>,
        params: &std::collections::BTreeMap<String, String>,
    ) -> Result<Credentials, Error> {
        let setup = self.oauth1()?;
        let signed = signer
            .form_params(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .placement(setup.placement.clone())
            .sign(&setup.consumer, setup.method)?;
        let response = self
            .send_signed(what, Method::POST, url, signed, HeaderMap::new(), None)
            .await?;
        let content_type = response.content_type();
        Ok(Credentials::from_response(
            response.status,
            content_type.as_deref(),
            &response.body,
        )?)
    }

    pub(crate) async fn oauth1_authorize_redirect<S: PendingStore>(
        &self,
        store: &S,
        redirect_uri: &str,
        params: &[(&str, &str)],
        return_to: Option<String>,
    ) -> Result<Url, Error> {
        let setup = self.oauth1()?;
        let settings = &self.inner.settings;
        self.check_redirect_uri(redirect_uri)?;
        let request_url = self.oauth1_endpoint(
            "request_token_url",
            &setup.request_token_url,
            &settings.request_token_url,
        )?;
        let mut authorize = self
            .oauth1_endpoint(
                "authorize_url",
                &setup.authorize_url,
                &settings.authorize_url,
            )?
            .into_owned();

        let signer = RequestSigner::for_url("POST", &request_url).callback(redirect_uri);
        let temporary = self
            .credentials_request(
                "temporary credentials request",
                &request_url,
                signer,
                &settings.request_token_params,
            )
            .await?;
        temporary.ensure_callback_confirmed()?;

        // The configured parameters (a preset's, such as Flickr's `perms`, under the
        // app's) and then this call's; a name given by both takes this call's value.
        let configured = settings
            .authorize_params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()));
        let mut extra: Vec<(&str, &str)> = Vec::new();
        for (name, value) in configured.chain(params.iter().copied()) {
            if name == "oauth_token" {
                return Err(
                    self.misconfigured("authorization parameter `oauth_token` is set by ferroauth")
                );
            }
            match extra.iter_mut().find(|(n, _)| *n == name) {
                Some(slot) => slot.1 = value,
                None => extra.push((name, value)),
            }
        }
        authorize
            .query_pairs_mut()
            .append_pair("oauth_token", temporary.token.expose())
            .extend_pairs(extra);
        let record = PendingLogin {
            key: temporary.token,
            client: self.inner.name.clone(),
            redirect_uri: redirect_uri.to_owned(),
            code_verifier: None,
            nonce: None,
            openid: false,
            issuer: None,
            require_iss: false,
            token_secret: Some(temporary.token_secret),
            created_at: random::now(),
            return_to,
            max_age: None,
            essential_acr: Vec::new(),
        };
        self.remember(store, record).await?;
        Ok(authorize)
    }

    pub(crate) async fn oauth1_authorize_access_token<S: PendingStore>(
        &self,
        store: &S,
        callback: &CallbackParams,
    ) -> Result<Login, Error> {
        if let Some(denied) = callback.get("denied") {
            // Twitter's denial names the request token; consume its record so it cannot
            // be used later, whatever the outcome.
            let _ = self.take_pending(store, denied).await;
            return Err(Error::Authorization(ProviderError {
                error: "access_denied".into(),
                description: Some("the user denied the authorization at the provider".into()),
                uri: None,
            }));
        }
        if let Some(error) = callback.get("error") {
            if let Some(token) = callback.get("oauth_token") {
                let _ = self.take_pending(store, token).await;
            }
            return Err(Error::Authorization(ProviderError {
                error: error.to_owned(),
                description: callback.get("error_description").map(str::to_owned),
                uri: None,
            }));
        }
        let token = callback.get("oauth_token").ok_or(Error::MissingState)?;
        let record = self.take_pending(store, token).await?;
        let verifier = callback
            .get("oauth_verifier")
            .filter(|v| !v.is_empty())
            .ok_or(Error::MissingCode)?;
        let token_secret = record.token_secret.unwrap_or_default();

        let setup = self.oauth1()?;
        let settings = &self.inner.settings;
        let access_url = self.oauth1_endpoint(
            "access_token_url",
            &setup.access_token_url,
            &settings.access_token_url,
        )?;
        let signer = RequestSigner::for_url("POST", &access_url)
            .token(record.key.expose(), token_secret.expose())
            .verifier(verifier);
        let credentials = self
            .credentials_request(
                "token credentials request",
                &access_url,
                signer,
                &settings.access_token_params,
            )
            .await?;
        let mut userinfo: Claims = credentials
            .extra
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let token = OAuth1Token {
            token: credentials.token,
            token_secret: credentials.token_secret,
            extra: credentials.extra,
        };
        // The profile endpoint's fields are added to the token response's (and win over
        // them); the preset's profile map and the `userinfo` hook map the whole to
        // standard claims.
        if let Some(profile) = self.oauth1_profile(&token).await? {
            userinfo.extend(profile);
        }
        self.map_profile(&mut userinfo, None);
        tracing::debug!("OAuth 1.0a login complete");
        Ok(Login {
            client: self.inner.name.clone(),
            token: Token::OAuth1(token),
            userinfo,
            return_to: record.return_to,
        })
    }

    /// The user's profile from `userinfo_endpoint`, when the client has one: a signed GET
    /// with the new token credentials (X's `verify_credentials`, Tumblr's `user/info`),
    /// which must answer 2xx with a JSON object.
    async fn oauth1_profile(&self, token: &OAuth1Token) -> Result<Option<Claims>, Error> {
        let setup = self.oauth1()?;
        let settings = &self.inner.settings;
        if settings.userinfo_endpoint.is_none() {
            return Ok(None);
        }
        let url = self
            .oauth1_endpoint(
                "userinfo_endpoint",
                &setup.userinfo_endpoint,
                &settings.userinfo_endpoint,
            )?
            .into_owned();
        let mut headers = self.api_headers();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let response = self
            .oauth1_request(Method::GET, url, headers, token, None, None)
            .await?;
        self.userinfo_object(&response).map(Some)
    }

    pub(crate) async fn oauth1_request(
        &self,
        method: Method,
        url: Url,
        headers: HeaderMap,
        token: &OAuth1Token,
        form: Option<Vec<(String, String)>>,
        json: Option<&serde_json::Value>,
    ) -> Result<HttpResponse, Error> {
        let setup = self.oauth1()?;
        let form = form.unwrap_or_default();
        // A JSON body (only when there is no form) is sent as it is: RFC 5849 §3.4.1.3.1
        // signs only form-encoded bodies, so its protocol parameters cannot go in it.
        let json = json
            .filter(|_| form.is_empty())
            .map(|j| ("application/json", j.to_string().into_bytes()));
        // RFC 5849 §3.5.2 puts protocol parameters in a form body only when the request
        // has one; GET, HEAD and DELETE carry them in the query instead (§3.5.3), and a
        // request with a JSON body in the header (§3.5.1).
        let placement = match setup.placement {
            Placement::Body if json.is_some() => Placement::HEADER,
            Placement::Body
                if form.is_empty()
                    && matches!(method, Method::GET | Method::HEAD | Method::DELETE) =>
            {
                Placement::Query
            }
            ref other => other.clone(),
        };
        let signed = RequestSigner::for_url(method.as_str(), &url)
            .token(token.token.expose(), token.token_secret.expose())
            .form_params(form.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .placement(placement)
            .sign(&setup.consumer, setup.method)?;
        self.send_signed("API request", method, &url, signed, headers, json)
            .await
    }
}
