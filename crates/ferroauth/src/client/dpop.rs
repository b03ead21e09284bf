//! DPoP in use (RFC 9449): a client with `dpop = true` sends a proof with every token
//! request and with every call that presents a DPoP-bound access token, keeps each
//! server's latest `DPoP-Nonce`, and answers one `use_dpop_nonce` challenge per request.
//!
//! The proof key ([`DpopKey`]) is `client_kwargs.dpop_key` when the settings give one —
//! what an app with several instances behind one session store needs, since a bound
//! token only works with its key — else one made when the client is registered, which
//! lives in memory: the tokens it binds are then good only in this process.
//!
//! Why one retry and no more: a server that asks for a nonce gives it in the same answer
//! (§8); if the proof with that nonce is refused again, asking again would loop.

use std::collections::HashMap;
use std::sync::Mutex;

use http::header::{HeaderMap, HeaderName, HeaderValue, WWW_AUTHENTICATE};
use url::{Position, Url};

use crate::client::OAuthClient;
use crate::error::Error;
use crate::http::{HttpResponse, Method};
use crate::proto::jose::dpop::{DpopAlgorithm, DpopKey};
use crate::token::OAuth2Token;

const DPOP: HeaderName = HeaderName::from_static("dpop");
const DPOP_NONCE: HeaderName = HeaderName::from_static("dpop-nonce");

/// A client's proof key and the latest nonce of each server (by origin).
pub(crate) struct DpopBinding {
    key: DpopKey,
    nonces: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for DpopBinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopBinding")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl DpopBinding {
    /// The configured `key` (a PKCS#8 PEM), else a fresh key with `alg` (`ES256` when
    /// `None`). A configured key's type must agree with `alg` when both are given.
    pub(crate) fn new(alg: Option<&str>, key: Option<&str>) -> Result<Self, String> {
        let alg = match alg {
            None => None,
            Some(name) => Some(
                DpopAlgorithm::from_name(name)
                    .ok_or_else(|| format!("dpop_alg must be ES256 or EdDSA, not {name:?}"))?,
            ),
        };
        let key = match key {
            Some(pem) => DpopKey::from_pkcs8_pem(pem).map_err(|e| e.to_string())?,
            None => DpopKey::generate(alg.unwrap_or_default()).map_err(|e| e.to_string())?,
        };
        if alg.is_some_and(|alg| alg != key.alg()) {
            return Err(format!(
                "dpop_key is an {} key but dpop_alg asks for {}",
                key.alg().name(),
                alg.map_or("", DpopAlgorithm::name)
            ));
        }
        Ok(DpopBinding {
            key,
            nonces: Mutex::new(HashMap::new()),
        })
    }

    /// The key's RFC 7638 thumbprint (what a bound token's `cnf.jkt` names).
    pub(crate) fn thumbprint(&self) -> String {
        self.key.thumbprint()
    }

    /// Whether the provider takes this key's algorithm, when its metadata says which it
    /// takes (`dpop_signing_alg_values_supported`, RFC 9449 §5.1): a mismatch is told at
    /// the first login as a settings problem, not as the server's refusal of every proof.
    pub(crate) fn check_server_algs(
        &self,
        advertised: Option<&serde_json::Value>,
    ) -> Result<(), String> {
        let Some(serde_json::Value::Array(algs)) = advertised else {
            return Ok(());
        };
        let ours = self.key.alg().name();
        if algs.iter().any(|a| a.as_str() == Some(ours)) {
            return Ok(());
        }
        let theirs: Vec<&str> = algs.iter().filter_map(|a| a.as_str()).take(8).collect();
        Err(format!(
            "the provider takes DPoP proofs signed with {}, not {ours}: set client_kwargs.dpop_alg (or dpop_key) to one of them",
            theirs.join(", ")
        ))
    }

    fn nonce(&self, url: &Url) -> Option<String> {
        let nonces = self.nonces.lock().unwrap_or_else(|e| e.into_inner());
        nonces.get(&url[..Position::BeforePath]).cloned()
    }

    /// Keeps the `DPoP-Nonce` an answer carries; true when there was one.
    fn remember_nonce(&self, url: &Url, response: &HttpResponse) -> bool {
        let Some(nonce) = response
            .headers
            .get(DPOP_NONCE)
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        let mut nonces = self.nonces.lock().unwrap_or_else(|e| e.into_inner());
        nonces.insert(url[..Position::BeforePath].to_owned(), nonce.to_owned());
        true
    }
}

/// Whether an answer asks for (another) nonce: `use_dpop_nonce` as a token-endpoint
/// error (§8, 400 JSON) or in a resource server's `WWW-Authenticate` (§9, 401).
fn asks_for_nonce(response: &HttpResponse) -> bool {
    match response.status {
        400 => response
            .json::<serde_json::Value>()
            .is_ok_and(|v| v["error"] == "use_dpop_nonce"),
        401 => response
            .headers
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains("use_dpop_nonce")),
        _ => false,
    }
}

