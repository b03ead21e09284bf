//! Single-flight token refresh, shared by every client of an [`crate::OAuth`] registry.
//!
//! Why: with rotating refresh tokens (RFC 9700 §4.14.2) a refresh token works once. When
//! several requests find the same token expired and each refreshes it, the first wins and
//! the others present a spent token: the provider answers `invalid_grant`, and some
//! (oidc-provider among them) revoke the whole grant, logging the user out. Authlib's
//! users hit exactly this (authlib#266, #673), because its lock lives in a client object
//! that web integrations create per request.
//!
//! Here the lock lives in the registry, keyed by client name and a hash of the refresh
//! token: concurrent refreshes of one token become one request, and everyone gets its
//! result. A successful result is kept for [`RESULT_GRACE`], so a request that loaded the
//! old token just before the new one was saved gets the new token instead of spending the
//! rotated one. Failures are shared with the requests waiting at that moment only, so a
//! later attempt can try again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;
use tracing::Instrument;

use crate::Error;
use crate::client::{ApiRequest, OAuthClient};
use crate::http::{HttpResponse, Method};
use crate::session::tokens::TokenStore;
use crate::telemetry;
use crate::token::{OAuth2Token, Token};

/// How long a finished refresh's result is handed to late arrivals holding the old token.
pub const RESULT_GRACE: Duration = Duration::from_secs(30);

type Outcome = Result<OAuth2Token, Arc<Error>>;

struct Slot {
    cell: Arc<OnceCell<Outcome>>,
    finished: Option<Instant>,
}

/// The registry's refresh coordinator.
#[derive(Default)]
pub(crate) struct RefreshCoordinator {
    slots: Mutex<HashMap<(String, [u8; 32]), Slot>>,
}

impl std::fmt::Debug for RefreshCoordinator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshCoordinator").finish_non_exhaustive()
    }
}

fn key(client: &str, refresh_token: &str) -> (String, [u8; 32]) {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, refresh_token.as_bytes());
    let mut hash = [0u8; 32];
    hash.copy_from_slice(digest.as_ref());
    (client.to_owned(), hash)
}

impl RefreshCoordinator {
    /// Runs `refresh` for this client and refresh token unless a run is in flight or just
    /// finished, in which case its result is returned. `refresh` runs at most once per
    /// flight; if the caller running it is cancelled, a waiter takes over.
    ///
    /// Returns the token and whether this call ran the refresh (the one that must save it).
    pub(crate) async fn run<F, Fut>(
        &self,
        client: &str,
        refresh_token: &str,
        refresh: F,
    ) -> Result<(OAuth2Token, bool), Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<OAuth2Token, Error>>,
    {
        let key = key(client, refresh_token);
        let cell = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            slots.retain(|_, s| s.finished.is_none_or(|at| at.elapsed() < RESULT_GRACE));
            slots
                .entry(key.clone())
                .or_insert_with(|| Slot {
                    cell: Arc::new(OnceCell::new()),
                    finished: None,
                })
                .cell
                .clone()
        };
        let mut ran = false;
        let mut original: Option<Error> = None;
        let original_slot = &mut original;
        let outcome = cell
            .get_or_init(|| {
                ran = true;
                async move {
                    refresh().await.map_err(|e| {
                        let shared = Arc::new(e.shared_copy(client));
                        *original_slot = Some(e);
                        shared
                    })
                }
            })
            .await
            .clone();
        if ran {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            let same = slots.get(&key).is_some_and(|s| Arc::ptr_eq(&s.cell, &cell));
            if same {
                if outcome.is_ok() {
                    if let Some(slot) = slots.get_mut(&key) {
                        slot.finished = Some(Instant::now());
                    }
                } else {
                    slots.remove(&key);
                }
            }
        }
        match outcome {
            Ok(token) => Ok((token, ran)),
            // The caller that ran the refresh gets the error itself; waiters get a copy.
            Err(e) => Err(original.unwrap_or_else(|| e.shared_copy(client))),
        }
    }

    /// How many results and flights are held (for tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.slots.lock().unwrap().len()
    }
}

/// Default seconds before expiry at which a stored token is refreshed before use.
pub const DEFAULT_REFRESH_LEEWAY_SECS: u64 = 60;

/// Whether a response is a 401 whose `WWW-Authenticate` says `error="invalid_token"`
/// (RFC 6750 §3.1): the access token is expired or revoked, so a refresh may help.
pub fn is_invalid_token(response: &HttpResponse) -> bool {
    response.status == 401
        && response
            .headers
            .get_all(http::header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| {
                let v = v.to_ascii_lowercase();
                v.contains("error=\"invalid_token\"") || v.contains("error=invalid_token")
            })
}

/// Calls through a [`TokenStore`]: the token is loaded, refreshed when it expires within
/// the leeway (`client_kwargs.token_refresh_leeway`, default 60 s) and, once, when the
/// provider answers 401 `invalid_token`; a refreshed token is saved back exactly once
/// however many requests needed it.
impl OAuthClient {
    /// The stored token, refreshed first when it expires within the leeway.
    pub async fn fresh_token(&self, store: &impl TokenStore) -> Result<Token, Error> {
        let token = self.stored_token(store).await?;
        let Token::OAuth2(t) = &token else {
            return Ok(token);
        };
        let leeway = self
            .settings()
            .client_kwargs
            .token_refresh_leeway
            .unwrap_or(DEFAULT_REFRESH_LEEWAY_SECS);
        if t.expires_within(crate::random::now(), leeway) && t.refresh_token.is_some() {
            return self.refresh_and_save(store, t).await.map(Token::OAuth2);
        }
        Ok(token)
    }

    /// Refreshes the stored token now, whatever its expiry, and saves the new one (the
    /// demo's "refresh" button). Single flight like every refresh.
    pub async fn refresh_stored_token(&self, store: &impl TokenStore) -> Result<Token, Error> {
        match self.stored_token(store).await? {
            Token::OAuth2(t) => self.refresh_and_save(store, &t).await.map(Token::OAuth2),
            Token::OAuth1(_) => Err(Error::Unsupported(
                "OAuth 1.0a tokens do not expire and cannot be refreshed".into(),
            )),
        }
    }

    /// An API call with the stored token (see [`OAuthClient::request`]), refreshing it
    /// before when it is about to expire, and once after a 401 `invalid_token` from the
    /// API's own origin.
    pub async fn request_with_store(
        &self,
        store: &impl TokenStore,
        method: Method,
        path_or_url: &str,
        request: ApiRequest,
    ) -> Result<HttpResponse, Error> {
        let url = self.api_url(path_or_url)?;
        self.request_with_store_at(store, method, url, request)
            .await
    }

    /// [`OAuthClient::request_with_store`] for a `path` a browser may have named (the
    /// `UserApi` extractors, an `/api/{name}/{*path}` route): kept under `api_base_url` by
    /// [`OAuthClient::api_path`], refused with [`Error::InvalidApiPath`] otherwise.
    pub async fn request_path_with_store(
        &self,
        store: &impl TokenStore,
        method: Method,
        path: &str,
        request: ApiRequest,
    ) -> Result<HttpResponse, Error> {
        let url = self.api_path(path)?;
        self.request_with_store_at(store, method, url, request)
            .await
    }

    /// [`OAuthClient::request_with_store`] to a URL already made: by
    /// [`OAuthClient::api_path`] for a path from a browser, or by the app's own code.
    ///
    /// A 401 `invalid_token` makes a refresh only when `url` is on the origin of
    /// `api_base_url`: any other host could answer 401 just to receive a fresh token.
    pub async fn request_with_store_at(
        &self,
        store: &impl TokenStore,
        method: Method,
        url: url::Url,
        request: ApiRequest,
    ) -> Result<HttpResponse, Error> {
        let token = self.fresh_token(store).await?;
        let response = self
            .request_at(method.clone(), url.clone(), &token, request.clone())
            .await?;
        match &token {
            Token::OAuth2(t)
                if t.refresh_token.is_some()
                    && is_invalid_token(&response)
                    && self.is_api_origin(&url) =>
            {
                tracing::info!(client = %self.name(), "the provider refused the access token: refreshing once");
                let fresh = self.refresh_and_save(store, t).await?;
                self.request_at(method, url, &Token::OAuth2(fresh), request)
                    .await
            }
            _ => Ok(response),
        }
    }

    /// `GET` through [`OAuthClient::request_with_store`].
    pub async fn get_with_store(
        &self,
        store: &impl TokenStore,
        path_or_url: &str,
    ) -> Result<HttpResponse, Error> {
        self.request_with_store(store, Method::GET, path_or_url, ApiRequest::default())
            .await
    }