impl OAuthClient {
    /// The RFC 7638 thumbprint of this client's DPoP key, when it uses DPoP: the value a
    /// bound access token names in `cnf.jkt`.
    pub fn dpop_thumbprint(&self) -> Option<String> {
        self.inner.dpop.as_ref().map(DpopBinding::thumbprint)
    }

    /// Whether this token must be presented with proofs (`token_type` `DPoP`, any case).
    pub(crate) fn is_dpop_bound(token: &OAuth2Token) -> bool {
        token.token_type.eq_ignore_ascii_case("dpop")
    }

    /// The `Authorization` value for an access token: `DPoP <token>` for a DPoP-bound
    /// token, `Bearer <token>` otherwise.
    pub(crate) fn authorization(&self, token: &OAuth2Token) -> Result<HeaderValue, Error> {
        let scheme = if Self::is_dpop_bound(token) {
            if self.inner.dpop.is_none() {
                return Err(self.misconfigured(
                    "the provider bound the access token with DPoP, but client_kwargs.dpop is off",
                ));
            }
            "DPoP"
        } else {
            "Bearer"
        };
        let mut value = HeaderValue::try_from(format!("{scheme} {}", token.access_token.expose()))
            .map_err(|_| {
                Error::InvalidTokenResponse(
                    "the access token has characters not allowed in a header".into(),
                )
            })?;
        value.set_sensitive(true);
        Ok(value)
    }

    /// Sends a request, with a DPoP proof when this client uses DPoP and either no token
    /// is presented (token endpoint) or the token is DPoP-bound; one nonce challenge is
    /// answered.
    pub(crate) async fn send_with_proof(
        &self,
        what: &'static str,
        method: Method,
        url: &Url,
        headers: HeaderMap,
        body: Option<(&'static str, Vec<u8>)>,
        token: Option<&OAuth2Token>,
    ) -> Result<HttpResponse, Error> {
        let binding = match (&self.inner.dpop, token) {
            (Some(binding), None) => binding,
            (Some(binding), Some(t)) if Self::is_dpop_bound(t) => binding,
            _ => {
                return self
                    .inner
                    .http
                    .send(what, &self.inner.limits, method, url, headers, body)
                    .await;
            }
        };
        let access_token = token.map(|t| t.access_token.expose());
        let mut retried = false;
        loop {
            let mut headers = headers.clone();
            let proof = binding
                .key
                .proof(
                    method.as_str(),
                    url,
                    access_token,
                    binding.nonce(url).as_deref(),
                )
                .map_err(|e| self.misconfigured(format!("cannot make a DPoP proof: {e}")))?;
            let proof = HeaderValue::try_from(proof)
                .map_err(|_| self.misconfigured("a DPoP proof is not a header value"))?;
            headers.insert(DPOP, proof);
            let response = self
                .inner
                .http
                .send(
                    what,
                    &self.inner.limits,
                    method.clone(),
                    url,
                    headers,
                    body.clone(),
                )
                .await?;
            let fresh_nonce = binding.remember_nonce(url, &response);
            if retried || !fresh_nonce || !asks_for_nonce(&response) {
                return Ok(response);
            }
            tracing::debug!(call = what, "answering the server's DPoP nonce challenge");
            retried = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair};
    use base64::Engine as _;

    fn pem(der: &[u8]) -> String {
        let body = base64::engine::general_purpose::STANDARD.encode(der);
        format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n")
    }

    #[test]
    fn a_configured_key_is_used_and_must_match_the_algorithm() {
        let rng = SystemRandom::new();
        let ec = pem(
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .unwrap()
                .as_ref(),
        );
        let ed = pem(Ed25519KeyPair::generate_pkcs8(&rng).unwrap().as_ref());
        let one = DpopBinding::new(None, Some(&ec)).unwrap();
        let again = DpopBinding::new(Some("ES256"), Some(&ec)).unwrap();
        assert_eq!(
            one.thumbprint(),
            again.thumbprint(),
            "the same key, the same binding"
        );
        assert_ne!(
            one.thumbprint(),
            DpopBinding::new(None, None).unwrap().thumbprint()
        );
        assert_eq!(
            DpopBinding::new(None, Some(&ed)).unwrap().key.alg(),
            DpopAlgorithm::EdDSA
        );
        let mismatch = DpopBinding::new(Some("EdDSA"), Some(&ec)).unwrap_err();
        assert!(mismatch.contains("ES256 key"), "{mismatch}");
        let es256 = serde_json::json!(["ES256", "PS256"]);
        assert!(one.check_server_algs(Some(&es256)).is_ok());
        assert!(one.check_server_algs(None).is_ok(), "no list, no check");
        let ed = DpopBinding::new(None, Some(&ed)).unwrap();
        let refused = ed.check_server_algs(Some(&es256)).unwrap_err();
        assert!(refused.contains("ES256, PS256, not EdDSA"), "{refused}");
        let junk = DpopBinding::new(None, Some("not a key")).unwrap_err();
        assert!(junk.contains("PKCS#8"), "{junk}");
        assert!(!junk.contains("not a key"), "the key text is never echoed");
    }
}