    async fn stored_token(&self, store: &impl TokenStore) -> Result<Token, Error> {
        store
            .load(self.name())
            .await?
            .ok_or_else(|| Error::NoToken {
                client: self.name().to_owned(),
            })
    }

    /// Refreshes `token` in the registry's single flight; the caller that runs the
    /// refresh saves the result, inside the flight, so waiters resume after the save.
    async fn refresh_and_save(
        &self,
        store: &impl TokenStore,
        token: &OAuth2Token,
    ) -> Result<OAuth2Token, Error> {
        let span = telemetry::refresh_span(self.name());
        let started = Instant::now();
        let outcome = self
            .refresh_and_save_in_flight(store, token)
            .instrument(span.clone())
            .await;
        let joined = matches!(outcome, Ok((_, false)));
        let error = outcome.as_ref().err().map(Error::code);
        telemetry::refreshed(&span, self.name(), started, joined, error);
        outcome.map(|(fresh, _)| fresh)
    }

    /// [`OAuthClient::refresh_and_save`] without its telemetry: the token, and whether
    /// this caller ran the refresh (rather than joining one in flight).
    async fn refresh_and_save_in_flight(
        &self,
        store: &impl TokenStore,
        token: &OAuth2Token,
    ) -> Result<(OAuth2Token, bool), Error> {
        let refresh = self.refresh_secret(token)?;
        let mut save_error = None;
        let save_slot = &mut save_error;
        let (fresh, ran) = self
            .inner
            .refresher
            .run(self.name(), refresh.expose(), || async move {
                let fresh = self.refresh_uncoordinated(token).await?;
                if let Err(e) = store.save(self.name(), &Token::OAuth2(fresh.clone())).await {
                    // The new token is still handed to waiters and late arrivals (the
                    // old refresh token may already be spent); this caller reports it.
                    tracing::warn!(code = e.code(), "saving the refreshed token failed");
                    *save_slot = Some(e);
                }
                Ok(fresh)
            })
            .await?;
        match save_error {
            Some(e) => Err(e),
            None => Ok((fresh, ran)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Secret;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn token(at: &str) -> OAuth2Token {
        OAuth2Token {
            access_token: Secret::new(at),
            token_type: "Bearer".into(),
            refresh_token: Some(Secret::new(format!("rt-{at}"))),
            expires_at: None,
            scope: None,
            id_token: None,
            extra: Default::default(),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_runs_share_one_refresh() {
        let coordinator = Arc::new(RefreshCoordinator::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(tokio::sync::Notify::new());
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (c, calls, gate) = (coordinator.clone(), calls.clone(), gate.clone());
            tasks.push(tokio::spawn(async move {
                c.run("x", "rt-old", || async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    gate.notified().await;
                    Ok(token("new"))
                })
                .await
            }));
        }
        // Wait until the refresh has started (the others then find it in flight or done),
        // then release it.
        while calls.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        gate.notify_one();
        let mut leaders = 0;
        for t in tasks {
            let (tok, ran) = t.await.unwrap().unwrap();
            assert_eq!(tok.access_token.expose(), "new");
            leaders += usize::from(ran);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(leaders, 1);
        // A late arrival with the old refresh token gets the result, no second refresh.
        let (tok, ran) = coordinator
            .run("x", "rt-old", || async { panic!("must not refresh again") })
            .await
            .unwrap();
        assert!(!ran);
        assert_eq!(tok.access_token.expose(), "new");
        // Another client name is another key.
        let (_, ran) = coordinator
            .run("y", "rt-old", || async { Ok(token("y")) })
            .await
            .unwrap();
        assert!(ran);
    }

    #[tokio::test]
    async fn failures_are_not_kept() {
        let c = RefreshCoordinator::default();
        let e = c
            .run("x", "rt", || async {
                Err(Error::Token(crate::ProviderError::new("invalid_grant")))
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), "invalid_grant");
        assert_eq!(c.len(), 0);
        let (_, ran) = c.run("x", "rt", || async { Ok(token("a")) }).await.unwrap();
        assert!(ran);
    }

    #[test]
    fn shared_errors_keep_codes() {
        let e = Error::Session("down".into()).shared_copy("x");
        assert_eq!(e.code(), "refresh_failed");
        let Error::RefreshFailed { code, .. } = e else {
            panic!()
        };
        assert_eq!(code, "session_unavailable");
    }
}
